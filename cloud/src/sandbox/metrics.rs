//! The sandbox's CloudWatch, behind the `Metrics` port: CPU and memory utilisation that
//! look like a Shiny app's (CPU 5–60 % with an office-hours bump, memory 30–80 % drifting
//! slowly), but only while the service had running tasks.
//!
//! Every minute's value is a pure function of (seed, service, metric, minute), and a
//! period's value is the mean of the minutes in it during which a task ran, so charts
//! agree across resolutions and never depend on when or how often they are asked for.

use super::rng::{hash, mix, unit};
use super::Sandbox;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Timelike, Utc};
use domain::metrics::{MetricKind, MetricWindow, Metrics, Sample, Series};
use domain::CloudError;
use std::f64::consts::PI;

/// CloudWatch refuses a query for more datapoints than this.
const MAX_DATAPOINTS: i64 = 100_800;
/// CloudWatch keeps one-minute datapoints for 15 days.
const RETENTION_DAYS: i64 = 15;

#[async_trait]
impl Metrics for Sandbox {
    async fn utilisation(&self, services: &[String], window: MetricWindow) -> Result<Vec<Series>, CloudError> {
        check_window(&window)?;
        let (now, spans) =
            self.with_ecs(|ecs| (ecs.now(), services.iter().map(|s| ecs.run_spans(s)).collect::<Vec<_>>()));
        Ok(services
            .iter()
            .zip(spans)
            .flat_map(|(service, spans)| {
                [MetricKind::Cpu, MetricKind::Memory].map(|kind| Series {
                    service: service.clone(),
                    kind,
                    samples: samples(self.seed, service, kind, &spans, window, now),
                })
            })
            .collect())
    }
}

fn check_window(window: &MetricWindow) -> Result<(), CloudError> {
    if window.period_secs == 0 || !window.period_secs.is_multiple_of(60) {
        return Err(CloudError::Invalid("the period must be a positive multiple of 60 seconds".to_owned()));
    }
    let period = i64::from(window.period_secs);
    let span = (window.end - window.start).num_seconds().max(0);
    if (span + period - 1) / period > MAX_DATAPOINTS {
        return Err(CloudError::Invalid(format!("a query returns at most {MAX_DATAPOINTS} datapoints per series")));
    }
    Ok(())
}

/// The datapoints of one series over `window`: one per period that started by `now`, is
/// within retention and saw a task running (`runs` are (start, end) of running tasks).
pub(crate) fn samples(
    seed: u64,
    service: &str,
    kind: MetricKind,
    runs: &[(DateTime<Utc>, DateTime<Utc>)],
    window: MetricWindow,
    now: DateTime<Utc>,
) -> Vec<Sample> {
    let period = Duration::seconds(i64::from(window.period_secs.max(60)));
    let minute = Duration::seconds(60);
    let earliest = now - Duration::days(RETENTION_DAYS);
    let mut out = Vec::new();
    let mut start = window.start;
    while start < window.end && start < now {
        let end = (start + period).min(window.end).min(now);
        let overlapping: Vec<_> = runs.iter().filter(|(s, e)| *s < end && *e > start && *e > earliest).collect();
        if !overlapping.is_empty() {
            let (mut sum, mut count) = (0.0, 0_u32);
            let mut m = floor_to_minute(start);
            while m < end {
                let ran = overlapping.iter().any(|(s, e)| *s < m + minute && *e > m);
                if ran && m + minute > earliest {
                    sum += minute_value(seed, service, kind, m);
                    count += 1;
                }
                m += minute;
            }
            if count > 0 {
                out.push(Sample { at: start, percent: (sum / f64::from(count) * 100.0).round() / 100.0 });
            }
        }
        start += period;
    }
    out
}

fn floor_to_minute(t: DateTime<Utc>) -> DateTime<Utc> {
    t - Duration::seconds(i64::from(t.second())) - Duration::nanoseconds(i64::from(t.nanosecond()))
}

/// The utilisation (percent) of one service during one minute.
fn minute_value(seed: u64, service: &str, kind: MetricKind, minute: DateTime<Utc>) -> f64 {
    let salt = match kind {
        MetricKind::Cpu => "cpu",
        MetricKind::Memory => "memory",
    };
    let key = hash(hash(seed, service), salt);
    let level = unit(mix(key ^ 1));
    let secs = minute.timestamp();
    let noise = unit(mix(key ^ mix(secs.div_euclid(60) as u64))) - 0.5;
    let hour = secs.rem_euclid(86_400) as f64 / 3_600.0;
    match kind {
        MetricKind::Cpu => {
            let office_hours = (PI * (hour - 8.0) / 10.0).sin().max(0.0);
            (8.0 + 20.0 * level + 18.0 * office_hours + 10.0 * noise).clamp(5.0, 60.0)
        }
        MetricKind::Memory => {
            let drift = (2.0 * PI * (secs as f64 / 21_600.0 + level)).sin();
            (38.0 + 22.0 * level + 8.0 * drift + 4.0 * noise).clamp(30.0, 80.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(hour: u32, minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 3, hour, minute, 0).single().expect("a valid instant")
    }

    fn window(start: DateTime<Utc>, end: DateTime<Utc>, period_secs: u32) -> MetricWindow {
        MetricWindow { start, end, period_secs }
    }

    #[test]
    fn every_minute_stays_within_plausible_bounds() {
        for m in 0..(24 * 60) {
            let t = at(0, 0) + Duration::minutes(m);
            let cpu = minute_value(1, "census", MetricKind::Cpu, t);
            let memory = minute_value(1, "census", MetricKind::Memory, t);
            assert!((5.0..=60.0).contains(&cpu), "cpu {cpu} at {t}");
            assert!((30.0..=80.0).contains(&memory), "memory {memory} at {t}");
        }
    }

    #[test]
    fn samples_depend_on_seed_service_and_period_only() {
        let runs = [(at(8, 0), at(18, 0))];
        let w = window(at(9, 0), at(10, 0), 300);
        let a = samples(1, "census", MetricKind::Cpu, &runs, w, at(20, 0));
        assert_eq!(a.len(), 12);
        assert_eq!(a, samples(1, "census", MetricKind::Cpu, &runs, w, at(23, 0)));
        assert_ne!(a, samples(2, "census", MetricKind::Cpu, &runs, w, at(20, 0)));
        assert_ne!(a, samples(1, "births", MetricKind::Cpu, &runs, w, at(20, 0)));
        let hourly = samples(1, "census", MetricKind::Cpu, &runs, window(at(9, 0), at(10, 0), 3600), at(20, 0));
        let mean = a.iter().map(|s| s.percent).sum::<f64>() / 12.0;
        assert!((hourly[0].percent - mean).abs() < 0.01, "{} vs {mean}", hourly[0].percent);
    }

    #[test]
    fn only_periods_with_a_running_task_and_not_in_the_future_have_samples() {
        let runs = [(at(9, 10), at(9, 20))];
        let got = samples(1, "census", MetricKind::Memory, &runs, window(at(9, 0), at(10, 0), 300), at(9, 30));
        let starts: Vec<_> = got.iter().map(|s| s.at).collect();
        assert_eq!(starts, [at(9, 10), at(9, 15)]);
        assert!(samples(1, "census", MetricKind::Memory, &[], window(at(9, 0), at(10, 0), 60), at(12, 0)).is_empty());
        let still_running = [(at(9, 0), at(9, 30))];
        let got = samples(1, "census", MetricKind::Cpu, &still_running, window(at(9, 0), at(10, 0), 600), at(9, 30));
        assert_eq!(got.len(), 3, "no sample for periods after now");
    }

    #[test]
    fn a_period_that_is_not_a_multiple_of_a_minute_or_too_many_points_is_refused() {
        for period in [0, 30, 90] {
            assert!(matches!(check_window(&window(at(9, 0), at(10, 0), period)), Err(CloudError::Invalid(_))));
        }
        let year = window(at(0, 0) - Duration::days(365), at(0, 0), 60);
        assert!(matches!(check_window(&year), Err(CloudError::Invalid(_))));
        assert_eq!(check_window(&window(at(0, 0) - Duration::days(7), at(0, 0), 60)), Ok(()));
    }
}
