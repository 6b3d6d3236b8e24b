//! Server functions: thin. Each takes the state from context, calls one function of
//! [`crate::ssr`], and maps its error.

use crate::error::AppError;
use crate::model::{ConsoleInfo, FleetView};
use leptos::prelude::*;

/// Every registered app with its cached live status.
#[server(prefix = "/sfn", endpoint = "fleet")]
pub async fn load_fleet() -> Result<FleetView, AppError> {
    let state = crate::ssr::state()?;
    crate::ssr::apps::fleet_view(&state.pool, state.clock.now()).await.map_err(crate::ssr::internal)
}

/// What this console is connected to.
#[server(prefix = "/sfn", endpoint = "console_info")]
pub async fn load_console_info() -> Result<ConsoleInfo, AppError> {
    let state = crate::ssr::state()?;
    Ok(state.info.clone())
}
