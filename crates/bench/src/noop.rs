//! The reference: an actix-web 4 endpoint that does nothing but answer a small JSON object, with
//! the server's worker count (2), so the ratio says what the server's own work costs.

use std::process::ExitCode;

use actix_web::{web, App, HttpResponse, HttpServer};

async fn noop(_body: web::Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json; charset=utf-8")
        .body(r#"{"exceptionFlag":"0000","responseCode":"0000","resultSet":null}"#)
}

/// Serves `POST /noop` on a free loopback port, printing `listening on URL` first.
pub fn serve() -> ExitCode {
    let run = async {
        let server = HttpServer::new(|| App::new().route("/noop", web::post().to(noop)))
            .workers(2)
            .bind(("127.0.0.1", 0))?;
        let addr = server.addrs()[0];
        println!("listening on http://{addr}");
        server.run().await
    };
    match actix_web::rt::System::new().block_on(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("no-op endpoint: {e}");
            ExitCode::FAILURE
        }
    }
}
