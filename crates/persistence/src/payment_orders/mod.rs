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

mod open;
mod queries;
mod settle;

pub use open::*;
pub use queries::*;
pub use settle::*;

use crate::columns::typed::Cents;
use cashloan_domain::{ApplyStatus, Charge, Money, Rounding};
use chrono::NaiveDate;
use diesel::prelude::*;

use crate::columns::typed::{FromText, MaybeFromText};
use crate::schema::{payment_order_lines, payment_orders};

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
    #[diesel(column_name = amount_cents, deserialize_as = Cents)]
    pub amount: Money,
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
        self.amount
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
    #[diesel(column_name = principal_cents, deserialize_as = Cents, serialize_as = Cents)]
    pub principal: Money,
    /// Interest, 分.
    #[diesel(column_name = interest_cents, deserialize_as = Cents, serialize_as = Cents)]
    pub interest: Money,
    /// Fee, 分.
    #[diesel(column_name = fee_cents, deserialize_as = Cents, serialize_as = Cents)]
    pub fee: Money,
    /// Penalty, 分.
    #[diesel(column_name = penalty_cents, deserialize_as = Cents, serialize_as = Cents)]
    pub penalty: Money,
    /// Paid before its due date.
    pub prepaid: bool,
}

impl OrderLine {
    fn charge(&self) -> Charge {
        Charge {
            principal: self.principal,
            interest: self.interest,
            fee: self.fee,
            penalty: self.penalty,
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
