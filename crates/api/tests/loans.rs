//! Black-box: products (§20, §21), quote (§22), application (§23), lists (§24–§29), repayment
//! (§36), the admin API and the daily job — whole loans of every repay type through HTTP alone,
//! every figure checked against docs/loans.md's rules worked by hand.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::{json, Value};

const CASH_LOAN: &str = "4feae5b5-0a5f-449a-aa96-9b6584b59440";
const NEW_CASH_LOAN: &str = "c4493fbe-23f7-4904-bac1-ff0266b36e2e";
const INSTALMENT: &str = "0b7f6c2e-5d1a-4c4e-9f3a-2a8e7c1d9b10";

fn admin_ok(s: &TestServer, method: &str, path: &str, body: Option<Value>) -> Value {
    let r = s.admin_confirmed(method, path, body);
    assert!(
        (200..300).contains(&r.status),
        "{method} {path}: {} {}",
        r.status,
        r.text()
    );
    r.json()
}

fn set_date(s: &TestServer, date: &str) {
    admin_ok(
        s,
        "POST",
        "/admin/business-date",
        Some(json!({"date": date})),
    );
}

fn terms(
    product: &str,
    amount: &str,
    term: (&str, &str),
    interval: (&str, &str),
    repay_type: &str,
    rate: &str,
) -> Value {
    json!({
        "productId": product, "amount": amount, "termCount": term.0, "termUnit": term.1,
        "repayTermCount": interval.0, "repayTermUnit": interval.1, "repayType": repay_type, "interestRate": rate,
    })
}

fn application(t: &Value) -> Value {
    let mut a = t.clone();
    let extra = json!({
        "longitude": "116.31", "latitude": "39.98", "orderId": "201701012236523", "purpose": "21",
        "otherChannels": "01", "phonebookList": [{"contactName": "木木", "contactPhone": "13940460755"}],
    });
    for (k, v) in extra.as_object().unwrap() {
        a[k] = v.clone();
    }
    a
}

fn apply(s: &TestServer, session: &str, t: &Value) -> String {
    let r = s.call(
        "/appCommonApi/loanProductApply",
        application(t),
        Some(session),
    );
    assert_eq!(r.code(), "20005000", "{}", r.text());
    assert_eq!(r.json()["exceptionFlag"], "0000");
    r.result().as_str().unwrap().to_owned()
}

fn approve_and_disburse(s: &TestServer, id: &str) {
    admin_ok(s, "POST", &format!("/admin/applications/{id}/review"), None);
    admin_ok(
        s,
        "POST",
        &format!("/admin/applications/{id}/approve"),
        None,
    );
    let d = admin_ok(
        s,
        "POST",
        &format!("/admin/applications/{id}/disburse"),
        None,
    );
    assert_eq!(d["applyStatus"], 4);
}

fn plan(s: &TestServer, session: &str, id: &str) -> Vec<Value> {
    let r = s.call(
        "/appCommonApi/getLoanApplyRepayList",
        json!({"pageNum": 1, "pageSize": 100, "loanProductApplyId": id}),
        Some(session),
    );
    assert_eq!(r.code(), "0000", "{}", r.text());
    r.result().as_array().unwrap().clone()
}

fn repay_rows(s: &TestServer, session: &str, condition: &str) -> Vec<Value> {
    let r = s.call(
        "/appCommonApi/getRepayInfoList",
        json!({"pageNum": 1, "pageSize": 100, "condition": condition}),
        Some(session),
    );
    assert_eq!(r.code(), "0000", "{}", r.text());
    r.result().as_array().unwrap().clone()
}

fn pay(s: &TestServer, session: &str, id: &str, kind: &str) -> String {
    s.call(
        "/appCommonApi/gotoRepayment",
        json!({"id": id, "repayType": kind}),
        Some(session),
    )
    .code()
}

fn daily(s: &TestServer, date: &str) -> Value {
    admin_ok(s, "POST", "/admin/batch/daily", Some(json!({"date": date})))
}

fn loan_status(s: &TestServer, session: &str, id: &str) -> String {
    let r = s.call(
        "/appCommonApi/getLoanApplyInfoList",
        json!({"pageNum": 1}),
        Some(session),
    );
    r.result()
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .map(|a| {
            // §28 also sends `status`, as the vendor's sample does: always the same value.
            assert_eq!(a["status"], a["applyStatus"], "{a}");
            a["applyStatus"].as_str().unwrap().to_owned()
        })
        .unwrap()
}

fn messages(s: &TestServer, session: &str) -> Vec<Value> {
    let r = s.call(
        "/appCommonApi/getCustomMessage",
        json!({"pageNum": 1, "pageSize": 100}),
        Some(session),
    );
    r.result().as_array().unwrap().clone()
}

fn count_type(msgs: &[Value], t: &str) -> usize {
    msgs.iter().filter(|m| m["messageType"] == t).count()
}

#[test]
fn products_are_listed_and_detailed() {
    on_every_backend(&[], |s| {
        let list = s.call("/openCommonApi/getLoanProductList", json!({}), None);
        assert_eq!(
            (list.code(), list.message()),
            ("0000".into(), "获取产品展示信息成功".into())
        );
        let items = list.result();
        assert_eq!(items.as_array().unwrap().len(), 4);
        let cash = &items[0];
        assert_eq!(
            (cash["name"].as_str(), cash["amountLimitType"].as_str()),
            (Some("现金贷"), Some("1"))
        );
        assert_eq!(cash["singleAmounts"], "2000");
        assert!(
            cash.get("singleMinAmount").is_none(),
            "unset members are left out of §20"
        );
        assert_eq!(items[1]["singleMinAmount"], "500.00");
        assert_eq!(items[1]["singleDays"], "7,14");

        let d = s.call(
            "/openCommonApi/getLoanProductDetails",
            json!({"productId": CASH_LOAN}),
            None,
        );
        assert_eq!(d.code(), "0000");
        let r = d.result();
        for (k, v) in [
            ("singleMinAmount", ""),
            ("singleAmounts", "2000"),
            ("singleDefaultAmount", "2000.00"),
            ("interestRates", "0.3600"),
            ("defaultInterestRate", "0.3600"),
            ("termUnit", "1"),
            ("repayType", "1"),
            ("singleDays", "7"),
            ("defaultRepayTermCount", "1"),
            ("defaultRepayTermUnit", "1"),
            ("repayTermUnit", "1"),
            (
                "thirdServiceCode",
                "cashLoanOperatorDataService,zsCreditService.bankCardVerification",
            ),
        ] {
            assert_eq!(r[k], v, "{k}");
        }
        assert_eq!(r["termUnitData"], json!({"1": "日", "2": "月"}));
        assert_eq!(r["repayTypeData"]["3"], "等额本息");
        assert_eq!(r["purposeData"]["21"], "短期资金周转");
        assert_eq!(r["otherChannelsData"]["02"], "有,已结清");
        let r = s.call(
            "/openCommonApi/getLoanProductDetails",
            json!({"productId": "nope"}),
            None,
        );
        assert_eq!(
            (r.code(), r.message()),
            ("10001000".into(), "产品不存在".into())
        );
    });
}

#[test]
fn the_quote_shows_the_plan_and_its_cost_and_refuses_with_each_code() {
    on_every_backend(&[], |s| {
        set_date(s, "2017-11-29");
        let session = verified_borrower(s, "13709812611", 1);
        let q = |t: Value| s.call("/appCommonApi/getLoanApplyConfirmInfo", t, Some(&session));
        // docs/loans.md's anchor: 500.00 at 36 % for 14 days = 7.00 interest.
        let r = q(terms(
            NEW_CASH_LOAN,
            "500.00",
            ("14", "1"),
            ("14", "1"),
            "1",
            "0.36",
        ));
        assert_eq!(
            (r.code(), r.message()),
            ("0000".into(), "获取产品申请确认信息成功".into())
        );
        let v = r.result();
        for (k, want) in [
            ("applyAmount", "500.00"),
            ("replyAmount", "500.00"),
            ("totalAmount", "507.00"),
            ("totalDuePrincipal", "500.00"),
            ("totalDueInterest", "7.00"),
            ("totalDueFee", "0.00"),
            ("repayTime", "2017-12-13"),
            ("apr", "0.3600"),
        ] {
            assert_eq!(v[k], want, "{k}");
        }
        assert_eq!(v["repayPlan"][0]["dueAmount"], "507.00");
        // The seed's zero-padded codes are accepted.
        assert_eq!(
            q(terms(
                NEW_CASH_LOAN,
                "500",
                ("7", "01"),
                ("1", "01"),
                "01",
                "0.3600"
            ))
            .code(),
            "0000"
        );

        let cases = [
            (
                terms(NEW_CASH_LOAN, "abc", ("7", "1"), ("7", "1"), "1", "0.36"),
                "20004000",
            ),
            (
                terms(NEW_CASH_LOAN, "499.99", ("7", "1"), ("7", "1"), "1", "0.36"),
                "20004001",
            ),
            (
                terms(NEW_CASH_LOAN, "500", ("7", "1"), ("7", "1"), "1", "36%"),
                "20004002",
            ),
            (
                terms(NEW_CASH_LOAN, "500", ("7", "1"), ("7", "1"), "1", "0.24"),
                "20004003",
            ),
            (
                terms(NEW_CASH_LOAN, "500", ("0", "1"), ("7", "1"), "1", "0.36"),
                "20004004",
            ),
            (
                terms(NEW_CASH_LOAN, "500", ("10", "1"), ("10", "1"), "1", "0.36"),
                "20004005",
            ),
            (
                terms(NEW_CASH_LOAN, "500", ("7", "3"), ("7", "1"), "1", "0.36"),
                "20004006",
            ),
            (
                terms(NEW_CASH_LOAN, "500", ("7", "2"), ("7", "1"), "1", "0.36"),
                "20004007",
            ),
            (
                terms(NEW_CASH_LOAN, "500", ("7", "1"), ("x", "1"), "1", "0.36"),
                "20004008",
            ),
            (
                terms(INSTALMENT, "3000", ("12", "2"), ("5", "2"), "4", "0.18"),
                "20004009",
            ),
            (
                terms(NEW_CASH_LOAN, "500", ("7", "1"), ("7", "9"), "1", "0.36"),
                "20004010",
            ),
            (
                terms(NEW_CASH_LOAN, "500", ("7", "1"), ("1", "2"), "1", "0.36"),
                "20004011",
            ),
            (
                terms(NEW_CASH_LOAN, "500", ("7", "1"), ("7", "1"), "7", "0.36"),
                "20004013",
            ),
            (
                terms(NEW_CASH_LOAN, "500", ("7", "1"), ("7", "1"), "3", "0.36"),
                "20004014",
            ),
        ];
        for (t, code) in cases {
            let r = q(t.clone());
            assert_eq!(r.code(), code, "{t} → {}", r.text());
            assert_eq!(r.json()["exceptionFlag"], "9999");
        }
        // Cent rounding never refuses what the exact arithmetic allows: 501.00 × 0.36 × 7 / 360 =
        // 3.507 → 3.51 would disclose 3.51 / 501 × 360 / 7 = 0.3603 > 0.36, so the interest is
        // rounded toward the borrower: 3.50, an APR of 0.3593.
        let r = q(terms(
            NEW_CASH_LOAN,
            "501.00",
            ("7", "1"),
            ("7", "1"),
            "1",
            "0.36",
        ));
        assert_eq!(r.code(), "0000", "{}", r.text());
        assert_eq!(r.result()["totalDueInterest"], "3.50");
        assert_eq!(r.result()["apr"], "0.3593");
        // 2,918.00 for 7 days: 20.426 → 20.42 (0.3599), not 20.43 (0.3601).
        let r = q(terms(
            NEW_CASH_LOAN,
            "2918.00",
            ("7", "1"),
            ("7", "1"),
            "1",
            "0.36",
        ));
        assert_eq!(r.code(), "0000", "{}", r.text());
        assert_eq!(
            (
                r.result()["totalDueInterest"].clone(),
                r.result()["apr"].clone()
            ),
            (json!("20.42"), json!("0.3599"))
        );
        assert_eq!(
            q(terms(
                NEW_CASH_LOAN,
                "500.00",
                ("7", "1"),
                ("7", "1"),
                "1",
                "0.36"
            ))
            .code(),
            "0000"
        );
        // Above the available credit (5000.00 by default).
        admin_ok(
            s,
            "PUT",
            "/admin/users/13709812611/credit",
            Some(json!({"totalCredit": "3000.00"})),
        );
        let r = q(terms(
            INSTALMENT,
            "3000.01",
            ("3", "2"),
            ("1", "2"),
            "3",
            "0.18",
        ));
        assert_eq!(
            (r.code(), r.message()),
            ("20004001".into(), "借贷金额超过可用额度".into())
        );
        assert_eq!(
            q(terms(
                INSTALMENT,
                "3000",
                ("3", "2"),
                ("1", "2"),
                "3",
                "0.18"
            ))
            .code(),
            "0000"
        );
        // An unknown product.
        let r = q(terms("nope", "500", ("7", "1"), ("7", "1"), "1", "0.36"));
        assert_eq!(r.message(), "产品不存在");
        // Fields are required in table order.
        let r = q(json!({"productId": NEW_CASH_LOAN, "amount": "500"}));
        assert_eq!(r.message(), "请求报文传输信息有误: termCount");
    });
}

#[test]
fn a_day_term_product_rejects_the_annuity_and_a_product_above_the_cap_is_refused() {
    on_every_backend(&[], |s| {
        // A product offering days and months with 等额本息 makes 20004015 reachable.
        let product = json!({
            "name": "灵活贷", "amountLimitType": "0", "singleMinAmount": "1000", "singleMaxAmount": "5000",
            "interestRateLimitType": "1", "interestRates": "0.12", "termUnit": "1,2",
            "daysLimitType": "0", "singleMinDays": "7", "singleMaxDays": "30",
            "monthsLimitType": "1", "singleMonths": "3,6", "repayType": "1,3", "repayTermUnit": "1,2",
            "penaltyRate": "0.18",
        });
        let created = admin_ok(s, "POST", "/admin/products", Some(product.clone()));
        let id = created["id"].as_str().unwrap().to_owned();
        let session = verified_borrower(s, "13709812611", 1);
        let r = s.call(
            "/appCommonApi/getLoanApplyConfirmInfo",
            terms(&id, "1000", ("14", "1"), ("7", "1"), "3", "0.12"),
            Some(&session),
        );
        assert_eq!(r.code(), "20004015", "{}", r.text());
        // It offers day intervals too, so a month term with a day interval reaches 20004012.
        let r = s.call(
            "/appCommonApi/getLoanApplyConfirmInfo",
            terms(&id, "1000", ("3", "2"), ("30", "1"), "1", "0.12"),
            Some(&session),
        );
        assert_eq!(r.code(), "20004012", "{}", r.text());
        // A flat product at 36 % could cost far more than 36 % a year: it cannot be saved.
        let mut greedy = product.clone();
        greedy["repayType"] = json!("4");
        greedy["interestRates"] = json!("0.36");
        greedy["termUnit"] = json!("2");
        greedy["repayTermUnit"] = json!("2");
        let r = s.admin("POST", "/admin/products", Some(greedy));
        assert_eq!(r.status, 422, "{}", r.text());
        assert!(r.json()["error"].as_str().unwrap().contains("APR"));
        // Neither can an upfront fee.
        let mut upfront = product;
        upfront["upfrontFeeRate"] = json!("0.01");
        assert_eq!(
            s.admin("POST", "/admin/products", Some(upfront)).status,
            422
        );
    });
}

#[test]
fn applying_needs_every_authentication_and_one_open_application_at_a_time() {
    on_every_backend(&[], |s| {
        register(s, "13709812611", "secret123");
        let fresh = login(s, "13709812611", "secret123");
        let t = terms(NEW_CASH_LOAN, "1000", ("7", "1"), ("7", "1"), "1", "0.36");
        let r = s.call(
            "/appCommonApi/loanProductApply",
            application(&t),
            Some(&fresh),
        );
        assert_eq!(r.code(), "20005001");
        assert_eq!(
            r.message(),
            "贷款申请失败: 请先完成以下认证: 身份信息认证、银行卡认证、完善个人信息、手机认证"
        );
        // Field formats come before the preconditions.
        let mut bad = application(&t);
        bad["purpose"] = json!("01");
        assert_eq!(
            s.call("/appCommonApi/loanProductApply", bad, Some(&fresh))
                .message(),
            "请求报文传输信息有误: purpose"
        );
        let mut bad = application(&t);
        bad["phonebookList"] = json!([{"contactName": "木木"}]);
        assert_eq!(
            s.call("/appCommonApi/loanProductApply", bad, Some(&fresh))
                .message(),
            "请求报文传输信息有误: phonebookList"
        );
        let mut missing = application(&t);
        missing.as_object_mut().unwrap().remove("phonebookList");
        assert_eq!(
            s.call("/appCommonApi/loanProductApply", missing, Some(&fresh))
                .message(),
            "请求报文传输信息有误: phonebookList"
        );

        let session = verified_borrower(s, "13709812612", 2);
        admin_ok(
            s,
            "POST",
            "/admin/users/13709812612/blacklist",
            Some(json!({"reason": "测试"})),
        );
        let status = s
            .call(
                "/appCommonApi/getAuthenticationStatus",
                json!({}),
                Some(&session),
            )
            .result();
        assert_eq!(status["isBlackList"], "1");
        let r = s.call(
            "/appCommonApi/loanProductApply",
            application(&t),
            Some(&session),
        );
        assert_eq!(r.message(), "贷款申请失败: 账户已被列入黑名单");
        admin_ok(s, "DELETE", "/admin/users/13709812612/blacklist", None);
        let id = apply(s, &session, &t);
        assert_eq!(id.len(), 36);
        let r = s.call(
            "/appCommonApi/loanProductApply",
            application(&t),
            Some(&session),
        );
        assert_eq!(r.message(), "贷款申请失败: 已有未完成的借款申请");
        // Loan-term codes come after the preconditions.
        let list = s.call(
            "/appCommonApi/getLoanApplyInfoList",
            json!({"pageNum": 1}),
            Some(&session),
        );
        assert_eq!(list.json()["total"], 1);
        let a = &list.result()[0];
        assert_eq!(
            (
                a["applyStatus"].as_str(),
                a["useType"].as_str(),
                a["otherChannels"].as_str()
            ),
            (Some("0"), Some("21"), Some("01"))
        );
        assert!(
            a["replyAmount"].is_null()
                && a["releaseDate"].is_null()
                && a["authTermCount"].is_null()
        );
        assert!(a["applyTime"].is_number());
        assert_eq!(a["code"], "PRODUCT20171025002");
        assert_eq!(a["contractInfoList"], json!([]));
        let msgs = messages(s, &session);
        assert_eq!(count_type(&msgs, "11"), 1, "message 11 on submit");
        // Someone else cannot see the application.
        let r = s.call(
            "/appCommonApi/getLoanApplyRepayList",
            json!({"pageNum": 1, "loanProductApplyId": id}),
            Some(&fresh),
        );
        assert_eq!(
            (r.code(), r.message()),
            ("9999".into(), "借款申请不存在".into())
        );
        // Rejected: closed; the user may apply again.
        admin_ok(s, "POST", &format!("/admin/applications/{id}/review"), None);
        let rejected = admin_ok(
            s,
            "POST",
            &format!("/admin/applications/{id}/reject"),
            Some(json!({"reason": "资料不全"})),
        );
        assert_eq!(rejected["applyStatus"], 3);
        let listed = admin_ok(s, "GET", "/admin/applications?status=3", None);
        let row = listed["items"]
            .as_array()
            .and_then(|rows| rows.iter().find(|r| r["id"] == id.as_str()))
            .cloned()
            .unwrap_or_else(|| panic!("{listed}"));
        assert!(row["mobile"].is_string(), "{row}");
        assert_eq!(
            rejected["mobile"], row["mobile"],
            "one application, one shape"
        );
        assert_eq!(
            s.admin_confirmed("POST", &format!("/admin/applications/{id}/disburse"), None)
                .status,
            409
        );
        assert_eq!(
            s.admin("POST", &format!("/admin/applications/{id}/approve"), None)
                .status,
            409
        );
        assert_eq!(count_type(&messages(s, &session), "13"), 1);
        apply(s, &session, &t);
    });
}

#[test]
fn a_fourteen_day_bullet_loan_from_application_to_settlement() {
    on_every_backend(&[], |s| {
        set_date(s, "2026-01-31");
        let session = verified_borrower(s, "13709812611", 1);
        let id = apply(
            s,
            &session,
            &terms(
                NEW_CASH_LOAN,
                "1000.00",
                ("14", "1"),
                ("14", "1"),
                "1",
                "0.36",
            ),
        );
        approve_and_disburse(s, &id);
        // 1000 × 0.36 × 14 / 360 = 14.00, due 2026-02-14.
        let p = plan(s, &session, &id);
        assert_eq!(p.len(), 1);
        assert_eq!(
            (
                p[0]["duePrincipal"].as_str(),
                p[0]["dueInterest"].as_str(),
                p[0]["dueAmount"].as_str()
            ),
            (Some("1000.00"), Some("14.00"), Some("1014.00"))
        );
        // 2026-02-14 23:59:59 +08:00.
        assert_eq!(p[0]["dueRepayDate"], 1_771_084_799_000i64);
        let centre = s
            .call("/appCommonApi/getUserCenterInfo", json!({}), Some(&session))
            .result();
        assert_eq!(
            (
                centre["availableCredit"].as_str(),
                centre["totalApplyAmount"].as_str(),
                centre["totalNeedPayAmount"].as_str()
            ),
            (Some("4000.00"), Some("1000.00"), Some("1014.00"))
        );
        assert_eq!(centre["realName"], "张某某");

        // Three days before: a reminder; on the due date: another; both once.
        set_date(s, "2026-02-11");
        assert_eq!(daily(s, "2026-02-11")["reminders"], 1);
        assert_eq!(daily(s, "2026-02-11")["reminders"], 0, "idempotent");
        assert_eq!(daily(s, "2026-02-14")["reminders"], 1);
        // Two days late: overdue; the penalty is on the overdue principal and interest (逾期本息):
        // 1014.00 × 0.36 / 360 = 1.014 → 1.01 a day.
        set_date(s, "2026-02-16");
        let r = daily(s, "2026-02-16");
        assert_eq!(
            (r["markedOverdue"].as_i64(), r["overdueMessages"].as_i64()),
            (Some(1), Some(1))
        );
        let again = daily(s, "2026-02-16");
        assert_eq!(
            (
                again["markedOverdue"].as_i64(),
                again["overdueMessages"].as_i64(),
                again["penaltiesAccrued"].as_i64()
            ),
            (Some(0), Some(0), Some(0))
        );
        let overdue = repay_rows(s, &session, "3");
        assert_eq!(overdue.len(), 1);
        assert_eq!(
            (
                overdue[0]["duePenalty"].as_str(),
                overdue[0]["dueTotalAmount"].as_str()
            ),
            (Some("2.02"), Some("1016.02"))
        );
        assert_eq!(overdue[0]["dueRepayDate"], "2026-02-14 23:59:59");
        assert!(overdue[0]["code"]
            .as_str()
            .unwrap()
            .starts_with("cash20260131"));
        assert!(repay_rows(s, &session, "2").is_empty());

        let inst = overdue[0]["id"].as_str().unwrap().to_owned();
        assert_eq!(pay(s, &session, &inst, "current"), "0000");
        assert_eq!(pay(s, &session, &inst, "current"), "20006001");
        assert_eq!(pay(s, &session, &inst, "all"), "20006001");
        assert_eq!(loan_status(s, &session, &id), "5");
        let paid = repay_rows(s, &session, "1");
        assert_eq!(
            (
                paid[0]["duePenalty"].as_str(),
                paid[0]["needPayTotalAmount"].as_str(),
                paid[0]["repayStatus"].as_str()
            ),
            (Some("2.02"), Some("0.00"), Some("1"))
        );
        let msgs = messages(s, &session);
        for (t, n) in [
            ("11", 1),
            ("12", 1),
            ("14", 1),
            ("15", 2),
            ("16", 1),
            ("17", 1),
        ] {
            assert_eq!(count_type(&msgs, t), n, "messages of type {t}");
        }
        assert!(msgs.iter().any(|m| m["messageType"] == "16"
            && m["messageContent"].as_str().unwrap().contains("1016.02")));
        let centre = s
            .call("/appCommonApi/getUserCenterInfo", json!({}), Some(&session))
            .result();
        assert_eq!(
            (
                centre["availableCredit"].as_str(),
                centre["totalNeedPayAmount"].as_str()
            ),
            (Some("5000.00"), Some("0.00"))
        );
    });
}

#[test]
fn a_twelve_month_annuity_paid_once_then_paid_off() {
    on_every_backend(&[], |s| {
        set_date(s, "2026-01-31");
        let session = verified_borrower(s, "13709812611", 1);
        admin_ok(
            s,
            "PUT",
            "/admin/users/13709812611/credit",
            Some(json!({"totalCredit": "50000"})),
        );
        let t = terms(INSTALMENT, "12000.00", ("12", "2"), ("1", "2"), "3", "0.18");
        let q = s
            .call(
                "/appCommonApi/getLoanApplyConfirmInfo",
                t.clone(),
                Some(&session),
            )
            .result();
        assert_eq!(
            q["apr"], "0.1800",
            "a no-fee annuity costs its nominal rate"
        );
        let id = apply(s, &session, &t);
        approve_and_disburse(s, &id);
        // A = 12000 × 0.015 × 1.015^12 / (1.015^12 − 1) = 1100.16; period 1: 180.00 + 920.16.
        let p = plan(s, &session, &id);
        assert_eq!(p.len(), 12);
        assert_eq!(
            (
                p[0]["dueInterest"].as_str(),
                p[0]["duePrincipal"].as_str(),
                p[0]["dueAmount"].as_str()
            ),
            (Some("180.00"), Some("920.16"), Some("1100.16"))
        );
        let principal: f64 = p
            .iter()
            .map(|i| i["duePrincipal"].as_str().unwrap().parse::<f64>().unwrap())
            .sum();
        assert!((principal - 12000.0).abs() < 1e-6);

        // 2026-03-05: period 1 (due 02-28) is 5 days late, penalised on its principal and
        // interest: 1100.16 × 0.18 / 360 = 0.55008 → 0.55 a day → 2.75.
        set_date(s, "2026-03-05");
        daily(s, "2026-03-05");
        let overdue = repay_rows(s, &session, "3");
        assert_eq!(overdue.len(), 1);
        assert_eq!(
            (
                overdue[0]["duePenalty"].as_str(),
                overdue[0]["dueTotalAmount"].as_str()
            ),
            (Some("2.75"), Some("1102.91"))
        );
        let second = p[1]["repayId"].as_str().unwrap();
        assert_eq!(
            pay(s, &session, second, "current"),
            "20006004",
            "the earliest unpaid first"
        );
        assert_eq!(
            pay(s, &session, overdue[0]["id"].as_str().unwrap(), "current"),
            "0000"
        );

        // Pay off the same day: period 2 (02-28 → 03-31, 31 days) is current, 5 days in.
        // Its interest: round(11079.84 × 0.015) = 166.20; pro rata 166.20 × 5 / 31 = 26.81.
        assert_eq!(pay(s, &session, second, "all"), "0000");
        assert_eq!(loan_status(s, &session, &id), "5");
        let rows = repay_rows(s, &session, "0");
        let period = |n: &str| rows.iter().find(|r| r["periodNum"] == n).unwrap().clone();
        assert_eq!(period("2")["dueInterest"], "26.81");
        assert_eq!(period("3")["dueInterest"], "0.00");
        assert_eq!(
            repay_rows(s, &session, "4").len(),
            11,
            "settled early by the payoff"
        );
        let msgs = messages(s, &session);
        assert!(
            msgs.iter().any(|m| m["messageType"] == "16"
                && m["messageContent"].as_str().unwrap().contains("11106.65")),
            "payoff = 11079.84 + 26.81"
        );
        assert_eq!(count_type(&msgs, "17"), 1);
        // The ledger adds up: out = the principal; in = 1102.91 (period 1 with its penalty)
        // + 11106.65 (the payoff), of which 12000.00 principal.
        let ledger = admin_ok(s, "GET", &format!("/admin/applications/{id}/ledger"), None);
        assert_eq!(
            (
                ledger["out"].as_str(),
                ledger["in"].as_str(),
                ledger["principalIn"].as_str()
            ),
            (Some("12000.00"), Some("12209.56"), Some("12000.00"))
        );
        assert_eq!(
            ledger["items"].as_array().unwrap().len(),
            1 + 1 + 11,
            "payout, one repayment, eleven payoff rows"
        );
    });
}

#[test]
fn flat_and_interest_only_loans_settle_too() {
    on_every_backend(&[], |s| {
        set_date(s, "2026-01-31");
        let session = verified_borrower(s, "13709812611", 1);
        admin_ok(
            s,
            "PUT",
            "/admin/users/13709812611/credit",
            Some(json!({"totalCredit": "50000"})),
        );
        // Flat: 1000.00 principal + 12000 × 0.015 = 180.00 interest every month.
        let flat = apply(
            s,
            &session,
            &terms(INSTALMENT, "12000", ("12", "2"), ("1", "2"), "4", "0.18"),
        );
        approve_and_disburse(s, &flat);
        let p = plan(s, &session, &flat);
        assert!(p.iter().all(|i| i["dueAmount"] == "1180.00"));
        // Paid off on the day it was paid out: principal only.
        assert_eq!(
            pay(s, &session, p[0]["repayId"].as_str().unwrap(), "all"),
            "0000"
        );
        assert_eq!(loan_status(s, &session, &flat), "5");
        assert!(messages(s, &session)
            .iter()
            .any(|m| m["messageContent"].as_str().unwrap().contains("12000.00元")));

        // Interest only: 6000 × 0.015 = 90.00 a month, the principal with the third.
        let io = apply(
            s,
            &session,
            &terms(INSTALMENT, "6000", ("3", "2"), ("1", "2"), "2", "0.18"),
        );
        approve_and_disburse(s, &io);
        let p = plan(s, &session, &io);
        let amounts: Vec<&str> = p.iter().map(|i| i["dueAmount"].as_str().unwrap()).collect();
        assert_eq!(amounts, ["90.00", "90.00", "6090.00"]);
        for (date, inst) in [
            ("2026-02-28", &p[0]),
            ("2026-03-31", &p[1]),
            ("2026-04-30", &p[2]),
        ] {
            set_date(s, date);
            assert_eq!(
                pay(s, &session, inst["repayId"].as_str().unwrap(), "current"),
                "0000",
                "{date}"
            );
        }
        assert_eq!(loan_status(s, &session, &io), "5");
        assert!(repay_rows(s, &session, "3").is_empty());
    });
}

#[test]
fn one_borrower_cannot_read_or_pay_anothers_loan() {
    on_every_backend(&[], |s| {
        set_date(s, "2026-01-31");
        let alice = verified_borrower(s, "13709812611", 1);
        let bob = verified_borrower(s, "13709812612", 2);
        let id = apply(
            s,
            &alice,
            &terms(NEW_CASH_LOAN, "1000", ("7", "1"), ("7", "1"), "1", "0.36"),
        );
        approve_and_disburse(s, &id);
        let inst = plan(s, &alice, &id)[0]["repayId"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(pay(s, &bob, &inst, "current"), "20006003");
        assert_eq!(pay(s, &bob, &inst, "all"), "20006003");
        assert_eq!(pay(s, &bob, "no-such-id", "current"), "20006003");
        let r = s.call(
            "/appCommonApi/getLoanApplyRepayList",
            json!({"pageNum": 1, "loanProductApplyId": id}),
            Some(&bob),
        );
        assert_eq!(r.message(), "借款申请不存在");
        assert!(repay_rows(s, &bob, "0").is_empty());
        assert_eq!(
            s.call(
                "/appCommonApi/getLoanApplyInfoList",
                json!({"pageNum": 1}),
                Some(&bob)
            )
            .json()["total"],
            0
        );
        assert_eq!(
            s.call(
                "/appCommonApi/gotoRepayment",
                json!({"id": inst, "repayType": "later"}),
                Some(&alice)
            )
            .message(),
            "请求报文传输信息有误: repayType"
        );
    });
}

#[test]
fn a_refusing_payment_channel_changes_nothing() {
    on_every_backend(&[("CASHLOAN_PAYMENT_CHANNEL", "refuse")], |s| {
        set_date(s, "2026-01-31");
        let session = verified_borrower(s, "13709812611", 1);
        let id = apply(
            s,
            &session,
            &terms(NEW_CASH_LOAN, "1000", ("7", "1"), ("7", "1"), "1", "0.36"),
        );
        admin_ok(s, "POST", &format!("/admin/applications/{id}/review"), None);
        admin_ok(
            s,
            "POST",
            &format!("/admin/applications/{id}/approve"),
            None,
        );
        let r = s.admin_confirmed("POST", &format!("/admin/applications/{id}/disburse"), None);
        assert_eq!(r.status, 502, "{}", r.text());
        assert_eq!(
            loan_status(s, &session, &id),
            "2",
            "still approved, nothing paid out"
        );
    });
}

#[test]
fn the_admin_api_needs_its_token_and_is_off_without_one() {
    on_every_backend(&[], |s| {
        let r = s.raw("GET", "/admin/applications", b"", &[]);
        assert_eq!(r.status, 401);
        let r = s.raw(
            "GET",
            "/admin/applications",
            b"",
            &[("Authorization", "Bearer wrong")],
        );
        assert_eq!(r.status, 401);
        let list = admin_ok(s, "GET", "/admin/applications?status=0", None);
        assert_eq!(list["total"], 0);
        assert_eq!(
            s.admin("GET", "/admin/applications?status=9", None).status,
            400
        );
        assert_eq!(
            s.admin("POST", "/admin/applications/nope/review", None)
                .status,
            404
        );
        assert_eq!(
            s.admin(
                "POST",
                "/admin/business-date",
                Some(json!({"date": "2026-02-30"}))
            )
            .status,
            422
        );
        let products = admin_ok(s, "GET", "/admin/products", None);
        assert_eq!(products["items"].as_array().unwrap().len(), 4);
        let sys = admin_ok(
            s,
            "POST",
            "/admin/system-messages",
            Some(
                json!({"messageType": "0", "title": "活动", "content": "新活动", "eventUrl": "https://example.com"}),
            ),
        );
        assert!(sys["id"].is_string());
        let page = s.call(
            "/openCommonApi/getSystemMessage",
            json!({"pageNum": 1, "pageSize": 1}),
            None,
        );
        assert_eq!(
            (
                page.json()["total"].as_i64(),
                page.json()["pages"].as_i64(),
                page.json()["isLastPage"].as_bool()
            ),
            (Some(2), Some(2), Some(false))
        );
        admin_ok(
            s,
            "POST",
            "/admin/app-versions",
            Some(
                json!({"appType": "1", "versionCode": "23", "versionName": "1.0.23", "downloadUrl": "https://example.com/a.apk", "forceUpdate": "1"}),
            ),
        );
        let v = s
            .call("/appApi/appVersionDetection", json!({"appType": "1"}), None)
            .result();
        assert_eq!(
            (v["versionCode"].as_str(), v["forceUpdate"].as_str()),
            (Some("23"), Some("1"))
        );
    });
    // Without a token, only operators' sessions open it.
    on_every_backend(&[("CASHLOAN_ADMIN_TOKEN", "")], |s| {
        let r = s.admin("GET", "/admin/applications", None);
        assert_eq!(r.status, 401);
    });
    on_every_backend(&[("CASHLOAN_ALLOW_BUSINESS_DATE_OVERRIDE", "false")], |s| {
        assert_eq!(
            s.admin(
                "POST",
                "/admin/business-date",
                Some(json!({"date": "2026-01-01"}))
            )
            .status,
            403
        );
    });
}

/// A provider on loopback speaking the documented HTTP contract: accepts every call except
/// those whose body contains `refused`. Answers `connections` requests, then stops.
fn picky_provider(refused: &'static str, connections: usize) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/pay", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(connections) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).ok();
            let answer = if String::from_utf8_lossy(&body).contains(refused) {
                r#"{"ok":false,"message":"余额不足"}"#
            } else {
                r#"{"ok":true,"ref":"p-1"}"#
            };
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    url
}

#[test]
fn a_refused_charge_answers_20006002_and_changes_nothing() {
    for db in cashloan_test_support::fresh_databases() {
        let channel = format!("http:{}", picky_provider(r#""op":"charge""#, 3));
        let s = TestServer::start(
            env!("CARGO_BIN_EXE_cashloan"),
            db,
            &[("CASHLOAN_PAYMENT_CHANNEL", &channel)],
        );
        set_date(&s, "2026-01-31");
        let session = verified_borrower(&s, "13709812611", 1);
        let id = apply(
            &s,
            &session,
            &terms(NEW_CASH_LOAN, "1000", ("7", "1"), ("7", "1"), "1", "0.36"),
        );
        approve_and_disburse(&s, &id);
        let inst = plan(&s, &session, &id)[0]["repayId"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            pay(&s, &session, &inst, "current"),
            "20006002",
            "{}",
            s.backend
        );
        assert_eq!(pay(&s, &session, &inst, "all"), "20006002");
        assert_eq!(loan_status(&s, &session, &id), "4");
        assert_eq!(repay_rows(&s, &session, "2").len(), 1, "still unpaid");
        assert_eq!(count_type(&messages(&s, &session), "16"), 0);
    }
}

#[test]
fn an_application_needs_a_valid_carrier_authorisation_order() {
    for db in cashloan_test_support::fresh_databases() {
        // The carrier check of §31 passes; the order check of §23 is refused.
        let carrier = format!("http:{}", picky_provider(r#""check":"carrierOrder""#, 2));
        let s = TestServer::start(
            env!("CARGO_BIN_EXE_cashloan"),
            db,
            &[("CASHLOAN_CARRIER_VERIFIER", &carrier)],
        );
        let session = verified_borrower(&s, "13709812611", 1);
        let t = terms(NEW_CASH_LOAN, "1000", ("7", "1"), ("7", "1"), "1", "0.36");
        let r = s.call(
            "/appCommonApi/loanProductApply",
            application(&t),
            Some(&session),
        );
        assert_eq!(
            (r.code(), r.message()),
            (
                "20005001".into(),
                "贷款申请失败: 运营商授权验证订单无效".into()
            ),
            "{}",
            s.backend
        );
    }
}

#[test]
fn operators_disable_accounts_and_flag_risk() {
    on_every_backend(&[], |s| {
        let session = verified_borrower(s, "13709812611", 1);
        let st = admin_ok(
            s,
            "PUT",
            "/admin/users/13709812611/status",
            Some(json!({"risk": true})),
        );
        assert_eq!(
            (st["risk"].as_bool(), st["disabled"].as_bool()),
            (Some(true), Some(false))
        );
        let status = s
            .call(
                "/appCommonApi/getAuthenticationStatus",
                json!({}),
                Some(&session),
            )
            .result();
        assert_eq!(status["isRisk"], "1");
        admin_ok(
            s,
            "PUT",
            "/admin/users/13709812611/status",
            Some(json!({"disabled": true})),
        );
        let login = |pw: &str| {
            s.call("/security/login", json!({"username": "13709812611", "password": des(pw), "appType": "1", "token": ""}), None)
        };
        assert_eq!(
            login("secret123").code(),
            "90009000",
            "disabled: refused after the password"
        );
        assert_eq!(
            login("wrong-one").code(),
            "90002000",
            "a wrong password reveals nothing more"
        );
        admin_ok(
            s,
            "PUT",
            "/admin/users/13709812611/status",
            Some(json!({"disabled": false})),
        );
        assert_eq!(login("secret123").code(), "90000000");
        assert_eq!(
            s.admin(
                "PUT",
                "/admin/users/13709812699/status",
                Some(json!({"risk": true}))
            )
            .status,
            404
        );
        assert_eq!(
            s.admin(
                "PUT",
                "/admin/users/13709812611/status",
                Some(json!({"risk": "yes"}))
            )
            .status,
            400
        );
    });
}
