//! Reads ECS's answers into ShinyFleet's types: services with their deployments and events,
//! tasks with their lifecycle. ECS documents most fields as optional, so absent ones become
//! empty strings, zeros or `None` rather than errors.

use crate::aws::time::to_chrono;
use aws_sdk_ecs::types::{Deployment as EcsDeployment, Service, ServiceEvent as EcsEvent, Task};
use domain::fleet::{Deployment, RolloutState, ServiceEvent, ServiceStatus, TaskInfo};
use domain::Architecture;

/// The task attribute naming the CPU architecture a task runs on.
const ARCHITECTURE_ATTRIBUTE: &str = "ecs.cpu-architecture";

/// The prefix of a task's `group` when a service started it.
const SERVICE_GROUP_PREFIX: &str = "service:";

pub(crate) fn service_status(service: &Service) -> ServiceStatus {
    ServiceStatus {
        name: text(service.service_name()),
        arn: text(service.service_arn()),
        status: text(service.status()),
        task_definition: text(service.task_definition()),
        desired_count: count(service.desired_count()),
        running_count: count(service.running_count()),
        pending_count: count(service.pending_count()),
        deployments: service.deployments().iter().map(deployment).collect(),
        events: service.events().iter().filter_map(event).collect(),
    }
}

fn deployment(deployment: &EcsDeployment) -> Deployment {
    Deployment {
        id: text(deployment.id()),
        status: text(deployment.status()),
        task_definition: text(deployment.task_definition()),
        desired_count: count(deployment.desired_count()),
        running_count: count(deployment.running_count()),
        pending_count: count(deployment.pending_count()),
        failed_tasks: count(deployment.failed_tasks()),
        rollout_state: deployment.rollout_state().and_then(|s| RolloutState::parse(s.as_str())),
        rollout_reason: deployment.rollout_state_reason().map(str::to_owned),
        created_at: deployment.created_at().and_then(to_chrono),
        updated_at: deployment.updated_at().and_then(to_chrono),
    }
}

/// An event; one without a time is of no use on a timeline and is dropped.
pub(crate) fn event(event: &EcsEvent) -> Option<ServiceEvent> {
    Some(ServiceEvent {
        id: text(event.id()),
        at: event.created_at().and_then(to_chrono)?,
        message: text(event.message()),
    })
}

pub(crate) fn task_info(task: &Task) -> TaskInfo {
    TaskInfo {
        arn: text(task.task_arn()),
        service: task.group().and_then(|g| g.strip_prefix(SERVICE_GROUP_PREFIX)).map(str::to_owned),
        task_definition: text(task.task_definition_arn()),
        last_status: text(task.last_status()),
        desired_status: text(task.desired_status()),
        health_status: task.health_status().map_or("UNKNOWN", |h| h.as_str()).to_owned(),
        cpu: task.cpu().map_or(0, cpu_units),
        memory: task.memory().map_or(0, memory_mib),
        architecture: architecture(task),
        created_at: task.created_at().and_then(to_chrono),
        started_at: task.started_at().and_then(to_chrono),
        stopping_at: task.stopping_at().and_then(to_chrono),
        stopped_at: task.stopped_at().and_then(to_chrono),
        stop_code: task.stop_code().map(|c| c.as_str().to_owned()),
        stopped_reason: task.stopped_reason().filter(|r| !r.is_empty()).map(str::to_owned),
    }
}

fn architecture(task: &Task) -> Option<Architecture> {
    let attribute = task.attributes().iter().find(|a| a.name() == ARCHITECTURE_ATTRIBUTE)?;
    Architecture::parse(attribute.value()?).ok()
}

/// CPU units from `"256"` or `"0.25 vCPU"`; 0 when unreadable.
pub(crate) fn cpu_units(raw: &str) -> u32 {
    scaled(raw, &["vcpu"], 1024)
}

/// MiB from `"512"` or `"0.5 GB"`; 0 when unreadable.
pub(crate) fn memory_mib(raw: &str) -> u32 {
    scaled(raw, &["gb", "gib"], 1024)
}

/// A plain integer, or a decimal followed by one of `units`, multiplied by `factor`.
fn scaled(raw: &str, units: &[&str], factor: u32) -> u32 {
    let raw = raw.trim().to_ascii_lowercase();
    if let Ok(plain) = raw.parse::<u32>() {
        return plain;
    }
    let Some(number) = units.iter().find_map(|unit| raw.strip_suffix(unit)) else {
        return 0;
    };
    match number.trim().parse::<f64>() {
        Ok(value) if value.is_finite() && value >= 0.0 => {
            (value * f64::from(factor)).round().min(f64::from(u32::MAX)) as u32
        }
        _ => 0,
    }
}

fn text(value: Option<&str>) -> String {
    value.unwrap_or_default().to_owned()
}

/// ECS counts are never negative; a negative one would be a bug, read as zero.
fn count(value: i32) -> u32 {
    u32::try_from(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_read_in_either_notation() {
        let cpu = [("256", 256), ("1024", 1024), ("0.25 vCPU", 256), ("2 vcpu", 2048), ("", 0), ("lots", 0)];
        for (raw, want) in cpu {
            assert_eq!(cpu_units(raw), want, "{raw:?}");
        }
        let memory = [("512", 512), ("0.5 GB", 512), ("3GB", 3072), ("-1 GB", 0), ("1.5 GiB", 1536)];
        for (raw, want) in memory {
            assert_eq!(memory_mib(raw), want, "{raw:?}");
        }
    }
}
