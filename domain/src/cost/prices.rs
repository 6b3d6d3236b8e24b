//! Fargate prices: the built-in table per region, configured overrides, the exact hourly
//! rate of a task size ([`TaskRate`]) and fixed costs.

use super::daily::{money, round_half_up};
use super::money::parse_decimal;
use super::Money;
use crate::app::{Architecture, FargateSize, ValidationError};
use serde::{Deserialize, Serialize};

/// Where the built-in prices come from, and when they were read.
pub const PRICE_SOURCE: &str = "https://aws.amazon.com/fargate/pricing/";
pub const PRICES_AS_OF: &str = "2026-11";

/// The highest price an override may set, per vCPU-hour or GB-hour: $1000, far above
/// any real price, so a typo of magnitude is caught and sums stay far from overflow.
const MAX_PRICE_NANOS: u64 = 1_000 * 1_000_000_000;

/// Task-seconds × (CPU units × nano$/vCPU-hour + MiB × nano$/GB-hour) → micro-dollars:
/// 1024 units (or MiB) per vCPU (or GB), 3600 s per hour, 1000 nano-dollars per micro.
pub(super) const MICROS_DENOMINATOR: i128 = 1024 * 3600 * 1000;

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
            let Some(nanos) = parse_decimal(digits, 9).and_then(|v| u64::try_from(v).ok()) else {
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
        [self.x86_64_vcpu_hour_nanos, self.x86_64_gb_hour_nanos, self.arm64_vcpu_hour_nanos, self.arm64_gb_hour_nanos]
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
    pub(super) scaled_nanos_per_hour: i128,
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
