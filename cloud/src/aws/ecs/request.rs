//! Builds the ECS request shapes from ShinyFleet's specs: the Fargate task definition with
//! its one `shiny` container, and the service's network, deployment and load-balancer
//! settings. Pure functions, so every field choice is visible in one place.

use crate::aws::error::from_build;
use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, ContainerDefinition, CpuArchitecture, DeploymentCircuitBreaker,
    DeploymentConfiguration, HealthCheck, KeyValuePair, LoadBalancer, LogConfiguration, LogDriver,
    NetworkConfiguration, OsFamily, PortMapping, RuntimePlatform, Tag, TransportProtocol,
};
use domain::fleet::{ServiceSpec, ServiceTarget, TaskDefinitionSpec};
use domain::{Architecture, CloudError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The name of the app's container in every task definition.
pub(crate) const CONTAINER_NAME: &str = "shiny";

/// The stream prefix of the `awslogs` driver: streams are `shiny/shiny/<task id>`.
const LOG_STREAM_PREFIX: &str = "shiny";

/// ECS's longest accepted stop reason.
const MAX_REASON_LEN: usize = 255;

pub(crate) fn runtime_platform(architecture: Architecture) -> RuntimePlatform {
    let cpu = match architecture {
        Architecture::X86_64 => CpuArchitecture::X8664,
        Architecture::Arm64 => CpuArchitecture::Arm64,
    };
    RuntimePlatform::builder().cpu_architecture(cpu).operating_system_family(OsFamily::Linux).build()
}

/// The one essential container. Its `memory` repeats the task's: Fargate ignores it, but
/// emulators that also model EC2 require a container-level limit.
pub(crate) fn container_definition(spec: &TaskDefinitionSpec) -> Result<ContainerDefinition, CloudError> {
    let port =
        PortMapping::builder().container_port(i32::from(spec.container_port)).protocol(TransportProtocol::Tcp).build();
    Ok(ContainerDefinition::builder()
        .name(CONTAINER_NAME)
        .image(&spec.image)
        .essential(true)
        .memory(to_i32(spec.memory, "memory")?)
        .port_mappings(port)
        .set_environment(Some(environment(&spec.environment)))
        .log_configuration(log_configuration(spec)?)
        .set_health_check(spec.health_check_command.as_deref().map(health_check).transpose()?)
        .build())
}

fn environment(variables: &[(String, String)]) -> Vec<KeyValuePair> {
    variables.iter().map(|(name, value)| KeyValuePair::builder().name(name).value(value).build()).collect()
}

fn log_configuration(spec: &TaskDefinitionSpec) -> Result<LogConfiguration, CloudError> {
    LogConfiguration::builder()
        .log_driver(LogDriver::Awslogs)
        .options("awslogs-group", &spec.log_group)
        .options("awslogs-region", &spec.log_region)
        .options("awslogs-stream-prefix", LOG_STREAM_PREFIX)
        .options("awslogs-create-group", "true")
        .build()
        .map_err(|e| from_build("log configuration", e))
}

fn health_check(command: &str) -> Result<HealthCheck, CloudError> {
    HealthCheck::builder()
        .command("CMD-SHELL")
        .command(command)
        .interval(30)
        .timeout(5)
        .retries(3)
        .start_period(60)
        .build()
        .map_err(|e| from_build("health check", e))
}

/// Tags as ECS spells them; `None` for none, since ECS refuses an empty list in places.
pub(crate) fn tags(pairs: &[(String, String)]) -> Option<Vec<Tag>> {
    (!pairs.is_empty()).then(|| pairs.iter().map(|(key, value)| Tag::builder().key(key).value(value).build()).collect())
}

pub(crate) fn network_configuration(spec: &ServiceSpec) -> Result<NetworkConfiguration, CloudError> {
    let public_ip = if spec.assign_public_ip { AssignPublicIp::Enabled } else { AssignPublicIp::Disabled };
    let vpc = AwsVpcConfiguration::builder()
        .set_subnets(Some(spec.subnets.clone()))
        .set_security_groups(Some(spec.security_groups.clone()))
        .assign_public_ip(public_ip)
        .build()
        .map_err(|e| from_build("network configuration", e))?;
    Ok(NetworkConfiguration::builder().awsvpc_configuration(vpc).build())
}

/// Rolling deployments that keep every running task until its replacement is healthy, and
/// roll back on their own when new tasks keep failing.
pub(crate) fn deployment_configuration() -> DeploymentConfiguration {
    let breaker = DeploymentCircuitBreaker::builder().enable(true).rollback(true).build();
    DeploymentConfiguration::builder()
        .deployment_circuit_breaker(breaker)
        .minimum_healthy_percent(100)
        .maximum_percent(200)
        .build()
}

pub(crate) fn load_balancers(spec: &ServiceSpec) -> Option<Vec<LoadBalancer>> {
    let target_group = spec.target_group_arn.as_ref()?;
    Some(vec![balancer(target_group, spec.container_port)])
}

/// The load balancer of an update: an empty list (sent for `Some(None)`) takes the service
/// off its load balancer.
pub(crate) fn load_balancer(target: &ServiceTarget) -> LoadBalancer {
    balancer(&target.target_group_arn, target.container_port)
}

fn balancer(target_group: &str, port: u16) -> LoadBalancer {
    LoadBalancer::builder()
        .target_group_arn(target_group)
        .container_name(CONTAINER_NAME)
        .container_port(i32::from(port))
        .build()
}

pub(crate) fn grace_period(target: &ServiceTarget) -> Result<i32, CloudError> {
    to_i32(target.health_check_grace_period_secs, "health-check grace period")
}

/// A fresh idempotency token (at most 36 characters), so that an SDK retry of a
/// `CreateService` whose first answer was lost returns the service instead of failing.
pub(crate) fn client_token() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos =
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::from(d.subsec_nanos()) ^ (d.as_secs() << 30));
    let count = COUNTER.fetch_add(1, Ordering::Relaxed) & u64::from(u32::MAX);
    format!("{nanos:x}-{:x}", (u64::from(std::process::id()) << 32) | count)
}

/// ECS keeps at most 255 characters of a stop reason; longer ones are cut, not refused.
pub(crate) fn stop_reason(reason: &str) -> &str {
    match reason.char_indices().nth(MAX_REASON_LEN) {
        Some((end, _)) => &reason[..end],
        None => reason,
    }
}

pub(crate) fn to_i32(value: u32, field: &str) -> Result<i32, CloudError> {
    i32::try_from(value).map_err(|_| CloudError::Invalid(format!("{field} {value} is too large")))
}

/// The grace period, only with a target group: ECS uses it for load-balancer health checks.
pub(crate) fn health_check_grace_period(spec: &ServiceSpec) -> Result<Option<i32>, CloudError> {
    match (spec.target_group_arn.as_ref(), spec.health_check_grace_period_secs) {
        (Some(_), Some(secs)) => to_i32(secs, "health-check grace period").map(Some),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_tokens_are_unique_and_short_enough() {
        let (a, b) = (client_token(), client_token());
        assert_ne!(a, b);
        assert!(a.len() <= 36 && a.bytes().all(|c| (33..=126).contains(&c)), "{a}");
    }

    #[test]
    fn stop_reasons_are_cut_at_255_characters() {
        assert_eq!(stop_reason("scaled down"), "scaled down");
        let long = "é".repeat(300);
        assert_eq!(stop_reason(&long).chars().count(), 255);
    }

    #[test]
    fn the_grace_period_is_sent_only_with_a_target_group() {
        let spec = |target_group: Option<&str>, secs: Option<u32>| ServiceSpec {
            name: "census".into(),
            task_definition: "census:1".into(),
            desired_count: 1,
            subnets: vec!["subnet-1".into()],
            security_groups: vec!["sg-1".into()],
            assign_public_ip: false,
            target_group_arn: target_group.map(str::to_owned),
            health_check_grace_period_secs: secs,
            container_port: 3838,
            tags: vec![],
        };
        assert_eq!(health_check_grace_period(&spec(Some("arn:tg"), Some(120))), Ok(Some(120)));
        assert_eq!(health_check_grace_period(&spec(None, Some(120))), Ok(None));
        assert_eq!(health_check_grace_period(&spec(Some("arn:tg"), None)), Ok(None));
        assert!(health_check_grace_period(&spec(Some("arn:tg"), Some(u32::MAX))).is_err());
    }
}
