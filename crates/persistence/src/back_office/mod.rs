//! The back office (后台): operators and their sessions, the append-only audit trail, proposals
//! that a second operator confirms (maker-checker), and collection work.

pub mod audit;
pub mod collection;
pub mod dashboard;
pub mod operators;
pub mod proposals;

pub use audit::{AuditEvent, AuditFilter, NewAuditEvent};
pub use operators::{Operator, OperatorSession, Role, SignIn, SignInLimits};
pub use proposals::{Decision, Proposal, ProposalKind, ProposalStatus, Proposed, ProposedReceipt};
