//! The Fleet page: every app with its state, read from the cached view (never from AWS).

use crate::api::load_fleet;
use crate::model::{age, AppSummary, FleetView};
use crate::pages::ErrorNotice;
use chrono::{DateTime, Utc};
use domain::fleet::AppState;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn FleetPage() -> impl IntoView {
    let user = crate::shell::CurrentUser::get();
    let view_data = Resource::new(|| (), |_| load_fleet());
    let (filter, set_filter) = signal(String::new());
    view! {
        <Title text="Fleet" />
        <section class="page">
            <div class="page-head">
                <h1>"Fleet"</h1>
                <div class="page-head-actions">
                <input
                    class="filter"
                    type="search"
                    placeholder="Filter by name, slug or image"
                    aria-label="Filter apps"
                    prop:value=filter
                    on:input=move |ev| set_filter.set(event_target_value(&ev))
                />
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        user.is_admin().await.then(|| view! { <a class="button" href="/apps/new">"Register app"</a> })
                    })}
                </Suspense>
                </div>
            </div>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match view_data.await {
                        Ok(data) => view! { <FleetTable data filter /> }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// Whether an app matches the filter text (case-insensitive, on name, slug and image).
fn matches(app: &AppSummary, filter: &str) -> bool {
    let f = filter.trim().to_lowercase();
    f.is_empty() || [&app.name, &app.slug, &app.image].iter().any(|s| s.to_lowercase().contains(&f))
}

#[component]
fn FleetTable(data: FleetView, filter: ReadSignal<String>) -> impl IntoView {
    if data.apps.is_empty() {
        return view! {
            <div class="empty-state card">
                <p class="lead">"No apps yet."</p>
                <p class="muted">"Register a Shiny app to deploy it to Fargate."</p>
            </div>
        }
        .into_any();
    }
    let total = data.apps.len();
    let apps = StoredValue::new(data.apps.clone());
    let shown = move || apps.with_value(|a| a.iter().filter(|app| matches(app, &filter.get())).count());
    let now = data.generated_at;
    let rows = data
        .apps
        .into_iter()
        .map(|app| {
            let hidden = {
                let app = app.clone();
                move || !matches(&app, &filter.get())
            };
            view! { <FleetRow app now hidden /> }
        })
        .collect_view();
    view! {
        <div class="card table-card">
            <table class="table">
                <thead>
                    <tr>
                        <th>"App"</th>
                        <th>"State"</th>
                        <th class="num">"Running / desired"</th>
                        <th>"Size"</th>
                        <th>"Image"</th>
                        <th>"Updated"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
            <p class="table-foot muted" data-testid="fleet-count">
                {move || format!("{} of {} apps shown", shown(), total)}
            </p>
        </div>
    }
    .into_any()
}

#[component]
fn FleetRow(app: AppSummary, now: DateTime<Utc>, hidden: impl Fn() -> bool + Send + Sync + 'static) -> impl IntoView {
    let size = format!("{} vCPU · {} GB · {}", app.cpu as f64 / 1024.0, app.memory as f64 / 1024.0, app.architecture);
    let (badge, counts, updated, stale) = match &app.live {
        Some(live) => (
            state_badge(live.state),
            format!("{} / {}", live.running, live.desired),
            age(live.fetched_at, now),
            live.stale_since.map(|s| format!("stale since {}", age(s, now))),
        ),
        None => (
            view! { <span class="badge badge-muted">"waiting for data"</span> }.into_any(),
            format!("– / {}", app.desired_count),
            "never".to_owned(),
            None,
        ),
    };
    // The rollout's reason says something only when it failed (e.g. the circuit breaker's
    // message); "deployment … in progress/completed" repeats the badge.
    let reason = app.live.as_ref().filter(|l| l.state == AppState::Failed).and_then(|l| l.rollout_reason.clone());
    let slug = app.slug.clone();
    view! {
        <tr class:hidden=hidden data-slug=slug>
            <td>
                <a class="app-name" href=format!("/apps/{}", app.slug)>{app.name}</a>
                <div class="muted mono">{app.slug}</div>
            </td>
            <td>{badge} {reason.map(|r| view! { <div class="muted small">{r}</div> })}</td>
            <td class="num">{counts}</td>
            <td class="nowrap">{size}</td>
            <td class="mono small truncate" title=app.image.clone()>{app.image.clone()}</td>
            <td class="nowrap">{updated} {stale.map(|s| view! { <div class="badge badge-warn">{s}</div> })}</td>
        </tr>
    }
}

pub fn state_badge(state: AppState) -> AnyView {
    let class = match state {
        AppState::Running => "badge badge-ok",
        AppState::Deploying => "badge badge-info",
        AppState::ScaledToZero => "badge badge-muted",
        AppState::Failed => "badge badge-bad",
        AppState::NotDeployed => "badge badge-muted",
    };
    view! { <span class=class>{state.label()}</span> }.into_any()
}
