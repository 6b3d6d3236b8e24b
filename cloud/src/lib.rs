//! The adapters behind ShinyFleet's cloud ports (`domain::fleet::Fleet`,
//! `domain::directory::Directory`, `domain::metrics::Metrics`, `domain::registry::Registry`,
//! `domain::IdentityVerifier`):
//!
//! - [`aws`]: the official AWS SDK for Rust (ECS, Cognito, CloudWatch, ECR), for production and
//!   for AWS API emulators reached through `AWS_ENDPOINT_URL`;
//! - [`sandbox`]: an in-process simulated AWS account for running the console without AWS;
//! - [`jwt`]: the checks of the ID tokens both of them issue, and of the header an AWS load
//!   balancer adds once it has signed a user in.

pub mod aws;
pub mod jwt;
pub mod sandbox;
