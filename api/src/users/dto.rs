//! Request and response bodies of the user endpoints.
use crate::http::api_enum::api_enum;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

api_enum!(
    /// Whether a user may sign in.
    UserStatus {
        /// Signs in and works.
        Active => "active",
        /// Refused at sign-in; existing sessions end.
        Deactivated => "deactivated",
    }
);

api_enum!(
    /// Roles as the API names them.
    RoleDto {
        /// Administers the whole deployment (platform tenant only).
        PlatformAdmin => "platform_admin",
        /// Administers a tenant and its descendants.
        TenantAdmin => "tenant_admin",
        /// Leads agents; reads reports.
        Supervisor => "supervisor",
        /// Works tickets.
        Agent => "agent",
        /// A client organisation's staff: sees its own tickets and statistics (client tenants only).
        ClientAdmin => "client_admin",
    }
);

impl From<RoleDto> for tenants::Role {
    fn from(role: RoleDto) -> Self {
        match role {
            RoleDto::PlatformAdmin => tenants::Role::PlatformAdmin,
            RoleDto::TenantAdmin => tenants::Role::TenantAdmin,
            RoleDto::Supervisor => tenants::Role::Supervisor,
            RoleDto::Agent => tenants::Role::Agent,
            RoleDto::ClientAdmin => tenants::Role::ClientAdmin,
        }
    }
}

/// Body of `POST /users`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// The user's tenant (the caller's own when absent); must be in the caller's scope.
    pub tenant_id: Option<Uuid>,
    /// E-mail, unique within the tenant.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: RoleDto,
    /// Initial password: 10-128 characters and not easy to guess (common passwords, words,
    /// names, dates, keyboard patterns and the user's own e-mail or name are refused).
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
}

/// Body of `PATCH /users/{id}`: only the fields sent change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    /// Display name.
    pub name: Option<String>,
    /// New role (the user's sessions end so the new role applies at once).
    pub role: Option<RoleDto>,
    /// `false` deactivates (sessions end at the next request), `true` reactivates.
    pub active: Option<bool>,
}

/// Filters of `GET /users`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserFilter {
    /// Only users of this tenant.
    pub tenant_id: Option<Uuid>,
}

/// A user.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserDto {
    /// Id.
    pub id: Uuid,
    /// Tenant.
    pub tenant_id: Uuid,
    /// E-mail.
    pub email: String,
    /// Name.
    pub name: String,
    /// Role.
    #[schema(value_type = RoleDto)]
    pub role: String,
    /// `active` or `deactivated`.
    #[schema(value_type = UserStatus)]
    pub status: String,
    /// `on_shift`, `off_shift` or `away`.
    #[schema(value_type = crate::agents::dto::Availability)]
    pub availability: String,
    /// Groups the user belongs to.
    pub group_ids: Vec<Uuid>,
    /// When deactivated.
    pub deactivated_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl UserDto {
    /// The API shape of a user and the groups it belongs to.
    pub fn new(model: entity::user::Model, group_ids: Vec<Uuid>) -> Self {
        Self {
            group_ids,
            availability: model.availability,
            id: model.id,
            tenant_id: model.tenant_id,
            email: model.email,
            name: model.name,
            role: model.role,
            status: model.status,
            deactivated_at: model.deactivated_at,
            created_at: model.created_at,
            updated_at: model.updated_at,
        }
    }
}

/// A one-time password-reset token, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordResetDto {
    /// Give this to the user; `POST /auth/password-reset` spends it.
    pub token: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}
