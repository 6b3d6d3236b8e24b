//! `/api/v1/audit` and its CSV export, with the Audit page's filters.

use super::ApiError;
use app::error::AppError;
use app::model::AuditFilter;
use app::ssr::{audit, AppState};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
    target: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<i64>,
}

fn filter(query: Result<Query<AuditQuery>, QueryRejection>) -> Result<(AuditFilter, Option<i64>), ApiError> {
    let Query(q) = query.map_err(|e| ApiError(AppError::Request(e.body_text())))?;
    let filter = AuditFilter::parse(q.actor, q.action, q.target, q.from.as_deref(), q.to.as_deref())?;
    Ok((filter, q.before))
}

/// `GET /api/v1/audit?actor=&action=&target=&from=&to=&before=` → `{rows, next_before}`.
pub async fn list(
    State(state): State<AppState>,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let (filter, before) = filter(query)?;
    let page = audit::page(&state.pool, &filter, before).await.map_err(app::ssr::internal)?;
    Ok(Json(json!({ "rows": page.rows, "next_before": page.next_before })).into_response())
}

/// `GET /api/v1/audit.csv?…`: the matching rows (newest first, at most 100,000) as CSV.
pub async fn csv(
    State(state): State<AppState>,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let (filter, before) = filter(query)?;
    let rows = audit::query(&state.pool, &filter, before, audit::EXPORT_LIMIT).await.map_err(app::ssr::internal)?;
    let name = format!("shinyfleet-audit-{}.csv", state.clock.now().format("%Y%m%d-%H%M%S"));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        audit::to_csv(&rows),
    )
        .into_response())
}
