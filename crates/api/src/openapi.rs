//! The API document (OpenAPI 3.1), generated from the code: the app endpoints from their route
//! table and contracts (which the pipeline holds every answer to), the admin API from its route
//! table and the types of its bodies and answers, and the payment channel's notification from its
//! type. Served at `GET /openapi.json`, printed by `cashloan openapi`, and checked in as
//! docs/openapi.json (a test fails when that file and the code part).

use std::sync::OnceLock;

use actix_web::HttpResponse;
use serde_json::{json, Map, Value};
use utoipa::PartialSchema;

use crate::routes::admin;
use crate::routes::channel::Notification;
use crate::routes::contract::{contract, Contract, Field, FieldKind, Member, ResultShape};
use crate::routes::ENDPOINTS;

/// The document as pretty JSON (what docs/openapi.json holds).
pub fn document_json() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let value = document();
        // Read back through utoipa's model of OpenAPI: a document that does not fit it is a bug
        // here, caught by the tests, never served.
        match serde_json::from_value::<utoipa::openapi::OpenApi>(value.clone()) {
            Ok(_) => serde_json::to_string_pretty(&value).unwrap_or_default() + "\n",
            Err(e) => {
                tracing::error!(error = %e, "the generated API document is not OpenAPI");
                String::new()
            }
        }
    })
}

/// `GET /openapi.json`.
pub async fn serve() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document_json())
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for ep in ENDPOINTS {
        if let Some(c) = contract(ep.section) {
            paths.insert(
                ep.path.to_owned(),
                json!({"post": app_operation(c, ep.login, ep.gzip)}),
            );
        }
    }
    for (path, title) in [
        (
            "/open/registrationProtocol",
            "§5 注册协议 Registration agreement (H5 page)",
        ),
        ("/open/loanHelp", "§6 还款帮助 Repayment help (H5 page)"),
    ] {
        let page = json!({
            "tags": ["app"],
            "summary": title,
            "responses": {"200": {"description": "The page.", "content": {"text/html": {"schema": {"type": "string"}}}}},
        });
        paths.insert(path.to_owned(), json!({"get": page, "post": page}));
    }
    for route in admin::ROUTES {
        let path = format!("/admin{}", route.path);
        let item = paths.entry(path).or_insert_with(|| json!({}));
        if let Value::Object(item) = item {
            item.insert(route.method.to_ascii_lowercase(), admin_operation(route));
        }
    }
    paths.insert(
        "/channel/notify".to_owned(),
        json!({"post": {
            "tags": ["channel"],
            "operationId": "channelNotify",
            "summary": "The payment channel reports what became of a payment order",
            "description": "Signed with `X-Channel-Signature`: the lowercase hex HMAC-SHA256 of the raw body under `CASHLOAN_PAYMENT_CHANNEL_SECRET`. A duplicate answers 200 and changes nothing; an amount that differs from the order's is flagged for operators, never applied.",
            "parameters": [{"name": "X-Channel-Signature", "in": "header", "required": true, "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Notification"}}}},
            "responses": {
                "200": {"description": "Taken (applied, already settled, or flagged).", "content": {"application/json": {"schema": {"type": "object"}}}},
                "400": error_response("The body is not a notification."),
                "401": error_response("Notifications are not configured, or the signature is wrong."),
                "404": error_response("No payment order has this reference."),
            },
        }}),
    );
    let ops = |id: &str, summary: &str, responses: Value| json!({"get": {"tags": ["operations"], "operationId": id, "summary": summary, "responses": responses}});
    let status = |d: &str| json!({"description": d, "content": {"application/json": {"schema": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}, "reason": {"type": "string"}}}}}});
    paths.insert(
        "/healthz".to_owned(),
        ops(
            "healthz",
            "The process answers (on CASHLOAN_OPS_BIND when it is set)",
            json!({"200": status("Alive.")}),
        ),
    );
    paths.insert(
        "/readyz".to_owned(),
        ops(
            "readyz",
            "The database answers and has every migration of this build (on CASHLOAN_OPS_BIND when it is set)",
            json!({"200": status("Ready."), "503": status("Draining for shutdown, or the database is unreachable or lacks a migration.")}),
        ),
    );
    paths.insert(
        "/metrics".to_owned(),
        ops(
            "metrics",
            "Prometheus metrics (on CASHLOAN_OPS_BIND when it is set)",
            json!({"200": {"description": "The Prometheus text format.", "content": {"text/plain": {"schema": {"type": "string"}}}}}),
        ),
    );
    paths.insert(
        "/openapi.json".to_owned(),
        json!({"get": {
            "tags": ["meta"],
            "operationId": "openApi",
            "summary": "This document",
            "responses": {"200": {"description": "The OpenAPI document.", "content": {"application/json": {"schema": {"type": "object"}}}}},
        }}),
    );

    let mut schemas = Map::new();
    schemas.insert("Envelope".into(), envelope_schema());
    schemas.insert(
        "AdminError".into(),
        json!({"type": "object", "required": ["error"], "properties": {"error": {"type": "string", "description": "What was wrong, naming the member when a body member was."}}}),
    );
    schemas.insert(
        "Notification".into(),
        serde_json::to_value(Notification::schema()).unwrap_or(Value::Null),
    );
    for (name, schema) in admin::schemas() {
        schemas.insert(name, serde_json::to_value(schema).unwrap_or(Value::Null));
    }

    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "cashloan",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The cash-loan server: the borrower app's API (the vendor document 现金贷 接口说明 V1.0.22, §4–§36: every request is a signed JSON envelope, every business answer HTTP 200 with `responseCode`), the operators' admin API, and the payment channel's notification. docs/api.md explains the protocol: the signature, replay protection, sessions and the DES password field.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": [{"url": "http://127.0.0.1:8080"}],
        "tags": [
            {"name": "app", "description": "The borrower app's API (signed envelopes)."},
            {"name": "admin", "description": "The operators' API (bearer token)."},
            {"name": "channel", "description": "Called by the payment channel."},
            {"name": "meta", "description": "About the server."},
            {"name": "operations", "description": "For load balancers and monitoring, off the signed protocol."},
        ],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "JSESSIONID", "description": "The session id §4 answers, as its cookie."},
                "sessionBearer": {"type": "http", "scheme": "bearer", "description": "The session id §4 answers, as `Authorization: Bearer`."},
                "adminToken": {"type": "http", "scheme": "bearer", "description": "An operator's session token (`op_…`, from `POST /admin/login`), or `CASHLOAN_ADMIN_TOKEN` (the operator `system`, role admin)."},
            },
        },
    })
}

fn error_response(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AdminError"}}}})
}

/// The members every answer of the app API carries.
fn envelope_schema() -> Value {
    let text = |d: &str| json!({"type": "string", "description": d});
    json!({
        "type": "object",
        "description": "Every business answer of the app API, success or refusal, is HTTP 200 with this envelope, signed like a request. Paged lists add the paging members.",
        "required": ["exceptionFlag", "responseCode", "responseMessage", "timestamp", "nonce", "sign", "resultSet"],
        "properties": {
            "exceptionFlag": {"type": "string", "enum": ["0000", "9999"], "description": "`0000` when the call succeeded (its success code), `9999` otherwise."},
            "responseCode": text("What happened: branch on this (each operation lists its codes)."),
            "responseMessage": text("The code's Chinese text, for people."),
            "timestamp": text("The server's clock, epoch milliseconds."),
            "nonce": text("The server's nonce."),
            "sign": text("SHA-1 signature of the answer, as a request's."),
            "resultSet": {"type": ["string", "object", "array"], "description": "The payload; `\"\"` on every failure."},
            "pageNum": {"type": "integer"},
            "pageSize": {"type": "integer"},
            "pages": {"type": "integer"},
            "total": {"type": "integer"},
            "isFirstPage": {"type": "boolean"},
            "isLastPage": {"type": "boolean"},
        },
    })
}

/// One request field's schema.
fn field_schema(f: &Field) -> Value {
    let mut description = format!("{} — {}", f.zh, f.meaning);
    if let Some(format) = f.format {
        description.push_str(&format!(" (format: {format})"));
    }
    if !f.values.is_empty() {
        let values: Vec<String> = f.values.iter().map(|(k, v)| format!("`{k}` {v}")).collect();
        description.push_str(&format!(" (values: {})", values.join(", ")));
    }
    match f.kind {
        FieldKind::Text if f.values.is_empty() => {
            json!({"type": "string", "description": description})
        }
        FieldKind::Text => {
            let values: Vec<&str> = f.values.iter().map(|(k, _)| *k).collect();
            json!({"type": "string", "enum": values, "description": description})
        }
        FieldKind::Integer => json!({"type": "integer", "description": description}),
        FieldKind::Phonebook => json!({
            "type": "array",
            "maxItems": 5000,
            "description": description,
            "items": {
                "type": "object",
                "required": ["contactName", "contactPhone"],
                "properties": {
                    "contactName": {"type": "string", "minLength": 1, "maxLength": 64},
                    "contactPhone": {"type": "string"},
                    "remark": {"type": "string"},
                },
            },
        }),
    }
}

/// The schema of the members of `parent` (an object), from the contract.
fn members_schema(members: &[Member], parent: &str) -> Value {
    let mut properties = Map::new();
    for m in members.iter().filter(|m| m.parent == parent) {
        properties.insert(m.name.to_owned(), member_schema(members, m));
    }
    json!({"type": "object", "properties": properties})
}

fn member_schema(members: &[Member], m: &Member) -> Value {
    let description = format!("{} — {}", m.zh, m.meaning);
    if m.kind.starts_with("List") {
        let mut items = members_schema(members, m.name);
        if let Value::Object(o) = &mut items {
            o.insert("description".into(), Value::String(description));
        }
        return json!({"type": "array", "items": items});
    }
    if m.kind.starts_with("Map") {
        return json!({"type": "object", "additionalProperties": {"type": "string"}, "description": description});
    }
    if m.number {
        let kind = if m.kind == "Date" {
            "integer"
        } else {
            "number"
        };
        return json!({"type": kind, "description": description});
    }
    json!({"type": "string", "description": description})
}

/// The schema of `resultSet` on success.
fn result_schema(c: &Contract) -> Value {
    match c.result {
        ResultShape::Text => match c.section {
            4 => {
                json!({"type": "string", "description": "The session id: 32 uppercase hex characters; also set as the cookie JSESSIONID."})
            }
            7 => {
                json!({"type": "string", "description": "The graphic code: 4 characters [a-z0-9], valid 120 s, single use."})
            }
            23 => json!({"type": "string", "description": "The new application's id (§28 `id`)."}),
            _ => json!({"type": "string"}),
        },
        ResultShape::Object => members_schema(c.members, "resultSet"),
        ResultShape::List => {
            json!({"type": "array", "items": members_schema(c.members, "resultSet")})
        }
    }
}

/// A markdown table of the codes an endpoint answers.
fn codes_table(c: &Contract) -> String {
    let mut out = String::from("| code | message |\n|---|---|\n");
    let mut seen = Vec::new();
    for (code, message) in std::iter::once(&c.success).chain(c.codes.iter()) {
        if seen.contains(&(code, message)) {
            continue;
        }
        seen.push((code, message));
        out.push_str(&format!("| `{code}` | {message} |\n"));
    }
    out.push_str("\nEvery endpoint may also answer `10000001` (signature), `10000002` (timestamp), `10000003` (replay), `10000004` (session), `10000005` (too many requests), `10001000` (a field missing, mistyped or malformed: the message names it) and `99999999` (a fault; the message carries the request id).");
    out
}

fn app_operation(c: &Contract, login: bool, gzip: bool) -> Value {
    let mut properties = Map::new();
    let mut required = vec![
        Value::from("timestamp"),
        Value::from("nonce"),
        Value::from("sign"),
    ];
    properties.insert(
        "timestamp".into(),
        json!({"type": "string", "description": "The client's clock, epoch milliseconds; within 300 s of the server's."}),
    );
    properties.insert(
        "nonce".into(),
        json!({"type": "string", "minLength": 1, "maxLength": 64, "description": "Fresh per request; a (nonce, timestamp) pair is accepted once."}),
    );
    properties.insert(
        "sign".into(),
        json!({"type": "string", "pattern": "^[0-9a-f]{40}$", "description": "Lowercase hex SHA-1 of app_key + timestamp + nonce + the canonical body without sign (docs/api.md)."}),
    );
    for f in c.request {
        properties.insert(f.name.to_owned(), field_schema(f));
        if f.required {
            required.push(Value::from(f.name));
        }
    }
    let mut description = String::new();
    if !c.before.is_empty() {
        description.push_str(&format!("Before: {}.\n\n", c.before));
    }
    if !c.note.is_empty() {
        description.push_str(&format!("{}.\n\n", c.note.trim_end_matches('.')));
    }
    description.push_str(if login {
        "Needs a session (`JSESSIONID` cookie or `Authorization: Bearer`). "
    } else {
        "No session. "
    });
    description.push_str(if gzip {
        "Answers gzip-compressed when asked (`Accept-Encoding: gzip`).\n\n"
    } else {
        "Never gzipped.\n\n"
    });
    if c.paged {
        description.push_str("Paged: `pageNum` from 1, `pageSize` 1 to 100 (10 by default); the paging members sit beside `resultSet`.\n\n");
    }
    description.push_str(&codes_table(c));
    let mut op = json!({
        "tags": ["app"],
        "operationId": format!("s{}", c.section),
        "summary": format!("§{} {} {}", c.section, c.title_zh, c.title),
        "description": description,
        "requestBody": {
            "required": true,
            "content": {"application/json": {"schema": {
                "type": "object",
                "required": required,
                "properties": properties,
            }}},
        },
        "responses": {
            "200": {
                "description": format!("The envelope: `{}` {} on success.", c.success.0, c.success.1),
                "content": {"application/json": {
                    "schema": {"allOf": [
                        {"$ref": "#/components/schemas/Envelope"},
                        {"type": "object", "properties": {"resultSet": result_schema(c)}},
                    ]},
                    "example": {
                        "exceptionFlag": "0000",
                        "responseCode": c.success.0,
                        "responseMessage": c.success.1,
                        "timestamp": "1795693836613",
                        "nonce": "45049555",
                        "resultSet": example_result(c),
                        "sign": "ef7becf2c15ad6d27a5fcb7223d8db9e90438197",
                    },
                }},
            },
            "405": {"description": "Not POST."},
            "413": {"description": "A body over 64 KiB (over 1 MiB once inflated)."},
            "415": {"description": "Not `application/json`."},
        },
    });
    if login {
        if let Value::Object(o) = &mut op {
            o.insert(
                "security".into(),
                json!([{"session": []}, {"sessionBearer": []}]),
            );
        }
    }
    op
}

/// A sample `resultSet` of the right shape (members with their descriptions' first words).
fn example_result(c: &Contract) -> Value {
    fn object(members: &[Member], parent: &str) -> Value {
        let mut o = Map::new();
        for m in members.iter().filter(|m| m.parent == parent) {
            let v = if m.kind.starts_with("List") {
                Value::Array(vec![object(members, m.name)])
            } else if m.kind.starts_with("Map") {
                json!({})
            } else if m.number {
                json!(0)
            } else {
                Value::String(String::new())
            };
            o.insert(m.name.to_owned(), v);
        }
        Value::Object(o)
    }
    match c.result {
        ResultShape::Text => Value::String(String::new()),
        ResultShape::Object => object(c.members, "resultSet"),
        ResultShape::List => Value::Array(vec![object(c.members, "resultSet")]),
    }
}

fn admin_operation(route: &admin::AdminRoute) -> Value {
    let reference = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let parameters: Vec<Value> = route
        .path
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    let answer = route
        .answer
        .map_or_else(|| json!({"type": "object"}), reference);
    let mut responses = Map::new();
    responses.insert(
        "200".into(),
        json!({"description": "Done.", "content": {"application/json": {"schema": answer}}}),
    );
    if matches!(
        route.path,
        "/system-messages" | "/app-versions" | "/operators"
    ) && route.method == "POST"
    {
        responses.insert(
            "201".into(),
            json!({"description": "Created.", "content": {"application/json": {"schema": answer}}}),
        );
    }
    if route.answer == Some("ProposalAnswer") {
        responses.remove("200");
        responses.insert(
            "202".into(),
            json!({"description": "Proposed: done when another operator confirms it (POST /admin/proposals/{id}/confirm).", "content": {"application/json": {"schema": answer}}}),
        );
    }
    if route.path == "/proposals/{id}/confirm" {
        responses.insert(
            "502".into(),
            error_response("Confirmed, but the payment channel refused the payout; the application stays approved."),
        );
    }
    for (status, what) in [
        (
            "400",
            "The body or query is malformed (the message names the member).",
        ),
        (
            "401",
            "No operator signed in (or the session ended), and no admin token.",
        ),
        (
            "403",
            "The caller's role may not do this (or the proposer tries to confirm).",
        ),
        ("404", "No such thing."),
        ("409", "Not in a state that allows it."),
        ("422", "Well-formed, but against a rule."),
    ] {
        responses.insert(status.into(), error_response(what));
    }
    let operation_id = format!(
        "admin{}{}",
        route.method.to_ascii_lowercase(),
        route
            .path
            .split(['/', '-', '{', '}'])
            .filter(|s| !s.is_empty())
            .map(|s| {
                let mut c = s.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            })
            .collect::<String>()
    );
    let mut op = json!({
        "tags": ["admin"],
        "operationId": operation_id,
        "summary": route.summary,
        "security": if route.need == admin::access::Need::Public {
            json!([])
        } else {
            json!([{"adminToken": []}])
        },
        "responses": responses,
    });
    if let Value::Object(o) = &mut op {
        if !parameters.is_empty() {
            o.insert("parameters".into(), Value::Array(parameters));
        }
        if let Some(body) = route.body {
            o.insert(
                "requestBody".into(),
                json!({"content": {"application/json": {"schema": reference(body)}}}),
            );
        }
    }
    op
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_reads_as_openapi_and_covers_every_route() {
        let text = document_json();
        assert!(
            !text.is_empty(),
            "the document fits utoipa's model of OpenAPI"
        );
        let doc: Value = serde_json::from_str(text).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        for ep in ENDPOINTS {
            assert!(paths[ep.path]["post"].is_object(), "{}", ep.path);
        }
        for r in admin::ROUTES {
            let path = format!("/admin{}", r.path);
            assert!(
                paths[&path][r.method.to_ascii_lowercase()].is_object(),
                "{} {path}",
                r.method
            );
        }
        // Every schema a route names exists.
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for r in admin::ROUTES {
            for name in r.body.iter().chain(r.answer.iter()) {
                assert!(schemas.contains_key(*name), "{name}");
            }
        }
        // Operation ids are unique.
        let mut ids = std::collections::HashSet::new();
        for item in paths.values() {
            for op in item.as_object().unwrap().values() {
                if let Some(id) = op["operationId"].as_str() {
                    assert!(ids.insert(id.to_owned()), "{id}");
                }
            }
        }
    }

    #[test]
    fn docs_openapi_json_is_the_document_the_code_generates() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            on_disk == document_json(),
            "docs/openapi.json is not what the code generates: run \
             `cargo run -- openapi > docs/openapi.json` and commit it"
        );
    }

    #[test]
    fn a_quote_is_described_from_its_contract() {
        let doc = document();
        let op = &doc["paths"]["/appCommonApi/getLoanApplyConfirmInfo"]["post"];
        let body = &op["requestBody"]["content"]["application/json"]["schema"];
        assert_eq!(body["properties"]["repayType"]["enum"][0], "1");
        assert!(body["required"]
            .as_array()
            .unwrap()
            .contains(&Value::from("interestRate")));
        let result = &op["responses"]["200"]["content"]["application/json"]["schema"]["allOf"][1]
            ["properties"]["resultSet"];
        assert_eq!(result["properties"]["repayPlan"]["type"], "array");
        assert!(op["description"].as_str().unwrap().contains("`20004015`"));
        assert_eq!(op["security"][0]["session"], json!([]));
    }

    #[test]
    fn the_admin_api_is_described_from_its_types() {
        let doc = document();
        let approve = &doc["components"]["schemas"]["ApproveBody"];
        assert!(
            approve["properties"]["replyAmount"].is_object(),
            "{approve}"
        );
        let op = &doc["paths"]["/admin/applications/{id}/approve"]["post"];
        assert_eq!(op["parameters"][0]["name"], "id");
        assert_eq!(
            op["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ApproveBody"
        );
    }
}
