//! The loan book on every available backend: lifecycle transitions, disbursement, repayment,
//! payoff, the ledger, messages, and what concurrency cannot break.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Barrier};

use cashloan_domain::{
    ApplyStatus, LoanTerms, Money, Period, Rate, RepayStatus, RepayType, TermUnit,
};
use cashloan_persistence::accounts::create_user;
use cashloan_persistence::demo::{demo_products, load_demo_data};
use cashloan_persistence::loans::*;
use cashloan_persistence::payment_orders::{
    open_charge, open_payout, settle, ChannelOutcome, OpenCharge, OpenPayout, PaymentOrder,
    SettledBy, Settlement,
};
use cashloan_persistence::products::{find_product, list_products_on_sale};
use cashloan_persistence::profile::{save_bank_card, BankCard};
use cashloan_persistence::{Db, DbConnection};
use chrono::NaiveDate;
use common::each_backend;
use rust_decimal::Decimal;

const INSTALMENT_PRODUCT: &str = "0b7f6c2e-5d1a-4c4e-9f3a-2a8e7c1d9b10";

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn draft(user_id: &str, amount_cents: i64, months: i32, repay_type: RepayType) -> Application {
    let (code, product) = demo_products()
        .into_iter()
        .find(|(_, p)| p.id == INSTALMENT_PRODUCT)
        .unwrap();
    let terms = LoanTerms {
        amount: Money::from_cents(amount_cents),
        rate: Rate::from_stored("0.1800").unwrap(),
        term: Period::months(u32::try_from(months).unwrap()),
        interval: Period::months(1),
        repay_type,
    };
    let details = ApplicationDetails {
        purpose: "21".into(),
        other_channels: "01".into(),
        longitude: "116.31".into(),
        latitude: "39.98".into(),
        order_id: "201701012236523".into(),
        phonebook: r#"[{"contactName":"木木","contactPhone":"13940460755"}]"#.into(),
        ..ApplicationDetails::default()
    };
    let app = Application::draft(user_id, &product, code, &terms, details);
    assert_eq!(
        app.penalty_rate,
        Rate::from_stored("0.1800"),
        "the product's"
    );
    app
}

/// A user with a disbursed 12-month annuity of 10 000.00 at 18 % paid out on 2026-01-31
/// (installments of 916.80: 10000 × 0.015 × 1.015^12 / (1.015^12 − 1) = 916.7999…).
fn disbursed_loan(c: &mut DbConnection, mobile: &str) -> (String, Application) {
    load_demo_data(c, 1).unwrap();
    let user = create_user(c, mobile, "hash", Money::from_cents(5_000_000), 1)
        .unwrap()
        .unwrap();
    let app = match submit_application(
        c,
        draft(&user.id, 1_000_000, 12, RepayType::Annuity),
        d(2026, 1, 30),
        10,
    )
    .unwrap()
    {
        Submitted::Stored(a) => *a,
        other => panic!("{other:?}"),
    };
    assert_eq!(start_review(c, &app.id, 11).unwrap(), Transition::Done);
    assert_eq!(
        approve(
            c,
            &app.id,
            Money::from_cents(1_000_000),
            12,
            TermUnit::Month,
            12
        )
        .unwrap(),
        Transition::Done
    );
    give_card(c, &user.id, 1);
    assert_eq!(
        pay_out(c, &app.id, d(2026, 1, 31), 13, |o| {
            assert_eq!(o.amount(), Money::from_cents(1_000_000));
            moved("payout-1")
        }),
        Ok(Settlement::Succeeded {
            loan_settled: false
        })
    );
    (user.id, find_application(c, &app.id).unwrap().unwrap())
}

fn first_installment(c: &mut DbConnection, app: &Application) -> InstallmentRow {
    let (rows, _) = list_application_installments(
        c,
        &app.id,
        PageRequest {
            offset: 0,
            limit: 100,
        },
    )
    .unwrap();
    rows.into_iter().next().unwrap()
}

/// What a payment came to: the flow of the server's use cases (order committed, channel asked
/// with the order alone, settlement), with `channel` standing for the payment channel.
#[derive(Clone, Debug, PartialEq, Eq)]
enum PayResult {
    Paid { amount: Money, settled: bool },
    NotFound,
    AlreadyPaid,
    EarlierUnpaid,
    InProgress,
    Refused,
    Unknown,
}

fn moved(r: &str) -> ChannelOutcome {
    ChannelOutcome::Succeeded {
        channel_ref: Some(r.into()),
        amount: None,
    }
}

fn refused(why: &str) -> ChannelOutcome {
    ChannelOutcome::Failed {
        message: why.into(),
    }
}

fn pay(
    c: &mut DbConnection,
    user_id: &str,
    id: &str,
    payoff: bool,
    date: NaiveDate,
    now: i64,
    channel: impl FnOnce(&PaymentOrder) -> ChannelOutcome,
) -> PayResult {
    let ready = match open_charge(c, user_id, id, payoff, date, now).unwrap() {
        OpenCharge::Opened(ready) => ready,
        OpenCharge::NotFound => return PayResult::NotFound,
        OpenCharge::AlreadyPaid => return PayResult::AlreadyPaid,
        OpenCharge::EarlierUnpaid => return PayResult::EarlierUnpaid,
        OpenCharge::InProgress(_) => return PayResult::InProgress,
        OpenCharge::NoCard => panic!("no card"),
    };
    let outcome = channel(&ready.order);
    match settle(c, &ready.order.id, &outcome, SettledBy::Channel, now).unwrap() {
        Settlement::Succeeded { loan_settled } => PayResult::Paid {
            amount: ready.order.amount(),
            settled: loan_settled,
        },
        Settlement::Failed => PayResult::Refused,
        Settlement::Unknown => PayResult::Unknown,
        other => panic!("{other:?}"),
    }
}

/// Pays `app` out on `date` through `channel`; the settlement.
fn pay_out(
    c: &mut DbConnection,
    app_id: &str,
    date: NaiveDate,
    now: i64,
    channel: impl FnOnce(&PaymentOrder) -> ChannelOutcome,
) -> Result<Settlement, Box<OpenPayout>> {
    match open_payout(c, app_id, date, Decimal::new(36, 2), now).unwrap() {
        OpenPayout::Opened(ready) => {
            let outcome = channel(&ready.order);
            Ok(settle(c, &ready.order.id, &outcome, SettledBy::Channel, now).unwrap())
        }
        other => Err(Box::new(other)),
    }
}

fn give_card(c: &mut DbConnection, user_id: &str, n: u32) {
    save_bank_card(
        c,
        &BankCard {
            user_id: user_id.into(),
            card_no: format!("6217000730005{n:06}"),
            reserved_mobile: "13709812611".into(),
            verified_at: 1,
        },
    )
    .unwrap();
}

#[test]
fn demo_products_are_listed_in_display_order() {
    each_backend(|db, _| {
        let mut c = db.conn().unwrap();
        assert!(load_demo_data(&mut c, 1).unwrap());
        assert!(!load_demo_data(&mut c, 2).unwrap(), "loaded once");
        let names: Vec<String> = list_products_on_sale(&mut c)
            .unwrap()
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(names, ["现金贷", "新现金贷", "员工贷", "分期贷"]);
        let row = find_product(&mut c, INSTALMENT_PRODUCT).unwrap().unwrap();
        let p = row.to_domain().unwrap();
        assert_eq!(
            p.repay_types,
            [RepayType::InterestOnly, RepayType::Annuity, RepayType::Flat]
        );
        assert_eq!(row.rates.as_deref(), Some("0.1800"));
        let cash = find_product(&mut c, "4feae5b5-0a5f-449a-aa96-9b6584b59440")
            .unwrap()
            .unwrap();
        assert_eq!(cash.single_amounts.as_deref(), Some("2000"));
    });
}

#[test]
fn a_loan_lives_its_whole_life() {
    each_backend(|db, backend| {
        let mut c = db.conn().unwrap();
        let (user_id, app) = disbursed_loan(&mut c, "13709812611");
        assert_eq!(app.status, ApplyStatus::Disbursed, "{backend}");
        assert_eq!(app.loan_code, "cash20260130001");
        assert_eq!(app.release_date, Some(d(2026, 1, 31)));
        let (rows, total) = list_application_installments(
            &mut c,
            &app.id,
            PageRequest {
                offset: 0,
                limit: 5,
            },
        )
        .unwrap();
        assert_eq!((rows.len(), total), (5, 12));
        assert_eq!(rows[0].due_date, d(2026, 2, 28));
        assert_eq!((rows[0].principal + rows[0].interest).cents(), 91_680);
        assert_eq!(
            (rows[0].principal.cents(), rows[0].interest.cents()),
            (76_680, 15_000)
        );

        // Pay period 1 on time; period 3 cannot jump the queue.
        let (all, _) = list_application_installments(
            &mut c,
            &app.id,
            PageRequest {
                offset: 0,
                limit: 100,
            },
        )
        .unwrap();
        assert_eq!(
            pay(
                &mut c,
                &user_id,
                &all[2].id,
                false,
                d(2026, 2, 20),
                20,
                |_| moved("x")
            ),
            PayResult::EarlierUnpaid
        );
        let paid = pay(
            &mut c,
            &user_id,
            &all[0].id,
            false,
            d(2026, 2, 20),
            21,
            |o| {
                assert_eq!(o.amount().to_string(), "916.80");
                moved("charge-1")
            },
        );
        assert_eq!(
            paid,
            PayResult::Paid {
                amount: Money::from_cents(91_680),
                settled: false
            }
        );
        assert_eq!(
            pay(
                &mut c,
                &user_id,
                &all[0].id,
                false,
                d(2026, 2, 20),
                22,
                |_| moved("x")
            ),
            PayResult::AlreadyPaid
        );

        // Pay the rest off on 2026-03-10: period 2 (02-28 → 03-31) is current, 10 of 31 days.
        let off = pay(
            &mut c,
            &user_id,
            &all[5].id,
            true,
            d(2026, 3, 10),
            30,
            |_| moved("charge-2"),
        );
        let remaining_principal: i64 = all[1..].iter().map(|i| i.principal.cents()).sum();
        let period2_interest = all[1]
            .interest
            .times(Decimal::from(10) / Decimal::from(31))
            .cents();
        assert_eq!(
            off,
            PayResult::Paid {
                amount: Money::from_cents(remaining_principal + period2_interest),
                settled: true
            }
        );
        let app = find_application(&mut c, &app.id).unwrap().unwrap();
        assert_eq!(app.status, ApplyStatus::Settled);
        assert_eq!(
            pay(
                &mut c,
                &user_id,
                &all[5].id,
                true,
                d(2026, 3, 10),
                31,
                |_| moved("x")
            ),
            PayResult::AlreadyPaid
        );

        // The ledger adds up: out = principal, in = what the installments were charged.
        let ledger = list_payments(&mut c, &app.id).unwrap();
        let out: i64 = ledger
            .iter()
            .filter(|p| p.kind == "disbursement")
            .map(|p| p.amount.cents())
            .sum();
        let inflow: i64 = ledger
            .iter()
            .filter(|p| p.kind != "disbursement")
            .map(|p| p.amount.cents())
            .sum();
        assert_eq!(out, 1_000_000);
        assert_eq!(inflow, 91_680 + remaining_principal + period2_interest);
        let principal_in: i64 = ledger
            .iter()
            .filter(|p| p.kind != "disbursement")
            .map(|p| p.principal.cents())
            .sum();
        assert_eq!(principal_in, 1_000_000);

        // §26 filters: 1 paid on time, 11 settled by the payoff, 10 of them before their due date.
        let page = PageRequest {
            offset: 0,
            limit: 100,
        };
        let count = |c: &mut DbConnection, f| {
            list_user_installments(c, &user_id, f, d(2026, 3, 10), page)
                .unwrap()
                .1
        };
        assert_eq!(count(&mut c, RepayFilter::All), 12);
        assert_eq!(count(&mut c, RepayFilter::Paid), 12);
        assert_eq!(count(&mut c, RepayFilter::Unpaid), 0);
        assert_eq!(count(&mut c, RepayFilter::Prepaid), 11);

        // Messages 11, 12, 14, 16, 16 — newest first.
        let (msgs, total) = list_customer_messages(
            &mut c,
            &user_id,
            PageRequest {
                offset: 0,
                limit: 10,
            },
        )
        .unwrap();
        assert_eq!(total, 5);
        let types: Vec<&str> = msgs.iter().map(|m| m.message_type.as_str()).collect();
        assert_eq!(types, ["16", "16", "14", "12", "11"]);
        assert_eq!(
            user_disbursed_principal(&mut c, &user_id).unwrap(),
            Money::from_cents(1_000_000)
        );
        assert!(user_unpaid_installments(&mut c, &user_id)
            .unwrap()
            .is_empty());
    });
}

#[test]
fn wrong_transitions_change_nothing() {
    each_backend(|db, _| {
        let mut c = db.conn().unwrap();
        load_demo_data(&mut c, 1).unwrap();
        let user = create_user(&mut c, "13709812611", "hash", Money::ZERO, 1)
            .unwrap()
            .unwrap();
        let Submitted::Stored(app) = submit_application(
            &mut c,
            draft(&user.id, 300_000, 3, RepayType::Flat),
            d(2026, 1, 1),
            1,
        )
        .unwrap() else {
            panic!("not stored")
        };
        let m = Money::from_cents(300_000);
        assert_eq!(
            approve(&mut c, &app.id, m, 3, TermUnit::Month, 2).unwrap(),
            Transition::WrongStatus(ApplyStatus::Submitted)
        );
        assert_eq!(
            reject(&mut c, &app.id, "x", 2).unwrap(),
            Transition::WrongStatus(ApplyStatus::Submitted)
        );
        assert_eq!(start_review(&mut c, &app.id, 3).unwrap(), Transition::Done);
        assert_eq!(
            start_review(&mut c, &app.id, 3).unwrap(),
            Transition::WrongStatus(ApplyStatus::InReview)
        );
        assert_eq!(
            reject(&mut c, &app.id, "资料不全", 4).unwrap(),
            Transition::Done
        );
        give_card(&mut c, &user.id, 1);
        assert_eq!(
            pay_out(&mut c, &app.id, d(2026, 1, 2), 5, |_| panic!(
                "no payout for a rejected loan"
            )),
            Err(Box::new(OpenPayout::WrongStatus(ApplyStatus::Rejected)))
        );
        assert_eq!(
            start_review(&mut c, "no-such-id", 6).unwrap(),
            Transition::NotFound
        );
        let stored = find_application(&mut c, &app.id).unwrap().unwrap();
        assert_eq!(
            (stored.status, stored.reject_reason.as_deref()),
            (ApplyStatus::Rejected, Some("资料不全"))
        );
        // Rejected is closed: the user may apply again; the second application of the day is 002.
        let Submitted::Stored(again) = submit_application(
            &mut c,
            draft(&user.id, 300_000, 3, RepayType::Flat),
            d(2026, 1, 1),
            7,
        )
        .unwrap() else {
            panic!("not stored")
        };
        assert_eq!(again.loan_code, "cash20260101002");
        assert_eq!(
            submit_application(
                &mut c,
                draft(&user.id, 300_000, 3, RepayType::Flat),
                d(2026, 1, 1),
                8
            )
            .unwrap(),
            Submitted::OpenApplicationExists
        );
    });
}

#[test]
fn a_refused_payout_or_charge_changes_nothing() {
    each_backend(|db, _| {
        let mut c = db.conn().unwrap();
        load_demo_data(&mut c, 1).unwrap();
        let user = create_user(&mut c, "13709812611", "hash", Money::ZERO, 1)
            .unwrap()
            .unwrap();
        let Submitted::Stored(app) = submit_application(
            &mut c,
            draft(&user.id, 300_000, 3, RepayType::InterestOnly),
            d(2026, 1, 1),
            1,
        )
        .unwrap() else {
            panic!("not stored")
        };
        start_review(&mut c, &app.id, 2).unwrap();
        approve(
            &mut c,
            &app.id,
            Money::from_cents(300_000),
            3,
            TermUnit::Month,
            3,
        )
        .unwrap();
        give_card(&mut c, &user.id, 1);
        assert_eq!(
            pay_out(&mut c, &app.id, d(2026, 1, 2), 4, |_| refused("银行维护")),
            Ok(Settlement::Failed)
        );
        let still = find_application(&mut c, &app.id).unwrap().unwrap();
        assert_eq!(still.status, ApplyStatus::Approved);
        assert!(list_payments(&mut c, &app.id).unwrap().is_empty());
        assert_eq!(
            list_application_installments(
                &mut c,
                &app.id,
                PageRequest {
                    offset: 0,
                    limit: 10
                }
            )
            .unwrap()
            .1,
            0
        );

        // A failed payout does not block a new one.
        assert_eq!(
            pay_out(&mut c, &app.id, d(2026, 1, 2), 5, |_| moved("ok")),
            Ok(Settlement::Succeeded {
                loan_settled: false
            })
        );
        let first = first_installment(&mut c, &app);
        assert_eq!(
            pay(&mut c, &user.id, &first.id, false, d(2026, 2, 2), 6, |_| {
                refused("余额不足")
            }),
            PayResult::Refused
        );
        assert_eq!(first_installment(&mut c, &app).status, RepayStatus::Unpaid);
        assert_eq!(
            list_payments(&mut c, &app.id).unwrap().len(),
            1,
            "only the payout"
        );
        // Someone else's installment is not found.
        let other = create_user(&mut c, "13709812612", "hash", Money::ZERO, 1)
            .unwrap()
            .unwrap();
        assert_eq!(
            pay(
                &mut c,
                &other.id,
                &first.id,
                false,
                d(2026, 2, 2),
                7,
                |_| moved("x")
            ),
            PayResult::NotFound
        );
        assert_eq!(
            pay(&mut c, &other.id, &first.id, true, d(2026, 2, 2), 7, |_| {
                moved("x")
            }),
            PayResult::NotFound
        );
    });
}

fn race(
    db: &Db,
    threads: usize,
    job: impl Fn(&mut DbConnection) -> PayResult + Send + Sync + 'static,
) -> Vec<PayResult> {
    let barrier = Arc::new(Barrier::new(threads));
    let job = Arc::new(job);
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (db, barrier, job) = (db.clone(), barrier.clone(), job.clone());
            std::thread::spawn(move || {
                let mut c = db.conn().unwrap();
                barrier.wait();
                job(&mut c)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

#[test]
fn sixteen_threads_pay_the_same_installment_and_it_is_paid_once() {
    each_backend(|db, backend| {
        let (user_id, app, first) = {
            let mut c = db.conn().unwrap();
            let (user_id, app) = disbursed_loan(&mut c, "13709812611");
            let first = first_installment(&mut c, &app);
            (user_id, app, first)
        };
        let charges = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = charges.clone();
        let (u, id) = (user_id.clone(), first.id.clone());
        let outcomes = race(db, 16, move |c| {
            let counted = counted.clone();
            pay(c, &u, &id, false, d(2026, 2, 20), 50, move |_| {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                moved("charge")
            })
        });
        let paid = outcomes
            .iter()
            .filter(|o| matches!(o, PayResult::Paid { .. }))
            .count();
        // The others found the order open, or the installment paid already.
        let turned_away = outcomes
            .iter()
            .filter(|o| matches!(o, PayResult::AlreadyPaid | PayResult::InProgress))
            .count();
        assert_eq!((paid, turned_away), (1, 15), "{backend}: {outcomes:?}");
        assert_eq!(
            charges.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "{backend}: charged once"
        );
        let mut c = db.conn().unwrap();
        let rows: Vec<_> = list_payments(&mut c, &app.id)
            .unwrap()
            .into_iter()
            .filter(|p| p.installment_id.as_deref() == Some(first.id.as_str()))
            .collect();
        assert_eq!(rows.len(), 1, "{backend}: one payment row");
        assert_eq!(first_installment(&mut c, &app).status, RepayStatus::Paid);
        let (msgs, _) = list_customer_messages(
            &mut c,
            &user_id,
            PageRequest {
                offset: 0,
                limit: 50,
            },
        )
        .unwrap();
        assert_eq!(msgs.iter().filter(|m| m.message_type == "16").count(), 1);
    });
}

#[test]
fn sixteen_threads_pay_off_the_same_loan_and_it_is_paid_once() {
    each_backend(|db, backend| {
        let (user_id, app, first) = {
            let mut c = db.conn().unwrap();
            let (user_id, app) = disbursed_loan(&mut c, "13709812611");
            let first = first_installment(&mut c, &app);
            (user_id, app, first)
        };
        let (u, id) = (user_id.clone(), first.id.clone());
        let outcomes = race(db, 16, move |c| {
            pay(c, &u, &id, true, d(2026, 2, 1), 50, |_| moved("c"))
        });
        let paid = outcomes
            .iter()
            .filter(|o| matches!(o, PayResult::Paid { settled: true, .. }))
            .count();
        assert_eq!(paid, 1, "{backend}: {outcomes:?}");
        let mut c = db.conn().unwrap();
        let ledger = list_payments(&mut c, &app.id).unwrap();
        assert_eq!(
            ledger.iter().filter(|p| p.kind == "payoff").count(),
            12,
            "{backend}"
        );
    });
}

#[test]
fn sixteen_threads_submit_for_one_user_and_one_application_is_stored() {
    each_backend(|db, backend| {
        let user_id = {
            let mut c = db.conn().unwrap();
            load_demo_data(&mut c, 1).unwrap();
            create_user(&mut c, "13709812611", "hash", Money::ZERO, 1)
                .unwrap()
                .unwrap()
                .id
        };
        let barrier = Arc::new(Barrier::new(16));
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let (db, barrier, u) = (db.clone(), barrier.clone(), user_id.clone());
                std::thread::spawn(move || {
                    let mut c = db.conn().unwrap();
                    barrier.wait();
                    submit_application(
                        &mut c,
                        draft(&u, 300_000, 3, RepayType::Flat),
                        d(2026, 1, 1),
                        1,
                    )
                    .unwrap()
                })
            })
            .collect();
        let stored = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|s| matches!(s, Submitted::Stored(_)))
            .count();
        assert_eq!(stored, 1, "{backend}");
    });
}

#[test]
fn amounts_and_rates_round_trip_exactly() {
    each_backend(|db, _| {
        let mut c = db.conn().unwrap();
        load_demo_data(&mut c, 1).unwrap();
        let user = create_user(
            &mut c,
            "13709812611",
            "hash",
            Money::from_cents(99_999_999_999_999),
            1,
        )
        .unwrap()
        .unwrap();
        let mut a = draft(&user.id, 123_456_789_012_345, 3, RepayType::Flat);
        a.interest_rate = Rate::from_stored("0.123456").unwrap();
        a.penalty_rate = Rate::from_stored("0.0005");
        let Submitted::Stored(app) = submit_application(&mut c, a, d(2026, 1, 1), 1).unwrap()
        else {
            panic!("not stored")
        };
        let back = find_application(&mut c, &app.id).unwrap().unwrap();
        assert_eq!(back.amount, Money::from_cents(123_456_789_012_345));
        assert_eq!(back.principal().to_string(), "1234567890123.45");
        assert_eq!(back.interest_rate.to_string(), "0.123456");
        assert_eq!(back.penalty().to_string(), "0.0005");
        let u = cashloan_persistence::accounts::find_user(&mut c, &user.id)
            .unwrap()
            .unwrap();
        assert_eq!(u.total_credit.to_string(), "999999999999.99");
    });
}

#[test]
fn user_lists_page_without_overlap() {
    each_backend(|db, _| {
        let mut c = db.conn().unwrap();
        let (user_id, _) = disbursed_loan(&mut c, "13709812611");
        let today = d(2026, 2, 1);
        let mut seen = Vec::new();
        for page in 0..5 {
            let (rows, total) = list_user_installments(
                &mut c,
                &user_id,
                RepayFilter::All,
                today,
                PageRequest {
                    offset: page * 3,
                    limit: 3,
                },
            )
            .unwrap();
            assert_eq!(total, 12);
            seen.extend(rows.into_iter().map(|r| r.installment.period));
        }
        assert_eq!(seen, (1..=12).collect::<Vec<_>>());
        // On 2026-03-01 period 1 (due 02-28) is overdue, the rest unpaid.
        let overdue = list_user_installments(
            &mut c,
            &user_id,
            RepayFilter::Overdue,
            d(2026, 3, 1),
            PageRequest {
                offset: 0,
                limit: 50,
            },
        )
        .unwrap();
        assert_eq!(overdue.1, 1);
        let unpaid = list_user_installments(
            &mut c,
            &user_id,
            RepayFilter::Unpaid,
            d(2026, 3, 1),
            PageRequest {
                offset: 0,
                limit: 50,
            },
        )
        .unwrap();
        assert_eq!(unpaid.1, 11);
        let row = &overdue.0[0];
        let owed = row
            .installment
            .amounts(row.penalty(), d(2026, 3, 1))
            .unwrap();
        // On principal and interest: (766.80 + 150.00) × 0.18 / 360 = 0.4584 → 0.46 a day, one
        // day late.
        assert_eq!(owed.penalty.to_string(), "0.46");
    });
}
