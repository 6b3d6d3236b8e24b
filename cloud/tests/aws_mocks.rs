//! The AWS adapters against `aws-smithy-mocks`: the answers moto cannot give (deployments in
//! every rollout state, task health and stop codes, several pages, throttling, server
//! errors) and the request fields moto accepts but drops (circuit breaker, managed tags,
//! `MessageAction=RESEND`), asserted on the request itself. Batching is checked by counting
//! the calls each rule answered.
//!
//! Run with `cargo test -p cloud --test aws_mocks`.

use aws_sdk_cloudwatch::operation::get_metric_data::{GetMetricDataError, GetMetricDataInput, GetMetricDataOutput};
use aws_sdk_cloudwatch::types::{MetricDataResult, ScanBy};
use aws_sdk_cognitoidentityprovider::operation::admin_create_user::{AdminCreateUserInput, AdminCreateUserOutput};
use aws_sdk_cognitoidentityprovider::operation::admin_user_global_sign_out::{
    AdminUserGlobalSignOutError, AdminUserGlobalSignOutOutput,
};
use aws_sdk_cognitoidentityprovider::operation::create_group::{CreateGroupError, CreateGroupOutput};
use aws_sdk_cognitoidentityprovider::operation::initiate_auth::{InitiateAuthError, InitiateAuthOutput};
use aws_sdk_cognitoidentityprovider::operation::list_groups::ListGroupsOutput;
use aws_sdk_cognitoidentityprovider::operation::respond_to_auth_challenge::RespondToAuthChallengeError;
use aws_sdk_cognitoidentityprovider::types::error::{
    GroupExistsException, NotAuthorizedException, UserNotFoundException,
};
use aws_sdk_cognitoidentityprovider::types::{
    AttributeType, ChallengeNameType, DeliveryMediumType, GroupType, MessageActionType, UserStatusType, UserType,
};
use aws_sdk_ecs::operation::create_service::{CreateServiceInput, CreateServiceOutput};
use aws_sdk_ecs::operation::describe_services::{DescribeServicesError, DescribeServicesInput, DescribeServicesOutput};
use aws_sdk_ecs::operation::describe_tasks::{DescribeTasksInput, DescribeTasksOutput};
use aws_sdk_ecs::operation::list_tasks::ListTasksOutput;
use aws_sdk_ecs::operation::update_service::{UpdateServiceInput, UpdateServiceOutput};
use aws_sdk_ecs::types::{
    Attribute, Deployment as EcsDeployment, DeploymentRolloutState, DesiredStatus, Failure, HealthStatus, LaunchType,
    PropagateTags, Service, ServiceEvent as EcsEvent, Task, TaskStopCode,
};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::error::ErrorMetadata;
use aws_smithy_types::DateTime as SmithyTime;
use chrono::{DateTime, TimeZone, Utc};
use cloud::aws::{CloudWatchMetrics, CognitoDirectory, EcsFleet};
use domain::directory::{Directory, Invitation, SignIn};
use domain::fleet::{Fleet, RolloutState, ServiceSpec, ServiceTarget, ServiceUpdate, TaskFilter};
use domain::metrics::{MetricKind, MetricWindow, Metrics};
use domain::{Architecture, CloudError};
use std::sync::{Arc, Mutex};

const CLUSTER: &str = "fleet";
const POOL: &str = "eu-west-1_pool";
const APP_CLIENT: &str = "app-client";

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, minute, 0).single().expect("a valid time")
}

fn smithy(minute: u32) -> SmithyTime {
    SmithyTime::from_secs(at(minute).timestamp())
}

fn http_status(status: u16, body: &'static str) -> HttpResponse {
    HttpResponse::new(StatusCode::try_from(status).expect("a valid status"), SdkBody::from(body))
}

/// Keeps a copy of every request a rule answered, to assert on what was sent.
fn recorder<T>() -> Arc<Mutex<Vec<T>>> {
    Arc::new(Mutex::new(Vec::new()))
}

fn recorded<T: Clone>(requests: &Arc<Mutex<Vec<T>>>) -> Vec<T> {
    requests.lock().expect("an unpoisoned lock").clone()
}

// ---------------------------------------------------------------------------------------
// ECS
// ---------------------------------------------------------------------------------------

fn fleet(rules: &[&Rule]) -> EcsFleet {
    let client = mock_client!(aws_sdk_ecs, RuleMode::MatchAny, rules, |c| c
        .retry_config(aws_sdk_ecs::config::retry::RetryConfig::disabled()));
    EcsFleet::from_client(client, CLUSTER.into())
}

fn deployment(id: &str, status: &str, rollout: DeploymentRolloutState, reason: &str) -> EcsDeployment {
    EcsDeployment::builder()
        .id(id)
        .status(status)
        .task_definition(format!("arn:aws:ecs:eu-west-1:123456789012:task-definition/sales:{id}"))
        .desired_count(3)
        .running_count(1)
        .pending_count(2)
        .failed_tasks(4)
        .rollout_state(rollout)
        .rollout_state_reason(reason)
        .created_at(smithy(1))
        .updated_at(smithy(2))
        .build()
}

fn event(n: u32) -> EcsEvent {
    EcsEvent::builder().id(format!("e{n}")).created_at(smithy(n)).message(format!("event {n}")).build()
}

fn service(name: &str) -> Service {
    Service::builder()
        .service_name(name)
        .service_arn(format!("arn:aws:ecs:eu-west-1:123456789012:service/{CLUSTER}/{name}"))
        .status("ACTIVE")
        .task_definition("arn:aws:ecs:eu-west-1:123456789012:task-definition/sales:3")
        .desired_count(3)
        .running_count(1)
        .pending_count(2)
        .deployments(deployment("3", "PRIMARY", DeploymentRolloutState::InProgress, "ECS deployment in progress."))
        .deployments(deployment("2", "ACTIVE", DeploymentRolloutState::Completed, "ECS deployment completed."))
        .deployments(deployment(
            "1",
            "INACTIVE",
            DeploymentRolloutState::Failed,
            "ECS deployment circuit breaker: tasks failed to start.",
        ))
        .events(event(9))
        .events(event(8))
        .events(event(7))
        .events(event(6))
        .build()
}

/// Answers `DescribeServices` with every asked name that does not start with `missing`.
fn describe_services_rule() -> Rule {
    mock!(aws_sdk_ecs::Client::describe_services).then_compute_output(|input: &DescribeServicesInput| {
        let (missing, found): (Vec<_>, Vec<_>) = input.services().iter().partition(|n| n.starts_with("missing"));
        DescribeServicesOutput::builder()
            .set_services(Some(found.iter().map(|n| service(n)).collect()))
            .set_failures(Some(
                missing.iter().map(|n| Failure::builder().arn(n.as_str()).reason("MISSING").build()).collect(),
            ))
            .build()
    })
}

#[tokio::test]
async fn deployments_map_every_rollout_state_with_counts_and_reasons() {
    let fleet = fleet(&[&describe_services_rule()]);
    let [status] = &fleet.describe_services(&["sales".into()]).await.expect("described")[..] else {
        panic!("one service")
    };
    assert_eq!((status.name.as_str(), status.status.as_str()), ("sales", "ACTIVE"));
    assert_eq!((status.desired_count, status.running_count, status.pending_count), (3, 1, 2));

    let rollouts: Vec<_> = status.deployments.iter().map(|d| (d.status.as_str(), d.rollout_state)).collect();
    assert_eq!(
        rollouts,
        [
            ("PRIMARY", Some(RolloutState::InProgress)),
            ("ACTIVE", Some(RolloutState::Completed)),
            ("INACTIVE", Some(RolloutState::Failed)),
        ]
    );
    let failed = &status.deployments[2];
    assert_eq!(failed.rollout_reason.as_deref(), Some("ECS deployment circuit breaker: tasks failed to start."));
    assert_eq!((failed.desired_count, failed.running_count, failed.pending_count, failed.failed_tasks), (3, 1, 2, 4));
    assert_eq!((failed.created_at, failed.updated_at), (Some(at(1)), Some(at(2))));
    assert!(failed.task_definition.ends_with("sales:1"));
    let primary = status.primary().expect("a primary deployment");
    assert_eq!((primary.id.as_str(), primary.rollout_state), ("3", Some(RolloutState::InProgress)));

    let events: Vec<_> = status.events.iter().map(|e| (e.id.as_str(), e.at, e.message.as_str())).collect();
    assert_eq!(events[0], ("e9", at(9), "event 9"));
    assert_eq!(events.len(), 4);
}

#[tokio::test]
async fn service_events_are_the_newest_up_to_the_limit() {
    let fleet = fleet(&[&describe_services_rule()]);
    let events = fleet.service_events("sales", 2).await.expect("events read");
    let ids: Vec<_> = events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["e9", "e8"]);
    let missing = fleet.service_events("missing-app", 2).await;
    assert!(matches!(missing, Err(CloudError::NotFound(_))), "{missing:?}");
}

#[tokio::test]
async fn services_are_described_ten_at_a_time_and_missing_ones_left_out() {
    let requests = recorder::<usize>();
    let seen = requests.clone();
    let rule = mock!(aws_sdk_ecs::Client::describe_services)
        .match_requests(move |input| {
            seen.lock().expect("an unpoisoned lock").push(input.services().len());
            input.cluster() == Some(CLUSTER)
        })
        .then_compute_output(|input: &DescribeServicesInput| {
            DescribeServicesOutput::builder()
                .set_services(Some(
                    input.services().iter().filter(|n| !n.starts_with("missing")).map(|n| service(n)).collect(),
                ))
                .failures(Failure::builder().arn("arn:missing").reason("MISSING").build())
                .build()
        });
    let fleet = fleet(&[&rule]);
    let mut names: Vec<String> = (0..23).map(|i| format!("app-{i}")).collect();
    names.push("missing-one".into());

    let described = fleet.describe_services(&names).await.expect("described");
    assert_eq!(rule.num_calls(), 3, "24 names take ceil(24 / 10) calls");
    assert_eq!(recorded(&requests), [10, 10, 4]);
    assert_eq!(described.len(), 23);
    assert_eq!(described.iter().map(|s| s.name.clone()).collect::<Vec<_>>(), names[..23]);
}

#[tokio::test]
async fn failures_other_than_missing_fail_the_call() {
    let rule = mock!(aws_sdk_ecs::Client::describe_services).then_output(|| {
        DescribeServicesOutput::builder()
            .failures(Failure::builder().arn("arn:x").reason("ACCESS_DENIED").build())
            .build()
    });
    let refused = fleet(&[&rule]).describe_services(&["sales".into()]).await;
    assert!(matches!(refused, Err(CloudError::Unavailable(ref m)) if m.contains("ACCESS_DENIED")), "{refused:?}");
}

fn running_task() -> Task {
    Task::builder()
        .task_arn("arn:aws:ecs:eu-west-1:123456789012:task/fleet/aaa")
        .group("service:sales")
        .task_definition_arn("arn:aws:ecs:eu-west-1:123456789012:task-definition/sales:3")
        .last_status("RUNNING")
        .desired_status("RUNNING")
        .health_status(HealthStatus::Healthy)
        .cpu("1024")
        .memory("2048")
        .attributes(Attribute::builder().name("ecs.cpu-architecture").value("arm64").build().expect("an attribute"))
        .created_at(smithy(1))
        .started_at(smithy(2))
        .build()
}

fn stopped_task() -> Task {
    Task::builder()
        .task_arn("arn:aws:ecs:eu-west-1:123456789012:task/fleet/bbb")
        .group("family:sales")
        .task_definition_arn("arn:aws:ecs:eu-west-1:123456789012:task-definition/sales:2")
        .last_status("STOPPED")
        .desired_status("STOPPED")
        .health_status(HealthStatus::Unhealthy)
        .cpu("0.25 vCPU")
        .memory("0.5 GB")
        .created_at(smithy(1))
        .started_at(smithy(2))
        .stopping_at(smithy(5))
        .stopped_at(smithy(6))
        .stop_code(TaskStopCode::EssentialContainerExited)
        .stopped_reason("Essential container in task exited")
        .build()
}

#[tokio::test]
async fn tasks_map_health_stop_codes_and_lifecycle() {
    let starting = Task::builder()
        .task_arn("arn:aws:ecs:eu-west-1:123456789012:task/fleet/ccc")
        .last_status("PROVISIONING")
        .build();
    let rule = mock!(aws_sdk_ecs::Client::describe_tasks).then_output(move || {
        DescribeTasksOutput::builder().tasks(running_task()).tasks(stopped_task()).tasks(starting.clone()).build()
    });
    let arns = vec!["aaa".to_owned(), "bbb".to_owned(), "ccc".to_owned()];
    let tasks = fleet(&[&rule]).describe_tasks(&arns).await.expect("described");
    let [running, stopped, starting] = &tasks[..] else { panic!("three tasks") };

    assert_eq!(running.service.as_deref(), Some("sales"));
    assert_eq!((running.last_status.as_str(), running.health_status.as_str()), ("RUNNING", "HEALTHY"));
    assert_eq!((running.cpu, running.memory, running.architecture), (1024, 2048, Some(Architecture::Arm64)));
    assert_eq!((running.created_at, running.started_at, running.stopped_at), (Some(at(1)), Some(at(2)), None));
    assert_eq!((running.stop_code.as_deref(), running.stopped_reason.as_deref()), (None, None));

    assert_eq!(stopped.service, None, "not started by a service");
    assert_eq!((stopped.desired_status.as_str(), stopped.health_status.as_str()), ("STOPPED", "UNHEALTHY"));
    assert_eq!((stopped.cpu, stopped.memory, stopped.architecture), (256, 512, None));
    assert_eq!((stopped.stopping_at, stopped.stopped_at), (Some(at(5)), Some(at(6))));
    assert_eq!(stopped.stop_code.as_deref(), Some("EssentialContainerExited"));
    assert_eq!(stopped.stopped_reason.as_deref(), Some("Essential container in task exited"));

    assert_eq!((starting.last_status.as_str(), starting.health_status.as_str()), ("PROVISIONING", "UNKNOWN"));
    assert_eq!((starting.cpu, starting.memory, starting.created_at), (0, 0, None));
}

#[tokio::test]
async fn tasks_are_described_a_hundred_at_a_time() {
    let requests = recorder::<usize>();
    let seen = requests.clone();
    let rule = mock!(aws_sdk_ecs::Client::describe_tasks)
        .match_requests(move |input| {
            seen.lock().expect("an unpoisoned lock").push(input.tasks().len());
            true
        })
        .then_compute_output(|input: &DescribeTasksInput| {
            let tasks = input.tasks().iter().map(|arn| Task::builder().task_arn(arn).build());
            DescribeTasksOutput::builder().set_tasks(Some(tasks.collect())).build()
        });
    let arns: Vec<String> = (0..250).map(|i| format!("task-{i}")).collect();
    let tasks = fleet(&[&rule]).describe_tasks(&arns).await.expect("described");
    assert_eq!(rule.num_calls(), 3, "250 tasks take ceil(250 / 100) calls");
    assert_eq!(recorded(&requests), [100, 100, 50]);
    assert_eq!(tasks.iter().map(|t| t.arn.clone()).collect::<Vec<_>>(), arns);
}

#[tokio::test]
async fn task_lists_follow_every_page() {
    let page = |arns: &[&str], next: Option<&str>| {
        let arns: Vec<String> = arns.iter().map(|a| a.to_string()).collect();
        let next = next.map(str::to_owned);
        move || ListTasksOutput::builder().set_task_arns(Some(arns.clone())).set_next_token(next.clone()).build()
    };
    let asks = |token: Option<&'static str>| {
        mock!(aws_sdk_ecs::Client::list_tasks).match_requests(move |input| {
            input.cluster() == Some(CLUSTER)
                && input.service_name() == Some("sales")
                && input.desired_status() == Some(&DesiredStatus::Stopped)
                && input.max_results() == Some(100)
                && input.next_token() == token
        })
    };
    let first = asks(None).then_output(page(&["t1", "t2"], Some("page-2")));
    let second = asks(Some("page-2")).then_output(page(&["t3"], Some("page-3")));
    let third = asks(Some("page-3")).then_output(page(&["t4"], None));

    let arns = fleet(&[&first, &second, &third]).list_tasks("sales", TaskFilter::Stopped).await.expect("listed");
    assert_eq!(arns, ["t1", "t2", "t3", "t4"]);
    assert_eq!((first.num_calls(), second.num_calls(), third.num_calls()), (1, 1, 1));
}

#[tokio::test]
async fn the_whole_cluster_is_listed_without_a_service_name_page_by_page() {
    let asks = |token: Option<&'static str>| {
        mock!(aws_sdk_ecs::Client::list_tasks).match_requests(move |input| {
            input.cluster() == Some(CLUSTER)
                && input.service_name().is_none()
                && input.desired_status() == Some(&DesiredStatus::Running)
                && input.max_results() == Some(100)
                && input.next_token() == token
        })
    };
    let page = |n: usize, next: Option<&'static str>| {
        move || {
            let arns: Vec<String> = (0..n).map(|i| format!("t{i}")).collect();
            ListTasksOutput::builder().set_task_arns(Some(arns)).set_next_token(next.map(str::to_owned)).build()
        }
    };
    let first = asks(None).then_output(page(100, Some("p2")));
    let second = asks(Some("p2")).then_output(page(100, Some("p3")));
    let third = asks(Some("p3")).then_output(page(7, None));
    let arns = fleet(&[&first, &second, &third]).list_cluster_tasks(TaskFilter::Running).await.expect("listed");
    assert_eq!(arns.len(), 207);
    assert_eq!((first.num_calls(), second.num_calls(), third.num_calls()), (1, 1, 1));
}

#[tokio::test]
async fn services_are_created_with_a_rolling_back_circuit_breaker_and_managed_tags() {
    let requests = recorder::<CreateServiceInput>();
    let seen = requests.clone();
    let nothing_yet = mock!(aws_sdk_ecs::Client::describe_services).then_output(|| {
        DescribeServicesOutput::builder()
            .failures(Failure::builder().arn("arn:sales").reason("MISSING").build())
            .build()
    });
    let create = mock!(aws_sdk_ecs::Client::create_service).then_compute_output(move |input: &CreateServiceInput| {
        seen.lock().expect("an unpoisoned lock").push(input.clone());
        CreateServiceOutput::builder().service(service("sales")).build()
    });
    let spec = ServiceSpec {
        name: "sales".into(),
        task_definition: "sales:3".into(),
        desired_count: 2,
        subnets: vec!["subnet-a".into(), "subnet-b".into()],
        security_groups: vec!["sg-1".into()],
        assign_public_ip: false,
        target_group_arn: None,
        // Without a target group the grace period is not sent (ECS uses it for the balancer).
        health_check_grace_period_secs: Some(120),
        container_port: 3838,
        tags: vec![("app".into(), "sales".into())],
    };
    let created = fleet(&[&nothing_yet, &create]).create_service(&spec).await.expect("created");
    assert_eq!(created.name, "sales");

    let [input] = &recorded(&requests)[..] else { panic!("one CreateService") };
    assert_eq!(
        (input.cluster(), input.service_name(), input.task_definition()),
        (Some(CLUSTER), Some("sales"), Some("sales:3"))
    );
    assert_eq!((input.desired_count(), input.launch_type()), (Some(2), Some(&LaunchType::Fargate)));
    let deployment = input.deployment_configuration().expect("a deployment configuration");
    let breaker = deployment.deployment_circuit_breaker().expect("a circuit breaker");
    assert!(breaker.enable() && breaker.rollback());
    assert_eq!((deployment.minimum_healthy_percent(), deployment.maximum_percent()), (Some(100), Some(200)));
    assert_eq!((input.propagate_tags(), input.enable_ecs_managed_tags()), (Some(&PropagateTags::Service), Some(true)));
    assert!(input.client_token().is_some_and(|t| !t.is_empty() && t.len() <= 36));
    assert!(input.load_balancers().is_empty(), "no target group, no load balancer");
    assert_eq!(input.health_check_grace_period_seconds(), None);
    let vpc = input.network_configuration().and_then(|n| n.awsvpc_configuration()).expect("awsvpc");
    assert_eq!(
        (vpc.subnets(), vpc.security_groups()),
        (&["subnet-a".to_owned(), "subnet-b".to_owned()][..], &["sg-1".to_owned()][..])
    );
    assert_eq!(vpc.assign_public_ip().map(|a| a.as_str()), Some("DISABLED"));
}

#[tokio::test]
async fn an_update_registers_the_service_in_its_target_group_or_takes_it_off_or_leaves_it() {
    let requests = recorder::<UpdateServiceInput>();
    let seen = requests.clone();
    let update = mock!(aws_sdk_ecs::Client::update_service).match_requests(|_| true).then_compute_output(
        move |input: &UpdateServiceInput| {
            seen.lock().expect("an unpoisoned lock").push(input.clone());
            UpdateServiceOutput::builder().service(service("sales")).build()
        },
    );
    let fleet = fleet(&[&update]);
    let target = ServiceTarget {
        target_group_arn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/sf-sales/1".into(),
        container_port: 3838,
        health_check_grace_period_secs: 180,
    };
    let deploy = |load_balancer| ServiceUpdate {
        name: "sales".into(),
        task_definition: Some("sales:4".into()),
        load_balancer,
        ..ServiceUpdate::default()
    };
    fleet.update_service(&deploy(Some(Some(target.clone())))).await.expect("attached");
    fleet.update_service(&deploy(Some(None))).await.expect("detached");
    let scale = ServiceUpdate { name: "sales".into(), desired_count: Some(0), ..ServiceUpdate::default() };
    fleet.update_service(&scale).await.expect("scaled");

    let [attach, detach, scaled] = &recorded(&requests)[..] else { panic!("three UpdateService") };
    let balancers = attach.load_balancers.as_deref().expect("load balancers sent");
    let [balancer] = balancers else { panic!("one load balancer: {balancers:?}") };
    assert_eq!(
        (balancer.target_group_arn(), balancer.container_name(), balancer.container_port()),
        (Some(target.target_group_arn.as_str()), Some("shiny"), Some(3838))
    );
    assert_eq!(attach.health_check_grace_period_seconds(), Some(180));
    assert_eq!(detach.load_balancers.as_deref(), Some(&[][..]), "an empty list takes the service off");
    assert_eq!(detach.health_check_grace_period_seconds(), None);
    assert_eq!(scaled.load_balancers, None, "a change of count leaves the load balancer alone");
    assert_eq!(scaled.health_check_grace_period_seconds(), None);
}

#[tokio::test]
async fn throttling_is_reported_as_throttled() {
    let modeled = mock!(aws_sdk_ecs::Client::describe_services).then_error(|| {
        DescribeServicesError::generic(
            ErrorMetadata::builder().code("ThrottlingException").message("Rate exceeded").build(),
        )
    });
    let throttled = fleet(&[&modeled]).describe_services(&["sales".into()]).await;
    assert_eq!(throttled, Err(CloudError::Throttled));

    let on_the_wire = mock!(aws_sdk_ecs::Client::describe_services)
        .then_http_response(|| http_status(400, r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#));
    let throttled = fleet(&[&on_the_wire]).describe_services(&["sales".into()]).await;
    assert_eq!(throttled, Err(CloudError::Throttled));
}

#[tokio::test]
async fn stopping_an_unknown_task_is_not_found() {
    let rule = mock!(aws_sdk_ecs::Client::stop_task).then_http_response(|| {
        http_status(400, r#"{"__type":"InvalidParameterException","message":"The referenced task was not found."}"#)
    });
    let stopped = fleet(&[&rule]).stop_task("arn:aws:ecs:us-east-1:1:task/c/gone", "no longer needed").await;
    assert!(matches!(stopped, Err(CloudError::NotFound(_))), "{stopped:?}");

    let other = mock!(aws_sdk_ecs::Client::stop_task).then_http_response(|| {
        http_status(400, r#"{"__type":"InvalidParameterException","message":"Reason too long."}"#)
    });
    let refused = fleet(&[&other]).stop_task("arn:aws:ecs:us-east-1:1:task/c/t", "x").await;
    assert!(matches!(refused, Err(CloudError::Invalid(_))), "{refused:?}");
}

#[tokio::test]
async fn deleting_a_service_twice_or_an_unknown_one_is_not_found() {
    let inactive = mock!(aws_sdk_ecs::Client::delete_service).then_http_response(|| {
        http_status(400, r#"{"__type":"ServiceNotActiveException","message":"Service was not ACTIVE."}"#)
    });
    let again = fleet(&[&inactive]).delete_service("census").await;
    assert!(matches!(again, Err(CloudError::NotFound(_))), "{again:?}");
    let unknown = mock!(aws_sdk_ecs::Client::delete_service).then_http_response(|| {
        http_status(400, r#"{"__type":"ServiceNotFoundException","message":"Service not found."}"#)
    });
    let missing = fleet(&[&unknown]).delete_service("never").await;
    assert!(matches!(missing, Err(CloudError::NotFound(_))), "{missing:?}");
}

#[tokio::test]
async fn server_errors_are_reported_as_unavailable_without_their_body() {
    let rule = mock!(aws_sdk_ecs::Client::describe_services)
        .then_http_response(|| http_status(500, r#"{"message":"internal detail arn:secret"}"#));
    let failed = fleet(&[&rule]).describe_services(&["sales".into()]).await;
    let Err(CloudError::Unavailable(message)) = failed else { panic!("unavailable: {failed:?}") };
    assert!(!message.contains("secret"), "{message}");
    assert!(CloudError::Unavailable(message).is_transient());
}

// ---------------------------------------------------------------------------------------
// Cognito
// ---------------------------------------------------------------------------------------

fn directory(rules: &[&Rule]) -> CognitoDirectory {
    let client = mock_client!(aws_sdk_cognitoidentityprovider, RuleMode::MatchAny, rules, |c| c
        .retry_config(aws_sdk_cognitoidentityprovider::config::retry::RetryConfig::disabled()));
    CognitoDirectory::from_client(client, POOL.into(), APP_CLIENT.into())
}

fn pool_user(email: &str, status: UserStatusType) -> UserType {
    let attribute = AttributeType::builder().name("email").value(email).build().expect("an attribute");
    UserType::builder().username(email).attributes(attribute).enabled(true).user_status(status).build()
}

#[tokio::test]
async fn resending_an_invitation_asks_the_pool_to_resend() {
    let requests = recorder::<AdminCreateUserInput>();
    let seen = requests.clone();
    let rule = mock!(aws_sdk_cognitoidentityprovider::Client::admin_create_user).then_compute_output(
        move |input: &AdminCreateUserInput| {
            seen.lock().expect("an unpoisoned lock").push(input.clone());
            AdminCreateUserOutput::builder()
                .user(pool_user("ann@example.com", UserStatusType::ForceChangePassword))
                .build()
        },
    );
    directory(&[&rule]).resend_invitation("ann@example.com").await.expect("resent");

    let [input] = &recorded(&requests)[..] else { panic!("one AdminCreateUser") };
    assert_eq!((input.user_pool_id(), input.username()), (Some(POOL), Some("ann@example.com")));
    assert_eq!(input.message_action(), Some(&MessageActionType::Resend));
    assert_eq!(input.desired_delivery_mediums(), [DeliveryMediumType::Email]);
    assert!(input.temporary_password().is_none() && input.user_attributes().is_empty());
}

#[tokio::test]
async fn invitations_send_a_verified_email_and_existing_users_conflict() {
    let requests = recorder::<AdminCreateUserInput>();
    let seen = requests.clone();
    let rule = mock!(aws_sdk_cognitoidentityprovider::Client::admin_create_user).then_compute_output(
        move |input: &AdminCreateUserInput| {
            seen.lock().expect("an unpoisoned lock").push(input.clone());
            AdminCreateUserOutput::builder()
                .user(pool_user("ann@example.com", UserStatusType::ForceChangePassword))
                .build()
        },
    );
    let invitation = Invitation { email: "ann@example.com".into(), temporary_password: None };
    directory(&[&rule]).invite(&invitation).await.expect("invited");
    let [input] = &recorded(&requests)[..] else { panic!("one AdminCreateUser") };
    let attributes: Vec<_> = input.user_attributes().iter().map(|a| (a.name(), a.value())).collect();
    assert_eq!(attributes, [("email", Some("ann@example.com")), ("email_verified", Some("true"))]);
    assert_eq!((input.message_action(), input.temporary_password()), (None, None));
    assert_eq!(input.desired_delivery_mediums(), [DeliveryMediumType::Email]);

    let exists = mock!(aws_sdk_cognitoidentityprovider::Client::admin_create_user).then_http_response(|| {
        http_status(400, r#"{"__type":"UsernameExistsException","message":"User account already exists"}"#)
    });
    let conflict = directory(&[&exists]).invite(&invitation).await;
    assert_eq!(conflict, Err(CloudError::Conflict("a user with email ann@example.com".into())));
}

#[tokio::test]
async fn groups_are_read_across_pages_and_an_existing_group_is_fine() {
    let group = |name: &str| GroupType::builder().group_name(name).build();
    let first = mock!(aws_sdk_cognitoidentityprovider::Client::list_groups)
        .match_requests(|input| input.next_token().is_none())
        .then_output(move || ListGroupsOutput::builder().groups(group("viewers")).next_token("more").build());
    let second = mock!(aws_sdk_cognitoidentityprovider::Client::list_groups)
        .match_requests(|input| input.next_token() == Some("more"))
        .then_output(move || ListGroupsOutput::builder().groups(group("admins")).build());
    let exists = mock!(aws_sdk_cognitoidentityprovider::Client::create_group)
        .match_requests(|input| input.group_name() == Some("admins"))
        .then_error(|| {
            CreateGroupError::GroupExistsException(GroupExistsException::builder().message("exists").build())
        });
    let created = mock!(aws_sdk_cognitoidentityprovider::Client::create_group)
        .then_output(|| CreateGroupOutput::builder().build());
    let directory = directory(&[&first, &second, &exists, &created]);

    assert_eq!(directory.list_groups().await.expect("listed"), ["admins", "viewers"]);
    directory.ensure_group("admins").await.expect("an existing group is fine");
    directory.ensure_group("editors").await.expect("a new group is created");
    assert_eq!((exists.num_calls(), created.num_calls()), (1, 1));
}

#[tokio::test]
async fn sign_in_challenges_other_than_a_new_password_are_invalid_not_a_wrong_password() {
    let rule = mock!(aws_sdk_cognitoidentityprovider::Client::initiate_auth).then_output(|| {
        InitiateAuthOutput::builder().challenge_name(ChallengeNameType::SoftwareTokenMfa).session("s").build()
    });
    let refused = directory(&[&rule]).sign_in("ann@example.com", "password").await;
    // The password was right: the console must not count it as a failed attempt.
    assert!(matches!(&refused, Err(CloudError::Invalid(m)) if m.contains("SOFTWARE_TOKEN_MFA")), "{refused:?}");
}

#[tokio::test]
async fn sign_in_failures_do_not_tell_why() {
    let rule = mock!(aws_sdk_cognitoidentityprovider::Client::initiate_auth).then_error(|| {
        InitiateAuthError::NotAuthorizedException(
            NotAuthorizedException::builder().message("User is disabled.").build(),
        )
    });
    let refused = directory(&[&rule]).sign_in("ann@example.com", "password").await;
    assert_eq!(refused, Err(CloudError::NotAuthorized("incorrect email or password".into())));

    let throttled = mock!(aws_sdk_cognitoidentityprovider::Client::initiate_auth)
        .then_error(|| InitiateAuthError::generic(ErrorMetadata::builder().code("TooManyRequestsException").build()));
    assert_eq!(directory(&[&throttled]).sign_in("a@b.c", "p").await, Err(CloudError::Throttled));
}

#[tokio::test]
async fn an_expired_challenge_session_asks_to_sign_in_again() {
    let rule = mock!(aws_sdk_cognitoidentityprovider::Client::respond_to_auth_challenge).then_error(|| {
        RespondToAuthChallengeError::NotAuthorizedException(
            NotAuthorizedException::builder().message("Invalid session for the user, session is expired.").build(),
        )
    });
    let expired = directory(&[&rule]).complete_new_password("ann@example.com", "Chosen-1234!", "old").await;
    assert!(matches!(expired, Err(CloudError::NotAuthorized(ref m)) if m.contains("sign in again")), "{expired:?}");
}

#[tokio::test]
async fn a_first_sign_in_returns_the_challenge_session() {
    let rule = mock!(aws_sdk_cognitoidentityprovider::Client::initiate_auth)
        .match_requests(|input| {
            input.client_id() == Some(APP_CLIENT)
                && input.auth_flow().map(|f| f.as_str()) == Some("USER_PASSWORD_AUTH")
                && input.auth_parameters().and_then(|p| p.get("USERNAME")).map(String::as_str)
                    == Some("ann@example.com")
        })
        .then_output(|| {
            InitiateAuthOutput::builder()
                .challenge_name(ChallengeNameType::NewPasswordRequired)
                .session("opaque")
                .build()
        });
    let answer = directory(&[&rule]).sign_in("ann@example.com", "Temp-1234!").await.expect("a challenge");
    assert_eq!(answer, SignIn::NewPasswordRequired { session: "opaque".into() });
}

#[tokio::test]
async fn signing_out_everywhere_is_an_admin_call_and_an_unknown_user_is_not_found() {
    let signed_out = mock!(aws_sdk_cognitoidentityprovider::Client::admin_user_global_sign_out)
        .match_requests(|input| input.user_pool_id() == Some(POOL) && input.username() == Some("ann@example.com"))
        .then_output(|| AdminUserGlobalSignOutOutput::builder().build());
    directory(&[&signed_out]).sign_out_everywhere("ann@example.com").await.expect("signed out");
    assert_eq!(signed_out.num_calls(), 1);

    let unknown = mock!(aws_sdk_cognitoidentityprovider::Client::admin_user_global_sign_out).then_error(|| {
        AdminUserGlobalSignOutError::UserNotFoundException(
            UserNotFoundException::builder().message("User does not exist.").build(),
        )
    });
    let missing = directory(&[&unknown]).sign_out_everywhere("bob@example.com").await;
    assert_eq!(missing, Err(CloudError::NotFound("user bob@example.com".into())));

    let no_pool = mock!(aws_sdk_cognitoidentityprovider::Client::admin_user_global_sign_out).then_http_response(|| {
        http_status(400, r#"{"__type":"ResourceNotFoundException","message":"User pool does not exist."}"#)
    });
    let missing = directory(&[&no_pool]).sign_out_everywhere("bob@example.com").await;
    assert_eq!(missing, Err(CloudError::NotFound("User pool does not exist.".into())));
}

// ---------------------------------------------------------------------------------------
// CloudWatch
// ---------------------------------------------------------------------------------------

fn metrics(rules: &[&Rule]) -> CloudWatchMetrics {
    let client = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, rules, |c| c
        .retry_config(aws_sdk_cloudwatch::config::retry::RetryConfig::disabled()));
    CloudWatchMetrics::from_client(client, CLUSTER.into())
}

/// One datapoint per query, its value the query's index, at a minute given by the page.
fn results(input: &GetMetricDataInput, minute: u32) -> Vec<MetricDataResult> {
    input
        .metric_data_queries()
        .iter()
        .map(|q| {
            let id = q.id().unwrap_or_default();
            let index: f64 = id[1..].parse().expect("ids are a letter and an index");
            MetricDataResult::builder().id(id).timestamps(smithy(minute)).values(index).build()
        })
        .collect()
}

#[tokio::test]
async fn many_services_are_fetched_in_batches_of_500_queries_following_next_tokens() {
    let requests = recorder::<GetMetricDataInput>();
    let seen = requests.clone();
    let rule =
        mock!(aws_sdk_cloudwatch::Client::get_metric_data).then_compute_output(move |input: &GetMetricDataInput| {
            seen.lock().expect("an unpoisoned lock").push(input.clone());
            let first_batch = input.metric_data_queries().len() == 500;
            match input.next_token() {
                None if first_batch => GetMetricDataOutput::builder()
                    .set_metric_data_results(Some(results(input, 5)))
                    .next_token("more")
                    .build(),
                _ => GetMetricDataOutput::builder().set_metric_data_results(Some(results(input, 1))).build(),
            }
        });
    let services: Vec<String> = (0..300).map(|i| format!("app-{i}")).collect();
    let window = MetricWindow { start: at(0), end: at(30), period_secs: 300 };
    let series = metrics(&[&rule]).utilisation(&services, window).await.expect("read");

    assert_eq!(rule.num_calls(), 3, "600 queries: a batch of 500 over two pages, then one of 100");
    let sent = recorded(&requests);
    let shape: Vec<_> = sent.iter().map(|i| (i.metric_data_queries().len(), i.next_token())).collect();
    assert_eq!(shape, [(500, None), (500, Some("more")), (100, None)]);
    for input in &sent {
        assert_eq!((input.start_time(), input.end_time()), (Some(&smithy(0)), Some(&smithy(30))));
        assert_eq!(input.scan_by(), Some(&ScanBy::TimestampAscending));
    }
    let query = &sent[0].metric_data_queries()[1];
    assert_eq!(query.id(), Some("m0"));
    let stat = query.metric_stat().expect("a metric stat");
    assert_eq!((stat.period(), stat.stat()), (Some(300), Some("Average")));
    let metric = stat.metric().expect("a metric");
    assert_eq!((metric.namespace(), metric.metric_name()), (Some("AWS/ECS"), Some("MemoryUtilization")));
    let dimensions: Vec<_> = metric.dimensions().iter().map(|d| (d.name(), d.value())).collect();
    assert_eq!(dimensions, [(Some("ClusterName"), Some(CLUSTER)), (Some("ServiceName"), Some("app-0"))]);

    assert_eq!(series.len(), 600);
    let first = &series[0];
    assert_eq!((first.service.as_str(), first.kind), ("app-0", MetricKind::Cpu));
    let points: Vec<_> = first.samples.iter().map(|s| (s.at, s.percent)).collect();
    assert_eq!(points, [(at(1), 0.0), (at(5), 0.0)], "pages merged, oldest first");
    let last = &series[599];
    assert_eq!((last.service.as_str(), last.kind, last.samples.len()), ("app-299", MetricKind::Memory, 1));
    assert_eq!(last.samples[0].percent, 299.0);
}

#[tokio::test]
async fn cloudwatch_throttling_is_reported_as_throttled() {
    let rule = mock!(aws_sdk_cloudwatch::Client::get_metric_data).then_error(|| {
        GetMetricDataError::generic(ErrorMetadata::builder().code("Throttling").message("Rate exceeded").build())
    });
    let window = MetricWindow { start: at(0), end: at(30), period_secs: 60 };
    assert_eq!(metrics(&[&rule]).utilisation(&["sales".into()], window).await, Err(CloudError::Throttled));
}
