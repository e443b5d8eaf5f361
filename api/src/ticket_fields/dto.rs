//! Request and response bodies of the custom field endpoints.
use crate::http::api_enum::api_enum;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

api_enum!(
    /// The kind of value a custom field holds.
    FieldType {
        /// Up to 1,000 characters.
        Text => "text",
        /// A JSON number.
        Number => "number",
        /// One of the field's `options`.
        Dropdown => "dropdown",
        /// `true` or `false`.
        Checkbox => "checkbox",
        /// `YYYY-MM-DD`.
        Date => "date",
    }
);

/// Body of `POST /ticket-fields`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTicketField {
    /// The tenant whose tickets carry the field (the caller's own when absent).
    pub tenant_id: Option<Uuid>,
    /// Machine name: 1-64 of `a-z`, `0-9`, `_`, e.g. `exam_id`.
    pub key: String,
    /// Label shown to agents.
    pub label: String,
    /// Value type.
    pub field_type: FieldType,
    /// The allowed values of a dropdown.
    #[serde(default)]
    pub options: Vec<String>,
    /// Every new ticket must give a value.
    #[serde(default)]
    pub required: bool,
}

/// Filters of `GET /ticket-fields`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TicketFieldFilter {
    /// Only the fields of this tenant.
    pub tenant_id: Option<Uuid>,
}

/// A custom field definition.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketFieldDto {
    /// Id.
    pub id: Uuid,
    /// Tenant.
    pub tenant_id: Uuid,
    /// Machine name.
    pub key: String,
    /// Label.
    pub label: String,
    /// Value type.
    #[schema(value_type = FieldType)]
    pub field_type: String,
    /// Dropdown values.
    pub options: Vec<String>,
    /// Required on new tickets.
    pub required: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
}

impl From<entity::ticket_field::Model> for TicketFieldDto {
    fn from(model: entity::ticket_field::Model) -> Self {
        Self {
            id: model.id,
            tenant_id: model.tenant_id,
            key: model.key,
            label: model.label,
            field_type: model.field_type,
            options: serde_json::from_value(model.options).unwrap_or_default(),
            required: model.required,
            created_at: model.created_at,
        }
    }
}
