//! The cash-loan HTTP server (issue #5 builds it on actix-web) and the `cashloan` command.

pub use cashloan_protocol as protocol;
