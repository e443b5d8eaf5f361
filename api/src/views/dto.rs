//! Request and response bodies of the saved-view endpoints.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Body of `POST /views`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateView {
    /// Name, 1-100 characters, unique among the owner's views.
    pub name: String,
    /// The filter parameters of `GET /tickets` (`status`, `priority`, `group_id`, `tag`, `q`,
    /// ...), as a JSON object of the same names and values.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub filters: serde_json::Map<String, serde_json::Value>,
    /// Visible to every user of the tenant (admins and supervisors only; default false).
    #[serde(default)]
    pub shared: bool,
}

/// Body of `PATCH /views/{id}`: absent fields stay.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateView {
    /// Name.
    pub name: Option<String>,
    /// Filters (replace the stored ones).
    #[schema(value_type = Option<Object>)]
    pub filters: Option<serde_json::Map<String, serde_json::Value>>,
    /// Shared with the tenant (admins and supervisors only).
    pub shared: Option<bool>,
}

/// A saved view.
#[derive(Debug, Serialize, ToSchema)]
pub struct ViewDto {
    /// Id.
    pub id: Uuid,
    /// Tenant.
    pub tenant_id: Uuid,
    /// The user who saved it.
    pub owner_id: Uuid,
    /// Name.
    pub name: String,
    /// The ticket list's filter parameters.
    #[schema(value_type = Object)]
    pub filters: serde_json::Value,
    /// Visible to every user of the tenant.
    pub shared: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<entity::ticket_view::Model> for ViewDto {
    fn from(model: entity::ticket_view::Model) -> Self {
        Self {
            id: model.id,
            tenant_id: model.tenant_id,
            owner_id: model.owner_id,
            name: model.name,
            filters: model.filters,
            shared: model.shared,
            created_at: model.created_at,
            updated_at: model.updated_at,
        }
    }
}
