//! Maker-checker (双人复核): a disbursement, an offline repayment or a product change is proposed
//! by one operator and done only when a different operator confirms it. The rule is one guarded
//! statement (and a CHECK of the table): a proposal goes from pending to confirmed only by
//! someone other than its proposer, and only once.

use diesel::prelude::*;

use crate::db::{write_statement, DbConnection, DbError, DbResult};
use crate::schema::proposals;

/// What a proposal would do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProposalKind {
    /// 放款: pay an approved loan out.
    Disbursement,
    /// 线下还款: a repayment received outside the channel.
    OfflineRepayment,
    /// A product created or replaced.
    ProductChange,
}

impl ProposalKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ProposalKind::Disbursement => "disbursement",
            ProposalKind::OfflineRepayment => "offline_repayment",
            ProposalKind::ProductChange => "product_change",
        }
    }

    /// The kind of a stored name.
    pub fn parse(name: &str) -> Option<ProposalKind> {
        [
            ProposalKind::Disbursement,
            ProposalKind::OfflineRepayment,
            ProposalKind::ProductChange,
        ]
        .into_iter()
        .find(|k| k.as_str() == name)
    }
}

/// Where a proposal is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProposalStatus {
    /// Waiting for a second operator.
    Pending,
    /// Confirmed by a second operator and carried out.
    Confirmed,
    /// Withdrawn by its proposer or turned down.
    Cancelled,
}

impl ProposalStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ProposalStatus::Pending => "pending",
            ProposalStatus::Confirmed => "confirmed",
            ProposalStatus::Cancelled => "cancelled",
        }
    }

    /// The status of a stored name.
    pub fn parse(name: &str) -> Option<ProposalStatus> {
        [
            ProposalStatus::Pending,
            ProposalStatus::Confirmed,
            ProposalStatus::Cancelled,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

/// A proposal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposal {
    /// Id.
    pub id: String,
    /// What it would do.
    pub kind: ProposalKind,
    /// To what (the application, or the product).
    pub entity_id: String,
    /// Its terms (JSON).
    pub payload: String,
    /// Where it is.
    pub status: ProposalStatus,
    /// Who proposed it.
    pub proposed_by: String,
    /// When (ms).
    pub proposed_at: i64,
    /// Who confirmed or cancelled it.
    pub decided_by: Option<String>,
    /// When (ms).
    pub decided_at: Option<i64>,
    /// What carrying it out gave (JSON), once confirmed.
    pub result: Option<String>,
}

#[derive(Queryable)]
struct ProposalRow {
    id: String,
    kind: String,
    entity_id: String,
    payload: String,
    status: String,
    proposed_by: String,
    proposed_at: i64,
    decided_by: Option<String>,
    decided_at: Option<i64>,
    result: Option<String>,
}

impl TryFrom<ProposalRow> for Proposal {
    type Error = DbError;

    fn try_from(r: ProposalRow) -> DbResult<Proposal> {
        let corrupt = |column: &'static str, value: &str| DbError::Corrupt {
            table: "proposals",
            column,
            value: value.to_owned(),
        };
        Ok(Proposal {
            kind: ProposalKind::parse(&r.kind).ok_or_else(|| corrupt("kind", &r.kind))?,
            status: ProposalStatus::parse(&r.status).ok_or_else(|| corrupt("status", &r.status))?,
            id: r.id,
            entity_id: r.entity_id,
            payload: r.payload,
            proposed_by: r.proposed_by,
            proposed_at: r.proposed_at,
            decided_by: r.decided_by,
            decided_at: r.decided_at,
            result: r.result,
        })
    }
}

/// What became of a proposal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Proposed {
    /// Stored, pending.
    Stored(Proposal),
    /// A proposal of the same kind for the same thing is already pending (this one).
    AlreadyOpen(Proposal),
}

/// Proposes `kind` on `entity_id` with `payload`, by operator `by`.
pub fn propose(
    conn: &mut DbConnection,
    kind: ProposalKind,
    entity_id: &str,
    payload: &str,
    by: &str,
    now: i64,
) -> DbResult<Proposed> {
    let id = crate::accounts::new_id();
    // The partial unique index refuses a second pending proposal; DO NOTHING keeps a refused
    // insert from ending a PostgreSQL transaction this may run in.
    let stored = write_statement(conn, |conn| {
        let insert = diesel::insert_into(proposals::table)
            .values((
                proposals::id.eq(&id),
                proposals::kind.eq(kind.as_str()),
                proposals::entity_id.eq(entity_id),
                proposals::payload.eq(payload),
                proposals::status.eq(ProposalStatus::Pending.as_str()),
                proposals::proposed_by.eq(by),
                proposals::proposed_at.eq(now),
            ))
            .on_conflict_do_nothing();
        // The MultiConnection has no upsert: each backend runs it itself.
        Ok(match conn {
            DbConnection::Sqlite(c) => insert.execute(c)?,
            DbConnection::Pg(c) => insert.execute(c)?,
        })
    })?;
    if stored == 1 {
        return find(conn, &id)?
            .map(Proposed::Stored)
            .ok_or_else(|| DbError::Corrupt {
                table: "proposals",
                column: "id",
                value: format!("{id} not found after insert"),
            });
    }
    let open = proposals::table
        .filter(proposals::kind.eq(kind.as_str()))
        .filter(proposals::entity_id.eq(entity_id))
        .filter(proposals::status.eq(ProposalStatus::Pending.as_str()))
        .first::<ProposalRow>(conn)
        .optional()?;
    match open {
        Some(row) => Ok(Proposed::AlreadyOpen(row.try_into()?)),
        // Decided between the insert and the read: propose again.
        None => propose(conn, kind, entity_id, payload, by, now),
    }
}

/// The proposal with id `id`.
pub fn find(conn: &mut DbConnection, id: &str) -> DbResult<Option<Proposal>> {
    proposals::table
        .filter(proposals::id.eq(id))
        .first::<ProposalRow>(conn)
        .optional()?
        .map(Proposal::try_from)
        .transpose()
}

/// Proposals, newest first, of `kind` and `status` when given, on `entity_id` when given.
pub fn list(
    conn: &mut DbConnection,
    kind: Option<ProposalKind>,
    status: Option<ProposalStatus>,
    entity_id: Option<&str>,
    limit: i64,
) -> DbResult<Vec<Proposal>> {
    let mut q = proposals::table.into_boxed();
    if let Some(k) = kind {
        q = q.filter(proposals::kind.eq(k.as_str()));
    }
    if let Some(s) = status {
        q = q.filter(proposals::status.eq(s.as_str()));
    }
    if let Some(e) = entity_id {
        q = q.filter(proposals::entity_id.eq(e.to_owned()));
    }
    q.order((proposals::proposed_at.desc(), proposals::id.desc()))
        .limit(limit)
        .load::<ProposalRow>(conn)?
        .into_iter()
        .map(Proposal::try_from)
        .collect()
}

/// Why a decision was not taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Taken: the proposal as it now is.
    Taken(Proposal),
    /// No such proposal.
    NotFound,
    /// Already confirmed or cancelled.
    NotPending(Proposal),
    /// The proposer cannot confirm their own proposal.
    OwnProposal(Proposal),
    /// Only the proposer (or an admin) withdraws a proposal.
    NotYours(Proposal),
}

/// Confirms proposal `id` as operator `by`: pending → confirmed only if `by` did not propose it.
pub fn confirm(conn: &mut DbConnection, id: &str, by: &str, now: i64) -> DbResult<Decision> {
    let n = write_statement(conn, |conn| {
        Ok(diesel::update(
            proposals::table
                .filter(proposals::id.eq(id))
                .filter(proposals::status.eq(ProposalStatus::Pending.as_str()))
                .filter(proposals::proposed_by.ne(by)),
        )
        .set((
            proposals::status.eq(ProposalStatus::Confirmed.as_str()),
            proposals::decided_by.eq(by),
            proposals::decided_at.eq(now),
        ))
        .execute(conn)?)
    })?;
    let Some(p) = find(conn, id)? else {
        return Ok(Decision::NotFound);
    };
    Ok(if n == 1 {
        Decision::Taken(p)
    } else if p.status != ProposalStatus::Pending {
        Decision::NotPending(p)
    } else {
        Decision::OwnProposal(p)
    })
}

/// Cancels proposal `id` as operator `by` (its proposer, or anyone when `any` is set).
pub fn cancel(
    conn: &mut DbConnection,
    id: &str,
    by: &str,
    any: bool,
    now: i64,
) -> DbResult<Decision> {
    let n = write_statement(conn, |conn| {
        let mut q = diesel::update(proposals::table)
            .filter(proposals::id.eq(id))
            .filter(proposals::status.eq(ProposalStatus::Pending.as_str()))
            .into_boxed();
        if !any {
            q = q.filter(proposals::proposed_by.eq(by));
        }
        Ok(q.set((
            proposals::status.eq(ProposalStatus::Cancelled.as_str()),
            proposals::decided_by.eq(by),
            proposals::decided_at.eq(now),
        ))
        .execute(conn)?)
    })?;
    let Some(p) = find(conn, id)? else {
        return Ok(Decision::NotFound);
    };
    Ok(if n == 1 {
        Decision::Taken(p)
    } else if p.status != ProposalStatus::Pending {
        Decision::NotPending(p)
    } else {
        Decision::NotYours(p)
    })
}

/// Records what carrying out confirmed proposal `id` gave.
pub fn record_result(conn: &mut DbConnection, id: &str, result: &str) -> DbResult<()> {
    write_statement(conn, |conn| {
        diesel::update(
            proposals::table
                .filter(proposals::id.eq(id))
                .filter(proposals::status.eq(ProposalStatus::Confirmed.as_str())),
        )
        .set(proposals::result.eq(result))
        .execute(conn)?;
        Ok(())
    })
}

/// What became of an offline repayment's proposal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProposedReceipt {
    /// Stored, pending, its flow number reserved.
    Stored(Proposal),
    /// An offline repayment of this loan is already pending (this one); nothing written.
    AlreadyOpen(Proposal),
    /// The flow number is recorded already (for this or another loan); nothing written.
    FlowTaken,
}

/// Proposes an offline repayment of loan `application_id` with `payload`, reserving bank flow
/// number `flow_no` in the same transaction: a flow number is recorded once, however many
/// operators enter it at once.
pub fn propose_receipt(
    conn: &mut DbConnection,
    application_id: &str,
    flow_no: &str,
    payload: &str,
    by: &str,
    now: i64,
) -> DbResult<ProposedReceipt> {
    use crate::db::{write_transaction, Abort};
    use crate::schema::offline_receipts;
    let id = crate::accounts::new_id();
    let kind = ProposalKind::OfflineRepayment;
    let outcome = write_transaction(conn, |conn| -> Result<Proposal, Abort<bool>> {
        let proposal = diesel::insert_into(proposals::table)
            .values((
                proposals::id.eq(&id),
                proposals::kind.eq(kind.as_str()),
                proposals::entity_id.eq(application_id),
                proposals::payload.eq(payload),
                proposals::status.eq(ProposalStatus::Pending.as_str()),
                proposals::proposed_by.eq(by),
                proposals::proposed_at.eq(now),
            ))
            .on_conflict_do_nothing();
        let receipt = diesel::insert_into(offline_receipts::table)
            .values((
                offline_receipts::flow_no.eq(flow_no),
                offline_receipts::proposal_id.eq(&id),
                offline_receipts::application_id.eq(application_id),
                offline_receipts::at.eq(now),
            ))
            .on_conflict_do_nothing();
        // The MultiConnection has no upsert: each backend runs it itself.
        let (p, r) = match conn {
            DbConnection::Sqlite(c) => (
                proposal.execute(c).map_err(DbError::from)?,
                receipt.execute(c).map_err(DbError::from)?,
            ),
            DbConnection::Pg(c) => (
                proposal.execute(c).map_err(DbError::from)?,
                receipt.execute(c).map_err(DbError::from)?,
            ),
        };
        if p != 1 {
            return Err(Abort::Answer(true));
        }
        if r != 1 {
            return Err(Abort::Answer(false));
        }
        find(conn, &id)?.ok_or_else(|| {
            Abort::Db(DbError::Corrupt {
                table: "proposals",
                column: "id",
                value: format!("{id} not found after insert"),
            })
        })
    });
    match outcome {
        Ok(p) => Ok(ProposedReceipt::Stored(p)),
        Err(Abort::Answer(false)) => Ok(ProposedReceipt::FlowTaken),
        Err(Abort::Answer(true)) => {
            let open = list(
                conn,
                Some(kind),
                Some(ProposalStatus::Pending),
                Some(application_id),
                1,
            )?;
            Ok(match open.into_iter().next() {
                Some(p) => ProposedReceipt::AlreadyOpen(p),
                // Decided in between: propose again.
                None => return propose_receipt(conn, application_id, flow_no, payload, by, now),
            })
        }
        Err(Abort::Db(e)) => Err(e),
    }
}

/// Frees the flow number reserved by proposal `proposal_id` (cancelled, or carried out without
/// paying), so that it can be entered again.
pub fn release_receipt(conn: &mut DbConnection, proposal_id: &str) -> DbResult<()> {
    use crate::schema::offline_receipts;
    write_statement(conn, |conn| {
        diesel::delete(
            offline_receipts::table.filter(offline_receipts::proposal_id.eq(proposal_id)),
        )
        .execute(conn)?;
        Ok(())
    })
}
