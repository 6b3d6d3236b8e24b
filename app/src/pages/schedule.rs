//! Schedules: the schedule card of an app's page (its state, a week grid, the editor,
//! temporary overrides, the next changes, the month's saving and the scheduler's recent
//! actions) and the Schedules page (every app at a glance).
//!
//! The time-zone engine lives on the server only: the next transitions come from it,
//! already labelled in the app's zone. The week grid is drawn here from the windows being
//! edited (local times of the schedule's zone), so it follows every keystroke before saving.

use crate::api::schedules::{
    clear_override, delete_schedule, load_schedule, load_schedules, save_schedule, set_override,
};
use crate::error::AppError;
use crate::model::{age, OverrideRequest, OverrideView, ScheduleEvent, ScheduleRow, ScheduleView, TransitionView};
use crate::pages::{error_message, field_error, form_error, instant, interactive, ErrorNotice, FieldError, FormError};
use crate::shell::CurrentUser;
use chrono::{DateTime, Utc};
use domain::schedule::{parse_day, parse_time, Preset, ScheduleDoc, WindowDoc, DAY_NAMES, MAX_EXCEPTIONS, MAX_WINDOWS};
use leptos::prelude::*;
use leptos_meta::Title;
use std::time::Duration;

/// The days' short names as the pages show them, Monday first.
const DAY_LABELS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MINUTES_PER_DAY: u16 = 24 * 60;
/// How often the card reads the schedule's state again on its own (what it wants now, the
/// next changes): the scheduler acts to the minute, so once a minute.
const REFRESH_EVERY: Duration = Duration::from_secs(60);
/// Common IANA zones offered by the time-zone field (any other may be typed).
const ZONES: &[&str] = &[
    "UTC",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Amsterdam",
    "Europe/Brussels",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Zurich",
    "Europe/Vienna",
    "Europe/Stockholm",
    "Europe/Warsaw",
    "Europe/Helsinki",
    "Europe/Athens",
    "Europe/Istanbul",
    "Africa/Johannesburg",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Hong_Kong",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Australia/Perth",
    "Australia/Sydney",
    "Pacific/Auckland",
    "America/Sao_Paulo",
    "America/New_York",
    "America/Toronto",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
];

// ───────────────────────────── Pure helpers (tested below) ─────────────────────────────

/// A day's index (Monday 0) from its name (`mon` or `monday`, any case).
fn day_index(name: &str) -> Option<usize> {
    parse_day(name).map(|d| d.num_days_from_monday() as usize)
}

/// The on-time of each day of the week (Monday first) that `windows` give, as sorted,
/// merged `(start, end)` ranges of minutes of local time. A window past midnight continues
/// on the next day's row (Sunday's on Monday's); `24:00` is the end of the day. A window that
/// cannot be read (yet: it is being typed) is left out.
pub fn week_blocks(windows: &[WindowDoc]) -> [Vec<(u16, u16)>; 7] {
    let mut days: [Vec<(u16, u16)>; 7] = Default::default();
    for w in windows {
        let (Some(start), Some(end)) = (parse_time(&w.start), parse_time(&w.end)) else { continue };
        if start >= MINUTES_PER_DAY || start == end {
            continue;
        }
        let mut indexes: Vec<usize> = w.days.iter().filter_map(|d| day_index(d)).collect();
        indexes.sort_unstable();
        indexes.dedup();
        for d in indexes {
            if end > start {
                days[d].push((start, end));
            } else {
                days[d].push((start, MINUTES_PER_DAY));
                if end > 0 {
                    days[(d + 1) % 7].push((0, end));
                }
            }
        }
    }
    for day in &mut days {
        merge(day);
    }
    days
}

/// Sorts ranges and merges those that overlap or touch.
fn merge(ranges: &mut Vec<(u16, u16)>) {
    ranges.sort_unstable();
    let mut merged: Vec<(u16, u16)> = Vec::with_capacity(ranges.len());
    for &(start, end) in ranges.iter() {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    *ranges = merged;
}

/// `1 task`, `2 tasks`.
fn tasks(n: u32) -> String {
    if n == 1 {
        "1 task".to_owned()
    } else {
        format!("{n} tasks")
    }
}

/// "Override: 2 tasks until Mon 30 Nov 20:00 CET (by ada@example.org)".
pub fn override_text(o: &OverrideView) -> String {
    let by = if o.set_by.is_empty() { String::new() } else { format!(" (by {})", o.set_by) };
    format!("Override: {} until {}{by}", tasks(o.desired), o.until_local)
}

/// The count the schedule runs when on: its own, or the app's desired count.
fn on_count_of(v: &ScheduleView) -> u32 {
    v.schedule.as_ref().and_then(|s| s.on_count).unwrap_or(v.app_desired_count)
}

/// Swaps one day in or out of a window's days, keeping them in week order.
fn toggle_day(days: &[String], day: usize) -> Vec<String> {
    let mut on = [false; 7];
    for i in days.iter().filter_map(|d| day_index(d)) {
        on[i] = true;
    }
    on[day] = !on[day];
    (0..7).filter(|&i| on[i]).map(|i| DAY_NAMES[i].to_owned()).collect()
}

/// Whether the save error's `field` has a place of its own in the editor.
fn shown_in_place(field: &str) -> bool {
    matches!(field, "timezone" | "on_count" | "off_count" | "mode")
        || field.starts_with("windows[")
        || field.starts_with("exceptions[")
}

/// What to say above the editor about a failed save: the errors that have no field of their
/// own, or a pointer to the fields that do.
fn general_message(e: &AppError) -> Option<String> {
    let fields: Vec<(String, String)> = match e {
        AppError::Invalid { field, message } => vec![(field.clone(), message.clone())],
        AppError::InvalidFields(all) => all.clone(),
        other => return Some(error_message(other)),
    };
    let rest: Vec<String> = fields
        .iter()
        .filter(|(f, _)| !shown_in_place(f))
        .map(|(f, m)| format!("{}: {m}", f.replace('_', " ")))
        .collect();
    if rest.is_empty() {
        Some("The schedule was not saved: please correct the fields marked below.".to_owned())
    } else {
        Some(format!("The schedule was not saved. {}", rest.join(" · ")))
    }
}

/// An instant as shown before the page runs in the browser: "Mon 30 Nov 07:00 UTC".
fn utc_label(at: DateTime<Utc>) -> String {
    at.format("%a %-d %b %H:%M UTC").to_string()
}

/// The viewer's own IANA zone, as the browser tells it (`None` on the server).
#[cfg(feature = "hydrate")]
fn browser_zone() -> Option<String> {
    use leptos::web_sys::js_sys::{Array, Intl, Object, Reflect};
    let options = Intl::DateTimeFormat::new(&Array::new(), &Object::new()).resolved_options();
    Reflect::get(&options, &"timeZone".into()).ok()?.as_string().filter(|z| !z.is_empty())
}

#[cfg(not(feature = "hydrate"))]
fn browser_zone() -> Option<String> {
    None
}

/// An instant in the viewer's own zone and locale, e.g. "Mon, Nov 30, 20:00 EST" (UTC on
/// the server).
#[cfg(feature = "hydrate")]
fn browser_time(at: DateTime<Utc>) -> String {
    use leptos::wasm_bindgen::JsValue;
    use leptos::web_sys::js_sys::{Array, Date, Intl, Object, Reflect};
    let date = Date::new(&JsValue::from_f64(at.timestamp_millis() as f64));
    let options = Object::new();
    for (key, value) in [
        ("weekday", "short"),
        ("day", "numeric"),
        ("month", "short"),
        ("hour", "2-digit"),
        ("minute", "2-digit"),
        ("hourCycle", "h23"),
        ("timeZoneName", "short"),
    ] {
        let _ = Reflect::set(&options, &JsValue::from_str(key), &JsValue::from_str(value));
    }
    // No locale given: the viewer's own, which knows the abbreviations of their zone.
    let format = Intl::DateTimeFormat::new(&Array::new(), &options).format();
    format.call1(&JsValue::UNDEFINED, &date).ok().and_then(|s| s.as_string()).unwrap_or_else(|| utc_label(at))
}

#[cfg(not(feature = "hydrate"))]
fn browser_time(at: DateTime<Utc>) -> String {
    utc_label(at)
}

// ───────────────────────────── The app page's card ─────────────────────────────

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
    Effect::new(move |_| {
        if let Some(Ok(_)) = set.value().get() {
            reload();
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = clear.value().get() {
            reload();
        }
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

/// Overrides for admins: three common ones in a click, and any count until any time.
/// Drawn once, so what is typed survives the card's reloads.
#[component]
fn OverrideControls(
    latest: RwSignal<Option<ScheduleView>>,
    action: Action<OverrideRequest, Result<ScheduleView, AppError>>,
) -> impl IntoView {
    let ready = interactive();
    let pending = action.pending();
    let result = action.value();
    let on_count = Signal::derive(move || latest.with(|v| v.as_ref().map(on_count_of)));
    let count = RwSignal::new(String::new());
    let until = RwSignal::new(String::new());
    let count_local = RwSignal::new(None::<String>);
    let count_error = Signal::derive(move || count_local.get().or_else(|| result.with(|r| field_error(r, "desired"))));
    let until_error = Signal::derive(move || result.with(|r| field_error(r, "until")));
    let other_error = Signal::derive(move || result.with(|r| form_error(r, &["desired", "until"])));
    Effect::new(move |_| {
        if let Some(Ok(_)) = result.get() {
            count.set(String::new());
            until.set(String::new());
        }
    });
    let locked = move || !ready.get() || pending.get() || on_count.get().is_none();
    // `desired`: `None` is the schedule's on count.
    let quick = move |label: &'static str, desired: Option<u32>, till: &'static str| {
        view! {
            <button type="button" class="button button-secondary button-small" disabled=locked
                on:click=move |_| {
                    if let Some(on) = on_count.get_untracked() {
                        count_local.set(None);
                        action.dispatch(OverrideRequest { desired: desired.unwrap_or(on), until: till.to_owned() });
                    }
                }>
                {label}
            </button>
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(on) = on_count.get_untracked() else { return };
        let desired = match count.get_untracked().trim() {
            "" => on,
            raw => match raw.parse::<u32>() {
                Ok(n) => n,
                Err(_) => {
                    count_local.set(Some("must be a whole number of tasks".to_owned()));
                    return;
                }
            },
        };
        count_local.set(None);
        action.dispatch(OverrideRequest { desired, until: until.get_untracked().trim().to_owned() });
    };
    view! {
        <div class="override-controls" data-testid="override-controls">
            <h3>"Override"</h3>
            <p class="muted small">
                "Runs a count until a time (in the app's zone), then the schedule resumes."
            </p>
            <FormError message=other_error />
            <div class="action-buttons">
                {quick("On for 2 hours", None, "2h")}
                {quick("Keep on until 20:00", None, "20:00")}
                {quick("Off until Monday 08:00", Some(0), "mon 08:00")}
            </div>
            <form class="inline-form-fields override-form" on:submit=submit>
                <div class="field override-count">
                    <label for="override-count">"Tasks"</label>
                    <input id="override-count" class="input" type="number" min="0" max="100" inputmode="numeric"
                        placeholder=move || on_count.get().map(|n| n.to_string()).unwrap_or_default()
                        prop:value=move || count.get() on:input=move |ev| count.set(event_target_value(&ev))
                        aria-invalid=move || count_error.get().map(|_| "true") aria-describedby="override-count-error" />
                    <FieldError id="override-count-error" message=count_error />
                </div>
                <div class="field field-grow">
                    <label for="override-until">"Until"</label>
                    <input id="override-until" class="input mono" autocomplete="off" required
                        placeholder="2h, 90m, 20:00, fri 18:00 or 2026-12-24T18:00:00Z"
                        prop:value=move || until.get() on:input=move |ev| until.set(event_target_value(&ev))
                        aria-invalid=move || until_error.get().map(|_| "true") aria-describedby="override-until-error" />
                    <FieldError id="override-until-error" message=until_error />
                </div>
                <div class="field field-action">
                    <button type="submit" class="button button-secondary" disabled=locked>
                        {move || if pending.get() { "Setting…" } else { "Set override" }}
                    </button>
                </div>
            </form>
        </div>
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
    view! { <ul class="events" data-testid="schedule-history">{items}</ul> }.into_any()
}

/// One scheduler action in words: "Scaled 2 → 0 · by scheduler".
fn event_text(e: &ScheduleEvent) -> String {
    let what = match e.action.as_str() {
        "scale" => "Scaled",
        "catch_up" => "Caught up after a pause",
        "retry" => "Retried",
        "override" => "Override set",
        "override_ended" => "Override ended",
        "saved" => "Schedule saved",
        "deleted" => "Schedule removed",
        other => other,
    };
    let counts = match (e.from_count, e.to_count) {
        (Some(a), Some(b)) => format!(" {a} → {b}"),
        (None, Some(b)) => format!(": {}", tasks(b)),
        _ => String::new(),
    };
    let detail = e.detail.as_ref().map(|d| format!(" · {d}")).unwrap_or_default();
    format!("{what}{counts}{detail}")
}

// ───────────────────────────── The editor ─────────────────────────────

/// One row of an editable list, with a key that stays while the row is edited.
#[derive(Debug, Clone, PartialEq)]
struct Row<T> {
    id: usize,
    item: T,
}

/// An exception as typed (its times kept while "off all day" is ticked).
#[derive(Debug, Clone, PartialEq, Default)]
struct ExceptionForm {
    date: String,
    off: bool,
    start: String,
    end: String,
}

/// The editor's state: the schedule being edited.
#[derive(Clone, Copy)]
struct Editor {
    timezone: RwSignal<String>,
    windows: RwSignal<Vec<Row<WindowDoc>>>,
    on_count: RwSignal<String>,
    off_count: RwSignal<String>,
    mode: RwSignal<String>,
    enabled: RwSignal<bool>,
    exceptions: RwSignal<Vec<Row<ExceptionForm>>>,
    next_id: StoredValue<usize>,
}

impl Editor {
    fn new(doc: Option<&ScheduleDoc>) -> Self {
        let editor = Self {
            timezone: RwSignal::new(String::new()),
            windows: RwSignal::new(Vec::new()),
            on_count: RwSignal::new(String::new()),
            off_count: RwSignal::new(String::new()),
            mode: RwSignal::new(String::new()),
            enabled: RwSignal::new(true),
            exceptions: RwSignal::new(Vec::new()),
            next_id: StoredValue::new(0),
        };
        editor.fill(doc, "UTC");
        editor
    }

    fn id(&self) -> usize {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        id
    }

    /// Shows `doc`, or a new schedule in `zone` with no window.
    fn fill(&self, doc: Option<&ScheduleDoc>, zone: &str) {
        let doc = doc.cloned().unwrap_or_else(|| ScheduleDoc {
            windows: Vec::new(),
            ..ScheduleDoc::from_preset(Preset::OfficeHours, zone)
        });
        self.timezone.set(doc.timezone.clone());
        self.set_windows(doc.windows);
        self.on_count.set(doc.on_count.map(|n| n.to_string()).unwrap_or_default());
        self.off_count.set(doc.off_count.to_string());
        self.mode.set(doc.mode.clone());
        self.enabled.set(doc.enabled);
        let exceptions = doc
            .exceptions
            .iter()
            .map(|e| Row {
                id: self.id(),
                item: ExceptionForm {
                    date: e.date.clone(),
                    off: e.off,
                    start: e.start.clone().unwrap_or_default(),
                    end: e.end.clone().unwrap_or_default(),
                },
            })
            .collect();
        self.exceptions.set(exceptions);
    }

    fn set_windows(&self, windows: Vec<WindowDoc>) {
        let rows = windows.into_iter().map(|item| Row { id: self.id(), item }).collect();
        self.windows.set(rows);
    }

    /// The windows as typed (tracked: the week grid follows them).
    fn windows_now(&self) -> Vec<WindowDoc> {
        self.windows.with(|ws| ws.iter().map(|w| w.item.clone()).collect())
    }

    fn window<T>(&self, id: usize, f: impl FnOnce(&WindowDoc) -> T) -> Option<T> {
        self.windows.with(|ws| ws.iter().find(|w| w.id == id).map(|w| f(&w.item)))
    }

    fn edit_window(&self, id: usize, f: impl FnOnce(&mut WindowDoc)) {
        self.windows.update(|ws| {
            if let Some(w) = ws.iter_mut().find(|w| w.id == id) {
                f(&mut w.item);
            }
        });
    }

    fn exception<T>(&self, id: usize, f: impl FnOnce(&ExceptionForm) -> T) -> Option<T> {
        self.exceptions.with(|es| es.iter().find(|e| e.id == id).map(|e| f(&e.item)))
    }

    fn edit_exception(&self, id: usize, f: impl FnOnce(&mut ExceptionForm)) {
        self.exceptions.update(|es| {
            if let Some(e) = es.iter_mut().find(|e| e.id == id) {
                f(&mut e.item);
            }
        });
    }

    /// The document to save; counts that are not numbers are refused here (the server checks
    /// everything else).
    fn doc(&self) -> Result<ScheduleDoc, AppError> {
        let mut errors = Vec::new();
        let on_count = match self.on_count.get_untracked().trim() {
            "" => None,
            raw => raw.parse::<u32>().map(Some).unwrap_or_else(|_| {
                errors.push(("on_count".to_owned(), "must be a whole number of tasks".to_owned()));
                None
            }),
        };
        let off_count = match self.off_count.get_untracked().trim() {
            "" => 0,
            raw => raw.parse::<u32>().unwrap_or_else(|_| {
                errors.push(("off_count".to_owned(), "must be a whole number of tasks".to_owned()));
                0
            }),
        };
        if !errors.is_empty() {
            return Err(AppError::InvalidFields(errors));
        }
        let windows = self
            .windows
            .get_untracked()
            .into_iter()
            .map(|w| WindowDoc {
                days: w.item.days,
                start: w.item.start.trim().to_owned(),
                end: w.item.end.trim().to_owned(),
            })
            .collect();
        let exceptions = self
            .exceptions
            .get_untracked()
            .into_iter()
            .map(|e| {
                let e = e.item;
                let time = |t: String| (!e.off).then(|| t.trim().to_owned());
                domain::schedule::ExceptionDoc {
                    date: e.date.trim().to_owned(),
                    off: e.off,
                    start: time(e.start.clone()),
                    end: time(e.end.clone()),
                }
            })
            .collect();
        Ok(ScheduleDoc {
            timezone: self.timezone.get_untracked().trim().to_owned(),
            windows,
            on_count,
            off_count,
            exceptions,
            mode: self.mode.get_untracked(),
            enabled: self.enabled.get_untracked(),
        })
    }
}

/// The message for `field` in `errors`, if any.
fn message_of(errors: RwSignal<Option<AppError>>, field: &str) -> Option<String> {
    errors.with(|e| e.as_ref().and_then(|e| e.field_message(field)).map(str::to_owned))
}

/// A field error under a field of a list row.
#[component]
fn RowError(id: String, message: Signal<Option<String>>) -> impl IntoView {
    move || message.get().map(|m| view! { <p class="field-error" id=id.clone()>{m}</p> })
}

/// The week grid and the editor. Drawn once from the first answer; saving keeps what is on
/// screen, removing the schedule empties it. Viewers see the same, read-only.
#[component]
fn ScheduleEditor(initial: ScheduleView, admin: bool, slug: StoredValue<String>, tick: RwSignal<u32>) -> impl IntoView {
    let ready = interactive();
    let editor = Editor::new(initial.schedule.as_ref());
    let saved = RwSignal::new(initial.schedule.is_some());
    let app_count = initial.app_desired_count;
    // Nothing saved yet: a new schedule starts in the viewer's own zone.
    Effect::new(move |_| {
        if !saved.get_untracked() && editor.timezone.get_untracked() == "UTC" {
            if let Some(zone) = browser_zone() {
                editor.timezone.set(zone);
            }
        }
    });
    let errors = RwSignal::new(None::<AppError>);
    let notice = RwSignal::new(None::<&'static str>);
    let confirming = RwSignal::new(false);
    let save = Action::new(move |doc: &ScheduleDoc| {
        let (slug, doc) = (slug.get_value(), doc.clone());
        async move { save_schedule(slug, doc).await }
    });
    let remove = Action::new(move |_: &()| {
        let slug = slug.get_value();
        async move { delete_schedule(slug).await }
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(_)) => {
            errors.set(None);
            saved.set(true);
            notice.set(Some("Schedule saved."));
            tick.update(|n| *n += 1);
        }
        Some(Err(e)) => {
            notice.set(None);
            errors.set(Some(e));
        }
        None => {}
    });
    Effect::new(move |_| match remove.value().get() {
        Some(Ok(())) => {
            errors.set(None);
            saved.set(false);
            confirming.set(false);
            editor.fill(None, &browser_zone().unwrap_or_else(|| "UTC".to_owned()));
            notice.set(Some("Schedule removed: the service keeps the count it runs now."));
            tick.update(|n| *n += 1);
        }
        Some(Err(e)) => {
            confirming.set(false);
            notice.set(None);
            errors.set(Some(e));
        }
        None => {}
    });
    let saving = save.pending();
    let removing = remove.pending();
    let locked = move || !admin || !ready.get();
    let busy = move || locked() || saving.get() || removing.get();
    let general = Signal::derive(move || errors.with(|e| e.as_ref().and_then(general_message)));
    let err = move |field: &'static str| Signal::derive(move || message_of(errors, field));
    let invalid = move |field: &'static str| move || message_of(errors, field).map(|_| "true");
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        notice.set(None);
        match editor.doc() {
            Ok(doc) => {
                errors.set(None);
                save.dispatch(doc);
            }
            Err(e) => errors.set(Some(e)),
        }
    };
    let grid = Signal::derive(move || editor.windows_now());

    let presets = admin.then(|| {
        let buttons = Preset::ALL
            .into_iter()
            .map(|p| {
                let short = p.label().split(" (").next().unwrap_or(p.label());
                view! {
                    <button type="button" class="button button-secondary button-small" title=p.label()
                        data-preset=p.key() disabled=locked on:click=move |_| editor.set_windows(p.windows())>
                        {short}
                    </button>
                }
            })
            .collect_view();
        view! {
            <div class="preset-row" role="group" aria-label="Presets">
                <span class="muted small">"Start from:"</span>
                {buttons}
            </div>
        }
    });

    let window_rows = move || editor.windows.get();
    let window_row = move |row: Row<WindowDoc>| {
        let id = row.id;
        let index = move || editor.windows.with(|ws| ws.iter().position(|w| w.id == id));
        let row_error = move |name: &'static str| {
            Signal::derive(move || index().and_then(|i| message_of(errors, &format!("windows[{i}].{name}"))))
        };
        let (days_error, start_error, end_error) = (row_error("days"), row_error("start"), row_error("end"));
        let toggles = (0..7)
            .map(|d| {
                let pressed =
                    move || editor.window(id, |w| w.days.iter().any(|n| day_index(n) == Some(d))).unwrap_or(false);
                view! {
                    <button type="button" class="day-toggle" aria-pressed=move || pressed().to_string()
                        title=DAY_NAMES[d] disabled=locked
                        on:click=move |_| editor.edit_window(id, |w| w.days = toggle_day(&w.days, d))>
                        {DAY_LABELS[d]}
                    </button>
                }
            })
            .collect_view();
        let label = move || format!("Window {}", index().map_or(0, |i| i + 1));
        view! {
            <li class="window-row" data-window=id>
                <div class="day-toggles" role="group" aria-label=move || format!("{} days", label())>{toggles}</div>
                <label class="time-field">
                    <span>"From"</span>
                    <input class="input input-small mono time-input" autocomplete="off" placeholder="08:00"
                        aria-label=move || format!("{} start", label())
                        value=row.item.start.clone() prop:value=move || editor.window(id, |w| w.start.clone()).unwrap_or_default()
                        on:input=move |ev| { let v = event_target_value(&ev); editor.edit_window(id, |w| w.start = v) }
                        disabled=locked aria-invalid=move || start_error.get().map(|_| "true") />
                </label>
                <label class="time-field">
                    <span>"to"</span>
                    <input class="input input-small mono time-input" autocomplete="off" placeholder="18:00"
                        aria-label=move || format!("{} end", label())
                        value=row.item.end.clone() prop:value=move || editor.window(id, |w| w.end.clone()).unwrap_or_default()
                        on:input=move |ev| { let v = event_target_value(&ev); editor.edit_window(id, |w| w.end = v) }
                        disabled=locked aria-invalid=move || end_error.get().map(|_| "true") />
                </label>
                {admin.then(|| view! {
                    <button type="button" class="button button-danger-quiet button-small" disabled=locked
                        aria-label=move || format!("Remove {}", label().to_lowercase())
                        on:click=move |_| editor.windows.update(|ws| ws.retain(|w| w.id != id))>
                        "Remove"
                    </button>
                })}
                <div class="row-errors">
                    <RowError id=format!("window-{id}-days-error") message=days_error />
                    <RowError id=format!("window-{id}-start-error") message=start_error />
                    <RowError id=format!("window-{id}-end-error") message=end_error />
                </div>
            </li>
        }
        .into_any()
    };
    let add_window = move |_| {
        let id = editor.id();
        let item = WindowDoc { days: Vec::new(), start: "09:00".to_owned(), end: "17:00".to_owned() };
        editor.windows.update(|ws| ws.push(Row { id, item }));
    };

    let exception_rows = move || editor.exceptions.get();
    let exception_row = move |row: Row<ExceptionForm>| {
        let id = row.id;
        let index = move || editor.exceptions.with(|es| es.iter().position(|e| e.id == id));
        let row_error = move |name: &'static str| {
            Signal::derive(move || index().and_then(|i| message_of(errors, &format!("exceptions[{i}].{name}"))))
        };
        let (date_error, start_error, end_error) = (row_error("date"), row_error("start"), row_error("end"));
        let off = move || editor.exception(id, |e| e.off).unwrap_or(false);
        let label = move || format!("Exception {}", index().map_or(0, |i| i + 1));
        view! {
            <li class="exception-row" data-exception=id>
                <input type="date" class="input input-small" aria-label=move || format!("{} date", label())
                    value=row.item.date.clone() prop:value=move || editor.exception(id, |e| e.date.clone()).unwrap_or_default()
                    on:input=move |ev| { let v = event_target_value(&ev); editor.edit_exception(id, |e| e.date = v) }
                    disabled=locked aria-invalid=move || date_error.get().map(|_| "true") />
                <label class="check">
                    <input type="checkbox" checked=row.item.off prop:checked=off disabled=locked
                        on:change=move |ev| { let v = event_target_checked(&ev); editor.edit_exception(id, |e| e.off = v) } />
                    " Off all day"
                </label>
                <span class="exception-times" class:hidden=off>
                    <input class="input input-small mono time-input" autocomplete="off" placeholder="10:00"
                        aria-label=move || format!("{} start", label())
                        value=row.item.start.clone() prop:value=move || editor.exception(id, |e| e.start.clone()).unwrap_or_default()
                        on:input=move |ev| { let v = event_target_value(&ev); editor.edit_exception(id, |e| e.start = v) }
                        disabled=locked aria-invalid=move || start_error.get().map(|_| "true") />
                    "–"
                    <input class="input input-small mono time-input" autocomplete="off" placeholder="14:00"
                        aria-label=move || format!("{} end", label())
                        value=row.item.end.clone() prop:value=move || editor.exception(id, |e| e.end.clone()).unwrap_or_default()
                        on:input=move |ev| { let v = event_target_value(&ev); editor.edit_exception(id, |e| e.end = v) }
                        disabled=locked aria-invalid=move || end_error.get().map(|_| "true") />
                </span>
                {admin.then(|| view! {
                    <button type="button" class="button button-danger-quiet button-small" disabled=locked
                        aria-label=move || format!("Remove {}", label().to_lowercase())
                        on:click=move |_| editor.exceptions.update(|es| es.retain(|e| e.id != id))>
                        "Remove"
                    </button>
                })}
                <div class="row-errors">
                    <RowError id=format!("exception-{id}-date-error") message=date_error />
                    <RowError id=format!("exception-{id}-start-error") message=start_error />
                    <RowError id=format!("exception-{id}-end-error") message=end_error />
                </div>
            </li>
        }
        .into_any()
    };
    let add_exception = move |_| {
        let id = editor.id();
        let item = ExceptionForm { off: true, ..ExceptionForm::default() };
        editor.exceptions.update(|es| es.push(Row { id, item }));
    };

    let zones = ZONES.iter().map(|z| view! { <option value=*z></option> }).collect_view();
    let initial_zone = editor.timezone.get_untracked();
    let initial_on = editor.on_count.get_untracked();
    let initial_off = editor.off_count.get_untracked();
    let initial_mode = editor.mode.get_untracked();
    let initial_enabled = editor.enabled.get_untracked();
    let mode_option = move |value: &'static str, text: &'static str| {
        view! { <option value=value selected=initial_mode == value>{text}</option> }
    };

    let actions = admin.then(|| {
        view! {
            <div class="form-actions schedule-actions">
                {move || saved.get().then(|| if confirming.get() {
                    view! {
                        <span class="confirm-remove">
                            <span class="small">"Remove this schedule? The service keeps the count it runs now."</span>
                            <button type="button" class="button button-danger button-small" disabled=busy
                                on:click=move |_| { remove.dispatch(()); }>
                                {move || if removing.get() { "Removing…" } else { "Yes, remove" }}
                            </button>
                            <button type="button" class="button button-secondary button-small" on:click=move |_| confirming.set(false)>
                                "Cancel"
                            </button>
                        </span>
                    }.into_any()
                } else {
                    view! {
                        <button type="button" class="button button-danger-quiet" disabled=busy
                            on:click=move |_| confirming.set(true)>
                            "Remove schedule"
                        </button>
                    }.into_any()
                })}
                <button type="submit" class="button" disabled=busy>
                    {move || if saving.get() { "Saving…" } else { "Save schedule" }}
                </button>
            </div>
        }
        .into_any()
    });

    // Each part is erased to `AnyView`: one view type for the whole form is too deep to lay out.
    let windows_section = view! {
        <fieldset class="form-section">
            <legend>"Windows"</legend>
            <ul class="window-list" data-testid="schedule-windows">
                <For each=window_rows key=|w| w.id children=window_row />
            </ul>
            {move || editor.windows.with(Vec::is_empty).then(|| view! {
                <p class="muted small">"No window: the app is never on. Pick a preset or add a window."</p>
            })}
            {admin.then(|| view! {
                <div>
                    <button type="button" class="button button-secondary button-small" on:click=add_window
                        disabled=move || locked() || editor.windows.with(|ws| ws.len() >= MAX_WINDOWS)>
                        "Add window"
                    </button>
                </div>
            })}
            <p class="hint">"HH:MM, local time. An end at or before the start runs past midnight; 24:00 ends the day."</p>
        </fieldset>
    }
    .into_any();
    let settings_section = view! {
        <fieldset class="form-section">
            <legend>"Settings"</legend>
            <div class="form-grid">
                <div class="field">
                    <label for="schedule-timezone">"Time zone"</label>
                    <input id="schedule-timezone" class="input mono" list="schedule-zones" autocomplete="off" spellcheck="false"
                        value=initial_zone prop:value=move || editor.timezone.get()
                        on:input=move |ev| editor.timezone.set(event_target_value(&ev))
                        disabled=locked aria-invalid=invalid("timezone") aria-describedby="schedule-timezone-error" />
                    <datalist id="schedule-zones">{zones}</datalist>
                    <FieldError id="schedule-timezone-error" message=err("timezone") />
                </div>
                <div class="field">
                    <label for="schedule-mode">"Mode"</label>
                    <select id="schedule-mode" class="input" disabled=locked
                        prop:value=move || editor.mode.get()
                        on:change=move |ev| editor.mode.set(event_target_value(&ev))
                        aria-invalid=invalid("mode") aria-describedby="schedule-mode-hint schedule-mode-error">
                        {mode_option("enforced", "Enforced")}
                        {mode_option("transitions", "Transitions only")}
                    </select>
                    <ul class="hint mode-hints" id="schedule-mode-hint">
                        <li><strong>"Enforced: "</strong>"the count is applied whenever the service drifts from it; a change by hand is undone."</li>
                        <li><strong>"Transitions only: "</strong>"the count is applied at each change; a change by hand stands until the next one."</li>
                    </ul>
                    <FieldError id="schedule-mode-error" message=err("mode") />
                </div>
                <div class="field">
                    <label for="schedule-on">"Tasks when on"</label>
                    <input id="schedule-on" class="input" type="number" min="1" max="100" inputmode="numeric"
                        placeholder=app_count.to_string()
                        value=initial_on prop:value=move || editor.on_count.get()
                        on:input=move |ev| editor.on_count.set(event_target_value(&ev))
                        disabled=locked aria-invalid=invalid("on_count") aria-describedby="schedule-on-hint schedule-on-error" />
                    <p class="hint" id="schedule-on-hint">{format!("Empty: the app's desired count ({app_count}).")}</p>
                    <FieldError id="schedule-on-error" message=err("on_count") />
                </div>
                <div class="field">
                    <label for="schedule-off">"Tasks when off"</label>
                    <input id="schedule-off" class="input" type="number" min="0" max="100" inputmode="numeric" placeholder="0"
                        value=initial_off prop:value=move || editor.off_count.get()
                        on:input=move |ev| editor.off_count.set(event_target_value(&ev))
                        disabled=locked aria-invalid=invalid("off_count") aria-describedby="schedule-off-error" />
                    <FieldError id="schedule-off-error" message=err("off_count") />
                </div>
            </div>
            <label class="check">
                <input type="checkbox" checked=initial_enabled prop:checked=move || editor.enabled.get() disabled=locked
                    on:change=move |ev| editor.enabled.set(event_target_checked(&ev)) />
                " Enabled "
                <span class="muted small">"(a disabled schedule is kept but changes nothing)"</span>
            </label>
        </fieldset>
    }
    .into_any();
    let exceptions_section = view! {
        <fieldset class="form-section">
            <legend>"Exceptions"</legend>
            <p class="hint">"Holidays and special days, each owning its whole local date: off all day, or on only from a start to an end."</p>
            <ul class="exception-list" data-testid="schedule-exceptions">
                <For each=exception_rows key=|e| e.id children=exception_row />
            </ul>
            {admin.then(|| view! {
                <div>
                    <button type="button" class="button button-secondary button-small" on:click=add_exception
                        disabled=move || locked() || editor.exceptions.with(|es| es.len() >= MAX_EXCEPTIONS)>
                        "Add exception"
                    </button>
                </div>
            })}
        </fieldset>
    }
    .into_any();

    view! {
        <WeekGrid windows=grid />
        {presets}
        <form class="schedule-editor" on:submit=on_submit novalidate>
            <FormError message=general />
            {move || notice.get().map(|n| view! { <div class="notice notice-ok" role="status">{n}</div> })}
            {windows_section}
            {settings_section}
            {exceptions_section}
            {actions}
            {(!admin).then(|| view! { <p class="muted small">"Only admins can change the schedule."</p> })}
        </form>
    }
    .into_any()
}

/// Seven rows (Monday first) of 24 hours, the on-time drawn as blocks.
#[component]
fn WeekGrid(windows: Signal<Vec<WindowDoc>>) -> impl IntoView {
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

// ───────────────────────────── The Schedules page ─────────────────────────────

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

#[cfg(test)]
mod tests {
    use super::*;

    fn window(days: &[&str], start: &str, end: &str) -> WindowDoc {
        WindowDoc { days: days.iter().map(|d| (*d).to_owned()).collect(), start: start.into(), end: end.into() }
    }

    #[test]
    fn office_hours_are_one_block_on_each_weekday() {
        let blocks = week_blocks(&Preset::OfficeHours.windows());
        for (d, day) in blocks.iter().enumerate() {
            if d < 5 {
                assert_eq!(day, &vec![(480, 1080)], "day {d}");
            } else {
                assert!(day.is_empty(), "day {d}");
            }
        }
        let always = week_blocks(&Preset::AlwaysOn.windows());
        assert!(always.iter().all(|d| d == &vec![(0, 1440)]));
    }

    #[test]
    fn windows_past_midnight_continue_on_the_next_row_and_sunday_wraps_to_monday() {
        let blocks = week_blocks(&[window(&["fri", "sun"], "22:00", "02:00")]);
        assert_eq!(blocks[4], vec![(1320, 1440)]);
        assert_eq!(blocks[5], vec![(0, 120)]);
        assert_eq!(blocks[6], vec![(1320, 1440)]);
        assert_eq!(blocks[0], vec![(0, 120)]);
        // Ending at midnight exactly spills nothing into the next day.
        let blocks = week_blocks(&[window(&["mon"], "20:00", "00:00")]);
        assert_eq!((blocks[0].clone(), blocks[1].clone()), (vec![(1200, 1440)], vec![]));
    }

    #[test]
    fn touching_and_overlapping_windows_merge_and_unreadable_ones_are_left_out() {
        let blocks = week_blocks(&[
            window(&["mon"], "08:00", "12:00"),
            window(&["monday", "Mon"], "12:00", "18:00"),
            window(&["mon"], "17:00", "19:00"),
            window(&["mon"], "21:00", "22:00"),
            window(&["tue"], "8:0", "18:00"),
            window(&["tue"], "24:00", "02:00"),
            window(&["tue"], "10:00", "10:00"),
            window(&["funday"], "10:00", "11:00"),
        ]);
        assert_eq!(blocks[0], vec![(480, 1140), (1260, 1320)]);
        assert!(blocks[1].is_empty() && blocks[2].is_empty());
    }

    #[test]
    fn summaries_read_like_the_servers() {
        let doc = ScheduleDoc::from_preset(Preset::OfficeHours, "Europe/Berlin");
        assert_eq!(doc.summary(), "Mon–Fri 08:00–18:00 · Europe/Berlin");
        assert_eq!(domain::schedule::days_label(&["sat".into(), "sun".into()]), "Sat, Sun");
        let all: Vec<String> = DAY_NAMES.iter().map(|d| d.to_string()).collect();
        assert_eq!(domain::schedule::days_label(&all), "Mon–Sun");
        assert_eq!(domain::schedule::days_label(&[]), "no day");
        let mut empty = ScheduleDoc::from_preset(Preset::OfficeHours, "UTC");
        empty.windows.clear();
        empty.exceptions.push(domain::schedule::ExceptionDoc {
            date: "2026-12-24".into(),
            off: true,
            start: None,
            end: None,
        });
        assert_eq!(empty.summary(), "never on · UTC · 1 exception");
    }

    #[test]
    fn day_toggles_keep_week_order() {
        let days = toggle_day(&["fri".into(), "Monday".into()], 2);
        assert_eq!(days, vec!["mon", "wed", "fri"]);
        assert_eq!(toggle_day(&days, 0), vec!["wed", "fri"]);
    }

    #[test]
    fn overrides_and_events_read_naturally() {
        let until = DateTime::parse_from_rfc3339("2026-11-30T19:00:00Z").unwrap().with_timezone(&Utc);
        let o = OverrideView {
            desired: 2,
            until,
            until_local: "Mon 30 Nov 20:00 CET".into(),
            set_by: "ada@example.org".into(),
        };
        assert_eq!(override_text(&o), "Override: 2 tasks until Mon 30 Nov 20:00 CET (by ada@example.org)");
        let one = OverrideView { desired: 1, set_by: String::new(), ..o };
        assert_eq!(override_text(&one), "Override: 1 task until Mon 30 Nov 20:00 CET");
        let e = ScheduleEvent {
            at: until,
            action: "scale".into(),
            from_count: Some(2),
            to_count: Some(0),
            outcome: "ok".into(),
            detail: None,
        };
        assert_eq!(event_text(&e), "Scaled 2 → 0");
        assert_eq!(utc_label(until), "Mon 30 Nov 19:00 UTC");
    }

    #[test]
    fn save_errors_go_next_to_their_field_and_the_rest_above_the_form() {
        let placed = AppError::InvalidFields(vec![
            ("windows[0].start".into(), "bad".into()),
            ("timezone".into(), "unknown".into()),
        ]);
        assert_eq!(
            general_message(&placed).unwrap(),
            "The schedule was not saved: please correct the fields marked below."
        );
        let unplaced = AppError::InvalidFields(vec![("windows".into(), "at most 28 windows (four a day)".into())]);
        assert!(general_message(&unplaced).unwrap().contains("windows: at most 28 windows"));
        assert_eq!(general_message(&AppError::Forbidden).unwrap(), "Your role does not allow this.");
    }
}
