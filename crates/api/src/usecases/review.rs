//! Review (审核): an operator starts reviewing an application (开始审核, 0 → 1), approves it for at
//! most what was asked and within the APR cap (审核通过, 1 → 2, message 12), or rejects it with a
//! reason (审核拒绝, 1 → 3, message 13). Each transition is one guarded statement.

use cashloan_domain::{
    check_approval, ApplyStatus, ApprovalError, LendingPolicy, Money, Period, TermUnit,
};
use cashloan_persistence::loans::{
    approve as approve_application, find_application, reject as reject_application,
    start_review as start_application_review, Application, Transition,
};
use cashloan_persistence::{DbConnection, DbError};
use chrono::NaiveDate;

/// Longest rejection reason, characters.
pub const MAX_REASON_CHARS: usize = 500;

/// Why a review step did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// No such application.
    #[error("no such application")]
    NotFound,
    /// The lifecycle does not allow the step from the status it is in.
    #[error("the application is {} ({}); this transition is not allowed", .0.code(), .0.label())]
    WrongStatus(ApplyStatus),
    /// The approval grants more than was asked.
    #[error(transparent)]
    Approval(#[from] ApprovalError),
    /// The approved terms make no plan within the APR cap.
    #[error("{0}")]
    NoPlan(String),
    /// The rejection reason is too long.
    #[error("reason is longer than {MAX_REASON_CHARS} characters")]
    ReasonTooLong,
    /// A stored value does not read back.
    #[error("application {0} has a corrupt term")]
    Corrupt(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The application after a transition, or why there was none.
fn after(conn: &mut DbConnection, id: &str, t: Transition) -> Result<Application, ReviewError> {
    match t {
        Transition::Done => find_application(conn, id)?.ok_or(ReviewError::NotFound),
        Transition::NotFound => Err(ReviewError::NotFound),
        Transition::WrongStatus(s) => Err(ReviewError::WrongStatus(s)),
    }
}

/// 开始审核: 0 → 1.
pub fn start_review(
    conn: &mut DbConnection,
    id: &str,
    now: i64,
) -> Result<Application, ReviewError> {
    let t = start_application_review(conn, id, now)?;
    after(conn, id, t)
}

/// What an operator grants; what is left out is what was asked.
pub struct ApproveInput<'a> {
    /// The application.
    pub id: &'a str,
    /// The amount granted.
    pub amount: Option<Money>,
    /// The term granted (count).
    pub term_count: Option<u32>,
    /// The term granted (unit).
    pub term_unit: Option<TermUnit>,
    /// The business date (the plan is checked against the cap from it).
    pub today: NaiveDate,
    /// Now (ms).
    pub now: i64,
}

/// 审核通过: 1 → 2, for at most the amount and term asked, and only if the plan of the granted
/// terms stays within the APR cap.
pub fn approve(
    conn: &mut DbConnection,
    policy: &LendingPolicy,
    input: ApproveInput<'_>,
) -> Result<Application, ReviewError> {
    let id = input.id;
    let app = find_application(conn, id)?.ok_or(ReviewError::NotFound)?;
    let asked_term = Period {
        count: u32::try_from(app.term_count).map_err(|_| ReviewError::Corrupt(id.into()))?,
        unit: app.term_unit,
    };
    let asked = app.amount;
    let granted = input.amount.unwrap_or(asked);
    let granted_term = Period {
        count: input.term_count.unwrap_or(asked_term.count),
        unit: input.term_unit.unwrap_or(asked_term.unit),
    };
    check_approval(asked, asked_term, granted, granted_term)?;
    let count = i32::try_from(granted_term.count).map_err(|_| ApprovalError::TermAboveAsked)?;
    let unit = granted_term.unit;
    let mut approved = app;
    approved.reply_amount = Some(granted);
    approved.auth_term_count = Some(count);
    approved.auth_term_unit = Some(unit);
    approved
        .plan_within_cap(input.today, policy.apr_cap)
        .map_err(ReviewError::NoPlan)?;
    let t = approve_application(conn, id, granted, count, unit, input.now)?;
    after(conn, id, t)
}

/// 审核拒绝: 1 → 3, with a reason the borrower reads in message 13.
pub fn reject(
    conn: &mut DbConnection,
    id: &str,
    reason: &str,
    now: i64,
) -> Result<Application, ReviewError> {
    let reason = reason.trim();
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(ReviewError::ReasonTooLong);
    }
    let t = reject_application(conn, id, reason, now)?;
    after(conn, id, t)
}
