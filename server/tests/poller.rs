//! The poller as an operator depends on it: a fleet of any size costs the same few batched
//! calls per cycle, every task's lifecycle is recorded (even one that started and stopped
//! between two cycles, or that ECS forgot while the console was down), and a failing call
//! backs off on its own without stopping the loop or losing what was recorded.

mod support;

use domain::definition::Network;
use domain::fleet::Fleet;
use domain::{AppDefinition, AppInput, CloudError};
use server::refresher::{Call, Poller};
use service::Cloud;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use support::counting::{CountingFleet, Faults, Log};
use support::TestConsole;

struct Harness {
    c: TestConsole,
    log: Log,
    faults: Faults,
}

impl Harness {
    async fn new() -> Self {
        let (log, faults): (Log, Faults) = (Arc::default(), Arc::default());
        let (l, f) = (log.clone(), faults.clone());
        let c = TestConsole::with_cloud(&[], move |sandbox, _| Cloud {
            fleet: Arc::new(CountingFleet { ecs: sandbox.clone(), log: l, faults: f, probe_takes: Duration::ZERO }),
            ..server::sandbox_cloud(sandbox)
        })
        .await;
        Self { c, log, faults }
    }

    /// Registers `count` apps of `tasks` tasks each and gives each a service, as deploys would.
    async fn fleet(&self, count: usize, tasks: u32, image: &str) {
        let network =
            Network { subnets: vec!["subnet-1".into()], security_groups: vec!["sg-1".into()], assign_public_ip: false };
        for n in 0..count {
            let def = AppDefinition::parse(&AppInput {
                slug: format!("app-{n:03}"),
                name: format!("App {n}"),
                image: image.to_owned(),
                desired_count: i64::from(tasks),
                ..AppInput::defaults()
            })
            .expect("a valid app");
            let now = domain::Clock::now(self.c.clock.as_ref());
            assert!(service::apps::insert_if_missing(&self.c.state.pool, &def, now).await.unwrap());
            let td = self.c.sandbox.register_task_definition(&def.task_definition(image, "us-east-1")).await.unwrap();
            self.c.sandbox.create_service(&def.service(&td.arn, &network)).await.unwrap();
        }
    }

    /// The calls made since the last look, by method: (calls, items carried).
    fn calls(&self) -> HashMap<&'static str, (usize, usize)> {
        let mut by_method = HashMap::new();
        for (method, items) in self.log.lock().unwrap().drain(..) {
            let e = by_method.entry(method).or_insert((0, 0));
            e.0 += 1;
            e.1 += items;
        }
        by_method
    }

    fn fail(&self, method: &'static str, error: Option<CloudError>) {
        let mut faults = self.faults.lock().unwrap();
        match error {
            Some(e) => faults.insert(method, e),
            None => faults.remove(method),
        };
    }

    async fn task_rows(&self) -> Vec<(String, String, Option<String>, Option<String>)> {
        sqlx::query_as("SELECT arn, last_status, started_at, stopped_at FROM tasks ORDER BY arn")
            .fetch_all(&self.c.state.pool)
            .await
            .unwrap()
    }
}

const IMAGE: &str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:v1";

#[tokio::test]
async fn a_cycle_over_200_apps_and_400_tasks_costs_the_same_few_batched_calls() {
    let h = Harness::new().await;
    h.fleet(200, 2, IMAGE).await;
    h.c.advance(30);
    let mut poller = Poller::new(Duration::from_secs(15));
    for cycle in 0..2 {
        let done = poller.cycle(&h.c.state).await.unwrap();
        assert_eq!((done.apps, done.tasks), (200, 400), "cycle {cycle}");
        let calls = h.calls();
        // One call per kind, each carrying the whole fleet: the adapter splits them into
        // ceil(200/10) = 20 DescribeServices, ceil(400/100) = 4 ListTasks pages (+1 for the
        // empty stopped listing) and ceil(400/100) = 4 DescribeTasks — the minimum.
        assert_eq!(calls.get("describe_services"), Some(&(1, 200)), "cycle {cycle}");
        assert_eq!(calls.get("list_cluster_tasks"), Some(&(2, 2)), "cycle {cycle}");
        assert_eq!(calls.get("describe_tasks"), Some(&(1, 400)), "cycle {cycle}");
        assert_eq!(calls.get("list_tasks"), None, "never a listing per app");
        assert_eq!(calls.get("service_events"), None, "events come with the services");
        h.c.advance(15);
    }
    let rows = h.task_rows().await;
    assert_eq!(rows.len(), 400);
    assert!(rows.iter().all(|(_, status, started, _)| status == "RUNNING" && started.is_some()));
}

#[tokio::test]
async fn every_task_is_recorded_from_start_to_stop_even_one_that_lived_between_two_cycles() {
    let h = Harness::new().await;
    h.fleet(1, 1, IMAGE).await;
    h.c.advance(30);
    let mut poller = Poller::new(Duration::from_secs(15));
    poller.cycle(&h.c.state).await.unwrap();
    let [(arn, status, started, stopped)] = &h.task_rows().await[..] else { panic!("one task") };
    assert_eq!((status.as_str(), started.is_some(), stopped.is_none()), ("RUNNING", true, true));
    // The API reads the same record: the live status, the task, and how old it all is.
    let admin = h.c.client_for(support::ADMIN).await;
    let app: serde_json::Value = admin.get(h.c.url("/api/v1/apps/app-000")).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        (&app["live"]["state"], &app["live"]["running"], &app["live"]["revision"]),
        (&"running".into(), &1.into(), &1.into())
    );
    assert_eq!(app["tasks"].as_array().unwrap().len(), 1);
    assert_eq!((&app["tasks"][0]["arn"], &app["tasks"][0]["state"]), (&arn.as_str().into(), &"RUNNING".into()));
    assert!(app["tasks"][0]["started_at"].is_string() && app["fetched_at"].is_string(), "{app}");
    assert_eq!(app["slug"], "app-000", "the app's own fields are there too");

    // Stopped by hand: the next cycle records how and when it stopped, and its replacement.
    h.c.sandbox.stop_task(arn, "a user's request").await.unwrap();
    h.c.advance(30);
    poller.cycle(&h.c.state).await.unwrap();
    let (code, reason, stopped_at): (Option<String>, Option<String>, Option<String>) =
        sqlx::query_as("SELECT stop_code, stopped_reason, stopped_at FROM tasks WHERE arn = ?")
            .bind(arn)
            .fetch_one(&h.c.state.pool)
            .await
            .unwrap();
    assert_eq!((code.as_deref(), reason.as_deref()), (Some("UserInitiated"), Some("a user's request")));
    assert!(stopped_at.is_some());
    assert_eq!(h.task_rows().await.len(), 2, "the replacement task is recorded too");

    // A broken image's tasks start and stop within a cycle: the stopped listing still brings
    // each of them in, with its times.
    h.fleet_broken().await;
    h.c.advance(120);
    poller.cycle(&h.c.state).await.unwrap();
    let broken: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT t.last_status, t.stopped_at FROM tasks t JOIN apps a ON a.id = t.app_id WHERE a.slug = 'broken'",
    )
    .fetch_all(&h.c.state.pool)
    .await
    .unwrap();
    assert!(broken.len() >= 3, "every failed task of the circuit breaker's count: {broken:?}");
    assert!(broken.iter().all(|(status, stopped)| status == "STOPPED" && stopped.is_some()));
}

impl Harness {
    async fn fleet_broken(&self) {
        let def = AppDefinition::parse(&AppInput {
            slug: "broken".into(),
            name: "Broken".into(),
            image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:broken".into(),
            ..AppInput::defaults()
        })
        .unwrap();
        let now = domain::Clock::now(self.c.clock.as_ref());
        service::apps::insert_if_missing(&self.c.state.pool, &def, now).await.unwrap();
        let td = self
            .c
            .sandbox
            .register_task_definition(&def.task_definition(&def.image.to_string(), "us-east-1"))
            .await
            .unwrap();
        let network =
            Network { subnets: vec!["subnet-1".into()], security_groups: vec!["sg-1".into()], assign_public_ip: false };
        self.c.sandbox.create_service(&def.service(&td.arn, &network)).await.unwrap();
    }
}

#[tokio::test]
async fn a_task_ecs_forgot_while_the_console_was_down_is_closed_when_last_seen() {
    let h = Harness::new().await;
    h.fleet(1, 1, IMAGE).await;
    h.c.advance(30);
    let mut poller = Poller::new(Duration::from_secs(15));
    poller.cycle(&h.c.state).await.unwrap();
    let [(arn, ..)] = &h.task_rows().await[..] else { panic!("one task") };
    let seen: String = sqlx::query_scalar("SELECT last_seen_at FROM tasks WHERE arn = ?")
        .bind(arn)
        .fetch_one(&h.c.state.pool)
        .await
        .unwrap();
    // The console is down while the task stops and ECS forgets it (about an hour later).
    h.c.sandbox.stop_task(arn, "maintenance").await.unwrap();
    h.c.advance(3 * 3600);
    poller.cycle(&h.c.state).await.unwrap();
    let (status, stopped_at, reason): (String, Option<String>, Option<String>) =
        sqlx::query_as("SELECT last_status, stopped_at, stopped_reason FROM tasks WHERE arn = ?")
            .bind(arn)
            .fetch_one(&h.c.state.pool)
            .await
            .unwrap();
    assert_eq!(status, "STOPPED");
    assert_eq!(stopped_at.as_deref(), Some(seen.as_str()), "the best time there is: when it was last seen");
    assert!(reason.unwrap().contains("No longer listed by ECS"));
}

#[tokio::test]
async fn a_throttled_call_backs_off_alone_marks_the_view_stale_and_loses_nothing() {
    let h = Harness::new().await;
    h.fleet(3, 1, IMAGE).await;
    h.c.advance(30);
    let mut poller = Poller::new(Duration::from_secs(15));
    poller.cycle(&h.c.state).await.unwrap();
    let before = h.task_rows().await;
    assert_eq!(before.len(), 3);
    h.calls();

    // DescribeServices is throttled: the tasks are still read, the view says it is stale.
    h.fail("describe_services", Some(CloudError::Throttled));
    h.c.advance(15);
    let done = poller.cycle(&h.c.state).await.unwrap();
    assert_eq!((done.failed.clone(), done.tasks), (vec![Call::Services], 3));
    let stale: Option<String> =
        sqlx::query_scalar("SELECT MAX(stale_since) FROM service_status").fetch_one(&h.c.state.pool).await.unwrap();
    assert!(stale.is_some());
    let admin = h.c.client_for(support::ADMIN).await;
    let fleet_page = || async { admin.get(h.c.url("/")).send().await.unwrap().text().await.unwrap() };
    assert!(fleet_page().await.contains("stale since"));

    // The next cycle, 15 s on, leaves it alone (it waits 30 s); the tasks go on.
    h.calls();
    h.c.advance(15);
    let done = poller.cycle(&h.c.state).await.unwrap();
    assert_eq!(done.skipped, vec![Call::Services]);
    assert_eq!(h.calls().get("describe_services"), None);
    // A second failure doubles the wait.
    h.c.advance(15);
    poller.cycle(&h.c.state).await.unwrap();
    assert_eq!(poller.failures(Call::Services), 2);

    // The tasks fail too (a 5xx): their records stay as they were.
    h.fail("describe_tasks", Some(CloudError::Unavailable("HTTP 503".into())));
    h.c.advance(60);
    let done = poller.cycle(&h.c.state).await.unwrap();
    assert!(done.failed.contains(&Call::Tasks));
    assert_eq!(h.task_rows().await.len(), before.len(), "nothing lost");

    // Once the cloud answers again, both recover and the stale marker goes.
    h.fail("describe_services", None);
    h.fail("describe_tasks", None);
    h.c.advance(300);
    let done = poller.cycle(&h.c.state).await.unwrap();
    assert!(done.failed.is_empty() && done.skipped.is_empty(), "{done:?}");
    assert_eq!((poller.failures(Call::Services), poller.failures(Call::Tasks)), (0, 0));
    assert!(!fleet_page().await.contains("stale since"));
}

#[tokio::test]
async fn a_recorded_tasks_log_is_read_on_request_and_only_through_its_own_app() {
    let h = Harness::new().await;
    h.fleet(2, 1, IMAGE).await;
    h.c.advance(600);
    Poller::new(Duration::from_secs(15)).cycle(&h.c.state).await.unwrap();
    let pool = h.c.state.pool.clone();
    let task_of = |slug: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT t.arn FROM tasks t JOIN apps a ON a.id = t.app_id WHERE a.slug = ?")
                .bind(slug)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let (mine, other) = (task_of("app-000").await, task_of("app-001").await);
    let viewer = h.c.client_for(support::VIEWER).await;
    let (status, logs) = h.c.call(&viewer, "app_logs", &[("slug", "app-000"), ("task", &mine)]).await;
    assert_eq!(status, 200, "{logs}");
    let lines = logs["lines"].as_array().unwrap();
    assert!(
        lines.iter().any(|l| l["message"].as_str().unwrap().contains("Listening on http://0.0.0.0:3838")),
        "{logs}"
    );
    let at = |l: &serde_json::Value| l["at"].as_str().unwrap().to_owned();
    assert!(lines.windows(2).all(|w| at(&w[0]) >= at(&w[1])), "newest first");

    let (_, filtered) =
        h.c.call(&viewer, "app_logs", &[("slug", "app-000"), ("task", &mine), ("filter", "LISTENING")]).await;
    let filtered = filtered["lines"].as_array().unwrap().clone();
    assert!(
        !filtered.is_empty()
            && filtered.iter().all(|l| l["message"].as_str().unwrap().to_lowercase().contains("listening"))
    );

    // Another app's task (or any other stream) is not readable through this app.
    let (status, refused) = h.c.call(&viewer, "app_logs", &[("slug", "app-000"), ("task", &other)]).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(h.calls().get("describe_services"), Some(&(1, 2)), "reading logs calls no ECS");
}
