//! Accounts: login (§4), graphic code (§7), registration (§8–§10), forgotten password (§11–§14),
//! password change (§15), feedback (§16), version check (§17) and logout (§18).

use cashloan_domain::Mobile;
use cashloan_persistence::site::latest_app_version;
use cashloan_persistence::verification::SmsPurpose;
use cashloan_protocol::{Json, ResponseCode as R};

use crate::context::{bad, ApiError, Ctx, Reply, FLOW_COOKIE};
use crate::metrics::SmsOutcome;
use crate::pipeline::SESSION_COOKIE;
use crate::usecases::feedback::{leave_feedback, FeedbackError};
use crate::usecases::login::{self, log_out, LoginError, LoginInput, PasswordRefusal};
use crate::usecases::passwords::{self, ChangeError, NewPasswordError, ResetError};
use crate::usecases::register::{self, RegisterError};
use crate::usecases::sms_codes::{self, CheckCode, SendCode, SmsCodeError};

/// The mobile rule, answering `手机号码格式错误`.
pub(crate) fn mobile(text: &str) -> Result<Mobile, ApiError> {
    Mobile::parse(text).ok_or_else(|| R::MobileMalformed.into())
}

fn app_type(field: &str, text: &str) -> Result<(), ApiError> {
    if matches!(text, "1" | "2" | "3") {
        Ok(())
    } else {
        Err(bad(field))
    }
}

/// A wire password as the client meant it (DES, or plain text in lenient mode).
fn password(ctx: &Ctx<'_>, field: &str, wire: &str) -> Result<String, ApiError> {
    ctx.state.codec.decode(wire).map_err(|_| bad(field))
}

/// §4 登陆接口.
pub fn login(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let f = &ctx.fields;
    let username = f.string("username")?;
    let wire_password = f.string("password")?;
    let app = f.string("appType")?;
    let token = f.string_or_empty("token")?;
    f.formats()?;
    app_type("appType", app)?;
    let plain = password(ctx, "password", wire_password)?;
    let input = LoginInput {
        username,
        password: &plain,
        app_type: app,
        device_token: token,
        client: ctx.client,
        now: ctx.now,
    };
    let session = match login::log_in(ctx.state, &mut ctx.conn, input) {
        Ok(session) => session,
        Err(LoginError::NoAccount) => return Err(R::LoginNoAccount.into()),
        Err(LoginError::Disabled) => return Err(R::LoginFailed.into()),
        Err(LoginError::Password(PasswordRefusal::Wrong)) => {
            return Err(R::LoginWrongPassword.into())
        }
        Err(LoginError::Password(PasswordRefusal::Locking | PasswordRefusal::Locked)) => {
            return Err(R::LoginLocked.into())
        }
        Err(LoginError::Password(PasswordRefusal::Db(e)) | LoginError::Db(e)) => {
            return Err(e.into())
        }
    };
    let mut reply = Reply::ok(R::LoginSucceeded, Json::from(session.id.as_str()))?;
    reply.cookie = Some(format!("{SESSION_COOKIE}={}; Path=/; HttpOnly", session.id));
    Ok(reply)
}

/// §7 获取验证码.
pub fn get_code(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    ctx.fields.formats()?;
    let per_minute = ctx.state.config.captcha_per_minute;
    let code = sms_codes::issue_graphic_code(&mut ctx.conn, ctx.client, per_minute, ctx.now)
        .map_err(sms_refusal)?;
    Reply::ok(R::CaptchaIssued, Json::from(code.as_str()))
}

/// §8 获取手机验证码 and §11 忘记密码请求手机验证码.
fn send_sms_code(ctx: &mut Ctx<'_>, purpose: SmsPurpose) -> Result<Reply, ApiError> {
    let f = &ctx.fields;
    let code = f.string("code")?;
    let mobile_text = f.string("mobile")?;
    f.formats()?;
    let m = mobile(mobile_text)?;
    let today = ctx.today()?;
    let req = SendCode {
        mobile: &m,
        captcha: code,
        purpose,
        address: ctx.client,
        client_key: &ctx.flow.client_key,
        today,
        now: ctx.now,
    };
    let sent = sms_codes::send_code(ctx.state, &mut ctx.conn, &req);
    let outcome = match &sent {
        Ok(_) => Some(SmsOutcome::Sent),
        Err(SmsCodeError::TooMany) => Some(SmsOutcome::Refused),
        Err(SmsCodeError::SendFailed) => Some(SmsOutcome::Failed),
        Err(_) => None,
    };
    if let Some(o) = outcome {
        ctx.state.metrics.observe_sms(o);
    }
    let token = sent.map_err(sms_refusal)?;
    let mut reply = Reply::empty(R::SmsSent)?;
    reply.cookie = Some(format!(
        "{FLOW_COOKIE}={token}; Path=/; Max-Age=1800; HttpOnly; SameSite=Strict"
    ));
    Ok(reply)
}

/// An SMS step's refusal as §8, §9, §11 and §12 answer it.
fn sms_refusal(e: SmsCodeError) -> ApiError {
    match e {
        SmsCodeError::CaptchaWrong => R::CaptchaWrong.into(),
        SmsCodeError::CaptchaExpired => R::CaptchaExpired.into(),
        SmsCodeError::AlreadyRegistered => R::MobileAlreadyRegistered.into(),
        SmsCodeError::NotRegistered => R::MobileNotRegistered.into(),
        SmsCodeError::TooMany => R::TooManyRequests.into(),
        SmsCodeError::SendFailed => R::SmsSendFailed.into(),
        SmsCodeError::CodeWrong => R::SmsCodeWrong.into(),
        SmsCodeError::CodeExpired => R::SmsCodeExpired.into(),
        SmsCodeError::TooManyTries => R::SmsCodeTooManyTries.into(),
        SmsCodeError::Db(e) => e.into(),
    }
}

/// The key of this request's flow; none without a flow cookie when cookies are required.
fn flow_of(ctx: &Ctx<'_>) -> Option<String> {
    if ctx.flow.cookie_digest.is_none() && ctx.state.config.flow_require_cookie {
        return None;
    }
    Some(ctx.flow.as_client().key())
}

/// §8 获取手机验证码.
pub fn get_sms_code(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    send_sms_code(ctx, SmsPurpose::Register)
}

/// §11 忘记密码请求手机验证码.
pub fn forget_pwd_get_sms_code(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    send_sms_code(ctx, SmsPurpose::Reset)
}

/// §9 校验手机验证码 and §12 忘记密码校验手机验证码.
fn check_code(ctx: &mut Ctx<'_>, purpose: SmsPurpose) -> Result<Reply, ApiError> {
    let f = &ctx.fields;
    let sms = f.string("smscode")?;
    let mobile_text = f.string("mobile")?;
    f.formats()?;
    let m = mobile(mobile_text)?;
    let flow = flow_of(ctx);
    let req = CheckCode {
        mobile: &m,
        code: sms,
        purpose,
        flow: flow.as_deref(),
        client: ctx.flow.as_client(),
        now: ctx.now,
    };
    sms_codes::check_code(ctx.state, &mut ctx.conn, &req).map_err(sms_refusal)?;
    Reply::empty(R::SmsCodeCorrect)
}

/// §9 校验手机验证码.
pub fn check_sms(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    check_code(ctx, SmsPurpose::Register)
}

/// §12 忘记密码校验手机验证码.
pub fn forget_pwd_check_sms(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    check_code(ctx, SmsPurpose::Reset)
}

/// §10 设置密码: registers the user.
pub fn register(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let f = &ctx.fields;
    let pw = f.string("password")?;
    let confirm = f.string("confirmPassword")?;
    let mobile_text = f.string("mobile")?;
    f.formats()?;
    let m = mobile(mobile_text)?;
    let flow = flow_of(ctx);
    match register::register(
        ctx.state,
        &mut ctx.conn,
        &m,
        pw,
        confirm,
        flow.as_deref(),
        ctx.now,
    ) {
        Ok(_) => Reply::empty(R::PasswordSet),
        Err(RegisterError::AlreadyRegistered) => Err(R::MobileAlreadyRegistered.into()),
        Err(RegisterError::GrantMissing) => Err(R::RegisterGrantMissing.into()),
        Err(RegisterError::NewPassword(e)) => Err(new_password_refusal(
            e,
            R::RegisterPasswordsDiffer,
            R::RegisterPasswordRule,
        )),
        Err(RegisterError::Db(e)) => Err(e.into()),
    }
}

/// A refused new password as its section answers it.
fn new_password_refusal(e: NewPasswordError, differ: R, rule: R) -> ApiError {
    match e {
        NewPasswordError::Malformed(field) => bad(field),
        NewPasswordError::Differ => differ.into(),
        NewPasswordError::Rule => rule.into(),
        NewPasswordError::Hash(why) => ApiError::Fault(why),
    }
}

/// A refused reset step as §13 and §14 answer it.
fn reset_refusal(e: ResetError, grant_missing: R) -> ApiError {
    match e {
        ResetError::NotRegistered => R::MobileNotRegistered.into(),
        ResetError::NameMalformed => R::NameMalformed.into(),
        ResetError::IdCardMalformed => R::IdCardMalformed.into(),
        ResetError::GrantMissing => grant_missing.into(),
        ResetError::IdentityMismatch => R::IdentityMismatch.into(),
        ResetError::NewPassword(e) => {
            new_password_refusal(e, R::ResetPasswordsDiffer, R::ResetPasswordRule)
        }
        ResetError::Db(e) => e.into(),
    }
}

/// §13 忘记密码身份认证.
pub fn forget_pwd_identity(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let f = &ctx.fields;
    let mobile_text = f.string("mobile")?;
    let name = f.string("realname")?;
    let id_text = f.string("identitycode")?;
    f.formats()?;
    let m = mobile(mobile_text)?;
    let flow = flow_of(ctx);
    passwords::confirm_identity(&mut ctx.conn, &m, name, id_text, flow.as_deref(), ctx.now)
        .map_err(|e| reset_refusal(e, R::IdentityGrantMissing))?;
    Reply::empty(R::IdentityConfirmed)
}

/// §14 重置密码.
pub fn reset_password(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let f = &ctx.fields;
    let pw = f.string("password")?;
    let confirm = f.string("confirmPassword")?;
    let mobile_text = f.string("mobile")?;
    f.formats()?;
    let m = mobile(mobile_text)?;
    let flow = flow_of(ctx);
    passwords::reset_password(
        ctx.state,
        &mut ctx.conn,
        &m,
        pw,
        confirm,
        flow.as_deref(),
        ctx.now,
    )
    .map_err(|e| reset_refusal(e, R::ResetGrantMissing))?;
    Reply::empty(R::PasswordReset)
}

/// §15 修改密码.
pub fn modify_password(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let f = &ctx.fields;
    let new_pw = f.string("newPassword")?;
    let old_pw = f.string("oldPassword")?;
    let mobile_text = f.string("mobile")?;
    f.formats()?;
    let m = mobile(mobile_text)?;
    let changed = passwords::change_password(
        ctx.state,
        &mut ctx.conn,
        &m,
        old_pw,
        new_pw,
        ctx.client,
        ctx.now,
    );
    match changed {
        Ok(()) => Reply::empty(R::PasswordChanged),
        Err(ChangeError::NotRegistered) => Err(R::AccountNotFound.into()),
        Err(ChangeError::Malformed(field)) => Err(bad(field)),
        // The failure that locks answers 20003015 like the others (docs/api.md §15).
        Err(ChangeError::Current(PasswordRefusal::Wrong | PasswordRefusal::Locking)) => {
            Err(R::CurrentPasswordWrong.into())
        }
        Err(ChangeError::Current(PasswordRefusal::Locked)) => Err(R::ChangeAccountLocked.into()),
        Err(ChangeError::Rule) => Err(R::ChangePasswordRule.into()),
        Err(ChangeError::Hash(why)) => Err(ApiError::Fault(why)),
        Err(ChangeError::Current(PasswordRefusal::Db(e)) | ChangeError::Db(e)) => Err(e.into()),
    }
}

/// §16 意见反馈.
pub fn feedback(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let f = &ctx.fields;
    let suggestion = f.string_max("suggestion", usize::MAX)?;
    let source = f.string("source")?;
    let mobile_text = f.string("mobile")?;
    f.formats()?;
    app_type("source", source)?;
    let m = mobile(mobile_text)?;
    let today = ctx.today()?;
    match leave_feedback(ctx.conn.get()?, &m, source, suggestion, today, ctx.now) {
        Ok(()) => Reply::empty(R::FeedbackReceived),
        Err(FeedbackError::NotRegistered) => Err(R::AccountNotFound.into()),
        Err(FeedbackError::Length) => Err(R::FeedbackLength.into()),
        Err(FeedbackError::TooMany) => Err(R::TooManyRequests.into()),
        Err(FeedbackError::Db(e)) => Err(e.into()),
    }
}

/// §17's answer: the latest release of the app type.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Release<'a> {
    app_type: &'a str,
    version_code: String,
    version_name: String,
    download_url: String,
    force_update: &'static str,
    description: String,
}

/// §17 版本检测.
pub fn version(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let f = &ctx.fields;
    let app = f.string("appType")?;
    f.formats()?;
    app_type("appType", app)?;
    let v = latest_app_version(ctx.conn.get()?, app)?.ok_or(R::VersionNone)?;
    let release = Release {
        app_type: app,
        version_code: v.version_code.to_string(),
        version_name: v.version_name,
        download_url: v.download_url,
        force_update: if v.force_update { "1" } else { "0" },
        description: v.description,
    };
    Reply::data(R::VersionFound, &release)
}

/// §18 退出登录.
pub fn logout(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let f = &ctx.fields;
    let id = f.string("sessionId")?;
    f.formats()?;
    log_out(ctx.conn.get()?, id)?;
    let mut reply = Reply::empty(R::LoggedOut)?;
    reply.cookie = Some(format!("{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly"));
    Ok(reply)
}
