//! HTTP endpoints of attachments.
use super::dto::{AttachmentDto, UploadForm};
use super::service;
use crate::auth::principal::{Authorized, TicketsRead, TicketsWrite};
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use actix_multipart::Multipart;
use actix_web::http::header::{
    self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
};
use actix_web::{HttpResponse, delete, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

/// Registers the attachment endpoints.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(upload_attachments)
        .service(get_attachment)
        .service(download_attachment)
        .service(delete_attachment);
}

/// Uploads one or more files to a ticket; link them to a reply or note with its
/// `attachment_ids`.
#[utoipa::path(
    tag = "attachments",
    params(("id" = Uuid, Path, description = "Ticket id")),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored", body = Vec<AttachmentDto>),
        (status = 400, description = "Broken multipart body or no file part", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the tickets:write permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Ticket not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The ticket was merged", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "A file is over the size limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "A file's type is not accepted or its content does not match it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Too many files", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:write"]), ("api_key" = ["tickets:write"]))
)]
#[post("/tickets/{id}/attachments")]
async fn upload_attachments(
    state: web::Data<AppState>,
    auth: Authorized<TicketsWrite>,
    id: web::Path<Uuid>,
    payload: Multipart,
) -> Result<HttpResponse, ApiError> {
    let target = service::upload_target(&state.db, &auth, id.into_inner()).await?;
    let files = service::receive(payload, &state.settings.attachments).await?;
    let stored = service::store(&state, &auth, &target, files).await?;
    Ok(HttpResponse::Created().json(
        stored
            .into_iter()
            .map(AttachmentDto::from)
            .collect::<Vec<_>>(),
    ))
}

/// An attachment's description.
#[utoipa::path(
    tag = "attachments",
    params(("id" = Uuid, Path, description = "Attachment id")),
    responses(
        (status = 200, description = "The attachment", body = AttachmentDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:read"]), ("api_key" = ["tickets:read"]))
)]
#[get("/attachments/{id}")]
async fn get_attachment(
    state: web::Data<AppState>,
    auth: Authorized<TicketsRead>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let found = service::get(&state.db, &auth, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(AttachmentDto::from(found)))
}

/// `attachment` disposition with an ASCII fallback name and the exact UTF-8 name.
fn disposition(file_name: &str) -> ContentDisposition {
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') {
                c
            } else {
                '_'
            }
        })
        .collect();
    ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![
            DispositionParam::Filename(ascii),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: file_name.as_bytes().to_vec(),
            }),
        ],
    }
}

/// Downloads an attachment's bytes, always as a download (never rendered inline).
#[utoipa::path(
    tag = "attachments",
    params(("id" = Uuid, Path, description = "Attachment id")),
    responses(
        (status = 200, description = "The bytes, served with the media type the file was accepted as (one of `attachments.allowed_types`, e.g. `application/pdf`, `image/png`, `text/plain`)", content_type = "*/*", body = crate::attachments::dto::FileBytes,
         headers(("Content-Disposition" = String, description = "attachment; filename=…"), ("X-Content-Type-Options" = String, description = "nosniff"))),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:read"]), ("api_key" = ["tickets:read"]))
)]
#[get("/attachments/{id}/content")]
async fn download_attachment(
    state: web::Data<AppState>,
    auth: Authorized<TicketsRead>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (found, content) = service::open(&state, &auth, id.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, found.content_type.as_str()))
        .insert_header((header::CONTENT_DISPOSITION, disposition(&found.file_name)))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .no_chunking(u64::try_from(found.size).unwrap_or_default())
        .streaming(content))
}

/// Deletes an attachment not yet sent, or a private note's; a reply's stays (409).
#[utoipa::path(
    tag = "attachments",
    params(("id" = Uuid, Path, description = "Attachment id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the tickets:write permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A reply or incoming message carries it", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:write"]), ("api_key" = ["tickets:write"]))
)]
#[delete("/attachments/{id}")]
async fn delete_attachment(
    state: web::Data<AppState>,
    auth: Authorized<TicketsWrite>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    service::delete(&state, &auth, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
