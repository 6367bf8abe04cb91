//! The comprehensive annualised cost (综合年化成本) of a plan (docs/loans.md "Cost disclosure and cap").
//!
//! The APR is the IRR of the borrower's cash flows (+ the amount paid out at the start, − each
//! installment at its due date), solved per period and annualised nominally (× periods per
//! year). It is a disclosure figure shown to four decimals, so it is solved in `f64`; money never is.

use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::{Decimal, RoundingStrategy};

use crate::money::Money;
use crate::schedule::RepaymentPlan;

/// The per-period internal rate of return `x` of receiving `paid_out` now and paying `flows[k-1]`
/// at the end of period k: `paid_out = Σ flows[k-1] / (1+x)^k`. Negative costs (flows that add
/// up to less than was paid out) give 0, as the cost of a loan is never shown below zero.
pub fn irr_per_period(paid_out: f64, flows: &[f64]) -> f64 {
    let npv = |x: f64| -> (f64, f64) {
        // Value and derivative of Σ c_k v^k − paid_out, v = 1/(1+x).
        let v = 1.0 / (1.0 + x);
        let (mut vk, mut f, mut df) = (1.0, -paid_out, 0.0);
        for (k, c) in (1..).zip(flows) {
            vk *= v;
            f += c * vk;
            df -= f64::from(k) * c * vk * v;
        }
        (f, df)
    };
    if paid_out.is_nan() || paid_out <= 0.0 || flows.is_empty() || npv(0.0).0 <= 0.0 {
        return 0.0;
    }
    // npv is strictly decreasing in x: bracket the root, then Newton steps kept inside the
    // bracket (bisecting whenever a step would leave it).
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    while npv(hi).0 > 0.0 {
        lo = hi;
        hi *= 2.0;
        if hi > 1e9 {
            return hi;
        }
    }
    let mut x = (lo + hi) / 2.0;
    for _ in 0..200 {
        let (f, df) = npv(x);
        if f > 0.0 {
            lo = x;
        } else {
            hi = x;
        }
        let newton = if df < 0.0 { x - f / df } else { f64::NAN };
        let next = if newton > lo && newton < hi {
            newton
        } else {
            (lo + hi) / 2.0
        };
        if (next - x).abs() <= 1e-15 * x.abs().max(1e-12) {
            return next;
        }
        x = next;
    }
    x
}

/// The APR of `plan` for a borrower who received `paid_out`, rounded half away from zero to
/// four decimals.
pub fn apr(paid_out: Money, plan: &RepaymentPlan) -> Decimal {
    let flows: Vec<f64> = plan
        .installments
        .iter()
        .map(|i| i.total().as_decimal().to_f64().unwrap_or(0.0))
        .collect();
    let x = irr_per_period(paid_out.as_decimal().to_f64().unwrap_or(0.0), &flows);
    annualise(x, plan.period.per_year())
}

/// `x × periods_per_year`, as a four-decimal rate.
pub fn annualise(per_period: f64, periods_per_year: f64) -> Decimal {
    let annual = per_period * periods_per_year;
    let mut d = Decimal::from_f64(annual)
        .unwrap_or(Decimal::MAX)
        .round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero);
    d.rescale(4);
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Rate;
    use crate::schedule::{build_plan, PlanSpec};
    use crate::terms::{Period, RepayType};
    use chrono::NaiveDate;
    use rust_decimal_macros::dec;

    fn plan(p: &str, r: Decimal, term: Period, iv: Period, t: RepayType) -> RepaymentPlan {
        build_plan(&PlanSpec {
            principal: Money::parse_amount(p).unwrap(),
            annual_rate: Rate::new(r),
            term,
            interval: iv,
            repay_type: t,
            service_fee_rate: Rate::ZERO,
            start: NaiveDate::from_ymd_opt(2026, 1, 31).unwrap(),
        })
        .unwrap()
    }

    #[test]
    fn annuity_apr_is_the_nominal_rate() {
        let pl = plan(
            "10000.00",
            dec!(0.12),
            Period::months(12),
            Period::months(1),
            RepayType::Annuity,
        );
        assert_eq!(
            apr(Money::parse_amount("10000.00").unwrap(), &pl).to_string(),
            "0.1200"
        );
    }

    #[test]
    fn flat_twelve_months_at_twelve_percent_costs_about_21_46_percent() {
        let pl = plan(
            "12000.00",
            dec!(0.12),
            Period::months(12),
            Period::months(1),
            RepayType::Flat,
        );
        assert_eq!(
            apr(Money::parse_amount("12000.00").unwrap(), &pl).to_string(),
            "0.2146"
        );
    }

    #[test]
    fn single_period_is_simple_interest() {
        let pl = plan(
            "500.00",
            dec!(0.36),
            Period::days(14),
            Period::days(14),
            RepayType::Bullet,
        );
        assert_eq!(
            apr(Money::parse_amount("500.00").unwrap(), &pl).to_string(),
            "0.3600"
        );
        let pl = plan(
            "5000.00",
            dec!(0.12),
            Period::months(3),
            Period::months(1),
            RepayType::Bullet,
        );
        assert_eq!(
            apr(Money::parse_amount("5000.00").unwrap(), &pl).to_string(),
            "0.1200"
        );
    }

    #[test]
    fn interest_only_apr_is_the_nominal_rate() {
        let pl = plan(
            "3000.00",
            dec!(0.18),
            Period::months(6),
            Period::months(1),
            RepayType::InterestOnly,
        );
        assert_eq!(
            apr(Money::parse_amount("3000.00").unwrap(), &pl).to_string(),
            "0.1800"
        );
    }

    #[test]
    fn an_upfront_deduction_raises_the_apr() {
        let pl = plan(
            "5000.00",
            dec!(0.12),
            Period::days(3),
            Period::days(3),
            RepayType::Bullet,
        );
        // 5005.00 back for 4500.00 paid out over 3 days.
        let a = apr(Money::parse_amount("4500.00").unwrap(), &pl);
        assert_eq!(a, annualise(5005.0 / 4500.0 - 1.0, 120.0));
        assert!(a > dec!(13));
    }

    #[test]
    fn irr_edge_cases() {
        assert_eq!(irr_per_period(100.0, &[]), 0.0);
        assert_eq!(irr_per_period(100.0, &[50.0, 50.0]), 0.0);
        assert_eq!(irr_per_period(100.0, &[40.0, 40.0]), 0.0);
        assert_eq!(irr_per_period(0.0, &[1.0]), 0.0);
        let x = irr_per_period(100.0, &[110.0]);
        assert!((x - 0.1).abs() < 1e-12);
        // A huge cost still converges to the true root.
        let x = irr_per_period(1.0, &[1000.0]);
        assert!((x - 999.0).abs() < 1e-6);
    }
}
