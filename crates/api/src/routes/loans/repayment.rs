//! Repay (§36 还款): one installment or the whole loan, through the repay use case.

use cashloan_protocol::ResponseCode as R;

use crate::context::{bad, ApiError, Ctx, Reply};
use crate::usecases::repay::{self, RepayOutcome};

/// §36 还款.
pub fn repay(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let f = &ctx.fields;
    let id = f.string("id")?;
    let kind = f.string("repayType")?;
    f.formats()?;
    let payoff = match kind {
        "current" => false,
        "all" => true,
        _ => return Err(bad("repayType")),
    };
    let user = ctx.user()?.clone();
    let today = ctx.today()?;
    let channel = ctx.state.providers.payments.as_ref();
    match repay::repay(channel, &mut ctx.conn, &user.id, id, payoff, today)? {
        RepayOutcome::Paid { amount, settled } => {
            tracing::info!(user = %user.id, installment = id, %amount, settled, payoff, "repaid");
            Reply::empty(R::Repaid)
        }
        RepayOutcome::Processing => {
            tracing::info!(user = %user.id, installment = id, payoff, "repayment awaits the channel");
            Err(R::RepaymentProcessing.into())
        }
        RepayOutcome::NotFound => Err(R::InstallmentNotFound.into()),
        RepayOutcome::AlreadyPaid => Err(R::AlreadyPaid.into()),
        RepayOutcome::EarlierUnpaid => Err(R::EarlierInstallmentUnpaid.into()),
        RepayOutcome::Refused(reason) => {
            tracing::warn!(user = %user.id, installment = id, %reason, "payment channel refused");
            Err(R::PaymentFailed.into())
        }
    }
}
