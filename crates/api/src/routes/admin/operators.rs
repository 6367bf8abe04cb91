//! Operators' accounts as an admin keeps them (and `cashloan operator` through the same routes):
//! add one with a role and a password, list them, disable one, set a password. A disabled
//! operator's sessions end at once, and so do they when the password changes.

use actix_web::http::StatusCode;
use cashloan_persistence::back_office::{operators, Operator, Role};
use serde::Deserialize;
use serde_json::{json, Value};

use super::access::SYSTEM;
use super::{fault, ok, with_status, AdminCall, Answer, Refusal};
use crate::context::{AppState, Lease};
use crate::security::hash_password;

/// The shortest password an operator may have.
const MIN_PASSWORD: usize = 10;

/// An operator as the API shows one (never the hash).
pub fn view(o: &Operator) -> Value {
    json!({
        "name": o.name,
        "role": o.role.as_str(),
        "roleLabel": o.role.label(),
        "disabled": o.disabled,
        "lockedUntil": o.locked_until,
        "createdAt": o.created_at,
    })
}

/// Whether `name` can name an operator: 1–32 letters, digits, `.`, `_` or `-`, and not the
/// bootstrap token's `system`.
fn valid_name(name: &str) -> Result<(), Refusal> {
    let well_formed = (1..=32).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !well_formed {
        return Err(Refusal::Unprocessable(
            "name must be 1-32 letters, digits, '.', '_' or '-'".into(),
        ));
    }
    if name.eq_ignore_ascii_case(SYSTEM) {
        return Err(Refusal::Unprocessable(format!(
            "{SYSTEM} is the bootstrap token's name"
        )));
    }
    Ok(())
}

/// The argon2id hash of a new password, once it is long enough. The lease is given back while
/// argon2 works.
fn new_hash(lease: &mut Lease<'_>, password: &str) -> Result<String, Refusal> {
    let length = password.chars().count();
    if !(MIN_PASSWORD..=256).contains(&length) {
        return Err(Refusal::Unprocessable(format!(
            "password must be {MIN_PASSWORD} to 256 characters"
        )));
    }
    lease.release();
    hash_password(password).map_err(fault)
}

/// The body adding an operator.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct OperatorBody {
    /// Sign-in name.
    name: String,
    /// `admin`, `reviewer`, `finance`, `collector` or `viewer`.
    role: String,
    /// At least 10 characters.
    password: String,
}

/// The body disabling or enabling an operator.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct OperatorStatusBody {
    /// True: they cannot sign in, and their sessions end.
    disabled: bool,
}

/// The body setting an operator's password.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct OperatorPasswordBody {
    /// At least 10 characters.
    password: String,
}

/// `GET /admin/operators`.
pub(super) fn list(_: &AppState, lease: &mut Lease<'_>, _: &AdminCall) -> Answer {
    let items: Vec<Value> = operators::list(lease.get()?)?.iter().map(view).collect();
    ok(json!({ "items": items }))
}

/// `POST /admin/operators`: 201 with the operator; 409 when the name is taken.
pub(super) fn add(st: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    let b: OperatorBody = call.body()?;
    valid_name(&b.name)?;
    let role = Role::parse(&b.role).ok_or_else(|| {
        Refusal::Unprocessable("role must be admin, reviewer, finance, collector or viewer".into())
    })?;
    let hash = new_hash(lease, &b.password)?;
    match operators::add(lease.get()?, &b.name, role, &hash, st.now_ms())? {
        Some(o) => with_status(StatusCode::CREATED, view(&o)),
        None => Err(Refusal::Conflict(format!(
            "an operator named {} exists",
            b.name
        ))),
    }
}

fn no_operator() -> Refusal {
    Refusal::NotFound("no such operator".into())
}

/// `PUT /admin/operators/{name}/status`.
pub(super) fn status(_: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    let name = call.param("name");
    let b: OperatorStatusBody = call.body()?;
    if call.actor.name == name && b.disabled {
        return Err(Refusal::Unprocessable(
            "an operator cannot disable themselves".into(),
        ));
    }
    let conn = lease.get()?;
    if !operators::set_disabled(conn, &name, b.disabled)? {
        return Err(no_operator());
    }
    let (o, _) = operators::find_by_name(conn, &name)?.ok_or_else(no_operator)?;
    ok(view(&o))
}

/// `PUT /admin/operators/{name}/password`.
pub(super) fn password(_: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    let name = call.param("name");
    let b: OperatorPasswordBody = call.body()?;
    if operators::find_by_name(lease.get()?, &name)?.is_none() {
        return Err(no_operator());
    }
    let hash = new_hash(lease, &b.password)?;
    if !operators::set_password(lease.get()?, &name, &hash)? {
        return Err(no_operator());
    }
    ok(json!({"name": name, "passwordSet": true}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_plain_and_system_is_taken() {
        assert!(valid_name("li.na-2").is_ok());
        for bad in ["", "有名", "a b", "system", "SYSTEM", &"x".repeat(33)] {
            assert!(valid_name(bad).is_err(), "{bad}");
        }
    }
}
