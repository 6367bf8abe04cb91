//! Helpers shared by the test suites: a fresh, empty database of each backend per test.
//!
//! SQLite runs always (a file in a temporary folder). PostgreSQL runs when
//! `CASHLOAN_TEST_PG_URL` names a server where the test user may create databases; each test gets
//! a database of its own, dropped when the test ends. `scripts/with-postgres.sh` starts such a
//! server for a command (`.ci/run` uses it).
#![allow(clippy::expect_used, clippy::panic)]

pub mod browser;
pub mod journeys;
pub mod server;

use std::sync::Once;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::Connection;

/// The variable naming the PostgreSQL server for tests.
pub const PG_URL_VAR: &str = "CASHLOAN_TEST_PG_URL";

/// A database made for one test; removed on drop.
pub struct FreshDb {
    /// The URL to give the code under test.
    pub url: String,
    /// Which backend: `"sqlite"` or `"postgres"`.
    pub backend: &'static str,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres {
        admin_url: String,
        name: String,
    },
    /// Another handle on a database someone else drops.
    Nothing,
}

impl FreshDb {
    /// The same database again, for a second server on it (several instances on one
    /// PostgreSQL); dropping it leaves the database to the first handle.
    pub fn same_database(&self) -> FreshDb {
        FreshDb {
            url: self.url.clone(),
            backend: self.backend,
            cleanup: Cleanup::Nothing,
        }
    }
}

impl Drop for FreshDb {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            if let Ok(mut c) = PgConnection::establish(admin_url) {
                let _ =
                    c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
            }
        }
    }
}

/// A fresh SQLite database file.
pub fn fresh_sqlite() -> FreshDb {
    let dir = tempfile::tempdir().expect("temporary folder");
    let url = format!("sqlite://{}", dir.path().join("cashloan.db").display());
    FreshDb {
        url,
        backend: "sqlite",
        cleanup: Cleanup::Sqlite(dir),
    }
}

/// A fresh PostgreSQL database, when `CASHLOAN_TEST_PG_URL` is set.
pub fn fresh_postgres() -> Option<FreshDb> {
    let admin_url = std::env::var(PG_URL_VAR).ok().filter(|u| !u.is_empty())?;
    let name = format!("cashloan_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::establish(&admin_url).unwrap_or_else(|e| {
        panic!("{PG_URL_VAR} is set but PostgreSQL refused the connection: {e}")
    });
    admin
        .batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .expect("create a test database");
    let url = replace_database(&admin_url, &name);
    Some(FreshDb {
        url,
        backend: "postgres",
        cleanup: Cleanup::Postgres { admin_url, name },
    })
}

/// `url` with its database name replaced by `name`.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// Set (by `scripts/with-postgres.sh`) when a missing PostgreSQL must fail the tests instead of
/// skipping them.
pub const REQUIRE_PG_VAR: &str = "CASHLOAN_TEST_REQUIRE_PG";

/// Every backend available here: SQLite always, PostgreSQL when configured. When the PostgreSQL
/// tests are skipped, each test binary says so once on the terminal; with
/// `CASHLOAN_TEST_REQUIRE_PG` set, a missing PostgreSQL is a failure instead.
pub fn fresh_databases() -> Vec<FreshDb> {
    let mut dbs = vec![fresh_sqlite()];
    match fresh_postgres() {
        Some(pg) => dbs.push(pg),
        None => {
            if std::env::var_os(REQUIRE_PG_VAR).is_some_and(|v| !v.is_empty()) {
                panic!("{REQUIRE_PG_VAR} is set but {PG_URL_VAR} is not: the PostgreSQL tests cannot run");
            }
            static SKIPPED: Once = Once::new();
            SKIPPED.call_once(say_postgres_skipped);
        }
    }
    dbs
}

/// One line straight to the terminal: the test harness captures `eprintln!` of passing tests, and
/// a skip nobody sees is a skip nobody fixes.
fn say_postgres_skipped() {
    use std::io::Write;
    let binary = std::env::args()
        .next()
        .and_then(|a| {
            std::path::Path::new(&a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_default();
    let binary = binary
        .rsplit_once('-')
        .map_or(binary.as_str(), |(name, _hash)| name);
    let _ = writeln!(
        std::io::stderr().lock(),
        "note: PostgreSQL tests SKIPPED in {binary} (SQLite only): set {PG_URL_VAR}=postgres://… \
         or run scripts/with-postgres.sh cargo test --workspace"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            replace_database("postgres://u:p@127.0.0.1:5433/postgres", "t1"),
            "postgres://u:p@127.0.0.1:5433/t1"
        );
        assert_eq!(
            replace_database("postgres://127.0.0.1:5433", "t1"),
            "postgres://127.0.0.1:5433/t1"
        );
        assert_eq!(
            replace_database("postgresql://h/db?sslmode=disable", "t1"),
            "postgresql://h/t1?sslmode=disable"
        );
    }
}
