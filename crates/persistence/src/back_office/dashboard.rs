//! The figures of the overview (概览): applications, money out and in, the outstanding book.

use cashloan_domain::{format_day, Money};
use chrono::NaiveDate;
use diesel::prelude::*;

use crate::db::{DbConnection, DbResult};
use crate::loans::{status_is, UNPAID};
use crate::schema::{applications, installments, payments};
use cashloan_domain::ApplyStatus;

/// When (ms) and in which status (code) each application since `from_ms` was made.
pub fn applications_since(conn: &mut DbConnection, from_ms: i64) -> DbResult<Vec<(i64, i32)>> {
    Ok(applications::table
        .filter(applications::applied_at.ge(from_ms))
        .select((applications::applied_at, applications::status))
        .load(conn)?)
}

/// The money movements of the ledger on business days from `from` on: (kind, 分, day).
pub fn movements_since(
    conn: &mut DbConnection,
    from: NaiveDate,
) -> DbResult<Vec<(String, i64, String)>> {
    Ok(payments::table
        .filter(payments::business_date.ge(format_day(from)))
        .select((
            payments::kind,
            payments::amount_cents,
            payments::business_date,
        ))
        .load(conn)?)
}

/// The unpaid principal of every paid-out loan.
pub fn outstanding_principal(conn: &mut DbConnection) -> DbResult<Money> {
    // PostgreSQL sums a BIGINT as NUMERIC: cast back, on both backends alike.
    let sum = diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::BigInt>>(
        "CAST(SUM(installments.principal_cents) AS BIGINT)",
    );
    let cents: Option<i64> = installments::table
        .inner_join(applications::table)
        .filter(applications::status.eq(status_is(ApplyStatus::Disbursed)))
        .filter(installments::status.eq(UNPAID))
        .select(sum)
        .first::<Option<i64>>(conn)?;
    Ok(Money::from_cents(cents.unwrap_or(0)))
}
