//! Black-box: the `cashloan` command's subcommands and its shutdown, on every backend.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::{Command, Output};
use std::time::Duration;

use cashloan_test_support::fresh_databases;
use cashloan_test_support::server::StubProvider;
use serde_json::json;

fn cashloan(db_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cashloan"))
        .args(args)
        .env_clear()
        .env("CASHLOAN_DATABASE_URL", db_url)
        .env(
            "CASHLOAN_DATA_KEY",
            cashloan_test_support::server::TEST_DATA_KEY,
        )
        .env("CASHLOAN_LOG", "error")
        .env("CASHLOAN_ALLOW_BUSINESS_DATE_OVERRIDE", "true")
        .output()
        .expect("run cashloan")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn migrate_batch_and_admin_work_on_an_empty_database() {
    for db in fresh_databases() {
        let first = cashloan(&db.url, &["migrate"]);
        assert!(first.status.success(), "{}: {first:?}", db.backend);
        assert!(
            stdout(&first).starts_with("applied 11 migration(s)"),
            "{}",
            stdout(&first)
        );
        let again = cashloan(&db.url, &["migrate"]);
        assert!(stdout(&again).starts_with("applied 0 migration(s)"));

        let b = cashloan(
            &db.url,
            &["batch", "--date", "2026-03-01", "--to", "2026-03-03"],
        );
        assert!(b.status.success(), "{b:?}");
        let lines: Vec<String> = stdout(&b).lines().map(str::to_owned).collect();
        assert_eq!(
            lines.len(),
            6,
            "two lines per date: the book, the reconciler: {lines:?}"
        );
        assert!(lines[0].starts_with("2026-03-01: looked at 0, marked overdue 0"));
        assert!(
            lines[1].starts_with("2026-03-01: reconciled: asked 0"),
            "{}",
            lines[1]
        );
        let r = cashloan(&db.url, &["reconcile"]);
        assert!(r.status.success(), "{r:?}");
        assert!(
            stdout(&r).starts_with("reconciled: asked 0, succeeded 0"),
            "{}",
            stdout(&r)
        );

        let set = cashloan(
            &db.url,
            &[
                "admin",
                "POST",
                "/admin/business-date",
                r#"{"date":"2026-03-01"}"#,
            ],
        );
        assert!(set.status.success(), "{set:?}");
        let get = cashloan(&db.url, &["admin", "GET", "/admin/business-date"]);
        let v: serde_json::Value = serde_json::from_str(stdout(&get).trim()).unwrap();
        assert_eq!(v["date"], "2026-03-01");
        let missing = cashloan(
            &db.url,
            &["admin", "POST", "/admin/applications/nope/review"],
        );
        assert!(!missing.status.success(), "a 404 fails the command");
        assert!(stdout(&missing).contains("no such application"));
        let bad_date = cashloan(&db.url, &["batch", "--date", "2026-02-30"]);
        assert!(!bad_date.status.success());
    }
}

#[test]
fn a_date_of_the_daily_job_runs_once_however_many_schedulers_start_it() {
    for db in fresh_databases() {
        assert!(cashloan(&db.url, &["migrate"]).status.success());
        // Two schedulers start the job for the same date at once: one runs it.
        let started: Vec<_> = (0..2)
            .map(|_| {
                Command::new(env!("CARGO_BIN_EXE_cashloan"))
                    .args(["batch", "--date", "2026-04-01"])
                    .env_clear()
                    .env("CASHLOAN_DATABASE_URL", &db.url)
                    .env(
                        "CASHLOAN_DATA_KEY",
                        cashloan_test_support::server::TEST_DATA_KEY,
                    )
                    .env("CASHLOAN_LOG", "error")
                    .stdout(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let outputs: Vec<String> = started
            .into_iter()
            .map(|c| {
                let o = c.wait_with_output().unwrap();
                assert!(o.status.success(), "{}: {o:?}", db.backend);
                String::from_utf8_lossy(&o.stdout).into_owned()
            })
            .collect();
        let ran = outputs.iter().filter(|o| o.contains("looked at")).count();
        let skipped = outputs
            .iter()
            .filter(|o| o.contains("already claimed"))
            .count();
        assert_eq!((ran, skipped), (1, 1), "{}: {outputs:?}", db.backend);
        // Later, again: skipped, unless told.
        let later = cashloan(&db.url, &["batch", "--date", "2026-04-01"]);
        assert!(
            stdout(&later).contains("already claimed"),
            "{}",
            stdout(&later)
        );
        let told = cashloan(&db.url, &["batch", "--date", "2026-04-01", "--again"]);
        assert!(told.status.success());
        assert!(
            stdout(&told).starts_with("2026-04-01: looked at 0"),
            "{}",
            stdout(&told)
        );
    }
}

fn sigterm(pid: u32) {
    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
}

/// A rolling deploy may stop a server the moment it says it listens: that must drain, not kill.
#[test]
fn sigterm_right_after_listening_on_stops_cleanly_every_time() {
    for db_round in 0..25 {
        for s in common::servers(&[]) {
            // A PostgreSQL server per round is slow to make; a few rounds prove the same point.
            if s.backend == "postgres" && db_round >= 5 {
                continue;
            }
            sigterm(s.pid());
            let backend = s.backend;
            assert_eq!(
                s.wait_exit(),
                Some(0),
                "{backend}, round {db_round}: exit code after SIGTERM"
            );
        }
    }
}

/// A request in flight when SIGTERM arrives gets its answer; then the server exits 0.
#[test]
fn sigterm_finishes_the_request_in_flight() {
    let gateway = StubProvider::start(Duration::from_millis(1500));
    let sink = format!("http:{}", gateway.url);
    for s in common::servers(&[("CASHLOAN_SMS_SINK", &sink)]) {
        let captcha = s.call("/openApi/getCode", json!({}), None).result();
        let answer = std::thread::scope(|scope| {
            let in_flight = scope.spawn(|| {
                s.call(
                    "/openApi/getSmsCode",
                    json!({"code": captcha, "mobile": "13800138000"}),
                    None,
                )
            });
            // Long enough for the request to reach the (slow) SMS gateway.
            std::thread::sleep(Duration::from_millis(500));
            sigterm(s.pid());
            in_flight.join().unwrap()
        });
        assert_eq!(
            answer.code(),
            "20001000",
            "{}: {}",
            s.backend,
            answer.text()
        );
        let backend = s.backend;
        assert_eq!(s.wait_exit(), Some(0), "{backend}: exit code after SIGTERM");
    }
    assert!(!gateway.calls().is_empty(), "the SMS reached the gateway");
}

/// Logs written to a file, a pipe or a CI log are plain text: no colour escape codes.
#[test]
fn logs_off_a_terminal_carry_no_colour_codes() {
    use std::io::{BufRead, BufReader, Read};
    use std::process::Stdio;
    let db = cashloan_test_support::fresh_sqlite();
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cashloan"))
        .current_dir(dir.path())
        .env_clear()
        .env("CASHLOAN_DATABASE_URL", &db.url)
        .env("CASHLOAN_BIND", "127.0.0.1:0")
        .env("CASHLOAN_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("listening on "), "{line}");
    sigterm(child.id());
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert!(log.contains("INFO"), "{log}");
    assert!(
        log.contains("public test key"),
        "serve warns about the test key: {log}"
    );
    assert!(
        !log.contains('\u{1b}'),
        "colour codes in a piped log: {log:?}"
    );
}

/// The test-key warning belongs to the server, not to every command.
#[test]
fn only_serve_warns_about_the_public_test_key() {
    let db = cashloan_test_support::fresh_sqlite();
    let run = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_cashloan"))
            .args(args)
            .env_clear()
            .env("CASHLOAN_DATABASE_URL", &db.url)
            .env("CASHLOAN_LOG", "info")
            .output()
            .unwrap();
        assert!(o.status.success(), "{args:?}: {o:?}");
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    for args in [
        &["migrate"][..],
        &["batch", "--date", "2026-03-01"],
        &["admin", "GET", "/admin/business-date"],
    ] {
        let log = run(args);
        assert!(!log.contains("public test key"), "{args:?}: {log}");
    }
}

#[test]
fn the_version_names_the_command() {
    let o = Command::new(env!("CARGO_BIN_EXE_cashloan"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        concat!("cashloan ", env!("CARGO_PKG_VERSION"))
    );
}

/// A configuration file that is named but missing stops every command, wherever `--config` is
/// written; the message names the file.
#[test]
fn a_missing_config_file_stops_the_command_and_is_named() {
    for args in [
        &["--config", "/nonexistent/cashloan.toml", "migrate"][..],
        &["migrate", "--config", "/nonexistent/cashloan.toml"],
        &["serve", "--config", "/nonexistent/cashloan.toml"],
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_cashloan"))
            .args(args)
            .env_clear()
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("/nonexistent/cashloan.toml"),
            "{args:?}: {err}"
        );
    }
    let o = Command::new(env!("CARGO_BIN_EXE_cashloan"))
        .arg("migrate")
        .env_clear()
        .env("CASHLOAN_CONFIG", "/nonexistent/from-env.toml")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/from-env.toml"));
}

/// A port already taken, a database that cannot be opened: the message names the address or
/// the database and the setting.
#[test]
fn start_up_errors_name_the_setting_and_the_value() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("x.db").display());
    let start = |env: &[(&str, &str)]| {
        let o = Command::new(env!("CARGO_BIN_EXE_cashloan"))
            .current_dir(dir.path())
            .env_clear()
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(!o.status.success(), "{env:?}");
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let e = start(&[("CASHLOAN_BIND", &addr), ("CASHLOAN_DATABASE_URL", &db)]);
    assert!(e.contains(&addr) && e.contains("CASHLOAN_BIND"), "{e}");
    let e = start(&[
        ("CASHLOAN_BIND", "127.0.0.1:0"),
        ("CASHLOAN_DATABASE_URL", "sqlite:///nonexistent/dir/x.db"),
    ]);
    assert!(
        e.contains("/nonexistent/dir/x.db") && e.contains("CASHLOAN_DATABASE_URL"),
        "{e}"
    );
    let e = start(&[("CASHLOAN_BIND", "nonsense")]);
    assert!(e.contains("nonsense") && e.contains("CASHLOAN_BIND"), "{e}");
}

#[test]
fn call_signs_sends_and_checks_and_des_encrypts() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_cashloan"))
            .args(args)
            .env_clear()
            .env("CASHLOAN_LOG", "error")
            .output()
            .unwrap()
    };
    let e = run(&["des", "encrypt", "zhongkeborun"]);
    assert!(e.status.success());
    let wire = stdout(&e).trim().to_owned();
    assert!(wire.starts_with("t9xLwn19WXS+d7OVW9ocKw"), "{wire}");
    let d = run(&["des", "decrypt", &wire]);
    assert_eq!(stdout(&d).trim(), "zhongkeborun");
    assert!(!run(&["des", "decrypt", "not base64 !"]).status.success());
    for s in common::servers(&[]) {
        let ok = run(&[
            "call",
            "--url",
            &s.url,
            "/openCommonApi/getSystemMessage",
            r#"{"pageNum":1}"#,
        ]);
        assert!(ok.status.success(), "{}: {ok:?}", s.backend);
        assert!(
            stdout(&ok).contains("\"exceptionFlag\":\"0000\""),
            "{}",
            stdout(&ok)
        );
        // A refusal (the login-required centre, no session) is a failure of the command.
        let refused = run(&["call", "--url", &s.url, "/appCommonApi/getUserCenterInfo"]);
        assert!(!refused.status.success());
        assert!(
            stdout(&refused).contains("10000004"),
            "{}",
            stdout(&refused)
        );
        common::register(&s, "13709812611", "secret123");
        let login = common::login(&s, "13709812611", "secret123");
        let centre = run(&[
            "call",
            "--url",
            &s.url,
            "--session",
            &login,
            "/appCommonApi/getUserCenterInfo",
        ]);
        assert!(centre.status.success(), "{centre:?}");
    }
}

/// A writer beside the server on the same database (here a connection of the test's own, as an
/// operator's tool or another process would be): what it changes of a borrower's identity and
/// installments is what the server's next §27 shows, though the server held that borrower's
/// reads in its cache.
#[test]
fn a_change_made_beside_the_server_is_seen_by_its_next_read() {
    use diesel::RunQueryDsl;
    common::on_every_backend(&[], |s| {
        let mobile = "13709812631";
        let (session, _, _) = common::paid_out_loan(s, mobile, 3);
        let centre = || {
            let r = s.call("/appCommonApi/getUserCenterInfo", json!({}), Some(&session));
            assert_eq!(r.code(), "0000", "{}", r.text());
            r.result()
        };
        let before = centre();
        assert_eq!(centre(), before, "the second read is the cache's");
        let db = cashloan_persistence::Db::open(&s.db_url, 1).unwrap();
        let mut conn = db.dedicated().unwrap();
        let user = format!("(SELECT id FROM users WHERE mobile = '{mobile}')");
        for sql in [
            format!("UPDATE identities SET real_name = '李四' WHERE user_id = {user}"),
            format!(
                "UPDATE installments SET principal_cents = principal_cents + 100 WHERE user_id = {user}"
            ),
        ] {
            let n = match &mut conn {
                cashloan_persistence::DbConnection::Sqlite(c) => diesel::sql_query(&sql).execute(c),
                cashloan_persistence::DbConnection::Pg(c) => diesel::sql_query(&sql).execute(c),
            };
            assert_eq!(n.unwrap(), 1, "{sql}");
        }
        let after = centre();
        assert_eq!(after["realName"], "李四", "{after}");
        let cents = |v: &serde_json::Value| {
            let text = v["totalNeedPayAmount"].as_str().unwrap().replace('.', "");
            text.parse::<i64>().unwrap()
        };
        assert_eq!(cents(&after), cents(&before) + 100, "{before} → {after}");
    });
}
