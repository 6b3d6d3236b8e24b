//! `make bench`: every figure ShinyFleet claims about speed and memory, measured on this
//! machine with one command. Not a test (timings are never asserted): it prints each figure
//! next to its target, ends with a table, and writes the same to `bench/results.json`
//! (`BENCH_RESULTS` names another file). `bench/README.md` says how each is measured.
//!
//! Runs the real console (router, sessions, SQLite file) on the sandbox cloud, over
//! loopback only: the Fleet page and `GET /api/v1/apps` loaded by Debian's `wrk`, the
//! poller's AWS requests per cycle and CloudWatch metrics per app-hour counted at the ports,
//! schedule planning and scheduler lateness, and the real `shinyfleet` binary's start-up time
//! and memory (at rest, and with 200 apps after the polls of ten minutes). The browser
//! bundle's size is read from the release build `make bench` makes first.

use async_trait::async_trait;
use cloud::sandbox::{ManualClock, Sandbox};
use domain::definition::Network;
use domain::fleet::{
    Fleet, ServiceEvent, ServiceSpec, ServiceStatus, ServiceUpdate, TaskDefinitionRef, TaskDefinitionSpec, TaskFilter,
    TaskInfo,
};
use domain::metrics::{MetricWindow, Metrics, Series};
use domain::{AppDefinition, AppInput, Clock, CloudError};
use service::Cloud;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const APPS: usize = 200;
const TASKS_PER_APP: u32 = 2;
const PASSWORD: &str = "Bench-pass-2026";

/// A figure's target, as the issue states it.
#[derive(Clone, Copy)]
enum Target {
    AtLeast(f64),
    Below(f64),
    AtMost(f64),
    Equal(f64),
    /// Informational: no target.
    None,
}

impl Target {
    fn met(self, value: f64) -> Option<bool> {
        match self {
            Target::AtLeast(t) => Some(value >= t),
            Target::Below(t) => Some(value < t),
            Target::AtMost(t) => Some(value <= t),
            Target::Equal(t) => Some((value - t).abs() < 1e-9),
            Target::None => None,
        }
    }

    fn describe(self, unit: &str) -> Option<String> {
        match self {
            Target::AtLeast(t) => Some(format!(">= {t} {unit}")),
            Target::Below(t) => Some(format!("< {t} {unit}")),
            Target::AtMost(t) => Some(format!("<= {t} {unit}")),
            Target::Equal(t) => Some(format!("= {t} {unit}")),
            Target::None => None,
        }
    }
}

#[derive(serde::Serialize)]
struct Figure {
    key: &'static str,
    value: f64,
    unit: &'static str,
    target: Option<String>,
    met: Option<bool>,
    detail: String,
}

static FIGURES: Mutex<Vec<Figure>> = Mutex::new(Vec::new());

/// Keeps a figure for the final table and `results.json`.
fn record(key: &'static str, value: f64, unit: &'static str, target: Target, detail: impl Into<String>) {
    let figure =
        Figure { key, value, unit, target: target.describe(unit), met: target.met(value), detail: detail.into() };
    FIGURES.lock().expect("figures").push(figure);
}

/// The sandbox's ECS, counting what goes through the port: (calls, names or ARNs carried).
struct Counting {
    ecs: Arc<Sandbox>,
    calls: Mutex<Vec<(&'static str, usize)>>,
}

impl Counting {
    fn note(&self, method: &'static str, items: usize) {
        self.calls.lock().expect("lock").push((method, items));
    }
}

#[async_trait]
impl Fleet for Counting {
    async fn probe(&self) -> Result<(), CloudError> {
        self.ecs.probe().await
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
        self.note("DescribeServices", names.len());
        self.ecs.describe_services(names).await
    }
    async fn list_tasks(&self, service: &str, filter: TaskFilter) -> Result<Vec<String>, CloudError> {
        self.note("ListTasks (one service)", 1);
        self.ecs.list_tasks(service, filter).await
    }
    async fn list_cluster_tasks(&self, filter: TaskFilter) -> Result<Vec<String>, CloudError> {
        let arns = self.ecs.list_cluster_tasks(filter).await?;
        self.note("ListTasks", arns.len());
        Ok(arns)
    }
    async fn describe_tasks(&self, arns: &[String]) -> Result<Vec<TaskInfo>, CloudError> {
        self.note("DescribeTasks", arns.len());
        self.ecs.describe_tasks(arns).await
    }
    async fn stop_task(&self, arn: &str, reason: &str) -> Result<(), CloudError> {
        self.ecs.stop_task(arn, reason).await
    }
    async fn service_events(&self, service: &str, limit: usize) -> Result<Vec<ServiceEvent>, CloudError> {
        self.note("service_events", 1);
        self.ecs.service_events(service, limit).await
    }
}

/// The sandbox's CloudWatch, counting the metrics requested (two per service per call).
struct Metered {
    cloudwatch: Arc<Sandbox>,
    requested: AtomicUsize,
}

#[async_trait]
impl Metrics for Metered {
    async fn utilisation(&self, services: &[String], window: MetricWindow) -> Result<Vec<Series>, CloudError> {
        self.requested.fetch_add(services.len() * 2, Ordering::Relaxed);
        self.cloudwatch.utilisation(services, window).await
    }
}

/// The AWS requests one port call makes: ECS takes 10 services per DescribeServices, lists
/// 100 tasks per ListTasks page (an empty listing is one page) and describes 100 tasks per
/// DescribeTasks.
fn requests(method: &str, items: usize) -> usize {
    let per = match method {
        "DescribeServices" => 10,
        "ListTasks" | "DescribeTasks" => 100,
        _ => 1,
    };
    items.div_ceil(per).max(1)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let clients: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(16);
    let seconds: u64 = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(10);
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let config = server::config::ServeConfig::from_flags([
        "--database-url",
        &url,
        "--listen",
        "127.0.0.1:0",
        "--demo-password",
        PASSWORD,
    ])
    .expect("flags");
    let pool = server::db::connect(&config.database_url).await.expect("database");
    let clock = ManualClock::new("2026-11-30T09:00:00Z".parse().expect("instant"));
    let sandbox = Sandbox::new(clock.clone(), 7);
    server::seed::prepare_sandbox_users(&pool, &sandbox, &config).await.expect("users");

    // 200 apps of two tasks each, deployed.
    let network =
        Network { subnets: vec!["subnet-1".into()], security_groups: vec!["sg-1".into()], assign_public_ip: false };
    for n in 0..APPS {
        let image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/bench:v1";
        let def = AppDefinition::parse(&AppInput {
            slug: format!("app-{n:03}"),
            name: format!("App {n:03}"),
            image: image.into(),
            desired_count: i64::from(TASKS_PER_APP),
            ..AppInput::defaults()
        })
        .expect("a valid app");
        service::apps::insert_if_missing(&pool, &def, clock.now()).await.expect("insert");
        let td = sandbox.register_task_definition(&def.task_definition(image, "us-east-1")).await.expect("td");
        sandbox.create_service(&def.service(&td.arn, &network)).await.expect("service");
    }
    clock.advance(chrono::Duration::seconds(60));

    let counting = Arc::new(Counting { ecs: sandbox.clone(), calls: Mutex::new(vec![]) });
    let metered = Arc::new(Metered { cloudwatch: sandbox.clone(), requested: AtomicUsize::new(0) });
    let chosen = server::ChosenCloud {
        cloud: Cloud { fleet: counting.clone(), metrics: metered.clone(), ..server::sandbox_cloud(&sandbox) },
        region: Some("sandbox".into()),
        sandbox: Some(sandbox.clone()),
    };
    let state = server::app_state(&config, pool, &chosen, clock.clone());

    // 1. Calls per poller cycle.
    let mut poller = server::refresher::Poller::new(Duration::from_secs(15));
    poller.cycle(&state).await.expect("first cycle");
    counting.calls.lock().expect("lock").clear();
    clock.advance(chrono::Duration::seconds(15));
    let done = poller.cycle(&state).await.expect("cycle");
    let calls = counting.calls.lock().expect("lock").clone();
    let tasks = APPS * TASKS_PER_APP as usize;
    println!("poller, one steady cycle: {} apps, {} tasks ({} recorded)", done.apps, tasks, done.tasks);
    let mut total = 0;
    for (method, items) in &calls {
        let n = requests(method, *items);
        total += n;
        println!("  {method:<18} {items:>4} items -> {n:>2} AWS requests");
    }
    let minimum = APPS.div_ceil(10) + tasks.div_ceil(100) + 1 + tasks.div_ceil(100);
    println!("  total {total} AWS requests per cycle; minimum {minimum} (DescribeServices + running and stopped ListTasks pages + DescribeTasks)");
    record(
        "poller_aws_requests_per_cycle",
        total as f64,
        "requests",
        Target::Equal(minimum as f64),
        format!("{APPS} apps, {tasks} tasks; the minimum is {minimum}"),
    );
    metrics_per_app_hour(&state, &clock, &metered).await;

    // 2. Fleet page SSR over loopback.
    let router = server::router(state.clone(), &config).await.expect("router");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await.expect("serve");
    });
    let base = format!("http://{addr}");
    let client = reqwest::Client::builder().cookie_store(true).build().expect("client");
    let signed_in = client
        .post(format!("{base}/sfn/sign_in"))
        .header("origin", &base)
        .form(&[("email", "admin@example.org"), ("password", PASSWORD), ("next", "/")])
        .send()
        .await
        .expect("sign in");
    assert_eq!(signed_in.status(), 200, "the bench admin could not sign in");
    let cookie = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
        .collect::<Vec<_>>()
        .join("; ");
    if let Ok(hold) = std::env::var("BENCH_HOLD_SECS") {
        // For a profiler or an outside load generator: the console stays up, signed in.
        println!("holding {base} for {hold} s; cookie: {cookie}");
        tokio::time::sleep(Duration::from_secs(hold.parse().unwrap_or(60))).await;
    }
    let page = client.get(format!("{base}/")).send().await.expect("page").text().await.expect("body");
    assert!(page.contains("App 199"), "the Fleet page lists the 200 apps");
    println!("fleet page: {} KiB of HTML for {APPS} apps", page.len() / 1024);

    // The console's clock runs in real time from here on: the Fleet page's render cache holds
    // a page for one second of it at most, so a second's first request renders afresh.
    tokio::spawn({
        let clock = clock.clone();
        async move {
            let mut tick = tokio::time::interval(Duration::from_millis(10));
            loop {
                tick.tick().await;
                clock.advance(chrono::Duration::milliseconds(10));
            }
        }
    });

    // One client, every request a fresh render (the page differs each time: a write between).
    let mut fresh = vec![];
    let renders: usize = std::env::var("BENCH_FRESH").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    for n in 0..renders {
        sqlx::query("UPDATE apps SET name = ? WHERE slug = 'app-000'")
            .bind(format!("App 000 ({n})"))
            .execute(&state.pool)
            .await
            .expect("a write");
        let start = Instant::now();
        let res = client.get(format!("{base}/")).send().await.expect("request");
        res.bytes().await.expect("body");
        fresh.push(start.elapsed());
    }
    fresh.sort();
    println!(
        "fleet page, uncached render (one client): p50 {:.2} ms, p99 {:.2} ms",
        ms(fresh[fresh.len() / 2]),
        ms(fresh[fresh.len() * 99 / 100])
    );
    let detail = format!("{renders} renders, a write before each, one client");
    record("fleet_page_uncached_p50_ms", ms(fresh[fresh.len() / 2]), "ms", Target::None, detail);

    load_fleet_page(&client, &base, &cookie, clients, seconds).await;
    match wrk(&format!("{base}/api/v1/apps"), &cookie, clients, seconds) {
        Some(report) => {
            println!(
                "GET /api/v1/apps, 200 apps (wrk, {clients} connections, {seconds} s): {report} (target: >= 5000 req/s)"
            );
            let detail =
                format!("wrk, {clients} connections, {seconds} s, p50 {:.2} ms{}", report.p50_ms, report.errors);
            record("api_apps_requests_per_second", report.per_second, "req/s", Target::AtLeast(5000.0), detail);
            record("api_apps_p99_ms", report.p99_ms, "ms", Target::None, "same run");
        }
        None => println!("GET /api/v1/apps: not measured (wrk not installed)"),
    }
    if let Some(m) = rss_mb(std::process::id()) {
        println!("memory: this process (console with 200 apps and 400 tasks, plus the bench's sandbox and client): {m:.1} MB RSS");
        record("rss_bench_process_mb", m, "MB", Target::None, "the bench process: console, sandbox and HTTP client");
    }

    // 3. Schedules: planning 10,000 of them, and how late the scheduler acts.
    plan_schedules();
    scheduler_lateness(&state, &clock, &sandbox).await;

    // 4. The real binary: start-up to the first healthy answer, its memory at rest, and its
    // memory with 200 apps after ten minutes' worth of polls.
    start_up().await;
    polled_memory().await;

    // 5. The browser bundle of the release build.
    bundle_size();

    finish();
}

/// The binary next to this bench (same profile): `make bench` builds both.
fn console_binary() -> Option<std::path::PathBuf> {
    let binary = std::env::current_exe().ok()?.parent()?.parent()?.join("shinyfleet");
    binary.exists().then_some(binary)
}

/// `shinyfleet serve` on `127.0.0.1:port` and `database`, quiet, killed when dropped.
fn serve(binary: &std::path::Path, port: u16, database: &str) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(binary);
    command
        .arg("serve")
        .env("SHINYFLEET_LISTEN", format!("127.0.0.1:{port}"))
        .env("DATABASE_URL", database)
        .env("SHINYFLEET_DEMO_PASSWORD", PASSWORD)
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    command
}

/// The table of every figure, and `bench/results.json`.
fn finish() {
    let figures = std::mem::take(&mut *FIGURES.lock().expect("figures"));
    println!();
    println!("{:<34} {:>12}  {:<8} {:<16} met", "figure", "measured", "unit", "target");
    for f in &figures {
        let met = match f.met {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "-",
        };
        let target = f.target.as_deref().unwrap_or("-");
        println!("{:<34} {:>12.2}  {:<8} {:<16} {met}", f.key, f.value, f.unit, target);
    }
    let path = std::env::var("BENCH_RESULTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/results.json"));
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let json = serde_json::json!({
        "measured_at": chrono::Utc::now(),
        "cores": cores,
        "arguments": std::env::args().skip(1).collect::<Vec<_>>(),
        "figures": figures,
    });
    if let Some(parent) = path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    match std::fs::write(&path, serde_json::to_string_pretty(&json).expect("json")) {
        Ok(()) => println!("written to {}", path.display()),
        Err(e) => println!("could not write {}: {e}", path.display()),
    }
}

/// Size of the release bundle's `.wasm` and `.js`, raw and gzip-compressed (`gzip -9`), from
/// the site `make bench` builds with `cargo leptos build --release --frontend-only`
/// (`BENCH_SITE`, default `target/bench-site`).
fn bundle_size() {
    let site = std::env::var("BENCH_SITE").unwrap_or_else(|_| "target/bench-site".into());
    let pkg = std::path::Path::new(&site).join("pkg");
    let files = ["shinyfleet.wasm", "shinyfleet.js"].map(|name| pkg.join(name));
    if files.iter().any(|f| !f.exists()) {
        println!("bundle: not measured (no release build in {}; `make bench` makes one)", pkg.display());
        return;
    }
    let mut raw = 0;
    let mut gzipped = 0;
    let mut parts = vec![];
    for file in &files {
        let size = std::fs::metadata(file).map_or(0, |m| m.len());
        let gz = std::process::Command::new("gzip")
            .args(["-9", "-c"])
            .arg(file)
            .output()
            .map_or(0, |out| out.stdout.len() as u64);
        parts.push(format!(
            "{} {:.1} KB ({:.1} KB gzip)",
            file.file_name().and_then(|n| n.to_str()).unwrap_or("?"),
            size as f64 / 1000.0,
            gz as f64 / 1000.0
        ));
        raw += size;
        gzipped += gz;
    }
    println!(
        "bundle: {} ; together {:.1} KB raw, {:.1} KB gzip (target < 300 KB gzip)",
        parts.join(", "),
        raw as f64 / 1000.0,
        gzipped as f64 / 1000.0
    );
    record("bundle_raw_kb", raw as f64 / 1000.0, "KB", Target::None, parts.join(", "));
    record("bundle_gzip_kb", gzipped as f64 / 1000.0, "KB", Target::Below(300.0), "wasm + js, gzip -9, release build");
}

/// The real console with 200 apps created and deployed through `/api/v1` (sandbox cloud, so
/// its ECS lives in the same process), then polled every second (`SHINYFLEET_REFRESH_SECS=1`)
/// for `BENCH_POLL_SECS` seconds (default 60): 60 cycles, more than the 40 that ten minutes
/// make at the default 15-second interval. Its RSS every 10 s; the last is the figure.
async fn polled_memory() {
    let Some(binary) = console_binary() else {
        println!("memory with 200 apps: not measured (shinyfleet not built; `make bench` builds it)");
        return;
    };
    let secs: u64 = std::env::var("BENCH_POLL_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(60);
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}/db.sqlite", dir.path().display());
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let created = std::process::Command::new(&binary)
        .args(["token", "create", "--name", "bench", "--role", "admin"])
        .env("DATABASE_URL", &database)
        .env("SHINYFLEET_DEMO_PASSWORD", PASSWORD)
        .env("RUST_LOG", "error")
        .output()
        .expect("shinyfleet token create");
    let token = String::from_utf8_lossy(&created.stdout)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(str::trim)
        .map(str::to_owned);
    let Some(token) = token.filter(|_| created.status.success()) else {
        println!("memory with 200 apps: no API token ({})", String::from_utf8_lossy(&created.stderr).trim());
        return;
    };
    let mut child = serve(&binary, port, &database)
        .env("SHINYFLEET_DEMO", "false")
        .env("SHINYFLEET_REFRESH_SECS", "1")
        .spawn()
        .expect("the console starts");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let started = Instant::now();
    while !client.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
        if started.elapsed() > Duration::from_secs(30) {
            println!("memory with 200 apps: no healthy answer within 30 s");
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let auth = format!("Bearer {token}");
    for n in 0..APPS {
        let slug = format!("app-{n:03}");
        let app = serde_json::json!({
            "slug": slug,
            "name": format!("App {n:03}"),
            "image": format!("123456789012.dkr.ecr.eu-west-1.amazonaws.com/bench-{n:03}:v1"),
            "desired_count": TASKS_PER_APP,
            "env": { "SHINY_LOG_LEVEL": "info" },
        });
        let res = client.post(format!("{base}/api/v1/apps")).header("authorization", &auth).json(&app).send().await;
        let res = res.expect("create an app");
        assert_eq!(res.status(), 201, "creating {slug}: {}", res.text().await.unwrap_or_default());
        let res = client
            .post(format!("{base}/api/v1/apps/{slug}/deploys"))
            .header("authorization", &auth)
            .json(&serde_json::json!({}))
            .send()
            .await
            .expect("deploy an app");
        assert_eq!(res.status(), 202, "deploying {slug}: {}", res.text().await.unwrap_or_default());
    }
    let pid = child.id().expect("a running console");
    let mut samples = vec![];
    for _ in 0..secs.div_ceil(10) {
        tokio::time::sleep(Duration::from_secs(10)).await;
        samples.push(rss_mb(pid).unwrap_or(f64::NAN));
    }
    let mut running = 0;
    for n in 0..APPS {
        let res = client.get(format!("{base}/api/v1/apps/app-{n:03}")).header("authorization", &auth).send().await;
        let app: serde_json::Value = res.expect("an app").json().await.expect("json");
        running += usize::from(app["live"]["running"].as_u64() == Some(u64::from(TASKS_PER_APP)));
    }
    let _ = child.kill().await;
    let series = samples.iter().map(|m| format!("{m:.1}")).collect::<Vec<_>>().join(", ");
    let last = samples.last().copied().unwrap_or(f64::NAN);
    println!(
        "memory: the console with {APPS} apps ({running} at {TASKS_PER_APP}/{TASKS_PER_APP} running) polled every second for {secs} s: {last:.1} MB RSS (every 10 s: {series}; target < 60 MB)"
    );
    let detail = format!("{running} of {APPS} apps fully running; RSS every 10 s: {series} MB; sandbox ECS in-process");
    record("rss_200_apps_polled_mb", last, "MB", Target::Below(60.0), detail);
}

/// The metrics worker's steady state for the 200 running apps: metrics requested from
/// CloudWatch over four hours of its cycles (every `metrics_worker::INTERVAL`), per running
/// app-hour.
async fn metrics_per_app_hour(state: &server::AppState, clock: &Arc<ManualClock>, metered: &Arc<Metered>) {
    let mut worker = server::metrics_worker::MetricsPoller::new();
    worker.cycle(state).await.expect("first metrics cycle");
    metered.requested.store(0, Ordering::Relaxed);
    let hours = 4;
    let step = server::metrics_worker::INTERVAL;
    let cycles = hours * 3600 / step.as_secs();
    for _ in 0..cycles {
        clock.advance(chrono::Duration::from_std(step).expect("interval"));
        let done = worker.cycle(state).await.expect("metrics cycle");
        assert!(done.failed.is_none(), "the sandbox's CloudWatch failed: {done:?}");
    }
    let requested = metered.requested.load(Ordering::Relaxed);
    let per_app_hour = requested as f64 / (APPS as f64 * hours as f64);
    println!(
        "metrics: {requested} CloudWatch metrics requested for {APPS} running apps over {hours} h of cycles: {per_app_hour:.2} per running app-hour (target <= 8)"
    );
    record(
        "cloudwatch_metrics_per_app_hour",
        per_app_hour,
        "metrics",
        Target::AtMost(8.0),
        format!("{requested} metrics, {APPS} apps x {hours} h, one call every {} min", step.as_secs() / 60),
    );
}

/// Resident memory of a process, from /proc (Linux).
fn rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 =
        status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb / 1024.0)
}

/// Starts `shinyfleet serve` (the binary next to this bench, same profile) on a new database
/// with the sandbox's demo apps, times the first 200 from /healthz, then reads its RSS after
/// 5 s at rest. Five runs; the median.
async fn start_up() {
    let Some(binary) = console_binary() else {
        println!("start-up: not measured (shinyfleet not built; `make bench` builds it)");
        return;
    };
    let mut times = vec![];
    let mut rss = vec![];
    for run in 0..5 {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
        let started = Instant::now();
        let database = format!("sqlite://{}/db.sqlite", dir.path().display());
        let mut child = serve(&binary, port, &database).spawn().expect("the console starts");
        let client = reqwest::Client::new();
        let url = format!("http://127.0.0.1:{port}/healthz");
        let took = loop {
            if client.get(&url).send().await.is_ok_and(|r| r.status().is_success()) {
                break started.elapsed();
            }
            if started.elapsed() > Duration::from_secs(30) {
                println!("start-up: no healthy answer within 30 s");
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        times.push(took);
        if run == 0 {
            tokio::time::sleep(Duration::from_secs(5)).await;
            if let Some(m) = child.id().and_then(rss_mb) {
                rss.push(m);
            }
        }
        let _ = child.kill().await;
    }
    times.sort();
    println!(
        "start-up: first 200 from /healthz after {:.0} ms (median of 5, new database, migrations and demo seeding included; target < 300 ms)",
        ms(times[times.len() / 2])
    );
    let detail = "median of 5, new database (migrations and demo seeding included)";
    record("startup_to_healthz_ms", ms(times[times.len() / 2]), "ms", Target::Below(300.0), detail);
    if let Some(m) = rss.first() {
        println!("memory: the console at rest (sandbox, 4 demo apps): {m:.1} MB RSS (target < 40 MB)");
        record("rss_idle_mb", *m, "MB", Target::Below(40.0), "5 s after start, sandbox with the 4 demo apps");
    }
}

async fn load_fleet_page(client: &reqwest::Client, base: &str, cookie: &str, clients: usize, seconds: u64) {
    if let Some(report) = wrk(&format!("{base}/"), cookie, clients, seconds) {
        println!(
            "fleet page SSR (wrk, {clients} connections, {seconds} s): {report} (targets: >= 3000 req/s, p99 < 10 ms)"
        );
        let detail = format!("wrk, {clients} connections, {seconds} s, p50 {:.2} ms{}", report.p50_ms, report.errors);
        record("fleet_page_requests_per_second", report.per_second, "req/s", Target::AtLeast(3000.0), detail);
        record("fleet_page_p99_ms", report.p99_ms, "ms", Target::Below(10.0), "same run");
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let served = Arc::new(AtomicUsize::new(0));
    let mut workers = vec![];
    for _ in 0..clients {
        let (client, url, served) = (client.clone(), format!("{base}/"), served.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = vec![];
            while Instant::now() < deadline {
                let start = Instant::now();
                let res = client.get(&url).send().await.expect("request");
                assert!(res.status().is_success(), "{}", res.status());
                res.bytes().await.expect("body");
                latencies.push(start.elapsed());
                served.fetch_add(1, Ordering::Relaxed);
            }
            latencies
        }));
    }
    let mut latencies = vec![];
    for w in workers {
        latencies.extend(w.await.expect("worker"));
    }
    latencies.sort();
    println!("(wrk not found: the load comes from this process, which shares the 2 cores)");
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let n = served.load(Ordering::Relaxed);
    let detail = format!("{clients} clients in this process (wrk not installed), {seconds} s");
    record("fleet_page_requests_per_second", n as f64 / seconds as f64, "req/s", Target::AtLeast(3000.0), detail);
    record("fleet_page_p99_ms", ms(pct(0.99)), "ms", Target::Below(10.0), "same run");
    println!(
        "fleet page SSR: {clients} clients for {seconds} s: {n} requests, {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms (targets: >= 3000 req/s, p99 < 10 ms)",
        n as f64 / seconds as f64,
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// What wrk measured.
struct Load {
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// wrk's non-2xx and socket error lines, if any.
    errors: String,
}

impl std::fmt::Display for Load {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.0} req/s, p50 {:.2} ms, p99 {:.2} ms", self.per_second, self.p50_ms, self.p99_ms)?;
        if !self.errors.is_empty() {
            write!(f, " ({})", self.errors)?;
        }
        Ok(())
    }
}

/// wrk's latency, e.g. `812.00us`, `3.90ms`, `1.02s`, in milliseconds.
fn wrk_ms(text: &str) -> f64 {
    let split = text.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => number / 1000.0,
        "ms" => number,
        "s" => number * 1000.0,
        "m" => number * 60_000.0,
        _ => f64::NAN,
    }
}

/// Loads `url` with wrk (Debian's `wrk`) when it is on PATH.
fn wrk(url: &str, cookie: &str, connections: usize, seconds: u64) -> Option<Load> {
    let out = std::process::Command::new("wrk")
        .args(["-t2", &format!("-c{connections}"), &format!("-d{seconds}s"), "--latency"])
        .args(["-H", &format!("Cookie: {cookie}"), url])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |prefix: &str| {
        text.lines().find_map(|l| l.trim().strip_prefix(prefix).map(|v| v.trim().to_owned())).unwrap_or_default()
    };
    let errors = text.lines().filter(|l| l.contains("Non-2xx") || l.contains("Socket errors")).collect::<Vec<_>>();
    let per_second = field("Requests/sec:").parse().ok()?;
    Some(Load {
        per_second,
        p50_ms: wrk_ms(&field("50%")),
        p99_ms: wrk_ms(&field("99%")),
        errors: errors.join("; ").trim().to_owned(),
    })
}

/// 10,000 schedules (the four presets, five zones, a third with holidays): what each wants
/// now and its next transition, as the scheduler's pass and the Schedules page ask.
fn plan_schedules() {
    use domain::schedule::{ExceptionDoc, Preset, Schedule, ScheduleDoc};
    let zones = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Tokyo", "UTC"];
    let schedules: Vec<Schedule> = (0..10_000)
        .map(|i| {
            let mut doc = ScheduleDoc::from_preset(Preset::ALL[i % 4], zones[i % zones.len()]);
            if i % 3 == 0 {
                doc.exceptions = vec![
                    ExceptionDoc { date: "2026-12-24".into(), off: true, start: None, end: None },
                    ExceptionDoc {
                        date: "2026-12-31".into(),
                        off: false,
                        start: Some("09:00".into()),
                        end: Some("12:00".into()),
                    },
                ];
            }
            Schedule::parse(&doc, 2).expect("a valid schedule")
        })
        .collect();
    let now: chrono::DateTime<chrono::Utc> = "2026-12-04T16:30:00Z".parse().expect("instant");
    let mut runs = vec![];
    let mut checksum = 0u64;
    for _ in 0..20 {
        let start = Instant::now();
        for s in &schedules {
            checksum += u64::from(s.desired_at(now));
            checksum += s.next_transition(now).map_or(0, |t| t.at.timestamp() as u64 % 7);
        }
        runs.push(start.elapsed());
    }
    runs.sort();
    println!(
        "schedules: 10,000 planned (desired now + next transition) in {:.2} ms median, {:.2} ms worst of 20 (target < 50 ms) [{checksum}]",
        ms(runs[runs.len() / 2]),
        ms(runs[runs.len() - 1])
    );
    let detail = format!("median of 20 runs, worst {:.2} ms", ms(runs[runs.len() - 1]));
    record("schedules_10k_plan_ms", ms(runs[runs.len() / 2]), "ms", Target::Below(50.0), detail);
}

/// The real scheduler loop on the sandbox, its clock running in real time: an app's office
/// hours end at 18:00 in Berlin; how long after that instant does the service's desired
/// count change?
async fn scheduler_lateness(state: &server::AppState, clock: &Arc<ManualClock>, sandbox: &Arc<Sandbox>) {
    use domain::schedule::{Preset, ScheduleDoc};
    let mut lateness = vec![];
    for round in 0..5 {
        // Monday 30 November + `round` days, 16:59:57 UTC: three seconds before 18:00 in Berlin.
        let target = "2026-11-30T17:00:00Z".parse::<chrono::DateTime<chrono::Utc>>().expect("instant")
            + chrono::Duration::days(round);
        let now = clock.now();
        clock.advance(target - chrono::Duration::seconds(3) - now);
        let slug = format!("app-{round:03}");
        let doc = ScheduleDoc::from_preset(Preset::OfficeHours, "Europe/Berlin");
        // Saved as an API token would (the bench's browser session has aged out by now).
        let caller = service::auth::Caller {
            principal: service::auth::Principal {
                via: service::auth::Via::Token,
                name: "bench".into(),
                username: None,
                groups: vec![],
                role: domain::Role::Admin,
                since: clock.now(),
            },
            source: None,
        };
        service::schedules::save(state, &caller, &slug, &doc).await.expect("schedule saved");
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let worker = tokio::spawn(server::scheduler::run(state.services.clone(), stop_rx));
        let seen = loop {
            let s = sandbox.describe_services(std::slice::from_ref(&slug)).await.expect("describe");
            if s[0].desired_count == 0 && clock.now() >= target - chrono::Duration::seconds(1) {
                break clock.now();
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
            if clock.now() > target + chrono::Duration::seconds(30) {
                break clock.now();
            }
        };
        let _ = stop_tx.send(true);
        let _ = worker.await;
        lateness.push((seen - target).num_milliseconds());
    }
    lateness.sort();
    println!(
        "scheduler: desired count changed {} ms after the transition (median of 5; worst {} ms; clock step 10 ms; target < 5 s)",
        lateness[lateness.len() / 2],
        lateness[lateness.len() - 1]
    );
    let detail = format!("worst of 5 transitions, median {} ms, clock step 10 ms", lateness[lateness.len() / 2]);
    record("scheduler_lateness_ms", lateness[lateness.len() - 1] as f64, "ms", Target::Below(5000.0), detail);
}
