//! Mail that reaches a tenant's e-mail channel becomes a ticket or joins one.
//!
//! The relay that posts it is checked against the channel's `inbound_secret` before the mail is
//! read. Auto-replies, bounces, list mail and our own mail coming back (its Message-ID is one
//! we gave a reply) are acknowledged and dropped: they never open a ticket, so they can never
//! be answered (no mail loops). Each mail is known by its Message-ID: a second delivery of it
//! stores nothing. A mail whose `In-Reply-To` or `References` names a reply the tenant sent or
//! an earlier mail it received, or whose subject carries a ticket's tag (`[#123]`), joins that
//! ticket as the sender's incoming message; any other opens a ticket with the channel's group,
//! priority and tags. The sender is found among the tenant's contacts by address, or becomes
//! one.
//!
//! Joining a ticket writes the message and its receipt in one transaction. Opening one takes
//! the receipt first (so two deliveries of the mail cannot both open a ticket), then hands the
//! ticket to the tenant's batching writer, then records the ticket on the receipt; if opening
//! fails, the receipt is removed and the relay's retry starts over. Meanwhile a second delivery
//! of the mail is answered 503, so the relay tries again; a receipt left without a ticket by a
//! node that died in between is taken over after [`STALE_CLAIM_SECS`].
use super::mail::{self, Ignored, Mail, Unreadable};
use crate::channels::domain::{ChannelKind, SecretName};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::tickets::change::{Actor, NewTicket, Post};
use crate::tickets::domain::{MessageKind, TicketPriority, TicketSource, TicketStatus};
use chrono::{DateTime, Utc};
use entity::{channel, inbound_message, outbox, ticket, ticket_message};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, NotSet, QueryFilter, QueryOrder, Set};
use secrecy::ExposeSecret;
use serde_json::json;
use subtle::ConstantTimeEq;
use tenants::doors::Why;
use tenants::{Scope, Scoped, ScopedInsert};
use uuid::Uuid;

/// After this long, a receipt whose ticket was never opened is taken over by a new delivery.
pub const STALE_CLAIM_SECS: i64 = 300;

/// What became of a received mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It opened this ticket.
    Opened { ticket_id: Uuid, number: i64 },
    /// It joined this ticket as an incoming message.
    Joined {
        ticket_id: Uuid,
        number: i64,
        message_id: Uuid,
    },
    /// It was received before (the ticket, once that delivery has opened it).
    Duplicate { ticket_id: Option<Uuid> },
    /// It gets neither a ticket nor an answer.
    Ignored(Ignored),
}

/// The channel named in the address, read before anyone is authenticated: the relay proves
/// itself with the channel's own secret.
#[allow(clippy::disallowed_methods)] // pre-authentication lookup by id; the secret check follows
async fn channel_of(state: &AppState, id: Uuid) -> Result<channel::Model, ApiError> {
    channel::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|c| c.enabled && c.kind == ChannelKind::Email.as_str())
        .ok_or(ApiError::NotFound("channel"))
}

fn refused() -> ApiError {
    ApiError::unauthorized(
        ErrorCode::InvalidCredentials,
        "the channel's inbound secret is missing or wrong",
    )
}

/// Checks the relay's secret in constant time; a channel without an inbound secret takes no
/// mail.
fn check_secret(
    state: &AppState,
    channel: &channel::Model,
    given: Option<&str>,
) -> Result<(), ApiError> {
    let expected = crate::channels::service::secret(state, channel, SecretName::InboundSecret)
        .map_err(ApiError::Internal)?
        .ok_or_else(refused)?;
    let given = given.ok_or_else(refused)?;
    let same: bool = expected
        .expose_secret()
        .as_bytes()
        .ct_eq(given.as_bytes())
        .into();
    if same { Ok(()) } else { Err(refused()) }
}

/// Receives one raw mail posted for the e-mail channel `channel_id` by a relay presenting
/// `secret`.
///
/// # Errors
/// 404 for an unknown, disabled or non-mail channel, 401 for a missing or wrong secret, 422 for
/// bytes that are not mail or mail without a sender, 503 while another delivery of the same
/// mail is opening its ticket.
pub async fn receive_email(
    state: &AppState,
    channel_id: Uuid,
    secret: Option<&str>,
    raw: &[u8],
) -> Result<Outcome, ApiError> {
    let channel = channel_of(state, channel_id).await?;
    check_secret(state, &channel, secret)?;
    let (mail, ignored) = mail::parse(raw).map_err(|why| match why {
        Unreadable::NotMail => ApiError::invalid("body", "not an RFC 5322 message"),
        Unreadable::NoSender => ApiError::invalid("body", "the message has no usable From address"),
    })?;
    if let Some(reason) = ignored {
        tracing::info!(channel = %channel.id, reason = reason.as_str(), "inbound mail ignored");
        return Ok(Outcome::Ignored(reason));
    }
    let scope = Scope::for_tenant_work(channel.tenant_id, Why::InboundMessage);
    if sent_by_us(state, &scope, std::slice::from_ref(&mail.message_id))
        .await?
        .is_some()
    {
        tracing::info!(channel = %channel.id, "inbound mail is our own, coming back");
        return Ok(Outcome::Ignored(Ignored::OwnMessage));
    }
    let now = state.clock.now();
    if let Some(seen) = receipt(state, &scope, &channel, &mail.message_id).await? {
        if seen.ticket_id.is_some() {
            return Ok(Outcome::Duplicate {
                ticket_id: seen.ticket_id,
            });
        }
        if now.signed_duration_since(seen.received_at).num_seconds() <= STALE_CLAIM_SECS {
            // Another delivery of this mail is opening its ticket right now; if that fails,
            // the relay's retry must find the mail not yet taken.
            return Err(ApiError::Unavailable(
                "another delivery of this mail is being stored; retry in a minute".to_owned(),
            ));
        }
        inbound_message::Entity::scoped_delete(&scope)
            .filter(inbound_message::Column::Id.eq(seen.id))
            .filter(inbound_message::Column::TicketId.is_null())
            .exec(&state.db)
            .await?;
    }
    let fields = crate::contacts::dto::ContactFields {
        name: mail.from_name.clone(),
        email: Some(mail.from.clone()),
        phone: None,
        whatsapp_id: None,
        telegram_id: None,
        locale: channel.locale.clone(),
        time_zone: None,
        company_id: None,
    };
    let checked = crate::contacts::service::check(fields).map_err(|_| {
        ApiError::invalid("body", "the From address is not a usable e-mail address")
    })?;
    let sender = crate::contacts::service::find_or_create(&state.db, &scope, checked, now).await?;
    match thread(state, &scope, &mail).await? {
        Some(found) => join(state, &scope, &channel, &mail, found, sender.id, now).await,
        None => open(state, &scope, &channel, &mail, &sender, now).await,
    }
}

async fn receipt(
    state: &AppState,
    scope: &Scope,
    channel: &channel::Model,
    external_id: &str,
) -> Result<Option<inbound_message::Model>, ApiError> {
    Ok(inbound_message::Entity::scoped(scope)
        .filter(inbound_message::Column::ChannelId.eq(channel.id))
        .filter(inbound_message::Column::ExternalId.eq(external_id))
        .one(&state.db)
        .await?)
}

/// The ticket of the newest mail this tenant sent among `message_ids`, if any is one of ours
/// (one query, however many ids name our rows).
async fn sent_by_us(
    state: &AppState,
    scope: &Scope,
    message_ids: &[String],
) -> Result<Option<Uuid>, ApiError> {
    let rows: Vec<Uuid> = message_ids
        .iter()
        .filter_map(|id| crate::outbox::email::row_of(id))
        .collect();
    if rows.is_empty() {
        return Ok(None);
    }
    Ok(outbox::Entity::scoped(scope)
        .filter(outbox::Column::Id.is_in(rows))
        .filter(outbox::Column::TicketId.is_not_null())
        .order_by_desc(outbox::Column::CreatedAt)
        .one(&state.db)
        .await?
        .and_then(|sent| sent.ticket_id))
}

/// The ticket a mail answers: the one of the newest mail it names that we sent, else of one we
/// received, else the one its subject's tag names; a merged ticket's primary in its place.
async fn thread(
    state: &AppState,
    scope: &Scope,
    mail: &Mail,
) -> Result<Option<ticket::Model>, ApiError> {
    let mut ticket_id = sent_by_us(state, scope, &mail.references).await?;
    if ticket_id.is_none() && !mail.references.is_empty() {
        ticket_id = inbound_message::Entity::scoped(scope)
            .filter(inbound_message::Column::ExternalId.is_in(mail.references.clone()))
            .filter(inbound_message::Column::TicketId.is_not_null())
            .order_by_desc(inbound_message::Column::ReceivedAt)
            .one(&state.db)
            .await?
            .and_then(|seen| seen.ticket_id);
    }
    let mut found = match (ticket_id, mail::tagged_number(&mail.subject)) {
        (Some(id), _) => {
            ticket::Entity::scoped_by_id(scope, id)
                .one(&state.db)
                .await?
        }
        (None, Some(number)) => {
            ticket::Entity::scoped(scope)
                .filter(ticket::Column::Number.eq(number))
                .one(&state.db)
                .await?
        }
        (None, None) => None,
    };
    if let Some(primary) = found.as_ref().and_then(|t| t.merged_into_id) {
        found = ticket::Entity::scoped_by_id(scope, primary)
            .one(&state.db)
            .await?;
    }
    Ok(found)
}

fn new_receipt(
    scope: &Scope,
    channel: &channel::Model,
    mail: &Mail,
    ticket_id: Option<Uuid>,
    message_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<inbound_message::ActiveModel, ApiError> {
    Ok(inbound_message::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: NotSet,
        channel_id: Set(channel.id),
        external_id: Set(mail.message_id.clone()),
        ticket_id: Set(ticket_id),
        message_id: Set(message_id),
        received_at: Set(now),
    }
    .owned_by(scope)?)
}

fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

fn body_of(mail: &Mail) -> String {
    if mail.truncated {
        format!("{}\n\n[the message was cut at 64 KiB]", mail.text)
    } else {
        mail.text.clone()
    }
}

/// Adds the mail to `found` as the sender's incoming message, with its receipt, in one
/// transaction.
async fn join(
    state: &AppState,
    scope: &Scope,
    channel: &channel::Model,
    mail: &Mail,
    found: ticket::Model,
    sender: Uuid,
    now: DateTime<Utc>,
) -> Result<Outcome, ApiError> {
    let text = body_of(mail);
    let message = ticket_message::Model {
        id: Uuid::now_v7(),
        tenant_id: found.tenant_id,
        ticket_id: found.id,
        kind: MessageKind::Incoming.as_str().to_owned(),
        author_user_id: None,
        author_contact_id: Some(sender),
        body_html: crate::tickets::html::text_to_html(&text),
        body_text: text,
        created_at: now,
    };
    let (ticket_id, number, message_id) = (found.id, found.number, message.id);
    let txn = crate::backend::begin(&state.db).await?;
    let stored = new_receipt(scope, channel, mail, Some(ticket_id), Some(message_id), now)?
        .insert(&txn)
        .await;
    match stored {
        Err(err) if is_unique_violation(&err) => {
            // Another delivery of the same mail got here first.
            txn.rollback().await?;
            return Ok(Outcome::Duplicate {
                ticket_id: Some(ticket_id),
            });
        }
        other => other?,
    };
    let post = Post {
        ticket: found,
        message,
        attachments: Vec::new(),
        extra: Some(json!({"channel_id": channel.id})),
    };
    crate::tickets::change::post(&txn, scope, Actor::contact(sender), &[post], now).await?;
    txn.commit().await?;
    Ok(Outcome::Joined {
        ticket_id,
        number,
        message_id,
    })
}

/// Opens a ticket from the mail: its receipt first, then the ticket through the writer, then
/// the ticket on the receipt.
async fn open(
    state: &AppState,
    scope: &Scope,
    channel: &channel::Model,
    mail: &Mail,
    sender: &entity::contact::Model,
    now: DateTime<Utc>,
) -> Result<Outcome, ApiError> {
    let claim = match new_receipt(scope, channel, mail, None, None, now)?
        .insert(&state.db)
        .await
    {
        Ok(claim) => claim,
        Err(err) if is_unique_violation(&err) => {
            return Ok(Outcome::Duplicate { ticket_id: None });
        }
        Err(err) => return Err(err.into()),
    };
    let tags: serde_json::Value = serde_json::from_str(&channel.tags).unwrap_or_else(|_| json!([]));
    let priority = channel
        .priority
        .clone()
        .unwrap_or_else(|| TicketPriority::Medium.as_str().to_owned());
    let description = body_of(mail);
    let mut new = ticket::Model {
        id: Uuid::now_v7(),
        tenant_id: channel.tenant_id,
        number: 0,
        subject: mail.subject.clone(),
        description,
        status: TicketStatus::Open.as_str().to_owned(),
        priority,
        ticket_type: None,
        tags,
        source: TicketSource::Email.as_str().to_owned(),
        requester_id: sender.id,
        company_id: sender.company_id,
        group_id: channel.default_group_id,
        assignee_id: None,
        version: 1,
        created_at: now,
        updated_at: now,
        first_responded_at: None,
        resolved_at: None,
        closed_at: None,
        merged_into_id: None,
        search_text: String::new(),
        custom_fields: "{}".to_owned(),
        origin_ticket_id: None,
        origin_tenant_id: None,
        link_kind: None,
        linked_ticket_id: None,
        linked_tenant_id: None,
    };
    new.search_text = crate::tickets::service::search_text(&new.subject, &new.description);
    let written = state
        .ticket_writer
        .write(NewTicket {
            ticket: new,
            actor: Actor::contact(sender.id),
            scope: scope.clone(),
            assign_scope: scope.clone(),
        })
        .await;
    let written = match written {
        Ok(written) => written,
        Err(err) => {
            // Leave nothing behind: the relay's retry starts over.
            let removed = inbound_message::Entity::scoped_delete(scope)
                .filter(inbound_message::Column::Id.eq(claim.id))
                .exec(&state.db)
                .await;
            if let Err(cleanup) = removed {
                tracing::warn!(error = ?cleanup, "could not remove the receipt of a mail whose ticket failed");
            }
            return Err(err);
        }
    };
    inbound_message::Entity::scoped_update(scope)
        .col_expr(
            inbound_message::Column::TicketId,
            sea_orm::sea_query::Expr::value(written.id),
        )
        .filter(inbound_message::Column::Id.eq(claim.id))
        .exec(&state.db)
        .await?;
    Ok(Outcome::Opened {
        ticket_id: written.id,
        number: written.number,
    })
}
