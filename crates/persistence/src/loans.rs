//! The loan book: applications and their lifecycle, repayment installments, the payment ledger
//! and customer messages.
//!
//! Every write that moves money or changes a status is one transaction whose first write is a
//! guarded update (`… WHERE id = ? AND status = ?`): of two concurrent requests one wins, and
//! the caller learns which. Partial unique indexes back the guards up in the database itself.

use crate::columns::{stored_day, stored_rate};
use cashloan_domain::format_day;
use cashloan_domain::message::text;
use cashloan_domain::{
    build_plan_rounded, installment_due, plan_within_cap, ApplyStatus, CapError, Charge,
    Installment, LoanAction, MessageType, Money, Period, PlanSpec, Rate, RepayType, RepaymentPlan,
    Rounding, TermUnit,
};
use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use rust_decimal::Decimal;

use crate::accounts::new_id;
use crate::db::{write_transaction, Abort, DbConnection, DbError, DbResult};
use crate::schema::{applications, contracts, customer_messages, installments, payments, users};

/// A page of a list: rows to skip and rows to take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    /// Rows to skip.
    pub offset: i64,
    /// Rows to take.
    pub limit: i64,
}

/// A loan application (借款申请), with the terms it was priced with.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = applications)]
pub struct Application {
    /// Id (§28 `id`, §29 `loanProductApplyId`).
    pub id: String,
    /// Applicant.
    pub user_id: String,
    /// Product.
    pub product_id: String,
    /// Product code at the time of application (§28 `code`).
    pub product_code: String,
    /// Product name at the time of application.
    pub product_name: String,
    /// Loan code (借贷编码) `cashYYYYMMDDnnn`.
    pub loan_code: String,
    /// `applyStatus` 0..5.
    pub status: i32,
    /// Amount applied for, 分.
    pub amount_cents: i64,
    /// Amount approved (the loan's principal), 分.
    pub reply_amount_cents: Option<i64>,
    /// Annual rate.
    pub interest_rate: String,
    /// Annual penalty rate.
    pub penalty_rate: Option<String>,
    /// Service fee per period.
    pub service_fee_rate: String,
    /// Upfront fee.
    pub upfront_fee_rate: String,
    /// Term asked for.
    pub term_count: i32,
    /// Its unit `1`/`2`.
    pub term_unit: String,
    /// Repayment interval.
    pub repay_term_count: i32,
    /// Its unit.
    pub repay_term_unit: String,
    /// Repay type `1`..`4`.
    pub repay_type: String,
    /// Term approved.
    pub auth_term_count: Option<i32>,
    /// Its unit.
    pub auth_term_unit: Option<String>,
    /// Purpose `15`..`22` (§28 `useType`).
    pub purpose: String,
    /// Loans elsewhere `01`..`03`.
    pub other_channels: String,
    /// Device longitude, as sent.
    pub longitude: String,
    /// Device latitude, as sent.
    pub latitude: String,
    /// Carrier-data authorisation order.
    pub order_id: String,
    /// Top-level contact name, when sent.
    pub contact_name: Option<String>,
    /// Top-level contact phone, when sent.
    pub contact_phone: Option<String>,
    /// Top-level remark, when sent.
    pub remark: Option<String>,
    /// The phone book, as JSON (sealed at rest: [`crate::sealed::open`] reads it).
    pub phonebook: String,
    /// Applied at (ms).
    pub applied_at: i64,
    /// Review started at (ms).
    pub reviewed_at: Option<i64>,
    /// Approved or rejected at (ms).
    pub decided_at: Option<i64>,
    /// Why rejected.
    pub reject_reason: Option<String>,
    /// Paid out at (ms).
    pub disbursed_at: Option<i64>,
    /// Business date of the payout.
    pub release_date: Option<String>,
    /// Settled at (ms).
    pub settled_at: Option<i64>,
    /// Changed at (ms).
    pub updated_at: i64,
}

impl Application {
    /// The status.
    pub fn apply_status(&self) -> DbResult<ApplyStatus> {
        ApplyStatus::from_code(i64::from(self.status)).ok_or_else(|| DbError::Corrupt {
            table: "applications",
            column: "status",
            value: self.status.to_string(),
        })
    }

    /// The loan's principal: the approved amount once approved, else the amount asked.
    pub fn principal(&self) -> Money {
        Money::from_cents(self.reply_amount_cents.unwrap_or(self.amount_cents))
    }

    /// The penalty rate (0 when the product has none).
    pub fn penalty(&self) -> DbResult<Rate> {
        self.penalty_rate.as_deref().map_or(Ok(Rate::ZERO), |r| {
            stored_rate("applications", "penalty_rate", r)
        })
    }

    /// The plan spec of the approved terms, starting on `start` (the payout's date); why not,
    /// when a stored value is corrupt.
    pub fn plan_spec(&self, start: NaiveDate) -> Result<PlanSpec, String> {
        let rate = |t: &str| Rate::from_stored(t).ok_or_else(|| format!("corrupt rate {t}"));
        let unit = |u: &str| TermUnit::parse(u).ok_or_else(|| format!("corrupt unit {u}"));
        let count = |c: i32| u32::try_from(c).map_err(|_| format!("corrupt count {c}"));
        let term = Period {
            count: count(self.auth_term_count.unwrap_or(self.term_count))?,
            unit: unit(self.auth_term_unit.as_deref().unwrap_or(&self.term_unit))?,
        };
        Ok(PlanSpec {
            principal: self.principal(),
            annual_rate: rate(&self.interest_rate)?,
            term,
            interval: Period {
                count: count(self.repay_term_count)?,
                unit: unit(&self.repay_term_unit)?,
            },
            repay_type: RepayType::parse(&self.repay_type).ok_or("corrupt repay type")?,
            service_fee_rate: rate(&self.service_fee_rate)?,
            start,
        })
    }

    /// The repayment plan of the approved terms from `start`, its interest rounded as
    /// `rounding` says.
    pub fn plan(&self, start: NaiveDate, rounding: Rounding) -> Result<RepaymentPlan, String> {
        build_plan_rounded(&self.plan_spec(start)?, rounding)
            .map_err(|e| format!("no repayment plan for these terms: {e}"))
    }

    /// The plan the borrower can be paid out under `apr_cap` from `start`, and how its interest
    /// is rounded (toward the borrower where half up alone would cross the cap).
    pub fn plan_within_cap(
        &self,
        start: NaiveDate,
        apr_cap: Decimal,
    ) -> Result<(RepaymentPlan, Rounding), String> {
        let spec = self.plan_spec(start)?;
        let upfront = self
            .upfront_fee_rate
            .parse::<Decimal>()
            .map_err(|_| format!("corrupt rate {}", self.upfront_fee_rate))?;
        let paid_out = spec.principal - spec.principal.times(upfront);
        match plan_within_cap(&spec, paid_out, apr_cap) {
            Ok(c) => Ok((c.plan, c.rounding)),
            Err(CapError::AboveCap) => {
                Err("the approved terms cost more than the APR cap".to_owned())
            }
            Err(CapError::Plan(e)) => Err(format!("no repayment plan for these terms: {e}")),
        }
    }
}

/// A customer message (客户消息, §24).
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = customer_messages)]
pub struct CustomerMessage {
    /// Id.
    pub id: String,
    /// Recipient.
    pub user_id: String,
    /// `messageType` (11..17, 99).
    pub message_type: String,
    /// Title.
    pub title: String,
    /// Text.
    pub content: String,
    /// What event wrote it (each event writes its message once); none for operators' messages.
    pub event_key: Option<String>,
    /// Sent at (ms).
    pub sent_at: i64,
}

impl CustomerMessage {
    /// A message of `kind` for `user_id`, titled with the type's label.
    pub fn new(
        user_id: &str,
        kind: MessageType,
        content: String,
        event_key: Option<String>,
        now: i64,
    ) -> Self {
        CustomerMessage {
            id: new_id(),
            user_id: user_id.to_owned(),
            message_type: kind.code().to_owned(),
            title: kind.label().to_owned(),
            content,
            event_key,
            sent_at: now,
        }
    }
}

/// Writes a customer message once: a message whose `event_key` was already written is skipped
/// (returns false). Safe inside a transaction on both backends.
pub fn add_customer_message(conn: &mut DbConnection, m: &CustomerMessage) -> DbResult<bool> {
    // `ON CONFLICT DO NOTHING` is spelled alike by both backends; diesel's builder offers no upsert
    // for MultiConnection, and a failed insert would abort a PostgreSQL transaction.
    let n = diesel::sql_query(
        "INSERT INTO customer_messages (id, user_id, message_type, title, content, event_key, sent_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
    )
    .bind::<Text, _>(&m.id)
    .bind::<Text, _>(&m.user_id)
    .bind::<Text, _>(&m.message_type)
    .bind::<Text, _>(&m.title)
    .bind::<Text, _>(&m.content)
    .bind::<Nullable<Text>, _>(m.event_key.as_deref())
    .bind::<BigInt, _>(m.sent_at)
    .execute(conn)?;
    Ok(n == 1)
}

/// Writes message `kind` to the borrower of `app` for the event `event` (an application,
/// installment or payment id), once: the event key is the type's code and the event id.
pub(crate) fn notify(
    conn: &mut DbConnection,
    app: &Application,
    kind: MessageType,
    content: String,
    event: &str,
    now: i64,
) -> DbResult<()> {
    let key = format!("{}:{event}", kind.code());
    add_customer_message(
        conn,
        &CustomerMessage::new(&app.user_id, kind, content, Some(key), now),
    )?;
    Ok(())
}

/// A user's messages, newest first, and how many there are.
pub fn list_customer_messages(
    conn: &mut DbConnection,
    user_id: &str,
    page: PageRequest,
) -> DbResult<(Vec<CustomerMessage>, i64)> {
    let total = customer_messages::table
        .filter(customer_messages::user_id.eq(user_id))
        .count()
        .get_result(conn)?;
    let rows = customer_messages::table
        .filter(customer_messages::user_id.eq(user_id))
        .order((
            customer_messages::sent_at.desc(),
            customer_messages::id.desc(),
        ))
        .offset(page.offset)
        .limit(page.limit)
        .select(CustomerMessage::as_select())
        .load(conn)?;
    Ok((rows, total))
}

#[derive(QueryableByName)]
struct SequenceValue {
    #[diesel(sql_type = BigInt)]
    last_value: i64,
}

/// The next value of a per-day sequence (1, 2, …), atomic on both backends.
pub fn next_in_sequence(conn: &mut DbConnection, scope: &str, day: &str) -> DbResult<i64> {
    let rows: Vec<SequenceValue> = diesel::sql_query(
        "INSERT INTO sequences (scope, day, last_value) VALUES ($1, $2, 1) \
         ON CONFLICT (scope, day) DO UPDATE SET last_value = sequences.last_value + 1 \
         RETURNING last_value",
    )
    .bind::<Text, _>(scope)
    .bind::<Text, _>(day)
    .load(conn)?;
    rows.first().map(|r| r.last_value).ok_or(DbError::Corrupt {
        table: "sequences",
        column: "last_value",
        value: "no row returned".into(),
    })
}

/// Loan code (借贷编码) of the `n`-th application of `day`: `cash` + `yyyyMMdd` + at least 3 digits.
pub fn loan_code(day: NaiveDate, n: i64) -> String {
    format!("cash{}{n:03}", day.format("%Y%m%d"))
}

/// Outcome of submitting an application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Submitted {
    /// Stored with status 0, message 11 written.
    Stored(Box<Application>),
    /// The user already has an application in 0, 1, 2 or 4 (a concurrent one included).
    OpenApplicationExists,
}

/// Stores a new application (its id, code, status and times are set here) and writes message
/// 11, in one transaction. The one-open-application rule holds under concurrency.
pub fn submit_application(
    conn: &mut DbConnection,
    mut app: Application,
    business_date: NaiveDate,
    now: i64,
) -> DbResult<Submitted> {
    let day = format_day(business_date);
    let stored = write_transaction(conn, |conn| {
        let open: i64 = applications::table
            .filter(applications::user_id.eq(&app.user_id))
            .filter(applications::status.eq_any(statuses_are(&ApplyStatus::OPEN)))
            .count()
            .get_result(conn)?;
        if open > 0 {
            return Ok(None);
        }
        let n = next_in_sequence(conn, "loan_code", &day)?;
        app.id = new_id();
        app.loan_code = loan_code(business_date, n);
        app.status = i32::from(ApplyStatus::Submitted.code());
        app.applied_at = now;
        app.updated_at = now;
        // The phone book is the borrower's contacts' data: sealed at rest.
        app.phonebook = crate::sealed::seal(&app.phonebook)?;
        diesel::insert_into(applications::table)
            .values(&app)
            .execute(conn)?;
        notify(
            conn,
            &app,
            MessageType::Submitted,
            text::submitted(&app.loan_code, Money::from_cents(app.amount_cents)),
            &app.id,
            now,
        )?;
        Ok::<_, DbError>(Some(app))
    });
    match stored {
        Ok(Some(app)) => Ok(Submitted::Stored(Box::new(app))),
        Ok(None) => Ok(Submitted::OpenApplicationExists),
        Err(e) if e.is_unique_violation() => Ok(Submitted::OpenApplicationExists),
        Err(e) => Err(e),
    }
}

/// The application `id`.
pub fn find_application(conn: &mut DbConnection, id: &str) -> DbResult<Option<Application>> {
    Ok(applications::table
        .find(id)
        .select(Application::as_select())
        .first(conn)
        .optional()?)
}

/// The application `id` if it is `user_id`'s (someone else's is the same as none).
pub fn find_user_application(
    conn: &mut DbConnection,
    user_id: &str,
    id: &str,
) -> DbResult<Option<Application>> {
    Ok(applications::table
        .find(id)
        .filter(applications::user_id.eq(user_id))
        .select(Application::as_select())
        .first(conn)
        .optional()?)
}

/// A user's applications, newest first, and how many there are.
pub fn list_user_applications(
    conn: &mut DbConnection,
    user_id: &str,
    page: PageRequest,
) -> DbResult<(Vec<Application>, i64)> {
    let total = applications::table
        .filter(applications::user_id.eq(user_id))
        .count()
        .get_result(conn)?;
    let rows = applications::table
        .filter(applications::user_id.eq(user_id))
        .order((applications::applied_at.desc(), applications::id.desc()))
        .offset(page.offset)
        .limit(page.limit)
        .select(Application::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// Applications for operators (optionally of one status), newest first, with the borrower's
/// mobile, and how many there are.
pub fn list_applications(
    conn: &mut DbConnection,
    status: Option<ApplyStatus>,
    page: PageRequest,
) -> DbResult<(Vec<(Application, String)>, i64)> {
    let mut count = applications::table.into_boxed();
    let mut rows = applications::table
        .inner_join(users::table)
        .select((Application::as_select(), users::mobile))
        .into_boxed();
    if let Some(s) = status {
        count = count.filter(applications::status.eq(i32::from(s.code())));
        rows = rows.filter(applications::status.eq(i32::from(s.code())));
    }
    let total = count.count().get_result(conn)?;
    let rows = rows
        .order((applications::applied_at.desc(), applications::id.desc()))
        .offset(page.offset)
        .limit(page.limit)
        .load(conn)?;
    Ok((rows, total))
}

/// Contracts (合同) of an application: (name, path).
pub fn list_contracts(
    conn: &mut DbConnection,
    application_id: &str,
) -> DbResult<Vec<(String, String)>> {
    Ok(contracts::table
        .filter(contracts::application_id.eq(application_id))
        .order((contracts::created_at.asc(), contracts::id.asc()))
        .select((contracts::name, contracts::path))
        .load(conn)?)
}

/// Attaches a contract document to an application.
pub fn add_contract(
    conn: &mut DbConnection,
    application_id: &str,
    name: &str,
    path: &str,
    now: i64,
) -> DbResult<()> {
    diesel::insert_into(contracts::table)
        .values((
            contracts::id.eq(new_id()),
            contracts::application_id.eq(application_id),
            contracts::name.eq(name),
            contracts::path.eq(path),
            contracts::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Outcome of a lifecycle transition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transition {
    /// Done.
    Done,
    /// No such application.
    NotFound,
    /// The application was not in the status the transition needs (it is in this one).
    WrongStatus(ApplyStatus),
}

type TxAbort = Abort<Transition>;

/// Runs a guarded transition: `update` (whose `WHERE` names the status it leaves) must change
/// exactly one row; otherwise the transaction rolls back and the caller learns why.
fn transition(
    conn: &mut DbConnection,
    id: &str,
    body: impl FnOnce(&mut DbConnection, &Application) -> Result<(), TxAbort>,
    update: impl FnOnce(&mut DbConnection) -> Result<usize, diesel::result::Error>,
) -> DbResult<Transition> {
    let outcome = write_transaction(conn, |conn| {
        let n = update(conn)?;
        let app = find_application(conn, id)?.ok_or(Abort::Answer(Transition::NotFound))?;
        if n != 1 {
            return Err(Abort::Answer(Transition::WrongStatus(app.apply_status()?)));
        }
        body(conn, &app)
    });
    match outcome {
        Ok(()) => Ok(Transition::Done),
        Err(Abort::Answer(t)) => Ok(t),
        Err(Abort::Db(e)) => Err(e),
    }
}

pub(crate) fn status_is(s: ApplyStatus) -> i32 {
    i32::from(s.code())
}

/// The status column values of `statuses`, for `status IN (…)`.
pub(crate) fn statuses_are(statuses: &[ApplyStatus]) -> Vec<i32> {
    statuses.iter().map(|s| status_is(*s)).collect()
}

/// The status `action` leaves: the guard of its update (from the domain's lifecycle).
pub(crate) fn leaves(action: LoanAction) -> i32 {
    status_is(action.source())
}

/// The status `action` sets.
pub(crate) fn enters(action: LoanAction) -> i32 {
    status_is(action.target())
}

/// 0 → 1: an operator starts the review.
pub fn start_review(conn: &mut DbConnection, id: &str, now: i64) -> DbResult<Transition> {
    transition(
        conn,
        id,
        |_, _| Ok(()),
        |conn| {
            diesel::update(
                applications::table
                    .find(id)
                    .filter(applications::status.eq(leaves(LoanAction::Review))),
            )
            .set((
                applications::status.eq(enters(LoanAction::Review)),
                applications::reviewed_at.eq(now),
                applications::updated_at.eq(now),
            ))
            .execute(conn)
        },
    )
}

/// 1 → 2: approved for `reply_amount` over the approved term; message 12.
pub fn approve(
    conn: &mut DbConnection,
    id: &str,
    reply_amount: Money,
    auth_term_count: i32,
    auth_term_unit: &str,
    now: i64,
) -> DbResult<Transition> {
    transition(
        conn,
        id,
        |conn, app| {
            notify(
                conn,
                app,
                MessageType::Approved,
                text::approved(&app.loan_code, reply_amount),
                &app.id,
                now,
            )?;
            Ok(())
        },
        |conn| {
            diesel::update(
                applications::table
                    .find(id)
                    .filter(applications::status.eq(leaves(LoanAction::Approve))),
            )
            .set((
                applications::status.eq(enters(LoanAction::Approve)),
                applications::reply_amount_cents.eq(reply_amount.cents()),
                applications::auth_term_count.eq(auth_term_count),
                applications::auth_term_unit.eq(auth_term_unit),
                applications::decided_at.eq(now),
                applications::updated_at.eq(now),
            ))
            .execute(conn)
        },
    )
}

/// 1 → 3: rejected with a reason; message 13.
pub fn reject(conn: &mut DbConnection, id: &str, reason: &str, now: i64) -> DbResult<Transition> {
    transition(
        conn,
        id,
        |conn, app| {
            notify(
                conn,
                app,
                MessageType::Rejected,
                text::rejected(&app.loan_code, reason),
                &app.id,
                now,
            )?;
            Ok(())
        },
        |conn| {
            diesel::update(
                applications::table
                    .find(id)
                    .filter(applications::status.eq(leaves(LoanAction::Reject))),
            )
            .set((
                applications::status.eq(enters(LoanAction::Reject)),
                applications::reject_reason.eq(reason),
                applications::decided_at.eq(now),
                applications::updated_at.eq(now),
            ))
            .execute(conn)
        },
    )
}

/// One repayment installment (还款计划) of a disbursed loan.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = installments)]
pub struct InstallmentRow {
    /// Id (§26 `id`, §29 `repayId`, §36 `id`).
    pub id: String,
    /// The loan.
    pub application_id: String,
    /// The borrower.
    pub user_id: String,
    /// Period number.
    pub period: i32,
    /// Period start `YYYY-MM-DD`.
    pub start_date: String,
    /// Due date `YYYY-MM-DD`.
    pub due_date: String,
    /// Principal, 分.
    pub principal_cents: i64,
    /// Interest, 分.
    pub interest_cents: i64,
    /// Fee, 分.
    pub fee_cents: i64,
    /// 0 unpaid, 1 paid.
    pub status: i32,
    /// Marked overdue by the daily job.
    pub overdue: bool,
    /// Penalty accrued to `penalty_date` while unpaid; as charged once paid; 分.
    pub penalty_cents: i64,
    /// The business date the penalty was accrued to.
    pub penalty_date: Option<String>,
    /// Principal charged by the payment that settled it.
    pub charged_principal_cents: Option<i64>,
    /// Interest charged.
    pub charged_interest_cents: Option<i64>,
    /// Fee charged.
    pub charged_fee_cents: Option<i64>,
    /// Penalty charged.
    pub charged_penalty_cents: Option<i64>,
    /// `current` or `payoff`.
    pub settled_by: Option<String>,
    /// Settled by a payoff before its due date (§26 condition 4 主动).
    pub prepaid: bool,
    /// Business date of the payment.
    pub paid_on: Option<String>,
    /// Paid at (ms).
    pub paid_at: Option<i64>,
}

impl InstallmentRow {
    /// The row of installment `i` of `app`'s plan.
    pub fn new(app: &Application, i: &Installment) -> InstallmentRow {
        InstallmentRow {
            id: new_id(),
            application_id: app.id.clone(),
            user_id: app.user_id.clone(),
            period: i32::try_from(i.period).unwrap_or(i32::MAX),
            start_date: format_day(i.start_date),
            due_date: format_day(i.due_date),
            principal_cents: i.principal.cents(),
            interest_cents: i.interest.cents(),
            fee_cents: i.fee.cents(),
            status: 0,
            overdue: false,
            penalty_cents: 0,
            penalty_date: None,
            charged_principal_cents: None,
            charged_interest_cents: None,
            charged_fee_cents: None,
            charged_penalty_cents: None,
            settled_by: None,
            prepaid: false,
            paid_on: None,
            paid_at: None,
        }
    }

    /// The installment as the domain sees it.
    pub fn to_domain(&self) -> DbResult<Installment> {
        Ok(Installment {
            period: u32::try_from(self.period).map_err(|_| DbError::Corrupt {
                table: "installments",
                column: "period",
                value: self.period.to_string(),
            })?,
            start_date: stored_day("installments", "start_date", &self.start_date)?,
            due_date: stored_day("installments", "due_date", &self.due_date)?,
            principal: Money::from_cents(self.principal_cents),
            interest: Money::from_cents(self.interest_cents),
            fee: Money::from_cents(self.fee_cents),
        })
    }

    /// Whether it is paid.
    pub fn is_paid(&self) -> bool {
        self.status == 1
    }

    /// What it owes (unpaid: with the penalty accrued to `on`) or what was charged (paid).
    pub fn amounts(&self, penalty_rate: Rate, on: NaiveDate) -> DbResult<Charge> {
        if self.is_paid() {
            return Ok(Charge {
                principal: Money::from_cents(
                    self.charged_principal_cents.unwrap_or(self.principal_cents),
                ),
                interest: Money::from_cents(
                    self.charged_interest_cents.unwrap_or(self.interest_cents),
                ),
                fee: Money::from_cents(self.charged_fee_cents.unwrap_or(self.fee_cents)),
                penalty: Money::from_cents(
                    self.charged_penalty_cents.unwrap_or(self.penalty_cents),
                ),
            });
        }
        Ok(installment_due(&self.to_domain()?, penalty_rate, on))
    }
}

/// Filter of §26 (condition).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RepayFilter {
    /// `0`, `""` or absent: every installment.
    All,
    /// `1` 已还.
    Paid,
    /// `2` 未还: unpaid and not overdue.
    Unpaid,
    /// `3` 逾期: unpaid and past its due date.
    Overdue,
    /// `4` 主动: settled by a payoff before its due date.
    Prepaid,
}

/// An installment with what §26 shows of its loan.
#[derive(Clone, Debug, PartialEq, Eq, Queryable)]
pub struct InstallmentWithLoan {
    /// The installment.
    pub installment: InstallmentRow,
    /// Product name.
    pub product_name: String,
    /// Loan code.
    pub loan_code: String,
    /// The loan's principal, 分.
    pub loan_amount_cents: Option<i64>,
    /// The loan's penalty rate.
    pub penalty_rate: Option<String>,
}

impl InstallmentWithLoan {
    /// The loan's penalty rate.
    pub fn penalty(&self) -> DbResult<Rate> {
        self.penalty_rate.as_deref().map_or(Ok(Rate::ZERO), |r| {
            stored_rate("applications", "penalty_rate", r)
        })
    }
}

/// A user's installments under `filter` on `today`, ordered by due date, loan code, period; and
/// how many there are.
pub fn list_user_installments(
    conn: &mut DbConnection,
    user_id: &str,
    filter: RepayFilter,
    today: NaiveDate,
    page: PageRequest,
) -> DbResult<(Vec<InstallmentWithLoan>, i64)> {
    let today = format_day(today);
    let base = || {
        let q = installments::table
            .inner_join(applications::table)
            .filter(installments::user_id.eq(user_id))
            .into_boxed();
        match filter {
            RepayFilter::All => q,
            RepayFilter::Paid => q.filter(installments::status.eq(1)),
            RepayFilter::Unpaid => q
                .filter(installments::status.eq(0))
                .filter(installments::due_date.ge(today.clone())),
            RepayFilter::Overdue => q
                .filter(installments::status.eq(0))
                .filter(installments::due_date.lt(today.clone())),
            RepayFilter::Prepaid => q.filter(installments::prepaid.eq(true)),
        }
    };
    let total = base().count().get_result(conn)?;
    let rows = base()
        .order((
            installments::due_date.asc(),
            applications::loan_code.asc(),
            installments::period.asc(),
        ))
        .offset(page.offset)
        .limit(page.limit)
        .select((
            InstallmentRow::as_select(),
            applications::product_name,
            applications::loan_code,
            applications::reply_amount_cents,
            applications::penalty_rate,
        ))
        .load(conn)?;
    Ok((rows, total))
}

/// The installments of one application in period order, and how many there are.
pub fn list_application_installments(
    conn: &mut DbConnection,
    application_id: &str,
    page: PageRequest,
) -> DbResult<(Vec<InstallmentRow>, i64)> {
    let total = installments::table
        .filter(installments::application_id.eq(application_id))
        .count()
        .get_result(conn)?;
    let rows = installments::table
        .filter(installments::application_id.eq(application_id))
        .order(installments::period.asc())
        .offset(page.offset)
        .limit(page.limit)
        .select(InstallmentRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// Every unpaid installment of a user with its loan, for the user centre (§27) and credit.
pub fn user_unpaid_installments(
    conn: &mut DbConnection,
    user_id: &str,
) -> DbResult<Vec<InstallmentWithLoan>> {
    Ok(installments::table
        .inner_join(applications::table)
        .filter(installments::user_id.eq(user_id))
        .filter(installments::status.eq(0))
        .order((installments::due_date.asc(), installments::period.asc()))
        .select((
            InstallmentRow::as_select(),
            applications::product_name,
            applications::loan_code,
            applications::reply_amount_cents,
            applications::penalty_rate,
        ))
        .load(conn)?)
}

/// Sum of the principal of the user's disbursed loans (status 4 and 5), 分.
pub fn user_disbursed_principal(conn: &mut DbConnection, user_id: &str) -> DbResult<i64> {
    let amounts: Vec<(i64, Option<i64>)> = applications::table
        .filter(applications::user_id.eq(user_id))
        .filter(applications::status.eq_any(statuses_are(&ApplyStatus::PAID_OUT)))
        .select((applications::amount_cents, applications::reply_amount_cents))
        .load(conn)?;
    Ok(amounts.into_iter().map(|(a, r)| r.unwrap_or(a)).sum())
}

pub(crate) struct LedgerEntry<'a> {
    pub(crate) payment_ref: &'a str,
    pub(crate) application_id: &'a str,
    pub(crate) installment_id: Option<&'a str>,
    pub(crate) user_id: &'a str,
    pub(crate) kind: &'static str,
    pub(crate) charge: Charge,
    pub(crate) channel_ref: Option<&'a str>,
    pub(crate) business_date: &'a str,
    pub(crate) now: i64,
}

pub(crate) fn insert_payment(conn: &mut DbConnection, e: &LedgerEntry<'_>) -> DbResult<()> {
    diesel::insert_into(payments::table)
        .values((
            payments::id.eq(new_id()),
            payments::payment_ref.eq(e.payment_ref),
            payments::application_id.eq(e.application_id),
            payments::installment_id.eq(e.installment_id),
            payments::user_id.eq(e.user_id),
            payments::kind.eq(e.kind),
            payments::amount_cents.eq(e.charge.total().cents()),
            payments::principal_cents.eq(e.charge.principal.cents()),
            payments::interest_cents.eq(e.charge.interest.cents()),
            payments::fee_cents.eq(e.charge.fee.cents()),
            payments::penalty_cents.eq(e.charge.penalty.cents()),
            payments::channel_ref.eq(e.channel_ref),
            payments::business_date.eq(e.business_date),
            payments::created_at.eq(e.now),
        ))
        .execute(conn)?;
    Ok(())
}

/// A row of the payment ledger.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = payments)]
pub struct Payment {
    /// Id.
    pub id: String,
    /// Groups the rows of one payment.
    pub payment_ref: String,
    /// The loan.
    pub application_id: String,
    /// The installment paid (none for a disbursement).
    pub installment_id: Option<String>,
    /// The borrower.
    pub user_id: String,
    /// `disbursement`, `repayment` or `payoff`.
    pub kind: String,
    /// Total, 分.
    pub amount_cents: i64,
    /// Principal part.
    pub principal_cents: i64,
    /// Interest part.
    pub interest_cents: i64,
    /// Fee part.
    pub fee_cents: i64,
    /// Penalty part.
    pub penalty_cents: i64,
    /// The channel's reference.
    pub channel_ref: Option<String>,
    /// Business date.
    pub business_date: String,
    /// Recorded at (ms).
    pub created_at: i64,
}

/// The ledger of one loan, oldest first.
pub fn list_payments(conn: &mut DbConnection, application_id: &str) -> DbResult<Vec<Payment>> {
    Ok(payments::table
        .filter(payments::application_id.eq(application_id))
        .order((payments::created_at.asc(), payments::id.asc()))
        .select(Payment::as_select())
        .load(conn)?)
}

/// Ids of unpaid installments of paid-out loans due on or before `date`, after `after_id` in id
/// order (a keyset page of `page.limit`): what auto-debit looks at.
pub fn due_unpaid_installments(
    conn: &mut DbConnection,
    date: NaiveDate,
    after_id: &str,
    page: PageRequest,
) -> DbResult<Vec<String>> {
    Ok(installments::table
        .inner_join(applications::table)
        .filter(installments::status.eq(0))
        .filter(installments::due_date.le(format_day(date)))
        .filter(installments::id.gt(after_id))
        .filter(applications::status.eq(status_is(ApplyStatus::Disbursed)))
        .order(installments::id.asc())
        .offset(page.offset)
        .limit(page.limit)
        .select(installments::id)
        .load(conn)?)
}

/// An unpaid installment as the daily job sees it: the row, its loan code and penalty rate.
pub type BookEntry = (InstallmentRow, String, Option<String>);

/// One page of the unpaid book: installments due on or before `last_due` (`YYYY-MM-DD`) with an
/// id after `after_id`, in id order, so the daily job streams the book in constant memory.
pub fn unpaid_book_page(
    conn: &mut DbConnection,
    last_due: &str,
    after_id: Option<&str>,
    limit: i64,
) -> DbResult<Vec<BookEntry>> {
    let mut q = installments::table
        .inner_join(applications::table)
        .filter(installments::status.eq(0))
        .filter(installments::due_date.le(last_due))
        .select((
            InstallmentRow::as_select(),
            applications::loan_code,
            applications::penalty_rate,
        ))
        .order(installments::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after_id {
        q = q.filter(installments::id.gt(after));
    }
    Ok(q.load(conn)?)
}

/// Records the daily job's view of an unpaid installment: overdue or not, and the penalty
/// accrued to `on`. Guarded on the installment still being unpaid; true when a row changed.
pub fn record_accrual(
    conn: &mut DbConnection,
    id: &str,
    overdue: bool,
    penalty_cents: i64,
    on: &str,
) -> DbResult<bool> {
    let n = diesel::update(
        installments::table
            .find(id)
            .filter(installments::status.eq(0)),
    )
    .set((
        installments::overdue.eq(overdue),
        installments::penalty_cents.eq(penalty_cents),
        installments::penalty_date.eq(on),
    ))
    .execute(conn)?;
    Ok(n == 1)
}
