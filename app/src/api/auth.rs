//! Sign-in, the new-password step and sign-out; `whoami` for the navigation.

use crate::error::AppError;
use crate::model::{SignInOutcome, Viewer};
use leptos::prelude::*;

/// The signed-in user, or `None`.
#[server(prefix = "/sfn", endpoint = "whoami")]
pub async fn whoami() -> Result<Option<Viewer>, AppError> {
    let state = crate::ssr::state()?;
    let ctx = crate::ssr::auth::request_ctx();
    Ok(ctx.principal.map(|p| state.auth.viewer(&p)))
}

/// Signs in with email and password.
#[server(prefix = "/sfn", endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String, next: String) -> Result<SignInOutcome, AppError> {
    let state = crate::ssr::state()?;
    if state.auth.load_balancer.is_some() {
        // The load balancer signs users in; a password sign-in here would bypass it.
        return Err(crate::ssr::auth::respond(AppError::Forbidden));
    }
    let session = crate::ssr::auth::session()?;
    let ctx = crate::ssr::auth::request_ctx();
    crate::ssr::auth::sign_in(&state, &session, &email, &password, &next, ctx.source.as_deref())
        .await
        .map_err(crate::ssr::auth::respond)
}

/// Sets a new password at the first sign-in of an invited user.
#[server(prefix = "/sfn", endpoint = "set_new_password")]
pub async fn set_new_password(password: String, confirm: String, next: String) -> Result<SignInOutcome, AppError> {
    let state = crate::ssr::state()?;
    let session = crate::ssr::auth::session()?;
    let ctx = crate::ssr::auth::request_ctx();
    crate::ssr::auth::complete_new_password(&state, &session, &password, &confirm, &next, ctx.source.as_deref())
        .await
        .map_err(crate::ssr::auth::respond)
}

/// Ends the session (and the user's sessions in the directory); answers where to go next.
#[server(prefix = "/sfn", endpoint = "sign_out")]
pub async fn sign_out() -> Result<String, AppError> {
    let state = crate::ssr::state()?;
    let session = crate::ssr::auth::session()?;
    let ctx = crate::ssr::auth::request_ctx();
    crate::ssr::auth::sign_out(&state, &session, &ctx).await
}
