//! The Costs page: the last 30 days stacked by app, this month's figures per app and for the
//! fleet, and the CSV export; and the app page's cost card.

use crate::api::costs::{load_app_cost, load_costs};
use crate::model::{CostDay, CostFigures, CostsView, Money};
use crate::pages::ErrorNotice;
use leptos::prelude::*;
use leptos_meta::Title;

/// The chart's drawing area, in SVG units.
const W: f64 = 1000.0;
const H: f64 = 220.0;
const LEFT: f64 = 52.0;
const BOTTOM: f64 = 22.0;
const TOP: f64 = 10.0;
/// Colours for the apps' stacks, in order (then repeated).
const PALETTE: [&str; 8] = ["#2563eb", "#16a34a", "#d97706", "#9333ea", "#0891b2", "#dc2626", "#4f46e5", "#65a30d"];

/// An amount as the pages show it: cents, or four decimals below a cent (a new app's first
/// minutes cost less than one).
pub fn money(m: Money) -> String {
    if m.micros() != 0 && m.micros().abs() < 10_000 {
        m.to_dollars_string(4)
    } else {
        m.to_string()
    }
}

/// A rounded-up "nice" top for the y axis (1, 2, 2.5 or 5 times a power of ten).
pub fn nice_top(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let power = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * power).find(|v| *v >= max).unwrap_or(10.0 * power)
}

/// One rectangle of the stacked chart: (x, y, width, height, colour index).
pub fn bars(days: &[CostDay], apps: &[String], top: f64) -> Vec<(f64, f64, f64, f64, usize)> {
    let n = days.len().max(1) as f64;
    let slot = (W - LEFT) / n;
    let width = (slot * 0.7).max(1.0);
    let plot = H - BOTTOM - TOP;
    let mut out = vec![];
    for (i, day) in days.iter().enumerate() {
        let x = LEFT + slot * i as f64 + (slot - width) / 2.0;
        let mut base = H - BOTTOM;
        for (slug, cost) in &day.by_app {
            let h = cost.dollars_f64() / top * plot;
            if h <= 0.0 {
                continue;
            }
            let colour = apps.iter().position(|a| a == slug).unwrap_or(0) % PALETTE.len();
            base -= h;
            out.push((x, base, width, h, colour));
        }
    }
    out
}

#[component]
pub fn CostsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_costs());
    view! {
        <Title text="Costs" />
        <section class="page">
            <div class="page-head">
                <h1>"Costs"</h1>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(view) => view! { <CostsBody view /> }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn CostsBody(view: CostsView) -> impl IntoView {
    let fleet = view.fleet.clone();
    let apps: Vec<String> = view.apps.iter().map(|a| a.slug.clone()).collect();
    let first = view.days.first().map(|d| d.day);
    let csv = match first {
        Some(from) => format!("/api/v1/costs.csv?from={from}&to={}", view.today),
        None => "/api/v1/costs.csv".to_owned(),
    };
    let month_csv = format!("/api/v1/costs.csv?from={}&to={}", view.today.format("%Y-%m-01"), view.today);
    view! {
        <div class="cost-summary">
            <Figure label="Today" value=fleet.today />
            <Figure label=format!("{} so far", view.month) value=fleet.month_to_date />
            <Figure label="Projected this month" value=fleet.projection />
            {fleet.saving.map(|s| view! { <Figure label="Saved by schedules" value=s /> })}
        </div>
        {fleet.budget_warning.clone().map(|w| view! { <div class="notice notice-warn" data-testid="fleet-budget">"Fleet budget: " {w}</div> })}
        <section class="card card-pad" aria-labelledby="cost-chart-heading">
            <div class="card-title-row">
                <h2 id="cost-chart-heading">"Last 30 days"</h2>
                <a class="button button-secondary" href=csv download data-testid="costs-csv">"Download CSV"</a>
            </div>
            <CostChart days=view.days.clone() apps=apps.clone() />
            <ul class="legend">
                {view.apps.iter().filter(|a| a.figures.month_to_date.micros() > 0 || a.figures.today.micros() > 0).map(|a| {
                    let colour = apps.iter().position(|s| *s == a.slug).unwrap_or(0) % PALETTE.len();
                    view! { <li><span class="swatch" style=format!("background:{}", PALETTE[colour])></span>{a.name.clone()}</li> }
                }).collect_view()}
            </ul>
            <p class="muted small">
                {format!("Days in {}. {}. Billing: per second, one minute minimum per task.", view.time_zone, view.prices_note)}
            </p>
        </section>
        <section class="card table-card" aria-labelledby="cost-apps-heading">
            <div class="card-title-row card-pad">
                <h2 id="cost-apps-heading">{format!("By app, {}", view.month)}</h2>
                <a class="small" href=month_csv download>"This month as CSV"</a>
            </div>
            <table class="table" data-testid="costs-table">
                <thead>
                    <tr>
                        <th>"App"</th>
                        <th class="num">"Today"</th>
                        <th class="num">"Month to date"</th>
                        <th class="num">"Projected"</th>
                        <th class="num">"Schedule saves"</th>
                        <th class="num">"Budget"</th>
                    </tr>
                </thead>
                <tbody>
                    {view.apps.into_iter().map(|a| {
                        let f = a.figures;
                        view! {
                            <tr data-slug=a.slug.clone()>
                                <td>
                                    <a href=format!("/apps/{}", a.slug)>{a.name}</a>
                                    <div class="muted small">{a.rate}</div>
                                </td>
                                <td class="num">{money(f.today)}</td>
                                <td class="num">{money(f.month_to_date)}</td>
                                <td class="num">{money(f.projection)} <div class="muted small">{format!("by {}", f.projected_by)}</div></td>
                                <td class="num">{f.saving.map_or_else(|| "–".to_owned(), money)}</td>
                                <td class="num">
                                    {f.budget.map_or_else(|| "–".to_owned(), |b| b.to_string())}
                                    {f.budget_warning.map(|w| view! { <div class="badge badge-warn">{w}</div> })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
                <tfoot>
                    <tr>
                        <th>"Fleet"</th>
                        <th class="num">{money(fleet.today)}</th>
                        <th class="num">{money(fleet.month_to_date)}</th>
                        <th class="num">{money(fleet.projection)}</th>
                        <th class="num">{fleet.saving.map_or_else(|| "–".to_owned(), money)}</th>
                        <th class="num">{fleet.budget.map_or_else(|| "–".to_owned(), |b| b.to_string())}</th>
                    </tr>
                </tfoot>
            </table>
            {(view.unassigned_fixed.micros() > 0).then(|| view! {
                <p class="muted small card-pad">{format!("Fixed costs of days on which no app ran: {}.", view.unassigned_fixed)}</p>
            })}
        </section>
    }
}

#[component]
fn Figure(#[prop(into)] label: String, value: Money) -> impl IntoView {
    view! {
        <div class="card card-pad figure">
            <div class="muted small">{label}</div>
            <div class="figure-value">{money(value)}</div>
        </div>
    }
}

/// Cost per day, stacked by app, with a dollar axis and a read-out on hover (the bar's title).
#[component]
fn CostChart(days: Vec<CostDay>, apps: Vec<String>) -> impl IntoView {
    let max = days.iter().map(|d| d.total.dollars_f64()).fold(0.0, f64::max);
    let top = nice_top(max);
    let rects = bars(&days, &apps, top);
    let plot = H - BOTTOM - TOP;
    // Enough decimals that the five ticks differ ($0.0025 steps need four).
    let decimals = (0..=6).find(|d| (top / 4.0 * 10f64.powi(*d)).fract().abs() < 1e-9).unwrap_or(6).max(2) as usize;
    let ticks: Vec<(f64, String)> = (0..=4)
        .map(|i| (H - BOTTOM - plot * i as f64 / 4.0, format!("${:.*}", decimals, top * i as f64 / 4.0)))
        .collect();
    let n = days.len().max(1) as f64;
    let slot = (W - LEFT) / n;
    let last = days.len().saturating_sub(1);
    let labels: Vec<(f64, String, &str)> = days
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 7 == last % 7)
        .map(|(i, d)| {
            let anchor = if i == last { "end" } else { "middle" };
            let x = if i == last { W } else { LEFT + slot * (i as f64 + 0.5) };
            (x, d.day.format("%-d %b").to_string(), anchor)
        })
        .collect();
    let titles: Vec<(f64, f64, String)> = days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let parts: Vec<String> = d.by_app.iter().map(|(a, c)| format!("{a} {}", money(*c))).collect();
            let text = if parts.is_empty() {
                format!("{}: nothing ran", d.day.format("%a %-d %b"))
            } else {
                format!("{}: {} ({})", d.day.format("%a %-d %b"), money(d.total), parts.join(", "))
            };
            (LEFT + slot * i as f64, slot, text)
        })
        .collect();
    // The chart's text alternative: each day's total and share by app, in words.
    let described = titles.iter().map(|(_, _, text)| text.as_str()).collect::<Vec<_>>().join("; ");
    view! {
        <svg class="cost-chart" data-testid="cost-chart" viewBox=format!("0 0 {W} {H}") role="img"
            aria-label="Cost per day over the last 30 days, stacked by app" aria-describedby="cost-chart-desc">
            <desc id="cost-chart-desc">{described}</desc>
            {ticks.into_iter().map(|(y, text)| view! {
                <line x1=LEFT x2=W y1=y y2=y class="grid" />
                <text x=LEFT - 6.0 y=y + 4.0 text-anchor="end" class="axis">{text}</text>
            }).collect_view()}
            {rects.into_iter().map(|(x, y, w, h, c)| view! {
                <rect class="cost-bar" x=x y=y width=w height=h fill=PALETTE[c] />
            }).collect_view()}
            {labels.into_iter().map(|(x, text, anchor)| view! {
                <text x=x y=H - 6.0 text-anchor=anchor class="axis">{text}</text>
            }).collect_view()}
            // Hover targets over each day's whole column: the read-out is the column's title.
            {titles.into_iter().map(|(x, w, text)| view! {
                <rect class="cost-hover" x=x y=TOP width=w height=plot fill="transparent"><title>{text}</title></rect>
            }).collect_view()}
        </svg>
    }
}

/// The app page's cost card: today, this month, projection, saving, budget.
#[component]
pub fn CostCard(slug: Memo<String>) -> impl IntoView {
    let data = Resource::new(move || slug.get(), load_app_cost);
    view! {
        <section class="card card-pad" aria-labelledby="cost-heading" data-testid="cost-card">
            <div class="card-title-row">
                <h2 id="cost-heading">"Cost"</h2>
                <a class="small" href="/costs">"All costs"</a>
            </div>
            <Transition fallback=|| view! { <p class="muted small">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(cost) => view! { <CostFiguresList figures=cost.figures rate=cost.rate /> }.into_any(),
                        Err(e) => view! { <div class="notice notice-error">{crate::pages::error_message(&e)}</div> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn CostFiguresList(figures: CostFigures, rate: String) -> impl IntoView {
    view! {
        <dl class="facts">
            <dt>"Today"</dt><dd>{money(figures.today)}</dd>
            <dt>"This month so far"</dt><dd>{money(figures.month_to_date)}</dd>
            <dt>"Projected this month"</dt><dd>{money(figures.projection)} <div class="muted small">{format!("by {}", figures.projected_by)}</div></dd>
            {figures.saving.map(|s| view! { <dt>"The schedule saves"</dt><dd>{money(s)}</dd> })}
            {figures.budget.map(|b| view! { <dt>"Budget"</dt><dd>{b.to_string()}</dd> })}
        </dl>
        {figures.budget_warning.map(|w| view! { <div class="notice notice-warn">{w}</div> })}
        <p class="muted small">{rate}</p>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn small_amounts_keep_four_decimals() {
        for (micros, shown) in [
            (0, "$0.00"),
            (2_100, "$0.0021"),
            (9_999, "$0.0100"),
            (10_000, "$0.01"),
            (1_234_567, "$1.23"),
            (-2_100, "-$0.0021"),
        ] {
            assert_eq!(money(Money::from_micros(micros)), shown, "{micros}");
        }
    }

    #[test]
    fn the_axis_top_is_a_round_figure_above_the_highest_day() {
        for (max, top) in
            [(0.0, 1.0), (0.7, 1.0), (1.3, 2.0), (2.2, 2.5), (3.1, 5.0), (7.0, 10.0), (12.0, 20.0), (0.04, 0.05)]
        {
            assert!((nice_top(max) - top).abs() < 1e-9, "{max} → {} (want {top})", nice_top(max));
        }
    }

    #[test]
    fn bars_stack_each_days_apps_from_the_axis_up() {
        let day = |d: u32, parts: &[(&str, i64)]| CostDay {
            day: NaiveDate::from_ymd_opt(2026, 11, d).unwrap(),
            by_app: parts.iter().map(|(a, m)| (a.to_string(), Money::from_micros(*m))).collect(),
            total: Money::from_micros(parts.iter().map(|(_, m)| m).sum()),
        };
        let apps = vec!["a".to_owned(), "b".to_owned()];
        let r = bars(&[day(1, &[("a", 1_000_000), ("b", 500_000)]), day(2, &[])], &apps, 2.0);
        assert_eq!(r.len(), 2, "an empty day draws nothing");
        let plot = H - BOTTOM - TOP;
        let (a, b) = (r[0], r[1]);
        assert!((a.3 - plot / 2.0).abs() < 1e-9 && (b.3 - plot / 4.0).abs() < 1e-9, "heights in proportion");
        assert!((a.1 + a.3 - (H - BOTTOM)).abs() < 1e-9, "the first stands on the axis");
        assert!((b.1 + b.3 - a.1).abs() < 1e-9, "the second on the first");
        assert_eq!((a.4, b.4), (0, 1), "each app its colour");
    }
}
