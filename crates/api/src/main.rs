//! `cashloan`: the server (`serve`, the default), `migrate`, `batch` (the daily job) and `admin`
//! (the operators' API from the shell).

use secrecy::ExposeSecret;
use std::path::PathBuf;
use std::process::ExitCode;

use cashloan_api::app::Application;
use cashloan_api::channel::{payment_channel, PaymentChannel};
use cashloan_api::config::Config;
use cashloan_api::usecases::daily_job::daily_job;
use cashloan_api::usecases::reconcile::{self as reconciler, ReconcileCounts, ReconcilePolicy};
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// mimalloc: a request allocates and frees many small buffers across the worker and blocking
/// threads, where it measured faster than the system allocator (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The cash-loan (现金贷) server.
#[derive(Parser)]
#[command(name = "cashloan", version, about)]
struct Cli {
    /// Configuration file (default: ./cashloan.toml when it exists); before or after the
    /// subcommand.
    #[arg(long, env = "CASHLOAN_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Start the HTTP server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Run the daily job for a business date (or every date of a range, to catch up).
    Batch {
        /// The business date, YYYY-MM-DD.
        #[arg(long)]
        date: chrono::NaiveDate,
        /// Last date of a range to catch up, YYYY-MM-DD (inclusive).
        #[arg(long)]
        to: Option<chrono::NaiveDate>,
        /// Run a date again although a `cashloan batch` (here or on another machine on the same
        /// database) already claimed it.
        #[arg(long)]
        again: bool,
    },
    /// Ask the payment channel about every open payment order and settle what it says (one
    /// reconciler pass), then exit.
    Reconcile,
    /// Sign a request with the configured key and a fresh nonce, send it, check the answer's
    /// signature and print it: `cashloan call /openCommonApi/getSystemMessage '{"pageNum":1}'`.
    /// Exits 1 when the answer is not a success (`exceptionFlag` other than `0000`).
    Call {
        /// The endpoint's path.
        path: String,
        /// The body's own members, as JSON (default `{}`).
        body: Option<String>,
        /// A session id (§4), sent as `Authorization: Bearer`.
        #[arg(long)]
        session: Option<String>,
        /// The server.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
    },
    /// The password field of §4, §10, §14, §15: DES under the configured key.
    Des {
        /// `encrypt` or `decrypt`.
        #[arg(value_parser = ["encrypt", "decrypt"])]
        op: String,
        /// The text.
        text: String,
    },
    /// Print the API document (OpenAPI 3.1, as `GET /openapi.json` serves it and
    /// docs/openapi.json holds it).
    Openapi,
    /// Call the admin API against the configured database, without a server:
    /// `cashloan admin POST /admin/applications/ID/approve '{"replyAmount":"1000.00"}'`.
    Admin {
        /// GET, POST, PUT or DELETE.
        method: String,
        /// A path of the admin API, starting with /admin.
        path: String,
        /// The JSON body, if any.
        body: Option<String>,
    },
    /// Operators' accounts: `cashloan operator add li.na --role reviewer` (the password is read
    /// from CASHLOAN_OPERATOR_PASSWORD, or else the first line of standard input).
    Operator {
        #[command(subcommand)]
        action: OperatorCommand,
    },
}

#[derive(Subcommand)]
enum OperatorCommand {
    /// Add an operator.
    Add {
        /// Sign-in name.
        name: String,
        /// admin, reviewer, finance, collector or viewer.
        #[arg(long, value_parser = ["admin", "reviewer", "finance", "collector", "viewer"])]
        role: String,
    },
    /// List the operators.
    List,
    /// Disable an operator: they cannot sign in, and their sessions end.
    Disable {
        /// Sign-in name.
        name: String,
    },
    /// Enable a disabled operator again.
    Enable {
        /// Sign-in name.
        name: String,
    },
    /// Set an operator's password (read as for `add`); their sessions end.
    Passwd {
        /// Sign-in name.
        name: String,
    },
}

fn init_logs(config: &Config) {
    use std::io::IsTerminal;
    let filter = EnvFilter::try_new(&config.log).unwrap_or_else(|_| EnvFilter::new("info"));
    // Colour only for a person at a terminal: a file, a pipe or a CI log gets plain text, and
    // NO_COLOR (https://no-color.org) turns it off everywhere.
    let colour = std::io::stderr().is_terminal()
        && !matches!(std::env::var_os("NO_COLOR"), Some(v) if !v.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr);
    if config.log_json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let file = cli
        .config
        .or_else(|| Config::default_file().map(PathBuf::from));
    let config = match Config::load(file.as_deref(), std::env::vars()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cashloan: {e}");
            return ExitCode::from(2);
        }
    };
    init_logs(&config);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Migrate => match cashloan_persistence::migrate(config.database_url.expose()) {
            Ok(n) => {
                println!(
                    "applied {n} migration(s) to {}",
                    config.database_url.redacted()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("cashloan migrate: {}: {e}", database(&config));
                ExitCode::FAILURE
            }
        },
        Command::Serve => serve(config),
        Command::Batch { date, to, again } => batch(&config, date, to.unwrap_or(date), again),
        Command::Reconcile => reconcile(&config),
        Command::Call {
            path,
            body,
            session,
            url,
        } => call(&config, &url, &path, body.as_deref(), session.as_deref()),
        Command::Des { op, text } => des(&config, &op, &text),
        Command::Admin { method, path, body } => admin(config, &method, &path, body),
        Command::Operator { action } => operator(config, action),
        Command::Openapi => {
            print!("{}", cashloan_api::openapi::document_json());
            ExitCode::SUCCESS
        }
    }
}

/// The configured database as errors name it.
fn database(config: &Config) -> String {
    format!(
        "database {} (setting database_url, CASHLOAN_DATABASE_URL)",
        config.database_url.redacted()
    )
}

/// `cashloan des`.
fn des(config: &Config, op: &str, text: &str) -> ExitCode {
    let codec = match cashloan_protocol::PasswordCodec::new(config.app_key.expose_secret(), true) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cashloan des: {e}");
            return ExitCode::from(2);
        }
    };
    if op == "encrypt" {
        println!("{}", codec.encrypt(text));
        return ExitCode::SUCCESS;
    }
    match codec.decrypt(text) {
        Ok(plain) => {
            println!("{plain}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cashloan des: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `cashloan call`: signs, sends, checks the answer's signature, prints it.
fn call(
    config: &Config,
    url: &str,
    path: &str,
    body: Option<&str>,
    session: Option<&str>,
) -> ExitCode {
    use cashloan_protocol::{parse, sign, verify, Json};
    let fail = |why: String| {
        eprintln!("cashloan call: {why}");
        ExitCode::FAILURE
    };
    let mut map = match parse(body.unwrap_or("{}").as_bytes()) {
        Ok(Json::Object(m)) => m,
        Ok(_) => return fail("the body must be a JSON object".into()),
        Err(e) => return fail(format!("the body is not JSON: {e}")),
    };
    let now = chrono::Utc::now().timestamp_millis();
    if map.get("timestamp").is_none() {
        map.insert("timestamp", now.to_string());
    }
    if map.get("nonce").is_none() {
        map.insert(
            "nonce",
            format!("{:08}", rand::random::<u32>() % 100_000_000),
        );
    }
    let signature = sign(config.app_key.expose_secret(), &map);
    map.insert("sign", signature);
    let target = format!("{}{}", url.trim_end_matches('/'), path);
    let mut request = ureq::post(&target)
        .timeout(std::time::Duration::from_secs(30))
        .set("Content-Type", "application/json");
    if let Some(s) = session {
        request = request.set("Authorization", &format!("Bearer {s}"));
    }
    let text = match request.send_string(&Json::Object(map).to_compact_string()) {
        Ok(r) => r.into_string(),
        Err(ureq::Error::Status(code, r)) => {
            let text = r.into_string().unwrap_or_default();
            return fail(format!("HTTP {code}: {text}"));
        }
        Err(e) => return fail(format!("{target}: {e}")),
    };
    let text = match text {
        Ok(t) => t,
        Err(e) => return fail(format!("reading the answer: {e}")),
    };
    let answer = match parse(text.as_bytes()) {
        Ok(Json::Object(m)) => m,
        _ => return fail(format!("the answer is not a JSON object: {text}")),
    };
    println!("{text}");
    if !verify(config.app_key.expose_secret(), &answer) {
        return fail("the answer's signature does not verify under the configured key".into());
    }
    match answer.get("exceptionFlag") {
        Some(Json::String(flag)) if flag == "0000" => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    }
}

/// The database and the payment channel of a command that moves or settles money.
fn money_tools(
    config: &Config,
    who: &str,
) -> Result<(cashloan_persistence::Db, Box<dyn PaymentChannel>), ExitCode> {
    if let Err(e) = cashloan_api::app::install_data_key(config) {
        eprintln!("cashloan {who}: {e}");
        return Err(ExitCode::from(2));
    }
    let db = cashloan_persistence::Db::open(config.database_url.expose(), 2).map_err(|e| {
        eprintln!("cashloan {who}: {}: {e}", database(config));
        ExitCode::FAILURE
    })?;
    let channel = payment_channel(
        &config.payment_channel,
        std::time::Duration::from_secs(config.payment_timeout_secs),
    )
    .map_err(|e| {
        eprintln!("cashloan {who}: {e}");
        ExitCode::from(2)
    })?;
    Ok((db, channel))
}

fn print_reconciled(prefix: &str, c: &ReconcileCounts) {
    println!(
        "{prefix}reconciled: asked {}, succeeded {}, failed {}, still unknown {}, flagged {}",
        c.asked, c.succeeded, c.failed, c.unknown, c.flagged
    );
}

fn reconcile(config: &Config) -> ExitCode {
    let (db, channel) = match money_tools(config, "reconcile") {
        Ok(t) => t,
        Err(code) => return code,
    };
    match reconciler::reconcile(&db, channel.as_ref(), ReconcilePolicy::of(config)) {
        Ok(c) => {
            print_reconciled("", &c);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cashloan reconcile: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Claims business date `date` for this run of the daily job: true for the first claimant.
fn claim_daily_date(
    db: &cashloan_persistence::Db,
    date: chrono::NaiveDate,
    instance: &str,
) -> Result<bool, cashloan_persistence::DbError> {
    let day = i64::from(chrono::Datelike::num_days_from_ce(&date));
    let mut conn = db.conn()?;
    let now = chrono::Utc::now().timestamp_millis();
    cashloan_persistence::site::claim_job_period(&mut conn, "daily", day, instance, now)
}

fn batch(config: &Config, from: chrono::NaiveDate, to: chrono::NaiveDate, again: bool) -> ExitCode {
    let (db, channel) = match money_tools(config, "batch") {
        Ok(t) => t,
        Err(code) => return code,
    };
    let instance = format!("batch {}", uuid::Uuid::new_v4());
    let mut date = from;
    while date <= to {
        // A scheduler on every machine may start the job for the same date: the first claims
        // the date in the database and runs it, the others say so and skip it.
        if !again {
            match claim_daily_date(&db, date, &instance) {
                Ok(true) => {}
                Ok(false) => {
                    println!(
                        "{date}: already claimed by another `cashloan batch` on this database; --again runs it anyway"
                    );
                    let Some(next) = date.succ_opt() else { break };
                    date = next;
                    continue;
                }
                Err(e) => {
                    eprintln!("cashloan batch {date}: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        match daily_job(&db, channel.as_ref(), config, date) {
            Ok(o) => {
                let r = &o.book;
                println!(
                    "{date}: looked at {}, marked overdue {}, penalties accrued {}, reminders {}, overdue messages {}, swept {}, in {} ms",
                    r.looked_at,
                    r.marked_overdue,
                    r.penalties_accrued,
                    r.reminders,
                    r.overdue_messages,
                    r.swept,
                    r.elapsed.as_millis()
                );
                if let Some(a) = o.auto_debit {
                    println!(
                        "{date}: auto-debit: opened {}, succeeded {}, failed {}, unknown {}",
                        a.opened, a.succeeded, a.failed, a.unknown
                    );
                }
                print_reconciled(&format!("{date}: "), &o.reconciled);
            }
            Err(e) => {
                eprintln!("cashloan batch {date}: {e}");
                return ExitCode::FAILURE;
            }
        }
        let Some(next) = date.succ_opt() else { break };
        date = next;
    }
    ExitCode::SUCCESS
}

/// The new password of `cashloan operator add` and `passwd`: CASHLOAN_OPERATOR_PASSWORD, or the
/// first line of standard input.
fn new_password() -> Result<String, String> {
    if let Ok(p) = std::env::var("CASHLOAN_OPERATOR_PASSWORD") {
        return Ok(p);
    }
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        eprint!("password: ");
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        return Err(
            "no password: set CASHLOAN_OPERATOR_PASSWORD or write it on standard input".into(),
        );
    }
    Ok(password)
}

/// `cashloan operator …`: through the admin API's operator routes, as `system` (audited).
fn operator(config: Config, action: OperatorCommand) -> ExitCode {
    let password = || match new_password() {
        Ok(p) => Some(p),
        Err(e) => {
            eprintln!("cashloan operator: {e}");
            None
        }
    };
    let (method, path, body) = match action {
        OperatorCommand::Add { name, role } => {
            let Some(password) = password() else {
                return ExitCode::FAILURE;
            };
            let body = serde_json::json!({"name": name, "role": role, "password": password});
            (
                "POST",
                "/admin/operators".to_owned(),
                Some(body.to_string()),
            )
        }
        OperatorCommand::List => ("GET", "/admin/operators".to_owned(), None),
        OperatorCommand::Disable { name } => (
            "PUT",
            format!("/admin/operators/{name}/status"),
            Some(r#"{"disabled":true}"#.to_owned()),
        ),
        OperatorCommand::Enable { name } => (
            "PUT",
            format!("/admin/operators/{name}/status"),
            Some(r#"{"disabled":false}"#.to_owned()),
        ),
        OperatorCommand::Passwd { name } => {
            let Some(password) = password() else {
                return ExitCode::FAILURE;
            };
            let body = serde_json::json!({ "password": password });
            (
                "PUT",
                format!("/admin/operators/{name}/password"),
                Some(body.to_string()),
            )
        }
    };
    admin(config, method, &path, body)
}

#[actix_web::main]
async fn admin(config: Config, method: &str, path: &str, body: Option<String>) -> ExitCode {
    // Whoever runs this holds the database already: the operation runs in this process, through
    // the same route table and operations an operator reaches over HTTP.
    match cashloan_api::app::admin_call(config, method, path, body.unwrap_or_default()).await {
        Ok((status, text)) => {
            println!("{text}");
            if (200..300).contains(&status) {
                ExitCode::SUCCESS
            } else {
                eprintln!("cashloan admin: HTTP {status}");
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("cashloan admin: {e}");
            ExitCode::FAILURE
        }
    }
}

#[actix_web::main]
async fn serve(config: Config) -> ExitCode {
    let app = match Application::build(config) {
        Ok(app) => app,
        Err(e) => {
            eprintln!("cashloan: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on http://{}", app.address());
    match app.run_until_stopped().await {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cashloan: server error: {e}");
            ExitCode::FAILURE
        }
    }
}
