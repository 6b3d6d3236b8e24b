//! The simulated ECS cluster behind the sandbox's `Fleet`: task definitions, services with
//! their deployments and event logs, and tasks walking through their lifecycle.
//!
//! Time moves only when a caller looks: [`Ecs::advance_to`] replays every task timer that
//! fell due since the last call, oldest first, and after each one lets the service
//! scheduler react (replace, scale, complete or fail a deployment, retire old tasks). A long
//! gap between calls therefore leaves the same history as polling every second would. The
//! rules themselves (statuses, timings, breaker threshold, scale-in order) live in
//! [`super::lifecycle`].

use super::lifecycle::{self, Fate, LastStatus, Step, HEALTHY_AFTER_SECS};
use super::rng::Rng;
use chrono::{DateTime, Duration, Utc};
use domain::fleet::{
    Deployment as DeploymentInfo, RolloutState, ServiceEvent, ServiceSpec, ServiceStatus, ServiceUpdate,
    TaskDefinitionRef, TaskDefinitionSpec, TaskFilter, TaskInfo,
};
use domain::{Architecture, CloudError};
use std::collections::{BTreeMap, VecDeque};

/// The region and account every sandbox ARN names.
pub(crate) const REGION: &str = "us-east-1";
pub(crate) const ACCOUNT: &str = "000000000000";
/// The one cluster the sandbox simulates.
pub const CLUSTER: &str = "shinyfleet-sandbox";

/// ECS forgets stopped tasks after about an hour.
const STOPPED_TASK_RETENTION_SECS: i64 = 60 * 60;
/// Running history kept for metrics: CloudWatch's one-minute data lives 15 days.
const RUN_HISTORY_RETENTION_SECS: i64 = 15 * 24 * 60 * 60;
/// ECS returns a service's 100 most recent events.
const MAX_EVENTS: usize = 100;
/// A safety net for the replay: the rules always settle, but one call never replays more
/// than this many task steps (the rest is replayed by the next call).
const MAX_STEPS_PER_CALL: usize = 100_000;
/// The sandbox runs at most this many tasks per service.
pub(crate) const MAX_DESIRED: u32 = 100;

const CIRCUIT_BREAKER_REASON: &str = "ECS deployment circuit breaker: tasks failed to start.";

/// One registered revision.
#[derive(Debug, Clone)]
struct TaskDefinition {
    arn: String,
    revision: i32,
    spec: TaskDefinitionSpec,
}

/// One deployment of a service, with what its tasks are made of.
#[derive(Debug, Clone)]
struct Deployment {
    id: String,
    task_definition: String,
    cpu: u32,
    memory: u32,
    architecture: Architecture,
    fate: Fate,
    failed_tasks: u32,
    rollout: RolloutState,
    reason: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Debug)]
struct Service {
    name: String,
    arn: String,
    desired: u32,
    target_group: Option<String>,
    /// The first is PRIMARY; the others are ACTIVE, being replaced by it.
    deployments: Vec<Deployment>,
    /// Newest first.
    events: VecDeque<ServiceEvent>,
    /// The last deployment that completed (id, task-definition ARN): the rollback target.
    last_completed: Option<(String, String)>,
    /// Whether the last "steady state" event still holds.
    steady: bool,
    /// Deleted: its tasks drain, and nothing but the replay sees it any more.
    deleted: bool,
}

impl Service {
    fn primary(&self) -> Option<&Deployment> {
        self.deployments.first()
    }

    fn push_event(&mut self, rng: &mut Rng, at: DateTime<Utc>, what: &str) {
        let message = format!("(service {}) {what}", self.name);
        self.events.push_front(ServiceEvent { id: rng.uuid(), at, message });
        self.events.truncate(MAX_EVENTS);
    }

    fn touch(&mut self, deployment: &str, at: DateTime<Utc>) {
        if let Some(d) = self.deployments.iter_mut().find(|d| d.id == deployment) {
            d.updated_at = at;
        }
    }
}

/// Why a task stops, and so its stop code and reason.
#[derive(Debug, Clone)]
enum StopCause {
    /// Someone called `stop_task`.
    User(String),
    /// The service scheduler, on behalf of a deployment (scale-in, replacement, rollback).
    Scheduler(String),
    /// The essential container exited.
    Exited,
}

impl StopCause {
    fn record(&self) -> (&'static str, String) {
        match self {
            Self::User(reason) => ("UserInitiated", reason.clone()),
            Self::Scheduler(deployment) => {
                ("ServiceSchedulerInitiated", format!("Scaling activity initiated by (deployment {deployment})"))
            }
            Self::Exited => ("EssentialContainerExited", "Essential container in task exited".to_owned()),
        }
    }
}

#[derive(Debug)]
struct Task {
    /// Launch order: ties between timers and listings follow it.
    seq: u64,
    id: String,
    arn: String,
    service: String,
    deployment: String,
    task_definition: String,
    cpu: u32,
    memory: u32,
    architecture: Architecture,
    fate: Fate,
    status: LastStatus,
    desired_running: bool,
    /// When the task takes its next step; `None` at rest.
    next_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    healthy_at: Option<DateTime<Utc>>,
    stopping_at: Option<DateTime<Utc>>,
    stopped_at: Option<DateTime<Utc>>,
    stop_code: Option<&'static str>,
    stopped_reason: Option<String>,
}

impl Task {
    fn is_live(&self) -> bool {
        self.status != LastStatus::Stopped
    }

    fn health(&self, now: DateTime<Utc>) -> &'static str {
        let checked = matches!(self.status, LastStatus::Running | LastStatus::Deactivating | LastStatus::Stopping);
        if checked && self.healthy_at.is_some_and(|at| at <= now) {
            "HEALTHY"
        } else {
            "UNKNOWN"
        }
    }

    fn info(&self, now: DateTime<Utc>) -> TaskInfo {
        TaskInfo {
            arn: self.arn.clone(),
            service: Some(self.service.clone()),
            task_definition: self.task_definition.clone(),
            last_status: self.status.as_str().to_owned(),
            desired_status: if self.desired_running { "RUNNING" } else { "STOPPED" }.to_owned(),
            health_status: self.health(now).to_owned(),
            cpu: self.cpu,
            memory: self.memory,
            architecture: Some(self.architecture),
            created_at: Some(self.created_at),
            started_at: self.started_at,
            stopping_at: self.stopping_at,
            stopped_at: self.stopped_at,
            stop_code: self.stop_code.map(str::to_owned),
            stopped_reason: self.stopped_reason.clone(),
        }
    }
}

/// A task as its container's log sees it (read by the sandbox's CloudWatch Logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TaskLog {
    /// The group its task definition's `awslogs` driver writes to.
    pub(crate) log_group: String,
    /// The container port the app listens on.
    pub(crate) port: u16,
    /// When the container started (the task reached RUNNING), if it did.
    pub(crate) started_at: Option<DateTime<Utc>>,
    /// When the task began stopping, if it did.
    pub(crate) stopping_at: Option<DateTime<Utc>>,
    /// Whether the container exited by itself (a `broken` image) rather than being stopped.
    pub(crate) exited: bool,
}

/// A task of a service attached to a target group, as the load balancer sees it: ECS
/// registers its IP once it runs and deregisters it when it starts stopping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// The task's private IP in the sandbox's subnet (`10.0.0.0/16`), fixed by its launch order.
    pub(crate) ip: String,
    /// The container port the app listens on.
    pub(crate) port: u16,
    /// When the task reached RUNNING (was registered), if it did.
    pub(crate) started_at: Option<DateTime<Utc>>,
    /// When its health check first passes, if it will.
    pub(crate) healthy_at: Option<DateTime<Utc>>,
    /// When it began stopping (was deregistered), if it did.
    pub(crate) stopping_at: Option<DateTime<Utc>>,
}

/// A stretch of time one task of a service spent RUNNING; metrics are drawn from these.
#[derive(Debug, Clone)]
struct RunSpan {
    task: String,
    start: DateTime<Utc>,
    end: Option<DateTime<Utc>>,
}

/// Running and starting tasks of one deployment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counts {
    running: u32,
    pending: u32,
}

/// Everything but the services, so the scheduler can hold a service and the tasks at once.
#[derive(Debug)]
struct Cluster {
    rng: Rng,
    next_seq: u64,
    task_definitions: BTreeMap<String, Vec<TaskDefinition>>,
    /// In launch order.
    tasks: Vec<Task>,
    history: BTreeMap<String, Vec<RunSpan>>,
}

/// The whole simulated cluster.
#[derive(Debug)]
pub(crate) struct Ecs {
    /// The instant up to which the simulation has been replayed.
    now: DateTime<Utc>,
    services: BTreeMap<String, Service>,
    cluster: Cluster,
}

impl Ecs {
    pub(crate) fn new(now: DateTime<Utc>, rng: Rng) -> Self {
        Self {
            now,
            services: BTreeMap::new(),
            cluster: Cluster {
                rng,
                next_seq: 0,
                task_definitions: BTreeMap::new(),
                tasks: Vec::new(),
                history: BTreeMap::new(),
            },
        }
    }

    /// The simulation's present: never earlier than any change it has made.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// Replays every task step due at or before `target`, in time order (launch order on
    /// ties), letting each service's scheduler react after each step. A clock that went
    /// backwards leaves the simulation where it is.
    pub(crate) fn advance_to(&mut self, target: DateTime<Utc>) {
        let mut steps = 0;
        loop {
            let Some((index, at)) = self.cluster.next_due(target) else {
                self.now = self.now.max(target);
                break;
            };
            if steps == MAX_STEPS_PER_CALL {
                tracing::warn!(steps, "sandbox ECS replay stopped early; it continues on the next call");
                break;
            }
            steps += 1;
            self.now = self.now.max(at);
            self.fire(index, at);
        }
        self.cluster.forget_old(self.now);
    }

    fn fire(&mut self, index: usize, at: DateTime<Utc>) {
        let cluster = &mut self.cluster;
        let task = &mut cluster.tasks[index];
        task.next_at = None;
        let (status, fate, deployment) = (task.status, task.fate, task.deployment.clone());
        let Some(svc) = self.services.get_mut(&task.service) else {
            return;
        };
        match lifecycle::step(status, fate) {
            None => return,
            Some(Step::To(next)) => cluster.enter(svc, index, next, at),
            Some(Step::Exits) => {
                cluster.begin_stop(svc, index, at, &StopCause::Exited);
                if let Some(d) = svc.deployments.iter_mut().find(|d| d.id == deployment) {
                    d.failed_tasks += 1;
                    d.updated_at = at;
                }
            }
        }
        reconcile(svc, cluster, at);
    }

    /// Registers the next revision of `spec.family`.
    pub(crate) fn register(&mut self, spec: &TaskDefinitionSpec) -> Result<TaskDefinitionRef, CloudError> {
        check_name("family", &spec.family)?;
        if spec.image.trim().is_empty() {
            return Err(CloudError::Invalid("the container image is required".to_owned()));
        }
        if spec.cpu == 0 || spec.memory == 0 {
            return Err(CloudError::Invalid("cpu and memory must be positive".to_owned()));
        }
        let revisions = self.cluster.task_definitions.entry(spec.family.clone()).or_default();
        let revision = i32::try_from(revisions.len() + 1)
            .map_err(|_| CloudError::Invalid(format!("family {} has too many revisions", spec.family)))?;
        let arn = format!("arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{}:{revision}", spec.family);
        revisions.push(TaskDefinition { arn: arn.clone(), revision, spec: spec.clone() });
        Ok(TaskDefinitionRef { arn, family: spec.family.clone(), revision })
    }

    /// Creates a service and starts its first deployment.
    pub(crate) fn create_service(&mut self, spec: &ServiceSpec) -> Result<ServiceStatus, CloudError> {
        check_name("service name", &spec.name)?;
        check_desired(spec.desired_count)?;
        if self.services.get(&spec.name).is_some_and(|svc| !svc.deleted) {
            return Err(CloudError::Conflict(format!("service {}", spec.name)));
        }
        let td = self.cluster.resolve(&spec.task_definition)?.clone();
        let at = self.now;
        let deployment = self.cluster.new_deployment(&td, at);
        let svc = Service {
            name: spec.name.clone(),
            arn: format!("arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER}/{}", spec.name),
            desired: spec.desired_count,
            target_group: spec.target_group_arn.clone(),
            deployments: vec![deployment],
            events: VecDeque::new(),
            last_completed: None,
            steady: false,
            deleted: false,
        };
        // A deleted service of the same name is replaced (ECS allows that once it is inactive).
        self.services.insert(spec.name.clone(), svc);
        let svc = self.services.get_mut(&spec.name).ok_or_else(|| service_not_found(&spec.name))?;
        reconcile(svc, &mut self.cluster, at);
        Ok(describe(svc, &self.cluster))
    }

    /// Changes a service's desired count and/or starts a new deployment (a different task
    /// definition, or a forced redeploy of the current one).
    pub(crate) fn update_service(&mut self, update: &ServiceUpdate) -> Result<ServiceStatus, CloudError> {
        let at = self.now;
        let svc = self
            .services
            .get_mut(&update.name)
            .filter(|svc| !svc.deleted)
            .ok_or_else(|| service_not_found(&update.name))?;
        if let Some(desired) = update.desired_count {
            check_desired(desired)?;
        }
        let current = svc.primary().map(|d| d.task_definition.clone()).unwrap_or_default();
        let requested = match &update.task_definition {
            Some(reference) => Some(self.cluster.resolve(reference)?.clone()),
            None => None,
        };
        let redeploy_with = match requested {
            Some(td) if update.force_new_deployment || td.arn != current => Some(td),
            Some(_) => None,
            None if update.force_new_deployment => Some(self.cluster.resolve(&current)?.clone()),
            None => None,
        };
        if let Some(desired) = update.desired_count {
            svc.desired = desired;
        }
        if let Some(target) = &update.load_balancer {
            svc.target_group = target.as_ref().map(|t| t.target_group_arn.clone());
        }
        if let Some(td) = redeploy_with {
            let deployment = self.cluster.new_deployment(&td, at);
            svc.deployments.insert(0, deployment);
        }
        reconcile(svc, &mut self.cluster, at);
        Ok(describe(svc, &self.cluster))
    }

    /// Deletes a service: desired count 0 (its tasks drain), then hidden from every call.
    pub(crate) fn delete_service(&mut self, name: &str) -> Result<(), CloudError> {
        let at = self.now;
        let svc = self.services.get_mut(name).filter(|svc| !svc.deleted).ok_or_else(|| service_not_found(name))?;
        svc.desired = 0;
        reconcile(svc, &mut self.cluster, at);
        svc.deleted = true;
        Ok(())
    }

    /// The named services (by name or ARN), in the order asked, unknown ones left out.
    pub(crate) fn describe_services(&self, names: &[String]) -> Vec<ServiceStatus> {
        names.iter().filter_map(|n| self.service(n)).map(|svc| describe(svc, &self.cluster)).collect()
    }

    /// The ARNs of a service's tasks that should run (`Running`) or stopped recently.
    pub(crate) fn list_tasks(&self, service: &str, filter: TaskFilter) -> Result<Vec<String>, CloudError> {
        let svc = self.service(service).ok_or_else(|| service_not_found(service))?;
        let wanted = filter == TaskFilter::Running;
        Ok(self
            .cluster
            .tasks
            .iter()
            .filter(|t| t.service == svc.name && t.desired_running == wanted)
            .map(|t| t.arn.clone())
            .collect())
    }

    /// Every task of the cluster with that desired status, oldest first.
    pub(crate) fn list_cluster_tasks(&self, filter: TaskFilter) -> Vec<String> {
        let wanted = filter == TaskFilter::Running;
        self.cluster.tasks.iter().filter(|t| t.desired_running == wanted).map(|t| t.arn.clone()).collect()
    }

    /// The named tasks (by ARN or id), in the order asked, unknown ones left out.
    pub(crate) fn describe_tasks(&self, arns: &[String]) -> Vec<TaskInfo> {
        arns.iter().filter_map(|r| self.cluster.find_task(r)).map(|i| self.cluster.tasks[i].info(self.now)).collect()
    }

    /// Stops a task on a user's request; its service launches a replacement. Stopping a
    /// task that is already stopping changes nothing.
    pub(crate) fn stop_task(&mut self, reference: &str, reason: &str) -> Result<(), CloudError> {
        let at = self.now;
        let index =
            self.cluster.find_task(reference).ok_or_else(|| CloudError::NotFound(format!("task {reference}")))?;
        let reason = match reason.trim() {
            "" => "Task stopped by user".to_owned(),
            text => text.chars().take(255).collect(),
        };
        let Some(svc) = self.services.get_mut(&self.cluster.tasks[index].service) else {
            return Ok(());
        };
        if self.cluster.begin_stop(svc, index, at, &StopCause::User(reason)) {
            reconcile(svc, &mut self.cluster, at);
        }
        Ok(())
    }

    /// A service's most recent events, newest first.
    pub(crate) fn service_events(&self, service: &str, limit: usize) -> Result<Vec<ServiceEvent>, CloudError> {
        let svc = self.service(service).ok_or_else(|| service_not_found(service))?;
        Ok(svc.events.iter().take(limit).cloned().collect())
    }

    /// When the service's tasks were running, as (start, end) pairs with `end` at the
    /// present for tasks still running; empty for an unknown service.
    pub(crate) fn run_spans(&self, service: &str) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        self.cluster
            .history
            .get(service)
            .map(|spans| spans.iter().map(|s| (s.start, s.end.unwrap_or(self.now))).collect())
            .unwrap_or_default()
    }

    /// What the container of the task `id` (or ARN) logged depends on; `None` for a task the
    /// cluster does not know, or no longer lists.
    pub(crate) fn task_log(&self, id: &str) -> Option<TaskLog> {
        let task = &self.cluster.tasks[self.cluster.find_task(id)?];
        let spec = &self.cluster.resolve(&task.task_definition).ok()?.spec;
        Some(TaskLog {
            log_group: spec.log_group.clone(),
            port: spec.container_port,
            started_at: task.started_at,
            stopping_at: task.stopping_at,
            exited: task.stop_code == Some(StopCause::Exited.record().0),
        })
    }

    /// The tasks still listed of every service (deleted ones too: their tasks drain) whose
    /// containers are registered with the target group `arn`, in launch order.
    pub(crate) fn targets(&self, arn: &str) -> Vec<Target> {
        let attached: Vec<&str> = self
            .services
            .values()
            .filter(|s| s.target_group.as_deref() == Some(arn))
            .map(|s| s.name.as_str())
            .collect();
        self.cluster
            .tasks
            .iter()
            .filter(|t| attached.contains(&t.service.as_str()))
            .map(|t| Target {
                ip: format!("10.0.{}.{}", (t.seq / 250) % 256, t.seq % 250 + 4),
                port: self.cluster.resolve(&t.task_definition).map_or(0, |td| td.spec.container_port),
                started_at: t.started_at,
                healthy_at: t.healthy_at,
                stopping_at: t.stopping_at,
            })
            .collect()
    }

    fn service(&self, reference: &str) -> Option<&Service> {
        let name = if reference.starts_with("arn:") { reference.rsplit('/').next()? } else { reference };
        self.services.get(name).filter(|svc| !svc.deleted && (svc.name == reference || svc.arn == reference))
    }
}

impl Cluster {
    /// The task whose timer fires first at or before `target`, and when.
    fn next_due(&self, target: DateTime<Utc>) -> Option<(usize, DateTime<Utc>)> {
        self.tasks
            .iter()
            .enumerate()
            .filter_map(|(i, t)| t.next_at.filter(|at| *at <= target).map(|at| (at, t.seq, i)))
            .min()
            .map(|(at, _, i)| (i, at))
    }

    /// A task definition by ARN, `family:revision` or `family` (the latest revision).
    fn resolve(&self, reference: &str) -> Result<&TaskDefinition, CloudError> {
        let short = reference.rsplit_once("task-definition/").map_or(reference, |(_, rest)| rest);
        let (family, revision) = match short.rsplit_once(':') {
            Some((family, revision)) => (family, revision.parse::<i32>().ok()),
            None => (short, None),
        };
        let revisions = self.task_definitions.get(family);
        let found = match (revisions, revision) {
            (Some(list), Some(revision)) => list.iter().find(|td| td.revision == revision),
            (Some(list), None) if !short.contains(':') => list.last(),
            _ => None,
        };
        found.ok_or_else(|| CloudError::Invalid(format!("unable to find task definition {reference}")))
    }

    fn find_task(&self, reference: &str) -> Option<usize> {
        self.tasks.iter().position(|t| t.arn == reference || t.id == reference)
    }

    fn dwell(&mut self, status: LastStatus) -> Option<Duration> {
        status.dwell_ms().map(|(lo, hi)| Duration::milliseconds(i64::try_from(self.rng.between(lo, hi)).unwrap_or(0)))
    }

    fn new_deployment(&mut self, td: &TaskDefinition, at: DateTime<Utc>) -> Deployment {
        let id = format!("ecs-svc/{}", self.rng.between(1_000_000_000_000_000_000, 9_999_999_999_999_999_999));
        Deployment {
            reason: format!("ECS deployment {id} in progress."),
            id,
            task_definition: td.arn.clone(),
            cpu: td.spec.cpu,
            memory: td.spec.memory,
            architecture: td.spec.architecture,
            fate: Fate::of_image(&td.spec.image),
            failed_tasks: 0,
            rollout: RolloutState::InProgress,
            created_at: at,
            updated_at: at,
        }
    }

    /// Launches one task of `deployment` for `service`; returns its id.
    fn launch(&mut self, service: &str, deployment: &Deployment, at: DateTime<Utc>) -> String {
        self.next_seq += 1;
        let id = self.rng.hex(32);
        let next_at = self.dwell(LastStatus::Provisioning).map(|d| at + d);
        self.tasks.push(Task {
            seq: self.next_seq,
            arn: format!("arn:aws:ecs:{REGION}:{ACCOUNT}:task/{CLUSTER}/{id}"),
            id: id.clone(),
            service: service.to_owned(),
            deployment: deployment.id.clone(),
            task_definition: deployment.task_definition.clone(),
            cpu: deployment.cpu,
            memory: deployment.memory,
            architecture: deployment.architecture,
            fate: deployment.fate,
            status: LastStatus::Provisioning,
            desired_running: true,
            next_at,
            created_at: at,
            started_at: None,
            healthy_at: None,
            stopping_at: None,
            stopped_at: None,
            stop_code: None,
            stopped_reason: None,
        });
        id
    }

    /// Moves a task into `status` and sets its next timer.
    fn enter(&mut self, svc: &mut Service, index: usize, status: LastStatus, at: DateTime<Utc>) {
        let next_at = self.dwell(status).map(|d| at + d);
        let task = &mut self.tasks[index];
        task.status = status;
        task.next_at = next_at;
        match status {
            LastStatus::Running => {
                task.started_at = Some(at);
                task.healthy_at = Some(at + Duration::seconds(HEALTHY_AFTER_SECS));
                let span = RunSpan { task: task.id.clone(), start: at, end: None };
                self.history.entry(task.service.clone()).or_default().push(span);
                let deployment = task.deployment.clone();
                svc.touch(&deployment, at);
                if let Some(tg) = svc.target_group.clone() {
                    svc.push_event(&mut self.rng, at, &format!("registered 1 targets in (target-group {tg})"));
                }
            }
            LastStatus::Stopped => task.stopped_at = Some(at),
            _ => {}
        }
    }

    /// Starts stopping a task (desired status STOPPED, then DEACTIVATING onwards). Returns
    /// false when it was already stopping.
    fn begin_stop(&mut self, svc: &mut Service, index: usize, at: DateTime<Utc>, cause: &StopCause) -> bool {
        if !self.tasks[index].desired_running {
            return false;
        }
        let next_at = self.dwell(LastStatus::Deactivating).map(|d| at + d);
        let task = &mut self.tasks[index];
        let was_running = task.status == LastStatus::Running;
        let (code, reason) = cause.record();
        task.desired_running = false;
        task.status = LastStatus::Deactivating;
        task.next_at = next_at;
        task.stopping_at = Some(at);
        task.stop_code = Some(code);
        task.stopped_reason = Some(reason);
        if task.healthy_at.is_some_and(|h| h > at) {
            task.healthy_at = None;
        }
        let (id, deployment) = (task.id.clone(), task.deployment.clone());
        svc.touch(&deployment, at);
        if was_running {
            let open = self
                .history
                .get_mut(&svc.name)
                .and_then(|spans| spans.iter_mut().rev().find(|s| s.task == id && s.end.is_none()));
            if let Some(span) = open {
                span.end = Some(at);
            }
            if let Some(tg) = svc.target_group.clone() {
                svc.push_event(&mut self.rng, at, &format!("deregistered 1 targets in (target-group {tg})"));
            }
        }
        true
    }

    /// Stops the given tasks on behalf of `deployment`, and logs it.
    fn stop_by_scheduler(&mut self, svc: &mut Service, indexes: &[usize], deployment: &str, at: DateTime<Utc>) {
        let cause = StopCause::Scheduler(deployment.to_owned());
        let mut stopped = Vec::new();
        for &i in indexes {
            if self.begin_stop(svc, i, at, &cause) {
                stopped.push(self.tasks[i].id.clone());
            }
        }
        if !stopped.is_empty() {
            let what = format!("has stopped {} running tasks: {}.", stopped.len(), task_list(&stopped));
            svc.push_event(&mut self.rng, at, &what);
        }
    }

    /// Indexes of a deployment's tasks that should be running.
    fn active_tasks(&self, deployment: &str) -> Vec<usize> {
        (0..self.tasks.len())
            .filter(|&i| self.tasks[i].deployment == deployment && self.tasks[i].desired_running)
            .collect()
    }

    fn counts(&self, deployment: &str) -> Counts {
        self.tasks.iter().filter(|t| t.deployment == deployment && t.desired_running).fold(
            Counts::default(),
            |mut c, t| {
                if t.status == LastStatus::Running {
                    c.running += 1;
                } else if t.status.is_starting() {
                    c.pending += 1;
                }
                c
            },
        )
    }

    /// Forgets tasks stopped more than an hour ago and run history older than CloudWatch's.
    fn forget_old(&mut self, now: DateTime<Utc>) {
        let stopped_cutoff = now - Duration::seconds(STOPPED_TASK_RETENTION_SECS);
        self.tasks.retain(|t| t.stopped_at.is_none_or(|at| at >= stopped_cutoff));
        let history_cutoff = now - Duration::seconds(RUN_HISTORY_RETENTION_SECS);
        for spans in self.history.values_mut() {
            spans.retain(|s| s.end.is_none_or(|end| end >= history_cutoff));
        }
    }
}

/// The service scheduler's reaction to any change: trip the circuit breaker (and roll
/// back), bring the primary deployment to its desired count, complete it, retire the
/// deployments it replaces, and note a steady state.
fn reconcile(svc: &mut Service, cluster: &mut Cluster, at: DateTime<Utc>) {
    trip_circuit_breaker(svc, cluster, at);
    scale_primary(svc, cluster, at);
    complete_primary(svc, cluster, at);
    retire_replaced(svc, cluster, at);
    note_steady_state(svc, cluster, at);
}

/// Too many failed tasks fail the primary deployment. When an earlier deployment
/// completed, a new deployment of its task definition takes over; otherwise the service
/// stops launching tasks until the next update. The breaker also watches a deployment that
/// completed without tasks and then failed when scaled up, so a broken image never
/// relaunches forever.
fn trip_circuit_breaker(svc: &mut Service, cluster: &mut Cluster, at: DateTime<Utc>) {
    let Some(primary) = svc.deployments.first_mut() else {
        return;
    };
    if primary.rollout == RolloutState::Failed || primary.failed_tasks < lifecycle::failure_threshold(svc.desired) {
        return;
    }
    primary.rollout = RolloutState::Failed;
    primary.reason = CIRCUIT_BREAKER_REASON.to_owned();
    primary.updated_at = at;
    let (failed_id, failed_td) = (primary.id.clone(), primary.task_definition.clone());
    svc.push_event(&mut cluster.rng, at, &format!("deployment {failed_id} deployment failed: tasks failed to start."));

    let target = svc
        .last_completed
        .clone()
        .filter(|(_, td)| *td != failed_td)
        .and_then(|(id, td)| cluster.resolve(&td).ok().cloned().map(|td| (id, td)));
    if let Some((previous, td)) = target {
        let mut rollback = cluster.new_deployment(&td, at);
        rollback.reason = format!("ECS deployment circuit breaker: rolling back to deploymentId {previous}.");
        svc.deployments.insert(0, rollback);
        svc.push_event(&mut cluster.rng, at, &format!("rolling back to deployment {previous}."));
    }
    let driver = svc.primary().map_or_else(|| failed_id.clone(), |d| d.id.clone());
    let leftovers = cluster.active_tasks(&failed_id);
    cluster.stop_by_scheduler(svc, &leftovers, &driver, at);
}

/// Launches or stops tasks of the primary deployment (unless it failed) to match the
/// desired count.
fn scale_primary(svc: &mut Service, cluster: &mut Cluster, at: DateTime<Utc>) {
    let Some(primary) = svc.primary().filter(|d| d.rollout != RolloutState::Failed).cloned() else {
        return;
    };
    let active = cluster.active_tasks(&primary.id);
    let desired = svc.desired as usize;
    if active.len() < desired {
        let started: Vec<String> = (active.len()..desired).map(|_| cluster.launch(&svc.name, &primary, at)).collect();
        svc.touch(&primary.id, at);
        let what = format!("has started {} tasks: {}.", started.len(), task_list(&started));
        svc.push_event(&mut cluster.rng, at, &what);
    } else if active.len() > desired {
        let by_seq: Vec<(u64, LastStatus)> =
            active.iter().map(|&i| (cluster.tasks[i].seq, cluster.tasks[i].status)).collect();
        let chosen = lifecycle::scale_in_order(&by_seq, active.len() - desired);
        let indexes: Vec<usize> = active.into_iter().filter(|&i| chosen.contains(&cluster.tasks[i].seq)).collect();
        cluster.stop_by_scheduler(svc, &indexes, &primary.id, at);
    }
}

/// An in-progress primary deployment completes once its desired tasks are running.
fn complete_primary(svc: &mut Service, cluster: &mut Cluster, at: DateTime<Utc>) {
    let desired = svc.desired;
    let Some(primary) = svc.deployments.first_mut() else {
        return;
    };
    if primary.rollout != RolloutState::InProgress || cluster.counts(&primary.id).running < desired {
        return;
    }
    primary.rollout = RolloutState::Completed;
    primary.reason = format!("ECS deployment {} completed.", primary.id);
    primary.updated_at = at;
    let id = primary.id.clone();
    svc.last_completed = Some((id.clone(), primary.task_definition.clone()));
    svc.push_event(&mut cluster.rng, at, &format!("deployment {id} deployment completed."));
}

/// Once the primary deployment completed, the tasks of the deployments it replaced stop,
/// and those deployments disappear when their last task has stopped.
fn retire_replaced(svc: &mut Service, cluster: &mut Cluster, at: DateTime<Utc>) {
    let Some(primary) = svc.primary().filter(|d| d.rollout == RolloutState::Completed) else {
        return;
    };
    let primary_id = primary.id.clone();
    let old: Vec<usize> = svc.deployments.iter().skip(1).flat_map(|d| cluster.active_tasks(&d.id)).collect();
    cluster.stop_by_scheduler(svc, &old, &primary_id, at);
    let mut replaced = svc.deployments.split_off(1);
    replaced.retain(|d| cluster.tasks.iter().any(|t| t.deployment == d.id && t.is_live()));
    svc.deployments.extend(replaced);
}

/// Logs "has reached a steady state" each time the service settles: one completed
/// deployment, its desired tasks running, none starting or stopping.
fn note_steady_state(svc: &mut Service, cluster: &mut Cluster, at: DateTime<Utc>) {
    let steady = match svc.deployments.as_slice() {
        [only] => {
            only.rollout == RolloutState::Completed
                && cluster.counts(&only.id).running == svc.desired
                && cluster
                    .tasks
                    .iter()
                    .filter(|t| t.service == svc.name)
                    .all(|t| !t.status.is_starting() && !t.status.is_stopping())
        }
        _ => false,
    };
    if steady && !svc.steady {
        svc.push_event(&mut cluster.rng, at, "has reached a steady state.");
    }
    svc.steady = steady;
}

/// A service as ECS describes it; counts are derived from the tasks so they always agree.
fn describe(svc: &Service, cluster: &Cluster) -> ServiceStatus {
    let deployments: Vec<DeploymentInfo> = svc
        .deployments
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let counts = cluster.counts(&d.id);
            DeploymentInfo {
                id: d.id.clone(),
                status: if i == 0 { "PRIMARY" } else { "ACTIVE" }.to_owned(),
                task_definition: d.task_definition.clone(),
                desired_count: if i == 0 { svc.desired } else { counts.running + counts.pending },
                running_count: counts.running,
                pending_count: counts.pending,
                failed_tasks: d.failed_tasks,
                rollout_state: Some(d.rollout),
                rollout_reason: Some(d.reason.clone()),
                created_at: Some(d.created_at),
                updated_at: Some(d.updated_at),
            }
        })
        .collect();
    ServiceStatus {
        name: svc.name.clone(),
        arn: svc.arn.clone(),
        status: "ACTIVE".to_owned(),
        task_definition: svc.primary().map(|d| d.task_definition.clone()).unwrap_or_default(),
        desired_count: svc.desired,
        running_count: deployments.iter().map(|d| d.running_count).sum(),
        pending_count: deployments.iter().map(|d| d.pending_count).sum(),
        deployments,
        events: svc.events.iter().cloned().collect(),
    }
}

fn task_list(ids: &[String]) -> String {
    ids.iter().map(|id| format!("(task {id})")).collect::<Vec<_>>().join(" ")
}

fn service_not_found(name: &str) -> CloudError {
    CloudError::NotFound(format!("service {name}"))
}

/// ECS names (families, services): 1–255 letters, digits, hyphens and underscores.
fn check_name(what: &str, name: &str) -> Result<(), CloudError> {
    let valid = !name.is_empty()
        && name.len() <= 255
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(CloudError::Invalid(format!("{what} must be 1 to 255 letters, digits, hyphens or underscores")))
    }
}

fn check_desired(desired: u32) -> Result<(), CloudError> {
    if desired <= MAX_DESIRED {
        Ok(())
    } else {
        Err(CloudError::Invalid(format!("the sandbox runs at most {MAX_DESIRED} tasks per service")))
    }
}
