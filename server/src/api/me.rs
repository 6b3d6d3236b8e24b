//! `GET /api/v1/me`: who is calling.

use super::ApiCaller;
use axum::Json;
use domain::Role;
use serde::Serialize;
use service::auth::Via;
use utoipa::ToSchema;

/// Who is calling.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeJson {
    /// The user's email, or the token's name.
    name: String,
    /// How the audit log names the caller (`token:<name>` for a token).
    #[schema(example = "token:ci")]
    actor: String,
    /// `viewer` or `admin`.
    #[schema(value_type = String, example = "admin")]
    role: Role,
    /// How the caller signed in: `session`, `token` or `load_balancer`.
    #[schema(value_type = String, example = "token")]
    via: Via,
}

/// `GET /api/v1/me`
#[utoipa::path(get, path = "/api/v1/me", tag = "api", operation_id = "me",
    responses((status = 200, description = "The caller", body = MeJson)))]
pub async fn me(ApiCaller(caller): ApiCaller) -> Json<MeJson> {
    let p = &caller.principal;
    Json(MeJson { name: p.name.clone(), actor: p.actor(), role: p.role, via: p.via })
}
