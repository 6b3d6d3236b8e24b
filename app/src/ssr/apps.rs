//! Queries of the app registry and of the cached service status.

use crate::model::{AppSummary, FleetView, LiveStatus};
use chrono::{DateTime, Utc};
use domain::fleet::{AppState, RolloutState, ServiceStatus};
use sqlx::SqlitePool;

/// An app to insert (already validated).
#[derive(Debug, Clone)]
pub struct NewApp {
    pub slug: domain::AppSlug,
    pub name: String,
    pub image: domain::ImageRef,
    pub size: domain::FargateSize,
    pub architecture: domain::Architecture,
    pub desired_count: u32,
}

/// Inserts the app unless one with its slug exists; returns whether it was inserted.
pub async fn insert_if_missing(pool: &SqlitePool, app: &NewApp, now: DateTime<Utc>) -> sqlx::Result<bool> {
    let (slug, image) = (app.slug.as_str(), app.image.to_string());
    let (cpu, memory) = (app.size.cpu(), app.size.memory());
    let arch = app.architecture.as_str();
    let done = sqlx::query!(
        "INSERT INTO apps (slug, name, image, cpu, memory, architecture, desired_count, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (slug) DO NOTHING",
        slug,
        app.name,
        image,
        cpu,
        memory,
        arch,
        app.desired_count,
        now,
        now
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// An app as the cloud knows it: enough to create or watch its service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watched {
    pub id: i64,
    pub slug: String,
    pub image: String,
    pub cpu: u32,
    pub memory: u32,
    pub architecture: String,
    pub port: u16,
    pub desired_count: u32,
}

/// Every app not deleted, by slug.
pub async fn watched(pool: &SqlitePool) -> sqlx::Result<Vec<Watched>> {
    let rows = sqlx::query!(
        r#"SELECT id AS "id!", slug, image, cpu, memory, architecture, port, desired_count
         FROM apps WHERE deleted_at IS NULL ORDER BY slug"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Watched {
            id: r.id,
            slug: r.slug,
            image: r.image,
            cpu: to_u32(r.cpu),
            memory: to_u32(r.memory),
            architecture: r.architecture,
            port: u16::try_from(r.port).unwrap_or(3838),
            desired_count: to_u32(r.desired_count),
        })
        .collect())
}

/// Records what the cloud answered for an app's service and clears any stale marker.
pub async fn record_status(pool: &SqlitePool, app_id: i64, s: &ServiceStatus, now: DateTime<Utc>) -> sqlx::Result<()> {
    let primary = s.primary();
    let rollout = primary.and_then(|d| d.rollout_state).map(|r| r.as_str());
    let reason = primary.and_then(|d| d.rollout_reason.clone());
    sqlx::query!(
        "INSERT INTO service_status (app_id, status, desired_count, running_count, pending_count, task_definition,
                                     rollout_state, rollout_reason, fetched_at, stale_since, last_error)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)
         ON CONFLICT (app_id) DO UPDATE SET
            status = excluded.status, desired_count = excluded.desired_count,
            running_count = excluded.running_count, pending_count = excluded.pending_count,
            task_definition = excluded.task_definition, rollout_state = excluded.rollout_state,
            rollout_reason = excluded.rollout_reason, fetched_at = excluded.fetched_at,
            stale_since = NULL, last_error = NULL",
        app_id,
        s.status,
        s.desired_count,
        s.running_count,
        s.pending_count,
        s.task_definition,
        rollout,
        reason,
        now
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Records that the cloud has no service for this app.
pub async fn record_missing(pool: &SqlitePool, app_id: i64, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO service_status (app_id, status, desired_count, running_count, pending_count, fetched_at)
         VALUES (?, 'MISSING', 0, 0, 0, ?)
         ON CONFLICT (app_id) DO UPDATE SET status = 'MISSING', desired_count = 0, running_count = 0,
            pending_count = 0, task_definition = NULL, rollout_state = NULL, rollout_reason = NULL,
            fetched_at = excluded.fetched_at, stale_since = NULL, last_error = NULL",
        app_id,
        now
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Marks every cached status as stale since `now` (unless already stale) with the reason.
pub async fn mark_stale(pool: &SqlitePool, reason: &str, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!("UPDATE service_status SET stale_since = COALESCE(stale_since, ?), last_error = ?", now, reason)
        .execute(pool)
        .await?;
    Ok(())
}

/// The Fleet table: every app not deleted, with its cached status, by name.
pub async fn fleet_view(pool: &SqlitePool, now: DateTime<Utc>) -> sqlx::Result<FleetView> {
    let rows = sqlx::query!(
        r#"SELECT a.slug, a.name, a.image, a.cpu, a.memory, a.architecture, a.desired_count,
                  s.status AS "status?", s.desired_count AS "live_desired?", s.running_count AS "running?",
                  s.pending_count AS "pending?", s.rollout_state, s.rollout_reason,
                  s.fetched_at AS "fetched_at?: DateTime<Utc>", s.stale_since AS "stale_since?: DateTime<Utc>"
           FROM apps a LEFT JOIN service_status s ON s.app_id = a.id
           WHERE a.deleted_at IS NULL
           ORDER BY a.name COLLATE NOCASE, a.slug"#
    )
    .fetch_all(pool)
    .await?;
    let apps = rows
        .into_iter()
        .map(|r| {
            let live = match (r.status, r.fetched_at) {
                (Some(status), Some(fetched_at)) => {
                    let (desired, running) = (to_u32(r.live_desired.unwrap_or(0)), to_u32(r.running.unwrap_or(0)));
                    let rollout = r.rollout_state.as_deref().and_then(RolloutState::parse);
                    Some(LiveStatus {
                        state: AppState::derive(&status, desired, running, rollout),
                        running,
                        pending: to_u32(r.pending.unwrap_or(0)),
                        desired,
                        rollout_reason: r.rollout_reason,
                        fetched_at,
                        stale_since: r.stale_since,
                    })
                }
                _ => None,
            };
            AppSummary {
                slug: r.slug,
                name: r.name,
                image: r.image,
                cpu: to_u32(r.cpu),
                memory: to_u32(r.memory),
                architecture: r.architecture,
                desired_count: to_u32(r.desired_count),
                live,
            }
        })
        .collect();
    Ok(FleetView { apps, generated_at: now })
}

fn to_u32(v: i64) -> u32 {
    u32::try_from(v).unwrap_or(0)
}
