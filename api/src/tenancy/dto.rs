//! Request and response bodies of the tenant endpoints.
use crate::http::api_enum::api_enum;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tenants::branding::{EffectiveBranding, Inherited};
use utoipa::ToSchema;
use uuid::Uuid;

api_enum!(
    /// Whether a tenant's principals may act.
    TenantStatusDto {
        /// Working.
        Active => "active",
        /// Suspended: its and its descendants' principals are refused.
        Suspended => "suspended",
    }
);

api_enum!(
    /// Tenant kinds as the API names them.
    TenantKindDto {
        /// The root: the platform operator.
        Platform => "platform",
        /// A regional partner.
        Partner => "partner",
        /// A client organisation (a partner's, or a dedicated client of the platform).
        Client => "client",
    }
);

impl From<TenantKindDto> for tenants::TenantKind {
    fn from(kind: TenantKindDto) -> Self {
        match kind {
            TenantKindDto::Platform => tenants::TenantKind::Platform,
            TenantKindDto::Partner => tenants::TenantKind::Partner,
            TenantKindDto::Client => tenants::TenantKind::Client,
        }
    }
}

/// Body of `POST /tenants`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTenant {
    /// The parent tenant; must be inside the caller's scope.
    pub parent_id: Uuid,
    /// `partner` (below the platform) or `client`.
    pub kind: TenantKindDto,
    /// A client directly below the platform with its own portal, KB and channel.
    #[serde(default)]
    pub dedicated: bool,
    /// Unique URL-safe name: 2-64 of `a-z`, `0-9`, `-`.
    pub slug: String,
    /// Human name.
    pub name: String,
    /// Region label, e.g. `europe`.
    pub region: Option<String>,
    /// Supported locales, e.g. `["en", "pt-BR"]`.
    pub locales: Vec<String>,
    /// Default locale (one of `locales`; the first when absent).
    pub default_locale: Option<String>,
    /// IANA time zone, e.g. `Europe/Lisbon`.
    pub time_zone: String,
}

/// Body of `PATCH /tenants/{id}`: only the fields sent change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTenant {
    /// Human name.
    pub name: Option<String>,
    /// Region label.
    pub region: Option<String>,
    /// Supported locales.
    pub locales: Option<Vec<String>>,
    /// Default locale.
    pub default_locale: Option<String>,
    /// IANA time zone.
    pub time_zone: Option<String>,
    /// The group of this tenant (or of one above it) that receives the tickets other tenants
    /// hand to it by escalation or routing; its automatic assignment then picks an agent.
    /// `null` leaves them unassigned in no group.
    #[serde(default, deserialize_with = "crate::http::patch::present")]
    #[schema(value_type = Option<Uuid>)]
    pub intake_group_id: Option<Option<Uuid>>,
}

/// A tenant.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantDto {
    /// Id.
    pub id: Uuid,
    /// Parent tenant (absent for the platform).
    pub parent_id: Option<Uuid>,
    /// Kind.
    #[schema(value_type = TenantKindDto)]
    pub kind: String,
    /// Dedicated client of the platform.
    pub dedicated: bool,
    /// Unique slug.
    pub slug: String,
    /// Name.
    pub name: String,
    /// Region label.
    pub region: Option<String>,
    /// Supported locales.
    pub locales: Vec<String>,
    /// Default locale.
    pub default_locale: String,
    /// IANA time zone.
    pub time_zone: String,
    /// The group that receives tickets handed to this tenant by another.
    pub intake_group_id: Option<Uuid>,
    /// `active` or `suspended` (the tenant's own status; an ancestor's suspension blocks it too).
    #[schema(value_type = TenantStatusDto)]
    pub status: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<entity::tenant::Model> for TenantDto {
    fn from(model: entity::tenant::Model) -> Self {
        Self {
            id: model.id,
            parent_id: model.parent_id,
            kind: model.kind,
            dedicated: model.dedicated,
            slug: model.slug,
            name: model.name,
            region: model.region,
            locales: serde_json::from_value(model.locales).unwrap_or_default(),
            default_locale: model.default_locale,
            time_zone: model.time_zone,
            intake_group_id: model.intake_group_id,
            status: model.status,
            created_at: model.created_at,
            updated_at: model.updated_at,
        }
    }
}

/// Body of `PUT /tenants/{id}/branding`: the tenant's own branding, replaced whole; a field left
/// out or `null` is inherited from the nearest ancestor that sets it.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutBranding {
    /// Name shown in the portal and e-mails.
    pub display_name: Option<String>,
    /// Logo image URL (http or https).
    pub logo_url: Option<String>,
    /// Main colour `#RRGGBB`.
    pub primary_color: Option<String>,
    /// Accent colour `#RRGGBB`.
    pub accent_color: Option<String>,
    /// Sender name on outgoing e-mail.
    pub email_sender_name: Option<String>,
    /// Signature appended to outgoing e-mail.
    pub email_signature: Option<String>,
    /// Host name of this tenant's portal (unique; never inherited).
    pub portal_domain: Option<String>,
}

/// One effective branding field and where it came from.
#[derive(Debug, Serialize, ToSchema)]
pub struct BrandingField {
    /// The value in force.
    pub value: Option<String>,
    /// The tenant that set it (this tenant or an ancestor).
    pub source_tenant_id: Option<Uuid>,
}

impl From<Inherited> for BrandingField {
    fn from(field: Inherited) -> Self {
        Self {
            value: field.value,
            source_tenant_id: field.source_tenant_id,
        }
    }
}

/// The branding in force for a tenant.
#[derive(Debug, Serialize, ToSchema)]
pub struct BrandingDto {
    /// The tenant.
    pub tenant_id: Uuid,
    /// Name shown in the portal and e-mails.
    pub display_name: BrandingField,
    /// Logo URL.
    pub logo_url: BrandingField,
    /// Main colour.
    pub primary_color: BrandingField,
    /// Accent colour.
    pub accent_color: BrandingField,
    /// Sender name on outgoing e-mail.
    pub email_sender_name: BrandingField,
    /// Signature on outgoing e-mail.
    pub email_signature: BrandingField,
    /// Portal host name.
    pub portal_domain: BrandingField,
}

impl BrandingDto {
    /// The API shape of an effective branding.
    pub fn new(tenant_id: Uuid, branding: EffectiveBranding) -> Self {
        Self {
            tenant_id,
            display_name: branding.display_name.into(),
            logo_url: branding.logo_url.into(),
            primary_color: branding.primary_color.into(),
            accent_color: branding.accent_color.into(),
            email_sender_name: branding.email_sender_name.into(),
            email_signature: branding.email_signature.into(),
            portal_domain: branding.portal_domain.into(),
        }
    }
}
