//! `/api/v1/costs` and its CSV twin: what each app cost per local day (the display time
//! zone), with exact money (`cost_usd` is a decimal string with six places, `cost_micros`
//! the same amount in integer micro-dollars).

use super::ApiError;
use crate::error::ApiErrorBody;
use crate::error::AppError;
use crate::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::Json;
use domain::cost::CostReport;
use serde::{Deserialize, Serialize};
use service::costs;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CostsQuery {
    /// The first local day, `YYYY-MM-DD`; default the first of `to`'s month.
    from: Option<String>,
    /// The last local day (included), `YYYY-MM-DD`; default today. At most 366 days in all.
    to: Option<String>,
}

/// One app on one local day.
#[derive(Debug, Serialize, ToSchema)]
pub struct CostRow {
    /// The app's slug.
    app: String,
    day: chrono::NaiveDate,
    /// Billed task-seconds over all of the app's tasks that day.
    task_seconds: i64,
    /// Billed vCPU-hours and GB-hours, for display (rounded to six decimals).
    vcpu_hours: f64,
    gb_hours: f64,
    /// Compute and the app's share of the day's fixed costs, in dollars with six decimals.
    #[schema(example = "1.234560")]
    cost_usd: String,
    /// The same amount in micro-dollars.
    cost_micros: i64,
}

/// What each app cost per local day over a range of days.
#[derive(Debug, Serialize, ToSchema)]
pub struct CostsJson {
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    /// The IANA zone whose days these are (the console's display time zone).
    #[schema(example = "Europe/Berlin")]
    time_zone: String,
    /// One row per app and day it ran, by day then app.
    rows: Vec<CostRow>,
    /// The sum of the rows' cost, in dollars with six decimals.
    total_usd: String,
    total_micros: i64,
    /// Fixed cost of days on which no app ran (nobody's, and not in the total), in dollars.
    unassigned_fixed_usd: String,
}

async fn rows(
    state: &AppState,
    query: Result<Query<CostsQuery>, QueryRejection>,
) -> Result<(CostReport, Vec<CostRow>), ApiError> {
    let Query(q) = query.map_err(|e| ApiError(AppError::Request(e.body_text())))?;
    let (from, to) = costs::parse_range(q.from.as_deref(), q.to.as_deref(), costs::today(state))?;
    let report = costs::report(state, from, to).await?;
    let rows = report
        .rows
        .iter()
        .map(|r| CostRow {
            app: r.app.clone(),
            day: r.day,
            task_seconds: r.task_seconds,
            vcpu_hours: (r.vcpu_hours * 1e6).round() / 1e6,
            gb_hours: (r.gb_hours * 1e6).round() / 1e6,
            cost_usd: usd(r.cost),
            cost_micros: r.cost.micros(),
        })
        .collect();
    Ok((report, rows))
}

/// `GET /api/v1/costs?from=YYYY-MM-DD&to=YYYY-MM-DD` (default: this month to today).
#[utoipa::path(get, path = "/api/v1/costs", tag = "costs", operation_id = "list_costs", params(CostsQuery),
    responses(
        (status = 200, description = "The costs of the range", body = CostsJson),
        (status = 400, description = "An unknown query parameter", body = ApiErrorBody),
        (status = 422, description = "A bad `from` or `to`, or a range of more than 366 days", body = ApiErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    query: Result<Query<CostsQuery>, QueryRejection>,
) -> Result<Json<CostsJson>, ApiError> {
    let (report, rows) = rows(&state, query).await?;
    Ok(Json(CostsJson {
        from: report.from,
        to: report.to,
        total_usd: usd(report.total),
        total_micros: report.total.micros(),
        unassigned_fixed_usd: usd(report.unassigned_fixed),
        time_zone: report.time_zone,
        rows,
    }))
}

/// `GET /api/v1/costs.csv?from=&to=`: the same rows as CSV.
#[utoipa::path(get, path = "/api/v1/costs.csv", tag = "costs", operation_id = "costs_csv", params(CostsQuery),
    responses(
        (status = 200, description = "The rows of `GET /api/v1/costs` as CSV (header `app,day,task_seconds,vcpu_hours,gb_hours,cost_usd`)",
            content_type = "text/csv", body = String,
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"shinyfleet-costs-FROM-TO.csv\"`"))),
        (status = 400, description = "An unknown query parameter", body = ApiErrorBody),
        (status = 422, description = "A bad `from` or `to`, or a range of more than 366 days", body = ApiErrorBody),
    ))]
pub async fn csv(
    State(state): State<AppState>,
    query: Result<Query<CostsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let (report, rows) = rows(&state, query).await?;
    let mut csv = service::csv_writer();
    // Writing into memory cannot fail.
    let _ = csv.write_record(["app", "day", "task_seconds", "vcpu_hours", "gb_hours", "cost_usd"]);
    for r in &rows {
        let _ = csv.write_record([
            r.app.clone(),
            r.day.to_string(),
            r.task_seconds.to_string(),
            format!("{:.6}", r.vcpu_hours),
            format!("{:.6}", r.gb_hours),
            r.cost_usd.clone(),
        ]);
    }
    let out = service::csv_text(csv);
    let name = format!("shinyfleet-costs-{}-{}.csv", report.from, report.to);
    Ok(super::csv_attachment(&name, out))
}

/// Dollars with six decimals and no symbol (`-0.012500`): exact, as the micro-dollars are.
fn usd(m: domain::cost::Money) -> String {
    let micros = m.micros();
    let sign = if micros < 0 { "-" } else { "" };
    let abs = micros.unsigned_abs();
    format!("{sign}{}.{:06}", abs / 1_000_000, abs % 1_000_000)
}
