//! [`Money`]: an exact amount of US dollars in integer micro-dollars, with its arithmetic,
//! display and parsing. Compiled without `engine`: the browser shows amounts too.

use crate::app::ValidationError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};

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
pub(super) fn parse_decimal(raw: &str, scale: u32) -> Option<i128> {
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
