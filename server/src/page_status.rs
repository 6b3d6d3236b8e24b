//! The status of an app's pages: `/apps/{slug}` and `/apps/{slug}/edit` answer 404 when no
//! live app has that slug (a bookmark to a deleted app, a typo, a monitor checking a link).
//! The page itself still says why; it cannot set the status, because Leptos streams the
//! page's head before the page's data has loaded.

use crate::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{Method, Request, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

/// The slug an app page's path names, if the path is one (`/apps/new` is the register form).
fn app_slug(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/apps/")?;
    let (slug, tail) = rest.split_once('/').unwrap_or((rest, ""));
    (!slug.is_empty() && slug != "new" && matches!(tail, "" | "edit")).then_some(slug)
}

/// Turns a rendered app page's 200 into 404 when its app does not exist. Anything else
/// (other paths, a redirect to sign-in, an error) passes untouched.
pub async fn unknown_app(State(state): State<AppState>, req: Request<Body>, next: Next) -> Response {
    let slug = (req.method() == Method::GET).then(|| app_slug(req.uri().path()).map(str::to_owned)).flatten();
    let mut response = next.run(req).await;
    if let Some(slug) = slug {
        if response.status() == StatusCode::OK && matches!(service::apps::find(&state.pool, &slug).await, Ok(None)) {
            *response.status_mut() = StatusCode::NOT_FOUND;
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::app_slug;

    #[test]
    fn only_an_app_page_names_a_slug() {
        assert_eq!(app_slug("/apps/sales"), Some("sales"));
        assert_eq!(app_slug("/apps/sales/"), Some("sales"));
        assert_eq!(app_slug("/apps/sales/edit"), Some("sales"));
        assert_eq!(app_slug("/apps/new"), None);
        assert_eq!(app_slug("/apps/"), None);
        assert_eq!(app_slug("/apps/sales/logs.csv"), None);
        assert_eq!(app_slug("/schedules"), None);
        assert_eq!(app_slug("/api/v1/apps/sales"), None);
    }
}
