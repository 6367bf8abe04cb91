//! Loan terms: units, repay types, periods and their calendar (docs/loans.md "Terms and periods").

use std::fmt;

use chrono::{Days, Months, NaiveDate};
use rust_decimal::Decimal;

use crate::money::{Money, Rate, Rounding};

/// Unit of a loan term or repayment interval (借贷期限单位): `1` 日 day, `2` 月 month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TermUnit {
    /// 日
    Day,
    /// 月
    Month,
}

impl TermUnit {
    /// Both units, in code order.
    pub const ALL: [TermUnit; 2] = [TermUnit::Day, TermUnit::Month];

    /// Parses `1`/`2`, and the seed's `01`/`02`.
    pub fn parse(code: &str) -> Option<TermUnit> {
        match code {
            "1" | "01" => Some(TermUnit::Day),
            "2" | "02" => Some(TermUnit::Month),
            _ => None,
        }
    }

    /// The code sent in responses: `1` or `2`.
    pub fn code(self) -> &'static str {
        match self {
            TermUnit::Day => "1",
            TermUnit::Month => "2",
        }
    }

    /// The seed's label: 日 or 月.
    pub fn label(self) -> &'static str {
        match self {
            TermUnit::Day => "日",
            TermUnit::Month => "月",
        }
    }
}

/// How a loan is repaid (还款方式).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RepayType {
    /// 1 一次性还本付息: one installment at term end.
    Bullet,
    /// 2 按期还息到期还本: interest each period, principal at the end.
    InterestOnly,
    /// 3 等额本息: equal installments (annuity).
    Annuity,
    /// 4 等本等息: equal principal, interest on the full principal each period (flat).
    Flat,
}

impl RepayType {
    /// All four types, in code order.
    pub const ALL: [RepayType; 4] = [
        RepayType::Bullet,
        RepayType::InterestOnly,
        RepayType::Annuity,
        RepayType::Flat,
    ];

    /// Parses `1`..`4`, and the seed's `01`..`04`.
    pub fn parse(code: &str) -> Option<RepayType> {
        match code {
            "1" | "01" => Some(RepayType::Bullet),
            "2" | "02" => Some(RepayType::InterestOnly),
            "3" | "03" => Some(RepayType::Annuity),
            "4" | "04" => Some(RepayType::Flat),
            _ => None,
        }
    }

    /// The code sent in responses: `1`..`4`.
    pub fn code(self) -> &'static str {
        match self {
            RepayType::Bullet => "1",
            RepayType::InterestOnly => "2",
            RepayType::Annuity => "3",
            RepayType::Flat => "4",
        }
    }

    /// The seed's label.
    pub fn label(self) -> &'static str {
        match self {
            RepayType::Bullet => "一次性还本付息",
            RepayType::InterestOnly => "按期还息到期还本",
            RepayType::Annuity => "等额本息",
            RepayType::Flat => "等本等息",
        }
    }
}

/// A length of time: `count` days or months.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Period {
    /// How many units.
    pub count: u32,
    /// Days or months.
    pub unit: TermUnit,
}

impl Period {
    /// `count` days.
    pub const fn days(count: u32) -> Period {
        Period {
            count,
            unit: TermUnit::Day,
        }
    }

    /// `count` months.
    pub const fn months(count: u32) -> Period {
        Period {
            count,
            unit: TermUnit::Month,
        }
    }

    /// The interest rate of one such period at `annual` (day basis 360: `r × days / 360`;
    /// months 30/360: `r × months / 12`).
    pub fn rate(self, annual: Rate) -> Decimal {
        let r = annual.as_decimal();
        match self.unit {
            TermUnit::Day => r * Decimal::from(self.count) / Decimal::from(360),
            TermUnit::Month => r * Decimal::from(self.count) / Decimal::from(12),
        }
    }

    /// The interest of `principal` over one such period at `annual`: `P × r × count / 360` (days)
    /// or `P × r × count / 12` (months), multiplied first and rounded once.
    pub fn interest_on(self, principal: Money, annual: Rate, rounding: Rounding) -> Money {
        let basis = match self.unit {
            TermUnit::Day => Decimal::from(360),
            TermUnit::Month => Decimal::from(12),
        };
        principal.ratio(
            annual.as_decimal() * Decimal::from(self.count),
            basis,
            rounding,
        )
    }

    /// How many such periods make a year, for nominal annualisation (360 / days, 12 / months).
    pub fn per_year(self) -> f64 {
        let per = match self.unit {
            TermUnit::Day => 360.0,
            TermUnit::Month => 12.0,
        };
        per / f64::from(self.count.max(1))
    }

    /// `start` plus `k` such periods. Adding months keeps the day of month, clamped to the
    /// month's last day, and always counts from `start` (so 01-31 + 1, 2 months is 02-28, 03-31).
    /// `None` when the date leaves chrono's range.
    pub fn after(self, start: NaiveDate, k: u32) -> Option<NaiveDate> {
        let n = self.count.checked_mul(k)?;
        match self.unit {
            TermUnit::Day => start.checked_add_days(Days::new(u64::from(n))),
            TermUnit::Month => start.checked_add_months(Months::new(n)),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.count, self.unit.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn parses_codes_with_and_without_leading_zero() {
        assert_eq!(TermUnit::parse("01"), Some(TermUnit::Day));
        assert_eq!(TermUnit::parse("2"), Some(TermUnit::Month));
        assert_eq!(TermUnit::parse("3"), None);
        assert_eq!(TermUnit::parse("001"), None);
        assert_eq!(RepayType::parse("04"), Some(RepayType::Flat));
        assert_eq!(RepayType::parse("3"), Some(RepayType::Annuity));
        assert_eq!(RepayType::parse("5"), None);
        assert_eq!(RepayType::parse(""), None);
        for t in RepayType::ALL {
            assert_eq!(RepayType::parse(t.code()), Some(t));
        }
    }

    #[test]
    fn period_rates() {
        let r = Rate::new(dec!(0.36));
        assert_eq!(Period::days(14).rate(r), dec!(0.014));
        assert_eq!(Period::months(1).rate(Rate::new(dec!(0.12))), dec!(0.01));
        assert_eq!(Period::months(3).rate(r), dec!(0.09));
    }

    #[test]
    fn month_ends_clamp_and_count_from_the_start() {
        let p = Period::months(1);
        let start = d(2026, 1, 31);
        assert_eq!(p.after(start, 1), Some(d(2026, 2, 28)));
        assert_eq!(p.after(start, 2), Some(d(2026, 3, 31)));
        assert_eq!(p.after(start, 3), Some(d(2026, 4, 30)));
        assert_eq!(p.after(d(2027, 12, 31), 2), Some(d(2028, 2, 29)));
        assert_eq!(
            Period::days(7).after(d(2017, 11, 21), 1),
            Some(d(2017, 11, 28))
        );
        assert_eq!(Period::days(1).after(NaiveDate::MAX, 1), None);
    }
}
