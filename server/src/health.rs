//! `GET /healthz`: whether the database and the cloud answer, as JSON. 200 while the
//! database works (the console can serve pages from its cache even when the cloud is
//! down), 503 when it does not.

use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use std::time::{Duration, Instant};

#[derive(Serialize)]
pub struct Health {
    pub status: &'static str,
    pub database: Check,
    pub cloud: Check,
}

#[derive(Serialize)]
pub struct Check {
    pub ok: bool,
    pub latency_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
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

pub async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let database = check(async { sqlx::query("SELECT 1").execute(&state.pool).await.map(|_| ()) }).await;
    let cloud = check(state.cloud.fleet.probe()).await;
    let status = match (database.ok, cloud.ok) {
        (true, true) => "ok",
        (true, false) => "degraded",
        _ => "down",
    };
    let code = if database.ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (code, Json(Health { status, database, cloud }))
}
