//! The scheduler's pure decisions: what one app's service should be told now, from its
//! schedule, its override, the instant the scheduler planned to act next and the desired count
//! last seen in the cloud ([`decide`]); and when an override ends, from what an admin typed
//! ([`parse_until`]).
//!
//! Rules:
//! - An override in force wins, and setting or clearing one acts at once.
//! - `enforced`: whenever the scheduler runs, a service whose desired count differs from what
//!   the schedule wants is corrected (drift is undone).
//! - `transitions`: the scheduler acts only once the planned instant (`next_due_at`) has
//!   passed, so a manual change made between transitions stays until the next one.
//! - After an outage every missed transition collapses into one act (`catch_up`): the state
//!   the schedule wants now.
//! - An override that ended with nothing else governing restores the count it replaced.

use super::{parse_day, parse_time, Mode, Override, Plan, Schedule, ScheduleDoc};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

/// A due instant further in the past than this (seconds) is a catch-up: the console was down.
pub const CATCH_UP_AFTER: i64 = 60;

/// Everything that decides one app's count.
#[derive(Debug, Clone)]
pub struct Governed {
    pub app_id: i64,
    pub slug: String,
    pub name: String,
    pub app_desired: u32,
    pub doc: Option<ScheduleDoc>,
    pub schedule: Option<Schedule>,
    pub override_: Option<Override>,
    pub override_by: Option<String>,
    pub next_due_at: Option<DateTime<Utc>>,
    pub live_desired: Option<u32>,
}

impl Governed {
    /// The schedule and override together (`Plan` ignores a disabled schedule and an
    /// override past its end).
    pub fn plan(&self) -> Plan<'_> {
        Plan::new(self.schedule.as_ref(), self.override_.as_ref())
    }

    /// The schedule's zone: local times (overrides' ends, transitions) are shown in it.
    pub fn zone(&self) -> Tz {
        self.schedule.as_ref().map_or(Tz::UTC, Schedule::timezone)
    }

    /// The schedule's mode; `enforced` without a schedule (an override alone).
    pub fn mode(&self) -> Mode {
        self.schedule.as_ref().map_or(Mode::Enforced, Schedule::mode)
    }
}

/// What to do for one app now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Set the service's desired count to this, recorded as `action`.
    pub act: Option<(u32, &'static str)>,
    /// The override has ended: remove it.
    pub retire_override: bool,
    /// When to look at this app again (the next transition or override end).
    pub next_due: Option<DateTime<Utc>>,
}

/// The decision for one app at `now`.
pub fn decide(g: &Governed, now: DateTime<Utc>) -> Decision {
    let ended = g.override_.filter(|o| !o.in_force(now));
    let live_override = g.override_.filter(|o| o.in_force(now));
    let plan = g.plan();
    let next_due = plan.next_transition(now).map(|t| t.at);
    let due = g.next_due_at.is_some_and(|at| at <= now);
    let late = g.next_due_at.is_some_and(|at| (now - at).num_seconds() > CATCH_UP_AFTER);
    let wanted = match (plan.desired_at(now), ended) {
        (Some(n), _) => Some(n),
        // An override ended and nothing else governs: back to the count it replaced.
        (None, Some(o)) => Some(o.restore),
        (None, None) => None,
    };
    let Some(wanted) = wanted else {
        return Decision { act: None, retire_override: ended.is_some(), next_due };
    };
    let differs = g.live_desired != Some(wanted);
    let act = if ended.is_some() {
        differs.then_some((wanted, "override_ended"))
    } else if live_override.is_some() || g.mode() == Mode::Enforced || due {
        // Overrides and enforced schedules undo any drift; transitions-only schedules act
        // once the planned instant has passed, never in between.
        differs.then_some((wanted, if late { "catch_up" } else { "scale" }))
    } else {
        None
    };
    Decision { act, retire_override: ended.is_some(), next_due }
}

/// Parses when an override ends: an RFC 3339 instant, a duration (`2h`, `90m`, `1h30m`,
/// `2d`, `1h 30min`: [`humantime`]'s form), a local time (`20:00`: today, or tomorrow once
/// past) or a weekday and time (`mon 08:00`), local times in `tz`.
pub fn parse_until(raw: &str, tz: Tz, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let raw = raw.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Ok(at.with_timezone(&Utc));
    }
    if let Some(d) = parse_duration(raw) {
        return d.map(|d| now + d);
    }
    let (day, time) = match raw.split_once(char::is_whitespace) {
        Some((day, time)) => {
            (Some(parse_day(day).ok_or_else(|| format!("{day:?} is not a day of the week"))?), time.trim())
        }
        None => (None, raw),
    };
    // A time of day (24:00 ends a window, it is not a moment to end an override at).
    let minute = parse_time(time).filter(|m| *m < 24 * 60).ok_or_else(|| {
        "must be a time (20:00), a day and time (mon 08:00), a duration (2h, 90m) or an RFC 3339 instant".to_owned()
    })?;
    Ok(super::next_local_time(tz, now, day, minute))
}

/// The longest override a duration sets: an override reaches no further (refusing more also
/// keeps the date arithmetic in range).
const MAX_DURATION: std::time::Duration = std::time::Duration::from_secs(366 * 24 * 3600);

/// A duration read by [`humantime::parse_duration`]; `None` when `raw` is not one at all,
/// an error when it is not more than zero and at most [`MAX_DURATION`].
fn parse_duration(raw: &str) -> Option<Result<Duration, String>> {
    let d = humantime::parse_duration(raw).ok()?;
    Some(
        Duration::from_std(d)
            .ok()
            .filter(|_| !d.is_zero() && d <= MAX_DURATION)
            .ok_or_else(|| format!("{raw:?}: a duration must be more than zero and at most 366 days")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::{OverrideDoc, WindowDoc};

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("instant").with_timezone(&Utc)
    }

    /// Mon–Fri 08:00–18:00 in Berlin, 2 tasks on, 0 off.
    fn office_hours(mode: &str) -> Schedule {
        let doc = ScheduleDoc {
            timezone: "Europe/Berlin".into(),
            windows: vec![WindowDoc {
                days: ["mon", "tue", "wed", "thu", "fri"].map(String::from).to_vec(),
                start: "08:00".into(),
                end: "18:00".into(),
            }],
            on_count: Some(2),
            off_count: 0,
            exceptions: vec![],
            mode: mode.into(),
            enabled: true,
        };
        Schedule::parse(&doc, 2).expect("valid schedule")
    }

    fn governed(schedule: Option<Schedule>, live: Option<u32>, next_due_at: Option<&str>) -> Governed {
        Governed {
            app_id: 1,
            slug: "sales".into(),
            name: "Sales".into(),
            app_desired: 2,
            doc: None,
            schedule,
            override_: None,
            override_by: None,
            next_due_at: next_due_at.map(utc),
            live_desired: live,
        }
    }

    fn with_override(mut g: Governed, desired: u32, until: &str, restore: u32) -> Governed {
        let doc = OverrideDoc { desired, until: utc(until) };
        g.override_ = Some(Override::parse(&doc, restore, utc("2026-11-30T00:00:00Z")).expect("valid override"));
        g
    }

    // Monday 30 November 2026: 10:00 Berlin is 09:00 UTC; 18:00 Berlin is 17:00 UTC.
    const MONDAY_10: &str = "2026-11-30T09:00:00Z";
    const MONDAY_20: &str = "2026-11-30T19:00:00Z";

    #[test]
    fn the_decision_follows_the_mode_the_due_instant_and_what_runs() {
        type Case<'a> = (&'a str, Governed, &'a str, Option<(u32, &'a str)>);
        let cases: &[Case] = &[
            ("enforced, already right", governed(Some(office_hours("enforced")), Some(2), None), MONDAY_10, None),
            (
                "enforced, drifted by hand: undone",
                governed(Some(office_hours("enforced")), Some(5), None),
                MONDAY_10,
                Some((2, "scale")),
            ),
            (
                "enforced, nothing seen yet: told",
                governed(Some(office_hours("enforced")), None, None),
                MONDAY_20,
                Some((0, "scale")),
            ),
            (
                "transitions only, drifted between transitions: left alone",
                governed(Some(office_hours("transitions")), Some(5), Some("2026-11-30T17:00:00Z")),
                MONDAY_10,
                None,
            ),
            (
                "transitions only, the transition just passed: act",
                governed(Some(office_hours("transitions")), Some(2), Some("2026-11-30T17:00:00Z")),
                "2026-11-30T17:00:30Z",
                Some((0, "scale")),
            ),
            (
                "transitions only, the transition passed long ago: catch up",
                governed(Some(office_hours("transitions")), Some(2), Some("2026-11-30T17:00:00Z")),
                MONDAY_20,
                Some((0, "catch_up")),
            ),
            (
                "enforced, due an hour ago: catch up",
                governed(Some(office_hours("enforced")), Some(0), Some("2026-11-30T07:00:00Z")),
                MONDAY_10,
                Some((2, "catch_up")),
            ),
            ("nothing governs", governed(None, Some(3), None), MONDAY_10, None),
            (
                "an override in force wins over the schedule",
                with_override(governed(Some(office_hours("transitions")), Some(2), None), 0, "2026-11-30T12:00:00Z", 2),
                MONDAY_10,
                Some((0, "scale")),
            ),
            (
                "an ended override hands back to the schedule",
                with_override(governed(Some(office_hours("enforced")), Some(0), None), 0, "2026-11-30T08:30:00Z", 2),
                MONDAY_10,
                Some((2, "override_ended")),
            ),
            (
                "an ended override alone restores the count it replaced",
                with_override(governed(None, Some(4), None), 4, "2026-11-30T08:30:00Z", 1),
                MONDAY_10,
                Some((1, "override_ended")),
            ),
        ];
        for (name, g, now, want) in cases {
            assert_eq!(decide(g, utc(now)).act, *want, "{name}");
        }
    }

    #[test]
    fn an_ended_override_is_retired_and_the_next_look_is_the_next_transition() {
        let g = with_override(governed(Some(office_hours("enforced")), Some(2), None), 2, "2026-11-30T08:30:00Z", 2);
        let d = decide(&g, utc(MONDAY_10));
        assert!(d.retire_override);
        assert_eq!(d.act, None, "already at the schedule's count");
        assert_eq!(d.next_due, Some(utc("2026-11-30T17:00:00Z")));
        // Off until 12:00 Berlin (11:00 UTC): then the schedule's 2 tasks, before its 18:00.
        let live = with_override(governed(Some(office_hours("enforced")), Some(0), None), 0, "2026-11-30T11:00:00Z", 2);
        let d = decide(&live, utc(MONDAY_10));
        assert!(!d.retire_override);
        assert_eq!(d.act, None, "already off");
        assert_eq!(d.next_due, Some(utc("2026-11-30T11:00:00Z")), "the override's end comes first");
    }

    #[test]
    fn override_ends_are_read_as_instants_durations_and_local_times() {
        let tz: Tz = "Europe/Berlin".parse().expect("zone");
        // Monday 30 November 2026, 10:00 in Berlin (09:00 UTC).
        let now = utc("2026-11-30T09:00:00Z");
        for (raw, want) in [
            ("2h", "2026-11-30T11:00:00Z"),
            ("90m", "2026-11-30T10:30:00Z"),
            ("1h30m", "2026-11-30T10:30:00Z"),
            ("20:00", "2026-11-30T19:00:00Z"),
            ("08:00", "2026-12-01T07:00:00Z"),
            ("mon 08:00", "2026-12-07T07:00:00Z"),
            ("Friday 18:00", "2026-12-04T17:00:00Z"),
            ("2026-12-01T12:00:00Z", "2026-12-01T12:00:00Z"),
            // humantime's other spellings.
            ("1h 30min", "2026-11-30T10:30:00Z"),
            ("2 hours", "2026-11-30T11:00:00Z"),
            ("1week", "2026-12-07T09:00:00Z"),
            ("45s", "2026-11-30T09:00:45Z"),
            ("366d", "2027-12-01T09:00:00Z"),
        ] {
            assert_eq!(parse_until(raw, tz, now), Ok(utc(want)), "{raw}");
        }
        for bad in ["", "soon", "25:00", "h", "0m", "funday 08:00", "2h30", "99999999d", "367d", "9999999999999m"] {
            assert!(parse_until(bad, tz, now).is_err(), "{bad:?} should be refused");
        }
        let too_long = parse_until("367d", tz, now).unwrap_err();
        assert_eq!(too_long, "\"367d\": a duration must be more than zero and at most 366 days");
    }
}
