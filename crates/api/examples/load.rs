//! A load run against a running server: `threads` clients send freshly signed requests (each one
//! a new nonce, so every request also records its replay nonce) for `seconds`, then report the
//! throughput and latency percentiles. Loopback only; bounded in time.
//!
//!     cargo run --release --example load -- http://127.0.0.1:8080 20 8
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use cashloan_test_support::server::signed;
use serde_json::json;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "http://127.0.0.1:8080".into());
    assert!(
        url.starts_with("http://127.") || url.starts_with("http://localhost"),
        "load runs target loopback only"
    );
    let seconds: u64 = args
        .get(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10)
        .min(120);
    let threads: usize = args
        .get(3)
        .and_then(|s| s.parse().ok())
        .unwrap_or(8)
        .min(64);
    let calls = [
        ("/openCommonApi/getLoanProductList", json!({})),
        (
            "/openCommonApi/getLoanProductDetails",
            json!({"productId": "c4493fbe-23f7-4904-bac1-ff0266b36e2e"}),
        ),
        (
            "/openCommonApi/getSystemMessage",
            json!({"pageNum": 1, "pageSize": 10}),
        ),
    ];
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let url = url.clone();
            let calls = calls.clone();
            std::thread::spawn(move || {
                let agent = ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(10))
                    .build();
                let (mut latencies, mut errors, mut k) = (Vec::new(), 0u64, t);
                while Instant::now() < deadline {
                    let (path, body) = &calls[k % calls.len()];
                    k += 1;
                    let text = signed(body).to_compact_string();
                    let started = Instant::now();
                    let ok = agent
                        .post(&format!("{url}{path}"))
                        .set("Content-Type", "application/json")
                        .send_string(&text)
                        .ok()
                        .and_then(|r| r.into_string().ok())
                        .is_some_and(|b| b.contains("\"exceptionFlag\":\"0000\""));
                    if ok {
                        latencies.push(started.elapsed());
                    } else {
                        errors += 1;
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut errors = 0;
    for h in handles {
        let (l, e) = h.join().unwrap();
        all.extend(l);
        errors += e;
    }
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    println!(
        "{} ok, {errors} failed in {seconds} s with {threads} clients: {:.0} req/s; latency p50 {:?}, p90 {:?}, p99 {:?}, max {:?}",
        all.len(),
        all.len() as f64 / seconds as f64,
        pct(0.50),
        pct(0.90),
        pct(0.99),
        all.last().copied().unwrap_or_default()
    );
}
