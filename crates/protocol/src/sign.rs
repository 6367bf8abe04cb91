//! Request and response signatures (docs/api.md "Signature"):
//! `lowercase_hex(SHA1(app_key + timestamp + nonce + canonical(body without "sign")))`.

use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

use crate::json::{write_canonical_object, Json, Map};

/// The body member that carries the signature; it is never covered by it.
pub const SIGN_FIELD: &str = "sign";

/// The text a signature takes for `timestamp` or `nonce`: a string's content, a number as
/// written, and the empty string when the member is absent or of another type (docs/api.md, "The signature").
pub fn envelope_text<'a>(body: &'a Map, key: &str) -> &'a str {
    match body.get(key) {
        Some(Json::String(s)) => s,
        Some(Json::Number(n)) => n,
        _ => "",
    }
}

/// The exact text that is hashed: app key, timestamp, nonce, then the canonical body without
/// `sign`. Exposed so that a failing signature can be explained in a test or a debug log.
pub fn signing_input(app_key: &str, body: &Map) -> String {
    let mut out = String::with_capacity(256);
    out.push_str(app_key);
    out.push_str(envelope_text(body, "timestamp"));
    out.push_str(envelope_text(body, "nonce"));
    write_canonical_object(body, Some(SIGN_FIELD), &mut out);
    out
}

/// The signature of `body` (its `sign` member, if any, excluded): 40 lowercase hex digits.
pub fn sign(app_key: &str, body: &Map) -> String {
    hex::encode(Sha1::digest(signing_input(app_key, body).as_bytes()))
}

/// Whether `body`'s `sign` member is its correct signature. Hex case is ignored; the comparison
/// takes the same time wherever the first difference is.
pub fn verify(app_key: &str, body: &Map) -> bool {
    let Some(Json::String(given)) = body.get(SIGN_FIELD) else {
        return false;
    };
    let expected = sign(app_key, body);
    let given = given.to_ascii_lowercase();
    // Lengths are public (always 40 when well-formed); only the content is compared in constant time.
    given.len() == expected.len() && bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    fn obj(text: &str) -> Map {
        match parse(text.as_bytes()).unwrap() {
            Json::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn signing_input_puts_key_timestamp_nonce_then_canonical_body() {
        let body = obj(r#"{"timestamp":"12","sign":"x","nonce":"admin","b":1,"a":null}"#);
        assert_eq!(
            signing_input("12345678", &body),
            r#"1234567812admin{"b":1,"nonce":"admin","timestamp":"12"}"#
        );
    }

    #[test]
    fn absent_or_mistyped_timestamp_and_nonce_count_as_empty() {
        let body = obj(r#"{"nonce":true}"#);
        assert_eq!(signing_input("k", &body), r#"k{"nonce":true}"#);
        let body = obj(r#"{"timestamp":1511758907184,"nonce":"n"}"#);
        assert_eq!(
            signing_input("k", &body),
            r#"k1511758907184n{"nonce":"n","timestamp":1511758907184}"#
        );
    }

    #[test]
    fn verify_accepts_uppercase_and_refuses_tampering() {
        let mut body = obj(r#"{"timestamp":"1","nonce":"2","amount":"500.00"}"#);
        let s = sign("12345678", &body);
        body.insert("sign", s.to_uppercase());
        assert!(verify("12345678", &body));
        assert!(!verify("12345679", &body));
        body.insert("amount", "500.01");
        assert!(!verify("12345678", &body));
    }

    #[test]
    fn verify_refuses_missing_or_non_string_sign() {
        let body = obj(r#"{"timestamp":"1","nonce":"2"}"#);
        assert!(!verify("k", &body));
        let body = obj(r#"{"timestamp":"1","nonce":"2","sign":12}"#);
        assert!(!verify("k", &body));
        let body = obj(r#"{"timestamp":"1","nonce":"2","sign":""}"#);
        assert!(!verify("k", &body));
    }
}
