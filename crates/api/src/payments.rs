//! Money in motion, as use cases: repay (§36), pay out (an operator's disbursement), reconcile,
//! auto-debit. Each one writes its payment order and commits it, gives the database connection
//! back, calls the payment channel, then settles the order in one short transaction. Nothing here
//! calls the channel while holding a transaction or a pooled connection.

use std::time::Duration;

use cashloan_domain::Money;
use cashloan_persistence::loans::{due_unpaid_installments, PageRequest};
use cashloan_persistence::payment_orders::{
    find_order, open_auto_debit, open_charge, open_payout, settle, stale_open_orders, touch_order,
    ChannelOutcome, OpenCharge, OpenPayout, OrderKind, OrderStatus, PaymentOrder, ReadyOrder,
    SettledBy, Settlement,
};
use cashloan_persistence::{Db, DbError};
use chrono::NaiveDate;

use crate::channel::{PaymentChannel, QueryAnswer};
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

/// Calls the channel for a committed order (no connection held during the call), then settles
/// the order with its answer.
fn submit_and_settle(
    channel: &dyn PaymentChannel,
    lease: &mut Lease<'_>,
    ready: &ReadyOrder,
) -> DbResult<(ChannelOutcome, Settlement)> {
    let outcome = submit(channel, lease, ready)?;
    let settled = settle(
        lease.get()?,
        &ready.order.id,
        &outcome,
        SettledBy::Channel,
        now_ms(),
    )?;
    Ok((outcome, settled))
}

/// Calls the channel for a committed order: the lease holds no connection during the call.
fn submit(
    channel: &dyn PaymentChannel,
    lease: &mut Lease<'_>,
    ready: &ReadyOrder,
) -> DbResult<ChannelOutcome> {
    lease.release();
    let kind = ready.order.order_kind()?;
    Ok(channel.submit(
        kind.channel_op(),
        &ready.order.id,
        &ready.card_no,
        ready.order.amount(),
    ))
}

type DbResult<T> = Result<T, DbError>;

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
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

/// What one reconciler pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReconcileCounts {
    /// Orders asked about.
    pub asked: u64,
    /// Settled as moved.
    pub succeeded: u64,
    /// Settled as not moved.
    pub failed: u64,
    /// Still without an outcome.
    pub unknown: u64,
    /// Moved but flagged for operators.
    pub flagged: u64,
}

/// When the reconciler may ask about an order.
#[derive(Clone, Copy, Debug)]
pub struct ReconcilePolicy {
    /// An open order is asked about once it has not changed for this long.
    pub after: Duration,
    /// A `pending` order younger than this may still have its call in flight: it is left alone
    /// (its answer, when it comes, settles it).
    pub in_flight: Duration,
}

impl ReconcilePolicy {
    /// The policy of a configuration.
    pub fn of(config: &crate::config::Config) -> ReconcilePolicy {
        let timeout = Duration::from_secs(config.payment_timeout_secs);
        ReconcilePolicy {
            after: Duration::from_secs(config.reconcile_after_secs),
            // The call's own timeout and a margin for the settlement that follows it.
            in_flight: timeout + Duration::from_secs(5),
        }
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// One pass: asks the channel about every open order older than the policy allows and settles
/// what it says. The connection is held only between calls, never during one.
pub fn reconcile(
    db: &Db,
    channel: &dyn PaymentChannel,
    policy: ReconcilePolicy,
) -> DbResult<ReconcileCounts> {
    let mut counts = ReconcileCounts::default();
    let started = now_ms();
    // Orders asked about in this pass are touched, so the pass ends: each is asked once.
    loop {
        let batch = {
            let mut conn = db.conn()?;
            stale_open_orders(&mut conn, started - millis(policy.after), 100)?
        };
        if batch.is_empty() {
            return Ok(counts);
        }
        for order in batch {
            let young_pending = order.status == OrderStatus::Pending.as_str()
                && order.created_at > now_ms() - millis(policy.in_flight);
            if young_pending {
                let mut conn = db.conn()?;
                touch_order(&mut conn, &order.id, started)?;
                continue;
            }
            counts.asked += 1;
            let answer = channel.query(&order.id);
            let outcome = match answer {
                QueryAnswer::Known(o) => o,
                QueryAnswer::NeverSeen => ChannelOutcome::Failed {
                    message: "the channel never received it: no money moved".into(),
                },
            };
            let mut conn = db.conn()?;
            match settle(
                &mut conn,
                &order.id,
                &outcome,
                SettledBy::Reconciler,
                now_ms(),
            )? {
                Settlement::Succeeded { .. } => counts.succeeded += 1,
                Settlement::Failed => counts.failed += 1,
                Settlement::Flagged(_) => counts.flagged += 1,
                Settlement::Unknown => {
                    counts.unknown += 1;
                    touch_order(&mut conn, &order.id, now_ms())?;
                }
                Settlement::AlreadySettled(_) | Settlement::NotFound => {}
            }
        }
    }
}

/// Runs [`reconcile`] every `interval` on a thread of its own, for the server's life.
pub fn spawn_reconciler(
    db: Db,
    channel: std::sync::Arc<dyn PaymentChannel>,
    policy: ReconcilePolicy,
    interval: Duration,
) {
    let spawned = std::thread::Builder::new()
        .name("reconciler".into())
        .spawn(move || loop {
            std::thread::sleep(interval);
            match reconcile(&db, channel.as_ref(), policy) {
                Ok(c) if c.asked > 0 => tracing::info!(?c, "reconciled payment orders"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "reconciler pass failed"),
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the reconciler: open orders wait for a restart or `cashloan reconcile`");
    }
}

/// What an auto-debit pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AutoDebitCounts {
    /// Orders opened.
    pub opened: u64,
    /// Charged.
    pub succeeded: u64,
    /// Refused.
    pub failed: u64,
    /// Without an outcome yet.
    pub unknown: u64,
}

/// 到期代扣: charges every unpaid installment due on or before `date` (the earliest unpaid of
/// each paid-out loan whose borrower has a card and no open charge) through the channel.
pub fn auto_debit(
    db: &Db,
    channel: &dyn PaymentChannel,
    date: NaiveDate,
) -> DbResult<AutoDebitCounts> {
    let mut counts = AutoDebitCounts::default();
    let mut after = String::new();
    loop {
        let page = {
            let mut conn = db.conn()?;
            due_unpaid_installments(
                &mut conn,
                date,
                &after,
                PageRequest {
                    offset: 0,
                    limit: 500,
                },
            )?
        };
        let Some(last) = page.last() else {
            return Ok(counts);
        };
        after = last.clone();
        for id in page {
            let mut lease = Lease::new(db);
            let Some(ready) = open_auto_debit(lease.get()?, &id, date, now_ms())? else {
                continue;
            };
            counts.opened += 1;
            match submit_and_settle(channel, &mut lease, &ready)?.1 {
                Settlement::Succeeded { .. } => counts.succeeded += 1,
                Settlement::Failed => counts.failed += 1,
                _ => counts.unknown += 1,
            }
        }
    }
}

/// Whether `kind` moves money out (a payout) rather than in.
pub fn is_payout(order: &PaymentOrder) -> bool {
    order.order_kind().is_ok_and(|k| k == OrderKind::Payout)
}

/// What the daily job did on one date: the loan book, auto-debit (when on), a reconciler pass.
#[derive(Clone, Debug)]
pub struct DailyOutcome {
    /// Overdue marking, penalties, messages, sweeps.
    pub book: cashloan_batch::DailyReport,
    /// 到期代扣, when `auto_debit` is on.
    pub auto_debit: Option<AutoDebitCounts>,
    /// The reconciler pass that ends the job.
    pub reconciled: ReconcileCounts,
}

/// The daily job for `date`: the book first (so penalties are accrued to the date before
/// anything is charged), then auto-debit when on, then one reconciler pass.
pub fn daily_job(
    db: &Db,
    channel: &dyn PaymentChannel,
    config: &crate::config::Config,
    date: NaiveDate,
) -> DbResult<DailyOutcome> {
    let book = cashloan_batch::run_daily(db, date, now_ms())?;
    let auto_debit = if config.auto_debit {
        Some(auto_debit(db, channel, date)?)
    } else {
        None
    };
    let reconciled = reconcile(db, channel, ReconcilePolicy::of(config))?;
    Ok(DailyOutcome {
        book,
        auto_debit,
        reconciled,
    })
}
