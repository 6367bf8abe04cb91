//! Helpers of the black-box suites: servers on every backend, and the journeys many tests need.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    dead_code,
    unused_imports
)]

use cashloan_test_support::fresh_databases;
pub use cashloan_test_support::journeys::*;
pub use cashloan_test_support::server::{id_card, now_ms, signed, Answer, TestServer, APP_KEY};
use serde_json::{json, Value};

/// One server per available backend (SQLite always, PostgreSQL when configured).
pub fn servers(env: &[(&str, &str)]) -> Vec<TestServer> {
    fresh_databases()
        .into_iter()
        .map(|db| TestServer::start(env!("CARGO_BIN_EXE_cashloan"), db, env))
        .collect()
}

/// Runs `test` against a fresh server on every backend.
pub fn on_every_backend(env: &[(&str, &str)], test: impl Fn(&TestServer)) {
    for s in servers(env) {
        test(&s);
    }
}

/// The id of the demo cash loan the suites apply for.
pub const NEW_CASH_LOAN: &str = "c4493fbe-23f7-4904-bac1-ff0266b36e2e";

pub fn admin_ok(s: &TestServer, method: &str, path: &str, body: Option<Value>) -> Value {
    let r = s.admin_confirmed(method, path, body);
    assert!(r.status < 300, "{method} {path}: {} {}", r.status, r.text());
    r.json()
}

/// A verified borrower's application for 1000.00 over 14 days at 36 %, approved; its id.
pub fn approved_loan(s: &TestServer, mobile: &str, seq: u32) -> (String, String) {
    approved_loan_of(s, mobile, seq, "1000.00", "14")
}

/// A verified borrower's application for `amount` over `days` at 36 %, approved.
pub fn approved_loan_of(
    s: &TestServer,
    mobile: &str,
    seq: u32,
    amount: &str,
    days: &str,
) -> (String, String) {
    let (session, id) = submitted_loan_of(s, mobile, seq, amount, days);
    admin_ok(s, "POST", &format!("/admin/applications/{id}/review"), None);
    admin_ok(
        s,
        "POST",
        &format!("/admin/applications/{id}/approve"),
        None,
    );
    (session, id)
}

/// A verified borrower's application for `amount` over `days` at 36 %, submitted (待审核).
pub fn submitted_loan_of(
    s: &TestServer,
    mobile: &str,
    seq: u32,
    amount: &str,
    days: &str,
) -> (String, String) {
    let session = verified_borrower(s, mobile, seq);
    let r = s.call(
        "/appCommonApi/loanProductApply",
        json!({
            "productId": NEW_CASH_LOAN, "amount": amount, "termCount": days, "termUnit": "1",
            "repayTermCount": days, "repayTermUnit": "1", "repayType": "1", "interestRate": "0.36",
            "longitude": "116.31", "latitude": "39.98", "orderId": "201701012236523", "purpose": "21",
            "otherChannels": "01", "phonebookList": [{"contactName": "木木", "contactPhone": "13940460755"}],
        }),
        Some(&session),
    );
    assert_eq!(r.code(), "20005000", "{}", r.text());
    let id = r.result().as_str().unwrap().to_owned();
    (session, id)
}

/// A paid-out loan; (session, application id, the installment's id).
pub fn paid_out_loan(s: &TestServer, mobile: &str, seq: u32) -> (String, String, String) {
    let (session, id) = approved_loan(s, mobile, seq);
    let plan = disburse(s, &session, &id);
    let repay_id = plan[0]["repayId"].as_str().unwrap().to_owned();
    (session, id, repay_id)
}

/// Pays `id` out (200, status 4); its plan as §29 shows it.
pub fn disburse(s: &TestServer, session: &str, id: &str) -> Vec<Value> {
    let d = admin_ok(
        s,
        "POST",
        &format!("/admin/applications/{id}/disburse"),
        None,
    );
    assert_eq!(d["applyStatus"], 4, "{d}");
    let plan = s.call(
        "/appCommonApi/getLoanApplyRepayList",
        json!({"pageNum": 1, "loanProductApplyId": id}),
        Some(session),
    );
    plan.result().as_array().cloned().unwrap_or_default()
}

pub fn repay(s: &TestServer, session: &str, repay_id: &str) -> String {
    s.call(
        "/appCommonApi/gotoRepayment",
        json!({"id": repay_id, "repayType": "current"}),
        Some(session),
    )
    .code()
}

pub fn ledger(s: &TestServer, id: &str) -> Value {
    admin_ok(s, "GET", &format!("/admin/applications/{id}/ledger"), None)
}

pub fn orders(s: &TestServer, id: &str) -> Vec<Value> {
    admin_ok(
        s,
        "GET",
        &format!("/admin/payments?applicationId={id}"),
        None,
    )["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}
