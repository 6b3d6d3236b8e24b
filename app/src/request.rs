//! What a server function knows of its request, read from the Leptos context the server
//! provides: the use cases' [`Services`], the gatekeeper's [`RequestCtx`] and the session.
//! Server-only (feature `ssr`).

use crate::error::AppError;
use domain::Role;
use leptos::prelude::use_context;
use service::auth::{check_role, Caller, RequestCtx};
use service::Services;
use tower_sessions::Session;

/// The use cases, provided by the server to every server function and page render.
pub fn services() -> Result<Services, AppError> {
    use_context::<Services>().ok_or_else(|| {
        tracing::error!("Services missing from the Leptos context");
        AppError::Internal
    })
}

fn parts() -> Option<axum::http::request::Parts> {
    use_context::<axum::http::request::Parts>()
}

/// The request context of the current server function or page render.
pub fn request_ctx() -> RequestCtx {
    parts().and_then(|parts| parts.extensions.get::<RequestCtx>().cloned()).unwrap_or_default()
}

/// The session of the current request (sign-in, sign-out).
pub fn session() -> Result<Session, AppError> {
    parts().and_then(|parts| parts.extensions.get::<Session>().cloned()).ok_or_else(|| {
        tracing::error!("no session layer in front of a server function");
        AppError::Internal
    })
}

/// The caller, provided their role allows `needed`: `Unauthorized` when nobody is signed in,
/// `Forbidden` when the role is too weak.
pub fn require(needed: Role) -> Result<Caller, AppError> {
    let ctx = request_ctx();
    check_role(ctx.principal.as_ref(), needed)?;
    let principal = ctx.principal.ok_or(AppError::Unauthorized)?;
    Ok(Caller { principal, source: ctx.source })
}

/// Expires the load balancer's session cookies (it splits them over up to four), so the next
/// request goes through its sign-in again.
pub fn forget_load_balancer_session() {
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        for shard in 0..4 {
            let cookie = format!("AWSELBAuthSessionCookie-{shard}=; Path=/; Max-Age=0; Secure; HttpOnly");
            if let Ok(value) = axum::http::HeaderValue::from_str(&cookie) {
                resp.append_header(axum::http::header::SET_COOKIE, value);
            }
        }
    }
}
