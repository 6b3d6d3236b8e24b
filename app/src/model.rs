//! What the pages show: plain data sent from server functions to the browser.

use chrono::{DateTime, Utc};
use domain::directory::UserStatus;
use domain::fleet::AppState;
use domain::{Role, RoleGroups};
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

/// The signed-in user, as the pages see them (no token, no secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub email: String,
    pub role: Role,
    /// Whether the console runs on the sandbox (its pages then show demo hints).
    pub sandbox: bool,
    /// Signed in by the load balancer: sign-out goes through it.
    pub via_load_balancer: bool,
}

impl Viewer {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// What a password sign-in led to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignInOutcome {
    /// Signed in; go to `next`.
    SignedIn { next: String },
    /// First sign-in of an invited user: a new password must be set first.
    NewPasswordRequired { email: String, rules: Vec<String> },
}

/// A user of the pool with their groups, as the People page lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub username: String,
    pub email: String,
    pub status: UserStatus,
    pub groups: Vec<String>,
    pub created_at: Option<DateTime<Utc>>,
}

/// One page of the People list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeoplePage {
    pub people: Vec<Person>,
    /// Opaque: pass back for the next page.
    pub next: Option<String>,
    /// Every group of the pool, for the group pickers.
    pub groups: Vec<String>,
    pub role_groups: RoleGroups,
}

/// The answer to an invitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invited {
    pub person: Person,
    /// Only on the sandbox, which sends no email: the invitee's temporary password.
    pub sandbox_temporary_password: Option<String>,
}

/// One row of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub source: Option<String>,
    pub action: String,
    pub target: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Which audit rows to show: each text filter matches a part of its field, case-insensitively;
/// `from` is inclusive and `to` exclusive.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl AuditFilter {
    /// A filter from text fields (forms, query strings). Dates are `YYYY-MM-DD` (UTC) or
    /// RFC 3339 instants; `to` as a date includes that whole day.
    pub fn parse(
        actor: Option<String>,
        action: Option<String>,
        target: Option<String>,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Self, crate::error::AppError> {
        let text = |field: &str, v: Option<String>| -> Result<Option<String>, crate::error::AppError> {
            match v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) {
                Some(s) if s.chars().count() > 200 || s.chars().any(char::is_control) => {
                    Err(crate::error::AppError::invalid(field, "At most 200 characters, on one line."))
                }
                other => Ok(other),
            }
        };
        Ok(Self {
            actor: text("actor", actor)?,
            action: text("action", action)?,
            target: text("target", target)?,
            from: parse_instant("from", from, false)?,
            to: parse_instant("to", to, true)?,
        })
    }
}

/// `YYYY-MM-DD` (the start of that day, or of the next one when `end_of_day`) or RFC 3339.
fn parse_instant(
    field: &str,
    raw: Option<&str>,
    end_of_day: bool,
) -> Result<Option<DateTime<Utc>>, crate::error::AppError> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(None) };
    if let Ok(day) = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        let day = if end_of_day { day.succ_opt().unwrap_or(day) } else { day };
        return Ok(day.and_hms_opt(0, 0, 0).map(|t| t.and_utc()));
    }
    DateTime::parse_from_rfc3339(raw)
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|_| crate::error::AppError::invalid(field, "Use a date (2026-11-30) or an RFC 3339 time."))
}

/// One page of audit rows, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    /// Pass as `before` to get the next (older) page.
    pub next_before: Option<i64>,
}

/// An API token as listed (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A token just created: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedToken {
    pub info: TokenInfo,
    pub token: String,
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
    fn audit_filters_read_dates_as_whole_utc_days_and_refuse_nonsense() {
        let f = AuditFilter::parse(Some(" ada ".into()), Some("".into()), None, Some("2026-11-30"), Some("2026-11-30"))
            .unwrap();
        assert_eq!(f.actor.as_deref(), Some("ada"));
        assert_eq!(f.action, None);
        assert_eq!(f.from.unwrap().to_rfc3339(), "2026-11-30T00:00:00+00:00");
        assert_eq!(f.to.unwrap().to_rfc3339(), "2026-12-01T00:00:00+00:00");
        let f = AuditFilter::parse(None, None, None, Some("2026-11-30T10:00:00+01:00"), None).unwrap();
        assert_eq!(f.from.unwrap().to_rfc3339(), "2026-11-30T09:00:00+00:00");
        for bad in ["yesterday", "2026-13-01", "30/11/2026"] {
            assert_eq!(AuditFilter::parse(None, None, None, Some(bad), None).unwrap_err().code(), "invalid");
        }
        assert!(AuditFilter::parse(Some("a\nb".into()), None, None, None, None).is_err());
    }

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
