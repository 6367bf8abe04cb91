//! Operators (操作员): one account per person with one role; argon2id hashes (made by the
//! caller), a lockout after wrong passwords counted before each check, and sessions that end
//! after an idle time.

use diesel::prelude::*;

use crate::cached::cached;
use crate::db::{inserted, write_statement, write_transaction, DbConnection, DbResult};
use crate::schema::{operator_sessions, operators};

/// What an operator may do, by job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Everything: operators, products, settings, and every other role's work.
    Admin,
    /// Review, approve, reject (审核).
    Reviewer,
    /// Disburse, payment orders, offline repayments (财务).
    Finance,
    /// The overdue queue, notes, promises (催收).
    Collector,
    /// Read only.
    Viewer,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Reviewer,
        Role::Finance,
        Role::Collector,
        Role::Viewer,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Reviewer => "reviewer",
            Role::Finance => "finance",
            Role::Collector => "collector",
            Role::Viewer => "viewer",
        }
    }

    /// The role of a stored name.
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// The label operators read (Chinese).
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "管理员",
            Role::Reviewer => "审核员",
            Role::Finance => "财务",
            Role::Collector => "催收员",
            Role::Viewer => "只读",
        }
    }
}

/// An operator's account (the hash aside).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operator {
    /// Stable id.
    pub id: String,
    /// Sign-in name, unique.
    pub name: String,
    /// The one role.
    pub role: Role,
    /// Disabled operators cannot sign in and their sessions end.
    pub disabled: bool,
    /// Locked out until (ms), after too many wrong passwords.
    pub locked_until: Option<i64>,
    /// Created (ms).
    pub created_at: i64,
}

#[derive(Queryable)]
struct OperatorRow {
    id: String,
    name: String,
    role: String,
    password_hash: String,
    disabled: bool,
    _failed_logins: i32,
    locked_until: Option<i64>,
    created_at: i64,
}

type OperatorColumns = (
    operators::id,
    operators::name,
    operators::role,
    operators::password_hash,
    operators::disabled,
    operators::failed_logins,
    operators::locked_until,
    operators::created_at,
);

const OPERATOR_COLUMNS: OperatorColumns = (
    operators::id,
    operators::name,
    operators::role,
    operators::password_hash,
    operators::disabled,
    operators::failed_logins,
    operators::locked_until,
    operators::created_at,
);

impl OperatorRow {
    fn into_operator(self) -> DbResult<(Operator, String)> {
        let role = Role::parse(&self.role).ok_or_else(|| crate::DbError::Corrupt {
            table: "operators",
            column: "role",
            value: self.role.clone(),
        })?;
        Ok((
            Operator {
                id: self.id,
                name: self.name,
                role,
                disabled: self.disabled,
                locked_until: self.locked_until,
                created_at: self.created_at,
            },
            self.password_hash,
        ))
    }
}

/// The operator named `name`, with their password hash.
pub fn find_by_name(conn: &mut DbConnection, name: &str) -> DbResult<Option<(Operator, String)>> {
    operators::table
        .filter(operators::name.eq(name))
        .select(OPERATOR_COLUMNS)
        .first::<OperatorRow>(conn)
        .optional()?
        .map(OperatorRow::into_operator)
        .transpose()
}

/// The operator with id `id`.
pub fn find(conn: &mut DbConnection, id: &str) -> DbResult<Option<Operator>> {
    operators::table
        .filter(operators::id.eq(id))
        .select(OPERATOR_COLUMNS)
        .first::<OperatorRow>(conn)
        .optional()?
        .map(|r| r.into_operator().map(|(o, _)| o))
        .transpose()
}

/// Every operator, by name.
pub fn list(conn: &mut DbConnection) -> DbResult<Vec<Operator>> {
    operators::table
        .select(OPERATOR_COLUMNS)
        .order(operators::name.asc())
        .load::<OperatorRow>(conn)?
        .into_iter()
        .map(|r| r.into_operator().map(|(o, _)| o))
        .collect()
}

/// Adds an operator; `Ok(None)` when the name is taken (a concurrent add included).
pub fn add(
    conn: &mut DbConnection,
    name: &str,
    role: Role,
    password_hash: &str,
    now: i64,
) -> DbResult<Option<Operator>> {
    let id = crate::accounts::new_id();
    let stored = write_statement(conn, |conn| {
        inserted(
            diesel::insert_into(operators::table)
                .values((
                    operators::id.eq(&id),
                    operators::name.eq(name),
                    operators::role.eq(role.as_str()),
                    operators::password_hash.eq(password_hash),
                    operators::disabled.eq(false),
                    operators::failed_logins.eq(0),
                    operators::created_at.eq(now),
                ))
                .execute(conn),
        )
    })?;
    if stored {
        find(conn, &id)
    } else {
        Ok(None)
    }
}

/// Disables (or enables) operator `name` and ends their sessions; false when there is none.
pub fn set_disabled(conn: &mut DbConnection, name: &str, disabled: bool) -> DbResult<bool> {
    write_transaction(conn, |conn| {
        let n = diesel::update(operators::table.filter(operators::name.eq(name)))
            .set(operators::disabled.eq(disabled))
            .execute(conn)?;
        end_sessions_of(conn, name)?;
        Ok(n == 1)
    })
}

/// Replaces operator `name`'s password hash, lifts a lockout and ends their sessions.
pub fn set_password(conn: &mut DbConnection, name: &str, password_hash: &str) -> DbResult<bool> {
    write_transaction(conn, |conn| {
        let n = diesel::update(operators::table.filter(operators::name.eq(name)))
            .set((
                operators::password_hash.eq(password_hash),
                operators::failed_logins.eq(0),
                operators::locked_until.eq(None::<i64>),
            ))
            .execute(conn)?;
        end_sessions_of(conn, name)?;
        Ok(n == 1)
    })
}

fn end_sessions_of(conn: &mut DbConnection, name: &str) -> DbResult<()> {
    let ids = operators::table
        .filter(operators::name.eq(name))
        .select(operators::id);
    diesel::delete(operator_sessions::table.filter(operator_sessions::operator_id.eq_any(ids)))
        .execute(conn)?;
    Ok(())
}

/// The lockout rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignInLimits {
    /// Wrong passwords in a row before the account locks.
    pub max_failures: i32,
    /// How long a lock lasts, ms.
    pub lock_ms: i64,
}

/// Whether a password may be checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignIn {
    /// Counted as a failure until [`signed_in`] says otherwise: check this hash.
    Reserved(Operator, String),
    /// Locked out, disabled, or no such operator: check nothing (and say no more than that).
    Refused,
}

/// Reserves one password check of operator `name` at `now`: one guarded statement counts it
/// before the check, so a burst of guesses is never evaluated beyond the limit.
pub fn reserve_sign_in(
    conn: &mut DbConnection,
    name: &str,
    limits: SignInLimits,
    now: i64,
) -> DbResult<SignIn> {
    let counted = write_transaction(conn, |conn| -> DbResult<usize> {
        let row = || operators::table.filter(operators::name.eq(name.to_owned()));
        // A lock that has run out starts the count again.
        cached(
            diesel::update(row().filter(operators::locked_until.le(now))).set((
                operators::failed_logins.eq(0),
                operators::locked_until.eq(None::<i64>),
            )),
        )
        .execute(conn)?;
        Ok(cached(
            diesel::update(
                row()
                    .filter(operators::disabled.eq(false))
                    .filter(operators::locked_until.is_null())
                    .filter(operators::failed_logins.lt(limits.max_failures)),
            )
            .set(operators::failed_logins.eq(operators::failed_logins + 1)),
        )
        .execute(conn)?)
    })?;
    if counted == 0 {
        return Ok(SignIn::Refused);
    }
    Ok(match find_by_name(conn, name)? {
        Some((op, hash)) => SignIn::Reserved(op, hash),
        None => SignIn::Refused,
    })
}

/// The reserved check of operator `id` succeeded: the count starts again.
pub fn signed_in(conn: &mut DbConnection, id: &str) -> DbResult<()> {
    write_statement(conn, |conn| {
        diesel::update(operators::table.filter(operators::id.eq(id)))
            .set(operators::failed_logins.eq(0))
            .execute(conn)?;
        Ok(())
    })
}

/// The reserved check of operator `id` failed: locks the account once the count is at the limit.
pub fn sign_in_failed(
    conn: &mut DbConnection,
    id: &str,
    limits: SignInLimits,
    now: i64,
) -> DbResult<bool> {
    write_statement(conn, |conn| {
        let n = diesel::update(
            operators::table
                .filter(operators::id.eq(id))
                .filter(operators::failed_logins.ge(limits.max_failures))
                .filter(operators::locked_until.is_null()),
        )
        .set(operators::locked_until.eq(now + limits.lock_ms))
        .execute(conn)?;
        Ok(n == 1)
    })
}

/// Reserves one sign-in attempt from `address` at `now`, whatever name it is made under: one
/// guarded statement counts it before any check, and `limits.max_failures` in a row lock the
/// address for `limits.lock_ms`. False: the address is locked (check nothing).
pub fn reserve_address(
    conn: &mut DbConnection,
    address: &str,
    limits: SignInLimits,
    now: i64,
) -> DbResult<bool> {
    use crate::schema::operator_address_guards as guards;
    // The row exists before the transaction that counts on it (a refused insert would end a
    // PostgreSQL transaction; DO NOTHING refuses nothing).
    write_statement(conn, |conn| {
        let insert = diesel::insert_into(guards::table)
            .values((
                guards::address.eq(address),
                guards::failures.eq(0),
                guards::locked_until.eq(None::<i64>),
            ))
            .on_conflict_do_nothing();
        // The MultiConnection has no upsert: each backend runs it itself.
        match conn {
            DbConnection::Sqlite(c) => insert.execute(c)?,
            DbConnection::Pg(c) => insert.execute(c)?,
        };
        Ok(())
    })?;
    write_transaction(conn, |conn| -> DbResult<bool> {
        let row = || guards::table.filter(guards::address.eq(address.to_owned()));
        diesel::update(row().filter(guards::locked_until.le(now)))
            .set((guards::failures.eq(0), guards::locked_until.eq(None::<i64>)))
            .execute(conn)?;
        let counted = diesel::update(
            row()
                .filter(guards::locked_until.is_null())
                .filter(guards::failures.lt(limits.max_failures)),
        )
        .set(guards::failures.eq(guards::failures + 1))
        .execute(conn)?;
        if counted == 0 {
            return Ok(false);
        }
        // The attempt that reaches the limit is the last one checked until the lock runs out.
        diesel::update(row().filter(guards::failures.ge(limits.max_failures)))
            .set(guards::locked_until.eq(now + limits.lock_ms))
            .execute(conn)?;
        Ok(true)
    })
}

/// A sign-in from `address` succeeded: its count starts again.
pub fn address_signed_in(conn: &mut DbConnection, address: &str) -> DbResult<()> {
    use crate::schema::operator_address_guards as guards;
    write_statement(conn, |conn| {
        diesel::update(guards::table.filter(guards::address.eq(address)))
            .set((guards::failures.eq(0), guards::locked_until.eq(None::<i64>)))
            .execute(conn)?;
        Ok(())
    })
}

/// A signed-in operator's session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperatorSession {
    /// Who.
    pub operator: Operator,
    /// The token every form and state-changing request of the session carries.
    pub csrf_token: String,
}

/// Opens a session of operator `operator_id` under the digest of its token.
pub fn open_session(
    conn: &mut DbConnection,
    token_digest: &str,
    operator_id: &str,
    csrf_token: &str,
    address: &str,
    now: i64,
) -> DbResult<()> {
    write_statement(conn, |conn| {
        diesel::insert_into(operator_sessions::table)
            .values((
                operator_sessions::token_digest.eq(token_digest),
                operator_sessions::operator_id.eq(operator_id),
                operator_sessions::csrf_token.eq(csrf_token),
                operator_sessions::address.eq(address),
                operator_sessions::created_at.eq(now),
                operator_sessions::last_seen_at.eq(now),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// The session of `token_digest`, if it was used within `idle_ms` of `now` and its operator is
/// enabled; using it moves its idle time on (one guarded statement: an idle session never
/// comes back).
pub fn use_session(
    conn: &mut DbConnection,
    token_digest: &str,
    idle_ms: i64,
    now: i64,
) -> DbResult<Option<OperatorSession>> {
    let alive = write_statement(conn, |conn| {
        Ok(cached(
            diesel::update(
                operator_sessions::table
                    .filter(operator_sessions::token_digest.eq(token_digest.to_owned()))
                    .filter(operator_sessions::last_seen_at.gt(now - idle_ms)),
            )
            .set(operator_sessions::last_seen_at.eq(now)),
        )
        .execute(conn)?)
    })?;
    if alive == 0 {
        return Ok(None);
    }
    let found: Option<(OperatorRow, String)> = operator_sessions::table
        .inner_join(operators::table)
        .filter(operator_sessions::token_digest.eq(token_digest))
        .select((OPERATOR_COLUMNS, operator_sessions::csrf_token))
        .first(conn)
        .optional()?;
    let Some((row, csrf_token)) = found else {
        return Ok(None);
    };
    let (operator, _) = row.into_operator()?;
    if operator.disabled {
        return Ok(None);
    }
    Ok(Some(OperatorSession {
        operator,
        csrf_token,
    }))
}

/// Ends the session of `token_digest`.
pub fn close_session(conn: &mut DbConnection, token_digest: &str) -> DbResult<()> {
    write_statement(conn, |conn| {
        diesel::delete(
            operator_sessions::table.filter(operator_sessions::token_digest.eq(token_digest)),
        )
        .execute(conn)?;
        Ok(())
    })
}
