//! The console as a user and an operator meet it: health, the Fleet page, errors.

mod support;

use support::TestConsole;

#[tokio::test]
async fn healthz_reports_database_and_cloud_as_json() {
    let c = TestConsole::empty().await;
    let res = c.get("/healthz").await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"]["ok"], true);
    assert_eq!(body["cloud"]["ok"], true);
}

#[tokio::test]
async fn the_fleet_page_is_server_rendered_with_every_demo_app() {
    let c = TestConsole::with_demo().await;
    let res = c.get("/").await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    for name in ["Sales dashboard", "Forecast explorer", "Clinical trial monitor", "Monthly ops report"] {
        assert!(html.contains(name), "{name} missing from the page");
    }
    // Nothing was refreshed yet: the page says so instead of inventing a state.
    assert!(html.contains("waiting for data"));
    assert!(html.contains("/pkg/shinyfleet.js"), "hydration script missing");
}

#[tokio::test]
async fn the_fleet_page_shows_the_state_the_refresher_cached() {
    let c = TestConsole::with_demo().await;
    c.advance(60);
    assert_eq!(server::refresher::refresh_once(&c.state).await.unwrap().apps, 4);
    let html = c.get("/").await.text().await.unwrap();
    let row = |slug: &str| {
        let start = html.find(&format!("data-slug=\"{slug}\"")).unwrap_or_else(|| panic!("row {slug}"));
        html[start..start + html[start..].find("</tr>").unwrap()].to_owned()
    };
    assert!(row("sales-dashboard").contains(">running<"), "{}", row("sales-dashboard"));
    assert!(row("sales-dashboard").contains("2 / 2"));
    assert!(row("ops-report").contains("scaled to zero"));
    assert!(!html.contains("waiting for data"));
}

#[tokio::test]
async fn the_cached_view_says_what_is_missing_and_what_is_stale() {
    let c = TestConsole::with_demo().await;
    c.advance(60);
    server::refresher::refresh_once(&c.state).await.unwrap();
    // The apps' services disappear from the cloud's answer: each app is shown as not deployed.
    sqlx::query("UPDATE apps SET slug = slug || '-gone' WHERE slug = 'trial-monitor'")
        .execute(&c.state.pool)
        .await
        .unwrap();
    server::refresher::refresh_once(&c.state).await.unwrap();
    let html = c.get("/").await.text().await.unwrap();
    assert!(html.contains("not deployed"));
    // The database marker for staleness survives a failed refresh and is cleared by a good one.
    service::apps::mark_stale(&c.state.pool, "throttled", domain::Clock::now(c.clock.as_ref())).await.unwrap();
    let html = c.get("/").await.text().await.unwrap();
    assert!(html.contains("stale since"));
    server::refresher::refresh_once(&c.state).await.unwrap();
    assert!(!c.get("/").await.text().await.unwrap().contains("stale since"));
}

#[tokio::test]
async fn server_functions_answer_json_to_the_browser() {
    let c = TestConsole::with_demo().await;
    let res = c
        .client
        .post(c.url("/sfn/fleet"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["apps"].as_array().unwrap().len(), 4);
    let info: serde_json::Value = c.client.post(c.url("/sfn/console_info")).send().await.unwrap().json().await.unwrap();
    assert_eq!(info["cloud"], "sandbox");
}

#[tokio::test]
async fn unknown_addresses_get_the_not_found_page_with_404() {
    let c = TestConsole::empty().await;
    let res = c.get("/no/such/page").await;
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("Page not found"));
}

#[tokio::test]
async fn an_unknown_apps_page_answers_404_and_says_so() {
    let c = TestConsole::with_demo().await;
    let res = c.get("/apps/no-such-app").await;
    assert_eq!(res.status(), 404);
    let html = res.text().await.unwrap();
    assert!(html.contains("not found") || html.contains("Not found"), "{html}");
    assert_eq!(c.get("/apps/no-such-app/edit").await.status(), 404);
    // A live app's pages and the register form answer 200.
    assert_eq!(c.get("/apps/sales-dashboard").await.status(), 200);
    assert_eq!(c.get("/apps/new").await.status(), 200);
}

#[tokio::test]
async fn an_empty_registry_says_so() {
    let c = TestConsole::empty().await;
    let html = c.get("/").await.text().await.unwrap();
    assert!(html.contains("No apps yet."));
}

#[tokio::test]
async fn an_internal_failure_shows_a_plain_message_and_no_internal_text() {
    let c = TestConsole::with_demo().await;
    // Break the database under the running console: the Fleet query now fails inside sqlx.
    sqlx::query("DROP TABLE service_status").execute(&c.state.pool).await.unwrap();
    let res = c.get("/").await;
    let html = res.text().await.unwrap();
    assert!(html.contains("Something went wrong on our side"), "{html}");
    assert!(!html.contains("no such table"), "internal error text leaked");
    assert!(!html.contains("service_status"), "internal error text leaked");
    let res = c.client.post(c.url("/sfn/fleet")).send().await.unwrap();
    assert_eq!(res.status(), 500);
    let body = res.text().await.unwrap();
    assert!(!body.contains("no such table"), "{body}");
}

#[tokio::test]
async fn server_function_arguments_that_cannot_be_read_are_a_bad_request() {
    let c = TestConsole::with_demo().await;
    // `create_token` needs a name and a role: a missing field is the caller's mistake.
    let (status, body) = c.call(&c.client, "create_token", &[("role", "viewer")]).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("missing field"), "{body}");
    let tokens: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM api_tokens").fetch_one(&c.state.pool).await.unwrap();
    assert_eq!(tokens, 0);
}
