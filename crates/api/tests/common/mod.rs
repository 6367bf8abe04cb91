//! Helpers of the black-box suites: servers on every backend, and the journeys many tests need.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    dead_code,
    unused_imports
)]

use cashloan_test_support::fresh_databases;
pub use cashloan_test_support::journeys::*;
pub use cashloan_test_support::server::{id_card, now_ms, signed, Answer, TestServer, APP_KEY};
use serde_json::{json, Value};

/// One server per available backend (SQLite always, PostgreSQL when configured).
pub fn servers(env: &[(&str, &str)]) -> Vec<TestServer> {
    fresh_databases()
        .into_iter()
        .map(|db| TestServer::start(env!("CARGO_BIN_EXE_cashloan"), db, env))
        .collect()
}

/// Runs `test` against a fresh server on every backend.
pub fn on_every_backend(env: &[(&str, &str)], test: impl Fn(&TestServer)) {
    for s in servers(env) {
        test(&s);
    }
}
