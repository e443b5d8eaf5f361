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
    /// Turns of logins: twice the hashing threads at once.
    turns: tokio::sync::Semaphore,
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
            turns: tokio::sync::Semaphore::new(threads.max(1) * 2),
        })
    }

    /// Waits for a login's turn. Logins are bounded by the hashing threads anyway; letting
    /// more of them on than the threads can serve only has them hold the database's
    /// connections while they queue for a thread, and under a storm of logins on a starved CPU
    /// other requests then miss the pool's acquire deadline. The rest wait here, holding
    /// nothing; a login keeps its turn until it has answered.
    ///
    /// # Errors
    /// Never in practice: the semaphore is not closed while the hasher lives.
    pub async fn turn(&self) -> anyhow::Result<tokio::sync::SemaphorePermit<'_>> {
        self.turns
            .acquire()
            .await
            .context("the password hashing turns are closed")
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

impl PasswordHasher {
    /// Verifies a password against each of several stored hashes in one trip to a hashing
    /// thread: always `stored.len()` verifications, a dummy hash standing in for each `None`,
    /// so the time taken says nothing about which accounts exist. Returns which matched.
    ///
    /// # Errors
    /// Fails if the hashing thread is gone.
    pub async fn verify_each(
        &self,
        password: SecretString,
        stored: Vec<Option<String>>,
    ) -> anyhow::Result<Vec<bool>> {
        let dummy = self.dummy_hash.clone();
        self.run(move || {
            stored
                .into_iter()
                .map(|stored| {
                    let known = stored.is_some();
                    let hash = stored.unwrap_or_else(|| dummy.clone());
                    // Verified before looking at `known`, so a dummy costs a full verification.
                    let matched = verify_with(password.expose_secret().as_bytes(), &hash);
                    known && matched
                })
                .collect()
        })
        .await
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

/// The problem code of a password refused as too easy to guess.
pub const WEAK_PASSWORD: crate::error::ErrorCode = crate::error::ErrorCode::WeakPassword;

/// The lowest strength score accepted (zxcvbn: 3 = "safely unguessable", about 10^8 guesses
/// or more; 0-2 are common words, names, dates, keyboard rows and their simple variants).
const MINIMUM_SCORE: zxcvbn::Score = zxcvbn::Score::Three;

/// Checks a new password: 10 to 128 characters and not easy to guess, also considering what is
/// known about its owner (`user_inputs`: e-mail, name). The password is never logged.
///
/// # Errors
/// A 422 naming `field`: `validation_failed` for the length, `weak_password` with the
/// estimator's warning and suggestions when it is too guessable.
pub fn validate_password(
    field: &'static str,
    password: &SecretString,
    user_inputs: &[&str],
) -> Result<(), crate::error::ApiError> {
    let password = password.expose_secret();
    let length = password.chars().count();
    if !(10..=128).contains(&length) {
        return Err(crate::error::ApiError::invalid(
            field,
            "must be 10 to 128 characters",
        ));
    }
    match weakness(password, user_inputs) {
        None => Ok(()),
        Some(reason) => Err(crate::error::ApiError::Validation {
            code: WEAK_PASSWORD,
            detail: format!("{field}: {reason}"),
            errors: vec![crate::error::FieldError {
                field: field.into(),
                message: reason,
            }],
        }),
    }
}

/// Why `password` is too easy to guess, or `None` when it is strong enough.
pub fn weakness(password: &str, user_inputs: &[&str]) -> Option<String> {
    // The e-mail's local part and domain words count as what an attacker knows too.
    let mut inputs: Vec<&str> = Vec::with_capacity(user_inputs.len() * 3);
    for input in user_inputs {
        inputs.push(input);
        inputs.extend(
            input
                .split(|c: char| !c.is_alphanumeric())
                .filter(|part| part.chars().count() >= 3),
        );
    }
    let estimate = zxcvbn::zxcvbn(password, &inputs);
    if estimate.score() >= MINIMUM_SCORE {
        return None;
    }
    let mut reason = String::from("too easy to guess.");
    if let Some(feedback) = estimate.feedback() {
        if let Some(warning) = feedback.warning() {
            reason.push(' ');
            reason.push_str(&warning.to_string());
        }
        for suggestion in feedback.suggestions() {
            reason.push(' ');
            reason.push_str(&suggestion.to_string());
        }
    }
    if estimate
        .feedback()
        .is_none_or(|f| f.suggestions().is_empty())
    {
        reason.push_str(" Add another word or two; uncommon words are better.");
    }
    Some(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_and_personal_passwords_are_too_weak() {
        for weak in [
            "aaaaaaaaaa",
            "password123",
            "1234567890",
            "qwertyuiop",
            "iloveyou2024",
        ] {
            assert!(weakness(weak, &[]).is_some(), "{weak} passed");
        }
        let reason = weakness("aaaaaaaaaa", &[]).unwrap_or_default();
        assert!(reason.contains("Repeats"), "{reason}");
        // Strong on its own, weak for the person it is about.
        let email = "ana.lisboa@helpdesk.example";
        assert_eq!(weakness(email, &[]), None);
        assert!(weakness(email, &[email, "Ana Lisboa"]).is_some());
        for strong in [
            "correct-horse-battery-staple-91",
            "Vq7#xL2m!pR9zT",
            "tulip sofa ginger vortex",
        ] {
            assert_eq!(weakness(strong, &[]), None, "{strong} refused");
        }
    }

    #[test]
    fn the_length_limits_still_apply() {
        let refused = validate_password("password", &SecretString::from("x7#Q"), &[]);
        assert!(matches!(
            refused,
            Err(crate::error::ApiError::Validation {
                code: crate::error::ErrorCode::ValidationFailed,
                ..
            })
        ));
        let weak = validate_password("password", &SecretString::from("aaaaaaaaaa"), &[]);
        assert!(matches!(
            weak,
            Err(crate::error::ApiError::Validation {
                code: WEAK_PASSWORD,
                ..
            })
        ));
    }

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
