//! `/api/v1/costs` and its CSV twin: what each app cost per local day (the display time
//! zone), with exact money (`cost_usd` is a decimal string with six places, `cost_micros`
//! the same amount in integer micro-dollars).

use super::ApiError;
use app::error::AppError;
use app::ssr::{costs, AppState};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::cost::CostReport;
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostsQuery {
    from: Option<String>,
    to: Option<String>,
}

/// One app on one local day.
#[derive(Debug, Serialize)]
struct CostRow {
    app: String,
    day: chrono::NaiveDate,
    task_seconds: i64,
    vcpu_hours: f64,
    gb_hours: f64,
    cost_usd: String,
    cost_micros: i64,
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
pub async fn list(
    State(state): State<AppState>,
    query: Result<Query<CostsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let (report, rows) = rows(&state, query).await?;
    Ok(Json(json!({
        "from": report.from,
        "to": report.to,
        "time_zone": report.time_zone,
        "rows": rows,
        "total_usd": usd(report.total),
        "total_micros": report.total.micros(),
        "unassigned_fixed_usd": usd(report.unassigned_fixed),
    }))
    .into_response())
}

/// `GET /api/v1/costs.csv?from=&to=`: the same rows as CSV.
pub async fn csv(
    State(state): State<AppState>,
    query: Result<Query<CostsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let (report, rows) = rows(&state, query).await?;
    let mut out = String::from("app,day,task_seconds,vcpu_hours,gb_hours,cost_usd\r\n");
    for r in &rows {
        // Slugs are letters, digits and hyphens: nothing to quote.
        out.push_str(&format!(
            "{},{},{},{:.6},{:.6},{}\r\n",
            r.app, r.day, r.task_seconds, r.vcpu_hours, r.gb_hours, r.cost_usd
        ));
    }
    let name = format!("shinyfleet-costs-{}-{}.csv", report.from, report.to);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        out,
    )
        .into_response())
}

/// Dollars with six decimals and no symbol (`-0.012500`): exact, as the micro-dollars are.
fn usd(m: domain::cost::Money) -> String {
    let micros = m.micros();
    let sign = if micros < 0 { "-" } else { "" };
    let abs = micros.unsigned_abs();
    format!("{sign}{}.{:06}", abs / 1_000_000, abs % 1_000_000)
}
