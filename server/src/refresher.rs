//! The background refresher: keeps the cached status of every app's service fresh, so that
//! page views never call the cloud, and follows deploys in progress to their end. One
//! batched `describe_services` per cycle; on failure the cache is marked stale and the next
//! attempt backs off exponentially (up to 5 min). While a deploy rolls out it polls every
//! [`ROLLOUT_INTERVAL`] so the app page shows the rollout live; a deploy wakes it at once.

use app::ssr::{apps, deploys, AppState};
use domain::CloudError;
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::watch;

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("{0}")]
    Cloud(#[from] CloudError),
}

/// How often the refresher polls while a deploy is in progress.
pub const ROLLOUT_INTERVAL: Duration = Duration::from_secs(2);

/// What one cycle did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refreshed {
    pub apps: usize,
    /// Deploys still rolling out after this cycle.
    pub rolling_out: bool,
}

/// Refreshes every app's cached status once and follows the deploys in progress.
pub async fn refresh_once(state: &AppState) -> Result<Refreshed, RefreshError> {
    let watched = apps::watched(&state.pool).await?;
    if watched.is_empty() {
        return Ok(Refreshed { apps: 0, rolling_out: false });
    }
    let names: Vec<String> = watched.iter().map(|a| a.slug.clone()).collect();
    let described = match state.cloud.fleet.describe_services(&names).await {
        Ok(d) => d,
        Err(e) => {
            apps::mark_stale(&state.pool, &e.to_string(), state.clock.now()).await?;
            return Err(e.into());
        }
    };
    let by_name: HashMap<&str, _> = described.iter().map(|s| (s.name.as_str(), s)).collect();
    let now = state.clock.now();
    let mut rolling_out = false;
    for app in &watched {
        let status = by_name.get(app.slug.as_str()).copied();
        match status {
            Some(status) => apps::record_status(&state.pool, app.id, status, now).await?,
            None => apps::record_missing(&state.pool, app.id, now).await?,
        }
        rolling_out |= deploys::track(&state.pool, app.id, status, now).await?;
    }
    Ok(Refreshed { apps: watched.len(), rolling_out })
}

/// The delay before the next cycle: the interval after a success, doubling per consecutive
/// failure up to five minutes.
pub fn next_delay(interval: Duration, consecutive_failures: u32) -> Duration {
    let factor = 2u32.saturating_pow(consecutive_failures.min(16));
    interval.saturating_mul(factor).min(Duration::from_secs(300).max(interval))
}

/// Refreshes until `stop` turns true.
pub async fn run(state: AppState, interval: Duration, mut stop: watch::Receiver<bool>) {
    let mut failures = 0u32;
    loop {
        let delay = match refresh_once(&state).await {
            Ok(done) => {
                failures = 0;
                if done.rolling_out {
                    ROLLOUT_INTERVAL.min(interval)
                } else {
                    interval
                }
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::warn!(error = %e, failures, "fleet refresh failed; backing off");
                next_delay(interval, failures)
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
