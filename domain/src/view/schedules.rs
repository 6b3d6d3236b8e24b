//! Schedules: an app's schedule card, the Schedules page and overrides.

use super::*;

/// An app's schedule as the schedule editor shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleView {
    pub slug: String,
    pub app_name: String,
    /// The app's own desired count: the schedule's "on" count unless it sets one.
    pub app_desired_count: u32,
    /// The stored schedule; `None`: the app has none.
    pub schedule: Option<crate::schedule::ScheduleDoc>,
    /// A temporary override in force.
    pub override_: Option<OverrideView>,
    /// What the schedule (or override) wants now; `None`: nothing governs the app.
    pub desired_now: Option<u32>,
    /// The service's desired count as last seen in the cloud.
    pub live_desired: Option<u32>,
    /// The next five changes.
    pub next: Vec<TransitionView>,
    /// The scheduler's recent actions for this app, newest first.
    pub history: Vec<ScheduleEvent>,
    /// This month, running `on_count` always against following the schedule (`None` without
    /// a schedule).
    pub saving: Option<SavingView>,
    pub generated_at: DateTime<Utc>,
}

/// A temporary override: `desired` tasks until `until`, then the schedule resumes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverrideView {
    pub desired: u32,
    pub until: DateTime<Utc>,
    /// `until` in the app's time zone, e.g. "Mon 30 Nov 20:00 CET".
    pub until_local: String,
    pub set_by: String,
}

/// A change of desired count at an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransitionView {
    pub at: DateTime<Utc>,
    /// `at` in the app's time zone, e.g. "Mon 30 Nov 08:00 CET".
    pub local: String,
    pub desired: u32,
}

/// One action of the scheduler (or a change of the schedule).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleEvent {
    pub at: DateTime<Utc>,
    /// `scale`, `catch_up`, `retry`, `override`, `override_ended`, `saved`, `deleted`.
    pub action: String,
    pub from_count: Option<u32>,
    pub to_count: Option<u32>,
    /// `ok` or `failed`.
    pub outcome: String,
    pub detail: Option<String>,
}

/// The month's cost with and without the schedule, formatted in dollars.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavingView {
    pub always_on: String,
    pub scheduled: String,
    pub saving: String,
    /// e.g. "November 2026".
    pub month: String,
}

/// One row of the Schedules page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleRow {
    pub slug: String,
    pub name: String,
    /// e.g. "Mon–Fri 08:00–18:00 · Europe/Berlin"; `None`: no schedule.
    pub summary: Option<String>,
    pub enabled: bool,
    /// `enforced` or `transitions`.
    pub mode: Option<String>,
    pub desired_now: Option<u32>,
    pub live_desired: Option<u32>,
    pub next: Option<TransitionView>,
    pub override_: Option<OverrideView>,
}

/// An override as asked for: `desired` tasks until `until`, which is an RFC 3339 instant, a
/// duration (`2h`, `90m`), a local time today or tomorrow (`20:00`) or a weekday and time
/// (`mon 08:00`), both in the app's time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverrideRequest {
    pub desired: u32,
    pub until: String,
}
