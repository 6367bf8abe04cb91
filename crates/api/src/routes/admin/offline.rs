//! Offline repayments (线下还款): money a borrower paid outside the payment channel (a transfer to
//! the lender's account, cash at a branch), recorded by finance and confirmed by a second
//! finance operator. It pays what a channel payment on that date would pay, allocated the same
//! way (penalty, fee, interest, principal of each installment): the earliest unpaid installment
//! in full, or (`repayType` `all`) the whole loan as a payoff. An amount that is not exactly
//! that is refused with the amount owed; a bank flow number is recorded once.

use cashloan_domain::Money;
use cashloan_persistence::back_office::{proposals, ProposedReceipt};
use cashloan_persistence::loans::find_application;
use cashloan_persistence::payment_orders::{
    offline_owed, open_offline, settle, ChannelOutcome, OfflineOwed, OpenOffline, OrderLine,
    SettledBy, Settlement,
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::payments::OrderView;
use super::proposals::{ProposalAnswer, ProposalView};
use super::{business_date, date, fault, money, ok, with_status, AdminCall, Answer, Refusal};
use crate::context::{AppState, Lease};
use actix_web::http::StatusCode;

/// The body recording an offline repayment.
#[derive(Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OfflineRepaymentBody {
    /// The amount received (`"1015.00"`): exactly what the loan owes for it on `date`.
    amount: String,
    /// The day it was received, `YYYY-MM-DD` (default: the business date); not after it, not
    /// before the payout.
    date: Option<String>,
    /// The bank's or the counter's flow number (流水号), 1 to 64 characters, recorded once.
    flow_no: String,
    /// A remark (at most 500 characters).
    remark: Option<String>,
    /// `current` (the earliest unpaid installment, the default) or `all` (the whole loan).
    repay_type: Option<String>,
}

/// An offline repayment, checked.
struct Receipt {
    amount: Money,
    date: NaiveDate,
    flow_no: String,
    remark: String,
    payoff: bool,
}

/// Whether the repayment type is a payoff.
fn payoff_of(repay_type: Option<&str>) -> Result<bool, Refusal> {
    match repay_type.unwrap_or("current") {
        "current" => Ok(false),
        "all" => Ok(true),
        _ => Err(Refusal::Unprocessable(
            "repayType must be current or all".into(),
        )),
    }
}

/// The day of a repayment: given or the business date, not after it, not before the payout.
fn receipt_date(
    st: &AppState,
    lease: &mut Lease<'_>,
    id: &str,
    given: Option<&str>,
) -> Result<NaiveDate, Refusal> {
    let today = business_date(st, lease)?;
    let day = given
        .filter(|d| !d.is_empty())
        .map(date)
        .transpose()?
        .unwrap_or(today);
    if day > today {
        return Err(Refusal::Unprocessable(format!(
            "date must not be after the business date {}",
            cashloan_domain::format_day(today)
        )));
    }
    let a = find_application(lease.get()?, id)?
        .ok_or_else(|| Refusal::NotFound("no such application".into()))?;
    if a.release_date.is_some_and(|r| day < r) {
        return Err(Refusal::Unprocessable(
            "date must not be before the loan was paid out".into(),
        ));
    }
    Ok(day)
}

fn checked(st: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Result<Receipt, Refusal> {
    let b: OfflineRepaymentBody = call.body()?;
    let amount = Money::parse_amount(&b.amount)
        .filter(|m| !m.is_zero())
        .ok_or_else(|| Refusal::Unprocessable("amount is not an amount".into()))?;
    let flow_no = b.flow_no.trim().to_owned();
    if flow_no.is_empty() || flow_no.chars().count() > 64 {
        return Err(Refusal::Unprocessable(
            "flowNo must be 1 to 64 characters".into(),
        ));
    }
    let remark = b.remark.unwrap_or_default().trim().to_owned();
    if remark.chars().count() > 500 {
        return Err(Refusal::Unprocessable(
            "remark must be at most 500 characters".into(),
        ));
    }
    let payoff = payoff_of(b.repay_type.as_deref())?;
    let day = receipt_date(st, lease, &call.param("id"), b.date.as_deref())?;
    Ok(Receipt {
        amount,
        date: day,
        flow_no,
        remark,
        payoff,
    })
}

/// One installment's part of a repayment.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LineView {
    installment_id: String,
    principal: Option<String>,
    interest: Option<String>,
    fee: Option<String>,
    penalty: Option<String>,
    prepaid: bool,
}

fn lines_view(lines: &[OrderLine]) -> Vec<LineView> {
    lines
        .iter()
        .map(|l| LineView {
            installment_id: l.installment_id.clone(),
            principal: money(Some(l.principal)),
            interest: money(Some(l.interest)),
            fee: money(Some(l.fee)),
            penalty: money(Some(l.penalty)),
            prepaid: l.prepaid,
        })
        .collect()
}

/// What the loan owes at `day`, and how it would be allocated.
fn owed(
    lease: &mut Lease<'_>,
    id: &str,
    payoff: bool,
    day: NaiveDate,
) -> Result<(Money, Vec<OrderLine>), Refusal> {
    match offline_owed(lease.get()?, id, payoff, day)? {
        OfflineOwed::Owed(amount, lines) => Ok((amount, lines)),
        OfflineOwed::NotFound => Err(Refusal::NotFound(
            "no such loan paid out (repayments are for paid-out loans)".into(),
        )),
        OfflineOwed::AlreadyPaid => Err(Refusal::Conflict("the loan is paid in full".into())),
    }
}

/// `GET /admin/applications/{id}/offline-repayments/quote?repayType=&date=`: what the loan owes
/// for an offline repayment on that day, and how it would be allocated.
pub(super) fn quote(st: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    let id = call.param("id");
    let payoff = payoff_of(call.query("repayType").filter(|t| !t.is_empty()))?;
    let day = receipt_date(st, lease, &id, call.query("date"))?;
    let (amount, lines) = owed(lease, &id, payoff, day)?;
    ok(json!({
        "amount": amount.to_string(),
        "date": cashloan_domain::format_day(day),
        "repayType": if payoff { "all" } else { "current" },
        "lines": lines_view(&lines),
    }))
}

/// `POST /admin/applications/{id}/offline-repayments`: proposes recording the repayment (202);
/// 422 when the amount is not what the loan owes for it on that day (the answer says what it
/// owes), 409 when the flow number is recorded already or one is pending for the loan.
pub(super) fn propose(st: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    let id = call.param("id");
    let r = checked(st, lease, call)?;
    let (amount, lines) = owed(lease, &id, r.payoff, r.date)?;
    if amount != r.amount {
        return Err(Refusal::Unprocessable(format!(
            "the loan owes {amount} for this repayment on {}, not {}",
            cashloan_domain::format_day(r.date),
            r.amount
        )));
    }
    let payload = json!({
        "amount": r.amount.to_string(),
        "date": cashloan_domain::format_day(r.date),
        "flowNo": r.flow_no,
        "remark": r.remark,
        "repayType": if r.payoff { "all" } else { "current" },
        "lines": lines_view(&lines),
    });
    let stored = proposals::propose_receipt(
        lease.get()?,
        &id,
        &r.flow_no,
        &payload.to_string(),
        &call.actor.name,
        st.now_ms(),
    )?;
    match stored {
        ProposedReceipt::Stored(p) => with_status(
            StatusCode::ACCEPTED,
            ProposalAnswer {
                proposal: ProposalView::new(&p),
            },
        ),
        ProposedReceipt::AlreadyOpen(p) => Err(Refusal::Conflict(format!(
            "an offline repayment of this loan is already proposed by {} (proposal {}): confirm or cancel it",
            p.proposed_by, p.id
        ))),
        ProposedReceipt::FlowTaken => Err(Refusal::Conflict(format!(
            "flow number {} is recorded already",
            r.flow_no
        ))),
    }
}

/// Carries out a confirmed offline repayment: the order for exactly the amount received, opened
/// under the loan's lock only if the loan still owes exactly that, and settled at once by the
/// operator (there is no channel to ask).
pub(super) fn apply(st: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    let id = call.param("id");
    let b: OfflineRepaymentBody = call.body()?;
    let amount = Money::parse_amount(&b.amount).ok_or_else(|| {
        fault(format!(
            "offline repayment of {id}: stored amount {}",
            b.amount
        ))
    })?;
    let day = b
        .date
        .as_deref()
        .and_then(cashloan_domain::parse_day)
        .ok_or_else(|| fault(format!("offline repayment of {id}: stored date")))?;
    let payoff = payoff_of(b.repay_type.as_deref())?;
    let conn = lease.get()?;
    let order = match open_offline(conn, &id, payoff, amount, day, st.now_ms())? {
        OpenOffline::Opened(order) => order,
        OpenOffline::NotFound => return Err(Refusal::NotFound("no such loan paid out".into())),
        OpenOffline::AlreadyPaid => {
            return Err(Refusal::Conflict(
                "the loan was paid in full since the proposal: nothing recorded".into(),
            ))
        }
        OpenOffline::AmountDiffers(now_owed) => {
            return Err(Refusal::Conflict(format!(
                "the loan owes {now_owed} now, not {amount} (paid or changed since the proposal): nothing recorded"
            )))
        }
        OpenOffline::InProgress(open) => {
            return Err(Refusal::Conflict(format!(
                "a repayment of this loan is in progress (payment order {}): nothing recorded; propose again once it is settled",
                open.id
            )))
        }
    };
    let outcome = ChannelOutcome::Succeeded {
        channel_ref: Some(format!("offline:{}", b.flow_no.trim())),
        amount: Some(amount),
    };
    let settled = settle(conn, &order.id, &outcome, SettledBy::Operator, st.now_ms())?;
    let loan_settled = match settled {
        Settlement::Succeeded { loan_settled } => loan_settled,
        other => {
            return Err(fault(format!(
                "offline repayment order {} did not settle: {other:?}",
                order.id
            )))
        }
    };
    tracing::info!(order = %order.id, application = %id, %amount, "offline repayment recorded");
    let order = cashloan_persistence::payment_orders::find_order(conn, &order.id)?
        .ok_or_else(|| fault(format!("order {} vanished", order.id)))?;
    ok(json!({
        "payment": OrderView::new(&order),
        "loanSettled": loan_settled,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_type_is_current_or_all() {
        assert!(!payoff_of(None).unwrap());
        assert!(!payoff_of(Some("current")).unwrap());
        assert!(payoff_of(Some("all")).unwrap());
        assert!(payoff_of(Some("half")).is_err());
    }
}
