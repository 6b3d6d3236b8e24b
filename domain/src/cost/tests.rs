//! Tests of the cost engine: billing, daily splits, prices, fixed-cost shares, projections
//! and money, with a property test that every total adds up to the micro-dollar.

use super::money::parse_decimal;
use super::*;
use crate::app::Architecture;
use chrono::{DateTime, Datelike, Days, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;

const BERLIN: Tz = chrono_tz::Europe::Berlin;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn us_east() -> Prices {
    Prices::for_region("us-east-1").unwrap()
}

/// 1 vCPU and 2 GB on x86_64: $0.04937 an hour in us-east-1.
fn task(app: &str, start: &str, end: Option<&str>) -> TaskLife {
    TaskLife {
        app: app.into(),
        cpu_units: 1024,
        memory_mib: 2048,
        arch: Architecture::X86_64,
        start: utc(start),
        end: end.map(utc),
    }
}

fn berlin_report(tasks: &[TaskLife], from: &str, to: &str) -> CostReport {
    daily_costs(tasks, &us_east(), &[], BERLIN, day(from), day(to), utc("2027-01-01T00:00:00Z"))
}

/// (app, day, task-seconds, compute micro-dollars) of each row.
fn rows(report: &CostReport) -> Vec<(String, String, i64, i64)> {
    report.rows.iter().map(|r| (r.app.clone(), r.day.to_string(), r.task_seconds, r.compute.micros())).collect()
}

fn row(app: &str, day: &str, seconds: i64, micros: i64) -> (String, String, i64, i64) {
    (app.into(), day.into(), seconds, micros)
}

#[test]
fn tasks_are_billed_per_second_rounded_up_with_a_one_minute_minimum() {
    let start = "2026-06-10T08:00:00Z";
    for (case, end, seconds, micros) in [
        ("a task that stopped as it started is billed a minute", "2026-06-10T08:00:00Z", 60, 823),
        ("a sub-minute task is billed one minute", "2026-06-10T08:00:30Z", 60, 823),
        ("59.999 s is billed one minute", "2026-06-10T08:00:59.999Z", 60, 823),
        ("a minute is a minute", "2026-06-10T08:01:00Z", 60, 823),
        ("60.001 s is billed 61 s", "2026-06-10T08:01:00.001Z", 61, 837),
        ("a 90.2 s task is billed 91 s", "2026-06-10T08:01:30.2Z", 91, 1248),
        ("an hour is $0.04937", "2026-06-10T09:00:00Z", 3600, 49_370),
        ("a stop before the start is billed a minute", "2026-06-10T07:00:00Z", 60, 823),
    ] {
        let report = berlin_report(&[task("sales", start, Some(end))], "2026-06-10", "2026-06-10");
        assert_eq!(rows(&report), vec![row("sales", "2026-06-10", seconds, micros)], "{case}");
        assert_eq!(billed_seconds(utc(start), utc(end)), seconds, "{case}");
    }
    // 0.25 vCPU, 0.5 GB: $0.0123425 an hour, so a minute is 205.7 µ$.
    let small = TaskLife { cpu_units: 256, memory_mib: 512, ..task("tiny", start, Some("2026-06-10T08:00:10Z")) };
    assert_eq!(rows(&berlin_report(&[small], "2026-06-10", "2026-06-10")), vec![row("tiny", "2026-06-10", 60, 206)]);
}

#[test]
fn a_task_across_midnight_is_split_between_the_local_days() {
    for (case, start, end, want) in [
        (
            "23:30 to 00:45 in Berlin: half an hour, then three quarters (37,027.5 µ$ rounds up)",
            "2026-06-10T21:30:00Z",
            "2026-06-10T22:45:00Z",
            vec![row("sales", "2026-06-10", 1800, 24_685), row("sales", "2026-06-11", 2700, 37_028)],
        ),
        (
            "fractions of a second round up once, at the midnight they cross",
            "2026-06-10T21:30:00.4Z",
            "2026-06-10T22:45:00.2Z",
            vec![row("sales", "2026-06-10", 1800, 24_685), row("sales", "2026-06-11", 2700, 37_028)],
        ),
        (
            "a 20 s task across midnight: the minimum's 40 extra seconds go to the day it started",
            "2026-06-10T21:59:50Z",
            "2026-06-10T22:00:10Z",
            vec![row("sales", "2026-06-10", 50, 686), row("sales", "2026-06-11", 10, 137)],
        ),
        (
            "midnight UTC is not midnight in Berlin",
            "2026-06-10T23:00:00Z",
            "2026-06-11T01:00:00Z",
            vec![row("sales", "2026-06-11", 7200, 98_740)],
        ),
    ] {
        let report = berlin_report(&[task("sales", start, Some(end))], "2026-06-09", "2026-06-12");
        assert_eq!(rows(&report), want, "{case}");
    }
}

#[test]
fn days_are_local_days_even_when_a_clock_change_makes_them_23_or_25_hours_long() {
    let (utc_zone, new_york) = (chrono_tz::UTC, chrono_tz::America::New_York);
    for (case, tz, the_day, hours) in [
        ("Berlin falls back on 2026-10-25", BERLIN, "2026-10-25", 25),
        ("the day before is 24 hours", BERLIN, "2026-10-24", 24),
        ("Berlin springs forward on 2026-03-29", BERLIN, "2026-03-29", 23),
        ("the day after is 24 hours", BERLIN, "2026-03-30", 24),
        ("New York falls back on 2026-11-01", new_york, "2026-11-01", 25),
        ("UTC never changes", utc_zone, "2026-10-25", 24),
    ] {
        let d = day(the_day);
        let always = task("sales", "2026-01-01T00:00:00Z", Some("2026-12-31T00:00:00Z"));
        let fixed = [FixedCost { name: "load balancer".into(), micros_per_hour: 1_000 }];
        let report = daily_costs(&[always], &us_east(), &fixed, tz, d, d, utc("2027-01-01T00:00:00Z"));
        assert_eq!(report.rows.len(), 1, "{case}");
        assert_eq!(report.rows[0].task_seconds, hours * 3600, "{case}");
        assert_eq!(report.rows[0].compute.micros(), hours * 49_370, "{case}");
        assert_eq!(report.rows[0].fixed_share.micros(), hours * 1_000, "{case}: fixed cost of the day's hours");
        assert_eq!(local_day_start(tz, d + Days::new(1)) - local_day_start(tz, d), Duration::hours(hours), "{case}");
    }
}

#[test]
fn a_task_across_the_25_hour_day_is_split_by_local_midnights() {
    let report = berlin_report(
        &[task("sales", "2026-10-24T12:00:00Z", Some("2026-10-26T12:00:00Z"))],
        "2026-10-24",
        "2026-10-26",
    );
    let seconds: Vec<i64> = report.rows.iter().map(|r| r.task_seconds).collect();
    // 14:00 CEST to midnight, 25 hours, then midnight to 13:00 CET.
    assert_eq!(seconds, vec![10 * 3600, 25 * 3600, 13 * 3600]);
}

#[test]
fn a_midnight_skipped_by_a_clock_change_starts_the_day_at_the_change() {
    // Cuba springs forward at midnight: 2026-03-08 begins at 01:00 CDT, i.e. 05:00 UTC.
    let havana = chrono_tz::America::Havana;
    let midnight = day("2026-03-08").and_time(chrono::NaiveTime::MIN);
    assert!(chrono::TimeZone::from_local_datetime(&havana, &midnight).earliest().is_none(), "no such local time");
    assert_eq!(local_day_start(havana, day("2026-03-08")), utc("2026-03-08T05:00:00Z"));
    assert_eq!(local_day_start(havana, day("2026-03-09")), utc("2026-03-09T04:00:00Z"));
    assert_eq!(local_day_start(havana, day("2026-03-07")), utc("2026-03-07T05:00:00Z"));
}

#[test]
fn a_task_across_a_month_end_counts_in_both_months() {
    // 22:00 CET on 30 November to 02:00 CET on 1 December.
    let tasks = [task("sales", "2026-11-30T21:00:00Z", Some("2026-12-01T01:00:00Z"))];
    let report = berlin_report(&tasks, "2026-11-29", "2026-12-02");
    assert_eq!(rows(&report), vec![row("sales", "2026-11-30", 7200, 98_740), row("sales", "2026-12-01", 7200, 98_740)]);
    let months: Vec<(u32, i64, i64)> =
        report.months.iter().map(|m| (m.month, m.task_seconds, m.cost.micros())).collect();
    assert_eq!(months, vec![(11, 7200, 98_740), (12, 7200, 98_740)]);
    assert_eq!(report.total.micros(), 197_480);
}

#[test]
fn hourly_prices_follow_region_architecture_and_size() {
    use Architecture::*;
    for (region, arch, cpu, memory, micros) in [
        ("us-east-1", X86_64, 1024, 2048, 49_370),
        ("us-east-1", Arm64, 1024, 2048, 39_500),
        ("us-east-2", X86_64, 1024, 2048, 49_370),
        ("us-west-2", Arm64, 1024, 2048, 39_500),
        ("eu-west-1", X86_64, 1024, 2048, 49_370),
        ("eu-central-1", X86_64, 1024, 2048, 56_780),
        ("eu-central-1", Arm64, 1024, 2048, 45_430),
        ("eu-west-2", X86_64, 1024, 2048, 56_780),
        ("ap-southeast-1", X86_64, 1024, 2048, 61_620),
        ("ap-southeast-1", Arm64, 1024, 2048, 49_290),
        ("ap-southeast-2", X86_64, 1024, 2048, 59_200),
        ("ap-southeast-2", Arm64, 1024, 2048, 47_370),
        ("ap-northeast-1", Arm64, 1024, 2048, 49_290),
        // $0.0123425 an hour: the half micro-dollar rounds up.
        ("us-east-1", X86_64, 256, 512, 12_343),
        ("us-east-1", Arm64, 256, 512, 9_875),
        ("us-east-1", X86_64, 16384, 122880, 16 * 40_480 + 120 * 4_445),
    ] {
        let prices = Prices::for_region(region).unwrap();
        assert_eq!(per_task_hourly(cpu, memory, arch, &prices).micros(), micros, "{region} {arch:?} {cpu}/{memory}");
    }
    let size = crate::app::FargateSize::new(1024, 2048).unwrap();
    let rate = TaskRate::for_size(size, Arm64, &us_east());
    assert_eq!(rate.for_seconds(30 * 86_400), Money::from_micros(39_500 * 720), "a 30-day month, exact");
}

#[test]
fn the_built_in_table_holds_the_published_prices() {
    let published = |s: &str| parse_decimal(s, 9).unwrap() as u64;
    for (region, x86, arm) in [
        ("us-east-1", ["0.04048", "0.004445"], ["0.03238", "0.00356"]),
        ("us-east-2", ["0.04048", "0.004445"], ["0.03238", "0.00356"]),
        ("us-west-2", ["0.04048", "0.004445"], ["0.03238", "0.00356"]),
        ("eu-west-1", ["0.04048", "0.004445"], ["0.03238", "0.00356"]),
        ("eu-central-1", ["0.04656", "0.00511"], ["0.03725", "0.00409"]),
        ("eu-west-2", ["0.04656", "0.00511"], ["0.03725", "0.00409"]),
        ("ap-southeast-1", ["0.05056", "0.00553"], ["0.04045", "0.00442"]),
        ("ap-southeast-2", ["0.04856", "0.00532"], ["0.03885", "0.00426"]),
        ("ap-northeast-1", ["0.05056", "0.00553"], ["0.04045", "0.00442"]),
    ] {
        let p = Prices::for_region(region).unwrap();
        assert_eq!((p.x86_64.vcpu_hour_nanos, p.x86_64.gb_hour_nanos), (published(x86[0]), published(x86[1])));
        assert_eq!((p.arm64.vcpu_hour_nanos, p.arm64.gb_hour_nanos), (published(arm[0]), published(arm[1])));
        assert!(p.source.contains(PRICE_SOURCE) && p.source.contains("2026-11"), "{}", p.source);
    }
    assert_eq!(Prices::known_regions().count(), 9);
    assert_eq!(Prices::for_region(" US-EAST-1 ").unwrap().region, "us-east-1");
}

#[test]
fn the_same_task_costs_less_on_arm_than_on_x86() {
    let x86 = task("x", "2026-06-10T08:00:00Z", Some("2026-06-10T09:00:00Z"));
    let arm = TaskLife { app: "a".into(), arch: Architecture::Arm64, ..x86.clone() };
    let report = berlin_report(&[x86, arm], "2026-06-10", "2026-06-10");
    assert_eq!(rows(&report), vec![row("a", "2026-06-10", 3600, 39_500), row("x", "2026-06-10", 3600, 49_370)]);
}

#[test]
fn price_overrides_replace_built_in_prices_exactly() {
    let all =
        PriceOverrides::parse("x86_64.vcpu_hour=0.05,x86_64.gb_hour=0.005,arm64.vcpu_hour=0.04,arm64.gb_hour=0.004")
            .unwrap();
    assert_eq!(all.values(), [Some(50_000_000), Some(5_000_000), Some(40_000_000), Some(4_000_000)]);
    assert!(all.is_complete());

    let mars = Prices::resolve("mars-north-1", &all).unwrap();
    assert_eq!(mars.x86_64, ArchPrices { vcpu_hour_nanos: 50_000_000, gb_hour_nanos: 5_000_000 });
    assert_eq!(per_task_hourly(1024, 2048, Architecture::Arm64, &mars).micros(), 48_000);

    let some: PriceOverrides = " ARM64.VCPU_HOUR = $0.000000001 , ".parse().unwrap();
    let p = Prices::resolve("us-east-1", &some).unwrap();
    assert_eq!(p.arm64, ArchPrices { vcpu_hour_nanos: 1, gb_hour_nanos: 3_560_000 });
    assert_eq!(p.x86_64, us_east().x86_64);
    assert!(p.source.ends_with("overridden: arm64.vcpu_hour"), "{}", p.source);

    assert!(PriceOverrides::parse("").unwrap().is_empty());
    assert_eq!(Prices::resolve("us-east-1", &PriceOverrides::default()).unwrap(), us_east());
}

#[test]
fn a_region_without_built_in_prices_needs_all_four_overridden() {
    for (overrides, names) in [
        ("", vec!["us-east-1", "ap-northeast-1", "set all four prices", "arm64.gb_hour"]),
        ("x86_64.vcpu_hour=0.05,x86_64.gb_hour=0.005", vec!["missing", "arm64.vcpu_hour, arm64.gb_hour"]),
    ] {
        let e = Prices::resolve("mars-north-1", &PriceOverrides::parse(overrides).unwrap()).unwrap_err();
        assert_eq!(e.field, "region");
        assert!(e.message.contains("\"mars-north-1\""), "{}", e.message);
        for name in names {
            assert!(e.message.contains(name), "{overrides:?}: {name} not in {}", e.message);
        }
    }
    assert!(Prices::for_region("mars-north-1").is_err());
}

#[test]
fn bad_price_overrides_are_refused_with_a_clear_message() {
    for (raw, why) in [
        ("x86_64.vcpu=0.05", "unknown price \"x86_64.vcpu\"; the prices are x86_64.vcpu_hour"),
        ("x86_64.vcpu_hour", "is not key=value"),
        ("x86_64.vcpu_hour=", "not a price in dollars"),
        ("x86_64.vcpu_hour=abc", "not a price in dollars"),
        ("x86_64.vcpu_hour=-0.05", "not a price in dollars"),
        ("x86_64.vcpu_hour=1e-3", "not a price in dollars"),
        ("x86_64.vcpu_hour=.05", "not a price in dollars"),
        ("x86_64.vcpu_hour=0.0000000001", "at most 9 decimals"),
        ("x86_64.vcpu_hour=0.05;arm64.vcpu_hour=0.04", "not a price in dollars"),
        ("x86_64.vcpu_hour=5000", "more than the $1000"),
        ("x86_64.vcpu_hour=99999999999999999999999999999", "not a price"),
        ("arm64.gb_hour=0.004,arm64.gb_hour=0.005", "arm64.gb_hour is given twice"),
    ] {
        let e = PriceOverrides::parse(raw).unwrap_err();
        assert_eq!(e.field, "price_overrides");
        assert!(e.message.contains(why), "{raw:?}: {}", e.message);
    }
}

#[test]
fn a_running_task_counts_up_to_now() {
    let now = utc("2026-06-10T12:00:00Z");
    for (case, start, want) in [
        ("two hours so far", "2026-06-10T10:00:00Z", vec![row("sales", "2026-06-10", 7200, 98_740)]),
        ("started ten seconds ago: a minute", "2026-06-10T11:59:50Z", vec![row("sales", "2026-06-10", 60, 823)]),
        (
            "since yesterday evening (Berlin)",
            "2026-06-09T20:00:00Z",
            vec![row("sales", "2026-06-09", 7200, 98_740), row("sales", "2026-06-10", 14 * 3600, 14 * 49_370)],
        ),
    ] {
        let report = daily_costs(
            &[task("sales", start, None)],
            &us_east(),
            &[],
            BERLIN,
            day("2026-06-01"),
            day("2026-06-30"),
            now,
        );
        assert_eq!(rows(&report), want, "{case}");
    }
}

#[test]
fn only_the_part_of_a_task_inside_the_range_counts() {
    let tasks = [
        // 23:00 the day before the range to 01:00 on its first day (Berlin, CEST).
        task("before", "2026-06-09T21:00:00Z", Some("2026-06-09T23:00:00Z")),
        // 23:00 on its last day to 01:00 after it.
        task("after", "2026-06-11T21:00:00Z", Some("2026-06-11T23:00:00Z")),
        // A 20 s task just before the range: its minute minimum belongs to that day.
        task("short", "2026-06-09T21:59:40Z", Some("2026-06-09T22:00:00Z")),
        task("outside", "2026-06-01T08:00:00Z", Some("2026-06-01T09:00:00Z")),
        task("spanning", "2026-06-01T08:00:00Z", Some("2026-06-20T09:00:00Z")),
    ];
    let report = berlin_report(&tasks, "2026-06-10", "2026-06-11");
    assert_eq!(
        rows(&report),
        vec![
            row("before", "2026-06-10", 3600, 49_370),
            row("spanning", "2026-06-10", 86_400, 24 * 49_370),
            row("after", "2026-06-11", 3600, 49_370),
            row("spanning", "2026-06-11", 86_400, 24 * 49_370),
        ]
    );
}

#[test]
fn fixed_costs_are_shared_by_task_seconds_and_sum_exactly() {
    let now = utc("2027-01-01T00:00:00Z");
    let lb = |micros_per_hour| vec![FixedCost { name: "load balancer".into(), micros_per_hour }];
    // A task of `seconds` starting at 10:00 local on `d`.
    let run = |app: &str, d: &str, seconds: i64| {
        let start = local_day_start(BERLIN, day(d)) + Duration::hours(10);
        TaskLife { start, end: Some(start + Duration::seconds(seconds)), ..task(app, "2026-01-01T00:00:00Z", None) }
    };
    type Case<'a> = (&'a str, Vec<TaskLife>, Vec<FixedCost>, &'a str, &'a str, DateTime<Utc>, Vec<(&'a str, i64)>, i64);
    let cases: Vec<Case> = vec![
        (
            "two to one",
            vec![run("a", "2026-06-10", 7200), run("b", "2026-06-10", 3600)],
            lb(1_000),
            "2026-06-10",
            "2026-06-10",
            now,
            vec![("a", 16_000), ("b", 8_000)],
            0,
        ),
        (
            "25 µ$ on the 25-hour day for 70, 110 and 120 s: 5.83, 9.17, 10 → the largest remainder gets the spare",
            vec![run("c", "2026-10-25", 120), run("a", "2026-10-25", 70), run("b", "2026-10-25", 110)],
            lb(1),
            "2026-10-25",
            "2026-10-25",
            now,
            vec![("a", 6), ("b", 9), ("c", 10)],
            0,
        ),
        (
            "equal remainders go by app name",
            vec![run("beta", "2026-10-25", 60), run("gamma", "2026-10-25", 60), run("alpha", "2026-10-25", 60)],
            lb(1),
            "2026-10-25",
            "2026-10-25",
            now,
            vec![("alpha", 9), ("beta", 8), ("gamma", 8)],
            0,
        ),
        (
            "a day on which no app ran leaves its fixed cost unassigned",
            vec![run("a", "2026-06-10", 3600)],
            lb(1_000),
            "2026-06-10",
            "2026-06-11",
            now,
            vec![("a", 24_000)],
            24_000,
        ),
        (
            "several fixed costs add up before they are shared",
            vec![run("a", "2026-06-10", 3600), run("b", "2026-06-10", 3600)],
            vec![
                FixedCost { name: "load balancer".into(), micros_per_hour: 22_500 },
                FixedCost { name: "NAT gateway".into(), micros_per_hour: 45_000 },
            ],
            "2026-06-10",
            "2026-06-10",
            now,
            vec![("a", 810_000), ("b", 810_000)],
            0,
        ),
        (
            "today's fixed cost accrues only up to now (12:00 local)",
            vec![run("a", "2026-06-10", 600)],
            lb(1_000),
            "2026-06-10",
            "2026-06-11",
            utc("2026-06-10T10:00:00Z"),
            vec![("a", 12_000)],
            0,
        ),
    ];
    for (case, tasks, fixed, from, to, now, shares, unassigned) in cases {
        let report = daily_costs(&tasks, &us_east(), &fixed, BERLIN, day(from), day(to), now);
        let got: Vec<(&str, i64)> = report.rows.iter().map(|r| (r.app.as_str(), r.fixed_share.micros())).collect();
        assert_eq!(got, shares, "{case}");
        assert_eq!(report.unassigned_fixed.micros(), unassigned, "{case}");
        let fixed_total: Money = report.fixed.iter().map(|f| f.cost).sum();
        let shared: Money = report.rows.iter().map(|r| r.fixed_share).sum();
        assert_eq!(fixed_total, shared + report.unassigned_fixed, "{case}: every micro-dollar is shared or unassigned");
        assert!(report.rows.iter().all(|r| r.cost == r.compute + r.fixed_share), "{case}");
    }
}

#[test]
fn a_days_total_is_the_sum_of_its_apps_and_a_months_total_the_sum_of_its_days() {
    let tasks = [
        task("sales", "2026-10-30T08:00:00.3Z", Some("2026-11-02T10:17:41.9Z")),
        TaskLife {
            cpu_units: 256,
            memory_mib: 512,
            ..task("hr", "2026-10-31T22:59:30Z", Some("2026-10-31T23:00:05Z"))
        },
        TaskLife { arch: Architecture::Arm64, ..task("ops", "2026-10-31T12:00:00Z", None) },
    ];
    let fixed = [FixedCost { name: "load balancer".into(), micros_per_hour: 22_500 }];
    let report = daily_costs(
        &tasks,
        &us_east(),
        &fixed,
        BERLIN,
        day("2026-10-29"),
        day("2026-11-03"),
        utc("2026-11-02T15:00:00Z"),
    );
    assert_totals_add_up(&report);
    assert_eq!(report.months.len(), 2);
    assert_eq!(report.bill(), report.months.iter().map(MonthTotal::bill).sum());
    let hr: Vec<(String, i64)> = report.app_days("hr").map(|r| (r.day.to_string(), r.task_seconds)).collect();
    // 23:59:30 to 00:00:05 CET: 30 s on 31 October with the minimum's 25, 5 s on 1 November.
    assert_eq!(hr, vec![("2026-10-31".to_owned(), 55), ("2026-11-01".to_owned(), 5)]);
}

fn assert_totals_add_up(report: &CostReport) {
    for d in &report.days {
        let of_day: Vec<&DayCost> = report.rows.iter().filter(|r| r.day == d.day).collect();
        assert_eq!(d.cost, of_day.iter().map(|r| r.cost).sum(), "{}", d.day);
        assert_eq!(d.compute, of_day.iter().map(|r| r.compute).sum(), "{}", d.day);
        assert_eq!(d.fixed_share, of_day.iter().map(|r| r.fixed_share).sum(), "{}", d.day);
        assert_eq!(d.task_seconds, of_day.iter().map(|r| r.task_seconds).sum::<i64>(), "{}", d.day);
        assert!(of_day.is_empty() || d.unassigned_fixed == Money::ZERO, "{}", d.day);
    }
    for m in &report.months {
        let of_month: Vec<&DayTotal> =
            report.days.iter().filter(|d| (d.day.year(), d.day.month()) == (m.year, m.month)).collect();
        assert_eq!(m.cost, of_month.iter().map(|d| d.cost).sum());
        assert_eq!(m.unassigned_fixed, of_month.iter().map(|d| d.unassigned_fixed).sum());
    }
    for a in &report.apps {
        assert_eq!(a.cost, report.app_days(&a.app).map(|r| r.cost).sum());
    }
    assert!(report.rows.iter().all(|r| r.cost == r.compute + r.fixed_share && r.task_seconds > 0));
    assert_eq!(report.total, report.days.iter().map(|d| d.cost).sum());
    assert_eq!(report.total, report.months.iter().map(|m| m.cost).sum());
    assert_eq!(report.total, report.apps.iter().map(|a| a.cost).sum());
    assert_eq!(report.unassigned_fixed, report.days.iter().map(|d| d.unassigned_fixed).sum());
    let fixed: Money = report.fixed.iter().map(|f| f.cost).sum();
    assert_eq!(fixed, report.days.iter().map(|d| d.fixed_share + d.unassigned_fixed).sum());
}

#[test]
fn the_rest_of_the_month_is_counted_in_local_days() {
    for (case, now, whole_days, left, length) in [
        ("noon on 20 November in Berlin", "2026-11-20T11:00:00Z", 10, 43_200, 86_400),
        ("the last hour of the month", "2026-11-30T22:00:00Z", 0, 3600, 86_400),
        ("noon on the 25-hour day", "2026-10-25T11:00:00Z", 6, 12 * 3600, 25 * 3600),
    ] {
        let r = MonthRemainder::at(utc(now), BERLIN);
        assert_eq!((r.whole_days, r.today_left_seconds, r.today_seconds), (whole_days, left, length), "{case}");
    }
}

#[test]
fn a_run_rate_projection_extends_the_average_of_recent_days() {
    let dollars = |d: i64| Money::from_micros(d * 1_000_000);
    let noon = MonthRemainder::at(utc("2026-11-20T11:00:00Z"), BERLIN);
    let dst_noon = MonthRemainder::at(utc("2026-10-25T11:00:00Z"), BERLIN);
    let recent = [dollars(1), dollars(2), dollars(3)];
    for (case, recent_days, remaining, want) in [
        ("$2 a day for 10.5 days", &recent[..], noon, 30_000_000 + 21_000_000),
        ("$2.50 a day for 6 + 12/25 days", &[Money::from_micros(2_500_000)][..], dst_noon, 30_000_000 + 16_200_000),
        ("no recent days: nothing to extend", &[][..], noon, 30_000_000),
        (
            "a third of a micro-dollar rounds away",
            &[Money::from_micros(1)][..],
            MonthRemainder { whole_days: 0, today_left_seconds: 1, today_seconds: 3 },
            30_000_000,
        ),
    ] {
        let projected = project_month(dollars(30), Projection::RunRate { recent_days, remaining });
        assert_eq!(projected.micros(), want, "{case}");
    }

    // The recent days come from a report: the last complete days before today.
    let tasks = [task("sales", "2026-11-17T23:00:00Z", Some("2026-11-20T11:00:00Z"))];
    let report =
        daily_costs(&tasks, &us_east(), &[], BERLIN, day("2026-11-01"), day("2026-11-20"), utc("2026-11-20T11:00:00Z"));
    let recent = report.recent_days(Some("sales"), day("2026-11-20"), 3);
    assert_eq!(recent, vec![Money::ZERO, Money::from_micros(24 * 49_370), Money::from_micros(24 * 49_370)]);
    assert_eq!(report.recent_days(None, day("2026-11-20"), 3), recent);
    let projected = project_month(report.total, Projection::RunRate { recent_days: &recent, remaining: noon });
    // Two-thirds of a day's $1.18488 for 10.5 days.
    assert_eq!(projected, report.total + Money::from_micros(8_294_160));
}

#[test]
fn a_schedule_projection_costs_the_desired_tasks_over_the_intervals() {
    let rate = TaskRate::new(1024, 2048, Architecture::X86_64, &us_east());
    let at = |h: i64| utc("2026-11-21T00:00:00Z") + Duration::hours(h);
    let intervals = [
        RunInterval { start: at(8), end: at(18), desired_count: 2 },
        RunInterval { start: at(32), end: at(42), desired_count: 1 },
        RunInterval { start: at(18), end: at(22), desired_count: 0 },
        RunInterval { start: at(50), end: at(40), desired_count: 3 },
    ];
    let projected = project_month(Money::from_micros(1_000_000), Projection::Schedule { intervals: &intervals, rate });
    assert_eq!(projected.micros(), 1_000_000 + 30 * 49_370);
    let none = project_month(Money::from_micros(7), Projection::Schedule { intervals: &[], rate });
    assert_eq!(none.micros(), 7);
}

#[test]
fn a_schedule_saves_the_always_on_cost_minus_the_scheduled_cost() {
    let rate = TaskRate::new(1024, 2048, Architecture::X86_64, &us_east());
    let (monday, next_monday) = (utc("2026-11-16T00:00:00Z"), utc("2026-11-23T00:00:00Z"));
    let office: Vec<RunInterval> = (0..5)
        .map(|d| RunInterval {
            start: monday + Duration::days(d) + Duration::hours(8),
            end: monday + Duration::days(d) + Duration::hours(18),
            desired_count: 2,
        })
        .collect();
    let mut with_late_sunday = office.clone();
    with_late_sunday.push(RunInterval {
        start: utc("2026-11-22T20:00:00Z"),
        end: utc("2026-11-23T06:00:00Z"),
        desired_count: 1,
    });
    for (case, intervals, on_count, want) in [
        ("office hours, 2 tasks: 336 - 100 task-hours", &office[..], 2, 236 * 49_370),
        ("an interval past the range counts only inside it", &with_late_sunday[..], 2, 232 * 49_370),
        ("always on saves nothing", &[RunInterval { start: monday, end: next_monday, desired_count: 2 }][..], 2, 0),
        ("nothing scheduled saves everything", &[][..], 1, 168 * 49_370),
    ] {
        assert_eq!(schedule_saving(intervals, on_count, rate, monday, next_monday).micros(), want, "{case}");
    }
    assert_eq!(scheduled_cost(&office, rate, monday, next_monday).micros(), 100 * 49_370);
}

#[test]
fn budgets_warn_only_when_the_projection_exceeds_them() {
    let budget = Budget { monthly: Money::parse("$500").unwrap() };
    assert_eq!(budget.check(Money::from_micros(499_999_999)), None);
    assert_eq!(budget.check(Money::from_micros(500_000_000)), None, "exactly on budget");
    let warning = budget.check(Money::parse("512.345").unwrap()).unwrap();
    assert_eq!(warning.over_by, Money::from_micros(12_345_000));
    assert_eq!(warning.to_string(), "projected $512.35 this month, $12.35 over the $500.00 budget");
}

#[test]
fn money_displays_as_dollars_and_cents() {
    for (micros, decimals, text) in [
        (1_234_567, 2, "$1.23"),
        (1_235_000, 2, "$1.24"),
        (1_234_999, 2, "$1.23"),
        (-500_000, 2, "-$0.50"),
        (-5_000, 2, "-$0.01"),
        (-4_999, 2, "$0.00"),
        (0, 2, "$0.00"),
        (5_000, 2, "$0.01"),
        (4_999, 2, "$0.00"),
        (999_995_000, 2, "$1000.00"),
        (1_234_567, 4, "$1.2346"),
        (1_234_567, 6, "$1.234567"),
        (1_234_567, 9, "$1.234567"),
        (1_500_000, 0, "$2"),
        (i64::MIN, 2, "-$9223372036854.78"),
        (i64::MAX, 2, "$9223372036854.78"),
    ] {
        assert_eq!(Money::from_micros(micros).to_dollars_string(decimals), text, "{micros} to {decimals}");
    }
    assert_eq!(Money::from_micros(1_234_567).to_string(), "$1.23");
    assert_eq!(format!("{:>8}", Money::from_micros(-500_000)), "  -$0.50");
    assert_eq!(Money::from_micros(1_500_000).dollars_f64(), 1.5);
}

#[test]
fn money_is_parsed_exactly_and_adds_up() {
    for (raw, micros) in
        [("12.50", 12_500_000), ("$12.5", 12_500_000), ("-3", -3_000_000), ("-$0.000001", -1), (" 0 ", 0)]
    {
        assert_eq!(Money::parse(raw).unwrap().micros(), micros, "{raw}");
    }
    for bad in ["", "abc", "1.0000001", "1,5", "1e3", "$", "12.", "9999999999999999"] {
        assert_eq!(Money::parse(bad).unwrap_err().field, "amount", "{bad}");
    }
    let (a, b) = (Money::from_micros(1_500_000), Money::from_micros(250_000));
    assert_eq!((a + b).micros(), 1_750_000);
    assert_eq!((a - b).micros(), 1_250_000);
    assert_eq!((b - a).to_string(), "-$1.25");
    assert_eq!((-a).micros(), -1_500_000);
    assert_eq!([a, b, b].iter().sum::<Money>().micros(), 2_000_000);
    let mut c = a;
    c += b;
    c -= a;
    assert_eq!(c, b);
}

fn arb_task() -> impl Strategy<Value = TaskLife> {
    let start = utc("2026-10-15T00:00:00Z");
    (
        0..5usize,
        0i64..(32 * 86_400),
        0u32..1_000_000_000,
        prop_oneof![0i64..120, 0i64..7200, 0i64..(4 * 86_400)],
        0u32..1_000_000_000,
        prop::sample::select(vec![(256u32, 512u32), (512, 2048), (1024, 2048), (4096, 30720)]),
        any::<bool>(),
        prop::bool::weighted(0.1),
    )
        .prop_map(move |(app, offset, start_nanos, length, length_nanos, (cpu, memory), arm, running)| {
            let start = start + Duration::seconds(offset) + Duration::nanoseconds(i64::from(start_nanos));
            TaskLife {
                app: ["alpha", "beta", "gamma", "delta", "epsilon"][app].to_owned(),
                cpu_units: cpu,
                memory_mib: memory,
                arch: if arm { Architecture::Arm64 } else { Architecture::X86_64 },
                start,
                end: (!running)
                    .then(|| start + Duration::seconds(length) + Duration::nanoseconds(i64::from(length_nanos))),
            }
        })
}

fn arb_zone() -> impl Strategy<Value = Tz> {
    prop::sample::select(vec![
        BERLIN,
        chrono_tz::UTC,
        chrono_tz::America::New_York,
        chrono_tz::Australia::Sydney,
        chrono_tz::Asia::Kolkata,
    ])
}

proptest! {
    #[test]
    fn prop_every_total_is_a_sum_of_app_days_to_the_micro_dollar(
        tasks in prop::collection::vec(arb_task(), 0..30),
        rates in prop::collection::vec(0i64..100_000, 0..3),
        tz in arb_zone(),
        split in 1u64..20,
    ) {
        let prices = Prices::for_region("eu-central-1").unwrap();
        let fixed: Vec<FixedCost> =
            rates.iter().enumerate().map(|(i, r)| FixedCost { name: format!("fixed {i}"), micros_per_hour: *r }).collect();
        let now = utc("2026-11-12T13:14:15.5Z");
        let (from, to) = (day("2026-10-20"), day("2026-11-10"));
        let report = daily_costs(&tasks, &prices, &fixed, tz, from, to, now);
        assert_totals_add_up(&report);
        prop_assert_eq!(report.days.len(), 22);
        prop_assert_eq!(report.months.len(), 2);

        // A range is the union of its parts: days are costed independently.
        let mid = from + Days::new(split);
        let first = daily_costs(&tasks, &prices, &fixed, tz, from, mid, now);
        let second = daily_costs(&tasks, &prices, &fixed, tz, mid + Days::new(1), to, now);
        let joined: Vec<DayCost> = first.rows.iter().chain(&second.rows).cloned().collect();
        prop_assert_eq!(&joined, &report.rows);
        prop_assert_eq!(first.bill() + second.bill(), report.bill());

        // Over a range covering every task, every billed second is counted once.
        let wide = daily_costs(&tasks, &prices, &fixed, tz, day("2026-10-01"), day("2026-12-31"), now);
        let billed: i64 = tasks.iter().map(|t| billed_seconds(t.start, t.end.unwrap_or(now).max(t.start))).sum();
        prop_assert_eq!(wide.rows.iter().map(|r| r.task_seconds).sum::<i64>(), billed);
    }
}
