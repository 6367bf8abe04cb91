//! Borrowers as operators manage them: the blacklist, credit, disabling and the risk flag.

use cashloan_domain::Money;
use cashloan_persistence::accounts::{
    find_user_by_mobile, set_disabled, set_risk, set_total_credit,
};
use cashloan_persistence::site::{add_to_blacklist, remove_from_blacklist};
use serde::{Deserialize, Serialize};

use super::{money, ok, AdminCall, Answer, Refusal};
use crate::context::{AppState, Lease};

fn no_user() -> Refusal {
    Refusal::NotFound("no user with this mobile".into())
}

/// The body of a blacklisting.
#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct BlacklistBody {
    /// Why (kept for operators).
    reason: Option<String>,
}

/// A mobile's place on the blacklist.
#[derive(Serialize)]
struct BlacklistView {
    mobile: String,
    blacklisted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    added: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    removed: Option<bool>,
}

/// `POST /admin/users/{mobile}/blacklist`.
pub(super) fn blacklist(st: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    let mobile = call.param("mobile");
    let b: BlacklistBody = call.body()?;
    if cashloan_domain::Mobile::parse(&mobile).is_none() {
        return Err(Refusal::Unprocessable("not a mobile number".into()));
    }
    let reason = b.reason.as_deref().unwrap_or("");
    let added = add_to_blacklist(lease.get()?, &mobile, reason, st.now_ms())?;
    ok(BlacklistView {
        mobile,
        blacklisted: true,
        added: Some(added),
        removed: None,
    })
}

/// `DELETE /admin/users/{mobile}/blacklist`.
pub(super) fn unblacklist(_: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    let mobile = call.param("mobile");
    let removed = remove_from_blacklist(lease.get()?, &mobile)?;
    ok(BlacklistView {
        mobile,
        blacklisted: false,
        added: None,
        removed: Some(removed),
    })
}

/// The body of a credit change.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreditBody {
    /// The borrower's total credit (`"5000.00"`).
    total_credit: String,
}

/// `PUT /admin/users/{mobile}/credit`.
pub(super) fn credit(st: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct CreditView {
        mobile: String,
        total_credit: Option<String>,
    }
    let mobile = call.param("mobile");
    let b: CreditBody = call.body()?;
    let total = Money::parse_amount(&b.total_credit)
        .ok_or_else(|| Refusal::Unprocessable("totalCredit is not an amount".into()))?;
    let conn = lease.get()?;
    if !set_total_credit(conn, &mobile, total, st.now_ms())? {
        return Err(no_user());
    }
    let user = find_user_by_mobile(conn, &mobile)?.ok_or_else(no_user)?;
    ok(CreditView {
        mobile,
        total_credit: money(Some(user.total_credit)),
    })
}

/// The body of a status change: either member optional.
#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct UserStatusBody {
    /// A disabled account cannot log in (§4 `90009000`) and is never paid out.
    disabled: Option<bool>,
    /// Shown as §19's `isRisk`.
    risk: Option<bool>,
}

/// `PUT /admin/users/{mobile}/status`.
pub(super) fn status(st: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    #[derive(Serialize)]
    struct StatusView {
        mobile: String,
        disabled: bool,
        risk: bool,
    }
    let mobile = call.param("mobile");
    let b: UserStatusBody = call.body()?;
    let conn = lease.get()?;
    find_user_by_mobile(conn, &mobile)?.ok_or_else(no_user)?;
    let now = st.now_ms();
    if let Some(d) = b.disabled {
        set_disabled(conn, &mobile, d, now)?;
    }
    if let Some(r) = b.risk {
        set_risk(conn, &mobile, r, now)?;
    }
    let u = find_user_by_mobile(conn, &mobile)?.ok_or_else(no_user)?;
    ok(StatusView {
        mobile,
        disabled: u.disabled,
        risk: u.is_risk,
    })
}
