//! Who is calling the admin API, and what their role lets them do: the bootstrap token (the
//! operator `system`, role admin), or an operator's session opened by `POST /admin/login`
//! (`Authorization: Bearer op_…`, or the console's cookie). Sessions end after 30 idle minutes;
//! five wrong passwords in a row lock an operator out for 15 minutes, and twenty in a row from
//! one address, under any names, lock that address out.

use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use cashloan_persistence::back_office::operators::{self, OperatorSession, SignIn};
use cashloan_persistence::back_office::{Role, SignInLimits};

use super::{ok, AdminCall, Answer, Refusal};
use crate::context::{AppState, Lease};
use crate::security::{sha256_hex, verify_password};

/// How long an operator's session lasts without use.
pub const IDLE_MS: i64 = 30 * 60 * 1000;

/// The lockout of operators' sign-ins.
pub const SIGN_IN_LIMITS: SignInLimits = SignInLimits {
    max_failures: 5,
    lock_ms: 15 * 60 * 1000,
};

/// The lockout of one client address's sign-ins, whatever names they are tried under: a guesser
/// spreading guesses over many names is stopped too (an office behind one address has 20 wrong
/// passwords in a row to spare).
pub const ADDRESS_LIMITS: SignInLimits = SignInLimits {
    max_failures: 20,
    lock_ms: 15 * 60 * 1000,
};

/// What an operator session's token starts with (the bootstrap token never does, in practice).
const TOKEN_PREFIX: &str = "op_";

/// The name the bootstrap token and the command line act as.
pub const SYSTEM: &str = "system";

/// Who is acting, and from where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    /// The operator's name.
    pub name: String,
    /// Their role.
    pub role: Role,
    /// The stored operator (none for `system`).
    pub operator_id: Option<String>,
    /// The client address.
    pub address: String,
    /// The session's CSRF token (console forms carry it).
    pub csrf_token: Option<String>,
    /// The digest of the session's token (to end it).
    pub session: Option<String>,
}

impl Actor {
    /// Nobody signed in yet (the sign-in itself): no name, the least of roles.
    pub fn anonymous(address: &str) -> Actor {
        Actor {
            name: String::new(),
            role: Role::Viewer,
            operator_id: None,
            address: address.into(),
            csrf_token: None,
            session: None,
        }
    }

    /// The operator `system`: the bootstrap token, or `cashloan admin` on the command line.
    pub fn system(address: &str) -> Actor {
        Actor {
            name: SYSTEM.into(),
            role: Role::Admin,
            operator_id: None,
            address: address.into(),
            csrf_token: None,
            session: None,
        }
    }
}

/// What a path asks of the caller's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Nobody signed in (the sign-in itself).
    Public,
    /// Any operator.
    Anyone,
    /// Read the book: every role but the collector's.
    Read,
    /// The collection queue: collectors (their own), and every reading role.
    ReadCollection,
    /// Review, approve, reject: reviewer.
    Review,
    /// Payouts, payment orders, offline repayments: finance.
    Pay,
    /// Notes and promises on overdue loans: collector.
    Collect,
    /// Operators, products, borrowers, settings: admin.
    Admin,
}

impl Need {
    /// Whether `role` may do what this asks (admin may do everything).
    pub fn allows(self, role: Role) -> bool {
        use Role::*;
        match self {
            Need::Public | Need::Anyone => true,
            Need::Read => matches!(role, Admin | Reviewer | Finance | Viewer),
            Need::ReadCollection => true,
            Need::Review => matches!(role, Admin | Reviewer),
            Need::Pay => matches!(role, Admin | Finance),
            Need::Collect => matches!(role, Admin | Collector),
            Need::Admin => role == Admin,
        }
    }
}

/// What a request presents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    /// The bootstrap token, checked.
    Bootstrap,
    /// An operator session's token (its digest): still to be looked up.
    Session(String),
    /// Nothing, or something that matches nothing.
    Missing,
}

/// The credential of an `Authorization: Bearer …` value (or a console cookie's token).
pub fn credential(state: &AppState, token: Option<&str>) -> Credential {
    let Some(given) = token.map(str::trim).filter(|t| !t.is_empty()) else {
        return Credential::Missing;
    };
    if given.starts_with(TOKEN_PREFIX) {
        return Credential::Session(sha256_hex(given.as_bytes()));
    }
    let Some(token) = state
        .config
        .admin_token
        .as_ref()
        .map(ExposeSecret::expose_secret)
        .filter(|t| !t.trim().is_empty())
    else {
        return Credential::Missing;
    };
    // Digests of equal length, compared in constant time: neither the token's content nor its
    // length leaks through timing.
    let (a, b) = (
        Sha256::digest(given.as_bytes()),
        Sha256::digest(token.as_bytes()),
    );
    if bool::from(a.as_slice().ct_eq(b.as_slice())) {
        Credential::Bootstrap
    } else {
        Credential::Missing
    }
}

/// The actor a credential stands for, or 401.
pub fn actor(
    st: &AppState,
    lease: &mut Lease<'_>,
    credential: &Credential,
    address: &str,
) -> Result<Actor, Refusal> {
    match credential {
        Credential::Bootstrap => Ok(Actor::system(address)),
        Credential::Missing => Err(Refusal::Unauthorized(
            "sign in (POST /admin/login) or send the admin token".into(),
        )),
        Credential::Session(digest) => {
            match operators::use_session(lease.get()?, digest, IDLE_MS, st.now_ms())? {
                Some(OperatorSession {
                    operator,
                    csrf_token,
                }) => Ok(Actor {
                    name: operator.name,
                    role: operator.role,
                    operator_id: Some(operator.id),
                    address: address.into(),
                    csrf_token: Some(csrf_token),
                    session: Some(digest.clone()),
                }),
                None => Err(Refusal::Unauthorized(
                    "the session has ended; sign in again".into(),
                )),
            }
        }
    }
}

/// Whether `given` is the CSRF token of the actor's session (compared in constant time); the
/// bootstrap token has no session, and so no form of the console.
pub fn csrf_matches(actor: &Actor, given: &str) -> bool {
    actor
        .csrf_token
        .as_deref()
        .is_some_and(|t| !given.is_empty() && bool::from(t.as_bytes().ct_eq(given.as_bytes())))
}

/// A new session token: `op_` and 256 random bits, hex.
fn new_token() -> String {
    use rand::Rng;
    let bits: [u8; 32] = rand::rngs::OsRng.gen();
    format!("{TOKEN_PREFIX}{}", hex::encode(bits))
}

/// A PHC string no password matches, checked when there is no operator to check against, so
/// that a refusal takes as long whether or not the name exists.
const DECOY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2rHFbbLNDK+NXzIUGWv3VOZFyP+hakOPjn2nJAw3XN4";

/// A signed-in operator's session, as `POST /admin/login` answers it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedIn {
    /// `Authorization: Bearer` this on every request.
    pub token: String,
    /// The CSRF token of the session (console forms carry it).
    pub csrf_token: String,
    /// Who.
    pub operator: OperatorView,
    /// Idle minutes before the session ends.
    pub idle_minutes: i64,
}

/// An operator as the API shows one.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperatorView {
    /// Sign-in name.
    pub name: String,
    /// Role.
    pub role: &'static str,
    /// Its label (Chinese).
    pub role_label: &'static str,
}

/// The body of a sign-in.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginBody {
    /// The operator's name.
    username: String,
    /// The password.
    password: String,
}

/// Why a sign-in failed (one answer for every reason, so it tells a guesser nothing).
const SIGN_IN_REFUSED: &str = "wrong name or password, or the account is locked or disabled";

/// Signs operator `name` in with `password` from `address`: the session, or 401.
pub fn sign_in(
    st: &AppState,
    lease: &mut Lease<'_>,
    name: &str,
    password: &str,
    address: &str,
) -> Result<(Actor, SignedIn), Refusal> {
    let now = st.now_ms();
    let reserved = if operators::reserve_address(lease.get()?, address, ADDRESS_LIMITS, now)? {
        operators::reserve_sign_in(lease.get()?, name, SIGN_IN_LIMITS, now)?
    } else {
        tracing::warn!(%address, "operator sign-ins from this address are locked");
        SignIn::Refused
    };
    // argon2 takes a while: no connection is held during it.
    lease.release();
    let (operator, hash) = match reserved {
        SignIn::Reserved(op, hash) => (op, hash),
        SignIn::Refused => {
            let _ = verify_password(password, DECOY_HASH);
            return Err(Refusal::Unauthorized(SIGN_IN_REFUSED.into()));
        }
    };
    if !verify_password(password, &hash) {
        if operators::sign_in_failed(lease.get()?, &operator.id, SIGN_IN_LIMITS, st.now_ms())? {
            tracing::warn!(operator = %operator.name, %address, "operator locked after repeated wrong passwords");
        }
        return Err(Refusal::Unauthorized(SIGN_IN_REFUSED.into()));
    }
    let conn = lease.get()?;
    operators::signed_in(conn, &operator.id)?;
    operators::address_signed_in(conn, address)?;
    let token = new_token();
    let csrf_token = sha256_hex(new_token().as_bytes());
    let digest = sha256_hex(token.as_bytes());
    operators::open_session(conn, &digest, &operator.id, &csrf_token, address, now)?;
    let actor = Actor {
        name: operator.name.clone(),
        role: operator.role,
        operator_id: Some(operator.id),
        address: address.into(),
        csrf_token: Some(csrf_token.clone()),
        session: Some(digest),
    };
    let view = SignedIn {
        token,
        csrf_token,
        operator: OperatorView {
            name: operator.name,
            role: operator.role.as_str(),
            role_label: operator.role.label(),
        },
        idle_minutes: IDLE_MS / 60_000,
    };
    Ok((actor, view))
}

/// `POST /admin/login`: `{"username", "password"}` → the session's token.
pub(super) fn login(st: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    let b: LoginBody = call.body()?;
    let (_, signed) = sign_in(st, lease, &b.username, &b.password, &call.actor.address)?;
    ok(signed)
}

/// `POST /admin/logout`: ends the caller's session.
pub(super) fn logout(_: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    if let Some(digest) = &call.actor.session {
        operators::close_session(lease.get()?, digest)?;
    }
    ok(serde_json::json!({"signedOut": true}))
}

/// `GET /admin/me`: who the caller is (and, for a session, its CSRF token, which the console's
/// forms carry).
pub(super) fn me(_: &AppState, _: &mut Lease<'_>, call: &AdminCall) -> Answer {
    ok(serde_json::json!({
        "name": call.actor.name,
        "role": call.actor.role.as_str(),
        "roleLabel": call.actor.role.label(),
        "csrfToken": call.actor.csrf_token,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_does_its_own_work_and_admin_everything() {
        use Role::*;
        let table = [
            (Need::Read, [true, true, true, false, true]),
            (Need::Review, [true, true, false, false, false]),
            (Need::Pay, [true, false, true, false, false]),
            (Need::Collect, [true, false, false, true, false]),
            (Need::Admin, [true, false, false, false, false]),
            (Need::ReadCollection, [true; 5]),
        ];
        for (need, allowed) in table {
            for (role, want) in [Admin, Reviewer, Finance, Collector, Viewer]
                .into_iter()
                .zip(allowed)
            {
                assert_eq!(need.allows(role), want, "{need:?} {role:?}");
            }
        }
    }

    #[test]
    fn the_decoy_hash_parses_and_matches_nothing() {
        assert!(argon2::password_hash::PasswordHash::new(DECOY_HASH).is_ok());
        assert!(!verify_password("", DECOY_HASH));
        assert!(!verify_password("password", DECOY_HASH));
    }

    #[test]
    fn session_tokens_are_long_and_distinct() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 3 + 64);
        assert!(a.starts_with(TOKEN_PREFIX));
    }
}
