//! Payment orders: money that crosses the boundary to or from a borrower's card.
//!
//! A movement is an order written and committed **before** the payment channel is called (its id
//! is the reference the channel sees, so a repeat of the same movement is recognised there), then
//! the channel is called with no transaction or connection held, then the outcome is settled in
//! one short transaction guarded on the order still being open. An outcome nobody knows (a
//! timeout, a crash) leaves the order `unknown` until the channel's own word settles it: the
//! reconciler asks, or the channel notifies. So money never moves twice for one order, and a
//! movement the database forgot cannot exist.
//!
//! What a charge pays is computed when the order is opened and stored with it (its lines); the
//! settlement applies exactly those amounts, whenever it happens.

use cashloan_domain::message::text;
use cashloan_domain::{
    installment_due, payable_in_order, payoff, ApplyStatus, Charge, Installment, LoanAction,
    MessageType, Money, Rounding,
};
use chrono::NaiveDate;
use diesel::prelude::*;
use rust_decimal::Decimal;

use crate::accounts::new_id;
use crate::columns::typed::{FromText, MaybeFromText, MaybeToText, ToText};
use crate::db::{inserted, write_transaction, Abort, DbConnection, DbResult};
use crate::loans::{
    add_customer_message, earliest_unpaid_period, enters, find_application, insert_payment, leaves,
    notify, status_is, statuses_are, Application, CustomerMessage, InstallmentRow, LedgerEntry,
    PAID, UNPAID,
};
use crate::schema::{applications, installments, payment_order_lines, payment_orders, users};
use crate::site::is_blacklisted;

/// What an order moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderKind {
    /// A disbursement (放款): money out to the borrower.
    Payout,
    /// One installment (§36 `current`).
    Charge,
    /// The whole loan (§36 `all`, 一次性还清).
    Payoff,
    /// An installment taken by the daily job (到期代扣).
    AutoDebit,
}

impl OrderKind {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderKind::Payout => "payout",
            OrderKind::Charge => "charge",
            OrderKind::Payoff => "payoff",
            OrderKind::AutoDebit => "auto_debit",
        }
    }

    /// From its stored text.
    pub fn parse(s: &str) -> Option<OrderKind> {
        Some(match s {
            "payout" => OrderKind::Payout,
            "charge" => OrderKind::Charge,
            "payoff" => OrderKind::Payoff,
            "auto_debit" => OrderKind::AutoDebit,
            _ => return None,
        })
    }

    /// The operation the channel is asked for.
    pub fn channel_op(self) -> &'static str {
        match self {
            OrderKind::Payout => "payout",
            _ => "charge",
        }
    }
}

/// Where an order stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderStatus {
    /// Written; the channel has not answered yet.
    Pending,
    /// The money moved.
    Succeeded,
    /// The money did not move.
    Failed,
    /// Nobody knows yet: the channel did not answer in time.
    Unknown,
}

impl OrderStatus {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Succeeded => "succeeded",
            OrderStatus::Failed => "failed",
            OrderStatus::Unknown => "unknown",
        }
    }

    /// From its stored text.
    pub fn parse(s: &str) -> Option<OrderStatus> {
        Some(match s {
            "pending" => OrderStatus::Pending,
            "succeeded" => OrderStatus::Succeeded,
            "failed" => OrderStatus::Failed,
            "unknown" => OrderStatus::Unknown,
            _ => return None,
        })
    }

    /// Still waiting for its outcome.
    pub fn is_open(self) -> bool {
        matches!(self, OrderStatus::Pending | OrderStatus::Unknown)
    }
}

/// The statuses of an order still waiting for its outcome, for the `WHERE` of every settlement.
const OPEN: [&str; 2] = ["pending", "unknown"];

/// Who settled an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettledBy {
    /// The channel's answer to the call itself.
    Channel,
    /// The reconciler's query.
    Reconciler,
    /// The channel's notification.
    Notification,
    /// An operator, by hand.
    Operator,
}

impl SettledBy {
    fn as_str(self) -> &'static str {
        match self {
            SettledBy::Channel => "channel",
            SettledBy::Reconciler => "reconciler",
            SettledBy::Notification => "notification",
            SettledBy::Operator => "operator",
        }
    }
}

/// A payment order (支付订单).
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = payment_orders)]
pub struct PaymentOrder {
    /// Id, and the reference the channel sees.
    pub id: String,
    /// What it moves.
    #[diesel(deserialize_as = FromText<OrderKind>)]
    pub kind: OrderKind,
    /// The loan.
    pub application_id: String,
    /// The borrower.
    pub user_id: String,
    /// How much, 分.
    pub amount_cents: i64,
    /// The business date its amounts were computed for.
    #[diesel(deserialize_as = FromText<NaiveDate>)]
    pub business_date: NaiveDate,
    /// A payout: how its plan's interest is rounded.
    #[diesel(deserialize_as = MaybeFromText<Rounding>)]
    pub rounding: Option<Rounding>,
    /// Where it stands.
    #[diesel(deserialize_as = FromText<OrderStatus>)]
    pub status: OrderStatus,
    /// The channel's reference, once known.
    pub channel_ref: Option<String>,
    /// The channel's or the operator's words.
    pub message: Option<String>,
    /// Why operators must look, if they must.
    pub flag: Option<String>,
    /// Who settled it.
    pub settled_by: Option<String>,
    /// Written at (ms).
    pub created_at: i64,
    /// Changed at (ms).
    pub updated_at: i64,
    /// Settled at (ms).
    pub settled_at: Option<i64>,
}

impl PaymentOrder {
    /// How much.
    pub fn amount(&self) -> Money {
        Money::from_cents(self.amount_cents)
    }
}

/// One installment of a charge order, with what it pays of it.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = payment_order_lines)]
pub struct OrderLine {
    /// The order.
    pub order_id: String,
    /// The installment.
    pub installment_id: String,
    /// Principal, 分.
    pub principal_cents: i64,
    /// Interest, 分.
    pub interest_cents: i64,
    /// Fee, 分.
    pub fee_cents: i64,
    /// Penalty, 分.
    pub penalty_cents: i64,
    /// Paid before its due date.
    pub prepaid: bool,
}

impl OrderLine {
    fn charge(&self) -> Charge {
        Charge {
            principal: Money::from_cents(self.principal_cents),
            interest: Money::from_cents(self.interest_cents),
            fee: Money::from_cents(self.fee_cents),
            penalty: Money::from_cents(self.penalty_cents),
        }
    }
}

/// An order ready for the channel: the order and the card to move the money to or from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadyOrder {
    /// The order, committed.
    pub order: PaymentOrder,
    /// The borrower's authenticated card.
    pub card_no: String,
}

/// The outcome of opening a charge (§36).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpenCharge {
    /// Written and committed: call the channel.
    Opened(ReadyOrder),
    /// No such installment of this borrower, or its loan is not paid out (`20006003`).
    NotFound,
    /// Already paid, or (payoff) nothing left to pay (`20006001`).
    AlreadyPaid,
    /// An earlier installment is unpaid (`20006004`).
    EarlierUnpaid,
    /// The borrower has no authenticated bank card to charge.
    NoCard,
    /// Another charge of this loan is open: its outcome is awaited (`20006005`).
    InProgress(PaymentOrder),
}

/// The outcome of opening a payout (a disbursement).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpenPayout {
    /// Written and committed: call the channel.
    Opened(ReadyOrder),
    /// No such application.
    NotFound,
    /// The application is not approved (it is in this status).
    WrongStatus(ApplyStatus),
    /// A payout of this loan is open or done already: never a second one.
    InProgress(PaymentOrder),
    /// The borrower has no authenticated bank card to pay to.
    NoCard,
    /// The stored terms make no repayment plan.
    NoPlan(String),
    /// The borrower's account was disabled, or the mobile blacklisted, since the approval.
    BorrowerBlocked(&'static str),
}

/// The channel's word on a movement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChannelOutcome {
    /// The money moved.
    Succeeded {
        /// The channel's reference.
        channel_ref: Option<String>,
        /// The amount the channel says it moved, when it says (a notification).
        amount: Option<Money>,
    },
    /// The money did not move.
    Failed {
        /// Why.
        message: String,
    },
    /// Not known (a timeout, a connection error, a 5xx, `pending`).
    Unknown {
        /// What happened.
        message: String,
    },
}

/// What a settlement did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Settlement {
    /// The money moved and the book says so now; for a charge, whether the loan is settled.
    Succeeded {
        /// The loan became 已还完 (charges) or was paid out (payouts).
        loan_settled: bool,
    },
    /// The money did not move; the order is failed and nothing else changed.
    Failed,
    /// Still not known; the order is `unknown`.
    Unknown,
    /// The money moved but the book could not take it as it was (an amount the channel reports
    /// differently, installments paid meanwhile): the order is succeeded and flagged for operators.
    Flagged(String),
    /// The order was settled before (a duplicate answer or notification): nothing changed.
    AlreadySettled(OrderStatus),
    /// No such order.
    NotFound,
}

/// The order `id`.
pub fn find_order(conn: &mut DbConnection, id: &str) -> DbResult<Option<PaymentOrder>> {
    Ok(payment_orders::table
        .find(id)
        .select(PaymentOrder::as_select())
        .first(conn)
        .optional()?)
}

/// The lines of order `id`.
pub fn order_lines(conn: &mut DbConnection, id: &str) -> DbResult<Vec<OrderLine>> {
    Ok(payment_order_lines::table
        .filter(payment_order_lines::order_id.eq(id))
        .select(OrderLine::as_select())
        .load(conn)?)
}

/// The open charge order of a loan, if any.
fn open_charge_of(conn: &mut DbConnection, application_id: &str) -> DbResult<Option<PaymentOrder>> {
    Ok(payment_orders::table
        .filter(payment_orders::application_id.eq(application_id))
        .filter(payment_orders::kind.ne(OrderKind::Payout.as_str()))
        .filter(payment_orders::status.eq_any(OPEN))
        .select(PaymentOrder::as_select())
        .first(conn)
        .optional()?)
}

/// The payout order of a loan that has not failed, if any.
fn live_payout_of(conn: &mut DbConnection, application_id: &str) -> DbResult<Option<PaymentOrder>> {
    Ok(payment_orders::table
        .filter(payment_orders::application_id.eq(application_id))
        .filter(payment_orders::kind.eq(OrderKind::Payout.as_str()))
        .filter(payment_orders::status.ne(OrderStatus::Failed.as_str()))
        .select(PaymentOrder::as_select())
        .first(conn)
        .optional()?)
}

fn card_of(conn: &mut DbConnection, user_id: &str) -> DbResult<Option<String>> {
    Ok(crate::profile::find_bank_card(conn, user_id)?.map(|c| c.card_no))
}

/// Takes the loan's row lock for the rest of the transaction (a no-op update: portable, and on
/// PostgreSQL a row lock). Opening a charge and settling one both take it first, so a charge is
/// never opened on the strength of a read that a settlement is about to make stale. (On SQLite
/// every write transaction already holds the file's write lock.)
fn lock_loan(conn: &mut DbConnection, application_id: &str) -> DbResult<()> {
    diesel::update(applications::table.find(application_id))
        .set(applications::updated_at.eq(applications::updated_at))
        .execute(conn)?;
    Ok(())
}

/// The installment `id` of `user_id` with its loan, if the loan is paid out (4) or settled (5).
fn find_payable(
    conn: &mut DbConnection,
    user_id: &str,
    id: &str,
) -> DbResult<Option<(InstallmentRow, Application)>> {
    Ok(installments::table
        .inner_join(applications::table)
        .filter(installments::id.eq(id))
        .filter(installments::user_id.eq(user_id))
        .filter(applications::status.eq_any(statuses_are(&ApplyStatus::PAID_OUT)))
        .select((InstallmentRow::as_select(), Application::as_select()))
        .first(conn)
        .optional()?)
}

fn unpaid_of(conn: &mut DbConnection, application_id: &str) -> DbResult<Vec<InstallmentRow>> {
    Ok(installments::table
        .filter(installments::application_id.eq(application_id))
        .filter(installments::status.eq(UNPAID))
        .order(installments::period.asc())
        .select(InstallmentRow::as_select())
        .load(conn)?)
}

/// Writes `order` and its `lines`; `None` when the loan already has an open order of the same
/// family (the unique indexes decide, so two racing requests cannot both write one).
fn insert_order(
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
                payment_orders::amount_cents.eq(order.amount_cents),
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
                .values(line)
                .execute(conn)?;
        }
    }
    Ok(written)
}

fn new_order(
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
        amount_cents: amount.cents(),
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

fn line(order_id: &str, installment_id: &str, c: &Charge, prepaid: bool) -> OrderLine {
    OrderLine {
        order_id: order_id.to_owned(),
        installment_id: installment_id.to_owned(),
        principal_cents: c.principal.cents(),
        interest_cents: c.interest.cents(),
        fee_cents: c.fee.cents(),
        penalty_cents: c.penalty.cents(),
        prepaid,
    }
}

/// A unique index refused our order: another request opened one first. On PostgreSQL the
/// failed insert ends the transaction's usefulness, so it rolls back and the winner is looked up
/// afterwards.
struct Raced;

/// Whether period `period` of loan `application_id` may be paid now: the domain's order rule
/// over what the book says (read under the loan's row lock).
fn in_order(conn: &mut DbConnection, application_id: &str, period: i32) -> DbResult<bool> {
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
        let Some((_, loan)) = find_payable(conn, user_id, id)? else {
            return Ok(OpenCharge::NotFound);
        };
        lock_loan(conn, &loan.id)?;
        // Read again under the lock: what we decide on is what the last settlement left.
        let Some((inst, app)) = find_payable(conn, user_id, id)? else {
            return Ok(OpenCharge::NotFound);
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
        lock_loan(conn, &app.id)?;
        let still_unpaid: i64 = installments::table
            .filter(installments::id.eq(&inst.id))
            .filter(installments::status.eq(UNPAID))
            .count()
            .get_result(conn)?;
        if still_unpaid == 0 {
            return Ok(None);
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

type SettleAbort = Abort<Settlement>;

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
        lock_loan(conn, &order.application_id)?;
        // Under the lock, the order as the last settlement left it.
        let order = find_order(conn, id)?.ok_or(Abort::Answer(Settlement::NotFound))?;
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
fn close(
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
    let n = diesel::update(
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
    ))
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        let now_status = find_order(conn, id)?.map_or(OrderStatus::Failed, |o| o.status);
        Err(Abort::Answer(Settlement::AlreadySettled(now_status)))
    }
}

fn flag(conn: &mut DbConnection, id: &str, why: &str, now: i64) -> DbResult<()> {
    diesel::update(payment_orders::table.find(id))
        .set((
            payment_orders::flag.eq(why),
            payment_orders::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// The payout moved: 2 → 4, the installments from the order's date, the ledger, message 14.
fn apply_payout(
    conn: &mut DbConnection,
    order: &PaymentOrder,
    channel_ref: Option<&str>,
    now: i64,
) -> Result<Settlement, SettleAbort> {
    let release_date = order.business_date;
    let release = cashloan_domain::format_day(release_date);
    let n = diesel::update(
        applications::table
            .find(&order.application_id)
            .filter(applications::status.eq(leaves(LoanAction::Disburse))),
    )
    .set((
        applications::status.eq(enters(LoanAction::Disburse)),
        applications::disbursed_at.eq(now),
        applications::release_date.eq(ToText::from(release_date)),
        applications::updated_at.eq(now),
    ))
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
fn apply_charge(
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
        let n = diesel::update(
            installments::table
                .find(&l.installment_id)
                .filter(installments::status.eq(UNPAID)),
        )
        .set((
            installments::status.eq(PAID),
            installments::penalty_cents.eq(c.penalty.cents()),
            installments::penalty_date.eq(ToText::from(paid_on_date)),
            installments::charged_principal_cents.eq(c.principal.cents()),
            installments::charged_interest_cents.eq(c.interest.cents()),
            installments::charged_fee_cents.eq(c.fee.cents()),
            installments::charged_penalty_cents.eq(c.penalty.cents()),
            installments::settled_by.eq(settled_by),
            installments::prepaid.eq(l.prepaid),
            installments::paid_on.eq(ToText::from(paid_on_date)),
            installments::paid_at.eq(now),
        ))
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
        diesel::update(
            applications::table
                .find(&app.id)
                .filter(applications::status.eq(leaves(LoanAction::Settle))),
        )
        .set((
            applications::status.eq(enters(LoanAction::Settle)),
            applications::settled_at.eq(now),
            applications::updated_at.eq(now),
        ))
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
fn settle_flagged(
    conn: &mut DbConnection,
    id: &str,
    channel_ref: Option<&str>,
    why: &str,
    by: SettledBy,
    now: i64,
) -> DbResult<bool> {
    let n = diesel::update(
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
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Open orders last changed before `before` (ms), oldest first, at most `limit`: what the
/// reconciler asks the channel about.
pub fn stale_open_orders(
    conn: &mut DbConnection,
    before: i64,
    limit: i64,
) -> DbResult<Vec<PaymentOrder>> {
    Ok(payment_orders::table
        .filter(payment_orders::status.eq_any(OPEN))
        .filter(payment_orders::updated_at.lt(before))
        .order((payment_orders::updated_at.asc(), payment_orders::id.asc()))
        .limit(limit)
        .select(PaymentOrder::as_select())
        .load(conn)?)
}

/// Marks an open order as asked about just now, so a reconciler pass that could not settle it
/// moves on to others before asking again.
pub fn touch_order(conn: &mut DbConnection, id: &str, now: i64) -> DbResult<()> {
    diesel::update(
        payment_orders::table
            .find(id)
            .filter(payment_orders::status.eq_any(OPEN)),
    )
    .set(payment_orders::updated_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// Orders, newest first, optionally of one status and one application; and how many match.
pub fn list_orders(
    conn: &mut DbConnection,
    status: Option<&str>,
    application_id: Option<&str>,
    page: crate::loans::PageRequest,
) -> DbResult<(Vec<PaymentOrder>, i64)> {
    let filtered = || {
        let mut q = payment_orders::table.into_boxed();
        if let Some(s) = status {
            q = q.filter(payment_orders::status.eq(s.to_owned()));
        }
        if let Some(a) = application_id {
            q = q.filter(payment_orders::application_id.eq(a.to_owned()));
        }
        q
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let rows = filtered()
        .order((payment_orders::created_at.desc(), payment_orders::id.desc()))
        .offset(page.offset)
        .limit(page.limit)
        .select(PaymentOrder::as_select())
        .load(conn)?;
    Ok((rows, total))
}
