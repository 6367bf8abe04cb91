//! Opening orders: a charge (§36), an auto-debit, a payout. Each is one transaction under the
//! loan's row lock, committed before the channel is called.

use cashloan_domain::{
    installment_due, payable_in_order, payoff, ApplyStatus, Charge, Installment, LoanAction, Money,
};
use chrono::NaiveDate;
use diesel::prelude::*;
use rust_decimal::Decimal;

use crate::accounts::new_id;
use crate::columns::typed::{MaybeToText, ToText};
use crate::db::{inserted, write_transaction, Abort, DbConnection, DbResult};
use crate::loans::{
    earliest_unpaid_period, find_application, status_is, Application, InstallmentRow, UNPAID,
};
use crate::schema::{applications, installments, payment_order_lines, payment_orders, users};
use crate::site::is_blacklisted;

use super::*;

/// Writes `order` and its `lines`; `None` when the loan already has an open order of the same
/// family (the unique indexes decide, so two racing requests cannot both write one).
pub(super) fn insert_order(
    conn: &mut DbConnection,
    order: &PaymentOrder,
    lines: &[OrderLine],
) -> DbResult<bool> {
    let written = inserted(
        diesel::insert_into(payment_orders::table)
            .values((
                payment_orders::id.eq(&order.id),
                payment_orders::kind.eq(ToText::from(order.kind)),
                payment_orders::application_id.eq(&order.application_id),
                payment_orders::user_id.eq(&order.user_id),
                payment_orders::amount_cents.eq(Cents::from(order.amount)),
                payment_orders::business_date.eq(ToText::from(order.business_date)),
                payment_orders::rounding.eq(MaybeToText::from(order.rounding)),
                payment_orders::status.eq(ToText::from(order.status)),
                payment_orders::created_at.eq(order.created_at),
                payment_orders::updated_at.eq(order.updated_at),
            ))
            .execute(conn),
    )?;
    if written {
        // One statement per row: MultiConnection has no multi-row insert for SQLite.
        for line in lines {
            diesel::insert_into(payment_order_lines::table)
                .values(line.clone())
                .execute(conn)?;
        }
    }
    Ok(written)
}

pub(super) fn new_order(
    kind: OrderKind,
    app: &Application,
    amount: Money,
    date: NaiveDate,
    now: i64,
) -> PaymentOrder {
    PaymentOrder {
        id: new_id(),
        kind,
        application_id: app.id.clone(),
        user_id: app.user_id.clone(),
        amount,
        business_date: date,
        rounding: None,
        status: OrderStatus::Pending,
        channel_ref: None,
        message: None,
        flag: None,
        settled_by: None,
        created_at: now,
        updated_at: now,
        settled_at: None,
    }
}

pub(super) fn line(order_id: &str, installment_id: &str, c: &Charge, prepaid: bool) -> OrderLine {
    OrderLine {
        order_id: order_id.to_owned(),
        installment_id: installment_id.to_owned(),
        principal: c.principal,
        interest: c.interest,
        fee: c.fee,
        penalty: c.penalty,
        prepaid,
    }
}

/// A unique index refused our order: another request opened one first. On PostgreSQL the
/// failed insert ends the transaction's usefulness, so it rolls back and the winner is looked up
/// afterwards.
pub(super) struct Raced;

/// Whether period `period` of loan `application_id` may be paid now: the domain's order rule
/// over what the book says (read under the loan's row lock).
pub(super) fn in_order(
    conn: &mut DbConnection,
    application_id: &str,
    period: i32,
) -> DbResult<bool> {
    let period = u32::try_from(period).unwrap_or(0);
    Ok(payable_in_order(
        period,
        earliest_unpaid_period(conn, application_id)?,
    ))
}

/// §36: opens the order that charges installment `id` (`payoff`: the whole loan it belongs to)
/// of `user_id` at `business_date`, and commits it. The caller then calls the channel with no
/// connection held, and settles.
pub fn open_charge(
    conn: &mut DbConnection,
    user_id: &str,
    id: &str,
    payoff_loan: bool,
    business_date: NaiveDate,
    now: i64,
) -> DbResult<OpenCharge> {
    let mut application_id = String::new();
    let outcome = write_transaction(conn, |conn| -> Result<OpenCharge, Abort<Raced>> {
        let Some((inst, loan)) = find_payable(conn, user_id, id)? else {
            return Ok(OpenCharge::NotFound);
        };
        // Read again under the lock: what we decide on is what the last settlement left.
        let (inst, app) = if lock_loan(conn, &loan.id)? {
            let Some(again) = find_payable(conn, user_id, id)? else {
                return Ok(OpenCharge::NotFound);
            };
            again
        } else {
            (inst, loan)
        };
        let (kind, lines): (OrderKind, Vec<(String, Charge, bool)>) = if payoff_loan {
            let unpaid = unpaid_of(conn, &app.id)?;
            if unpaid.is_empty() {
                return Ok(OpenCharge::AlreadyPaid);
            }
            let plan: Vec<Installment> = unpaid
                .iter()
                .map(InstallmentRow::to_domain)
                .collect::<DbResult<_>>()?;
            let charges = payoff(&plan, app.penalty(), business_date);
            let lines = unpaid
                .iter()
                .zip(&plan)
                .zip(charges)
                .map(|((row, i), c)| (row.id.clone(), c, business_date < i.due_date))
                .collect();
            (OrderKind::Payoff, lines)
        } else {
            if inst.is_paid() {
                return Ok(OpenCharge::AlreadyPaid);
            }
            if !in_order(conn, &app.id, inst.period)? {
                return Ok(OpenCharge::EarlierUnpaid);
            }
            let owed = installment_due(&inst.to_domain()?, app.penalty(), business_date);
            (OrderKind::Charge, vec![(inst.id.clone(), owed, false)])
        };
        if let Some(open) = open_charge_of(conn, &app.id)? {
            return Ok(OpenCharge::InProgress(open));
        }
        let Some(card_no) = card_of(conn, user_id)? else {
            return Ok(OpenCharge::NoCard);
        };
        application_id.clone_from(&app.id);
        let amount: Money = lines.iter().map(|(_, c, _)| c.total()).sum();
        let order = new_order(kind, &app, amount, business_date, now);
        let lines: Vec<OrderLine> = lines
            .iter()
            .map(|(inst, c, prepaid)| line(&order.id, inst, c, *prepaid))
            .collect();
        if !insert_order(conn, &order, &lines)? {
            return Err(Abort::Answer(Raced));
        }
        Ok(OpenCharge::Opened(ReadyOrder { order, card_no }))
    });
    match outcome {
        Ok(o) => Ok(o),
        // Someone opened one between our look and our write: theirs stands (or, settled
        // already, it paid what we meant to).
        Err(Abort::Answer(Raced)) => Ok(open_charge_of(conn, &application_id)?
            .map_or(OpenCharge::AlreadyPaid, OpenCharge::InProgress)),
        Err(Abort::Db(e)) => Err(e),
    }
}

/// The daily job's auto-debit (到期代扣): opens a charge order for the unpaid installment `id`
/// (the earliest unpaid of its loan) at `business_date`, unless the loan has an open order, the
/// borrower has no card, or the installment is not the earliest unpaid. `None` when none opened.
pub fn open_auto_debit(
    conn: &mut DbConnection,
    id: &str,
    business_date: NaiveDate,
    now: i64,
) -> DbResult<Option<ReadyOrder>> {
    let outcome = write_transaction(conn, |conn| -> Result<_, Abort<Raced>> {
        let Some((inst, app)) = installments::table
            .inner_join(applications::table)
            .filter(installments::id.eq(id))
            .filter(installments::status.eq(UNPAID))
            .filter(applications::status.eq(status_is(ApplyStatus::Disbursed)))
            .select((InstallmentRow::as_select(), Application::as_select()))
            .first::<(InstallmentRow, Application)>(conn)
            .optional()?
        else {
            return Ok(None);
        };
        if lock_loan(conn, &app.id)? {
            let still_unpaid: i64 = installments::table
                .filter(installments::id.eq(&inst.id))
                .filter(installments::status.eq(UNPAID))
                .count()
                .get_result(conn)?;
            if still_unpaid == 0 {
                return Ok(None);
            }
        }
        if !in_order(conn, &app.id, inst.period)? || open_charge_of(conn, &app.id)?.is_some() {
            return Ok(None);
        }
        let Some(card_no) = card_of(conn, &app.user_id)? else {
            return Ok(None);
        };
        let owed = installment_due(&inst.to_domain()?, app.penalty(), business_date);
        let order = new_order(OrderKind::AutoDebit, &app, owed.total(), business_date, now);
        let lines = [line(&order.id, &inst.id, &owed, false)];
        if !insert_order(conn, &order, &lines)? {
            return Err(Abort::Answer(Raced));
        }
        Ok(Some(ReadyOrder { order, card_no }))
    });
    match outcome {
        Ok(o) => Ok(o),
        Err(Abort::Answer(Raced)) => Ok(None),
        Err(Abort::Db(e)) => Err(e),
    }
}

/// 2 → 4, first half: opens the order that pays application `id`'s principal out, at
/// `business_date` (the plan's start), and commits it. The application stays approved until
/// the payout succeeded.
pub fn open_payout(
    conn: &mut DbConnection,
    id: &str,
    business_date: NaiveDate,
    apr_cap: Decimal,
    now: i64,
) -> DbResult<OpenPayout> {
    let outcome = write_transaction(conn, |conn| -> Result<OpenPayout, Abort<Raced>> {
        let Some(app) = find_application(conn, id)? else {
            return Ok(OpenPayout::NotFound);
        };
        if let Some(live) = live_payout_of(conn, id)? {
            return Ok(OpenPayout::InProgress(live));
        }
        let status = app.status;
        if status.apply(LoanAction::Disburse).is_err() {
            return Ok(OpenPayout::WrongStatus(status));
        }
        // Checked again at the moment money would leave: an approval is no promise to pay a
        // borrower disabled or blacklisted since.
        let (disabled, mobile): (bool, String) = users::table
            .find(&app.user_id)
            .select((users::disabled, users::mobile))
            .first(conn)?;
        if disabled {
            return Ok(OpenPayout::BorrowerBlocked(
                "the borrower's account is disabled",
            ));
        }
        if is_blacklisted(conn, &mobile)? {
            return Ok(OpenPayout::BorrowerBlocked("the borrower is blacklisted"));
        }
        let (plan, rounding) = match app.plan_within_cap(business_date, apr_cap) {
            Ok(p) => p,
            Err(why) => return Ok(OpenPayout::NoPlan(why)),
        };
        let Some(card_no) = card_of(conn, &app.user_id)? else {
            return Ok(OpenPayout::NoCard);
        };
        let mut order = new_order(
            OrderKind::Payout,
            &app,
            plan.total_principal(),
            business_date,
            now,
        );
        order.rounding = Some(rounding);
        if !insert_order(conn, &order, &[])? {
            return Err(Abort::Answer(Raced));
        }
        Ok(OpenPayout::Opened(ReadyOrder { order, card_no }))
    });
    match outcome {
        Ok(o) => Ok(o),
        Err(Abort::Answer(Raced)) => match live_payout_of(conn, id)? {
            Some(live) => Ok(OpenPayout::InProgress(live)),
            None => Ok(match find_application(conn, id)? {
                Some(app) => OpenPayout::WrongStatus(app.status),
                None => OpenPayout::NotFound,
            }),
        },
        Err(Abort::Db(e)) => Err(e),
    }
}

/// The lines an order would have: (installment, charge, prepaid).
type PlannedLines = Vec<(String, Charge, bool)>;

/// What an offline repayment (线下还款) of a loan would pay at a date: the order's kind and its
/// lines (installment, charge, prepaid), allocated as every payment is (penalty, fee, interest,
/// principal of each installment). `None` when nothing is unpaid.
fn offline_lines(
    conn: &mut DbConnection,
    app: &Application,
    payoff_loan: bool,
    date: NaiveDate,
) -> DbResult<Option<(OrderKind, PlannedLines)>> {
    let unpaid = unpaid_of(conn, &app.id)?;
    let Some(first) = unpaid.first() else {
        return Ok(None);
    };
    if payoff_loan {
        let plan: Vec<Installment> = unpaid
            .iter()
            .map(InstallmentRow::to_domain)
            .collect::<DbResult<_>>()?;
        let charges = payoff(&plan, app.penalty(), date);
        let lines = unpaid
            .iter()
            .zip(&plan)
            .zip(charges)
            .map(|((row, i), c)| (row.id.clone(), c, date < i.due_date))
            .collect();
        Ok(Some((OrderKind::Payoff, lines)))
    } else {
        let owed = installment_due(&first.to_domain()?, app.penalty(), date);
        Ok(Some((
            OrderKind::Charge,
            vec![(first.id.clone(), owed, false)],
        )))
    }
}

/// What a loan owes for an offline repayment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OfflineOwed {
    /// The amount, and the lines it pays.
    Owed(Money, Vec<OrderLine>),
    /// No such loan paid out.
    NotFound,
    /// Nothing left to pay.
    AlreadyPaid,
}

/// What loan `application_id` owes at `date` for an offline repayment of the earliest unpaid
/// installment, or (`payoff_loan`) of the whole loan: a read, for checking an amount received.
pub fn offline_owed(
    conn: &mut DbConnection,
    application_id: &str,
    payoff_loan: bool,
    date: NaiveDate,
) -> DbResult<OfflineOwed> {
    let Some(app) = find_application(conn, application_id)? else {
        return Ok(OfflineOwed::NotFound);
    };
    if !ApplyStatus::PAID_OUT.contains(&app.status) {
        return Ok(OfflineOwed::NotFound);
    }
    Ok(match offline_lines(conn, &app, payoff_loan, date)? {
        None => OfflineOwed::AlreadyPaid,
        Some((_, lines)) => {
            let amount = lines.iter().map(|(_, c, _)| c.total()).sum();
            let lines = lines
                .iter()
                .map(|(i, c, prepaid)| line("", i, c, *prepaid))
                .collect();
            OfflineOwed::Owed(amount, lines)
        }
    })
}

/// The outcome of opening an offline repayment's order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpenOffline {
    /// Written and committed, for exactly the amount received: settle it (no channel to call).
    Opened(PaymentOrder),
    /// No such loan paid out.
    NotFound,
    /// Nothing left to pay.
    AlreadyPaid,
    /// The loan owes another amount now (paid or accrued since): nothing written.
    AmountDiffers(Money),
    /// Another charge of this loan is open: nothing written.
    InProgress(PaymentOrder),
}

/// Opens the order of an offline repayment of `amount` received on `date` for loan
/// `application_id` (the earliest unpaid installment, or `payoff_loan` the whole loan), under the
/// loan's row lock, only when `amount` is exactly what the loan owes for it then.
pub fn open_offline(
    conn: &mut DbConnection,
    application_id: &str,
    payoff_loan: bool,
    amount: Money,
    date: NaiveDate,
    now: i64,
) -> DbResult<OpenOffline> {
    let outcome = write_transaction(conn, |conn| -> Result<OpenOffline, Abort<Raced>> {
        lock_loan(conn, application_id)?;
        let Some(app) = find_application(conn, application_id)? else {
            return Ok(OpenOffline::NotFound);
        };
        if !ApplyStatus::PAID_OUT.contains(&app.status) {
            return Ok(OpenOffline::NotFound);
        }
        let Some((kind, lines)) = offline_lines(conn, &app, payoff_loan, date)? else {
            return Ok(OpenOffline::AlreadyPaid);
        };
        let owed: Money = lines.iter().map(|(_, c, _)| c.total()).sum();
        if owed != amount {
            return Ok(OpenOffline::AmountDiffers(owed));
        }
        if let Some(open) = open_charge_of(conn, &app.id)? {
            return Ok(OpenOffline::InProgress(open));
        }
        let order = new_order(kind, &app, amount, date, now);
        let lines: Vec<OrderLine> = lines
            .iter()
            .map(|(inst, c, prepaid)| line(&order.id, inst, c, *prepaid))
            .collect();
        if !insert_order(conn, &order, &lines)? {
            return Err(Abort::Answer(Raced));
        }
        Ok(OpenOffline::Opened(order))
    });
    match outcome {
        Ok(o) => Ok(o),
        Err(Abort::Answer(Raced)) => Ok(open_charge_of(conn, application_id)?
            .map_or(OpenOffline::AlreadyPaid, OpenOffline::InProgress)),
        Err(Abort::Db(e)) => Err(e),
    }
}
