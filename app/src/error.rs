//! The error every server function returns. Its text is what the browser sees, so internal
//! failures carry no detail: the detail is logged on the server where it happens.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Please sign in.")]
    Unauthorized,
    #[error("Your role does not allow this.")]
    Forbidden,
    #[error("Not found.")]
    NotFound,
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("The cloud is not answering right now; try again in a moment.")]
    Unavailable,
    #[error("Something went wrong on our side. It has been logged.")]
    Internal,
    /// The request itself could not be made or read (network, encoding).
    #[error("The request failed: {0}")]
    Request(String),
}

impl AppError {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Unauthorized => 401,
            AppError::Forbidden => 403,
            AppError::NotFound => 404,
            AppError::Invalid { .. } => 422,
            AppError::Unavailable => 503,
            AppError::Internal => 500,
            AppError::Request(_) => 400,
        }
    }
}

impl From<domain::ValidationError> for AppError {
    fn from(e: domain::ValidationError) -> Self {
        AppError::Invalid { field: e.field, message: e.message }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Server-side failures were logged where they happened; say nothing more.
            ServerFnErrorErr::ServerError(_) | ServerFnErrorErr::MiddlewareError(_) => AppError::Internal,
            other => AppError::Request(other.to_string()),
        }
    }
}
