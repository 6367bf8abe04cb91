//! Protocol records swept in the server, every `sweep_interval_secs`, so that no run of
//! requests (failed ones included) grows a table without bound: replay nonces once their
//! timestamps can no longer pass the freshness check, graphic codes once expired, rate-limit
//! windows once no limit reads them, periodic-job claims after two days.

use std::time::Duration;

use cashloan_persistence::accounts::sweep_nonces;
use cashloan_persistence::site::sweep_job_periods;
use cashloan_persistence::verification::{sweep_captchas, sweep_rate_counters};
use cashloan_persistence::{Db, DbResult};

/// How long a rate-limit window is kept: the longest window any limit reads (a day), twice.
const RATE_WINDOWS_KEPT_MS: i64 = 2 * 86_400_000;

/// What one sweep removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// Replay nonces.
    pub nonces: usize,
    /// Graphic codes.
    pub captchas: usize,
    /// Rate-limit windows.
    pub rate_windows: usize,
    /// Periodic-job claims (the reconciler's periods).
    pub job_periods: usize,
}

/// One sweep at `now`. A nonce is needed while a request carrying it could still be fresh: its
/// timestamp is within the window of the moment it was seen, and a replay is refused as stale
/// once `now` is more than the window past that timestamp; so twice the window after it was
/// seen, it can go.
pub fn sweep(db: &Db, now: i64, sign_window_secs: i64, captcha_ttl_secs: i64) -> DbResult<Swept> {
    let mut conn = db.conn()?;
    let window_ms = sign_window_secs.saturating_mul(1000);
    Ok(Swept {
        nonces: sweep_nonces(&mut conn, now - 2 * window_ms)?,
        captchas: sweep_captchas(&mut conn, now - captcha_ttl_secs.saturating_mul(1000))?,
        rate_windows: sweep_rate_counters(&mut conn, now - RATE_WINDOWS_KEPT_MS)?,
        job_periods: sweep_job_periods(&mut conn, now - RATE_WINDOWS_KEPT_MS)?,
    })
}

/// Runs [`sweep`] every `interval` on a thread of its own, for the server's life.
pub fn spawn_sweeper(db: Db, interval: Duration, sign_window_secs: i64, captcha_ttl_secs: i64) {
    let spawned = std::thread::Builder::new()
        .name("sweeper".into())
        .spawn(move || loop {
            std::thread::sleep(interval);
            let now = chrono::Utc::now().timestamp_millis();
            match sweep(&db, now, sign_window_secs, captcha_ttl_secs) {
                Ok(s) if s != Swept::default() => tracing::debug!(?s, "swept protocol records"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "sweeping protocol records failed"),
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the sweeper: the daily job still sweeps");
    }
}
