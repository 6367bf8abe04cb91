//! Customer messages (§24 获取客户消息) and system messages (§25 获取系统消息).

use cashloan_persistence::loans::list_customer_messages;
use cashloan_persistence::site::list_system_messages;
use cashloan_protocol::ResponseCode as R;
use serde::Serialize;

use super::*;
use crate::context::{paging_fields, ApiError, Ctx, Reply};

/// A row of §24.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CustomerMessageRow {
    id: String,
    message_content: String,
    message_title: String,
    message_type: String,
    send_date: String,
}

/// A row of §25.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SystemMessageRow {
    event_url: String,
    id: String,
    message_content: String,
    message_title: String,
    message_type: String,
    send_date: String,
}

/// §24 获取客户消息.
pub fn customer_messages(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let p = paging_fields(&ctx.fields)?;
    ctx.fields.formats()?;
    let (num, size) = p.check()?;
    let user_id = ctx.user()?.id.clone();
    let (rows, total) = list_customer_messages(ctx.conn.get()?, &user_id, page_request(num, size))?;
    let rows: Vec<CustomerMessageRow> = rows
        .into_iter()
        .map(|m| CustomerMessageRow {
            id: m.id,
            message_content: m.content,
            message_title: m.title,
            message_type: m.message_type,
            send_date: ctx.state.format_time(m.sent_at),
        })
        .collect();
    paged_rows(R::CustomerMessagesFetched, &rows, num, size, total)
}

/// §25 获取系统消息.
pub fn system_messages(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let p = paging_fields(&ctx.fields)?;
    ctx.fields.formats()?;
    let (num, size) = p.check()?;
    let (rows, total) = list_system_messages(ctx.conn.get()?, ctx.now, page_request(num, size))?;
    let rows: Vec<SystemMessageRow> = rows
        .into_iter()
        .map(|m| SystemMessageRow {
            event_url: m.event_url,
            id: m.id,
            message_content: m.content,
            message_title: m.title,
            message_type: m.message_type,
            send_date: ctx.state.format_time(m.send_at),
        })
        .collect();
    paged_rows(R::SystemMessagesFetched, &rows, num, size, total)
}
