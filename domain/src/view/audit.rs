//! The audit log: its rows, filters and pages.

use super::*;

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
    ) -> Result<Self, crate::ValidationError> {
        let text = |field: &str, v: Option<String>| -> Result<Option<String>, crate::ValidationError> {
            match v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) {
                Some(s) if s.chars().count() > 200 || s.chars().any(char::is_control) => {
                    Err(crate::ValidationError::new(field, "At most 200 characters, on one line."))
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
) -> Result<Option<DateTime<Utc>>, crate::ValidationError> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(None) };
    if let Ok(day) = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        let day = if end_of_day { day.succ_opt().unwrap_or(day) } else { day };
        return Ok(day.and_hms_opt(0, 0, 0).map(|t| t.and_utc()));
    }
    DateTime::parse_from_rfc3339(raw)
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|_| crate::ValidationError::new(field, "Use a date (2026-11-30) or an RFC 3339 time."))
}

/// One page of audit rows, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    /// Pass as `before` to get the next (older) page.
    pub next_before: Option<i64>,
}
