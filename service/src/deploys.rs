//! Deploys: registering a task-definition revision of an app and rolling it out to its ECS
//! service, then following the rollout to its end.
//!
//! A deploy is first claimed in the database (a row in progress; the schema lets only one be
//! in progress per app, and none for a deleted app), then started in the cloud by a task of
//! its own (a client hanging up cannot strand it): the image's tag is pinned to its digest
//! when the image is in ECR, the revision registered, the service created the first time and
//! updated after. When the cloud refuses, the claim is removed and nothing changed; when the
//! service change goes unanswered, the deploy stays in progress and is followed like any
//! other. The background refresher follows the rollout ([`track`]) with
//! [`domain::deploy::verdict`].
//!
//! A request may carry an idempotency key: the same key for the same app returns the deploy
//! it started instead of starting another (a double click, a CI job retrying).

use crate::apps::{self, AppRecord};
use crate::audit::{self, Entry};
use crate::auth::Caller;
use crate::Error;
use crate::Services;
use chrono::{DateTime, Utc};
use domain::deploy::{verdict, InFlight, Verdict};
use domain::fleet::{RolloutState, ServiceStatus, ServiceUpdate};
use domain::view::DeployRecord;
use domain::{CloudError, ImageRef};
use serde_json::json;
use sqlx::SqlitePool;

/// What a deploy rolls out.
#[derive(Debug, Clone, PartialEq, Eq)]
enum DeployPlan {
    /// A new revision of the app's definition; `given` when the request named the image.
    New { image: ImageRef, given: bool },
    /// An earlier revision again, exactly as it ran (same task definition, same digest).
    Rollback { revision: i64, task_definition: String, image: String, digest: Option<String> },
}

impl DeployPlan {
    fn kind(&self) -> &'static str {
        match self {
            DeployPlan::New { .. } => "deploy",
            DeployPlan::Rollback { .. } => "rollback",
        }
    }

    fn image(&self) -> String {
        match self {
            DeployPlan::New { image, .. } => image.to_string(),
            DeployPlan::Rollback { image, .. } => image.clone(),
        }
    }

    /// Whether `existing` (found by this request's idempotency key) was started by the same
    /// request: the same kind, of the same revision or (when named) the same image.
    fn repeats(&self, existing: &DeployRecord) -> bool {
        match self {
            DeployPlan::New { image, given } => {
                existing.kind == "deploy" && (!given || existing.image == image.to_string())
            }
            DeployPlan::Rollback { revision, .. } => {
                existing.kind == "rollback" && existing.revision == Some(*revision)
            }
        }
    }
}

/// Deploys the app's definition; `image` (when given) becomes the app's image. Returns the
/// deploy and whether this call started it (`false`: the key named an earlier one).
pub async fn deploy(
    state: &Services,
    caller: &Caller,
    slug: &str,
    image: Option<&str>,
    key: Option<&str>,
) -> Result<(DeployRecord, bool), Error> {
    let app = apps::get(&state.pool, slug).await?;
    let key = parse_key(key)?;
    let plan = match image.map(str::trim).filter(|s| !s.is_empty()) {
        Some(raw) => DeployPlan::New { image: ImageRef::parse(raw)?, given: true },
        None => DeployPlan::New { image: app.definition.image.clone(), given: false },
    };
    if let Some(existing) = replay(&state.pool, &app, key.as_deref(), &plan).await? {
        return Ok((existing, false));
    }
    start(state, caller, &app, plan, key).await
}

/// Rolls the app back to an earlier revision that once completed: a new deploy of exactly
/// that task definition.
pub async fn rollback(
    state: &Services,
    caller: &Caller,
    slug: &str,
    revision: i64,
    key: Option<&str>,
) -> Result<(DeployRecord, bool), Error> {
    let app = apps::get(&state.pool, slug).await?;
    let key = parse_key(key)?;
    let earlier = sqlx::query!(
        "SELECT task_definition AS \"task_definition!\", image, digest FROM deploys
         WHERE app_id = ? AND revision = ? AND task_definition IS NOT NULL AND state = 'COMPLETED'
         ORDER BY id DESC LIMIT 1",
        app.id,
        revision
    )
    .fetch_optional(&state.pool)
    .await?;
    let plan = match earlier {
        Some(earlier) => DeployPlan::Rollback {
            revision,
            task_definition: earlier.task_definition,
            image: earlier.image,
            digest: earlier.digest,
        },
        // A retry whose first attempt is the only deploy of that revision still replays.
        None => DeployPlan::Rollback { revision, task_definition: String::new(), image: String::new(), digest: None },
    };
    if let Some(existing) = replay(&state.pool, &app, key.as_deref(), &plan).await? {
        return Ok((existing, false));
    }
    if matches!(&plan, DeployPlan::Rollback { task_definition, .. } if task_definition.is_empty()) {
        return Err(Error::invalid("revision", format!("No completed deploy of revision {revision} to roll back to.")));
    }
    start(state, caller, &app, plan, key).await
}

/// An idempotency key: 1–255 visible ASCII characters; blank means none.
fn parse_key(raw: Option<&str>) -> Result<Option<String>, Error> {
    let Some(key) = raw.map(str::trim).filter(|k| !k.is_empty()) else { return Ok(None) };
    if key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::invalid("idempotency_key", "An idempotency key has 1 to 255 visible ASCII characters."));
    }
    Ok(Some(key.to_owned()))
}

/// The deploy an idempotency key already started for this app, when this request repeats
/// it; a conflict when the key started something else.
async fn replay(
    pool: &SqlitePool,
    app: &AppRecord,
    key: Option<&str>,
    plan: &DeployPlan,
) -> Result<Option<DeployRecord>, Error> {
    let Some(key) = key else { return Ok(None) };
    let id =
        sqlx::query_scalar!(r#"SELECT id AS "id!" FROM deploys WHERE app_id = ? AND idempotency_key = ?"#, app.id, key)
            .fetch_optional(pool)
            .await?;
    let Some(id) = id else { return Ok(None) };
    let existing = get(pool, id).await?;
    if !plan.repeats(&existing) {
        return Err(Error::Conflict(format!(
            "This idempotency key already started deploy #{} ({} of {}); use a new key for a different request.",
            existing.id, existing.kind, existing.image
        )));
    }
    Ok(Some(existing))
}

/// Claims the app's one deploy slot, then starts the deploy in a task of its own, so a
/// client that hangs up half-way never strands it.
async fn start(
    state: &Services,
    caller: &Caller,
    app: &AppRecord,
    plan: DeployPlan,
    key: Option<String>,
) -> Result<(DeployRecord, bool), Error> {
    let now = state.clock.now();
    let actor = caller.actor();
    let (kind, image) = (plan.kind(), plan.image());
    // A rollback knows its revision from the start, so a retry matches it at once.
    let (revision, task_definition, digest) = match &plan {
        DeployPlan::Rollback { revision, task_definition, digest, .. } => {
            (Some(*revision), Some(task_definition.clone()), digest.clone())
        }
        DeployPlan::New { .. } => (None, None, None),
    };
    let claimed = sqlx::query!(
        "INSERT INTO deploys (app_id, kind, image, revision, task_definition, digest, state, created_by, created_at,
                              idempotency_key)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, 'IN_PROGRESS', ?7, ?8, ?9
         WHERE EXISTS (SELECT 1 FROM apps WHERE id = ?1 AND deleted_at IS NULL)",
        app.id,
        kind,
        image,
        revision,
        task_definition,
        digest,
        actor,
        now,
        key
    )
    .execute(&state.pool)
    .await;
    let id = match claimed {
        Ok(done) if done.rows_affected() == 1 => done.last_insert_rowid(),
        // The app was deleted meanwhile.
        Ok(_) => return Err(Error::NotFound),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            // The same key won a race with this request, or another deploy is rolling out.
            if let Some(existing) = replay(&state.pool, app, key.as_deref(), &plan).await? {
                return Ok((existing, false));
            }
            return Err(busy(&state.pool, app).await);
        }
        Err(e) => return Err(e.into()),
    };
    let work = tokio::spawn(launch(state.clone(), caller.clone(), app.clone(), plan, id));
    match work.await {
        Ok(Ok(())) => Ok((get(&state.pool, id).await?, true)),
        Ok(Err(e)) => Err(e),
        Err(e) => Err(Error::internal(e)),
    }
}

/// The answer to a deploy while another is rolling out.
async fn busy(pool: &SqlitePool, app: &AppRecord) -> Error {
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
    Error::Conflict(message)
}

/// Starts the claimed deploy `id` in the cloud and records it. Until the service call, a
/// failure removes the claim (nothing that matters changed: at most an unused revision was
/// registered) and the request can be retried as it is. A service call that fails without
/// an answer may still have been applied: the deploy then stays in progress, followed by its
/// task definition, and ends FAILED if ECS never shows it.
///
/// The deploy's audit row and the app's new image are written *before* the service call, so
/// a console killed while ECS takes the change leaves the deploy complete in the database (the
/// refresher follows it from ECS after a restart). A service call refused outright takes them
/// back with the claim.
async fn launch(state: Services, caller: Caller, app: AppRecord, plan: DeployPlan, id: i64) -> Result<(), Error> {
    let pool = &state.pool;
    let (task_definition, desired, digest) = match &plan {
        DeployPlan::New { image, .. } => match register(&state, &app, image).await {
            Ok(registered) => registered,
            Err(e) => {
                sqlx::query!("DELETE FROM deploys WHERE id = ?", id).execute(pool).await?;
                return Err(e);
            }
        },
        DeployPlan::Rollback { task_definition, digest, .. } => (task_definition.clone(), None, digest.clone()),
    };
    let revision = domain::deploy::revision_of(&task_definition);
    let now = state.clock.now();
    let image = plan.image();
    let image_changed = match &plan {
        DeployPlan::New { image, .. } => *image != app.definition.image,
        DeployPlan::Rollback { .. } => true,
    };
    let mut tx = crate::begin_write(pool).await?;
    sqlx::query!(
        "UPDATE deploys SET revision = ?, task_definition = ?, digest = ? WHERE id = ?",
        revision,
        task_definition,
        digest,
        id
    )
    .execute(&mut *tx)
    .await?;
    if image_changed {
        // The registry shows what runs: a new image, or the image rolled back to.
        sqlx::query!("UPDATE apps SET image = ?, updated_at = ? WHERE id = ?", image, now, app.id)
            .execute(&mut *tx)
            .await?;
    }
    let actor = caller.actor();
    let action = if plan.kind() == "deploy" { "app.deploy" } else { "app.rollback" };
    let entry = Entry::new(&actor, caller.source(), action, app.definition.slug.as_str())
        .before(json!({ "image": app.definition.image.to_string() }))
        .after(json!({ "deploy": id, "revision": revision, "image": image, "digest": digest }));
    let audit_id = audit::record(&mut tx, &entry, now).await?;
    tx.commit().await?;

    let service = match roll_out(&state, &app, &task_definition, desired).await {
        Ok(service) => Some(service),
        Err(CloudError::Unavailable(e)) => {
            tracing::warn!(deploy = id, error = %e, "the cloud did not answer the service change; following the deploy anyway");
            None
        }
        Err(e) => {
            // Refused: nothing changed in the cloud. The claim, its audit row and the image
            // go back as they were (unless someone changed the app since).
            let old_image = app.definition.image.to_string();
            let mut tx = crate::begin_write(pool).await?;
            sqlx::query!("DELETE FROM deploys WHERE id = ?", id).execute(&mut *tx).await?;
            sqlx::query!("DELETE FROM audit_log WHERE id = ?", audit_id).execute(&mut *tx).await?;
            if image_changed {
                sqlx::query!(
                    "UPDATE apps SET image = ?, updated_at = ? WHERE id = ? AND image = ? AND updated_at = ?",
                    old_image,
                    app.updated_at,
                    app.id,
                    image,
                    now
                )
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            return Err(apps::cloud_error(e));
        }
    };
    let deployment_id = service
        .as_ref()
        .and_then(|s| s.primary())
        .filter(|d| d.task_definition == task_definition)
        .map(|d| d.id.clone());
    sqlx::query!("UPDATE deploys SET deployment_id = ? WHERE id = ?", deployment_id, id).execute(pool).await?;
    if let Some(service) = &service {
        // Only the cache: the next refresh writes it again if this fails.
        if let Err(e) = apps::record_status(pool, app.id, service, state.clock.now()).await {
            tracing::warn!(error = %e, "could not cache the service's status");
        }
    }
    state.wake.notify_one();
    Ok(())
}

/// Pins the image's digest (ECR) and registers the revision: its ARN, the desired count to
/// roll out with, and the digest.
async fn register(
    state: &Services,
    app: &AppRecord,
    image: &ImageRef,
) -> Result<(String, Option<u32>, Option<String>), Error> {
    let digest = match state.cloud.registry.resolve(image).await {
        Ok(digest) => digest,
        Err(CloudError::NotFound(what)) => {
            return Err(Error::invalid("image", format!("The registry has no {what}.")));
        }
        Err(e) => return Err(apps::cloud_error(e)),
    };
    let run = match &digest {
        Some(d) => format!("{}@{d}", image.repository()),
        None => image.to_string(),
    };
    let mut def = app.definition.clone();
    def.image = image.clone();
    let spec = def.task_definition(&run, &state.deploy.log_region);
    let registered = state.cloud.fleet.register_task_definition(&spec).await.map_err(apps::cloud_error)?;
    // A schedule or override decides the count: a deploy at night does not turn the app on.
    let governed = crate::schedules::governed_count(&state.pool, app.id, state.clock.now()).await?;
    Ok((registered.arn, Some(governed.unwrap_or(def.desired_count)), digest))
}

/// Points the service at `task_definition`: an update, or its creation the first time.
async fn roll_out(
    state: &Services,
    app: &AppRecord,
    task_definition: &str,
    desired: Option<u32>,
) -> Result<ServiceStatus, CloudError> {
    let fleet = &state.cloud.fleet;
    let update = ServiceUpdate {
        name: app.definition.slug.to_string(),
        task_definition: Some(task_definition.to_owned()),
        desired_count: desired,
        force_new_deployment: false,
        // An existing service follows the definition's target group too (added, changed or
        // removed since it was created).
        load_balancer: Some(app.definition.service_target()),
    };
    match fleet.update_service(&update).await {
        Err(CloudError::NotFound(_)) => {
            let mut def = app.definition.clone();
            def.desired_count = desired.unwrap_or(def.desired_count);
            fleet.create_service(&def.service(task_definition, &state.deploy.network)).await
        }
        other => other,
    }
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
pub async fn get(pool: &SqlitePool, id: i64) -> Result<DeployRecord, Error> {
    let rows = query(pool, None, Some(id), 1).await?;
    rows.into_iter().next().ok_or_else(|| Error::NotFound)
}

/// An app's deploys, newest first.
pub async fn history(pool: &SqlitePool, app_id: i64, limit: i64) -> Result<Vec<DeployRecord>, Error> {
    query(pool, Some(app_id), None, limit).await
}

async fn query(
    pool: &SqlitePool,
    app_id: Option<i64>,
    id: Option<i64>,
    limit: i64,
) -> Result<Vec<DeployRecord>, Error> {
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
    .await?;
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
