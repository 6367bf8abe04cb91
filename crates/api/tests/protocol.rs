//! Black-box: the protocol layer of every endpoint (docs/api.md, "Protocol"), against the real
//! binary on every backend.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;

use cashloan_protocol::{parse, verify, Json};
use common::*;
use serde_json::json;

#[test]
fn answers_are_signed_envelopes() {
    on_every_backend(&[], |s| {
        let a = s.call("/openApi/getCode", json!({}), None);
        assert_eq!(a.status, 200);
        assert!(a
            .header("content-type")
            .unwrap()
            .starts_with("application/json"));
        let Json::Object(body) = parse(&a.body).unwrap() else {
            panic!("not an object")
        };
        assert!(verify(APP_KEY, &body), "{}: response signature", s.backend);
        let v = a.json();
        assert_eq!(
            (v["exceptionFlag"].as_str(), v["responseCode"].as_str()),
            (Some("0000"), Some("0000"))
        );
        assert_eq!(v["nonce"].as_str().unwrap().len(), 8);
        let ts: i64 = v["timestamp"].as_str().unwrap().parse().unwrap();
        assert!((now_ms() - ts).abs() < 60_000);
        assert!(a.header("x-request-id").is_some());
    });
}

#[test]
fn a_wrong_sign_an_old_timestamp_and_a_replayed_nonce_are_refused() {
    on_every_backend(&[], |s| {
        // Tampered after signing.
        let mut body = signed(&json!({"pageNum": 1}));
        if let Json::Object(m) = &mut body {
            m.insert("pageNum", 2i64);
        }
        assert_eq!(
            s.send("/openCommonApi/getSystemMessage", &body, None)
                .code(),
            "10000001"
        );
        // No sign at all.
        let r = s.raw(
            "POST",
            "/openCommonApi/getSystemMessage",
            br#"{"pageNum":1,"timestamp":"1","nonce":"1"}"#,
            &[("Content-Type", "application/json")],
        );
        assert_eq!(r.code(), "10000001");
        // Signed, but ten minutes old.
        let old = signed(&json!({"pageNum": 1, "timestamp": (now_ms() - 600_000).to_string()}));
        assert_eq!(
            s.send("/openCommonApi/getSystemMessage", &old, None).code(),
            "10000002"
        );
        let junk = signed(&json!({"pageNum": 1, "timestamp": "12"}));
        assert_eq!(
            s.send("/openCommonApi/getSystemMessage", &junk, None)
                .code(),
            "10000002"
        );
        // The same signed request twice.
        let once = signed(&json!({"pageNum": 1}));
        assert_eq!(
            s.send("/openCommonApi/getSystemMessage", &once, None)
                .code(),
            "0000"
        );
        let again = s.send("/openCommonApi/getSystemMessage", &once, None);
        assert_eq!(
            (again.code(), again.message()),
            ("10000003".into(), "重复请求".into())
        );
        assert_eq!(again.json()["exceptionFlag"], "9999");
        assert_eq!(again.json()["resultSet"], "");
        // The seed's own sample (sign copied from elsewhere) is refused.
        let seed = br#"{"nonce":"admin","sign":"16c1bb0a5cee2af1632df8ef3a3e4d5b40f530fd","timestamp":"12"}"#;
        let r = s.raw(
            "POST",
            "/openApi/getCode",
            seed,
            &[("Content-Type", "application/json")],
        );
        assert_eq!(r.code(), "10000001");
    });
}

#[test]
fn a_read_only_request_is_answered_once_its_nonce_is_recorded() {
    // Endpoints that only read run while their replay record is committed; the answer still
    // depends on that record: a replay is refused before the session is looked at.
    on_every_backend(&[], |s| {
        register(s, "13800009101", "pass1234");
        let session = login(s, "13800009101", "pass1234");
        let centre = signed(&json!({}));
        let first = s.send("/appCommonApi/getUserCenterInfo", &centre, Some(&session));
        assert_eq!(first.code(), "0000", "{}: {}", s.backend, first.text());
        assert_eq!(first.json()["resultSet"]["mobile"], "13800009101");
        let again = s.send("/appCommonApi/getUserCenterInfo", &centre, Some(&session));
        assert_eq!(again.code(), "10000003", "{}", s.backend);
        assert_eq!(again.json()["resultSet"], "");
        // Replayed without its session, or with another's: still a replay, never 未登录.
        assert_eq!(
            s.send("/appCommonApi/getUserCenterInfo", &centre, None)
                .code(),
            "10000003"
        );
        assert_eq!(
            s.send(
                "/appCommonApi/getUserCenterInfo",
                &centre,
                Some("NOSUCHSESSION")
            )
            .code(),
            "10000003"
        );
        // A fresh request without a session is refused for its session.
        let fresh = signed(&json!({}));
        assert_eq!(
            s.send("/appCommonApi/getUserCenterInfo", &fresh, None)
                .code(),
            "10000004"
        );
        // The nonce of a request refused for its session was recorded all the same.
        assert_eq!(
            s.send("/appCommonApi/getUserCenterInfo", &fresh, Some(&session))
                .code(),
            "10000003"
        );
    });
}

#[test]
fn the_development_switch_accepts_the_seed_samples() {
    on_every_backend(&[("CASHLOAN_VERIFY_SIGN", "false")], |s| {
        let seed = br#"{"nonce":"admin","sign":"16c1bb0a5cee2af1632df8ef3a3e4d5b40f530fd","timestamp":"12"}"#;
        for _ in 0..2 {
            let r = s.raw(
                "POST",
                "/openApi/getCode",
                seed,
                &[("Content-Type", "application/json")],
            );
            assert_eq!(r.code(), "0000", "{}", r.text());
        }
    });
}

#[test]
fn login_required_endpoints_refuse_without_a_live_session() {
    on_every_backend(&[], |s| {
        for path in [
            "/appCommonApi/getAuthenticationStatus",
            "/appCommonApi/getUserCenterInfo",
            "/appCommonApi/getLoanApplyInfoList",
            "/appCommonApi/gotoRepayment",
        ] {
            assert_eq!(
                s.call(path, json!({"pageNum": 1}), None).code(),
                "10000004",
                "{path}"
            );
            assert_eq!(
                s.call(
                    path,
                    json!({"pageNum": 1}),
                    Some("4EC11778A48CE3F997A9DCF00A3AB4A2")
                )
                .code(),
                "10000004",
                "{path}"
            );
        }
        register(s, "13709812611", "secret123");
        let session = login(s, "13709812611", "secret123");
        // The cookie and the bearer header both carry a session.
        assert_eq!(
            s.call("/appCommonApi/getUserCenterInfo", json!({}), Some(&session))
                .code(),
            "0000"
        );
        let body = signed(&json!({})).to_compact_string();
        let bearer = format!("Bearer {session}");
        let r = s.raw(
            "POST",
            "/appCommonApi/getUserCenterInfo",
            body.as_bytes(),
            &[
                ("Content-Type", "application/json"),
                ("Authorization", &bearer),
            ],
        );
        assert_eq!(r.code(), "0000", "{}", r.text());
        // Logged out: the session is gone.
        let out = s.call(
            "/appApi/quitMobileLogin",
            json!({"sessionId": session}),
            None,
        );
        assert_eq!(out.code(), "20003010");
        assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
        assert_eq!(
            s.call("/appCommonApi/getUserCenterInfo", json!({}), Some(&session))
                .code(),
            "10000004"
        );
    });
}

#[test]
fn transport_faults_use_http_statuses() {
    on_every_backend(&[], |s| {
        let body = signed(&json!({})).to_compact_string();
        // Not JSON content type.
        let r = s.raw(
            "POST",
            "/openApi/getCode",
            body.as_bytes(),
            &[("Content-Type", "text/plain")],
        );
        assert_eq!(r.status, 415);
        // Wrong method.
        let r = s.raw("GET", "/openApi/getCode", b"", &[]);
        assert_eq!(r.status, 405);
        // Too large.
        let big = format!(r#"{{"pad":"{}"}}"#, "x".repeat(70 * 1024));
        let r = s.raw(
            "POST",
            "/openApi/getCode",
            big.as_bytes(),
            &[("Content-Type", "application/json")],
        );
        assert_eq!(r.status, 413);
        // Unknown path.
        let r = s.raw(
            "POST",
            "/nope",
            body.as_bytes(),
            &[("Content-Type", "application/json")],
        );
        assert_eq!(r.status, 404);
    });
}

#[test]
fn malformed_bodies_and_fields_get_10001000_naming_the_field() {
    on_every_backend(&[], |s| {
        for bad in [&b"not json"[..], b"[1,2]", b"", b"{\"a\":1,\"a\":2}"] {
            let r = s.raw(
                "POST",
                "/openApi/getCode",
                bad,
                &[("Content-Type", "application/json")],
            );
            assert_eq!(
                (r.status, r.code()),
                (200, "10001000".into()),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        // Fields are checked in table order: mobile is missing, code is not a string.
        let r = s.call("/openApi/getSmsCode", json!({"code": 12}), None);
        assert_eq!(
            (r.code(), r.message()),
            ("10001000".into(), "请求报文传输信息有误: code".into())
        );
        let r = s.call("/openApi/getSmsCode", json!({"code": "abcd"}), None);
        assert_eq!(r.message(), "请求报文传输信息有误: mobile");
        let r = s.call(
            "/openApi/getSmsCode",
            json!({"code": "abcd", "mobile": ""}),
            None,
        );
        assert_eq!(r.message(), "请求报文传输信息有误: mobile");
        let r = s.call(
            "/openApi/getSmsCode",
            json!({"code": "abcd", "mobile": null}),
            None,
        );
        assert_eq!(r.message(), "请求报文传输信息有误: mobile");
        // Paging: pageNum must be an integer ≥ 1, pageSize 1..100.
        for (body, field) in [
            (json!({}), "pageNum"),
            (json!({"pageNum": "1"}), "pageNum"),
            (json!({"pageNum": 0}), "pageNum"),
            (json!({"pageNum": 1, "pageSize": 101}), "pageSize"),
            (json!({"pageNum": 1.5}), "pageNum"),
        ] {
            let r = s.call("/openCommonApi/getSystemMessage", body, None);
            assert_eq!(r.message(), format!("请求报文传输信息有误: {field}"));
            assert!(
                r.json().get("pageNum").is_none(),
                "no paging members on failure"
            );
        }
    });
}

#[test]
fn gzip_is_honoured_both_ways() {
    on_every_backend(&[], |s| {
        let body = signed(&json!({"pageNum": 1})).to_compact_string();
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(body.as_bytes()).unwrap();
        let zipped = enc.finish().unwrap();
        let r = s.raw(
            "POST",
            "/openCommonApi/getSystemMessage",
            &zipped,
            &[
                ("Content-Type", "application/json"),
                ("Content-Encoding", "gzip"),
                ("Accept-Encoding", "gzip"),
            ],
        );
        assert_eq!(r.code(), "0000", "{}", r.text());
        assert!(r.gzipped, "§25 is marked GZIP");
        // Without Accept-Encoding the answer is plain.
        let r = s.call(
            "/openCommonApi/getSystemMessage",
            json!({"pageNum": 1}),
            None,
        );
        assert!(!r.gzipped);
        // An endpoint not marked GZIP answers plain even when gzip is accepted.
        let body = signed(&json!({})).to_compact_string();
        let r = s.raw(
            "POST",
            "/openApi/getCode",
            body.as_bytes(),
            &[
                ("Content-Type", "application/json"),
                ("Accept-Encoding", "gzip"),
            ],
        );
        assert!(!r.gzipped);
        assert_eq!(r.code(), "0000");
        // A gzip bomb is refused, not inflated.
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&vec![b' '; 8 * 1024 * 1024]).unwrap();
        let bomb = enc.finish().unwrap();
        let r = s.raw(
            "POST",
            "/openApi/getCode",
            &bomb,
            &[
                ("Content-Type", "application/json"),
                ("Content-Encoding", "gzip"),
            ],
        );
        assert_eq!(r.status, 413);
    });
}

#[test]
fn the_h5_pages_are_html_for_get_and_post() {
    on_every_backend(&[], |s| {
        for path in ["/open/registrationProtocol", "/open/loanHelp"] {
            for method in ["GET", "POST"] {
                let r = s.raw(method, path, b"ignored", &[]);
                assert_eq!(r.status, 200, "{method} {path}");
                assert!(r.header("content-type").unwrap().starts_with("text/html"));
                let html = r.text();
                assert!(
                    html.contains("<meta name=\"viewport\""),
                    "readable on a phone"
                );
                assert!(html.contains("<html"));
            }
        }
        assert!(s
            .raw("GET", "/open/loanHelp", b"", &[])
            .text()
            .contains("还款"));
        assert!(s
            .raw("GET", "/open/registrationProtocol", b"", &[])
            .text()
            .contains("注册"));
    });
}

#[test]
fn graphic_codes_are_rate_limited_per_client() {
    on_every_backend(&[("CASHLOAN_CAPTCHA_PER_MINUTE", "3")], |s| {
        let codes: Vec<String> = (0..4)
            .map(|_| s.call("/openApi/getCode", json!({}), None).code())
            .collect();
        // Three per minute; the fourth is refused (unless the minute turned over between calls).
        assert!(codes[..3].iter().all(|c| c == "0000"), "{codes:?}");
        let fourth = &codes[3];
        assert!(fourth == "10000005" || fourth == "0000", "{codes:?}");
    });
}

#[test]
fn a_fault_answers_99999999_with_a_request_id_and_no_internals() {
    on_every_backend(&[], |s| {
        // A rate no code could have written, put in behind the server's back.
        cashloan_test_support::server::execute_sql(
            &s.db_url,
            "UPDATE products SET rates = 'corrupt' WHERE id = '4feae5b5-0a5f-449a-aa96-9b6584b59440'",
        );
        let r = s.call(
            "/openCommonApi/getLoanProductDetails",
            json!({"productId": "4feae5b5-0a5f-449a-aa96-9b6584b59440"}),
            None,
        );
        assert_eq!(
            (r.status, r.code()),
            (200, "99999999".into()),
            "{}",
            r.text()
        );
        let id = r.header("x-request-id").unwrap().to_owned();
        assert_eq!(r.message(), format!("系统繁忙,请稍后再试 (请求编号 {id})"));
        assert!(
            !r.text().contains("corrupt") && !r.text().contains("products"),
            "no internals leak"
        );
        assert_eq!(r.json()["exceptionFlag"], "9999");
        // The other products still answer.
        let ok = s.call(
            "/openCommonApi/getLoanProductDetails",
            json!({"productId": "c4493fbe-23f7-4904-bac1-ff0266b36e2e"}),
            None,
        );
        assert_eq!(ok.code(), "0000");
    });
}

#[test]
fn pages_past_the_end_are_empty_with_true_totals() {
    on_every_backend(&[], |s| {
        let r = s.call(
            "/openCommonApi/getSystemMessage",
            json!({"pageNum": 5, "pageSize": 1}),
            None,
        );
        let v = r.json();
        assert_eq!(v["resultSet"], json!([]));
        assert_eq!(
            (
                v["total"].as_i64(),
                v["pages"].as_i64(),
                v["pageNum"].as_i64(),
                v["pageSize"].as_i64()
            ),
            (Some(1), Some(1), Some(5), Some(1))
        );
        assert_eq!(
            (v["isFirstPage"].as_bool(), v["isLastPage"].as_bool()),
            (Some(false), Some(true))
        );
        let r = s.call(
            "/openCommonApi/getSystemMessage",
            json!({"pageNum": 1}),
            None,
        );
        assert_eq!(r.json()["pageSize"], 10, "default page size");
        register(s, "13709812611", "secret123");
        let session = login(s, "13709812611", "secret123");
        let r = s.call(
            "/appCommonApi/getRepayInfoList",
            json!({"pageNum": 1, "condition": "5"}),
            Some(&session),
        );
        assert_eq!(r.message(), "请求报文传输信息有误: condition");
        let r = s.call(
            "/appCommonApi/getRepayInfoList",
            json!({"pageNum": 1, "condition": ""}),
            Some(&session),
        );
        assert_eq!(
            (r.code(), r.json()["total"].as_i64()),
            ("0000".into(), Some(0))
        );
        let r = s.call(
            "/appCommonApi/getRepayInfoList",
            json!({"pageNum": 1}),
            Some(&session),
        );
        assert_eq!(r.code(), "0000", "condition may be absent");
    });
}

#[test]
fn the_server_serves_the_api_document_of_docs_openapi_json() {
    let on_disk = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/openapi.json"
    ))
    .unwrap();
    on_every_backend(&[], |s| {
        let r = s.raw("GET", "/openapi.json", b"", &[]);
        assert_eq!(r.status, 200);
        assert!(r
            .header("content-type")
            .unwrap()
            .starts_with("application/json"));
        assert_eq!(r.text(), on_disk, "{}", s.backend);
        let doc = r.json();
        assert_eq!(doc["openapi"], "3.1.0");
        assert!(doc["paths"]["/appCommonApi/gotoRepayment"]["post"].is_object());
    });
}
