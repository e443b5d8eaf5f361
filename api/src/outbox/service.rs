//! Queues replies for delivery. Callers pass their open transaction, so a reply and its
//! delivery either both exist or neither does.
use chrono::{DateTime, Utc};
use entity::{outbox, ticket, ticket_message};
use sea_orm::Set;
use serde_json::json;
use uuid::Uuid;

/// The outbox row that delivers `message`, a public reply on `ticket`, to its requester through
/// the ticket's channel. Insert it in the transaction that inserts the message.
pub fn reply(
    ticket: &ticket::Model,
    message: &ticket_message::Model,
    now: DateTime<Utc>,
) -> outbox::ActiveModel {
    outbox::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(ticket.tenant_id),
        ticket_id: Set(ticket.id),
        message_id: Set(message.id),
        channel: Set(ticket.source.clone()),
        contact_id: Set(ticket.requester_id),
        payload: Set(json!({
            "number": ticket.number,
            "subject": ticket.subject,
            "body_text": message.body_text,
            "body_html": message.body_html,
        })
        .to_string()),
        status: Set("pending".to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        created_at: Set(now),
        delivered_at: Set(None),
    }
}
