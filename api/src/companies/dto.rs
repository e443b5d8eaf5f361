//! Request and response bodies of the company endpoints.
use crate::http::api_enum::api_enum;
use crate::http::patch::present;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

api_enum!(
    /// How a client organisation is served.
    CompanyTier {
        /// Ordinary client.
        Standard => "standard",
        /// A dedicated client with its own portal and channel.
        Dedicated => "dedicated",
        /// A client with a contracted SLA.
        Contracted => "contracted",
    }
);

/// Body of `POST /companies`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCompany {
    /// The company's tenant (the caller's own when absent); must be in the caller's scope.
    pub tenant_id: Option<Uuid>,
    /// Name, unique within the tenant.
    pub name: String,
    /// E-mail domains, e.g. `["hse.ru", "edu.hse.ru"]`.
    #[serde(default)]
    pub domains: Vec<String>,
    /// Tier (default `standard`).
    pub tier: Option<CompanyTier>,
    /// Free notes for agents.
    pub notes: Option<String>,
}

/// Body of `PATCH /companies/{id}`: absent fields stay, `null` clears `notes`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCompany {
    /// Name.
    pub name: Option<String>,
    /// E-mail domains (replaces the list).
    pub domains: Option<Vec<String>>,
    /// Tier.
    pub tier: Option<CompanyTier>,
    /// Notes; `null` clears them.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub notes: Option<Option<String>>,
}

/// Filters of `GET /companies`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CompanyFilter {
    /// Only companies of this tenant.
    pub tenant_id: Option<Uuid>,
}

/// A company.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompanyDto {
    /// Id.
    pub id: Uuid,
    /// Tenant.
    pub tenant_id: Uuid,
    /// Name.
    pub name: String,
    /// E-mail domains.
    pub domains: Vec<String>,
    /// Tier.
    #[schema(value_type = CompanyTier)]
    pub tier: String,
    /// Notes.
    pub notes: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<entity::company::Model> for CompanyDto {
    fn from(model: entity::company::Model) -> Self {
        Self {
            id: model.id,
            tenant_id: model.tenant_id,
            name: model.name,
            domains: serde_json::from_value(model.domains).unwrap_or_default(),
            tier: model.tier,
            notes: model.notes,
            created_at: model.created_at,
            updated_at: model.updated_at,
        }
    }
}
