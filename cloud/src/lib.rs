//! The adapters behind ShinyFleet's cloud ports (`domain::fleet::Fleet`,
//! `domain::directory::Directory`, `domain::metrics::Metrics`):
//!
//! - [`aws`]: the official AWS SDK for Rust (ECS, Cognito, CloudWatch), for production and
//!   for AWS API emulators reached through `AWS_ENDPOINT_URL`;
//! - [`sandbox`]: an in-process simulated AWS account for running the console without AWS.

pub mod aws;
pub mod sandbox;
