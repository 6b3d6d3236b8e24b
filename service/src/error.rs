//! The one error of every use case. It says what went wrong in the console's terms; the web
//! layers (server functions, the HTTP API) turn it into a status and a message in one place
//! each, and log the internal ones there, once.

use domain::{CloudError, ValidationError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Nobody is signed in.
    #[error("not signed in")]
    Unauthorized,
    /// A sign-in with a wrong email or password (one message for both).
    #[error("incorrect email or password")]
    BadCredentials,
    /// Signed in, but in neither of the console's groups.
    #[error("{email} is in neither the {admins} nor the {viewers} group")]
    NoAccess { email: String, admins: String, viewers: String },
    /// Too many failed sign-ins for this account or from this address.
    #[error("too many failed sign-ins; try again in {minutes} min")]
    TooManyAttempts { minutes: i64 },
    /// The caller's role does not allow this.
    #[error("the role does not allow this")]
    Forbidden,
    #[error("not found")]
    NotFound,
    /// The request conflicts with the current state (e.g. a change made by someone else).
    #[error("{0}")]
    Conflict(String),
    /// One field refused.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// Several fields refused at once (a whole form): `(field, message)` in form order.
    #[error("invalid fields: {0:?}")]
    InvalidFields(Vec<(String, String)>),
    /// The cloud did not answer (throttled, timed out, unreachable): worth retrying.
    #[error("the cloud is unavailable: {0}")]
    Unavailable(String),
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Anything else that is not the caller's fault; the text is for the log only.
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// A field error.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Error::Invalid { field: field.to_owned(), message: message.into() }
    }

    /// An internal failure of anything but the database (its text is logged, never shown).
    pub fn internal(e: impl std::fmt::Display) -> Self {
        Error::Internal(e.to_string())
    }

    /// A cloud failure the caller did not cause: `Unavailable` when it is worth retrying.
    pub fn cloud(e: CloudError) -> Self {
        if e.is_transient() {
            Error::Unavailable(e.to_string())
        } else {
            Error::Internal(e.to_string())
        }
    }

    /// A machine-readable name of the kind of error (what API clients branch on).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Unauthorized => "unauthorized",
            Error::BadCredentials => "bad_credentials",
            Error::NoAccess { .. } => "no_access",
            Error::TooManyAttempts { .. } => "too_many_attempts",
            Error::Forbidden => "forbidden",
            Error::NotFound => "not_found",
            Error::Conflict(_) => "conflict",
            Error::Invalid { .. } | Error::InvalidFields(_) => "invalid",
            Error::Unavailable(_) => "unavailable",
            Error::Database(_) | Error::Internal(_) => "internal",
        }
    }

    /// Whether the failure is the console's own (logged where it is answered).
    pub fn is_internal(&self) -> bool {
        matches!(self, Error::Database(_) | Error::Internal(_))
    }
}

impl From<ValidationError> for Error {
    fn from(e: ValidationError) -> Self {
        Error::Invalid { field: e.field, message: e.message }
    }
}

impl From<Vec<ValidationError>> for Error {
    fn from(errors: Vec<ValidationError>) -> Self {
        match <[_; 1]>::try_from(errors) {
            Ok([one]) => one.into(),
            Err(many) => Error::InvalidFields(many.into_iter().map(|e| (e.field, e.message)).collect()),
        }
    }
}

impl From<serde_json::Error> for Error {
    /// The console's own JSON (stored documents) failed to read or write.
    fn from(e: serde_json::Error) -> Self {
        Error::Internal(format!("json: {e}"))
    }
}

impl From<tower_sessions::session::Error> for Error {
    fn from(e: tower_sessions::session::Error) -> Self {
        Error::Internal(format!("session: {e}"))
    }
}

/// Turns a unique-key violation of `constraint` (SQLite names it by its columns, e.g.
/// `apps.slug`) into `err`; any other database error stays one.
pub fn on_constraint(constraint: &str, err: impl FnOnce() -> Error) -> impl FnOnce(sqlx::Error) -> Error {
    let constraint = constraint.to_owned();
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() && db.message().contains(&constraint) => err(),
        _ => Error::Database(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_refused_field_is_a_field_error_and_several_keep_their_order() {
        let one: Error = vec![ValidationError::new("image", "bad")].into();
        assert!(matches!(one, Error::Invalid { ref field, .. } if field == "image"));
        let many: Error = vec![ValidationError::new("slug", "a"), ValidationError::new("cpu", "b")].into();
        let Error::InvalidFields(fields) = many else { panic!("expected several fields") };
        assert_eq!(fields.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>(), ["slug", "cpu"]);
    }

    #[test]
    fn transient_cloud_failures_are_unavailable_and_others_internal() {
        assert!(matches!(Error::cloud(CloudError::Throttled), Error::Unavailable(_)));
        assert!(Error::cloud(CloudError::Invalid("bad".into())).is_internal());
    }
}
