//! The journeys many tests (and the benchmark) need: registration, login, the four
//! authentications, each through the app API of a running server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cashloan_protocol::PasswordCodec;
use serde_json::{json, Value};

use crate::server::{id_card, Answer, TestServer, APP_KEY};

/// A password as the vendor's app sends it: DES under the test key.
pub fn des(password: &str) -> String {
    PasswordCodec::new(APP_KEY, true).unwrap().encrypt(password)
}

/// §7 → §8 → §9: an SMS-verified mobile holding a register grant.
pub fn verify_mobile(s: &TestServer, mobile: &str) {
    let code = s.call("/openApi/getCode", json!({}), None).result();
    let sent = s.call(
        "/openApi/getSmsCode",
        json!({"code": code, "mobile": mobile}),
        None,
    );
    assert_eq!(sent.code(), "20001000", "{}", sent.text());
    let sms = s.sms_code(mobile);
    let checked = s.call(
        "/openApi/checkSmsCode",
        json!({"smscode": sms, "mobile": mobile}),
        None,
    );
    assert_eq!(checked.code(), "20002006", "{}", checked.text());
}

/// The whole registration journey (§7–§10).
pub fn register(s: &TestServer, mobile: &str, password: &str) {
    verify_mobile(s, mobile);
    let p = des(password);
    let r = s.call(
        "/openApi/userRegister",
        json!({"password": p, "confirmPassword": p, "mobile": mobile}),
        None,
    );
    assert_eq!(r.code(), "20003000", "{}", r.text());
}

/// §4: a session id.
pub fn login(s: &TestServer, mobile: &str, password: &str) -> String {
    let r = s.call(
        "/security/login",
        json!({"username": mobile, "password": des(password), "appType": "1", "token": "device-token"}),
        None,
    );
    assert_eq!(r.code(), "90000000", "{}", r.text());
    r.result().as_str().unwrap().to_owned()
}

/// A birth date for borrower `seq`: ID numbers have a serial of three digits, so each thousand
/// borrowers is born a year earlier (1990 for the first thousand).
pub fn birth_of(seq: u32) -> String {
    format!("{}0307", 1990 - (seq / 1000) % 60)
}

/// A registered, logged-in borrower with all four authentications done; returns the session.
pub fn verified_borrower(s: &TestServer, mobile: &str, seq: u32) -> String {
    register(s, mobile, "secret123");
    let session = login(s, mobile, "secret123");
    let ok = |a: Answer| assert_eq!(a.code(), "0000", "{}", a.text());
    ok(s.call(
        "/appCommonApi/authRealNameInfo",
        json!({"realName": "张某某", "idCardNo": id_card(&birth_of(seq), seq)}),
        Some(&session),
    ));
    ok(s.call(
        "/appCommonApi/authUserBankCard",
        json!({"bankCardNo": format!("6217000730005{seq:06}"), "mobile": mobile}),
        Some(&session),
    ));
    ok(s.call("/appCommonApi/authUserMobile", json!({}), Some(&session)));
    ok(s.call(
        "/appCommonApi/savePerfectUserInfo",
        personal_info(),
        Some(&session),
    ));
    ok(s.call(
        "/appCommonApi/saveOrUpdateRelShip",
        json!({"operType": "add", "relType": "6", "realName": "木木", "phoneNum": "13940460755"}),
        Some(&session),
    ));
    session
}

/// A complete §34 body.
pub fn personal_info() -> Value {
    json!({
        "education": "5", "martialStatus": "1", "registry_province": "110000", "registry_city": "110000",
        "registry_detail": "演示", "house_address_province": "110000", "house_address_city": "110000",
        "house_address_county": "110108", "house_address_detail": "演示演示", "residenceLength": "01",
        "industryType": "3", "work_address_province": "110000", "work_address_city": "110000",
        "work_address_county": "110108", "work_address_detail": "演示", "workingHours": "01",
        "currentWorkInfo": "北京中科博润科技股份有限公司", "currentPosition": "演示演示演示",
        "monthIncome": "10000", "payrollDay": "10"
    })
}
