//! `cashloan`: the server command. The HTTP server arrives with issue #5; until then the command
//! says so plainly instead of pretending to serve.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!(
        "cashloan {}: the HTTP server is not built yet (see issue #5); \
         the protocol and domain libraries are ready: run `cargo test --workspace`.",
        env!("CARGO_PKG_VERSION")
    );
    ExitCode::from(2)
}
