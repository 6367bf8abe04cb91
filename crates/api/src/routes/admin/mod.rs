//! The operators' API under `/admin`: review, approve, reject and disburse applications, keep
//! products, the blacklist, credit, system messages, releases and the business date, run the
//! daily job, manage operators and read the audit trail. JSON in and out, never signed with the
//! app key.
//!
//! Every request names who makes it ([`access`]): an operator's session (`POST /admin/login`,
//! then `Authorization: Bearer op_…`), or the bootstrap `CASHLOAN_ADMIN_TOKEN`, which acts as
//! the operator `system` with the admin role. Each route says what it asks of the caller's role
//! ([`access::Need`]); every route that is not a read is recorded in the audit trail with the
//! state of what it touched before and after ([`audit`]). A disbursement and a product change
//! are proposals that another operator confirms ([`proposals`]).
//!
//! One table, [`ROUTES`], says what each path does. The HTTP server registers it; `cashloan
//! admin` dispatches through the same table without a server, as `system` ([`call`]);
//! docs/openapi.json describes it.

pub mod access;
mod applications;
mod audit;
mod collection;
mod dashboard;
mod offline;
mod operators;
mod payments;
mod products;
mod proposals;
mod site;
mod users;

use std::collections::HashMap;

use actix_web::dev::{Path, ResourceDef};
use actix_web::http::{Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use cashloan_domain::Money;
use cashloan_persistence::DbError;
use chrono::NaiveDate;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

use crate::context::{AppState, Lease};
use access::{Actor, Need};
use audit::Audited;

pub use site::report_json;

/// Why an admin request was not done; each kind is one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// 400: the body or query is not what the endpoint reads (the message names the member).
    #[error("{0}")]
    BadRequest(String),
    /// 401: no operator signed in, or the session has ended.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the caller's role may not, or switched off by configuration.
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
            Refusal::Unauthorized(_) => StatusCode::UNAUTHORIZED,
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
    /// Who makes it (for a sign-in, nobody yet: [`Actor::anonymous`]).
    actor: Actor,
}

impl AdminCall {
    /// The same call, as `actor`, on `params` with `body` (a confirmed proposal carried out).
    fn redirected(&self, params: Vec<(String, String)>, body: Vec<u8>, actor: Actor) -> AdminCall {
        AdminCall {
            params,
            query: HashMap::new(),
            body,
            actor,
        }
    }

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
    /// What it asks of the caller's role.
    pub need: Need,
    /// How it is recorded in the audit trail (every route that is not a read is).
    pub audit: Option<Audited>,
    op: Operation,
}

macro_rules! admin_route {
    (
        $method:literal,
        $path:literal,
        $summary:literal,
        $body:expr,
        $answer:expr,
        $need:ident,
        $audit:expr,
        $op:path
    ) => {
        AdminRoute {
            method: $method,
            path: $path,
            summary: $summary,
            body: $body,
            answer: $answer,
            need: Need::$need,
            audit: $audit,
            op: $op,
        }
    };
}

/// How a route's actions are filed in the audit trail.
const fn audited(
    action: &'static str,
    entity: &'static str,
    id: Option<&'static str>,
    snapshot: Option<audit::Snapshot>,
) -> Option<Audited> {
    Some(Audited {
        action,
        entity,
        id,
        snapshot,
        keep_answer: false,
    })
}

/// Like [`audited`], with the answer kept as the state after (a run's counts).
const fn audited_answer(action: &'static str, entity: &'static str) -> Option<Audited> {
    Some(Audited {
        action,
        entity,
        id: None,
        snapshot: None,
        keep_answer: true,
    })
}

/// Every admin endpoint.
pub static ROUTES: &[AdminRoute] = &[
    admin_route!(
        "POST",
        "/login",
        "Sign an operator in: the session's token (Bearer op_…) and CSRF token",
        Some("LoginBody"),
        None,
        Public,
        audited("operator.login", "operator", None, None),
        access::login
    ),
    admin_route!(
        "POST",
        "/logout",
        "End the caller's session",
        None,
        None,
        Anyone,
        audited("operator.logout", "operator", None, None),
        access::logout
    ),
    admin_route!(
        "GET",
        "/me",
        "Who the caller is, and their role",
        None,
        None,
        Anyone,
        None,
        access::me
    ),
    admin_route!(
        "GET",
        "/operators",
        "Every operator",
        None,
        None,
        Admin,
        None,
        operators::list
    ),
    admin_route!(
        "POST",
        "/operators",
        "Add an operator with a role and a password",
        Some("OperatorBody"),
        None,
        Admin,
        audited("operator.add", "operator", None, None),
        operators::add
    ),
    admin_route!(
        "PUT",
        "/operators/{name}/status",
        "Disable an operator (their sessions end) or enable them again",
        Some("OperatorStatusBody"),
        None,
        Admin,
        audited(
            "operator.status",
            "operator",
            Some("name"),
            Some(audit::operator)
        ),
        operators::status
    ),
    admin_route!(
        "PUT",
        "/operators/{name}/password",
        "Set an operator's password (their sessions end)",
        Some("OperatorPasswordBody"),
        None,
        Admin,
        audited("operator.password", "operator", Some("name"), None),
        operators::password
    ),
    admin_route!(
        "GET",
        "/applications",
        "Applications, newest first (?status=0..5&mobile=&loanCode=&from=&to=&page=&size=)",
        None,
        None,
        Read,
        None,
        applications::list
    ),
    admin_route!(
        "GET",
        "/applications/{id}",
        "One application: its terms, plan (or the plan it was quoted), the borrower's messages",
        None,
        None,
        ReadCollection,
        None,
        applications::detail
    ),
    admin_route!(
        "POST",
        "/applications/{id}/review",
        "Start the review (0 → 1)",
        None,
        Some("ApplicationView"),
        Review,
        audited(
            "application.review",
            "application",
            Some("id"),
            Some(audit::application)
        ),
        applications::review
    ),
    admin_route!(
        "POST",
        "/applications/{id}/approve",
        "Approve (1 → 2), for at most the amount and term asked",
        Some("ApproveBody"),
        Some("ApplicationView"),
        Review,
        audited(
            "application.approve",
            "application",
            Some("id"),
            Some(audit::application)
        ),
        applications::approve
    ),
    admin_route!(
        "POST",
        "/applications/{id}/reject",
        "Reject (1 → 3) with a reason",
        Some("RejectBody"),
        Some("ApplicationView"),
        Review,
        audited(
            "application.reject",
            "application",
            Some("id"),
            Some(audit::application)
        ),
        applications::reject
    ),
    admin_route!(
        "POST",
        "/applications/{id}/disburse",
        "Propose the payout (放款); it is done when another operator confirms the proposal",
        None,
        Some("ProposalAnswer"),
        Pay,
        audited(
            "disbursement.propose",
            "application",
            Some("id"),
            Some(audit::application)
        ),
        applications::propose_disbursement
    ),
    admin_route!(
        "GET",
        "/applications/{id}/ledger",
        "Every money movement of the loan, and its sums",
        None,
        None,
        ReadCollection,
        None,
        applications::ledger
    ),
    admin_route!(
        "GET",
        "/applications/{id}/borrower",
        "The borrower: identity, card and mobile masked, standing and credit",
        None,
        None,
        ReadCollection,
        None,
        applications::borrower
    ),
    admin_route!(
        "POST",
        "/applications/{id}/borrower/reveal",
        "The borrower's personal data in full (an audited action)",
        None,
        None,
        ReadCollection,
        audited("borrower.reveal", "application", Some("id"), None),
        applications::reveal
    ),
    admin_route!(
        "GET",
        "/applications/{id}/offline-repayments/quote",
        "What the loan owes for an offline repayment on a day (?repayType=current|all&date=), allocated",
        None,
        None,
        Read,
        None,
        offline::quote
    ),
    admin_route!(
        "POST",
        "/applications/{id}/offline-repayments",
        "Propose recording a repayment received outside the channel (线下还款); a second finance operator confirms",
        Some("OfflineRepaymentBody"),
        Some("ProposalAnswer"),
        Pay,
        audited("offline_repayment.propose", "application", Some("id"), Some(audit::application)),
        offline::propose
    ),
    admin_route!(
        "GET",
        "/collection",
        "Overdue loans by bucket (?bucket=M1|M2|M3|M3+&collector=&page=&size=); a collector sees their own",
        None,
        None,
        ReadCollection,
        None,
        collection::queue
    ),
    admin_route!(
        "POST",
        "/collection/assign",
        "Assign overdue loans to collectors: one loan to one collector, or every unassigned loan of a bucket evenly",
        Some("AssignBody"),
        None,
        Admin,
        audited_answer("collection.assign", "collection"),
        collection::assign
    ),
    admin_route!(
        "GET",
        "/applications/{id}/notes",
        "The collection notes of a loan, newest first",
        None,
        None,
        ReadCollection,
        None,
        collection::notes
    ),
    admin_route!(
        "POST",
        "/applications/{id}/notes",
        "Write a collection note (method, result, promise-to-pay date and amount)",
        Some("NoteBody"),
        None,
        Collect,
        audited("collection.note", "application", Some("id"), None),
        collection::add_note
    ),
    admin_route!(
        "GET",
        "/dashboard",
        "The overview (概览): applications, approvals, money out and in, overdue by bucket, the last 30 days",
        None,
        None,
        Read,
        None,
        dashboard::overview
    ),
    admin_route!(
        "GET",
        "/proposals",
        "Proposals awaiting a second operator, or decided (?status=&kind=&entityId=)",
        None,
        None,
        Read,
        None,
        proposals::list
    ),
    admin_route!(
        "POST",
        "/proposals/{id}/confirm",
        "Confirm another operator's proposal: it is carried out now, as the confirmer",
        None,
        None,
        Anyone,
        audited(
            "proposal.confirm",
            "proposal",
            Some("id"),
            Some(audit::proposal)
        ),
        proposals::confirm
    ),
    admin_route!(
        "POST",
        "/proposals/{id}/cancel",
        "Withdraw a proposal (its proposer, or an admin)",
        None,
        Some("ProposalView"),
        Anyone,
        audited(
            "proposal.cancel",
            "proposal",
            Some("id"),
            Some(audit::proposal)
        ),
        proposals::cancel
    ),
    admin_route!(
        "GET",
        "/payments",
        "Payment orders, newest first (?status=&applicationId=&page=&size=)",
        None,
        None,
        Read,
        None,
        payments::list
    ),
    admin_route!(
        "POST",
        "/payments/{id}/resolve",
        "Settle a stuck payment order by hand",
        Some("ResolveBody"),
        Some("OrderView"),
        Pay,
        audited(
            "payment.resolve",
            "payment",
            Some("id"),
            Some(audit::payment)
        ),
        payments::resolve
    ),
    admin_route!(
        "GET",
        "/products",
        "Every product",
        None,
        None,
        Read,
        None,
        products::list
    ),
    admin_route!(
        "POST",
        "/products",
        "Propose a new product (§21's member names); made when another admin confirms",
        Some("ProductBody"),
        Some("ProposalAnswer"),
        Admin,
        audited("product.propose", "product", None, None),
        products::propose_create
    ),
    admin_route!(
        "GET",
        "/products/{id}",
        "One product in §21's member names, every member (what PUT takes to leave it as it is)",
        None,
        Some("ProductBody"),
        Read,
        None,
        products::get
    ),
    admin_route!(
        "PUT",
        "/products/{id}",
        "Propose replacing a product; replaced when another admin confirms",
        Some("ProductBody"),
        Some("ProposalAnswer"),
        Admin,
        audited(
            "product.propose",
            "product",
            Some("id"),
            Some(audit::product)
        ),
        products::propose_replace
    ),
    admin_route!(
        "POST",
        "/users/{mobile}/blacklist",
        "Blacklist a mobile",
        Some("BlacklistBody"),
        None,
        Admin,
        audited("user.blacklist", "user", Some("mobile"), Some(audit::user)),
        users::blacklist
    ),
    admin_route!(
        "DELETE",
        "/users/{mobile}/blacklist",
        "Take a mobile off the blacklist",
        None,
        None,
        Admin,
        audited(
            "user.unblacklist",
            "user",
            Some("mobile"),
            Some(audit::user)
        ),
        users::unblacklist
    ),
    admin_route!(
        "PUT",
        "/users/{mobile}/credit",
        "Set a borrower's total credit",
        Some("CreditBody"),
        None,
        Admin,
        audited("user.credit", "user", Some("mobile"), Some(audit::user)),
        users::credit
    ),
    admin_route!(
        "PUT",
        "/users/{mobile}/status",
        "Disable a borrower or flag the risk",
        Some("UserStatusBody"),
        None,
        Admin,
        audited("user.status", "user", Some("mobile"), Some(audit::user)),
        users::status
    ),
    admin_route!(
        "POST",
        "/system-messages",
        "Publish a system message (§25)",
        Some("SystemMessageBody"),
        None,
        Admin,
        audited("system_message.publish", "system_message", None, None),
        site::system_message
    ),
    admin_route!(
        "POST",
        "/app-versions",
        "Publish an app release (§17)",
        Some("AppVersionBody"),
        None,
        Admin,
        audited("app_version.publish", "app_version", None, None),
        site::app_version
    ),
    admin_route!(
        "GET",
        "/business-date",
        "Today's business date",
        None,
        None,
        Read,
        None,
        site::get_business_date
    ),
    admin_route!(
        "POST",
        "/business-date",
        "Set the business date (when overrides are allowed)",
        Some("BusinessDateBody"),
        None,
        Admin,
        audited(
            "business_date.set",
            "business_date",
            None,
            Some(audit::business_date)
        ),
        site::set_business_date
    ),
    admin_route!(
        "POST",
        "/batch/daily",
        "Run the daily job",
        Some("DailyBody"),
        None,
        Admin,
        audited_answer("daily_job.run", "daily_job"),
        site::daily
    ),
    admin_route!(
        "GET",
        "/audit",
        "The audit trail, newest first (?operator=&entity=&entityId=&from=&to=&page=&size=)",
        None,
        None,
        Admin,
        None,
        audit::list
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
        named::<access::LoginBody>(),
        named::<operators::OperatorBody>(),
        named::<operators::OperatorStatusBody>(),
        named::<operators::OperatorPasswordBody>(),
        named::<proposals::ProposalView>(),
        named::<proposals::ProposalAnswer>(),
        named::<offline::OfflineRepaymentBody>(),
        named::<collection::AssignBody>(),
        named::<collection::NoteBody>(),
    ]
}

/// The outcome of a route as HTTP status and body (a refusal as `{"error": …}`).
fn answered(outcome: Answer) -> (StatusCode, Value) {
    match outcome {
        Ok(answer) => answer,
        Err(refusal) => (refusal.status(), json!({"error": refusal.to_string()})),
    }
}

/// Who asks, from where, before the call is read.
struct Caller {
    /// The bearer token (or the console's cookie token), if any.
    token: Option<String>,
    /// The client's address.
    address: String,
    /// `cashloan admin` on the command line: `system`, with no token.
    local: bool,
    /// The console's form token, which must be the session's CSRF token (console posts only).
    csrf: Option<String>,
}

/// Runs `route` on the blocking pool: who is calling (401), whether their role may (403), then
/// the operation with a lease on a connection (given back while a third party answers), and the
/// audit record of what was done.
async fn execute(
    state: web::Data<AppState>,
    route: &'static AdminRoute,
    caller: Caller,
    call: PendingCall,
) -> (StatusCode, Value) {
    web::block(move || {
        let mut lease = Lease::new(&state.db);
        answered(run(&state, &mut lease, route, caller, call))
    })
    .await
    .unwrap_or_else(|e| answered(Err(fault(e))))
}

/// A call whose caller is not known yet.
struct PendingCall {
    params: Vec<(String, String)>,
    query: HashMap<String, String>,
    body: Vec<u8>,
}

fn run(
    st: &AppState,
    lease: &mut Lease<'_>,
    route: &'static AdminRoute,
    caller: Caller,
    pending: PendingCall,
) -> Answer {
    let actor = if caller.local {
        Actor::system(&caller.address)
    } else if route.need == Need::Public {
        Actor::anonymous(&caller.address)
    } else {
        let credential = access::credential(st, caller.token.as_deref());
        access::actor(st, lease, &credential, &caller.address)?
    };
    if let Some(given) = &caller.csrf {
        if !access::csrf_matches(&actor, given) {
            return Err(Refusal::Forbidden(
                "the form is stale or not from this console: reload the page".into(),
            ));
        }
    }
    let call = AdminCall {
        params: pending.params,
        query: pending.query,
        body: pending.body,
        actor,
    };
    let Some(audited) = &route.audit else {
        return permitted(route, &call).and_then(|()| (route.op)(st, lease, &call));
    };
    let before = match (permitted(route, &call), audited.snapshot) {
        (Err(refused), _) => {
            audit::record(
                st,
                lease,
                audited,
                &call,
                refused.status().as_u16(),
                None,
                None,
            );
            return Err(refused);
        }
        (Ok(()), Some(snapshot)) => snapshot(st, lease, &call)?,
        (Ok(()), None) => None,
    };
    let outcome = (route.op)(st, lease, &call);
    let status = match &outcome {
        Ok((status, _)) => *status,
        Err(refusal) => refusal.status(),
    };
    let after = match (audited.snapshot, &outcome) {
        (Some(snapshot), _) => snapshot(st, lease, &call).unwrap_or(None),
        (None, Ok((_, answer))) if audited.keep_answer => Some(answer.clone()),
        (None, _) => None,
    };
    audit::record(
        st,
        lease,
        audited,
        &call,
        status.as_u16(),
        before.as_ref(),
        after.as_ref(),
    );
    outcome
}

/// Whether the caller's role lets them take `route` (403 otherwise).
fn permitted(route: &AdminRoute, call: &AdminCall) -> Result<(), Refusal> {
    if route.need.allows(call.actor.role) {
        Ok(())
    } else {
        Err(Refusal::Forbidden(format!(
            "the role {} may not {} {}",
            call.actor.role.as_str(),
            route.method,
            route.path
        )))
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
                move |req: HttpRequest, body: web::Bytes, state: web::Data<AppState>| {
                    serve(route, req, body, state)
                },
            ));
        }
        cfg.service(resource);
    }
}

/// The bearer token of a request, if any.
fn bearer(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned)
}

/// The client's address of a request (behind a trusted proxy, the address it forwarded).
pub(crate) fn request_address(req: &HttpRequest, state: &AppState) -> String {
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    crate::client_address::client_address(req.peer_addr(), &forwarded, &state.trusted_proxies)
}

async fn serve(
    route: &'static AdminRoute,
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    let caller = Caller {
        token: bearer(&req),
        address: request_address(&req, &state),
        local: false,
        csrf: None,
    };
    let params = req.match_info().iter();
    let (status, value) = dispatch(
        state,
        route,
        caller,
        params,
        req.query_string(),
        body.to_vec(),
    )
    .await;
    HttpResponse::build(status).json(value)
}

/// Runs `route` with the path parameters, query string and body of a request.
async fn dispatch<'a>(
    state: web::Data<AppState>,
    route: &'static AdminRoute,
    caller: Caller,
    params: impl Iterator<Item = (&'a str, &'a str)>,
    query: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let query = match query_map(query) {
        Ok(q) => q,
        Err(r) => return answered(Err(r)),
    };
    let call = PendingCall {
        params: params.map(|(k, v)| (k.to_owned(), v.to_owned())).collect(),
        query,
        body,
    };
    execute(state, route, caller, call).await
}

/// Runs one admin request without a server (for `cashloan admin` and `cashloan operator`): the
/// same table, operations, role rules and audit records as over HTTP, as the operator `system`
/// (whoever holds the database holds the data).
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
        let caller = Caller {
            token: None,
            address: "command line".into(),
            local: true,
            csrf: None,
        };
        return dispatch(
            state,
            route,
            caller,
            captured.iter(),
            query,
            body.into_bytes(),
        )
        .await;
    }
    unmatched(method, path, path_allowed)
}

/// The answer to a path or method the table does not have.
fn unmatched(method: &str, path: &str, path_allowed: bool) -> (StatusCode, Value) {
    if path_allowed {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            json!({"error": format!("{method} is not allowed on {path}")}),
        )
    } else {
        (StatusCode::NOT_FOUND, json!({"error": "no such endpoint"}))
    }
}

/// Runs one admin request for the console, in process: `target` is a path under `/admin` with
/// its query, as the operator whose session `token` is, from `address`; `csrf` is the form's
/// token (required for what a form posts). The same table, role rules and audit as over HTTP.
pub(crate) async fn run_as(
    state: web::Data<AppState>,
    method: &str,
    target: &str,
    body: Vec<u8>,
    token: Option<String>,
    address: String,
    csrf: Option<String>,
) -> (StatusCode, Value) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let Some(path) = path.strip_prefix("/admin") else {
        return unmatched(method, path, false);
    };
    let mut path_allowed = false;
    for route in ROUTES {
        let mut captured = Path::new(path.to_owned());
        if !ResourceDef::new(route.path).capture_match_info(&mut captured) {
            continue;
        }
        path_allowed = true;
        if !route.method.eq_ignore_ascii_case(method) {
            continue;
        }
        let caller = Caller {
            token,
            address,
            local: false,
            csrf,
        };
        return dispatch(state, route, caller, captured.iter(), query, body).await;
    }
    unmatched(method, path, path_allowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call_with(body: &str) -> AdminCall {
        AdminCall {
            params: vec![("id".into(), "a1".into())],
            query: HashMap::from([("page".into(), "x".into())]),
            body: body.as_bytes().to_vec(),
            actor: Actor::system("test"),
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

    #[test]
    fn every_route_that_is_not_a_read_is_audited_and_only_the_sign_in_is_public() {
        for r in ROUTES {
            assert_eq!(
                r.method != "GET",
                r.audit.is_some(),
                "{} {}: every action, and no read, goes in the audit trail",
                r.method,
                r.path
            );
            assert_eq!(r.need == Need::Public, r.path == "/login", "{}", r.path);
        }
    }
}
