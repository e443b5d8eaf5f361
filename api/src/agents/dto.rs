//! Request and response bodies of the agent endpoints.
use crate::http::api_enum::api_enum;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

api_enum!(
    /// Whether an agent takes work now.
    Availability {
        /// Working; receives tickets.
        OnShift => "on_shift",
        /// Not working.
        OffShift => "off_shift",
        /// Briefly away; keeps tickets, receives none.
        Away => "away",
    }
);

/// Body of `PUT /agents/{id}/availability`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetAvailability {
    /// The new availability.
    pub availability: Availability,
}

/// An agent after a change of availability.
#[derive(Debug, Serialize, ToSchema)]
pub struct AvailabilityDto {
    /// The agent.
    #[serde(flatten)]
    pub agent: crate::users::dto::UserDto,
    /// Going off shift: what the automatic hand-off of the groups that ask for it moved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handoff: Option<HandoffReport>,
}

/// One ticket moved by a hand-off.
#[derive(Debug, Serialize, ToSchema)]
pub struct HandedOver {
    /// Ticket.
    pub ticket_id: Uuid,
    /// Its number.
    pub number: i64,
    /// The colleague who has it now.
    pub assignee_id: Uuid,
}

/// What a hand-off did.
#[derive(Debug, Serialize, ToSchema)]
pub struct HandoffReport {
    /// Tickets moved to colleagues on shift, each with a private note.
    pub moved: Vec<HandedOver>,
    /// Tickets that stayed because no colleague on shift could take them.
    pub kept: Vec<Uuid>,
}
