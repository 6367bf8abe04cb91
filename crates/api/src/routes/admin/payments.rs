//! Payment orders as operators see them, and settling a stuck one by hand.

use cashloan_persistence::loans::PageRequest;
use cashloan_persistence::payment_orders::{
    find_order, list_orders, settle, ChannelOutcome, OrderStatus, PaymentOrder, SettledBy,
    Settlement,
};
use serde::{Deserialize, Serialize};

use super::applications::Page;
use super::{money, ok, AdminCall, Answer, Refusal};
use crate::context::{AppState, Lease};

/// A payment order as operators see it.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderView {
    id: String,
    /// The reference the channel knows the order by (its id).
    reference: String,
    kind: String,
    application_id: String,
    amount: Option<String>,
    business_date: String,
    status: String,
    channel_ref: Option<String>,
    message: Option<String>,
    flag: Option<String>,
    settled_by: Option<String>,
    created_at: i64,
    updated_at: i64,
    settled_at: Option<i64>,
}

impl OrderView {
    /// The view of `o`.
    pub fn new(o: &PaymentOrder) -> OrderView {
        OrderView {
            id: o.id.clone(),
            reference: o.id.clone(),
            kind: o.kind.as_str().to_owned(),
            application_id: o.application_id.clone(),
            amount: money(Some(o.amount)),
            business_date: cashloan_domain::format_day(o.business_date),
            status: o.status.as_str().to_owned(),
            channel_ref: o.channel_ref.clone(),
            message: o.message.clone(),
            flag: o.flag.clone(),
            settled_by: o.settled_by.clone(),
            created_at: o.created_at,
            updated_at: o.updated_at,
            settled_at: o.settled_at,
        }
    }
}

/// `GET /admin/payments?status=&applicationId=&page=&size=`: payment orders, newest first.
pub(super) fn list(_: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    let status = call.query("status").filter(|s| !s.is_empty());
    if status.is_some_and(|s| OrderStatus::parse(s).is_none()) {
        return Err(Refusal::BadRequest(
            "status must be pending, succeeded, failed or unknown".into(),
        ));
    }
    let application = call.query("applicationId").filter(|s| !s.is_empty());
    let page = call.number("page", 1, 1..=i64::MAX / 1000)?;
    let size = call.number("size", 20, 1..=100)?;
    let (rows, total) = list_orders(
        lease.get()?,
        status,
        application,
        PageRequest {
            offset: (page - 1) * size,
            limit: size,
        },
    )?;
    ok(Page::new(
        page,
        size,
        total,
        rows.iter().map(OrderView::new).collect(),
    ))
}

/// The body of a settlement by hand.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct ResolveBody {
    /// `succeeded` or `failed`, as the channel's statement says.
    status: String,
    /// What the operator checked (1 to 500 characters); kept with the order.
    note: String,
}

/// `POST /admin/payments/{id}/resolve`: settles a stuck order by hand, after the operator checked
/// the channel's statement. 409 when it is settled.
pub(super) fn resolve(st: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    let id = call.param("id");
    let b: ResolveBody = call.body()?;
    let note = b.note.trim().to_owned();
    if note.is_empty() || note.chars().count() > 500 {
        return Err(Refusal::Unprocessable(
            "note must be 1 to 500 characters".into(),
        ));
    }
    let outcome = match b.status.as_str() {
        "succeeded" => ChannelOutcome::Succeeded {
            channel_ref: Some(format!("operator: {note}")),
            amount: None,
        },
        "failed" => ChannelOutcome::Failed {
            message: format!("operator: {note}"),
        },
        _ => {
            return Err(Refusal::BadRequest(
                "status must be succeeded or failed".into(),
            ))
        }
    };
    let conn = lease.get()?;
    match settle(conn, &id, &outcome, SettledBy::Operator, st.now_ms())? {
        Settlement::NotFound => return Err(Refusal::NotFound("no such payment order".into())),
        Settlement::AlreadySettled(s) => {
            return Err(Refusal::Conflict(format!(
                "the payment order is already {}",
                s.as_str()
            )))
        }
        settled => tracing::info!(order = %id, ?settled, %note, "payment order resolved by hand"),
    }
    let order =
        find_order(conn, &id)?.ok_or_else(|| Refusal::NotFound("no such payment order".into()))?;
    ok(OrderView::new(&order))
}
