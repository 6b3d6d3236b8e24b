//! `/api/v1/apps/{slug}/schedule` and `/override`: an app's schedule, its next transitions
//! and temporary overrides, for scripts. The same rules as the schedule editor
//! (`service::schedules`); documented in docs/api.md.

use super::{ApiCaller, ApiError, ApiJson};
use crate::error::ApiErrorBody;
use crate::error::AppError;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use domain::schedule::ScheduleDoc;
use domain::view::{OverrideRequest, ScheduleView};
use serde::{Deserialize, Serialize};
use serde_json::json;
use service::schedules;

/// The schedule as stored, with what it wants now and its next changes.
fn schedule_json(view: &ScheduleView) -> Result<serde_json::Value, ApiError> {
    let Some(doc) = &view.schedule else { return Err(ApiError(AppError::NotFound)) };
    let mut body = serde_json::to_value(doc).map_err(|_| ApiError(AppError::Internal))?;
    body["desired_now"] = json!(view.desired_now);
    body["live_desired"] = json!(view.live_desired);
    body["override"] = json!(view.override_.as_ref().map(|o| json!({ "desired": o.desired, "until": o.until })));
    body["next_transitions"] =
        json!(view.next.iter().map(|t| json!({ "at": t.at, "desired": t.desired })).collect::<Vec<_>>());
    Ok(body)
}

/// `GET /api/v1/apps/{slug}/schedule`
#[utoipa::path(get, path = "/api/v1/apps/{slug}/schedule", tag = "schedules", operation_id = "show_schedule",
    params(("slug" = String, Path)),
    responses((status = 200, description = "The schedule, what it wants now and its next transitions", body = Object),
              (status = 404, description = "No such app, or it has no schedule", body = ApiErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    ApiCaller(_caller): ApiCaller,
    Path(slug): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let view = schedules::view(&state, &slug).await?;
    Ok(Json(schedule_json(&view)?))
}

/// `PUT /api/v1/apps/{slug}/schedule`
#[utoipa::path(put, path = "/api/v1/apps/{slug}/schedule", tag = "schedules", operation_id = "put_schedule",
    params(("slug" = String, Path)),
    request_body(content = Object, description = "timezone, windows, on_count, off_count, exceptions, mode, enabled"),
    responses((status = 200, description = "Saved", body = Object),
              (status = 400, description = "The body is not JSON, or has a wrong type or an unknown field", body = ApiErrorBody),
              (status = 404, description = "No such app", body = ApiErrorBody),
              (status = 422, description = "A field is invalid (every bad field is listed)", body = ApiErrorBody)))]
pub async fn put(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(slug): Path<String>,
    ApiJson(doc): ApiJson<ScheduleDoc>,
) -> Result<Json<serde_json::Value>, ApiError> {
    schedules::save(&state, &caller, &slug, &doc).await?;
    let mut view = schedules::view(&state, &slug).await?;
    // Another admin may have removed it since: the answer still shows what was saved.
    view.schedule.get_or_insert(doc);
    Ok(Json(schedule_json(&view)?))
}

/// `DELETE /api/v1/apps/{slug}/schedule`
#[utoipa::path(delete, path = "/api/v1/apps/{slug}/schedule", tag = "schedules", operation_id = "delete_schedule",
    params(("slug" = String, Path)),
    responses((status = 204, description = "Removed; the service keeps its current count"),
              (status = 404, description = "No such app, or it has no schedule", body = ApiErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    schedules::delete(&state, &caller, &slug).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionsQuery {
    from: Option<String>,
    count: Option<String>,
}

#[derive(Debug, Serialize)]
struct TransitionJson {
    at: DateTime<Utc>,
    desired: u32,
}

/// `GET /api/v1/apps/{slug}/schedule/transitions?from=RFC3339&count=N`
#[utoipa::path(get, path = "/api/v1/apps/{slug}/schedule/transitions", tag = "schedules",
    operation_id = "list_transitions",
    params(("slug" = String, Path), ("from" = Option<String>, Query, description = "RFC 3339; default now"),
           ("count" = Option<u32>, Query, description = "1–500; default 10")),
    responses((status = 200, description = "[{at, desired}], strictly after `from`", body = Object),
              (status = 400, description = "An unknown query parameter", body = ApiErrorBody),
              (status = 404, description = "No such app, or nothing governs it", body = ApiErrorBody),
              (status = 422, description = "A bad `from` or `count`", body = ApiErrorBody)))]
pub async fn transitions(
    State(state): State<AppState>,
    ApiCaller(_caller): ApiCaller,
    Path(slug): Path<String>,
    query: Result<Query<TransitionsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError(AppError::Request(e.body_text())))?;
    let from = match q.from.as_deref() {
        None => state.clock.now(),
        Some(raw) => DateTime::parse_from_rfc3339(raw.trim()).map(|d| d.with_timezone(&Utc)).map_err(|_| {
            ApiError(AppError::invalid("from", "must be an RFC 3339 instant, e.g. 2026-12-01T00:00:00Z"))
        })?,
    };
    let count = match q.count.as_deref() {
        None => 10,
        Some(raw) => raw
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=500).contains(n))
            .ok_or_else(|| ApiError(AppError::invalid("count", "must be a whole number from 1 to 500")))?,
    };
    let app = service::apps::get(&state.pool, &slug).await?;
    let governed = schedules::governed(&state.pool, Some(app.id)).await?;
    let Some(g) = governed.first() else { return Err(ApiError(AppError::NotFound)) };
    let list: Vec<TransitionJson> = g
        .plan()
        .transitions(from, count)
        .into_iter()
        .map(|t| TransitionJson { at: t.at, desired: t.desired })
        .collect();
    Ok(Json(json!(list)))
}

/// `POST /api/v1/apps/{slug}/override`
#[utoipa::path(post, path = "/api/v1/apps/{slug}/override", tag = "schedules", operation_id = "set_override",
    params(("slug" = String, Path)),
    request_body(content = Object, description = "{\"desired\": 2, \"until\": \"2026-12-01T20:00:00Z\" | \"2h\" | \"20:00\" | \"mon 08:00\"}"),
    responses((status = 200, description = "Set and applied", body = Object),
              (status = 400, description = "The body is not JSON, or has a wrong type or an unknown field", body = ApiErrorBody),
              (status = 404, description = "No such app", body = ApiErrorBody),
              (status = 422, description = "A bad count or end", body = ApiErrorBody)))]
pub async fn set_override(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(slug): Path<String>,
    ApiJson(request): ApiJson<OverrideRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let set = schedules::set_override(&state, &caller, &slug, &request).await?;
    // What was set, even if another admin has ended it since; `desired_now` is the state now.
    let view = schedules::view(&state, &slug).await?;
    Ok(Json(json!({ "desired": set.desired, "until": set.until, "desired_now": view.desired_now })))
}

/// `DELETE /api/v1/apps/{slug}/override`
#[utoipa::path(delete, path = "/api/v1/apps/{slug}/override", tag = "schedules", operation_id = "clear_override",
    params(("slug" = String, Path)),
    responses((status = 204, description = "Ended; the schedule governs again"),
              (status = 404, description = "No such app, or no override in force", body = ApiErrorBody)))]
pub async fn clear_override(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    schedules::clear_override(&state, &caller, &slug).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
