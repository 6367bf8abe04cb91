//! The payment ledger: one row per installment paid, or per payout.

use crate::columns::typed::Cents;
use cashloan_domain::Charge;
use cashloan_domain::Money;
use diesel::prelude::*;

use crate::accounts::new_id;
use crate::db::{DbConnection, DbResult};
use crate::schema::payments;

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
            payments::amount_cents.eq(Cents::from(e.charge.total())),
            payments::principal_cents.eq(Cents::from(e.charge.principal)),
            payments::interest_cents.eq(Cents::from(e.charge.interest)),
            payments::fee_cents.eq(Cents::from(e.charge.fee)),
            payments::penalty_cents.eq(Cents::from(e.charge.penalty)),
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
    #[diesel(column_name = amount_cents, deserialize_as = Cents)]
    pub amount: Money,
    /// Principal part.
    #[diesel(column_name = principal_cents, deserialize_as = Cents)]
    pub principal: Money,
    /// Interest part.
    #[diesel(column_name = interest_cents, deserialize_as = Cents)]
    pub interest: Money,
    /// Fee part.
    #[diesel(column_name = fee_cents, deserialize_as = Cents)]
    pub fee: Money,
    /// Penalty part.
    #[diesel(column_name = penalty_cents, deserialize_as = Cents)]
    pub penalty: Money,
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
