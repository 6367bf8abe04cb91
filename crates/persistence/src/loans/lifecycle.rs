//! The lifecycle transitions operators make (review, approve, reject): guarded updates whose
//! source and target statuses come from the domain's lifecycle.

use cashloan_domain::message::text;
use cashloan_domain::{ApplyStatus, LoanAction, MessageType, Money, TermUnit};
use diesel::prelude::*;

use super::*;
use crate::cached::cached;
use crate::columns::typed::{ApplyStatusColumn, Cents, ToText};
use crate::db::{write_transaction, Abort, DbConnection, DbResult};
use crate::schema::applications;

/// Outcome of a lifecycle transition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transition {
    /// Done.
    Done,
    /// No such application.
    NotFound,
    /// The application was not in the status the transition needs (it is in this one).
    WrongStatus(ApplyStatus),
}

/// Runs a guarded transition: `update` (whose `WHERE` names the status it leaves) must change
/// exactly one row; otherwise the transaction rolls back and the caller learns why.
/// A customer message a transition writes: its type, and its text for the application.
type Notice<'a> = (MessageType, &'a dyn Fn(&Application) -> String);

/// `message`, when given, is the customer message the transition writes in the same transaction:
/// its type and its text for the application.
fn transition(
    conn: &mut DbConnection,
    id: &str,
    now: i64,
    message: Option<Notice<'_>>,
    update: impl FnOnce(&mut DbConnection) -> Result<usize, diesel::result::Error>,
) -> DbResult<Transition> {
    let outcome = write_transaction(conn, |conn| {
        let n = update(conn)?;
        let app = find_application(conn, id)?.ok_or(Abort::Answer(Transition::NotFound))?;
        if n != 1 {
            return Err(Abort::Answer(Transition::WrongStatus(app.status)));
        }
        if let Some((kind, text)) = message {
            notify(conn, &app, kind, text(&app), &app.id, now)?;
        }
        Ok(())
    });
    match outcome {
        Ok(()) => Ok(Transition::Done),
        Err(Abort::Answer(t)) => Ok(t),
        Err(Abort::Db(e)) => Err(e),
    }
}

pub(crate) fn status_is(s: ApplyStatus) -> ApplyStatusColumn {
    ApplyStatusColumn(s)
}

/// The status column values of `statuses`, for `status IN (…)`.
pub(crate) fn statuses_are(statuses: &[ApplyStatus]) -> Vec<ApplyStatusColumn> {
    statuses.iter().copied().map(ApplyStatusColumn).collect()
}

/// The status `action` leaves: the guard of its update (from the domain's lifecycle).
pub(crate) fn leaves(action: LoanAction) -> ApplyStatusColumn {
    status_is(action.source())
}

/// The status `action` sets.
pub(crate) fn enters(action: LoanAction) -> ApplyStatusColumn {
    status_is(action.target())
}

/// 0 → 1: an operator starts the review.
pub fn start_review(conn: &mut DbConnection, id: &str, now: i64) -> DbResult<Transition> {
    crate::db::write_statement(conn, |conn| {
        transition(conn, id, now, None, |conn| {
            cached(
                diesel::update(
                    applications::table
                        .find(id)
                        .filter(applications::status.eq(leaves(LoanAction::Review))),
                )
                .set((
                    applications::status.eq(enters(LoanAction::Review)),
                    applications::reviewed_at.eq(now),
                    applications::updated_at.eq(now),
                )),
            )
            .execute(conn)
        })
    })
}

/// 1 → 2: approved for `reply_amount` over the approved term; message 12.
pub fn approve(
    conn: &mut DbConnection,
    id: &str,
    reply_amount: Money,
    auth_term_count: i32,
    auth_term_unit: TermUnit,
    now: i64,
) -> DbResult<Transition> {
    crate::db::write_statement(conn, |conn| {
        transition(
            conn,
            id,
            now,
            Some((MessageType::Approved, &|app| {
                text::approved(&app.loan_code, reply_amount)
            })),
            |conn| {
                cached(
                    diesel::update(
                        applications::table
                            .find(id)
                            .filter(applications::status.eq(leaves(LoanAction::Approve))),
                    )
                    .set((
                        applications::status.eq(enters(LoanAction::Approve)),
                        applications::reply_amount_cents.eq(Cents::from(reply_amount)),
                        applications::auth_term_count.eq(auth_term_count),
                        applications::auth_term_unit.eq(ToText::from(auth_term_unit)),
                        applications::decided_at.eq(now),
                        applications::updated_at.eq(now),
                    )),
                )
                .execute(conn)
            },
        )
    })
}

/// 1 → 3: rejected with a reason; message 13.
pub fn reject(conn: &mut DbConnection, id: &str, reason: &str, now: i64) -> DbResult<Transition> {
    crate::db::write_statement(conn, |conn| {
        transition(
            conn,
            id,
            now,
            Some((MessageType::Rejected, &|app| {
                text::rejected(&app.loan_code, reason)
            })),
            |conn| {
                cached(
                    diesel::update(
                        applications::table
                            .find(id)
                            .filter(applications::status.eq(leaves(LoanAction::Reject))),
                    )
                    .set((
                        applications::status.eq(enters(LoanAction::Reject)),
                        applications::reject_reason.eq(reason),
                        applications::decided_at.eq(now),
                        applications::updated_at.eq(now),
                    )),
                )
                .execute(conn)
            },
        )
    })
}
