//! Who is calling: the request guards. `Principal` verifies the credentials (a JWT or an API
//! key) and builds the request's tenant [`Scope`]; `Authorized<P>` adds one permission check.
// API keys are looked up by their public prefix before any scope exists, and the caller's scope
// is built here (`Scope::for_caller`, which clippy.toml keeps to authentication).
#![allow(clippy::disallowed_methods)]

use super::jwt::{Claims, TokenError};
use crate::error::ApiError;
use crate::error::ErrorCode;
use crate::http::rate_limit::RateLimitInfo;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use entity::api_key;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use tenants::{Caller, Reach, Role, Scope, TenantKind};
use uuid::Uuid;

/// The prefix every API key starts with, which tells it apart from a JWT.
pub const API_KEY_PREFIX: &str = "hd_";

/// What kind of caller this is.
#[derive(Clone, Debug)]
pub enum Actor {
    /// A signed-in user.
    User {
        /// User id.
        id: Uuid,
        /// Role.
        role: Role,
        /// E-mail at sign-in.
        email: String,
        /// Name at sign-in.
        name: String,
    },
    /// The operator at the command line (`helpdesk … create`), acting for the platform.
    Operator,
    /// An integrator's API key.
    ApiKey {
        /// Key id.
        id: Uuid,
        /// Key name.
        name: String,
    },
}

/// A verified caller and the tenants it may act on.
#[derive(Clone, Debug)]
pub struct Principal {
    /// User or API key.
    pub actor: Actor,
    /// The caller's own tenant.
    pub tenant_id: Uuid,
    /// Its kind.
    pub tenant_kind: TenantKind,
    /// Its slug.
    pub tenant_slug: String,
    /// Permission scopes held.
    pub scopes: Vec<String>,
    /// The tenants this request may act on.
    pub scope: Scope,
    /// The access token's claims, for a user.
    pub claims: Option<Claims>,
}

impl Principal {
    /// Whether the caller holds `permission` (or `admin`, which implies every permission).
    pub fn has(&self, permission: &str) -> bool {
        self.scopes
            .iter()
            .any(|held| held == permission || held == "admin")
    }

    /// The user's id, or a 403 for API keys on user-only operations.
    ///
    /// # Errors
    /// 403 `user_required` for API keys.
    pub fn user_id(&self) -> Result<Uuid, ApiError> {
        match &self.actor {
            Actor::User { id, .. } => Ok(*id),
            Actor::ApiKey { .. } | Actor::Operator => Err(ApiError::forbidden(
                ErrorCode::UserRequired,
                "this operation needs a signed-in user",
            )),
        }
    }

    /// The user's role; API keys act with the powers of their scopes only and have no role.
    pub fn role(&self) -> Option<Role> {
        match &self.actor {
            Actor::User { role, .. } => Some(*role),
            Actor::Operator => Some(Role::PlatformAdmin),
            Actor::ApiKey { .. } => None,
        }
    }

    /// The id of the user or API key acting, for audit fields.
    pub fn actor_id(&self) -> Uuid {
        match &self.actor {
            Actor::User { id, .. } | Actor::ApiKey { id, .. } => *id,
            Actor::Operator => Uuid::nil(),
        }
    }

    /// The operator at the command line, acting with full powers over the platform's tree.
    pub fn operator(platform: &entity::tenant::Model) -> Self {
        Principal {
            actor: Actor::Operator,
            tenant_id: platform.id,
            tenant_kind: TenantKind::Platform,
            tenant_slug: platform.slug.clone(),
            scopes: vec!["admin".into()],
            scope: Scope::for_caller(
                Caller::Operator,
                platform.id,
                platform.path.clone(),
                Reach::Subtree,
            ),
            claims: None,
        }
    }

    /// Whether this caller is an administrator of the platform tenant.
    pub fn is_platform_admin(&self) -> bool {
        self.tenant_kind == TenantKind::Platform && self.has("admin")
    }
}

/// A permission an endpoint requires; the name also appears in its OpenAPI `security`.
pub trait Permission {
    /// The scope name, e.g. `tickets:read`.
    const NAME: &'static str;
}

macro_rules! permission {
    ($name:ident, $scope:literal) => {
        #[doc = concat!("The `", $scope, "` permission.")]
        pub struct $name;
        impl Permission for $name {
            const NAME: &'static str = $scope;
        }
    };
}

permission!(Admin, "admin");
permission!(UsersRead, "users:read");
permission!(TenantsRead, "tenants:read");
permission!(TicketsRead, "tickets:read");
permission!(ReportsRead, "reports:read");
permission!(TicketsWrite, "tickets:write");

/// A caller that holds permission `P`.
pub struct Authorized<P: Permission>(pub Principal, PhantomData<P>);

impl<P: Permission> std::ops::Deref for Authorized<P> {
    type Target = Principal;
    fn deref(&self) -> &Principal {
        &self.0
    }
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authenticate(&req).await })
    }
}

impl<P: Permission + 'static> FromRequest for Authorized<P> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let principal = authenticate(&req).await?;
            if !principal.has(P::NAME) {
                return Err(ApiError::forbidden(
                    ErrorCode::InsufficientScope,
                    format!("this operation needs the `{}` permission", P::NAME),
                ));
            }
            Ok(Authorized(principal, PhantomData))
        })
    }
}

/// The credential a request carries, if any.
fn credential(req: &HttpRequest) -> Option<String> {
    if let Some(key) = req.headers().get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(key.trim().to_owned());
    }
    let value = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// Verifies the request's credentials once per request (the result is kept in the request's
/// extensions for later guards and middleware).
///
/// # Errors
/// 401 for missing or bad credentials, 403 for a suspended tenant, 429 for an API key over its
/// limit, 503 when a dependency the check needs is down.
pub async fn authenticate(req: &HttpRequest) -> Result<Principal, ApiError> {
    if let Some(principal) = req.extensions().get::<Principal>() {
        return Ok(principal.clone());
    }
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state missing")))?;
    let token = credential(req).ok_or_else(|| {
        ApiError::unauthorized(
            ErrorCode::MissingCredentials,
            "send `Authorization: Bearer <token>` or `X-Api-Key`",
        )
    })?;
    let principal = if token.starts_with(API_KEY_PREFIX) {
        let (principal, info) = from_api_key(state, &token).await?;
        req.extensions_mut().insert(info);
        principal
    } else {
        from_jwt(state, &token).await?
    };
    req.extensions_mut().insert(principal.clone());
    Ok(principal)
}

async fn from_jwt(state: &AppState, token: &str) -> Result<Principal, ApiError> {
    let claims = match state.keys.verify(token) {
        Err(TokenError::UnknownKey) => {
            // Another node may have rotated the keys since this node last read them.
            if state.keys.reload_if_stale(&state.db).await? {
                state.keys.verify(token)
            } else {
                Err(TokenError::UnknownKey)
            }
        }
        other => other,
    };
    let claims = claims.map_err(|err| match err {
        TokenError::Expired => {
            ApiError::unauthorized(ErrorCode::TokenExpired, "the access token has expired")
        }
        TokenError::NotYetValid => ApiError::unauthorized(
            ErrorCode::TokenNotYetValid,
            "the access token is not valid yet",
        ),
        TokenError::LifetimeTooLong => ApiError::unauthorized(
            ErrorCode::InvalidToken,
            "the access token claims a longer life than this server issues",
        ),
        TokenError::UnknownKey | TokenError::Invalid => ApiError::unauthorized(
            ErrorCode::InvalidToken,
            "the access token is malformed or wrongly signed",
        ),
    })?;
    state.revocations.check(&claims)?;
    let role: Role = claims
        .role
        .parse()
        .map_err(|_| ApiError::unauthorized(ErrorCode::InvalidToken, "unknown role"))?;
    let facts = state.tenant_facts(claims.tid).await?.ok_or_else(|| {
        ApiError::unauthorized(ErrorCode::InvalidToken, "the token's tenant does not exist")
    })?;
    Ok(Principal {
        actor: Actor::User {
            id: claims.sub,
            role,
            email: claims.email.clone(),
            name: claims.name.clone(),
        },
        tenant_id: claims.tid,
        tenant_kind: facts.kind,
        tenant_slug: facts.slug,
        scopes: claims.scopes.clone(),
        scope: Scope::for_caller(
            Caller::AccessToken,
            claims.tid,
            facts.path,
            reach_in(facts.kind, role.reach()),
        ),
        claims: Some(claims),
    })
}

/// How far a principal of a tenant of `kind` reaches. A client tenant has no tenants below it, so
/// its subtree is itself: `Own` compares `tenant_id` with one value, which lets PostgreSQL read
/// a `(tenant_id, ...)` index in order instead of joining the tenant tree (a client's filtered
/// ticket list on 1,000,000 tickets goes from ~5-25 ms to under 1 ms; api/benches/list_1m.sh).
fn reach_in(kind: TenantKind, reach: Reach) -> Reach {
    if kind == TenantKind::Client {
        Reach::Own
    } else {
        reach
    }
}

/// Hashes a full API key for storage and lookup.
pub fn hash_api_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The public prefix of a key `hd_<prefix>_<secret>`.
pub fn api_key_prefix(key: &str) -> Option<&str> {
    let rest = key.strip_prefix(API_KEY_PREFIX)?;
    let (prefix, secret) = rest.split_once('_')?;
    (!prefix.is_empty() && !secret.is_empty()).then_some(prefix)
}

async fn from_api_key(state: &AppState, key: &str) -> Result<(Principal, RateLimitInfo), ApiError> {
    let invalid = || ApiError::unauthorized(ErrorCode::InvalidApiKey, "the API key is unknown");
    let prefix = api_key_prefix(key).ok_or_else(invalid)?;
    let found = api_key::Entity::find()
        .filter(api_key::Column::Prefix.eq(prefix))
        .one(&state.db)
        .await?;
    let found = found
        .filter(|row| row.key_hash == hash_api_key(key))
        .ok_or_else(invalid)?;
    if found.revoked_at.is_some() {
        return Err(ApiError::unauthorized(
            ErrorCode::ApiKeyRevoked,
            "the API key has been revoked",
        ));
    }
    let now = state.clock.now();
    if found.expires_at.is_some_and(|at| at <= now) {
        return Err(ApiError::unauthorized(
            ErrorCode::ApiKeyExpired,
            "the API key has expired",
        ));
    }
    let facts = state.tenant_facts(found.tenant_id).await?.ok_or_else(|| {
        ApiError::unauthorized(
            ErrorCode::InvalidApiKey,
            "the API key's tenant does not exist",
        )
    })?;
    if tenants::tree::is_blocked(&state.db, &facts.path).await? {
        return Err(ApiError::forbidden(
            ErrorCode::TenantSuspended,
            "the tenant of this API key is suspended",
        ));
    }
    let limit = state.settings.rate_limit.api_key_per_minute;
    let window = state
        .cache
        .hit(&format!("rl:key:{}", found.id.simple()), 60)
        .await?;
    let info = RateLimitInfo::new(limit, window);
    if window.count > limit {
        return Err(ApiError::RateLimited {
            retry_after: window.reset_in,
            limit,
        });
    }
    if found
        .last_used_at
        .is_none_or(|at| now - at > chrono::Duration::seconds(60))
    {
        // Recorded at most once a minute, off the request path.
        let db = state.db.clone();
        let row = found.clone();
        tokio::spawn(async move {
            let mut active: api_key::ActiveModel = row.into();
            active.last_used_at = Set(Some(now));
            if let Err(err) = active.update(&db).await {
                tracing::warn!(error = ?err, "could not record API key use");
            }
        });
    }
    let scopes: Vec<String> = serde_json::from_value(found.scopes.clone()).unwrap_or_default();
    let principal = Principal {
        actor: Actor::ApiKey {
            id: found.id,
            name: found.name.clone(),
        },
        tenant_id: found.tenant_id,
        tenant_kind: facts.kind,
        tenant_slug: facts.slug,
        scopes,
        scope: Scope::for_caller(
            Caller::ApiKey,
            found.tenant_id,
            facts.path,
            reach_in(facts.kind, Reach::Subtree),
        ),
        claims: None,
    };
    Ok((principal, info))
}
