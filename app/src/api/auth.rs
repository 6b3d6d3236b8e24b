//! Sign-in, the new-password step and sign-out; `whoami` for the navigation.

use crate::error::AppError;
use crate::model::{SignInOutcome, Viewer};
use leptos::prelude::*;

/// The signed-in user, or `None`.
#[server(prefix = "/sfn", endpoint = "whoami")]
pub async fn whoami() -> Result<Option<Viewer>, AppError> {
    let state = crate::request::services()?;
    let ctx = crate::request::request_ctx();
    Ok(ctx.principal.map(|p| state.auth.viewer(&p)))
}

/// Signs in with email and password.
#[server(prefix = "/sfn", endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String, next: String) -> Result<SignInOutcome, AppError> {
    let state = crate::request::services()?;
    if state.auth.load_balancer.is_some() {
        // The load balancer signs users in; a password sign-in here would bypass it.
        return Err(AppError::Forbidden);
    }
    let session = crate::request::session()?;
    let ctx = crate::request::request_ctx();
    Ok(service::auth::sign_in(&state, &session, &email, &password, &next, ctx.source.as_deref()).await?)
}

/// Sets a new password at the first sign-in of an invited user.
#[server(prefix = "/sfn", endpoint = "set_new_password")]
pub async fn set_new_password(password: String, confirm: String, next: String) -> Result<SignInOutcome, AppError> {
    let state = crate::request::services()?;
    let session = crate::request::session()?;
    let ctx = crate::request::request_ctx();
    Ok(service::auth::complete_new_password(&state, &session, &password, &confirm, &next, ctx.source.as_deref())
        .await?)
}

/// Ends the session (and the user's sessions in the directory); answers where to go next.
#[server(prefix = "/sfn", endpoint = "sign_out")]
pub async fn sign_out() -> Result<String, AppError> {
    let state = crate::request::services()?;
    let session = crate::request::session()?;
    let ctx = crate::request::request_ctx();
    if ctx.principal.as_ref().is_some_and(|p| p.via == service::auth::Via::LoadBalancer) {
        crate::request::forget_load_balancer_session();
    }
    Ok(service::auth::sign_out(&state, &session, &ctx).await?)
}
