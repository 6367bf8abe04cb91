//! Configuration: built-in defaults, then an optional `cashloan.toml` (keys in lower case without
//! the `CASHLOAN_` prefix), then `CASHLOAN_*` environment variables, layered by figment. Keys,
//! passwords and tokens are `SecretString`s: they never appear in a `Debug` print or a log line.

use std::path::Path;
use std::str::FromStr;

use cashloan_domain::{LendingPolicy, Money, Rate};
use figment::providers::{Format, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};
use rust_decimal::Decimal;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// The public test key of the vendor's document; a deployment must replace it.
pub const PUBLIC_TEST_APP_KEY: &str = "12345678";

/// The shortest admin token accepted: a guessable token is an open back office.
pub const MIN_ADMIN_TOKEN_CHARS: usize = 32;

/// The configuration file read when `--config` does not name one, if it exists.
pub const DEFAULT_FILE: &str = "cashloan.toml";

/// The database URL. It may carry a password, so `Debug` prints it with the password
/// replaced (`postgres://app:***@db/cashloan`); [`DatabaseUrlSetting::expose`] gives it whole.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrlSetting(pub String);

impl DatabaseUrlSetting {
    /// The URL as configured, password included: for connecting, never for printing.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with its password replaced, for messages.
    pub fn redacted(&self) -> String {
        cashloan_persistence::db::redact(&self.0)
    }
}

impl std::fmt::Debug for DatabaseUrlSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Every setting of the server.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Listen address; `…:0` picks a free port.
    pub bind: String,
    /// `sqlite://…` or `postgres://…`.
    pub database_url: DatabaseUrlSetting,
    /// Signing and DES key.
    #[serde(deserialize_with = "secret")]
    pub app_key: SecretString,
    /// The data key sealing personal data at rest: 64 hex characters. Unset: on SQLite, the key
    /// in `<database file>.key` (made on first start); on PostgreSQL, required.
    #[serde(deserialize_with = "optional_secret")]
    pub data_key: Option<SecretString>,
    /// While rotating: the data key the stored values were sealed with before.
    #[serde(deserialize_with = "optional_secret")]
    pub data_key_previous: Option<SecretString>,
    /// Proxies whose `X-Forwarded-For` is believed: addresses or CIDR ranges, comma-separated.
    pub trusted_proxies: String,
    /// Let the vendor's public test key serve on an address other than loopback.
    #[serde(deserialize_with = "bool_or_text")]
    pub allow_test_key: bool,
    /// `false` turns off signature, freshness and replay checks (development only).
    #[serde(deserialize_with = "bool_or_text")]
    pub verify_sign: bool,
    /// Allowed clock skew of `timestamp`, seconds.
    #[serde(deserialize_with = "number_or_text")]
    pub sign_window_secs: i64,
    /// `log`, `file:/path/outbox.jsonl` or `http:URL`.
    pub sms_sink: String,
    /// Bearer token of the admin API; unset (or blank) = admin API off.
    #[serde(deserialize_with = "optional_secret")]
    pub admin_token: Option<SecretString>,
    /// Load demo products into an empty database.
    #[serde(deserialize_with = "bool_or_text")]
    pub demo_data: bool,
    /// Let the admin API set the business date.
    #[serde(deserialize_with = "bool_or_text")]
    pub allow_business_date_override: bool,
    /// Log filter (`info`, `cashloan_api=debug,info`, …).
    pub log: String,
    /// Log lines as JSON.
    #[serde(deserialize_with = "bool_or_text")]
    pub log_json: bool,
    /// Refuse passwords that are not DES ciphertext.
    #[serde(deserialize_with = "bool_or_text")]
    pub strict_password_encryption: bool,
    /// Sessions end after this many idle days.
    #[serde(deserialize_with = "number_or_text")]
    pub session_idle_days: i64,
    /// Total credit of a new user, yuan.
    #[serde(deserialize_with = "text_or_number")]
    pub default_total_credit: String,
    /// Highest APR a loan may cost.
    #[serde(deserialize_with = "text_or_number")]
    pub apr_cap: String,
    /// Allow products with upfront fees (砍头息).
    #[serde(deserialize_with = "bool_or_text")]
    pub allow_upfront_fee: bool,
    /// Wrong passwords in a row that lock an account.
    #[serde(deserialize_with = "number_or_text")]
    pub login_max_failures: i32,
    /// Wrong passwords an hour over every client address before the account is locked.
    #[serde(deserialize_with = "number_or_text")]
    pub login_max_failures_per_hour: i32,
    /// How long a lock lasts, minutes.
    #[serde(deserialize_with = "number_or_text")]
    pub login_lock_minutes: i64,
    /// Graphic codes one client address may fetch a minute.
    #[serde(deserialize_with = "number_or_text")]
    pub captcha_per_minute: i64,
    /// Seconds between two SMS to one mobile.
    #[serde(deserialize_with = "number_or_text")]
    pub sms_min_interval_secs: i64,
    /// Lifetime of a graphic code (§7), seconds.
    #[serde(deserialize_with = "number_or_text")]
    pub captcha_ttl_secs: i64,
    /// Lifetime of an SMS code (§8, §11), seconds.
    #[serde(deserialize_with = "number_or_text")]
    pub sms_code_ttl_secs: i64,
    /// SMS one client address may ask for in an hour.
    #[serde(deserialize_with = "number_or_text")]
    pub sms_per_client_per_hour: i64,
    /// SMS per business day, all together (a warning at 80 %).
    #[serde(deserialize_with = "number_or_text")]
    pub sms_per_day_total: i64,
    /// SMS to one mobile per business day.
    #[serde(deserialize_with = "number_or_text")]
    pub sms_per_day: i64,
    /// The business time zone as an offset from UTC, hours (Asia/Shanghai: 8).
    #[serde(deserialize_with = "number_or_text")]
    pub business_utc_offset_hours: i32,
    /// `local`, `refuse` or `http:URL`.
    pub identity_verifier: String,
    /// `local`, `refuse` or `http:URL`.
    pub bank_card_verifier: String,
    /// `local`, `refuse` or `http:URL`.
    pub carrier_verifier: String,
    /// `local`, `refuse` or `http:URL`.
    pub payment_channel: String,
    /// How long a call to the payment channel may take before its outcome counts as unknown, s.
    #[serde(deserialize_with = "number_or_text")]
    pub payment_timeout_secs: u64,
    /// Seconds between two passes of the reconciler (0: no background reconciler).
    #[serde(deserialize_with = "number_or_text")]
    pub reconcile_interval_secs: u64,
    /// How old an open payment order must be before the reconciler asks the channel about it, s.
    #[serde(deserialize_with = "number_or_text")]
    pub reconcile_after_secs: u64,
    /// Key of the HMAC-SHA256 signature of the channel's notifications; unset: notifications off.
    #[serde(deserialize_with = "optional_secret")]
    pub payment_channel_secret: Option<SecretString>,
    /// Refuse registration and reset steps from clients that keep no flow cookie.
    #[serde(deserialize_with = "bool_or_text")]
    pub flow_require_cookie: bool,
    /// Seconds between two sweeps of replay nonces, graphic codes and rate windows (0: only the
    /// daily job sweeps).
    #[serde(deserialize_with = "number_or_text")]
    pub sweep_interval_secs: u64,
    /// Let the daily job charge installments due (到期代扣) to the borrowers' cards.
    #[serde(deserialize_with = "bool_or_text")]
    pub auto_debit: bool,
    /// Folder with `registration_protocol.html` and `loan_help.html` replacing the built-in pages.
    #[serde(deserialize_with = "optional_text")]
    pub templates_dir: Option<String>,
    /// Where `/healthz`, `/readyz` and `/metrics` are served instead of `bind` (unset: on `bind`).
    #[serde(deserialize_with = "optional_text")]
    pub ops_bind: Option<String>,
    /// Database connections in the pool.
    #[serde(deserialize_with = "number_or_text")]
    pub db_pool_size: u32,
    /// HTTP worker threads (0: one per core).
    #[serde(deserialize_with = "number_or_text")]
    pub workers: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: "127.0.0.1:8080".into(),
            database_url: DatabaseUrlSetting("sqlite://cashloan.db".into()),
            app_key: SecretString::from(PUBLIC_TEST_APP_KEY),
            trusted_proxies: String::new(),
            data_key: None,
            data_key_previous: None,
            allow_test_key: false,
            verify_sign: true,
            sign_window_secs: 300,
            sms_sink: "log".into(),
            admin_token: None,
            demo_data: true,
            allow_business_date_override: false,
            log: "info".into(),
            log_json: false,
            strict_password_encryption: false,
            session_idle_days: 7,
            default_total_credit: "5000.00".into(),
            apr_cap: "0.36".into(),
            allow_upfront_fee: false,
            login_max_failures: 5,
            login_lock_minutes: 30,
            login_max_failures_per_hour: 100,
            captcha_per_minute: 30,
            sms_min_interval_secs: 60,
            captcha_ttl_secs: 120,
            sms_code_ttl_secs: 300,
            sms_per_day: 10,
            sms_per_client_per_hour: 20,
            sms_per_day_total: 10_000,
            business_utc_offset_hours: 8,
            identity_verifier: "local".into(),
            bank_card_verifier: "local".into(),
            carrier_verifier: "local".into(),
            payment_channel: "local".into(),
            payment_timeout_secs: 10,
            reconcile_interval_secs: 10,
            reconcile_after_secs: 10,
            payment_channel_secret: None,
            auto_debit: false,
            sweep_interval_secs: 60,
            flow_require_cookie: false,
            templates_dir: None,
            ops_bind: None,
            db_pool_size: 16,
            workers: 0,
        }
    }
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

/// A setting as a reader finds it in both places: `key (CASHLOAN_KEY)`.
pub fn named(key: &str) -> String {
    format!("{key} (CASHLOAN_{})", key.to_ascii_uppercase())
}

fn parse_bool(key: &str, v: &str) -> Result<bool, ConfigError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(ConfigError(format!(
            "{}: expected true or false, got {v:?}",
            named(key)
        ))),
    }
}

/// A secret from the file or the environment.
fn secret<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SecretString, D::Error> {
    String::deserialize(d).map(SecretString::from)
}

/// An optional secret: absent or blank is none.
fn optional_secret<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<SecretString>, D::Error> {
    Ok(optional_text(d)?.map(SecretString::from))
}

/// Optional text: absent or blank is none.
fn optional_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.filter(|t| !t.trim().is_empty()))
}

/// The `CASHLOAN_*` variables as a figment provider, their values kept as the text they are
/// (figment's own `Env` would read `00123` as the number 123, which would change a key).
struct Environment(Vec<(String, String)>);

impl Provider for Environment {
    fn metadata(&self) -> Metadata {
        Metadata::named("CASHLOAN_* environment variables")
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut dict = Dict::new();
        for (key, value) in &self.0 {
            let Some(name) = key.strip_prefix("CASHLOAN_") else {
                continue;
            };
            let name = name.to_ascii_lowercase();
            // Variables of other tools that share the prefix (the test suite's PostgreSQL URL,
            // the config file's path, `cashloan operator`'s new password) are not settings.
            if name == "config" || name == "operator_password" || name.starts_with("test_") {
                continue;
            }
            dict.insert(name, Value::from(value.clone()));
        }
        Ok(Profile::Default.collect(dict))
    }
}

/// A figment error as a reader wants it: each problem with the setting it is about.
fn explain(e: figment::Error) -> ConfigError {
    let lines: Vec<String> = e
        .into_iter()
        .map(|e| {
            let source = e
                .metadata
                .as_ref()
                .map(|m| match &m.source {
                    Some(source) => format!(" (in {} {source})", m.name),
                    None => format!(" (in {})", m.name),
                })
                .unwrap_or_default();
            match (&e.kind, e.path.last()) {
                (figment::error::Kind::UnknownField(name, _), _) => format!(
                    "unknown setting {name} (CASHLOAN_{}){source}",
                    name.to_ascii_uppercase()
                ),
                (kind, Some(key)) => format!("{}: {kind}{source}", named(key)),
                (kind, None) => format!("{kind}{source}"),
            }
        })
        .collect();
    ConfigError(lines.join("; "))
}

/// A whole number in the file, written as a TOML integer or as a string (`300` or `"300"`).
fn number_or_text<'de, D, N>(d: D) -> Result<N, D::Error>
where
    D: serde::Deserializer<'de>,
    N: FromStr + TryFrom<i64>,
{
    struct Whole<N>(std::marker::PhantomData<N>);
    impl<N: FromStr + TryFrom<i64>> serde::de::Visitor<'_> for Whole<N> {
        type Value = N;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a whole number (300 or \"300\")")
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<N, E> {
            N::try_from(v).map_err(|_| E::custom(format!("{v} is out of range")))
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<N, E> {
            let v = i64::try_from(v).map_err(|_| E::custom(format!("{v} is out of range")))?;
            self.visit_i64(v)
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<N, E> {
            v.trim()
                .parse()
                .map_err(|_| E::custom(format!("expected a whole number, got {v:?}")))
        }
    }
    d.deserialize_any(Whole(std::marker::PhantomData))
}

/// A switch in the file, written as a TOML boolean or as a string (`true` or `"true"`).
fn bool_or_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    struct Switch;
    impl serde::de::Visitor<'_> for Switch {
        type Value = bool;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("true or false")
        }
        fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<bool, E> {
            Ok(v)
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<bool, E> {
            parse_bool("value", v)
                .map_err(|_| E::custom(format!("expected true or false, got {v:?}")))
        }
    }
    d.deserialize_any(Switch)
}

/// An amount or a rate in the file, written as a TOML number or as a string (`0.36` or
/// `"0.36"`); kept as text and parsed exactly as decimal later. A TOML float is read back by its
/// shortest exact form (`0.36` → "0.36"), so no binary-float error reaches the money.
fn text_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct Decimal;
    impl serde::de::Visitor<'_> for Decimal {
        type Value = String;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a decimal number (0.36 or \"0.36\")")
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<String, E> {
            if v.is_finite() {
                Ok(v.to_string())
            } else {
                Err(E::custom(format!("{v} is not a decimal number")))
            }
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }
    }
    d.deserialize_any(Decimal)
}

impl Config {
    /// The file read when none is named: `./cashloan.toml`, when it exists.
    pub fn default_file() -> Option<&'static Path> {
        let path = Path::new(DEFAULT_FILE);
        path.exists().then_some(path)
    }

    /// Defaults, then `file` (which must exist: a file named but missing is an error, never a
    /// silent fall-back to the defaults), then the environment.
    pub fn load(
        file: Option<&Path>,
        env: impl Iterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut figment = Figment::new();
        if let Some(path) = file {
            // Named but missing is an error, never a silent fall-back to the defaults.
            std::fs::metadata(path).map_err(|e| {
                ConfigError(format!(
                    "cannot read the configuration file {} (--config, CASHLOAN_CONFIG): {e}",
                    path.display()
                ))
            })?;
            figment = figment.merge(Toml::file_exact(path));
        }
        let config: Config = figment
            .merge(Environment(env.collect()))
            .extract()
            .map_err(explain)?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.app_key.expose_secret().len() < 8 {
            return Err(ConfigError(format!(
                "{} must have at least 8 bytes (it is also the DES key); it has {}",
                named("app_key"),
                self.app_key.expose_secret().len()
            )));
        }
        if !(-12..=14).contains(&self.business_utc_offset_hours) {
            return Err(ConfigError(format!(
                "{} must be within -12..14, got {}",
                named("business_utc_offset_hours"),
                self.business_utc_offset_hours
            )));
        }
        for (key, value) in [
            ("sign_window_secs", self.sign_window_secs),
            ("session_idle_days", self.session_idle_days),
            ("login_max_failures", i64::from(self.login_max_failures)),
            (
                "login_max_failures_per_hour",
                i64::from(self.login_max_failures_per_hour),
            ),
            ("login_lock_minutes", self.login_lock_minutes),
        ] {
            if value <= 0 {
                return Err(ConfigError(format!(
                    "{} must be positive, got {value}",
                    named(key)
                )));
            }
        }
        if let Some(t) = self.admin_token.as_ref().map(ExposeSecret::expose_secret) {
            if t.chars().count() < MIN_ADMIN_TOKEN_CHARS {
                return Err(ConfigError(format!(
                    "{} must have at least {MIN_ADMIN_TOKEN_CHARS} characters, it has {} (leave it unset to turn the admin API off)",
                    named("admin_token"),
                    t.chars().count()
                )));
            }
        }
        if self.payment_timeout_secs == 0 {
            return Err(ConfigError(format!(
                "{} must be positive, got 0",
                named("payment_timeout_secs")
            )));
        }
        self.bind_address()?;
        crate::client_address::parse_trusted(&self.trusted_proxies)?;
        self.total_credit()?;
        self.policy()?;
        Ok(())
    }

    /// The listening address (`bind`), resolved: `127.0.0.1:8080`, `[::1]:8080`, `localhost:0`.
    pub fn bind_address(&self) -> Result<std::net::SocketAddr, ConfigError> {
        listening_address("bind", &self.bind)
    }

    /// The operations address (`ops_bind`), resolved, when one is set.
    pub fn ops_address(&self) -> Result<Option<std::net::SocketAddr>, ConfigError> {
        self.ops_bind
            .as_deref()
            .map(|a| listening_address("ops_bind", a))
            .transpose()
    }

    /// Total credit of a new user.
    pub fn total_credit(&self) -> Result<Money, ConfigError> {
        Money::parse_amount(&self.default_total_credit).ok_or_else(|| {
            ConfigError(format!(
                "{}: not an amount in yuan: {:?}",
                named("default_total_credit"),
                self.default_total_credit
            ))
        })
    }

    /// The lending policy (APR cap, upfront fees).
    pub fn policy(&self) -> Result<LendingPolicy, ConfigError> {
        let cap = Rate::parse(&self.apr_cap).ok_or_else(|| {
            ConfigError(format!(
                "{}: not a rate (0.36 for 36 %): {:?}",
                named("apr_cap"),
                self.apr_cap
            ))
        })?;
        Ok(LendingPolicy {
            apr_cap: cap.as_decimal(),
            allow_upfront_fee: self.allow_upfront_fee,
        })
    }

    /// Refuses the public test key on an address others can reach: anyone who read the vendor's
    /// document could sign requests and read passwords. On loopback (`cargo run --release` out of
    /// the box) or with `allow_test_key`, it is allowed.
    pub fn check_test_key(&self, listening: std::net::SocketAddr) -> Result<(), ConfigError> {
        if !self.uses_public_key() || listening.ip().is_loopback() || self.allow_test_key {
            return Ok(());
        }
        Err(ConfigError(format!(
            "{} is the vendor's public test key {PUBLIC_TEST_APP_KEY:?} and the server would listen on {listening}, \
             which is not a loopback address: anyone could sign requests and read passwords. Set a secret key \
             (at least 8 bytes), or {} to allow it anyway",
            named("app_key"),
            "CASHLOAN_ALLOW_TEST_KEY=true"
        )))
    }

    /// Whether the public test key is in use.
    pub fn uses_public_key(&self) -> bool {
        self.app_key.expose_secret() == PUBLIC_TEST_APP_KEY
    }

    /// The APR cap as a decimal.
    pub fn apr_cap_decimal(&self) -> Decimal {
        self.policy()
            .map(|p| p.apr_cap)
            .unwrap_or(Decimal::new(36, 2))
    }
}

/// `text`, the value of `setting`, as a socket address to listen on.
fn listening_address(setting: &str, text: &str) -> Result<std::net::SocketAddr, ConfigError> {
    use std::net::ToSocketAddrs;
    let bad = |why: String| {
        ConfigError(format!(
            "{}: {text:?} is not a listening address HOST:PORT ({why})",
            named(setting)
        ))
    };
    text.to_socket_addrs()
        .map_err(|e| bad(e.to_string()))?
        .next()
        .ok_or_else(|| bad("it resolves to no address".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Iterator<Item = (String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = Config::load(None, env(&[])).unwrap();
        assert_eq!(c.bind, "127.0.0.1:8080");
        assert_eq!(c.database_url.expose(), "sqlite://cashloan.db");
        assert_eq!(c.app_key.expose_secret(), "12345678");
        assert!(c.verify_sign && c.demo_data && !c.allow_business_date_override);
        assert_eq!(c.sign_window_secs, 300);
        assert_eq!(c.sms_sink, "log");
        assert!(c.admin_token.is_none());
        assert!(c.uses_public_key());
    }

    #[test]
    fn secrets_never_print_and_stay_the_text_they_were() {
        let token = "0123456789012345678901234567890123456789";
        let c = Config::load(
            None,
            env(&[
                ("CASHLOAN_APP_KEY", "00012345"),
                ("CASHLOAN_ADMIN_TOKEN", token),
                ("CASHLOAN_PAYMENT_CHANNEL_SECRET", "channel-s3cret"),
                (
                    "CASHLOAN_DATABASE_URL",
                    "postgres://app:db-s3cret@db/cashloan",
                ),
            ]),
        )
        .unwrap();
        assert_eq!(c.app_key.expose_secret(), "00012345", "digits stay text");
        assert_eq!(
            c.admin_token.as_ref().map(ExposeSecret::expose_secret),
            Some(token)
        );
        let printed = format!("{c:?}");
        assert_eq!(
            c.database_url.expose(),
            "postgres://app:db-s3cret@db/cashloan"
        );
        assert!(
            printed.contains("postgres://app:***@db/cashloan"),
            "{printed}"
        );
        for secret in ["00012345", token, "channel-s3cret", "db-s3cret"] {
            assert!(!printed.contains(secret), "{printed}");
        }
    }

    #[test]
    fn file_then_environment() {
        let dir = std::env::temp_dir().join(format!("cashloan-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("cashloan.toml");
        std::fs::write(
            &file,
            "bind = \"0.0.0.0:9000\"\nsign_window_secs = 60\nadmin_token = \"tttttttttttttttttttttttttttttttt\"\n",
        )
        .unwrap();
        let c = Config::load(
            Some(&file),
            env(&[("CASHLOAN_SIGN_WINDOW_SECS", "120"), ("OTHER", "x")]),
        )
        .unwrap();
        assert_eq!((c.bind.as_str(), c.sign_window_secs), ("0.0.0.0:9000", 120));
        assert_eq!(
            c.admin_token.as_ref().map(ExposeSecret::expose_secret),
            Some("tttttttttttttttttttttttttttttttt")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_values_are_refused_with_the_key_named() {
        let e = Config::load(None, env(&[("CASHLOAN_VERIFY_SIGN", "maybe")])).unwrap_err();
        assert!(e.to_string().contains("verify_sign"), "{e}");
        assert!(Config::load(None, env(&[("CASHLOAN_APP_KEY", "short")])).is_err());
        assert!(Config::load(None, env(&[("CASHLOAN_NO_SUCH_THING", "1")])).is_err());
        assert!(Config::load(None, env(&[("CASHLOAN_APR_CAP", "36%")])).is_err());
        let c = Config::load(None, env(&[("CASHLOAN_ADMIN_TOKEN", "")])).unwrap();
        assert!(c.admin_token.is_none());
        let c = Config::load(None, env(&[("CASHLOAN_ADMIN_TOKEN", "   ")])).unwrap();
        assert!(c.admin_token.is_none(), "blank is unset");
        let e = Config::load(None, env(&[("CASHLOAN_ADMIN_TOKEN", "short")]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("CASHLOAN_ADMIN_TOKEN") && e.contains("32"),
            "{e}"
        );
    }

    fn write_toml(name: &str, text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        (dir, file)
    }

    #[test]
    fn a_named_file_that_does_not_exist_is_an_error_naming_it() {
        let e = Config::load(Some(Path::new("/nonexistent/cashloan.toml")), env(&[])).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("/nonexistent/cashloan.toml"), "{text}");
        assert!(text.contains("CASHLOAN_CONFIG"), "{text}");
    }

    #[test]
    fn money_rates_and_durations_take_numbers_or_strings() {
        let (_d, numbers) = write_toml(
            "n.toml",
            "apr_cap = 0.36\ndefault_total_credit = 5000\nsms_code_ttl_secs = 600\nverify_sign = true\n",
        );
        let (_e, strings) = write_toml(
            "s.toml",
            "apr_cap = \"0.24\"\ndefault_total_credit = \"3000.50\"\nsms_code_ttl_secs = \"90\"\nverify_sign = \"false\"\n",
        );
        let n = Config::load(Some(&numbers), env(&[])).unwrap();
        assert_eq!(n.apr_cap, "0.36");
        assert_eq!(n.apr_cap_decimal(), Decimal::new(36, 2));
        assert_eq!(
            n.total_credit().unwrap(),
            Money::parse_amount("5000.00").unwrap()
        );
        assert_eq!((n.sms_code_ttl_secs, n.verify_sign), (600, true));
        let s = Config::load(Some(&strings), env(&[])).unwrap();
        assert_eq!(s.apr_cap_decimal(), Decimal::new(24, 2));
        assert_eq!(
            s.total_credit().unwrap(),
            Money::parse_amount("3000.50").unwrap()
        );
        assert_eq!((s.sms_code_ttl_secs, s.verify_sign), (90, false));
        let (_f, bad) = write_toml("b.toml", "sms_code_ttl_secs = \"soon\"\n");
        let e = Config::load(Some(&bad), env(&[])).unwrap_err().to_string();
        assert!(e.contains("sms_code_ttl_secs") && e.contains("soon"), "{e}");
    }

    #[test]
    fn errors_name_the_setting_and_the_value() {
        let e = Config::load(None, env(&[("CASHLOAN_BIND", "nonsense")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("CASHLOAN_BIND") && e.contains("nonsense"), "{e}");
        let e = Config::load(None, env(&[("CASHLOAN_SESSION_IDLE_DAYS", "0")]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("CASHLOAN_SESSION_IDLE_DAYS") && e.contains('0'),
            "{e}"
        );
        let e = Config::load(None, env(&[("CASHLOAN_APR_CAP", "36%")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("CASHLOAN_APR_CAP") && e.contains("36%"), "{e}");
        let e = Config::load(None, env(&[("CASHLOAN_WORKERS", "many")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("CASHLOAN_WORKERS") && e.contains("many"), "{e}");
        let c = Config::load(None, env(&[("CASHLOAN_BIND", "localhost:0")])).unwrap();
        assert!(c.bind_address().unwrap().ip().is_loopback());
    }
}
