//! `/healthz` as a stranger, a load balancer and an admin meet it: anyone gets the status
//! word, only an admin (session or token) the details and the cloud's error text, and a
//! flood of checks costs the cloud one probe every few seconds.

mod support;

use domain::{CloudError, Role};
use serde_json::{json, Value};
use server::health::CLOUD_PROBE_TTL_SECS;
use service::Cloud;
use std::sync::Arc;
use std::time::Duration;
use support::counting::{CountingFleet, Faults, Log};
use support::{TestConsole, ADMIN, VIEWER};

/// What IAM answers a role without `ecs:DescribeClusters`: the account and the role in clear.
const ACCESS_DENIED: &str = "User: arn:aws:sts::123456789012:assumed-role/shinyfleet-console/i-0abc is not \
     authorized to perform: ecs:DescribeClusters on resource: arn:aws:ecs:eu-west-1:123456789012:cluster/shinyfleet";

struct Harness {
    c: TestConsole,
    log: Log,
    faults: Faults,
}

impl Harness {
    async fn new() -> Self {
        let (log, faults): (Log, Faults) = (Arc::default(), Arc::default());
        let (l, f) = (log.clone(), faults.clone());
        // Each probe takes a while, so that concurrent checks overlap it.
        let probe_takes = Duration::from_millis(100);
        let c = TestConsole::with_cloud(&[], move |sandbox, _| Cloud {
            fleet: Arc::new(CountingFleet { ecs: sandbox.clone(), log: l, faults: f, probe_takes }),
            ..server::sandbox_cloud(sandbox)
        })
        .await;
        Self { c, log, faults }
    }

    fn probes(&self) -> usize {
        self.log.lock().unwrap().iter().filter(|(call, _)| *call == "probe").count()
    }

    /// `/healthz` as `client`, optionally with a bearer token: (status, body as text).
    async fn health(&self, client: &reqwest::Client, token: Option<&str>) -> (u16, String) {
        let mut req = client.get(self.c.url("/healthz"));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let res = req.send().await.expect("request");
        (res.status().as_u16(), res.text().await.expect("body"))
    }

    async fn token(&self, role: Role) -> String {
        let now = domain::Clock::now(self.c.clock.as_ref());
        let name = format!("health-{}", role.as_str());
        service::tokens::create(&self.c.state.pool, &name, role, "test", None, now).await.expect("token").1
    }
}

#[tokio::test]
async fn strangers_and_viewers_get_the_status_word_and_only_admins_the_clouds_error() {
    let h = Harness::new().await;
    h.faults.lock().unwrap().insert("probe", CloudError::NotAuthorized(ACCESS_DENIED.into()));
    let (admin, viewer) = (h.c.client_for(ADMIN).await, h.c.client_for(VIEWER).await);
    let (admin_token, viewer_token) = (h.token(Role::Admin).await, h.token(Role::Viewer).await);

    // Anonymous (a load balancer's health check), a viewer by session and by token: the word.
    for (who, client, token) in
        [("anonymous", &h.c.anon, None), ("viewer", &viewer, None), ("viewer token", &h.c.anon, Some(&viewer_token))]
    {
        let (status, body) = h.health(client, token.map(String::as_str)).await;
        assert_eq!((status, body.as_str()), (200, r#"{"status":"degraded"}"#), "{who}");
    }

    // An admin, by session or token: each check, with the cloud's own words.
    for (who, client, token) in [("admin", &admin, None), ("admin token", &h.c.anon, Some(&admin_token))] {
        let (status, body) = h.health(client, token.map(String::as_str)).await;
        assert_eq!(status, 200, "{who}: {body}");
        let body: Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(
            (&body["status"], &body["database"]["ok"], &body["cloud"]["ok"]),
            (&json!("degraded"), &json!(true), &json!(false)),
            "{who}: {body}"
        );
        let error = body["cloud"]["error"].as_str().unwrap_or_default();
        assert!(error.contains("ecs:DescribeClusters") && error.contains("123456789012"), "{who}: {body}");
    }

    // A healthy cloud, once the cached probe has expired: "ok" for everyone.
    h.faults.lock().unwrap().remove("probe");
    h.c.advance(CLOUD_PROBE_TTL_SECS);
    assert_eq!(h.health(&h.c.anon, None).await, (200, r#"{"status":"ok"}"#.to_owned()));
    let (_, body) = h.health(&admin, None).await;
    let body: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(
        (&body["status"], &body["cloud"]["ok"], &body["cloud"]["error"]),
        (&json!("ok"), &json!(true), &Value::Null)
    );
}

#[tokio::test]
async fn a_flood_of_health_checks_costs_one_cloud_probe_every_five_seconds() {
    let h = Harness::new().await;
    assert_eq!(CLOUD_PROBE_TTL_SECS, 5, "the README and the module say five seconds");

    // Fifty at once, while the first probe is still under way: they all wait for that one.
    let flood = (0..50).map(|_| h.health(&h.c.anon, None));
    for (status, body) in futures::future::join_all(flood).await {
        assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
    }
    assert_eq!(h.probes(), 1, "concurrent checks share one probe");

    // Later checks within five seconds reuse it.
    h.c.advance(CLOUD_PROBE_TTL_SECS - 1);
    for _ in 0..10 {
        assert_eq!(h.health(&h.c.anon, None).await.0, 200);
    }
    assert_eq!(h.probes(), 1, "a probe younger than {CLOUD_PROBE_TTL_SECS} s answers");

    // Five seconds after it was made, the next check probes again, once.
    h.c.advance(1);
    for _ in 0..10 {
        assert_eq!(h.health(&h.c.anon, None).await.0, 200);
    }
    assert_eq!(h.probes(), 2);
}
