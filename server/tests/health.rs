//! `/healthz` as a stranger, a load balancer and an admin meet it: anyone gets the status
//! word, only an admin (session or token) the details and the cloud's error text, and a
//! flood of checks costs the cloud one probe every few seconds.

mod support;

use async_trait::async_trait;
use cloud::sandbox::Sandbox;
use domain::fleet::{
    Fleet, ServiceEvent, ServiceSpec, ServiceStatus, ServiceUpdate, TaskDefinitionRef, TaskDefinitionSpec, TaskFilter,
    TaskInfo,
};
use domain::{CloudError, Role};
use serde_json::{json, Value};
use server::health::CLOUD_PROBE_TTL_SECS;
use service::Cloud;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{TestConsole, ADMIN, VIEWER};

/// What IAM answers a role without `ecs:DescribeClusters`: the account and the role in clear.
const ACCESS_DENIED: &str = "User: arn:aws:sts::123456789012:assumed-role/shinyfleet-console/i-0abc is not \
     authorized to perform: ecs:DescribeClusters on resource: arn:aws:ecs:eu-west-1:123456789012:cluster/shinyfleet";

/// The sandbox's ECS, counting probes, each taking a while, failing with `fault` when set.
struct Probed {
    ecs: Arc<Sandbox>,
    probes: Arc<AtomicUsize>,
    fault: Arc<Mutex<Option<CloudError>>>,
}

#[async_trait]
impl Fleet for Probed {
    async fn probe(&self) -> Result<(), CloudError> {
        self.probes.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(100)).await;
        let fault = self.fault.lock().unwrap().clone();
        match fault {
            Some(e) => Err(e),
            None => self.ecs.probe().await,
        }
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
        self.ecs.describe_services(names).await
    }
    async fn list_tasks(&self, service: &str, filter: TaskFilter) -> Result<Vec<String>, CloudError> {
        self.ecs.list_tasks(service, filter).await
    }
    async fn list_cluster_tasks(&self, filter: TaskFilter) -> Result<Vec<String>, CloudError> {
        self.ecs.list_cluster_tasks(filter).await
    }
    async fn describe_tasks(&self, arns: &[String]) -> Result<Vec<TaskInfo>, CloudError> {
        self.ecs.describe_tasks(arns).await
    }
    async fn stop_task(&self, arn: &str, reason: &str) -> Result<(), CloudError> {
        self.ecs.stop_task(arn, reason).await
    }
    async fn service_events(&self, service: &str, limit: usize) -> Result<Vec<ServiceEvent>, CloudError> {
        self.ecs.service_events(service, limit).await
    }
}

struct Harness {
    c: TestConsole,
    probes: Arc<AtomicUsize>,
    fault: Arc<Mutex<Option<CloudError>>>,
}

impl Harness {
    async fn new() -> Self {
        let (probes, fault) = (Arc::new(AtomicUsize::new(0)), Arc::new(Mutex::new(None)));
        let (p, f) = (probes.clone(), fault.clone());
        let c = TestConsole::with_cloud(&[], move |sandbox, _| Cloud {
            fleet: Arc::new(Probed { ecs: sandbox.clone(), probes: p, fault: f }),
            ..server::sandbox_cloud(sandbox)
        })
        .await;
        Self { c, probes, fault }
    }

    fn probes(&self) -> usize {
        self.probes.load(Ordering::SeqCst)
    }

    /// `/healthz` as `client`, optionally with a bearer token: (status, body as text).
    async fn health(&self, client: &reqwest::Client, token: Option<&str>) -> (u16, String) {
        let mut req = client.get(self.c.url("/healthz"));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let res = req.send().await.expect("request");
        (res.status().as_u16(), res.text().await.expect("body"))
    }

    async fn token(&self, role: Role) -> String {
        let now = domain::Clock::now(self.c.clock.as_ref());
        let name = format!("health-{}", role.as_str());
        service::tokens::create(&self.c.state.pool, &name, role, "test", None, now).await.expect("token").1
    }
}

#[tokio::test]
async fn strangers_and_viewers_get_the_status_word_and_only_admins_the_clouds_error() {
    let h = Harness::new().await;
    *h.fault.lock().unwrap() = Some(CloudError::NotAuthorized(ACCESS_DENIED.into()));
    let (admin, viewer) = (h.c.client_for(ADMIN).await, h.c.client_for(VIEWER).await);
    let (admin_token, viewer_token) = (h.token(Role::Admin).await, h.token(Role::Viewer).await);

    // Anonymous (a load balancer's health check), a viewer by session and by token: the word.
    for (who, client, token) in
        [("anonymous", &h.c.anon, None), ("viewer", &viewer, None), ("viewer token", &h.c.anon, Some(&viewer_token))]
    {
        let (status, body) = h.health(client, token.map(String::as_str)).await;
        assert_eq!((status, body.as_str()), (200, r#"{"status":"degraded"}"#), "{who}");
    }

    // An admin, by session or token: each check, with the cloud's own words.
    for (who, client, token) in [("admin", &admin, None), ("admin token", &h.c.anon, Some(&admin_token))] {
        let (status, body) = h.health(client, token.map(String::as_str)).await;
        assert_eq!(status, 200, "{who}: {body}");
        let body: Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(
            (&body["status"], &body["database"]["ok"], &body["cloud"]["ok"]),
            (&json!("degraded"), &json!(true), &json!(false)),
            "{who}: {body}"
        );
        let error = body["cloud"]["error"].as_str().unwrap_or_default();
        assert!(error.contains("ecs:DescribeClusters") && error.contains("123456789012"), "{who}: {body}");
    }

    // A healthy cloud, once the cached probe has expired: "ok" for everyone.
    *h.fault.lock().unwrap() = None;
    h.c.advance(CLOUD_PROBE_TTL_SECS);
    assert_eq!(h.health(&h.c.anon, None).await, (200, r#"{"status":"ok"}"#.to_owned()));
    let (_, body) = h.health(&admin, None).await;
    let body: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(
        (&body["status"], &body["cloud"]["ok"], &body["cloud"]["error"]),
        (&json!("ok"), &json!(true), &Value::Null)
    );
}

#[tokio::test]
async fn a_flood_of_health_checks_costs_one_cloud_probe_every_five_seconds() {
    let h = Harness::new().await;
    assert_eq!(CLOUD_PROBE_TTL_SECS, 5, "the README and the module say five seconds");

    // Fifty at once, while the first probe is still under way: they all wait for that one.
    let flood = (0..50).map(|_| h.health(&h.c.anon, None));
    for (status, body) in futures::future::join_all(flood).await {
        assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
    }
    assert_eq!(h.probes(), 1, "concurrent checks share one probe");

    // Later checks within five seconds reuse it.
    h.c.advance(CLOUD_PROBE_TTL_SECS - 1);
    for _ in 0..10 {
        assert_eq!(h.health(&h.c.anon, None).await.0, 200);
    }
    assert_eq!(h.probes(), 1, "a probe younger than {CLOUD_PROBE_TTL_SECS} s answers");

    // Five seconds after it was made, the next check probes again, once.
    h.c.advance(1);
    for _ in 0..10 {
        assert_eq!(h.health(&h.c.anon, None).await.0, 200);
    }
    assert_eq!(h.probes(), 2);
}
