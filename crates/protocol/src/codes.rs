//! Every response code of docs/api.md, one variant per (code, meaning).
//!
//! The seed gives some codes several meanings (`10001000` is "malformed request", "mobile already
//! registered", "no such account" …; `20004000` is "identity confirmed" in §13 and "malformed
//! amount" in §22). Each meaning is its own variant, so the code string stays as the seed has it
//! while `responseMessage` and `exceptionFlag` are right for the case.

/// `exceptionFlag` of a successful call.
pub const FLAG_SUCCESS: &str = "0000";
/// `exceptionFlag` of a failed call.
pub const FLAG_FAILURE: &str = "9999";

macro_rules! response_codes {
    ($( $(#[$doc:meta])* $name:ident = ($code:literal, $msg:literal, $ok:literal); )*) => {
        /// A response code with its meaning.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ResponseCode {
            $( $(#[$doc])* $name, )*
        }

        impl ResponseCode {
            /// Every variant, in table order.
            pub const ALL: &'static [ResponseCode] = &[$(ResponseCode::$name,)*];

            /// The `responseCode` string.
            pub const fn code(self) -> &'static str {
                match self { $(ResponseCode::$name => $code,)* }
            }

            /// The `responseMessage` text.
            pub const fn message(self) -> &'static str {
                match self { $(ResponseCode::$name => $msg,)* }
            }

            /// Whether this is an endpoint's success code (`exceptionFlag` `0000`).
            pub const fn is_success(self) -> bool {
                match self { $(ResponseCode::$name => $ok,)* }
            }
        }
    };
}

response_codes! {
    // Protocol level (docs/api.md).
    /// `sign` missing or wrong.
    SignatureInvalid = ("10000001", "签名校验失败", false);
    /// `timestamp` missing, not a number, or outside the window.
    RequestExpired = ("10000002", "请求已过期", false);
    /// `(nonce, timestamp)` seen before.
    RequestReplayed = ("10000003", "重复请求", false);
    /// Login-required endpoint without a live session.
    NotLoggedIn = ("10000004", "未登录或登录已失效", false);
    /// Rate limit.
    TooManyRequests = ("10000005", "请求过于频繁", false);
    /// Body not JSON, a field missing, of the wrong type or format.
    MalformedRequest = ("10001000", "请求报文传输信息有误", false);
    /// Unexpected fault; the log has the request id.
    SystemBusy = ("99999999", "系统繁忙,请稍后再试", false);

    // Field-specific meanings of 10001000.
    /// Mobile already registered (§8, §9, §10).
    MobileAlreadyRegistered = ("10001000", "手机号码已注册", false);
    /// Mobile not registered (§11–§14).
    MobileNotRegistered = ("10001000", "手机号码未注册", false);
    /// Malformed mobile.
    MobileMalformed = ("10001000", "手机号码格式错误", false);
    /// No such account (§15, §16).
    AccountNotFound = ("10001000", "账号不存在", false);
    /// Malformed personal name.
    NameMalformed = ("10001000", "姓名格式错误", false);
    /// Malformed ID card number.
    IdCardMalformed = ("10001000", "身份证号码格式错误", false);
    /// Malformed bank card number.
    BankCardMalformed = ("10001000", "银行卡号格式错误", false);
    /// Unknown product or not on sale (§21–§23).
    ProductNotFound = ("10001000", "产品不存在", false);

    // Generic outcome of endpoints whose table has only 0000 / 9999.
    /// A failure whose message the endpoint supplies.
    Failed = ("9999", "验证失败", false);

    // §4 登陆接口
    /// Login succeeded.
    LoginSucceeded = ("90000000", "登陆授权成功", true);
    /// No such account.
    LoginNoAccount = ("90001000", "登陆授权失败,账号不存在", false);
    /// Wrong password.
    LoginWrongPassword = ("90002000", "登陆授权失败,密码错误", false);
    /// Locked after repeated wrong passwords.
    LoginLocked = ("90003000", "登陆授权失败,多次密码错误,账号被锁", false);
    /// Other refusal (account disabled).
    LoginFailed = ("90009000", "登陆授权失败", false);

    // §7 获取验证码
    /// Graphic code issued.
    CaptchaIssued = ("0000", "获取验证码成功", true);

    // §8, §11 SMS codes
    /// SMS sent.
    SmsSent = ("20001000", "短信发送成功", true);
    /// SMS gateway refused.
    SmsSendFailed = ("20001001", "短信发送失败", false);
    /// Wrong or used graphic code.
    CaptchaWrong = ("10002001", "验证码错误", false);
    /// Graphic code expired.
    CaptchaExpired = ("10002002", "验证码过期", false);

    // §9, §12 SMS check
    /// SMS code expired.
    SmsCodeExpired = ("20002004", "手机短信验证码超时", false);
    /// SMS code wrong (or none live).
    SmsCodeWrong = ("20002005", "手机短信验证码错误", false);
    /// The fifth wrong try killed the code.
    SmsCodeTooManyTries = ("20002005", "手机短信验证码错误次数过多,请重新获取", false);
    /// SMS code correct.
    SmsCodeCorrect = ("20002006", "手机短信校验成功", true);

    // §10 设置密码
    /// User registered.
    PasswordSet = ("20003000", "密码设置成功", true);
    /// Registration refused.
    PasswordSetFailed = ("20003001", "密码设置失败", false);
    /// §10 without a register grant.
    RegisterGrantMissing = ("20003001", "请先完成手机短信验证码校验", false);
    /// §10 passwords differ.
    RegisterPasswordsDiffer = ("20003001", "两次输入的密码不一致", false);
    /// §10 password breaks the rule.
    RegisterPasswordRule = ("20003001", "密码须为6-20位字母、数字或符号", false);

    // §13 忘记密码身份认证
    /// Identity confirmed.
    IdentityConfirmed = ("20004000", "身份认证成功", true);
    /// Identity check failed.
    IdentityCheckFailed = ("20004001", "身份认证失败", false);
    /// §13 without a reset grant.
    IdentityGrantMissing = ("20004001", "请先完成手机短信验证码校验", false);
    /// §13 identity does not match the account.
    IdentityMismatch = ("20004001", "身份信息与账号不符", false);

    // §14 重置密码
    /// Password reset.
    PasswordReset = ("20003002", "密码重置成功", true);
    /// Reset refused.
    PasswordResetFailed = ("20003003", "密码重置失败", false);
    /// §14 without both grants.
    ResetGrantMissing = ("20003003", "请先完成短信验证和身份认证", false);
    /// §14 passwords differ.
    ResetPasswordsDiffer = ("20003003", "两次输入的密码不一致", false);
    /// §14 password breaks the rule.
    ResetPasswordRule = ("20003003", "密码须为6-20位字母、数字或符号", false);

    // §15 修改密码
    /// Password changed (the seed's text says "reset").
    PasswordChanged = ("20003004", "密码重置成功", true);
    /// Change refused.
    PasswordChangeFailed = ("20003005", "密码重置失败", false);
    /// §15 account locked.
    ChangeAccountLocked = ("20003005", "多次密码错误,账号被锁", false);
    /// §15 new password breaks the rule.
    ChangePasswordRule = ("20003005", "密码须为6-20位字母、数字或符号", false);
    /// §15 current password wrong.
    CurrentPasswordWrong = ("20003015", "当前密码错误", false);

    // §16 意见反馈
    /// Feedback stored.
    FeedbackReceived = ("20003006", "意见反馈成功", true);
    /// Feedback refused.
    FeedbackRefused = ("20003007", "意见反馈失败", false);
    /// Feedback text blank or too long.
    FeedbackLength = ("20003007", "意见内容须为1-1000字", false);

    // §17 版本检测
    /// Release found.
    VersionFound = ("20003008", "版本检测成功", true);
    /// Version check failed.
    VersionCheckFailed = ("20003009", "版本检测失败", false);
    /// No release configured for the app type.
    VersionNone = ("20003009", "暂无版本信息", false);

    // §18 退出登录
    /// Logged out.
    LoggedOut = ("20003010", "退出登录成功", true);

    // §19–§21, §24–§35 success messages (code 0000).
    /// §19.
    AuthStatusFetched = ("0000", "获取认证状态成功", true);
    /// §20, §21.
    ProductsFetched = ("0000", "获取产品展示信息成功", true);
    /// §22.
    QuoteFetched = ("0000", "获取产品申请确认信息成功", true);
    /// §24.
    CustomerMessagesFetched = ("0000", "获取当前登录用户消息成功", true);
    /// §25.
    SystemMessagesFetched = ("0000", "获取系统消息成功", true);
    /// §26.
    RepayInfoFetched = ("0000", "获取还款信息成功", true);
    /// §27.
    UserCenterFetched = ("0000", "获取个人中心统计数据成功", true);
    /// §28.
    LoansFetched = ("0000", "获取我的借款信息成功", true);
    /// §29.
    LoanPlanFetched = ("0000", "获取我的借款-每期还款成功", true);
    /// §30.
    BankCardAuthenticated = ("0000", "银行卡认证成功", true);
    /// §31.
    MobileAuthenticated = ("0000", "手机实名认证成功", true);
    /// §32.
    RealNameAuthenticated = ("0000", "身份实名认证成功", true);
    /// §33.
    PersonalInfoFetched = ("0000", "获取当前登录用户详细信息", true);
    /// §34.
    PersonalInfoSaved = ("0000", "完善个人信息成功", true);
    /// §35.
    ContactSaved = ("0000", "完善联系人信息成功", true);
    /// §36.
    Repaid = ("0000", "还款成功", true);

    // §22, §23 loan terms (20004000–20004015).
    /// Malformed amount.
    AmountMalformed = ("20004000", "借贷金额格式错误", false);
    /// Amount not allowed.
    AmountNotAllowed = ("20004001", "借贷金额不在允许范围内", false);
    /// Amount above the user's available credit.
    AmountAboveCredit = ("20004001", "借贷金额超过可用额度", false);
    /// Malformed annual rate.
    RateMalformed = ("20004002", "年化利率格式错误", false);
    /// Annual rate not allowed.
    RateNotAllowed = ("20004003", "年化利率不在允许范围内", false);
    /// The plan's APR above the cap.
    AprAboveCap = ("20004003", "综合年化成本超过上限", false);
    /// Malformed term.
    TermMalformed = ("20004004", "借贷期限格式错误", false);
    /// Term not allowed.
    TermNotAllowed = ("20004005", "借贷期限不在允许范围内", false);
    /// Invalid term unit.
    TermUnitInvalid = ("20004006", "借贷期限单位错误", false);
    /// Term unit not offered.
    TermUnitNotOffered = ("20004007", "借贷期限单位不在允许范围内", false);
    /// Malformed repayment interval.
    IntervalMalformed = ("20004008", "还款间隔格式错误", false);
    /// Repayment interval not allowed.
    IntervalNotAllowed = ("20004009", "还款间隔不在允许范围内", false);
    /// Invalid interval unit.
    IntervalUnitInvalid = ("20004010", "还款间隔单位错误", false);
    /// Interval unit not allowed.
    IntervalUnitNotAllowed = ("20004011", "还款间隔单位不在允许范围内", false);
    /// Month term with a day interval.
    MonthTermDayInterval = ("20004012", "借贷期限单位选择月,还款间隔单位不支持选择日", false);
    /// Invalid repay type.
    RepayTypeInvalid = ("20004013", "还款方式错误", false);
    /// Repay type not offered.
    RepayTypeNotOffered = ("20004014", "还款方式不在允许范围内", false);
    /// Day term with the annuity type.
    DayTermAnnuity = ("20004015", "借贷期限单位选择日,还款方式不支持选择等额本息", false);

    // §23 提交贷款申请
    /// Application stored.
    ApplicationSubmitted = ("20005000", "贷款申请成功", true);
    /// Application refused (the message says why).
    ApplicationRefused = ("20005001", "贷款申请失败", false);

    // §36 还款
    /// Installment (or loan) already paid.
    AlreadyPaid = ("20006001", "该期已还款", false);
    /// The payment channel refused the charge.
    PaymentFailed = ("20006002", "支付渠道扣款失败", false);
    /// Unknown installment, another user's, or of a loan not disbursed.
    InstallmentNotFound = ("20006003", "还款计划不存在", false);
    /// An earlier installment is still unpaid.
    EarlierInstallmentUnpaid = ("20006004", "请先偿还更早一期", false);
    /// The payment channel has not answered yet; the outcome arrives as a customer message and
    /// in §26.
    RepaymentProcessing = ("20006005", "还款处理中", false);
}

impl ResponseCode {
    /// The `exceptionFlag` that goes with this code.
    pub const fn exception_flag(self) -> &'static str {
        if self.is_success() {
            FLAG_SUCCESS
        } else {
            FLAG_FAILURE
        }
    }
}

/// A response code with the message actually sent: the table's, or one the endpoint gives
/// (a `9999` reason, a field name after `请求报文传输信息有误: `).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The code.
    pub code: ResponseCode,
    /// The `responseMessage`.
    pub message: String,
}

impl Outcome {
    /// The code with its table message.
    pub fn new(code: ResponseCode) -> Self {
        Self {
            code,
            message: code.message().to_owned(),
        }
    }

    /// The code with a message of the endpoint's own.
    pub fn with_message(code: ResponseCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// The code with its table message followed by `: detail`
    /// (`请求报文传输信息有误: mobile`).
    pub fn with_detail(code: ResponseCode, detail: impl AsRef<str>) -> Self {
        Self {
            code,
            message: format!("{}: {}", code.message(), detail.as_ref()),
        }
    }

    /// `10001000` naming the field at fault.
    pub fn malformed_field(field: &str) -> Self {
        Self::with_detail(ResponseCode::MalformedRequest, field)
    }

    /// A `9999` failure with the endpoint's message.
    pub fn failed(message: impl Into<String>) -> Self {
        Self::with_message(ResponseCode::Failed, message)
    }
}

impl From<ResponseCode> for Outcome {
    fn from(code: ResponseCode) -> Self {
        Self::new(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_code_is_eight_digits_or_a_four_digit_generic() {
        for c in ResponseCode::ALL {
            let code = c.code();
            assert!(code.chars().all(|ch| ch.is_ascii_digit()), "{c:?}");
            assert!(code.len() == 8 || code == "0000" || code == "9999", "{c:?}");
            assert!(!c.message().is_empty());
        }
    }

    #[test]
    fn no_two_variants_share_code_and_message() {
        let mut seen = HashSet::new();
        for c in ResponseCode::ALL {
            assert!(seen.insert((c.code(), c.message())), "{c:?} repeats");
        }
    }

    #[test]
    fn flags_follow_the_endpoint_success_codes() {
        assert_eq!(ResponseCode::IdentityConfirmed.code(), "20004000");
        assert_eq!(ResponseCode::IdentityConfirmed.exception_flag(), "0000");
        assert_eq!(ResponseCode::AmountMalformed.code(), "20004000");
        assert_eq!(ResponseCode::AmountMalformed.exception_flag(), "9999");
        assert_eq!(ResponseCode::SmsSent.exception_flag(), "0000");
        assert_eq!(ResponseCode::SystemBusy.exception_flag(), "9999");
        for c in ResponseCode::ALL {
            if c.code() == "9999" || c.code().starts_with("1000") || c.code() == "99999999" {
                assert!(!c.is_success(), "{c:?}");
            }
        }
    }

    #[test]
    fn the_constants_table_of_section_22_is_complete() {
        let codes: HashSet<&str> = ResponseCode::ALL.iter().map(|c| c.code()).collect();
        for n in 20004000..=20004015 {
            assert!(codes.contains(n.to_string().as_str()), "{n} missing");
        }
    }

    #[test]
    fn outcome_details_name_the_field() {
        assert_eq!(
            Outcome::malformed_field("mobile").message,
            "请求报文传输信息有误: mobile"
        );
        assert_eq!(Outcome::failed("联系人不存在").code.code(), "9999");
    }
}
