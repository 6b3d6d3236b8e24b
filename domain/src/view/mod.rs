//! What the pages show: plain data the service layer assembles and the server functions send
//! to the browser. It lives here, below both, because the browser bundle (which cannot link
//! the service layer) and the service layer must agree on it; `app::model` re-exports it.

pub use crate::cost::Money;
use crate::directory::UserStatus;
use crate::fleet::{LiveState, RolloutState, ServiceEvent};
use crate::AppInput;
use crate::{Role, RoleGroups};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

mod apps;
mod audit;
mod auth;
mod costs;
mod fleet;
mod people;
mod schedules;
mod tokens;

pub use apps::*;
pub use audit::*;
pub use auth::*;
pub use costs::*;
pub use fleet::*;
pub use people::*;
pub use schedules::*;
pub use tokens::*;

/// "12 s ago", "5 min ago", "3 h ago", "2 d ago".
pub fn age(from: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - from).num_seconds().max(0);
    match secs {
        0..=59 => format!("{secs} s ago"),
        60..=3599 => format!("{} min ago", secs / 60),
        3600..=86_399 => format!("{} h ago", secs / 3600),
        _ => format!("{} d ago", secs / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_naturally() {
        let now = DateTime::parse_from_rfc3339("2026-11-28T12:00:00Z").unwrap().with_timezone(&Utc);
        for (secs, want) in [
            (0, "0 s ago"),
            (59, "59 s ago"),
            (60, "1 min ago"),
            (7200, "2 h ago"),
            (200_000, "2 d ago"),
            (-5, "0 s ago"),
        ] {
            assert_eq!(age(now - chrono::Duration::seconds(secs), now), want);
        }
    }
}
