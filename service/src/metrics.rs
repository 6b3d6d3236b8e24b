//! The utilisation samples copied from CloudWatch: stored once, read by charts and the Fleet
//! table's sparklines without calling AWS, rolled up into hours and pruned.
//!
//! Fetching is incremental: each app's `fetched_until` says up to when its minutes are
//! stored, and [`plan_fetch`] (pure) decides which services to ask about and for which window
//! so that no minute is asked for twice in steady state and none is skipped. CloudWatch
//! charges per metric requested, so only apps whose tasks ran since their `fetched_until` are
//! asked about; the task records say which.

use chrono::{DateTime, Duration, DurationRound, Utc};
use domain::metrics::{MetricKind, MetricWindow, Series};
use sqlx::SqlitePool;
use std::collections::HashMap;

/// How long 1-minute samples are kept (as long as CloudWatch keeps them).
pub const KEEP_MINUTES_DAYS: i64 = 15;
/// How long 1-hour rollups are kept.
pub const KEEP_HOURS_DAYS: i64 = 90;

/// The resolutions stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// CloudWatch's own 1-minute datapoints.
    Minute,
    /// Hourly averages of the minutes.
    Hour,
}

impl Resolution {
    pub fn secs(self) -> i64 {
        match self {
            Resolution::Minute => 60,
            Resolution::Hour => 3600,
        }
    }
}

/// What planning knows of one app: (app id, service name, stored until, whether it ran since).
/// "Stored until" is its `fetched_until`, or later when its first task since then started
/// later (nothing ran before); `None` when it was never fetched.
pub type FetchCandidate = (i64, String, Option<DateTime<Utc>>, bool);

/// Which services to ask about, and for which window: the apps that ran since their samples
/// were stored, from the oldest "stored until" among them (never earlier than `max_window`
/// before the end; never fetched counts as that far back) to the last complete minute of
/// `now`, on whole minutes at 1-minute resolution. `None` when there is nothing to ask.
pub fn plan_fetch(
    apps: &[FetchCandidate],
    now: DateTime<Utc>,
    max_window: Duration,
) -> Option<(MetricWindow, Vec<String>)> {
    let end = floor_minute(now);
    let lookback = floor_minute(end - max_window);
    let mut start: Option<DateTime<Utc>> = None;
    let mut services = Vec::new();
    for (_, service, stored_until, ran) in apps {
        if !ran {
            continue;
        }
        let from = stored_until.map_or(lookback, |u| floor_minute(u).max(lookback));
        if from >= end {
            continue;
        }
        start = Some(start.map_or(from, |s| s.min(from)));
        services.push(service.clone());
    }
    Some((MetricWindow { start: start?, end, period_secs: 60 }, services))
}

/// The start of the minute `t` falls in.
pub fn floor_minute(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::minutes(1)).unwrap_or(t)
}

fn floor_hour(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::hours(1)).unwrap_or(t)
}

fn kind_str(kind: MetricKind) -> &'static str {
    match kind {
        MetricKind::Cpu => "cpu",
        MetricKind::Memory => "memory",
    }
}

/// The planning input for every live app (or only `app_id`), for a fetch ending at `end`
/// reaching back at most `max_window`: each app's `fetched_until` and whether one of its
/// recorded tasks ran in `[max(fetched_until, end - max_window), end)`; for one that ran,
/// "stored until" moves up to the minute its first such task started.
pub async fn fetch_candidates(
    pool: &SqlitePool,
    end: DateTime<Utc>,
    max_window: Duration,
    app_id: Option<i64>,
) -> sqlx::Result<Vec<FetchCandidate>> {
    let lookback = end - max_window;
    let rows = sqlx::query!(
        r#"SELECT a.id AS "id!", a.slug, f.fetched_until AS "fetched_until?: DateTime<Utc>",
                  (SELECT MIN(t.started_at) FROM tasks t
                   WHERE t.app_id = a.id AND t.started_at IS NOT NULL AND t.started_at < ?1
                     AND (t.stopped_at IS NULL OR t.stopped_at > MAX(COALESCE(f.fetched_until, ?2), ?2))
                  ) AS "first_run?: DateTime<Utc>"
           FROM apps a LEFT JOIN metric_fetches f ON f.app_id = a.id
           WHERE a.deleted_at IS NULL AND (?3 IS NULL OR a.id = ?3)
           ORDER BY a.slug"#,
        end,
        lookback,
        app_id
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| match r.first_run {
            Some(first) => {
                let base = r.fetched_until.map_or(lookback, |f| f.max(lookback));
                (r.id, r.slug, Some(base.max(floor_minute(first))), true)
            }
            None => (r.id, r.slug, r.fetched_until, false),
        })
        .collect())
}

/// Stores what the cloud answered for `window`: each answered app's minute samples
/// (upserted), the hourly rollups of the hours the window touched, and its `fetched_until`
/// moved up to the window's end — in one transaction, so a failure stores nothing and the
/// next fetch asks again. Returns how many samples were written.
pub async fn store_fetch(pool: &SqlitePool, window: MetricWindow, answered: &[(i64, &Series)]) -> sqlx::Result<usize> {
    let mut tx = crate::begin_write(pool).await?;
    let mut written = 0;
    for (app_id, series) in answered {
        let kind = kind_str(series.kind);
        for sample in &series.samples {
            sqlx::query!(
                "INSERT INTO metric_samples (app_id, kind, resolution_secs, at, percent) VALUES (?, ?, 60, ?, ?)
                 ON CONFLICT (app_id, kind, resolution_secs, at) DO UPDATE SET percent = excluded.percent",
                app_id,
                kind,
                sample.at,
                sample.percent
            )
            .execute(&mut *tx)
            .await?;
            written += 1;
        }
    }
    let (hours_from, hours_to) = (floor_hour(window.start), floor_hour(window.end) + Duration::hours(1));
    let mut apps: Vec<i64> = answered.iter().map(|(id, _)| *id).collect();
    apps.sort_unstable();
    apps.dedup();
    for app_id in apps {
        sqlx::query!(
            "INSERT INTO metric_samples (app_id, kind, resolution_secs, at, percent)
             SELECT app_id, kind, 3600, substr(at, 1, 13) || ':00:00+00:00', AVG(percent)
             FROM metric_samples
             WHERE app_id = ? AND resolution_secs = 60 AND at >= ? AND at < ?
             GROUP BY app_id, kind, substr(at, 1, 13)
             ON CONFLICT (app_id, kind, resolution_secs, at) DO UPDATE SET percent = excluded.percent",
            app_id,
            hours_from,
            hours_to
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            "INSERT INTO metric_fetches (app_id, fetched_until) VALUES (?, ?)
             ON CONFLICT (app_id) DO UPDATE SET fetched_until = MAX(fetched_until, excluded.fetched_until)",
            app_id,
            window.end
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(written)
}

/// One app's series of `kind` at `resolution`, for periods starting in `[from, to)`, oldest
/// first: (period start, percent).
pub async fn series(
    pool: &SqlitePool,
    app_id: i64,
    kind: MetricKind,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    resolution: Resolution,
) -> sqlx::Result<Vec<(DateTime<Utc>, f64)>> {
    let (kind, secs) = (kind_str(kind), resolution.secs());
    let rows = sqlx::query!(
        r#"SELECT at AS "at: DateTime<Utc>", percent FROM metric_samples
           WHERE app_id = ? AND kind = ? AND resolution_secs = ? AND at >= ? AND at < ?
           ORDER BY at"#,
        app_id,
        kind,
        secs,
        from,
        to
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.at, r.percent)).collect())
}

/// The last hour of every app's CPU at 1-minute resolution, oldest first and to a tenth of a
/// percent (an 80-pixel line shows no finer), for the Fleet table's sparklines; apps without
/// samples in that hour are absent.
///
/// One row per app, its points joined by SQLite as whole tenths, each app's hour read along
/// the primary key: for 200 apps about 3 ms, where one row per sample (12,000) took 30.
pub async fn sparklines(pool: &SqlitePool, now: DateTime<Utc>) -> sqlx::Result<HashMap<i64, Vec<f64>>> {
    let from = floor_minute(now) - Duration::hours(1);
    let rows = sqlx::query!(
        r#"SELECT a.id AS "app_id!",
                  (SELECT group_concat(tenths, ',') FROM
                      (SELECT CAST(ROUND(m.percent * 10) AS INTEGER) AS tenths FROM metric_samples m
                       WHERE m.app_id = a.id AND m.kind = 'cpu' AND m.resolution_secs = 60
                         AND m.at >= ?1 AND m.at < ?2
                       ORDER BY m.at)) AS "tenths?: String"
           FROM apps a WHERE a.deleted_at IS NULL"#,
        from,
        now
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let tenths = r.tenths?;
            Some((r.app_id, tenths.split(',').filter_map(|t| t.parse::<i64>().ok()).map(|t| t as f64 / 10.0).collect()))
        })
        .collect())
}

/// What [`prune`] removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pruned {
    pub minutes: u64,
    pub hours: u64,
}

/// Retention: minute samples older than `keep_minutes_days` (from the start of that hour) are
/// first rolled up into their hours, then deleted; hourly rollups older than
/// `keep_hours_days` are deleted.
pub async fn prune(
    pool: &SqlitePool,
    now: DateTime<Utc>,
    keep_minutes_days: i64,
    keep_hours_days: i64,
) -> sqlx::Result<Pruned> {
    // On an hour, so that every hour rolled up here had all its minutes.
    let minutes_before = floor_hour(now - Duration::days(keep_minutes_days));
    let hours_before = now - Duration::days(keep_hours_days);
    let mut tx = crate::begin_write(pool).await?;
    sqlx::query!(
        "INSERT INTO metric_samples (app_id, kind, resolution_secs, at, percent)
         SELECT app_id, kind, 3600, substr(at, 1, 13) || ':00:00+00:00', AVG(percent)
         FROM metric_samples
         WHERE resolution_secs = 60 AND at < ?
         GROUP BY app_id, kind, substr(at, 1, 13)
         ON CONFLICT (app_id, kind, resolution_secs, at) DO UPDATE SET percent = excluded.percent",
        minutes_before
    )
    .execute(&mut *tx)
    .await?;
    let minutes = sqlx::query!("DELETE FROM metric_samples WHERE resolution_secs = 60 AND at < ?", minutes_before)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let hours = sqlx::query!("DELETE FROM metric_samples WHERE resolution_secs = 3600 AND at < ?", hours_before)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(Pruned { minutes, hours })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        format!("2026-11-30T{s}Z").parse().expect("an instant")
    }

    fn app(service: &str, stored_until: Option<&str>, ran: bool) -> FetchCandidate {
        (0, service.to_owned(), stored_until.map(t), ran)
    }

    #[test]
    fn the_plan_asks_only_apps_that_ran_from_the_oldest_stored_minute_to_the_last_complete_one() {
        let day = Duration::hours(24);
        let now = t("10:15:42");
        let plan = |apps: &[FetchCandidate]| {
            plan_fetch(apps, now, day).map(|(w, s)| (w.start, w.end, w.period_secs, s.join(",")))
        };
        // (sentence, apps, expected (start, end, period, services)).
        type Planned = Option<(DateTime<Utc>, DateTime<Utc>, u32, &'static str)>;
        let cases: &[(&str, Vec<FetchCandidate>, Planned)] = &[
            ("no apps: nothing to ask", vec![], None),
            ("no app ran: nothing to ask", vec![app("a", Some("10:00:00"), false), app("b", None, false)], None),
            (
                "one app ran: from its stored minute to the last complete minute",
                vec![app("a", Some("10:00:00"), true)],
                Some((t("10:00:00"), t("10:15:00"), 60, "a")),
            ),
            (
                "only the apps that ran are asked, from the oldest of them",
                vec![
                    app("a", Some("10:00:00"), true),
                    app("b", Some("09:00:00"), false),
                    app("c", Some("09:45:00"), true),
                ],
                Some((t("09:45:00"), t("10:15:00"), 60, "a,c")),
            ),
            (
                "never fetched: as far back as the window allows",
                vec![app("a", None, true)],
                Some((t("10:15:00") - day, t("10:15:00"), 60, "a")),
            ),
            (
                "stored long ago: capped to the window",
                vec![app("a", Some("10:00:00"), true), (1, "b".into(), Some(t("10:00:00") - Duration::days(9)), true)],
                Some((t("10:15:00") - day, t("10:15:00"), 60, "a,b")),
            ),
            (
                "a stored time inside a minute starts at that minute (never a gap)",
                vec![app("a", Some("10:03:30"), true)],
                Some((t("10:03:00"), t("10:15:00"), 60, "a")),
            ),
            (
                "an app stored up to the last complete minute is not asked",
                vec![app("a", Some("10:15:00"), true), app("b", Some("10:14:00"), true)],
                Some((t("10:14:00"), t("10:15:00"), 60, "b")),
            ),
            ("everything is up to date: nothing to ask", vec![app("a", Some("10:15:00"), true)], None),
        ];
        for (sentence, apps, expected) in cases {
            assert_eq!(plan(apps), expected.map(|(s, e, p, names)| (s, e, p, names.to_owned())), "{sentence}");
        }
    }

    #[test]
    fn a_plan_on_a_whole_minute_ends_at_that_minute() {
        let (window, _) = plan_fetch(&[app("a", Some("09:00:00"), true)], t("10:00:00"), Duration::hours(1)).unwrap();
        assert_eq!((window.start, window.end), (t("09:00:00"), t("10:00:00")));
    }
}
