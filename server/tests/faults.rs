//! Fault injection: the console's real AWS adapters, with ShinyFleet's own retry policy and
//! timeouts, talking to moto's server through [`FaultProxy`], which throttles, fails, slows,
//! drops and refuses what a test tells it to.
//!
//! The first two tests drive an adapter alone. The others run a whole console
//! ([`TestConsole`]) whose fleet and registry are [`EcsFleet`] and [`EcrRegistry`] on a moto
//! cluster of their own, reached through the proxy: pages and `/api/v1` requests over HTTP,
//! the poller ([`Poller::cycle`]) and the scheduler ([`Scheduler::pass`]) called directly on
//! the console's manual clock. They check what the tracker asks of a console whose cloud
//! misbehaves during a poll cycle, a deploy and a scheduled transition: it keeps serving
//! pages, marks its data stale, retries with backoff, never deploys twice and never loses an
//! audit row. The proxy counts what reached moto, so "exactly once" is counted where ECS
//! would count it.
//!
//! Run with `cargo test -p server --test faults` (moto starts by itself; set `MOTO_ENDPOINT`
//! to use a running one).

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

use aws_config::timeout::TimeoutConfig;
use aws_config::SdkConfig;
use aws_sdk_ecs::config::{AsyncSleep, SharedAsyncSleep, Sleep};
use chrono::{DateTime, Utc};
use cloud::aws::EcsFleet;
use domain::error::CloudError;
use domain::fleet::{Fleet, TaskFilter};
use ecs_console::EcsConsole;
use fault_proxy::{Fault, FaultProxy, Seen};
use moto::unique;
use reqwest::Method;
use serde_json::{json, Value};
use server::refresher::{Call, Poller, RefreshError};
use server::scheduler::Scheduler;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::TestConsole;

/// moto's SDK configuration pointed at a new proxy, with the console's retries and timeouts
/// (`cloud::aws::retry_config`, `cloud::aws::timeout_config`) instead of the tests' none.
async fn through_proxy() -> (SdkConfig, FaultProxy) {
    through_proxy_with(cloud::aws::timeout_config()).await
}

/// [`through_proxy`] with other timeouts (the console's retry policy all the same).
async fn through_proxy_with(timeouts: TimeoutConfig) -> (SdkConfig, FaultProxy) {
    let proxy = FaultProxy::start(moto::endpoint().await).await;
    let config = moto::sdk_config()
        .await
        .to_builder()
        .endpoint_url(&proxy.url)
        .retry_config(cloud::aws::retry_config())
        .timeout_config(timeouts)
        .build();
    (config, proxy)
}

/// The SDK's sleeps (the retry layer's backoffs and its timeouts' timers), recorded and then
/// really slept on tokio.
#[derive(Clone, Debug, Default)]
struct RecordedSleeps(Arc<Mutex<Vec<Duration>>>);

impl AsyncSleep for RecordedSleeps {
    fn sleep(&self, duration: Duration) -> Sleep {
        self.0.lock().unwrap().push(duration);
        Sleep::new(tokio::time::sleep(duration))
    }
}

impl RecordedSleeps {
    /// Everything recorded so far, forgotten.
    fn take(&self) -> Vec<Duration> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

async fn cluster(config: &SdkConfig) -> String {
    let name = moto::unique("faults");
    aws_sdk_ecs::Client::new(config).create_cluster().cluster_name(&name).send().await.expect("cluster created");
    name
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried_with_backoff_and_then_reported_as_transient() {
    let (config, proxy) = through_proxy().await;
    let sleeps = RecordedSleeps::default();
    let config = config.to_builder().sleep_impl(SharedAsyncSleep::new(sleeps.clone())).build();
    let fleet = EcsFleet::new(&config, cluster(&config).await);

    // The timers an unretried call sets (its timeouts' and the HTTP client's), to tell them
    // from backoffs.
    fleet.probe().await.expect("an unfaulted call");
    let timers = sleeps.take();
    assert!(!timers.is_empty(), "the SDK does not sleep through the recorder");

    // Two throttled answers, then moto's: the third attempt succeeds, after a backoff.
    proxy.inject("ListTasks", Fault::Throttle, 2);
    let started = Instant::now();
    fleet.list_cluster_tasks(TaskFilter::Running).await.expect("the third attempt succeeds");
    let elapsed = started.elapsed();
    assert_eq!((proxy.count("ListTasks"), proxy.forwarded("ListTasks")), (3, 1));
    // The waits the retry layer asked for: one before each retry, exponential with full jitter
    // (a random share of 1 s, then of 2 s), and really waited.
    let waits: Vec<Duration> = sleeps.take().into_iter().filter(|d| !timers.contains(d)).collect();
    let [first, second] = waits[..] else { panic!("one wait before each of the two retries: {waits:?}") };
    assert!(first > Duration::ZERO && first < Duration::from_secs(1), "first backoff: {first:?}");
    assert!(second > Duration::ZERO && second < Duration::from_secs(2), "second backoff: {second:?}");
    assert!(elapsed >= first + second, "{elapsed:?} is shorter than the waits {waits:?}");

    // Three 500s exhaust the three attempts: a transient error the caller can retry later.
    proxy.inject("ListTasks", Fault::ServerError, 3);
    let failed = fleet.list_cluster_tasks(TaskFilter::Running).await.expect_err("three 500s");
    assert!(matches!(failed, CloudError::Unavailable(_)), "{failed:?}");
    assert_eq!(proxy.count("ListTasks"), 6);

    // Throttled three times: reported as throttling.
    proxy.inject("ListTasks", Fault::Throttle, 3);
    let throttled = fleet.list_cluster_tasks(TaskFilter::Running).await.expect_err("three throttles");
    assert_eq!(throttled, CloudError::Throttled);
}

#[tokio::test]
async fn refused_and_dropped_connections_are_transient_and_the_adapter_recovers() {
    let (config, proxy) = through_proxy().await;
    let fleet = EcsFleet::new(&config, cluster(&config).await);

    proxy.refuse_connections();
    let refused = fleet.list_cluster_tasks(TaskFilter::Running).await.expect_err("nothing listens");
    assert!(matches!(refused, CloudError::Unavailable(_)), "{refused:?}");
    proxy.accept_connections();
    fleet.list_cluster_tasks(TaskFilter::Running).await.expect("listening again");

    proxy.inject("ListTasks", Fault::Drop, 3);
    let dropped = fleet.list_cluster_tasks(TaskFilter::Running).await.expect_err("no answer three times");
    assert!(matches!(dropped, CloudError::Unavailable(_)), "{dropped:?}");
    fleet.list_cluster_tasks(TaskFilter::Running).await.expect("answers again");
}

// ---------------------------------------------------------------------------------------
// A whole console on moto, through the proxy
// ---------------------------------------------------------------------------------------

/// An image outside ECR: a deploy registers it as it is, without asking ECR for a digest.
const IMAGE: &str = "ghcr.io/example/shiny-app:v1";

/// A console whose fleet and registry are the AWS adapters on a fresh moto cluster, reached
/// through a [`FaultProxy`]; the admin signed in; moto's ECS straight, to look behind it.
struct Setup {
    c: TestConsole,
    admin: reqwest::Client,
    proxy: FaultProxy,
    /// moto's ECS, not through the proxy.
    ecs: aws_sdk_ecs::Client,
    cluster: String,
}

/// An answer of the API: its status, its JSON body, and whether it replays an earlier
/// request (`Idempotent-Replayed: true`).
#[derive(Debug)]
struct Answer {
    status: u16,
    body: Value,
    replayed: bool,
}

impl Setup {
    /// With the console's own retry policy and timeouts.
    async fn new() -> Self {
        Self::with_timeouts(cloud::aws::timeout_config()).await
    }

    async fn with_timeouts(timeouts: TimeoutConfig) -> Self {
        let (console_config, proxy) = through_proxy_with(timeouts).await;
        let EcsConsole { c, admin, ecs, cluster, .. } = ecs_console::start(&console_config, "faults").await;
        Self { c, admin, proxy, ecs, cluster }
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>, key: Option<&str>) -> Answer {
        send(&self.admin, method, &self.c.url(path), body, key).await
    }

    /// Registers an app of two tasks running `image`.
    async fn create_app(&self, slug: &str, image: &str) {
        let body = json!({ "slug": slug, "name": format!("App {slug}"), "image": image, "desired_count": 2 });
        let created = self.send(Method::POST, "/api/v1/apps", Some(body), None).await;
        assert_eq!(created.status, 201, "{}", created.body);
    }

    /// `POST /api/v1/apps/{slug}/deploys` with no body and an optional idempotency key.
    async fn deploy(&self, slug: &str, key: Option<&str>) -> Answer {
        self.send(Method::POST, &format!("/api/v1/apps/{slug}/deploys"), None, key).await
    }

    /// Registers and deploys an app; its deploy stays in progress (moto runs no tasks).
    async fn deployed(&self, slug: &str) {
        self.create_app(slug, IMAGE).await;
        let started = self.deploy(slug, None).await;
        assert_eq!(started.status, 202, "{}", started.body);
    }

    /// `GET` as the admin, which must answer 200: the body as text.
    async fn page(&self, path: &str) -> String {
        let res = self.admin.get(self.c.url(path)).send().await.expect("the console answers");
        assert_eq!(res.status(), 200, "GET {path}");
        res.text().await.expect("a body")
    }

    /// The console's rows of `table` for the app.
    async fn rows(&self, table: &str, slug: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table} t JOIN apps a ON a.id = t.app_id WHERE a.slug = ?");
        sqlx::query_scalar(&sql).bind(slug).fetch_one(&self.c.state.pool).await.expect("count")
    }

    /// The audit rows of `action` about the app.
    async fn audit_rows(&self, action: &str, slug: &str) -> Vec<(String, Value)> {
        let rows: Vec<(String, Option<String>)> =
            sqlx::query_as("SELECT actor, after_json FROM audit_log WHERE action = ? AND target = ? ORDER BY id")
                .bind(action)
                .bind(slug)
                .fetch_all(&self.c.state.pool)
                .await
                .expect("audit");
        rows.into_iter()
            .map(|(actor, after)| (actor, after.map_or(Value::Null, |a| serde_json::from_str(&a).expect("JSON"))))
            .collect()
    }

    /// The app's cached status: since when it is stale, and why.
    async fn stale(&self, slug: &str) -> (Option<DateTime<Utc>>, Option<String>) {
        sqlx::query_as(
            "SELECT s.stale_since, s.last_error FROM service_status s JOIN apps a ON a.id = s.app_id WHERE a.slug = ?",
        )
        .bind(slug)
        .fetch_one(&self.c.state.pool)
        .await
        .expect("a cached status")
    }

    fn now(&self) -> DateTime<Utc> {
        domain::Clock::now(self.c.clock.as_ref())
    }

    /// Sets the console's clock to `at` (UTC, RFC 3339).
    fn at(&self, at: &str) {
        let target: DateTime<Utc> = at.parse().expect("an instant");
        self.c.clock.advance(target - self.now());
    }

    /// The app's services in moto that are not deleted.
    async fn services(&self, slug: &str) -> Vec<aws_sdk_ecs::types::Service> {
        let out = self.ecs.describe_services().cluster(&self.cluster).services(slug).send().await.expect("described");
        out.services().iter().filter(|s| s.status() == Some("ACTIVE")).cloned().collect()
    }

    /// How many revisions of the app's task-definition family moto holds.
    async fn revisions(&self, slug: &str) -> usize {
        let out = self.ecs.list_task_definitions().family_prefix(slug).send().await.expect("listed");
        let family = format!("task-definition/{slug}:");
        out.task_definition_arns().iter().filter(|arn| arn.contains(&family)).count()
    }

    /// Every request of `operation` about the app that the proxy received, oldest first.
    fn sent(&self, operation: &str, slug: &str) -> Vec<Seen> {
        about(&self.proxy.seen(), operation, slug)
    }

    /// How many of those reached moto.
    fn reached(&self, operation: &str, slug: &str) -> usize {
        self.sent(operation, slug).iter().filter(|s| reached_moto(s)).count()
    }

    /// Refuses connections, and waits until nothing listens.
    async fn refuse(&self) {
        self.proxy.refuse_connections();
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(self.proxy.addr()).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("the proxy still accepts connections");
    }

    /// Accepts connections again, and waits until the proxy listens.
    async fn accept(&self) {
        self.proxy.accept_connections();
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(self.proxy.addr()).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("the proxy does not listen again");
    }
}

async fn send(client: &reqwest::Client, method: Method, url: &str, body: Option<Value>, key: Option<&str>) -> Answer {
    let mut request = client.request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    let res = request.send().await.expect("the console answers");
    let status = res.status().as_u16();
    let replayed = res.headers().get("idempotent-replayed").is_some_and(|v| v == "true");
    let text = res.text().await.expect("a body");
    Answer { status, body: serde_json::from_str(&text).unwrap_or(Value::String(text)), replayed }
}

/// The requests of `operation` whose body names `slug` (as a whole JSON string).
fn about(seen: &[Seen], operation: &str, slug: &str) -> Vec<Seen> {
    let quoted = format!("\"{slug}\"");
    seen.iter()
        .filter(|s| s.operation == operation && String::from_utf8_lossy(&s.body).contains(&quoted))
        .cloned()
        .collect()
}

/// Whether moto received the request (as [`FaultProxy::forwarded`] counts: a request met
/// while the proxy refused connections is counted there too, so tests that refuse count
/// around that window).
fn reached_moto(seen: &Seen) -> bool {
    matches!(seen.fault, None | Some(Fault::Slow(_) | Fault::LoseAnswer | Fault::HoldAnswer | Fault::HoldRequest))
}

fn body(seen: &Seen) -> Value {
    serde_json::from_slice(&seen.body).expect("a JSON request")
}

/// The distinct client tokens of `CreateService` requests.
fn client_tokens(sent: &[Seen]) -> Vec<String> {
    let mut tokens: Vec<String> =
        sent.iter().map(|s| body(s)["clientToken"].as_str().expect("a client token").to_owned()).collect();
    tokens.sort();
    tokens.dedup();
    tokens
}

// ---------------------------------------------------------------------------------------
// A poll cycle
// ---------------------------------------------------------------------------------------

/// The Fleet page and the API answer 200 for every app, from the console's cache, and show
/// the view as stale or not.
async fn pages_show(s: &Setup, slugs: &[String], stale: bool) {
    let fleet = s.page("/").await;
    for slug in slugs {
        assert!(fleet.contains(slug.as_str()), "the Fleet page lists {slug}");
    }
    assert_eq!(fleet.contains("stale since"), stale, "the Fleet page says whether its data is stale");
    let listed: Value = serde_json::from_str(&s.page("/api/v1/apps").await).expect("JSON");
    assert_eq!(listed.as_array().map(Vec::len), Some(slugs.len()), "{listed}");
    for slug in slugs {
        let app: Value = serde_json::from_str(&s.page(&format!("/api/v1/apps/{slug}")).await).expect("JSON");
        assert_eq!(app["live"]["stale_since"].is_string(), stale, "{app}");
    }
}

#[tokio::test]
async fn a_poll_cycle_under_throttling_500s_a_held_call_and_refused_connections_keeps_pages_up_and_backs_off() {
    let s = Setup::new().await;
    let slugs = [unique("sales"), unique("trials")];
    for slug in &slugs {
        s.deployed(slug).await;
    }
    let mut poller = Poller::new(Duration::from_secs(15));
    let done = poller.cycle(&s.c.state).await.expect("a cycle");
    assert_eq!((done.apps, done.failed.len(), done.skipped.len()), (2, 0, 0), "{done:?}");
    pages_show(&s, &slugs, false).await;

    // DescribeServices throttled three times: the SDK's three attempts are spent, the cycle
    // absorbs the failure, the tasks are read all the same, and the view is marked stale.
    let described = s.proxy.count("DescribeServices");
    let listed = s.proxy.count("ListTasks");
    s.c.advance(15);
    let throttled_at = s.now();
    s.proxy.inject("DescribeServices", Fault::Throttle, 3);
    let done = poller.cycle(&s.c.state).await.expect("cloud failures are absorbed");
    assert_eq!((done.failed.as_slice(), done.skipped.as_slice()), (&[Call::Services][..], &[][..]));
    assert_eq!(s.proxy.count("DescribeServices"), described + 3, "three attempts");
    assert_eq!(s.proxy.count("ListTasks"), listed + 2, "the tasks were read");
    for slug in &slugs {
        assert_eq!(s.stale(slug).await, (Some(throttled_at), Some("the cloud is throttling requests".into())));
    }
    pages_show(&s, &slugs, true).await;

    // 15 s on, DescribeServices waits out its backoff (30 s after one failure): not even
    // tried, while the tasks are read.
    let described = s.proxy.count("DescribeServices");
    let listed = s.proxy.count("ListTasks");
    s.c.advance(15);
    let done = poller.cycle(&s.c.state).await.expect("a cycle");
    assert_eq!((done.failed.as_slice(), done.skipped.as_slice()), (&[][..], &[Call::Services][..]));
    assert_eq!(s.proxy.count("DescribeServices"), described, "backing off: no DescribeServices");
    assert_eq!(s.proxy.count("ListTasks"), listed + 2);

    // Due again: three 500s. The wait doubles (60 s); the view stays stale since the first
    // failure, with the new reason.
    s.c.advance(15);
    s.proxy.inject("DescribeServices", Fault::ServerError, 3);
    let done = poller.cycle(&s.c.state).await.expect("cloud failures are absorbed");
    assert_eq!(done.failed, [Call::Services]);
    assert_eq!(poller.failures(Call::Services), 2);
    assert_eq!(s.proxy.count("DescribeServices"), described + 3);
    assert_eq!(s.proxy.forwarded("DescribeServices"), s.proxy.count("DescribeServices") - 6, "none reached moto");
    let reason = "the cloud is unavailable: the service failed (HTTP 500)";
    assert_eq!(s.stale(&slugs[0]).await, (Some(throttled_at), Some(reason.into())));
    s.c.advance(30);
    let done = poller.cycle(&s.c.state).await.expect("a cycle");
    assert_eq!(done.skipped, [Call::Services], "30 s into a 60 s backoff");
    assert_eq!(s.proxy.count("DescribeServices"), described + 3);

    // Due again, and ECS is slow: DescribeServices is held at the proxy while the Fleet page
    // and the API are asked for. They answer from the cache (still stale) before ECS does.
    s.c.advance(30);
    s.proxy.inject("DescribeServices", Fault::HoldRequest, 1);
    let state = s.c.state.clone();
    let polling = tokio::spawn(async move {
        let done = poller.cycle(&state).await;
        (poller, done)
    });
    s.proxy.wait_held(1, Duration::from_secs(10)).await;
    let asked = Instant::now();
    pages_show(&s, &slugs, true).await;
    assert!(!polling.is_finished(), "the pages answered while the poll waited for ECS");
    assert!(asked.elapsed() < Duration::from_secs(5), "the pages took {:?}", asked.elapsed());
    s.proxy.release();
    let (returned, done) = polling.await.expect("the cycle ran");
    poller = returned;
    let done = done.expect("a cycle");
    assert_eq!((done.failed.len(), done.skipped.len()), (0, 0), "{done:?}");
    assert_eq!(poller.failures(Call::Services), 0);
    for slug in &slugs {
        assert_eq!(s.stale(slug).await, (None, None), "the answer clears the stale marker");
    }
    pages_show(&s, &slugs, false).await;

    // Nothing listens: refresh_once reports it, a poller absorbs it, both kinds of call back
    // off, and the pages go on answering, stale.
    s.c.advance(15);
    s.refuse().await;
    let reported = server::refresher::refresh_once(&s.c.state).await;
    assert!(matches!(reported, Err(RefreshError::Cloud(CloudError::Unavailable(_)))), "{reported:?}");
    let done = poller.cycle(&s.c.state).await.expect("cloud failures are absorbed");
    assert_eq!(done.failed, [Call::Services, Call::Tasks]);
    let (since, reason) = s.stale(&slugs[1]).await;
    assert_eq!(since, Some(s.now()));
    assert!(reason.as_deref().is_some_and(|r| r.contains("could not be reached")), "{reason:?}");
    pages_show(&s, &slugs, true).await;
    s.accept().await;
    let seen = s.proxy.seen().len();
    s.c.advance(15);
    let done = poller.cycle(&s.c.state).await.expect("a cycle");
    assert_eq!(done.skipped, [Call::Services, Call::Tasks]);
    assert_eq!(s.proxy.seen().len(), seen, "nothing was tried during the backoff");
    pages_show(&s, &slugs, true).await;

    // The backoff over, the cloud answers: the stale marker goes.
    s.c.advance(15);
    let done = poller.cycle(&s.c.state).await.expect("a cycle");
    assert_eq!((done.failed.len(), done.skipped.len()), (0, 0), "{done:?}");
    assert!(s.proxy.seen().len() > seen);
    for slug in &slugs {
        assert_eq!(s.stale(slug).await, (None, None));
    }
    pages_show(&s, &slugs, false).await;
}

#[tokio::test]
async fn answers_slower_than_the_attempt_timeout_fail_the_poll_and_a_slow_create_service_is_sent_again_unchanged() {
    // The console's policy (three attempts) with a 1 s attempt instead of its 10 s, so that
    // three timed-out attempts fit in a test.
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(1))
        .operation_timeout(Duration::from_secs(10))
        .build();
    let s = Setup::with_timeouts(timeouts).await;
    let slug = unique("slow");
    s.create_app(&slug, IMAGE).await;

    // CreateService answers after the attempt gave up: the SDK sends it again, with the same
    // client token (so ECS creates the service once), and the deploy starts once.
    s.proxy.inject("CreateService", Fault::Slow(Duration::from_millis(1500)), 1);
    let started = s.deploy(&slug, Some("slow-1")).await;
    assert_eq!((started.status, started.replayed), (202, false), "{}", started.body);
    let creates = s.sent("CreateService", &slug);
    assert!(creates.len() >= 2, "the slow attempt was sent again: {}", creates.len());
    assert_eq!(client_tokens(&creates).len(), 1, "every attempt is the same request");
    assert_eq!(s.services(&slug).await.len(), 1);
    assert_eq!(s.rows("deploys", &slug).await, 1);
    assert_eq!(s.audit_rows("app.deploy", &slug).await.len(), 1);

    // Every DescribeServices outlasts its attempt: the cycle fails after three timeouts,
    // and the pages answer meanwhile.
    let mut poller = Poller::new(Duration::from_secs(15));
    let described = s.proxy.count("DescribeServices");
    s.proxy.inject_always("DescribeServices", Fault::Slow(Duration::from_millis(1500)));
    let state = s.c.state.clone();
    let polling = tokio::spawn(async move {
        let done = poller.cycle(&state).await;
        (poller, done)
    });
    s.proxy.wait_for("DescribeServices", described + 1, Duration::from_secs(10)).await;
    let slugs = [slug.clone()];
    pages_show(&s, &slugs, false).await;
    assert!(!polling.is_finished(), "the pages answered while the poll waited for ECS");
    let (returned, done) = polling.await.expect("the cycle ran");
    poller = returned;
    assert_eq!(done.expect("cloud failures are absorbed").failed, [Call::Services]);
    assert_eq!(s.proxy.count("DescribeServices"), described + 3, "three attempts");
    let (since, reason) = s.stale(&slug).await;
    assert_eq!((since, reason.as_deref()), (Some(s.now()), Some("the cloud is unavailable: the request timed out")));
    pages_show(&s, &slugs, true).await;

    // ECS is quick again: after the backoff the view is fresh.
    s.proxy.clear();
    s.c.advance(30);
    let done = poller.cycle(&s.c.state).await.expect("a cycle");
    assert_eq!((done.failed.len(), done.skipped.len()), (0, 0), "{done:?}");
    assert_eq!(s.stale(&slug).await, (None, None));
}

// ---------------------------------------------------------------------------------------
// A deploy
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_throttled_deploy_is_retried_and_registers_and_creates_exactly_once() {
    let s = Setup::new().await;

    // Throttled once at each step: the SDK's retries get through, once each.
    let slug = unique("sales");
    s.create_app(&slug, IMAGE).await;
    s.proxy.inject("RegisterTaskDefinition", Fault::Throttle, 1);
    s.proxy.inject("CreateService", Fault::Throttle, 1);
    let started = s.deploy(&slug, Some("ci-1")).await;
    assert_eq!((started.status, started.replayed), (202, false), "{}", started.body);
    assert_eq!((&started.body["state"], &started.body["revision"]), (&json!("IN_PROGRESS"), &json!(1)));
    let (registers, creates) = (s.sent("RegisterTaskDefinition", &slug), s.sent("CreateService", &slug));
    assert_eq!((registers.len(), s.reached("RegisterTaskDefinition", &slug)), (2, 1));
    assert_eq!((creates.len(), s.reached("CreateService", &slug)), (2, 1));
    assert_eq!((s.services(&slug).await.len(), s.revisions(&slug).await), (1, 1));
    assert_eq!(s.rows("deploys", &slug).await, 1);
    assert_eq!(s.audit_rows("app.deploy", &slug).await.len(), 1);

    // Throttled past the SDK's attempts at registering: 503, and nothing kept anywhere.
    let other = unique("trials");
    s.create_app(&other, IMAGE).await;
    s.proxy.inject("RegisterTaskDefinition", Fault::Throttle, 3);
    let refused = s.deploy(&other, Some("ci-2")).await;
    assert_eq!((refused.status, &refused.body["error"]["code"]), (503, &json!("unavailable")), "{}", refused.body);
    assert_eq!((s.rows("deploys", &other).await, s.audit_rows("app.deploy", &other).await.len()), (0, 0));
    assert_eq!((s.revisions(&other).await, s.services(&other).await.len()), (0, 0));

    // Then at creating the service: throttling is an answer (ECS did not create it), so the
    // claim is dropped again; only an unused revision stays registered.
    s.proxy.inject("CreateService", Fault::Throttle, 3);
    let refused = s.deploy(&other, Some("ci-2")).await;
    assert_eq!((refused.status, &refused.body["error"]["code"]), (503, &json!("unavailable")), "{}", refused.body);
    assert_eq!(s.reached("CreateService", &other), 0);
    assert_eq!((s.rows("deploys", &other).await, s.audit_rows("app.deploy", &other).await.len()), (0, 0));
    assert_eq!((s.revisions(&other).await, s.services(&other).await.len()), (1, 0));

    // The same request once ECS answers: one deploy, one service, one audit row.
    let started = s.deploy(&other, Some("ci-2")).await;
    assert_eq!((started.status, started.replayed), (202, false), "{}", started.body);
    assert_eq!(started.body["revision"], 2, "the unused revision 1 stays unused");
    assert_eq!(s.reached("CreateService", &other), 1);
    assert_eq!(s.services(&other).await.len(), 1);
    assert_eq!(s.rows("deploys", &other).await, 1);
    assert_eq!(s.audit_rows("app.deploy", &other).await.len(), 1);
}

#[tokio::test]
async fn a_lost_or_late_answer_during_a_deploy_never_creates_a_second_service_nor_a_second_deploy() {
    let s = Setup::new().await;

    // CreateService's answer lost once: the SDK sends the same request again (one client
    // token: ECS creates the service once), and the deploy starts once.
    let once = unique("sales");
    s.create_app(&once, IMAGE).await;
    s.proxy.inject("CreateService", Fault::LoseAnswer, 1);
    let started = s.deploy(&once, Some("ci-1")).await;
    assert_eq!((started.status, started.replayed), (202, false), "{}", started.body);
    let creates = s.sent("CreateService", &once);
    assert_eq!((creates.len(), client_tokens(&creates).len()), (2, 1));
    assert_eq!(s.services(&once).await.len(), 1);
    assert_eq!((s.rows("deploys", &once).await, s.audit_rows("app.deploy", &once).await.len()), (1, 1));

    // Lost three times: ECS created the service, the console never heard. The deploy is kept
    // (in progress, audited), not dropped and not started again.
    let lost = unique("trials");
    s.create_app(&lost, IMAGE).await;
    s.proxy.inject("CreateService", Fault::LoseAnswer, 3);
    let kept = s.deploy(&lost, Some("ci-2")).await;
    assert_eq!((kept.status, kept.replayed), (202, false), "{}", kept.body);
    assert_eq!((&kept.body["state"], &kept.body["revision"]), (&json!("IN_PROGRESS"), &json!(1)));
    let creates = s.sent("CreateService", &lost);
    assert_eq!((creates.len(), client_tokens(&creates).len()), (3, 1), "three attempts of one request");
    assert_eq!(s.services(&lost).await.len(), 1);
    let sent = s.proxy.seen().len();
    // The CI job retries with its key: the same deploy, and nothing sent to ECS.
    let again = s.deploy(&lost, Some("ci-2")).await;
    assert_eq!((again.status, again.replayed, &again.body["id"]), (202, true, &kept.body["id"]), "{}", again.body);
    // Another key while it rolls out: refused, nothing sent.
    let busy = s.deploy(&lost, Some("ci-3")).await;
    assert_eq!((busy.status, &busy.body["error"]["code"]), (409, &json!("conflict")), "{}", busy.body);
    assert_eq!(s.proxy.seen().len(), sent, "no call to AWS");
    // The poller follows it: the service runs its revision, the rollout goes on.
    let refreshed = server::refresher::refresh_once(&s.c.state).await.expect("refreshed");
    assert!(refreshed.rolling_out);
    let app: Value = serde_json::from_str(&s.page(&format!("/api/v1/apps/{lost}")).await).expect("JSON");
    assert_eq!((&app["live"]["state"], &app["live"]["revision"]), (&json!("deploying"), &json!(1)), "{app}");
    let followed: Value = serde_json::from_str(&s.page(&format!("/api/v1/deploys/{}", kept.body["id"])).await).unwrap();
    assert_eq!(followed["state"], "IN_PROGRESS");
    assert_eq!((s.rows("deploys", &lost).await, s.audit_rows("app.deploy", &lost).await.len()), (1, 1));

    // A CI job whose request is slow to answer retries while the first is still in flight:
    // it gets the same deploy at once, and the deploy registers and creates once.
    let held = unique("forecast");
    s.create_app(&held, IMAGE).await;
    s.proxy.inject("RegisterTaskDefinition", Fault::HoldRequest, 1);
    let (client, url) = (s.admin.clone(), s.c.url(&format!("/api/v1/apps/{held}/deploys")));
    let first = tokio::spawn(async move { send(&client, Method::POST, &url, None, Some("ci-4")).await });
    s.proxy.wait_held(1, Duration::from_secs(10)).await;
    let retry = s.deploy(&held, Some("ci-4")).await;
    assert_eq!((retry.status, retry.replayed, &retry.body["state"]), (202, true, &json!("IN_PROGRESS")));
    s.proxy.release();
    let first = first.await.expect("the first request ran");
    assert_eq!((first.status, first.replayed, &first.body["id"]), (202, false, &retry.body["id"]), "{}", first.body);
    assert_eq!((s.reached("RegisterTaskDefinition", &held), s.reached("CreateService", &held)), (1, 1));
    assert_eq!(s.services(&held).await.len(), 1);
    assert_eq!((s.rows("deploys", &held).await, s.audit_rows("app.deploy", &held).await.len()), (1, 1));
}

#[tokio::test]
async fn refused_connections_during_a_deploy_answer_503_keep_nothing_and_the_same_request_succeeds_later() {
    let s = Setup::new().await;
    let repo = ecr::Repository::new(&moto::sdk_config().await).await;
    let digest = repo.push("v1").await;
    let slug = unique("sales");
    s.create_app(&slug, &repo.image("v1")).await;

    // Nothing listens: ECR cannot be asked for the digest. A 503 (not a 500) that says to
    // retry, and nothing in the database or in ECS; the pages go on answering.
    s.refuse().await;
    let refused = s.deploy(&slug, Some("ci-1")).await;
    assert_eq!((refused.status, &refused.body["error"]["code"]), (503, &json!("unavailable")), "{}", refused.body);
    assert_eq!(refused.body["error"]["message"], "The cloud is not answering right now; try again in a moment.");
    assert_eq!((s.rows("deploys", &slug).await, s.audit_rows("app.deploy", &slug).await.len()), (0, 0));
    assert_eq!(s.page(&format!("/api/v1/apps/{slug}/deploys")).await, "[]");
    s.page("/").await;
    s.accept().await;
    assert_eq!((s.revisions(&slug).await, s.services(&slug).await.len()), (0, 0), "nothing half-registered");

    // The same request once the cloud is back: started, pinned to the digest, once.
    let started = s.deploy(&slug, Some("ci-1")).await;
    assert_eq!((started.status, started.replayed), (202, false), "{}", started.body);
    assert_eq!((&started.body["digest"], &started.body["revision"]), (&json!(digest), &json!(1)));
    assert_eq!((s.revisions(&slug).await, s.services(&slug).await.len()), (1, 1));
    assert_eq!((s.rows("deploys", &slug).await, s.audit_rows("app.deploy", &slug).await.len()), (1, 1));

    // Refused between registering the revision and the service change: the console cannot
    // tell whether ECS took the change, so it keeps the deploy (audited) and follows it. No
    // CreateService reached ECS; ECS never shows the deploy, which fails after the grace
    // period; the app then deploys as usual, once.
    let late = unique("trials");
    s.create_app(&late, IMAGE).await;
    s.proxy.inject("UpdateService", Fault::HoldRequest, 1);
    let (client, url) = (s.admin.clone(), s.c.url(&format!("/api/v1/apps/{late}/deploys")));
    let request = tokio::spawn(async move { send(&client, Method::POST, &url, None, Some("ci-2")).await });
    s.proxy.wait_held(1, Duration::from_secs(10)).await;
    s.refuse().await;
    s.proxy.release();
    let kept = request.await.expect("the request ran");
    assert_eq!((kept.status, &kept.body["state"]), (202, &json!("IN_PROGRESS")), "{}", kept.body);
    s.accept().await;
    assert_eq!(s.sent("CreateService", &late).len(), 0, "ECS was never asked to create the service");
    assert_eq!((s.revisions(&late).await, s.services(&late).await.len()), (1, 0));
    assert_eq!((s.rows("deploys", &late).await, s.audit_rows("app.deploy", &late).await.len()), (1, 1));
    let again = s.deploy(&late, Some("ci-2")).await;
    assert_eq!((again.status, again.replayed, &again.body["id"]), (202, true, &kept.body["id"]));
    s.c.advance(domain::deploy::missing_grace().num_seconds() + 1);
    server::refresher::refresh_once(&s.c.state).await.expect("refreshed");
    let ended: Value = serde_json::from_str(&s.page(&format!("/api/v1/deploys/{}", kept.body["id"])).await).unwrap();
    assert_eq!((&ended["state"], &ended["reason"]), (&json!("FAILED"), &json!("the service no longer exists")));
    let started = s.deploy(&late, Some("ci-3")).await;
    assert_eq!((started.status, &started.body["revision"]), (202, &json!(2)), "{}", started.body);
    assert_eq!((s.reached("CreateService", &late), s.services(&late).await.len()), (1, 1));
    assert_eq!((s.rows("deploys", &late).await, s.audit_rows("app.deploy", &late).await.len()), (2, 2));
}

// ---------------------------------------------------------------------------------------
// A scheduled transition
// ---------------------------------------------------------------------------------------

/// Berlin office hours; the harness's clock starts on Monday 30 November 2026, 09:00 UTC
/// (10:00 in Berlin), so the next transition is at 17:00 UTC, to 0 tasks.
fn office_hours() -> Value {
    json!({
        "timezone": "Europe/Berlin",
        "windows": [{ "days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "18:00" }],
        "mode": "transitions",
    })
}

/// A deployed app of two tasks, seen by the poller, with office hours; a scheduler that has
/// made its first pass.
async fn scheduled() -> (Setup, String, Scheduler) {
    let s = Setup::new().await;
    let slug = unique("sales");
    s.deployed(&slug).await;
    server::refresher::refresh_once(&s.c.state).await.expect("refreshed");
    let saved = s.send(Method::PUT, &format!("/api/v1/apps/{slug}/schedule"), Some(office_hours()), None).await;
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert_eq!(saved.body["next_transitions"][0], json!({ "at": "2026-11-30T17:00:00Z", "desired": 0 }));
    let mut scheduler = Scheduler::new("console-a");
    let pass = scheduler.pass(&s.c.state).await.expect("a pass");
    assert_eq!((pass.acted, pass.failed), (0, 0));
    (s, slug, scheduler)
}

/// The app's schedule history but the saving: (to_count, outcome).
async fn history(s: &Setup, slug: &str) -> Vec<(Option<i64>, String)> {
    sqlx::query_as(
        "SELECT h.to_count, h.outcome FROM schedule_history h JOIN apps a ON a.id = h.app_id
         WHERE a.slug = ? AND h.action <> 'saved' ORDER BY h.id",
    )
    .bind(slug)
    .fetch_all(&s.c.state.pool)
    .await
    .expect("history")
}

/// Each UpdateService that only scales (the scheduler's, not a deploy's): (desired count,
/// reached moto).
fn updates(sent: &[Seen]) -> Vec<(Option<i64>, bool)> {
    sent.iter()
        .map(body)
        .zip(sent)
        .filter(|(body, _)| body.get("taskDefinition").is_none())
        .map(|(body, s)| (body["desiredCount"].as_i64(), reached_moto(s)))
        .collect()
}

#[tokio::test]
async fn a_scheduled_transition_throttled_500d_and_refused_backs_off_and_is_applied_exactly_once() {
    let (s, slug, mut scheduler) = scheduled().await;
    let desired = |s: &Setup| {
        let slug = slug.clone();
        let ecs = s.ecs.clone();
        let cluster = s.cluster.clone();
        async move {
            let out = ecs.describe_services().cluster(cluster).services(slug).send().await.expect("described");
            out.services()[0].desired_count()
        }
    };
    assert_eq!(desired(&s).await, 2);

    // 17:00, UpdateService throttled past the SDK's attempts: the act fails, recorded as
    // failed, nothing claims success, and the scheduler waits 15 s before trying again.
    s.at("2026-11-30T17:00:00Z");
    s.proxy.inject("UpdateService", Fault::Throttle, 3);
    let pass = scheduler.pass(&s.c.state).await.expect("a pass");
    assert_eq!((pass.acted, pass.failed), (0, 1));
    assert_eq!(updates(&s.sent("UpdateService", &slug)), [(Some(0), false); 3]);
    assert_eq!(history(&s, &slug).await, [(Some(0), "failed".into())]);
    assert!(s.audit_rows("schedule.scale", &slug).await.is_empty());
    assert_eq!(desired(&s).await, 2);
    assert_eq!(scheduler.next_delay(&pass, s.now()), Duration::from_secs(10), "the lease's renewal comes first");
    s.c.advance(10);
    let pass = scheduler.pass(&s.c.state).await.expect("a pass");
    assert_eq!((pass.acted, pass.failed, updates(&s.sent("UpdateService", &slug)).len()), (0, 0, 3), "not before 15 s");

    // 15 s after: three 500s. The next wait doubles to 30 s.
    s.c.advance(5);
    s.proxy.inject("UpdateService", Fault::ServerError, 3);
    let pass = scheduler.pass(&s.c.state).await.expect("a pass");
    assert_eq!((pass.acted, pass.failed, updates(&s.sent("UpdateService", &slug)).len()), (0, 1, 6));
    s.c.advance(29);
    scheduler.pass(&s.c.state).await.expect("a pass");
    assert_eq!(updates(&s.sent("UpdateService", &slug)).len(), 6, "not before 30 s");

    // 30 s after: nothing listens. The next wait doubles to 60 s.
    s.c.advance(1);
    let before = s.proxy.seen().len();
    s.refuse().await;
    let pass = scheduler.pass(&s.c.state).await.expect("a pass");
    assert_eq!((pass.acted, pass.failed), (0, 1));
    s.accept().await;
    let after = s.proxy.seen().len();
    s.c.advance(59);
    scheduler.pass(&s.c.state).await.expect("a pass");
    assert_eq!(s.proxy.seen().len(), after, "not before 60 s");
    // The throttled act is known not done. The 500s' outcome is unknown (ECS may have taken
    // it): pending until a pass can ask ECS, which the refused one could not.
    assert_eq!(history(&s, &slug).await, vec![(Some(0), "failed".to_owned())]);
    assert!(s.audit_rows("schedule.scale", &slug).await.is_empty(), "no act claimed");
    assert_eq!(desired(&s).await, 2);

    // 60 s after, the cloud answers: applied once.
    s.c.advance(1);
    let pass = scheduler.pass(&s.c.state).await.expect("a pass");
    assert_eq!((pass.acted, pass.failed), (1, 0));
    assert_eq!(desired(&s).await, 0);
    let seen = s.proxy.seen();
    // Before the refusal no UpdateService reached moto; while refused none could; after it, one.
    assert_eq!(updates(&about(&seen[..before], "UpdateService", &slug)), [(Some(0), false); 6]);
    assert_eq!(updates(&about(&seen[after..], "UpdateService", &slug)), [(Some(0), true)]);
    // The pending act found not done, then the act done.
    let mut outcomes = vec![(Some(0), "failed".to_owned()); 2];
    outcomes.push((Some(0), "ok".into()));
    assert_eq!(history(&s, &slug).await, outcomes);
    let audit = s.audit_rows("schedule.scale", &slug).await;
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!((audit[0].0.as_str(), &audit[0].1["desired_count"]), ("scheduler", &json!(0)));
    // And not again.
    s.c.advance(60);
    let pass = scheduler.pass(&s.c.state).await.expect("a pass");
    assert_eq!((pass.acted, pass.failed), (0, 0));
    assert_eq!(s.proxy.seen()[after..].iter().filter(|r| r.operation == "UpdateService").count(), 1);
}

/// The lost-answer case of a scheduled transition: ECS applied the new count, the console
/// never heard, and the poller (every 15 s by default, as often as the scheduler's first
/// retry) saw the new count before the retry. The change the scheduler made must still be
/// in the audit log, once.
///
/// The act is noted as pending before the request, and the retry's pass resolves it from
/// what ECS reports (`resolve_pending` in `app/src/ssr/schedules.rs`).
#[tokio::test]
async fn a_scheduled_transition_whose_answer_is_lost_is_still_audited_once() {
    let (s, slug, mut scheduler) = scheduled().await;
    s.at("2026-11-30T17:00:00Z");
    s.proxy.inject("UpdateService", Fault::LoseAnswer, 3);
    let pass = scheduler.pass(&s.c.state).await.expect("a pass");
    assert_eq!((pass.acted, pass.failed), (0, 1), "the console never heard");
    assert_eq!(updates(&s.sent("UpdateService", &slug)), [(Some(0), true); 3], "ECS took it");
    assert_eq!(s.services(&slug).await[0].desired_count(), 0);
    // The poller runs before the retry is due, and sees the count ECS runs now.
    s.c.advance(5);
    server::refresher::refresh_once(&s.c.state).await.expect("refreshed");
    s.c.advance(10);
    let pass = scheduler.pass(&s.c.state).await.expect("a pass");
    assert_eq!(pass.failed, 0);
    assert_eq!(updates(&s.sent("UpdateService", &slug)).len(), 3, "nothing left to send");
    let audit = s.audit_rows("schedule.scale", &slug).await;
    assert_eq!(
        audit.len(),
        1,
        "the transition to 0 the scheduler made is not in the audit log; history: {:?}",
        history(&s, &slug).await
    );
}
