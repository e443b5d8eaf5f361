//! A message waiting to leave through a channel: written in the transaction that stores what it
//! carries (a reply, later a survey or a webhook), taken by a leased worker and delivered with
//! retries.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// The ticket it concerns, if any.
    pub ticket_id: Option<Uuid>,
    /// The reply it carries, if any; one outbox row per reply at most.
    pub message_id: Option<Uuid>,
    /// `email`, `whatsapp`, `telegram`, ...
    pub channel: String,
    /// The address on that channel (an e-mail address, a phone number, a chat id).
    pub recipient: Option<String>,
    /// The contact it goes to, if any.
    pub contact_id: Option<Uuid>,
    /// What the channel adapter needs, as JSON text.
    pub payload: String,
    /// `queued`, `sending`, `sent`, `delivered`, `read`, `failed` or `dead`.
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    /// The lease of the worker that holds it.
    pub lease_until: Option<DateTimeUtc>,
    /// Fences the lease: only the worker holding this token may record the outcome.
    pub lease_token: Option<Uuid>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// The provider's id of the sent message (an SMTP queue id, a WhatsApp message id).
    pub provider_message_id: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    pub delivered_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
