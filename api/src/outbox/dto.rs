//! Request and response bodies of the outbox.
use super::domain::DeliveryStatus;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// How far a reply got on its way to the requester.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DeliveryDto {
    /// Where it stands.
    #[schema(value_type = DeliveryStatus)]
    pub status: String,
    /// The channel it leaves through.
    pub channel: String,
    /// Attempts made so far.
    pub attempts: i32,
    /// Why the last attempt failed, or why it cannot be delivered.
    pub reason: Option<String>,
    /// When the provider accepted it.
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<&entity::outbox::Model> for DeliveryDto {
    fn from(row: &entity::outbox::Model) -> Self {
        Self {
            status: row.status.clone(),
            channel: row.channel.clone(),
            attempts: row.attempts,
            reason: row.last_error.clone(),
            sent_at: row.sent_at,
        }
    }
}

/// A row of the outbox, as administrators see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxDto {
    /// Id.
    pub id: Uuid,
    /// Tenant.
    pub tenant_id: Uuid,
    /// The ticket it concerns.
    pub ticket_id: Option<Uuid>,
    /// The reply it carries.
    pub message_id: Option<Uuid>,
    /// The channel.
    pub channel: String,
    /// The address on that channel.
    pub recipient: Option<String>,
    /// Where it stands.
    #[schema(value_type = DeliveryStatus)]
    pub status: String,
    /// Attempts made.
    pub attempts: i32,
    /// When the next attempt is due.
    pub next_attempt_at: DateTime<Utc>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// The provider's id of the sent message.
    pub provider_message_id: Option<String>,
    /// Queued.
    pub created_at: DateTime<Utc>,
    /// Accepted by the provider.
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<entity::outbox::Model> for OutboxDto {
    fn from(row: entity::outbox::Model) -> Self {
        Self {
            id: row.id,
            tenant_id: row.tenant_id,
            ticket_id: row.ticket_id,
            message_id: row.message_id,
            channel: row.channel,
            recipient: row.recipient,
            status: row.status,
            attempts: row.attempts,
            next_attempt_at: row.next_attempt_at,
            last_error: row.last_error,
            provider_message_id: row.provider_message_id,
            created_at: row.created_at,
            sent_at: row.sent_at,
        }
    }
}

/// Filters of `GET /outbox`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxFilter {
    /// Only rows in this state (e.g. `dead` for what needs an admin).
    pub status: Option<DeliveryStatus>,
}
