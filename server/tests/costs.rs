//! Costs from recorded task lifetimes, through the HTTP API and its CSV export: exact money,
//! local days of the display time zone, totals that add up, bad ranges refused.

mod support;

use chrono::{DateTime, Utc};
use domain::{AppDefinition, AppInput};
use reqwest::StatusCode;
use serde_json::Value;
use support::{TestConsole, VIEWER};

fn t(s: &str) -> DateTime<Utc> {
    s.parse().expect("instant")
}

/// A console whose costs are counted in `zone`, with apps `sales` (0.25 vCPU, 0.5 GB,
/// x86_64) and `stock` (1 vCPU, 2 GB, arm64).
async fn console(zone: &str) -> TestConsole {
    let c = TestConsole::with(&["--display-timezone", zone]).await;
    for (slug, cpu, memory, arch) in [("sales", 256, 512, "arm64_not"), ("stock", 1024, 2048, "arm64")] {
        let def = AppDefinition::parse(&AppInput {
            slug: slug.into(),
            name: slug.into(),
            image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/x:v1".into(),
            cpu: cpu.into(),
            memory: memory.into(),
            architecture: if arch == "arm64" { "arm64".into() } else { "x86_64".into() },
            ..AppInput::defaults()
        })
        .expect("valid app");
        service::apps::insert_if_missing(&c.state.pool, &def, t("2026-11-01T00:00:00Z")).await.expect("insert");
    }
    c
}

/// Records a task of `slug` that ran from `start` to `end` (`None`: still running).
async fn task(c: &TestConsole, slug: &str, n: u32, start: &str, end: Option<&str>) {
    let (cpu, memory, arch) = if slug == "sales" { (256, 512, "x86_64") } else { (1024, 2048, "arm64") };
    sqlx::query(
        "INSERT INTO tasks (arn, app_id, task_definition, revision, cpu, memory, architecture, last_status,
                            desired_status, health_status, created_at, started_at, stopped_at, first_seen_at, last_seen_at)
         SELECT ?, id, 'td', 1, ?, ?, ?, ?, ?, 'HEALTHY', ?, ?, ?, ?, ? FROM apps WHERE slug = ?",
    )
    .bind(format!("arn:aws:ecs:us-east-1:123456789012:task/shinyfleet/{slug}-{n}"))
    .bind(cpu)
    .bind(memory)
    .bind(arch)
    .bind(if end.is_some() { "STOPPED" } else { "RUNNING" })
    .bind(if end.is_some() { "STOPPED" } else { "RUNNING" })
    .bind(t(start) - chrono::Duration::seconds(20))
    .bind(t(start))
    .bind(end.map(t))
    .bind(t(start))
    .bind(end.map(t).unwrap_or(t(start)))
    .bind(slug)
    .execute(&c.state.pool)
    .await
    .expect("task recorded");
}

async fn costs(c: &TestConsole, client: &reqwest::Client, query: &str) -> (StatusCode, Value) {
    let res = client.get(c.url(&format!("/api/v1/costs{query}"))).send().await.expect("request");
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn rows(body: &Value) -> Vec<(String, String, i64, String)> {
    body["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["app"].as_str().unwrap().to_owned(),
                r["day"].as_str().unwrap().to_owned(),
                r["task_seconds"].as_i64().unwrap(),
                r["cost_usd"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn each_app_costs_its_task_seconds_at_the_regions_prices_to_the_micro_dollar() {
    let c = console("UTC").await;
    // us-east-1: x86 $0.04048/vCPU-h + $0.004445/GB-h; arm $0.03238 + $0.00356.
    task(&c, "sales", 1, "2026-11-29T10:00:00Z", Some("2026-11-29T11:00:00Z")).await; // 1 h
    task(&c, "sales", 2, "2026-11-29T12:00:00Z", Some("2026-11-29T12:00:20Z")).await; // 20 s: billed 60 s
    task(&c, "stock", 1, "2026-11-29T23:00:00Z", Some("2026-11-30T01:00:00Z")).await; // across midnight
    let (status, body) = costs(&c, &c.client, "?from=2026-11-29&to=2026-11-30").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        rows(&body),
        [
            // 3660 s × (0.25 × 40480 + 0.5 × 4445) µ$/h = 3660 × 12342.5 / 3600 = 12548.2 µ$
            ("sales".into(), "2026-11-29".into(), 3660, "0.012548".into()),
            // 3600 s × (1 × 32380 + 2 × 3560) = 39500 µ$ per hour; one hour each day
            ("stock".into(), "2026-11-29".into(), 3600, "0.039500".into()),
            ("stock".into(), "2026-11-30".into(), 3600, "0.039500".into()),
        ]
    );
    let sum: i64 = body["rows"].as_array().unwrap().iter().map(|r| r["cost_micros"].as_i64().unwrap()).sum();
    assert_eq!(body["total_micros"].as_i64(), Some(sum), "the total is the sum of the rows");
    assert_eq!(body["total_micros"], 12_548 + 39_500 * 2);
}

#[tokio::test]
async fn days_are_the_display_zones_and_a_running_task_counts_up_to_now() {
    let c = console("Europe/Berlin").await;
    // 22:30–23:30 UTC on 29 November is 23:30–00:30 in Berlin: half on each local day.
    task(&c, "sales", 1, "2026-11-29T22:30:00Z", Some("2026-11-29T23:30:00Z")).await;
    // The harness's clock says 2026-11-30T09:00Z: a task started at 08:00 ran an hour so far.
    task(&c, "stock", 1, "2026-11-30T08:00:00Z", None).await;
    let (_, body) = costs(&c, &c.client, "?from=2026-11-29&to=2026-11-30").await;
    let got: Vec<(String, String, i64)> = rows(&body).into_iter().map(|(a, d, s, _)| (a, d, s)).collect();
    assert_eq!(
        got,
        [
            ("sales".into(), "2026-11-29".into(), 1800),
            ("sales".into(), "2026-11-30".into(), 1800),
            ("stock".into(), "2026-11-30".into(), 3600),
        ]
    );
    assert_eq!(body["time_zone"], "Europe/Berlin");
}

#[tokio::test]
async fn the_csv_export_has_the_same_rows() {
    let c = console("UTC").await;
    task(&c, "sales", 1, "2026-11-29T10:00:00Z", Some("2026-11-29T11:00:00Z")).await;
    task(&c, "stock", 1, "2026-11-30T01:00:00Z", Some("2026-11-30T01:30:00Z")).await;
    let res = c.client.get(c.url("/api/v1/costs.csv?from=2026-11-29&to=2026-11-30")).send().await.expect("csv");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("shinyfleet-costs-2026-11-29-2026-11-30.csv"));
    let text = res.text().await.expect("body");
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            "app,day,task_seconds,vcpu_hours,gb_hours,cost_usd",
            "sales,2026-11-29,3600,0.250000,0.500000,0.012343",
            "stock,2026-11-30,1800,0.500000,1.000000,0.019750",
        ]
    );
}

#[tokio::test]
async fn bad_ranges_are_refused_and_viewers_may_read() {
    let c = console("UTC").await;
    for (query, field) in [
        ("?from=2026-12-01&to=2026-11-01", "from"),
        ("?from=yesterday", "from"),
        ("?from=2024-01-01&to=2026-11-30", "to"),
    ] {
        let (status, body) = costs(&c, &c.client, query).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {body}");
        assert_eq!(body["error"]["field"], field, "{query}: {body}");
    }
    let (status, _) = costs(&c, &c.client, "?since=2026-11-01").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "unknown parameters are refused");
    let viewer = c.client_for(VIEWER).await;
    let (status, body) = costs(&c, &viewer, "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["from"], "2026-11-01", "this month by default");
    let (status, _) = costs(&c, &c.anon, "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_console_with_bad_cost_settings_does_not_start() {
    for (flag, value) in [
        ("--display-timezone", "Mars/Base"),
        ("--price-region", "xx-nowhere-1"),
        ("--fixed-costs", "load-balancer"),
        ("--budgets", "fleet=-5"),
    ] {
        // Refused by the setting's value parser, or (the region's prices) by `validate`.
        let err = match server::config::ServeConfig::from_flags([flag, value]) {
            Ok(config) => config.validate().expect_err("refused").to_string(),
            Err(e) => server::config::one_line(&e),
        };
        assert!(err.contains("SHINYFLEET_"), "{flag}={value}: {err}");
    }
}

#[tokio::test]
async fn fixed_costs_nobody_ran_under_are_still_the_fleets() {
    // A $1/hour load balancer, and no app ran this month: the fleet still paid for it.
    let c = TestConsole::with(&["--fixed-costs", "load-balancer=1"]).await;
    let view = service::costs::view(&c.state).await.expect("costs");
    // 30 November, 09:00 UTC: 29 days and 9 hours so far, 15 hours to go.
    assert_eq!(view.fleet.month_to_date.micros(), 705_000_000);
    assert_eq!(view.unassigned_fixed.micros(), 705_000_000);
    assert_eq!(view.fleet.projection.micros(), 720_000_000);
}
