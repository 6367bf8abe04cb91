//! Black-box: the operations endpoints (`/healthz`, `/readyz`, `/metrics`), on the app's address
//! or on `CASHLOAN_OPS_BIND`, and `/readyz` while the server drains.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;
use std::time::Duration;

use cashloan_test_support::server::{signed, StubProvider};
use common::*;
use serde_json::json;

fn get(url: &str) -> (u16, String) {
    match ureq::get(url).timeout(Duration::from_secs(10)).call() {
        Ok(r) => (r.status(), r.into_string().unwrap()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
        Err(e) => panic!("GET {url}: {e}"),
    }
}

/// A loopback address with a free port (free when this returns).
fn free_address() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

/// The value of the series `name{labels}` in a Prometheus text exposition.
fn series(text: &str, name: &str, labels: &str) -> Option<f64> {
    let key = format!("{name}{{{labels}}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&key))
        .and_then(|v| v.trim().parse().ok())
}

#[test]
fn health_readiness_and_metrics_beside_the_app() {
    on_every_backend(&[], |s| {
        let b = s.backend;
        assert_eq!(get(&format!("{}/healthz", s.url)).0, 200, "{b}");
        let (status, body) = get(&format!("{}/readyz", s.url));
        assert_eq!((status, body.contains("ready")), (200, true), "{b}: {body}");

        let path = "/openCommonApi/getSystemMessage";
        let request = signed(&json!({"pageNum": 1, "pageSize": 10}));
        assert_eq!(s.send(path, &request, None).code(), "0000", "{b}");
        assert_eq!(s.send(path, &request, None).code(), "10000003", "{b}");
        for probe in [
            "/no-such-path-1",
            "/no-such-path-2",
            "/openCommonApi/nothing",
        ] {
            assert_eq!(
                s.raw(
                    "POST",
                    probe,
                    b"{}",
                    &[("Content-Type", "application/json")]
                )
                .status,
                404
            );
        }

        let (status, text) = get(&format!("{}/metrics", s.url));
        assert_eq!(status, 200, "{b}");
        let requests = |code: &str| {
            series(
                &text,
                "cashloan_requests_total",
                &format!("code=\"{code}\",endpoint=\"{path}\""),
            )
        };
        assert_eq!(requests("0000"), Some(1.0), "{b}: {text}");
        assert_eq!(
            requests("10000003"),
            Some(1.0),
            "{b}: the replay, by its code"
        );
        assert_eq!(
            series(
                &text,
                "cashloan_requests_total",
                "code=\"404\",endpoint=\"unmatched\""
            ),
            Some(3.0),
            "{b}: unknown paths share one label"
        );
        assert!(
            !text.contains("no-such-path"),
            "{b}: no label from a raw path"
        );
        assert!(
            text.contains(&format!(
                "cashloan_request_duration_seconds_bucket{{endpoint=\"{path}\",le=\"0.5\"}}"
            )),
            "{b}: latency histogram"
        );
        for (name, labels) in [
            ("cashloan_db_pool_connections", "state=\"in_use\""),
            ("cashloan_db_pool_connections", "state=\"max\""),
            ("cashloan_db_pool_waits", "measure=\"count\""),
            ("cashloan_payment_orders", "state=\"pending\""),
            ("cashloan_payment_orders", "state=\"unknown\""),
        ] {
            assert!(
                series(&text, name, labels).is_some(),
                "{b}: {name}{{{labels}}}"
            );
        }
        assert_eq!(
            series(&text, "cashloan_db_pool_connections", "state=\"max\""),
            Some(8.0),
            "{b}: the test servers' pool"
        );

        // The daily job run by `cashloan batch`, a process of its own, shows through the
        // database's record of its claim.
        let claimed = |text: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix("cashloan_daily_job_last_claimed_timestamp_seconds "))
                .and_then(|v| v.trim().parse::<f64>().ok())
        };
        assert_eq!(claimed(&text), Some(0.0), "{b}: none on record yet");
        let run = Command::new(env!("CARGO_BIN_EXE_cashloan"))
            .args(["batch", "--date", "2026-03-01"])
            .env_clear()
            .env("CASHLOAN_DATABASE_URL", &s.db_url)
            .env(
                "CASHLOAN_DATA_KEY",
                cashloan_test_support::server::TEST_DATA_KEY,
            )
            .env("CASHLOAN_LOG", "error")
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{b}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let text = get(&format!("{}/metrics", s.url)).1;
        let at = claimed(&text).unwrap_or(0.0);
        let now = now_ms() as f64 / 1000.0;
        assert!(
            (now - 120.0..=now + 1.0).contains(&at),
            "{b}: claimed at {at}, now {now}"
        );

        // SMS: one sent, then the per-mobile interval refuses the next.
        verify_mobile(s, "13709812611");
        let text = get(&format!("{}/metrics", s.url)).1;
        assert_eq!(
            series(&text, "cashloan_sms_total", "outcome=\"sent\""),
            Some(1.0),
            "{b}"
        );
    });
}

/// A server on each backend, one at a time, with its operations endpoints on an address of
/// their own (and `env`); the address.
fn with_ops_address(env: &[(&str, &str)], test: impl Fn(&TestServer, &str)) {
    for db in cashloan_test_support::fresh_databases() {
        let ops = free_address();
        let mut env = env.to_vec();
        env.push(("CASHLOAN_OPS_BIND", &ops));
        let s = TestServer::start(env!("CARGO_BIN_EXE_cashloan"), db, &env);
        test(&s, &ops);
    }
}

#[test]
fn operations_endpoints_can_have_an_address_of_their_own() {
    with_ops_address(&[], |s, ops| {
        let b = s.backend;
        for path in ["/healthz", "/readyz", "/metrics"] {
            assert_eq!(
                get(&format!("{}{path}", s.url)).0,
                404,
                "{b}: {path} off the app"
            );
            assert_eq!(get(&format!("http://{ops}{path}")).0, 200, "{b}: {path}");
        }
        // Requests to the app are still counted, and shown on the operations address.
        let r = s.call(
            "/openCommonApi/getSystemMessage",
            json!({"pageNum": 1, "pageSize": 10}),
            None,
        );
        assert_eq!(r.code(), "0000");
        let text = get(&format!("http://{ops}/metrics")).1;
        assert!(
            text.contains("endpoint=\"/openCommonApi/getSystemMessage\""),
            "{b}: {text}"
        );
    });
}

/// A load balancer must stop sending to a server that is stopping: `/readyz` says 503 while the
/// requests in flight finish.
#[test]
fn readiness_is_refused_while_the_server_drains() {
    let gateway = StubProvider::start(Duration::from_millis(2000));
    let sink = format!("http:{}", gateway.url);
    with_ops_address(&[("CASHLOAN_SMS_SINK", &sink)], |s, ops| {
        let b = s.backend;
        assert_eq!(get(&format!("http://{ops}/readyz")).0, 200, "{b}");
        let captcha = s.call("/openApi/getCode", json!({}), None).result();
        let (answer, draining) = std::thread::scope(|scope| {
            let in_flight = scope.spawn(|| {
                s.call(
                    "/openApi/getSmsCode",
                    json!({"code": captcha, "mobile": "13800138000"}),
                    None,
                )
            });
            std::thread::sleep(Duration::from_millis(500));
            let killed = Command::new("kill")
                .args(["-TERM", &s.pid().to_string()])
                .status()
                .unwrap();
            assert!(killed.success());
            std::thread::sleep(Duration::from_millis(300));
            let draining = get(&format!("http://{ops}/readyz"));
            (in_flight.join().unwrap(), draining)
        });
        assert_eq!(draining.0, 503, "{b}: {}", draining.1);
        assert!(draining.1.contains("draining"), "{b}: {}", draining.1);
        assert_eq!(answer.code(), "20001000", "{b}: {}", answer.text());
        for _ in 0..100 {
            if std::net::TcpStream::connect(ops).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("{b}: the operations address still answers after the drain");
    });
}
