//! Authenticate identity (§32 身份信息认证, 实名认证): an adult's name and ID number, checked by the
//! identity verifier (called with no connection held), bound to one account for good.

use cashloan_domain::{IdCardNo, PersonName};
use cashloan_persistence::accounts::User;
use cashloan_persistence::profile::{
    find_identity, identity_owner, save_identity, Identity, SaveIdentity,
};
use cashloan_persistence::DbError;
use chrono::NaiveDate;

use crate::context::{AppState, Lease};
use crate::providers::Unavailable;

/// The youngest a borrower may be.
pub const MIN_AGE: u32 = 18;

/// Why the identity was not authenticated (the message is the borrower's).
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// Another identity is already authenticated on this account.
    #[error("已完成实名认证,不可修改")]
    AlreadyAuthenticated,
    /// This ID number belongs to another account.
    #[error("该身份证号已被其他账号认证")]
    TakenByAnother,
    /// Younger than [`MIN_AGE`].
    #[error("身份信息认证失败: 未满18周岁")]
    Underage,
    /// The verifier said no.
    #[error("身份信息认证失败")]
    Refused,
    /// The verifier gave no answer.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Authenticates `name` and `id` for `user` at `today`; asking again with the same identity is
/// a success that changes nothing.
pub fn authenticate_identity(
    st: &AppState,
    lease: &mut Lease<'_>,
    user: &User,
    name: &PersonName,
    id: &IdCardNo,
    today: NaiveDate,
    now: i64,
) -> Result<(), IdentityError> {
    if let Some(known) = find_identity(lease.get()?, &user.id)? {
        return if known.real_name == name.as_str() && known.id_card_no == id.as_str() {
            Ok(())
        } else {
            Err(IdentityError::AlreadyAuthenticated)
        };
    }
    if identity_owner(lease.get()?, id.as_str())?.is_some() {
        return Err(IdentityError::TakenByAnother);
    }
    if id.age_on(today) < MIN_AGE {
        return Err(IdentityError::Underage);
    }
    // A third party may be slow: no connection is held while it answers.
    lease.release();
    if !st
        .providers
        .identity
        .verify(name.as_str(), id.as_str())?
        .accepted()
    {
        return Err(IdentityError::Refused);
    }
    let saved = save_identity(
        lease.get()?,
        &Identity {
            user_id: user.id.clone(),
            real_name: name.as_str().to_owned(),
            id_card_no: id.as_str().to_owned(),
            verified_at: now,
        },
    )?;
    match saved {
        SaveIdentity::Saved => {
            tracing::info!(user = %user.id, id = ?id, "identity authenticated");
            Ok(())
        }
        SaveIdentity::AlreadyVerified => Err(IdentityError::AlreadyAuthenticated),
        SaveIdentity::TakenByAnother => Err(IdentityError::TakenByAnother),
    }
}
