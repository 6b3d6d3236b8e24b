//! The scheduler: applies every app's schedule and overrides through the `Fleet` port.
//!
//! It does not poll on a fixed interval: after each pass it sleeps until the earliest
//! instant any app is due (a transition, an override's end, a retry), or until a schedule
//! changes (`Services::schedule_changed`), or until its lease needs renewing. The first
//! pass after start-up is the catch-up: each app is put in the state its schedule wants
//! now, once (see `service::schedules` for the rules).
//!
//! Two consoles on one database never both act: a pass runs only while this console holds
//! the lease row; the other keeps trying to take it, and does once it expired (the holder
//! stopped or died) or was released at shutdown.

use chrono::{DateTime, Utc};
use domain::backoff::{Backoff, Retries};
use service::schedules::{self, Pass};
use service::Services;
use std::time::Duration;
use tokio::sync::watch;

/// How long a lease lasts; the holder renews it every third of that.
pub const LEASE: Duration = Duration::from_secs(30);
/// A failed act's retries: 15 s, doubling, at most ten minutes.
const BACKOFF: Backoff = Backoff::new(Duration::from_secs(15), Duration::from_secs(600));

/// The scheduler's memory between passes: which apps failed, and when to try them again.
pub struct Scheduler {
    holder: String,
    retries: Retries<i64>,
}

impl Scheduler {
    /// `holder` names this console in the lease (unique per process).
    pub fn new(holder: impl Into<String>) -> Self {
        Self { holder: holder.into(), retries: Retries::new(BACKOFF) }
    }

    /// One pass at the clock's now; failed apps wait for their retry instant.
    pub async fn pass(&mut self, state: &Services) -> Result<Pass, service::Error> {
        let now = state.clock.now();
        let waiting = self.retries.waiting(now);
        let lease = chrono::Duration::from_std(LEASE).unwrap_or_else(|_| chrono::Duration::seconds(30));
        let (pass, outcomes) = schedules::run_once(state, &self.holder, lease, &|id| waiting.contains(&id)).await?;
        // A retry whose time came but that had nothing left to do (the app was changed,
        // deployed, deleted meanwhile) is over.
        self.retries.retain(|id, r| r.at > now || outcomes.iter().any(|(o, _)| o == id));
        for (app_id, outcome) in outcomes {
            match outcome {
                Ok(()) => self.retries.succeeded(&app_id),
                Err(_) => {
                    self.retries.failed(app_id, now);
                }
            }
        }
        Ok(pass)
    }

    /// How long to sleep after `pass`: until the next due instant or retry, at most a third
    /// of the lease (to renew it, or to try to take it).
    pub fn next_delay(&self, pass: &Pass, now: DateTime<Utc>) -> Duration {
        let retry = self.retries.next_after(now);
        let due = [pass.next_due, retry].into_iter().flatten().min();
        let cap = LEASE / 3;
        match due {
            Some(at) => (at - now).to_std().unwrap_or(Duration::ZERO).min(cap),
            None => cap,
        }
    }

    pub fn holder(&self) -> &str {
        &self.holder
    }
}

/// Runs the scheduler until `stop` says so; gives the lease up on the way out.
pub async fn run(state: Services, stop: watch::Receiver<bool>) {
    work(state, stop).await
}

async fn work(state: Services, mut stop: watch::Receiver<bool>) {
    let holder = format!("console-{}-{}", std::process::id(), state.clock.now().timestamp_millis());
    let mut scheduler = Scheduler::new(holder);
    loop {
        let delay = match scheduler.pass(&state).await {
            Ok(pass) => scheduler.next_delay(&pass, state.clock.now()),
            Err(e) => {
                tracing::error!(error = %e, "the scheduler could not use the database");
                BACKOFF.first
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = state.schedule_changed.notified() => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            break;
        }
    }
    if let Err(e) = schedules::release_lease(&state.pool, scheduler.holder()).await {
        tracing::warn!(error = %e, "the scheduler's lease could not be released");
    }
}
