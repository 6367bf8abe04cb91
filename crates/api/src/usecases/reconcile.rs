//! Reconcile: ask the payment channel about orders whose outcome is unknown, and settle them.

use cashloan_persistence::site::claim_job_period;
use std::time::Duration;

use cashloan_persistence::payment_orders::{
    settle, stale_open_orders, touch_order, ChannelOutcome, OrderStatus, SettledBy, Settlement,
};
use cashloan_persistence::{Db, DbResult};

use super::settlement::*;
use crate::channel::{PaymentChannel, QueryAnswer};

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
            let young_pending = order.status == OrderStatus::Pending
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

/// Runs [`reconcile`] every `interval` on a thread of its own, for the server's life; of several
/// servers on one database, the first to claim a period runs it and the others skip it.
pub fn spawn_reconciler(
    db: Db,
    channel: std::sync::Arc<dyn PaymentChannel>,
    policy: ReconcilePolicy,
    interval: Duration,
) {
    let instance = uuid::Uuid::new_v4().to_string();
    let spawned = std::thread::Builder::new()
        .name("reconciler".into())
        .spawn(move || loop {
            std::thread::sleep(interval);
            // However many servers share the database, one of them reconciles each period.
            let now = chrono::Utc::now().timestamp_millis();
            let period_ms = i64::try_from(interval.as_millis())
                .unwrap_or(i64::MAX)
                .max(1);
            let claimed = db.conn().and_then(|mut c| {
                claim_job_period(&mut c, "reconcile", now / period_ms, &instance, now)
            });
            match claimed {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    tracing::error!(error = %e, "reconciler: cannot claim the period");
                    continue;
                }
            }
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
