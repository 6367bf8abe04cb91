//! Customer messages (§24 获取客户消息) and system messages (§25 获取系统消息).

use cashloan_persistence::loans::list_customer_messages;
use cashloan_persistence::site::list_system_messages;
use cashloan_protocol::{Json, Map, ResponseCode as R};

use super::*;
use crate::context::{paging_fields, ApiError, Ctx, Reply};

/// §24 获取客户消息.
pub fn customer_messages(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let p = paging_fields(&ctx.fields)?;
    ctx.fields.formats()?;
    let (num, size) = p.check()?;
    let user_id = ctx.user()?.id.clone();
    let (rows, total) = list_customer_messages(ctx.conn.get()?, &user_id, page_request(num, size))?;
    let rows = rows
        .into_iter()
        .map(|m| {
            let mut r = Map::new();
            r.insert("id", m.id);
            r.insert("messageContent", m.content);
            r.insert("messageTitle", m.title);
            r.insert("messageType", m.message_type);
            r.insert("sendDate", ctx.state.format_time(m.sent_at));
            Json::Object(r)
        })
        .collect();
    paged(R::CustomerMessagesFetched, rows, num, size, total)
}

/// §25 获取系统消息.
pub fn system_messages(ctx: &mut Ctx<'_>) -> Result<Reply, ApiError> {
    let p = paging_fields(&ctx.fields)?;
    ctx.fields.formats()?;
    let (num, size) = p.check()?;
    let (rows, total) = list_system_messages(ctx.conn.get()?, ctx.now, page_request(num, size))?;
    let rows = rows
        .into_iter()
        .map(|m| {
            let mut r = Map::new();
            r.insert("eventUrl", m.event_url);
            r.insert("id", m.id);
            r.insert("messageContent", m.content);
            r.insert("messageTitle", m.title);
            r.insert("messageType", m.message_type);
            r.insert("sendDate", ctx.state.format_time(m.send_at));
            Json::Object(r)
        })
        .collect();
    paged(R::SystemMessagesFetched, rows, num, size, total)
}
