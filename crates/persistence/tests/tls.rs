//! The bundled libpq (no system library) speaks TLS to PostgreSQL: a lender's database is rarely
//! on the same host, and its traffic carries borrowers' data.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cashloan_persistence::{Db, DbConnection};
use cashloan_test_support::fresh_postgres;
use diesel::sql_types::Bool;
use diesel::{QueryableByName, RunQueryDsl};

#[derive(QueryableByName)]
struct Ssl {
    #[diesel(sql_type = Bool)]
    ssl: bool,
}

#[test]
fn postgres_connections_use_tls_when_required() {
    if std::env::var_os("CASHLOAN_TEST_PG_TLS").is_none() {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr().lock(),
            "note: TLS test SKIPPED: CASHLOAN_TEST_PG_TLS is not set (scripts/with-postgres.sh sets it)"
        );
        return;
    }
    let fresh = fresh_postgres().expect("CASHLOAN_TEST_PG_TLS needs CASHLOAN_TEST_PG_URL too");
    let sep = if fresh.url.contains('?') { '&' } else { '?' };
    for (mode, want) in [("require", true), ("disable", false)] {
        let url = format!("{}{sep}sslmode={mode}", fresh.url);
        let db = Db::open(&url, 2).unwrap_or_else(|e| panic!("sslmode={mode}: {e}"));
        let mut conn = db.conn().unwrap();
        let DbConnection::Pg(pg) = &mut *conn else {
            panic!("a postgres:// URL gives a PostgreSQL connection");
        };
        let row: Ssl =
            diesel::sql_query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                .get_result(pg)
                .unwrap();
        assert_eq!(row.ssl, want, "sslmode={mode}");
    }
}
