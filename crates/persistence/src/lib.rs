//! The cash-loan data model on SQLite and PostgreSQL: the diesel schema, embedded migrations,
//! and repositories whose money-moving writes are guarded transactions.

pub mod accounts;
mod columns;
pub mod db;
pub mod demo;
pub mod digest;
pub mod loans;
pub mod login_guard;
pub mod payment_orders;
pub mod products;
pub mod profile;
pub mod schema;
pub mod sealed;
pub mod site;
pub mod verification;

pub use db::{migrate, write_transaction, Backend, Db, DbConnection, DbError, DbResult, PooledDb};
