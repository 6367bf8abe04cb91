//! The loan book: applications and their lifecycle, repayment installments, the payment ledger
//! and customer messages.
//!
//! Every write that moves money or changes a status is one transaction whose first write is a
//! guarded update (`… WHERE id = ? AND status = ?`): of two concurrent requests one wins, and
//! the caller learns which. Partial unique indexes back the guards up in the database itself.

mod applications;
mod book;
mod installments;
mod ledger;
mod lifecycle;
mod messages;

pub use applications::*;
pub use book::*;
pub use installments::*;
pub use ledger::*;
pub use lifecycle::*;
pub use messages::*;

/// A page of a list: rows to skip and rows to take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    /// Rows to skip.
    pub offset: i64,
    /// Rows to take.
    pub limit: i64,
}
