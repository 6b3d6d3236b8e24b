//! The task records: every task the poller has seen, with its lifecycle as ECS reported it.
//! Costs are computed from these rows later, so a row is never dropped, its known times are
//! never erased by a later, poorer answer, and a task ECS forgot before its stop was seen is
//! closed at the last time it was seen.

use chrono::{DateTime, Duration, Utc};
use domain::fleet::TaskInfo;
use domain::view::TaskRow;
use sqlx::SqlitePool;
use std::collections::HashSet;

/// The tasks not known to have stopped (the poller describes them every cycle).
pub async fn live_arns(pool: &SqlitePool) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!("SELECT arn FROM tasks WHERE last_status <> 'STOPPED'").fetch_all(pool).await
}

/// The tasks recorded as stopped recently enough that ECS may still list them: they need no
/// describing again.
pub async fn recently_stopped(pool: &SqlitePool, now: DateTime<Utc>) -> sqlx::Result<HashSet<String>> {
    let since = now - Duration::hours(3);
    let rows = sqlx::query_scalar!("SELECT arn FROM tasks WHERE last_status = 'STOPPED' AND last_seen_at >= ?", since)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Records what ECS said of a task of app `app_id`, keeping every time already known.
pub async fn record(pool: &SqlitePool, app_id: i64, t: &TaskInfo, now: DateTime<Utc>) -> sqlx::Result<()> {
    let revision = domain::deploy::revision_of(&t.task_definition);
    let architecture = t.architecture.map(|a| a.as_str());
    sqlx::query!(
        "INSERT INTO tasks (arn, app_id, task_definition, revision, cpu, memory, architecture, last_status,
                            desired_status, health_status, created_at, started_at, stopping_at, stopped_at,
                            stop_code, stopped_reason, first_seen_at, last_seen_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (arn) DO UPDATE SET
            last_status = excluded.last_status, desired_status = excluded.desired_status,
            health_status = excluded.health_status,
            architecture = COALESCE(excluded.architecture, tasks.architecture),
            created_at = COALESCE(tasks.created_at, excluded.created_at),
            started_at = COALESCE(tasks.started_at, excluded.started_at),
            stopping_at = COALESCE(tasks.stopping_at, excluded.stopping_at),
            stopped_at = COALESCE(excluded.stopped_at, tasks.stopped_at),
            stop_code = COALESCE(excluded.stop_code, tasks.stop_code),
            stopped_reason = COALESCE(excluded.stopped_reason, tasks.stopped_reason),
            last_seen_at = excluded.last_seen_at",
        t.arn,
        app_id,
        t.task_definition,
        revision,
        t.cpu,
        t.memory,
        architecture,
        t.last_status,
        t.desired_status,
        t.health_status,
        t.created_at,
        t.started_at,
        t.stopping_at,
        t.stopped_at,
        t.stop_code,
        t.stopped_reason,
        now,
        now
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Closes tasks ECS no longer knows (it forgets stopped tasks after about an hour) whose stop
/// the poller never saw: stopped when they were last seen, the best time there is.
pub async fn close_vanished(pool: &SqlitePool, arns: &[String]) -> sqlx::Result<u64> {
    let mut closed = 0;
    for arn in arns {
        closed += sqlx::query!(
            "UPDATE tasks SET last_status = 'STOPPED', desired_status = 'STOPPED',
                    stopped_at = COALESCE(stopped_at, last_seen_at),
                    stopped_reason = COALESCE(stopped_reason,
                        'No longer listed by ECS; the stop time is when the task was last seen.')
             WHERE arn = ? AND last_status <> 'STOPPED'",
            arn
        )
        .execute(pool)
        .await?
        .rows_affected();
    }
    Ok(closed)
}

/// An app's tasks for its page: those not stopped, then those stopped in the last day, newest
/// first, at most `limit`.
pub async fn for_app(pool: &SqlitePool, app_id: i64, now: DateTime<Utc>, limit: i64) -> sqlx::Result<Vec<TaskRow>> {
    let since = now - Duration::days(1);
    let rows = sqlx::query!(
        r#"SELECT arn, revision, cpu, memory, last_status, desired_status, health_status,
                  created_at AS "created_at: DateTime<Utc>", started_at AS "started_at: DateTime<Utc>",
                  stopped_at AS "stopped_at: DateTime<Utc>", stop_code, stopped_reason,
                  last_seen_at AS "last_seen_at: DateTime<Utc>"
           FROM tasks
           WHERE app_id = ? AND (last_status <> 'STOPPED' OR COALESCE(stopped_at, last_seen_at) >= ?)
           ORDER BY last_status = 'STOPPED', COALESCE(created_at, first_seen_at) DESC
           LIMIT ?"#,
        app_id,
        since,
        limit
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| TaskRow {
            id: r.arn.rsplit('/').next().unwrap_or(&r.arn).to_owned(),
            arn: r.arn,
            revision: r.revision,
            cpu: u32::try_from(r.cpu).unwrap_or(0),
            memory: u32::try_from(r.memory).unwrap_or(0),
            last_status: r.last_status,
            desired_status: r.desired_status,
            health_status: r.health_status,
            created_at: r.created_at,
            started_at: r.started_at,
            stopped_at: r.stopped_at,
            stop_code: r.stop_code,
            stopped_reason: r.stopped_reason,
            last_seen_at: r.last_seen_at,
        })
        .collect())
}

/// Whether `arn` is a task of app `app_id` the poller recorded.
pub async fn belongs_to(pool: &SqlitePool, app_id: i64, arn: &str) -> sqlx::Result<bool> {
    Ok(sqlx::query_scalar!("SELECT COUNT(*) FROM tasks WHERE arn = ? AND app_id = ?", arn, app_id)
        .fetch_one(pool)
        .await?
        > 0)
}
