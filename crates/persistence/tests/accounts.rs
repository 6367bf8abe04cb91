//! Users, sessions, nonces and verification state, on every available backend.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use cashloan_domain::Money;
use cashloan_persistence::login_guard::{is_locked, reserve, Attempt, GuardLimits};

use std::sync::{Arc, Barrier};

use cashloan_persistence::accounts::*;
use cashloan_persistence::verification::*;
use common::each_backend;

#[test]
fn a_mobile_registers_once() {
    each_backend(|db, backend| {
        let mut c = db.conn().unwrap();
        let u = create_user(&mut c, "13709812611", "hash", Money::from_cents(500_000), 1)
            .unwrap()
            .unwrap();
        assert!(
            create_user(&mut c, "13709812611", "other", Money::from_cents(1), 2)
                .unwrap()
                .is_none(),
            "{backend}"
        );
        assert_eq!(
            find_user_by_mobile(&mut c, "13709812611").unwrap().unwrap(),
            u
        );
        assert_eq!(
            find_user(&mut c, &u.id).unwrap().unwrap().total_credit,
            Money::from_cents(500_000)
        );
        assert!(find_user_by_mobile(&mut c, "13709812612")
            .unwrap()
            .is_none());
    });
}

#[test]
fn the_fifth_wrong_password_locks_and_a_new_password_unlocks() {
    each_backend(|db, backend| {
        let mut c = db.conn().unwrap();
        let u = create_user(&mut c, "13709812611", "hash", Money::ZERO, 1)
            .unwrap()
            .unwrap();
        let limits = GuardLimits {
            max_failures: 5,
            ceiling_per_hour: 100,
            lock_ms: 1_800_000,
        };
        for n in 1..=5 {
            assert_eq!(
                reserve(&mut c, &u.id, "10.0.0.1", limits, 100).unwrap(),
                Attempt::Reserved { last: n == 5 },
                "{backend}: attempt {n}"
            );
        }
        assert_eq!(
            reserve(&mut c, &u.id, "10.0.0.1", limits, 101).unwrap(),
            Attempt::Locked
        );
        assert!(is_locked(&mut c, &u.id, "10.0.0.1", 1_800_099).unwrap());
        // Another address is not locked out by the first one's failures.
        assert!(!is_locked(&mut c, &u.id, "10.0.0.2", 1_000).unwrap());
        assert!(matches!(
            reserve(&mut c, &u.id, "10.0.0.2", limits, 1_000).unwrap(),
            Attempt::Reserved { .. }
        ));
        // The lock runs out.
        assert!(matches!(
            reserve(&mut c, &u.id, "10.0.0.1", limits, 1_800_100).unwrap(),
            Attempt::Reserved { last: false }
        ));
        for _ in 0..4 {
            reserve(&mut c, &u.id, "10.0.0.3", limits, 2_000_000).unwrap();
        }
        assert!(matches!(
            reserve(&mut c, &u.id, "10.0.0.3", limits, 2_000_000).unwrap(),
            Attempt::Reserved { last: true }
        ));
        assert!(is_locked(&mut c, &u.id, "10.0.0.3", 2_000_001).unwrap());
        let s = Session {
            id: "S1".into(),
            user_id: u.id.clone(),
            device_token: String::new(),
            app_type: "1".into(),
            created_at: 1,
            last_seen_at: 1,
            expires_at: 10_000_000,
        };
        create_session(&mut c, &s).unwrap();
        set_password(&mut c, &u.id, "new", 200).unwrap();
        let after = find_user(&mut c, &u.id).unwrap().unwrap();
        assert_eq!(after.password_hash, "new");
        assert!(
            !is_locked(&mut c, &u.id, "10.0.0.3", 2_000_001).unwrap(),
            "a new password unlocks"
        );
        assert!(
            touch_session(&mut c, "S1", 300, 1000).unwrap().is_none(),
            "sessions ended"
        );
    });
}

#[test]
fn sessions_expire_when_idle() {
    each_backend(|db, _| {
        let mut c = db.conn().unwrap();
        let u = create_user(&mut c, "13709812611", "hash", Money::ZERO, 1)
            .unwrap()
            .unwrap();
        let s = Session {
            id: "4EC11778A48CE3F997A9DCF00A3AB4A2".into(),
            user_id: u.id,
            device_token: "12312312312".into(),
            app_type: "1".into(),
            created_at: 0,
            last_seen_at: 0,
            expires_at: 100_000,
        };
        create_session(&mut c, &s).unwrap();
        let seen = touch_session(&mut c, &s.id, 90_000, 100_000)
            .unwrap()
            .unwrap();
        assert_eq!(seen.expires_at, 190_000);
        assert!(touch_session(&mut c, &s.id, 189_999, 100_000)
            .unwrap()
            .is_some());
        assert!(touch_session(&mut c, &s.id, 300_000, 100_000)
            .unwrap()
            .is_none());
        assert_eq!(sweep_sessions(&mut c, 300_000).unwrap(), 1);
        end_session(&mut c, &s.id).unwrap();
    });
}

#[test]
fn a_session_use_recorded_later_never_revives_an_expired_session() {
    each_backend(|db, _| {
        let mut c = db.conn().unwrap();
        let u = create_user(&mut c, "13709812612", "hash", Money::ZERO, 1)
            .unwrap()
            .unwrap();
        let s = Session {
            id: "5EC11778A48CE3F997A9DCF00A3AB4A2".into(),
            user_id: u.id,
            device_token: String::new(),
            app_type: "1".into(),
            created_at: 0,
            last_seen_at: 0,
            expires_at: 100_000,
        };
        create_session(&mut c, &s).unwrap();
        let live = live_session(&mut c, &s.id, 70_000).unwrap().unwrap();
        assert!(session_use_due(&live, 70_000));
        assert!(!session_use_due(&live, 59_999));
        record_session_use(&mut c, &s.id, 70_000, 100_000).unwrap();
        let seen = live_session(&mut c, &s.id, 70_001).unwrap().unwrap();
        assert_eq!((seen.last_seen_at, seen.expires_at), (70_000, 170_000));
        // Recorded after it ran out: it stays ended.
        record_session_use(&mut c, &s.id, 170_000, 100_000).unwrap();
        assert!(live_session(&mut c, &s.id, 170_000).unwrap().is_none());
    });
}

#[test]
fn sixteen_threads_insert_the_same_nonce_and_one_wins() {
    each_backend(|db, backend| {
        let barrier = Arc::new(Barrier::new(16));
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let (db, barrier) = (db.clone(), barrier.clone());
                std::thread::spawn(move || {
                    let mut c = db.conn().unwrap();
                    barrier.wait();
                    record_nonce(&mut c, "12345678", "1511758907184", 1).unwrap()
                })
            })
            .collect();
        let wins = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|won| *won)
            .count();
        assert_eq!(wins, 1, "{backend}");
        let mut c = db.conn().unwrap();
        assert!(
            record_nonce(&mut c, "12345678", "1511758907185", 2).unwrap(),
            "another timestamp is new"
        );
        assert_eq!(sweep_nonces(&mut c, 2).unwrap(), 1);
    });
}

#[test]
fn a_batch_of_nonces_tells_each_new_one_from_a_replay() {
    each_backend(|db, backend| {
        let r = |nonce: &'static str| NonceRecord {
            nonce,
            timestamp: "1511758907184",
            seen_at: 1,
        };
        let mut c = db.conn().unwrap();
        assert_eq!(
            record_nonces(&mut c, &[r("a"), r("b"), r("a")]).unwrap(),
            [true, true, false],
            "{backend}: the second of a pair in one batch is a replay"
        );
        assert_eq!(
            record_nonces(&mut c, &[r("a"), r("c")]).unwrap(),
            [false, true],
            "{backend}: one recorded by an earlier batch is a replay"
        );
        assert!(!record_nonce(&mut c, "c", "1511758907184", 2).unwrap());
        // Two writers (two servers on one database) batching the same nonces: each is new once.
        let barrier = Arc::new(Barrier::new(2));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (db, barrier) = (db.clone(), barrier.clone());
                std::thread::spawn(move || {
                    let mut c = db.dedicated().unwrap();
                    let batch: Vec<NonceRecord<'_>> =
                        ["x1", "x2", "x3", "x4"].into_iter().map(r).collect();
                    barrier.wait();
                    record_nonces(&mut c, &batch).unwrap()
                })
            })
            .collect();
        let results: Vec<Vec<bool>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        for k in 0..4 {
            assert_eq!(
                results.iter().filter(|r| r[k]).count(),
                1,
                "{backend}: nonce {k} was new exactly once"
            );
        }
    });
}

#[test]
fn graphic_codes_are_single_use_and_expire() {
    each_backend(|db, _| {
        let mut c = db.conn().unwrap();
        issue_captcha(&mut c, "o3wt", "127.0.0.1", 1_000).unwrap();
        assert_eq!(
            consume_captcha(&mut c, "O3WT", 2_000, 120_000).unwrap(),
            CaptchaCheck::Consumed
        );
        assert_eq!(
            consume_captcha(&mut c, "o3wt", 2_000, 120_000).unwrap(),
            CaptchaCheck::Wrong
        );
        issue_captcha(&mut c, "e1wa", "127.0.0.1", 1_000).unwrap();
        assert_eq!(
            consume_captcha(&mut c, "e1wa", 122_000, 120_000).unwrap(),
            CaptchaCheck::Expired
        );
        assert_eq!(
            consume_captcha(&mut c, "e1wa", 122_000, 120_000).unwrap(),
            CaptchaCheck::Wrong
        );
    });
}

/// The client that asked for the codes of these tests.
const OWNER: FlowClient<'static> = FlowClient {
    cookie: Some("owner-digest"),
    client: "10.0.0.1|ua",
};

fn send(
    c: &mut cashloan_persistence::DbConnection,
    m: &str,
    p: SmsPurpose,
    code: &str,
    now: i64,
) -> SmsSlot {
    let limits = SmsLimits {
        min_interval_ms: 60_000,
        per_mobile_per_day: 3,
        per_client_per_hour: 20,
        total_per_day: 10_000,
    };
    let slot = reserve_sms_slot(c, m, "10.0.0.1", p, "2026-11-25", now, limits).unwrap();
    if matches!(slot, SmsSlot::Reserved { .. }) {
        set_sms_code(c, m, p, code, &OWNER, now).unwrap();
    }
    slot
}

#[test]
fn sms_codes_die_after_five_wrong_tries() {
    each_backend(|db, _| {
        let mut c = db.conn().unwrap();
        let (m, p) = ("13709812611", SmsPurpose::Register);
        assert!(matches!(
            send(&mut c, m, p, "565656", 1_000),
            SmsSlot::Reserved { total: 1, .. }
        ));
        assert_eq!(
            sms_send_stats(&mut c, m, "2026-11-25").unwrap(),
            (Some(1_000), 1)
        );
        // Sooner than the interval: refused, nothing recorded.
        assert_eq!(send(&mut c, m, p, "999999", 30_000), SmsSlot::MobileLimit);
        let check =
            |c: &mut _, code, now| check_sms_code(c, m, p, code, &OWNER, now, 300_000, 5).unwrap();
        for _ in 0..4 {
            assert_eq!(check(&mut c, "000000", 2_000), SmsCheck::Wrong);
        }
        assert_eq!(check(&mut c, "000000", 2_000), SmsCheck::TooManyTries);
        assert_eq!(check(&mut c, "565656", 2_000), SmsCheck::NoCode);
        // A new code replaces the dead one; the reset purpose is kept apart.
        assert!(matches!(
            send(&mut c, m, p, "123456", 70_000),
            SmsSlot::Reserved { .. }
        ));
        assert_eq!(
            check_sms_code(
                &mut c,
                m,
                SmsPurpose::Reset,
                "123456",
                &OWNER,
                71_000,
                300_000,
                5
            )
            .unwrap(),
            SmsCheck::NoCode
        );
        // Another client (another cookie, or none from another address) has no code here.
        let other = FlowClient {
            cookie: Some("other-digest"),
            client: "10.0.0.9|ua",
        };
        assert_eq!(
            check_sms_code(&mut c, m, p, "123456", &other, 71_000, 300_000, 5).unwrap(),
            SmsCheck::NoCode
        );
        let cookieless_elsewhere = FlowClient {
            cookie: None,
            client: "10.0.0.9|ua",
        };
        assert_eq!(
            check_sms_code(
                &mut c,
                m,
                p,
                "123456",
                &cookieless_elsewhere,
                71_000,
                300_000,
                5
            )
            .unwrap(),
            SmsCheck::NoCode
        );
        assert_eq!(check(&mut c, "123456", 371_000), SmsCheck::Expired);
        assert_eq!(check(&mut c, "123456", 80_000), SmsCheck::Correct);
        assert_eq!(check(&mut c, "123456", 80_000), SmsCheck::NoCode);
        assert_eq!(
            sms_send_stats(&mut c, m, "2026-11-25").unwrap(),
            (Some(70_000), 2)
        );
        assert_eq!(
            sms_send_stats(&mut c, m, "2026-11-26").unwrap(),
            (Some(70_000), 0)
        );
        // A refused send gives its slot back; the daily cap (3 here) counts sends that happened.
        let SmsSlot::Reserved { id, .. } = send(&mut c, m, p, "111111", 140_000) else {
            panic!("third send")
        };
        release_sms_slot(&mut c, &id).unwrap();
        assert!(matches!(
            send(&mut c, m, p, "222222", 210_000),
            SmsSlot::Reserved { .. }
        ));
        assert_eq!(send(&mut c, m, p, "333333", 280_000), SmsSlot::MobileLimit);
    });
}

#[test]
fn grants_are_used_once_all_or_none() {
    each_backend(|db, _| {
        let mut c = db.conn().unwrap();
        let m = "13709812611";
        let both = [GrantKind::ResetSms, GrantKind::ResetIdentity];
        give_grant(&mut c, m, GrantKind::ResetSms, "F", 0, 600_000).unwrap();
        assert!(has_grant(&mut c, m, GrantKind::ResetSms, "F", 1).unwrap());
        // Identity step missing: nothing is taken.
        assert!(!take_grants(&mut c, m, &both, "F", 1).unwrap());
        assert!(has_grant(&mut c, m, GrantKind::ResetSms, "F", 1).unwrap());
        give_grant(&mut c, m, GrantKind::ResetIdentity, "F", 0, 600_000).unwrap();
        assert!(take_grants(&mut c, m, &both, "F", 1).unwrap());
        assert!(!take_grants(&mut c, m, &[GrantKind::ResetSms], "F", 1).unwrap());
        // Expiry.
        give_grant(&mut c, m, GrantKind::Register, "F", 0, 600_000).unwrap();
        assert!(!has_grant(&mut c, m, GrantKind::Register, "F", 600_000).unwrap());
        // A new SMS step drops the identity step of the old one.
        give_grant(&mut c, m, GrantKind::ResetIdentity, "F", 0, 600_000).unwrap();
        give_grant(&mut c, m, GrantKind::ResetSms, "F", 0, 600_000).unwrap();
        assert!(!has_grant(&mut c, m, GrantKind::ResetIdentity, "F", 1).unwrap());
        // Five failures kill a grant.
        for _ in 0..4 {
            assert!(!fail_grant(&mut c, m, GrantKind::ResetSms, "F", 5).unwrap());
        }
        assert!(fail_grant(&mut c, m, GrantKind::ResetSms, "F", 5).unwrap());
        assert!(!has_grant(&mut c, m, GrantKind::ResetSms, "F", 1).unwrap());
        // A grant serves its own flow only.
        give_grant(&mut c, m, GrantKind::Register, "F", 0, 600_000).unwrap();
        assert!(!has_grant(&mut c, m, GrantKind::Register, "G", 1).unwrap());
        assert!(!take_grants(&mut c, m, &[GrantKind::Register], "G", 1).unwrap());
        assert!(take_grants(&mut c, m, &[GrantKind::Register], "F", 1).unwrap());
    });
}

#[test]
fn rate_counters_count_per_window() {
    each_backend(|db, _| {
        let mut c = db.conn().unwrap();
        assert_eq!(
            hit_rate_counter(&mut c, "captcha:127.0.0.1", 60_000).unwrap(),
            1
        );
        assert_eq!(
            hit_rate_counter(&mut c, "captcha:127.0.0.1", 60_000).unwrap(),
            2
        );
        assert_eq!(
            hit_rate_counter(&mut c, "captcha:127.0.0.1", 120_000).unwrap(),
            1
        );
        assert_eq!(
            hit_rate_counter(&mut c, "captcha:10.0.0.1", 60_000).unwrap(),
            1
        );
        assert_eq!(sweep_rate_counters(&mut c, 120_000).unwrap(), 2);
    });
}

#[test]
fn session_ids_and_codes_are_stored_as_digests() {
    use cashloan_persistence::digest::digest;
    use cashloan_persistence::schema::{captchas, sessions, sms_codes};
    use diesel::prelude::*;
    each_backend(|db, backend| {
        let mut c = db.conn().unwrap();
        let u = create_user(&mut c, "13709812611", "hash", Money::ZERO, 1)
            .unwrap()
            .unwrap();
        let s = Session {
            id: "A1B2C3D4E5F60718293A4B5C6D7E8F90".into(),
            user_id: u.id.clone(),
            device_token: String::new(),
            app_type: "1".into(),
            created_at: 1,
            last_seen_at: 1,
            expires_at: 10_000_000,
        };
        create_session(&mut c, &s).unwrap();
        let stored: Vec<String> = sessions::table.select(sessions::id).load(&mut *c).unwrap();
        assert_eq!(stored, vec![digest(&s.id)], "{backend}");
        assert!(touch_session(&mut c, &s.id, 2, 1000).unwrap().is_some());
        issue_captcha(&mut c, "e1wa", "10.0.0.1", 1).unwrap();
        let codes: Vec<String> = captchas::table
            .select(captchas::code)
            .load(&mut *c)
            .unwrap();
        assert_eq!(codes, vec![digest("e1wa")]);
        assert_eq!(
            consume_captcha(&mut c, "E1WA", 2, 120_000).unwrap(),
            CaptchaCheck::Consumed
        );
        set_sms_code(
            &mut c,
            "13709812611",
            SmsPurpose::Register,
            "565656",
            &OWNER,
            1,
        )
        .unwrap();
        let sms: Vec<String> = sms_codes::table
            .select(sms_codes::code)
            .load(&mut *c)
            .unwrap();
        assert_eq!(sms, vec![digest("565656")]);
        end_session(&mut c, &s.id).unwrap();
        assert!(touch_session(&mut c, &s.id, 3, 1000).unwrap().is_none());
    });
}
