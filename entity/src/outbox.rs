//! A message waiting to leave through a channel: written in the transaction that stores the
//! reply, delivered later by the channel's worker with retries.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub ticket_id: Uuid,
    /// The reply; one outbox row per reply at most.
    pub message_id: Uuid,
    /// The ticket's channel: `email`, `whatsapp`, `telegram`, `web`, ...
    pub channel: String,
    /// The requester it goes to.
    pub contact_id: Uuid,
    /// What the channel adapter needs, as JSON text.
    pub payload: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub delivered_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
