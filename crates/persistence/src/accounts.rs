//! Users, sessions and replay nonces.

use crate::cached::cached;
use crate::columns::typed::Cents;
use cashloan_domain::Money;
use diesel::prelude::*;

use crate::db::{inserted, write_transaction, DbConnection, DbError, DbResult};
use crate::digest::digest;
use crate::schema::{nonces, sessions, users};

/// A new random id: a lowercase UUID, as the seed's samples show.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A registered user (the login name is the mobile).
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct User {
    /// Id.
    pub id: String,
    /// Mobile, the login name.
    pub mobile: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Consecutive wrong passwords since the last success or lock.
    pub failed_logins: i32,
    /// Locked until this instant (ms), if locked.
    pub locked_until: Option<i64>,
    /// Disabled by an operator.
    pub disabled: bool,
    /// Flagged as a risk customer by an operator (information only).
    pub is_risk: bool,
    /// Total credit (总额度), 分.
    #[diesel(column_name = total_credit_cents, deserialize_as = Cents, serialize_as = Cents)]
    pub total_credit: Money,
    /// 身份信息认证 done.
    pub real_name_auth: bool,
    /// 银行卡认证 done.
    pub bank_card_auth: bool,
    /// 完善个人信息 done.
    pub customer_info_auth: bool,
    /// 手机认证 done.
    pub mobile_auth: bool,
    /// Registered at (ms).
    pub created_at: i64,
    /// Last changed at (ms).
    pub updated_at: i64,
    /// Moves, by the database's triggers, with every change to the user's identity,
    /// applications and installments: what the read cache checks its entries against.
    pub data_version: i64,
}

impl User {
    /// Whether the login lock holds at `now`.
    pub fn is_locked(&self, now: i64) -> bool {
        self.locked_until.is_some_and(|until| until > now)
    }
}

/// Registers a user; `Ok(None)` when the mobile is already registered (even by a concurrent
/// request that won the race).
pub fn create_user(
    conn: &mut DbConnection,
    mobile: &str,
    password_hash: &str,
    total_credit: Money,
    now: i64,
) -> DbResult<Option<User>> {
    crate::db::write_statement(conn, |conn| {
        let user = User {
            id: new_id(),
            mobile: mobile.to_owned(),
            password_hash: password_hash.to_owned(),
            failed_logins: 0,
            locked_until: None,
            disabled: false,
            is_risk: false,
            total_credit,
            real_name_auth: false,
            bank_card_auth: false,
            customer_info_auth: false,
            mobile_auth: false,
            created_at: now,
            updated_at: now,
            data_version: 0,
        };
        let written = inserted(
            diesel::insert_into(users::table)
                .values(user.clone())
                .execute(conn),
        )?;
        Ok(written.then_some(user))
    })
}

/// The user registered with `mobile`.
pub fn find_user_by_mobile(conn: &mut DbConnection, mobile: &str) -> DbResult<Option<User>> {
    Ok(users::table
        .filter(users::mobile.eq(mobile))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// The user with `id`.
pub fn find_user(conn: &mut DbConnection, id: &str) -> DbResult<Option<User>> {
    Ok(per_backend!(conn, c => users::table
        .find(id)
        .select(User::as_select())
        .first(c)
        .optional()?))
}

/// Stores a new password hash, clears count and lock, and ends every session of the user, in one
/// transaction (docs/api.md: a password change or reset ends the user's sessions).
pub fn set_password(
    conn: &mut DbConnection,
    user_id: &str,
    password_hash: &str,
    now: i64,
) -> DbResult<()> {
    write_transaction(conn, |conn| {
        cached(diesel::update(users::table.find(user_id)).set((
            users::password_hash.eq(password_hash),
            users::failed_logins.eq(0),
            users::locked_until.eq(None::<i64>),
            users::updated_at.eq(now),
        )))
        .execute(conn)?;
        diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)?;
        crate::login_guard::clear(conn, user_id)?;
        Ok::<_, DbError>(())
    })
}

/// Sets the user's total credit; false when no user has that mobile.
pub fn set_total_credit(
    conn: &mut DbConnection,
    mobile: &str,
    credit: Money,
    now: i64,
) -> DbResult<bool> {
    crate::db::write_statement(conn, |conn| {
        let n = cached(
            diesel::update(users::table.filter(users::mobile.eq(mobile))).set((
                users::total_credit_cents.eq(Cents::from(credit)),
                users::updated_at.eq(now),
            )),
        )
        .execute(conn)?;
        Ok(n == 1)
    })
}

/// Enables or disables an account; false when no user has that mobile.
pub fn set_disabled(
    conn: &mut DbConnection,
    mobile: &str,
    disabled: bool,
    now: i64,
) -> DbResult<bool> {
    write_transaction(conn, |conn| {
        let n = cached(
            diesel::update(users::table.filter(users::mobile.eq(mobile)))
                .set((users::disabled.eq(disabled), users::updated_at.eq(now))),
        )
        .execute(conn)?;
        if disabled && n == 1 {
            // A disabled account acts no more: its sessions end with it.
            let ids = users::table
                .filter(users::mobile.eq(mobile))
                .select(users::id);
            diesel::delete(sessions::table.filter(sessions::user_id.eq_any(ids))).execute(conn)?;
        }
        Ok::<_, DbError>(n == 1)
    })
}

/// Flags or unflags an account as a risk customer (§19 `isRisk`); false when no user has that mobile.
pub fn set_risk(conn: &mut DbConnection, mobile: &str, risk: bool, now: i64) -> DbResult<bool> {
    crate::db::write_statement(conn, |conn| {
        let n = cached(
            diesel::update(users::table.filter(users::mobile.eq(mobile)))
                .set((users::is_risk.eq(risk), users::updated_at.eq(now))),
        )
        .execute(conn)?;
        Ok(n == 1)
    })
}

/// Sets the 手机认证 (carrier) status.
pub fn set_mobile_auth(conn: &mut DbConnection, user_id: &str, now: i64) -> DbResult<()> {
    crate::db::write_statement(conn, |conn| {
        cached(
            diesel::update(users::table.find(user_id))
                .set((users::mobile_auth.eq(true), users::updated_at.eq(now))),
        )
        .execute(conn)?;
        Ok(())
    })
}

/// A login session.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct Session {
    /// Session id: 32 uppercase hex characters.
    pub id: String,
    /// Whose.
    pub user_id: String,
    /// The device's push token (`token` of §4).
    pub device_token: String,
    /// `appType` of §4.
    pub app_type: String,
    /// Created at (ms).
    pub created_at: i64,
    /// Last used at (ms).
    pub last_seen_at: i64,
    /// Ends at (ms) unless used again.
    pub expires_at: i64,
}

/// Stores a new session.
pub fn create_session(conn: &mut DbConnection, session: &Session) -> DbResult<()> {
    crate::db::write_statement(conn, |conn| {
        let stored = Session {
            id: digest(&session.id),
            ..session.clone()
        };
        diesel::insert_into(sessions::table)
            .values(&stored)
            .execute(conn)?;
        Ok(())
    })
}

/// How long after a session's last recorded use the next request records it again. Writing on
/// every request would serialise SQLite readers; a minute's precision is enough for an idle
/// expiry counted in days.
pub const SESSION_USE_PRECISION_MS: i64 = 60_000;

/// The live session `id` at `now`, as stored (nothing written).
pub fn live_session(conn: &mut DbConnection, id: &str, now: i64) -> DbResult<Option<Session>> {
    let id = digest(id);
    Ok(per_backend!(conn, c => sessions::table
        .find(&id)
        .filter(sessions::expires_at.gt(now))
        .select(Session::as_select())
        .first(c)
        .optional()?))
}

/// The live session `id` at `now` with its user, in one statement (one round trip on
/// PostgreSQL, where every request needs both).
pub fn live_session_user(
    conn: &mut DbConnection,
    id: &str,
    now: i64,
) -> DbResult<Option<(Session, User)>> {
    let id = digest(id);
    Ok(per_backend!(conn, c => sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(&id))
        .filter(sessions::expires_at.gt(now))
        .select((Session::as_select(), User::as_select()))
        .first(c)
        .optional()?))
}

/// Sessions with their users, and the read epoch (none when no session matched).
pub type SessionsNow = (Vec<(Session, User)>, Option<i64>);

/// The sessions stored under `keys` ([`session_key`]) with their users, live or not, and the
/// read epoch, all as of this statement: what a batch of requests that read from the cache is
/// checked against (one statement for the whole batch). The epoch is `None` when no session
/// matched.
pub fn sessions_now(conn: &mut DbConnection, keys: &[String]) -> DbResult<SessionsNow> {
    if keys.is_empty() {
        return Ok((Vec::new(), None));
    }
    let epoch = diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "(SELECT value FROM read_epoch WHERE id = 1)",
    );
    let rows: Vec<(Session, User, i64)> = per_backend!(conn, c => sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq_any(keys))
        .select((Session::as_select(), User::as_select(), epoch))
        .load(c)?);
    let epoch = rows.first().map(|r| r.2);
    Ok((rows.into_iter().map(|(s, u, _)| (s, u)).collect(), epoch))
}

/// The key a session id is stored under (its digest: the id itself is never stored).
pub fn session_key(id: &str) -> String {
    digest(id)
}

/// Whether a request at `now` on `session` should record its use ([`record_session_use`]).
pub fn session_use_due(session: &Session, now: i64) -> bool {
    now - session.last_seen_at >= SESSION_USE_PRECISION_MS
}

/// Records that session `id` was used at `now`: its idle expiry moves to `now + idle_ms`. A
/// session that expired or ended meanwhile stays so.
pub fn record_session_use(
    conn: &mut DbConnection,
    id: &str,
    now: i64,
    idle_ms: i64,
) -> DbResult<()> {
    crate::db::write_statement(conn, |conn| {
        cached(
            diesel::update(
                sessions::table
                    .find(digest(id))
                    .filter(sessions::expires_at.gt(now)),
            )
            .set((
                sessions::last_seen_at.eq(now),
                sessions::expires_at.eq(now + idle_ms),
            )),
        )
        .execute(conn)?;
        Ok(())
    })
}

/// The live session `id` at `now`, its idle expiry pushed to `now + idle_ms`.
pub fn touch_session(
    conn: &mut DbConnection,
    id: &str,
    now: i64,
    idle_ms: i64,
) -> DbResult<Option<Session>> {
    let Some(mut session) = live_session(conn, id, now)? else {
        return Ok(None);
    };
    if session_use_due(&session, now) {
        record_session_use(conn, id, now, idle_ms)?;
        session.last_seen_at = now;
        session.expires_at = now + idle_ms;
    }
    Ok(Some(session))
}

/// Ends the session `id` (nothing happens if there is none).
pub fn end_session(conn: &mut DbConnection, id: &str) -> DbResult<()> {
    crate::db::write_statement(conn, |conn| {
        diesel::delete(sessions::table.find(digest(id))).execute(conn)?;
        Ok(())
    })
}

/// Ends every session of a user; returns how many.
pub fn end_user_sessions(conn: &mut DbConnection, user_id: &str) -> DbResult<usize> {
    crate::db::write_statement(conn, |conn| {
        Ok(diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)?)
    })
}

/// Removes sessions expired before `now`; returns how many.
pub fn sweep_sessions(conn: &mut DbConnection, now: i64) -> DbResult<usize> {
    crate::db::write_statement(conn, |conn| {
        Ok(diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(conn)?)
    })
}

/// One request's replay record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NonceRecord<'a> {
    /// The request's nonce.
    pub nonce: &'a str,
    /// The timestamp it carried.
    pub timestamp: &'a str,
    /// When it was seen (ms).
    pub seen_at: i64,
}

/// Records a request's nonce; false when it was recorded before (a replay).
pub fn record_nonce(
    conn: &mut DbConnection,
    nonce: &str,
    timestamp: &str,
    now: i64,
) -> DbResult<bool> {
    let record = NonceRecord {
        nonce,
        timestamp,
        seen_at: now,
    };
    Ok(record_nonces(conn, &[record])?
        .first()
        .copied()
        .unwrap_or(false))
}

/// Records several requests' nonces in one transaction, so one commit (one flush to the disk)
/// serves them all; for each, true when it was new and false when it was recorded before: by an
/// earlier request, by another server on the same database, or earlier in the same batch. Each
/// insert is guarded by the primary key (`ON CONFLICT DO NOTHING`), never by a read first.
pub fn record_nonces(conn: &mut DbConnection, records: &[NonceRecord<'_>]) -> DbResult<Vec<bool>> {
    if let DbConnection::Pg(c) = conn {
        if records.len() <= NONCES_PER_STATEMENT {
            // One statement is one transaction.
            return insert_nonces_pg(c, records);
        }
    }
    write_transaction(conn, |conn| match conn {
        // In the process: a statement per nonce costs microseconds.
        DbConnection::Sqlite(c) => records
            .iter()
            .map(|r| {
                let n = diesel::insert_into(nonces::table)
                    .values(nonce_values(r))
                    .on_conflict_do_nothing()
                    .execute(c)?;
                Ok(n == 1)
            })
            .collect(),
        DbConnection::Pg(c) => {
            let mut fresh = Vec::with_capacity(records.len());
            for chunk in records.chunks(NONCES_PER_STATEMENT) {
                fresh.extend(insert_nonces_pg(c, chunk)?);
            }
            Ok(fresh)
        }
    })
}

/// A round trip per nonce would bound the server by the network's latency: one statement
/// inserts them all and returns the keys it inserted. The rows come as three arrays
/// (`unnest`), so the statement's text is the same whatever the batch's size and PostgreSQL
/// plans it once per connection.
fn insert_nonces_pg(
    c: &mut diesel::PgConnection,
    records: &[NonceRecord<'_>],
) -> DbResult<Vec<bool>> {
    use diesel::sql_types::{Array, BigInt, Text};
    #[derive(QueryableByName)]
    struct Key {
        #[diesel(sql_type = Text)]
        request_timestamp: String,
        #[diesel(sql_type = Text)]
        nonce: String,
    }
    let timestamps: Vec<&str> = records.iter().map(|r| r.timestamp).collect();
    let nonces: Vec<&str> = records.iter().map(|r| r.nonce).collect();
    let seen: Vec<i64> = records.iter().map(|r| r.seen_at).collect();
    let keys: Vec<Key> = cached(
        diesel::sql_query(
            "INSERT INTO nonces (request_timestamp, nonce, seen_at) \
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) \
         ON CONFLICT DO NOTHING RETURNING request_timestamp, nonce",
        )
        .bind::<Array<Text>, _>(&timestamps)
        .bind::<Array<Text>, _>(&nonces)
        .bind::<Array<BigInt>, _>(&seen),
    )
    .load(c)?;
    let mut inserted: std::collections::HashSet<(String, String)> = keys
        .into_iter()
        .map(|k| (k.request_timestamp, k.nonce))
        .collect();
    // A key inserted once is new for its first record only: a replay in the same batch is a
    // replay.
    Ok(records
        .iter()
        .map(|r| inserted.remove(&(r.timestamp.to_owned(), r.nonce.to_owned())))
        .collect())
}

/// Nonces one PostgreSQL statement inserts: three parameters each, well inside its 65 535.
const NONCES_PER_STATEMENT: usize = 1024;

#[allow(clippy::type_complexity)]
fn nonce_values<'a>(
    r: &NonceRecord<'a>,
) -> (
    diesel::dsl::Eq<nonces::nonce, &'a str>,
    diesel::dsl::Eq<nonces::request_timestamp, &'a str>,
    diesel::dsl::Eq<nonces::seen_at, i64>,
) {
    (
        nonces::nonce.eq(r.nonce),
        nonces::request_timestamp.eq(r.timestamp),
        nonces::seen_at.eq(r.seen_at),
    )
}

/// Forgets nonces seen before `before` (their timestamps are outside the window by then).
pub fn sweep_nonces(conn: &mut DbConnection, before: i64) -> DbResult<usize> {
    crate::db::write_statement(conn, |conn| {
        Ok(diesel::delete(nonces::table.filter(nonces::seen_at.lt(before))).execute(conn)?)
    })
}
