//! The loan domain of the cash-loan app (docs/loans.md): money and rates, products and their limits,
//! validation of loan terms (20004xxx), the four repayment schedules, APR, penalties, payoff,
//! the application lifecycle, message types and identity formats.
//!
//! No I/O, no database, no web framework, no clock: time comes in as a business date.

pub mod apr;
pub mod cap;
pub mod day;
pub mod eligibility;
pub mod identity;
pub mod lifecycle;
pub mod mask;
pub mod message;
pub mod money;
pub mod payoff;
pub mod penalty;
pub mod product;
pub mod quote;
pub mod schedule;
pub mod terms;
pub mod validate;

use rust_decimal::Decimal;

pub use apr::apr;
pub use cap::{exact_apr, plan_within_cap, CapError, CappedPlan};
pub use day::{format_day, parse_day, DAY_FORMAT};
pub use eligibility::Authentications;
pub use identity::{BankCardNo, ContactPhone, IdCardNo, Mobile, PersonName};
pub use lifecycle::{check_approval, ApplyStatus, ApprovalError, LoanAction, TransitionError};
pub use message::MessageType;
pub use money::{Money, Rate, Rounding};
pub use payoff::{installment_due, payable_in_order, payoff, Charge, Standing};
pub use penalty::penalty;
pub use product::{Limit, LimitPartMissing, LoanProduct, ProductError, LIMIT_FIXED, LIMIT_RANGE};
pub use quote::{quote, Quote};
pub use schedule::{
    build_plan, build_plan_rounded, Installment, PlanError, PlanSpec, RepayStatus, RepaymentPlan,
};
pub use terms::{Period, RepayType, TermUnit};
pub use validate::{
    available_credit, check_credit, validate_terms, LoanTerms, TermsError, TermsRequest,
};

/// The lender's rules that products and quotes are checked against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LendingPolicy {
    /// Highest APR a loan may cost (default 0.36, the 2017 notice's ceiling).
    pub apr_cap: Decimal,
    /// Whether products may deduct a fee from the money paid out (砍头息); off by default.
    pub allow_upfront_fee: bool,
}

impl Default for LendingPolicy {
    fn default() -> Self {
        Self {
            apr_cap: Decimal::new(36, 2),
            allow_upfront_fee: false,
        }
    }
}
