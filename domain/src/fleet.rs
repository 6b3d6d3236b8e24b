//! The `Fleet` port: what ShinyFleet needs from ECS, in its own types.
//!
//! One cluster is configured per adapter; every name below is a name inside that cluster.
//! Batching is the adapter's job: callers pass any number of names or ARNs and the adapter
//! splits them into the largest batches the cloud accepts.

use crate::{Architecture, CloudError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Everything needed to register one task-definition revision of an app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskDefinitionSpec {
    /// The family (ShinyFleet uses the app's slug).
    pub family: String,
    /// The image, by tag or digest.
    pub image: String,
    /// Task-level CPU units and memory (MiB); already a valid Fargate pair.
    pub cpu: u32,
    pub memory: u32,
    pub architecture: Architecture,
    pub container_port: u16,
    /// Environment variables, in a stable order.
    pub environment: Vec<(String, String)>,
    pub task_role_arn: Option<String>,
    pub execution_role_arn: Option<String>,
    /// A `CMD-SHELL` health-check command, only when the app defines one.
    pub health_check_command: Option<String>,
    /// CloudWatch Logs group for the `awslogs` driver, and its region.
    pub log_group: String,
    pub log_region: String,
    pub tags: Vec<(String, String)>,
}

/// A registered revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskDefinitionRef {
    pub arn: String,
    pub family: String,
    pub revision: i32,
}

/// The first creation of a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSpec {
    pub name: String,
    /// Task-definition ARN or `family:revision`.
    pub task_definition: String,
    pub desired_count: u32,
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    pub assign_public_ip: bool,
    /// Optional load-balancer target group the container port is registered with.
    pub target_group_arn: Option<String>,
    /// With a target group: how long the load balancer's failed health checks are ignored
    /// after a task starts (R and its packages load slowly). Ignored without a target group.
    pub health_check_grace_period_secs: Option<u32>,
    pub container_port: u16,
    pub tags: Vec<(String, String)>,
}

/// A change to an existing service; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceUpdate {
    pub name: String,
    pub task_definition: Option<String>,
    pub desired_count: Option<u32>,
    pub force_new_deployment: bool,
    /// The service's load balancer: `Some(Some(t))` registers its tasks in `t`'s target group
    /// with `t`'s grace period, `Some(None)` takes them off any load balancer, `None` leaves
    /// it as it is (a change of count, say). A deploy always says which.
    pub load_balancer: Option<Option<ServiceTarget>>,
}

/// Where a service's tasks are registered: a load balancer's target group, on the app's
/// container port, with the grace period ECS gives a new task before its health checks count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceTarget {
    pub target_group_arn: String,
    pub container_port: u16,
    pub health_check_grace_period_secs: u32,
}

/// The rollout state of one deployment (ECS `rolloutState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RolloutState {
    InProgress,
    Completed,
    Failed,
}

/// One deployment of a service: PRIMARY is the one being rolled out or running.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    pub id: String,
    /// `PRIMARY`, `ACTIVE` (being replaced) or `INACTIVE`.
    pub status: String,
    pub task_definition: String,
    pub desired_count: u32,
    pub running_count: u32,
    pub pending_count: u32,
    pub failed_tasks: u32,
    pub rollout_state: Option<RolloutState>,
    /// Why the rollout is in its state, e.g. the circuit breaker's message.
    pub rollout_reason: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// A line of a service's event log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceEvent {
    pub id: String,
    pub at: DateTime<Utc>,
    pub message: String,
}

/// A service as ECS describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceStatus {
    pub name: String,
    pub arn: String,
    /// `ACTIVE`, `DRAINING` or `INACTIVE`.
    pub status: String,
    pub task_definition: String,
    pub desired_count: u32,
    pub running_count: u32,
    pub pending_count: u32,
    pub deployments: Vec<Deployment>,
    /// Newest first, as ECS returns them.
    pub events: Vec<ServiceEvent>,
}

impl ServiceStatus {
    /// The deployment being rolled out (or that last rolled out).
    pub fn primary(&self) -> Option<&Deployment> {
        self.deployments.iter().find(|d| d.status == "PRIMARY")
    }
}

/// Which tasks `list_tasks` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskFilter {
    /// Tasks that should be running (includes those still starting or stopping).
    Running,
    /// Tasks that stopped recently (ECS keeps them for about an hour).
    Stopped,
}

/// One task and its lifecycle so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskInfo {
    pub arn: String,
    /// The service that started it, when it was started by one.
    pub service: Option<String>,
    pub task_definition: String,
    /// `PROVISIONING`, `PENDING`, `ACTIVATING`, `RUNNING`, `DEACTIVATING`, `STOPPING`,
    /// `DEPROVISIONING` or `STOPPED`.
    pub last_status: String,
    pub desired_status: String,
    /// `HEALTHY`, `UNHEALTHY` or `UNKNOWN`.
    pub health_status: String,
    pub cpu: u32,
    pub memory: u32,
    pub architecture: Option<Architecture>,
    pub created_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub stopping_at: Option<DateTime<Utc>>,
    pub stopped_at: Option<DateTime<Utc>>,
    pub stop_code: Option<String>,
    pub stopped_reason: Option<String>,
}

/// ECS, as ShinyFleet uses it.
#[async_trait]
pub trait Fleet: Send + Sync + 'static {
    /// A cheap call proving the cloud answers and the configured cluster exists.
    /// `NotFound` when the cluster is missing, `Unavailable` when the cloud is unreachable.
    async fn probe(&self) -> Result<(), CloudError>;

    /// Registers a new revision of `spec.family` (Fargate, awsvpc, one essential container
    /// named `shiny`) and returns its ARN and revision number.
    async fn register_task_definition(&self, spec: &TaskDefinitionSpec) -> Result<TaskDefinitionRef, CloudError>;

    /// Creates the service (Fargate launch type, awsvpc, deployment circuit breaker with
    /// rollback). `Conflict` when an active service of that name exists, `Invalid` for an
    /// unknown task definition.
    async fn create_service(&self, spec: &ServiceSpec) -> Result<ServiceStatus, CloudError>;

    /// Changes an existing service: task definition, desired count, or a forced new
    /// deployment. `NotFound` when the service does not exist or is inactive, `Invalid` for
    /// an unknown task definition. A desired-count change alone starts no deployment.
    async fn update_service(&self, update: &ServiceUpdate) -> Result<ServiceStatus, CloudError>;

    /// Deletes a service, scaling it to zero first (its tasks drain and stop); its task
    /// definitions stay registered, so its history stays readable. `NotFound` for an unknown
    /// or already deleted service. ECS keeps a deleted service visible as `DRAINING`, then
    /// `INACTIVE`, for a while; a service of the same name can be created again.
    async fn delete_service(&self, name: &str) -> Result<(), CloudError>;

    /// Describes any number of services, in batches of 10. Names that do not exist are left
    /// out of the answer rather than failing the call; inactive or draining services are
    /// returned with that status.
    async fn describe_services(&self, names: &[String]) -> Result<Vec<ServiceStatus>, CloudError>;

    /// Lists the ARNs of a service's tasks (all pages, 100 at a time). `NotFound` for an
    /// unknown service.
    async fn list_tasks(&self, service: &str, filter: TaskFilter) -> Result<Vec<String>, CloudError>;

    /// Lists the ARNs of every task of the cluster with that desired status, whatever started
    /// it (all pages, 100 at a time): one listing serves the whole fleet, where a listing per
    /// service would cost a call per app.
    async fn list_cluster_tasks(&self, filter: TaskFilter) -> Result<Vec<String>, CloudError>;

    /// Describes any number of tasks, in batches of 100; unknown ARNs are left out.
    async fn describe_tasks(&self, arns: &[String]) -> Result<Vec<TaskInfo>, CloudError>;

    /// Asks ECS to stop a task, with a reason shown in its stop record. `NotFound` for an
    /// unknown task.
    async fn stop_task(&self, arn: &str, reason: &str) -> Result<(), CloudError>;

    /// The service's most recent events, newest first, at most `limit`. `NotFound` for an
    /// unknown service.
    async fn service_events(&self, service: &str, limit: usize) -> Result<Vec<ServiceEvent>, CloudError>;
}

/// The one-word state the console shows for an app, derived from its service (the `state` of
/// a `view::LiveStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LiveState {
    /// Desired count reached and nothing rolling out.
    Running,
    /// A deployment is in progress, or tasks are still starting.
    Deploying,
    /// Desired count is zero (scheduled off, or stopped by hand).
    ScaledToZero,
    /// The last rollout failed.
    Failed,
    /// A running task fails its container health check (ECS will replace it; if it keeps
    /// failing, the app does not serve).
    Unhealthy,
    /// The service does not exist in the cloud (never deployed, or deleted there).
    NotDeployed,
}

impl LiveState {
    /// Derives the state from the counts and the primary deployment's rollout state.
    pub fn derive(service_status: &str, desired: u32, running: u32, rollout: Option<RolloutState>) -> Self {
        if service_status != "ACTIVE" {
            return Self::NotDeployed;
        }
        match rollout {
            Some(RolloutState::Failed) => Self::Failed,
            Some(RolloutState::InProgress) => Self::Deploying,
            _ if desired == 0 => Self::ScaledToZero,
            _ if running < desired => Self::Deploying,
            _ => Self::Running,
        }
    }

    /// The state once the running tasks' health is known: a failing health check outranks
    /// every state but a failed rollout and a missing service (those say more).
    pub fn with_health(self, unhealthy_tasks: u32) -> Self {
        match self {
            Self::Running | Self::Deploying | Self::ScaledToZero if unhealthy_tasks > 0 => Self::Unhealthy,
            other => other,
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Unhealthy => "unhealthy",
            Self::Deploying => "deploying",
            Self::ScaledToZero => "scaled to zero",
            Self::Failed => "failed",
            Self::NotDeployed => "not deployed",
        }
    }
}

impl RolloutState {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "IN_PROGRESS" => Some(Self::InProgress),
            "COMPLETED" => Some(Self::Completed),
            "FAILED" => Some(Self::Failed),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::InProgress => "IN_PROGRESS",
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_state_follows_rollout_then_counts() {
        use RolloutState::*;
        let cases = [
            ("ACTIVE", 2, 2, Some(Completed), LiveState::Running),
            ("ACTIVE", 2, 2, None, LiveState::Running),
            ("ACTIVE", 2, 1, Some(Completed), LiveState::Deploying),
            ("ACTIVE", 2, 2, Some(InProgress), LiveState::Deploying),
            ("ACTIVE", 2, 0, Some(Failed), LiveState::Failed),
            ("ACTIVE", 0, 0, Some(Completed), LiveState::ScaledToZero),
            ("ACTIVE", 0, 1, None, LiveState::ScaledToZero),
            ("DRAINING", 1, 1, None, LiveState::NotDeployed),
            ("INACTIVE", 1, 0, None, LiveState::NotDeployed),
        ];
        for (status, desired, running, rollout, want) in cases {
            assert_eq!(
                LiveState::derive(status, desired, running, rollout),
                want,
                "{status} {desired} {running} {rollout:?}"
            );
        }
        for s in [InProgress, Completed, Failed] {
            assert_eq!(RolloutState::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn a_failing_health_check_outranks_every_state_but_a_failed_rollout_or_no_service() {
        use LiveState::*;
        for (state, unhealthy, want) in [
            (Running, 1, Unhealthy),
            (Deploying, 2, Unhealthy),
            (ScaledToZero, 1, Unhealthy),
            (Failed, 1, Failed),
            (NotDeployed, 1, NotDeployed),
            (Running, 0, Running),
            (Deploying, 0, Deploying),
        ] {
            assert_eq!(state.with_health(unhealthy), want, "{state:?} with {unhealthy} unhealthy");
        }
    }
}
