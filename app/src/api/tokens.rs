//! API tokens in Settings (admins only).

use crate::error::AppError;
use crate::model::{CreatedToken, TokenInfo};
use leptos::prelude::*;

/// Every API token (never the secrets).
#[server(prefix = "/sfn", endpoint = "tokens")]
pub async fn load_tokens() -> Result<Vec<TokenInfo>, AppError> {
    crate::request::require(domain::Role::Admin)?;
    let state = crate::request::services()?;
    Ok(service::tokens::list(&state.pool).await?)
}

/// Creates a token with a role; the answer is the only time the token is shown.
#[server(prefix = "/sfn", endpoint = "create_token")]
pub async fn create_token(name: String, role: String) -> Result<CreatedToken, AppError> {
    let caller = crate::request::require(domain::Role::Admin)?;
    let state = crate::request::services()?;
    let role = domain::Role::parse(&role).ok_or_else(|| AppError::invalid("role", "Choose admin or viewer."))?;
    let (info, token) =
        service::tokens::create(&state.pool, &name, role, &caller.actor(), caller.source(), state.clock.now()).await?;
    Ok(CreatedToken { info, token })
}

/// Revokes a token.
#[server(prefix = "/sfn", endpoint = "revoke_token")]
pub async fn revoke_token(id: i64) -> Result<(), AppError> {
    let caller = crate::request::require(domain::Role::Admin)?;
    let state = crate::request::services()?;
    Ok(service::tokens::revoke(&state.pool, id, &caller.actor(), caller.source(), state.clock.now()).await?)
}
