//! One entry of the ticket event log: something that happened to a ticket, appended in the
//! transaction of the change and never updated.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ticket_events")]
pub struct Model {
    /// The reading order of the log.
    #[sea_orm(primary_key)]
    pub seq: i64,
    /// The event's identity (UUIDv7), for idempotent consumers and `Last-Event-ID`.
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub ticket_id: Uuid,
    /// The ticket's number in its tenant.
    pub number: i64,
    /// `created`, `updated`, `status_changed`, `assigned`, `message_added`, `merged`,
    /// `merged_into`, `linked`.
    pub kind: String,
    /// `user`, `api_key`, `operator`, `automation`, `system`, `contact`, `linked_ticket`,
    /// `escalation` or `routing`.
    pub actor_type: String,
    pub actor_id: Option<Uuid>,
    /// The ticket's version after the change.
    pub version: i32,
    /// What changed, as JSON text (its shape depends on `kind`).
    pub data: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
