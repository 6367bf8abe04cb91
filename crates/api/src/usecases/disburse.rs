//! Disburse (放款): an operator pays an approved loan out through the payment channel.

use cashloan_persistence::payment_orders::{
    find_order, open_payout, OpenPayout, OrderStatus, PaymentOrder, Settlement,
};
use cashloan_persistence::DbResult;
use chrono::NaiveDate;

use super::settlement::*;
use crate::channel::PaymentChannel;
use crate::context::Lease;

/// What became of a payout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PayoutOutcome {
    /// The money moved: the loan is paid out (status 4).
    PaidOut(PaymentOrder),
    /// The channel has not said yet; the application stays approved until it does.
    Processing(PaymentOrder),
    /// A payout of this loan is already open (or done): never a second one.
    InProgress(PaymentOrder),
    /// The channel refused; the application stays approved.
    Refused(PaymentOrder, String),
    /// The money moved but could not be applied as it was: flagged for operators.
    Flagged(PaymentOrder, String),
    /// No such application.
    NotFound,
    /// Not approved.
    WrongStatus(cashloan_domain::ApplyStatus),
    /// The borrower has no authenticated bank card.
    NoCard,
    /// The approved terms make no plan.
    NoPlan(String),
    /// The borrower was disabled or blacklisted since the approval: no money leaves.
    BorrowerBlocked(&'static str),
}

/// An operator's 放款: pays application `id` out at `today` (the plan's start), its plan within
/// `apr_cap`.
pub fn pay_out(
    channel: &dyn PaymentChannel,
    lease: &mut Lease<'_>,
    id: &str,
    today: NaiveDate,
    apr_cap: rust_decimal::Decimal,
) -> DbResult<PayoutOutcome> {
    let ready = match open_payout(lease.get()?, id, today, apr_cap, now_ms())? {
        OpenPayout::Opened(ready) => ready,
        OpenPayout::NotFound => return Ok(PayoutOutcome::NotFound),
        OpenPayout::WrongStatus(s) => return Ok(PayoutOutcome::WrongStatus(s)),
        OpenPayout::InProgress(order) => return Ok(PayoutOutcome::InProgress(order)),
        OpenPayout::NoCard => return Ok(PayoutOutcome::NoCard),
        OpenPayout::NoPlan(why) => return Ok(PayoutOutcome::NoPlan(why)),
        OpenPayout::BorrowerBlocked(why) => return Ok(PayoutOutcome::BorrowerBlocked(why)),
    };
    let (_, settled) = submit_and_settle(channel, lease, &ready)?;
    let order = find_order(lease.get()?, &ready.order.id)?.unwrap_or(ready.order);
    tracing::info!(order = %order.id, application = id, ?settled, "payout settled");
    Ok(match settled {
        Settlement::Succeeded { .. } | Settlement::AlreadySettled(OrderStatus::Succeeded) => {
            PayoutOutcome::PaidOut(order)
        }
        Settlement::Failed | Settlement::AlreadySettled(OrderStatus::Failed) => {
            let why = order.message.clone().unwrap_or_else(|| "refused".into());
            PayoutOutcome::Refused(order, why)
        }
        Settlement::Flagged(why) => PayoutOutcome::Flagged(order, why),
        Settlement::Unknown | Settlement::AlreadySettled(_) | Settlement::NotFound => {
            PayoutOutcome::Processing(order)
        }
    })
}
