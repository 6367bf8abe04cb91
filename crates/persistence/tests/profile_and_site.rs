//! Profile data (identity, bank card, personal info, contacts), operator-kept data (system
//! messages, releases, feedback, blacklist, settings), the schema and the migrations, on every
//! available backend.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use cashloan_domain::Money;
use cashloan_persistence::accounts::{create_user, find_user};
use cashloan_persistence::loans::PageRequest;
use cashloan_persistence::profile::*;
use cashloan_persistence::site::*;
use cashloan_persistence::DbConnection;
use chrono::NaiveDate;
use common::each_backend;
use diesel::prelude::*;

fn info(user_id: &str, payroll_day: Option<i32>) -> PersonalInfo {
    PersonalInfo {
        user_id: user_id.into(),
        education: "5".into(),
        marital_status: "1".into(),
        registry_province: "110000".into(),
        registry_city: "110000".into(),
        registry_detail: "演示".into(),
        house_province: "110000".into(),
        house_city: "110000".into(),
        house_county: "110108".into(),
        house_detail: "演示演示".into(),
        residence_length: "01".into(),
        industry_type: "3".into(),
        work_province: "110000".into(),
        work_city: "110000".into(),
        work_county: "110108".into(),
        work_detail: "演示".into(),
        working_hours: "01".into(),
        employer: "北京中科博润科技股份有限公司".into(),
        job_position: "演示演示演示".into(),
        month_income: Money::from_cents(1_000_000),
        payroll_day,
        updated_at: 5,
    }
}

#[test]
fn identity_is_set_once_and_an_id_number_belongs_to_one_user() {
    each_backend(|db, backend| {
        let mut c = db.conn().unwrap();
        let a = create_user(&mut c, "13709812611", "h", Money::ZERO, 1)
            .unwrap()
            .unwrap();
        let b = create_user(&mut c, "13709812612", "h", Money::ZERO, 1)
            .unwrap()
            .unwrap();
        let id = |user: &str, no: &str| Identity {
            user_id: user.into(),
            real_name: "张某某".into(),
            id_card_no: no.into(),
            verified_at: 2,
        };
        assert_eq!(
            save_identity(&mut c, &id(&a.id, "110106197606292150")).unwrap(),
            SaveIdentity::Saved,
            "{backend}"
        );
        assert!(find_user(&mut c, &a.id).unwrap().unwrap().real_name_auth);
        assert_eq!(
            save_identity(&mut c, &id(&b.id, "110106197606292150")).unwrap(),
            SaveIdentity::TakenByAnother
        );
        assert_eq!(
            save_identity(&mut c, &id(&a.id, "11010519491231002X")).unwrap(),
            SaveIdentity::AlreadyVerified
        );
        assert!(!find_user(&mut c, &b.id).unwrap().unwrap().real_name_auth);
        assert_eq!(
            identity_owner(&mut c, "110106197606292150").unwrap(),
            Some(a.id.clone())
        );
        assert_eq!(
            find_identity(&mut c, &a.id).unwrap().unwrap().real_name,
            "张某某"
        );
    });
}

#[test]
fn a_bank_card_belongs_to_one_user_and_can_be_replaced() {
    each_backend(|db, _| {
        let mut c = db.conn().unwrap();
        let a = create_user(&mut c, "13709812611", "h", Money::ZERO, 1)
            .unwrap()
            .unwrap();
        let b = create_user(&mut c, "13709812612", "h", Money::ZERO, 1)
            .unwrap()
            .unwrap();
        let card = |user: &str, no: &str| BankCard {
            user_id: user.into(),
            card_no: no.into(),
            reserved_mobile: "18911647533".into(),
            verified_at: 3,
        };
        assert!(save_bank_card(&mut c, &card(&a.id, "6217000730005201531")).unwrap());
        assert!(!save_bank_card(&mut c, &card(&b.id, "6217000730005201531")).unwrap());
        assert!(save_bank_card(&mut c, &card(&a.id, "624156325632141")).unwrap());
        assert_eq!(
            find_bank_card(&mut c, &a.id).unwrap().unwrap().card_no,
            "624156325632141"
        );
        assert!(
            save_bank_card(&mut c, &card(&b.id, "6217000730005201531")).unwrap(),
            "freed by the replacement"
        );
        assert!(find_user(&mut c, &b.id).unwrap().unwrap().bank_card_auth);
        assert_eq!(
            bank_card_owner(&mut c, "624156325632141").unwrap(),
            Some(a.id)
        );
    });
}

#[test]
fn personal_info_and_a_contact_complete_the_profile() {
    each_backend(|db, _| {
        let mut c = db.conn().unwrap();
        let u = create_user(&mut c, "13709812611", "h", Money::ZERO, 1)
            .unwrap()
            .unwrap();
        save_personal_info(&mut c, &info(&u.id, Some(10))).unwrap();
        assert!(
            !find_user(&mut c, &u.id)
                .unwrap()
                .unwrap()
                .customer_info_auth,
            "no contact yet"
        );
        let SaveContact::Saved(first) =
            add_contact(&mut c, &u.id, "6", "木木", "13940460755", 10, 6).unwrap()
        else {
            panic!("not saved")
        };
        assert!(
            find_user(&mut c, &u.id)
                .unwrap()
                .unwrap()
                .customer_info_auth
        );
        // A save without a payday keeps the stored one.
        let mut again = info(&u.id, None);
        again.month_income = Money::from_cents(1_234_567);
        save_personal_info(&mut c, &again).unwrap();
        let stored = find_personal_info(&mut c, &u.id).unwrap().unwrap();
        assert_eq!(
            (stored.payroll_day, stored.month_income),
            (Some(10), Money::from_cents(1_234_567))
        );

        assert_eq!(
            add_contact(&mut c, &u.id, "1", "张三", "13940460755", 10, 7).unwrap(),
            SaveContact::DuplicatePhone
        );
        let SaveContact::Saved(second) =
            add_contact(&mut c, &u.id, "1", "张三", "13800000000", 10, 8).unwrap()
        else {
            panic!("not saved")
        };
        assert_eq!(
            update_contact(&mut c, &u.id, &second, "7", "张三", "13940460755", 9).unwrap(),
            SaveContact::DuplicatePhone
        );
        assert_eq!(
            update_contact(&mut c, &u.id, &second, "7", "李四", "13800000001", 9).unwrap(),
            SaveContact::Saved(second.clone())
        );
        let other = create_user(&mut c, "13709812612", "h", Money::ZERO, 1)
            .unwrap()
            .unwrap();
        assert_eq!(
            update_contact(&mut c, &other.id, &first, "7", "王五", "13800000002", 9).unwrap(),
            SaveContact::NotFound
        );
        let names: Vec<String> = list_contacts(&mut c, &u.id)
            .unwrap()
            .into_iter()
            .map(|c| c.real_name)
            .collect();
        assert_eq!(names, ["木木", "李四"]);
        for n in 3..=10 {
            let phone = format!("139000000{n:02}");
            assert!(matches!(
                add_contact(&mut c, &u.id, "6", "朋友", &phone, 10, 10).unwrap(),
                SaveContact::Saved(_)
            ));
        }
        assert_eq!(
            add_contact(&mut c, &u.id, "6", "朋友", "13900000099", 10, 11).unwrap(),
            SaveContact::LimitReached
        );
    });
}

#[test]
fn operator_data() {
    each_backend(|db, _| {
        let mut c = db.conn().unwrap();
        let page = PageRequest {
            offset: 0,
            limit: 10,
        };
        for (i, at) in [(1, 100), (2, 200), (3, 300)] {
            add_system_message(
                &mut c,
                &SystemMessage {
                    id: format!("m{i}"),
                    message_type: "1".into(),
                    title: "系统消息".into(),
                    content: "系统消息".into(),
                    event_url: String::new(),
                    send_at: at,
                    created_at: 1,
                },
            )
            .unwrap();
        }
        let (rows, total) = list_system_messages(&mut c, 250, page).unwrap();
        assert_eq!(total, 2, "the future one is not shown yet");
        assert_eq!(
            rows.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
            ["m2", "m1"]
        );

        let v = |code: i64| AppVersion {
            id: format!("v{code}"),
            app_type: "1".into(),
            version_code: code,
            version_name: format!("1.0.{code}"),
            download_url: "https://example.com/app.apk".into(),
            force_update: code == 23,
            description: String::new(),
            created_at: 1,
        };
        assert!(add_app_version(&mut c, &v(22)).unwrap());
        assert!(add_app_version(&mut c, &v(23)).unwrap());
        assert!(!add_app_version(&mut c, &v(23)).unwrap());
        assert_eq!(
            latest_app_version(&mut c, "1")
                .unwrap()
                .unwrap()
                .version_code,
            23
        );
        assert!(latest_app_version(&mut c, "2").unwrap().is_none());

        let u = create_user(&mut c, "13709812611", "h", Money::ZERO, 1)
            .unwrap()
            .unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        add_feedback(&mut c, &u.id, &u.mobile, "2", "goodapp", day, 1).unwrap();
        assert_eq!(count_feedback(&mut c, &u.mobile, day).unwrap(), 1);
        assert_eq!(
            count_feedback(&mut c, &u.mobile, day.succ_opt().unwrap()).unwrap(),
            0
        );

        assert!(add_to_blacklist(&mut c, "13709812611", "欺诈", 1).unwrap());
        assert!(!add_to_blacklist(&mut c, "13709812611", "欺诈", 1).unwrap());
        assert!(is_blacklisted(&mut c, "13709812611").unwrap());
        assert!(remove_from_blacklist(&mut c, "13709812611").unwrap());
        assert!(!is_blacklisted(&mut c, "13709812611").unwrap());

        assert_eq!(business_date_override(&mut c).unwrap(), None);
        set_setting(&mut c, BUSINESS_DATE, "2027-01-31", 1).unwrap();
        set_setting(&mut c, BUSINESS_DATE, "2027-02-28", 2).unwrap();
        assert_eq!(
            business_date_override(&mut c).unwrap(),
            NaiveDate::from_ymd_opt(2027, 2, 28)
        );
        clear_setting(&mut c, BUSINESS_DATE).unwrap();
        assert_eq!(business_date_override(&mut c).unwrap(), None);
    });
}

/// Every table of `schema.rs` exists with every column diesel names (the typed loads of the
/// repository tests check the types).
fn select_every_table(c: &mut DbConnection) {
    use cashloan_persistence::schema::*;
    macro_rules! check {
        ($($t:ident),*) => {$(
            // Naming every column of schema.rs fails if the migration lacks one.
            $t::table
                .select($t::all_columns)
                .limit(0)
                .execute(c)
                .unwrap_or_else(|e| panic!("{}: {e}", stringify!($t)));
        )*};
    }
    check!(
        users,
        identities,
        bank_cards,
        personal_infos,
        contacts,
        sessions,
        captchas,
        sms_codes,
        sms_sends,
        grants,
        nonces,
        rate_counters,
        products,
        applications,
        contracts,
        installments,
        payments,
        customer_messages,
        system_messages,
        feedback,
        app_versions,
        blacklist,
        settings,
        sequences,
        login_guards,
        payment_orders,
        payment_order_lines,
        job_runs
    );
}

#[test]
fn schema_matches_the_migration() {
    each_backend(|db, _| {
        let mut c = db.conn().unwrap();
        // Loading typed rows proves each column's presence and type on this backend.
        cashloan_persistence::demo::load_demo_data(&mut c, 1).unwrap();
        let rows = cashloan_persistence::products::list_products(&mut c).unwrap();
        assert_eq!(rows.len(), 4);
        select_every_table(&mut c);
    });
}

#[test]
fn migrations_revert_and_reapply() {
    use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
    const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
    const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
    each_backend(|db, backend| {
        let mut c = db.dedicated().unwrap();
        let harness = |c: &mut DbConnection| -> Result<(), String> {
            match c {
                DbConnection::Sqlite(s) => {
                    s.revert_all_migrations(SQLITE).map_err(|e| e.to_string())?;
                    s.run_pending_migrations(SQLITE)
                        .map_err(|e| e.to_string())?;
                }
                DbConnection::Pg(p) => {
                    p.revert_all_migrations(POSTGRES)
                        .map_err(|e| e.to_string())?;
                    p.run_pending_migrations(POSTGRES)
                        .map_err(|e| e.to_string())?;
                }
            }
            Ok(())
        };
        harness(&mut c).unwrap_or_else(|e| panic!("{backend}: {e}"));
        select_every_table(&mut c);
    });
}

#[test]
fn one_claimant_a_period_however_many_servers_ask() {
    each_backend(|db, backend| {
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
        let handles: Vec<_> = (0..8)
            .map(|k| {
                let (db, barrier) = (db.clone(), barrier.clone());
                std::thread::spawn(move || {
                    let mut c = db.dedicated().unwrap();
                    barrier.wait();
                    claim_job_period(&mut c, "reconcile", 42, &format!("server-{k}"), 1_000)
                        .unwrap()
                })
            })
            .collect();
        let claimed = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|c| *c)
            .count();
        assert_eq!(claimed, 1, "{backend}");
        let mut c = db.conn().unwrap();
        assert!(
            !claim_job_period(&mut c, "reconcile", 42, "server-0", 2_000).unwrap(),
            "{backend}: taken"
        );
        assert!(
            claim_job_period(&mut c, "reconcile", 43, "server-0", 2_000).unwrap(),
            "{backend}: the next period"
        );
        assert!(
            claim_job_period(&mut c, "daily", 42, "server-0", 2_000).unwrap(),
            "{backend}: another job"
        );
        assert_eq!(sweep_job_periods(&mut c, 1_500).unwrap(), 1, "{backend}");
        assert_eq!(sweep_job_periods(&mut c, 1_500).unwrap(), 0, "{backend}");
    });
}

#[test]
fn concurrent_feedback_never_passes_the_daily_limit() {
    each_backend(|db, backend| {
        let mut c = db.conn().unwrap();
        let u = create_user(&mut c, "13709812688", "hash", Money::ZERO, 1)
            .unwrap()
            .unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 5, 1).unwrap();
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(12));
        let handles: Vec<_> = (0..12)
            .map(|k| {
                let (db, barrier, user) = (db.clone(), barrier.clone(), u.id.clone());
                std::thread::spawn(move || {
                    let mut c = db.dedicated().unwrap();
                    barrier.wait();
                    (0..2)
                        .filter(|i| {
                            add_feedback_within(
                                &mut c,
                                &user,
                                "13709812688",
                                "1",
                                &format!("建议 {k}-{i}"),
                                day,
                                10,
                                10,
                            )
                            .unwrap()
                        })
                        .count()
                })
            })
            .collect();
        let kept: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(kept, 10, "{backend}: 24 tries at once, a limit of 10");
        assert_eq!(count_feedback(&mut c, "13709812688", day).unwrap(), 10);
        // Another day has its own limit.
        let next = day.succ_opt().unwrap();
        assert!(add_feedback_within(&mut c, &u.id, "13709812688", "1", "x", next, 11, 10).unwrap());
    });
}
