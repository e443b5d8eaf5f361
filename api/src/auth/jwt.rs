//! Access tokens: HS256 JWTs signed with the deployment's current key and verified with any key
//! that is current or was retired less than one token lifetime ago.
#![allow(clippy::disallowed_methods)] // signing keys are deployment-wide, not tenant-owned

use anyhow::Context;
use chrono::Utc;
use entity::signing_key;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::Rng;
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The issuer written into and required from every token.
pub const ISSUER: &str = "helpdesk";

/// The claims of an access token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id.
    pub sub: Uuid,
    /// The user's tenant.
    pub tid: Uuid,
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
    /// Malformed, wrongly signed, wrong algorithm or issuer.
    Invalid,
}

struct Keys {
    current_kid: String,
    current: EncodingKey,
    verifying: HashMap<String, DecodingKey>,
}

/// The signing keys of the deployment, reloaded from the database after a rotation.
pub struct KeyRing {
    keys: RwLock<Keys>,
    last_reload: Mutex<Option<Instant>>,
    access_ttl: Duration,
    validation: Validation,
}

impl KeyRing {
    /// Loads the keys, creating the first one on a fresh database.
    ///
    /// # Errors
    /// Fails when the database does.
    pub async fn load(db: &impl ConnectionTrait, access_ttl: Duration) -> anyhow::Result<Self> {
        let keys = read_keys(db, access_ttl).await?;
        let keys = match keys {
            Some(keys) => keys,
            None => {
                insert_key(db).await?;
                read_keys(db, access_ttl)
                    .await?
                    .context("no signing key after creating one")?
            }
        };
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "sub", "iss"]);
        validation.validate_nbf = true;
        validation.leeway = 5;
        Ok(Self {
            keys: RwLock::new(keys),
            last_reload: Mutex::new(None),
            access_ttl,
            validation,
        })
    }

    /// Signs claims with the current key, naming it in the `kid` header.
    ///
    /// # Errors
    /// Fails only if serialisation fails.
    pub fn sign(&self, claims: &Claims) -> anyhow::Result<String> {
        let keys = self
            .keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(keys.current_kid.clone());
        Ok(jsonwebtoken::encode(&header, claims, &keys.current)?)
    }

    /// Verifies a token's header, signature and time claims.
    ///
    /// # Errors
    /// Names why the token is refused.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        if header.alg != Algorithm::HS256 {
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
    /// Fails when the database does.
    pub async fn reload(&self, db: &impl ConnectionTrait) -> anyhow::Result<()> {
        if let Some(keys) = read_keys(db, self.access_ttl).await? {
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
                sea_orm::sea_query::Expr::value(Utc::now()),
            )
            .filter(signing_key::Column::RetiredAt.is_null())
            .exec(db)
            .await?;
        let kid = insert_key(db).await?;
        self.reload(db).await?;
        Ok(kid)
    }

    /// How long an access token lives.
    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }
}

async fn insert_key(db: &impl ConnectionTrait) -> anyhow::Result<String> {
    let secret: [u8; 32] = rand::rng().random();
    let kid = Uuid::now_v7().simple().to_string();
    signing_key::ActiveModel {
        kid: Set(kid.clone()),
        secret: Set(hex::encode(secret)),
        created_at: Set(Utc::now()),
        retired_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(kid)
}

async fn read_keys(
    db: &impl ConnectionTrait,
    access_ttl: Duration,
) -> anyhow::Result<Option<Keys>> {
    let oldest_useful =
        Utc::now() - chrono::Duration::from_std(access_ttl)? - chrono::Duration::seconds(60);
    let rows = signing_key::Entity::find()
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
    let current_secret = hex::decode(&current.secret).context("signing key is not hex")?;
    let mut verifying = HashMap::new();
    for row in &rows {
        let secret = hex::decode(&row.secret).context("signing key is not hex")?;
        verifying.insert(row.kid.clone(), DecodingKey::from_secret(&secret));
    }
    Ok(Some(Keys {
        current_kid: current.kid.clone(),
        current: EncodingKey::from_secret(&current_secret),
        verifying,
    }))
}
