//! An app's page and form: its definition, deploys, tasks, metrics and logs.

use super::*;

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
    pub lines: Vec<crate::logs::LogLine>,
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
            env: crate::definition::format_lines(&app.env),
            task_role_arn: app.task_role_arn.clone().unwrap_or_default(),
            execution_role_arn: app.execution_role_arn.clone().unwrap_or_default(),
            health_check_path: app.health_check_path.clone(),
            health_check_tool: app.health_check_tool.clone().unwrap_or_default(),
            desired_count: app.desired_count.to_string(),
            tags: crate::definition::format_lines(&app.tags),
            target_group_arn: app.target_group_arn.clone().unwrap_or_default(),
        }
    }

    /// The raw input, or the fields that cannot even be read (numbers, lines); the
    /// definition's own rules are checked by [`crate::AppDefinition::parse`].
    pub fn to_input(&self) -> Result<AppInput, Vec<crate::ValidationError>> {
        use crate::definition::parse_lines;
        use crate::ValidationError;
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
    pub fn validate(&self) -> Result<crate::AppDefinition, Vec<crate::ValidationError>> {
        let input = self.to_input()?;
        crate::AppDefinition::parse(&input).map_err(|errors| {
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
