//! `migrations/sqlite` and `migrations/postgres` are written twice, by hand: this test applies both
//! and fails when the schemas they make differ in meaning (a table, a column, its type, whether it
//! may be null, the primary key, a unique or ordinary index and its columns, whether an index is
//! partial). Needs PostgreSQL; without it the test says it skipped, like every other.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use cashloan_persistence::{Db, DbConnection};
use cashloan_test_support::fresh_databases;
use diesel::pg::PgConnection;
use diesel::sql_types::{Bool, Integer, Text};
use diesel::sqlite::SqliteConnection;
use diesel::{QueryableByName, RunQueryDsl};

/// A column as both backends can describe it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Column {
    name: String,
    family: String,
    nullable: bool,
    primary_key: bool,
}

/// An index, named by what it does rather than what it is called.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Index {
    columns: Vec<String>,
    unique: bool,
    partial: bool,
}

/// A table: its columns by name and its indexes (sorted).
#[derive(Debug, Default, PartialEq, Eq)]
struct Table {
    columns: Vec<Column>,
    indexes: Vec<Index>,
}

impl Table {
    /// The table of these columns and indexes, each in a fixed order.
    fn sorted(mut columns: Vec<Column>, mut indexes: Vec<Index>) -> Table {
        columns.sort();
        indexes.sort();
        Table { columns, indexes }
    }
}

type Schema = BTreeMap<String, Table>;

/// The one name of each column type family the migrations use.
fn family(declared: &str) -> String {
    match declared.to_ascii_lowercase().as_str() {
        "text" | "character varying" | "varchar" => "text".into(),
        "bigint" | "int8" => "bigint".into(),
        "integer" | "int" | "int4" => "integer".into(),
        "boolean" | "bool" => "boolean".into(),
        "blob" | "bytea" => "bytes".into(),
        other => format!("unknown:{other}"),
    }
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct SqliteColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    declared: String,
    #[diesel(sql_type = Integer)]
    notnull: i32,
    #[diesel(sql_type = Integer)]
    pk: i32,
}

#[derive(QueryableByName)]
struct SqliteIndex {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Integer)]
    uniq: i32,
    #[diesel(sql_type = Integer)]
    partial: i32,
    #[diesel(sql_type = Text)]
    origin: String,
}

/// `name` as an SQL string literal (names come from the catalogue, never from outside).
fn literal(name: &str) -> String {
    format!("'{}'", name.replace('\'', "''"))
}

fn sqlite_schema(conn: &mut SqliteConnection) -> Schema {
    let tables: Vec<Name> = diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name <> '__diesel_schema_migrations'",
    )
    .load(conn)
    .unwrap();
    let mut schema = Schema::new();
    for t in tables {
        let columns: Vec<SqliteColumn> = diesel::sql_query(format!(
            "SELECT name, type AS declared, \"notnull\", pk FROM pragma_table_info({})",
            literal(&t.name)
        ))
        .load(conn)
        .unwrap();
        let columns: Vec<Column> = columns
            .into_iter()
            .map(|c| Column {
                family: family(&c.declared),
                // SQLite lets a non-integer primary key hold NULL unless told otherwise; the
                // server never writes one, and PostgreSQL's primary keys are NOT NULL.
                nullable: c.notnull == 0 && c.pk == 0,
                primary_key: c.pk > 0,
                name: c.name,
            })
            .collect();
        let indexes: Vec<SqliteIndex> = diesel::sql_query(format!(
            "SELECT name, \"unique\" AS uniq, partial, origin FROM pragma_index_list({})",
            literal(&t.name)
        ))
        .load(conn)
        .unwrap();
        let mut found = Vec::new();
        for ix in indexes.into_iter().filter(|ix| ix.origin != "pk") {
            let cols: Vec<Name> = diesel::sql_query(format!(
                "SELECT name FROM pragma_index_info({}) ORDER BY seqno",
                literal(&ix.name)
            ))
            .load(conn)
            .unwrap();
            found.push(Index {
                columns: cols.into_iter().map(|c| c.name).collect(),
                unique: ix.uniq != 0,
                partial: ix.partial != 0,
            });
        }
        schema.insert(t.name, Table::sorted(columns, found));
    }
    schema
}

#[derive(QueryableByName)]
struct PgColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    declared: String,
    #[diesel(sql_type = Bool)]
    nullable: bool,
    #[diesel(sql_type = Bool)]
    primary_key: bool,
}

#[derive(QueryableByName)]
struct PgIndex {
    #[diesel(sql_type = Text)]
    columns: String,
    #[diesel(sql_type = Bool)]
    uniq: bool,
    #[diesel(sql_type = Bool)]
    partial: bool,
}

fn pg_schema(conn: &mut PgConnection) -> Schema {
    let tables: Vec<Name> = diesel::sql_query(
        "SELECT table_name::text AS name FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' \
         AND table_name <> '__diesel_schema_migrations'",
    )
    .load(conn)
    .unwrap();
    let mut schema = Schema::new();
    for t in tables {
        let columns: Vec<PgColumn> = diesel::sql_query(format!(
            "SELECT c.column_name::text AS name, c.data_type::text AS declared, \
                    c.is_nullable = 'YES' AS nullable, \
                    EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a \
                              ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
                            WHERE i.indrelid = c.table_name::regclass AND i.indisprimary \
                              AND a.attname = c.column_name) AS primary_key \
             FROM information_schema.columns c \
             WHERE c.table_schema = 'public' AND c.table_name = {}",
            literal(&t.name)
        ))
        .load(conn)
        .unwrap();
        let columns: Vec<Column> = columns
            .into_iter()
            .map(|c| Column {
                family: family(&c.declared),
                nullable: c.nullable,
                primary_key: c.primary_key,
                name: c.name,
            })
            .collect();
        let indexes: Vec<PgIndex> = diesel::sql_query(format!(
            "SELECT array_to_string(ARRAY(\
                 SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) \
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
                 ORDER BY k.ord), ',') AS columns, \
                    i.indisunique AS uniq, i.indpred IS NOT NULL AS partial \
             FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             WHERE n.nspname = 'public' AND t.relname = {} AND NOT i.indisprimary",
            literal(&t.name)
        ))
        .load(conn)
        .unwrap();
        let found: Vec<Index> = indexes
            .into_iter()
            .map(|ix| Index {
                columns: ix.columns.split(',').map(str::to_owned).collect(),
                unique: ix.uniq,
                partial: ix.partial,
            })
            .collect();
        schema.insert(t.name, Table::sorted(columns, found));
    }
    schema
}

/// What differs between the two schemas, one line each.
fn differences(sqlite: &Schema, pg: &Schema) -> Vec<String> {
    let mut found = Vec::new();
    for name in sqlite.keys().filter(|n| !pg.contains_key(*n)) {
        found.push(format!("table {name} only on SQLite"));
    }
    for name in pg.keys().filter(|n| !sqlite.contains_key(*n)) {
        found.push(format!("table {name} only on PostgreSQL"));
    }
    for (name, table) in sqlite {
        let Some(other) = pg.get(name) else { continue };
        for c in table
            .columns
            .iter()
            .filter(|c| c.family.starts_with("unknown"))
        {
            found.push(format!("{name}.{}: a type this test does not know", c.name));
        }
        if table.columns != other.columns {
            found.push(format!(
                "columns of {name}:\n  sqlite   {:?}\n  postgres {:?}",
                table.columns, other.columns
            ));
        }
        if table.indexes != other.indexes {
            found.push(format!(
                "indexes of {name}:\n  sqlite   {:?}\n  postgres {:?}",
                table.indexes, other.indexes
            ));
        }
    }
    found
}

/// Both schemas, freshly migrated; none when PostgreSQL is not configured (already said).
fn migrated_pair(drift: &str) -> Option<(Schema, Schema)> {
    common::install_test_key();
    let fresh = fresh_databases();
    if fresh.len() < 2 {
        return None;
    }
    let mut schemas = Vec::new();
    for f in &fresh {
        let db = Db::open(&f.url, 2).unwrap_or_else(|e| panic!("{}: {e}", f.backend));
        let mut conn = db.conn().unwrap();
        schemas.push(match &mut *conn {
            DbConnection::Sqlite(c) => sqlite_schema(c),
            DbConnection::Pg(c) => {
                if !drift.is_empty() {
                    diesel::connection::SimpleConnection::batch_execute(c, drift).unwrap();
                }
                pg_schema(c)
            }
        });
    }
    let pg = schemas.pop()?;
    let sqlite = schemas.pop()?;
    Some((sqlite, pg))
}

#[test]
fn both_backends_migrate_to_the_same_schema() {
    let Some((sqlite, pg)) = migrated_pair("") else {
        return;
    };
    assert!(
        sqlite.len() > 10,
        "the SQLite schema has its tables: {sqlite:?}"
    );
    let found = differences(&sqlite, &pg);
    assert!(
        found.is_empty(),
        "the migrations drifted apart:\n{}",
        found.join("\n")
    );
}

#[test]
fn a_drift_is_seen() {
    let Some((sqlite, pg)) = migrated_pair(
        "ALTER TABLE users ALTER COLUMN mobile DROP NOT NULL; \
         CREATE INDEX drift_probe_index ON installments (due_date); \
         ALTER TABLE payments ADD COLUMN drift_probe TEXT; \
         CREATE TABLE drift_probe (id TEXT PRIMARY KEY);",
    ) else {
        return;
    };
    let found = differences(&sqlite, &pg).join("\n");
    assert!(found.contains("columns of users"), "{found}");
    assert!(found.contains("indexes of installments"), "{found}");
    assert!(found.contains("columns of payments"), "{found}");
    assert!(
        found.contains("table drift_probe only on PostgreSQL"),
        "{found}"
    );
}

#[test]
fn type_families_name_both_spellings() {
    assert_eq!(family("TEXT"), family("text"));
    assert_eq!(family("BIGINT"), family("bigint"));
    assert_eq!(family("BOOLEAN"), family("boolean"));
    assert_eq!(family("INTEGER"), family("integer"));
    assert_ne!(family("INTEGER"), family("BIGINT"));
    assert!(family("NUMERIC").starts_with("unknown"));
}
