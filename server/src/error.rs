//! How the HTTP surface answers an error: one mapping from a use case's [`service::Error`] to
//! the console's wire error ([`AppError`], whose `status` and `code` say the rest), shared by
//! the HTTP API, the gatekeeper and the server functions' error responses.

pub use app::error::AppError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::borrow::Cow;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

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

/// The body of every error answer, `{"error": {"code", "message", "field"?, "fields"?}}`, as
/// [`ApiError`] writes it. For the document only: its schema (written by hand,
/// below) lists in `code` every code an [`AppError`] can have ([`error_codes`]).
pub struct ApiErrorBody;

impl PartialSchema for ApiErrorBody {
    fn schema() -> RefOr<Schema> {
        let text = |description: &str| ObjectBuilder::new().schema_type(Type::String).description(Some(description));
        let mut statuses: Vec<String> = Vec::new();
        for e in each_error() {
            let status = format!("`{}` ({})", e.code(), e.status());
            if !statuses.contains(&status) {
                statuses.push(status);
            }
        }
        let code = text(&format!(
            "What went wrong, for programs to branch on, with the status it comes with: {}. \
             `bad_credentials`, `no_access` and `too_many_attempts` answer the console's sign-in only.",
            statuses.join(", ")
        ))
        .enum_values(Some(error_codes()));
        let fields = ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some("422 only: every field refused, with its message."))
            .additional_properties(Some(text("Why the field was refused.")));
        let error = ObjectBuilder::new()
            .property("code", code)
            .required("code")
            .property("message", text("For people; branch on the status and `code`, not on this."))
            .required("message")
            .property("field", text("422 only: the first field refused."))
            .property("fields", fields);
        ObjectBuilder::new()
            .description(Some("The body of every error answer."))
            .property("error", error)
            .required("error")
            .into()
    }
}

impl ToSchema for ApiErrorBody {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ApiErrorBody")
    }
}

/// One error of each kind [`AppError`] has: what [`error_codes`] reads the codes from.
fn each_error() -> Vec<AppError> {
    let each = vec![
        AppError::Unauthorized,
        AppError::BadCredentials,
        AppError::NoAccess { email: String::new(), admins: String::new(), viewers: String::new() },
        AppError::TooManyAttempts { minutes: 1 },
        AppError::Forbidden,
        AppError::NotFound,
        AppError::Conflict(String::new()),
        AppError::invalid("field", "message"),
        AppError::InvalidFields(vec![]),
        AppError::Unavailable,
        AppError::Internal,
        AppError::Request(String::new()),
        AppError::TooLarge { limit_kb: 1 },
    ];
    for e in &each {
        // No wildcard: a new kind of error does not compile here until it is listed above.
        match e {
            AppError::Unauthorized
            | AppError::BadCredentials
            | AppError::NoAccess { .. }
            | AppError::TooManyAttempts { .. }
            | AppError::Forbidden
            | AppError::NotFound
            | AppError::Conflict(_)
            | AppError::Invalid { .. }
            | AppError::InvalidFields(_)
            | AppError::Unavailable
            | AppError::Internal
            | AppError::Request(_)
            | AppError::TooLarge { .. } => {}
        }
    }
    each
}

/// Every `code` an API error can have ([`AppError::code`]), each once: the values the
/// document allows in [`ApiErrorBody`]'s `code`.
pub fn error_codes() -> Vec<&'static str> {
    let mut codes = Vec::new();
    for e in each_error() {
        if !codes.contains(&e.code()) {
            codes.push(e.code());
        }
    }
    codes
}
