//! The payment channel (支付渠道): moves money to and from borrowers' cards, and says what
//! became of a movement when asked.
//!
//! The reference of every call is the payment order's id: the channel treats a repeated
//! reference as the same movement, so asking twice never moves money twice. An answer that does
//! not say what happened (a timeout, a connection error, a 5xx, `pending`) is `Unknown`, never a
//! refusal: the order stays open until the channel's own word settles it.
//!
//! HTTP contract (`http:URL`), docs/operations.md:
//! - move: `POST URL {"op": "charge"|"payout", "reference", "cardNo", "amount": "1014.00"}` →
//!   2xx `{"status": "succeeded"|"failed"|"pending", "channelRef"?, "message"?}` (`{"ok": true}`
//!   without `status` still means succeeded; `status` wins when both are present);
//! - ask: `POST URL {"op": "query", "reference"}` → the same shape, or `{"status": "unknown"}`
//!   when the channel never saw the reference.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use cashloan_domain::Money;
use cashloan_persistence::payment_orders::ChannelOutcome;
use serde_json::{json, Value};

use crate::config::ConfigError;
use crate::providers::{kind, Kind};

/// The channel's answer to "what became of this reference?".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueryAnswer {
    /// It knows the reference: this is what became of it (`Unknown` while it is still pending).
    Known(ChannelOutcome),
    /// It never received the reference: no money moved for it.
    NeverSeen,
}

/// Moves money to and from borrowers' bank cards.
pub trait PaymentChannel: Send + Sync {
    /// Asks for a movement: `op` is `payout` or `charge`. Never an error: what is not known is
    /// [`ChannelOutcome::Unknown`].
    fn submit(&self, op: &str, reference: &str, card_no: &str, amount: Money) -> ChannelOutcome;
    /// Asks what became of `reference`.
    fn query(&self, reference: &str) -> QueryAnswer;
}

/// The built-in channel for demonstrations and tests: every movement succeeds, once per
/// reference (it remembers them, like a real channel), and it answers queries about them.
#[derive(Default)]
pub struct LocalChannel {
    moved: Mutex<HashMap<String, (String, Money)>>,
}

impl PaymentChannel for LocalChannel {
    fn submit(&self, op: &str, reference: &str, _card_no: &str, amount: Money) -> ChannelOutcome {
        if let Ok(mut moved) = self.moved.lock() {
            moved
                .entry(reference.to_owned())
                .or_insert_with(|| (op.to_owned(), amount));
        }
        ChannelOutcome::Succeeded {
            channel_ref: Some(format!("local-{op}-{reference}")),
            amount: None,
        }
    }

    fn query(&self, reference: &str) -> QueryAnswer {
        let known = self
            .moved
            .lock()
            .ok()
            .and_then(|m| m.get(reference).cloned());
        match known {
            Some((op, _)) => QueryAnswer::Known(ChannelOutcome::Succeeded {
                channel_ref: Some(format!("local-{op}-{reference}")),
                amount: None,
            }),
            None => QueryAnswer::NeverSeen,
        }
    }
}

/// A channel that refuses everything (to rehearse the refusal paths).
struct RefusingChannel;

impl PaymentChannel for RefusingChannel {
    fn submit(&self, _op: &str, _reference: &str, _card: &str, _amount: Money) -> ChannelOutcome {
        ChannelOutcome::Failed {
            message: "支付渠道拒绝交易".into(),
        }
    }

    fn query(&self, _reference: &str) -> QueryAnswer {
        QueryAnswer::NeverSeen
    }
}

/// A channel over HTTP.
struct HttpChannel {
    url: String,
    timeout: Duration,
}

impl HttpChannel {
    /// Posts `body`; the JSON of a 2xx answer, `Err(Unknown)` when there is no usable answer,
    /// `Err(Failed)` for a 4xx (the channel understood the request and refused it).
    fn post(&self, body: &Value) -> Result<Value, ChannelOutcome> {
        let unknown = |message: String| ChannelOutcome::Unknown { message };
        match ureq::post(&self.url).timeout(self.timeout).send_json(body) {
            Ok(answer) => answer
                .into_json::<Value>()
                .map_err(|e| unknown(format!("the channel answered no JSON: {e}"))),
            Err(ureq::Error::Status(code, answer)) if (400..500).contains(&code) => {
                let message = answer
                    .into_json::<Value>()
                    .ok()
                    .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
                    .unwrap_or_else(|| format!("HTTP {code}"));
                Err(ChannelOutcome::Failed { message })
            }
            Err(ureq::Error::Status(code, _)) => {
                Err(unknown(format!("the channel answered HTTP {code}")))
            }
            Err(e) => Err(unknown(format!("no answer from the channel: {e}"))),
        }
    }
}

/// Reads `{"status", "channelRef", "message", "ok"}`; `None` for `"status": "unknown"`.
fn outcome_of(v: &Value) -> Option<ChannelOutcome> {
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let channel_ref = text("channelRef").or_else(|| text("ref"));
    let message = text("message").unwrap_or_default();
    let status = text("status").or_else(|| match v.get("ok") {
        Some(Value::Bool(true)) => Some("succeeded".to_owned()),
        Some(Value::Bool(false)) => Some("failed".to_owned()),
        _ => None,
    });
    Some(match status.as_deref() {
        Some("succeeded") => ChannelOutcome::Succeeded {
            channel_ref,
            amount: None,
        },
        Some("failed") => ChannelOutcome::Failed {
            message: if message.is_empty() {
                "支付渠道拒绝交易".into()
            } else {
                message
            },
        },
        Some("unknown") => return None,
        Some("pending") => ChannelOutcome::Unknown {
            message: "the channel says pending".into(),
        },
        other => ChannelOutcome::Unknown {
            message: format!("the channel answered no known status: {other:?}"),
        },
    })
}

impl PaymentChannel for HttpChannel {
    fn submit(&self, op: &str, reference: &str, card_no: &str, amount: Money) -> ChannelOutcome {
        let body = json!({"op": op, "reference": reference, "cardNo": card_no, "amount": amount.to_string()});
        match self.post(&body) {
            // A channel that says it never saw what we just sent said nothing useful.
            Ok(v) => outcome_of(&v).unwrap_or(ChannelOutcome::Unknown {
                message: "the channel answered unknown to a movement".into(),
            }),
            Err(o) => o,
        }
    }

    fn query(&self, reference: &str) -> QueryAnswer {
        match self.post(&json!({"op": "query", "reference": reference})) {
            Ok(v) => outcome_of(&v).map_or(QueryAnswer::NeverSeen, QueryAnswer::Known),
            // A refusal of the question is not an answer about the money.
            Err(ChannelOutcome::Failed { message }) => {
                QueryAnswer::Known(ChannelOutcome::Unknown { message })
            }
            Err(o) => QueryAnswer::Known(o),
        }
    }
}

/// The payment channel of a setting: `local`, `refuse` or `http:URL`, calls timing out after
/// `timeout`.
pub fn payment_channel(
    setting: &str,
    timeout: Duration,
) -> Result<Box<dyn PaymentChannel>, ConfigError> {
    Ok(match kind("payment_channel", setting)? {
        Kind::Local => Box::new(LocalChannel::default()),
        Kind::Refuse => Box::new(RefusingChannel),
        Kind::Http(url) => Box::new(HttpChannel { url, timeout }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_channel_remembers_references() {
        let c = LocalChannel::default();
        assert_eq!(c.query("r1"), QueryAnswer::NeverSeen);
        let first = c.submit("charge", "r1", "6217", Money::from_cents(100));
        assert!(matches!(first, ChannelOutcome::Succeeded { .. }));
        assert_eq!(
            c.submit("charge", "r1", "6217", Money::from_cents(100)),
            first
        );
        assert!(matches!(
            c.query("r1"),
            QueryAnswer::Known(ChannelOutcome::Succeeded { .. })
        ));
        assert_eq!(
            c.moved.lock().unwrap().len(),
            1,
            "one movement per reference"
        );
    }

    #[test]
    fn answers_are_read_as_the_contract_says() {
        let succeeded = outcome_of(&json!({"status": "succeeded", "channelRef": "c1"}));
        assert_eq!(
            succeeded,
            Some(ChannelOutcome::Succeeded {
                channel_ref: Some("c1".into()),
                amount: None
            })
        );
        assert!(matches!(
            outcome_of(&json!({"ok": true})),
            Some(ChannelOutcome::Succeeded { .. })
        ));
        assert!(matches!(
            outcome_of(&json!({"ok": true, "status": "failed", "message": "余额不足"})),
            Some(ChannelOutcome::Failed { message }) if message == "余额不足"
        ));
        assert!(matches!(
            outcome_of(&json!({"status": "pending"})),
            Some(ChannelOutcome::Unknown { .. })
        ));
        assert!(matches!(
            outcome_of(&json!({"ok": false})),
            Some(ChannelOutcome::Failed { .. })
        ));
        assert!(matches!(
            outcome_of(&json!({"ref": "x"})),
            Some(ChannelOutcome::Unknown { .. })
        ));
        assert_eq!(outcome_of(&json!({"status": "unknown"})), None);
    }

    #[test]
    fn an_unreachable_channel_is_unknown_never_a_refusal() {
        let c = payment_channel("http:http://127.0.0.1:9/pay", Duration::from_millis(500)).unwrap();
        assert!(matches!(
            c.submit("charge", "r", "6217", Money::from_cents(1)),
            ChannelOutcome::Unknown { .. }
        ));
        assert!(matches!(
            c.query("r"),
            QueryAnswer::Known(ChannelOutcome::Unknown { .. })
        ));
        assert!(matches!(
            payment_channel("refuse", Duration::from_secs(1))
                .unwrap()
                .submit("payout", "r", "6217", Money::ZERO),
            ChannelOutcome::Failed { .. }
        ));
    }
}
