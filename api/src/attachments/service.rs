//! The rules of attachments: what may be uploaded, where it is kept, who may read or remove
//! it. Every query of tenant data goes through a scope; the one exception asks the storage's
//! question of whether any row still names a stored object, because a linked ticket's copies
//! share their origin's bytes across tenants.
use super::dto::AttachmentDto;
use super::storage::{ByteStream, StorageError};
use crate::auth::principal::Principal;
use crate::config::AttachmentSettings;
use crate::error::ApiError;
use crate::error::ErrorCode;
use crate::state::AppState;
use crate::tickets::dto::MessageDto;
use actix_multipart::{Multipart, MultipartError};
use actix_web::web::{Bytes, BytesMut};
use entity::{attachment, ticket, ticket_message};
use futures_util::StreamExt;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use tenants::{Role, Scope, Scoped};
use uuid::Uuid;

/// Most attachments one message may carry.
pub const MAX_PER_MESSAGE: usize = 50;

/// Types that are ZIP containers: office documents are ZIP files, so their first bytes may
/// identify either the container or the document.
const ZIP_BASED: &[&str] = &[
    "application/zip",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
];

/// Types stored as OLE compound files (pre-2007 office documents).
const OLE_BASED: &[&str] = &[
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/x-ole-storage",
];

/// A file received in an upload, checked and hashed, not yet stored.
#[derive(Debug)]
pub struct IncomingFile {
    /// Cleaned file name.
    pub file_name: String,
    /// Accepted media type.
    pub content_type: String,
    /// Content.
    pub bytes: Bytes,
    /// Hex SHA-256 of the content.
    pub sha256: String,
}

fn malformed(err: MultipartError) -> ApiError {
    ApiError::bad_request(
        ErrorCode::MalformedMultipart,
        format!("the body is not a valid multipart/form-data upload: {err}"),
    )
}

fn storage_failed(err: StorageError) -> ApiError {
    ApiError::Internal(anyhow::Error::new(err))
}

/// The name a file is kept under: the last path segment, without control characters or
/// leading dots, at most 200 characters; `attachment` when nothing is left.
pub fn clean_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let visible: String = base.chars().filter(|c| !c.is_control()).collect();
    let trimmed = visible.trim().trim_start_matches('.').trim();
    let name: String = trimmed.chars().take(200).collect();
    if name.is_empty() {
        "attachment".to_owned()
    } else {
        name
    }
}

fn same_family(declared: &str, detected: &str) -> bool {
    declared == detected
        || (ZIP_BASED.contains(&declared) && ZIP_BASED.contains(&detected))
        || (OLE_BASED.contains(&declared) && OLE_BASED.contains(&detected))
        || (declared.starts_with("text/") && detected.starts_with("text/"))
}

/// Accepts a file when its declared type is allowed and its content agrees: content with a
/// recognisable signature must be of the declared type's family, and content without one is
/// accepted only as text (no NUL bytes).
///
/// # Errors
/// 415 naming the declared and, when found, the detected type.
pub fn check_type(
    declared: Option<&str>,
    content: &[u8],
    allowed: &[String],
) -> Result<String, ApiError> {
    let declared = declared
        .and_then(|d| d.split(';').next())
        .map(|d| d.trim().to_ascii_lowercase())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    if !allowed.iter().any(|a| a.eq_ignore_ascii_case(&declared)) {
        return Err(ApiError::UnsupportedFileType(format!(
            "files of type {declared} are not accepted"
        )));
    }
    match infer::get(content) {
        Some(found) if same_family(&declared, found.mime_type()) => Ok(declared),
        Some(found) => Err(ApiError::UnsupportedFileType(format!(
            "the file is declared as {declared} but its content is {}",
            found.mime_type()
        ))),
        None if declared.starts_with("text/") && !content.iter().take(8192).any(|b| *b == 0) => {
            Ok(declared)
        }
        None => Err(ApiError::UnsupportedFileType(format!(
            "the file's content does not look like {declared}"
        ))),
    }
}

/// Reads every file part of a multipart upload, refusing at once a file over the size limit,
/// files over the upload's total limit or a file of a refused type; nothing is stored yet.
/// Parts without a file name are skipped.
///
/// # Errors
/// 400 for a broken body or no file, 413 for a file or an upload over its limit, 415 for a
/// refused type, 422 for too many files.
pub async fn receive(
    mut payload: Multipart,
    limits: &AttachmentSettings,
) -> Result<Vec<IncomingFile>, ApiError> {
    let mut files = Vec::new();
    let mut total = 0usize;
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(malformed)?;
        let Some(file_name) = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(clean_file_name)
        else {
            while let Some(chunk) = field.next().await {
                chunk.map_err(malformed)?;
            }
            continue;
        };
        if files.len() >= limits.max_files {
            return Err(ApiError::invalid(
                "files",
                format!("at most {} files per upload", limits.max_files),
            ));
        }
        let declared = field.content_type().map(|m| m.essence_str().to_owned());
        let mut content = BytesMut::new();
        let mut hasher = Sha256::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(malformed)?;
            if content.len() + chunk.len() > limits.max_file_bytes {
                return Err(ApiError::PayloadTooLarge {
                    limit: limits.max_file_bytes,
                });
            }
            total += chunk.len();
            if total > limits.max_upload_bytes {
                return Err(ApiError::PayloadTooLarge {
                    limit: limits.max_upload_bytes,
                });
            }
            hasher.update(&chunk);
            content.extend_from_slice(&chunk);
        }
        let content_type = check_type(declared.as_deref(), &content, &limits.allowed_types)?;
        files.push(IncomingFile {
            file_name,
            content_type,
            bytes: content.freeze(),
            sha256: hex::encode(hasher.finalize()),
        });
    }
    if files.is_empty() {
        return Err(ApiError::bad_request(
            ErrorCode::MissingFile,
            "the upload has no file part (a part with a filename)",
        ));
    }
    Ok(files)
}

/// The ticket an upload goes to: in the scope and not merged away.
///
/// # Errors
/// 404 outside the scope, 409 for a merged ticket.
pub async fn upload_target(
    db: &impl ConnectionTrait,
    principal: &Principal,
    ticket_id: Uuid,
) -> Result<ticket::Model, ApiError> {
    let found = crate::tickets::service::get(db, &principal.scope, ticket_id).await?;
    if let Some(primary) = found.merged_into_id {
        return Err(ApiError::conflict(
            ErrorCode::TicketMerged,
            format!("this ticket was merged into {primary}; attach files there"),
        ));
    }
    Ok(found)
}

async fn discard(state: &AppState, keys: &[String]) {
    for key in keys {
        if let Err(err) = state.storage.delete(key).await {
            tracing::warn!(error = ?err, key, "could not remove the file of a failed upload");
        }
    }
}

/// Stores the files of an upload and records them, all or nothing: when any file or the
/// database write fails, the files already written are removed and no row remains.
///
/// # Errors
/// 500 when the storage or the database fails.
pub async fn store(
    state: &AppState,
    principal: &Principal,
    target: &ticket::Model,
    files: Vec<IncomingFile>,
) -> Result<Vec<attachment::Model>, ApiError> {
    let now = state.clock.now();
    let mut written: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    for file in files {
        let id = Uuid::now_v7();
        let key = format!("{}/{}", target.tenant_id.simple(), id.simple());
        let size = i64::try_from(file.bytes.len()).unwrap_or(i64::MAX);
        if let Err(err) = state.storage.put(&key, file.bytes).await {
            discard(state, &written).await;
            return Err(storage_failed(err));
        }
        written.push(key.clone());
        rows.push(attachment::ActiveModel {
            id: Set(id),
            tenant_id: Set(target.tenant_id),
            ticket_id: Set(target.id),
            message_id: Set(None),
            file_name: Set(file.file_name),
            content_type: Set(file.content_type),
            size: Set(size),
            sha256: Set(file.sha256),
            storage_key: Set(key),
            uploaded_by: Set(principal.actor_id()),
            created_at: Set(now),
        });
    }
    let recorded: Result<Vec<attachment::Model>, ApiError> = async {
        let txn = crate::backend::begin(&state.db).await?;
        let mut models = Vec::with_capacity(rows.len());
        for row in rows {
            models.push(row.insert(&txn).await?);
        }
        txn.commit().await?;
        Ok(models)
    }
    .await;
    if recorded.is_err() {
        discard(state, &written).await;
    }
    recorded
}

/// An attachment the caller may see: in the scope, and for client staff only when a reply or
/// incoming message carries it (never a note's, never one not yet sent).
///
/// # Errors
/// 404 otherwise.
pub async fn get(
    db: &impl ConnectionTrait,
    principal: &Principal,
    id: Uuid,
) -> Result<attachment::Model, ApiError> {
    let found = attachment::Entity::scoped_by_id(&principal.scope, id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("attachment"))?;
    if principal.role() == Some(Role::ClientAdmin) {
        let carrier = match found.message_id {
            Some(message_id) => {
                ticket_message::Entity::scoped_by_id(&principal.scope, message_id)
                    .one(db)
                    .await?
            }
            None => None,
        };
        if carrier.is_none_or(|m| m.kind == "note") {
            return Err(ApiError::NotFound("attachment"));
        }
    }
    Ok(found)
}

/// An attachment with its content.
///
/// # Errors
/// As [`get`]; 500 when the storage fails or lost the bytes.
pub async fn open(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<(attachment::Model, ByteStream), ApiError> {
    let found = get(&state.db, principal, id).await?;
    let content = state
        .storage
        .get(&found.storage_key)
        .await
        .map_err(storage_failed)?;
    Ok((found, content))
}

/// Removes an attachment that no sent message carries: one not yet linked, or a private
/// note's. A reply's or an incoming message's file is part of what the requester was sent or
/// sent us, so it stays (409).
///
/// # Errors
/// 404 as [`get`], 409 for a file a reply or incoming message carries.
pub async fn delete(state: &AppState, principal: &Principal, id: Uuid) -> Result<(), ApiError> {
    let scope = &principal.scope;
    let found = get(&state.db, principal, id).await?;
    let mut removal =
        attachment::Entity::scoped_delete(scope).filter(attachment::Column::Id.eq(found.id));
    match found.message_id {
        Some(message_id) => {
            let carrier = ticket_message::Entity::scoped_by_id(scope, message_id)
                .one(&state.db)
                .await?;
            if carrier.is_none_or(|m| m.kind != "note") {
                return Err(ApiError::conflict(
                    ErrorCode::AttachmentSent,
                    "this file belongs to a message of the conversation and stays with it",
                ));
            }
            removal = removal.filter(attachment::Column::MessageId.eq(message_id));
        }
        // Linked by a reply at this very moment: the delete finds nothing and answers 409.
        None => removal = removal.filter(attachment::Column::MessageId.is_null()),
    }
    if removal.exec(&state.db).await?.rows_affected == 0 {
        return Err(ApiError::conflict(
            ErrorCode::AttachmentSent,
            "this file was just sent with a message and stays with it",
        ));
    }
    // The row is gone first: a failure here leaves an unreachable file, never a broken row.
    release_bytes(state, &found.storage_key).await;
    Ok(())
}

/// Removes the stored object `key` once its last row is gone: copies made for linked tickets
/// share the bytes, so they go only with the last row naming them. Failures are logged; at
/// worst they leave an unreachable file behind, never a row without its bytes.
pub(crate) async fn release_bytes(state: &AppState, key: &str) {
    match key_in_use(&state.db, key).await {
        Ok(true) => {}
        Ok(false) => {
            if let Err(err) = state.storage.delete(key).await {
                tracing::warn!(error = ?err, key, "could not remove an attachment's file");
            }
        }
        Err(err) => {
            tracing::warn!(error = ?err, key, "kept an attachment's file: could not tell whether a copy still uses it");
        }
    }
}

/// Whether any attachment row, of any tenant, still names the stored object `key`. A linked
/// ticket's copy of a file shares its origin's bytes, so a row in one tenant may be the last
/// user of bytes first uploaded in another.
// Unscoped on purpose: this asks the storage's question (is the object still referenced?), not
// a tenant's. Only a yes or no comes back and it never leaves this module; a scoped query would
// miss the other tenants' copies and remove bytes they still download.
#[allow(clippy::disallowed_methods)]
async fn key_in_use(conn: &impl ConnectionTrait, key: &str) -> Result<bool, ApiError> {
    Ok(attachment::Entity::find()
        .select_only()
        .column(attachment::Column::Id)
        .filter(attachment::Column::StorageKey.eq(key))
        .into_tuple::<Uuid>()
        .one(conn)
        .await?
        .is_some())
}

/// Links uploaded attachments of `target` to a new message, inside the message's transaction.
///
/// # Errors
/// 422 naming `attachment_ids` when one is unknown, of another ticket, already linked, or when
/// there are more than [`MAX_PER_MESSAGE`].
pub async fn link(
    conn: &impl ConnectionTrait,
    scope: &Scope,
    target: &ticket::Model,
    message_id: Uuid,
    attachment_ids: &[Uuid],
) -> Result<(), ApiError> {
    let mut ids = attachment_ids.to_vec();
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Ok(());
    }
    if ids.len() > MAX_PER_MESSAGE {
        return Err(ApiError::invalid(
            "attachment_ids",
            format!("at most {MAX_PER_MESSAGE} attachments per message"),
        ));
    }
    let linked = attachment::Entity::scoped_update(scope)
        .col_expr(attachment::Column::MessageId, Expr::value(message_id))
        .filter(attachment::Column::TicketId.eq(target.id))
        .filter(attachment::Column::Id.is_in(ids.clone()))
        .filter(attachment::Column::MessageId.is_null())
        .exec(conn)
        .await?;
    if linked.rows_affected != ids.len() as u64 {
        return Err(ApiError::invalid(
            "attachment_ids",
            "each must be an attachment uploaded to this ticket and not yet sent with a message",
        ));
    }
    Ok(())
}

/// Copies the files carried by messages of another ticket onto their copies on `to`, inside the
/// caller's transaction: a linked ticket's copy of the conversation, and the note that a linked
/// ticket's public reply becomes on its origin, carry the same files. `from` is the scope the
/// source messages are read through; `copies` pairs each source message with its copy. The new
/// rows belong to `to`'s tenant and share the stored bytes (same `storage_key`), which [`delete`]
/// keeps while any row still names them.
///
/// # Errors
/// Fails when the database does.
pub async fn copy_to(
    conn: &impl ConnectionTrait,
    from: &Scope,
    to: &ticket::Model,
    copies: &[(Uuid, Uuid)],
) -> Result<(), ApiError> {
    let copy_of: HashMap<Uuid, Uuid> = copies.iter().copied().collect();
    let sources: Vec<Uuid> = copies.iter().map(|(source, _)| *source).collect();
    let mut rows = Vec::new();
    for chunk in sources.chunks(500) {
        let found = attachment::Entity::scoped(from)
            .filter(attachment::Column::MessageId.is_in(chunk.to_vec()))
            .order_by_asc(attachment::Column::Id)
            .all(conn)
            .await?;
        for row in found {
            let Some(copy) = row.message_id.and_then(|m| copy_of.get(&m).copied()) else {
                continue;
            };
            rows.push(attachment::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(to.tenant_id),
                ticket_id: Set(to.id),
                message_id: Set(Some(copy)),
                file_name: Set(row.file_name),
                content_type: Set(row.content_type),
                size: Set(row.size),
                sha256: Set(row.sha256),
                storage_key: Set(row.storage_key),
                uploaded_by: Set(row.uploaded_by),
                created_at: Set(row.created_at),
            });
        }
    }
    for chunk in rows.chunks(500) {
        sea_orm::Insert::many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// Fills in the attachments each message carries.
///
/// # Errors
/// Fails when the database does.
pub async fn fill(
    db: &impl ConnectionTrait,
    scope: &Scope,
    messages: &mut [MessageDto],
) -> Result<(), ApiError> {
    let ids: Vec<Uuid> = messages.iter().map(|m| m.id).collect();
    if ids.is_empty() {
        return Ok(());
    }
    let mut by_message: HashMap<Uuid, Vec<AttachmentDto>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let found = attachment::Entity::scoped(scope)
            .filter(attachment::Column::MessageId.is_in(chunk.to_vec()))
            .order_by_asc(attachment::Column::Id)
            .all(db)
            .await?;
        for row in found {
            if let Some(message_id) = row.message_id {
                by_message
                    .entry(message_id)
                    .or_default()
                    .push(AttachmentDto::from(row));
            }
        }
    }
    for message in messages {
        message.attachments = by_message.remove(&message.id).unwrap_or_default();
    }
    Ok(())
}

/// Moves the attachments of `from` tickets (sent and unsent) to the ticket `to`, inside the
/// caller's transaction: a merge takes the files with the conversation.
///
/// # Errors
/// Fails when the database does.
pub async fn move_to(
    conn: &impl ConnectionTrait,
    scope: &Scope,
    from: &[Uuid],
    to: Uuid,
) -> Result<(), ApiError> {
    attachment::Entity::scoped_update(scope)
        .col_expr(attachment::Column::TicketId, Expr::value(to))
        .filter(attachment::Column::TicketId.is_in(from.iter().copied()))
        .exec(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> Vec<String> {
        AttachmentSettings::default().allowed_types
    }

    #[test]
    fn file_names_lose_paths_and_control_characters() {
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("C:\\Users\\a\\report.pdf"), "report.pdf");
        assert_eq!(clean_file_name("a\r\nb.txt"), "ab.txt");
        assert_eq!(clean_file_name(".."), "attachment");
        assert_eq!(clean_file_name(""), "attachment");
    }

    #[test]
    fn declared_type_and_content_must_agree() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(
            check_type(Some("image/png"), png, &allowed())
                .ok()
                .as_deref(),
            Some("image/png")
        );
        assert!(check_type(Some("image/jpeg"), png, &allowed()).is_err());
        assert!(check_type(Some("image/png"), b"MZ\x90\0\x03\0\0\0", &allowed()).is_err());
        assert!(check_type(Some("image/png"), b"just text", &allowed()).is_err());
        assert_eq!(
            check_type(Some("text/csv; charset=utf-8"), b"a,b\n1,2\n", &allowed())
                .ok()
                .as_deref(),
            Some("text/csv")
        );
        assert!(check_type(Some("text/plain"), b"a\0b", &allowed()).is_err());
        assert!(check_type(Some("application/x-msdownload"), b"MZ", &allowed()).is_err());
        assert!(check_type(None, b"text", &allowed()).is_err());
    }
}
