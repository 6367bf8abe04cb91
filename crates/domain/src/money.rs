//! Money and rates (docs/loans.md "Numbers").
//!
//! Every amount is a `Decimal` with exactly two decimals, rounded half away from zero (四舍五入)
//! once per installment component. Rates are annual nominal rates kept at full precision.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Sub};
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};

/// Most integer digits an amount may have (¥999 999 999 999 999.99); more cannot be a loan and
/// would only risk overflow.
pub const MAX_AMOUNT_INTEGER_DIGITS: usize = 15;

/// `^\d+(\.\d{1,max_decimals})?$` with at most `max_integer_digits` significant integer digits,
/// as a decimal: the only number format clients may send for amounts and rates.
fn plain_decimal(text: &str, max_decimals: usize, max_integer_digits: usize) -> Option<Decimal> {
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (text, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || frac.is_some_and(|f| !digits(f) || f.len() > max_decimals) {
        return None;
    }
    if int.trim_start_matches('0').len() > max_integer_digits {
        return None;
    }
    Decimal::from_str(text).ok()
}

/// An amount of money in yuan (元), always with exactly two decimals (分).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(Decimal);

impl Money {
    /// ¥0.00.
    pub const ZERO: Money = Money(Decimal::from_parts(0, 0, 0, false, 2));

    /// Rounds `value` to 分, half away from zero.
    pub fn round(value: Decimal) -> Money {
        let mut d = value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        d.rescale(2);
        Money(d)
    }

    /// The amount of `cents` 分 (how the database stores money).
    pub fn from_cents(cents: i64) -> Money {
        Money(Decimal::new(cents, 2))
    }

    /// The amount in 分.
    pub fn cents(self) -> i64 {
        // Two decimals and at most 15 + 2 digits: always fits an i64.
        let m = self.0.mantissa();
        i64::try_from(m).unwrap_or(if m < 0 { i64::MIN } else { i64::MAX })
    }

    /// The amount as a decimal.
    pub fn as_decimal(self) -> Decimal {
        self.0
    }

    /// Whether the amount is ¥0.00.
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// Whether the amount is below zero.
    pub fn is_negative(self) -> bool {
        self.0.is_sign_negative() && !self.0.is_zero()
    }

    /// Parses a client amount: `^\d+(\.\d{1,2})?$` with at most
    /// [`MAX_AMOUNT_INTEGER_DIGITS`] integer digits (leading zeros not counted).
    pub fn parse_amount(text: &str) -> Option<Money> {
        plain_decimal(text, 2, MAX_AMOUNT_INTEGER_DIGITS).map(Money::round)
    }

    /// The smaller of two amounts.
    pub fn min(self, other: Money) -> Money {
        if self <= other {
            self
        } else {
            other
        }
    }

    /// The larger of two amounts.
    pub fn max(self, other: Money) -> Money {
        if self >= other {
            self
        } else {
            other
        }
    }

    /// `self × factor`, rounded to 分.
    pub fn times(self, factor: Decimal) -> Money {
        Money::round(self.0 * factor)
    }

    /// Rounds `value` to 分 the way `rounding` says.
    pub fn round_with(value: Decimal, rounding: Rounding) -> Money {
        let strategy = match rounding {
            Rounding::HalfUp => RoundingStrategy::MidpointAwayFromZero,
            Rounding::Down => RoundingStrategy::ToZero,
        };
        let mut d = value.round_dp_with_strategy(2, strategy);
        d.rescale(2);
        Money(d)
    }

    /// `self × num / den`, multiplied first and rounded once at the end: a result that is an
    /// exact half cent (659.175) is one exactly, never a 28-digit quotient truncated just under
    /// it. `den` must not be zero (zero gives ¥0.00).
    pub fn ratio(self, num: Decimal, den: Decimal, rounding: Rounding) -> Money {
        match (self.0 * num).checked_div(den) {
            Some(q) => Money::round_with(q, rounding),
            None => Money::ZERO,
        }
    }
}

/// How an amount is rounded to the cent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Rounding {
    /// Half away from zero (四舍五入): the rule.
    #[default]
    HalfUp,
    /// Toward zero: toward the borrower, when half-up alone would lift a loan's cost above
    /// the cap (docs/loans.md "The true annual cost").
    Down,
}

impl Rounding {
    /// As stored: `half_up` or `down`.
    pub fn as_str(self) -> &'static str {
        match self {
            Rounding::HalfUp => "half_up",
            Rounding::Down => "down",
        }
    }

    /// From its stored text.
    pub fn parse(s: &str) -> Option<Rounding> {
        match s {
            "half_up" => Some(Rounding::HalfUp),
            "down" => Some(Rounding::Down),
            _ => None,
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}", self.0)
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, rhs: Money) {
        self.0 += rhs.0;
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0 - rhs.0)
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Add::add)
    }
}

impl<'a> Sum<&'a Money> for Money {
    fn sum<I: Iterator<Item = &'a Money>>(iter: I) -> Money {
        iter.copied().sum()
    }
}

/// An annual nominal rate (`0.3600` = 36 % a year), or any other rate kept as a decimal fraction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate(Decimal);

impl Rate {
    /// 0 %.
    pub const ZERO: Rate = Rate(Decimal::ZERO);

    /// The rate `value` (a fraction: 0.36 is 36 %).
    pub fn new(value: Decimal) -> Rate {
        Rate(value.normalize())
    }

    /// Parses a client rate: `^\d+(\.\d{1,6})?$`, at most 4 integer digits.
    pub fn parse(text: &str) -> Option<Rate> {
        plain_decimal(text, 6, 4).map(Rate::new)
    }

    /// Reads a rate as this server stores it (any non-negative decimal, written by `Display`).
    pub fn from_stored(text: &str) -> Option<Rate> {
        Decimal::from_str(text)
            .ok()
            .filter(|d| !d.is_sign_negative())
            .map(Rate::new)
    }

    /// The rate as a decimal fraction.
    pub fn as_decimal(self) -> Decimal {
        self.0
    }

    /// Whether the rate is 0.
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }
}

impl fmt::Display for Rate {
    /// At least four decimals (`0.3600`), more when the rate has them (`0.123456`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0.normalize();
        if d.scale() < 4 {
            write!(f, "{d:.4}")
        } else {
            write!(f, "{d}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn ratios_multiply_first_and_round_once() {
        // 24,750.00 × 0.0799 × 4 / 12 = 659.175 exactly: half up is 659.18.
        let p = Money::from_cents(2_475_000);
        let num = dec!(0.0799) * Decimal::from(4);
        assert_eq!(
            p.ratio(num, Decimal::from(12), Rounding::HalfUp)
                .to_string(),
            "659.18"
        );
        assert_eq!(
            p.ratio(num, Decimal::from(12), Rounding::Down).to_string(),
            "659.17"
        );
        // Dividing the rate first truncates the quotient and loses the half.
        assert_eq!(p.times(num / Decimal::from(12)).to_string(), "659.17");
        // 569.85 × 25 / 30 = 474.875.
        let i = Money::from_cents(56_985);
        assert_eq!(
            i.ratio(Decimal::from(25), Decimal::from(30), Rounding::HalfUp)
                .to_string(),
            "474.88"
        );
        assert_eq!(
            i.ratio(Decimal::ONE, Decimal::ZERO, Rounding::HalfUp),
            Money::ZERO
        );
    }

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(Money::round(dec!(2.345)).to_string(), "2.35");
        assert_eq!(Money::round(dec!(2.344999)).to_string(), "2.34");
        assert_eq!(Money::round(dec!(-2.345)).to_string(), "-2.35");
        assert_eq!(Money::round(dec!(7)).to_string(), "7.00");
        assert_eq!(Money::round(dec!(0.005)).to_string(), "0.01");
    }

    #[test]
    fn cents_round_trip() {
        for c in [0, 1, 99, 100, 50_000, -7, 99_999_999_999_999_999] {
            assert_eq!(Money::from_cents(c).cents(), c);
        }
        assert_eq!(Money::from_cents(50_000).to_string(), "500.00");
    }

    #[test]
    fn parses_client_amounts() {
        assert_eq!(Money::parse_amount("500.00").unwrap().to_string(), "500.00");
        assert_eq!(Money::parse_amount("5000").unwrap().to_string(), "5000.00");
        assert_eq!(Money::parse_amount("0500.5").unwrap().to_string(), "500.50");
        for bad in [
            "",
            ".5",
            "5.",
            "5.123",
            "-5",
            "+5",
            "5e3",
            " 5",
            "5 ",
            "1,000",
            "１２",
            "1234567890123456",
        ] {
            assert!(Money::parse_amount(bad).is_none(), "{bad:?}");
        }
        assert!(Money::parse_amount("000000000000000000001.00").is_some());
    }

    #[test]
    fn rates_show_at_least_four_decimals() {
        assert_eq!(Rate::parse("0.36").unwrap().to_string(), "0.3600");
        assert_eq!(Rate::parse("0.123456").unwrap().to_string(), "0.123456");
        assert_eq!(Rate::parse("0").unwrap().to_string(), "0.0000");
        assert_eq!(Rate::parse("1").unwrap().to_string(), "1.0000");
        for bad in ["", ".36", "0.1234567", "-0.1", "0,36", "36%", "12345.1"] {
            assert!(Rate::parse(bad).is_none(), "{bad:?}");
        }
    }
}
