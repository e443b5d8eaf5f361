//! Request bodies of escalation and routing.
use crate::tickets::domain::TicketPriority;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// Body of `POST /tickets/{id}/escalate`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalateTicket {
    /// Why it goes up: added to the linked ticket after the conversation.
    pub note: Option<String>,
    /// Priority of the linked ticket (the origin's by default).
    pub priority: Option<TicketPriority>,
}

/// Body of `POST /tickets/{id}/route`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteTicket {
    /// The client tenant directly below the ticket's tenant whose own agents should answer.
    pub tenant_id: Uuid,
    /// What the client organisation is asked: added to the linked ticket after the conversation.
    pub note: Option<String>,
    /// Priority of the linked ticket (the origin's by default).
    pub priority: Option<TicketPriority>,
}
