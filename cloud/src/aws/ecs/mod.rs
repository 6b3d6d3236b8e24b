//! [`EcsFleet`]: the `Fleet` port on Amazon ECS (Fargate), for one cluster.
//!
//! The adapter owns batching and paging: callers pass any number of names or ARNs, and the
//! adapter splits them into ECS's largest batches (10 services, 100 tasks) and follows every
//! `nextToken`. Request shapes live in [`request`], answer mapping in [`response`].

mod request;
mod response;

use crate::aws::error::{from_sdk, malformed};
use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_ecs::types::{Compatibility, DesiredStatus, Failure, LaunchType, NetworkMode, PropagateTags};
use aws_sdk_ecs::Client;
use domain::fleet::{
    Fleet, ServiceEvent, ServiceSpec, ServiceStatus, ServiceUpdate, TaskDefinitionRef, TaskDefinitionSpec, TaskFilter,
    TaskInfo,
};
use domain::CloudError;

/// The most services one `DescribeServices` call accepts.
const SERVICES_PER_CALL: usize = 10;
/// The most tasks one `DescribeTasks` call accepts.
const TASKS_PER_CALL: usize = 100;
/// The largest `ListTasks` page.
const TASKS_PER_PAGE: i32 = 100;
/// The reason ECS gives for a name it does not know.
const MISSING: &str = "MISSING";

/// ECS, for the services and tasks of one cluster.
#[derive(Debug, Clone)]
pub struct EcsFleet {
    client: Client,
    cluster: String,
}

impl EcsFleet {
    /// An adapter for `cluster` (name or ARN), using the shared SDK configuration.
    pub fn new(config: &SdkConfig, cluster: String) -> Self {
        Self::from_client(Client::new(config), cluster)
    }

    /// An adapter around a ready client (a mocked one in tests).
    pub fn from_client(client: Client, cluster: String) -> Self {
        Self { client, cluster }
    }

    async fn describe_batch(&self, names: &[String]) -> Result<Vec<ServiceStatus>, CloudError> {
        let out = self
            .client
            .describe_services()
            .cluster(&self.cluster)
            .set_services(Some(names.to_vec()))
            .send()
            .await
            .map_err(|e| from_sdk("DescribeServices", e))?;
        check_failures("DescribeServices", out.failures())?;
        Ok(out.services().iter().map(response::service_status).collect())
    }

    async fn describe_one(&self, name: &str) -> Result<Option<ServiceStatus>, CloudError> {
        Ok(self.describe_batch(&[name.to_owned()]).await?.into_iter().next())
    }

    async fn list_page(
        &self,
        service: Option<&str>,
        status: DesiredStatus,
        next: Option<String>,
    ) -> Result<(Vec<String>, Option<String>), CloudError> {
        let out = self
            .client
            .list_tasks()
            .cluster(&self.cluster)
            .set_service_name(service.map(str::to_owned))
            .desired_status(status)
            .max_results(TASKS_PER_PAGE)
            .set_next_token(next)
            .send()
            .await
            .map_err(|e| from_sdk("ListTasks", e))?;
        let next = out.next_token().filter(|t| !t.is_empty()).map(str::to_owned);
        Ok((out.task_arns.unwrap_or_default(), next))
    }

    /// Every page of a task listing, of one service or of the whole cluster.
    async fn list_all(&self, service: Option<&str>, filter: TaskFilter) -> Result<Vec<String>, CloudError> {
        let status = match filter {
            TaskFilter::Running => DesiredStatus::Running,
            TaskFilter::Stopped => DesiredStatus::Stopped,
        };
        let (mut arns, mut next) = self.list_page(service, status.clone(), None).await?;
        while let Some(token) = next {
            let (page, following) = self.list_page(service, status.clone(), Some(token)).await?;
            arns.extend(page);
            next = following;
        }
        Ok(arns)
    }

    async fn describe_task_batch(&self, arns: &[String]) -> Result<Vec<TaskInfo>, CloudError> {
        let out = self
            .client
            .describe_tasks()
            .cluster(&self.cluster)
            .set_tasks(Some(arns.to_vec()))
            .send()
            .await
            .map_err(|e| from_sdk("DescribeTasks", e))?;
        check_failures("DescribeTasks", out.failures())?;
        Ok(out.tasks().iter().map(response::task_info).collect())
    }
}

#[async_trait]
impl Fleet for EcsFleet {
    async fn probe(&self) -> Result<(), CloudError> {
        let out = self
            .client
            .describe_clusters()
            .clusters(&self.cluster)
            .send()
            .await
            .map_err(|e| from_sdk("DescribeClusters", e))?;
        let active = out.clusters().iter().any(|c| c.status() == Some("ACTIVE"));
        if active {
            Ok(())
        } else {
            Err(CloudError::NotFound(format!("cluster {}", self.cluster)))
        }
    }

    async fn register_task_definition(&self, spec: &TaskDefinitionSpec) -> Result<TaskDefinitionRef, CloudError> {
        let out = self
            .client
            .register_task_definition()
            .family(&spec.family)
            .requires_compatibilities(Compatibility::Fargate)
            .network_mode(NetworkMode::Awsvpc)
            .cpu(spec.cpu.to_string())
            .memory(spec.memory.to_string())
            .runtime_platform(request::runtime_platform(spec.architecture))
            .container_definitions(request::container_definition(spec)?)
            .set_task_role_arn(spec.task_role_arn.clone())
            .set_execution_role_arn(spec.execution_role_arn.clone())
            .set_tags(request::tags(&spec.tags))
            .send()
            .await
            .map_err(|e| from_sdk("RegisterTaskDefinition", e))?;
        let registered = out.task_definition().ok_or_else(|| malformed("RegisterTaskDefinition", "taskDefinition"))?;
        Ok(TaskDefinitionRef {
            arn: registered.task_definition_arn().unwrap_or_default().to_owned(),
            family: registered.family().unwrap_or(&spec.family).to_owned(),
            revision: registered.revision(),
        })
    }

    async fn create_service(&self, spec: &ServiceSpec) -> Result<ServiceStatus, CloudError> {
        if let Some(existing) = self.describe_one(&spec.name).await? {
            if existing.status == "ACTIVE" {
                return Err(CloudError::Conflict(format!("service {}", spec.name)));
            }
        }
        let out = self
            .client
            .create_service()
            .cluster(&self.cluster)
            .service_name(&spec.name)
            .task_definition(&spec.task_definition)
            .desired_count(request::to_i32(spec.desired_count, "desired count")?)
            .launch_type(LaunchType::Fargate)
            .network_configuration(request::network_configuration(spec)?)
            .deployment_configuration(request::deployment_configuration())
            .set_load_balancers(request::load_balancers(spec))
            .set_health_check_grace_period_seconds(request::health_check_grace_period(spec)?)
            .set_tags(request::tags(&spec.tags))
            .propagate_tags(PropagateTags::Service)
            .enable_ecs_managed_tags(true)
            .client_token(request::client_token())
            .send()
            .await
            .map_err(|e| not_idempotent_is_conflict(&spec.name, from_sdk("CreateService", e)))?;
        let service = out.service().ok_or_else(|| malformed("CreateService", "service"))?;
        Ok(response::service_status(service))
    }

    async fn update_service(&self, update: &ServiceUpdate) -> Result<ServiceStatus, CloudError> {
        let desired = update.desired_count.map(|n| request::to_i32(n, "desired count")).transpose()?;
        let out = self
            .client
            .update_service()
            .cluster(&self.cluster)
            .service(&update.name)
            .set_task_definition(update.task_definition.clone())
            .set_desired_count(desired)
            .force_new_deployment(update.force_new_deployment)
            .set_load_balancers(update.load_balancer.as_ref().map(|t| t.iter().map(request::load_balancer).collect()))
            .set_health_check_grace_period_seconds(
                update.load_balancer.as_ref().and_then(Option::as_ref).map(request::grace_period).transpose()?,
            )
            .send()
            .await
            .map_err(|e| from_sdk("UpdateService", e))?;
        let service = out.service().ok_or_else(|| malformed("UpdateService", "service"))?;
        Ok(response::service_status(service))
    }

    async fn delete_service(&self, name: &str) -> Result<(), CloudError> {
        // `force` scales the service to zero as it deletes it. A service deleted before
        // (ServiceNotActiveException) maps to NotFound like an unknown one.
        self.client
            .delete_service()
            .cluster(&self.cluster)
            .service(name)
            .force(true)
            .send()
            .await
            .map_err(|e| from_sdk("DeleteService", e))?;
        Ok(())
    }

    async fn describe_services(&self, names: &[String]) -> Result<Vec<ServiceStatus>, CloudError> {
        let mut services = Vec::with_capacity(names.len());
        for batch in names.chunks(SERVICES_PER_CALL) {
            services.extend(self.describe_batch(batch).await?);
        }
        Ok(services)
    }

    async fn list_tasks(&self, service: &str, filter: TaskFilter) -> Result<Vec<String>, CloudError> {
        self.list_all(Some(service), filter).await
    }

    async fn list_cluster_tasks(&self, filter: TaskFilter) -> Result<Vec<String>, CloudError> {
        self.list_all(None, filter).await
    }

    async fn describe_tasks(&self, arns: &[String]) -> Result<Vec<TaskInfo>, CloudError> {
        let mut tasks = Vec::with_capacity(arns.len());
        for batch in arns.chunks(TASKS_PER_CALL) {
            tasks.extend(self.describe_task_batch(batch).await?);
        }
        Ok(tasks)
    }

    async fn stop_task(&self, arn: &str, reason: &str) -> Result<(), CloudError> {
        self.client
            .stop_task()
            .cluster(&self.cluster)
            .task(arn)
            .reason(request::stop_reason(reason))
            .send()
            .await
            .map_err(|e| match from_sdk("StopTask", e) {
                // ECS answers an unknown task with InvalidParameterException "The referenced
                // task was not found."; the port promises NotFound, as the sandbox gives.
                CloudError::Invalid(m) if m.to_ascii_lowercase().contains("not found") => {
                    CloudError::NotFound(format!("task {arn}"))
                }
                other => other,
            })?;
        Ok(())
    }

    async fn service_events(&self, service: &str, limit: usize) -> Result<Vec<ServiceEvent>, CloudError> {
        let status =
            self.describe_one(service).await?.ok_or_else(|| CloudError::NotFound(format!("service {service}")))?;
        Ok(status.events.into_iter().take(limit).collect())
    }
}

/// Names ECS does not know are left out of an answer; any other failure fails the call.
fn check_failures(operation: &'static str, failures: &[Failure]) -> Result<(), CloudError> {
    match failures.iter().find(|f| f.reason() != Some(MISSING)) {
        None => Ok(()),
        Some(failure) => {
            tracing::warn!(
                operation,
                arn = failure.arn(),
                reason = failure.reason(),
                detail = failure.detail(),
                "ECS failure"
            );
            Err(CloudError::Unavailable(format!(
                "{operation} failed for {}: {}",
                failure.arn().unwrap_or("a resource"),
                failure.reason().unwrap_or("no reason given")
            )))
        }
    }
}

/// ECS refuses a second `CreateService` of an existing name with different settings as "not
/// idempotent": to ShinyFleet, that is the service existing already.
fn not_idempotent_is_conflict(name: &str, err: CloudError) -> CloudError {
    match err {
        CloudError::Invalid(message) if message.contains("not idempotent") => {
            CloudError::Conflict(format!("service {name}"))
        }
        other => other,
    }
}
