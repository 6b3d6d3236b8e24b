//! Projections: the rest of the month ([`MonthRemainder`]), a month's expected cost by
//! schedule or run rate ([`project_month`]), and what a schedule saves.

use super::daily::{ceil_seconds, local_day_start, money, round_half_up};
use super::prices::MICROS_DENOMINATOR;
use super::{Money, TaskRate};
use chrono::{DateTime, Datelike, Days, Months, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// A stretch of time during which `desired_count` tasks run (a schedule's plan).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunInterval {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub desired_count: u32,
}

/// What is left of the month at some instant: the days after today, and the part of
/// today still to come out of today's length (23, 24 or 25 hours).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthRemainder {
    pub whole_days: i64,
    pub today_left_seconds: i64,
    pub today_seconds: i64,
}

impl MonthRemainder {
    /// The rest of the local month of `tz` from `now`.
    pub fn at(now: DateTime<Utc>, tz: Tz) -> Self {
        let today = now.with_timezone(&tz).date_naive();
        let tomorrow = today + Days::new(1);
        let (start, end) = (local_day_start(tz, today), local_day_start(tz, tomorrow));
        let today_seconds = (end - start).num_seconds();
        let first = today.with_day(1).unwrap_or(today);
        let last = (first + Months::new(1)) - Days::new(1);
        Self {
            whole_days: (last - today).num_days(),
            today_left_seconds: (end - now).num_seconds().clamp(0, today_seconds),
            today_seconds,
        }
    }

    /// Remaining days as a fraction, for display.
    pub fn days(&self) -> f64 {
        self.whole_days as f64 + self.today_left_seconds as f64 / self.today_seconds.max(1) as f64
    }
}

/// How the rest of the month is expected to go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Projection<'a> {
    /// As scheduled: `desired_count` tasks of this rate over each (future) interval.
    Schedule { intervals: &'a [RunInterval], rate: TaskRate },
    /// As lately: the average of the costs of the last complete days, for every day left
    /// (today counting with the fraction still to come).
    RunRate { recent_days: &'a [Money], remaining: MonthRemainder },
}

/// The month's expected cost: what it cost so far and what the rest will add, rounded
/// once, half up. Without recent days a run rate adds nothing.
pub fn project_month(month_to_date: Money, rest: Projection<'_>) -> Money {
    month_to_date
        + match rest {
            Projection::Schedule { intervals, rate } => {
                money(round_half_up(interval_rate_seconds(intervals, rate, None), MICROS_DENOMINATOR))
            }
            Projection::RunRate { recent_days, remaining } => {
                if recent_days.is_empty() {
                    return month_to_date;
                }
                let sum: i128 = recent_days.iter().map(|m| i128::from(m.micros())).sum();
                let day = i128::from(remaining.today_seconds.max(1));
                let left = i128::from(remaining.whole_days) * day + i128::from(remaining.today_left_seconds);
                money(round_half_up(sum * left, recent_days.len() as i128 * day))
            }
        }
}

/// Σ task-seconds × rate over `intervals`, clipped to `[from, to)` when given; each
/// interval's length rounded up to a whole second, as billed.
fn interval_rate_seconds(
    intervals: &[RunInterval],
    rate: TaskRate,
    clip: Option<(DateTime<Utc>, DateTime<Utc>)>,
) -> i128 {
    intervals
        .iter()
        .map(|i| {
            let (start, end) = match clip {
                Some((from, to)) => (i.start.max(from), i.end.min(to)),
                None => (i.start, i.end),
            };
            i128::from(ceil_seconds(end - start)) * i128::from(i.desired_count) * rate.scaled_nanos_per_hour
        })
        .sum()
}

/// The cost of the scheduled `intervals` inside `[from, to)`, rounded once, half up.
pub fn scheduled_cost(intervals: &[RunInterval], rate: TaskRate, from: DateTime<Utc>, to: DateTime<Utc>) -> Money {
    money(round_half_up(interval_rate_seconds(intervals, rate, Some((from, to))), MICROS_DENOMINATOR))
}

/// What a schedule saves over `[from, to)`: the cost of `on_count` tasks always on,
/// minus the cost of the scheduled intervals (clipped to the range). Both are rounded
/// before subtracting, so a page showing the two costs and the saving adds up.
pub fn schedule_saving(
    intervals: &[RunInterval],
    on_count: u32,
    rate: TaskRate,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Money {
    let always_on = RunInterval { start: from, end: to, desired_count: on_count };
    scheduled_cost(&[always_on], rate, from, to) - scheduled_cost(intervals, rate, from, to)
}
