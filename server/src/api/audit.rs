//! `/api/v1/audit` and its CSV export, with the Audit page's filters.

use super::ApiError;
use crate::error::ApiErrorBody;
use crate::error::AppError;
use crate::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::Json;
use chrono::{DateTime, Utc};
use domain::view::{AuditFilter, AuditRow};
use serde::{Deserialize, Serialize};
use service::audit;
use utoipa::{IntoParams, ToSchema};

/// The Audit page's filters: each text filter matches a part of its field, in any case.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// A part of the actor (an email, `token:<name>`, `scheduler`); at most 200 characters.
    actor: Option<String>,
    /// A part of the action, e.g. `app.update`; at most 200 characters.
    action: Option<String>,
    /// A part of the target (an app's slug, a user); at most 200 characters.
    target: Option<String>,
    /// From this instant on: `YYYY-MM-DD` (UTC) or RFC 3339.
    from: Option<String>,
    /// Before this instant: `YYYY-MM-DD` (UTC; that whole day included) or RFC 3339.
    to: Option<String>,
    /// A page's `next_before`: only rows older than that.
    before: Option<i64>,
}

/// One row of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditRowJson {
    id: i64,
    at: DateTime<Utc>,
    /// Who did it: a user's email, `token:<name>`, or `scheduler`.
    actor: String,
    /// The client's address, when known.
    source: Option<String>,
    #[schema(example = "app.update")]
    action: String,
    /// What it was done to, e.g. an app's slug.
    target: String,
    /// The target before the change, as JSON text.
    before: Option<String>,
    /// The target after the change, as JSON text.
    after: Option<String>,
}

impl From<AuditRow> for AuditRowJson {
    fn from(r: AuditRow) -> Self {
        let AuditRow { id, at, actor, source, action, target, before, after } = r;
        Self { id, at, actor, source, action, target, before, after }
    }
}

/// One page of the audit log, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPageJson {
    rows: Vec<AuditRowJson>,
    /// Pass as `before` for the next (older) page; null on the last one.
    next_before: Option<i64>,
}

fn filter(query: Result<Query<AuditQuery>, QueryRejection>) -> Result<(AuditFilter, Option<i64>), ApiError> {
    let Query(q) = query.map_err(|e| ApiError(AppError::Request(e.body_text())))?;
    let filter = AuditFilter::parse(q.actor, q.action, q.target, q.from.as_deref(), q.to.as_deref())?;
    Ok((filter, q.before))
}

/// `GET /api/v1/audit?actor=&action=&target=&from=&to=&before=` → `{rows, next_before}`.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", operation_id = "list_audit", params(AuditQuery),
    responses(
        (status = 200, description = "One page of the matching rows (100 at most), newest first", body = AuditPageJson),
        (status = 400, description = "An unknown query parameter, or a `before` that is not a number", body = ApiErrorBody),
        (status = 422, description = "A filter too long, or a bad `from` or `to`", body = ApiErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<AuditPageJson>, ApiError> {
    let (filter, before) = filter(query)?;
    let page = audit::page(&state.pool, &filter, before).await?;
    Ok(Json(AuditPageJson {
        rows: page.rows.into_iter().map(AuditRowJson::from).collect(),
        next_before: page.next_before,
    }))
}

/// `GET /api/v1/audit.csv?…`: the matching rows (newest first, at most 100,000) as CSV.
#[utoipa::path(get, path = "/api/v1/audit.csv", tag = "audit", operation_id = "audit_csv", params(AuditQuery),
    responses(
        (status = 200, description = "The matching rows (newest first, at most 100,000) as CSV, header `id,at,actor,source,action,target,before,after`",
            content_type = "text/csv", body = String,
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"shinyfleet-audit-YYYYMMDD-HHMMSS.csv\"`"))),
        (status = 400, description = "An unknown query parameter, or a `before` that is not a number", body = ApiErrorBody),
        (status = 422, description = "A filter too long, or a bad `from` or `to`", body = ApiErrorBody),
    ))]
pub async fn csv(
    State(state): State<AppState>,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let (filter, before) = filter(query)?;
    let rows = audit::query(&state.pool, &filter, before, audit::EXPORT_LIMIT).await?;
    let name = format!("shinyfleet-audit-{}.csv", state.clock.now().format("%Y%m%d-%H%M%S"));
    Ok(super::csv_attachment(&name, audit::to_csv(&rows)))
}
