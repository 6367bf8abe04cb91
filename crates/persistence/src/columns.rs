//! The one mapping between stored text columns and domain values: rates and business dates.
//! A value that does not read back is corruption, reported with its table and column.

use cashloan_domain::{parse_day, Rate};
use chrono::NaiveDate;

use crate::db::{DbError, DbResult};

/// The rate stored in `table.column`.
pub(crate) fn stored_rate(table: &'static str, column: &'static str, text: &str) -> DbResult<Rate> {
    Rate::from_stored(text).ok_or_else(|| corrupt(table, column, text))
}

/// The business date stored in `table.column`.
pub(crate) fn stored_day(
    table: &'static str,
    column: &'static str,
    text: &str,
) -> DbResult<NaiveDate> {
    parse_day(text).ok_or_else(|| corrupt(table, column, text))
}

/// `table.column` holds `value`, which this server never writes.
pub(crate) fn corrupt(table: &'static str, column: &'static str, value: &str) -> DbError {
    DbError::Corrupt {
        table,
        column,
        value: value.to_owned(),
    }
}
