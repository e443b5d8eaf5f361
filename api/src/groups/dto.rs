//! Request and response bodies of the group endpoints.
use crate::http::api_enum::api_enum;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

api_enum!(
    /// What a group is.
    GroupKind {
        /// First line: answers users by the scripts.
        L1 => "l1",
        /// Second line: clients, test-system developers, external proctors.
        L2 => "l2",
        /// Third line: engineering.
        L3 => "l3",
        /// Any other team (e.g. a partner's local team).
        Team => "team",
    }
);

api_enum!(
    /// How new tickets of a group find an agent.
    #[derive(Default)]
    AssignmentMode {
        /// Agents take or are given tickets by hand.
        #[default]
        Manual => "manual",
        /// The next member on shift after the one assigned last (by user id).
        RoundRobin => "round_robin",
        /// The member on shift with the fewest unfinished tickets (lowest id on a tie).
        LeastOpen => "least_open",
    }
);

impl AssignmentMode {
    /// The mode of a stored name; unknown names read as manual, which assigns nothing.
    pub fn parse(stored: &str) -> Self {
        match stored {
            "round_robin" => AssignmentMode::RoundRobin,
            "least_open" => AssignmentMode::LeastOpen,
            _ => AssignmentMode::Manual,
        }
    }
}

/// Body of `POST /groups`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGroup {
    /// The group's tenant (the caller's own when absent); must be in the caller's scope.
    pub tenant_id: Option<Uuid>,
    /// Name, unique within the tenant.
    pub name: String,
    /// Tier or team.
    pub kind: GroupKind,
    /// What the group handles.
    pub description: Option<String>,
    /// Business hours (a calendar of the group's tenant); without one the group is always
    /// open.
    pub calendar_id: Option<Uuid>,
    /// How new tickets find an agent; `manual` when absent.
    pub assignment_mode: Option<AssignmentMode>,
    /// Hand an agent's open tickets of this group to colleagues on shift when the agent goes
    /// off shift; `false` when absent.
    pub auto_handoff: Option<bool>,
}

/// Body of `PATCH /groups/{id}`: only the fields sent change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateGroup {
    /// Name.
    pub name: Option<String>,
    /// Tier or team.
    pub kind: Option<GroupKind>,
    /// What the group handles.
    pub description: Option<String>,
    /// Business hours; `null` removes the calendar.
    #[serde(default, deserialize_with = "crate::http::patch::present")]
    #[schema(value_type = Option<Uuid>)]
    pub calendar_id: Option<Option<Uuid>>,
    /// How new tickets find an agent.
    pub assignment_mode: Option<AssignmentMode>,
    /// Hand tickets over automatically at the end of a shift.
    pub auto_handoff: Option<bool>,
}

/// Body of `PUT /users/{id}/groups`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetMemberships {
    /// Every group the user belongs to from now on (groups of the user's own tenant).
    pub group_ids: Vec<Uuid>,
}

/// Filters of `GET /groups`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GroupFilter {
    /// Only groups of this tenant.
    pub tenant_id: Option<Uuid>,
}

/// A group with its members.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupDto {
    /// Id.
    pub id: Uuid,
    /// Tenant.
    pub tenant_id: Uuid,
    /// Name.
    pub name: String,
    /// `l1`, `l2`, `l3` or `team`.
    #[schema(value_type = GroupKind)]
    pub kind: String,
    /// What the group handles.
    pub description: Option<String>,
    /// Business hours, if any.
    pub calendar_id: Option<Uuid>,
    /// `manual`, `round_robin` or `least_open`.
    pub assignment_mode: AssignmentMode,
    /// Whether tickets are handed over automatically at the end of a shift.
    pub auto_handoff: bool,
    /// Members' user ids.
    pub member_ids: Vec<Uuid>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl GroupDto {
    /// The API shape of a group and its members.
    pub fn new(model: entity::group::Model, member_ids: Vec<Uuid>) -> Self {
        Self {
            id: model.id,
            tenant_id: model.tenant_id,
            name: model.name,
            kind: model.kind,
            description: model.description,
            calendar_id: model.calendar_id,
            assignment_mode: AssignmentMode::parse(&model.assignment_mode),
            auto_handoff: model.auto_handoff,
            member_ids,
            created_at: model.created_at,
            updated_at: model.updated_at,
        }
    }
}
