//! Statements that diesel would parse again at every execution, held prepared instead.
//!
//! diesel keeps a connection's statements prepared only when it can prove their text never
//! changes with their values: it refuses every `UPDATE` (a changeset may skip `None` fields),
//! every upsert, every `IN (…)` list and every `sql_query`. Each of those is parsed and planned
//! again each time it runs: on SQLite inside the file's write turn, with the triggers of the
//! table compiled into it; on PostgreSQL as a round trip of its own before the one that runs it.
//! [`Cached`] marks a statement whose text is fixed by the code that builds it (no list of a
//! length that comes from data, no optional field left out), so it is kept by its SQL text and
//! bind types, the way diesel keeps any statement it cannot name by type. A statement whose
//! text may vary with its values must not be wrapped: each variant would stay in the cache.

use std::cell::Cell;

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

/// A statement of fixed text, kept prepared on its connection (see the module's doc).
#[derive(Debug, Clone, Copy)]
pub struct Cached<Q>(pub Q);

/// Wraps `q`, a statement whose SQL text does not depend on its values, so that it is held
/// prepared.
pub fn cached<Q>(q: Q) -> Cached<Q> {
    Cached(q)
}

impl<Q> QueryId for Cached<Q> {
    type QueryId = ();
    // Not known by type: the cache keys it by its SQL text and bind types, which is exact.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q, DB> QueryFragment<DB> for Cached<Q>
where
    DB: Backend,
    Q: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        // diesel asks whether a statement may be kept by walking it with a pass of its own, and
        // it asks the statement behind a reference (`execute` takes `&query`), which walks it
        // whatever `is_safe_to_cache_prepared` says here. So the walk itself must not reach
        // the inner statement's refusal: the inner statement is walked only by the passes that
        // build the SQL or collect the binds. No public method tells the passes apart; the
        // helper of diesel's own `MultiConnection` derive does (a test below would fail with a
        // diesel that changed it: nothing would be kept).
        use diesel::internal::derives::multiconnection::AstPassHelper;
        if pass.bind_collector().is_some() || pass.debug_binds().is_some() {
            return self.0.walk_ast(pass);
        }
        let builds_sql = Cell::new(false);
        let mut pass = pass.cast_database::<DB>(
            |collector| collector,
            |builder: &mut DB::QueryBuilder| -> &mut DB::QueryBuilder {
                builds_sql.set(true);
                builder
            },
            |backend| backend,
            |lookup| lookup,
        );
        if builds_sql.get() {
            self.0.walk_ast(pass)
        } else {
            // The pass that asks whether it may be kept (yes), or whether it is a no-op (no).
            pass.push_sql("");
            Ok(())
        }
    }
}

impl<Q: Query> Query for Cached<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, Conn> RunQueryDsl<Conn> for Cached<Q> {}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use diesel::connection::{Instrumentation, InstrumentationEvent};
    use diesel::prelude::*;
    use diesel::sqlite::SqliteConnection;
    use std::sync::{Arc, Mutex};

    use super::cached;

    diesel::table! {
        t (id) {
            id -> Integer,
            v -> Integer,
        }
    }

    /// Counts the statements the connection prepares and keeps.
    #[derive(Clone, Default)]
    struct Kept(Arc<Mutex<Vec<String>>>);

    impl Instrumentation for Kept {
        fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
            if let InstrumentationEvent::CacheQuery { sql, .. } = event {
                self.0.lock().unwrap().push(sql.to_owned());
            }
        }
    }

    fn conn_with(kept: &Kept) -> SqliteConnection {
        let mut c = SqliteConnection::establish(":memory:").unwrap();
        diesel::connection::SimpleConnection::batch_execute(
            &mut c,
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL); INSERT INTO t VALUES (1, 0), (2, 0);",
        )
        .unwrap();
        c.set_instrumentation(kept.clone());
        c
    }

    #[test]
    fn an_update_is_prepared_once_and_runs_with_each_value() {
        let kept = Kept::default();
        let mut c = conn_with(&kept);
        for i in 1..=3 {
            let n = cached(
                diesel::update(t::table.filter(t::id.eq_any([1, 2]))).set(t::v.eq(t::v + i)),
            )
            .execute(&mut c)
            .unwrap();
            assert_eq!(n, 2);
        }
        let v: Vec<i32> = t::table.select(t::v).order(t::id).load(&mut c).unwrap();
        assert_eq!(v, [6, 6]);
        let updates = kept
            .0
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.starts_with("UPDATE"))
            .count();
        assert_eq!(
            updates,
            1,
            "kept once, run three times: {:?}",
            kept.0.lock().unwrap()
        );
    }

    #[test]
    fn diesel_alone_keeps_no_update() {
        let kept = Kept::default();
        let mut c = conn_with(&kept);
        for i in 1..=2 {
            diesel::update(t::table.find(1))
                .set(t::v.eq(i))
                .execute(&mut c)
                .unwrap();
        }
        assert!(kept
            .0
            .lock()
            .unwrap()
            .iter()
            .all(|s| !s.starts_with("UPDATE")));
    }

    #[test]
    fn a_kept_select_with_a_list_reads_what_each_call_asks() {
        let kept = Kept::default();
        let mut c = conn_with(&kept);
        diesel::update(t::table.find(2))
            .set(t::v.eq(7))
            .execute(&mut c)
            .unwrap();
        for (ids, want) in [([1, 1], 0), ([2, 2], 7)] {
            let got: i32 = cached(t::table.filter(t::id.eq_any(ids)).select(t::v).limit(1))
                .get_result(&mut c)
                .unwrap();
            assert_eq!(got, want);
        }
    }

    /// Through the connection the server uses (diesel's `MultiConnection`, which wraps each
    /// statement again), on each backend: an update, an upsert and a select with a list are
    /// each prepared once however often they run, and each run sees its own values.
    #[test]
    fn the_servers_connection_keeps_them_on_each_backend() {
        use crate::schema::{payment_orders, rate_counters};
        for fresh in cashloan_test_support::fresh_databases() {
            let db = crate::Db::open(&fresh.url, 2).unwrap();
            let mut c = db.dedicated().unwrap();
            let kept = Kept::default();
            c.set_instrumentation(kept.clone());
            for i in 0..3_i64 {
                let n = cached(
                    diesel::update(
                        payment_orders::table
                            .find("no such order")
                            .filter(payment_orders::status.eq_any(["pending", "unknown"])),
                    )
                    .set(payment_orders::updated_at.eq(i)),
                )
                .execute(&mut c)
                .unwrap();
                assert_eq!(n, 0);
                #[derive(diesel::QueryableByName)]
                struct Hits {
                    #[diesel(sql_type = diesel::sql_types::BigInt)]
                    hits: i64,
                }
                let hits: Vec<Hits> = cached(
                    diesel::sql_query(
                        "INSERT INTO rate_counters (bucket, window_start, hits) VALUES ($1, $2, 1) \
                         ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_counters.hits + 1 \
                         RETURNING CAST(hits AS BIGINT) AS hits",
                    )
                    .bind::<diesel::sql_types::Text, _>("kept")
                    .bind::<diesel::sql_types::BigInt, _>(7),
                )
                .load(&mut c)
                .unwrap();
                assert_eq!(hits.iter().map(|h| h.hits).collect::<Vec<_>>(), [i + 1]);
                let windows: i64 = cached(
                    rate_counters::table
                        .filter(rate_counters::bucket.eq_any(["kept", "other"]))
                        .count(),
                )
                .get_result(&mut c)
                .unwrap();
                assert_eq!(windows, 1);
            }
            let kept = kept.0.lock().unwrap();
            for start in ["UPDATE", "INSERT INTO rate_counters", "SELECT COUNT(*)"] {
                let n = kept.iter().filter(|s| s.starts_with(start)).count();
                assert_eq!(n, 1, "{}: {start} kept {n} times: {kept:?}", fresh.backend);
            }
        }
    }
}
