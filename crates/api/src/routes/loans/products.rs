//! The products on sale (§20 产品展示接口) and one product with its dictionaries (§21 产品详细信息).

use cashloan_domain::{RepayType, TermUnit};
use cashloan_persistence::products::{list_products_on_sale, ProductRow};
use cashloan_protocol::{Json, Map, ResponseCode as R};

use super::*;
use crate::context::{ApiError, Ctx, Reply};

/// The columns of one term limit (days or months) of a product row.
struct TermLimitColumns<'a> {
    kind: i32,
    min: Option<i32>,
    max: Option<i32>,
    list: Option<&'a str>,
}

/// Writes a term limit as `[type, min, max, list]` members.
fn limit_members(m: &mut Map, names: [&str; 4], limit: Option<TermLimitColumns<'_>>, all: bool) {
    let Some(l) = limit else {
        if all {
            for name in names {
                m.insert(name, "");
            }
        }
        return;
    };
    m.insert(names[0], l.kind.to_string());
    let opt = |v: Option<i32>| v.map(|x| x.to_string());
    for (name, value) in [
        (names[1], opt(l.min)),
        (names[2], opt(l.max)),
        (names[3], l.list.map(str::to_owned)),
    ] {
        match value {
            Some(v) => m.insert(name, v),
            None if all => m.insert(name, ""),
            None => {}
        }
    }
}

/// The members §20 and §21 share; `all` fills unset ones with `""` (§21) instead of leaving
/// them out (§20).
fn product_members(p: &ProductRow, all: bool) -> Map {
    let mut m = Map::new();
    m.insert("id", p.id.as_str());
    m.insert("name", p.name.as_str());
    m.insert("amountLimitType", p.amount_limit_type.to_string());
    for (name, v) in [
        ("singleMinAmount", p.single_min_amount_cents.map(money)),
        ("singleMaxAmount", p.single_max_amount_cents.map(money)),
        ("singleAmounts", p.single_amounts.clone()),
    ] {
        match v {
            Some(v) => m.insert(name, v),
            None if all => m.insert(name, ""),
            None => {}
        }
    }
    m.insert("termUnit", p.term_units.as_str());
    limit_members(
        &mut m,
        [
            "daysLimitType",
            "singleMinDays",
            "singleMaxDays",
            "singleDays",
        ],
        p.days_limit_type.map(|kind| TermLimitColumns {
            kind,
            min: p.min_days,
            max: p.max_days,
            list: p.days.as_deref(),
        }),
        all,
    );
    limit_members(
        &mut m,
        [
            "monthsLimitType",
            "singleMinMonths",
            "singleMaxMonths",
            "singleMonths",
        ],
        p.months_limit_type.map(|kind| TermLimitColumns {
            kind,
            min: p.min_months,
            max: p.max_months,
            list: p.months.as_deref(),
        }),
        all,
    );
    m
}

/// §20 产品展示接口.
pub fn product_list(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    ctx.fields.formats()?;
    let rows: Vec<Json> = list_products_on_sale(ctx.conn.get()?)?
        .iter()
        .map(|p| Json::Object(product_members(p, false)))
        .collect();
    Reply::ok(R::ProductsFetched, Json::Array(rows))
}

fn dictionary(pairs: &[(&str, &str)]) -> Json {
    let mut m = Map::new();
    for (k, v) in pairs {
        m.insert(*k, *v);
    }
    Json::Object(m)
}

/// §21 产品详细信息.
pub fn product_details(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let f = &ctx.fields;
    let id = f.string("productId")?;
    f.formats()?;
    let row = product_on_sale(ctx, id)?;
    let mut m = product_members(&row, true);
    let text = |v: Option<String>| v.unwrap_or_default();
    m.insert("detailDescription", row.detail_description.as_str());
    m.insert("thirdServiceCode", row.third_service_code.as_str());
    m.insert(
        "singleDefaultAmount",
        text(row.single_default_amount_cents.map(money)),
    );
    m.insert("interestRateLimitType", row.rate_limit_type.to_string());
    m.insert("minInterestRate", text(row.min_rate.clone()));
    m.insert("maxInterestRate", text(row.max_rate.clone()));
    m.insert("interestRates", text(row.rates.clone()));
    m.insert("defaultInterestRate", text(row.default_rate.clone()));
    m.insert(
        "singleDefaultDays",
        text(row.default_days.map(|d| d.to_string())),
    );
    m.insert(
        "singleDefaultMonths",
        text(row.default_months.map(|d| d.to_string())),
    );
    m.insert("repayType", row.repay_types.as_str());
    m.insert(
        "defaultRepayTermCount",
        text(row.default_repay_term_count.map(|d| d.to_string())),
    );
    m.insert(
        "defaultRepayTermUnit",
        text(row.default_repay_term_unit.clone()),
    );
    m.insert("repayTermUnit", row.repay_term_units.as_str());
    let units: Vec<(&str, &str)> = TermUnit::ALL
        .iter()
        .map(|u| (u.code(), u.label()))
        .collect();
    m.insert("termUnitData", dictionary(&units));
    m.insert("repayTermUnitData", dictionary(&units));
    let types: Vec<(&str, &str)> = RepayType::ALL
        .iter()
        .map(|t| (t.code(), t.label()))
        .collect();
    m.insert("repayTypeData", dictionary(&types));
    m.insert("purposeData", dictionary(&PURPOSES));
    m.insert("otherChannelsData", dictionary(&OTHER_CHANNELS));
    Reply::ok(R::ProductsFetched, Json::Object(m))
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
