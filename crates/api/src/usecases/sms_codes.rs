//! Graphic codes (§7) and SMS codes (§8, §11 send; §9, §12 check): a graphic code buys one SMS within the caps (per
//! mobile, per client address, per day in all); the SMS gateway is called with no connection
//! held; a correct code gives this flow the grant the next step needs.

use cashloan_domain::Mobile;
use cashloan_persistence::accounts::find_user_by_mobile;
use cashloan_persistence::verification::{
    check_sms_code, consume_captcha, give_grant, hit_rate_counter, issue_captcha, release_sms_slot,
    reserve_sms_slot, set_sms_code, CaptchaCheck, FlowClient, GrantKind, SmsCheck, SmsLimits,
    SmsPurpose, SmsSlot,
};
use cashloan_persistence::DbError;
use chrono::NaiveDate;

use super::passwords::GRANT_TTL_MS;
use crate::context::{AppState, Lease};
use crate::providers::Sms;
use crate::security::{new_captcha, new_flow_token, new_sms_code, sha256_hex};

/// Wrong SMS-code tries before the code dies.
pub const MAX_TRIES: i32 = 5;

/// Why a code was not sent or not accepted.
#[derive(Debug, thiserror::Error)]
pub enum SmsCodeError {
    /// The graphic code is wrong or spent.
    #[error("wrong graphic code")]
    CaptchaWrong,
    /// The graphic code is too old.
    #[error("the graphic code expired")]
    CaptchaExpired,
    /// Registration for a mobile that has an account.
    #[error("the mobile is registered")]
    AlreadyRegistered,
    /// A reset for a mobile without an account.
    #[error("the mobile is not registered")]
    NotRegistered,
    /// A cap is reached (this mobile, this client, or the day's total).
    #[error("too many SMS")]
    TooMany,
    /// The gateway refused; the slot is given back.
    #[error("the SMS gateway refused")]
    SendFailed,
    /// No live code, or the wrong one.
    #[error("wrong SMS code")]
    CodeWrong,
    /// The code is too old.
    #[error("the SMS code expired")]
    CodeExpired,
    /// The fifth wrong try killed the code.
    #[error("too many wrong SMS codes")]
    TooManyTries,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// §7: a graphic code for `client`, unless it asked for more than `per_minute` this minute.
pub fn issue_graphic_code(
    lease: &mut Lease<'_>,
    client: &str,
    per_minute: i64,
    now: i64,
) -> Result<String, SmsCodeError> {
    let window = now - now.rem_euclid(60_000);
    let hits = hit_rate_counter(lease.get()?, &format!("captcha:{client}"), window)?;
    if hits > per_minute {
        return Err(SmsCodeError::TooMany);
    }
    let code = new_captcha();
    issue_captcha(lease.get()?, &code, client, now)?;
    Ok(code)
}

/// Whether `purpose` may go on for `mobile`: registration needs no account, a reset needs one.
fn purpose_fits(
    lease: &mut Lease<'_>,
    mobile: &Mobile,
    purpose: SmsPurpose,
) -> Result<(), SmsCodeError> {
    let registered = find_user_by_mobile(lease.get()?, mobile.as_str())?.is_some();
    match (purpose, registered) {
        (SmsPurpose::Register, true) => Err(SmsCodeError::AlreadyRegistered),
        (SmsPurpose::Reset, false) => Err(SmsCodeError::NotRegistered),
        _ => Ok(()),
    }
}

/// A request for an SMS code.
pub struct SendCode<'a> {
    /// Where it goes.
    pub mobile: &'a Mobile,
    /// The graphic code that pays for it.
    pub captcha: &'a str,
    /// Registration or reset.
    pub purpose: SmsPurpose,
    /// The client address (for the caps).
    pub address: &'a str,
    /// The address and `User-Agent` digest a flow falls back to without a cookie.
    pub client_key: &'a str,
    /// The business date (the day's caps).
    pub today: NaiveDate,
    /// Now (ms).
    pub now: i64,
}

/// Sends a code, paid with a graphic code. Returns the flow token the client keeps as its
/// cookie (the flow is its own from here).
pub fn send_code(
    st: &AppState,
    lease: &mut Lease<'_>,
    req: &SendCode<'_>,
) -> Result<String, SmsCodeError> {
    let SendCode {
        mobile,
        captcha,
        purpose,
        address,
        client_key,
        today,
        now,
    } = *req;
    let cfg = &st.config;
    let ttl = cfg.captcha_ttl_secs.saturating_mul(1000);
    match consume_captcha(lease.get()?, captcha, now, ttl)? {
        CaptchaCheck::Consumed => {}
        CaptchaCheck::Wrong => return Err(SmsCodeError::CaptchaWrong),
        CaptchaCheck::Expired => return Err(SmsCodeError::CaptchaExpired),
    }
    purpose_fits(lease, mobile, purpose)?;
    let day = cashloan_domain::format_day(today);
    let limits = SmsLimits {
        min_interval_ms: cfg.sms_min_interval_secs.saturating_mul(1000),
        per_mobile_per_day: cfg.sms_per_day,
        per_client_per_hour: cfg.sms_per_client_per_hour,
        total_per_day: cfg.sms_per_day_total,
    };
    let total_cap = cfg.sms_per_day_total;
    let slot = reserve_sms_slot(
        lease.get()?,
        mobile.as_str(),
        address,
        purpose,
        &day,
        now,
        limits,
    )?;
    let slot_id = match slot {
        SmsSlot::Reserved { id, total } => {
            // 80 % of the day's cap: someone may be pumping SMS; operators should know early.
            if total.saturating_mul(5) == total_cap.saturating_mul(4) {
                tracing::warn!(total, cap = total_cap, "80 % of the day's SMS cap is used");
            }
            id
        }
        SmsSlot::MobileLimit => return Err(SmsCodeError::TooMany),
        SmsSlot::ClientLimit => {
            tracing::warn!(client = address, "SMS per client address cap reached");
            return Err(SmsCodeError::TooMany);
        }
        SmsSlot::TotalLimit => {
            tracing::error!(
                cap = total_cap,
                "the day's SMS cap is reached: no more SMS today"
            );
            return Err(SmsCodeError::TooMany);
        }
    };
    let sms_code = new_sms_code();
    let text = match purpose {
        SmsPurpose::Register => format!("您的注册验证码为{sms_code},5分钟内有效,请勿泄露。"),
        SmsPurpose::Reset => format!("您正在找回密码,验证码为{sms_code},5分钟内有效,请勿泄露。"),
    };
    // A third party may be slow: no connection is held while it answers.
    lease.release();
    let sent = st.providers.sms.send(&Sms {
        mobile: mobile.as_str(),
        purpose: purpose.as_str(),
        code: &sms_code,
        text,
        sent_at: now,
    });
    if let Err(reason) = sent {
        tracing::warn!(mobile = %mobile.masked(), %reason, "SMS gateway refused");
        release_sms_slot(lease.get()?, &slot_id)?;
        return Err(SmsCodeError::SendFailed);
    }
    // The flow is this client's from here: a cookie for clients that keep one, the address
    // and User-Agent for those that do not.
    let token = new_flow_token();
    let digest = sha256_hex(token.as_bytes());
    let owner = FlowClient {
        cookie: Some(&digest),
        client: client_key,
    };
    set_sms_code(
        lease.get()?,
        mobile.as_str(),
        purpose,
        &sms_code,
        &owner,
        now,
    )?;
    Ok(token)
}

/// A code the borrower typed.
pub struct CheckCode<'a> {
    /// The mobile it was sent to.
    pub mobile: &'a Mobile,
    /// The code.
    pub code: &'a str,
    /// Registration or reset.
    pub purpose: SmsPurpose,
    /// The flow the grant goes to (none: the client keeps no cookie where one is required).
    pub flow: Option<&'a str>,
    /// Who typed it (a code works only for the client it was sent for).
    pub client: FlowClient<'a>,
    /// Now (ms).
    pub now: i64,
}

/// Checks a code; a correct one gives the flow the step's grant.
pub fn check_code(
    st: &AppState,
    lease: &mut Lease<'_>,
    req: &CheckCode<'_>,
) -> Result<(), SmsCodeError> {
    let CheckCode {
        mobile,
        code,
        purpose,
        flow,
        ref client,
        now,
    } = *req;
    purpose_fits(lease, mobile, purpose)?;
    let ttl = st.config.sms_code_ttl_secs.saturating_mul(1000);
    let flow = flow.ok_or(SmsCodeError::CodeWrong)?;
    let checked = check_sms_code(
        lease.get()?,
        mobile.as_str(),
        purpose,
        code,
        client,
        now,
        ttl,
        MAX_TRIES,
    )?;
    match checked {
        SmsCheck::Correct => {}
        SmsCheck::NoCode | SmsCheck::Wrong => return Err(SmsCodeError::CodeWrong),
        SmsCheck::Expired => return Err(SmsCodeError::CodeExpired),
        SmsCheck::TooManyTries => return Err(SmsCodeError::TooManyTries),
    }
    let grant = match purpose {
        SmsPurpose::Register => GrantKind::Register,
        SmsPurpose::Reset => GrantKind::ResetSms,
    };
    give_grant(
        lease.get()?,
        mobile.as_str(),
        grant,
        flow,
        now,
        GRANT_TTL_MS,
    )?;
    Ok(())
}
