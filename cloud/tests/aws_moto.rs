//! The AWS adapters against moto's server, through the real SDK clients: every port method,
//! the request shapes read back with the raw SDK, and whole flows (deploy, invite and first
//! sign-in with the ID token checked against the pool's keys, metrics). Each test makes its
//! own cluster, user pool or metric dimensions, so the tests share one server and run in
//! parallel.
//!
//! Run with `cargo test -p cloud --test aws_moto` (moto starts by itself; set `MOTO_ENDPOINT`
//! to use a running one).

mod support;

use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, Compatibility, CpuArchitecture, LaunchType, NetworkConfiguration, NetworkMode,
    OsFamily, PropagateTags, TaskDefinitionField, TransportProtocol,
};
use chrono::{DateTime, Duration, DurationRound, Utc};
use cloud::aws::{CloudWatchMetrics, CognitoDirectory, EcsFleet};
use cloud::jwt::JwtVerifier;
use domain::directory::{Directory, Invitation, SignIn, UserStatus};
use domain::fleet::{Fleet, ServiceSpec, ServiceUpdate, TaskDefinitionRef, TaskDefinitionSpec, TaskFilter};
use domain::metrics::{MetricKind, MetricWindow, Metrics, Series};
use domain::{Architecture, CloudError, IdentityVerifier, SystemClock};
use std::sync::Arc;
use support::moto::{self, unique, Network};

// ---------------------------------------------------------------------------------------
// ECS
// ---------------------------------------------------------------------------------------

/// A fresh cluster, the adapter for it, and the raw client to look behind the adapter.
struct Ecs {
    raw: aws_sdk_ecs::Client,
    fleet: EcsFleet,
    cluster: String,
    network: Network,
}

async fn ecs() -> Ecs {
    let config = moto::sdk_config().await;
    let raw = aws_sdk_ecs::Client::new(&config);
    let cluster = unique("cluster");
    raw.create_cluster().cluster_name(&cluster).send().await.expect("cluster created");
    let fleet = EcsFleet::new(&config, cluster.clone());
    Ecs { raw, fleet, cluster, network: moto::default_network().await }
}

fn task_spec(family: &str) -> TaskDefinitionSpec {
    TaskDefinitionSpec {
        family: family.to_owned(),
        image: "ghcr.io/acme/sales:1.2.3".into(),
        cpu: 512,
        memory: 1024,
        architecture: Architecture::Arm64,
        container_port: 3838,
        environment: vec![("APP".into(), "sales".into()), ("SHINY_LOG_LEVEL".into(), "info".into())],
        task_role_arn: Some("arn:aws:iam::123456789012:role/sales-task".into()),
        execution_role_arn: Some("arn:aws:iam::123456789012:role/ecsTaskExecutionRole".into()),
        health_check_command: Some("curl -f http://localhost:3838/ || exit 1".into()),
        log_group: "/shinyfleet/sales".into(),
        log_region: "eu-west-1".into(),
        tags: vec![("app".into(), "sales".into()), ("managed-by".into(), "shinyfleet".into())],
    }
}

fn service_spec(name: &str, task_definition: &TaskDefinitionRef, network: &Network) -> ServiceSpec {
    ServiceSpec {
        name: name.to_owned(),
        task_definition: task_definition.arn.clone(),
        desired_count: 2,
        subnets: network.subnets[..2].to_vec(),
        security_groups: vec![network.security_group.clone()],
        assign_public_ip: true,
        target_group_arn: Some(
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/sales/0123456789abcdef".into(),
        ),
        health_check_grace_period_secs: Some(120),
        container_port: 3838,
        tags: vec![("app".into(), name.to_owned())],
    }
}

impl Ecs {
    async fn register(&self, family: &str) -> TaskDefinitionRef {
        self.fleet.register_task_definition(&task_spec(family)).await.expect("task definition registered")
    }

    async fn service(&self, name: &str) -> TaskDefinitionRef {
        let task_definition = self.register(&unique("family")).await;
        self.fleet.create_service(&service_spec(name, &task_definition, &self.network)).await.expect("service created");
        task_definition
    }

    /// Starts tasks the way a service would, tagged with its `service:` group: moto creates
    /// none for a service by itself.
    async fn run_tasks(&self, service: &str, task_definition: &TaskDefinitionRef, count: i32) -> Vec<String> {
        let vpc = AwsVpcConfiguration::builder()
            .subnets(&self.network.subnets[0])
            .security_groups(&self.network.security_group)
            .build()
            .expect("a valid network");
        let out = self
            .raw
            .run_task()
            .cluster(&self.cluster)
            .task_definition(&task_definition.arn)
            .count(count)
            .launch_type(LaunchType::Fargate)
            .group(format!("service:{service}"))
            .network_configuration(NetworkConfiguration::builder().awsvpc_configuration(vpc).build())
            .send()
            .await
            .expect("tasks started");
        out.tasks().iter().filter_map(|t| t.task_arn().map(str::to_owned)).collect()
    }
}

#[tokio::test]
async fn probe_finds_the_cluster_and_reports_a_missing_one() {
    let ecs = ecs().await;
    ecs.fleet.probe().await.expect("the cluster exists");

    let missing = EcsFleet::new(&moto::sdk_config().await, unique("no-such-cluster"));
    assert!(matches!(missing.probe().await, Err(CloudError::NotFound(_))));
}

#[tokio::test]
async fn task_definitions_are_registered_with_every_field() {
    let ecs = ecs().await;
    let family = unique("sales");
    let registered = ecs.register(&family).await;
    assert_eq!((registered.family.as_str(), registered.revision), (family.as_str(), 1));

    let out = ecs
        .raw
        .describe_task_definition()
        .task_definition(&registered.arn)
        .include(TaskDefinitionField::Tags)
        .send()
        .await
        .expect("task definition described");
    let td = out.task_definition().expect("a task definition");
    assert_eq!(td.task_definition_arn(), Some(registered.arn.as_str()));
    assert_eq!(td.requires_compatibilities(), [Compatibility::Fargate]);
    assert_eq!(td.network_mode(), Some(&NetworkMode::Awsvpc));
    assert_eq!((td.cpu(), td.memory()), (Some("512"), Some("1024")));
    let platform = td.runtime_platform().expect("a runtime platform");
    assert_eq!(platform.cpu_architecture(), Some(&CpuArchitecture::Arm64));
    assert_eq!(platform.operating_system_family(), Some(&OsFamily::Linux));
    assert_eq!(td.task_role_arn(), Some("arn:aws:iam::123456789012:role/sales-task"));
    assert_eq!(td.execution_role_arn(), Some("arn:aws:iam::123456789012:role/ecsTaskExecutionRole"));

    let [container] = td.container_definitions() else { panic!("one container: {td:?}") };
    assert_eq!(container.name(), Some("shiny"));
    assert_eq!(container.image(), Some("ghcr.io/acme/sales:1.2.3"));
    assert_eq!(container.essential(), Some(true));
    assert_eq!(container.memory(), Some(1024));
    let [port] = container.port_mappings() else { panic!("one port mapping") };
    assert_eq!((port.container_port(), port.protocol()), (Some(3838), Some(&TransportProtocol::Tcp)));
    let environment: Vec<_> = container.environment().iter().map(|kv| (kv.name(), kv.value())).collect();
    assert_eq!(environment, [(Some("APP"), Some("sales")), (Some("SHINY_LOG_LEVEL"), Some("info"))]);
    let logs = container.log_configuration().expect("a log configuration");
    assert_eq!(logs.log_driver().as_str(), "awslogs");
    let options = logs.options().expect("log options");
    assert_eq!(options.get("awslogs-group").map(String::as_str), Some("/shinyfleet/sales"));
    assert_eq!(options.get("awslogs-region").map(String::as_str), Some("eu-west-1"));
    assert_eq!(options.get("awslogs-stream-prefix").map(String::as_str), Some("shiny"));
    assert_eq!(options.get("awslogs-create-group").map(String::as_str), Some("true"));
    let health = container.health_check().expect("a health check");
    assert_eq!(health.command(), ["CMD-SHELL", "curl -f http://localhost:3838/ || exit 1"]);
    assert_eq!(
        (health.interval(), health.timeout(), health.retries(), health.start_period()),
        (Some(30), Some(5), Some(3), Some(60))
    );
    let tags: Vec<_> = out.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(tags, [(Some("app"), Some("sales")), (Some("managed-by"), Some("shinyfleet"))]);

    let without_check = TaskDefinitionSpec { health_check_command: None, ..task_spec(&family) };
    let second = ecs.fleet.register_task_definition(&without_check).await.expect("second revision");
    assert_eq!(second.revision, 2);
    let out = ecs.raw.describe_task_definition().task_definition(&second.arn).send().await.expect("described");
    let container = &out.task_definition().expect("a task definition").container_definitions()[0];
    assert!(container.health_check().is_none(), "no health check unless the app defines one");
}

#[tokio::test]
async fn services_are_created_on_fargate_in_the_given_network() {
    let ecs = ecs().await;
    let name = unique("svc");
    let task_definition = ecs.register(&unique("family")).await;
    let spec = service_spec(&name, &task_definition, &ecs.network);
    let created = ecs.fleet.create_service(&spec).await.expect("service created");
    assert_eq!((created.name.as_str(), created.status.as_str()), (name.as_str(), "ACTIVE"));
    assert_eq!((created.task_definition.as_str(), created.desired_count), (task_definition.arn.as_str(), 2));
    let primary = created.primary().expect("a primary deployment");
    assert_eq!((primary.task_definition.as_str(), primary.desired_count), (task_definition.arn.as_str(), 2));

    let out = ecs
        .raw
        .describe_services()
        .cluster(&ecs.cluster)
        .services(&name)
        .include(aws_sdk_ecs::types::ServiceField::Tags)
        .send()
        .await
        .expect("service described");
    let service = &out.services()[0];
    assert_eq!(service.launch_type(), Some(&LaunchType::Fargate));
    let vpc = service.network_configuration().and_then(|n| n.awsvpc_configuration()).expect("an awsvpc configuration");
    assert_eq!(vpc.subnets(), &ecs.network.subnets[..2]);
    assert_eq!(vpc.security_groups(), std::slice::from_ref(&ecs.network.security_group));
    assert_eq!(vpc.assign_public_ip(), Some(&AssignPublicIp::Enabled));
    let [balancer] = service.load_balancers() else { panic!("one load balancer") };
    assert_eq!(balancer.target_group_arn(), spec.target_group_arn.as_deref());
    assert_eq!((balancer.container_name(), balancer.container_port()), (Some("shiny"), Some(3838)));
    // moto does not keep healthCheckGracePeriodSeconds: the request carries it (unit test in
    // aws/ecs/request.rs, and aws_mocks.rs for the case without a target group).
    assert_eq!(service.propagate_tags(), Some(&PropagateTags::Service));
    let tags: Vec<_> = service.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(tags, [(Some("app"), Some(name.as_str()))]);

    let again = ecs.fleet.create_service(&spec).await;
    assert!(matches!(again, Err(CloudError::Conflict(_))), "{again:?}");
}

#[tokio::test]
async fn services_are_updated_and_missing_ones_reported() {
    let ecs = ecs().await;
    let name = unique("svc");
    ecs.service(&name).await;
    let next = ecs.register(&unique("family")).await;

    let update = ServiceUpdate {
        name: name.clone(),
        task_definition: Some(next.arn.clone()),
        desired_count: Some(5),
        force_new_deployment: true,
        load_balancer: None,
    };
    let updated = ecs.fleet.update_service(&update).await.expect("service updated");
    assert_eq!((updated.task_definition.as_str(), updated.desired_count), (next.arn.as_str(), 5));

    let scale_only = ServiceUpdate { name: name.clone(), desired_count: Some(0), ..ServiceUpdate::default() };
    let scaled = ecs.fleet.update_service(&scale_only).await.expect("service scaled");
    assert_eq!((scaled.task_definition.as_str(), scaled.desired_count), (next.arn.as_str(), 0));

    let missing = ServiceUpdate { name: unique("gone"), desired_count: Some(1), ..ServiceUpdate::default() };
    let refused = ecs.fleet.update_service(&missing).await;
    assert!(matches!(refused, Err(CloudError::NotFound(_))), "{refused:?}");
}

#[tokio::test]
async fn services_are_deleted_once_and_their_name_can_be_used_again() {
    let ecs = ecs().await;
    let name = unique("svc");
    let td = ecs.service(&name).await;
    ecs.fleet.delete_service(&name).await.expect("service deleted");
    // ECS keeps it visible for a while, but not as a running service.
    let after = ecs.fleet.describe_services(std::slice::from_ref(&name)).await.expect("described");
    assert!(after.iter().all(|s| s.status != "ACTIVE"), "{after:?}");
    // Real ECS refuses a second delete (ServiceNotActiveException, mapped to NotFound: see
    // aws_mocks.rs) and updates of an inactive service; moto accepts both.
    let unknown = ecs.fleet.delete_service(&unique("never")).await;
    assert!(matches!(unknown, Err(CloudError::NotFound(_))), "{unknown:?}");
    // The task definition survives the service.
    ecs.fleet.create_service(&service_spec(&name, &td, &ecs.network)).await.expect("created again");
}

#[tokio::test]
async fn many_services_are_described_and_missing_names_left_out() {
    let ecs = ecs().await;
    let task_definition = ecs.register(&unique("family")).await;
    let mut names = Vec::new();
    for _ in 0..12 {
        let name = unique("svc");
        let spec = ServiceSpec { desired_count: 0, ..service_spec(&name, &task_definition, &ecs.network) };
        ecs.fleet.create_service(&spec).await.expect("service created");
        names.push(name);
    }
    let mut asked = names.clone();
    asked.insert(5, unique("missing"));

    let described = ecs.fleet.describe_services(&asked).await.expect("services described");
    let found: Vec<_> = described.iter().map(|s| s.name.clone()).collect();
    assert_eq!(found, names);
    assert!(described.iter().all(|s| s.status == "ACTIVE" && s.desired_count == 0));
    assert!(ecs.fleet.describe_services(&[]).await.expect("nothing to describe").is_empty());
}

#[tokio::test]
async fn tasks_are_listed_described_and_stopped() {
    let ecs = ecs().await;
    let name = unique("svc");
    let task_definition = ecs.service(&name).await;
    let started = ecs.run_tasks(&name, &task_definition, 3).await;
    assert_eq!(started.len(), 3);

    let mut running = ecs.fleet.list_tasks(&name, TaskFilter::Running).await.expect("tasks listed");
    running.sort();
    let mut expected = started.clone();
    expected.sort();
    assert_eq!(running, expected);

    let tasks = ecs.fleet.describe_tasks(&started).await.expect("tasks described");
    assert_eq!(tasks.len(), 3);
    for task in &tasks {
        assert!(started.contains(&task.arn));
        assert_eq!(task.service.as_deref(), Some(name.as_str()));
        assert_eq!(task.task_definition, task_definition.arn);
        assert_eq!((task.last_status.as_str(), task.desired_status.as_str()), ("RUNNING", "RUNNING"));
        assert!(task.stop_code.is_none() && task.stopped_reason.is_none());
    }

    let victim = &started[0];
    ecs.fleet.stop_task(victim, "scaled down by the schedule").await.expect("task stopped");
    let stopped = ecs.fleet.list_tasks(&name, TaskFilter::Stopped).await.expect("stopped tasks listed");
    assert_eq!(stopped, std::slice::from_ref(victim));
    assert_eq!(ecs.fleet.list_tasks(&name, TaskFilter::Running).await.expect("listed").len(), 2);
    // The cluster's listing (each test has a cluster of its own) holds the same tasks.
    let mut cluster = ecs.fleet.list_cluster_tasks(TaskFilter::Running).await.expect("cluster listed");
    cluster.sort();
    let mut still_running: Vec<String> = started[1..].to_vec();
    still_running.sort();
    assert_eq!(cluster, still_running);
    assert_eq!(ecs.fleet.list_cluster_tasks(TaskFilter::Stopped).await.expect("listed"), std::slice::from_ref(victim));
    let [task] = &ecs.fleet.describe_tasks(std::slice::from_ref(victim)).await.expect("described")[..] else {
        panic!("one task")
    };
    assert_eq!((task.last_status.as_str(), task.desired_status.as_str()), ("STOPPED", "STOPPED"));
    assert_eq!(task.stopped_reason.as_deref(), Some("scaled down by the schedule"));

    let unknown = format!("arn:aws:ecs:us-east-1:123456789012:task/{}/{}", ecs.cluster, unique("task"));
    assert!(ecs.fleet.describe_tasks(&[unknown]).await.expect("described").is_empty());
}

#[tokio::test]
async fn service_events_are_read_and_a_missing_service_reported() {
    let ecs = ecs().await;
    let name = unique("svc");
    ecs.service(&name).await;
    let events = ecs.fleet.service_events(&name, 10).await.expect("events read");
    assert!(events.len() <= 10);

    let missing = ecs.fleet.service_events(&unique("gone"), 10).await;
    assert!(matches!(missing, Err(CloudError::NotFound(_))), "{missing:?}");
}

// ---------------------------------------------------------------------------------------
// Cognito
// ---------------------------------------------------------------------------------------

const TEMPORARY: &str = "Temp-Pass-1234!";
const CHOSEN: &str = "Chosen-Pass-5678!";

/// A fresh pool with a password policy and an app client like ShinyFleet's.
struct Pool {
    raw: aws_sdk_cognitoidentityprovider::Client,
    directory: CognitoDirectory,
    id: String,
    client_id: String,
}

async fn pool() -> Pool {
    let config = moto::sdk_config().await;
    let raw = aws_sdk_cognitoidentityprovider::Client::new(&config);
    let (pool_id, client_id) = moto::user_pool(&config).await;
    let directory = CognitoDirectory::new(&config, pool_id.clone(), client_id.clone());
    Pool { raw, directory, id: pool_id, client_id }
}

fn invitation(email: &str) -> Invitation {
    Invitation { email: email.to_owned(), temporary_password: Some(TEMPORARY.into()) }
}

fn email() -> String {
    format!("{}@example.com", unique("user"))
}

impl Pool {
    async fn status_of(&self, email: &str) -> UserStatus {
        let page = self.directory.list_users(Some(email), 60, None).await.expect("users listed");
        let user = page.users.iter().find(|u| u.email == email).expect("the user is listed");
        user.status
    }

    /// Invites a user and takes them through the first sign-in.
    async fn active_user(&self) -> String {
        let email = email();
        self.directory.invite(&invitation(&email)).await.expect("invited");
        let SignIn::NewPasswordRequired { session } =
            self.directory.sign_in(&email, TEMPORARY).await.expect("signed in")
        else {
            panic!("a first sign-in asks for a new password")
        };
        self.directory.complete_new_password(&email, CHOSEN, &session).await.expect("password set");
        email
    }
}

#[tokio::test]
async fn the_pools_password_rules_are_read() {
    let pool = pool().await;
    let policy = pool.directory.password_policy().await.expect("policy read");
    assert_eq!(
        policy,
        domain::directory::PasswordPolicy {
            min_length: 12,
            require_uppercase: true,
            require_lowercase: true,
            require_numbers: true,
            require_symbols: true,
        }
    );
}

#[tokio::test]
async fn an_invited_user_signs_in_sets_a_password_and_signs_out() {
    let pool = pool().await;
    pool.directory.probe().await.expect("the pool exists");
    let email = email();

    let user = pool.directory.invite(&invitation(&email)).await.expect("invited");
    assert_eq!((user.username.as_str(), user.email.as_str()), (email.as_str(), email.as_str()));
    assert_eq!(user.status, UserStatus::Invited);
    assert!(user.created_at.is_some());
    assert_eq!(pool.status_of(&email).await, UserStatus::Invited);

    let first = pool.directory.sign_in(&email, TEMPORARY).await.expect("temporary password accepted");
    let SignIn::NewPasswordRequired { session } = first else { panic!("a new password is required: {first:?}") };
    let weak = pool.directory.complete_new_password(&email, "short", &session).await;
    assert!(matches!(weak, Err(CloudError::Invalid(_))), "{weak:?}");
    let tokens = pool.directory.complete_new_password(&email, CHOSEN, &session).await.expect("password set");
    assert!(!tokens.id_token.is_empty() && !tokens.access_token.is_empty() && tokens.expires_in_secs > 0);
    assert_eq!(pool.status_of(&email).await, UserStatus::Active);

    let again = pool.directory.sign_in(&email, CHOSEN).await.expect("signed in with the new password");
    assert!(matches!(again, SignIn::Authenticated(_)), "tokens at once: {again:?}");
    pool.directory.sign_out_everywhere(&email).await.expect("signed out everywhere");
}

impl Pool {
    /// A verifier of this pool's ID tokens for `audience`, with moto's keys.
    async fn verifier(&self, audience: &str) -> JwtVerifier {
        JwtVerifier::new(moto::jwt_config(&self.id, audience).await, Arc::new(SystemClock))
    }
}

#[tokio::test]
async fn the_id_token_of_a_first_sign_in_verifies_against_the_pools_keys() {
    let pool = pool().await;
    let email = email();
    for group in ["shinyfleet-viewers", "shinyfleet-admins"] {
        pool.directory.ensure_group(group).await.expect("group ensured");
    }
    pool.directory.invite(&invitation(&email)).await.expect("invited");
    pool.directory.add_to_group(&email, "shinyfleet-viewers").await.expect("added");
    pool.directory.add_to_group(&email, "shinyfleet-admins").await.expect("added");

    let first = pool.directory.sign_in(&email, TEMPORARY).await.expect("temporary password accepted");
    let SignIn::NewPasswordRequired { session } = first else { panic!("a new password is required: {first:?}") };
    let tokens = pool.directory.complete_new_password(&email, CHOSEN, &session).await.expect("password set");

    let verifier = pool.verifier(&pool.client_id).await;
    let identity = verifier.verify_id_token(&tokens.id_token).await.expect("the ID token verifies");
    assert_eq!((identity.username.as_str(), identity.email.as_str()), (email.as_str(), email.as_str()));
    assert_eq!(identity.groups, ["shinyfleet-admins", "shinyfleet-viewers"]);
    assert!(!identity.subject.is_empty() && identity.subject != email);
    let access = verifier.verify_id_token(&tokens.access_token).await;
    assert!(matches!(access, Err(CloudError::NotAuthorized(_))), "an access token is not an ID token: {access:?}");

    let other_client = pool.verifier("another-client").await;
    let refused = other_client.verify_id_token(&tokens.id_token).await;
    assert_eq!(refused, Err(CloudError::NotAuthorized("the token is for another client".into())));

    let (header, rest) = tokens.id_token.split_once('.').expect("a JWT");
    let mut payload = rest.to_owned().into_bytes();
    let at = payload.iter().position(|&b| b == b'.').expect("a signature") / 2;
    payload[at] = if payload[at] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{header}.{}", String::from_utf8(payload).expect("ASCII"));
    let refused = verifier.verify_id_token(&tampered).await;
    assert!(matches!(refused, Err(CloudError::NotAuthorized(_))), "{refused:?}");

    pool.directory.sign_out_everywhere(&email).await.expect("signed out everywhere");
    let unknown = pool.directory.sign_out_everywhere(&format!("nobody-{email}")).await;
    assert!(matches!(unknown, Err(CloudError::NotFound(_))), "{unknown:?}");

    pool.directory.disable(&email).await.expect("disabled");
    let disabled = pool.directory.sign_in(&email, CHOSEN).await;
    assert!(matches!(disabled, Err(CloudError::NotAuthorized(_))), "{disabled:?}");
}

#[tokio::test]
async fn wrong_passwords_and_unknown_users_are_refused_alike() {
    let pool = pool().await;
    let email = pool.active_user().await;

    let wrong = pool.directory.sign_in(&email, "Not-The-Password-1!").await;
    let unknown = pool.directory.sign_in(&format!("nobody-{email}"), CHOSEN).await;
    let (Err(CloudError::NotAuthorized(wrong)), Err(CloudError::NotAuthorized(unknown))) = (wrong, unknown) else {
        panic!("both refused as not authorized")
    };
    assert_eq!(wrong, unknown, "the message does not tell which");
}

#[tokio::test]
async fn a_disabled_user_cannot_sign_in_until_enabled() {
    let pool = pool().await;
    let email = pool.active_user().await;

    pool.directory.disable(&email).await.expect("disabled");
    assert_eq!(pool.status_of(&email).await, UserStatus::Disabled);
    let refused = pool.directory.sign_in(&email, CHOSEN).await;
    assert!(matches!(refused, Err(CloudError::NotAuthorized(_))), "{refused:?}");

    pool.directory.enable(&email).await.expect("enabled");
    assert_eq!(pool.status_of(&email).await, UserStatus::Active);
    let signed_in = pool.directory.sign_in(&email, CHOSEN).await.expect("signed in again");
    assert!(matches!(signed_in, SignIn::Authenticated(_)));
}

#[tokio::test]
async fn groups_are_ensured_joined_and_left() {
    let pool = pool().await;
    let email = email();
    pool.directory.invite(&invitation(&email)).await.expect("invited");

    for group in ["viewers", "admins", "admins"] {
        pool.directory.ensure_group(group).await.expect("group ensured");
    }
    assert_eq!(pool.directory.list_groups().await.expect("groups listed"), ["admins", "viewers"]);

    pool.directory.add_to_group(&email, "viewers").await.expect("added");
    pool.directory.add_to_group(&email, "admins").await.expect("added");
    pool.directory.add_to_group(&email, "admins").await.expect("adding twice is harmless");
    assert_eq!(pool.directory.groups_of(&email).await.expect("groups read"), ["admins", "viewers"]);

    let other = self::email();
    pool.directory.invite(&invitation(&other)).await.expect("invited");
    pool.directory.add_to_group(&other, "admins").await.expect("added");
    let mut admins: Vec<String> =
        pool.directory.members_of("admins").await.expect("members listed").into_iter().map(|u| u.email).collect();
    admins.sort();
    let mut want = vec![email.clone(), other.clone()];
    want.sort();
    assert_eq!(admins, want);

    pool.directory.remove_from_group(&email, "admins").await.expect("removed");
    assert_eq!(pool.directory.groups_of(&email).await.expect("groups read"), ["viewers"]);
    let admins = pool.directory.members_of("admins").await.expect("members listed");
    assert_eq!(admins.iter().map(|u| u.email.as_str()).collect::<Vec<_>>(), [other.as_str()]);
    let unknown = pool.directory.members_of("no-such-group").await;
    assert!(matches!(unknown, Err(CloudError::NotFound(_))), "{unknown:?}");

    let nobody = pool.directory.add_to_group("nobody@example.com", "viewers").await;
    assert!(matches!(nobody, Err(CloudError::NotFound(_))), "{nobody:?}");
}

#[tokio::test]
async fn users_are_paged_and_filtered_by_email_prefix() {
    let pool = pool().await;
    let mut invited = Vec::new();
    for name in ["ann", "anna", "bob", "annette", "carl"] {
        let email = format!("{name}@example.com");
        pool.directory.invite(&invitation(&email)).await.expect("invited");
        invited.push(email);
    }

    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = pool.directory.list_users(None, 2, next.as_deref()).await.expect("a page");
        assert!(page.users.len() <= 2);
        seen.extend(page.users.into_iter().map(|u| u.email));
        pages += 1;
        next = page.next;
        if next.is_none() {
            break;
        }
    }
    assert!(pages >= 3, "five users in pages of two take three pages");
    seen.sort();
    invited.sort();
    assert_eq!(seen, invited);

    let page = pool.directory.list_users(Some("ann"), 60, None).await.expect("filtered");
    let mut found: Vec<_> = page.users.into_iter().map(|u| u.email).collect();
    found.sort();
    assert_eq!(found, ["ann@example.com", "anna@example.com", "annette@example.com"]);
    let none = pool.directory.list_users(Some("zed\"\\"), 60, None).await.expect("odd prefixes are quoted");
    assert!(none.users.is_empty());
}

#[tokio::test]
async fn invitations_conflict_resend_and_users_are_deleted() {
    let pool = pool().await;
    let email = email();
    pool.directory.invite(&invitation(&email)).await.expect("invited");

    let twice = pool.directory.invite(&invitation(&email)).await;
    assert!(matches!(twice, Err(CloudError::Conflict(_))), "{twice:?}");

    pool.directory.resend_invitation(&email).await.expect("invitation sent again");
    let unknown = pool.directory.resend_invitation("nobody@example.com").await;
    assert!(matches!(unknown, Err(CloudError::NotFound(_))), "{unknown:?}");

    pool.directory.delete(&email).await.expect("deleted");
    let page = pool.directory.list_users(Some(&email), 60, None).await.expect("listed");
    assert!(page.users.is_empty());
    let gone = pool.directory.delete(&email).await;
    assert!(matches!(gone, Err(CloudError::NotFound(_))), "{gone:?}");
    let raw = pool.raw.list_users().user_pool_id(&pool.id).send().await.expect("listed");
    assert!(raw.users().is_empty());
}

#[tokio::test]
async fn probe_reports_a_missing_pool() {
    let config = moto::sdk_config().await;
    let directory = CognitoDirectory::new(&config, "us-east-1_doesnotexist".into(), "client".into());
    let probed = directory.probe().await;
    assert!(matches!(probed, Err(CloudError::NotFound(_))), "{probed:?}");
}

// ---------------------------------------------------------------------------------------
// CloudWatch
// ---------------------------------------------------------------------------------------

async fn put(
    raw: &aws_sdk_cloudwatch::Client,
    cluster: &str,
    service: &str,
    metric: &str,
    points: &[(DateTime<Utc>, f64)],
) {
    use aws_sdk_cloudwatch::primitives::DateTime as SmithyTime;
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
    let data = points.iter().map(|(at, value)| {
        MetricDatum::builder()
            .metric_name(metric)
            .dimensions(Dimension::builder().name("ClusterName").value(cluster).build())
            .dimensions(Dimension::builder().name("ServiceName").value(service).build())
            .timestamp(SmithyTime::from_secs(at.timestamp()))
            .value(*value)
            .unit(StandardUnit::Percent)
            .build()
    });
    raw.put_metric_data().namespace("AWS/ECS").set_metric_data(Some(data.collect())).send().await.expect("metrics put");
}

fn points(series: &Series) -> Vec<(DateTime<Utc>, f64)> {
    series.samples.iter().map(|s| (s.at, s.percent)).collect()
}

#[tokio::test]
async fn utilisation_is_read_for_every_service_oldest_first() {
    let config = moto::sdk_config().await;
    let raw = aws_sdk_cloudwatch::Client::new(&config);
    let cluster = unique("cluster");
    let start = (Utc::now() - Duration::minutes(30)).duration_trunc(Duration::minutes(1)).expect("a whole minute");
    let minute = |n: i64, seconds: i64| start + Duration::minutes(n) + Duration::seconds(seconds);
    let (sales, stock, idle) = (unique("sales"), unique("stock"), unique("idle"));

    put(
        &raw,
        &cluster,
        &sales,
        "CPUUtilization",
        &[(minute(3, 10), 30.0), (minute(1, 0), 10.0), (minute(3, 40), 50.0)],
    )
    .await;
    put(&raw, &cluster, &sales, "MemoryUtilization", &[(minute(2, 5), 61.5)]).await;
    put(&raw, &cluster, &stock, "CPUUtilization", &[(minute(4, 0), 75.0)]).await;
    put(&raw, &cluster, &stock, "MemoryUtilization", &[(minute(4, 0), 20.0), (minute(5, 0), 22.0)]).await;
    put(&raw, &unique("other-cluster"), &sales, "CPUUtilization", &[(minute(2, 0), 99.0)]).await;

    let metrics = CloudWatchMetrics::new(&config, cluster);
    let window = MetricWindow { start, end: start + Duration::minutes(20), period_secs: 60 };
    let services = [sales.clone(), stock.clone(), idle.clone()];
    let series = metrics.utilisation(&services, window).await.expect("metrics read");

    let order: Vec<_> = series.iter().map(|s| (s.service.as_str(), s.kind)).collect();
    assert_eq!(
        order,
        [
            (sales.as_str(), MetricKind::Cpu),
            (sales.as_str(), MetricKind::Memory),
            (stock.as_str(), MetricKind::Cpu),
            (stock.as_str(), MetricKind::Memory),
            (idle.as_str(), MetricKind::Cpu),
            (idle.as_str(), MetricKind::Memory),
        ]
    );
    assert_eq!(points(&series[0]), [(minute(1, 0), 10.0), (minute(3, 0), 40.0)], "averaged per minute, oldest first");
    assert_eq!(points(&series[1]), [(minute(2, 0), 61.5)]);
    assert_eq!(points(&series[2]), [(minute(4, 0), 75.0)]);
    assert_eq!(points(&series[3]), [(minute(4, 0), 20.0), (minute(5, 0), 22.0)]);
    assert!(series[4].samples.is_empty() && series[5].samples.is_empty(), "no data, empty series");
    assert!(metrics.utilisation(&[], window).await.expect("nothing asked").is_empty());
}

#[tokio::test]
async fn utilisation_of_hundreds_of_services_is_read_across_several_requests() {
    // 260 services ask 520 queries: more than one GetMetricData request may carry (500), so
    // the adapter splits them; every service must still get its own series back.
    let config = moto::sdk_config().await;
    let raw = aws_sdk_cloudwatch::Client::new(&config);
    let cluster = unique("fleet");
    let at = (Utc::now() - Duration::minutes(10)).duration_trunc(Duration::minutes(1)).expect("a whole minute");
    let services: Vec<String> = (0..260).map(|n| format!("{}-{n:03}", unique("app"))).collect();
    for (n, service) in services.iter().enumerate() {
        let cpu = (n % 100) as f64;
        put(&raw, &cluster, service, "CPUUtilization", &[(at, cpu)]).await;
        put(&raw, &cluster, service, "MemoryUtilization", &[(at, 100.0 - cpu)]).await;
    }

    let metrics = CloudWatchMetrics::new(&config, cluster);
    let window = MetricWindow { start: at - Duration::minutes(5), end: at + Duration::minutes(5), period_secs: 60 };
    let series = metrics.utilisation(&services, window).await.expect("metrics read");

    assert_eq!(series.len(), 520, "two series per service");
    for (n, service) in services.iter().enumerate() {
        let (cpu, memory) = (&series[2 * n], &series[2 * n + 1]);
        assert_eq!((cpu.service.as_str(), cpu.kind), (service.as_str(), MetricKind::Cpu));
        assert_eq!((memory.service.as_str(), memory.kind), (service.as_str(), MetricKind::Memory));
        assert_eq!(points(cpu), [(at, (n % 100) as f64)], "{service}'s CPU");
        assert_eq!(points(memory), [(at, 100.0 - (n % 100) as f64)], "{service}'s memory");
    }
}
