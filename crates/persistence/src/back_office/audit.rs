//! The audit trail (操作日志): every operator action, who, when, from which address, what, to
//! which thing, its outcome, and the thing before and after. Append-only: this module has no
//! update or delete, and the database refuses both (a trigger).

use diesel::prelude::*;

use crate::db::{write_transaction, DbConnection, DbResult};
use crate::loans::next_in_sequence;
use crate::schema::audit_events;

/// One action to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAuditEvent<'a> {
    /// When (ms).
    pub at: i64,
    /// The operator's name (`system` for the bootstrap token and the command line).
    pub operator: &'a str,
    /// Their role then.
    pub role: &'a str,
    /// The client address the action came from.
    pub address: &'a str,
    /// What was done (`application.approve`).
    pub action: &'a str,
    /// What kind of thing it was done to (`application`).
    pub entity: &'a str,
    /// Which one.
    pub entity_id: Option<&'a str>,
    /// How it ended: the HTTP status of the answer.
    pub outcome: i32,
    /// The thing before (JSON, personal data masked).
    pub before: Option<String>,
    /// The thing after.
    pub after: Option<String>,
}

/// A recorded action.
#[derive(Clone, Debug, PartialEq, Eq, Queryable)]
pub struct AuditEvent {
    /// Its number: 1, 2, 3, … without gaps.
    pub seq: i64,
    /// When (ms).
    pub at: i64,
    /// Who.
    pub operator: String,
    /// Their role then.
    pub role: String,
    /// From where.
    pub address: String,
    /// What.
    pub action: String,
    /// To what kind of thing.
    pub entity: String,
    /// To which.
    pub entity_id: Option<String>,
    /// The HTTP status of the answer.
    pub outcome: i32,
    /// Before (JSON).
    pub before: Option<String>,
    /// After (JSON).
    pub after: Option<String>,
}

/// Appends `e`; its number comes from the same transaction, so numbers never skip or repeat.
pub fn record(conn: &mut DbConnection, e: &NewAuditEvent<'_>) -> DbResult<i64> {
    write_transaction(conn, |conn| {
        let seq = next_in_sequence(conn, "audit", "")?;
        diesel::insert_into(audit_events::table)
            .values((
                audit_events::seq.eq(seq),
                audit_events::at.eq(e.at),
                audit_events::operator.eq(e.operator),
                audit_events::role.eq(e.role),
                audit_events::address.eq(e.address),
                audit_events::action.eq(e.action),
                audit_events::entity.eq(e.entity),
                audit_events::entity_id.eq(e.entity_id),
                audit_events::outcome.eq(e.outcome),
                audit_events::before_state.eq(e.before.as_deref()),
                audit_events::after_state.eq(e.after.as_deref()),
            ))
            .execute(conn)?;
        Ok(seq)
    })
}

/// Which actions to list; each member left out matches all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// By this operator.
    pub operator: Option<String>,
    /// To this kind of thing.
    pub entity: Option<String>,
    /// To this one.
    pub entity_id: Option<String>,
    /// At or after (ms).
    pub from: Option<i64>,
    /// Before (ms).
    pub to: Option<i64>,
}

/// A page of the actions matching `f`, newest first, and how many match in all.
pub fn list(
    conn: &mut DbConnection,
    f: &AuditFilter,
    page: crate::loans::PageRequest,
) -> DbResult<(Vec<AuditEvent>, i64)> {
    let filtered = || {
        let mut q = audit_events::table.into_boxed();
        if let Some(o) = &f.operator {
            q = q.filter(audit_events::operator.eq(o.clone()));
        }
        if let Some(e) = &f.entity {
            q = q.filter(audit_events::entity.eq(e.clone()));
        }
        if let Some(id) = &f.entity_id {
            q = q.filter(audit_events::entity_id.eq(id.clone()));
        }
        if let Some(from) = f.from {
            q = q.filter(audit_events::at.ge(from));
        }
        if let Some(to) = f.to {
            q = q.filter(audit_events::at.lt(to));
        }
        q
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let rows = filtered()
        .order(audit_events::seq.desc())
        .offset(page.offset)
        .limit(page.limit)
        .load::<AuditEvent>(conn)?;
    Ok((rows, total))
}
