//! What a payment charges (docs/loans.md "Paying"): one installment with its penalty (`current`,
//! 按期还款), the payoff of a whole loan at a date (`all`, 一次性还清), and the order installments
//! are paid in.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::money::{Money, Rate, Rounding};
use crate::penalty::{is_overdue, penalty};
use crate::schedule::Installment;

/// The amounts one payment charges one installment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Charge {
    /// Principal charged.
    pub principal: Money,
    /// Interest charged.
    pub interest: Money,
    /// Fee charged.
    pub fee: Money,
    /// Penalty charged.
    pub penalty: Money,
}

impl Charge {
    /// Everything charged.
    pub fn total(&self) -> Money {
        self.principal + self.interest + self.fee + self.penalty
    }
}

/// How an unpaid installment stands on a date, for a payoff.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// Past its due date: owed in full with its penalty.
    Overdue,
    /// Its period contains the date (start < date ≤ due): principal, fee and interest pro rata.
    Current,
    /// Its period has not begun (date ≤ start): principal only.
    NotBegun,
}

/// How `inst` stands on `on`.
pub fn standing(inst: &Installment, on: NaiveDate) -> Standing {
    if is_overdue(inst.due_date, on) {
        Standing::Overdue
    } else if on > inst.start_date {
        Standing::Current
    } else {
        Standing::NotBegun
    }
}

/// What paying `inst` on its own charges on `on` (`current`): everything it owes plus the
/// penalty accrued to that date (its `needPayTotalAmount`).
pub fn installment_due(inst: &Installment, penalty_rate: Rate, on: NaiveDate) -> Charge {
    Charge {
        principal: inst.principal,
        interest: inst.interest,
        fee: inst.fee,
        penalty: penalty(
            inst.principal + inst.interest,
            penalty_rate,
            inst.due_date,
            on,
        ),
    }
}

/// What a payoff on `on` charges each of the loan's `unpaid` installments: overdue ones in full
/// with penalties; the current period's principal, fee and interest pro rata by the days elapsed
/// in it; later periods' principal only.
pub fn payoff(unpaid: &[Installment], penalty_rate: Rate, on: NaiveDate) -> Vec<Charge> {
    unpaid
        .iter()
        .map(|inst| match standing(inst, on) {
            Standing::Overdue => installment_due(inst, penalty_rate, on),
            Standing::Current => Charge {
                principal: inst.principal,
                interest: pro_rata_interest(inst, on),
                fee: inst.fee,
                penalty: Money::ZERO,
            },
            Standing::NotBegun => Charge {
                principal: inst.principal,
                ..Charge::default()
            },
        })
        .collect()
}

/// round(interest × days elapsed / days in the period); the full interest on the due date.
fn pro_rata_interest(inst: &Installment, on: NaiveDate) -> Money {
    let period_days = (inst.due_date - inst.start_date).num_days();
    let elapsed = (on - inst.start_date).num_days().clamp(0, period_days);
    if period_days <= 0 {
        return inst.interest;
    }
    inst.interest.ratio(
        Decimal::from(elapsed),
        Decimal::from(period_days),
        Rounding::HalfUp,
    )
}

/// Installments are paid in order (按期还款): `period` may be paid on its own only when no earlier
/// one is unpaid (`earliest_unpaid` is the lowest unpaid period of the loan, if any).
pub fn payable_in_order(period: u32, earliest_unpaid: Option<u32>) -> bool {
    earliest_unpaid.is_none_or(|earliest| earliest >= period)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installments_are_paid_in_order() {
        assert!(payable_in_order(1, Some(1)));
        assert!(payable_in_order(3, None));
        assert!(!payable_in_order(3, Some(2)));
        assert!(payable_in_order(2, Some(2)));
    }
    use crate::schedule::{build_plan, PlanSpec};
    use crate::terms::{Period, RepayType};
    use rust_decimal_macros::dec;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn annuity() -> Vec<Installment> {
        build_plan(&PlanSpec {
            principal: Money::from_cents(1_000_000),
            annual_rate: Rate::new(dec!(0.12)),
            term: Period::months(12),
            interval: Period::months(1),
            repay_type: RepayType::Annuity,
            service_fee_rate: Rate::ZERO,
            start: d(2026, 1, 31),
        })
        .unwrap()
        .installments
    }

    #[test]
    fn current_payment_adds_the_penalty() {
        let plan = annuity();
        let c = installment_due(&plan[0], Rate::new(dec!(0.36)), d(2026, 3, 10));
        // On the overdue principal and interest (逾期本息): (788.49 + 100.00) × 0.36 / 360 =
        // 0.88849 → 0.89 a day, 10 days overdue.
        assert_eq!(c.penalty.to_string(), "8.90");
        assert_eq!(c.total().to_string(), "897.39");
        let on_time = installment_due(&plan[0], Rate::new(dec!(0.36)), d(2026, 2, 28));
        assert_eq!(on_time.total().to_string(), "888.49");
    }

    #[test]
    fn an_overdue_interest_only_installment_is_penalised_too() {
        // Interest-only: period 1 owes 100.00 interest and no principal.
        let plan = build_plan(&PlanSpec {
            principal: Money::from_cents(1_000_000),
            annual_rate: Rate::new(dec!(0.12)),
            term: Period::months(3),
            interval: Period::months(1),
            repay_type: RepayType::InterestOnly,
            service_fee_rate: Rate::ZERO,
            start: d(2026, 1, 31),
        })
        .unwrap()
        .installments;
        assert!(plan[0].principal.is_zero());
        let c = installment_due(&plan[0], Rate::new(dec!(0.36)), d(2026, 3, 10));
        // 100.00 × 0.36 / 360 = 0.10 a day, 10 days.
        assert_eq!(c.penalty.to_string(), "1.00");
    }

    #[test]
    fn pro_rata_interest_multiplies_before_dividing() {
        // 569.85 × 25 / 30 = 474.875 exactly: 474.88, not 474.87.
        let inst = Installment {
            period: 1,
            start_date: d(2026, 4, 1),
            due_date: d(2026, 5, 1),
            principal: Money::from_cents(100_000),
            interest: Money::from_cents(56_985),
            fee: Money::ZERO,
        };
        let charges = payoff(&[inst], Rate::ZERO, d(2026, 4, 26));
        assert_eq!(charges[0].interest.to_string(), "474.88");
    }

    #[test]
    fn payoff_on_the_disbursement_day_is_the_principal() {
        let plan = annuity();
        let charges = payoff(&plan, Rate::new(dec!(0.36)), d(2026, 1, 31));
        let total: Money = charges.iter().map(Charge::total).sum();
        assert_eq!(total.to_string(), "10000.00");
    }

    #[test]
    fn payoff_mid_period_charges_interest_pro_rata() {
        let plan = annuity();
        // 2026-02-14: 14 of the 28 days of period 1 (01-31 → 02-28) have passed.
        let charges = payoff(&plan, Rate::new(dec!(0.36)), d(2026, 2, 14));
        assert_eq!(charges[0].interest.to_string(), "50.00");
        assert!(charges[1..]
            .iter()
            .all(|c| c.interest.is_zero() && c.fee.is_zero()));
        let total: Money = charges.iter().map(Charge::total).sum();
        assert_eq!(total.to_string(), "10050.00");
    }

    #[test]
    fn payoff_with_an_overdue_installment() {
        let plan = annuity();
        // 2026-03-10: period 1 (due 02-28) 10 days overdue; period 2 (02-28 → 03-31) current, 10 of 31 days.
        let charges = payoff(&plan, Rate::new(dec!(0.36)), d(2026, 3, 10));
        assert_eq!(charges[0].total().to_string(), "897.39");
        // Period 2 interest: round(9211.51 × 0.01) = 92.12; × 10/31 = 29.716… → 29.72.
        assert_eq!(plan[1].interest.to_string(), "92.12");
        assert_eq!(charges[1].interest.to_string(), "29.72");
        assert_eq!(charges[1].principal, plan[1].principal);
        let principal: Money = charges.iter().map(|c| c.principal).sum();
        assert_eq!(principal.to_string(), "10000.00");
    }

    #[test]
    fn on_a_due_date_that_period_is_current_and_owes_its_full_interest() {
        let plan = annuity();
        let charges = payoff(&plan, Rate::ZERO, d(2026, 2, 28));
        assert_eq!(standing(&plan[0], d(2026, 2, 28)), Standing::Current);
        assert_eq!(standing(&plan[1], d(2026, 2, 28)), Standing::NotBegun);
        assert_eq!(charges[0].interest, plan[0].interest);
        assert!(charges[1].interest.is_zero());
    }
}
