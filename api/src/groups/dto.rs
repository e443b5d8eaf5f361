//! Request and response bodies of the group endpoints.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// What a group is.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum GroupKind {
    /// First line: answers users by the scripts.
    L1,
    /// Second line: clients, test-system developers, external proctors.
    L2,
    /// Third line: engineering.
    L3,
    /// Any other team (e.g. a partner's local team).
    Team,
}

impl GroupKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupKind::L1 => "l1",
            GroupKind::L2 => "l2",
            GroupKind::L3 => "l3",
            GroupKind::Team => "team",
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
    pub kind: String,
    /// What the group handles.
    pub description: Option<String>,
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
            member_ids,
            created_at: model.created_at,
            updated_at: model.updated_at,
        }
    }
}
