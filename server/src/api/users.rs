//! `/api/v1/users`: the pool's users, invitations and user changes.

use super::{ApiCaller, ApiError, ApiJson};
use app::model::Person;
use app::ssr::{people, AppState};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    q: Option<String>,
    next: Option<String>,
}

fn user_json(p: &Person) -> serde_json::Value {
    json!({
        "username": p.username,
        "email": p.email,
        "status": p.status,
        "groups": p.groups,
        "created_at": p.created_at,
    })
}

/// `GET /api/v1/users?q=PREFIX&next=TOKEN`
pub async fn list(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError(app::error::AppError::Request(e.body_text())))?;
    let page = people::list(&state, query.q.as_deref(), query.next.as_deref()).await?;
    let users: Vec<_> = page.people.iter().map(user_json).collect();
    Ok(Json(json!({ "users": users, "next": page.next })).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    email: String,
    group: Option<String>,
}

/// `POST /api/v1/users` `{"email": …, "group": …}` → 201 with the user.
pub async fn invite(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(body): ApiJson<InviteBody>,
) -> Result<Response, ApiError> {
    let invited = people::invite(&state, &caller, &body.email, body.group.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(user_json(&invited.person))).into_response())
}

/// `POST /api/v1/users/{username}/resend`
pub async fn resend(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    people::resend(&state, &caller, &username).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/users/{username}/disable`
pub async fn disable(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    people::set_enabled(&state, &caller, &username, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/users/{username}/enable`
pub async fn enable(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    people::set_enabled(&state, &caller, &username, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/v1/users/{username}` (the path is the confirmation).
pub async fn remove(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    people::delete(&state, &caller, &username, &username).await?;
    Ok(StatusCode::NO_CONTENT)
}
