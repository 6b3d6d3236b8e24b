//! The console's cost settings (prices, the display zone, shared fixed costs, budgets) read
//! from their configuration strings, and the calendar arithmetic the cost pages share.

use super::{local_day_start, FixedCost, Money, PriceOverrides, Prices, RunInterval};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use std::collections::BTreeMap;

/// The key of the fleet's budget in `SHINYFLEET_BUDGETS`.
pub const FLEET: &str = "fleet";

/// Prices, display zone, fixed costs and budgets (from the configuration).
#[derive(Debug, Clone)]
pub struct CostSettings {
    pub tz: Tz,
    pub prices: Prices,
    pub fixed: Vec<FixedCost>,
    /// Monthly budgets: [`FLEET`] or an app's slug.
    pub budgets: BTreeMap<String, Money>,
}

impl Default for CostSettings {
    fn default() -> Self {
        Self {
            tz: Tz::UTC,
            prices: Prices::for_region("us-east-1").expect("us-east-1 is in the built-in table"),
            fixed: vec![],
            budgets: BTreeMap::new(),
        }
    }
}

impl CostSettings {
    /// Reads the settings; an error names the setting and what is wrong with it.
    pub fn parse(
        zone: &str,
        region: &str,
        overrides: &str,
        fixed: &str,
        budgets: &str,
    ) -> Result<Self, (&'static str, String)> {
        let tz: Tz = zone
            .trim()
            .parse()
            .map_err(|_| ("SHINYFLEET_DISPLAY_TIMEZONE", format!("{zone:?} is not an IANA time zone")))?;
        let overrides = if overrides.trim().is_empty() {
            PriceOverrides::default()
        } else {
            PriceOverrides::parse(overrides).map_err(|e| ("SHINYFLEET_PRICE_OVERRIDES", e.message))?
        };
        let prices = Prices::resolve(region, &overrides).map_err(|e| ("SHINYFLEET_PRICE_REGION", e.message))?;
        let mut costs = vec![];
        for (name, amount) in pairs(fixed).map_err(|m| ("SHINYFLEET_FIXED_COSTS", m))? {
            let per_hour =
                Money::parse(&amount).map_err(|e| ("SHINYFLEET_FIXED_COSTS", format!("{name}: {}", e.message)))?;
            if per_hour.micros() < 0 {
                return Err(("SHINYFLEET_FIXED_COSTS", format!("{name}: must not be negative")));
            }
            costs.push(FixedCost { name, micros_per_hour: per_hour.micros() });
        }
        let mut limits = BTreeMap::new();
        for (key, amount) in pairs(budgets).map_err(|m| ("SHINYFLEET_BUDGETS", m))? {
            let budget = Money::parse(&amount).map_err(|e| ("SHINYFLEET_BUDGETS", format!("{key}: {}", e.message)))?;
            if budget.micros() <= 0 {
                return Err(("SHINYFLEET_BUDGETS", format!("{key}: must be more than zero")));
            }
            limits.insert(key, budget);
        }
        Ok(Self { tz, prices, fixed: costs, budgets: limits })
    }
}

/// `name=value,name=value` (blank: none); each name once.
fn pairs(raw: &str) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = vec![];
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((name, value)) = part.split_once('=') else {
            return Err(format!("{part:?} must be name=value"));
        };
        let name = name.trim().to_owned();
        if name.is_empty()
            || name.len() > 63
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!("{name:?} must be 1–63 letters, digits, - or _"));
        }
        if out.iter().any(|(n, _)| *n == name) {
            return Err(format!("{name} is given twice"));
        }
        out.push((name, value.trim().to_owned()));
    }
    Ok(out)
}

/// The local month of `today`: its first instant, the next month's, and its first day.
pub fn month_bounds(tz: Tz, today: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>, NaiveDate) {
    let first = today.with_day(1).unwrap_or(today);
    let next = if first.month() == 12 {
        NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
    }
    .unwrap_or(first);
    (local_day_start(tz, first), local_day_start(tz, next), first)
}

/// Scheduled on-intervals as the projection takes them: `(start, end, desired count)`.
pub fn interval_list(pieces: Vec<(DateTime<Utc>, DateTime<Utc>, u32)>) -> Vec<RunInterval> {
    pieces.into_iter().map(|(start, end, desired_count)| RunInterval { start, end, desired_count }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_read_and_bad_ones_name_their_setting() {
        let s = CostSettings::parse(
            "Europe/Berlin",
            "eu-central-1",
            "",
            "load-balancer=0.0225",
            "fleet=300,sales-dashboard=50.5",
        )
        .expect("valid");
        assert_eq!(s.tz, chrono_tz::Europe::Berlin);
        assert_eq!(s.prices.region, "eu-central-1");
        assert_eq!(s.fixed[0].micros_per_hour, 22_500);
        assert_eq!(s.budgets["sales-dashboard"].micros(), 50_500_000);
        for (args, setting) in [
            (["Mars/Base", "us-east-1", "", "", ""], "SHINYFLEET_DISPLAY_TIMEZONE"),
            (["UTC", "xx-nowhere-1", "", "", ""], "SHINYFLEET_PRICE_REGION"),
            (["UTC", "us-east-1", "x86_64.vcpu_hour=abc", "", ""], "SHINYFLEET_PRICE_OVERRIDES"),
            (["UTC", "us-east-1", "", "alb", ""], "SHINYFLEET_FIXED_COSTS"),
            (["UTC", "us-east-1", "", "alb=-1", ""], "SHINYFLEET_FIXED_COSTS"),
            (["UTC", "us-east-1", "", "", "fleet=0"], "SHINYFLEET_BUDGETS"),
            (["UTC", "us-east-1", "", "", "fleet=1,fleet=2"], "SHINYFLEET_BUDGETS"),
        ] {
            let err = CostSettings::parse(args[0], args[1], args[2], args[3], args[4]).expect_err("refused");
            assert_eq!(err.0, setting, "{args:?}: {}", err.1);
        }
        let full = "x86_64.vcpu_hour=0.05,x86_64.gb_hour=0.005,arm64.vcpu_hour=0.04,arm64.gb_hour=0.004";
        assert!(CostSettings::parse("UTC", "xx-nowhere-1", full, "", "").is_ok(), "every price given");
    }

    #[test]
    fn a_local_month_runs_from_its_first_local_midnight_to_the_next_months() {
        let berlin: Tz = "Europe/Berlin".parse().expect("zone");
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("date");
        let utc = |s: &str| DateTime::parse_from_rfc3339(s).expect("instant").with_timezone(&Utc);
        for (zone, today, start, end, first) in [
            (berlin, day(2026, 11, 28), "2026-10-31T23:00:00Z", "2026-11-30T23:00:00Z", day(2026, 11, 1)),
            (berlin, day(2026, 12, 31), "2026-11-30T23:00:00Z", "2026-12-31T23:00:00Z", day(2026, 12, 1)),
            (berlin, day(2026, 3, 29), "2026-02-28T23:00:00Z", "2026-03-31T22:00:00Z", day(2026, 3, 1)),
            (Tz::UTC, day(2028, 2, 29), "2028-02-01T00:00:00Z", "2028-03-01T00:00:00Z", day(2028, 2, 1)),
        ] {
            assert_eq!(month_bounds(zone, today), (utc(start), utc(end), first), "{zone} {today}");
        }
    }
}
