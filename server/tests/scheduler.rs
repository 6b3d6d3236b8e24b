//! The scheduler on the sandbox with the test's clock: it changes the desired count at a
//! transition, catches up once after an outage, respects a manual change in
//! "transitions only" mode, applies overrides, and never runs in two consoles at once.

mod support;

use domain::fleet::Fleet;
use reqwest::StatusCode;
use serde_json::{json, Value};
use server::scheduler::Scheduler;
use support::{TestConsole, VIEWER};

const APP: &str = "sales-dashboard";

/// The harness's clock starts on Monday 30 November 2026, 09:00 UTC: 10:00 in Berlin.
async fn console() -> TestConsole {
    let c = TestConsole::with_demo().await;
    c.advance(60);
    server::refresher::refresh_once(&c.state).await.expect("refresh");
    c
}

fn office_hours(mode: &str) -> Value {
    json!({
        "timezone": "Europe/Berlin",
        "windows": [{ "days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "18:00" }],
        "mode": mode,
    })
}

async fn put_schedule(c: &TestConsole, client: &reqwest::Client, body: &Value) -> (StatusCode, Value) {
    let res = client.put(c.url(&format!("/api/v1/apps/{APP}/schedule"))).json(body).send().await.expect("put");
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn desired(c: &TestConsole) -> u32 {
    let services = c.sandbox.describe_services(&[APP.to_owned()]).await.expect("describe");
    services[0].desired_count
}

/// Sets the clock to `at` (UTC, RFC 3339).
fn at(c: &TestConsole, at: &str) {
    let target: chrono::DateTime<chrono::Utc> = at.parse().expect("instant");
    let now = domain::Clock::now(c.clock.as_ref());
    c.clock.advance(target - now);
}

async fn history(c: &TestConsole) -> Vec<(String, Option<i64>, String)> {
    sqlx::query_as("SELECT action, to_count, outcome FROM schedule_history WHERE action NOT IN ('saved') ORDER BY id")
        .fetch_all(&c.state.pool)
        .await
        .expect("history")
}

#[tokio::test]
async fn the_desired_count_changes_at_the_transition_and_is_recorded() {
    let c = console().await;
    let (status, body) = put_schedule(&c, &c.client, &office_hours("enforced")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["desired_now"], 2, "office hours: on, with the app's own count");
    assert_eq!(body["next_transitions"][0], json!({ "at": "2026-11-30T17:00:00Z", "desired": 0 }));

    let mut scheduler = Scheduler::new("console-a");
    let pass = scheduler.pass(&c.state).await.expect("pass");
    assert_eq!((pass.leader, pass.acted), (true, 0), "already as the schedule wants");
    assert_eq!(pass.next_due.map(|d| d.to_rfc3339()), Some("2026-11-30T17:00:00+00:00".into()));

    at(&c, "2026-11-30T16:59:59Z");
    assert_eq!(scheduler.pass(&c.state).await.expect("pass").acted, 0, "not a second early");
    assert_eq!(desired(&c).await, 2);
    at(&c, "2026-11-30T17:00:00Z");
    assert_eq!(scheduler.pass(&c.state).await.expect("pass").acted, 1);
    assert_eq!(desired(&c).await, 0, "18:00 in Berlin: off");
    at(&c, "2026-12-01T07:00:00Z");
    scheduler.pass(&c.state).await.expect("pass");
    assert_eq!(desired(&c).await, 2, "Tuesday 08:00 in Berlin: on again");

    assert_eq!(history(&c).await, [("scale".into(), Some(0), "ok".into()), ("scale".into(), Some(2), "ok".into())]);
    let audit = c.audit_actions().await;
    assert_eq!(audit.iter().filter(|(actor, action, _)| actor == "scheduler" && action == "schedule.scale").count(), 2);
}

#[tokio::test]
async fn after_an_outage_the_schedule_is_caught_up_once() {
    let c = console().await;
    put_schedule(&c, &c.client, &office_hours("transitions")).await;
    // The console is down from Monday 10:00 to Thursday 20:00: six transitions are missed.
    at(&c, "2026-12-03T19:00:00Z");
    let mut scheduler = Scheduler::new("console-a");
    let pass = scheduler.pass(&c.state).await.expect("pass");
    assert_eq!(pass.acted, 1, "one act for the state wanted now, not one per missed transition");
    assert_eq!(desired(&c).await, 0);
    assert_eq!(scheduler.pass(&c.state).await.expect("pass").acted, 0);
    assert_eq!(history(&c).await, [("catch_up".into(), Some(0), "ok".into())]);
}

#[tokio::test]
async fn transitions_only_mode_respects_a_manual_change_until_the_next_transition() {
    let c = console().await;
    put_schedule(&c, &c.client, &office_hours("transitions")).await;
    let mut scheduler = Scheduler::new("console-a");
    // Someone scales the app to 5 by hand in the middle of the day.
    let update = domain::fleet::ServiceUpdate {
        name: APP.into(),
        task_definition: None,
        desired_count: Some(5),
        force_new_deployment: false,
        load_balancer: None,
    };
    c.sandbox.update_service(&update).await.expect("manual change");
    server::refresher::refresh_once(&c.state).await.expect("refresh");
    at(&c, "2026-11-30T12:00:00Z");
    assert_eq!(scheduler.pass(&c.state).await.expect("pass").acted, 0);
    assert_eq!(desired(&c).await, 5, "left alone between transitions");
    at(&c, "2026-11-30T17:00:05Z");
    assert_eq!(scheduler.pass(&c.state).await.expect("pass").acted, 1);
    assert_eq!(desired(&c).await, 0, "the next transition applies");

    // In enforced mode the same drift is undone at the next pass.
    put_schedule(&c, &c.client, &office_hours("enforced")).await;
    c.sandbox.update_service(&domain::fleet::ServiceUpdate { desired_count: Some(3), ..update }).await.expect("drift");
    server::refresher::refresh_once(&c.state).await.expect("refresh");
    scheduler.pass(&c.state).await.expect("pass");
    assert_eq!(desired(&c).await, 0, "enforced: drift corrected");
}

#[tokio::test]
async fn an_override_applies_at_once_and_the_schedule_resumes_after_it() {
    let c = console().await;
    put_schedule(&c, &c.client, &office_hours("enforced")).await;
    let mut scheduler = Scheduler::new("console-a");
    at(&c, "2026-11-30T18:00:00Z"); // 19:00 in Berlin
    scheduler.pass(&c.state).await.expect("pass");
    assert_eq!(desired(&c).await, 0);

    let res = c
        .client
        .post(c.url(&format!("/api/v1/apps/{APP}/override")))
        .json(&json!({ "desired": 2, "until": "2h" }))
        .send()
        .await;
    let res = res.expect("override");
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body, json!({ "desired": 2, "until": "2026-11-30T20:00:00Z", "desired_now": 2 }));
    scheduler.pass(&c.state).await.expect("pass");
    assert_eq!(desired(&c).await, 2, "on for two hours");
    let fleet = c.get("/").await.text().await.expect("fleet page");
    assert!(fleet.contains("override: 2 tasks until Mon 30 Nov 21:00 CET"), "the Fleet page shows the override");

    let (_, schedule) = put_schedule(&c, &c.client, &office_hours("enforced")).await;
    assert_eq!(
        schedule["next_transitions"][0],
        json!({ "at": "2026-11-30T20:00:00Z", "desired": 0 }),
        "the override's end"
    );
    at(&c, "2026-11-30T20:00:00Z");
    scheduler.pass(&c.state).await.expect("pass");
    assert_eq!(desired(&c).await, 0, "the schedule resumes");
    let (_, schedule) = put_schedule(&c, &c.client, &office_hours("enforced")).await;
    assert_eq!(schedule["override"], Value::Null, "the ended override is gone");
}

#[tokio::test]
async fn the_lease_keeps_a_second_scheduler_idle() {
    let c = console().await;
    put_schedule(&c, &c.client, &office_hours("enforced")).await;
    let (mut a, mut b) = (Scheduler::new("console-a"), Scheduler::new("console-b"));
    at(&c, "2026-11-30T16:59:50Z");
    assert!(a.pass(&c.state).await.expect("pass").leader, "a takes the lease (for 30 s)");
    at(&c, "2026-11-30T17:00:00Z");
    let idle = b.pass(&c.state).await.expect("pass");
    assert_eq!((idle.leader, idle.acted), (false, 0), "b waits while a holds the lease");
    assert_eq!(desired(&c).await, 2);
    assert_eq!(a.pass(&c.state).await.expect("pass").acted, 1, "a acts, once");
    // a stops renewing (it died): once the lease expired, b takes over.
    c.advance(31);
    assert!(b.pass(&c.state).await.expect("pass").leader);
    assert!(!a.pass(&c.state).await.expect("pass").leader, "and a, back, stays idle");
    assert_eq!(history(&c).await.len(), 1, "the transition was applied once");
}

#[tokio::test]
async fn bad_schedules_are_refused_field_by_field_and_change_nothing() {
    let c = console().await;
    let bad = json!({
        "timezone": "Mars/Base",
        "windows": [{ "days": ["mon", "funday"], "start": "25:00", "end": "18:00" }],
        "exceptions": [{ "date": "2026-02-30", "off": true }],
        "mode": "sometimes",
    });
    let (status, body) = put_schedule(&c, &c.client, &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let fields: Vec<&str> = body["error"]["fields"].as_object().expect("fields").keys().map(String::as_str).collect();
    for field in ["timezone", "windows[0].days", "windows[0].start", "exceptions[0].date", "mode"] {
        assert!(fields.contains(&field), "{field} missing from {fields:?}");
    }
    let (status, _) = put_schedule(&c, &c.client, &json!({ "timezone": "UTC", "windowz": [] })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "unknown fields are refused, as any malformed body");
    let stored: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM schedules").fetch_one(&c.state.pool).await.expect("count");
    assert_eq!(stored, 0);
    let res = c.client.get(c.url(&format!("/api/v1/apps/{APP}/schedule"))).send().await.expect("get");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // Viewers read schedules but cannot change them.
    put_schedule(&c, &c.client, &office_hours("enforced")).await;
    let viewer = c.client_for(VIEWER).await;
    assert_eq!(put_schedule(&c, &viewer, &office_hours("transitions")).await.0, StatusCode::FORBIDDEN);
    let res = viewer
        .get(c.url(&format!("/api/v1/apps/{APP}/schedule/transitions?from=2026-12-04T12:00:00Z&count=3")))
        .send()
        .await;
    let list: Value = res.expect("transitions").json().await.expect("json");
    assert_eq!(
        list,
        json!([
            { "at": "2026-12-04T17:00:00Z", "desired": 0 },
            { "at": "2026-12-07T07:00:00Z", "desired": 2 },
            { "at": "2026-12-07T17:00:00Z", "desired": 0 },
        ]),
        "Friday evening off, Monday 08:00 on (Berlin, winter time)"
    );
    for query in ["from=yesterday", "count=0", "count=many", "count=501"] {
        let res = viewer.get(c.url(&format!("/api/v1/apps/{APP}/schedule/transitions?{query}"))).send().await;
        assert_eq!(res.expect("transitions").status(), StatusCode::UNPROCESSABLE_ENTITY, "{query}");
    }
}

#[tokio::test]
async fn a_deploy_outside_office_hours_keeps_the_app_off() {
    let c = console().await;
    put_schedule(&c, &c.client, &office_hours("enforced")).await;
    at(&c, "2026-11-30T20:00:00Z");
    Scheduler::new("console-a").pass(&c.state).await.expect("pass");
    assert_eq!(desired(&c).await, 0);
    let res = c
        .client
        .post(c.url(&format!("/api/v1/apps/{APP}/deploys")))
        .header("Idempotency-Key", "night-deploy-1")
        .json(&json!({}))
        .send()
        .await
        .expect("deploy");
    assert!(res.status().is_success(), "{}", res.status());
    // The deploy runs in the background: wait for the service to take the new revision.
    for _ in 0..100 {
        let revision: Option<i64> = sqlx::query_scalar("SELECT revision FROM deploys ORDER BY id DESC LIMIT 1")
            .fetch_one(&c.state.pool)
            .await
            .expect("deploy row");
        if revision.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(desired(&c).await, 0, "the deploy did not turn the app on at night");
}

/// The sandbox's ECS, whose UpdateService can be made to fail.
struct Flaky {
    ecs: std::sync::Arc<cloud::sandbox::Sandbox>,
    fail: std::sync::Arc<std::sync::Mutex<Option<domain::CloudError>>>,
}

#[async_trait::async_trait]
impl Fleet for Flaky {
    async fn probe(&self) -> Result<(), domain::CloudError> {
        self.ecs.probe().await
    }
    async fn register_task_definition(
        &self,
        spec: &domain::fleet::TaskDefinitionSpec,
    ) -> Result<domain::fleet::TaskDefinitionRef, domain::CloudError> {
        self.ecs.register_task_definition(spec).await
    }
    async fn create_service(
        &self,
        spec: &domain::fleet::ServiceSpec,
    ) -> Result<domain::fleet::ServiceStatus, domain::CloudError> {
        self.ecs.create_service(spec).await
    }
    async fn update_service(
        &self,
        update: &domain::fleet::ServiceUpdate,
    ) -> Result<domain::fleet::ServiceStatus, domain::CloudError> {
        if let Some(e) = self.fail.lock().expect("lock").clone() {
            return Err(e);
        }
        self.ecs.update_service(update).await
    }
    async fn delete_service(&self, name: &str) -> Result<(), domain::CloudError> {
        self.ecs.delete_service(name).await
    }
    async fn describe_services(
        &self,
        names: &[String],
    ) -> Result<Vec<domain::fleet::ServiceStatus>, domain::CloudError> {
        self.ecs.describe_services(names).await
    }
    async fn list_tasks(
        &self,
        service: &str,
        filter: domain::fleet::TaskFilter,
    ) -> Result<Vec<String>, domain::CloudError> {
        self.ecs.list_tasks(service, filter).await
    }
    async fn list_cluster_tasks(&self, filter: domain::fleet::TaskFilter) -> Result<Vec<String>, domain::CloudError> {
        self.ecs.list_cluster_tasks(filter).await
    }
    async fn describe_tasks(&self, arns: &[String]) -> Result<Vec<domain::fleet::TaskInfo>, domain::CloudError> {
        self.ecs.describe_tasks(arns).await
    }
    async fn stop_task(&self, arn: &str, reason: &str) -> Result<(), domain::CloudError> {
        self.ecs.stop_task(arn, reason).await
    }
    async fn service_events(
        &self,
        service: &str,
        limit: usize,
    ) -> Result<Vec<domain::fleet::ServiceEvent>, domain::CloudError> {
        self.ecs.service_events(service, limit).await
    }
}

type Switch = std::sync::Arc<std::sync::Mutex<Option<domain::CloudError>>>;

/// A console whose ECS can be throttled, with the app `sales-dashboard` (2 tasks) deployed.
async fn flaky_console() -> (TestConsole, Switch, reqwest::Client) {
    let fail: Switch = Default::default();
    let switch = fail.clone();
    let c = TestConsole::with_cloud(&[], move |sandbox, _| service::Cloud {
        fleet: std::sync::Arc::new(Flaky { ecs: sandbox.clone(), fail: switch }),
        ..server::sandbox_cloud(sandbox)
    })
    .await;
    let def = domain::AppDefinition::parse(&domain::AppInput {
        slug: APP.into(),
        name: "Sales dashboard".into(),
        image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/sales:v1".into(),
        desired_count: 2,
        ..domain::AppInput::defaults()
    })
    .expect("valid app");
    service::apps::insert_if_missing(&c.state.pool, &def, domain::Clock::now(c.clock.as_ref())).await.expect("app");
    let td = c.sandbox.register_task_definition(&def.task_definition("x@sha256:1", "us-east-1")).await.expect("td");
    c.sandbox.create_service(&def.service(&td.arn, &c.state.deploy.network)).await.expect("service");
    c.advance(60);
    server::refresher::refresh_once(&c.state).await.expect("refresh");
    let admin = c.client_for(support::ADMIN).await;
    (c, fail, admin)
}

#[tokio::test]
async fn a_throttled_restore_keeps_the_override_until_a_retry_puts_the_count_back() {
    let (c, fail, admin) = flaky_console().await;
    let mut scheduler = Scheduler::new("console-a");
    let res = admin
        .post(c.url(&format!("/api/v1/apps/{APP}/override")))
        .json(&json!({ "desired": 0, "until": "2h" }))
        .send()
        .await;
    assert_eq!(res.expect("override").status(), StatusCode::OK);
    scheduler.pass(&c.state).await.expect("pass");
    assert_eq!(desired(&c).await, 0, "off for two hours");

    c.advance(2 * 3600);
    *fail.lock().unwrap() = Some(domain::CloudError::Throttled);
    let pass = scheduler.pass(&c.state).await.expect("pass");
    assert_eq!(pass.failed, 1);
    let overrides: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM schedule_overrides").fetch_one(&c.state.pool).await.unwrap();
    assert_eq!(overrides, 1, "the ended override stays until the count it replaced is back");
    let delay = scheduler.next_delay(&pass, domain::Clock::now(c.clock.as_ref()));
    assert_eq!(delay, std::time::Duration::from_secs(10), "waits (the lease's renewal comes before the 15 s retry)");
    c.advance(10);
    assert_eq!(scheduler.pass(&c.state).await.expect("pass").failed, 0, "not retried before its time");

    *fail.lock().unwrap() = None;
    c.advance(6);
    let pass = scheduler.pass(&c.state).await.expect("pass");
    assert_eq!((pass.acted, pass.failed), (1, 0));
    assert_eq!(desired(&c).await, 2, "the count the override replaced is back");
    let overrides: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM schedule_overrides").fetch_one(&c.state.pool).await.unwrap();
    assert_eq!(overrides, 0);
    assert_eq!(
        history(&c).await,
        [
            ("override".into(), Some(0), "ok".into()),
            ("scale".into(), Some(0), "ok".into()),
            ("override_ended".into(), Some(2), "failed".into()),
            ("override_ended".into(), Some(2), "ok".into()),
        ]
    );
}

#[tokio::test]
async fn a_retry_with_nothing_left_to_do_ends_instead_of_spinning() {
    let (c, fail, admin) = flaky_console().await;
    let res = admin.put(c.url(&format!("/api/v1/apps/{APP}/schedule"))).json(&office_hours("transitions")).send().await;
    assert_eq!(res.expect("schedule").status(), StatusCode::OK);
    let mut scheduler = Scheduler::new("console-a");
    at(&c, "2026-11-30T17:00:00Z");
    *fail.lock().unwrap() = Some(domain::CloudError::Unavailable("503".into()));
    assert_eq!(scheduler.pass(&c.state).await.expect("pass").failed, 1);
    // Someone scales it to 0 by hand meanwhile: at the retry there is nothing left to do.
    *fail.lock().unwrap() = None;
    let update = domain::fleet::ServiceUpdate {
        name: APP.into(),
        task_definition: None,
        desired_count: Some(0),
        force_new_deployment: false,
        load_balancer: None,
    };
    c.sandbox.update_service(&update).await.expect("by hand");
    server::refresher::refresh_once(&c.state).await.expect("refresh");
    c.advance(20);
    let pass = scheduler.pass(&c.state).await.expect("pass");
    assert_eq!((pass.acted, pass.failed), (0, 0));
    let delay = scheduler.next_delay(&pass, domain::Clock::now(c.clock.as_ref()));
    assert!(delay >= std::time::Duration::from_secs(1), "the scheduler sleeps ({delay:?}), it does not spin");
}

#[tokio::test]
async fn a_second_override_hands_back_the_count_the_first_one_replaced() {
    let c = console().await;
    let set = |body: Value| {
        let req = c.client.post(c.url(&format!("/api/v1/apps/{APP}/override"))).json(&body);
        async move { req.send().await.expect("override").status() }
    };
    assert_eq!(set(json!({ "desired": 0, "until": "2h" })).await, StatusCode::OK);
    let mut scheduler = Scheduler::new("console-a");
    scheduler.pass(&c.state).await.expect("pass");
    assert_eq!(desired(&c).await, 0);
    // Replaced while in force: at its end the app goes back to 2, not to the first one's 0.
    assert_eq!(set(json!({ "desired": 1, "until": "3h" })).await, StatusCode::OK);
    scheduler.pass(&c.state).await.expect("pass");
    assert_eq!(desired(&c).await, 1);
    c.advance(3 * 3600);
    scheduler.pass(&c.state).await.expect("pass");
    assert_eq!(desired(&c).await, 2);
    for (body, why) in [
        (json!({ "desired": 1, "until": "99999999d" }), "too far"),
        (json!({ "desired": 101, "until": "2h" }), "too many tasks"),
        (json!({ "desired": 1, "until": "yesterday" }), "not a time"),
    ] {
        assert_eq!(set(body).await, StatusCode::UNPROCESSABLE_ENTITY, "{why}");
    }
}
