//! What the app shows everyone (system messages, releases), the business date, and the daily job.

use actix_web::http::StatusCode;
use cashloan_persistence::accounts::new_id;
use cashloan_persistence::site::{
    add_app_version, add_system_message, business_date_override, set_setting, AppVersion,
    SystemMessage, BUSINESS_DATE,
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{business_date, date, fault, ok, with_status, AdminCall, Answer, Refusal};
use crate::context::{AppState, Lease};
use crate::usecases::daily_job::{self, DailyOutcome};

/// The id of what was created.
#[derive(Serialize)]
struct Created {
    id: String,
}

/// The body of a system message (§25).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SystemMessageBody {
    /// `0` activity, `1` announcement.
    message_type: String,
    title: String,
    content: String,
    event_url: Option<String>,
    /// When it shows (ms); now by default.
    send_at: Option<i64>,
}

/// `POST /admin/system-messages`.
pub(super) fn system_message(st: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    let b: SystemMessageBody = call.body()?;
    if b.message_type != "0" && b.message_type != "1" {
        return Err(Refusal::Unprocessable(
            "messageType must be 0 (activity) or 1 (announcement)".into(),
        ));
    }
    let now = st.now_ms();
    let m = SystemMessage {
        id: new_id(),
        message_type: b.message_type,
        title: b.title,
        content: b.content,
        event_url: b.event_url.unwrap_or_default(),
        send_at: b.send_at.unwrap_or(now),
        created_at: now,
    };
    add_system_message(lease.get()?, &m)?;
    with_status(StatusCode::CREATED, Created { id: m.id })
}

/// The body of an app release (§17).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppVersionBody {
    /// `1` Android, `2` iOS, `3` other.
    app_type: String,
    /// The build number, a positive number as text.
    version_code: String,
    version_name: String,
    download_url: String,
    /// `1` when older builds must update.
    force_update: Option<String>,
    description: Option<String>,
}

/// `POST /admin/app-versions`.
pub(super) fn app_version(st: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    let b: AppVersionBody = call.body()?;
    if !matches!(b.app_type.as_str(), "1" | "2" | "3") {
        return Err(Refusal::Unprocessable("appType must be 1, 2 or 3".into()));
    }
    let code = b
        .version_code
        .parse::<i64>()
        .ok()
        .filter(|c| *c > 0)
        .ok_or_else(|| Refusal::Unprocessable("versionCode must be a positive number".into()))?;
    let v = AppVersion {
        id: new_id(),
        app_type: b.app_type,
        version_code: code,
        version_name: b.version_name,
        download_url: b.download_url,
        force_update: b.force_update.as_deref() == Some("1"),
        description: b.description.unwrap_or_default(),
        created_at: st.now_ms(),
    };
    if !add_app_version(lease.get()?, &v)? {
        return Err(Refusal::Conflict(
            "this build of this app type exists".into(),
        ));
    }
    with_status(StatusCode::CREATED, Created { id: v.id })
}

/// The business date and whether an operator set it.
#[derive(Serialize)]
struct BusinessDateView {
    date: String,
    overridden: bool,
}

/// `GET /admin/business-date`.
pub(super) fn get_business_date(st: &AppState, lease: &mut Lease<'_>, _: &AdminCall) -> Answer {
    let date = business_date(st, lease)?;
    let overridden =
        st.config.allow_business_date_override && business_date_override(lease.get()?)?.is_some();
    ok(BusinessDateView {
        date: cashloan_domain::format_day(date),
        overridden,
    })
}

/// The body naming a date (`YYYY-MM-DD`).
#[derive(Deserialize, utoipa::ToSchema)]
pub struct BusinessDateBody {
    date: String,
}

/// `POST /admin/business-date`, when overrides are allowed.
pub(super) fn set_business_date(st: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    if !st.config.allow_business_date_override {
        return Err(Refusal::Forbidden(
            "CASHLOAN_ALLOW_BUSINESS_DATE_OVERRIDE is off".into(),
        ));
    }
    let b: BusinessDateBody = call.body()?;
    let day = cashloan_domain::format_day(date(&b.date)?);
    set_setting(lease.get()?, BUSINESS_DATE, &day, st.now_ms())?;
    ok(BusinessDateView {
        date: day,
        overridden: true,
    })
}

/// The body of a daily-job run: the business date by default.
#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct DailyBody {
    date: Option<String>,
}

/// `POST /admin/batch/daily`: runs the daily job.
pub(super) fn daily(st: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    let b: DailyBody = call.body()?;
    let date = match b.date.as_deref() {
        Some(d) => date(d)?,
        None => business_date(st, lease)?,
    };
    lease.release();
    let outcome = daily_job::daily_job(&st.db, st.providers.payments.as_ref(), &st.config, date);
    st.metrics.observe_daily_job(outcome.is_ok());
    let outcome = outcome.map_err(fault)?;
    Ok((StatusCode::OK, report_json(date, &outcome)))
}

/// The daily job's counts as JSON.
pub fn report_json(date: NaiveDate, o: &DailyOutcome) -> Value {
    let r = &o.book;
    let c = &o.reconciled;
    json!({
        "date": cashloan_domain::format_day(date),
        "lookedAt": r.looked_at, "markedOverdue": r.marked_overdue, "penaltiesAccrued": r.penalties_accrued,
        "reminders": r.reminders, "overdueMessages": r.overdue_messages, "swept": r.swept,
        "elapsedMs": u64::try_from(r.elapsed.as_millis()).unwrap_or(u64::MAX),
        "autoDebit": o.auto_debit.map(|a| json!({
            "opened": a.opened, "succeeded": a.succeeded, "failed": a.failed, "unknown": a.unknown,
        })),
        "reconciled": {
            "asked": c.asked, "succeeded": c.succeeded, "failed": c.failed, "unknown": c.unknown,
            "flagged": c.flagged,
        },
    })
}
