//! Reading orders: one, its lines, a loan's open ones, the stale ones, a page for operators;
//! and the loan's row lock the openers and settlement take.

use cashloan_domain::ApplyStatus;
use diesel::prelude::*;

use crate::cached::cached;
use crate::db::{DbConnection, DbResult};
use crate::loans::{statuses_are, Application, InstallmentRow, UNPAID};
use crate::schema::{applications, installments, payment_order_lines, payment_orders};

use super::*;

/// The order `id`.
pub fn find_order(conn: &mut DbConnection, id: &str) -> DbResult<Option<PaymentOrder>> {
    Ok(payment_orders::table
        .find(id)
        .select(PaymentOrder::as_select())
        .first(conn)
        .optional()?)
}

/// The lines of order `id`.
pub fn order_lines(conn: &mut DbConnection, id: &str) -> DbResult<Vec<OrderLine>> {
    Ok(payment_order_lines::table
        .filter(payment_order_lines::order_id.eq(id))
        .select(OrderLine::as_select())
        .load(conn)?)
}

/// The open charge order of a loan, if any.
pub(super) fn open_charge_of(
    conn: &mut DbConnection,
    application_id: &str,
) -> DbResult<Option<PaymentOrder>> {
    Ok(cached(
        payment_orders::table
            .filter(payment_orders::application_id.eq(application_id))
            .filter(payment_orders::kind.ne(OrderKind::Payout.as_str()))
            .filter(payment_orders::status.eq_any(OPEN))
            .select(PaymentOrder::as_select())
            .limit(1),
    )
    .get_result(conn)
    .optional()?)
}

/// The payout order of a loan that has not failed, if any.
pub(super) fn live_payout_of(
    conn: &mut DbConnection,
    application_id: &str,
) -> DbResult<Option<PaymentOrder>> {
    Ok(payment_orders::table
        .filter(payment_orders::application_id.eq(application_id))
        .filter(payment_orders::kind.eq(OrderKind::Payout.as_str()))
        .filter(payment_orders::status.ne(OrderStatus::Failed.as_str()))
        .select(PaymentOrder::as_select())
        .first(conn)
        .optional()?)
}

pub(super) fn card_of(conn: &mut DbConnection, user_id: &str) -> DbResult<Option<String>> {
    Ok(crate::profile::find_bank_card(conn, user_id)?.map(|c| c.card_no))
}

/// Takes the loan's row lock for the rest of the transaction (a no-op update, a row lock on
/// PostgreSQL). Opening a charge and settling one both take it first, so a charge is never
/// opened on the strength of a read that a settlement is about to make stale. On SQLite every
/// write transaction holds the file's write lock from its start (and its writers take turns), so
/// there is nothing to take, and the update would only run the applications' version trigger.
///
/// Returns whether it took a lock now, that is whether what the transaction read before may
/// have changed since and must be read again (on SQLite nothing else has written since the
/// transaction began).
pub(super) fn lock_loan(conn: &mut DbConnection, application_id: &str) -> DbResult<bool> {
    if matches!(conn, DbConnection::Sqlite(_)) {
        return Ok(false);
    }
    cached(
        diesel::update(applications::table.find(application_id))
            .set(applications::updated_at.eq(applications::updated_at)),
    )
    .execute(conn)?;
    Ok(true)
}

/// The installment `id` of `user_id` with its loan, if the loan is paid out (4) or settled (5).
pub(super) fn find_payable(
    conn: &mut DbConnection,
    user_id: &str,
    id: &str,
) -> DbResult<Option<(InstallmentRow, Application)>> {
    Ok(cached(
        installments::table
            .inner_join(applications::table)
            .filter(installments::id.eq(id))
            .filter(installments::user_id.eq(user_id))
            .filter(applications::status.eq_any(statuses_are(&ApplyStatus::PAID_OUT)))
            .select((InstallmentRow::as_select(), Application::as_select()))
            .limit(1),
    )
    .get_result(conn)
    .optional()?)
}

pub(super) fn unpaid_of(
    conn: &mut DbConnection,
    application_id: &str,
) -> DbResult<Vec<InstallmentRow>> {
    Ok(installments::table
        .filter(installments::application_id.eq(application_id))
        .filter(installments::status.eq(UNPAID))
        .order(installments::period.asc())
        .select(InstallmentRow::as_select())
        .load(conn)?)
}

/// Open orders last changed before `before` (ms), oldest first, at most `limit`: what the
/// reconciler asks the channel about.
pub fn stale_open_orders(
    conn: &mut DbConnection,
    before: i64,
    limit: i64,
) -> DbResult<Vec<PaymentOrder>> {
    Ok(cached(
        payment_orders::table
            .filter(payment_orders::status.eq_any(OPEN))
            .filter(payment_orders::updated_at.lt(before))
            .order((payment_orders::updated_at.asc(), payment_orders::id.asc()))
            .limit(limit)
            .select(PaymentOrder::as_select()),
    )
    .load(conn)?)
}

/// Marks an open order as asked about just now, so a reconciler pass that could not settle it
/// moves on to others before asking again.
pub fn touch_order(conn: &mut DbConnection, id: &str, now: i64) -> DbResult<()> {
    crate::db::write_statement(conn, |conn| {
        cached(
            diesel::update(
                payment_orders::table
                    .find(id)
                    .filter(payment_orders::status.eq_any(OPEN)),
            )
            .set(payment_orders::updated_at.eq(now)),
        )
        .execute(conn)?;
        Ok(())
    })
}

/// Orders, newest first, optionally of one status and one application; and how many match.
pub fn list_orders(
    conn: &mut DbConnection,
    status: Option<&str>,
    application_id: Option<&str>,
    page: crate::loans::PageRequest,
) -> DbResult<(Vec<PaymentOrder>, i64)> {
    let filtered = || {
        let mut q = payment_orders::table.into_boxed();
        if let Some(s) = status {
            q = q.filter(payment_orders::status.eq(s.to_owned()));
        }
        if let Some(a) = application_id {
            q = q.filter(payment_orders::application_id.eq(a.to_owned()));
        }
        q
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let rows = filtered()
        .order((payment_orders::created_at.desc(), payment_orders::id.desc()))
        .offset(page.offset)
        .limit(page.limit)
        .select(PaymentOrder::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// How many payment orders are in each status (for the metrics); statuses without one are left
/// out.
pub fn count_orders_by_status(conn: &mut DbConnection) -> DbResult<Vec<(String, i64)>> {
    Ok(payment_orders::table
        .group_by(payment_orders::status)
        .select((payment_orders::status, diesel::dsl::count_star()))
        .load(conn)?)
}
