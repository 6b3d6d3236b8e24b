//! The test harness: the real router on a port of its own, a fresh SQLite file, the sandbox
//! cloud on a clock the test drives, and HTTP clients that keep cookies — one signed in as
//! the demo admin, one anonymous, and more on demand.

#![allow(dead_code)]

pub mod counting;

use cloud::sandbox::{ManualClock, Sandbox};
use server::config::ServeConfig;
use server::AppState;
use server::ChosenCloud;
use service::Cloud;
use std::net::SocketAddr;
use std::sync::Arc;

/// The password of every user the harness creates.
pub const PASSWORD: &str = "Test-pass-2026";
pub const ADMIN: &str = "admin@example.org";
pub const VIEWER: &str = "viewer@example.org";
/// A user of the pool in neither of the console's groups.
pub const OUTSIDER: &str = "outsider@example.org";

/// A console configuration for tests: the defaults plus `args` (flags), never the
/// environment of the machine running the tests.
pub fn config(args: &[&str]) -> ServeConfig {
    ServeConfig::from_flags(args.iter().copied()).expect("test flags parse")
}

pub struct TestConsole {
    pub base: String,
    pub addr: SocketAddr,
    /// Signed in as [`ADMIN`]; sends the console's own `Origin`.
    pub client: reqwest::Client,
    /// Signed in as nobody; sends the console's own `Origin`.
    pub anon: reqwest::Client,
    pub state: AppState,
    pub sandbox: Arc<Sandbox>,
    pub clock: Arc<ManualClock>,
    /// The admin's session cookie (`name=value`), for hand-made requests.
    pub admin_cookie: String,
    _dir: tempfile::TempDir,
}

impl TestConsole {
    /// A console on the sandbox with the demo apps.
    pub async fn with_demo() -> Self {
        Self::spawn(true, &[], None).await
    }

    /// A console on the sandbox with an empty registry.
    pub async fn empty() -> Self {
        Self::spawn(false, &[], None).await
    }

    /// A console with extra flags.
    pub async fn with(args: &[&str]) -> Self {
        Self::spawn(false, args, None).await
    }

    /// A console with extra flags whose cloud `make` builds from the harness's sandbox and
    /// clock; nobody is signed in.
    pub async fn with_cloud(args: &[&str], make: impl FnOnce(&Arc<Sandbox>, &Arc<ManualClock>) -> Cloud) -> Self {
        Self::spawn(false, args, Some(Box::new(make))).await
    }

    async fn spawn(demo_apps: bool, args: &[&str], make: Option<MakeCloud<'_>>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let mut flags = vec!["--database-url", &url, "--listen", "127.0.0.1:0", "--demo-password", PASSWORD];
        flags.extend_from_slice(args);
        let config = config(&flags);
        config.validate().expect("valid test configuration");
        let pool = server::db::connect(&config.database_url).await.expect("database");
        let clock = ManualClock::new("2026-11-30T09:00:00Z".parse().expect("instant"));
        let sandbox = Sandbox::new(clock.clone(), 7);
        let now = domain::Clock::now(clock.as_ref());
        server::seed::prepare_sandbox(&pool, &sandbox, demo_apps, now).await.expect("seed");
        server::seed::prepare_sandbox_users(&pool, &sandbox, &config).await.expect("users");
        domain::directory::Directory::ensure_group(sandbox.as_ref(), "analysts").await.expect("group");
        sandbox.add_user(OUTSIDER, PASSWORD, &["analysts"]).expect("outsider");
        let cloud = make.map(|make| make(&sandbox, &clock));
        let sign_in_admin = cloud.is_none();
        let chosen = ChosenCloud {
            cloud: cloud.unwrap_or_else(|| server::sandbox_cloud(&sandbox)),
            region: Some("sandbox".into()),
            sandbox: Some(sandbox.clone()),
        };
        let state = server::app_state(&config, pool, &chosen, clock.clone());
        let router = server::router(state.clone(), &config).await.expect("router");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await.expect("serve");
        });
        let base = format!("http://{addr}");
        let (client, anon) = (new_client(&base), new_client(&base));
        if !sign_in_admin {
            return Self { base, addr, client, anon, state, sandbox, clock, admin_cookie: String::new(), _dir: dir };
        }
        let res = client
            .post(format!("{base}/sfn/sign_in"))
            .form(&[("email", ADMIN), ("password", PASSWORD), ("next", "/")])
            .send()
            .await
            .expect("sign in");
        assert_eq!(res.status(), 200, "the admin could not sign in");
        let admin_cookie = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix("shinyfleet_session=").map(|rest| rest.split(';').next().unwrap_or_default()))
            .map(|value| format!("shinyfleet_session={value}"))
            .expect("a session cookie");
        Self { base, addr, client, anon, state, sandbox, clock, admin_cookie, _dir: dir }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// GET as the admin.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request")
    }

    /// A new client with its own cookies, sending the console's own `Origin`.
    pub fn new_client(&self) -> reqwest::Client {
        new_client(&self.base)
    }

    /// A new client signed in as `email` with the harness's password.
    pub async fn client_for(&self, email: &str) -> reqwest::Client {
        let client = self.new_client();
        let res = self.sign_in(&client, email, PASSWORD).await;
        assert_eq!(res["SignedIn"]["next"], "/", "{email} could not sign in: {res}");
        client
    }

    /// Calls the sign-in server function and returns its JSON answer (or error).
    pub async fn sign_in(&self, client: &reqwest::Client, email: &str, password: &str) -> serde_json::Value {
        self.call(client, "sign_in", &[("email", email), ("password", password), ("next", "/")]).await.1
    }

    /// Calls a server function with form fields: (status, JSON body).
    pub async fn call(
        &self,
        client: &reqwest::Client,
        endpoint: &str,
        fields: &[(&str, &str)],
    ) -> (u16, serde_json::Value) {
        let res = client.post(self.url(&format!("/sfn/{endpoint}"))).form(fields).send().await.expect("request");
        let status = res.status().as_u16();
        let text = res.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
    }

    /// The audit log's actions, oldest first.
    pub async fn audit_actions(&self) -> Vec<(String, String, String)> {
        sqlx::query_as::<_, (String, String, String)>("SELECT actor, action, target FROM audit_log ORDER BY id")
            .fetch_all(&self.state.pool)
            .await
            .expect("audit")
    }

    /// Advances the sandbox's clock.
    pub fn advance(&self, secs: i64) {
        self.clock.advance(chrono::Duration::seconds(secs));
    }
}

type MakeCloud<'a> = Box<dyn FnOnce(&Arc<Sandbox>, &Arc<ManualClock>) -> Cloud + 'a>;

fn new_client(base: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::ORIGIN, base.parse().expect("origin"));
    reqwest::Client::builder()
        .cookie_store(true)
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("client")
}
