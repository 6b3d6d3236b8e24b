//! A schedule held by AWS: the Application Auto Scaling scheduled actions that keep an app's
//! service (`ecs:service:DesiredCount`) on its schedule with no console running, a simulator
//! of how AWS runs them, and the diff a reconciler applies. Pure: no SDK types.
//!
//! # The translation ([`materialise`])
//!
//! - **Weekly windows** become recurring actions in the schedule's IANA zone. The windows are
//!   first merged into the week's on-blocks (as the engine merges them), so that no two
//!   actions with different bounds ever run at the same instant: each block's start is a
//!   *start* action (`min` = on-count, `max` = the app's maximum), each block's end an *end*
//!   action (`min` = `max` = off-count), one `cron(M H ? * DAYS *)` per time of day. A block
//!   past midnight ends with a cron on the next days. Office hours are two actions.
//! - **One-off actions** are `at(yyyy-mm-ddThh:mm:ss)` in **UTC** ([`ActionSchedule::At`]
//!   holds an instant; the adapter sends it with `Timezone` `UTC`): an instant cannot fall
//!   into a daylight-saving gap or happen twice.
//! - **Exceptions and an override are held periods.** Around each exception date `D` within
//!   the horizon, from `D` 00:00 to `D+2` 00:00 local (the exception owns `D`; `D`'s windows
//!   do not spill into `D+1`), and while an override is in force (from now to its end), a
//!   recurring action that would run is split with `StartTime`/`EndTime` around the period,
//!   and `at(...)` actions play the engine's own transitions within it (an override's end
//!   always gets one, to hand the bounds back to the schedule; with autoscaling two: the
//!   on-count, then the range a second later). A split recurring action
//!   keeps its name, the later part is named after the instant it resumes at.
//! - **Daylight saving.** AWS skips a cron whose local time does not exist that day, where
//!   the engine moves it to the first instant after the gap: for each such day where the
//!   engine changes the count at that instant, an extra `at(...)` does it. A local time that
//!   happens twice runs once, at its first occurrence, as in the engine.
//! - **Horizon and the 200-action limit.** One-off actions and splits cover exceptions
//!   whose held period starts before `now + horizon` ([`Limits`], 92 days by default); the
//!   weekly actions run for ever, so a console down longer than the horizon still gets the
//!   weekly schedule (only exceptions further ahead are missed). The plan is re-made once a
//!   day. When the actions would exceed [`Limits::max_actions`] (AWS: 200 per scalable
//!   target) the horizon is **shortened**, a day at a time, down to one day, and
//!   [`Materialised::covered_until`] says how far it reaches; if even one day does not fit,
//!   [`MaterialiseError::TooMany`].
//! - **Counts.** AWS clamps the current count into `[min, max]`. With `max` = on-count the
//!   counts are the engine's exactly; with a larger `max` (autoscaling between) a window
//!   starts at `clamp(off, on, max)` (the on-count when off < on) and target tracking moves
//!   it within the bounds.
//! - **Now.** The actions hold the schedule from their next run; what applies right now is
//!   [`Materialised::bounds_now`], which the adapter sets on the scalable target.
//!
//! Names are deterministic and unique per scalable target (`shinyfleet-start-0800`,
//! `shinyfleet-end-1800-from-20261228T230000Z`, `shinyfleet-at-20260329T010000Z`), letters,
//! digits and `-` only, far below 256 characters, so materialising the same inputs again
//! gives the same set and [`diff`] finds nothing to do.

use super::{local_instant, Days, Override, Plan, Schedule, MINUTES_PER_DAY, WEEKDAYS};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, SubsecRound, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// AWS's limit of scheduled actions per scalable target.
pub const MAX_ACTIONS: usize = 200;
/// How far ahead exceptions are held by default.
pub const DEFAULT_HORIZON_DAYS: i64 = 92;
/// Every action ShinyFleet puts starts with this; [`diff`] leaves others alone.
pub const PREFIX: &str = "shinyfleet-";

// ─── Types ───

/// One Application Auto Scaling scheduled action, as ShinyFleet plans it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledAction {
    /// Unique per scalable target, deterministic: see the module's notes.
    pub name: String,
    pub schedule: ActionSchedule,
    /// Recurring actions only: the first instant the recurrence may run (inclusive).
    pub start_time: Option<DateTime<Utc>>,
    /// Recurring actions only: the last instant the recurrence may run (inclusive).
    pub end_time: Option<DateTime<Utc>>,
    /// `MinCapacity`.
    pub min: u32,
    /// `MaxCapacity`.
    pub max: u32,
}

/// When an action runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionSchedule {
    /// `cron(M H ? * DAYS *)` in the IANA zone `tz` (the action's `Timezone`).
    Cron { expr: Cron, tz: Tz },
    /// `at(yyyy-mm-ddThh:mm:ss)` with `Timezone` `UTC`: an instant, to the second.
    At(DateTime<Utc>),
}

/// A weekly cron: a local time of day on some days of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cron {
    minute: u16,
    days: Days,
}

/// Whether a recurring action starts or ends the week's on-blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Edge {
    Start,
    End,
}

/// How far the one-off actions reach and how many actions a target may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub horizon: Duration,
    pub max_actions: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { horizon: Duration::days(DEFAULT_HORIZON_DAYS), max_actions: MAX_ACTIONS }
    }
}

/// The actions that hold a schedule, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Materialised {
    pub actions: Vec<ScheduledAction>,
    /// Exceptions whose held period starts before this instant are held (`now + horizon`,
    /// shortened when the actions would not fit).
    pub covered_until: DateTime<Utc>,
    /// `(min, max)` the scalable target should have now.
    pub bounds_now: (u32, u32),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MaterialiseError {
    #[error("the app's maximum ({max} tasks) is below the schedule's on count ({on})")]
    MaxBelowOn { on: u32, max: u32 },
    #[error("the schedule needs {needed} scheduled actions even one day ahead; AWS allows {limit} per service")]
    TooMany { needed: usize, limit: usize },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimulationError {
    #[error("{first} and {second} both run at {at} with different bounds, in no set order")]
    Conflict { at: DateTime<Utc>, first: String, second: String },
    #[error("{name}: min {min} is above max {max}")]
    Bounds { name: String, min: u32, max: u32 },
}

// ─── Cron and at() expressions ───

const AWS_DAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

impl Cron {
    /// `minute` after local midnight (below 1440) on `days`.
    pub fn new(minute: u16, days: Days) -> Option<Cron> {
        (minute < MINUTES_PER_DAY && !days.is_empty()).then_some(Cron { minute, days })
    }

    pub fn minute(&self) -> u16 {
        self.minute
    }

    pub fn days(&self) -> Days {
        self.days
    }

    /// The days as AWS writes them, Sunday first (AWS's 1), runs of three or more as
    /// ranges: `MON-FRI`, `SUN,SAT`.
    fn day_field(&self) -> String {
        let sunday_first = |i: usize| WEEKDAYS[(i + 6) % 7];
        let on: Vec<bool> = (0..7).map(|i| self.days.contains(sunday_first(i))).collect();
        let mut parts = Vec::new();
        let mut i = 0;
        while i < 7 {
            if !on[i] {
                i += 1;
                continue;
            }
            let mut j = i;
            while j + 1 < 7 && on[j + 1] {
                j += 1;
            }
            match j - i {
                0 => parts.push(AWS_DAY_NAMES[i].to_owned()),
                1 => parts.extend([AWS_DAY_NAMES[i].to_owned(), AWS_DAY_NAMES[j].to_owned()]),
                _ => parts.push(format!("{}-{}", AWS_DAY_NAMES[i], AWS_DAY_NAMES[j])),
            }
            i = j + 1;
        }
        parts.join(",")
    }

    /// The instant AWS runs this cron on local `date` in `tz`: `None` when it does not run
    /// that day (another weekday, or the time falls into a spring-forward gap); the first
    /// occurrence of a time that happens twice.
    pub fn run_on(&self, tz: Tz, date: NaiveDate) -> Option<DateTime<Utc>> {
        if !self.days.contains(date.weekday()) {
            return None;
        }
        let local = date.and_hms_opt(u32::from(self.minute / 60), u32::from(self.minute % 60), 0)?;
        tz.from_local_datetime(&local).earliest().map(|t| t.to_utc())
    }
}

impl fmt::Display for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cron({} {} ? * {} *)", self.minute % 60, self.minute / 60, self.day_field())
    }
}

impl ActionSchedule {
    /// The `Schedule` field of `PutScheduledAction`.
    pub fn expression(&self) -> String {
        match self {
            Self::Cron { expr, .. } => expr.to_string(),
            Self::At(t) => format!("at({})", t.format("%Y-%m-%dT%H:%M:%S")),
        }
    }

    /// The `Timezone` field of `PutScheduledAction`.
    pub fn timezone(&self) -> &'static str {
        match self {
            Self::Cron { tz, .. } => tz.name(),
            Self::At(_) => "UTC",
        }
    }

    /// Reads back an expression and time zone as AWS lists them (`None`: UTC). Only the
    /// shapes [`expression`](Self::expression) writes are understood; anything else is not
    /// ShinyFleet's and is refused.
    pub fn parse(expression: &str, timezone: Option<&str>) -> Result<ActionSchedule, String> {
        let expression = expression.trim();
        let tz: Tz = match timezone.map(str::trim).filter(|z| !z.is_empty()) {
            None => Tz::UTC,
            Some(z) => z.parse().map_err(|_| format!("unknown time zone {z:?}"))?,
        };
        if let Some(inner) = expression.strip_prefix("at(").and_then(|e| e.strip_suffix(')')) {
            let local = NaiveDateTime::parse_from_str(inner, "%Y-%m-%dT%H:%M:%S")
                .map_err(|_| format!("{expression:?}: not at(yyyy-mm-ddThh:mm:ss)"))?;
            let t = tz
                .from_local_datetime(&local)
                .single()
                .ok_or_else(|| format!("{expression:?}: not a single instant in {}", tz.name()))?;
            return Ok(ActionSchedule::At(t.to_utc()));
        }
        let inner = expression
            .strip_prefix("cron(")
            .and_then(|e| e.strip_suffix(')'))
            .ok_or_else(|| format!("{expression:?}: neither at(...) nor cron(...)"))?;
        let fields: Vec<&str> = inner.split_whitespace().collect();
        let [m, h, "?", "*", days, "*"] = fields[..] else {
            return Err(format!("{expression:?}: not cron(M H ? * DAYS *)"));
        };
        let number = |s: &str, below: u16| s.parse::<u16>().ok().filter(|n| *n < below);
        let (Some(m), Some(h)) = (number(m, 60), number(h, 24)) else {
            return Err(format!("{expression:?}: bad minute or hour"));
        };
        let days = parse_day_field(days).ok_or_else(|| format!("{expression:?}: bad days"))?;
        let expr = Cron::new(h * 60 + m, days).ok_or_else(|| format!("{expression:?}: no day"))?;
        Ok(ActionSchedule::Cron { expr, tz })
    }
}

/// `MON-FRI`, `SUN,SAT`, `2-6`: AWS's day-of-week field (1 or `SUN` is Sunday).
fn parse_day_field(raw: &str) -> Option<Days> {
    let one = |s: &str| -> Option<usize> {
        match s.parse::<usize>() {
            Ok(n) if (1..=7).contains(&n) => Some(n - 1),
            Ok(_) => None,
            Err(_) => AWS_DAY_NAMES.iter().position(|d| d.eq_ignore_ascii_case(s)),
        }
    };
    raw.split(',').try_fold(Days::NONE, |days, part| {
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (one(a)?, one(b)?),
            None => (one(part)?, one(part)?),
        };
        (a <= b).then(|| (a..=b).fold(days, |days, i| days.with(WEEKDAYS[(i + 6) % 7])))
    })
}

impl ScheduledAction {
    /// The instants in `(from, to)` at which AWS runs this action, in order.
    pub fn runs(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let within = |t: &DateTime<Utc>| {
            *t > from && *t < to && self.start_time.is_none_or(|s| *t >= s) && self.end_time.is_none_or(|e| *t <= e)
        };
        match self.schedule {
            ActionSchedule::At(t) => [t].into_iter().filter(within).collect(),
            ActionSchedule::Cron { expr, tz } => {
                if to <= from {
                    return Vec::new();
                }
                let first = from.with_timezone(&tz).date_naive().pred_opt().unwrap_or(NaiveDate::MIN);
                let last = to.with_timezone(&tz).date_naive().succ_opt().unwrap_or(NaiveDate::MAX);
                first.iter_days().take_while(|d| *d <= last).filter_map(|d| expr.run_on(tz, d)).filter(within).collect()
            }
        }
    }
}

// ─── The translation ───

/// The week's on-blocks as recurring actions: per edge and local time of day, the days.
pub fn weekly_crons(schedule: &Schedule) -> Vec<(Edge, Cron)> {
    const DAY: usize = MINUTES_PER_DAY as usize;
    const WEEK: usize = 7 * DAY;
    let mut covered = vec![false; WEEK];
    for w in schedule.windows() {
        let (start, end) = (usize::from(w.start()), usize::from(w.end()));
        let len = if w.past_midnight() { DAY - start + end } else { end - start };
        for day in w.days().iter() {
            let first = day.num_days_from_monday() as usize * DAY + start;
            for i in first..first + len {
                covered[i % WEEK] = true;
            }
        }
    }
    let mut edges: BTreeMap<(Edge, u16), Days> = BTreeMap::new();
    for i in 0..WEEK {
        let (before, now) = (covered[(i + WEEK - 1) % WEEK], covered[i]);
        if before != now {
            let edge = if now { Edge::Start } else { Edge::End };
            let key = (edge, (i % DAY) as u16);
            let days = edges.entry(key).or_default();
            *days = days.with(WEEKDAYS[i / DAY]);
        }
    }
    edges.into_iter().filter_map(|((edge, minute), days)| Some((edge, Cron::new(minute, days)?))).collect()
}

/// The scheduled actions that hold `schedule` (and `override_`, when in force at `now`) in
/// AWS, `max` being the app's maximum while on (its on-count without autoscaling). A
/// disabled schedule holds nothing: no actions. See the module's notes for the rules.
pub fn materialise(
    schedule: &Schedule,
    override_: Option<&Override>,
    max: u32,
    now: DateTime<Utc>,
    limits: Limits,
) -> Result<Materialised, MaterialiseError> {
    let override_ = override_.filter(|o| o.in_force(now)).map(|o| Override { until: ceil_second(o.until), ..*o });
    let plan = Plan::new(Some(schedule), override_.as_ref());
    let bounds = Bounds { on: schedule.on_count(), off: schedule.off_count(), max };
    let bounds_now = match plan.desired_at(now) {
        Some(n) if override_.is_some() => (n, n),
        Some(n) => bounds.of(n),
        None => (0, 0),
    };
    if !schedule.enabled() {
        return Ok(Materialised { actions: Vec::new(), covered_until: now, bounds_now });
    }
    if max < schedule.on_count() {
        return Err(MaterialiseError::MaxBelowOn { on: schedule.on_count(), max });
    }
    let crons = weekly_crons(schedule);
    let mut horizon = limits.horizon.max(Duration::days(1));
    loop {
        let until = now + horizon;
        let actions = plan_actions(schedule, &plan, override_.as_ref(), bounds, &crons, now, until);
        if actions.len() <= limits.max_actions {
            return Ok(Materialised { actions, covered_until: until, bounds_now });
        }
        if horizon <= Duration::days(1) {
            return Err(MaterialiseError::TooMany { needed: actions.len(), limit: limits.max_actions });
        }
        horizon = (horizon - Duration::days(1)).max(Duration::days(1));
    }
}

/// What an on or off state asks of the target.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    on: u32,
    off: u32,
    max: u32,
}

impl Bounds {
    /// `(min, max)` for a count the schedule wants: on, up to the maximum; off, exactly.
    fn of(&self, desired: u32) -> (u32, u32) {
        if desired == self.on {
            (self.on, self.max)
        } else {
            (desired, desired)
        }
    }
}

/// A span where the weekly actions stand aside and one-offs play the engine, both ends
/// included.
#[derive(Debug, Clone, Copy)]
struct Held {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

fn plan_actions(
    schedule: &Schedule,
    plan: &Plan<'_>,
    override_: Option<&Override>,
    bounds: Bounds,
    crons: &[(Edge, Cron)],
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Vec<ScheduledAction> {
    let tz = schedule.timezone();
    let held = held_periods(schedule, override_, now, until);
    let mut at: BTreeMap<DateTime<Utc>, (u32, u32)> = BTreeMap::new();
    // Within held periods, the engine's own transitions.
    for h in &held {
        let mut from = (h.from - Duration::seconds(1)).max(now);
        while let Some(t) = plan.next_transition(from).filter(|t| t.at <= h.to) {
            at.entry(t.at).or_insert_with(|| bounds.of(t.desired));
            from = t.at;
        }
    }
    // Outside them, the days AWS skips a cron in a spring-forward gap and the engine acts.
    let first = now.with_timezone(&tz).date_naive().pred_opt().unwrap_or(NaiveDate::MIN);
    let last = until.with_timezone(&tz).date_naive();
    for (_, cron) in crons {
        for day in first.iter_days().take_while(|d| *d <= last) {
            if !cron.days.contains(day.weekday()) || cron.run_on(tz, day).is_some() {
                continue;
            }
            let t = local_instant(tz, day, cron.minute);
            let outside = held.iter().all(|h| t < h.from || t > h.to);
            let before = schedule.desired_at(t - Duration::seconds(1));
            if t > now && t < until && outside && schedule.desired_at(t) != before {
                at.entry(t).or_insert_with(|| bounds.of(schedule.desired_at(t)));
            }
        }
    }
    // The override's end hands the bounds back to the schedule, whatever the count; to a
    // range (autoscaling), by way of the on-count, as the engine says, a second earlier.
    if let Some(o) = override_ {
        let (min, max) = bounds.of(schedule.desired_at(o.until));
        if min < max && o.desired != min {
            at.insert(o.until, (min, min));
            at.entry(o.until + Duration::seconds(1)).or_insert((min, max));
        } else {
            at.insert(o.until, (min, max));
        }
    }
    let mut actions: Vec<ScheduledAction> = at
        .into_iter()
        .map(|(t, (min, max))| ScheduledAction {
            name: format!("{PREFIX}at-{}", stamp(t)),
            schedule: ActionSchedule::At(t),
            start_time: None,
            end_time: None,
            min,
            max,
        })
        .collect();
    for (edge, cron) in crons {
        let (min, max) = match edge {
            Edge::Start => (bounds.on, bounds.max),
            Edge::End => (bounds.off, bounds.off),
        };
        let base = format!(
            "{PREFIX}{}-{:02}{:02}",
            match edge {
                Edge::Start => "start",
                Edge::End => "end",
            },
            cron.minute / 60,
            cron.minute % 60
        );
        // Split around each held period the cron would run in.
        let mut start: Option<DateTime<Utc>> = None;
        for h in held.iter().filter(|h| runs_within(tz, cron, h)) {
            let end = h.from - Duration::seconds(1);
            if end >= now {
                actions.push(recurring(&base, *cron, tz, start, Some(end), min, max));
            }
            start = Some(h.to);
        }
        actions.push(recurring(&base, *cron, tz, start, None, min, max));
    }
    actions.sort_by(|a, b| a.name.cmp(&b.name));
    actions
}

fn recurring(
    base: &str,
    expr: Cron,
    tz: Tz,
    start_time: Option<DateTime<Utc>>,
    end_time: Option<DateTime<Utc>>,
    min: u32,
    max: u32,
) -> ScheduledAction {
    let name = match start_time {
        None => base.to_owned(),
        Some(t) => format!("{base}-from-{}", stamp(t)),
    };
    ScheduledAction { name, schedule: ActionSchedule::Cron { expr, tz }, start_time, end_time, min, max }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

fn ceil_second(t: DateTime<Utc>) -> DateTime<Utc> {
    if t.nanosecond() == 0 {
        t
    } else {
        t.trunc_subsecs(0) + Duration::seconds(1)
    }
}

/// The override's span and, for each exception whose span starts before `until` and ends
/// after `now`, its date and the next (`D` 00:00 to `D+2` 00:00 local), merged, by start.
fn held_periods(
    schedule: &Schedule,
    override_: Option<&Override>,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Vec<Held> {
    let tz = schedule.timezone();
    let mut spans: Vec<Held> = override_.map(|o| Held { from: now, to: o.until }).into_iter().collect();
    for e in schedule.exceptions() {
        let Some(after) = e.date.checked_add_days(chrono::Days::new(2)) else { continue };
        let span = Held { from: local_instant(tz, e.date, 0), to: local_instant(tz, after, 0) };
        if span.from < until && span.to > now {
            spans.push(span);
        }
    }
    spans.sort_by_key(|h| h.from);
    let mut merged: Vec<Held> = Vec::with_capacity(spans.len());
    for span in spans {
        match merged.last_mut() {
            Some(last) if span.from <= last.to => last.to = last.to.max(span.to),
            _ => merged.push(span),
        }
    }
    merged
}

/// Whether AWS would run `cron` within `[h.from, h.to)`.
fn runs_within(tz: Tz, cron: &Cron, h: &Held) -> bool {
    if h.to - h.from >= Duration::days(8) {
        return true;
    }
    let first = h.from.with_timezone(&tz).date_naive().pred_opt().unwrap_or(NaiveDate::MIN);
    let last = h.to.with_timezone(&tz).date_naive().succ_opt().unwrap_or(NaiveDate::MAX);
    first.iter_days().take_while(|d| *d <= last).filter_map(|d| cron.run_on(tz, d)).any(|t| h.from <= t && t < h.to)
}

// ─── Simulation ───

/// How AWS moves the count over `(from, to)` from `start` tasks: each action runs at its
/// instants ([`ScheduledAction::runs`]: crons in their zone, skipped in a spring-forward
/// gap, once when a time happens twice) and clamps the current count into `[min, max]`.
/// Returns each change, in order. Actions with different bounds at the same instant are an
/// error: AWS runs them in no set order.
pub fn simulate(
    actions: &[ScheduledAction],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    start: u32,
) -> Result<Vec<(DateTime<Utc>, u32)>, SimulationError> {
    let mut runs: BTreeMap<DateTime<Utc>, &ScheduledAction> = BTreeMap::new();
    for a in actions {
        if a.min > a.max {
            return Err(SimulationError::Bounds { name: a.name.clone(), min: a.min, max: a.max });
        }
        for t in a.runs(from, to) {
            match runs.get(&t) {
                Some(other) if (other.min, other.max) != (a.min, a.max) => {
                    return Err(SimulationError::Conflict { at: t, first: other.name.clone(), second: a.name.clone() });
                }
                Some(_) => {}
                None => {
                    runs.insert(t, a);
                }
            }
        }
    }
    let mut count = start;
    let mut changes = Vec::new();
    for (t, a) in runs {
        let next = count.clamp(a.min, a.max);
        if next != count {
            changes.push((t, next));
            count = next;
        }
    }
    Ok(changes)
}

// ─── Reconciling ───

/// What a reconciler does to turn `current` (as AWS lists the target's actions) into
/// `planned`: the actions to put (missing or different: `PutScheduledAction` replaces an
/// action of the same name) and the names to delete (ShinyFleet's actions no longer
/// planned; actions whose name does not start with [`PREFIX`] are not ShinyFleet's and are
/// left alone). Both in name order.
pub fn diff(current: &[ScheduledAction], planned: &[ScheduledAction]) -> (Vec<ScheduledAction>, Vec<String>) {
    let have: HashMap<&str, &ScheduledAction> = current.iter().map(|a| (a.name.as_str(), a)).collect();
    let want: HashMap<&str, &ScheduledAction> = planned.iter().map(|a| (a.name.as_str(), a)).collect();
    let mut put: Vec<ScheduledAction> =
        planned.iter().filter(|a| have.get(a.name.as_str()) != Some(a)).cloned().collect();
    put.sort_by(|a, b| a.name.cmp(&b.name));
    put.dedup_by(|a, b| a.name == b.name);
    let mut delete: Vec<String> = current
        .iter()
        .filter(|a| a.name.starts_with(PREFIX) && !want.contains_key(a.name.as_str()))
        .map(|a| a.name.clone())
        .collect();
    delete.sort();
    delete.dedup();
    (put, delete)
}

#[cfg(test)]
#[path = "aws_tests.rs"]
mod tests;
