//! The unpaid book as the daily job and auto-debit read it, a page at a time.

use cashloan_domain::{format_day, ApplyStatus, Money, Rate};
use chrono::NaiveDate;
use diesel::prelude::*;

use super::*;
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

/// One page of the unpaid book: installments due on or before `last_due` (`YYYY-MM-DD`) with an
/// id after `after_id`, in id order, so the daily job streams the book in constant memory.
pub fn unpaid_book_page(
    conn: &mut DbConnection,
    last_due: &str,
    after_id: Option<&str>,
    limit: i64,
) -> DbResult<Vec<BookEntry>> {
    let mut q = installments::table
        .inner_join(applications::table)
        .filter(installments::status.eq(UNPAID))
        .filter(installments::due_date.le(last_due))
        .select((
            InstallmentRow::as_select(),
            applications::loan_code,
            applications::penalty_rate,
        ))
        .order(installments::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after_id {
        q = q.filter(installments::id.gt(after));
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
    let n = diesel::update(
        installments::table
            .find(id)
            .filter(installments::status.eq(UNPAID)),
    )
    .set((
        installments::overdue.eq(overdue),
        installments::penalty_cents.eq(Cents::from(penalty)),
        installments::penalty_date.eq(ToText::from(on)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}
