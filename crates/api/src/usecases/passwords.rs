//! Passwords: a new one given twice (§10, §14), a reset after the SMS and identity steps (忘记密码,
//! §13 and §14), and the notice a borrower gets when theirs is reset or changed.

use cashloan_domain::{IdCardNo, MessageType, Mobile, PersonName};
use cashloan_persistence::accounts::{find_user_by_mobile, set_password, User};
use cashloan_persistence::loans::{add_customer_message, CustomerMessage};
use cashloan_persistence::profile::find_identity;
use cashloan_persistence::verification::{
    fail_grant, give_grant, has_grant, take_grants, GrantKind,
};
use cashloan_persistence::DbError;

use crate::context::{AppState, Lease};
use crate::providers::Sms;
use crate::security::{hash_password, password_acceptable};

/// Grants live 600 s (§9, §12, §13).
pub const GRANT_TTL_MS: i64 = 600_000;
/// Identity mismatches before the reset grant dies.
pub const MAX_IDENTITY_TRIES: i32 = 5;

/// Why a new password was not taken.
#[derive(Debug, thiserror::Error)]
pub enum NewPasswordError {
    /// The field is not ciphertext (strict mode) — a malformed field.
    #[error("{0} is not a password")]
    Malformed(&'static str),
    /// The two do not match.
    #[error("the passwords differ")]
    Differ,
    /// 6 to 20 printable ASCII characters.
    #[error("the password breaks the rule")]
    Rule,
    /// Hashing failed.
    #[error("hashing the password failed: {0}")]
    Hash(String),
}

/// The hash of a new password given twice, as it came on the wire (`password`,
/// `confirmPassword`): both must decode to the same text, which must follow the rule.
pub fn new_password_hash(
    st: &AppState,
    wire: &str,
    wire_confirm: &str,
) -> Result<String, NewPasswordError> {
    let pw = st
        .codec
        .decode(wire)
        .map_err(|_| NewPasswordError::Malformed("password"))?;
    let confirm = st
        .codec
        .decode(wire_confirm)
        .map_err(|_| NewPasswordError::Malformed("confirmPassword"))?;
    if pw != confirm {
        return Err(NewPasswordError::Differ);
    }
    if !password_acceptable(&pw) {
        return Err(NewPasswordError::Rule);
    }
    hash_password(&pw).map_err(NewPasswordError::Hash)
}

/// Why a reset step did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    /// No account has this mobile.
    #[error("no account has this mobile")]
    NotRegistered,
    /// The name is not a personal name.
    #[error("the name is malformed")]
    NameMalformed,
    /// The ID number is not one.
    #[error("the ID number is malformed")]
    IdCardMalformed,
    /// The earlier step's grant is missing, spent, expired or of another client.
    #[error("the earlier step is missing")]
    GrantMissing,
    /// The name and ID number are not the account's.
    #[error("the identity does not match")]
    IdentityMismatch,
    /// The new password was not taken.
    #[error(transparent)]
    NewPassword(#[from] NewPasswordError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// §13: the borrower proves who they are after the SMS step; the reset grant follows. Repeated
/// mismatches kill the SMS grant.
pub fn confirm_identity(
    lease: &mut Lease<'_>,
    mobile: &Mobile,
    name: &str,
    id: &str,
    flow: Option<&str>,
    now: i64,
) -> Result<(), ResetError> {
    let conn = lease.get()?;
    let user = find_user_by_mobile(conn, mobile.as_str())?.ok_or(ResetError::NotRegistered)?;
    let name = PersonName::parse(name).ok_or(ResetError::NameMalformed)?;
    let id = IdCardNo::parse(id).ok_or(ResetError::IdCardMalformed)?;
    let Some(flow) = flow else {
        return Err(ResetError::GrantMissing);
    };
    if !has_grant(conn, mobile.as_str(), GrantKind::ResetSms, flow, now)? {
        return Err(ResetError::GrantMissing);
    }
    if let Some(known) = find_identity(conn, &user.id)? {
        if known.real_name != name.as_str() || known.id_card_no != id.as_str() {
            let killed = fail_grant(
                conn,
                mobile.as_str(),
                GrantKind::ResetSms,
                flow,
                MAX_IDENTITY_TRIES,
            )?;
            if killed {
                tracing::warn!(mobile = %mobile.masked(), "reset grant killed after repeated identity mismatches");
            }
            return Err(ResetError::IdentityMismatch);
        }
    }
    give_grant(
        conn,
        mobile.as_str(),
        GrantKind::ResetIdentity,
        flow,
        now,
        GRANT_TTL_MS,
    )?;
    Ok(())
}

/// §14: with both grants of this flow, the password given twice replaces the old one, every
/// session ends, and the borrower is told.
pub fn reset_password(
    st: &AppState,
    lease: &mut Lease<'_>,
    mobile: &Mobile,
    wire: &str,
    wire_confirm: &str,
    flow: Option<&str>,
    now: i64,
) -> Result<(), ResetError> {
    let conn = lease.get()?;
    let user = find_user_by_mobile(conn, mobile.as_str())?.ok_or(ResetError::NotRegistered)?;
    let both = [GrantKind::ResetSms, GrantKind::ResetIdentity];
    let Some(flow) = flow else {
        return Err(ResetError::GrantMissing);
    };
    for kind in both {
        if !has_grant(conn, mobile.as_str(), kind, flow, now)? {
            return Err(ResetError::GrantMissing);
        }
    }
    let hashed = new_password_hash(st, wire, wire_confirm)?;
    if !take_grants(conn, mobile.as_str(), &both, flow, now)? {
        return Err(ResetError::GrantMissing);
    }
    set_password(conn, &user.id, &hashed, now)?;
    tracing::info!(user = %user.id, "password reset; sessions ended");
    tell_password_changed(st, lease, &user, "重置", now)?;
    Ok(())
}

/// Why a password was not changed (§15).
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// No account has this mobile.
    #[error("no account has this mobile")]
    NotRegistered,
    /// A password field is not ciphertext (strict mode).
    #[error("{0} is not a password")]
    Malformed(&'static str),
    /// The current password check refused.
    #[error(transparent)]
    Current(#[from] super::login::PasswordRefusal),
    /// The new password breaks the rule.
    #[error("the new password breaks the rule")]
    Rule,
    /// Hashing failed.
    #[error("hashing the password failed: {0}")]
    Hash(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// §15: with the current password (behind the same guards as logging in), the new one replaces
/// it, every session ends, and the borrower is told. The passwords are the fields as sent.
pub fn change_password(
    st: &AppState,
    lease: &mut Lease<'_>,
    mobile: &Mobile,
    wire_current: &str,
    wire_new: &str,
    client: &str,
    now: i64,
) -> Result<(), ChangeError> {
    let user =
        find_user_by_mobile(lease.get()?, mobile.as_str())?.ok_or(ChangeError::NotRegistered)?;
    let decode = |wire: &str, field: &'static str| {
        st.codec
            .decode(wire)
            .map_err(|_| ChangeError::Malformed(field))
    };
    let new = decode(wire_new, "newPassword")?;
    let current = decode(wire_current, "oldPassword")?;
    super::login::check_password(st, lease, &user, &current, client, now)?;
    if !password_acceptable(&new) {
        return Err(ChangeError::Rule);
    }
    let hashed = hash_password(&new).map_err(ChangeError::Hash)?;
    set_password(lease.get()?, &user.id, &hashed, now)?;
    tracing::info!(user = %user.id, "password changed; sessions ended");
    tell_password_changed(st, lease, &user, "修改", now)?;
    Ok(())
}

/// After a reset or a change, the borrower hears of it (a customer message, and an SMS through
/// the gateway, called with no connection held): a takeover cannot happen silently.
pub fn tell_password_changed(
    st: &AppState,
    lease: &mut Lease<'_>,
    user: &User,
    how: &str,
    now: i64,
) -> Result<(), DbError> {
    let time = st.format_time(now);
    let text = format!("您的登录密码已于{time}{how}。如非本人操作,请立即联系客服。");
    add_customer_message(
        lease.get()?,
        &CustomerMessage::new(&user.id, MessageType::Other, text.clone(), None, now),
    )?;
    lease.release();
    let sent = st.providers.sms.send(&Sms {
        mobile: &user.mobile,
        purpose: "notice",
        code: "",
        text,
        sent_at: now,
    });
    if let Err(reason) = sent {
        tracing::warn!(user = %user.id, %reason, "the password notice SMS was refused");
    }
    Ok(())
}
