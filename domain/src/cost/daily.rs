//! Daily costs: task lifetimes billed as Fargate bills them, split into the local days of
//! a time zone and priced per app and day ([`daily_costs`]), with the exact-rounding helpers.

use super::prices::MICROS_DENOMINATOR;
use super::{AppTotal, CostReport, DayCost, DayTotal, FixedCost, FixedTotal, Money, MonthTotal, Prices, TaskRate};
use crate::app::Architecture;
use chrono::{DateTime, Datelike, Days, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The seconds Fargate bills a task at least, however short it ran.
pub const MINIMUM_SECONDS: i64 = 60;

/// One task's life, as ECS reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskLife {
    pub app: String,
    pub cpu_units: u32,
    pub memory_mib: u32,
    pub arch: Architecture,
    pub start: DateTime<Utc>,
    /// `None`: still running, counted up to the report's `now`.
    pub end: Option<DateTime<Utc>>,
}

/// Whole seconds in `span`, rounded up; 0 for an empty or negative span.
pub(super) fn ceil_seconds(span: Duration) -> i64 {
    if span <= Duration::zero() {
        return 0;
    }
    let whole = span.num_seconds();
    whole + i64::from(span > Duration::seconds(whole))
}

/// The seconds Fargate bills a task that ran from `start` to `end`: the duration rounded
/// up to a whole second, and at least [`MINIMUM_SECONDS`] (also when `end` is not after
/// `start`: the task was started and is paid for).
pub fn billed_seconds(start: DateTime<Utc>, end: DateTime<Utc>) -> i64 {
    ceil_seconds(end - start).max(MINIMUM_SECONDS)
}

/// `n / d` rounded half up (towards +∞ at exactly .5), for `d > 0`.
pub(super) fn round_half_up(n: i128, d: i128) -> i128 {
    (2 * n + d).div_euclid(2 * d)
}

pub(super) fn money(micros: i128) -> Money {
    Money::from_micros(i64::try_from(micros).unwrap_or(if micros < 0 { i64::MIN } else { i64::MAX }))
}

/// The instant local `day` starts in `tz`: its midnight; the first of two midnights when
/// a clock moved back across it; the clock change itself when one skipped midnight
/// (America/Havana moves 00:00 → 01:00 in March).
pub fn local_day_start(tz: Tz, day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_time(NaiveTime::MIN);
    match tz.from_local_datetime(&midnight) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        LocalResult::None => {
            // Offsets are under a day, so the change lies within a day of midnight UTC;
            // there local time rises with UTC, and the first second at or past local
            // midnight is found by halving.
            let past_midnight = |secs: i64| {
                DateTime::from_timestamp(secs, 0).is_none_or(|t| t.with_timezone(&tz).naive_local() >= midnight)
            };
            let utc = midnight.and_utc().timestamp();
            let (mut lo, mut hi) = (utc - 86_400, utc + 86_400);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if past_midnight(mid) {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            DateTime::from_timestamp(hi, 0).unwrap_or_else(|| midnight.and_utc())
        }
    }
}

/// Billed usage of one app on one day, exact.
#[derive(Default)]
struct Usage {
    seconds: i64,
    cpu_unit_seconds: i128,
    mib_seconds: i128,
    /// Σ seconds × [`TaskRate`]: micro-dollars × [`MICROS_DENOMINATOR`].
    rate_seconds: i128,
}

impl Usage {
    fn add(&mut self, seconds: i64, task: &TaskLife, rate: TaskRate) {
        let s = i128::from(seconds);
        self.seconds += seconds;
        self.cpu_unit_seconds += s * i128::from(task.cpu_units);
        self.mib_seconds += s * i128::from(task.memory_mib);
        self.rate_seconds += s * rate.scaled_nanos_per_hour;
    }

    fn merge(&mut self, other: &Usage) {
        self.seconds += other.seconds;
        self.cpu_unit_seconds += other.cpu_unit_seconds;
        self.mib_seconds += other.mib_seconds;
        self.rate_seconds += other.rate_seconds;
    }

    fn vcpu_hours(&self) -> f64 {
        self.cpu_unit_seconds as f64 / (1024.0 * 3600.0)
    }

    fn gb_hours(&self) -> f64 {
        self.mib_seconds as f64 / (1024.0 * 3600.0)
    }
}

/// `total` split in proportion to `weights` (all positive), in whole units, summing to
/// `total` exactly: each gets the floor of its exact share, and the units left over go
/// one each to the largest remainders, ties to the earlier weight (callers order by app
/// name).
fn largest_remainder(total: i64, weights: &[i64]) -> Vec<i64> {
    let sum: i128 = weights.iter().map(|w| i128::from(*w)).sum();
    if sum <= 0 {
        return vec![0; weights.len()];
    }
    let exact: Vec<i128> = weights.iter().map(|w| i128::from(total) * i128::from(*w)).collect();
    let mut shares: Vec<i64> = exact.iter().map(|e| e.div_euclid(sum) as i64).collect();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(exact[i].rem_euclid(sum)));
    let left = total - shares.iter().sum::<i64>();
    for &i in order.iter().take(left.max(0) as usize) {
        shares[i] += 1;
    }
    shares
}

/// The costs of the local days `from..=to` of `tz`, per app and day.
///
/// Billing, as Fargate bills: each task per second from `start` to `end` (`now` while it
/// runs), the duration rounded up to a whole second, at least one minute. The task's
/// seconds are split between the local days it spans — a day is midnight to midnight in
/// `tz`, so 23 or 25 hours long on a clock change — by rounding up the seconds elapsed
/// since the task started at each midnight, so the parts are whole seconds adding up to
/// the rounded duration; the minimum's extra seconds belong to the day the task started.
/// Only days inside the range count, so a task partly outside counts only its part inside.
///
/// An app's compute cost on a day is Σ seconds × (CPU units/1024 × vCPU price + MiB/1024
/// × GB price) over its tasks, computed exactly and rounded once, half up, to the
/// micro-dollar (tasks of different sizes or architectures add their own rates).
///
/// Fixed costs accrue per second of each day of the range up to `now` (a cost not yet
/// incurred is not reported; projections add the rest), each rounded half up to the
/// micro-dollar per day, and are shared among the apps that ran that day in proportion
/// to their billed task-seconds; the micro-dollars left over by rounding down go by
/// largest remainder, ties by app name, so the shares sum exactly to the day's fixed
/// cost. A day on which no app ran leaves its fixed cost unassigned.
///
/// Every total in the report is a sum of the (app, day) micro-dollar amounts.
pub fn daily_costs(
    tasks: &[TaskLife],
    prices: &Prices,
    fixed: &[FixedCost],
    tz: Tz,
    from: NaiveDate,
    to: NaiveDate,
    now: DateTime<Utc>,
) -> CostReport {
    let mut report = CostReport::empty(from, to, tz.name());
    // The last day chrono can name has no day after it to end it.
    let to = to.min(NaiveDate::MAX - Days::new(1));
    if from > to {
        return report;
    }
    let n = (to - from).num_days() as usize + 1;
    // bounds[i] starts day `from + i`; bounds[n] ends the range.
    let bounds: Vec<DateTime<Utc>> = (0..=n).map(|i| local_day_start(tz, from + Days::new(i as u64))).collect();
    let (range_start, range_end) = (bounds[0], bounds[n]);
    let day_of = |t: DateTime<Utc>| bounds.partition_point(|b| *b <= t) - 1;

    let mut usage: BTreeMap<(usize, &str), Usage> = BTreeMap::new();
    for task in tasks {
        let start = task.start;
        let end = task.end.unwrap_or(now).max(start);
        let rate = TaskRate::new(task.cpu_units, task.memory_mib, task.arch, prices);
        let mut bill = |day: usize, seconds: i64| {
            if seconds > 0 {
                usage.entry((day, task.app.as_str())).or_default().add(seconds, task, rate);
            }
        };
        let extra = MINIMUM_SECONDS - ceil_seconds(end - start);
        if extra > 0 && (range_start..range_end).contains(&start) {
            bill(day_of(start), extra);
        }
        let (lo, hi) = (start.max(range_start), end.min(range_end));
        if lo < hi {
            let elapsed = |t: DateTime<Utc>| ceil_seconds(t - start);
            let mut day = day_of(lo);
            while day < n && bounds[day] < hi {
                bill(day, elapsed(bounds[day + 1].min(end)) - elapsed(bounds[day].max(start)));
                day += 1;
            }
        }
    }

    let mut day_fixed = vec![0i64; n];
    for cost in fixed {
        let mut item = Money::ZERO;
        for (day, amount) in day_fixed.iter_mut().enumerate() {
            let seconds = (now.min(bounds[day + 1]) - bounds[day]).num_seconds().max(0);
            let accrued = money(round_half_up(i128::from(seconds) * i128::from(cost.micros_per_hour), 3600));
            *amount += accrued.micros();
            item += accrued;
        }
        report.fixed.push(FixedTotal { name: cost.name.clone(), cost: item });
    }

    let mut days: Vec<DayTotal> = (0..n)
        .map(|i| DayTotal {
            day: from + Days::new(i as u64),
            task_seconds: 0,
            compute: Money::ZERO,
            fixed_share: Money::ZERO,
            cost: Money::ZERO,
            unassigned_fixed: Money::from_micros(day_fixed[i]),
        })
        .collect();
    let mut apps: BTreeMap<&str, (Usage, Money, Money)> = BTreeMap::new();
    let entries: Vec<((usize, &str), Usage)> = usage.into_iter().collect();
    for group in entries.chunk_by(|a, b| a.0 .0 == b.0 .0) {
        let day = group[0].0 .0;
        let weights: Vec<i64> = group.iter().map(|(_, u)| u.seconds).collect();
        let shares = largest_remainder(day_fixed[day], &weights);
        let total = &mut days[day];
        total.unassigned_fixed = Money::ZERO;
        for (((_, app), u), share) in group.iter().zip(shares) {
            let compute = money(round_half_up(u.rate_seconds, MICROS_DENOMINATOR));
            let fixed_share = Money::from_micros(share);
            let row = DayCost {
                app: (*app).to_owned(),
                day: total.day,
                task_seconds: u.seconds,
                vcpu_hours: u.vcpu_hours(),
                gb_hours: u.gb_hours(),
                compute,
                fixed_share,
                cost: compute + fixed_share,
            };
            total.task_seconds += row.task_seconds;
            total.compute += row.compute;
            total.fixed_share += row.fixed_share;
            total.cost += row.cost;
            let app_total = apps.entry(app).or_default();
            app_total.0.merge(u);
            app_total.1 += compute;
            app_total.2 += fixed_share;
            report.rows.push(row);
        }
    }

    for day in &days {
        let (year, month) = (day.day.year(), day.day.month());
        let same = report.months.last().is_some_and(|m: &MonthTotal| (m.year, m.month) == (year, month));
        if !same {
            report.months.push(MonthTotal {
                year,
                month,
                task_seconds: 0,
                compute: Money::ZERO,
                fixed_share: Money::ZERO,
                cost: Money::ZERO,
                unassigned_fixed: Money::ZERO,
            });
        }
        if let Some(m) = report.months.last_mut() {
            m.task_seconds += day.task_seconds;
            m.compute += day.compute;
            m.fixed_share += day.fixed_share;
            m.cost += day.cost;
            m.unassigned_fixed += day.unassigned_fixed;
        }
    }
    report.apps = apps
        .into_iter()
        .map(|(app, (u, compute, fixed_share))| AppTotal {
            app: app.to_owned(),
            task_seconds: u.seconds,
            vcpu_hours: u.vcpu_hours(),
            gb_hours: u.gb_hours(),
            compute,
            fixed_share,
            cost: compute + fixed_share,
        })
        .collect();
    report.total = days.iter().map(|d| d.cost).sum();
    report.unassigned_fixed = days.iter().map(|d| d.unassigned_fixed).sum();
    report.days = days;
    report
}
