//! Costs, as the pages use them (viewers and admins alike).

use crate::error::AppError;
use crate::model::{AppCost, CostsView};
use leptos::prelude::*;

/// The Costs page: the last 30 days by app, and this month's figures per app and fleet.
#[server(prefix = "/sfn", endpoint = "costs")]
pub async fn load_costs() -> Result<CostsView, AppError> {
    crate::request::require(domain::Role::Viewer)?;
    let state = crate::request::services()?;
    Ok(service::costs::view(&state).await?)
}

/// One app's cost today, this month and projected (its page's cost card).
#[server(prefix = "/sfn", endpoint = "app_cost")]
pub async fn load_app_cost(slug: String) -> Result<AppCost, AppError> {
    crate::request::require(domain::Role::Viewer)?;
    let state = crate::request::services()?;
    Ok(service::costs::for_app(&state, &slug).await?)
}
