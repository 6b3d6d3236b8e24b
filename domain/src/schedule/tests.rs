//! Table and property tests of the schedule engine.

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

pub(super) fn window(days: &[&str], start: &str, end: &str) -> WindowDoc {
    WindowDoc { days: days.iter().map(|d| (*d).to_owned()).collect(), start: start.into(), end: end.into() }
}

pub(super) const MON_FRI: &[&str] = &["mon", "tue", "wed", "thu", "fri"];

/// Expected transitions: instant (to the minute, UTC) and count.
type Changes = &'static [(&'static str, u32)];

/// A change that spoils a valid document.
type Edit = Box<dyn Fn(&mut ScheduleDoc)>;

pub(super) fn doc(timezone: &str, windows: Vec<WindowDoc>) -> ScheduleDoc {
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

pub(super) fn off_on(date: &str) -> ExceptionDoc {
    ExceptionDoc { date: date.into(), off: true, start: None, end: None }
}

pub(super) fn only(date: &str, start: &str, end: &str) -> ExceptionDoc {
    ExceptionDoc { date: date.into(), off: false, start: Some(start.into()), end: Some(end.into()) }
}

pub(super) fn schedule(doc: ScheduleDoc) -> Schedule {
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
        ("UTC", "2026-10-23T12:00Z", &[("2026-10-23T18:00Z", 0), ("2026-10-26T08:00Z", 2), ("2026-10-26T18:00Z", 0)]),
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
    let s =
        schedule(doc("Europe/Berlin", vec![window(&["sun"], "01:00", "02:00"), window(&["sun"], "03:00", "04:00")]));
    let got = s.transitions(utc("2026-03-28T12:00Z"), 2);
    assert_eq!(changes(&got), expect(&[("2026-03-29T00:00Z", 2), ("2026-03-29T02:00Z", 0)]));
}

// ─── Windows past midnight, merging ───

#[test]
fn a_window_past_midnight_ends_the_next_day() {
    let s = schedule(doc("Europe/Berlin", vec![window(&["fri"], "22:00", "02:00")]));
    let got = s.transitions(utc("2026-06-05T12:00Z"), 3);
    assert_eq!(changes(&got), expect(&[("2026-06-05T20:00Z", 2), ("2026-06-06T00:00Z", 0), ("2026-06-12T20:00Z", 2)]));
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
        ("unknown zone", Box::new(|d| d.timezone = "Mars/Base".into()), "timezone", "unknown time zone \"Mars/Base\""),
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
        vec![window(&DAY_NAMES, &format_time(a), &format_time(b)), window(&DAY_NAMES, &format_time(b), &format_time(a))]
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
