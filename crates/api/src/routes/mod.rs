//! Every endpoint of docs/api.md: its path, whether it needs a session, whether its answer may be
//! gzip-compressed, and its handler; plus the two H5 pages.

use actix_web::{web, HttpResponse};

use crate::context::AppState;
use crate::pipeline::{serve, Endpoint, BODY_LIMIT};

pub mod admin;
pub mod auth;
pub mod channel;
pub mod contract;
pub mod loans;
pub mod profile;

macro_rules! endpoint {
    ($section:literal, $path:literal, login: $login:literal, gzip: $gzip:literal, reads_only: $reads:literal, $handler:path) => {
        Endpoint {
            section: $section,
            path: $path,
            login: $login,
            gzip: $gzip,
            reads_only: $reads,
            handler: $handler,
        }
    };
}

/// The enveloped endpoints (§4, §7–§36), in section order.
pub static ENDPOINTS: &[Endpoint] = &[
    endpoint!(4, "/security/login", login: false, gzip: false, reads_only: false, auth::login),
    endpoint!(7, "/openApi/getCode", login: false, gzip: false, reads_only: false, auth::get_code),
    endpoint!(8, "/openApi/getSmsCode", login: false, gzip: false, reads_only: false, auth::get_sms_code),
    endpoint!(9, "/openApi/checkSmsCode", login: false, gzip: false, reads_only: false, auth::check_sms),
    endpoint!(10, "/openApi/userRegister", login: false, gzip: false, reads_only: false, auth::register),
    endpoint!(11, "/openApi/forgetPwdGetSmsCode", login: false, gzip: false, reads_only: false, auth::forget_pwd_get_sms_code),
    endpoint!(12, "/openApi/forgetPwdCheckSmsCode", login: false, gzip: false, reads_only: false, auth::forget_pwd_check_sms),
    endpoint!(13, "/openApi/forgetPwdIdentityAuth", login: false, gzip: false, reads_only: false, auth::forget_pwd_identity),
    endpoint!(14, "/openApi/userResetPwd", login: false, gzip: false, reads_only: false, auth::reset_password),
    endpoint!(15, "/appApi/modifyPwd", login: false, gzip: true, reads_only: false, auth::modify_password),
    endpoint!(16, "/appApi/commitSuggestion", login: false, gzip: true, reads_only: false, auth::feedback),
    endpoint!(17, "/appApi/appVersionDetection", login: false, gzip: true, reads_only: true, auth::version),
    endpoint!(18, "/appApi/quitMobileLogin", login: false, gzip: true, reads_only: false, auth::logout),
    endpoint!(19, "/appCommonApi/getAuthenticationStatus", login: true, gzip: true, reads_only: true, profile::auth_status),
    endpoint!(20, "/openCommonApi/getLoanProductList", login: false, gzip: true, reads_only: true, loans::product_list),
    endpoint!(21, "/openCommonApi/getLoanProductDetails", login: false, gzip: true, reads_only: true, loans::product_details),
    endpoint!(22, "/appCommonApi/getLoanApplyConfirmInfo", login: true, gzip: true, reads_only: true, loans::quote_terms),
    endpoint!(23, "/appCommonApi/loanProductApply", login: true, gzip: true, reads_only: false, loans::apply),
    endpoint!(24, "/appCommonApi/getCustomMessage", login: true, gzip: true, reads_only: true, loans::customer_messages),
    endpoint!(25, "/openCommonApi/getSystemMessage", login: false, gzip: true, reads_only: true, loans::system_messages),
    endpoint!(26, "/appCommonApi/getRepayInfoList", login: true, gzip: true, reads_only: true, loans::repay_list),
    endpoint!(27, "/appCommonApi/getUserCenterInfo", login: true, gzip: true, reads_only: true, loans::user_centre),
    endpoint!(28, "/appCommonApi/getLoanApplyInfoList", login: true, gzip: true, reads_only: true, loans::my_loans),
    endpoint!(29, "/appCommonApi/getLoanApplyRepayList", login: true, gzip: true, reads_only: true, loans::loan_plan),
    endpoint!(30, "/appCommonApi/authUserBankCard", login: true, gzip: true, reads_only: false, profile::auth_bank_card),
    endpoint!(31, "/appCommonApi/authUserMobile", login: true, gzip: true, reads_only: false, profile::auth_mobile),
    endpoint!(32, "/appCommonApi/authRealNameInfo", login: true, gzip: true, reads_only: false, profile::auth_real_name),
    endpoint!(33, "/appCommonApi/getPerfectUserInfo", login: true, gzip: true, reads_only: true, profile::personal_info),
    endpoint!(34, "/appCommonApi/savePerfectUserInfo", login: true, gzip: true, reads_only: false, profile::save_personal),
    endpoint!(35, "/appCommonApi/saveOrUpdateRelShip", login: true, gzip: true, reads_only: false, profile::save_contact),
    endpoint!(36, "/appCommonApi/gotoRepayment", login: true, gzip: true, reads_only: false, loans::repay),
];

/// §5 注册协议.
async fn registration_protocol(state: web::Data<AppState>) -> HttpResponse {
    html(&state.pages.registration_protocol)
}

/// §6 还款帮助.
async fn loan_help(state: web::Data<AppState>) -> HttpResponse {
    html(&state.pages.loan_help)
}

fn html(page: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page.to_owned())
}

/// Registers every route: POST only for enveloped endpoints (another method gets 405), GET and
/// POST for the pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PayloadConfig::new(BODY_LIMIT));
    cfg.service(web::resource("/channel/notify").route(web::post().to(channel::notify)));
    cfg.service(web::resource("/openapi.json").route(web::get().to(crate::openapi::serve)));
    for ep in ENDPOINTS {
        cfg.service(web::resource(ep.path).route(web::post().to(
            move |req: actix_web::HttpRequest, body: web::Bytes, state: web::Data<AppState>| {
                serve(ep, req, body, state)
            },
        )));
    }
    // After the app's own endpoints: actix tries resources in order, and the admin paths with
    // parameters are regular expressions, which every app request would otherwise run.
    admin::configure(cfg);
    crate::console::configure(cfg);
    cfg.service(
        web::resource("/open/registrationProtocol")
            .route(web::get().to(registration_protocol))
            .route(web::post().to(registration_protocol)),
    );
    cfg.service(
        web::resource("/open/loanHelp")
            .route(web::get().to(loan_help))
            .route(web::post().to(loan_help)),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::contract::{contract, CONTRACTS};
    use cashloan_protocol::parse;

    #[test]
    fn every_endpoint_has_its_contract_and_every_contract_an_endpoint() {
        for ep in ENDPOINTS {
            assert!(
                contract(ep.section).is_some(),
                "§{} has no contract",
                ep.section
            );
        }
        for c in CONTRACTS {
            assert!(
                ENDPOINTS.iter().any(|ep| ep.section == c.section),
                "§{} has no endpoint",
                c.section
            );
        }
        assert_eq!(ENDPOINTS.len(), CONTRACTS.len());
    }

    #[test]
    fn answers_may_leave_out_members_never_add_them() {
        let Some(quote) = contract(22) else {
            panic!("§22 has a contract")
        };
        let answer = parse(
            br#"{"apr":"0.1","repayPlan":[{"periodNum":"1","dueAmount":"1.00","extra":"x"}],"bonus":"1"}"#,
        )
        .unwrap();
        assert_eq!(
            quote.undeclared_members(&answer),
            ["repayPlan.extra", "resultSet.bonus"]
        );
        let Some(details) = contract(21) else {
            panic!("§21 has a contract")
        };
        // A dictionary's keys are data.
        let answer = parse(r#"{"purposeData":{"15":"租房"}}"#.as_bytes()).unwrap();
        assert!(details.undeclared_members(&answer).is_empty());
    }
}
