//! The quote of the application confirmation page (§22 获取申请确认页面信息): the plan the borrower
//! would owe if the loan were paid out on the start date, its totals and its APR.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::cap::{plan_within_cap, CapError, CappedPlan};
use crate::money::Money;
use crate::product::LoanProduct;
use crate::schedule::{PlanSpec, RepaymentPlan};
use crate::validate::{LoanTerms, TermsError};
use crate::LendingPolicy;

/// What §22 shows (plus the plan and APR, which the API adds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quote {
    /// 借贷金额: the principal.
    pub apply_amount: Money,
    /// 到账金额: what is paid out (principal less any upfront fee).
    pub reply_amount: Money,
    /// 应还总额.
    pub total_amount: Money,
    /// 总应还本金.
    pub total_due_principal: Money,
    /// 总应还利息.
    pub total_due_interest: Money,
    /// 总应还费用.
    pub total_due_fee: Money,
    /// 预计还款时间: due date of the last installment.
    pub repay_time: NaiveDate,
    /// 综合年化成本, four decimals.
    pub apr: Decimal,
    /// 还款计划.
    pub plan: RepaymentPlan,
}

/// The plan spec of validated `terms` on `product`, starting on `start`.
pub fn plan_spec(product: &LoanProduct, terms: &LoanTerms, start: NaiveDate) -> PlanSpec {
    PlanSpec {
        principal: terms.amount,
        annual_rate: terms.rate,
        term: terms.term,
        interval: terms.interval,
        repay_type: terms.repay_type,
        service_fee_rate: product.service_fee_rate,
        start,
    }
}

/// Quotes validated `terms` on `product` from `start`, refusing (step 3 of §22) a plan whose APR
/// exceeds the policy's cap. A plan the rules cannot make (an amount too small for its number of
/// periods) is refused as an interval not allowed.
pub fn quote(
    product: &LoanProduct,
    terms: &LoanTerms,
    start: NaiveDate,
    policy: &LendingPolicy,
) -> Result<Quote, TermsError> {
    let upfront = if policy.allow_upfront_fee {
        terms.amount.times(product.upfront_fee_rate.as_decimal())
    } else {
        Money::ZERO
    };
    let reply_amount = terms.amount - upfront;
    let CappedPlan { plan, apr, .. } = plan_within_cap(
        &plan_spec(product, terms, start),
        reply_amount,
        policy.apr_cap,
    )
    .map_err(|e| match e {
        CapError::AboveCap => TermsError::AprAboveCap,
        CapError::Plan(_) => TermsError::IntervalNotAllowed,
    })?;
    let repay_time = plan.last_due_date().ok_or(TermsError::IntervalNotAllowed)?;
    Ok(Quote {
        apply_amount: terms.amount,
        reply_amount,
        total_amount: plan.total(),
        total_due_principal: plan.total_principal(),
        total_due_interest: plan.total_interest(),
        total_due_fee: plan.total_fee(),
        repay_time,
        apr,
        plan,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Rate;
    use crate::product::tests::{instalment_loan, new_cash_loan};
    use crate::terms::RepayType;
    use crate::validate::{validate_terms, TermsRequest};
    use rust_decimal_macros::dec;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn quote_of_the_fourteen_day_example() {
        let p = new_cash_loan();
        let terms = validate_terms(
            &TermsRequest {
                amount: "500.00",
                interest_rate: "0.36",
                term_count: "14",
                term_unit: "1",
                repay_term_count: "14",
                repay_term_unit: "1",
                repay_type: "1",
            },
            &p,
        )
        .unwrap();
        let q = quote(&p, &terms, d(2017, 11, 29), &LendingPolicy::default()).unwrap();
        assert_eq!(q.apply_amount.to_string(), "500.00");
        assert_eq!(q.reply_amount.to_string(), "500.00");
        assert_eq!(q.total_due_interest.to_string(), "7.00");
        assert_eq!(q.total_due_fee.to_string(), "0.00");
        assert_eq!(q.total_amount.to_string(), "507.00");
        assert_eq!(q.repay_time, d(2017, 12, 13));
        assert_eq!(q.apr.to_string(), "0.3600");
    }

    #[test]
    fn api_md_illustrative_three_day_quote() {
        // docs/api.md §22: 5000.00 × 0.12 × 3 / 360 = 5.00, due 2017-11-24, apr 0.1200.
        let mut p = new_cash_loan();
        p.rate_limit = crate::product::Limit::Fixed(vec![Rate::new(dec!(0.12))]);
        p.days_limit = Some(crate::product::Limit::Range { min: 1, max: 30 });
        let terms = validate_terms(
            &TermsRequest {
                amount: "5000.00",
                interest_rate: "0.12",
                term_count: "3",
                term_unit: "01",
                repay_term_count: "1",
                repay_term_unit: "01",
                repay_type: "01",
            },
            &p,
        )
        .unwrap();
        let q = quote(&p, &terms, d(2017, 11, 21), &LendingPolicy::default()).unwrap();
        assert_eq!(q.total_due_interest.to_string(), "5.00");
        assert_eq!(q.total_amount.to_string(), "5005.00");
        assert_eq!(q.repay_time, d(2017, 11, 24));
        assert_eq!(q.apr.to_string(), "0.1200");
    }

    #[test]
    fn a_plan_above_the_cap_is_refused() {
        let p = instalment_loan(dec!(0.36), vec![RepayType::Flat]);
        let terms = validate_terms(
            &TermsRequest {
                amount: "12000",
                interest_rate: "0.36",
                term_count: "12",
                term_unit: "2",
                repay_term_count: "1",
                repay_term_unit: "2",
                repay_type: "4",
            },
            &p,
        )
        .unwrap();
        assert_eq!(
            quote(&p, &terms, d(2026, 1, 1), &LendingPolicy::default()),
            Err(TermsError::AprAboveCap)
        );
        let generous = LendingPolicy {
            apr_cap: dec!(1),
            ..LendingPolicy::default()
        };
        assert!(quote(&p, &terms, d(2026, 1, 1), &generous).is_ok());
    }
}
