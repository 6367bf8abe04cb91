//! Repay (§36 还款): one installment, or the whole loan (一次性还清).

use cashloan_domain::Money;
use cashloan_persistence::payment_orders::{
    open_charge, ChannelOutcome, OpenCharge, OrderStatus, Settlement,
};
use cashloan_persistence::DbResult;
use chrono::NaiveDate;

use super::settlement::*;
use crate::channel::PaymentChannel;
use crate::context::Lease;

/// What became of a repayment (§36).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RepayOutcome {
    /// The money moved and the installments are paid; whether the loan is now settled.
    Paid {
        /// Charged.
        amount: Money,
        /// The loan became 已还完.
        settled: bool,
    },
    /// The channel has not said yet (`20006005` 还款处理中); a charge of this loan is open.
    Processing,
    /// No such installment of this borrower (`20006003`).
    NotFound,
    /// Already paid, nothing left (`20006001`).
    AlreadyPaid,
    /// An earlier installment is unpaid (`20006004`).
    EarlierUnpaid,
    /// The channel refused, or there is no card to charge; nothing changed (`20006002`).
    Refused(String),
}

/// §36: charges installment `installment_id` of `user_id` (`payoff`: pays off its loan) at
/// `today`.
pub fn repay(
    channel: &dyn PaymentChannel,
    lease: &mut Lease<'_>,
    user_id: &str,
    installment_id: &str,
    payoff: bool,
    today: NaiveDate,
) -> DbResult<RepayOutcome> {
    let ready = match open_charge(
        lease.get()?,
        user_id,
        installment_id,
        payoff,
        today,
        now_ms(),
    )? {
        OpenCharge::Opened(ready) => ready,
        OpenCharge::NotFound => return Ok(RepayOutcome::NotFound),
        OpenCharge::AlreadyPaid => return Ok(RepayOutcome::AlreadyPaid),
        OpenCharge::EarlierUnpaid => return Ok(RepayOutcome::EarlierUnpaid),
        OpenCharge::NoCard => {
            return Ok(RepayOutcome::Refused("no authenticated bank card".into()))
        }
        OpenCharge::InProgress(_) => return Ok(RepayOutcome::Processing),
    };
    let amount = ready.order.amount();
    let (outcome, settled) = submit_and_settle(channel, lease, &ready)?;
    tracing::info!(order = %ready.order.id, user = user_id, %amount, ?settled, "charge settled");
    Ok(match settled {
        Settlement::Succeeded { loan_settled } => RepayOutcome::Paid {
            amount,
            settled: loan_settled,
        },
        Settlement::Failed => RepayOutcome::Refused(match outcome {
            ChannelOutcome::Failed { message } => message,
            _ => "refused".into(),
        }),
        // A notification or the reconciler got there first.
        Settlement::AlreadySettled(OrderStatus::Succeeded) => RepayOutcome::Paid {
            amount,
            settled: false,
        },
        Settlement::AlreadySettled(OrderStatus::Failed) => RepayOutcome::Refused("refused".into()),
        Settlement::Unknown
        | Settlement::Flagged(_)
        | Settlement::AlreadySettled(_)
        | Settlement::NotFound => RepayOutcome::Processing,
    })
}
