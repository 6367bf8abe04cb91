//! Authentication and profile: status (§19), bank card (§30), carrier (§31), identity (§32),
//! personal information (§33, §34) and contacts (§35).

use cashloan_domain::{BankCardNo, ContactPhone, IdCardNo, Money, PersonName};
use cashloan_persistence::profile::{
    find_bank_card, find_identity, find_personal_info, list_contacts, save_personal_info,
    PersonalInfo,
};
use cashloan_persistence::site::is_blacklisted;
use cashloan_protocol::{Json, Outcome, ResponseCode as R};
use serde::Serialize;

use crate::context::{bad, ApiError, Ctx, Reply};
use crate::routes::auth::mobile;
use crate::usecases::authenticate_bank_card::{authenticate_bank_card, BankCardError};
use crate::usecases::authenticate_identity::{authenticate_identity, IdentityError};
use crate::usecases::authenticate_mobile::{authenticate_mobile, MobileAuthError};
use crate::usecases::contacts::{save_contact as save_contact_of, ContactError, ContactInput};

fn flag(b: bool) -> &'static str {
    if b {
        "1"
    } else {
        "0"
    }
}

fn failed(message: &str) -> ApiError {
    Outcome::failed(message).into()
}

/// §19's answer: each authentication done (`1`) or not (`0`), and what was authenticated.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AuthStatus<'a> {
    real_name_auth_status: &'static str,
    bank_card_auth_status: &'static str,
    customer_info_status: &'static str,
    mobile_auth_status: &'static str,
    is_black_list: &'static str,
    is_risk: &'static str,
    auth_real_name: &'a str,
    auth_number: &'a str,
    bank_card_number: &'a str,
    bank_card_mobile: &'a str,
}

/// §19 获取认证状态信息.
pub fn auth_status(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    ctx.fields.formats()?;
    let user = ctx.user()?.clone();
    let identity = if user.real_name_auth {
        find_identity(ctx.conn.get()?, &user.id)?
    } else {
        None
    };
    let card = if user.bank_card_auth {
        find_bank_card(ctx.conn.get()?, &user.id)?
    } else {
        None
    };
    let blacklisted = is_blacklisted(ctx.conn.get()?, &user.mobile)?;
    let status = AuthStatus {
        real_name_auth_status: flag(user.real_name_auth),
        bank_card_auth_status: flag(user.bank_card_auth),
        customer_info_status: flag(user.customer_info_auth),
        mobile_auth_status: flag(user.mobile_auth),
        is_black_list: flag(blacklisted),
        is_risk: flag(user.is_risk),
        auth_real_name: identity.as_ref().map_or("", |i| i.real_name.as_str()),
        auth_number: identity.as_ref().map_or("", |i| i.id_card_no.as_str()),
        bank_card_number: card.as_ref().map_or("", |c| c.card_no.as_str()),
        bank_card_mobile: card.as_ref().map_or("", |c| c.reserved_mobile.as_str()),
    };
    Reply::data(R::AuthStatusFetched, &status)
}

/// §30 银行卡认证.
pub fn auth_bank_card(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let f = &ctx.fields;
    let card_text = f.string("bankCardNo")?;
    let mobile_text = f.string("mobile")?;
    f.formats()?;
    let card = BankCardNo::parse(card_text).ok_or(R::BankCardMalformed)?;
    let reserved = mobile(mobile_text)?;
    let user = ctx.user()?.clone();
    match authenticate_bank_card(ctx.state, &mut ctx.conn, &user, &card, &reserved, ctx.now) {
        Ok(()) => Reply::empty(R::BankCardAuthenticated),
        Err(BankCardError::Unavailable(e)) => Err(e.into()),
        Err(BankCardError::Db(e)) => Err(e.into()),
        Err(refusal) => Err(failed(&refusal.to_string())),
    }
}

/// §31 手机实名认证.
pub fn auth_mobile(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    ctx.fields.formats()?;
    let user = ctx.user()?.clone();
    match authenticate_mobile(ctx.state, &mut ctx.conn, &user, ctx.now) {
        Ok(()) => Reply::empty(R::MobileAuthenticated),
        Err(MobileAuthError::Unavailable(e)) => Err(e.into()),
        Err(MobileAuthError::Db(e)) => Err(e.into()),
        Err(refusal) => Err(failed(&refusal.to_string())),
    }
}

/// §32 身份信息认证(实名认证).
pub fn auth_real_name(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let f = &ctx.fields;
    let name_text = f.string("realName")?;
    let id_text = f.string("idCardNo")?;
    f.formats()?;
    let name = PersonName::parse(name_text).ok_or(R::NameMalformed)?;
    let id = IdCardNo::parse(id_text).ok_or(R::IdCardMalformed)?;
    let user = ctx.user()?.clone();
    let mobile_status = Json::from(flag(user.mobile_auth));
    let today = ctx.today()?;
    match authenticate_identity(ctx.state, &mut ctx.conn, &user, &name, &id, today, ctx.now) {
        Ok(()) => Reply::ok(R::RealNameAuthenticated, mobile_status),
        Err(IdentityError::Unavailable(e)) => Err(e.into()),
        Err(IdentityError::Db(e)) => Err(e.into()),
        Err(refusal) => Err(failed(&refusal.to_string())),
    }
}

/// A contact of §33.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ContactRow {
    id: String,
    rel_type: String,
    real_name: String,
    phone_num: String,
}

/// §33's answer. Its member names mix camelCase and snake_case as the vendor's table does.
#[derive(Serialize)]
struct PersonalInfoAnswer {
    education: String,
    #[serde(rename = "martialStatus")]
    martial_status: String,
    registry_province: String,
    registry_city: String,
    registry_detail: String,
    house_address_province: String,
    house_address_city: String,
    house_address_county: String,
    house_address_detail: String,
    #[serde(rename = "residenceLength")]
    residence_length: String,
    #[serde(rename = "industryType")]
    industry_type: String,
    work_address_province: String,
    work_address_city: String,
    work_address_county: String,
    work_address_detail: String,
    #[serde(rename = "workingHours")]
    working_hours: String,
    #[serde(rename = "currentWorkInfo")]
    current_work_info: String,
    #[serde(rename = "currentPosition")]
    current_position: String,
    #[serde(rename = "monthIncome")]
    month_income: String,
    #[serde(rename = "payrollDay")]
    payroll_day: String,
    #[serde(rename = "relShipList")]
    rel_ship_list: Vec<ContactRow>,
}

/// §33 完善信息-查看.
pub fn personal_info(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    ctx.fields.formats()?;
    let user_id = ctx.user()?.id.clone();
    let info = find_personal_info(ctx.conn.get()?, &user_id)?;
    let get = |f: fn(&PersonalInfo) -> &str| info.as_ref().map_or("", f).to_owned();
    let rel_ship_list = list_contacts(ctx.conn.get()?, &user_id)?
        .into_iter()
        .map(|c| ContactRow {
            id: c.id,
            rel_type: c.rel_type,
            real_name: c.real_name,
            phone_num: c.phone,
        })
        .collect();
    let answer = PersonalInfoAnswer {
        education: get(|i| &i.education),
        martial_status: get(|i| &i.marital_status),
        registry_province: get(|i| &i.registry_province),
        registry_city: get(|i| &i.registry_city),
        registry_detail: get(|i| &i.registry_detail),
        house_address_province: get(|i| &i.house_province),
        house_address_city: get(|i| &i.house_city),
        house_address_county: get(|i| &i.house_county),
        house_address_detail: get(|i| &i.house_detail),
        residence_length: get(|i| &i.residence_length),
        industry_type: get(|i| &i.industry_type),
        work_address_province: get(|i| &i.work_province),
        work_address_city: get(|i| &i.work_city),
        work_address_county: get(|i| &i.work_county),
        work_address_detail: get(|i| &i.work_detail),
        working_hours: get(|i| &i.working_hours),
        current_work_info: get(|i| &i.employer),
        current_position: get(|i| &i.job_position),
        month_income: info.as_ref().map_or_else(String::new, |i| {
            Money::from_cents(i.month_income_cents).to_string()
        }),
        payroll_day: info
            .as_ref()
            .and_then(|i| i.payroll_day)
            .map_or_else(String::new, |d| d.to_string()),
        rel_ship_list,
    };
    Reply::data(R::PersonalInfoFetched, &answer)
}

fn one_of(field: &str, value: &str, allowed: &[&str]) -> Result<(), ApiError> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(bad(field))
    }
}

fn region(field: &str, value: &str) -> Result<(), ApiError> {
    if value.len() == 6 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(bad(field))
    }
}

fn text(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if (1..=max).contains(&value.chars().count()) && !value.trim().is_empty() {
        Ok(())
    } else {
        Err(bad(field))
    }
}

const DURATIONS: [&str; 5] = ["01", "02", "03", "04", "05"];

/// §34 完善信息保存.
pub fn save_personal(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let f = &ctx.fields;
    let names = [
        "education",
        "martialStatus",
        "registry_province",
        "registry_city",
        "registry_detail",
        "house_address_province",
        "house_address_city",
        "house_address_county",
        "house_address_detail",
        "residenceLength",
        "industryType",
        "work_address_province",
        "work_address_city",
        "work_address_county",
        "work_address_detail",
        "workingHours",
        "currentWorkInfo",
        "currentPosition",
        "monthIncome",
    ];
    let mut v = Vec::with_capacity(names.len());
    for name in names {
        v.push(f.string(name)?);
    }
    let payroll = f.opt_string("payrollDay")?;
    f.formats()?;
    let education: Vec<String> = (1..=7).map(|n| n.to_string()).collect();
    let industries: Vec<String> = (1..=14).map(|n| n.to_string()).collect();
    one_of(
        "education",
        v[0],
        &education.iter().map(String::as_str).collect::<Vec<_>>(),
    )?;
    one_of("martialStatus", v[1], &["1", "2", "3", "4"])?;
    region("registry_province", v[2])?;
    region("registry_city", v[3])?;
    text("registry_detail", v[4], 200)?;
    region("house_address_province", v[5])?;
    region("house_address_city", v[6])?;
    region("house_address_county", v[7])?;
    text("house_address_detail", v[8], 200)?;
    one_of("residenceLength", v[9], &DURATIONS)?;
    one_of(
        "industryType",
        v[10],
        &industries.iter().map(String::as_str).collect::<Vec<_>>(),
    )?;
    region("work_address_province", v[11])?;
    region("work_address_city", v[12])?;
    region("work_address_county", v[13])?;
    text("work_address_detail", v[14], 200)?;
    one_of("workingHours", v[15], &DURATIONS)?;
    text("currentWorkInfo", v[16], 100)?;
    text("currentPosition", v[17], 50)?;
    let income = income_cents(v[18]).ok_or_else(|| bad("monthIncome"))?;
    let payroll_day = match payroll {
        None => None,
        Some(d) => Some(
            (d.len() <= 2 && d.bytes().all(|b| b.is_ascii_digit()))
                .then(|| d.parse::<i32>().ok())
                .flatten()
                .filter(|n| (1..=31).contains(n))
                .ok_or_else(|| bad("payrollDay"))?,
        ),
    };
    let info = PersonalInfo {
        user_id: ctx.user()?.id.clone(),
        education: v[0].into(),
        marital_status: v[1].into(),
        registry_province: v[2].into(),
        registry_city: v[3].into(),
        registry_detail: v[4].into(),
        house_province: v[5].into(),
        house_city: v[6].into(),
        house_county: v[7].into(),
        house_detail: v[8].into(),
        residence_length: v[9].into(),
        industry_type: v[10].into(),
        work_province: v[11].into(),
        work_city: v[12].into(),
        work_county: v[13].into(),
        work_detail: v[14].into(),
        working_hours: v[15].into(),
        employer: v[16].into(),
        job_position: v[17].into(),
        month_income_cents: income,
        payroll_day,
        updated_at: ctx.now,
    };
    save_personal_info(ctx.conn.get()?, &info)?;
    Reply::empty(R::PersonalInfoSaved)
}

/// `^\d{1,10}(\.\d{1,2})?$` in 分.
fn income_cents(text: &str) -> Option<i64> {
    let (int, frac) = text
        .split_once('.')
        .map_or((text, None), |(i, f)| (i, Some(f)));
    if int.is_empty() || int.len() > 10 || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if let Some(f) = frac {
        if f.is_empty() || f.len() > 2 || !f.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    Money::parse_amount(text).map(Money::cents)
}

/// §35 新增、修改联系人信息.
pub fn save_contact(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let f = &ctx.fields;
    let id = f.opt_string("id")?;
    let oper = f.string("operType")?;
    let rel = f.string("relType")?;
    let name = f.string("realName")?;
    let phone = f.string("phoneNum")?;
    f.formats()?;
    let update = match oper {
        "add" => false,
        "update" => true,
        _ => return Err(bad("operType")),
    };
    let id = match (update, id) {
        (true, Some(id)) if !id.is_empty() => Some(id),
        (true, _) => return Err(bad("id")),
        (false, _) => None,
    };
    one_of("relType", rel, &["1", "2", "3", "4", "6", "7", "9"])?;
    let name = PersonName::parse(name).ok_or_else(|| bad("realName"))?;
    let phone = ContactPhone::parse(phone).ok_or_else(|| bad("phoneNum"))?;
    let user = ctx.user()?.clone();
    let input = ContactInput {
        id,
        rel_type: rel,
        name: &name,
        phone: &phone,
    };
    match save_contact_of(ctx.conn.get()?, &user, &input, ctx.now) {
        Ok(()) => Reply::empty(R::ContactSaved),
        Err(ContactError::Db(e)) => Err(e.into()),
        Err(refusal) => Err(failed(&refusal.to_string())),
    }
}
