//! Products (§20, §21), quote (§22), application (§23), messages (§24, §25), repayment list
//! (§26), user centre (§27), my loans (§28, §29) and repayment (§36).

use std::collections::HashMap;

use cashloan_domain::{ContactPhone, Money, RepayType, TermUnit, TermsError, TermsRequest};
use cashloan_persistence::loans::{
    find_user_application, list_application_installments, list_contracts, list_customer_messages,
    list_user_applications, list_user_installments, user_disbursed_principal,
    user_unpaid_installments, ApplicationDetails, PageRequest, RepayFilter,
};
use cashloan_persistence::products::{list_products_on_sale, ProductRow};
use cashloan_persistence::profile::find_identity;
use cashloan_persistence::site::list_system_messages;
use cashloan_protocol::{Envelope, Json, Map, Outcome, Paging, ResponseCode as R};

use crate::context::{bad, paging_fields, ApiError, Ctx, Reply};
use crate::usecases::apply::{self, ApplyError, ApplyInput};
use crate::usecases::pricing::{self, PricingError};
use crate::usecases::repay::{self, RepayOutcome};

fn money(cents: i64) -> String {
    Money::from_cents(cents).to_string()
}

fn page_request(num: u32, size: u32) -> PageRequest {
    PageRequest {
        offset: i64::from(num - 1) * i64::from(size),
        limit: i64::from(size),
    }
}

fn paged(code: R, rows: Vec<Json>, num: u32, size: u32, total: i64) -> Result<Reply, ApiError> {
    Ok(Reply {
        envelope: Envelope::paged(
            code,
            rows,
            Paging {
                page_num: num,
                page_size: size,
                total: u64::try_from(total).unwrap_or(0),
            },
        ),
        cookie: None,
    })
}

/// A pricing refusal as the app hears it.
fn pricing_refusal(e: PricingError) -> ApiError {
    match e {
        PricingError::ProductNotFound => R::ProductNotFound.into(),
        PricingError::Terms(t) => terms_code(t).into(),
        PricingError::Db(e) => e.into(),
    }
}

/// The product `id` if it is on sale.
fn product_on_sale(ctx: &mut Ctx<'_>, id: &str) -> Result<ProductRow, ApiError> {
    pricing::product_on_sale(ctx.conn.get()?, id)
        .map(|(row, _)| row)
        .map_err(pricing_refusal)
}

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

const PURPOSES: [(&str, &str); 8] = [
    ("15", "租房"),
    ("16", "购物"),
    ("17", "教育/培训"),
    ("18", "医美"),
    ("19", "旅游"),
    ("20", "日常娱乐"),
    ("21", "短期资金周转"),
    ("22", "偿还信用卡"),
];

const OTHER_CHANNELS: [(&str, &str); 3] =
    [("01", "无借款"), ("02", "有,已结清"), ("03", "有,未结清")];

/// The one mapping from a refused loan term to its response code (code and message: several
/// refusals share a code).
fn terms_code(e: TermsError) -> R {
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

/// §22 获取申请确认页面信息.
pub fn quote_terms(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let t = term_fields(ctx)?;
    ctx.fields.formats()?;
    let user = ctx.user()?.clone();
    let today = ctx.today()?;
    let q = pricing::price(
        ctx.conn.get()?,
        &ctx.state.policy,
        &user,
        t.product_id,
        &t.req,
        today,
    )
    .map_err(pricing_refusal)?
    .quote;
    let plan: Vec<Json> = q
        .plan
        .installments
        .iter()
        .map(|i| {
            let mut r = Map::new();
            r.insert("periodNum", i.period.to_string());
            r.insert("dueRepayDate", cashloan_domain::format_day(i.due_date));
            r.insert("duePrincipal", i.principal.to_string());
            r.insert("dueInterest", i.interest.to_string());
            r.insert("fee", i.fee.to_string());
            r.insert("dueAmount", i.total().to_string());
            Json::Object(r)
        })
        .collect();
    let mut m = Map::new();
    m.insert("applyAmount", q.apply_amount.to_string());
    m.insert("replyAmount", q.reply_amount.to_string());
    m.insert("totalAmount", q.total_amount.to_string());
    m.insert("totalDuePrincipal", q.total_due_principal.to_string());
    m.insert("totalDueInterest", q.total_due_interest.to_string());
    m.insert("totalDueFee", q.total_due_fee.to_string());
    m.insert("repayTime", cashloan_domain::format_day(q.repay_time));
    m.insert("apr", q.apr.to_string());
    m.insert("repayPlan", Json::Array(plan));
    Reply::ok(R::QuoteFetched, Json::Object(m))
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

/// §24 获取客户消息.
pub fn customer_messages(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let p = paging_fields(&ctx.fields)?;
    ctx.fields.formats()?;
    let (num, size) = p.check()?;
    let user_id = ctx.user()?.id.clone();
    let (rows, total) = list_customer_messages(ctx.conn.get()?, &user_id, page_request(num, size))?;
    let rows = rows
        .into_iter()
        .map(|m| {
            let mut r = Map::new();
            r.insert("id", m.id);
            r.insert("messageContent", m.content);
            r.insert("messageTitle", m.title);
            r.insert("messageType", m.message_type);
            r.insert("sendDate", ctx.state.format_time(m.sent_at));
            Json::Object(r)
        })
        .collect();
    paged(R::CustomerMessagesFetched, rows, num, size, total)
}

/// §25 获取系统消息.
pub fn system_messages(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let p = paging_fields(&ctx.fields)?;
    ctx.fields.formats()?;
    let (num, size) = p.check()?;
    let (rows, total) = list_system_messages(ctx.conn.get()?, ctx.now, page_request(num, size))?;
    let rows = rows
        .into_iter()
        .map(|m| {
            let mut r = Map::new();
            r.insert("eventUrl", m.event_url);
            r.insert("id", m.id);
            r.insert("messageContent", m.content);
            r.insert("messageTitle", m.title);
            r.insert("messageType", m.message_type);
            r.insert("sendDate", ctx.state.format_time(m.send_at));
            Json::Object(r)
        })
        .collect();
    paged(R::SystemMessagesFetched, rows, num, size, total)
}

/// §26 获取还款信息.
pub fn repay_list(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let p = paging_fields(&ctx.fields)?;
    let condition = ctx.fields.opt_string("condition")?;
    ctx.fields.formats()?;
    let (num, size) = p.check()?;
    let filter = match condition.unwrap_or("") {
        "" | "0" => RepayFilter::All,
        "1" => RepayFilter::Paid,
        "2" => RepayFilter::Unpaid,
        "3" => RepayFilter::Overdue,
        "4" => RepayFilter::Prepaid,
        _ => return Err(bad("condition")),
    };
    let user_id = ctx.user()?.id.clone();
    let today = ctx.today()?;
    let (rows, total) = list_user_installments(
        ctx.conn.get()?,
        &user_id,
        filter,
        today,
        page_request(num, size),
    )?;
    let mut contracts: HashMap<String, Option<String>> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let i = &row.installment;
        let owed = i.amounts(row.penalty()?, today)?;
        let contract = match contracts.get(&i.application_id) {
            Some(c) => c.clone(),
            None => {
                let c = list_contracts(ctx.conn.get()?, &i.application_id)?
                    .into_iter()
                    .next()
                    .map(|(_, path)| path);
                contracts.insert(i.application_id.clone(), c.clone());
                c
            }
        };
        let total = owed.total();
        let mut r = Map::new();
        r.insert("id", i.id.as_str());
        r.insert("productName", row.product_name.as_str());
        r.insert("code", row.loan_code.as_str());
        r.insert("periodNum", i.period.to_string());
        r.insert("dueRepayDate", format!("{} 23:59:59", i.due_date));
        r.insert("repayStatus", i.status.to_string());
        r.insert("applyAmount", money(row.loan_amount_cents.unwrap_or(0)));
        r.insert("duePrincipal", owed.principal.to_string());
        r.insert("dueInterest", owed.interest.to_string());
        r.insert("duePenalty", owed.penalty.to_string());
        r.insert("dueFeeAmount", owed.fee.to_string());
        r.insert("dueTotalAmount", total.to_string());
        r.insert(
            "needPayTotalAmount",
            if i.is_paid() { Money::ZERO } else { total }.to_string(),
        );
        if let Some(url) = contract {
            r.insert("contractUrl", url);
        }
        out.push(Json::Object(r));
    }
    paged(R::RepayInfoFetched, out, num, size, total)
}

/// §27 获取个人中心统计数据.
pub fn user_centre(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    ctx.fields.formats()?;
    let user = ctx.user()?.clone();
    let today = ctx.today()?;
    let identity = find_identity(ctx.conn.get()?, &user.id)?;
    let (total, available) = pricing::credit(ctx.conn.get()?, &user)?;
    let mut need_pay = Money::ZERO;
    for row in user_unpaid_installments(ctx.conn.get()?, &user.id)? {
        need_pay += row.installment.amounts(row.penalty()?, today)?.total();
    }
    let mut m = Map::new();
    m.insert(
        "realName",
        identity.map(|i| i.real_name).unwrap_or_default(),
    );
    m.insert("mobile", user.mobile.as_str());
    m.insert("availableCredit", available.to_string());
    m.insert("totalCredit", total.to_string());
    m.insert(
        "totalApplyAmount",
        money(user_disbursed_principal(ctx.conn.get()?, &user.id)?),
    );
    m.insert("totalNeedPayAmount", need_pay.to_string());
    Reply::ok(R::UserCenterFetched, Json::Object(m))
}

/// §28 我的借款(借款信息).
pub fn my_loans(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let p = paging_fields(&ctx.fields)?;
    ctx.fields.formats()?;
    let (num, size) = p.check()?;
    let user_id = ctx.user()?.id.clone();
    let (apps, total) = list_user_applications(ctx.conn.get()?, &user_id, page_request(num, size))?;
    let mut rows = Vec::with_capacity(apps.len());
    for a in apps {
        let contracts: Vec<Json> = list_contracts(ctx.conn.get()?, &a.id)?
            .into_iter()
            .map(|(name, path)| {
                let mut c = Map::new();
                c.insert("contractName", name);
                c.insert("contractPath", path);
                Json::Object(c)
            })
            .collect();
        let mut r = Map::new();
        r.insert("id", a.id.as_str());
        r.insert("loanProductId", a.product_id.as_str());
        r.insert("name", a.product_name.as_str());
        r.insert("code", a.product_code.as_str());
        r.insert("applyStatus", a.status.to_string());
        // The vendor's own §28 sample carries the status here (its applyStatus is null): an
        // app written against the sample may read it.
        r.insert("status", a.status.to_string());
        r.insert("applyAmount", money(a.amount_cents));
        r.insert("replyAmount", a.reply_amount_cents.map(money));
        r.insert("repayType", a.repay_type.as_str());
        r.insert(
            "releaseDate",
            a.disbursed_at.map(|t| ctx.state.format_time(t)),
        );
        r.insert("applyTime", Json::Number(a.applied_at.to_string()));
        r.insert("termCount", a.term_count.to_string());
        r.insert("termUnit", a.term_unit.as_str());
        r.insert("interestRate", a.interest_rate.as_str());
        r.insert("penaltyRate", a.penalty_rate.clone());
        r.insert("authTermCount", a.auth_term_count.map(|c| c.to_string()));
        r.insert("authTermUnit", a.auth_term_unit.clone());
        r.insert("useType", a.purpose.as_str());
        r.insert("otherChannels", a.other_channels.as_str());
        r.insert("contractInfoList", Json::Array(contracts));
        rows.push(Json::Object(r));
    }
    paged(R::LoansFetched, rows, num, size, total)
}

/// §29 我的借款(每期还款).
pub fn loan_plan(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let p = paging_fields(&ctx.fields)?;
    let id = ctx.fields.string("loanProductApplyId")?;
    ctx.fields.formats()?;
    let (num, size) = p.check()?;
    let user_id = ctx.user()?.id.clone();
    let app = find_user_application(ctx.conn.get()?, &user_id, id)?
        .ok_or_else(|| ApiError::from(Outcome::failed("借款申请不存在")))?;
    let (rows, total) =
        list_application_installments(ctx.conn.get()?, &app.id, page_request(num, size))?;
    let today = ctx.today()?;
    let mut out = Vec::with_capacity(rows.len());
    for i in rows {
        let owed = i.amounts(app.penalty()?, today)?;
        let due = cashloan_domain::parse_day(&i.due_date)
            .ok_or_else(|| ApiError::Fault(format!("corrupt due date {}", i.due_date)))?;
        let mut r = Map::new();
        r.insert("repayId", i.id.as_str());
        r.insert("periodNum", i.period.to_string());
        r.insert(
            "dueRepayDate",
            Json::Number(ctx.state.end_of_day_ms(due).to_string()),
        );
        r.insert("duePrincipal", owed.principal.to_string());
        r.insert("dueInterest", owed.interest.to_string());
        r.insert("fee", owed.fee.to_string());
        r.insert(
            "dueAmount",
            (owed.principal + owed.interest + owed.fee).to_string(),
        );
        r.insert("loanProductApplyId", app.id.as_str());
        out.push(Json::Object(r));
    }
    paged(R::LoanPlanFetched, out, num, size, total)
}

/// §36 还款.
pub fn repay(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let f = &ctx.fields;
    let id = f.string("id")?;
    let kind = f.string("repayType")?;
    f.formats()?;
    let payoff = match kind {
        "current" => false,
        "all" => true,
        _ => return Err(bad("repayType")),
    };
    let user = ctx.user()?.clone();
    let today = ctx.today()?;
    let channel = ctx.state.providers.payments.as_ref();
    match repay::repay(channel, &mut ctx.conn, &user.id, id, payoff, today)? {
        RepayOutcome::Paid { amount, settled } => {
            tracing::info!(user = %user.id, installment = id, %amount, settled, payoff, "repaid");
            Reply::empty(R::Repaid)
        }
        RepayOutcome::Processing => {
            tracing::info!(user = %user.id, installment = id, payoff, "repayment awaits the channel");
            Err(R::RepaymentProcessing.into())
        }
        RepayOutcome::NotFound => Err(R::InstallmentNotFound.into()),
        RepayOutcome::AlreadyPaid => Err(R::AlreadyPaid.into()),
        RepayOutcome::EarlierUnpaid => Err(R::EarlierInstallmentUnpaid.into()),
        RepayOutcome::Refused(reason) => {
            tracing::warn!(user = %user.id, installment = id, %reason, "payment channel refused");
            Err(R::PaymentFailed.into())
        }
    }
}
