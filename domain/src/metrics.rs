//! The `Metrics` port: CPU and memory utilisation of services from CloudWatch, fetched for
//! many services in one batched call.

use crate::CloudError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Which utilisation series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    Cpu,
    Memory,
}

/// A time window and the resolution wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricWindow {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Seconds per datapoint; a multiple of 60.
    pub period_secs: u32,
}

/// One point: the average utilisation (percent) over the period starting at `at`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub at: DateTime<Utc>,
    pub percent: f64,
}

/// One series for one service, oldest point first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub service: String,
    pub kind: MetricKind,
    pub samples: Vec<Sample>,
}

/// CloudWatch, as ShinyFleet uses it.
#[async_trait]
pub trait Metrics: Send + Sync + 'static {
    /// CPU and memory utilisation (`AWS/ECS`, dimensions `ClusterName` and `ServiceName`) of
    /// every named service over `window`: two series per service, in as few calls as the
    /// cloud allows (up to 500 queries each). A service without data gets empty series.
    async fn utilisation(&self, services: &[String], window: MetricWindow) -> Result<Vec<Series>, CloudError>;
}
