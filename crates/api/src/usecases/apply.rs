//! Apply (§23 提交贷款申请): a borrower who passed every authentication, is not blacklisted, holds
//! a valid carrier authorisation and has no other open application asks for priced terms; the
//! application is stored (status 0) with message 11 in one transaction.

use cashloan_domain::{Authentications, TermsRequest};
use cashloan_persistence::accounts::User;
use cashloan_persistence::loans::{
    list_user_applications, submit_application, Application, ApplicationDetails, PageRequest,
    Submitted,
};
use cashloan_persistence::site::is_blacklisted;
use cashloan_persistence::DbError;
use chrono::NaiveDate;

use super::pricing::{price, PricingError};
use crate::context::{AppState, Lease};
use crate::providers::Unavailable;

/// An application as the borrower sends it.
pub struct ApplyInput<'a> {
    /// The borrower (logged in).
    pub user: &'a User,
    /// The product.
    pub product_id: &'a str,
    /// The terms, as text (validated here).
    pub terms: TermsRequest<'a>,
    /// Everything else the borrower tells us (already checked for format).
    pub details: ApplicationDetails,
    /// The business date.
    pub today: NaiveDate,
    /// Now (ms).
    pub now: i64,
}

/// Why an application is refused (`20005001` with the reason, or a term's own code).
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// Authentications still to do, by their Chinese names.
    #[error("请先完成以下认证: {}", .0.join("、"))]
    AuthenticationsMissing(Vec<&'static str>),
    /// The borrower's mobile is blacklisted.
    #[error("账户已被列入黑名单")]
    Blacklisted,
    /// The carrier authorisation order is not valid for this mobile.
    #[error("运营商授权验证订单无效")]
    CarrierOrderInvalid,
    /// Another application is still open (0, 1, 2 or 4).
    #[error("已有未完成的借款申请")]
    OpenApplicationExists,
    /// The terms cannot be priced.
    #[error(transparent)]
    Pricing(#[from] PricingError),
    /// The carrier verifier gave no answer.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Submits an application; the stored application on success.
pub fn apply(
    st: &AppState,
    lease: &mut Lease<'_>,
    input: ApplyInput<'_>,
) -> Result<Application, ApplyError> {
    let user = input.user;
    let missing = Authentications {
        real_name: user.real_name_auth,
        bank_card: user.bank_card_auth,
        customer_info: user.customer_info_auth,
        mobile: user.mobile_auth,
    }
    .missing();
    if !missing.is_empty() {
        return Err(ApplyError::AuthenticationsMissing(missing));
    }
    if is_blacklisted(lease.get()?, &user.mobile)? {
        return Err(ApplyError::Blacklisted);
    }
    // A third party may be slow: no connection is held while it answers.
    lease.release();
    let order = st
        .providers
        .carrier
        .check_order(&input.details.order_id, &user.mobile)?;
    if !order.accepted() {
        return Err(ApplyError::CarrierOrderInvalid);
    }
    let conn = lease.get()?;
    let (recent, _) = list_user_applications(
        conn,
        &user.id,
        PageRequest {
            offset: 0,
            limit: 20,
        },
    )?;
    if recent.iter().any(|a| a.status.is_open()) {
        return Err(ApplyError::OpenApplicationExists);
    }
    let priced = price(
        conn,
        &st.policy,
        user,
        input.product_id,
        &input.terms,
        input.today,
    )?;
    let draft = Application::draft(
        &user.id,
        &priced.product,
        &priced.row.code,
        &priced.terms,
        input.details,
    );
    match submit_application(conn, draft, input.today, input.now)? {
        Submitted::Stored(app) => {
            tracing::info!(user = %user.id, application = %app.id, code = %app.loan_code, "application submitted");
            Ok(*app)
        }
        Submitted::OpenApplicationExists => Err(ApplyError::OpenApplicationExists),
    }
}
