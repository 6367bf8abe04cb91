//! Response envelopes (docs/api.md "Envelope"): `exceptionFlag`, `responseCode`,
//! `responseMessage`, `timestamp`, `nonce`, `sign`, `resultSet`, and the paging members of paged
//! lists (docs/api.md, "Requests and answers").

use rand::Rng;

use crate::codes::Outcome;
use crate::json::{Json, Map};
use crate::sign::sign;

/// Largest `pageSize` a client may ask for.
pub const MAX_PAGE_SIZE: u32 = 100;
/// `pageSize` when the client sends none.
pub const DEFAULT_PAGE_SIZE: u32 = 10;

/// Paging of one list response (docs/api.md, "Requests and answers").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// The requested page, from 1.
    pub page_num: u32,
    /// Rows per page.
    pub page_size: u32,
    /// Rows matching.
    pub total: u64,
}

impl Paging {
    /// Number of pages: `ceil(total / pageSize)`, 0 when there are no rows.
    pub fn pages(&self) -> u64 {
        self.total.div_ceil(u64::from(self.page_size.max(1)))
    }

    /// Whether this is the first page.
    pub fn is_first_page(&self) -> bool {
        self.page_num == 1
    }

    /// Whether this is the last page (or past it).
    pub fn is_last_page(&self) -> bool {
        u64::from(self.page_num) >= self.pages()
    }

    /// Rows to skip to reach this page.
    pub fn offset(&self) -> u64 {
        u64::from(self.page_num.saturating_sub(1)) * u64::from(self.page_size)
    }
}

/// A response envelope before signing.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// Code and message.
    pub outcome: Outcome,
    /// `resultSet`; `""` on every failure.
    pub result_set: Json,
    /// Paging members, for paged lists that succeeded.
    pub paging: Option<Paging>,
}

impl Envelope {
    /// A success (or any outcome) with its `resultSet`.
    pub fn success(outcome: impl Into<Outcome>, result_set: Json) -> Self {
        Self {
            outcome: outcome.into(),
            result_set,
            paging: None,
        }
    }

    /// A paged list.
    pub fn paged(outcome: impl Into<Outcome>, rows: Vec<Json>, paging: Paging) -> Self {
        Self {
            outcome: outcome.into(),
            result_set: Json::Array(rows),
            paging: Some(paging),
        }
    }

    /// A failure: `resultSet` is `""` and no paging members are sent (docs/api.md, "Requests and answers").
    pub fn failure(outcome: impl Into<Outcome>) -> Self {
        Self {
            outcome: outcome.into(),
            result_set: Json::String(String::new()),
            paging: None,
        }
    }

    /// The signed response body with the given server time and nonce.
    pub fn to_signed_map(&self, app_key: &str, timestamp_ms: i64, nonce: &str) -> Map {
        let mut m = Map::new();
        m.insert("exceptionFlag", self.outcome.code.exception_flag());
        m.insert("responseCode", self.outcome.code.code());
        m.insert("responseMessage", self.outcome.message.as_str());
        m.insert("timestamp", timestamp_ms.to_string());
        m.insert("nonce", nonce);
        if let Some(p) = &self.paging {
            m.insert("pageNum", u64::from(p.page_num));
            m.insert("pageSize", u64::from(p.page_size));
            m.insert("pages", p.pages());
            m.insert("total", p.total);
            m.insert("isFirstPage", p.is_first_page());
            m.insert("isLastPage", p.is_last_page());
        }
        m.insert("resultSet", self.result_set.clone());
        let signature = sign(app_key, &m);
        m.insert("sign", signature);
        m
    }

    /// The signed response body as wire text, with a fresh nonce.
    pub fn to_signed_body(&self, app_key: &str, timestamp_ms: i64) -> String {
        Json::Object(self.to_signed_map(app_key, timestamp_ms, &fresh_nonce())).to_compact_string()
    }
}

/// Eight random decimal digits.
pub fn fresh_nonce() -> String {
    let n: u32 = rand::thread_rng().gen_range(0..100_000_000);
    format!("{n:08}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::ResponseCode;
    use crate::json::parse;
    use crate::sign::verify;

    #[test]
    fn paging_arithmetic() {
        let p = Paging {
            page_num: 1,
            page_size: 10,
            total: 0,
        };
        assert_eq!(p.pages(), 0);
        assert!(p.is_first_page() && p.is_last_page());
        let p = Paging {
            page_num: 2,
            page_size: 2,
            total: 8,
        };
        assert_eq!((p.pages(), p.offset()), (4, 2));
        assert!(!p.is_first_page() && !p.is_last_page());
        let p = Paging {
            page_num: 9,
            page_size: 2,
            total: 8,
        };
        assert!(p.is_last_page());
        let p = Paging {
            page_num: 3,
            page_size: 10,
            total: 21,
        };
        assert_eq!(p.pages(), 3);
        assert!(p.is_last_page());
    }

    #[test]
    fn success_envelope_is_signed_and_verifiable() {
        let env = Envelope::success(ResponseCode::CaptchaIssued, Json::from("o3wt"));
        let body = env.to_signed_body("12345678", 1508051460170);
        let Json::Object(map) = parse(body.as_bytes()).unwrap() else {
            panic!("not an object")
        };
        assert!(verify("12345678", &map));
        assert_eq!(map.get("exceptionFlag"), Some(&Json::from("0000")));
        assert_eq!(map.get("responseCode"), Some(&Json::from("0000")));
        assert_eq!(
            map.get("responseMessage"),
            Some(&Json::from("获取验证码成功"))
        );
        assert_eq!(map.get("timestamp"), Some(&Json::from("1508051460170")));
        assert_eq!(map.get("resultSet"), Some(&Json::from("o3wt")));
        let nonce = map.get("nonce").and_then(Json::as_str).unwrap();
        assert_eq!(nonce.len(), 8);
        assert!(nonce.bytes().all(|b| b.is_ascii_digit()));
    }

    #[test]
    fn failure_envelope_has_empty_result_and_no_paging() {
        let env = Envelope::failure(Outcome::malformed_field("pageNum"));
        let map = env.to_signed_map("k", 1, "12345678");
        assert_eq!(map.get("resultSet"), Some(&Json::from("")));
        assert_eq!(map.get("exceptionFlag"), Some(&Json::from("9999")));
        assert!(map.get("pageNum").is_none());
        assert_eq!(
            map.get("responseMessage"),
            Some(&Json::from("请求报文传输信息有误: pageNum"))
        );
    }

    #[test]
    fn paged_envelope_carries_paging_members() {
        let env = Envelope::paged(
            ResponseCode::LoansFetched,
            vec![Json::from("a"), Json::from("b")],
            Paging {
                page_num: 1,
                page_size: 2,
                total: 8,
            },
        );
        let map = env.to_signed_map("k", 1, "12345678");
        assert_eq!(map.get("pages"), Some(&Json::Number("4".into())));
        assert_eq!(map.get("total"), Some(&Json::Number("8".into())));
        assert_eq!(map.get("isFirstPage"), Some(&Json::Bool(true)));
        assert_eq!(map.get("isLastPage"), Some(&Json::Bool(false)));
        assert!(verify("k", &map));
    }

    #[test]
    fn nonces_are_fresh() {
        let a: std::collections::HashSet<String> = (0..50).map(|_| fresh_nonce()).collect();
        assert!(a.len() > 45);
    }
}
