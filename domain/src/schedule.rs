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
const MINUTES_PER_DAY: u16 = 24 * 60;

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

#[cfg(feature = "engine")]
mod engine {
    use super::*;
    use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Offset, TimeZone};
    use chrono_tz::{GapInfo, Tz};
    use std::collections::HashMap;
    use std::ops::ControlFlow;

    // ─── Validated values ───

    /// A valid schedule; only [`Schedule::parse`] makes one.
    ///
    /// Its own methods ([`desired_at`](Self::desired_at), [`transitions`](Self::transitions),
    /// …) compute what its windows say whether it is enabled or not; [`Plan`] is what treats
    /// a disabled schedule as none.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Schedule {
        timezone: Tz,
        windows: Vec<Window>,
        on_count: u32,
        off_count: u32,
        /// Sorted by date, no date twice.
        exceptions: Vec<Exception>,
        mode: Mode,
        enabled: bool,
        /// The shape of the weekly windows, for the engine's shortcuts.
        week: Week,
    }

    /// A weekly window of local time: minutes after midnight, `end` in 1..=1440. An end at or
    /// before the start is on the next day.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Window {
        days: Days,
        start: u16,
        end: u16,
    }

    impl Window {
        pub fn days(&self) -> Days {
            self.days
        }

        /// Minutes after local midnight (0..1440).
        pub fn start(&self) -> u16 {
            self.start
        }

        /// Minutes after local midnight (1..=1440), of the next day when past midnight.
        pub fn end(&self) -> u16 {
            self.end
        }

        /// Whether the window ends on the day after it starts.
        pub fn past_midnight(&self) -> bool {
            self.end <= self.start
        }
    }

    /// A local date that does not follow the weekly windows.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Exception {
        pub date: NaiveDate,
        pub kind: ExceptionKind,
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum ExceptionKind {
        /// Off all day.
        Off,
        /// On only from `start` to `end` (minutes after local midnight, start < end ≤ 1440).
        Window { start: u16, end: u16 },
    }

    /// The shape of the weekly windows alone: never on, always on, or a mix (which then has
    /// both on and off time every week).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Week {
        Never,
        Always,
        Mixed,
    }

    impl Week {
        fn of(windows: &[Window]) -> Week {
            if windows.is_empty() {
                return Week::Never;
            }
            let mut covered = vec![false; 7 * usize::from(MINUTES_PER_DAY)];
            let day_len = usize::from(MINUTES_PER_DAY);
            for w in windows {
                for day in w.days.iter() {
                    let today = day.num_days_from_monday() as usize * day_len;
                    let (start, end) = (usize::from(w.start), usize::from(w.end));
                    if w.past_midnight() {
                        let tomorrow = day.succ().num_days_from_monday() as usize * day_len;
                        covered[today + start..today + day_len].fill(true);
                        covered[tomorrow..tomorrow + end].fill(true);
                    } else {
                        covered[today + start..today + end].fill(true);
                    }
                }
            }
            if covered.iter().all(|c| *c) {
                Week::Always
            } else {
                Week::Mixed
            }
        }
    }

    // ─── Parsing ───

    impl Schedule {
        /// Validates every field of `doc`; on failure returns one error per bad field (named
        /// like `windows[1].start` or `exceptions[0].date`), in document order.
        /// `default_on_count` (the app's own desired count) stands in for a missing `on_count`.
        pub fn parse(doc: &ScheduleDoc, default_on_count: u32) -> Result<Schedule, Vec<ValidationError>> {
            let mut errors = Vec::new();
            let timezone = keep(&mut errors, parse_timezone(&doc.timezone));
            let windows = parse_windows(&doc.windows, &mut errors);
            let on_count = keep(&mut errors, parse_on_count(doc.on_count, default_on_count));
            let off_count = keep(&mut errors, parse_off_count(doc.off_count));
            let exceptions = parse_exceptions(&doc.exceptions, &mut errors);
            let mode = keep(&mut errors, Mode::parse(&doc.mode));
            match (timezone, on_count, off_count, mode) {
                (Some(timezone), Some(on_count), Some(off_count), Some(mode)) if errors.is_empty() => Ok(Schedule {
                    timezone,
                    week: Week::of(&windows),
                    windows,
                    on_count,
                    off_count,
                    exceptions,
                    mode,
                    enabled: doc.enabled,
                }),
                _ => Err(errors),
            }
        }

        /// The schedule as a document again, normalised (`HH:MM` times, days in week order,
        /// exceptions by date) and with the `on_count` it resolved: `parse(to_doc())` gives
        /// the same schedule back.
        pub fn to_doc(&self) -> ScheduleDoc {
            ScheduleDoc {
                timezone: self.timezone.name().to_owned(),
                windows: self
                    .windows
                    .iter()
                    .map(|w| WindowDoc { days: w.days.names(), start: format_time(w.start), end: format_time(w.end) })
                    .collect(),
                on_count: Some(self.on_count),
                off_count: self.off_count,
                exceptions: self.exceptions.iter().map(exception_doc).collect(),
                mode: self.mode.as_str().to_owned(),
                enabled: self.enabled,
            }
        }

        pub fn timezone(&self) -> Tz {
            self.timezone
        }

        pub fn windows(&self) -> &[Window] {
            &self.windows
        }

        pub fn on_count(&self) -> u32 {
            self.on_count
        }

        pub fn off_count(&self) -> u32 {
            self.off_count
        }

        /// By date.
        pub fn exceptions(&self) -> &[Exception] {
            &self.exceptions
        }

        pub fn mode(&self) -> Mode {
            self.mode
        }

        pub fn enabled(&self) -> bool {
            self.enabled
        }
    }

    fn keep<T>(errors: &mut Vec<ValidationError>, result: Result<T, ValidationError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(e) => {
                errors.push(e);
                None
            }
        }
    }

    fn parse_timezone(raw: &str) -> Result<Tz, ValidationError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(ValidationError::new("timezone", "is required"));
        }
        raw.parse().map_err(|_| {
            ValidationError::new(
                "timezone",
                format!("unknown time zone {raw:?}: use an IANA name such as Europe/Berlin or UTC"),
            )
        })
    }

    fn parse_on_count(given: Option<u32>, default: u32) -> Result<u32, ValidationError> {
        match given {
            Some(n) if (1..=MAX_COUNT).contains(&n) => Ok(n),
            Some(_) => Err(ValidationError::new("on_count", format!("must be between 1 and {MAX_COUNT} tasks"))),
            None if (1..=MAX_COUNT).contains(&default) => Ok(default),
            None => Err(ValidationError::new(
                "on_count",
                format!("is required: the app's own desired count ({default}) is not between 1 and {MAX_COUNT}"),
            )),
        }
    }

    fn parse_off_count(n: u32) -> Result<u32, ValidationError> {
        if n <= MAX_COUNT {
            Ok(n)
        } else {
            Err(ValidationError::new("off_count", format!("must be between 0 and {MAX_COUNT} tasks")))
        }
    }

    fn parse_windows(docs: &[WindowDoc], errors: &mut Vec<ValidationError>) -> Vec<Window> {
        if docs.len() > MAX_WINDOWS {
            errors.push(ValidationError::new("windows", format!("at most {MAX_WINDOWS} windows (four a day)")));
        }
        docs.iter().enumerate().filter_map(|(i, doc)| parse_window(i, doc, errors)).collect()
    }

    fn parse_window(i: usize, doc: &WindowDoc, errors: &mut Vec<ValidationError>) -> Option<Window> {
        let field = |name: &str| format!("windows[{i}].{name}");
        let days = keep(errors, Days::parse(&doc.days).map_err(|m| ValidationError::new(&field("days"), m)));
        let start = keep(errors, start_time(&field("start"), &doc.start));
        let end = keep(errors, end_time(&field("end"), &doc.end));
        let (days, start, end) = (days?, start?, end?);
        if start == end {
            errors.push(ValidationError::new(
                &field("end"),
                "must differ from the start (00:00 to 24:00 is the whole day)",
            ));
            return None;
        }
        Some(Window { days, start, end })
    }

    fn start_time(field: &str, raw: &str) -> Result<u16, ValidationError> {
        match parse_time(raw) {
            Some(MINUTES_PER_DAY) => Err(ValidationError::new(field, "24:00 can only end a window; start at 00:00")),
            Some(minutes) => Ok(minutes),
            None => Err(bad_time(field, raw)),
        }
    }

    fn end_time(field: &str, raw: &str) -> Result<u16, ValidationError> {
        parse_time(raw).ok_or_else(|| bad_time(field, raw))
    }

    fn bad_time(field: &str, raw: &str) -> ValidationError {
        ValidationError::new(field, format!("{raw:?} is not a time: write HH:MM, from 00:00 to 23:59 (24:00 to end)"))
    }

    fn parse_exceptions(docs: &[ExceptionDoc], errors: &mut Vec<ValidationError>) -> Vec<Exception> {
        if docs.len() > MAX_EXCEPTIONS {
            errors.push(ValidationError::new("exceptions", format!("at most {MAX_EXCEPTIONS} exceptions")));
        }
        let mut seen: HashMap<NaiveDate, usize> = HashMap::new();
        let mut exceptions: Vec<Exception> = docs
            .iter()
            .enumerate()
            .filter_map(|(i, doc)| {
                let exception = parse_exception(i, doc, errors)?;
                if let Some(first) = seen.insert(exception.date, i) {
                    let message = format!("{} is listed twice (also exceptions[{first}])", doc.date.trim());
                    errors.push(ValidationError::new(&format!("exceptions[{i}].date"), message));
                    seen.insert(exception.date, first);
                }
                Some(exception)
            })
            .collect();
        exceptions.sort_by_key(|e| e.date);
        exceptions.dedup_by_key(|e| e.date);
        exceptions
    }

    fn parse_exception(i: usize, doc: &ExceptionDoc, errors: &mut Vec<ValidationError>) -> Option<Exception> {
        let field = |name: &str| format!("exceptions[{i}].{name}");
        let date = keep(errors, parse_date(&field("date"), &doc.date));
        let kind = if doc.off {
            if doc.start.is_some() || doc.end.is_some() {
                let name = if doc.start.is_some() { "start" } else { "end" };
                errors.push(ValidationError::new(&field(name), "an off day has no start or end"));
                return None;
            }
            ExceptionKind::Off
        } else {
            let start = match &doc.start {
                Some(raw) => keep(errors, start_time(&field("start"), raw)),
                None => keep(errors, Err(ValidationError::new(&field("start"), "is required unless the day is off"))),
            };
            let end = match &doc.end {
                Some(raw) => keep(errors, end_time(&field("end"), raw)),
                None => keep(errors, Err(ValidationError::new(&field("end"), "is required unless the day is off"))),
            };
            let (start, end) = (start?, end?);
            if end <= start {
                errors.push(ValidationError::new(
                    &field("end"),
                    "must be after the start: an exception stays within its day (24:00 at the latest)",
                ));
                return None;
            }
            ExceptionKind::Window { start, end }
        };
        Some(Exception { date: date?, kind })
    }

    fn parse_date(field: &str, raw: &str) -> Result<NaiveDate, ValidationError> {
        let raw = raw.trim();
        let shaped = raw.len() == 10
            && raw.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
        shaped
            .then(|| NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok())
            .flatten()
            .ok_or_else(|| ValidationError::new(field, format!("{raw:?} is not a date: write YYYY-MM-DD")))
    }

    fn exception_doc(e: &Exception) -> ExceptionDoc {
        let date = e.date.format("%Y-%m-%d").to_string();
        match e.kind {
            ExceptionKind::Off => ExceptionDoc { date, off: true, start: None, end: None },
            ExceptionKind::Window { start, end } => {
                ExceptionDoc { date, off: false, start: Some(format_time(start)), end: Some(format_time(end)) }
            }
        }
    }

    // ─── Local time → UTC, under the module's daylight-saving rules ───

    /// The instant of a local date and time in `tz`: `minute` after midnight (1440: the next
    /// midnight). A time in a spring-forward gap is the first instant after the gap; a time
    /// that occurs twice is its first occurrence.
    pub fn local_instant(tz: Tz, date: NaiveDate, minute: u16) -> DateTime<Utc> {
        let (date, minute) = match date.succ_opt() {
            Some(next) if minute >= MINUTES_PER_DAY => (next, minute - MINUTES_PER_DAY),
            _ => (date, minute.min(MINUTES_PER_DAY - 1)),
        };
        let time = NaiveTime::from_hms_opt(u32::from(minute / 60), u32::from(minute % 60), 0).unwrap_or(NaiveTime::MIN);
        let local = date.and_time(time);
        if let Some(t) = tz.from_local_datetime(&local).earliest() {
            return t.to_utc();
        }
        match GapInfo::new(&local, &tz) {
            Some(GapInfo { end: Some(after), .. }) => after.to_utc(),
            // The gap's first local instant, in the offset before it, is the instant it starts.
            Some(GapInfo { begin: Some((first, before)), .. }) => (first - before.fix()).and_utc(),
            _ => local.and_utc(),
        }
    }

    /// The first instant strictly after `after` that reads `minute` (after midnight) local
    /// time in `tz`, on `day` when given: "until 20:00", "until Monday 08:00".
    pub fn next_local_time(tz: Tz, after: DateTime<Utc>, day: Option<Weekday>, minute: u16) -> DateTime<Utc> {
        let today = after.with_timezone(&tz).date_naive();
        today
            .iter_days()
            .take(9)
            .filter(|d| day.is_none_or(|wanted| d.weekday() == wanted))
            .map(|d| local_instant(tz, d, minute))
            .find(|t| *t > after)
            .unwrap_or(after + Duration::days(7))
    }

    // ─── The engine ───

    /// The on-intervals one local day contributes, by start: at most one per window, or the
    /// day's exception window. On the stack: the engine plans thousands of schedules a second.
    struct DayIntervals {
        len: usize,
        items: [(DateTime<Utc>, DateTime<Utc>); MAX_WINDOWS],
    }

    impl DayIntervals {
        fn new() -> Self {
            Self { len: 0, items: [(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MIN_UTC); MAX_WINDOWS] }
        }

        /// Keeps an interval unless daylight saving emptied (or reversed) it.
        fn push(&mut self, start: DateTime<Utc>, end: DateTime<Utc>) {
            if end > start && self.len < MAX_WINDOWS {
                self.items[self.len] = (start, end);
                self.len += 1;
            }
        }

        fn as_slice(&self) -> &[(DateTime<Utc>, DateTime<Utc>)] {
            &self.items[..self.len]
        }

        fn covers(&self, at: DateTime<Utc>) -> bool {
            self.as_slice().iter().any(|(start, end)| *start <= at && at < *end)
        }
    }

    /// Plain days (no exception on them or next to them) without a transition before the engine
    /// gives up: a mixed week changes at least once a week, two weeks allow for one whose only
    /// off time fell into a daylight-saving gap.
    const QUIET_DAYS: u32 = 15;

    /// Where [`Schedule::scan`] goes after a day.
    enum Step {
        /// On to this day.
        To(NaiveDate),
        /// Close the interval left open (nothing can extend it), then on to this day, if any.
        Close(Option<NaiveDate>),
        /// Nothing can change any more.
        Stop,
    }

    impl Schedule {
        /// The count the schedule wants at `at`.
        pub fn desired_at(&self, at: DateTime<Utc>) -> u32 {
            if self.is_on(at) {
                self.on_count
            } else {
                self.off_count
            }
        }

        /// The next `count` instants strictly after `from` where the desired count changes.
        /// Fewer (or none) when the schedule stops changing: equal counts, never on, always on.
        pub fn transitions(&self, from: DateTime<Utc>, count: usize) -> Vec<Transition> {
            let mut out = Vec::with_capacity(count.min(16));
            if count > 0 {
                let _ = self.scan(from, |t| {
                    out.push(t);
                    if out.len() < count {
                        ControlFlow::Continue(())
                    } else {
                        ControlFlow::Break(())
                    }
                });
            }
            out
        }

        /// The first instant strictly after `from` where the desired count changes.
        pub fn next_transition(&self, from: DateTime<Utc>) -> Option<Transition> {
            let mut next = None;
            let _ = self.scan(from, |t| {
                next = Some(t);
                ControlFlow::Break(())
            });
            next
        }

        /// `[from, to)` cut where the desired count changes, each piece with its count (off
        /// pieces included): what the cost engine prices. Empty when `to <= from`.
        pub fn on_intervals(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>, u32)> {
            let mut out = Vec::new();
            if to <= from {
                return out;
            }
            let (mut start, mut count) = (from, self.desired_at(from));
            let _ = self.scan(from, |t| {
                if t.at >= to {
                    return ControlFlow::Break(());
                }
                out.push((start, t.at, count));
                (start, count) = (t.at, t.desired);
                ControlFlow::Continue(())
            });
            out.push((start, to, count));
            out
        }

        /// Task-hours in `[from, to)`: each piece's count times its hours.
        pub fn task_hours(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
            self.on_intervals(from, to).iter().map(|(s, e, n)| f64::from(*n) * hours(*e - *s)).sum()
        }

        fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
            at.with_timezone(&self.timezone).date_naive()
        }

        fn midnight(&self, day: NaiveDate) -> DateTime<Utc> {
            local_instant(self.timezone, day, 0)
        }

        fn exception_on(&self, day: NaiveDate) -> Option<ExceptionKind> {
            let i = self.exceptions.binary_search_by_key(&day, |e| e.date).ok()?;
            Some(self.exceptions[i].kind)
        }

        fn has_exception_within(&self, first: NaiveDate, last: NaiveDate) -> bool {
            let i = self.exceptions.partition_point(|e| e.date < first);
            self.exceptions.get(i).is_some_and(|e| e.date <= last)
        }

        fn next_exception_after(&self, day: NaiveDate) -> Option<NaiveDate> {
            let i = self.exceptions.partition_point(|e| e.date <= day);
            self.exceptions.get(i).map(|e| e.date)
        }

        /// The on-intervals that start on local `day`, in UTC, by start. An exception owns the
        /// day; a window of the day before an exception is cut at that exception's midnight.
        fn day_intervals(&self, day: NaiveDate, out: &mut DayIntervals) {
            out.len = 0;
            let tz = self.timezone;
            match self.exception_on(day) {
                Some(ExceptionKind::Off) => {}
                Some(ExceptionKind::Window { start, end }) => {
                    out.push(local_instant(tz, day, start), local_instant(tz, day, end));
                }
                None => {
                    let Some(next) = day.succ_opt() else { return };
                    let weekday = day.weekday();
                    let cut = self.exception_on(next).map(|_| self.midnight(next));
                    for w in self.windows.iter().filter(|w| w.days.contains(weekday)) {
                        let start = local_instant(tz, day, w.start);
                        let end = local_instant(tz, if w.past_midnight() { next } else { day }, w.end);
                        out.push(start, cut.map_or(end, |cut| end.min(cut)));
                    }
                    out.items[..out.len].sort_unstable();
                }
            }
        }

        fn is_on(&self, at: DateTime<Utc>) -> bool {
            let day = self.local_date(at);
            let (Some(before), Some(after)) = (day.pred_opt(), day.succ_opt()) else { return false };
            // Away from exceptions a week that is all on or all off needs no arithmetic. (Two
            // days ahead: where a zone falls back at midnight, `at` may follow the next midnight.)
            if !self.has_exception_within(before, after.succ_opt().unwrap_or(after)) {
                match self.week {
                    Week::Always => return true,
                    Week::Never => return false,
                    Week::Mixed => {}
                }
            }
            // An interval starting two days earlier ends before `day`'s midnight; one starting
            // two days later begins after `at`.
            let mut buf = DayIntervals::new();
            [day, before, after].into_iter().any(|d| {
                self.day_intervals(d, &mut buf);
                buf.covers(at)
            })
        }

        /// Reports each change of the desired count strictly after `from`, in order, until
        /// `visit` breaks or nothing can change any more.
        ///
        /// Walks local days from the day before `from`'s (whose windows may spill past
        /// midnight), merging their intervals as they come: each day's intervals start after
        /// the previous day's did, so a start is final when seen, and an end is final once the
        /// next interval starts after it or the next day's midnight passes it.
        fn scan(&self, from: DateTime<Utc>, mut visit: impl FnMut(Transition) -> ControlFlow<()>) -> ControlFlow<()> {
            if self.on_count == self.off_count {
                return ControlFlow::Continue(());
            }
            let (on, off) = (self.on_count, self.off_count);
            let mut quiet = 0;
            let mut emit = |at: DateTime<Utc>, desired: u32, quiet: &mut u32| {
                if at <= from {
                    return ControlFlow::Continue(());
                }
                *quiet = 0;
                visit(Transition { at, desired })
            };
            let Some(mut day) = self.local_date(from).pred_opt() else { return ControlFlow::Continue(()) };
            let mut buf = DayIntervals::new();
            // The end of the merged on-interval seen last, while it may still grow.
            let mut open: Option<DateTime<Utc>> = None;
            loop {
                let Some(next) = day.succ_opt() else { return ControlFlow::Continue(()) };
                let next_midnight = self.midnight(next);
                self.day_intervals(day, &mut buf);
                for &(start, end) in buf.as_slice() {
                    match open.as_mut() {
                        Some(open_end) if start <= *open_end => *open_end = (*open_end).max(end),
                        _ => {
                            if let Some(open_end) = open {
                                emit(open_end, off, &mut quiet)?;
                            }
                            emit(start, on, &mut quiet)?;
                            open = Some(end);
                        }
                    }
                }
                if let Some(open_end) = open.filter(|end| *end < next_midnight) {
                    emit(open_end, off, &mut quiet)?;
                    open = None;
                }
                match self.step(day, next_midnight, &mut open, &mut buf, &mut quiet) {
                    Step::To(resume) => day = resume,
                    Step::Close(then) => {
                        if let Some(open_end) = open.take() {
                            emit(open_end, off, &mut quiet)?;
                        }
                        match then {
                            Some(resume) => day = resume,
                            None => return ControlFlow::Continue(()),
                        }
                    }
                    Step::Stop => return ControlFlow::Continue(()),
                }
            }
        }

        /// Where the walk goes after `day`: the next day, or past days where nothing can
        /// change (between the exceptions of a week never or always on), or nowhere when
        /// nothing can change any more.
        fn step(
            &self,
            day: NaiveDate,
            next_midnight: DateTime<Utc>,
            open: &mut Option<DateTime<Utc>>,
            buf: &mut DayIntervals,
            quiet: &mut u32,
        ) -> Step {
            let Some(next) = day.succ_opt() else { return Step::Stop };
            match self.week {
                // Only exceptions are ever on: from one to the next, the interval left open
                // closing at its end, unless the next exception starts the next day.
                Week::Never => match self.next_exception_after(day) {
                    Some(x) if x == next => Step::To(next),
                    then => Step::Close(then),
                },
                Week::Always
                    if open.is_some_and(|end| end >= next_midnight)
                        && self.exception_on(day).is_none()
                        && self.exception_on(next).is_none() =>
                {
                    self.skip_always_on(day, open, buf).map_or(Step::Stop, Step::To)
                }
                _ => {
                    let plain = day.pred_opt().is_some_and(|before| !self.has_exception_within(before, next));
                    *quiet = if plain { *quiet + 1 } else { 0 };
                    if *quiet >= QUIET_DAYS {
                        Step::Stop
                    } else {
                        Step::To(next)
                    }
                }
            }
        }

        /// For an always-on week, on at the end of `day`, with no exception on `day` or the day
        /// after: everything is on until the day before the next exception, so the walk can
        /// resume there (the interval kept open grown to cover the days skipped, the last
        /// one's spill past midnight included). `None`: no exception ahead, on for ever.
        fn skip_always_on(
            &self,
            day: NaiveDate,
            open: &mut Option<DateTime<Utc>>,
            buf: &mut DayIntervals,
        ) -> Option<NaiveDate> {
            let next = day.succ_opt()?;
            let exception = self.next_exception_after(next)?;
            // The last day whose windows and spill are whole: two before the exception.
            let last = exception.checked_sub_days(chrono::Days::new(2)).filter(|last| *last > day);
            let Some(last) = last else { return Some(next) };
            let resume = last.succ_opt()?;
            self.day_intervals(last, buf);
            let spill = buf.as_slice().iter().map(|(_, end)| *end).max();
            *open = [*open, Some(self.midnight(resume)), spill].into_iter().flatten().max();
            Some(resume)
        }
    }

    fn hours(d: Duration) -> f64 {
        d.num_milliseconds() as f64 / 3_600_000.0
    }

    // ─── Overrides and plans ───

    /// A temporary override: run `desired` tasks until `until` ("keep it on until 20:00",
    /// "off until Monday 08:00", "on for two hours"). `restore` is the count to return to
    /// when, after `until`, no enabled schedule governs the app (the app's own desired count
    /// when the override was made).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Override {
        pub desired: u32,
        pub until: DateTime<Utc>,
        pub restore: u32,
    }

    impl Override {
        /// How far ahead an override may reach: further is a schedule, not an override.
        pub fn max_length() -> Duration {
            Duration::days(366)
        }

        /// Validates an override made at `now`: a count within the limit, an end in the
        /// future and at most [`max_length`](Self::max_length) ahead.
        pub fn parse(doc: &OverrideDoc, restore: u32, now: DateTime<Utc>) -> Result<Override, Vec<ValidationError>> {
            let mut errors = Vec::new();
            if doc.desired > MAX_COUNT {
                errors.push(ValidationError::new("desired", format!("must be between 0 and {MAX_COUNT} tasks")));
            }
            if doc.until <= now {
                errors.push(ValidationError::new("until", "must be in the future"));
            } else if doc.until > now + Self::max_length() {
                errors.push(ValidationError::new("until", "must be at most a year ahead; change the schedule instead"));
            }
            if errors.is_empty() {
                Ok(Override { desired: doc.desired, until: doc.until, restore })
            } else {
                Err(errors)
            }
        }

        pub fn to_doc(&self) -> OverrideDoc {
            OverrideDoc { desired: self.desired, until: self.until }
        }

        /// Whether the override decides the count at `at`.
        pub fn in_force(&self, at: DateTime<Utc>) -> bool {
            at < self.until
        }
    }

    /// What governs one app: its schedule (a disabled one counts as none) and its override.
    ///
    /// An override in force wins; at its `until` the schedule resumes, or, with no enabled
    /// schedule, `restore` applies — as one final transition at `until` (when it differs
    /// from the override's count), while [`desired_at`](Self::desired_at) then answers `None`:
    /// nothing governs the app any more, it keeps the count it was last given. A reconciler
    /// that catches up only after `until` applies `restore` as it retires the override.
    #[derive(Debug, Clone, Copy, Default)]
    pub struct Plan<'a> {
        pub schedule: Option<&'a Schedule>,
        pub override_: Option<&'a Override>,
    }

    impl<'a> Plan<'a> {
        pub fn new(schedule: Option<&'a Schedule>, override_: Option<&'a Override>) -> Self {
            Self { schedule, override_ }
        }

        fn schedule(&self) -> Option<&'a Schedule> {
            self.schedule.filter(|s| s.enabled)
        }

        /// The count wanted at `at`; `None` when nothing governs the app (no enabled schedule,
        /// no override in force).
        pub fn desired_at(&self, at: DateTime<Utc>) -> Option<u32> {
            match self.override_ {
                Some(o) if o.in_force(at) => Some(o.desired),
                _ => self.schedule().map(|s| s.desired_at(at)),
            }
        }

        /// The next `count` changes strictly after `from`.
        pub fn transitions(&self, from: DateTime<Utc>, count: usize) -> Vec<Transition> {
            let mut out = Vec::with_capacity(count.min(16));
            if count > 0 {
                let _ = self.scan(from, |t| {
                    out.push(t);
                    if out.len() < count {
                        ControlFlow::Continue(())
                    } else {
                        ControlFlow::Break(())
                    }
                });
            }
            out
        }

        /// The first change strictly after `from`.
        pub fn next_transition(&self, from: DateTime<Utc>) -> Option<Transition> {
            let mut next = None;
            let _ = self.scan(from, |t| {
                next = Some(t);
                ControlFlow::Break(())
            });
            next
        }

        /// `[from, to)` cut where the count changes, each piece with its count: `None` where
        /// nothing governs the app (the app's own desired count applies), and `restore`
        /// after an override that no schedule follows.
        pub fn intervals(
            &self,
            from: DateTime<Utc>,
            to: DateTime<Utc>,
        ) -> Vec<(DateTime<Utc>, DateTime<Utc>, Option<u32>)> {
            let mut out = Vec::new();
            if to <= from {
                return out;
            }
            let (mut start, mut count) = (from, self.desired_at(from));
            let _ = self.scan(from, |t| {
                if t.at >= to {
                    return ControlFlow::Break(());
                }
                out.push((start, t.at, count));
                (start, count) = (t.at, Some(t.desired));
                ControlFlow::Continue(())
            });
            out.push((start, to, count));
            out
        }

        fn scan(&self, from: DateTime<Utc>, mut visit: impl FnMut(Transition) -> ControlFlow<()>) -> ControlFlow<()> {
            let schedule = self.schedule();
            match self.override_.filter(|o| o.in_force(from)) {
                Some(o) => {
                    let after = schedule.map_or(o.restore, |s| s.desired_at(o.until));
                    if after != o.desired {
                        visit(Transition { at: o.until, desired: after })?;
                    }
                    match schedule {
                        Some(s) => s.scan(o.until, visit),
                        None => ControlFlow::Continue(()),
                    }
                }
                None => match schedule {
                    Some(s) => s.scan(from, visit),
                    None => ControlFlow::Continue(()),
                },
            }
        }
    }
}

// ───────────────────────────── Tests ─────────────────────────────

#[cfg(all(test, feature = "engine"))]
mod tests {
    use super::*;
    use chrono::{Datelike, Duration, NaiveDate, Offset, TimeZone, Timelike};
    use chrono_tz::Tz;
    use proptest::prelude::*;

    fn utc(s: &str) -> DateTime<Utc> {
        let s = if s.len() == 17 { format!("{}:00Z", &s[..16]) } else { s.to_owned() };
        DateTime::parse_from_rfc3339(&s).unwrap().with_timezone(&Utc)
    }

    fn show(t: DateTime<Utc>) -> String {
        t.format("%Y-%m-%dT%H:%MZ").to_string()
    }

    fn window(days: &[&str], start: &str, end: &str) -> WindowDoc {
        WindowDoc { days: days.iter().map(|d| (*d).to_owned()).collect(), start: start.into(), end: end.into() }
    }

    const MON_FRI: &[&str] = &["mon", "tue", "wed", "thu", "fri"];

    /// Expected transitions: instant (to the minute, UTC) and count.
    type Changes = &'static [(&'static str, u32)];

    /// A change that spoils a valid document.
    type Edit = Box<dyn Fn(&mut ScheduleDoc)>;

    fn doc(timezone: &str, windows: Vec<WindowDoc>) -> ScheduleDoc {
        ScheduleDoc {
            timezone: timezone.into(),
            windows,
            on_count: Some(2),
            off_count: 0,
            exceptions: vec![],
            mode: "enforced".into(),
            enabled: true,
        }
    }

    fn off_on(date: &str) -> ExceptionDoc {
        ExceptionDoc { date: date.into(), off: true, start: None, end: None }
    }

    fn only(date: &str, start: &str, end: &str) -> ExceptionDoc {
        ExceptionDoc { date: date.into(), off: false, start: Some(start.into()), end: Some(end.into()) }
    }

    fn schedule(doc: ScheduleDoc) -> Schedule {
        Schedule::parse(&doc, 1).unwrap()
    }

    fn office_hours(timezone: &str) -> Schedule {
        schedule(doc(timezone, vec![window(MON_FRI, "08:00", "18:00")]))
    }

    fn changes(transitions: &[Transition]) -> Vec<(String, u32)> {
        transitions.iter().map(|t| (show(t.at), t.desired)).collect()
    }

    fn expect(list: &[(&str, u32)]) -> Vec<(String, u32)> {
        list.iter().map(|(at, n)| ((*at).to_owned(), *n)).collect()
    }

    /// Each transition holds at its instant and a second later, and not a second before.
    fn assert_consistent(s: &Schedule, transitions: &[Transition]) {
        for t in transitions {
            assert_eq!(s.desired_at(t.at), t.desired, "at {}", show(t.at));
            assert_eq!(s.desired_at(t.at + Duration::seconds(1)), t.desired, "after {}", show(t.at));
            assert_ne!(s.desired_at(t.at - Duration::seconds(1)), t.desired, "before {}", show(t.at));
        }
    }

    // ─── Daylight saving ───

    #[test]
    fn office_hours_follow_local_time_across_daylight_saving_changes() {
        let cases: &[(&str, &str, Changes)] = &[
            // Berlin springs forward on Sunday 29 March 2026: 08:00 is 07:00 UTC before, 06:00 after.
            (
                "Europe/Berlin",
                "2026-03-27T12:00Z",
                &[("2026-03-27T17:00Z", 0), ("2026-03-30T06:00Z", 2), ("2026-03-30T16:00Z", 0)],
            ),
            // … and falls back on Sunday 25 October 2026.
            (
                "Europe/Berlin",
                "2026-10-23T12:00Z",
                &[("2026-10-23T16:00Z", 0), ("2026-10-26T07:00Z", 2), ("2026-10-26T17:00Z", 0)],
            ),
            (
                "America/New_York",
                "2026-03-06T15:00Z",
                &[("2026-03-06T23:00Z", 0), ("2026-03-09T12:00Z", 2), ("2026-03-09T22:00Z", 0)],
            ),
            (
                "America/New_York",
                "2026-10-30T15:00Z",
                &[("2026-10-30T22:00Z", 0), ("2026-11-02T13:00Z", 2), ("2026-11-02T23:00Z", 0)],
            ),
            // Sydney, southern hemisphere: summer time ends on 5 April, starts on 4 October.
            (
                "Australia/Sydney",
                "2026-04-03T00:00Z",
                &[("2026-04-03T07:00Z", 0), ("2026-04-05T22:00Z", 2), ("2026-04-06T08:00Z", 0)],
            ),
            (
                "Australia/Sydney",
                "2026-10-02T00:00Z",
                &[("2026-10-02T08:00Z", 0), ("2026-10-04T21:00Z", 2), ("2026-10-05T07:00Z", 0)],
            ),
            // Tokyo has no daylight saving: the same UTC hours all year.
            (
                "Asia/Tokyo",
                "2026-03-27T00:00Z",
                &[("2026-03-27T09:00Z", 0), ("2026-03-29T23:00Z", 2), ("2026-03-30T09:00Z", 0)],
            ),
            (
                "UTC",
                "2026-10-23T12:00Z",
                &[("2026-10-23T18:00Z", 0), ("2026-10-26T08:00Z", 2), ("2026-10-26T18:00Z", 0)],
            ),
        ];
        for (zone, from, want) in cases {
            let s = office_hours(zone);
            let got = s.transitions(utc(from), want.len());
            assert_eq!(changes(&got), expect(want), "{zone} from {from}");
            assert_consistent(&s, &got);
            assert_eq!(s.desired_at(utc(from)), 2, "{zone}: {from} is within office hours");
            assert_eq!(s.next_transition(utc(from)), got.first().copied(), "{zone}");
        }
    }

    #[test]
    fn a_window_starting_in_the_spring_forward_gap_starts_when_the_gap_ends() {
        // 02:30 does not exist in Berlin on 29 March 2026: it means 03:00 local, 01:00 UTC.
        let s = schedule(doc("Europe/Berlin", vec![window(&["sun"], "02:30", "04:00")]));
        let got = s.transitions(utc("2026-03-28T12:00Z"), 2);
        assert_eq!(changes(&got), expect(&[("2026-03-29T01:00Z", 2), ("2026-03-29T02:00Z", 0)]));
        assert_consistent(&s, &got);
        let at = local_instant(Tz::Europe__Berlin, NaiveDate::from_ymd_opt(2026, 3, 29).unwrap(), 150);
        assert_eq!(show(at), "2026-03-29T01:00Z");
    }

    #[test]
    fn an_ambiguous_start_uses_its_first_occurrence() {
        // 02:30 happens twice in Berlin on 25 October 2026; the first is 00:30 UTC (summer time).
        let s = schedule(doc("Europe/Berlin", vec![window(&["sun"], "02:30", "04:00")]));
        let got = s.transitions(utc("2026-10-24T12:00Z"), 2);
        assert_eq!(changes(&got), expect(&[("2026-10-25T00:30Z", 2), ("2026-10-25T03:00Z", 0)]));
        assert_consistent(&s, &got);
        // A window ending in the repeated hour ends the first time round.
        let s = schedule(doc("Europe/Berlin", vec![window(&["sun"], "01:00", "02:30")]));
        let got = s.transitions(utc("2026-10-24T12:00Z"), 2);
        assert_eq!(changes(&got), expect(&[("2026-10-24T23:00Z", 2), ("2026-10-25T00:30Z", 0)]));
    }

    #[test]
    fn a_window_inside_the_gap_does_not_happen_that_day() {
        let s = schedule(doc("Europe/Berlin", vec![window(&["sun"], "02:00", "02:45")]));
        let got = s.transitions(utc("2026-03-28T12:00Z"), 2);
        // Nothing on 29 March; the next Sunday at 02:00 summer time is 00:00 UTC.
        assert_eq!(changes(&got), expect(&[("2026-04-05T00:00Z", 2), ("2026-04-05T00:45Z", 0)]));
        assert_eq!(s.desired_at(utc("2026-03-29T01:00Z")), 0);
    }

    #[test]
    fn windows_touching_across_the_gap_merge() {
        // 01:00–02:00 and 03:00–04:00 touch once 02:00–03:00 is skipped: on from 00:00 to 02:00 UTC.
        let s = schedule(doc(
            "Europe/Berlin",
            vec![window(&["sun"], "01:00", "02:00"), window(&["sun"], "03:00", "04:00")],
        ));
        let got = s.transitions(utc("2026-03-28T12:00Z"), 2);
        assert_eq!(changes(&got), expect(&[("2026-03-29T00:00Z", 2), ("2026-03-29T02:00Z", 0)]));
    }

    // ─── Windows past midnight, merging ───

    #[test]
    fn a_window_past_midnight_ends_the_next_day() {
        let s = schedule(doc("Europe/Berlin", vec![window(&["fri"], "22:00", "02:00")]));
        let got = s.transitions(utc("2026-06-05T12:00Z"), 3);
        assert_eq!(
            changes(&got),
            expect(&[("2026-06-05T20:00Z", 2), ("2026-06-06T00:00Z", 0), ("2026-06-12T20:00Z", 2)])
        );
        assert_consistent(&s, &got);
        // Asked on Saturday at 01:00 local, the Friday window is still on.
        assert_eq!(s.desired_at(utc("2026-06-05T23:00Z")), 2);
        assert_eq!(changes(&s.transitions(utc("2026-06-05T23:00Z"), 1)), expect(&[("2026-06-06T00:00Z", 0)]));
    }

    #[test]
    fn overlapping_and_touching_windows_merge_into_one() {
        let s = schedule(doc(
            "UTC",
            vec![
                window(MON_FRI, "08:00", "12:00"),
                window(MON_FRI, "12:00", "18:00"),
                window(&["wed"], "10:00", "20:00"),
                window(&["fri"], "18:00", "24:00"),
                window(&["sat"], "00:00", "01:00"),
            ],
        ));
        let got = s.transitions(utc("2026-06-03T00:00Z"), 6);
        assert_eq!(
            changes(&got),
            expect(&[
                ("2026-06-03T08:00Z", 2),
                ("2026-06-03T20:00Z", 0),
                ("2026-06-04T08:00Z", 2),
                ("2026-06-04T18:00Z", 0),
                ("2026-06-05T08:00Z", 2),
                ("2026-06-06T01:00Z", 0),
            ])
        );
        assert_consistent(&s, &got);
    }

    #[test]
    fn a_transition_is_strictly_after_the_instant_asked_about() {
        let s = office_hours("UTC");
        let got = s.transitions(utc("2026-06-01T08:00Z"), 1);
        assert_eq!(changes(&got), expect(&[("2026-06-01T18:00Z", 0)]));
    }

    // ─── Exceptions ───

    #[test]
    fn exceptions_replace_their_day() {
        let mut d = doc("Europe/Berlin", vec![window(MON_FRI, "08:00", "18:00")]);
        d.exceptions = vec![off_on("2026-12-24"), only("2026-12-25", "10:00", "14:00")];
        let s = schedule(d);
        let got = s.transitions(utc("2026-12-23T20:00Z"), 4);
        assert_eq!(
            changes(&got),
            expect(&[
                ("2026-12-25T09:00Z", 2),
                ("2026-12-25T13:00Z", 0),
                ("2026-12-28T07:00Z", 2),
                ("2026-12-28T17:00Z", 0),
            ])
        );
        assert_consistent(&s, &got);
        assert_eq!(s.desired_at(utc("2026-12-24T10:00Z")), 0, "the holiday is off");
    }

    #[test]
    fn an_off_day_cuts_the_window_spilling_into_it_at_midnight() {
        let mut d = doc("Europe/Berlin", vec![window(&["fri"], "22:00", "02:00")]);
        d.exceptions = vec![off_on("2026-06-06")];
        let s = schedule(d);
        let got = s.transitions(utc("2026-06-05T12:00Z"), 2);
        assert_eq!(changes(&got), expect(&[("2026-06-05T20:00Z", 2), ("2026-06-05T22:00Z", 0)]));
        assert_consistent(&s, &got);
        assert_eq!(s.desired_at(utc("2026-06-05T23:00Z")), 0);
    }

    #[test]
    fn a_window_of_an_off_day_does_not_spill_into_the_next() {
        let mut d = doc("UTC", vec![window(&["fri"], "22:00", "02:00")]);
        d.exceptions = vec![off_on("2026-06-05")];
        let s = schedule(d);
        assert_eq!(s.desired_at(utc("2026-06-06T01:00Z")), 0);
        assert_eq!(changes(&s.transitions(utc("2026-06-05T00:00Z"), 1)), expect(&[("2026-06-12T22:00Z", 2)]));
    }

    #[test]
    fn an_always_on_schedule_turns_off_only_for_its_exceptions() {
        let mut d = doc("Europe/Berlin", Preset::AlwaysOn.windows());
        d.exceptions = vec![off_on("2027-01-01"), only("2027-05-01", "09:00", "17:00")];
        let s = schedule(d);
        let got = s.transitions(utc("2026-06-01T00:00Z"), 10);
        assert_eq!(
            changes(&got),
            expect(&[
                ("2026-12-31T23:00Z", 0),
                ("2027-01-01T23:00Z", 2),
                ("2027-04-30T22:00Z", 0),
                ("2027-05-01T07:00Z", 2),
                ("2027-05-01T15:00Z", 0),
                ("2027-05-01T22:00Z", 2),
            ])
        );
        assert_consistent(&s, &got);
    }

    #[test]
    fn a_never_on_schedule_is_on_only_in_its_exception_windows() {
        let mut d = doc("UTC", vec![]);
        d.exceptions = vec![only("2030-01-02", "09:00", "24:00"), only("2030-01-03", "00:00", "10:00")];
        let s = schedule(d);
        let got = s.transitions(utc("2026-06-01T00:00Z"), 10);
        assert_eq!(changes(&got), expect(&[("2030-01-02T09:00Z", 2), ("2030-01-03T10:00Z", 0)]));
        assert_consistent(&s, &got);
    }

    #[test]
    fn schedules_that_never_change_have_no_transitions() {
        let always = schedule(doc("Europe/Berlin", Preset::AlwaysOn.windows()));
        let never = schedule(doc("Europe/Berlin", vec![]));
        let mut same = doc("Europe/Berlin", Preset::OfficeHours.windows());
        same.off_count = 2;
        let same = schedule(same);
        let from = utc("2026-03-27T12:00Z");
        for (s, count) in [(&always, 2), (&never, 0), (&same, 2)] {
            assert_eq!(s.transitions(from, 5), vec![]);
            assert_eq!(s.next_transition(from), None);
            assert_eq!(s.desired_at(from), count);
        }
        // Weekdays all day do change, at the weekend's edges.
        let weekdays = schedule(doc("UTC", Preset::Weekdays.windows()));
        let got = weekdays.transitions(utc("2026-06-03T12:00Z"), 2);
        assert_eq!(changes(&got), expect(&[("2026-06-06T00:00Z", 0), ("2026-06-08T00:00Z", 2)]));
    }

    // ─── Overrides and plans ───

    #[test]
    fn an_override_wins_until_it_ends_then_the_schedule_resumes() {
        let s = office_hours("Europe/Berlin");
        let cases: &[(&str, Override, &str, Changes)] = &[
            (
                "on for two hours on a Saturday",
                Override { desired: 2, until: utc("2026-06-06T12:00Z"), restore: 1 },
                "2026-06-06T10:00Z",
                &[("2026-06-06T12:00Z", 0), ("2026-06-08T06:00Z", 2)],
            ),
            (
                "kept on until 20:00 on Friday: no change at 18:00",
                Override { desired: 2, until: utc("2026-06-05T18:00Z"), restore: 1 },
                "2026-06-05T15:00Z",
                &[("2026-06-05T18:00Z", 0), ("2026-06-08T06:00Z", 2)],
            ),
            (
                "off until Monday 08:00",
                Override { desired: 0, until: utc("2026-06-08T06:00Z"), restore: 1 },
                "2026-06-05T10:00Z",
                &[("2026-06-08T06:00Z", 2), ("2026-06-08T16:00Z", 0)],
            ),
            (
                "ended already: the schedule alone",
                Override { desired: 5, until: utc("2026-06-05T09:00Z"), restore: 1 },
                "2026-06-05T10:00Z",
                &[("2026-06-05T16:00Z", 0), ("2026-06-08T06:00Z", 2)],
            ),
        ];
        for (case, o, from, want) in cases {
            let plan = Plan::new(Some(&s), Some(o));
            assert_eq!(changes(&plan.transitions(utc(from), want.len())), expect(want), "{case}");
            assert_eq!(plan.next_transition(utc(from)).map(|t| show(t.at)), Some(want[0].0.to_owned()), "{case}");
        }
        let o = Override { desired: 3, until: utc("2026-06-06T12:00Z"), restore: 1 };
        let plan = Plan::new(Some(&s), Some(&o));
        assert_eq!(plan.desired_at(utc("2026-06-06T11:59:59Z")), Some(3));
        assert_eq!(plan.desired_at(utc("2026-06-06T12:00Z")), Some(0));
    }

    #[test]
    fn an_override_without_a_schedule_restores_the_app_s_count_when_it_ends() {
        let o = Override { desired: 3, until: utc("2026-06-06T12:00Z"), restore: 1 };
        let plan = Plan::new(None, Some(&o));
        assert_eq!(changes(&plan.transitions(utc("2026-06-06T10:00Z"), 5)), expect(&[("2026-06-06T12:00Z", 1)]));
        assert_eq!(plan.desired_at(utc("2026-06-06T11:59:59Z")), Some(3));
        assert_eq!(plan.desired_at(utc("2026-06-06T12:00Z")), None, "nothing governs the app any more");
        assert_eq!(plan.transitions(utc("2026-06-06T12:00Z"), 5), vec![]);
        assert_eq!(
            plan.intervals(utc("2026-06-06T11:00Z"), utc("2026-06-06T13:00Z")),
            vec![
                (utc("2026-06-06T11:00Z"), utc("2026-06-06T12:00Z"), Some(3)),
                (utc("2026-06-06T12:00Z"), utc("2026-06-06T13:00Z"), Some(1)),
            ]
        );
        let same = Override { desired: 1, ..o };
        assert_eq!(Plan::new(None, Some(&same)).transitions(utc("2026-06-06T10:00Z"), 5), vec![]);
    }

    #[test]
    fn a_disabled_schedule_governs_nothing() {
        let mut d = doc("UTC", Preset::OfficeHours.windows());
        d.enabled = false;
        let s = schedule(d);
        let plan = Plan::new(Some(&s), None);
        assert_eq!(plan.desired_at(utc("2026-06-03T12:00Z")), None);
        assert_eq!(plan.transitions(utc("2026-06-03T12:00Z"), 3), vec![]);
        assert_eq!(Plan::default().desired_at(utc("2026-06-03T12:00Z")), None);
        // The schedule itself still says what its windows say.
        assert_eq!(s.desired_at(utc("2026-06-03T12:00Z")), 2);
    }

    #[test]
    fn overrides_are_validated_when_made() {
        let now = utc("2026-06-06T10:00Z");
        let ok = OverrideDoc { desired: 2, until: utc("2026-06-06T12:00Z") };
        assert_eq!(Override::parse(&ok, 1, now).unwrap(), Override { desired: 2, until: ok.until, restore: 1 });
        assert_eq!(Override::parse(&ok, 1, now).unwrap().to_doc(), ok);
        for (bad, fields) in [
            (OverrideDoc { desired: 101, until: ok.until }, vec!["desired"]),
            (OverrideDoc { desired: 1, until: now }, vec!["until"]),
            (OverrideDoc { desired: 101, until: now + Duration::days(400) }, vec!["desired", "until"]),
        ] {
            let errors = Override::parse(&bad, 1, now).unwrap_err();
            assert_eq!(errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), fields, "{bad:?}");
        }
    }

    #[test]
    fn local_times_ahead_are_found_for_override_forms() {
        let tz = Tz::Europe__Berlin;
        let friday_noon = utc("2026-06-05T10:00Z");
        assert_eq!(show(next_local_time(tz, friday_noon, None, 20 * 60)), "2026-06-05T18:00Z");
        assert_eq!(show(next_local_time(tz, friday_noon, None, 8 * 60)), "2026-06-06T06:00Z");
        assert_eq!(show(next_local_time(tz, friday_noon, Some(Weekday::Mon), 8 * 60)), "2026-06-08T06:00Z");
        assert_eq!(show(next_local_time(tz, friday_noon, Some(Weekday::Fri), 8 * 60)), "2026-06-12T06:00Z");
    }

    // ─── Intervals for costs ───

    #[test]
    fn intervals_cover_the_range_with_their_counts() {
        let mut d = doc("Europe/Berlin", Preset::OfficeHours.windows());
        d.off_count = 1;
        let s = schedule(d);
        let (from, to) = (utc("2026-06-05T12:00Z"), utc("2026-06-08T12:00Z"));
        assert_eq!(
            s.on_intervals(from, to),
            vec![
                (from, utc("2026-06-05T16:00Z"), 2),
                (utc("2026-06-05T16:00Z"), utc("2026-06-08T06:00Z"), 1),
                (utc("2026-06-08T06:00Z"), to, 2),
            ]
        );
        assert_eq!(s.task_hours(from, to), 4.0 * 2.0 + 62.0 + 6.0 * 2.0);
        assert_eq!(s.on_intervals(to, from), vec![]);
        // A whole June of office hours in Berlin: 22 working days of 10 hours, 2 tasks each,
        // and 1 task for the remaining 720 - 220 hours.
        let june = (utc("2026-06-01T00:00:00+02:00"), utc("2026-07-01T00:00:00+02:00"));
        assert_eq!(s.task_hours(june.0, june.1), 22.0 * 10.0 * 2.0 + 500.0);
        let always = schedule(doc("UTC", Preset::AlwaysOn.windows()));
        assert_eq!(always.on_intervals(from, to), vec![(from, to, 2)]);
    }

    // ─── Validation ───

    #[test]
    fn documents_parse_and_round_trip() {
        let mut d = doc("Europe/Berlin", vec![window(&["Fri", "monday", "mon"], "8:00", "24:00")]);
        d.on_count = None;
        d.exceptions = vec![only("2026-12-31", "09:00", "12:00"), off_on("2026-12-24")];
        d.mode = "transitions".into();
        let s = Schedule::parse(&d, 3).unwrap();
        assert_eq!(s.on_count(), 3);
        assert_eq!(s.mode(), Mode::Transitions);
        assert_eq!(s.windows()[0].days().names(), vec!["mon", "fri"]);
        let back = s.to_doc();
        assert_eq!(back.windows, vec![window(&["mon", "fri"], "08:00", "24:00")]);
        assert_eq!(back.exceptions, vec![off_on("2026-12-24"), only("2026-12-31", "09:00", "12:00")]);
        assert_eq!(back.on_count, Some(3));
        assert_eq!(Schedule::parse(&back, 7).unwrap(), s);
    }

    #[test]
    fn every_bad_field_is_reported_with_its_name() {
        let cases: Vec<(&str, Edit, &str, &str)> = vec![
            (
                "unknown zone",
                Box::new(|d| d.timezone = "Mars/Base".into()),
                "timezone",
                "unknown time zone \"Mars/Base\"",
            ),
            ("no zone", Box::new(|d| d.timezone = " ".into()), "timezone", "required"),
            ("unknown day", Box::new(|d| d.windows[0].days = vec!["funday".into()]), "windows[0].days", "unknown day"),
            ("no day", Box::new(|d| d.windows[0].days = vec![]), "windows[0].days", "at least one day"),
            ("hour 25", Box::new(|d| d.windows[0].start = "25:00".into()), "windows[0].start", "not a time"),
            ("minute 60", Box::new(|d| d.windows[0].end = "17:60".into()), "windows[0].end", "not a time"),
            ("no colon", Box::new(|d| d.windows[0].end = "1700".into()), "windows[0].end", "not a time"),
            ("starting at 24:00", Box::new(|d| d.windows[0].start = "24:00".into()), "windows[0].start", "only end"),
            ("empty window", Box::new(|d| d.windows[0].end = "08:00".into()), "windows[0].end", "must differ"),
            (
                "too many windows",
                Box::new(|d| d.windows = vec![window(&["mon"], "08:00", "09:00"); 29]),
                "windows",
                "at most 28",
            ),
            ("bad date", Box::new(|d| d.exceptions = vec![off_on("2026-02-30")]), "exceptions[0].date", "not a date"),
            ("short date", Box::new(|d| d.exceptions = vec![off_on("2026-2-3")]), "exceptions[0].date", "YYYY-MM-DD"),
            (
                "same date twice",
                Box::new(|d| d.exceptions = vec![off_on("2026-12-24"), off_on("2026-12-25"), off_on("2026-12-24")]),
                "exceptions[2].date",
                "listed twice (also exceptions[0])",
            ),
            (
                "reversed exception",
                Box::new(|d| d.exceptions = vec![only("2026-12-24", "14:00", "10:00")]),
                "exceptions[0].end",
                "stays within its day",
            ),
            (
                "exception without times",
                Box::new(|d| d.exceptions = vec![ExceptionDoc { start: None, ..only("2026-12-24", "10:00", "12:00") }]),
                "exceptions[0].start",
                "required unless the day is off",
            ),
            (
                "off day with times",
                Box::new(|d| d.exceptions = vec![ExceptionDoc { off: true, ..only("2026-12-24", "10:00", "12:00") }]),
                "exceptions[0].start",
                "no start or end",
            ),
            (
                "too many exceptions",
                Box::new(|d| {
                    let first = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
                    d.exceptions = first.iter_days().take(367).map(|day| off_on(&day.to_string())).collect();
                }),
                "exceptions",
                "at most 366",
            ),
            ("on count 0", Box::new(|d| d.on_count = Some(0)), "on_count", "between 1 and 100"),
            ("on count 101", Box::new(|d| d.on_count = Some(101)), "on_count", "between 1 and 100"),
            ("off count 101", Box::new(|d| d.off_count = 101), "off_count", "between 0 and 100"),
            ("mode", Box::new(|d| d.mode = "sometimes".into()), "mode", "enforced or transitions"),
        ];
        for (case, change, field, message) in cases {
            let mut d = doc("Europe/Berlin", vec![window(MON_FRI, "08:00", "18:00")]);
            change(&mut d);
            let errors = Schedule::parse(&d, 1).unwrap_err();
            assert_eq!(errors.len(), 1, "{case}: {errors:?}");
            assert_eq!(errors[0].field, field, "{case}");
            assert!(errors[0].message.contains(message), "{case}: {}", errors[0].message);
        }
        // A missing on count falls back to the app's, which must then be valid.
        let mut d = doc("UTC", Preset::OfficeHours.windows());
        d.on_count = None;
        let errors = Schedule::parse(&d, 0).unwrap_err();
        assert_eq!((errors[0].field.as_str(), errors.len()), ("on_count", 1));
        assert!(errors[0].message.contains("the app's own desired count (0)"));
    }

    #[test]
    fn all_bad_fields_are_reported_at_once() {
        let d = ScheduleDoc {
            timezone: "Mars/Base".into(),
            windows: vec![
                window(&["funday"], "08:00", "18:00"),
                window(MON_FRI, "25:00", "8:0"),
                window(MON_FRI, "09:00", "9:00"),
            ],
            on_count: Some(0),
            off_count: 0,
            exceptions: vec![off_on("2026-12-24"), off_on("tomorrow"), off_on("2026-12-24")],
            mode: "sometimes".into(),
            enabled: true,
        };
        let errors = Schedule::parse(&d, 1).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "timezone",
                "windows[0].days",
                "windows[1].start",
                "windows[1].end",
                "windows[2].end",
                "on_count",
                "exceptions[1].date",
                "exceptions[2].date",
                "mode",
            ]
        );
    }

    #[test]
    fn times_and_days_parse_leniently_and_print_strictly() {
        for (raw, minutes) in [("8:00", 480), ("08:00", 480), (" 23:59 ", 1439), ("0:00", 0), ("24:00", 1440)] {
            assert_eq!(parse_time(raw), Some(minutes), "{raw}");
        }
        for bad in ["", "8", "8:0", "08:000", "24:01", "-1:00", "+8:00", "８:00", "08.00"] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
        assert_eq!((format_time(480), format_time(1440)), ("08:00".to_owned(), "24:00".to_owned()));
        assert_eq!(
            (parse_day("TUE"), parse_day("sunday"), parse_day("tues")),
            (Some(Weekday::Tue), Some(Weekday::Sun), None)
        );
    }

    #[test]
    fn presets_are_valid_schedules() {
        for preset in Preset::ALL {
            assert_eq!(Preset::from_key(preset.key()), Some(preset));
            let d = ScheduleDoc::from_preset(preset, "Europe/Berlin");
            assert!(Schedule::parse(&d, 1).is_ok(), "{}", preset.label());
        }
        assert_eq!(Preset::Extended.windows(), vec![window(MON_FRI, "07:00", "20:00")]);
    }

    #[test]
    fn documents_default_their_optional_fields_and_refuse_unknown_ones() {
        use serde::de::value::{Error, MapDeserializer};
        let only_zone = MapDeserializer::<_, Error>::new([("timezone", "UTC")].into_iter());
        let d = ScheduleDoc::deserialize(only_zone).unwrap();
        assert_eq!(
            d,
            ScheduleDoc {
                timezone: "UTC".into(),
                windows: vec![],
                on_count: None,
                off_count: 0,
                exceptions: vec![],
                mode: "enforced".into(),
                enabled: true
            }
        );
        let typo = MapDeserializer::<_, Error>::new([("timezone", "UTC"), ("window", "x")].into_iter());
        assert!(ScheduleDoc::deserialize(typo).unwrap_err().to_string().contains("unknown field `window`"));
    }

    // ─── Properties ───

    const ZONES: &[&str] = &[
        "Europe/Berlin",
        "America/New_York",
        "Australia/Sydney",
        "Asia/Tokyo",
        "UTC",
        "Australia/Lord_Howe",
        "America/Santiago",
        "Asia/Kathmandu",
    ];

    fn quarter_hours(range: std::ops::Range<u16>) -> impl Strategy<Value = u16> {
        range.prop_map(|q| q * 15)
    }

    fn arb_window() -> impl Strategy<Value = WindowDoc> {
        (1u8..128, quarter_hours(0..96), quarter_hours(1..97)).prop_map(|(days, start, end)| {
            let end = if end == start { start + 15 } else { end };
            let days = (0..7).filter(|i| days & 1 << i != 0).map(|i| DAY_NAMES[i].to_owned()).collect();
            WindowDoc { days, start: format_time(start), end: format_time(end) }
        })
    }

    fn arb_exception() -> impl Strategy<Value = ExceptionDoc> {
        (0u64..730, any::<bool>(), quarter_hours(0..96), quarter_hours(1..97)).prop_map(|(day, off, a, b)| {
            let date = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Days::new(day);
            let (start, end) = (a.min(b), if a == b { a + 15 } else { a.max(b) });
            if off {
                off_on(&date.to_string())
            } else {
                only(&date.to_string(), &format_time(start), &format_time(end))
            }
        })
    }

    /// Two windows every day, `a`–`b` and `b`–`a`: always on, one of them past midnight.
    fn arb_whole_week() -> impl Strategy<Value = Vec<WindowDoc>> {
        (quarter_hours(0..96), 1u16..96).prop_map(|(a, k)| {
            let b = (a + k * 15) % MINUTES_PER_DAY;
            vec![
                window(&DAY_NAMES, &format_time(a), &format_time(b)),
                window(&DAY_NAMES, &format_time(b), &format_time(a)),
            ]
        })
    }

    /// Random valid schedules: weekly windows (always on in a quarter of them), and up to
    /// 30 exceptions in 2026–2027, so that a week often has one.
    fn arb_schedule() -> impl Strategy<Value = Schedule> {
        (
            prop::sample::select(ZONES),
            prop::collection::vec(arb_window(), 0..5),
            prop::option::weighted(0.25, arb_whole_week()),
            prop::collection::vec(arb_exception(), 0..30),
            (1u32..5, 0u32..5),
        )
            .prop_map(|(zone, mut windows, whole_week, mut exceptions, (on, off))| {
                windows.extend(whole_week.unwrap_or_default());
                exceptions.sort_by(|a, b| a.date.cmp(&b.date));
                exceptions.dedup_by(|a, b| a.date == b.date);
                let mut d = doc(zone, windows);
                d.exceptions = exceptions;
                (d.on_count, d.off_count) = (Some(on), if off == on { 0 } else { off });
                schedule(d)
            })
    }

    fn arb_instant() -> impl Strategy<Value = DateTime<Utc>> {
        let (start, end) = (utc("2026-01-01T00:00Z").timestamp(), utc("2028-01-01T00:00Z").timestamp());
        (start..end).prop_map(|secs| DateTime::from_timestamp(secs, 0).unwrap())
    }

    /// Whether `at` is on, read off the local wall clock: right wherever no offset changes
    /// within three hours of `at` (`None` elsewhere).
    fn on_by_wall_clock(s: &Schedule, at: DateTime<Utc>) -> Option<bool> {
        let tz = s.timezone();
        let offset = |t: DateTime<Utc>| tz.offset_from_utc_datetime(&t.naive_utc()).fix();
        if offset(at - Duration::hours(3)) != offset(at + Duration::hours(3)) {
            return None;
        }
        let local = at.with_timezone(&tz).naive_local();
        let (day, minute) = (local.date(), (local.hour() * 60 + local.minute()) as u16);
        let exception = |d: NaiveDate| s.exceptions().iter().find(|e| e.date == d).map(|e| e.kind);
        let yesterday = day.pred_opt().unwrap();
        Some(match exception(day) {
            Some(ExceptionKind::Off) => false,
            Some(ExceptionKind::Window { start, end }) => start <= minute && minute < end,
            None => s.windows().iter().any(|w| {
                let today =
                    w.days().contains(day.weekday()) && w.start() <= minute && (w.past_midnight() || minute < w.end());
                let spilled = exception(yesterday).is_none()
                    && w.days().contains(yesterday.weekday())
                    && w.past_midnight()
                    && minute < w.end();
                today || spilled
            }),
        })
    }

    proptest! {
        #[test]
        fn transitions_are_increasing_alternating_changes(s in arb_schedule(), from in arb_instant()) {
            let got = s.transitions(from, 12);
            let mut previous = (from, s.desired_at(from));
            for t in &got {
                prop_assert!(t.at > previous.0, "not increasing: {got:?}");
                prop_assert!(t.desired != previous.1, "not a change: {got:?}");
                prop_assert!(t.desired == s.on_count() || t.desired == s.off_count());
                prop_assert_eq!(s.desired_at(t.at), t.desired, "at {}", t.at);
                prop_assert_eq!(s.desired_at(t.at + Duration::seconds(1)), t.desired, "after {}", t.at);
                prop_assert_ne!(s.desired_at(t.at - Duration::seconds(1)), t.desired, "before {}", t.at);
                previous = (t.at, t.desired);
            }
            prop_assert_eq!(s.next_transition(from), got.first().copied());
        }

        #[test]
        fn nothing_changes_between_transitions(s in arb_schedule(), from in arb_instant()) {
            // Every quarter hour over six weeks: the count changes exactly at the transitions.
            let to = from + Duration::days(42);
            let expected: Vec<DateTime<Utc>> =
                s.transitions(from, 1000).into_iter().map(|t| t.at).take_while(|at| *at <= to).collect();
            let first = from + Duration::seconds(900 - from.timestamp().rem_euclid(900));
            let mut seen = Vec::new();
            let mut t = first;
            let mut before = s.desired_at(from);
            while t <= to {
                let now = s.desired_at(t);
                if now != before {
                    seen.push(t);
                }
                before = now;
                t += Duration::minutes(15);
            }
            prop_assert_eq!(seen, expected);
        }

        #[test]
        fn away_from_clock_changes_the_count_is_what_the_wall_clock_says(s in arb_schedule(), at in arb_instant()) {
            // A random instant, and every 35 minutes around each exception's day.
            let around_exceptions = s.exceptions().iter().flat_map(|e| {
                let midnight = local_instant(s.timezone(), e.date, 0);
                (-10..52).map(move |k| midnight + Duration::minutes(35 * k))
            });
            for at in std::iter::once(at).chain(around_exceptions) {
                if let Some(on) = on_by_wall_clock(&s, at) {
                    prop_assert_eq!(s.desired_at(at), if on { s.on_count() } else { s.off_count() }, "at {}", at);
                }
            }
        }

        #[test]
        fn intervals_tile_the_range(s in arb_schedule(), from in arb_instant(), hours in 1i64..2000) {
            let to = from + Duration::hours(hours);
            let pieces = s.on_intervals(from, to);
            prop_assert_eq!(pieces.first().map(|p| p.0), Some(from));
            prop_assert_eq!(pieces.last().map(|p| p.1), Some(to));
            for pair in pieces.windows(2) {
                prop_assert_eq!(pair[0].1, pair[1].0);
                prop_assert_ne!(pair[0].2, pair[1].2);
            }
            for (start, end, count) in &pieces {
                prop_assert!(start < end);
                prop_assert_eq!(s.desired_at(*start), *count);
            }
        }

        #[test]
        fn plans_with_an_override_change_strictly(s in arb_schedule(), from in arb_instant(), minutes in 1i64..10_000, desired in 0u32..4) {
            let o = Override { desired, until: from + Duration::minutes(minutes), restore: 1 };
            let plan = Plan::new(Some(&s), Some(&o));
            let got = plan.transitions(from, 8);
            let mut previous = (from, plan.desired_at(from));
            prop_assert_eq!(previous.1, Some(desired));
            for t in &got {
                prop_assert!(t.at > previous.0);
                prop_assert!(Some(t.desired) != previous.1);
                prop_assert_eq!(plan.desired_at(t.at), Some(t.desired));
                previous = (t.at, Some(t.desired));
            }
            prop_assert!(got.first().is_none_or(|t| t.at >= o.until));
        }

        #[test]
        fn documents_round_trip(s in arb_schedule()) {
            prop_assert_eq!(Schedule::parse(&s.to_doc(), 1).unwrap(), s);
        }
    }
}
