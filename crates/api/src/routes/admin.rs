//! The operators' API under `/admin`: review, approve, reject and disburse applications, keep
//! products, the blacklist, credit, system messages, releases and the business date, and run the
//! daily job. JSON in and out, `Authorization: Bearer $CASHLOAN_ADMIN_TOKEN` (compared in
//! constant time); every path answers 404 while no token is configured. Never signed with the
//! app key.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use cashloan_domain::{ApplyStatus, Limit, LoanProduct, Money, Rate, RepayType, TermUnit};
use cashloan_persistence::accounts::{
    find_user, find_user_by_mobile, new_id, set_disabled, set_risk, set_total_credit,
};
use cashloan_persistence::loans::list_payments;
use cashloan_persistence::loans::{
    approve, find_application, list_applications, reject, start_review, Application, PageRequest,
    Transition,
};
use cashloan_persistence::products::{
    find_product, insert_product, list_products, update_product, ProductRow,
};

use cashloan_persistence::site::{
    add_app_version, add_system_message, add_to_blacklist, business_date_override,
    remove_from_blacklist, set_setting, AppVersion, SystemMessage, BUSINESS_DATE,
};
use cashloan_persistence::DbConnection;
use chrono::NaiveDate;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::context::{AppState, Lease};
use crate::payments::{self, PayoutOutcome};
use cashloan_persistence::payment_orders::{
    find_order, list_orders, settle, ChannelOutcome, OrderStatus, PaymentOrder, SettledBy,
    Settlement,
};

/// An admin answer: status and JSON body.
type Answer = Result<(StatusCode, Value), (StatusCode, String)>;

fn err(status: StatusCode, message: impl Into<String>) -> (StatusCode, String) {
    (status, message.into())
}

fn fault(e: impl std::fmt::Display) -> (StatusCode, String) {
    tracing::error!(error = %e, "admin request failed");
    err(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal error (see the server log)",
    )
}

/// The answer refusing the request, unless it carries the admin token.
fn refusal(req: &HttpRequest, state: &AppState) -> Option<HttpResponse> {
    let Some(token) = state.config.admin_token.as_deref() else {
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

/// Checks the token, then runs `job` with a connection on the blocking pool.
async fn run(
    req: HttpRequest,
    state: web::Data<AppState>,
    job: impl FnOnce(&AppState, &mut DbConnection) -> Answer + Send + 'static,
) -> HttpResponse {
    if let Some(res) = refusal(&req, &state) {
        return res;
    }
    let st = state.clone();
    let outcome = web::block(move || {
        let mut conn = st.db.conn().map_err(fault)?;
        job(&st, &mut conn)
    })
    .await
    .unwrap_or_else(|e| Err(fault(e)));
    match outcome {
        Ok((status, body)) => HttpResponse::build(status).json(body),
        Err((status, message)) => HttpResponse::build(status).json(json!({"error": message})),
    }
}

/// Checks the token, then runs `job` on the blocking pool with a lease on a connection that it
/// gives back while a third party answers.
async fn run_leased(
    req: HttpRequest,
    state: web::Data<AppState>,
    job: impl FnOnce(&AppState, &mut Lease<'_>) -> Answer + Send + 'static,
) -> HttpResponse {
    if let Some(res) = refusal(&req, &state) {
        return res;
    }
    let st = state.clone();
    let outcome = web::block(move || {
        let mut lease = Lease::new(&st.db);
        job(&st, &mut lease)
    })
    .await
    .unwrap_or_else(|e| Err(fault(e)));
    match outcome {
        Ok((status, body)) => HttpResponse::build(status).json(body),
        Err((status, message)) => HttpResponse::build(status).json(json!({"error": message})),
    }
}

/// Today's business date, a failure logged with its cause.
fn business_date(
    st: &AppState,
    conn: &mut DbConnection,
) -> Result<NaiveDate, (StatusCode, String)> {
    st.business_date(conn).map_err(|e| match e {
        crate::context::ApiError::Fault(detail) => fault(detail),
        crate::context::ApiError::Reply(o) => fault(o.message),
    })
}

/// A `YYYY-MM-DD` date from an operator.
fn date(text: &str) -> Result<NaiveDate, (StatusCode, String)> {
    cashloan_domain::parse_day(text)
        .ok_or_else(|| err(StatusCode::UNPROCESSABLE_ENTITY, "date must be YYYY-MM-DD"))
}

fn body(bytes: &web::Bytes) -> Result<Value, (StatusCode, String)> {
    if bytes.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice::<Value>(bytes)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| err(StatusCode::BAD_REQUEST, "body must be a JSON object"))
}

fn text<'a>(v: &'a Value, key: &str) -> Result<Option<&'a str>, (StatusCode, String)> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(Value::Number(_)) => Err(err(
            StatusCode::BAD_REQUEST,
            format!("{key} must be a string"),
        )),
        Some(_) => Err(err(
            StatusCode::BAD_REQUEST,
            format!("{key} has the wrong type"),
        )),
    }
}

fn required<'a>(v: &'a Value, key: &str) -> Result<&'a str, (StatusCode, String)> {
    text(v, key)?.ok_or_else(|| err(StatusCode::BAD_REQUEST, format!("{key} is required")))
}

fn money(cents: Option<i64>) -> Value {
    cents.map_or(Value::Null, |c| {
        Value::String(Money::from_cents(c).to_string())
    })
}

fn application_json(a: &Application, mobile: Option<&str>) -> Value {
    json!({
        "id": a.id, "loanCode": a.loan_code, "mobile": mobile, "productId": a.product_id,
        "productName": a.product_name, "applyStatus": a.status, "applyAmount": money(Some(a.amount_cents)),
        "replyAmount": money(a.reply_amount_cents), "interestRate": a.interest_rate,
        "penaltyRate": a.penalty_rate, "termCount": a.term_count, "termUnit": a.term_unit,
        "repayTermCount": a.repay_term_count, "repayTermUnit": a.repay_term_unit, "repayType": a.repay_type,
        "authTermCount": a.auth_term_count, "authTermUnit": a.auth_term_unit, "appliedAt": a.applied_at,
        "releaseDate": a.release_date, "rejectReason": a.reject_reason,
    })
}

fn transition_answer(t: Transition, conn: &mut DbConnection, id: &str) -> Answer {
    match t {
        Transition::Done => {
            let a = find_application(conn, id)
                .map_err(fault)?
                .ok_or_else(|| err(StatusCode::NOT_FOUND, "no such application"))?;
            // The same shape as the list's rows, the borrower's mobile included.
            let mobile = find_user(conn, &a.user_id)
                .map_err(fault)?
                .map(|u| u.mobile);
            Ok((StatusCode::OK, application_json(&a, mobile.as_deref())))
        }
        Transition::NotFound => Err(err(StatusCode::NOT_FOUND, "no such application")),
        Transition::WrongStatus(s) => Err(err(
            StatusCode::CONFLICT,
            format!(
                "the application is {} ({}); this transition is not allowed",
                s.code(),
                s.label()
            ),
        )),
    }
}

/// `GET /admin/applications?status=N&page=&size=`.
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<std::collections::HashMap<String, String>>,
) -> HttpResponse {
    let q = q.into_inner();
    run(req, state, move |_, conn| {
        let num = |k: &str, d: i64| {
            q.get(k).map_or(Ok(d), |v| {
                v.parse::<i64>()
                    .map_err(|_| err(StatusCode::BAD_REQUEST, format!("{k} must be a number")))
            })
        };
        let status = match q.get("status") {
            None => None,
            Some(v) => Some(
                v.parse::<i64>()
                    .ok()
                    .and_then(ApplyStatus::from_code)
                    .ok_or_else(|| err(StatusCode::BAD_REQUEST, "status must be 0..5"))?,
            ),
        };
        let (page, size) = (num("page", 1)?.max(1), num("size", 20)?.clamp(1, 100));
        let (rows, total) = list_applications(
            conn,
            status,
            PageRequest {
                offset: (page - 1) * size,
                limit: size,
            },
        )
        .map_err(fault)?;
        let items: Vec<Value> = rows
            .iter()
            .map(|(a, m)| application_json(a, Some(m)))
            .collect();
        Ok((
            StatusCode::OK,
            json!({"page": page, "size": size, "total": total, "items": items}),
        ))
    })
    .await
}

/// `POST /admin/applications/{id}/review`.
pub async fn review(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    let id = id.into_inner();
    run(req, state, move |st, conn| {
        let t = start_review(conn, &id, st.now_ms()).map_err(fault)?;
        transition_answer(t, conn, &id)
    })
    .await
}

/// `POST /admin/applications/{id}/approve`, optionally `{"replyAmount", "authTermCount", "authTermUnit"}`.
pub async fn approve_application(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    bytes: web::Bytes,
) -> HttpResponse {
    let id = id.into_inner();
    run(req, state, move |st, conn| {
        let b = body(&bytes)?;
        let app = find_application(conn, &id)
            .map_err(fault)?
            .ok_or_else(|| err(StatusCode::NOT_FOUND, "no such application"))?;
        let asked = Money::from_cents(app.amount_cents);
        let reply = match text(&b, "replyAmount")? {
            None => asked,
            Some(v) => Money::parse_amount(v)
                .filter(|m| !m.is_zero())
                .ok_or_else(|| {
                    err(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "replyAmount is not an amount",
                    )
                })?,
        };
        if reply > asked {
            return Err(err(
                StatusCode::UNPROCESSABLE_ENTITY,
                "replyAmount may not exceed the amount applied for",
            ));
        }
        let count = match b.get("authTermCount") {
            None | Some(Value::Null) => app.term_count,
            Some(v) => v
                .as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    err(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "authTermCount must be a positive integer",
                    )
                })?,
        };
        let unit = text(&b, "authTermUnit")?
            .map_or(Some(app.term_unit.as_str()), |u| {
                TermUnit::parse(u).map(TermUnit::code)
            })
            .ok_or_else(|| {
                err(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "authTermUnit must be 1 or 2",
                )
            })?;
        if unit != app.term_unit || count > app.term_count {
            return Err(err(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the approved term may not exceed the term applied for",
            ));
        }
        let mut approved = app.clone();
        approved.reply_amount_cents = Some(reply.cents());
        approved.auth_term_count = Some(count);
        approved.auth_term_unit = Some(unit.to_owned());
        let start = business_date(st, conn)?;
        approved
            .plan_within_cap(start, st.policy.apr_cap)
            .map_err(|m| err(StatusCode::UNPROCESSABLE_ENTITY, m))?;
        let t = approve(conn, &id, reply, count, unit, st.now_ms()).map_err(fault)?;
        transition_answer(t, conn, &id)
    })
    .await
}

/// `POST /admin/applications/{id}/reject` with `{"reason": "…"}`.
pub async fn reject_application(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    bytes: web::Bytes,
) -> HttpResponse {
    let id = id.into_inner();
    run(req, state, move |st, conn| {
        let b = body(&bytes)?;
        let reason = text(&b, "reason")?.unwrap_or("").trim().to_owned();
        if reason.chars().count() > 500 {
            return Err(err(
                StatusCode::UNPROCESSABLE_ENTITY,
                "reason is longer than 500 characters",
            ));
        }
        let t = reject(conn, &id, &reason, st.now_ms()).map_err(fault)?;
        transition_answer(t, conn, &id)
    })
    .await
}

/// `POST /admin/applications/{id}/disburse`: pays the loan out through the payment channel. 200
/// with the application once the money moved (2 → 4); 202 with the payment order while the
/// channel has not said; 409 while a payout of the loan is open (never a second one) or when the
/// application is not approved; 502 when the channel refused (it stays approved).
pub async fn disburse_application(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    let id = id.into_inner();
    run_leased(req, state, move |st, lease| {
        let today = business_date(st, lease.get().map_err(fault)?)?;
        let channel = st.providers.payments.as_ref();
        let outcome = payments::pay_out(channel, lease, &id, today, st.policy.apr_cap)
            .map_err(fault)?;
        let conn = lease.get().map_err(fault)?;
        match outcome {
            PayoutOutcome::PaidOut(_) => transition_answer(Transition::Done, conn, &id),
            PayoutOutcome::Processing(order) | PayoutOutcome::Flagged(order, _) => {
                Ok((StatusCode::ACCEPTED, json!({"payment": order_json(&order)})))
            }
            PayoutOutcome::InProgress(order) => Err(err(
                StatusCode::CONFLICT,
                format!(
                    "a payout of this loan is already {} (payment order {}); never a second one",
                    order.status, order.id
                ),
            )),
            PayoutOutcome::Refused(order, why) => Err(err(
                StatusCode::BAD_GATEWAY,
                format!("payment channel refused: {why} (payment order {}); the application stays approved", order.id),
            )),
            PayoutOutcome::NotFound => Err(err(StatusCode::NOT_FOUND, "no such application")),
            PayoutOutcome::WrongStatus(s) => transition_answer(Transition::WrongStatus(s), conn, &id),
            PayoutOutcome::NoCard => Err(err(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the borrower has no authenticated bank card",
            )),
            PayoutOutcome::NoPlan(why) => Err(err(StatusCode::UNPROCESSABLE_ENTITY, why)),
            PayoutOutcome::BorrowerBlocked(why) => Err(err(
                StatusCode::CONFLICT,
                format!("{why}: nothing is paid out"),
            )),
        }
    })
    .await
}

/// A payment order as operators see it.
fn order_json(o: &PaymentOrder) -> Value {
    json!({
        "id": o.id, "reference": o.id, "kind": o.kind, "applicationId": o.application_id,
        "amount": money(Some(o.amount_cents)), "businessDate": o.business_date, "status": o.status,
        "channelRef": o.channel_ref, "message": o.message, "flag": o.flag, "settledBy": o.settled_by,
        "createdAt": o.created_at, "updatedAt": o.updated_at, "settledAt": o.settled_at,
    })
}

/// `GET /admin/payments?status=&applicationId=&page=&size=`: payment orders, newest first.
pub async fn list_payment_orders(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<std::collections::HashMap<String, String>>,
) -> HttpResponse {
    let q = query.into_inner();
    run(req, state, move |_, conn| {
        let status = q
            .get("status")
            .map(String::as_str)
            .filter(|s| !s.is_empty());
        if let Some(s) = status {
            if OrderStatus::parse(s).is_none() {
                return Err(err(
                    StatusCode::BAD_REQUEST,
                    "status must be pending, succeeded, failed or unknown",
                ));
            }
        }
        let application = q
            .get("applicationId")
            .map(String::as_str)
            .filter(|s| !s.is_empty());
        let number = |key: &str, default: i64, max: i64| -> Result<i64, (StatusCode, String)> {
            match q.get(key) {
                None => Ok(default),
                Some(v) => v
                    .parse::<i64>()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or_else(|| err(StatusCode::BAD_REQUEST, format!("{key} must be 1..{max}"))),
            }
        };
        let (page, size) = (
            number("page", 1, i64::MAX / 1000)?,
            number("size", 20, 100)?,
        );
        let (rows, total) = list_orders(
            conn,
            status,
            application,
            PageRequest {
                offset: (page - 1) * size,
                limit: size,
            },
        )
        .map_err(fault)?;
        let items: Vec<Value> = rows.iter().map(order_json).collect();
        Ok((
            StatusCode::OK,
            json!({"page": page, "size": size, "total": total, "items": items}),
        ))
    })
    .await
}

/// `POST /admin/payments/{id}/resolve` with `{"status": "succeeded"|"failed", "note"}`: settles a
/// stuck order by hand, after the operator checked the channel's statement. 409 when it is settled.
pub async fn resolve_payment_order(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    bytes: web::Bytes,
) -> HttpResponse {
    let id = id.into_inner();
    run(req, state, move |st, conn| {
        let b = body(&bytes)?;
        let note = required(&b, "note")?.trim().to_owned();
        if note.is_empty() || note.chars().count() > 500 {
            return Err(err(
                StatusCode::UNPROCESSABLE_ENTITY,
                "note must be 1 to 500 characters",
            ));
        }
        let outcome = match required(&b, "status")? {
            "succeeded" => ChannelOutcome::Succeeded {
                channel_ref: Some(format!("operator: {note}")),
                amount: None,
            },
            "failed" => ChannelOutcome::Failed {
                message: format!("operator: {note}"),
            },
            _ => {
                return Err(err(
                    StatusCode::BAD_REQUEST,
                    "status must be succeeded or failed",
                ))
            }
        };
        match settle(conn, &id, &outcome, SettledBy::Operator, st.now_ms()).map_err(fault)? {
            Settlement::NotFound => {
                return Err(err(StatusCode::NOT_FOUND, "no such payment order"))
            }
            Settlement::AlreadySettled(s) => {
                return Err(err(
                    StatusCode::CONFLICT,
                    format!("the payment order is already {}", s.as_str()),
                ))
            }
            settled => {
                tracing::info!(order = %id, ?settled, %note, "payment order resolved by hand")
            }
        }
        let order = find_order(conn, &id)
            .map_err(fault)?
            .ok_or_else(|| err(StatusCode::NOT_FOUND, "no such payment order"))?;
        Ok((StatusCode::OK, order_json(&order)))
    })
    .await
}

/// `GET /admin/applications/{id}/ledger`: every money movement of the loan, oldest first, and
/// its sums (money out at disbursement; money in, and the principal part of it).
pub async fn ledger(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    let id = id.into_inner();
    run(req, state, move |_, conn| {
        find_application(conn, &id).map_err(fault)?.ok_or_else(|| err(StatusCode::NOT_FOUND, "no such application"))?;
        let rows = list_payments(conn, &id).map_err(fault)?;
        let sum = |out: bool, f: fn(&cashloan_persistence::loans::Payment) -> i64| -> i64 {
            rows.iter().filter(|p| (p.kind == "disbursement") == out).map(f).sum()
        };
        let items: Vec<Value> = rows
            .iter()
            .map(|p| {
                json!({
                    "kind": p.kind, "paymentRef": p.payment_ref, "installmentId": p.installment_id,
                    "amount": money(Some(p.amount_cents)), "principal": money(Some(p.principal_cents)),
                    "interest": money(Some(p.interest_cents)), "fee": money(Some(p.fee_cents)),
                    "penalty": money(Some(p.penalty_cents)), "businessDate": p.business_date,
                    "channelRef": p.channel_ref,
                })
            })
            .collect();
        Ok((
            StatusCode::OK,
            json!({
                "items": items,
                "out": money(Some(sum(true, |p| p.amount_cents))),
                "in": money(Some(sum(false, |p| p.amount_cents))),
                "principalIn": money(Some(sum(false, |p| p.principal_cents))),
            }),
        ))
    })
    .await
}

/// A limit from the operator's JSON: its type member (`0` range, `1` fixed; absent means none
/// when `optional`), and the min, max and comma-separated list members `names` name.
fn limit<T: Copy + PartialOrd>(
    b: &Value,
    [kind, min, max, list]: [&str; 4],
    optional: bool,
    what: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<Limit<T>>, (StatusCode, String)> {
    let type_code = match text(b, kind)? {
        None | Some("") if optional => return Ok(None),
        None => return Err(err(StatusCode::BAD_REQUEST, format!("{kind} is required"))),
        Some(code) => code,
    };
    let unprocessable = |k: &str| err(StatusCode::UNPROCESSABLE_ENTITY, format!("{k}: not {what}"));
    let one = |k: &str| -> Result<Option<T>, (StatusCode, String)> {
        text(b, k)?
            .map(|v| parse(v.trim()).ok_or_else(|| unprocessable(k)))
            .transpose()
    };
    let values = text(b, list)?
        .map(|v| {
            v.split(',')
                .map(|item| parse(item.trim()).ok_or_else(|| unprocessable(list)))
                .collect::<Result<Vec<T>, _>>()
        })
        .transpose()?;
    let code = match type_code {
        "0" => 0,
        "1" => 1,
        _ => {
            return Err(err(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("{kind} must be 0 or 1"),
            ))
        }
    };
    Limit::from_parts(code, one(min)?, one(max)?, values)
        .map(Some)
        .map_err(|missing| {
            let member = match missing {
                cashloan_domain::LimitPartMissing::Min => min,
                cashloan_domain::LimitPartMissing::Max => max,
                cashloan_domain::LimitPartMissing::Values => list,
                cashloan_domain::LimitPartMissing::Type => kind,
            };
            err(StatusCode::BAD_REQUEST, format!("{member} is required"))
        })
}

/// A limit the product must have.
fn required_limit<T: Copy + PartialOrd>(
    b: &Value,
    names: [&str; 4],
    what: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Limit<T>, (StatusCode, String)> {
    limit(b, names, false, what, parse)?
        .ok_or_else(|| err(StatusCode::BAD_REQUEST, format!("{} is required", names[0])))
}

fn parse_count(v: &str) -> Option<u32> {
    v.parse().ok()
}

fn codes<T>(
    b: &Value,
    key: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Vec<T>, (StatusCode, String)> {
    required(b, key)?
        .split(',')
        .map(|c| {
            parse(c.trim()).ok_or_else(|| {
                err(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("{key}: unknown code {c}"),
                )
            })
        })
        .collect()
}

/// A product from the operator's JSON, which uses §21's member names.
fn product_from(b: &Value, id: String) -> Result<LoanProduct, (StatusCode, String)> {
    let opt_money = |k: &str| -> Result<Option<Money>, (StatusCode, String)> {
        text(b, k)?
            .filter(|v| !v.is_empty())
            .map(|v| {
                Money::parse_amount(v).ok_or_else(|| {
                    err(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        format!("{k}: not an amount"),
                    )
                })
            })
            .transpose()
    };
    let opt_rate = |k: &str| -> Result<Option<Rate>, (StatusCode, String)> {
        text(b, k)?
            .filter(|v| !v.is_empty())
            .map(|v| {
                Rate::parse(v).ok_or_else(|| {
                    err(StatusCode::UNPROCESSABLE_ENTITY, format!("{k}: not a rate"))
                })
            })
            .transpose()
    };
    let opt_count = |k: &str| -> Result<Option<u32>, (StatusCode, String)> {
        text(b, k)?
            .filter(|v| !v.is_empty())
            .map(|v| {
                v.parse::<u32>().map_err(|_| {
                    err(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        format!("{k}: not a count"),
                    )
                })
            })
            .transpose()
    };
    Ok(LoanProduct {
        id,
        name: required(b, "name")?.to_owned(),
        detail_description: text(b, "detailDescription")?.unwrap_or("").to_owned(),
        third_service_code: text(b, "thirdServiceCode")?.unwrap_or("").to_owned(),
        amount_limit: required_limit(
            b,
            [
                "amountLimitType",
                "singleMinAmount",
                "singleMaxAmount",
                "singleAmounts",
            ],
            "an amount",
            Money::parse_amount,
        )?,
        default_amount: opt_money("singleDefaultAmount")?,
        rate_limit: required_limit(
            b,
            [
                "interestRateLimitType",
                "minInterestRate",
                "maxInterestRate",
                "interestRates",
            ],
            "a rate",
            Rate::parse,
        )?,
        default_rate: opt_rate("defaultInterestRate")?,
        term_units: codes(b, "termUnit", TermUnit::parse)?,
        days_limit: limit(
            b,
            [
                "daysLimitType",
                "singleMinDays",
                "singleMaxDays",
                "singleDays",
            ],
            true,
            "a count",
            parse_count,
        )?,
        default_days: opt_count("singleDefaultDays")?,
        months_limit: limit(
            b,
            [
                "monthsLimitType",
                "singleMinMonths",
                "singleMaxMonths",
                "singleMonths",
            ],
            true,
            "a count",
            parse_count,
        )?,
        default_months: opt_count("singleDefaultMonths")?,
        repay_types: codes(b, "repayType", RepayType::parse)?,
        repay_term_units: codes(b, "repayTermUnit", TermUnit::parse)?,
        default_repay_term_count: opt_count("defaultRepayTermCount")?,
        default_repay_term_unit: text(b, "defaultRepayTermUnit")?
            .filter(|v| !v.is_empty())
            .map(|u| {
                TermUnit::parse(u).ok_or_else(|| {
                    err(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "defaultRepayTermUnit must be 1 or 2",
                    )
                })
            })
            .transpose()?,
        penalty_rate: opt_rate("penaltyRate")?,
        service_fee_rate: opt_rate("serviceFeeRate")?.unwrap_or(Rate::ZERO),
        upfront_fee_rate: opt_rate("upfrontFeeRate")?.unwrap_or(Rate::ZERO),
        on_sale: b.get("onSale").and_then(Value::as_bool).unwrap_or(true),
        display_order: b
            .get("displayOrder")
            .and_then(Value::as_i64)
            .and_then(|n| i32::try_from(n).ok())
            .unwrap_or(100),
    })
}

fn product_json(p: &ProductRow) -> Value {
    json!({
        "id": p.id, "code": p.code, "name": p.name, "onSale": p.on_sale, "displayOrder": p.display_order,
        "amountLimitType": p.amount_limit_type, "singleMinAmount": money(p.single_min_amount_cents),
        "singleMaxAmount": money(p.single_max_amount_cents), "singleAmounts": p.single_amounts,
        "interestRateLimitType": p.rate_limit_type, "minInterestRate": p.min_rate, "maxInterestRate": p.max_rate,
        "interestRates": p.rates, "termUnit": p.term_units, "singleDays": p.days, "singleMinDays": p.min_days,
        "singleMaxDays": p.max_days, "singleMonths": p.months, "singleMinMonths": p.min_months,
        "singleMaxMonths": p.max_months, "repayType": p.repay_types, "repayTermUnit": p.repay_term_units,
        "penaltyRate": p.penalty_rate, "serviceFeeRate": p.service_fee_rate, "upfrontFeeRate": p.upfront_fee_rate,
    })
}

fn checked(st: &AppState, p: &LoanProduct) -> Result<(), (StatusCode, String)> {
    p.check(&st.policy).map_err(|e| {
        err(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("product refused: {e}"),
        )
    })
}

/// `GET /admin/products`.
pub async fn products(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    run(req, state, |_, conn| {
        let rows = list_products(conn).map_err(fault)?;
        Ok((
            StatusCode::OK,
            json!({"items": rows.iter().map(product_json).collect::<Vec<_>>()}),
        ))
    })
    .await
}

/// `POST /admin/products`.
pub async fn create_product(
    req: HttpRequest,
    state: web::Data<AppState>,
    bytes: web::Bytes,
) -> HttpResponse {
    run(req, state, move |st, conn| {
        let b = body(&bytes)?;
        let p = product_from(&b, new_id())?;
        checked(st, &p)?;
        let now = st.now_ms();
        let code = text(&b, "code")?.map_or_else(
            || format!("PRODUCT{}", &p.id[..8].to_uppercase()),
            str::to_owned,
        );
        let row = ProductRow::from_domain(&p, &code, now, now);
        match insert_product(conn, &row) {
            Ok(()) => Ok((StatusCode::CREATED, product_json(&row))),
            Err(e) if e.is_unique_violation() => {
                Err(err(StatusCode::CONFLICT, "a product with this code exists"))
            }
            Err(e) => Err(fault(e)),
        }
    })
    .await
}

/// `PUT /admin/products/{id}`.
pub async fn replace_product(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    bytes: web::Bytes,
) -> HttpResponse {
    let id = id.into_inner();
    run(req, state, move |st, conn| {
        let b = body(&bytes)?;
        let old = find_product(conn, &id)
            .map_err(fault)?
            .ok_or_else(|| err(StatusCode::NOT_FOUND, "no such product"))?;
        let p = product_from(&b, id.clone())?;
        checked(st, &p)?;
        let code = text(&b, "code")?.unwrap_or(&old.code).to_owned();
        let row = ProductRow::from_domain(&p, &code, old.created_at, st.now_ms());
        update_product(conn, &row).map_err(fault)?;
        Ok((StatusCode::OK, product_json(&row)))
    })
    .await
}

/// `POST /admin/users/{mobile}/blacklist` (`{"reason"}` optional).
pub async fn blacklist(
    req: HttpRequest,
    state: web::Data<AppState>,
    mobile: web::Path<String>,
    bytes: web::Bytes,
) -> HttpResponse {
    let mobile = mobile.into_inner();
    run(req, state, move |st, conn| {
        let b = body(&bytes)?;
        if cashloan_domain::Mobile::parse(&mobile).is_none() {
            return Err(err(StatusCode::UNPROCESSABLE_ENTITY, "not a mobile number"));
        }
        let added = add_to_blacklist(
            conn,
            &mobile,
            text(&b, "reason")?.unwrap_or(""),
            st.now_ms(),
        )
        .map_err(fault)?;
        Ok((
            StatusCode::OK,
            json!({"mobile": mobile, "blacklisted": true, "added": added}),
        ))
    })
    .await
}

/// `DELETE /admin/users/{mobile}/blacklist`.
pub async fn unblacklist(
    req: HttpRequest,
    state: web::Data<AppState>,
    mobile: web::Path<String>,
) -> HttpResponse {
    let mobile = mobile.into_inner();
    run(req, state, move |_, conn| {
        let removed = remove_from_blacklist(conn, &mobile).map_err(fault)?;
        Ok((
            StatusCode::OK,
            json!({"mobile": mobile, "blacklisted": false, "removed": removed}),
        ))
    })
    .await
}

/// `PUT /admin/users/{mobile}/credit` with `{"totalCredit": "…"}`.
pub async fn credit(
    req: HttpRequest,
    state: web::Data<AppState>,
    mobile: web::Path<String>,
    bytes: web::Bytes,
) -> HttpResponse {
    let mobile = mobile.into_inner();
    run(req, state, move |st, conn| {
        let b = body(&bytes)?;
        let total = Money::parse_amount(required(&b, "totalCredit")?).ok_or_else(|| {
            err(
                StatusCode::UNPROCESSABLE_ENTITY,
                "totalCredit is not an amount",
            )
        })?;
        if !set_total_credit(conn, &mobile, total.cents(), st.now_ms()).map_err(fault)? {
            return Err(err(StatusCode::NOT_FOUND, "no user with this mobile"));
        }
        let user = find_user_by_mobile(conn, &mobile)
            .map_err(fault)?
            .ok_or_else(|| err(StatusCode::NOT_FOUND, "no user"))?;
        let u = find_user(conn, &user.id)
            .map_err(fault)?
            .map(|u| u.total_credit_cents);
        Ok((
            StatusCode::OK,
            json!({"mobile": mobile, "totalCredit": money(u)}),
        ))
    })
    .await
}

/// `PUT /admin/users/{mobile}/status` with `{"disabled": bool, "risk": bool}` (either optional):
/// a disabled account cannot log in (§4 `90009000`); `risk` is shown as §19's `isRisk`.
pub async fn user_status(
    req: HttpRequest,
    state: web::Data<AppState>,
    mobile: web::Path<String>,
    bytes: web::Bytes,
) -> HttpResponse {
    let mobile = mobile.into_inner();
    run(req, state, move |st, conn| {
        let b = body(&bytes)?;
        let flag = |k: &str| match b.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(v)) => Ok(Some(*v)),
            Some(_) => Err(err(
                StatusCode::BAD_REQUEST,
                format!("{k} must be true or false"),
            )),
        };
        let (disabled, risk) = (flag("disabled")?, flag("risk")?);
        let user = find_user_by_mobile(conn, &mobile)
            .map_err(fault)?
            .ok_or_else(|| err(StatusCode::NOT_FOUND, "no user with this mobile"))?;
        let now = st.now_ms();
        if let Some(d) = disabled {
            set_disabled(conn, &mobile, d, now).map_err(fault)?;
        }
        if let Some(r) = risk {
            set_risk(conn, &mobile, r, now).map_err(fault)?;
        }
        let u = find_user(conn, &user.id)
            .map_err(fault)?
            .ok_or_else(|| err(StatusCode::NOT_FOUND, "no user"))?;
        Ok((
            StatusCode::OK,
            json!({"mobile": mobile, "disabled": u.disabled, "risk": u.is_risk}),
        ))
    })
    .await
}

/// `POST /admin/system-messages` with `{"messageType", "title", "content", "eventUrl"?}`.
pub async fn system_message(
    req: HttpRequest,
    state: web::Data<AppState>,
    bytes: web::Bytes,
) -> HttpResponse {
    run(req, state, move |st, conn| {
        let b = body(&bytes)?;
        let kind = required(&b, "messageType")?;
        if kind != "0" && kind != "1" {
            return Err(err(
                StatusCode::UNPROCESSABLE_ENTITY,
                "messageType must be 0 (activity) or 1 (announcement)",
            ));
        }
        let now = st.now_ms();
        let m = SystemMessage {
            id: new_id(),
            message_type: kind.to_owned(),
            title: required(&b, "title")?.to_owned(),
            content: required(&b, "content")?.to_owned(),
            event_url: text(&b, "eventUrl")?.unwrap_or("").to_owned(),
            send_at: b.get("sendAt").and_then(Value::as_i64).unwrap_or(now),
            created_at: now,
        };
        add_system_message(conn, &m).map_err(fault)?;
        Ok((StatusCode::CREATED, json!({"id": m.id})))
    })
    .await
}

/// `POST /admin/app-versions` with `{"appType", "versionCode", "versionName", "downloadUrl", "forceUpdate"?, "description"?}`.
pub async fn app_version(
    req: HttpRequest,
    state: web::Data<AppState>,
    bytes: web::Bytes,
) -> HttpResponse {
    run(req, state, move |st, conn| {
        let b = body(&bytes)?;
        let app_type = required(&b, "appType")?;
        if !matches!(app_type, "1" | "2" | "3") {
            return Err(err(
                StatusCode::UNPROCESSABLE_ENTITY,
                "appType must be 1, 2 or 3",
            ));
        }
        let code = required(&b, "versionCode")?
            .parse::<i64>()
            .ok()
            .filter(|c| *c > 0)
            .ok_or_else(|| {
                err(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "versionCode must be a positive number",
                )
            })?;
        let v = AppVersion {
            id: new_id(),
            app_type: app_type.to_owned(),
            version_code: code,
            version_name: required(&b, "versionName")?.to_owned(),
            download_url: required(&b, "downloadUrl")?.to_owned(),
            force_update: matches!(text(&b, "forceUpdate")?, Some("1")),
            description: text(&b, "description")?.unwrap_or("").to_owned(),
            created_at: st.now_ms(),
        };
        if !add_app_version(conn, &v).map_err(fault)? {
            return Err(err(
                StatusCode::CONFLICT,
                "this build of this app type exists",
            ));
        }
        Ok((StatusCode::CREATED, json!({"id": v.id})))
    })
    .await
}

/// `GET /admin/business-date`.
pub async fn get_business_date(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    run(req, state, |st, conn| {
        let date = business_date(st, conn)?;
        let overridden = st.config.allow_business_date_override
            && business_date_override(conn).map_err(fault)?.is_some();
        Ok((
            StatusCode::OK,
            json!({"date": cashloan_domain::format_day(date), "overridden": overridden}),
        ))
    })
    .await
}

/// `POST /admin/business-date` with `{"date": "YYYY-MM-DD"}`, when overrides are allowed.
pub async fn set_business_date(
    req: HttpRequest,
    state: web::Data<AppState>,
    bytes: web::Bytes,
) -> HttpResponse {
    run(req, state, move |st, conn| {
        if !st.config.allow_business_date_override {
            return Err(err(
                StatusCode::FORBIDDEN,
                "CASHLOAN_ALLOW_BUSINESS_DATE_OVERRIDE is off",
            ));
        }
        let b = body(&bytes)?;
        let date = date(required(&b, "date")?)?;
        set_setting(
            conn,
            BUSINESS_DATE,
            &cashloan_domain::format_day(date),
            st.now_ms(),
        )
        .map_err(fault)?;
        Ok((
            StatusCode::OK,
            json!({"date": cashloan_domain::format_day(date), "overridden": true}),
        ))
    })
    .await
}

/// `POST /admin/batch/daily` with `{"date": "YYYY-MM-DD"}`: runs the daily job.
pub async fn daily(
    req: HttpRequest,
    state: web::Data<AppState>,
    bytes: web::Bytes,
) -> HttpResponse {
    run_leased(req, state, move |st, lease| {
        let b = body(&bytes)?;
        let date = match text(&b, "date")? {
            Some(d) => date(d)?,
            None => business_date(st, lease.get().map_err(fault)?)?,
        };
        lease.release();
        let outcome = payments::daily_job(&st.db, st.providers.payments.as_ref(), &st.config, date)
            .map_err(fault)?;
        Ok((StatusCode::OK, report_json(date, &outcome)))
    })
    .await
}

/// The daily job's counts as JSON.
pub fn report_json(date: NaiveDate, o: &payments::DailyOutcome) -> Value {
    let r = &o.book;
    let c = &o.reconciled;
    json!({
        "date": cashloan_domain::format_day(date),
        "lookedAt": r.looked_at, "markedOverdue": r.marked_overdue, "penaltiesAccrued": r.penalties_accrued,
        "reminders": r.reminders, "overdueMessages": r.overdue_messages, "swept": r.swept,
        "elapsedMs": u64::try_from(r.elapsed.as_millis()).unwrap_or(u64::MAX),
        "autoDebit": o.auto_debit.map(|a| json!({
            "opened": a.opened, "succeeded": a.succeeded, "failed": a.failed, "unknown": a.unknown,
        })),
        "reconciled": {
            "asked": c.asked, "succeeded": c.succeeded, "failed": c.failed, "unknown": c.unknown,
            "flagged": c.flagged,
        },
    })
}

/// Registers the admin routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/admin")
            .route("/applications", web::get().to(list))
            .route("/applications/{id}/review", web::post().to(review))
            .route(
                "/applications/{id}/approve",
                web::post().to(approve_application),
            )
            .route(
                "/applications/{id}/reject",
                web::post().to(reject_application),
            )
            .route(
                "/applications/{id}/disburse",
                web::post().to(disburse_application),
            )
            .route("/applications/{id}/ledger", web::get().to(ledger))
            .route("/payments", web::get().to(list_payment_orders))
            .route(
                "/payments/{id}/resolve",
                web::post().to(resolve_payment_order),
            )
            .route("/products", web::get().to(products))
            .route("/products", web::post().to(create_product))
            .route("/products/{id}", web::put().to(replace_product))
            .route("/users/{mobile}/blacklist", web::post().to(blacklist))
            .route("/users/{mobile}/blacklist", web::delete().to(unblacklist))
            .route("/users/{mobile}/credit", web::put().to(credit))
            .route("/users/{mobile}/status", web::put().to(user_status))
            .route("/system-messages", web::post().to(system_message))
            .route("/app-versions", web::post().to(app_version))
            .route("/business-date", web::get().to(get_business_date))
            .route("/business-date", web::post().to(set_business_date))
            .route("/batch/daily", web::post().to(daily)),
    );
}
