//! The two H5 pages (§5 注册协议, §6 还款帮助): HTML readable on a phone, from templates an
//! operator can replace (`templates_dir`), with built-in defaults.

use std::path::Path;

use crate::config::{named, ConfigError};

const REGISTRATION_PROTOCOL: &str = include_str!("../templates/registration_protocol.html");
const LOAN_HELP: &str = include_str!("../templates/loan_help.html");

/// The pages' HTML, read once at start.
#[derive(Clone, Debug)]
pub struct Pages {
    /// §5.
    pub registration_protocol: String,
    /// §6.
    pub loan_help: String,
}

impl Pages {
    /// The built-in pages, each replaced by `registration_protocol.html` / `loan_help.html` in
    /// `dir` when that file exists.
    pub fn load(dir: Option<&Path>) -> Result<Pages, ConfigError> {
        if let Some(dir) = dir.filter(|d| !d.is_dir()) {
            return Err(ConfigError(format!(
                "{}: {} is not a folder",
                named("templates_dir"),
                dir.display()
            )));
        }
        let read = |name: &str, default: &str| -> Result<String, ConfigError> {
            match dir.map(|d| d.join(name)) {
                Some(path) if path.exists() => std::fs::read_to_string(&path).map_err(|e| {
                    ConfigError(format!(
                        "{}: cannot read {}: {e}",
                        named("templates_dir"),
                        path.display()
                    ))
                }),
                _ => Ok(default.to_owned()),
            }
        };
        Ok(Pages {
            registration_protocol: read("registration_protocol.html", REGISTRATION_PROTOCOL)?,
            loan_help: read("loan_help.html", LOAN_HELP)?,
        })
    }
}
