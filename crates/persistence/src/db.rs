//! Connections, the pool, migrations and transactions, for SQLite and PostgreSQL alike.
//!
//! One code path serves both backends through diesel's `MultiConnection`: every query is written
//! once against [`DbConnection`], and diesel dispatches it to the backend the URL chose. We chose
//! it over a generic `Connection` type parameter (which would make every repository function
//! generic and every caller name the backend) and over two copies of the queries (which drift).
//! Its limits shape the schema: ids are `Text`, money is `BigInt` 分 and rates are `Text` (no
//! `Numeric` through `f64`), and the few statements where the backends differ (an insert that
//! ignores a duplicate, the write lock of SQLite) match on the inner connection.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{ManageConnection, Pool, PooledConnection, R2D2Connection};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::group_commit;

/// Migrations of each backend, embedded in the binary; both folders use the same version names.
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// How long a SQLite writer waits for the write lock before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 10_000;

/// Settings SQLite keeps per connection, applied once to every connection the server opens (and
/// never again: setting a flag pragma such as `foreign_keys`, even to the value it has, expires
/// every prepared statement of the connection, so each query would be parsed and planned anew).
/// `synchronous = FULL`: in WAL mode a commit returns only once the WAL is on the disk, so a
/// committed payment order, settlement or ledger row survives a power cut. (NORMAL survives a
/// crash of the process but may lose the last commits to a power cut: money could then have
/// moved for an order the database forgot.)
const SQLITE_PER_CONNECTION: &str = "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;";

/// A connection to either backend.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// The embedded default: a file, no server.
    Sqlite(SqliteConnection),
    /// What a lender runs in production; lets several server processes share state.
    Pg(PgConnection),
}

/// Which database a URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A parsed `CASHLOAN_DATABASE_URL`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatabaseUrl {
    /// The backend.
    pub backend: Backend,
    /// What the driver is given: a file path for SQLite, the URL itself for PostgreSQL.
    pub target: String,
}

impl DatabaseUrl {
    /// `postgres://…` or `postgresql://…` is PostgreSQL; `sqlite://path` or a bare path is SQLite.
    pub fn parse(url: &str) -> Result<DatabaseUrl, DbError> {
        let url = url.trim();
        if url.is_empty() {
            return Err(DbError::Config("the database URL is empty".into()));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl {
                backend: Backend::Postgres,
                target: url.to_owned(),
            });
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() || path.contains("://") {
            return Err(DbError::Config(format!(
                "unsupported database URL scheme in {:?}: use sqlite://PATH or postgres://…",
                redact(url)
            )));
        }
        Ok(DatabaseUrl {
            backend: Backend::Sqlite,
            target: path.to_owned(),
        })
    }
}

/// The URL with any password replaced, for logs and errors.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Errors of the persistence layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// Bad configuration (URL).
    #[error("database configuration: {0}")]
    Config(String),
    /// Could not connect.
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    /// The pool had no connection in time.
    #[error("no database connection available: {0}")]
    Pool(String),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// A query failed.
    #[error("database query failed: {0}")]
    Query(#[from] DieselError),
    /// A write done for several callers at once failed; each of them gets its text.
    #[error("batched database write failed: {0}")]
    Batch(String),
    /// A stored value could not be read back (a bug or a hand-edited row).
    #[error("corrupt stored value in {table}.{column}: {value:?}")]
    Corrupt {
        /// Table.
        table: &'static str,
        /// Column.
        column: &'static str,
        /// The value found.
        value: String,
    },
}

impl DbError {
    /// Whether the error is a unique-constraint violation (someone else won a race).
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            DbError::Query(DieselError::DatabaseError(
                DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }
}

/// Result of the persistence layer.
pub type DbResult<T> = Result<T, DbError>;

/// Why a transaction body gave up: a database error, or an answer for the caller (which rolls
/// the transaction back just the same).
pub(crate) enum Abort<T> {
    /// The database failed.
    Db(DbError),
    /// The caller's answer.
    Answer(T),
}

impl<T> From<DbError> for Abort<T> {
    fn from(e: DbError) -> Self {
        Abort::Db(e)
    }
}

impl<T> From<DieselError> for Abort<T> {
    fn from(e: DieselError) -> Self {
        Abort::Db(e.into())
    }
}

/// The outcome of an insert that a unique constraint may refuse: `Ok(true)` when the row was
/// written, `Ok(false)` when someone got there first (a concurrent request included).
pub fn inserted(result: Result<usize, DieselError>) -> DbResult<bool> {
    match result {
        Ok(_) => Ok(true),
        Err(e) => {
            let e = DbError::from(e);
            if e.is_unique_violation() {
                Ok(false)
            } else {
                Err(e)
            }
        }
    }
}

/// Opens connections of one backend for the pool.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        establish_pooled(&self.url).map_err(|e| {
            diesel::r2d2::Error::ConnectionError(diesel::ConnectionError::BadConnection(
                e.to_string(),
            ))
        })
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

/// Opens a connection for the pool. On a SQLite file it reads only (`query_only`): every write
/// goes through [`write_transaction`], which runs it on the file's write group. A write
/// outside it would take SQLite's lock behind the group's back, and the two would then meet in
/// SQLite's busy handler, which sleeps up to 100 ms between tries; refused, such a write fails
/// every test that reaches it instead.
fn establish_pooled(url: &DatabaseUrl) -> DbResult<DbConnection> {
    let mut conn = establish(url)?;
    if let DbConnection::Sqlite(c) = &mut conn {
        if group_commit::file_of(c)?.is_some() {
            c.batch_execute("PRAGMA query_only = ON;")?;
        }
    }
    Ok(conn)
}

/// Opens one connection, with the SQLite settings applied.
pub(crate) fn establish(url: &DatabaseUrl) -> DbResult<DbConnection> {
    match url.backend {
        Backend::Sqlite => {
            let mut c = SqliteConnection::establish(&url.target)
                .map_err(|e| DbError::Connect(e.to_string()))?;
            // busy_timeout first, so that even switching to WAL waits for a lock instead of
            // failing while the pool opens several connections at once. WAL lets readers run
            // while one writer writes.
            c.batch_execute(&format!(
                "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}; PRAGMA journal_mode = WAL; {SQLITE_PER_CONNECTION}"
            ))?;
            Ok(DbConnection::Sqlite(c))
        }
        Backend::Postgres => PgConnection::establish(&url.target)
            .map(DbConnection::Pg)
            .map_err(|e| DbError::Connect(redact(&e.to_string()))),
    }
}

/// A pooled connection.
pub type PooledDb = PooledConnection<ConnectionManager>;

/// The database: a pool of connections to one backend, migrated.
#[derive(Clone)]
pub struct Db {
    pool: Pool<ConnectionManager>,
    backend: Backend,
    url: DatabaseUrl,
    waits: Arc<PoolWaits>,
    /// The SQLite file's write group, held while the `Db` is (dropped after the pool).
    _group: Option<Arc<group_commit::Group>>,
    /// SQLite's checkpointer for this file, stopped when the last clone goes (dropped last).
    _checkpointer: Option<Arc<Checkpointer>>,
}

/// How often the write-ahead log of a SQLite file is copied into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(50);

/// Copies a SQLite file's write-ahead log into the database on a thread of its own, for the
/// commits of the file's write group, which has `wal_autocheckpoint = 0`. SQLite's default does
/// it inside the commit that takes the log past 1 000 pages, with the file's write turn held: a checkpoint of a busy log took 124 ms there, every writer of the process waiting
/// behind it. A passive checkpoint here takes no lock writers need; the next writer after a
/// complete one starts the log again from its beginning, so it stays small. A connection that
/// writes on its own (the daily job's) keeps SQLite's default: its back-to-back transactions
/// leave a passive checkpoint no moment to complete, and its log grew to 690 MB.
struct Checkpointer {
    /// Dropped with the `Db`: the thread sees its channel close and ends.
    stop: Option<std::sync::mpsc::Sender<()>>,
    /// Joined on drop, so that its connection is closed when the `Db` is gone: the connection
    /// that closes last checkpoints the log and removes it (the next process to open the file
    /// then has no log to read back first).
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Checkpointer {
    fn start(
        url: &DatabaseUrl,
        group: Option<std::sync::Weak<group_commit::Group>>,
    ) -> DbResult<Arc<Checkpointer>> {
        let mut conn = establish(url)?;
        // Only after the group's commits: a process whose writes all go through a connection of
        // their own (`cashloan batch`) checkpoints as SQLite does, and a checkpoint beside it only
        // competed for the disk (its first run took 18.2 s instead of 15.0).
        let mut seen = 0;
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(CHECKPOINT_EVERY)
                {
                    let Some(commits) = group.as_ref().and_then(|g| g.upgrade()).map(|g| g.commits())
                    else {
                        continue;
                    };
                    if commits == seen {
                        continue;
                    }
                    seen = commits;
                    if let Err(e) = conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE);") {
                        tracing::warn!(error = %e, "checkpointing the SQLite write-ahead log failed");
                    }
                }
            })
            .map_err(|e| DbError::Connect(format!("cannot start the checkpointer: {e}")))?;
        Ok(Arc::new(Checkpointer {
            stop: Some(stop),
            thread: Some(thread),
        }))
    }
}

/// Checkouts that found no idle connection, and how long they waited.
#[derive(Debug, Default)]
struct PoolWaits {
    count: AtomicU64,
    micros: AtomicU64,
}

/// A checkout that took longer than this waited for a connection (an idle one takes
/// microseconds).
const WAITED: Duration = Duration::from_millis(1);

/// What the pool looks like now, for the metrics.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PoolStats {
    /// Connections open (in use or idle).
    pub connections: u32,
    /// Of those, idle.
    pub idle: u32,
    /// Most connections the pool opens.
    pub max: u32,
    /// Checkouts since start that had to wait for a connection.
    pub waits: u64,
    /// Their waiting in all, seconds.
    pub wait_seconds: f64,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

/// Applies the pending migrations of `url`'s backend; returns how many ran.
pub fn migrate(url: &str) -> DbResult<usize> {
    let url = DatabaseUrl::parse(url)?;
    let mut conn = establish(&url)?;
    run_migrations(&mut conn)
}

fn run_migrations(conn: &mut DbConnection) -> DbResult<usize> {
    let applied = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
        DbConnection::Pg(c) => c
            .run_pending_migrations(POSTGRES_MIGRATIONS)
            .map(|v| v.len()),
    }
    .map_err(|e| DbError::Migration(e.to_string()))?;
    Ok(applied)
}

impl Db {
    /// Connects to `url`, applies pending migrations and opens a pool of up to `max_size`
    /// connections.
    pub fn open(url: &str, max_size: u32) -> DbResult<Db> {
        let parsed = DatabaseUrl::parse(url)?;
        {
            // Migrate on one plain connection before the pool opens others.
            let mut conn = establish(&parsed)?;
            let applied = run_migrations(&mut conn)?;
            if applied > 0 {
                tracing::info!(applied, backend = ?parsed.backend, "applied database migrations");
            }
        }
        let backend = parsed.backend;
        let pool = Pool::builder()
            .max_size(max_size.max(1))
            .connection_timeout(Duration::from_secs(30))
            .build(ConnectionManager {
                url: parsed.clone(),
            })
            .map_err(|e| DbError::Connect(redact(&e.to_string())))?;
        let (group, checkpointer) = match backend {
            Backend::Sqlite => {
                let mut conn = establish(&parsed)?;
                let group = match &mut conn {
                    DbConnection::Sqlite(c) => group_commit::group_of(c)?,
                    DbConnection::Pg(_) => None,
                };
                let weak = group.as_ref().map(Arc::downgrade);
                (group, Some(Checkpointer::start(&parsed, weak)?))
            }
            Backend::Postgres => (None, None),
        };
        Ok(Db {
            pool,
            backend,
            url: parsed,
            waits: Arc::default(),
            _group: group,
            _checkpointer: checkpointer,
        })
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A connection from the pool.
    pub fn conn(&self) -> DbResult<PooledDb> {
        let asked = Instant::now();
        let got = self.pool.get().map_err(|e| DbError::Pool(e.to_string()));
        let waited = asked.elapsed();
        if waited >= WAITED {
            self.waits.count.fetch_add(1, Ordering::Relaxed);
            let micros = u64::try_from(waited.as_micros()).unwrap_or(u64::MAX);
            self.waits.micros.fetch_add(micros, Ordering::Relaxed);
        }
        got
    }

    /// An idle connection from the pool if there is one now, without waiting (for a thread that
    /// must not block, which does its work elsewhere otherwise).
    pub fn idle_conn(&self) -> Option<PooledDb> {
        self.pool.try_get()
    }

    /// The pool's connections now, and the checkouts that waited.
    pub fn pool_stats(&self) -> PoolStats {
        let state = self.pool.state();
        PoolStats {
            connections: state.connections,
            idle: state.idle_connections,
            max: self.pool.max_size(),
            waits: self.waits.count.load(Ordering::Relaxed),
            wait_seconds: self.waits.micros.load(Ordering::Relaxed) as f64 / 1e6,
        }
    }

    /// Whether the server can serve: a connection answers within `timeout` and no migration of
    /// this build is missing from the database.
    pub fn ready(&self, timeout: Duration) -> DbResult<()> {
        let mut conn = self
            .pool
            .get_timeout(timeout)
            .map_err(|e| DbError::Pool(e.to_string()))?;
        conn.batch_execute("SELECT 1")?;
        let pending = match &mut *conn {
            DbConnection::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
            DbConnection::Pg(c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
        }
        .map_err(|e| DbError::Migration(e.to_string()))?;
        if pending {
            return Err(DbError::Migration(
                "the database lacks migrations of this build".into(),
            ));
        }
        Ok(())
    }

    /// A connection of its own, outside the pool, for a writer that keeps one for its lifetime
    /// (so it never waits behind requests for a pooled one, nor takes one from them).
    pub fn dedicated(&self) -> DbResult<DbConnection> {
        establish(&self.url)
    }
}

/// SQLite's `synchronous` setting of this connection (0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA); `None`
/// on PostgreSQL, which is durable at commit unless its server is told otherwise.
pub fn sqlite_synchronous(conn: &mut DbConnection) -> DbResult<Option<i32>> {
    #[derive(diesel::QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        synchronous: i32,
    }
    match conn {
        DbConnection::Sqlite(c) => {
            let row: Setting =
                diesel::RunQueryDsl::get_result(diesel::sql_query("PRAGMA synchronous"), c)?;
            Ok(Some(row.synchronous))
        }
        DbConnection::Pg(_) => Ok(None),
    }
}

/// `rows` parenthesised lists of `columns` parameters for a multi-row `VALUES`, as the
/// connection's backend spells them: `?` for SQLite, where numbered names are looked up one by
/// one against every earlier one (quadratic in a statement of thousands), `$1, $2, …` for
/// PostgreSQL.
pub fn values_placeholders(conn: &DbConnection, rows: usize, columns: usize) -> String {
    let sqlite = matches!(conn, DbConnection::Sqlite(_));
    let mut out = String::with_capacity(rows * columns * 6);
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..columns {
            if c > 0 {
                out.push_str(", ");
            }
            if sqlite {
                out.push('?');
            } else {
                out.push('$');
                out.push_str(&(r * columns + c + 1).to_string());
            }
        }
        out.push(')');
    }
    out
}

/// Sets SQLite's page cache of this connection to `kib` KiB (nothing on PostgreSQL, whose cache
/// is the server's). For a connection of its own doing bulk work.
pub fn set_page_cache(conn: &mut DbConnection, kib: u32) -> DbResult<()> {
    if let DbConnection::Sqlite(c) = conn {
        c.batch_execute(&format!("PRAGMA cache_size = -{kib};"))
            .map_err(DbError::Query)?;
    }
    Ok(())
}

/// Begins a read transaction: every statement until [`end_read`] sees one snapshot. A write
/// inside it fails on SQLite ([`write_transaction`] refuses to begin inside another transaction there);
/// on PostgreSQL it is a savepoint of the read.
pub fn begin_read(conn: &mut DbConnection) -> DbResult<()> {
    per_backend!(conn, c => AnsiTransactionManager::begin_transaction(c)).map_err(DbError::Query)
}

/// Ends the read transaction [`begin_read`] began.
pub fn end_read(conn: &mut DbConnection) -> DbResult<()> {
    per_backend!(conn, c => AnsiTransactionManager::commit_transaction(c)).map_err(DbError::Query)
}

/// Runs `f` in a transaction that takes the write lock at its start, and commits it when `f`
/// returns `Ok` (returning only once the commit is durable), or rolls it back when `f` returns
/// `Err`.
///
/// On PostgreSQL a plain `BEGIN` on `conn` (row locks serialise guarded updates). On a SQLite
/// file, `f` runs on that file's write group (`group_commit.rs`): in a savepoint of a
/// transaction that the writers queued at the same moment share, so that one flush of the disk
/// commits several of them; `f` is given the group's connection, not `conn`. A SQLite database
/// without a file, a `conn` already in a transaction (which fails, as a write inside a read
/// must) and a write inside another write take the plain path: `BEGIN IMMEDIATE` on `conn`.
pub fn write_transaction<T, E>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<DbError>,
{
    let group = match conn {
        DbConnection::Pg(_) => None,
        DbConnection::Sqlite(c) => {
            if group_commit::holds_turn() {
                return if at_rest(c) {
                    plain_transaction(conn, f)
                } else {
                    // A write helper called inside a write: a savepoint of it.
                    savepoint(conn, f)
                };
            }
            if !at_rest(c) {
                return plain_transaction(conn, f);
            }
            group_commit::group_of(c).map_err(E::from)?
        }
    };
    match (group, &*conn) {
        (Some(group), _) => group.write(f),
        (None, DbConnection::Sqlite(_)) => {
            let _turn = group_commit::unfiled_turn();
            plain_transaction(conn, f)
        }
        (None, DbConnection::Pg(_)) => plain_transaction(conn, f),
    }
}

/// A write that needs no transaction of its own on PostgreSQL (one statement, or several
/// whose order is all that matters): run as is there, and through [`write_transaction`] on
/// SQLite, where every write of the process goes through the file's write group. Inside a
/// write it is a savepoint of that write.
pub fn write_statement<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> DbResult<T>,
) -> DbResult<T> {
    match conn {
        DbConnection::Pg(_) => f(conn),
        DbConnection::Sqlite(_) => write_transaction(conn, f),
    }
}

/// [`write_statement`] for `f` of exactly one statement: inside a write it runs as it is, with
/// no savepoint around it (a statement that fails changes nothing by itself, and its error goes
/// to the write, which then rolls back or carries on as it decides). Each savepoint costs two
/// more statements parsed with the write turn held.
pub fn write_one_statement<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> DbResult<T>,
) -> DbResult<T> {
    let inside_a_write = match conn {
        DbConnection::Sqlite(c) => group_commit::holds_turn() && !at_rest(c),
        DbConnection::Pg(_) => false,
    };
    if inside_a_write {
        f(conn)
    } else {
        write_statement(conn, f)
    }
}

/// `f` in a savepoint of the transaction `conn` is in.
fn savepoint<T, E>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<DbError>,
{
    per_backend!(conn, c => AnsiTransactionManager::begin_transaction(c))
        .map_err(|e| E::from(DbError::Query(e)))?;
    let outcome = f(conn);
    let end = match &outcome {
        Ok(_) => per_backend!(conn, c => AnsiTransactionManager::commit_transaction(c)),
        Err(_) => per_backend!(conn, c => AnsiTransactionManager::rollback_transaction(c)),
    };
    match (outcome, end) {
        (Ok(v), Ok(())) => Ok(v),
        (Ok(_), Err(e)) => Err(E::from(DbError::Query(e))),
        (Err(e), _) => Err(e),
    }
}

/// [`write_transaction`] on `conn` itself, never on a write group: for bulk work on a
/// connection with settings of its own (the daily job's page cache). On a SQLite file it waits
/// for the file's turn and commits the open group first, so it never waits on SQLite's lock.
pub fn write_transaction_alone<T, E>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<DbError>,
{
    let group = match conn {
        DbConnection::Pg(_) => None,
        DbConnection::Sqlite(c) => {
            if group_commit::holds_turn() || !at_rest(c) {
                return plain_transaction(conn, f);
            }
            group_commit::group_of(c).map_err(E::from)?
        }
    };
    match (group, &*conn) {
        (Some(group), _) => group
            .write_alone(|| plain_transaction(conn, f))
            .map_err(E::from)?,
        (None, DbConnection::Sqlite(_)) => {
            let _turn = group_commit::unfiled_turn();
            plain_transaction(conn, f)
        }
        (None, DbConnection::Pg(_)) => plain_transaction(conn, f),
    }
}

/// Whether a SQLite connection is outside any transaction.
fn at_rest(c: &mut SqliteConnection) -> bool {
    matches!(
        AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth(),
        Ok(None)
    )
}

/// `BEGIN IMMEDIATE` (SQLite, so two writers queue for the lock instead of one failing when it
/// upgrades a read lock) or `BEGIN` (PostgreSQL) on `conn`, `f`, then commit or roll back.
fn plain_transaction<T, E>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<DbError>,
{
    let begun = match conn {
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")
        }
        DbConnection::Pg(c) => AnsiTransactionManager::begin_transaction(c),
    };
    begun.map_err(|e| E::from(DbError::Query(e)))?;
    let outcome = f(conn);
    let end = match (&outcome, &mut *conn) {
        (Ok(_), DbConnection::Sqlite(c)) => AnsiTransactionManager::commit_transaction(c),
        (Ok(_), DbConnection::Pg(c)) => AnsiTransactionManager::commit_transaction(c),
        (Err(_), DbConnection::Sqlite(c)) => AnsiTransactionManager::rollback_transaction(c),
        (Err(_), DbConnection::Pg(c)) => AnsiTransactionManager::rollback_transaction(c),
    };
    match (outcome, end) {
        (Ok(v), Ok(())) => Ok(v),
        (Ok(_), Err(e)) => Err(E::from(DbError::Query(e))),
        (Err(e), Ok(())) => Err(e),
        (Err(e), Err(rollback)) => {
            tracing::error!(error = %rollback, "rollback failed");
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_database_urls() {
        let u = DatabaseUrl::parse("sqlite://cashloan.db").unwrap();
        assert_eq!(
            (u.backend, u.target.as_str()),
            (Backend::Sqlite, "cashloan.db")
        );
        let u = DatabaseUrl::parse("/tmp/x.db").unwrap();
        assert_eq!(
            (u.backend, u.target.as_str()),
            (Backend::Sqlite, "/tmp/x.db")
        );
        let u = DatabaseUrl::parse("sqlite:///var/lib/cashloan.db").unwrap();
        assert_eq!(u.target, "/var/lib/cashloan.db");
        let u = DatabaseUrl::parse("postgres://u:p@localhost:5432/db").unwrap();
        assert_eq!(u.backend, Backend::Postgres);
        assert!(DatabaseUrl::parse("mysql://x").is_err());
        assert!(DatabaseUrl::parse("").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/cashloan"),
            "postgres://app:***@db:5432/cashloan"
        );
        assert_eq!(redact("postgres://db/cashloan"), "postgres://db/cashloan");
        assert_eq!(redact("cashloan.db"), "cashloan.db");
    }
}
