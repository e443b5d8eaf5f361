//! The rules of channels; every query goes through the caller's scope. A channel is support
//! data: it belongs to a tenant whose tickets the caller works (its own, or a client directly
//! below it), so the platform does not manage its partners' channels.
//!
//! Secrets are sealed one by one with the service's key-encryption key, with the channel's id
//! and the secret's name as associated data, so a sealed value cannot be moved to another
//! channel or another secret; they are opened only by the workers that need them.
use super::domain::{ChannelKind, SecretName, Settings};
use super::dto::{ChannelFilter, CreateChannel, UpdateChannel};
use crate::auth::principal::Principal;
use crate::error::{ApiError, ErrorCode};
use crate::http::pagination::PageRequest;
use crate::state::AppState;
use entity::{channel, tenant};
use sea_orm::{ActiveModelTrait, ColumnTrait, NotSet, QueryFilter, QueryOrder, QuerySelect, Set};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};
use tenants::{Scope, Scoped, ScopedInsert};
use uuid::Uuid;

/// Longest secret accepted, in bytes.
const MAX_SECRET_BYTES: usize = 4096;

fn check_name(name: &str) -> Result<String, ApiError> {
    tenants::provisioning::validate_name(name)?;
    Ok(name.trim().to_owned())
}

fn check_locale(locale: Option<String>) -> Result<Option<String>, ApiError> {
    let locale = locale
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty());
    if let Some(locale) = &locale {
        tenants::provisioning::validate_locales(std::slice::from_ref(locale))
            .map_err(|_| ApiError::invalid("locale", "a language tag such as `en` or `pt-BR`"))?;
    }
    Ok(locale)
}

fn tags_json(tags: Vec<String>) -> Result<String, ApiError> {
    Ok(Value::from(crate::tickets::service::check_tags(tags)?).to_string())
}

/// The settings of a channel of `kind` from the sections of a body: the kind's own section
/// (required for e-mail, WhatsApp and Telegram), none of another kind's.
fn settings_from(
    kind: ChannelKind,
    email: Option<super::domain::EmailSettings>,
    whatsapp: Option<super::domain::WhatsappSettings>,
    telegram: Option<super::domain::TelegramSettings>,
    web: Option<super::domain::WebSettings>,
) -> Result<Option<Settings>, ApiError> {
    let sent = [
        email.map(Settings::Email),
        whatsapp.map(Settings::Whatsapp),
        telegram.map(Settings::Telegram),
        web.map(Settings::Web),
    ];
    let mut own = None;
    for settings in sent.into_iter().flatten() {
        if settings.kind() != kind {
            return Err(ApiError::invalid(
                settings.kind().as_str(),
                format!("this is a {} channel", kind.as_str()),
            ));
        }
        own = Some(settings.checked()?);
    }
    Ok(own)
}

/// A group that tickets of the tenant at `owner_path` may go to: of that tenant or one above it
/// (a partner's tier works its clients' tickets), in the scope.
async fn check_default_group(
    state: &AppState,
    scope: &Scope,
    owner_path: &str,
    id: Uuid,
) -> Result<Uuid, ApiError> {
    crate::tickets::service::check_group(&state.db, scope, owner_path, id)
        .await
        .map_err(|_| {
            ApiError::invalid(
                "default_group_id",
                "no such group for this channel's tenant",
            )
        })
}

fn taken(err: sea_orm::DbErr) -> ApiError {
    match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(message))
            if message.contains("address") =>
        {
            ApiError::conflict(
                ErrorCode::ChannelAddressTaken,
                "another channel already receives at this address",
            )
        }
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => ApiError::conflict(
            ErrorCode::ChannelNameTaken,
            "this tenant already has a channel with this name",
        ),
        _ => err.into(),
    }
}

/// What a secret is sealed for: the channel and the secret's name.
fn sealed_for(channel_id: Uuid, name: SecretName) -> String {
    format!("channel:{channel_id}:{}", name.as_str())
}

/// `stored` (a channel's sealed secrets) with `changes` applied: each sent value checked and
/// sealed, each `null` removed.
fn apply_secrets(
    state: &AppState,
    channel_id: Uuid,
    kind: ChannelKind,
    stored: &str,
    changes: Vec<(SecretName, Option<SecretString>)>,
) -> Result<String, ApiError> {
    let mut sealed: Map<String, Value> = serde_json::from_str(stored)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("channel {channel_id}'s secrets: {e}")))?;
    for (name, value) in changes {
        let field = format!("secrets.{}", name.as_str());
        if !kind.secrets().contains(&name) {
            return Err(ApiError::invalid(
                field,
                format!("a {} channel keeps no such secret", kind.as_str()),
            ));
        }
        match value {
            None => {
                sealed.remove(name.as_str());
            }
            Some(value) => {
                let bytes = value.expose_secret().as_bytes();
                if bytes.is_empty() || bytes.len() > MAX_SECRET_BYTES || bytes.contains(&0) {
                    return Err(ApiError::invalid(
                        field,
                        format!("must be 1-{MAX_SECRET_BYTES} bytes without NUL"),
                    ));
                }
                let text = state
                    .secrets_key
                    .seal(&sealed_for(channel_id, name), bytes)
                    .map_err(ApiError::Internal)?;
                sealed.insert(name.as_str().to_owned(), Value::String(text));
            }
        }
    }
    Ok(Value::Object(sealed).to_string())
}

/// Creates a channel in a tenant whose tickets the caller works.
///
/// # Errors
/// 404 for a tenant outside that reach, 409 for a taken name or address, 422 for bad fields.
pub async fn create(
    state: &AppState,
    principal: &Principal,
    body: CreateChannel,
) -> Result<channel::Model, ApiError> {
    let tenant_id = body.tenant_id.unwrap_or(principal.tenant_id);
    let owner = tenant::Entity::scoped_by_id(&principal.scope, tenant_id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    insert(state, &principal.scope, &owner, body).await
}

/// Creates a channel of `owner`, a tenant read through `scope` (its `tenant_id` is ignored).
///
/// # Errors
/// 404 when the scope does not reach `owner`'s support data, 409 for a taken name or address,
/// 422 for bad fields.
pub async fn insert(
    state: &AppState,
    scope: &Scope,
    owner: &tenant::Model,
    body: CreateChannel,
) -> Result<channel::Model, ApiError> {
    let name = check_name(&body.name)?;
    let kind = body.kind;
    let settings = match settings_from(kind, body.email, body.whatsapp, body.telegram, body.web)? {
        Some(settings) => settings,
        None => match kind {
            ChannelKind::Web => Settings::Web(Default::default()),
            ChannelKind::Api => Settings::Api,
            other => {
                return Err(ApiError::invalid(
                    other.as_str(),
                    format!("a {} channel needs its settings", other.as_str()),
                ));
            }
        },
    };
    let default_group_id = match body.default_group_id {
        Some(id) => Some(check_default_group(state, scope, &owner.path, id).await?),
        None => None,
    };
    let tags = tags_json(body.tags.unwrap_or_default())?;
    let locale = check_locale(body.locale)?;
    let id = Uuid::now_v7();
    let changes = body.secrets.map(|s| s.into_changes()).unwrap_or_default();
    let secrets = apply_secrets(state, id, kind, "{}", changes)?;
    let now = state.clock.now();
    channel::ActiveModel {
        id: Set(id),
        tenant_id: NotSet,
        kind: Set(kind.as_str().to_owned()),
        name: Set(name),
        enabled: Set(body.enabled.unwrap_or(true)),
        default_group_id: Set(default_group_id),
        priority: Set(body.priority.map(|p| p.as_str().to_owned())),
        tags: Set(tags),
        locale: Set(locale),
        address: Set(settings.address()),
        settings: Set(settings.to_json()),
        secrets: Set(secrets),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .owned_by_tenant(scope, owner)?
    .insert(&state.db)
    .await
    .map_err(taken)
}

/// One page of channels in the scope.
///
/// # Errors
/// Fails when the database does.
pub async fn list(
    state: &AppState,
    scope: &Scope,
    filter: &ChannelFilter,
    page: PageRequest,
) -> Result<Vec<channel::Model>, ApiError> {
    let scope = state.with_support_reach(scope).await?;
    let mut query = channel::Entity::scoped(&scope)
        .order_by_asc(channel::Column::Id)
        .limit(page.limit + 1);
    if let Some(tenant_id) = filter.tenant_id {
        query = query.filter(channel::Column::TenantId.eq(tenant_id));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(channel::Column::Kind.eq(kind.as_str()));
    }
    if let Some(after) = page.after {
        query = query.filter(channel::Column::Id.gt(after));
    }
    Ok(query.all(&state.db).await?)
}

/// A channel in the scope.
///
/// # Errors
/// 404 outside the scope.
pub async fn get(state: &AppState, scope: &Scope, id: Uuid) -> Result<channel::Model, ApiError> {
    channel::Entity::scoped_by_id(scope, id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound("channel"))
}

/// Changes a channel's name, state, defaults, settings or secrets.
///
/// # Errors
/// 404 outside the scope, 409 for a taken name or address, 422 for bad fields.
pub async fn update(
    state: &AppState,
    scope: &Scope,
    id: Uuid,
    body: UpdateChannel,
) -> Result<channel::Model, ApiError> {
    let found = get(state, scope, id).await?;
    let kind = ChannelKind::from_stored(&found.kind)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("channel {id} has an unknown kind")))?;
    let stored_secrets = found.secrets.clone();
    let tenant_id = found.tenant_id;
    let mut active: channel::ActiveModel = found.into();
    if let Some(name) = body.name {
        active.name = Set(check_name(&name)?);
    }
    if let Some(enabled) = body.enabled {
        active.enabled = Set(enabled);
    }
    if let Some(settings) = settings_from(kind, body.email, body.whatsapp, body.telegram, body.web)?
    {
        active.address = Set(settings.address());
        active.settings = Set(settings.to_json());
    }
    if let Some(group) = body.default_group_id {
        let group = match group {
            Some(group_id) => {
                let owner = tenant::Entity::scoped_by_id(scope, tenant_id)
                    .one(&state.db)
                    .await?
                    .ok_or(ApiError::NotFound("channel"))?;
                Some(check_default_group(state, scope, &owner.path, group_id).await?)
            }
            None => None,
        };
        active.default_group_id = Set(group);
    }
    if let Some(priority) = body.priority {
        active.priority = Set(priority.map(|p| p.as_str().to_owned()));
    }
    if let Some(tags) = body.tags {
        active.tags = Set(tags_json(tags)?);
    }
    if let Some(locale) = body.locale {
        active.locale = Set(check_locale(locale)?);
    }
    if let Some(secrets) = body.secrets {
        active.secrets = Set(apply_secrets(
            state,
            id,
            kind,
            &stored_secrets,
            secrets.into_changes(),
        )?);
    }
    active.updated_at = Set(state.clock.now());
    active.update(&state.db).await.map_err(taken)
}

/// Deletes a channel.
///
/// # Errors
/// 404 outside the scope.
pub async fn delete(state: &AppState, scope: &Scope, id: Uuid) -> Result<(), ApiError> {
    let found = get(state, scope, id).await?;
    channel::Entity::scoped_delete(scope)
        .filter(channel::Column::Id.eq(found.id))
        .exec(&state.db)
        .await?;
    Ok(())
}

/// A secret of a channel, opened, for the worker that uses it; `None` when it is not set.
///
/// # Errors
/// Fails when the stored value does not open with this node's key (another key, or a value
/// moved from another channel or secret).
pub fn secret(
    state: &AppState,
    channel: &channel::Model,
    name: SecretName,
) -> anyhow::Result<Option<SecretString>> {
    let sealed: Map<String, Value> = serde_json::from_str(&channel.secrets)?;
    let Some(text) = sealed.get(name.as_str()).and_then(Value::as_str) else {
        return Ok(None);
    };
    let opened = state
        .secrets_key
        .open(&sealed_for(channel.id, name), text)?;
    let text = String::from_utf8(opened.expose_secret().to_vec())?;
    Ok(Some(SecretString::from(text)))
}
