//! Authenticate a bank card (§30 银行卡认证): the card, its reserved mobile and the borrower's
//! authenticated identity checked together by the bank-card verifier (called with no connection
//! held); a card belongs to one account.

use cashloan_domain::{BankCardNo, Mobile};
use cashloan_persistence::accounts::User;
use cashloan_persistence::profile::{bank_card_owner, find_identity, save_bank_card, BankCard};
use cashloan_persistence::DbError;

use crate::context::{AppState, Lease};
use crate::providers::Unavailable;

/// Why the card was not authenticated (the message is the borrower's).
#[derive(Debug, thiserror::Error)]
pub enum BankCardError {
    /// The identity comes first (§32).
    #[error("请先完成身份信息认证")]
    IdentityFirst,
    /// Another account holds the card.
    #[error("该银行卡已被其他账号绑定")]
    TakenByAnother,
    /// The verifier said no.
    #[error("银行卡认证失败")]
    Refused,
    /// The verifier gave no answer.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Authenticates `card` with its reserved mobile for `user`.
pub fn authenticate_bank_card(
    st: &AppState,
    lease: &mut Lease<'_>,
    user: &User,
    card: &BankCardNo,
    reserved: &Mobile,
    now: i64,
) -> Result<(), BankCardError> {
    let identity = find_identity(lease.get()?, &user.id)?.ok_or(BankCardError::IdentityFirst)?;
    if bank_card_owner(lease.get()?, card.as_str())?.is_some_and(|owner| owner != user.id) {
        return Err(BankCardError::TakenByAnother);
    }
    // A third party may be slow: no connection is held while it answers.
    lease.release();
    let verdict = st.providers.bank_card.verify(
        &identity.real_name,
        &identity.id_card_no,
        card.as_str(),
        reserved.as_str(),
    )?;
    if !verdict.accepted() {
        return Err(BankCardError::Refused);
    }
    let saved = save_bank_card(
        lease.get()?,
        &BankCard {
            user_id: user.id.clone(),
            card_no: card.as_str().to_owned(),
            reserved_mobile: reserved.as_str().to_owned(),
            verified_at: now,
        },
    )?;
    if !saved {
        return Err(BankCardError::TakenByAnother);
    }
    tracing::info!(user = %user.id, card = %card.masked(), "bank card authenticated");
    Ok(())
}
