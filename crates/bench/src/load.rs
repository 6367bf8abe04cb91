//! The load generator: raw HTTP/1.1 keep-alive connections on one thread (a current-thread tokio
//! runtime), each request signed before the run starts so signing costs the measured server
//! nothing and the generator as little as it can.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use cashloan_test_support::server::signed;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// An endpoint to drive.
pub struct Target {
    /// What the table calls it.
    pub name: String,
    host: String,
    path: String,
    body: Value,
    session: Option<String>,
    /// Requests each with its own body and session, used once each (a borrower's application,
    /// a loan's next installment): the run ends when they are used up, without an error.
    each: Option<Vec<(Value, String)>>,
}

impl Target {
    /// `path` on the server at `url` (`http://HOST:PORT`), with `body` and the session, if any.
    pub fn new(name: &str, url: &str, path: &str, body: Value, session: Option<&str>) -> Target {
        Target {
            name: name.to_owned(),
            host: url.trim_start_matches("http://").to_owned(),
            path: path.to_owned(),
            body,
            session: session.map(str::to_owned),
            each: None,
        }
    }

    /// `path` with one request per item of `each` (a body and the session it is sent with), in
    /// that order.
    pub fn each(name: &str, url: &str, path: &str, each: Vec<(Value, String)>) -> Target {
        Target {
            each: Some(each),
            ..Target::new(name, url, path, Value::Null, None)
        }
    }

    /// For a fixed list, each request's session as a number (first seen, first numbered).
    fn sessions(&self) -> Option<Vec<usize>> {
        let items = self.each.as_ref()?;
        let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        Some(
            items
                .iter()
                .map(|(_, session)| {
                    let n = seen.len();
                    *seen.entry(session.as_str()).or_insert(n)
                })
                .collect(),
        )
    }

    /// How many requests a fixed list holds (none for an endpoint driven with fresh requests).
    pub fn requests_len(&self) -> usize {
        self.each.as_ref().map_or(0, Vec::len)
    }

    /// Whether its requests are a fixed list, used once.
    pub fn is_finite(&self) -> bool {
        self.each.is_some()
    }

    /// A target of the items of this one from `from` on (the second half for a second run).
    pub fn split_off(&mut self, from: usize) -> Option<Target> {
        let each = self.each.as_mut()?;
        let rest = each.split_off(from.min(each.len()));
        Some(Target::each(
            &self.name,
            &format!("http://{}", self.host),
            &self.path,
            rest,
        ))
    }

    /// `n` requests as bytes on the wire (at most one per item of a fixed list), each signed now
    /// with a nonce no other request has.
    fn requests(&self, n: usize) -> Vec<Vec<u8>> {
        let run: u32 = rand::random();
        let wire = |i: usize, body: &Value, session: Option<&str>| {
            let auth = session
                .map(|s| format!("Authorization: Bearer {s}\r\n"))
                .unwrap_or_default();
            let mut body = body.clone();
            body["nonce"] = Value::String(format!("{run:08x}{i:010}"));
            let text = signed(&body).to_compact_string();
            format!(
                "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\n\r\n{text}",
                self.path,
                self.host,
                text.len()
            )
            .into_bytes()
        };
        match &self.each {
            Some(items) => items
                .iter()
                .take(n)
                .enumerate()
                .map(|(i, (body, session))| wire(i, body, Some(session)))
                .collect(),
            None => (0..n)
                .map(|i| wire(i, &self.body, self.session.as_deref()))
                .collect(),
        }
    }
}

/// What one run measured.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Answers that were HTTP 200 with `exceptionFlag` `0000`, their latency in µs.
    latencies: Vec<u32>,
    /// Anything else (wrong answers, broken connections, requests the pool ran out of).
    pub errors: u64,
    /// The first wrong answer (status line and body), to say what went wrong.
    pub first_error: Option<String>,
    elapsed: Duration,
}

impl Outcome {
    /// Good answers a second.
    pub fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The `p`th percentile latency, ms.
    pub fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let mut l = self.latencies.clone();
        l.sort_unstable();
        let rank = ((p / 100.0) * (l.len() as f64)).ceil() as usize;
        f64::from(l[rank.clamp(1, l.len()) - 1]) / 1000.0
    }
}

/// One keep-alive connection.
struct Connection {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Connection {
    async fn open(host: &str) -> std::io::Result<Connection> {
        let stream = TcpStream::connect(host).await?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            stream,
            buf: Vec::with_capacity(16 * 1024),
        })
    }

    /// Sends `request`; whether the answer was HTTP 200 with `exceptionFlag` `0000`.
    async fn exchange(&mut self, request: &[u8]) -> std::io::Result<bool> {
        self.exchange_inner(request).await
    }

    /// The last answer, as text.
    fn answer_text(&self) -> String {
        String::from_utf8_lossy(&self.buf).into_owned()
    }

    async fn exchange_inner(&mut self, request: &[u8]) -> std::io::Result<bool> {
        self.stream.write_all(request).await?;
        self.buf.clear();
        let (head_end, length) = loop {
            let mut chunk = [0u8; 8192];
            let n = self.stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                break (end + 4, content_length(&self.buf[..end]));
            }
        };
        let Some(length) = length else {
            return Err(std::io::ErrorKind::InvalidData.into());
        };
        while self.buf.len() < head_end + length {
            let mut chunk = [0u8; 8192];
            let n = self.stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
        let ok_status = self.buf.starts_with(b"HTTP/1.1 200");
        let body = &self.buf[head_end..head_end + length];
        Ok(ok_status && find(body, br#""exceptionFlag":"0000""#).is_some())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn content_length(head: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(head).ok()?;
    text.split("\r\n").find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse().ok())
            .flatten()
    })
}

/// The shared state of one run's connections.
struct Run {
    requests: Vec<Vec<u8>>,
    next: usize,
    /// For a fixed list, each connection's own queue of request indexes: the requests of one
    /// session all go through one connection, in order, so a loan's next installment is never
    /// sent before the answer about the one before it.
    lanes: Option<Vec<std::collections::VecDeque<usize>>>,
    outcome: Outcome,
}

impl Run {
    fn take(&mut self, connection: usize) -> Option<(usize, &[u8])> {
        let i = match &mut self.lanes {
            Some(lanes) => lanes.get_mut(connection)?.pop_front()?,
            None => {
                self.next += 1;
                self.next - 1
            }
        };
        self.requests.get(i).map(|r| (i, r.as_slice()))
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Requests made beforehand for a run of `duration` at up to `rate` a second.
fn pool(t: &Target, rate: f64, duration: Duration) -> Vec<Vec<u8>> {
    t.requests((rate * duration.as_secs_f64()).ceil() as usize + 1000)
}

/// What a short run with requests signed on the fly reaches: how many to sign for the real one.
fn estimate(t: &Target, connections: usize) -> f64 {
    let probe = Duration::from_millis(700);
    let o = drive(t.requests(100_000), t, connections, probe, None);
    o.per_second()
}

/// As many requests as `connections` connections get answered in `duration`.
pub fn closed_loop(t: &Target, connections: usize, duration: Duration) -> Outcome {
    if t.is_finite() {
        return drive(t.requests(usize::MAX), t, connections, duration, None);
    }
    // Sign half again what a probe reached: the real run must not run out.
    let rate = estimate(t, connections) * 1.5 + 1000.0;
    drive(pool(t, rate, duration), t, connections, duration, None)
}

/// Requests arriving at `rate` a second for `duration`, over up to `connections` connections;
/// each latency counts from when its request was due.
pub fn fixed_rate(t: &Target, connections: usize, duration: Duration, rate: f64) -> Outcome {
    drive(
        pool(t, rate, duration),
        t,
        connections,
        duration,
        Some(rate),
    )
}

fn drive(
    requests: Vec<Vec<u8>>,
    t: &Target,
    connections: usize,
    duration: Duration,
    rate: Option<f64>,
) -> Outcome {
    let lanes = t.sessions().map(|sessions| {
        let mut lanes = vec![std::collections::VecDeque::new(); connections.max(1)];
        for (i, session) in sessions.iter().enumerate().take(requests.len()) {
            lanes[session % connections.max(1)].push_back(i);
        }
        lanes
    });
    let run = Rc::new(RefCell::new(Run {
        requests,
        next: 0,
        lanes,
        outcome: Outcome::default(),
    }));
    let rt = runtime();
    let local = tokio::task::LocalSet::new();
    let started = Instant::now();
    let deadline = started + duration;
    let finite = t.is_finite();
    local.block_on(&rt, async {
        let mut tasks = Vec::new();
        for connection in 0..connections {
            let run = run.clone();
            let host = t.host.clone();
            tasks.push(tokio::task::spawn_local(async move {
                let mut conn = match Connection::open(&host).await {
                    Ok(c) => c,
                    Err(_) => {
                        run.borrow_mut().outcome.errors += 1;
                        return;
                    }
                };
                loop {
                    let taken = {
                        let mut r = run.borrow_mut();
                        r.take(connection).map(|(i, req)| (i, req.to_vec()))
                    };
                    let Some((i, request)) = taken else {
                        if Instant::now() < deadline && !finite {
                            run.borrow_mut().outcome.errors += 1;
                        }
                        return;
                    };
                    let due = match rate {
                        Some(rate) => started + Duration::from_secs_f64(i as f64 / rate),
                        None => Instant::now(),
                    };
                    if due >= deadline {
                        return;
                    }
                    if due > Instant::now() {
                        // The timer's granularity is a millisecond: sleep only when early.
                        tokio::time::sleep_until(due.into()).await;
                    }
                    let answer = conn.exchange(&request).await;
                    let took = due.elapsed();
                    let mut r = run.borrow_mut();
                    match answer {
                        Ok(true) => r
                            .outcome
                            .latencies
                            .push(u32::try_from(took.as_micros()).unwrap_or(u32::MAX)),
                        Ok(false) => {
                            r.outcome.errors += 1;
                            if r.outcome.first_error.is_none() {
                                r.outcome.first_error = Some(conn.answer_text());
                            }
                        }
                        Err(_) => {
                            r.outcome.errors += 1;
                            return;
                        }
                    }
                    if Instant::now() >= deadline {
                        return;
                    }
                }
            }));
        }
        for task in tasks {
            let _ = task.await;
        }
    });
    let mut r = run.borrow_mut();
    let mut outcome = std::mem::take(&mut r.outcome);
    outcome.elapsed = started.elapsed();
    outcome
}
