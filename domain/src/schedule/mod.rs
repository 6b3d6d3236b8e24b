//! Schedules: "office hours" for Fargate services. A schedule says, in the local time of one
//! IANA time zone, on which days and hours an app runs `on_count` tasks; outside them it runs
//! `off_count` (usually 0), so an app nobody uses at night costs nothing at night.
//!
//! [`ScheduleDoc`] is the JSON shape the HTTP API and the pages exchange; it is compiled
//! everywhere, the browser included. With the `engine` feature (the server: it carries the
//! time-zone database) `Schedule::parse` validates a document, reporting every bad field at
//! once, and the engine answers the two questions the console asks of every app, every
//! minute: how many tasks should run now (`Schedule::desired_at`, `Plan::desired_at`), and
//! when does that change next (`Schedule::transitions`, `Plan::next_transition`). The
//! cost engine asks a third: how many tasks over a month (`Schedule::on_intervals`).
//!
//! # Rules
//!
//! - **Windows** are weekly: days (`mon`…`sun`), a start and an end (`H:MM` or `HH:MM`; `24:00`
//!   only as an end, meaning the end of the day). An end at or before the start runs past
//!   midnight into the next day: `fri 22:00–02:00` ends on Saturday at 02:00. A start equal
//!   to the end is refused (write `00:00–24:00` for a whole day).
//! - **Merging.** Overlapping or touching windows (`08:00–12:00` and `12:00–18:00`, or a window
//!   to `24:00` followed by one from `00:00`) merge. A *transition* is an instant where the
//!   desired count changes, strictly after the instant asked about: never on → on. A
//!   schedule whose on and off counts are equal, one that is never on, and one that is always
//!   on have no transitions.
//! - **Exceptions** belong to one local date and own that whole day, 00:00–24:00. An *off*
//!   exception keeps the app off all day, cutting at 00:00 a window of the day before that
//!   would have spilled past midnight (and a window of the off day does not spill into the
//!   next one). A *window* exception replaces the day's windows by its own, which stays
//!   within the day (start before end). Holidays and "open late on the 24th" are exceptions.
//! - **Daylight saving.** A local time that does not exist that day (the spring-forward
//!   gap, such as 02:30 in Berlin on 29 March 2026) means the first instant after the gap
//!   (03:00 local, 01:00 UTC). A local time that occurs twice (fall-back) means its first
//!   occurrence (02:30 in Berlin on 25 October 2026 is 00:30 UTC); so a window ending in the
//!   repeated hour ends the first time round. A window that becomes empty once mapped (say
//!   02:00–02:45 on the spring-forward day) simply does not happen that day: it produces no
//!   transition.
//! - **Overrides** (`Override`) win until their `until`: "keep it on until 20:00", "off
//!   until Monday 08:00", "on for two hours". Then the schedule resumes; with no enabled
//!   schedule, the override's `restore` count applies from `until` on, as one last
//!   transition (see `Plan`).
//! - **Mode** does not change the counts the engine computes; it tells the reconciler what to
//!   do with them. `enforced`: the desired count is applied whenever the service drifts from
//!   it, so a hand-made change is undone. `transitions`: the count is applied only at
//!   transitions, and a hand-made change stands until the next one.
//! - **Limits.** At most [`MAX_WINDOWS`] windows (four a day) and [`MAX_EXCEPTIONS`]
//!   exceptions (a year of days); counts at most [`MAX_COUNT`], like an app's desired count: a
//!   console like this runs small Fargate services. `on_count` is at least 1 (a schedule that
//!   is never on is an off exception or a stopped app, not a schedule); `off_count` may be
//!   anything up to the limit, even equal to `on_count` (the schedule then holds a constant
//!   count, with no transitions), which keeps a schedule valid when the app's own desired
//!   count, its default `on_count`, changes.

use crate::ValidationError;
use chrono::{DateTime, Utc, Weekday};
use serde::{Deserialize, Serialize};

#[cfg(feature = "engine")]
pub use engine::*;

/// Windows a schedule may have: four a day.
pub const MAX_WINDOWS: usize = 28;
/// Exceptions a schedule may have: a year of days.
pub const MAX_EXCEPTIONS: usize = 366;
/// The largest on or off count, as for an app's desired count.
pub const MAX_COUNT: u32 = 100;
/// The day names a window lists, Monday first.
pub const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

const FULL_DAY_NAMES: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
const WEEKDAYS: [Weekday; 7] =
    [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat, Weekday::Sun];
pub const MINUTES_PER_DAY: u16 = 24 * 60;

// ───────────────────────────── The shape exchanged (browser too) ─────────────────────────────

/// A schedule as the HTTP API and the pages exchange it, before validation. Unknown fields
/// are refused, so a typo in an API body is an error rather than a silently ignored setting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleDoc {
    /// An IANA time zone, such as `Europe/Berlin`; windows and exceptions are in its local time.
    pub timezone: String,
    #[serde(default)]
    pub windows: Vec<WindowDoc>,
    /// Tasks inside the windows; `None`: the app's own desired count, filled in by the caller.
    #[serde(default)]
    pub on_count: Option<u32>,
    /// Tasks outside the windows.
    #[serde(default)]
    pub off_count: u32,
    #[serde(default)]
    pub exceptions: Vec<ExceptionDoc>,
    /// `enforced` or `transitions` (see the module's rules).
    #[serde(default = "default_mode")]
    pub mode: String,
    /// A disabled schedule is kept but governs nothing.
    #[serde(default = "default_enabled")]
    pub enabled: bool,
}

/// A weekly window: on these days, from `start` to `end` local time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowDoc {
    /// `mon` … `sun`.
    pub days: Vec<String>,
    /// `HH:MM` (or `H:MM`).
    pub start: String,
    /// `HH:MM`; `24:00` is the end of the day; at or before `start`: the next day.
    pub end: String,
}

/// One local date that does not follow the weekly windows: off all day, or on only from
/// `start` to `end`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExceptionDoc {
    /// `YYYY-MM-DD`.
    pub date: String,
    #[serde(default)]
    pub off: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
}

/// A temporary override as the API exchanges it: run `desired` tasks until `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverrideDoc {
    pub desired: u32,
    pub until: DateTime<Utc>,
}

/// An instant where an app's desired count changes, and the count from then on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    pub at: DateTime<Utc>,
    pub desired: u32,
}

fn default_mode() -> String {
    Mode::Enforced.as_str().to_owned()
}

fn default_enabled() -> bool {
    true
}

impl ScheduleDoc {
    /// A new, enabled, enforced schedule of `preset`'s windows in `timezone`, on at the app's
    /// own desired count and off at 0.
    pub fn from_preset(preset: Preset, timezone: &str) -> Self {
        Self {
            timezone: timezone.to_owned(),
            windows: preset.windows(),
            on_count: None,
            off_count: 0,
            exceptions: Vec::new(),
            mode: default_mode(),
            enabled: true,
        }
    }
}

/// What the reconciler does with the desired counts (see the module's rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The desired count is applied whenever the service drifts from it.
    #[default]
    Enforced,
    /// The desired count is applied only at transitions.
    Transitions,
}

impl Mode {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "enforced" => Ok(Self::Enforced),
            "transitions" => Ok(Self::Transitions),
            _ => Err(ValidationError::new("mode", "must be enforced or transitions")),
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Enforced => "enforced",
            Self::Transitions => "transitions",
        }
    }
}

/// The windows a form offers in one click.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// Mon–Fri 08:00–18:00.
    OfficeHours,
    /// Mon–Fri 07:00–20:00.
    Extended,
    /// Mon–Fri all day.
    Weekdays,
    /// Every day, all day: a schedule that only carries exceptions.
    AlwaysOn,
}

impl Preset {
    pub const ALL: [Preset; 4] = [Preset::OfficeHours, Preset::Extended, Preset::Weekdays, Preset::AlwaysOn];

    /// The name a form shows.
    pub fn label(&self) -> &'static str {
        match self {
            Self::OfficeHours => "Office hours (Mon–Fri 08:00–18:00)",
            Self::Extended => "Extended hours (Mon–Fri 07:00–20:00)",
            Self::Weekdays => "Weekdays (Mon–Fri, all day)",
            Self::AlwaysOn => "Always on",
        }
    }

    /// The identifier in URLs and the API.
    pub fn key(&self) -> &'static str {
        match self {
            Self::OfficeHours => "office-hours",
            Self::Extended => "extended",
            Self::Weekdays => "weekdays",
            Self::AlwaysOn => "always-on",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.key() == key)
    }

    pub fn windows(&self) -> Vec<WindowDoc> {
        let (days, start, end) = match self {
            Self::OfficeHours => (&DAY_NAMES[..5], "08:00", "18:00"),
            Self::Extended => (&DAY_NAMES[..5], "07:00", "20:00"),
            Self::Weekdays => (&DAY_NAMES[..5], "00:00", "24:00"),
            Self::AlwaysOn => (&DAY_NAMES[..], "00:00", "24:00"),
        };
        vec![WindowDoc {
            days: days.iter().map(|d| (*d).to_owned()).collect(),
            start: start.to_owned(),
            end: end.to_owned(),
        }]
    }
}

/// A set of days of the week (a bitset, Monday = bit 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Days(u8);

impl Days {
    pub const NONE: Days = Days(0);
    pub const WEEKDAYS: Days = Days(0b001_1111);
    pub const EVERY_DAY: Days = Days(0b111_1111);

    /// Day names (`mon`, or `monday`, in any case), each at most once in effect. An empty
    /// list or an unknown name is refused with a message fit for the `days` field.
    pub fn parse(names: &[String]) -> Result<Days, String> {
        if names.is_empty() {
            return Err("pick at least one day".to_owned());
        }
        names.iter().try_fold(Days::NONE, |days, name| match parse_day(name) {
            Some(day) => Ok(days.with(day)),
            None => Err(format!("unknown day {name:?}: use mon, tue, wed, thu, fri, sat or sun")),
        })
    }

    pub fn with(self, day: Weekday) -> Days {
        Days(self.0 | 1 << day.num_days_from_monday())
    }

    pub fn contains(self, day: Weekday) -> bool {
        self.0 & 1 << day.num_days_from_monday() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The days in week order.
    pub fn iter(self) -> impl Iterator<Item = Weekday> {
        WEEKDAYS.into_iter().filter(move |d| self.contains(*d))
    }

    /// The days' short names (`mon` …), in week order.
    pub fn names(self) -> Vec<String> {
        self.iter().map(|d| DAY_NAMES[d.num_days_from_monday() as usize].to_owned()).collect()
    }
}

/// A day's name: `mon` or `monday`, in any case.
pub fn parse_day(raw: &str) -> Option<Weekday> {
    let raw = raw.trim().to_ascii_lowercase();
    (0..7).find(|&i| raw == DAY_NAMES[i] || raw == FULL_DAY_NAMES[i]).map(|i| WEEKDAYS[i])
}

/// A local time of day, `H:MM` or `HH:MM`, as minutes after midnight; `24:00` is 1440 (the
/// end of the day, valid only where a time ends something).
pub fn parse_time(raw: &str) -> Option<u16> {
    let (h, m) = raw.trim().split_once(':')?;
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !(1..=2).contains(&h.len()) || m.len() != 2 || !digits(h) || !digits(m) {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) => Some(MINUTES_PER_DAY),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

/// Minutes after midnight as `HH:MM` (1440 as `24:00`).
pub fn format_time(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

// ───────────────────────────── The engine (server: time-zone database) ─────────────────────────────

/// Days in a few words: `Mon–Fri` for a run of three or more, `Sat, Sun` otherwise.
pub fn days_label(days: &[String]) -> String {
    const LABELS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let mut idx: Vec<usize> =
        days.iter().filter_map(|d| parse_day(d)).map(|d| d.num_days_from_monday() as usize).collect();
    idx.sort_unstable();
    idx.dedup();
    let run = idx.len() > 2 && idx.windows(2).all(|w| w[1] == w[0] + 1);
    match (idx.first(), idx.last()) {
        (Some(&a), Some(&b)) if run => format!("{}–{}", LABELS[a], LABELS[b]),
        _ if idx.is_empty() => "no day".to_owned(),
        _ => idx.iter().map(|&i| LABELS[i]).collect::<Vec<_>>().join(", "),
    }
}

impl ScheduleDoc {
    /// The schedule in a few words: "Mon–Fri 08:00–18:00 · Europe/Berlin · 1 exception".
    pub fn summary(&self) -> String {
        let windows: Vec<String> =
            self.windows.iter().map(|w| format!("{} {}–{}", days_label(&w.days), w.start, w.end)).collect();
        let windows = if windows.is_empty() { "never on".to_owned() } else { windows.join(", ") };
        let exceptions = match self.exceptions.len() {
            0 => String::new(),
            1 => " · 1 exception".to_owned(),
            n => format!(" · {n} exceptions"),
        };
        format!("{windows} · {}{exceptions}", self.timezone)
    }
}

/// A day's index (Monday 0) from its name (`mon` or `monday`, any case).
pub fn day_index(name: &str) -> Option<usize> {
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

#[cfg(test)]
mod week_tests {
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
}

#[cfg(feature = "engine")]
pub mod aws;
#[cfg(feature = "engine")]
mod engine;
#[cfg(feature = "engine")]
pub mod govern;

#[cfg(all(test, feature = "engine"))]
mod tests;
