//! Repayment installments (还款计划) of disbursed loans, and what a borrower sees of them.

use crate::columns::typed::{Cents, MaybeCents};
use crate::columns::typed::{FromText, MaybeFromText, MaybeToText, RepayStatusColumn, ToText};
use cashloan_domain::RepayStatus;
use cashloan_domain::{format_day, installment_due, Charge, Installment, Money, Rate};
use chrono::NaiveDate;
use diesel::prelude::*;

use super::*;
use crate::accounts::new_id;
use crate::db::{DbConnection, DbError, DbResult};
use crate::schema::{applications, installments};

/// The status column of an unpaid installment.
pub(crate) const UNPAID: RepayStatusColumn = RepayStatusColumn(RepayStatus::Unpaid);
/// The status column of a paid one.
pub(crate) const PAID: RepayStatusColumn = RepayStatusColumn(RepayStatus::Paid);

/// The lowest unpaid period of loan `application_id`, if any.
pub(crate) fn earliest_unpaid_period(
    conn: &mut DbConnection,
    application_id: &str,
) -> DbResult<Option<u32>> {
    let period: Option<i32> = installments::table
        .filter(installments::application_id.eq(application_id))
        .filter(installments::status.eq(UNPAID))
        .select(diesel::dsl::min(installments::period))
        .first(conn)?;
    Ok(period.and_then(|p| u32::try_from(p).ok()))
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
    /// Period start.
    #[diesel(deserialize_as = FromText<NaiveDate>, serialize_as = ToText)]
    pub start_date: NaiveDate,
    /// Due date.
    #[diesel(deserialize_as = FromText<NaiveDate>, serialize_as = ToText)]
    pub due_date: NaiveDate,
    /// Principal, 分.
    #[diesel(column_name = principal_cents, deserialize_as = Cents, serialize_as = Cents)]
    pub principal: Money,
    /// Interest, 分.
    #[diesel(column_name = interest_cents, deserialize_as = Cents, serialize_as = Cents)]
    pub interest: Money,
    /// Fee, 分.
    #[diesel(column_name = fee_cents, deserialize_as = Cents, serialize_as = Cents)]
    pub fee: Money,
    /// Paid or not (还款状态).
    #[diesel(deserialize_as = RepayStatusColumn, serialize_as = RepayStatusColumn)]
    pub status: RepayStatus,
    /// Marked overdue by the daily job.
    pub overdue: bool,
    /// Penalty accrued to `penalty_date` while unpaid; as charged once paid; 分.
    #[diesel(column_name = penalty_cents, deserialize_as = Cents, serialize_as = Cents)]
    pub penalty: Money,
    /// The business date the penalty was accrued to.
    #[diesel(deserialize_as = MaybeFromText<NaiveDate>, serialize_as = MaybeToText)]
    pub penalty_date: Option<NaiveDate>,
    /// Principal charged by the payment that settled it.
    #[diesel(column_name = charged_principal_cents, deserialize_as = MaybeCents, serialize_as = MaybeCents)]
    pub charged_principal: Option<Money>,
    /// Interest charged.
    #[diesel(column_name = charged_interest_cents, deserialize_as = MaybeCents, serialize_as = MaybeCents)]
    pub charged_interest: Option<Money>,
    /// Fee charged.
    #[diesel(column_name = charged_fee_cents, deserialize_as = MaybeCents, serialize_as = MaybeCents)]
    pub charged_fee: Option<Money>,
    /// Penalty charged.
    #[diesel(column_name = charged_penalty_cents, deserialize_as = MaybeCents, serialize_as = MaybeCents)]
    pub charged_penalty: Option<Money>,
    /// `current` or `payoff`.
    pub settled_by: Option<String>,
    /// Settled by a payoff before its due date (§26 condition 4 主动).
    pub prepaid: bool,
    /// Business date of the payment.
    #[diesel(deserialize_as = MaybeFromText<NaiveDate>, serialize_as = MaybeToText)]
    pub paid_on: Option<NaiveDate>,
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
            start_date: i.start_date,
            due_date: i.due_date,
            principal: i.principal,
            interest: i.interest,
            fee: i.fee,
            status: RepayStatus::Unpaid,
            overdue: false,
            penalty: Money::ZERO,
            penalty_date: None,
            charged_principal: None,
            charged_interest: None,
            charged_fee: None,
            charged_penalty: None,
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
            start_date: self.start_date,
            due_date: self.due_date,
            principal: self.principal,
            interest: self.interest,
            fee: self.fee,
        })
    }

    /// Whether it is paid.
    pub fn is_paid(&self) -> bool {
        self.status == RepayStatus::Paid
    }

    /// What it owes (unpaid: with the penalty accrued to `on`) or what was charged (paid).
    pub fn amounts(&self, penalty_rate: Rate, on: NaiveDate) -> DbResult<Charge> {
        if self.is_paid() {
            return Ok(Charge {
                principal: self.charged_principal.unwrap_or(self.principal),
                interest: self.charged_interest.unwrap_or(self.interest),
                fee: self.charged_fee.unwrap_or(self.fee),
                penalty: self.charged_penalty.unwrap_or(self.penalty),
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
    /// The loan's principal.
    #[diesel(deserialize_as = MaybeCents)]
    pub loan_amount: Option<Money>,
    /// The loan's penalty rate.
    #[diesel(deserialize_as = MaybeFromText<Rate>)]
    pub penalty_rate: Option<Rate>,
}

impl InstallmentWithLoan {
    /// The loan's penalty rate.
    pub fn penalty(&self) -> Rate {
        self.penalty_rate.unwrap_or(Rate::ZERO)
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
            RepayFilter::Paid => q.filter(installments::status.eq(PAID)),
            RepayFilter::Unpaid => q
                .filter(installments::status.eq(UNPAID))
                .filter(installments::due_date.ge(today.clone())),
            RepayFilter::Overdue => q
                .filter(installments::status.eq(UNPAID))
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
    Ok(per_backend!(conn, c => installments::table
        .inner_join(applications::table)
        .filter(installments::user_id.eq(user_id))
        .filter(installments::status.eq(UNPAID))
        .order((installments::due_date.asc(), installments::period.asc()))
        .select((
            InstallmentRow::as_select(),
            applications::product_name,
            applications::loan_code,
            applications::reply_amount_cents,
            applications::penalty_rate,
        ))
        .load(c)?))
}
