//! Loan products (贷款产品) and their limits (docs/api.md §20, §21), with the check that a product is
//! coherent and cannot exceed the APR cap (docs/loans.md "Cost disclosure and cap").

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::apr::annualise;
use crate::money::{Money, Rate};
use crate::terms::{RepayType, TermUnit};
use crate::LendingPolicy;

/// Longest day term a product may offer (ten years of days).
pub const MAX_TERM_DAYS: u32 = 3650;
/// Longest month term a product may offer (thirty years).
pub const MAX_TERM_MONTHS: u32 = 360;

/// A limit on a value: a closed range (区间, type `0`) or a list of fixed values (固定值, type `1`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Limit<T> {
    /// `min ≤ v ≤ max`.
    Range {
        /// Lowest allowed.
        min: T,
        /// Highest allowed.
        max: T,
    },
    /// One of these values.
    Fixed(Vec<T>),
}

/// Type code of a range limit (区间).
pub const LIMIT_RANGE: i32 = 0;
/// Type code of a fixed-values limit (固定值).
pub const LIMIT_FIXED: i32 = 1;

/// Which part of a limit is missing or wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitPartMissing {
    /// The type is neither `0` nor `1`.
    Type,
    /// A range without its lowest value.
    Min,
    /// A range without its highest value.
    Max,
    /// A fixed limit without its values.
    Values,
}

impl<T: Copy + PartialOrd> Limit<T> {
    /// Whether `v` is allowed.
    pub fn allows(&self, v: T) -> bool {
        match self {
            Limit::Range { min, max } => *min <= v && v <= *max,
            Limit::Fixed(values) => values.contains(&v),
        }
    }

    /// The largest allowed value.
    pub fn max(&self) -> Option<T> {
        match self {
            Limit::Range { max, .. } => Some(*max),
            Limit::Fixed(values) => values.iter().copied().fold(None, |m, v| match m {
                Some(m) if m >= v => Some(m),
                _ => Some(v),
            }),
        }
    }

    /// The limit type code of §20/§21 (and of the stored columns): `0` range, `1` fixed values.
    pub fn type_code(&self) -> i32 {
        match self {
            Limit::Range { .. } => LIMIT_RANGE,
            Limit::Fixed(_) => LIMIT_FIXED,
        }
    }

    /// The limit as its four parts `(type, min, max, values)`: what the product columns and the
    /// admin API carry.
    pub fn parts(&self) -> (i32, Option<T>, Option<T>, Option<&[T]>) {
        match self {
            Limit::Range { min, max } => (self.type_code(), Some(*min), Some(*max), None),
            Limit::Fixed(values) => (self.type_code(), None, None, Some(values)),
        }
    }

    /// The limit of four parts: type `0` needs `min` and `max`, type `1` needs `values`.
    pub fn from_parts(
        type_code: i64,
        min: Option<T>,
        max: Option<T>,
        values: Option<Vec<T>>,
    ) -> Result<Limit<T>, LimitPartMissing> {
        match type_code {
            0 => Ok(Limit::Range {
                min: min.ok_or(LimitPartMissing::Min)?,
                max: max.ok_or(LimitPartMissing::Max)?,
            }),
            1 => Ok(Limit::Fixed(values.ok_or(LimitPartMissing::Values)?)),
            _ => Err(LimitPartMissing::Type),
        }
    }

    fn is_coherent(&self, valid: impl Fn(T) -> bool) -> bool {
        match self {
            Limit::Range { min, max } => valid(*min) && valid(*max) && min <= max,
            Limit::Fixed(values) => !values.is_empty() && values.iter().all(|v| valid(*v)),
        }
    }
}

impl Limit<u32> {
    /// Every allowed value, in order.
    pub fn values(&self) -> Vec<u32> {
        match self {
            Limit::Range { min, max } => (*min..=*max).collect(),
            Limit::Fixed(values) => {
                let mut v = values.clone();
                v.sort_unstable();
                v.dedup();
                v
            }
        }
    }
}

/// A loan product as operators configure it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoanProduct {
    /// Product id (产品 ID), a lowercase UUID.
    pub id: String,
    /// Name (产品名称).
    pub name: String,
    /// Description items separated by `;` (产品详细描述).
    pub detail_description: String,
    /// Third-party checks the app runs, comma-separated (第三方服务代码).
    pub third_service_code: String,
    /// Amount limit (申请金额限制).
    pub amount_limit: Limit<Money>,
    /// Default amount (单笔默认金额).
    pub default_amount: Option<Money>,
    /// Annual rate limit (年化利率限制).
    pub rate_limit: Limit<Rate>,
    /// Default annual rate (默认年化利率).
    pub default_rate: Option<Rate>,
    /// Term units offered (借贷期限单位).
    pub term_units: Vec<TermUnit>,
    /// Day-term limit (单笔天数限制), when days are offered.
    pub days_limit: Option<Limit<u32>>,
    /// Default days (单笔默认天数).
    pub default_days: Option<u32>,
    /// Month-term limit (单笔月数限制), when months are offered.
    pub months_limit: Option<Limit<u32>>,
    /// Default months (单笔默认月数).
    pub default_months: Option<u32>,
    /// Repay types offered (还款方式).
    pub repay_types: Vec<RepayType>,
    /// Repayment interval units offered (还款间隔单位).
    pub repay_term_units: Vec<TermUnit>,
    /// Default repayment interval count (默认还款间隔).
    pub default_repay_term_count: Option<u32>,
    /// Default repayment interval unit (默认还款间隔单位).
    pub default_repay_term_unit: Option<TermUnit>,
    /// Annual penalty rate on overdue principal (罚息利率); none = no penalty.
    pub penalty_rate: Option<Rate>,
    /// Service fee per period, a fraction of the principal.
    pub service_fee_rate: Rate,
    /// Fee deducted from the money paid out (砍头息); refused unless the policy allows it.
    pub upfront_fee_rate: Rate,
    /// Whether the product is on sale.
    pub on_sale: bool,
    /// Display order among products (lower first).
    pub display_order: i32,
}

impl LoanProduct {
    /// The limit that governs a term in `unit`.
    pub fn term_limit(&self, unit: TermUnit) -> Option<&Limit<u32>> {
        match unit {
            TermUnit::Day => self.days_limit.as_ref(),
            TermUnit::Month => self.months_limit.as_ref(),
        }
    }

    /// Checks that the product is coherent and that no loan it allows can cost more than the
    /// policy's APR cap.
    pub fn check(&self, policy: &LendingPolicy) -> Result<(), ProductError> {
        use ProductError as E;
        if self.name.trim().is_empty() || self.name.chars().count() > 64 {
            return Err(E::Name);
        }
        let positive = |m: Money| !m.is_negative() && !m.is_zero();
        if !self.amount_limit.is_coherent(positive) {
            return Err(E::AmountLimit);
        }
        if self
            .default_amount
            .is_some_and(|a| !self.amount_limit.allows(a))
        {
            return Err(E::Default("singleDefaultAmount"));
        }
        if !self
            .rate_limit
            .is_coherent(|r: Rate| r.as_decimal() < Decimal::from(100))
        {
            return Err(E::RateLimit);
        }
        if self
            .default_rate
            .is_some_and(|r| !self.rate_limit.allows(r))
        {
            return Err(E::Default("defaultInterestRate"));
        }
        if self.term_units.is_empty() {
            return Err(E::NoTermUnit);
        }
        for unit in &self.term_units {
            let max = match unit {
                TermUnit::Day => MAX_TERM_DAYS,
                TermUnit::Month => MAX_TERM_MONTHS,
            };
            let limit = self.term_limit(*unit).ok_or(E::TermLimit(*unit))?;
            if !limit.is_coherent(|t| (1..=max).contains(&t)) {
                return Err(E::TermLimit(*unit));
            }
            if !self.repay_term_units.contains(unit) {
                return Err(E::IntervalUnit(*unit));
            }
        }
        let default_term_ok = |d: Option<u32>, unit| match (d, self.term_limit(unit)) {
            (None, _) => true,
            (Some(v), Some(l)) => l.allows(v),
            (Some(_), None) => false,
        };
        if !default_term_ok(self.default_days, TermUnit::Day) {
            return Err(E::Default("singleDefaultDays"));
        }
        if !default_term_ok(self.default_months, TermUnit::Month) {
            return Err(E::Default("singleDefaultMonths"));
        }
        if self
            .default_repay_term_unit
            .is_some_and(|u| !self.repay_term_units.contains(&u))
            || self.default_repay_term_count == Some(0)
        {
            return Err(E::Default("defaultRepayTermUnit"));
        }
        if self.repay_types.is_empty() {
            return Err(E::NoRepayType);
        }
        if self.repay_types == [RepayType::Annuity] && !self.term_units.contains(&TermUnit::Month) {
            return Err(E::AnnuityNeedsMonths);
        }
        let fee_ok = |r: Rate| r.as_decimal() < Decimal::ONE;
        if self
            .penalty_rate
            .is_some_and(|r| r.as_decimal() >= Decimal::from(100))
            || !fee_ok(self.service_fee_rate)
            || !fee_ok(self.upfront_fee_rate)
        {
            return Err(E::FeeRate);
        }
        if !self.upfront_fee_rate.is_zero() && !policy.allow_upfront_fee {
            return Err(E::UpfrontFeeForbidden);
        }
        let worst = self.worst_case_apr();
        if worst > policy.apr_cap {
            return Err(E::AprAboveCap { worst });
        }
        Ok(())
    }

    /// The highest APR (four decimals) of any loan the product allows, at its highest rate.
    ///
    /// Cash flows are taken per unit of principal without cent rounding: rounding moves a
    /// particular quote's APR by a fraction of a cent's worth, which the per-quote cap check of
    /// [`crate::quote()`] catches; a product is judged on its terms.
    pub fn worst_case_apr(&self) -> Decimal {
        let r = self
            .rate_limit
            .max()
            .map_or(0.0, |r| r.as_decimal().to_f64().unwrap_or(f64::MAX));
        let f = self.service_fee_rate.as_decimal().to_f64().unwrap_or(0.0);
        let u = self.upfront_fee_rate.as_decimal().to_f64().unwrap_or(0.0);
        let mut worst = 0.0_f64;
        for unit in &self.term_units {
            let Some(limit) = self.term_limit(*unit) else {
                continue;
            };
            let base = match unit {
                TermUnit::Day => 360.0,
                TermUnit::Month => 12.0,
            };
            for term in limit.values() {
                for t in &self.repay_types {
                    let intervals: Vec<u32> = match t {
                        RepayType::Bullet => vec![term],
                        RepayType::Annuity if *unit == TermUnit::Day => continue,
                        _ => (1..=term).filter(|l| term % l == 0).collect(),
                    };
                    for l in intervals {
                        let n = if *t == RepayType::Bullet { 1 } else { term / l };
                        let i = r * f64::from(l) / base;
                        let x = ideal_irr(*t, n, i, f, 1.0 - u);
                        worst = worst.max(x * base / f64::from(l));
                    }
                }
            }
        }
        annualise(worst, 1.0)
    }
}

/// Per-period IRR of one unit of principal repaid by type `t` over `n` periods of rate `i` with a
/// fee `f` per period, when `paid_out` was received; closed forms, so a product with thousands of
/// possible terms is checked quickly.
pub(crate) fn ideal_irr(t: RepayType, n: u32, i: f64, f: f64, paid_out: f64) -> f64 {
    let nf = f64::from(n);
    let annuity_factor = |x: f64| {
        if x == 0.0 {
            nf
        } else {
            (1.0 - (1.0 + x).powf(-nf)) / x
        }
    };
    let present_value = |x: f64| match t {
        RepayType::Bullet => (1.0 + i + f) / (1.0 + x),
        RepayType::InterestOnly => (i + f) * annuity_factor(x) + (1.0 + x).powf(-nf),
        RepayType::Annuity => {
            let payment = if i == 0.0 {
                1.0 / nf
            } else {
                i / (1.0 - (1.0 + i).powf(-nf))
            };
            (payment + f) * annuity_factor(x)
        }
        RepayType::Flat => (1.0 / nf + i + f) * annuity_factor(x),
    };
    if present_value(0.0) <= paid_out {
        return 0.0;
    }
    // present_value decreases in x: bracket, then bisect to f64 precision.
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    while present_value(hi) > paid_out {
        lo = hi;
        hi *= 2.0;
        if hi > 1e9 {
            return hi;
        }
    }
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        if mid <= lo || mid >= hi {
            break;
        }
        if present_value(mid) > paid_out {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo + hi) / 2.0
}

/// Why a product cannot be saved.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProductError {
    /// Name empty or longer than 64 characters.
    #[error("the product needs a name of 1 to 64 characters")]
    Name,
    /// Amount limit empty, not positive, or min above max.
    #[error("the amount limit must be positive amounts, min not above max")]
    AmountLimit,
    /// Rate limit empty, or min above max.
    #[error("the rate limit must be rates below 100, min not above max")]
    RateLimit,
    /// A default outside its limit.
    #[error("the default {0} is outside its limit")]
    Default(&'static str),
    /// No term unit offered.
    #[error("the product must offer a term unit")]
    NoTermUnit,
    /// A term unit offered without a coherent limit.
    #[error("the {} term limit is missing or outside 1..{}", .0.label(), match .0 { TermUnit::Day => MAX_TERM_DAYS, TermUnit::Month => MAX_TERM_MONTHS })]
    TermLimit(TermUnit),
    /// A term unit offered without the same repayment interval unit.
    #[error("a {} term needs the {} repayment interval unit", .0.label(), .0.label())]
    IntervalUnit(TermUnit),
    /// No repay type offered.
    #[error("the product must offer a repay type")]
    NoRepayType,
    /// Only 等额本息 offered, without month terms.
    #[error("等额本息 needs month terms")]
    AnnuityNeedsMonths,
    /// A penalty or fee rate out of range.
    #[error("penalty rate must be below 100, fee rates below 1")]
    FeeRate,
    /// An upfront fee while the policy forbids them.
    #[error("upfront fees (砍头息) are forbidden by the 2017 cash-loan notice")]
    UpfrontFeeForbidden,
    /// Some loan of the product would cost more than the cap.
    #[error("a loan of this product could cost an APR of {worst}, above the cap")]
    AprAboveCap {
        /// The highest APR found.
        worst: Decimal,
    },
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    /// The seed's 新现金贷: 500–5000, 7 or 14 days, 0.36, bullet.
    pub(crate) fn new_cash_loan() -> LoanProduct {
        LoanProduct {
            id: "c4493fbe-23f7-4904-bac1-ff0266b36e2e".into(),
            name: "新现金贷".into(),
            detail_description: String::new(),
            third_service_code: String::new(),
            amount_limit: Limit::Range {
                min: Money::from_cents(50_000),
                max: Money::from_cents(500_000),
            },
            default_amount: None,
            rate_limit: Limit::Fixed(vec![Rate::new(dec!(0.36))]),
            default_rate: Some(Rate::new(dec!(0.36))),
            term_units: vec![TermUnit::Day],
            days_limit: Some(Limit::Fixed(vec![7, 14])),
            default_days: Some(7),
            months_limit: None,
            default_months: None,
            repay_types: vec![RepayType::Bullet],
            repay_term_units: vec![TermUnit::Day],
            default_repay_term_count: Some(1),
            default_repay_term_unit: Some(TermUnit::Day),
            penalty_rate: Some(Rate::new(dec!(0.36))),
            service_fee_rate: Rate::ZERO,
            upfront_fee_rate: Rate::ZERO,
            on_sale: true,
            display_order: 1,
        }
    }

    /// A monthly instalment product: 3000–50000, 3/6/12 months, 0.18, types 2, 3, 4.
    pub(crate) fn instalment_loan(rate: Decimal, types: Vec<RepayType>) -> LoanProduct {
        LoanProduct {
            id: "0b7f6c2e-5d1a-4c4e-9f3a-2a8e7c1d9b10".into(),
            name: "分期贷".into(),
            amount_limit: Limit::Range {
                min: Money::from_cents(300_000),
                max: Money::from_cents(5_000_000),
            },
            rate_limit: Limit::Range {
                min: Rate::new(dec!(0.06)),
                max: Rate::new(rate),
            },
            default_rate: None,
            term_units: vec![TermUnit::Month],
            days_limit: None,
            default_days: None,
            months_limit: Some(Limit::Fixed(vec![3, 6, 12])),
            default_months: Some(12),
            repay_types: types,
            repay_term_units: vec![TermUnit::Month],
            default_repay_term_unit: Some(TermUnit::Month),
            ..new_cash_loan()
        }
    }

    fn policy() -> LendingPolicy {
        LendingPolicy::default()
    }

    #[test]
    fn the_seed_products_are_coherent() {
        assert_eq!(new_cash_loan().check(&policy()), Ok(()));
        assert_eq!(new_cash_loan().worst_case_apr(), dec!(0.3600));
        let p = instalment_loan(
            dec!(0.18),
            vec![RepayType::InterestOnly, RepayType::Annuity],
        );
        assert_eq!(p.check(&policy()), Ok(()));
    }

    #[test]
    fn flat_type_at_a_high_rate_could_exceed_the_cap() {
        let p = instalment_loan(dec!(0.36), vec![RepayType::Flat]);
        assert!(matches!(
            p.check(&policy()),
            Err(ProductError::AprAboveCap { .. })
        ));
        // 12 % flat over 12 months is about 21.46 %: allowed.
        let p = instalment_loan(dec!(0.12), vec![RepayType::Flat]);
        assert_eq!(p.check(&policy()), Ok(()));
        assert_eq!(p.worst_case_apr(), dec!(0.2146));
    }

    #[test]
    fn fees_count_toward_the_cap() {
        let mut p = new_cash_loan();
        p.service_fee_rate = Rate::new(dec!(0.001));
        // 0.1 % of principal for 7 days is 5.14 % a year on top of 36 %.
        assert!(matches!(
            p.check(&policy()),
            Err(ProductError::AprAboveCap { .. })
        ));
        p.rate_limit = Limit::Fixed(vec![Rate::new(dec!(0.30))]);
        p.default_rate = None;
        assert_eq!(p.check(&policy()), Ok(()));
    }

    #[test]
    fn upfront_fees_are_refused_unless_allowed() {
        let mut p = new_cash_loan();
        p.rate_limit = Limit::Fixed(vec![Rate::new(dec!(0.01))]);
        p.default_rate = None;
        p.upfront_fee_rate = Rate::new(dec!(0.001));
        assert_eq!(p.check(&policy()), Err(ProductError::UpfrontFeeForbidden));
        let allowing = LendingPolicy {
            allow_upfront_fee: true,
            ..policy()
        };
        assert_eq!(p.check(&allowing), Ok(()));
    }

    #[test]
    fn incoherent_products_are_refused() {
        let mut p = new_cash_loan();
        p.amount_limit = Limit::Range {
            min: Money::from_cents(500),
            max: Money::from_cents(100),
        };
        assert_eq!(p.check(&policy()), Err(ProductError::AmountLimit));

        let mut p = new_cash_loan();
        p.days_limit = None;
        assert_eq!(
            p.check(&policy()),
            Err(ProductError::TermLimit(TermUnit::Day))
        );

        let mut p = new_cash_loan();
        p.repay_term_units = vec![TermUnit::Month];
        p.default_repay_term_unit = None;
        assert_eq!(
            p.check(&policy()),
            Err(ProductError::IntervalUnit(TermUnit::Day))
        );

        let mut p = new_cash_loan();
        p.default_days = Some(30);
        assert_eq!(
            p.check(&policy()),
            Err(ProductError::Default("singleDefaultDays"))
        );

        let mut p = new_cash_loan();
        p.repay_types = vec![RepayType::Annuity];
        assert_eq!(p.check(&policy()), Err(ProductError::AnnuityNeedsMonths));

        let mut p = new_cash_loan();
        p.days_limit = Some(Limit::Range { min: 1, max: 4000 });
        assert_eq!(
            p.check(&policy()),
            Err(ProductError::TermLimit(TermUnit::Day))
        );

        let mut p = new_cash_loan();
        p.rate_limit = Limit::Fixed(vec![]);
        assert_eq!(p.check(&policy()), Err(ProductError::RateLimit));
    }

    #[test]
    fn limits() {
        let l = Limit::Range { min: 7, max: 14 };
        assert!(l.allows(7) && l.allows(14) && !l.allows(15));
        assert_eq!(l.max(), Some(14));
        let l = Limit::Fixed(vec![14, 7, 7]);
        assert_eq!(l.values(), vec![7, 14]);
        assert_eq!(l.max(), Some(14));
        assert!(!l.allows(8));
        let m = Limit::Fixed(vec![Money::from_cents(200_000)]);
        assert!(m.allows(Money::parse_amount("2000").unwrap()));
    }

    #[test]
    fn a_long_daily_range_is_checked_quickly_enough() {
        let mut p = new_cash_loan();
        p.days_limit = Some(Limit::Range {
            min: 1,
            max: MAX_TERM_DAYS,
        });
        p.repay_types = vec![RepayType::InterestOnly, RepayType::Bullet];
        assert_eq!(p.check(&policy()), Ok(()));
    }
}
