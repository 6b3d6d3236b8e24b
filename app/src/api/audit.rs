//! The Audit page's server function.

use crate::error::AppError;
use crate::model::AuditPage;
use leptos::prelude::*;

/// One page of the audit log. `from` and `to` are dates (`YYYY-MM-DD`, UTC) or RFC 3339
/// instants; empty fields do not filter.
#[server(prefix = "/sfn", endpoint = "audit")]
pub async fn load_audit(
    actor: Option<String>,
    action: Option<String>,
    target: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<i64>,
) -> Result<AuditPage, AppError> {
    crate::request::require(domain::Role::Viewer)?;
    let state = crate::request::services()?;
    let filter = crate::model::AuditFilter::parse(actor, action, target, from.as_deref(), to.as_deref())
        .map_err(AppError::from)?;
    Ok(service::audit::page(&state.pool, &filter, before).await?)
}
