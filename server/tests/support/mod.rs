//! The test harness: the real router on a port of its own, a fresh SQLite file, the sandbox
//! cloud on a clock the test drives, and an HTTP client that keeps cookies.

#![allow(dead_code)]

use app::ssr::AppState;
use cloud::sandbox::{ManualClock, Sandbox};
use server::config::ServeConfig;
use server::ChosenCloud;
use std::net::SocketAddr;
use std::sync::Arc;

/// A console configuration for tests: the defaults plus `args` (flags), never the
/// environment of the machine running the tests.
pub fn config(args: &[&str]) -> ServeConfig {
    ServeConfig::from_flags(args.iter().copied()).expect("test flags parse")
}

pub struct TestConsole {
    pub base: String,
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub state: AppState,
    pub sandbox: Arc<Sandbox>,
    pub clock: Arc<ManualClock>,
    _dir: tempfile::TempDir,
}

impl TestConsole {
    /// A console on the sandbox with the demo apps.
    pub async fn with_demo() -> Self {
        Self::spawn(true).await
    }

    /// A console on the sandbox with an empty registry.
    pub async fn empty() -> Self {
        Self::spawn(false).await
    }

    async fn spawn(demo: bool) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let config = config(&["--database-url", &url, "--listen", "127.0.0.1:0"]);
        let pool = server::db::connect(&config.database_url).await.expect("database");
        let clock = ManualClock::new("2026-11-30T09:00:00Z".parse().expect("instant"));
        let sandbox = Sandbox::new(clock.clone(), 7);
        server::seed::prepare_sandbox(&pool, &sandbox, demo, domain::Clock::now(clock.as_ref())).await.expect("seed");
        let chosen = ChosenCloud {
            cloud: server::sandbox_cloud(&sandbox),
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
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .expect("client");
        Self { base: format!("http://{addr}"), addr, client, state, sandbox, clock, _dir: dir }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request")
    }

    /// Advances the sandbox's clock.
    pub fn advance(&self, secs: i64) {
        self.clock.advance(chrono::Duration::seconds(secs));
    }
}
