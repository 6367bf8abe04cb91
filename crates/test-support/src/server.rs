//! A real `cashloan` server for black-box tests: started as a child process on port 0 with a
//! fresh database and an SMS outbox file, driven over HTTP by a client that signs like the
//! vendor's app, stopped when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cashloan_protocol::{sign, Json, Map};
use rand::Rng;
use serde_json::Value;

use diesel::Connection;

use crate::FreshDb;

/// The app key every test server uses (the vendor's test key).
pub const APP_KEY: &str = "12345678";
/// The data key of test servers on PostgreSQL (64 hex characters).
pub const TEST_DATA_KEY: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";

/// The admin token every test server uses.
pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789abcdefghij";

/// A running server.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Which backend its database is.
    pub backend: &'static str,
    /// The SMS outbox (`CASHLOAN_SMS_SINK=file:…`).
    pub outbox: PathBuf,
    /// The database URL the server was given.
    pub db_url: String,
    child: Child,
    bin: String,
    env: Vec<(String, String)>,
    dir: tempfile::TempDir,
    /// Operators signed in by [`Self::operator`]: name → session token.
    operators: std::sync::Mutex<std::collections::HashMap<String, String>>,
    _db: FreshDb,
}

/// The password of every operator [`TestServer::operator`] adds: `name` and this.
pub const OPERATOR_PASSWORD_SUFFIX: &str = "-pass-0123456789";

/// The operator that confirms what the bootstrap token (`system`) proposes, in
/// [`TestServer::admin_confirmed`].
pub const CHECKER: &str = "checker";

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Headers, names lower case.
    pub headers: Vec<(String, String)>,
    /// The body (decompressed when it came gzip-compressed).
    pub body: Vec<u8>,
    /// Whether the body came gzip-compressed.
    pub gzipped: bool,
}

impl Answer {
    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// `responseCode`.
    pub fn code(&self) -> String {
        self.json()["responseCode"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// `responseMessage`.
    pub fn message(&self) -> String {
        self.json()["responseMessage"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// `resultSet`.
    pub fn result(&self) -> Value {
        self.json()["resultSet"].clone()
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Now, ms since the epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A fresh 8-digit nonce.
pub fn nonce() -> String {
    format!("{:08}", rand::thread_rng().gen_range(0..100_000_000u32))
}

/// `body` with `timestamp`, `nonce` and `sign` added as the vendor's app adds them.
pub fn signed(body: &Value) -> Json {
    let mut map: Map = match Json::from(body.clone()) {
        Json::Object(m) => m,
        _ => Map::new(),
    };
    if map.get("timestamp").is_none() {
        map.insert("timestamp", now_ms().to_string());
    }
    if map.get("nonce").is_none() {
        map.insert("nonce", nonce());
    }
    let s = sign(APP_KEY, &map);
    map.insert("sign", s);
    Json::Object(map)
}

impl TestServer {
    /// Starts `bin` on port 0 with the fresh database `db` and the extra environment `env`.
    pub fn start(bin: &str, db: FreshDb, env: &[(&str, &str)]) -> TestServer {
        let dir = tempfile::tempdir().expect("temporary folder");
        let outbox = dir.path().join("outbox.jsonl");
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let (child, url) = spawn(bin, &dir, &db.url, &outbox, &env);
        TestServer {
            url,
            backend: db.backend,
            db_url: db.url.clone(),
            outbox,
            child,
            bin: bin.to_owned(),
            env,
            dir,
            operators: Default::default(),
            _db: db,
        }
    }

    /// `kill -9`: the process dies mid-request, with nothing flushed or finished.
    pub fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the server again on the same database, with `env` set over its settings.
    pub fn restart_with(&mut self, env: &[(&str, &str)]) {
        for (k, v) in env {
            self.env.retain(|(name, _)| name != k);
            self.env.push(((*k).to_owned(), (*v).to_owned()));
        }
        self.restart();
    }

    /// Starts the server again on the same database and settings (after [`Self::kill_hard`]);
    /// it listens on a new port.
    pub fn restart(&mut self) {
        self.kill_hard();
        let (child, url) = spawn(&self.bin, &self.dir, &self.db_url, &self.outbox, &self.env);
        self.child = child;
        self.url = url;
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits (up to 40 s) for the server to exit; its exit code.
    pub fn wait_exit(mut self) -> Option<i32> {
        for _ in 0..400 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }

    /// Posts raw bytes with headers.
    pub fn raw(&self, method: &str, path: &str, body: &[u8], headers: &[(&str, &str)]) -> Answer {
        self.try_raw(method, path, body, headers)
            .unwrap_or_else(|e| panic!("request to {path} failed: {e}"))
    }

    /// Like [`Self::raw`], but a connection that fails (a server killed mid-request) is an
    /// `Err`, not a panic.
    pub fn try_raw(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        headers: &[(&str, &str)],
    ) -> Result<Answer, String> {
        // Redirects are answers to look at (the console's 303s), not to follow.
        let agent = ureq::AgentBuilder::new().redirects(0).build();
        let mut req = agent
            .request(method, &format!("{}{}", self.url, path))
            .timeout(Duration::from_secs(60));
        for (k, v) in headers {
            req = req.set(k, v);
        }
        let res = match if method == "GET" {
            req.call()
        } else {
            req.send_bytes(body)
        } {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => return Err(e.to_string()),
        };
        let status = res.status();
        let headers: Vec<(String, String)> = res
            .headers_names()
            .into_iter()
            .filter_map(|n| {
                res.header(&n)
                    .map(|v| (n.to_ascii_lowercase(), v.to_owned()))
            })
            .collect();
        let gzipped = headers
            .iter()
            .any(|(n, v)| n == "content-encoding" && v.contains("gzip"));
        let mut raw = Vec::new();
        res.into_reader()
            .take(16 * 1024 * 1024)
            .read_to_end(&mut raw)
            .map_err(|e| e.to_string())?;
        let body = if gzipped {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&raw[..])
                .read_to_end(&mut out)
                .map_err(|e| e.to_string())?;
            out
        } else {
            raw
        };
        Ok(Answer {
            status,
            headers,
            body,
            gzipped,
        })
    }

    /// Posts an already signed body.
    pub fn send(&self, path: &str, body: &Json, session: Option<&str>) -> Answer {
        let text = body.to_compact_string();
        let cookie = session.map(|s| format!("JSESSIONID={s}"));
        let mut headers = vec![("Content-Type", "application/json")];
        if let Some(c) = cookie.as_deref() {
            headers.push(("Cookie", c));
        }
        self.raw("POST", path, text.as_bytes(), &headers)
    }

    /// Signs `body` and posts it, with the session's cookie when given.
    pub fn call(&self, path: &str, body: Value, session: Option<&str>) -> Answer {
        self.send(path, &signed(&body), session)
    }

    /// Like [`Self::call`], but a failed connection is an `Err`.
    pub fn try_call(
        &self,
        path: &str,
        body: Value,
        session: Option<&str>,
    ) -> Result<Answer, String> {
        let text = signed(&body).to_compact_string();
        let cookie = session.map(|s| format!("JSESSIONID={s}"));
        let mut headers = vec![("Content-Type", "application/json")];
        if let Some(c) = cookie.as_deref() {
            headers.push(("Cookie", c));
        }
        self.try_raw("POST", path, text.as_bytes(), &headers)
    }

    /// Like [`Self::admin`], but a failed connection is an `Err`.
    pub fn try_admin(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Answer, String> {
        let auth = format!("Bearer {ADMIN_TOKEN}");
        let text = body.map(|b| b.to_string()).unwrap_or_default();
        self.try_raw(
            method,
            path,
            text.as_bytes(),
            &[
                ("Content-Type", "application/json"),
                ("Authorization", &auth),
            ],
        )
    }

    /// The last SMS code sent to `mobile`, from the outbox.
    pub fn sms_code(&self, mobile: &str) -> String {
        let text = std::fs::read_to_string(&self.outbox).unwrap_or_default();
        text.lines()
            .rev()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["purpose"] != "notice")
            .find(|v| v["mobile"] == mobile)
            .and_then(|v| v["code"].as_str().map(str::to_owned))
            .unwrap_or_else(|| panic!("no SMS to {mobile} in the outbox"))
    }

    /// Calls the admin API.
    pub fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        let auth = format!("Bearer {ADMIN_TOKEN}");
        let text = body.map(|b| b.to_string()).unwrap_or_default();
        self.raw(
            method,
            path,
            text.as_bytes(),
            &[
                ("Content-Type", "application/json"),
                ("Authorization", &auth),
            ],
        )
    }

    /// Calls the admin API with an operator's session token.
    pub fn admin_as(&self, token: &str, method: &str, path: &str, body: Option<Value>) -> Answer {
        self.try_admin_as(token, method, path, body)
            .unwrap_or_else(|e| panic!("request to {path} failed: {e}"))
    }

    /// Like [`Self::admin_as`], but a failed connection is an `Err`.
    pub fn try_admin_as(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Answer, String> {
        let auth = format!("Bearer {token}");
        let text = body.map(|b| b.to_string()).unwrap_or_default();
        self.try_raw(
            method,
            path,
            text.as_bytes(),
            &[
                ("Content-Type", "application/json"),
                ("Authorization", &auth),
            ],
        )
    }

    /// The session token of operator `name` with `role`: added (by `system`) and signed in the
    /// first time it is asked for; its password is `name` + [`OPERATOR_PASSWORD_SUFFIX`].
    pub fn operator(&self, name: &str, role: &str) -> String {
        let mut known = self.operators.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(token) = known.get(name) {
            return token.clone();
        }
        let password = format!("{name}{OPERATOR_PASSWORD_SUFFIX}");
        let added = self.admin(
            "POST",
            "/admin/operators",
            Some(serde_json::json!({"name": name, "role": role, "password": password})),
        );
        assert!(
            added.status == 201 || added.status == 409,
            "add operator {name}: {} {}",
            added.status,
            added.text()
        );
        let signed = self.raw(
            "POST",
            "/admin/login",
            serde_json::json!({"username": name, "password": password})
                .to_string()
                .as_bytes(),
            &[("Content-Type", "application/json")],
        );
        assert_eq!(signed.status, 200, "sign in {name}: {}", signed.text());
        let token = signed.json()["token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token for {name}: {}", signed.text()))
            .to_owned();
        known.insert(name.to_owned(), token.clone());
        token
    }

    /// Calls the admin API as `system`; when that proposes something (202 with a proposal), the
    /// operator [`CHECKER`] (an admin) confirms it, and the confirmation's answer is returned:
    /// what carrying it out answered, with `proposal` beside it.
    pub fn admin_confirmed(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        let proposed = self.admin(method, path, body);
        let id = proposed.json()["proposal"]["id"]
            .as_str()
            .map(str::to_owned);
        match id {
            Some(id) if proposed.status == 202 => {
                let checker = self.operator(CHECKER, "admin");
                self.admin_as(
                    &checker,
                    "POST",
                    &format!("/admin/proposals/{id}/confirm"),
                    None,
                )
            }
            _ => proposed,
        }
    }

    /// Writes raw bytes to the server over a plain TCP connection (for malformed HTTP).
    pub fn tcp(&self, request: &[u8]) -> String {
        let addr = self.url.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).ok();
        s.write_all(request).expect("write");
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

fn spawn(
    bin: &str,
    dir: &tempfile::TempDir,
    db_url: &str,
    outbox: &std::path::Path,
    env: &[(String, String)],
) -> (Child, String) {
    let mut cmd = Command::new(bin);
    cmd.current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("CASHLOAN_BIND", "127.0.0.1:0")
        .env("CASHLOAN_DATABASE_URL", db_url)
        .env("CASHLOAN_SMS_SINK", format!("file:{}", outbox.display()))
        .env("CASHLOAN_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("CASHLOAN_ALLOW_BUSINESS_DATE_OVERRIDE", "true")
        .env("CASHLOAN_SMS_MIN_INTERVAL_SECS", "0")
        // Every test client is 127.0.0.1: the per-address SMS cap is for the tests that test it.
        .env("CASHLOAN_SMS_PER_CLIENT_PER_HOUR", "100000")
        .env("CASHLOAN_DB_POOL_SIZE", "8")
        .env("CASHLOAN_WORKERS", "2")
        .env("CASHLOAN_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if db_url.starts_with("postgres") {
        // PostgreSQL needs a data key; SQLite makes its own beside the database file.
        cmd.env("CASHLOAN_DATA_KEY", TEST_DATA_KEY);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
    // The server's log goes through the test's own output, which the harness captures and
    // shows only when the test fails: error lines a test provokes on purpose stay out of the
    // CI log. (A spawned thread inherits the test's capture.)
    if let Some(stderr) = child.stderr.take() {
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[server] {line}");
            }
        });
    }
    let stdout = child.stdout.take().expect("child stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the server's first line");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line from the server: {line:?}"))
        .to_owned();
    (child, url)
}

/// An 18-character ID number with a correct GB 11643 checksum, born on `birth` (`YYYYMMDD`),
/// serial `seq` (000–999).
pub fn id_card(birth: &str, seq: u32) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const C: &[u8; 11] = b"10X98765432";
    let first = format!("110101{birth}{:03}", seq % 1000);
    let sum: u32 = first
        .bytes()
        .zip(W)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    format!("{first}{}", C[(sum % 11) as usize] as char)
}

/// Runs raw SQL against a test server's database behind its back (to simulate corruption).
pub fn execute_sql(db_url: &str, sql: &str) {
    use diesel::connection::SimpleConnection;
    if let Some(path) = db_url.strip_prefix("sqlite://") {
        let mut c =
            diesel::sqlite::SqliteConnection::establish(path).expect("open the SQLite file");
        c.batch_execute(sql).expect("run SQL");
    } else {
        let mut c = diesel::pg::PgConnection::establish(db_url).expect("connect to PostgreSQL");
        c.batch_execute(sql).expect("run SQL");
    }
}

/// Runs `sql` on the database at `db_url`; what the database said when it refused.
pub fn try_execute_sql(db_url: &str, sql: &str) -> Result<(), String> {
    use diesel::connection::SimpleConnection;
    if let Some(path) = db_url.strip_prefix("sqlite://") {
        let mut c = diesel::sqlite::SqliteConnection::establish(path).map_err(|e| e.to_string())?;
        c.batch_execute(sql).map_err(|e| e.to_string())
    } else {
        let mut c = diesel::pg::PgConnection::establish(db_url).map_err(|e| e.to_string())?;
        c.batch_execute(sql).map_err(|e| e.to_string())
    }
}

/// A third party (SMS gateway, verifier, payment channel) speaking the providers' HTTP contract
/// on a free port: every call is answered `{"ok": true}` after `delay`. Each call's body is kept.
pub struct StubProvider {
    /// `http://127.0.0.1:PORT/`, for `CASHLOAN_SMS_SINK=http:…` and its kind.
    pub url: String,
    calls: std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
}

impl StubProvider {
    /// Starts the stub in a background thread; it lives as long as the test process.
    pub fn start(delay: Duration) -> StubProvider {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a stub provider");
        let url = format!("http://{}/", listener.local_addr().expect("stub address"));
        let calls = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = calls.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let seen = seen.clone();
                std::thread::spawn(move || answer_one(stream, delay, &seen));
            }
        });
        StubProvider { url, calls }
    }

    /// The bodies of the calls received so far.
    pub fn calls(&self) -> Vec<Value> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

fn answer_one(stream: std::net::TcpStream, delay: Duration, seen: &std::sync::Mutex<Vec<Value>>) {
    let Some(body) = read_request(&stream) else {
        return;
    };
    if let Ok(mut calls) = seen.lock() {
        calls.push(body);
    }
    std::thread::sleep(delay);
    write_json(stream, &serde_json::json!({"ok": true}));
}

/// What the fake payment channel does with a movement it is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelMode {
    /// Moves the money and says so.
    Succeed,
    /// Refuses; no money moves.
    Refuse,
    /// Moves the money but answers `pending`; a query later says succeeded.
    Pending,
}

/// One movement on the fake channel's statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Movement {
    /// The order's reference.
    pub reference: String,
    /// `payout` or `charge`.
    pub op: String,
    /// The amount as sent, e.g. `"1014.00"`.
    pub amount: String,
}

#[derive(Default)]
struct ChannelBook {
    /// What each reference became: `succeeded` or `failed`, with its movement when it moved.
    seen: std::collections::HashMap<String, (String, Option<Movement>)>,
    calls: usize,
}

/// A payment channel speaking the server's HTTP contract on a free port, like a real one: it
/// moves money once per reference (a repeated reference is the same movement), answers queries,
/// and keeps a statement to compare the ledger with. Its answers can be slowed down past the
/// server's timeout (the money still moves, as at a real bank).
pub struct FakeChannel {
    /// `http://127.0.0.1:PORT/`.
    pub url: String,
    book: std::sync::Arc<std::sync::Mutex<ChannelBook>>,
    delay_ms: std::sync::Arc<std::sync::atomic::AtomicU64>,
    mode: std::sync::Arc<std::sync::Mutex<ChannelMode>>,
}

impl FakeChannel {
    /// Starts the channel; it lives as long as the test process.
    pub fn start() -> FakeChannel {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a fake channel");
        let url = format!(
            "http://{}/",
            listener.local_addr().expect("channel address")
        );
        let channel = FakeChannel {
            url,
            book: Default::default(),
            delay_ms: Default::default(),
            mode: std::sync::Arc::new(std::sync::Mutex::new(ChannelMode::Succeed)),
        };
        let (book, delay, mode) = (
            channel.book.clone(),
            channel.delay_ms.clone(),
            channel.mode.clone(),
        );
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (book, delay, mode) = (book.clone(), delay.clone(), mode.clone());
                std::thread::spawn(move || {
                    let Some(body) = read_request(&stream) else {
                        return;
                    };
                    let answer = channel_answer(&body, &book, &mode);
                    let ms = delay.load(std::sync::atomic::Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(ms));
                    write_json(stream, &answer);
                });
            }
        });
        channel
    }

    /// `CASHLOAN_PAYMENT_CHANNEL` for a server using this channel.
    pub fn setting(&self) -> String {
        format!("http:{}", self.url)
    }

    /// Every answer waits this long first (the movement itself happens at once).
    pub fn set_delay(&self, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.delay_ms.store(ms, std::sync::atomic::Ordering::SeqCst);
    }

    /// What the channel does with the next movements.
    pub fn set_mode(&self, mode: ChannelMode) {
        if let Ok(mut m) = self.mode.lock() {
            *m = mode;
        }
    }

    /// The movements, once each, in no particular order.
    pub fn statement(&self) -> Vec<Movement> {
        self.book
            .lock()
            .map(|b| b.seen.values().filter_map(|(_, m)| m.clone()).collect())
            .unwrap_or_default()
    }

    /// How many calls (movements and queries) it received.
    pub fn calls(&self) -> usize {
        self.book.lock().map(|b| b.calls).unwrap_or(0)
    }
}

fn channel_answer(
    body: &Value,
    book: &std::sync::Mutex<ChannelBook>,
    mode: &std::sync::Mutex<ChannelMode>,
) -> Value {
    let text = |k: &str| body[k].as_str().unwrap_or_default().to_owned();
    let reference = text("reference");
    let Ok(mut book) = book.lock() else {
        return serde_json::json!({"status": "pending"});
    };
    book.calls += 1;
    let op = text("op");
    if op == "query" {
        return match book.seen.get(&reference) {
            Some((status, _)) => {
                serde_json::json!({"status": status, "channelRef": format!("fake-{reference}")})
            }
            None => serde_json::json!({"status": "unknown"}),
        };
    }
    if let Some((status, _)) = book.seen.get(&reference) {
        // The same reference is the same movement: answer what it became, move nothing.
        return serde_json::json!({"status": status, "channelRef": format!("fake-{reference}")});
    }
    let mode = mode.lock().map(|m| *m).unwrap_or(ChannelMode::Succeed);
    let movement = Movement {
        reference: reference.clone(),
        op,
        amount: text("amount"),
    };
    let (status, answer) = match mode {
        ChannelMode::Succeed => ("succeeded", "succeeded"),
        ChannelMode::Refuse => ("failed", "failed"),
        ChannelMode::Pending => ("succeeded", "pending"),
    };
    let moved = (status == "succeeded").then_some(movement);
    book.seen
        .insert(reference.clone(), (status.to_owned(), moved));
    serde_json::json!({"status": answer, "channelRef": format!("fake-{reference}"), "message": if answer == "failed" { "余额不足" } else { "" }})
}

/// The JSON body of one HTTP request (`Null` when it is not JSON); `None` when the request
/// cannot be read.
fn read_request(stream: &std::net::TcpStream) -> Option<Value> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).ok()?;
    Some(serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn write_json(mut stream: std::net::TcpStream, answer: &Value) {
    let body = answer.to_string();
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
}

/// How many rows `table` of a test server's database has (to check that tables stay bounded).
pub fn count_rows(db_url: &str, table: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let sql = format!("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM {table}");
    let row: Count = if let Some(path) = db_url.strip_prefix("sqlite://") {
        let mut c =
            diesel::sqlite::SqliteConnection::establish(path).expect("open the SQLite file");
        diesel::RunQueryDsl::get_result(diesel::sql_query(sql), &mut c).expect("count rows")
    } else {
        let mut c = diesel::pg::PgConnection::establish(db_url).expect("connect to PostgreSQL");
        diesel::RunQueryDsl::get_result(diesel::sql_query(sql), &mut c).expect("count rows")
    };
    row.n
}
