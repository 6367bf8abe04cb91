#![allow(clippy::expect_used, clippy::panic)]
//! Signature vectors computed outside Rust, by an independent Python implementation of
//! docs/api.md's canonical JSON and SHA-1 signature (`vectors/sign_vectors.py`).
//!
//! Produced with:
//!     python3 crates/protocol/tests/vectors/sign_vectors.py
//! (app key `12345678`); each vector is (body as sent, canonical body without `sign`, signature).

use cashloan_protocol::json::{write_canonical_object, Json};
use cashloan_protocol::{parse, sign, verify, Map};

const APP_KEY: &str = "12345678";

const VECTORS: &[(&str, &str, &str)] = &[
    (
        r#"{"nonce":"admin","sign":"16c1bb0a5cee2af1632df8ef3a3e4d5b40f530fd","timestamp":"12"}"#,
        r#"{"nonce":"admin","timestamp":"12"}"#,
        "b474c98e0cf6974abb2c87810a706d32c6b251ea",
    ),
    (
        r#"{"timestamp":"1511232391000","nonce":"30918475","amount":"500.00","raw":500.00,"phonebookList":[{"contactPhone":"13940460755","contactName":"木木","remark":null},{"remark":"同事","contactName":"张三","contactPhone":"138-0000-0000"}],"outer":{"z":{"b":2,"a":1},"a":[]}}"#,
        r#"{"amount":"500.00","nonce":"30918475","outer":{"a":[],"z":{"a":1,"b":2}},"phonebookList":[{"contactName":"木木","contactPhone":"13940460755"},{"contactName":"张三","contactPhone":"138-0000-0000","remark":"同事"}],"raw":500.00,"timestamp":"1511232391000"}"#,
        "1c8299ce5c82062e7ba270b85268ca32011077f1",
    ),
    (
        r#"{"timestamp":"1508051552854","nonce":"02589525","suggestion":"say \"hi\"\nline2\t\\ \u0001 \u00e9 \/"}"#,
        r#"{"nonce":"02589525","suggestion":"say \"hi\"\nline2\t\\ \u0001 é /","timestamp":"1508051552854"}"#,
        "4206bdbdcad5777ef44035f010504dc2af3f9eeb",
    ),
    (
        r#"{"timestamp":"1511758907184","nonce":"12345678","pageNum":1,"pageSize":10,"flag":true,"off":false,"gone":null,"neg":-12,"exp":1.5E+3,"zero":0}"#,
        r#"{"exp":1.5E+3,"flag":true,"neg":-12,"nonce":"12345678","off":false,"pageNum":1,"pageSize":10,"timestamp":"1511758907184","zero":0}"#,
        "a44c789e76eeb09c1ef7e5f0b983a06130800c4a",
    ),
    (
        r#"{ "nonce" : "1" , "timestamp" : "2" , "b" : "x", "B" : "y", "_" : "z", "中" : "w", "a1" : [ 1 , 2 ] }"#,
        r#"{"B":"y","_":"z","a1":[1,2],"b":"x","nonce":"1","timestamp":"2","中":"w"}"#,
        "64319dd97a9e6c26f756ad33026d22cda1b6ef83",
    ),
    (
        r#"{"timestamp":1511758907184,"nonce":"n","o":{},"p":{"q":null}}"#,
        r#"{"nonce":"n","o":{},"p":{},"timestamp":1511758907184}"#,
        "45995f7bc52421a43086cd362f12463f7c002b23",
    ),
];

fn object(text: &str) -> Map {
    match parse(text.as_bytes()).expect("vector body parses") {
        Json::Object(m) => m,
        other => panic!("vector body is a {}", other.type_name()),
    }
}

#[test]
fn canonical_text_matches_the_independent_implementation() {
    for (body, canonical, _) in VECTORS {
        let mut out = String::new();
        write_canonical_object(&object(body), Some("sign"), &mut out);
        assert_eq!(&out, canonical, "body {body}");
    }
}

#[test]
fn signatures_match_the_independent_implementation() {
    for (body, _, expected) in VECTORS {
        assert_eq!(sign(APP_KEY, &object(body)), *expected, "body {body}");
    }
}

#[test]
fn a_body_carrying_its_vector_signature_verifies_and_a_changed_one_does_not() {
    for (body, _, expected) in VECTORS {
        let mut m = object(body);
        m.insert("sign", *expected);
        assert!(verify(APP_KEY, &m), "body {body}");
        m.insert("nonce", "changed");
        assert!(!verify(APP_KEY, &m), "body {body}");
    }
}

#[test]
fn the_seed_sample_signatures_do_not_match_their_bodies() {
    // docs/api.md: the seed's sample `sign` values were copied between sections.
    let seed = object(VECTORS[0].0);
    assert!(!verify(APP_KEY, &seed));
}
