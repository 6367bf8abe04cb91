//! Applications as operators handle them: the list, review (开始审核), approval (审核通过), rejection
//! (审核拒绝), disbursement (放款) and the ledger of a loan.

use actix_web::http::StatusCode;
use cashloan_domain::{ApplyStatus, Money, TermUnit};
use cashloan_persistence::accounts::find_user;
use cashloan_persistence::back_office::ProposalKind;
use cashloan_persistence::loans::{
    find_application, list_applications, list_payments, Application, ApplicationFilter,
    PageRequest, Payment,
};
use cashloan_persistence::profile::{
    find_bank_card, find_identity, find_personal_info, list_contacts,
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::payments::OrderView;
use super::{business_date, date, fault, money, ok, with_status, AdminCall, Answer, Refusal};
use crate::context::{AppState, Lease};
use crate::usecases::disburse::{self, PayoutOutcome};
use crate::usecases::review::{self, ReviewError};

/// An application as operators see it, with the borrower's id and mobile (masked: showing it
/// in full is `POST /admin/applications/{id}/borrower/reveal`, an audited action).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationView {
    id: String,
    loan_code: String,
    user_id: String,
    mobile: Option<String>,
    product_id: String,
    product_name: String,
    apply_status: i32,
    apply_amount: Option<String>,
    reply_amount: Option<String>,
    interest_rate: String,
    penalty_rate: Option<String>,
    term_count: i32,
    term_unit: String,
    repay_term_count: i32,
    repay_term_unit: String,
    repay_type: String,
    auth_term_count: Option<i32>,
    auth_term_unit: Option<String>,
    applied_at: i64,
    release_date: Option<String>,
    reject_reason: Option<String>,
}

impl ApplicationView {
    pub(super) fn new(a: &Application, mobile: Option<&str>) -> ApplicationView {
        ApplicationView {
            id: a.id.clone(),
            loan_code: a.loan_code.clone(),
            user_id: a.user_id.clone(),
            mobile: mobile.map(cashloan_domain::mask::mobile),
            product_id: a.product_id.clone(),
            product_name: a.product_name.clone(),
            apply_status: i32::from(a.status.code()),
            apply_amount: money(Some(a.amount)),
            reply_amount: money(a.reply_amount),
            interest_rate: a.interest_rate.to_string(),
            penalty_rate: a.penalty_rate.map(|r| r.to_string()),
            term_count: a.term_count,
            term_unit: a.term_unit.code().to_owned(),
            repay_term_count: a.repay_term_count,
            repay_term_unit: a.repay_term_unit.code().to_owned(),
            repay_type: a.repay_type.code().to_owned(),
            auth_term_count: a.auth_term_count,
            auth_term_unit: a.auth_term_unit.map(|u| u.code().to_owned()),
            applied_at: a.applied_at,
            release_date: a.release_date.map(cashloan_domain::format_day),
            reject_reason: a.reject_reason.clone(),
        }
    }
}

/// A page of a list.
#[derive(Serialize)]
pub struct Page<T> {
    page: i64,
    size: i64,
    total: i64,
    items: Vec<T>,
}

impl<T> Page<T> {
    pub(super) fn new(page: i64, size: i64, total: i64, items: Vec<T>) -> Page<T> {
        Page {
            page,
            size,
            total,
            items,
        }
    }
}

fn no_application() -> Refusal {
    Refusal::NotFound("no such application".into())
}

/// The application as operators see it, the borrower's mobile included (the list's shape).
fn application_answer(lease: &mut Lease<'_>, a: &Application) -> Answer {
    let mobile = find_user(lease.get()?, &a.user_id)?.map(|u| u.mobile);
    ok(ApplicationView::new(a, mobile.as_deref()))
}

/// A review step's answer: the application as it now is, or why not.
fn review_answer(lease: &mut Lease<'_>, done: Result<Application, ReviewError>) -> Answer {
    match done {
        Ok(a) => application_answer(lease, &a),
        Err(ReviewError::NotFound) => Err(no_application()),
        Err(e @ ReviewError::WrongStatus(_)) => Err(Refusal::Conflict(e.to_string())),
        Err(ReviewError::Db(e)) => Err(fault(e)),
        Err(e @ ReviewError::Corrupt(_)) => Err(fault(e)),
        Err(e) => Err(Refusal::Unprocessable(e.to_string())),
    }
}

/// `GET /admin/applications?status=N&mobile=&loanCode=&from=&to=&page=&size=` (`from` and `to`
/// are business days, both included).
pub(super) fn list(st: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    let num = |k: &str, d: i64| {
        call.query(k).map_or(Ok(d), |v| {
            v.parse::<i64>()
                .map_err(|_| Refusal::BadRequest(format!("{k} must be a number")))
        })
    };
    let status = match call.query("status") {
        None => None,
        Some(v) => Some(
            v.parse::<i64>()
                .ok()
                .and_then(ApplyStatus::from_code)
                .ok_or_else(|| Refusal::BadRequest("status must be 0..5".into()))?,
        ),
    };
    let (page, size) = (num("page", 1)?.max(1), num("size", 20)?.clamp(1, 100));
    let text = |k: &str| call.query(k).filter(|v| !v.is_empty()).map(str::to_owned);
    let day = |k: &str| {
        call.query(k)
            .filter(|v| !v.is_empty())
            .map(date)
            .transpose()
    };
    // A day runs from the end of the one before it to its own end, in the server's zone.
    let start_of = |d: NaiveDate| d.pred_opt().map_or(0, |p| st.end_of_day_ms(p) + 1000);
    let filter = ApplicationFilter {
        status,
        mobile: text("mobile"),
        loan_code: text("loanCode"),
        applied_from: day("from")?.map(start_of),
        applied_before: day("to")?.map(|d| st.end_of_day_ms(d) + 1000),
    };
    let (rows, total) = list_applications(
        lease.get()?,
        &filter,
        PageRequest {
            offset: (page - 1) * size,
            limit: size,
        },
    )?;
    let items = rows
        .iter()
        .map(|(a, m)| ApplicationView::new(a, Some(m)))
        .collect();
    ok(Page::new(page, size, total, items))
}

/// `POST /admin/applications/{id}/review`.
pub(super) fn review(st: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    let done = review::start_review(lease.get()?, &call.param("id"), st.now_ms());
    review_answer(lease, done)
}

/// The body of an approval: every member optional (the asked amount and term by default).
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApproveBody {
    /// The amount granted (`"800.00"`), at most the amount asked.
    reply_amount: Option<String>,
    /// The term granted, at most the term asked.
    auth_term_count: Option<i64>,
    /// Its unit (`1` days, `2` months): the unit asked.
    auth_term_unit: Option<String>,
}

/// `POST /admin/applications/{id}/approve`.
pub(super) fn approve(st: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    let id = call.param("id");
    let b: ApproveBody = call.body()?;
    let unprocessable = |m: &str| Refusal::Unprocessable(m.to_owned());
    let amount = b
        .reply_amount
        .as_deref()
        .map(|v| {
            Money::parse_amount(v)
                .filter(|m| !m.is_zero())
                .ok_or_else(|| unprocessable("replyAmount is not an amount"))
        })
        .transpose()?;
    let term_count = b
        .auth_term_count
        .map(|n| {
            u32::try_from(n)
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| unprocessable("authTermCount must be a positive integer"))
        })
        .transpose()?;
    let term_unit = b
        .auth_term_unit
        .as_deref()
        .map(|u| TermUnit::parse(u).ok_or_else(|| unprocessable("authTermUnit must be 1 or 2")))
        .transpose()?;
    let today = business_date(st, lease)?;
    let input = review::ApproveInput {
        id: &id,
        amount,
        term_count,
        term_unit,
        today,
        now: st.now_ms(),
    };
    let done = review::approve(lease.get()?, &st.policy, input);
    review_answer(lease, done)
}

/// The body of a rejection.
#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct RejectBody {
    /// Why (shown to the borrower in message 13), at most 500 characters.
    reason: Option<String>,
}

/// `POST /admin/applications/{id}/reject`.
pub(super) fn reject(st: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    let b: RejectBody = call.body()?;
    let reason = b.reason.unwrap_or_default();
    let done = review::reject(lease.get()?, &call.param("id"), &reason, st.now_ms());
    review_answer(lease, done)
}

/// `POST /admin/applications/{id}/disburse`: proposes paying an approved loan out (202 with the
/// proposal); 409 when it is not approved or a payout is already proposed. The money moves when
/// another operator confirms the proposal ([`disburse`]).
pub(super) fn propose_disbursement(
    st: &AppState,
    lease: &mut Lease<'_>,
    call: &AdminCall,
) -> Answer {
    let id = call.param("id");
    let a = find_application(lease.get()?, &id)?.ok_or_else(no_application)?;
    if a.status != ApplyStatus::Approved {
        return Err(Refusal::Conflict(
            ReviewError::WrongStatus(a.status).to_string(),
        ));
    }
    let payload = json!({
        "loanCode": a.loan_code,
        "amount": money(a.reply_amount.or(Some(a.amount))),
    });
    super::proposals::propose(st, lease, call, ProposalKind::Disbursement, &id, &payload)
}

/// A confirmed disbursement carried out: pays the loan out through the payment channel. 200
/// with the application once the money moved (2 → 4); 202 with the payment order while the
/// channel has not said; 409 while a payout of the loan is open (never a second one) or when the
/// application is not approved; 502 when the channel refused (it stays approved).
pub(super) fn disburse(st: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    let id = call.param("id");
    let today = business_date(st, lease)?;
    let channel = st.providers.payments.as_ref();
    let outcome =
        disburse::pay_out(channel, lease, &id, today, st.policy.apr_cap).map_err(fault)?;
    match outcome {
        PayoutOutcome::PaidOut(_) => {
            let a = find_application(lease.get()?, &id)?.ok_or_else(no_application)?;
            application_answer(lease, &a)
        }
        PayoutOutcome::Processing(order) | PayoutOutcome::Flagged(order, _) => {
            #[derive(Serialize)]
            struct Pending {
                payment: OrderView,
            }
            with_status(
                StatusCode::ACCEPTED,
                Pending {
                    payment: OrderView::new(&order),
                },
            )
        }
        PayoutOutcome::InProgress(order) => Err(Refusal::Conflict(format!(
            "a payout of this loan is already {} (payment order {}); never a second one",
            order.status.as_str(),
            order.id
        ))),
        PayoutOutcome::Refused(order, why) => Err(Refusal::Upstream(format!(
            "payment channel refused: {why} (payment order {}); the application stays approved",
            order.id
        ))),
        PayoutOutcome::NotFound => Err(no_application()),
        PayoutOutcome::WrongStatus(s) => {
            Err(Refusal::Conflict(ReviewError::WrongStatus(s).to_string()))
        }
        PayoutOutcome::NoCard => Err(Refusal::Unprocessable(
            "the borrower has no authenticated bank card".into(),
        )),
        PayoutOutcome::NoPlan(why) => Err(Refusal::Unprocessable(why)),
        PayoutOutcome::BorrowerBlocked(why) => {
            Err(Refusal::Conflict(format!("{why}: nothing is paid out")))
        }
    }
}

/// One row of a loan's ledger.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LedgerRow {
    kind: String,
    payment_ref: String,
    installment_id: Option<String>,
    amount: Option<String>,
    principal: Option<String>,
    interest: Option<String>,
    fee: Option<String>,
    penalty: Option<String>,
    business_date: String,
    channel_ref: Option<String>,
}

/// A loan's ledger and its sums.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LedgerView {
    items: Vec<LedgerRow>,
    /// Money out (the payout).
    out: Option<String>,
    /// Money in (repayments).
    #[serde(rename = "in")]
    came_in: Option<String>,
    /// The principal part of the money in.
    principal_in: Option<String>,
}

/// `GET /admin/applications/{id}/ledger`: every money movement of the loan, oldest first, and
/// its sums (money out at disbursement; money in, and the principal part of it).
pub(super) fn ledger(_: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    let id = call.param("id");
    super::collection::own_loan(lease, call, &id)?;
    let conn = lease.get()?;
    find_application(conn, &id)?.ok_or_else(no_application)?;
    let rows = list_payments(conn, &id)?;
    let sum = |out: bool, f: fn(&Payment) -> Money| -> Option<String> {
        money(Some(
            rows.iter()
                .filter(|p| (p.kind == "disbursement") == out)
                .map(f)
                .sum(),
        ))
    };
    let items = rows
        .iter()
        .map(|p| LedgerRow {
            kind: p.kind.clone(),
            payment_ref: p.payment_ref.clone(),
            installment_id: p.installment_id.clone(),
            amount: money(Some(p.amount)),
            principal: money(Some(p.principal)),
            interest: money(Some(p.interest)),
            fee: money(Some(p.fee)),
            penalty: money(Some(p.penalty)),
            business_date: p.business_date.clone(),
            channel_ref: p.channel_ref.clone(),
        })
        .collect();
    ok(LedgerView {
        items,
        out: sum(true, |p| p.amount),
        came_in: sum(false, |p| p.amount),
        principal_in: sum(false, |p| p.principal),
    })
}

/// The borrower of application `{id}`, personal data masked unless `full`.
fn borrower_view(lease: &mut Lease<'_>, call: &AdminCall, full: bool) -> Answer {
    super::collection::own_loan(lease, call, &call.param("id"))?;
    let conn = lease.get()?;
    let a = find_application(conn, &call.param("id"))?.ok_or_else(no_application)?;
    let user = find_user(conn, &a.user_id)?
        .ok_or_else(|| fault(format!("application {} has no borrower", a.id)))?;
    let identity = find_identity(conn, &user.id)?;
    let card = find_bank_card(conn, &user.id)?;
    let shown = |text: &str, mask: fn(&str) -> String| {
        if full {
            text.to_owned()
        } else {
            mask(text)
        }
    };
    use cashloan_domain::mask;
    let contacts: Vec<_> = list_contacts(conn, &user.id)?
        .iter()
        .map(|c| {
            json!({
                "relType": c.rel_type,
                "realName": shown(&c.real_name, mask::name),
                "phone": shown(&c.phone, mask::mobile),
            })
        })
        .collect();
    let work = find_personal_info(conn, &user.id)?.map(|p| {
        json!({
            "employer": p.employer,
            "position": p.job_position,
            "industryType": p.industry_type,
            "education": p.education,
            "maritalStatus": p.marital_status,
        })
    });
    ok(json!({
        "contacts": contacts,
        "work": work,
        "userId": user.id,
        "mobile": shown(&user.mobile, mask::mobile),
        "realName": identity.as_ref().map(|i| shown(&i.real_name, mask::name)),
        "idCardNo": identity.as_ref().map(|i| shown(&i.id_card_no, mask::id_card)),
        "bankCardNo": card.as_ref().map(|c| shown(&c.card_no, mask::bank_card)),
        "bankReservedMobile": card.as_ref().map(|c| shown(&c.reserved_mobile, mask::mobile)),
        "realNameAuth": user.real_name_auth,
        "bankCardAuth": user.bank_card_auth,
        "customerInfoAuth": user.customer_info_auth,
        "mobileAuth": user.mobile_auth,
        "totalCredit": user.total_credit.to_string(),
        "disabled": user.disabled,
        "isRisk": user.is_risk,
        "masked": !full,
    }))
}

/// `GET /admin/applications/{id}/borrower`: masked.
pub(super) fn borrower(_: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    borrower_view(lease, call, false)
}

/// `POST /admin/applications/{id}/borrower/reveal`: in full (the audit trail records who saw it).
pub(super) fn reveal(_: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    borrower_view(lease, call, true)
}

/// One installment of a loan as operators see it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InstallmentView {
    id: Option<String>,
    period: u32,
    start_date: String,
    due_date: String,
    principal: Option<String>,
    interest: Option<String>,
    fee: Option<String>,
    penalty: Option<String>,
    total: Option<String>,
    paid: bool,
    overdue: bool,
    paid_on: Option<String>,
}

/// `GET /admin/applications/{id}`: the application, its plan (the installments once paid out;
/// before, the plan its terms give from the business date, as the borrower was quoted), and the
/// borrower's latest messages.
pub(super) fn detail(st: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    let id = call.param("id");
    super::collection::own_loan(lease, call, &id)?;
    let today = business_date(st, lease)?;
    let conn = lease.get()?;
    let a = find_application(conn, &id)?.ok_or_else(no_application)?;
    let mobile = find_user(conn, &a.user_id)?.map(|u| u.mobile);
    let (rows, _) = cashloan_persistence::loans::list_application_installments(
        conn,
        &id,
        PageRequest {
            offset: 0,
            limit: 1000,
        },
    )?;
    let (installments, quoted) = if rows.is_empty() {
        let plan = a
            .plan_within_cap(today, st.policy.apr_cap)
            .map(|(plan, _)| plan.installments)
            .unwrap_or_default();
        let views: Vec<InstallmentView> = plan
            .iter()
            .map(|i| InstallmentView {
                id: None,
                period: i.period,
                start_date: cashloan_domain::format_day(i.start_date),
                due_date: cashloan_domain::format_day(i.due_date),
                principal: money(Some(i.principal)),
                interest: money(Some(i.interest)),
                fee: money(Some(i.fee)),
                penalty: money(Some(Money::ZERO)),
                total: money(Some(i.total())),
                paid: false,
                overdue: false,
                paid_on: None,
            })
            .collect();
        (views, true)
    } else {
        let views: Vec<InstallmentView> = rows
            .iter()
            .map(|r| InstallmentView {
                id: Some(r.id.clone()),
                period: u32::try_from(r.period).unwrap_or(0),
                start_date: cashloan_domain::format_day(r.start_date),
                due_date: cashloan_domain::format_day(r.due_date),
                principal: money(Some(r.principal)),
                interest: money(Some(r.interest)),
                fee: money(Some(r.fee)),
                penalty: money(Some(r.penalty)),
                total: money(Some(r.principal + r.interest + r.fee + r.penalty)),
                paid: r.is_paid(),
                overdue: r.overdue,
                paid_on: r.paid_on.map(cashloan_domain::format_day),
            })
            .collect();
        (views, false)
    };
    let (messages, _) = cashloan_persistence::loans::list_customer_messages(
        conn,
        &a.user_id,
        PageRequest {
            offset: 0,
            limit: 20,
        },
    )?;
    let messages: Vec<_> = messages
        .iter()
        .map(|m| json!({"type": m.message_type, "title": m.title, "content": m.content, "sentAt": m.sent_at}))
        .collect();
    ok(json!({
        "application": ApplicationView::new(&a, mobile.as_deref()),
        "installments": installments,
        "quoted": quoted,
        "messages": messages,
    }))
}
