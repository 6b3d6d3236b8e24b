//! The sandbox's ECS behind the `Fleet` port, with every call counted and any call made to
//! fail on demand: for tests of how many calls a feature costs and how it meets failures.

use async_trait::async_trait;
use cloud::sandbox::Sandbox;
use domain::fleet::{
    Fleet, ServiceEvent, ServiceSpec, ServiceStatus, ServiceUpdate, TaskDefinitionRef, TaskDefinitionSpec, TaskFilter,
    TaskInfo,
};
use domain::CloudError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Every port call made: (method, how many names or ARNs it carried).
pub type Log = Arc<Mutex<Vec<(&'static str, usize)>>>;
/// Calls that fail, by method, with the error they fail with.
pub type Faults = Arc<Mutex<HashMap<&'static str, CloudError>>>;

/// The sandbox's ECS, counting the calls made through the port and failing those told to;
/// a probe takes `probe_takes` (so that callers can overlap it).
pub struct CountingFleet {
    pub ecs: Arc<Sandbox>,
    pub log: Log,
    pub faults: Faults,
    pub probe_takes: Duration,
}

impl CountingFleet {
    fn note(&self, method: &'static str, items: usize) -> Result<(), CloudError> {
        self.log.lock().unwrap().push((method, items));
        match self.faults.lock().unwrap().get(method) {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }
}

#[async_trait]
impl Fleet for CountingFleet {
    async fn probe(&self) -> Result<(), CloudError> {
        let noted = self.note("probe", 1);
        tokio::time::sleep(self.probe_takes).await;
        noted?;
        self.ecs.probe().await
    }
    async fn register_task_definition(&self, spec: &TaskDefinitionSpec) -> Result<TaskDefinitionRef, CloudError> {
        self.ecs.register_task_definition(spec).await
    }
    async fn create_service(&self, spec: &ServiceSpec) -> Result<ServiceStatus, CloudError> {
        self.ecs.create_service(spec).await
    }
    async fn update_service(&self, update: &ServiceUpdate) -> Result<ServiceStatus, CloudError> {
        self.ecs.update_service(update).await
    }
    async fn delete_service(&self, name: &str) -> Result<(), CloudError> {
        self.ecs.delete_service(name).await
    }
    async fn describe_services(&self, names: &[String]) -> Result<Vec<ServiceStatus>, CloudError> {
        self.note("describe_services", names.len())?;
        self.ecs.describe_services(names).await
    }
    async fn list_tasks(&self, service: &str, filter: TaskFilter) -> Result<Vec<String>, CloudError> {
        self.note("list_tasks", 1)?;
        self.ecs.list_tasks(service, filter).await
    }
    async fn list_cluster_tasks(&self, filter: TaskFilter) -> Result<Vec<String>, CloudError> {
        self.note("list_cluster_tasks", 1)?;
        self.ecs.list_cluster_tasks(filter).await
    }
    async fn describe_tasks(&self, arns: &[String]) -> Result<Vec<TaskInfo>, CloudError> {
        self.note("describe_tasks", arns.len())?;
        self.ecs.describe_tasks(arns).await
    }
    async fn stop_task(&self, arn: &str, reason: &str) -> Result<(), CloudError> {
        self.ecs.stop_task(arn, reason).await
    }
    async fn service_events(&self, service: &str, limit: usize) -> Result<Vec<ServiceEvent>, CloudError> {
        self.note("service_events", 1)?;
        self.ecs.service_events(service, limit).await
    }
}
