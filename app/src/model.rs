//! What the pages show: plain data sent from server functions to the browser.

use chrono::{DateTime, Utc};
use domain::directory::UserStatus;
use domain::fleet::{AppState, RolloutState, ServiceEvent};
use domain::AppInput;
use domain::{Role, RoleGroups};
use serde::{Deserialize, Serialize};

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
    pub cost_today: Option<domain::cost::Money>,
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
    pub state: AppState,
    pub running: u32,
    pub pending: u32,
    pub desired: u32,
    pub rollout_reason: Option<String>,
    pub fetched_at: DateTime<Utc>,
    /// Set when refreshes have been failing since then.
    pub stale_since: Option<DateTime<Utc>>,
}

/// The Fleet page's data, stamped with the instant it was read so the page can say how old
/// each row is the same way on the server and in the browser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetView {
    pub apps: Vec<AppSummary>,
    pub generated_at: DateTime<Utc>,
}

/// One deploy (a rollback is a deploy of an earlier revision), as the history and the API
/// show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployRecord {
    pub id: i64,
    /// The app's slug.
    pub app: String,
    /// `deploy` or `rollback`.
    pub kind: String,
    /// The task-definition revision rolled out; `None` until the cloud registered it.
    pub revision: Option<i64>,
    /// The image as asked for, by tag or digest.
    pub image: String,
    /// The digest an ECR tag resolved to (the revision runs exactly this).
    pub digest: Option<String>,
    pub state: RolloutState,
    /// Why it failed (the circuit breaker's message, or what replaced it).
    pub reason: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// One task of an app, as the poller last saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRow {
    /// The task's id (the end of its ARN).
    pub id: String,
    pub arn: String,
    pub revision: Option<i64>,
    pub cpu: u32,
    pub memory: u32,
    /// ECS's `lastStatus`: PROVISIONING … RUNNING … STOPPED.
    pub last_status: String,
    pub desired_status: String,
    /// `HEALTHY`, `UNHEALTHY` or `UNKNOWN`.
    pub health_status: String,
    pub created_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub stopped_at: Option<DateTime<Utc>>,
    pub stop_code: Option<String>,
    pub stopped_reason: Option<String>,
    /// When the poller last saw it.
    pub last_seen_at: DateTime<Utc>,
}

/// An app's CPU and memory utilisation over a range, for its chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsView {
    /// `hour`, `day` or `week`.
    pub range: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Seconds per point: 60, or 3600 for a week.
    pub resolution_secs: i64,
    /// (period start, percent), oldest first; periods without data are absent.
    pub cpu: Vec<(DateTime<Utc>, f64)>,
    pub memory: Vec<(DateTime<Utc>, f64)>,
}

/// The newest lines of a task's container log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogsView {
    /// Newest first.
    pub lines: Vec<domain::logs::LogLine>,
    /// Why there are none, when the stream does not exist (yet).
    pub note: Option<String>,
}

/// Everything the app page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppDetail {
    /// The definition, as the edit form and the API show it.
    pub app: AppInput,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub live: Option<LiveStatus>,
    /// The revision the service runs (its task definition), when known.
    pub running_revision: Option<i64>,
    /// The service's latest events, newest first.
    pub events: Vec<ServiceEvent>,
    /// Newest first.
    pub deploys: Vec<DeployRecord>,
    /// Tasks not stopped, then those stopped in the last day, newest first.
    pub tasks: Vec<TaskRow>,
    /// A fresh idempotency key for the deploy and rollback buttons: a double click or a
    /// resubmitted form sends the same key, so it never starts a second deploy.
    pub deploy_key: String,
    pub generated_at: DateTime<Utc>,
}

impl AppDetail {
    /// The deploy still rolling out, if any.
    pub fn in_progress(&self) -> Option<&DeployRecord> {
        self.deploys.iter().find(|d| d.state == RolloutState::InProgress)
    }
}

/// The app form's fields, all as typed. `size` is `CPU/MEMORY` (one of the Fargate pairs the
/// form offers); environment and tags are `NAME=value` lines.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppForm {
    pub slug: String,
    pub name: String,
    pub image: String,
    pub size: String,
    pub architecture: String,
    pub port: String,
    pub env: String,
    pub task_role_arn: String,
    pub execution_role_arn: String,
    pub health_check_path: String,
    pub health_check_tool: String,
    pub desired_count: String,
    pub tags: String,
    pub target_group_arn: String,
}

impl AppForm {
    /// The form filled with an app's definition.
    pub fn of(app: &AppInput) -> Self {
        Self {
            slug: app.slug.clone(),
            name: app.name.clone(),
            image: app.image.clone(),
            size: format!("{}/{}", app.cpu, app.memory),
            architecture: app.architecture.clone(),
            port: app.port.to_string(),
            env: domain::definition::format_lines(&app.env),
            task_role_arn: app.task_role_arn.clone().unwrap_or_default(),
            execution_role_arn: app.execution_role_arn.clone().unwrap_or_default(),
            health_check_path: app.health_check_path.clone(),
            health_check_tool: app.health_check_tool.clone().unwrap_or_default(),
            desired_count: app.desired_count.to_string(),
            tags: domain::definition::format_lines(&app.tags),
            target_group_arn: app.target_group_arn.clone().unwrap_or_default(),
        }
    }

    /// The raw input, or the fields that cannot even be read (numbers, lines); the
    /// definition's own rules are checked by [`domain::AppDefinition::parse`].
    pub fn to_input(&self) -> Result<AppInput, Vec<domain::ValidationError>> {
        use domain::definition::parse_lines;
        use domain::ValidationError;
        let mut errors = vec![];
        let mut number = |field: &str, raw: &str, message: &str| match raw.trim().parse::<i64>() {
            Ok(n) => n,
            Err(_) => {
                errors.push(ValidationError::new(field, message));
                -1
            }
        };
        let (cpu, memory) = match self.size.split_once('/') {
            Some((cpu, memory)) => (number("size", cpu, "Choose a size."), number("size", memory, "Choose a size.")),
            None => (number("size", "", "Choose a size."), 0),
        };
        let port = number("port", &self.port, "A port is a number between 1 and 65535.");
        let desired_count = number("desired_count", &self.desired_count, "A number of tasks between 0 and 100.");
        let env = parse_lines("env", &self.env).unwrap_or_else(|e| {
            errors.push(e);
            vec![]
        });
        let tags = parse_lines("tags", &self.tags).unwrap_or_else(|e| {
            errors.push(e);
            vec![]
        });
        errors.dedup_by(|a, b| a.field == b.field);
        if !errors.is_empty() {
            return Err(errors);
        }
        let optional = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        Ok(AppInput {
            slug: self.slug.trim().to_owned(),
            name: self.name.clone(),
            image: self.image.clone(),
            cpu,
            memory,
            architecture: self.architecture.clone(),
            port,
            env,
            task_role_arn: optional(&self.task_role_arn),
            execution_role_arn: optional(&self.execution_role_arn),
            health_check_path: self.health_check_path.clone(),
            health_check_tool: optional(&self.health_check_tool),
            desired_count,
            tags,
            target_group_arn: optional(&self.target_group_arn),
        })
    }

    /// The input with every error at once: unreadable fields, then the definition's rules.
    pub fn validate(&self) -> Result<domain::AppDefinition, Vec<domain::ValidationError>> {
        let input = self.to_input()?;
        domain::AppDefinition::parse(&input).map_err(|errors| {
            // A bad CPU or memory is a bad size in this form.
            errors
                .into_iter()
                .map(|mut e| {
                    if e.field == "cpu" || e.field == "memory" {
                        e.field = "size".into();
                    }
                    e
                })
                .collect()
        })
    }
}

/// What the Settings page shows about this console (never a secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleInfo {
    pub version: String,
    pub cloud: String,
    pub cluster: String,
    pub region: Option<String>,
    pub refresh_secs: u64,
}

/// The signed-in user, as the pages see them (no token, no secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub email: String,
    pub role: Role,
    /// Whether the console runs on the sandbox (its pages then show demo hints).
    pub sandbox: bool,
    /// Signed in by the load balancer: sign-out goes through it.
    pub via_load_balancer: bool,
}

impl Viewer {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// What a password sign-in led to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignInOutcome {
    /// Signed in; go to `next`.
    SignedIn { next: String },
    /// First sign-in of an invited user: a new password must be set first.
    NewPasswordRequired { email: String, rules: Vec<String> },
}

/// A user of the pool with their groups, as the People page lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub username: String,
    pub email: String,
    pub status: UserStatus,
    pub groups: Vec<String>,
    pub created_at: Option<DateTime<Utc>>,
}

/// One page of the People list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeoplePage {
    pub people: Vec<Person>,
    /// Opaque: pass back for the next page.
    pub next: Option<String>,
    /// Every group of the pool, for the group pickers.
    pub groups: Vec<String>,
    pub role_groups: RoleGroups,
}

/// The answer to an invitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invited {
    pub person: Person,
    /// Only on the sandbox, which sends no email: the invitee's temporary password.
    pub sandbox_temporary_password: Option<String>,
}

/// One row of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub source: Option<String>,
    pub action: String,
    pub target: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Which audit rows to show: each text filter matches a part of its field, case-insensitively;
/// `from` is inclusive and `to` exclusive.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl AuditFilter {
    /// A filter from text fields (forms, query strings). Dates are `YYYY-MM-DD` (UTC) or
    /// RFC 3339 instants; `to` as a date includes that whole day.
    pub fn parse(
        actor: Option<String>,
        action: Option<String>,
        target: Option<String>,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Self, crate::error::AppError> {
        let text = |field: &str, v: Option<String>| -> Result<Option<String>, crate::error::AppError> {
            match v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) {
                Some(s) if s.chars().count() > 200 || s.chars().any(char::is_control) => {
                    Err(crate::error::AppError::invalid(field, "At most 200 characters, on one line."))
                }
                other => Ok(other),
            }
        };
        Ok(Self {
            actor: text("actor", actor)?,
            action: text("action", action)?,
            target: text("target", target)?,
            from: parse_instant("from", from, false)?,
            to: parse_instant("to", to, true)?,
        })
    }
}

/// `YYYY-MM-DD` (the start of that day, or of the next one when `end_of_day`) or RFC 3339.
fn parse_instant(
    field: &str,
    raw: Option<&str>,
    end_of_day: bool,
) -> Result<Option<DateTime<Utc>>, crate::error::AppError> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(None) };
    if let Ok(day) = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        let day = if end_of_day { day.succ_opt().unwrap_or(day) } else { day };
        return Ok(day.and_hms_opt(0, 0, 0).map(|t| t.and_utc()));
    }
    DateTime::parse_from_rfc3339(raw)
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|_| crate::error::AppError::invalid(field, "Use a date (2026-11-30) or an RFC 3339 time."))
}

/// One page of audit rows, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    /// Pass as `before` to get the next (older) page.
    pub next_before: Option<i64>,
}

/// An API token as listed (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A token just created: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedToken {
    pub info: TokenInfo,
    pub token: String,
}

/// "12 s ago", "5 min ago", "3 h ago", "2 d ago".
pub fn age(from: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - from).num_seconds().max(0);
    match secs {
        0..=59 => format!("{secs} s ago"),
        60..=3599 => format!("{} min ago", secs / 60),
        3600..=86_399 => format!("{} h ago", secs / 3600),
        _ => format!("{} d ago", secs / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_filters_read_dates_as_whole_utc_days_and_refuse_nonsense() {
        let f = AuditFilter::parse(Some(" ada ".into()), Some("".into()), None, Some("2026-11-30"), Some("2026-11-30"))
            .unwrap();
        assert_eq!(f.actor.as_deref(), Some("ada"));
        assert_eq!(f.action, None);
        assert_eq!(f.from.unwrap().to_rfc3339(), "2026-11-30T00:00:00+00:00");
        assert_eq!(f.to.unwrap().to_rfc3339(), "2026-12-01T00:00:00+00:00");
        let f = AuditFilter::parse(None, None, None, Some("2026-11-30T10:00:00+01:00"), None).unwrap();
        assert_eq!(f.from.unwrap().to_rfc3339(), "2026-11-30T09:00:00+00:00");
        for bad in ["yesterday", "2026-13-01", "30/11/2026"] {
            assert_eq!(AuditFilter::parse(None, None, None, Some(bad), None).unwrap_err().code(), "invalid");
        }
        assert!(AuditFilter::parse(Some("a\nb".into()), None, None, None, None).is_err());
    }

    #[test]
    fn ages_read_naturally() {
        let now = DateTime::parse_from_rfc3339("2026-11-28T12:00:00Z").unwrap().with_timezone(&Utc);
        for (secs, want) in [
            (0, "0 s ago"),
            (59, "59 s ago"),
            (60, "1 min ago"),
            (7200, "2 h ago"),
            (200_000, "2 d ago"),
            (-5, "0 s ago"),
        ] {
            assert_eq!(age(now - chrono::Duration::seconds(secs), now), want);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Schedules
// ---------------------------------------------------------------------------------------

/// An app's schedule as the schedule editor shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleView {
    pub slug: String,
    pub app_name: String,
    /// The app's own desired count: the schedule's "on" count unless it sets one.
    pub app_desired_count: u32,
    /// The stored schedule; `None`: the app has none.
    pub schedule: Option<domain::schedule::ScheduleDoc>,
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

// ---------------------------------------------------------------------------------------
// Costs
// ---------------------------------------------------------------------------------------

pub use domain::cost::Money;

/// The Costs page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostsView {
    /// The chart's days (the last 30, today included), in the display time zone.
    pub days: Vec<CostDay>,
    pub today: chrono::NaiveDate,
    /// The display time zone's name.
    pub time_zone: String,
    /// e.g. "Fargate prices for us-east-1 (AWS pricing page, as of 2026-11)".
    pub prices_note: String,
    /// "November 2026".
    pub month: String,
    pub apps: Vec<AppCost>,
    pub fleet: CostFigures,
    /// Fixed costs of days on which no app ran (nobody's, but paid).
    pub unassigned_fixed: Money,
    pub generated_at: DateTime<Utc>,
}

/// One day of the chart: each app's cost, stacked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostDay {
    pub day: chrono::NaiveDate,
    /// (app slug, cost), apps in the page's order; only apps that cost something that day.
    pub by_app: Vec<(String, Money)>,
    pub total: Money,
}

/// What an app (or the fleet) costs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostFigures {
    pub today: Money,
    pub month_to_date: Money,
    /// The month's expected total: month to date plus the rest as scheduled (or at the
    /// recent run rate).
    pub projection: Money,
    /// How the projection was made: "schedule" or "run rate".
    pub projected_by: String,
    /// What the schedule saves this month against its "on" count always on (`None`: no
    /// schedule).
    pub saving: Option<Money>,
    pub budget: Option<Money>,
    /// e.g. "projected $412.00 this month, $112.00 over the $300.00 budget".
    pub budget_warning: Option<String>,
}

/// One app's row on the Costs page (and its app page card).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppCost {
    pub slug: String,
    pub name: String,
    /// e.g. "$0.0123 an hour per task (0.25 vCPU, 0.5 GB, x86_64)".
    pub rate: String,
    pub figures: CostFigures,
}
