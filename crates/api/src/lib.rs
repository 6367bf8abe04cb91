//! The cash-loan HTTP server: configuration, the protocol pipeline, one module per area of the
//! API, and the `cashloan` command's building blocks.

pub mod app;
pub mod channel;
pub mod client_address;
pub mod config;
pub mod console;
pub mod context;
pub mod housekeeping;
pub mod metrics;
pub mod openapi;
pub mod ops;
pub mod pages;
pub mod pipeline;
pub mod providers;
pub mod read_cache;
pub mod replay;
pub mod routes;
pub mod security;
pub mod usecases;

pub use cashloan_protocol as protocol;
