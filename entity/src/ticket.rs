//! A support request.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tickets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// Per-tenant sequential number for humans (#1, #2, ...).
    pub number: i64,
    pub subject: String,
    pub description: String,
    /// `open`, `pending`, `on_hold`, `resolved` or `closed`.
    pub status: String,
    /// `low`, `medium`, `high` or `urgent`.
    pub priority: String,
    /// Topic, e.g. `proctoring_status`, `exam_content`, `equipment_check`.
    pub ticket_type: Option<String>,
    /// JSON array of tags.
    pub tags: Json,
    /// `email`, `whatsapp`, `telegram`, `web`, `chatbot`, `api` or `phone`.
    pub source: String,
    pub requester_id: Uuid,
    pub company_id: Option<Uuid>,
    pub group_id: Option<Uuid>,
    pub assignee_id: Option<Uuid>,
    /// Bumped on every change; the ETag of the ticket.
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub first_responded_at: Option<DateTimeUtc>,
    pub resolved_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    /// The ticket this one was merged into (it is closed and takes no more replies).
    pub merged_into_id: Option<Uuid>,
    /// Subject and description lower-cased with Unicode rules, for word search.
    pub search_text: String,
    /// JSON object of custom field values, checked against the tenant's field definitions.
    pub custom_fields: String,
    /// On a ticket opened for another tenant's ticket: that ticket (its public replies and
    /// status flow back there).
    pub origin_ticket_id: Option<Uuid>,
    /// The tenant of the origin ticket.
    pub origin_tenant_id: Option<Uuid>,
    /// `escalation` (opened in the parent) or `routing` (opened in a child tenant).
    pub link_kind: Option<String>,
    /// On an origin ticket: the ticket opened for it in another tenant.
    pub linked_ticket_id: Option<Uuid>,
    /// The tenant of the linked ticket.
    pub linked_tenant_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
