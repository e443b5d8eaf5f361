//! The one clock the service reads the time from.
//!
//! In production it is the system clock. Tests move it (forward past an expiry, or to a fixed
//! instant) instead of sleeping, and everything that reads the time through it (token expiry,
//! refresh and reset tokens, upload sweeping, job leases) follows.
use chrono::{DateTime, TimeDelta, Utc};
use std::sync::{Arc, PoisonError, RwLock};

/// A clock shared by everything in one server (cheap to clone: clones read the same time).
#[derive(Clone, Debug, Default)]
pub struct Clock(Arc<RwLock<Mode>>);

#[derive(Clone, Copy, Debug)]
enum Mode {
    /// The system time moved by an offset (zero in production).
    Running(TimeDelta),
    /// The time stands still.
    Stopped(DateTime<Utc>),
}

impl Default for Mode {
    fn default() -> Self {
        Self::Running(TimeDelta::zero())
    }
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// The current time.
    pub fn now(&self) -> DateTime<Utc> {
        match *self.0.read().unwrap_or_else(PoisonError::into_inner) {
            Mode::Running(offset) => {
                let now = Utc::now();
                now.checked_add_signed(offset).unwrap_or(now)
            }
            Mode::Stopped(at) => at,
        }
    }

    /// Moves the clock by `by` (forward for a positive delta). A running clock keeps running
    /// from there; a stopped one stays stopped at the new time.
    pub fn advance(&self, by: TimeDelta) {
        let mut mode = self.0.write().unwrap_or_else(PoisonError::into_inner);
        *mode = match *mode {
            Mode::Running(offset) => Mode::Running(offset.checked_add(&by).unwrap_or(offset)),
            Mode::Stopped(at) => Mode::Stopped(at.checked_add_signed(by).unwrap_or(at)),
        };
    }

    /// Stops the clock at `at`: it reads `at` until it is moved again.
    pub fn stop_at(&self, at: DateTime<Utc>) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Mode::Stopped(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_clock_reads_the_system_time() {
        let clock = Clock::system();
        let before = Utc::now();
        let now = clock.now();
        assert!(now >= before && now <= Utc::now());
    }

    #[test]
    fn an_advanced_clock_keeps_running_from_where_it_was_moved() {
        let clock = Clock::system();
        let shared = clock.clone();
        shared.advance(TimeDelta::hours(2));
        let ahead = clock.now() - Utc::now();
        assert!(ahead > TimeDelta::minutes(119) && ahead <= TimeDelta::hours(2));
    }

    #[test]
    fn a_stopped_clock_stands_still_until_moved() {
        let clock = Clock::system();
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        clock.stop_at(at);
        assert_eq!(clock.now(), at);
        clock.advance(TimeDelta::seconds(90));
        assert_eq!(clock.now(), at + TimeDelta::seconds(90));
    }
}
