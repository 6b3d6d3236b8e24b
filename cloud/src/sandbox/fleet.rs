//! The sandbox's ECS behind the `Fleet` port: each call replays the simulation up to the
//! clock's present, then reads or changes it (see [`super::ecs`] for the simulation and
//! [`super::lifecycle`] for its rules).

use super::Sandbox;
use async_trait::async_trait;
use domain::fleet::{
    Fleet, ServiceEvent, ServiceSpec, ServiceStatus, ServiceUpdate, TaskDefinitionRef, TaskDefinitionSpec, TaskFilter,
    TaskInfo,
};
use domain::CloudError;

#[async_trait]
impl Fleet for Sandbox {
    async fn probe(&self) -> Result<(), CloudError> {
        Ok(())
    }

    async fn register_task_definition(&self, spec: &TaskDefinitionSpec) -> Result<TaskDefinitionRef, CloudError> {
        self.with_ecs(|ecs| ecs.register(spec))
    }

    async fn create_service(&self, spec: &ServiceSpec) -> Result<ServiceStatus, CloudError> {
        self.with_ecs(|ecs| ecs.create_service(spec))
    }

    async fn update_service(&self, update: &ServiceUpdate) -> Result<ServiceStatus, CloudError> {
        self.with_ecs(|ecs| ecs.update_service(update))
    }

    async fn delete_service(&self, name: &str) -> Result<(), CloudError> {
        self.with_ecs(|ecs| ecs.delete_service(name))
    }

    async fn describe_services(&self, names: &[String]) -> Result<Vec<ServiceStatus>, CloudError> {
        Ok(self.with_ecs(|ecs| ecs.describe_services(names)))
    }

    async fn list_tasks(&self, service: &str, filter: TaskFilter) -> Result<Vec<String>, CloudError> {
        self.with_ecs(|ecs| ecs.list_tasks(service, filter))
    }

    async fn list_cluster_tasks(&self, filter: TaskFilter) -> Result<Vec<String>, CloudError> {
        Ok(self.with_ecs(|ecs| ecs.list_cluster_tasks(filter)))
    }

    async fn describe_tasks(&self, arns: &[String]) -> Result<Vec<TaskInfo>, CloudError> {
        Ok(self.with_ecs(|ecs| ecs.describe_tasks(arns)))
    }

    async fn stop_task(&self, arn: &str, reason: &str) -> Result<(), CloudError> {
        self.with_ecs(|ecs| ecs.stop_task(arn, reason))
    }

    async fn service_events(&self, service: &str, limit: usize) -> Result<Vec<ServiceEvent>, CloudError> {
        self.with_ecs(|ecs| ecs.service_events(service, limit))
    }
}

#[cfg(test)]
mod tests {
    use super::super::ManualClock;
    use super::*;
    use chrono::{DateTime, Duration, TimeZone, Utc};
    use domain::fleet::{LiveState, RolloutState};
    use domain::metrics::{MetricKind, MetricWindow, Metrics};
    use domain::Architecture;
    use std::sync::Arc;

    const CIRCUIT_BREAKER: &str = "ECS deployment circuit breaker: tasks failed to start.";

    fn start() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 3, 8, 0, 0).single().expect("a valid instant")
    }

    fn spec(family: &str, image: &str) -> TaskDefinitionSpec {
        TaskDefinitionSpec {
            family: family.to_owned(),
            image: image.to_owned(),
            cpu: 256,
            memory: 512,
            architecture: Architecture::X86_64,
            container_port: 3838,
            environment: vec![],
            task_role_arn: None,
            execution_role_arn: None,
            health_check_command: None,
            log_group: format!("/shinyfleet/{family}"),
            log_region: "us-east-1".to_owned(),
            tags: vec![],
        }
    }

    fn service_spec(name: &str, task_definition: &str, desired_count: u32) -> ServiceSpec {
        ServiceSpec {
            name: name.to_owned(),
            task_definition: task_definition.to_owned(),
            desired_count,
            subnets: vec!["subnet-1".to_owned()],
            security_groups: vec!["sg-1".to_owned()],
            assign_public_ip: true,
            target_group_arn: None,
            health_check_grace_period_secs: None,
            container_port: 3838,
            tags: vec![],
        }
    }

    fn task_id(arn: &str) -> &str {
        arn.rsplit('/').next().unwrap_or(arn)
    }

    /// Counts a console would add up must agree with each other.
    fn assert_consistent(s: &ServiceStatus) {
        let primary = s.primary().expect("a service has a primary deployment");
        assert_eq!(s.deployments[0].status, "PRIMARY", "{s:#?}");
        assert!(s.deployments[1..].iter().all(|d| d.status == "ACTIVE"), "{s:#?}");
        assert_eq!(primary.desired_count, s.desired_count, "{s:#?}");
        assert_eq!(primary.task_definition, s.task_definition, "{s:#?}");
        assert_eq!(s.running_count, s.deployments.iter().map(|d| d.running_count).sum::<u32>(), "{s:#?}");
        assert_eq!(s.pending_count, s.deployments.iter().map(|d| d.pending_count).sum::<u32>(), "{s:#?}");
        for old in &s.deployments[1..] {
            assert_eq!(old.desired_count, old.running_count + old.pending_count, "{s:#?}");
        }
    }

    struct World {
        clock: Arc<ManualClock>,
        sandbox: Arc<Sandbox>,
    }

    fn world(seed: u64) -> World {
        let clock = ManualClock::new(start());
        let sandbox = Sandbox::new(clock.clone(), seed);
        World { clock, sandbox }
    }

    impl World {
        fn advance(&self, secs: i64) {
            self.clock.advance(Duration::seconds(secs));
        }

        async fn register(&self, family: &str, image: &str) -> TaskDefinitionRef {
            self.sandbox.register_task_definition(&spec(family, image)).await.expect("registered")
        }

        async fn create(&self, name: &str, task_definition: &str, desired: u32) -> ServiceStatus {
            let s = self.sandbox.create_service(&service_spec(name, task_definition, desired)).await.expect("created");
            assert_consistent(&s);
            s
        }

        async fn update(&self, name: &str, task_definition: Option<&str>, desired: Option<u32>) -> ServiceStatus {
            let update = ServiceUpdate {
                name: name.to_owned(),
                task_definition: task_definition.map(str::to_owned),
                desired_count: desired,
                force_new_deployment: false,
                load_balancer: None,
            };
            let s = self.sandbox.update_service(&update).await.expect("updated");
            assert_consistent(&s);
            s
        }

        async fn service(&self, name: &str) -> ServiceStatus {
            let mut found = self.sandbox.describe_services(&[name.to_owned()]).await.expect("described");
            let s = found.pop().expect("the service exists");
            assert_consistent(&s);
            s
        }

        async fn tasks(&self, name: &str, filter: TaskFilter) -> Vec<TaskInfo> {
            let arns = self.sandbox.list_tasks(name, filter).await.expect("listed");
            self.sandbox.describe_tasks(&arns).await.expect("described")
        }

        /// The service's event messages, oldest first (so they read as a story).
        async fn story(&self, name: &str) -> Vec<String> {
            let events = self.sandbox.service_events(name, 100).await.expect("events");
            events.into_iter().rev().map(|e| e.message).collect()
        }
    }

    #[tokio::test]
    async fn a_deleted_service_drains_its_tasks_and_its_name_can_be_used_again() {
        let w = world(11);
        let td = w.register("census", "rocker/shiny-verse:4.4.1").await;
        w.create("census", &td.arn, 2).await;
        w.advance(60);
        let arns = w.sandbox.list_tasks("census", TaskFilter::Running).await.expect("listed");
        assert_eq!(arns.len(), 2);

        w.sandbox.delete_service("census").await.expect("deleted");
        assert!(w.sandbox.describe_services(&["census".to_owned()]).await.expect("described").is_empty());
        let update = ServiceUpdate {
            name: "census".to_owned(),
            task_definition: None,
            desired_count: Some(1),
            force_new_deployment: false,
            load_balancer: None,
        };
        assert!(matches!(w.sandbox.update_service(&update).await, Err(CloudError::NotFound(_))));
        assert!(matches!(w.sandbox.delete_service("census").await, Err(CloudError::NotFound(_))));
        assert!(matches!(w.sandbox.list_tasks("census", TaskFilter::Running).await, Err(CloudError::NotFound(_))));

        // Its tasks go on stopping after the service is gone.
        w.advance(120);
        let tasks = w.sandbox.describe_tasks(&arns).await.expect("described");
        assert_eq!(tasks.len(), 2);
        assert!(tasks.iter().all(|t| t.last_status == "STOPPED"), "{tasks:#?}");

        // The task definition stays registered and the name is free again.
        let again = w.create("census", &td.arn, 1).await;
        assert_eq!(again.desired_count, 1);
        w.advance(60);
        assert_eq!(w.service("census").await.running_count, 1);
    }

    #[tokio::test]
    async fn task_definitions_are_numbered_per_family() {
        let w = world(1);
        let a1 = w.register("census", "rocker/shiny-verse:4.4.1").await;
        let a2 = w.register("census", "rocker/shiny-verse:4.4.2").await;
        let b1 = w.register("births", "rocker/shiny-verse:4.4.1").await;
        assert_eq!((a1.revision, a2.revision, b1.revision), (1, 2, 1));
        assert_eq!(a2.arn, "arn:aws:ecs:us-east-1:000000000000:task-definition/census:2");
        assert_eq!(a2.family, "census");
        let bad = w.sandbox.register_task_definition(&spec("not a family", "x:1")).await;
        assert!(matches!(bad, Err(CloudError::Invalid(_))), "{bad:?}");
    }

    #[tokio::test]
    async fn a_new_task_walks_from_provisioning_to_running_and_turns_healthy() {
        let w = world(2);
        let td = w.register("census", "rocker/shiny-verse:4.4.1").await;
        w.create("census", &td.arn, 1).await;
        let mut seen: Vec<String> = Vec::new();
        let mut healthy_seen_at = None;
        for tick in 0..=60 {
            let task = w.tasks("census", TaskFilter::Running).await.pop().expect("one task");
            if seen.last() != Some(&task.last_status) {
                seen.push(task.last_status.clone());
            }
            assert_eq!(task.started_at.is_some(), task.last_status == "RUNNING", "tick {tick}: {task:?}");
            if let Some(started) = task.started_at {
                let ran_for = start() + Duration::milliseconds(250 * tick) - started;
                assert_eq!(task.health_status == "HEALTHY", ran_for >= Duration::seconds(5), "tick {tick}: {task:?}");
                let after = started - start();
                assert!(Duration::seconds(4) <= after && after <= Duration::seconds(8), "started {after}");
                if task.health_status == "HEALTHY" && healthy_seen_at.is_none() {
                    healthy_seen_at = Some(tick);
                }
            } else {
                assert_eq!(task.health_status, "UNKNOWN");
            }
            assert_eq!(task.desired_status, "RUNNING");
            w.clock.advance(Duration::milliseconds(250));
        }
        assert_eq!(seen, ["PROVISIONING", "PENDING", "ACTIVATING", "RUNNING"]);
        assert!(healthy_seen_at.is_some(), "healthy within 15 s");
    }

    #[tokio::test]
    async fn a_deployment_completes_when_its_tasks_run_and_the_service_settles() {
        let w = world(3);
        let td = w.register("census", "rocker/shiny-verse:4.4.1").await;
        let created = w.create("census", &td.arn, 2).await;
        let primary = created.primary().expect("primary").clone();
        assert_eq!(primary.rollout_state, Some(RolloutState::InProgress));
        assert_eq!(
            primary.rollout_reason.as_deref(),
            Some(format!("ECS deployment {} in progress.", primary.id).as_str())
        );
        assert!(primary.id.starts_with("ecs-svc/") && primary.id.len() == "ecs-svc/".len() + 19, "{}", primary.id);
        assert_eq!((created.running_count, created.pending_count, created.desired_count), (0, 2, 2));
        assert_eq!(created.arn, "arn:aws:ecs:us-east-1:000000000000:service/shinyfleet-sandbox/census");
        assert_eq!(LiveState::derive(&created.status, 2, 0, primary.rollout_state), LiveState::Deploying);

        w.advance(10);
        let settled = w.service("census").await;
        let done = settled.primary().expect("primary");
        assert_eq!(done.id, primary.id);
        assert_eq!(done.rollout_state, Some(RolloutState::Completed));
        assert_eq!((settled.running_count, settled.pending_count), (2, 0));
        assert_eq!(LiveState::derive(&settled.status, 2, 2, done.rollout_state), LiveState::Running);
        let tasks = w.tasks("census", TaskFilter::Running).await;
        let started =
            format!("has started 2 tasks: (task {}) (task {}).", task_id(&tasks[0].arn), task_id(&tasks[1].arn));
        assert_eq!(
            w.story("census").await,
            [
                format!("(service census) {started}"),
                format!("(service census) deployment {} deployment completed.", primary.id),
                "(service census) has reached a steady state.".to_owned(),
            ]
        );
    }

    #[tokio::test]
    async fn an_update_rolls_out_the_new_revision_then_stops_the_old_tasks() {
        let w = world(4);
        let v1 = w.register("census", "rocker/shiny-verse:4.4.1").await;
        let v2 = w.register("census", "rocker/shiny-verse:4.4.2").await;
        w.create("census", &v1.arn, 2).await;
        w.advance(10);
        let old_tasks = w.tasks("census", TaskFilter::Running).await;

        let rolling = w.update("census", Some("census:2"), None).await;
        assert_eq!(rolling.deployments.len(), 2);
        assert_eq!(rolling.task_definition, v2.arn);
        assert_eq!(rolling.deployments[0].rollout_state, Some(RolloutState::InProgress));
        assert_eq!(rolling.deployments[1].task_definition, v1.arn);
        assert_eq!((rolling.deployments[1].running_count, rolling.deployments[1].desired_count), (2, 2));
        assert_eq!((rolling.running_count, rolling.pending_count), (2, 2));

        w.advance(30);
        let done = w.service("census").await;
        assert_eq!(done.deployments.len(), 1, "the replaced deployment disappeared");
        assert_eq!(done.deployments[0].rollout_state, Some(RolloutState::Completed));
        assert_eq!(done.running_count, 2);
        let old_arns: Vec<String> = old_tasks.iter().map(|t| t.arn.clone()).collect();
        let stopped = w.sandbox.describe_tasks(&old_arns).await.expect("described");
        for task in &stopped {
            assert_eq!((task.last_status.as_str(), task.desired_status.as_str()), ("STOPPED", "STOPPED"));
            assert_eq!(task.stop_code.as_deref(), Some("ServiceSchedulerInitiated"));
            let reason = format!("Scaling activity initiated by (deployment {})", done.deployments[0].id);
            assert_eq!(task.stopped_reason.as_deref(), Some(reason.as_str()));
            assert!(task.stopping_at < task.stopped_at);
        }
        let story = w.story("census").await;
        let stop_line = format!(
            "(service census) has stopped 2 running tasks: (task {}) (task {}).",
            task_id(&old_arns[0]),
            task_id(&old_arns[1])
        );
        assert!(story.contains(&stop_line), "{story:#?}");
        assert_eq!(story.last().map(String::as_str), Some("(service census) has reached a steady state."));
        let running: Vec<String> =
            w.tasks("census", TaskFilter::Running).await.into_iter().map(|t| t.task_definition).collect();
        assert_eq!(running, [v2.arn.clone(), v2.arn]);
    }

    #[tokio::test]
    async fn a_forced_redeploy_replaces_every_task_with_the_same_revision() {
        let w = world(17);
        let td = w.register("census", "rocker/shiny-verse:4.4.1").await;
        let before = w.create("census", &td.arn, 2).await.deployments[0].id.clone();
        w.advance(10);
        let unchanged = w.update("census", Some(&td.arn), None).await;
        assert_eq!(unchanged.deployments.len(), 1, "the same revision without force changes nothing");
        let update = ServiceUpdate { name: "census".to_owned(), force_new_deployment: true, ..Default::default() };
        let forced = w.sandbox.update_service(&update).await.expect("updated");
        assert_consistent(&forced);
        assert_eq!(forced.deployments.len(), 2);
        assert_ne!(forced.deployments[0].id, before);
        assert_eq!(forced.deployments[0].task_definition, td.arn);
        w.advance(30);
        let done = w.service("census").await;
        assert_eq!(done.deployments.len(), 1);
        assert_eq!(done.deployments[0].id, forced.deployments[0].id);
        assert_eq!(w.tasks("census", TaskFilter::Stopped).await.len(), 2);
        assert_eq!(w.tasks("census", TaskFilter::Running).await.len(), 2);
    }

    #[tokio::test]
    async fn a_broken_image_trips_the_circuit_breaker_and_rolls_back() {
        let w = world(5);
        let good = w.register("census", "rocker/shiny-verse:4.4.1").await;
        let broken = w.register("census", "rocker/shiny-verse:broken").await;
        w.create("census", &good.arn, 1).await;
        w.advance(10);
        let good_deployment = w.service("census").await.deployments[0].id.clone();

        let rolling = w.update("census", Some(&broken.arn), None).await;
        let broken_deployment = rolling.deployments[0].id.clone();
        let mut failed_seen = None;
        for _ in 0..90 {
            w.advance(1);
            let s = w.service("census").await;
            assert!(s.running_count >= 1, "the old task keeps serving during the rollout: {s:#?}");
            if let Some(d) = s.deployments.iter().find(|d| d.rollout_state == Some(RolloutState::Failed)) {
                failed_seen.get_or_insert(d.clone());
            }
        }
        let failed = failed_seen.expect("the broken deployment failed");
        assert_eq!(failed.id, broken_deployment);
        assert_eq!(failed.task_definition, broken.arn);
        assert_eq!(failed.failed_tasks, 3);
        assert_eq!(failed.rollout_reason.as_deref(), Some(CIRCUIT_BREAKER));

        let after = w.service("census").await;
        assert_eq!(after.deployments.len(), 1);
        let rollback = &after.deployments[0];
        assert_eq!(rollback.task_definition, good.arn);
        assert_eq!(rollback.rollout_state, Some(RolloutState::Completed));
        assert_ne!(rollback.id, good_deployment);
        assert_eq!((after.running_count, after.desired_count), (1, 1));

        let crashed: Vec<TaskInfo> = w
            .tasks("census", TaskFilter::Stopped)
            .await
            .into_iter()
            .filter(|t| t.task_definition == broken.arn)
            .collect();
        assert_eq!(crashed.len(), 3);
        for task in &crashed {
            assert_eq!(task.stop_code.as_deref(), Some("EssentialContainerExited"));
            assert_eq!(task.stopped_reason.as_deref(), Some("Essential container in task exited"));
            assert_eq!(task.started_at, None);
            assert_eq!(task.last_status, "STOPPED");
        }
        let story = w.story("census").await;
        let failed_line =
            format!("(service census) deployment {broken_deployment} deployment failed: tasks failed to start.");
        let rollback_line = format!("(service census) rolling back to deployment {good_deployment}.");
        let position = |line: &str| story.iter().position(|l| l == line);
        assert!(position(&failed_line) < position(&rollback_line), "{story:#?}");
        assert!(position(&failed_line).is_some(), "{story:#?}");
        assert_eq!(story.iter().filter(|l| l.contains("has started 1 tasks")).count(), 1 + 3 + 1, "{story:#?}");
        assert_eq!(story.last().map(String::as_str), Some("(service census) has reached a steady state."));
    }

    #[tokio::test]
    async fn a_broken_first_deployment_fails_and_launches_no_more_tasks() {
        let w = world(6);
        let broken = w.register("census", "registry.example/census:broken").await;
        w.create("census", &broken.arn, 1).await;
        w.advance(120);
        let s = w.service("census").await;
        let primary = s.primary().expect("primary");
        assert_eq!(primary.rollout_state, Some(RolloutState::Failed));
        assert_eq!(primary.rollout_reason.as_deref(), Some(CIRCUIT_BREAKER));
        assert_eq!((primary.failed_tasks, s.running_count, s.pending_count), (3, 0, 0));
        assert_eq!(
            LiveState::derive(&s.status, s.desired_count, s.running_count, primary.rollout_state),
            LiveState::Failed
        );
        assert!(w.tasks("census", TaskFilter::Running).await.is_empty());
        assert_eq!(w.tasks("census", TaskFilter::Stopped).await.len(), 3);

        w.advance(6 * 3600);
        let story = w.story("census").await;
        assert_eq!(story.iter().filter(|l| l.contains("has started")).count(), 3, "{story:#?}");
        assert!(w.tasks("census", TaskFilter::Stopped).await.is_empty(), "forgotten after an hour");

        let scaled = w.update("census", None, Some(2)).await;
        assert_eq!(scaled.pending_count, 0, "a failed deployment launches nothing");
    }

    #[tokio::test]
    async fn scaling_up_launches_tasks_and_scaling_down_stops_the_newest_first() {
        let w = world(7);
        let td = w.register("census", "rocker/shiny-verse:4.4.1").await;
        w.create("census", &td.arn, 1).await;
        w.advance(10);
        let deployment = w.service("census").await.deployments[0].id.clone();

        let up = w.update("census", None, Some(3)).await;
        assert_eq!(up.deployments.len(), 1, "scaling is not a deployment");
        assert_eq!(up.deployments[0].id, deployment);
        assert_eq!((up.running_count, up.pending_count, up.desired_count), (1, 2, 3));
        w.advance(10);
        let tasks = w.tasks("census", TaskFilter::Running).await;
        assert_eq!(tasks.len(), 3);
        assert!(tasks.iter().all(|t| t.last_status == "RUNNING"));
        let newest = tasks.last().expect("tasks are listed in launch order").arn.clone();

        let down = w.update("census", None, Some(2)).await;
        assert_eq!((down.running_count, down.desired_count), (2, 2));
        let stopping = w.tasks("census", TaskFilter::Stopped).await;
        assert_eq!(stopping.len(), 1);
        assert_eq!(stopping[0].arn, newest);
        assert_eq!(stopping[0].stop_code.as_deref(), Some("ServiceSchedulerInitiated"));
        w.advance(10);
        let story = w.story("census").await;
        assert_eq!(story.iter().filter(|l| l.ends_with("has reached a steady state.")).count(), 3, "{story:#?}");
    }

    #[tokio::test]
    async fn scaling_to_zero_stops_every_task_and_settles() {
        let w = world(8);
        let td = w.register("census", "rocker/shiny-verse:4.4.1").await;
        w.create("census", &td.arn, 2).await;
        w.advance(10);
        let off = w.update("census", None, Some(0)).await;
        assert_eq!((off.running_count, off.pending_count, off.desired_count), (0, 0, 0));
        assert!(w.tasks("census", TaskFilter::Running).await.is_empty());
        w.advance(10);
        let stopped = w.tasks("census", TaskFilter::Stopped).await;
        assert_eq!(stopped.len(), 2);
        assert!(stopped.iter().all(|t| t.last_status == "STOPPED" && t.stopped_at.is_some()));
        let s = w.service("census").await;
        let rollout = s.primary().and_then(|d| d.rollout_state);
        assert_eq!(LiveState::derive(&s.status, 0, 0, rollout), LiveState::ScaledToZero);
        assert_eq!(s.events[0].message, "(service census) has reached a steady state.");

        let on = w.update("census", None, Some(1)).await;
        assert_eq!(on.pending_count, 1);
    }

    #[tokio::test]
    async fn a_task_stopped_by_hand_is_recorded_and_replaced() {
        let w = world(9);
        let td = w.register("census", "rocker/shiny-verse:4.4.1").await;
        let mut spec = service_spec("census", &td.arn, 1);
        spec.target_group_arn =
            Some("arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/census/1".to_owned());
        w.sandbox.create_service(&spec).await.expect("created");
        w.advance(10);
        let first = w.tasks("census", TaskFilter::Running).await.pop().expect("a task");

        w.sandbox.stop_task(&first.arn, "Stopped from ShinyFleet").await.expect("stopped");
        let stopping =
            w.sandbox.describe_tasks(std::slice::from_ref(&first.arn)).await.expect("described").pop().expect("known");
        assert_eq!((stopping.last_status.as_str(), stopping.desired_status.as_str()), ("DEACTIVATING", "STOPPED"));
        assert_eq!(stopping.stop_code.as_deref(), Some("UserInitiated"));
        assert_eq!(stopping.stopped_reason.as_deref(), Some("Stopped from ShinyFleet"));
        let replacement = w.tasks("census", TaskFilter::Running).await.pop().expect("a replacement");
        assert_ne!(replacement.arn, first.arn);
        assert_eq!(replacement.last_status, "PROVISIONING");
        w.sandbox.stop_task(&first.arn, "again").await.expect("stopping twice is fine");

        w.advance(10);
        let stopped =
            w.sandbox.describe_tasks(std::slice::from_ref(&first.arn)).await.expect("described").pop().expect("known");
        assert_eq!(stopped.last_status, "STOPPED");
        assert_eq!(stopped.stopped_reason.as_deref(), Some("Stopped from ShinyFleet"));
        let s = w.service("census").await;
        assert_eq!((s.running_count, s.pending_count), (1, 0));
        let story = w.story("census").await;
        let count = |needle: &str| story.iter().filter(|l| l.contains(needle)).count();
        assert_eq!(count(") registered 1 targets in (target-group arn:"), 2, "{story:#?}");
        assert_eq!(count(") deregistered 1 targets in (target-group arn:"), 1, "{story:#?}");
        assert_eq!(story.last().map(String::as_str), Some("(service census) has reached a steady state."));
        let unknown = w.sandbox.stop_task("arn:aws:ecs:us-east-1:000000000000:task/shinyfleet-sandbox/nope", "x").await;
        assert!(matches!(unknown, Err(CloudError::NotFound(_))), "{unknown:?}");
    }

    #[tokio::test]
    async fn unknown_names_and_arns_are_left_out_or_not_found() {
        let w = world(10);
        assert_eq!(w.sandbox.probe().await, Ok(()));
        let td = w.register("census", "rocker/shiny-verse:4.4.1").await;
        let created = w.create("census", &td.arn, 1).await;
        let found = w
            .sandbox
            .describe_services(&["census".to_owned(), "nope".to_owned(), created.arn.clone()])
            .await
            .expect("described");
        assert_eq!(found.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["census", "census"]);
        let task = w.sandbox.list_tasks("census", TaskFilter::Running).await.expect("listed").pop().expect("one");
        let described = w
            .sandbox
            .describe_tasks(&[task.clone(), format!("{task}0"), task_id(&task).to_owned()])
            .await
            .expect("described");
        assert_eq!(described.iter().map(|t| t.arn.as_str()).collect::<Vec<_>>(), [task.as_str(), task.as_str()]);
        assert_eq!(described[0].service.as_deref(), Some("census"));
        assert_eq!((described[0].cpu, described[0].memory), (256, 512));

        let not_found = |r: Result<_, CloudError>| matches!(r, Err(CloudError::NotFound(_)));
        assert!(not_found(w.sandbox.list_tasks("nope", TaskFilter::Running).await.map(|_| ())));
        assert!(not_found(w.sandbox.service_events("nope", 10).await.map(|_| ())));
        let update = ServiceUpdate { name: "nope".to_owned(), desired_count: Some(1), ..Default::default() };
        assert!(not_found(w.sandbox.update_service(&update).await.map(|_| ())));

        let twice = w.sandbox.create_service(&service_spec("census", &td.arn, 1)).await;
        assert!(matches!(twice, Err(CloudError::Conflict(_))), "{twice:?}");
        let unknown_td = w.sandbox.create_service(&service_spec("births", "births:1", 1)).await;
        assert!(matches!(unknown_td, Err(CloudError::Invalid(_))), "{unknown_td:?}");
        assert!(w.sandbox.describe_services(&["births".to_owned()]).await.expect("described").is_empty());
        let too_many = w.sandbox.create_service(&service_spec("births", &td.arn, 1000)).await;
        assert!(matches!(too_many, Err(CloudError::Invalid(_))), "{too_many:?}");
    }

    #[tokio::test]
    async fn stopped_tasks_are_kept_for_about_an_hour() {
        let w = world(11);
        let td = w.register("census", "rocker/shiny-verse:4.4.1").await;
        w.create("census", &td.arn, 1).await;
        w.advance(10);
        let task = w.sandbox.list_tasks("census", TaskFilter::Running).await.expect("listed").pop().expect("one");
        w.sandbox.stop_task(&task, "").await.expect("stopped");
        w.advance(10);
        let stopped = w.tasks("census", TaskFilter::Stopped).await;
        assert_eq!(stopped.len(), 1);
        assert_eq!(stopped[0].stopped_reason.as_deref(), Some("Task stopped by user"));
        w.advance(59 * 60);
        assert_eq!(w.tasks("census", TaskFilter::Stopped).await.len(), 1);
        w.advance(2 * 60);
        assert!(w.tasks("census", TaskFilter::Stopped).await.is_empty());
        assert!(w.sandbox.describe_tasks(&[task]).await.expect("described").is_empty());
    }

    #[tokio::test]
    async fn events_read_newest_first_with_unique_ids_and_a_limit() {
        let w = world(12);
        let td = w.register("census", "rocker/shiny-verse:4.4.1").await;
        w.create("census", &td.arn, 1).await;
        w.advance(10);
        w.update("census", None, Some(2)).await;
        w.advance(10);
        let all = w.sandbox.service_events("census", 100).await.expect("events");
        assert!(all.len() >= 5, "{all:#?}");
        assert!(all.windows(2).all(|pair| pair[0].at >= pair[1].at), "{all:#?}");
        let mut ids: Vec<&str> = all.iter().map(|e| e.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), all.len());
        assert_eq!(w.sandbox.service_events("census", 2).await.expect("events"), all[..2]);
        assert_eq!(w.service("census").await.events, all);
    }

    /// The calls of a short but eventful day; `poll` describes the service every second.
    async fn eventful_day(w: &World, poll: bool) {
        let good = w.register("census", "rocker/shiny-verse:4.4.1").await;
        let broken = w.register("census", "rocker/shiny-verse:broken").await;
        w.create("census", &good.arn, 2).await;
        w.advance(15);
        w.update("census", Some(&broken.arn), None).await;
        for _ in 0..120 {
            w.advance(1);
            if poll {
                w.service("census").await;
            }
        }
        w.update("census", None, Some(1)).await;
        w.advance(3600);
    }

    async fn snapshot(w: &World) -> (Vec<ServiceStatus>, Vec<TaskInfo>, Vec<TaskInfo>) {
        let services = w.sandbox.describe_services(&["census".to_owned()]).await.expect("described");
        (services, w.tasks("census", TaskFilter::Running).await, w.tasks("census", TaskFilter::Stopped).await)
    }

    #[tokio::test]
    async fn a_long_gap_between_calls_replays_the_same_history_as_polling() {
        let (polled, lazy) = (world(13), world(13));
        eventful_day(&polled, true).await;
        eventful_day(&lazy, false).await;
        let (snap_polled, snap_lazy) = (snapshot(&polled).await, snapshot(&lazy).await);
        assert_eq!(snap_polled, snap_lazy);
        let story = lazy.story("census").await;
        assert!(story.iter().any(|l| l.ends_with("deployment failed: tasks failed to start.")), "{story:#?}");
    }

    #[tokio::test]
    async fn two_sandboxes_with_the_same_seed_agree_and_another_seed_differs() {
        let (a, b, other) = (world(14), world(14), world(15));
        for w in [&a, &b, &other] {
            eventful_day(w, false).await;
        }
        assert_eq!(snapshot(&a).await, snapshot(&b).await);
        assert_ne!(snapshot(&a).await, snapshot(&other).await);
        let window = MetricWindow { start: start(), end: start() + Duration::hours(2), period_secs: 60 };
        let names = ["census".to_owned()];
        let metrics_a = a.sandbox.utilisation(&names, window).await.expect("metrics");
        assert_eq!(metrics_a, b.sandbox.utilisation(&names, window).await.expect("metrics"));
        assert_ne!(metrics_a, other.sandbox.utilisation(&names, window).await.expect("metrics"));
    }

    #[tokio::test]
    async fn metrics_exist_only_for_periods_when_tasks_ran() {
        let w = world(16);
        let td = w.register("census", "rocker/shiny-verse:4.4.1").await;
        w.advance(600);
        w.create("census", &td.arn, 1).await;
        w.advance(1800);
        w.update("census", None, Some(0)).await;
        w.advance(1800);
        let window = MetricWindow { start: start(), end: start() + Duration::hours(2), period_secs: 300 };
        let series = w.sandbox.utilisation(&["census".to_owned(), "nope".to_owned()], window).await.expect("metrics");
        let shape: Vec<(&str, MetricKind, usize)> =
            series.iter().map(|s| (s.service.as_str(), s.kind, s.samples.len())).collect();
        assert_eq!(
            shape,
            [
                ("census", MetricKind::Cpu, 6),
                ("census", MetricKind::Memory, 6),
                ("nope", MetricKind::Cpu, 0),
                ("nope", MetricKind::Memory, 0)
            ]
        );
        let first = series[0].samples[0].at;
        let last = series[0].samples[5].at;
        assert_eq!((first, last), (start() + Duration::minutes(10), start() + Duration::minutes(35)));
        assert!(series[0].samples.iter().all(|s| (5.0..=60.0).contains(&s.percent)));
        assert!(series[1].samples.iter().all(|s| (30.0..=80.0).contains(&s.percent)));
    }
}
