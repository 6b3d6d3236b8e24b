//! The app registry (create, read, update, delete) and the cached status of each app's
//! service. Every change is written with its audit row in one transaction.

use crate::audit::{self, Entry};
use crate::auth::Caller;
use crate::Services;
use crate::{on_constraint, Error};
use chrono::{DateTime, Utc};
use domain::fleet::ServiceStatus;
use domain::logs::LogQuery;
use domain::view::{LogsView, MetricsView};
use domain::{AppDefinition, AppInput, CloudError};
use serde_json::json;
use sqlx::{SqliteConnection, SqlitePool};

/// A registered app: its row id, its definition and when it was created and last changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppRecord {
    pub id: i64,
    pub definition: AppDefinition,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Inserts the app unless a live app has its slug; returns whether it was inserted.
pub async fn insert_if_missing(pool: &SqlitePool, app: &AppDefinition, now: DateTime<Utc>) -> sqlx::Result<bool> {
    let mut conn = pool.acquire().await?;
    match insert(&mut conn, app, now).await {
        Ok(_) => Ok(true),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(e),
    }
}

async fn insert(conn: &mut SqliteConnection, app: &AppDefinition, now: DateTime<Utc>) -> sqlx::Result<i64> {
    let row = Columns::of(app);
    let done = sqlx::query!(
        "INSERT INTO apps (slug, name, image, cpu, memory, architecture, port, health_check_path, health_check_tool,
                           desired_count, env_json, tags_json, task_role_arn, execution_role_arn, target_group_arn,
                           created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        row.slug,
        row.name,
        row.image,
        row.cpu,
        row.memory,
        row.architecture,
        row.port,
        row.health_check_path,
        row.health_check_tool,
        row.desired_count,
        row.env_json,
        row.tags_json,
        row.task_role_arn,
        row.execution_role_arn,
        row.target_group_arn,
        now,
        now
    )
    .execute(&mut *conn)
    .await?;
    Ok(done.last_insert_rowid())
}

/// A definition as the apps table stores it.
struct Columns {
    slug: String,
    name: String,
    image: String,
    cpu: i64,
    memory: i64,
    architecture: &'static str,
    port: i64,
    health_check_path: String,
    health_check_tool: Option<&'static str>,
    desired_count: i64,
    env_json: String,
    tags_json: String,
    task_role_arn: Option<String>,
    execution_role_arn: Option<String>,
    target_group_arn: Option<String>,
}

impl Columns {
    fn of(app: &AppDefinition) -> Self {
        Self {
            slug: app.slug.to_string(),
            name: app.name.clone(),
            image: app.image.to_string(),
            cpu: i64::from(app.size.cpu()),
            memory: i64::from(app.size.memory()),
            architecture: app.architecture.as_str(),
            port: i64::from(app.port),
            health_check_path: app.health_check_path.clone(),
            health_check_tool: app.health_check_tool.map(|t| t.as_str()),
            desired_count: i64::from(app.desired_count),
            env_json: serde_json::to_string(app.env.vars()).unwrap_or_else(|_| "[]".into()),
            tags_json: serde_json::to_string(app.tags.pairs()).unwrap_or_else(|_| "[]".into()),
            task_role_arn: app.task_role_arn.clone(),
            execution_role_arn: app.execution_role_arn.clone(),
            target_group_arn: app.target_group_arn.clone(),
        }
    }
}

/// The live app with this slug.
pub async fn find(pool: &SqlitePool, slug: &str) -> Result<Option<AppRecord>, Error> {
    Ok(records(pool, Some(slug)).await?.pop())
}

/// The live app with this slug, or `NotFound`.
pub async fn get(pool: &SqlitePool, slug: &str) -> Result<AppRecord, Error> {
    find(pool, slug).await?.ok_or_else(|| Error::NotFound)
}

/// Every live app, by slug.
pub async fn list(pool: &SqlitePool) -> Result<Vec<AppRecord>, Error> {
    records(pool, None).await
}

async fn records(pool: &SqlitePool, slug: Option<&str>) -> Result<Vec<AppRecord>, Error> {
    let rows = sqlx::query!(
        r#"SELECT id AS "id!", slug, name, image, cpu, memory, architecture, port, health_check_path,
                  health_check_tool, desired_count, env_json, tags_json, task_role_arn, execution_role_arn,
                  target_group_arn, created_at AS "created_at: DateTime<Utc>", updated_at AS "updated_at: DateTime<Utc>"
           FROM apps WHERE deleted_at IS NULL AND (?1 IS NULL OR slug = ?1) ORDER BY slug"#,
        slug
    )
    .fetch_all(pool)
    .await?;
    let records = rows
        .into_iter()
        .map(|r| {
            let input = AppInput {
                slug: r.slug,
                name: r.name,
                image: r.image,
                cpu: r.cpu,
                memory: r.memory,
                architecture: r.architecture,
                port: r.port,
                env: serde_json::from_str(&r.env_json)?,
                task_role_arn: r.task_role_arn,
                execution_role_arn: r.execution_role_arn,
                health_check_path: r.health_check_path,
                health_check_tool: r.health_check_tool,
                desired_count: r.desired_count,
                tags: serde_json::from_str(&r.tags_json)?,
                target_group_arn: r.target_group_arn,
            };
            let definition = AppDefinition::parse(&input)
                .map_err(|e| Error::internal(format!("app {} in the database is invalid: {e:?}", input.slug)))?;
            Ok(AppRecord { id: r.id, definition, created_at: r.created_at, updated_at: r.updated_at })
        })
        // One unreadable row (logged) does not hide the others.
        .filter_map(|r: Result<AppRecord, Error>| r.ok());
    Ok(records.collect())
}

/// Registers a new app (nothing is deployed yet).
pub async fn create(state: &Services, caller: &Caller, input: &AppInput) -> Result<AppRecord, Error> {
    let def = AppDefinition::parse(input)?;
    let now = state.clock.now();
    let mut tx = crate::begin_write(&state.pool).await?;
    let id = insert(&mut tx, &def, now).await.map_err(on_constraint("apps.slug", || {
        Error::invalid("slug", "An app with this slug exists; pick another slug.")
    }))?;
    let actor = caller.actor();
    // Viewers read the audit log: variables' values stay out of it.
    let entry = Entry::new(&actor, caller.source(), "app.create", def.slug.as_str())
        .after(json!(def.to_input().with_env_hidden()));
    audit::record(&mut tx, &entry, now).await?;
    tx.commit().await?;
    Ok(AppRecord { id, definition: def, created_at: now, updated_at: now })
}

/// Changes an app's definition; it applies to the cloud with the next deploy. The slug names
/// the service, so it cannot change. `seen` is when the definition the change was made on
/// was last changed (an edit form's version); a change made since, by someone else or by a
/// deploy, is not overwritten: the answer is a conflict.
pub async fn update(
    state: &Services,
    caller: &Caller,
    slug: &str,
    input: &AppInput,
    seen: Option<DateTime<Utc>>,
) -> Result<AppRecord, Error> {
    let before = get(&state.pool, slug).await?;
    let seen = seen.unwrap_or(before.updated_at);
    let changed_since = || {
        Error::Conflict(
            "The app was changed since this form was opened (by someone else, or by a deploy). Reload to see it, then edit again."
                .into(),
        )
    };
    if seen != before.updated_at {
        return Err(changed_since());
    }
    if input.slug.trim() != slug {
        return Err(Error::invalid("slug", "The slug names the app's service and cannot change."));
    }
    let def = AppDefinition::parse(input)?;
    let now = state.clock.now();
    let row = Columns::of(&def);
    let mut tx = crate::begin_write(&state.pool).await?;
    let done = sqlx::query!(
        "UPDATE apps SET name = ?, image = ?, cpu = ?, memory = ?, architecture = ?, port = ?, health_check_path = ?,
                health_check_tool = ?, desired_count = ?, env_json = ?, tags_json = ?, task_role_arn = ?,
                execution_role_arn = ?, target_group_arn = ?, updated_at = ?
         WHERE id = ? AND deleted_at IS NULL AND updated_at = ?",
        row.name,
        row.image,
        row.cpu,
        row.memory,
        row.architecture,
        row.port,
        row.health_check_path,
        row.health_check_tool,
        row.desired_count,
        row.env_json,
        row.tags_json,
        row.task_role_arn,
        row.execution_role_arn,
        row.target_group_arn,
        now,
        before.id,
        before.updated_at
    )
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        return Err(changed_since());
    }
    let actor = caller.actor();
    let entry = Entry::new(&actor, caller.source(), "app.update", slug)
        .before(json!(before.definition.to_input().with_env_hidden()))
        .after(json!(def.to_input().with_env_hidden()));
    audit::record(&mut tx, &entry, now).await?;
    tx.commit().await?;
    Ok(AppRecord { id: before.id, definition: def, created_at: before.created_at, updated_at: now })
}

/// Deletes an app: its service is scaled to zero and deleted in the cloud, and the app is
/// marked deleted (its row and deploy history stay). `confirm` must repeat the slug. Refused
/// while a deploy is in progress. The app is marked first, so no deploy can start while its
/// service is being deleted; when the cloud refuses, the mark is taken back.
pub async fn delete(state: &Services, caller: &Caller, slug: &str, confirm: &str) -> Result<(), Error> {
    let app = get(&state.pool, slug).await?;
    if confirm.trim() != slug {
        return Err(Error::invalid("confirm", "Type the app's slug to confirm."));
    }
    let now = state.clock.now();
    let mut tx = crate::begin_write(&state.pool).await?;
    let running =
        sqlx::query_scalar!(r#"SELECT id AS "id!" FROM deploys WHERE app_id = ? AND state = 'IN_PROGRESS'"#, app.id)
            .fetch_optional(&mut *tx)
            .await?;
    if let Some(deploy) = running {
        return Err(Error::Conflict(format!(
            "Deploy #{deploy} of {slug} is in progress; delete the app once it has finished."
        )));
    }
    sqlx::query!("UPDATE apps SET deleted_at = ?, updated_at = ? WHERE id = ?", now, now, app.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    match state.cloud.fleet.delete_service(slug).await {
        // Never deployed, or already deleted in the cloud: nothing left to delete there.
        Ok(()) | Err(CloudError::NotFound(_)) => {}
        Err(e) => {
            sqlx::query!("UPDATE apps SET deleted_at = NULL, updated_at = ? WHERE id = ?", app.updated_at, app.id)
                .execute(&state.pool)
                .await?;
            return Err(cloud_error(e));
        }
    }
    let mut tx = crate::begin_write(&state.pool).await?;
    sqlx::query!("DELETE FROM service_status WHERE app_id = ?", app.id).execute(&mut *tx).await?;
    let actor = caller.actor();
    let entry = Entry::new(&actor, caller.source(), "app.delete", slug)
        .before(json!(app.definition.to_input().with_env_hidden()))
        .after(json!({ "deleted": true }));
    audit::record(&mut tx, &entry, now).await?;
    tx.commit().await?;
    Ok(())
}

/// The newest lines of the container log of `task` (a task of this app), newest first,
/// matching `filter` (a substring, any case). Read from the cloud on request only.
pub async fn logs(state: &Services, slug: &str, task: &str, filter: Option<&str>) -> Result<LogsView, Error> {
    let app = get(&state.pool, slug).await?;
    if !crate::tasks::belongs_to(&state.pool, app.id, task).await? {
        return Err(Error::invalid("task", "Not a task of this app."));
    }
    let query = LogQuery::for_task(&app.definition.log_group(), task, 200, filter)?;
    match state.cloud.logs.tail(&query).await {
        Ok(lines) => Ok(LogsView { lines, note: None }),
        Err(CloudError::NotFound(_)) => Ok(LogsView {
            lines: vec![],
            note: Some("This task has no log yet: its container has not started, or its log has expired.".into()),
        }),
        Err(e) => Err(cloud_error(e)),
    }
}

/// An app's utilisation over the last `range` (`hour`, `day` or `week`), from the stored
/// samples (never from the cloud).
pub async fn metrics(state: &Services, slug: &str, range: &str) -> Result<MetricsView, Error> {
    use crate::metrics::{series, Resolution};
    use domain::metrics::MetricKind;
    let app = get(&state.pool, slug).await?;
    let (span, resolution) = match range {
        "hour" => (chrono::Duration::hours(1), Resolution::Minute),
        "day" => (chrono::Duration::days(1), Resolution::Minute),
        "week" => (chrono::Duration::weeks(1), Resolution::Hour),
        _ => return Err(Error::invalid("range", "hour, day or week")),
    };
    let to = state.clock.now();
    let from = to - span;
    let read = |kind| series(&state.pool, app.id, kind, from, to, resolution);
    Ok(MetricsView {
        range: range.to_owned(),
        from,
        to,
        resolution_secs: resolution.secs(),
        cpu: read(MetricKind::Cpu).await?,
        memory: read(MetricKind::Memory).await?,
    })
}

/// A cloud failure as the user sees it: transient ones ask to retry, refusals say why (the
/// cloud's message is about the request, not a secret), the rest are logged.
pub fn cloud_error(e: CloudError) -> Error {
    match e {
        CloudError::Throttled | CloudError::Unavailable(_) => Error::Unavailable(e.to_string()),
        CloudError::Invalid(m) | CloudError::Conflict(m) | CloudError::NotFound(m) => {
            // Often the console's own set-up (IAM, cluster, network): operators need to see it.
            tracing::warn!(error = %m, "the cloud refused a request");
            Error::Conflict(format!("The cloud refused: {m}"))
        }
        CloudError::NotAuthorized(_) => Error::internal(e),
    }
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

/// How many of a service's events the cache keeps.
const EVENTS_KEPT: usize = 20;

/// Records what the cloud answered for an app's service and clears any stale marker.
pub async fn record_status(pool: &SqlitePool, app_id: i64, s: &ServiceStatus, now: DateTime<Utc>) -> sqlx::Result<()> {
    let events =
        serde_json::to_string(&s.events.iter().take(EVENTS_KEPT).collect::<Vec<_>>()).unwrap_or_else(|_| "[]".into());
    let primary = s.primary();
    let rollout = primary.and_then(|d| d.rollout_state).map(|r| r.as_str());
    let reason = primary.and_then(|d| d.rollout_reason.clone());
    sqlx::query!(
        "INSERT INTO service_status (app_id, status, desired_count, running_count, pending_count, task_definition,
                                     rollout_state, rollout_reason, events_json, fetched_at, stale_since, last_error)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)
         ON CONFLICT (app_id) DO UPDATE SET
            status = excluded.status, desired_count = excluded.desired_count,
            running_count = excluded.running_count, pending_count = excluded.pending_count,
            task_definition = excluded.task_definition, rollout_state = excluded.rollout_state,
            rollout_reason = excluded.rollout_reason, events_json = excluded.events_json,
            fetched_at = excluded.fetched_at, stale_since = NULL, last_error = NULL",
        app_id,
        s.status,
        s.desired_count,
        s.running_count,
        s.pending_count,
        s.task_definition,
        rollout,
        reason,
        events,
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
            pending_count = 0, task_definition = NULL, rollout_state = NULL, rollout_reason = NULL, events_json = '[]',
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

pub(crate) fn to_u32(v: i64) -> u32 {
    u32::try_from(v).unwrap_or(0)
}
