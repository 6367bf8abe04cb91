//! What every handler works with: the server's state, the request's context, typed field
//! extraction (docs/api.md, "Codes, units and formats") and the one mapping from failures to response codes.

use std::cell::RefCell;
use std::sync::Arc;

use cashloan_domain::{LendingPolicy, Money};
use cashloan_persistence::accounts::{Session, User};
use cashloan_persistence::loans::{
    user_disbursed_principal, user_unpaid_installments, InstallmentWithLoan,
};
use cashloan_persistence::products::{find_product, ProductRow};
use cashloan_persistence::profile::find_identity;
use cashloan_persistence::{site, Db, DbConnection, DbError, PooledDb};
use cashloan_protocol::{Envelope, Json, Map, Outcome, PasswordCodec, ResponseCode};
use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};

use crate::config::Config;
use crate::pages::Pages;
use crate::providers::Providers;
use crate::read_cache::UserRead;
use crate::routes::contract::{Field, FieldKind};

/// A request's hold on one pooled database connection: taken from the pool at the first
/// [`Lease::get`], given back by [`Lease::release`] (or at the end of the request). A handler
/// releases it before it calls a payment channel, an SMS gateway or a verifier, so a slow third
/// party never keeps a connection (and, on SQLite, never the write lock) from other borrowers.
pub struct Lease<'a> {
    db: &'a Db,
    conn: Option<PooledDb>,
    /// Read everything in one transaction (one snapshot) while the connection is held.
    snapshot: bool,
    /// Hold no connection at all: [`Lease::get`] fails and notes that one was wanted.
    offline: bool,
    /// A connection was asked for while offline.
    wanted: bool,
}

impl<'a> Lease<'a> {
    /// A lease on `db` that holds nothing yet.
    pub fn new(db: &'a Db) -> Lease<'a> {
        Lease {
            db,
            conn: None,
            snapshot: false,
            offline: false,
            wanted: false,
        }
    }

    /// A lease that lends no connection: for a request served from the read cache, which is
    /// run again with a connection if it needs one ([`Lease::wanted`]).
    pub fn offline(db: &'a Db) -> Lease<'a> {
        let mut lease = Lease::new(db);
        lease.offline = true;
        lease
    }

    /// Whether an offline lease was asked for a connection.
    pub fn wanted(&self) -> bool {
        self.wanted
    }

    /// A lease whose reads all see one snapshot of the database: a read transaction from the
    /// first [`Lease::get`] to the release. For handlers that only read. On SQLite it also
    /// takes the file's read lock once instead of once per statement.
    pub fn snapshot(db: &'a Db) -> Lease<'a> {
        let mut lease = Lease::new(db);
        lease.snapshot = true;
        lease
    }

    /// [`Lease::snapshot`] on a connection already taken from the pool.
    pub fn snapshot_on(db: &'a Db, conn: PooledDb) -> Lease<'a> {
        Lease::snapshot(db).holding(conn)
    }

    fn holding(mut self, mut conn: PooledDb) -> Lease<'a> {
        if self.snapshot {
            if let Err(e) = cashloan_persistence::db::begin_read(&mut conn) {
                // Without its transaction the connection is of no use here; the first `get`
                // takes another (and reports what fails).
                tracing::warn!(error = %e, "beginning a read transaction failed");
                return self;
            }
        }
        self.conn = Some(conn);
        self
    }

    /// The connection, taken from the pool if not held.
    pub fn get(&mut self) -> Result<&mut DbConnection, DbError> {
        if self.offline {
            self.wanted = true;
            return Err(DbError::Pool(
                "served from the read cache: no connection".into(),
            ));
        }
        if self.conn.is_none() {
            let mut conn = self.db.conn()?;
            if self.snapshot {
                cashloan_persistence::db::begin_read(&mut conn)?;
            }
            self.conn = Some(conn);
        }
        match &mut self.conn {
            Some(conn) => Ok(&mut **conn),
            None => Err(DbError::Pool("no connection held".into())),
        }
    }

    /// Gives the connection back to the pool (a no-op when none is held).
    pub fn release(&mut self) {
        if let Some(mut conn) = self.conn.take() {
            if self.snapshot {
                // A connection whose transaction could not end is still in one, and the pool
                // discards such a connection rather than lend it again.
                if let Err(e) = cashloan_persistence::db::end_read(&mut conn) {
                    tracing::warn!(error = %e, "ending a read transaction failed");
                }
            }
        }
    }

    /// Whether a connection is held.
    pub fn is_held(&self) -> bool {
        self.conn.is_some()
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        self.release();
    }
}

/// Everything the server holds for its whole life.
pub struct AppState {
    /// Configuration.
    pub config: Config,
    /// The database.
    pub db: Db,
    /// Where requests record their nonces (one group-committing writer).
    pub replay: crate::replay::ReplayGuard,
    /// What read-only requests read on every call ([`crate::read_cache`]).
    pub cache: crate::read_cache::ReadCache,
    /// What `/metrics` shows.
    pub metrics: crate::metrics::Metrics,
    /// Set once a stop signal came: `/readyz` answers 503 while the requests in flight finish.
    pub draining: std::sync::atomic::AtomicBool,
    /// Wire password codec.
    pub codec: PasswordCodec,
    /// Third parties.
    pub providers: Providers,
    /// APR cap and fee rules.
    pub policy: LendingPolicy,
    /// Total credit of a new user.
    pub default_credit: Money,
    /// The business time zone.
    pub zone: FixedOffset,
    /// The H5 pages.
    pub pages: Pages,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<crate::client_address::Cidr>,
}

impl AppState {
    /// Now, ms since the epoch.
    pub fn now_ms(&self) -> i64 {
        Utc::now().timestamp_millis()
    }

    /// Today's business date: the operator's override when allowed and set, else today in the
    /// business time zone.
    pub fn business_date(&self, conn: &mut DbConnection) -> Result<NaiveDate, ApiError> {
        if self.config.allow_business_date_override {
            if let Some(d) = site::business_date_override(conn)? {
                return Ok(d);
            }
        }
        Ok(self.calendar_date())
    }

    /// Today in the business time zone, by the clock.
    pub fn calendar_date(&self) -> NaiveDate {
        Utc::now().with_timezone(&self.zone).date_naive()
    }

    /// `yyyy-MM-dd HH:mm:ss` of an instant in the business time zone.
    pub fn format_time(&self, ms: i64) -> String {
        DateTime::<Utc>::from_timestamp_millis(ms)
            .map(|t| {
                t.with_timezone(&self.zone)
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string()
            })
            .unwrap_or_default()
    }

    /// Epoch ms of 23:59:59 of `date` in the business time zone (an installment's due time).
    pub fn end_of_day_ms(&self, date: NaiveDate) -> i64 {
        date.and_hms_opt(23, 59, 59)
            .and_then(|t| self.zone.from_local_datetime(&t).single())
            .map_or(0, |t| t.timestamp_millis())
    }
}

/// Why a request did not succeed: an answer for the client, or a fault for the log. A fault
/// keeps its cause; the client gets `99999999` and the request id, the log gets the cause.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A business or protocol answer.
    #[error("answered {}", .0.code.code())]
    Reply(Outcome),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] DbError),
    /// A third party gave no answer.
    #[error(transparent)]
    Unavailable(#[from] crate::providers::Unavailable),
    /// Something else broke.
    #[error("{0}")]
    Fault(String),
}

impl From<Outcome> for ApiError {
    fn from(o: Outcome) -> Self {
        ApiError::Reply(o)
    }
}

impl From<ResponseCode> for ApiError {
    fn from(c: ResponseCode) -> Self {
        ApiError::Reply(Outcome::new(c))
    }
}

/// A handler's answer.
pub struct Reply {
    /// The envelope to sign and send.
    pub envelope: Envelope,
    /// A `Set-Cookie` value, if any.
    pub cookie: Option<String>,
}

impl Reply {
    /// Success with a `resultSet`.
    pub fn ok(code: ResponseCode, result: Json) -> Result<Reply, ApiError> {
        Ok(Reply {
            envelope: Envelope::success(code, result),
            cookie: None,
        })
    }

    /// Success whose `resultSet` is `result` as JSON: a `Serialize` struct's members in their
    /// declared order, numbers as JSON numbers.
    pub fn data(code: ResponseCode, result: &impl serde::Serialize) -> Result<Reply, ApiError> {
        Self::ok(code, to_json(result)?)
    }

    /// Success with `resultSet: ""`.
    pub fn empty(code: ResponseCode) -> Result<Reply, ApiError> {
        Self::ok(code, Json::from(""))
    }

    /// A failure.
    pub fn failure(outcome: Outcome) -> Reply {
        Reply {
            envelope: Envelope::failure(outcome),
            cookie: None,
        }
    }
}

/// `value` as the protocol's JSON.
pub fn to_json(value: &impl serde::Serialize) -> Result<Json, ApiError> {
    serde_json::to_value(value)
        .map(Json::from)
        .map_err(|e| ApiError::Fault(format!("an answer did not serialize: {e}")))
}

/// The request's fields, read in the order of the endpoint's request table: presence and JSON
/// type first (step 7, each failure naming the field), formats after (step 8).
pub struct Fields<'a> {
    map: &'a Map,
    /// The fields the endpoint's contract declares: the only ones its handler may read.
    declared: &'static [Field],
    /// The first format problem seen while extracting, reported by [`Fields::formats`].
    format_error: RefCell<Option<String>>,
}

/// Longest string a field may have unless its section says otherwise (docs/api.md, "Codes, units and formats").
pub const MAX_STRING: usize = 255;

impl<'a> Fields<'a> {
    /// Fields of a request body, to be read as `declared` says.
    pub fn new(map: &'a Map, declared: &'static [Field]) -> Self {
        Fields {
            map,
            declared,
            format_error: RefCell::new(None),
        }
    }

    /// Refuses to read a field the contract does not declare as `kind`: the contract is what
    /// the API document says, so a handler that strays from it is a fault to fix, not a field
    /// to read quietly.
    fn declared(&self, name: &str, kind: FieldKind) -> Result<(), ApiError> {
        match self.declared.iter().find(|f| f.name == name) {
            Some(f) if f.kind == kind => Ok(()),
            Some(f) => Err(ApiError::Fault(format!(
                "the handler reads {name} as {kind:?}; its contract says {:?}",
                f.kind
            ))),
            None => Err(ApiError::Fault(format!(
                "the handler reads {name}, which its contract does not declare"
            ))),
        }
    }

    fn note_format(&self, name: &str) {
        let mut slot = self.format_error.borrow_mut();
        if slot.is_none() {
            *slot = Some(name.to_owned());
        }
    }

    fn present(&self, name: &str) -> Option<&'a Json> {
        self.map.get(name).filter(|v| !matches!(v, Json::Null))
    }

    /// A required string, `""` counting as missing, at most [`MAX_STRING`] characters.
    pub fn string(&self, name: &str) -> Result<&'a str, ApiError> {
        self.string_max(name, MAX_STRING)
    }

    /// A required string of at most `max` characters.
    pub fn string_max(&self, name: &str, max: usize) -> Result<&'a str, ApiError> {
        self.declared(name, FieldKind::Text)?;
        match self.present(name) {
            Some(Json::String(s)) if !s.is_empty() => {
                if s.chars().count() > max {
                    self.note_format(name);
                }
                Ok(s)
            }
            _ => Err(Outcome::malformed_field(name).into()),
        }
    }

    /// A required string that may be `""`.
    pub fn string_or_empty(&self, name: &str) -> Result<&'a str, ApiError> {
        self.declared(name, FieldKind::Text)?;
        match self.present(name) {
            Some(Json::String(s)) => {
                if s.chars().count() > MAX_STRING {
                    self.note_format(name);
                }
                Ok(s)
            }
            _ => Err(Outcome::malformed_field(name).into()),
        }
    }

    /// An optional string (absent or `null`: none).
    pub fn opt_string(&self, name: &str) -> Result<Option<&'a str>, ApiError> {
        self.declared(name, FieldKind::Text)?;
        match self.present(name) {
            None => Ok(None),
            Some(Json::String(s)) => {
                if s.chars().count() > MAX_STRING {
                    self.note_format(name);
                }
                Ok(Some(s))
            }
            Some(_) => Err(Outcome::malformed_field(name).into()),
        }
    }

    /// An optional JSON integer.
    pub fn opt_int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.declared(name, FieldKind::Integer)?;
        match self.present(name) {
            None => Ok(None),
            Some(Json::Number(n)) => match n.parse::<i64>() {
                Ok(v) => Ok(Some(v)),
                Err(_) => Err(Outcome::malformed_field(name).into()),
            },
            Some(_) => Err(Outcome::malformed_field(name).into()),
        }
    }

    /// A required JSON integer.
    pub fn int(&self, name: &str) -> Result<i64, ApiError> {
        self.opt_int(name)?
            .ok_or_else(|| Outcome::malformed_field(name).into())
    }

    /// A required JSON array.
    pub fn array(&self, name: &str) -> Result<&'a [Json], ApiError> {
        self.declared(name, FieldKind::Phonebook)?;
        match self.present(name) {
            Some(Json::Array(items)) => Ok(items),
            _ => Err(Outcome::malformed_field(name).into()),
        }
    }

    /// Step 8 begins: the first length problem seen during extraction, as `10001000`.
    pub fn formats(&self) -> Result<(), ApiError> {
        match self.format_error.borrow().as_deref() {
            Some(name) => Err(Outcome::malformed_field(name).into()),
            None => Ok(()),
        }
    }
}

/// `10001000` naming `field`: a format failure of step 8.
pub fn bad(field: &str) -> ApiError {
    Outcome::malformed_field(field).into()
}

/// A request in flight.
pub struct Ctx<'a> {
    /// The server.
    pub state: &'a AppState,
    /// The request's database connection, taken when needed and given back before any call to
    /// a third party.
    pub conn: Lease<'a>,
    /// The body's fields.
    pub fields: Fields<'a>,
    /// The live session, on login-required endpoints.
    pub session: Option<Session>,
    /// The session's user, on login-required endpoints.
    pub user: Option<User>,
    /// Now (ms).
    pub now: i64,
    /// The client's address.
    pub client: &'a str,
    /// Who walks a registration or reset flow (its flow cookie, address and `User-Agent`).
    pub flow: &'a RequestFlow,
    /// How this request may use the read cache.
    pub cache: CacheUse,
}

/// How a request may use the read cache ([`crate::read_cache`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheUse {
    /// Not at all: it reads the database (a request that writes, or one not checked).
    Off,
    /// It may keep what it reads from the database, under the version of its user as read from
    /// the database and the read epoch seen before it started (`None`: no shared reads kept).
    Keep(Option<i64>),
    /// It may also read from the cache: its answer is checked against the database after it
    /// arrived. The epoch is the one its shared reads were held for; `used_shared` notes use.
    Read {
        /// Read epoch its shared reads are held for.
        epoch: Option<i64>,
        /// Whether a shared read (product, business date) came from the cache or was kept.
        used_shared: bool,
    },
}

/// The name of the cookie that binds a registration or reset flow to its client.
pub const FLOW_COOKIE: &str = "CASHLOAN_FLOW";

/// What identifies a request's client in a registration or reset flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestFlow {
    /// SHA-256 (hex) of the flow cookie the request carried, if any (the value itself is never
    /// stored).
    pub cookie_digest: Option<String>,
    /// The client's address and a digest of its `User-Agent`.
    pub client_key: String,
}

impl RequestFlow {
    /// Of a request from `client` with the headers `cookie` (flow cookie value) and `user_agent`.
    pub fn new(client: &str, cookie: Option<&str>, user_agent: &str) -> RequestFlow {
        let ua = crate::security::sha256_hex(user_agent.as_bytes());
        RequestFlow {
            cookie_digest: cookie.map(|c| crate::security::sha256_hex(c.as_bytes())),
            client_key: format!("{client}|{}", &ua[..16]),
        }
    }

    /// As the persistence layer sees it.
    pub fn as_client(&self) -> cashloan_persistence::verification::FlowClient<'_> {
        cashloan_persistence::verification::FlowClient {
            cookie: self.cookie_digest.as_deref(),
            client: &self.client_key,
        }
    }
}

impl Ctx<'_> {
    /// The logged-in user (login-required endpoints always have one).
    pub fn user(&self) -> Result<&User, ApiError> {
        self.user
            .as_ref()
            .ok_or_else(|| ResponseCode::NotLoggedIn.into())
    }

    /// Today's business date.
    pub fn today(&mut self) -> Result<NaiveDate, ApiError> {
        if !self.state.config.allow_business_date_override {
            return Ok(self.state.calendar_date());
        }
        let held = match (self.shared_epoch(), self.reads_cache()) {
            (Some(e), true) => self.state.cache.business_date(e),
            _ => None,
        };
        let over = match held {
            Some(over) => {
                self.note_shared();
                over
            }
            None => {
                let over = site::business_date_override(self.conn.get()?)?;
                if let Some(e) = self.shared_epoch() {
                    self.state.cache.keep_business_date(e, over);
                }
                over
            }
        };
        Ok(over.unwrap_or_else(|| self.state.calendar_date()))
    }

    /// The logged-in user's unpaid installments with their loans, by due date. From the cache,
    /// their `overdue`, `penalty` and `penalty_date` may lag the daily job's accrual (it moves no
    /// version, see the read-versions migration): what they owe is computed to a date
    /// ([`amounts`](cashloan_persistence::loans::InstallmentRow::amounts)), never read from those.
    pub fn unpaid_installments(&mut self) -> Result<Arc<Vec<InstallmentWithLoan>>, ApiError> {
        let user = self.user()?.clone();
        if let Some(rows) = self
            .reads_cache()
            .then(|| self.state.cache.unpaid(&user))
            .flatten()
        {
            return Ok(rows);
        }
        let rows = Arc::new(user_unpaid_installments(self.conn.get()?, &user.id)?);
        self.keep(&user, UserRead::Unpaid(rows.clone()));
        Ok(rows)
    }

    /// The logged-in user's verified real name, if any.
    pub fn real_name(&mut self) -> Result<Option<String>, ApiError> {
        let user = self.user()?.clone();
        if let Some(name) = self
            .reads_cache()
            .then(|| self.state.cache.real_name(&user))
            .flatten()
        {
            return Ok(name);
        }
        let name = find_identity(self.conn.get()?, &user.id)?.map(|i| i.real_name);
        self.keep(&user, UserRead::RealName(name.clone()));
        Ok(name)
    }

    /// The principal paid out to the logged-in user (disbursed and settled loans).
    pub fn disbursed_principal(&mut self) -> Result<Money, ApiError> {
        let user = self.user()?.clone();
        if let Some(amount) = self
            .reads_cache()
            .then(|| self.state.cache.disbursed(&user))
            .flatten()
        {
            return Ok(amount);
        }
        let amount = user_disbursed_principal(self.conn.get()?, &user.id)?;
        self.keep(&user, UserRead::Disbursed(amount));
        Ok(amount)
    }

    /// Product `id` as stored, if there is one.
    pub fn product(&mut self, id: &str) -> Result<Option<ProductRow>, ApiError> {
        let held = match (self.shared_epoch(), self.reads_cache()) {
            (Some(e), true) => self.state.cache.product(e, id),
            _ => None,
        };
        if let Some(row) = held {
            self.note_shared();
            return Ok(row);
        }
        let row = find_product(self.conn.get()?, id)?;
        if let Some(e) = self.shared_epoch() {
            self.state.cache.keep_product(e, id, row.clone());
        }
        Ok(row)
    }

    fn keep(&self, user: &User, read: UserRead) {
        if self.cache != CacheUse::Off {
            self.state.cache.keep(user, read);
        }
    }

    fn reads_cache(&self) -> bool {
        matches!(self.cache, CacheUse::Read { .. })
    }

    fn shared_epoch(&self) -> Option<i64> {
        match self.cache {
            CacheUse::Off => None,
            CacheUse::Keep(e) | CacheUse::Read { epoch: e, .. } => e,
        }
    }

    fn note_shared(&mut self) {
        if let CacheUse::Read { used_shared, .. } = &mut self.cache {
            *used_shared = true;
        }
    }
}

/// The paging fields as sent (step 7: presence and type).
pub struct PagingFields {
    num: i64,
    size: Option<i64>,
}

/// Reads `pageNum` (required integer) and `pageSize` (optional integer).
pub fn paging_fields(f: &Fields<'_>) -> Result<PagingFields, ApiError> {
    Ok(PagingFields {
        num: f.int("pageNum")?,
        size: f.opt_int("pageSize")?,
    })
}

impl PagingFields {
    /// Step 8: `pageNum` ≥ 1, `pageSize` 1..100 (default 10).
    pub fn check(&self) -> Result<(u32, u32), ApiError> {
        let num = u32::try_from(self.num)
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| bad("pageNum"))?;
        let size = match self.size {
            None => cashloan_protocol::envelope::DEFAULT_PAGE_SIZE,
            Some(s) => u32::try_from(s)
                .ok()
                .filter(|s| (1..=cashloan_protocol::envelope::MAX_PAGE_SIZE).contains(s))
                .ok_or_else(|| bad("pageSize"))?,
        };
        Ok((num, size))
    }
}
