//! Apps and deploys through `/api/v1`, as a CI job and an admin meet them: registering an
//! app, deploying an ECR image pinned to its digest, a broken image failed by the circuit
//! breaker and rolled back, idempotent retries, one deploy at a time, refused input that
//! changes nothing, and the OpenAPI document that describes it all.
//!
//! Time is the sandbox's [`ManualClock`](cloud::sandbox::ManualClock): a test moves it on by
//! the refresher's rollout interval and runs one refresh cycle, as the console does while a
//! deploy rolls out.

mod support;

use async_trait::async_trait;
use cloud::sandbox::Sandbox;
use domain::fleet::{
    Fleet, ServiceEvent, ServiceSpec, ServiceStatus, ServiceUpdate, TaskDefinitionRef, TaskDefinitionSpec, TaskFilter,
    TaskInfo,
};
use domain::CloudError;
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};
use service::Cloud;
use std::sync::{Arc, Mutex};
use support::{TestConsole, ADMIN, VIEWER};

const ECR: &str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";

fn image(tag: &str) -> String {
    format!("{ECR}/sales:{tag}")
}

/// A new app `sales` running `tag` from ECR, with the defaults for everything else.
fn sales(tag: &str) -> Value {
    json!({ "slug": "sales", "name": "Sales dashboard", "image": image(tag) })
}

/// The digest the sandbox's ECR gives a tag: `sha256:` and the SHA-256 of the reference.
fn digest_of(reference: &str) -> String {
    let hash = ring::digest::digest(&ring::digest::SHA256, reference.as_bytes());
    hash.as_ref().iter().fold("sha256:".to_owned(), |out, b| format!("{out}{b:02x}"))
}

async fn json_of(res: Response) -> Value {
    let text = res.text().await.expect("body");
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

async fn create_app(c: &TestConsole, admin: &Client, body: &Value) -> Value {
    let res = admin.post(c.url("/api/v1/apps")).json(body).send().await.expect("request");
    assert_eq!(res.status(), StatusCode::CREATED);
    json_of(res).await
}

/// `POST /api/v1/apps/{slug}/deploys` with an optional body and idempotency key.
async fn post_deploy(c: &TestConsole, client: &Client, slug: &str, body: Option<Value>, key: Option<&str>) -> Response {
    let mut req = client.post(c.url(&format!("/api/v1/apps/{slug}/deploys")));
    if let Some(body) = body {
        req = req.json(&body);
    }
    if let Some(key) = key {
        req = req.header("Idempotency-Key", key);
    }
    req.send().await.expect("request")
}

/// Starts a deploy that must be accepted, and returns it.
async fn deploy(c: &TestConsole, admin: &Client, body: Option<Value>) -> Value {
    let res = post_deploy(c, admin, "sales", body, None).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    json_of(res).await
}

/// An app as `GET /api/v1/apps/{slug}` shows it, without what the poller saw of it: the
/// definition alone, as create and update answer it.
fn definition(mut app: Value) -> Value {
    let fields = app.as_object_mut().expect("an object");
    for seen in ["live", "tasks", "fetched_at"] {
        assert!(fields.remove(seen).is_some(), "{seen} missing");
    }
    app
}

async fn get(c: &TestConsole, client: &Client, path: &str) -> (StatusCode, Value) {
    let res = client.get(c.url(path)).send().await.expect("request");
    (res.status(), json_of(res).await)
}

/// Moves time on and refreshes, as the console does while a deploy rolls out, until the
/// deploy has finished; returns it as `GET /api/v1/deploys/{id}` shows it.
async fn finish(c: &TestConsole, client: &Client, deploy: &Value) -> Value {
    let path = format!("/api/v1/deploys/{}", deploy["id"]);
    let step = i64::try_from(server::refresher::ROLLOUT_INTERVAL.as_secs()).expect("seconds");
    for _ in 0..150 {
        c.advance(step);
        server::refresher::refresh_once(&c.state).await.expect("refresh");
        let (status, now) = get(c, client, &path).await;
        assert_eq!(status, StatusCode::OK, "{now}");
        if now["state"] != "IN_PROGRESS" {
            return now;
        }
    }
    panic!("deploy {} still in progress after 5 minutes", deploy["id"]);
}

/// The app's service as the cloud describes it now (`None`: no such service).
async fn service(c: &TestConsole, slug: &str) -> Option<ServiceStatus> {
    c.state.cloud.fleet.describe_services(&[slug.to_owned()]).await.expect("describe").pop()
}

/// The admin's `(action, target)` rows of the audit log about apps, oldest first.
async fn app_audit(c: &TestConsole) -> Vec<(String, String)> {
    c.audit_actions()
        .await
        .into_iter()
        .filter(|(_, action, _)| action.starts_with("app."))
        .map(|(actor, action, target)| {
            assert_eq!(actor, ADMIN);
            (action, target)
        })
        .collect()
}

/// The audit row of the last `action`: (before, after).
async fn last_audit(c: &TestConsole, action: &str) -> (Value, Value) {
    let (before, after): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT before_json, after_json FROM audit_log WHERE action = ? ORDER BY id DESC LIMIT 1")
            .bind(action)
            .fetch_one(&c.state.pool)
            .await
            .expect("an audit row");
    let parse = |v: Option<String>| v.map_or(Value::Null, |s| serde_json::from_str(&s).expect("JSON"));
    (parse(before), parse(after))
}

/// The sandbox's ECS, noting every task definition registered: the port has no call to read
/// one back, and the test must see the image ECS was told to run.
struct Recording {
    ecs: Arc<Sandbox>,
    registered: Arc<Mutex<Vec<TaskDefinitionSpec>>>,
    /// How the next service changes fail, if they do.
    fault: Arc<Mutex<Fault>>,
}

/// A failure of the service calls that leaves their outcome unknown to the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    /// ECS applies the change, but its answer is lost (a timeout).
    AppliedUnanswered,
    /// The request never reaches ECS, and no answer comes.
    LostUnanswered,
}

impl Recording {
    async fn service_call(
        &self,
        call: impl std::future::Future<Output = Result<ServiceStatus, CloudError>>,
    ) -> Result<ServiceStatus, CloudError> {
        let fault = *self.fault.lock().expect("lock");
        let lost = || Err(CloudError::Unavailable("timed out".into()));
        match fault {
            Fault::None => call.await,
            Fault::AppliedUnanswered => {
                call.await?;
                lost()
            }
            Fault::LostUnanswered => lost(),
        }
    }
}

#[async_trait]
impl Fleet for Recording {
    async fn probe(&self) -> Result<(), CloudError> {
        self.ecs.probe().await
    }
    async fn register_task_definition(&self, spec: &TaskDefinitionSpec) -> Result<TaskDefinitionRef, CloudError> {
        self.registered.lock().expect("lock").push(spec.clone());
        self.ecs.register_task_definition(spec).await
    }
    async fn create_service(&self, spec: &ServiceSpec) -> Result<ServiceStatus, CloudError> {
        self.service_call(self.ecs.create_service(spec)).await
    }
    async fn update_service(&self, update: &ServiceUpdate) -> Result<ServiceStatus, CloudError> {
        self.service_call(self.ecs.update_service(update)).await
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

#[tokio::test]
async fn an_ecr_image_is_deployed_by_digest_a_broken_one_is_rolled_back_and_an_admin_can_roll_back() {
    let registered = Arc::new(Mutex::new(Vec::new()));
    let log = registered.clone();
    let c = TestConsole::with_cloud(&[], move |sandbox, _| Cloud {
        fleet: Arc::new(Recording { ecs: sandbox.clone(), registered: log, fault: Arc::new(Mutex::new(Fault::None)) }),
        ..server::sandbox_cloud(sandbox)
    })
    .await;
    let admin = c.client_for(ADMIN).await;

    let app = create_app(&c, &admin, &sales("v1")).await;
    assert_eq!((app["cpu"].as_i64(), app["memory"].as_i64(), app["port"].as_i64()), (Some(256), Some(512), Some(3838)));
    assert!(service(&c, "sales").await.is_none(), "registering an app deploys nothing");

    // The first deploy pins the tag to its digest: the revision runs exactly that image.
    let first = deploy(&c, &admin, None).await;
    let v1_digest = digest_of(&image("v1"));
    assert_eq!(
        (&first["kind"], &first["state"], &first["revision"], &first["image"], &first["digest"]),
        (&json!("deploy"), &json!("IN_PROGRESS"), &json!(1), &json!(image("v1")), &json!(v1_digest))
    );
    assert_eq!(first["created_by"], ADMIN);
    let pinned = format!("{ECR}/sales@{v1_digest}");
    assert_eq!(registered.lock().unwrap().last().map(|td| td.image.clone()), Some(pinned));
    let first = finish(&c, &admin, &first).await;
    assert_eq!((&first["state"], &first["reason"]), (&json!("COMPLETED"), &Value::Null));
    assert!(first["finished_at"].is_string());

    // A broken image: the circuit breaker fails the deploy and ECS goes back to revision 1
    // (the sandbox's digest of a `broken` tag marks the pinned image broken too).
    let broken_image = format!("{ECR}/sales:broken");
    let broken = deploy(&c, &admin, Some(json!({ "image": broken_image }))).await;
    assert_eq!((&broken["revision"], &broken["state"]), (&json!(2), &json!("IN_PROGRESS")));
    assert_eq!(get(&c, &admin, "/api/v1/apps/sales").await.1["image"], broken_image, "the app shows what was deployed");
    let broken = finish(&c, &admin, &broken).await;
    assert_eq!(broken["state"], "FAILED");
    let reason = broken["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("circuit breaker"), "{reason}");
    let mut settled = None;
    for _ in 0..30 {
        c.advance(2);
        settled = service(&c, "sales").await.filter(|s| s.deployments.len() == 1);
        if settled.is_some() {
            break;
        }
    }
    let svc = settled.expect("the service settled after the circuit breaker's rollback");
    assert!(svc.task_definition.ends_with("task-definition/sales:1"), "{}", svc.task_definition);
    assert_eq!(svc.running_count, 1);

    // Rolling back to revision 1 deploys exactly it again, and the app shows its image.
    let res = admin.post(c.url("/api/v1/apps/sales/rollback")).json(&json!({ "revision": 1 })).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let rollback = json_of(res).await;
    assert_eq!(
        (&rollback["kind"], &rollback["revision"], &rollback["image"], &rollback["digest"]),
        (&json!("rollback"), &json!(1), &json!(image("v1")), &json!(v1_digest))
    );
    assert_eq!(registered.lock().unwrap().len(), 2, "a rollback registers no new revision");
    assert_eq!(finish(&c, &admin, &rollback).await["state"], "COMPLETED");
    assert_eq!(get(&c, &admin, "/api/v1/apps/sales").await.1["image"], image("v1"));

    let (status, history) = get(&c, &admin, "/api/v1/apps/sales/deploys").await;
    assert_eq!(status, StatusCode::OK);
    let summary: Vec<(&str, i64, &str)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["kind"].as_str().unwrap(), d["revision"].as_i64().unwrap(), d["state"].as_str().unwrap()))
        .collect();
    assert_eq!(summary, [("rollback", 1, "COMPLETED"), ("deploy", 2, "FAILED"), ("deploy", 1, "COMPLETED")]);

    let s = |a: &str| (a.to_owned(), "sales".to_owned());
    assert_eq!(app_audit(&c).await, [s("app.create"), s("app.deploy"), s("app.deploy"), s("app.rollback")]);
    let (before, after) = last_audit(&c, "app.rollback").await;
    assert_eq!(before, json!({ "image": broken_image }));
    assert_eq!((&after["revision"], &after["digest"]), (&json!(1), &json!(v1_digest)));
}

async fn create_token(c: &TestConsole, name: &str) -> String {
    let (status, created) = c.call(&c.client, "create_token", &[("name", name), ("role", "admin")]).await;
    assert_eq!(status, 200, "{created}");
    created["token"].as_str().expect("a token").to_owned()
}

#[tokio::test]
async fn a_ci_job_retrying_with_the_same_idempotency_key_gets_the_same_deploy() {
    let c = TestConsole::empty().await;
    create_app(&c, &c.client, &sales("v1")).await;
    // A CI job: an API token, no browser, no Origin.
    let token = create_token(&c, "ci").await;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    let ci = Client::builder().default_headers(headers).build().unwrap();
    let v2 = json!({ "image": image("v2") });

    let res = post_deploy(&c, &ci, "sales", Some(v2.clone()), Some("run-1234-deploy")).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    assert!(res.headers().get("idempotent-replayed").is_none());
    let started = json_of(res).await;
    assert_eq!(started["created_by"], "token:ci");

    let res = post_deploy(&c, &ci, "sales", Some(v2.clone()), Some("run-1234-deploy")).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    assert_eq!(json_of(res).await["id"], started["id"]);
    let (_, history) = get(&c, &ci, "/api/v1/apps/sales/deploys").await;
    assert_eq!(history.as_array().unwrap().len(), 1, "{history}");

    // The key names that request only: another image with it is refused, even later.
    let res = post_deploy(&c, &ci, "sales", Some(json!({ "image": image("v3") })), Some("run-1234-deploy")).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let error = json_of(res).await["error"].clone();
    assert_eq!(error["code"], "conflict");
    assert!(error["message"].as_str().unwrap().contains(&format!("deploy #{}", started["id"])), "{error}");
    finish(&c, &ci, &started).await;
    let res = post_deploy(&c, &ci, "sales", Some(v2), Some("run-1234-deploy")).await;
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    assert_eq!(json_of(res).await["state"], "COMPLETED", "a retry after the end reports the end");
    assert_eq!(get(&c, &ci, "/api/v1/apps/sales/deploys").await.1.as_array().unwrap().len(), 1);

    // Nor does a key that started a rollback start a deploy.
    let res = c
        .client
        .post(c.url("/api/v1/apps/sales/rollback"))
        .header("Idempotency-Key", "run-1235-rollback")
        .json(&json!({ "revision": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let res = post_deploy(&c, &ci, "sales", None, Some("run-1235-rollback")).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);

    // An unusable key is refused before anything starts.
    let res = post_deploy(&c, &ci, "sales", None, Some("two words")).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_of(res).await["error"]["field"], "idempotency_key");
}

#[tokio::test]
async fn only_one_deploy_of_an_app_runs_at_a_time() {
    let c = TestConsole::empty().await;
    create_app(&c, &c.client, &sales("v1")).await;
    let (a, b) = tokio::join!(
        post_deploy(&c, &c.client, "sales", None, None),
        post_deploy(&c, &c.client, "sales", Some(json!({ "image": image("v2") })), None),
    );
    let (a_status, b_status) = (a.status(), b.status());
    let (a, b) = (json_of(a).await, json_of(b).await);
    let (started, refused) = match (a_status, b_status) {
        (StatusCode::ACCEPTED, StatusCode::CONFLICT) => (a, b),
        (StatusCode::CONFLICT, StatusCode::ACCEPTED) => (b, a),
        other => panic!("want one 202 and one 409, got {other:?}: {a} {b}"),
    };
    assert_eq!(refused["error"]["code"], "conflict");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(message.contains(&format!("deploy #{} by {ADMIN}", started["id"])), "{message}");
    let (_, history) = get(&c, &c.client, "/api/v1/apps/sales/deploys").await;
    assert_eq!(history.as_array().unwrap().len(), 1);

    // While it rolls out, a third is refused too; once it finished, the next one starts.
    assert_eq!(post_deploy(&c, &c.client, "sales", None, None).await.status(), StatusCode::CONFLICT);
    assert_eq!(finish(&c, &c.client, &started).await["state"], "COMPLETED");
    let next = deploy(&c, &c.client, None).await;
    assert_eq!(next["state"], "IN_PROGRESS");
}

#[tokio::test]
async fn refused_input_changes_nothing_and_names_every_bad_field() {
    let c = TestConsole::empty().await;
    let bad = json!({
        "slug": "Sales!",
        "name": " ",
        "image": "rocker/shiny",
        "memory": 4096,
        "desired_count": 101,
    });
    let res = c.client.post(c.url("/api/v1/apps")).json(&bad).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error = json_of(res).await["error"].clone();
    assert_eq!((&error["code"], &error["field"]), (&json!("invalid"), &json!("slug")));
    let fields: Vec<&String> = error["fields"].as_object().unwrap().keys().collect();
    assert_eq!(fields, ["slug", "name", "image", "memory", "desired_count"], "in the order of the form");
    // Unknown fields and broken JSON are refused as such.
    let res = c.client.post(c.url("/api/v1/apps")).json(&json!({ "slug": "sales", "colour": "red" })).send().await;
    assert_eq!(json_of(res.unwrap()).await["error"]["code"], "bad_request");
    let res = c.client.post(c.url("/api/v1/apps")).header("content-type", "application/json").body("{").send().await;
    assert_eq!(res.unwrap().status(), StatusCode::BAD_REQUEST);
    assert_eq!(get(&c, &c.client, "/api/v1/apps").await.1, json!([]));
    assert_eq!(app_audit(&c).await, []);

    // A bad change leaves the app as it was.
    let app = create_app(&c, &c.client, &sales("v1")).await;
    c.advance(60);
    let res = c.client.patch(c.url("/api/v1/apps/sales")).json(&json!({ "name": "New", "memory": 3 })).send().await;
    let res = res.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_of(res).await["error"]["field"], "memory");
    assert_eq!(definition(get(&c, &c.client, "/api/v1/apps/sales").await.1), app);

    // An image ECR does not have is a field error, and no deploy is left behind.
    let res = post_deploy(&c, &c.client, "sales", Some(json!({ "image": image("missing-v3") })), None).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error = json_of(res).await["error"].clone();
    assert_eq!(error["field"], "image");
    assert!(error["message"].as_str().unwrap().contains("sales:missing-v3"), "{error}");
    assert_eq!(get(&c, &c.client, "/api/v1/apps/sales/deploys").await.1, json!([]));
    assert_eq!(definition(get(&c, &c.client, "/api/v1/apps/sales").await.1), app);
    assert!(service(&c, "sales").await.is_none());
    let (status, _) = get(&c, &c.client, "/api/v1/apps/nothing/deploys").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(app_audit(&c).await, [("app.create".to_owned(), "sales".to_owned())]);
    // The refused deploy held no claim: a deploy starts at once.
    assert_eq!(deploy(&c, &c.client, None).await["revision"], 1);
}

#[tokio::test]
async fn a_patch_changes_only_the_fields_sent_and_is_audited_but_never_the_slug() {
    let c = TestConsole::empty().await;
    let app = create_app(&c, &c.client, &sales("v1")).await;
    assert_eq!((&app["env"], &app["tags"], &app["desired_count"]), (&json!({}), &json!({}), &json!(1)));
    c.advance(60);
    let change = json!({
        "env": { "SHINY_LOG_LEVEL": "debug", "API_URL": "https://api.example.org/?a=b" },
        "tags": { "team": "finance" },
        "desired_count": 2,
        "health_check_tool": "curl",
    });
    let res = c.client.patch(c.url("/api/v1/apps/sales")).json(&change).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let changed = json_of(res).await;
    assert_eq!(changed["env"], change["env"]);
    assert_eq!((&changed["tags"], &changed["desired_count"]), (&change["tags"], &json!(2)));
    assert_eq!((&changed["name"], &changed["image"]), (&app["name"], &app["image"]), "fields not sent stay");
    assert_eq!(changed["created_at"], app["created_at"]);
    assert_ne!(changed["updated_at"], app["updated_at"]);
    assert_eq!(definition(get(&c, &c.client, "/api/v1/apps/sales").await.1), changed);

    let (before, after) = last_audit(&c, "app.update").await;
    assert_eq!((&before["desired_count"], &after["desired_count"]), (&json!(1), &json!(2)));
    assert_eq!((&before["env"], &before["tags"]), (&json!([]), &json!([])));
    assert_eq!(after["tags"], json!([["team", "finance"]]));
    assert_eq!(after["env"].as_array().map(Vec::len), Some(2));

    // `null` clears an optional field.
    let res = c.client.patch(c.url("/api/v1/apps/sales")).json(&json!({ "health_check_tool": null })).send().await;
    assert_eq!(json_of(res.unwrap()).await["health_check_tool"], Value::Null);

    // The slug names the service: it cannot change.
    let res = c.client.patch(c.url("/api/v1/apps/sales")).json(&json!({ "slug": "sales-2" })).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_of(res).await["error"]["field"], "slug");
    assert_eq!(get(&c, &c.client, "/api/v1/apps/sales-2").await.0, StatusCode::NOT_FOUND);
    let s = |a: &str| (a.to_owned(), "sales".to_owned());
    assert_eq!(app_audit(&c).await, [s("app.create"), s("app.update"), s("app.update")]);
}

#[tokio::test]
async fn deleting_an_app_removes_its_service_keeps_its_history_and_frees_its_slug() {
    let c = TestConsole::empty().await;
    create_app(&c, &c.client, &sales("v1")).await;
    let first = deploy(&c, &c.client, None).await;
    finish(&c, &c.client, &first).await;
    assert!(service(&c, "sales").await.is_some());

    let res = c.client.delete(c.url("/api/v1/apps/sales")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(service(&c, "sales").await.is_none(), "the service is gone from the cloud");
    assert_eq!(get(&c, &c.client, "/api/v1/apps/sales").await.0, StatusCode::NOT_FOUND);
    assert_eq!(get(&c, &c.client, "/api/v1/apps").await.1, json!([]));
    assert_eq!(c.client.delete(c.url("/api/v1/apps/sales")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    // The history stays readable.
    let (status, kept) = get(&c, &c.client, &format!("/api/v1/deploys/{}", first["id"])).await;
    assert_eq!((status, &kept["app"], &kept["state"]), (StatusCode::OK, &json!("sales"), &json!("COMPLETED")));
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM deploys").fetch_one(&c.state.pool).await.unwrap();
    assert_eq!(rows, 1);
    server::refresher::refresh_once(&c.state).await.unwrap();

    // A new app may take the slug; it starts with no history of its own.
    let again = create_app(&c, &c.client, &sales("v5")).await;
    assert_eq!(again["image"], image("v5"));
    assert_eq!(get(&c, &c.client, "/api/v1/apps/sales/deploys").await.1, json!([]));
    let res = c.client.post(c.url("/api/v1/apps/sales/rollback")).json(&json!({ "revision": 1 })).send().await;
    assert_eq!(json_of(res.unwrap()).await["error"]["field"], "revision", "the old app's revisions are not its own");
    let second = deploy(&c, &c.client, None).await;
    assert_eq!(second["revision"], 2, "the task-definition family carries on");
    assert_eq!(finish(&c, &c.client, &second).await["state"], "COMPLETED");
    let s = |a: &str| (a.to_owned(), "sales".to_owned());
    assert_eq!(
        app_audit(&c).await,
        [s("app.create"), s("app.deploy"), s("app.delete"), s("app.create"), s("app.deploy")]
    );
}

/// ECS forgets a deployment the circuit breaker failed once its rollback completes; a deploy
/// the console follows late (it was stopped, or the cloud did not answer) still says why.
#[tokio::test]
async fn a_broken_deploy_followed_late_still_says_why_it_failed() {
    let c = TestConsole::empty().await;
    create_app(&c, &c.client, &sales("v1")).await;
    finish(&c, &c.client, &deploy(&c, &c.client, None).await).await;
    let broken = deploy(&c, &c.client, Some(json!({ "image": format!("{ECR}/sales-broken:v2") }))).await;
    c.advance(300);
    server::refresher::refresh_once(&c.state).await.unwrap();
    let (_, late) = get(&c, &c.client, &format!("/api/v1/deploys/{}", broken["id"])).await;
    assert_eq!(late["state"], "FAILED");
    assert_eq!(late["reason"], "deployment failed: tasks failed to start");
}

/// The OpenAPI document, served over HTTP, covers what a CI job uses: every route of
/// `/api/v1/apps` and `/api/v1/deploys` in the routes table, with its idempotency key
/// (`tests/openapi.rs` checks every other route).
#[tokio::test]
async fn the_openapi_document_describes_every_app_and_deploy_route() {
    let c = TestConsole::empty().await;
    let (status, doc) = get(&c, &c.client, "/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{}", doc["openapi"]);
    let documented: Vec<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| ops.as_object().unwrap().keys().map(move |m| (m.to_uppercase(), path.clone())))
        .filter(|(_, path)| path.starts_with("/api/v1/apps") || path.starts_with("/api/v1/deploys"))
        .collect();
    let mut served: Vec<(String, String)> = server::api::routes()
        .iter()
        .filter(|r| r.path.starts_with("/api/v1/apps") || r.path.starts_with("/api/v1/deploys"))
        .map(|r| (r.method.to_string(), r.path.to_owned()))
        .collect();
    let mut documented_sorted = documented.clone();
    documented_sorted.sort();
    served.sort();
    assert_eq!(documented_sorted, served, "the document and the routes table disagree");
    for (method, path) in &documented {
        let op = &doc["paths"][path][method.to_lowercase()];
        assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()), "{method} {path} has no responses");
    }
    let deploy_op = &doc["paths"]["/api/v1/apps/{slug}/deploys"]["post"];
    assert!(deploy_op["parameters"].as_array().unwrap().iter().any(|p| p["name"] == "Idempotency-Key"));
}

#[tokio::test]
async fn a_viewer_follows_apps_and_deploys_but_cannot_deploy() {
    let c = TestConsole::empty().await;
    let mut body = sales("v1");
    body["env"] = json!({ "DB_PASSWORD": "hunter2" });
    create_app(&c, &c.client, &body).await;
    let first = deploy(&c, &c.client, None).await;
    let viewer = c.client_for(VIEWER).await;
    // Viewers read the variables' names; only admins read their values.
    assert_eq!(get(&c, &viewer, "/api/v1/apps/sales").await.1["env"], json!({ "DB_PASSWORD": "********" }));
    assert_eq!(get(&c, &viewer, "/api/v1/apps").await.1[0]["env"], json!({ "DB_PASSWORD": "********" }));
    assert_eq!(get(&c, &c.client, "/api/v1/apps/sales").await.1["env"], json!({ "DB_PASSWORD": "hunter2" }));
    let (status, page) = c.call(&viewer, "app_detail", &[("slug", "sales")]).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["app"]["env"], json!([["DB_PASSWORD", "********"]]));
    assert!(!page.to_string().contains("hunter2"), "the page data never carries the value");
    let audit: Vec<String> =
        sqlx::query_scalar("SELECT COALESCE(before_json, '') || COALESCE(after_json, '') FROM audit_log")
            .fetch_all(&c.state.pool)
            .await
            .unwrap();
    assert!(audit.iter().any(|row| row.contains("DB_PASSWORD")), "the audit log names the variable");
    assert!(!audit.iter().any(|row| row.contains("hunter2")), "and never its value");
    for path in ["/api/v1/apps", "/api/v1/apps/sales", "/api/v1/apps/sales/deploys", "/api/v1/openapi.json"] {
        assert_eq!(get(&c, &viewer, path).await.0, StatusCode::OK, "{path}");
    }
    assert_eq!(finish(&c, &viewer, &first).await["state"], "COMPLETED");
    let res = post_deploy(&c, &viewer, "sales", Some(json!({ "image": image("v2") })), None).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(json_of(res).await["error"]["code"], "forbidden");
    assert_eq!(get(&c, &viewer, "/api/v1/apps/sales/deploys").await.1.as_array().unwrap().len(), 1);
    assert_eq!(get(&c, &viewer, "/api/v1/apps/sales").await.1["image"], image("v1"));
}

/// A console whose ECS fails service changes as `fault` says.
async fn faulty_console() -> (TestConsole, Arc<Mutex<Fault>>) {
    let fault = Arc::new(Mutex::new(Fault::None));
    let handle = fault.clone();
    let c = TestConsole::with_cloud(&[], move |sandbox, _| Cloud {
        fleet: Arc::new(Recording { ecs: sandbox.clone(), registered: Arc::default(), fault: handle }),
        ..server::sandbox_cloud(sandbox)
    })
    .await;
    (c, fault)
}

#[tokio::test]
async fn a_service_change_whose_answer_is_lost_is_still_followed_to_its_end() {
    let (c, fault) = faulty_console().await;
    let admin = c.client_for(ADMIN).await;
    create_app(&c, &admin, &sales("v1")).await;
    *fault.lock().unwrap() = Fault::AppliedUnanswered;
    // ECS created the service, but the console never heard back: the deploy is kept, not lost.
    let res = post_deploy(&c, &admin, "sales", None, Some("ci-1")).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let kept = json_of(res).await;
    assert_eq!((&kept["state"], &kept["revision"]), (&json!("IN_PROGRESS"), &json!(1)));
    *fault.lock().unwrap() = Fault::None;
    // The same request again replays it instead of starting a second rollout.
    let again = post_deploy(&c, &admin, "sales", None, Some("ci-1")).await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(json_of(again).await["id"], kept["id"]);
    assert_eq!(finish(&c, &admin, &kept).await["state"], "COMPLETED");
    assert_eq!(service(&c, "sales").await.expect("the service").running_count, 1);
}

#[tokio::test]
async fn a_service_change_that_never_reached_ecs_fails_after_the_grace_period() {
    let (c, fault) = faulty_console().await;
    let admin = c.client_for(ADMIN).await;
    create_app(&c, &admin, &sales("v1")).await;
    let first = deploy(&c, &admin, None).await;
    assert_eq!(finish(&c, &admin, &first).await["state"], "COMPLETED");
    *fault.lock().unwrap() = Fault::LostUnanswered;
    let lost = deploy(&c, &admin, Some(json!({ "image": image("v2") }))).await;
    assert_eq!(lost["state"], "IN_PROGRESS");
    // ECS lags its writes: missing for a minute is not yet a verdict.
    c.advance(60);
    server::refresher::refresh_once(&c.state).await.expect("refresh");
    assert_eq!(get(&c, &admin, &format!("/api/v1/deploys/{}", lost["id"])).await.1["state"], "IN_PROGRESS");
    let ended = finish(&c, &admin, &lost).await;
    assert_eq!(ended["state"], "FAILED");
    assert!(ended["reason"].as_str().unwrap().starts_with("ECS shows no deployment of this revision"), "{ended}");
    // The app is free again, and the service still runs revision 1.
    *fault.lock().unwrap() = Fault::None;
    assert!(service(&c, "sales").await.expect("the service").task_definition.ends_with(":1"));
    assert_eq!(deploy(&c, &admin, None).await["state"], "IN_PROGRESS");
}

#[tokio::test]
async fn an_app_is_not_deleted_while_it_is_being_deployed() {
    let c = TestConsole::empty().await;
    create_app(&c, &c.client, &sales("v1")).await;
    let first = deploy(&c, &c.client, None).await;
    let res = c.client.delete(c.url("/api/v1/apps/sales")).send().await.expect("request");
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(json_of(res).await["error"]["message"].as_str().unwrap().contains(&format!("Deploy #{}", first["id"])));
    assert!(service(&c, "sales").await.is_some(), "nothing was deleted");
    assert_eq!(get(&c, &c.client, "/api/v1/apps/sales").await.0, StatusCode::OK);
    finish(&c, &c.client, &first).await;
    let res = c.client.delete(c.url("/api/v1/apps/sales")).send().await.expect("request");
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn an_edit_made_on_an_outdated_form_does_not_overwrite_a_newer_change() {
    let c = TestConsole::empty().await;
    create_app(&c, &c.client, &sales("v1")).await;
    let (_, detail) = c.call(&c.client, "app_detail", &[("slug", "sales")]).await;
    let opened = detail["updated_at"].as_str().expect("a version").to_owned();
    // Meanwhile a CI job deploys a new image.
    c.advance(5);
    deploy(&c, &c.client, Some(json!({ "image": image("v2") }))).await;
    let form = |version: &str| {
        vec![
            ("slug", "sales".to_owned()),
            ("version", version.to_owned()),
            ("form[slug]", "sales".to_owned()),
            ("form[name]", "Renamed".to_owned()),
            ("form[image]", image("v1")),
            ("form[size]", "256/512".to_owned()),
            ("form[architecture]", "x86_64".to_owned()),
            ("form[port]", "3838".to_owned()),
            ("form[env]", String::new()),
            ("form[task_role_arn]", String::new()),
            ("form[execution_role_arn]", String::new()),
            ("form[health_check_path]", "/".to_owned()),
            ("form[health_check_tool]", String::new()),
            ("form[desired_count]", "1".to_owned()),
            ("form[tags]", String::new()),
            ("form[target_group_arn]", String::new()),
        ]
    };
    let fields = form(&opened);
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, answer) = c.call(&c.client, "update_app", &borrowed).await;
    assert_eq!(status, 409, "{answer}");
    let app = get(&c, &c.client, "/api/v1/apps/sales").await.1;
    assert_eq!(
        (&app["name"], &app["image"]),
        (&json!("Sales dashboard"), &json!(image("v2"))),
        "the deploy's image stays"
    );
    // A form opened after the deploy saves.
    let (_, detail) = c.call(&c.client, "app_detail", &[("slug", "sales")]).await;
    let fields = form(detail["updated_at"].as_str().expect("a version"));
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, answer) = c.call(&c.client, "update_app", &borrowed).await;
    assert_eq!((status, answer), (200, json!("sales")));
    assert_eq!(get(&c, &c.client, "/api/v1/apps/sales").await.1["name"], "Renamed");
}
