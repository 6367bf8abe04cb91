//! Wrong-password guards (登录失败锁定), safe under concurrency: an attempt is reserved in one
//! guarded statement *before* the password is checked, so however many guesses arrive at once,
//! at most the limit is ever evaluated.
//!
//! Two guards: per account and client address (`max_failures` in a row, then that address is
//! locked out of that account for `lock_ms`), so nobody can lock a borrower out from elsewhere;
//! and per account across all addresses (`ceiling` failures an hour, then the account is locked
//! for everyone), so a guesser with many addresses is stopped too (OWASP ASVS 2.2.1).

use diesel::prelude::*;

use crate::cached::cached;
use crate::db::{inserted, write_transaction, DbConnection, DbError, DbResult};
use crate::schema::login_guards;

/// The client of the account-wide guard row.
const EVERY_CLIENT: &str = "";

/// The account-wide window.
const HOUR_MS: i64 = 3_600_000;

/// The limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuardLimits {
    /// Wrong passwords in a row from one address before it is locked out of the account.
    pub max_failures: i32,
    /// Wrong passwords an hour, over every address, before the account is locked.
    pub ceiling_per_hour: i32,
    /// How long a lock lasts, ms.
    pub lock_ms: i64,
}

/// Whether a password may be checked now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// Reserved: check the password, then call [`succeeded`] or leave the failure counted.
    Reserved {
        /// This attempt is the last the address has before its lock (a failure locks it).
        last: bool,
    },
    /// Locked: do not check the password.
    Locked,
}

fn ensure_row(conn: &mut DbConnection, user_id: &str, client: &str, now: i64) -> DbResult<()> {
    crate::db::write_statement(conn, |conn| {
        inserted(
            diesel::insert_into(login_guards::table)
                .values((
                    login_guards::user_id.eq(user_id),
                    login_guards::client.eq(client),
                    login_guards::failures.eq(0),
                    login_guards::window_start.eq(now),
                ))
                .execute(conn),
        )?;
        Ok(())
    })
}

/// Reserves one password check of `user_id` from `client` at `now`.
pub fn reserve(
    conn: &mut DbConnection,
    user_id: &str,
    client: &str,
    limits: GuardLimits,
    now: i64,
) -> DbResult<Attempt> {
    // The rows exist before the transaction that counts on them (an insert a unique key may
    // refuse would end a PostgreSQL transaction).
    ensure_row(conn, user_id, client, now)?;
    ensure_row(conn, user_id, EVERY_CLIENT, now)?;
    write_transaction(conn, |conn| {
        let row = |c: &str| {
            login_guards::table
                .filter(login_guards::user_id.eq(user_id.to_owned()))
                .filter(login_guards::client.eq(c.to_owned()))
        };
        // Locks that have run out, and an account window that has, start again.
        cached(
            diesel::update(row(client).filter(login_guards::locked_until.le(now))).set((
                login_guards::failures.eq(0),
                login_guards::locked_until.eq(None::<i64>),
            )),
        )
        .execute(conn)?;
        cached(
            diesel::update(
                row(EVERY_CLIENT).filter(
                    login_guards::locked_until
                        .le(now)
                        .or(login_guards::locked_until
                            .is_null()
                            .and(login_guards::window_start.le(now - HOUR_MS))),
                ),
            )
            .set((
                login_guards::failures.eq(0),
                login_guards::window_start.eq(now),
                login_guards::locked_until.eq(None::<i64>),
            )),
        )
        .execute(conn)?;
        // The account-wide slot, then the address's: each one guarded statement.
        let account = cached(
            diesel::update(
                row(EVERY_CLIENT)
                    .filter(login_guards::locked_until.is_null())
                    .filter(login_guards::failures.lt(limits.ceiling_per_hour)),
            )
            .set(login_guards::failures.eq(login_guards::failures + 1)),
        )
        .execute(conn)?;
        if account == 0 {
            return Ok(Attempt::Locked);
        }
        let address = cached(
            diesel::update(
                row(client)
                    .filter(login_guards::locked_until.is_null())
                    .filter(login_guards::failures.lt(limits.max_failures)),
            )
            .set(login_guards::failures.eq(login_guards::failures + 1)),
        )
        .execute(conn)?;
        if address == 0 {
            // Give the account-wide slot back: this address is locked, nothing was checked.
            cached(
                diesel::update(row(EVERY_CLIENT))
                    .set(login_guards::failures.eq(login_guards::failures - 1)),
            )
            .execute(conn)?;
            return Ok(Attempt::Locked);
        }
        // A count that reached its limit locks, from now: the check in flight is the last.
        let until = now + limits.lock_ms;
        let locked_address = cached(
            diesel::update(row(client).filter(login_guards::failures.ge(limits.max_failures)))
                .set(login_guards::locked_until.eq(until)),
        )
        .execute(conn)?;
        cached(
            diesel::update(
                row(EVERY_CLIENT).filter(login_guards::failures.ge(limits.ceiling_per_hour)),
            )
            .set(login_guards::locked_until.eq(until)),
        )
        .execute(conn)?;
        Ok::<_, DbError>(Attempt::Reserved {
            last: locked_address == 1,
        })
    })
}

/// The password was right: the address starts again and the attempt is not a failure.
pub fn succeeded(conn: &mut DbConnection, user_id: &str, client: &str) -> DbResult<()> {
    write_transaction(conn, |conn| {
        cached(
            diesel::update(
                login_guards::table
                    .filter(login_guards::user_id.eq(user_id))
                    .filter(login_guards::client.eq(client)),
            )
            .set((
                login_guards::failures.eq(0),
                login_guards::locked_until.eq(None::<i64>),
            )),
        )
        .execute(conn)?;
        cached(
            diesel::update(
                login_guards::table
                    .filter(login_guards::user_id.eq(user_id))
                    .filter(login_guards::client.eq(EVERY_CLIENT))
                    .filter(login_guards::failures.gt(0)),
            )
            .set(login_guards::failures.eq(login_guards::failures - 1)),
        )
        .execute(conn)?;
        Ok::<_, DbError>(())
    })
}

/// A new password (reset or change): every guard of the account starts again.
pub fn clear(conn: &mut DbConnection, user_id: &str) -> DbResult<()> {
    crate::db::write_statement(conn, |conn| {
        diesel::delete(login_guards::table.filter(login_guards::user_id.eq(user_id)))
            .execute(conn)?;
        Ok(())
    })
}

/// Whether `client` is locked out of `user_id`, or the account locked for everyone, at `now`.
pub fn is_locked(conn: &mut DbConnection, user_id: &str, client: &str, now: i64) -> DbResult<bool> {
    let n: i64 = cached(
        login_guards::table
            .filter(login_guards::user_id.eq(user_id))
            .filter(login_guards::client.eq_any([client, EVERY_CLIENT]))
            .filter(login_guards::locked_until.gt(now))
            .count(),
    )
    .get_result(conn)?;
    Ok(n > 0)
}
