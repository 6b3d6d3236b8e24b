//! The schedule engine: validated schedules, what they want at an instant and when that
//! changes, across time zones and daylight saving (see the rules in [`super`]).

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
        errors
            .push(ValidationError::new(&field("end"), "must differ from the start (00:00 to 24:00 is the whole day)"));
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

/// The first `count` transitions a scan visits (it is stopped after the last one wanted).
fn first_of(
    count: usize,
    scan: impl FnOnce(&mut dyn FnMut(Transition) -> ControlFlow<()>) -> ControlFlow<()>,
) -> Vec<Transition> {
    let mut out = Vec::with_capacity(count.min(16));
    if count > 0 {
        let _ = scan(&mut |t| {
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

/// `[from, to)` cut at the transitions a scan visits, each piece with the count `first` at
/// `from`, then `count_after` each transition. Empty when `to <= from`.
fn cut<T: Copy>(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    first: T,
    count_after: impl Fn(&Transition) -> T,
    scan: impl FnOnce(&mut dyn FnMut(Transition) -> ControlFlow<()>) -> ControlFlow<()>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>, T)> {
    let mut out = Vec::new();
    if to <= from {
        return out;
    }
    let (mut start, mut count) = (from, first);
    let _ = scan(&mut |t| {
        if t.at >= to {
            return ControlFlow::Break(());
        }
        out.push((start, t.at, count));
        (start, count) = (t.at, count_after(&t));
        ControlFlow::Continue(())
    });
    out.push((start, to, count));
    out
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
        first_of(count, |visit| self.scan(from, visit))
    }

    /// The first instant strictly after `from` where the desired count changes.
    pub fn next_transition(&self, from: DateTime<Utc>) -> Option<Transition> {
        first_of(1, |visit| self.scan(from, visit)).pop()
    }

    /// `[from, to)` cut where the desired count changes, each piece with its count (off
    /// pieces included): what the cost engine prices. Empty when `to <= from`.
    pub fn on_intervals(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>, u32)> {
        cut(from, to, self.desired_at(from), |t| t.desired, |visit| self.scan(from, visit))
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
        first_of(count, |visit| self.scan(from, visit))
    }

    /// The first change strictly after `from`.
    pub fn next_transition(&self, from: DateTime<Utc>) -> Option<Transition> {
        first_of(1, |visit| self.scan(from, visit)).pop()
    }

    /// `[from, to)` cut where the count changes, each piece with its count: `None` where
    /// nothing governs the app (the app's own desired count applies), and `restore`
    /// after an override that no schedule follows.
    pub fn intervals(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Vec<(DateTime<Utc>, DateTime<Utc>, Option<u32>)> {
        cut(from, to, self.desired_at(from), |t| Some(t.desired), |visit| self.scan(from, visit))
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
