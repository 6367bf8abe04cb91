//! Overdue penalties (罚息) (docs/loans.md "Overdue and penalty").
//!
//! A penalty is a pure function of the installment's overdue amount (its unpaid principal and
//! interest, 逾期本息), the penalty rate, its due date and the business date, so accruing it
//! again for the same date changes nothing. Charging it on the interest too means an overdue
//! interest-only installment (principal 0) is penalised like any other.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::money::{Money, Rate, Rounding};

/// Whole days `on` is past `due` (an installment is overdue from the day after its due date).
pub fn overdue_days(due: NaiveDate, on: NaiveDate) -> u32 {
    u32::try_from((on - due).num_days()).unwrap_or(0)
}

/// Whether an unpaid installment due on `due` is overdue on `on`.
pub fn is_overdue(due: NaiveDate, on: NaiveDate) -> bool {
    on > due
}

/// Penalty of one overdue day: round(overdue amount × penalty rate / 360), multiplied first.
pub fn daily_penalty(overdue: Money, penalty_rate: Rate) -> Money {
    overdue.ratio(
        penalty_rate.as_decimal(),
        Decimal::from(360),
        Rounding::HalfUp,
    )
}

/// Penalty accrued on `on` by an unpaid installment due on `due` whose overdue amount (unpaid
/// principal + interest) is `overdue`: the daily penalty for every whole overdue day, capped at
/// the overdue amount.
pub fn penalty(overdue: Money, penalty_rate: Rate, due: NaiveDate, on: NaiveDate) -> Money {
    let days = overdue_days(due, on);
    if days == 0 {
        return Money::ZERO;
    }
    let daily = daily_penalty(overdue, penalty_rate);
    Money::round(daily.as_decimal() * Decimal::from(days)).min(overdue)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn no_penalty_until_the_day_after_the_due_date() {
        let p = Money::from_cents(50_000);
        let r = Rate::new(dec!(0.36));
        assert_eq!(penalty(p, r, d(2017, 12, 13), d(2017, 12, 1)), Money::ZERO);
        assert_eq!(penalty(p, r, d(2017, 12, 13), d(2017, 12, 13)), Money::ZERO);
        // 500 × 0.36 / 360 = 0.50 a day.
        assert_eq!(
            penalty(p, r, d(2017, 12, 13), d(2017, 12, 14)).to_string(),
            "0.50"
        );
        assert_eq!(
            penalty(p, r, d(2017, 12, 13), d(2017, 12, 23)).to_string(),
            "5.00"
        );
    }

    #[test]
    fn daily_penalty_is_rounded_once_then_multiplied() {
        // 333.33 × 0.18 / 360 = 0.166665 → 0.17 a day; 3 days → 0.51.
        let p = Money::from_cents(33_333);
        let r = Rate::new(dec!(0.18));
        assert_eq!(daily_penalty(p, r).to_string(), "0.17");
        assert_eq!(
            penalty(p, r, d(2026, 1, 1), d(2026, 1, 4)).to_string(),
            "0.51"
        );
    }

    #[test]
    fn penalty_is_capped_at_the_principal() {
        let p = Money::from_cents(50_000);
        let r = Rate::new(dec!(36));
        // 50.00 a day: capped after ten days.
        assert_eq!(
            penalty(p, r, d(2026, 1, 1), d(2026, 1, 11)).to_string(),
            "500.00"
        );
        assert_eq!(
            penalty(p, r, d(2026, 1, 1), d(2027, 1, 1)).to_string(),
            "500.00"
        );
        assert_eq!(
            penalty(p, Rate::ZERO, d(2026, 1, 1), d(2027, 1, 1)),
            Money::ZERO
        );
    }
}
