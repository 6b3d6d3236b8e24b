//! What the pages show: plain data sent from server functions to the browser.

use chrono::{DateTime, Utc};
use domain::fleet::AppState;
use serde::{Deserialize, Serialize};

/// One row of the Fleet table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppSummary {
    pub slug: String,
    pub name: String,
    pub image: String,
    pub cpu: u32,
    pub memory: u32,
    pub architecture: String,
    pub desired_count: u32,
    /// The cached view of the service; `None` until the cloud was first asked.
    pub live: Option<LiveStatus>,
}

/// The cached state of an app's service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveStatus {
    pub state: AppState,
    pub running: u32,
    pub pending: u32,
    pub desired: u32,
    pub rollout_reason: Option<String>,
    pub fetched_at: DateTime<Utc>,
    /// Set when refreshes have been failing since then.
    pub stale_since: Option<DateTime<Utc>>,
}

/// The Fleet page's data, stamped with the instant it was read so the page can say how old
/// each row is the same way on the server and in the browser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetView {
    pub apps: Vec<AppSummary>,
    pub generated_at: DateTime<Utc>,
}

/// What the Settings page shows about this console (never a secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleInfo {
    pub version: String,
    pub cloud: String,
    pub cluster: String,
    pub region: Option<String>,
    pub refresh_secs: u64,
}

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
