//! Quote (§22 获取申请确认页面信息) and apply (§23 提交贷款申请): the wire fields in, the use cases
//! of pricing and applying, the answer out.

use cashloan_domain::{ContactPhone, TermsError, TermsRequest};
use cashloan_persistence::loans::ApplicationDetails;
use cashloan_protocol::{Json, Map, Outcome, ResponseCode as R};
use serde::Serialize;

use super::products::{OTHER_CHANNELS, PURPOSES};
use super::*;
use crate::context::{bad, ApiError, Ctx, Reply};
use crate::usecases::apply::{self, ApplyError, ApplyInput};
use crate::usecases::pricing;

/// The one mapping from a refused loan term to its response code (code and message: several
/// refusals share a code).
pub(super) fn terms_code(e: TermsError) -> R {
    use TermsError as E;
    match e {
        E::AmountMalformed => R::AmountMalformed,
        E::AmountNotAllowed => R::AmountNotAllowed,
        E::AmountAboveCredit => R::AmountAboveCredit,
        E::RateMalformed => R::RateMalformed,
        E::RateNotAllowed => R::RateNotAllowed,
        E::AprAboveCap => R::AprAboveCap,
        E::TermMalformed => R::TermMalformed,
        E::TermNotAllowed => R::TermNotAllowed,
        E::TermUnitInvalid => R::TermUnitInvalid,
        E::TermUnitNotOffered => R::TermUnitNotOffered,
        E::IntervalMalformed => R::IntervalMalformed,
        E::IntervalNotAllowed => R::IntervalNotAllowed,
        E::IntervalUnitInvalid => R::IntervalUnitInvalid,
        E::IntervalUnitNotAllowed => R::IntervalUnitNotAllowed,
        E::MonthTermDayInterval => R::MonthTermDayInterval,
        E::RepayTypeInvalid => R::RepayTypeInvalid,
        E::RepayTypeNotOffered => R::RepayTypeNotOffered,
        E::DayTermAnnuity => R::DayTermAnnuity,
    }
}

/// The eight loan-term fields of §22/§23, in table order.
struct TermFields<'a> {
    product_id: &'a str,
    req: TermsRequest<'a>,
}

fn term_fields<'a>(ctx: &Ctx<'a>) -> Result<TermFields<'a>, ApiError> {
    let f = &ctx.fields;
    let product_id = f.string("productId")?;
    let amount = f.string("amount")?;
    let term_count = f.string("termCount")?;
    let term_unit = f.string("termUnit")?;
    let repay_term_count = f.string("repayTermCount")?;
    let repay_term_unit = f.string("repayTermUnit")?;
    let repay_type = f.string("repayType")?;
    let interest_rate = f.string("interestRate")?;
    Ok(TermFields {
        product_id,
        req: TermsRequest {
            amount,
            interest_rate,
            term_count,
            term_unit,
            repay_term_count,
            repay_term_unit,
            repay_type,
        },
    })
}

/// One installment of §22's plan.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct QuotedInstallment {
    period_num: String,
    due_repay_date: String,
    due_principal: String,
    due_interest: String,
    fee: String,
    due_amount: String,
}

/// §22's answer: the quote with its true annual cost and plan.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct QuoteAnswer {
    apply_amount: String,
    reply_amount: String,
    total_amount: String,
    total_due_principal: String,
    total_due_interest: String,
    total_due_fee: String,
    repay_time: String,
    apr: String,
    repay_plan: Vec<QuotedInstallment>,
}

/// §22 获取申请确认页面信息.
pub fn quote_terms(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let t = term_fields(ctx)?;
    ctx.fields.formats()?;
    let user = ctx.user()?.clone();
    let today = ctx.today()?;
    let row = ctx.product(t.product_id)?;
    let priced =
        pricing::price_terms(row, &ctx.state.policy, &t.req, today).map_err(pricing_refusal)?;
    let unpaid = ctx.unpaid_installments()?;
    pricing::within_credit(&priced, &user, &unpaid).map_err(pricing_refusal)?;
    let q = priced.quote;
    let repay_plan = q
        .plan
        .installments
        .iter()
        .map(|i| QuotedInstallment {
            period_num: i.period.to_string(),
            due_repay_date: cashloan_domain::format_day(i.due_date),
            due_principal: i.principal.to_string(),
            due_interest: i.interest.to_string(),
            fee: i.fee.to_string(),
            due_amount: i.total().to_string(),
        })
        .collect();
    let answer = QuoteAnswer {
        apply_amount: q.apply_amount.to_string(),
        reply_amount: q.reply_amount.to_string(),
        total_amount: q.total_amount.to_string(),
        total_due_principal: q.total_due_principal.to_string(),
        total_due_interest: q.total_due_interest.to_string(),
        total_due_fee: q.total_due_fee.to_string(),
        repay_time: cashloan_domain::format_day(q.repay_time),
        apr: q.apr.to_string(),
        repay_plan,
    };
    Reply::data(R::QuoteFetched, &answer)
}

fn coordinate(field: &str, v: &str) -> Result<(), ApiError> {
    let digits = v.strip_prefix('-').unwrap_or(v);
    let (int, frac) = digits
        .split_once('.')
        .map_or((digits, None), |(i, f)| (i, Some(f)));
    let ok = (1..=5).contains(&int.len())
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac
            .is_none_or(|f| (1..=10).contains(&f.len()) && f.bytes().all(|b| b.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(bad(field))
    }
}

/// One phone-book entry, as stored with the application.
fn phonebook_entry(item: &Json) -> Option<Json> {
    let m = item.as_object()?;
    let name = m.get("contactName")?.as_str()?;
    let phone = ContactPhone::parse(m.get("contactPhone")?.as_str()?)?;
    if !(1..=64).contains(&name.chars().count()) {
        return None;
    }
    let mut out = Map::new();
    out.insert("contactName", name);
    out.insert("contactPhone", phone.as_str());
    match m.get("remark") {
        None | Some(Json::Null) => {}
        Some(Json::String(r)) if r.chars().count() <= 255 => out.insert("remark", r.as_str()),
        Some(_) => return None,
    }
    Some(Json::Object(out))
}

/// §23 提交贷款申请.
pub fn apply(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let t = term_fields(ctx)?;
    let f = &ctx.fields;
    let longitude = f.string("longitude")?;
    let latitude = f.string("latitude")?;
    let order_id = f.string_max("orderId", 64)?;
    let purpose = f.string("purpose")?;
    let other_channels = f.string("otherChannels")?;
    let phonebook = f.array("phonebookList")?;
    let contact_name = f.opt_string("contactName")?;
    let contact_phone = f.opt_string("contactPhone")?;
    let remark = f.opt_string("remark")?;
    f.formats()?;
    coordinate("longitude", longitude)?;
    coordinate("latitude", latitude)?;
    if !PURPOSES.iter().any(|(k, _)| *k == purpose) {
        return Err(bad("purpose"));
    }
    if !OTHER_CHANNELS.iter().any(|(k, _)| *k == other_channels) {
        return Err(bad("otherChannels"));
    }
    if phonebook.len() > 5000 {
        return Err(bad("phonebookList"));
    }
    let entries: Vec<Json> = phonebook
        .iter()
        .map(phonebook_entry)
        .collect::<Option<_>>()
        .ok_or_else(|| bad("phonebookList"))?;

    let user = ctx.user()?.clone();
    let today = ctx.today()?;
    let input = ApplyInput {
        user: &user,
        product_id: t.product_id,
        terms: t.req,
        details: ApplicationDetails {
            purpose: purpose.into(),
            other_channels: other_channels.into(),
            longitude: longitude.into(),
            latitude: latitude.into(),
            order_id: order_id.into(),
            contact_name: contact_name.map(str::to_owned),
            contact_phone: contact_phone.map(str::to_owned),
            remark: remark.map(str::to_owned),
            phonebook: Json::Array(entries).to_compact_string(),
        },
        today,
        now: ctx.now,
    };
    match apply::apply(ctx.state, &mut ctx.conn, input) {
        Ok(app) => Reply::ok(R::ApplicationSubmitted, Json::from(app.id.as_str())),
        Err(ApplyError::Pricing(e)) => Err(pricing_refusal(e)),
        Err(ApplyError::Unavailable(e)) => Err(e.into()),
        Err(ApplyError::Db(e)) => Err(e.into()),
        Err(refusal) => {
            Err(Outcome::with_detail(R::ApplicationRefused, refusal.to_string()).into())
        }
    }
}
