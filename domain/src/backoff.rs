//! One backoff for every background worker (the poller, the metrics worker, the scheduler):
//! a failed call waits `first`, then twice that per further consecutive failure, at most
//! `max`, and a success forgets its failures. [`Retries`] keeps that per key (a call kind,
//! an app).

use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::hash::Hash;
use std::time::Duration;

/// A doubling wait between retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failure.
    pub first: Duration,
    /// No wait is longer than this.
    pub max: Duration,
}

impl Backoff {
    pub const fn new(first: Duration, max: Duration) -> Self {
        Self { first, max }
    }

    /// The wait after `failures` consecutive failures (`first` after one; none after none).
    pub fn delay(&self, failures: u32) -> Duration {
        if failures == 0 {
            return Duration::ZERO;
        }
        let factor = 2u32.saturating_pow((failures - 1).min(16));
        self.first.saturating_mul(factor).min(self.max)
    }
}

/// A key's consecutive failures and when it may be tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    pub failures: u32,
    pub at: DateTime<Utc>,
}

/// The keys that failed, each backing off on its own.
#[derive(Debug, Clone)]
pub struct Retries<K> {
    backoff: Backoff,
    failed: HashMap<K, Retry>,
}

impl<K: Eq + Hash + Clone> Retries<K> {
    pub fn new(backoff: Backoff) -> Self {
        Self { backoff, failed: HashMap::new() }
    }

    /// Whether `key` may be tried at `now`: it never failed, or its wait is over.
    pub fn due(&self, key: &K, now: DateTime<Utc>) -> bool {
        self.failed.get(key).is_none_or(|r| now >= r.at)
    }

    /// Counts a failure of `key` at `now`; answers when it may be tried again.
    pub fn failed(&mut self, key: K, now: DateTime<Utc>) -> DateTime<Utc> {
        let failures = self.failures(&key).saturating_add(1);
        let wait = chrono::Duration::from_std(self.backoff.delay(failures)).unwrap_or(chrono::Duration::MAX);
        let at = now.checked_add_signed(wait).unwrap_or(DateTime::<Utc>::MAX_UTC);
        self.failed.insert(key, Retry { failures, at });
        at
    }

    /// Forgets `key`'s failures.
    pub fn succeeded(&mut self, key: &K) {
        self.failed.remove(key);
    }

    /// How many times in a row `key` has failed.
    pub fn failures(&self, key: &K) -> u32 {
        self.failed.get(key).map_or(0, |r| r.failures)
    }

    /// The earliest retry still ahead of `now`.
    pub fn next_after(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.failed.values().map(|r| r.at).filter(|at| *at > now).min()
    }

    /// The keys still waiting at `now`.
    pub fn waiting(&self, now: DateTime<Utc>) -> Vec<K> {
        self.failed.iter().filter(|(_, r)| r.at > now).map(|(k, _)| k.clone()).collect()
    }

    /// Keeps only the keys for which `keep` holds.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &Retry) -> bool) {
        self.failed.retain(|k, r| keep(k, r));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("instant")
    }

    #[test]
    fn waits_double_per_failure_from_the_first_and_stop_at_the_cap() {
        let s = Duration::from_secs;
        for (first, max, failures, want) in [
            (15, 600, 0, 0),
            (15, 600, 1, 15),
            (15, 600, 2, 30),
            (15, 600, 4, 120),
            (15, 600, 7, 600),
            (15, 600, u32::MAX, 600),
            (30, 300, 5, 300),
            // The cap holds even below the first wait.
            (600, 300, 1, 300),
        ] {
            assert_eq!(Backoff::new(s(first), s(max)).delay(failures), s(want), "{first}/{max} after {failures}");
        }
    }

    #[test]
    fn each_key_backs_off_on_its_own_and_a_success_forgets() {
        let mut r = Retries::new(Backoff::new(Duration::from_secs(30), Duration::from_secs(300)));
        let t0 = at("2026-12-01T09:00:00Z");
        assert!(r.due(&"tasks", t0));
        assert_eq!(r.failed("tasks", t0), at("2026-12-01T09:00:30Z"));
        assert_eq!(r.failed("tasks", t0), at("2026-12-01T09:01:00Z"));
        assert_eq!(r.failures(&"tasks"), 2);
        assert!(!r.due(&"tasks", at("2026-12-01T09:00:59Z")));
        assert!(r.due(&"tasks", at("2026-12-01T09:01:00Z")));
        assert!(r.due(&"services", t0), "another key is not held back");
        assert_eq!(r.next_after(t0), Some(at("2026-12-01T09:01:00Z")));
        assert_eq!(r.waiting(t0), vec!["tasks"]);
        r.succeeded(&"tasks");
        assert_eq!(r.failures(&"tasks"), 0);
        assert!(r.due(&"tasks", t0));
        assert_eq!(r.next_after(t0), None);
    }
}
