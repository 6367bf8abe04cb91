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
/// The admin token every test server uses.
pub const ADMIN_TOKEN: &str = "test-admin-token";

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
    _dir: tempfile::TempDir,
    _db: FreshDb,
}

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
        let mut cmd = Command::new(bin);
        cmd.current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("CASHLOAN_BIND", "127.0.0.1:0")
            .env("CASHLOAN_DATABASE_URL", &db.url)
            .env("CASHLOAN_SMS_SINK", format!("file:{}", outbox.display()))
            .env("CASHLOAN_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("CASHLOAN_ALLOW_BUSINESS_DATE_OVERRIDE", "true")
            .env("CASHLOAN_SMS_MIN_INTERVAL_SECS", "0")
            .env("CASHLOAN_DB_POOL_SIZE", "8")
            .env("CASHLOAN_WORKERS", "2")
            .env("CASHLOAN_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
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
        TestServer {
            url,
            backend: db.backend,
            db_url: db.url.clone(),
            outbox,
            child,
            _dir: dir,
            _db: db,
        }
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
        let mut req = ureq::request(method, &format!("{}{}", self.url, path))
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
            Err(e) => panic!("request to {path} failed: {e}"),
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
            .expect("read the body");
        let body = if gzipped {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&raw[..])
                .read_to_end(&mut out)
                .expect("gunzip the body");
            out
        } else {
            raw
        };
        Answer {
            status,
            headers,
            body,
            gzipped,
        }
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

    /// The last SMS code sent to `mobile`, from the outbox.
    pub fn sms_code(&self, mobile: &str) -> String {
        let text = std::fs::read_to_string(&self.outbox).unwrap_or_default();
        text.lines()
            .rev()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
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

fn answer_one(
    mut stream: std::net::TcpStream,
    delay: Duration,
    seen: &std::sync::Mutex<Vec<Value>>,
) {
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
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
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    if let Ok(mut calls) = seen.lock() {
        calls.push(serde_json::from_slice(&body).unwrap_or(Value::Null));
    }
    std::thread::sleep(delay);
    let answer = br#"{"ok":true}"#;
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        answer.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(answer);
}
