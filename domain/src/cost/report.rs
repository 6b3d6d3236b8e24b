//! The cost report's types — an app's day, the fleet's days, months and apps, the whole
//! report — and monthly budgets. Compiled without `engine`: the browser shows them.

use super::Money;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One app's cost on one local day of the report's time zone: the unit every total is a
/// sum of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayCost {
    pub app: String,
    pub day: NaiveDate,
    /// Billed task-seconds over all of the app's tasks that day (the minute minimum included).
    pub task_seconds: i64,
    /// vCPU-hours and GB-hours billed: for display only, money is never derived from them.
    pub vcpu_hours: f64,
    pub gb_hours: f64,
    /// vCPU and memory, rounded once (half up) to the micro-dollar.
    pub compute: Money,
    /// The app's share of the day's fixed costs (load balancer and the like).
    pub fixed_share: Money,
    /// `compute + fixed_share`.
    pub cost: Money,
}

/// One local day of the fleet: sums of that day's [`DayCost`] rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayTotal {
    pub day: NaiveDate,
    pub task_seconds: i64,
    pub compute: Money,
    pub fixed_share: Money,
    /// The sum of the day's app costs: what the apps account for.
    pub cost: Money,
    /// Fixed cost of a day on which no app ran: paid, but nobody's.
    pub unassigned_fixed: Money,
}

impl DayTotal {
    /// What the day costs the account: the apps' costs and any unassigned fixed cost.
    pub fn bill(&self) -> Money {
        self.cost + self.unassigned_fixed
    }
}

/// One calendar month (of the days inside the report): sums of its [`DayTotal`]s.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthTotal {
    pub year: i32,
    /// 1–12.
    pub month: u32,
    pub task_seconds: i64,
    pub compute: Money,
    pub fixed_share: Money,
    pub cost: Money,
    pub unassigned_fixed: Money,
}

impl MonthTotal {
    pub fn bill(&self) -> Money {
        self.cost + self.unassigned_fixed
    }
}

/// One app over the whole report: sums of its [`DayCost`] rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppTotal {
    pub app: String,
    pub task_seconds: i64,
    pub vcpu_hours: f64,
    pub gb_hours: f64,
    pub compute: Money,
    pub fixed_share: Money,
    pub cost: Money,
}

/// One fixed cost over the whole report (assigned and unassigned parts together).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixedTotal {
    pub name: String,
    pub cost: Money,
}

/// The costs of a range of local days, from the finest rows to the fleet's total.
///
/// Every total is a sum of the [`DayCost`] rows' micro-dollars: a day's cost is the sum of
/// its apps, a month's the sum of its days, and `total` the sum of them all. Fixed cost
/// that no app can carry (no app ran that day) is kept apart in `unassigned_fixed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostReport {
    /// First and last local day (inclusive).
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The IANA zone whose days these are (`Europe/Berlin`).
    pub time_zone: String,
    /// One row per app and day it ran, by day then app name.
    pub rows: Vec<DayCost>,
    /// Every day of the range, in order, also those on which nothing ran.
    pub days: Vec<DayTotal>,
    /// The months the range touches, in order.
    pub months: Vec<MonthTotal>,
    /// One per app that ran, by name.
    pub apps: Vec<AppTotal>,
    /// One per fixed cost, in the order given.
    pub fixed: Vec<FixedTotal>,
    /// The sum of every row's `cost`.
    pub total: Money,
    /// The sum of every day's `unassigned_fixed`.
    pub unassigned_fixed: Money,
}

impl CostReport {
    /// An empty report of `from..=to` in `time_zone`.
    pub fn empty(from: NaiveDate, to: NaiveDate, time_zone: &str) -> Self {
        Self {
            from,
            to,
            time_zone: time_zone.to_owned(),
            rows: vec![],
            days: vec![],
            months: vec![],
            apps: vec![],
            fixed: vec![],
            total: Money::ZERO,
            unassigned_fixed: Money::ZERO,
        }
    }

    /// What the range costs the account: apps and unassigned fixed cost.
    pub fn bill(&self) -> Money {
        self.total + self.unassigned_fixed
    }

    /// The app's rows, by day.
    pub fn app_days<'a>(&'a self, app: &'a str) -> impl Iterator<Item = &'a DayCost> + 'a {
        self.rows.iter().filter(move |r| r.app == app)
    }

    /// What a run-rate projection averages: the costs of the last `n` days before `today`
    /// that the report covers, oldest first — the fleet's bill when `app` is `None`, else
    /// that app's cost (zero on days it did not run).
    pub fn recent_days(&self, app: Option<&str>, today: NaiveDate, n: usize) -> Vec<Money> {
        let before: Vec<&DayTotal> = self.days.iter().filter(|d| d.day < today).collect();
        before[before.len().saturating_sub(n)..]
            .iter()
            .map(|d| match app {
                None => d.bill(),
                Some(app) => self.rows.iter().filter(|r| r.day == d.day && r.app == app).map(|r| r.cost).sum(),
            })
            .collect()
    }
}

/// A monthly budget (fleet or app).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    pub monthly: Money,
}

/// A month projected to cost more than its budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetWarning {
    pub budget: Money,
    pub projected: Money,
    pub over_by: Money,
}

impl Budget {
    /// A warning when `projected` exceeds the budget; exactly on budget is within it.
    pub fn check(&self, projected: Money) -> Option<BudgetWarning> {
        (projected > self.monthly).then(|| BudgetWarning {
            budget: self.monthly,
            projected,
            over_by: projected - self.monthly,
        })
    }
}

impl fmt::Display for BudgetWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "projected {} this month, {} over the {} budget", self.projected, self.over_by, self.budget)
    }
}
