//! Queues messages for delivery and lets administrators see and retry what could not leave.
//! Callers of [`reply`] pass their open transaction's rows, so a reply and its delivery either
//! both exist or neither does.
use super::domain::DeliveryStatus;
use super::dto::DeliveryDto;
use crate::auth::principal::Principal;
use crate::channels::domain::{ChannelKind, Settings};
use crate::error::{ApiError, ErrorCode};
use crate::http::pagination::PageRequest;
use crate::tickets::dto::MessageDto;
use chrono::{DateTime, Utc};
use entity::{contact, outbox, ticket, ticket_message};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde_json::json;
use std::collections::HashMap;
use tenants::{Scope, Scoped};
use uuid::Uuid;

/// The channel and address a reply to `requester` on `ticket` leaves through: the channel the
/// ticket came through when the requester has an address there, else their e-mail, else any
/// messenger they are known on; `None` when they have no address at all.
pub fn route(ticket: &ticket::Model, requester: &contact::Model) -> Option<(&'static str, String)> {
    let whatsapp = requester.whatsapp_id.clone().map(|a| ("whatsapp", a));
    let telegram = requester.telegram_id.clone().map(|a| ("telegram", a));
    let email = requester.email.clone().map(|a| ("email", a));
    let own = match ticket.source.as_str() {
        "whatsapp" => whatsapp.clone(),
        "telegram" => telegram.clone(),
        _ => None,
    };
    own.or(email).or(whatsapp).or(telegram)
}

/// How a reply by e-mail joins the requester's thread: the mail it answers, the ones before it,
/// and the channel address (and sender name) the ticket's mail came to.
#[derive(Clone, Debug, Default)]
pub struct Thread {
    /// The requester's latest mail on the ticket (`In-Reply-To`), without angle brackets.
    pub in_reply_to: Option<String>,
    /// Their mails on the ticket, oldest first (`References`), at most ten.
    pub references: Vec<String>,
    /// The channel's address, which the reply is sent from.
    pub from_address: Option<String>,
    /// The channel's sender name.
    pub from_name: Option<String>,
}

/// The e-mail threads of `tickets`: for each ticket that received mail through a channel, the
/// mails it received (by Message-ID) and the address of the channel of its latest one.
///
/// # Errors
/// Fails when the database does.
pub async fn threads(
    db: &impl ConnectionTrait,
    scope: &Scope,
    tickets: &[Uuid],
) -> Result<HashMap<Uuid, Thread>, ApiError> {
    let mut threads: HashMap<Uuid, Thread> = HashMap::new();
    if tickets.is_empty() {
        return Ok(threads);
    }
    let mut latest_channel: HashMap<Uuid, Uuid> = HashMap::new();
    for chunk in tickets.chunks(500) {
        let received = entity::inbound_message::Entity::scoped(scope)
            .filter(entity::inbound_message::Column::TicketId.is_in(chunk.to_vec()))
            .order_by_asc(entity::inbound_message::Column::ReceivedAt)
            .all(db)
            .await?;
        for mail in received {
            let Some(ticket_id) = mail.ticket_id else {
                continue;
            };
            latest_channel.insert(ticket_id, mail.channel_id);
            let thread = threads.entry(ticket_id).or_default();
            // A mail that came without a Message-ID is known by a digest nobody can answer.
            if mail.external_id.contains('@') {
                thread.references.push(mail.external_id.clone());
                thread.in_reply_to = Some(mail.external_id);
            }
        }
    }
    for thread in threads.values_mut() {
        let extra = thread.references.len().saturating_sub(10);
        thread.references.drain(..extra);
    }
    let channel_ids: Vec<Uuid> = latest_channel.values().copied().collect();
    let channels: HashMap<Uuid, entity::channel::Model> = entity::channel::Entity::scoped(scope)
        .filter(entity::channel::Column::Id.is_in(channel_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    for (ticket_id, channel_id) in latest_channel {
        let (Some(thread), Some(channel)) =
            (threads.get_mut(&ticket_id), channels.get(&channel_id))
        else {
            continue;
        };
        thread.from_address.clone_from(&channel.address);
        if let Ok(Settings::Email(email)) =
            Settings::from_json(ChannelKind::Email, &channel.settings)
        {
            thread.from_name = email.from_name;
        }
    }
    Ok(threads)
}

/// The outbox row that delivers `message`, a public reply on `ticket`, to its requester (see
/// [`route`]), in the e-mail `thread` of the ticket when it has one. A requester without any
/// address still gets a row, `failed` with the reason, so the conversation says why nothing
/// left and no worker waits on it. Insert it in the transaction that inserts the message.
pub fn reply(
    ticket: &ticket::Model,
    message: &ticket_message::Model,
    requester: Option<&contact::Model>,
    thread: Option<&Thread>,
    now: DateTime<Utc>,
) -> outbox::ActiveModel {
    let routed = requester.and_then(|r| route(ticket, r));
    let (status, channel, recipient, reason) = match routed {
        Some((channel, address)) => (DeliveryStatus::Queued, channel, Some(address), None),
        None => (
            DeliveryStatus::Failed,
            "email",
            None,
            Some("the requester has no e-mail address or messenger id to reply to".to_owned()),
        ),
    };
    outbox::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(ticket.tenant_id),
        ticket_id: Set(Some(ticket.id)),
        message_id: Set(Some(message.id)),
        channel: Set(channel.to_owned()),
        recipient: Set(recipient),
        contact_id: Set(Some(ticket.requester_id)),
        payload: Set(json!({
            "number": ticket.number,
            "subject": ticket.subject,
            "body_text": message.body_text,
            "body_html": message.body_html,
            "in_reply_to": thread.and_then(|t| t.in_reply_to.clone()),
            "references": thread.map(|t| t.references.clone()).unwrap_or_default(),
            "from_address": thread.and_then(|t| t.from_address.clone()),
            "from_name": thread.and_then(|t| t.from_name.clone()),
        })
        .to_string()),
        status: Set(status.as_str().to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        lease_until: Set(None),
        lease_token: Set(None),
        last_error: Set(reason),
        provider_message_id: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
        delivered_at: Set(None),
    }
}

/// Adds to each message of a conversation how far its delivery got (replies only).
///
/// # Errors
/// Fails when the database does.
pub async fn fill(
    db: &impl ConnectionTrait,
    scope: &Scope,
    messages: &mut [MessageDto],
) -> Result<(), ApiError> {
    let ids: Vec<Uuid> = messages
        .iter()
        .filter(|m| m.kind == "reply")
        .map(|m| m.id)
        .collect();
    let mut by_message: HashMap<Uuid, DeliveryDto> = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows = outbox::Entity::scoped(scope)
            .filter(outbox::Column::MessageId.is_in(chunk.to_vec()))
            .all(db)
            .await?;
        for row in &rows {
            if let Some(message_id) = row.message_id {
                by_message.insert(message_id, DeliveryDto::from(row));
            }
        }
    }
    for message in messages {
        message.delivery = by_message.remove(&message.id);
    }
    Ok(())
}

fn admins_only(principal: &Principal) -> Result<(), ApiError> {
    if principal.has("admin") {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            ErrorCode::InsufficientScope,
            "only administrators see and retry deliveries",
        ))
    }
}

/// One page of the outbox in the caller's scope, oldest first, optionally in one state.
///
/// # Errors
/// 403 for callers who are not administrators.
pub async fn list(
    db: &impl ConnectionTrait,
    principal: &Principal,
    status: Option<DeliveryStatus>,
    page: PageRequest,
) -> Result<Vec<outbox::Model>, ApiError> {
    admins_only(principal)?;
    let mut query = outbox::Entity::scoped(&principal.scope)
        .order_by_asc(outbox::Column::Id)
        .limit(page.limit + 1);
    if let Some(status) = status {
        query = query.filter(outbox::Column::Status.eq(status.as_str()));
    }
    if let Some(after) = page.after {
        query = query.filter(outbox::Column::Id.gt(after));
    }
    Ok(query.all(db).await?)
}

/// Queues a dead or failed row again, with a fresh count of attempts, due now.
///
/// # Errors
/// 403 for callers who are not administrators, 404 outside the scope, 409 for a row that is
/// not dead or failed (it is on its way, or gone).
pub async fn retry(
    db: &impl ConnectionTrait,
    principal: &Principal,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<outbox::Model, ApiError> {
    admins_only(principal)?;
    let scope = &principal.scope;
    let found = outbox::Entity::scoped_by_id(scope, id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("delivery"))?;
    if found.recipient.is_none() {
        return Err(ApiError::conflict(
            ErrorCode::NotRetryable,
            "this message has no address to go to; add one to the requester and reply again",
        ));
    }
    let retried = outbox::Entity::scoped_update(scope)
        .col_expr(
            outbox::Column::Status,
            Expr::value(DeliveryStatus::Queued.as_str()),
        )
        .col_expr(outbox::Column::Attempts, Expr::value(0))
        .col_expr(outbox::Column::NextAttemptAt, Expr::value(now))
        .filter(outbox::Column::Id.eq(found.id))
        .filter(outbox::Column::Status.is_in([
            DeliveryStatus::Dead.as_str(),
            DeliveryStatus::Failed.as_str(),
        ]))
        .exec_with_returning(db)
        .await?
        .pop();
    retried.ok_or_else(|| {
        ApiError::conflict(
            ErrorCode::NotRetryable,
            "only a dead or failed delivery can be retried",
        )
    })
}
