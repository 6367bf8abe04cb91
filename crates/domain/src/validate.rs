//! Validation of a quote or application request against a product: the codes 20004000–20004015
//! of docs/api.md §22, in the order docs/api.md gives (formats first, then ranges).

use crate::money::{Money, Rate};
use crate::product::LoanProduct;
use crate::terms::{Period, RepayType, TermUnit};

/// The loan-term fields of §22/§23 as the client sent them.
#[derive(Clone, Copy, Debug)]
pub struct TermsRequest<'a> {
    /// 借贷金额
    pub amount: &'a str,
    /// 年化利率
    pub interest_rate: &'a str,
    /// 借贷期限
    pub term_count: &'a str,
    /// 借贷期限单位
    pub term_unit: &'a str,
    /// 还款间隔期限
    pub repay_term_count: &'a str,
    /// 还款间隔期限单位
    pub repay_term_unit: &'a str,
    /// 还款方式
    pub repay_type: &'a str,
}

/// Loan terms that passed validation against a product.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoanTerms {
    /// Principal asked for.
    pub amount: Money,
    /// Annual nominal rate.
    pub rate: Rate,
    /// Loan term.
    pub term: Period,
    /// Repayment interval.
    pub interval: Period,
    /// Repay type.
    pub repay_type: RepayType,
}

/// Why loan terms are refused; each variant is one response code of §22/§23.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TermsError {
    /// 20004000 借贷金额格式错误
    #[error("借贷金额格式错误")]
    AmountMalformed,
    /// 20004001 借贷金额不在允许范围内
    #[error("借贷金额不在允许范围内")]
    AmountNotAllowed,
    /// 20004001 借贷金额超过可用额度
    #[error("借贷金额超过可用额度")]
    AmountAboveCredit,
    /// 20004002 年化利率格式错误
    #[error("年化利率格式错误")]
    RateMalformed,
    /// 20004003 年化利率不在允许范围内
    #[error("年化利率不在允许范围内")]
    RateNotAllowed,
    /// 20004003 综合年化成本超过上限
    #[error("综合年化成本超过上限")]
    AprAboveCap,
    /// 20004004 借贷期限格式错误
    #[error("借贷期限格式错误")]
    TermMalformed,
    /// 20004005 借贷期限不在允许范围内
    #[error("借贷期限不在允许范围内")]
    TermNotAllowed,
    /// 20004006 借贷期限单位错误
    #[error("借贷期限单位错误")]
    TermUnitInvalid,
    /// 20004007 借贷期限单位不在允许范围内
    #[error("借贷期限单位不在允许范围内")]
    TermUnitNotOffered,
    /// 20004008 还款间隔格式错误
    #[error("还款间隔格式错误")]
    IntervalMalformed,
    /// 20004009 还款间隔不在允许范围内
    #[error("还款间隔不在允许范围内")]
    IntervalNotAllowed,
    /// 20004010 还款间隔单位错误
    #[error("还款间隔单位错误")]
    IntervalUnitInvalid,
    /// 20004011 还款间隔单位不在允许范围内
    #[error("还款间隔单位不在允许范围内")]
    IntervalUnitNotAllowed,
    /// 20004012 借贷期限单位选择月,还款间隔单位不支持选择日
    #[error("借贷期限单位选择月,还款间隔单位不支持选择日")]
    MonthTermDayInterval,
    /// 20004013 还款方式错误
    #[error("还款方式错误")]
    RepayTypeInvalid,
    /// 20004014 还款方式不在允许范围内
    #[error("还款方式不在允许范围内")]
    RepayTypeNotOffered,
    /// 20004015 借贷期限单位选择日,还款方式不支持选择等额本息
    #[error("借贷期限单位选择日,还款方式不支持选择等额本息")]
    DayTermAnnuity,
}

/// A positive count of at most four digits (`^\d{1,4}$`, > 0).
fn parse_count(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 4 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|n| *n > 0)
}

/// Validates the terms of `req` against `product`: formats in the constants table's order, then
/// ranges (a unit before the count it governs). The APR cap and the credit check come after, in
/// [`crate::quote()`] and [`check_credit`].
pub fn validate_terms(
    req: &TermsRequest<'_>,
    product: &LoanProduct,
) -> Result<LoanTerms, TermsError> {
    use TermsError as E;
    // 1. Formats.
    let amount = Money::parse_amount(req.amount)
        .filter(|a| !a.is_zero())
        .ok_or(E::AmountMalformed)?;
    let rate = Rate::parse(req.interest_rate).ok_or(E::RateMalformed)?;
    let term_count = parse_count(req.term_count).ok_or(E::TermMalformed)?;
    let term_unit = TermUnit::parse(req.term_unit).ok_or(E::TermUnitInvalid)?;
    let interval_count = parse_count(req.repay_term_count).ok_or(E::IntervalMalformed)?;
    let interval_unit = TermUnit::parse(req.repay_term_unit).ok_or(E::IntervalUnitInvalid)?;
    let repay_type = RepayType::parse(req.repay_type).ok_or(E::RepayTypeInvalid)?;

    // 2. Ranges.
    if !product.amount_limit.allows(amount) {
        return Err(E::AmountNotAllowed);
    }
    if !product.rate_limit.allows(rate) {
        return Err(E::RateNotAllowed);
    }
    if !product.term_units.contains(&term_unit) {
        return Err(E::TermUnitNotOffered);
    }
    if !product
        .term_limit(term_unit)
        .is_some_and(|l| l.allows(term_count))
    {
        return Err(E::TermNotAllowed);
    }
    if !product.repay_term_units.contains(&interval_unit)
        || (term_unit == TermUnit::Day && interval_unit == TermUnit::Month)
    {
        return Err(E::IntervalUnitNotAllowed);
    }
    if term_unit == TermUnit::Month && interval_unit == TermUnit::Day {
        return Err(E::MonthTermDayInterval);
    }
    if !product.repay_types.contains(&repay_type) {
        return Err(E::RepayTypeNotOffered);
    }
    if repay_type == RepayType::Annuity && term_unit == TermUnit::Day {
        return Err(E::DayTermAnnuity);
    }
    if repay_type != RepayType::Bullet
        && (interval_count > term_count || term_count % interval_count != 0)
    {
        return Err(E::IntervalNotAllowed);
    }
    Ok(LoanTerms {
        amount,
        rate,
        term: Period {
            count: term_count,
            unit: term_unit,
        },
        interval: Period {
            count: interval_count,
            unit: interval_unit,
        },
        repay_type,
    })
}

/// Available credit (可用额度): total credit less the unpaid principal of the user's loans,
/// never below zero.
pub fn available_credit(total_credit: Money, unpaid_principal: Money) -> Money {
    (total_credit - unpaid_principal).max(Money::ZERO)
}

/// Step 4 of §22: the amount must not exceed the available credit.
pub fn check_credit(amount: Money, available: Money) -> Result<(), TermsError> {
    if amount > available {
        Err(TermsError::AmountAboveCredit)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl TermsError {
        /// The response code the API answers (its table is in the protocol crate; these tests
        /// pin the order of the checks by code, as the seed's constants table lists them).
        fn code(self) -> &'static str {
            use TermsError::*;
            match self {
                AmountMalformed => "20004000",
                AmountNotAllowed | AmountAboveCredit => "20004001",
                RateMalformed => "20004002",
                RateNotAllowed | AprAboveCap => "20004003",
                TermMalformed => "20004004",
                TermNotAllowed => "20004005",
                TermUnitInvalid => "20004006",
                TermUnitNotOffered => "20004007",
                IntervalMalformed => "20004008",
                IntervalNotAllowed => "20004009",
                IntervalUnitInvalid => "20004010",
                IntervalUnitNotAllowed => "20004011",
                MonthTermDayInterval => "20004012",
                RepayTypeInvalid => "20004013",
                RepayTypeNotOffered => "20004014",
                DayTermAnnuity => "20004015",
            }
        }
    }
    use crate::product::tests::{instalment_loan, new_cash_loan};
    use crate::product::Limit;
    use rust_decimal_macros::dec;

    fn req<'a>() -> TermsRequest<'a> {
        TermsRequest {
            amount: "500.00",
            interest_rate: "0.36",
            term_count: "14",
            term_unit: "1",
            repay_term_count: "14",
            repay_term_unit: "1",
            repay_type: "1",
        }
    }

    /// A product offering both units and every type, so every range code is reachable.
    fn everything() -> LoanProduct {
        let mut p = instalment_loan(dec!(0.18), RepayType::ALL.to_vec());
        p.term_units = vec![TermUnit::Day, TermUnit::Month];
        p.repay_term_units = vec![TermUnit::Day, TermUnit::Month];
        p.days_limit = Some(Limit::Range { min: 7, max: 30 });
        p
    }

    #[test]
    fn accepts_the_worked_example() {
        let t = validate_terms(&req(), &new_cash_loan()).unwrap();
        assert_eq!(t.amount.to_string(), "500.00");
        assert_eq!(t.term, Period::days(14));
        assert_eq!(t.repay_type, RepayType::Bullet);
    }

    #[test]
    fn accepts_zero_padded_codes() {
        let r = TermsRequest {
            term_unit: "01",
            repay_term_unit: "01",
            repay_type: "01",
            ..req()
        };
        assert!(validate_terms(&r, &new_cash_loan()).is_ok());
    }

    #[test]
    fn each_format_error_has_its_code() {
        let p = new_cash_loan();
        let cases: [(TermsRequest, &str); 14] = [
            (
                TermsRequest {
                    amount: "abc",
                    ..req()
                },
                "20004000",
            ),
            (
                TermsRequest {
                    amount: "0.00",
                    ..req()
                },
                "20004000",
            ),
            (
                TermsRequest {
                    amount: "500.001",
                    ..req()
                },
                "20004000",
            ),
            (
                TermsRequest {
                    interest_rate: "36%",
                    ..req()
                },
                "20004002",
            ),
            (
                TermsRequest {
                    interest_rate: "0.1234567",
                    ..req()
                },
                "20004002",
            ),
            (
                TermsRequest {
                    term_count: "0",
                    ..req()
                },
                "20004004",
            ),
            (
                TermsRequest {
                    term_count: "12345",
                    ..req()
                },
                "20004004",
            ),
            (
                TermsRequest {
                    term_count: "-7",
                    ..req()
                },
                "20004004",
            ),
            (
                TermsRequest {
                    term_unit: "3",
                    ..req()
                },
                "20004006",
            ),
            (
                TermsRequest {
                    repay_term_count: "x",
                    ..req()
                },
                "20004008",
            ),
            (
                TermsRequest {
                    repay_term_unit: "day",
                    ..req()
                },
                "20004010",
            ),
            (
                TermsRequest {
                    repay_type: "5",
                    ..req()
                },
                "20004013",
            ),
            (
                TermsRequest {
                    repay_type: "001",
                    ..req()
                },
                "20004013",
            ),
            (
                TermsRequest {
                    repay_type: "",
                    ..req()
                },
                "20004013",
            ),
        ];
        for (r, code) in cases {
            assert_eq!(validate_terms(&r, &p).unwrap_err().code(), code, "{r:?}");
        }
    }

    #[test]
    fn formats_come_before_ranges_in_table_order() {
        let p = new_cash_loan();
        // Amount out of range but the rate malformed: the format error wins.
        let r = TermsRequest {
            amount: "1.00",
            interest_rate: "x",
            ..req()
        };
        assert_eq!(validate_terms(&r, &p), Err(TermsError::RateMalformed));
        // Everything malformed: the amount comes first.
        let r = TermsRequest {
            amount: "x",
            interest_rate: "x",
            term_count: "x",
            term_unit: "x",
            repay_term_count: "x",
            repay_term_unit: "x",
            repay_type: "x",
        };
        assert_eq!(validate_terms(&r, &p), Err(TermsError::AmountMalformed));
        // Term unit not offered and term out of range: the unit is checked first.
        let r = TermsRequest {
            term_unit: "2",
            term_count: "99",
            ..req()
        };
        assert_eq!(validate_terms(&r, &p), Err(TermsError::TermUnitNotOffered));
    }

    #[test]
    fn each_range_error_has_its_code() {
        let p = new_cash_loan();
        let e = everything();
        let cases: [(TermsRequest, &LoanProduct, &str); 12] = [
            (
                TermsRequest {
                    amount: "499.99",
                    ..req()
                },
                &p,
                "20004001",
            ),
            (
                TermsRequest {
                    amount: "5000.01",
                    ..req()
                },
                &p,
                "20004001",
            ),
            (
                TermsRequest {
                    interest_rate: "0.35",
                    ..req()
                },
                &p,
                "20004003",
            ),
            (
                TermsRequest {
                    term_unit: "2",
                    ..req()
                },
                &p,
                "20004007",
            ),
            (
                TermsRequest {
                    term_count: "10",
                    ..req()
                },
                &p,
                "20004005",
            ),
            (
                TermsRequest {
                    repay_term_unit: "2",
                    ..req()
                },
                &p,
                "20004011",
            ),
            (
                TermsRequest {
                    amount: "3000",
                    interest_rate: "0.12",
                    term_count: "7",
                    repay_term_unit: "2",
                    repay_term_count: "1",
                    ..req()
                },
                &e,
                "20004011",
            ),
            (
                TermsRequest {
                    amount: "3000",
                    interest_rate: "0.12",
                    term_count: "3",
                    term_unit: "2",
                    repay_term_count: "30",
                    repay_term_unit: "1",
                    ..req()
                },
                &e,
                "20004012",
            ),
            (
                TermsRequest {
                    repay_type: "2",
                    ..req()
                },
                &p,
                "20004014",
            ),
            (
                TermsRequest {
                    amount: "3000",
                    interest_rate: "0.12",
                    term_count: "14",
                    repay_term_count: "7",
                    repay_type: "3",
                    ..req()
                },
                &e,
                "20004015",
            ),
            (
                TermsRequest {
                    amount: "3000",
                    interest_rate: "0.12",
                    term_count: "12",
                    term_unit: "2",
                    repay_term_count: "5",
                    repay_term_unit: "2",
                    repay_type: "4",
                },
                &e,
                "20004009",
            ),
            (
                TermsRequest {
                    amount: "3000",
                    interest_rate: "0.12",
                    term_count: "3",
                    term_unit: "2",
                    repay_term_count: "6",
                    repay_term_unit: "2",
                    repay_type: "2",
                },
                &e,
                "20004009",
            ),
        ];
        for (r, prod, code) in cases {
            assert_eq!(validate_terms(&r, prod).unwrap_err().code(), code, "{r:?}");
        }
    }

    #[test]
    fn a_bullet_loan_ignores_the_interval_count() {
        let r = TermsRequest {
            repay_term_count: "1",
            ..req()
        };
        assert!(validate_terms(&r, &new_cash_loan()).is_ok());
        let r = TermsRequest {
            repay_term_count: "99",
            ..req()
        };
        assert!(validate_terms(&r, &new_cash_loan()).is_ok());
    }

    #[test]
    fn fixed_amounts_match_numerically() {
        let mut p = new_cash_loan();
        p.amount_limit = Limit::Fixed(vec![Money::from_cents(200_000)]);
        for a in ["2000", "2000.0", "2000.00", "02000"] {
            let r = TermsRequest { amount: a, ..req() };
            assert!(validate_terms(&r, &p).is_ok(), "{a}");
        }
        let r = TermsRequest {
            amount: "2000.01",
            ..req()
        };
        assert_eq!(validate_terms(&r, &p), Err(TermsError::AmountNotAllowed));
    }

    #[test]
    fn credit() {
        let total = Money::from_cents(500_000);
        assert_eq!(
            available_credit(total, Money::from_cents(200_000)),
            Money::from_cents(300_000)
        );
        assert_eq!(
            available_credit(total, Money::from_cents(900_000)),
            Money::ZERO
        );
        assert_eq!(
            check_credit(Money::from_cents(300_001), Money::from_cents(300_000)),
            Err(TermsError::AmountAboveCredit)
        );
        assert_eq!(
            check_credit(Money::from_cents(300_000), Money::from_cents(300_000)),
            Ok(())
        );
    }
}
