//! Black-box: registration (§7–§10), login (§4), forgotten password (§11–§14), password change
//! (§15), feedback (§16), version check (§17) and logout (§18), with their refusals.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::json;

const M: &str = "13709812611";

fn captcha(s: &TestServer) -> String {
    s.call("/openApi/getCode", json!({}), None)
        .result()
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn registration_journey_and_its_refusals() {
    on_every_backend(&[], |s| {
        // §10 without §9: refused.
        let p = des("secret123");
        let r = s.call(
            "/openApi/userRegister",
            json!({"password": p, "confirmPassword": p, "mobile": M}),
            None,
        );
        assert_eq!(
            (r.code(), r.message()),
            ("20003001".into(), "请先完成手机短信验证码校验".into()),
            "{}",
            s.backend
        );

        // §8: malformed mobile, wrong and used graphic codes.
        let r = s.call(
            "/openApi/getSmsCode",
            json!({"code": captcha(s), "mobile": "12345"}),
            None,
        );
        assert_eq!(
            (r.code(), r.message()),
            ("10001000".into(), "手机号码格式错误".into())
        );
        let r = s.call(
            "/openApi/getSmsCode",
            json!({"code": "zzzz", "mobile": M}),
            None,
        );
        assert_eq!(r.code(), "10002001");
        let code = captcha(s);
        assert_eq!(
            s.call(
                "/openApi/getSmsCode",
                json!({"code": code.to_uppercase(), "mobile": M}),
                None
            )
            .code(),
            "20001000"
        );
        assert_eq!(
            s.call(
                "/openApi/getSmsCode",
                json!({"code": code, "mobile": M}),
                None
            )
            .code(),
            "10002001",
            "single use"
        );

        // §9: wrong code, then the right one.
        let sms = s.sms_code(M);
        let wrong = if sms == "000000" { "111111" } else { "000000" };
        let r = s.call(
            "/openApi/checkSmsCode",
            json!({"smscode": wrong, "mobile": M}),
            None,
        );
        assert_eq!(r.code(), "20002005");
        assert_eq!(
            s.call(
                "/openApi/checkSmsCode",
                json!({"smscode": sms, "mobile": M}),
                None
            )
            .code(),
            "20002006"
        );
        assert_eq!(
            s.call(
                "/openApi/checkSmsCode",
                json!({"smscode": sms, "mobile": M}),
                None
            )
            .code(),
            "20002005",
            "used"
        );

        // §10: passwords differ, then break the rule, then succeed; the grant is used once.
        let r = s.call(
            "/openApi/userRegister",
            json!({"password": des("secret123"), "confirmPassword": des("secret124"), "mobile": M}),
            None,
        );
        assert_eq!(r.message(), "两次输入的密码不一致");
        let short = des("123");
        let r = s.call(
            "/openApi/userRegister",
            json!({"password": short, "confirmPassword": short, "mobile": M}),
            None,
        );
        assert_eq!(r.message(), "密码须为6-20位字母、数字或符号");
        let r = s.call(
            "/openApi/userRegister",
            json!({"password": p, "confirmPassword": p, "mobile": M}),
            None,
        );
        assert_eq!(
            (r.code(), r.json()["exceptionFlag"].as_str()),
            ("20003000".into(), Some("0000"))
        );
        let r = s.call(
            "/openApi/userRegister",
            json!({"password": p, "confirmPassword": p, "mobile": M}),
            None,
        );
        assert_eq!(
            (r.code(), r.message()),
            ("10001000".into(), "手机号码已注册".into())
        );

        // Now registered: §8 and §9 refuse the mobile.
        let r = s.call(
            "/openApi/getSmsCode",
            json!({"code": captcha(s), "mobile": M}),
            None,
        );
        assert_eq!(r.message(), "手机号码已注册");
        let r = s.call(
            "/openApi/checkSmsCode",
            json!({"smscode": sms, "mobile": M}),
            None,
        );
        assert_eq!(r.message(), "手机号码已注册");

        // Plain-text passwords (as the seed's samples send) work in the default lenient mode.
        verify_mobile(s, "13709812612");
        let r = s.call(
            "/openApi/userRegister",
            json!({"password": "123456", "confirmPassword": "123456", "mobile": "13709812612"}),
            None,
        );
        assert_eq!(r.code(), "20003000");
        login(s, "13709812612", "123456");
    });
}

#[test]
fn sms_codes_are_limited_per_mobile() {
    on_every_backend(&[("CASHLOAN_SMS_MIN_INTERVAL_SECS", "60")], |s| {
        assert_eq!(
            s.call(
                "/openApi/getSmsCode",
                json!({"code": captcha(s), "mobile": M}),
                None
            )
            .code(),
            "20001000"
        );
        let r = s.call(
            "/openApi/getSmsCode",
            json!({"code": captcha(s), "mobile": M}),
            None,
        );
        assert_eq!(r.code(), "10000005", "within 60 s");
    });
    on_every_backend(&[("CASHLOAN_SMS_PER_DAY", "2")], |s| {
        for _ in 0..2 {
            assert_eq!(
                s.call(
                    "/openApi/getSmsCode",
                    json!({"code": captcha(s), "mobile": M}),
                    None
                )
                .code(),
                "20001000"
            );
        }
        assert_eq!(
            s.call(
                "/openApi/getSmsCode",
                json!({"code": captcha(s), "mobile": M}),
                None
            )
            .code(),
            "10000005"
        );
    });
    on_every_backend(&[("CASHLOAN_SMS_SINK", "refuse")], |s| {
        assert_eq!(
            s.call(
                "/openApi/getSmsCode",
                json!({"code": captcha(s), "mobile": M}),
                None
            )
            .code(),
            "20001001"
        );
    });
}

#[test]
fn login_answers_and_the_lock() {
    on_every_backend(&[("CASHLOAN_LOGIN_MAX_FAILURES", "3")], |s| {
        register(s, M, "secret123");
        let attempt = |pw: &str| {
            s.call(
                "/security/login",
                json!({"username": M, "password": des(pw), "appType": "2", "token": ""}),
                None,
            )
        };
        let r = s.call(
            "/security/login",
            json!({"username": "13709812699", "password": des("x"), "appType": "1", "token": "t"}),
            None,
        );
        assert_eq!(r.code(), "90001000");
        let r = s.call(
            "/security/login",
            json!({"username": M, "password": des("x"), "appType": "4", "token": "t"}),
            None,
        );
        assert_eq!(r.message(), "请求报文传输信息有误: appType");
        let ok = attempt("secret123");
        assert_eq!(ok.code(), "90000000");
        let id = ok.result().as_str().unwrap().to_owned();
        assert_eq!(id.len(), 32);
        assert!(id
            .chars()
            .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c)));
        let cookie = ok.header("set-cookie").unwrap();
        assert!(
            cookie.starts_with(&format!("JSESSIONID={id}"))
                && cookie.contains("HttpOnly")
                && cookie.contains("Path=/")
        );

        assert_eq!(attempt("wrong1").code(), "90002000");
        assert_eq!(attempt("wrong2").code(), "90002000");
        assert_eq!(
            attempt("wrong3").code(),
            "90003000",
            "the third failure locks"
        );
        assert_eq!(
            attempt("secret123").code(),
            "90003000",
            "locked even with the right password"
        );

        // A reset clears the lock.
        reset(s, M, "newsecret1");
        assert_eq!(attempt("newsecret1").code(), "90000000");
    });
}

/// §11 → §12 → §13 → §14.
fn reset(s: &TestServer, mobile: &str, new_password: &str) {
    let r = s.call(
        "/openApi/forgetPwdGetSmsCode",
        json!({"code": captcha(s), "mobile": mobile}),
        None,
    );
    assert_eq!(r.code(), "20001000", "{}", r.text());
    let sms = s.sms_code(mobile);
    assert_eq!(
        s.call(
            "/openApi/forgetPwdCheckSmsCode",
            json!({"smscode": sms, "mobile": mobile}),
            None
        )
        .code(),
        "20002006"
    );
    let r = s.call(
        "/openApi/forgetPwdIdentityAuth",
        json!({"mobile": mobile, "realname": "张某某", "identitycode": id_card("19900307", 1)}),
        None,
    );
    assert_eq!(r.code(), "20004000", "{}", r.text());
    let p = des(new_password);
    let r = s.call(
        "/openApi/userResetPwd",
        json!({"password": p, "confirmPassword": p, "mobile": mobile}),
        None,
    );
    assert_eq!(r.code(), "20003002", "{}", r.text());
}

#[test]
fn forgotten_password_journey_and_its_refusals() {
    on_every_backend(&[], |s| {
        let session = verified_borrower(s, M, 1);
        let p = des("newsecret1");
        // §14 with no grants at all.
        let r = s.call(
            "/openApi/userResetPwd",
            json!({"password": p, "confirmPassword": p, "mobile": M}),
            None,
        );
        assert_eq!(
            (r.code(), r.message()),
            ("20003003".into(), "请先完成短信验证和身份认证".into())
        );
        // §11 for an unregistered mobile.
        let r = s.call(
            "/openApi/forgetPwdGetSmsCode",
            json!({"code": captcha(s), "mobile": "13709812699"}),
            None,
        );
        assert_eq!(
            (r.code(), r.message()),
            ("10001000".into(), "手机号码未注册".into())
        );
        // §13 before §12.
        let who =
            json!({"mobile": M, "realname": "张某某", "identitycode": id_card("19900307", 1)});
        let r = s.call("/openApi/forgetPwdIdentityAuth", who.clone(), None);
        assert_eq!(
            (r.code(), r.message()),
            ("20004001".into(), "请先完成手机短信验证码校验".into())
        );
        // §12 with the wrong code, then the right one.
        assert_eq!(
            s.call(
                "/openApi/forgetPwdGetSmsCode",
                json!({"code": captcha(s), "mobile": M}),
                None
            )
            .code(),
            "20001000"
        );
        let sms = s.sms_code(M);
        let r = s.call(
            "/openApi/forgetPwdCheckSmsCode",
            json!({"smscode": "x", "mobile": "13709812699"}),
            None,
        );
        assert_eq!(r.message(), "手机号码未注册");
        assert_eq!(
            s.call(
                "/openApi/forgetPwdCheckSmsCode",
                json!({"smscode": sms, "mobile": M}),
                None
            )
            .code(),
            "20002006"
        );
        // §14 after §12 only.
        let r = s.call(
            "/openApi/userResetPwd",
            json!({"password": p, "confirmPassword": p, "mobile": M}),
            None,
        );
        assert_eq!(r.code(), "20003003");
        // §13: formats, then a mismatch, then the match.
        let r = s.call(
            "/openApi/forgetPwdIdentityAuth",
            json!({"mobile": M, "realname": "张", "identitycode": id_card("19900307", 1)}),
            None,
        );
        assert_eq!(r.message(), "姓名格式错误");
        let r = s.call(
            "/openApi/forgetPwdIdentityAuth",
            json!({"mobile": M, "realname": "张某某", "identitycode": "210104198812123366"}),
            None,
        );
        assert_eq!(r.message(), "身份证号码格式错误");
        let r = s.call(
            "/openApi/forgetPwdIdentityAuth",
            json!({"mobile": M, "realname": "李某某", "identitycode": id_card("19900307", 1)}),
            None,
        );
        assert_eq!(
            (r.code(), r.message()),
            ("20004001".into(), "身份信息与账号不符".into())
        );
        let r = s.call("/openApi/forgetPwdIdentityAuth", who, None);
        assert_eq!(
            (r.code(), r.json()["exceptionFlag"].as_str()),
            ("20004000".into(), Some("0000"))
        );
        // §14: differ, then success; the grants are used once; old sessions end.
        let r = s.call(
            "/openApi/userResetPwd",
            json!({"password": p, "confirmPassword": des("other123"), "mobile": M}),
            None,
        );
        assert_eq!(r.message(), "两次输入的密码不一致");
        let r = s.call(
            "/openApi/userResetPwd",
            json!({"password": p, "confirmPassword": p, "mobile": M}),
            None,
        );
        assert_eq!(r.code(), "20003002");
        let r = s.call(
            "/openApi/userResetPwd",
            json!({"password": p, "confirmPassword": p, "mobile": M}),
            None,
        );
        assert_eq!(r.code(), "20003003", "grants used");
        assert_eq!(
            s.call("/appCommonApi/getUserCenterInfo", json!({}), Some(&session))
                .code(),
            "10000004"
        );
        login(s, M, "newsecret1");
    });
}

#[test]
fn five_identity_mismatches_kill_the_reset_grant() {
    on_every_backend(&[], |s| {
        verified_borrower(s, M, 1);
        assert_eq!(
            s.call(
                "/openApi/forgetPwdGetSmsCode",
                json!({"code": captcha(s), "mobile": M}),
                None
            )
            .code(),
            "20001000"
        );
        let sms = s.sms_code(M);
        assert_eq!(
            s.call(
                "/openApi/forgetPwdCheckSmsCode",
                json!({"smscode": sms, "mobile": M}),
                None
            )
            .code(),
            "20002006"
        );
        let wrong =
            json!({"mobile": M, "realname": "李某某", "identitycode": id_card("19900307", 1)});
        for _ in 0..5 {
            assert_eq!(
                s.call("/openApi/forgetPwdIdentityAuth", wrong.clone(), None)
                    .message(),
                "身份信息与账号不符"
            );
        }
        let right =
            json!({"mobile": M, "realname": "张某某", "identitycode": id_card("19900307", 1)});
        let r = s.call("/openApi/forgetPwdIdentityAuth", right, None);
        assert_eq!(r.message(), "请先完成手机短信验证码校验", "restart at §11");
    });
}

#[test]
fn password_change() {
    on_every_backend(&[], |s| {
        register(s, M, "secret123");
        let session = login(s, M, "secret123");
        let change = |old: &str, new: &str, mobile: &str| {
            s.call(
                "/appApi/modifyPwd",
                json!({"newPassword": des(new), "oldPassword": des(old), "mobile": mobile}),
                None,
            )
        };
        assert_eq!(
            change("secret123", "x", "12709812611").message(),
            "手机号码格式错误"
        );
        assert_eq!(
            change("secret123", "newsecret1", "13709812699").message(),
            "账号不存在"
        );
        assert_eq!(change("wrong", "newsecret1", M).code(), "20003015");
        assert_eq!(
            change("secret123", "x", M).message(),
            "密码须为6-20位字母、数字或符号"
        );
        // The seed's sample: the same ciphertext old and new (zhongkeborun), after setting it.
        assert_eq!(change("secret123", "zhongkeborun", M).code(), "20003004");
        let seed = s.call(
            "/appApi/modifyPwd",
            json!({"mobile": M, "newPassword": "t9xLwn19WXS+d7OVW9ocKw", "oldPassword": "t9xLwn19WXS+d7OVW9ocKw"}),
            None,
        );
        assert_eq!(seed.code(), "20003004", "{}", seed.text());
        assert_eq!(
            s.call("/appCommonApi/getUserCenterInfo", json!({}), Some(&session))
                .code(),
            "10000004",
            "sessions ended"
        );
        login(s, M, "zhongkeborun");
    });
}

#[test]
fn feedback_and_versions() {
    on_every_backend(&[], |s| {
        register(s, M, "secret123");
        let fb = |suggestion: &str, source: &str, mobile: &str| {
            s.call(
                "/appApi/commitSuggestion",
                json!({"suggestion": suggestion, "source": source, "mobile": mobile}),
                None,
            )
        };
        assert_eq!(fb("goodapp", "2", M).code(), "20003006");
        assert_eq!(
            fb("goodapp", "9", M).message(),
            "请求报文传输信息有误: source"
        );
        assert_eq!(fb("goodapp", "1", "13709812699").message(), "账号不存在");
        assert_eq!(fb("   ", "1", M).code(), "20003007");
        assert_eq!(
            fb(&"好".repeat(1001), "1", M).message(),
            "意见内容须为1-1000字"
        );
        assert_eq!(fb(&"好".repeat(1000), "1", M).code(), "20003006");

        let v = s.call("/appApi/appVersionDetection", json!({"appType": "2"}), None);
        assert_eq!(v.code(), "20003008");
        let r = v.result();
        assert_eq!(
            (r["appType"].as_str(), r["versionName"].as_str()),
            (Some("2"), Some("1.0.22"))
        );
        assert!(r["versionCode"]
            .as_str()
            .unwrap()
            .chars()
            .all(|c| c.is_ascii_digit()));
        assert!(r["forceUpdate"] == "0" || r["forceUpdate"] == "1");
        assert_eq!(
            s.call("/appApi/appVersionDetection", json!({"appType": "3"}), None)
                .code(),
            "20003009"
        );
        assert_eq!(
            s.call("/appApi/appVersionDetection", json!({"appType": "7"}), None)
                .code(),
            "10001000"
        );
        // Logout is idempotent.
        assert_eq!(
            s.call(
                "/appApi/quitMobileLogin",
                json!({"sessionId": "nope"}),
                None
            )
            .code(),
            "20003010"
        );
        assert_eq!(
            s.call("/appApi/quitMobileLogin", json!({}), None).message(),
            "请求报文传输信息有误: sessionId"
        );
    });
}

#[test]
fn the_fifth_wrong_sms_code_kills_it() {
    on_every_backend(&[], |s| {
        assert_eq!(
            s.call(
                "/openApi/getSmsCode",
                json!({"code": captcha(s), "mobile": M}),
                None
            )
            .code(),
            "20001000"
        );
        let sms = s.sms_code(M);
        let wrong = if sms == "000000" { "111111" } else { "000000" };
        for _ in 0..4 {
            let r = s.call(
                "/openApi/checkSmsCode",
                json!({"smscode": wrong, "mobile": M}),
                None,
            );
            assert_eq!(r.message(), "手机短信验证码错误");
        }
        let r = s.call(
            "/openApi/checkSmsCode",
            json!({"smscode": wrong, "mobile": M}),
            None,
        );
        assert_eq!(
            (r.code(), r.message()),
            (
                "20002005".into(),
                "手机短信验证码错误次数过多,请重新获取".into()
            )
        );
        let r = s.call(
            "/openApi/checkSmsCode",
            json!({"smscode": sms, "mobile": M}),
            None,
        );
        assert_eq!(r.code(), "20002005", "dead: even the right code fails now");
    });
}

#[test]
fn a_locked_account_cannot_change_its_password_and_feedback_is_limited_per_day() {
    on_every_backend(&[("CASHLOAN_LOGIN_MAX_FAILURES", "2")], |s| {
        register(s, M, "secret123");
        let change = |old: &str| {
            s.call(
                "/appApi/modifyPwd",
                json!({"newPassword": des("newsecret1"), "oldPassword": des(old), "mobile": M}),
                None,
            )
        };
        assert_eq!(change("wrong1").code(), "20003015");
        assert_eq!(
            change("wrong2").code(),
            "20003015",
            "the locking failure answers 20003015 too"
        );
        let r = change("secret123");
        assert_eq!(
            (r.code(), r.message()),
            ("20003005".into(), "多次密码错误,账号被锁".into())
        );
        let r = s.call(
            "/security/login",
            json!({"username": M, "password": des("secret123"), "appType": "1", "token": ""}),
            None,
        );
        assert_eq!(r.code(), "90003000", "§15 failures count toward §4's lock");

        for n in 0..10 {
            let r = s.call(
                "/appApi/commitSuggestion",
                json!({"suggestion": format!("意见{n}"), "source": "1", "mobile": M}),
                None,
            );
            assert_eq!(r.code(), "20003006");
        }
        let r = s.call(
            "/appApi/commitSuggestion",
            json!({"suggestion": "再来一条", "source": "1", "mobile": M}),
            None,
        );
        assert_eq!(r.code(), "10000005", "more than 10 a business day");
    });
}

#[test]
fn graphic_and_sms_codes_expire() {
    on_every_backend(
        &[
            ("CASHLOAN_CAPTCHA_TTL_SECS", "1"),
            ("CASHLOAN_SMS_CODE_TTL_SECS", "1"),
        ],
        |s| {
            let code = captcha(s);
            std::thread::sleep(std::time::Duration::from_millis(1100));
            let r = s.call(
                "/openApi/getSmsCode",
                json!({"code": code, "mobile": M}),
                None,
            );
            assert_eq!(
                (r.code(), r.message()),
                ("10002002".into(), "验证码过期".into())
            );
            assert_eq!(
                s.call(
                    "/openApi/getSmsCode",
                    json!({"code": captcha(s), "mobile": M}),
                    None
                )
                .code(),
                "20001000"
            );
            let sms = s.sms_code(M);
            std::thread::sleep(std::time::Duration::from_millis(1100));
            let r = s.call(
                "/openApi/checkSmsCode",
                json!({"smscode": sms, "mobile": M}),
                None,
            );
            assert_eq!(
                (r.code(), r.message()),
                ("20002004".into(), "手机短信验证码超时".into())
            );
        },
    );
}
