//! The operators' API under `/admin`: review, approve, reject and disburse applications, keep
//! products, the blacklist, credit, system messages, releases and the business date, and run the
//! daily job. JSON in and out, `Authorization: Bearer $CASHLOAN_ADMIN_TOKEN` (compared in
//! constant time); every path answers 404 while no token is configured. Never signed with the
//! app key.
//!
//! One table, [`ROUTES`], says what each path does. The HTTP server registers it behind the
//! [`AdminAuth`] extractor; `cashloan admin` dispatches through the same table without a server
//! ([`call`]); docs/openapi.json describes it.

mod applications;
mod payments;
mod products;
mod site;
mod users;

use secrecy::ExposeSecret;
use std::collections::HashMap;
use std::future::{ready, Ready};

use actix_web::dev::{Path, Payload, ResourceDef};
use actix_web::http::{Method, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use cashloan_domain::Money;
use cashloan_persistence::DbError;
use chrono::NaiveDate;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::context::{AppState, Lease};

pub use site::report_json;

/// Why an admin request was not done; each kind is one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// 400: the body or query is not what the endpoint reads (the message names the member).
    #[error("{0}")]
    BadRequest(String),
    /// 403: switched off by configuration.
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such thing.
    #[error("{0}")]
    NotFound(String),
    /// 409: the thing is not in a state that allows it.
    #[error("{0}")]
    Conflict(String),
    /// 422: well-formed, but against a rule.
    #[error("{0}")]
    Unprocessable(String),
    /// 502: the payment channel refused.
    #[error("{0}")]
    Upstream(String),
    /// 500: a fault, logged with its cause when it was made; the answer says only that.
    #[error("internal error (see the server log)")]
    Fault,
}

impl Refusal {
    /// The HTTP status of the refusal.
    pub fn status(&self) -> StatusCode {
        match self {
            Refusal::BadRequest(_) => StatusCode::BAD_REQUEST,
            Refusal::Forbidden(_) => StatusCode::FORBIDDEN,
            Refusal::NotFound(_) => StatusCode::NOT_FOUND,
            Refusal::Conflict(_) => StatusCode::CONFLICT,
            Refusal::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Refusal::Upstream(_) => StatusCode::BAD_GATEWAY,
            Refusal::Fault => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// A fault: logged here with its cause, answered as 500 without it.
pub(crate) fn fault(e: impl std::fmt::Display) -> Refusal {
    tracing::error!(error = %e, "admin request failed");
    Refusal::Fault
}

impl From<DbError> for Refusal {
    fn from(e: DbError) -> Refusal {
        fault(e)
    }
}

impl From<crate::context::ApiError> for Refusal {
    fn from(e: crate::context::ApiError) -> Refusal {
        match e {
            crate::context::ApiError::Reply(o) => fault(o.message),
            other => fault(other),
        }
    }
}

/// An admin answer: status and JSON body.
pub type Answer = Result<(StatusCode, Value), Refusal>;

/// 200 with `view` as JSON.
fn ok(view: impl Serialize) -> Answer {
    with_status(StatusCode::OK, view)
}

/// `status` with `view` as JSON.
fn with_status(status: StatusCode, view: impl Serialize) -> Answer {
    Ok((status, serde_json::to_value(view).map_err(fault)?))
}

/// Money as operators read it (`"1000.00"`), or null.
fn money(amount: Option<Money>) -> Option<String> {
    amount.map(|m| m.to_string())
}

/// A `YYYY-MM-DD` date from an operator.
fn date(text: &str) -> Result<NaiveDate, Refusal> {
    cashloan_domain::parse_day(text)
        .ok_or_else(|| Refusal::Unprocessable("date must be YYYY-MM-DD".into()))
}

/// Today's business date.
fn business_date(st: &AppState, lease: &mut Lease<'_>) -> Result<NaiveDate, Refusal> {
    Ok(st.business_date(lease.get()?)?)
}

/// One admin request, whichever way it came (over HTTP or from `cashloan admin`).
pub struct AdminCall {
    params: Vec<(String, String)>,
    query: HashMap<String, String>,
    body: Vec<u8>,
}

impl AdminCall {
    /// The path parameter `name` (`{id}`, `{mobile}`); the route table guarantees it exists.
    fn param(&self, name: &str) -> String {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// The query parameter `name`, when given.
    fn query(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }

    /// The body as `T`: an empty body is `{}`; anything but a JSON object, or a member of the
    /// wrong type, is a 400 naming the member.
    fn body<T: DeserializeOwned>(&self) -> Result<T, Refusal> {
        let text: &[u8] = if self.body.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &self.body
        };
        let value: Value = serde_json::from_slice(text)
            .ok()
            .filter(Value::is_object)
            .ok_or_else(|| Refusal::BadRequest("body must be a JSON object".into()))?;
        serde_path_to_error::deserialize(value).map_err(|e| {
            let member = e.path().to_string();
            let why = e.inner().to_string();
            if member == "." {
                Refusal::BadRequest(why)
            } else {
                Refusal::BadRequest(format!("{member}: {why}"))
            }
        })
    }

    /// The number in query parameter `name`: `default` when absent, else within `range`.
    fn number(
        &self,
        name: &str,
        default: i64,
        range: std::ops::RangeInclusive<i64>,
    ) -> Result<i64, Refusal> {
        match self.query(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|n| range.contains(n))
                .ok_or_else(|| {
                    Refusal::BadRequest(format!(
                        "{name} must be {}..{}",
                        range.start(),
                        range.end()
                    ))
                }),
        }
    }
}

/// What an admin path does.
type Operation = fn(&AppState, &mut Lease<'_>, &AdminCall) -> Answer;

/// One admin endpoint: method, path under `/admin`, what it does, and the operation.
pub struct AdminRoute {
    /// `GET`, `POST`, `PUT` or `DELETE`.
    pub method: &'static str,
    /// The path under `/admin`, with `{name}` parameters.
    pub path: &'static str,
    /// One line for the API document.
    pub summary: &'static str,
    /// The schema of the JSON body it reads, if any (for the API document).
    pub body: Option<&'static str>,
    /// The schema of its successful answer, when it has a named one.
    pub answer: Option<&'static str>,
    op: Operation,
}

macro_rules! admin_route {
    ($method:literal, $path:literal, $summary:literal, $body:expr, $answer:expr, $op:path) => {
        AdminRoute {
            method: $method,
            path: $path,
            summary: $summary,
            body: $body,
            answer: $answer,
            op: $op,
        }
    };
}

/// Every admin endpoint.
pub static ROUTES: &[AdminRoute] = &[
    admin_route!(
        "GET",
        "/applications",
        "Applications, newest first (?status=0..5&page=&size=)",
        None,
        None,
        applications::list
    ),
    admin_route!(
        "POST",
        "/applications/{id}/review",
        "Start the review (0 → 1)",
        None,
        Some("ApplicationView"),
        applications::review
    ),
    admin_route!(
        "POST",
        "/applications/{id}/approve",
        "Approve (1 → 2), for at most the amount and term asked",
        Some("ApproveBody"),
        Some("ApplicationView"),
        applications::approve
    ),
    admin_route!(
        "POST",
        "/applications/{id}/reject",
        "Reject (1 → 3) with a reason",
        Some("RejectBody"),
        Some("ApplicationView"),
        applications::reject
    ),
    admin_route!(
        "POST",
        "/applications/{id}/disburse",
        "Pay the loan out through the payment channel (2 → 4)",
        None,
        Some("ApplicationView"),
        applications::disburse
    ),
    admin_route!(
        "GET",
        "/applications/{id}/ledger",
        "Every money movement of the loan, and its sums",
        None,
        None,
        applications::ledger
    ),
    admin_route!(
        "GET",
        "/payments",
        "Payment orders, newest first (?status=&applicationId=&page=&size=)",
        None,
        None,
        payments::list
    ),
    admin_route!(
        "POST",
        "/payments/{id}/resolve",
        "Settle a stuck payment order by hand",
        Some("ResolveBody"),
        Some("OrderView"),
        payments::resolve
    ),
    admin_route!(
        "GET",
        "/products",
        "Every product",
        None,
        None,
        products::list
    ),
    admin_route!(
        "POST",
        "/products",
        "Create a product (§21's member names)",
        Some("ProductBody"),
        Some("ProductView"),
        products::create
    ),
    admin_route!(
        "PUT",
        "/products/{id}",
        "Replace a product",
        Some("ProductBody"),
        Some("ProductView"),
        products::replace
    ),
    admin_route!(
        "POST",
        "/users/{mobile}/blacklist",
        "Blacklist a mobile",
        Some("BlacklistBody"),
        None,
        users::blacklist
    ),
    admin_route!(
        "DELETE",
        "/users/{mobile}/blacklist",
        "Take a mobile off the blacklist",
        None,
        None,
        users::unblacklist
    ),
    admin_route!(
        "PUT",
        "/users/{mobile}/credit",
        "Set a borrower's total credit",
        Some("CreditBody"),
        None,
        users::credit
    ),
    admin_route!(
        "PUT",
        "/users/{mobile}/status",
        "Disable a borrower or flag the risk",
        Some("UserStatusBody"),
        None,
        users::status
    ),
    admin_route!(
        "POST",
        "/system-messages",
        "Publish a system message (§25)",
        Some("SystemMessageBody"),
        None,
        site::system_message
    ),
    admin_route!(
        "POST",
        "/app-versions",
        "Publish an app release (§17)",
        Some("AppVersionBody"),
        None,
        site::app_version
    ),
    admin_route!(
        "GET",
        "/business-date",
        "Today's business date",
        None,
        None,
        site::get_business_date
    ),
    admin_route!(
        "POST",
        "/business-date",
        "Set the business date (when overrides are allowed)",
        Some("BusinessDateBody"),
        None,
        site::set_business_date
    ),
    admin_route!(
        "POST",
        "/batch/daily",
        "Run the daily job",
        Some("DailyBody"),
        None,
        site::daily
    ),
];

/// The named schemas of the admin API's bodies and answers, generated from their types.
pub fn schemas() -> Vec<(
    String,
    utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
)> {
    fn named<T: utoipa::ToSchema>() -> (
        String,
        utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
    ) {
        (T::name().into_owned(), T::schema())
    }
    vec![
        named::<applications::ApproveBody>(),
        named::<applications::RejectBody>(),
        named::<applications::ApplicationView>(),
        named::<payments::ResolveBody>(),
        named::<payments::OrderView>(),
        named::<products::ProductBody>(),
        named::<products::ProductView>(),
        named::<users::BlacklistBody>(),
        named::<users::CreditBody>(),
        named::<users::UserStatusBody>(),
        named::<site::SystemMessageBody>(),
        named::<site::AppVersionBody>(),
        named::<site::BusinessDateBody>(),
        named::<site::DailyBody>(),
    ]
}

/// Proof that a request carries the admin token; refuses it (404 while no token is configured,
/// 401 otherwise) before anything else is read.
pub struct AdminAuth;

impl FromRequest for AdminAuth {
    type Error = actix_web::Error;
    type Future = Ready<Result<AdminAuth, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let refused = match req.app_data::<web::Data<AppState>>() {
            None => Some(HttpResponse::InternalServerError().finish()),
            Some(state) => refusal(req, state),
        };
        ready(match refused {
            None => Ok(AdminAuth),
            Some(res) => Err(actix_web::error::InternalError::from_response("admin", res).into()),
        })
    }
}

/// The answer refusing the request, unless it carries the admin token.
fn refusal(req: &HttpRequest, state: &AppState) -> Option<HttpResponse> {
    let Some(token) = state
        .config
        .admin_token
        .as_ref()
        .map(ExposeSecret::expose_secret)
    else {
        return Some(HttpResponse::NotFound().json(json!({"error": "no such endpoint"})));
    };
    let given = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    // Digests of equal length, compared in constant time: neither the token's content nor its
    // length leaks through timing. No header never matches.
    let matches = given.is_some_and(|g| {
        let (a, b) = (
            Sha256::digest(g.as_bytes()),
            Sha256::digest(token.as_bytes()),
        );
        bool::from(a.as_slice().ct_eq(b.as_slice()))
    });
    if matches && !token.trim().is_empty() {
        None
    } else {
        Some(HttpResponse::Unauthorized().json(json!({"error": "missing or wrong admin token"})))
    }
}

/// Runs `route` on the blocking pool with a lease on a connection (given back while a third
/// party answers), and turns a refusal into its status and `{"error": …}`.
async fn execute(
    state: web::Data<AppState>,
    route: &'static AdminRoute,
    call: AdminCall,
) -> (StatusCode, Value) {
    let outcome = web::block(move || {
        let mut lease = Lease::new(&state.db);
        (route.op)(&state, &mut lease, &call)
    })
    .await
    .unwrap_or_else(|e| Err(fault(e)));
    match outcome {
        Ok(answer) => answer,
        Err(refusal) => (refusal.status(), json!({"error": refusal.to_string()})),
    }
}

/// The query string as a map (a malformed one is a 400).
fn query_map(query: &str) -> Result<HashMap<String, String>, Refusal> {
    web::Query::<HashMap<String, String>>::from_query(query)
        .map(web::Query::into_inner)
        .map_err(|e| Refusal::BadRequest(format!("query: {e}")))
}

/// Registers the admin routes, one resource per path with a route per method.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let mut paths: Vec<&'static str> = ROUTES.iter().map(|r| r.path).collect();
    paths.dedup();
    for path in paths {
        let mut resource = web::resource(format!("/admin{path}"));
        for route in ROUTES.iter().filter(|r| r.path == path) {
            let method = Method::from_bytes(route.method.as_bytes()).unwrap_or(Method::GET);
            resource = resource.route(web::method(method).to(
                move |_: AdminAuth,
                      req: HttpRequest,
                      body: web::Bytes,
                      state: web::Data<AppState>| {
                    serve(route, req, body, state)
                },
            ));
        }
        cfg.service(resource);
    }
}

async fn serve(
    route: &'static AdminRoute,
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    let params = req.match_info().iter();
    let (status, value) = dispatch(state, route, params, req.query_string(), body.to_vec()).await;
    HttpResponse::build(status).json(value)
}

/// Runs `route` with the path parameters, query string and body of a request.
async fn dispatch<'a>(
    state: web::Data<AppState>,
    route: &'static AdminRoute,
    params: impl Iterator<Item = (&'a str, &'a str)>,
    query: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let query = match query_map(query) {
        Ok(q) => q,
        Err(r) => return (r.status(), json!({"error": r.to_string()})),
    };
    let call = AdminCall {
        params: params.map(|(k, v)| (k.to_owned(), v.to_owned())).collect(),
        query,
        body,
    };
    execute(state, route, call).await
}

/// Runs one admin request without a server (for `cashloan admin`): the same table, operations
/// and answers as over HTTP, the token check aside (whoever holds the database holds the data).
pub async fn call(
    state: web::Data<AppState>,
    method: &str,
    target: &str,
    body: String,
) -> (StatusCode, Value) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut path_allowed = false;
    for route in ROUTES {
        let mut captured = Path::new(path.to_owned());
        if !ResourceDef::new(format!("/admin{}", route.path)).capture_match_info(&mut captured) {
            continue;
        }
        path_allowed = true;
        if !route.method.eq_ignore_ascii_case(method) {
            continue;
        }
        return dispatch(state, route, captured.iter(), query, body.into_bytes()).await;
    }
    if path_allowed {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            json!({"error": format!("{method} is not allowed on {path}")}),
        )
    } else {
        (StatusCode::NOT_FOUND, json!({"error": "no such endpoint"}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call_with(body: &str) -> AdminCall {
        AdminCall {
            params: vec![("id".into(), "a1".into())],
            query: HashMap::from([("page".into(), "x".into())]),
            body: body.as_bytes().to_vec(),
        }
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Probe {
        reply_amount: Option<String>,
        auth_term_count: Option<i64>,
    }

    #[test]
    fn bodies_name_the_member_that_is_wrong() {
        let e = call_with(r#"{"replyAmount": 5}"#)
            .body::<Probe>()
            .unwrap_err();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert!(
            e.to_string().starts_with("replyAmount: invalid type"),
            "{e}"
        );
        let e = call_with("[1]").body::<Probe>().unwrap_err();
        assert_eq!(e.to_string(), "body must be a JSON object");
        let p = call_with("  ").body::<Probe>().unwrap();
        assert!(p.reply_amount.is_none());
    }

    #[test]
    fn params_and_numbers() {
        let c = call_with("");
        assert_eq!(c.param("id"), "a1");
        assert_eq!(c.number("size", 20, 1..=100).unwrap(), 20);
        assert_eq!(
            c.number("page", 1, 1..=9).unwrap_err().to_string(),
            "page must be 1..9"
        );
    }

    #[test]
    fn every_route_path_is_well_formed_and_unique_per_method() {
        let mut seen = std::collections::HashSet::new();
        for r in ROUTES {
            assert!(r.path.starts_with('/'), "{}", r.path);
            assert!(seen.insert((r.method, r.path)), "{} {}", r.method, r.path);
            assert!(Method::from_bytes(r.method.as_bytes()).is_ok());
        }
        // Paths of one resource are adjacent, so configure() registers each path once.
        let paths: Vec<_> = ROUTES.iter().map(|r| r.path).collect();
        let mut deduped = paths.clone();
        deduped.dedup();
        let unique: std::collections::HashSet<_> = paths.iter().collect();
        assert_eq!(deduped.len(), unique.len());
    }
}
