//! The Fleet page's render cache (`server::page_cache`) never shows a page that a fresh render
//! would not: a change is visible on the next view, each person gets their own page, and
//! time moves on. (How fast it serves is measured by `make bench`, not here.)

mod support;

use serde_json::json;
use support::{TestConsole, VIEWER};

async fn fleet_html(client: &reqwest::Client, c: &TestConsole) -> String {
    let res = client.get(c.url("/")).send().await.expect("request");
    assert_eq!(res.status(), 200);
    res.text().await.expect("body")
}

#[tokio::test]
async fn a_change_shows_on_the_very_next_view_even_within_the_same_second() {
    let c = TestConsole::with_demo().await;
    assert!(fleet_html(&c.client, &c).await.contains("Sales dashboard"));
    // The clock does not move: only the write can tell the cache the page changed.
    let res =
        c.client.patch(c.url("/api/v1/apps/sales-dashboard")).json(&json!({ "name": "Revenue board" })).send().await;
    assert_eq!(res.expect("patch").status(), 200);
    let html = fleet_html(&c.client, &c).await;
    assert!(html.contains("Revenue board") && !html.contains("Sales dashboard"), "the renamed app is shown at once");

    // A write by anything else on the database (the poller, another console) counts too.
    sqlx::query("UPDATE apps SET name = 'Forecasts, renamed elsewhere' WHERE slug = 'forecast-explorer'")
        .execute(&c.state.pool)
        .await
        .expect("write");
    assert!(fleet_html(&c.client, &c).await.contains("Forecasts, renamed elsewhere"));
}

#[tokio::test]
async fn each_person_gets_their_own_page_in_the_same_second() {
    let c = TestConsole::with_demo().await;
    let viewer = c.client_for(VIEWER).await;
    for _ in 0..2 {
        // Admins may register apps; viewers are not offered the button.
        assert!(fleet_html(&c.client, &c).await.contains("Register app"));
        assert!(!fleet_html(&viewer, &c).await.contains("Register app"));
    }
    // Nobody signed in is sent to sign in, never served someone's page.
    let res = c.anon.get(c.url("/")).send().await.expect("request");
    assert_eq!(res.status(), 303);
}

/// 24 views of the Fleet page at once.
async fn burst(c: &TestConsole) -> Vec<String> {
    futures::future::join_all((0..24).map(|_| fleet_html(&c.client, c))).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_while_a_page_renders_are_at_most_a_second_behind_and_never_miss_a_write() {
    let c = TestConsole::with_demo().await;
    c.advance(60);
    server::refresher::refresh_once(&c.state).await.expect("refresh");
    assert!(fleet_html(&c.client, &c).await.contains("0 s ago"));
    // The clock turns: one view renders the new second, the others may get the last one.
    c.advance(1);
    for html in burst(&c).await {
        assert!(html.contains("1 s ago") || html.contains("0 s ago"), "a page more than a second old");
    }
    assert!(fleet_html(&c.client, &c).await.contains("1 s ago"), "the new second's render is kept");
    // A write and a turn of the clock together: no view may show the page from before it.
    sqlx::query("UPDATE apps SET name = 'Sales, renamed' WHERE slug = 'sales-dashboard'")
        .execute(&c.state.pool)
        .await
        .expect("write");
    c.advance(1);
    for html in burst(&c).await {
        assert!(html.contains("Sales, renamed") && html.contains("2 s ago"), "a view missed the write");
    }
}

#[tokio::test]
async fn ages_move_on_with_the_clock() {
    let c = TestConsole::with_demo().await;
    c.advance(60);
    server::refresher::refresh_once(&c.state).await.expect("refresh");
    assert!(fleet_html(&c.client, &c).await.contains("0 s ago"));
    c.advance(7);
    let html = fleet_html(&c.client, &c).await;
    assert!(html.contains("7 s ago") && !html.contains("0 s ago"), "the page is rendered again a second later");
}

#[tokio::test]
async fn the_app_list_follows_every_change_and_each_callers_role() {
    let c = TestConsole::with_demo().await;
    let list = |client: reqwest::Client| {
        let url = c.url("/api/v1/apps");
        async move { client.get(url).send().await.expect("list").json::<serde_json::Value>().await.expect("json") }
    };
    assert_eq!(list(c.client.clone()).await.as_array().map(Vec::len), Some(4));
    let res = c.client.delete(c.url("/api/v1/apps/ops-report")).send().await.expect("delete");
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(list(c.client.clone()).await.as_array().map(Vec::len), Some(3), "the deleted app is gone at once");
    // A viewer never gets the admin's answer (environment values are hidden from viewers).
    let viewer = c.client_for(VIEWER).await;
    sqlx::query("UPDATE apps SET env_json = '[[\"DB_PASSWORD\",\"hunter2\"]]' WHERE slug = 'sales-dashboard'")
        .execute(&c.state.pool)
        .await
        .expect("write");
    let admin_view = list(c.client.clone()).await.to_string();
    let viewer_view = list(viewer).await.to_string();
    assert!(admin_view.contains("hunter2"));
    assert!(!viewer_view.contains("hunter2") && viewer_view.contains("********"));
}
