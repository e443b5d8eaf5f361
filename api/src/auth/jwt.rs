//! Access tokens: EdDSA (Ed25519) JWTs signed with the deployment's current key and verified
//! with any key that is current or was retired less than one token lifetime ago. Private keys
//! are kept sealed in the database (see [`super::key_encryption`]); public keys are published
//! as a JWK Set so integrators can verify tokens themselves.
#![allow(clippy::disallowed_methods)] // signing keys are deployment-wide, not tenant-owned

use super::key_encryption::KeyEncryptionKey;
use crate::clock::Clock;
use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use dashmap::DashMap;
use entity::signing_key;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::Rng;
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The issuer written into and required from every token.
pub const ISSUER: &str = "helpdesk";

/// The JWS algorithm of every access token.
pub const ALGORITHM: Algorithm = Algorithm::EdDSA;

/// Its name in `signing_keys.algorithm` and in the JWK Set.
const ALGORITHM_NAME: &str = "EdDSA";

/// Clock skew allowed on `exp` and `nbf`.
const CLOCK_LEEWAY_SECS: u64 = 5;

/// How much longer than the configured access-token lifetime a token may claim to live
/// (clock skew between nodes); anything longer was not issued by this deployment's rules.
pub const LIFETIME_LEEWAY_SECS: i64 = 60;

/// Most verified tokens remembered per node (about 1 KB each).
const VERIFIED_CAPACITY: usize = 10_000;

/// The DER prefix of a PKCS#8 v1 Ed25519 private key; the 32-byte seed follows it.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// The claims of an access token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id.
    pub sub: Uuid,
    /// The user's tenant.
    pub tid: Uuid,
    /// The session (refresh-token family) this token was issued in.
    pub sid: Uuid,
    /// The user's role.
    pub role: String,
    /// Permission scopes.
    pub scopes: Vec<String>,
    /// Token id (a UUIDv7, so it also carries the issue time in milliseconds).
    pub jti: Uuid,
    /// Issued at (seconds).
    pub iat: i64,
    /// Not valid before (seconds).
    pub nbf: i64,
    /// Expires at (seconds).
    pub exp: i64,
    /// Issuer.
    pub iss: String,
    /// The user's e-mail at issue time.
    pub email: String,
    /// The user's name at issue time.
    pub name: String,
}

/// Why a token was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum TokenError {
    /// Past `exp`.
    Expired,
    /// Before `nbf`.
    NotYetValid,
    /// Its `kid` names no usable key.
    UnknownKey,
    /// It claims to live longer than this deployment issues tokens for.
    LifetimeTooLong,
    /// Malformed, wrongly signed, wrong algorithm or issuer.
    Invalid,
}

/// A published verification key (the members of its JWK that vary).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    /// Key id, the `kid` of the tokens it verifies.
    pub kid: String,
    /// The Ed25519 public key, base64url without padding.
    pub x: String,
}

struct Keys {
    current_kid: String,
    current: EncodingKey,
    verifying: HashMap<String, DecodingKey>,
    published: Vec<PublicKey>,
}

/// The signing keys of the deployment, reloaded from the database after a rotation.
pub struct KeyRing {
    keys: RwLock<Keys>,
    kek: std::sync::Arc<KeyEncryptionKey>,
    last_reload: Mutex<Option<Instant>>,
    access_ttl: Duration,
    validation: Validation,
    /// Tokens whose signature and claims were checked on this node, by their exact text:
    /// an Ed25519 verification costs tens of microseconds, a lookup well under one.
    verified: DashMap<Box<str>, Claims>,
    /// Where `exp` and `nbf` are compared with.
    clock: Clock,
}

impl KeyRing {
    /// Loads the keys, creating the first one on a fresh database.
    ///
    /// # Errors
    /// Fails when the database does, or when a key cannot be opened with `kek`.
    pub async fn load(
        db: &impl ConnectionTrait,
        access_ttl: Duration,
        kek: std::sync::Arc<KeyEncryptionKey>,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        let keys = match read_keys(db, access_ttl, &kek, clock.now()).await? {
            Some(keys) => keys,
            None => {
                insert_key(db, &kek, clock.now()).await?;
                read_keys(db, access_ttl, &kek, clock.now())
                    .await?
                    .context("no signing key after creating one")?
            }
        };
        let mut validation = Validation::new(ALGORITHM);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "sub", "iss"]);
        // The time claims are compared with the service's clock below, not the system's.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        Ok(Self {
            keys: RwLock::new(keys),
            kek,
            last_reload: Mutex::new(None),
            access_ttl,
            validation,
            verified: DashMap::new(),
            clock,
        })
    }

    /// Signs claims with the current key, naming it in the `kid` header.
    ///
    /// # Errors
    /// Fails only if serialisation or signing fails.
    pub fn sign(&self, claims: &Claims) -> anyhow::Result<String> {
        let keys = self
            .keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut header = Header::new(ALGORITHM);
        header.kid = Some(keys.current_kid.clone());
        Ok(jsonwebtoken::encode(&header, claims, &keys.current)?)
    }

    /// Verifies a token's header, signature, time claims and lifetime.
    ///
    /// # Errors
    /// Names why the token is refused.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let now = self.clock.now().timestamp();
        if let Some(claims) = self.verified.get(token).map(|entry| entry.value().clone()) {
            if now > claims.exp.saturating_add(leeway()) {
                self.verified.remove(token);
                return Err(TokenError::Expired);
            }
            return Ok(claims);
        }
        let claims = self.verify_signature(token)?;
        if now > claims.exp.saturating_add(leeway()) {
            return Err(TokenError::Expired);
        }
        if now < claims.nbf.saturating_sub(leeway()) {
            return Err(TokenError::NotYetValid);
        }
        check_lifetime(&claims, now, self.access_ttl)?;
        self.remember(token, &claims, now);
        Ok(claims)
    }

    fn verify_signature(&self, token: &str) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        if header.alg != ALGORITHM {
            return Err(TokenError::Invalid);
        }
        let kid = header.kid.ok_or(TokenError::UnknownKey)?;
        let keys = self
            .keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let key = keys.verifying.get(&kid).ok_or(TokenError::UnknownKey)?;
        jsonwebtoken::decode::<Claims>(token, key, &self.validation)
            .map(|data| data.claims)
            .map_err(|err| {
                use jsonwebtoken::errors::ErrorKind;
                match err.kind() {
                    ErrorKind::ExpiredSignature => TokenError::Expired,
                    ErrorKind::ImmatureSignature => TokenError::NotYetValid,
                    _ => TokenError::Invalid,
                }
            })
    }

    /// Keeps a verified token for its remaining life, within a bounded memory: when full,
    /// expired tokens go first, and everything goes if that is not enough.
    fn remember(&self, token: &str, claims: &Claims, now: i64) {
        if self.verified.len() >= VERIFIED_CAPACITY {
            self.verified
                .retain(|_, kept| now <= kept.exp.saturating_add(leeway()));
            if self.verified.len() >= VERIFIED_CAPACITY {
                self.verified.clear();
            }
        }
        self.verified.insert(token.into(), claims.clone());
    }

    /// Re-reads the keys after meeting an unknown key id (another node may have rotated), at
    /// most four times a second so forged key ids cannot flood the database.
    ///
    /// # Errors
    /// Fails when the database does.
    pub async fn reload_if_stale(&self, db: &impl ConnectionTrait) -> anyhow::Result<bool> {
        {
            let mut last = self
                .last_reload
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if last.is_some_and(|at| at.elapsed() < Duration::from_millis(250)) {
                return Ok(false);
            }
            *last = Some(Instant::now());
        }
        self.reload(db).await?;
        Ok(true)
    }

    /// Re-reads the keys now.
    ///
    /// # Errors
    /// Fails when the database does or the current key cannot be opened.
    pub async fn reload(&self, db: &impl ConnectionTrait) -> anyhow::Result<()> {
        if let Some(keys) = read_keys(db, self.access_ttl, &self.kek, self.clock.now()).await? {
            *self
                .keys
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = keys;
        }
        Ok(())
    }

    /// Retires the current key and starts signing with a new one; returns the new key id.
    ///
    /// # Errors
    /// Fails when the database does.
    pub async fn rotate(&self, db: &impl ConnectionTrait) -> anyhow::Result<String> {
        signing_key::Entity::update_many()
            .col_expr(
                signing_key::Column::RetiredAt,
                sea_orm::sea_query::Expr::value(self.clock.now()),
            )
            .filter(signing_key::Column::RetiredAt.is_null())
            .exec(db)
            .await?;
        let kid = insert_key(db, &self.kek, self.clock.now()).await?;
        self.reload(db).await?;
        Ok(kid)
    }

    /// The public keys that verify tokens still alive: the current key first, then retired
    /// keys whose tokens may not have expired yet.
    pub fn public_keys(&self) -> Vec<PublicKey> {
        self.keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .published
            .clone()
    }

    /// How long an access token lives.
    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }
}

fn leeway() -> i64 {
    i64::try_from(CLOCK_LEEWAY_SECS).unwrap_or(5)
}

/// Refuses a token that claims to live longer than this deployment issues tokens for, from its
/// issue time or from now: a signed `exp` far in the future is a token nobody should trust.
///
/// # Errors
/// [`TokenError::LifetimeTooLong`].
pub fn check_lifetime(claims: &Claims, now: i64, access_ttl: Duration) -> Result<(), TokenError> {
    let longest = i64::try_from(access_ttl.as_secs())
        .unwrap_or(i64::MAX)
        .saturating_add(LIFETIME_LEEWAY_SECS);
    let from_issue = claims.exp.saturating_sub(claims.iat);
    let from_now = claims.exp.saturating_sub(now);
    if from_issue > longest || from_now > longest {
        Err(TokenError::LifetimeTooLong)
    } else {
        Ok(())
    }
}

async fn insert_key(
    db: &impl ConnectionTrait,
    kek: &KeyEncryptionKey,
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    let seed: [u8; 32] = rand::rng().random();
    let public = ed25519_dalek::SigningKey::from_bytes(&seed)
        .verifying_key()
        .to_bytes();
    let kid = Uuid::now_v7().simple().to_string();
    signing_key::ActiveModel {
        kid: Set(kid.clone()),
        algorithm: Set(ALGORITHM_NAME.to_owned()),
        public_key: Set(URL_SAFE_NO_PAD.encode(public)),
        private_key: Set(kek.seal(&kid, &seed)?),
        created_at: Set(now),
        retired_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(kid)
}

async fn read_keys(
    db: &impl ConnectionTrait,
    access_ttl: Duration,
    kek: &KeyEncryptionKey,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Keys>> {
    let oldest_useful = now
        - chrono::Duration::from_std(access_ttl)?
        - chrono::Duration::seconds(LIFETIME_LEEWAY_SECS);
    let rows = signing_key::Entity::find()
        .filter(signing_key::Column::Algorithm.eq(ALGORITHM_NAME))
        .filter(
            signing_key::Column::RetiredAt
                .is_null()
                .or(signing_key::Column::RetiredAt.gt(oldest_useful)),
        )
        .order_by_desc(signing_key::Column::CreatedAt)
        .all(db)
        .await?;
    let Some(current) = rows.iter().find(|row| row.retired_at.is_none()) else {
        return Ok(None);
    };
    let seed = kek.open(&current.kid, &current.private_key)?;
    let mut der = ED25519_PKCS8_PREFIX.to_vec();
    der.extend_from_slice(seed.expose_secret());
    let mut verifying = HashMap::new();
    let mut published = Vec::new();
    for row in &rows {
        let key = DecodingKey::from_ed_components(&row.public_key)
            .with_context(|| format!("public key of signing key {} is malformed", row.kid))?;
        verifying.insert(row.kid.clone(), key);
        published.push(PublicKey {
            kid: row.kid.clone(),
            x: row.public_key.clone(),
        });
    }
    // The current key first: it is the one new tokens name.
    published.sort_by_key(|key| key.kid != current.kid);
    let current_key = EncodingKey::from_ed_der(&der);
    // The DER copy holds the private key: wipe it rather than leave it in freed memory.
    der.fill(0);
    Ok(Some(Keys {
        current_kid: current.kid.clone(),
        current: current_key,
        verifying,
        published,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use migration::MigratorTrait;

    async fn ring(access_ttl: Duration) -> anyhow::Result<(sea_orm::DatabaseConnection, KeyRing)> {
        // One connection: each connection to `sqlite::memory:` is a database of its own.
        let mut options = sea_orm::ConnectOptions::new("sqlite::memory:");
        options.max_connections(1).sqlx_logging(false);
        let db = sea_orm::Database::connect(options).await?;
        migration::Migrator::up(&db, None).await?;
        let ring = KeyRing::load(
            &db,
            access_ttl,
            std::sync::Arc::new(KeyEncryptionKey::from_bytes([3; 32])),
            Clock::system(),
        )
        .await?;
        Ok((db, ring))
    }

    fn claims(iat: i64, exp: i64) -> Claims {
        Claims {
            sub: Uuid::now_v7(),
            tid: Uuid::now_v7(),
            sid: Uuid::now_v7(),
            role: "agent".into(),
            scopes: vec!["tickets:read".into()],
            jti: Uuid::now_v7(),
            iat,
            nbf: iat,
            exp,
            iss: ISSUER.into(),
            email: "agent@example.test".into(),
            name: "Agent".into(),
        }
    }

    #[tokio::test]
    async fn tokens_claiming_a_longer_life_than_issued_are_refused() -> anyhow::Result<()> {
        let (_db, ring) = ring(Duration::from_secs(900)).await?;
        let now = Utc::now().timestamp();
        let normal = ring.sign(&claims(now, now + 900))?;
        assert!(ring.verify(&normal).is_ok());
        // Signed with the real key, but living until the year 5138.
        let far = ring.sign(&claims(now, 99_999_999_999))?;
        assert_eq!(ring.verify(&far).err(), Some(TokenError::LifetimeTooLong));
        // Backdated issue time cannot hide a long life from now on either.
        let backdated = ring.sign(&claims(now - 3600, now + 7200))?;
        assert_eq!(
            ring.verify(&backdated).err(),
            Some(TokenError::LifetimeTooLong)
        );
        // A long-lived token is never remembered as verified: asking again refuses it again.
        assert_eq!(ring.verify(&far).err(), Some(TokenError::LifetimeTooLong));
        // Within the leeway is fine.
        let skewed = ring.sign(&claims(now, now + 900 + LIFETIME_LEEWAY_SECS))?;
        assert!(ring.verify(&skewed).is_ok());
        Ok(())
    }

    #[tokio::test]
    async fn the_database_holds_the_private_key_sealed_and_rotation_keeps_old_tokens()
    -> anyhow::Result<()> {
        let (db, ring) = ring(Duration::from_secs(900)).await?;
        let now = Utc::now().timestamp();
        let before = ring.sign(&claims(now, now + 900))?;
        let rows = signing_key::Entity::find().all(&db).await?;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].algorithm, "EdDSA");
        assert!(rows[0].private_key.starts_with("xc20p1:"));
        let new_kid = ring.rotate(&db).await?;
        let after = ring.sign(&claims(now, now + 900))?;
        assert!(ring.verify(&before).is_ok());
        assert!(ring.verify(&after).is_ok());
        let published = ring.public_keys();
        assert_eq!(published.len(), 2);
        assert_eq!(published[0].kid, new_kid);
        // Another KEK cannot open the keys: a node with the wrong key refuses to start.
        assert!(
            KeyRing::load(
                &db,
                Duration::from_secs(900),
                std::sync::Arc::new(KeyEncryptionKey::from_bytes([4; 32])),
                Clock::system(),
            )
            .await
            .is_err()
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_remembered_token_still_expires() -> anyhow::Result<()> {
        let (_db, ring) = ring(Duration::from_secs(900)).await?;
        let now = Utc::now().timestamp();
        let token = ring.sign(&claims(now - 800, now - 10))?;
        assert_eq!(ring.verify(&token).err(), Some(TokenError::Expired));
        let short = claims(now, now + 900);
        let token = ring.sign(&short)?;
        assert!(ring.verify(&token).is_ok());
        // Pretend the remembered copy has run out.
        if let Some(mut entry) = ring.verified.get_mut(token.as_str()) {
            entry.exp = now - 10;
        }
        assert_eq!(ring.verify(&token).err(), Some(TokenError::Expired));
        Ok(())
    }
}
