//! The daily job of the loan book (docs/loans.md "Business date"): for a business date it marks
//! overdue installments, accrues their penalties to that date, and writes the reminder (15) and
//! overdue (17) messages, each exactly once per installment and event.
//!
//! Everything it writes is derived from (due date, business date) or keyed by the event, so
//! running it twice for a date changes nothing, and running it after skipped dates catches up.
//! It streams the unpaid book in id order, a page per transaction, so memory stays flat however
//! large the book is.

use std::time::{Duration, Instant};

use cashloan_domain::message::text;
use cashloan_domain::penalty::{is_overdue, penalty};
use cashloan_domain::{MessageType, Rate};
use cashloan_persistence::accounts::{sweep_nonces, sweep_sessions};
use cashloan_persistence::loans::{
    add_customer_messages, record_accruals, unpaid_book_page, Accrual, BookCursor, CustomerMessage,
};
use cashloan_persistence::verification::{sweep_captchas, sweep_rate_counters};
use cashloan_persistence::{write_transaction_alone, Db, DbConnection, DbError, DbResult};
use chrono::{Days, NaiveDate};

/// Installments read and written per transaction.
pub const PAGE_SIZE: i64 = 20000;
/// The job's SQLite page cache: 64 MiB.
const JOB_PAGE_CACHE_KIB: u32 = 64 * 1024;
/// Reminders go out this many days before the due date (and on it).
pub const REMIND_DAYS_BEFORE: u64 = 3;
/// Replay nonces and graphic codes are kept this long: far beyond any signing window or code
/// lifetime, so removing them never lets a request be replayed.
pub const PROTOCOL_RECORDS_KEPT_MS: i64 = 24 * 3_600_000;

/// What one run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DailyReport {
    /// Unpaid installments looked at.
    pub looked_at: u64,
    /// Installments newly marked overdue.
    pub marked_overdue: u64,
    /// Installments whose penalty changed.
    pub penalties_accrued: u64,
    /// Reminder messages (15) written.
    pub reminders: u64,
    /// Overdue messages (17) written.
    pub overdue_messages: u64,
    /// Expired protocol records removed (replay nonces, graphic codes, sessions, rate windows).
    pub swept: u64,
    /// How long it took.
    pub elapsed: Duration,
}

/// Runs the daily job for `date`; `now` (ms) stamps the messages.
pub fn run_daily(db: &Db, date: NaiveDate, now: i64) -> DbResult<DailyReport> {
    let started = Instant::now();
    let mut report = DailyReport::default();
    let horizon = date
        .checked_add_days(Days::new(REMIND_DAYS_BEFORE))
        .unwrap_or(date);
    // A connection of its own, with a page cache to match the work: SQLite's default of 2 MiB
    // sent most page reads of a million-installment book to the kernel. Bounded, so memory
    // stays flat in the book's size.
    let mut conn = db.dedicated()?;
    cashloan_persistence::db::set_page_cache(&mut conn, JOB_PAGE_CACHE_KIB)?;
    let mut after: Option<BookCursor> = None;
    loop {
        let page = write_transaction_alone(&mut conn, |conn| {
            let rows = unpaid_book_page(conn, date, horizon, after.as_ref(), PAGE_SIZE)?;
            // The page's writes go out as a few set-based statements: its accruals, then its
            // messages.
            let mut accruals = Vec::new();
            let mut changes = Vec::new();
            let mut messages = Vec::with_capacity(rows.len());
            for entry in &rows {
                let (row, loan_code) = (&entry.row, &entry.loan_code);
                report.looked_at += 1;
                let inst = row.to_domain()?;
                let rate = entry.penalty_rate.unwrap_or(Rate::ZERO);
                let overdue = is_overdue(inst.due_date, date);
                // On the overdue principal and interest (逾期本息), as every payment charges it.
                let overdue_amount = inst.principal + inst.interest;
                let accrued = penalty(overdue_amount, rate, inst.due_date, date);
                if overdue != row.overdue
                    || accrued != row.penalty
                    || row.penalty_date != Some(date)
                {
                    accruals.push(Accrual {
                        id: &row.id,
                        overdue,
                        penalty: accrued,
                    });
                    changes.push((
                        row.id.as_str(),
                        overdue && !row.overdue,
                        accrued != row.penalty,
                    ));
                }
                let owed = inst.total() + accrued;
                // Each event has its own key, so a message is written once however often this runs.
                let (kind, content, key) = if overdue {
                    let content = text::overdue(loan_code, inst.period, inst.due_date, owed);
                    (MessageType::Overdue, content, format!("17:{}", row.id))
                } else {
                    let content = text::reminder(loan_code, inst.period, inst.due_date, owed);
                    let when = if inst.due_date == date {
                        "due"
                    } else {
                        "before"
                    };
                    (
                        MessageType::RepaymentReminder,
                        content,
                        format!("15:{when}:{}", row.id),
                    )
                };
                messages.push(CustomerMessage::new(
                    &row.user_id,
                    kind,
                    content,
                    Some(key),
                    now,
                ));
            }
            // Guarded on the installment still being unpaid: one paid meanwhile is not counted.
            let written = record_accruals(conn, &accruals, date)?;
            for (id, newly_overdue, penalty_changed) in changes {
                if written.contains(id) {
                    report.marked_overdue += u64::from(newly_overdue);
                    report.penalties_accrued += u64::from(penalty_changed);
                }
            }
            for kind in add_customer_messages(conn, &messages)? {
                if kind == MessageType::Overdue.code() {
                    report.overdue_messages += 1;
                } else {
                    report.reminders += 1;
                }
            }
            Ok::<_, DbError>(rows.last().map(BookCursor::after))
        })?;
        match page {
            Some(last) => after = Some(last),
            None => break,
        }
    }
    report.swept = sweep(&mut conn, now)?;
    report.elapsed = started.elapsed();
    tracing::info!(
        %date,
        looked_at = report.looked_at,
        marked_overdue = report.marked_overdue,
        penalties_accrued = report.penalties_accrued,
        reminders = report.reminders,
        overdue_messages = report.overdue_messages,
        swept = report.swept,
        elapsed_ms = u64::try_from(report.elapsed.as_millis()).unwrap_or(u64::MAX),
        "daily job done"
    );
    Ok(report)
}

/// Removes protocol records nobody can use any more: nonces and graphic codes older than a day,
/// expired sessions, rate-limit windows older than two days.
fn sweep(conn: &mut DbConnection, now: i64) -> DbResult<u64> {
    let day_ago = now - PROTOCOL_RECORDS_KEPT_MS;
    let removed = sweep_nonces(conn, day_ago)?
        + sweep_captchas(conn, day_ago)?
        + sweep_sessions(conn, now)?
        + sweep_rate_counters(conn, now - 2 * PROTOCOL_RECORDS_KEPT_MS)?;
    Ok(u64::try_from(removed).unwrap_or(u64::MAX))
}
