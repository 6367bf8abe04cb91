//! The daily job on every available backend: messages once per installment and event, nothing
//! changed by a second run, skipped dates caught up, penalties to the date, expired records swept.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cashloan_batch::run_daily;
use cashloan_domain::{LoanTerms, Money, Period, Rate, RepayType, TermUnit};
use cashloan_persistence::accounts::{create_session, create_user, record_nonce, Session};
use cashloan_persistence::demo::{demo_products, load_demo_data};
use cashloan_persistence::loans::*;
use cashloan_persistence::payment_orders::{
    open_charge, open_payout, settle, ChannelOutcome, OpenCharge, OpenPayout, SettledBy, Settlement,
};
use cashloan_persistence::profile::{save_bank_card, BankCard};
use cashloan_persistence::Db;
use cashloan_test_support::fresh_databases;
use chrono::NaiveDate;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// A 3-month annuity of 3000.00 at 18 % paid out on 2026-01-31 (due 02-28, 03-31, 04-30).
fn book(db: &Db) -> String {
    let key = cashloan_persistence::sealed::DataKey::from_hex(&"5a".repeat(32)).unwrap();
    cashloan_persistence::sealed::install(key, None).unwrap();
    let mut c = db.conn().unwrap();
    load_demo_data(&mut c, 1).unwrap();
    let user = create_user(&mut c, "13709812611", "h", Money::from_cents(5_000_000), 1)
        .unwrap()
        .unwrap();
    save_bank_card(
        &mut c,
        &BankCard {
            user_id: user.id.clone(),
            card_no: "6217000730005000011".into(),
            reserved_mobile: "13709812611".into(),
            verified_at: 1,
        },
    )
    .unwrap();
    let (code, product) = demo_products()
        .into_iter()
        .find(|(_, p)| p.id == "0b7f6c2e-5d1a-4c4e-9f3a-2a8e7c1d9b10")
        .unwrap();
    let terms = LoanTerms {
        amount: Money::from_cents(300_000),
        rate: Rate::from_stored("0.1800").unwrap(),
        term: Period::months(3),
        interval: Period::months(1),
        repay_type: RepayType::Annuity,
    };
    let details = ApplicationDetails {
        purpose: "21".into(),
        other_channels: "01".into(),
        longitude: "0".into(),
        latitude: "0".into(),
        order_id: "o".into(),
        phonebook: "[]".into(),
        ..ApplicationDetails::default()
    };
    let mut app = Application::draft(&user.id, &product, code, &terms, details);
    // A steeper penalty than the product's, so a few days show in cents.
    app.penalty_rate = Rate::from_stored("0.3600");
    let Submitted::Stored(app) = submit_application(&mut c, app, d(2026, 1, 31), 1).unwrap() else {
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
    // Paid out through a payment order, settled as the channel said it moved.
    let OpenPayout::Opened(ready) = open_payout(
        &mut c,
        &app.id,
        d(2026, 1, 31),
        rust_decimal::Decimal::new(36, 2),
        4,
    )
    .unwrap() else {
        panic!("payout not opened")
    };
    assert_eq!(ready.order.amount, Money::from_cents(300_000));
    let moved = ChannelOutcome::Succeeded {
        channel_ref: Some("p".into()),
        amount: None,
    };
    assert_eq!(
        settle(&mut c, &ready.order.id, &moved, SettledBy::Channel, 4).unwrap(),
        Settlement::Succeeded {
            loan_settled: false
        }
    );
    user.id
}

fn messages_of(db: &Db, user: &str, kind: &str) -> usize {
    let mut c = db.conn().unwrap();
    let (rows, _) = list_customer_messages(
        &mut c,
        user,
        PageRequest {
            offset: 0,
            limit: 100,
        },
    )
    .unwrap();
    rows.iter().filter(|m| m.message_type == kind).count()
}

#[test]
fn once_per_event_idempotent_and_catching_up() {
    for fresh in fresh_databases() {
        let db = Db::open(&fresh.url, 4).unwrap();
        let user = book(&db);
        let b = fresh.backend;

        // Three days before period 1 falls due: one reminder.
        let r = run_daily(&db, d(2026, 2, 25), 10).unwrap();
        assert_eq!(
            (r.looked_at, r.reminders, r.marked_overdue),
            (1, 1, 0),
            "{b}"
        );
        assert_eq!(
            run_daily(&db, d(2026, 2, 25), 11).unwrap().reminders,
            0,
            "{b}: idempotent"
        );
        // On the due date: the second reminder.
        assert_eq!(
            run_daily(&db, d(2026, 2, 28), 12).unwrap().reminders,
            1,
            "{b}"
        );
        assert_eq!(messages_of(&db, &user, "15"), 2);

        // Skipped to 2026-03-10: ten days overdue, caught up in one run.
        let r = run_daily(&db, d(2026, 3, 10), 13).unwrap();
        assert_eq!(
            (r.marked_overdue, r.overdue_messages, r.penalties_accrued),
            (1, 1, 1),
            "{b}"
        );
        let again = run_daily(&db, d(2026, 3, 10), 14).unwrap();
        assert_eq!(
            (
                again.marked_overdue,
                again.overdue_messages,
                again.penalties_accrued,
                again.reminders
            ),
            (0, 0, 0, 0),
            "{b}"
        );
        let mut c = db.conn().unwrap();
        let (rows, _) = list_user_installments(
            &mut c,
            &user,
            RepayFilter::Overdue,
            d(2026, 3, 10),
            PageRequest {
                offset: 0,
                limit: 10,
            },
        )
        .unwrap();
        let first = &rows[0].installment;
        // A = 3000 × 0.015 × 1.015³ / (1.015³ − 1) = 1030.15; period 1: 45.00 interest,
        // 985.15 principal; on both (逾期本息): 1030.15 × 0.36 / 360 = 1.03 a day, ten days: 10.30.
        assert_eq!(
            (
                first.principal.cents(),
                first.overdue,
                first.penalty.cents()
            ),
            (98_515, true, 1030)
        );
        assert_eq!(first.penalty_date, Some(d(2026, 3, 10)));
        // The next day the penalty grows; no new message.
        let r = run_daily(&db, d(2026, 3, 11), 15).unwrap();
        assert_eq!((r.penalties_accrued, r.overdue_messages), (1, 0), "{b}");
        assert_eq!(messages_of(&db, &user, "17"), 1);
        // Paid: the job leaves it alone.
        let OpenCharge::Opened(ready) =
            open_charge(&mut c, &user, &first.id, false, d(2026, 3, 11), 16).unwrap()
        else {
            panic!("charge not opened")
        };
        // Eleven days on 2026-03-11: 1030.15 + 11.33.
        assert_eq!(ready.order.amount, Money::from_cents(104_148));
        let moved = ChannelOutcome::Succeeded {
            channel_ref: Some("c".into()),
            amount: None,
        };
        assert_eq!(
            settle(&mut c, &ready.order.id, &moved, SettledBy::Channel, 16).unwrap(),
            Settlement::Succeeded {
                loan_settled: false
            }
        );
        assert_eq!(
            run_daily(&db, d(2026, 3, 12), 17).unwrap().looked_at,
            0,
            "{b}: nothing due soon"
        );
    }
}

#[test]
fn expired_protocol_records_are_swept() {
    for fresh in fresh_databases() {
        let db = Db::open(&fresh.url, 4).unwrap();
        let user = book(&db);
        let mut c = db.conn().unwrap();
        let day = 24 * 3_600_000;
        record_nonce(&mut c, "old", "1", 1_000).unwrap();
        record_nonce(&mut c, "new", "2", 10 * day).unwrap();
        create_session(
            &mut c,
            &Session {
                id: "S".into(),
                user_id: user,
                device_token: String::new(),
                app_type: "1".into(),
                created_at: 0,
                last_seen_at: 0,
                expires_at: day,
            },
        )
        .unwrap();
        let r = run_daily(&db, d(2026, 1, 31), 10 * day + 1).unwrap();
        assert_eq!(
            r.swept, 2,
            "{}: the old nonce and the expired session",
            fresh.backend
        );
        assert!(
            !record_nonce(&mut c, "new", "2", 10 * day + 2).unwrap(),
            "the recent nonce is kept"
        );
    }
}
