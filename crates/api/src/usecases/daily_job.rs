//! The daily job (日终): the loan book, auto-debit (到期代扣) when on, and a reconciler pass.

use cashloan_persistence::loans::{due_unpaid_installments, PageRequest};
use cashloan_persistence::payment_orders::{open_auto_debit, Settlement};
use cashloan_persistence::{Db, DbResult};
use chrono::NaiveDate;

use super::reconcile::*;
use super::settlement::*;
use crate::channel::PaymentChannel;
use crate::context::Lease;

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
