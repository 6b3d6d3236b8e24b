//! `GET /healthz`: whether the database and the cloud answer. 200 while the database works
//! (the console can serve pages from its cache even when the cloud is down), 503 when it does
//! not.
//!
//! Anyone may ask (load balancers and container health checks do, without credentials), so
//! the answer costs and tells a stranger little:
//!
//! - **The cloud probe is shared.** One probe answers every request for
//!   [`CLOUD_PROBE_TTL_SECS`] seconds; requests arriving while it runs wait for it instead of
//!   starting their own, so a flood of health checks cannot drain the account's ECS quota.
//!   The database is checked on every request (it is local and cheap).
//! - **Strangers get the status word only**: `{"status":"ok"}` (or `degraded`, `down`). A
//!   signed-in admin, by session or token, also gets each check's latency and error. The
//!   cloud's error text can name the account and role (an AccessDenied does), so it goes to
//!   the log and to admins, never to anyone else.

use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use domain::Role;
use serde::Serialize;
use service::auth::{check_role, RequestCtx};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long one cloud probe answers for every `/healthz`, in seconds.
pub const CLOUD_PROBE_TTL_SECS: i64 = 5;

/// What an admin sees.
#[derive(Serialize)]
pub struct Health {
    pub status: &'static str,
    pub database: Check,
    pub cloud: Check,
}

/// What everyone else sees.
#[derive(Serialize)]
pub struct Status {
    pub status: &'static str,
}

#[derive(Clone, Serialize)]
pub struct Check {
    pub ok: bool,
    pub latency_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The last cloud probe and when (on the console's clock) it was made; one per router.
#[derive(Default)]
pub struct CloudProbe {
    last: tokio::sync::Mutex<Option<(DateTime<Utc>, Check)>>,
}

impl CloudProbe {
    /// The cloud's check: the last one while younger than [`CLOUD_PROBE_TTL_SECS`], else a new
    /// probe. The lock is held while probing, so concurrent callers share that probe.
    async fn check(&self, state: &AppState) -> Check {
        let mut last = self.last.lock().await;
        let now = state.clock.now();
        if let Some((at, check)) = last.as_ref() {
            let age = now - *at;
            if age >= chrono::Duration::zero() && age < chrono::Duration::seconds(CLOUD_PROBE_TTL_SECS) {
                return check.clone();
            }
        }
        let check = check(state.cloud.fleet.probe()).await;
        if let Some(error) = &check.error {
            tracing::warn!(%error, "health: the cloud probe failed");
        }
        *last = Some((state.clock.now(), check.clone()));
        check
    }
}

async fn check<F, E>(f: F) -> Check
where
    F: std::future::Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let started = Instant::now();
    let result = tokio::time::timeout(Duration::from_secs(3), f).await;
    let latency_ms = started.elapsed().as_millis() as u64;
    match result {
        Ok(Ok(())) => Check { ok: true, latency_ms, error: None },
        Ok(Err(e)) => Check { ok: false, latency_ms, error: Some(e.to_string()) },
        Err(_) => Check { ok: false, latency_ms, error: Some("timed out after 3 s".into()) },
    }
}

pub async fn healthz(
    State(state): State<AppState>,
    Extension(probe): Extension<Arc<CloudProbe>>,
    ctx: Option<Extension<RequestCtx>>,
) -> Response {
    let database = check(async { sqlx::query("SELECT 1").execute(&state.pool).await.map(|_| ()) }).await;
    let cloud = probe.check(&state).await;
    let status = match (database.ok, cloud.ok) {
        (true, true) => "ok",
        (true, false) => "degraded",
        _ => "down",
    };
    let code = if database.ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let admin = ctx.is_some_and(|Extension(ctx)| check_role(ctx.principal.as_ref(), Role::Admin).is_ok());
    if admin {
        (code, Json(Health { status, database, cloud })).into_response()
    } else {
        (code, Json(Status { status })).into_response()
    }
}
