//! Configuration: built-in defaults, then an optional `cashloan.toml` (keys in lower case without
//! the `CASHLOAN_` prefix), then `CASHLOAN_*` environment variables.

use std::path::Path;
use std::str::FromStr;

use cashloan_domain::{LendingPolicy, Money, Rate};
use rust_decimal::Decimal;
use serde::Deserialize;

/// The public test key of the vendor's document; a deployment must replace it.
pub const PUBLIC_TEST_APP_KEY: &str = "12345678";

/// Every setting of the server.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Listen address; `…:0` picks a free port.
    pub bind: String,
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// Signing and DES key.
    pub app_key: String,
    /// `false` turns off signature, freshness and replay checks (development only).
    pub verify_sign: bool,
    /// Allowed clock skew of `timestamp`, seconds.
    pub sign_window_secs: i64,
    /// `log`, `file:/path/outbox.jsonl` or `http:URL`.
    pub sms_sink: String,
    /// Bearer token of the admin API; unset = admin API off.
    pub admin_token: Option<String>,
    /// Load demo products into an empty database.
    pub demo_data: bool,
    /// Let the admin API set the business date.
    pub allow_business_date_override: bool,
    /// Log filter (`info`, `cashloan_api=debug,info`, …).
    pub log: String,
    /// Log lines as JSON.
    pub log_json: bool,
    /// Refuse passwords that are not DES ciphertext.
    pub strict_password_encryption: bool,
    /// Sessions end after this many idle days.
    pub session_idle_days: i64,
    /// Total credit of a new user, yuan.
    pub default_total_credit: String,
    /// Highest APR a loan may cost.
    pub apr_cap: String,
    /// Allow products with upfront fees (砍头息).
    pub allow_upfront_fee: bool,
    /// Wrong passwords in a row that lock an account.
    pub login_max_failures: i32,
    /// How long a lock lasts, minutes.
    pub login_lock_minutes: i64,
    /// Graphic codes one client address may fetch a minute.
    pub captcha_per_minute: i64,
    /// Seconds between two SMS to one mobile.
    pub sms_min_interval_secs: i64,
    /// Lifetime of a graphic code (§7), seconds.
    pub captcha_ttl_secs: i64,
    /// Lifetime of an SMS code (§8, §11), seconds.
    pub sms_code_ttl_secs: i64,
    /// SMS to one mobile per business day.
    pub sms_per_day: i64,
    /// The business time zone as an offset from UTC, hours (Asia/Shanghai: 8).
    pub business_utc_offset_hours: i32,
    /// `local`, `refuse` or `http:URL`.
    pub identity_verifier: String,
    /// `local`, `refuse` or `http:URL`.
    pub bank_card_verifier: String,
    /// `local`, `refuse` or `http:URL`.
    pub carrier_verifier: String,
    /// `local`, `refuse` or `http:URL`.
    pub payment_channel: String,
    /// Folder with `registration_protocol.html` and `loan_help.html` replacing the built-in pages.
    pub templates_dir: Option<String>,
    /// Database connections in the pool.
    pub db_pool_size: u32,
    /// HTTP worker threads (0: one per core).
    pub workers: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: "127.0.0.1:8080".into(),
            database_url: "sqlite://cashloan.db".into(),
            app_key: PUBLIC_TEST_APP_KEY.into(),
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
            captcha_per_minute: 30,
            sms_min_interval_secs: 60,
            captcha_ttl_secs: 120,
            sms_code_ttl_secs: 300,
            sms_per_day: 10,
            business_utc_offset_hours: 8,
            identity_verifier: "local".into(),
            bank_card_verifier: "local".into(),
            carrier_verifier: "local".into(),
            payment_channel: "local".into(),
            templates_dir: None,
            db_pool_size: 16,
            workers: 0,
        }
    }
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

fn parse_bool(key: &str, v: &str) -> Result<bool, ConfigError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(ConfigError(format!(
            "{key}: expected true or false, got {v:?}"
        ))),
    }
}

fn parse_num<T: FromStr>(key: &str, v: &str) -> Result<T, ConfigError> {
    v.trim()
        .parse()
        .map_err(|_| ConfigError(format!("{key}: expected a number, got {v:?}")))
}

impl Config {
    /// Defaults, then the file (if it exists), then the environment.
    pub fn load(
        file: Option<&Path>,
        env: impl Iterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut config = match file {
            Some(path) if path.exists() => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| ConfigError(format!("cannot read {}: {e}", path.display())))?;
                toml::from_str(&text)
                    .map_err(|e| ConfigError(format!("{}: {e}", path.display())))?
            }
            _ => Config::default(),
        };
        for (key, value) in env {
            if let Some(name) = key.strip_prefix("CASHLOAN_") {
                config.set(&name.to_ascii_lowercase(), &value)?;
            }
        }
        config.validate()?;
        Ok(config)
    }

    /// Sets one key from its text (an environment variable's value).
    fn set(&mut self, key: &str, v: &str) -> Result<(), ConfigError> {
        match key {
            "bind" => self.bind = v.into(),
            "database_url" => self.database_url = v.into(),
            "app_key" => self.app_key = v.into(),
            "verify_sign" => self.verify_sign = parse_bool(key, v)?,
            "sign_window_secs" => self.sign_window_secs = parse_num(key, v)?,
            "sms_sink" => self.sms_sink = v.into(),
            "admin_token" => self.admin_token = Some(v.to_owned()).filter(|t| !t.is_empty()),
            "demo_data" => self.demo_data = parse_bool(key, v)?,
            "allow_business_date_override" => {
                self.allow_business_date_override = parse_bool(key, v)?
            }
            "log" => self.log = v.into(),
            "log_json" => self.log_json = parse_bool(key, v)?,
            "strict_password_encryption" => self.strict_password_encryption = parse_bool(key, v)?,
            "session_idle_days" => self.session_idle_days = parse_num(key, v)?,
            "default_total_credit" => self.default_total_credit = v.into(),
            "apr_cap" => self.apr_cap = v.into(),
            "allow_upfront_fee" => self.allow_upfront_fee = parse_bool(key, v)?,
            "login_max_failures" => self.login_max_failures = parse_num(key, v)?,
            "login_lock_minutes" => self.login_lock_minutes = parse_num(key, v)?,
            "captcha_per_minute" => self.captcha_per_minute = parse_num(key, v)?,
            "sms_min_interval_secs" => self.sms_min_interval_secs = parse_num(key, v)?,
            "sms_per_day" => self.sms_per_day = parse_num(key, v)?,
            "captcha_ttl_secs" => self.captcha_ttl_secs = parse_num(key, v)?,
            "sms_code_ttl_secs" => self.sms_code_ttl_secs = parse_num(key, v)?,
            "business_utc_offset_hours" => self.business_utc_offset_hours = parse_num(key, v)?,
            "identity_verifier" => self.identity_verifier = v.into(),
            "bank_card_verifier" => self.bank_card_verifier = v.into(),
            "carrier_verifier" => self.carrier_verifier = v.into(),
            "payment_channel" => self.payment_channel = v.into(),
            "templates_dir" => self.templates_dir = Some(v.to_owned()).filter(|t| !t.is_empty()),
            "db_pool_size" => self.db_pool_size = parse_num(key, v)?,
            "workers" => self.workers = parse_num(key, v)?,
            // Variables of other tools that share the prefix (the test suite's PostgreSQL URL,
            // the config file's path) are not settings.
            "test_pg_url" | "config" => {}
            other => {
                return Err(ConfigError(format!(
                    "unknown setting CASHLOAN_{}",
                    other.to_ascii_uppercase()
                )))
            }
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.app_key.len() < 8 {
            return Err(ConfigError(
                "app_key must have at least 8 bytes (it is also the DES key)".into(),
            ));
        }
        if self.sign_window_secs <= 0 {
            return Err(ConfigError("sign_window_secs must be positive".into()));
        }
        if !(-12..=14).contains(&self.business_utc_offset_hours) {
            return Err(ConfigError(
                "business_utc_offset_hours must be within -12..14".into(),
            ));
        }
        if self.session_idle_days <= 0
            || self.login_max_failures <= 0
            || self.login_lock_minutes <= 0
        {
            return Err(ConfigError(
                "session_idle_days, login_max_failures and login_lock_minutes must be positive"
                    .into(),
            ));
        }
        self.total_credit()?;
        self.policy()?;
        Ok(())
    }

    /// Total credit of a new user.
    pub fn total_credit(&self) -> Result<Money, ConfigError> {
        Money::parse_amount(&self.default_total_credit).ok_or_else(|| {
            ConfigError(format!(
                "default_total_credit: not an amount: {:?}",
                self.default_total_credit
            ))
        })
    }

    /// The lending policy (APR cap, upfront fees).
    pub fn policy(&self) -> Result<LendingPolicy, ConfigError> {
        let cap = Rate::parse(&self.apr_cap)
            .ok_or_else(|| ConfigError(format!("apr_cap: not a rate: {:?}", self.apr_cap)))?;
        Ok(LendingPolicy {
            apr_cap: cap.as_decimal(),
            allow_upfront_fee: self.allow_upfront_fee,
        })
    }

    /// Whether the public test key is in use.
    pub fn uses_public_key(&self) -> bool {
        self.app_key == PUBLIC_TEST_APP_KEY
    }

    /// The APR cap as a decimal.
    pub fn apr_cap_decimal(&self) -> Decimal {
        self.policy()
            .map(|p| p.apr_cap)
            .unwrap_or(Decimal::new(36, 2))
    }
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
        assert_eq!(c.database_url, "sqlite://cashloan.db");
        assert_eq!(c.app_key, "12345678");
        assert!(c.verify_sign && c.demo_data && !c.allow_business_date_override);
        assert_eq!(c.sign_window_secs, 300);
        assert_eq!(c.sms_sink, "log");
        assert_eq!(c.admin_token, None);
        assert!(c.uses_public_key());
    }

    #[test]
    fn file_then_environment() {
        let dir = std::env::temp_dir().join(format!("cashloan-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("cashloan.toml");
        std::fs::write(
            &file,
            "bind = \"0.0.0.0:9000\"\nsign_window_secs = 60\nadmin_token = \"t\"\n",
        )
        .unwrap();
        let c = Config::load(
            Some(&file),
            env(&[("CASHLOAN_SIGN_WINDOW_SECS", "120"), ("OTHER", "x")]),
        )
        .unwrap();
        assert_eq!((c.bind.as_str(), c.sign_window_secs), ("0.0.0.0:9000", 120));
        assert_eq!(c.admin_token.as_deref(), Some("t"));
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
        assert_eq!(c.admin_token, None);
    }
}
