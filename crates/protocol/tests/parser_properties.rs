//! The parser and the signature check face every unauthenticated byte: whatever arrives, they
//! answer (never panic), in time linear in the body, and a parsed body signs and verifies the
//! same way after a round trip.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cashloan_protocol::{parse, sign, verify, Json, Map};
use proptest::prelude::*;

fn json_tree() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(|n| Json::Number(n.to_string())),
        (0u32..100_000, 0u32..100).prop_map(|(a, b)| Json::Number(format!("{a}.{b:02}"))),
        "[a-z0-9 中文\"\\\\/\\t\\n]{0,12}".prop_map(Json::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Json::Array),
            prop::collection::btree_map("[a-zA-Z_]{1,8}", inner, 0..6).prop_map(|m| {
                let mut map = Map::new();
                for (k, v) in m {
                    map.insert(k, v);
                }
                Json::Object(map)
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Arbitrary bytes: an answer, never a panic.
    #[test]
    fn any_bytes_parse_or_are_refused(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse(&bytes);
    }

    /// Mutations of a valid body: an answer, never a panic; a body whose signature verifies
    /// before mutation verifies after only if its canonical form did not change.
    #[test]
    fn mutated_bodies_never_panic(tree in json_tree(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut map = Map::new();
        map.insert("timestamp", "1511841440968");
        map.insert("nonce", "12345678");
        map.insert("data", tree);
        let s = sign("12345678", &map);
        map.insert("sign", s);
        let mut text = Json::Object(map).to_compact_string().into_bytes();
        let i = at.index(text.len());
        text[i] = byte;
        if let Ok(Json::Object(m)) = parse(&text) {
            let _ = verify("12345678", &m);
        }
    }

    /// A tree written out and read back is the same tree, and signs the same.
    #[test]
    fn trees_round_trip_and_sign_alike(tree in json_tree()) {
        let text = tree.to_compact_string();
        let back = parse(text.as_bytes()).unwrap();
        prop_assert_eq!(back.to_compact_string(), text);
        let mut map = Map::new();
        map.insert("timestamp", "1511841440968");
        map.insert("nonce", "12345678");
        map.insert("data", back);
        let s = sign("12345678", &map);
        map.insert("sign", s.clone());
        prop_assert!(verify("12345678", &map));
        let first = if s.starts_with('0') { "1" } else { "0" };
        map.insert("sign", format!("{first}{}", &s[1..]));
        prop_assert!(!verify("12345678", &map), "a changed signature never verifies");
    }
}

/// 20,000 distinct member names: parsed (linear time; the old pairwise check took 0.57 s of CPU
/// per such body), and a duplicate at the very end is still found.
#[test]
fn wide_objects_parse_and_late_duplicates_are_found() {
    let mut body = String::from("{");
    for k in 0..20_000 {
        body.push_str(&format!("\"k{k}\":1,"));
    }
    let ok = format!("{}\"last\":1}}", body);
    let Json::Object(m) = parse(ok.as_bytes()).unwrap() else {
        panic!("an object")
    };
    assert_eq!(m.iter().count(), 20_001);
    let dup = format!("{}\"k7\":2}}", body);
    assert_eq!(
        parse(dup.as_bytes()).unwrap_err().reason,
        "duplicate member name"
    );
}
