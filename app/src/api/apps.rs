//! The app registry and deploys, as the app pages use them. Reads need a viewer; every
//! change needs an admin.

use crate::error::AppError;
use crate::model::{AppDetail, AppForm, DeployRecord, LogsView, MetricsView};
use leptos::prelude::*;

/// The app page: definition, live status, events and deploy history.
#[server(prefix = "/sfn", endpoint = "app_detail")]
pub async fn load_app(slug: String) -> Result<AppDetail, AppError> {
    let caller = crate::request::require(domain::Role::Viewer)?;
    let state = crate::request::services()?;
    let mut detail = service::overview::detail(&state, &slug).await?;
    if !caller.principal.role.allows(domain::Role::Admin) {
        detail.app = detail.app.with_env_hidden();
    }
    Ok(detail)
}

/// Registers an app; answers its slug.
#[server(prefix = "/sfn", endpoint = "create_app")]
pub async fn create_app(form: AppForm) -> Result<String, AppError> {
    let caller = crate::request::require(domain::Role::Admin)?;
    let state = crate::request::services()?;
    let def = form.validate().map_err(AppError::from)?;
    let created = service::apps::create(&state, &caller, &def.to_input()).await?;
    Ok(created.definition.slug.to_string())
}

/// Changes an app's definition (applied by its next deploy). `version` is the app's
/// `updated_at` the form was filled with: a change made since is not overwritten.
#[server(prefix = "/sfn", endpoint = "update_app")]
pub async fn update_app(slug: String, version: String, form: AppForm) -> Result<String, AppError> {
    let caller = crate::request::require(domain::Role::Admin)?;
    let state = crate::request::services()?;
    let seen = chrono::DateTime::parse_from_rfc3339(version.trim())
        .map_err(|_| AppError::Request("The form's version is not a time; reload the page.".into()))?;
    let def = form.validate().map_err(AppError::from)?;
    service::apps::update(&state, &caller, &slug, &def.to_input(), Some(seen.with_timezone(&chrono::Utc))).await?;
    Ok(slug)
}

/// Deletes an app (its service is scaled to zero and deleted); `confirm` repeats the slug.
#[server(prefix = "/sfn", endpoint = "delete_app")]
pub async fn delete_app(slug: String, confirm: String) -> Result<(), AppError> {
    let caller = crate::request::require(domain::Role::Admin)?;
    let state = crate::request::services()?;
    Ok(service::apps::delete(&state, &caller, &slug, &confirm).await?)
}

/// Deploys the app's definition, with a new image when one is given.
#[server(prefix = "/sfn", endpoint = "deploy_app")]
pub async fn deploy_app(slug: String, image: Option<String>, key: String) -> Result<DeployRecord, AppError> {
    let caller = crate::request::require(domain::Role::Admin)?;
    let state = crate::request::services()?;
    let (deploy, _) = service::deploys::deploy(&state, &caller, &slug, image.as_deref(), Some(&key)).await?;
    Ok(deploy)
}

/// Rolls the app back to an earlier revision.
#[server(prefix = "/sfn", endpoint = "rollback_app")]
pub async fn rollback_app(slug: String, revision: i64, key: String) -> Result<DeployRecord, AppError> {
    let caller = crate::request::require(domain::Role::Admin)?;
    let state = crate::request::services()?;
    let (deploy, _) = service::deploys::rollback(&state, &caller, &slug, revision, Some(&key)).await?;
    Ok(deploy)
}

/// The newest lines of one of the app's tasks' container log, matching `filter`.
#[server(prefix = "/sfn", endpoint = "app_logs")]
pub async fn load_logs(slug: String, task: String, filter: Option<String>) -> Result<LogsView, AppError> {
    crate::request::require(domain::Role::Viewer)?;
    let state = crate::request::services()?;
    Ok(service::apps::logs(&state, &slug, &task, filter.as_deref()).await?)
}

/// The app's CPU and memory utilisation over the last hour, day or week.
#[server(prefix = "/sfn", endpoint = "app_metrics")]
pub async fn load_metrics(slug: String, range: String) -> Result<MetricsView, AppError> {
    crate::request::require(domain::Role::Viewer)?;
    let state = crate::request::services()?;
    Ok(service::apps::metrics(&state, &slug, &range).await?)
}
