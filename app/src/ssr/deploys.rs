//! Deploys: registering a task-definition revision of an app and rolling it out to its ECS
//! service, then following the rollout to its end.
//!
//! A deploy is first claimed in the database (a row in progress; the schema lets only one be
//! in progress per app), then started in the cloud: the image's tag is pinned to its digest
//! when the image is in ECR, the revision registered, the service created the first time and
//! updated after. When the cloud refuses, the claim is removed and nothing changed. The
//! background refresher then follows the rollout ([`track`]) with [`domain::deploy::verdict`].
//!
//! A request may carry an idempotency key: the same key for the same app returns the deploy
//! it started instead of starting another (a double click, a CI job retrying).

use crate::error::AppError;
use crate::model::DeployRecord;
use crate::ssr::apps::{self, cloud_error, AppRecord};
use crate::ssr::audit::{self, Entry};
use crate::ssr::auth::{respond, Caller};
use crate::ssr::{internal, AppState};
use chrono::{DateTime, Utc};
use domain::deploy::{verdict, InFlight, Verdict};
use domain::fleet::{RolloutState, ServiceStatus, ServiceUpdate};
use domain::{CloudError, ImageRef};
use serde_json::json;
use sqlx::SqlitePool;

/// What a deploy rolls out.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Plan {
    /// A new revision of the app's definition, optionally with a new image.
    New { image: ImageRef, image_changed: bool },
    /// An earlier revision again, exactly as it ran (same task definition, same digest).
    Rollback { revision: i64, task_definition: String, image: String, digest: Option<String> },
}

impl Plan {
    fn kind(&self) -> &'static str {
        match self {
            Plan::New { .. } => "deploy",
            Plan::Rollback { .. } => "rollback",
        }
    }

    fn image(&self) -> String {
        match self {
            Plan::New { image, .. } => image.to_string(),
            Plan::Rollback { image, .. } => image.clone(),
        }
    }
}

/// What the cloud did when a deploy started.
struct Started {
    revision: Option<i64>,
    task_definition: String,
    digest: Option<String>,
    deployment_id: Option<String>,
    service: ServiceStatus,
}

/// Deploys the app's definition; `image` (when given) becomes the app's image. Returns the
/// deploy and whether this call started it (`false`: the key named an earlier one).
pub async fn deploy(
    state: &AppState,
    caller: &Caller,
    slug: &str,
    image: Option<&str>,
    key: Option<&str>,
) -> Result<(DeployRecord, bool), AppError> {
    let app = apps::get(&state.pool, slug).await?;
    let key = parse_key(key)?;
    let requested = image.map(str::trim).filter(|s| !s.is_empty());
    let plan = match requested {
        Some(raw) => {
            let image = ImageRef::parse(raw).map_err(|e| respond(e.into()))?;
            let image_changed = image != app.definition.image;
            Plan::New { image, image_changed }
        }
        None => Plan::New { image: app.definition.image.clone(), image_changed: false },
    };
    if let Some(existing) = replay(&state.pool, &app, key.as_deref()).await? {
        // A retry of the same request: a deploy, of the same image when one was named.
        if existing.kind != "deploy" || requested.is_some_and(|_| existing.image != plan.image()) {
            return Err(reused_key(&existing));
        }
        return Ok((existing, false));
    }
    start(state, caller, &app, plan, key).await
}

/// Rolls the app back to an earlier revision: a new deploy of exactly that task definition.
pub async fn rollback(
    state: &AppState,
    caller: &Caller,
    slug: &str,
    revision: i64,
    key: Option<&str>,
) -> Result<(DeployRecord, bool), AppError> {
    let app = apps::get(&state.pool, slug).await?;
    let key = parse_key(key)?;
    if let Some(existing) = replay(&state.pool, &app, key.as_deref()).await? {
        if existing.kind != "rollback" || existing.revision != Some(revision) {
            return Err(reused_key(&existing));
        }
        return Ok((existing, false));
    }
    let earlier = sqlx::query!(
        "SELECT task_definition AS \"task_definition!\", image, digest FROM deploys
         WHERE app_id = ? AND revision = ? AND task_definition IS NOT NULL ORDER BY id DESC LIMIT 1",
        app.id,
        revision
    )
    .fetch_optional(&state.pool)
    .await
    .map_err(internal)?;
    let Some(earlier) = earlier else {
        return Err(respond(AppError::invalid(
            "revision",
            format!("No deploy of revision {revision} to roll back to."),
        )));
    };
    let plan = Plan::Rollback {
        revision,
        task_definition: earlier.task_definition,
        image: earlier.image,
        digest: earlier.digest,
    };
    start(state, caller, &app, plan, key).await
}

/// An idempotency key: 1–255 visible ASCII characters; blank means none.
fn parse_key(raw: Option<&str>) -> Result<Option<String>, AppError> {
    let Some(key) = raw.map(str::trim).filter(|k| !k.is_empty()) else { return Ok(None) };
    if key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(respond(AppError::invalid(
            "idempotency_key",
            "An idempotency key has 1 to 255 visible ASCII characters.",
        )));
    }
    Ok(Some(key.to_owned()))
}

/// The deploy an idempotency key already started for this app.
async fn replay(pool: &SqlitePool, app: &AppRecord, key: Option<&str>) -> Result<Option<DeployRecord>, AppError> {
    let Some(key) = key else { return Ok(None) };
    let id =
        sqlx::query_scalar!(r#"SELECT id AS "id!" FROM deploys WHERE app_id = ? AND idempotency_key = ?"#, app.id, key)
            .fetch_optional(pool)
            .await
            .map_err(internal)?;
    match id {
        Some(id) => Ok(Some(get(pool, id).await?)),
        None => Ok(None),
    }
}

fn reused_key(existing: &DeployRecord) -> AppError {
    respond(AppError::Conflict(format!(
        "This idempotency key already started deploy #{} ({} of {}); use a new key for a different request.",
        existing.id, existing.kind, existing.image
    )))
}

async fn start(
    state: &AppState,
    caller: &Caller,
    app: &AppRecord,
    plan: Plan,
    key: Option<String>,
) -> Result<(DeployRecord, bool), AppError> {
    let now = state.clock.now();
    let actor = caller.actor();
    let (kind, image) = (plan.kind(), plan.image());
    let claimed = sqlx::query!(
        "INSERT INTO deploys (app_id, kind, image, state, created_by, created_at, idempotency_key)
         VALUES (?, ?, ?, 'IN_PROGRESS', ?, ?, ?)",
        app.id,
        kind,
        image,
        actor,
        now,
        key
    )
    .execute(&state.pool)
    .await;
    let id = match claimed {
        Ok(done) => done.last_insert_rowid(),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            // The same key won a race with this request, or another deploy is rolling out.
            if let Some(existing) = replay(&state.pool, app, key.as_deref()).await? {
                return Ok((existing, false));
            }
            return Err(busy(&state.pool, app).await);
        }
        Err(e) => return Err(internal(e)),
    };
    let started = match launch(state, app, &plan).await {
        Ok(started) => started,
        Err(e) => {
            // Nothing changed in the cloud that matters (at most an unused revision was
            // registered), so the claim goes and the request can be retried as it is.
            sqlx::query!("DELETE FROM deploys WHERE id = ?", id).execute(&state.pool).await.map_err(internal)?;
            return Err(e);
        }
    };
    let mut tx = state.pool.begin().await.map_err(internal)?;
    sqlx::query!(
        "UPDATE deploys SET revision = ?, task_definition = ?, digest = ?, deployment_id = ? WHERE id = ?",
        started.revision,
        started.task_definition,
        started.digest,
        started.deployment_id,
        id
    )
    .execute(&mut *tx)
    .await
    .map_err(internal)?;
    if matches!(&plan, Plan::New { image_changed: true, .. } | Plan::Rollback { .. }) {
        // The registry shows what runs: a new image, or the image rolled back to.
        sqlx::query!("UPDATE apps SET image = ?, updated_at = ? WHERE id = ?", image, now, app.id)
            .execute(&mut *tx)
            .await
            .map_err(internal)?;
    }
    let after = json!({
        "deploy": id,
        "revision": started.revision,
        "image": image,
        "digest": started.digest,
    });
    let entry = Entry::new(
        &actor,
        caller.source(),
        if kind == "deploy" { "app.deploy" } else { "app.rollback" },
        app.definition.slug.as_str(),
    )
    .before(json!({ "image": app.definition.image.to_string() }))
    .after(after);
    audit::record(&mut tx, &entry, now).await.map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    apps::record_status(&state.pool, app.id, &started.service, now).await.map_err(internal)?;
    state.wake.notify_one();
    Ok((get(&state.pool, id).await?, true))
}

/// The answer to a deploy while another is rolling out.
async fn busy(pool: &SqlitePool, app: &AppRecord) -> AppError {
    let running = sqlx::query!(
        r#"SELECT id AS "id!", created_by FROM deploys WHERE app_id = ? AND state = 'IN_PROGRESS'"#,
        app.id
    )
    .fetch_optional(pool)
    .await;
    let message = match running {
        Ok(Some(r)) => format!(
            "{} is being deployed already (deploy #{} by {}); wait until it finishes.",
            app.definition.slug, r.id, r.created_by
        ),
        _ => format!("{} is being deployed already; wait until it finishes.", app.definition.slug),
    };
    respond(AppError::Conflict(message))
}

/// Asks the cloud to roll out `plan`.
async fn launch(state: &AppState, app: &AppRecord, plan: &Plan) -> Result<Started, AppError> {
    let fleet = &state.cloud.fleet;
    let slug = app.definition.slug.to_string();
    let (task_definition, revision, digest, desired) = match plan {
        Plan::New { image, .. } => {
            let digest = match state.cloud.registry.resolve(image).await {
                Ok(digest) => digest,
                Err(CloudError::NotFound(what)) => {
                    return Err(respond(AppError::invalid("image", format!("The registry has no {what}."))));
                }
                Err(e) => return Err(cloud_error(e)),
            };
            let run = match &digest {
                Some(d) => format!("{}@{d}", image.repository()),
                None => image.to_string(),
            };
            let mut def = app.definition.clone();
            def.image = image.clone();
            let spec = def.task_definition(&run, &state.deploy.log_region);
            let registered = fleet.register_task_definition(&spec).await.map_err(cloud_error)?;
            (registered.arn, Some(i64::from(registered.revision)), digest, Some(def.desired_count))
        }
        Plan::Rollback { revision, task_definition, digest, .. } => {
            (task_definition.clone(), Some(*revision), digest.clone(), None)
        }
    };
    let update = ServiceUpdate {
        name: slug.clone(),
        task_definition: Some(task_definition.clone()),
        desired_count: desired,
        force_new_deployment: false,
    };
    let service = match fleet.update_service(&update).await {
        Ok(service) => service,
        Err(CloudError::NotFound(_)) => {
            let spec = app.definition.service(&task_definition, &state.deploy.network);
            fleet.create_service(&spec).await.map_err(cloud_error)?
        }
        Err(e) => return Err(cloud_error(e)),
    };
    let deployment_id = service.primary().filter(|d| d.task_definition == task_definition).map(|d| d.id.clone());
    Ok(Started { revision, task_definition, digest, deployment_id, service })
}

/// Follows the app's deploy in progress (if any) with its service as just described
/// (`None`: the cloud has no such service). Returns whether a deploy is still in progress.
pub async fn track(
    pool: &SqlitePool,
    app_id: i64,
    service: Option<&ServiceStatus>,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let Some(d) = sqlx::query!(
        r#"SELECT id AS "id!", task_definition, deployment_id, created_at AS "created_at: DateTime<Utc>"
           FROM deploys WHERE app_id = ? AND state = 'IN_PROGRESS'"#,
        app_id
    )
    .fetch_optional(pool)
    .await?
    else {
        return Ok(false);
    };
    let in_flight = InFlight {
        task_definition: d.task_definition.as_deref(),
        deployment_id: d.deployment_id.as_deref(),
        started_at: d.created_at,
    };
    let outcome = verdict(&in_flight, service, now);
    let (state, reason) = match &outcome {
        Verdict::InProgress => return Ok(true),
        Verdict::Completed => (RolloutState::Completed.as_str(), None),
        Verdict::Failed(reason) => (RolloutState::Failed.as_str(), Some(reason.clone())),
    };
    sqlx::query!(
        "UPDATE deploys SET state = ?, reason = ?, finished_at = ? WHERE id = ? AND state = 'IN_PROGRESS'",
        state,
        reason,
        now,
        d.id
    )
    .execute(pool)
    .await?;
    tracing::info!(deploy = d.id, state, reason = reason.as_deref().unwrap_or(""), "deploy finished");
    Ok(false)
}

/// The image of the app's last completed deploy, as it was asked for.
pub async fn last_completed_image(pool: &SqlitePool, app_id: i64) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        "SELECT image FROM deploys WHERE app_id = ? AND state = 'COMPLETED' ORDER BY id DESC LIMIT 1",
        app_id
    )
    .fetch_optional(pool)
    .await
}

/// One deploy by id (of any app, deleted ones included).
pub async fn get(pool: &SqlitePool, id: i64) -> Result<DeployRecord, AppError> {
    let rows = query(pool, None, Some(id), 1).await?;
    rows.into_iter().next().ok_or_else(|| respond(AppError::NotFound))
}

/// An app's deploys, newest first.
pub async fn history(pool: &SqlitePool, app_id: i64, limit: i64) -> Result<Vec<DeployRecord>, AppError> {
    query(pool, Some(app_id), None, limit).await
}

async fn query(
    pool: &SqlitePool,
    app_id: Option<i64>,
    id: Option<i64>,
    limit: i64,
) -> Result<Vec<DeployRecord>, AppError> {
    let rows = sqlx::query!(
        r#"SELECT d.id AS "id!", a.slug, d.kind, d.revision, d.image, d.digest, d.state, d.reason, d.created_by,
                  d.created_at AS "created_at: DateTime<Utc>", d.finished_at AS "finished_at: DateTime<Utc>"
           FROM deploys d JOIN apps a ON a.id = d.app_id
           WHERE (?1 IS NULL OR d.app_id = ?1) AND (?2 IS NULL OR d.id = ?2)
           ORDER BY d.id DESC LIMIT ?3"#,
        app_id,
        id,
        limit
    )
    .fetch_all(pool)
    .await
    .map_err(internal)?;
    Ok(rows
        .into_iter()
        .map(|r| DeployRecord {
            id: r.id,
            app: r.slug,
            kind: r.kind,
            revision: r.revision,
            image: r.image,
            digest: r.digest,
            state: RolloutState::parse(&r.state).unwrap_or(RolloutState::Failed),
            reason: r.reason,
            created_by: r.created_by,
            created_at: r.created_at,
            finished_at: r.finished_at,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_are_visible_ascii() {
        assert_eq!(parse_key(None).unwrap(), None);
        assert_eq!(parse_key(Some("  ")).unwrap(), None);
        assert_eq!(parse_key(Some(" ci-run-42/attempt:1 ")).unwrap().as_deref(), Some("ci-run-42/attempt:1"));
        for bad in ["a b", "é", &"k".repeat(256)] {
            assert_eq!(parse_key(Some(bad)).unwrap_err().code(), "invalid", "{bad:?}");
        }
    }
}
