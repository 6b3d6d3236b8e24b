//! Conversions between the SDK's `aws_smithy_types::DateTime` and the `chrono` times the
//! domain uses.

use aws_smithy_types::DateTime as SmithyTime;
use chrono::{DateTime, Utc};

/// The same instant in `chrono`; `None` only for instants `chrono` cannot represent.
pub(crate) fn to_chrono(time: &SmithyTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(time.secs(), time.subsec_nanos())
}

/// The same instant in the SDK's type.
pub(crate) fn to_smithy(time: DateTime<Utc>) -> SmithyTime {
    SmithyTime::from_secs_and_nanos(time.timestamp(), time.timestamp_subsec_nanos())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_survive_the_round_trip() {
        for raw in ["1970-01-01T00:00:00Z", "2024-02-29T23:59:59.123456789Z", "1969-07-20T20:17:40.5Z"] {
            let time: DateTime<Utc> = raw.parse().expect("a valid RFC 3339 time");
            assert_eq!(to_chrono(&to_smithy(time)), Some(time), "{raw}");
        }
    }
}
