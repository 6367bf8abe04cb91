//! The operators' console: its safety over plain HTTP (cookie flags, CSRF, CSP, no action by
//! GET), and a whole working day in a real headless Chromium: a reviewer approves, one finance
//! operator pays out and another confirms, the daily job makes the loan overdue, a collector
//! writes a note, finance records an offline repayment that another confirms, and the loan is
//! settled. Screenshots of each page go to target/console-screenshots/.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use cashloan_test_support::browser::{self, Browser};
use cashloan_test_support::server::OPERATOR_PASSWORD_SUFFIX;
use common::*;
use serde_json::json;

fn sqlite_server() -> TestServer {
    TestServer::start(
        env!("CARGO_BIN_EXE_cashloan"),
        cashloan_test_support::fresh_sqlite(),
        &[],
    )
}

/// Signs in through the login form over HTTP: the session cookie's header.
fn console_login(s: &TestServer, name: &str) -> Answer {
    let form = format!("username={name}&password={name}{OPERATOR_PASSWORD_SUFFIX}");
    s.raw(
        "POST",
        "/console/login",
        form.as_bytes(),
        &[("Content-Type", "application/x-www-form-urlencoded")],
    )
}

fn cookie_of(a: &Answer) -> String {
    let set = a.header("set-cookie").unwrap_or_default().to_owned();
    set.split(';').next().unwrap_or_default().to_owned()
}

#[test]
fn the_console_is_safe_over_plain_http() {
    let s = sqlite_server();
    s.operator("rita", "reviewer");
    // Signed out: every page sends the browser to the login page; the login page is locked down.
    let r = s.raw("GET", "/console/review", b"", &[]);
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/console/login"));
    let login = s.raw("GET", "/console/login", b"", &[]);
    assert_eq!(login.status, 200);
    assert!(login.text().contains("登录"));
    assert!(login.text().contains(r#"name="username""#));
    assert!(login.text().contains(r#"name="password""#));
    let csp = login.header("content-security-policy").unwrap();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("script-src"),
        "{csp}"
    );
    assert_eq!(login.header("x-frame-options"), Some("DENY"));
    let css = s.raw("GET", "/console/assets/console.css", b"", &[]);
    assert_eq!(css.status, 200);
    assert!(css.header("content-type").unwrap().starts_with("text/css"));
    // A wrong password: the form again, 401, no cookie.
    let wrong = s.raw(
        "POST",
        "/console/login",
        b"username=rita&password=nope",
        &[("Content-Type", "application/x-www-form-urlencoded")],
    );
    assert_eq!(wrong.status, 401);
    assert!(wrong.header("set-cookie").is_none());
    // Signed in: the cookie is HttpOnly, SameSite=Strict and scoped to the console.
    let ok = console_login(&s, "rita");
    assert_eq!(ok.status, 303, "{}", ok.text());
    let set = ok.header("set-cookie").unwrap().to_owned();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(set.contains(flag), "{set}");
    }
    let cookie = cookie_of(&ok);
    let page = s.raw("GET", "/console/review", b"", &[("Cookie", &cookie)]);
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(page.text().contains("审核队列"));
    // A form's CSRF token is on the page; a post without it, or with another, does nothing.
    let (_, id) = submitted_loan_of(&s, "13709812611", 1, "1000.00", "14");
    let back = "/console/review";
    for token in ["", "0000"] {
        let body =
            format!("_csrf={token}&_back={back}&_method=POST&_path=/applications/{id}/review");
        let r = s.raw(
            "POST",
            "/console/act",
            body.as_bytes(),
            &[
                ("Cookie", &cookie),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
        );
        assert_eq!(r.status, 303);
        assert!(r.header("location").unwrap().contains("ok=0"), "{r:?}");
    }
    let a = s
        .admin("GET", &format!("/admin/applications/{id}"), None)
        .json();
    assert_eq!(a["application"]["applyStatus"], 0, "nothing was done");
    // No operator action through GET: the action endpoint answers only POST.
    let get = s.raw(
        "GET",
        &format!("/console/act?_path=/applications/{id}/review"),
        b"",
        &[("Cookie", &cookie)],
    );
    assert_eq!(get.status, 405);
    // With the page's token, it goes through, as the operator (the trail says rita).
    let csrf = page
        .text()
        .split(r#"name="_csrf" value=""#)
        .nth(1)
        .and_then(|t| t.split('"').next())
        .unwrap()
        .to_owned();
    let body = format!("_csrf={csrf}&_back={back}&_method=POST&_path=/applications/{id}/review");
    let r = s.raw(
        "POST",
        "/console/act",
        body.as_bytes(),
        &[
            ("Cookie", &cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
    );
    assert!(r.header("location").unwrap().contains("ok=1"), "{r:?}");
    let trail = s
        .admin("GET", "/admin/audit?operator=rita&entity=application", None)
        .json();
    assert_eq!(trail["items"][0]["action"], "application.review");
    // A role's pages only: a reviewer has no system page.
    let sys = s.raw("GET", "/console/system", b"", &[("Cookie", &cookie)]);
    assert_eq!(sys.status, 403);
    // Borrower data is masked on the page, and what a borrower typed is escaped.
    let detail = s.raw(
        "GET",
        &format!("/console/applications/{id}"),
        b"",
        &[("Cookie", &cookie)],
    );
    assert!(detail.text().contains("137****2611"));
    assert!(!detail.text().contains("13709812611"));
    // Signing out ends the session itself, not only the cookie.
    let out = s.raw(
        "POST",
        "/console/logout",
        format!("_csrf={csrf}").as_bytes(),
        &[
            ("Cookie", &cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
    );
    assert_eq!(out.status, 303);
    let after = s.raw("GET", "/console/review", b"", &[("Cookie", &cookie)]);
    assert_eq!(after.status, 303, "the old cookie opens nothing");
}

/// The browser, or why there is none (in CI there must be one).
fn browser_here() -> Option<std::path::PathBuf> {
    if let Some(why) = browser::missing() {
        assert!(
            std::env::var("CI").is_err(),
            "CI must run the browser test: {why} (.ci/run installs chromium and chromium-driver)"
        );
        eprintln!("note: the browser test is SKIPPED: {why}; install chromium and chromium-driver");
        return None;
    }
    Some(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/console-screenshots")
            .to_path_buf(),
    )
}

/// Signs `name` in at the login page (whoever was signed in signs out first).
fn sign_in(b: &mut Browser, s: &TestServer, name: &str) {
    if b.try_find("#logout").is_some() {
        b.click("#logout");
    }
    b.goto(&format!("{}/console/login", s.url));
    b.find("#login");
    b.fill("#username", name);
    b.fill("#password", &format!("{name}{OPERATOR_PASSWORD_SUFFIX}"));
    b.click("#login");
    let who = b.text("#who");
    assert!(who.starts_with(name), "{who}");
}

fn flash(b: &Browser) -> String {
    b.text("#flash")
}

fn assert_done(b: &Browser, what: &str) {
    let f = flash(b);
    assert!(
        f.contains("操作成功") || f.contains("已提交"),
        "{what}: {f}\n{}",
        b.body_text()
    );
}

#[test]
fn a_whole_day_in_the_console_in_a_real_browser() {
    let Some(shots) = browser_here() else {
        return;
    };
    let s = sqlite_server();
    for (name, role) in [
        ("rita", "reviewer"),
        ("fang", "finance"),
        ("fei", "finance"),
        ("cui", "collector"),
        ("ada", "admin"),
    ] {
        s.operator(name, role);
    }
    // The borrower applies on 2026-01-31 through the app.
    let r = s.admin(
        "POST",
        "/admin/business-date",
        Some(json!({"date": "2026-01-31"})),
    );
    assert_eq!(r.status, 200);
    let (session, id) = submitted_loan_of(&s, "13709812611", 1, "1000.00", "14");
    let code = s
        .admin("GET", &format!("/admin/applications/{id}"), None)
        .json()["application"]["loanCode"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut b = Browser::start(&shots);

    // The reviewer: the queue, 开始审核, then 审核通过 on the loan's page.
    b.goto(&format!("{}/console/login", s.url));
    b.find("#login");
    b.screenshot("login");
    sign_in(&mut b, &s, "rita");
    b.goto(&format!("{}/console/review", s.url));
    assert!(b.text("#submitted").contains(&code));
    b.screenshot("review-queue");
    b.click(&format!("#review-{code}"));
    assert_done(&b, "开始审核");
    b.click(&format!("#open-{code}"));
    b.find("#approve-form");
    assert!(b.text("#borrower").contains("137****2611"));
    b.screenshot("review-detail");
    b.click("#approve");
    assert_done(&b, "审核通过");
    assert!(b.body_text().contains("审核通过"));

    // Finance A proposes the payout (放款); B confirms it (确认放款).
    sign_in(&mut b, &s, "fang");
    b.goto(&format!("{}/console/payouts", s.url));
    b.screenshot("payout-queue");
    b.click(&format!("#disburse-{code}"));
    assert_done(&b, "放款");
    assert!(
        b.try_find(&format!("#confirm-{code}")).is_none(),
        "the proposer cannot confirm"
    );
    sign_in(&mut b, &s, "fei");
    b.goto(&format!("{}/console/payouts", s.url));
    b.screenshot("payout-to-confirm");
    b.click(&format!("#confirm-{code}"));
    assert_done(&b, "确认放款");

    // The loan's page: its plan and ledger.
    b.goto(&format!("{}/console/applications/{id}", s.url));
    let plan = b.text("#plan");
    assert!(
        plan.contains("2026-02-14") && plan.contains("1014.00"),
        "{plan}"
    );
    let ledger = b.text("#ledger");
    assert!(
        ledger.contains("放款") && ledger.contains("1000.00"),
        "{ledger}"
    );
    b.screenshot("loan-paid-out");

    // The admin moves the book to 2026-02-16 and runs the daily job: two days overdue.
    sign_in(&mut b, &s, "ada");
    b.goto(&format!("{}/console/system", s.url));
    b.fill("#set-date", "2026-02-16");
    b.click("#save-date");
    assert_done(&b, "营业日");
    b.fill("#daily-date", "2026-02-16");
    b.click("#run-daily");
    assert_done(&b, "日终");
    assert!(flash(&b).contains("标记逾期 1"), "{}", flash(&b));
    assert!(b.text("#daily-runs").contains("2026-02-16"));
    b.screenshot("system");
    b.goto(&format!("{}/console", s.url));
    assert!(b.body_text().contains("逾期分布"));
    b.screenshot("dashboard");
    // … and gives the loan to the collector.
    b.goto(&format!("{}/console/collection", s.url));
    b.click(&format!("#assign-{code}"));
    assert_done(&b, "分配");

    // The collector sees it in M1 and writes a note.
    sign_in(&mut b, &s, "cui");
    b.goto(&format!("{}/console/collection?bucket=M1", s.url));
    let queue = b.text("#queue");
    assert!(
        queue.contains(&code) && queue.contains("M1") && queue.contains("1016.02"),
        "{queue}"
    );
    b.screenshot("collection-m1");
    b.click(&format!("#loan-{code}"));
    b.fill("#result", "电话联系，借款人承诺今日转账");
    b.click("#add-note");
    assert_done(&b, "催收记录");
    assert!(b.text("#notes").contains("承诺今日转账"));
    b.screenshot("collection-note");

    // Finance A records the transfer (登记线下还款); B confirms (确认): the loan is settled.
    sign_in(&mut b, &s, "fang");
    b.goto(&format!("{}/console/applications/{id}", s.url));
    b.fill("#flowNo", "ICBC-20260216-0001");
    b.fill("#remark", "借款人对公转账");
    b.screenshot("offline-repayment");
    b.click("#offline");
    assert_done(&b, "登记线下还款");
    sign_in(&mut b, &s, "fei");
    b.goto(&format!("{}/console/applications/{id}", s.url));
    b.click("#confirm-offline");
    assert_done(&b, "确认");
    let page = b.body_text();
    assert!(page.contains("已还完"), "{page}");
    assert!(b.text("#ledger").contains("offline:ICBC-20260216-0001"));
    b.screenshot("settled");
    let status = s
        .call(
            "/appCommonApi/getLoanApplyInfoList",
            json!({"pageNum": 1}),
            Some(&session),
        )
        .result()[0]["applyStatus"]
        .clone();
    assert_eq!(status, "5", "the borrower's app says 已还完");

    // The cookie the browser holds is HttpOnly and SameSite=Strict.
    let cookie = b
        .cookies()
        .into_iter()
        .find(|c| c["name"] == "cashloan_console")
        .expect("the console's cookie");
    assert_eq!(cookie["httpOnly"], true, "{cookie}");
    assert_eq!(cookie["sameSite"], "Strict", "{cookie}");

    // Every step is in the audit trail under its operator.
    sign_in(&mut b, &s, "ada");
    b.goto(&format!("{}/console/audit", s.url));
    let audit = b.text("#audit");
    for who in ["rita", "fang", "fei", "cui", "ada"] {
        assert!(audit.contains(who), "{who} missing:\n{audit}");
    }
    b.screenshot("audit");
}

/// The page's CSRF token.
fn csrf_of(page: &Answer) -> String {
    page.text()
        .split(r#"name="_csrf" value=""#)
        .nth(1)
        .and_then(|t| t.split('"').next())
        .unwrap()
        .to_owned()
}

/// Posts a console form as the holder of `cookie`; where it sends them back.
fn post_form(s: &TestServer, cookie: &str, form: &str) -> String {
    let r = s.raw(
        "POST",
        "/console/act",
        form.as_bytes(),
        &[
            ("Cookie", cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    r.header("location").unwrap().to_owned()
}

#[test]
fn a_product_made_in_the_console_takes_a_second_admin() {
    let s = sqlite_server();
    s.operator("ada", "admin");
    s.operator("bo", "admin");
    let ada = cookie_of(&console_login(&s, "ada"));
    let page = s.raw("GET", "/console/system", b"", &[("Cookie", &ada)]);
    assert_eq!(page.status, 200);
    let csrf = csrf_of(&page);
    let form = format!(
        "_csrf={csrf}&_back=/console/system&_method=POST&_path=/products&name=%E5%91%A8%E8%BD%AC%E8%B4%B7\
         &amountLimitType=0&singleMinAmount=500&singleMaxAmount=3000&interestRateLimitType=1\
         &interestRates=0.18&termUnit=1&daysLimitType=0&singleMinDays=7&singleMaxDays=30\
         &repayType=1&repayTermUnit=1&penaltyRate=0.18&onSale=true&singleAmounts=&serviceFeeRate="
    );
    let back = post_form(&s, &ada, &form);
    assert!(back.contains("ok=1"), "{back}");
    // Not made yet; ada cannot confirm her own proposal, bo can.
    let products = s.admin("GET", "/admin/products", None).text();
    assert!(!products.contains("周转贷"));
    let pending = s
        .admin("GET", "/admin/proposals?status=pending", None)
        .json();
    let id = pending["items"][0]["id"].as_str().unwrap().to_owned();
    let page = s.raw("GET", "/console/proposals", b"", &[("Cookie", &ada)]);
    assert!(page.text().contains("周转贷"));
    assert!(
        !page.text().contains(&format!("confirm-{id}")),
        "no 确认 for the proposer"
    );
    let bo = cookie_of(&console_login(&s, "bo"));
    let page = s.raw("GET", "/console/proposals", b"", &[("Cookie", &bo)]);
    assert!(page.text().contains(&format!("confirm-{id}")));
    let csrf = csrf_of(&page);
    let back = post_form(
        &s,
        &bo,
        &format!(
            "_csrf={csrf}&_back=/console/proposals&_method=POST&_path=/proposals/{id}/confirm"
        ),
    );
    assert!(back.contains("ok=1"), "{back}");
    let products = s.admin("GET", "/admin/products", None).json();
    let made = products["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "周转贷")
        .cloned()
        .unwrap_or_else(|| panic!("{products}"));
    let pid = made["id"].as_str().unwrap().to_owned();

    // Editing: the page holds every member as stored; the form as the page fills it, with a new
    // name, is proposed by ada and confirmed by bo, and nothing else changes.
    let before = s
        .admin("GET", &format!("/admin/products/{pid}"), None)
        .json();
    let page = s.raw(
        "GET",
        &format!("/console/products/{pid}"),
        b"",
        &[("Cookie", &ada)],
    );
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(
        page.text().contains(r#"id="p-penaltyRate" value="0.1800""#),
        "{}",
        page.text()
    );
    let csrf = csrf_of(&page);
    let mut form = format!("_csrf={csrf}&_back=/console/system&_method=PUT&_path=/products/{pid}");
    for (k, v) in before.as_object().unwrap() {
        let v = match (k.as_str(), v) {
            ("name", _) => "%E5%91%A8%E8%BD%AC%E8%B4%B7%E4%BA%8C".to_owned(),
            (_, serde_json::Value::Null) => String::new(),
            (_, serde_json::Value::String(t)) => t.replace(',', "%2C"),
            (_, other) => other.to_string(),
        };
        form.push_str(&format!("&{k}={v}"));
    }
    let back = post_form(&s, &ada, &form);
    assert!(back.contains("ok=1"), "{back}");
    let pending = s
        .admin("GET", "/admin/proposals?status=pending", None)
        .json();
    let id = pending["items"][0]["id"].as_str().unwrap().to_owned();
    let page = s.raw("GET", "/console/proposals", b"", &[("Cookie", &bo)]);
    let csrf = csrf_of(&page);
    let back = post_form(
        &s,
        &bo,
        &format!(
            "_csrf={csrf}&_back=/console/proposals&_method=POST&_path=/proposals/{id}/confirm"
        ),
    );
    assert!(back.contains("ok=1"), "{back}");
    let after = s
        .admin("GET", &format!("/admin/products/{pid}"), None)
        .json();
    assert_eq!(after["name"], "周转贷二");
    let mut expected = before.clone();
    expected["name"] = json!("周转贷二");
    assert_eq!(after, expected, "only the name changed");
    // A non-admin has no product page.
    s.operator("rita", "reviewer");
    let rita = cookie_of(&console_login(&s, "rita"));
    let page = s.raw(
        "GET",
        &format!("/console/products/{pid}"),
        b"",
        &[("Cookie", &rita)],
    );
    assert_eq!(page.status, 403);
}
