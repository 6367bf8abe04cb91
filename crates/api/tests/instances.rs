//! Black-box: two `cashloan serve` processes on one PostgreSQL behave as one server. A session
//! opened on one works on the other, a nonce used on one is refused by the other, rate limits and
//! SMS caps are shared, and a loan paid through one cannot be paid through the other. (PostgreSQL
//! only: SQLite is one process's file.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use cashloan_test_support::server::FakeChannel;
use common::*;
use serde_json::json;

const CAPTCHAS_A_MINUTE: usize = 6;

/// Two servers on one fresh PostgreSQL database, with `env`; none when PostgreSQL is not
/// configured (the suite says it skipped).
fn two_instances(env: &[(&str, &str)]) -> Option<(TestServer, TestServer)> {
    let db = cashloan_test_support::fresh_databases()
        .into_iter()
        .find(|d| d.backend == "postgres")?;
    let second = db.same_database();
    let bin = env!("CARGO_BIN_EXE_cashloan");
    let a = TestServer::start(bin, db, env);
    let b = TestServer::start(bin, second, env);
    Some((a, b))
}

/// Waits for a fresh rate-limit minute when this one is nearly over, so a count is not split.
fn early_in_a_minute() {
    let into = now_ms().rem_euclid(60_000);
    if into > 45_000 {
        std::thread::sleep(Duration::from_millis(u64::try_from(60_500 - into).unwrap()));
    }
}

#[test]
fn two_instances_on_one_postgresql_behave_as_one_server() {
    let channel = FakeChannel::start();
    let setting = channel.setting();
    let per_minute = CAPTCHAS_A_MINUTE.to_string();
    let env = [
        ("CASHLOAN_PAYMENT_CHANNEL", setting.as_str()),
        ("CASHLOAN_SMS_MIN_INTERVAL_SECS", "60"),
        ("CASHLOAN_CAPTCHA_PER_MINUTE", per_minute.as_str()),
        // The limit is per client address: the count below comes from one behind a proxy, so
        // the rest of the test (from 127.0.0.1) keeps its own.
        ("CASHLOAN_TRUSTED_PROXIES", "127.0.0.1"),
    ];
    let Some((a, b)) = two_instances(&env) else {
        return;
    };

    // The graphic-code rate limit counts both servers' answers together.
    early_in_a_minute();
    let mut given = 0;
    for k in 0..2 * CAPTCHAS_A_MINUTE {
        let s = if k % 2 == 0 { &a } else { &b };
        let body = signed(&json!({})).to_compact_string();
        let r = s.raw(
            "POST",
            "/openApi/getCode",
            body.as_bytes(),
            &[
                ("Content-Type", "application/json"),
                ("X-Forwarded-For", "203.0.113.9"),
            ],
        );
        match r.code().as_str() {
            "0000" => given += 1,
            "10000005" => break,
            other => panic!("graphic code: {other}: {}", r.text()),
        }
    }
    assert_eq!(given, CAPTCHAS_A_MINUTE, "one limit for both servers");

    // A session opened on one works on the other; logging out on the other ends it everywhere.
    let mobile = "13709812611";
    let session = verified_borrower(&a, mobile, 1);
    let centre = |s: &TestServer| {
        s.call("/appCommonApi/getUserCenterInfo", json!({}), Some(&session))
            .code()
    };
    assert_eq!(centre(&b), "0000");
    assert_eq!(centre(&a), "0000");

    // A request accepted by one is a replay to the other.
    let request = signed(&json!({"pageNum": 1, "pageSize": 10}));
    let path = "/openCommonApi/getSystemMessage";
    assert_eq!(a.send(path, &request, None).code(), "0000");
    assert_eq!(b.send(path, &request, None).code(), "10000003");

    // The SMS interval for one mobile holds across servers: the second ask, on the other
    // server, within the minute, is refused.
    let other_mobile = "13709812612";
    let ask = |s: &TestServer| {
        let captcha = s.call("/openApi/getCode", json!({}), None).result();
        s.call(
            "/openApi/getSmsCode",
            json!({"code": captcha, "mobile": other_mobile}),
            None,
        )
        .code()
    };
    assert_eq!(ask(&a), "20001000");
    assert_eq!(ask(&b), "10000005", "the other server knows the first SMS");

    // A loan paid out, then repaid through both servers at once: the money moves once.
    let (session2, id) = approved_loan(&a, "13709812613", 2);
    let plan = disburse(&b, &session2, &id);
    let repay_id = plan[0]["repayId"].as_str().unwrap().to_owned();
    channel.set_delay(Duration::from_millis(300));
    let codes: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|k| {
                let (s, session2, repay_id) =
                    (if k % 2 == 0 { &a } else { &b }, &session2, &repay_id);
                scope.spawn(move || repay(s, session2, repay_id))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    channel.set_delay(Duration::ZERO);
    assert_eq!(
        codes.iter().filter(|c| *c == "0000").count(),
        1,
        "paid once: {codes:?}"
    );
    let charges: Vec<_> = orders(&a, &id)
        .into_iter()
        .filter(|o| o["kind"] == "charge")
        .collect();
    assert_eq!(charges.len(), 1, "one charge order: {charges:?}");
    assert_eq!(
        channel
            .statement()
            .iter()
            .filter(|m| m.op == "charge")
            .count(),
        1,
        "the channel charged once"
    );
    assert_eq!(
        repay(&b, &session2, &repay_id),
        "20006001",
        "already paid, says the other"
    );

    // Logging out on one ends the session on both.
    let out = b.call(
        "/appApi/quitMobileLogin",
        json!({"sessionId": session}),
        None,
    );
    assert_eq!(out.code(), "20003010", "{}", out.text());
    assert_eq!(centre(&a), "10000004");
    assert_eq!(centre(&b), "10000004");
}

/// What one instance changes, the other reads at once, though it holds what it read before in
/// its cache: the borrower's loans and installments (§27), credit, products and the business
/// date (§22), a disabled account.
#[test]
fn what_one_instance_changes_the_other_reads_at_once() {
    let Some((a, b)) = two_instances(&[]) else {
        return;
    };
    let mobile = "13709812621";
    let (session, id) = approved_loan(&a, mobile, 7);
    let centre = |s: &TestServer| {
        let r = s.call("/appCommonApi/getUserCenterInfo", json!({}), Some(&session));
        assert_eq!(r.code(), "0000", "{}", r.text());
        r.result()
    };
    // Twice each, so the second is served from what the first left in the cache.
    for s in [&b, &b, &a, &a] {
        let c = centre(s);
        assert_eq!(c["totalNeedPayAmount"], "0.00", "{c}");
        assert_eq!(c["totalApplyAmount"], "0.00", "{c}");
    }

    let plan = disburse(&a, &session, &id);
    let owed = centre(&a);
    assert_ne!(owed["totalNeedPayAmount"], "0.00", "{owed}");
    assert_eq!(
        centre(&b),
        owed,
        "paid out through one, seen through the other"
    );
    assert_eq!(owed["totalApplyAmount"], "1000.00");

    admin_ok(
        &a,
        "PUT",
        &format!("/admin/users/{mobile}/credit"),
        Some(json!({"totalCredit": "8000.00"})),
    );
    assert_eq!(centre(&b)["totalCredit"], "8000.00");

    let repay_id = plan[0]["repayId"].as_str().unwrap();
    assert_eq!(repay(&a, &session, repay_id), "0000");
    let c = centre(&b);
    assert_eq!(c["totalNeedPayAmount"], "0.00", "repaid through one: {c}");
    assert_eq!(c["availableCredit"], "8000.00", "{c}");

    // A product the other instance quoted, taken off sale through one.
    let product = json!({
        "name": "灵活贷", "amountLimitType": "0", "singleMinAmount": "1000", "singleMaxAmount": "5000",
        "interestRateLimitType": "1", "interestRates": "0.12", "termUnit": "1",
        "daysLimitType": "0", "singleMinDays": "7", "singleMaxDays": "30",
        "repayType": "1", "repayTermUnit": "1", "penaltyRate": "0.18",
    });
    let created = admin_ok(&a, "POST", "/admin/products", Some(product.clone()));
    let pid = created["id"].as_str().unwrap().to_owned();
    let quote = |s: &TestServer| {
        s.call(
            "/appCommonApi/getLoanApplyConfirmInfo",
            json!({
                "productId": pid, "amount": "1000", "termCount": "14", "termUnit": "1",
                "repayTermCount": "14", "repayTermUnit": "1", "repayType": "1", "interestRate": "0.12",
            }),
            Some(&session),
        )
    };
    admin_ok(
        &a,
        "POST",
        "/admin/business-date",
        Some(json!({"date": "2026-03-01"})),
    );
    for _ in 0..2 {
        let q = quote(&b);
        assert_eq!(q.code(), "0000", "{}", q.text());
        assert_eq!(q.result()["repayTime"], "2026-03-15");
    }
    admin_ok(
        &a,
        "POST",
        "/admin/business-date",
        Some(json!({"date": "2026-04-01"})),
    );
    assert_eq!(
        quote(&b).result()["repayTime"],
        "2026-04-15",
        "the business date moved through the other instance"
    );
    let mut off = product;
    off["onSale"] = json!(false);
    admin_ok(&a, "PUT", &format!("/admin/products/{pid}"), Some(off));
    let q = quote(&b);
    assert_eq!(
        q.message(),
        "产品不存在",
        "taken off sale through the other: {}",
        q.text()
    );

    admin_ok(
        &a,
        "PUT",
        &format!("/admin/users/{mobile}/status"),
        Some(json!({"disabled": true})),
    );
    let r = b.call("/appCommonApi/getUserCenterInfo", json!({}), Some(&session));
    assert_eq!(
        r.code(),
        "10000004",
        "disabled through the other: {}",
        r.text()
    );
}
