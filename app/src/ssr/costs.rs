//! Costs: what each app's recorded task lifetimes cost (`domain::cost`, pure and exact),
//! per day of the display time zone, this month, and projected to the month's end.
//!
//! Billing starts when a task started (or, when ECS never said, when it was created) and
//! ends when it stopped (a task that vanished before its stop was seen ends when it was last
//! seen); a task still running counts up to now. Tasks of deleted apps still count: they
//! were paid for.

use crate::error::AppError;
use crate::model::{AppCost, CostDay, CostFigures, CostsView};
use crate::ssr::{internal, AppState};
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use domain::cost::{
    daily_costs, local_day_start, project_month, schedule_saving, Budget, CostReport, FixedCost, Money, MonthRemainder,
    PriceOverrides, Prices, Projection, RunInterval, TaskLife, TaskRate,
};
use domain::Architecture;
use sqlx::SqlitePool;
use std::collections::BTreeMap;

/// The key of the fleet's budget in `SHINYFLEET_BUDGETS`.
pub const FLEET: &str = "fleet";
/// Days the run-rate projection averages.
const RUN_RATE_DAYS: usize = 7;
/// Days the Costs page's chart shows.
const CHART_DAYS: i64 = 30;
/// The longest range one costs request may ask for.
pub const MAX_RANGE_DAYS: i64 = 366;

/// Prices, display zone, fixed costs and budgets (from the configuration).
#[derive(Debug, Clone)]
pub struct CostSettings {
    pub tz: Tz,
    pub prices: Prices,
    pub fixed: Vec<FixedCost>,
    /// Monthly budgets: [`FLEET`] or an app's slug.
    pub budgets: BTreeMap<String, Money>,
}

impl Default for CostSettings {
    fn default() -> Self {
        Self {
            tz: Tz::UTC,
            prices: Prices::for_region("us-east-1").expect("us-east-1 is in the built-in table"),
            fixed: vec![],
            budgets: BTreeMap::new(),
        }
    }
}

impl CostSettings {
    /// Reads the settings; an error names the setting and what is wrong with it.
    pub fn parse(
        zone: &str,
        region: &str,
        overrides: &str,
        fixed: &str,
        budgets: &str,
    ) -> Result<Self, (&'static str, String)> {
        let tz: Tz = zone
            .trim()
            .parse()
            .map_err(|_| ("SHINYFLEET_DISPLAY_TIMEZONE", format!("{zone:?} is not an IANA time zone")))?;
        let overrides = if overrides.trim().is_empty() {
            PriceOverrides::default()
        } else {
            PriceOverrides::parse(overrides).map_err(|e| ("SHINYFLEET_PRICE_OVERRIDES", e.message))?
        };
        let prices = Prices::resolve(region, &overrides).map_err(|e| ("SHINYFLEET_PRICE_REGION", e.message))?;
        let mut costs = vec![];
        for (name, amount) in pairs(fixed).map_err(|m| ("SHINYFLEET_FIXED_COSTS", m))? {
            let per_hour =
                Money::parse(&amount).map_err(|e| ("SHINYFLEET_FIXED_COSTS", format!("{name}: {}", e.message)))?;
            if per_hour.micros() < 0 {
                return Err(("SHINYFLEET_FIXED_COSTS", format!("{name}: must not be negative")));
            }
            costs.push(FixedCost { name, micros_per_hour: per_hour.micros() });
        }
        let mut limits = BTreeMap::new();
        for (key, amount) in pairs(budgets).map_err(|m| ("SHINYFLEET_BUDGETS", m))? {
            let budget = Money::parse(&amount).map_err(|e| ("SHINYFLEET_BUDGETS", format!("{key}: {}", e.message)))?;
            if budget.micros() <= 0 {
                return Err(("SHINYFLEET_BUDGETS", format!("{key}: must be more than zero")));
            }
            limits.insert(key, budget);
        }
        Ok(Self { tz, prices, fixed: costs, budgets: limits })
    }
}

/// `name=value,name=value` (blank: none); each name once.
fn pairs(raw: &str) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = vec![];
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((name, value)) = part.split_once('=') else {
            return Err(format!("{part:?} must be name=value"));
        };
        let name = name.trim().to_owned();
        if name.is_empty()
            || name.len() > 63
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!("{name:?} must be 1–63 letters, digits, - or _"));
        }
        if out.iter().any(|(n, _)| *n == name) {
            return Err(format!("{name} is given twice"));
        }
        out.push((name, value.trim().to_owned()));
    }
    Ok(out)
}

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
pub async fn report(state: &AppState, from: NaiveDate, to: NaiveDate) -> Result<CostReport, AppError> {
    let s = &state.costs;
    let now = state.clock.now();
    let (start, end) = (local_day_start(s.tz, from), local_day_start(s.tz, to + Duration::days(1)));
    let tasks = lives(&state.pool, start, end).await.map_err(internal)?;
    Ok(daily_costs(&tasks, &s.prices, &s.fixed, s.tz, from, to, now))
}

/// Today in the display time zone.
pub fn today(state: &AppState) -> NaiveDate {
    state.costs.tz.from_utc_datetime(&state.clock.now().naive_utc()).date_naive()
}

/// What each app cost today so far, by slug (the Fleet table's column).
pub async fn today_by_app(state: &AppState) -> Result<BTreeMap<String, Money>, AppError> {
    let day = today(state);
    let report = report(state, day, day).await?;
    Ok(report.apps.into_iter().map(|a| (a.app, a.cost)).collect())
}

/// The Costs page: the chart's last 30 days, and every app's figures for this month.
pub async fn view(state: &AppState) -> Result<CostsView, AppError> {
    let today = today(state);
    let first = today.with_day(1).unwrap_or(today);
    let chart_from = today - Duration::days(CHART_DAYS - 1);
    // One report from the earliest day anything needs: the chart, the month, the run rate.
    let from = chart_from.min(first).min(today - Duration::days(RUN_RATE_DAYS as i64));
    let report = report(state, from, today).await?;
    let apps = crate::ssr::apps::list(&state.pool).await?;
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
pub async fn for_app(state: &AppState, slug: &str) -> Result<AppCost, AppError> {
    let app = crate::ssr::apps::get(&state.pool, slug).await?;
    let today = today(state);
    let first = today.with_day(1).unwrap_or(today);
    let report = report(state, first.min(today - Duration::days(RUN_RATE_DAYS as i64)), today).await?;
    app_cost(state, &app, &report, today).await
}

/// The local month of `today`: its first instant, the next month's, and its first day.
pub fn month_bounds(tz: Tz, today: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>, NaiveDate) {
    let first = today.with_day(1).unwrap_or(today);
    let next = if first.month() == 12 {
        NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
    }
    .unwrap_or(first);
    (local_day_start(tz, first), local_day_start(tz, next), first)
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

fn budget_of(state: &AppState, slug: &str, projection: Money) -> (Option<Money>, Option<String>) {
    let budget = state.costs.budgets.get(slug).copied();
    let warning = budget.and_then(|b| Budget { monthly: b }.check(projection)).map(|w| w.to_string());
    (budget, warning)
}

/// A deleted app: no schedule, no rate; projected at its run rate.
fn figures_without_rate(report: &CostReport, slug: &str, today: NaiveDate, state: &AppState) -> CostFigures {
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
    state: &AppState,
    app: &crate::ssr::apps::AppRecord,
    report: &CostReport,
    today: NaiveDate,
) -> Result<AppCost, AppError> {
    let s = &state.costs;
    let now = state.clock.now();
    let slug = app.definition.slug.to_string();
    let (month_start, month_end, first) = month_bounds(s.tz, today);
    let rate = TaskRate::for_size(app.definition.size, app.definition.architecture, &s.prices);
    let mtd = month_to_date(report, &slug, first);
    let governed = crate::ssr::schedules::governed(&state.pool, Some(app.id)).await.map_err(internal)?;
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
                let running = running_tasks(&state.pool, app.id).await.map_err(internal)?;
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

pub fn interval_list(pieces: Vec<(DateTime<Utc>, DateTime<Utc>, u32)>) -> Vec<RunInterval> {
    pieces.into_iter().map(|(start, end, desired_count)| RunInterval { start, end, desired_count }).collect()
}

/// A costs range from the HTTP API: local days, `from` ≤ `to`, at most a year.
pub fn parse_range(from: Option<&str>, to: Option<&str>, today: NaiveDate) -> Result<(NaiveDate, NaiveDate), AppError> {
    let day = |field: &str, raw: Option<&str>, default: NaiveDate| match raw {
        None => Ok(default),
        Some(raw) => NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
            .ok()
            .filter(|d| (2000..=9999).contains(&d.year()))
            .ok_or_else(|| AppError::invalid(field, "must be a date, YYYY-MM-DD, from the year 2000 on")),
    };
    let to = day("to", to, today)?;
    let from = day("from", from, to.with_day(1).unwrap_or(to))?;
    if from > to {
        return Err(AppError::invalid("from", "must not be after `to`"));
    }
    if (to - from).num_days() >= MAX_RANGE_DAYS {
        return Err(AppError::invalid("to", format!("the range may span at most {MAX_RANGE_DAYS} days")));
    }
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_read_and_bad_ones_name_their_setting() {
        let s = CostSettings::parse(
            "Europe/Berlin",
            "eu-central-1",
            "",
            "load-balancer=0.0225",
            "fleet=300,sales-dashboard=50.5",
        )
        .expect("valid");
        assert_eq!(s.tz, chrono_tz::Europe::Berlin);
        assert_eq!(s.prices.region, "eu-central-1");
        assert_eq!(s.fixed[0].micros_per_hour, 22_500);
        assert_eq!(s.budgets["sales-dashboard"].micros(), 50_500_000);
        for (args, setting) in [
            (["Mars/Base", "us-east-1", "", "", ""], "SHINYFLEET_DISPLAY_TIMEZONE"),
            (["UTC", "xx-nowhere-1", "", "", ""], "SHINYFLEET_PRICE_REGION"),
            (["UTC", "us-east-1", "x86_64.vcpu_hour=abc", "", ""], "SHINYFLEET_PRICE_OVERRIDES"),
            (["UTC", "us-east-1", "", "alb", ""], "SHINYFLEET_FIXED_COSTS"),
            (["UTC", "us-east-1", "", "alb=-1", ""], "SHINYFLEET_FIXED_COSTS"),
            (["UTC", "us-east-1", "", "", "fleet=0"], "SHINYFLEET_BUDGETS"),
            (["UTC", "us-east-1", "", "", "fleet=1,fleet=2"], "SHINYFLEET_BUDGETS"),
        ] {
            let err = CostSettings::parse(args[0], args[1], args[2], args[3], args[4]).expect_err("refused");
            assert_eq!(err.0, setting, "{args:?}: {}", err.1);
        }
        let full = "x86_64.vcpu_hour=0.05,x86_64.gb_hour=0.005,arm64.vcpu_hour=0.04,arm64.gb_hour=0.004";
        assert!(CostSettings::parse("UTC", "xx-nowhere-1", full, "", "").is_ok(), "every price given");
    }

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
