//! The rules of signing in: credential checks, token issue and rotation, revocation.

use super::dto::TokenResponse;
use super::jwt::{Claims, ISSUER};
use super::revocation;
use crate::error::ApiError;
use crate::error::ErrorCode;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use entity::{password_reset, refresh_token, user};
use rand::Rng;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect, Set,
};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use tenants::Role;
use uuid::Uuid;

/// A fresh random opaque token (256 bits, URL-safe).
pub fn random_token() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::rng().random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Hash under which an opaque token is stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn invalid_credentials() -> ApiError {
    ApiError::unauthorized(
        ErrorCode::InvalidCredentials,
        "the e-mail or password is wrong",
    )
}

/// Most accounts of one e-mail a login looks at, the ones highest in the tenant tree first;
/// every login verifies the password exactly this many times (dummy hashes make up the rest),
/// so an unknown e-mail, a wrong password and an e-mail with several accounts cost the same.
/// An account further down than this needs its tenant named.
pub const ACCOUNTS_PER_LOGIN: usize = 3;

fn tenant_required() -> ApiError {
    ApiError::Validation {
        code: ErrorCode::TenantRequired,
        detail: "this e-mail and password fit accounts in several tenants; name the tenant's slug in `tenant`".into(),
        errors: vec![crate::error::FieldError {
            field: "tenant".into(),
            message: "required for this e-mail".into(),
        }],
    }
}

/// Checks credentials and opens a session. The password is checked against every account of
/// the e-mail (within [`ACCOUNTS_PER_LOGIN`]) before anything else is said, and the account it
/// fits signs in: an account created below with the same e-mail cannot lock out the one above.
///
/// # Errors
/// 401 for wrong credentials or a deactivated account, 403 for a suspended tenant, 422 when
/// the password fits accounts in several tenants and none was named.
pub async fn login(
    state: &AppState,
    email: &str,
    password: SecretString,
    tenant: Option<&str>,
) -> Result<TokenResponse, ApiError> {
    let email = email.trim().to_lowercase();
    let _turn = state.hasher.turn().await?;
    let candidates = login_candidates(state, &email, tenant).await?;
    let mut stored: Vec<Option<String>> = candidates
        .iter()
        .map(|account| Some(account.password_hash.clone()))
        .collect();
    stored.resize(ACCOUNTS_PER_LOGIN, None);
    let matched = state.hasher.verify_each(password, stored).await?;
    let mut fitting = candidates
        .into_iter()
        .zip(matched)
        .filter(|(account, matched)| *matched && account.status == "active")
        .map(|(account, _)| account);
    let account = match (fitting.next(), fitting.next()) {
        (Some(account), None) => account,
        (Some(_), Some(_)) => return Err(tenant_required()),
        (None, _) => return Err(invalid_credentials()),
    };
    ensure_tenant_active(state, account.tenant_id).await?;
    issue(state, &account, Uuid::now_v7()).await
}

/// The accounts a login looks at: those of the e-mail in the named tenant, or, with no tenant
/// named, those of the e-mail highest in the tree (an account above is never pushed out by
/// accounts created below it), at most [`ACCOUNTS_PER_LOGIN`].
#[allow(clippy::disallowed_methods)] // accounts are found by e-mail before anyone is signed in
async fn login_candidates(
    state: &AppState,
    email: &str,
    tenant: Option<&str>,
) -> Result<Vec<user::Model>, ApiError> {
    let mut query = user::Entity::find()
        .join(
            JoinType::InnerJoin,
            user::Entity::belongs_to(entity::tenant::Entity)
                .from(user::Column::TenantId)
                .to(entity::tenant::Column::Id)
                .into(),
        )
        .filter(user::Column::Email.eq(email))
        .order_by_asc(entity::tenant::Column::Depth)
        .order_by_asc(user::Column::Id)
        .limit(ACCOUNTS_PER_LOGIN as u64);
    if let Some(slug) = tenant {
        query = query.filter(entity::tenant::Column::Slug.eq(slug));
    }
    Ok(query.all(&state.db).await?)
}

async fn ensure_tenant_active(state: &AppState, tenant_id: Uuid) -> Result<(), ApiError> {
    let facts = state
        .tenant_facts(tenant_id)
        .await?
        .ok_or_else(invalid_credentials)?;
    if tenants::tree::is_blocked(&state.db, &facts.path).await? {
        return Err(ApiError::forbidden(
            ErrorCode::TenantSuspended,
            "the tenant of this account is suspended",
        ));
    }
    Ok(())
}

/// Signs an access token for `account` and stores a new refresh token in `family`.
///
/// # Errors
/// Fails when the database does.
pub async fn issue(
    state: &AppState,
    account: &user::Model,
    family: Uuid,
) -> Result<TokenResponse, ApiError> {
    let role: Role = account
        .role
        .parse()
        .map_err(|e: String| ApiError::Internal(anyhow::anyhow!(e)))?;
    let now = state.clock.now();
    let ttl = state.keys.access_ttl();
    let ttl_secs = i64::try_from(ttl.as_secs()).unwrap_or(900);
    let claims = Claims {
        sub: account.id,
        tid: account.tenant_id,
        sid: family,
        role: role.as_str().to_owned(),
        scopes: role.scopes().iter().map(|s| (*s).to_owned()).collect(),
        jti: revocation::token_id(now),
        iat: now.timestamp(),
        nbf: now.timestamp(),
        exp: now.timestamp() + ttl_secs,
        iss: ISSUER.to_owned(),
        email: account.email.clone(),
        name: account.name.clone(),
    };
    let access_token = state.keys.sign(&claims)?;
    let refresh = random_token();
    let refresh_ttl = chrono::Duration::seconds(
        i64::try_from(state.settings.auth.refresh_ttl_secs).unwrap_or(86_400),
    );
    refresh_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(account.tenant_id),
        user_id: Set(account.id),
        family_id: Set(family),
        token_hash: Set(token_hash(&refresh)),
        expires_at: Set(now + refresh_ttl),
        used_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(now),
    }
    .insert(&state.db)
    .await?;
    Ok(TokenResponse {
        access_token,
        refresh_token: refresh,
        token_type: "Bearer",
        expires_in: ttl.as_secs(),
    })
}

/// Exchanges a refresh token for a new pair; a second use of the same token revokes the whole
/// family (someone else holds a copy).
///
/// # Errors
/// 401 for unknown, expired, revoked or reused tokens and for deactivated accounts, 403 for a
/// suspended tenant.
#[allow(clippy::disallowed_methods)] // a refresh token is itself the credential, found by its hash before any scope exists
pub async fn refresh(
    state: &AppState,
    presented: &SecretString,
) -> Result<TokenResponse, ApiError> {
    let hash = token_hash(presented.expose_secret());
    let found = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash))
        .one(&state.db)
        .await?
        .ok_or_else(|| {
            ApiError::unauthorized(
                ErrorCode::InvalidRefreshToken,
                "the refresh token is unknown",
            )
        })?;
    if found.revoked_at.is_some() {
        return Err(ApiError::unauthorized(
            ErrorCode::RefreshTokenRevoked,
            "this session has been ended; sign in again",
        ));
    }
    let now = state.clock.now();
    // Claim the token atomically: of two concurrent uses only one can flip `used_at`.
    let claimed = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::Id.eq(found.id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .exec(&state.db)
        .await?;
    if claimed.rows_affected == 0 {
        // Someone else holds a copy: end the session, its access tokens included.
        end_session(state, found.user_id, found.family_id).await?;
        tracing::warn!(user_id = %found.user_id, family = %found.family_id, "refresh token reused; session family revoked");
        return Err(ApiError::unauthorized(
            ErrorCode::RefreshTokenReused,
            "this refresh token was already used; the session has been ended for safety",
        ));
    }
    if found.expires_at <= now {
        return Err(ApiError::unauthorized(
            ErrorCode::RefreshTokenExpired,
            "the refresh token has expired; sign in again",
        ));
    }
    let account = user::Entity::find_by_id(found.user_id)
        .one(&state.db)
        .await?
        .filter(|account| account.status == "active")
        .ok_or_else(|| {
            ApiError::unauthorized(
                ErrorCode::InvalidRefreshToken,
                "the account is no longer active",
            )
        })?;
    ensure_tenant_active(state, account.tenant_id).await?;
    issue(state, &account, found.family_id).await
}

/// Ends one session: its refresh tokens are revoked and every access token issued in it is
/// refused from now on, not only at expiry.
#[allow(clippy::disallowed_methods)] // the user's own refresh tokens, filtered by that user's id
async fn end_session(state: &AppState, user_id: Uuid, session: Uuid) -> Result<(), ApiError> {
    refresh_token::Entity::update_many()
        .col_expr(
            refresh_token::Column::RevokedAt,
            Expr::value(state.clock.now()),
        )
        .filter(refresh_token::Column::UserId.eq(user_id))
        .filter(refresh_token::Column::FamilyId.eq(session))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(&state.db)
        .await?;
    state.revocations.end_session(session);
    Ok(())
}

/// Ends every session of a user: refresh tokens revoked, access tokens refused from now on.
///
/// # Errors
/// Fails when the database or cache does.
#[allow(clippy::disallowed_methods)] // the user's own refresh tokens, filtered by that user's id
pub async fn end_sessions(state: &AppState, user_id: Uuid) -> Result<(), ApiError> {
    refresh_token::Entity::update_many()
        .col_expr(
            refresh_token::Column::RevokedAt,
            Expr::value(state.clock.now()),
        )
        .filter(refresh_token::Column::UserId.eq(user_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(&state.db)
        .await?;
    state.revocations.revoke_user(user_id);
    Ok(())
}

/// Logs out: the access token is deny-listed and its session ends (its refresh tokens are
/// revoked and every access token issued in it is refused); a refresh token of another session
/// of the same user, when given, ends that session too.
///
/// # Errors
/// Fails when the database or cache does.
#[allow(clippy::disallowed_methods)] // the caller's own refresh token, by its hash and the caller's user id
pub async fn logout(
    state: &AppState,
    claims: &Claims,
    refresh: Option<&SecretString>,
) -> Result<(), ApiError> {
    state.revocations.deny_token(claims);
    let mut sessions = vec![claims.sid];
    if let Some(refresh) = refresh {
        let found = refresh_token::Entity::find()
            .filter(refresh_token::Column::TokenHash.eq(token_hash(refresh.expose_secret())))
            .filter(refresh_token::Column::UserId.eq(claims.sub))
            .one(&state.db)
            .await?;
        if let Some(found) = found.filter(|found| found.family_id != claims.sid) {
            sessions.push(found.family_id);
        }
    }
    for session in sessions {
        end_session(state, claims.sub, session).await?;
    }
    Ok(())
}

/// Changes the caller's password after checking the current one; other sessions end.
///
/// # Errors
/// 401 when the current password is wrong, 422 for a weak new password.
#[allow(clippy::disallowed_methods)] // the caller's own account, by the user id of its token
pub async fn change_password(
    state: &AppState,
    user_id: Uuid,
    current: SecretString,
    new: SecretString,
) -> Result<(), ApiError> {
    let account = user::Entity::find_by_id(user_id)
        .one(&state.db)
        .await?
        .ok_or_else(invalid_credentials)?;
    super::password::validate_password("new_password", &new, &[&account.email, &account.name])?;
    if !state
        .hasher
        .verify(current, Some(account.password_hash.clone()))
        .await?
    {
        return Err(ApiError::unauthorized(
            ErrorCode::InvalidCredentials,
            "the current password is wrong",
        ));
    }
    set_password(state, account, new).await
}

/// Sets a new password with a one-time reset token.
///
/// # Errors
/// 401 for an unknown, used or expired token, 422 for a weak password.
#[allow(clippy::disallowed_methods)] // a reset token is itself the credential, found by its hash before any scope exists
pub async fn reset_password(
    state: &AppState,
    token: &SecretString,
    new: SecretString,
) -> Result<(), ApiError> {
    let invalid = || {
        ApiError::unauthorized(
            ErrorCode::InvalidResetToken,
            "the reset token is unknown, used or expired",
        )
    };
    let found = password_reset::Entity::find()
        .filter(password_reset::Column::TokenHash.eq(token_hash(token.expose_secret())))
        .one(&state.db)
        .await?
        .filter(|row| row.used_at.is_none() && row.expires_at > state.clock.now())
        .ok_or_else(invalid)?;
    let owner = user::Entity::find_by_id(found.user_id)
        .one(&state.db)
        .await?
        .ok_or_else(invalid)?;
    // Checked before the token is spent, so a refused password leaves it usable.
    super::password::validate_password("new_password", &new, &[&owner.email, &owner.name])?;
    let hash = state.hasher.hash(new).await?;
    let txn = crate::backend::begin(&state.db).await?;
    let claimed = password_reset::Entity::update_many()
        .col_expr(
            password_reset::Column::UsedAt,
            Expr::value(state.clock.now()),
        )
        .filter(password_reset::Column::Id.eq(found.id))
        .filter(password_reset::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected == 0 {
        return Err(invalid());
    }
    let account = user::Entity::find_by_id(found.user_id)
        .one(&txn)
        .await?
        .ok_or_else(invalid)?;
    store_password_hash(&txn, state.clock.now(), account, hash).await?;
    txn.commit().await?;
    end_sessions(state, found.user_id).await
}

async fn set_password(
    state: &AppState,
    account: user::Model,
    new: SecretString,
) -> Result<(), ApiError> {
    let user_id = account.id;
    let hash = state.hasher.hash(new).await?;
    store_password_hash(&state.db, state.clock.now(), account, hash).await?;
    end_sessions(state, user_id).await
}

async fn store_password_hash(
    db: &impl sea_orm::ConnectionTrait,
    now: DateTime<Utc>,
    account: user::Model,
    hash: String,
) -> Result<(), ApiError> {
    let mut active: user::ActiveModel = account.into();
    active.password_hash = Set(hash);
    active.password_changed_at = Set(now);
    active.updated_at = Set(now);
    active.update(db).await?;
    Ok(())
}
