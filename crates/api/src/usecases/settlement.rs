//! Calling the payment channel for an order already committed, and settling it with the
//! answer: the one way money crosses the boundary (write first, call with no connection held,
//! then settle in one short transaction).

use cashloan_persistence::payment_orders::{
    settle, ChannelOutcome, OrderKind, PaymentOrder, ReadyOrder, SettledBy, Settlement,
};
use cashloan_persistence::DbResult;

use crate::channel::PaymentChannel;
use crate::context::Lease;

/// Calls the channel for a committed order (no connection held during the call), then settles
/// the order with its answer.
pub(super) fn submit_and_settle(
    channel: &dyn PaymentChannel,
    lease: &mut Lease<'_>,
    ready: &ReadyOrder,
) -> DbResult<(ChannelOutcome, Settlement)> {
    let outcome = submit(channel, lease, ready)?;
    let settled = settle(
        lease.get()?,
        &ready.order.id,
        &outcome,
        SettledBy::Channel,
        now_ms(),
    )?;
    Ok((outcome, settled))
}

/// Calls the channel for a committed order: the lease holds no connection during the call.
pub(super) fn submit(
    channel: &dyn PaymentChannel,
    lease: &mut Lease<'_>,
    ready: &ReadyOrder,
) -> DbResult<ChannelOutcome> {
    lease.release();
    let kind = ready.order.kind;
    Ok(channel.submit(
        kind.channel_op(),
        &ready.order.id,
        &ready.card_no,
        ready.order.amount(),
    ))
}

pub(super) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Whether `kind` moves money out (a payout) rather than in.
pub fn is_payout(order: &PaymentOrder) -> bool {
    order.kind == OrderKind::Payout
}
