//! Schedules: storing them, deciding what each app's service should run now, and applying
//! that through the `Fleet` port.
//!
//! The decision is pure (`domain::schedule::govern::decide`, with the rules): from an app's
//! schedule, override, the instant the scheduler planned to act next, and the desired count
//! last seen in the cloud. The scheduler (`server::scheduler`) calls [`run_once`] whenever
//! something is due, and the pages and the HTTP API call the rest.
//!
//! Saving a schedule acts at once in `enforced` mode, and waits for the next transition in
//! `transitions` mode. Every act is written to the schedule history and the audit log (actor
//! `scheduler`).

use crate::audit::{self, Entry};
use crate::auth::Caller;
use crate::Error;
use crate::Services;
use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Tz;
use domain::fleet::ServiceUpdate;
pub use domain::schedule::govern::{decide, parse_until, Decision, Governed};
use domain::schedule::{Mode, Override, OverrideDoc, Schedule, ScheduleDoc};
use domain::view::{
    OverrideRequest, OverrideView, SavingView, ScheduleEvent, ScheduleRow, ScheduleView, TransitionView,
};
use domain::CloudError;
use sqlx::SqlitePool;

/// The actor the audit log names for the scheduler's own acts.
pub const SCHEDULER: &str = "scheduler";
/// The override in force at `now`, as the pages show it.
fn override_view(g: &Governed, now: DateTime<Utc>) -> Option<OverrideView> {
    g.override_.filter(|o| o.in_force(now)).map(|o| OverrideView {
        desired: o.desired,
        until: o.until,
        until_local: local_label(o.until, g.zone()),
        set_by: g.override_by.clone().unwrap_or_default(),
    })
}

// ---------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------

/// Every live app that has a schedule or an override (`app_id` limits it to one app).
pub async fn governed(pool: &SqlitePool, app_id: Option<i64>) -> sqlx::Result<Vec<Governed>> {
    let rows = sqlx::query!(
        r#"SELECT a.id AS "id!", a.slug, a.name, a.desired_count,
                  s.doc_json AS "doc_json?", s.next_due_at AS "next_due_at?: DateTime<Utc>",
                  o.desired AS "o_desired?", o.until AS "o_until?: DateTime<Utc>", o.restore AS "o_restore?",
                  o.set_by AS "o_set_by?",
                  st.desired_count AS "live_desired?"
           FROM apps a
           LEFT JOIN schedules s ON s.app_id = a.id
           LEFT JOIN schedule_overrides o ON o.app_id = a.id
           LEFT JOIN service_status st ON st.app_id = a.id
           WHERE a.deleted_at IS NULL AND (s.app_id IS NOT NULL OR o.app_id IS NOT NULL)
             AND (? IS NULL OR a.id = ?)
           ORDER BY a.slug"#,
        app_id,
        app_id
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let app_desired = to_u32(r.desired_count);
            let doc: Option<ScheduleDoc> = r.doc_json.as_deref().and_then(|j| serde_json::from_str(j).ok());
            // Stored documents were validated when saved; one that no longer parses (the
            // app's count changed to something a schedule refuses) governs nothing.
            let schedule = doc.as_ref().and_then(|d| Schedule::parse(d, app_desired.max(1)).ok());
            let override_ = match (r.o_desired, r.o_until, r.o_restore) {
                (Some(desired), Some(until), Some(restore)) => {
                    Some(Override { desired: to_u32(desired), until, restore: to_u32(restore) })
                }
                _ => None,
            };
            Governed {
                app_id: r.id,
                slug: r.slug,
                name: r.name,
                app_desired,
                doc,
                schedule,
                override_,
                override_by: r.o_set_by,
                next_due_at: r.next_due_at,
                live_desired: r.live_desired.map(to_u32),
            }
        })
        .collect())
}

/// The count a deploy should give the service now: what the schedule or override wants, or
/// `None` when nothing governs the app (then its own desired count).
pub async fn governed_count(pool: &SqlitePool, app_id: i64, now: DateTime<Utc>) -> sqlx::Result<Option<u32>> {
    Ok(governed(pool, Some(app_id)).await?.first().and_then(|g| g.plan().desired_at(now)))
}

// ---------------------------------------------------------------------------------------
// The scheduler's pass
// ---------------------------------------------------------------------------------------

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pass {
    /// False: another console holds the lease; this one did nothing.
    pub leader: bool,
    pub acted: usize,
    pub failed: usize,
    /// The earliest instant any app is due again.
    pub next_due: Option<DateTime<Utc>>,
}

/// Takes or renews the lease for `holder` until `now + ttl`; false when another console
/// holds an unexpired one.
pub async fn take_lease(pool: &SqlitePool, holder: &str, now: DateTime<Utc>, ttl: Duration) -> sqlx::Result<bool> {
    let expires = now + ttl;
    let taken = sqlx::query!(
        "INSERT INTO scheduler_lease (id, holder, expires_at) VALUES (1, ?, ?)
         ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
         WHERE scheduler_lease.holder = excluded.holder OR scheduler_lease.expires_at <= ?",
        holder,
        expires,
        now
    )
    .execute(pool)
    .await?
    .rows_affected();
    Ok(taken == 1)
}

/// Gives the lease up (a console shutting down), so another takes over at once.
pub async fn release_lease(pool: &SqlitePool, holder: &str) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM scheduler_lease WHERE holder = ?", holder).execute(pool).await?;
    Ok(())
}

/// One pass: if this console holds the lease, every governed app is brought to what its
/// schedule wants (as [`decide`] says). Apps in `skip` (failing, waiting to retry) are left
/// for later.
pub async fn run_once(
    state: &Services,
    holder: &str,
    lease: Duration,
    skip: &(dyn Fn(i64) -> bool + Sync),
) -> Result<(Pass, Vec<(i64, Result<(), String>)>), Error> {
    let now = state.clock.now();
    if !take_lease(&state.pool, holder, now, lease).await? {
        return Ok((Pass::default(), vec![]));
    }
    let mut pass = Pass { leader: true, ..Pass::default() };
    let mut outcomes = vec![];
    let unchecked = resolve_pending(state, skip).await?;
    pass.failed += unchecked.len();
    let unchecked_ids: Vec<i64> = unchecked.iter().map(|(id, _)| *id).collect();
    outcomes.extend(unchecked.into_iter().map(|(id, why)| (id, Err(why))));
    for g in governed(&state.pool, None).await? {
        if skip(g.app_id) || unchecked_ids.contains(&g.app_id) {
            continue;
        }
        let decision = decide(&g, now);
        let mut next_due = decision.next_due;
        let mut applied = true;
        let mut retrying = false;
        if let Some((target, action)) = decision.act {
            // A long pass (hundreds of apps at 08:00, a throttled API) must not outlive the
            // lease: renew it before every act, and stop if another console took it.
            if !take_lease(&state.pool, holder, state.clock.now(), lease).await? {
                pass.leader = false;
                break;
            }
            let result = apply(state, &g, target, action, now).await;
            match &result {
                Ok(()) => pass.acted += 1,
                Err(Failure { retry, .. }) => {
                    pass.failed += 1;
                    applied = false;
                    if *retry {
                        // Still due: the retry acts for this same instant (when is the
                        // scheduler's backoff to say, not this pass's next due instant).
                        next_due = Some(g.next_due_at.map_or(now, |d| d.min(now)));
                        retrying = true;
                    }
                }
            }
            outcomes.push((g.app_id, result.map_err(|f| f.detail)));
        }
        // An ended override goes once the count it hands back is in place (a failed
        // restore keeps it, so the retry restores it).
        if decision.retire_override && applied {
            sqlx::query!("DELETE FROM schedule_overrides WHERE app_id = ? AND until <= ?", g.app_id, now)
                .execute(&state.pool)
                .await?;
        }
        if next_due != g.next_due_at {
            set_next_due(&state.pool, g.app_id, next_due).await?;
        }
        if !retrying {
            pass.next_due = earliest(pass.next_due, next_due);
        }
    }
    Ok((pass, outcomes))
}

fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

async fn set_next_due(pool: &SqlitePool, app_id: i64, at: Option<DateTime<Utc>>) -> sqlx::Result<()> {
    sqlx::query!("UPDATE schedules SET next_due_at = ? WHERE app_id = ?", at, app_id).execute(pool).await?;
    Ok(())
}

/// Why an act failed, and whether trying again can help (an app that is not deployed waits
/// for its next transition instead).
struct Failure {
    detail: String,
    retry: bool,
}

/// Sets the service's desired count, and records the act (history and audit log). The
/// cached service view takes the new count at once, so the next pass does not act again.
///
/// The act is noted as pending before the request: when no answer comes (a timeout, a lost
/// connection, the console killed), ECS may have taken the change or not, and
/// [`resolve_pending`] finds out on a later pass, so the act is recorded exactly once.
async fn apply(state: &Services, g: &Governed, target: u32, action: &str, now: DateTime<Utc>) -> Result<(), Failure> {
    let act = Act {
        app_id: g.app_id,
        slug: g.slug.clone(),
        at: now,
        action: action.to_owned(),
        from: g.live_desired,
        to: target,
    };
    if let Err(e) = note_pending(&state.pool, &act).await {
        tracing::error!(app = %g.slug, error = %e, "a schedule act could not be noted; not acting");
        return Err(Failure { detail: "The database is unavailable.".into(), retry: true });
    }
    let update = ServiceUpdate {
        name: g.slug.clone(),
        task_definition: None,
        desired_count: Some(target),
        force_new_deployment: false,
        load_balancer: None,
    };
    let result = state.cloud.fleet.update_service(&update).await;
    match result {
        Ok(_) => {
            record_act(&state.pool, &act, None).await;
            tracing::info!(app = %g.slug, desired = target, action, "schedule applied");
            Ok(())
        }
        // No answer: the change may have happened. The pending note stays for a later pass.
        Err(CloudError::Unavailable(e)) => {
            tracing::warn!(app = %g.slug, desired = target, error = %e, "schedule act unanswered; will check");
            Err(Failure { detail: format!("The cloud did not answer: {e}"), retry: true })
        }
        Err(e) => {
            let detail = match &e {
                CloudError::NotFound(_) => "The app is not deployed: there is no service to scale.".to_owned(),
                e => format!("The cloud did not take the change: {e}"),
            };
            record_act(&state.pool, &act, Some(&detail)).await;
            tracing::warn!(app = %g.slug, desired = target, error = %e, "schedule not applied");
            Err(Failure { detail, retry: !matches!(e, CloudError::NotFound(_)) })
        }
    }
}

/// One act of the scheduler on one app's service.
struct Act {
    app_id: i64,
    slug: String,
    at: DateTime<Utc>,
    action: String,
    from: Option<u32>,
    to: u32,
}

async fn note_pending(pool: &SqlitePool, act: &Act) -> sqlx::Result<()> {
    let (from, to) = (act.from.map(i64::from), i64::from(act.to));
    sqlx::query!(
        "INSERT INTO schedule_pending (app_id, at, action, from_count, to_count) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (app_id) DO UPDATE SET at = excluded.at, action = excluded.action,
             from_count = excluded.from_count, to_count = excluded.to_count",
        act.app_id,
        act.at,
        act.action,
        from,
        to
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Records how an act ended (`failure`: why it did not happen) and drops its pending note:
/// a history row, and for a done act its audit row and the cached count.
async fn record_act(pool: &SqlitePool, act: &Act, failure: Option<&str>) {
    let (from, to) = (act.from.map(i64::from), i64::from(act.to));
    let outcome = if failure.is_none() { "ok" } else { "failed" };
    let recorded: sqlx::Result<()> = async {
        let mut tx = crate::begin_write(pool).await?;
        sqlx::query!("DELETE FROM schedule_pending WHERE app_id = ?", act.app_id).execute(&mut *tx).await?;
        sqlx::query!(
            "INSERT INTO schedule_history (app_id, at, action, from_count, to_count, outcome, detail)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
            act.app_id,
            act.at,
            act.action,
            from,
            to,
            outcome,
            failure
        )
        .execute(&mut *tx)
        .await?;
        if failure.is_none() {
            let mut entry = Entry::new(SCHEDULER, None, "schedule.scale", &act.slug);
            entry.before = from.map(|n| serde_json::json!({ "desired_count": n }));
            entry.after = Some(serde_json::json!({ "desired_count": to, "reason": act.action }));
            audit::record(&mut tx, &entry, act.at).await?;
            sqlx::query!("UPDATE service_status SET desired_count = ? WHERE app_id = ?", to, act.app_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    }
    .await;
    if let Err(e) = recorded {
        tracing::error!(app = %act.slug, error = %e, "a schedule act could not be recorded");
    }
}

/// Acts whose answer never came, resolved from what ECS reports now: the service has the
/// count asked for (the act happened) or not (it did not; the pass decides afresh). Apps in
/// `skip` (waiting to retry) wait with it. Returns those ECS did not answer about either, with
/// why: the pass leaves them alone too.
async fn resolve_pending(state: &Services, skip: &(dyn Fn(i64) -> bool + Sync)) -> Result<Vec<(i64, String)>, Error> {
    let mut rows = sqlx::query!(
        r#"SELECT p.app_id, a.slug, p.at AS "at: DateTime<Utc>", p.action, p.from_count, p.to_count
           FROM schedule_pending p JOIN apps a ON a.id = p.app_id ORDER BY p.app_id"#
    )
    .fetch_all(&state.pool)
    .await?;
    rows.retain(|r| !skip(r.app_id));
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let names: Vec<String> = rows.iter().map(|r| r.slug.clone()).collect();
    let services = match state.cloud.fleet.describe_services(&names).await {
        Ok(services) => services,
        Err(e) => {
            tracing::warn!(error = %e, pending = rows.len(), "unanswered schedule acts stay unresolved");
            let why = format!("The cloud did not answer whether an earlier change was made: {e}");
            return Ok(rows.iter().map(|r| (r.app_id, why.clone())).collect());
        }
    };
    for r in rows {
        let act = Act {
            app_id: r.app_id,
            slug: r.slug,
            at: r.at,
            action: r.action,
            from: r.from_count.map(to_u32),
            to: to_u32(r.to_count),
        };
        let now_desired = services.iter().find(|s| s.name == act.slug).map(|s| s.desired_count);
        if now_desired == Some(act.to) {
            tracing::info!(app = %act.slug, desired = act.to, "an unanswered schedule act had been applied");
            record_act(&state.pool, &act, None).await;
        } else {
            let detail = "The cloud did not answer and did not take the change.";
            record_act(&state.pool, &act, Some(detail)).await;
        }
    }
    Ok(vec![])
}

// ---------------------------------------------------------------------------------------
// Changes from people
// ---------------------------------------------------------------------------------------

async fn app_of(state: &Services, slug: &str) -> Result<crate::apps::AppRecord, Error> {
    crate::apps::get(&state.pool, slug).await
}

fn invalid(errors: Vec<domain::ValidationError>) -> Error {
    Error::InvalidFields(errors.into_iter().map(|e| (e.field, e.message)).collect())
}

/// Validates and stores the app's schedule (replacing any), and wakes the scheduler.
pub async fn save(state: &Services, caller: &Caller, slug: &str, doc: &ScheduleDoc) -> Result<(), Error> {
    let app = app_of(state, slug).await?;
    let schedule = Schedule::parse(doc, app.definition.desired_count.max(1)).map_err(invalid)?;
    let now = state.clock.now();
    let json = serde_json::to_string(doc)?;
    // Enforced: act at once. Transitions only: wait for the next transition.
    let next_due = match schedule.mode() {
        Mode::Enforced => Some(now),
        Mode::Transitions => schedule.enabled().then(|| schedule.next_transition(now).map(|t| t.at)).flatten(),
    };
    let actor = caller.actor();
    let mut tx = crate::begin_write(&state.pool).await?;
    let before =
        sqlx::query_scalar!("SELECT doc_json FROM schedules WHERE app_id = ?", app.id).fetch_optional(&mut *tx).await?;
    sqlx::query!(
        "INSERT INTO schedules (app_id, doc_json, updated_at, updated_by, next_due_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (app_id) DO UPDATE SET doc_json = excluded.doc_json, updated_at = excluded.updated_at,
             updated_by = excluded.updated_by, next_due_at = excluded.next_due_at",
        app.id,
        json,
        now,
        actor,
        next_due
    )
    .execute(&mut *tx)
    .await?;
    history(&mut tx, app.id, now, "saved", Some(&actor)).await?;
    let mut entry = Entry::new(&actor, caller.source.as_deref(), "schedule.save", slug);
    entry.before = before.and_then(|b| serde_json::from_str(&b).ok());
    entry.after = serde_json::to_value(doc).ok();
    audit::record(&mut tx, &entry, now).await?;
    tx.commit().await?;
    state.schedule_changed.notify_one();
    Ok(())
}

/// Removes the app's schedule; the service keeps the count it has.
pub async fn delete(state: &Services, caller: &Caller, slug: &str) -> Result<(), Error> {
    let app = app_of(state, slug).await?;
    let now = state.clock.now();
    let actor = caller.actor();
    let mut tx = crate::begin_write(&state.pool).await?;
    let before = sqlx::query_scalar!("DELETE FROM schedules WHERE app_id = ? RETURNING doc_json", app.id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(before) = before else { return Err(Error::NotFound) };
    history(&mut tx, app.id, now, "deleted", Some(&actor)).await?;
    let mut entry = Entry::new(&actor, caller.source.as_deref(), "schedule.delete", slug);
    entry.before = serde_json::from_str(&before).ok();
    audit::record(&mut tx, &entry, now).await?;
    tx.commit().await?;
    state.schedule_changed.notify_one();
    Ok(())
}

async fn history(
    conn: &mut sqlx::SqliteConnection,
    app_id: i64,
    at: DateTime<Utc>,
    action: &str,
    by: Option<&str>,
) -> sqlx::Result<()> {
    let detail = by.map(|b| format!("by {b}"));
    sqlx::query!(
        "INSERT INTO schedule_history (app_id, at, action, outcome, detail) VALUES (?, ?, ?, 'ok', ?)",
        app_id,
        at,
        action,
        detail
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Sets an override and applies it at once (wakes the scheduler).
pub async fn set_override(
    state: &Services,
    caller: &Caller,
    slug: &str,
    request: &OverrideRequest,
) -> Result<OverrideDoc, Error> {
    let app = app_of(state, slug).await?;
    let now = state.clock.now();
    let tz = zone_of(state, app.id).await?;
    let until = parse_until(&request.until, tz, now).map_err(|m| Error::invalid("until", m))?;
    let live = sqlx::query_scalar!("SELECT desired_count FROM service_status WHERE app_id = ?", app.id)
        .fetch_optional(&state.pool)
        .await?
        .map(to_u32);
    // With no schedule, the count to go back to is the one the service runs now; replacing
    // an override in force keeps the count the first one replaced (not its own).
    let replaced =
        sqlx::query_scalar!("SELECT restore FROM schedule_overrides WHERE app_id = ? AND until > ?", app.id, now)
            .fetch_optional(&state.pool)
            .await?
            .map(to_u32);
    let restore = replaced.or(live).unwrap_or(app.definition.desired_count).min(domain::schedule::MAX_COUNT);
    let doc = OverrideDoc { desired: request.desired, until };
    let o = Override::parse(&doc, restore, now).map_err(invalid)?;
    let actor = caller.actor();
    let (desired, restore) = (i64::from(o.desired), i64::from(o.restore));
    let detail = format!("until {} by {actor}", local_label(o.until, tz));
    let mut tx = crate::begin_write(&state.pool).await?;
    sqlx::query!(
        "INSERT INTO schedule_overrides (app_id, desired, until, restore, set_by, set_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (app_id) DO UPDATE SET desired = excluded.desired, until = excluded.until,
             restore = excluded.restore, set_by = excluded.set_by, set_at = excluded.set_at",
        app.id,
        desired,
        o.until,
        restore,
        actor,
        now
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO schedule_history (app_id, at, action, to_count, outcome, detail) VALUES (?, ?, 'override', ?, 'ok', ?)",
        app.id,
        now,
        desired,
        detail
    )
    .execute(&mut *tx)
    .await
    ?;
    let mut entry = Entry::new(&actor, caller.source.as_deref(), "schedule.override", slug);
    entry.after = Some(serde_json::json!({ "desired_count": o.desired, "until": o.until }));
    audit::record(&mut tx, &entry, now).await?;
    tx.commit().await?;
    state.schedule_changed.notify_one();
    Ok(OverrideDoc { desired: o.desired, until: o.until })
}

/// Ends the override now; the schedule (or the count it replaced) applies at once.
pub async fn clear_override(state: &Services, caller: &Caller, slug: &str) -> Result<(), Error> {
    let app = app_of(state, slug).await?;
    let now = state.clock.now();
    let actor = caller.actor();
    let mut tx = crate::begin_write(&state.pool).await?;
    // Ending it is making it end now: the next pass retires it and restores the count.
    let changed =
        sqlx::query!("UPDATE schedule_overrides SET until = ? WHERE app_id = ? AND until > ?", now, app.id, now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    if changed == 0 {
        return Err(Error::NotFound);
    }
    let detail = format!("ended by {actor}");
    sqlx::query!(
        "INSERT INTO schedule_history (app_id, at, action, outcome, detail) VALUES (?, ?, 'override_ended', 'ok', ?)",
        app.id,
        now,
        detail
    )
    .execute(&mut *tx)
    .await?;
    let mut entry = Entry::new(&actor, caller.source.as_deref(), "schedule.override_clear", slug);
    entry.after = Some(serde_json::json!({ "until": now }));
    audit::record(&mut tx, &entry, now).await?;
    tx.commit().await?;
    state.schedule_changed.notify_one();
    Ok(())
}

async fn zone_of(state: &Services, app_id: i64) -> Result<Tz, Error> {
    let g = governed(&state.pool, Some(app_id)).await?;
    Ok(g.first().map_or(Tz::UTC, Governed::zone))
}

// ---------------------------------------------------------------------------------------
// Views
// ---------------------------------------------------------------------------------------

/// e.g. "Mon 30 Nov 08:00 CET".
pub fn local_label(at: DateTime<Utc>, tz: Tz) -> String {
    tz.from_utc_datetime(&at.naive_utc()).format("%a %-d %b %H:%M %Z").to_string()
}

fn transition_view(t: &domain::schedule::Transition, tz: Tz) -> TransitionView {
    TransitionView { at: t.at, local: local_label(t.at, tz), desired: t.desired }
}

/// The schedule editor's data for one app.
pub async fn view(state: &Services, slug: &str) -> Result<ScheduleView, Error> {
    let app = app_of(state, slug).await?;
    let now = state.clock.now();
    let g = governed(&state.pool, Some(app.id)).await?.into_iter().next();
    let live_desired = sqlx::query_scalar!("SELECT desired_count FROM service_status WHERE app_id = ?", app.id)
        .fetch_optional(&state.pool)
        .await?
        .map(to_u32);
    let history = sqlx::query!(
        r#"SELECT at AS "at: DateTime<Utc>", action, from_count, to_count, outcome, detail
           FROM schedule_history WHERE app_id = ? ORDER BY id DESC LIMIT 20"#,
        app.id
    )
    .fetch_all(&state.pool)
    .await?
    .into_iter()
    .map(|r| ScheduleEvent {
        at: r.at,
        action: r.action,
        from_count: r.from_count.map(to_u32),
        to_count: r.to_count.map(to_u32),
        outcome: r.outcome,
        detail: r.detail,
    })
    .collect();
    let mut view = ScheduleView {
        slug: slug.to_owned(),
        app_name: app.definition.name.clone(),
        app_desired_count: app.definition.desired_count,
        schedule: None,
        override_: None,
        desired_now: None,
        live_desired,
        next: vec![],
        history,
        saving: None,
        generated_at: now,
    };
    let Some(g) = g else { return Ok(view) };
    let (tz, plan) = (g.zone(), g.plan());
    view.schedule = g.doc.clone();
    view.override_ = override_view(&g, now);
    view.desired_now = plan.desired_at(now);
    view.next = plan.transitions(now, 5).iter().map(|t| transition_view(t, tz)).collect();
    view.saving = g.schedule.as_ref().filter(|s| s.enabled()).map(|s| saving(state, &app, s, now));
    Ok(view)
}

/// This month: `on_count` tasks always on against the schedule, at the region's prices.
fn saving(state: &Services, app: &crate::apps::AppRecord, s: &Schedule, now: DateTime<Utc>) -> SavingView {
    use domain::cost::{interval_list, month_bounds};
    use domain::cost::{schedule_saving, scheduled_cost, TaskRate};
    // The Costs page's month and prices, so both pages say the same.
    let tz = state.costs.tz;
    let (from, to, first) = month_bounds(tz, tz.from_utc_datetime(&now.naive_utc()).date_naive());
    let rate = TaskRate::for_size(app.definition.size, app.definition.architecture, &state.costs.prices);
    let month = interval_list(s.on_intervals(from, to));
    let scheduled = scheduled_cost(&month, rate, from, to);
    let saving = schedule_saving(&month, s.on_count(), rate, from, to);
    SavingView {
        always_on: (scheduled + saving).to_string(),
        scheduled: scheduled.to_string(),
        saving: saving.to_string(),
        month: first.format("%B %Y").to_string(),
    }
}

/// The Fleet table's word on each governed app, by app id.
pub async fn fleet_notes(
    pool: &SqlitePool,
    now: DateTime<Utc>,
) -> sqlx::Result<std::collections::HashMap<i64, domain::view::ScheduleNote>> {
    use domain::view::ScheduleNote;
    Ok(governed(pool, None)
        .await?
        .into_iter()
        .filter_map(|g| {
            let note = match (override_view(&g, now), &g.schedule) {
                (Some(o), _) => ScheduleNote {
                    overridden: true,
                    text: format!(
                        "override: {} task{} until {}",
                        o.desired,
                        if o.desired == 1 { "" } else { "s" },
                        o.until_local
                    ),
                },
                (None, Some(s)) if s.enabled() => ScheduleNote { overridden: false, text: "scheduled".into() },
                _ => return None,
            };
            Some((g.app_id, note))
        })
        .collect())
}

/// The Schedules page: every live app, with its schedule if any.
pub async fn rows(state: &Services) -> Result<Vec<ScheduleRow>, Error> {
    let now = state.clock.now();
    let governed = governed(&state.pool, None).await?;
    let apps = crate::apps::list(&state.pool).await?;
    let live = sqlx::query!("SELECT app_id, desired_count FROM service_status").fetch_all(&state.pool).await?;
    let mut rows: Vec<ScheduleRow> = apps
        .iter()
        .map(|app| {
            let g = governed.iter().find(|g| g.app_id == app.id);
            let live_desired = live.iter().find(|l| l.app_id == app.id).map(|l| to_u32(l.desired_count));
            let mut row = ScheduleRow {
                slug: app.definition.slug.to_string(),
                name: app.definition.name.clone(),
                summary: None,
                enabled: false,
                mode: None,
                desired_now: None,
                live_desired,
                next: None,
                override_: None,
            };
            if let Some(g) = g {
                let plan = g.plan();
                row.summary = g.doc.as_ref().map(ScheduleDoc::summary);
                row.enabled = g.schedule.as_ref().is_some_and(Schedule::enabled);
                row.mode = g.schedule.as_ref().map(|s| s.mode().as_str().to_owned());
                row.desired_now = plan.desired_at(now);
                row.next = plan.next_transition(now).map(|t| transition_view(&t, g.zone()));
                row.override_ = override_view(g, now);
            }
            row
        })
        .collect();
    rows.sort_by_key(|r| r.name.to_lowercase());
    Ok(rows)
}

fn to_u32(v: i64) -> u32 {
    u32::try_from(v).unwrap_or(0)
}
