//! What a borrower sees of their loans: repayments (§26), the user centre (§27), my loans (§28)
//! and a loan's plan (§29).

use std::collections::HashMap;

use cashloan_domain::{Money, TermUnit};
use cashloan_persistence::loans::{
    find_user_application, list_application_installments, list_contracts, list_user_applications,
    list_user_installments, user_disbursed_principal, user_unpaid_installments, RepayFilter,
};
use cashloan_persistence::profile::find_identity;
use cashloan_protocol::{Json, Map, Outcome, ResponseCode as R};

use super::*;
use crate::context::{bad, paging_fields, ApiError, Ctx, Reply};
use crate::usecases::pricing;

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
        let mut r = Map::new();
        r.insert("id", i.id.as_str());
        r.insert("productName", row.product_name.as_str());
        r.insert("code", row.loan_code.as_str());
        r.insert("periodNum", i.period.to_string());
        r.insert("dueRepayDate", format!("{} 23:59:59", i.due_date));
        r.insert("repayStatus", i.status.code().to_string());
        r.insert("applyAmount", money(row.loan_amount_cents.unwrap_or(0)));
        r.insert("duePrincipal", owed.principal.to_string());
        r.insert("dueInterest", owed.interest.to_string());
        r.insert("duePenalty", owed.penalty.to_string());
        r.insert("dueFeeAmount", owed.fee.to_string());
        r.insert("dueTotalAmount", total.to_string());
        r.insert(
            "needPayTotalAmount",
            if i.is_paid() { Money::ZERO } else { total }.to_string(),
        );
        if let Some(url) = contract {
            r.insert("contractUrl", url);
        }
        out.push(Json::Object(r));
    }
    paged(R::RepayInfoFetched, out, num, size, total)
}

/// §27 获取个人中心统计数据.
pub fn user_centre(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    ctx.fields.formats()?;
    let user = ctx.user()?.clone();
    let today = ctx.today()?;
    let identity = find_identity(ctx.conn.get()?, &user.id)?;
    let (total, available) = pricing::credit(ctx.conn.get()?, &user)?;
    let mut need_pay = Money::ZERO;
    for row in user_unpaid_installments(ctx.conn.get()?, &user.id)? {
        need_pay += row.installment.amounts(row.penalty(), today)?.total();
    }
    let mut m = Map::new();
    m.insert(
        "realName",
        identity.map(|i| i.real_name).unwrap_or_default(),
    );
    m.insert("mobile", user.mobile.as_str());
    m.insert("availableCredit", available.to_string());
    m.insert("totalCredit", total.to_string());
    m.insert(
        "totalApplyAmount",
        money(user_disbursed_principal(ctx.conn.get()?, &user.id)?),
    );
    m.insert("totalNeedPayAmount", need_pay.to_string());
    Reply::ok(R::UserCenterFetched, Json::Object(m))
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
        let contracts: Vec<Json> = list_contracts(ctx.conn.get()?, &a.id)?
            .into_iter()
            .map(|(name, path)| {
                let mut c = Map::new();
                c.insert("contractName", name);
                c.insert("contractPath", path);
                Json::Object(c)
            })
            .collect();
        let mut r = Map::new();
        r.insert("id", a.id.as_str());
        r.insert("loanProductId", a.product_id.as_str());
        r.insert("name", a.product_name.as_str());
        r.insert("code", a.product_code.as_str());
        r.insert("applyStatus", a.status.code().to_string());
        // The vendor's own §28 sample carries the status here (its applyStatus is null): an
        // app written against the sample may read it.
        r.insert("status", a.status.code().to_string());
        r.insert("applyAmount", money(a.amount_cents));
        r.insert("replyAmount", a.reply_amount_cents.map(money));
        r.insert("repayType", a.repay_type.code());
        r.insert(
            "releaseDate",
            a.disbursed_at.map(|t| ctx.state.format_time(t)),
        );
        r.insert("applyTime", Json::Number(a.applied_at.to_string()));
        r.insert("termCount", a.term_count.to_string());
        r.insert("termUnit", a.term_unit.code());
        r.insert("interestRate", a.interest_rate.to_string());
        r.insert("penaltyRate", a.penalty_rate.map(|r| r.to_string()));
        r.insert("authTermCount", a.auth_term_count.map(|c| c.to_string()));
        r.insert("authTermUnit", a.auth_term_unit.map(TermUnit::code));
        r.insert("useType", a.purpose.as_str());
        r.insert("otherChannels", a.other_channels.as_str());
        r.insert("contractInfoList", Json::Array(contracts));
        rows.push(Json::Object(r));
    }
    paged(R::LoansFetched, rows, num, size, total)
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
        let mut r = Map::new();
        r.insert("repayId", i.id.as_str());
        r.insert("periodNum", i.period.to_string());
        r.insert(
            "dueRepayDate",
            Json::Number(ctx.state.end_of_day_ms(due).to_string()),
        );
        r.insert("duePrincipal", owed.principal.to_string());
        r.insert("dueInterest", owed.interest.to_string());
        r.insert("fee", owed.fee.to_string());
        r.insert(
            "dueAmount",
            (owed.principal + owed.interest + owed.fee).to_string(),
        );
        r.insert("loanProductApplyId", app.id.as_str());
        out.push(Json::Object(r));
    }
    paged(R::LoanPlanFetched, out, num, size, total)
}
