//! Customer messages (客户消息, §24): written once per event.

use cashloan_domain::MessageType;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use super::*;
use crate::accounts::new_id;
use crate::cached::cached;
use crate::db::{DbConnection, DbResult};
use crate::schema::customer_messages;

/// A customer message (客户消息, §24).
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = customer_messages)]
pub struct CustomerMessage {
    /// Id.
    pub id: String,
    /// Recipient.
    pub user_id: String,
    /// `messageType` (11..17, 99).
    pub message_type: String,
    /// Title.
    pub title: String,
    /// Text.
    pub content: String,
    /// What event wrote it (each event writes its message once); none for operators' messages.
    pub event_key: Option<String>,
    /// Sent at (ms).
    pub sent_at: i64,
}

impl CustomerMessage {
    /// A message of `kind` for `user_id`, titled with the type's label.
    pub fn new(
        user_id: &str,
        kind: MessageType,
        content: String,
        event_key: Option<String>,
        now: i64,
    ) -> Self {
        CustomerMessage {
            id: new_id(),
            user_id: user_id.to_owned(),
            message_type: kind.code().to_owned(),
            title: kind.label().to_owned(),
            content,
            event_key,
            sent_at: now,
        }
    }
}

/// Writes a customer message once: a message whose `event_key` was already written is skipped
/// (returns false). Safe inside a transaction on both backends.
pub fn add_customer_message(conn: &mut DbConnection, m: &CustomerMessage) -> DbResult<bool> {
    crate::db::write_one_statement(conn, |conn| {
        // `ON CONFLICT DO NOTHING` is spelled alike by both backends; diesel's builder offers no upsert
        // for MultiConnection, and a failed insert would abort a PostgreSQL transaction.
        let n = cached(diesel::sql_query(
            "INSERT INTO customer_messages (id, user_id, message_type, title, content, event_key, sent_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind::<Text, _>(&m.id)
        .bind::<Text, _>(&m.user_id)
        .bind::<Text, _>(&m.message_type)
        .bind::<Text, _>(&m.title)
        .bind::<Text, _>(&m.content)
        .bind::<Nullable<Text>, _>(m.event_key.as_deref())
        .bind::<BigInt, _>(m.sent_at))
        .execute(conn)?;
        Ok(n == 1)
    })
}

/// Messages one statement writes: seven parameters each.
const MESSAGES_PER_STATEMENT: usize = 500;

#[derive(QueryableByName)]
struct WrittenType {
    #[diesel(sql_type = Text)]
    message_type: String,
}

/// Writes many customer messages, a few hundred per statement, each once as
/// [`add_customer_message`] does; returns the `message_type` of each one written (those whose
/// `event_key` was already written are skipped).
pub fn add_customer_messages(
    conn: &mut DbConnection,
    messages: &[CustomerMessage],
) -> DbResult<Vec<String>> {
    crate::db::write_statement(conn, |conn| {
        let mut written = Vec::with_capacity(messages.len());
        for chunk in messages.chunks(MESSAGES_PER_STATEMENT) {
            let values = crate::db::values_placeholders(conn, chunk.len(), 7);
            let sql = format!(
                "INSERT INTO customer_messages \
                 (id, user_id, message_type, title, content, event_key, sent_at) VALUES {values} \
                 ON CONFLICT DO NOTHING RETURNING message_type"
            );
            let mut q = diesel::sql_query(sql).into_boxed();
            for m in chunk {
                q = q
                    .bind::<Text, _>(&m.id)
                    .bind::<Text, _>(&m.user_id)
                    .bind::<Text, _>(&m.message_type)
                    .bind::<Text, _>(&m.title)
                    .bind::<Text, _>(&m.content)
                    .bind::<Nullable<Text>, _>(m.event_key.as_deref())
                    .bind::<BigInt, _>(m.sent_at);
            }
            let rows: Vec<WrittenType> = q.load(conn)?;
            written.extend(rows.into_iter().map(|r| r.message_type));
        }
        Ok(written)
    })
}

/// Writes message `kind` to the borrower of `app` for the event `event` (an application,
/// installment or payment id), once: the event key is the type's code and the event id.
pub(crate) fn notify(
    conn: &mut DbConnection,
    app: &Application,
    kind: MessageType,
    content: String,
    event: &str,
    now: i64,
) -> DbResult<()> {
    let key = format!("{}:{event}", kind.code());
    add_customer_message(
        conn,
        &CustomerMessage::new(&app.user_id, kind, content, Some(key), now),
    )?;
    Ok(())
}

/// A user's messages, newest first, and how many there are.
pub fn list_customer_messages(
    conn: &mut DbConnection,
    user_id: &str,
    page: PageRequest,
) -> DbResult<(Vec<CustomerMessage>, i64)> {
    let total = customer_messages::table
        .filter(customer_messages::user_id.eq(user_id))
        .count()
        .get_result(conn)?;
    let rows = customer_messages::table
        .filter(customer_messages::user_id.eq(user_id))
        .order((
            customer_messages::sent_at.desc(),
            customer_messages::id.desc(),
        ))
        .offset(page.offset)
        .limit(page.limit)
        .select(CustomerMessage::as_select())
        .load(conn)?;
    Ok((rows, total))
}
