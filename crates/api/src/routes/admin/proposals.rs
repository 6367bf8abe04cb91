//! Maker-checker (双人复核) as operators work it: a disbursement or a product change is proposed
//! (202 with the proposal) and carried out only when a different operator, whose role may do
//! it, confirms the proposal. The confirmation is one guarded statement, so of two confirmers
//! one wins and the other is told it is no longer pending; the proposer never can.

use actix_web::http::StatusCode;
use cashloan_persistence::back_office::{
    proposals, Decision, Proposal, ProposalKind, ProposalStatus, Proposed,
};
use serde::Serialize;
use serde_json::{json, Value};

use super::access::Need;
use super::{answered, applications, fault, ok, products, with_status, AdminCall, Answer, Refusal};
use crate::context::{AppState, Lease};

/// A proposal as the API shows it.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProposalView {
    /// Id (`POST /admin/proposals/{id}/confirm`).
    id: String,
    /// `disbursement`, `offline_repayment` or `product_change`.
    kind: &'static str,
    /// The application or product it is about.
    entity_id: String,
    /// Its terms.
    #[schema(value_type = Object)]
    payload: Value,
    /// `pending`, `confirmed` or `cancelled`.
    status: &'static str,
    /// Who proposed it.
    proposed_by: String,
    /// When (ms).
    proposed_at: i64,
    /// Who confirmed or cancelled it.
    decided_by: Option<String>,
    /// When (ms).
    decided_at: Option<i64>,
    /// What carrying it out answered: `{"status": HTTP status, "body": …}`.
    #[schema(value_type = Option<Object>)]
    result: Option<Value>,
}

impl ProposalView {
    /// The view of a stored proposal.
    pub fn new(p: &Proposal) -> ProposalView {
        let parse = |s: &str| serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.into()));
        ProposalView {
            id: p.id.clone(),
            kind: p.kind.as_str(),
            entity_id: p.entity_id.clone(),
            payload: parse(&p.payload),
            status: p.status.as_str(),
            proposed_by: p.proposed_by.clone(),
            proposed_at: p.proposed_at,
            decided_by: p.decided_by.clone(),
            decided_at: p.decided_at,
            result: p.result.as_deref().map(parse),
        }
    }
}

/// The answer of a proposal: 202 and the proposal, waiting for a second operator.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProposalAnswer {
    /// The proposal.
    pub(super) proposal: ProposalView,
}

/// What a proposal's kind asks of its confirmer's role.
fn need_of(kind: ProposalKind) -> Need {
    match kind {
        ProposalKind::Disbursement | ProposalKind::OfflineRepayment => Need::Pay,
        ProposalKind::ProductChange => Need::Admin,
    }
}

/// Proposes `kind` on `entity_id` with `payload`, as the caller: 202, or 409 while a proposal
/// of the same kind on the same thing is pending.
pub(super) fn propose(
    st: &AppState,
    lease: &mut Lease<'_>,
    call: &AdminCall,
    kind: ProposalKind,
    entity_id: &str,
    payload: &Value,
) -> Answer {
    let proposed = proposals::propose(
        lease.get()?,
        kind,
        entity_id,
        &payload.to_string(),
        &call.actor.name,
        st.now_ms(),
    )?;
    match proposed {
        Proposed::Stored(p) => with_status(
            StatusCode::ACCEPTED,
            ProposalAnswer {
                proposal: ProposalView::new(&p),
            },
        ),
        Proposed::AlreadyOpen(p) => Err(Refusal::Conflict(format!(
            "a {} of {entity_id} is already proposed by {} (proposal {}): confirm or cancel it",
            kind.as_str(),
            p.proposed_by,
            p.id
        ))),
    }
}

/// `GET /admin/proposals?status=&kind=&entityId=`: newest first, at most 200.
pub(super) fn list(_: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    let status = match call.query("status").filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(ProposalStatus::parse(s).ok_or_else(|| {
            Refusal::BadRequest("status must be pending, confirmed or cancelled".into())
        })?),
    };
    let kind = match call.query("kind").filter(|s| !s.is_empty()) {
        None => None,
        Some(k) => Some(ProposalKind::parse(k).ok_or_else(|| {
            Refusal::BadRequest(
                "kind must be disbursement, offline_repayment or product_change".into(),
            )
        })?),
    };
    let entity = call.query("entityId").filter(|s| !s.is_empty());
    let rows = proposals::list(lease.get()?, kind, status, entity, 200)?;
    let items: Vec<ProposalView> = rows.iter().map(ProposalView::new).collect();
    ok(json!({ "items": items }))
}

fn no_proposal() -> Refusal {
    Refusal::NotFound("no such proposal".into())
}

/// Why a decision was not taken, as a refusal.
fn refused(decision: Decision) -> Refusal {
    match decision {
        Decision::NotFound => no_proposal(),
        Decision::NotPending(p) => Refusal::Conflict(format!(
            "the proposal is already {} by {}",
            p.status.as_str(),
            p.decided_by.unwrap_or_default()
        )),
        Decision::OwnProposal(_) => Refusal::Forbidden(
            "the proposer cannot confirm their own proposal: another operator must".into(),
        ),
        Decision::NotYours(p) => Refusal::Forbidden(format!(
            "only its proposer ({}) or an admin may cancel this proposal",
            p.proposed_by
        )),
        Decision::Taken(_) => Refusal::Fault,
    }
}

/// `POST /admin/proposals/{id}/confirm`: confirms the proposal and carries it out as the
/// confirmer. Answers with what carrying it out answered (its status and body, e.g. 200 and the
/// paid-out application, or 502 when the channel refused), with the proposal beside it.
pub(super) fn confirm(st: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    let id = call.param("id");
    let found = proposals::find(lease.get()?, &id)?.ok_or_else(no_proposal)?;
    if !need_of(found.kind).allows(call.actor.role) {
        return Err(Refusal::Forbidden(format!(
            "the role {} may not confirm a {}",
            call.actor.role.as_str(),
            found.kind.as_str()
        )));
    }
    let p = match proposals::confirm(lease.get()?, &id, &call.actor.name, st.now_ms())? {
        Decision::Taken(p) => p,
        other => return Err(refused(other)),
    };
    let (status, body) = answered(carry_out(st, lease, call, &p));
    let result = json!({"status": status.as_u16(), "body": body});
    let conn = lease.get()?;
    proposals::record_result(conn, &p.id, &result.to_string())?;
    if p.kind == ProposalKind::OfflineRepayment && !status.is_success() {
        // Nothing was recorded: the flow number may be entered again.
        proposals::release_receipt(conn, &p.id)?;
    }
    let p = proposals::find(conn, &p.id)?.ok_or_else(no_proposal)?;
    let mut body = match body {
        Value::Object(map) => map,
        other => serde_json::Map::from_iter([("result".to_owned(), other)]),
    };
    body.insert(
        "proposal".into(),
        serde_json::to_value(ProposalView::new(&p)).map_err(fault)?,
    );
    Ok((status, Value::Object(body)))
}

/// Does what a confirmed proposal says, as its confirmer.
fn carry_out(st: &AppState, lease: &mut Lease<'_>, call: &AdminCall, p: &Proposal) -> Answer {
    let params = vec![("id".to_owned(), p.entity_id.clone())];
    match p.kind {
        ProposalKind::Disbursement => {
            let as_confirmer = call.redirected(params, Vec::new(), call.actor.clone());
            applications::disburse(st, lease, &as_confirmer)
        }
        ProposalKind::ProductChange => {
            let as_confirmer =
                call.redirected(params, p.payload.clone().into_bytes(), call.actor.clone());
            products::apply_change(st, lease, &as_confirmer)
        }
        ProposalKind::OfflineRepayment => {
            let as_confirmer =
                call.redirected(params, p.payload.clone().into_bytes(), call.actor.clone());
            super::offline::apply(st, lease, &as_confirmer)
        }
    }
}

/// `POST /admin/proposals/{id}/cancel`: its proposer, or an admin, withdraws it.
pub(super) fn cancel(st: &AppState, lease: &mut Lease<'_>, call: &AdminCall) -> Answer {
    let any = call.actor.role == cashloan_persistence::back_office::Role::Admin;
    let id = call.param("id");
    let conn = lease.get()?;
    match proposals::cancel(conn, &id, &call.actor.name, any, st.now_ms())? {
        Decision::Taken(p) => {
            if p.kind == ProposalKind::OfflineRepayment {
                proposals::release_receipt(conn, &p.id)?;
            }
            ok(ProposalView::new(&p))
        }
        other => Err(refused(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cashloan_persistence::back_office::Role;

    #[test]
    fn a_payout_is_confirmed_by_finance_and_a_product_by_an_admin() {
        assert!(need_of(ProposalKind::Disbursement).allows(Role::Finance));
        assert!(!need_of(ProposalKind::Disbursement).allows(Role::Reviewer));
        assert!(need_of(ProposalKind::OfflineRepayment).allows(Role::Finance));
        assert!(!need_of(ProposalKind::ProductChange).allows(Role::Finance));
        assert!(need_of(ProposalKind::ProductChange).allows(Role::Admin));
    }
}
