//! `make bench`: the figures the poller and the Fleet page are held to, measured on this
//! machine. Not a test (timings are never asserted): it prints what it measured next to the
//! target, for notes and regressions.
//!
//! - Poller calls per cycle for 200 apps with 400 tasks, counted at the `Fleet` port, and
//!   the AWS requests they make (the adapters' batch sizes), against the minimum.
//! - Fleet page server-side rendering with 200 apps: requests per second and latency
//!   percentiles, over loopback, with as many concurrent clients as asked (default 16).
//!
//! Runs the real console (router, sessions, SQLite file) on the sandbox cloud.

use app::ssr::Cloud;
use async_trait::async_trait;
use cloud::sandbox::{ManualClock, Sandbox};
use domain::definition::Network;
use domain::fleet::{
    Fleet, ServiceEvent, ServiceSpec, ServiceStatus, ServiceUpdate, TaskDefinitionRef, TaskDefinitionSpec, TaskFilter,
    TaskInfo,
};
use domain::{AppDefinition, AppInput, Clock, CloudError};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const APPS: usize = 200;
const TASKS_PER_APP: u32 = 2;
const PASSWORD: &str = "Bench-pass-2026";

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
        app::ssr::apps::insert_if_missing(&pool, &def, clock.now()).await.expect("insert");
        let td = sandbox.register_task_definition(&def.task_definition(image, "us-east-1")).await.expect("td");
        sandbox.create_service(&def.service(&td.arn, &network)).await.expect("service");
    }
    clock.advance(chrono::Duration::seconds(60));

    let counting = Arc::new(Counting { ecs: sandbox.clone(), calls: Mutex::new(vec![]) });
    let chosen = server::ChosenCloud {
        cloud: Cloud { fleet: counting.clone(), ..server::sandbox_cloud(&sandbox) },
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

    load_fleet_page(&client, &base, &cookie, clients, seconds).await;
    match wrk(&format!("{base}/api/v1/apps"), &cookie, clients, seconds) {
        Some(report) => println!(
            "GET /api/v1/apps, 200 apps (wrk, {clients} connections, {seconds} s): {report} (target: >= 5000 req/s)"
        ),
        None => println!("GET /api/v1/apps: not measured (wrk not installed)"),
    }
    println!(
        "memory: this process (console with 200 apps and 400 tasks, plus the bench's sandbox and client): {} MB RSS",
        rss_mb(std::process::id()).map_or("?".into(), |m| format!("{m:.1}"))
    );

    // 3. Schedules: planning 10,000 of them, and how late the scheduler acts.
    plan_schedules();
    scheduler_lateness(&state, &clock, &sandbox).await;

    // 4. The real binary: start-up to the first healthy answer, and its memory at rest.
    start_up().await;
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
    let Some(binary) = std::env::current_exe().ok().and_then(|p| Some(p.parent()?.parent()?.join("shinyfleet"))) else {
        return;
    };
    if !binary.exists() {
        println!("start-up: not measured ({} not built; `make bench` builds it)", binary.display());
        return;
    }
    let mut times = vec![];
    let mut rss = vec![];
    for run in 0..5 {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
        let started = Instant::now();
        let mut child = tokio::process::Command::new(&binary)
            .arg("serve")
            .env("SHINYFLEET_LISTEN", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", format!("sqlite://{}/db.sqlite", dir.path().display()))
            .env("SHINYFLEET_DEMO_PASSWORD", PASSWORD)
            .env("RUST_LOG", "error")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("the console starts");
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
    if let Some(m) = rss.first() {
        println!("memory: the console at rest (sandbox, 4 demo apps): {m:.1} MB RSS (target < 40 MB)");
    }
}

async fn load_fleet_page(client: &reqwest::Client, base: &str, cookie: &str, clients: usize, seconds: u64) {
    if let Some(report) = wrk(&format!("{base}/"), cookie, clients, seconds) {
        println!(
            "fleet page SSR (wrk, {clients} connections, {seconds} s): {report} (targets: >= 3000 req/s, p99 < 10 ms)"
        );
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

/// Loads `url` with wrk (Debian's `wrk`) when it is on PATH: "N req/s, p50 …, p99 …".
fn wrk(url: &str, cookie: &str, connections: usize, seconds: u64) -> Option<String> {
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
    Some(format!(
        "{} req/s, p50 {}, p99 {}{}",
        field("Requests/sec:"),
        field("50%"),
        field("99%"),
        if errors.is_empty() { String::new() } else { format!(" ({})", errors.join("; ").trim().to_owned()) }
    ))
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
}

/// The real scheduler loop on the sandbox, its clock running in real time: an app's office
/// hours end at 18:00 in Berlin; how long after that instant does the service's desired
/// count change?
async fn scheduler_lateness(state: &app::ssr::AppState, clock: &Arc<ManualClock>, sandbox: &Arc<Sandbox>) {
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
        let caller = app::ssr::auth::Caller {
            principal: app::ssr::auth::Principal {
                via: app::ssr::auth::Via::Token,
                name: "bench".into(),
                username: None,
                groups: vec![],
                role: domain::Role::Admin,
                since: clock.now(),
            },
            source: None,
        };
        app::ssr::schedules::save(state, &caller, &slug, &doc).await.expect("schedule saved");
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let worker = tokio::spawn(server::scheduler::run(state.clone(), stop_rx));
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
}
