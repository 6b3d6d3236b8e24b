//! The week grid: seven rows (Monday first) of 24 hours with the on-time drawn as blocks,
//! from the windows being edited (local times of the schedule's zone), so it follows every
//! keystroke before saving.

use super::DAY_LABELS;
use domain::schedule::{week_blocks, WindowDoc, DAY_NAMES, MINUTES_PER_DAY};
use leptos::prelude::*;

/// Seven rows (Monday first) of 24 hours, the on-time drawn as blocks.
#[component]
pub(super) fn WeekGrid(windows: Signal<Vec<WindowDoc>>) -> impl IntoView {
    let blocks = Memo::new(move |_| windows.with(|w| week_blocks(w)));
    let hours = (0..24)
        .step_by(3)
        .map(|h| view! { <span class="week-hour" style=format!("grid-column: {} / span 3", h + 1)>{format!("{h:02}:00")}</span> })
        .collect_view();
    let pct = |minutes: u16| f64::from(minutes) * 100.0 / f64::from(MINUTES_PER_DAY);
    let rows = (0..7)
        .map(|d| {
            let day = move || blocks.with(|b| b[d].clone());
            let described = move || {
                let ranges = day();
                if ranges.is_empty() {
                    format!("{}: off", DAY_LABELS[d])
                } else {
                    let list: Vec<String> = ranges
                        .iter()
                        .map(|&(s, e)| {
                            format!("{}–{}", domain::schedule::format_time(s), domain::schedule::format_time(e))
                        })
                        .collect();
                    format!("{}: on {}", DAY_LABELS[d], list.join(", "))
                }
            };
            let drawn = move || {
                day()
                    .into_iter()
                    .map(|(s, e)| {
                        let span = format!("{}–{}", domain::schedule::format_time(s), domain::schedule::format_time(e));
                        view! {
                            <div class="on-block" title=format!("{} {span}", DAY_LABELS[d])
                                data-start=domain::schedule::format_time(s) data-end=domain::schedule::format_time(e)
                                style=format!("left: {:.3}%; width: {:.3}%", pct(s), pct(e - s))></div>
                        }
                    })
                    .collect_view()
            };
            view! {
                <div class="week-row" data-day=DAY_NAMES[d]>
                    <span class="week-day" aria-hidden="true">{DAY_LABELS[d]}</span>
                    <div class="week-track">
                        {drawn}
                        <span class="visually-hidden">{described}</span>
                    </div>
                </div>
            }
        })
        .collect_view();
    view! {
        <div class="week-grid" data-testid="week-grid">
            <div class="week-row week-hours" aria-hidden="true">
                <span class="week-day"></span>
                <div class="week-hour-labels">{hours}</div>
            </div>
            {rows}
        </div>
    }
    .into_any()
}
