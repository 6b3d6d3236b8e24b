//! The schedule card of an app's page: what governs the app now (and the button that ends
//! an override), the week grid and editor (see `editor`), the next changes in the app's zone
//! and the viewer's, and the scheduler's recent actions. It reads the schedule again once a
//! minute, and after each override set or ended.

use super::editor::{OverrideControls, ScheduleEditor};
use super::{browser_time, browser_zone, event_text, override_text, tasks, utc_label};
use crate::api::schedules::{clear_override, load_schedule, set_override};
use crate::error::AppError;
use crate::model::{age, OverrideRequest, ScheduleEvent, ScheduleView, TransitionView};
use crate::pages::{form_error, instant, interactive, ErrorNotice, FormError};
use crate::shell::CurrentUser;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use std::time::Duration;

/// How often the card reads the schedule's state again on its own (what it wants now, the
/// next changes): the scheduler acts to the minute, so once a minute.
const REFRESH_EVERY: Duration = Duration::from_secs(60);

/// The schedule of one app, for its page: state, override, week grid and editor, next
/// changes, the month's saving and the scheduler's recent actions. Admins edit; viewers read.
#[component]
pub fn ScheduleCard(slug: String) -> impl IntoView {
    let user = CurrentUser::get();
    let slug = StoredValue::new(slug);
    let tick = RwSignal::new(0u32);
    let data = Resource::new(move || (slug.get_value(), tick.get()), |(slug, _)| load_schedule(slug));
    // The editor is drawn once, from the first answer, so the page's reloads never wipe
    // what is being typed.
    let initial = Resource::new(move || slug.get_value(), load_schedule);
    let set = Action::new(move |request: &OverrideRequest| {
        let (slug, request) = (slug.get_value(), request.clone());
        async move { set_override(slug, request).await }
    });
    let clear = Action::new(move |_: &()| {
        let slug = slug.get_value();
        async move { clear_override(slug).await }
    });
    let reload = move || tick.update(|n| *n += 1);
    // What a screen reader hears after an override is set or ended (or refused).
    let announce = RwSignal::new(String::new());
    Effect::new(move |_| match set.value().get() {
        Some(Ok(v)) => {
            announce.set(v.override_.as_ref().map_or_else(|| "Override set.".to_owned(), override_text));
            reload();
        }
        Some(Err(e)) => announce.set(format!("The override was not set: {}", crate::pages::error_message(&e))),
        None => {}
    });
    Effect::new(move |_| match clear.value().get() {
        Some(Ok(_)) => {
            announce.set("Override ended: the schedule governs the app again.".to_owned());
            reload();
        }
        Some(Err(e)) => announce.set(format!("The override was not ended: {}", crate::pages::error_message(&e))),
        None => {}
    });
    // The latest answer, for the controls outside the reloading parts (copied by an effect:
    // reading the resource outside a <Transition> would not hydrate).
    let latest = RwSignal::new(None::<ScheduleView>);
    Effect::new(move |_| {
        if let Some(Ok(v)) = data.get() {
            latest.set(Some(v));
        }
    });
    // Look again now and then: what the schedule wants now moves with the clock.
    let pending_look = StoredValue::new(None::<TimeoutHandle>);
    let cancel_look = move || {
        if let Some(handle) = pending_look.try_update_value(Option::take).flatten() {
            handle.clear();
        }
    };
    Effect::new(move |_| {
        if data.get().is_some() {
            cancel_look();
            if let Ok(handle) = set_timeout_with_handle(reload, REFRESH_EVERY) {
                pending_look.set_value(Some(handle));
            }
        }
    });
    on_cleanup(cancel_look);

    view! {
        <div class="schedule-stack" id="schedule">
            <section class="card card-pad" aria-labelledby="schedule-heading">
                <div class="card-title-row">
                    <h2 id="schedule-heading">"Schedule"</h2>
                    <a class="small" href="/schedules">"All schedules"</a>
                </div>
                <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        let admin = user.is_admin().await;
                        match data.await {
                            Ok(v) => view! { <ScheduleState v admin clear /> }.into_any(),
                            Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                        }
                    })}
                </Transition>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        user.is_admin().await.then(|| view! { <OverrideControls latest action=set /> })
                    })}
                </Suspense>
                <p class="visually-hidden" role="status" aria-live="polite" data-testid="schedule-announcer">{announce}</p>
            </section>
            <section class="card card-pad" aria-labelledby="week-heading">
                <div class="card-title-row">
                    <h2 id="week-heading">"Week"</h2>
                    <span class="muted small">"Local time of the schedule's zone"</span>
                </div>
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        let admin = user.is_admin().await;
                        match initial.await {
                            Ok(v) => view! { <ScheduleEditor initial=v admin slug tick /> }.into_any(),
                            Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                        }
                    })}
                </Suspense>
            </section>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    data.await.ok().map(|v| {
                        let governed = v.schedule.as_ref().is_some_and(|s| s.enabled) || v.override_.is_some();
                        view! {
                            <section class="card table-card" aria-labelledby="next-heading">
                                <div class="card-head"><h2 id="next-heading">"Next changes"</h2></div>
                                <NextTransitions next=v.next.clone() governed />
                            </section>
                            <section class="card" aria-labelledby="activity-heading">
                                <div class="card-head"><h2 id="activity-heading">"Recent scheduler actions"</h2></div>
                                <ScheduleHistory events=v.history.clone() now=v.generated_at />
                            </section>
                        }
                        .into_any()
                    })
                })}
            </Transition>
        </div>
    }
    .into_any()
}

/// What governs the app now: the schedule in a few words, what it wants against what the
/// service runs, an override in force (admins may end it), the month's saving.
#[component]
fn ScheduleState(v: ScheduleView, admin: bool, clear: Action<(), Result<ScheduleView, AppError>>) -> impl IntoView {
    let ready = interactive();
    let pending = clear.pending();
    let clear_error = Signal::derive(move || clear.value().with(|r| form_error(r, &[])));
    let line = match &v.schedule {
        Some(doc) => {
            let (class, mode) = match (doc.enabled, doc.mode.as_str()) {
                (false, _) => ("badge badge-muted", "disabled"),
                (true, "transitions") => ("badge badge-info", "transitions only"),
                (true, _) => ("badge badge-ok", "enforced"),
            };
            view! {
                <p class="schedule-line" data-testid="schedule-state">
                    <strong>"Scheduled: "</strong>
                    <span>{doc.summary()}</span>
                    " "
                    <span class=class>{mode}</span>
                </p>
            }
            .into_any()
        }
        None => view! {
            <p class="schedule-line" data-testid="schedule-state">
                <strong>"No schedule: "</strong>
                "the service runs its desired count all the time"
            </p>
        }
        .into_any(),
    };
    let live = v.live_desired.map_or_else(|| "not seen yet".to_owned(), |n| n.to_string());
    let now = match v.desired_now {
        Some(n) => format!("Now: wants {} · the service's desired count is {live}", tasks(n)),
        None => format!("Now: nothing overrides the service's desired count, which is {live}"),
    };
    let differs = matches!((v.desired_now, v.live_desired), (Some(a), Some(b)) if a != b);
    let override_ = v.override_.as_ref().map(|o| {
        let resume = admin.then(|| {
            view! {
                <button type="button" class="button button-secondary button-small"
                    disabled=move || !ready.get() || pending.get()
                    on:click=move |_| { clear.dispatch(()); }>
                    {move || if pending.get() { "Resuming…" } else { "Resume schedule" }}
                </button>
            }
        });
        view! {
            <div class="schedule-override">
                <span class="badge badge-warn" data-testid="override-badge" title=instant(o.until)>{override_text(o)}</span>
                {resume}
            </div>
        }
    });
    let saving = v.saving.as_ref().map(|s| {
        view! {
            <p class="schedule-saving" data-testid="schedule-saving">
                {format!("This month: {} always on, {} on this schedule — saves ", s.always_on, s.scheduled)}
                <strong>{s.saving.clone()}</strong>
                <span class="muted small">{format!(" ({})", s.month)}</span>
            </p>
        }
    });
    view! {
        {line}
        <p class="schedule-now" data-testid="schedule-now">
            {now} " " {differs.then(|| view! { <span class="badge badge-muted">"differs"</span> })}
        </p>
        {override_}
        <FormError message=clear_error />
        {saving}
    }
    .into_any()
}

/// The next changes, in the app's zone (from the server) and in the viewer's own (from the
/// browser, once the page runs there; UTC until then, so the server's HTML and the hydrating
/// page agree).
#[component]
fn NextTransitions(next: Vec<TransitionView>, governed: bool) -> impl IntoView {
    let ready = interactive();
    if next.is_empty() {
        let text = if governed {
            "No change coming: the count stays as it is."
        } else {
            "Nothing is scheduled: the count changes only when someone changes it."
        };
        return view! { <p class="muted card-pad">{text}</p> }.into_any();
    }
    let zone = move || match ready.get().then(browser_zone).flatten() {
        Some(z) => format!("Your time ({z})"),
        None => "Your time (UTC)".to_owned(),
    };
    let rows = next
        .into_iter()
        .map(|t| {
            let at = t.at;
            let (class, state) = if t.desired == 0 { ("badge badge-muted", "off") } else { ("badge badge-ok", "on") };
            view! {
                <tr data-at=at.to_rfc3339()>
                    <td class="nowrap">{t.local}</td>
                    <td class="nowrap muted">{move || if ready.get() { browser_time(at) } else { utc_label(at) }}</td>
                    <td class="nowrap"><span class=class>{state}</span> " " {tasks(t.desired)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-scroll">
            <table class="table" data-testid="next-transitions">
                <thead>
                    <tr>
                        <th>"When (app's zone)"</th>
                        <th>{zone}</th>
                        <th>"From then"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// The scheduler's recent actions (and changes of the schedule), newest first.
#[component]
fn ScheduleHistory(events: Vec<ScheduleEvent>, now: DateTime<Utc>) -> impl IntoView {
    if events.is_empty() {
        return view! { <p class="muted card-pad">"Nothing yet."</p> }.into_any();
    }
    let items = events
        .into_iter()
        .map(|e| {
            let failed =
                (e.outcome != "ok").then(|| view! { <span class="badge badge-bad">{e.outcome.clone()}</span> });
            view! {
                <li data-action=e.action.clone()>
                    <span class="muted small nowrap" title=instant(e.at)>{age(e.at, now)}</span>
                    <span>{event_text(&e)} " " {failed}</span>
                </li>
            }
        })
        .collect_view();
    view! { <ul class="events" tabindex="0" aria-labelledby="activity-heading" data-testid="schedule-history">{items}</ul> }
        .into_any()
}
