//! The background poller: keeps the cached view of every app fresh, so that page views and
//! API reads never call the cloud, records every task's lifecycle, and follows deploys in
//! progress to their end.
//!
//! A cycle makes the fewest calls the fleet allows, whatever its size: one
//! `describe_services` for every app (the adapter batches 10 names per call), two cluster-wide
//! task listings (running and stopped; 100 per page) instead of one per app, and one
//! `describe_tasks` (100 per call) for the tasks that are new or not known to have stopped.
//!
//! Each kind of call backs off on its own: after a failure it is skipped for the interval,
//! doubled per consecutive failure up to five minutes, while the other kinds go on and the
//! loop never stops; the cache is marked stale with the reason. While a deploy rolls out the
//! loop runs every [`ROLLOUT_INTERVAL`] so the app page shows the rollout live; a deploy wakes
//! it at once.

use chrono::{DateTime, Utc};
use domain::backoff::{Backoff, Retries};
use domain::fleet::{ServiceStatus, TaskFilter};
use domain::CloudError;
use service::Services;
use service::{apps, deploys, tasks};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tokio::sync::watch;

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("{0}")]
    Cloud(#[from] CloudError),
}

/// How often the poller runs while a deploy is in progress.
pub const ROLLOUT_INTERVAL: Duration = Duration::from_secs(2);

/// The kinds of call that back off independently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Call {
    /// `describe_services`: statuses, deployments, events.
    Services,
    /// Task listings and `describe_tasks`: the task records.
    Tasks,
}

/// What one cycle did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refreshed {
    pub apps: usize,
    /// Deploys still rolling out after this cycle.
    pub rolling_out: bool,
    /// Task records written.
    pub tasks: usize,
    /// The calls that failed this cycle (and now back off).
    pub failed: Vec<Call>,
    /// The calls skipped this cycle because they are backing off.
    pub skipped: Vec<Call>,
}

/// The poller's memory between cycles: the backoff of each call kind.
#[derive(Debug)]
pub struct Poller {
    backoff: Retries<Call>,
}

impl Poller {
    pub fn new(interval: Duration) -> Self {
        Self { backoff: Retries::new(backoff(interval)) }
    }

    fn due(&self, call: Call, now: DateTime<Utc>) -> bool {
        self.backoff.due(&call, now)
    }

    fn failed(&mut self, call: Call, now: DateTime<Utc>) {
        self.backoff.failed(call, now);
    }

    fn succeeded(&mut self, call: Call) {
        self.backoff.succeeded(&call);
    }

    /// How many times in a row `call` has failed.
    pub fn failures(&self, call: Call) -> u32 {
        self.backoff.failures(&call)
    }

    /// One cycle. Cloud failures are absorbed (backoff, stale marker, logged); only the
    /// database failing is an error.
    pub async fn cycle(&mut self, state: &Services) -> Result<Refreshed, RefreshError> {
        let watched = apps::watched(&state.pool).await?;
        let mut done = Refreshed { apps: watched.len(), rolling_out: false, tasks: 0, failed: vec![], skipped: vec![] };
        if watched.is_empty() {
            return Ok(done);
        }
        let now = state.clock.now();
        if self.due(Call::Services, now) {
            let names: Vec<String> = watched.iter().map(|a| a.slug.clone()).collect();
            match state.cloud.fleet.describe_services(&names).await {
                Ok(described) => {
                    self.succeeded(Call::Services);
                    let by_name: HashMap<&str, &ServiceStatus> =
                        described.iter().map(|s| (s.name.as_str(), s)).collect();
                    let now = state.clock.now();
                    for app in &watched {
                        let status = by_name.get(app.slug.as_str()).copied();
                        match status {
                            Some(status) => apps::record_status(&state.pool, app.id, status, now).await?,
                            None => apps::record_missing(&state.pool, app.id, now).await?,
                        }
                        done.rolling_out |= deploys::track(&state.pool, app.id, status, now).await?;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, failures = self.failures(Call::Services) + 1, "describing the services failed; backing off");
                    apps::mark_stale(&state.pool, &e.to_string(), now).await?;
                    self.failed(Call::Services, now);
                    done.failed.push(Call::Services);
                }
            }
        } else {
            done.skipped.push(Call::Services);
        }
        if self.due(Call::Tasks, now) {
            let by_slug: HashMap<&str, i64> = watched.iter().map(|a| (a.slug.as_str(), a.id)).collect();
            match poll_tasks(state, &by_slug).await {
                Ok(written) => {
                    self.succeeded(Call::Tasks);
                    done.tasks = written;
                }
                Err(RefreshError::Cloud(e)) => {
                    tracing::warn!(error = %e, failures = self.failures(Call::Tasks) + 1, "reading the tasks failed; backing off");
                    apps::mark_stale(&state.pool, &format!("tasks: {e}"), now).await?;
                    self.failed(Call::Tasks, now);
                    done.failed.push(Call::Tasks);
                }
                Err(e) => return Err(e),
            }
        } else {
            done.skipped.push(Call::Tasks);
        }
        Ok(done)
    }
}

/// Lists the cluster's tasks, describes those not already recorded as stopped (and those
/// recorded as live, to see them stop), records each task of a watched app, and closes the
/// live ones ECS no longer knows. Returns how many task records were written.
async fn poll_tasks(state: &Services, by_slug: &HashMap<&str, i64>) -> Result<usize, RefreshError> {
    let fleet = &state.cloud.fleet;
    let running = fleet.list_cluster_tasks(TaskFilter::Running).await?;
    let stopped = fleet.list_cluster_tasks(TaskFilter::Stopped).await?;
    let now = state.clock.now();
    let done_with = tasks::recently_stopped(&state.pool, now).await?;
    let live = tasks::live_arns(&state.pool).await?;
    let mut wanted: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    for arn in running.into_iter().chain(stopped).chain(live.iter().cloned()) {
        if !done_with.contains(&arn) && seen.insert(arn.clone()) {
            wanted.push(arn);
        }
    }
    if wanted.is_empty() {
        return Ok(0);
    }
    let described = fleet.describe_tasks(&wanted).await?;
    let now = state.clock.now();
    let mut written = 0;
    let mut answered = HashSet::new();
    for task in &described {
        answered.insert(task.arn.as_str());
        let app = task.service.as_deref().and_then(|s| by_slug.get(s));
        if let Some(&app_id) = app {
            tasks::record(&state.pool, app_id, task, now).await?;
            written += 1;
        }
    }
    let vanished: Vec<String> = live.into_iter().filter(|arn| !answered.contains(arn.as_str())).collect();
    if !vanished.is_empty() {
        tasks::close_vanished(&state.pool, &vanished).await?;
    }
    Ok(written)
}

/// One cycle with no memory of earlier ones (tests, and the first cycle).
pub async fn refresh_once(state: &Services) -> Result<Refreshed, RefreshError> {
    let mut poller = Poller::new(Duration::from_secs(15));
    let done = poller.cycle(state).await?;
    if let Some(call) = done.failed.first() {
        return Err(RefreshError::Cloud(CloudError::Unavailable(format!("{call:?} failed"))));
    }
    Ok(done)
}

/// The poller's backoff: twice the interval after the first failure, doubling per further
/// one, at most five minutes (or the interval, when that is longer).
fn backoff(interval: Duration) -> Backoff {
    Backoff::new(interval.saturating_mul(2), Duration::from_secs(300).max(interval))
}

/// The delay before a call is tried again after `consecutive_failures`: the interval,
/// doubling per consecutive failure up to five minutes.
pub fn next_delay(interval: Duration, consecutive_failures: u32) -> Duration {
    match consecutive_failures {
        0 => interval,
        n => backoff(interval).delay(n),
    }
}

/// Polls until `stop` turns true.
pub async fn run(state: Services, interval: Duration, stop: watch::Receiver<bool>) {
    work(state, interval, stop).await
}

async fn work(state: Services, interval: Duration, mut stop: watch::Receiver<bool>) {
    let mut poller = Poller::new(interval);
    loop {
        let delay = match poller.cycle(&state).await {
            Ok(done) if done.rolling_out => ROLLOUT_INTERVAL.min(interval),
            Ok(_) => interval,
            Err(e) => {
                tracing::error!(error = %e, "the poller could not use the database");
                interval
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = state.wake.notified() => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_per_failure_and_is_capped() {
        let s = Duration::from_secs;
        assert_eq!(next_delay(s(15), 0), s(15));
        assert_eq!(next_delay(s(15), 1), s(30));
        assert_eq!(next_delay(s(15), 3), s(120));
        assert_eq!(next_delay(s(15), 10), s(300));
        assert_eq!(next_delay(s(15), u32::MAX), s(300));
        assert_eq!(next_delay(s(600), 2), s(600));
    }
}
