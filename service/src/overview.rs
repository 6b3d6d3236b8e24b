//! What the Fleet table and an app's page show: assembled from the registry, the cached
//! status, deploys, tasks, metrics and schedules (this module sits above all of them).

use crate::apps::{self, to_u32};
use crate::{deploys, metrics, schedules, tasks};
use crate::{Error, Services};
use chrono::{DateTime, Utc};
use domain::fleet::{RolloutState, ServiceEvent};
use domain::view::{AppDetail, AppSummary, CachedStatus, FleetView, LiveStatus};
use sqlx::SqlitePool;

/// The app page's data: definition, cached status and events, deploy history.
pub async fn detail(state: &Services, slug: &str) -> Result<AppDetail, Error> {
    let app = apps::get(&state.pool, slug).await?;
    let now = state.clock.now();
    // Someone looks at the app: its newest samples are worth a fetch (the worker keeps it to
    // one a minute, and never makes the page wait for it).
    state.metrics_wanted.ask(app.id);
    let status = sqlx::query!(
        r#"SELECT status, desired_count, running_count, pending_count, task_definition, rollout_state,
                  rollout_reason, events_json, fetched_at AS "fetched_at: DateTime<Utc>",
                  stale_since AS "stale_since: DateTime<Utc>"
           FROM service_status WHERE app_id = ?"#,
        app.id
    )
    .fetch_optional(&state.pool)
    .await?;
    let deploys = deploys::history(&state.pool, app.id, 50).await?;
    let tasks = tasks::for_app(&state.pool, app.id, now, 50).await?;
    let unhealthy = tasks.iter().filter(|t| t.last_status == "RUNNING" && t.health_status == "UNHEALTHY").count();
    let (live, running_revision, events) = match status {
        Some(s) => {
            let live = LiveStatus::from(CachedStatus {
                status: s.status,
                desired: to_u32(s.desired_count),
                running: to_u32(s.running_count),
                pending: to_u32(s.pending_count),
                rollout_state: s.rollout_state,
                rollout_reason: s.rollout_reason,
                unhealthy_tasks: u32::try_from(unhealthy).unwrap_or(u32::MAX),
                fetched_at: s.fetched_at,
                stale_since: s.stale_since,
            });
            let events: Vec<ServiceEvent> = serde_json::from_str(&s.events_json).unwrap_or_default();
            (Some(live), s.task_definition.as_deref().and_then(domain::deploy::revision_of), events)
        }
        None => (None, None, vec![]),
    };
    Ok(AppDetail {
        app: app.definition.to_input(),
        created_at: app.created_at,
        updated_at: app.updated_at,
        live,
        running_revision,
        events,
        deploys,
        tasks,
        deploy_key: crate::random_url_safe::<18>()?,
        generated_at: now,
    })
}

/// The Fleet table: every app not deleted, with its cached status, by name.
pub async fn fleet_view(
    pool: &SqlitePool,
    now: DateTime<Utc>,
    cost_today: &std::collections::BTreeMap<String, domain::cost::Money>,
) -> Result<FleetView, Error> {
    let rows = sqlx::query!(
        r#"SELECT a.id AS "id!", a.slug, a.name, a.image, a.cpu, a.memory, a.architecture, a.desired_count,
                  s.status AS "status?", s.desired_count AS "live_desired?", s.running_count AS "running?",
                  s.pending_count AS "pending?", s.rollout_state, s.rollout_reason,
                  s.fetched_at AS "fetched_at?: DateTime<Utc>", s.stale_since AS "stale_since?: DateTime<Utc>",
                  (SELECT COUNT(*) FROM tasks t WHERE t.app_id = a.id AND t.last_status = 'RUNNING'
                      AND t.health_status = 'HEALTHY') AS "healthy!: i64",
                  (SELECT COUNT(*) FROM tasks t WHERE t.app_id = a.id AND t.last_status = 'RUNNING'
                      AND t.health_status = 'UNHEALTHY') AS "unhealthy!: i64",
                  d.state AS "deploy_state?", d.created_at AS "deploy_at?: DateTime<Utc>"
           FROM apps a
           LEFT JOIN service_status s ON s.app_id = a.id
           LEFT JOIN deploys d ON d.id = (SELECT MAX(id) FROM deploys WHERE app_id = a.id)
           WHERE a.deleted_at IS NULL
           ORDER BY a.name COLLATE NOCASE, a.slug"#
    )
    .fetch_all(pool)
    .await?;
    let mut sparklines = metrics::sparklines(pool, now).await?;
    let mut notes = schedules::fleet_notes(pool, now).await?;
    let apps = rows
        .into_iter()
        .map(|r| {
            let cost = cost_today.get(&r.slug).copied();
            let live = match (r.status, r.fetched_at) {
                (Some(status), Some(fetched_at)) => Some(LiveStatus::from(CachedStatus {
                    status,
                    desired: to_u32(r.live_desired.unwrap_or(0)),
                    running: to_u32(r.running.unwrap_or(0)),
                    pending: to_u32(r.pending.unwrap_or(0)),
                    rollout_state: r.rollout_state,
                    rollout_reason: r.rollout_reason,
                    unhealthy_tasks: to_u32(r.unhealthy),
                    fetched_at,
                    stale_since: r.stale_since,
                })),
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
                healthy: to_u32(r.healthy),
                unhealthy: to_u32(r.unhealthy),
                last_deploy: r.deploy_state.as_deref().and_then(RolloutState::parse).zip(r.deploy_at),
                cpu_sparkline: sparklines.remove(&r.id).unwrap_or_default(),
                schedule_note: notes.remove(&r.id),
                cost_today: cost,
            }
        })
        .collect();
    Ok(FleetView { apps, generated_at: now })
}
