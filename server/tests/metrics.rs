//! The metrics worker as an operator depends on it: only apps whose tasks ran are asked
//! about, each minute is asked for once (no overlap, no gap), steady state costs at most 8
//! metrics per running app-hour, a throttled CloudWatch is waited out without losing a
//! minute, and old minutes are rolled up into hours before they are pruned.

mod support;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use cloud::sandbox::Sandbox;
use domain::definition::Network;
use domain::fleet::{Fleet, ServiceUpdate};
use domain::metrics::{MetricKind, MetricWindow, Metrics, Series};
use domain::{AppDefinition, AppInput, Clock, CloudError};
use server::metrics_worker::{self, MetricsPoller};
use service::metrics::{self, Resolution};
use service::Cloud;
use std::sync::{Arc, Mutex};
use support::TestConsole;

/// Every `utilisation` call made: (services, window).
type Calls = Arc<Mutex<Vec<(Vec<String>, MetricWindow)>>>;
type Fault = Arc<Mutex<Option<CloudError>>>;

/// The sandbox's CloudWatch, counting the calls made through the port and failing while told to.
struct Counting {
    cloudwatch: Arc<Sandbox>,
    calls: Calls,
    fault: Fault,
}

#[async_trait]
impl Metrics for Counting {
    async fn utilisation(&self, services: &[String], window: MetricWindow) -> Result<Vec<Series>, CloudError> {
        self.calls.lock().unwrap().push((services.to_vec(), window));
        if let Some(e) = self.fault.lock().unwrap().clone() {
            return Err(e);
        }
        self.cloudwatch.utilisation(services, window).await
    }
}

struct Harness {
    c: TestConsole,
    calls: Calls,
    fault: Fault,
}

const IMAGE: &str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:v1";

impl Harness {
    async fn new() -> Self {
        let (calls, fault): (Calls, Fault) = (Arc::default(), Arc::default());
        let (c2, f2) = (calls.clone(), fault.clone());
        let c = TestConsole::with_cloud(&[], move |sandbox, _| Cloud {
            metrics: Arc::new(Counting { cloudwatch: sandbox.clone(), calls: c2, fault: f2 }),
            ..server::sandbox_cloud(sandbox)
        })
        .await;
        Self { c, calls, fault }
    }

    /// Registers the apps `app-<first>`… and, unless `idle`, gives each a service with one
    /// task, as a deploy would. Returns their ids.
    async fn apps(&self, first: usize, count: usize, idle: bool) -> Vec<i64> {
        let network =
            Network { subnets: vec!["subnet-1".into()], security_groups: vec!["sg-1".into()], assign_public_ip: false };
        let mut ids = vec![];
        for n in first..first + count {
            let def = AppDefinition::parse(&AppInput {
                slug: format!("app-{n:03}"),
                name: format!("App {n}"),
                image: IMAGE.to_owned(),
                ..AppInput::defaults()
            })
            .expect("a valid app");
            assert!(service::apps::insert_if_missing(&self.c.state.pool, &def, self.now()).await.unwrap());
            ids.push(service::apps::get(&self.c.state.pool, def.slug.as_str()).await.unwrap().id);
            if !idle {
                let td =
                    self.c.sandbox.register_task_definition(&def.task_definition(IMAGE, "us-east-1")).await.unwrap();
                self.c.sandbox.create_service(&def.service(&td.arn, &network)).await.unwrap();
            }
        }
        ids
    }

    fn now(&self) -> DateTime<Utc> {
        self.c.clock.now()
    }

    /// Lets `secs` pass, then records the tasks as the refresher would.
    async fn pass(&self, secs: i64) {
        self.c.advance(secs);
        server::refresher::refresh_once(&self.c.state).await.expect("the refresher's cycle");
    }

    /// The calls made since the last look.
    fn calls(&self) -> Vec<(Vec<String>, MetricWindow)> {
        self.calls.lock().unwrap().drain(..).collect()
    }

    fn fail(&self, error: Option<CloudError>) {
        *self.fault.lock().unwrap() = error;
    }

    async fn minutes(&self, app_id: i64, kind: MetricKind) -> Vec<DateTime<Utc>> {
        let (from, to) = (self.now() - Duration::days(2), self.now());
        let series = metrics::series(&self.c.state.pool, app_id, kind, from, to, Resolution::Minute).await.unwrap();
        series.into_iter().map(|(at, _)| at).collect()
    }

    async fn fetched_until(&self, app_id: i64) -> Option<String> {
        sqlx::query_scalar("SELECT fetched_until FROM metric_fetches WHERE app_id = ?")
            .bind(app_id)
            .fetch_optional(&self.c.state.pool)
            .await
            .unwrap()
    }

    async fn sample_count(&self) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM metric_samples").fetch_one(&self.c.state.pool).await.unwrap()
    }

    /// Hours during which the apps' tasks ran within `[from, to)`, from the task records.
    async fn running_app_hours(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
        type Lifetime = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);
        let rows: Vec<Lifetime> =
            sqlx::query_as("SELECT started_at, stopped_at FROM tasks").fetch_all(&self.c.state.pool).await.unwrap();
        rows.into_iter()
            .filter_map(|(start, stop)| {
                let (start, stop) = (start?.max(from), stop.unwrap_or(to).min(to));
                (stop > start).then(|| (stop - start).num_seconds() as f64 / 3600.0)
            })
            .sum()
    }
}

fn names(services: &[String]) -> Vec<&str> {
    services.iter().map(String::as_str).collect()
}

/// Whether `minutes` are consecutive whole minutes.
fn contiguous(minutes: &[DateTime<Utc>]) -> bool {
    minutes.windows(2).all(|w| w[1] - w[0] == Duration::minutes(1))
}

#[tokio::test]
async fn only_apps_whose_tasks_ran_are_asked_about() {
    let h = Harness::new().await;
    let running = h.apps(0, 3, false).await;
    let idle = h.apps(3, 1, true).await;
    h.pass(300).await;
    let mut poller = MetricsPoller::new();
    let done = poller.cycle(&h.c.state).await.unwrap();
    assert_eq!(names(&done.services), ["app-000", "app-001", "app-002"], "the registered-only app-003 is not asked");
    assert_eq!(done.requested_metrics, 6);
    assert!(done.samples_stored > 0);
    assert_eq!(h.calls().len(), 1, "one call for every app");
    assert!(h.fetched_until(idle[0]).await.is_none());

    // app-002 is scaled to zero: it is asked once more, for the minutes up to its stop, then no more.
    let update = ServiceUpdate {
        name: "app-002".into(),
        task_definition: None,
        desired_count: Some(0),
        force_new_deployment: false,
        load_balancer: None,
    };
    h.c.sandbox.update_service(&update).await.unwrap();
    h.pass(300).await;
    h.pass(600).await;
    let done = poller.cycle(&h.c.state).await.unwrap();
    assert_eq!(names(&done.services), ["app-000", "app-001", "app-002"]);
    h.calls();
    h.pass(900).await;
    let done = poller.cycle(&h.c.state).await.unwrap();
    assert_eq!(names(&done.services), ["app-000", "app-001"], "a stopped app is not asked again");
    let [(asked, _)] = &h.calls()[..] else { panic!("one call per cycle") };
    assert!(!asked.contains(&"app-002".to_owned()));

    // Its stored minutes end when its task stopped; the others' go on.
    let (stopped, going_on) =
        (h.minutes(running[2], MetricKind::Cpu).await, h.minutes(running[0], MetricKind::Cpu).await);
    assert!(stopped.last() < going_on.last(), "{:?} vs {:?}", stopped.last(), going_on.last());
}

#[tokio::test]
async fn a_second_cycle_asks_only_the_new_minutes_with_no_overlap_and_no_gap() {
    let h = Harness::new().await;
    let ids = h.apps(0, 2, false).await;
    h.pass(300).await;
    let mut poller = MetricsPoller::new();
    let first = poller.cycle(&h.c.state).await.unwrap().window.expect("a first fetch");
    let started = h.minutes(ids[0], MetricKind::Cpu).await[0];
    assert!(first.start <= started, "from the minute the first task started");

    h.pass(900).await;
    let second = poller.cycle(&h.c.state).await.unwrap().window.expect("a second fetch");
    assert_eq!(second.start, first.end, "starts where the first ended: no overlap, no gap");
    assert_eq!(second.end - first.end, Duration::minutes(15));
    assert_eq!(second.period_secs, 60);

    // Nothing new yet: no call at all.
    h.calls();
    let third = poller.cycle(&h.c.state).await.unwrap();
    assert_eq!((third.window, third.requested_metrics), (None, 0));
    assert!(h.calls().is_empty());

    // Every minute from the task's start to the end of the second window is stored, once.
    for id in &ids {
        for kind in [MetricKind::Cpu, MetricKind::Memory] {
            let minutes = h.minutes(*id, kind).await;
            assert!(contiguous(&minutes), "{kind:?} of app {id}: {minutes:?}");
            assert_eq!(minutes.last().copied(), Some(second.end - Duration::minutes(1)));
        }
    }
    assert_eq!(h.fetched_until(ids[1]).await.unwrap(), second.end.to_rfc3339());

    // What is stored is what CloudWatch says for those minutes.
    let stored =
        metrics::series(&h.c.state.pool, ids[0], MetricKind::Memory, second.start, second.end, Resolution::Minute)
            .await
            .unwrap();
    let asked = h.c.sandbox.utilisation(&["app-000".into()], second).await.unwrap();
    let truth: Vec<_> = asked[1].samples.iter().map(|s| (s.at, s.percent)).collect();
    assert_eq!(stored, truth);
}

#[tokio::test]
async fn opening_an_apps_page_fetches_its_new_minutes_unless_they_are_at_most_a_minute_old() {
    let h = Harness::new().await;
    let ids = h.apps(0, 2, false).await;
    let idle = h.apps(2, 1, true).await;
    h.pass(300).await;
    let first = MetricsPoller::new().cycle(&h.c.state).await.unwrap().window.unwrap();
    h.calls();

    h.pass(300).await;
    let done = metrics_worker::fetch_app_now(&h.c.state, ids[0]).await.unwrap();
    assert_eq!(names(&done.services), ["app-000"], "only that app");
    assert_eq!((done.window.map(|w| w.start), done.requested_metrics), (Some(first.end), 2));
    let fetched = done.window.unwrap().end;
    assert_eq!(h.minutes(ids[0], MetricKind::Cpu).await.last().copied(), Some(fetched - Duration::minutes(1)));

    // Opened again at once, or a minute later: nothing is asked.
    assert_eq!(metrics_worker::fetch_app_now(&h.c.state, ids[0]).await.unwrap().requested_metrics, 0);
    h.c.advance(60);
    assert_eq!(metrics_worker::fetch_app_now(&h.c.state, ids[0]).await.unwrap().requested_metrics, 0);
    h.c.advance(60);
    let done = metrics_worker::fetch_app_now(&h.c.state, ids[0]).await.unwrap();
    assert_eq!(done.window.map(|w| (w.start, w.end - w.start)), Some((fetched, Duration::minutes(2))));
    // An app that never ran has nothing to fetch.
    assert_eq!(metrics_worker::fetch_app_now(&h.c.state, idle[0]).await.unwrap().requested_metrics, 0);
    assert_eq!(h.calls().len(), 2);

    // The Fleet table's sparklines: the last hour of CPU, oldest first, for the apps that ran.
    let now = h.now();
    let lines = metrics::sparklines(&h.c.state.pool, now).await.unwrap();
    let mut with_lines: Vec<_> = lines.keys().copied().collect();
    with_lines.sort();
    assert_eq!(with_lines, ids);
    let (from, to) = (metrics::floor_minute(now) - Duration::hours(1), now);
    let cpu = metrics::series(&h.c.state.pool, ids[0], MetricKind::Cpu, from, to, Resolution::Minute).await.unwrap();
    assert!(!cpu.is_empty());
    // To a tenth of a percent.
    let line = &lines[&ids[0]];
    assert_eq!(line.len(), cpu.len());
    for (shown, (_, p)) in line.iter().zip(&cpu) {
        assert!(
            (shown - p).abs() <= 0.05 + 1e-9 && ((shown * 10.0).round() - shown * 10.0).abs() < 1e-6,
            "{shown} for {p}"
        );
    }

    // Each stored hour has its rollup: the mean of its minutes.
    let hour_start = metrics::floor_minute(first.start) - Duration::minutes(now_minute(first.start));
    let hours =
        metrics::series(&h.c.state.pool, ids[0], MetricKind::Cpu, hour_start, to, Resolution::Hour).await.unwrap();
    let minutes = metrics::series(
        &h.c.state.pool,
        ids[0],
        MetricKind::Cpu,
        hour_start,
        hour_start + Duration::hours(1),
        Resolution::Minute,
    )
    .await
    .unwrap();
    let mean = minutes.iter().map(|(_, p)| p).sum::<f64>() / minutes.len() as f64;
    assert_eq!(hours.len(), 1);
    assert!(hours[0].0 == hour_start && (hours[0].1 - mean).abs() < 1e-9, "{hours:?} vs {mean}");
}

#[tokio::test]
async fn steady_state_costs_at_most_8_metrics_per_running_app_hour() {
    let h = Harness::new().await;
    h.apps(0, 20, false).await;
    h.apps(20, 5, true).await;
    h.pass(300).await;
    let mut poller = MetricsPoller::new();
    poller.cycle(&h.c.state).await.unwrap();
    h.calls();
    let from = h.now();

    // Six hours of cycles every INTERVAL.
    let step = metrics_worker::INTERVAL.as_secs() as i64;
    let cycles = 6 * 3600 / step;
    for _ in 0..cycles {
        h.pass(step).await;
        let done = poller.cycle(&h.c.state).await.unwrap();
        assert!(done.failed.is_none() && done.samples_stored > 0, "{done:?}");
    }
    let calls = h.calls();
    assert_eq!(calls.len() as i64, cycles, "one call per cycle");
    assert!(calls.iter().all(|(services, _)| services.len() == 20), "never the 5 apps that never ran");
    assert!(calls.windows(2).all(|w| w[0].1.end == w[1].1.start), "windows follow each other");
    let requested: usize = calls.iter().map(|(services, _)| services.len() * 2).sum();
    let app_hours = h.running_app_hours(from, h.now()).await;
    let per_app_hour = requested as f64 / app_hours;
    println!("{requested} metrics requested over {app_hours:.2} running app-hours: {per_app_hour:.2} per app-hour");
    assert!(app_hours > 119.0, "20 apps ran for 6 hours: {app_hours}");
    assert!(per_app_hour <= 8.0, "{per_app_hour} metrics per running app-hour");
}

#[tokio::test]
async fn a_throttled_cloudwatch_is_waited_out_and_the_missed_minutes_are_caught_up() {
    let h = Harness::new().await;
    let ids = h.apps(0, 2, false).await;
    h.pass(300).await;
    let mut poller = MetricsPoller::new();
    let first = poller.cycle(&h.c.state).await.unwrap().window.unwrap();
    let (stored, until) = (h.sample_count().await, h.fetched_until(ids[0]).await);
    h.calls();

    // Throttled: nothing stored, nothing moved, and a retry in 30 s.
    h.fail(Some(CloudError::Throttled));
    h.pass(900).await;
    let done = poller.cycle(&h.c.state).await.unwrap();
    assert_eq!((done.failed, done.samples_stored, done.requested_metrics), (Some(CloudError::Throttled), 0, 4));
    assert_eq!((h.sample_count().await, h.fetched_until(ids[0]).await), (stored, until.clone()));
    assert_eq!(poller.failures(), 1);
    h.c.advance(10);
    assert!(poller.cycle(&h.c.state).await.unwrap().backing_off, "10 s later it still waits");
    assert_eq!(h.calls().len(), 1, "no call while waiting");

    // Still throttled 30 s on: the wait doubles.
    h.c.advance(20);
    assert_eq!(poller.cycle(&h.c.state).await.unwrap().failed, Some(CloudError::Throttled));
    assert_eq!(poller.failures(), 2);
    h.c.advance(30);
    assert!(poller.cycle(&h.c.state).await.unwrap().backing_off, "60 s now");
    assert_eq!(h.calls().len(), 1);
    assert_eq!((h.sample_count().await, h.fetched_until(ids[0]).await), (stored, until));

    // Recovered: the next call covers every minute since the last stored one.
    h.fail(None);
    h.c.advance(30);
    let done = poller.cycle(&h.c.state).await.unwrap();
    assert!(done.failed.is_none() && !done.backing_off, "{done:?}");
    let window = done.window.unwrap();
    assert_eq!(window.start, first.end, "the missed window is caught up");
    assert_eq!(poller.failures(), 0);
    for id in &ids {
        let minutes = h.minutes(*id, MetricKind::Cpu).await;
        assert!(contiguous(&minutes), "no gap: {minutes:?}");
        assert_eq!(minutes.last().copied(), Some(window.end - Duration::minutes(1)));
    }
}

#[tokio::test]
async fn minute_samples_older_than_15_days_are_rolled_into_hours_then_pruned_once_an_hour() {
    let h = Harness::new().await;
    let [id] = h.apps(0, 1, true).await[..] else { panic!("one app") };
    let now = h.now();
    let hour =
        |days_ago: i64| metrics::floor_minute(now - Duration::days(days_ago)) - Duration::minutes(now_minute(now));
    // Minutes of an hour 16 days ago (0 % to 59 %), one minute 14 days ago, and of an hour 91
    // days ago, written as a fetch would before any rollup.
    let insert_minutes = |start: DateTime<Utc>, count: i64| {
        let pool = h.c.state.pool.clone();
        async move {
            for m in 0..count {
                sqlx::query("INSERT INTO metric_samples (app_id, kind, resolution_secs, at, percent) VALUES (?, 'cpu', 60, ?, ?)")
                    .bind(id)
                    .bind(start + Duration::minutes(m))
                    .bind(m as f64)
                    .execute(&pool)
                    .await
                    .unwrap();
            }
        }
    };
    let (old, recent, ancient) = (hour(16), hour(14), hour(91));
    insert_minutes(old, 60).await;
    insert_minutes(recent, 1).await;
    insert_minutes(ancient, 60).await;

    let mut poller = MetricsPoller::new();
    let done = poller.cycle(&h.c.state).await.unwrap();
    assert_eq!(done.pruned, Some(metrics::Pruned { minutes: 120, hours: 1 }), "{done:?}");
    let pool = &h.c.state.pool;
    let series = |from: DateTime<Utc>, resolution| metrics::series(pool, id, MetricKind::Cpu, from, now, resolution);
    assert_eq!(series(old - Duration::days(1), Resolution::Hour).await.unwrap(), [(old, 29.5)], "rolled up, then kept");
    assert_eq!(series(old - Duration::days(1), Resolution::Minute).await.unwrap(), [(recent, 0.0)]);
    assert!(series(ancient - Duration::days(1), Resolution::Hour).await.unwrap().len() == 1, "only the 16-day hour");

    // Not again within the hour; again once it has passed.
    insert_minutes(old - Duration::hours(2), 3).await;
    h.c.advance(15 * 60);
    assert_eq!(poller.cycle(&h.c.state).await.unwrap().pruned, None);
    h.c.advance(45 * 60);
    let pruned = poller.cycle(&h.c.state).await.unwrap().pruned;
    assert_eq!(pruned, Some(metrics::Pruned { minutes: 3, hours: 0 }));
    let hours = series(old - Duration::days(1), Resolution::Hour).await.unwrap();
    assert_eq!(hours, [(old - Duration::hours(2), 1.0), (old, 29.5)]);
}

/// Minutes past the hour of `t`.
fn now_minute(t: DateTime<Utc>) -> i64 {
    i64::from(chrono::Timelike::minute(&t))
}

#[tokio::test]
async fn the_stored_samples_draw_the_app_pages_chart_and_the_fleet_sparkline() {
    let h = Harness::new().await;
    h.apps(0, 1, false).await;
    h.pass(300).await;
    h.pass(1800).await;
    MetricsPoller::new().cycle(&h.c.state).await.unwrap();
    let viewer = h.c.client_for(support::VIEWER).await;
    let (status, hour) = h.c.call(&viewer, "app_metrics", &[("slug", "app-000"), ("range", "hour")]).await;
    assert_eq!(status, 200, "{hour}");
    let (cpu, memory) = (hour["cpu"].as_array().unwrap(), hour["memory"].as_array().unwrap());
    assert!(cpu.len() >= 20 && cpu.len() <= 60, "one point a minute within the hour: {}", cpu.len());
    assert_eq!(cpu.len(), memory.len());
    assert_eq!(hour["resolution_secs"], 60);
    let (_, week) = h.c.call(&viewer, "app_metrics", &[("slug", "app-000"), ("range", "week")]).await;
    assert_eq!(week["resolution_secs"], 3600, "a week is drawn from the hourly rollups");
    assert!(!week["cpu"].as_array().unwrap().is_empty());
    let (status, _) = h.c.call(&viewer, "app_metrics", &[("slug", "app-000"), ("range", "decade")]).await;
    assert_eq!(status, 422);

    let page = viewer.get(h.c.url("/apps/app-000")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("data-testid=\"utilisation-chart\""), "the chart is server-rendered");
    let fleet = viewer.get(h.c.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(fleet.contains("class=\"sparkline\""), "the Fleet row has a sparkline");
    assert!(fleet.contains("CPU over the last hour, now"));
}

/// Waits (real time, at most 5 s) until the worker has made a call, and returns the calls.
async fn calls_soon(h: &Harness) -> Vec<(Vec<String>, MetricWindow)> {
    for _ in 0..250 {
        let calls = h.calls();
        if !calls.is_empty() {
            return calls;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the worker made no call");
}

#[tokio::test]
async fn opening_an_apps_page_wakes_the_worker_for_that_app_alone() {
    let h = Harness::new().await;
    h.apps(0, 2, false).await;
    h.pass(300).await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker =
        tokio::spawn(metrics_worker::run(h.c.state.services.clone(), std::time::Duration::from_secs(3600), stopped));
    assert_eq!(calls_soon(&h).await.len(), 1, "the first cycle, for every app");
    h.pass(300).await;
    let viewer = h.c.client_for(support::VIEWER).await;
    let page = viewer.get(h.c.url("/apps/app-001")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let calls = calls_soon(&h).await;
    assert_eq!(calls.len(), 1);
    assert_eq!(names(&calls[0].0), ["app-001"], "only the app being looked at");
    stop.send(true).unwrap();
    worker.await.unwrap();
}
