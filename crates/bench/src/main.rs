//! The HTTP benchmark (docs/performance.md, "The HTTP benchmark").
//!
//!     cargo run --release -p cashloan-bench -- [--pg URL] [--seconds N] [--connections C] [--pool P]
//!         [--only §27] [--server PATH-TO-ANOTHER-cashloan] [--applicants N] [--loans N]
//!     cargo run --release -p cashloan-bench -- daily BOOK.db [YYYY-MM-DD]   (the daily job, daily.rs)
//!
//! One run starts the release `cashloan` server (SQLite in a temporary folder, or a fresh database
//! on the PostgreSQL server `--pg` names) and a no-op actix-web endpoint with the same worker
//! count, then drives each with the same load generator: raw HTTP/1.1 keep-alive connections on
//! one thread, sending requests that are signed beforehand, each with a nonce of its own (so every
//! request to the server passes the whole signature, freshness and replay path). Two runs per
//! endpoint:
//!
//! - *max*: every connection sends its next request as soon as the answer came (requests/s);
//! - *rate*: a fixed arrival rate of half that maximum, latency measured from when each request
//!   was due, so slow answers are not hidden behind the ones waiting (p50, p99).
//!
//! Every answer must be HTTP 200 with `"exceptionFlag":"0000"`; any other answer is an error, and
//! a run with errors exits 1.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod daily;
mod load;
mod noop;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::Duration;

use cashloan_test_support::journeys::{login, register, verified_borrower};
use cashloan_test_support::server::{signed, TestServer};
use cashloan_test_support::{fresh_postgres, fresh_sqlite, PG_URL_VAR};
use serde_json::{json, Value};

use load::{Outcome, Target};

/// The quote (§22) the benchmark asks for: the demo cash loan, 500.00 over 14 days at 36 %.
fn quote_terms() -> Value {
    json!({
        "productId": "c4493fbe-23f7-4904-bac1-ff0266b36e2e", "amount": "500.00",
        "termCount": "14", "termUnit": "1", "repayTermCount": "14", "repayTermUnit": "1",
        "repayType": "1", "interestRate": "0.36",
    })
}

/// The demo instalment product (分期贷): 12 monthly installments.
const INSTALMENT: &str = "0b7f6c2e-5d1a-4c4e-9f3a-2a8e7c1d9b10";
/// Applications measured by a §23 run unless `--applicants` says otherwise (half for the
/// maximum, half for the fixed rate): each needs a verified borrower of its own, made before the
/// run.
const APPLICANTS: u32 = 600;
/// Paid-out loans whose installments a §36 run repays unless `--loans` says otherwise (12 each,
/// half the loans a run).
const LOANS: u32 = 200;

/// A §23 body: 3 000.00 over 12 months on the instalment product, flat (等本等息).
fn application() -> Value {
    json!({
        "productId": INSTALMENT, "amount": "3000.00", "termCount": "12", "termUnit": "2",
        "repayTermCount": "1", "repayTermUnit": "2", "repayType": "4", "interestRate": "0.18",
        "longitude": "116.31", "latitude": "39.98", "orderId": "201701012236523", "purpose": "21",
        "otherChannels": "01", "phonebookList": [{"contactName": "木木", "contactPhone": "13940460755"}],
    })
}

/// Verified borrowers `seqs`, made four at a time through the API: (seq, session).
fn borrowers(server: &TestServer, seqs: std::ops::Range<u32>) -> Vec<(u32, String)> {
    let seqs: Vec<u32> = seqs.collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = seqs
            .chunks(seqs.len().div_ceil(4).max(1))
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|&k| (k, verified_borrower(server, &format!("139{k:08}"), k)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("preparing borrowers"))
            .collect()
    })
}

/// §36's requests: loans paid out to borrowers `seqs`, then each loan's installments in order,
/// the loans interleaved so that no two requests for one loan are in flight together.
fn repayments(server: &TestServer, seqs: std::ops::Range<u32>) -> Vec<(Value, String)> {
    let admin = |path: String| {
        let r = server.admin_confirmed("POST", &path, None);
        assert!(r.status < 300, "{path}: {}", r.text());
    };
    let mut plans = Vec::new();
    for (_, session) in borrowers(server, seqs) {
        let r = server.call(
            "/appCommonApi/loanProductApply",
            application(),
            Some(&session),
        );
        assert_eq!(r.code(), "20005000", "{}", r.text());
        let id = r.result().as_str().expect("application id").to_owned();
        for step in ["review", "approve", "disburse"] {
            admin(format!("/admin/applications/{id}/{step}"));
        }
        let plan = server.call(
            "/appCommonApi/getLoanApplyRepayList",
            json!({"pageNum": 1, "pageSize": 100, "loanProductApplyId": id}),
            Some(&session),
        );
        let ids: Vec<String> = plan
            .result()
            .as_array()
            .map(|p| {
                p.iter()
                    .filter_map(|i| i["repayId"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(ids.len(), 12, "{}", plan.text());
        plans.push((session, ids));
    }
    (0..12)
        .flat_map(|period| {
            plans.iter().map(move |(session, ids)| {
                (
                    json!({"id": ids[period], "repayType": "current"}),
                    session.clone(),
                )
            })
        })
        .collect()
}

struct Options {
    pg: Option<String>,
    seconds: u64,
    connections: usize,
    /// The server's database pool (its default, 16, unless told).
    pool: u32,
    /// Only the endpoints whose name contains this (the no-op one always runs, as the base).
    only: Option<String>,
    /// Another build of the server to measure (an earlier commit's, for a before-and-after).
    server: Option<PathBuf>,
    /// Borrowers made for §23 (a longer run, for a profile).
    applicants: u32,
    /// Loans made for §36.
    loans: u32,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        pg: None,
        seconds: 5,
        connections: 32,
        pool: 16,
        only: None,
        server: None,
        applicants: APPLICANTS,
        loans: LOANS,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--pg" => o.pg = Some(value()?),
            "--only" => o.only = Some(value()?),
            "--server" => o.server = Some(PathBuf::from(value()?)),
            "--seconds" => o.seconds = value()?.parse().map_err(|_| "--seconds: a number")?,
            "--applicants" => {
                o.applicants = value()?.parse().map_err(|_| "--applicants: a number")?
            }
            "--loans" => o.loans = value()?.parse().map_err(|_| "--loans: a number")?,
            "--pool" => o.pool = value()?.parse().map_err(|_| "--pool: a number")?,
            "--connections" => {
                o.connections = value()?.parse().map_err(|_| "--connections: a number")?
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(o)
}

/// The release `cashloan` beside this program, brought up to date first when run by cargo.
fn server_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("own path");
    let bin = exe.with_file_name("cashloan");
    if let Ok(cargo) = std::env::var("CARGO") {
        let status = Command::new(cargo)
            .args([
                "build",
                "--release",
                "-p",
                "cashloan-api",
                "--bin",
                "cashloan",
            ])
            .status()
            .expect("cargo build");
        assert!(status.success(), "building the server failed");
    }
    bin
}

/// The no-op endpoint in a process of its own (this program with `noop`), as the server is.
fn start_noop() -> (Child, String) {
    let exe = std::env::current_exe().expect("own path");
    let mut child = Command::new(exe)
        .arg("noop")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the no-op endpoint");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("no-op address");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .expect("listening line")
        .to_owned();
    (child, url)
}

fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("noop") {
        return noop::serve();
    }
    if std::env::args().nth(1).as_deref() == Some("daily") {
        let args: Vec<String> = std::env::args().skip(2).collect();
        return daily::run(&server_binary(), &args);
    }
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("cashloan-bench: {e}");
            return ExitCode::from(2);
        }
    };
    let bin = o.server.clone().unwrap_or_else(server_binary);
    let db = match &o.pg {
        Some(url) => {
            std::env::set_var(PG_URL_VAR, url);
            fresh_postgres().expect("PostgreSQL database")
        }
        None => fresh_sqlite(),
    };
    let backend = db.backend;
    // The server as it ships: the test harness's settings (a pool of 8, the business-date
    // override) put back to their defaults; the pool's size can be set for PostgreSQL.
    let server_env = [
        (
            "CASHLOAN_ALLOW_BUSINESS_DATE_OVERRIDE".to_owned(),
            "false".to_owned(),
        ),
        ("CASHLOAN_DB_POOL_SIZE".to_owned(), o.pool.to_string()),
        // The borrowers §23 and §36 need are registered from this one address beforehand.
        (
            "CASHLOAN_CAPTCHA_PER_MINUTE".to_owned(),
            "1000000".to_owned(),
        ),
    ];
    let server_env: Vec<(&str, &str)> = server_env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let server = TestServer::start(bin.to_str().expect("path"), db, &server_env);
    let (mut noop, noop_url) = start_noop();

    let mobile = "13709812611";
    register(&server, mobile, "secret123");
    let session = login(&server, mobile, "secret123");
    // The endpoints answer as they should before anything is measured.
    for (path, body) in [
        ("/appCommonApi/getUserCenterInfo", json!({})),
        ("/appCommonApi/getLoanApplyConfirmInfo", quote_terms()),
    ] {
        let a = server.send(path, &signed(&body), Some(&session));
        assert_eq!(a.code(), "0000", "{path}: {}", a.text());
    }

    let mut targets = vec![
        Target::new(
            "no-op actix-web endpoint",
            &noop_url,
            "/noop",
            json!({}),
            None,
        ),
        Target::new(
            "§27 user centre",
            &server.url,
            "/appCommonApi/getUserCenterInfo",
            json!({}),
            Some(&session),
        ),
        Target::new(
            "§22 quote",
            &server.url,
            "/appCommonApi/getLoanApplyConfirmInfo",
            quote_terms(),
            Some(&session),
        ),
    ];
    let wanted = |name: &str| {
        o.only
            .as_ref()
            .is_none_or(|only| name.contains(only.as_str()))
    };
    // The money endpoints need borrowers and loans of their own, made first (a minute or two).
    if wanted("§23 apply") {
        let each = borrowers(&server, 1..1 + o.applicants)
            .into_iter()
            .map(|(_, session)| (application(), session))
            .collect();
        targets.push(Target::each(
            "§23 apply",
            &server.url,
            "/appCommonApi/loanProductApply",
            each,
        ));
    }
    if wanted("§36 repay") {
        let first = 1 + o.applicants;
        let mut each = repayments(&server, first..first + o.loans / 2);
        each.extend(repayments(&server, first + o.loans / 2..first + o.loans));
        targets.push(Target::each(
            "§36 repay, local channel",
            &server.url,
            "/appCommonApi/gotoRepayment",
            each,
        ));
    }
    let duration = Duration::from_secs(o.seconds.clamp(1, 120));
    println!(
        "cashloan-bench: {backend}, {} connections, {} s a run, one load-generator thread, {} cores",
        o.connections,
        duration.as_secs(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut results: Vec<(String, Outcome, Outcome)> = Vec::new();
    for (k, t) in targets.iter_mut().enumerate() {
        if k > 0 && !wanted(&t.name) {
            continue;
        }
        // A fixed list is used once: half of it for the maximum, the other half for the rate.
        let second = if t.is_finite() {
            let half = t.requests_len() / 2;
            t.split_off(half)
        } else {
            None
        };
        let max = load::closed_loop(t, o.connections, duration);
        let half = (max.per_second() / 2.0).max(1.0);
        let rate = load::fixed_rate(
            second.as_ref().unwrap_or(t),
            o.connections.max(64),
            duration,
            half,
        );
        results.push((t.name.clone(), max, rate));
    }
    let _ = noop.kill();
    let _ = noop.wait();

    let base = results[0].1.per_second();
    println!();
    println!(
        "| endpoint | max req/s | share of no-op | p50 / p99 at max | fixed rate (req/s) | p50 / p99 at that rate | errors |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut errors = 0;
    for (name, max, rate) in &results {
        errors += max.errors + rate.errors;
        println!(
            "| {name} | {:.0} | {:.1} % | {:.2} / {:.2} ms | {:.0} | {:.2} / {:.2} ms | {} |",
            max.per_second(),
            100.0 * max.per_second() / base,
            max.percentile_ms(50.0),
            max.percentile_ms(99.0),
            rate.per_second(),
            rate.percentile_ms(50.0),
            rate.percentile_ms(99.0),
            max.errors + rate.errors
        );
    }
    if errors > 0 {
        for (name, max, rate) in &results {
            if let Some(e) = max.first_error.as_ref().or(rate.first_error.as_ref()) {
                eprintln!("cashloan-bench: {name}: the first wrong answer:\n{e}");
            }
        }
        eprintln!("cashloan-bench: {errors} requests failed");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
