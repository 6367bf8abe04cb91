//! The unpaid book as the daily job and auto-debit read it, a page at a time.

use cashloan_domain::{format_day, ApplyStatus, Money, Rate};
use chrono::NaiveDate;
use diesel::prelude::*;

use super::*;
use crate::cached::cached;
use crate::columns::typed::{Cents, MaybeFromText, ToText};
use crate::db::{DbConnection, DbResult};
use crate::schema::{applications, installments};

/// Ids of unpaid installments of paid-out loans due on or before `date`, after `after_id` in id
/// order (a keyset page of `page.limit`): what auto-debit looks at.
pub fn due_unpaid_installments(
    conn: &mut DbConnection,
    date: NaiveDate,
    after_id: &str,
    page: PageRequest,
) -> DbResult<Vec<String>> {
    Ok(installments::table
        .inner_join(applications::table)
        .filter(installments::status.eq(UNPAID))
        .filter(installments::due_date.le(format_day(date)))
        .filter(installments::id.gt(after_id))
        .filter(applications::status.eq(status_is(ApplyStatus::Disbursed)))
        .order(installments::id.asc())
        .offset(page.offset)
        .limit(page.limit)
        .select(installments::id)
        .load(conn)?)
}

/// An unpaid installment as the daily job sees it: the row, its loan code and penalty rate.
#[derive(Clone, Debug, PartialEq, Eq, Queryable)]
pub struct BookEntry {
    /// The installment.
    pub row: InstallmentRow,
    /// Its loan's code.
    pub loan_code: String,
    /// Its loan's penalty rate, if any.
    #[diesel(deserialize_as = MaybeFromText<Rate>)]
    pub penalty_rate: Option<Rate>,
}

/// Where a walk through the unpaid book stands: the last installment read, by due date and id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BookCursor {
    /// Its due date.
    pub due_date: NaiveDate,
    /// Its id.
    pub id: String,
}

impl BookCursor {
    /// The cursor just past `entry`.
    pub fn after(entry: &BookEntry) -> BookCursor {
        BookCursor {
            due_date: entry.row.due_date,
            id: entry.row.id.clone(),
        }
    }
}

/// One page of the unpaid book for the daily job of `date`: unpaid installments due on or
/// before `last_due` that have not been accrued to `date` yet, after `after`, in (due date, id)
/// order, so the job streams the book in constant memory and a second run for the same date
/// reads nothing but the index (`installments_unpaid_book`).
pub fn unpaid_book_page(
    conn: &mut DbConnection,
    date: NaiveDate,
    last_due: NaiveDate,
    after: Option<&BookCursor>,
    limit: i64,
) -> DbResult<Vec<BookEntry>> {
    let day = format_day(date);
    let mut q = installments::table
        .inner_join(applications::table)
        // A literal, not a bound value: it is what lets the partial index serve the query.
        .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(
            "installments.status = 0",
        ))
        .filter(installments::due_date.le(format_day(last_due)))
        .filter(
            installments::penalty_date
                .is_null()
                .or(installments::penalty_date.ne(day)),
        )
        .select((
            InstallmentRow::as_select(),
            applications::loan_code,
            applications::penalty_rate,
        ))
        .order((installments::due_date.asc(), installments::id.asc()))
        .limit(limit)
        .into_boxed();
    if let Some(c) = after {
        let due = format_day(c.due_date);
        // The first term says the same as the second, but as a range the index can start at.
        q = q.filter(installments::due_date.ge(due.clone())).filter(
            installments::due_date
                .gt(due.clone())
                .or(installments::due_date
                    .eq(due)
                    .and(installments::id.gt(c.id.clone()))),
        );
    }
    Ok(q.load(conn)?)
}

/// Records the daily job's view of an unpaid installment: overdue or not, and the penalty
/// accrued to `on`. Guarded on the installment still being unpaid; true when a row changed.
pub fn record_accrual(
    conn: &mut DbConnection,
    id: &str,
    overdue: bool,
    penalty: Money,
    on: NaiveDate,
) -> DbResult<bool> {
    crate::db::write_statement(conn, |conn| {
        let n = cached(
            diesel::update(
                installments::table
                    .find(id)
                    .filter(installments::status.eq(UNPAID)),
            )
            .set((
                installments::overdue.eq(overdue),
                installments::penalty_cents.eq(Cents::from(penalty)),
                installments::penalty_date.eq(ToText::from(on)),
            )),
        )
        .execute(conn)?;
        Ok(n == 1)
    })
}

/// The daily job's view of one unpaid installment: overdue or not, and the penalty accrued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accrual<'a> {
    /// The installment.
    pub id: &'a str,
    /// Overdue at the date.
    pub overdue: bool,
    /// Penalty accrued to the date.
    pub penalty: Money,
}

/// Accruals one statement writes: four parameters each, inside SQLite's 32 766 and
/// PostgreSQL's 65 535.
const ACCRUALS_PER_STATEMENT: usize = 500;

#[derive(QueryableByName)]
struct WrittenId {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
}

/// Records `accruals` to `on`: on PostgreSQL a few hundred rows per statement (one
/// `UPDATE … FROM` a list of values), on SQLite a prepared statement per row; each guarded on the installment still being unpaid; returns the ids it wrote. The
/// daily job's writes as set-based SQL: a statement per row cost it twice the time.
pub fn record_accruals(
    conn: &mut DbConnection,
    accruals: &[Accrual<'_>],
    on: NaiveDate,
) -> DbResult<std::collections::HashSet<String>> {
    crate::db::write_statement(conn, |conn| {
        let day = format_day(on);
        let mut written = std::collections::HashSet::with_capacity(accruals.len());
        if let DbConnection::Sqlite(c) = conn {
            // In the process a prepared statement per row is as fast, and SQLite's planner may
            // scan the whole book for an `UPDATE … FROM` a list of values.
            for a in accruals {
                let n = cached(
                    diesel::update(
                        installments::table
                            .find(a.id)
                            .filter(installments::status.eq(UNPAID)),
                    )
                    .set((
                        installments::overdue.eq(a.overdue),
                        installments::penalty_cents.eq(Cents::from(a.penalty)),
                        installments::penalty_date.eq(&day),
                    )),
                )
                .execute(c)?;
                if n == 1 {
                    written.insert(a.id.to_owned());
                }
            }
            return Ok(written);
        }
        for chunk in accruals.chunks(ACCRUALS_PER_STATEMENT) {
            let values = crate::db::values_placeholders(conn, chunk.len(), 4);
            // The literal `status = 0` is UNPAID.
            let sql = format!(
                "WITH v (id, overdue, penalty_cents, penalty_date) AS (VALUES {values}) \
                 UPDATE installments SET overdue = v.overdue, penalty_cents = v.penalty_cents, \
                 penalty_date = v.penalty_date FROM v \
                 WHERE installments.id = v.id AND installments.status = 0 RETURNING installments.id"
            );
            let mut q = diesel::sql_query(sql).into_boxed();
            for a in chunk {
                q = q
                    .bind::<diesel::sql_types::Text, _>(a.id)
                    .bind::<diesel::sql_types::Bool, _>(a.overdue)
                    .bind::<diesel::sql_types::BigInt, _>(Cents::from(a.penalty))
                    .bind::<diesel::sql_types::Text, _>(day.clone());
            }
            let rows: Vec<WrittenId> = q.load(conn)?;
            written.extend(rows.into_iter().map(|r| r.id));
        }
        Ok(written)
    })
}
