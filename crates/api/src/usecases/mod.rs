//! The use cases: what a borrower, an operator or the clock does, one module each, with typed
//! input and output and the transaction boundary inside. HTTP handlers (the app API and the
//! admin API), the `cashloan` command and the daily job all call these same functions; a handler
//! only turns fields into the input and the output into its answer.
//!
//! Money crosses the payment channel's boundary one way only ([`settlement`]): the payment order
//! is committed first, the channel is called with no transaction and no pooled connection held,
//! and the order is settled with the answer in one short transaction.

pub mod apply;
pub mod authenticate_bank_card;
pub mod authenticate_identity;
pub mod authenticate_mobile;
pub mod contacts;
pub mod daily_job;
pub mod disburse;
pub mod feedback;
pub mod login;
pub mod passwords;
pub mod personal_info;
pub mod pricing;
pub mod reconcile;
pub mod register;
pub mod repay;
pub mod review;
pub mod settlement;
pub mod sms_codes;
