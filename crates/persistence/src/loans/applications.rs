//! Applications (借款申请): what was asked and priced, their codes, storing one, and reading them.

use crate::cached::cached;
use crate::columns::typed::{Cents, MaybeCents};
use cashloan_domain::message::text;
use cashloan_domain::{
    build_plan_rounded, format_day, plan_within_cap, ApplyStatus, CapError, MessageType, Money,
    Period, PlanSpec, Rate, RepayType, RepaymentPlan, Rounding, TermUnit,
};
use cashloan_domain::{LoanProduct, LoanTerms};
use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use rust_decimal::Decimal;

use super::*;
use crate::accounts::new_id;
use crate::columns::typed::{FromText, MaybeFromText, MaybeToText, ToText};
use crate::db::{write_transaction, DbConnection, DbError, DbResult};
use crate::schema::{applications, contracts, users};

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
    /// `applyStatus` (借款状态).
    #[diesel(
        deserialize_as = crate::columns::typed::ApplyStatusColumn,
        serialize_as = crate::columns::typed::ApplyStatusColumn
    )]
    pub status: ApplyStatus,
    /// Amount applied for, 分.
    #[diesel(column_name = amount_cents, deserialize_as = Cents, serialize_as = Cents)]
    pub amount: Money,
    /// Amount approved (the loan's principal), 分.
    #[diesel(column_name = reply_amount_cents, deserialize_as = MaybeCents, serialize_as = MaybeCents)]
    pub reply_amount: Option<Money>,
    /// Annual rate.
    #[diesel(deserialize_as = FromText<Rate>, serialize_as = ToText)]
    pub interest_rate: Rate,
    /// Annual penalty rate.
    #[diesel(deserialize_as = MaybeFromText<Rate>, serialize_as = MaybeToText)]
    pub penalty_rate: Option<Rate>,
    /// Service fee per period.
    #[diesel(deserialize_as = FromText<Rate>, serialize_as = ToText)]
    pub service_fee_rate: Rate,
    /// Upfront fee.
    #[diesel(deserialize_as = FromText<Rate>, serialize_as = ToText)]
    pub upfront_fee_rate: Rate,
    /// Term asked for.
    pub term_count: i32,
    /// Its unit.
    #[diesel(deserialize_as = FromText<TermUnit>, serialize_as = ToText)]
    pub term_unit: TermUnit,
    /// Repayment interval.
    pub repay_term_count: i32,
    /// Its unit.
    #[diesel(deserialize_as = FromText<TermUnit>, serialize_as = ToText)]
    pub repay_term_unit: TermUnit,
    /// Repay type.
    #[diesel(deserialize_as = FromText<RepayType>, serialize_as = ToText)]
    pub repay_type: RepayType,
    /// Term approved.
    pub auth_term_count: Option<i32>,
    /// Its unit.
    #[diesel(deserialize_as = MaybeFromText<TermUnit>, serialize_as = MaybeToText)]
    pub auth_term_unit: Option<TermUnit>,
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
    #[diesel(deserialize_as = MaybeFromText<NaiveDate>, serialize_as = MaybeToText)]
    pub release_date: Option<NaiveDate>,
    /// Settled at (ms).
    pub settled_at: Option<i64>,
    /// Changed at (ms).
    pub updated_at: i64,
}

/// What a borrower tells us beside the terms when applying (§23).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApplicationDetails {
    /// 借款用途 code.
    pub purpose: String,
    /// 其他渠道借款情况 code.
    pub other_channels: String,
    /// Where the app was.
    pub longitude: String,
    /// Where the app was.
    pub latitude: String,
    /// The carrier authorisation's order id.
    pub order_id: String,
    /// An emergency contact, if given.
    pub contact_name: Option<String>,
    /// Their phone.
    pub contact_phone: Option<String>,
    /// A remark.
    pub remark: Option<String>,
    /// The phone book, a JSON array (sealed when stored).
    pub phonebook: String,
}

impl Application {
    /// A new application of `user_id` for `terms` on `product` (whose code is `product_code`),
    /// priced with the product's rates; [`submit_application`] gives it its id, loan code, status
    /// and times.
    pub fn draft(
        user_id: &str,
        product: &LoanProduct,
        product_code: &str,
        terms: &LoanTerms,
        details: ApplicationDetails,
    ) -> Application {
        let count = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
        Application {
            id: String::new(),
            user_id: user_id.to_owned(),
            product_id: product.id.clone(),
            product_code: product_code.to_owned(),
            product_name: product.name.clone(),
            loan_code: String::new(),
            status: ApplyStatus::Submitted,
            amount: terms.amount,
            reply_amount: None,
            interest_rate: terms.rate,
            penalty_rate: product.penalty_rate,
            service_fee_rate: product.service_fee_rate,
            upfront_fee_rate: product.upfront_fee_rate,
            term_count: count(terms.term.count),
            term_unit: terms.term.unit,
            repay_term_count: count(terms.interval.count),
            repay_term_unit: terms.interval.unit,
            repay_type: terms.repay_type,
            auth_term_count: None,
            auth_term_unit: None,
            purpose: details.purpose,
            other_channels: details.other_channels,
            longitude: details.longitude,
            latitude: details.latitude,
            order_id: details.order_id,
            contact_name: details.contact_name,
            contact_phone: details.contact_phone,
            remark: details.remark,
            phonebook: details.phonebook,
            applied_at: 0,
            reviewed_at: None,
            decided_at: None,
            reject_reason: None,
            disbursed_at: None,
            release_date: None,
            settled_at: None,
            updated_at: 0,
        }
    }

    /// The loan's principal: the approved amount once approved, else the amount asked.
    pub fn principal(&self) -> Money {
        self.reply_amount.unwrap_or(self.amount)
    }

    /// The penalty rate (0 when the product has none).
    pub fn penalty(&self) -> Rate {
        self.penalty_rate.unwrap_or(Rate::ZERO)
    }

    /// The plan spec of the approved terms, starting on `start` (the payout's date); why not,
    /// when a stored count is corrupt.
    pub fn plan_spec(&self, start: NaiveDate) -> Result<PlanSpec, String> {
        let count = |c: i32| u32::try_from(c).map_err(|_| format!("corrupt count {c}"));
        let term = Period {
            count: count(self.auth_term_count.unwrap_or(self.term_count))?,
            unit: self.auth_term_unit.unwrap_or(self.term_unit),
        };
        Ok(PlanSpec {
            principal: self.principal(),
            annual_rate: self.interest_rate,
            term,
            interval: Period {
                count: count(self.repay_term_count)?,
                unit: self.repay_term_unit,
            },
            repay_type: self.repay_type,
            service_fee_rate: self.service_fee_rate,
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
        let upfront = self.upfront_fee_rate.as_decimal();
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

#[derive(QueryableByName)]
struct SequenceValue {
    #[diesel(sql_type = BigInt)]
    last_value: i64,
}

/// The next value of a per-day sequence (1, 2, …), atomic on both backends.
pub fn next_in_sequence(conn: &mut DbConnection, scope: &str, day: &str) -> DbResult<i64> {
    crate::db::write_one_statement(conn, |conn| {
        let rows: Vec<SequenceValue> = cached(
            diesel::sql_query(
                "INSERT INTO sequences (scope, day, last_value) VALUES ($1, $2, 1) \
             ON CONFLICT (scope, day) DO UPDATE SET last_value = sequences.last_value + 1 \
             RETURNING last_value",
            )
            .bind::<Text, _>(scope)
            .bind::<Text, _>(day),
        )
        .load(conn)?;
        rows.first().map(|r| r.last_value).ok_or(DbError::Corrupt {
            table: "sequences",
            column: "last_value",
            value: "no row returned".into(),
        })
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
        let open: i64 = cached(
            applications::table
                .filter(applications::user_id.eq(&app.user_id))
                .filter(applications::status.eq_any(statuses_are(&ApplyStatus::OPEN)))
                .count(),
        )
        .get_result(conn)?;
        if open > 0 {
            return Ok(None);
        }
        let n = next_in_sequence(conn, "loan_code", &day)?;
        app.id = new_id();
        app.loan_code = loan_code(business_date, n);
        app.status = ApplyStatus::Submitted;
        app.applied_at = now;
        app.updated_at = now;
        // The phone book is the borrower's contacts' data: sealed at rest.
        app.phonebook = crate::sealed::seal(&app.phonebook)?;
        diesel::insert_into(applications::table)
            .values(app.clone())
            .execute(conn)?;
        notify(
            conn,
            &app,
            MessageType::Submitted,
            text::submitted(&app.loan_code, app.amount),
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
    filter: &ApplicationFilter,
    page: PageRequest,
) -> DbResult<(Vec<(Application, String)>, i64)> {
    let boxed = || {
        let mut q = applications::table.inner_join(users::table).into_boxed();
        if let Some(s) = filter.status {
            q = q.filter(applications::status.eq(status_is(s)));
        }
        if let Some(m) = &filter.mobile {
            q = q.filter(users::mobile.eq(m.clone()));
        }
        if let Some(c) = &filter.loan_code {
            q = q.filter(applications::loan_code.eq(c.clone()));
        }
        if let Some(from) = filter.applied_from {
            q = q.filter(applications::applied_at.ge(from));
        }
        if let Some(to) = filter.applied_before {
            q = q.filter(applications::applied_at.lt(to));
        }
        q
    };
    let total = boxed().count().get_result(conn)?;
    let rows = boxed()
        .select((Application::as_select(), users::mobile))
        .order((applications::applied_at.desc(), applications::id.desc()))
        .offset(page.offset)
        .limit(page.limit)
        .load(conn)?;
    Ok((rows, total))
}

/// Which applications a list shows (every member optional).
#[derive(Clone, Debug, Default)]
pub struct ApplicationFilter {
    /// In this status.
    pub status: Option<ApplyStatus>,
    /// The borrower's mobile, in full.
    pub mobile: Option<String>,
    /// The loan code, in full.
    pub loan_code: Option<String>,
    /// Applied at or after (ms).
    pub applied_from: Option<i64>,
    /// Applied before (ms).
    pub applied_before: Option<i64>,
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
    crate::db::write_statement(conn, |conn| {
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
    })
}

/// Sum of the principal of the user's disbursed loans (status 4 and 5).
pub fn user_disbursed_principal(conn: &mut DbConnection, user_id: &str) -> DbResult<Money> {
    // Two comparisons rather than `IN (…)`: diesel prepares an `IN` list again at every call.
    let [disbursed, settled] = ApplyStatus::PAID_OUT;
    let amounts: Vec<(Cents, MaybeCents)> = per_backend!(conn, c => applications::table
        .filter(applications::user_id.eq(user_id))
        .filter(
            applications::status
                .eq(status_is(disbursed))
                .or(applications::status.eq(status_is(settled))),
        )
        .select((applications::amount_cents, applications::reply_amount_cents))
        .load(c)?);
    Ok(amounts
        .into_iter()
        .map(|(a, r)| Option::<Money>::from(r).unwrap_or(a.into()))
        .sum())
}
