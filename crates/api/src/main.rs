//! `cashloan`: the server (`serve`, the default), `migrate`, and (with the loan-book issue)
//! `batch` and `admin`.

use std::path::PathBuf;
use std::process::ExitCode;

use cashloan_api::app::Application;
use cashloan_api::config::Config;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// The cash-loan (现金贷) server.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Configuration file (default: ./cashloan.toml when it exists).
    #[arg(long, env = "CASHLOAN_CONFIG")]
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
}

fn init_logs(config: &Config) {
    let filter = EnvFilter::try_new(&config.log).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if config.log_json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let file = cli.config.unwrap_or_else(|| PathBuf::from("cashloan.toml"));
    let config = match Config::load(Some(&file), std::env::vars()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cashloan: {e}");
            return ExitCode::from(2);
        }
    };
    init_logs(&config);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Migrate => match cashloan_persistence::migrate(&config.database_url) {
            Ok(n) => {
                println!(
                    "applied {n} migration(s) to {}",
                    cashloan_persistence::db::redact(&config.database_url)
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("cashloan migrate: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Serve => serve(config),
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
