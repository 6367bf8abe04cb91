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

/// Typed columns: a row field holds the domain's type, and these local newtypes carry it to and
/// from its column (`#[diesel(deserialize_as, serialize_as)]`). They are written once for every
/// backend that can read and write the column's plain type, so SQLite, PostgreSQL and the
/// `MultiConnection` dispatching between them all work alike.
pub mod typed {
    use cashloan_domain::{parse_day, ApplyStatus, RepayStatus};
    use chrono::NaiveDate;
    use diesel::backend::Backend;
    use diesel::deserialize::{self, FromSql, FromSqlRow};
    use diesel::expression::AsExpression;
    use diesel::serialize::{self, Output, ToSql};
    use diesel::sql_types::{Integer, Text};

    /// Codes the integer columns hold; a `'static` place for `ToSql` to point at.
    static CODES: [i32; 6] = [0, 1, 2, 3, 4, 5];

    fn code_ref(code: u8) -> &'static i32 {
        &CODES[usize::from(code).min(CODES.len() - 1)]
    }

    /// A domain type stored as a small integer code.
    macro_rules! coded_column {
        ($(#[$doc:meta])* $column:ident($domain:ty), $what:literal, $decode:expr) => {
            $(#[$doc])*
            #[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
            #[diesel(sql_type = Integer)]
            pub struct $column(pub $domain);

            impl<DB: Backend> ToSql<Integer, DB> for $column
            where
                i32: ToSql<Integer, DB>,
            {
                fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                    code_ref(self.0.code()).to_sql(out)
                }
            }

            impl<DB: Backend> FromSql<Integer, DB> for $column
            where
                i32: FromSql<Integer, DB>,
            {
                fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                    let code = i32::from_sql(bytes)?;
                    let decode: fn(i32) -> Option<$domain> = $decode;
                    decode(code)
                        .map($column)
                        .ok_or_else(|| format!("{code} is no {}", $what).into())
                }
            }

            impl From<$column> for $domain {
                fn from(c: $column) -> $domain {
                    c.0
                }
            }

            impl From<$domain> for $column {
                fn from(d: $domain) -> $column {
                    $column(d)
                }
            }
        };
    }

    coded_column!(
        /// An application's status in `applications.status`.
        ApplyStatusColumn(ApplyStatus),
        "application status",
        |code| ApplyStatus::from_code(i64::from(code))
    );

    coded_column!(
        /// An installment's status in `installments.status`.
        RepayStatusColumn(RepayStatus),
        "repay status",
        |code| match code {
            0 => Some(RepayStatus::Unpaid),
            1 => Some(RepayStatus::Paid),
            _ => None,
        }
    );

    /// A business date read from its `YYYY-MM-DD` text column.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, FromSqlRow)]
    pub struct DayColumn(pub NaiveDate);

    impl<DB: Backend> FromSql<Text, DB> for DayColumn
    where
        String: FromSql<Text, DB>,
    {
        fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
            let text = String::from_sql(bytes)?;
            parse_day(&text)
                .map(DayColumn)
                .ok_or_else(|| format!("{text:?} is no YYYY-MM-DD date").into())
        }
    }

    impl From<DayColumn> for NaiveDate {
        fn from(d: DayColumn) -> NaiveDate {
            d.0
        }
    }

    /// A business date as the text its column holds (what is written).
    #[derive(Debug, Clone, PartialEq, Eq, AsExpression)]
    #[diesel(sql_type = Text)]
    pub struct DayText(pub String);

    impl<DB: Backend> ToSql<Text, DB> for DayText
    where
        String: ToSql<Text, DB>,
    {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
            self.0.to_sql(out)
        }
    }

    impl From<NaiveDate> for DayText {
        fn from(d: NaiveDate) -> DayText {
            DayText(cashloan_domain::format_day(d))
        }
    }
}
