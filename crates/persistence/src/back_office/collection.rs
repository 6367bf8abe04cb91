//! Collection (贷后/催收): the overdue book by bucket, which collector works which loan, and the
//! notes of each contact with their promises to pay.

use cashloan_domain::{format_day, parse_day, Money};
use chrono::NaiveDate;
use diesel::prelude::*;

use diesel::sql_types::{BigInt, Integer, Nullable, Text};

use crate::cached::cached;
use crate::db::{write_statement, DbConnection, DbResult};
use crate::schema::{collection_assignments, collection_notes};
use cashloan_domain::{ApplyStatus, RepayStatus};

/// A delinquency bucket by days overdue (M1: 1–30, M2: 31–60, M3: 61–90, M3+: over 90).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Bucket {
    /// 1–30 days.
    M1,
    /// 31–60 days.
    M2,
    /// 61–90 days.
    M3,
    /// Over 90 days.
    M3Plus,
}

impl Bucket {
    /// Every bucket, in order.
    pub const ALL: [Bucket; 4] = [Bucket::M1, Bucket::M2, Bucket::M3, Bucket::M3Plus];

    /// The bucket of a loan `days` overdue (none when it is not overdue).
    pub fn of(days: i64) -> Option<Bucket> {
        match days {
            i64::MIN..=0 => None,
            1..=30 => Some(Bucket::M1),
            31..=60 => Some(Bucket::M2),
            61..=90 => Some(Bucket::M3),
            _ => Some(Bucket::M3Plus),
        }
    }

    /// Its name (`M1`, `M2`, `M3`, `M3+`).
    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::M1 => "M1",
            Bucket::M2 => "M2",
            Bucket::M3 => "M3",
            Bucket::M3Plus => "M3+",
        }
    }

    /// The bucket of a name.
    pub fn parse(name: &str) -> Option<Bucket> {
        Bucket::ALL.into_iter().find(|b| b.as_str() == name)
    }
}

/// One overdue loan in the collection queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverdueLoan {
    /// The application.
    pub application_id: String,
    /// Its loan code.
    pub loan_code: String,
    /// The borrower's mobile (in full: the caller masks it).
    pub mobile: String,
    /// The earliest unpaid due date.
    pub first_due: NaiveDate,
    /// Days overdue at the business date.
    pub days_overdue: i64,
    /// Its bucket.
    pub bucket: Bucket,
    /// Overdue installments.
    pub installments: i64,
    /// Principal, interest, fee and penalty of the overdue installments.
    pub overdue_amount: Money,
    /// The principal of the overdue installments.
    pub overdue_principal: Money,
    /// The collector working it (name), if assigned.
    pub collector: Option<String>,
    /// The latest promise to pay, if any.
    pub promise_date: Option<NaiveDate>,
}

/// One overdue loan as the grouped query gives it.
#[derive(QueryableByName)]
struct OverdueRow {
    #[diesel(sql_type = Text)]
    application_id: String,
    #[diesel(sql_type = Text)]
    loan_code: String,
    #[diesel(sql_type = Text)]
    mobile: String,
    #[diesel(sql_type = Text)]
    first_due: String,
    #[diesel(sql_type = BigInt)]
    installments: i64,
    #[diesel(sql_type = BigInt)]
    owed_cents: i64,
    #[diesel(sql_type = BigInt)]
    principal_cents: i64,
    #[diesel(sql_type = Nullable<Text>)]
    collector: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    promise_date: Option<String>,
}

/// The overdue book, one row per loan, grouped by the database: the loans paid out with an
/// unpaid installment due before the day, their earliest due date, the sums of the overdue
/// installments, the collector and the latest promise (PostgreSQL sums a BIGINT as NUMERIC:
/// cast back, on both backends alike).
const OVERDUE_SQL: &str = "\
    SELECT g.application_id, a.loan_code, u.mobile, g.first_due, g.installments, g.owed_cents, \
           g.principal_cents, o.name AS collector, \
           (SELECT n.promise_date FROM collection_notes n \
             WHERE n.application_id = g.application_id AND n.promise_date IS NOT NULL \
             ORDER BY n.at DESC, n.id DESC LIMIT 1) AS promise_date \
      FROM (SELECT i.application_id, MIN(i.due_date) AS first_due, COUNT(*) AS installments, \
                   CAST(SUM(i.principal_cents + i.interest_cents + i.fee_cents + i.penalty_cents) \
                        AS BIGINT) AS owed_cents, \
                   CAST(SUM(i.principal_cents) AS BIGINT) AS principal_cents \
              FROM installments i JOIN applications ap ON ap.id = i.application_id \
             WHERE ap.status = $1 AND i.status = $2 AND i.due_date < $3 \
             GROUP BY i.application_id) g \
      JOIN applications a ON a.id = g.application_id \
      JOIN users u ON u.id = a.user_id \
      LEFT JOIN collection_assignments ca ON ca.application_id = g.application_id \
      LEFT JOIN operators o ON o.id = ca.collector_id";

/// Every overdue loan at `today`, most overdue first, with its assignment and latest promise.
pub fn overdue_loans(conn: &mut DbConnection, today: NaiveDate) -> DbResult<Vec<OverdueLoan>> {
    let rows: Vec<OverdueRow> = cached(
        diesel::sql_query(OVERDUE_SQL)
            .bind::<Integer, _>(i32::from(ApplyStatus::Disbursed.code()))
            .bind::<Integer, _>(i32::from(RepayStatus::Unpaid.code()))
            .bind::<Text, _>(format_day(today)),
    )
    .load(conn)?;
    let mut loans = Vec::with_capacity(rows.len());
    for r in rows {
        let first_due = parse_day(&r.first_due).ok_or_else(|| crate::DbError::Corrupt {
            table: "installments",
            column: "due_date",
            value: r.first_due.clone(),
        })?;
        let days = (today - first_due).num_days();
        let Some(bucket) = Bucket::of(days) else {
            continue;
        };
        loans.push(OverdueLoan {
            application_id: r.application_id,
            loan_code: r.loan_code,
            mobile: r.mobile,
            first_due,
            days_overdue: days,
            bucket,
            installments: r.installments,
            overdue_amount: Money::from_cents(r.owed_cents),
            overdue_principal: Money::from_cents(r.principal_cents),
            collector: r.collector,
            promise_date: r.promise_date.as_deref().and_then(parse_day),
        });
    }
    loans.sort_by(|a, b| {
        b.days_overdue
            .cmp(&a.days_overdue)
            .then_with(|| a.loan_code.cmp(&b.loan_code))
    });
    Ok(loans)
}

/// Assigns loan `application_id` to collector `collector_id` (replacing an assignment).
pub fn assign(
    conn: &mut DbConnection,
    application_id: &str,
    collector_id: &str,
    by: &str,
    now: i64,
) -> DbResult<()> {
    write_statement(conn, |conn| {
        let insert = diesel::insert_into(collection_assignments::table)
            .values((
                collection_assignments::application_id.eq(application_id),
                collection_assignments::collector_id.eq(collector_id),
                collection_assignments::assigned_by.eq(by),
                collection_assignments::assigned_at.eq(now),
            ))
            .on_conflict(collection_assignments::application_id)
            .do_update()
            .set((
                collection_assignments::collector_id.eq(collector_id),
                collection_assignments::assigned_by.eq(by),
                collection_assignments::assigned_at.eq(now),
            ));
        // The MultiConnection has no upsert: each backend runs it itself.
        match conn {
            DbConnection::Sqlite(c) => insert.execute(c)?,
            DbConnection::Pg(c) => insert.execute(c)?,
        };
        Ok(())
    })
}

/// The collector (operator id) a loan is assigned to.
pub fn assignee(conn: &mut DbConnection, application_id: &str) -> DbResult<Option<String>> {
    Ok(collection_assignments::table
        .find(application_id)
        .select(collection_assignments::collector_id)
        .first(conn)
        .optional()?)
}

/// How a collector reached the borrower.
pub const METHODS: [&str; 4] = ["phone", "sms", "visit", "other"];

/// A collection note (催收记录).
#[derive(Clone, Debug, PartialEq, Eq, Queryable)]
pub struct CollectionNote {
    /// Id.
    pub id: String,
    /// The loan.
    pub application_id: String,
    /// Who wrote it.
    pub operator: String,
    /// `phone`, `sms`, `visit` or `other`.
    pub method: String,
    /// What came of it.
    pub result: String,
    /// The day the borrower promised to pay, if they did.
    pub promise_date: Option<String>,
    /// How much they promised.
    #[diesel(deserialize_as = crate::columns::typed::MaybeCents)]
    pub promise_amount: Option<Money>,
    /// When (ms).
    pub at: i64,
}

/// Writes a note on loan `application_id`.
pub fn add_note(conn: &mut DbConnection, note: &CollectionNote) -> DbResult<()> {
    write_statement(conn, |conn| {
        diesel::insert_into(collection_notes::table)
            .values((
                collection_notes::id.eq(&note.id),
                collection_notes::application_id.eq(&note.application_id),
                collection_notes::operator.eq(&note.operator),
                collection_notes::method.eq(&note.method),
                collection_notes::result.eq(&note.result),
                collection_notes::promise_date.eq(&note.promise_date),
                collection_notes::promise_amount_cents.eq(note.promise_amount.map(|m| m.cents())),
                collection_notes::at.eq(note.at),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// The notes of loan `application_id`, newest first.
pub fn notes(conn: &mut DbConnection, application_id: &str) -> DbResult<Vec<CollectionNote>> {
    Ok(collection_notes::table
        .filter(collection_notes::application_id.eq(application_id))
        .order((collection_notes::at.desc(), collection_notes::id.desc()))
        .select((
            collection_notes::id,
            collection_notes::application_id,
            collection_notes::operator,
            collection_notes::method,
            collection_notes::result,
            collection_notes::promise_date,
            collection_notes::promise_amount_cents,
            collection_notes::at,
        ))
        .load(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_by_days_overdue() {
        assert_eq!(Bucket::of(0), None);
        assert_eq!(Bucket::of(1), Some(Bucket::M1));
        assert_eq!(Bucket::of(30), Some(Bucket::M1));
        assert_eq!(Bucket::of(31), Some(Bucket::M2));
        assert_eq!(Bucket::of(60), Some(Bucket::M2));
        assert_eq!(Bucket::of(61), Some(Bucket::M3));
        assert_eq!(Bucket::of(90), Some(Bucket::M3));
        assert_eq!(Bucket::of(91), Some(Bucket::M3Plus));
        for b in Bucket::ALL {
            assert_eq!(Bucket::parse(b.as_str()), Some(b));
        }
    }
}
