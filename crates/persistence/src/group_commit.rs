//! Group commit for SQLite: the write transactions of concurrent requests share one flush.
//!
//! SQLite has one writer per file and, with `synchronous = FULL`, a flush of the write-ahead log
//! at every commit. On this project's disk a flush takes about 0.7 ms, so one commit per
//! application or repayment bounded the money endpoints at the disk's flushes a second with the
//! CPU mostly idle. Here the writers of one file queue for one connection that keeps a
//! transaction open: each runs its body in a savepoint of that transaction (so a body that fails
//! undoes its own writes and nobody else's), and the writer that finds nobody queued behind it
//! commits for all of them. Nobody is answered before the commit holding its writes is on the
//! disk; when that commit fails, every writer in it gets the error and none of their writes
//! remain. Durability is that of a commit per writer; only the flushes are shared (as
//! PostgreSQL's `commit_delay` does).
//!
//! A writer sees the writes of the writers before it in its group, as it would have seen them
//! committed: they hold the turn one after the other either way.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::sqlite::SqliteConnection;

use crate::db::{Backend, DatabaseUrl, DbConnection, DbError};

/// Most writers one commit carries: bounds how long the first of them waits while writers keep
/// arriving.
const MOST_WRITERS: usize = 64;

/// Longest the first writer of a transaction waits, from the end of its body, for the writers
/// after it before one of them commits, for the same reason.
const LONGEST_OPEN: Duration = Duration::from_millis(4);

/// The writers of one database file in this process.
pub(crate) struct Group {
    /// The file, as SQLite names it (absolute).
    path: String,
    /// The file's device and inode when the group was made: a file made anew at the same path
    /// (a test that recreates its database) gets a group of its own, never this connection.
    identity: Option<(u64, u64)>,
    /// The write turn, with the connection and the open transaction.
    turn: Mutex<Turn>,
    /// Writers waiting for the turn now: the holder commits when there are none.
    queued: AtomicUsize,
    /// Commits so far (the checkpointer works only when there were some since its last look).
    commits: AtomicUsize,
}

/// What the holder of the turn owns.
#[derive(Default)]
struct Turn {
    /// The group's connection, opened on first use and again after one broke.
    conn: Option<DbConnection>,
    /// The transaction open on it, if any.
    open: Option<Generation>,
}

/// One open transaction: the writes of several writers, committed together.
struct Generation {
    writers: usize,
    /// When the first writer whose writes it holds finished its body.
    first_done: Option<Instant>,
    outcome: Arc<Outcome>,
}

/// How a transaction ended, for the writers waiting on it.
#[derive(Default)]
struct Outcome {
    ended: Mutex<Option<Result<(), String>>>,
    signal: Condvar,
}

impl Outcome {
    fn set(&self, result: Result<(), String>) {
        *lock(&self.ended) = Some(result);
        self.signal.notify_all();
    }

    fn wait(&self) -> Result<(), DbError> {
        let mut ended = lock(&self.ended);
        loop {
            match &*ended {
                Some(Ok(())) => return Ok(()),
                Some(Err(why)) => return Err(DbError::Batch(why.clone())),
                None => {
                    ended = self
                        .signal
                        .wait(ended)
                        .unwrap_or_else(PoisonError::into_inner);
                }
            }
        }
    }
}

thread_local! {
    /// Whether this thread holds a turn to write to SQLite (a write inside a write takes the
    /// plain path on the connection it was given, as it always did).
    static HOLDS_TURN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread holds a turn to write to SQLite now.
pub(crate) fn holds_turn() -> bool {
    HOLDS_TURN.with(std::cell::Cell::get)
}

/// Marks this thread as holding a turn while alive.
pub(crate) struct Holding(());

impl Holding {
    fn new() -> Holding {
        HOLDS_TURN.with(|h| h.set(true));
        Holding(())
    }
}

impl Drop for Holding {
    fn drop(&mut self) {
        HOLDS_TURN.with(|h| h.set(false));
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The turn of writers to databases without a file (`:memory:`), which have no group: a mutex
/// hands it on at once, where SQLite's busy handler sleeps 1, 2, 5 … up to 100 ms between tries.
static UNFILED_WRITERS: Mutex<()> = Mutex::new(());

/// The turn to write to a database without a file; `None` when this thread has a turn already.
pub(crate) fn unfiled_turn() -> Option<(MutexGuard<'static, ()>, Holding)> {
    if holds_turn() {
        return None;
    }
    let guard = lock(&UNFILED_WRITERS);
    Some((guard, Holding::new()))
}

/// The groups of this process. Each open `Db` of a file holds its group; the last to go closes
/// the group's connection (so the connection that closes last can checkpoint the log and remove
/// it, as SQLite does).
static GROUPS: Mutex<Vec<Weak<Group>>> = Mutex::new(Vec::new());

/// The group of the file `conn` writes to; `None` for a database without a file (`:memory:`,
/// a temporary database).
pub(crate) fn group_of(conn: &mut SqliteConnection) -> Result<Option<Arc<Group>>, DbError> {
    let Some(path) = file_of(conn)? else {
        return Ok(None);
    };
    let identity = file_identity(&path);
    let mut groups = lock(&GROUPS);
    groups.retain(|g| g.strong_count() > 0);
    if let Some(g) = groups
        .iter()
        .filter_map(Weak::upgrade)
        .find(|g| g.path == path && g.identity == identity)
    {
        return Ok(Some(g));
    }
    let group = Arc::new(Group {
        path,
        identity,
        turn: Mutex::new(Turn::default()),
        queued: AtomicUsize::new(0),
        commits: AtomicUsize::new(0),
    });
    groups.push(Arc::downgrade(&group));
    Ok(Some(group))
}

/// The file of the connection's main database; `None` when it has none (`:memory:`).
pub(crate) fn file_of(conn: &mut SqliteConnection) -> Result<Option<String>, DbError> {
    #[derive(diesel::QueryableByName)]
    struct File {
        #[diesel(sql_type = diesel::sql_types::Text)]
        file: String,
    }
    // Asked at every write: kept prepared.
    let rows: Vec<File> = diesel::RunQueryDsl::load(
        crate::cached::cached(diesel::sql_query(
            "SELECT file FROM pragma_database_list WHERE name = 'main'",
        )),
        conn,
    )?;
    Ok(rows
        .into_iter()
        .next()
        .map(|r| r.file)
        .filter(|f| !f.is_empty()))
}

#[cfg(unix)]
fn file_identity(path: &str) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_identity(_path: &str) -> Option<(u64, u64)> {
    None
}

/// What a writer's body returned, or its panic.
type Ran<T, E> = Result<Result<T, E>, Box<dyn std::any::Any + Send>>;

impl Group {
    /// Commits so far.
    pub(crate) fn commits(&self) -> usize {
        self.commits.load(Ordering::Acquire)
    }

    /// Waits for the turn.
    fn take_turn(&self) -> (MutexGuard<'_, Turn>, Holding) {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let turn = lock(&self.turn);
        self.queued.fetch_sub(1, Ordering::SeqCst);
        (turn, Holding::new())
    }

    /// Runs `f` in a savepoint of the group's transaction, on the group's connection; returns
    /// once the commit holding its writes is durable, or with the error that ended it.
    pub(crate) fn write<T, E>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<DbError>,
    {
        let (mut turn, holding) = self.take_turn();
        let (mut conn, outcome) = match self.open(&mut turn) {
            Ok(opened) => opened,
            Err(e) => return Err(E::from(e)),
        };
        let begun = match &mut conn {
            DbConnection::Sqlite(c) => AnsiTransactionManager::begin_transaction(c),
            DbConnection::Pg(c) => AnsiTransactionManager::begin_transaction(c),
        };
        if let Err(e) = begun {
            self.fail(&mut turn, conn, &e.to_string());
            return Err(E::from(DbError::Query(e)));
        }
        let ran: Ran<T, E> = catch_unwind(AssertUnwindSafe(|| f(&mut conn)));
        let kept = matches!(ran, Ok(Ok(_)));
        let ended = end_savepoint(&mut conn, kept);
        if let Err(e) = ended {
            // The savepoint is gone, and the transaction may be: nothing in it can be trusted.
            let why = e.to_string();
            self.fail(&mut turn, conn, &why);
            drop(turn);
            drop(holding);
            return match ran {
                Err(panic) => resume_unwind(panic),
                Ok(Err(own)) => Err(own),
                Ok(Ok(_)) => Err(E::from(DbError::Batch(why))),
            };
        }
        turn.conn = Some(conn);
        let commit_now = match turn.open.as_mut() {
            Some(g) => {
                if kept {
                    g.writers += 1;
                    g.first_done.get_or_insert_with(Instant::now);
                }
                self.queued.load(Ordering::SeqCst) == 0
                    || g.writers >= MOST_WRITERS
                    || g.first_done.is_some_and(|t| t.elapsed() >= LONGEST_OPEN)
            }
            None => false,
        };
        if commit_now {
            self.commit(&mut turn);
        }
        drop(turn);
        drop(holding);
        match ran {
            Err(panic) => resume_unwind(panic),
            // Its own writes are undone; whether the others' are durable is theirs to wait for.
            Ok(Err(own)) => Err(own),
            Ok(Ok(value)) => outcome.wait().map(|()| value).map_err(E::from),
        }
    }

    /// Runs `f` (a write transaction on a connection of the caller's) while holding the turn,
    /// after committing the open group: for bulk work with settings of its own (the daily job's
    /// page cache), which has no place on the group's connection.
    pub(crate) fn write_alone<T>(&self, f: impl FnOnce() -> T) -> Result<T, DbError> {
        let (mut turn, _holding) = self.take_turn();
        if let Some(outcome) = turn.open.as_ref().map(|g| Arc::clone(&g.outcome)) {
            self.commit(&mut turn);
            outcome.wait()?;
        }
        Ok(f())
    }

    /// The group's connection, taken out of the turn, with the outcome of the open transaction
    /// (begun now if none is open).
    fn open(&self, turn: &mut Turn) -> Result<(DbConnection, Arc<Outcome>), DbError> {
        if turn.conn.is_none() {
            if let Some(g) = turn.open.take() {
                // Cannot happen (the connection goes only with the transaction it held); were
                // it to, the transaction's writes went with it.
                g.outcome
                    .set(Err("the write group's connection was lost".to_owned()));
            }
        }
        let mut conn = match turn.conn.take() {
            Some(c) => c,
            None => {
                let mut conn = crate::db::establish(&DatabaseUrl {
                    backend: Backend::Sqlite,
                    target: self.path.clone(),
                })?;
                // No commit of the group copies the log into the database, with the turn held:
                // the `Db`'s checkpointer does, beside it.
                diesel::connection::SimpleConnection::batch_execute(
                    &mut conn,
                    "PRAGMA wal_autocheckpoint = 0;",
                )?;
                conn
            }
        };
        if let Some(g) = &turn.open {
            return Ok((conn, Arc::clone(&g.outcome)));
        }
        let begun = match &mut conn {
            DbConnection::Sqlite(c) => {
                AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")
            }
            DbConnection::Pg(_) => {
                return Err(DbError::Config(
                    "a SQLite write group was given a PostgreSQL connection".into(),
                ))
            }
        };
        // On failure the connection is dropped: it may be what failed; the next writer opens
        // another.
        begun.map_err(DbError::Query)?;
        let outcome = Arc::new(Outcome::default());
        turn.open = Some(Generation {
            writers: 0,
            first_done: None,
            outcome: Arc::clone(&outcome),
        });
        Ok((conn, outcome))
    }

    /// Commits the open transaction and tells its writers how it went.
    fn commit(&self, turn: &mut Turn) {
        let Some(g) = turn.open.take() else {
            return;
        };
        let done = match turn.conn.as_mut() {
            Some(DbConnection::Sqlite(c)) => {
                let at_top = matches!(
                    AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth(),
                    Ok(Some(d)) if d.get() == 1
                );
                let done = if at_top {
                    AnsiTransactionManager::commit_transaction(c)
                } else {
                    // Never a RELEASE taken for a COMMIT: whatever left the depth wrong, the
                    // transaction is not committed and its writers are told so.
                    while matches!(
                        AnsiTransactionManager::transaction_manager_status_mut(c)
                            .transaction_depth(),
                        Ok(Some(_))
                    ) {
                        if AnsiTransactionManager::rollback_transaction(c).is_err() {
                            break;
                        }
                    }
                    Err(diesel::result::Error::NotInTransaction)
                };
                if done.is_err() && !at_rest(c) {
                    turn.conn = None;
                }
                done.map_err(|e| e.to_string())
            }
            _ => Err("the write group's connection is gone".to_owned()),
        };
        // Counted once done, so that the checkpointer never takes the count for a commit whose
        // pages are not in the log yet.
        self.commits.fetch_add(1, Ordering::Release);
        if let Err(why) = &done {
            tracing::error!(error = %why, writers = g.writers, "a group commit to SQLite failed; each of its writers gets the error");
        }
        g.outcome.set(done);
    }

    /// Rolls the open transaction back and tells its writers it failed; keeps the connection
    /// only if it came out of that clean.
    fn fail(&self, turn: &mut Turn, mut conn: DbConnection, why: &str) {
        if let DbConnection::Sqlite(c) = &mut conn {
            while matches!(
                AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth(),
                Ok(Some(_))
            ) {
                if AnsiTransactionManager::rollback_transaction(c).is_err() {
                    break;
                }
            }
            if at_rest(c) {
                turn.conn = Some(conn);
            }
        }
        if let Some(g) = turn.open.take() {
            tracing::error!(
                error = why,
                writers = g.writers,
                "a group of SQLite writes was rolled back; each of its writers gets the error"
            );
            g.outcome.set(Err(why.to_owned()));
        }
    }
}

/// Ends the writer's savepoint: released when `kept`, else rolled back, with any savepoint of
/// its own that a panic left open. Afterwards only the group's transaction is open, or it fails.
fn end_savepoint(conn: &mut DbConnection, kept: bool) -> diesel::QueryResult<()> {
    let DbConnection::Sqlite(c) = conn else {
        return Err(diesel::result::Error::NotInTransaction);
    };
    let depth = |c: &mut SqliteConnection| {
        AnsiTransactionManager::transaction_manager_status_mut(c)
            .transaction_depth()
            .map(|d| d.map_or(0, std::num::NonZeroU32::get))
    };
    if kept {
        if depth(c)? != 2 {
            // A body that returned Ok with a savepoint of its own still open: not ours to judge.
            return Err(diesel::result::Error::AlreadyInTransaction);
        }
        return AnsiTransactionManager::commit_transaction(c);
    }
    while depth(c)? > 1 {
        AnsiTransactionManager::rollback_transaction(c)?;
    }
    Ok(())
}

/// Whether the connection is outside any transaction and fit for use.
fn at_rest(c: &mut SqliteConnection) -> bool {
    matches!(
        AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth(),
        Ok(None)
    )
}
