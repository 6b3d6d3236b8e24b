//! The audit log: one row per change, written in the same transaction as the change it
//! describes (changes made in the cloud are recorded as soon as the cloud accepted them),
//! and read back with filters for the Audit page, its CSV export and `GET /api/v1/audit`.

use chrono::{DateTime, Utc};
use domain::view::{AuditFilter, AuditPage, AuditRow};
use sqlx::{SqliteConnection, SqlitePool};

/// Rows per page of the Audit page and the API.
pub const PAGE_SIZE: i64 = 100;
/// The most rows one CSV export holds.
pub const EXPORT_LIMIT: i64 = 100_000;

/// One change, about to be recorded.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub actor: &'a str,
    pub source: Option<&'a str>,
    pub action: &'a str,
    pub target: &'a str,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl<'a> Entry<'a> {
    pub fn new(actor: &'a str, source: Option<&'a str>, action: &'a str, target: &'a str) -> Self {
        Self { actor, source, action, target, before: None, after: None }
    }

    pub fn before(mut self, value: serde_json::Value) -> Self {
        self.before = Some(value);
        self
    }

    pub fn after(mut self, value: serde_json::Value) -> Self {
        self.after = Some(value);
        self
    }
}

/// Records `entry` on `conn` (pass the transaction of the change it describes); returns its id.
pub async fn record(conn: &mut SqliteConnection, entry: &Entry<'_>, at: DateTime<Utc>) -> sqlx::Result<i64> {
    let before = entry.before.as_ref().map(|v| v.to_string());
    let after = entry.after.as_ref().map(|v| v.to_string());
    Ok(sqlx::query!(
        "INSERT INTO audit_log (at, actor, source, action, target, before_json, after_json)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        at,
        entry.actor,
        entry.source,
        entry.action,
        entry.target,
        before,
        after
    )
    .execute(conn)
    .await?
    .last_insert_rowid())
}

/// Records a change that has no row of its own in the database (a change in the cloud, a
/// sign-in) in a transaction of its own.
pub async fn record_alone(pool: &SqlitePool, entry: &Entry<'_>, at: DateTime<Utc>) -> sqlx::Result<()> {
    let mut conn = pool.acquire().await?;
    record(&mut conn, entry, at).await?;
    Ok(())
}

/// The rows matching `filter`, newest first, older than the row `before` when given, at most
/// `limit`.
pub async fn query(
    pool: &SqlitePool,
    filter: &AuditFilter,
    before: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<AuditRow>> {
    let text = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_lowercase);
    let (actor, action, target) = (text(&filter.actor), text(&filter.action), text(&filter.target));
    let rows = sqlx::query!(
        r#"SELECT id AS "id!", at AS "at: DateTime<Utc>", actor, source, action, target, before_json, after_json
           FROM audit_log
           WHERE (? IS NULL OR instr(lower(actor), ?) > 0)
             AND (? IS NULL OR instr(lower(action), ?) > 0)
             AND (? IS NULL OR instr(lower(target), ?) > 0)
             AND (? IS NULL OR at >= ?)
             AND (? IS NULL OR at < ?)
             AND (? IS NULL OR id < ?)
           ORDER BY id DESC
           LIMIT ?"#,
        actor,
        actor,
        action,
        action,
        target,
        target,
        filter.from,
        filter.from,
        filter.to,
        filter.to,
        before,
        before,
        limit
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| AuditRow {
            id: r.id,
            at: r.at,
            actor: r.actor,
            source: r.source,
            action: r.action,
            target: r.target,
            before: r.before_json,
            after: r.after_json,
        })
        .collect())
}

/// One page of rows for the Audit page and the API.
pub async fn page(pool: &SqlitePool, filter: &AuditFilter, before: Option<i64>) -> Result<AuditPage, crate::Error> {
    let mut rows = query(pool, filter, before, PAGE_SIZE + 1).await?;
    let next_before = if rows.len() as i64 > PAGE_SIZE {
        rows.truncate(PAGE_SIZE as usize);
        rows.last().map(|r| r.id)
    } else {
        None
    };
    Ok(AuditPage { rows, next_before })
}

/// The rows as CSV (RFC 4180), with a header line. Cells that a spreadsheet would run as a
/// formula are prefixed with `'`.
pub fn to_csv(rows: &[AuditRow]) -> String {
    let mut out = crate::csv_writer();
    let header = ["id", "at", "actor", "source", "action", "target", "before", "after"];
    // Writing into memory cannot fail.
    let _ = out.write_record(header);
    for r in rows {
        let cells = [
            r.id.to_string(),
            r.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            r.actor.clone(),
            r.source.clone().unwrap_or_default(),
            r.action.clone(),
            r.target.clone(),
            r.before.clone().unwrap_or_default(),
            r.after.clone().unwrap_or_default(),
        ];
        let _ = out.write_record(cells.iter().map(|c| defuse(c)));
    }
    crate::csv_text(out)
}

/// A cell a spreadsheet would run as a formula, made text.
fn defuse(raw: &str) -> String {
    if raw.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{raw}")
    } else {
        raw.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(actor: &str, after: Option<&str>) -> AuditRow {
        AuditRow {
            id: 7,
            at: "2026-11-30T09:00:00Z".parse().unwrap(),
            actor: actor.to_owned(),
            source: Some("127.0.0.1".to_owned()),
            action: "user.invite".to_owned(),
            target: "ada@example.org".to_owned(),
            before: None,
            after: after.map(str::to_owned),
        }
    }

    #[test]
    fn csv_quotes_commas_quotes_and_newlines_and_defuses_formulas() {
        let csv = to_csv(&[row("=HYPERLINK(\"x\")", Some("{\"groups\":[\"a\",\"b\"]}"))]);
        let mut lines = csv.split("\r\n");
        assert_eq!(lines.next(), Some("id,at,actor,source,action,target,before,after"));
        assert_eq!(
            lines.next(),
            Some(
                "7,2026-11-30T09:00:00Z,\"'=HYPERLINK(\"\"x\"\")\",127.0.0.1,user.invite,ada@example.org,,\"{\"\"groups\"\":[\"\"a\"\",\"\"b\"\"]}\""
            )
        );
        assert_eq!(lines.next(), Some(""));
    }
}
