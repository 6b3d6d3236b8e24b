//! The error every server function returns. Its text is what the browser sees, so internal
//! failures carry no detail: the detail is logged on the server where it happens.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Please sign in.")]
    Unauthorized,
    /// A sign-in with a wrong email or password (one message for both).
    #[error("Incorrect email or password.")]
    BadCredentials,
    /// Signed in, but in neither of the console's groups.
    #[error("{email} may not use this console: the account is in neither the {admins} nor the {viewers} group. Ask an admin to add you to one.")]
    NoAccess { email: String, admins: String, viewers: String },
    /// Too many failed sign-ins for this account or from this address.
    #[error("Too many failed sign-ins. Try again in {minutes} min.")]
    TooManyAttempts { minutes: i64 },
    #[error("Your role does not allow this.")]
    Forbidden,
    #[error("Not found.")]
    NotFound,
    /// The request conflicts with the current state (e.g. a change made by someone else).
    #[error("{0}")]
    Conflict(String),
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// Several fields refused at once (a whole form): `(field, message)` in form order.
    #[error("Please correct {}.", .0.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>().join(", "))]
    InvalidFields(Vec<(String, String)>),
    #[error("The cloud is not answering right now; try again in a moment.")]
    Unavailable,
    #[error("Something went wrong on our side. It has been logged.")]
    Internal,
    /// The request itself could not be made or read (network, encoding).
    #[error("The request failed: {0}")]
    Request(String),
    /// The request's body is larger than its route accepts.
    #[error("The request is too large: this address accepts at most {limit_kb} KB.")]
    TooLarge { limit_kb: usize },
}

impl AppError {
    /// The HTTP status this error is answered with: the one mapping from an error to a status,
    /// for server functions (applied by the server to their error responses) and the HTTP API.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Unauthorized | AppError::BadCredentials => 401,
            AppError::NoAccess { .. } => 403,
            AppError::TooManyAttempts { .. } => 429,
            AppError::Forbidden => 403,
            AppError::NotFound => 404,
            AppError::Conflict(_) => 409,
            AppError::Invalid { .. } | AppError::InvalidFields(_) => 422,
            AppError::Unavailable => 503,
            AppError::Internal => 500,
            AppError::Request(_) => 400,
            AppError::TooLarge { .. } => 413,
        }
    }
}

impl AppError {
    /// A machine-readable code for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthorized => "unauthorized",
            AppError::BadCredentials => "bad_credentials",
            AppError::NoAccess { .. } => "no_access",
            AppError::TooManyAttempts { .. } => "too_many_attempts",
            AppError::Forbidden => "forbidden",
            AppError::NotFound => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::Invalid { .. } | AppError::InvalidFields(_) => "invalid",
            AppError::Unavailable => "unavailable",
            AppError::Internal => "internal",
            AppError::Request(_) => "bad_request",
            AppError::TooLarge { .. } => "too_large",
        }
    }

    /// A field error.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid { field: field.to_owned(), message: message.into() }
    }
}

impl From<domain::ValidationError> for AppError {
    fn from(e: domain::ValidationError) -> Self {
        AppError::Invalid { field: e.field, message: e.message }
    }
}

impl From<Vec<domain::ValidationError>> for AppError {
    fn from(errors: Vec<domain::ValidationError>) -> Self {
        match <[_; 1]>::try_from(errors) {
            Ok([one]) => one.into(),
            Err(many) => AppError::InvalidFields(many.into_iter().map(|e| (e.field, e.message)).collect()),
        }
    }
}

impl AppError {
    /// The message for `field` when this error refuses it.
    pub fn field_message(&self, field: &str) -> Option<&str> {
        match self {
            AppError::Invalid { field: f, message } if f == field => Some(message),
            AppError::InvalidFields(all) => all.iter().find(|(f, _)| f == field).map(|(_, m)| m.as_str()),
            _ => None,
        }
    }
}

/// A use case's error as the browser sees it: the console's own failures are logged here, once,
/// and reach the browser without their detail.
#[cfg(feature = "ssr")]
impl From<service::Error> for AppError {
    fn from(e: service::Error) -> Self {
        use service::Error as E;
        match e {
            E::Unauthorized => AppError::Unauthorized,
            E::BadCredentials => AppError::BadCredentials,
            E::NoAccess { email, admins, viewers } => AppError::NoAccess { email, admins, viewers },
            E::TooManyAttempts { minutes } => AppError::TooManyAttempts { minutes },
            E::Forbidden => AppError::Forbidden,
            E::NotFound => AppError::NotFound,
            E::Conflict(message) => AppError::Conflict(message),
            E::Invalid { field, message } => AppError::Invalid { field, message },
            E::InvalidFields(fields) => AppError::InvalidFields(fields),
            E::Unavailable(reason) => {
                tracing::warn!(%reason, "the cloud is unavailable");
                AppError::Unavailable
            }
            E::Database(_) | E::Internal(_) => {
                tracing::error!(error = %e, "internal error");
                AppError::Internal
            }
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Server-side failures were logged where they happened; say nothing more.
            ServerFnErrorErr::ServerError(_) | ServerFnErrorErr::MiddlewareError(_) => AppError::Internal,
            other => {
                // Arguments the server cannot decode (or a body it cannot read: not UTF-8, over
                // the limit) are the caller's mistake: 400 (see `status`), not a 500.
                AppError::Request(other.to_string())
            }
        }
    }
}
