//! The Schedules page: every app with its schedule, its mode, what it wants now, its next
//! change and any override, each linking to the app's card.

use super::tasks;
use crate::api::schedules::load_schedules;
use crate::model::ScheduleRow;
use crate::pages::ErrorNotice;
use leptos::prelude::*;
use leptos_meta::Title;

/// Every app with its schedule, what it wants now, its next change and any override.
#[component]
pub fn SchedulesPage() -> impl IntoView {
    let rows = Resource::new(|| (), |_| load_schedules());
    view! {
        <Title text="Schedules" />
        <section class="page">
            <div class="page-head">
                <div>
                    <h1>"Schedules"</h1>
                    <p class="muted card-lead">"When each app runs. Open an app to edit its schedule or override it for a while."</p>
                </div>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match rows.await {
                        Ok(list) => view! { <SchedulesTable list /> }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn SchedulesTable(list: Vec<ScheduleRow>) -> impl IntoView {
    if list.is_empty() {
        return view! {
            <div class="empty-state card">
                <p class="lead">"No apps yet."</p>
                <p class="muted">"Register a Shiny app, then give it office hours from its page."</p>
            </div>
        }
        .into_any();
    }
    let rows = list.into_iter().map(|row| view! { <ScheduleRowView row /> }).collect_view();
    view! {
        <div class="card table-card">
            <table class="table schedules-table" data-testid="schedules-table">
                <thead>
                    <tr>
                        <th>"App"</th>
                        <th>"Schedule"</th>
                        <th>"Mode"</th>
                        <th>"Now"</th>
                        <th>"Next change"</th>
                        <th>"Override"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn ScheduleRowView(row: ScheduleRow) -> impl IntoView {
    let href = format!("/apps/{}#schedule", row.slug);
    let schedule = match row.summary.clone() {
        Some(s) => view! { <span>{s}</span> }.into_any(),
        None => view! { <span class="muted">"No schedule"</span> }.into_any(),
    };
    let mode = match (row.summary.is_some(), row.enabled, row.mode.as_deref()) {
        (false, _, _) => view! { <span class="muted">"–"</span> }.into_any(),
        (true, false, _) => view! { <span class="badge badge-muted">"disabled"</span> }.into_any(),
        (true, true, Some("transitions")) => {
            view! { <span class="badge badge-info">"transitions only"</span> }.into_any()
        }
        (true, true, _) => view! { <span class="badge badge-ok">"enforced"</span> }.into_any(),
    };
    let live = row.live_desired.map_or_else(|| "not seen yet".to_owned(), |n| n.to_string());
    let now = match row.desired_now {
        Some(n) => view! { <div>{format!("wants {}", tasks(n))}</div> <div class="muted small">{format!("service at {live}")}</div> }.into_any(),
        None => view! { <div class="muted">{format!("service at {live}")}</div> }.into_any(),
    };
    let next = match row.next {
        Some(t) => {
            view! { <div>{t.local}</div> <div class="muted small">{format!("→ {}", tasks(t.desired))}</div> }.into_any()
        }
        None => view! { <span class="muted">"–"</span> }.into_any(),
    };
    let override_ = match &row.override_ {
        Some(o) => {
            let by = (!o.set_by.is_empty()).then(|| format!("set by {}", o.set_by));
            view! {
                <span class="badge badge-warn" title=by>{format!("override: {}", tasks(o.desired))}</span>
                <div class="muted small">{format!("until {}", o.until_local)}</div>
            }
            .into_any()
        }
        None => view! { <span class="muted">"–"</span> }.into_any(),
    };
    view! {
        <tr data-slug=row.slug.clone()>
            <td>
                <a class="app-name" href=href>{row.name}</a>
                <div class="muted mono">{row.slug.clone()}</div>
            </td>
            <td>{schedule}</td>
            <td class="nowrap">{mode}</td>
            <td class="nowrap">{now}</td>
            <td class="nowrap">{next}</td>
            <td>{override_}</td>
        </tr>
    }
}
