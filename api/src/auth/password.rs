//! Password hashing with argon2id, off the async threads and with bounded parallelism so logins
//! never starve other requests; unknown users cost the same as wrong passwords.
use anyhow::Context;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Hashes and verifies passwords.
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    dummy_hash: String,
}

impl PasswordHasher {
    /// A hasher with argon2id parameters `memory_kib`/`iterations` running at most
    /// `concurrency` hashes at once.
    ///
    /// # Errors
    /// Fails for parameters argon2 refuses.
    pub fn new(memory_kib: u32, iterations: u32, concurrency: usize) -> anyhow::Result<Self> {
        let params = Params::new(memory_kib, iterations, 1, None)
            .map_err(|e| anyhow::anyhow!("argon2 params: {e}"))?;
        let dummy_hash = hash_with(&params, "a password nobody has")?;
        Ok(Self {
            params,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy_hash,
        })
    }

    /// Hashes a password into a PHC string.
    ///
    /// # Errors
    /// Fails if the blocking pool is gone or argon2 fails.
    pub async fn hash(&self, password: SecretString) -> anyhow::Result<String> {
        let _permit = self.permits.acquire().await.context("hasher closed")?;
        let params = self.params.clone();
        tokio::task::spawn_blocking(move || hash_with(&params, password.expose_secret())).await?
    }

    /// Verifies a password against a stored hash; with no stored hash (an unknown user) a dummy
    /// hash is verified instead so both cases take the same time. Returns whether it matched.
    ///
    /// # Errors
    /// Fails if the blocking pool is gone.
    pub async fn verify(
        &self,
        password: SecretString,
        stored: Option<String>,
    ) -> anyhow::Result<bool> {
        let _permit = self.permits.acquire().await.context("hasher closed")?;
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| self.dummy_hash.clone());
        let matched = tokio::task::spawn_blocking(move || {
            let Ok(parsed) = PasswordHash::new(&stored) else {
                return false;
            };
            Argon2::default()
                .verify_password(password.expose_secret().as_bytes(), &parsed)
                .is_ok()
        })
        .await?;
        Ok(known && matched)
    }
}

fn hash_with(params: &Params, password: &str) -> anyhow::Result<String> {
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let hash = argon
        .hash_password(password.as_bytes())
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
    Ok(hash.to_string())
}

/// Checks a new password: 10 to 128 characters.
///
/// # Errors
/// A 422 naming `field`.
pub fn validate_password(
    field: &'static str,
    password: &SecretString,
) -> Result<(), crate::error::ApiError> {
    let length = password.expose_secret().chars().count();
    if (10..=128).contains(&length) {
        Ok(())
    } else {
        Err(crate::error::ApiError::invalid(
            field,
            "must be 10 to 128 characters",
        ))
    }
}
