//! What operators publish and keep: system messages (§25), app releases (§17), feedback (§16),
//! the blacklist, and settings such as the business-date override.

use cashloan_domain::format_day;
use chrono::NaiveDate;
use diesel::prelude::*;

use crate::accounts::new_id;
use crate::cached::cached;
use crate::db::{inserted, write_transaction, DbConnection, DbError, DbResult};
use crate::loans::PageRequest;
use crate::schema::{app_versions, blacklist, feedback, settings, system_messages};

/// A system message (系统消息): the same for everyone.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = system_messages)]
pub struct SystemMessage {
    /// Id.
    pub id: String,
    /// `0` activity, `1` announcement.
    pub message_type: String,
    /// Title.
    pub title: String,
    /// Text.
    pub content: String,
    /// Activity URL, `""` when none.
    pub event_url: String,
    /// Shown from (ms).
    pub send_at: i64,
    /// Created at (ms).
    pub created_at: i64,
}

/// Publishes a system message.
pub fn add_system_message(conn: &mut DbConnection, m: &SystemMessage) -> DbResult<()> {
    crate::db::write_statement(conn, |conn| {
        diesel::insert_into(system_messages::table)
            .values(m)
            .execute(conn)?;
        Ok(())
    })
}

/// System messages sent by `now`, newest first, and how many there are.
pub fn list_system_messages(
    conn: &mut DbConnection,
    now: i64,
    page: PageRequest,
) -> DbResult<(Vec<SystemMessage>, i64)> {
    let total = system_messages::table
        .filter(system_messages::send_at.le(now))
        .count()
        .get_result(conn)?;
    let rows = system_messages::table
        .filter(system_messages::send_at.le(now))
        .order((system_messages::send_at.desc(), system_messages::id.desc()))
        .offset(page.offset)
        .limit(page.limit)
        .select(SystemMessage::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// An app release (§17).
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = app_versions)]
pub struct AppVersion {
    /// Id.
    pub id: String,
    /// `1` Android, `2` iOS, `3` other.
    pub app_type: String,
    /// Build number.
    pub version_code: i64,
    /// Display version.
    pub version_name: String,
    /// Where to get it.
    pub download_url: String,
    /// Clients below this build must update.
    pub force_update: bool,
    /// Release notes.
    pub description: String,
    /// Published at (ms).
    pub created_at: i64,
}

/// Publishes a release; false when that build of that app type already exists.
pub fn add_app_version(conn: &mut DbConnection, v: &AppVersion) -> DbResult<bool> {
    crate::db::write_statement(conn, |conn| {
        inserted(
            diesel::insert_into(app_versions::table)
                .values(v)
                .execute(conn),
        )
    })
}

/// The latest release (highest build) of an app type.
pub fn latest_app_version(conn: &mut DbConnection, app_type: &str) -> DbResult<Option<AppVersion>> {
    Ok(app_versions::table
        .filter(app_versions::app_type.eq(app_type))
        .order(app_versions::version_code.desc())
        .select(AppVersion::as_select())
        .first(conn)
        .optional()?)
}

/// Stores a piece of feedback.
pub fn add_feedback(
    conn: &mut DbConnection,
    user_id: &str,
    mobile: &str,
    source: &str,
    suggestion: &str,
    business_date: NaiveDate,
    now: i64,
) -> DbResult<()> {
    crate::db::write_statement(conn, |conn| {
        diesel::insert_into(feedback::table)
            .values((
                feedback::id.eq(new_id()),
                feedback::user_id.eq(user_id),
                feedback::mobile.eq(mobile),
                feedback::source.eq(source),
                feedback::suggestion.eq(suggestion),
                feedback::business_date.eq(format_day(business_date)),
                feedback::created_at.eq(now),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// Stores a piece of feedback unless `mobile` already sent `limit` on `business_date`; true when
/// stored. The count and the insert run in one transaction after the user's row lock (on SQLite,
/// the file's write lock), so concurrent requests never pass the limit together.
#[allow(clippy::too_many_arguments)]
pub fn add_feedback_within(
    conn: &mut DbConnection,
    user_id: &str,
    mobile: &str,
    source: &str,
    suggestion: &str,
    business_date: NaiveDate,
    now: i64,
    limit: i64,
) -> DbResult<bool> {
    use crate::schema::users;
    write_transaction(conn, |conn| {
        // A no-op update: portable, and on PostgreSQL the row lock the count is read under.
        cached(
            diesel::update(users::table.find(user_id)).set(users::updated_at.eq(users::updated_at)),
        )
        .execute(conn)?;
        if count_feedback(conn, mobile, business_date)? >= limit {
            return Ok(false);
        }
        add_feedback(
            conn,
            user_id,
            mobile,
            source,
            suggestion,
            business_date,
            now,
        )?;
        Ok(true)
    })
}

/// How much feedback `mobile` sent on `business_date`.
pub fn count_feedback(
    conn: &mut DbConnection,
    mobile: &str,
    business_date: NaiveDate,
) -> DbResult<i64> {
    Ok(feedback::table
        .filter(feedback::mobile.eq(mobile))
        .filter(feedback::business_date.eq(format_day(business_date)))
        .count()
        .get_result(conn)?)
}

/// Whether `mobile` is blacklisted.
pub fn is_blacklisted(conn: &mut DbConnection, mobile: &str) -> DbResult<bool> {
    let n: i64 = blacklist::table
        .filter(blacklist::mobile.eq(mobile))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Puts `mobile` on the blacklist (registered or not); false when it already was.
pub fn add_to_blacklist(
    conn: &mut DbConnection,
    mobile: &str,
    reason: &str,
    now: i64,
) -> DbResult<bool> {
    write_transaction(conn, |conn| {
        if is_blacklisted(conn, mobile)? {
            return Ok(false);
        }
        diesel::insert_into(blacklist::table)
            .values((
                blacklist::mobile.eq(mobile),
                blacklist::reason.eq(reason),
                blacklist::created_at.eq(now),
            ))
            .execute(conn)?;
        Ok::<_, DbError>(true)
    })
}

/// Takes `mobile` off the blacklist; false when it was not on it.
pub fn remove_from_blacklist(conn: &mut DbConnection, mobile: &str) -> DbResult<bool> {
    crate::db::write_statement(conn, |conn| {
        Ok(diesel::delete(blacklist::table.find(mobile)).execute(conn)? == 1)
    })
}

/// Name of the setting holding the operator's business date.
pub const BUSINESS_DATE: &str = "business_date";

/// A setting's value.
pub fn get_setting(conn: &mut DbConnection, name: &str) -> DbResult<Option<String>> {
    Ok(per_backend!(conn, c => settings::table
        .find(name)
        .select(settings::value)
        .first(c)
        .optional()?))
}

/// Sets a setting.
pub fn set_setting(conn: &mut DbConnection, name: &str, value: &str, now: i64) -> DbResult<()> {
    write_transaction(conn, |conn| {
        diesel::delete(settings::table.find(name)).execute(conn)?;
        diesel::insert_into(settings::table)
            .values((
                settings::name.eq(name),
                settings::value.eq(value),
                settings::updated_at.eq(now),
            ))
            .execute(conn)?;
        Ok::<_, DbError>(())
    })
}

/// Removes a setting.
pub fn clear_setting(conn: &mut DbConnection, name: &str) -> DbResult<()> {
    crate::db::write_statement(conn, |conn| {
        diesel::delete(settings::table.find(name)).execute(conn)?;
        Ok(())
    })
}

/// The business date an operator set, if any.
pub fn business_date_override(conn: &mut DbConnection) -> DbResult<Option<NaiveDate>> {
    match get_setting(conn, BUSINESS_DATE)? {
        None => Ok(None),
        Some(v) => crate::columns::stored_day("settings", "value", &v).map(Some),
    }
}

/// Claims period `period` of the periodic job `job` for `instance`: true for the one caller that
/// inserted the period's row (it runs the job), false for every other (another server, or this
/// one again, has it). One guarded insert: never a read first.
pub fn claim_job_period(
    conn: &mut DbConnection,
    job: &str,
    period: i64,
    instance: &str,
    now: i64,
) -> DbResult<bool> {
    crate::db::write_statement(conn, |conn| {
        use crate::schema::job_runs;
        let insert = diesel::insert_into(job_runs::table)
            .values((
                job_runs::job.eq(job),
                job_runs::period.eq(period),
                job_runs::instance.eq(instance),
                job_runs::started_at.eq(now),
            ))
            .on_conflict_do_nothing();
        // The MultiConnection has no upsert: each backend runs it itself.
        let n = match conn {
            DbConnection::Sqlite(c) => insert.execute(c)?,
            DbConnection::Pg(c) => insert.execute(c)?,
        };
        Ok(n == 1)
    })
}

/// When (ms) any process last claimed a period of `job`, if one is on record.
pub fn last_job_claim(conn: &mut DbConnection, job: &str) -> DbResult<Option<i64>> {
    use crate::schema::job_runs;
    Ok(job_runs::table
        .filter(job_runs::job.eq(job))
        .select(diesel::dsl::max(job_runs::started_at))
        .first::<Option<i64>>(conn)?)
}

/// Forgets periodic-job claims started before `before`; returns how many.
pub fn sweep_job_periods(conn: &mut DbConnection, before: i64) -> DbResult<usize> {
    crate::db::write_statement(conn, |conn| {
        use crate::schema::job_runs;
        Ok(
            diesel::delete(job_runs::table.filter(job_runs::started_at.lt(before)))
                .execute(conn)?,
        )
    })
}
