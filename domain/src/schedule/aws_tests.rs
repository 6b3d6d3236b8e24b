//! Table and property tests of the AWS translation: the actions it plans, the simulator, and
//! that AWS running the actions gives the engine's timeline.

use super::*;
use crate::schedule::tests::{doc, off_on, only, schedule, window, MON_FRI};
use crate::schedule::{format_time, ExceptionDoc, OverrideDoc, ScheduleDoc, WindowDoc, DAY_NAMES};
use chrono::Weekday;
use proptest::prelude::*;

fn utc(s: &str) -> DateTime<Utc> {
    let s = if s.len() == 16 { format!("{s}:00Z") } else { s.to_owned() };
    DateTime::parse_from_rfc3339(&s).unwrap().with_timezone(&Utc)
}

fn with_exceptions(mut d: ScheduleDoc, exceptions: Vec<ExceptionDoc>) -> ScheduleDoc {
    d.exceptions = exceptions;
    d
}

/// Long enough to hold a year of exceptions, with no limit on the count.
fn unlimited(days: i64) -> Limits {
    Limits { horizon: Duration::days(days + 3), max_actions: usize::MAX }
}

/// The engine's changes over `[from, to)`, as the simulator reports them.
fn engine_changes(plan: &Plan<'_>, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(DateTime<Utc>, u32)> {
    plan.intervals(from, to).iter().skip(1).map(|(at, _, n)| (*at, n.expect("governed"))).collect()
}

/// Materialises at `now` for `days` (no limit), simulates AWS over them from the engine's
/// count at `now`, and checks the changes are the engine's; returns the actions.
fn assert_equivalent(s: &Schedule, o: Option<&Override>, max: u32, now: DateTime<Utc>, days: i64) -> Materialised {
    let m = materialise(s, o, max, now, unlimited(days)).unwrap();
    let to = now + Duration::days(days);
    let plan = Plan::new(Some(s), o);
    let start = plan.desired_at(now).unwrap();
    let simulated = simulate(&m.actions, now, to, start).unwrap_or_else(|e| panic!("{}: {e}", s.timezone()));
    let expected = engine_changes(&plan, now, to);
    if simulated != expected {
        let first =
            simulated.iter().zip(&expected).position(|(a, b)| a != b).unwrap_or(expected.len().min(simulated.len()));
        panic!(
            "{} {:?}: AWS and the engine part at change {first}: AWS {:?}, engine {:?}",
            s.timezone(),
            s.to_doc().windows,
            simulated.get(first),
            expected.get(first)
        );
    }
    m
}

/// An action in plain values: name, expression, zone, start and end times, min and max.
type Shape = (String, String, String, Option<String>, Option<String>, u32, u32);

fn shapes(m: &Materialised) -> Vec<Shape> {
    m.actions
        .iter()
        .map(|a| {
            (
                a.name.clone(),
                a.schedule.expression(),
                a.schedule.timezone().to_owned(),
                a.start_time.map(|t| t.to_rfc3339()),
                a.end_time.map(|t| t.to_rfc3339()),
                a.min,
                a.max,
            )
        })
        .collect()
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 256 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

// ─── The weekly actions ───

#[test]
fn office_hours_are_two_recurring_actions_in_the_schedules_zone() {
    let s = schedule(doc("Europe/Berlin", vec![window(MON_FRI, "08:00", "18:00")]));
    let now = utc("2026-06-01T10:00");
    let m = materialise(&s, None, 2, now, Limits::default()).unwrap();
    assert_eq!(
        shapes(&m),
        vec![
            ("shinyfleet-end-1800".into(), "cron(0 18 ? * MON-FRI *)".into(), "Europe/Berlin".into(), None, None, 0, 0),
            (
                "shinyfleet-start-0800".into(),
                "cron(0 8 ? * MON-FRI *)".into(),
                "Europe/Berlin".into(),
                None,
                None,
                2,
                2
            ),
        ]
    );
    assert_eq!(m.bounds_now, (2, 2), "Monday 12:00 in Berlin: on");
    assert_eq!(m.covered_until, now + Duration::days(DEFAULT_HORIZON_DAYS));
    // With autoscaling up to 5 tasks, the start action opens the range.
    let m = materialise(&s, None, 5, now, Limits::default()).unwrap();
    assert_eq!((m.actions[1].min, m.actions[1].max), (2, 5));
    assert_eq!(m.bounds_now, (2, 5));
}

#[test]
fn windows_are_merged_into_blocks_and_a_block_past_midnight_ends_on_the_next_days() {
    type Case<'a> = (&'a str, Vec<WindowDoc>, &'a [(&'a str, &'a str)]);
    let cases: Vec<Case> = vec![
        (
            "past midnight",
            vec![window(&["fri", "sat"], "22:00", "02:00")],
            &[
                ("shinyfleet-end-0200", "cron(0 2 ? * SUN,SAT *)"),
                ("shinyfleet-start-2200", "cron(0 22 ? * FRI,SAT *)"),
            ],
        ),
        (
            "touching and overlapping windows",
            vec![
                window(MON_FRI, "08:00", "12:00"),
                window(MON_FRI, "12:00", "18:00"),
                window(&["wed"], "10:00", "20:00"),
            ],
            &[
                ("shinyfleet-end-1800", "cron(0 18 ? * MON,TUE,THU,FRI *)"),
                ("shinyfleet-end-2000", "cron(0 20 ? * WED *)"),
                ("shinyfleet-start-0800", "cron(0 8 ? * MON-FRI *)"),
            ],
        ),
        (
            "a day to 24:00 touching the next from 00:00",
            vec![window(&["sun"], "20:00", "24:00"), window(&["mon"], "00:00", "06:30")],
            &[("shinyfleet-end-0630", "cron(30 6 ? * MON *)"), ("shinyfleet-start-2000", "cron(0 20 ? * SUN *)")],
        ),
        (
            "weekdays all day: Monday 00:00 to Saturday 00:00",
            crate::schedule::Preset::Weekdays.windows(),
            &[("shinyfleet-end-0000", "cron(0 0 ? * SAT *)"), ("shinyfleet-start-0000", "cron(0 0 ? * MON *)")],
        ),
        ("always on: nothing to do", crate::schedule::Preset::AlwaysOn.windows(), &[]),
        ("never on", vec![], &[]),
    ];
    for (case, windows, want) in cases {
        let s = schedule(doc("UTC", windows));
        let m = materialise(&s, None, 2, utc("2026-06-01T10:00"), Limits::default()).unwrap();
        let got: Vec<(String, String)> = m.actions.iter().map(|a| (a.name.clone(), a.schedule.expression())).collect();
        let want: Vec<(String, String)> = want.iter().map(|(n, e)| ((*n).into(), (*e).into())).collect();
        assert_eq!(got, want, "{case}");
        assert_equivalent(&s, None, 2, utc("2026-01-01T00:00"), 365);
    }
}

#[test]
fn a_disabled_schedule_holds_nothing_and_a_maximum_below_the_on_count_is_refused() {
    let mut d = doc("Europe/Berlin", vec![window(MON_FRI, "08:00", "18:00")]);
    let now = utc("2026-06-01T10:00");
    assert_eq!(
        materialise(&schedule(d.clone()), None, 1, now, Limits::default()),
        Err(MaterialiseError::MaxBelowOn { on: 2, max: 1 })
    );
    d.enabled = false;
    let m = materialise(&schedule(d), None, 2, now, Limits::default()).unwrap();
    assert!(m.actions.is_empty());
}

// ─── Exceptions and overrides ───

#[test]
fn a_holiday_splits_the_weekly_actions_around_its_two_days() {
    // Friday 25 December 2026 off in Berlin: the weekly actions stand aside from Friday
    // 00:00 to Sunday 00:00 local (24 Dec 23:00 UTC to 26 Dec 23:00 UTC).
    let s = schedule(with_exceptions(
        doc("Europe/Berlin", vec![window(MON_FRI, "08:00", "18:00")]),
        vec![off_on("2026-12-25")],
    ));
    let now = utc("2026-12-01T00:00");
    let m = materialise(&s, None, 2, now, Limits::default()).unwrap();
    let before = Some("2026-12-24T22:59:59+00:00".to_owned());
    let after = Some("2026-12-26T23:00:00+00:00".to_owned());
    let (end, start) = ("cron(0 18 ? * MON-FRI *)".to_owned(), "cron(0 8 ? * MON-FRI *)".to_owned());
    let zone = "Europe/Berlin".to_owned();
    assert_eq!(
        shapes(&m),
        vec![
            ("shinyfleet-end-1800".into(), end.clone(), zone.clone(), None, before.clone(), 0, 0),
            ("shinyfleet-end-1800-from-20261226T230000Z".into(), end, zone.clone(), after.clone(), None, 0, 0),
            ("shinyfleet-start-0800".into(), start.clone(), zone.clone(), None, before, 2, 2),
            ("shinyfleet-start-0800-from-20261226T230000Z".into(), start, zone, after, None, 2, 2),
        ],
        "nothing changes within the two days: no at(...) needed"
    );
    assert_equivalent(&s, None, 2, now, 60);
}

#[test]
fn a_weekday_holiday_and_other_hours_play_the_engine_with_at_actions() {
    // Monday 28 December off, Thursday 31 December 10:00–14:00: the days after them (Tuesday,
    // Friday) are held too, so their transitions are one-off actions.
    let s = schedule(with_exceptions(
        doc("Europe/Berlin", vec![window(MON_FRI, "08:00", "18:00")]),
        vec![off_on("2026-12-28"), only("2026-12-31", "10:00", "14:00")],
    ));
    let m = assert_equivalent(&s, None, 2, utc("2026-12-20T00:00"), 30);
    let at: Vec<(String, u32, u32)> = m
        .actions
        .iter()
        .filter(|a| matches!(a.schedule, ActionSchedule::At(_)))
        .map(|a| (a.schedule.expression(), a.min, a.max))
        .collect();
    assert_eq!(
        at,
        vec![
            ("at(2026-12-29T07:00:00)".into(), 2, 2),
            ("at(2026-12-29T17:00:00)".into(), 0, 0),
            ("at(2026-12-31T09:00:00)".into(), 2, 2),
            ("at(2026-12-31T13:00:00)".into(), 0, 0),
            ("at(2027-01-01T07:00:00)".into(), 2, 2),
            ("at(2027-01-01T17:00:00)".into(), 0, 0),
        ]
    );
    assert!(m.actions.iter().all(|a| a.schedule.timezone() == "UTC" || a.schedule.timezone() == "Europe/Berlin"));
    assert_eq!(m.actions.len(), 2 * 3 + 6, "each weekly action in three parts, six one-offs");
    // Without the one-offs, AWS would not follow the engine.
    let weekly: Vec<ScheduledAction> =
        m.actions.iter().filter(|a| !matches!(a.schedule, ActionSchedule::At(_))).cloned().collect();
    let (from, to) = (utc("2026-12-20T00:00"), utc("2027-01-19T00:00"));
    assert_ne!(simulate(&weekly, from, to, 0).unwrap(), engine_changes(&Plan::new(Some(&s), None), from, to));
}

#[test]
fn an_override_holds_the_count_until_its_end_then_hands_back_to_the_schedule() {
    let s = schedule(doc("Europe/Berlin", vec![window(MON_FRI, "08:00", "18:00")]));
    // Monday 10:00 in Berlin: off until Tuesday 12:00 (10:00 UTC), mid-window.
    let now = utc("2026-06-01T08:00");
    let o = Override::parse(&OverrideDoc { desired: 0, until: utc("2026-06-02T10:00") }, 2, now).unwrap();
    let m = assert_equivalent(&s, Some(&o), 2, now, 30);
    assert_eq!(m.bounds_now, (0, 0));
    let names: Vec<&str> = m.actions.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "shinyfleet-at-20260602T100000Z",
            "shinyfleet-end-1800-from-20260602T100000Z",
            "shinyfleet-start-0800-from-20260602T100000Z",
        ]
    );
    assert_eq!((m.actions[0].min, m.actions[0].max), (2, 2));
    // An override whose end changes nothing still hands the bounds back.
    let o = Override::parse(&OverrideDoc { desired: 2, until: utc("2026-06-01T12:00") }, 2, now).unwrap();
    let m = assert_equivalent(&s, Some(&o), 4, now, 30);
    assert_eq!(m.bounds_now, (2, 2));
    assert_eq!(
        shapes(&m)[0],
        ("shinyfleet-at-20260601T120000Z".into(), "at(2026-06-01T12:00:00)".into(), "UTC".into(), None, None, 2, 4)
    );
    // A fraction of a second is rounded up: at(...) counts seconds.
    let o = Override { desired: 1, until: utc("2026-06-01T12:00") + Duration::milliseconds(250), restore: 2 };
    let m = materialise(&s, Some(&o), 2, now, Limits::default()).unwrap();
    assert_eq!(m.actions[0].schedule, ActionSchedule::At(utc("2026-06-01T12:00:01Z")));
}

// ─── Daylight saving ───

#[test]
fn a_start_in_the_spring_forward_gap_gets_an_at_action_that_day() {
    // 02:30 does not exist in Berlin on 29 March 2026: AWS skips the cron, the engine starts at
    // 03:00 local (01:00 UTC).
    let s = schedule(doc("Europe/Berlin", vec![window(&["sun"], "02:30", "04:00")]));
    let now = utc("2026-03-01T00:00");
    let m = assert_equivalent(&s, None, 2, now, 365);
    let fix: Vec<&ScheduledAction> = m.actions.iter().filter(|a| matches!(a.schedule, ActionSchedule::At(_))).collect();
    assert_eq!(fix.len(), 1);
    assert_eq!((fix[0].name.as_str(), fix[0].min, fix[0].max), ("shinyfleet-at-20260329T010000Z", 2, 2));
    // Without it AWS stays off that Sunday.
    let weekly: Vec<ScheduledAction> = m.actions.iter().filter(|a| a.name != fix[0].name).cloned().collect();
    let to = now + Duration::days(60);
    let aws = simulate(&weekly, now, to, 0).unwrap();
    assert!(!aws.iter().any(|(t, _)| *t == utc("2026-03-29T01:00")));
    assert_ne!(aws, engine_changes(&Plan::new(Some(&s), None), now, to));
}

#[test]
fn an_end_in_the_gap_and_lord_howes_half_hour_gap_get_at_actions_too() {
    type Case<'a> = (&'a str, WindowDoc, &'a str, &'a str, u32);
    let cases: &[Case] = &[
        // Berlin, 29 March: 01:00–02:30 ends when the gap ends, 03:00 local (01:00 UTC).
        ("Europe/Berlin", window(&["sun"], "01:00", "02:30"), "2026-03-01T00:00", "shinyfleet-at-20260329T010000Z", 0),
        // New York, 8 March: 02:00–03:00 is skipped; 02:15 starts at 03:00 EDT (07:00 UTC).
        (
            "America/New_York",
            window(&["sun"], "02:15", "05:00"),
            "2026-03-01T00:00",
            "shinyfleet-at-20260308T070000Z",
            2,
        ),
        // Lord Howe, 4 October: 02:00–02:30 is skipped; 02:10 starts at 02:30 (+11: 15:30 UTC).
        (
            "Australia/Lord_Howe",
            window(&["sun"], "02:10", "06:00"),
            "2026-09-01T00:00",
            "shinyfleet-at-20261003T153000Z",
            2,
        ),
        // Sydney, 4 October: 02:00–03:00 is skipped; a window ending at 02:45 ends at 03:00.
        (
            "Australia/Sydney",
            window(&["sun"], "01:00", "02:45"),
            "2026-09-01T00:00",
            "shinyfleet-at-20261003T160000Z",
            0,
        ),
    ];
    for (zone, w, now, name, min) in cases {
        let s = schedule(doc(zone, vec![w.clone()]));
        let m = assert_equivalent(&s, None, 2, utc(now), 365);
        let fix = m.actions.iter().find(|a| a.name == *name).unwrap_or_else(|| panic!("{zone}: no {name}"));
        assert_eq!(fix.min, *min, "{zone}");
        let at_actions = m.actions.iter().filter(|a| matches!(a.schedule, ActionSchedule::At(_))).count();
        assert_eq!(at_actions, 1, "{zone}: one fix a year");
    }
}

#[test]
fn the_simulator_skips_gaps_runs_repeated_times_once_and_clamps() {
    let tz = Tz::Europe__Berlin;
    let every_day = Days::EVERY_DAY;
    let action = |name: &str, minute: u16, min: u32, max: u32| ScheduledAction {
        name: name.into(),
        schedule: ActionSchedule::Cron { expr: Cron::new(minute, every_day).unwrap(), tz },
        start_time: None,
        end_time: None,
        min,
        max,
    };
    let on = action("on", 150, 2, 2); // 02:30
    let off = action("off", 165, 0, 0); // 02:45
    let runs = on.runs(utc("2026-03-28T00:00"), utc("2026-03-31T00:00"));
    // 28 March (+1), nothing on the 29th, 30 March (+2).
    assert_eq!(runs, vec![utc("2026-03-28T01:30"), utc("2026-03-30T00:30")]);
    let runs = on.runs(utc("2026-10-24T12:00"), utc("2026-10-25T12:00"));
    assert_eq!(runs, vec![utc("2026-10-25T00:30")], "once, the first time 02:30 comes");
    let changes = simulate(&[on.clone(), off.clone()], utc("2026-03-28T12:00"), utc("2026-03-30T12:00"), 0).unwrap();
    assert_eq!(changes, vec![(utc("2026-03-30T00:30"), 2), (utc("2026-03-30T00:45"), 0)]);
    // Clamping: a count inside [min, max] stays; outside it moves to the nearer bound.
    let range = action("range", 600, 2, 5);
    let day = (utc("2026-06-01T00:00"), utc("2026-06-02T00:00"));
    assert_eq!(simulate(std::slice::from_ref(&range), day.0, day.1, 3).unwrap(), vec![]);
    assert_eq!(simulate(std::slice::from_ref(&range), day.0, day.1, 0).unwrap(), vec![(utc("2026-06-01T08:00"), 2)]);
    assert_eq!(simulate(std::slice::from_ref(&range), day.0, day.1, 9).unwrap(), vec![(utc("2026-06-01T08:00"), 5)]);
    // StartTime and EndTime bound a recurrence, both included.
    let mut bounded = range.clone();
    (bounded.start_time, bounded.end_time) = (Some(utc("2026-06-02T08:00")), Some(utc("2026-06-03T08:00")));
    assert_eq!(
        bounded.runs(utc("2026-06-01T00:00"), utc("2026-06-05T00:00")),
        vec![utc("2026-06-02T08:00"), utc("2026-06-03T08:00")]
    );
    // Two actions with different bounds at one instant: AWS's order is not set.
    let clash = action("clash", 150, 0, 0);
    assert!(matches!(
        simulate(&[on.clone(), clash], day.0, day.1, 0),
        Err(SimulationError::Conflict { first, second, .. }) if first == "on" && second == "clash"
    ));
    assert!(simulate(&[on.clone(), action("same", 150, 2, 2)], day.0, day.1, 0).is_ok());
    assert!(matches!(simulate(&[action("bad", 1, 3, 2)], day.0, day.1, 0), Err(SimulationError::Bounds { .. })));
}

// ─── A year in every zone ───

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

fn holidays() -> Vec<ExceptionDoc> {
    vec![
        off_on("2026-01-01"),
        only("2026-03-29", "02:30", "05:00"),
        off_on("2026-04-03"),
        off_on("2026-04-05"),
        off_on("2026-04-06"),
        only("2026-09-06", "00:00", "00:30"),
        off_on("2026-10-04"),
        only("2026-10-25", "01:00", "02:30"),
        only("2026-11-01", "02:30", "04:00"),
        only("2026-12-24", "08:00", "12:00"),
        off_on("2026-12-25"),
        off_on("2026-12-26"),
        only("2026-12-31", "10:00", "14:00"),
    ]
}

/// Schedules that meet daylight saving at the hours zones change (00:00 to 03:00).
fn year_schedules(zone: &str) -> Vec<ScheduleDoc> {
    let every: &[&str] = &DAY_NAMES;
    vec![
        doc(zone, vec![window(MON_FRI, "08:00", "18:00")]),
        with_exceptions(doc(zone, vec![window(MON_FRI, "08:00", "18:00")]), holidays()),
        doc(zone, vec![window(&["fri", "sat"], "22:00", "02:00")]),
        with_exceptions(doc(zone, vec![window(every, "02:30", "03:30")]), holidays()),
        doc(zone, vec![window(every, "01:00", "02:30"), window(every, "03:00", "04:00")]),
        doc(zone, vec![window(every, "02:10", "02:40"), window(&["sun"], "01:45", "02:20")]),
        doc(zone, vec![window(every, "23:30", "00:30"), window(&["sat", "sun"], "00:00", "01:00")]),
        with_exceptions(doc(zone, crate::schedule::Preset::Weekdays.windows()), holidays()),
        with_exceptions(doc(zone, crate::schedule::Preset::AlwaysOn.windows()), holidays()),
    ]
}

#[test]
fn over_a_year_aws_follows_the_engine_in_every_zone() {
    let mut checked = 0;
    for zone in ZONES {
        for d in year_schedules(zone) {
            for (max, off) in [(2, 0), (4, 0), (2, 1)] {
                let mut d = d.clone();
                d.off_count = off;
                let s = schedule(d);
                let m = assert_equivalent(&s, None, max, utc("2026-01-01T00:00"), 365);
                assert!(m.actions.iter().all(|a| valid_name(&a.name)), "{zone}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, ZONES.len() * 9 * 3);
}

// ─── The 200-action limit ───

/// Four short windows every weekday, a holiday every Monday and other hours every Thursday
/// of 2026–2027: each week splits eight weekly actions twice and adds a score of one-offs.
fn crowded() -> Schedule {
    let mut exceptions = Vec::new();
    let mut day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    while exceptions.len() < 200 {
        match day.weekday() {
            Weekday::Mon => exceptions.push(off_on(&day.to_string())),
            Weekday::Thu => exceptions.push(only(&day.to_string(), "09:00", "11:00")),
            _ => {}
        }
        day = day.succ_opt().unwrap();
    }
    let windows = [("06:00", "07:00"), ("09:00", "10:00"), ("12:00", "13:00"), ("15:00", "16:00")]
        .iter()
        .map(|(start, end)| window(MON_FRI, start, end))
        .collect();
    schedule(with_exceptions(doc("Europe/Berlin", windows), exceptions))
}

#[test]
fn when_the_actions_would_not_fit_the_horizon_shortens() {
    let s = crowded();
    let now = utc("2026-02-01T00:00");
    let unlimited = materialise(&s, None, 2, now, Limits { max_actions: usize::MAX, ..Limits::default() }).unwrap();
    assert!(unlimited.actions.len() > MAX_ACTIONS, "{} actions over 92 days", unlimited.actions.len());
    let m = materialise(&s, None, 2, now, Limits::default()).unwrap();
    assert!(m.actions.len() <= MAX_ACTIONS);
    assert!(m.covered_until < now + Duration::days(DEFAULT_HORIZON_DAYS), "shortened");
    assert!(m.covered_until >= now + Duration::days(30), "still weeks ahead: {}", m.covered_until);
    // A day more would not fit.
    let longer = Limits { horizon: m.covered_until - now + Duration::days(1), max_actions: usize::MAX };
    assert!(materialise(&s, None, 2, now, longer).unwrap().actions.len() > MAX_ACTIONS);
    // Within what it covers, AWS follows the engine.
    let plan = Plan::new(Some(&s), None);
    let to = m.covered_until;
    assert_eq!(simulate(&m.actions, now, to, plan.desired_at(now).unwrap()).unwrap(), engine_changes(&plan, now, to));
}

#[test]
fn when_even_a_day_does_not_fit_it_is_an_error() {
    let s = crowded();
    let now = utc("2026-02-01T00:00");
    let tight = Limits { max_actions: 3, ..Limits::default() };
    assert!(matches!(materialise(&s, None, 2, now, tight), Err(MaterialiseError::TooMany { limit: 3, .. })));
    let msg = materialise(&s, None, 2, now, tight).unwrap_err().to_string();
    assert!(msg.contains("AWS allows 3 per service"), "{msg}");
}

#[test]
fn office_hours_with_a_years_holidays_stay_far_below_the_limit() {
    let s = schedule(with_exceptions(
        doc("Europe/Berlin", vec![window(MON_FRI, "08:00", "18:00")]),
        vec![
            off_on("2026-01-01"),
            off_on("2026-04-03"),
            off_on("2026-04-06"),
            off_on("2026-05-01"),
            off_on("2026-05-14"),
            off_on("2026-05-25"),
            off_on("2026-10-03"),
            off_on("2026-12-24"),
            off_on("2026-12-25"),
            off_on("2026-12-31"),
        ],
    ));
    let now = utc("2026-01-01T00:00");
    let year = assert_equivalent(&s, None, 2, now, 365);
    // Held from 1 January (now) on: eight periods split the two weekly actions (3 October is
    // a Saturday: nothing runs then; 24–26 December merge); five next working days get
    // their two transitions as one-offs. The first parts ended before now.
    assert_eq!(year.actions.len(), 2 * 8 + 2 * 5, "{:#?}", year.actions);
    // A quarter ahead: 1 January, and 3 April, whose period starts before 3 April 00:00 UTC.
    let quarter = materialise(&s, None, 2, now, Limits::default()).unwrap();
    assert_eq!(quarter.actions.len(), 2 * 2 + 2);
}

// ─── Reconciling ───

#[test]
fn materialising_again_is_idempotent_and_the_diff_puts_and_deletes_only_what_changed() {
    let s = schedule(with_exceptions(
        doc("Europe/Berlin", vec![window(MON_FRI, "08:00", "18:00")]),
        vec![off_on("2026-12-28")],
    ));
    let now = utc("2026-12-01T00:00");
    let first = materialise(&s, None, 2, now, Limits::default()).unwrap().actions;
    assert_eq!(materialise(&s, None, 2, now, Limits::default()).unwrap().actions, first);
    assert_eq!(diff(&first, &first), (vec![], vec![]));
    // After the holiday has passed, its one-offs and the later parts go, and the weekly
    // actions run unbounded again under their own names.
    let later = materialise(&s, None, 2, utc("2027-01-05T00:00"), Limits::default()).unwrap().actions;
    let (put, delete) = diff(&first, &later);
    let put: Vec<(&str, Option<DateTime<Utc>>)> = put.iter().map(|a| (a.name.as_str(), a.end_time)).collect();
    assert_eq!(put, vec![("shinyfleet-end-1800", None), ("shinyfleet-start-0800", None)]);
    assert_eq!(
        delete,
        vec![
            "shinyfleet-at-20261229T070000Z",
            "shinyfleet-at-20261229T170000Z",
            "shinyfleet-end-1800-from-20261229T230000Z",
            "shinyfleet-start-0800-from-20261229T230000Z",
        ]
    );
    // A changed action is put again, a missing one put, a foreign one left alone.
    let mut current = first.clone();
    current[0].max = 9;
    current.remove(1);
    current.push(ScheduledAction { name: "someone-elses".into(), ..first[0].clone() });
    let (put, delete) = diff(&current, &first);
    assert_eq!(
        put.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        vec![first[0].name.as_str(), first[1].name.as_str()]
    );
    assert!(delete.is_empty());
}

#[test]
fn expressions_read_back_as_they_were_written() {
    let berlin = Some("Europe/Berlin");
    let cases: &[(&str, Option<&str>, Option<&str>)] = &[
        ("cron(0 8 ? * MON-FRI *)", berlin, None),
        ("cron(30 22 ? * SUN,SAT *)", berlin, None),
        ("cron(5 0 ? * 2-6 *)", berlin, Some("cron(5 0 ? * MON-FRI *)")),
        ("cron(0 8 ? * mon,wed,fri *)", berlin, Some("cron(0 8 ? * MON,WED,FRI *)")),
        ("at(2026-03-29T01:00:00)", None, None),
        ("at(2026-03-29T01:00:00)", Some("UTC"), None),
    ];
    for (raw, tz, normal) in cases {
        let parsed = ActionSchedule::parse(raw, *tz).unwrap_or_else(|e| panic!("{raw}: {e}"));
        assert_eq!(parsed.expression(), normal.unwrap_or(raw), "{raw}");
        assert_eq!(ActionSchedule::parse(&parsed.expression(), Some(parsed.timezone())), Ok(parsed));
    }
    // at(...) in another zone is read in that zone.
    assert_eq!(
        ActionSchedule::parse("at(2026-06-01T10:00:00)", berlin),
        Ok(ActionSchedule::At(utc("2026-06-01T08:00")))
    );
    for bad in [
        "cron(0 8 * * ? *)",
        "cron(0 8 ? * MON-FRI)",
        "cron(60 8 ? * MON *)",
        "cron(0 24 ? * MON *)",
        "cron(0 8 ? * FRI-MON *)",
        "cron(0 8 ? * 8 *)",
        "rate(5 minutes)",
        "at(2026-02-30T00:00:00)",
    ] {
        assert!(ActionSchedule::parse(bad, berlin).is_err(), "{bad}");
    }
    assert!(ActionSchedule::parse("cron(0 8 ? * MON *)", Some("Mars/Base")).is_err());
    assert!(ActionSchedule::parse("at(2026-03-29T02:30:00)", berlin).is_err(), "not a time in Berlin");
}

// ─── Properties ───

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

/// Exceptions in 2026, many of them near the clock changes.
fn arb_exception() -> impl Strategy<Value = ExceptionDoc> {
    let day = prop_oneof![0u64..365, 85u64..92, 95u64..99, 270u64..280, 296u64..306];
    (day, any::<bool>(), quarter_hours(0..96), quarter_hours(1..97)).prop_map(|(day, off, a, b)| {
        let date = (NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Days::new(day)).to_string();
        let (start, end) = (a.min(b), if a == b { a + 15 } else { a.max(b) });
        if off {
            off_on(&date)
        } else {
            only(&date, &format_time(start), &format_time(end))
        }
    })
}

/// Two windows every day, `a`–`b` and `b`–`a`: always on, one of them past midnight.
fn arb_whole_week() -> impl Strategy<Value = Vec<WindowDoc>> {
    (quarter_hours(0..96), 1u16..96).prop_map(|(a, k)| {
        let b = (a + k * 15) % MINUTES_PER_DAY;
        vec![window(&DAY_NAMES, &format_time(a), &format_time(b)), window(&DAY_NAMES, &format_time(b), &format_time(a))]
    })
}

/// Random valid schedules in every zone, always on in a fifth of them, with exceptions in
/// 2026.
fn arb_schedule() -> impl Strategy<Value = Schedule> {
    let zones: Vec<&str> = ZONES.to_vec();
    (
        prop::sample::select(zones),
        prop::collection::vec(arb_window(), 0..5),
        prop::option::weighted(0.2, arb_whole_week()),
        prop::collection::vec(arb_exception(), 0..12),
        (1u32..5, 0u32..5),
    )
        .prop_map(|(zone, mut windows, whole_week, mut exceptions, (on, off))| {
            windows.extend(whole_week.unwrap_or_default());
            exceptions.sort_by(|a, b| a.date.cmp(&b.date));
            exceptions.dedup_by(|a, b| a.date == b.date);
            let mut d = with_exceptions(doc(zone, windows), exceptions);
            (d.on_count, d.off_count) = (Some(on), if off == on { 0 } else { off });
            schedule(d)
        })
}

fn arb_instant() -> impl Strategy<Value = DateTime<Utc>> {
    let (start, end) = (utc("2025-12-01T00:00").timestamp(), utc("2026-12-01T00:00").timestamp());
    (start..end).prop_map(|secs| DateTime::from_timestamp(secs - secs % 60, 0).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn aws_running_the_actions_follows_the_engine_for_a_year(
        s in arb_schedule(),
        now in arb_instant(),
        extra in 0u32..3,
        o in prop::option::of((0u32..5, 1i64..20_000)),
    ) {
        // Autoscaling above the on-count only where the off-count is below it (see the notes).
        let max = if s.off_count() < s.on_count() { s.on_count() + extra } else { s.on_count() };
        let o = o.map(|(desired, minutes)| Override { desired, until: now + Duration::minutes(minutes), restore: 1 });
        let m = assert_equivalent(&s, o.as_ref(), max, now, 365);
        let mut names: Vec<&str> = m.actions.iter().map(|a| a.name.as_str()).collect();
        prop_assert!(names.iter().all(|n| valid_name(n) && n.starts_with(PREFIX)), "{names:?}");
        names.dedup();
        prop_assert_eq!(names.len(), m.actions.len(), "unique names");
        for a in &m.actions {
            prop_assert!(a.min <= a.max);
            prop_assert!(a.start_time.is_none() || a.end_time.is_none() || a.start_time < a.end_time, "{a:?}");
            prop_assert_eq!(ActionSchedule::parse(&a.schedule.expression(), Some(a.schedule.timezone())), Ok(a.schedule));
        }
        // Idempotent: the same inputs give the same set, and nothing to do.
        let again = materialise(&s, o.as_ref(), max, now, unlimited(365)).unwrap();
        prop_assert_eq!(diff(&m.actions, &again.actions), (vec![], vec![]));
    }

    #[test]
    fn within_the_limit_the_actions_follow_the_engine_as_far_as_they_cover(s in arb_schedule(), now in arb_instant()) {
        let m = materialise(&s, None, s.on_count(), now, Limits::default()).unwrap();
        prop_assert!(m.actions.len() <= MAX_ACTIONS);
        let plan = Plan::new(Some(&s), None);
        let to = m.covered_until;
        prop_assert_eq!(
            simulate(&m.actions, now, to, plan.desired_at(now).unwrap()).unwrap(),
            engine_changes(&plan, now, to)
        );
    }
}
