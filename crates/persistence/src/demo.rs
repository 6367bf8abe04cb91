//! Demo data for a fresh database (`CASHLOAN_DEMO_DATA`): the products of the seed's samples, a
//! monthly instalment product so that every repay type can be tried, one system message, and an
//! Android and an iOS release.

use cashloan_domain::{Limit, LoanProduct, Money, Rate, RepayType, TermUnit};
use rust_decimal::Decimal;

use crate::accounts::new_id;
use crate::db::{write_transaction, DbConnection, DbError, DbResult};
use crate::products::{count_products, insert_product, ProductRow};
use crate::site::{add_app_version, add_system_message, AppVersion, SystemMessage};

fn rate(bp: i64) -> Rate {
    Rate::new(Decimal::new(bp, 4))
}

fn yuan(y: i64) -> Money {
    Money::from_cents(y * 100)
}

/// The demo products with their codes, in display order.
pub fn demo_products() -> Vec<(&'static str, LoanProduct)> {
    let cash_loan = LoanProduct {
        id: "4feae5b5-0a5f-449a-aa96-9b6584b59440".into(),
        name: "现金贷".into(),
        detail_description: "产品详细信息描述1;描述2;描述3".into(),
        third_service_code: "cashLoanOperatorDataService,zsCreditService.bankCardVerification"
            .into(),
        amount_limit: Limit::Fixed(vec![yuan(2000)]),
        default_amount: Some(yuan(2000)),
        rate_limit: Limit::Fixed(vec![rate(3600)]),
        default_rate: Some(rate(3600)),
        term_units: vec![TermUnit::Day],
        days_limit: Some(Limit::Fixed(vec![7])),
        default_days: Some(7),
        months_limit: None,
        default_months: None,
        repay_types: vec![RepayType::Bullet],
        repay_term_units: vec![TermUnit::Day],
        default_repay_term_count: Some(1),
        default_repay_term_unit: Some(TermUnit::Day),
        penalty_rate: Some(rate(3600)),
        service_fee_rate: Rate::ZERO,
        upfront_fee_rate: Rate::ZERO,
        on_sale: true,
        display_order: 1,
    };
    let new_cash_loan = LoanProduct {
        id: "c4493fbe-23f7-4904-bac1-ff0266b36e2e".into(),
        name: "新现金贷".into(),
        detail_description: "500-5000元随借随还;7天或14天;日利率0.1%".into(),
        amount_limit: Limit::Range {
            min: yuan(500),
            max: yuan(5000),
        },
        default_amount: Some(yuan(1000)),
        days_limit: Some(Limit::Fixed(vec![7, 14])),
        display_order: 2,
        ..cash_loan.clone()
    };
    let staff_loan = LoanProduct {
        id: "e97a2a69-1cfd-4b8e-8f9e-069b22d04589".into(),
        name: "员工贷".into(),
        detail_description: "员工专享;7天或14天".into(),
        third_service_code: String::new(),
        amount_limit: Limit::Fixed(vec![yuan(500)]),
        default_amount: Some(yuan(500)),
        rate_limit: Limit::Fixed(vec![rate(2400)]),
        default_rate: Some(rate(2400)),
        days_limit: Some(Limit::Fixed(vec![7, 14])),
        display_order: 3,
        ..cash_loan.clone()
    };
    let instalment_loan = LoanProduct {
        id: "0b7f6c2e-5d1a-4c4e-9f3a-2a8e7c1d9b10".into(),
        name: "分期贷".into(),
        detail_description: "3000-50000元;3、6、12个月分期;按期还息到期还本、等额本息、等本等息"
            .into(),
        third_service_code: "cashLoanOperatorDataService".into(),
        amount_limit: Limit::Range {
            min: yuan(3000),
            max: yuan(50000),
        },
        default_amount: Some(yuan(10000)),
        rate_limit: Limit::Fixed(vec![rate(1800)]),
        default_rate: Some(rate(1800)),
        term_units: vec![TermUnit::Month],
        days_limit: None,
        default_days: None,
        months_limit: Some(Limit::Fixed(vec![3, 6, 12])),
        default_months: Some(12),
        repay_types: vec![RepayType::InterestOnly, RepayType::Annuity, RepayType::Flat],
        repay_term_units: vec![TermUnit::Month],
        default_repay_term_count: Some(1),
        default_repay_term_unit: Some(TermUnit::Month),
        penalty_rate: Some(rate(1800)),
        display_order: 4,
        ..cash_loan.clone()
    };
    vec![
        ("PRODUCT20171025001", cash_loan),
        ("PRODUCT20171025002", new_cash_loan),
        ("PRODUCT20171025003", staff_loan),
        ("PRODUCT20261125001", instalment_loan),
    ]
}

/// Loads the demo data when the database has no products; returns whether it did.
pub fn load_demo_data(conn: &mut DbConnection, now: i64) -> DbResult<bool> {
    write_transaction(conn, |conn| {
        if count_products(conn)? > 0 {
            return Ok(false);
        }
        for (code, product) in demo_products() {
            insert_product(conn, &ProductRow::from_domain(&product, code, now, now))?;
        }
        add_system_message(
            conn,
            &SystemMessage {
                id: new_id(),
                message_type: "1".into(),
                title: "系统公告".into(),
                content: "欢迎使用现金贷。请按时还款,保持良好信用。".into(),
                event_url: String::new(),
                send_at: now,
                created_at: now,
            },
        )?;
        for (app_type, url) in [
            ("1", "https://example.com/cashloan/cashloan-1.0.22.apk"),
            ("2", "https://apps.apple.com/app/id0000000000"),
        ] {
            add_app_version(
                conn,
                &AppVersion {
                    id: new_id(),
                    app_type: app_type.into(),
                    version_code: 22,
                    version_name: "1.0.22".into(),
                    download_url: url.into(),
                    force_update: false,
                    description: "修复已知问题".into(),
                    created_at: now,
                },
            )?;
        }
        Ok::<_, DbError>(true)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cashloan_domain::LendingPolicy;

    #[test]
    fn every_demo_product_is_coherent_under_the_default_cap() {
        for (code, p) in demo_products() {
            assert_eq!(
                p.check(&LendingPolicy::default()),
                Ok(()),
                "{code} {}",
                p.name
            );
        }
    }

    #[test]
    fn demo_products_survive_the_row_round_trip() {
        for (code, p) in demo_products() {
            let row = ProductRow::from_domain(&p, code, 1, 2);
            assert_eq!(row.to_domain().unwrap(), p, "{code}");
        }
    }
}
