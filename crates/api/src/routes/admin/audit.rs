//! The audit trail as the admin API writes and reads it: every request that is not a read is
//! recorded after it ran (who, when, from where, what, to which thing, its HTTP status, and the
//! thing before and after, personal data masked); `GET /admin/audit` lists it. Nothing here, nor
//! anywhere, edits or deletes a row (the database refuses to).

use cashloan_persistence::accounts::find_user_by_mobile;
use cashloan_persistence::back_office::{audit, AuditEvent, AuditFilter, NewAuditEvent};
use cashloan_persistence::loans::{find_application, PageRequest};
use cashloan_persistence::payment_orders::find_order;
use cashloan_persistence::products::find_product;
use serde::Serialize;
use serde_json::{json, Value};

use super::applications::{ApplicationView, Page};
use super::payments::OrderView;
use super::products::ProductView;
use super::proposals::ProposalView;
use super::{ok, AdminCall, Answer, Refusal};
use crate::context::{AppState, Lease};

/// The state of the thing an action touches, read before and after it.
pub type Snapshot = fn(&AppState, &mut Lease<'_>, &AdminCall) -> Result<Option<Value>, Refusal>;

/// How a route's actions are recorded.
pub struct Audited {
    /// What is done (`application.approve`).
    pub action: &'static str,
    /// To what kind of thing.
    pub entity: &'static str,
    /// The path parameter naming the thing.
    pub id: Option<&'static str>,
    /// Its state, before and after.
    pub snapshot: Option<Snapshot>,
    /// Keep the answer as the state after (a run's counts), where there is no thing to read.
    pub keep_answer: bool,
}

/// The id under which an action on `entity` is filed: a mobile is filed masked.
pub fn entity_id(audited: &Audited, call: &AdminCall) -> Option<String> {
    let id = call.param(audited.id?);
    Some(if audited.entity == "user" {
        cashloan_domain::mask::mobile(&id)
    } else {
        id
    })
}

/// Who is filed as having acted: the caller, or for a sign-in the name it was made under.
fn acting_name(call: &AdminCall) -> (String, &'static str) {
    if !call.actor.name.is_empty() {
        return (call.actor.name.clone(), call.actor.role.as_str());
    }
    #[derive(serde::Deserialize)]
    struct Named {
        username: Option<String>,
    }
    let name = call
        .body::<Named>()
        .ok()
        .and_then(|n| n.username)
        .map(|n| n.chars().take(64).collect())
        .unwrap_or_default();
    (name, "")
}

/// Records one action; a failure to record is logged with everything the row would have held
/// (the log is the trail's backstop), and never undoes what was done.
pub fn record(
    st: &AppState,
    lease: &mut Lease<'_>,
    audited: &Audited,
    call: &AdminCall,
    outcome: u16,
    before: Option<&Value>,
    after: Option<&Value>,
) {
    let (operator, role) = acting_name(call);
    let (operator, role) = (operator.as_str(), role);
    let entity_id = entity_id(audited, call);
    let (before, after) = (before.map(Value::to_string), after.map(Value::to_string));
    let event = NewAuditEvent {
        at: st.now_ms(),
        operator,
        role,
        address: &call.actor.address,
        action: audited.action,
        entity: audited.entity,
        entity_id: entity_id.as_deref(),
        outcome: i32::from(outcome),
        before,
        after,
    };
    let stored = lease
        .get()
        .map_err(|e| e.to_string())
        .and_then(|conn| audit::record(conn, &event).map_err(|e| e.to_string()));
    if let Err(e) = stored {
        tracing::error!(
            error = %e,
            operator = event.operator,
            action = event.action,
            entity = event.entity,
            entity_id = ?event.entity_id,
            outcome = event.outcome,
            before = ?event.before,
            after = ?event.after,
            "the audit trail could not record an operator action"
        );
    }
}

/// An application, as operators see it (mobile masked).
pub fn application(_: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Snap {
    let conn = lease.get()?;
    let Some(a) = find_application(conn, &call.param("id"))? else {
        return Ok(None);
    };
    let mobile = cashloan_persistence::accounts::find_user(conn, &a.user_id)?.map(|u| u.mobile);
    Ok(Some(
        serde_json::to_value(ApplicationView::new(&a, mobile.as_deref())).map_err(super::fault)?,
    ))
}

/// What a snapshot gives.
pub type Snap = Result<Option<Value>, Refusal>;

/// A product.
pub fn product(_: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Snap {
    let Some(p) = find_product(lease.get()?, &call.param("id"))? else {
        return Ok(None);
    };
    Ok(Some(
        serde_json::to_value(ProductView::new(&p)).map_err(super::fault)?,
    ))
}

/// A borrower's standing: disabled, risk flag, credit, blacklist (mobile masked).
pub fn user(_: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Snap {
    let mobile = call.param("mobile");
    let conn = lease.get()?;
    let blacklisted = cashloan_persistence::site::is_blacklisted(conn, &mobile)?;
    let user = find_user_by_mobile(conn, &mobile)?;
    Ok(Some(match user {
        None => json!({
            "mobile": cashloan_domain::mask::mobile(&mobile),
            "blacklisted": blacklisted,
        }),
        Some(u) => json!({
            "userId": u.id,
            "mobile": cashloan_domain::mask::mobile(&mobile),
            "blacklisted": blacklisted,
            "disabled": u.disabled,
            "isRisk": u.is_risk,
            "totalCredit": u.total_credit.to_string(),
        }),
    }))
}

/// A payment order.
pub fn payment(_: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Snap {
    let Some(o) = find_order(lease.get()?, &call.param("id"))? else {
        return Ok(None);
    };
    Ok(Some(
        serde_json::to_value(OrderView::new(&o)).map_err(super::fault)?,
    ))
}

/// The business date.
pub fn business_date(st: &AppState, lease: &mut Lease<'_>, _: &AdminCall) -> Snap {
    let date = st.business_date(lease.get()?)?;
    Ok(Some(json!({"date": cashloan_domain::format_day(date)})))
}

/// An operator (no password hash, ever).
pub fn operator(_: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Snap {
    let found = cashloan_persistence::back_office::operators::find_by_name(
        lease.get()?,
        &call.param("name"),
    )?;
    Ok(found.map(|(o, _)| super::operators::view(&o)))
}

/// A proposal.
pub fn proposal(_: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Snap {
    let found =
        cashloan_persistence::back_office::proposals::find(lease.get()?, &call.param("id"))?;
    Ok(match found {
        None => None,
        Some(p) => Some(serde_json::to_value(ProposalView::new(&p)).map_err(super::fault)?),
    })
}

/// One recorded action as the API shows it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EventView {
    seq: i64,
    at: i64,
    operator: String,
    role: String,
    address: String,
    action: String,
    entity: String,
    entity_id: Option<String>,
    outcome: i32,
    before: Option<Value>,
    after: Option<Value>,
}

impl EventView {
    fn new(e: AuditEvent) -> EventView {
        let parse =
            |s: Option<String>| s.map(|s| serde_json::from_str(&s).unwrap_or(Value::String(s)));
        EventView {
            seq: e.seq,
            at: e.at,
            operator: e.operator,
            role: e.role,
            address: e.address,
            action: e.action,
            entity: e.entity,
            entity_id: e.entity_id,
            outcome: e.outcome,
            before: parse(e.before),
            after: parse(e.after),
        }
    }
}

/// An instant of the query: ms since the epoch, or a `YYYY-MM-DD` business day in the server's
/// time zone (`from` at its start, `to` at its end: both days included).
fn instant(st: &AppState, call: &AdminCall, name: &str, end: bool) -> Result<Option<i64>, Refusal> {
    let Some(v) = call.query(name).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if let Ok(ms) = v.parse::<i64>() {
        return Ok(Some(ms));
    }
    let day = cashloan_domain::parse_day(v)
        .ok_or_else(|| Refusal::BadRequest(format!("{name} must be YYYY-MM-DD or milliseconds")))?;
    Ok(Some(if end {
        // 23:59:59 of the day, and the last second too.
        st.end_of_day_ms(day) + 1000
    } else {
        day.pred_opt().map_or(0, |d| st.end_of_day_ms(d) + 1000)
    }))
}

/// `GET /admin/audit?operator=&entity=&entityId=&from=&to=&page=&size=`: newest first.
pub(super) fn list(st: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    let text = |k: &str| call.query(k).filter(|v| !v.is_empty()).map(str::to_owned);
    let filter = AuditFilter {
        operator: text("operator"),
        entity: text("entity"),
        entity_id: text("entityId"),
        from: instant(st, call, "from", false)?,
        to: instant(st, call, "to", true)?,
    };
    let page = call.number("page", 1, 1..=1_000_000)?;
    let size = call.number("size", 50, 1..=200)?;
    let (rows, total) = audit::list(
        lease.get()?,
        &filter,
        PageRequest {
            offset: (page - 1) * size,
            limit: size,
        },
    )?;
    ok(Page::new(
        page,
        size,
        total,
        rows.into_iter().map(EventView::new).collect(),
    ))
}
