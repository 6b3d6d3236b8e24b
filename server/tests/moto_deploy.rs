//! The console's deploy path against moto: apps registered and deployed through `/api/v1`
//! with the real [`EcsFleet`] and [`EcrRegistry`], and what ECS then holds read back with the
//! raw SDK clients: the task definition pinned to the image's ECR digest, the service on
//! Fargate in the configured network, a second deploy updating that same service with
//! revision 2, and a tag ECR does not have refused before anything is registered.
//!
//! moto keeps neither a service's deployment configuration nor its health-check grace period,
//! so the console reaches moto through the tests' proxy (`support/fault_proxy.rs`, injecting
//! nothing here) and the tests read those fields from the `CreateService` request itself.
//! moto never runs a service's tasks either: its
//! deployments stay `IN_PROGRESS`, so a test ends a rollout in the database, as the refresher
//! would once ECS reported it `COMPLETED`, before deploying again.
//!
//! Run with `cargo test -p server --test moto_deploy` (moto starts by itself; set
//! `MOTO_ENDPOINT` to use a running one).

#[path = "../../cloud/tests/support/ecr.rs"]
mod ecr;
#[path = "support/ecs_console.rs"]
mod ecs_console;
#[path = "support/fault_proxy.rs"]
mod fault_proxy;
#[allow(dead_code)]
#[path = "../../cloud/tests/support/moto.rs"]
mod moto;
mod support;

use aws_sdk_ecs::operation::describe_task_definition::DescribeTaskDefinitionOutput;
use aws_sdk_ecs::types::{
    AssignPublicIp, Compatibility, CpuArchitecture, LaunchType, NetworkMode, OsFamily, Service, ServiceField, Tag,
    TaskDefinitionField, TransportProtocol,
};
use ecr::Repository;
use ecs_console::EcsConsole;
use fault_proxy::FaultProxy;
use moto::unique;
use reqwest::Method;
use serde_json::{json, Value};
use support::{TestConsole, ADMIN};

/// The region of [`moto::sdk_config`], where the repositories are; with the sandbox present
/// the console also logs to it.
const REGION: &str = "us-east-1";
const TASK_ROLE: &str = "arn:aws:iam::123456789012:role/sales-task";
const EXECUTION_ROLE: &str = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole";

/// A console whose fleet and registry are the AWS adapters on a fresh moto cluster, the admin
/// signed in, an empty ECR repository, and the raw ECS client to look behind the console.
struct Setup {
    c: TestConsole,
    admin: reqwest::Client,
    ecs: aws_sdk_ecs::Client,
    cluster: String,
    /// The console's `--subnets` and `--security-groups`.
    subnets: Vec<String>,
    security_group: String,
    repo: Repository,
    /// Between the console and moto: what the console sent to AWS.
    sent: FaultProxy,
}

impl Setup {
    async fn new() -> Self {
        let config = moto::sdk_config().await;
        let sent = FaultProxy::start(moto::endpoint().await).await;
        let console_config = config.to_builder().endpoint_url(&sent.url).build();
        let EcsConsole { c, admin, ecs, cluster, subnets, security_group } =
            ecs_console::start(&console_config, "cluster").await;
        let repo = Repository::new(&config).await;
        Self { c, admin, ecs, cluster, subnets, security_group, repo, sent }
    }

    /// A request to the API as the admin: (status, JSON answer).
    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self.admin.request(method, self.c.url(path));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let res = request.send().await.expect("the console answers");
        let status = res.status().as_u16();
        (status, res.json().await.expect("a JSON answer"))
    }

    async fn create_app(&self, body: Value) -> Value {
        let (status, app) = self.send(Method::POST, "/api/v1/apps", Some(body)).await;
        assert_eq!(status, 201, "{app}");
        app
    }

    async fn app(&self, slug: &str) -> Value {
        let (status, app) = self.send(Method::GET, &format!("/api/v1/apps/{slug}"), None).await;
        assert_eq!(status, 200, "{app}");
        app
    }

    async fn deploy(&self, slug: &str, body: Option<Value>) -> (u16, Value) {
        self.send(Method::POST, &format!("/api/v1/apps/{slug}/deploys"), body).await
    }

    /// The app's deploys, newest first.
    async fn deploys(&self, slug: &str) -> Vec<Value> {
        let (status, all) = self.send(Method::GET, &format!("/api/v1/apps/{slug}/deploys"), None).await;
        assert_eq!(status, 200, "{all}");
        all.as_array().expect("a list of deploys").clone()
    }

    /// Ends the deploy's rollout. The refresher, following it through the real fleet, finds
    /// moto's deployment still in progress (moto runs no tasks), so the test records the end
    /// the refresher would record once ECS reported the deployment `COMPLETED`.
    async fn finish_rollout(&self, deploy: &Value) {
        let refreshed = server::refresher::refresh_once(&self.c.state).await.expect("refreshed");
        assert!(refreshed.rolling_out, "moto's deployment is still in progress");
        let now = domain::Clock::now(self.c.clock.as_ref());
        let done = sqlx::query(
            "UPDATE deploys SET state = 'COMPLETED', finished_at = ? WHERE id = ? AND state = 'IN_PROGRESS'",
        )
        .bind(now)
        .bind(deploy["id"].as_i64().expect("a deploy id"))
        .execute(&self.c.state.pool)
        .await
        .expect("deploy finished");
        assert_eq!(done.rows_affected(), 1, "{deploy}");
    }

    /// The ARNs of every registered revision of `family`, oldest first.
    async fn revisions(&self, family: &str) -> Vec<String> {
        let out = self.ecs.list_task_definitions().family_prefix(family).send().await.expect("task definitions listed");
        let of_family = format!("task-definition/{family}:");
        let mut arns: Vec<String> =
            out.task_definition_arns().iter().filter(|arn| arn.contains(&of_family)).cloned().collect();
        arns.sort_by_key(|arn| arn.rsplit_once(':').and_then(|(_, n)| n.parse::<u32>().ok()));
        arns
    }

    async fn task_definition(&self, arn: &str) -> DescribeTaskDefinitionOutput {
        self.ecs
            .describe_task_definition()
            .task_definition(arn)
            .include(TaskDefinitionField::Tags)
            .send()
            .await
            .expect("task definition described")
    }

    async fn service(&self, name: &str) -> Service {
        let out = self
            .ecs
            .describe_services()
            .cluster(&self.cluster)
            .services(name)
            .include(ServiceField::Tags)
            .send()
            .await
            .expect("service described");
        let [service] = out.services() else { panic!("one service {name}: {out:?}") };
        service.clone()
    }

    /// Every service of the test's cluster.
    async fn service_arns(&self) -> Vec<String> {
        let out = self.ecs.list_services().cluster(&self.cluster).send().await.expect("services listed");
        out.service_arns().to_vec()
    }
}

fn tag_pairs(tags: &[Tag]) -> Vec<(&str, &str)> {
    tags.iter().map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default())).collect()
}

#[tokio::test]
async fn a_first_deploy_registers_the_app_pinned_to_its_ecr_digest_and_creates_its_service() {
    let s = Setup::new().await;
    let digest = s.repo.push("v1").await;
    let slug = unique("sales");
    s.create_app(json!({
        "slug": slug,
        "name": "Sales dashboard",
        "image": s.repo.image("v1"),
        "cpu": 1024,
        "memory": 2048,
        "architecture": "arm64",
        "port": 8080,
        "env": { "SHINY_LOG_LEVEL": "info", "APP_MODE": "production" },
        "task_role_arn": TASK_ROLE,
        "execution_role_arn": EXECUTION_ROLE,
        "health_check_path": "/healthz",
        "health_check_tool": "curl",
        "desired_count": 2,
        "tags": { "team": "finance" },
    }))
    .await;

    let (status, deploy) = s.deploy(&slug, None).await;
    assert_eq!(status, 202, "{deploy}");
    assert_eq!(
        (deploy["app"].as_str(), deploy["kind"].as_str(), deploy["revision"].as_i64(), deploy["state"].as_str()),
        (Some(slug.as_str()), Some("deploy"), Some(1), Some("IN_PROGRESS"))
    );
    assert_eq!(deploy["image"], s.repo.image("v1"), "the image as asked for");
    assert_eq!(deploy["digest"], digest.as_str(), "the digest the tag resolved to");
    assert_eq!(deploy["created_by"], ADMIN);

    // The task definition: one revision of the family named after the app, pinned to the digest.
    let [arn] = &s.revisions(&slug).await[..] else { panic!("one revision of {slug}") };
    let out = s.task_definition(arn).await;
    let td = out.task_definition().expect("a task definition");
    assert_eq!((td.family(), td.revision()), (Some(slug.as_str()), 1));
    assert_eq!(td.requires_compatibilities(), [Compatibility::Fargate]);
    assert_eq!(td.network_mode(), Some(&NetworkMode::Awsvpc));
    assert_eq!((td.cpu(), td.memory()), (Some("1024"), Some("2048")));
    let platform = td.runtime_platform().expect("a runtime platform");
    assert_eq!(platform.cpu_architecture(), Some(&CpuArchitecture::Arm64));
    assert_eq!(platform.operating_system_family(), Some(&OsFamily::Linux));
    assert_eq!((td.task_role_arn(), td.execution_role_arn()), (Some(TASK_ROLE), Some(EXECUTION_ROLE)));
    let [container] = td.container_definitions() else { panic!("one container: {td:?}") };
    assert_eq!((container.name(), container.essential()), (Some("shiny"), Some(true)));
    assert_eq!(container.image(), Some(s.repo.pinned(&digest).as_str()));
    let [port] = container.port_mappings() else { panic!("one port mapping: {container:?}") };
    assert_eq!((port.container_port(), port.protocol()), (Some(8080), Some(&TransportProtocol::Tcp)));
    let environment: Vec<_> = container.environment().iter().map(|kv| (kv.name(), kv.value())).collect();
    assert_eq!(environment, [(Some("APP_MODE"), Some("production")), (Some("SHINY_LOG_LEVEL"), Some("info"))]);
    let logs = container.log_configuration().expect("a log configuration");
    assert_eq!(logs.log_driver().as_str(), "awslogs");
    let options = logs.options().expect("log options");
    assert_eq!(options.get("awslogs-group"), Some(&format!("/shinyfleet/{slug}")));
    assert_eq!(options.get("awslogs-region").map(String::as_str), Some(REGION));
    let health = container.health_check().expect("a health check: the app asked for curl");
    assert_eq!(health.command(), ["CMD-SHELL", "curl -fsS -o /dev/null 'http://localhost:8080/healthz' || exit 1"]);
    assert_eq!(tag_pairs(out.tags()), [("team", "finance"), ("shinyfleet:app", slug.as_str())]);

    // The service: created on Fargate in the console's network, running that revision.
    let service = s.service(&slug).await;
    assert_eq!(s.service_arns().await, [service.service_arn().expect("a service ARN")]);
    assert_eq!((service.status(), service.task_definition()), (Some("ACTIVE"), Some(arn.as_str())));
    assert_eq!((service.launch_type(), service.desired_count()), (Some(&LaunchType::Fargate), 2));
    let vpc = service.network_configuration().and_then(|n| n.awsvpc_configuration()).expect("an awsvpc configuration");
    assert_eq!(vpc.subnets(), s.subnets);
    assert_eq!(vpc.security_groups(), [s.security_group.as_str()]);
    assert_eq!(vpc.assign_public_ip(), Some(&AssignPublicIp::Disabled));
    assert!(service.load_balancers().is_empty(), "no target group, no load balancer");
    assert_eq!(tag_pairs(service.tags()), [("team", "finance"), ("shinyfleet:app", slug.as_str())]);
    // What moto does not keep, read from the request the console sent.
    let [create] = &s.sent.bodies("CreateService")[..] else { panic!("one CreateService") };
    assert_eq!((&create["serviceName"], &create["taskDefinition"]), (&json!(slug), &json!(arn)));
    assert_eq!(
        create["deploymentConfiguration"]["deploymentCircuitBreaker"],
        json!({ "enable": true, "rollback": true })
    );
    assert_eq!(create.get("healthCheckGracePeriodSeconds"), None, "no target group, no grace period");
}

#[tokio::test]
async fn a_second_deploy_registers_revision_2_and_updates_the_same_service() {
    let s = Setup::new().await;
    let first = s.repo.push("v1").await;
    let slug = unique("trial");
    // The defaults: ¼ vCPU, 512 MiB, x86_64, port 3838, no container health check, no roles.
    s.create_app(json!({
        "slug": slug,
        "name": "Trial monitor",
        "image": s.repo.image("v1"),
        "env": { "REGION_NAME": "north" },
    }))
    .await;
    let (status, one) = s.deploy(&slug, None).await;
    assert_eq!(status, 202, "{one}");
    let [rev1] = &s.revisions(&slug).await[..] else { panic!("one revision of {slug}") };
    let out = s.task_definition(rev1).await;
    let td = out.task_definition().expect("a task definition");
    assert_eq!((td.cpu(), td.memory()), (Some("256"), Some("512")));
    let platform = td.runtime_platform().expect("a runtime platform");
    assert_eq!(platform.cpu_architecture(), Some(&CpuArchitecture::X8664));
    assert_eq!((td.task_role_arn(), td.execution_role_arn()), (None, None));
    let [container] = td.container_definitions() else { panic!("one container: {td:?}") };
    assert_eq!(container.image(), Some(s.repo.pinned(&first).as_str()));
    assert_eq!(container.port_mappings()[0].container_port(), Some(3838));
    assert!(container.health_check().is_none(), "no container health check unless the app names a tool");
    let created = s.service(&slug).await;
    assert_eq!((created.task_definition(), created.desired_count()), (Some(rev1.as_str()), 1));

    // While it rolls out, another deploy is refused before anything is registered.
    let (status, busy) = s.deploy(&slug, None).await;
    assert_eq!((status, &busy["error"]["code"]), (409, &json!("conflict")), "{busy}");
    assert_eq!(s.revisions(&slug).await, std::slice::from_ref(rev1));
    s.finish_rollout(&one).await;

    // More tasks and a new image: revision 2 rolls out to the same service.
    let (status, patched) =
        s.send(Method::PATCH, &format!("/api/v1/apps/{slug}"), Some(json!({ "desired_count": 3 }))).await;
    assert_eq!(status, 200, "{patched}");
    let second = s.repo.push("v2").await;
    let (status, two) = s.deploy(&slug, Some(json!({ "image": s.repo.image("v2") }))).await;
    assert_eq!(status, 202, "{two}");
    assert_eq!(
        (two["revision"].as_i64(), &two["image"], &two["digest"]),
        (Some(2), &json!(s.repo.image("v2")), &json!(second))
    );
    let [again, rev2] = &s.revisions(&slug).await[..] else { panic!("two revisions of {slug}") };
    assert_eq!(again, rev1);
    let out = s.task_definition(rev2).await;
    let td = out.task_definition().expect("a task definition");
    assert_eq!((td.family(), td.revision()), (Some(slug.as_str()), 2));
    let [container] = td.container_definitions() else { panic!("one container: {td:?}") };
    assert_eq!(container.image(), Some(s.repo.pinned(&second).as_str()));
    assert!(container.health_check().is_none());

    let updated = s.service(&slug).await;
    assert_eq!(updated.service_arn(), created.service_arn());
    assert_eq!((updated.task_definition(), updated.desired_count()), (Some(rev2.as_str()), 3));
    assert_eq!(s.service_arns().await, [created.service_arn().expect("a service ARN")], "no second service");
    assert_eq!(s.sent.bodies("CreateService").len(), 1, "the second deploy created no service");
    let last_update = s.sent.bodies("UpdateService").pop().expect("an UpdateService");
    assert_eq!((&last_update["taskDefinition"], &last_update["desiredCount"]), (&json!(rev2), &json!(3)));
    assert_eq!(s.app(&slug).await["image"], s.repo.image("v2"), "the registry shows the image deployed");
    let history: Vec<_> = s.deploys(&slug).await.iter().map(|d| d["revision"].as_i64()).collect();
    assert_eq!(history, [Some(2), Some(1)]);
}

#[tokio::test]
async fn a_tag_ecr_does_not_have_is_refused_before_anything_is_registered() {
    let s = Setup::new().await;
    let slug = unique("forecast");
    s.create_app(json!({ "slug": slug, "name": "Forecast", "image": s.repo.image("v1") })).await;

    // Nothing pushed yet: no revision, no service, no deploy.
    let (status, refused) = s.deploy(&slug, None).await;
    assert_eq!((status, &refused["error"]["field"]), (422, &json!("image")), "{refused}");
    assert_eq!(refused["error"]["message"], format!("The registry has no image {}:v1.", s.repo.name));
    assert!(s.revisions(&slug).await.is_empty());
    assert!(s.sent.bodies("RegisterTaskDefinition").is_empty());
    assert!(s.service_arns().await.is_empty());
    assert!(s.deploys(&slug).await.is_empty());

    // Once pushed it deploys; a later tag ECR lacks leaves that revision and the app alone.
    let digest = s.repo.push("v1").await;
    let (status, first) = s.deploy(&slug, None).await;
    assert_eq!((status, &first["digest"]), (202, &json!(digest)), "{first}");
    s.finish_rollout(&first).await;
    let (status, refused) = s.deploy(&slug, Some(json!({ "image": s.repo.image("v2") }))).await;
    assert_eq!((status, &refused["error"]["field"]), (422, &json!("image")), "{refused}");
    assert_eq!(refused["error"]["message"], format!("The registry has no image {}:v2.", s.repo.name));
    let [rev1] = &s.revisions(&slug).await[..] else { panic!("still one revision of {slug}") };
    assert_eq!(s.sent.bodies("RegisterTaskDefinition").len(), 1);
    assert_eq!(s.service(&slug).await.task_definition(), Some(rev1.as_str()));
    let history: Vec<_> = s.deploys(&slug).await.iter().map(|d| d["id"].clone()).collect();
    assert_eq!(history, [first["id"].clone()], "no deploy row for the refused one");
    assert_eq!(s.app(&slug).await["image"], s.repo.image("v1"));
}
