//! API tokens in Settings (admins only).

use crate::error::AppError;
use crate::model::{CreatedToken, TokenInfo};
use leptos::prelude::*;

/// Every API token (never the secrets).
#[server(prefix = "/sfn", endpoint = "tokens")]
pub async fn load_tokens() -> Result<Vec<TokenInfo>, AppError> {
    crate::ssr::auth::require(domain::Role::Admin)?;
    let state = crate::ssr::state()?;
    crate::ssr::tokens::list(&state.pool).await.map_err(crate::ssr::internal)
}

/// Creates a token with a role; the answer is the only time the token is shown.
#[server(prefix = "/sfn", endpoint = "create_token")]
pub async fn create_token(name: String, role: String) -> Result<CreatedToken, AppError> {
    let caller = crate::ssr::auth::require(domain::Role::Admin)?;
    let state = crate::ssr::state()?;
    let role = domain::Role::parse(&role)
        .ok_or_else(|| crate::ssr::auth::respond(AppError::invalid("role", "Choose admin or viewer.")))?;
    let (info, token) =
        crate::ssr::tokens::create(&state.pool, &name, role, &caller.actor(), caller.source(), state.clock.now())
            .await
            .map_err(crate::ssr::auth::respond)?;
    Ok(CreatedToken { info, token })
}

/// Revokes a token.
#[server(prefix = "/sfn", endpoint = "revoke_token")]
pub async fn revoke_token(id: i64) -> Result<(), AppError> {
    let caller = crate::ssr::auth::require(domain::Role::Admin)?;
    let state = crate::ssr::state()?;
    crate::ssr::tokens::revoke(&state.pool, id, &caller.actor(), caller.source(), state.clock.now())
        .await
        .map_err(crate::ssr::auth::respond)
}
