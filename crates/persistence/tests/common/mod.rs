//! Shared by the repository test suites: run a test on every available backend.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use cashloan_persistence::Db;
use cashloan_test_support::fresh_databases;

/// Runs `test` once per backend (SQLite always, PostgreSQL when configured) on a fresh,
/// migrated database.
pub fn each_backend(test: impl Fn(&Db, &str)) {
    install_test_key();
    for fresh in fresh_databases() {
        let db = Db::open(&fresh.url, 20).unwrap_or_else(|e| panic!("{}: {e}", fresh.backend));
        test(&db, fresh.backend);
    }
}

/// The data key of the tests (personal data is sealed under it).
pub fn install_test_key() {
    let key = cashloan_persistence::sealed::DataKey::from_hex(&"5a".repeat(32)).unwrap();
    cashloan_persistence::sealed::install(key, None).unwrap();
}
