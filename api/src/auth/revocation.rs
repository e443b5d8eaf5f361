//! Revocation that takes effect on this node's next request and on every other node moments
//! later, without a network round trip per request: a deny-list of token ids and of sessions
//! (logged out, or whose refresh token was reused), and "revoked before" markers for users
//! (deactivated, role or password changed) and tenants (suspended), kept in each node's memory.
//! Entries live for one access-token lifetime, after which every token they cover has expired
//! anyway.
//!
//! The node that revokes updates its own copy before it answers and announces the revocation
//! on the event bus, which brings it to the other nodes. The database is the record: every
//! revocation but a single token's is written there (a logout also ends its session, which is),
//! so each node re-reads the last token lifetime's revocations at start and every few seconds,
//! which catches whatever the bus missed (Redis down, a node that was away). With several nodes
//! (Redis configured) a copy that has not been completed from the database for longer than
//! the configured bound can no longer be trusted, and authenticated requests fail closed with
//! 503 until it is; a single node makes every revocation itself, so its copy is always whole.
#![allow(clippy::disallowed_methods)] // the deny-list holds every tenant's revocations at once

use crate::clock::Clock;
use crate::error::{ApiError, ErrorCode};
use crate::events::bus::EventBus;
use chrono::{DateTime, Utc};
use dashmap::DashMap;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, broadcast};
use uuid::Uuid;

use super::jwt::Claims;

/// Most ids one bus message carries (a suspension may cover thousands of tenants).
const IDS_PER_MESSAGE: usize = 1000;
/// How long after a token lifetime an entry is kept, for clocks a little apart.
const MARGIN: Duration = Duration::from_secs(60);
/// How soon a failed re-read from the database is tried again.
const RETRY: Duration = Duration::from_secs(1);
/// The longest one re-read from the database may take.
const SYNC_DEADLINE: Duration = Duration::from_secs(10);

/// One revocation, as the bus carries it between nodes. Times are milliseconds since the epoch
/// on the service's clock; `until` is when the entry may be forgotten.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "revoked", rename_all = "snake_case")]
pub enum Revocation {
    /// One access token (logout).
    Token {
        /// Its `jti`.
        id: Uuid,
        /// When it expires anyway.
        until: i64,
    },
    /// Every access token of a session (its refresh-token family).
    Session {
        /// The session id (`sid`).
        id: Uuid,
        /// When its last access token expires.
        until: i64,
    },
    /// Every access token of these users issued until `at`.
    Users {
        /// The users.
        ids: Vec<Uuid>,
        /// The revocation time.
        at: i64,
        /// When every token issued before `at` has expired.
        until: i64,
    },
    /// Every access token of users of these tenants issued until `at` (a suspension).
    Tenants {
        /// The tenants.
        ids: Vec<Uuid>,
        /// The revocation time.
        at: i64,
        /// When every token issued before `at` has expired.
        until: i64,
    },
}

/// This node's copy of the deny-list, and the way revocations reach it and leave it.
pub struct Revocations {
    tokens: DashMap<Uuid, i64>,
    sessions: DashMap<Uuid, i64>,
    /// User id → (revoked at, forget after).
    users: DashMap<Uuid, (i64, i64)>,
    /// Tenant id → (revoked at, forget after).
    tenants: DashMap<Uuid, (i64, i64)>,
    clock: Clock,
    bus: EventBus,
    access_ttl: Duration,
    /// How old the copy may get before requests fail closed; `None` on a single node.
    max_age: Option<Duration>,
    /// When this copy was created: `synced_at` counts milliseconds from here.
    origin: Instant,
    /// Milliseconds after `origin` at which the last complete re-read started (+1; 0: never).
    synced_at: AtomicU64,
    /// Asks the re-reading task to re-read now (the bus reconnected and may have missed some).
    resync: Notify,
}

impl Revocations {
    /// An empty copy. `max_age` bounds how old it may get (several nodes); `None` for a single
    /// node.
    pub fn new(
        clock: Clock,
        bus: EventBus,
        access_ttl: Duration,
        max_age: Option<Duration>,
    ) -> Self {
        Self {
            tokens: DashMap::new(),
            sessions: DashMap::new(),
            users: DashMap::new(),
            tenants: DashMap::new(),
            clock,
            bus,
            access_ttl,
            max_age,
            origin: Instant::now(),
            synced_at: AtomicU64::new(0),
            resync: Notify::new(),
        }
    }

    /// Refuses a token that was logged out, whose session ended, whose user was revoked, or
    /// whose tenant was suspended after it was issued. Reads this node's memory only.
    ///
    /// # Errors
    /// 401 `token_revoked`, 403 `tenant_suspended`, or 503 `dependency_unavailable` when the
    /// copy is older than allowed (fail closed).
    pub fn check(&self, claims: &Claims) -> Result<(), ApiError> {
        if let Some(max_age) = self.max_age
            && self.age().is_none_or(|age| age > max_age)
        {
            return Err(ApiError::dependency_unavailable("database"));
        }
        let issued = issued_millis(claims);
        let denied = self.tokens.contains_key(&claims.jti)
            || self.sessions.contains_key(&claims.sid)
            || self
                .users
                .get(&claims.sub)
                .is_some_and(|marker| issued <= marker.0);
        if denied {
            return Err(ApiError::unauthorized(
                ErrorCode::TokenRevoked,
                "this token has been revoked; sign in again",
            ));
        }
        if self
            .tenants
            .get(&claims.tid)
            .is_some_and(|marker| issued <= marker.0)
        {
            return Err(ApiError::forbidden(
                ErrorCode::TenantSuspended,
                "the tenant of this account is suspended",
            ));
        }
        Ok(())
    }

    /// How long ago the last complete re-read from the database started; `None` before the
    /// first.
    pub fn age(&self) -> Option<Duration> {
        let synced = self.synced_at.load(Ordering::Acquire).checked_sub(1)?;
        let elapsed = u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX);
        Some(Duration::from_millis(elapsed.saturating_sub(synced)))
    }

    /// Whether authenticated requests are refused because the copy is too old.
    pub fn is_stale(&self) -> bool {
        self.max_age
            .is_some_and(|max_age| self.age().is_none_or(|age| age > max_age))
    }

    /// Deny-lists one token until it would have expired.
    pub fn deny_token(&self, claims: &Claims) {
        self.revoke(Revocation::Token {
            id: claims.jti,
            until: claims.exp.saturating_mul(1000) + millis(MARGIN),
        });
    }

    /// Refuses every access token of a session from now on: no new ones can be issued in it
    /// (its refresh tokens are revoked), and the ones already out live at most one access
    /// lifetime.
    pub fn end_session(&self, sid: Uuid) {
        self.revoke(Revocation::Session {
            id: sid,
            until: self.now_millis() + self.keep_millis(),
        });
    }

    /// Revokes every access token of a user issued until now.
    pub fn revoke_user(&self, user_id: Uuid) {
        let at = self.now_millis();
        self.revoke(Revocation::Users {
            ids: vec![user_id],
            at,
            until: at + self.keep_millis(),
        });
    }

    /// Revokes every access token of users of these tenants issued until now.
    pub fn revoke_tenants(&self, tenant_ids: &[Uuid]) {
        let at = self.now_millis();
        for ids in tenant_ids.chunks(IDS_PER_MESSAGE) {
            self.revoke(Revocation::Tenants {
                ids: ids.to_vec(),
                at,
                until: at + self.keep_millis(),
            });
        }
    }

    /// Applies a revocation here and announces it to the other nodes (never waiting for the
    /// bus: the database already holds what the others need if the message is lost).
    fn revoke(&self, revocation: Revocation) {
        self.apply(&revocation);
        self.bus.announce_revocation(revocation);
    }

    /// Adds a revocation to this copy (idempotent: a node also hears its own announcements).
    pub fn apply(&self, revocation: &Revocation) {
        match revocation {
            Revocation::Token { id, until } => keep_latest(&self.tokens, *id, *until),
            Revocation::Session { id, until } => keep_latest(&self.sessions, *id, *until),
            Revocation::Users { ids, at, until } => {
                for id in ids {
                    mark(&self.users, *id, *at, *until);
                }
            }
            Revocation::Tenants { ids, at, until } => {
                for id in ids {
                    mark(&self.tenants, *id, *at, *until);
                }
            }
        }
    }

    /// Re-reads the revocations of the last token lifetime from the database (deactivations,
    /// password changes, suspensions, ended sessions) into this copy, forgets the entries whose
    /// tokens have all expired, and counts the copy as complete from when the read started.
    /// The deny-list of single tokens is not in the database, but a logout also ends its
    /// session, which is.
    ///
    /// # Errors
    /// Fails when the database does or the read takes longer than its deadline.
    pub async fn sync(&self, db: &impl ConnectionTrait) -> anyhow::Result<()> {
        let started = self.origin.elapsed();
        tokio::time::timeout(SYNC_DEADLINE, self.read_all(db))
            .await
            .map_err(|_| anyhow::anyhow!("re-reading revocations took too long"))??;
        let now = self.now_millis();
        self.tokens.retain(|_, until| *until > now);
        self.sessions.retain(|_, until| *until > now);
        self.users.retain(|_, marker| marker.1 > now);
        self.tenants.retain(|_, marker| marker.1 > now);
        let started = u64::try_from(started.as_millis()).unwrap_or(u64::MAX);
        self.synced_at
            .fetch_max(started.saturating_add(1), Ordering::AcqRel);
        Ok(())
    }

    async fn read_all(&self, db: &impl ConnectionTrait) -> anyhow::Result<()> {
        use sea_orm::sea_query::ExprTrait as _;
        let since = self.clock.now()
            - chrono::Duration::from_std(self.access_ttl)?
            - chrono::Duration::from_std(MARGIN)?;
        let keep = self.keep_millis();
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
                .unwrap_or(since)
                .timestamp_millis();
            mark(&self.users, user.id, at, at + keep);
        }
        for tenant in tenants::tree::suspended_since(db, since).await? {
            let at = tenant.suspended_at.unwrap_or(since).timestamp_millis();
            for id in tenants::tree::subtree_ids(db, &tenant.path).await? {
                mark(&self.tenants, id, at, at + keep);
            }
        }
        for (sid, revoked_at) in ended_sessions_since(db, since).await? {
            keep_latest(&self.sessions, sid, revoked_at.timestamp_millis() + keep);
        }
        Ok(())
    }

    /// Keeps this copy complete for as long as it is in use: re-reads the database every
    /// `every` (sooner after a failure, and at once when the bus reconnects), and applies the
    /// revocations other nodes announce.
    pub fn follow(self: &Arc<Self>, db: sea_orm::DatabaseConnection, every: Duration) {
        let mut announced = self.bus.subscribe_revocations();
        let mut reconnected = self.bus.subscribe_stale();
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let revocation = tokio::select! {
                    revocation = announced.recv() => revocation,
                    stale = reconnected.recv() => match stale {
                        // The bus came back (or lagged): announcements may have been missed.
                        Ok(None) | Err(broadcast::error::RecvError::Lagged(_)) => {
                            let Some(list) = weak.upgrade() else { break };
                            list.resync.notify_one();
                            continue;
                        }
                        Ok(Some(_)) => continue,
                        Err(broadcast::error::RecvError::Closed) => break,
                    },
                };
                let Some(list) = weak.upgrade() else { break };
                match revocation {
                    Ok(revocation) => list.apply(&revocation),
                    Err(broadcast::error::RecvError::Lagged(_)) => list.resync.notify_one(),
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        spawn_sync(Arc::downgrade(self), db, every);
    }

    fn now_millis(&self) -> i64 {
        self.clock.now().timestamp_millis()
    }

    /// How long an entry made now is kept: one access lifetime and a margin.
    fn keep_millis(&self) -> i64 {
        millis(self.access_ttl + MARGIN)
    }
}

fn spawn_sync(list: Weak<Revocations>, db: sea_orm::DatabaseConnection, every: Duration) {
    tokio::spawn(async move {
        let mut wait = every;
        loop {
            let Some(notified) = list.upgrade() else {
                break;
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = notified.resync.notified() => {}
            }
            drop(notified);
            let Some(current) = list.upgrade() else { break };
            wait = match current.sync(&db).await {
                Ok(()) => every,
                Err(err) => {
                    tracing::warn!(error = %err, "could not re-read revocations");
                    RETRY.min(every)
                }
            };
        }
    });
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

fn keep_latest(map: &DashMap<Uuid, i64>, id: Uuid, until: i64) {
    map.entry(id)
        .and_modify(|known| *known = (*known).max(until))
        .or_insert(until);
}

fn mark(map: &DashMap<Uuid, (i64, i64)>, id: Uuid, at: i64, until: i64) {
    map.entry(id)
        .and_modify(|known| *known = (known.0.max(at), known.1.max(until)))
        .or_insert((at, until));
}

/// A token id that carries its issue time on the service's clock (a UUIDv7 from `at`), so
/// revocation markers and tokens compare on the same clock.
pub fn token_id(at: DateTime<Utc>) -> Uuid {
    let secs = u64::try_from(at.timestamp()).unwrap_or(0);
    Uuid::new_v7(uuid::Timestamp::from_unix(
        uuid::NoContext,
        secs,
        at.timestamp_subsec_nanos(),
    ))
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

/// The sessions (refresh-token families) revoked since `since`, each with its latest revocation.
async fn ended_sessions_since(
    db: &impl ConnectionTrait,
    since: DateTime<Utc>,
) -> anyhow::Result<std::collections::HashMap<Uuid, DateTime<Utc>>> {
    use entity::refresh_token;
    let rows: Vec<(Uuid, Option<DateTime<Utc>>)> = refresh_token::Entity::find()
        .select_only()
        .column(refresh_token::Column::FamilyId)
        .column(refresh_token::Column::RevokedAt)
        .filter(refresh_token::Column::RevokedAt.gte(since))
        .into_tuple()
        .all(db)
        .await?;
    let mut sessions = std::collections::HashMap::new();
    for (family, revoked_at) in rows {
        if let Some(at) = revoked_at {
            let latest = sessions.entry(family).or_insert(at);
            if at > *latest {
                *latest = at;
            }
        }
    }
    Ok(sessions)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims_at(at: DateTime<Utc>) -> Claims {
        Claims {
            sub: Uuid::now_v7(),
            tid: Uuid::now_v7(),
            sid: Uuid::now_v7(),
            role: "agent".into(),
            scopes: Vec::new(),
            jti: token_id(at),
            iat: at.timestamp(),
            nbf: at.timestamp(),
            exp: at.timestamp() + 900,
            iss: super::super::jwt::ISSUER.into(),
            email: "agent@partner.example".into(),
            name: "Agent".into(),
        }
    }

    fn list(max_age: Option<Duration>) -> (Revocations, Clock) {
        let clock = Clock::system();
        let list = Revocations::new(
            clock.clone(),
            EventBus::in_process(),
            Duration::from_secs(900),
            max_age,
        );
        (list, clock)
    }

    #[test]
    fn markers_refuse_tokens_issued_before_them_only() {
        let (list, clock) = list(None);
        let before = claims_at(clock.now() - chrono::Duration::seconds(5));
        let mut after = claims_at(clock.now() + chrono::Duration::seconds(5));
        after.sub = before.sub;
        after.tid = before.tid;
        list.revoke_user(before.sub);
        assert_eq!(
            list.check(&before).unwrap_err().code(),
            ErrorCode::TokenRevoked
        );
        assert!(list.check(&after).is_ok());
        list.revoke_tenants(&[before.tid]);
        let mut other_user = claims_at(clock.now() - chrono::Duration::seconds(5));
        other_user.tid = before.tid;
        assert_eq!(
            list.check(&other_user).unwrap_err().code(),
            ErrorCode::TenantSuspended
        );
        assert!(list.check(&after).is_ok());
    }

    #[test]
    fn a_denied_token_or_ended_session_is_refused_and_applying_twice_changes_nothing() {
        let (list, clock) = list(None);
        let claims = claims_at(clock.now());
        list.deny_token(&claims);
        list.apply(&Revocation::Token {
            id: claims.jti,
            until: 0,
        });
        assert_eq!(
            list.check(&claims).unwrap_err().code(),
            ErrorCode::TokenRevoked
        );
        let mut same_session = claims_at(clock.now() + chrono::Duration::seconds(1));
        same_session.sid = claims.sid;
        assert!(list.check(&same_session).is_ok());
        list.end_session(claims.sid);
        assert_eq!(
            list.check(&same_session).unwrap_err().code(),
            ErrorCode::TokenRevoked
        );
    }

    #[test]
    fn a_shared_copy_never_completed_fails_closed_and_a_single_nodes_never_does() {
        let (shared, clock) = list(Some(Duration::from_secs(30)));
        let claims = claims_at(clock.now());
        assert!(shared.is_stale());
        assert_eq!(
            shared.check(&claims).unwrap_err().code(),
            ErrorCode::DependencyUnavailable
        );
        shared.synced_at.store(1, Ordering::Release);
        assert!(!shared.is_stale());
        assert!(shared.check(&claims).is_ok());
        let (single, _) = list(None);
        assert!(!single.is_stale());
        assert!(single.check(&claims).is_ok());
    }

    #[test]
    fn a_token_id_carries_its_issue_time_to_the_millisecond() {
        let at = DateTime::from_timestamp_millis(1_764_000_000_123).unwrap();
        assert_eq!(issued_millis(&claims_at(at)), 1_764_000_000_123);
    }

    #[test]
    fn revocations_travel_as_tagged_json() {
        let revocation = Revocation::Users {
            ids: vec![Uuid::nil()],
            at: 1,
            until: 2,
        };
        let json = serde_json::to_value(&revocation).unwrap();
        assert_eq!(json["revoked"], "users");
        assert_eq!(
            serde_json::from_value::<Revocation>(json).unwrap(),
            revocation
        );
    }
}
