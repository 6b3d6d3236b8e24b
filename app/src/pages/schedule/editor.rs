//! The schedule editor: presets, windows (days and HH:MM times), settings (zone, mode,
//! counts, enabled) and exceptions, above the week grid that follows them; and the override
//! form (quick overrides and any count until any time). Both are drawn once, so what is
//! typed survives the card's reloads. `TimeInput` is the HH:MM field of windows and
//! exceptions.

use super::week_grid::WeekGrid;
use super::{browser_zone, general_message, on_count_of, toggle_day, DAY_LABELS};
use crate::api::schedules::{delete_schedule, save_schedule};
use crate::error::AppError;
use crate::model::{OverrideRequest, ScheduleView};
use crate::pages::{
    field_error, focus_errors_of, focus_first_error, focus_selector, form_error, interactive, FieldError, FormError,
};
use domain::schedule::{day_index, Preset, ScheduleDoc, WindowDoc, DAY_NAMES, MAX_EXCEPTIONS, MAX_WINDOWS};
use leptos::prelude::*;

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

/// An HH:MM field of a window or an exception: a local time of the schedule's zone, as
/// typed (the server checks it on save; its error about the field marks it invalid).
#[component]
fn TimeInput(
    /// The field's accessible name: "Window 1 start".
    #[prop(into)]
    label: Signal<String>,
    /// The example shown while the field is empty: "08:00".
    placeholder: &'static str,
    /// The value the field is drawn with (the server's HTML).
    initial: String,
    /// The value as edited.
    #[prop(into)]
    value: Signal<String>,
    /// Called with the field's text at each keystroke.
    on_input: impl Fn(String) + 'static,
    /// Read-only: a viewer, or a page not yet running in the browser.
    #[prop(into)]
    disabled: Signal<bool>,
    /// The save's error about this field, if any.
    error: Signal<Option<String>>,
) -> impl IntoView {
    view! {
        <input class="input input-small mono time-input" autocomplete="off" placeholder=placeholder
            aria-label=label value=initial prop:value=value
            on:input=move |ev| on_input(event_target_value(&ev))
            disabled=disabled aria-invalid=move || error.get().map(|_| "true") />
    }
}

/// The week grid and the editor. Drawn once from the first answer; saving keeps what is on
/// screen, removing the schedule empties it. Viewers see the same, read-only.
#[component]
pub(super) fn ScheduleEditor(
    initial: ScheduleView,
    admin: bool,
    slug: StoredValue<String>,
    tick: RwSignal<u32>,
) -> impl IntoView {
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
            focus_selector("#schedule-notice".to_owned());
            tick.update(|n| *n += 1);
        }
        Some(Err(e)) => {
            notice.set(None);
            errors.set(Some(e));
            focus_first_error("schedule-editor");
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
            focus_selector("#schedule-notice".to_owned());
            tick.update(|n| *n += 1);
        }
        Some(Err(e)) => {
            confirming.set(false);
            notice.set(None);
            errors.set(Some(e));
            focus_first_error("schedule-editor");
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
            Err(e) => {
                errors.set(Some(e));
                focus_first_error("schedule-editor");
            }
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
                    <TimeInput label=move || format!("{} start", label()) placeholder="08:00"
                        initial=row.item.start.clone() value=move || editor.window(id, |w| w.start.clone()).unwrap_or_default()
                        on_input=move |v| editor.edit_window(id, |w| w.start = v)
                        disabled=locked error=start_error />
                </label>
                <label class="time-field">
                    <span>"to"</span>
                    <TimeInput label=move || format!("{} end", label()) placeholder="18:00"
                        initial=row.item.end.clone() value=move || editor.window(id, |w| w.end.clone()).unwrap_or_default()
                        on_input=move |v| editor.edit_window(id, |w| w.end = v)
                        disabled=locked error=end_error />
                </label>
                {admin.then(|| view! {
                    <button type="button" class="button button-danger-quiet button-small" disabled=locked
                        aria-label=move || format!("Remove {}", label().to_lowercase())
                        on:click=move |_| {
                            editor.windows.update(|ws| ws.retain(|w| w.id != id));
                            focus_selector("#schedule-add-window".to_owned());
                        }>
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
        // The keyboard goes on in the new row.
        focus_selector(format!("[data-window='{id}'] .day-toggle"));
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
                    <TimeInput label=move || format!("{} start", label()) placeholder="10:00"
                        initial=row.item.start.clone() value=move || editor.exception(id, |e| e.start.clone()).unwrap_or_default()
                        on_input=move |v| editor.edit_exception(id, |e| e.start = v)
                        disabled=locked error=start_error />
                    "–"
                    <TimeInput label=move || format!("{} end", label()) placeholder="14:00"
                        initial=row.item.end.clone() value=move || editor.exception(id, |e| e.end.clone()).unwrap_or_default()
                        on_input=move |v| editor.edit_exception(id, |e| e.end = v)
                        disabled=locked error=end_error />
                </span>
                {admin.then(|| view! {
                    <button type="button" class="button button-danger-quiet button-small" disabled=locked
                        aria-label=move || format!("Remove {}", label().to_lowercase())
                        on:click=move |_| {
                            editor.exceptions.update(|es| es.retain(|e| e.id != id));
                            focus_selector("#schedule-add-exception".to_owned());
                        }>
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
        focus_selector(format!("[data-exception='{id}'] input"));
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

    // Removing asks in a modal dialog: it keeps the focus until answered (Escape cancels) and
    // gives it back to the button that opened it, or to the notice once removed.
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    Effect::new(move |_| {
        let want = confirming.get();
        if let Some(d) = dialog.get() {
            if want && !d.open() {
                let _ = d.show_modal();
            } else if !want && d.open() {
                d.close();
            }
        }
    });
    let on_close = move |_| {
        confirming.set(false);
        if saved.get_untracked() {
            focus_selector("#schedule-remove".to_owned());
        }
    };
    let actions = admin.then(|| {
        view! {
            <div class="form-actions schedule-actions">
                {move || saved.get().then(|| view! {
                    <button type="button" id="schedule-remove" class="button button-danger-quiet" disabled=busy
                        aria-haspopup="dialog" on:click=move |_| confirming.set(true)>
                        "Remove schedule"
                    </button>
                })}
                <dialog class="confirm-dialog" node_ref=dialog aria-labelledby="remove-schedule-heading"
                    aria-describedby="remove-schedule-text" on:close=on_close>
                    <h2 id="remove-schedule-heading">"Remove this schedule?"</h2>
                    <p id="remove-schedule-text">"The service keeps the count it runs now."</p>
                    <div class="action-buttons">
                        <button type="button" class="button button-secondary" autofocus on:click=move |_| confirming.set(false)>
                            "Cancel"
                        </button>
                        <button type="button" class="button button-danger" disabled=busy
                            on:click=move |_| { remove.dispatch(()); }>
                            {move || if removing.get() { "Removing…" } else { "Yes, remove" }}
                        </button>
                    </div>
                </dialog>
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
                    <button type="button" id="schedule-add-window" class="button button-secondary button-small" on:click=add_window
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
                    <button type="button" id="schedule-add-exception" class="button button-secondary button-small" on:click=add_exception
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
        <form class="schedule-editor" id="schedule-editor" on:submit=on_submit novalidate>
            <FormError message=general />
            <div role="status" aria-live="polite">
                {move || notice.get().map(|n| view! { <div class="notice notice-ok" id="schedule-notice" tabindex="-1">{n}</div> })}
            </div>
            {windows_section}
            {settings_section}
            {exceptions_section}
            {actions}
            {(!admin).then(|| view! { <p class="muted small">"Only admins can change the schedule."</p> })}
        </form>
    }
    .into_any()
}

/// Overrides for admins: three common ones in a click, and any count until any time.
/// Drawn once, so what is typed survives the card's reloads.
#[component]
pub(super) fn OverrideControls(
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
    focus_errors_of(action, "override-controls");
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
            // Not disabled while the override is on its way (a disabled button drops the
            // keyboard's focus): marked busy, and a second press waits for the first.
            <button type="button" class="button button-secondary button-small"
                disabled=move || !ready.get() || on_count.get().is_none()
                aria-disabled=move || pending.get().then_some("true")
                on:click=move |_| {
                    if pending.get_untracked() {
                        return;
                    }
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
                    focus_first_error("override-controls");
                    return;
                }
            },
        };
        count_local.set(None);
        action.dispatch(OverrideRequest { desired, until: until.get_untracked().trim().to_owned() });
    };
    view! {
        <div class="override-controls" id="override-controls" data-testid="override-controls">
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
