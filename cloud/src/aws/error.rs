//! The one translation from the AWS SDK's errors into [`CloudError`], shared by the ECS,
//! Cognito and CloudWatch adapters.
//!
//! Every service crate returns the same `SdkError<E, HttpResponse>` around its own error enum,
//! and every such enum exposes its AWS error code through `ProvideErrorMetadata`, so the
//! mapping works on codes and HTTP statuses rather than on per-service variants. The full
//! error (request id, source chain) goes to `tracing`; the `CloudError` carries only text
//! fit for an admin: the service's own message for a rejected request, a fixed sentence for
//! transport failures.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::error::operation::BuildError;
use domain::CloudError;
use std::error::Error;

const THROTTLING: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
];

const NOT_FOUND: &[&str] = &[
    "ClusterNotFoundException",
    "ServiceNotFoundException",
    "ServiceNotActiveException",
    "ResourceNotFoundException",
    "UserNotFoundException",
    "TargetGroupNotFound",
    "RuleNotFound",
    "ListenerNotFound",
    "LoadBalancerNotFound",
];

const INVALID: &[&str] = &[
    "InvalidParameterException",
    "ClientException",
    "InvalidParameterValue",
    "InvalidParameterCombination",
    "ValidationError",
    "ValidationException",
    "InvalidPasswordException",
];

const CONFLICT: &[&str] =
    &["UsernameExistsException", "GroupExistsException", "DuplicateTargetGroupName", "PriorityInUse"];

const NOT_AUTHORIZED: &[&str] = &["NotAuthorizedException"];

const SERVER: &[&str] = &["ServerException", "InternalFailure", "InternalErrorException", "ServiceUnavailable"];

/// Maps a failed call of `operation` (e.g. `"DescribeServices"`) to a [`CloudError`] and logs
/// the details.
pub(crate) fn from_sdk<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> CloudError
where
    E: ProvideErrorMetadata + Error + Send + Sync + 'static,
{
    let mapped = classify(&err);
    if mapped.is_transient() {
        tracing::warn!(operation, code = err.code(), error = %DisplayErrorContext(&err), "AWS call failed");
    } else {
        tracing::debug!(operation, code = err.code(), error = %DisplayErrorContext(&err), "AWS call refused");
    }
    mapped
}

/// An input the SDK refused to build: always a bug in the adapter, never the caller's input.
pub(crate) fn from_build(what: &'static str, err: BuildError) -> CloudError {
    tracing::error!(what, error = %err, "could not build an AWS request");
    CloudError::Invalid(format!("could not build the {what} request"))
}

/// An answer that lacks something the service documents as always present.
pub(crate) fn malformed(operation: &'static str, missing: &'static str) -> CloudError {
    tracing::warn!(operation, missing, "AWS answered without a documented field");
    CloudError::Unavailable(format!("{operation} answered without {missing}"))
}

fn classify<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> CloudError {
    match err {
        SdkError::ServiceError(service) => from_code(err.code(), err.message(), service.raw().status().as_u16()),
        SdkError::TimeoutError(_) => CloudError::Unavailable("the request timed out".into()),
        SdkError::DispatchFailure(failure) if failure.is_timeout() => {
            CloudError::Unavailable("the request timed out".into())
        }
        SdkError::DispatchFailure(_) => CloudError::Unavailable("the service could not be reached".into()),
        SdkError::ResponseError(_) => CloudError::Unavailable("the service sent an unreadable answer".into()),
        SdkError::ConstructionFailure(_) => CloudError::Invalid("the request could not be built".into()),
        _ => CloudError::Unavailable("the request failed".into()),
    }
}

/// The pure part of the mapping: an AWS error code, its message and the HTTP status.
pub(crate) fn from_code(code: Option<&str>, message: Option<&str>, status: u16) -> CloudError {
    let code = code.unwrap_or_default();
    let text = || message.filter(|m| !m.is_empty()).unwrap_or(code).to_owned();
    let is = |codes: &[&str]| codes.contains(&code);
    if is(THROTTLING) || status == 429 {
        CloudError::Throttled
    } else if is(NOT_FOUND) {
        CloudError::NotFound(text())
    } else if is(INVALID) {
        CloudError::Invalid(text())
    } else if is(CONFLICT) {
        CloudError::Conflict(text())
    } else if is(NOT_AUTHORIZED) {
        CloudError::NotAuthorized(text())
    } else if is(SERVER) || status >= 500 || code.is_empty() {
        CloudError::Unavailable(format!("the service failed (HTTP {status})"))
    } else {
        CloudError::Invalid(text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_the_port_error() {
        let cases: &[(Option<&str>, Option<&str>, u16, CloudError)] = &[
            (Some("ThrottlingException"), Some("Rate exceeded"), 400, CloudError::Throttled),
            (Some("Throttling"), None, 400, CloudError::Throttled),
            (Some("TooManyRequestsException"), None, 400, CloudError::Throttled),
            (Some("RequestLimitExceeded"), None, 503, CloudError::Throttled),
            (None, None, 429, CloudError::Throttled),
            (
                Some("ClusterNotFoundException"),
                Some("Cluster not found."),
                400,
                CloudError::NotFound("Cluster not found.".into()),
            ),
            (Some("ServiceNotFoundException"), None, 400, CloudError::NotFound("ServiceNotFoundException".into())),
            (
                Some("ServiceNotActiveException"),
                Some("Service was not ACTIVE."),
                400,
                CloudError::NotFound("Service was not ACTIVE.".into()),
            ),
            (Some("ResourceNotFoundException"), Some("pool"), 400, CloudError::NotFound("pool".into())),
            (
                Some("UserNotFoundException"),
                Some("User does not exist."),
                400,
                CloudError::NotFound("User does not exist.".into()),
            ),
            (Some("InvalidParameterException"), Some("bad"), 400, CloudError::Invalid("bad".into())),
            (Some("ClientException"), Some("no"), 400, CloudError::Invalid("no".into())),
            (Some("InvalidParameterValue"), Some("period"), 400, CloudError::Invalid("period".into())),
            (Some("ValidationError"), Some("start"), 400, CloudError::Invalid("start".into())),
            (Some("InvalidPasswordException"), Some("too short"), 400, CloudError::Invalid("too short".into())),
            (Some("UsernameExistsException"), Some("exists"), 400, CloudError::Conflict("exists".into())),
            (Some("GroupExistsException"), Some("exists"), 400, CloudError::Conflict("exists".into())),
            (Some("PriorityInUse"), Some("taken"), 400, CloudError::Conflict("taken".into())),
            (Some("DuplicateTargetGroupName"), None, 400, CloudError::Conflict("DuplicateTargetGroupName".into())),
            (Some("TargetGroupNotFound"), Some("gone"), 400, CloudError::NotFound("gone".into())),
            (Some("RuleNotFound"), None, 400, CloudError::NotFound("RuleNotFound".into())),
            (Some("NotAuthorizedException"), Some("Incorrect"), 400, CloudError::NotAuthorized("Incorrect".into())),
            (
                Some("ServerException"),
                Some("internal detail"),
                500,
                CloudError::Unavailable("the service failed (HTTP 500)".into()),
            ),
            (Some("ServerException"), None, 400, CloudError::Unavailable("the service failed (HTTP 400)".into())),
            (None, Some("<html>"), 502, CloudError::Unavailable("the service failed (HTTP 502)".into())),
            (Some("AccessDeniedException"), Some("not allowed"), 403, CloudError::Invalid("not allowed".into())),
        ];
        for (code, message, status, want) in cases {
            assert_eq!(&from_code(*code, *message, *status), want, "{code:?} {status}");
        }
    }
}
