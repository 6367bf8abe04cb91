//! Collection (贷后/催收) as operators work it: the overdue queue by bucket (M1 1–30 days, M2
//! 31–60, M3 61–90, M3+ over 90), loans assigned to collectors one by one or evenly, and notes
//! of each contact with promises to pay. A collector sees only the loans assigned to them. A loan
//! whose borrower promised to pay leaves the queue until the promised day has passed; then it
//! shows again, marked as a broken promise.

use cashloan_domain::{format_day, Money};
use cashloan_persistence::back_office::collection::{
    self, Bucket, CollectionNote, OverdueLoan, METHODS,
};
use cashloan_persistence::back_office::{operators, Role};
use cashloan_persistence::loans::find_application;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::applications::Page;
use super::{business_date, date, money, ok, AdminCall, Answer, Refusal};
use crate::context::{AppState, Lease};
use cashloan_domain::ApplyStatus;

/// A loan of the queue as operators see it (mobile masked).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct QueueRow {
    application_id: String,
    loan_code: String,
    mobile: String,
    first_due: String,
    days_overdue: i64,
    bucket: &'static str,
    installments: i64,
    overdue_amount: Option<String>,
    collector: Option<String>,
    promise_date: Option<String>,
    /// The promised day has passed and the loan is still overdue.
    promise_broken: bool,
}

impl QueueRow {
    fn new(l: &OverdueLoan, today: NaiveDate) -> QueueRow {
        QueueRow {
            application_id: l.application_id.clone(),
            loan_code: l.loan_code.clone(),
            mobile: cashloan_domain::mask::mobile(&l.mobile),
            first_due: format_day(l.first_due),
            days_overdue: l.days_overdue,
            bucket: l.bucket.as_str(),
            installments: l.installments,
            overdue_amount: money(Some(l.overdue_amount)),
            collector: l.collector.clone(),
            promise_date: l.promise_date.map(format_day),
            promise_broken: l.promise_date.is_some_and(|d| d < today),
        }
    }
}

/// Whether a loan waits on a promise not yet due (it leaves the queue until then).
fn promised(l: &OverdueLoan, today: NaiveDate) -> bool {
    l.promise_date.is_some_and(|d| d >= today)
}

/// The loans `call` may see: a collector only their own.
fn visible(call: &AdminCall, loans: Vec<OverdueLoan>) -> Vec<OverdueLoan> {
    if call.actor.role != Role::Collector {
        return loans;
    }
    loans
        .into_iter()
        .filter(|l| l.collector.as_deref() == Some(call.actor.name.as_str()))
        .collect()
}

/// `GET /admin/collection?bucket=&collector=&promised=all&page=&size=`: overdue loans, most
/// overdue first, with each bucket's count and amount.
pub(super) fn queue(st: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    let today = business_date(st, lease)?;
    let bucket = match call.query("bucket").filter(|b| !b.is_empty()) {
        None => None,
        Some(b) => Some(
            Bucket::parse(b)
                .ok_or_else(|| Refusal::BadRequest("bucket must be M1, M2, M3 or M3+".into()))?,
        ),
    };
    let show_promised = call.query("promised") == Some("all");
    let collector = call.query("collector").filter(|c| !c.is_empty());
    let loans = visible(call, collection::overdue_loans(lease.get()?, today)?);
    let loans: Vec<OverdueLoan> = loans
        .into_iter()
        .filter(|l| show_promised || !promised(l, today))
        .filter(|l| match collector {
            None => true,
            Some("none") => l.collector.is_none(),
            Some(c) => l.collector.as_deref() == Some(c),
        })
        .collect();
    let buckets: Vec<_> = Bucket::ALL
        .iter()
        .map(|b| {
            let of: Vec<&OverdueLoan> = loans.iter().filter(|l| l.bucket == *b).collect();
            json!({
                "bucket": b.as_str(),
                "loans": of.len(),
                "amount": of.iter().map(|l| l.overdue_amount).sum::<Money>().to_string(),
            })
        })
        .collect();
    let shown: Vec<&OverdueLoan> = loans
        .iter()
        .filter(|l| bucket.is_none_or(|b| l.bucket == b))
        .collect();
    let page = call.number("page", 1, 1..=1_000_000)?;
    let size = call.number("size", 50, 1..=200)?;
    let total = i64::try_from(shown.len()).unwrap_or(i64::MAX);
    let items: Vec<QueueRow> = shown
        .iter()
        .skip(usize::try_from((page - 1) * size).unwrap_or(usize::MAX))
        .take(usize::try_from(size).unwrap_or(0))
        .map(|l| QueueRow::new(l, today))
        .collect();
    let mut answer =
        serde_json::to_value(Page::new(page, size, total, items)).map_err(super::fault)?;
    answer["buckets"] = json!(buckets);
    answer["businessDate"] = json!(format_day(today));
    ok(answer)
}

/// The body of an assignment: one loan to one collector, or a bucket's unassigned loans evenly.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssignBody {
    /// One loan (with `collector`).
    application_id: Option<String>,
    /// The collector of that loan.
    collector: Option<String>,
    /// Every unassigned loan of this bucket (with `collectors`).
    bucket: Option<String>,
    /// The collectors to share them among, in turn.
    collectors: Option<Vec<String>>,
}

/// The operator id of collector `name`, who must be an enabled collector.
fn collector_id(lease: &mut Lease<'_>, name: &str) -> Result<String, Refusal> {
    match operators::find_by_name(lease.get()?, name)? {
        Some((o, _)) if o.role == Role::Collector && !o.disabled => Ok(o.id),
        Some(_) => Err(Refusal::Unprocessable(format!(
            "{name} is not an enabled collector"
        ))),
        None => Err(Refusal::Unprocessable(format!("no operator named {name}"))),
    }
}

/// `POST /admin/collection/assign`.
pub(super) fn assign(st: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    let b: AssignBody = call.body()?;
    let now = st.now_ms();
    let mut assigned = Vec::new();
    match (b.application_id, b.collector, b.bucket, b.collectors) {
        (Some(id), Some(name), None, None) => {
            let a = find_application(lease.get()?, &id)?
                .ok_or_else(|| Refusal::NotFound("no such application".into()))?;
            if a.status != ApplyStatus::Disbursed {
                return Err(Refusal::Conflict(
                    "only a paid-out loan is collected".into(),
                ));
            }
            let cid = collector_id(lease, &name)?;
            collection::assign(lease.get()?, &id, &cid, &call.actor.name, now)?;
            assigned.push(json!({"applicationId": id, "collector": name}));
        }
        (None, None, Some(bucket), Some(names)) if !names.is_empty() => {
            let bucket = Bucket::parse(&bucket)
                .ok_or_else(|| Refusal::Unprocessable("bucket must be M1, M2, M3 or M3+".into()))?;
            let ids = names
                .iter()
                .map(|n| collector_id(lease, n).map(|id| (n.clone(), id)))
                .collect::<Result<Vec<_>, _>>()?;
            let today = business_date(st, lease)?;
            let loans = collection::overdue_loans(lease.get()?, today)?;
            let unassigned = loans
                .iter()
                .filter(|l| l.bucket == bucket && l.collector.is_none());
            for (l, (name, cid)) in unassigned.zip(ids.iter().cycle()) {
                collection::assign(lease.get()?, &l.application_id, cid, &call.actor.name, now)?;
                assigned.push(json!({"applicationId": l.application_id, "collector": name}));
            }
        }
        _ => {
            return Err(Refusal::Unprocessable(
                "give applicationId and collector, or bucket and collectors".into(),
            ))
        }
    }
    ok(json!({ "assigned": assigned }))
}

/// Refuses a collector a loan that is not theirs (404, as if it were not there).
pub(super) fn own_loan(lease: &mut Lease<'_>, call: &AdminCall, id: &str) -> Result<(), Refusal> {
    if call.actor.role != Role::Collector {
        return Ok(());
    }
    let mine = call.actor.operator_id.as_deref();
    if mine.is_some() && collection::assignee(lease.get()?, id)?.as_deref() == mine {
        Ok(())
    } else {
        Err(Refusal::NotFound("no such loan in your queue".into()))
    }
}

/// A note as the API shows it.
fn note_view(n: &CollectionNote) -> serde_json::Value {
    json!({
        "id": n.id,
        "operator": n.operator,
        "method": n.method,
        "result": n.result,
        "promiseDate": n.promise_date,
        "promiseAmount": money(n.promise_amount),
        "at": n.at,
    })
}

/// `GET /admin/applications/{id}/notes`.
pub(super) fn notes(_: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    let id = call.param("id");
    own_loan(lease, call, &id)?;
    let items: Vec<_> = collection::notes(lease.get()?, &id)?
        .iter()
        .map(note_view)
        .collect();
    ok(json!({ "items": items }))
}

/// The body of a collection note.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NoteBody {
    /// `phone`, `sms`, `visit` or `other`.
    method: String,
    /// What came of it (1 to 500 characters).
    result: String,
    /// The day the borrower promised to pay (`YYYY-MM-DD`, not before the business date).
    promise_date: Option<String>,
    /// How much they promised (`"500.00"`).
    promise_amount: Option<String>,
}

/// `POST /admin/applications/{id}/notes`: 201 with the note.
pub(super) fn add_note(st: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    let id = call.param("id");
    let b: NoteBody = call.body()?;
    own_loan(lease, call, &id)?;
    let a = find_application(lease.get()?, &id)?
        .ok_or_else(|| Refusal::NotFound("no such application".into()))?;
    if !ApplyStatus::PAID_OUT.contains(&a.status) {
        return Err(Refusal::Conflict(
            "only a paid-out loan has collection notes".into(),
        ));
    }
    if !METHODS.contains(&b.method.as_str()) {
        return Err(Refusal::Unprocessable(
            "method must be phone, sms, visit or other".into(),
        ));
    }
    let result = b.result.trim().to_owned();
    if result.is_empty() || result.chars().count() > 500 {
        return Err(Refusal::Unprocessable(
            "result must be 1 to 500 characters".into(),
        ));
    }
    let today = business_date(st, lease)?;
    let promise_date = b
        .promise_date
        .as_deref()
        .filter(|d| !d.is_empty())
        .map(date)
        .transpose()?;
    if promise_date.is_some_and(|d| d < today) {
        return Err(Refusal::Unprocessable(
            "promiseDate must not be before the business date".into(),
        ));
    }
    let promise_amount = b
        .promise_amount
        .as_deref()
        .filter(|a| !a.is_empty())
        .map(|a| {
            Money::parse_amount(a)
                .filter(|m| !m.is_zero())
                .ok_or_else(|| Refusal::Unprocessable("promiseAmount is not an amount".into()))
        })
        .transpose()?;
    let note = CollectionNote {
        id: cashloan_persistence::accounts::new_id(),
        application_id: id,
        operator: call.actor.name.clone(),
        method: b.method,
        result,
        promise_date: promise_date.map(format_day),
        promise_amount,
        at: st.now_ms(),
    };
    collection::add_note(lease.get()?, &note)?;
    super::with_status(actix_web::http::StatusCode::CREATED, note_view(&note))
}
