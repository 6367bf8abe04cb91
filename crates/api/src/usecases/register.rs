//! Register (§10 设置密码): with the register grant of §9 for this mobile and flow, the password
//! given twice makes the account, with the default credit.

use cashloan_domain::Mobile;
use cashloan_persistence::accounts::{create_user, find_user_by_mobile, User};
use cashloan_persistence::verification::{has_grant, take_grants, GrantKind};
use cashloan_persistence::DbError;

use super::passwords::{new_password_hash, NewPasswordError};
use crate::context::{AppState, Lease};

/// Why no account was made.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// The mobile has an account.
    #[error("the mobile is registered")]
    AlreadyRegistered,
    /// §9 did not pass for this mobile and flow (or its grant expired or was spent).
    #[error("the register grant is missing")]
    GrantMissing,
    /// The password was not taken.
    #[error(transparent)]
    NewPassword(#[from] NewPasswordError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Makes the account of `mobile`; `wire` and `wire_confirm` are the password fields as sent.
pub fn register(
    st: &AppState,
    lease: &mut Lease<'_>,
    mobile: &Mobile,
    wire: &str,
    wire_confirm: &str,
    flow: Option<&str>,
    now: i64,
) -> Result<User, RegisterError> {
    let conn = lease.get()?;
    if find_user_by_mobile(conn, mobile.as_str())?.is_some() {
        return Err(RegisterError::AlreadyRegistered);
    }
    let Some(flow) = flow else {
        return Err(RegisterError::GrantMissing);
    };
    if !has_grant(conn, mobile.as_str(), GrantKind::Register, flow, now)? {
        return Err(RegisterError::GrantMissing);
    }
    let hashed = new_password_hash(st, wire, wire_confirm)?;
    if !take_grants(conn, mobile.as_str(), &[GrantKind::Register], flow, now)? {
        return Err(RegisterError::GrantMissing);
    }
    let user = create_user(conn, mobile.as_str(), &hashed, st.default_credit, now)?
        .ok_or(RegisterError::AlreadyRegistered)?;
    tracing::info!(user = %user.id, mobile = %mobile.masked(), "registered");
    Ok(user)
}
