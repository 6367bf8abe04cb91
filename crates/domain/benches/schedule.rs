//! Cost of the loan engine: schedule generation (12-month annuity, 360-day daily flat) and the
//! full quote with APR. Goal (issue #3): a 12-period annuity schedule under 5 µs on one core.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cashloan_domain::{
    build_plan, quote, validate_terms, LendingPolicy, Limit, LoanProduct, Money, Period, PlanSpec,
    Rate, RepayType, TermUnit, TermsRequest,
};
use chrono::NaiveDate;
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use rust_decimal::Decimal;

fn start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 31).unwrap()
}

fn annuity_12() -> PlanSpec {
    PlanSpec {
        principal: Money::from_cents(1_000_000),
        annual_rate: Rate::new(Decimal::new(12, 2)),
        term: Period::months(12),
        interval: Period::months(1),
        repay_type: RepayType::Annuity,
        service_fee_rate: Rate::ZERO,
        start: start(),
    }
}

fn flat_360_daily() -> PlanSpec {
    PlanSpec {
        principal: Money::from_cents(3_600_000),
        annual_rate: Rate::new(Decimal::new(12, 2)),
        term: Period::days(360),
        interval: Period::days(1),
        repay_type: RepayType::Flat,
        ..annuity_12()
    }
}

fn product() -> LoanProduct {
    LoanProduct {
        id: "0b7f6c2e-5d1a-4c4e-9f3a-2a8e7c1d9b10".into(),
        name: "分期贷".into(),
        detail_description: String::new(),
        third_service_code: String::new(),
        amount_limit: Limit::Range {
            min: Money::from_cents(300_000),
            max: Money::from_cents(5_000_000),
        },
        default_amount: None,
        rate_limit: Limit::Fixed(vec![Rate::new(Decimal::new(18, 2))]),
        default_rate: None,
        term_units: vec![TermUnit::Month],
        days_limit: None,
        default_days: None,
        months_limit: Some(Limit::Fixed(vec![3, 6, 12])),
        default_months: None,
        repay_types: vec![RepayType::Annuity],
        repay_term_units: vec![TermUnit::Month],
        default_repay_term_count: None,
        default_repay_term_unit: None,
        penalty_rate: None,
        service_fee_rate: Rate::ZERO,
        upfront_fee_rate: Rate::ZERO,
        on_sale: true,
        display_order: 0,
    }
}

fn bench(c: &mut Criterion) {
    let a = annuity_12();
    c.bench_function("schedule: 12-month annuity", |b| {
        b.iter(|| build_plan(black_box(&a)).unwrap())
    });
    let f = flat_360_daily();
    c.bench_function("schedule: 360-day daily flat", |b| {
        b.iter(|| build_plan(black_box(&f)).unwrap())
    });
    let p = product();
    let policy = LendingPolicy::default();
    let req = TermsRequest {
        amount: "10000.00",
        interest_rate: "0.18",
        term_count: "12",
        term_unit: "2",
        repay_term_count: "1",
        repay_term_unit: "2",
        repay_type: "3",
    };
    c.bench_function("quote: validate + 12-month annuity + APR", |b| {
        b.iter(|| {
            let terms = validate_terms(black_box(&req), &p).unwrap();
            quote(&p, &terms, start(), &policy).unwrap()
        })
    });
    c.bench_function("product check: 3/6/12 months annuity", |b| {
        b.iter(|| black_box(&p).check(&policy).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
