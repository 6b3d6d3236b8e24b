//! The one error every cloud port returns. Adapters map their SDK's errors into it, so the
//! rest of ShinyFleet decides on retries and messages without knowing which cloud answered.

/// What went wrong when talking to the cloud.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloudError {
    /// The cloud asked us to slow down; retry later with backoff.
    #[error("the cloud is throttling requests")]
    Throttled,
    /// The named resource (service, task, user, group, cluster) does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The request was rejected as invalid; the text is safe to show to an admin.
    #[error("rejected by the cloud: {0}")]
    Invalid(String),
    /// The resource already exists (a user with that name, a service being created twice).
    #[error("already exists: {0}")]
    Conflict(String),
    /// The credentials given to a sign-in were wrong, or the user is disabled.
    #[error("not authorized: {0}")]
    NotAuthorized(String),
    /// The cloud could not be reached or failed (timeouts, connection errors, 5xx).
    #[error("the cloud is unavailable: {0}")]
    Unavailable(String),
}

impl CloudError {
    /// Whether the same request may succeed when retried later.
    pub fn is_transient(&self) -> bool {
        matches!(self, CloudError::Throttled | CloudError::Unavailable(_))
    }
}
