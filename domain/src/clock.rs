//! Time as a dependency: everything that reads "now" takes a [`Clock`], so tests and the
//! sandbox can drive time instead of sleeping.

use chrono::{DateTime, Utc};

/// A source of the current instant.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
