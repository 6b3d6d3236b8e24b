//! `/api/v1/apps` and `/api/v1/deploys`: the app registry and deploys for CI jobs and
//! scripts. Each handler is documented with `#[utoipa::path]`; [`super::openapi::ApiDoc`]
//! gathers them into the OpenAPI document served at `/api/v1/openapi.json`.

use super::{ApiCaller, ApiError, ApiJson};
use crate::error::{ApiErrorBody, AppError};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use domain::view::DeployRecord;
use domain::AppInput;
use domain::Role;
use serde::{Deserialize, Deserializer, Serialize};
use service::apps::AppRecord;
use service::auth::Caller;
use service::{apps, deploys};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// An app as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppJson {
    /// Names the ECS service and the task-definition family.
    #[schema(example = "sales-dashboard")]
    slug: String,
    name: String,
    /// `registry/repo:tag` or `registry/repo@sha256:…`.
    image: String,
    /// CPU units (256 = ¼ vCPU).
    cpu: i64,
    /// MiB; only the sizes Fargate accepts with `cpu`.
    memory: i64,
    /// `x86_64` or `arm64`.
    architecture: String,
    port: i64,
    /// Variable names and values; for viewers every value reads `********`.
    env: BTreeMap<String, String>,
    task_role_arn: Option<String>,
    execution_role_arn: Option<String>,
    health_check_path: String,
    /// `curl`, `wget`, or null for no container health check.
    health_check_tool: Option<String>,
    desired_count: i64,
    tags: BTreeMap<String, String>,
    target_group_arn: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl AppJson {
    /// The app as `caller` may see it: viewers get the environment's names, not its values.
    fn of(record: &AppRecord, caller: &Caller) -> Self {
        let a = record.definition.to_input();
        let a = if caller.principal.role.allows(Role::Admin) { a } else { a.with_env_hidden() };
        Self {
            slug: a.slug,
            name: a.name,
            image: a.image,
            cpu: a.cpu,
            memory: a.memory,
            architecture: a.architecture,
            port: a.port,
            env: a.env.into_iter().collect(),
            task_role_arn: a.task_role_arn,
            execution_role_arn: a.execution_role_arn,
            health_check_path: a.health_check_path,
            health_check_tool: a.health_check_tool,
            desired_count: a.desired_count,
            tags: a.tags.into_iter().collect(),
            target_group_arn: a.target_group_arn,
            created_at: record.created_at,
            updated_at: record.updated_at,
        }
    }
}

/// A new app (`POST`) or the fields to change (`PATCH`: absent fields stay as they are, `null`
/// clears an optional one). On `POST`, `slug`, `name` and `image` are required and the rest
/// default to 256 CPU, 512 MiB, x86_64, port 3838, `/`, one task.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppBody {
    slug: Option<String>,
    name: Option<String>,
    image: Option<String>,
    cpu: Option<i64>,
    memory: Option<i64>,
    architecture: Option<String>,
    port: Option<i64>,
    env: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    task_role_arn: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    execution_role_arn: Option<Option<String>>,
    health_check_path: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    health_check_tool: Option<Option<String>>,
    desired_count: Option<i64>,
    tags: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    target_group_arn: Option<Option<String>>,
}

/// A field that is present (its value may be `null`), as opposed to absent.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

impl AppBody {
    /// `base` with this body's fields laid over it.
    fn over(self, mut base: AppInput) -> AppInput {
        macro_rules! lay {
            ($($field:ident),*) => { $( if let Some(value) = self.$field { base.$field = value; } )* };
        }
        lay!(slug, name, image, cpu, memory, architecture, port, task_role_arn, execution_role_arn);
        lay!(health_check_path, health_check_tool, desired_count, target_group_arn);
        if let Some(env) = self.env {
            base.env = env.into_iter().collect();
        }
        if let Some(tags) = self.tags {
            base.tags = tags.into_iter().collect();
        }
        base
    }
}

/// A deploy as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeployJson {
    id: i64,
    /// The app's slug.
    app: String,
    /// `deploy` or `rollback`.
    kind: String,
    /// The task-definition revision; null until the cloud registered it.
    revision: Option<i64>,
    /// The image as asked for.
    image: String,
    /// The digest an ECR tag resolved to; the revision runs exactly this.
    digest: Option<String>,
    /// `IN_PROGRESS`, `COMPLETED` or `FAILED`.
    #[schema(example = "IN_PROGRESS")]
    state: String,
    /// Why it failed.
    reason: Option<String>,
    created_by: String,
    created_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

impl DeployJson {
    fn of(d: DeployRecord) -> Self {
        Self {
            id: d.id,
            app: d.app,
            kind: d.kind,
            revision: d.revision,
            image: d.image,
            digest: d.digest,
            state: d.state.as_str().to_owned(),
            reason: d.reason,
            created_by: d.created_by,
            created_at: d.created_at,
            finished_at: d.finished_at,
        }
    }
}

/// `POST /api/v1/apps/{slug}/deploys`: deploy the app's definition, optionally with a new image.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeployBody {
    /// The image to deploy; it becomes the app's image. Absent: the app's image.
    image: Option<String>,
}

/// `POST /api/v1/apps/{slug}/rollback`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackBody {
    /// An earlier revision of the app's task definition (see its deploys).
    revision: i64,
}

/// `GET /api/v1/apps`
#[utoipa::path(get, path = "/api/v1/apps", tag = "apps", operation_id = "list_apps",
    responses((status = 200, description = "Every app not deleted, by slug", body = Vec<AppJson>)))]
pub async fn list(State(state): State<AppState>, ApiCaller(caller): ApiCaller) -> Result<Json<Vec<AppJson>>, ApiError> {
    Ok(Json(apps::list(&state.pool).await?.iter().map(|a| AppJson::of(a, &caller)).collect()))
}

/// `POST /api/v1/apps`
#[utoipa::path(post, path = "/api/v1/apps", tag = "apps", operation_id = "create_app", request_body = AppBody,
    responses(
        (status = 201, description = "Registered (not deployed yet)", body = AppJson),
        (status = 400, description = "The body is not JSON, or has a wrong type or an unknown field", body = ApiErrorBody),
        (status = 422, description = "A field is invalid, or the slug is taken", body = ApiErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(body): ApiJson<AppBody>,
) -> Result<Response, ApiError> {
    let input = body.over(AppInput::defaults());
    let created = apps::create(&state, &caller, &input).await?;
    Ok((StatusCode::CREATED, Json(AppJson::of(&created, &caller))).into_response())
}

/// An app with what the console last saw of it in the cloud.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppStatusJson {
    #[serde(flatten)]
    app: AppJson,
    /// The service as last seen; null until the poller first saw it.
    live: Option<LiveJson>,
    /// Tasks not stopped, then those stopped in the last day, newest first.
    tasks: Vec<TaskJson>,
    /// When the cloud last answered for this app (null: never).
    fetched_at: Option<DateTime<Utc>>,
}

/// The service's state as last seen.
#[derive(Debug, Serialize, ToSchema)]
pub struct LiveJson {
    /// `running`, `deploying`, `scaled_to_zero`, `unhealthy` (a running task fails its health
    /// check), `failed` (the last rollout failed) or `not_deployed`.
    state: String,
    running: u32,
    pending: u32,
    desired: u32,
    /// The task-definition revision the service runs.
    revision: Option<i64>,
    /// Set while refreshes fail: since when the view is stale.
    stale_since: Option<DateTime<Utc>>,
}

/// One task as last seen.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskJson {
    arn: String,
    revision: Option<i64>,
    /// ECS's lastStatus, e.g. `PENDING`, `RUNNING`, `STOPPED`.
    state: String,
    /// `HEALTHY`, `UNHEALTHY` or `UNKNOWN`.
    health: String,
    cpu: u32,
    memory: u32,
    started_at: Option<DateTime<Utc>>,
    stopped_at: Option<DateTime<Utc>>,
    stop_code: Option<String>,
    stopped_reason: Option<String>,
}

/// `GET /api/v1/apps/{slug}`
#[utoipa::path(get, path = "/api/v1/apps/{slug}", tag = "apps", operation_id = "show_app",
    params(("slug" = String, Path)),
    responses(
        (status = 200, description = "The app with what the console last saw of it", body = AppStatusJson),
        (status = 404, description = "No such app", body = ApiErrorBody),
    ))]
pub async fn show(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(slug): Path<String>,
) -> Result<Json<AppStatusJson>, ApiError> {
    let record = apps::get(&state.pool, &slug).await?;
    let detail = service::overview::detail(&state, &slug).await?;
    let fetched_at = detail.live.as_ref().map(|l| l.fetched_at);
    let live = detail.live.map(|l| LiveJson {
        state: serde_json::to_value(l.state).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
        running: l.running,
        pending: l.pending,
        desired: l.desired,
        revision: detail.running_revision,
        stale_since: l.stale_since,
    });
    let tasks = detail
        .tasks
        .into_iter()
        .map(|t| TaskJson {
            arn: t.arn,
            revision: t.revision,
            state: t.last_status,
            health: t.health_status,
            cpu: t.cpu,
            memory: t.memory,
            started_at: t.started_at,
            stopped_at: t.stopped_at,
            stop_code: t.stop_code,
            stopped_reason: t.stopped_reason,
        })
        .collect();
    Ok(Json(AppStatusJson { app: AppJson::of(&record, &caller), live, tasks, fetched_at }))
}

/// `PATCH /api/v1/apps/{slug}`
#[utoipa::path(patch, path = "/api/v1/apps/{slug}", tag = "apps", operation_id = "update_app",
    params(("slug" = String, Path)),
    request_body = AppBody,
    responses(
        (status = 200, description = "Changed; the next deploy applies it", body = AppJson),
        (status = 400, description = "The body is not JSON, or has a wrong type or an unknown field", body = ApiErrorBody),
        (status = 404, description = "No such app", body = ApiErrorBody),
        (status = 409, description = "The app was changed meanwhile (by someone else or a deploy); read it again", body = ApiErrorBody),
        (status = 422, description = "A field is invalid, or the slug would change", body = ApiErrorBody),
    ))]
pub async fn update(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<AppBody>,
) -> Result<Json<AppJson>, ApiError> {
    let current = apps::get(&state.pool, &slug).await?;
    let input = body.over(current.definition.to_input());
    let updated = apps::update(&state, &caller, &slug, &input, Some(current.updated_at)).await?;
    Ok(Json(AppJson::of(&updated, &caller)))
}

/// `DELETE /api/v1/apps/{slug}` (the path is the confirmation)
#[utoipa::path(delete, path = "/api/v1/apps/{slug}", tag = "apps", operation_id = "delete_app",
    params(("slug" = String, Path)),
    responses(
        (status = 204, description = "The service was scaled to zero and deleted; the app's history stays"),
        (status = 404, description = "No such app", body = ApiErrorBody),
        (status = 409, description = "A deploy of the app is in progress, or the cloud refused", body = ApiErrorBody),
        (status = 503, description = "The cloud is unavailable; the app was kept", body = ApiErrorBody),
    ))]
pub async fn remove(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(slug): Path<String>,
) -> Result<StatusCode, ApiError> {
    apps::delete(&state, &caller, &slug, &slug).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The `Idempotency-Key` header, when sent.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    match headers.get("idempotency-key") {
        None => Ok(None),
        Some(v) => v.to_str().map(|s| Some(s.to_owned())).map_err(|_| {
            ApiError(AppError::invalid("idempotency_key", "An idempotency key has 1 to 255 visible ASCII characters."))
        }),
    }
}

/// An optional JSON body: empty means the default.
fn optional_body<T: Default + serde::de::DeserializeOwned>(headers: &HeaderMap, bytes: &Bytes) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    // A body must say it is JSON, as every other route's must (a cross-site form cannot).
    let json = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(ApiError(AppError::Request("Expected request with `Content-Type: application/json`".into())));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError(AppError::Request(format!("Failed to parse the JSON body: {e}"))))
}

/// 202 with the deploy; a replayed request says so in `Idempotent-Replayed`.
fn accepted(deploy: DeployRecord, started: bool) -> Response {
    let mut res = (StatusCode::ACCEPTED, Json(DeployJson::of(deploy))).into_response();
    if !started {
        res.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    res
}

/// `POST /api/v1/apps/{slug}/deploys`
#[utoipa::path(post, path = "/api/v1/apps/{slug}/deploys", tag = "deploys", operation_id = "deploy_app",
    params(("slug" = String, Path), ("Idempotency-Key" = Option<String>, Header,
        description = "Retrying with the same key returns the same deploy instead of starting another")),
    request_body(content = Option<DeployBody>, description = "Optional; `image` deploys a new image"),
    responses(
        (status = 202, description = "Started; follow it at /api/v1/deploys/{id}", body = DeployJson),
        (status = 400, description = "A body that is not `application/json`, not JSON, or has an unknown field", body = ApiErrorBody),
        (status = 404, description = "No such app", body = ApiErrorBody),
        (status = 409, description = "Another deploy of this app is in progress, the key was used for another request, or the cloud refused", body = ApiErrorBody),
        (status = 422, description = "Invalid image or idempotency key, or the registry has no such image", body = ApiErrorBody),
        (status = 503, description = "The cloud is unavailable; retry with the same key", body = ApiErrorBody),
    ))]
pub async fn deploy(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(slug): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: DeployBody = optional_body(&headers, &body)?;
    let key = idempotency_key(&headers)?;
    let (deploy, started) = deploys::deploy(&state, &caller, &slug, body.image.as_deref(), key.as_deref()).await?;
    Ok(accepted(deploy, started))
}

/// `POST /api/v1/apps/{slug}/rollback`
#[utoipa::path(post, path = "/api/v1/apps/{slug}/rollback", tag = "deploys", operation_id = "rollback_app",
    params(("slug" = String, Path), ("Idempotency-Key" = Option<String>, Header,
        description = "Retrying with the same key returns the same deploy instead of starting another")),
    request_body = RollbackBody,
    responses(
        (status = 202, description = "A deploy of that revision started", body = DeployJson),
        (status = 400, description = "The body is not JSON, or has a wrong type or an unknown field", body = ApiErrorBody),
        (status = 404, description = "No such app", body = ApiErrorBody),
        (status = 409, description = "Another deploy of this app is in progress, the key was used for another request, or the cloud refused", body = ApiErrorBody),
        (status = 422, description = "No completed deploy of that revision, or an invalid idempotency key", body = ApiErrorBody),
        (status = 503, description = "The cloud is unavailable; retry with the same key", body = ApiErrorBody),
    ))]
pub async fn rollback(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(slug): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RollbackBody>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let (deploy, started) = deploys::rollback(&state, &caller, &slug, body.revision, key.as_deref()).await?;
    Ok(accepted(deploy, started))
}

/// `GET /api/v1/apps/{slug}/deploys`
#[utoipa::path(get, path = "/api/v1/apps/{slug}/deploys", tag = "deploys", operation_id = "list_deploys",
    params(("slug" = String, Path)),
    responses(
        (status = 200, description = "The app's last 100 deploys, newest first", body = Vec<DeployJson>),
        (status = 404, description = "No such app", body = ApiErrorBody),
    ))]
pub async fn history(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<Vec<DeployJson>>, ApiError> {
    let app = apps::get(&state.pool, &slug).await?;
    let all = deploys::history(&state.pool, app.id, 100).await?;
    Ok(Json(all.into_iter().map(DeployJson::of).collect()))
}

/// `GET /api/v1/deploys/{id}`
#[utoipa::path(get, path = "/api/v1/deploys/{id}", tag = "deploys", operation_id = "show_deploy",
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The deploy", body = DeployJson),
        (status = 404, description = "No such deploy (also for an `id` that is not a number)", body = ApiErrorBody),
    ))]
pub async fn show_deploy(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<DeployJson>, ApiError> {
    let id: i64 = id.parse().map_err(|_| ApiError(AppError::NotFound))?;
    Ok(Json(DeployJson::of(deploys::get(&state.pool, id).await?)))
}
