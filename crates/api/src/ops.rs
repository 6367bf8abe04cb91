//! What a load balancer and an operator ask of each instance, off the signed protocol:
//! `GET /healthz` (the process answers), `GET /readyz` (the database answers and has every
//! migration of this build; 503 otherwise, and while the server drains for shutdown) and
//! `GET /metrics` (Prometheus). They are served on `ops_bind` when it is set, else beside the app
//! API; and every request to the app is counted by [`count`].

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};

use crate::context::AppState;
use crate::metrics::{AnswerCode, UNMATCHED};

/// How long `/readyz` waits for a database connection.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// The three routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics));
}

fn json(status: actix_web::http::StatusCode, body: serde_json::Value) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/json; charset=utf-8")
        .body(body.to_string())
}

async fn healthz() -> HttpResponse {
    json(
        actix_web::http::StatusCode::OK,
        serde_json::json!({"status": "alive"}),
    )
}

async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    use actix_web::http::StatusCode;
    if state.draining.load(Ordering::Relaxed) {
        return json(
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({"status": "draining"}),
        );
    }
    let st = state.clone();
    match web::block(move || st.db.ready(READY_TIMEOUT)).await {
        Ok(Ok(())) => json(StatusCode::OK, serde_json::json!({"status": "ready"})),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready");
            json(
                StatusCode::SERVICE_UNAVAILABLE,
                serde_json::json!({"status": "not ready", "reason": e.to_string()}),
            )
        }
        Err(e) => json(
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({"status": "not ready", "reason": e.to_string()}),
        ),
    }
}

async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let st = state.clone();
    let text = web::block(move || st.metrics.render(&st.db))
        .await
        .unwrap_or_default();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text)
}

/// Counts every request by its route (never by its raw path) and answer code, with its latency.
pub async fn count(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let started = Instant::now();
    let endpoint = req.match_pattern().unwrap_or_else(|| UNMATCHED.to_owned());
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let res = next.call(req).await?;
    if let Some(state) = state {
        let status = res.status();
        let code = res
            .response()
            .extensions()
            .get::<AnswerCode>()
            .map(|c| c.0.to_owned())
            .unwrap_or_else(|| status.as_str().to_owned());
        state
            .metrics
            .observe_request(&endpoint, &code, started.elapsed().as_secs_f64());
    }
    Ok(res)
}
