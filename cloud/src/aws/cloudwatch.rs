//! [`CloudWatchMetrics`]: the `Metrics` port on Amazon CloudWatch.
//!
//! ECS publishes `CPUUtilization` and `MemoryUtilization` per service under `AWS/ECS`. One
//! `GetMetricData` call answers up to 500 queries, so the adapter asks for two queries per
//! service (ids `c<i>` and `m<i>`, `i` the service's position), sends them in batches of 500,
//! follows `NextToken`, and files every datapoint back under its query id.

use crate::aws::error::from_sdk;
use crate::aws::time::{to_chrono, to_smithy};
use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricDataResult, MetricStat, ScanBy};
use aws_sdk_cloudwatch::Client;
use domain::metrics::{MetricKind, MetricWindow, Metrics, Sample, Series};
use domain::CloudError;
use std::collections::HashMap;

/// The most queries one `GetMetricData` call accepts.
const QUERIES_PER_CALL: usize = 500;
const NAMESPACE: &str = "AWS/ECS";
const STATISTIC: &str = "Average";

/// CloudWatch, for the services of one ECS cluster.
#[derive(Debug, Clone)]
pub struct CloudWatchMetrics {
    client: Client,
    cluster: String,
}

impl CloudWatchMetrics {
    /// An adapter reading the metrics of services in `cluster` (its name, as in the
    /// `ClusterName` dimension).
    pub fn new(config: &SdkConfig, cluster: String) -> Self {
        Self::from_client(Client::new(config), cluster)
    }

    /// An adapter around a ready client (a mocked one in tests).
    pub fn from_client(client: Client, cluster: String) -> Self {
        Self { client, cluster }
    }

    fn query(&self, id: String, metric_name: &str, service: &str, period: i32) -> MetricDataQuery {
        let metric = Metric::builder()
            .namespace(NAMESPACE)
            .metric_name(metric_name)
            .dimensions(Dimension::builder().name("ClusterName").value(&self.cluster).build())
            .dimensions(Dimension::builder().name("ServiceName").value(service).build())
            .build();
        let stat = MetricStat::builder().metric(metric).period(period).stat(STATISTIC).build();
        MetricDataQuery::builder().id(id).metric_stat(stat).return_data(true).build()
    }

    fn queries(&self, services: &[String], period: i32) -> Vec<MetricDataQuery> {
        services
            .iter()
            .enumerate()
            .flat_map(|(i, service)| {
                [
                    self.query(query_id(MetricKind::Cpu, i), metric_name(MetricKind::Cpu), service, period),
                    self.query(query_id(MetricKind::Memory, i), metric_name(MetricKind::Memory), service, period),
                ]
            })
            .collect()
    }

    /// Runs one batch of queries through all its pages, adding the samples to `samples`.
    async fn fetch(
        &self,
        batch: &[MetricDataQuery],
        window: &MetricWindow,
        samples: &mut HashMap<String, Vec<Sample>>,
    ) -> Result<(), CloudError> {
        let mut next = None;
        loop {
            let out = self
                .client
                .get_metric_data()
                .set_metric_data_queries(Some(batch.to_vec()))
                .start_time(to_smithy(window.start))
                .end_time(to_smithy(window.end))
                .scan_by(ScanBy::TimestampAscending)
                .set_next_token(next)
                .send()
                .await
                .map_err(|e| from_sdk("GetMetricData", e))?;
            for result in out.metric_data_results() {
                collect(result, samples);
            }
            next = out.next_token().filter(|t| !t.is_empty()).map(str::to_owned);
            if next.is_none() {
                return Ok(());
            }
        }
    }
}

#[async_trait]
impl Metrics for CloudWatchMetrics {
    async fn utilisation(&self, services: &[String], window: MetricWindow) -> Result<Vec<Series>, CloudError> {
        if services.is_empty() {
            return Ok(Vec::new());
        }
        let period = i32::try_from(window.period_secs)
            .map_err(|_| CloudError::Invalid(format!("period of {} s is too long", window.period_secs)))?;
        let mut samples = HashMap::new();
        for batch in self.queries(services, period).chunks(QUERIES_PER_CALL) {
            self.fetch(batch, &window, &mut samples).await?;
        }
        Ok(series(services, samples))
    }
}

/// Files a result's points under its query id (a query's points may span several pages).
fn collect(result: &MetricDataResult, samples: &mut HashMap<String, Vec<Sample>>) {
    let Some(id) = result.id() else { return };
    let points = result
        .timestamps()
        .iter()
        .zip(result.values())
        .filter_map(|(at, percent)| Some(Sample { at: to_chrono(at)?, percent: *percent }));
    samples.entry(id.to_owned()).or_default().extend(points);
}

/// Two series per service, in the order of `services`, each oldest point first.
fn series(services: &[String], mut samples: HashMap<String, Vec<Sample>>) -> Vec<Series> {
    let mut all = Vec::with_capacity(services.len() * 2);
    for (i, service) in services.iter().enumerate() {
        for kind in [MetricKind::Cpu, MetricKind::Memory] {
            let mut points = samples.remove(&query_id(kind, i)).unwrap_or_default();
            points.sort_by_key(|s| s.at);
            all.push(Series { service: service.clone(), kind, samples: points });
        }
    }
    all
}

fn query_id(kind: MetricKind, index: usize) -> String {
    match kind {
        MetricKind::Cpu => format!("c{index}"),
        MetricKind::Memory => format!("m{index}"),
    }
}

fn metric_name(kind: MetricKind) -> &'static str {
    match kind {
        MetricKind::Cpu => "CPUUtilization",
        MetricKind::Memory => "MemoryUtilization",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn points_from_several_pages_are_merged_and_sorted() {
        let at = |minute: u32| Utc.with_ymd_and_hms(2024, 5, 1, 12, minute, 0).single().expect("a valid time");
        let page = |id: &str, minutes: &[u32], values: &[f64]| {
            MetricDataResult::builder()
                .id(id)
                .set_timestamps(Some(minutes.iter().map(|m| to_smithy(at(*m))).collect()))
                .set_values(Some(values.to_vec()))
                .build()
        };
        let mut samples = HashMap::new();
        collect(&page("c0", &[5, 6], &[50.0, 60.0]), &mut samples);
        collect(&page("c0", &[1], &[10.0]), &mut samples);
        collect(&page("m0", &[1], &[70.0]), &mut samples);
        let all = series(&["a".into(), "b".into()], samples);
        let cpu: Vec<_> = all[0].samples.iter().map(|s| (s.at, s.percent)).collect();
        assert_eq!(cpu, vec![(at(1), 10.0), (at(5), 50.0), (at(6), 60.0)]);
        assert_eq!((all[1].kind, all[1].samples.len()), (MetricKind::Memory, 1));
        assert!(all[2].samples.is_empty() && all[3].samples.is_empty());
        assert_eq!(all.iter().map(|s| s.service.as_str()).collect::<Vec<_>>(), ["a", "a", "b", "b"]);
    }
}
