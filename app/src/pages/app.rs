//! An app's page: its rollout live (a progress bar of running / pending / desired tasks that
//! follows a deploy without a reload), its definition, the service's events and the deploy
//! history. Admins deploy, roll back to any earlier revision, edit and delete from here.

use crate::api::apps::{load_app, load_logs, load_metrics, DeleteApp, DeployApp, RollbackApp};
use crate::model::{age, AppDetail, DeployRecord, LiveStatus, TaskRow};
use crate::pages::app_form::{gb, vcpu};
use crate::pages::chart::UtilisationChart;
use crate::pages::fleet::state_badge;
use crate::pages::{
    field_error, form_error, instant, interactive, rollout_class, rollout_words, ErrorNotice, FieldError, FormError,
};
use crate::shell::CurrentUser;
use chrono::{DateTime, Utc};
use domain::fleet::{LiveState, RolloutState};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};
use std::time::Duration;

/// How often the page reloads its data while a rollout is on (the console's refresher polls
/// the cloud about as often then), and otherwise (a deploy started elsewhere, e.g. by CI,
/// still shows up). Each reload reads the console's database only, never the cloud.
const LIVE_EVERY: Duration = Duration::from_secs(2);
const IDLE_EVERY: Duration = Duration::from_secs(10);

#[component]
pub fn AppPage() -> impl IntoView {
    let user = CurrentUser::get();
    let params = use_params_map();
    let slug = Memo::new(move |_| params.with(|p| p.get("slug").unwrap_or_default()));
    let tick = RwSignal::new(0u32);
    let detail = Resource::new(move || (slug.get(), tick.get()), |(slug, _)| load_app(slug));
    let deploy = ServerAction::<DeployApp>::new();
    let rollback = ServerAction::<RollbackApp>::new();
    // A deploy or rollback just started: show it at once.
    Effect::new(move |_| {
        if let Some(Ok(_)) = deploy.value().get() {
            tick.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = rollback.value().get() {
            tick.update(|n| *n += 1);
        }
    });
    // Look again shortly while something is rolling out, and now and then otherwise. Each
    // answer replaces the pending look, so a page never has two; leaving the page ends it.
    let pending_look = StoredValue::new(None::<TimeoutHandle>);
    let cancel_look = move || {
        if let Some(handle) = pending_look.try_update_value(Option::take).flatten() {
            handle.clear();
        }
    };
    Effect::new(move |_| {
        let Some(answer) = detail.get() else { return };
        cancel_look();
        let every = match answer {
            Ok(d) if rolling_out(&d) => LIVE_EVERY,
            Ok(_) => IDLE_EVERY,
            // An error (session ended, app deleted) stays on screen until the user acts.
            Err(_) => return,
        };
        if let Ok(handle) = set_timeout_with_handle(move || tick.update(|n| *n += 1), every) {
            pending_look.set_value(Some(handle));
        }
    });
    on_cleanup(cancel_look);

    // The forms live outside the reloading parts, so a reload never wipes what is typed.
    // (Copied by an effect: reading the resource outside a <Transition> would not hydrate.)
    let latest = RwSignal::new(None::<AppDetail>);
    Effect::new(move |_| match detail.get() {
        // Only the app this page shows (the route may switch apps while a load is on).
        Some(Ok(d)) if d.app.slug == slug.get_untracked() => latest.set(Some(d)),
        Some(Err(_)) => latest.set(None),
        _ => {}
    });
    Effect::new(move |_| {
        slug.track();
        latest.set(None);
    });
    let loaded = move || latest.get();
    let key = Signal::derive(move || loaded().map(|d| d.deploy_key).unwrap_or_default());
    let busy = Signal::derive(move || loaded().is_some_and(|d| d.in_progress().is_some()));
    let image = Signal::derive(move || loaded().map(|d| d.app.image).unwrap_or_default());
    let task_list = Signal::derive(move || loaded().map(|d| d.tasks).unwrap_or_default());
    // The rollout in words, for screen readers: announced when it changes (not redrawn by
    // each reload, so only news is read out).
    let rollout_news = move || loaded().map(|d| rollout_announcement(&d)).unwrap_or_default();
    // Shown from the server's first HTML on; hidden only once the app turns out not to exist.
    let missing = RwSignal::new(false);
    Effect::new(move |_| missing.set(matches!(detail.get(), Some(Err(_)))));
    let found = Signal::derive(move || !missing.get());
    let reloading = move |body: fn(AppDetail, bool, ServerAction<RollbackApp>) -> AnyView| {
        view! {
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let admin = user.is_admin().await;
                    detail.await.ok().map(|d| body(d, admin, rollback))
                })}
            </Transition>
        }
    };
    // Drawn once (they depend on the user alone), hidden when the app does not exist.
    let admin_only = move |body: fn(Signal<String>) -> AnyView| {
        view! {
            <div class:hidden=move || !found.get()>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        user.is_admin().await.then(|| body(slug.into()))
                    })}
                </Suspense>
            </div>
        }
    };
    view! {
        <Title text=move || format!("App {}", slug.get()) />
        <section class="page">
            <a class="back-link" href="/">"← Fleet"</a>
            <p class="visually-hidden" role="status" aria-live="polite" data-testid="rollout-announcer">{rollout_news}</p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let admin = user.is_admin().await;
                    match detail.await {
                        Ok(d) => view! { <AppHead d admin /> }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                    }
                })}
            </Transition>
            <div class="app-layout">
                <div class="app-main">
                    {reloading(|d, _, _| view! {
                        <RolloutCard live=d.live.clone() current=d.in_progress().cloned() last=d.deploys.first().cloned()
                            running=d.running_revision now=d.generated_at />
                    }.into_any())}
                    {admin_only_deploy(user, found, slug, key, busy, image, deploy)}
                    {view! {
                        <div class:hidden=move || !found.get()>
                            <MetricsCard slug tick />
                        </div>
                    }.into_any()}
                    {reloading(|d, _, _| view! { <TasksCard tasks=d.tasks.clone() now=d.generated_at /> }.into_any())}
                    {view! {
                        <div class:hidden=move || !found.get()>
                            <LogsCard slug tasks=task_list />
                        </div>
                    }.into_any()}
                    {view! {
                        <div class:hidden=move || !found.get()>
                            {move || view! { <crate::pages::schedule::ScheduleCard slug=slug.get() /> }}
                        </div>
                    }.into_any()}
                    {reloading(|d, admin, rollback| {
                        let busy = d.in_progress().is_some();
                        view! {
                            <HistoryCard deploys=d.deploys.clone() admin busy slug=d.app.slug.clone() key=d.deploy_key.clone() action=rollback />
                            <EventsCard events=d.events.clone() now=d.generated_at />
                        }.into_any()
                    })}
                </div>
                <aside class="app-side">
                    {view! {
                        <div class:hidden=move || !found.get()>
                            <crate::pages::costs::CostCard slug />
                        </div>
                    }.into_any()}
                    {reloading(|d, _, _| view! { <DefinitionCard d /> }.into_any())}
                    {admin_only(|slug| view! { <DeleteCard slug /> }.into_any())}
                </aside>
            </div>
        </section>
    }
}

/// The deploy form, for admins, once the app is known.
fn admin_only_deploy(
    user: CurrentUser,
    found: Signal<bool>,
    slug: Memo<String>,
    key: Signal<String>,
    busy: Signal<bool>,
    image: Signal<String>,
    deploy: ServerAction<DeployApp>,
) -> impl IntoView {
    view! {
        <div class:hidden=move || !found.get()>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    user.is_admin().await.then(|| view! { <DeployCard slug=slug.into() key busy action=deploy image /> })
                })}
            </Suspense>
        </div>
    }
}

/// The rollout's state in one sentence: "Deploy #3 IN_PROGRESS: 1 running, 1 pending, 2 desired."
fn rollout_announcement(d: &AppDetail) -> String {
    let counts = d
        .live
        .as_ref()
        .map(|l| format!("{} running, {} pending, {} desired.", l.running, l.pending, l.desired))
        .unwrap_or_default();
    match d.in_progress().or(d.deploys.first()) {
        Some(deploy) => format!("Deploy #{} {}: {counts}", deploy.id, rollout_words(deploy.state)),
        None => counts,
    }
}

/// Whether a rollout is on: a deploy in progress, or the service still settling.
fn rolling_out(d: &AppDetail) -> bool {
    d.in_progress().is_some() || d.live.as_ref().is_some_and(|l| l.state == LiveState::Deploying)
}

/// The app's name, state and slug, with the way to its edit form.
#[component]
fn AppHead(d: AppDetail, admin: bool) -> impl IntoView {
    let slug = d.app.slug.clone();
    let badge = match &d.live {
        Some(live) => state_badge(live.state),
        None => view! { <span class="badge badge-muted">"waiting for data"</span> }.into_any(),
    };
    let edit = format!("/apps/{slug}/edit");
    view! {
        <div class="page-head">
            <div>
                <h1 class="app-title">{d.app.name.clone()} " " {badge}</h1>
                <p class="muted mono">{slug}</p>
            </div>
            {admin.then(|| view! { <a class="button button-secondary" href=edit>"Edit"</a> })}
        </div>
    }
}

/// The rollout: a bar of running and pending tasks against the desired count, and the state
/// of the deploy in progress (or of the last one).
#[component]
fn RolloutCard(
    live: Option<LiveStatus>,
    current: Option<DeployRecord>,
    last: Option<DeployRecord>,
    running: Option<i64>,
    now: DateTime<Utc>,
) -> impl IntoView {
    let Some(live) = live else {
        return view! {
            <section class="card card-pad">
                <h2>"Rollout"</h2>
                <p class="muted">"No news from the cloud yet; the page updates when the next refresh lands."</p>
            </section>
        }
        .into_any();
    };
    let total = live.desired.max(live.running + live.pending).max(1);
    let pct = |n: u32| format!("width: {:.1}%", f64::from(n) * 100.0 / f64::from(total));
    let deploy = current.clone().or(last);
    let deploy_line = deploy.map(|d| {
        let (class, text) = (rollout_class(d.state), d.state.as_str());
        let what = match d.revision {
            Some(r) => format!("Deploy #{} · {} of revision {r}", d.id, d.kind),
            None => format!("Deploy #{} · {}", d.id, d.kind),
        };
        view! {
            <div class="rollout-deploy" data-testid="rollout-state">
                <span class=class>{text}</span>
                <span>{what}</span>
                <span class="muted small">{format!("by {} · {}", d.created_by, age(d.created_at, now))}</span>
            </div>
            {d.reason.clone().filter(|_| d.state == RolloutState::Failed).map(|r| view! {
                <p class="rollout-reason" data-testid="rollout-reason">{r}</p>
            })}
        }
    });
    let label = format!("{} running · {} pending · {} desired", live.running, live.pending, live.desired);
    let stale = live.stale_since.map(|s| format!("The cloud has not answered since {}.", age(s, now)));
    view! {
        <section class="card card-pad" aria-labelledby="rollout-heading">
            <div class="card-title-row">
                <h2 id="rollout-heading">"Rollout"</h2>
                <span class="muted small">{running.map(|r| format!("runs revision {r} · "))} {format!("updated {}", age(live.fetched_at, now))}</span>
            </div>
            <div
                class="progress"
                role="progressbar"
                aria-label="Tasks running"
                aria-valuemin="0"
                aria-valuemax=live.desired
                aria-valuenow=live.running
                data-testid="rollout-progress"
                data-running=live.running
                data-pending=live.pending
                data-desired=live.desired
            >
                <div class="progress-running" style=pct(live.running)></div>
                <div class="progress-pending" style=pct(live.pending)></div>
            </div>
            <p class="progress-label" data-testid="rollout-counts">{label}</p>
            {deploy_line}
            {stale.map(|s| view! { <p class="badge badge-warn">{s}</p> })}
        </section>
    }
    .into_any()
}

/// Deploy the definition, optionally with a new image. Not redrawn by the page's reloads, so
/// what is typed stays; the key and whether a deploy is running follow the latest data.
#[component]
fn DeployCard(
    slug: Signal<String>,
    key: Signal<String>,
    busy: Signal<bool>,
    action: ServerAction<DeployApp>,
    image: Signal<String>,
) -> impl IntoView {
    let ready = interactive();
    let pending = action.pending();
    let result = action.value();
    let image_error = Signal::derive(move || result.with(|r| field_error(r, "image")));
    let other_error = Signal::derive(move || result.with(|r| form_error(r, &["image"])));
    crate::pages::focus_errors_of(action, "deploy-card");
    let input = NodeRef::<leptos::html::Input>::new();
    // Started: the field is empty again (the new image is the app's image now).
    Effect::new(move |_| {
        if let (Some(Ok(_)), Some(input)) = (result.get(), input.get_untracked()) {
            input.set_value("");
        }
    });
    view! {
        <section class="card card-pad" id="deploy-card" aria-labelledby="deploy-heading">
            <h2 id="deploy-heading">"Deploy"</h2>
            <p class="muted card-lead">
                "Registers a new revision of the definition and rolls it out; the circuit breaker rolls back a deploy whose tasks keep failing."
            </p>
            <FormError message=other_error />
            <ActionForm action attr:class="inline-form-fields deploy-form">
                <input type="hidden" name="slug" prop:value=slug />
                <input type="hidden" name="key" prop:value=key />
                <div class="field field-grow">
                    <label for="deploy-image">"New image " <span class="muted">"(optional: empty redeploys the current one)"</span></label>
                    <input id="deploy-image" class="input mono" name="image" autocomplete="off" node_ref=input
                        placeholder=image
                        aria-invalid=move || image_error.get().map(|_| "true") aria-describedby="deploy-image-error" />
                    <FieldError id="deploy-image-error" message=image_error />
                </div>
                <div class="field field-action">
                    <button type="submit" class="button" data-testid="deploy-button"
                        disabled=move || !ready.get() || pending.get() || busy.get()
                        title=move || busy.get().then_some("A deploy is in progress")>
                        {move || if pending.get() { "Starting…" } else { "Deploy" }}
                    </button>
                </div>
            </ActionForm>
        </section>
    }
}

#[component]
fn HistoryCard(
    deploys: Vec<DeployRecord>,
    admin: bool,
    busy: bool,
    slug: String,
    key: String,
    action: ServerAction<RollbackApp>,
) -> impl IntoView {
    let error = Signal::derive(move || action.value().with(|r| form_error(r, &[])));
    let body = if deploys.is_empty() {
        view! { <p class="muted card-pad">"Not deployed from the console yet."</p> }.into_any()
    } else {
        let newest = deploys.first().map(|d| d.id);
        let rows = deploys
            .into_iter()
            .map(|d| {
                // Any earlier revision that once completed; the newest deploy is what the
                // app is defined as already (even when the circuit breaker rolled it back).
                let can_roll_back = admin
                    && !busy
                    && d.state == RolloutState::Completed
                    && d.revision.is_some()
                    && Some(d.id) != newest;
                view! { <HistoryRow d can_roll_back slug=slug.clone() key=key.clone() action /> }
            })
            .collect_view();
        view! {
            <div class="table-scroll">
                <table class="table" data-testid="deploy-history">
                    <thead>
                        <tr>
                            <th>"Deploy"</th>
                            <th>"Image"</th>
                            <th>"Started"</th>
                            <th>"Result"</th>
                            {admin.then(|| view! { <th><span class="visually-hidden">"Actions"</span></th> })}
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <section class="card table-card" aria-labelledby="history-heading">
            <div class="card-head">
                <h2 id="history-heading">"Deploy history"</h2>
            </div>
            <div class="card-pad-x"><FormError message=error /></div>
            {body}
        </section>
    }
}

#[component]
fn HistoryRow(
    d: DeployRecord,
    can_roll_back: bool,
    slug: String,
    key: String,
    action: ServerAction<RollbackApp>,
) -> impl IntoView {
    let ready = interactive();
    let pending = action.pending();
    let (class, text) = (rollout_class(d.state), rollout_words(d.state));
    let took = d.finished_at.map(|f| format!(" in {}", duration(d.created_at, f)));
    let revision = d.revision.map(|r| format!("revision {r}")).unwrap_or_else(|| "not registered".into());
    let digest = d.digest.clone().map(|dg| {
        let short: String = dg.chars().take(19).collect();
        view! { <div class="muted small mono" title=dg>{short} "…"</div> }
    });
    let kind = (d.kind == "rollback").then(|| view! { <span class="badge badge-muted">"rollback"</span> });
    let rollback_form = can_roll_back.then(|| {
        let revision = d.revision.unwrap_or_default().to_string();
        view! {
            <ActionForm action attr:class="row-actions">
                <input type="hidden" name="slug" value=slug />
                <input type="hidden" name="revision" value=revision.clone() />
                <input type="hidden" name="key" value=format!("{key}-r{revision}") />
                <button type="submit" class="button button-secondary button-small"
                    disabled=move || !ready.get() || pending.get()>
                    {format!("Roll back to {revision}")}
                </button>
            </ActionForm>
        }
    });
    view! {
        <tr data-deploy=d.id>
            <td class="nowrap">
                <div>{format!("#{}", d.id)} " " {kind}</div>
                <div class="muted small">{revision}</div>
            </td>
            <td class="small history-image">
                <div class="mono truncate" title=d.image.clone()>{d.image.clone()}</div>
                {digest}
            </td>
            <td class="small">
                <div class="nowrap">{instant(d.created_at)}</div>
                <div class="muted">{d.created_by.clone()}</div>
            </td>
            <td class="history-result">
                <span class=class>{text}</span>
                <span class="muted small">{took}</span>
                {d.reason.clone().map(|r| view! { <div class="muted small">{r}</div> })}
            </td>
            <td class="nowrap">{rollback_form}</td>
        </tr>
    }
}

/// `45 s`, `3 min 5 s`, `2 h 4 min`.
pub fn duration(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let secs = (to - from).num_seconds().max(0);
    match secs {
        0..=59 => format!("{secs} s"),
        60..=3599 => format!("{} min {} s", secs / 60, secs % 60),
        _ => format!("{} h {} min", secs / 3600, (secs % 3600) / 60),
    }
}

/// The app's tasks: those running or on their way, then those stopped in the last day.
#[component]
fn TasksCard(tasks: Vec<TaskRow>, now: DateTime<Utc>) -> impl IntoView {
    let body = if tasks.is_empty() {
        view! { <p class="muted card-pad">"No tasks seen yet."</p> }.into_any()
    } else {
        let rows = tasks
            .into_iter()
            .map(|t| {
                let stopped = t.last_status == "STOPPED";
                let (class, state) = match t.last_status.as_str() {
                    "RUNNING" => ("badge badge-ok", "running".to_owned()),
                    "STOPPED" => ("badge badge-muted", "stopped".to_owned()),
                    other => ("badge badge-info", other.to_lowercase()),
                };
                let health = match t.health_status.as_str() {
                    "HEALTHY" => Some(("badge badge-ok", "healthy")),
                    "UNHEALTHY" => Some(("badge badge-bad", "unhealthy")),
                    _ => None,
                }
                .filter(|_| !stopped)
                .map(|(class, text)| view! { <span class=class>{text}</span> });
                let uptime = match (t.started_at, t.stopped_at) {
                    (Some(start), Some(stop)) => format!("ran {}", duration(start, stop)),
                    (Some(start), None) if !stopped => format!("up {}", duration(start, now)),
                    _ => "–".to_owned(),
                };
                let why = t.stopped_reason.clone().map(|r| match &t.stop_code {
                    Some(code) => format!("{code}: {r}"),
                    None => r,
                });
                view! {
                    <tr data-task=t.id.clone() data-status=t.last_status.clone()>
                        <td class="mono small" title=t.arn.clone()>{t.id.chars().take(12).collect::<String>()}</td>
                        <td class="num">{t.revision.map(|r| r.to_string()).unwrap_or_else(|| "–".into())}</td>
                        <td class="nowrap"><span class=class>{state}</span> " " {health}</td>
                        <td class="nowrap small">{t.started_at.map(instant).unwrap_or_else(|| "–".into())}</td>
                        <td class="nowrap small">{uptime}</td>
                        <td class="small">{why}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <div class="table-scroll">
                <table class="table" data-testid="tasks">
                    <thead>
                        <tr>
                            <th>"Task"</th>
                            <th class="num">"Rev."</th>
                            <th>"State"</th>
                            <th>"Started"</th>
                            <th>"Uptime"</th>
                            <th>"Stop reason"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <section class="card table-card" aria-labelledby="tasks-heading">
            <div class="card-head"><h2 id="tasks-heading">"Tasks"</h2></div>
            {body}
        </section>
    }
}

/// CPU and memory over the last hour, day or week, from the stored samples; read again with
/// the page's reloads (the samples only change every few minutes, so this is cheap).
#[component]
fn MetricsCard(slug: Memo<String>, tick: RwSignal<u32>) -> AnyView {
    let range = RwSignal::new("hour".to_owned());
    let data =
        Resource::new(move || (slug.get(), range.get(), tick.get() / 5), |(slug, range, _)| load_metrics(slug, range));
    let choice = move |value: &'static str, text: &'static str| {
        view! {
            <button type="button" class="seg" aria-pressed=move || (range.get() == value).to_string()
                on:click=move |_| range.set(value.to_owned())>{text}</button>
        }
    };
    view! {
        <section class="card card-pad" aria-labelledby="metrics-heading">
            <div class="card-title-row">
                <h2 id="metrics-heading">"Utilisation"</h2>
                <div class="segmented" role="group" aria-label="Range">
                    {choice("hour", "Hour")} {choice("day", "Day")} {choice("week", "Week")}
                </div>
            </div>
            <Transition fallback=|| view! { <p class="muted small">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(m) => view! {
                            <UtilisationChart cpu=m.cpu memory=m.memory from=m.from to=m.to resolution_secs=m.resolution_secs />
                        }.into_any(),
                        Err(e) => view! { <div class="notice notice-error">{crate::pages::error_message(&e)}</div> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
    .into_any()
}

/// The newest lines of a chosen task's container log, read from the cloud when asked (never
/// by the page's reloads), with a filter. Not redrawn by the reloads, so the choice stays.
#[component]
fn LogsCard(slug: Memo<String>, tasks: Signal<Vec<TaskRow>>) -> AnyView {
    let ready = interactive();
    let chosen = RwSignal::new(String::new());
    let filter = RwSignal::new(String::new());
    let action = Action::new(move |(task, filter): &(String, String)| {
        let (task, filter) = (task.clone(), filter.clone());
        let slug = slug.get_untracked();
        async move { load_logs(slug, task, Some(filter).filter(|f| !f.trim().is_empty())).await }
    });
    let pending = action.pending();
    // The newest task is chosen until the user chooses.
    Effect::new(move |_| {
        let first = tasks.with(|list| list.first().map(|t| t.arn.clone()));
        if let (true, Some(first)) = (chosen.with_untracked(String::is_empty), first) {
            chosen.set(first);
        }
    });
    let options = move || {
        tasks
            .get()
            .into_iter()
            .map(|t| {
                let label = format!(
                    "{} · {} · revision {}",
                    &t.id[..t.id.len().min(12)],
                    t.last_status.to_lowercase(),
                    t.revision.unwrap_or(0)
                );
                let arn = t.arn.clone();
                view! { <option value=t.arn selected=move || chosen.with(|c| *c == arn)>{label}</option> }
            })
            .collect_view()
    };
    let show = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch((chosen.get_untracked(), filter.get_untracked()));
    };
    let output = move || match action.value().get() {
        None => {
            view! { <p class="muted small">"Choose a task and show its latest lines (read from CloudWatch Logs)."</p> }
                .into_any()
        }
        Some(Err(e)) => {
            view! { <div class="notice notice-error" role="alert">{crate::pages::error_message(&e)}</div> }.into_any()
        }
        Some(Ok(view)) if view.lines.is_empty() => {
            let note = view.note.unwrap_or_else(|| "No line matches.".into());
            view! { <p class="muted small" data-testid="log-note">{note}</p> }.into_any()
        }
        Some(Ok(view)) => {
            let lines = view
                .lines
                .into_iter()
                .map(|l| view! { <li><span class="log-at">{instant(l.at)}</span> <span class="log-message">{l.message}</span></li> })
                .collect_view();
            view! { <ol class="log-lines" tabindex="0" aria-label="Log lines" data-testid="log-lines">{lines}</ol> }
                .into_any()
        }
    };
    view! {
        <section class="card card-pad" aria-labelledby="logs-heading">
            <h2 id="logs-heading">"Logs"</h2>
            <form class="inline-form-fields logs-form" on:submit=show>
                <div class="field field-grow">
                    <label for="logs-task">"Task"</label>
                    <select id="logs-task" class="input mono" on:change=move |ev| chosen.set(event_target_value(&ev))>
                        {options}
                    </select>
                </div>
                <div class="field">
                    <label for="logs-filter">"Filter"</label>
                    <input id="logs-filter" class="input" type="search" placeholder="e.g. error" autocomplete="off"
                        on:input=move |ev| filter.set(event_target_value(&ev)) />
                </div>
                <div class="field field-action">
                    <button type="submit" class="button button-secondary"
                        disabled=move || !ready.get() || pending.get() || chosen.with(String::is_empty)>
                        {move || if pending.get() { "Reading…" } else { "Show logs" }}
                    </button>
                </div>
            </form>
            {output}
        </section>
    }
    .into_any()
}

#[component]
fn EventsCard(events: Vec<domain::fleet::ServiceEvent>, now: DateTime<Utc>) -> impl IntoView {
    let items = if events.is_empty() {
        view! { <p class="muted card-pad">"No events yet."</p> }.into_any()
    } else {
        let list = events
            .into_iter()
            .map(|e| {
                view! {
                    <li>
                        <span class="muted small nowrap" title=instant(e.at)>{age(e.at, now)}</span>
                        <span>{e.message}</span>
                    </li>
                }
            })
            .collect_view();
        // It scrolls: focusable, so the keyboard can scroll it too.
        view! { <ul class="events" tabindex="0" aria-labelledby="events-heading" data-testid="service-events">{list}</ul> }
            .into_any()
    };
    view! {
        <section class="card" aria-labelledby="events-heading">
            <div class="card-head"><h2 id="events-heading">"Service events"</h2></div>
            {items}
        </section>
    }
}

#[component]
fn DefinitionCard(d: AppDetail) -> impl IntoView {
    let a = d.app;
    let size = format!(
        "{} vCPU · {} GB · {}",
        vcpu(u32::try_from(a.cpu).unwrap_or(0)),
        gb(u32::try_from(a.memory).unwrap_or(0)),
        a.architecture
    );
    let env = if a.env.is_empty() {
        "none".to_owned()
    } else {
        a.env.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(", ")
    };
    let tags = if a.tags.is_empty() {
        "none".to_owned()
    } else {
        a.tags.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
    };
    let check = match a.health_check_tool.as_deref() {
        Some(tool) => format!("{} (load balancer and {tool} in the container)", a.health_check_path),
        None => format!("{} (load balancer only)", a.health_check_path),
    };
    let or_none = |v: Option<String>| v.unwrap_or_else(|| "none".into());
    view! {
        <section class="card card-pad" aria-labelledby="definition-heading">
            <h2 id="definition-heading">"Definition"</h2>
            <dl class="facts facts-stacked">
                <dt>"Image"</dt><dd class="mono break">{a.image}</dd>
                <dt>"Size"</dt><dd>{size}</dd>
                <dt>"Desired tasks"</dt><dd>{a.desired_count}</dd>
                <dt>"Port"</dt><dd>{a.port}</dd>
                <dt>"Health check"</dt><dd class="break">{check}</dd>
                <dt>"Environment"</dt><dd class="mono break">{env}</dd>
                <dt>"Tags"</dt><dd class="break">{tags}</dd>
                <dt>"Task role"</dt><dd class="mono break">{or_none(a.task_role_arn)}</dd>
                <dt>"Execution role"</dt><dd class="mono break">{or_none(a.execution_role_arn)}</dd>
                <dt>"Target group"</dt><dd class="mono break">{or_none(a.target_group_arn)}</dd>
                <dt>"Registered"</dt><dd>{instant(d.created_at)}</dd>
                <dt>"Changed"</dt><dd>{instant(d.updated_at)}</dd>
            </dl>
        </section>
    }
}

/// Deleting asks for the slug to be typed, then scales the service to zero and deletes it.
#[component]
fn DeleteCard(slug: Signal<String>) -> impl IntoView {
    let action = ServerAction::<DeleteApp>::new();
    let ready = interactive();
    let pending = action.pending();
    let result = action.value();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = result.get() {
            navigate("/", Default::default());
        }
    });
    let confirm_error = Signal::derive(move || result.with(|r| field_error(r, "confirm")));
    let other_error = Signal::derive(move || result.with(|r| form_error(r, &["confirm"])));
    crate::pages::focus_errors_of(action, "delete-card");
    let typed = RwSignal::new(String::new());
    let matches = move || typed.with(|t| slug.with(|s| t.trim() == s));
    view! {
        <section class="card card-pad danger-zone" id="delete-card" aria-labelledby="delete-heading">
            <h2 id="delete-heading">"Delete this app"</h2>
            <p class="muted small">
                "Scales the service to zero and deletes it. The app's deploy history and audit trail stay."
            </p>
            <FormError message=other_error />
            <ActionForm action attr:class="stack-form">
                <input type="hidden" name="slug" prop:value=slug />
                <div class="field">
                    <label for="delete-confirm">"Type " <code>{slug}</code> " to confirm"</label>
                    <input id="delete-confirm" class="input mono" name="confirm" autocomplete="off"
                        on:input=move |ev| typed.set(event_target_value(&ev))
                        aria-invalid=move || confirm_error.get().map(|_| "true") aria-describedby="delete-confirm-error" />
                    <FieldError id="delete-confirm-error" message=confirm_error />
                </div>
                <button type="submit" class="button button-danger" disabled=move || !ready.get() || pending.get() || !matches()>
                    {move || if pending.get() { "Deleting…" } else { "Delete app" }}
                </button>
            </ActionForm>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        let t0 = DateTime::parse_from_rfc3339("2026-11-30T09:00:00Z").unwrap().with_timezone(&Utc);
        let s = |n: i64| t0 + chrono::Duration::seconds(n);
        assert_eq!(duration(t0, s(45)), "45 s");
        assert_eq!(duration(t0, s(185)), "3 min 5 s");
        assert_eq!(duration(t0, s(7440)), "2 h 4 min");
        assert_eq!(duration(s(10), t0), "0 s");
    }
}
