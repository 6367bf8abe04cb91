//! Feedback (§16 意见反馈): a registered borrower's suggestion, 1 to 1000 characters, at most ten
//! a business day per mobile.

use cashloan_domain::Mobile;
use cashloan_persistence::accounts::find_user_by_mobile;
use cashloan_persistence::site::add_feedback_within;
use cashloan_persistence::{DbConnection, DbError};
use chrono::NaiveDate;

/// Feedback one mobile may leave a business day.
pub const FEEDBACK_PER_DAY: i64 = 10;
/// Longest suggestion, characters.
pub const MAX_CHARS: usize = 1000;

/// Why feedback was not kept.
#[derive(Debug, thiserror::Error)]
pub enum FeedbackError {
    /// No account has this mobile.
    #[error("no account has this mobile")]
    NotRegistered,
    /// Blank, or longer than [`MAX_CHARS`].
    #[error("the suggestion is blank or too long")]
    Length,
    /// [`FEEDBACK_PER_DAY`] already today.
    #[error("too much feedback today")]
    TooMany,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Keeps `suggestion` from `mobile` (sent from app type `source`) on `today`.
pub fn leave_feedback(
    conn: &mut DbConnection,
    mobile: &Mobile,
    source: &str,
    suggestion: &str,
    today: NaiveDate,
    now: i64,
) -> Result<(), FeedbackError> {
    let user = find_user_by_mobile(conn, mobile.as_str())?.ok_or(FeedbackError::NotRegistered)?;
    if suggestion.trim().is_empty() || suggestion.chars().count() > MAX_CHARS {
        return Err(FeedbackError::Length);
    }
    let kept = add_feedback_within(
        conn,
        &user.id,
        mobile.as_str(),
        source,
        suggestion,
        today,
        now,
        FEEDBACK_PER_DAY,
    )?;
    if !kept {
        return Err(FeedbackError::TooMany);
    }
    Ok(())
}
