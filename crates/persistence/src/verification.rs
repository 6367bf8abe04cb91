//! Verification state that lives in the database so every server process shares it (docs/api.md,
//! "Register"): graphic codes, SMS codes and their send log, grants, and rate-limit counters.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::accounts::new_id;
use crate::cached::cached;
use crate::db::{write_transaction, Abort, DbConnection, DbError, DbResult};
use crate::digest::digest;
use crate::schema::{captchas, grants, sms_codes, sms_sends};

/// Stores a graphic code issued to `client`.
pub fn issue_captcha(conn: &mut DbConnection, code: &str, client: &str, now: i64) -> DbResult<()> {
    crate::db::write_statement(conn, |conn| {
        diesel::insert_into(captchas::table)
            .values((
                captchas::id.eq(new_id()),
                captchas::code.eq(digest(&code.to_ascii_lowercase())),
                captchas::client.eq(client),
                captchas::created_at.eq(now),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// What presenting a graphic code found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptchaCheck {
    /// Live, and now consumed.
    Consumed,
    /// Not issued, or already used (`10002001`).
    Wrong,
    /// Issued more than `ttl_ms` ago (`10002002`); consumed so it cannot be tried again.
    Expired,
}

/// Consumes the graphic code `code` (compared case-insensitively; codes are stored lower case).
/// Of concurrent requests presenting the same code, one consumes it.
pub fn consume_captcha(
    conn: &mut DbConnection,
    code: &str,
    now: i64,
    ttl_ms: i64,
) -> DbResult<CaptchaCheck> {
    let code = digest(&code.to_ascii_lowercase());
    write_transaction(conn, |conn| {
        let found: Option<(String, i64)> = captchas::table
            .filter(captchas::code.eq(&code))
            .filter(captchas::consumed_at.is_null())
            .order(captchas::created_at.desc())
            .select((captchas::id, captchas::created_at))
            .first(conn)
            .optional()?;
        let Some((id, created_at)) = found else {
            return Ok(CaptchaCheck::Wrong);
        };
        let n = cached(
            diesel::update(
                captchas::table
                    .find(&id)
                    .filter(captchas::consumed_at.is_null()),
            )
            .set(captchas::consumed_at.eq(now)),
        )
        .execute(conn)?;
        Ok::<_, DbError>(if n == 0 {
            CaptchaCheck::Wrong
        } else if now - created_at > ttl_ms {
            CaptchaCheck::Expired
        } else {
            CaptchaCheck::Consumed
        })
    })
}

/// Forgets graphic codes created before `before`.
pub fn sweep_captchas(conn: &mut DbConnection, before: i64) -> DbResult<usize> {
    crate::db::write_statement(conn, |conn| {
        Ok(
            diesel::delete(captchas::table.filter(captchas::created_at.lt(before)))
                .execute(conn)?,
        )
    })
}

/// Why an SMS code was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmsPurpose {
    /// Registration (§8, checked by §9).
    Register,
    /// Forgotten password (§11, checked by §12).
    Reset,
}

impl SmsPurpose {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SmsPurpose::Register => "register",
            SmsPurpose::Reset => "reset",
        }
    }
}

/// When the last SMS went to `mobile` (any purpose), and how many went to it on `business_date`.
pub fn sms_send_stats(
    conn: &mut DbConnection,
    mobile: &str,
    business_date: &str,
) -> DbResult<(Option<i64>, i64)> {
    let last: Option<i64> = sms_sends::table
        .filter(sms_sends::mobile.eq(mobile))
        .select(diesel::dsl::max(sms_sends::sent_at))
        .first(conn)?;
    let today: i64 = sms_sends::table
        .filter(sms_sends::mobile.eq(mobile))
        .filter(sms_sends::business_date.eq(business_date))
        .count()
        .get_result(conn)?;
    Ok((last, today))
}

/// The limits of SMS sending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmsLimits {
    /// Least time between two SMS to one mobile, ms.
    pub min_interval_ms: i64,
    /// SMS to one mobile per business day.
    pub per_mobile_per_day: i64,
    /// SMS asked for by one client address per hour.
    pub per_client_per_hour: i64,
    /// SMS per business day, all together.
    pub total_per_day: i64,
}

/// Whether an SMS may be sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmsSlot {
    /// Reserved (the send is recorded): call the gateway, then [`store_sms_code`] or, when it
    /// refused, [`release_sms_slot`]. `total` is the day's count with this one.
    Reserved {
        /// The reservation, to release it.
        id: String,
        /// SMS reserved today, all together.
        total: i64,
    },
    /// Too soon after the last one to this mobile, or its daily cap reached.
    MobileLimit,
    /// This client address asked for too many this hour.
    ClientLimit,
    /// The day's overall cap is reached.
    TotalLimit,
}

/// Reserves the sending of one SMS to `mobile` for `client` at `now`, in one transaction that
/// holds the mobile's lock: the interval and the caps are checked and the send recorded before
/// the gateway is called, so concurrent requests cannot all pass the same check.
#[allow(clippy::too_many_arguments)]
pub fn reserve_sms_slot(
    conn: &mut DbConnection,
    mobile: &str,
    client: &str,
    purpose: SmsPurpose,
    business_date: &str,
    now: i64,
    limits: SmsLimits,
) -> DbResult<SmsSlot> {
    let hour = now - now.rem_euclid(3_600_000);
    // The day's windows are named by the business date; their start is that date's midnight
    // (UTC), so they are swept with the other old windows.
    let day = cashloan_domain::parse_day(business_date)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(hour, |t| t.and_utc().timestamp_millis());
    let outcome = write_transaction(conn, |conn| {
        // The mobile's lock: an upsert on its row (on PostgreSQL a row lock until commit; on
        // SQLite the transaction already holds the file's write lock).
        hit_rate_counter(conn, &format!("sms-lock:{mobile}"), day)?;
        let (last, today) = sms_send_stats(conn, mobile, business_date)?;
        if last.is_some_and(|t| now - t < limits.min_interval_ms)
            || today >= limits.per_mobile_per_day
        {
            return Err(Abort::Answer(SmsSlot::MobileLimit));
        }
        if hit_rate_counter(conn, &format!("sms-client:{client}"), hour)?
            > limits.per_client_per_hour
        {
            return Err(Abort::Answer(SmsSlot::ClientLimit));
        }
        let total = hit_rate_counter(conn, "sms-total", day)?;
        if total > limits.total_per_day {
            return Err(Abort::Answer(SmsSlot::TotalLimit));
        }
        let id = new_id();
        diesel::insert_into(sms_sends::table)
            .values((
                sms_sends::id.eq(&id),
                sms_sends::mobile.eq(mobile),
                sms_sends::purpose.eq(purpose.as_str()),
                sms_sends::business_date.eq(business_date),
                sms_sends::sent_at.eq(now),
            ))
            .execute(conn)?;
        Ok(SmsSlot::Reserved { id, total })
    });
    match outcome {
        Ok(slot) => Ok(slot),
        Err(Abort::Answer(slot)) => Ok(slot),
        Err(Abort::Db(e)) => Err(e),
    }
}

/// The gateway refused: the reserved send did not happen and counts toward no limit of the
/// mobile (the client's and the day's counts keep it: asking is what they limit).
pub fn release_sms_slot(conn: &mut DbConnection, id: &str) -> DbResult<()> {
    crate::db::write_statement(conn, |conn| {
        diesel::delete(sms_sends::table.find(id)).execute(conn)?;
        Ok(())
    })
}

/// Makes `code` the live code of `(mobile, purpose)`, replacing any earlier one, after the
/// gateway accepted the SMS of a reserved slot.
pub fn set_sms_code(
    conn: &mut DbConnection,
    mobile: &str,
    purpose: SmsPurpose,
    code: &str,
    flow: &FlowClient<'_>,
    now: i64,
) -> DbResult<()> {
    write_transaction(conn, |conn| {
        diesel::delete(
            sms_codes::table
                .filter(sms_codes::mobile.eq(mobile))
                .filter(sms_codes::purpose.eq(purpose.as_str())),
        )
        .execute(conn)?;
        diesel::insert_into(sms_codes::table)
            .values((
                sms_codes::mobile.eq(mobile),
                sms_codes::purpose.eq(purpose.as_str()),
                sms_codes::code.eq(digest(code)),
                sms_codes::attempts.eq(0),
                sms_codes::sent_at.eq(now),
                sms_codes::flow_cookie.eq(flow.cookie),
                sms_codes::flow_client.eq(flow.client),
            ))
            .execute(conn)?;
        Ok::<_, DbError>(())
    })
}

/// Who walks a registration or reset flow: the digest of the flow cookie it sent (or, at §8 and
/// §11, was given), and its address with its `User-Agent`. A step taken with the cookie belongs
/// to the cookie alone; one taken without it, to the address and `User-Agent`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowClient<'a> {
    /// The digest of the flow cookie, when there is one.
    pub cookie: Option<&'a str>,
    /// The client's address and the digest of its `User-Agent`.
    pub client: &'a str,
}

impl FlowClient<'_> {
    /// The key its grants are kept under.
    pub fn key(&self) -> String {
        match self.cookie {
            Some(c) => format!("cookie:{c}"),
            None => format!("client:{}", self.client),
        }
    }

    /// Whether this client is the one an SMS code was sent for.
    fn started(&self, cookie: Option<&str>, client: Option<&str>) -> bool {
        match self.cookie {
            Some(c) => cookie == Some(c),
            None => client == Some(self.client),
        }
    }
}

/// What checking an SMS code found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmsCheck {
    /// Correct: the code is consumed.
    Correct,
    /// No live code (never sent, used, or dead after too many tries).
    NoCode,
    /// Sent more than `ttl_ms` ago.
    Expired,
    /// Wrong; the code stays live.
    Wrong,
    /// Wrong, and that was the last allowed try: the code is dead.
    TooManyTries,
}

/// Checks `code` against the live SMS code of `(mobile, purpose)`. A wrong try counts; the
/// `max_attempts`-th wrong try kills the code. Atomic under concurrency.
#[allow(clippy::too_many_arguments)]
pub fn check_sms_code(
    conn: &mut DbConnection,
    mobile: &str,
    purpose: SmsPurpose,
    code: &str,
    flow: &FlowClient<'_>,
    now: i64,
    ttl_ms: i64,
    max_attempts: i32,
) -> DbResult<SmsCheck> {
    write_transaction(conn, |conn| {
        let target = sms_codes::table
            .filter(sms_codes::mobile.eq(mobile))
            .filter(sms_codes::purpose.eq(purpose.as_str()))
            .filter(sms_codes::consumed_at.is_null());
        // A code sent for another client is no code for this one (and its tries are not
        // this client's to spend).
        let owner: Option<(Option<String>, Option<String>)> = target
            .select((sms_codes::flow_cookie, sms_codes::flow_client))
            .first(conn)
            .optional()?;
        match owner {
            Some((cookie, client)) if flow.started(cookie.as_deref(), client.as_deref()) => {}
            _ => return Ok(SmsCheck::NoCode),
        }
        // The attempt is reserved before the code is compared, in one guarded statement (which
        // also takes the row lock on PostgreSQL): however many guesses arrive at once, at most
        // `max_attempts` are ever compared.
        let reserved = cached(
            diesel::update(target.filter(sms_codes::attempts.lt(max_attempts)))
                .set(sms_codes::attempts.eq(sms_codes::attempts + 1)),
        )
        .execute(conn)?;
        if reserved == 0 {
            return Ok(SmsCheck::NoCode);
        }
        let Some((live, attempts, sent_at)) = target
            .select((sms_codes::code, sms_codes::attempts, sms_codes::sent_at))
            .first::<(String, i32, i64)>(conn)
            .optional()?
        else {
            return Ok(SmsCheck::NoCode);
        };
        if now - sent_at > ttl_ms {
            return Ok(SmsCheck::Expired);
        }
        if live == digest(code) {
            cached(diesel::update(target).set(sms_codes::consumed_at.eq(now))).execute(conn)?;
            return Ok(SmsCheck::Correct);
        }
        Ok::<_, DbError>(if attempts >= max_attempts {
            SmsCheck::TooManyTries
        } else {
            SmsCheck::Wrong
        })
    })
}

/// A proof that a step of registration or password reset passed (docs/api.md, "Register").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantKind {
    /// §9 passed: may register (§10).
    Register,
    /// §12 passed: may check identity (§13) and reset (§14).
    ResetSms,
    /// §13 passed: may reset (§14).
    ResetIdentity,
}

impl GrantKind {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            GrantKind::Register => "register",
            GrantKind::ResetSms => "reset_sms",
            GrantKind::ResetIdentity => "reset_identity",
        }
    }
}

/// Gives `mobile` a grant of `kind` valid for `ttl_ms`, replacing an earlier one (and, for a new
/// SMS step of a reset, the identity step that came after the old one).
pub fn give_grant(
    conn: &mut DbConnection,
    mobile: &str,
    kind: GrantKind,
    flow: &str,
    now: i64,
    ttl_ms: i64,
) -> DbResult<()> {
    write_transaction(conn, |conn| {
        let replaced: Vec<&str> = match kind {
            GrantKind::ResetSms => vec![
                GrantKind::ResetSms.as_str(),
                GrantKind::ResetIdentity.as_str(),
            ],
            other => vec![other.as_str()],
        };
        // One or two kinds: two statements to keep.
        cached(diesel::delete(
            grants::table
                .filter(grants::mobile.eq(mobile))
                .filter(grants::kind.eq_any(replaced)),
        ))
        .execute(conn)?;
        diesel::insert_into(grants::table)
            .values((
                grants::mobile.eq(mobile),
                grants::kind.eq(kind.as_str()),
                grants::flow.eq(flow),
                grants::granted_at.eq(now),
                grants::expires_at.eq(now + ttl_ms),
                grants::failures.eq(0),
            ))
            .execute(conn)?;
        Ok::<_, DbError>(())
    })
}

/// Whether `mobile` holds a live grant of `kind` at `now`.
pub fn has_grant(
    conn: &mut DbConnection,
    mobile: &str,
    kind: GrantKind,
    flow: &str,
    now: i64,
) -> DbResult<bool> {
    let n: i64 = grants::table
        .filter(grants::mobile.eq(mobile))
        .filter(grants::kind.eq(kind.as_str()))
        .filter(grants::flow.eq(flow))
        .filter(grants::expires_at.gt(now))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Consumes live grants of every kind in `kinds` for `mobile`, all or none: true when each was
/// live and is now used. Of concurrent requests, one wins.
pub fn take_grants(
    conn: &mut DbConnection,
    mobile: &str,
    kinds: &[GrantKind],
    flow: &str,
    now: i64,
) -> DbResult<bool> {
    write_transaction(conn, |conn| {
        for kind in kinds {
            let n = diesel::delete(
                grants::table
                    .filter(grants::mobile.eq(mobile))
                    .filter(grants::kind.eq(kind.as_str()))
                    .filter(grants::flow.eq(flow))
                    .filter(grants::expires_at.gt(now)),
            )
            .execute(conn)?;
            if n == 0 {
                // Roll back what was taken so far.
                return Err(Abort::Answer(()));
            }
        }
        Ok(())
    })
    .map_or_else(
        |e| match e {
            Abort::Answer(()) => Ok(false),
            Abort::Db(e) => Err(e),
        },
        |()| Ok(true),
    )
}

/// Counts a failed identity check on the reset grant; the `max`-th failure kills the grant.
/// Returns true when the grant died.
pub fn fail_grant(
    conn: &mut DbConnection,
    mobile: &str,
    kind: GrantKind,
    flow: &str,
    max: i32,
) -> DbResult<bool> {
    write_transaction(conn, |conn| {
        let target = grants::table
            .filter(grants::mobile.eq(mobile))
            .filter(grants::kind.eq(kind.as_str()))
            .filter(grants::flow.eq(flow));
        cached(diesel::update(target).set(grants::failures.eq(grants::failures + 1)))
            .execute(conn)?;
        let failures: Option<i32> = target.select(grants::failures).first(conn).optional()?;
        let dead = failures.is_some_and(|f| f >= max);
        if dead {
            diesel::delete(target).execute(conn)?;
        }
        Ok::<_, DbError>(dead)
    })
}

#[derive(QueryableByName)]
struct Hits {
    #[diesel(sql_type = BigInt)]
    hits: i64,
}

/// Counts one hit on `bucket` in the window starting at `window_start` and returns the window's
/// count including this hit. One upsert, atomic on both backends.
pub fn hit_rate_counter(conn: &mut DbConnection, bucket: &str, window_start: i64) -> DbResult<i64> {
    crate::db::write_one_statement(conn, |conn| {
        // Both backends accept this upsert; diesel's query builder has no upsert for MultiConnection.
        let rows: Vec<Hits> = cached(
            diesel::sql_query(
                "INSERT INTO rate_counters (bucket, window_start, hits) VALUES ($1, $2, 1) \
             ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_counters.hits + 1 \
             RETURNING CAST(hits AS BIGINT) AS hits",
            )
            .bind::<Text, _>(bucket)
            .bind::<BigInt, _>(window_start),
        )
        .load(conn)?;
        rows.first().map(|r| r.hits).ok_or(DbError::Corrupt {
            table: "rate_counters",
            column: "hits",
            value: "no row returned".into(),
        })
    })
}

/// Forgets rate-limit windows that started before `before`.
pub fn sweep_rate_counters(conn: &mut DbConnection, before: i64) -> DbResult<usize> {
    crate::db::write_statement(conn, |conn| {
        Ok(diesel::delete(
            crate::schema::rate_counters::table
                .filter(crate::schema::rate_counters::window_start.lt(before)),
        )
        .execute(conn)?)
    })
}
