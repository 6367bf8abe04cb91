//! The operators' console (后台) at `/console`: server-rendered HTML pages and plain forms, in
//! Chinese, over the admin API. Every page reads through the admin route table in process, and
//! every form posts to it, as the signed-in operator: the role rules, maker-checker and the
//! audit trail are the API's own, so nothing here can do more than the API lets that operator
//! do.
//!
//! Safe by construction: the session cookie is `HttpOnly; SameSite=Strict` and scoped to
//! `/console`; every form carries the session's CSRF token, checked by the admin pipeline; no
//! operator action goes through GET; pages send a Content-Security-Policy that allows no script
//! at all and only the console's own stylesheet; every asset is served by the server itself.

use std::sync::LazyLock;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use minijinja::{context, Environment, Value as Jinja};
use serde_json::{json, Map, Value};

use crate::context::AppState;
use crate::routes::admin::{request_address, run_as};

/// The console's session cookie.
const COOKIE: &str = "cashloan_console";

/// What every console page may load: its own stylesheet, nothing else; no script at all.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

/// The stylesheet.
const CSS: &str = include_str!("console.css");

/// The templates, compiled into the binary. HTML is escaped in every one of them.
static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, text) in [
        ("base.html", include_str!("templates/base.html")),
        ("login.html", include_str!("templates/login.html")),
        ("dashboard.html", include_str!("templates/dashboard.html")),
        ("review.html", include_str!("templates/review.html")),
        ("payouts.html", include_str!("templates/payouts.html")),
        ("loans.html", include_str!("templates/loans.html")),
        ("detail.html", include_str!("templates/detail.html")),
        ("collection.html", include_str!("templates/collection.html")),
        ("proposals.html", include_str!("templates/proposals.html")),
        ("payments.html", include_str!("templates/payments.html")),
        ("system.html", include_str!("templates/system.html")),
        ("audit.html", include_str!("templates/audit.html")),
        ("denied.html", include_str!("templates/denied.html")),
        ("macros.html", include_str!("templates/macros.html")),
        ("product.html", include_str!("templates/product.html")),
    ] {
        if let Err(e) = env.add_template(name, text) {
            tracing::error!(template = name, error = %e, "a console template does not parse");
        }
    }
    env.add_filter("time", time_filter);
    env.add_filter("status_label", status_label);
    env.add_filter("urlencode", |v: String| encode(&v));
    env
});

/// `ms | time(offset_secs)`: a moment as `YYYY-MM-DD HH:MM` in the business time zone.
fn time_filter(ms: Option<i64>, offset: i32) -> String {
    let Some(ms) = ms else {
        return String::new();
    };
    use chrono::Offset;
    let zone = chrono::FixedOffset::east_opt(offset).unwrap_or_else(|| chrono::Utc.fix());
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// An `applyStatus` as operators read it.
fn status_label(code: i64) -> &'static str {
    match code {
        0 => "待审核",
        1 => "审核中",
        2 => "审核通过",
        3 => "审核拒绝",
        4 => "已放款",
        5 => "已还完",
        _ => "未知",
    }
}

/// The menu: (path, label, roles that see it).
const MENU: &[(&str, &str, &[&str])] = &[
    (
        "/console",
        "概览",
        &["admin", "reviewer", "finance", "viewer"],
    ),
    ("/console/review", "审核", &["admin", "reviewer"]),
    ("/console/payouts", "放款", &["admin", "finance"]),
    (
        "/console/loans",
        "贷款",
        &["admin", "reviewer", "finance", "viewer"],
    ),
    (
        "/console/collection",
        "催收",
        &["admin", "collector", "finance", "reviewer", "viewer"],
    ),
    ("/console/proposals", "复核", &["admin", "finance"]),
    (
        "/console/payments",
        "支付单",
        &["admin", "finance", "viewer", "reviewer"],
    ),
    ("/console/system", "系统", &["admin"]),
    ("/console/audit", "审计", &["admin"]),
];

/// Registers the console's pages, forms and stylesheet.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/console/assets/console.css").route(web::get().to(stylesheet)));
    cfg.service(
        web::resource("/console/login")
            .route(web::get().to(login_page))
            .route(web::post().to(login)),
    );
    cfg.service(web::resource("/console/logout").route(web::post().to(logout)));
    cfg.service(web::resource("/console/start").route(web::get().to(start)));
    cfg.service(web::resource("/console/act").route(web::post().to(act)));
    cfg.service(web::resource("/console/applications/{id}/reveal").route(web::post().to(reveal)));
    cfg.service(web::resource("/console/applications/{id}").route(web::get().to(detail)));
    cfg.service(web::resource("/console/products/{id}").route(web::get().to(product)));
    for page in [
        "/console",
        "/console/review",
        "/console/payouts",
        "/console/loans",
        "/console/collection",
        "/console/proposals",
        "/console/payments",
        "/console/system",
        "/console/audit",
    ] {
        cfg.service(
            web::resource(page).route(web::get().to(move |req, state| show(page, req, state))),
        );
    }
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "max-age=3600"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(CSS)
}

/// A page: the headers every console page has.
fn page(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

/// Renders `template` with `ctx`; a template that fails is logged and answered as 500.
fn render(template: &str, ctx: Jinja) -> HttpResponse {
    match TEMPLATES.get_template(template).and_then(|t| t.render(ctx)) {
        Ok(html) => page(StatusCode::OK, html),
        Err(e) => {
            tracing::error!(template, error = %e, "a console page could not be rendered");
            page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "<!doctype html><meta charset=utf-8><title>错误</title><p>页面出错，详见服务器日志。"
                    .into(),
            )
        }
    }
}

/// A redirect (303: the browser follows it with GET).
fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// The session cookie carrying `token` (empty and expired: signed out).
fn session_cookie(req: &HttpRequest, token: &str) -> Cookie<'static> {
    let mut c = Cookie::build(COOKIE, token.to_owned())
        .path("/console")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(req.connection_info().scheme() == "https")
        .finish();
    if token.is_empty() {
        c.make_removal();
    }
    c
}

/// The operator's session token, from the cookie.
fn token(req: &HttpRequest) -> Option<String> {
    req.cookie(COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|t| !t.is_empty())
}

/// One signed-in operator's view of the admin API.
struct Operator {
    state: web::Data<AppState>,
    token: String,
    address: String,
    me: Value,
}

impl Operator {
    /// The operator of the request's cookie, or `None` (signed out, or the session ended).
    async fn of(req: &HttpRequest, state: &web::Data<AppState>) -> Option<Operator> {
        let token = token(req)?;
        let address = request_address(req, state);
        let (status, me) = run_as(
            state.clone(),
            "GET",
            "/admin/me",
            Vec::new(),
            Some(token.clone()),
            address.clone(),
            None,
        )
        .await;
        (status == StatusCode::OK).then(|| Operator {
            state: state.clone(),
            token,
            address,
            me,
        })
    }

    /// `GET` an admin path: its status and JSON.
    async fn get(&self, target: &str) -> (StatusCode, Value) {
        run_as(
            self.state.clone(),
            "GET",
            target,
            Vec::new(),
            Some(self.token.clone()),
            self.address.clone(),
            None,
        )
        .await
    }

    /// `GET` an admin path: its JSON, or `null` when refused.
    async fn read(&self, target: &str) -> Value {
        match self.get(target).await {
            (StatusCode::OK, v) => v,
            _ => Value::Null,
        }
    }

    fn role(&self) -> &str {
        self.me["role"].as_str().unwrap_or("")
    }

    /// The context every page has: who, the menu, the form token, the flash message.
    fn base(&self, req: &HttpRequest, current: &str) -> Value {
        let role = self.role().to_owned();
        let menu: Vec<Value> = MENU
            .iter()
            .filter(|(_, _, roles)| roles.contains(&role.as_str()))
            .map(|(path, label, _)| json!({"path": path, "label": label, "current": *path == current}))
            .collect();
        let query =
            web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
                .map(web::Query::into_inner)
                .unwrap_or_default();
        json!({
            "me": self.me,
            "csrf": self.me["csrfToken"],
            "menu": menu,
            "flash": query.get("flash"),
            "flash_ok": query.get("ok").map(|v| v == "1"),
            "tz": self.state.zone.local_minus_utc(),
            "back": current_url(req),
        })
    }
}

/// The request's path and query (where a form sends the operator back to).
fn current_url(req: &HttpRequest) -> String {
    let query = strip_flash(req.query_string());
    if query.is_empty() {
        req.path().to_owned()
    } else {
        format!("{}?{query}", req.path())
    }
}

/// A query string without the flash message.
fn strip_flash(query: &str) -> String {
    query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("flash=") && !p.starts_with("ok="))
        .collect::<Vec<_>>()
        .join("&")
}

/// Merges `extra` into the page context `base`.
fn with(mut base: Value, extra: Value) -> Jinja {
    if let (Value::Object(b), Value::Object(e)) = (&mut base, extra) {
        b.extend(e);
    }
    Jinja::from_serialize(&base)
}

/// A query parameter of the request (empty when absent).
fn param(req: &HttpRequest, name: &str) -> String {
    web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.get(name).cloned())
        .unwrap_or_default()
}

/// `encodeURIComponent` for a query value.
fn encode(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

async fn login_page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    if Operator::of(&req, &state).await.is_some() {
        return see_other("/console");
    }
    render(
        "login.html",
        context! { error => Option::<String>::None, username => "" },
    )
}

/// The login form's fields.
#[derive(serde::Deserialize)]
struct LoginForm {
    username: String,
    password: String,
}

async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<LoginForm>,
) -> HttpResponse {
    let body = json!({"username": form.username, "password": form.password}).to_string();
    let address = request_address(&req, &state);
    let (status, answer) = run_as(
        state.clone(),
        "POST",
        "/admin/login",
        body.into_bytes(),
        None,
        address,
        None,
    )
    .await;
    match answer["token"].as_str() {
        Some(token) if status == StatusCode::OK => {
            let mut res = see_other("/console/start");
            let _ = res.add_cookie(&session_cookie(&req, token));
            res
        }
        _ => {
            let error = answer["error"].as_str().unwrap_or("登录失败").to_owned();
            let mut res = render(
                "login.html",
                context! { error => "用户名或密码错误，或账号已锁定、停用", detail => error, username => form.username.clone() },
            );
            *res.status_mut() = StatusCode::UNAUTHORIZED;
            res
        }
    }
}

/// The form posts' fields: where to go back, the token, and the admin call.
type FormFields = Vec<(String, String)>;

fn field<'a>(fields: &'a FormFields, name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Where a form sends the operator back: a console path, never elsewhere.
fn back_to(fields: &FormFields) -> String {
    field(fields, "_back")
        .filter(|b| b.starts_with("/console") && !b.starts_with("//") && !b.contains("://"))
        .unwrap_or("/console")
        .to_owned()
}

async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<FormFields>,
) -> HttpResponse {
    if let Some(op) = Operator::of(&req, &state).await {
        let _ = run_as(
            state.clone(),
            "POST",
            "/admin/logout",
            Vec::new(),
            Some(op.token),
            op.address,
            Some(field(&form, "_csrf").unwrap_or("").to_owned()),
        )
        .await;
    }
    let mut res = see_other("/console/login");
    let _ = res.add_cookie(&session_cookie(&req, ""));
    res
}

/// Members of admin bodies that are not text.
const NUMBERS: &[&str] = &["authTermCount", "displayOrder"];
const FLAGS: &[&str] = &["disabled", "risk", "onSale"];
const LISTS: &[&str] = &["collectors"];

/// The JSON body of a form: every field not starting with `_`, empty ones left out, typed where
/// the admin body wants a number, a flag or a list.
fn json_body(fields: &FormFields) -> Value {
    let mut body = Map::new();
    for (k, v) in fields {
        let v = v.trim();
        if k.starts_with('_') || v.is_empty() {
            continue;
        }
        let value = if NUMBERS.contains(&k.as_str()) {
            v.parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::from(v))
        } else if FLAGS.contains(&k.as_str()) {
            Value::Bool(v == "true" || v == "1")
        } else if LISTS.contains(&k.as_str()) {
            Value::Array(
                v.split([',', '，', ' '])
                    .filter(|s| !s.is_empty())
                    .map(Value::from)
                    .collect(),
            )
        } else {
            Value::from(v)
        };
        body.insert(k.clone(), value);
    }
    Value::Object(body)
}

/// What a form's action answered, in the words the console shows.
fn outcome_message(status: StatusCode, answer: &Value) -> (bool, String) {
    if status.is_success() {
        let text = match status {
            StatusCode::ACCEPTED if answer.get("proposal").is_some() => {
                "已提交，等待另一位操作员确认".to_owned()
            }
            StatusCode::ACCEPTED => "已提交，支付通道处理中".to_owned(),
            _ if answer.get("markedOverdue").is_some() => format!(
                "操作成功：{} 日终完成，检查 {} 期，标记逾期 {}，计罚息 {}，还款提醒 {}，逾期通知 {}",
                answer["date"].as_str().unwrap_or(""),
                answer["lookedAt"],
                answer["markedOverdue"],
                answer["penaltiesAccrued"],
                answer["reminders"],
                answer["overdueMessages"]
            ),
            _ => "操作成功".to_owned(),
        };
        (true, text)
    } else {
        let why = answer["error"].as_str().unwrap_or("操作失败");
        (false, format!("操作失败（{}）：{why}", status.as_u16()))
    }
}

/// `POST /console/act`: a form's admin call (`_method`, `_path`), as the signed-in operator,
/// with the form's CSRF token; then back to the page with what happened.
async fn act(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<FormFields>,
) -> HttpResponse {
    let Some(op) = Operator::of(&req, &state).await else {
        return see_other("/console/login");
    };
    let back = back_to(&form);
    let method = field(&form, "_method")
        .unwrap_or("POST")
        .to_ascii_uppercase();
    let Some(path) = action_path(&form) else {
        return see_other(&flash(&back, false, "无效的操作"));
    };
    if method == "GET" {
        return see_other(&flash(&back, false, "无效的操作"));
    }
    let body = json_body(&form).to_string();
    let (status, answer) = run_as(
        state.clone(),
        &method,
        &format!("/admin{path}"),
        body.into_bytes(),
        Some(op.token.clone()),
        op.address.clone(),
        Some(field(&form, "_csrf").unwrap_or("").to_owned()),
    )
    .await;
    let (ok, message) = outcome_message(status, &answer);
    see_other(&flash(&back, ok, &message))
}

/// The admin path a form posts to: `_path`, its `{name}` parts filled from the fields `_name`
/// (encoded, so a field cannot change the path's shape).
fn action_path(fields: &FormFields) -> Option<String> {
    let mut path = field(fields, "_path")?.to_owned();
    if !path.starts_with('/') || path.contains("..") || path.contains('?') {
        return None;
    }
    while let Some(start) = path.find('{') {
        let end = start + path[start..].find('}')?;
        let name = &path[start + 1..end];
        let value = field(fields, &format!("_{name}"))?.trim();
        if value.is_empty() {
            return None;
        }
        path = format!("{}{}{}", &path[..start], encode(value), &path[end + 1..]);
    }
    Some(path)
}

/// `back` with the flash message.
fn flash(back: &str, ok: bool, message: &str) -> String {
    let (path, query) = back.split_once('?').unwrap_or((back, ""));
    let query = strip_flash(query);
    let sep = if query.is_empty() { "?" } else { "&" };
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    format!(
        "{path}{query}{sep}ok={}&flash={}",
        u8::from(ok),
        encode(message)
    )
}

/// A page that needs a signed-in operator.
async fn show(name: &'static str, req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let Some(op) = Operator::of(&req, &state).await else {
        return see_other("/console/login");
    };
    let base = op.base(&req, name);
    match name {
        "/console" => dashboard(&op, base).await,
        "/console/review" => review(&op, base).await,
        "/console/payouts" => payouts(&op, base).await,
        "/console/loans" => loans(&op, &req, base).await,
        "/console/collection" => collection(&op, &req, base).await,
        "/console/proposals" => proposals(&op, base).await,
        "/console/payments" => payments(&op, &req, base).await,
        "/console/system" => system(&op, base).await,
        "/console/audit" => audit(&op, &req, base).await,
        _ => render("denied.html", with(base, json!({}))),
    }
}

/// The first page after signing in: the collector's queue, or the overview.
async fn start(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    match Operator::of(&req, &state).await {
        None => see_other("/console/login"),
        Some(op) if op.role() == "collector" => see_other("/console/collection"),
        Some(_) => see_other("/console"),
    }
}

/// A page the role may not see.
fn denied(base: Value) -> HttpResponse {
    let mut res = render("denied.html", with(base, json!({})));
    *res.status_mut() = StatusCode::FORBIDDEN;
    res
}

async fn dashboard(op: &Operator, base: Value) -> HttpResponse {
    let (status, d) = op.get("/admin/dashboard").await;
    if status != StatusCode::OK {
        return denied(base);
    }
    // The chart: a bar per day of money out and in, scaled to the largest day.
    let days = d["last30Days"].as_array().cloned().unwrap_or_default();
    let amount = |v: &Value| {
        v.as_str()
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let top = days
        .iter()
        .flat_map(|r| [amount(&r["disbursed"]), amount(&r["collected"])])
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let bars: Vec<Value> = days
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let h = |v: f64| ((v / top) * 160.0).round();
            let (out, came) = (h(amount(&r["disbursed"])), h(amount(&r["collected"])));
            json!({
                "x": 40 + i * 24,
                "out_h": out, "out_y": 180.0 - out,
                "in_h": came, "in_y": 180.0 - came,
                "date": r["date"], "label": r["date"].as_str().map(|d| d.get(5..).unwrap_or(d).to_owned()),
                "disbursed": r["disbursed"], "collected": r["collected"], "applications": r["applications"],
                "show_label": i % 5 == 0,
            })
        })
        .collect();
    render(
        "dashboard.html",
        with(
            base,
            json!({"d": d, "bars": bars, "top": format!("{top:.2}")}),
        ),
    )
}

async fn review(op: &Operator, base: Value) -> HttpResponse {
    let (status, submitted) = op.get("/admin/applications?status=0&size=100").await;
    if status != StatusCode::OK || !["admin", "reviewer"].contains(&op.role()) {
        return denied(base);
    }
    let in_review = op.read("/admin/applications?status=1&size=100").await;
    render(
        "review.html",
        with(
            base,
            json!({"submitted": submitted["items"], "in_review": in_review["items"]}),
        ),
    )
}

async fn payouts(op: &Operator, base: Value) -> HttpResponse {
    let (status, approved) = op.get("/admin/applications?status=2&size=100").await;
    if status != StatusCode::OK || !["admin", "finance"].contains(&op.role()) {
        return denied(base);
    }
    let pending = op
        .read("/admin/proposals?status=pending&kind=disbursement")
        .await;
    let open = op.read("/admin/payments?status=pending&size=100").await;
    let unknown = op.read("/admin/payments?status=unknown&size=100").await;
    let items: Vec<Value> = approved["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|mut a| {
            let proposal = pending["items"]
                .as_array()
                .and_then(|ps| ps.iter().find(|p| p["entityId"] == a["id"]).cloned());
            a["proposal"] = proposal.unwrap_or(Value::Null);
            a
        })
        .collect();
    let orders: Vec<Value> = [open["items"].clone(), unknown["items"].clone()]
        .into_iter()
        .filter_map(|v| v.as_array().cloned())
        .flatten()
        .filter(|o| o["kind"] == "payout")
        .collect();
    render(
        "payouts.html",
        with(base, json!({"items": items, "orders": orders})),
    )
}

async fn loans(op: &Operator, req: &HttpRequest, base: Value) -> HttpResponse {
    let mut query = vec!["size=50".to_owned()];
    for k in ["mobile", "loanCode", "status", "from", "to", "page"] {
        let v = param(req, k);
        if !v.is_empty() {
            query.push(format!("{k}={}", encode(&v)));
        }
    }
    let (status, found) = op
        .get(&format!("/admin/applications?{}", query.join("&")))
        .await;
    if status == StatusCode::FORBIDDEN {
        return denied(base);
    }
    let filters = json!({
        "mobile": param(req, "mobile"), "loanCode": param(req, "loanCode"),
        "status": param(req, "status"), "from": param(req, "from"), "to": param(req, "to"),
    });
    let error = (status != StatusCode::OK).then(|| found["error"].clone());
    render(
        "loans.html",
        with(
            base,
            json!({"found": found, "filters": filters, "error": error}),
        ),
    )
}

async fn detail(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    let Some(op) = Operator::of(&req, &state).await else {
        return see_other("/console/login");
    };
    let base = op.base(&req, "/console/loans");
    detail_page(&op, base, &id, None).await
}

/// The loan page, with the borrower in full when `revealed` holds them.
async fn detail_page(
    op: &Operator,
    base: Value,
    id: &str,
    revealed: Option<Value>,
) -> HttpResponse {
    let id = encode(id);
    let (status, d) = op.get(&format!("/admin/applications/{id}")).await;
    let collector = op.role() == "collector";
    if status == StatusCode::NOT_FOUND {
        let mut res = render("denied.html", with(base, json!({"missing": true})));
        *res.status_mut() = StatusCode::NOT_FOUND;
        return res;
    }
    if status != StatusCode::OK && !collector {
        return denied(base);
    }
    let borrower = match revealed {
        Some(b) => b,
        None => op.read(&format!("/admin/applications/{id}/borrower")).await,
    };
    let ledger = op.read(&format!("/admin/applications/{id}/ledger")).await;
    let orders = op
        .read(&format!("/admin/payments?applicationId={id}&size=100"))
        .await;
    let notes = op.read(&format!("/admin/applications/{id}/notes")).await;
    let proposals = op.read(&format!("/admin/proposals?entityId={id}")).await;
    let quote = op
        .read(&format!(
            "/admin/applications/{id}/offline-repayments/quote"
        ))
        .await;
    let payoff = op
        .read(&format!(
            "/admin/applications/{id}/offline-repayments/quote?repayType=all"
        ))
        .await;
    let pending: Vec<Value> = proposals["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p["status"] == "pending")
        .collect();
    render(
        "detail.html",
        with(
            base,
            json!({
                "d": d, "a": d["application"], "borrower": borrower, "ledger": ledger,
                "orders": orders["items"], "notes": notes["items"], "proposals": proposals["items"],
                "pending": pending, "quote": quote, "payoff": payoff, "id": id,
                "notes_allowed": notes.is_object(),
            }),
        ),
    )
}

/// `POST /console/applications/{id}/reveal`: the loan page with the borrower in full (the admin
/// API records who saw it).
async fn reveal(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: web::Form<FormFields>,
) -> HttpResponse {
    let Some(op) = Operator::of(&req, &state).await else {
        return see_other("/console/login");
    };
    let (status, full) = run_as(
        state.clone(),
        "POST",
        &format!("/admin/applications/{}/borrower/reveal", encode(&id)),
        Vec::new(),
        Some(op.token.clone()),
        op.address.clone(),
        Some(field(&form, "_csrf").unwrap_or("").to_owned()),
    )
    .await;
    let base = op.base(&req, "/console/loans");
    if status != StatusCode::OK {
        return see_other(&flash(
            &format!("/console/applications/{}", encode(&id)),
            false,
            full["error"].as_str().unwrap_or("无法显示"),
        ));
    }
    let mut base = base;
    base["back"] = json!(format!("/console/applications/{}", encode(&id)));
    detail_page(&op, base, &id, Some(full)).await
}

async fn collection(op: &Operator, req: &HttpRequest, base: Value) -> HttpResponse {
    let bucket = param(req, "bucket");
    let promised = param(req, "promised");
    let mut query = vec!["size=200".to_owned()];
    if !bucket.is_empty() {
        query.push(format!("bucket={}", encode(&bucket)));
    }
    if promised == "all" {
        query.push("promised=all".into());
    }
    let (status, queue) = op
        .get(&format!("/admin/collection?{}", query.join("&")))
        .await;
    if status != StatusCode::OK {
        return denied(base);
    }
    let collectors: Vec<Value> = if op.role() == "admin" {
        op.read("/admin/operators").await["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|o| o["role"] == "collector" && o["disabled"] == false)
            .collect()
    } else {
        Vec::new()
    };
    render(
        "collection.html",
        with(
            base,
            json!({"queue": queue, "bucket": bucket, "promised": promised, "collectors": collectors,
                   "buckets": ["M1", "M2", "M3", "M3+"]}),
        ),
    )
}

async fn proposals(op: &Operator, base: Value) -> HttpResponse {
    let (status, pending) = op.get("/admin/proposals?status=pending").await;
    if status != StatusCode::OK || !["admin", "finance"].contains(&op.role()) {
        return denied(base);
    }
    let decided = op.read("/admin/proposals").await;
    let decided: Vec<Value> = decided["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p["status"] != "pending")
        .take(30)
        .collect();
    render(
        "proposals.html",
        with(
            base,
            json!({"pending": pending["items"], "decided": decided}),
        ),
    )
}

async fn payments(op: &Operator, req: &HttpRequest, base: Value) -> HttpResponse {
    let status_filter = param(req, "status");
    let target = if status_filter.is_empty() {
        "/admin/payments?size=100".to_owned()
    } else {
        format!("/admin/payments?size=100&status={}", encode(&status_filter))
    };
    let (status, orders) = op.get(&target).await;
    if status != StatusCode::OK {
        return denied(base);
    }
    render(
        "payments.html",
        with(
            base,
            json!({"orders": orders["items"], "status": status_filter}),
        ),
    )
}

async fn system(op: &Operator, base: Value) -> HttpResponse {
    let (status, operators) = op.get("/admin/operators").await;
    if status != StatusCode::OK {
        return denied(base);
    }
    let products = op.read("/admin/products").await;
    let date = op.read("/admin/business-date").await;
    let runs = op.read("/admin/audit?entity=daily_job&size=20").await;
    render(
        "system.html",
        with(
            base,
            json!({"operators": operators["items"], "products": products["items"], "date": date,
                   "runs": runs["items"],
                   "roles": [["admin", "管理员"], ["reviewer", "审核员"], ["finance", "财务"], ["collector", "催收员"], ["viewer", "只读"]]}),
        ),
    )
}

/// The labels of §21's product members, in the form's order.
const PRODUCT_LABELS: &[(&str, &str)] = &[
    ("name", "名称"),
    ("code", "编码"),
    ("detailDescription", "产品介绍"),
    ("thirdServiceCode", "第三方服务编码"),
    ("amountLimitType", "金额方式（0 区间，1 档位）"),
    ("singleMinAmount", "最低金额"),
    ("singleMaxAmount", "最高金额"),
    ("singleAmounts", "金额档位"),
    ("singleDefaultAmount", "默认金额"),
    ("interestRateLimitType", "利率方式（0 区间，1 档位）"),
    ("minInterestRate", "最低年利率"),
    ("maxInterestRate", "最高年利率"),
    ("interestRates", "年利率档位"),
    ("defaultInterestRate", "默认年利率"),
    ("termUnit", "期限单位（1 天，2 月）"),
    ("daysLimitType", "天数方式"),
    ("singleMinDays", "最短天数"),
    ("singleMaxDays", "最长天数"),
    ("singleDays", "天数档位"),
    ("singleDefaultDays", "默认天数"),
    ("monthsLimitType", "月数方式"),
    ("singleMinMonths", "最短月数"),
    ("singleMaxMonths", "最长月数"),
    ("singleMonths", "月数档位"),
    ("singleDefaultMonths", "默认月数"),
    ("repayType", "还款方式"),
    ("repayTermUnit", "还款间隔单位"),
    ("defaultRepayTermCount", "默认还款间隔"),
    ("defaultRepayTermUnit", "默认还款间隔单位"),
    ("penaltyRate", "罚息率"),
    ("serviceFeeRate", "服务费率"),
    ("upfrontFeeRate", "前置费率"),
    ("onSale", "在售（true / false）"),
    ("displayOrder", "排序"),
];

/// `GET /console/products/{id}`: a product's every member in a form; saving proposes the change
/// (another admin confirms it in 复核).
async fn product(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    let Some(op) = Operator::of(&req, &state).await else {
        return see_other("/console/login");
    };
    let base = op.base(&req, "/console/system");
    if op.role() != "admin" {
        return denied(base);
    }
    let id = encode(&id);
    let (status, p) = op.get(&format!("/admin/products/{id}")).await;
    if status != StatusCode::OK {
        let mut res = render("denied.html", with(base, json!({"missing": true})));
        *res.status_mut() = StatusCode::NOT_FOUND;
        return res;
    }
    let fields: Vec<Value> = PRODUCT_LABELS
        .iter()
        .map(|(k, label)| {
            let value = match &p[*k] {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            json!({"name": k, "label": label, "value": value})
        })
        .collect();
    render(
        "product.html",
        with(base, json!({"id": id, "fields": fields, "name": p["name"]})),
    )
}

async fn audit(op: &Operator, req: &HttpRequest, base: Value) -> HttpResponse {
    let mut query = vec!["size=100".to_owned()];
    for k in ["operator", "entity", "entityId", "from", "to", "page"] {
        let v = param(req, k);
        if !v.is_empty() {
            query.push(format!("{k}={}", encode(&v)));
        }
    }
    let (status, events) = op.get(&format!("/admin/audit?{}", query.join("&"))).await;
    if status == StatusCode::FORBIDDEN || status == StatusCode::UNAUTHORIZED {
        return denied(base);
    }
    let filters = json!({
        "operator": param(req, "operator"), "entity": param(req, "entity"),
        "entityId": param(req, "entityId"), "from": param(req, "from"), "to": param(req, "to"),
    });
    render(
        "audit.html",
        with(base, json!({"events": events, "filters": filters})),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        for name in [
            "base.html",
            "login.html",
            "dashboard.html",
            "review.html",
            "payouts.html",
            "loans.html",
            "detail.html",
            "collection.html",
            "proposals.html",
            "payments.html",
            "system.html",
            "audit.html",
            "denied.html",
            "product.html",
        ] {
            assert!(TEMPLATES.get_template(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn forms_become_typed_bodies_and_go_back_only_inside_the_console() {
        let fields: FormFields = vec![
            ("_csrf".into(), "t".into()),
            ("replyAmount".into(), "800.00".into()),
            ("authTermCount".into(), "7".into()),
            ("reason".into(), " ".into()),
            ("disabled".into(), "true".into()),
            ("collectors".into(), "cui, chen".into()),
        ];
        assert_eq!(
            json_body(&fields),
            json!({"replyAmount": "800.00", "authTermCount": 7, "disabled": true, "collectors": ["cui", "chen"]})
        );
        for (given, want) in [
            ("/console/review", "/console/review"),
            ("https://evil.example/", "/console"),
            ("//evil.example/console", "/console"),
            ("/admin/audit", "/console"),
        ] {
            let f: FormFields = vec![("_back".into(), given.into())];
            assert_eq!(back_to(&f), want);
        }
    }

    #[test]
    fn a_form_fills_its_path_from_its_fields_encoded() {
        let f = |pairs: &[(&str, &str)]| -> FormFields {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        assert_eq!(
            action_path(&f(&[
                ("_path", "/users/{mobile}/credit"),
                ("_mobile", "13800138000")
            ])),
            Some("/users/13800138000/credit".into())
        );
        assert_eq!(
            action_path(&f(&[
                ("_path", "/users/{mobile}/credit"),
                ("_mobile", "1/../x")
            ])),
            Some("/users/1%2F..%2Fx/credit".into())
        );
        assert_eq!(
            action_path(&f(&[("_path", "/users/{mobile}/credit")])),
            None
        );
        assert_eq!(action_path(&f(&[("_path", "../admin")])), None);
        assert_eq!(action_path(&f(&[("_path", "/audit?x=1")])), None);
    }

    #[test]
    fn flash_messages_replace_the_last_one() {
        let to = flash("/console/loans?mobile=1&ok=0&flash=x", true, "操作 成功");
        assert_eq!(
            to,
            "/console/loans?mobile=1&ok=1&flash=%E6%93%8D%E4%BD%9C%20%E6%88%90%E5%8A%9F"
        );
        assert_eq!(flash("/console", false, "x"), "/console?ok=0&flash=x");
        assert_eq!(time_filter(Some(0), 8 * 3600), "1970-01-01 08:00");
    }
}
