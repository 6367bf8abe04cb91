//! What an operator's Prometheus scrapes at `GET /metrics`: requests by endpoint and answer code
//! with latency histograms, the database pool, payment orders by state, SMS sent and refused,
//! daily-job runs. Label values come only from the route table and from fixed code lists, so a
//! client cannot create new series by asking for paths that do not exist.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use cashloan_persistence::Db;

/// The label of a request whose path is in no route.
pub const UNMATCHED: &str = "unmatched";

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    sms: IntCounterVec,
    daily_job_runs: IntCounterVec,
    daily_job_claimed: IntGauge,
    pool: IntGaugeVec,
    pool_waits: IntGaugeVec,
    payment_orders: IntGaugeVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// What became of an SMS code asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmsOutcome {
    /// The gateway took it.
    Sent,
    /// A cap (per mobile, per address, per day) refused it.
    Refused,
    /// The gateway failed.
    Failed,
}

/// The answer code a response carries for the metrics: the envelope's `responseCode` for the app
/// API (set by the pipeline), else the HTTP status.
#[derive(Clone, Copy, Debug)]
pub struct AnswerCode(pub &'static str);

fn registered<C: prometheus::core::Collector + Clone + 'static>(
    registry: &Registry,
    c: prometheus::Result<C>,
) -> prometheus::Result<C> {
    let c = c?;
    registry.register(Box::new(c.clone()))?;
    Ok(c)
}

impl Metrics {
    /// The metrics, registered and at zero.
    pub fn new() -> prometheus::Result<Metrics> {
        let r = Registry::new_custom(Some("cashloan".into()), None)?;
        Ok(Metrics {
            requests: registered(
                &r,
                IntCounterVec::new(
                    Opts::new(
                        "requests_total",
                        "Requests answered, by endpoint and answer code",
                    ),
                    &["endpoint", "code"],
                ),
            )?,
            latency: registered(
                &r,
                HistogramVec::new(
                    HistogramOpts::new("request_duration_seconds", "Time to answer, by endpoint")
                        .buckets(vec![
                            0.000_5, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                            2.5, 5.0, 10.0,
                        ]),
                    &["endpoint"],
                ),
            )?,
            sms: registered(
                &r,
                IntCounterVec::new(
                    Opts::new(
                        "sms_total",
                        "SMS codes asked for: sent, refused by a cap, or failed",
                    ),
                    &["outcome"],
                ),
            )?,
            daily_job_runs: registered(
                &r,
                IntCounterVec::new(
                    Opts::new("daily_job_runs_total", "Daily-job runs in this process"),
                    &["outcome"],
                ),
            )?,
            daily_job_claimed: registered(
                &r,
                IntGauge::with_opts(Opts::new(
                    "daily_job_last_claimed_timestamp_seconds",
                    "When any process last claimed a business date for the daily job \
                     (cashloan batch), from the database; 0 when none is on record",
                )),
            )?,
            pool: registered(
                &r,
                IntGaugeVec::new(
                    Opts::new("db_pool_connections", "Database pool connections"),
                    &["state"],
                ),
            )?,
            pool_waits: registered(
                &r,
                IntGaugeVec::new(
                    Opts::new(
                        "db_pool_waits",
                        "Checkouts that waited for a connection since start (count, and ms waited)",
                    ),
                    &["measure"],
                ),
            )?,
            payment_orders: registered(
                &r,
                IntGaugeVec::new(
                    Opts::new("payment_orders", "Payment orders in the database, by state"),
                    &["state"],
                ),
            )?,
            registry: r,
        })
    }

    /// Counts an answered request.
    pub fn observe_request(&self, endpoint: &str, code: &str, seconds: f64) {
        self.requests.with_label_values(&[endpoint, code]).inc();
        self.latency.with_label_values(&[endpoint]).observe(seconds);
    }

    /// Counts an SMS code asked for: `sent`, `refused` (a cap said no) or `failed` (the
    /// gateway did).
    pub fn observe_sms(&self, outcome: SmsOutcome) {
        let label = match outcome {
            SmsOutcome::Sent => "sent",
            SmsOutcome::Refused => "refused",
            SmsOutcome::Failed => "failed",
        };
        self.sms.with_label_values(&[label]).inc();
    }

    /// Counts a daily-job run that finished (`true`) or failed.
    pub fn observe_daily_job(&self, finished: bool) {
        let outcome = if finished { "finished" } else { "failed" };
        self.daily_job_runs.with_label_values(&[outcome]).inc();
    }

    fn observe_orders(&self, c: &mut cashloan_persistence::DbConnection) {
        match cashloan_persistence::payment_orders::count_orders_by_status(c) {
            Ok(counts) => {
                use cashloan_persistence::payment_orders::OrderStatus as S;
                for state in [S::Pending, S::Unknown, S::Succeeded, S::Failed].map(S::as_str) {
                    let n = counts
                        .iter()
                        .find(|(s, _)| s == state)
                        .map_or(0, |(_, n)| *n);
                    self.payment_orders.with_label_values(&[state]).set(n);
                }
            }
            Err(e) => tracing::warn!(error = %e, "metrics: cannot count payment orders"),
        }
    }

    /// The text exposition, with the pool, the payment orders and the daily job's last claim
    /// read now.
    pub fn render(&self, db: &Db) -> String {
        let p = db.pool_stats();
        let gauge = |g: &IntGaugeVec, label: &str, v: u64| {
            g.with_label_values(&[label])
                .set(i64::try_from(v).unwrap_or(i64::MAX));
        };
        gauge(
            &self.pool,
            "in_use",
            u64::from(p.connections.saturating_sub(p.idle)),
        );
        gauge(&self.pool, "idle", u64::from(p.idle));
        gauge(&self.pool, "max", u64::from(p.max));
        gauge(&self.pool_waits, "count", p.waits);
        gauge(
            &self.pool_waits,
            "milliseconds",
            (p.wait_seconds * 1000.0) as u64,
        );
        match db.conn() {
            Ok(mut c) => {
                self.observe_orders(&mut c);
                match cashloan_persistence::site::last_job_claim(&mut c, "daily") {
                    Ok(at) => self.daily_job_claimed.set(at.unwrap_or(0) / 1000),
                    Err(e) => {
                        tracing::warn!(error = %e, "metrics: cannot read the daily job's claims")
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "metrics: no connection for the database's figures")
            }
        }
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %e, "metrics: encoding failed");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}
