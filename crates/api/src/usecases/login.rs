//! Log in (§4 登陆接口) and out (§18 退出登录), and the password check behind it and §15: wrong passwords are counted
//! per account and client address (and over all addresses an hour) before the argon2 check runs,
//! with no connection held during it; enough of them lock the account for a while.

use cashloan_persistence::accounts::{
    create_session, end_session, find_user_by_mobile, Session, User,
};
use cashloan_persistence::login_guard::{self, Attempt, GuardLimits};
use cashloan_persistence::{DbConnection, DbError};

use crate::context::{AppState, Lease};
use crate::security::{new_session_id, verify_password};

/// Why a password check refused.
#[derive(Debug, thiserror::Error)]
pub enum PasswordRefusal {
    /// The password is wrong.
    #[error("wrong password")]
    Wrong,
    /// The password is wrong, and this failure locked the account.
    #[error("wrong password; the account is now locked")]
    Locking,
    /// The account (or this address's tries on it) is locked: nothing was checked.
    #[error("locked after repeated wrong passwords")]
    Locked,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Checks `plain` against `user`'s password behind the wrong-password guards: the attempt is
/// reserved first (a locked account or address answers without any check), a wrong password is
/// refused, a right one clears the address's count.
pub fn check_password(
    st: &AppState,
    lease: &mut Lease<'_>,
    user: &User,
    plain: &str,
    client: &str,
    now: i64,
) -> Result<(), PasswordRefusal> {
    let cfg = &st.config;
    let limits = GuardLimits {
        max_failures: cfg.login_max_failures,
        ceiling_per_hour: cfg.login_max_failures_per_hour,
        lock_ms: cfg.login_lock_minutes.saturating_mul(60_000),
    };
    let attempt = login_guard::reserve(lease.get()?, &user.id, client, limits, now)?;
    let Attempt::Reserved { last } = attempt else {
        return Err(PasswordRefusal::Locked);
    };
    // argon2 takes a while: no connection is held during it.
    lease.release();
    if verify_password(plain, &user.password_hash) {
        login_guard::succeeded(lease.get()?, &user.id, client)?;
        return Ok(());
    }
    if last {
        tracing::warn!(user = %user.id, %client, "locked after repeated wrong passwords");
        return Err(PasswordRefusal::Locking);
    }
    Err(PasswordRefusal::Wrong)
}

/// A login as the app sends it (the password already decoded).
pub struct LoginInput<'a> {
    /// The mobile.
    pub username: &'a str,
    /// The password.
    pub password: &'a str,
    /// `1` Android, `2` iOS, `3` other.
    pub app_type: &'a str,
    /// The device's push token (may be empty).
    pub device_token: &'a str,
    /// The client address (for the guard).
    pub client: &'a str,
    /// Now (ms).
    pub now: i64,
}

/// Why no session was opened.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// No account has this mobile.
    #[error("no such account")]
    NoAccount,
    /// The password check refused.
    #[error(transparent)]
    Password(#[from] PasswordRefusal),
    /// The account is disabled.
    #[error("the account is disabled")]
    Disabled,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Opens a session for the right password of an enabled account.
pub fn log_in(
    st: &AppState,
    lease: &mut Lease<'_>,
    input: LoginInput<'_>,
) -> Result<Session, LoginError> {
    let user = find_user_by_mobile(lease.get()?, input.username)?.ok_or(LoginError::NoAccount)?;
    check_password(st, lease, &user, input.password, input.client, input.now)?;
    if user.disabled {
        return Err(LoginError::Disabled);
    }
    let idle_ms = st.config.session_idle_days.saturating_mul(86_400_000);
    let session = Session {
        id: new_session_id(),
        user_id: user.id.clone(),
        device_token: input.device_token.to_owned(),
        app_type: input.app_type.to_owned(),
        created_at: input.now,
        last_seen_at: input.now,
        expires_at: input.now + idle_ms,
    };
    create_session(lease.get()?, &session)?;
    tracing::info!(user = %user.id, "login");
    Ok(session)
}

/// Logs out (§18): ends session `session_id`. A session that has already ended (logged out
/// twice, expired, or never was) is not an error: the borrower is logged out either way.
pub fn log_out(conn: &mut DbConnection, session_id: &str) -> Result<(), DbError> {
    end_session(conn, session_id)
}
