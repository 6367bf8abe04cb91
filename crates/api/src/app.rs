//! Building and running the server: `Application::build(config)`, then `address()` (so a test
//! that asked for port 0 learns the real one), then `run_until_stopped()`.

use secrecy::ExposeSecret;
use std::net::{SocketAddr, TcpListener};
use std::path::Path;

use actix_web::{web, App, HttpResponse, HttpServer};
use cashloan_persistence::demo::load_demo_data;
use cashloan_persistence::Db;
use cashloan_protocol::PasswordCodec;
use chrono::FixedOffset;

use crate::config::Config;
use crate::context::AppState;
use crate::pages::Pages;
use crate::providers::Providers;
use crate::routes;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The database.
    #[error(transparent)]
    Db(#[from] cashloan_persistence::DbError),
    /// The configured database cannot be opened or migrated.
    #[error("database {url} (setting database_url, CASHLOAN_DATABASE_URL): {source}")]
    Database {
        /// The URL, password redacted.
        url: String,
        /// Why.
        source: cashloan_persistence::DbError,
    },
    /// The listening address cannot be bound.
    #[error("cannot listen on {0} (setting bind, CASHLOAN_BIND): {1}")]
    Listen(SocketAddr, std::io::Error),
    /// The stop signals, a template file, the socket's address.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// SIGTERM and SIGINT, registered when made.
struct StopSignals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl StopSignals {
    #[cfg(unix)]
    fn install() -> std::io::Result<StopSignals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(StopSignals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    #[cfg(not(unix))]
    fn install() -> std::io::Result<StopSignals> {
        Ok(StopSignals {})
    }

    /// Resolves at the first SIGTERM or SIGINT; both drain the server.
    #[cfg(unix)]
    async fn received(mut self) {
        let which = std::future::poll_fn(|cx| {
            if self.term.poll_recv(cx).is_ready() {
                return std::task::Poll::Ready("SIGTERM");
            }
            if self.int.poll_recv(cx).is_ready() {
                return std::task::Poll::Ready("SIGINT");
            }
            std::task::Poll::Pending
        })
        .await;
        tracing::info!("{which}: finishing the requests in flight, then stopping");
    }

    #[cfg(not(unix))]
    async fn received(self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// A server ready to run.
pub struct Application {
    server: actix_web::dev::Server,
    address: SocketAddr,
    /// The operations server and its address, when `ops_bind` is set.
    ops: Option<(actix_web::dev::Server, SocketAddr)>,
}

/// Installs the data key that seals personal data at rest: `data_key` when set; else, on SQLite,
/// the key in `<database file>.key`, made (mode 0600) on first start; on PostgreSQL a key is
/// required. Then seals what an older version stored in clear, and re-seals what the previous
/// key sealed.
pub fn install_data_key(config: &Config) -> Result<(), StartError> {
    use crate::config::{named, ConfigError};
    use cashloan_persistence::sealed::{install, DataKey};
    let parse = |key: &str, text: &str| {
        DataKey::from_hex(text).map_err(|why| ConfigError(format!("{}: {why}", named(key))))
    };
    let current = match &config.data_key {
        Some(text) => parse("data_key", text.expose_secret())?,
        None => {
            let url = cashloan_persistence::db::DatabaseUrl::parse(config.database_url.expose())?;
            if url.backend != cashloan_persistence::Backend::Sqlite {
                return Err(ConfigError(format!(
                    "{} is required with PostgreSQL: 64 hex characters (e.g. `openssl rand -hex 32`), kept secret and backed up",
                    named("data_key")
                ))
                .into());
            }
            let path = format!("{}.key", url.target);
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let fresh = DataKey::generate_hex();
                    write_private(&path, &fresh).map_err(|e| {
                        ConfigError(format!("cannot write the data key file {path}: {e}"))
                    })?;
                    tracing::warn!(
                        %path,
                        "made a new data key for personal data; back it up with the database (without it the sealed data cannot be read)"
                    );
                    fresh
                }
                Err(e) => {
                    return Err(
                        ConfigError(format!("cannot read the data key file {path}: {e}")).into(),
                    )
                }
            };
            parse("data_key", &text)?
        }
    };
    let previous = match &config.data_key_previous {
        Some(text) => Some(parse("data_key_previous", text.expose_secret())?),
        None => None,
    };
    install(current, previous).map_err(ConfigError)?;
    Ok(())
}

/// Writes `text` to a new file only its owner may read.
fn write_private(path: &str, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// The server's state from its configuration: database migrated (and demo data loaded when
/// asked), providers chosen, pages read.
pub fn state(config: Config) -> Result<AppState, StartError> {
    // Everything that only reads the configuration first, so a mistake there stops the start
    // before the database is touched.
    let providers = Providers::from_config(&config)?;
    let pages = Pages::load(config.templates_dir.as_deref().map(Path::new))?;
    let codec = PasswordCodec::new(
        config.app_key.expose_secret(),
        config.strict_password_encryption,
    )
    .map_err(|e| crate::config::ConfigError(format!("{}: {e}", crate::config::named("app_key"))))?;
    let zone = FixedOffset::east_opt(config.business_utc_offset_hours * 3600).ok_or_else(|| {
        crate::config::ConfigError(format!(
            "{}: out of range: {}",
            crate::config::named("business_utc_offset_hours"),
            config.business_utc_offset_hours
        ))
    })?;
    let db = Db::open(config.database_url.expose(), config.db_pool_size).map_err(|source| {
        StartError::Database {
            url: config.database_url.redacted(),
            source,
        }
    })?;
    install_data_key(&config)?;
    {
        let mut conn = db.conn()?;
        let sealed = cashloan_persistence::sealed::seal_existing(&mut conn)?;
        if sealed > 0 {
            tracing::info!(
                sealed,
                "sealed personal data stored in clear or under the previous key"
            );
        }
    }
    if config.demo_data {
        let mut conn = db.conn()?;
        if load_demo_data(&mut conn, chrono::Utc::now().timestamp_millis())? {
            tracing::info!("loaded demo data into an empty database");
        }
    }
    let trusted_proxies = crate::client_address::parse_trusted(&config.trusted_proxies)?;
    let replay = crate::replay::ReplayGuard::start(&db).map_err(StartError::Io)?;
    let metrics = crate::metrics::Metrics::new()
        .map_err(|e| StartError::Io(std::io::Error::other(format!("metrics registry: {e}"))))?;
    Ok(AppState {
        replay,
        cache: crate::read_cache::ReadCache::default(),
        metrics,
        draining: std::sync::atomic::AtomicBool::new(false),
        trusted_proxies,
        providers,
        policy: config.policy()?,
        default_credit: config.total_credit()?,
        pages,
        zone,
        codec,
        db,
        config,
    })
}

async fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("application/json; charset=utf-8")
        .body(r#"{"error":"no such endpoint"}"#)
}

impl Application {
    /// Binds the listening socket and prepares the server.
    pub fn build(config: Config) -> Result<Application, StartError> {
        if config.uses_public_key() {
            tracing::warn!(
                "CASHLOAN_APP_KEY is the public test key 12345678 of the vendor document: anyone can sign \
                 requests and read passwords. Set a secret key before real borrowers use this server."
            );
        }
        if !config.verify_sign {
            tracing::warn!("CASHLOAN_VERIFY_SIGN=false: signatures, freshness and replay are NOT checked (development only)");
        }
        let workers = config.workers;
        let bind = config.bind_address()?;
        config.check_test_key(bind)?;
        let ops_bind = config.ops_address()?;
        // The addresses first: a port already taken stops the start before the database is
        // touched.
        let listener = TcpListener::bind(bind).map_err(|e| StartError::Listen(bind, e))?;
        let ops_listener = ops_bind
            .map(|a| TcpListener::bind(a).map_err(|e| StartError::Listen(a, e)))
            .transpose()?;
        let state = web::Data::new(state(config)?);
        if state.config.sweep_interval_secs > 0 {
            crate::housekeeping::spawn_sweeper(
                state.db.clone(),
                std::time::Duration::from_secs(state.config.sweep_interval_secs),
                state.config.sign_window_secs,
                state.config.captcha_ttl_secs,
            );
        }
        let interval = state.config.reconcile_interval_secs;
        if interval > 0 {
            crate::usecases::reconcile::spawn_reconciler(
                state.db.clone(),
                state.providers.payments.clone(),
                crate::usecases::reconcile::ReconcilePolicy::of(&state.config),
                std::time::Duration::from_secs(interval),
            );
        }
        let address = listener.local_addr()?;
        // Installed now, before anyone learns the address: a SIGTERM that arrives before the
        // server is first polled is kept and drains the server instead of killing the process.
        let stop = StopSignals::install()?;
        let separate_ops = ops_listener.is_some();
        let app_state = state.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(app_state.clone())
                .wrap(actix_web::middleware::from_fn(crate::ops::count))
                .configure(|cfg| {
                    if !separate_ops {
                        crate::ops::configure(cfg);
                    }
                    routes::configure(cfg);
                })
                .default_service(web::to(not_found))
        })
        .shutdown_timeout(30)
        .shutdown_signal({
            let state = state.clone();
            async move {
                stop.received().await;
                state
                    .draining
                    .store(true, std::sync::atomic::Ordering::Relaxed);
            }
        });
        if workers > 0 {
            server = server.workers(workers);
        }
        let server = server.listen(listener)?.run();
        let ops = match ops_listener {
            None => None,
            Some(l) => {
                let ops_address = l.local_addr()?;
                tracing::info!("operations endpoints on http://{ops_address}");
                let ops_state = state.clone();
                let ops = HttpServer::new(move || {
                    App::new()
                        .app_data(ops_state.clone())
                        .configure(crate::ops::configure)
                        .default_service(web::to(not_found))
                })
                .workers(1)
                .disable_signals()
                .listen(l)?
                .run();
                Some((ops, ops_address))
            }
        };
        Ok(Application {
            server,
            address,
            ops,
        })
    }

    /// The address the server listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The address of the operations endpoints, when they have one of their own.
    pub fn ops_address(&self) -> Option<SocketAddr> {
        self.ops.as_ref().map(|(_, a)| *a)
    }

    /// Serves until SIGTERM or SIGINT, then finishes the requests in flight; the operations
    /// endpoints answer (`/readyz` with 503) until the app's requests are done.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        match self.ops {
            None => self.server.await,
            Some((ops, _)) => {
                let handle = ops.handle();
                let ops_task = actix_web::rt::spawn(ops);
                let served = self.server.await;
                handle.stop(true).await;
                let _ = ops_task.await;
                served
            }
        }
    }
}

/// Runs one admin API request without a server (for `cashloan admin`): the admin route table's
/// own operations and answers, no HTTP in between. Returns the HTTP status and the body.
pub async fn admin_call(
    config: Config,
    method: &str,
    path: &str,
    body: String,
) -> Result<(u16, String), StartError> {
    if !path.starts_with("/admin/") {
        return Err(crate::config::ConfigError("the path must start with /admin/".into()).into());
    }
    let state = web::Data::new(state(config)?);
    let (status, value) = routes::admin::call(state, method, path, body).await;
    Ok((status.as_u16(), value.to_string()))
}
