//! Repayment plans (还款计划) for the four repay types (docs/loans.md "The four repay types").

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::money::{Money, Rate, Rounding};
use crate::terms::{Period, RepayType};

/// Most installments one plan may have; the term and interval formats (4 digits each) allow no more.
pub const MAX_PERIODS: u32 = 9999;

/// Whether an installment is paid (还款状态, `repayStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RepayStatus {
    /// 0 未还.
    Unpaid,
    /// 1 已还.
    Paid,
}

impl RepayStatus {
    /// The code, as stored and as §26 sends it.
    pub const fn code(self) -> u8 {
        match self {
            RepayStatus::Unpaid => 0,
            RepayStatus::Paid => 1,
        }
    }
}

/// One installment (每期还款) of a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Installment {
    /// Period number (期数), from 1.
    pub period: u32,
    /// First day of the period: the disbursement date or the previous due date.
    pub start_date: NaiveDate,
    /// Due date (应还日期); payable until 23:59:59 of that day.
    pub due_date: NaiveDate,
    /// Principal (应还本金).
    pub principal: Money,
    /// Interest (应还利息).
    pub interest: Money,
    /// Service fee (每期费用).
    pub fee: Money,
}

impl Installment {
    /// Principal + interest + fee (应还总额), penalties aside.
    pub fn total(&self) -> Money {
        self.principal + self.interest + self.fee
    }
}

/// What a plan is made from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlanSpec {
    /// Principal P.
    pub principal: Money,
    /// Annual nominal rate r.
    pub annual_rate: Rate,
    /// Loan term.
    pub term: Period,
    /// Repayment interval (ignored by the bullet type, which has one installment at term end).
    pub interval: Period,
    /// Repay type.
    pub repay_type: RepayType,
    /// Service fee per period as a fraction of P (0 for none).
    pub service_fee_rate: Rate,
    /// Disbursement date (for a quote: today's business date).
    pub start: NaiveDate,
}

/// Why no plan can be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The principal is not positive.
    #[error("the principal must be positive")]
    NonPositivePrincipal,
    /// Term and interval use different units.
    #[error("term and repayment interval must use the same unit")]
    UnitMismatch,
    /// The interval is zero, longer than the term, or does not divide it.
    #[error("the repayment interval must divide the term")]
    IntervalDoesNotDivide,
    /// The annuity type needs month periods.
    #[error("equal installments (等额本息) need a month term")]
    AnnuityNeedsMonths,
    /// More than [`MAX_PERIODS`] installments, or arithmetic beyond range.
    #[error("too many periods")]
    TooManyPeriods,
    /// The rule's cent rounding would make a component negative (an amount far too small for
    /// its number of periods).
    #[error("the amount is too small for this many periods")]
    AmountTooSmall,
    /// A due date beyond the calendar.
    #[error("a due date is out of range")]
    DateOutOfRange,
}

/// A whole plan: the installments in period order, and the length of one period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepaymentPlan {
    /// The installments, period 1 first.
    pub installments: Vec<Installment>,
    /// The length of one period (the whole term for a bullet loan): the basis of the APR.
    pub period: Period,
}

impl RepaymentPlan {
    /// Sum of principals (always P).
    pub fn total_principal(&self) -> Money {
        self.installments.iter().map(|i| i.principal).sum()
    }

    /// Sum of interest.
    pub fn total_interest(&self) -> Money {
        self.installments.iter().map(|i| i.interest).sum()
    }

    /// Sum of fees.
    pub fn total_fee(&self) -> Money {
        self.installments.iter().map(|i| i.fee).sum()
    }

    /// Everything owed: principal + interest + fees.
    pub fn total(&self) -> Money {
        self.installments.iter().map(Installment::total).sum()
    }

    /// Due date of the last installment (预计还款时间).
    pub fn last_due_date(&self) -> Option<NaiveDate> {
        self.installments.last().map(|i| i.due_date)
    }
}

/// Builds the plan of `spec` exactly as docs/loans.md says, interest rounded half up.
pub fn build_plan(spec: &PlanSpec) -> Result<RepaymentPlan, PlanError> {
    build_plan_rounded(spec, Rounding::HalfUp)
}

/// Builds the plan of `spec` with every interest (and an annuity's payment) rounded as
/// `rounding` says: half up by the rule, down (toward the borrower) where half up alone would
/// lift the cost above the cap ([`crate::cap::plan_within_cap`]).
pub fn build_plan_rounded(spec: &PlanSpec, rounding: Rounding) -> Result<RepaymentPlan, PlanError> {
    let p = spec.principal;
    if p.is_negative() || p.is_zero() {
        return Err(PlanError::NonPositivePrincipal);
    }
    let fee = p.times(spec.service_fee_rate.as_decimal());

    if spec.repay_type == RepayType::Bullet {
        let due = spec
            .term
            .after(spec.start, 1)
            .ok_or(PlanError::DateOutOfRange)?;
        let interest = spec.term.interest_on(p, spec.annual_rate, rounding);
        return Ok(RepaymentPlan {
            installments: vec![Installment {
                period: 1,
                start_date: spec.start,
                due_date: due,
                principal: p,
                interest,
                fee,
            }],
            period: spec.term,
        });
    }

    let n = period_count(spec)?;
    let interest_on = |amount: Money| {
        spec.interval
            .interest_on(amount, spec.annual_rate, rounding)
    };
    let mut parts: Vec<(Money, Money)> = Vec::with_capacity(n as usize);
    match spec.repay_type {
        RepayType::Bullet => {}
        RepayType::InterestOnly => {
            let interest = interest_on(p);
            parts.extend((1..n).map(|_| (Money::ZERO, interest)));
            parts.push((p, interest));
        }
        RepayType::Annuity => {
            let i = spec.interval.rate(spec.annual_rate);
            annuity(p, i, n, rounding, &interest_on, &mut parts)?;
        }
        RepayType::Flat => {
            let each = Money::round(p.as_decimal() / Decimal::from(n));
            if each.is_zero() {
                return Err(PlanError::AmountTooSmall);
            }
            let interest = interest_on(p);
            parts.extend((1..n).map(|_| (each, interest)));
            let paid_before = Money::round(each.as_decimal() * Decimal::from(n - 1));
            let last = p - paid_before;
            if last.is_negative() {
                return Err(PlanError::AmountTooSmall);
            }
            parts.push((last, interest));
        }
    }

    let mut installments = Vec::with_capacity(parts.len());
    let mut start_date = spec.start;
    for (k, (principal, interest)) in (1..).zip(parts) {
        let due_date = spec
            .interval
            .after(spec.start, k)
            .ok_or(PlanError::DateOutOfRange)?;
        installments.push(Installment {
            period: k,
            start_date,
            due_date,
            principal,
            interest,
            fee,
        });
        start_date = due_date;
    }
    Ok(RepaymentPlan {
        installments,
        period: spec.interval,
    })
}

/// Number of installments of a periodic (non-bullet) plan: term / interval, which must divide.
fn period_count(spec: &PlanSpec) -> Result<u32, PlanError> {
    if spec.term.unit != spec.interval.unit {
        return Err(PlanError::UnitMismatch);
    }
    if spec.repay_type == RepayType::Annuity && spec.term.unit != crate::terms::TermUnit::Month {
        return Err(PlanError::AnnuityNeedsMonths);
    }
    let (t, iv) = (spec.term.count, spec.interval.count);
    if iv == 0 || t == 0 || iv > t || t % iv != 0 {
        return Err(PlanError::IntervalDoesNotDivide);
    }
    let n = t / iv;
    if n > MAX_PERIODS {
        return Err(PlanError::TooManyPeriods);
    }
    Ok(n)
}

/// 等额本息: A = P·i·(1+i)^n / ((1+i)^n − 1) (P/n when i = 0); period k's interest is
/// round(outstanding × i), its principal round(A) − interest; the last period takes what remains.
fn annuity(
    p: Money,
    i: Decimal,
    n: u32,
    rounding: Rounding,
    interest_on: &dyn Fn(Money) -> Money,
    parts: &mut Vec<(Money, Money)>,
) -> Result<(), PlanError> {
    let pd = p.as_decimal();
    let payment = if i.is_zero() {
        Money::round(pd / Decimal::from(n))
    } else {
        let growth = Decimal::ONE + i;
        let mut q = Decimal::ONE;
        for _ in 0..n {
            q = q.checked_mul(growth).ok_or(PlanError::TooManyPeriods)?;
        }
        let numerator = pd
            .checked_mul(i)
            .and_then(|x| x.checked_mul(q))
            .ok_or(PlanError::TooManyPeriods)?;
        let a = numerator
            .checked_div(q - Decimal::ONE)
            .ok_or(PlanError::TooManyPeriods)?;
        Money::round_with(a, rounding)
    };
    let mut outstanding = p;
    for k in 1..=n {
        let interest = interest_on(outstanding);
        let principal = if k == n {
            outstanding
        } else {
            payment - interest
        };
        if principal.is_negative() || principal > outstanding {
            return Err(PlanError::AmountTooSmall);
        }
        outstanding = outstanding - principal;
        parts.push((principal, interest));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn money(s: &str) -> Money {
        Money::parse_amount(s).unwrap()
    }

    fn spec(p: &str, r: Rate, term: Period, interval: Period, t: RepayType) -> PlanSpec {
        PlanSpec {
            principal: money(p),
            annual_rate: r,
            term,
            interval,
            repay_type: t,
            service_fee_rate: Rate::ZERO,
            start: d(2026, 1, 31),
        }
    }

    #[test]
    fn exact_half_cents_round_up_in_every_type() {
        // 24,750.00 × 0.0799 × 4 / 12 = 659.175: the period rate is never divided first.
        let mut s = spec(
            "24750.00",
            Rate::new(dec!(0.0799)),
            Period::months(12),
            Period::months(4),
            RepayType::InterestOnly,
        );
        let plan = build_plan(&s).unwrap();
        assert!(plan
            .installments
            .iter()
            .all(|i| i.interest.to_string() == "659.18"));
        s.repay_type = RepayType::Flat;
        assert_eq!(
            build_plan(&s).unwrap().installments[0].interest.to_string(),
            "659.18"
        );
        s.repay_type = RepayType::Bullet;
        s.term = Period::months(4);
        s.interval = Period::months(4);
        assert_eq!(
            build_plan(&s).unwrap().installments[0].interest.to_string(),
            "659.18"
        );
        // Down rounds toward the borrower.
        assert_eq!(
            build_plan_rounded(&s, Rounding::Down).unwrap().installments[0]
                .interest
                .to_string(),
            "659.17"
        );
    }

    #[test]
    fn worked_example_bullet_14_days() {
        // docs/loans.md: 500 × 0.36 × 14 / 360 = 7.00.
        let mut s = spec(
            "500.00",
            Rate::new(dec!(0.36)),
            Period::days(14),
            Period::days(14),
            RepayType::Bullet,
        );
        s.start = d(2017, 11, 29);
        let plan = build_plan(&s).unwrap();
        assert_eq!(plan.installments.len(), 1);
        let i = plan.installments[0];
        assert_eq!(i.interest.to_string(), "7.00");
        assert_eq!(i.total().to_string(), "507.00");
        assert_eq!(i.due_date, d(2017, 12, 13));
    }

    #[test]
    fn worked_example_annuity_12_months_from_january_31() {
        let plan = build_plan(&spec(
            "10000.00",
            Rate::new(dec!(0.12)),
            Period::months(12),
            Period::months(1),
            RepayType::Annuity,
        ))
        .unwrap();
        let inst = &plan.installments;
        assert_eq!(inst.len(), 12);
        for i in &inst[..11] {
            assert_eq!(i.total().to_string(), "888.49", "period {}", i.period);
        }
        assert_eq!(inst[0].principal.to_string(), "788.49");
        assert_eq!(inst[0].interest.to_string(), "100.00");
        assert_eq!(inst[11].total().to_string(), "888.47");
        assert_eq!(inst[11].principal.to_string(), "879.67");
        assert_eq!(inst[11].interest.to_string(), "8.80");
        let dues: Vec<NaiveDate> = inst.iter().map(|i| i.due_date).collect();
        assert_eq!(dues[0], d(2026, 2, 28));
        assert_eq!(dues[1], d(2026, 3, 31));
        assert_eq!(dues[2], d(2026, 4, 30));
        assert_eq!(dues[11], d(2027, 1, 31));
        assert_eq!(inst[1].start_date, d(2026, 2, 28));
        assert_eq!(plan.total_interest().to_string(), "661.86");
        assert_eq!(plan.total_principal().to_string(), "10000.00");
    }

    #[test]
    fn worked_example_flat_12_months() {
        let plan = build_plan(&spec(
            "12000.00",
            Rate::new(dec!(0.12)),
            Period::months(12),
            Period::months(1),
            RepayType::Flat,
        ))
        .unwrap();
        for i in &plan.installments {
            assert_eq!(i.principal.to_string(), "1000.00");
            assert_eq!(i.interest.to_string(), "120.00");
        }
    }

    #[test]
    fn interest_only_pays_principal_last() {
        let plan = build_plan(&spec(
            "3000.00",
            Rate::new(dec!(0.18)),
            Period::months(3),
            Period::months(1),
            RepayType::InterestOnly,
        ))
        .unwrap();
        let p: Vec<String> = plan
            .installments
            .iter()
            .map(|i| format!("{}+{}", i.principal, i.interest))
            .collect();
        assert_eq!(p, ["0.00+45.00", "0.00+45.00", "3000.00+45.00"]);
    }

    #[test]
    fn flat_last_period_takes_the_remainder() {
        let plan = build_plan(&spec(
            "1000.00",
            Rate::new(dec!(0.12)),
            Period::months(3),
            Period::months(1),
            RepayType::Flat,
        ))
        .unwrap();
        let p: Vec<String> = plan
            .installments
            .iter()
            .map(|i| i.principal.to_string())
            .collect();
        assert_eq!(p, ["333.33", "333.33", "333.34"]);
    }

    #[test]
    fn bullet_over_months_ignores_the_interval() {
        let plan = build_plan(&spec(
            "5000.00",
            Rate::new(dec!(0.12)),
            Period::months(3),
            Period::months(1),
            RepayType::Bullet,
        ))
        .unwrap();
        assert_eq!(plan.installments.len(), 1);
        assert_eq!(plan.installments[0].interest.to_string(), "150.00");
        assert_eq!(plan.installments[0].due_date, d(2026, 4, 30));
        assert_eq!(plan.period, Period::months(3));
    }

    #[test]
    fn service_fee_is_charged_every_period() {
        let mut s = spec(
            "3000.00",
            Rate::new(dec!(0.12)),
            Period::months(3),
            Period::months(1),
            RepayType::Annuity,
        );
        s.service_fee_rate = Rate::new(dec!(0.001));
        let plan = build_plan(&s).unwrap();
        assert!(plan
            .installments
            .iter()
            .all(|i| i.fee.to_string() == "3.00"));
        assert_eq!(plan.total_fee().to_string(), "9.00");
    }

    #[test]
    fn zero_rate_annuity_splits_principal() {
        let plan = build_plan(&spec(
            "100.00",
            Rate::ZERO,
            Period::months(3),
            Period::months(1),
            RepayType::Annuity,
        ))
        .unwrap();
        let p: Vec<String> = plan
            .installments
            .iter()
            .map(|i| i.principal.to_string())
            .collect();
        assert_eq!(p, ["33.33", "33.33", "33.34"]);
        assert!(plan.total_interest().is_zero());
    }

    #[test]
    fn refuses_impossible_plans() {
        let r = Rate::new(dec!(0.12));
        let base = |term, iv, t| build_plan(&spec("1000.00", r, term, iv, t));
        assert_eq!(
            base(Period::months(12), Period::months(5), RepayType::Flat),
            Err(PlanError::IntervalDoesNotDivide)
        );
        assert_eq!(
            base(
                Period::months(1),
                Period::months(2),
                RepayType::InterestOnly
            ),
            Err(PlanError::IntervalDoesNotDivide)
        );
        assert_eq!(
            base(Period::months(12), Period::days(30), RepayType::Flat),
            Err(PlanError::UnitMismatch)
        );
        assert_eq!(
            base(Period::days(30), Period::days(10), RepayType::Annuity),
            Err(PlanError::AnnuityNeedsMonths)
        );
        assert_eq!(
            build_plan(&spec(
                "1.00",
                r,
                Period::days(360),
                Period::days(1),
                RepayType::Flat
            )),
            Err(PlanError::AmountTooSmall)
        );
        // 1.00 / 200 = 0.005 rounds up to 0.01, and 199 × 0.01 is more than 1.00.
        assert_eq!(
            build_plan(&spec(
                "1.00",
                r,
                Period::days(200),
                Period::days(1),
                RepayType::Flat
            )),
            Err(PlanError::AmountTooSmall)
        );
        assert_eq!(
            build_plan(&spec(
                "0.00",
                r,
                Period::days(7),
                Period::days(7),
                RepayType::Bullet
            )),
            Err(PlanError::NonPositivePrincipal)
        );
    }

    #[test]
    fn huge_annuities_do_not_overflow() {
        let s = spec(
            "1000.00",
            Rate::new(dec!(36)),
            Period::months(9999),
            Period::months(1),
            RepayType::Annuity,
        );
        assert!(build_plan(&s).is_err());
    }
}
