//! The Fleet page: every app with its state, read from the cached view (never from AWS).

use crate::api::load_fleet;
use crate::model::{age, AppSummary, FleetView};
use crate::pages::chart::Sparkline;
use crate::pages::{rollout_class, rollout_words, ErrorNotice};
use chrono::{DateTime, Utc};
use domain::fleet::LiveState;
use leptos::prelude::*;
use leptos_meta::Title;

/// How often the Fleet page reads the cached view again (the poller's default interval).
const REFRESH_EVERY: std::time::Duration = std::time::Duration::from_secs(15);

/// The column the table is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortBy {
    Name,
    State,
    Running,
    Cost,
    Deployed,
}

#[component]
pub fn FleetPage() -> impl IntoView {
    let user = crate::shell::CurrentUser::get();
    let tick = RwSignal::new(0u32);
    let view_data = Resource::new(move || tick.get(), |_| load_fleet());
    // The table reads the cached view again now and then, without a reload.
    let pending_look = StoredValue::new(None::<TimeoutHandle>);
    let cancel_look = move || {
        if let Some(handle) = pending_look.try_update_value(Option::take).flatten() {
            handle.clear();
        }
    };
    Effect::new(move |_| {
        if view_data.get().is_some() {
            cancel_look();
            if let Ok(handle) = set_timeout_with_handle(move || tick.update(|n| *n += 1), REFRESH_EVERY) {
                pending_look.set_value(Some(handle));
            }
        }
    });
    on_cleanup(cancel_look);
    let (filter, set_filter) = signal(String::new());
    let sort = RwSignal::new((SortBy::Name, false));
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
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match view_data.await {
                        Ok(data) => view! { <FleetTable data filter sort /> }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// Whether an app matches the filter text (case-insensitive, on name, slug and image).
fn matches(app: &AppSummary, filter: &str) -> bool {
    let f = filter.trim().to_lowercase();
    f.is_empty() || [&app.name, &app.slug, &app.image].iter().any(|s| s.to_lowercase().contains(&f))
}

/// The order of two apps by a column; ties by name.
fn order(a: &AppSummary, b: &AppSummary, by: SortBy) -> std::cmp::Ordering {
    let name = |x: &AppSummary| (x.name.to_lowercase(), x.slug.clone());
    let rank = |x: &AppSummary| match x.live.as_ref().map(|l| l.state) {
        Some(LiveState::Failed) => 0,
        Some(LiveState::Unhealthy) => 1,
        Some(LiveState::Deploying) => 2,
        Some(LiveState::Running) => 3,
        Some(LiveState::ScaledToZero) => 4,
        Some(LiveState::NotDeployed) => 5,
        None => 6,
    };
    let primary = match by {
        SortBy::Name => std::cmp::Ordering::Equal,
        SortBy::State => rank(a).cmp(&rank(b)),
        SortBy::Running => b.live.as_ref().map(|l| l.running).cmp(&a.live.as_ref().map(|l| l.running)),
        SortBy::Cost => b.cost_today.cmp(&a.cost_today),
        SortBy::Deployed => b.last_deploy.map(|d| d.1).cmp(&a.last_deploy.map(|d| d.1)),
    };
    primary.then_with(|| name(a).cmp(&name(b)))
}

#[component]
fn FleetTable(data: FleetView, filter: ReadSignal<String>, sort: RwSignal<(SortBy, bool)>) -> impl IntoView {
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
    let apps = StoredValue::new(data.apps);
    let now = data.generated_at;
    let shown = move || apps.with_value(|a| a.iter().filter(|app| matches(app, &filter.get())).count());
    let rows = move || {
        let (by, reversed) = sort.get();
        let mut list = apps.get_value();
        list.sort_by(|a, b| if reversed { order(b, a, by) } else { order(a, b, by) });
        list.into_iter()
            .map(|app| {
                let hidden = {
                    let app = app.clone();
                    move || !matches(&app, &filter.get())
                };
                view! { <FleetRow app now hidden /> }
            })
            .collect_view()
    };
    let header = move |label: &'static str, by: SortBy, class: &'static str| {
        let aria = move || match sort.get() {
            (current, false) if current == by => "ascending",
            (current, true) if current == by => "descending",
            _ => "none",
        };
        let click = move |_| {
            sort.update(|(current, reversed)| {
                *reversed = *current == by && !*reversed;
                *current = by;
            })
        };
        view! {
            <th class=class aria-sort=aria>
                <button type="button" class="sort" on:click=click>{label}</button>
            </th>
        }
    };
    view! {
        <div class="card table-card">
            <table class="table fleet-table">
                <thead>
                    <tr>
                        {header("App", SortBy::Name, "")}
                        {header("State", SortBy::State, "")}
                        {header("Running / desired", SortBy::Running, "num")}
                        <th>"Health"</th>
                        <th>"CPU, last hour"</th>
                        {header("Cost today", SortBy::Cost, "num")}
                        {header("Last deploy", SortBy::Deployed, "")}
                        <th>"Updated"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
            <p class="table-foot muted" role="status" aria-live="polite" data-testid="fleet-count">
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
    let health = match (app.healthy, app.unhealthy) {
        (0, 0) => view! { <span class="muted">"–"</span> }.into_any(),
        (ok, 0) => view! { <span class="health-ok">{format!("{ok} healthy")}</span> }.into_any(),
        (ok, bad) => view! { <span class="health-bad">{format!("{bad} unhealthy")}</span> <span class="muted small">{format!(" · {ok} healthy")}</span> }.into_any(),
    };
    let deployed = match app.last_deploy {
        Some((state, at)) => {
            let (class, text) = (rollout_class(state), rollout_words(state));
            view! { <span class=class>{text}</span> <div class="muted small">{age(at, now)}</div> }.into_any()
        }
        None => view! { <span class="muted">"–"</span> }.into_any(),
    };
    // The rollout's reason says something only when it failed (e.g. the circuit breaker's
    // message); "deployment … in progress/completed" repeats the badge.
    let reason = app.live.as_ref().filter(|l| l.state == LiveState::Failed).and_then(|l| l.rollout_reason.clone());
    let slug = app.slug.clone();
    view! {
        <tr class:hidden=hidden data-slug=slug>
            <td>
                <a class="app-name" href=format!("/apps/{}", app.slug)>{app.name}</a>
                <div class="muted mono">{app.slug}</div>
                // The repository and tag say which image; the registry host is in the tooltip.
                <div class="muted small mono truncate" title=app.image.clone()>
                    {app.image.rsplit('/').next().unwrap_or(&app.image).to_owned()}
                </div>
                <div class="muted small">{size}</div>
            </td>
            <td>
                {badge} {reason.map(|r| view! { <div class="muted small">{r}</div> })}
                {app.schedule_note.map(|n| {
                    let class = if n.overridden { "badge badge-warn schedule-note" } else { "muted small schedule-note" };
                    view! { <div class=class>{n.text}</div> }
                })}
            </td>
            <td class="num">{counts}</td>
            <td class="nowrap small">{health}</td>
            <td><Sparkline points=app.cpu_sparkline.clone() /></td>
            <td class="num nowrap" data-col="cost-today">
                {app.cost_today.map_or_else(|| "–".to_owned(), crate::pages::costs::money)}
            </td>
            <td class="nowrap" data-col="last-deploy">{deployed}</td>
            <td class="nowrap">{updated} {stale.map(|s| view! { <div class="badge badge-warn">{s}</div> })}</td>
        </tr>
    }
}

pub fn state_badge(state: LiveState) -> AnyView {
    let class = match state {
        LiveState::Running => "badge badge-ok",
        LiveState::Deploying => "badge badge-info",
        LiveState::ScaledToZero => "badge badge-muted",
        LiveState::Failed | LiveState::Unhealthy => "badge badge-bad",
        LiveState::NotDeployed => "badge badge-muted",
    };
    view! { <span class=class>{state.label()}</span> }.into_any()
}
