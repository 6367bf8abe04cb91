//! Collection (贷后/催收): the overdue book by bucket, which collector works which loan, and the
//! notes of each contact with their promises to pay.

use cashloan_domain::{format_day, parse_day, Money};
use chrono::NaiveDate;
use diesel::prelude::*;

use crate::db::{write_statement, DbConnection, DbResult};
use crate::loans::{status_is, UNPAID};
use crate::schema::{
    applications, collection_assignments, collection_notes, installments, operators, users,
};
use cashloan_domain::ApplyStatus;

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

/// Every overdue loan at `today`, most overdue first, with its assignment and latest promise.
pub fn overdue_loans(conn: &mut DbConnection, today: NaiveDate) -> DbResult<Vec<OverdueLoan>> {
    let day = format_day(today);
    let rows: Vec<(String, String, i64, i64, i64, i64)> = installments::table
        .inner_join(applications::table)
        .filter(applications::status.eq(status_is(ApplyStatus::Disbursed)))
        .filter(installments::status.eq(UNPAID))
        .filter(installments::due_date.lt(day))
        .order((
            installments::application_id.asc(),
            installments::due_date.asc(),
        ))
        .select((
            installments::application_id,
            installments::due_date,
            installments::principal_cents,
            installments::interest_cents,
            installments::fee_cents,
            installments::penalty_cents,
        ))
        .load(conn)?;
    let mut loans: Vec<OverdueLoan> = Vec::new();
    for (app, due, p, i, f, pen) in rows {
        let owed = Money::from_cents(p + i + f + pen);
        match loans.last_mut() {
            Some(l) if l.application_id == app => {
                l.installments += 1;
                l.overdue_amount += owed;
                l.overdue_principal += Money::from_cents(p);
            }
            _ => {
                let first_due = parse_day(&due).ok_or_else(|| crate::DbError::Corrupt {
                    table: "installments",
                    column: "due_date",
                    value: due.clone(),
                })?;
                let days = (today - first_due).num_days();
                let Some(bucket) = Bucket::of(days) else {
                    continue;
                };
                loans.push(OverdueLoan {
                    application_id: app,
                    loan_code: String::new(),
                    mobile: String::new(),
                    first_due,
                    days_overdue: days,
                    bucket,
                    installments: 1,
                    overdue_amount: owed,
                    overdue_principal: Money::from_cents(p),
                    collector: None,
                    promise_date: None,
                });
            }
        }
    }
    if loans.is_empty() {
        return Ok(loans);
    }
    let ids: Vec<String> = loans.iter().map(|l| l.application_id.clone()).collect();
    let mut details = std::collections::HashMap::new();
    let mut promised = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        let found: Vec<(String, String, String, Option<String>)> = applications::table
            .inner_join(users::table)
            .left_join(
                collection_assignments::table
                    .inner_join(operators::table)
                    .on(collection_assignments::application_id.eq(applications::id)),
            )
            .filter(applications::id.eq_any(chunk))
            .select((
                applications::id,
                applications::loan_code,
                users::mobile,
                operators::name.nullable(),
            ))
            .load(conn)?;
        for (id, code, mobile, collector) in found {
            details.insert(id, (code, mobile, collector));
        }
        let promises: Vec<(String, Option<String>, i64)> = collection_notes::table
            .filter(collection_notes::application_id.eq_any(chunk))
            .filter(collection_notes::promise_date.is_not_null())
            .select((
                collection_notes::application_id,
                collection_notes::promise_date,
                collection_notes::at,
            ))
            .order(collection_notes::at.asc())
            .load(conn)?;
        // Oldest first: the latest promise of each loan stays.
        for (id, date, _) in promises {
            if let Some(d) = date.as_deref().and_then(parse_day) {
                promised.insert(id, d);
            }
        }
    }
    for l in &mut loans {
        if let Some((code, mobile, collector)) = details.remove(&l.application_id) {
            l.loan_code = code;
            l.mobile = mobile;
            l.collector = collector;
        }
        l.promise_date = promised.remove(&l.application_id);
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
