//! What the fleet costs, worked out from the tasks it ran rather than read from a bill
//! (Cost Explorer lags by a day and does not know which Shiny app a task served).
//!
//! Fargate bills a task per second for the vCPU and memory it reserves. [`daily_costs`]
//! turns task lifetimes and a price table into one amount per app and local day, and every
//! larger figure — a day, a month, an app, the fleet — is a sum of those amounts, so the
//! totals on a page add up to the micro-dollar. Amounts are integer micro-dollars
//! ([`Money`]) and prices integer nano-dollars per hour: every published Fargate price is
//! exact, and no total drifts with floating-point rounding.
//!
//! The money and report types are compiled everywhere (the browser shows them); the engine
//! itself — prices, the split into local days, projections — needs the time-zone database
//! and is behind the `engine` feature.

mod money;
mod report;

#[cfg(feature = "engine")]
mod daily;
#[cfg(feature = "engine")]
mod prices;
#[cfg(feature = "engine")]
mod projection;
#[cfg(feature = "engine")]
mod settings;
#[cfg(all(test, feature = "engine"))]
mod tests;

pub use money::Money;
pub use report::{AppTotal, Budget, BudgetWarning, CostReport, DayCost, DayTotal, FixedTotal, MonthTotal};

#[cfg(feature = "engine")]
pub use daily::{billed_seconds, daily_costs, local_day_start, TaskLife, MINIMUM_SECONDS};
#[cfg(feature = "engine")]
pub use prices::{
    per_task_hourly, ArchPrices, FixedCost, PriceOverrides, Prices, TaskRate, PRICES_AS_OF, PRICE_SOURCE,
};
#[cfg(feature = "engine")]
pub use projection::{project_month, schedule_saving, scheduled_cost, MonthRemainder, Projection, RunInterval};
#[cfg(feature = "engine")]
pub use settings::*;
