//! Password hashing with argon2id on a small dedicated thread pool: logins are bounded by the
//! hashing cost and never starve other requests, memory stays bounded (each hashing thread
//! keeps one 19 MiB working area, however many logins arrive), and unknown users cost the same
//! as wrong passwords.
use anyhow::Context;
use argon2::password_hash::PasswordHasher as _;
use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use std::cell::RefCell;
use tokio::sync::oneshot;

/// Hashes and verifies passwords.
pub struct PasswordHasher {
    params: Params,
    pool: rayon::ThreadPool,
    dummy_hash: String,
}

impl PasswordHasher {
    /// A hasher with argon2id parameters `memory_kib`/`iterations` on `threads` hashing threads.
    ///
    /// # Errors
    /// Fails for parameters argon2 refuses or when the threads cannot be started.
    pub fn new(memory_kib: u32, iterations: u32, threads: usize) -> anyhow::Result<Self> {
        let params = Params::new(memory_kib, iterations, 1, None)
            .map_err(|e| anyhow::anyhow!("argon2 params: {e}"))?;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .thread_name(|n| format!("password-hash-{n}"))
            .build()
            .context("starting the password hashing threads")?;
        // Hashed on the pool, so the working area is the one the hashing threads keep anyway.
        let dummy_hash = pool.install(|| hash_with(&params, "a password nobody has"))?;
        Ok(Self {
            params,
            pool,
            dummy_hash,
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let (done, result) = oneshot::channel();
        self.pool.spawn(move || {
            // The receiver is gone only if the request was dropped; nothing to report then.
            let _ = done.send(work());
        });
        result.await.context("the password hashing thread stopped")
    }

    /// Hashes a password into a PHC string.
    ///
    /// # Errors
    /// Fails if argon2 fails.
    pub async fn hash(&self, password: SecretString) -> anyhow::Result<String> {
        let params = self.params.clone();
        self.run(move || hash_with(&params, password.expose_secret()))
            .await?
    }

    /// Verifies a password against a stored hash; with no stored hash (an unknown user) a dummy
    /// hash is verified instead so both cases take the same time. Returns whether it matched.
    ///
    /// # Errors
    /// Fails if the hashing thread is gone.
    pub async fn verify(
        &self,
        password: SecretString,
        stored: Option<String>,
    ) -> anyhow::Result<bool> {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| self.dummy_hash.clone());
        let matched = self
            .run(move || verify_with(password.expose_secret().as_bytes(), &stored))
            .await?;
        Ok(known && matched)
    }
}

thread_local! {
    /// The working area of this hashing thread, reused by every verification: allocating
    /// 19 MiB per login fragments the allocator's arenas and keeps several copies resident.
    static WORKING_AREA: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Verifies `password` against a PHC string in this thread's reusable working area; the
/// comparison of the outputs is constant-time.
fn verify_with(password: &[u8], stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else {
        return false;
    };
    let Ok(version) = parsed.version.map_or(Ok(Version::V0x13), Version::try_from) else {
        return false;
    };
    let blocks = params.block_count();
    let argon = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.as_bytes().len()];
    let computed = WORKING_AREA.with(|area| {
        let mut area = area.borrow_mut();
        if area.len() < blocks {
            area.resize(blocks, Block::default());
        }
        argon
            .hash_password_into_with_memory(password, salt, &mut out, &mut area[..blocks])
            .is_ok()
    });
    computed
        && argon2::password_hash::phc::Output::new(&out).is_ok_and(|output| output == *expected)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reused_working_area_verifies_like_a_fresh_one() -> anyhow::Result<()> {
        let small = Params::new(256, 2, 1, None).map_err(|e| anyhow::anyhow!("{e}"))?;
        let owasp = Params::new(19_456, 2, 1, None).map_err(|e| anyhow::anyhow!("{e}"))?;
        let small_hash = hash_with(&small, "first password")?;
        let owasp_hash = hash_with(&owasp, "second password")?;
        // Alternate sizes and outcomes so the same area is reused, grown and reused again.
        assert!(verify_with(b"first password", &small_hash));
        assert!(!verify_with(b"second password", &small_hash));
        assert!(verify_with(b"second password", &owasp_hash));
        assert!(verify_with(b"first password", &small_hash));
        assert!(!verify_with(b"first password", &owasp_hash));
        assert!(!verify_with(b"first password", "not a phc string"));
        assert!(!verify_with(
            b"first password",
            "$argon2id$v=19$m=256,t=2,p=1$c2FsdHNhbHQ"
        ));
        Ok(())
    }
}
