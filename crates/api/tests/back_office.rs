//! The back office over HTTP, on every backend: operators and their roles, sign-in lockout and
//! idle sessions, maker-checker, the audit trail, and masked personal data.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use cashloan_test_support::server::{try_execute_sql, OPERATOR_PASSWORD_SUFFIX};
use common::*;
use serde_json::{json, Value};

/// `GET` as the operator holding `token`: the status.
fn status_as(s: &TestServer, token: &str, method: &str, path: &str, body: Option<Value>) -> u16 {
    s.admin_as(token, method, path, body).status
}

/// The audit rows matching `query` (as `system`).
fn audit(s: &TestServer, query: &str) -> Vec<Value> {
    let r = s.admin("GET", &format!("/admin/audit?{query}"), None);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["items"].as_array().unwrap().clone()
}

fn sign_in(s: &TestServer, name: &str, password: &str) -> Answer {
    s.raw(
        "POST",
        "/admin/login",
        json!({"username": name, "password": password})
            .to_string()
            .as_bytes(),
        &[("Content-Type", "application/json")],
    )
}

#[test]
fn each_role_does_its_own_work_and_is_refused_the_rest() {
    on_every_backend(&[], |s| {
        let reviewer = s.operator("rita", "reviewer");
        let finance = s.operator("fang", "finance");
        let collector = s.operator("cui", "collector");
        let viewer = s.operator("wei", "viewer");
        let (_, id) = submitted_loan_of(s, "13709812611", 1, "1000.00", "14");
        let app = |step: &str| format!("/admin/applications/{id}/{step}");

        // Reading the book: every role but the collector.
        for token in [&reviewer, &finance, &viewer] {
            assert_eq!(status_as(s, token, "GET", "/admin/applications", None), 200);
        }
        assert_eq!(
            status_as(s, &collector, "GET", "/admin/applications", None),
            403
        );
        // Review: the reviewer only (admin aside).
        for token in [&finance, &collector, &viewer] {
            assert_eq!(status_as(s, token, "POST", &app("review"), None), 403);
        }
        assert_eq!(status_as(s, &reviewer, "POST", &app("review"), None), 200);
        assert_eq!(status_as(s, &viewer, "POST", &app("approve"), None), 403);
        assert_eq!(status_as(s, &reviewer, "POST", &app("approve"), None), 200);
        // The payout: finance only.
        for token in [&reviewer, &collector, &viewer] {
            assert_eq!(status_as(s, token, "POST", &app("disburse"), None), 403);
        }
        assert_eq!(status_as(s, &finance, "POST", &app("disburse"), None), 202);
        // Admin's work: nobody else.
        for token in [&reviewer, &finance, &collector, &viewer] {
            assert_eq!(status_as(s, token, "GET", "/admin/audit", None), 403);
            assert_eq!(status_as(s, token, "GET", "/admin/operators", None), 403);
            let body = json!({"title": "t", "content": "c"});
            assert_eq!(
                status_as(s, token, "POST", "/admin/system-messages", Some(body)),
                403
            );
            let credit = json!({"totalCredit": "9000.00"});
            let path = "/admin/users/13709812611/credit";
            assert_eq!(status_as(s, token, "PUT", path, Some(credit)), 403);
        }
        // Anyone signed in can ask who they are; nobody else can.
        let me = s.admin_as(&collector, "GET", "/admin/me", None);
        assert_eq!(me.json()["role"], "collector", "{}", me.text());
        assert_eq!(me.json()["roleLabel"], "催收员");
        assert_eq!(
            status_as(s, "op_not-a-session", "GET", "/admin/me", None),
            401
        );
        // Refusals are in the trail, with who was refused.
        let refused = audit(s, "operator=wei&entity=application");
        assert!(
            refused
                .iter()
                .any(|e| e["action"] == "application.approve" && e["outcome"] == 403),
            "{refused:?}"
        );
    });
}

#[test]
fn a_payout_takes_two_operators_and_concurrent_confirmations_pay_it_once() {
    on_every_backend(&[], |s| {
        let maker = s.operator("fang", "finance");
        let checkers = [s.operator("fei", "finance"), s.operator("fu", "finance")];
        let reviewer = s.operator("rita", "reviewer");
        let (session, id) = approved_loan(s, "13709812611", 1);
        let proposed = s.admin_as(
            &maker,
            "POST",
            &format!("/admin/applications/{id}/disburse"),
            None,
        );
        assert_eq!(proposed.status, 202, "{}", proposed.text());
        let proposal = proposed.json()["proposal"].clone();
        assert_eq!(proposal["status"], "pending");
        assert_eq!(proposal["proposedBy"], "fang");
        assert_eq!(proposal["payload"]["amount"], "1000.00");
        let pid = proposal["id"].as_str().unwrap().to_owned();
        let confirm = format!("/admin/proposals/{pid}/confirm");
        // Nothing moved yet, and a second proposal of the same payout is refused.
        assert!(ledger(s, &id)["items"].as_array().unwrap().is_empty());
        let again = s.admin_as(
            &checkers[0],
            "POST",
            &format!("/admin/applications/{id}/disburse"),
            None,
        );
        assert_eq!(again.status, 409, "{}", again.text());
        // The proposer can never confirm; a reviewer's role may not.
        let own = s.admin_as(&maker, "POST", &confirm, None);
        assert_eq!(own.status, 403, "{}", own.text());
        assert!(own.text().contains("proposer"), "{}", own.text());
        assert_eq!(status_as(s, &reviewer, "POST", &confirm, None), 403);
        // Two finance operators confirm at once: one carries it out, the other is told.
        let answers: Vec<Answer> = std::thread::scope(|scope| {
            let handles: Vec<_> = checkers
                .iter()
                .map(|t| scope.spawn(|| s.admin_as(t, "POST", &confirm, None)))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409], "{answers:?}");
        let done = answers.iter().find(|a| a.status == 200).unwrap().json();
        assert_eq!(done["applyStatus"], 4, "{done}");
        assert_eq!(done["proposal"]["status"], "confirmed");
        assert_ne!(done["proposal"]["decidedBy"], "fang");
        assert_eq!(done["proposal"]["result"]["status"], 200);
        // Paid out once: one disbursement in the ledger, and a plan for the borrower.
        let l = ledger(s, &id);
        let payouts: Vec<_> = l["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["kind"] == "disbursement")
            .collect();
        assert_eq!(payouts.len(), 1, "{l}");
        assert_eq!(l["out"], "1000.00");
        let plan = s.call(
            "/appCommonApi/getLoanApplyRepayList",
            json!({"pageNum": 1, "loanProductApplyId": id}),
            Some(&session),
        );
        assert_eq!(plan.result().as_array().map(Vec::len), Some(1));
        // Decided is decided: neither a cancel nor another confirm changes it.
        assert_eq!(
            status_as(
                s,
                &maker,
                "POST",
                &format!("/admin/proposals/{pid}/cancel"),
                None
            ),
            409
        );
        let listed = s.admin_as(&maker, "GET", "/admin/proposals?status=confirmed", None);
        assert_eq!(listed.json()["items"][0]["id"], pid.as_str());
        // The trail names the maker and the checker.
        let trail = audit(s, &format!("entityId={id}"));
        let proposed_by: Vec<_> = trail
            .iter()
            .filter(|e| e["action"] == "disbursement.propose" && e["outcome"] == 202)
            .map(|e| e["operator"].clone())
            .collect();
        assert_eq!(proposed_by, [json!("fang")], "{trail:?}");
        let confirmed = audit(s, &format!("entity=proposal&entityId={pid}"));
        let ok: Vec<_> = confirmed.iter().filter(|e| e["outcome"] == 200).collect();
        assert_eq!(ok.len(), 1, "{confirmed:?}");
        assert_eq!(ok[0]["before"]["status"], "pending");
        assert_eq!(ok[0]["after"]["status"], "confirmed");
    });
}

#[test]
fn a_proposal_can_be_withdrawn_by_its_proposer_and_a_product_change_needs_a_second_admin() {
    on_every_backend(&[], |s| {
        let maker = s.operator("fang", "finance");
        let other = s.operator("fei", "finance");
        let (_, id) = approved_loan(s, "13709812611", 1);
        let path = format!("/admin/applications/{id}/disburse");
        let pid = s.admin_as(&maker, "POST", &path, None).json()["proposal"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let cancel = format!("/admin/proposals/{pid}/cancel");
        assert_eq!(status_as(s, &other, "POST", &cancel, None), 403);
        let cancelled = s.admin_as(&maker, "POST", &cancel, None);
        assert_eq!(
            cancelled.json()["status"],
            "cancelled",
            "{}",
            cancelled.text()
        );
        let confirm = format!("/admin/proposals/{pid}/confirm");
        assert_eq!(status_as(s, &other, "POST", &confirm, None), 409);
        // Withdrawn, it can be proposed again.
        assert_eq!(status_as(s, &maker, "POST", &path, None), 202);

        // A product: proposed by one admin (system), made when another admin confirms.
        let product = json!({
            "name": "周转贷", "amountLimitType": "0", "singleMinAmount": "500", "singleMaxAmount": "3000",
            "interestRateLimitType": "1", "interestRates": "0.18", "termUnit": "1",
            "daysLimitType": "0", "singleMinDays": "7", "singleMaxDays": "30",
            "repayType": "1", "repayTermUnit": "1", "penaltyRate": "0.18",
        });
        let proposed = s.admin("POST", "/admin/products", Some(product));
        assert_eq!(proposed.status, 202, "{}", proposed.text());
        let product_id = proposed.json()["proposal"]["entityId"]
            .as_str()
            .unwrap()
            .to_owned();
        let listed = s.admin("GET", "/admin/products", None).json();
        assert!(!listed.to_string().contains(&product_id), "not made yet");
        let pid = proposed.json()["proposal"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let confirm = format!("/admin/proposals/{pid}/confirm");
        assert_eq!(
            s.admin("POST", &confirm, None).status,
            403,
            "system proposed it"
        );
        assert_eq!(status_as(s, &other, "POST", &confirm, None), 403, "finance");
        let admin = s.operator("ada", "admin");
        let made = s.admin_as(&admin, "POST", &confirm, None);
        assert_eq!(made.status, 201, "{}", made.text());
        assert_eq!(made.json()["id"], product_id.as_str());
        let listed = s.admin("GET", "/admin/products", None).json();
        assert!(listed.to_string().contains(&product_id));
    });
}

#[test]
fn the_audit_trail_records_each_action_and_the_database_refuses_to_change_it() {
    on_every_backend(&[], |s| {
        let reviewer = s.operator("rita", "reviewer");
        let (_, id) = submitted_loan_of(s, "13709812611", 1, "1000.00", "14");
        for step in ["review", "approve"] {
            let path = format!("/admin/applications/{id}/{step}");
            assert_eq!(status_as(s, &reviewer, "POST", &path, None), 200);
        }
        let trail = audit(s, "operator=rita&entity=application");
        assert_eq!(trail.len(), 2, "{trail:?}");
        // Newest first: the approval, 1 → 2, then the review, 0 → 1.
        assert_eq!(trail[0]["action"], "application.approve");
        assert_eq!(trail[0]["before"]["applyStatus"], 1);
        assert_eq!(trail[0]["after"]["applyStatus"], 2);
        assert_eq!(trail[1]["action"], "application.review");
        assert_eq!(trail[1]["before"]["applyStatus"], 0);
        assert_eq!(trail[1]["after"]["applyStatus"], 1);
        for e in &trail {
            assert_eq!(e["role"], "reviewer");
            assert_eq!(e["address"], "127.0.0.1");
            assert_eq!(e["entityId"], id.as_str());
            assert!(!e.to_string().contains("13709812611"), "masked: {e}");
        }
        assert!(trail[0]["seq"].as_i64() > trail[1]["seq"].as_i64());
        // Sign-ins are there too (the failed ones with the name they were tried under).
        assert_eq!(sign_in(s, "rita", "wrong-password!").status, 401);
        let logins = audit(s, "operator=rita&entity=operator");
        assert_eq!(logins[0]["outcome"], 401, "{logins:?}");
        assert!(logins.iter().any(|e| e["outcome"] == 200));
        // Time filters: everything is from today, nothing from tomorrow on.
        let now = now_ms();
        assert!(audit(s, &format!("operator=rita&from={}", now + 60_000)).is_empty());
        assert_eq!(
            audit(
                s,
                &format!("operator=rita&entity=application&to={}", now + 1)
            )
            .len(),
            2
        );
        // No way to edit or delete a row, not even with the database's own hands.
        for sql in [
            "UPDATE audit_events SET operator = 'someone else'",
            "DELETE FROM audit_events",
        ] {
            let refused = try_execute_sql(&s.db_url, sql);
            assert!(refused.is_err(), "{}: {sql} went through", s.backend);
        }
        assert_eq!(audit(s, "operator=rita&entity=application").len(), 2);
        // The API has no route that changes it.
        for method in ["PUT", "DELETE", "POST"] {
            assert_eq!(
                s.admin(method, "/admin/audit", None).status,
                405,
                "{method}"
            );
        }
    });
}

#[test]
fn personal_data_is_masked_and_showing_it_in_full_is_on_record() {
    on_every_backend(&[], |s| {
        let viewer = s.operator("wei", "viewer");
        let (_, id) = approved_loan(s, "13709812611", 1);
        let listed = s.admin_as(
            &viewer,
            "GET",
            "/admin/applications?mobile=13709812611",
            None,
        );
        assert_eq!(listed.status, 200, "{}", listed.text());
        let row = &listed.json()["items"][0];
        assert_eq!(row["mobile"], "137****2611", "{row}");
        assert!(row["userId"].is_string());
        let none = s.admin_as(
            &viewer,
            "GET",
            "/admin/applications?mobile=13709812612",
            None,
        );
        assert_eq!(none.json()["total"], 0);
        let code = row["loanCode"].as_str().unwrap();
        let by_code = s.admin_as(
            &viewer,
            "GET",
            &format!("/admin/applications?loanCode={code}"),
            None,
        );
        assert_eq!(by_code.json()["items"][0]["id"], id.as_str());

        let masked = s.admin_as(
            &viewer,
            "GET",
            &format!("/admin/applications/{id}/borrower"),
            None,
        );
        let m = masked.json();
        assert_eq!(m["mobile"], "137****2611", "{m}");
        assert_eq!(m["masked"], true);
        let card = id_card(&birth_of(1), 1);
        assert_eq!(
            m["idCardNo"].as_str().unwrap(),
            format!("{}********{}", &card[..6], &card[14..])
        );
        assert!(!masked.text().contains(&card));
        assert!(m["bankCardNo"].as_str().unwrap().contains(" **** "), "{m}");
        let nothing_yet = audit(s, "operator=wei&entity=application");
        assert!(
            nothing_yet.is_empty(),
            "reading masked data is not an action"
        );

        let full = s.admin_as(
            &viewer,
            "POST",
            &format!("/admin/applications/{id}/borrower/reveal"),
            None,
        );
        assert_eq!(full.status, 200, "{}", full.text());
        assert_eq!(full.json()["mobile"], "13709812611");
        assert_eq!(full.json()["idCardNo"], card.as_str());
        let seen = audit(s, "operator=wei&entity=application");
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(seen[0]["action"], "borrower.reveal");
        assert_eq!(seen[0]["entityId"], id.as_str());
        assert!(
            !seen[0].to_string().contains(&card),
            "the trail keeps no data"
        );
    });
}

#[test]
fn five_wrong_passwords_lock_an_operator_out_and_sessions_end_idle_or_disabled() {
    on_every_backend(&[], |s| {
        let token = s.operator("rita", "reviewer");
        let password = format!("rita{OPERATOR_PASSWORD_SUFFIX}");
        for _ in 0..5 {
            assert_eq!(sign_in(s, "rita", "not her password").status, 401);
        }
        // Locked: the right password is refused too, with the same answer.
        let locked = sign_in(s, "rita", &password);
        assert_eq!(locked.status, 401);
        assert_eq!(
            locked.json(),
            sign_in(s, "nobody", "whatever").json(),
            "a locked account and an unknown name read alike"
        );
        // An admin sets a new password: the lockout lifts, her old session ends.
        let reset = s.admin(
            "PUT",
            "/admin/operators/rita/password",
            Some(json!({"password": "a-new-password-42"})),
        );
        assert_eq!(reset.status, 200, "{}", reset.text());
        assert_eq!(status_as(s, &token, "GET", "/admin/me", None), 401);
        let again = sign_in(s, "rita", "a-new-password-42");
        assert_eq!(again.status, 200, "{}", again.text());
        assert_eq!(again.json()["idleMinutes"], 30);
        let token = again.json()["token"].as_str().unwrap().to_owned();
        assert_eq!(status_as(s, &token, "GET", "/admin/me", None), 200);

        // Thirty idle minutes end a session (its last use moved back 31 minutes).
        let stale = now_ms() - 31 * 60 * 1000;
        try_execute_sql(
            &s.db_url,
            &format!("UPDATE operator_sessions SET last_seen_at = {stale}"),
        )
        .unwrap();
        assert_eq!(status_as(s, &token, "GET", "/admin/me", None), 401);

        // Disabled: sessions end at once, and signing in is refused.
        let token = sign_in(s, "rita", "a-new-password-42").json()["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let off = s.admin(
            "PUT",
            "/admin/operators/rita/status",
            Some(json!({"disabled": true})),
        );
        assert_eq!(off.json()["disabled"], true, "{}", off.text());
        assert_eq!(status_as(s, &token, "GET", "/admin/me", None), 401);
        assert_eq!(sign_in(s, "rita", "a-new-password-42").status, 401);
        // Logging out ends a session too.
        let fang = s.operator("fang", "finance");
        assert_eq!(status_as(s, &fang, "POST", "/admin/logout", None), 200);
        assert_eq!(status_as(s, &fang, "GET", "/admin/me", None), 401);
        // Operators never see a password hash.
        let listed = s.admin("GET", "/admin/operators", None);
        assert!(!listed.text().contains("argon2"), "{}", listed.text());
        assert_eq!(
            s.admin(
                "POST",
                "/admin/operators",
                Some(json!({"name": "system", "role": "admin", "password": "0123456789ab"}))
            )
            .status,
            422
        );
    });
}

#[test]
fn the_operator_command_adds_lists_disables_and_sets_passwords() {
    for db in cashloan_test_support::fresh_databases() {
        let url = db.url.clone();
        let cli = |args: &[&str], password: Option<&str>, stdin: Option<&str>| {
            use std::io::Write;
            let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cashloan"));
            cmd.args(args)
                .env_clear()
                .env("CASHLOAN_DATABASE_URL", &url)
                .env("CASHLOAN_LOG", "error")
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            if url.starts_with("postgres") {
                cmd.env(
                    "CASHLOAN_DATA_KEY",
                    cashloan_test_support::server::TEST_DATA_KEY,
                );
            }
            if let Some(p) = password {
                cmd.env("CASHLOAN_OPERATOR_PASSWORD", p);
            }
            let mut child = cmd.spawn().unwrap();
            if let Some(text) = stdin {
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(text.as_bytes())
                    .unwrap();
            }
            drop(child.stdin.take());
            child.wait_with_output().unwrap()
        };
        let migrated = cli(&["migrate"], None, None);
        assert!(migrated.status.success(), "{migrated:?}");
        let added = cli(
            &["operator", "add", "li.na", "--role", "reviewer"],
            Some("from-the-environment"),
            None,
        );
        assert!(added.status.success(), "{added:?}");
        let added = cli(
            &["operator", "add", "fang", "--role", "finance"],
            None,
            Some("from-standard-input\n"),
        );
        assert!(added.status.success(), "{added:?}");
        let taken = cli(
            &["operator", "add", "fang", "--role", "admin"],
            Some("0123456789ab"),
            None,
        );
        assert!(!taken.status.success());
        let short = cli(
            &["operator", "add", "mo", "--role", "admin"],
            Some("short"),
            None,
        );
        assert!(!short.status.success());
        let listed = cli(&["operator", "list"], None, None);
        let text = String::from_utf8_lossy(&listed.stdout).into_owned();
        assert!(
            text.contains("li.na") && text.contains("reviewer") && text.contains("fang"),
            "{text}"
        );
        assert!(!text.contains("argon2"), "{text}");

        // The accounts work on a server over the same database.
        let s = TestServer::start(env!("CARGO_BIN_EXE_cashloan"), db, &[]);
        assert_eq!(sign_in(&s, "li.na", "from-the-environment").status, 200);
        assert_eq!(sign_in(&s, "fang", "from-standard-input").status, 200);
        let token = sign_in(&s, "fang", "from-standard-input").json()["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let off = cli(&["operator", "disable", "fang"], None, None);
        assert!(off.status.success(), "{off:?}");
        assert_eq!(status_as(&s, &token, "GET", "/admin/me", None), 401);
        assert_eq!(sign_in(&s, "fang", "from-standard-input").status, 401);
        let on = cli(&["operator", "enable", "fang"], None, None);
        assert!(on.status.success(), "{on:?}");
        let passwd = cli(
            &["operator", "passwd", "li.na"],
            Some("another-password"),
            None,
        );
        assert!(passwd.status.success(), "{passwd:?}");
        assert_eq!(sign_in(&s, "li.na", "from-the-environment").status, 401);
        assert_eq!(sign_in(&s, "li.na", "another-password").status, 200);
        // Each of these is on record as the operator system.
        let trail = audit(&s, "operator=system&entity=operator");
        let actions: Vec<_> = trail
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        for a in ["operator.add", "operator.status", "operator.password"] {
            assert!(actions.contains(&a), "{actions:?}");
        }
        assert_eq!(trail[0]["address"], "command line");
    }
}

fn set_date(s: &TestServer, date: &str) {
    let r = s.admin("POST", "/admin/business-date", Some(json!({"date": date})));
    assert_eq!(r.status, 200, "{}", r.text());
}

fn daily(s: &TestServer, date: &str) {
    let r = s.admin("POST", "/admin/batch/daily", Some(json!({"date": date})));
    assert_eq!(r.status, 200, "{}", r.text());
}

/// A loan of 1000.00 for 14 days at 36 % paid out on 2026-01-31 (due 2026-02-14, 1014.00), two
/// days late on 2026-02-16: 1.01 of penalty a day, 1016.02 owed. (session, application id)
fn two_days_late(s: &TestServer, mobile: &str, seq: u32) -> (String, String) {
    set_date(s, "2026-01-31");
    let (session, id, _) = paid_out_loan(s, mobile, seq);
    set_date(s, "2026-02-16");
    daily(s, "2026-02-16");
    (session, id)
}

#[test]
fn overdue_loans_are_bucketed_assigned_and_a_collector_sees_only_their_own() {
    on_every_backend(&[], |s| {
        let (_, late) = two_days_late(s, "13709812611", 1);
        let (_, other) = {
            // A second loan, paid out the same day, as late.
            set_date(s, "2026-01-31");
            let (sess, id, _) = paid_out_loan(s, "13709812612", 2);
            set_date(s, "2026-02-16");
            daily(s, "2026-02-16");
            (sess, id)
        };
        let cui = s.operator("cui", "collector");
        let chen = s.operator("chen", "collector");
        let queue = s.admin("GET", "/admin/collection?bucket=M1", None).json();
        assert_eq!(queue["total"], 2, "{queue}");
        let row = &queue["items"][0];
        assert_eq!(row["bucket"], "M1");
        assert_eq!(row["daysOverdue"], 2);
        assert_eq!(row["overdueAmount"], "1016.02");
        assert_eq!(row["firstDue"], "2026-02-14");
        assert!(row["mobile"].as_str().unwrap().contains("****"), "{row}");
        assert_eq!(queue["buckets"][0]["loans"], 2);
        assert_eq!(queue["buckets"][0]["amount"], "2032.04");
        assert_eq!(queue["buckets"][1]["loans"], 0);
        assert_eq!(
            s.admin("GET", "/admin/collection?bucket=M2", None).json()["total"],
            0
        );
        // Unassigned, a collector sees nothing; nor can they assign.
        let mine = s.admin_as(&cui, "GET", "/admin/collection", None).json();
        assert_eq!(mine["total"], 0, "{mine}");
        let assign = json!({"applicationId": late, "collector": "cui"});
        assert_eq!(
            status_as(
                s,
                &cui,
                "POST",
                "/admin/collection/assign",
                Some(assign.clone())
            ),
            403
        );
        // One by one: the late loan to cui.
        let r = s.admin("POST", "/admin/collection/assign", Some(assign));
        assert_eq!(r.status, 200, "{}", r.text());
        // Evenly: what is left of M1 goes to cui and chen in turn (one loan: chen is first).
        let even = s.admin(
            "POST",
            "/admin/collection/assign",
            Some(json!({"bucket": "M1", "collectors": ["chen", "cui"]})),
        );
        assert_eq!(
            even.json()["assigned"].as_array().unwrap().len(),
            1,
            "{}",
            even.text()
        );
        assert_eq!(even.json()["assigned"][0]["applicationId"], other.as_str());
        assert_eq!(even.json()["assigned"][0]["collector"], "chen");
        // Only collectors are assigned.
        s.operator("rita", "reviewer");
        let wrong = json!({"applicationId": late, "collector": "rita"});
        assert_eq!(
            s.admin("POST", "/admin/collection/assign", Some(wrong))
                .status,
            422
        );
        // Each collector sees their own loan, and only that.
        let mine = s.admin_as(&cui, "GET", "/admin/collection", None).json();
        assert_eq!(mine["total"], 1, "{mine}");
        assert_eq!(mine["items"][0]["applicationId"], late.as_str());
        assert_eq!(mine["items"][0]["collector"], "cui");
        let theirs = s.admin_as(&chen, "GET", "/admin/collection", None).json();
        assert_eq!(theirs["total"], 1, "{theirs}");
        assert_eq!(theirs["items"][0]["applicationId"], other.as_str());
        let notes_of = |id: &str| format!("/admin/applications/{id}/notes");
        assert_eq!(status_as(s, &cui, "GET", &notes_of(&other), None), 404);
        let note = json!({"method": "phone", "result": "借款人承诺周五还款", "promiseDate": "2026-02-20", "promiseAmount": "1016.02"});
        assert_eq!(
            status_as(s, &cui, "POST", &notes_of(&other), Some(note.clone())),
            404
        );
        // A note with a promise: the loan leaves the queue until the day has passed.
        let written = s.admin_as(&cui, "POST", &notes_of(&late), Some(note));
        assert_eq!(written.status, 201, "{}", written.text());
        let notes = s.admin_as(&cui, "GET", &notes_of(&late), None).json();
        assert_eq!(notes["items"][0]["operator"], "cui");
        assert_eq!(notes["items"][0]["promiseDate"], "2026-02-20");
        assert_eq!(notes["items"][0]["promiseAmount"], "1016.02");
        assert_eq!(
            s.admin_as(&cui, "GET", "/admin/collection", None).json()["total"],
            0
        );
        let all = s
            .admin_as(&cui, "GET", "/admin/collection?promised=all", None)
            .json();
        assert_eq!(all["items"][0]["promiseBroken"], false, "{all}");
        // Bad notes are refused: a method nobody knows, a promise in the past.
        for bad in [
            json!({"method": "pigeon", "result": "x"}),
            json!({"method": "sms", "result": ""}),
            json!({"method": "sms", "result": "x", "promiseDate": "2026-02-01"}),
        ] {
            assert_eq!(status_as(s, &cui, "POST", &notes_of(&late), Some(bad)), 422);
        }
        // Reviewers and viewers do not write notes.
        let wei = s.operator("wei", "viewer");
        let note = json!({"method": "sms", "result": "x"});
        assert_eq!(
            status_as(s, &wei, "POST", &notes_of(&late), Some(note)),
            403
        );
        // The promised day passes unpaid: the loan shows again, as a broken promise.
        set_date(s, "2026-02-21");
        daily(s, "2026-02-21");
        let back = s.admin_as(&cui, "GET", "/admin/collection", None).json();
        assert_eq!(back["total"], 1, "{back}");
        assert_eq!(back["items"][0]["promiseBroken"], true);
        assert_eq!(back["items"][0]["daysOverdue"], 7);
        // Notes and assignments are in the trail.
        let trail = audit(s, "entity=collection");
        assert_eq!(trail.len(), 4, "{trail:?}");
        assert!(audit(s, "operator=cui&entity=application")
            .iter()
            .any(|e| e["action"] == "collection.note" && e["outcome"] == 201));
    });
}

#[test]
fn an_offline_repayment_pays_what_the_domain_allocates_once_another_operator_confirms() {
    on_every_backend(&[], |s| {
        let (session, id) = two_days_late(s, "13709812611", 1);
        let fang = s.operator("fang", "finance");
        let fei = s.operator("fei", "finance");
        let path = format!("/admin/applications/{id}/offline-repayments");
        // What it owes today: 1000.00 + 14.00 + 2 × 1.01; a day earlier, one day of penalty.
        let quote = s
            .admin_as(&fang, "GET", &format!("{path}/quote"), None)
            .json();
        assert_eq!(quote["amount"], "1016.02", "{quote}");
        assert_eq!(quote["lines"][0]["penalty"], "2.02");
        assert_eq!(quote["lines"][0]["interest"], "14.00");
        assert_eq!(quote["lines"][0]["principal"], "1000.00");
        let earlier = s
            .admin_as(&fang, "GET", &format!("{path}/quote?date=2026-02-15"), None)
            .json();
        assert_eq!(earlier["amount"], "1015.01", "{earlier}");
        // Paid off a week after the payout, before the due date: the principal and the interest
        // of the days elapsed, 7/14 × 14.00 (DOMAIN: payoff), and nothing else.
        let payoff = s
            .admin_as(
                &fang,
                "GET",
                &format!("{path}/quote?repayType=all&date=2026-02-07"),
                None,
            )
            .json();
        assert_eq!(payoff["amount"], "1007.00", "{payoff}");
        assert_eq!(payoff["lines"][0]["interest"], "7.00");
        assert_eq!(payoff["lines"][0]["penalty"], "0.00");
        // Not before the payout.
        let before = s.admin_as(&fang, "GET", &format!("{path}/quote?date=2026-01-30"), None);
        assert_eq!(before.status, 422, "{}", before.text());
        // Another amount is refused, saying what is owed; a date ahead of the book too.
        let short = json!({"amount": "1000.00", "flowNo": "BANK-0001", "remark": "柜台转账"});
        let r = s.admin_as(&fang, "POST", &path, Some(short));
        assert_eq!(r.status, 422, "{}", r.text());
        assert!(r.text().contains("1016.02"), "{}", r.text());
        let ahead = json!({"amount": "1016.02", "flowNo": "BANK-0001", "date": "2026-02-17"});
        assert_eq!(status_as(s, &fang, "POST", &path, Some(ahead)), 422);
        // Reviewers do not record money.
        let rita = s.operator("rita", "reviewer");
        let body = json!({"amount": "1016.02", "flowNo": "BANK-0001", "remark": "柜台转账"});
        assert_eq!(status_as(s, &rita, "POST", &path, Some(body.clone())), 403);
        // Proposed: nothing paid yet, and a second proposal of the loan is refused.
        let proposed = s.admin_as(&fang, "POST", &path, Some(body.clone()));
        assert_eq!(proposed.status, 202, "{}", proposed.text());
        let p = proposed.json()["proposal"].clone();
        assert_eq!(p["kind"], "offline_repayment");
        assert_eq!(p["payload"]["flowNo"], "BANK-0001");
        assert_eq!(status_as(s, &fei, "POST", &path, Some(body.clone())), 409);
        assert_eq!(loan_status(s, &session, &id), "4");
        let confirm = format!("/admin/proposals/{}/confirm", p["id"].as_str().unwrap());
        assert_eq!(status_as(s, &fang, "POST", &confirm, None), 403);
        // Confirmed by another: the installment is paid, allocated penalty → fee → interest →
        // principal, and the loan is settled.
        let done = s.admin_as(&fei, "POST", &confirm, None);
        assert_eq!(done.status, 200, "{}", done.text());
        assert_eq!(done.json()["loanSettled"], true, "{}", done.text());
        assert_eq!(done.json()["payment"]["status"], "succeeded");
        assert_eq!(done.json()["payment"]["settledBy"], "operator");
        assert_eq!(loan_status(s, &session, &id), "5");
        let l = ledger(s, &id);
        let repaid: Vec<&Value> = l["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["kind"] != "disbursement")
            .collect();
        assert_eq!(repaid.len(), 1, "{l}");
        assert_eq!(
            (
                repaid[0]["amount"].as_str(),
                repaid[0]["penalty"].as_str(),
                repaid[0]["fee"].as_str(),
                repaid[0]["interest"].as_str(),
                repaid[0]["principal"].as_str(),
            ),
            (
                Some("1016.02"),
                Some("2.02"),
                Some("0.00"),
                Some("14.00"),
                Some("1000.00")
            )
        );
        assert_eq!(repaid[0]["channelRef"], "offline:BANK-0001");
        assert_eq!(repaid[0]["businessDate"], "2026-02-16");
        // Nothing is owed now; the borrower's app says so.
        let again = s.admin_as(&fang, "GET", &format!("{path}/quote"), None);
        assert_eq!(again.status, 409);
        // A flow number is recorded once, whatever loan it is entered for.
        let (_, second) = {
            set_date(s, "2026-01-31");
            let (sess, id, _) = paid_out_loan(s, "13709812612", 2);
            set_date(s, "2026-02-16");
            daily(s, "2026-02-16");
            (sess, id)
        };
        let path2 = format!("/admin/applications/{second}/offline-repayments");
        let reused = s.admin_as(&fang, "POST", &path2, Some(body));
        assert_eq!(reused.status, 409, "{}", reused.text());
        assert!(reused.text().contains("BANK-0001"));
    });
}

#[test]
fn concurrent_confirmations_of_an_offline_repayment_record_it_once() {
    on_every_backend(&[], |s| {
        let (session, id) = two_days_late(s, "13709812611", 1);
        let maker = s.operator("fang", "finance");
        let checkers = [s.operator("fei", "finance"), s.operator("fu", "finance")];
        let path = format!("/admin/applications/{id}/offline-repayments");
        let body = json!({"amount": "1016.02", "flowNo": "BANK-0002"});
        let p = s.admin_as(&maker, "POST", &path, Some(body)).json()["proposal"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let confirm = format!("/admin/proposals/{p}/confirm");
        let statuses: Vec<u16> = std::thread::scope(|scope| {
            let handles: Vec<_> = checkers
                .iter()
                .map(|t| scope.spawn(|| s.admin_as(t, "POST", &confirm, None).status))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut sorted = statuses.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, [200, 409], "{statuses:?}");
        let l = ledger(s, &id);
        assert_eq!(l["in"], "1016.02", "{l}");
        assert_eq!(loan_status(s, &session, &id), "5");
        // The borrower's own payment now finds nothing to pay.
        let plan = s.call(
            "/appCommonApi/getLoanApplyRepayList",
            json!({"pageNum": 1, "loanProductApplyId": id}),
            Some(&session),
        );
        let inst = plan.result()[0]["repayId"].as_str().unwrap().to_owned();
        let paid = s.call(
            "/appCommonApi/gotoRepayment",
            json!({"id": inst, "repayType": "current"}),
            Some(&session),
        );
        assert_eq!(paid.code(), "20006001", "{}", paid.text());
    });
}

#[test]
fn the_dashboard_counts_the_day_the_month_and_the_overdue_book() {
    on_every_backend(&[], |s| {
        let (_, _) = two_days_late(s, "13709812611", 1);
        let wei = s.operator("wei", "viewer");
        let d = s.admin_as(&wei, "GET", "/admin/dashboard", None);
        assert_eq!(d.status, 200, "{}", d.text());
        let d = d.json();
        assert_eq!(d["businessDate"], "2026-02-16");
        assert_eq!(d["outstandingPrincipal"], "1000.00", "{d}");
        assert_eq!(d["overdue"]["loans"], 1);
        assert_eq!(d["overdue"]["amount"], "1016.02");
        assert_eq!(d["overdue"]["buckets"][0]["bucket"], "M1");
        assert_eq!(d["overdue"]["buckets"][0]["principal"], "1000.00");
        assert_eq!(d["overdue"]["buckets"][0]["rate"], "1.0000");
        assert_eq!(d["overdue"]["rate"], "1.0000");
        assert_eq!(d["overdue"]["buckets"][1]["loans"], 0);
        assert_eq!(d["last30Days"].as_array().unwrap().len(), 30);
        // The payout was on 2026-01-31, inside the last 30 days, not this month.
        let out: Vec<&Value> = d["last30Days"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["disbursed"] != "0.00")
            .collect();
        assert_eq!(out.len(), 1, "{d}");
        assert_eq!(out[0]["date"], "2026-01-31");
        assert_eq!(out[0]["disbursed"], "1000.00");
        assert_eq!(d["month"]["disbursed"], "0.00");
        // A collector has no dashboard.
        let cui = s.operator("cui", "collector");
        assert_eq!(status_as(s, &cui, "GET", "/admin/dashboard", None), 403);
    });
}

/// The loan's `applyStatus` as the borrower's §28 shows it.
fn loan_status(s: &TestServer, session: &str, id: &str) -> String {
    let r = s.call(
        "/appCommonApi/getLoanApplyInfoList",
        json!({"pageNum": 1}),
        Some(session),
    );
    r.result()
        .as_array()
        .and_then(|a| a.iter().find(|l| l["id"] == id))
        .and_then(|l| l["applyStatus"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[test]
fn every_kind_of_admin_action_is_on_record_under_its_operator() {
    on_every_backend(&[], |s| {
        let ada = s.operator("ada", "admin");
        register(s, "13709812611", "secret123");
        let calls: Vec<(&str, String, Value, &str)> = vec![
            (
                "POST",
                "/admin/users/13709812611/blacklist".into(),
                json!({"reason": "test"}),
                "user.blacklist",
            ),
            (
                "DELETE",
                "/admin/users/13709812611/blacklist".into(),
                json!({}),
                "user.unblacklist",
            ),
            (
                "PUT",
                "/admin/users/13709812611/credit".into(),
                json!({"totalCredit": "8000.00"}),
                "user.credit",
            ),
            (
                "PUT",
                "/admin/users/13709812611/status".into(),
                json!({"risk": true}),
                "user.status",
            ),
            (
                "POST",
                "/admin/system-messages".into(),
                json!({"messageType": "0", "title": "通知", "content": "内容"}),
                "system_message.publish",
            ),
            (
                "POST",
                "/admin/app-versions".into(),
                json!({"appType": "1", "versionCode": "24", "versionName": "2.4", "downloadUrl": "https://example.com/a.apk"}),
                "app_version.publish",
            ),
            (
                "POST",
                "/admin/business-date".into(),
                json!({"date": "2026-03-01"}),
                "business_date.set",
            ),
            (
                "POST",
                "/admin/batch/daily".into(),
                json!({"date": "2026-03-01"}),
                "daily_job.run",
            ),
        ];
        for (method, path, body, _) in &calls {
            let r = s.admin_as(&ada, method, path, Some(body.clone()));
            assert!(r.status < 300, "{method} {path}: {} {}", r.status, r.text());
        }
        let trail = audit(s, "operator=ada&size=200");
        for (method, path, _, action) in &calls {
            let row = trail
                .iter()
                .find(|e| e["action"] == *action)
                .unwrap_or_else(|| panic!("{method} {path}: no {action} in {trail:?}"));
            assert_eq!(row["role"], "admin");
            assert_eq!(row["address"], "127.0.0.1");
            assert!(row["outcome"].as_i64().unwrap() < 300, "{row}");
        }
        // A user's standing before and after, the mobile masked.
        let credit = trail.iter().find(|e| e["action"] == "user.credit").unwrap();
        assert_eq!(credit["entityId"], "137****2611");
        assert_eq!(credit["after"]["totalCredit"], "8000.00", "{credit}");
        assert_ne!(credit["before"]["totalCredit"], "8000.00");
        // The business date before and after; the daily job's counts.
        let date = trail
            .iter()
            .find(|e| e["action"] == "business_date.set")
            .unwrap();
        assert_eq!(date["after"]["date"], "2026-03-01");
        let run = trail
            .iter()
            .find(|e| e["action"] == "daily_job.run")
            .unwrap();
        assert_eq!(run["after"]["date"], "2026-03-01", "{run}");
        assert!(!trail.iter().any(|e| e.to_string().contains("13709812611")));
    });
}

#[test]
fn twenty_wrong_sign_ins_from_one_address_lock_it_whatever_the_names() {
    on_every_backend(&[], |s| {
        s.operator("rita", "reviewer");
        // Guesses spread over many names (most of them nobody's), in parallel.
        let statuses: Vec<u16> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..20)
                .map(|k| {
                    scope.spawn(move || sign_in(s, &format!("guess{k}"), "password123").status)
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(statuses.iter().all(|c| *c == 401), "{statuses:?}");
        // The address is locked: even the right password of a real operator is refused, with
        // the same answer as any refusal.
        let right = format!("rita{OPERATOR_PASSWORD_SUFFIX}");
        let locked = sign_in(s, "rita", &right);
        assert_eq!(locked.status, 401, "{}", locked.text());
        assert_eq!(locked.json(), sign_in(s, "nobody", "x").json());
        // Operators already signed in keep working.
        let token = s.operator("rita", "reviewer");
        assert_eq!(status_as(s, &token, "GET", "/admin/me", None), 200);
    });
}
