//! What the fleet costs, worked out from the tasks it ran rather than read from a bill
//! (Cost Explorer lags by a day and does not know which Shiny app a task served).
//!
//! Fargate bills a task per second for the vCPU and memory it reserves. [`daily_costs`]
//! turns task lifetimes and a price table into one amount per app and local day, and every
//! larger figure — a day, a month, an app, the fleet — is a sum of those amounts, so the
//! totals on a page add up to the micro-dollar. Amounts are integer micro-dollars
//! ([`Money`]) and prices integer nano-dollars per hour: every published Fargate price is
//! exact, and no total drifts with floating-point rounding.
//!
//! The money and report types are compiled everywhere (the browser shows them); the engine
//! itself — prices, the split into local days, projections — needs the time-zone database
//! and is behind the `engine` feature.

use crate::app::ValidationError;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};

#[cfg(feature = "engine")]
pub use engine::*;

/// An amount of US dollars in micro-dollars (millionths of a dollar).
///
/// Integers, because costs are summed across apps, days and months and each sum must equal
/// the sum of what is shown; floating-point sums would not. A micro-dollar is fine enough
/// that one second of the smallest task (about 3.4 µ$) is still visible. Serialized as the
/// bare integer, so JSON clients never see a rounded float.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_micros(micros: i64) -> Self {
        Self(micros)
    }

    pub const fn micros(self) -> i64 {
        self.0
    }

    /// Dollars as a float: for chart axes only, never for sums.
    pub fn dollars_f64(self) -> f64 {
        self.0 as f64 / 1_000_000.0
    }

    /// `$1.23`-style text with `decimals` places (at most 6, the precision kept), rounded
    /// half away from zero, so `-x` always reads as `-` followed by `x`; an amount that
    /// rounds to zero shows no sign. No thousands separators: pages format as they like.
    pub fn to_dollars_string(self, decimals: u32) -> String {
        let decimals = decimals.min(6);
        let unit = 10u64.pow(6 - decimals);
        let abs = self.0.unsigned_abs();
        let rounded = abs / unit + u64::from((abs % unit) * 2 >= unit);
        let scale = 10u64.pow(decimals);
        let (whole, frac) = (rounded / scale, rounded % scale);
        let sign = if self.0 < 0 && rounded != 0 { "-" } else { "" };
        if decimals == 0 {
            format!("{sign}${whole}")
        } else {
            format!("{sign}${whole}.{frac:0width$}", width = decimals as usize)
        }
    }

    /// An amount typed by a person or read from configuration (a budget): `12.50`, `$12.50`,
    /// `-3`, with at most 6 decimals, read exactly.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let trimmed = raw.trim();
        let (negative, rest) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let rest = rest.strip_prefix('$').unwrap_or(rest);
        parse_decimal(rest, 6)
            .map(|v| if negative { -v } else { v })
            .and_then(|v| i64::try_from(v).ok())
            .map(Money)
            .ok_or_else(|| {
                ValidationError::new("amount", format!("{trimmed:?} is not an amount in dollars (e.g. 12.50)"))
            })
    }
}

impl fmt::Display for Money {
    /// Dollars and cents: `$1.23`, `-$0.50`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.to_dollars_string(2))
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, rhs: Money) {
        self.0 += rhs.0;
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0 - rhs.0)
    }
}

impl SubAssign for Money {
    fn sub_assign(&mut self, rhs: Money) {
        self.0 -= rhs.0;
    }
}

impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(-self.0)
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Add::add)
    }
}

impl<'a> Sum<&'a Money> for Money {
    fn sum<I: Iterator<Item = &'a Money>>(iter: I) -> Money {
        iter.copied().sum()
    }
}

/// `digits[.digits]` read exactly as a count of `10^-scale` units; `None` when it is not
/// such a number (no sign, no exponent, digits on both sides of a dot), has more than
/// `scale` decimals, or is absurdly large.
fn parse_decimal(raw: &str, scale: u32) -> Option<i128> {
    let (whole, frac) = match raw.split_once('.') {
        Some((whole, frac)) if !frac.is_empty() => (whole, frac),
        Some(_) => return None,
        None => (raw, ""),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !(frac.is_empty() || digits(frac)) || frac.len() > scale as usize {
        return None;
    }
    let mut value: i128 = 0;
    for b in whole.bytes().chain(frac.bytes()) {
        value = value.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
    }
    value.checked_mul(10i128.pow(scale - frac.len() as u32))
}

/// One app's cost on one local day of the report's time zone: the unit every total is a
/// sum of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayCost {
    pub app: String,
    pub day: NaiveDate,
    /// Billed task-seconds over all of the app's tasks that day (the minute minimum included).
    pub task_seconds: i64,
    /// vCPU-hours and GB-hours billed: for display only, money is never derived from them.
    pub vcpu_hours: f64,
    pub gb_hours: f64,
    /// vCPU and memory, rounded once (half up) to the micro-dollar.
    pub compute: Money,
    /// The app's share of the day's fixed costs (load balancer and the like).
    pub fixed_share: Money,
    /// `compute + fixed_share`.
    pub cost: Money,
}

/// One local day of the fleet: sums of that day's [`DayCost`] rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayTotal {
    pub day: NaiveDate,
    pub task_seconds: i64,
    pub compute: Money,
    pub fixed_share: Money,
    /// The sum of the day's app costs: what the apps account for.
    pub cost: Money,
    /// Fixed cost of a day on which no app ran: paid, but nobody's.
    pub unassigned_fixed: Money,
}

impl DayTotal {
    /// What the day costs the account: the apps' costs and any unassigned fixed cost.
    pub fn bill(&self) -> Money {
        self.cost + self.unassigned_fixed
    }
}

/// One calendar month (of the days inside the report): sums of its [`DayTotal`]s.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthTotal {
    pub year: i32,
    /// 1–12.
    pub month: u32,
    pub task_seconds: i64,
    pub compute: Money,
    pub fixed_share: Money,
    pub cost: Money,
    pub unassigned_fixed: Money,
}

impl MonthTotal {
    pub fn bill(&self) -> Money {
        self.cost + self.unassigned_fixed
    }
}

/// One app over the whole report: sums of its [`DayCost`] rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppTotal {
    pub app: String,
    pub task_seconds: i64,
    pub vcpu_hours: f64,
    pub gb_hours: f64,
    pub compute: Money,
    pub fixed_share: Money,
    pub cost: Money,
}

/// One fixed cost over the whole report (assigned and unassigned parts together).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixedTotal {
    pub name: String,
    pub cost: Money,
}

/// The costs of a range of local days, from the finest rows to the fleet's total.
///
/// Every total is a sum of the [`DayCost`] rows' micro-dollars: a day's cost is the sum of
/// its apps, a month's the sum of its days, and `total` the sum of them all. Fixed cost
/// that no app can carry (no app ran that day) is kept apart in `unassigned_fixed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostReport {
    /// First and last local day (inclusive).
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The IANA zone whose days these are (`Europe/Berlin`).
    pub time_zone: String,
    /// One row per app and day it ran, by day then app name.
    pub rows: Vec<DayCost>,
    /// Every day of the range, in order, also those on which nothing ran.
    pub days: Vec<DayTotal>,
    /// The months the range touches, in order.
    pub months: Vec<MonthTotal>,
    /// One per app that ran, by name.
    pub apps: Vec<AppTotal>,
    /// One per fixed cost, in the order given.
    pub fixed: Vec<FixedTotal>,
    /// The sum of every row's `cost`.
    pub total: Money,
    /// The sum of every day's `unassigned_fixed`.
    pub unassigned_fixed: Money,
}

impl CostReport {
    /// An empty report of `from..=to` in `time_zone`.
    pub fn empty(from: NaiveDate, to: NaiveDate, time_zone: &str) -> Self {
        Self {
            from,
            to,
            time_zone: time_zone.to_owned(),
            rows: vec![],
            days: vec![],
            months: vec![],
            apps: vec![],
            fixed: vec![],
            total: Money::ZERO,
            unassigned_fixed: Money::ZERO,
        }
    }

    /// What the range costs the account: apps and unassigned fixed cost.
    pub fn bill(&self) -> Money {
        self.total + self.unassigned_fixed
    }

    /// The app's rows, by day.
    pub fn app_days<'a>(&'a self, app: &'a str) -> impl Iterator<Item = &'a DayCost> + 'a {
        self.rows.iter().filter(move |r| r.app == app)
    }

    /// What a run-rate projection averages: the costs of the last `n` days before `today`
    /// that the report covers, oldest first — the fleet's bill when `app` is `None`, else
    /// that app's cost (zero on days it did not run).
    pub fn recent_days(&self, app: Option<&str>, today: NaiveDate, n: usize) -> Vec<Money> {
        let before: Vec<&DayTotal> = self.days.iter().filter(|d| d.day < today).collect();
        before[before.len().saturating_sub(n)..]
            .iter()
            .map(|d| match app {
                None => d.bill(),
                Some(app) => self.rows.iter().filter(|r| r.day == d.day && r.app == app).map(|r| r.cost).sum(),
            })
            .collect()
    }
}

/// A monthly budget (fleet or app).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    pub monthly: Money,
}

/// A month projected to cost more than its budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetWarning {
    pub budget: Money,
    pub projected: Money,
    pub over_by: Money,
}

impl Budget {
    /// A warning when `projected` exceeds the budget; exactly on budget is within it.
    pub fn check(&self, projected: Money) -> Option<BudgetWarning> {
        (projected > self.monthly).then(|| BudgetWarning {
            budget: self.monthly,
            projected,
            over_by: projected - self.monthly,
        })
    }
}

impl fmt::Display for BudgetWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "projected {} this month, {} over the {} budget", self.projected, self.over_by, self.budget)
    }
}

#[cfg(feature = "engine")]
mod engine {
    use super::{AppTotal, CostReport, DayCost, DayTotal, FixedTotal, Money, MonthTotal};
    use crate::app::{Architecture, FargateSize, ValidationError};
    use chrono::{DateTime, Datelike, Days, Duration, LocalResult, Months, NaiveDate, NaiveTime, TimeZone, Utc};
    use chrono_tz::Tz;
    use serde::{Deserialize, Serialize};
    use std::collections::BTreeMap;

    /// Where the built-in prices come from, and when they were read.
    pub const PRICE_SOURCE: &str = "https://aws.amazon.com/fargate/pricing/";
    pub const PRICES_AS_OF: &str = "2026-11";

    /// The seconds Fargate bills a task at least, however short it ran.
    pub const MINIMUM_SECONDS: i64 = 60;

    /// The highest price an override may set, per vCPU-hour or GB-hour: $1000, far above
    /// any real price, so a typo of magnitude is caught and sums stay far from overflow.
    const MAX_PRICE_NANOS: u64 = 1_000 * 1_000_000_000;

    /// Task-seconds × (CPU units × nano$/vCPU-hour + MiB × nano$/GB-hour) → micro-dollars:
    /// 1024 units (or MiB) per vCPU (or GB), 3600 s per hour, 1000 nano-dollars per micro.
    const MICROS_DENOMINATOR: i128 = 1024 * 3600 * 1000;

    /// Linux Fargate prices of one architecture, in nano-dollars per hour, so every
    /// published price (five or six decimals of a dollar) is exact.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    pub struct ArchPrices {
        pub vcpu_hour_nanos: u64,
        pub gb_hour_nanos: u64,
    }

    /// A region's prices for both architectures, and where they come from.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Prices {
        pub region: String,
        pub x86_64: ArchPrices,
        pub arm64: ArchPrices,
        /// For the settings page: the pricing page and date, and which prices were overridden.
        pub source: String,
    }

    struct PriceRow {
        region: &'static str,
        x86_64: ArchPrices,
        arm64: ArchPrices,
    }

    /// `"0.04048"` in nano-dollars, at compile time: a mistyped price fails the build.
    const fn nanos(dollars: &str) -> u64 {
        let b = dollars.as_bytes();
        let (mut i, mut value, mut decimals, mut seen_dot) = (0, 0u64, 0u32, false);
        while i < b.len() {
            if b[i] == b'.' {
                assert!(!seen_dot, "two dots in a price");
                seen_dot = true;
            } else {
                assert!(b[i].is_ascii_digit(), "a price is digits and a dot");
                value = value * 10 + (b[i] - b'0') as u64;
                decimals += seen_dot as u32;
            }
            i += 1;
        }
        assert!(decimals <= 9, "a price has at most 9 decimals");
        value * 10u64.pow(9 - decimals)
    }

    const fn row(region: &'static str, x86_64: [&str; 2], arm64: [&str; 2]) -> PriceRow {
        PriceRow {
            region,
            x86_64: ArchPrices { vcpu_hour_nanos: nanos(x86_64[0]), gb_hour_nanos: nanos(x86_64[1]) },
            arm64: ArchPrices { vcpu_hour_nanos: nanos(arm64[0]), gb_hour_nanos: nanos(arm64[1]) },
        }
    }

    /// Linux Fargate on-demand prices in dollars per vCPU-hour and per GB-hour, taken from
    /// the AWS Fargate pricing page (https://aws.amazon.com/fargate/pricing/) as of 2026-11.
    /// AWS changes them now and then and this table does not follow, which is why every
    /// price can be overridden ([`PriceOverrides`]). Ephemeral storage above the free 20 GB,
    /// Windows and Spot are not priced: the console runs neither.
    const PRICE_TABLE: &[PriceRow] = &[
        //   region               x86_64: vCPU, GB           ARM64: vCPU, GB
        row("us-east-1", ["0.04048", "0.004445"], ["0.03238", "0.00356"]),
        row("us-east-2", ["0.04048", "0.004445"], ["0.03238", "0.00356"]),
        row("us-west-2", ["0.04048", "0.004445"], ["0.03238", "0.00356"]),
        row("eu-west-1", ["0.04048", "0.004445"], ["0.03238", "0.00356"]),
        row("eu-central-1", ["0.04656", "0.00511"], ["0.03725", "0.00409"]),
        row("eu-west-2", ["0.04656", "0.00511"], ["0.03725", "0.00409"]),
        row("ap-southeast-1", ["0.05056", "0.00553"], ["0.04045", "0.00442"]),
        row("ap-southeast-2", ["0.04856", "0.00532"], ["0.03885", "0.00426"]),
        row("ap-northeast-1", ["0.05056", "0.00553"], ["0.04045", "0.00442"]),
    ];

    impl Prices {
        /// The regions with built-in prices.
        pub fn known_regions() -> impl Iterator<Item = &'static str> {
            PRICE_TABLE.iter().map(|r| r.region)
        }

        /// The built-in prices of `region`.
        pub fn for_region(region: &str) -> Result<Self, ValidationError> {
            Self::resolve(region, &PriceOverrides::default())
        }

        /// The built-in prices of `region` with `overrides` applied. A region without
        /// built-in prices needs all four prices overridden.
        pub fn resolve(region: &str, overrides: &PriceOverrides) -> Result<Self, ValidationError> {
            let region = region.trim().to_ascii_lowercase();
            let builtin = PRICE_TABLE.iter().find(|r| r.region == region);
            let (x86_64, arm64, mut source) = match builtin {
                Some(row) => {
                    (row.x86_64, row.arm64, format!("AWS Fargate pricing page ({PRICE_SOURCE}) as of {PRICES_AS_OF}"))
                }
                None if overrides.is_complete() => {
                    let unset = ArchPrices { vcpu_hour_nanos: 0, gb_hour_nanos: 0 };
                    (unset, unset, "configured prices".to_owned())
                }
                None => {
                    let known = Self::known_regions().collect::<Vec<_>>().join(", ");
                    let missing = overrides.missing();
                    let how = if missing.len() == PriceOverrides::KEYS.len() {
                        format!("set all four prices ({})", missing.join(", "))
                    } else {
                        format!("set the missing prices too ({})", missing.join(", "))
                    };
                    return Err(ValidationError::new(
                        "region",
                        format!("no built-in Fargate prices for {region:?} (built in: {known}); {how}"),
                    ));
                }
            };
            let [xv, xg, av, ag] = overrides.values();
            let prices = Self {
                x86_64: ArchPrices {
                    vcpu_hour_nanos: xv.unwrap_or(x86_64.vcpu_hour_nanos),
                    gb_hour_nanos: xg.unwrap_or(x86_64.gb_hour_nanos),
                },
                arm64: ArchPrices {
                    vcpu_hour_nanos: av.unwrap_or(arm64.vcpu_hour_nanos),
                    gb_hour_nanos: ag.unwrap_or(arm64.gb_hour_nanos),
                },
                region,
                source: String::new(),
            };
            if builtin.is_some() && !overrides.is_empty() {
                source.push_str(&format!(", overridden: {}", overrides.given().join(", ")));
            }
            Ok(Self { source, ..prices })
        }

        pub fn arch(&self, arch: Architecture) -> ArchPrices {
            match arch {
                Architecture::X86_64 => self.x86_64,
                Architecture::Arm64 => self.arm64,
            }
        }
    }

    /// Prices set in configuration, over the built-in table: a comma-separated list such as
    /// `x86_64.vcpu_hour=0.05,x86_64.gb_hour=0.005,arm64.vcpu_hour=0.04,arm64.gb_hour=0.004`
    /// of dollars per hour with up to 9 decimals, read exactly (no floats). Any subset may
    /// be given; each key at most once.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
    pub struct PriceOverrides {
        pub x86_64_vcpu_hour_nanos: Option<u64>,
        pub x86_64_gb_hour_nanos: Option<u64>,
        pub arm64_vcpu_hour_nanos: Option<u64>,
        pub arm64_gb_hour_nanos: Option<u64>,
    }

    impl PriceOverrides {
        /// The keys, in the order of [`PriceOverrides::values`].
        pub const KEYS: [&'static str; 4] = ["x86_64.vcpu_hour", "x86_64.gb_hour", "arm64.vcpu_hour", "arm64.gb_hour"];

        pub fn parse(raw: &str) -> Result<Self, ValidationError> {
            let err = |m: String| Err(ValidationError::new("price_overrides", m));
            let mut out = Self::default();
            for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
                let Some((key, value)) = entry.split_once('=') else {
                    return err(format!("{entry:?} is not key=value (e.g. x86_64.vcpu_hour=0.04048)"));
                };
                let (key, value) = (key.trim().to_ascii_lowercase(), value.trim());
                let Some(slot) = out.slot(&key) else {
                    return err(format!("unknown price {key:?}; the prices are {}", Self::KEYS.join(", ")));
                };
                if slot.is_some() {
                    return err(format!("{key} is given twice"));
                }
                let digits = value.strip_prefix('$').unwrap_or(value);
                let Some(nanos) = super::parse_decimal(digits, 9).and_then(|v| u64::try_from(v).ok()) else {
                    return err(format!(
                        "{key}: {value:?} is not a price in dollars per hour (digits with at most 9 decimals, e.g. 0.04048)"
                    ));
                };
                if nanos > MAX_PRICE_NANOS {
                    return err(format!("{key}: {value} is more than the $1000 per hour a price may be"));
                }
                *slot = Some(nanos);
            }
            Ok(out)
        }

        /// The four prices in the order of [`PriceOverrides::KEYS`].
        pub fn values(&self) -> [Option<u64>; 4] {
            [
                self.x86_64_vcpu_hour_nanos,
                self.x86_64_gb_hour_nanos,
                self.arm64_vcpu_hour_nanos,
                self.arm64_gb_hour_nanos,
            ]
        }

        pub fn is_empty(&self) -> bool {
            self.values().iter().all(Option::is_none)
        }

        /// All four prices set: enough for a region without built-in prices.
        pub fn is_complete(&self) -> bool {
            self.values().iter().all(Option::is_some)
        }

        fn given(&self) -> Vec<&'static str> {
            Self::KEYS.into_iter().zip(self.values()).filter(|(_, v)| v.is_some()).map(|(k, _)| k).collect()
        }

        fn missing(&self) -> Vec<&'static str> {
            Self::KEYS.into_iter().zip(self.values()).filter(|(_, v)| v.is_none()).map(|(k, _)| k).collect()
        }

        fn slot(&mut self, key: &str) -> Option<&mut Option<u64>> {
            Some(match key {
                "x86_64.vcpu_hour" => &mut self.x86_64_vcpu_hour_nanos,
                "x86_64.gb_hour" => &mut self.x86_64_gb_hour_nanos,
                "arm64.vcpu_hour" => &mut self.arm64_vcpu_hour_nanos,
                "arm64.gb_hour" => &mut self.arm64_gb_hour_nanos,
                _ => return None,
            })
        }
    }

    impl std::str::FromStr for PriceOverrides {
        type Err = ValidationError;
        fn from_str(s: &str) -> Result<Self, Self::Err> {
            Self::parse(s)
        }
    }

    /// What one task of a given size costs per hour, kept exact: CPU units × nano-dollars
    /// per vCPU-hour + MiB × nano-dollars per GB-hour, i.e. nano-dollars per hour times 1024
    /// (Fargate's "GB" is 1024 MiB, its vCPU 1024 units). Money is derived from it by one
    /// rounding at the end of each calculation, never from a rounded hourly rate.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
    pub struct TaskRate {
        scaled_nanos_per_hour: i128,
    }

    impl TaskRate {
        pub fn new(cpu_units: u32, memory_mib: u32, arch: Architecture, prices: &Prices) -> Self {
            let p = prices.arch(arch);
            Self {
                scaled_nanos_per_hour: i128::from(cpu_units) * i128::from(p.vcpu_hour_nanos)
                    + i128::from(memory_mib) * i128::from(p.gb_hour_nanos),
            }
        }

        pub fn for_size(size: FargateSize, arch: Architecture, prices: &Prices) -> Self {
            Self::new(size.cpu(), size.memory(), arch, prices)
        }

        /// The hourly price rounded half up to the micro-dollar (off by at most half a
        /// micro-dollar an hour): for display.
        pub fn hourly(self) -> Money {
            money(round_half_up(self.scaled_nanos_per_hour, 1024 * 1000))
        }

        /// The price of `task_seconds` (one task for that long, or several adding up to it),
        /// rounded once, half up, to the micro-dollar.
        pub fn for_seconds(self, task_seconds: i64) -> Money {
            money(round_half_up(self.scaled_nanos_per_hour * i128::from(task_seconds), MICROS_DENOMINATOR))
        }
    }

    /// What one task of this size costs per hour, for "what it will cost" displays; rounded
    /// half up to the micro-dollar (see [`TaskRate::hourly`]). A 30-day month is
    /// `TaskRate::new(..).for_seconds(30 * 86_400)`, exact to the micro-dollar.
    pub fn per_task_hourly(cpu_units: u32, memory_mib: u32, arch: Architecture, prices: &Prices) -> Money {
        TaskRate::new(cpu_units, memory_mib, arch, prices).hourly()
    }

    /// A cost the fleet pays by the hour whether or not apps run (the load balancer).
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct FixedCost {
        pub name: String,
        pub micros_per_hour: i64,
    }

    /// One task's life, as ECS reports it.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct TaskLife {
        pub app: String,
        pub cpu_units: u32,
        pub memory_mib: u32,
        pub arch: Architecture,
        pub start: DateTime<Utc>,
        /// `None`: still running, counted up to the report's `now`.
        pub end: Option<DateTime<Utc>>,
    }

    /// Whole seconds in `span`, rounded up; 0 for an empty or negative span.
    fn ceil_seconds(span: Duration) -> i64 {
        if span <= Duration::zero() {
            return 0;
        }
        let whole = span.num_seconds();
        whole + i64::from(span > Duration::seconds(whole))
    }

    /// The seconds Fargate bills a task that ran from `start` to `end`: the duration rounded
    /// up to a whole second, and at least [`MINIMUM_SECONDS`] (also when `end` is not after
    /// `start`: the task was started and is paid for).
    pub fn billed_seconds(start: DateTime<Utc>, end: DateTime<Utc>) -> i64 {
        ceil_seconds(end - start).max(MINIMUM_SECONDS)
    }

    /// `n / d` rounded half up (towards +∞ at exactly .5), for `d > 0`.
    fn round_half_up(n: i128, d: i128) -> i128 {
        (2 * n + d).div_euclid(2 * d)
    }

    fn money(micros: i128) -> Money {
        Money::from_micros(i64::try_from(micros).unwrap_or(if micros < 0 { i64::MIN } else { i64::MAX }))
    }

    /// The instant local `day` starts in `tz`: its midnight; the first of two midnights when
    /// a clock moved back across it; the clock change itself when one skipped midnight
    /// (America/Havana moves 00:00 → 01:00 in March).
    pub fn local_day_start(tz: Tz, day: NaiveDate) -> DateTime<Utc> {
        let midnight = day.and_time(NaiveTime::MIN);
        match tz.from_local_datetime(&midnight) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
            LocalResult::None => {
                // Offsets are under a day, so the change lies within a day of midnight UTC;
                // there local time rises with UTC, and the first second at or past local
                // midnight is found by halving.
                let past_midnight = |secs: i64| {
                    DateTime::from_timestamp(secs, 0).is_none_or(|t| t.with_timezone(&tz).naive_local() >= midnight)
                };
                let utc = midnight.and_utc().timestamp();
                let (mut lo, mut hi) = (utc - 86_400, utc + 86_400);
                while hi - lo > 1 {
                    let mid = lo + (hi - lo) / 2;
                    if past_midnight(mid) {
                        hi = mid;
                    } else {
                        lo = mid;
                    }
                }
                DateTime::from_timestamp(hi, 0).unwrap_or_else(|| midnight.and_utc())
            }
        }
    }

    /// Billed usage of one app on one day, exact.
    #[derive(Default)]
    struct Usage {
        seconds: i64,
        cpu_unit_seconds: i128,
        mib_seconds: i128,
        /// Σ seconds × [`TaskRate`]: micro-dollars × [`MICROS_DENOMINATOR`].
        rate_seconds: i128,
    }

    impl Usage {
        fn add(&mut self, seconds: i64, task: &TaskLife, rate: TaskRate) {
            let s = i128::from(seconds);
            self.seconds += seconds;
            self.cpu_unit_seconds += s * i128::from(task.cpu_units);
            self.mib_seconds += s * i128::from(task.memory_mib);
            self.rate_seconds += s * rate.scaled_nanos_per_hour;
        }

        fn merge(&mut self, other: &Usage) {
            self.seconds += other.seconds;
            self.cpu_unit_seconds += other.cpu_unit_seconds;
            self.mib_seconds += other.mib_seconds;
            self.rate_seconds += other.rate_seconds;
        }

        fn vcpu_hours(&self) -> f64 {
            self.cpu_unit_seconds as f64 / (1024.0 * 3600.0)
        }

        fn gb_hours(&self) -> f64 {
            self.mib_seconds as f64 / (1024.0 * 3600.0)
        }
    }

    /// `total` split in proportion to `weights` (all positive), in whole units, summing to
    /// `total` exactly: each gets the floor of its exact share, and the units left over go
    /// one each to the largest remainders, ties to the earlier weight (callers order by app
    /// name).
    fn largest_remainder(total: i64, weights: &[i64]) -> Vec<i64> {
        let sum: i128 = weights.iter().map(|w| i128::from(*w)).sum();
        if sum <= 0 {
            return vec![0; weights.len()];
        }
        let exact: Vec<i128> = weights.iter().map(|w| i128::from(total) * i128::from(*w)).collect();
        let mut shares: Vec<i64> = exact.iter().map(|e| e.div_euclid(sum) as i64).collect();
        let mut order: Vec<usize> = (0..weights.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(exact[i].rem_euclid(sum)));
        let left = total - shares.iter().sum::<i64>();
        for &i in order.iter().take(left.max(0) as usize) {
            shares[i] += 1;
        }
        shares
    }

    /// The costs of the local days `from..=to` of `tz`, per app and day.
    ///
    /// Billing, as Fargate bills: each task per second from `start` to `end` (`now` while it
    /// runs), the duration rounded up to a whole second, at least one minute. The task's
    /// seconds are split between the local days it spans — a day is midnight to midnight in
    /// `tz`, so 23 or 25 hours long on a clock change — by rounding up the seconds elapsed
    /// since the task started at each midnight, so the parts are whole seconds adding up to
    /// the rounded duration; the minimum's extra seconds belong to the day the task started.
    /// Only days inside the range count, so a task partly outside counts only its part inside.
    ///
    /// An app's compute cost on a day is Σ seconds × (CPU units/1024 × vCPU price + MiB/1024
    /// × GB price) over its tasks, computed exactly and rounded once, half up, to the
    /// micro-dollar (tasks of different sizes or architectures add their own rates).
    ///
    /// Fixed costs accrue per second of each day of the range up to `now` (a cost not yet
    /// incurred is not reported; projections add the rest), each rounded half up to the
    /// micro-dollar per day, and are shared among the apps that ran that day in proportion
    /// to their billed task-seconds; the micro-dollars left over by rounding down go by
    /// largest remainder, ties by app name, so the shares sum exactly to the day's fixed
    /// cost. A day on which no app ran leaves its fixed cost unassigned.
    ///
    /// Every total in the report is a sum of the (app, day) micro-dollar amounts.
    pub fn daily_costs(
        tasks: &[TaskLife],
        prices: &Prices,
        fixed: &[FixedCost],
        tz: Tz,
        from: NaiveDate,
        to: NaiveDate,
        now: DateTime<Utc>,
    ) -> CostReport {
        let mut report = CostReport::empty(from, to, tz.name());
        // The last day chrono can name has no day after it to end it.
        let to = to.min(NaiveDate::MAX - Days::new(1));
        if from > to {
            return report;
        }
        let n = (to - from).num_days() as usize + 1;
        // bounds[i] starts day `from + i`; bounds[n] ends the range.
        let bounds: Vec<DateTime<Utc>> = (0..=n).map(|i| local_day_start(tz, from + Days::new(i as u64))).collect();
        let (range_start, range_end) = (bounds[0], bounds[n]);
        let day_of = |t: DateTime<Utc>| bounds.partition_point(|b| *b <= t) - 1;

        let mut usage: BTreeMap<(usize, &str), Usage> = BTreeMap::new();
        for task in tasks {
            let start = task.start;
            let end = task.end.unwrap_or(now).max(start);
            let rate = TaskRate::new(task.cpu_units, task.memory_mib, task.arch, prices);
            let mut bill = |day: usize, seconds: i64| {
                if seconds > 0 {
                    usage.entry((day, task.app.as_str())).or_default().add(seconds, task, rate);
                }
            };
            let extra = MINIMUM_SECONDS - ceil_seconds(end - start);
            if extra > 0 && (range_start..range_end).contains(&start) {
                bill(day_of(start), extra);
            }
            let (lo, hi) = (start.max(range_start), end.min(range_end));
            if lo < hi {
                let elapsed = |t: DateTime<Utc>| ceil_seconds(t - start);
                let mut day = day_of(lo);
                while day < n && bounds[day] < hi {
                    bill(day, elapsed(bounds[day + 1].min(end)) - elapsed(bounds[day].max(start)));
                    day += 1;
                }
            }
        }

        let mut day_fixed = vec![0i64; n];
        for cost in fixed {
            let mut item = Money::ZERO;
            for (day, amount) in day_fixed.iter_mut().enumerate() {
                let seconds = (now.min(bounds[day + 1]) - bounds[day]).num_seconds().max(0);
                let accrued = money(round_half_up(i128::from(seconds) * i128::from(cost.micros_per_hour), 3600));
                *amount += accrued.micros();
                item += accrued;
            }
            report.fixed.push(FixedTotal { name: cost.name.clone(), cost: item });
        }

        let mut days: Vec<DayTotal> = (0..n)
            .map(|i| DayTotal {
                day: from + Days::new(i as u64),
                task_seconds: 0,
                compute: Money::ZERO,
                fixed_share: Money::ZERO,
                cost: Money::ZERO,
                unassigned_fixed: Money::from_micros(day_fixed[i]),
            })
            .collect();
        let mut apps: BTreeMap<&str, (Usage, Money, Money)> = BTreeMap::new();
        let entries: Vec<((usize, &str), Usage)> = usage.into_iter().collect();
        for group in entries.chunk_by(|a, b| a.0 .0 == b.0 .0) {
            let day = group[0].0 .0;
            let weights: Vec<i64> = group.iter().map(|(_, u)| u.seconds).collect();
            let shares = largest_remainder(day_fixed[day], &weights);
            let total = &mut days[day];
            total.unassigned_fixed = Money::ZERO;
            for (((_, app), u), share) in group.iter().zip(shares) {
                let compute = money(round_half_up(u.rate_seconds, MICROS_DENOMINATOR));
                let fixed_share = Money::from_micros(share);
                let row = DayCost {
                    app: (*app).to_owned(),
                    day: total.day,
                    task_seconds: u.seconds,
                    vcpu_hours: u.vcpu_hours(),
                    gb_hours: u.gb_hours(),
                    compute,
                    fixed_share,
                    cost: compute + fixed_share,
                };
                total.task_seconds += row.task_seconds;
                total.compute += row.compute;
                total.fixed_share += row.fixed_share;
                total.cost += row.cost;
                let app_total = apps.entry(app).or_default();
                app_total.0.merge(u);
                app_total.1 += compute;
                app_total.2 += fixed_share;
                report.rows.push(row);
            }
        }

        for day in &days {
            let (year, month) = (day.day.year(), day.day.month());
            let same = report.months.last().is_some_and(|m: &MonthTotal| (m.year, m.month) == (year, month));
            if !same {
                report.months.push(MonthTotal {
                    year,
                    month,
                    task_seconds: 0,
                    compute: Money::ZERO,
                    fixed_share: Money::ZERO,
                    cost: Money::ZERO,
                    unassigned_fixed: Money::ZERO,
                });
            }
            if let Some(m) = report.months.last_mut() {
                m.task_seconds += day.task_seconds;
                m.compute += day.compute;
                m.fixed_share += day.fixed_share;
                m.cost += day.cost;
                m.unassigned_fixed += day.unassigned_fixed;
            }
        }
        report.apps = apps
            .into_iter()
            .map(|(app, (u, compute, fixed_share))| AppTotal {
                app: app.to_owned(),
                task_seconds: u.seconds,
                vcpu_hours: u.vcpu_hours(),
                gb_hours: u.gb_hours(),
                compute,
                fixed_share,
                cost: compute + fixed_share,
            })
            .collect();
        report.total = days.iter().map(|d| d.cost).sum();
        report.unassigned_fixed = days.iter().map(|d| d.unassigned_fixed).sum();
        report.days = days;
        report
    }

    /// A stretch of time during which `desired_count` tasks run (a schedule's plan).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    pub struct RunInterval {
        pub start: DateTime<Utc>,
        pub end: DateTime<Utc>,
        pub desired_count: u32,
    }

    /// What is left of the month at some instant: the days after today, and the part of
    /// today still to come out of today's length (23, 24 or 25 hours).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    pub struct MonthRemainder {
        pub whole_days: i64,
        pub today_left_seconds: i64,
        pub today_seconds: i64,
    }

    impl MonthRemainder {
        /// The rest of the local month of `tz` from `now`.
        pub fn at(now: DateTime<Utc>, tz: Tz) -> Self {
            let today = now.with_timezone(&tz).date_naive();
            let tomorrow = today + Days::new(1);
            let (start, end) = (local_day_start(tz, today), local_day_start(tz, tomorrow));
            let today_seconds = (end - start).num_seconds();
            let first = today.with_day(1).unwrap_or(today);
            let last = (first + Months::new(1)) - Days::new(1);
            Self {
                whole_days: (last - today).num_days(),
                today_left_seconds: (end - now).num_seconds().clamp(0, today_seconds),
                today_seconds,
            }
        }

        /// Remaining days as a fraction, for display.
        pub fn days(&self) -> f64 {
            self.whole_days as f64 + self.today_left_seconds as f64 / self.today_seconds.max(1) as f64
        }
    }

    /// How the rest of the month is expected to go.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Projection<'a> {
        /// As scheduled: `desired_count` tasks of this rate over each (future) interval.
        Schedule { intervals: &'a [RunInterval], rate: TaskRate },
        /// As lately: the average of the costs of the last complete days, for every day left
        /// (today counting with the fraction still to come).
        RunRate { recent_days: &'a [Money], remaining: MonthRemainder },
    }

    /// The month's expected cost: what it cost so far and what the rest will add, rounded
    /// once, half up. Without recent days a run rate adds nothing.
    pub fn project_month(month_to_date: Money, rest: Projection<'_>) -> Money {
        month_to_date
            + match rest {
                Projection::Schedule { intervals, rate } => {
                    money(round_half_up(interval_rate_seconds(intervals, rate, None), MICROS_DENOMINATOR))
                }
                Projection::RunRate { recent_days, remaining } => {
                    if recent_days.is_empty() {
                        return month_to_date;
                    }
                    let sum: i128 = recent_days.iter().map(|m| i128::from(m.micros())).sum();
                    let day = i128::from(remaining.today_seconds.max(1));
                    let left = i128::from(remaining.whole_days) * day + i128::from(remaining.today_left_seconds);
                    money(round_half_up(sum * left, recent_days.len() as i128 * day))
                }
            }
    }

    /// Σ task-seconds × rate over `intervals`, clipped to `[from, to)` when given; each
    /// interval's length rounded up to a whole second, as billed.
    fn interval_rate_seconds(
        intervals: &[RunInterval],
        rate: TaskRate,
        clip: Option<(DateTime<Utc>, DateTime<Utc>)>,
    ) -> i128 {
        intervals
            .iter()
            .map(|i| {
                let (start, end) = match clip {
                    Some((from, to)) => (i.start.max(from), i.end.min(to)),
                    None => (i.start, i.end),
                };
                i128::from(ceil_seconds(end - start)) * i128::from(i.desired_count) * rate.scaled_nanos_per_hour
            })
            .sum()
    }

    /// The cost of the scheduled `intervals` inside `[from, to)`, rounded once, half up.
    pub fn scheduled_cost(intervals: &[RunInterval], rate: TaskRate, from: DateTime<Utc>, to: DateTime<Utc>) -> Money {
        money(round_half_up(interval_rate_seconds(intervals, rate, Some((from, to))), MICROS_DENOMINATOR))
    }

    /// What a schedule saves over `[from, to)`: the cost of `on_count` tasks always on,
    /// minus the cost of the scheduled intervals (clipped to the range). Both are rounded
    /// before subtracting, so a page showing the two costs and the saving adds up.
    pub fn schedule_saving(
        intervals: &[RunInterval],
        on_count: u32,
        rate: TaskRate,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Money {
        let always_on = RunInterval { start: from, end: to, desired_count: on_count };
        scheduled_cost(&[always_on], rate, from, to) - scheduled_cost(intervals, rate, from, to)
    }
}

#[cfg(all(test, feature = "engine"))]
mod tests {
    use super::*;
    use crate::app::Architecture;
    use chrono::{DateTime, Datelike, Days, Duration, Utc};
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
        assert_eq!(
            rows(&berlin_report(&[small], "2026-06-10", "2026-06-10")),
            vec![row("tiny", "2026-06-10", 60, 206)]
        );
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
            assert_eq!(
                local_day_start(tz, d + Days::new(1)) - local_day_start(tz, d),
                Duration::hours(hours),
                "{case}"
            );
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
        assert_eq!(
            rows(&report),
            vec![row("sales", "2026-11-30", 7200, 98_740), row("sales", "2026-12-01", 7200, 98_740)]
        );
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
            assert_eq!(
                per_task_hourly(cpu, memory, arch, &prices).micros(),
                micros,
                "{region} {arch:?} {cpu}/{memory}"
            );
        }
        let size = crate::app::FargateSize::new(1024, 2048).unwrap();
        let rate = TaskRate::for_size(size, Arm64, &us_east());
        assert_eq!(rate.for_seconds(30 * 86_400), Money::from_micros(39_500 * 720), "a 30-day month, exact");
    }

    #[test]
    fn the_built_in_table_holds_the_published_prices() {
        let published = |s: &str| super::parse_decimal(s, 9).unwrap() as u64;
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
        let all = PriceOverrides::parse(
            "x86_64.vcpu_hour=0.05,x86_64.gb_hour=0.005,arm64.vcpu_hour=0.04,arm64.gb_hour=0.004",
        )
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
        type Case<'a> =
            (&'a str, Vec<TaskLife>, Vec<FixedCost>, &'a str, &'a str, DateTime<Utc>, Vec<(&'a str, i64)>, i64);
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
            assert_eq!(
                fixed_total,
                shared + report.unassigned_fixed,
                "{case}: every micro-dollar is shared or unassigned"
            );
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
        let report = daily_costs(
            &tasks,
            &us_east(),
            &[],
            BERLIN,
            day("2026-11-01"),
            day("2026-11-20"),
            utc("2026-11-20T11:00:00Z"),
        );
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
        let projected =
            project_month(Money::from_micros(1_000_000), Projection::Schedule { intervals: &intervals, rate });
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
}
