//! The request path of every enveloped endpoint, in the order docs/api.md gives ("Codes, units and formats"):
//! HTTP checks (415/413) → gzip decode → JSON object → signature → freshness → replay → session →
//! the endpoint's handler (fields, formats, use case) → signed envelope → gzip.
//!
//! One function rather than a stack of middlewares, because the order is a contract and every
//! step must be able to answer with an envelope.

use secrecy::ExposeSecret;
use std::io::Read;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use cashloan_persistence::accounts::{
    live_session_user, record_session_use, session_key, session_use_due, Session, User,
};
use std::sync::Arc;

use cashloan_protocol::{parse, Json, Map, Outcome, ResponseCode};
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;

use crate::client_address::client_address;
use crate::context::{
    ApiError, AppState, CacheUse, Ctx, Fields, Lease, Reply, RequestFlow, FLOW_COOKIE,
};
use crate::replay::{Recorded, SessionNow, Ticket};
use crate::routes::contract::contract;
use cashloan_persistence::PooledDb;

/// Largest request body on the wire (docs/api.md: 64 KiB).
pub const BODY_LIMIT: usize = 64 * 1024;
/// Largest body once a gzip request is inflated: a compressed 5000-entry phone book (§23) fits,
/// a decompression bomb does not.
pub const INFLATED_LIMIT: usize = 1024 * 1024;

/// A handler: fields in, envelope out.
pub type Handler = fn(&mut Ctx<'_>) -> Result<Reply, ApiError>;

/// One enveloped endpoint.
pub struct Endpoint {
    /// Seed section.
    pub section: u8,
    /// Path.
    pub path: &'static str,
    /// Needs a live session (是否登录授权: 是).
    pub login: bool,
    /// Response gzip-compressed when the client accepts it (GZIP 压缩: 是).
    pub gzip: bool,
    /// The handler only reads, so it may run while the request's replay record is being
    /// committed; its answer is still held until that commit.
    pub reads_only: bool,
    /// The use case.
    pub handler: Handler,
}

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "JSESSIONID";

/// Serves one request to `ep`.
pub async fn serve(
    ep: &'static Endpoint,
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    if !is_json(&req) {
        return transport_fault(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json",
        );
    }
    let body = match decode_body(&req, body) {
        Ok(b) => b,
        Err(BodyError::TooLarge) => {
            return transport_fault(
                actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
                "request body larger than 64 KiB",
            )
        }
        Err(BodyError::BadGzip) => Vec::new(),
    };
    let token = session_token(&req);
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    let client = client_address(req.peer_addr(), &forwarded, &state.trusted_proxies);
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let flow = RequestFlow::new(&client, cookie(&req, FLOW_COOKIE).as_deref(), user_agent);
    let accepts_gzip = req
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|e| e.trim().split(';').next() == Some("gzip"))
        });

    let st = state.clone().into_inner();
    let span = tracing::info_span!("request", id = %request_id, path = ep.path);
    let request = Request {
        token,
        client,
        flow,
        request_id: request_id.clone(),
    };
    // A read-only request on a session asks the replay writer for that session as of after it
    // arrived, which is what lets it read from the cache (crate::read_cache).
    let session_key = match (&request.token, ep.login && ep.reads_only) {
        (Some(t), true) => Some(session_key(t)),
        _ => None,
    };
    let admission = if body.len() <= INLINE_ADMISSION {
        admit(&st, &body, session_key)
    } else {
        // A large body (a §23 phone book) is parsed off the worker thread.
        let st = st.clone();
        let admitted = web::block(move || admit(&st, &body, session_key)).await;
        admitted.unwrap_or_else(|e| Err(cancelled(&request_id, &e)))
    };
    let reply = match admission {
        Err(reply) => reply,
        Ok(admitted) => handle(st, ep, admitted, request, span).await,
    };

    let reply = conform(ep, reply, &request_id);
    respond(&state, ep, reply, accepts_gzip, &request_id)
}

/// Codes any endpoint may answer, beside its own (docs/api.md, "Codes every endpoint may answer").
const PROTOCOL_CODES: [&str; 7] = [
    "10000001", "10000002", "10000003", "10000004", "10000005", "10001000", "99999999",
];

/// Holds an answer to its endpoint's contract, which the API document is generated from: a code
/// or a `resultSet` member the contract does not declare is logged, and in a debug build (the
/// test suites) answered as a fault, so a drift between the code and the document fails a test.
fn conform(ep: &Endpoint, reply: Reply, request_id: &str) -> Reply {
    let Some(c) = contract(ep.section) else {
        return reply;
    };
    let code = reply.envelope.outcome.code.code();
    let mut problems = c.undeclared_members(&reply.envelope.result_set);
    if !PROTOCOL_CODES.contains(&code)
        && !c.codes.iter().any(|(k, _)| *k == code)
        && c.success.0 != code
    {
        problems.push(format!("code {code}"));
    }
    if problems.is_empty() {
        return reply;
    }
    let detail = format!(
        "§{} answered outside its contract: {}",
        ep.section,
        problems.join(", ")
    );
    if cfg!(debug_assertions) {
        fault(request_id, &detail)
    } else {
        tracing::error!(request_id, "{detail}");
        reply
    }
}

fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

enum BodyError {
    TooLarge,
    BadGzip,
}

fn decode_body(req: &HttpRequest, body: web::Bytes) -> Result<Vec<u8>, BodyError> {
    if body.len() > BODY_LIMIT {
        return Err(BodyError::TooLarge);
    }
    let gzipped = req
        .headers()
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("gzip"));
    if !gzipped {
        return Ok(body.to_vec());
    }
    // Read one byte past the limit so a bomb is refused without inflating it.
    let mut out = Vec::new();
    GzDecoder::new(&body[..])
        .take(INFLATED_LIMIT as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| BodyError::BadGzip)?;
    if out.len() > INFLATED_LIMIT {
        return Err(BodyError::TooLarge);
    }
    Ok(out)
}

/// The session id of the `JSESSIONID` cookie or an `Authorization: Bearer` header.
/// The value of the cookie `name`, if the request carries a non-empty one.
fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, value)| *n == name && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

fn session_token(req: &HttpRequest) -> Option<String> {
    let from_cookie = cookie(req, SESSION_COOKIE);
    if from_cookie.is_some() {
        return from_cookie;
    }
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
}

fn transport_fault(status: actix_web::http::StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/json; charset=utf-8")
        .body(serde_json::json!({ "error": message }).to_string())
}

fn fault(request_id: &str, detail: &str) -> Reply {
    tracing::error!(request_id, error = %detail, "request failed");
    Reply::failure(Outcome::with_message(
        ResponseCode::SystemBusy,
        format!(
            "{} (请求编号 {request_id})",
            ResponseCode::SystemBusy.message()
        ),
    ))
}

/// Bodies up to this size are parsed and their signatures checked on the worker thread: a few
/// microseconds, less than a hand-off to the blocking pool.
const INLINE_ADMISSION: usize = 16 * 1024;

/// What a request brought besides its body.
struct Request {
    token: Option<String>,
    client: String,
    flow: RequestFlow,
    request_id: String,
}

/// A request that passed steps 2–6: its members, when it arrived, and its replay record on its
/// way to the disk (none when signatures are off).
struct Admitted {
    map: Map,
    now: i64,
    ticket: Option<Ticket>,
    /// The key of the session the ticket brings back, if it was asked for.
    session_key: Option<String>,
}

/// Steps 2–6, without the database: JSON object, signature, freshness, the nonce's form; the
/// nonce is handed to the replay writer.
fn admit(state: &AppState, body: &[u8], session_key: Option<String>) -> Result<Admitted, Reply> {
    let Ok(Json::Object(map)) = parse(body) else {
        return Err(Reply::failure(ResponseCode::MalformedRequest.into()));
    };
    let now = state.now_ms();
    if !state.config.verify_sign {
        return Ok(Admitted {
            map,
            now,
            ticket: None,
            session_key: None,
        });
    }
    if !cashloan_protocol::verify(state.config.app_key.expose_secret(), &map) {
        return Err(Reply::failure(ResponseCode::SignatureInvalid.into()));
    }
    let ts = cashloan_protocol::sign::envelope_text(&map, "timestamp");
    let fresh = !ts.is_empty()
        && ts.bytes().all(|b| b.is_ascii_digit())
        && ts
            .parse::<i64>()
            .is_ok_and(|t| (now - t).abs() <= state.config.sign_window_secs.saturating_mul(1000));
    if !fresh {
        return Err(Reply::failure(ResponseCode::RequestExpired.into()));
    }
    let ticket = match map.get("nonce") {
        Some(Json::String(n))
            if (1..=64).contains(&n.len()) && n.bytes().all(|b| (0x21..=0x7e).contains(&b)) =>
        {
            state.replay.submit(n, ts, now, session_key.clone())
        }
        _ => return Err(Reply::failure(Outcome::malformed_field("nonce"))),
    };
    Ok(Admitted {
        map,
        now,
        ticket: Some(ticket),
        session_key,
    })
}

/// Steps 6–8: the replay record's commit, then the session and the handler on a blocking thread.
/// A handler that only reads runs while the commit is on its way; its answer is given only once
/// the nonce is durable and new, and a replay is answered as one whatever the handler found.
async fn handle(
    state: Arc<AppState>,
    ep: &'static Endpoint,
    admitted: Admitted,
    request: Request,
    span: tracing::Span,
) -> Reply {
    let Admitted {
        map,
        now,
        ticket,
        session_key,
    } = admitted;
    let request_id = request.request_id.clone();
    let job = Job {
        state: state.clone(),
        ep,
        map: Arc::new(map),
        request: Arc::new(request),
        now,
        span,
    };
    let Some(ticket) = ticket else {
        return job.off_worker(Reads::AndWrites).await.reply;
    };
    if !ep.reads_only {
        return match ticket.await {
            Ok(r) if r.new => job.off_worker(Reads::AndWrites).await.reply,
            Ok(_) => Reply::failure(ResponseCode::RequestReplayed.into()),
            Err(e) => fault(&request_id, &e.to_string()),
        };
    }
    let held = session_key.as_deref().and_then(|k| state.cache.session(k));
    if let (Some(key), Some((session, user))) = (session_key.as_deref(), held) {
        return from_cache(&job, ticket, key, session, user).await;
    }
    let keep = state.cache.epoch();
    let (recorded, ran) = match reads_conn(&state) {
        Some(conn) => {
            let ran = job.run(Reads::Only {
                conn: Some(conn),
                keep,
            });
            (ticket.await, ran)
        }
        None => {
            // `web::block` starts the work at once; the ticket is awaited meanwhile.
            let work = job.off_worker(Reads::Only { conn: None, keep });
            let recorded = ticket.await;
            (recorded, work.await)
        }
    };
    match recorded {
        Ok(r) if r.new => {
            if let Some(key) = session_key.as_deref() {
                remember(&state, key, &r, now);
            }
            if let Some(token) = ran.used {
                record_use(&state, token, now).await;
            }
            ran.reply
        }
        Ok(_) => Reply::failure(ResponseCode::RequestReplayed.into()),
        Err(e) => fault(&request_id, &e.to_string()),
    }
}

/// A read-only request whose session the cache holds: it runs on what the cache holds (on the
/// worker thread, without a connection; with one if it needs one), and its answer stands only if
/// the session and user the replay writer read after the request arrived are those it ran with.
/// Otherwise it runs again on the database.
async fn from_cache(job: &Job, ticket: Ticket, key: &str, session: Session, user: User) -> Reply {
    let state = &job.state;
    let epoch = state.cache.epoch();
    let cached = |conn| Reads::Cached {
        session: session.clone(),
        user: user.clone(),
        epoch,
        conn,
    };
    let mut ran = job.run(cached(Held::Offline));
    let recorded = if !ran.wanted_db {
        ticket.await
    } else {
        match reads_conn(state) {
            Some(conn) => {
                ran = job.run(cached(Held::Idle(conn)));
                ticket.await
            }
            None => {
                let work = job.off_worker(cached(Held::Pool));
                let recorded = ticket.await;
                ran = work.await;
                recorded
            }
        }
    };
    let r = match recorded {
        Ok(r) if r.new => r,
        Ok(_) => return Reply::failure(ResponseCode::RequestReplayed.into()),
        Err(e) => return fault(&job.request.request_id, &e.to_string()),
    };
    remember(state, key, &r, job.now);
    let fresh = match &r.session {
        SessionNow::Found {
            session: s,
            user: u,
            epoch: e,
        } if s.user_id == user.id
            && *u == user
            && s.expires_at > job.now
            && (!ran.used_shared || Some(*e) == epoch) =>
        {
            Some(s)
        }
        _ => None,
    };
    if let Some(s) = fresh {
        if session_use_due(s, job.now) {
            if let Some(token) = job.request.token.clone() {
                record_use(state, token, job.now).await;
            }
        }
        return ran.reply;
    }
    // The session, its user or a shared read changed since the cache saw them: the database
    // answers (its nonce is recorded already).
    let ran = job
        .off_worker(Reads::Only {
            conn: None,
            keep: state.cache.epoch(),
        })
        .await;
    if let Some(token) = ran.used {
        record_use(state, token, job.now).await;
    }
    ran.reply
}

/// On SQLite, a connection the pool has idle now, for reads on the worker thread: they take
/// microseconds and never wait for a writer. Otherwise (PostgreSQL's round trips, or a pool in
/// use to the last connection) the reads go to the blocking pool, so the worker never waits and
/// its other connections are served meanwhile.
fn reads_conn(state: &AppState) -> Option<PooledDb> {
    if state.db.backend() == cashloan_persistence::Backend::Sqlite {
        state.db.idle_conn()
    } else {
        None
    }
}

/// Takes what the replay writer read of the session `key` into the cache.
fn remember(state: &AppState, key: &str, recorded: &Recorded, now: i64) {
    match &recorded.session {
        SessionNow::Found {
            session,
            user,
            epoch,
        } => {
            state.cache.saw_epoch(*epoch);
            let live = session.expires_at > now;
            state
                .cache
                .saw_session(key, live.then_some((session, user)));
        }
        SessionNow::Absent => state.cache.saw_session(key, None),
        SessionNow::NotAsked | SessionNow::Unknown => {}
    }
}

/// One request's work, to run once or (from the cache, then the database) twice.
#[derive(Clone)]
struct Job {
    state: Arc<AppState>,
    ep: &'static Endpoint,
    map: Arc<Map>,
    request: Arc<Request>,
    now: i64,
    span: tracing::Span,
}

impl Job {
    /// Runs the work here.
    fn run(&self, plan: Reads) -> Ran {
        let _enter = self.span.enter();
        process(
            &self.state,
            self.ep,
            &self.map,
            &self.request,
            self.now,
            plan,
        )
    }

    /// Runs the work on the blocking pool; it starts at once.
    fn off_worker(&self, plan: Reads) -> impl std::future::Future<Output = Ran> {
        let job = self.clone();
        let work = web::block(move || job.run(plan));
        let request_id = self.request.request_id.clone();
        async move {
            work.await.unwrap_or_else(|e| Ran {
                reply: cancelled(&request_id, &e),
                used: None,
                wanted_db: false,
                used_shared: false,
            })
        }
    }
}

/// What a request's database work may do, and on which connection.
// Made once or twice per request and moved once: its size costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
enum Reads {
    /// Read and write (the session's use is recorded when due), on a connection of the pool.
    AndWrites,
    /// Only read, on this connection when one was taken already; the session's use, when due,
    /// comes back to be recorded once the request proved new. What it reads it may keep in the
    /// cache (shared reads under the epoch `keep`, seen before it started).
    Only {
        conn: Option<PooledDb>,
        keep: Option<i64>,
    },
    /// Only read, with this session and user and what the cache holds for them (shared reads as
    /// of `epoch`); the caller checks them against the database.
    Cached {
        session: Session,
        user: User,
        epoch: Option<i64>,
        conn: Held,
    },
}

/// The connection a run from the cache has.
enum Held {
    /// None: a run that needs one ends and notes it ([`Ran::wanted_db`]).
    Offline,
    /// This one, idle in the pool a moment ago.
    Idle(PooledDb),
    /// One from the pool when it needs one.
    Pool,
}

/// What a run gave.
struct Ran {
    reply: Reply,
    /// A session whose use is due to be recorded: its token.
    used: SessionUse,
    /// It needed a connection it did not have: its reply is of no use.
    wanted_db: bool,
    /// It used a shared read (product, business date) from the cache.
    used_shared: bool,
}

/// A session whose use is due to be recorded ([`session_use_due`]): its token.
type SessionUse = Option<String>;

fn cancelled(request_id: &str, e: &actix_web::error::BlockingError) -> Reply {
    fault(
        request_id,
        &format!("handler panicked or was cancelled: {e}"),
    )
}

/// Records a read-only request's use of its session, once its nonce proved it new. A failure
/// costs the session at most a minute of its idle expiry, so it is logged, not answered.
async fn record_use(state: &std::sync::Arc<AppState>, token: String, now: i64) {
    let st = state.clone();
    let idle_ms = st.config.session_idle_days.saturating_mul(86_400_000);
    let done = web::block(move || {
        let mut conn = st.db.conn()?;
        record_session_use(&mut conn, &token, now, idle_ms)
    })
    .await;
    match done {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "recording a session's use failed"),
        Err(e) => tracing::warn!(error = %e, "recording a session's use was cancelled"),
    }
}

/// Steps 7–8, on a blocking thread or (reads on SQLite, or from the cache) the worker's, as
/// `plan` says.
fn process(
    state: &AppState,
    ep: &'static Endpoint,
    map: &Map,
    request: &Request,
    now: i64,
    plan: Reads,
) -> Ran {
    let mut ran = Ran {
        reply: Reply::failure(ResponseCode::SystemBusy.into()),
        used: None,
        wanted_db: false,
        used_shared: false,
    };
    ran.reply = match run(state, ep, map, request, now, plan, &mut ran) {
        Ok(reply) => reply,
        Err(ApiError::Reply(outcome)) => Reply::failure(outcome),
        Err(_) if ran.wanted_db => Reply::failure(ResponseCode::SystemBusy.into()),
        Err(e) => fault(&request.request_id, &e.to_string()),
    };
    ran
}

fn run(
    state: &AppState,
    ep: &'static Endpoint,
    map: &Map,
    request: &Request,
    now: i64,
    plan: Reads,
    ran: &mut Ran,
) -> Result<Reply, ApiError> {
    // A read-only request on SQLite reads in one transaction: one snapshot, one read lock.
    let sqlite = state.db.backend() == cashloan_persistence::Backend::Sqlite;
    let record_use = matches!(plan, Reads::AndWrites);
    let (conn, cache, held) = match plan {
        Reads::AndWrites => (Lease::new(&state.db), CacheUse::Off, None),
        Reads::Only { conn, keep } => {
            let lease = match conn {
                Some(c) if sqlite => Lease::snapshot_on(&state.db, c),
                _ if sqlite => Lease::snapshot(&state.db),
                _ => Lease::new(&state.db),
            };
            (lease, CacheUse::Keep(keep), None)
        }
        Reads::Cached {
            session,
            user,
            epoch,
            conn,
        } => {
            let lease = match conn {
                Held::Offline => Lease::offline(&state.db),
                Held::Idle(c) if sqlite => Lease::snapshot_on(&state.db, c),
                _ if sqlite => Lease::snapshot(&state.db),
                _ => Lease::new(&state.db),
            };
            let cache = CacheUse::Read {
                epoch,
                used_shared: false,
            };
            (lease, cache, Some((session, user)))
        }
    };
    let mut conn = conn;
    let (session, user) = if !ep.login {
        (None, None)
    } else if let Some((session, user)) = held {
        // Its expiry and its use are judged on the session the replay writer brings.
        if user.disabled {
            return Err(ResponseCode::NotLoggedIn.into());
        }
        (Some(session), Some(user))
    } else {
        let (session, user) = match request.token.as_deref() {
            Some(t) => live_session_user(conn.get()?, t, now)?,
            None => None,
        }
        .filter(|(_, u)| !u.disabled)
        .ok_or(ResponseCode::NotLoggedIn)?;
        if session_use_due(&session, now) {
            if let Some(token) = request.token.as_deref() {
                if record_use {
                    let idle_ms = state.config.session_idle_days.saturating_mul(86_400_000);
                    record_session_use(conn.get()?, token, now, idle_ms)?;
                } else {
                    ran.used = Some(token.to_owned());
                }
            }
        }
        (Some(session), Some(user))
    };
    if let Some(member) = control_character_member(map) {
        return Err(Outcome::malformed_field(member).into());
    }
    let mut ctx = Ctx {
        state,
        conn,
        fields: Fields::new(map, contract(ep.section).map_or(&[], |c| c.request)),
        session,
        user,
        now,
        client: &request.client,
        flow: &request.flow,
        cache,
    };
    let reply = (ep.handler)(&mut ctx);
    ran.wanted_db = ctx.conn.wanted();
    ran.used_shared = matches!(
        ctx.cache,
        CacheUse::Read {
            used_shared: true,
            ..
        }
    );
    reply
}

/// The first member whose name or value holds, anywhere inside it, a control character other
/// than tab and newline: no field of the API has a use for one, and a NUL byte is refused by
/// PostgreSQL's text columns (a fault, before this check).
fn control_character_member(map: &Map) -> Option<&str> {
    fn bad(s: &str) -> bool {
        s.chars().any(|c| c.is_control() && c != '\t' && c != '\n')
    }
    fn holds(v: &Json) -> bool {
        match v {
            Json::String(s) => bad(s),
            Json::Array(items) => items.iter().any(holds),
            Json::Object(m) => m.iter().any(|(k, v)| bad(k) || holds(v)),
            _ => false,
        }
    }
    map.iter().find(|(k, v)| bad(k) || holds(v)).map(|(k, _)| k)
}

fn respond(
    state: &AppState,
    ep: &Endpoint,
    reply: Reply,
    accepts_gzip: bool,
    request_id: &str,
) -> HttpResponse {
    let body = reply
        .envelope
        .to_signed_body(state.config.app_key.expose_secret(), state.now_ms())
        .into_bytes();
    let code = reply.envelope.outcome.code.code();
    let mut res = HttpResponse::Ok();
    res.content_type("application/json; charset=utf-8");
    res.insert_header(("X-Request-Id", request_id));
    if let Some(cookie) = reply.cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        res.insert_header((header::SET_COOKIE, cookie));
    }
    if ep.gzip && accepts_gzip {
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        if std::io::Write::write_all(&mut enc, &body).is_ok() {
            if let Ok(zipped) = enc.finish() {
                res.insert_header((header::CONTENT_ENCODING, "gzip"));
                res.insert_header((header::VARY, "Accept-Encoding"));
                return answered(res.body(zipped), code);
            }
        }
    }
    answered(res.body(body), code)
}

/// The response, marked with its envelope's code for the request metrics.
fn answered(mut res: HttpResponse, code: &'static str) -> HttpResponse {
    res.extensions_mut()
        .insert(crate::metrics::AnswerCode(code));
    res
}
