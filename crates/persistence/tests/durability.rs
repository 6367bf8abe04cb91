//! A commit that moves money is on the disk when it returns, on every connection the pool hands
//! out (SQLite keeps `synchronous` per connection, so the migration connection alone proves
//! nothing).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use cashloan_persistence::db::sqlite_synchronous;
use cashloan_persistence::DbConnection;
use diesel::sql_types::Text;
use diesel::{QueryableByName, RunQueryDsl};

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    synchronous_commit: String,
}

#[test]
fn every_pooled_connection_commits_durably() {
    common::each_backend(|db, backend| {
        // Hold several at once so the pool has to open new ones, then take them again.
        for _round in 0..2 {
            let mut held = Vec::new();
            for _ in 0..6 {
                let mut conn = db.conn().unwrap();
                match &mut *conn {
                    DbConnection::Sqlite(_) => {
                        assert_eq!(
                            sqlite_synchronous(&mut conn).unwrap(),
                            Some(2),
                            "{backend}: synchronous = FULL"
                        );
                    }
                    DbConnection::Pg(pg) => {
                        let s: Setting = diesel::sql_query("SHOW synchronous_commit")
                            .get_result(pg)
                            .unwrap();
                        assert_eq!(s.synchronous_commit, "on", "{backend}");
                    }
                }
                held.push(conn);
            }
        }
    });
}
