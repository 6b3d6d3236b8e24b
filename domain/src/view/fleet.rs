//! The Fleet table: every app with its cached live status.

use super::*;

/// One row of the Fleet table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppSummary {
    pub slug: String,
    pub name: String,
    pub image: String,
    pub cpu: u32,
    pub memory: u32,
    pub architecture: String,
    pub desired_count: u32,
    /// The cached view of the service; `None` until the cloud was first asked.
    pub live: Option<LiveStatus>,
    /// Running tasks whose health check passes, and those whose check fails.
    pub healthy: u32,
    pub unhealthy: u32,
    /// The last deploy's state and start.
    pub last_deploy: Option<(RolloutState, DateTime<Utc>)>,
    /// The last hour's CPU utilisation (percent, one point a minute, oldest first).
    pub cpu_sparkline: Vec<f64>,
    /// The schedule in a word ("scheduled", or an override in force: "override: 2 tasks
    /// until Mon 30 Nov 20:00 CET"); `None`: no schedule.
    pub schedule_note: Option<ScheduleNote>,
    /// What the app cost today so far (display time zone).
    pub cost_today: Option<crate::cost::Money>,
}

/// What the Fleet table says about an app's schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleNote {
    pub overridden: bool,
    pub text: String,
}

/// The cached state of an app's service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveStatus {
    pub state: LiveState,
    pub running: u32,
    pub pending: u32,
    pub desired: u32,
    pub rollout_reason: Option<String>,
    pub fetched_at: DateTime<Utc>,
    /// Set when refreshes have been failing since then.
    pub stale_since: Option<DateTime<Utc>>,
}

/// A service's status as the poller cached it, before it is read as a [`LiveStatus`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedStatus {
    /// ECS's service status (`ACTIVE`, `DRAINING`, …).
    pub status: String,
    pub desired: u32,
    pub running: u32,
    pub pending: u32,
    /// The newest deployment's rollout state, as ECS spells it.
    pub rollout_state: Option<String>,
    pub rollout_reason: Option<String>,
    /// Running tasks whose container health check fails.
    pub unhealthy_tasks: u32,
    pub fetched_at: DateTime<Utc>,
    pub stale_since: Option<DateTime<Utc>>,
}

impl From<CachedStatus> for LiveStatus {
    /// The one reading of a cached status: the app's state from the service's status, counts
    /// and rollout, outranked by failing health checks (see [`LiveState::with_health`]).
    fn from(c: CachedStatus) -> Self {
        let rollout = c.rollout_state.as_deref().and_then(RolloutState::parse);
        LiveStatus {
            state: LiveState::derive(&c.status, c.desired, c.running, rollout).with_health(c.unhealthy_tasks),
            running: c.running,
            pending: c.pending,
            desired: c.desired,
            rollout_reason: c.rollout_reason,
            fetched_at: c.fetched_at,
            stale_since: c.stale_since,
        }
    }
}

/// The Fleet page's data, stamped with the instant it was read so the page can say how old
/// each row is the same way on the server and in the browser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetView {
    pub apps: Vec<AppSummary>,
    pub generated_at: DateTime<Utc>,
}
