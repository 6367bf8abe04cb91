//! The daily job against its set-based reference, on copies of one SQLite book:
//!
//!     cargo run --release -p cashloan-bench -- daily BOOK.db [YYYY-MM-DD]
//!
//! (`BOOK.db` from `scripts/gen_book.py`, migrated; the date defaults to the book's 2026-06-15.)
//! Copy A runs `cashloan batch --date D` twice (the second run has nothing to do); copy B runs the
//! same effect as three set-based statements in one transaction (one UPDATE of the installments,
//! one INSERT … SELECT of the overdue messages, one of the reminders), the fastest the database
//! itself can do it. Prints the times and the ratio.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};

use cashloan_batch::REMIND_DAYS_BEFORE;

/// The reference: what the job writes for `date`, as three set-based statements. Penalties are
/// the job's rule (the daily penalty of the overdue principal and interest at the loan's rate
/// over 360, rounded to the cent, times the days overdue, at most the overdue amount); the
/// texts are the job's.
fn reference_sql(date: &str, horizon: &str, now: i64) -> String {
    format!(
        "BEGIN IMMEDIATE;
UPDATE installments SET
  overdue = (installments.due_date < '{date}'),
  penalty_cents = CASE WHEN installments.due_date < '{date}' THEN MIN(
      installments.principal_cents + installments.interest_cents,
      CAST(ROUND((installments.principal_cents + installments.interest_cents)
                 * CAST(COALESCE(a.penalty_rate, '0') AS REAL) / 360.0, 0)
           * (julianday('{date}') - julianday(installments.due_date)) AS INTEGER))
    ELSE 0 END,
  penalty_date = '{date}'
FROM applications a
WHERE a.id = installments.application_id AND installments.status = 0
  AND installments.due_date <= '{horizon}';
INSERT OR IGNORE INTO customer_messages (id, user_id, message_type, title, content, event_key, sent_at)
SELECT lower(hex(randomblob(16))), i.user_id, '17', '逾期提醒',
  printf('您的借款(%s)第%d期已于%s到期未还,应还%.2f元,逾期将产生罚息,请尽快还款。', a.loan_code,
         i.period, i.due_date,
         (i.principal_cents + i.interest_cents + i.fee_cents + i.penalty_cents) / 100.0),
  '17:' || i.id, {now}
FROM installments i JOIN applications a ON a.id = i.application_id
WHERE i.status = 0 AND i.due_date < '{date}';
INSERT OR IGNORE INTO customer_messages (id, user_id, message_type, title, content, event_key, sent_at)
SELECT lower(hex(randomblob(16))), i.user_id, '15', '还款提醒',
  printf('您的借款(%s)第%d期应于%s还款%.2f元,请按时还款。', a.loan_code, i.period, i.due_date,
         (i.principal_cents + i.interest_cents + i.fee_cents) / 100.0),
  CASE WHEN i.due_date = '{date}' THEN '15:due:' ELSE '15:before:' END || i.id, {now}
FROM installments i JOIN applications a ON a.id = i.application_id
WHERE i.status = 0 AND i.due_date >= '{date}' AND i.due_date <= '{horizon}';
COMMIT;"
    )
}

/// What a run left: messages, overdue installments, the sum of their penalties.
fn effect(db: &Path) -> (i64, i64, i64) {
    #[derive(diesel::QueryableByName)]
    struct Effect {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        messages: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        overdue: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        penalties: i64,
    }
    let mut conn = SqliteConnection::establish(&db.display().to_string()).expect("open");
    let e: Effect = diesel::RunQueryDsl::get_result(
        diesel::sql_query(
            "SELECT (SELECT count(*) FROM customer_messages) AS messages, \
             (SELECT count(*) FROM installments WHERE status = 0 AND overdue) AS overdue, \
             (SELECT COALESCE(sum(penalty_cents), 0) FROM installments WHERE status = 0) AS penalties",
        ),
        &mut conn,
    )
    .expect("read the effect");
    (e.messages, e.overdue, e.penalties)
}

fn copy_of(book: &Path, dir: &Path, name: &str) -> PathBuf {
    let to = dir.join(name);
    std::fs::copy(book, &to).expect("copy the book");
    to
}

fn seconds_of(started: Instant) -> f64 {
    started.elapsed().as_secs_f64()
}

/// `cashloan batch --date date` on `db` (with `--again` when `again`); seconds.
fn batch(server: &Path, db: &Path, date: &str, again: bool) -> f64 {
    let started = Instant::now();
    let mut args = vec!["batch", "--date", date];
    if again {
        args.push("--again");
    }
    let out = Command::new(server)
        .args(&args)
        .env(
            "CASHLOAN_DATABASE_URL",
            format!("sqlite://{}", db.display()),
        )
        .env("CASHLOAN_LOG", "error")
        .output()
        .expect("run cashloan batch");
    let took = seconds_of(started);
    assert!(out.status.success(), "cashloan batch: {out:?}");
    print!("    {}", String::from_utf8_lossy(&out.stdout));
    took
}

/// Runs the comparison; `args` are what follows `daily`.
pub fn run(server: &Path, args: &[String]) -> ExitCode {
    let Some(book) = args.first().map(PathBuf::from) else {
        eprintln!("cashloan-bench daily: name the book (scripts/gen_book.py makes one)");
        return ExitCode::from(2);
    };
    let date = args.get(1).cloned().unwrap_or_else(|| "2026-06-15".into());
    let Ok(day) = chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d") else {
        eprintln!("cashloan-bench daily: {date:?} is not YYYY-MM-DD");
        return ExitCode::from(2);
    };
    let horizon = (day + chrono::Days::new(REMIND_DAYS_BEFORE))
        .format("%Y-%m-%d")
        .to_string();
    let dir = tempfile::tempdir().expect("temporary folder");
    // Migrate the book first, so that neither side pays for a migration.
    let migrated = Command::new(server)
        .arg("migrate")
        .env(
            "CASHLOAN_DATABASE_URL",
            format!("sqlite://{}", book.display()),
        )
        .output()
        .expect("run cashloan migrate");
    assert!(migrated.status.success(), "cashloan migrate: {migrated:?}");

    let a = copy_of(&book, dir.path(), "a.db");
    println!("cashloan batch --date {date}:");
    let first = batch(server, &a, &date, false);
    // The date is claimed now: the second run is told to run it all the same.
    let again = batch(server, &a, &date, true);

    let b = copy_of(&book, dir.path(), "b.db");
    let now = 1_781_500_000_000_i64;
    let mut conn = SqliteConnection::establish(&b.display().to_string()).expect("open the copy");
    conn.batch_execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;")
        .expect("pragmas");
    let started = Instant::now();
    conn.batch_execute(&reference_sql(&date, &horizon, now))
        .expect("the reference SQL");
    let reference = seconds_of(started);
    drop(conn);
    // The reference must do what the job does, or the ratio means nothing.
    let (ea, eb) = (effect(&a), effect(&b));
    println!();
    println!(
        "effect (messages, overdue installments, penalties in 分): job {ea:?}, reference {eb:?}"
    );
    if ea != eb {
        eprintln!("cashloan-bench daily: the reference's effect differs from the job's");
        return ExitCode::FAILURE;
    }

    println!();
    println!("| run | seconds |");
    println!("|---|---|");
    println!("| `cashloan batch`, first run | {first:.2} |");
    println!("| `cashloan batch`, again (nothing to do) | {again:.3} |");
    println!("| set-based reference SQL | {reference:.2} |");
    println!();
    println!(
        "first run / reference: {:.2} × (target ≤ 1.5 ×); again: {again:.3} s (target < 0.5 s)",
        first / reference
    );
    ExitCode::SUCCESS
}
