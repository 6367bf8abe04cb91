//! Settling an order with the channel's (or an operator's) word: one transaction guarded on the
//! order still being open, applying exactly the amounts the order was opened with.

use cashloan_domain::message::text;
use cashloan_domain::{Charge, LoanAction, MessageType};
use diesel::prelude::*;

use crate::cached::cached;
use crate::columns::typed::ToText;
use crate::db::{write_transaction, Abort, DbConnection, DbResult};
use crate::loans::{
    add_customer_message, enters, find_application, insert_payment, leaves, notify,
    CustomerMessage, InstallmentRow, LedgerEntry, PAID, UNPAID,
};
use crate::schema::{applications, installments, payment_orders};

use super::*;

pub(super) type SettleAbort = Abort<Settlement>;

/// Settles order `id` with the channel's word, in one transaction guarded on the order still
/// being open: a duplicate or late word changes nothing.
pub fn settle(
    conn: &mut DbConnection,
    id: &str,
    outcome: &ChannelOutcome,
    by: SettledBy,
    now: i64,
) -> DbResult<Settlement> {
    let result = write_transaction(conn, |conn| -> Result<Settlement, SettleAbort> {
        let Some(order) = find_order(conn, id)? else {
            return Ok(Settlement::NotFound);
        };
        if !order.status.is_open() {
            return Ok(Settlement::AlreadySettled(order.status));
        }
        // Under the lock, the order as the last settlement left it.
        let order = if lock_loan(conn, &order.application_id)? {
            find_order(conn, id)?.ok_or(Abort::Answer(Settlement::NotFound))?
        } else {
            order
        };
        let was = order.status;
        if !was.is_open() {
            return Ok(Settlement::AlreadySettled(was));
        }
        match outcome {
            ChannelOutcome::Unknown { message } => {
                close(
                    conn,
                    id,
                    OrderStatus::Unknown,
                    None,
                    Some(message),
                    None,
                    None,
                    now,
                )?;
                Ok(Settlement::Unknown)
            }
            ChannelOutcome::Failed { message } => {
                close(
                    conn,
                    id,
                    OrderStatus::Failed,
                    None,
                    Some(message),
                    None,
                    Some(by),
                    now,
                )?;
                if was == OrderStatus::Unknown && order.kind != OrderKind::Payout {
                    // The borrower was told 还款处理中; now they learn it did not go through.
                    let app = find_application(conn, &order.application_id)?
                        .ok_or(Abort::Answer(Settlement::NotFound))?;
                    add_customer_message(
                        conn,
                        &CustomerMessage::new(
                            &app.user_id,
                            MessageType::Other,
                            format!(
                                "您的还款{}元(借款{})未能扣款成功,未产生任何费用,请重新还款。",
                                order.amount(),
                                app.loan_code
                            ),
                            Some(format!("payment-failed:{id}")),
                            now,
                        ),
                    )?;
                }
                Ok(Settlement::Failed)
            }
            ChannelOutcome::Succeeded {
                channel_ref,
                amount,
            } => {
                let channel_ref = channel_ref.as_deref();
                if let Some(moved) = amount.filter(|a| *a != order.amount()) {
                    // Never apply an amount the channel disagrees with: operators decide.
                    let why = format!(
                        "the channel reports {moved}, the order is {}",
                        order.amount()
                    );
                    close(
                        conn,
                        id,
                        OrderStatus::Succeeded,
                        channel_ref,
                        None,
                        Some(&why),
                        Some(by),
                        now,
                    )?;
                    return Ok(Settlement::Flagged(why));
                }
                close(
                    conn,
                    id,
                    OrderStatus::Succeeded,
                    channel_ref,
                    None,
                    None,
                    Some(by),
                    now,
                )?;
                match order.kind {
                    OrderKind::Payout => apply_payout(conn, &order, channel_ref, now),
                    _ => apply_charge(conn, &order, channel_ref, now),
                }
            }
        }
    });
    match result {
        Ok(s) => Ok(s),
        Err(Abort::Answer(Settlement::Flagged(why))) => {
            // Applying it rolled back; record the money alone, for operators.
            let channel_ref = match outcome {
                ChannelOutcome::Succeeded { channel_ref, .. } => channel_ref.as_deref(),
                _ => None,
            };
            settle_flagged(conn, id, channel_ref, &why, by, now)?;
            tracing::error!(order = id, %why, "payment moved but not applied: flagged for operators");
            Ok(Settlement::Flagged(why))
        }
        Err(Abort::Answer(s)) => Ok(s),
        Err(Abort::Db(e)) => Err(e),
    }
}

/// Moves an open order to `status`, guarded on it being open; fails the transaction when it is
/// not (someone settled it in between).
#[allow(clippy::too_many_arguments)]
pub(super) fn close(
    conn: &mut DbConnection,
    id: &str,
    status: OrderStatus,
    channel_ref: Option<&str>,
    message: Option<&str>,
    flag: Option<&str>,
    by: Option<SettledBy>,
    now: i64,
) -> Result<(), SettleAbort> {
    let settled = status != OrderStatus::Unknown;
    let n = cached(
        diesel::update(
            payment_orders::table
                .find(id)
                .filter(payment_orders::status.eq_any(OPEN)),
        )
        .set((
            payment_orders::status.eq(status.as_str()),
            payment_orders::channel_ref.eq(channel_ref),
            payment_orders::message.eq(message),
            payment_orders::flag.eq(flag),
            payment_orders::settled_by.eq(by.map(SettledBy::as_str)),
            payment_orders::settled_at.eq(settled.then_some(now)),
            payment_orders::updated_at.eq(now),
        )),
    )
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        let now_status = find_order(conn, id)?.map_or(OrderStatus::Failed, |o| o.status);
        Err(Abort::Answer(Settlement::AlreadySettled(now_status)))
    }
}

pub(super) fn flag(conn: &mut DbConnection, id: &str, why: &str, now: i64) -> DbResult<()> {
    cached(diesel::update(payment_orders::table.find(id)).set((
        payment_orders::flag.eq(why),
        payment_orders::updated_at.eq(now),
    )))
    .execute(conn)?;
    Ok(())
}

/// The payout moved: 2 → 4, the installments from the order's date, the ledger, message 14.
pub(super) fn apply_payout(
    conn: &mut DbConnection,
    order: &PaymentOrder,
    channel_ref: Option<&str>,
    now: i64,
) -> Result<Settlement, SettleAbort> {
    let release_date = order.business_date;
    let release = cashloan_domain::format_day(release_date);
    let n = cached(
        diesel::update(
            applications::table
                .find(&order.application_id)
                .filter(applications::status.eq(leaves(LoanAction::Disburse))),
        )
        .set((
            applications::status.eq(enters(LoanAction::Disburse)),
            applications::disbursed_at.eq(now),
            applications::release_date.eq(ToText::from(release_date)),
            applications::updated_at.eq(now),
        )),
    )
    .execute(conn)?;
    let app = find_application(conn, &order.application_id)?
        .ok_or(Abort::Answer(Settlement::NotFound))?;
    let rounding = order.rounding.unwrap_or_default();
    let plan = if n == 1 {
        app.plan(release_date, rounding).ok()
    } else {
        None
    };
    let Some(plan) = plan.filter(|p| p.total_principal() == order.amount()) else {
        let why =
            "the payout moved but the application could not take it (status or terms changed)";
        flag(conn, &order.id, why, now)?;
        return Ok(Settlement::Flagged(why.to_owned()));
    };
    for i in &plan.installments {
        diesel::insert_into(installments::table)
            .values(InstallmentRow::new(&app, i))
            .execute(conn)?;
    }
    insert_payment(
        conn,
        &LedgerEntry {
            payment_ref: &order.id,
            application_id: &app.id,
            installment_id: None,
            user_id: &app.user_id,
            kind: "disbursement",
            charge: Charge {
                principal: order.amount(),
                ..Charge::default()
            },
            channel_ref,
            business_date: &release,
            now,
        },
    )?;
    let first_due = plan
        .installments
        .first()
        .map_or(release_date, |i| i.due_date);
    notify(
        conn,
        &app,
        MessageType::Disbursed,
        text::disbursed(&app.loan_code, order.amount(), first_due),
        &app.id,
        now,
    )?;
    Ok(Settlement::Succeeded {
        loan_settled: false,
    })
}

/// The charge moved: its installments paid with the amounts of its lines, the ledger, message
/// 16, and the loan settled when nothing is left.
pub(super) fn apply_charge(
    conn: &mut DbConnection,
    order: &PaymentOrder,
    channel_ref: Option<&str>,
    now: i64,
) -> Result<Settlement, SettleAbort> {
    let kind = order.kind;
    let paid_on_date = order.business_date;
    let paid_on = cashloan_domain::format_day(paid_on_date);
    let lines = order_lines(conn, &order.id)?;
    let settled_by = if kind == OrderKind::Payoff {
        "payoff"
    } else {
        "current"
    };
    for l in &lines {
        let c = l.charge();
        let n = cached(
            diesel::update(
                installments::table
                    .find(&l.installment_id)
                    .filter(installments::status.eq(UNPAID)),
            )
            .set((
                installments::status.eq(PAID),
                installments::penalty_cents.eq(Cents::from(c.penalty)),
                installments::penalty_date.eq(ToText::from(paid_on_date)),
                installments::charged_principal_cents.eq(Cents::from(c.principal)),
                installments::charged_interest_cents.eq(Cents::from(c.interest)),
                installments::charged_fee_cents.eq(Cents::from(c.fee)),
                installments::charged_penalty_cents.eq(Cents::from(c.penalty)),
                installments::settled_by.eq(settled_by),
                installments::prepaid.eq(l.prepaid),
                installments::paid_on.eq(ToText::from(paid_on_date)),
                installments::paid_at.eq(now),
            )),
        )
        .execute(conn)?;
        if n != 1 {
            // Only one charge of a loan is ever open, so this is an operator's hand (or a bug):
            // the money moved and must be looked at, not applied twice.
            return Err(Abort::Answer(Settlement::Flagged(format!(
                "installment {} was already paid",
                l.installment_id
            ))));
        }
    }
    let ledger_kind = if kind == OrderKind::Payoff {
        "payoff"
    } else {
        "repayment"
    };
    for l in &lines {
        insert_payment(
            conn,
            &LedgerEntry {
                payment_ref: &order.id,
                application_id: &order.application_id,
                installment_id: Some(&l.installment_id),
                user_id: &order.user_id,
                kind: ledger_kind,
                charge: l.charge(),
                channel_ref,
                business_date: &paid_on,
                now,
            },
        )?;
    }
    let app = find_application(conn, &order.application_id)?
        .ok_or(Abort::Answer(Settlement::NotFound))?;
    let left: i64 = installments::table
        .filter(installments::application_id.eq(&app.id))
        .filter(installments::status.eq(UNPAID))
        .count()
        .get_result(conn)?;
    let loan_settled = left == 0;
    if loan_settled {
        cached(
            diesel::update(
                applications::table
                    .find(&app.id)
                    .filter(applications::status.eq(leaves(LoanAction::Settle))),
            )
            .set((
                applications::status.eq(enters(LoanAction::Settle)),
                applications::settled_at.eq(now),
                applications::updated_at.eq(now),
            )),
        )
        .execute(conn)?;
    }
    notify(
        conn,
        &app,
        MessageType::Repaid,
        text::repaid(&app.loan_code, order.amount(), loan_settled),
        &order.id,
        now,
    )?;
    Ok(Settlement::Succeeded { loan_settled })
}

/// Settles `id` as succeeded but flags it when its installments were paid otherwise meanwhile:
/// the transaction that tried to apply it rolled back, so this one records the money alone.
pub(super) fn settle_flagged(
    conn: &mut DbConnection,
    id: &str,
    channel_ref: Option<&str>,
    why: &str,
    by: SettledBy,
    now: i64,
) -> DbResult<bool> {
    let n = cached(
        diesel::update(
            payment_orders::table
                .find(id)
                .filter(payment_orders::status.eq_any(OPEN)),
        )
        .set((
            payment_orders::status.eq(OrderStatus::Succeeded.as_str()),
            payment_orders::channel_ref.eq(channel_ref),
            payment_orders::flag.eq(why),
            payment_orders::settled_by.eq(by.as_str()),
            payment_orders::settled_at.eq(now),
            payment_orders::updated_at.eq(now),
        )),
    )
    .execute(conn)?;
    Ok(n == 1)
}
