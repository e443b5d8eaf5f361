//! Request and response bodies of the contact endpoints.
use crate::http::patch::present;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The identifying and descriptive fields of a contact.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactFields {
    /// Display name (defaults to the e-mail's local part or the identifier).
    pub name: Option<String>,
    /// E-mail, unique per tenant.
    pub email: Option<String>,
    /// Phone in E.164 (`+351912345678`), unique per tenant.
    pub phone: Option<String>,
    /// WhatsApp id, unique per tenant.
    pub whatsapp_id: Option<String>,
    /// Telegram id, unique per tenant.
    pub telegram_id: Option<String>,
    /// Preferred locale, e.g. `pt-BR`.
    pub locale: Option<String>,
    /// IANA time zone.
    pub time_zone: Option<String>,
    /// Company; when absent, the company owning the e-mail's domain is used.
    pub company_id: Option<Uuid>,
}

/// Body of `POST /contacts`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateContact {
    /// The contact's tenant (the caller's own when absent); must be in the caller's scope.
    pub tenant_id: Option<Uuid>,
    /// The contact; at least one of e-mail, phone, WhatsApp or Telegram id.
    #[serde(flatten)]
    pub fields: ContactFields,
}

/// Body of `PATCH /contacts/{id}`: absent fields stay, `null` clears.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateContact {
    /// Display name.
    pub name: Option<String>,
    /// E-mail.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    /// Phone (E.164).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    /// WhatsApp id.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub whatsapp_id: Option<Option<String>>,
    /// Telegram id.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub telegram_id: Option<Option<String>>,
    /// Locale.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub locale: Option<Option<String>>,
    /// Time zone.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub time_zone: Option<Option<String>>,
    /// Company.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    pub company_id: Option<Option<Uuid>>,
}

/// Filters of `GET /contacts`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContactFilter {
    /// Only contacts of this tenant.
    pub tenant_id: Option<Uuid>,
    /// Only contacts of this company.
    pub company_id: Option<Uuid>,
    /// Exact e-mail (case-insensitive).
    pub email: Option<String>,
}

/// A contact.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactDto {
    /// Id.
    pub id: Uuid,
    /// Tenant.
    pub tenant_id: Uuid,
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: Option<String>,
    /// Phone (E.164).
    pub phone: Option<String>,
    /// WhatsApp id.
    pub whatsapp_id: Option<String>,
    /// Telegram id.
    pub telegram_id: Option<String>,
    /// Locale.
    pub locale: Option<String>,
    /// Time zone.
    pub time_zone: Option<String>,
    /// Company.
    pub company_id: Option<Uuid>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<entity::contact::Model> for ContactDto {
    fn from(model: entity::contact::Model) -> Self {
        Self {
            id: model.id,
            tenant_id: model.tenant_id,
            name: model.name,
            email: model.email,
            phone: model.phone,
            whatsapp_id: model.whatsapp_id,
            telegram_id: model.telegram_id,
            locale: model.locale,
            time_zone: model.time_zone,
            company_id: model.company_id,
            created_at: model.created_at,
            updated_at: model.updated_at,
        }
    }
}

/// Body of `POST /contacts/{id}/merge`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeContacts {
    /// Contacts of the same tenant to fold into this one (1-20): their tickets move here, the
    /// identifiers this contact lacks are taken over, and they are deleted.
    pub secondary_ids: Vec<Uuid>,
}

/// One ticket in a personal-data export.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedTicket {
    /// Ticket id.
    pub id: Uuid,
    /// Number.
    pub number: i64,
    /// Subject.
    pub subject: String,
    /// Description.
    pub description: String,
    /// Status.
    #[schema(value_type = crate::tickets::domain::TicketStatus)]
    pub status: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// The public conversation (no internal notes).
    pub messages: Vec<ExportedMessage>,
}

/// One message in a personal-data export.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedMessage {
    /// `incoming` or `reply`.
    #[schema(value_type = crate::tickets::domain::MessageKind)]
    pub kind: String,
    /// Plain text.
    pub body_text: String,
    /// Written.
    pub created_at: DateTime<Utc>,
}

/// Everything the service holds about one contact.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactExport {
    /// The contact.
    pub contact: ContactDto,
    /// The contact's tickets with their public conversation.
    pub tickets: Vec<ExportedTicket>,
}
