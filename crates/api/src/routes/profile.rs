//! Authentication and profile: status (§19), bank card (§30), carrier (§31), identity (§32),
//! personal information (§33, §34) and contacts (§35).

use cashloan_domain::{BankCardNo, ContactPhone, IdCardNo, PersonName};
use cashloan_persistence::profile::{
    find_bank_card, find_identity, find_personal_info, list_contacts, PersonalInfo,
};
use cashloan_persistence::site::is_blacklisted;
use cashloan_protocol::{Json, Outcome, ResponseCode as R};
use serde::Serialize;

use crate::context::{bad, ApiError, Ctx, Reply};
use crate::routes::auth::mobile;
use crate::usecases::authenticate_bank_card::{authenticate_bank_card, BankCardError};
use crate::usecases::authenticate_identity::{authenticate_identity, IdentityError};
use crate::usecases::authenticate_mobile::{authenticate_mobile, MobileAuthError};
use crate::usecases::contacts::{
    save_contact as save_contact_of, ContactError, ContactInput, RELATIONS,
};
use crate::usecases::personal_info::{save_personal_info, PersonalInfoError, PersonalInfoInput};

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
        month_income: info
            .as_ref()
            .map_or_else(String::new, |i| i.month_income.to_string()),
        payroll_day: info
            .as_ref()
            .and_then(|i| i.payroll_day)
            .map_or_else(String::new, |d| d.to_string()),
        rel_ship_list,
    };
    Reply::data(R::PersonalInfoFetched, &answer)
}

/// §34 完善信息保存.
pub fn save_personal(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let f = &ctx.fields;
    let input = PersonalInfoInput {
        education: f.string("education")?,
        marital_status: f.string("martialStatus")?,
        registry_province: f.string("registry_province")?,
        registry_city: f.string("registry_city")?,
        registry_detail: f.string("registry_detail")?,
        house_province: f.string("house_address_province")?,
        house_city: f.string("house_address_city")?,
        house_county: f.string("house_address_county")?,
        house_detail: f.string("house_address_detail")?,
        residence_length: f.string("residenceLength")?,
        industry_type: f.string("industryType")?,
        work_province: f.string("work_address_province")?,
        work_city: f.string("work_address_city")?,
        work_county: f.string("work_address_county")?,
        work_detail: f.string("work_address_detail")?,
        working_hours: f.string("workingHours")?,
        employer: f.string("currentWorkInfo")?,
        job_position: f.string("currentPosition")?,
        month_income: f.string("monthIncome")?,
        payroll_day: f.opt_string("payrollDay")?,
    };
    f.formats()?;
    let user_id = ctx.user()?.id.clone();
    save_personal_info(ctx.conn.get()?, &user_id, &input, ctx.now).map_err(|e| match e {
        PersonalInfoError::Invalid(field) => bad(field),
        PersonalInfoError::Db(e) => e.into(),
    })?;
    Reply::empty(R::PersonalInfoSaved)
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
    if !RELATIONS.contains(&rel) {
        return Err(bad("relType"));
    }
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
