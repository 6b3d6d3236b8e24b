//! The metrics worker: copies the apps' CPU and memory utilisation from CloudWatch into
//! SQLite, incrementally and cheaply, so charts and sparklines never call AWS.
//!
//! CloudWatch charges per metric requested, whatever the number of datapoints, so the cost
//! is set by how often each running app's two metrics are asked for. Every [`INTERVAL`] one
//! cycle plans (see [`service::metrics::plan_fetch`]) and makes one `utilisation` call for
//! every app whose tasks ran since its samples were stored (the adapter splits it into
//! `GetMetricData` calls of up to 500 queries), over the minutes not yet stored, and stores
//! the answer. Apps that did not run are not asked about at all.
//!
//! A failing call backs off (30 s, doubling, at most five minutes) and loses nothing: the
//! stored position does not move, so the next successful call covers the missed minutes.
//! Once an hour the worker prunes old samples after rolling them up into hours.

use chrono::{DateTime, Utc};
use domain::backoff::Backoff;
use domain::metrics::{MetricWindow, Series};
use domain::CloudError;
use service::metrics::{self, Pruned};
use service::Services;
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::watch;

/// How often the worker fetches. ECS publishes each metric once a minute, but the price is
/// per metric per request, not per datapoint: fetching every 5 minutes would cost 2 metrics
/// × 12 requests = 24 metrics per running app-hour; every 15 minutes costs 2 × 4 = 8, the
/// issue's target, for the same datapoints (a quarter of an hour at a time).
pub const INTERVAL: Duration = Duration::from_secs(15 * 60);
/// How long after a minute ends CloudWatch is trusted to have its datapoint: a window ends
/// at the last complete minute this long ago, so a minute is never skipped for having been
/// asked for before it was published.
pub const PUBLISH_DELAY: chrono::Duration = chrono::Duration::minutes(2);
/// How far back one fetch reaches (after the console was down, or for a new app).
pub const MAX_WINDOW: chrono::Duration = chrono::Duration::hours(24);
/// How often old samples are rolled up and pruned.
pub const PRUNE_EVERY: chrono::Duration = chrono::Duration::hours(1);
/// An app whose samples are at most this far behind is not fetched on demand.
pub const FRESH_ENOUGH: chrono::Duration = chrono::Duration::minutes(1);
/// The first retry after a failure; it doubles per consecutive failure up to [`MAX_RETRY`].
pub const FIRST_RETRY: Duration = Duration::from_secs(30);
pub const MAX_RETRY: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("{0}")]
    Cloud(#[from] CloudError),
}

/// What one cycle (or one on-demand fetch) did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricsCycle {
    /// The window asked for, when a call was made.
    pub window: Option<MetricWindow>,
    /// The services asked about.
    pub services: Vec<String>,
    /// Metrics requested (two per service): what CloudWatch charges for.
    pub requested_metrics: usize,
    /// Minute samples written.
    pub samples_stored: usize,
    /// The call failed with this (and now backs off).
    pub failed: Option<CloudError>,
    /// No call was made: the worker is waiting to retry after a failure.
    pub backing_off: bool,
    /// What pruning removed, when it ran this cycle.
    pub pruned: Option<Pruned>,
}

/// The worker's memory between cycles: its backoff and when it last pruned.
#[derive(Debug, Default)]
pub struct MetricsPoller {
    failures: u32,
    retry_at: Option<DateTime<Utc>>,
    pruned_at: Option<DateTime<Utc>>,
}

impl MetricsPoller {
    pub fn new() -> Self {
        Self::default()
    }

    /// How many cycles in a row have failed.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// How long to wait before the next cycle: `interval`, or less while retrying.
    pub fn next_delay(&self, interval: Duration) -> Duration {
        match self.failures {
            0 => interval,
            n => retry_delay(n).min(interval),
        }
    }

    /// One cycle: prune when due, then fetch unless waiting to retry. A cloud failure is
    /// absorbed (backoff, logged, reported in the result); only the database failing is an
    /// error.
    pub async fn cycle(&mut self, state: &Services) -> Result<MetricsCycle, MetricsError> {
        let now = state.clock.now();
        let mut done = MetricsCycle::default();
        if self.pruned_at.is_none_or(|at| now - at >= PRUNE_EVERY) {
            let pruned = metrics::prune(&state.pool, now, metrics::KEEP_MINUTES_DAYS, metrics::KEEP_HOURS_DAYS).await?;
            self.pruned_at = Some(now);
            done.pruned = Some(pruned);
        }
        if self.retry_at.is_some_and(|at| now < at) {
            done.backing_off = true;
            return Ok(done);
        }
        match fetch(state, None, &mut done).await {
            Ok(()) => {
                self.failures = 0;
                self.retry_at = None;
            }
            Err(MetricsError::Cloud(e)) => {
                self.failures = self.failures.saturating_add(1);
                let wait = chrono::Duration::from_std(BACKOFF.delay(self.failures)).unwrap_or(chrono::Duration::MAX);
                self.retry_at = now.checked_add_signed(wait);
                tracing::warn!(error = %e, failures = self.failures, "fetching the metrics failed; backing off");
                done.failed = Some(e);
            }
            Err(e) => return Err(e),
        }
        Ok(done)
    }
}

/// The wait before retrying after `failures` consecutive failures: 30 s, doubling, at most
/// five minutes.
pub fn retry_delay(failures: u32) -> Duration {
    BACKOFF.delay(failures.max(1))
}

/// The worker's backoff (the one every worker uses, from its own first wait).
const BACKOFF: Backoff = Backoff::new(FIRST_RETRY, MAX_RETRY);

/// Fetches one app's new samples now (its page was opened), unless they are at most
/// [`FRESH_ENOUGH`] behind or it did not run; through the same plan, so nothing stored is
/// asked for again. A cloud failure is returned (the page shows what is stored).
pub async fn fetch_app_now(state: &Services, app_id: i64) -> Result<MetricsCycle, MetricsError> {
    let mut done = MetricsCycle::default();
    fetch(state, Some(app_id), &mut done).await?;
    Ok(done)
}

/// Plans, asks and stores: for every app, or for `only` one (skipped when fresh enough).
async fn fetch(state: &Services, only: Option<i64>, done: &mut MetricsCycle) -> Result<(), MetricsError> {
    let now = state.clock.now() - PUBLISH_DELAY;
    let end = metrics::floor_minute(now);
    let mut candidates = metrics::fetch_candidates(&state.pool, end, MAX_WINDOW, only).await?;
    if only.is_some() {
        candidates.retain(|(_, _, stored_until, _)| stored_until.is_none_or(|u| end - u > FRESH_ENOUGH));
    }
    let Some((window, services)) = metrics::plan_fetch(&candidates, now, MAX_WINDOW) else {
        return Ok(());
    };
    done.window = Some(window);
    done.requested_metrics = services.len() * 2;
    done.services = services;
    let answer = state.cloud.metrics.utilisation(&done.services, window).await?;
    let ids: HashMap<&str, i64> = candidates
        .iter()
        .filter(|(_, service, _, _)| done.services.contains(service))
        .map(|(id, service, _, _)| (service.as_str(), *id))
        .collect();
    // Only the window's whole minutes: never a partial minute a later fetch would not fix.
    let kept: Vec<(i64, Series)> = answer
        .into_iter()
        .filter_map(|mut s| {
            let id = *ids.get(s.service.as_str())?;
            s.samples.retain(|p| p.at >= window.start && p.at < window.end);
            Some((id, s))
        })
        .collect();
    let answered: Vec<(i64, &Series)> = kept.iter().map(|(id, s)| (*id, s)).collect();
    done.samples_stored = metrics::store_fetch(&state.pool, window, &answered).await?;
    Ok(())
}

/// Fetches every `interval` (sooner while retrying) until `stop` turns true.
/// Between cycles, serves the apps whose page was opened (`Services::metrics_wanted`) with
/// [`fetch_app_now`], unless CloudWatch is being waited out.
pub async fn run(state: Services, interval: Duration, stop: watch::Receiver<bool>) {
    work(state, interval, stop).await
}

async fn work(state: Services, interval: Duration, mut stop: watch::Receiver<bool>) {
    let mut poller = MetricsPoller::new();
    loop {
        if let Err(e) = poller.cycle(&state).await {
            tracing::error!(error = %e, "the metrics worker could not use the database");
        }
        let next = tokio::time::Instant::now() + poller.next_delay(interval);
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(next) => break,
                _ = state.metrics_wanted.asked() => {
                    for app_id in state.metrics_wanted.take() {
                        if poller.failures() > 0 {
                            break;
                        }
                        if let Err(e) = fetch_app_now(&state, app_id).await {
                            tracing::debug!(error = %e, app_id, "an on-demand metrics fetch failed");
                        }
                    }
                }
                _ = stop.changed() => return,
            }
            if *stop.borrow() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_start_at_30_seconds_double_and_stop_at_five_minutes() {
        let s = Duration::from_secs;
        let delays: Vec<_> = [1, 2, 3, 4, 5, 6, u32::MAX].into_iter().map(retry_delay).collect();
        assert_eq!(delays, [s(30), s(60), s(120), s(240), s(300), s(300), s(300)]);
    }

    #[test]
    fn the_next_cycle_waits_the_interval_unless_retrying_sooner() {
        let mut poller = MetricsPoller::new();
        assert_eq!(poller.next_delay(INTERVAL), INTERVAL);
        poller.failures = 2;
        assert_eq!(poller.next_delay(INTERVAL), Duration::from_secs(60));
        assert_eq!(poller.next_delay(Duration::from_secs(20)), Duration::from_secs(20));
    }
}
