//! The application lifecycle (docs/loans.md "Application lifecycle"): `applyStatus` and its only
//! allowed transitions, and what an approval may grant.

use crate::money::Money;
use crate::terms::Period;

/// Status of a loan application (借款状态, `applyStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ApplyStatus {
    /// 0 待审核: submitted.
    Submitted,
    /// 1 审核中: in review.
    InReview,
    /// 2 审核成功: approved.
    Approved,
    /// 3 审核拒绝: rejected.
    Rejected,
    /// 4 已放款: disbursed; the repayment plan exists.
    Disbursed,
    /// 5 已还完: settled.
    Settled,
}

/// What an operator or the book does to an application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoanAction {
    /// Start reviewing (0 → 1).
    Review,
    /// Approve (1 → 2).
    Approve,
    /// Reject (1 → 3).
    Reject,
    /// Pay out (2 → 4).
    Disburse,
    /// The last installment was paid (4 → 5).
    Settle,
}

/// A transition the lifecycle does not allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action:?} an application that is {from:?}")]
pub struct TransitionError {
    /// The status it was in.
    pub from: ApplyStatus,
    /// What was tried.
    pub action: LoanAction,
}

impl ApplyStatus {
    /// All statuses in code order.
    pub const ALL: [ApplyStatus; 6] = [
        ApplyStatus::Submitted,
        ApplyStatus::InReview,
        ApplyStatus::Approved,
        ApplyStatus::Rejected,
        ApplyStatus::Disbursed,
        ApplyStatus::Settled,
    ];

    /// The numeric code, 0..5.
    pub fn code(self) -> u8 {
        match self {
            ApplyStatus::Submitted => 0,
            ApplyStatus::InReview => 1,
            ApplyStatus::Approved => 2,
            ApplyStatus::Rejected => 3,
            ApplyStatus::Disbursed => 4,
            ApplyStatus::Settled => 5,
        }
    }

    /// The status of code `code`.
    pub fn from_code(code: i64) -> Option<ApplyStatus> {
        ApplyStatus::ALL
            .into_iter()
            .find(|s| i64::from(s.code()) == code)
    }

    /// The seed's label.
    pub fn label(self) -> &'static str {
        match self {
            ApplyStatus::Submitted => "待审核",
            ApplyStatus::InReview => "审核中",
            ApplyStatus::Approved => "审核成功",
            ApplyStatus::Rejected => "审核拒绝",
            ApplyStatus::Disbursed => "已放款",
            ApplyStatus::Settled => "已还完",
        }
    }

    /// The open statuses (0, 1, 2 and 4): a user may have at most one application in them.
    pub const OPEN: [ApplyStatus; 4] = [
        ApplyStatus::Submitted,
        ApplyStatus::InReview,
        ApplyStatus::Approved,
        ApplyStatus::Disbursed,
    ];

    /// The statuses of a loan whose money went out (4 and 5): they count against credit.
    pub const PAID_OUT: [ApplyStatus; 2] = [ApplyStatus::Disbursed, ApplyStatus::Settled];

    /// Whether the application is still open (0, 1, 2 or 4): a user may have at most one.
    pub fn is_open(self) -> bool {
        ApplyStatus::OPEN.contains(&self)
    }

    /// The status after `action`, if the lifecycle allows it.
    pub fn apply(self, action: LoanAction) -> Result<ApplyStatus, TransitionError> {
        if self == action.source() {
            Ok(action.target())
        } else {
            Err(TransitionError { from: self, action })
        }
    }
}

impl LoanAction {
    /// The one status `self` may leave: the guard of its `UPDATE … WHERE status = ?`.
    pub fn source(self) -> ApplyStatus {
        match self {
            LoanAction::Review => ApplyStatus::Submitted,
            LoanAction::Approve | LoanAction::Reject => ApplyStatus::InReview,
            LoanAction::Disburse => ApplyStatus::Approved,
            LoanAction::Settle => ApplyStatus::Disbursed,
        }
    }

    /// The status `self` leads to.
    pub fn target(self) -> ApplyStatus {
        match self {
            LoanAction::Review => ApplyStatus::InReview,
            LoanAction::Approve => ApplyStatus::Approved,
            LoanAction::Reject => ApplyStatus::Rejected,
            LoanAction::Disburse => ApplyStatus::Disbursed,
            LoanAction::Settle => ApplyStatus::Settled,
        }
    }
}

/// Why an approval (审核通过) cannot grant what the operator asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApprovalError {
    /// Nothing, or less than nothing.
    #[error("the approved amount must be positive")]
    AmountNotPositive,
    /// More than the borrower asked for.
    #[error("the approved amount may not exceed the amount applied for")]
    AmountAboveAsked,
    /// Another unit, or more of it, than the borrower asked for.
    #[error("the approved term may not exceed the term applied for")]
    TermAboveAsked,
}

/// An approval grants at most what was asked: no more money, the same term unit, no more of it.
pub fn check_approval(
    asked: Money,
    asked_term: Period,
    granted: Money,
    granted_term: Period,
) -> Result<(), ApprovalError> {
    if granted <= Money::ZERO {
        return Err(ApprovalError::AmountNotPositive);
    }
    if granted > asked {
        return Err(ApprovalError::AmountAboveAsked);
    }
    if granted_term.unit != asked_term.unit
        || granted_term.count > asked_term.count
        || granted_term.count == 0
    {
        return Err(ApprovalError::TermAboveAsked);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_happy_path() {
        let s = ApplyStatus::Submitted;
        let s = s.apply(LoanAction::Review).unwrap();
        let s = s.apply(LoanAction::Approve).unwrap();
        let s = s.apply(LoanAction::Disburse).unwrap();
        assert_eq!(s.apply(LoanAction::Settle), Ok(ApplyStatus::Settled));
        assert_eq!(
            ApplyStatus::InReview.apply(LoanAction::Reject),
            Ok(ApplyStatus::Rejected)
        );
    }

    #[test]
    fn exactly_five_transitions_are_allowed() {
        let actions = [
            LoanAction::Review,
            LoanAction::Approve,
            LoanAction::Reject,
            LoanAction::Disburse,
            LoanAction::Settle,
        ];
        let allowed = ApplyStatus::ALL
            .iter()
            .flat_map(|s| actions.iter().map(move |a| s.apply(*a)))
            .filter(Result::is_ok)
            .count();
        assert_eq!(allowed, 5);
        assert!(ApplyStatus::Rejected.apply(LoanAction::Disburse).is_err());
        assert!(ApplyStatus::Approved.apply(LoanAction::Approve).is_err());
        assert!(ApplyStatus::Submitted.apply(LoanAction::Approve).is_err());
    }

    #[test]
    fn an_approval_grants_at_most_what_was_asked() {
        let asked = Money::from_cents(100_000);
        let term = Period::months(12);
        assert_eq!(check_approval(asked, term, asked, term), Ok(()));
        assert_eq!(
            check_approval(asked, term, Money::from_cents(50_000), Period::months(6)),
            Ok(())
        );
        assert_eq!(
            check_approval(asked, term, Money::from_cents(100_001), term),
            Err(ApprovalError::AmountAboveAsked)
        );
        assert_eq!(
            check_approval(asked, term, Money::ZERO, term),
            Err(ApprovalError::AmountNotPositive)
        );
        assert_eq!(
            check_approval(asked, term, asked, Period::months(13)),
            Err(ApprovalError::TermAboveAsked)
        );
        assert_eq!(
            check_approval(asked, term, asked, Period::days(12)),
            Err(ApprovalError::TermAboveAsked)
        );
    }

    #[test]
    fn codes_round_trip_and_open_statuses() {
        for s in ApplyStatus::ALL {
            assert_eq!(ApplyStatus::from_code(i64::from(s.code())), Some(s));
        }
        assert_eq!(ApplyStatus::from_code(6), None);
        let open: Vec<u8> = ApplyStatus::ALL
            .iter()
            .filter(|s| s.is_open())
            .map(|s| s.code())
            .collect();
        assert_eq!(open, [0, 1, 2, 4]);
        let paid_out: Vec<u8> = ApplyStatus::PAID_OUT.iter().map(|s| s.code()).collect();
        assert_eq!(paid_out, [4, 5]);
    }
}
