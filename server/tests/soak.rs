//! The concurrency soak: 50 signed-in clients — 40 admins and 10 viewers, each a user of its
//! own — read and write as fast as they can for `SHINYFLEET_SOAK_SECS` seconds (default 60)
//! while the poller, the scheduler and the metrics worker run on the sandbox, and the
//! sandbox's clock runs fast (30 s every 100 ms), so deploys finish, schedules cross their
//! transitions and overrides end during the run.
//!
//! It holds the console to the issue's promise ("zero 5xx, zero 'database is locked', and the
//! audit count equals the number of successful writes"):
//! - no 5xx, no transport error, no "database is locked" in any answer or in the log, no
//!   ERROR line in the log, no page rendered with the internal-error text, and no answer
//!   outside those the request may rightly get (a deploy refused because one is rolling out
//!   already, an edit refused because the app changed since it was read, …);
//! - every write that succeeded left exactly one audit row and no refused one left any: the
//!   audit log's rows since the start, counted by actor and action, equal the successes each
//!   client counted (the scheduler's own acts aside);
//! - every write a viewer tries is refused with 403 and leaves nothing.
//!
//! The figures (requests, rate, latency) are printed and never asserted:
//! `cargo test -p server --test soak -- --nocapture`.
//!
//! Why each counted write leaves exactly one audit row (`app::ssr`):
//! - `app.create`, `app.update`: the row change and its audit row in one transaction;
//! - `app.delete`: the app is marked deleted (transaction 1), its service deleted, then its
//!   cached status removed with the audit row (transaction 2); 204 only after both;
//! - `app.deploy`, `app.rollback`: `deploys::launch` records the deploy's revision and its
//!   audit row in one transaction before the service call (a call the cloud refuses takes both
//!   back); a deploy refused because another is rolling out claims nothing and records nothing. No request here sends an
//!   idempotency key twice, so none is a replay (a replay answers 202 with no new row);
//! - `schedule.save`, `schedule.delete`, `schedule.override`, `schedule.override_clear`: a
//!   `schedule_history` row too, but one audit row;
//! - the scheduler's acts are audited as actor `scheduler` (`schedule.scale`): not the
//!   clients' doing, left out of the count and reported.

mod support;

use reqwest::{Client, RequestBuilder};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{TestConsole, ADMIN, PASSWORD, VIEWER};

/// The admin clients: the harness's admin and 39 more.
const ADMINS: usize = 40;
/// The viewer clients: the harness's viewer and 9 more.
const VIEWERS: usize = 10;
/// The demo apps: every admin edits, schedules, overrides and deploys them, all at once.
const SHARED: [&str; 4] = ["sales-dashboard", "forecast-explorer", "trial-monitor", "ops-report"];
const ECR: &str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
/// How often the test moves the sandbox's clock on, and at most how far.
const TICK: Duration = Duration::from_millis(100);
const MAX_STEP_SECS: u64 = 30;
/// The clock moves at most about this far over a run: sessions end 12 hours after sign-in.
const MAX_SIMULATED_SECS: u64 = 8 * 3600;
/// What a page shows for `AppError::Internal`.
const INTERNAL_TEXT: &str = "Something went wrong on our side";
/// How many unexpected answers each client describes (all are counted).
const SAMPLES_PER_CLIENT: usize = 5;

// The audit actions of the writes the clients make.
const CREATE: &str = "app.create";
const UPDATE: &str = "app.update";
const DELETE: &str = "app.delete";
const DEPLOY: &str = "app.deploy";
const ROLLBACK: &str = "app.rollback";
const SAVE: &str = "schedule.save";
const UNSCHEDULE: &str = "schedule.delete";
const OVERRIDE: &str = "schedule.override";
const CLEAR: &str = "schedule.override_clear";
/// The scheduler's actor in the audit log (`service::schedules::SCHEDULER`).
const SCHEDULER: &str = "scheduler";

fn soak_secs() -> u64 {
    std::env::var("SHINYFLEET_SOAK_SECS").ok().and_then(|s| s.trim().parse().ok()).filter(|s| *s > 0).unwrap_or(60)
}

// ---------------------------------------------------------------------------------------
// What the clients do
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Op {
    FleetPage,
    AppList,
    AppPage,
    AppJson,
    CostsPage,
    SchedulesPage,
    /// Create an app of one's own, or deploy or delete it.
    OwnApp,
    Edit,
    PutSchedule,
    SaveScheduleFn,
    DeleteSchedule,
    SetOverride,
    SetOverrideFn,
    ClearOverride,
    ClearOverrideFn,
    Deploy,
    DeployFn,
    Rollback,
    /// A viewer tries one of the writes.
    ViewerWrite,
}

/// An admin's mix: about half reads, half writes.
const ADMIN_MIX: &[(Op, u32)] = &[
    (Op::FleetPage, 10),
    (Op::AppList, 8),
    (Op::AppPage, 8),
    (Op::AppJson, 5),
    (Op::CostsPage, 3),
    (Op::SchedulesPage, 4),
    (Op::OwnApp, 6),
    (Op::Edit, 5),
    (Op::PutSchedule, 3),
    (Op::SaveScheduleFn, 2),
    (Op::DeleteSchedule, 1),
    (Op::SetOverride, 3),
    (Op::SetOverrideFn, 2),
    (Op::ClearOverride, 2),
    (Op::ClearOverrideFn, 1),
    (Op::Deploy, 4),
    (Op::DeployFn, 2),
    (Op::Rollback, 2),
];

/// A viewer's mix: reads, and now and then a write that must be refused.
const VIEWER_MIX: &[(Op, u32)] = &[
    (Op::FleetPage, 10),
    (Op::AppList, 8),
    (Op::AppPage, 8),
    (Op::AppJson, 5),
    (Op::CostsPage, 3),
    (Op::SchedulesPage, 4),
    (Op::ViewerWrite, 6),
];

/// A small deterministic generator (xorshift), one per client.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    fn op(&mut self, mix: &[(Op, u32)]) -> Op {
        let total: u64 = mix.iter().map(|(_, w)| u64::from(*w)).sum();
        let mut at = self.below(total);
        for (op, weight) in mix {
            if at < u64::from(*weight) {
                return *op;
            }
            at -= u64::from(*weight);
        }
        mix[0].0
    }
}

/// A schedule of short windows every few hours (in one of three zones), so the fast clock
/// crosses transitions during the run.
fn schedule_doc(rng: &mut Rng) -> Value {
    let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let windows: Vec<Value> = (0..4u64)
        .map(|i| {
            let start = i * 6 + rng.below(3);
            json!({ "days": days, "start": format!("{start:02}:00"), "end": format!("{:02}:30", start + 1) })
        })
        .collect();
    json!({
        "timezone": rng.pick(&["UTC", "Europe/Berlin", "America/New_York"]),
        "windows": windows,
        "off_count": rng.below(2),
        "mode": if rng.below(3) == 0 { "transitions" } else { "enforced" },
    })
}

fn override_request(rng: &mut Rng) -> Value {
    json!({ "desired": rng.below(3), "until": rng.pick(&["2h", "90m", "3h"]) })
}

// Refusals a request may rightly get under concurrency.
fn never(_: u16, _: &str) -> bool {
    false
}

/// Another deploy of the app is rolling out.
fn deploying_already(status: u16, body: &str) -> bool {
    status == 409 && body.contains("being deployed already")
}

/// The app changed between the handler's read and its write (another admin, a deploy).
fn changed_since(status: u16, body: &str) -> bool {
    status == 409 && body.contains("was changed since")
}

/// The app's own deploy is still rolling out: it cannot be deleted yet.
fn deploy_in_progress(status: u16, body: &str) -> bool {
    status == 409 && body.contains("is in progress")
}

/// Nothing to remove (no schedule, no override in force).
fn nothing_there(status: u16, _: &str) -> bool {
    status == 404
}

// ---------------------------------------------------------------------------------------
// Counting
// ---------------------------------------------------------------------------------------

#[derive(Default)]
struct KindStats {
    statuses: BTreeMap<u16, u64>,
    ok: u64,
    refused: u64,
    unexpected: u64,
    latencies_us: Vec<u64>,
}

#[derive(Default)]
struct Stats {
    kinds: BTreeMap<&'static str, KindStats>,
    /// Successful writes by (actor, audit action).
    writes: BTreeMap<(String, &'static str), u64>,
    transport_errors: u64,
    server_errors: u64,
    locked: u64,
    page_errors: u64,
    unexpected: u64,
    samples: Vec<String>,
}

impl Stats {
    fn merge(&mut self, other: Stats) {
        for (kind, k) in other.kinds {
            let mine = self.kinds.entry(kind).or_default();
            for (status, n) in k.statuses {
                *mine.statuses.entry(status).or_default() += n;
            }
            mine.ok += k.ok;
            mine.refused += k.refused;
            mine.unexpected += k.unexpected;
            mine.latencies_us.extend(k.latencies_us);
        }
        for (key, n) in other.writes {
            *self.writes.entry(key).or_default() += n;
        }
        self.transport_errors += other.transport_errors;
        self.server_errors += other.server_errors;
        self.locked += other.locked;
        self.page_errors += other.page_errors;
        self.unexpected += other.unexpected;
        self.samples.extend(other.samples);
    }
}

/// The `q`-th percentile (0–100) of sorted latencies, in milliseconds.
fn percentile_ms(sorted_us: &[u64], q: usize) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let i = (sorted_us.len() * q / 100).min(sorted_us.len() - 1);
    sorted_us[i] as f64 / 1000.0
}

/// A body (or log line) on one line and at most 300 characters; a page is only named.
fn shorten(body: &str) -> String {
    if body.starts_with("<!DOCTYPE") {
        return "(an HTML page)".to_owned();
    }
    let one_line: String = body.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    match one_line.char_indices().nth(300) {
        Some((at, _)) => format!("{}…", &one_line[..at]),
        None => one_line,
    }
}

// ---------------------------------------------------------------------------------------
// One client
// ---------------------------------------------------------------------------------------

struct Soaker {
    idx: usize,
    actor: String,
    admin: bool,
    http: Client,
    base: String,
    rng: Rng,
    stats: Stats,
    /// The app this client created and has not deleted yet.
    own: Option<String>,
    created: u32,
    seq: u64,
}

impl Soaker {
    fn new(idx: usize, actor: String, admin: bool, http: Client, base: &str) -> Self {
        Self {
            idx,
            actor,
            admin,
            http,
            base: base.to_owned(),
            rng: Rng::new(idx as u64),
            stats: Stats::default(),
            own: None,
            created: 0,
            seq: 0,
        }
    }

    async fn run(mut self, deadline: Instant) -> Stats {
        let mix = if self.admin { ADMIN_MIX } else { VIEWER_MIX };
        while Instant::now() < deadline {
            self.seq += 1;
            let op = self.rng.op(mix);
            self.step(op).await;
        }
        self.stats
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    fn note(&mut self, what: String) {
        if self.stats.samples.len() < SAMPLES_PER_CLIENT {
            self.stats.samples.push(format!("{}: {what}", self.actor));
        }
    }

    /// Sends a request and reads its answer, timing both; counts 5xx, transport errors and
    /// any answer saying the database is locked.
    async fn send(&mut self, kind: &'static str, req: RequestBuilder) -> Option<(u16, String)> {
        let started = Instant::now();
        let answer = match req.send().await {
            Ok(res) => {
                let status = res.status().as_u16();
                res.text().await.map(|body| (status, body))
            }
            Err(e) => Err(e),
        };
        let (status, body) = match answer {
            Ok(answer) => answer,
            Err(e) => {
                self.stats.transport_errors += 1;
                self.note(format!("{kind}: transport error: {e}"));
                return None;
            }
        };
        let took = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let k = self.stats.kinds.entry(kind).or_default();
        k.latencies_us.push(took);
        *k.statuses.entry(status).or_default() += 1;
        if status >= 500 {
            self.stats.server_errors += 1;
        }
        if body.contains("is locked") {
            self.stats.locked += 1;
            self.note(format!("{kind}: {status} saying the database is locked: {}", shorten(&body)));
        }
        Some((status, body))
    }

    /// Sends `req` and judges its answer as [`Self::judge`] does: whether it succeeded.
    async fn exchange(
        &mut self,
        kind: &'static str,
        req: RequestBuilder,
        ok: u16,
        action: Option<&'static str>,
        legit: fn(u16, &str) -> bool,
    ) -> bool {
        let answer = self.send(kind, req).await;
        self.judge(kind, answer, ok, action, legit)
    }

    /// Judges an answer: `ok` is a success (a write's audit `action` is counted for this
    /// client's actor), `legit` a refusal the request may rightly get under concurrency, and
    /// anything else unexpected. Returns whether it succeeded.
    fn judge(
        &mut self,
        kind: &'static str,
        answer: Option<(u16, String)>,
        ok: u16,
        action: Option<&'static str>,
        legit: fn(u16, &str) -> bool,
    ) -> bool {
        let Some((status, body)) = answer else { return false };
        let k = self.stats.kinds.entry(kind).or_default();
        if status == ok {
            k.ok += 1;
            if let Some(action) = action {
                *self.stats.writes.entry((self.actor.clone(), action)).or_default() += 1;
            }
            true
        } else if legit(status, &body) {
            k.refused += 1;
            false
        } else {
            k.unexpected += 1;
            self.stats.unexpected += 1;
            self.note(format!("{kind}: unexpected {status}: {}", shorten(&body)));
            false
        }
    }

    /// A read: always 200 (a page's status is its own, whatever other requests answer).
    async fn read(&mut self, kind: &'static str, path: &str, page: bool) {
        let req = self.http.get(self.url(path));
        let answer = self.send(kind, req).await;
        if let Some((status, body)) = &answer {
            if page && body.contains(INTERNAL_TEXT) {
                self.stats.page_errors += 1;
                let what = format!("{kind} ({path}): {status} page shows the internal-error text");
                self.note(what);
            }
        }
        self.judge(kind, answer, 200, None, never);
    }

    async fn step(&mut self, op: Op) {
        let slug = self.rng.pick(&SHARED);
        match op {
            Op::FleetPage => self.read("GET / (Fleet page)", "/", true).await,
            Op::AppList => self.read("GET /api/v1/apps", "/api/v1/apps", false).await,
            Op::AppPage => self.read("GET /apps/{slug} (app page)", &format!("/apps/{slug}"), true).await,
            Op::AppJson => self.read("GET /api/v1/apps/{slug}", &format!("/api/v1/apps/{slug}"), false).await,
            Op::CostsPage => self.read("GET /costs", "/costs", true).await,
            Op::SchedulesPage => self.read("GET /schedules", "/schedules", true).await,
            Op::OwnApp => self.own_app().await,
            Op::Edit => {
                let body = json!({
                    "name": format!("Shared app {slug}, edit {} by client {}", self.seq, self.idx),
                    "desired_count": 1 + self.rng.below(2),
                    "env": { "SOAK_EDIT": self.seq.to_string() },
                });
                let req = self.http.patch(self.url(&format!("/api/v1/apps/{slug}"))).json(&body);
                self.exchange("PATCH /api/v1/apps/{slug}", req, 200, Some(UPDATE), changed_since).await;
            }
            // A save or an override that committed (its audit row is written) must answer
            // success, whatever another admin does to the schedule right after: no refusal
            // is legitimate for these.
            Op::PutSchedule => {
                let doc = schedule_doc(&mut self.rng);
                let req = self.http.put(self.url(&format!("/api/v1/apps/{slug}/schedule"))).json(&doc);
                self.exchange("PUT /api/v1/apps/{slug}/schedule", req, 200, Some(SAVE), never).await;
            }
            Op::SaveScheduleFn => {
                let body = json!({ "slug": slug, "doc": schedule_doc(&mut self.rng) });
                let req = self.http.post(self.url("/sfn/save_schedule")).json(&body);
                self.exchange("POST /sfn/save_schedule", req, 200, Some(SAVE), never).await;
            }
            Op::DeleteSchedule => {
                let req = self.http.delete(self.url(&format!("/api/v1/apps/{slug}/schedule")));
                self.exchange("DELETE /api/v1/apps/{slug}/schedule", req, 204, Some(UNSCHEDULE), nothing_there).await;
            }
            Op::SetOverride => {
                let body = override_request(&mut self.rng);
                let req = self.http.post(self.url(&format!("/api/v1/apps/{slug}/override"))).json(&body);
                self.exchange("POST /api/v1/apps/{slug}/override", req, 200, Some(OVERRIDE), never).await;
            }
            Op::SetOverrideFn => {
                let body = json!({ "slug": slug, "request": override_request(&mut self.rng) });
                let req = self.http.post(self.url("/sfn/set_override")).json(&body);
                self.exchange("POST /sfn/set_override", req, 200, Some(OVERRIDE), never).await;
            }
            Op::ClearOverride => {
                let req = self.http.delete(self.url(&format!("/api/v1/apps/{slug}/override")));
                self.exchange("DELETE /api/v1/apps/{slug}/override", req, 204, Some(CLEAR), nothing_there).await;
            }
            Op::ClearOverrideFn => {
                let req = self.http.post(self.url("/sfn/clear_override")).form(&[("slug", slug)]);
                self.exchange("POST /sfn/clear_override", req, 200, Some(CLEAR), nothing_there).await;
            }
            Op::Deploy => {
                let mut req = self.http.post(self.url(&format!("/api/v1/apps/{slug}/deploys")));
                // Now and then a new image (rarely one that never starts: its deploy fails,
                // and ECS rolls the service back); otherwise the app as it is.
                if self.rng.below(4) == 0 {
                    let tag = if self.rng.below(8) == 0 { "broken" } else { "soak" };
                    req = req.json(&json!({ "image": format!("{ECR}/{slug}:{tag}-{}-{}", self.idx, self.seq) }));
                }
                self.exchange("POST /api/v1/apps/{slug}/deploys", req, 202, Some(DEPLOY), deploying_already).await;
            }
            Op::DeployFn => {
                let key = format!("soak-{}-{}", self.idx, self.seq);
                let req = self.http.post(self.url("/sfn/deploy_app")).form(&[("slug", slug), ("key", key.as_str())]);
                self.exchange("POST /sfn/deploy_app", req, 200, Some(DEPLOY), deploying_already).await;
            }
            Op::Rollback => self.rollback(slug).await,
            Op::ViewerWrite => self.viewer_write(slug).await,
        }
    }

    /// Creates an app of this client's own (a slug nobody else uses), or deploys or deletes
    /// the one it has: deletes never race another client's edits of the same app.
    async fn own_app(&mut self) {
        let Some(slug) = self.own.clone() else {
            self.created += 1;
            let slug = format!("soak-{}-{}", self.idx, self.created);
            let body = json!({
                "slug": slug,
                "name": format!("Soak app {} of client {}", self.created, self.idx),
                "image": format!("{ECR}/soak-{}:v{}", self.idx, self.created),
                "env": { "SOAK": "1" },
            });
            let req = self.http.post(self.url("/api/v1/apps")).json(&body);
            if self.exchange("POST /api/v1/apps", req, 201, Some(CREATE), never).await {
                self.own = Some(slug);
            }
            return;
        };
        if self.rng.below(3) == 0 {
            let req = self.http.post(self.url(&format!("/api/v1/apps/{slug}/deploys")));
            self.exchange("POST /api/v1/apps/{own}/deploys", req, 202, Some(DEPLOY), deploying_already).await;
        } else {
            let req = self.http.delete(self.url(&format!("/api/v1/apps/{slug}")));
            if self.exchange("DELETE /api/v1/apps/{own}", req, 204, Some(DELETE), deploy_in_progress).await {
                self.own = None;
            }
        }
    }

    /// Rolls a shared app back to a revision one of its deploys completed, if any.
    async fn rollback(&mut self, slug: &str) {
        let path = format!("/api/v1/apps/{slug}/deploys");
        let req = self.http.get(self.url(&path));
        let answer = self.send("GET /api/v1/apps/{slug}/deploys", req).await;
        let history = match &answer {
            Some((200, body)) => serde_json::from_str::<Value>(body).unwrap_or(Value::Null),
            _ => Value::Null,
        };
        self.judge("GET /api/v1/apps/{slug}/deploys", answer, 200, None, never);
        let completed: Vec<i64> = history
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["state"] == "COMPLETED")
            .filter_map(|d| d["revision"].as_i64())
            .collect();
        if completed.is_empty() {
            return;
        }
        let revision = self.rng.pick(&completed);
        let req =
            self.http.post(self.url(&format!("/api/v1/apps/{slug}/rollback"))).json(&json!({ "revision": revision }));
        self.exchange("POST /api/v1/apps/{slug}/rollback", req, 202, Some(ROLLBACK), deploying_already).await;
    }

    /// One of the writes, as a viewer: always 403, never an audit row.
    async fn viewer_write(&mut self, slug: &str) {
        let app = |path: &str| format!("{}/api/v1/apps/{slug}{path}", self.base);
        let (what, req) = match self.rng.below(8) {
            0 => (
                "POST /api/v1/apps",
                self.http.post(self.url("/api/v1/apps")).json(&json!({
                    "slug": format!("viewer-{}-{}", self.idx, self.seq), "name": "No", "image": format!("{ECR}/no:1"),
                })),
            ),
            1 => ("PATCH /api/v1/apps/{slug}", self.http.patch(app("")).json(&json!({ "name": "Viewer's name" }))),
            2 => ("PUT …/schedule", self.http.put(app("/schedule")).json(&schedule_doc(&mut self.rng))),
            3 => ("POST …/deploys", self.http.post(app("/deploys"))),
            4 => ("DELETE /api/v1/apps/{slug}", self.http.delete(app(""))),
            5 => ("POST …/override", self.http.post(app("/override")).json(&override_request(&mut self.rng))),
            6 => (
                "POST /sfn/deploy_app",
                self.http.post(self.url("/sfn/deploy_app")).form(&[("slug", slug), ("key", "viewer-key")]),
            ),
            _ => (
                "POST /sfn/save_schedule",
                self.http
                    .post(self.url("/sfn/save_schedule"))
                    .json(&json!({ "slug": slug, "doc": schedule_doc(&mut self.rng) })),
            ),
        };
        let kind = "viewer writes (must be 403)";
        let answer = self.send(kind, req).await;
        if let Some((status, body)) = &answer {
            if *status != 403 {
                let what = format!("viewer {what} on {slug}: {status}: {}", shorten(body));
                self.note(what);
            }
        }
        self.judge(kind, answer, 403, None, never);
    }
}

// ---------------------------------------------------------------------------------------
// The log
// ---------------------------------------------------------------------------------------

/// Everything logged at WARN or above during the test.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    /// The process's subscriber: this binary holds this one test only. The request spans of
    /// the router's trace layer are kept, so each line names the request it was logged in.
    fn capture() -> Self {
        let logs = Logs::default();
        let sink = logs.clone();
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("warn,tower_http::trace::make_span=debug"))
            .with_writer(move || sink.clone())
            .with_ansi(false)
            .without_time()
            .try_init()
            .expect("the soak's log capture is the process's only subscriber");
        logs
    }

    fn lines(&self) -> Vec<String> {
        let bytes = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        String::from_utf8_lossy(&bytes).lines().map(str::to_owned).collect()
    }
}

/// A log line with what differs between like lines left out: the latency, and the slug in
/// the request's path (`{slug}` for a shared app, `{own}` for a client's own).
fn normalized(line: &str) -> String {
    let words: Vec<String> = line
        .split(' ')
        .map(|word| {
            if word.starts_with("latency=") {
                return "latency=…".to_owned();
            }
            let Some(path) = word.strip_prefix("uri=") else { return word.to_owned() };
            let segments: Vec<&str> = path
                .split('/')
                .map(|segment| match segment {
                    s if SHARED.contains(&s) => "{slug}",
                    s if s.starts_with("soak-") => "{own}",
                    s => s,
                })
                .collect();
            format!("uri={}", segments.join("/"))
        })
        .collect();
    words.join(" ")
}

/// The most frequent lines first (normalized), with their counts.
fn most_frequent(lines: &[&String], at_most: usize) -> Vec<(usize, String)> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for line in lines {
        *counts.entry(normalized(line)).or_default() += 1;
    }
    let mut by_count: Vec<(usize, String)> = counts.into_iter().map(|(l, n)| (n, shorten(&l))).collect();
    by_count.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    by_count.truncate(at_most);
    by_count
}

// ---------------------------------------------------------------------------------------
// The soak
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_clients_read_and_write_while_the_workers_run() {
    let logs = Logs::capture();
    let secs = soak_secs();
    let c = TestConsole::with_demo().await;
    let groups = support::config(&[]);

    let mut soakers = Vec::new();
    for i in 0..ADMINS + VIEWERS {
        let admin = i < ADMINS;
        let email = match (admin, i) {
            (true, 0) => ADMIN.to_owned(),
            (false, ADMINS) => VIEWER.to_owned(),
            (true, _) => format!("soak-admin-{i:02}@example.org"),
            (false, _) => format!("soak-viewer-{:02}@example.org", i - ADMINS),
        };
        if email != ADMIN && email != VIEWER {
            let group = if admin { &groups.admin_group } else { &groups.viewer_group };
            c.sandbox.add_user(&email, PASSWORD, &[group.as_str()]).expect("a soak user");
        }
        let http = if email == ADMIN { c.client.clone() } else { c.client_for(&email).await };
        soakers.push(Soaker::new(i, email, admin, http, &c.base));
    }

    // The console's background work, as `server::run` starts it (the poller every second).
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let refresher =
        tokio::spawn(server::refresher::run(c.state.services.clone(), Duration::from_secs(1), stop_rx.clone()));
    let scheduler = tokio::spawn(server::scheduler::run(c.state.services.clone(), stop_rx.clone()));
    let metrics =
        tokio::spawn(server::metrics_worker::run(c.state.services.clone(), Duration::from_secs(60), stop_rx.clone()));
    let step = (MAX_SIMULATED_SECS / (secs * 10)).clamp(1, MAX_STEP_SECS);
    let clock_start = domain::Clock::now(c.clock.as_ref());
    let ticker = {
        let (clock, mut stop) = (c.clock.clone(), stop_rx.clone());
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(TICK);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tokio::select! {
                    _ = ticks.tick() => clock.advance(chrono::Duration::seconds(step as i64)),
                    _ = stop.changed() => return,
                }
            }
        })
    };

    // Only the rows written from here on count (the sign-ins are before).
    let baseline: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM audit_log").fetch_one(&c.state.pool).await.expect("audit");

    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    let clients: Vec<_> = soakers.into_iter().map(|s| tokio::spawn(s.run(deadline))).collect();
    let mut stats = Stats::default();
    for client in clients {
        stats.merge(client.await.expect("a client task panicked"));
    }
    let elapsed = started.elapsed();

    let _ = stop_tx.send(true);
    for (name, task) in
        [("refresher", refresher), ("scheduler", scheduler), ("metrics worker", metrics), ("clock", ticker)]
    {
        tokio::time::timeout(Duration::from_secs(30), task)
            .await
            .unwrap_or_else(|_| panic!("the {name} did not stop within 30 s"))
            .unwrap_or_else(|e| panic!("the {name} panicked: {e}"));
    }
    let simulated = domain::Clock::now(c.clock.as_ref()) - clock_start;

    // What the audit log holds since the start, by actor and action.
    let rows: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT actor, action, COUNT(*) FROM audit_log WHERE id > ? GROUP BY actor, action")
            .bind(baseline)
            .fetch_all(&c.state.pool)
            .await
            .expect("audit");
    let scheduler_acts: i64 = rows.iter().filter(|(actor, _, _)| actor == SCHEDULER).map(|(_, _, n)| n).sum();
    let mut audited: BTreeMap<(String, String), i64> = BTreeMap::new();
    for (actor, action, n) in rows.into_iter().filter(|(actor, _, _)| actor != SCHEDULER) {
        audited.insert((actor, action), n);
    }
    let mut counted: BTreeMap<(String, String), i64> = BTreeMap::new();
    for ((actor, action), n) in &stats.writes {
        counted.insert((actor.clone(), (*action).to_owned()), i64::try_from(*n).expect("a count"));
    }
    let deploys: Vec<(String, i64)> =
        sqlx::query_as("SELECT state, COUNT(*) FROM deploys GROUP BY state ORDER BY state")
            .fetch_all(&c.state.pool)
            .await
            .expect("deploys");
    let integrity: String =
        sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&c.state.pool).await.expect("integrity check");

    // ------------------------------------------------------------------ the figures
    let total: u64 = stats.kinds.values().map(|k| k.latencies_us.len() as u64).sum();
    let mut all_us: Vec<u64> = stats.kinds.values().flat_map(|k| k.latencies_us.iter().copied()).collect();
    all_us.sort_unstable();
    println!(
        "\nSoak: {} clients ({ADMINS} admins, {VIEWERS} viewers) for {:.1} s; the sandbox's clock moved {} min ({step} s every {} ms)",
        ADMINS + VIEWERS,
        elapsed.as_secs_f64(),
        simulated.num_minutes(),
        TICK.as_millis()
    );
    println!(
        "{total} requests, {:.0} req/s, latency p50 {:.1} ms, p99 {:.1} ms",
        total as f64 / elapsed.as_secs_f64(),
        percentile_ms(&all_us, 50),
        percentile_ms(&all_us, 99)
    );
    println!(
        "\n{:<40} {:>7} {:>7} {:>8} {:>6} {:>8} {:>8}  statuses",
        "request", "count", "ok", "refused", "other", "p50 ms", "p99 ms"
    );
    for (kind, k) in &mut stats.kinds {
        k.latencies_us.sort_unstable();
        let statuses: Vec<String> = k.statuses.iter().map(|(s, n)| format!("{s}×{n}")).collect();
        println!(
            "{kind:<40} {:>7} {:>7} {:>8} {:>6} {:>8.1} {:>8.1}  {}",
            k.latencies_us.len(),
            k.ok,
            k.refused,
            k.unexpected,
            percentile_ms(&k.latencies_us, 50),
            percentile_ms(&k.latencies_us, 99),
            statuses.join(" ")
        );
    }
    let mut by_action: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for ((_, action), n) in &counted {
        by_action.entry(action.clone()).or_default().0 += n;
    }
    for ((_, action), n) in &audited {
        by_action.entry(action.clone()).or_default().1 += n;
    }
    println!("\n{:<28} {:>10} {:>10}", "write (audit action)", "successes", "audit rows");
    for (action, (succeeded, rows)) in &by_action {
        println!("{action:<28} {succeeded:>10} {rows:>10}");
    }
    let (succeeded, rows): (i64, i64) = (counted.values().sum(), audited.values().sum());
    println!("{:<28} {succeeded:>10} {rows:>10}", "all");
    println!("scheduler acts (actor `scheduler`, not counted): {scheduler_acts}");
    println!("deploys by state: {deploys:?}");
    let lines = logs.lines();
    let errors: Vec<&String> = lines.iter().filter(|l| l.trim_start().starts_with("ERROR")).collect();
    let warnings: Vec<&String> = lines.iter().filter(|l| l.trim_start().starts_with("WARN")).collect();
    let locked_lines = lines.iter().filter(|l| l.contains("is locked")).count();
    println!(
        "log: {} ERROR, {} WARN lines, {locked_lines} saying the database is locked",
        errors.len(),
        warnings.len()
    );
    for (n, line) in most_frequent(&errors, 15) {
        println!("  {n:>5}× {line}");
    }
    for (n, line) in most_frequent(&warnings, 5) {
        println!("  {n:>5}× {line}");
    }
    if !stats.samples.is_empty() {
        println!("\nunexpected answers (at most {SAMPLES_PER_CLIENT} per client):");
        for sample in stats.samples.iter().take(60) {
            println!("  {sample}");
        }
    }

    // ------------------------------------------------------------------ the promise
    let mut failures = vec![];
    if stats.server_errors > 0 {
        failures.push(format!("{} answers were 5xx", stats.server_errors));
    }
    if stats.transport_errors > 0 {
        failures.push(format!("{} requests failed without an answer", stats.transport_errors));
    }
    if stats.locked > 0 {
        failures.push(format!("{} answers said the database is locked", stats.locked));
    }
    if locked_lines > 0 {
        failures.push(format!("{locked_lines} log lines say the database is locked"));
    }
    if stats.page_errors > 0 {
        failures.push(format!("{} pages showed the internal-error text", stats.page_errors));
    }
    if stats.unexpected > 0 {
        failures.push(format!("{} answers were neither a success nor a refusal the request may get", stats.unexpected));
    }
    if !errors.is_empty() {
        failures.push(format!("{} ERROR lines in the log", errors.len()));
    }
    if counted != audited {
        let keys: std::collections::BTreeSet<&(String, String)> = counted.keys().chain(audited.keys()).collect();
        let differences: Vec<String> = keys
            .into_iter()
            .filter_map(|key| {
                let (want, got) = (counted.get(key).copied().unwrap_or(0), audited.get(key).copied().unwrap_or(0));
                (want != got).then(|| format!("{} {}: {want} successes, {got} audit rows", key.0, key.1))
            })
            .collect();
        failures.push(format!(
            "the audit log does not match the successful writes ({succeeded} successes, {rows} rows): {}",
            differences.join("; ")
        ));
    }
    if integrity != "ok" {
        failures.push(format!("the database's integrity check says {integrity}"));
    }
    assert!(succeeded > 0, "no write succeeded: the soak tested nothing");
    assert!(failures.is_empty(), "the soak failed:\n- {}", failures.join("\n- "));
}
