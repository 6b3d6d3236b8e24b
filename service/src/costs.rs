//! Costs: what each app's recorded task lifetimes cost (`domain::cost`, pure and exact),
//! per day of the display time zone, this month, and projected to the month's end.
//!
//! Billing starts when a task started (or, when ECS never said, when it was created) and
//! ends when it stopped (a task that vanished before its stop was seen ends when it was last
//! seen); a task still running counts up to now. Tasks of deleted apps still count: they
//! were paid for.

use crate::Error;
use crate::Services;
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use domain::cost::{
    daily_costs, local_day_start, project_month, schedule_saving, Budget, CostReport, Money, MonthRemainder,
    Projection, RunInterval, TaskLife, TaskRate,
};
use domain::view::{AppCost, CostDay, CostFigures, CostsView};
use domain::Architecture;
use sqlx::SqlitePool;
use std::collections::BTreeMap;

pub use domain::cost::{interval_list, month_bounds, CostSettings, FLEET};
/// Days the run-rate projection averages.
const RUN_RATE_DAYS: usize = 7;
/// Days the Costs page's chart shows.
const CHART_DAYS: i64 = 30;
/// The longest range one costs request may ask for.
pub const MAX_RANGE_DAYS: i64 = 366;

/// Every task that ran (or runs) in [from, to), as the cost engine takes them.
pub async fn lives(pool: &SqlitePool, from: DateTime<Utc>, to: DateTime<Utc>) -> sqlx::Result<Vec<TaskLife>> {
    let rows = sqlx::query!(
        r#"SELECT a.slug, t.cpu, t.memory, t.architecture, t.last_status,
                  COALESCE(t.started_at, t.created_at, t.first_seen_at) AS "start!: DateTime<Utc>",
                  COALESCE(t.stopped_at, t.last_seen_at) AS "end!: DateTime<Utc>"
           FROM tasks t JOIN apps a ON a.id = t.app_id
           WHERE COALESCE(t.started_at, t.created_at, t.first_seen_at) < ?
             AND (t.last_status <> 'STOPPED' OR COALESCE(t.stopped_at, t.last_seen_at) > ?)"#,
        to,
        from
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| TaskLife {
            app: r.slug,
            cpu_units: u32::try_from(r.cpu).unwrap_or(0),
            memory_mib: u32::try_from(r.memory).unwrap_or(0),
            arch: if r.architecture.as_deref() == Some("arm64") { Architecture::Arm64 } else { Architecture::X86_64 },
            start: r.start,
            end: (r.last_status == "STOPPED").then_some(r.end),
        })
        .collect())
}

/// The per-app, per-day costs of the local days `from` to `to` (inclusive).
pub async fn report(state: &Services, from: NaiveDate, to: NaiveDate) -> Result<CostReport, Error> {
    let s = &state.costs;
    let now = state.clock.now();
    let (start, end) = (local_day_start(s.tz, from), local_day_start(s.tz, to + Duration::days(1)));
    let tasks = lives(&state.pool, start, end).await?;
    Ok(daily_costs(&tasks, &s.prices, &s.fixed, s.tz, from, to, now))
}

/// Today in the display time zone.
pub fn today(state: &Services) -> NaiveDate {
    state.costs.tz.from_utc_datetime(&state.clock.now().naive_utc()).date_naive()
}

/// What each app cost today so far, by slug (the Fleet table's column).
pub async fn today_by_app(state: &Services) -> Result<BTreeMap<String, Money>, Error> {
    let day = today(state);
    let report = report(state, day, day).await?;
    Ok(report.apps.into_iter().map(|a| (a.app, a.cost)).collect())
}

/// The Costs page: the chart's last 30 days, and every app's figures for this month.
pub async fn view(state: &Services) -> Result<CostsView, Error> {
    let today = today(state);
    let first = today.with_day(1).unwrap_or(today);
    let chart_from = today - Duration::days(CHART_DAYS - 1);
    // One report from the earliest day anything needs: the chart, the month, the run rate.
    let from = chart_from.min(first).min(today - Duration::days(RUN_RATE_DAYS as i64));
    let report = report(state, from, today).await?;
    let apps = crate::apps::list(&state.pool).await?;
    let mut rows = vec![];
    for app in &apps {
        rows.push(app_cost(state, app, &report, today).await?);
    }
    // Deleted apps that cost something this month still show.
    for total in &report.apps {
        if !rows.iter().any(|r| r.slug == total.app) {
            let figures = figures_without_rate(&report, &total.app, today, state);
            if figures.month_to_date.micros() > 0 {
                rows.push(AppCost {
                    slug: total.app.clone(),
                    name: format!("{} (deleted)", total.app),
                    rate: String::new(),
                    figures,
                });
            }
        }
    }
    rows.sort_by(|a, b| b.figures.month_to_date.cmp(&a.figures.month_to_date).then_with(|| a.name.cmp(&b.name)));
    let order: Vec<String> = rows.iter().map(|r| r.slug.clone()).collect();
    let days = report
        .days
        .iter()
        .filter(|d| d.day >= chart_from)
        .map(|d| {
            let mut by_app: Vec<(String, Money)> = report
                .rows
                .iter()
                .filter(|r| r.day == d.day && r.cost.micros() > 0)
                .map(|r| (r.app.clone(), r.cost))
                .collect();
            by_app.sort_by_key(|(slug, _)| order.iter().position(|o| o == slug).unwrap_or(usize::MAX));
            CostDay { day: d.day, by_app, total: d.bill() }
        })
        .collect();
    let sum = |f: fn(&CostFigures) -> Money| rows.iter().map(|r| f(&r.figures)).sum::<Money>();
    // Fixed costs nobody's (days on which no app ran) are still the fleet's: this month's so
    // far, and, for the projection, every fixed cost over the rest of the month.
    let unassigned_this_month: Money = report.days.iter().filter(|d| d.day >= first).map(|d| d.unassigned_fixed).sum();
    let (_, month_end, _) = month_bounds(state.costs.tz, today);
    let rest_secs = (month_end - state.clock.now()).num_seconds().max(0);
    let fixed_rest = Money::from_micros(
        state.costs.fixed.iter().map(|f| f.micros_per_hour.saturating_mul(rest_secs) / 3600).sum::<i64>(),
    );
    // Apps project their compute; the fixed costs to come are the fleet's, once.
    let fleet_projection = sum(|f| f.projection) + unassigned_this_month + fixed_rest;
    let fleet_budget = state.costs.budgets.get(FLEET).copied();
    let fleet_savings: Vec<Money> = rows.iter().filter_map(|r| r.figures.saving).collect();
    let fleet = CostFigures {
        today: sum(|f| f.today),
        month_to_date: sum(|f| f.month_to_date) + unassigned_this_month,
        projection: fleet_projection,
        projected_by: "the apps, and fixed costs".into(),
        saving: (!fleet_savings.is_empty()).then(|| fleet_savings.into_iter().sum()),
        budget: fleet_budget,
        budget_warning: fleet_budget.and_then(|b| Budget { monthly: b }.check(fleet_projection)).map(|w| w.to_string()),
    };
    Ok(CostsView {
        days,
        today,
        time_zone: state.costs.tz.name().to_owned(),
        prices_note: format!("Fargate prices for {} ({})", state.costs.prices.region, state.costs.prices.source),
        month: first.format("%B %Y").to_string(),
        apps: rows,
        fleet,
        unassigned_fixed: unassigned_this_month,
        generated_at: state.clock.now(),
    })
}

/// One app's figures (the app page's card).
pub async fn for_app(state: &Services, slug: &str) -> Result<AppCost, Error> {
    let app = crate::apps::get(&state.pool, slug).await?;
    let today = today(state);
    let first = today.with_day(1).unwrap_or(today);
    let report = report(state, first.min(today - Duration::days(RUN_RATE_DAYS as i64)), today).await?;
    app_cost(state, &app, &report, today).await
}

fn month_to_date(report: &CostReport, slug: &str, first: NaiveDate) -> Money {
    report.app_days(slug).filter(|d| d.day >= first).map(|d| d.cost).sum()
}

fn today_cost(report: &CostReport, slug: &str, today: NaiveDate) -> Money {
    report.app_days(slug).filter(|d| d.day == today).map(|d| d.cost).sum()
}

/// The app's compute cost (fixed shares left out) on each of the `n` complete days before
/// `today`: what a run-rate projection averages. Fixed costs are projected once, for the fleet.
fn recent_compute(report: &CostReport, slug: &str, today: NaiveDate, n: usize) -> Vec<Money> {
    (1..=n as i64)
        .map(|back| today - Duration::days(back))
        .filter(|day| *day >= report.from)
        .map(|day| report.app_days(slug).filter(|d| d.day == day).map(|d| d.compute).sum())
        .collect()
}

fn budget_of(state: &Services, slug: &str, projection: Money) -> (Option<Money>, Option<String>) {
    let budget = state.costs.budgets.get(slug).copied();
    let warning = budget.and_then(|b| Budget { monthly: b }.check(projection)).map(|w| w.to_string());
    (budget, warning)
}

/// A deleted app: no schedule, no rate; projected at its run rate.
fn figures_without_rate(report: &CostReport, slug: &str, today: NaiveDate, state: &Services) -> CostFigures {
    let (_, _, first) = month_bounds(state.costs.tz, today);
    let mtd = month_to_date(report, slug, first);
    let recent = recent_compute(report, slug, today, RUN_RATE_DAYS);
    let remaining = MonthRemainder::at(state.clock.now(), state.costs.tz);
    let projection = project_month(mtd, Projection::RunRate { recent_days: &recent, remaining });
    let (budget, budget_warning) = budget_of(state, slug, projection);
    CostFigures {
        today: today_cost(report, slug, today),
        month_to_date: mtd,
        projection,
        projected_by: "run rate".into(),
        saving: None,
        budget,
        budget_warning,
    }
}

async fn app_cost(
    state: &Services,
    app: &crate::apps::AppRecord,
    report: &CostReport,
    today: NaiveDate,
) -> Result<AppCost, Error> {
    let s = &state.costs;
    let now = state.clock.now();
    let slug = app.definition.slug.to_string();
    let (month_start, month_end, first) = month_bounds(s.tz, today);
    let rate = TaskRate::for_size(app.definition.size, app.definition.architecture, &s.prices);
    let mtd = month_to_date(report, &slug, first);
    let governed = crate::schedules::governed(&state.pool, Some(app.id)).await?;
    let schedule = governed.first().and_then(|g| g.schedule.clone()).filter(|s| s.enabled());
    let (projection, projected_by, saving) = match &schedule {
        Some(schedule) => {
            let rest: Vec<RunInterval> = interval_list(schedule.on_intervals(now.min(month_end), month_end));
            let month: Vec<RunInterval> = interval_list(schedule.on_intervals(month_start, month_end));
            let projection = project_month(mtd, Projection::Schedule { intervals: &rest, rate });
            let saving = schedule_saving(&month, schedule.on_count(), rate, month_start, month_end);
            (projection, "schedule", Some(saving))
        }
        None => {
            let recent = recent_compute(report, &slug, today, RUN_RATE_DAYS);
            if recent.iter().any(|d| d.micros() > 0) {
                let remaining = MonthRemainder::at(now, s.tz);
                (project_month(mtd, Projection::RunRate { recent_days: &recent, remaining }), "run rate", None)
            } else {
                // No complete day to average yet (a new app, a new console): the tasks
                // running now, for the rest of the month.
                let running = running_tasks(&state.pool, app.id).await?;
                let rest = [RunInterval { start: now.min(month_end), end: month_end, desired_count: running }];
                (project_month(mtd, Projection::Schedule { intervals: &rest, rate }), "tasks running now", None)
            }
        }
    };
    let (budget, budget_warning) = budget_of(state, &slug, projection);
    let size = app.definition.size;
    Ok(AppCost {
        slug: slug.clone(),
        name: app.definition.name.clone(),
        rate: format!(
            "{} an hour per task ({} vCPU, {} GB, {})",
            rate.hourly().to_dollars_string(4),
            f64::from(size.cpu()) / 1024.0,
            f64::from(size.memory()) / 1024.0,
            app.definition.architecture.as_str()
        ),
        figures: CostFigures {
            today: today_cost(report, &slug, today),
            month_to_date: mtd,
            projection,
            projected_by: projected_by.into(),
            saving,
            budget,
            budget_warning,
        },
    })
}

async fn running_tasks(pool: &SqlitePool, app_id: i64) -> sqlx::Result<u32> {
    let n = sqlx::query_scalar!("SELECT COUNT(*) FROM tasks WHERE app_id = ? AND last_status = 'RUNNING'", app_id)
        .fetch_one(pool)
        .await?;
    Ok(u32::try_from(n).unwrap_or(0))
}

/// A costs range from the HTTP API: local days, `from` ≤ `to`, at most a year.
pub fn parse_range(from: Option<&str>, to: Option<&str>, today: NaiveDate) -> Result<(NaiveDate, NaiveDate), Error> {
    let day = |field: &str, raw: Option<&str>, default: NaiveDate| match raw {
        None => Ok(default),
        Some(raw) => NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
            .ok()
            .filter(|d| (2000..=9999).contains(&d.year()))
            .ok_or_else(|| Error::invalid(field, "must be a date, YYYY-MM-DD, from the year 2000 on")),
    };
    let to = day("to", to, today)?;
    let from = day("from", from, to.with_day(1).unwrap_or(to))?;
    if from > to {
        return Err(Error::invalid("from", "must not be after `to`"));
    }
    if (to - from).num_days() >= MAX_RANGE_DAYS {
        return Err(Error::invalid("to", format!("the range may span at most {MAX_RANGE_DAYS} days")));
    }
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_default_to_this_month_and_are_bounded() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 28).expect("date");
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
        assert_eq!(parse_range(None, None, today).expect("ok"), (d("2026-11-01"), today));
        assert_eq!(
            parse_range(Some("2026-10-30"), Some("2026-11-02"), today).expect("ok"),
            (d("2026-10-30"), d("2026-11-02"))
        );
        for (from, to) in
            [(Some("2026-11-05"), Some("2026-11-01")), (Some("2026-13-01"), None), (Some("2024-01-01"), None)]
        {
            assert!(parse_range(from, to, today).is_err(), "{from:?}..{to:?}");
        }
    }
}
