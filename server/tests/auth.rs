//! Sign-in, sessions, roles, origin checks and API tokens, through the real router.

mod support;

use reqwest::StatusCode;
use serde_json::Value;
use support::{TestConsole, ADMIN, OUTSIDER, PASSWORD, VIEWER};

fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("shinyfleet_session="))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn anonymous_visitors_are_sent_to_sign_in_and_come_back_where_they_were() {
    let c = TestConsole::with_demo().await;
    let res = c.anon.get(c.url("/people?q=ann")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/sign-in?next=/people%3Fq%3Dann");
    let res = c.anon.get(c.url("/sign-in")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("Sign in"));
    assert!(!html.contains("Sales dashboard"), "the sign-in page leaks the fleet");
    // Health and the compiled site stay public (the tests build no site: its files are 404).
    assert_eq!(c.anon.get(c.url("/healthz")).send().await.unwrap().status(), 200);
    assert_eq!(c.anon.get(c.url("/pkg/shinyfleet.css")).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn a_user_signs_in_uses_the_console_and_signs_out() {
    let c = TestConsole::with_demo().await;
    let client = c.new_client();
    let answer = c
        .call(&client, "sign_in", &[("email", " Viewer@Example.org "), ("password", PASSWORD), ("next", "/people")])
        .await;
    assert_eq!(answer, (200, serde_json::json!({ "SignedIn": { "next": "/people" } })));
    let res = client.get(c.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Sales dashboard"));
    let (_, me) = c.call(&client, "whoami", &[]).await;
    assert_eq!(me["email"], VIEWER);
    assert_eq!(me["role"], "viewer");
    // A signed-in user asking for the sign-in page is sent home.
    assert_eq!(client.get(c.url("/sign-in")).send().await.unwrap().status(), StatusCode::SEE_OTHER);

    assert_eq!(c.call(&client, "sign_out", &[]).await, (200, Value::from("/sign-in")));
    assert_eq!(client.get(c.url("/")).send().await.unwrap().status(), StatusCode::SEE_OTHER);
    assert_eq!(c.call(&client, "whoami", &[]).await, (200, Value::Null));
    let audit = c.audit_actions().await;
    assert!(audit.contains(&(VIEWER.into(), "auth.sign_in".into(), VIEWER.into())), "{audit:?}");
    assert!(audit.contains(&(VIEWER.into(), "auth.sign_out".into(), VIEWER.into())), "{audit:?}");
}

#[tokio::test]
async fn the_session_id_is_renewed_at_sign_in() {
    let c = TestConsole::with_demo().await;
    let admin = c.client.clone();
    // An invited user's first step stores the pending challenge: the session gets a cookie.
    let (status, invited) =
        c.call(&admin, "invite_person", &[("email", "ada@example.org"), ("group", "shinyfleet-viewers")]).await;
    assert_eq!(status, 200, "{invited}");
    let temporary = invited["sandbox_temporary_password"].as_str().unwrap().to_owned();
    let client = c.new_client();
    let res = client
        .post(c.url("/sfn/sign_in"))
        .form(&[("email", "ada@example.org"), ("password", temporary.as_str()), ("next", "/")])
        .send()
        .await
        .unwrap();
    let before = session_cookie(&res).expect("a session for the challenge");
    let answer: Value = res.json().await.unwrap();
    assert_eq!(answer["NewPasswordRequired"]["email"], "ada@example.org");
    assert_eq!(
        answer["NewPasswordRequired"]["rules"],
        serde_json::json!(["At least 8 characters", "An upper-case and a lower-case letter", "A digit"])
    );
    assert!(!answer.to_string().contains(&temporary));

    let (status, e) = c
        .call(&client, "set_new_password", &[("password", "Lovelace1815"), ("confirm", "Lovelace1816"), ("next", "/")])
        .await;
    assert_eq!((status, &e["Invalid"]["field"]), (422, &Value::from("confirm")));
    let (status, e) =
        c.call(&client, "set_new_password", &[("password", "weak"), ("confirm", "weak"), ("next", "/")]).await;
    assert_eq!((status, &e["Invalid"]["field"]), (422, &Value::from("password")), "{e}");
    let res = client
        .post(c.url("/sfn/set_new_password"))
        .form(&[("password", "Lovelace1815"), ("confirm", "Lovelace1815"), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let after = session_cookie(&res).expect("a renewed session cookie");
    assert_ne!(before, after, "the session id must change at sign-in");
    assert_eq!(client.get(c.url("/")).send().await.unwrap().status(), 200);
    // The old id is worth nothing.
    let stale = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = stale.get(c.url("/")).header("cookie", before).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn wrong_passwords_are_refused_alike_audited_and_throttled() {
    let c = TestConsole::with_demo().await;
    let client = c.new_client();
    let wrong = c.sign_in(&client, VIEWER, "Wrong-pass-1").await;
    let unknown = c.sign_in(&client, "nobody@example.org", "Wrong-pass-1").await;
    assert_eq!(wrong, Value::from("BadCredentials"));
    assert_eq!(unknown, wrong, "an unknown account must look like a wrong password");
    for _ in 0..4 {
        c.sign_in(&client, VIEWER, "Wrong-pass-1").await;
    }
    // Five failures: even the right password is refused for a while, with a clear message.
    let (status, e) = c.call(&client, "sign_in", &[("email", VIEWER), ("password", PASSWORD), ("next", "/")]).await;
    assert_eq!(status, 429);
    assert!(e["TooManyAttempts"]["minutes"].as_i64().unwrap() >= 1);
    c.advance(16 * 60);
    assert_eq!(c.sign_in(&client, VIEWER, PASSWORD).await["SignedIn"]["next"], "/");
    let failures = c.audit_actions().await.into_iter().filter(|(_, a, _)| a == "auth.sign_in_failed").count();
    assert_eq!(failures, 6);
    // Bad input is a field error, not a sign-in attempt.
    let (status, e) = c.call(&client, "sign_in", &[("email", "not an email"), ("password", "x"), ("next", "/")]).await;
    assert_eq!((status, &e["Invalid"]["field"]), (422, &Value::from("email")));
}

#[tokio::test]
async fn a_user_in_neither_group_is_refused_after_sign_in_with_a_clear_message() {
    let c = TestConsole::with_demo().await;
    let client = c.new_client();
    let (status, e) = c.call(&client, "sign_in", &[("email", OUTSIDER), ("password", PASSWORD), ("next", "/")]).await;
    assert_eq!(status, 403);
    assert_eq!(e["NoAccess"]["email"], OUTSIDER);
    assert_eq!(e["NoAccess"]["admins"], "shinyfleet-admins");
    assert_eq!(client.get(c.url("/")).send().await.unwrap().status(), StatusCode::SEE_OTHER);
    assert!(c.audit_actions().await.contains(&(OUTSIDER.into(), "auth.sign_in_refused".into(), OUTSIDER.into())));
}

#[tokio::test]
async fn disabling_a_user_ends_their_session_and_refuses_their_sign_in() {
    let c = TestConsole::with_demo().await;
    let viewer = c.client_for(VIEWER).await;
    assert_eq!(viewer.get(c.url("/")).send().await.unwrap().status(), 200);
    let (status, body) = c.call(&c.client, "set_person_enabled", &[("username", VIEWER), ("enabled", "false")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(viewer.get(c.url("/")).send().await.unwrap().status(), StatusCode::SEE_OTHER);
    assert_eq!(c.sign_in(&c.new_client(), VIEWER, PASSWORD).await, Value::from("BadCredentials"));
    // An admin cannot lock themselves out.
    let (status, body) = c.call(&c.client, "set_person_enabled", &[("username", ADMIN), ("enabled", "false")]).await;
    assert_eq!(status, 409, "{body}");
}

#[tokio::test]
async fn sessions_end_after_the_absolute_limit_however_active() {
    let c = TestConsole::with(&["--session-max-hours", "2"]).await;
    for _ in 0..3 {
        assert_eq!(c.get("/").await.status(), 200);
        c.advance(50 * 60);
    }
    assert_eq!(c.get("/").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn changes_from_another_origin_or_without_one_are_refused() {
    let c = TestConsole::with_demo().await;
    let invite = |origin: Option<&'static str>, referer: Option<String>| {
        let mut req = reqwest::Client::builder().cookie_store(false).build().unwrap().post(c.url("/sfn/invite_person"));
        req = req.header("cookie", c.admin_cookie.clone()).form(&[("email", "eve@example.org")]);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        if let Some(r) = referer {
            req = req.header("referer", r);
        }
        req
    };
    assert_eq!(invite(Some("http://evil.example"), None).send().await.unwrap().status(), 403);
    assert_eq!(invite(None, None).send().await.unwrap().status(), 403);
    assert_eq!(invite(None, Some("http://evil.example/people".into())).send().await.unwrap().status(), 403);
    assert!(!c.audit_actions().await.iter().any(|(_, a, _)| a == "user.invite"), "a refused request changed something");
    // The console's own page as Referer is enough.
    let res = invite(None, Some(c.url("/people"))).send().await.unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

#[tokio::test]
async fn user_names_are_compared_without_case_for_revocations_and_self_protection() {
    let c = TestConsole::with_demo().await;
    let viewer = c.client_for(VIEWER).await;
    // The API takes the name as typed; the pool does not care about case, and neither may we.
    let (status, body) =
        c.call(&c.client, "set_person_enabled", &[("username", "Viewer@Example.ORG"), ("enabled", "false")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(viewer.get(c.url("/")).send().await.unwrap().status(), StatusCode::SEE_OTHER);
    let (status, _) =
        c.call(&c.client, "delete_person", &[("username", "ADMIN@example.org"), ("confirm", ADMIN)]).await;
    assert_eq!(status, 409, "an admin deleted their own account");
}

#[tokio::test]
async fn signing_out_ends_the_users_other_sessions_too() {
    let c = TestConsole::with_demo().await;
    let (laptop, phone) = (c.client_for(VIEWER).await, c.client_for(VIEWER).await);
    c.advance(1);
    assert_eq!(c.call(&laptop, "sign_out", &[]).await.0, 200);
    assert_eq!(phone.get(c.url("/")).send().await.unwrap().status(), StatusCode::SEE_OTHER);
    // Signing in again afterwards works.
    c.advance(1);
    let again = c.client_for(VIEWER).await;
    assert_eq!(again.get(c.url("/")).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn a_session_the_console_cannot_read_is_treated_as_signed_out() {
    let c = TestConsole::with_demo().await;
    use tower_sessions::session_store::SessionStore;
    // Another version of the console wrote a principal this one cannot read.
    let store = tower_sessions_sqlx_store::SqliteStore::new(c.state.pool.clone());
    let id: tower_sessions::session::Id = c.admin_cookie.trim_start_matches("shinyfleet_session=").parse().unwrap();
    let mut record = store.load(&id).await.unwrap().expect("the admin's session is stored");
    record.data.insert("principal".into(), serde_json::json!({ "user": "from another version" }));
    store.save(&record).await.unwrap();
    assert_eq!(c.get("/").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(c.anon.get(c.url("/sign-in")).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn the_last_active_admin_cannot_be_disabled_deleted_or_demoted() {
    let c = TestConsole::with_demo().await;
    // A script (not a user, so the self-protection does not apply) manages the admins.
    let (status, created) = c.call(&c.client, "create_token", &[("name", "ops"), ("role", "admin")]).await;
    assert_eq!(status, 200, "{created}");
    let token = created["token"].as_str().unwrap().to_owned();
    let script = reqwest::Client::new();
    let post = |path: String| script.post(c.url(&path)).bearer_auth(&token).send();
    // The viewer becomes a second admin, so the first one may go.
    let (status, _) = c
        .call(
            &c.client,
            "set_person_group",
            &[("username", VIEWER), ("group", "shinyfleet-admins"), ("member", "true")],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(post(format!("/api/v1/users/{ADMIN}/disable")).await.unwrap().status(), 204);
    // Now the former viewer is the last active admin.
    let res = post(format!("/api/v1/users/{VIEWER}/disable")).await.unwrap();
    assert_eq!(res.status(), 409);
    let message = res.json::<Value>().await.unwrap()["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("last active admin"), "{message}");
    let res = script.delete(c.url(&format!("/api/v1/users/{VIEWER}"))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), 409);
    assert_eq!(post(format!("/api/v1/users/{ADMIN}/enable")).await.unwrap().status(), 204);
    // With two active admins again, one may be disabled.
    assert_eq!(post(format!("/api/v1/users/{VIEWER}/disable")).await.unwrap().status(), 204);
    let refused = c.audit_actions().await.into_iter().filter(|(_, a, t)| a == "user.disable" && t == VIEWER).count();
    assert_eq!(refused, 1, "refused changes are not audited");
}
