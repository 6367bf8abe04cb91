//! A real headless Chromium for console tests, driven over the W3C WebDriver protocol (JSON over
//! HTTP) through Debian's `chromedriver`: no browser is downloaded, and none is faked. Each step
//! can keep a screenshot (PNG) for people to look at.
//!
//! The browser is `CASHLOAN_TEST_CHROMIUM` (default `/usr/bin/chromium`), the driver
//! `CASHLOAN_TEST_CHROMEDRIVER` (default `chromedriver` on the PATH).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The key of an element reference in WebDriver answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A browser session; the browser and its driver stop when it is dropped.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    shots: PathBuf,
    taken: usize,
}

/// Why there is no browser here.
pub fn missing() -> Option<String> {
    let driver = driver_path();
    let browser = browser_path();
    let runs = |p: &str| {
        Command::new(p)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !runs(&driver) {
        return Some(format!("no {driver}"));
    }
    if !Path::new(&browser).exists() {
        return Some(format!("no {browser}"));
    }
    None
}

fn driver_path() -> String {
    std::env::var("CASHLOAN_TEST_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into())
}

fn browser_path() -> String {
    std::env::var("CASHLOAN_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Browser {
    /// Starts chromedriver and a headless Chromium (1366 × 900, Chinese first); screenshots go
    /// to `shots`.
    pub fn start(shots: &Path) -> Browser {
        std::fs::create_dir_all(shots).expect("the screenshot folder");
        let port = free_port();
        let driver = Command::new(driver_path())
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while ureq::get(&format!("{base}/status")).call().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": browser_path(),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1366,900", "--lang=zh-CN", "--no-first-run",
                         "--disable-extensions", "--password-store=basic"],
            },
        }}});
        let mut b = Browser {
            driver,
            base,
            session: String::new(),
            shots: shots.to_owned(),
            taken: 0,
        };
        let answer = b.command("POST", "/session", Some(caps));
        b.session = answer["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {answer}"))
            .to_owned();
        b
    }

    /// One WebDriver command; its `value`. A WebDriver error panics with what it said.
    fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = if path == "/session" {
            format!("{}{path}", self.base)
        } else {
            format!("{}/session/{}{path}", self.base, self.session)
        };
        let req = ureq::request(method, &url).timeout(Duration::from_secs(60));
        let res = match body {
            Some(b) => req.send_json(b),
            None if method == "POST" => req.send_json(json!({})),
            None => req.call(),
        };
        let text = match res {
            Ok(r) => r.into_string().unwrap_or_default(),
            Err(ureq::Error::Status(code, r)) => {
                let t = r.into_string().unwrap_or_default();
                panic!("WebDriver {method} {path}: {code} {t}");
            }
            Err(e) => panic!("WebDriver {method} {path}: {e}"),
        };
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        v["value"].clone()
    }

    /// Opens `url`.
    pub fn goto(&self, url: &str) {
        self.command("POST", "/url", Some(json!({ "url": url })));
    }

    /// The page's address.
    pub fn url(&self) -> String {
        self.command("GET", "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The element `css` selects, waiting up to 10 s for it.
    pub fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(id) = self.try_find(css) {
                return id;
            }
            assert!(
                Instant::now() < deadline,
                "no element {css} on {}:\n{}",
                self.url(),
                self.body_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The element `css` selects, if there is one now.
    pub fn try_find(&self, css: &str) -> Option<String> {
        let url = format!("{}/session/{}/element", self.base, self.session);
        let res = ureq::post(&url)
            .timeout(Duration::from_secs(30))
            .send_json(json!({"using": "css selector", "value": css}))
            .ok()?;
        let v: Value = res.into_json().ok()?;
        v["value"][ELEMENT].as_str().map(str::to_owned)
    }

    /// Types `text` into the field `css` (emptied first).
    pub fn fill(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.command("POST", &format!("/element/{id}/clear"), None);
        self.command(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        );
    }

    /// Clicks the element `css` (a link or a form's button) and waits until the page it leads
    /// to has replaced this one: until then the old page's elements are still there to be found.
    pub fn click(&self, css: &str) {
        let before = self.find("html");
        let id = self.find(css);
        self.command("POST", &format!("/element/{id}/click"), None);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.is_stale(&before) {
            assert!(
                Instant::now() < deadline,
                "clicking {css} on {} loaded no new page",
                self.url()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        self.find("body");
    }

    /// Whether element `id` is gone (its page was replaced).
    fn is_stale(&self, id: &str) -> bool {
        let url = format!("{}/session/{}/element/{id}/name", self.base, self.session);
        match ureq::get(&url).timeout(Duration::from_secs(30)).call() {
            Ok(_) => false,
            Err(ureq::Error::Status(_, r)) => r
                .into_string()
                .unwrap_or_default()
                .contains("stale element reference"),
            Err(_) => false,
        }
    }

    /// The text of the element `css` (found again if the page changed under it).
    pub fn text(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let id = self.find(css);
            let url = format!("{}/session/{}/element/{id}/text", self.base, self.session);
            match ureq::get(&url).timeout(Duration::from_secs(30)).call() {
                Ok(r) => {
                    let v: Value = r.into_json().unwrap_or(Value::Null);
                    return v["value"].as_str().unwrap_or_default().to_owned();
                }
                Err(ureq::Error::Status(code, r)) => {
                    let t = r.into_string().unwrap_or_default();
                    assert!(
                        t.contains("stale element reference") && Instant::now() < deadline,
                        "WebDriver text of {css}: {code} {t}"
                    );
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => panic!("WebDriver text of {css}: {e}"),
            }
        }
    }

    /// The page's visible text.
    pub fn body_text(&self) -> String {
        self.try_find("body")
            .map(|id| {
                self.command("GET", &format!("/element/{id}/text"), None)
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .unwrap_or_default()
    }

    /// The browser's cookies for the page.
    pub fn cookies(&self) -> Vec<Value> {
        self.command("GET", "/cookie", None)
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Forgets every cookie (a new person at the same browser).
    pub fn clear_cookies(&self) {
        self.command("DELETE", "/cookie", None);
    }

    /// Keeps a screenshot of the page as `NN-name.png`; its path.
    pub fn screenshot(&mut self, name: &str) -> PathBuf {
        use base64::Engine;
        let data = self.command("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap_or_default())
            .expect("a PNG screenshot");
        self.taken += 1;
        let path = self.shots.join(format!("{:02}-{name}.png", self.taken));
        std::fs::write(&path, png).expect("write the screenshot");
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = ureq::delete(&format!("{}/session/{}", self.base, self.session))
                .timeout(Duration::from_secs(10))
                .call();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
