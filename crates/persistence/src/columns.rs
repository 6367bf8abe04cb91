//! The one mapping between stored columns and domain values: money, rates, codes and dates.
//! A value that does not read back is corruption, reported with its table and column.

use cashloan_domain::parse_day;
use chrono::NaiveDate;

use crate::db::{DbError, DbResult};

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
    use cashloan_domain::Money;
    use cashloan_domain::{parse_day, ApplyStatus, Rate, RepayStatus, RepayType, TermUnit};
    use chrono::NaiveDate;
    use diesel::backend::Backend;
    use diesel::deserialize::{self, FromSql, FromSqlRow, Queryable};
    use diesel::expression::AsExpression;
    use diesel::serialize::{self, IsNull, Output, ToSql};
    use diesel::sql_types::{BigInt, Integer, Nullable, Text};

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

    /// An amount of money in a `BigInt` column of 分 (`*_cents`): the one place amounts become
    /// integers and back.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
    #[diesel(sql_type = BigInt)]
    pub struct Cents(pub i64);

    impl<DB: Backend> ToSql<BigInt, DB> for Cents
    where
        i64: ToSql<BigInt, DB>,
    {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
            self.0.to_sql(out)
        }
    }

    impl<DB: Backend> FromSql<BigInt, DB> for Cents
    where
        i64: FromSql<BigInt, DB>,
    {
        fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
            i64::from_sql(bytes).map(Cents)
        }
    }

    impl From<Cents> for Money {
        fn from(c: Cents) -> Money {
            Money::from_cents(c.0)
        }
    }

    impl From<Money> for Cents {
        fn from(m: Money) -> Cents {
            Cents(m.cents())
        }
    }

    /// An optional amount in a `Nullable<BigInt>` column of 分.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression)]
    #[diesel(sql_type = Nullable<BigInt>)]
    pub struct MaybeCents(pub Option<i64>);

    impl<DB: Backend> ToSql<Nullable<BigInt>, DB> for MaybeCents
    where
        i64: ToSql<BigInt, DB>,
    {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
            match &self.0 {
                Some(cents) => <i64 as ToSql<BigInt, DB>>::to_sql(cents, out),
                None => Ok(IsNull::Yes),
            }
        }
    }

    impl<DB> Queryable<Nullable<BigInt>, DB> for MaybeCents
    where
        DB: Backend,
        i64: FromSql<BigInt, DB>,
    {
        type Row = Option<i64>;
        fn build(cents: Option<i64>) -> deserialize::Result<Self> {
            Ok(MaybeCents(cents))
        }
    }

    impl From<MaybeCents> for Option<Money> {
        fn from(c: MaybeCents) -> Option<Money> {
            c.0.map(Money::from_cents)
        }
    }

    impl From<Option<Money>> for MaybeCents {
        fn from(m: Option<Money>) -> MaybeCents {
            MaybeCents(m.map(Money::cents))
        }
    }

    /// A domain value kept in a text column: how it reads back and how it is written.
    pub trait TextValue: Sized {
        /// What it is, for the error when a stored text is none.
        const WHAT: &'static str;
        /// The value a stored text holds, if it is one.
        fn read(text: &str) -> Option<Self>;
        /// The text stored for the value.
        fn write(&self) -> String;
    }

    impl TextValue for NaiveDate {
        const WHAT: &'static str = "YYYY-MM-DD date";
        fn read(text: &str) -> Option<Self> {
            parse_day(text)
        }
        fn write(&self) -> String {
            cashloan_domain::format_day(*self)
        }
    }

    impl TextValue for Rate {
        const WHAT: &'static str = "rate";
        fn read(text: &str) -> Option<Self> {
            Rate::from_stored(text)
        }
        fn write(&self) -> String {
            self.to_string()
        }
    }

    impl TextValue for TermUnit {
        const WHAT: &'static str = "term unit";
        fn read(text: &str) -> Option<Self> {
            TermUnit::parse(text)
        }
        fn write(&self) -> String {
            self.code().to_owned()
        }
    }

    impl TextValue for RepayType {
        const WHAT: &'static str = "repay type";
        fn read(text: &str) -> Option<Self> {
            RepayType::parse(text)
        }
        fn write(&self) -> String {
            self.code().to_owned()
        }
    }

    impl TextValue for cashloan_domain::Rounding {
        const WHAT: &'static str = "rounding";
        fn read(text: &str) -> Option<Self> {
            cashloan_domain::Rounding::parse(text)
        }
        fn write(&self) -> String {
            self.as_str().to_owned()
        }
    }

    impl TextValue for crate::payment_orders::OrderKind {
        const WHAT: &'static str = "payment order kind";
        fn read(text: &str) -> Option<Self> {
            Self::parse(text)
        }
        fn write(&self) -> String {
            self.as_str().to_owned()
        }
    }

    impl TextValue for crate::payment_orders::OrderStatus {
        const WHAT: &'static str = "payment order status";
        fn read(text: &str) -> Option<Self> {
            Self::parse(text)
        }
        fn write(&self) -> String {
            self.as_str().to_owned()
        }
    }

    fn read<T: TextValue>(text: &str) -> deserialize::Result<T> {
        T::read(text).ok_or_else(|| format!("{text:?} is no {}", T::WHAT).into())
    }

    /// Reads a text column as `T`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct FromText<T>(pub T);

    impl<T, DB> Queryable<Text, DB> for FromText<T>
    where
        T: TextValue,
        DB: Backend,
        String: FromSql<Text, DB>,
    {
        type Row = String;
        fn build(text: String) -> deserialize::Result<Self> {
            read(&text).map(FromText)
        }
    }

    /// Reads a nullable text column as `Option<T>`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct MaybeFromText<T>(pub Option<T>);

    impl<T, DB> Queryable<Nullable<Text>, DB> for MaybeFromText<T>
    where
        T: TextValue,
        DB: Backend,
        String: FromSql<Text, DB>,
    {
        type Row = Option<String>;
        fn build(text: Option<String>) -> deserialize::Result<Self> {
            text.map(|t| read(&t)).transpose().map(MaybeFromText)
        }
    }

    /// A value as the text its column holds (what is written).
    #[derive(Debug, Clone, PartialEq, Eq, AsExpression)]
    #[diesel(sql_type = Text)]
    pub struct ToText(pub String);

    impl<DB: Backend> ToSql<Text, DB> for ToText
    where
        String: ToSql<Text, DB>,
    {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
            self.0.to_sql(out)
        }
    }

    /// An optional value as the text (or null) its column holds.
    #[derive(Debug, Clone, PartialEq, Eq, AsExpression)]
    #[diesel(sql_type = Nullable<Text>)]
    pub struct MaybeToText(pub Option<String>);

    impl<DB: Backend> ToSql<Nullable<Text>, DB> for MaybeToText
    where
        String: ToSql<Text, DB>,
    {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
            match &self.0 {
                Some(text) => <String as ToSql<Text, DB>>::to_sql(text, out),
                None => Ok(IsNull::Yes),
            }
        }
    }

    macro_rules! text_values {
        ($($t:ty),*) => {$(
            impl From<FromText<$t>> for $t {
                fn from(v: FromText<$t>) -> $t {
                    v.0
                }
            }
            impl From<MaybeFromText<$t>> for Option<$t> {
                fn from(v: MaybeFromText<$t>) -> Option<$t> {
                    v.0
                }
            }
            impl From<$t> for ToText {
                fn from(v: $t) -> ToText {
                    ToText(v.write())
                }
            }
            impl From<Option<$t>> for MaybeToText {
                fn from(v: Option<$t>) -> MaybeToText {
                    MaybeToText(v.map(|v| v.write()))
                }
            }
        )*};
    }

    text_values!(
        NaiveDate,
        Rate,
        TermUnit,
        RepayType,
        cashloan_domain::Rounding,
        crate::payment_orders::OrderKind,
        crate::payment_orders::OrderStatus
    );
}
