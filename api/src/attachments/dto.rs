//! Request and response bodies of the attachment endpoints.
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// The `multipart/form-data` body of an upload: one or more file parts (any field name); each
/// part's `Content-Type` must be an accepted type and agree with the file's first bytes.
#[derive(ToSchema)]
#[allow(dead_code)] // describes the multipart body in the OpenAPI document only
pub struct UploadForm {
    /// The files.
    #[schema(value_type = Vec<String>, format = Binary)]
    pub files: Vec<Vec<u8>>,
}

/// A stored file's description.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AttachmentDto {
    /// Id.
    pub id: Uuid,
    /// Tenant.
    pub tenant_id: Uuid,
    /// The ticket it was uploaded to.
    pub ticket_id: Uuid,
    /// The reply or note carrying it; absent until one links it.
    pub message_id: Option<Uuid>,
    /// File name (path parts and control characters removed).
    pub file_name: String,
    /// Media type.
    pub content_type: String,
    /// Size in bytes.
    pub size: i64,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    /// The user or API key that uploaded it.
    pub uploaded_by: Uuid,
    /// Uploaded.
    pub created_at: DateTime<Utc>,
    /// Where to download the bytes.
    pub content_url: String,
}

impl From<entity::attachment::Model> for AttachmentDto {
    fn from(model: entity::attachment::Model) -> Self {
        Self {
            content_url: format!("/api/v1/attachments/{}/content", model.id),
            id: model.id,
            tenant_id: model.tenant_id,
            ticket_id: model.ticket_id,
            message_id: model.message_id,
            file_name: model.file_name,
            content_type: model.content_type,
            size: model.size,
            sha256: model.sha256,
            uploaded_by: model.uploaded_by,
            created_at: model.created_at,
        }
    }
}

/// The raw bytes of a downloaded file, as the OpenAPI document describes them: a binary string.
pub struct FileBytes;

impl utoipa::PartialSchema for FileBytes {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl ToSchema for FileBytes {}
