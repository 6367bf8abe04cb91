//! Black-box: the project's own attack suite, on every backend. Each test is an attack an
//! outsider tried on the running server, and what must hold against it (docs/security.md).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cashloan_test_support::fresh_sqlite;
use cashloan_test_support::server::{count_rows, signed, TestServer, ADMIN_TOKEN};
use common::*;
use serde_json::{json, Value};

const M: &str = "13709812611";

/// Starts the binary with `env` and no test defaults; its exit code and standard error, when it
/// stops by itself within 4 s (None when it kept running: it was killed).
fn start_alone(env: &[(&str, &str)]) -> (Option<i32>, String) {
    let db = fresh_sqlite();
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cashloan"))
        .current_dir(dir.path())
        .env_clear()
        .env("CASHLOAN_DATABASE_URL", &db.url)
        .env("CASHLOAN_LOG", "error")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if start.elapsed() > Duration::from_secs(4) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut err);
    }
    (code, err)
}

fn admin_with(s: &TestServer, auth: Option<&str>) -> u16 {
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(a) = auth {
        headers.push(("Authorization", a));
    }
    s.raw("GET", "/admin/applications", b"", &headers).status
}

#[test]
fn the_admin_api_needs_a_long_token_and_the_header() {
    // A blank token, from the environment or the file, is no token: only operators' sessions
    // open the admin API.
    on_every_backend(&[("CASHLOAN_ADMIN_TOKEN", "  ")], |s| {
        assert_eq!(admin_with(s, None), 401, "{}", s.backend);
        assert_eq!(admin_with(s, Some("Bearer ")), 401);
        assert_eq!(admin_with(s, Some("Bearer   ")), 401);
    });
    // A short token stops the server at start, saying why.
    let (code, err) = start_alone(&[
        ("CASHLOAN_BIND", "127.0.0.1:0"),
        ("CASHLOAN_ADMIN_TOKEN", "short-token"),
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("CASHLOAN_ADMIN_TOKEN") && err.contains("32"),
        "{err}"
    );
    // With a token: no header, another token, a token of another length never match.
    on_every_backend(&[], |s| {
        assert_eq!(admin_with(s, None), 401, "{}", s.backend);
        assert_eq!(admin_with(s, Some("Bearer ")), 401);
        assert_eq!(admin_with(s, Some(&format!("Bearer {ADMIN_TOKEN}x"))), 401);
        assert_eq!(
            admin_with(s, Some(&format!("Bearer {}", &ADMIN_TOKEN[1..]))),
            401
        );
        assert_eq!(admin_with(s, Some(&format!("Bearer {ADMIN_TOKEN}"))), 200);
    });
}

#[test]
fn the_public_test_key_serves_only_on_loopback() {
    let (code, err) = start_alone(&[("CASHLOAN_BIND", "0.0.0.0:0")]);
    assert!(
        code.is_some_and(|c| c != 0),
        "it refused to start: {code:?} {err}"
    );
    assert!(
        err.contains("CASHLOAN_APP_KEY") && err.contains("0.0.0.0"),
        "{err}"
    );
    // Allowed on purpose: it starts (and is stopped by the harness).
    let (code, err) = start_alone(&[
        ("CASHLOAN_BIND", "0.0.0.0:0"),
        ("CASHLOAN_ALLOW_TEST_KEY", "true"),
    ]);
    assert_eq!(code, None, "it kept serving: {err}");
    // A secret key serves anywhere.
    let (code, err) = start_alone(&[
        ("CASHLOAN_BIND", "0.0.0.0:0"),
        ("CASHLOAN_APP_KEY", "a-secret-key-of-ours"),
    ]);
    assert_eq!(code, None, "it kept serving: {err}");
}

fn login_code(s: &TestServer, password: &str) -> String {
    s.call(
        "/security/login",
        json!({"username": M, "password": des(password), "appType": "1", "token": ""}),
        None,
    )
    .code()
}

/// Twenty concurrent §15 calls with wrong old passwords; their codes.
fn twenty_wrong_password_changes(s: &TestServer) -> Vec<String> {
    std::thread::scope(|scope| {
        let tries: Vec<_> = (0..20)
            .map(|k| {
                scope.spawn(move || {
                    s.call(
                        "/appApi/modifyPwd",
                        json!({"newPassword": des("newsecret1"), "oldPassword": des(&format!("bad{k}")), "mobile": M}),
                        None,
                    )
                    .code()
                })
            })
            .collect();
        tries.into_iter().map(|t| t.join().unwrap()).collect()
    })
}

#[test]
fn a_burst_of_guesses_is_never_evaluated_beyond_the_limit() {
    on_every_backend(&[], |s| {
        register(s, M, "secret123");
        let codes: Vec<String> = std::thread::scope(|scope| {
            let guesses: Vec<_> = (0..16)
                .map(|k| scope.spawn(move || login_code(s, &format!("wrong{k:03}"))))
                .collect();
            guesses.into_iter().map(|g| g.join().unwrap()).collect()
        });
        let evaluated_and_wrong = codes.iter().filter(|c| *c == "90002000").count();
        assert!(evaluated_and_wrong <= 4, "{}: {codes:?}", s.backend);
        assert!(
            codes.iter().all(|c| c == "90002000" || c == "90003000"),
            "{codes:?}"
        );
        // The limit was reached: even the right password is refused now.
        assert_eq!(login_code(s, "secret123"), "90003000", "{}", s.backend);
        // §15 shares the guard: twenty concurrent wrong old passwords, nothing evaluated.
        let changes = twenty_wrong_password_changes(s);
        assert!(
            changes.iter().all(|c| c == "20003005"),
            "{}: locked: {changes:?}",
            s.backend
        );
    });
    // Before the lock, §15 evaluates at most the limit too.
    on_every_backend(&[], |s| {
        register(s, M, "secret123");
        let changes = twenty_wrong_password_changes(s);
        let evaluated = changes.iter().filter(|c| *c == "20003015").count();
        assert!(evaluated <= 5, "{}: {changes:?}", s.backend);
    });
}

#[test]
fn concurrent_wrong_sms_codes_kill_the_code() {
    on_every_backend(&[], |s| {
        let code = s.call("/openApi/getCode", json!({}), None).result();
        let sent = s.call(
            "/openApi/getSmsCode",
            json!({"code": code, "mobile": M}),
            None,
        );
        assert_eq!(sent.code(), "20001000");
        let right = s.sms_code(M);
        let wrong = if right == "000000" {
            "111111"
        } else {
            "000000"
        };
        std::thread::scope(|scope| {
            for _ in 0..40 {
                scope.spawn(|| {
                    s.call(
                        "/openApi/checkSmsCode",
                        json!({"smscode": wrong, "mobile": M}),
                        None,
                    )
                });
            }
        });
        let r = s.call(
            "/openApi/checkSmsCode",
            json!({"smscode": right, "mobile": M}),
            None,
        );
        assert_eq!(
            r.code(),
            "20002005",
            "{}: the code is dead: {}",
            s.backend,
            r.text()
        );
    });
}

#[test]
fn a_disabled_account_stops_and_a_blacklisted_one_is_not_paid_out() {
    on_every_backend(&[], |s| {
        let session = verified_borrower(s, M, 1);
        let centre = |session: &str| {
            s.call("/appCommonApi/getUserCenterInfo", json!({}), Some(session))
                .code()
        };
        assert_eq!(centre(&session), "0000");
        let r = s.admin(
            "PUT",
            &format!("/admin/users/{M}/status"),
            Some(json!({"disabled": true})),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(
            centre(&session),
            "10000004",
            "{}: the old session is over",
            s.backend
        );
        assert_eq!(login_code(s, "secret123"), "90009000");
        s.admin(
            "PUT",
            &format!("/admin/users/{M}/status"),
            Some(json!({"disabled": false})),
        );

        // Blacklisted after approval: may log in and look, is never paid out.
        let session = login(s, M, "secret123");
        let apply = s.call(
            "/appCommonApi/loanProductApply",
            json!({
                "productId": "c4493fbe-23f7-4904-bac1-ff0266b36e2e", "amount": "1000.00", "termCount": "14",
                "termUnit": "1", "repayTermCount": "14", "repayTermUnit": "1", "repayType": "1",
                "interestRate": "0.36", "longitude": "116.31", "latitude": "39.98",
                "orderId": "201701012236523", "purpose": "21", "otherChannels": "01",
                "phonebookList": [{"contactName": "木木", "contactPhone": "13940460755"}],
            }),
            Some(&session),
        );
        assert_eq!(apply.code(), "20005000", "{}", apply.text());
        let id = apply.result().as_str().unwrap().to_owned();
        s.admin("POST", &format!("/admin/applications/{id}/review"), None);
        s.admin("POST", &format!("/admin/applications/{id}/approve"), None);
        s.admin(
            "POST",
            &format!("/admin/users/{M}/blacklist"),
            Some(json!({"reason": "fraud"})),
        );
        let r = s.admin_confirmed("POST", &format!("/admin/applications/{id}/disburse"), None);
        assert_eq!(r.status, 409, "{}: {}", s.backend, r.text());
        assert!(r.text().contains("blacklisted"), "{}", r.text());
        assert_eq!(
            centre(&session),
            "0000",
            "a blacklisted borrower still sees their account"
        );
        let ledger = s.admin("GET", &format!("/admin/applications/{id}/ledger"), None);
        assert_eq!(ledger.json()["out"], "0.00", "nothing paid out");
    });
}

/// A gzip body of `keys` distinct members, signed with a wrong signature.
fn wide_body(keys: usize) -> Vec<u8> {
    let mut body = String::from("{\"nonce\":\"12345678\",\"timestamp\":\"1\",\"sign\":\"0\"");
    for k in 0..keys {
        body.push_str(&format!(",\"k{k}\":1"));
    }
    body.push('}');
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(body.as_bytes()).unwrap();
    gz.finish().unwrap()
}

#[test]
fn a_body_of_many_keys_is_answered_at_once() {
    on_every_backend(&[], |s| {
        let body = wide_body(20_000);
        assert!(
            body.len() < 64 * 1024,
            "fits the wire limit: {}",
            body.len()
        );
        let t = Instant::now();
        let r = s.raw(
            "POST",
            "/openCommonApi/getSystemMessage",
            &body,
            &[
                ("Content-Type", "application/json"),
                ("Content-Encoding", "gzip"),
            ],
        );
        let took = t.elapsed();
        eprintln!("{}: a body of 20,000 keys answered in {took:?}", s.backend);
        assert_eq!(r.code(), "10000001", "{}: {}", s.backend, r.text());
        // Linear parsing: milliseconds, where pairwise duplicate checks took seconds (debug).
        assert!(took < Duration::from_millis(500), "{}: {took:?}", s.backend);
    });
}

#[test]
fn control_characters_are_refused_not_a_fault() {
    on_every_backend(&[], |s| {
        for field in ["mobile", "code"] {
            let mut body = json!({"code": "abcd", "mobile": M});
            body[field] = Value::String(format!("{}\u{0}x", &M[..3]));
            let r = s.call("/openApi/getSmsCode", body, None);
            assert_eq!(
                (r.code(), r.message()),
                ("10001000".into(), format!("请求报文传输信息有误: {field}")),
                "{}: {}",
                s.backend,
                r.text()
            );
        }
        let session = verified_borrower(s, M, 1);
        let r = s.call(
            "/appCommonApi/saveOrUpdateRelShip",
            json!({"operType": "add", "relType": "6", "realName": "木\u{7}木", "phoneNum": "13940460755"}),
            Some(&session),
        );
        assert_eq!(r.code(), "10001000", "{}: {}", s.backend, r.text());
        let r = s.call(
            "/appApi/commitSuggestion",
            json!({"suggestion": "好\u{1b}[31m", "source": "1", "mobile": M}),
            None,
        );
        assert_eq!(r.code(), "10001000", "{}", r.text());
        // Inside an array's objects too.
        let r = s.call(
            "/appCommonApi/loanProductApply",
            json!({
                "productId": "c4493fbe-23f7-4904-bac1-ff0266b36e2e", "amount": "1000.00", "termCount": "14",
                "termUnit": "1", "repayTermCount": "14", "repayTermUnit": "1", "repayType": "1",
                "interestRate": "0.36", "longitude": "116.31", "latitude": "39.98",
                "orderId": "201701012236523", "purpose": "21", "otherChannels": "01",
                "phonebookList": [{"contactName": "木\u{1}木", "contactPhone": "13940460755"}],
            }),
            Some(&session),
        );
        assert_eq!(
            (r.code(), r.message()),
            (
                "10001000".into(),
                "请求报文传输信息有误: phonebookList".into()
            ),
            "{}",
            r.text()
        );
    });
}

#[test]
fn replay_records_stay_bounded() {
    let env = [
        ("CASHLOAN_SWEEP_INTERVAL_SECS", "1"),
        ("CASHLOAN_SIGN_WINDOW_SECS", "1"),
    ];
    on_every_backend(&env, |s| {
        for _ in 0..50 {
            let r = s.send(
                "/openCommonApi/getSystemMessage",
                &signed(&json!({"pageNum": 1})),
                None,
            );
            assert_eq!(r.code(), "0000");
        }
        assert!(count_rows(&s.db_url, "nonces") >= 40);
        // Twice the window, then a sweep: nothing of them is needed any more.
        let gone = (0..50).any(|_| {
            std::thread::sleep(Duration::from_millis(200));
            count_rows(&s.db_url, "nonces") == 0
        });
        assert!(
            gone,
            "{}: {} nonces left",
            s.backend,
            count_rows(&s.db_url, "nonces")
        );
        // A replay after the sweep is still refused: it is no longer fresh.
        let old = signed(&json!({"pageNum": 1}));
        assert_eq!(
            s.send("/openCommonApi/getSystemMessage", &old, None).code(),
            "0000"
        );
        std::thread::sleep(Duration::from_millis(3500));
        assert_eq!(
            s.send("/openCommonApi/getSystemMessage", &old, None).code(),
            "10000002"
        );
    });
}

fn login_from(s: &TestServer, password: &str, forwarded_for: &str) -> String {
    let body =
        signed(&json!({"username": M, "password": des(password), "appType": "1", "token": ""}));
    s.raw(
        "POST",
        "/security/login",
        body.to_compact_string().as_bytes(),
        &[
            ("Content-Type", "application/json"),
            ("X-Forwarded-For", forwarded_for),
        ],
    )
    .code()
}

#[test]
fn forwarded_headers_are_believed_only_from_trusted_proxies() {
    // A client choosing a new X-Forwarded-For for every guess is still one address.
    on_every_backend(&[], |s| {
        register(s, M, "secret123");
        for k in 0..5 {
            let code = login_from(s, "wrong-one", &format!("198.51.100.{k}"));
            assert!(code == "90002000" || code == "90003000", "{code}");
        }
        assert_eq!(
            login_from(s, "secret123", "198.51.100.99"),
            "90003000",
            "{}",
            s.backend
        );
    });
    // Behind a trusted proxy, the forwarded address is the client: one address locked out does
    // not lock the borrower out from another.
    on_every_backend(&[("CASHLOAN_TRUSTED_PROXIES", "127.0.0.1/32, ::1")], |s| {
        register(s, M, "secret123");
        for _ in 0..5 {
            login_from(s, "wrong-one", "198.51.100.1");
        }
        assert_eq!(
            login_from(s, "secret123", "198.51.100.1"),
            "90003000",
            "{}",
            s.backend
        );
        assert_eq!(
            login_from(s, "secret123", "198.51.100.2"),
            "90000000",
            "{}",
            s.backend
        );
    });
}

fn ask_sms(s: &TestServer, mobile: &str) -> String {
    let captcha = s.call("/openApi/getCode", json!({}), None).result();
    s.call(
        "/openApi/getSmsCode",
        json!({"code": captcha, "mobile": mobile}),
        None,
    )
    .code()
}

#[test]
fn sms_bombing_and_pumping_are_capped() {
    use cashloan_test_support::server::StubProvider;
    // Sixteen requests at once for one mobile, through a gateway taking 300 ms: one SMS.
    let gateway = StubProvider::start(Duration::from_millis(300));
    let sink = format!("http:{}", gateway.url);
    let env = [
        ("CASHLOAN_SMS_SINK", sink.as_str()),
        ("CASHLOAN_SMS_MIN_INTERVAL_SECS", "60"),
    ];
    for s in servers(&env) {
        let before = gateway.calls().len();
        let captchas: Vec<Value> = (0..16)
            .map(|_| s.call("/openApi/getCode", json!({}), None).result())
            .collect();
        let codes: Vec<String> = std::thread::scope(|scope| {
            let asks: Vec<_> = captchas
                .iter()
                .map(|c| {
                    let s = &s;
                    scope.spawn(move || {
                        s.call("/openApi/getSmsCode", json!({"code": c, "mobile": M}), None)
                            .code()
                    })
                })
                .collect();
            asks.into_iter().map(|a| a.join().unwrap()).collect()
        });
        assert_eq!(
            codes.iter().filter(|c| *c == "20001000").count(),
            1,
            "{}: {codes:?}",
            s.backend
        );
        assert!(
            codes.iter().all(|c| c == "20001000" || c == "10000005"),
            "{codes:?}"
        );
        assert_eq!(
            gateway.calls().len() - before,
            1,
            "{}: one SMS left",
            s.backend
        );
    }
    // One client address, many mobiles: capped per hour.
    on_every_backend(&[("CASHLOAN_SMS_PER_CLIENT_PER_HOUR", "3")], |s| {
        for k in 0..3 {
            assert_eq!(
                ask_sms(s, &format!("1370981{:04}", k)),
                "20001000",
                "{}",
                s.backend
            );
        }
        assert_eq!(ask_sms(s, "13709819999"), "10000005", "{}", s.backend);
    });
    // All together: capped per day.
    on_every_backend(&[("CASHLOAN_SMS_PER_DAY_TOTAL", "2")], |s| {
        assert_eq!(ask_sms(s, "13709810001"), "20001000");
        assert_eq!(ask_sms(s, "13709810002"), "20001000");
        assert_eq!(ask_sms(s, "13709810003"), "10000005", "{}", s.backend);
    });
    // Only mainland mobiles.
    on_every_backend(&[], |s| {
        for bad in ["12709812611", "+8613709812611", "1370981261", "23709812611"] {
            assert_eq!(ask_sms(s, bad), "10001000", "{}: {bad}", s.backend);
        }
    });
}

/// A signed call with the given headers (a cookie, a User-Agent).
fn call_as(
    s: &TestServer,
    path: &str,
    body: Value,
    headers: &[(&str, &str)],
) -> cashloan_test_support::server::Answer {
    let text = signed(&body).to_compact_string();
    let mut all = vec![("Content-Type", "application/json")];
    all.extend_from_slice(headers);
    s.raw("POST", path, text.as_bytes(), &all)
}

/// §7 → §11 as the client `ua`; the flow cookie the server set.
fn start_reset(s: &TestServer, ua: &str) -> String {
    let captcha = call_as(s, "/openApi/getCode", json!({}), &[("User-Agent", ua)]).result();
    let r = call_as(
        s,
        "/openApi/forgetPwdGetSmsCode",
        json!({"code": captcha, "mobile": M}),
        &[("User-Agent", ua)],
    );
    assert_eq!(r.code(), "20001000", "{}", r.text());
    let set = r.header("set-cookie").unwrap_or_default().to_owned();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    set.split(';').next().unwrap().to_owned()
}

#[test]
fn a_reset_flow_belongs_to_the_client_that_started_it() {
    on_every_backend(&[], |s| {
        let victim = verified_borrower(s, M, 1);
        drop(victim);
        let id = cashloan_test_support::server::id_card("19900307", 1);
        // The victim keeps cookies: §12 with the cookie binds the grants to it.
        let cookie = start_reset(s, "victim-app");
        let sms = s.sms_code(M);
        let with_cookie = [("User-Agent", "victim-app"), ("Cookie", cookie.as_str())];
        let r = call_as(
            s,
            "/openApi/forgetPwdCheckSmsCode",
            json!({"smscode": sms, "mobile": M}),
            &with_cookie,
        );
        assert_eq!(r.code(), "20002006", "{}", r.text());
        // An attacker racing the victim: no cookie (even from the same address and app) gets nothing.
        for ua in ["victim-app", "attacker"] {
            let r = call_as(
                s,
                "/openApi/forgetPwdIdentityAuth",
                json!({"mobile": M, "realname": "张某某", "identitycode": id}),
                &[("User-Agent", ua)],
            );
            assert_ne!(
                r.code(),
                "20004000",
                "{}: {ua} took the victim's grant",
                s.backend
            );
            let p = des("taken0ver");
            let r = call_as(
                s,
                "/openApi/userResetPwd",
                json!({"password": p, "confirmPassword": p, "mobile": M}),
                &[("User-Agent", ua)],
            );
            assert_ne!(
                r.code(),
                "20003002",
                "{}: {ua} reset the victim's password",
                s.backend
            );
        }
        // The victim finishes.
        let r = call_as(
            s,
            "/openApi/forgetPwdIdentityAuth",
            json!({"mobile": M, "realname": "张某某", "identitycode": id}),
            &with_cookie,
        );
        assert_eq!(r.code(), "20004000", "{}", r.text());
        let p = des("newsecret1");
        let r = call_as(
            s,
            "/openApi/userResetPwd",
            json!({"password": p, "confirmPassword": p, "mobile": M}),
            &with_cookie,
        );
        assert_eq!(r.code(), "20003002", "{}", r.text());
        // The borrower hears of it: a message and an SMS.
        let session = login(s, M, "newsecret1");
        let msgs = s.call(
            "/appCommonApi/getCustomMessage",
            json!({"pageNum": 1}),
            Some(&session),
        );
        assert!(
            msgs.result()
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["messageType"] == "99"
                    && m["messageContent"].as_str().unwrap().contains("重置")),
            "{}",
            msgs.text()
        );
        let outbox = std::fs::read_to_string(&s.outbox).unwrap();
        assert!(
            outbox
                .lines()
                .any(|l| l.contains("\"notice\"") && l.contains(M)),
            "{outbox}"
        );

        // A client without cookies is bound by its address and User-Agent.
        start_reset(s, "cookieless-app");
        let sms = s.sms_code(M);
        let r = call_as(
            s,
            "/openApi/forgetPwdCheckSmsCode",
            json!({"smscode": sms, "mobile": M}),
            &[("User-Agent", "another-app")],
        );
        assert_ne!(
            r.code(),
            "20002006",
            "{}: another client used the code",
            s.backend
        );
        let r = call_as(
            s,
            "/openApi/forgetPwdCheckSmsCode",
            json!({"smscode": sms, "mobile": M}),
            &[("User-Agent", "cookieless-app")],
        );
        assert_eq!(r.code(), "20002006", "{}", r.text());
        let r = call_as(
            s,
            "/openApi/forgetPwdIdentityAuth",
            json!({"mobile": M, "realname": "张某某", "identitycode": id}),
            &[("User-Agent", "another-app")],
        );
        assert_ne!(r.code(), "20004000", "{}", s.backend);
    });
    // Cookies required: a cookie-less step is refused.
    on_every_backend(&[("CASHLOAN_FLOW_REQUIRE_COOKIE", "true")], |s| {
        register_with_cookies(s);
        start_reset(s, "app");
        let sms = s.sms_code(M);
        let r = call_as(
            s,
            "/openApi/forgetPwdCheckSmsCode",
            json!({"smscode": sms, "mobile": M}),
            &[("User-Agent", "app")],
        );
        assert_ne!(
            r.code(),
            "20002006",
            "{}: cookie-less flow accepted",
            s.backend
        );
    });
}

/// §7 → §10 keeping the flow cookie, as an app that keeps cookies does.
fn register_with_cookies(s: &TestServer) {
    let captcha = call_as(s, "/openApi/getCode", json!({}), &[]).result();
    let r = call_as(
        s,
        "/openApi/getSmsCode",
        json!({"code": captcha, "mobile": M}),
        &[],
    );
    assert_eq!(r.code(), "20001000", "{}", r.text());
    let cookie = r
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let h = [("Cookie", cookie.as_str())];
    let r = call_as(
        s,
        "/openApi/checkSmsCode",
        json!({"smscode": s.sms_code(M), "mobile": M}),
        &h,
    );
    assert_eq!(r.code(), "20002006", "{}", r.text());
    let p = des("secret123");
    let r = call_as(
        s,
        "/openApi/userRegister",
        json!({"password": p, "confirmPassword": p, "mobile": M}),
        &h,
    );
    assert_eq!(r.code(), "20003000", "{}", r.text());
}

const NEW_CASH_LOAN: &str = "c4493fbe-23f7-4904-bac1-ff0266b36e2e";

fn application_body(extra: Value) -> Value {
    let mut body = json!({
        "productId": NEW_CASH_LOAN, "amount": "1000.00", "termCount": "14", "termUnit": "1",
        "repayTermCount": "14", "repayTermUnit": "1", "repayType": "1", "interestRate": "0.36",
        "longitude": "116.31", "latitude": "39.98", "orderId": "201701012236523", "purpose": "21",
        "otherChannels": "01", "phonebookList": [{"contactName": "木木", "contactPhone": "13940460755"}],
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

#[test]
fn one_borrower_never_reaches_anothers_loan_or_contacts() {
    on_every_backend(&[], |s| {
        let owner = verified_borrower(s, M, 1);
        let r = s.call(
            "/appCommonApi/loanProductApply",
            application_body(json!({})),
            Some(&owner),
        );
        let id = r.result().as_str().unwrap().to_owned();
        for step in ["review", "approve", "disburse"] {
            s.admin_confirmed("POST", &format!("/admin/applications/{id}/{step}"), None);
        }
        let plan = s.call(
            "/appCommonApi/getLoanApplyRepayList",
            json!({"pageNum": 1, "loanProductApplyId": id}),
            Some(&owner),
        );
        let repay_id = plan.result()[0]["repayId"].as_str().unwrap().to_owned();
        let contact_id = s
            .call("/appCommonApi/getPerfectUserInfo", json!({}), Some(&owner))
            .result()["relShipList"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();

        let thief = verified_borrower(s, "13709812612", 2);
        // Someone else's ids answer exactly like ids that do not exist.
        let as_thief = |path: &str, body: Value| s.call(path, body, Some(&thief));
        let plan_of = |loan: &str| {
            as_thief(
                "/appCommonApi/getLoanApplyRepayList",
                json!({"pageNum": 1, "loanProductApplyId": loan}),
            )
        };
        assert_eq!(
            (plan_of(&id).code(), plan_of(&id).message()),
            (
                plan_of("no-such-id").code(),
                plan_of("no-such-id").message()
            )
        );
        for kind in ["current", "all"] {
            let theirs = as_thief(
                "/appCommonApi/gotoRepayment",
                json!({"id": repay_id, "repayType": kind}),
            );
            let nobody = as_thief(
                "/appCommonApi/gotoRepayment",
                json!({"id": "no-such-id", "repayType": kind}),
            );
            assert_eq!(
                (theirs.code(), theirs.message()),
                (nobody.code(), nobody.message()),
                "{}",
                s.backend
            );
            assert_eq!(theirs.code(), "20006003");
        }
        let update = as_thief(
            "/appCommonApi/saveOrUpdateRelShip",
            json!({"operType": "update", "id": contact_id, "relType": "7", "realName": "小偷", "phoneNum": "13900000001"}),
        );
        assert_eq!(update.message(), "联系人不存在", "{}", s.backend);
        // The thief's own lists do not show the owner's loan.
        let mine = as_thief("/appCommonApi/getLoanApplyInfoList", json!({"pageNum": 1}));
        assert_eq!(mine.json()["total"], 0);
        let repay = as_thief("/appCommonApi/getRepayInfoList", json!({"pageNum": 1}));
        assert_eq!(repay.json()["total"], 0);
        // And the owner's loan is untouched.
        let ledger = s.admin("GET", &format!("/admin/applications/{id}/ledger"), None);
        assert_eq!(ledger.json()["in"], "0.00");
    });
}

#[test]
fn a_request_is_never_accepted_twice() {
    for mut s in servers(&[]) {
        let once = signed(&json!({"pageNum": 1}));
        assert_eq!(
            s.send("/openCommonApi/getSystemMessage", &once, None)
                .code(),
            "0000"
        );
        // The same nonce and timestamp on another endpoint.
        let mut other = once.clone();
        if let cashloan_protocol::Json::Object(m) = &mut other {
            m.remove("sign");
            m.remove("pageNum");
            let sign = cashloan_protocol::sign(cashloan_test_support::server::APP_KEY, m);
            m.insert("sign", sign);
        }
        assert_eq!(
            s.send("/openCommonApi/getLoanProductList", &other, None)
                .code(),
            "10000003"
        );
        // After a restart.
        s.restart();
        assert_eq!(
            s.send("/openCommonApi/getSystemMessage", &once, None)
                .code(),
            "10000003",
            "{}",
            s.backend
        );
    }
}

#[test]
fn hostile_strings_are_answered_never_a_fault() {
    const HOSTILE: [&str; 8] = [
        "' OR '1'='1' --",
        "\"; DROP TABLE users; --",
        "<script>alert(1)</script>",
        "${jndi:ldap://x/a}",
        "../../../../etc/passwd",
        "%00%0d%0a",
        "𝕏😀\u{202e}",
        "1e400",
    ];
    on_every_backend(&[], |s| {
        let session = verified_borrower(s, M, 1);
        let calls: [(&str, &[&str], bool); 8] = [
            (
                "/security/login",
                &["username", "password", "appType", "token"],
                false,
            ),
            ("/openApi/getSmsCode", &["code", "mobile"], false),
            ("/openApi/checkSmsCode", &["smscode", "mobile"], false),
            (
                "/openApi/forgetPwdIdentityAuth",
                &["mobile", "realname", "identitycode"],
                false,
            ),
            (
                "/openCommonApi/getLoanProductDetails",
                &["productId"],
                false,
            ),
            (
                "/appCommonApi/authRealNameInfo",
                &["realName", "idCardNo"],
                true,
            ),
            (
                "/appCommonApi/getLoanApplyConfirmInfo",
                &[
                    "productId",
                    "amount",
                    "termCount",
                    "termUnit",
                    "repayTermCount",
                    "repayTermUnit",
                    "repayType",
                    "interestRate",
                ],
                true,
            ),
            ("/appCommonApi/gotoRepayment", &["id", "repayType"], true),
        ];
        for (path, fields, login) in calls {
            for hostile in HOSTILE {
                for field in fields {
                    let mut body = json!({});
                    for f in fields.iter() {
                        body[*f] = json!("1");
                    }
                    body[*field] = json!(hostile);
                    let r = s.call(path, body, login.then_some(session.as_str()));
                    assert_eq!(r.status, 200, "{path} {field}={hostile:?}");
                    assert_ne!(
                        r.code(),
                        "99999999",
                        "{}: {path} {field}={hostile:?}: {}",
                        s.backend,
                        r.text()
                    );
                    assert!(!r.code().is_empty(), "{path}: an envelope");
                }
            }
        }
        // Still there: nothing was dropped or changed.
        assert_eq!(
            s.call("/appCommonApi/getUserCenterInfo", json!({}), Some(&session))
                .code(),
            "0000"
        );
    });
}

#[test]
fn fields_a_client_should_not_set_are_ignored() {
    on_every_backend(&[], |s| {
        let session = verified_borrower(s, M, 1);
        let other = verified_borrower(s, "13709812612", 2);
        drop(other);
        let r = s.call(
            "/appCommonApi/loanProductApply",
            application_body(json!({
                "applyStatus": "4", "replyAmount": "50000.00", "userId": "someone-else",
                "releaseDate": "2026-01-01", "authTermCount": "360", "id": "chosen-id",
            })),
            Some(&session),
        );
        assert_eq!(r.code(), "20005000", "{}", r.text());
        let id = r.result().as_str().unwrap().to_owned();
        assert_ne!(id, "chosen-id");
        let mine = s.call(
            "/appCommonApi/getLoanApplyInfoList",
            json!({"pageNum": 1}),
            Some(&session),
        );
        let loan = &mine.result()[0];
        assert_eq!(
            (
                loan["id"].as_str(),
                loan["applyStatus"].as_str(),
                loan["applyAmount"].as_str(),
                loan["replyAmount"].clone()
            ),
            (Some(id.as_str()), Some("0"), Some("1000.00"), Value::Null),
            "{}: {loan}",
            s.backend
        );
        // A profile save cannot set authentication flags or credit.
        let fresh = {
            register(s, "13709812613", "secret123");
            login(s, "13709812613", "secret123")
        };
        let mut info = personal_info();
        info["realNameAuthStatus"] = json!("1");
        info["bankCardAuthStatus"] = json!("1");
        info["totalCredit"] = json!("999999.00");
        let r = s.call("/appCommonApi/savePerfectUserInfo", info, Some(&fresh));
        assert_eq!(r.code(), "0000", "{}", r.text());
        let st = s
            .call(
                "/appCommonApi/getAuthenticationStatus",
                json!({}),
                Some(&fresh),
            )
            .result();
        assert_eq!(
            (
                st["realNameAuthStatus"].as_str(),
                st["bankCardAuthStatus"].as_str()
            ),
            (Some("0"), Some("0"))
        );
        let centre = s
            .call("/appCommonApi/getUserCenterInfo", json!({}), Some(&fresh))
            .result();
        assert_eq!(centre["totalCredit"], "5000.00", "{centre}");
    });
}

#[test]
fn personal_data_is_sealed_at_rest() {
    let id = cashloan_test_support::server::id_card("19900307", 1);
    let card = format!("6217000730005{:06}", 1);
    for mut s in servers(&[]) {
        let session = verified_borrower(&s, M, 1);
        // Neither the ID number nor the card number is stored as such, in any column.
        for (table, clear) in [("identities", &id), ("bank_cards", &card)] {
            let found = count_rows(
                &s.db_url,
                &format!(
                    "{table} WHERE {} = '{clear}' OR {} LIKE '%{clear}%'",
                    if table == "identities" {
                        "id_card_no"
                    } else {
                        "card_no"
                    },
                    if table == "identities" {
                        "id_card_sealed"
                    } else {
                        "card_sealed"
                    },
                ),
            );
            assert_eq!(found, 0, "{}: {table} holds the number in clear", s.backend);
        }
        let sealed = count_rows(&s.db_url, "identities WHERE id_card_sealed LIKE 'v1:%'");
        assert_eq!(sealed, 1, "{}", s.backend);
        if let Some(path) = s.db_url.strip_prefix("sqlite://") {
            // No trace in the file itself either; the key beside it is the owner's alone.
            let mut raw = std::fs::read(path).unwrap();
            raw.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
            let text = String::from_utf8_lossy(&raw);
            assert!(
                !text.contains(&id) && !text.contains(&card),
                "the SQLite file holds a number"
            );
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(format!("{path}.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "the key file is private");
        }
        // The borrower still sees their own numbers, and an ID number still serves one account.
        let st = s
            .call(
                "/appCommonApi/getAuthenticationStatus",
                json!({}),
                Some(&session),
            )
            .result();
        assert_eq!(
            (st["authNumber"].as_str(), st["bankCardNumber"].as_str()),
            (Some(id.as_str()), Some(card.as_str()))
        );
        let other = {
            register(&s, "13709812612", "secret123");
            login(&s, "13709812612", "secret123")
        };
        let r = s.call(
            "/appCommonApi/authRealNameInfo",
            json!({"realName": "张某某", "idCardNo": id}),
            Some(&other),
        );
        assert_eq!(r.message(), "该身份证号已被其他账号认证", "{}", s.backend);

        // Rotation: a new key with the old one as previous re-seals everything at start.
        let old = if s.backend == "postgres" {
            cashloan_test_support::server::TEST_DATA_KEY.to_owned()
        } else {
            let path = s.db_url.strip_prefix("sqlite://").unwrap();
            std::fs::read_to_string(format!("{path}.key")).unwrap()
        };
        let new = "7b".repeat(32);
        s.restart_with(&[
            ("CASHLOAN_DATA_KEY", new.as_str()),
            ("CASHLOAN_DATA_KEY_PREVIOUS", old.trim()),
        ]);
        s.restart_with(&[
            ("CASHLOAN_DATA_KEY", new.as_str()),
            ("CASHLOAN_DATA_KEY_PREVIOUS", ""),
        ]);
        let session = login(&s, M, "secret123");
        let st = s
            .call(
                "/appCommonApi/getAuthenticationStatus",
                json!({}),
                Some(&session),
            )
            .result();
        assert_eq!(
            st["authNumber"].as_str(),
            Some(id.as_str()),
            "{}: readable under the new key alone",
            s.backend
        );
    }
}

#[test]
fn postgresql_needs_a_data_key() {
    let Some(db) = cashloan_test_support::fresh_postgres() else {
        return;
    };
    let o = Command::new(env!("CARGO_BIN_EXE_cashloan"))
        .env_clear()
        .env("CASHLOAN_DATABASE_URL", &db.url)
        .env("CASHLOAN_BIND", "127.0.0.1:0")
        .env("CASHLOAN_LOG", "error")
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("CASHLOAN_DATA_KEY"), "{err}");
}
