//! Authenticate the mobile (§31 手机实名认证): the carrier confirms the borrower's mobile is held
//! in their authenticated name (asked with no connection held).

use cashloan_persistence::accounts::{set_mobile_auth, User};
use cashloan_persistence::profile::find_identity;
use cashloan_persistence::DbError;

use crate::context::{AppState, Lease};
use crate::providers::Unavailable;

/// Why the mobile was not authenticated (the message is the borrower's).
#[derive(Debug, thiserror::Error)]
pub enum MobileAuthError {
    /// The identity comes first (§32).
    #[error("请先完成身份信息认证")]
    IdentityFirst,
    /// The carrier said no.
    #[error("手机实名认证失败")]
    Refused,
    /// The carrier verifier gave no answer.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Authenticates `user`'s mobile; already authenticated is a success that asks nobody.
pub fn authenticate_mobile(
    st: &AppState,
    lease: &mut Lease<'_>,
    user: &User,
    now: i64,
) -> Result<(), MobileAuthError> {
    let identity = find_identity(lease.get()?, &user.id)?.ok_or(MobileAuthError::IdentityFirst)?;
    if user.mobile_auth {
        return Ok(());
    }
    // A third party may be slow: no connection is held while it answers.
    lease.release();
    let verdict =
        st.providers
            .carrier
            .verify(&identity.real_name, &identity.id_card_no, &user.mobile)?;
    if !verdict.accepted() {
        return Err(MobileAuthError::Refused);
    }
    set_mobile_auth(lease.get()?, &user.id, now)?;
    Ok(())
}
