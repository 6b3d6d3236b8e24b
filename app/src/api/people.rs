//! The People page's server functions.

use crate::error::AppError;
use crate::model::{Invited, PeoplePage};
use leptos::prelude::*;

/// One page of users, searched by the start of their email.
#[server(prefix = "/sfn", endpoint = "people")]
pub async fn load_people(q: Option<String>, next: Option<String>) -> Result<PeoplePage, AppError> {
    crate::request::require(domain::Role::Viewer)?;
    let state = crate::request::services()?;
    Ok(service::people::list(&state, q.as_deref(), next.as_deref()).await?)
}

/// Invites a colleague, optionally into a group.
#[server(prefix = "/sfn", endpoint = "invite_person")]
pub async fn invite_person(email: String, group: Option<String>) -> Result<Invited, AppError> {
    let caller = crate::request::require(domain::Role::Admin)?;
    let state = crate::request::services()?;
    Ok(service::people::invite(&state, &caller, &email, group.as_deref()).await?)
}

/// Sends an invitation again.
#[server(prefix = "/sfn", endpoint = "resend_invitation")]
pub async fn resend_invitation(username: String) -> Result<(), AppError> {
    let caller = crate::request::require(domain::Role::Admin)?;
    let state = crate::request::services()?;
    Ok(service::people::resend(&state, &caller, &username).await?)
}

/// Disables or enables a user.
#[server(prefix = "/sfn", endpoint = "set_person_enabled")]
pub async fn set_person_enabled(username: String, enabled: bool) -> Result<(), AppError> {
    let caller = crate::request::require(domain::Role::Admin)?;
    let state = crate::request::services()?;
    Ok(service::people::set_enabled(&state, &caller, &username, enabled).await?)
}

/// Deletes a user; `confirm` repeats their email.
#[server(prefix = "/sfn", endpoint = "delete_person")]
pub async fn delete_person(username: String, confirm: String) -> Result<(), AppError> {
    let caller = crate::request::require(domain::Role::Admin)?;
    let state = crate::request::services()?;
    Ok(service::people::delete(&state, &caller, &username, &confirm).await?)
}

/// Adds a user to a group or removes them from it.
#[server(prefix = "/sfn", endpoint = "set_person_group")]
pub async fn set_person_group(username: String, group: String, member: bool) -> Result<(), AppError> {
    let caller = crate::request::require(domain::Role::Admin)?;
    let state = crate::request::services()?;
    Ok(service::people::set_group(&state, &caller, &username, &group, member).await?)
}
