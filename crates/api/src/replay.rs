//! Replay records through one group-committing writer.
//!
//! Every signed request's nonce must be on the disk before the request has any effect, or a
//! request replayed after a crash would run twice. Committing each nonce in a transaction of its
//! own costs a flush to the disk per request, and SQLite serialises those flushes: the request
//! path was bound by the disk. Here the requests hand their nonces to one writer thread, which
//! records everything that is waiting in one transaction: one commit, one flush, however many
//! requests it serves. Each request still waits for the commit that holds its own nonce, so
//! nothing is answered, and nothing is done, before its replay record is durable. The wait is a
//! [`Ticket`], a future: the request's worker thread serves other connections meanwhile, and a
//! read-only endpoint reads its answer while the commit is on its way (docs/performance.md). Whether a nonce
//! is new is decided by the database's primary key, row by row, so two instances on one
//! PostgreSQL refuse each other's replays as before.

use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc;
use std::task::{Context, Poll};
use std::thread;

use tokio::sync::oneshot;

use cashloan_persistence::accounts::{record_nonces, sessions_now, NonceRecord, Session, User};
use cashloan_persistence::{Db, DbConnection, DbError, DbResult};

/// Most nonces one transaction records; the rest wait for the next one.
const MAX_BATCH: usize = 1024;

/// A nonce waiting to be recorded, and where its answer goes.
struct Pending {
    nonce: String,
    timestamp: String,
    seen_at: i64,
    /// The key of the request's session, when it asked for the session as of its batch.
    session: Option<String>,
    answer: oneshot::Sender<DbResult<Recorded>>,
}

/// What the writer found for one request.
#[derive(Debug)]
pub struct Recorded {
    /// The nonce is new (false: it was recorded before, a replay).
    pub new: bool,
    /// The request's session as the database had it after the request arrived (read in one
    /// statement for the whole batch, after its nonces were committed).
    pub session: SessionNow,
}

/// A session as of a moment after the request arrived.
#[derive(Debug)]
// One per request, moved once through a channel.
#[allow(clippy::large_enum_variant)]
pub enum SessionNow {
    /// The request did not ask.
    NotAsked,
    /// It could not be read (the request must then read it itself).
    Unknown,
    /// No such session (ended, or never was).
    Absent,
    /// The session, its user and the read epoch.
    Found {
        /// The session row.
        session: Session,
        /// Its user.
        user: User,
        /// The read epoch (products, settings).
        epoch: i64,
    },
}

/// A nonce handed to the writer: resolves once it is durable, to whether it was new and (when
/// asked for) the request's session as of then.
pub struct Ticket(oneshot::Receiver<DbResult<Recorded>>);

impl Future for Ticket {
    type Output = DbResult<Recorded>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<DbResult<Recorded>> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|answer| answer.unwrap_or_else(|_| Err(stopped())))
    }
}

fn stopped() -> DbError {
    DbError::Batch("the replay writer has stopped".into())
}

/// The handle requests record their nonces through.
pub struct ReplayGuard {
    queue: mpsc::Sender<Pending>,
}

impl std::fmt::Debug for ReplayGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplayGuard").finish_non_exhaustive()
    }
}

impl ReplayGuard {
    /// Starts the writer on a connection of its own to `db`. It stops when the guard is dropped.
    pub fn start(db: &Db) -> std::io::Result<ReplayGuard> {
        let (queue, waiting) = mpsc::channel::<Pending>();
        let db = db.clone();
        thread::Builder::new()
            .name("replay-writer".into())
            .spawn(move || write_loop(&db, &waiting))?;
        Ok(ReplayGuard { queue })
    }

    /// Hands `nonce` (sent with `timestamp`, seen at `now`) to the writer; the ticket resolves
    /// when the commit holding it is durable. With `session` (a [`session_key`]), the ticket
    /// also brings that session and its user as of after the commit.
    ///
    /// [`session_key`]: cashloan_persistence::accounts::session_key
    pub fn submit(
        &self,
        nonce: &str,
        timestamp: &str,
        now: i64,
        session: Option<String>,
    ) -> Ticket {
        let (answer, answered) = oneshot::channel();
        let pending = Pending {
            nonce: nonce.to_owned(),
            timestamp: timestamp.to_owned(),
            seen_at: now,
            session,
            answer,
        };
        // A send to a stopped writer drops `pending` and with it the sender: the ticket then
        // resolves to the writer's error.
        let _ = self.queue.send(pending);
        Ticket(answered)
    }
}

/// Takes what is waiting (at least one), records it in one transaction, answers each.
fn write_loop(db: &Db, waiting: &mpsc::Receiver<Pending>) {
    let mut conn: Option<DbConnection> = None;
    while let Ok(first) = waiting.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match waiting.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        let outcome = match conn.as_mut() {
            Some(c) => write(c, &batch),
            None => db.dedicated().and_then(|mut c| {
                let o = write(&mut c, &batch);
                conn = Some(c);
                o
            }),
        };
        match outcome {
            Ok(fresh) => {
                let mut found = match conn.as_mut() {
                    Some(c) => sessions_of(c, &batch),
                    None => Err(stopped()),
                };
                if let Err(e) = &found {
                    // The requests read their sessions themselves; nothing is lost.
                    tracing::warn!(error = %e, "reading the batch's sessions failed");
                }
                for (p, new) in batch.into_iter().zip(fresh) {
                    let session = match (&p.session, &mut found) {
                        (None, _) => SessionNow::NotAsked,
                        (Some(_), Err(_)) => SessionNow::Unknown,
                        (Some(key), Ok((rows, epoch))) => match (rows.get(key), *epoch) {
                            (Some((s, u)), Some(epoch)) => SessionNow::Found {
                                session: s.clone(),
                                user: u.clone(),
                                epoch,
                            },
                            _ => SessionNow::Absent,
                        },
                    };
                    let _ = p.answer.send(Ok(Recorded { new, session }));
                }
            }
            Err(e) => {
                // Connect again next time: the connection may be what failed.
                conn = None;
                tracing::error!(error = %e, nonces = batch.len(), "recording nonces failed");
                let text = e.to_string();
                for p in batch {
                    let _ = p.answer.send(Err(DbError::Batch(text.clone())));
                }
            }
        }
    }
}

/// The sessions the batch asked for, by key, with the read epoch: one statement, after the
/// batch's commit (so after every request of the batch arrived).
#[allow(clippy::type_complexity)]
fn sessions_of(
    conn: &mut DbConnection,
    batch: &[Pending],
) -> DbResult<(
    std::collections::HashMap<String, (Session, User)>,
    Option<i64>,
)> {
    let mut keys: Vec<String> = batch.iter().filter_map(|p| p.session.clone()).collect();
    keys.sort_unstable();
    keys.dedup();
    let (rows, epoch) = sessions_now(conn, &keys)?;
    Ok((
        rows.into_iter()
            .map(|(s, u)| (s.id.clone(), (s, u)))
            .collect(),
        epoch,
    ))
}

fn write(conn: &mut DbConnection, batch: &[Pending]) -> DbResult<Vec<bool>> {
    let records: Vec<NonceRecord<'_>> = batch
        .iter()
        .map(|p| NonceRecord {
            nonce: &p.nonce,
            timestamp: &p.timestamp,
            seen_at: p.seen_at,
        })
        .collect();
    record_nonces(conn, &records)
}
