//! The products on sale (§20 产品展示接口) and one product with its dictionaries (§21 产品详细信息).

use cashloan_domain::{RepayType, TermUnit};
use cashloan_persistence::products::{list_products_on_sale, ProductRow};
use cashloan_protocol::ResponseCode as R;
use serde::Serialize;

use super::*;
use crate::context::{ApiError, Ctx, Reply};

/// The members §20 and §21 share. §20 leaves out what a product does not set; §21 sends `""`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProductSummary {
    id: String,
    name: String,
    amount_limit_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    single_min_amount: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    single_max_amount: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    single_amounts: Option<String>,
    term_unit: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    days_limit_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    single_min_days: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    single_max_days: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    single_days: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    months_limit_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    single_min_months: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    single_max_months: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    single_months: Option<String>,
}

impl ProductSummary {
    /// The summary of `p`; `all` sends `""` for what is unset instead of leaving it out.
    fn new(p: &ProductRow, all: bool) -> ProductSummary {
        let member = |v: Option<String>| if all { Some(v.unwrap_or_default()) } else { v };
        let count = |v: Option<i32>| member(v.map(|x| x.to_string()));
        // A term limit's members exist only with its type (or, in §21, as "").
        let limit = |kind: Option<i32>, min, max, list: &Option<String>| match kind {
            None => (member(None), member(None), member(None), member(None)),
            Some(k) => (
                Some(k.to_string()),
                count(min),
                count(max),
                member(list.clone()),
            ),
        };
        let (days_limit_type, single_min_days, single_max_days, single_days) =
            limit(p.days_limit_type, p.min_days, p.max_days, &p.days);
        let (months_limit_type, single_min_months, single_max_months, single_months) =
            limit(p.months_limit_type, p.min_months, p.max_months, &p.months);
        ProductSummary {
            id: p.id.clone(),
            name: p.name.clone(),
            amount_limit_type: p.amount_limit_type.to_string(),
            single_min_amount: member(p.single_min_amount.map(money)),
            single_max_amount: member(p.single_max_amount.map(money)),
            single_amounts: member(p.single_amounts.clone()),
            term_unit: p.term_units.clone(),
            days_limit_type,
            single_min_days,
            single_max_days,
            single_days,
            months_limit_type,
            single_min_months,
            single_max_months,
            single_months,
        }
    }
}

/// §20 产品展示接口.
pub fn product_list(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    ctx.fields.formats()?;
    let rows: Vec<ProductSummary> = list_products_on_sale(ctx.conn.get()?)?
        .iter()
        .map(|p| ProductSummary::new(p, false))
        .collect();
    Reply::data(R::ProductsFetched, &rows)
}

/// A code → label dictionary of §21, in its order.
struct Dictionary(Vec<(&'static str, &'static str)>);

impl Serialize for Dictionary {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// §21's answer: the summary, every other setting (`""` when unset) and the dictionaries.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProductDetails {
    #[serde(flatten)]
    summary: ProductSummary,
    detail_description: String,
    third_service_code: String,
    single_default_amount: String,
    interest_rate_limit_type: String,
    min_interest_rate: String,
    max_interest_rate: String,
    interest_rates: String,
    default_interest_rate: String,
    single_default_days: String,
    single_default_months: String,
    repay_type: String,
    default_repay_term_count: String,
    default_repay_term_unit: String,
    repay_term_unit: String,
    term_unit_data: Dictionary,
    repay_term_unit_data: Dictionary,
    repay_type_data: Dictionary,
    purpose_data: Dictionary,
    other_channels_data: Dictionary,
}

/// §21 产品详细信息.
pub fn product_details(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let f = &ctx.fields;
    let id = f.string("productId")?;
    f.formats()?;
    let row = product_on_sale(ctx, id)?;
    let text = |v: Option<String>| v.unwrap_or_default();
    let number = |v: Option<i32>| text(v.map(|d| d.to_string()));
    let units = || {
        Dictionary(
            TermUnit::ALL
                .iter()
                .map(|u| (u.code(), u.label()))
                .collect(),
        )
    };
    let details = ProductDetails {
        summary: ProductSummary::new(&row, true),
        detail_description: row.detail_description.clone(),
        third_service_code: row.third_service_code.clone(),
        single_default_amount: text(row.single_default_amount.map(money)),
        interest_rate_limit_type: row.rate_limit_type.to_string(),
        min_interest_rate: text(row.min_rate.map(|r| r.to_string())),
        max_interest_rate: text(row.max_rate.map(|r| r.to_string())),
        interest_rates: text(row.rates.clone()),
        default_interest_rate: text(row.default_rate.map(|r| r.to_string())),
        single_default_days: number(row.default_days),
        single_default_months: number(row.default_months),
        repay_type: row.repay_types.clone(),
        default_repay_term_count: number(row.default_repay_term_count),
        default_repay_term_unit: text(row.default_repay_term_unit.clone()),
        repay_term_unit: row.repay_term_units.clone(),
        term_unit_data: units(),
        repay_term_unit_data: units(),
        repay_type_data: Dictionary(
            RepayType::ALL
                .iter()
                .map(|t| (t.code(), t.label()))
                .collect(),
        ),
        purpose_data: Dictionary(PURPOSES.to_vec()),
        other_channels_data: Dictionary(OTHER_CHANNELS.to_vec()),
    };
    Reply::data(R::ProductsFetched, &details)
}

pub(super) const PURPOSES: [(&str, &str); 8] = [
    ("15", "租房"),
    ("16", "购物"),
    ("17", "教育/培训"),
    ("18", "医美"),
    ("19", "旅游"),
    ("20", "日常娱乐"),
    ("21", "短期资金周转"),
    ("22", "偿还信用卡"),
];

pub(super) const OTHER_CHANNELS: [(&str, &str); 3] =
    [("01", "无借款"), ("02", "有,已结清"), ("03", "有,未结清")];
