//! Crash recovery: the real `shinyfleet serve` binary on AWS (moto, through a fault-injecting
//! proxy) is killed with SIGKILL while a deploy or a scheduled transition is in flight, then
//! started again on the same SQLite file. Afterwards the deploy's state is the one ECS
//! reports, a transition is applied once, and the file is intact (`PRAGMA integrity_check`,
//! `PRAGMA foreign_key_check`, no audit row written twice).
//!
//! The proxy decides the instant of the crash: `HoldAnswer` lets moto apply a change and
//! withholds its answer (the change happened, the console never heard of it); `HoldRequest`
//! holds the request itself (the change never reached ECS; those requests are never released,
//! so they never do).
//!
//! The child runs with an empty environment plus what these tests set: static moto
//! credentials, `AWS_ENDPOINT_URL` pointing at the proxy, no shared AWS config files, no
//! instance metadata, so no real AWS account can be reached.
//!
//! Run with `bash scripts/with-moto.sh cargo test -p server --test crash` (or without the
//! script: moto then starts by itself).

#[path = "../../cloud/tests/support/ecr.rs"]
mod ecr;
#[path = "support/fault_proxy.rs"]
mod fault_proxy;
#[allow(dead_code)]
#[path = "../../cloud/tests/support/moto.rs"]
mod moto;

use chrono::{DateTime, Utc};
use ecr::Repository;
use fault_proxy::{Fault, FaultProxy};
use moto::unique;
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::SqlitePool;
use std::fs::File;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const REGION: &str = "us-east-1";
/// The key a CI job sends with its deploy, and again when it retries after losing the answer.
const KEY: &str = "ci-run-4711-attempt-1";
/// Refresh interval of a console that must not look at ECS on its own before it is killed
/// (its first refresh runs at start-up, before the app exists; nothing wakes it until a deploy
/// has heard back from ECS, which the killed deploy never does).
const QUIET: u64 = 3600;
/// Refresh interval of a restarted console: the minimum, to follow ECS closely.
const FAST: u64 = 1;

// ─────────────────────────────────────── The world ───────────────────────────────────────

/// Everything the console runs against: a cluster, network, Cognito pool and ECR repository in
/// moto, the proxy in front of moto, the database file and an admin API token for it.
struct World {
    proxy: FaultProxy,
    ecs: aws_sdk_ecs::Client,
    cluster: String,
    subnets: Vec<String>,
    security_group: String,
    pool_id: String,
    client_id: String,
    issuer: String,
    jwks_url: String,
    repo: Repository,
    dir: tempfile::TempDir,
    token: String,
    starts: std::cell::Cell<u32>,
}

impl World {
    async fn new() -> Self {
        let config = moto::sdk_config().await;
        let proxy = FaultProxy::start(moto::endpoint().await).await;
        let ecs = aws_sdk_ecs::Client::new(&config);
        let cluster = unique("crash");
        ecs.create_cluster().cluster_name(&cluster).send().await.expect("cluster created");
        let network = moto::default_network().await;
        let (pool_id, client_id) = moto::user_pool(&config).await;
        let jwt = moto::jwt_config(&pool_id, &client_id).await;
        let cloud::jwt::JwksSource::Url(jwks_url) = jwt.jwks else { panic!("moto serves the pool's keys by URL") };
        let repo = Repository::new(&config).await;
        let dir = tempfile::tempdir().expect("temp dir");
        let mut world = Self {
            proxy,
            ecs,
            cluster,
            subnets: network.subnets[..2].to_vec(),
            security_group: network.security_group,
            pool_id,
            client_id,
            issuer: jwt.issuer,
            jwks_url,
            repo,
            dir,
            token: String::new(),
            starts: std::cell::Cell::new(0),
        };
        world.token = world.create_token();
        world
    }

    fn db_path(&self) -> PathBuf {
        self.dir.path().join("db.sqlite")
    }

    fn database_url(&self) -> String {
        format!("sqlite://{}", self.db_path().display())
    }

    /// `shinyfleet ARGS` with an empty environment plus the console's settings.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_shinyfleet"));
        cmd.args(args).env_clear().current_dir(self.dir.path());
        let home = self.dir.path().display().to_string();
        let env = [
            ("PATH", std::env::var("PATH").unwrap_or_default()),
            ("HOME", home),
            ("SHINYFLEET_CLOUD", "aws".into()),
            ("AWS_ENDPOINT_URL", self.proxy.url.clone()),
            ("AWS_REGION", REGION.into()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("AWS_CONFIG_FILE", "/dev/null".into()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".into()),
            ("DATABASE_URL", self.database_url()),
            ("SHINYFLEET_CLUSTER", self.cluster.clone()),
            ("SHINYFLEET_SUBNETS", self.subnets.join(",")),
            ("SHINYFLEET_SECURITY_GROUPS", self.security_group.clone()),
            ("SHINYFLEET_USER_POOL_ID", self.pool_id.clone()),
            ("SHINYFLEET_CLIENT_ID", self.client_id.clone()),
            ("SHINYFLEET_TOKEN_ISSUER", self.issuer.clone()),
            ("SHINYFLEET_JWKS_URL", self.jwks_url.clone()),
        ];
        for (name, value) in env {
            cmd.env(name, value);
        }
        cmd
    }

    /// An admin API token made by the binary's own command line.
    fn create_token(&self) -> String {
        let out = self
            .command(&["token", "create", "--name", "ci", "--role", "admin"])
            .stdin(Stdio::null())
            .output()
            .expect("shinyfleet token create runs");
        assert!(out.status.success(), "token create failed: {}", String::from_utf8_lossy(&out.stderr));
        let token = String::from_utf8(out.stdout).expect("UTF-8").trim().to_owned();
        assert!(token.starts_with("sft_"), "{token:?}");
        token
    }

    /// Starts `shinyfleet serve` on a free port and waits until `/healthz` answers.
    async fn start(&self, refresh_secs: u64) -> Console {
        let n = self.starts.get() + 1;
        self.starts.set(n);
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("addr").port();
        let log = self.dir.path().join(format!("serve-{n}.log"));
        let out = File::create(&log).expect("log file");
        let mut cmd = self.command(&["serve"]);
        cmd.env("SHINYFLEET_LISTEN", format!("127.0.0.1:{port}"))
            .env("SHINYFLEET_REFRESH_SECS", refresh_secs.to_string())
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log file"))
            .stderr(out);
        // SAFETY: runs in the forked child before `exec`; `prctl` is async-signal-safe and
        // touches no memory shared with the parent. The console dies with the test's thread.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("shinyfleet serve starts");
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("client");
        let mut console =
            Console { child, base: format!("http://127.0.0.1:{port}"), http, token: self.token.clone(), log, n };
        console.wait_healthy().await;
        console
    }

    /// The ARNs of every registered revision of `family`, oldest first.
    async fn revisions(&self, family: &str) -> Vec<String> {
        let out = self.ecs.list_task_definitions().family_prefix(family).send().await.expect("task definitions");
        let of_family = format!("task-definition/{family}:");
        let mut arns: Vec<String> =
            out.task_definition_arns().iter().filter(|arn| arn.contains(&of_family)).cloned().collect();
        arns.sort_by_key(|arn| arn.rsplit_once(':').and_then(|(_, n)| n.parse::<u32>().ok()));
        arns
    }

    /// Every service of the cluster.
    async fn service_arns(&self) -> Vec<String> {
        let out = self.ecs.list_services().cluster(&self.cluster).send().await.expect("services listed");
        out.service_arns().to_vec()
    }

    async fn service(&self, name: &str) -> aws_sdk_ecs::types::Service {
        let out = self.ecs.describe_services().cluster(&self.cluster).services(name).send().await.expect("described");
        let [service] = out.services() else { panic!("one service {name}: {out:?}") };
        service.clone()
    }

    /// The bodies of the `operation` requests that reached moto (held requests are never
    /// released in these tests, so they never do).
    fn reached_moto(&self, operation: &str) -> Vec<Value> {
        self.proxy
            .seen()
            .into_iter()
            .filter(|s| s.operation == operation)
            .filter(|s| matches!(s.fault, None | Some(Fault::HoldAnswer | Fault::LoseAnswer | Fault::Slow(_))))
            .map(|s| serde_json::from_slice(&s.body).unwrap_or(Value::Null))
            .collect()
    }
}

// ────────────────────────────────────── The console ──────────────────────────────────────

/// A running `shinyfleet serve`; killed when dropped, its log printed if the test failed.
struct Console {
    child: Child,
    base: String,
    http: reqwest::Client,
    token: String,
    log: PathBuf,
    n: u32,
}

/// An API answer.
#[derive(Debug)]
struct Answer {
    status: u16,
    body: Value,
    replayed: bool,
}

impl Console {
    async fn wait_healthy(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("child status") {
                panic!("console #{} exited at start-up ({status}):\n{}", self.n, tail(&self.log));
            }
            // As the admin token: only admins are told whether the cloud answers.
            if let Ok(res) = self.http.get(format!("{}/healthz", self.base)).bearer_auth(&self.token).send().await {
                let status = res.status().as_u16();
                let health: Value = res.json().await.unwrap_or(Value::Null);
                assert_eq!(status, 200, "{health}");
                assert_eq!(health["cloud"]["ok"], true, "the console reaches moto through the proxy: {health}");
                return;
            }
            assert!(Instant::now() < deadline, "console #{} never answered /healthz:\n{}", self.n, tail(&self.log));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn request(&self, method: Method, path: &str, body: Option<&Value>, key: Option<&str>) -> reqwest::RequestBuilder {
        let mut request = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>, key: Option<&str>) -> Answer {
        let res = self.request(method, path, body.as_ref(), key).send().await.expect("the console answers");
        let status = res.status().as_u16();
        let replayed = res.headers().get("idempotent-replayed").is_some_and(|v| v == "true");
        let text = res.text().await.expect("a body");
        let body =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        Answer { status, body, replayed }
    }

    async fn get(&self, path: &str) -> Value {
        let answer = self.call(Method::GET, path, None, None).await;
        assert_eq!(answer.status, 200, "GET {path}: {answer:?}");
        answer.body
    }

    /// SIGKILL, and waits until the process is gone.
    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL sent");
        let status = self.child.wait().expect("the console is reaped");
        assert_eq!(status.signal(), Some(libc::SIGKILL), "console #{} died by SIGKILL: {status}", self.n);
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if std::thread::panicking() {
            eprintln!("── log of console #{} ──\n{}", self.n, tail(&self.log));
        }
    }
}

/// The last lines of a log.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(80)..].join("\n")
}

// ─────────────────────────────────────── The file ────────────────────────────────────────

/// The database file opened read-only: it stays as the crash left it.
async fn read_only(path: &Path) -> SqlitePool {
    let options = SqliteConnectOptions::new().filename(path).read_only(true);
    SqlitePoolOptions::new().max_connections(1).connect_with(options).await.expect("the database file opens")
}

/// The file is intact: SQLite's own checks pass and no audit row was written twice.
async fn assert_intact(path: &Path, when: &str) {
    let pool = read_only(path).await;
    let integrity: Vec<String> =
        sqlx::query_scalar("PRAGMA integrity_check").fetch_all(&pool).await.expect("integrity_check");
    assert_eq!(integrity, ["ok"], "{when}: PRAGMA integrity_check");
    let orphans: Vec<(String, Option<i64>, String)> =
        sqlx::query_as("SELECT \"table\", rowid, parent FROM pragma_foreign_key_check")
            .fetch_all(&pool)
            .await
            .expect("foreign_key_check");
    assert!(orphans.is_empty(), "{when}: rows whose parent is missing: {orphans:?}");
    let twice: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT actor, action, target, COUNT(*) FROM audit_log
         GROUP BY actor, action, target, COALESCE(before_json, ''), COALESCE(after_json, '') HAVING COUNT(*) > 1",
    )
    .fetch_all(&pool)
    .await
    .expect("audit log");
    assert!(twice.is_empty(), "{when}: audit rows written more than once: {twice:?}");
    pool.close().await;
}

/// The audit rows of `action` about `target`.
async fn audit_rows(path: &Path, action: &str, target: &str) -> Vec<(String, Option<String>)> {
    let pool = read_only(path).await;
    let rows = sqlx::query_as("SELECT actor, after_json FROM audit_log WHERE action = ? AND target = ? ORDER BY id")
        .bind(action)
        .bind(target)
        .fetch_all(&pool)
        .await
        .expect("audit log");
    pool.close().await;
    rows
}

// ─────────────────────────────────────── ECR image ───────────────────────────────────────

/// Fails with `what` and the last thing seen once `deadline` passed; otherwise waits a bit.
async fn not_yet(deadline: Instant, what: &str, last: &dyn std::fmt::Debug) {
    assert!(Instant::now() < deadline, "{what}; last seen: {last:?}");
    tokio::time::sleep(Duration::from_millis(200)).await;
}

/// Registers an app with an image pushed to ECR.
async fn create_app(w: &World, c: &Console, slug: &str, desired_count: u32) {
    w.repo.push("v1").await;
    let body =
        json!({ "slug": slug, "name": "Crash test", "image": w.repo.image("v1"), "desired_count": desired_count });
    let created = c.call(Method::POST, "/api/v1/apps", Some(body), None).await;
    assert_eq!(created.status, 201, "{created:?}");
}

// ─────────────────────────────────────── Deploys ─────────────────────────────────────────

/// Killed after ECS created the service but before the console heard back: the restarted
/// console follows the deploy to the rollout ECS reports, and the CI job's retry with the same
/// key gets that deploy back without a second service or revision.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deploy_killed_while_ecs_creates_its_service_is_recovered_from_ecs_after_a_restart() {
    let w = World::new().await;
    let slug = unique("sales");
    let mut first = w.start(QUIET).await;
    // No tasks wanted: moto reports such a deployment COMPLETED at once (with tasks it keeps
    // every deployment IN_PROGRESS), so a deploy that ends COMPLETED was followed in ECS.
    create_app(&w, &first, &slug, 0).await;

    w.proxy.inject("CreateService", Fault::HoldAnswer, 1);
    let deploy_body = json!({ "image": w.repo.image("v1") });
    let in_flight = tokio::spawn(
        first.request(Method::POST, &format!("/api/v1/apps/{slug}/deploys"), Some(&deploy_body), Some(KEY)).send(),
    );
    w.proxy.wait_held(1, Duration::from_secs(30)).await;
    assert_eq!(w.service_arns().await.len(), 1, "moto created the service before the answer was held");
    first.kill();
    let lost = in_flight.await.expect("the request task");
    assert!(lost.is_err(), "the client got an answer from a killed console: {lost:?}");
    w.proxy.release();
    w.proxy.clear();

    // What the crash left: the deploy claimed, its revision registered, no ECS deployment known.
    assert_intact(&w.db_path(), "after the kill during CreateService").await;
    let pool = read_only(&w.db_path()).await;
    let left: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT d.state, d.task_definition, d.deployment_id FROM deploys d JOIN apps a ON a.id = d.app_id
         WHERE a.slug = ?",
    )
    .bind(&slug)
    .fetch_all(&pool)
    .await
    .expect("deploys");
    pool.close().await;
    let [(state, Some(task_definition), None)] = &left[..] else { panic!("one claimed deploy: {left:?}") };
    assert_eq!(state, "IN_PROGRESS");
    assert!(task_definition.ends_with(&format!("task-definition/{slug}:1")), "{task_definition}");

    let mut second = w.start(FAST).await;
    // The CI job retries with its key: the same deploy, replayed, nothing new in ECS.
    let retried =
        second.call(Method::POST, &format!("/api/v1/apps/{slug}/deploys"), Some(deploy_body), Some(KEY)).await;
    assert_eq!((retried.status, retried.replayed), (202, true), "{retried:?}");
    let id = retried.body["id"].as_i64().expect("a deploy id");
    assert_eq!(retried.body["revision"], 1, "{retried:?}");

    // The restarted console follows the deploy in ECS: moto's deployment completed.
    let deadline = Instant::now() + Duration::from_secs(30);
    let deploy = loop {
        let deploy = second.get(&format!("/api/v1/deploys/{id}")).await;
        if deploy["state"] != "IN_PROGRESS" {
            break deploy;
        }
        not_yet(deadline, "the deploy never left IN_PROGRESS", &deploy).await;
    };
    assert_eq!(
        (&deploy["state"], &deploy["reason"], &deploy["revision"]),
        (&json!("COMPLETED"), &Value::Null, &json!(1)),
        "{deploy}"
    );
    assert!(deploy["finished_at"].is_string(), "{deploy}");
    let app = second.get(&format!("/api/v1/apps/{slug}")).await;
    assert_eq!((&app["live"]["revision"], &app["live"]["desired"]), (&json!(1), &json!(0)), "{app}");
    let history = second.get(&format!("/api/v1/apps/{slug}/deploys")).await;
    assert_eq!(history.as_array().map(Vec::len), Some(1), "one deploy: {history}");

    // Exactly one service and one revision, as ECS and the proxy saw it.
    let [revision] = &w.revisions(&slug).await[..] else { panic!("one revision of {slug}") };
    assert_eq!(revision, task_definition);
    let service = w.service(&slug).await;
    assert_eq!(w.service_arns().await, [service.service_arn().expect("an ARN")], "no second service");
    assert_eq!(service.task_definition(), Some(revision.as_str()));
    assert_eq!((w.proxy.forwarded("RegisterTaskDefinition"), w.proxy.forwarded("CreateService")), (1, 1));

    second.kill();
    assert_intact(&w.db_path(), "after the restarted console was killed").await;
    let deploys_audited = audit_rows(&w.db_path(), "app.deploy", &slug).await;
    // The audit row is written with the claim, before CreateService: the crash cannot lose it,
    // and the replayed retry and the restarted console's tracking add none.
    let [(_, Some(after))] = &deploys_audited[..] else {
        panic!("exactly one app.deploy audit row: {deploys_audited:?}")
    };
    let after: Value = serde_json::from_str(after).expect("the audit row's after JSON");
    assert_eq!((&after["deploy"], &after["revision"]), (&json!(id), &json!(1)), "{after}");
}

/// Killed before the service creation reached ECS: the restarted console keeps the deploy in
/// progress only for the documented grace period (two minutes after it started,
/// `domain::deploy::missing_grace`, not configurable), then fails it, which frees the app.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deploy_killed_before_its_service_reached_ecs_fails_after_the_grace_period_instead_of_hanging() {
    let w = World::new().await;
    let slug = unique("trial");
    let mut first = w.start(QUIET).await;
    create_app(&w, &first, &slug, 1).await;

    w.proxy.inject("CreateService", Fault::HoldRequest, 1);
    let deploy_body = json!({ "image": w.repo.image("v1") });
    let in_flight = tokio::spawn(
        first.request(Method::POST, &format!("/api/v1/apps/{slug}/deploys"), Some(&deploy_body), Some(KEY)).send(),
    );
    w.proxy.wait_held(1, Duration::from_secs(30)).await;
    first.kill();
    assert!(in_flight.await.expect("the request task").is_err(), "the client got an answer from a killed console");
    // The held request is never released: it never reaches ECS.
    w.proxy.clear();
    assert!(w.service_arns().await.is_empty(), "no service in ECS");
    assert_intact(&w.db_path(), "after the kill before CreateService").await;

    // Restarted within the grace period: still in progress (ECS may be slow to show it), and a
    // retry replays it without touching ECS; a deploy without the key waits its turn.
    let mut second = w.start(FAST).await;
    let restarted = Utc::now();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let app = second.get(&format!("/api/v1/apps/{slug}")).await;
        let seen = app["fetched_at"].as_str().and_then(|t| t.parse::<DateTime<Utc>>().ok());
        if seen.is_some_and(|at| at > restarted) {
            assert_eq!(app["live"]["state"], "not_deployed", "{app}");
            break;
        }
        not_yet(deadline, "the restarted console never described the service", &app).await;
    }
    let retried =
        second.call(Method::POST, &format!("/api/v1/apps/{slug}/deploys"), Some(deploy_body), Some(KEY)).await;
    assert_eq!((retried.status, retried.replayed), (202, true), "{retried:?}");
    assert_eq!(retried.body["state"], "IN_PROGRESS", "young: within the grace period");
    let id = retried.body["id"].as_i64().expect("a deploy id");
    let other = second.call(Method::POST, &format!("/api/v1/apps/{slug}/deploys"), None, None).await;
    assert_eq!((other.status, &other.body["error"]["code"]), (409, &json!("conflict")), "{other:?}");
    assert_eq!((w.proxy.count("RegisterTaskDefinition"), w.proxy.count("CreateService")), (1, 1));
    second.kill();
    assert_intact(&w.db_path(), "after the second kill").await;

    // The grace period is two minutes and fixed: rather than wait, the console comes back as
    // if it had been down for three (the deploy started three minutes ago).
    let started_long_ago = Utc::now() - chrono::Duration::minutes(3);
    let options = SqliteConnectOptions::new().filename(w.db_path());
    let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await.expect("database");
    let moved = sqlx::query("UPDATE deploys SET created_at = ? WHERE id = ? AND state = 'IN_PROGRESS'")
        .bind(started_long_ago)
        .bind(id)
        .execute(&pool)
        .await
        .expect("created_at moved");
    assert_eq!(moved.rows_affected(), 1);
    pool.close().await;

    let mut third = w.start(FAST).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let deploy = loop {
        let deploy = third.get(&format!("/api/v1/deploys/{id}")).await;
        if deploy["state"] != "IN_PROGRESS" {
            break deploy;
        }
        not_yet(deadline, "the deploy stayed IN_PROGRESS past the grace period", &deploy).await;
    };
    // What verdict() says for a first deploy whose service ECS never showed.
    assert_eq!(
        (&deploy["state"], &deploy["reason"]),
        (&json!("FAILED"), &json!("the service no longer exists")),
        "{deploy}"
    );
    assert!(deploy["finished_at"].is_string(), "{deploy}");

    // The app is free again: a new deploy creates the service, once.
    let again = third.call(Method::POST, &format!("/api/v1/apps/{slug}/deploys"), None, Some("ci-run-4712")).await;
    assert_eq!((again.status, again.replayed, &again.body["revision"]), (202, false, &json!(2)), "{again:?}");
    assert_eq!(w.service_arns().await.len(), 1);
    assert_eq!(w.revisions(&slug).await.len(), 2, "the crashed deploy's unused revision and the new one");
    assert_eq!(w.reached_moto("CreateService").len(), 1);
    third.kill();
    assert_intact(&w.db_path(), "after the third kill").await;
}

// ──────────────────────────────────── Scheduled transitions ───────────────────────────────

/// Always on, with two tasks: the app runs none, so saving it (enforced) scales at once.
fn schedule() -> Value {
    json!({
        "timezone": "UTC",
        "windows": [{ "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "24:00" }],
        "on_count": 2,
        "off_count": 0,
        "mode": "enforced",
    })
}

/// The scheduler's acts on the app in its history: (action, from, to, outcome).
async fn scheduler_acts(path: &Path, slug: &str) -> Vec<(String, Option<i64>, Option<i64>, String)> {
    let pool = read_only(path).await;
    let rows = sqlx::query_as(
        "SELECT h.action, h.from_count, h.to_count, h.outcome FROM schedule_history h JOIN apps a ON a.id = h.app_id
         WHERE a.slug = ? AND h.action IN ('scale', 'catch_up', 'retry', 'override_ended') ORDER BY h.id",
    )
    .bind(slug)
    .fetch_all(&pool)
    .await
    .expect("schedule history");
    pool.close().await;
    rows
}

/// Kills the console while the scheduler's `UpdateService` meets `fault`, restarts it, and
/// checks the transition is applied once and recorded once.
async fn transition_survives_a_kill(fault: Fault) {
    let w = World::new().await;
    let slug = unique("forecast");
    // The first console refreshes only when a deploy wakes it: nothing but the test and the
    // scheduler writes to the database while the schedule is saved.
    let mut first = w.start(QUIET).await;
    create_app(&w, &first, &slug, 0).await;
    let deployed = first.call(Method::POST, &format!("/api/v1/apps/{slug}/deploys"), None, Some(KEY)).await;
    assert_eq!(deployed.status, 202, "{deployed:?}");
    let id = deployed.body["id"].as_i64().expect("a deploy id");
    // No tasks wanted: moto completes the deployment at once, and the refresher the deploy
    // woke records that, then sleeps.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let deploy = first.get(&format!("/api/v1/deploys/{id}")).await;
        if deploy["state"] == "COMPLETED" {
            break;
        }
        not_yet(deadline, "the deploy never completed", &deploy).await;
    }
    assert_eq!(w.service(&slug).await.desired_count(), 0);
    let updates_before = w.reached_moto("UpdateService").len();

    w.proxy.inject("UpdateService", fault.clone(), 1);
    let saved = first.call(Method::PUT, &format!("/api/v1/apps/{slug}/schedule"), Some(schedule()), None).await;
    assert_eq!((saved.status, &saved.body["desired_now"]), (200, &json!(2)), "{saved:?}");
    w.proxy.wait_held(1, Duration::from_secs(30)).await;
    first.kill();
    if fault == Fault::HoldAnswer {
        assert_eq!(w.service(&slug).await.desired_count(), 2, "moto applied the change before the kill");
        w.proxy.release();
    } else {
        assert_eq!(w.service(&slug).await.desired_count(), 0, "the change never reached moto");
    }
    w.proxy.clear();
    assert_intact(&w.db_path(), "after the kill during UpdateService").await;
    let pool = read_only(&w.db_path()).await;
    let dead_holder: String =
        sqlx::query_scalar("SELECT holder FROM scheduler_lease").fetch_one(&pool).await.expect("the lease");
    pool.close().await;

    // The restarted scheduler waits for the dead console's lease (30 s) to expire, then passes.
    let mut second = w.start(FAST).await;
    let deadline = Instant::now() + Duration::from_secs(75);
    loop {
        let pool = read_only(&w.db_path()).await;
        let lease: (String, Option<String>) = sqlx::query_as(
            "SELECT l.holder, s.next_due_at FROM scheduler_lease l, schedules s JOIN apps a ON a.id = s.app_id
             WHERE a.slug = ?",
        )
        .bind(&slug)
        .fetch_one(&pool)
        .await
        .expect("lease and schedule");
        pool.close().await;
        // An always-on schedule has no next transition: once a pass is through the app, its
        // due instant is cleared (the dead console never got that far).
        if lease.0 != dead_holder && lease.1.is_none() {
            break;
        }
        not_yet(deadline, "the restarted scheduler never took over", &lease).await;
    }
    let view = second.get(&format!("/api/v1/apps/{slug}/schedule")).await;
    assert_eq!((&view["desired_now"], &view["live_desired"]), (&json!(2), &json!(2)), "{view}");

    // Applied once: ECS runs what the schedule wants, from one UpdateService.
    assert_eq!(w.service(&slug).await.desired_count(), 2);
    let updates: Vec<Value> = w.reached_moto("UpdateService").split_off(updates_before);
    assert_eq!(updates.len(), 1, "one UpdateService reached ECS: {updates:?}");
    assert_eq!(updates[0]["desiredCount"], 2, "{updates:?}");

    second.kill();
    assert_intact(&w.db_path(), "after the restarted console was killed").await;
    // Recorded once: the unanswered attempt as not done (ECS never got it), then one act done,
    // and one `schedule.scale` in the audit log.
    let acts = scheduler_acts(&w.db_path(), &slug).await;
    let audited = audit_rows(&w.db_path(), "schedule.scale", &slug).await;
    let outcomes: Vec<&str> = acts.iter().map(|(_, _, _, outcome)| outcome.as_str()).collect();
    // A request ECS never got is recorded as an attempt not done before the act that is.
    let expected: &[&str] = if fault == Fault::HoldRequest { &["failed", "ok"] } else { &["ok"] };
    assert!(
        outcomes == expected && audited.len() == 1,
        "the killed attempt must be recorded as not done and the transition as done exactly once; \
         history: {acts:?}; schedule.scale audit rows: {audited:?}"
    );
    let (action, from, to, _) = acts.last().expect("an act");
    assert!(action == "scale" || action == "catch_up", "{acts:?}");
    assert_eq!((from, to), (&Some(0), &Some(2)), "{acts:?}");
    assert_eq!(audited[0].0, "scheduler");
}

/// Killed after ECS applied the scheduler's change, before the console heard back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transition_killed_after_ecs_applied_it_is_applied_once_and_recorded_once() {
    transition_survives_a_kill(Fault::HoldAnswer).await;
}

/// Killed before the scheduler's change reached ECS: the restarted scheduler applies it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transition_killed_before_it_reached_ecs_is_applied_once_by_the_restarted_scheduler() {
    transition_survives_a_kill(Fault::HoldRequest).await;
}
