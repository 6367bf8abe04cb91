//! The cash-loan data model on SQLite and PostgreSQL: the diesel schema, embedded migrations,
//! and repositories whose money-moving writes are guarded transactions.

/// Runs `$body` on the backend's own connection, bound to `$c`: one query, written once,
/// compiled for each backend. The `MultiConnection` writes a query's SQL again at every step
/// (to decide whether it may be cached, then to bind it), which cost a tenth of a request on the
/// hot path; the backend's own connection finds its prepared statement by type. Used where a
/// query runs on every request (docs/performance.md).
macro_rules! per_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite($c) => $body,
            $crate::db::DbConnection::Pg($c) => $body,
        }
    };
}

pub mod accounts;
pub mod back_office;
mod cached;
mod columns;
pub mod db;
pub mod demo;
pub mod digest;
mod group_commit;
pub mod loans;
pub mod login_guard;
pub mod payment_orders;
pub mod products;
pub mod profile;
pub mod schema;
pub mod sealed;
pub mod site;
pub mod verification;

pub use db::{
    migrate, write_transaction, write_transaction_alone, Backend, Db, DbConnection, DbError,
    DbResult, PooledDb,
};
