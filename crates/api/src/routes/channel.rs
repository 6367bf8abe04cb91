//! `POST /channel/notify`: the payment channel tells us what became of a movement.
//!
//! Authenticated by `X-Channel-Signature`, the lowercase hex HMAC-SHA256 of the raw body under
//! `CASHLOAN_PAYMENT_CHANNEL_SECRET` (401 when it is unset or the signature is wrong). A duplicate
//! answers 200 and changes nothing; an amount that differs from the order's is never applied: the
//! order is flagged for operators.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use cashloan_domain::Money;
use cashloan_persistence::payment_orders::{settle, ChannelOutcome, SettledBy, Settlement};
use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::context::AppState;

/// The header carrying the notification's signature.
pub const SIGNATURE_HEADER: &str = "X-Channel-Signature";

/// Whether `signature` (hex) is the HMAC-SHA256 of `body` under `secret`, compared in constant
/// time.
pub fn signature_is_valid(secret: &str, body: &[u8], signature: &str) -> bool {
    let Ok(given) = hex::decode(signature.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

fn answer(status: StatusCode, body: Value) -> HttpResponse {
    HttpResponse::build(status).json(body)
}

/// What the payment channel tells us about one movement.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// Our payment order's reference (its id), as we gave it to the channel.
    pub reference: String,
    /// `succeeded` or `failed`.
    pub status: String,
    /// The channel's own reference of the movement.
    pub channel_ref: Option<String>,
    /// The amount moved (`"1014.00"`); when it differs from the order's, the order is flagged
    /// for operators and nothing is applied.
    pub amount: Option<String>,
    /// Why it failed, for the borrower's message.
    pub message: Option<String>,
}

/// `POST /channel/notify` with a [`Notification`].
pub async fn notify(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    let Some(secret) = state
        .config
        .payment_channel_secret
        .as_ref()
        .map(|s| s.expose_secret().to_owned())
    else {
        return answer(
            StatusCode::UNAUTHORIZED,
            json!({"error": "notifications are not configured"}),
        );
    };
    let signature = req
        .headers()
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !signature_is_valid(&secret, &body, signature) {
        tracing::warn!("channel notification with a missing or wrong signature refused");
        return answer(
            StatusCode::UNAUTHORIZED,
            json!({"error": "missing or wrong signature"}),
        );
    }
    let note: Notification = match serde_json::from_slice::<Value>(&body)
        .ok()
        .filter(Value::is_object)
    {
        None => {
            return answer(
                StatusCode::BAD_REQUEST,
                json!({"error": "body must be a JSON object"}),
            )
        }
        Some(v) => match serde_path_to_error::deserialize(v) {
            Ok(n) => n,
            Err(e) => {
                return answer(
                    StatusCode::BAD_REQUEST,
                    json!({"error": format!("{}: {}", e.path(), e.inner())}),
                )
            }
        },
    };
    let amount = match note.amount.as_deref().map(Money::parse_amount) {
        None => None,
        Some(Some(m)) => Some(m),
        Some(None) => {
            return answer(
                StatusCode::BAD_REQUEST,
                json!({"error": "amount is not an amount"}),
            )
        }
    };
    let outcome = match note.status.as_str() {
        "succeeded" => ChannelOutcome::Succeeded {
            channel_ref: note.channel_ref,
            amount,
        },
        "failed" => ChannelOutcome::Failed {
            message: note.message.unwrap_or_else(|| "支付渠道拒绝交易".into()),
        },
        _ => {
            return answer(
                StatusCode::BAD_REQUEST,
                json!({"error": "status must be succeeded or failed"}),
            )
        }
    };
    let reference = note.reference;
    let st = state.clone();
    let settled = web::block(move || {
        let mut conn = st.db.conn()?;
        settle(
            &mut conn,
            &reference,
            &outcome,
            SettledBy::Notification,
            st.now_ms(),
        )
    })
    .await;
    match settled {
        Ok(Ok(Settlement::NotFound)) => {
            answer(StatusCode::NOT_FOUND, json!({"error": "no such reference"}))
        }
        Ok(Ok(Settlement::AlreadySettled(s))) => answer(
            StatusCode::OK,
            json!({"ok": true, "applied": false, "status": s.as_str()}),
        ),
        Ok(Ok(Settlement::Flagged(why))) => {
            tracing::error!(%why, "channel notification flagged for operators");
            answer(
                StatusCode::OK,
                json!({"ok": true, "applied": false, "flagged": why}),
            )
        }
        Ok(Ok(s)) => {
            tracing::info!(settlement = ?s, "payment order settled by the channel's notification");
            answer(StatusCode::OK, json!({"ok": true, "applied": true}))
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "channel notification failed");
            answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error": "internal error"}),
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "channel notification failed");
            answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error": "internal error"}),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_of_the_raw_body() {
        let body = br#"{"reference":"r1","status":"succeeded"}"#;
        let mut mac = Hmac::<Sha256>::new_from_slice(b"s3cret").unwrap();
        mac.update(body);
        let good = hex::encode(mac.finalize().into_bytes());
        assert!(signature_is_valid("s3cret", body, &good));
        assert!(!signature_is_valid("other", body, &good));
        assert!(!signature_is_valid("s3cret", b"{}", &good));
        assert!(!signature_is_valid("s3cret", body, "zz"));
        assert!(!signature_is_valid("s3cret", body, ""));
    }
}
