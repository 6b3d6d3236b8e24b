//! How the HTTP surface answers an error: one mapping from a use case's [`service::Error`] to
//! the console's wire error ([`AppError`], whose `status` and `code` say the rest), shared by
//! the HTTP API, the gatekeeper and the server functions' error responses.

pub use app::error::AppError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// An [`AppError`] as the API answers it: `{"error": {"code", "message", "field"?, "fields"?}}`
/// with the error's status (`fields` maps every refused field to its message). Internal errors are logged by the conversion and say nothing more.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        Self(e)
    }
}

impl From<service::Error> for ApiError {
    fn from(e: service::Error) -> Self {
        Self(e.into())
    }
}

impl From<domain::ValidationError> for ApiError {
    fn from(e: domain::ValidationError) -> Self {
        Self(e.into())
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        Self(service::Error::from(e).into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut error = json!({ "code": self.0.code(), "message": self.0.to_string() });
        match &self.0 {
            AppError::Invalid { field, message } => {
                error["field"] = json!(field);
                error["message"] = json!(message);
                error["fields"] = json!({ field: message });
            }
            AppError::InvalidFields(all) => {
                error["field"] = json!(all.first().map(|(f, _)| f));
                error["fields"] = all.iter().map(|(f, m)| (f.clone(), json!(m))).collect();
            }
            _ => {}
        }
        (status, Json(json!({ "error": error }))).into_response()
    }
}

/// The status of a server function's error response. Server functions answer every error
/// with 500 and the error as JSON; this reads the error back and gives the status it means
/// (`None` when the body is not one of ours).
pub fn server_fn_status(body: &[u8]) -> Option<StatusCode> {
    let e: AppError = serde_json::from_slice(body).ok()?;
    StatusCode::from_u16(e.status()).ok()
}
