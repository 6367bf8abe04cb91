//! Loan products (§20, §21): stored as operators configure them, read back as the domain's
//! [`LoanProduct`] for validation and pricing.

use crate::cached::cached;
use crate::columns::typed::{FromText, MaybeCents, MaybeFromText, MaybeToText, ToText};
use cashloan_domain::{Limit, LoanProduct, Money, Rate, RepayType, TermUnit};
use diesel::prelude::*;

use crate::db::{DbConnection, DbError, DbResult};
use crate::schema::products;

/// A product row. Comma-separated lists are kept as configured (§20/§21 send them so).
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = products)]
#[diesel(treat_none_as_null = true)]
pub struct ProductRow {
    /// Id (UUID).
    pub id: String,
    /// Product code (产品代码), e.g. `PRODUCT20171025001`.
    pub code: String,
    /// Name.
    pub name: String,
    /// Description, items separated by `;`.
    pub detail_description: String,
    /// Third-party service codes, comma-separated.
    pub third_service_code: String,
    /// 0 range, 1 fixed amounts.
    pub amount_limit_type: i32,
    /// Range minimum, 分.
    #[diesel(column_name = single_min_amount_cents, deserialize_as = MaybeCents, serialize_as = MaybeCents)]
    pub single_min_amount: Option<Money>,
    /// Range maximum, 分.
    #[diesel(column_name = single_max_amount_cents, deserialize_as = MaybeCents, serialize_as = MaybeCents)]
    pub single_max_amount: Option<Money>,
    /// Fixed amounts, comma-separated, as configured.
    pub single_amounts: Option<String>,
    /// Default amount, 分.
    #[diesel(column_name = single_default_amount_cents, deserialize_as = MaybeCents, serialize_as = MaybeCents)]
    pub single_default_amount: Option<Money>,
    /// 0 range, 1 fixed rates.
    pub rate_limit_type: i32,
    /// Range minimum rate.
    #[diesel(deserialize_as = MaybeFromText<Rate>, serialize_as = MaybeToText)]
    pub min_rate: Option<Rate>,
    /// Range maximum rate.
    #[diesel(deserialize_as = MaybeFromText<Rate>, serialize_as = MaybeToText)]
    pub max_rate: Option<Rate>,
    /// Fixed rates, comma-separated.
    pub rates: Option<String>,
    /// Default rate.
    #[diesel(deserialize_as = MaybeFromText<Rate>, serialize_as = MaybeToText)]
    pub default_rate: Option<Rate>,
    /// Term units offered, comma-separated (`1`, `2`).
    pub term_units: String,
    /// 0 range, 1 fixed day terms; none when days are not offered.
    pub days_limit_type: Option<i32>,
    /// Range minimum days.
    pub min_days: Option<i32>,
    /// Range maximum days.
    pub max_days: Option<i32>,
    /// Fixed day terms, comma-separated.
    pub days: Option<String>,
    /// Default days.
    pub default_days: Option<i32>,
    /// 0 range, 1 fixed month terms; none when months are not offered.
    pub months_limit_type: Option<i32>,
    /// Range minimum months.
    pub min_months: Option<i32>,
    /// Range maximum months.
    pub max_months: Option<i32>,
    /// Fixed month terms, comma-separated.
    pub months: Option<String>,
    /// Default months.
    pub default_months: Option<i32>,
    /// Repay types offered, comma-separated (`1`..`4`).
    pub repay_types: String,
    /// Repayment interval units offered, comma-separated.
    pub repay_term_units: String,
    /// Default repayment interval count.
    pub default_repay_term_count: Option<i32>,
    /// Default repayment interval unit.
    pub default_repay_term_unit: Option<String>,
    /// Annual penalty rate.
    #[diesel(deserialize_as = MaybeFromText<Rate>, serialize_as = MaybeToText)]
    pub penalty_rate: Option<Rate>,
    /// Service fee per period, fraction of principal.
    #[diesel(deserialize_as = FromText<Rate>, serialize_as = ToText)]
    pub service_fee_rate: Rate,
    /// Upfront fee, fraction of principal.
    #[diesel(deserialize_as = FromText<Rate>, serialize_as = ToText)]
    pub upfront_fee_rate: Rate,
    /// On sale.
    pub on_sale: bool,
    /// Display order (lower first).
    pub display_order: i32,
    /// Created at (ms).
    pub created_at: i64,
    /// Changed at (ms).
    pub updated_at: i64,
}

fn corrupt(column: &'static str, value: &str) -> DbError {
    crate::columns::corrupt("products", column, value)
}

fn list<T>(
    column: &'static str,
    text: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> DbResult<Vec<T>> {
    text.split(',')
        .map(|item| parse(item.trim()).ok_or_else(|| corrupt(column, text)))
        .collect()
}

fn count(column: &'static str, v: i32) -> DbResult<u32> {
    u32::try_from(v).map_err(|_| corrupt(column, &v.to_string()))
}

/// A limit of its stored columns (`column` names them in an error).
fn stored_limit<T: Copy + PartialOrd>(
    column: &'static str,
    kind: i32,
    min: Option<T>,
    max: Option<T>,
    values: Option<Vec<T>>,
) -> DbResult<Limit<T>> {
    Limit::from_parts(i64::from(kind), min, max, values)
        .map_err(|missing| corrupt(column, &format!("{missing:?}")))
}

fn term_limit(
    column: &'static str,
    kind: Option<i32>,
    min: Option<i32>,
    max: Option<i32>,
    fixed: Option<&str>,
) -> DbResult<Option<Limit<u32>>> {
    let Some(kind) = kind else {
        return Ok(None);
    };
    let values = fixed
        .map(|v| list(column, v, |s| s.parse::<u32>().ok()))
        .transpose()?;
    let min = min.map(|v| count(column, v)).transpose()?;
    let max = max.map(|v| count(column, v)).transpose()?;
    stored_limit(column, kind, min, max, values).map(Some)
}

impl ProductRow {
    /// The product as the domain sees it.
    pub fn to_domain(&self) -> DbResult<LoanProduct> {
        let amount_limit = stored_limit(
            "amount_limit_type",
            self.amount_limit_type,
            self.single_min_amount,
            self.single_max_amount,
            self.single_amounts
                .as_deref()
                .map(|v| list("single_amounts", v, Money::parse_amount))
                .transpose()?,
        )?;
        let rate_limit = stored_limit(
            "rate_limit_type",
            self.rate_limit_type,
            self.min_rate,
            self.max_rate,
            self.rates
                .as_deref()
                .map(|v| list("rates", v, Rate::from_stored))
                .transpose()?,
        )?;
        Ok(LoanProduct {
            id: self.id.clone(),
            name: self.name.clone(),
            detail_description: self.detail_description.clone(),
            third_service_code: self.third_service_code.clone(),
            amount_limit,
            default_amount: self.single_default_amount,
            rate_limit,
            default_rate: self.default_rate,
            term_units: list("term_units", &self.term_units, TermUnit::parse)?,
            days_limit: term_limit(
                "days",
                self.days_limit_type,
                self.min_days,
                self.max_days,
                self.days.as_deref(),
            )?,
            default_days: self
                .default_days
                .map(|d| count("default_days", d))
                .transpose()?,
            months_limit: term_limit(
                "months",
                self.months_limit_type,
                self.min_months,
                self.max_months,
                self.months.as_deref(),
            )?,
            default_months: self
                .default_months
                .map(|d| count("default_months", d))
                .transpose()?,
            repay_types: list("repay_types", &self.repay_types, RepayType::parse)?,
            repay_term_units: list("repay_term_units", &self.repay_term_units, TermUnit::parse)?,
            default_repay_term_count: self
                .default_repay_term_count
                .map(|d| count("default_repay_term_count", d))
                .transpose()?,
            default_repay_term_unit: self
                .default_repay_term_unit
                .as_deref()
                .map(|u| TermUnit::parse(u).ok_or_else(|| corrupt("default_repay_term_unit", u)))
                .transpose()?,
            penalty_rate: self.penalty_rate,
            service_fee_rate: self.service_fee_rate,
            upfront_fee_rate: self.upfront_fee_rate,
            on_sale: self.on_sale,
            display_order: self.display_order,
        })
    }

    /// The row of a domain product, with its code and timestamps.
    pub fn from_domain(
        p: &LoanProduct,
        code: &str,
        created_at: i64,
        updated_at: i64,
    ) -> ProductRow {
        fn join<T>(items: &[T], f: impl Fn(&T) -> String) -> String {
            items.iter().map(f).collect::<Vec<_>>().join(",")
        }
        fn term_columns(
            l: Option<&Limit<u32>>,
        ) -> (Option<i32>, Option<i32>, Option<i32>, Option<String>) {
            let to_i32 = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
            match l.map(Limit::parts) {
                None => (None, None, None, None),
                Some((kind, min, max, values)) => (
                    Some(kind),
                    min.map(to_i32),
                    max.map(to_i32),
                    values.map(|v| join(v, u32::to_string)),
                ),
            }
        }
        let (amount_limit_type, single_min, single_max, single_amounts) = {
            let (kind, min, max, values) = p.amount_limit.parts();
            (
                kind,
                min,
                max,
                values.map(|v| join(v, |m| format_list_amount(*m))),
            )
        };
        let (rate_limit_type, min_rate, max_rate, rates) = {
            let (kind, min, max, values) = p.rate_limit.parts();
            (kind, min, max, values.map(|v| join(v, Rate::to_string)))
        };
        let (days_limit_type, min_days, max_days, days) = term_columns(p.days_limit.as_ref());
        let (months_limit_type, min_months, max_months, months) =
            term_columns(p.months_limit.as_ref());
        let opt_i32 = |v: Option<u32>| v.map(|d| i32::try_from(d).unwrap_or(i32::MAX));
        ProductRow {
            id: p.id.clone(),
            code: code.to_owned(),
            name: p.name.clone(),
            detail_description: p.detail_description.clone(),
            third_service_code: p.third_service_code.clone(),
            amount_limit_type,
            single_min_amount: single_min,
            single_max_amount: single_max,
            single_amounts,
            single_default_amount: p.default_amount,
            rate_limit_type,
            min_rate,
            max_rate,
            rates,
            default_rate: p.default_rate,
            term_units: join(&p.term_units, |u| u.code().to_owned()),
            days_limit_type,
            min_days,
            max_days,
            days,
            default_days: opt_i32(p.default_days),
            months_limit_type,
            min_months,
            max_months,
            months,
            default_months: opt_i32(p.default_months),
            repay_types: join(&p.repay_types, |t| t.code().to_owned()),
            repay_term_units: join(&p.repay_term_units, |u| u.code().to_owned()),
            default_repay_term_count: opt_i32(p.default_repay_term_count),
            default_repay_term_unit: p.default_repay_term_unit.map(|u| u.code().to_owned()),
            penalty_rate: p.penalty_rate,
            service_fee_rate: p.service_fee_rate,
            upfront_fee_rate: p.upfront_fee_rate,
            on_sale: p.on_sale,
            display_order: p.display_order,
            created_at,
            updated_at,
        }
    }
}

/// An amount in a comma-separated list: whole yuan without decimals (`2000`, as the seed's
/// samples write them), otherwise with two.
pub fn format_list_amount(m: Money) -> String {
    if m.cents() % 100 == 0 {
        (m.cents() / 100).to_string()
    } else {
        m.to_string()
    }
}

/// Stores a new product.
pub fn insert_product(conn: &mut DbConnection, row: &ProductRow) -> DbResult<()> {
    crate::db::write_statement(conn, |conn| {
        diesel::insert_into(products::table)
            .values(row.clone())
            .execute(conn)?;
        Ok(())
    })
}

/// Replaces a product; false when there is none with that id.
pub fn update_product(conn: &mut DbConnection, row: &ProductRow) -> DbResult<bool> {
    crate::db::write_statement(conn, |conn| {
        let n =
            cached(diesel::update(products::table.find(&row.id)).set(row.clone())).execute(conn)?;
        Ok(n == 1)
    })
}

/// The product `id`, on sale or not.
pub fn find_product(conn: &mut DbConnection, id: &str) -> DbResult<Option<ProductRow>> {
    Ok(per_backend!(conn, c => products::table
        .find(id)
        .select(ProductRow::as_select())
        .first(c)
        .optional()?))
}

/// Products on sale in display order, then by creation.
pub fn list_products_on_sale(conn: &mut DbConnection) -> DbResult<Vec<ProductRow>> {
    Ok(products::table
        .filter(products::on_sale.eq(true))
        .order((
            products::display_order.asc(),
            products::created_at.asc(),
            products::id.asc(),
        ))
        .select(ProductRow::as_select())
        .load(conn)?)
}

/// Every product, for operators.
pub fn list_products(conn: &mut DbConnection) -> DbResult<Vec<ProductRow>> {
    Ok(products::table
        .order((
            products::display_order.asc(),
            products::created_at.asc(),
            products::id.asc(),
        ))
        .select(ProductRow::as_select())
        .load(conn)?)
}

/// How many products exist.
pub fn count_products(conn: &mut DbConnection) -> DbResult<i64> {
    Ok(products::table.count().get_result(conn)?)
}
