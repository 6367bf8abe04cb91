//! Black-box: the `cashloan` command's subcommands and its shutdown, on every backend.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::{Command, Output};

use cashloan_test_support::fresh_databases;

fn cashloan(db_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cashloan"))
        .args(args)
        .env_clear()
        .env("CASHLOAN_DATABASE_URL", db_url)
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
            stdout(&first).starts_with("applied 1 migration(s)"),
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
        assert_eq!(lines.len(), 3, "one line per date");
        assert!(lines[0].starts_with("2026-03-01: looked at 0, marked overdue 0"));

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
fn the_server_stops_cleanly_on_sigterm() {
    for s in common::servers(&[]) {
        let pid = s.pid();
        let killed = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let backend = s.backend;
        assert_eq!(s.wait_exit(), Some(0), "{backend}: exit code after SIGTERM");
    }
}
