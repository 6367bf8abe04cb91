//! Black-box: authentication status (§19), bank card (§30), carrier (§31), identity (§32),
//! personal information (§33, §34) and contacts (§35), with their refusals.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::{json, Value};

fn status(s: &TestServer, session: &str) -> Value {
    let r = s.call(
        "/appCommonApi/getAuthenticationStatus",
        json!({}),
        Some(session),
    );
    assert_eq!(
        (r.code(), r.message()),
        ("0000".into(), "获取认证状态成功".into())
    );
    r.result()
}

#[test]
fn identity_bank_card_and_carrier_checks() {
    on_every_backend(&[], |s| {
        register(s, "13709812611", "secret123");
        let me = login(s, "13709812611", "secret123");
        let st = status(s, &me);
        for k in [
            "realNameAuthStatus",
            "bankCardAuthStatus",
            "customerInfoStatus",
            "mobileAuthStatus",
            "isBlackList",
            "isRisk",
        ] {
            assert_eq!(st[k], "0", "{k}");
        }
        for k in [
            "authRealName",
            "authNumber",
            "bankCardNumber",
            "bankCardMobile",
        ] {
            assert_eq!(st[k], "", "{k}");
        }
        // §30 and §31 need §32 first.
        let card = json!({"bankCardNo": "6217000730005201531", "mobile": "18911647521"});
        let r = s.call("/appCommonApi/authUserBankCard", card.clone(), Some(&me));
        assert_eq!(
            (r.code(), r.message()),
            ("9999".into(), "请先完成身份信息认证".into())
        );
        assert_eq!(
            s.call("/appCommonApi/authUserMobile", json!({}), Some(&me))
                .message(),
            "请先完成身份信息认证"
        );
        // §32 formats, age, success, repeat.
        let real = |name: &str, id: &str| {
            s.call(
                "/appCommonApi/authRealNameInfo",
                json!({"realName": name, "idCardNo": id}),
                Some(&me),
            )
        };
        assert_eq!(
            real("张", &id_card("19900307", 1)).message(),
            "姓名格式错误"
        );
        assert_eq!(
            real("张某", "123456789456123456").message(),
            "身份证号码格式错误"
        );
        assert_eq!(
            real("张某", &id_card("20200101", 1)).message(),
            "身份信息认证失败: 未满18周岁"
        );
        let ok = real("张某某", &id_card("19900307", 1).to_lowercase());
        assert_eq!(
            (ok.code(), ok.message(), ok.result()),
            ("0000".into(), "身份实名认证成功".into(), json!("0"))
        );
        assert_eq!(
            real("张某某", &id_card("19900307", 1)).code(),
            "0000",
            "the same again"
        );
        assert_eq!(
            real("李某某", &id_card("19900307", 1)).message(),
            "已完成实名认证,不可修改"
        );
        // Another user cannot take the same ID number or card.
        register(s, "13709812612", "secret123");
        let other = login(s, "13709812612", "secret123");
        let r = s.call(
            "/appCommonApi/authRealNameInfo",
            json!({"realName": "张某某", "idCardNo": id_card("19900307", 1)}),
            Some(&other),
        );
        assert_eq!(r.message(), "该身份证号已被其他账号认证");
        // §30: formats, success, then the card is taken.
        let r = s.call(
            "/appCommonApi/authUserBankCard",
            json!({"bankCardNo": "6217 0007", "mobile": "18911647521"}),
            Some(&me),
        );
        assert_eq!(r.message(), "银行卡号格式错误");
        let r = s.call(
            "/appCommonApi/authUserBankCard",
            json!({"bankCardNo": "6217000730005201531", "mobile": "1891164752"}),
            Some(&me),
        );
        assert_eq!(r.message(), "手机号码格式错误");
        let r = s.call("/appCommonApi/authUserBankCard", card.clone(), Some(&me));
        assert_eq!(
            (r.code(), r.message()),
            ("0000".into(), "银行卡认证成功".into())
        );
        s.call(
            "/appCommonApi/authRealNameInfo",
            json!({"realName": "李四", "idCardNo": id_card("19850101", 2)}),
            Some(&other),
        );
        assert_eq!(
            s.call("/appCommonApi/authUserBankCard", card, Some(&other))
                .message(),
            "该银行卡已被其他账号绑定"
        );
        // §31.
        let r = s.call("/appCommonApi/authUserMobile", json!({}), Some(&me));
        assert_eq!(
            (r.code(), r.message()),
            ("0000".into(), "手机实名认证成功".into())
        );
        assert_eq!(
            s.call("/appCommonApi/authUserMobile", json!({}), Some(&me))
                .code(),
            "0000"
        );
        let st = status(s, &me);
        assert_eq!(
            (
                st["realNameAuthStatus"].as_str(),
                st["bankCardAuthStatus"].as_str(),
                st["mobileAuthStatus"].as_str()
            ),
            (Some("1"), Some("1"), Some("1"))
        );
        assert_eq!(
            (
                st["authRealName"].as_str(),
                st["bankCardNumber"].as_str(),
                st["bankCardMobile"].as_str()
            ),
            (
                Some("张某某"),
                Some("6217000730005201531"),
                Some("18911647521")
            )
        );
        assert_eq!(st["authNumber"], id_card("19900307", 1));
        // Now §32 answers the mobile status 1.
        assert_eq!(real("张某某", &id_card("19900307", 1)).result(), json!("1"));
    });
}

#[test]
fn refusing_verifiers_leave_statuses_as_they_were() {
    on_every_backend(
        &[
            ("CASHLOAN_IDENTITY_VERIFIER", "refuse"),
            ("CASHLOAN_BANK_CARD_VERIFIER", "refuse"),
            ("CASHLOAN_CARRIER_VERIFIER", "refuse"),
        ],
        |s| {
            register(s, "13709812611", "secret123");
            let me = login(s, "13709812611", "secret123");
            let r = s.call(
                "/appCommonApi/authRealNameInfo",
                json!({"realName": "张某某", "idCardNo": id_card("19900307", 1)}),
                Some(&me),
            );
            assert_eq!(
                (r.code(), r.message(), r.result()),
                ("9999".into(), "身份信息认证失败".into(), json!(""))
            );
            assert_eq!(status(s, &me)["realNameAuthStatus"], "0");
        },
    );
}

#[test]
fn personal_information_and_contacts() {
    on_every_backend(&[], |s| {
        register(s, "13709812611", "secret123");
        let me = login(s, "13709812611", "secret123");
        let view = |s: &TestServer| {
            let r = s.call("/appCommonApi/getPerfectUserInfo", json!({}), Some(&me));
            assert_eq!(
                (r.code(), r.message()),
                ("0000".into(), "获取当前登录用户详细信息".into())
            );
            r.result()
        };
        let empty = view(s);
        assert_eq!(
            (empty["education"].as_str(), empty["monthIncome"].as_str()),
            (Some(""), Some(""))
        );
        assert_eq!(empty["relShipList"], json!([]));

        let save = |body: Value| s.call("/appCommonApi/savePerfectUserInfo", body, Some(&me));
        for (field, value) in [
            ("education", "0"),
            ("martialStatus", "5"),
            ("registry_province", "11000"),
            ("residenceLength", "1"),
            ("industryType", "15"),
            ("workingHours", "06"),
            ("monthIncome", "10000.123"),
            ("payrollDay", "32"),
            ("registry_detail", "   "),
        ] {
            let mut b = personal_info();
            b[field] = json!(value);
            assert_eq!(
                save(b).message(),
                format!("请求报文传输信息有误: {field}"),
                "{field}={value}"
            );
        }
        let mut b = personal_info();
        b.as_object_mut().unwrap().remove("currentPosition");
        assert_eq!(save(b).message(), "请求报文传输信息有误: currentPosition");
        let r = save(personal_info());
        assert_eq!(
            (r.code(), r.message()),
            ("0000".into(), "完善个人信息成功".into())
        );
        assert_eq!(status(s, &me)["customerInfoStatus"], "0", "no contact yet");

        let contact = |body: Value| s.call("/appCommonApi/saveOrUpdateRelShip", body, Some(&me));
        let add = |rel: &str, name: &str, phone: &str| {
            contact(json!({"operType": "add", "relType": rel, "realName": name, "phoneNum": phone}))
        };
        assert_eq!(contact(json!({"operType": "delete", "relType": "6", "realName": "木木", "phoneNum": "13940460755"})).message(), "请求报文传输信息有误: operType");
        assert_eq!(contact(json!({"operType": "update", "relType": "6", "realName": "木木", "phoneNum": "13940460755"})).message(), "请求报文传输信息有误: id");
        assert_eq!(
            add("8", "木木", "13940460755").message(),
            "请求报文传输信息有误: relType"
        );
        assert_eq!(
            add("6", "木", "13940460755").message(),
            "请求报文传输信息有误: realName"
        );
        assert_eq!(
            add("6", "木木", "12").message(),
            "请求报文传输信息有误: phoneNum"
        );
        assert_eq!(
            add("6", "木木", "137-0981-2611").message(),
            "联系人不能为本人"
        );
        let r = add("6", "木木", "139 4046 0755");
        assert_eq!(
            (r.code(), r.message()),
            ("0000".into(), "完善联系人信息成功".into())
        );
        assert_eq!(
            add("1", "张三", "13940460755").message(),
            "该联系人电话已存在"
        );
        assert_eq!(status(s, &me)["customerInfoStatus"], "1");

        let info = view(s);
        assert_eq!(
            (
                info["education"].as_str(),
                info["monthIncome"].as_str(),
                info["payrollDay"].as_str()
            ),
            (Some("5"), Some("10000.00"), Some("10"))
        );
        let first = info["relShipList"][0].clone();
        assert_eq!(
            (
                first["realName"].as_str(),
                first["phoneNum"].as_str(),
                first["relType"].as_str()
            ),
            (Some("木木"), Some("13940460755"), Some("6"))
        );
        let id = first["id"].as_str().unwrap();
        let r = contact(
            json!({"operType": "update", "id": id, "relType": "7", "realName": "木木", "phoneNum": "13940460756"}),
        );
        assert_eq!(r.code(), "0000");
        let r = contact(
            json!({"operType": "update", "id": "nope", "relType": "7", "realName": "木木", "phoneNum": "13940460757"}),
        );
        assert_eq!(r.message(), "联系人不存在");
        for n in 2..=10 {
            assert_eq!(add("6", "朋友", &format!("139000000{n:02}")).code(), "0000");
        }
        assert_eq!(
            add("6", "朋友", "13900000099").message(),
            "联系人数量已达上限"
        );
        let list = view(s)["relShipList"].as_array().unwrap().clone();
        assert_eq!(list.len(), 10);
        assert_eq!(
            list[0]["relType"], "7",
            "in the order added, updates in place"
        );
    });
}

/// A verifier that does not answer is no answer about the borrower: a fault with a request id
/// (never "认证失败"), and nothing changes.
#[test]
fn an_unavailable_verifier_is_a_fault_not_a_refusal() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http:http://{}/", l.local_addr().unwrap())
    };
    on_every_backend(&[("CASHLOAN_IDENTITY_VERIFIER", closed.as_str())], |s| {
        register(s, "13709812611", "secret123");
        let me = login(s, "13709812611", "secret123");
        let r = s.call(
            "/appCommonApi/authRealNameInfo",
            json!({"realName": "张某某", "idCardNo": id_card("19900307", 1)}),
            Some(&me),
        );
        assert_eq!(r.code(), "99999999", "{}: {}", s.backend, r.text());
        assert!(r.message().contains("请求编号"), "{}", r.message());
        assert_eq!(status(s, &me)["realNameAuthStatus"], "0");
    });
}
