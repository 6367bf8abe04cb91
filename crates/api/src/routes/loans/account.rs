//! What a borrower sees of their loans: repayments (§26), the user centre (§27), my loans (§28)
//! and a loan's plan (§29).

use std::collections::HashMap;

use cashloan_domain::{Money, TermUnit};
use cashloan_persistence::loans::{
    find_user_application, list_application_installments, list_contracts, list_user_applications,
    list_user_installments, RepayFilter,
};
use cashloan_protocol::{Outcome, ResponseCode as R};
use serde::Serialize;

use super::*;
use crate::context::{bad, paging_fields, ApiError, Ctx, Reply};
use crate::usecases::pricing;

/// A row of §26: one installment with what it owes today.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RepayRow {
    id: String,
    product_name: String,
    code: String,
    period_num: String,
    due_repay_date: String,
    repay_status: String,
    apply_amount: String,
    due_principal: String,
    due_interest: String,
    due_penalty: String,
    due_fee_amount: String,
    due_total_amount: String,
    need_pay_total_amount: String,
    /// Left out when the loan has no contract.
    #[serde(skip_serializing_if = "Option::is_none")]
    contract_url: Option<String>,
}

/// §26 获取还款信息.
pub fn repay_list(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let p = paging_fields(&ctx.fields)?;
    let condition = ctx.fields.opt_string("condition")?;
    ctx.fields.formats()?;
    let (num, size) = p.check()?;
    let filter = match condition.unwrap_or("") {
        "" | "0" => RepayFilter::All,
        "1" => RepayFilter::Paid,
        "2" => RepayFilter::Unpaid,
        "3" => RepayFilter::Overdue,
        "4" => RepayFilter::Prepaid,
        _ => return Err(bad("condition")),
    };
    let user_id = ctx.user()?.id.clone();
    let today = ctx.today()?;
    let (rows, total) = list_user_installments(
        ctx.conn.get()?,
        &user_id,
        filter,
        today,
        page_request(num, size),
    )?;
    let mut contracts: HashMap<String, Option<String>> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let i = &row.installment;
        let owed = i.amounts(row.penalty(), today)?;
        let contract = match contracts.get(&i.application_id) {
            Some(c) => c.clone(),
            None => {
                let c = list_contracts(ctx.conn.get()?, &i.application_id)?
                    .into_iter()
                    .next()
                    .map(|(_, path)| path);
                contracts.insert(i.application_id.clone(), c.clone());
                c
            }
        };
        let total = owed.total();
        out.push(RepayRow {
            id: i.id.clone(),
            product_name: row.product_name.clone(),
            code: row.loan_code.clone(),
            period_num: i.period.to_string(),
            due_repay_date: format!("{} 23:59:59", i.due_date),
            repay_status: i.status.code().to_string(),
            apply_amount: money(row.loan_amount.unwrap_or(Money::ZERO)),
            due_principal: owed.principal.to_string(),
            due_interest: owed.interest.to_string(),
            due_penalty: owed.penalty.to_string(),
            due_fee_amount: owed.fee.to_string(),
            due_total_amount: total.to_string(),
            need_pay_total_amount: if i.is_paid() { Money::ZERO } else { total }.to_string(),
            contract_url: contract,
        });
    }
    paged_rows(R::RepayInfoFetched, &out, num, size, total)
}

/// §27's answer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserCentre {
    real_name: String,
    mobile: String,
    available_credit: String,
    total_credit: String,
    total_apply_amount: String,
    total_need_pay_amount: String,
}

/// §27 获取个人中心统计数据.
pub fn user_centre(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    ctx.fields.formats()?;
    let user = ctx.user()?.clone();
    let today = ctx.today()?;
    let real_name = ctx.real_name()?;
    // One read of the unpaid installments serves both the credit left and what is owed.
    let unpaid = ctx.unpaid_installments()?;
    let (total, available) = pricing::credit_of(&user, &unpaid);
    let mut need_pay = Money::ZERO;
    for row in unpaid.iter() {
        need_pay += row.installment.amounts(row.penalty(), today)?.total();
    }
    let centre = UserCentre {
        real_name: real_name.unwrap_or_default(),
        mobile: user.mobile.clone(),
        available_credit: available.to_string(),
        total_credit: total.to_string(),
        total_apply_amount: money(ctx.disbursed_principal()?),
        total_need_pay_amount: need_pay.to_string(),
    };
    Reply::data(R::UserCenterFetched, &centre)
}

/// A contract of §28.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Contract {
    contract_name: String,
    contract_path: String,
}

/// A row of §28: one application.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LoanRow {
    id: String,
    loan_product_id: String,
    name: String,
    code: String,
    apply_status: String,
    status: String,
    apply_amount: String,
    reply_amount: Option<String>,
    repay_type: &'static str,
    release_date: Option<String>,
    /// Epoch ms, a JSON number (as the vendor's sample has it).
    apply_time: i64,
    term_count: String,
    term_unit: &'static str,
    interest_rate: String,
    penalty_rate: Option<String>,
    auth_term_count: Option<String>,
    auth_term_unit: Option<&'static str>,
    use_type: String,
    other_channels: String,
    contract_info_list: Vec<Contract>,
}

/// §28 我的借款(借款信息).
pub fn my_loans(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let p = paging_fields(&ctx.fields)?;
    ctx.fields.formats()?;
    let (num, size) = p.check()?;
    let user_id = ctx.user()?.id.clone();
    let (apps, total) = list_user_applications(ctx.conn.get()?, &user_id, page_request(num, size))?;
    let mut rows = Vec::with_capacity(apps.len());
    for a in apps {
        let contracts = list_contracts(ctx.conn.get()?, &a.id)?
            .into_iter()
            .map(|(contract_name, contract_path)| Contract {
                contract_name,
                contract_path,
            })
            .collect();
        rows.push(LoanRow {
            id: a.id.clone(),
            loan_product_id: a.product_id.clone(),
            name: a.product_name.clone(),
            code: a.product_code.clone(),
            apply_status: a.status.code().to_string(),
            // The vendor's own §28 sample carries the status here (its applyStatus is null): an
            // app written against the sample may read it.
            status: a.status.code().to_string(),
            apply_amount: money(a.amount),
            reply_amount: a.reply_amount.map(money),
            repay_type: a.repay_type.code(),
            release_date: a.disbursed_at.map(|t| ctx.state.format_time(t)),
            apply_time: a.applied_at,
            term_count: a.term_count.to_string(),
            term_unit: a.term_unit.code(),
            interest_rate: a.interest_rate.to_string(),
            penalty_rate: a.penalty_rate.map(|r| r.to_string()),
            auth_term_count: a.auth_term_count.map(|c| c.to_string()),
            auth_term_unit: a.auth_term_unit.map(TermUnit::code),
            use_type: a.purpose.clone(),
            other_channels: a.other_channels.clone(),
            contract_info_list: contracts,
        });
    }
    paged_rows(R::LoansFetched, &rows, num, size, total)
}

/// A row of §29: one installment of the loan.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PlanRow {
    repay_id: String,
    period_num: String,
    /// Epoch ms of the due day's end, a JSON number (as the vendor's sample has it).
    due_repay_date: i64,
    due_principal: String,
    due_interest: String,
    fee: String,
    due_amount: String,
    loan_product_apply_id: String,
}

/// §29 我的借款(每期还款).
pub fn loan_plan(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let p = paging_fields(&ctx.fields)?;
    let id = ctx.fields.string("loanProductApplyId")?;
    ctx.fields.formats()?;
    let (num, size) = p.check()?;
    let user_id = ctx.user()?.id.clone();
    let app = find_user_application(ctx.conn.get()?, &user_id, id)?
        .ok_or_else(|| ApiError::from(Outcome::failed("借款申请不存在")))?;
    let (rows, total) =
        list_application_installments(ctx.conn.get()?, &app.id, page_request(num, size))?;
    let today = ctx.today()?;
    let mut out = Vec::with_capacity(rows.len());
    for i in rows {
        let owed = i.amounts(app.penalty(), today)?;
        let due = i.due_date;
        out.push(PlanRow {
            repay_id: i.id.clone(),
            period_num: i.period.to_string(),
            due_repay_date: ctx.state.end_of_day_ms(due),
            due_principal: owed.principal.to_string(),
            due_interest: owed.interest.to_string(),
            fee: owed.fee.to_string(),
            due_amount: (owed.principal + owed.interest + owed.fee).to_string(),
            loan_product_apply_id: app.id.clone(),
        });
    }
    paged_rows(R::LoanPlanFetched, &out, num, size, total)
}
