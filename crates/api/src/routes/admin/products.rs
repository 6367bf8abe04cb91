//! Loan products (贷款产品): list, create and replace, in §21's member names. A product that
//! breaks a rule of the domain (its limits incoherent, or able to cost more than the APR cap) is
//! refused with the rule.

use actix_web::http::StatusCode;
use cashloan_domain::{Limit, LimitPartMissing, LoanProduct, Money, Rate, RepayType, TermUnit};
use cashloan_persistence::accounts::new_id;
use cashloan_persistence::back_office::ProposalKind;
use cashloan_persistence::products::{
    find_product, insert_product, list_products, update_product, ProductRow,
};
use serde::{Deserialize, Serialize};

use super::{fault, money, ok, with_status, AdminCall, Answer, Refusal};
use crate::context::{AppState, Lease};

/// A product as operators write it: §21's member names, values as text.
#[derive(Deserialize, Serialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductBody {
    code: Option<String>,
    name: Option<String>,
    detail_description: Option<String>,
    third_service_code: Option<String>,
    amount_limit_type: Option<String>,
    single_min_amount: Option<String>,
    single_max_amount: Option<String>,
    single_amounts: Option<String>,
    single_default_amount: Option<String>,
    interest_rate_limit_type: Option<String>,
    min_interest_rate: Option<String>,
    max_interest_rate: Option<String>,
    interest_rates: Option<String>,
    default_interest_rate: Option<String>,
    term_unit: Option<String>,
    days_limit_type: Option<String>,
    single_min_days: Option<String>,
    single_max_days: Option<String>,
    single_days: Option<String>,
    single_default_days: Option<String>,
    months_limit_type: Option<String>,
    single_min_months: Option<String>,
    single_max_months: Option<String>,
    single_months: Option<String>,
    single_default_months: Option<String>,
    repay_type: Option<String>,
    repay_term_unit: Option<String>,
    default_repay_term_count: Option<String>,
    default_repay_term_unit: Option<String>,
    penalty_rate: Option<String>,
    service_fee_rate: Option<String>,
    upfront_fee_rate: Option<String>,
    on_sale: Option<bool>,
    display_order: Option<i64>,
}

/// A product as operators read it.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductView {
    id: String,
    code: String,
    name: String,
    on_sale: bool,
    display_order: i32,
    amount_limit_type: i32,
    single_min_amount: Option<String>,
    single_max_amount: Option<String>,
    single_amounts: Option<String>,
    interest_rate_limit_type: i32,
    min_interest_rate: Option<String>,
    max_interest_rate: Option<String>,
    interest_rates: Option<String>,
    term_unit: String,
    single_days: Option<String>,
    single_min_days: Option<i32>,
    single_max_days: Option<i32>,
    single_months: Option<String>,
    single_min_months: Option<i32>,
    single_max_months: Option<i32>,
    repay_type: String,
    repay_term_unit: String,
    penalty_rate: Option<String>,
    service_fee_rate: String,
    upfront_fee_rate: String,
}

impl ProductView {
    pub(super) fn new(p: &ProductRow) -> ProductView {
        ProductView {
            id: p.id.clone(),
            code: p.code.clone(),
            name: p.name.clone(),
            on_sale: p.on_sale,
            display_order: p.display_order,
            amount_limit_type: p.amount_limit_type,
            single_min_amount: money(p.single_min_amount),
            single_max_amount: money(p.single_max_amount),
            single_amounts: p.single_amounts.clone(),
            interest_rate_limit_type: p.rate_limit_type,
            min_interest_rate: p.min_rate.map(|r| r.to_string()),
            max_interest_rate: p.max_rate.map(|r| r.to_string()),
            interest_rates: p.rates.clone(),
            term_unit: p.term_units.clone(),
            single_days: p.days.clone(),
            single_min_days: p.min_days,
            single_max_days: p.max_days,
            single_months: p.months.clone(),
            single_min_months: p.min_months,
            single_max_months: p.max_months,
            repay_type: p.repay_types.clone(),
            repay_term_unit: p.repay_term_units.clone(),
            penalty_rate: p.penalty_rate.map(|r| r.to_string()),
            service_fee_rate: p.service_fee_rate.to_string(),
            upfront_fee_rate: p.upfront_fee_rate.to_string(),
        }
    }
}

/// The four members of one limit, with their names for errors.
struct LimitMembers<'a> {
    names: [&'a str; 4],
    kind: Option<&'a str>,
    min: Option<&'a str>,
    max: Option<&'a str>,
    values: Option<&'a str>,
}

/// A limit from its members: the type (`0` range, `1` fixed; absent means none when `optional`),
/// the min, max and comma-separated values, each read by `parse` (`what` it is, for errors).
fn limit<T: Copy + PartialOrd>(
    m: LimitMembers<'_>,
    optional: bool,
    what: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<Limit<T>>, Refusal> {
    let [kind, min, max, list] = m.names;
    let code = match m.kind {
        None | Some("") if optional => return Ok(None),
        None => return Err(Refusal::BadRequest(format!("{kind} is required"))),
        Some("0") => 0,
        Some("1") => 1,
        Some(_) => return Err(Refusal::Unprocessable(format!("{kind} must be 0 or 1"))),
    };
    let unprocessable = |k: &str| Refusal::Unprocessable(format!("{k}: not {what}"));
    let one = |k: &str, v: Option<&str>| -> Result<Option<T>, Refusal> {
        v.map(|v| parse(v.trim()).ok_or_else(|| unprocessable(k)))
            .transpose()
    };
    let values = m
        .values
        .map(|v| {
            v.split(',')
                .map(|item| parse(item.trim()).ok_or_else(|| unprocessable(list)))
                .collect::<Result<Vec<T>, _>>()
        })
        .transpose()?;
    Limit::from_parts(code, one(min, m.min)?, one(max, m.max)?, values)
        .map(Some)
        .map_err(|missing| {
            let member = match missing {
                LimitPartMissing::Min => min,
                LimitPartMissing::Max => max,
                LimitPartMissing::Values => list,
                LimitPartMissing::Type => kind,
            };
            Refusal::BadRequest(format!("{member} is required"))
        })
}

/// A comma-separated list of codes, each read by `parse`.
fn codes<T>(
    key: &str,
    text: Option<&str>,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Vec<T>, Refusal> {
    text.ok_or_else(|| Refusal::BadRequest(format!("{key} is required")))?
        .split(',')
        .map(|c| {
            parse(c.trim())
                .ok_or_else(|| Refusal::Unprocessable(format!("{key}: unknown code {c}")))
        })
        .collect()
}

/// An optional value: absent or empty is none, anything else must read as `what`.
fn optional<T>(
    key: &str,
    text: Option<&str>,
    what: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, Refusal> {
    text.filter(|v| !v.is_empty())
        .map(|v| parse(v).ok_or_else(|| Refusal::Unprocessable(format!("{key}: not {what}"))))
        .transpose()
}

fn parse_count(v: &str) -> Option<u32> {
    v.trim().parse().ok()
}

impl ProductBody {
    /// The body that describes stored product `p` in full: what `PUT /admin/products/{id}`
    /// takes to leave it as it is (the console's edit form starts from it).
    fn of(p: &ProductRow) -> ProductBody {
        let text = |v: Option<i32>| v.map(|n| n.to_string());
        let rate = |v: Option<Rate>| v.map(|r| r.to_string());
        ProductBody {
            code: Some(p.code.clone()),
            name: Some(p.name.clone()),
            detail_description: Some(p.detail_description.clone()).filter(|d| !d.is_empty()),
            third_service_code: Some(p.third_service_code.clone()).filter(|d| !d.is_empty()),
            amount_limit_type: Some(p.amount_limit_type.to_string()),
            single_min_amount: money(p.single_min_amount),
            single_max_amount: money(p.single_max_amount),
            single_amounts: p.single_amounts.clone(),
            single_default_amount: money(p.single_default_amount),
            interest_rate_limit_type: Some(p.rate_limit_type.to_string()),
            min_interest_rate: rate(p.min_rate),
            max_interest_rate: rate(p.max_rate),
            interest_rates: p.rates.clone(),
            default_interest_rate: rate(p.default_rate),
            term_unit: Some(p.term_units.clone()),
            days_limit_type: text(p.days_limit_type),
            single_min_days: text(p.min_days),
            single_max_days: text(p.max_days),
            single_days: p.days.clone(),
            single_default_days: text(p.default_days),
            months_limit_type: text(p.months_limit_type),
            single_min_months: text(p.min_months),
            single_max_months: text(p.max_months),
            single_months: p.months.clone(),
            single_default_months: text(p.default_months),
            repay_type: Some(p.repay_types.clone()),
            repay_term_unit: Some(p.repay_term_units.clone()),
            default_repay_term_count: text(p.default_repay_term_count),
            default_repay_term_unit: p.default_repay_term_unit.clone(),
            penalty_rate: rate(p.penalty_rate),
            service_fee_rate: Some(p.service_fee_rate.to_string()),
            upfront_fee_rate: Some(p.upfront_fee_rate.to_string()),
            on_sale: Some(p.on_sale),
            display_order: Some(i64::from(p.display_order)),
        }
    }

    /// The product the body describes, under `id`.
    fn product(&self, id: String) -> Result<LoanProduct, Refusal> {
        fn d(v: &Option<String>) -> Option<&str> {
            v.as_deref()
        }
        let amount_limit = limit(
            LimitMembers {
                names: [
                    "amountLimitType",
                    "singleMinAmount",
                    "singleMaxAmount",
                    "singleAmounts",
                ],
                kind: d(&self.amount_limit_type),
                min: d(&self.single_min_amount),
                max: d(&self.single_max_amount),
                values: d(&self.single_amounts),
            },
            false,
            "an amount",
            Money::parse_amount,
        )?;
        let rate_limit = limit(
            LimitMembers {
                names: [
                    "interestRateLimitType",
                    "minInterestRate",
                    "maxInterestRate",
                    "interestRates",
                ],
                kind: d(&self.interest_rate_limit_type),
                min: d(&self.min_interest_rate),
                max: d(&self.max_interest_rate),
                values: d(&self.interest_rates),
            },
            false,
            "a rate",
            Rate::parse,
        )?;
        let (Some(amount_limit), Some(rate_limit)) = (amount_limit, rate_limit) else {
            return Err(fault("a required limit came back as none"));
        };
        let days_limit = limit(
            LimitMembers {
                names: [
                    "daysLimitType",
                    "singleMinDays",
                    "singleMaxDays",
                    "singleDays",
                ],
                kind: d(&self.days_limit_type),
                min: d(&self.single_min_days),
                max: d(&self.single_max_days),
                values: d(&self.single_days),
            },
            true,
            "a count",
            parse_count,
        )?;
        let months_limit = limit(
            LimitMembers {
                names: [
                    "monthsLimitType",
                    "singleMinMonths",
                    "singleMaxMonths",
                    "singleMonths",
                ],
                kind: d(&self.months_limit_type),
                min: d(&self.single_min_months),
                max: d(&self.single_max_months),
                values: d(&self.single_months),
            },
            true,
            "a count",
            parse_count,
        )?;
        let amount =
            |k: &str, v: &Option<String>| optional(k, d(v), "an amount", Money::parse_amount);
        let rate = |k: &str, v: &Option<String>| optional(k, d(v), "a rate", Rate::parse);
        let count = |k: &str, v: &Option<String>| optional(k, d(v), "a count", parse_count);
        Ok(LoanProduct {
            id,
            name: self
                .name
                .clone()
                .ok_or_else(|| Refusal::BadRequest("name is required".into()))?,
            detail_description: self.detail_description.clone().unwrap_or_default(),
            third_service_code: self.third_service_code.clone().unwrap_or_default(),
            amount_limit,
            default_amount: amount("singleDefaultAmount", &self.single_default_amount)?,
            rate_limit,
            default_rate: rate("defaultInterestRate", &self.default_interest_rate)?,
            term_units: codes("termUnit", d(&self.term_unit), TermUnit::parse)?,
            days_limit,
            default_days: count("singleDefaultDays", &self.single_default_days)?,
            months_limit,
            default_months: count("singleDefaultMonths", &self.single_default_months)?,
            repay_types: codes("repayType", d(&self.repay_type), RepayType::parse)?,
            repay_term_units: codes("repayTermUnit", d(&self.repay_term_unit), TermUnit::parse)?,
            default_repay_term_count: count(
                "defaultRepayTermCount",
                &self.default_repay_term_count,
            )?,
            default_repay_term_unit: d(&self.default_repay_term_unit)
                .filter(|v| !v.is_empty())
                .map(|u| {
                    TermUnit::parse(u).ok_or_else(|| {
                        Refusal::Unprocessable("defaultRepayTermUnit must be 1 or 2".into())
                    })
                })
                .transpose()?,
            penalty_rate: rate("penaltyRate", &self.penalty_rate)?,
            service_fee_rate: rate("serviceFeeRate", &self.service_fee_rate)?.unwrap_or(Rate::ZERO),
            upfront_fee_rate: rate("upfrontFeeRate", &self.upfront_fee_rate)?.unwrap_or(Rate::ZERO),
            on_sale: self.on_sale.unwrap_or(true),
            display_order: self
                .display_order
                .and_then(|n| i32::try_from(n).ok())
                .unwrap_or(100),
        })
    }
}

/// The product, unless it breaks a rule of the domain.
fn checked(st: &AppState, p: LoanProduct) -> Result<LoanProduct, Refusal> {
    p.check(&st.policy)
        .map_err(|e| Refusal::Unprocessable(format!("product refused: {e}")))?;
    Ok(p)
}

/// `GET /admin/products`.
pub(super) fn list(_: &AppState, lease: &mut Lease<'_>, _: &AdminCall) -> Answer {
    #[derive(Serialize)]
    struct Products {
        items: Vec<ProductView>,
    }
    let rows = list_products(lease.get()?)?;
    ok(Products {
        items: rows.iter().map(ProductView::new).collect(),
    })
}

/// What a product change proposal holds: the product's id, whether it is new, and §21's body.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProductChange {
    create: bool,
    product: ProductBody,
}

/// The body of the call as §21's product, and as it was sent (kept in the proposal).
fn product_body(call: &AdminCall) -> Result<(ProductBody, serde_json::Value), Refusal> {
    let b: ProductBody = call.body()?;
    let raw: serde_json::Value = call.body()?;
    Ok((b, raw))
}

/// `GET /admin/products/{id}`: the product in §21's member names, every member: the body that
/// `PUT` takes to leave it as it is.
pub(super) fn get(_: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    let p = find_product(lease.get()?, &call.param("id"))?
        .ok_or_else(|| Refusal::NotFound("no such product".into()))?;
    ok(ProductBody::of(&p))
}

/// `POST /admin/products`: checks the product and proposes it (202); it is made when another
/// admin confirms the proposal.
pub(super) fn propose_create(st: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    let (b, raw) = product_body(call)?;
    let id = new_id();
    checked(st, b.product(id.clone())?)?;
    let payload = serde_json::json!({"create": true, "product": raw});
    super::proposals::propose(st, lease, call, ProposalKind::ProductChange, &id, &payload)
}

/// `PUT /admin/products/{id}`: checks the product and proposes the change (202).
pub(super) fn propose_replace(st: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    let id = call.param("id");
    let (b, raw) = product_body(call)?;
    find_product(lease.get()?, &id)?.ok_or_else(|| Refusal::NotFound("no such product".into()))?;
    checked(st, b.product(id.clone())?)?;
    let payload = serde_json::json!({"create": false, "product": raw});
    super::proposals::propose(st, lease, call, ProposalKind::ProductChange, &id, &payload)
}

/// Carries out a confirmed product change: the call's `{id}` is the product, its body the
/// proposal's payload.
pub(super) fn apply_change(st: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    let change: ProductChange = call.body()?;
    let id = call.param("id");
    if change.create {
        create(st, lease, change.product, id)
    } else {
        replace(st, lease, change.product, id)
    }
}

/// Makes product `id` of `b`: 201, or 409 when its code is taken.
fn create(st: &AppState, lease: &mut Lease<'_>, b: ProductBody, id: String) -> Answer {
    let p = checked(st, b.product(id)?)?;
    let now = st.now_ms();
    let code = b.code.clone().unwrap_or_else(|| {
        format!(
            "PRODUCT{}",
            p.id.chars().take(8).collect::<String>().to_uppercase()
        )
    });
    let row = ProductRow::from_domain(&p, &code, now, now);
    match insert_product(lease.get()?, &row) {
        Ok(()) => with_status(StatusCode::CREATED, ProductView::new(&row)),
        Err(e) if e.is_unique_violation() => {
            Err(Refusal::Conflict("a product with this code exists".into()))
        }
        Err(e) => Err(fault(e)),
    }
}

/// Replaces product `id` with `b`.
fn replace(st: &AppState, lease: &mut Lease<'_>, b: ProductBody, id: String) -> Answer {
    let conn = lease.get()?;
    let old =
        find_product(conn, &id)?.ok_or_else(|| Refusal::NotFound("no such product".into()))?;
    let p = checked(st, b.product(id.clone())?)?;
    let code = b.code.clone().unwrap_or(old.code);
    let row = ProductRow::from_domain(&p, &code, old.created_at, st.now_ms());
    update_product(conn, &row)?;
    ok(ProductView::new(&row))
}
