//! The production adapters: ShinyFleet's cloud ports implemented with the official AWS SDK
//! for Rust — ECS behind [`Fleet`](domain::fleet::Fleet), Cognito behind
//! [`Directory`](domain::directory::Directory), CloudWatch behind
//! [`Metrics`](domain::metrics::Metrics), ECR behind [`Registry`](domain::registry::Registry),
//! CloudWatch Logs behind [`Logs`](domain::logs::Logs), an Application Load Balancer's listener
//! behind [`Frontdoor`](domain::publish::Frontdoor).
//!
//! All of them are built from one [`SdkConfig`] ([`load_sdk_config`]), so credentials, region,
//! endpoint (an emulator through `AWS_ENDPOINT_URL`), retries and timeouts are decided once.
//! Each adapter also has a `from_client` constructor taking a ready SDK client, which is how
//! the tests hand it a mocked one.

mod cloudwatch;
mod cognito;
mod ecr;
mod ecs;
mod elb;
mod error;
mod logs;
mod time;

pub use cloudwatch::CloudWatchMetrics;
pub use cognito::CognitoDirectory;
pub use ecr::EcrRegistry;
pub use ecs::EcsFleet;
pub use elb::ElbFrontdoor;
pub use logs::CloudWatchLogs;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use std::time::Duration;

/// Loads the shared SDK configuration the usual way — the default credential chain, and
/// `AWS_REGION`, `AWS_PROFILE` and `AWS_ENDPOINT_URL` as the SDK reads them — with
/// ShinyFleet's retry policy and timeouts.
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry_config())
        .timeout_config(timeout_config())
        .load()
        .await
}

/// Three attempts with exponential backoff, retrying throttling and transient failures.
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(3)
}

/// A console waits seconds, not minutes: 3 s to connect, 10 s per attempt, 30 s in all.
pub fn timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(10))
        .operation_timeout(Duration::from_secs(30))
        .build()
}
