//! The Costs page and the cost card of an app.

use super::*;

/// The Costs page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostsView {
    /// The chart's days (the last 30, today included), in the display time zone.
    pub days: Vec<CostDay>,
    pub today: chrono::NaiveDate,
    /// The display time zone's name.
    pub time_zone: String,
    /// e.g. "Fargate prices for us-east-1 (AWS pricing page, as of 2026-11)".
    pub prices_note: String,
    /// "November 2026".
    pub month: String,
    pub apps: Vec<AppCost>,
    pub fleet: CostFigures,
    /// Fixed costs of days on which no app ran (nobody's, but paid).
    pub unassigned_fixed: Money,
    pub generated_at: DateTime<Utc>,
}

/// One day of the chart: each app's cost, stacked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostDay {
    pub day: chrono::NaiveDate,
    /// (app slug, cost), apps in the page's order; only apps that cost something that day.
    pub by_app: Vec<(String, Money)>,
    pub total: Money,
}

/// What an app (or the fleet) costs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostFigures {
    pub today: Money,
    pub month_to_date: Money,
    /// The month's expected total: month to date plus the rest as scheduled (or at the
    /// recent run rate).
    pub projection: Money,
    /// How the projection was made: "schedule" or "run rate".
    pub projected_by: String,
    /// What the schedule saves this month against its "on" count always on (`None`: no
    /// schedule).
    pub saving: Option<Money>,
    pub budget: Option<Money>,
    /// e.g. "projected $412.00 this month, $112.00 over the $300.00 budget".
    pub budget_warning: Option<String>,
}

/// One app's row on the Costs page (and its app page card).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppCost {
    pub slug: String,
    pub name: String,
    /// e.g. "$0.0123 an hour per task (0.25 vCPU, 0.5 GB, x86_64)".
    pub rate: String,
    pub figures: CostFigures,
}
