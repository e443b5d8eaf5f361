//! Request and response bodies of the API key endpoints.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Body of `POST /api-keys`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    /// What the key is for, e.g. `LMS sync`.
    pub name: String,
    /// Permission scopes: `admin`, `tickets:read`, `tickets:write`, `kb:read`, `kb:write`,
    /// `reports:read`, `users:read`, `tenants:read`.
    pub scopes: Vec<String>,
    /// The key's tenant (the caller's own when absent); must be in the caller's scope.
    pub tenant_id: Option<Uuid>,
    /// When the key stops working.
    pub expires_at: Option<DateTime<Utc>>,
}

/// An API key (never with its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyDto {
    /// Id.
    pub id: Uuid,
    /// Tenant.
    pub tenant_id: Uuid,
    /// Name.
    pub name: String,
    /// Public prefix, to recognise the key.
    pub prefix: String,
    /// Permission scopes.
    pub scopes: Vec<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last request made with it (recorded at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it stops working.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<entity::api_key::Model> for ApiKeyDto {
    fn from(model: entity::api_key::Model) -> Self {
        Self {
            id: model.id,
            tenant_id: model.tenant_id,
            name: model.name,
            prefix: model.prefix,
            scopes: serde_json::from_value(model.scopes).unwrap_or_default(),
            created_at: model.created_at,
            last_used_at: model.last_used_at,
            expires_at: model.expires_at,
            revoked_at: model.revoked_at,
        }
    }
}

/// A new API key with its secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiKey {
    /// The key's record.
    #[serde(flatten)]
    pub key: ApiKeyDto,
    /// The full key: send it as `X-Api-Key` or `Authorization: Bearer`. It is not stored and
    /// cannot be shown again.
    pub secret: String,
}
