//! `/api/v1/users`: the pool's users, invitations and user changes.

use super::{ApiCaller, ApiError, ApiJson};
use crate::error::ApiErrorBody;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use domain::directory::UserStatus;
use domain::view::Person;
use serde::{Deserialize, Serialize};
use service::people;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The start of the users' email address (any case; at most 128 characters).
    q: Option<String>,
    /// The previous page's `next`, for the page after it.
    next: Option<String>,
}

/// A user of the pool, as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserJson {
    /// The pool's user name (it never changes): the `{username}` of the user paths.
    username: String,
    email: String,
    /// `invited` (has not set a password yet), `active` or `disabled`.
    #[schema(value_type = String, example = "active")]
    status: UserStatus,
    /// The pool's groups the user is in (two of them give the console's roles).
    groups: Vec<String>,
    created_at: Option<DateTime<Utc>>,
}

impl UserJson {
    fn of(p: &Person) -> Self {
        Self {
            username: p.username.clone(),
            email: p.email.clone(),
            status: p.status,
            groups: p.groups.clone(),
            created_at: p.created_at,
        }
    }
}

/// One page of users.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsersJson {
    users: Vec<UserJson>,
    /// Pass as `next` for the following page; null on the last one.
    next: Option<String>,
}

/// `GET /api/v1/users?q=PREFIX&next=TOKEN`
#[utoipa::path(get, path = "/api/v1/users", tag = "users", operation_id = "list_users", params(ListQuery),
    responses(
        (status = 200, description = "One page of users, by email", body = UsersJson),
        (status = 400, description = "An unknown query parameter", body = ApiErrorBody),
        (status = 422, description = "A bad `q` or `next`", body = ApiErrorBody),
        (status = 503, description = "The user pool is not answering; retry", body = ApiErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<UsersJson>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError(crate::error::AppError::Request(e.body_text())))?;
    let page = people::list(&state, query.q.as_deref(), query.next.as_deref()).await?;
    Ok(Json(UsersJson { users: page.people.iter().map(UserJson::of).collect(), next: page.next }))
}

/// `POST /api/v1/users`: an invitation by email, optionally into a group.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    #[schema(example = "ada@example.org")]
    email: String,
    /// A group of the pool to add the user to (e.g. the admins' or viewers' group).
    group: Option<String>,
}

/// `POST /api/v1/users` `{"email": …, "group": …}` → 201 with the user.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", operation_id = "invite_user", request_body = InviteBody,
    responses(
        (status = 201, description = "Invited: the pool emails the invitation", body = UserJson),
        (status = 400, description = "The body is not JSON, or has a wrong type or an unknown field", body = ApiErrorBody),
        (status = 409, description = "Invited, but not added to the group", body = ApiErrorBody),
        (status = 422, description = "A malformed or taken email, or no such group", body = ApiErrorBody),
        (status = 503, description = "The user pool is not answering; retry", body = ApiErrorBody),
    ))]
pub async fn invite(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(body): ApiJson<InviteBody>,
) -> Result<Response, ApiError> {
    let invited = people::invite(&state, &caller, &body.email, body.group.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(UserJson::of(&invited.person))).into_response())
}

/// `POST /api/v1/users/{username}/resend`
#[utoipa::path(post, path = "/api/v1/users/{username}/resend", tag = "users", operation_id = "resend_invitation",
    params(("username" = String, Path)),
    responses(
        (status = 204, description = "The invitation was sent again"),
        (status = 404, description = "No such user", body = ApiErrorBody),
        (status = 409, description = "The pool refused, e.g. the user has signed in already", body = ApiErrorBody),
        (status = 422, description = "Not a user name of the pool", body = ApiErrorBody),
        (status = 503, description = "The user pool is not answering; retry", body = ApiErrorBody),
    ))]
pub async fn resend(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    people::resend(&state, &caller, &username).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/users/{username}/disable`
#[utoipa::path(post, path = "/api/v1/users/{username}/disable", tag = "users", operation_id = "disable_user",
    params(("username" = String, Path)),
    responses(
        (status = 204, description = "Disabled; the user's sessions ended"),
        (status = 404, description = "No such user", body = ApiErrorBody),
        (status = 409, description = "The caller's own account, the last active admin, or the pool refused", body = ApiErrorBody),
        (status = 422, description = "Not a user name of the pool", body = ApiErrorBody),
        (status = 503, description = "The user pool is not answering; retry", body = ApiErrorBody),
    ))]
pub async fn disable(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    people::set_enabled(&state, &caller, &username, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/users/{username}/enable`
#[utoipa::path(post, path = "/api/v1/users/{username}/enable", tag = "users", operation_id = "enable_user",
    params(("username" = String, Path)),
    responses(
        (status = 204, description = "Enabled"),
        (status = 404, description = "No such user", body = ApiErrorBody),
        (status = 409, description = "The pool refused", body = ApiErrorBody),
        (status = 422, description = "Not a user name of the pool", body = ApiErrorBody),
        (status = 503, description = "The user pool is not answering; retry", body = ApiErrorBody),
    ))]
pub async fn enable(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    people::set_enabled(&state, &caller, &username, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/v1/users/{username}` (the path is the confirmation).
#[utoipa::path(delete, path = "/api/v1/users/{username}", tag = "users", operation_id = "delete_user",
    params(("username" = String, Path)),
    responses(
        (status = 204, description = "Deleted for good; the user's sessions ended"),
        (status = 404, description = "No such user", body = ApiErrorBody),
        (status = 409, description = "The caller's own account, the last active admin, or the pool refused", body = ApiErrorBody),
        (status = 422, description = "Not a user name of the pool", body = ApiErrorBody),
        (status = 503, description = "The user pool is not answering; retry", body = ApiErrorBody),
    ))]
pub async fn remove(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    people::delete(&state, &caller, &username, &username).await?;
    Ok(StatusCode::NO_CONTENT)
}
