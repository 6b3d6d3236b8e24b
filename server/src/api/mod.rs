//! The public HTTP API, `/api/v1`: JSON for scripts and CI, authenticated by an API token
//! (`Authorization: Bearer …`) or a signed-in browser session.
//!
//! [`routes`] is the one table the router is built from: each route names the role it needs,
//! and a layer on the route checks it before the handler runs. Tests walk the same table, so
//! a route cannot be added without its check being tested.

pub mod apps;
mod audit;
mod costs;
mod me;
pub mod openapi;
pub mod schedules;
mod users;

use crate::error::{ApiError, AppError};
use crate::AppState;
use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::handler::Handler;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, on, MethodFilter, MethodRouter};
use axum::{Json, Router};
use domain::Role;
use serde::de::DeserializeOwned;
use service::auth::{check_role, Caller, RequestCtx};

/// One route of the API.
pub struct ApiRoute {
    pub method: Method,
    pub path: &'static str,
    /// The weakest role allowed.
    pub role: Role,
    pub handler: MethodRouter<AppState>,
}

impl ApiRoute {
    /// The route serving `handler` for `method` only: the method is said once, so the table
    /// the tests walk cannot disagree with what the router serves.
    fn new<H, T>(method: Method, path: &'static str, role: Role, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone()).expect("the API uses standard HTTP methods");
        Self { method, path, role, handler: on(filter, handler) }
    }
}

/// Every route of `/api/v1`.
pub fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute::new(Method::GET, "/api/v1/me", Role::Viewer, me::me),
        ApiRoute::new(Method::GET, "/api/v1/users", Role::Viewer, users::list),
        ApiRoute::new(Method::POST, "/api/v1/users", Role::Admin, users::invite),
        ApiRoute::new(Method::POST, "/api/v1/users/{username}/resend", Role::Admin, users::resend),
        ApiRoute::new(Method::POST, "/api/v1/users/{username}/disable", Role::Admin, users::disable),
        ApiRoute::new(Method::POST, "/api/v1/users/{username}/enable", Role::Admin, users::enable),
        ApiRoute::new(Method::DELETE, "/api/v1/users/{username}", Role::Admin, users::remove),
        ApiRoute::new(Method::GET, "/api/v1/apps", Role::Viewer, apps::list),
        ApiRoute::new(Method::POST, "/api/v1/apps", Role::Admin, apps::create),
        ApiRoute::new(Method::GET, "/api/v1/apps/{slug}", Role::Viewer, apps::show),
        ApiRoute::new(Method::PATCH, "/api/v1/apps/{slug}", Role::Admin, apps::update),
        ApiRoute::new(Method::DELETE, "/api/v1/apps/{slug}", Role::Admin, apps::remove),
        ApiRoute::new(Method::POST, "/api/v1/apps/{slug}/deploys", Role::Admin, apps::deploy),
        ApiRoute::new(Method::GET, "/api/v1/apps/{slug}/deploys", Role::Viewer, apps::history),
        ApiRoute::new(Method::POST, "/api/v1/apps/{slug}/rollback", Role::Admin, apps::rollback),
        ApiRoute::new(Method::GET, "/api/v1/deploys/{id}", Role::Viewer, apps::show_deploy),
        ApiRoute::new(Method::GET, "/api/v1/apps/{slug}/schedule", Role::Viewer, schedules::show),
        ApiRoute::new(Method::PUT, "/api/v1/apps/{slug}/schedule", Role::Admin, schedules::put),
        ApiRoute::new(Method::DELETE, "/api/v1/apps/{slug}/schedule", Role::Admin, schedules::remove),
        ApiRoute::new(Method::GET, "/api/v1/apps/{slug}/schedule/transitions", Role::Viewer, schedules::transitions),
        ApiRoute::new(Method::POST, "/api/v1/apps/{slug}/override", Role::Admin, schedules::set_override),
        ApiRoute::new(Method::DELETE, "/api/v1/apps/{slug}/override", Role::Admin, schedules::clear_override),
        ApiRoute::new(Method::GET, "/api/v1/openapi.json", Role::Viewer, openapi),
        ApiRoute::new(Method::GET, "/api/v1/costs", Role::Viewer, costs::list),
        ApiRoute::new(Method::GET, "/api/v1/costs.csv", Role::Viewer, costs::csv),
        ApiRoute::new(Method::GET, "/api/v1/audit", Role::Viewer, audit::list),
        ApiRoute::new(Method::GET, "/api/v1/audit.csv", Role::Viewer, audit::csv),
    ]
}

/// The API's router: each route behind its role check, unknown paths answered in JSON.
pub fn router() -> Router<AppState> {
    let mut router = Router::new();
    for r in routes() {
        let role = r.role;
        let checked =
            r.handler.route_layer(axum::middleware::from_fn(move |req: Request, next: Next| require(role, req, next)));
        router = router.route(r.path, checked);
    }
    // Any other path under /api answers in JSON too (the pages' 404 is HTML).
    router.route("/api/{*rest}", any(|| async { ApiError(AppError::NotFound) }))
}

async fn require(role: Role, req: Request, next: Next) -> Response {
    let principal = req.extensions().get::<RequestCtx>().and_then(|ctx| ctx.principal.as_ref());
    match check_role(principal, role) {
        Ok(()) => next.run(req).await,
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// The caller of an API route (its role was checked by the route's layer).
pub struct ApiCaller(pub Caller);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, ApiError> {
        let ctx = parts.extensions.get::<RequestCtx>().cloned().unwrap_or_default();
        let principal = ctx.principal.ok_or(ApiError(AppError::Unauthorized))?;
        Ok(ApiCaller(Caller { principal, source: ctx.source }))
    }
}

/// A JSON body whose every rejection (wrong content type, malformed or wrongly typed JSON,
/// too large) is an [`ApiError`] with the reason.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request<Body>, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => {
                let message = match &rejection {
                    axum::extract::rejection::JsonRejection::JsonDataError(e) => e.body_text(),
                    other => other.body_text(),
                };
                Err(ApiError(AppError::Request(message)))
            }
        }
    }
}

/// The OpenAPI document of `/api/v1`: every route of [`routes`], with the errors the table
/// says each answers before its handler runs.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = <openapi::ApiDoc as utoipa::OpenApi>::openapi();
    openapi::add_access_errors(&mut doc, &routes());
    doc
}

/// `GET /api/v1/openapi.json`
async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}

/// A CSV export as a download named `name`.
fn csv_attachment(name: &str, csv: String) -> Response {
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (axum::http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        csv,
    )
        .into_response()
}
