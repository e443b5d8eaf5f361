//! Revocation that takes effect on the next request, without a database read per request:
//! a deny-list of token ids and of sessions (logged out, or whose refresh token was reused),
//! and "revoked before" markers for users (deactivated, role or password changed) and tenants
//! (suspended). Markers live for one access-token lifetime, after which every token they cover
//! has expired anyway.
#![allow(clippy::disallowed_methods)] // start-up restores markers for every tenant at once

use crate::cache::Cache;
use crate::error::ApiError;
use crate::error::ErrorCode;
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::time::Duration;
use uuid::Uuid;

use super::jwt::Claims;

fn jti_key(jti: Uuid) -> String {
    format!("deny:jti:{}", jti.simple())
}

fn session_key(sid: Uuid) -> String {
    format!("deny:sid:{}", sid.simple())
}

fn user_key(id: Uuid) -> String {
    format!("revoked:user:{}", id.simple())
}

fn tenant_key(id: Uuid) -> String {
    format!("revoked:tenant:{}", id.simple())
}

/// The system time, deliberately not the service's [`crate::clock::Clock`]: a marker is
/// compared with the issue instant a token's UUIDv7 `jti` carries, which the `uuid` crate stamps
/// from the system clock, and the cache's expiries run on real time too. Reading a moved test
/// clock here would refuse fresh tokens (clock ahead) or let revoked ones through (behind).
fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// When a token was issued, in milliseconds: its `jti` is a UUIDv7, so the id carries it.
fn issued_millis(claims: &Claims) -> i64 {
    claims
        .jti
        .get_timestamp()
        .map(|ts| {
            let (secs, nanos) = ts.to_unix();
            i64::try_from(secs).unwrap_or(i64::MAX).saturating_mul(1000)
                + i64::from(nanos / 1_000_000)
        })
        .unwrap_or(claims.iat.saturating_mul(1000))
}

fn parse_millis(value: Option<Vec<u8>>) -> Option<i64> {
    value
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.parse().ok())
}

/// Refuses a token that was logged out, whose session ended, whose user was revoked, or whose
/// tenant was suspended after it was issued. One round trip to the cache.
///
/// # Errors
/// 401 `token_revoked`, 403 `tenant_suspended`, or 503 when the cache is down (fail closed).
pub async fn check(cache: &Cache, claims: &Claims) -> Result<(), ApiError> {
    let keys = [
        jti_key(claims.jti),
        session_key(claims.sid),
        user_key(claims.sub),
        tenant_key(claims.tid),
    ];
    let values = cache
        .get_many(&[&keys[0], &keys[1], &keys[2], &keys[3]])
        .await
        .map_err(|err| {
            tracing::error!(error = ?err, "revocation store unreachable");
            ApiError::Unavailable("the session store is unavailable".into())
        })?;
    let mut values = values.into_iter();
    let denied = values.next().flatten().is_some();
    let session_ended = values.next().flatten().is_some();
    let user_revoked_at = parse_millis(values.next().flatten());
    let tenant_revoked_at = parse_millis(values.next().flatten());
    let issued = issued_millis(claims);
    if denied || session_ended || user_revoked_at.is_some_and(|at| issued <= at) {
        return Err(ApiError::unauthorized(
            ErrorCode::TokenRevoked,
            "this token has been revoked; sign in again",
        ));
    }
    if tenant_revoked_at.is_some_and(|at| issued <= at) {
        return Err(ApiError::forbidden(
            ErrorCode::TenantSuspended,
            "the tenant of this account is suspended",
        ));
    }
    Ok(())
}

/// Deny-lists one token until it would have expired.
///
/// # Errors
/// Fails when the cache does.
pub async fn deny_token(cache: &Cache, claims: &Claims) -> anyhow::Result<()> {
    let remaining = (claims.exp - chrono::Utc::now().timestamp()).max(1);
    let ttl = Duration::from_secs(u64::try_from(remaining).unwrap_or(1) + 60);
    cache.set(&jti_key(claims.jti), b"1", ttl).await
}

/// Refuses every access token of a session from now on: no new ones can be issued in it (its
/// refresh tokens are revoked), and the ones already out live at most one access lifetime.
///
/// # Errors
/// Fails when the cache does.
pub async fn end_session(cache: &Cache, sid: Uuid, access_ttl: Duration) -> anyhow::Result<()> {
    cache
        .set(
            &session_key(sid),
            b"1",
            access_ttl + Duration::from_secs(60),
        )
        .await
}

async fn mark(
    cache: &Cache,
    key: &str,
    at: DateTime<Utc>,
    access_ttl: Duration,
) -> anyhow::Result<()> {
    let remaining =
        at + chrono::Duration::from_std(access_ttl)? + chrono::Duration::seconds(60) - Utc::now();
    if let Ok(ttl) = remaining.to_std() {
        cache
            .set(key, at.timestamp_millis().to_string().as_bytes(), ttl)
            .await?;
    }
    Ok(())
}

/// Re-creates the markers of deactivations, password changes, suspensions and ended sessions
/// of the last token lifetime from the database, so a restarted single node (or a flushed
/// Redis) still refuses the tokens they covered. The deny-list of single tokens is not
/// restored (it lives only in the cache), but a logout also ends its session, which is.
///
/// # Errors
/// Fails when the database or the cache does.
pub async fn restore(
    db: &impl ConnectionTrait,
    cache: &Cache,
    access_ttl: Duration,
) -> anyhow::Result<()> {
    use sea_orm::sea_query::ExprTrait as _;
    let since =
        Utc::now() - chrono::Duration::from_std(access_ttl)? - chrono::Duration::seconds(60);
    let users = entity::user::Entity::find()
        .filter(
            entity::user::Column::DeactivatedAt
                .gte(since)
                .or(entity::user::Column::PasswordChangedAt.gte(since)),
        )
        .all(db)
        .await?;
    for user in &users {
        let at = [user.deactivated_at, Some(user.password_changed_at)]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(since);
        mark(cache, &user_key(user.id), at, access_ttl).await?;
    }
    let suspended = tenants::tree::suspended_since(db, since).await?;
    for tenant in &suspended {
        let at = tenant.suspended_at.unwrap_or(since);
        for id in tenants::tree::subtree_ids(db, &tenant.path).await? {
            mark(cache, &tenant_key(id), at, access_ttl).await?;
        }
    }
    let sessions = ended_sessions_since(db, since).await?;
    for (sid, revoked_at) in &sessions {
        let remaining =
            *revoked_at + chrono::Duration::from_std(access_ttl)? + chrono::Duration::seconds(60)
                - Utc::now();
        if let Ok(ttl) = remaining.to_std() {
            cache.set(&session_key(*sid), b"1", ttl).await?;
        }
    }
    if !users.is_empty() || !suspended.is_empty() || !sessions.is_empty() {
        tracing::info!(
            users = users.len(),
            tenants = suspended.len(),
            sessions = sessions.len(),
            "restored revocation markers"
        );
    }
    Ok(())
}

/// The sessions (refresh-token families) revoked since `since`, each with its latest revocation.
async fn ended_sessions_since(
    db: &impl ConnectionTrait,
    since: DateTime<Utc>,
) -> anyhow::Result<std::collections::HashMap<Uuid, DateTime<Utc>>> {
    use entity::refresh_token;
    let rows = refresh_token::Entity::find()
        .filter(refresh_token::Column::RevokedAt.gte(since))
        .all(db)
        .await?;
    let mut sessions = std::collections::HashMap::new();
    for row in rows {
        if let Some(at) = row.revoked_at {
            let latest = sessions.entry(row.family_id).or_insert(at);
            if at > *latest {
                *latest = at;
            }
        }
    }
    Ok(sessions)
}

/// Revokes every access token of a user issued until now.
///
/// # Errors
/// Fails when the cache does.
pub async fn revoke_user(cache: &Cache, user_id: Uuid, access_ttl: Duration) -> anyhow::Result<()> {
    let marker = now_millis().to_string();
    cache
        .set(
            &user_key(user_id),
            marker.as_bytes(),
            access_ttl + Duration::from_secs(60),
        )
        .await
}

/// Revokes every access token of users of these tenants issued until now.
///
/// # Errors
/// Fails when the cache does.
pub async fn revoke_tenants(
    cache: &Cache,
    tenant_ids: &[Uuid],
    access_ttl: Duration,
) -> anyhow::Result<()> {
    let marker = now_millis().to_string();
    for id in tenant_ids {
        cache
            .set(
                &tenant_key(*id),
                marker.as_bytes(),
                access_ttl + Duration::from_secs(60),
            )
            .await?;
    }
    Ok(())
}
