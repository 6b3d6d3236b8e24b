//! How large a request body may be, per route, answered before anything else reads it: 413
//! in the console's error shape (a server function's encoded [`AppError`], the API's JSON
//! error elsewhere). A body without a length, or longer than it said, is read only up to the
//! limit, so a large upload costs no more memory than the limit.

use crate::error::{ApiError, AppError};
use axum::body::Body;
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Server functions: the largest form is an app's settings with 32 KB of environment
/// variables, or a schedule with a year of exceptions, percent-encoded (up to three times
/// larger).
pub const SERVER_FN_BYTES: usize = 256 * 1024;
/// `/api/v1`: the same documents as JSON.
pub const API_BYTES: usize = 256 * 1024;
/// Everything else (pages, health, static files) reads no body.
pub const OTHER_BYTES: usize = 16 * 1024;

/// The limit of the route at `path`.
pub fn limit_for(path: &str) -> usize {
    if is_server_fn(path) {
        SERVER_FN_BYTES
    } else if path.starts_with("/api/") {
        API_BYTES
    } else {
        OTHER_BYTES
    }
}

fn is_server_fn(path: &str) -> bool {
    path.strip_prefix(app::api::SERVER_FN_PREFIX).is_some_and(|rest| rest.starts_with('/'))
}

/// Refuses a body over its route's limit; passes the others on, read.
pub async fn body_limit(req: Request<Body>, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let limit = limit_for(&path);
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large(&path, limit);
    }
    let (parts, body) = req.into_parts();
    let bytes = match http_body_util::BodyExt::collect(http_body_util::Limited::new(body, limit)).await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => return too_large(&path, limit),
        Err(_) => return ApiError(AppError::Request("the body could not be read".into())).into_response(),
    };
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

fn too_large(path: &str, limit: usize) -> Response {
    let error = AppError::TooLarge { limit_kb: limit / 1024 };
    if !is_server_fn(path) {
        return ApiError(error).into_response();
    }
    // A server function's error as its client decodes it.
    let body = serde_json::to_vec(&error).unwrap_or_default();
    let mut response = (StatusCode::PAYLOAD_TOO_LARGE, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_route_has_its_limit() {
        assert_eq!(limit_for("/sfn/sign_in"), SERVER_FN_BYTES);
        assert_eq!(limit_for("/api/v1/apps"), API_BYTES);
        assert_eq!(limit_for("/"), OTHER_BYTES);
        assert_eq!(limit_for("/healthz"), OTHER_BYTES);
    }
}
