//! Third parties behind traits: SMS gateway, identity, bank-card and carrier verifiers, payment
//! channel. Each has a local default, a `refuse` variant (for demos and tests of the refusal
//! paths) and an HTTP implementation, chosen in configuration.
//!
//! HTTP contract (every provider): `POST URL` with a JSON object; any 2xx answer whose JSON has
//! `"ok": true` is acceptance (a payment may add `"ref": "…"`), anything else is refusal, with
//! `"message"` as the reason when given. Calls time out after 10 seconds.

use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Value};

use crate::config::ConfigError;

/// An SMS to send.
#[derive(Clone, Debug)]
pub struct Sms<'a> {
    /// Recipient.
    pub mobile: &'a str,
    /// `register` or `reset` (a code), `notice` (a password was reset or changed; no code).
    pub purpose: &'a str,
    /// The code (never logged); empty for a notice.
    pub code: &'a str,
    /// The text.
    pub text: String,
    /// When (ms).
    pub sent_at: i64,
}

/// Sends SMS.
pub trait SmsSender: Send + Sync {
    /// Hands the SMS to the gateway; `Err` when it refused.
    fn send(&self, sms: &Sms<'_>) -> Result<(), String>;
}

/// A verifier's answer about the borrower.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The elements belong together.
    Accepted,
    /// They do not (the provider's reason, for the log).
    Refused(String),
}

impl Verdict {
    /// Whether the provider accepted.
    pub fn accepted(&self) -> bool {
        matches!(self, Verdict::Accepted)
    }
}

/// A provider gave no answer about the borrower (down, timed out, answered nonsense): the
/// borrower is told `99999999` with the request id, never a refusal.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the {provider} is unavailable: {cause}")]
pub struct Unavailable {
    /// Which provider (`identity verifier`, `carrier verifier` …).
    pub provider: &'static str,
    /// What went wrong.
    pub cause: String,
}

/// What a verifier answers: a verdict, or no answer.
pub type Verification = Result<Verdict, Unavailable>;

/// Checks a name and ID number with the authority (实名认证).
pub trait IdentityVerifier: Send + Sync {
    /// Whether the name and ID number match.
    fn verify(&self, name: &str, id_card_no: &str) -> Verification;
}

/// Checks a bank card's four elements.
pub trait BankCardVerifier: Send + Sync {
    /// Whether name, ID number, card and reserved mobile belong together.
    fn verify(&self, name: &str, id_card_no: &str, card_no: &str, mobile: &str) -> Verification;
}

/// Checks that a mobile is held in a person's name (carrier three elements), and the
/// carrier-data authorisation the app ran before applying (§23 `orderId`).
pub trait CarrierVerifier: Send + Sync {
    /// Whether the mobile is held in this person's name.
    fn verify(&self, name: &str, id_card_no: &str, mobile: &str) -> Verification;
    /// Whether `order_id` is a completed authorisation for `mobile`.
    fn check_order(&self, order_id: &str, mobile: &str) -> Verification;
}

pub use crate::channel::{payment_channel, PaymentChannel, QueryAnswer};

/// What a provider setting names.
pub(crate) enum Kind {
    Local,
    Refuse,
    Http(String),
}

pub(crate) fn kind(name: &str, setting: &str) -> Result<Kind, ConfigError> {
    match setting {
        "local" => Ok(Kind::Local),
        "refuse" => Ok(Kind::Refuse),
        s if s.starts_with("http:") || s.starts_with("https:") => {
            let url = s
                .strip_prefix("http:")
                .filter(|u| u.starts_with("http"))
                .unwrap_or(s);
            Ok(Kind::Http(url.to_owned()))
        }
        other => Err(ConfigError(format!(
            "{}: expected local, refuse or http:URL, got {other:?}",
            crate::config::named(name)
        ))),
    }
}

/// What a third party answered.
enum Answer {
    /// 2xx with `"ok": true`.
    Accepted,
    /// It understood and said no: 2xx without `"ok": true`, or a 4xx.
    Refused(String),
    /// No usable answer: a timeout, a connection error, a 5xx, no JSON.
    Unavailable(String),
}

fn post(url: &str, body: &Value) -> Answer {
    let reason = |v: &Value| {
        v.get("message")
            .and_then(Value::as_str)
            .unwrap_or("refused")
            .to_owned()
    };
    match ureq::post(url)
        .timeout(Duration::from_secs(10))
        .send_json(body)
    {
        Ok(answer) => match answer.into_json::<Value>() {
            Ok(v) if v.get("ok") == Some(&Value::Bool(true)) => Answer::Accepted,
            Ok(v) => Answer::Refused(reason(&v)),
            Err(e) => Answer::Unavailable(format!("provider answered no JSON: {e}")),
        },
        Err(ureq::Error::Status(code, answer)) if (400..500).contains(&code) => {
            let v = answer.into_json::<Value>().unwrap_or(Value::Null);
            Answer::Refused(format!("HTTP {code}: {}", reason(&v)))
        }
        Err(ureq::Error::Status(code, _)) => {
            Answer::Unavailable(format!("provider answered HTTP {code}"))
        }
        Err(e) => Answer::Unavailable(format!("provider call failed: {e}")),
    }
}

/// The SMS sender of `sms_sink`.
pub fn sms_sender(setting: &str) -> Result<Box<dyn SmsSender>, ConfigError> {
    if setting == "log" {
        return Ok(Box::new(LogSms));
    }
    if let Some(path) = setting.strip_prefix("file:") {
        if path.is_empty() {
            return Err(ConfigError(format!(
                "{}: file: needs a path, got {setting:?}",
                crate::config::named("sms_sink")
            )));
        }
        return Ok(Box::new(FileSms {
            path: path.to_owned(),
            lock: Mutex::new(()),
        }));
    }
    if setting == "refuse" {
        return Ok(Box::new(RefuseSms));
    }
    match kind("sms_sink", setting)? {
        Kind::Http(url) => Ok(Box::new(HttpSms { url })),
        _ => Err(ConfigError(format!(
            "{}: expected log, file:PATH or http:URL, got {setting:?}",
            crate::config::named("sms_sink")
        ))),
    }
}

/// Logs that an SMS went out, without its code (codes never reach the log).
struct LogSms;

impl SmsSender for LogSms {
    fn send(&self, sms: &Sms<'_>) -> Result<(), String> {
        let masked = sms
            .mobile
            .get(..3)
            .map_or_else(String::new, |p| format!("{p}****"));
        tracing::info!(mobile = %masked, purpose = sms.purpose, "SMS code sent (log sink; code not logged)");
        Ok(())
    }
}

/// Refuses every SMS (to exercise `20001001`).
struct RefuseSms;

impl SmsSender for RefuseSms {
    fn send(&self, _: &Sms<'_>) -> Result<(), String> {
        Err("sms sink refuses".into())
    }
}

/// Appends each SMS as one JSON line to a file (an outbox tests and operators can read).
struct FileSms {
    path: String,
    lock: Mutex<()>,
}

impl SmsSender for FileSms {
    fn send(&self, sms: &Sms<'_>) -> Result<(), String> {
        let line = json!({
            "mobile": sms.mobile,
            "purpose": sms.purpose,
            "code": sms.code,
            "text": sms.text,
            "sentAt": sms.sent_at,
        });
        let _guard = self
            .lock
            .lock()
            .map_err(|_| "outbox lock poisoned".to_owned())?;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| format!("cannot open the SMS outbox: {e}"))?;
        writeln!(f, "{line}").map_err(|e| format!("cannot write the SMS outbox: {e}"))
    }
}

/// Posts each SMS to a gateway.
struct HttpSms {
    url: String,
}

impl SmsSender for HttpSms {
    fn send(&self, sms: &Sms<'_>) -> Result<(), String> {
        match post(
            &self.url,
            &json!({"mobile": sms.mobile, "purpose": sms.purpose, "code": sms.code, "text": sms.text, "sentAt": sms.sent_at}),
        ) {
            Answer::Accepted => Ok(()),
            Answer::Refused(why) | Answer::Unavailable(why) => Err(why),
        }
    }
}

/// A verifier that accepts (local: the format checks already ran), refuses, or asks over HTTP.
struct Verifier {
    /// Its name in errors.
    name: &'static str,
    kind: Kind,
}

impl Verifier {
    fn ask(&self, body: Value) -> Verification {
        match &self.kind {
            Kind::Local => Ok(Verdict::Accepted),
            Kind::Refuse => Ok(Verdict::Refused("refused by configuration".into())),
            Kind::Http(url) => match post(url, &body) {
                Answer::Accepted => Ok(Verdict::Accepted),
                Answer::Refused(reason) => {
                    tracing::info!(%reason, verifier = self.name, "verifier refused");
                    Ok(Verdict::Refused(reason))
                }
                // Not an answer about the borrower: the caller reports a fault, not a refusal.
                Answer::Unavailable(cause) => Err(Unavailable {
                    provider: self.name,
                    cause,
                }),
            },
        }
    }
}

impl IdentityVerifier for Verifier {
    fn verify(&self, name: &str, id_card_no: &str) -> Verification {
        self.ask(json!({"check": "identity", "name": name, "idCardNo": id_card_no}))
    }
}

impl BankCardVerifier for Verifier {
    fn verify(&self, name: &str, id_card_no: &str, card_no: &str, mobile: &str) -> Verification {
        self.ask(json!({"check": "bankCard", "name": name, "idCardNo": id_card_no, "cardNo": card_no, "mobile": mobile}))
    }
}

impl CarrierVerifier for Verifier {
    fn verify(&self, name: &str, id_card_no: &str, mobile: &str) -> Verification {
        self.ask(
            json!({"check": "carrier", "name": name, "idCardNo": id_card_no, "mobile": mobile}),
        )
    }

    fn check_order(&self, order_id: &str, mobile: &str) -> Verification {
        self.ask(json!({"check": "carrierOrder", "orderId": order_id, "mobile": mobile}))
    }
}

/// The identity verifier of a setting.
pub fn identity_verifier(setting: &str) -> Result<Box<dyn IdentityVerifier>, ConfigError> {
    Ok(Box::new(Verifier {
        name: "identity verifier",
        kind: kind("identity_verifier", setting)?,
    }))
}

/// The bank-card verifier of a setting.
pub fn bank_card_verifier(setting: &str) -> Result<Box<dyn BankCardVerifier>, ConfigError> {
    Ok(Box::new(Verifier {
        name: "bank-card verifier",
        kind: kind("bank_card_verifier", setting)?,
    }))
}

/// The carrier verifier of a setting.
pub fn carrier_verifier(setting: &str) -> Result<Box<dyn CarrierVerifier>, ConfigError> {
    Ok(Box::new(Verifier {
        name: "carrier verifier",
        kind: kind("carrier_verifier", setting)?,
    }))
}

/// All third parties of one server.
pub struct Providers {
    /// SMS gateway.
    pub sms: Box<dyn SmsSender>,
    /// Identity verifier.
    pub identity: Box<dyn IdentityVerifier>,
    /// Bank-card verifier.
    pub bank_card: Box<dyn BankCardVerifier>,
    /// Carrier verifier.
    pub carrier: Box<dyn CarrierVerifier>,
    /// Payment channel (shared with the reconciler).
    pub payments: std::sync::Arc<dyn PaymentChannel>,
}

impl Providers {
    /// The providers the configuration names.
    pub fn from_config(c: &crate::config::Config) -> Result<Providers, ConfigError> {
        Ok(Providers {
            sms: sms_sender(&c.sms_sink)?,
            identity: identity_verifier(&c.identity_verifier)?,
            bank_card: bank_card_verifier(&c.bank_card_verifier)?,
            carrier: carrier_verifier(&c.carrier_verifier)?,
            payments: payment_channel(
                &c.payment_channel,
                Duration::from_secs(c.payment_timeout_secs),
            )?
            .into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_choose_the_implementation() {
        assert!(sms_sender("log").is_ok());
        assert!(sms_sender("file:").is_err());
        assert!(sms_sender("carrier-pigeon").is_err());
        assert!(identity_verifier("local")
            .unwrap()
            .verify("张三", "x")
            .unwrap()
            .accepted());
        assert!(!identity_verifier("refuse")
            .unwrap()
            .verify("张三", "x")
            .unwrap()
            .accepted());
        assert!(payment_channel("ftp://x", Duration::from_secs(1)).is_err());
    }

    #[test]
    fn the_file_sink_writes_one_json_line_per_sms() {
        let path =
            std::env::temp_dir().join(format!("cashloan-outbox-{}.jsonl", std::process::id()));
        let sink = sms_sender(&format!("file:{}", path.display())).unwrap();
        for code in ["123456", "654321"] {
            sink.send(&Sms {
                mobile: "13709812611",
                purpose: "register",
                code,
                text: format!("验证码{code}"),
                sent_at: 1,
            })
            .unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1]["code"], "654321");
        assert_eq!(lines[0]["sentAt"], 1);
        std::fs::remove_file(&path).unwrap();
    }
}
