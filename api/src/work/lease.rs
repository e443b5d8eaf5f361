//! Leases and retries.
//!
//! A worker claims a row by writing a lease on it: an expiry (`lease_until`) and a fresh token.
//! Claiming is a conditional UPDATE that only matches rows nobody holds (or whose lease ran
//! out); on PostgreSQL the candidates are picked `FOR UPDATE SKIP LOCKED`, so workers on many
//! nodes take disjoint rows without waiting on each other, and on SQLite, whose writers are
//! serialised, the conditional UPDATE alone decides. Every later write of the worker (renewing,
//! recording an outcome) matches the token too: a node that lost its lease (it stalled past the
//! expiry and another node took the row) writes nothing, which is the fencing.
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use rand::Rng;
use uuid::Uuid;

/// A worker's hold on a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lease {
    /// The fencing token written with the claim.
    pub token: Uuid,
    /// When the hold runs out.
    pub until: DateTime<Utc>,
}

impl Lease {
    /// A new lease from `now` for `secs` seconds.
    pub fn new(now: DateTime<Utc>, secs: u64) -> Self {
        Self {
            token: Uuid::now_v7(),
            until: lease_until(now, secs),
        }
    }
}

/// The end of a lease of `secs` seconds from `now`, to the millisecond so that it compares
/// equal after a round trip through either database.
pub fn lease_until(now: DateTime<Utc>, secs: u64) -> DateTime<Utc> {
    let until = now + TimeDelta::seconds(i64::try_from(secs).unwrap_or(30));
    until
        .duration_trunc(TimeDelta::milliseconds(1))
        .unwrap_or(until)
}

/// Exponential back-off with jitter: the wait before attempt `n + 1` after `n` failed ones is
/// `base * 2^(n-1)`, capped at `max`, and then drawn uniformly between half of it and all of
/// it, so that rows which failed together (a provider's outage) do not all retry at once.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    /// The first wait.
    pub base: TimeDelta,
    /// The longest wait.
    pub max: TimeDelta,
}

impl Backoff {
    /// A back-off from settings given in seconds.
    pub fn from_secs(base: u64, max: u64) -> Self {
        let secs = |s: u64| {
            TimeDelta::try_seconds(i64::try_from(s).unwrap_or(i64::MAX)).unwrap_or(TimeDelta::MAX)
        };
        Self {
            base: secs(base),
            max: secs(max),
        }
    }

    /// The wait after `failed` attempts (at least 1), before jitter.
    pub fn ceiling(&self, failed: i32) -> TimeDelta {
        let exponent = u32::try_from(failed.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        let factor = 1_i64.checked_shl(exponent).unwrap_or(i64::MAX);
        let wait = self.base.num_milliseconds().saturating_mul(factor);
        TimeDelta::milliseconds(wait.min(self.max.num_milliseconds()))
    }

    /// When the next attempt is due after `failed` attempts, from `now`, with jitter.
    pub fn next_attempt(&self, now: DateTime<Utc>, failed: i32) -> DateTime<Utc> {
        let ceiling = self.ceiling(failed).num_milliseconds().max(1);
        let wait = rand::rng().random_range(ceiling / 2..=ceiling);
        lease_until(now + TimeDelta::milliseconds(wait), 0)
    }
}

/// Most characters of an error a row keeps.
pub const LAST_ERROR_CHARS: usize = 1000;

/// The text of an error as a row keeps it (`last_error`): its first [`LAST_ERROR_CHARS`]
/// characters, whole characters only.
pub fn last_error(err: &impl std::fmt::Display) -> String {
    let text = format!("{err:#}");
    match text.char_indices().nth(LAST_ERROR_CHARS) {
        Some((end, _)) => text[..end].to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backoff() -> Backoff {
        Backoff {
            base: TimeDelta::seconds(10),
            max: TimeDelta::seconds(3600),
        }
    }

    #[test]
    fn waits_double_up_to_the_cap() {
        let b = backoff();
        let secs: Vec<i64> = (1..=11).map(|n| b.ceiling(n).num_seconds()).collect();
        assert_eq!(
            secs,
            [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
        );
        // Absurd attempt counts neither overflow nor go negative.
        assert_eq!(b.ceiling(i32::MAX).num_seconds(), 3600);
        assert_eq!(b.ceiling(0).num_seconds(), 10);
    }

    #[test]
    fn jitter_stays_between_half_and_all_of_the_wait() {
        let b = backoff();
        let now = Utc::now();
        for failed in 1..6 {
            let ceiling = b.ceiling(failed);
            for _ in 0..50 {
                let wait = b.next_attempt(now, failed) - now;
                assert!(
                    wait <= ceiling + TimeDelta::milliseconds(1),
                    "{wait} > {ceiling}"
                );
                assert!(
                    wait >= ceiling / 2 - TimeDelta::milliseconds(1),
                    "{wait} < half {ceiling}"
                );
            }
        }
    }

    #[test]
    fn a_kept_error_is_bounded_to_whole_characters() {
        let long = "é".repeat(LAST_ERROR_CHARS + 10);
        let kept = last_error(&long);
        assert_eq!(kept.chars().count(), LAST_ERROR_CHARS);
        assert!(kept.chars().all(|c| c == 'é'));
        assert_eq!(last_error(&"short"), "short");
    }
}
