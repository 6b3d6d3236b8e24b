//! Every server function and every `/api/v1` route, enumerated from what the router is built
//! from, answers anonymous callers 401, viewers 403 on changes, and admins — so a new one
//! cannot be added without its check. Also: API tokens.

mod support;

use app::api::{access_of, Access};
use domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{TestConsole, VIEWER};

/// Every registered server function, from the registry the server dispatches with.
fn server_functions() -> Vec<String> {
    let mut paths: Vec<String> = leptos::server_fn::axum::server_fn_paths().map(|(path, _)| path.to_owned()).collect();
    paths.sort();
    paths.dedup();
    paths
}

#[tokio::test]
async fn every_server_function_checks_the_callers_role() {
    let c = TestConsole::with_demo().await;
    let viewer = c.client_for(VIEWER).await;
    let paths = server_functions();
    assert!(paths.len() >= 16, "{paths:?}");
    for path in &paths {
        let access = access_of(path).unwrap_or_else(|| panic!("{path} is missing from app::api::ACCESS"));
        let status = |client: reqwest::Client| {
            let url = c.url(path);
            async move { client.post(url).form(&[("unused", "")]).send().await.unwrap().status() }
        };
        // sign_out would end the shared sessions: it is public and covered elsewhere.
        if path.ends_with("/sign_out") {
            assert_eq!(access, Access::Public);
            continue;
        }
        match access {
            Access::Public => {}
            Access::Role(role) => {
                assert_eq!(status(c.anon.clone()).await, StatusCode::UNAUTHORIZED, "anonymous {path}");
                let as_viewer = status(viewer.clone()).await;
                if role == Role::Admin {
                    assert_eq!(as_viewer, StatusCode::FORBIDDEN, "viewer {path}");
                } else {
                    assert!(![401, 403].contains(&as_viewer.as_u16()), "viewer {path}: {as_viewer}");
                }
            }
        }
        let as_admin = status(c.client.clone()).await;
        assert!(![401, 403, 404].contains(&as_admin.as_u16()), "admin {path}: {as_admin}");
    }
    // A path that is no server function is not served as one.
    assert_eq!(c.client.post(c.url("/sfn/made_up")).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn every_api_route_checks_the_callers_role() {
    let c = TestConsole::with_demo().await;
    let viewer = c.client_for(VIEWER).await;
    let routes = server::api::routes();
    assert!(routes.len() >= 9);
    for route in &routes {
        // A user, app or deploy that does not exist: the handler answers, but nothing real changes.
        let path = route
            .path
            .replace("{username}", "ghost@example.org")
            .replace("{slug}", "no-such-app")
            .replace("{id}", "999999");
        let send = |client: reqwest::Client| {
            let (method, url) = (route.method.clone(), c.url(&path));
            async move {
                let mut req = client.request(Method::from_bytes(method.as_str().as_bytes()).unwrap(), url);
                if method == Method::POST {
                    req = req.json(&json!({ "email": "not-an-email" }));
                }
                req.send().await.unwrap().status()
            }
        };
        let what = format!("{} {}", route.method, route.path);
        assert_eq!(send(c.anon.clone()).await, StatusCode::UNAUTHORIZED, "anonymous {what}");
        let as_viewer = send(viewer.clone()).await;
        if route.role == Role::Admin {
            assert_eq!(as_viewer, StatusCode::FORBIDDEN, "viewer {what}");
        } else {
            let allowed = ![401, 403].contains(&as_viewer.as_u16()) && as_viewer.as_u16() < 500;
            assert!(allowed, "viewer {what}: {as_viewer}");
        }
        let as_admin = send(c.client.clone()).await;
        assert!(![401, 403].contains(&as_admin.as_u16()) && as_admin.as_u16() < 500, "admin {what}: {as_admin}");
    }
    let res = c.client.get(c.url("/api/v1/nothing-here")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(res.json::<Value>().await.unwrap()["error"]["code"], "not_found");
}

#[tokio::test]
async fn every_page_sends_anonymous_visitors_to_sign_in() {
    let c = TestConsole::with_demo().await;
    for path in ["/", "/schedules", "/costs", "/people", "/audit", "/settings", "/no/such/page"] {
        let res = c.anon.get(c.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
        assert!(res.headers()["location"].to_str().unwrap().starts_with("/sign-in?next="), "{path}");
        assert_eq!(c.get(path).await.status(), if path == "/no/such/page" { 404 } else { 200 }, "{path}");
    }
}

async fn create_token(c: &TestConsole, name: &str, role: &str) -> String {
    let (status, created) = c.call(&c.client, "create_token", &[("name", name), ("role", role)]).await;
    assert_eq!(status, 200, "{created}");
    created["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn api_tokens_authenticate_scripts_with_their_role_until_revoked() {
    let c = TestConsole::with_demo().await;
    let script = reqwest::Client::new();
    let admin_token = create_token(&c, "ci-deploy", "admin").await;
    let viewer_token = create_token(&c, "dashboards", "viewer").await;
    let me: Value =
        script.get(c.url("/api/v1/me")).bearer_auth(&admin_token).send().await.unwrap().json().await.unwrap();
    assert_eq!(me, json!({ "name": "ci-deploy", "actor": "token:ci-deploy", "role": "admin", "via": "token" }));

    // Scripts send no Origin: allowed for token requests, which browsers never send on their own.
    let invite = |token: &str| {
        script.post(c.url("/api/v1/users")).bearer_auth(token).json(&json!({ "email": "grace@example.org" })).send()
    };
    assert_eq!(invite(&viewer_token).await.unwrap().status(), 403);
    let res = invite(&admin_token).await.unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "invited");
    assert!(c.audit_actions().await.contains(&(
        "token:ci-deploy".into(),
        "user.invite".into(),
        "grace@example.org".into()
    )));

    // Only a hash is stored.
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT token_hash FROM api_tokens").fetch_all(&c.state.pool).await.unwrap();
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|h| h.len() == 64 && *h != admin_token && *h != viewer_token));

    // A duplicate name is a field error; a revoked token is refused.
    let (status, e) = c.call(&c.client, "create_token", &[("name", "ci-deploy"), ("role", "viewer")]).await;
    assert_eq!((status, &e["Invalid"]["field"]), (422, &Value::from("name")));
    let (_, tokens) = c.call(&c.client, "tokens", &[]).await;
    let id = tokens.as_array().unwrap().iter().find(|t| t["name"] == "ci-deploy").unwrap()["id"].as_i64().unwrap();
    assert_eq!(c.call(&c.client, "revoke_token", &[("id", &id.to_string())]).await.0, 200);
    assert_eq!(script.get(c.url("/api/v1/me")).bearer_auth(&admin_token).send().await.unwrap().status(), 401);
    assert_eq!(c.call(&c.client, "revoke_token", &[("id", &id.to_string())]).await.0, 404);
    // Made-up and malformed tokens are refused, even on pages.
    assert_eq!(script.get(c.url("/api/v1/me")).bearer_auth("sft_made_up").send().await.unwrap().status(), 401);
    let res = script.get(c.url("/")).header("authorization", "Bearer ").send().await.unwrap();
    assert_eq!(res.status(), 401);
    // Another scheme (a proxy's Basic auth) is not the console's business: just not signed in.
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = no_redirects.get(c.url("/")).header("authorization", "Basic YWRtaW46YWRtaW4=").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // Viewers cannot manage tokens.
    let viewer = c.client_for(VIEWER).await;
    assert_eq!(c.call(&viewer, "tokens", &[]).await.0, 403);
}

#[tokio::test]
async fn the_users_api_refuses_bad_input_with_a_field_message_and_changes_nothing() {
    let c = TestConsole::with_demo().await;
    let token = create_token(&c, "automation", "admin").await;
    let script = reqwest::Client::new();
    let users = || async {
        let page: Value =
            script.get(c.url("/api/v1/users")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        page["users"].as_array().unwrap().len()
    };
    let audit_before = c.audit_actions().await.len();
    let count = users().await;
    for (body, code, field) in [
        (json!({ "email": "not-an-email" }), 422, Some("email")),
        (json!({ "email": support::ADMIN }), 422, Some("email")),
        (json!({ "email": "new@example.org", "group": "no-such-group" }), 422, Some("group")),
        (json!({ "email": 42 }), 400, None),
        (json!({ "mail": "typo@example.org" }), 400, None),
        (json!({ "email": format!("{}@example.org", "a".repeat(5000)) }), 422, Some("email")),
    ] {
        let res = script.post(c.url("/api/v1/users")).bearer_auth(&token).json(&body).send().await.unwrap();
        assert_eq!(res.status().as_u16(), code, "{body}");
        let e: Value = res.json().await.unwrap();
        assert!(!e["error"]["message"].as_str().unwrap().is_empty(), "{e}");
        if let Some(field) = field {
            assert_eq!(e["error"]["field"], field, "{body}");
        }
    }
    let res = script
        .post(c.url("/api/v1/users"))
        .bearer_auth(&token)
        .body("{not json")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(users().await, count);
    assert_eq!(c.audit_actions().await.len(), audit_before, "a refused request was audited as a change");
    let res = script.post(c.url("/api/v1/users/ghost@example.org/disable")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn the_audit_api_filters_and_exports_csv() {
    let c = TestConsole::with_demo().await;
    let token = create_token(&c, "auditor", "viewer").await;
    let (status, _) = c.call(&c.client, "invite_person", &[("email", "ada@example.org")]).await;
    assert_eq!(status, 200);
    let script = reqwest::Client::new();
    let get = |query: &'static str| script.get(c.url(&format!("/api/v1/audit{query}"))).bearer_auth(&token).send();
    let all: Value = get("").await.unwrap().json().await.unwrap();
    let actions: Vec<&str> = all["rows"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["user.invite", "token.create", "auth.sign_in"], "newest first");
    let invites: Value = get("?action=invite&actor=admin").await.unwrap().json().await.unwrap();
    assert_eq!(invites["rows"].as_array().unwrap().len(), 1);
    assert_eq!(invites["rows"][0]["target"], "ada@example.org");
    let none: Value = get("?from=2026-12-01").await.unwrap().json().await.unwrap();
    assert!(none["rows"].as_array().unwrap().is_empty());
    let res = get("?from=tomorrow").await.unwrap();
    assert_eq!(res.status(), 422);
    let res = get(".csv?action=user.").await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-disposition"].to_str().unwrap().starts_with("attachment;"));
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.trim_end().split("\r\n").collect();
    assert_eq!(lines[0], "id,at,actor,source,action,target,before,after");
    assert_eq!(lines.len(), 2);
    assert!(lines[1].contains(",admin@example.org,127.0.0.1,user.invite,ada@example.org,"), "{}", lines[1]);
}
