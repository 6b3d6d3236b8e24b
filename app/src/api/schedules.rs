//! Schedules and temporary overrides, as the pages use them. Reads need a viewer; every
//! change needs an admin.

use crate::error::AppError;
use crate::model::{OverrideRequest, ScheduleRow, ScheduleView};
use domain::schedule::ScheduleDoc;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// The app's schedule, override, next transitions and the scheduler's recent actions.
#[server(prefix = "/sfn", endpoint = "schedule")]
pub async fn load_schedule(slug: String) -> Result<ScheduleView, AppError> {
    crate::request::require(domain::Role::Viewer)?;
    let state = crate::request::services()?;
    Ok(service::schedules::view(&state, &slug).await?)
}

/// Every app with its schedule, current state and next transition.
#[server(prefix = "/sfn", endpoint = "schedules")]
pub async fn load_schedules() -> Result<Vec<ScheduleRow>, AppError> {
    crate::request::require(domain::Role::Viewer)?;
    let state = crate::request::services()?;
    Ok(service::schedules::rows(&state).await?)
}

/// Sets (or replaces) the app's schedule; every bad field is reported at once.
#[server(prefix = "/sfn", endpoint = "save_schedule", input = Json)]
pub async fn save_schedule(slug: String, doc: ScheduleDoc) -> Result<ScheduleView, AppError> {
    let caller = crate::request::require(domain::Role::Admin)?;
    let state = crate::request::services()?;
    service::schedules::save(&state, &caller, &slug, &doc).await?;
    Ok(service::schedules::view(&state, &slug).await?)
}

/// Removes the app's schedule (its service keeps its current desired count).
#[server(prefix = "/sfn", endpoint = "delete_schedule")]
pub async fn delete_schedule(slug: String) -> Result<(), AppError> {
    let caller = crate::request::require(domain::Role::Admin)?;
    let state = crate::request::services()?;
    Ok(service::schedules::delete(&state, &caller, &slug).await?)
}

/// Overrides the schedule until a time ("on for 2 hours", "keep on until 20:00", "off until
/// Monday 08:00"); the scheduler applies it at once.
#[server(prefix = "/sfn", endpoint = "set_override", input = Json)]
pub async fn set_override(slug: String, request: OverrideRequest) -> Result<ScheduleView, AppError> {
    let caller = crate::request::require(domain::Role::Admin)?;
    let state = crate::request::services()?;
    service::schedules::set_override(&state, &caller, &slug, &request).await?;
    Ok(service::schedules::view(&state, &slug).await?)
}

/// Ends the override now: the schedule governs again.
#[server(prefix = "/sfn", endpoint = "clear_override")]
pub async fn clear_override(slug: String) -> Result<ScheduleView, AppError> {
    let caller = crate::request::require(domain::Role::Admin)?;
    let state = crate::request::services()?;
    service::schedules::clear_override(&state, &caller, &slug).await?;
    Ok(service::schedules::view(&state, &slug).await?)
}
