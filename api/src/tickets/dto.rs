//! Request and response bodies of the ticket endpoints.
use super::domain::{
    ActivityField, ActorType, EventActor, EventKind, LinkKind, MessageKind, TicketPriority,
    TicketSource, TicketStatus,
};
use crate::contacts::dto::ContactFields;
use crate::http::patch::present;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Body of `POST /tickets`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTicket {
    /// The ticket's tenant (the caller's own when absent); must be in the caller's scope.
    pub tenant_id: Option<Uuid>,
    /// Subject, 1-300 characters.
    pub subject: String,
    /// What the requester wrote (plain text).
    #[serde(default)]
    pub description: String,
    /// Status (default `open`).
    pub status: Option<TicketStatus>,
    /// Priority (default `medium`).
    pub priority: Option<TicketPriority>,
    /// Topic, e.g. `proctoring_status`.
    pub ticket_type: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Channel (default `api`).
    pub source: Option<TicketSource>,
    /// An existing contact of the ticket's tenant.
    pub requester_id: Option<Uuid>,
    /// Or the requester's identifiers: an existing contact is found by any of them, else one
    /// is created.
    pub requester: Option<ContactFields>,
    /// Company (default: the requester's).
    pub company_id: Option<Uuid>,
    /// Group (of the ticket's tenant or an ancestor).
    pub group_id: Option<Uuid>,
    /// Assignee (an active user of the ticket's tenant or an ancestor).
    pub assignee_id: Option<Uuid>,
    /// Values of the tenant's custom fields, by key.
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Body of `PATCH /tickets/{id}`: absent fields stay, `null` clears an optional field. Send the
/// ticket's `ETag` as `If-Match` to be refused (412) instead of overwriting someone's change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTicket {
    /// Subject.
    pub subject: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Status.
    pub status: Option<TicketStatus>,
    /// Priority.
    pub priority: Option<TicketPriority>,
    /// Topic.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub ticket_type: Option<Option<String>>,
    /// Tags (replaces the list).
    pub tags: Option<Vec<String>>,
    /// Requester (a contact of the ticket's tenant): e.g. when a colleague forwarded the mail.
    pub requester_id: Option<Uuid>,
    /// Company.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    pub company_id: Option<Option<Uuid>>,
    /// Group.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    pub group_id: Option<Option<Uuid>>,
    /// Assignee.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    pub assignee_id: Option<Option<Uuid>>,
    /// Custom field values to set; `null` removes a value; keys not sent stay.
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Options of `POST /tickets/{id}/take`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TakeQuery {
    /// Take the ticket over from the colleague it is assigned to (supervisors and
    /// administrators only; default false).
    pub force: Option<bool>,
}

/// A ticket.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketDto {
    /// Id.
    pub id: Uuid,
    /// Tenant.
    pub tenant_id: Uuid,
    /// Per-tenant number.
    pub number: i64,
    /// Subject.
    pub subject: String,
    /// Description.
    pub description: String,
    /// Status.
    #[schema(value_type = TicketStatus)]
    pub status: String,
    /// Priority.
    #[schema(value_type = TicketPriority)]
    pub priority: String,
    /// Topic.
    pub ticket_type: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Channel.
    #[schema(value_type = TicketSource)]
    pub source: String,
    /// Requester.
    pub requester_id: Uuid,
    /// Company.
    pub company_id: Option<Uuid>,
    /// Group.
    pub group_id: Option<Uuid>,
    /// Assignee.
    pub assignee_id: Option<Uuid>,
    /// Version; the ETag is `"<version>"`.
    pub version: i32,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// First public reply.
    pub first_responded_at: Option<DateTime<Utc>>,
    /// Resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// The ticket this one was merged into.
    pub merged_into_id: Option<Uuid>,
    /// Custom field values by key.
    #[schema(value_type = Object)]
    pub custom_fields: serde_json::Value,
    /// `escalation` or `routing` on a ticket opened for another tenant's ticket.
    #[schema(value_type = Option<LinkKind>)]
    pub link_kind: Option<String>,
    /// The ticket (of another tenant) this one was opened for; its replies and status flow
    /// back there.
    pub origin_ticket_id: Option<Uuid>,
    /// The tenant of the origin ticket.
    pub origin_tenant_id: Option<Uuid>,
    /// The ticket opened for this one in another tenant (escalated to or routed to).
    pub linked_ticket_id: Option<Uuid>,
    /// The tenant of the linked ticket.
    pub linked_tenant_id: Option<Uuid>,
}

impl From<entity::ticket::Model> for TicketDto {
    fn from(model: entity::ticket::Model) -> Self {
        Self {
            id: model.id,
            tenant_id: model.tenant_id,
            number: model.number,
            subject: model.subject,
            description: model.description,
            status: model.status,
            priority: model.priority,
            ticket_type: model.ticket_type,
            tags: serde_json::from_value(model.tags).unwrap_or_default(),
            source: model.source,
            requester_id: model.requester_id,
            company_id: model.company_id,
            group_id: model.group_id,
            assignee_id: model.assignee_id,
            version: model.version,
            created_at: model.created_at,
            updated_at: model.updated_at,
            first_responded_at: model.first_responded_at,
            resolved_at: model.resolved_at,
            closed_at: model.closed_at,
            merged_into_id: model.merged_into_id,
            custom_fields: serde_json::from_str(&model.custom_fields)
                .unwrap_or_else(|_| serde_json::json!({})),
            link_kind: model.link_kind,
            origin_ticket_id: model.origin_ticket_id,
            origin_tenant_id: model.origin_tenant_id,
            linked_ticket_id: model.linked_ticket_id,
            linked_tenant_id: model.linked_tenant_id,
        }
    }
}

/// Body of `POST /tickets/{id}/merge`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeTickets {
    /// Tickets of the same tenant to merge into this one (1-50): their conversation moves here,
    /// they are closed and point at this ticket.
    pub secondary_ids: Vec<Uuid>,
}

/// Body of `POST /tickets/{id}/replies` and `/notes`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMessage {
    /// HTML or plain text; scripts, event handlers and unsafe markup are removed.
    pub body: String,
    /// Attachments uploaded to this ticket and not yet sent, to send with this message.
    #[serde(default)]
    pub attachment_ids: Vec<Uuid>,
}

/// One entry of a conversation.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageDto {
    /// Id.
    pub id: Uuid,
    /// Ticket.
    pub ticket_id: Uuid,
    /// `incoming`, `reply` or `note` (notes are never shown to requesters or client staff).
    #[schema(value_type = MessageKind)]
    pub kind: String,
    /// The agent who wrote it.
    pub author_user_id: Option<Uuid>,
    /// The requester who wrote it.
    pub author_contact_id: Option<Uuid>,
    /// Plain text.
    pub body_text: String,
    /// Sanitised HTML.
    pub body_html: String,
    /// Written.
    pub created_at: DateTime<Utc>,
    /// Files it carries.
    pub attachments: Vec<crate::attachments::dto::AttachmentDto>,
    /// For a reply: how far its delivery to the requester got.
    pub delivery: Option<crate::outbox::dto::DeliveryDto>,
}

impl From<entity::ticket_message::Model> for MessageDto {
    fn from(model: entity::ticket_message::Model) -> Self {
        Self {
            id: model.id,
            ticket_id: model.ticket_id,
            kind: model.kind,
            author_user_id: model.author_user_id,
            author_contact_id: model.author_contact_id,
            body_text: model.body_text,
            body_html: model.body_html,
            created_at: model.created_at,
            attachments: Vec::new(),
            delivery: None,
        }
    }
}

/// One entry of a ticket's event log.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventDto {
    /// The entry's id (UUIDv7, in the order of the log).
    pub id: Uuid,
    /// What happened.
    #[schema(value_type = EventKind)]
    pub kind: String,
    /// Who caused it.
    #[schema(value_type = EventActor)]
    pub actor_type: String,
    /// The user or key.
    pub actor_id: Option<Uuid>,
    /// The ticket's version after it.
    pub version: i32,
    /// What changed: for `updated` a `changes` list of `{field, old, new}`; for
    /// `status_changed` and `assigned` `{old, new}`; for `message_added` the `message_id`, its
    /// `kind`, `visibility` and `direction`; for `created` the ticket's first values; for
    /// `merged`, `merged_into` and `linked` the other tickets.
    pub data: serde_json::Value,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<entity::ticket_event::Model> for EventDto {
    fn from(model: entity::ticket_event::Model) -> Self {
        Self {
            id: model.id,
            kind: model.kind,
            actor_type: model.actor_type,
            actor_id: model.actor_id,
            version: model.version,
            data: serde_json::from_str(&model.data).unwrap_or_default(),
            created_at: model.created_at,
        }
    }
}

/// One change in a ticket's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityDto {
    /// Id.
    pub id: Uuid,
    /// Who made the change.
    #[schema(value_type = ActorType)]
    pub actor_type: String,
    /// The user or key.
    pub actor_id: Option<Uuid>,
    /// The field changed, or the event.
    #[schema(value_type = ActivityField)]
    pub field: String,
    /// Value before.
    pub old_value: Option<serde_json::Value>,
    /// Value after.
    pub new_value: Option<serde_json::Value>,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<entity::ticket_activity::Model> for ActivityDto {
    fn from(model: entity::ticket_activity::Model) -> Self {
        Self {
            id: model.id,
            actor_type: model.actor_type,
            actor_id: model.actor_id,
            field: model.field,
            old_value: model.old_value,
            new_value: model.new_value,
            created_at: model.created_at,
        }
    }
}
