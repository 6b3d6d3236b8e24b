//! Server functions: thin. Each takes the state from context, checks the caller's role,
//! calls one use case of the `service` crate, and maps its error (`?` converts it).
//!
//! [`ACCESS`] lists every server function with the access it needs. The server refuses a
//! call before the function runs when the caller's role is too weak, and refuses any server
//! function missing from the list, so a new one cannot be forgotten; each function also
//! checks the role itself (pages call them directly while rendering on the server).

pub mod apps;
pub mod audit;
pub mod auth;
pub mod costs;
pub mod people;
pub mod schedules;
pub mod tokens;

use crate::error::AppError;
use crate::model::{ConsoleInfo, FleetView};
use domain::Role;
use leptos::prelude::*;

/// Where server functions are served; `/api/v1` stays free for the public HTTP API.
pub const SERVER_FN_PREFIX: &str = "/sfn";

/// Who may call a server function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not (sign-in itself).
    Public,
    /// Signed in with at least this role.
    Role(Role),
}

/// Every server function by endpoint, with the access it needs.
pub const ACCESS: &[(&str, Access)] = &[
    ("whoami", Access::Public),
    ("sign_in", Access::Public),
    ("set_new_password", Access::Public),
    ("sign_out", Access::Public),
    ("fleet", Access::Role(Role::Viewer)),
    ("console_info", Access::Role(Role::Viewer)),
    ("app_detail", Access::Role(Role::Viewer)),
    ("app_logs", Access::Role(Role::Viewer)),
    ("app_metrics", Access::Role(Role::Viewer)),
    ("create_app", Access::Role(Role::Admin)),
    ("update_app", Access::Role(Role::Admin)),
    ("delete_app", Access::Role(Role::Admin)),
    ("deploy_app", Access::Role(Role::Admin)),
    ("rollback_app", Access::Role(Role::Admin)),
    ("schedule", Access::Role(Role::Viewer)),
    ("schedules", Access::Role(Role::Viewer)),
    ("save_schedule", Access::Role(Role::Admin)),
    ("delete_schedule", Access::Role(Role::Admin)),
    ("set_override", Access::Role(Role::Admin)),
    ("clear_override", Access::Role(Role::Admin)),
    ("costs", Access::Role(Role::Viewer)),
    ("app_cost", Access::Role(Role::Viewer)),
    ("people", Access::Role(Role::Viewer)),
    ("invite_person", Access::Role(Role::Admin)),
    ("resend_invitation", Access::Role(Role::Admin)),
    ("set_person_enabled", Access::Role(Role::Admin)),
    ("delete_person", Access::Role(Role::Admin)),
    ("set_person_group", Access::Role(Role::Admin)),
    ("audit", Access::Role(Role::Viewer)),
    ("tokens", Access::Role(Role::Admin)),
    ("create_token", Access::Role(Role::Admin)),
    ("revoke_token", Access::Role(Role::Admin)),
];

/// The access a server function path (e.g. `/sfn/fleet`) needs; `None` for a path that is
/// not in [`ACCESS`].
pub fn access_of(path: &str) -> Option<Access> {
    let endpoint = path.strip_prefix(SERVER_FN_PREFIX)?.strip_prefix('/')?;
    ACCESS.iter().find(|(name, _)| *name == endpoint).map(|(_, access)| *access)
}

/// Every registered app with its cached live status.
#[server(prefix = "/sfn", endpoint = "fleet")]
pub async fn load_fleet() -> Result<FleetView, AppError> {
    crate::request::require(Role::Viewer)?;
    let state = crate::request::services()?;
    let costs = service::costs::today_by_app(&state).await?;
    Ok(service::overview::fleet_view(&state.pool, state.clock.now(), &costs).await?)
}

/// What this console is connected to.
#[server(prefix = "/sfn", endpoint = "console_info")]
pub async fn load_console_info() -> Result<ConsoleInfo, AppError> {
    crate::request::require(Role::Viewer)?;
    let state = crate::request::services()?;
    Ok(state.info.clone())
}
