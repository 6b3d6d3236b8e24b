//! The OpenAPI document of `/api/v1`: every handler's `#[utoipa::path]`, the schemas, and the
//! errors every route answers before its handler runs.

use super::me::MeJson;
use super::{apps, audit, costs, schedules, users, ApiRoute};
use crate::error::ApiErrorBody;
use domain::Role;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{OpenApi, ToSchema};

/// `GET /api/v1/openapi.json`, for the document only: the handler is [`super::openapi`] (beside
/// the routes table it reads); this stub carries its `#[utoipa::path]` and is never called.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "api", operation_id = "openapi",
    responses((status = 200, description = "This document (OpenAPI 3.1)", body = Object)))]
#[allow(dead_code)]
fn openapi_doc() {}

/// The OpenAPI document of `/api/v1` as the handlers' `#[utoipa::path]`s describe it;
/// [`super::document`] adds what the routes table says ([`add_access_errors`]).
#[derive(OpenApi)]
#[openapi(
    info(title = "ShinyFleet API", description = "Apps, deploys, schedules, users, costs and the audit log, for CI jobs and scripts. Authenticate with `Authorization: Bearer <API token>` (Settings → API tokens), or a signed-in browser session. Every error answers an `ApiErrorBody`."),
    paths(super::me::me, openapi_doc, apps::list, apps::create, apps::show, apps::update, apps::remove, apps::deploy,
        apps::rollback, apps::history, apps::show_deploy,
        schedules::show, schedules::put, schedules::remove, schedules::transitions,
        schedules::set_override, schedules::clear_override,
        users::list, users::invite, users::resend, users::disable, users::enable,
        users::remove, costs::list, costs::csv, audit::list, audit::csv),
    components(schemas(apps::AppJson, apps::AppStatusJson, apps::LiveJson, apps::TaskJson, apps::AppBody,
        apps::DeployJson, apps::DeployBody, apps::RollbackBody, ApiErrorBody, MeJson)),
        tags((name = "apps", description = "The app registry"), (name = "deploys", description = "Deploys and rollbacks"),
        (name = "schedules", description = "Schedules and temporary overrides"),
        (name = "users", description = "The user pool: invitations and user changes"),
        (name = "costs", description = "What each app cost per local day"),
        (name = "audit", description = "The audit log"),
        (name = "api", description = "The caller and this document")),
)]
pub struct ApiDoc;

/// Adds to every operation the errors answered before its handler runs, from the routes
/// table the router is built from: 401 without a valid token or session,
/// 403 on the routes that need the admin role (a change from a browser session on another
/// origin is refused with it too; every change needs an admin), 500 for a fault of the
/// console's. Also says how to authenticate.
pub fn add_access_errors(doc: &mut utoipa::openapi::OpenApi, routes: &[ApiRoute]) {
    for route in routes {
        let Some(item) = doc.paths.paths.get_mut(route.path) else { continue };
        let operation = match route.method.as_str() {
            "GET" => &mut item.get,
            "POST" => &mut item.post,
            "PUT" => &mut item.put,
            "PATCH" => &mut item.patch,
            "DELETE" => &mut item.delete,
            _ => continue,
        };
        let Some(operation) = operation else { continue };
        let responses = &mut operation.responses.responses;
        let mut add = |status: u16, description: &str| {
            responses.entry(status.to_string()).or_insert_with(|| error_response(description));
        };
        add(401, "No valid API token or session (`unauthorized`)");
        if route.role == Role::Admin {
            add(403, "The caller is not an admin, or a session's change came from another origin (`forbidden`)");
        }
        add(500, "A fault on the console's side, logged there (`internal`)");
    }
    let components = doc.components.get_or_insert_with(Default::default);
    let token = HttpBuilder::new()
        .scheme(HttpAuthScheme::Bearer)
        .description(Some("An API token (`sft_…`), from Settings → API tokens or `shinyfleet token create`"))
        .build();
    components.add_security_scheme("token", SecurityScheme::Http(token));
    components.add_security_scheme(
        "session",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            "shinyfleet_session",
            "A signed-in browser session (`__Host-shinyfleet_session` when the console's public URL is https); its changes must come from the console's own origin",
        ))),
    );
    doc.security = Some(vec![
        SecurityRequirement::new("token", Vec::<String>::new()),
        SecurityRequirement::new("session", Vec::<String>::new()),
    ]);
}

/// An error answer with its status's meaning.
fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    let body = ContentBuilder::new().schema(Some(Ref::from_schema_name(ApiErrorBody::name()))).build();
    RefOr::T(ResponseBuilder::new().description(description).content("application/json", body).build())
}
