//! Write transactions of concurrent writers: each writer's outcome is its own, a writer is
//! answered `Ok` only once its writes are committed, and a commit that fails fails every writer
//! whose writes it carried (on SQLite, where one commit carries several writers).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use cashloan_persistence::db::{begin_read, end_read, sqlite_synchronous};
use cashloan_persistence::{write_transaction, write_transaction_alone, Db, DbConnection, DbError};
use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Text};
use diesel::{QueryableByName, RunQueryDsl};

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = Text)]
    id: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn make_tables(db: &Db) {
    // On a connection of its own: the pool's read only on SQLite, every write goes through
    // write_transaction.
    db.dedicated()
        .unwrap()
        .batch_execute(
            "CREATE TABLE gc_parent (id TEXT PRIMARY KEY);
             CREATE TABLE gc_probe (id TEXT PRIMARY KEY, parent TEXT
                 REFERENCES gc_parent (id) DEFERRABLE INITIALLY DEFERRED);",
        )
        .unwrap();
}

fn insert(conn: &mut DbConnection, id: &str, parent: Option<&str>) -> Result<(), DbError> {
    let sql = match conn {
        DbConnection::Sqlite(_) => "INSERT INTO gc_probe (id, parent) VALUES (?, ?)",
        DbConnection::Pg(_) => "INSERT INTO gc_probe (id, parent) VALUES ($1, $2)",
    };
    diesel::sql_query(sql)
        .bind::<Text, _>(id)
        .bind::<diesel::sql_types::Nullable<Text>, _>(parent)
        .execute(conn)?;
    Ok(())
}

fn stored(db: &Db) -> HashSet<String> {
    diesel::sql_query("SELECT id FROM gc_probe")
        .load::<Id>(&mut *db.conn().unwrap())
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect()
}

#[derive(Debug)]
enum Failed {
    Db(DbError),
    Refused,
}

impl From<DbError> for Failed {
    fn from(e: DbError) -> Self {
        Failed::Db(e)
    }
}

#[test]
fn concurrent_writers_get_their_own_outcomes_and_only_committed_writes_are_answered_ok() {
    common::each_backend(|db, backend| {
        make_tables(db);
        let threads = 12;
        let each = 30;
        let start = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let db = db.clone();
                let start = Arc::clone(&start);
                thread::spawn(move || {
                    start.wait();
                    let mut outcomes = Vec::new();
                    for i in 0..each {
                        let id = format!("{t}-{i}");
                        let mut conn = db.conn().unwrap();
                        // Every seventh writer writes, then refuses: its row must go.
                        let refuse = (t * each + i) % 7 == 3;
                        let outcome = write_transaction(&mut conn, |c| {
                            insert(c, &id, None)?;
                            if refuse {
                                return Err(Failed::Refused);
                            }
                            Ok(())
                        });
                        outcomes.push((id, refuse, outcome));
                    }
                    outcomes
                })
            })
            .collect();
        let outcomes: Vec<_> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        let rows = stored(db);
        let mut answered_ok = 0;
        for (id, refuse, outcome) in &outcomes {
            match outcome {
                Ok(()) => {
                    assert!(!refuse, "{backend}: {id} refused but answered Ok");
                    assert!(rows.contains(id), "{backend}: {id} answered Ok, not stored");
                    answered_ok += 1;
                }
                Err(Failed::Refused) => {
                    assert!(refuse, "{backend}: {id}");
                    assert!(!rows.contains(id), "{backend}: {id} refused, yet stored");
                }
                Err(Failed::Db(e)) => panic!("{backend}: {id}: {e}"),
            }
        }
        assert_eq!(rows.len(), answered_ok, "{backend}");
        let refused = (0..threads * each).filter(|k| k % 7 == 3).count();
        assert_eq!(answered_ok, threads * each - refused, "{backend}");
    });
}

#[test]
fn a_commit_that_fails_fails_every_writer_whose_writes_it_carried() {
    common::each_backend(|db, backend| {
        make_tables(db);
        // The first writer holds the turn while a second queues behind it: on SQLite the two
        // share one transaction (the first, finding a writer queued when its body ends, leaves
        // the commit to it; the second, finding nobody behind it, commits for both), and the
        // second's orphan row (a deferred foreign key, checked at commit) makes it fail. With a
        // third writer queued too, which of the later two commits first would depend on
        // timing (a transaction stays open at most a few ms after its first writer is done),
        // so the test keeps to two.
        // Everything the writers need before they queue is ready first (connections open, the
        // file's group made), so that on a slow machine the second is queued well before the
        // first is done.
        let mut conns: Vec<_> = (0..2).map(|_| db.conn().unwrap()).collect();
        for c in &mut conns {
            write_transaction(c, sqlite_synchronous).unwrap();
        }
        let mut first_conn = conns.pop().unwrap();
        let mut orphan_conn = conns.pop().unwrap();
        let first = thread::spawn(move || {
            write_transaction(&mut first_conn, |c| {
                insert(c, "first", None)?;
                thread::sleep(Duration::from_millis(800));
                Ok::<_, DbError>(())
            })
        });
        thread::sleep(Duration::from_millis(100));
        let orphan = thread::spawn(move || {
            write_transaction(&mut orphan_conn, |c| insert(c, "orphan", Some("nobody")))
        });
        let first = first.join().unwrap();
        let orphan = orphan.join().unwrap();
        let rows = stored(db);
        assert!(orphan.is_err(), "{backend}: the orphan's commit must fail");
        assert!(!rows.contains("orphan"), "{backend}");
        assert_eq!(
            first.is_ok(),
            rows.contains("first"),
            "{backend}: first answered {first:?}"
        );
        if backend == "sqlite" {
            assert!(
                first.is_err() && rows.is_empty(),
                "sqlite: one commit carried both: {first:?} {orphan:?} {rows:?}"
            );
        }
        // The writers after it are not affected.
        let mut conn = db.conn().unwrap();
        write_transaction(&mut conn, |c| insert(c, "after", None)).unwrap();
        assert!(stored(db).contains("after"), "{backend}");
    });
}

#[test]
fn a_writer_that_panics_leaves_nothing_and_the_next_writes() {
    common::each_backend(|db, backend| {
        make_tables(db);
        let panicked = {
            let db = db.clone();
            thread::spawn(move || {
                let mut conn = db.conn().unwrap();
                let _ = write_transaction(&mut conn, |c| {
                    insert(c, "panicked", None)?;
                    if c.batch_execute("SELECT 1").is_ok() {
                        panic!("a bug in a writer");
                    }
                    Ok::<_, DbError>(())
                });
            })
            .join()
        };
        assert!(panicked.is_err(), "{backend}: the panic reaches the caller");
        let mut conn = db.conn().unwrap();
        write_transaction(&mut conn, |c| insert(c, "next", None)).unwrap();
        let rows = stored(db);
        assert!(
            !rows.contains("panicked") && rows.contains("next"),
            "{backend}: {rows:?}"
        );
    });
}

#[test]
fn a_write_inside_a_read_still_fails_on_sqlite_and_the_writers_connection_commits_durably() {
    common::each_backend(|db, backend| {
        make_tables(db);
        let mut conn = db.conn().unwrap();
        if backend == "sqlite" {
            // Its snapshot would be older than the group's transaction: refused, as before.
            // (On PostgreSQL a write inside a read is a savepoint of it.)
            begin_read(&mut conn).unwrap();
            let inside = write_transaction(&mut conn, |c| insert(c, "inside", None));
            assert!(inside.is_err(), "{backend}");
            end_read(&mut conn).unwrap();
        }
        // The connection the body is given (the write group's, on SQLite) is durable at commit.
        let synchronous = write_transaction(&mut conn, sqlite_synchronous).unwrap();
        if backend == "sqlite" {
            assert_eq!(synchronous, Some(2), "synchronous = FULL");
        }
        assert!(stored(db).is_empty(), "{backend}");
    });
}

#[test]
fn a_writer_alone_and_grouped_writers_interleave_without_losing_a_write() {
    common::each_backend(|db, backend| {
        make_tables(db);
        let grouped: Vec<_> = (0..4)
            .map(|t| {
                let db = db.clone();
                thread::spawn(move || {
                    for i in 0..40 {
                        let mut conn = db.conn().unwrap();
                        write_transaction(&mut conn, |c| insert(c, &format!("g{t}-{i}"), None))
                            .unwrap();
                    }
                })
            })
            .collect();
        let mut own = db.dedicated().unwrap();
        for i in 0..20 {
            write_transaction_alone(&mut own, |c| {
                insert(c, &format!("alone-{i}"), None)?;
                insert(c, &format!("alone-{i}-b"), None)
            })
            .unwrap();
        }
        for h in grouped {
            h.join().unwrap();
        }
        let n: Count = diesel::sql_query("SELECT COUNT(*) AS n FROM gc_probe")
            .get_result(&mut *db.conn().unwrap())
            .unwrap();
        assert_eq!(n.n, 4 * 40 + 2 * 20, "{backend}");
    });
}

#[test]
fn the_checkpointer_copies_the_write_ahead_log_into_the_database_without_a_commit_doing_it() {
    common::install_test_key();
    let fresh = cashloan_test_support::fresh_sqlite();
    let path = fresh.url.trim_start_matches("sqlite://").to_owned();
    let db = Db::open(&fresh.url, 4).unwrap();
    make_tables(&db);
    let size = || std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let before = size();
    let mut conn = db.conn().unwrap();
    write_transaction(&mut conn, |c| {
        for i in 0..400 {
            insert(c, &format!("{i:04}{}", "x".repeat(1000)), None)?;
        }
        Ok::<_, DbError>(())
    })
    .unwrap();
    // No commit copies the log (`wal_autocheckpoint = 0`); the checkpointer does, within its
    // period. Wait generously for a loaded machine.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while size() < before + 300_000 && std::time::Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    assert!(
        size() >= before + 300_000,
        "the database file grew from {before} to {} bytes only",
        size()
    );
}

#[test]
fn a_writer_that_panics_inside_a_write_of_its_own_leaves_nothing_and_the_next_commits() {
    common::each_backend(|db, backend| {
        make_tables(db);
        let panicked = {
            let db = db.clone();
            thread::spawn(move || {
                let mut conn = db.conn().unwrap();
                let _ = write_transaction(&mut conn, |c| {
                    insert(c, "outer", None)?;
                    cashloan_persistence::db::write_statement(c, |c| {
                        insert(c, "inner", None)?;
                        if c.batch_execute("SELECT 1").is_ok() {
                            panic!("a bug in a nested write");
                        }
                        Ok(())
                    })
                });
            })
            .join()
        };
        assert!(panicked.is_err(), "{backend}: the panic reaches the caller");
        let mut conn = db.conn().unwrap();
        write_transaction(&mut conn, |c| insert(c, "next", None)).unwrap();
        drop(conn);
        // Read on a connection of its own: what is on the disk, not in an open transaction.
        let rows: HashSet<String> = diesel::sql_query("SELECT id FROM gc_probe")
            .load::<Id>(&mut db.dedicated().unwrap())
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(
            rows,
            HashSet::from(["next".to_owned()]),
            "{backend}: only the write after the panic"
        );
    });
}
