//! The `shinyfleet` server as a library: configuration, database, HTTP wiring, background
//! workers and the choice of cloud. `main.rs` only parses the command line and calls
//! [`run`]; tests build the same router with [`router`] on a port of their own.

pub mod api;
mod assets;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod gate;
pub mod health;
pub mod limits;
pub mod metrics_worker;
pub mod page_cache;
mod page_status;
pub mod refresher;
pub mod scheduler;
pub mod seed;
pub mod telemetry;

use axum::body::Body;
use axum::extract::{FromRef, State};
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use cloud::jwt::{AlbVerifier, JwksSource, JwtConfig, JwtVerifier};
use cloud::sandbox::Sandbox;
use config::{CloudBackend, ServeConfig};
use domain::definition::Network;
use domain::view::ConsoleInfo;
use domain::{Clock, SystemClock};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, handle_server_fns_with_context, AxumRouteListing, LeptosRoutes};
use service::auth::{Auth, LoadBalancer};
use service::{Cloud, DeploySettings, SandboxHints, Services};
use sqlx::SqlitePool;
use std::sync::{Arc, OnceLock};
use tower_sessions::{cookie::SameSite, Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::SqliteStore;

/// Why the console could not start: always one line naming the setting or the step.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Db(#[from] db::DbError),
    #[error("sessions: cannot prepare the session table: {0}")]
    Sessions(String),
    #[error("SHINYFLEET_LISTEN: cannot listen on {addr}: {source}")]
    Listen { addr: std::net::SocketAddr, source: std::io::Error },
    #[error("sandbox: cannot prepare the demo fleet: {0}")]
    Seed(String),
}

/// The cloud chosen by the configuration, with what the Settings page shows of it.
pub struct ChosenCloud {
    pub cloud: Cloud,
    pub region: Option<String>,
    /// The sandbox, when that is the backend (for seeding).
    pub sandbox: Option<Arc<Sandbox>>,
}

/// What every handler, page render and server function is given: the Leptos options and the
/// use cases' [`Services`] (which the workers get on their own). Derefs to the services.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub services: Services,
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.services
    }
}

/// Builds the adapters for the configured backend.
pub async fn choose_cloud(config: &ServeConfig, clock: Arc<dyn Clock>) -> ChosenCloud {
    match config.cloud {
        CloudBackend::Sandbox => {
            let sandbox = Sandbox::new(clock, 7);
            ChosenCloud { cloud: sandbox_cloud(&sandbox), region: Some("sandbox".into()), sandbox: Some(sandbox) }
        }
        CloudBackend::Aws => {
            let sdk = cloud::aws::load_sdk_config().await;
            let region = sdk.region().map(|r| r.to_string());
            let (pool_id, client_id) =
                (config.user_pool_id.clone().unwrap_or_default(), config.client_id.clone().unwrap_or_default());
            let issuer = config.token_issuer.clone().unwrap_or_else(|| {
                format!("https://cognito-idp.{}.amazonaws.com/{pool_id}", region.as_deref().unwrap_or("us-east-1"))
            });
            let jwks_url = config
                .jwks_url
                .as_ref()
                .map(url::Url::to_string)
                .unwrap_or_else(|| format!("{}/.well-known/jwks.json", issuer.trim_end_matches('/')));
            let verifier = JwtVerifier::new(
                JwtConfig { issuer, audience: client_id.clone(), jwks: JwksSource::Url(jwks_url) },
                clock.clone(),
            );
            let cloud = Cloud {
                fleet: Arc::new(cloud::aws::EcsFleet::new(&sdk, config.cluster.clone())),
                directory: Arc::new(cloud::aws::CognitoDirectory::new(&sdk, pool_id, client_id)),
                metrics: Arc::new(cloud::aws::CloudWatchMetrics::new(&sdk, config.cluster.clone())),
                registry: Arc::new(cloud::aws::EcrRegistry::new(&sdk)),
                logs: Arc::new(cloud::aws::CloudWatchLogs::new(&sdk)),
                identity: Arc::new(verifier),
            };
            ChosenCloud { cloud, region, sandbox: None }
        }
    }
}

/// Every port served by one sandbox.
pub fn sandbox_cloud(sandbox: &Arc<Sandbox>) -> Cloud {
    Cloud {
        fleet: sandbox.clone(),
        directory: sandbox.clone(),
        metrics: sandbox.clone(),
        registry: sandbox.clone(),
        logs: sandbox.clone(),
        identity: Arc::new(sandbox.identity_verifier()),
    }
}

/// The sandbox's demo conveniences for the pages (it sends no email).
struct SandboxPasswords(Arc<Sandbox>);

impl SandboxHints for SandboxPasswords {
    fn temporary_password(&self, email: &str) -> Option<String> {
        self.0.temporary_password(email)
    }
}

/// The Leptos options for the compiled site under `site_root`.
pub fn leptos_options(config: &ServeConfig) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("shinyfleet")
        .site_root(config.site_root.to_string_lossy().to_string())
        .site_pkg_dir("pkg")
        .site_addr(config.listen)
        .build()
}

/// The state shared by every handler and worker.
pub fn app_state(config: &ServeConfig, pool: SqlitePool, chosen: &ChosenCloud, clock: Arc<dyn Clock>) -> AppState {
    // The sandbox needs no real network; AWS requires both lists (checked by the config).
    let sandbox_default = |configured: &Vec<String>, fallback: &str| match chosen.sandbox {
        Some(_) if configured.is_empty() => vec![fallback.to_owned()],
        _ => configured.clone(),
    };
    let services = Services {
        pool,
        cloud: chosen.cloud.clone(),
        clock,
        info: ConsoleInfo {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            cloud: config.cloud.as_str().to_owned(),
            cluster: config.cluster.clone(),
            region: chosen.region.clone(),
            refresh_secs: config.refresh_secs,
        },
        auth: Auth::new(
            config.role_groups(),
            chrono::Duration::hours(config.session_max_hours),
            config
                .alb_key_url
                .as_ref()
                .map(|_| LoadBalancer { sign_out_url: config.alb_sign_out_url.as_ref().map(url::Url::to_string) }),
            chosen.sandbox.is_some(),
        ),
        deploy: DeploySettings {
            network: Network {
                subnets: sandbox_default(&config.subnets, "subnet-sandbox"),
                security_groups: sandbox_default(&config.security_groups, "sg-sandbox"),
                assign_public_ip: config.assign_public_ip,
            },
            log_region: match &chosen.region {
                Some(region) if chosen.sandbox.is_none() => region.clone(),
                _ => "us-east-1".to_owned(),
            },
        },
        costs: config.cost_settings(chosen.region.as_deref().filter(|_| chosen.sandbox.is_none())).unwrap_or_else(
            |e| {
                tracing::error!(error = %e, "cost settings refused; the built-in us-east-1 prices apply");
                service::costs::CostSettings::default()
            },
        ),
        wake: Arc::new(tokio::sync::Notify::new()),
        schedule_changed: Default::default(),
        metrics_wanted: Default::default(),
        sandbox_hints: chosen.sandbox.clone().map(|s| Arc::new(SandboxPasswords(s)) as Arc<dyn SandboxHints>),
    };
    AppState { leptos_options: leptos_options(config), services }
}

/// The gatekeeper's settings.
pub fn gate(config: &ServeConfig, clock: Arc<dyn Clock>) -> gate::Gate {
    gate::Gate {
        public_origin: config.public_url.as_ref().and_then(|u| config::public_origin(u.as_str()).ok()),
        trust_proxy: config.trust_proxy,
        https: config.secure_cookies,
        load_balancer: config
            .alb_key_url
            .clone()
            .map(|url| gate::LoadBalancerSignIn::new(AlbVerifier::new(url, config.alb_arn.clone(), clock))),
    }
}

/// The whole HTTP surface: pages, server functions, health, static files, sessions.
pub async fn router(state: AppState, config: &ServeConfig) -> Result<Router, StartupError> {
    let store = SqliteStore::new(state.pool.clone());
    store.migrate().await.map_err(|e| StartupError::Sessions(e.to_string()))?;
    tokio::spawn({
        use tower_sessions::ExpiredDeletion;
        let store = store.clone();
        async move {
            if let Err(e) = store.continuously_delete_expired(tokio::time::Duration::from_secs(60)).await {
                tracing::error!(error = %e, "expired-session cleanup stopped");
            }
        }
    });
    let sessions = SessionManagerLayer::new(store)
        .with_name(config.session_cookie_name())
        .with_path("/")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.cookies_secure())
        .with_expiry(Expiry::OnInactivity(tower_sessions::cookie::time::Duration::minutes(
            config.session_idle_minutes,
        )));

    let routes = route_list();
    let options = state.leptos_options.clone();
    let gate_state = gate::GateState { app: state.clone(), gate: Arc::new(gate(config, state.clock.clone())) };
    let router = Router::new()
        .route("/healthz", get(health::healthz).layer(axum::Extension(Arc::new(health::CloudProbe::default()))))
        .merge(api::router())
        .route("/sfn/{*fn_name}", post(server_fn_handler).get(server_fn_handler))
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let services = state.services.clone();
                move || provide_context(services.clone())
            },
            move || app::shell(options.clone()),
        )
        // The bundle, straight from its folder so conditional requests reach it (the fallback
        // below drops their headers): its `.br`/`.gz` copies when the client accepts one.
        .route_service(
            &leptos_axum::site_pkg_dir_service_route_path(&state.leptos_options),
            assets::bundle(&state.leptos_options),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(app::shell))
        .layer(axum::middleware::from_fn(server_fn_status))
        .layer(axum::middleware::from_fn_with_state(state.clone(), page_status::unknown_app))
        .layer(axum::middleware::from_fn_with_state(
            page_cache::CacheState {
                app: state.clone(),
                cache: page_cache::PageCache::new(&config.database_url).await,
            },
            page_cache::serve,
        ))
        .layer(axum::middleware::from_fn_with_state(gate_state, gate::gatekeeper))
        .layer(sessions)
        .layer(assets::compression())
        .layer(axum::middleware::from_fn(limits::body_limit))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state);
    Ok(router)
}

/// The app's routes, generated once per process. Generating them renders the app with
/// resource loading suppressed through a process-wide flag, so generating them while another
/// console in the same process is serving (as in parallel tests) could stall that console's
/// pages; once per process, before anything serves, it cannot.
fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(app::App)).clone()
}

/// Serves a server-function path no server function has (answered like the others: the
/// gatekeeper refuses unlisted ones first).
async fn server_fn_handler(State(services): State<Services>, req: Request<Body>) -> impl IntoResponse {
    handle_server_fns_with_context(move || provide_context(services.clone()), req).await
}

/// Server functions answer every error with 500 and the error as JSON; this sets the status,
/// once, from the error itself (see [`error::server_fn_status`]). Every other response
/// passes untouched.
async fn server_fn_status(req: Request<Body>, next: axum::middleware::Next) -> Response {
    let server_fn = req.uri().path().starts_with(app::api::SERVER_FN_PREFIX);
    let response = next.run(req).await;
    if !server_fn || response.status() != axum::http::StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // An error is small JSON, but it may quote a field of the request, which the body limit
    // bounds (`axum`'s default: 2 MB); anything larger is not one of ours.
    let Ok(bytes) = axum::body::to_bytes(body, 4 * 1024 * 1024).await else {
        return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "").into_response();
    };
    if let Some(status) = error::server_fn_status(&bytes) {
        parts.status = status;
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Runs the console until SIGTERM or SIGINT.
pub async fn run(config: ServeConfig) -> Result<(), StartupError> {
    config.validate()?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let pool = db::connect(&config.database_url).await?;
    let chosen = choose_cloud(&config, clock.clone()).await;
    // The prices of the cloud's own region, now that it is known (a region outside the
    // built-in table needs SHINYFLEET_PRICE_REGION or every price overridden).
    config.cost_settings(chosen.region.as_deref().filter(|_| chosen.sandbox.is_none()))?;
    let mut sandbox_users = vec![];
    if let Some(sandbox) = &chosen.sandbox {
        seed::prepare_sandbox(&pool, sandbox, config.demo, clock.now())
            .await
            .map_err(|e| StartupError::Seed(e.to_string()))?;
        sandbox_users = seed::prepare_sandbox_users(&pool, sandbox, &config)
            .await
            .map_err(|e| StartupError::Seed(e.to_string()))?;
    } else {
        ensure_role_groups(&chosen.cloud, &config).await;
    }
    let state = app_state(&config, pool.clone(), &chosen, clock);
    let router = router(state.clone(), &config).await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartupError::Listen { addr: config.listen, source })?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // The sandbox's metrics cost nothing: fetch them every minute so a demo's charts fill.
    let every = if chosen.sandbox.is_some() { std::time::Duration::from_secs(60) } else { metrics_worker::INTERVAL };
    let metrics = tokio::spawn(metrics_worker::run(state.services.clone(), every, stop_rx.clone()));
    let scheduler = tokio::spawn(scheduler::run(state.services.clone(), stop_rx.clone()));
    let refresher = tokio::spawn(refresher::run(
        state.services.clone(),
        std::time::Duration::from_secs(config.refresh_secs),
        stop_rx,
    ));
    tracing::info!(listen = %config.listen, cloud = config.cloud.as_str(), "ShinyFleet is serving on http://{}", config.listen);
    seed::print_sandbox_users(&sandbox_users, listener.local_addr().unwrap_or(config.listen));
    let served = axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await;
    let _ = stop_tx.send(true);
    let _ = refresher.await;
    let _ = metrics.await;
    let _ = scheduler.await;
    pool.close().await;
    tracing::info!("stopped");
    served.map_err(|source| StartupError::Listen { addr: config.listen, source })
}

/// Creates the role groups when missing, so the first admin can be added to one. A pool the
/// console may not change is reported, not fatal: the groups may have been made by hand.
async fn ensure_role_groups(cloud: &Cloud, config: &ServeConfig) {
    for group in [&config.admin_group, &config.viewer_group] {
        if let Err(e) = cloud.directory.ensure_group(group).await {
            tracing::warn!(%group, error = %e, "cannot make sure the role group exists");
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    tracing::info!("shutting down");
}
