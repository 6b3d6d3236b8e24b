//! Schedules: the schedule card of an app's page (its state, a week grid, the editor,
//! temporary overrides, the next changes, the month's saving and the scheduler's recent
//! actions) and the Schedules page (every app at a glance).
//!
//! The time-zone engine lives on the server only: the next transitions come from it,
//! already labelled in the app's zone. The week grid is drawn here from the windows being
//! edited (local times of the schedule's zone), so it follows every keystroke before saving.
//!
//! This module holds what the parts share (the days' labels, the pure helpers, tested
//! below) and re-exports the two pages' entry points. The parts:
//! - `card`: the app page's card (`ScheduleCard`): state, next changes, recent actions;
//! - `editor`: the schedule editor (windows, exceptions, presets, settings, with the
//!   `TimeInput` of their HH:MM fields) and the override form;
//! - `week_grid`: the week drawn from the windows being edited;
//! - `list`: the Schedules page (`SchedulesPage`).

mod card;
mod editor;
mod list;
mod week_grid;

pub use card::ScheduleCard;
pub use list::SchedulesPage;

use crate::error::AppError;
use crate::model::{OverrideView, ScheduleEvent, ScheduleView};
use crate::pages::error_message;
use chrono::{DateTime, Utc};
use domain::schedule::{day_index, DAY_NAMES};

/// The days' short names as the pages show them, Monday first.
const DAY_LABELS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

// ───────────────────────────── Pure helpers (tested below) ─────────────────────────────

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

#[cfg(test)]
mod tests {
    use super::*;
    use domain::schedule::{Preset, ScheduleDoc};

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
