//! The plan a borrower can be offered under the APR cap (docs/loans.md "The true annual cost"):
//! cent rounding never refuses a loan that the exact arithmetic allows.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::apr::{annualise, apr};
use crate::money::{Money, Rounding};
use crate::product::ideal_irr;
use crate::schedule::{build_plan_rounded, PlanError, PlanSpec, RepaymentPlan};
use crate::terms::{RepayType, TermUnit};

/// A plan within the cap, with its disclosed APR and how its interest was rounded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CappedPlan {
    /// The plan.
    pub plan: RepaymentPlan,
    /// Its APR, four decimals, at most the cap.
    pub apr: Decimal,
    /// Half up, or down where half up alone would cross the cap.
    pub rounding: Rounding,
}

/// Why no plan can be offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CapError {
    /// The rules cannot make a plan of these terms.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The loan costs more than the cap even before any rounding (`20004003`).
    #[error("the loan's annual cost is above the cap")]
    AboveCap,
}

/// The APR of `spec`'s cash flows before any cent rounding, for a borrower paid `paid_out`.
pub fn exact_apr(spec: &PlanSpec, paid_out: Money) -> Decimal {
    let to_f64 = |d: Decimal| d.to_f64().unwrap_or(0.0);
    let p = to_f64(spec.principal.as_decimal());
    if p <= 0.0 {
        return Decimal::ZERO;
    }
    let (period, n) = if spec.repay_type == RepayType::Bullet {
        (spec.term, 1)
    } else {
        match spec.term.count.checked_div(spec.interval.count) {
            Some(n) => (spec.interval, n),
            None => return Decimal::ZERO,
        }
    };
    let basis = match period.unit {
        TermUnit::Day => 360.0,
        TermUnit::Month => 12.0,
    };
    let i = to_f64(spec.annual_rate.as_decimal()) * f64::from(period.count) / basis;
    let f = to_f64(spec.service_fee_rate.as_decimal());
    let x = ideal_irr(spec.repay_type, n, i, f, to_f64(paid_out.as_decimal()) / p);
    annualise(x, period.per_year())
}

/// The plan of `spec` for a borrower paid `paid_out`, under `cap`: the rule's half-up plan when
/// its disclosed APR is within the cap; else, when the exact cash flows are within it, the plan
/// with every interest rounded toward the borrower; else refused.
pub fn plan_within_cap(
    spec: &PlanSpec,
    paid_out: Money,
    cap: Decimal,
) -> Result<CappedPlan, CapError> {
    let plan = build_plan_rounded(spec, Rounding::HalfUp)?;
    let disclosed = apr(paid_out, &plan);
    if disclosed <= cap {
        return Ok(CappedPlan {
            plan,
            apr: disclosed,
            rounding: Rounding::HalfUp,
        });
    }
    if exact_apr(spec, paid_out) > cap {
        return Err(CapError::AboveCap);
    }
    let plan = build_plan_rounded(spec, Rounding::Down)?;
    let disclosed = apr(paid_out, &plan);
    if disclosed > cap {
        return Err(CapError::AboveCap);
    }
    Ok(CappedPlan {
        plan,
        apr: disclosed,
        rounding: Rounding::Down,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Rate;
    use crate::terms::Period;
    use chrono::NaiveDate;
    use rust_decimal_macros::dec;

    fn spec(cents: i64, r: Decimal, term: Period, t: RepayType) -> PlanSpec {
        PlanSpec {
            principal: Money::from_cents(cents),
            annual_rate: Rate::new(r),
            term,
            interval: if t == RepayType::Bullet {
                term
            } else {
                Period::months(1)
            },
            repay_type: t,
            service_fee_rate: Rate::ZERO,
            start: NaiveDate::from_ymd_opt(2026, 1, 31).unwrap(),
        }
    }

    #[test]
    fn the_worked_example_rounds_toward_the_borrower() {
        // 2,918.00 for 7 days at 0.36: 20.426 → 20.43 discloses 0.3601; 20.42 discloses 0.3599.
        let s = spec(291_800, dec!(0.36), Period::days(7), RepayType::Bullet);
        let half_up = build_plan_rounded(&s, Rounding::HalfUp).unwrap();
        assert_eq!(half_up.installments[0].interest.to_string(), "20.43");
        assert_eq!(apr(s.principal, &half_up), dec!(0.3601));
        let capped = plan_within_cap(&s, s.principal, dec!(0.36)).unwrap();
        assert_eq!(capped.rounding, Rounding::Down);
        assert_eq!(capped.plan.installments[0].interest.to_string(), "20.42");
        assert_eq!(capped.apr, dec!(0.3599));
    }

    #[test]
    fn within_the_cap_the_rule_rounds_half_up() {
        // 500.00 for 14 days at 0.36 = 7.00 exactly.
        let s = spec(50_000, dec!(0.36), Period::days(14), RepayType::Bullet);
        let capped = plan_within_cap(&s, s.principal, dec!(0.36)).unwrap();
        assert_eq!(
            (capped.rounding, capped.apr),
            (Rounding::HalfUp, dec!(0.3600))
        );
        // 501.00 for 7 days: 3.507 → 3.51 would disclose 0.3603; 3.50 is offered.
        let s = spec(50_100, dec!(0.36), Period::days(7), RepayType::Bullet);
        let capped = plan_within_cap(&s, s.principal, dec!(0.36)).unwrap();
        assert_eq!(capped.plan.installments[0].interest.to_string(), "3.50");
        assert!(capped.apr <= dec!(0.36));
    }

    #[test]
    fn a_loan_above_the_cap_before_rounding_is_refused() {
        let s = spec(100_000, dec!(0.37), Period::days(14), RepayType::Bullet);
        assert_eq!(
            plan_within_cap(&s, s.principal, dec!(0.36)),
            Err(CapError::AboveCap)
        );
        // A flat loan at 24 % costs about 43 % a year.
        let s = spec(1_200_000, dec!(0.24), Period::months(12), RepayType::Flat);
        assert_eq!(
            plan_within_cap(&s, s.principal, dec!(0.36)),
            Err(CapError::AboveCap)
        );
        assert!(exact_apr(&s, s.principal) > dec!(0.40));
    }

    #[test]
    fn the_exact_apr_of_a_fee_free_annuity_is_its_rate() {
        let s = spec(
            1_000_000,
            dec!(0.18),
            Period::months(12),
            RepayType::Annuity,
        );
        assert_eq!(exact_apr(&s, s.principal), dec!(0.1800));
    }
}
