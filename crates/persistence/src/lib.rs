//! The cash-loan data model on SQLite and PostgreSQL (issue #4 fills this crate): diesel schema,
//! embedded migrations, repositories whose money-moving writes are guarded transactions.
//!
//! Until then it only re-exports the domain crate it will persist.

pub use cashloan_domain as domain;
