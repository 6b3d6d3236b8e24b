//! Bad input changes nothing. Every mutating `/api/v1` route (walked from
//! [`server::api::routes`], so a new route is covered) and every mutating server function
//! (walked from [`app::api::ACCESS`]) is sent a battery of bad requests: missing fields, wrong
//! types, huge strings, control characters, SQL, HTML, invalid UTF-8, oversized and deeply
//! nested bodies, empty bodies, wrong content types and bad path parameters. Each must be
//! answered with a 4xx and a message — never a 5xx, never a hang — and must leave the
//! database (every table but the sessions') and the sandbox's directory and services as they
//! were. GETs with bad query strings are refused the same way.
//!
//! Each bad body is a valid one with one thing wrong; the valid ones are sent at the end and
//! must be accepted, so a refusal is known to be the bad part's doing.

mod support;

use app::api::{Access, ACCESS};
use domain::directory::Directory;
use domain::fleet::Fleet;
use domain::Role;
use reqwest::{Client, Method};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;
use support::{TestConsole, VIEWER};

/// The demo app every request aims at.
const SLUG: &str = "sales-dashboard";
const ECR: &str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
/// A colleague the valid bodies invite (unknown until then).
const NEWCOMER: &str = "new.person@example.org";
/// A group of the sandbox's directory that is no role group.
const GROUP: &str = "analysts";
const JSON_TYPE: &str = "application/json";
const FORM_TYPE: &str = "application/x-www-form-urlencoded";
const MIB: usize = 1 << 20;
/// How long one request may take before it counts as a hang.
const PATIENCE: Duration = Duration::from_secs(20);

fn image(tag: &str) -> String {
    format!("{ECR}/{SLUG}:{tag}")
}

/// The bad strings put into every string field, key and path parameter, by label.
fn bad_strings() -> Vec<(&'static str, String)> {
    vec![
        ("huge", "x".repeat(MIB)),
        ("nul", "sales\u{0}dashboard".to_owned()),
        ("escape", "\u{1b}[2J\u{1b}[31mred".to_owned()),
        ("sql", "'; DROP TABLE apps; --".to_owned()),
        ("html", "<script>alert(1)</script>".to_owned()),
    ]
}

// ---------------------------------------------------------------------------------------
// What "nothing changed" means
// ---------------------------------------------------------------------------------------

/// Everything a request could have changed.
#[derive(Debug, Clone, PartialEq)]
struct Snapshot {
    /// Every row of every table but the sessions', as SQL literals, sorted. The audit log's
    /// sign-in rows are kept apart (`audit_log:auth`): a failed sign-in is rightly recorded.
    tables: BTreeMap<String, Vec<String>>,
}

async fn snapshot(c: &TestConsole) -> Snapshot {
    let pool = &c.state.pool;
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table'
           AND name NOT LIKE '%session%' AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .expect("tables");
    let mut tables = BTreeMap::new();
    for table in names {
        let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info(?) ORDER BY cid")
            .bind(&table)
            .fetch_all(pool)
            .await
            .expect("columns");
        let row = columns.iter().map(|c| format!("quote(\"{c}\")")).collect::<Vec<_>>().join(" || ',' || ");
        let parts: Vec<(String, String)> = if table == "audit_log" {
            vec![
                (table.clone(), "WHERE action NOT LIKE 'auth.%'".to_owned()),
                (format!("{table}:auth"), "WHERE action LIKE 'auth.%'".to_owned()),
            ]
        } else {
            vec![(table.clone(), String::new())]
        };
        for (key, filter) in parts {
            let sql = format!("SELECT {row} FROM \"{table}\" {filter}");
            let mut rows: Vec<String> = sqlx::query_scalar(&sql).fetch_all(pool).await.expect("rows");
            rows.sort();
            tables.insert(key, rows);
        }
    }
    // The sandbox's directory: users with their status and groups, and the groups.
    let sandbox = c.sandbox.as_ref();
    let mut directory: Vec<String> =
        Directory::list_groups(sandbox).await.expect("groups").into_iter().map(|g| format!("group {g}")).collect();
    let mut next: Option<String> = None;
    loop {
        let page = Directory::list_users(sandbox, None, 60, next.as_deref()).await.expect("users");
        for u in &page.users {
            let groups = Directory::groups_of(sandbox, &u.username).await.expect("groups of a user");
            directory.push(format!("user {} {} {:?} {groups:?}", u.username, u.email, u.status));
        }
        match page.next {
            Some(token) => next = Some(token),
            None => break,
        }
    }
    directory.sort();
    tables.insert("(sandbox directory)".to_owned(), directory);
    // The sandbox's services, as ECS describes them.
    let slugs: Vec<String> = ["sales-dashboard", "forecast-explorer", "trial-monitor", "ops-report", "new-app"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let mut services: Vec<String> =
        Fleet::describe_services(sandbox, &slugs).await.expect("services").iter().map(|s| format!("{s:?}")).collect();
    services.sort();
    tables.insert("(sandbox services)".to_owned(), services);
    Snapshot { tables }
}

/// What changed from `before` to `after`, table by table (empty: nothing), leaving out the
/// tables in `ignore`.
fn changes(before: &Snapshot, after: &Snapshot, ignore: &[&str]) -> Vec<String> {
    let empty = vec![];
    let mut keys: Vec<&String> = before.tables.keys().chain(after.tables.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = vec![];
    for key in keys {
        if ignore.contains(&key.as_str()) {
            continue;
        }
        let (b, a) = (before.tables.get(key).unwrap_or(&empty), after.tables.get(key).unwrap_or(&empty));
        if a == b {
            continue;
        }
        let added: Vec<String> = a.iter().filter(|r| !b.contains(r)).map(|r| short(r)).collect();
        let removed: Vec<String> = b.iter().filter(|r| !a.contains(r)).map(|r| short(r)).collect();
        out.push(format!("{key}: +{added:?} -{removed:?}"));
    }
    out
}

/// At most 160 characters of `s`, on one line.
fn short(s: &str) -> String {
    let one_line: String = s.chars().map(|c| if c.is_control() { '·' } else { c }).collect();
    match one_line.char_indices().nth(160) {
        Some((at, _)) => format!("{}… ({} bytes)", &one_line[..at], s.len()),
        None => one_line,
    }
}

// ---------------------------------------------------------------------------------------
// Sending bad requests
// ---------------------------------------------------------------------------------------

/// One request, as sent.
#[derive(Debug, Clone)]
struct Req {
    method: Method,
    path: String,
    content_type: Option<&'static str>,
    body: Vec<u8>,
}

impl Req {
    fn new(method: Method, path: impl Into<String>, content_type: Option<&'static str>, body: Vec<u8>) -> Self {
        Self { method, path: path.into(), content_type, body }
    }
}

/// The answer: status and body, or why there was none.
async fn answer(c: &TestConsole, client: &Client, req: &Req) -> Result<(u16, String), String> {
    let mut builder = client.request(req.method.clone(), c.url(&req.path));
    if let Some(content_type) = req.content_type {
        builder = builder.header(reqwest::header::CONTENT_TYPE, content_type);
    }
    if !req.body.is_empty() {
        builder = builder.body(req.body.clone());
    }
    let call = async {
        let res = builder.send().await.map_err(|e| format!("no answer: {e:?}"))?;
        let status = res.status().as_u16();
        let body = res.bytes().await.map_err(|e| format!("the answer broke off: {e:?}"))?;
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    };
    tokio::time::timeout(PATIENCE, call).await.unwrap_or_else(|_| Err(format!("no answer within {PATIENCE:?}")))
}

/// The message of an error answer, if it has one: the API's `error.message`, a server
/// function's encoded error, or plain text.
fn message(path: &str, text: &str) -> Option<String> {
    let found = match serde_json::from_str::<Value>(text) {
        Ok(v) if path.starts_with("/api/") => v["error"]["message"].as_str().map(str::to_owned),
        Ok(Value::Null) => None,
        Ok(Value::String(s)) => Some(s),
        Ok(v) => Some(v.to_string()),
        Err(_) => Some(text.to_owned()),
    };
    found.filter(|m| !m.trim().is_empty())
}

/// A failure known and reported, left out of the assertions: why, or `None`.
fn known(req: &Req, what: &str, status: u16) -> Option<&'static str> {
    let sfn = req.path.starts_with("/sfn/");
    // KNOWN: server functions read a body sent as `text/plain`, or without a content type
    // (it is not checked), and make the change.
    let wrong_type = [WRONG_FORM_TYPE, NO_FORM_TYPE, WRONG_JSON_TYPE, NO_JSON_TYPE].contains(&what);
    if sfn && wrong_type && (200..300).contains(&status) {
        return Some("server function: a body sent as text/plain or without a content type is accepted");
    }
    None
}

/// The cases that send a valid body with the wrong content type, by label: if the server
/// reads it anyway the change is made, so they are sent where a change does no harm.
const WRONG_JSON_TYPE: &str = "the valid body as text/plain";
const NO_JSON_TYPE: &str = "the valid body without a content type";
const JSON_AS_FORM: &str = "the valid body form-encoded";
const WRONG_FORM_TYPE: &str = "the valid form as text/plain";
const NO_FORM_TYPE: &str = "the valid form without a content type";

/// Sends bad requests one after another, checking each answer and what it changed.
struct Battery<'a> {
    c: &'a TestConsole,
    state: Snapshot,
    sent: usize,
    /// How many answers had each status (0: none).
    statuses: BTreeMap<u16, usize>,
    failures: Vec<String>,
    /// The known failures, by reason.
    known: BTreeMap<&'static str, Vec<String>>,
}

impl<'a> Battery<'a> {
    async fn new(c: &'a TestConsole) -> Self {
        Self {
            c,
            state: snapshot(c).await,
            sent: 0,
            statuses: BTreeMap::new(),
            failures: vec![],
            known: BTreeMap::new(),
        }
    }

    /// Sends `req` as `client`; it must be refused with a 4xx and a message, and change
    /// nothing but the tables in `ignore`. Returns the status (0: no answer) and whether
    /// anything changed.
    async fn refused(&mut self, client: &Client, what: &str, req: Req, ignore: &[&str]) -> (u16, bool) {
        self.sent += 1;
        let answered = answer(self.c, client, &req).await;
        let after = snapshot(self.c).await;
        let mut problems = vec![];
        let (status, text) = answered.unwrap_or_else(|e| {
            problems.push(e);
            (0, String::new())
        });
        *self.statuses.entry(status).or_default() += 1;
        if status != 0 && !(400..500).contains(&status) {
            problems.push(format!("answered {status}"));
        }
        if status >= 400 && message(&req.path, &text).is_none() {
            problems.push("the answer has no message".to_owned());
        }
        let changed = changes(&self.state, &after, ignore);
        if !changed.is_empty() {
            problems.push(format!("it changed {}", changed.join("; ")));
        }
        self.state = after;
        if problems.is_empty() {
            return (status, false);
        }
        let line = format!(
            "{} {} [{what}]: {} — answer {status}: {}",
            req.method,
            short(&req.path),
            problems.join(", "),
            short(&text)
        );
        match known(&req, what, status) {
            Some(reason) => self.known.entry(reason).or_default().push(line),
            None => self.failures.push(line),
        }
        if !changed.is_empty() {
            // Let a deploy it started finish, so that it does not decide the next answers.
            self.resync().await;
        }
        (status, !changed.is_empty())
    }

    /// After a change: every deploy finished, and the new state is the one to keep.
    async fn resync(&mut self) {
        settle(self.c).await;
        self.state = snapshot(self.c).await;
    }

    /// Sends the valid request, after its variations with the wrong content type (`wrong`):
    /// those must be refused; the valid one must be accepted. When a variation was accepted
    /// (a known failure) the change is made and the valid request is not sent again.
    async fn prove(&mut self, name: &str, wrong: Vec<(String, Req)>, valid: Req) {
        for (what, req) in wrong {
            let (status, changed) = self.refused(&self.c.client.clone(), &what, req, &[]).await;
            if changed && (200..300).contains(&status) {
                return;
            }
        }
        let (status, text) = answer(self.c, &self.c.client, &valid).await.expect("an answer");
        assert!((200..300).contains(&status), "{name} refused its valid request: {status} {}", short(&text));
        self.resync().await;
    }

    /// Reports the known failures and fails on any other.
    fn finish(self, name: &str) {
        let statuses: Vec<String> = self.statuses.iter().map(|(status, n)| format!("{status}×{n}")).collect();
        let known: usize = self.known.values().map(Vec::len).sum();
        eprintln!("{name}: {} bad requests sent (answers {}), {known} known failures", self.sent, statuses.join(" "));
        for (reason, lines) in &self.known {
            eprintln!("  KNOWN: {reason} ({} requests), e.g.", lines.len());
            for line in lines.iter().take(3) {
                eprintln!("    {line}");
            }
        }
        assert!(
            self.failures.is_empty(),
            "{name}: {} of {} bad requests were not refused cleanly:\n{}",
            self.failures.len(),
            self.sent,
            self.failures.join("\n")
        );
    }
}

/// Every deploy finished, as the refresher sees it while a rollout goes on.
async fn settle(c: &TestConsole) {
    let step = i64::try_from(server::refresher::ROLLOUT_INTERVAL.as_secs()).expect("seconds");
    for _ in 0..150 {
        let running: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM deploys WHERE state = 'IN_PROGRESS'")
            .fetch_one(&c.state.pool)
            .await
            .expect("deploys");
        if running == 0 {
            return;
        }
        c.advance(step);
        server::refresher::refresh_once(&c.state).await.expect("refresh");
    }
    panic!("a deploy was still in progress after 5 minutes");
}

/// The demo console with two finished deploys of the demo app, so that a rollback has a
/// revision to go back to; returns the first deploy's revision.
async fn console_with_history() -> (TestConsole, i64) {
    let c = TestConsole::with_demo().await;
    for tag in ["2026.12.1", "2026.12.2"] {
        let res = c
            .client
            .post(c.url(&format!("/api/v1/apps/{SLUG}/deploys")))
            .json(&json!({ "image": image(tag) }))
            .send()
            .await
            .expect("deploy");
        assert_eq!(res.status(), 202, "{}", res.text().await.unwrap_or_default());
        settle(&c).await;
    }
    let revision: i64 =
        sqlx::query_scalar("SELECT revision FROM deploys WHERE state = 'COMPLETED' ORDER BY id LIMIT 1")
            .fetch_one(&c.state.pool)
            .await
            .expect("a finished deploy");
    (c, revision)
}

// ---------------------------------------------------------------------------------------
// JSON bodies: one valid body, and every way of getting one thing wrong
// ---------------------------------------------------------------------------------------

/// What the test knows of a JSON body.
struct JsonSpec {
    method: Method,
    /// The path with real parameters.
    path: String,
    /// A valid body.
    valid: Value,
    /// JSON pointers of the fields a body cannot do without.
    required: Vec<String>,
    /// Fields whose value may be any text: (pointer, the bad strings it rightly accepts).
    free_text: Vec<(&'static str, &'static [&'static str])>,
    /// Pointers of maps, where any key is a new entry rather than an unknown field.
    maps: Vec<&'static str>,
    /// No body at all is a valid request (the defaults).
    empty_ok: bool,
    /// The top-level object ignores unknown fields (a server function's arguments).
    open_root: bool,
}

impl JsonSpec {
    /// `route` is `METHOD /path` as the route table says it; `path` has real parameters.
    fn new(route: &str, path: &str, valid: Value) -> Self {
        let (method, _) = route.split_once(' ').expect("METHOD /path");
        Self {
            method: Method::from_bytes(method.as_bytes()).expect("method"),
            path: path.to_owned(),
            valid,
            required: vec![],
            free_text: vec![],
            maps: vec![],
            empty_ok: false,
            open_root: false,
        }
    }

    fn required<S: AsRef<str>>(mut self, pointers: &[S]) -> Self {
        self.required = pointers.iter().map(|p| p.as_ref().to_owned()).collect();
        self
    }

    fn free_text(mut self, pointer: &'static str, accepts: &'static [&'static str]) -> Self {
        self.free_text.push((pointer, accepts));
        self
    }

    fn maps(mut self, pointers: &[&'static str]) -> Self {
        self.maps = pointers.to_vec();
        self
    }

    fn empty_ok(mut self) -> Self {
        self.empty_ok = true;
        self
    }

    fn open_root(mut self) -> Self {
        self.open_root = true;
        self
    }

    fn req(&self, content_type: Option<&'static str>, body: Vec<u8>) -> Req {
        Req::new(self.method.clone(), self.path.clone(), content_type, body)
    }

    fn json(&self, body: &Value) -> Req {
        self.req(Some(JSON_TYPE), serde_json::to_vec(body).expect("JSON"))
    }

    /// The bad bodies that are not about one field.
    fn whole_body_cases(&self) -> Vec<(String, Req)> {
        let valid = serde_json::to_vec(&self.valid).expect("JSON");
        let mut cases: Vec<(&str, Option<&'static str>, Vec<u8>)> = vec![];
        if !self.empty_ok {
            cases.push(("no body, no content type", None, vec![]));
            cases.push(("empty JSON body", Some(JSON_TYPE), vec![]));
            cases.push(("only whitespace", Some(JSON_TYPE), b" \n\t ".to_vec()));
        }
        if !self.required.is_empty() {
            cases.push(("{} (every field missing)", Some(JSON_TYPE), b"{}".to_vec()));
        }
        cases.extend([
            ("null", Some(JSON_TYPE), b"null".to_vec()),
            ("array for object", Some(JSON_TYPE), serde_json::to_vec(&json!([self.valid])).expect("JSON")),
            ("string for object", Some(JSON_TYPE), b"\"sales-dashboard\"".to_vec()),
            ("number for object", Some(JSON_TYPE), b"42".to_vec()),
            ("truncated JSON", Some(JSON_TYPE), valid[..valid.len() / 2].to_vec()),
            ("trailing garbage", Some(JSON_TYPE), [valid.as_slice(), b"}{"].concat()),
            ("invalid UTF-8", Some(JSON_TYPE), invalid_utf8(&valid)),
            (
                "5 MB: the valid body and 5 MB of whitespace",
                Some(JSON_TYPE),
                [valid.clone(), vec![b' '; 5 * MIB]].concat(),
            ),
            ("nested 100,000 deep", Some(JSON_TYPE), ["[".repeat(100_000), "]".repeat(100_000)].concat().into_bytes()),
        ]);
        if !self.open_root {
            let mut extra = self.valid.clone();
            if let Some(fields) = extra.as_object_mut() {
                fields.insert("bogus".to_owned(), json!(true));
                cases.push(("an unknown field", Some(JSON_TYPE), serde_json::to_vec(&extra).expect("JSON")));
            }
        }
        cases.into_iter().map(|(what, content_type, body)| (what.to_owned(), self.req(content_type, body))).collect()
    }

    /// The valid body with the wrong content type, or none.
    fn content_type_cases(&self) -> Vec<(String, Req)> {
        let valid = serde_json::to_vec(&self.valid).expect("JSON");
        vec![
            (WRONG_JSON_TYPE.to_owned(), self.req(Some("text/plain"), valid.clone())),
            (NO_JSON_TYPE.to_owned(), self.req(None, valid)),
            (JSON_AS_FORM.to_owned(), self.req(Some(FORM_TYPE), form_of(&self.valid))),
        ]
    }

    /// The valid body with one field wrong, for every field at every depth.
    fn field_cases(&self, bad: &[(&'static str, String)]) -> Vec<(String, Req)> {
        let mut bodies = vec![];
        self.walk(&self.valid, "", bad, &mut bodies);
        bodies.into_iter().map(|(what, body)| (what, self.json(&body))).collect()
    }

    fn walk(&self, node: &Value, ptr: &str, bad: &[(&'static str, String)], out: &mut Vec<(String, Value)>) {
        let with = |value: Value| {
            let mut body = self.valid.clone();
            *body.pointer_mut(ptr).expect("a field of the valid body") = value;
            body
        };
        if !ptr.is_empty() {
            if self.required.iter().any(|p| p == ptr) {
                out.push((format!("{ptr} missing"), without(&self.valid, ptr)));
                out.push((format!("{ptr} null"), with(Value::Null)));
            }
            let wrong_types = match node {
                Value::String(_) => vec![json!(42), json!(true), json!([]), json!({})],
                Value::Number(_) => vec![
                    json!("1"),
                    json!(true),
                    json!([1]),
                    json!({}),
                    json!(1.5),
                    json!(-1),
                    json!(i64::MAX),
                    json!(1e30),
                ],
                Value::Bool(_) => vec![json!("yes"), json!(1), json!([])],
                Value::Array(_) => vec![json!({}), json!("mon"), json!(42)],
                Value::Object(_) => vec![json!([]), json!("x"), json!(42)],
                Value::Null => vec![],
            };
            for value in wrong_types {
                out.push((format!("{ptr} = {value}"), with(value)));
            }
            if node.is_string() {
                let accepted = self.free_text.iter().find(|(p, _)| *p == ptr).map_or(&[][..], |(_, a)| *a);
                for (label, s) in bad {
                    if !accepted.contains(label) {
                        out.push((format!("{ptr} = {label}"), with(json!(s))));
                    }
                }
            }
        }
        match node {
            Value::Object(fields) => {
                for (key, child) in fields {
                    assert!(!key.contains(['/', '~']), "keep JSON pointers simple: {key}");
                    self.walk(child, &format!("{ptr}/{key}"), bad, out);
                }
                // Every key misspelt as a bad string.
                for key in fields.keys() {
                    for (label, s) in bad {
                        let mut body = self.valid.clone();
                        let object = body.pointer_mut(ptr).and_then(Value::as_object_mut).expect("an object");
                        let value = object.remove(key).expect("the key");
                        object.insert(s.clone(), value);
                        out.push((format!("{ptr}/{key} renamed {label}"), body));
                    }
                }
                if !ptr.is_empty() && !self.maps.contains(&ptr) {
                    out.push((format!("{ptr}/bogus added"), with(with_bogus(node))));
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    self.walk(child, &format!("{ptr}/{i}"), bad, out);
                }
            }
            _ => {}
        }
    }
}

fn with_bogus(object: &Value) -> Value {
    let mut object = object.clone();
    object.as_object_mut().expect("an object").insert("bogus".to_owned(), json!(true));
    object
}

/// `body` without the field at `ptr`.
fn without(body: &Value, ptr: &str) -> Value {
    let mut body = body.clone();
    let (parent, last) = ptr.rsplit_once('/').expect("a pointer");
    match body.pointer_mut(parent).expect("the parent") {
        Value::Object(fields) => {
            fields.remove(last);
        }
        Value::Array(items) => {
            items.remove(last.parse::<usize>().expect("an index"));
        }
        _ => panic!("{ptr} is in neither an object nor an array"),
    }
    body
}

/// `json` with two bytes that are not UTF-8 at the start of its first string value (or as
/// a key, when it has none).
fn invalid_utf8(json: &[u8]) -> Vec<u8> {
    let bad = [0xff, 0xfe];
    match json.windows(2).position(|w| w == b":\"") {
        Some(at) => [&json[..at + 2], &bad[..], &json[at + 2..]].concat(),
        None => [&b"{\""[..], &bad[..], b"\":0,", &json[1..]].concat(),
    }
}

/// Percent-encodes everything but letters, digits and `-._~`.
fn encode(raw: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len());
    for &b in raw {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The top-level fields of `body` as a form.
fn form_of(body: &Value) -> Vec<u8> {
    let Some(fields) = body.as_object() else { return b"x=1".to_vec() };
    let pairs = fields.iter().map(|(k, v)| {
        let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
        format!("{}={}", encode(k.as_bytes()), encode(v.as_bytes()))
    });
    pairs.collect::<Vec<_>>().join("&").into_bytes()
}

// ---------------------------------------------------------------------------------------
// /api/v1
// ---------------------------------------------------------------------------------------

/// Mutating routes that read no body: bad bodies sent to them with a real path would be
/// ignored and the change made, so they get bad path parameters (with a junk body) only.
const NO_BODY: &[&str] = &[
    "POST /api/v1/users/{username}/resend",
    "POST /api/v1/users/{username}/disable",
    "POST /api/v1/users/{username}/enable",
    "DELETE /api/v1/users/{username}",
    "DELETE /api/v1/apps/{slug}",
    "DELETE /api/v1/apps/{slug}/schedule",
    "DELETE /api/v1/apps/{slug}/override",
];

/// A route's path with real parameters.
fn real_path(template: &str) -> String {
    template.replace("{slug}", SLUG).replace("{username}", VIEWER).replace("{id}", "1")
}

/// Office hours in Berlin, with an exception: a valid schedule.
fn schedule_doc() -> Value {
    json!({
        "timezone": "Europe/Berlin",
        "windows": [{ "days": ["mon", "tue"], "start": "08:00", "end": "18:00" }],
        "on_count": 1,
        "off_count": 0,
        "exceptions": [{ "date": "2026-12-24", "off": true }],
        "mode": "enforced",
        "enabled": true,
    })
}

const SCHEDULE_REQUIRED: &[&str] =
    &["/timezone", "/windows/0/days", "/windows/0/start", "/windows/0/end", "/exceptions/0/date"];

/// The valid body of a route, and what is known of it; `None` for a route this test does
/// not know (it gets the whole-body cases on a body of `{}`).
fn api_spec(route: &str, revision: i64) -> Option<JsonSpec> {
    let path = real_path(route.split_once(' ').expect("METHOD /path").1);
    let spec = |valid: Value| JsonSpec::new(route, &path, valid);
    Some(match route {
        "POST /api/v1/users" => spec(json!({ "email": NEWCOMER, "group": GROUP })).required(&["/email"]),
        "POST /api/v1/apps" => spec(json!({ "slug": "new-app", "name": "New app", "image": format!("{ECR}/new-app:1.0") }))
            // Absent, they are the empty defaults, which are refused.
            .required(&["/slug", "/name", "/image"])
            .free_text("/name", &["sql", "html"]),
        "PATCH /api/v1/apps/{slug}" => spec(json!({
            "name": "Renamed",
            "image": image("2026.12.9"),
            "cpu": 512,
            "memory": 1024,
            "architecture": "arm64",
            "port": 8080,
            "env": { "LOG_LEVEL": "info" },
            "task_role_arn": "arn:aws:iam::123456789012:role/sales",
            "health_check_path": "/health",
            "health_check_tool": "curl",
            "desired_count": 1,
            "tags": { "team": "analytics" },
            "target_group_arn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/sales/0123456789abcdef",
        }))
        .free_text("/name", &["sql", "html"])
        // A variable's value is the app's business: anything on one line without NUL.
        .free_text("/env/LOG_LEVEL", &["escape", "sql", "html"])
        .maps(&["/env", "/tags"]),
        "POST /api/v1/apps/{slug}/deploys" => spec(json!({ "image": image("2026.12.3") })).empty_ok(),
        "POST /api/v1/apps/{slug}/rollback" => spec(json!({ "revision": revision })).required(&["/revision"]),
        "PUT /api/v1/apps/{slug}/schedule" => spec(schedule_doc()).required(SCHEDULE_REQUIRED),
        "POST /api/v1/apps/{slug}/override" => {
            spec(json!({ "desired": 2, "until": "2h" })).required(&["/desired", "/until"])
        }
        _ => return None,
    })
}

/// Bad values for a path parameter: the bad strings (the huge one as long as a URI may be:
/// 1 MB cannot even be sent), bytes that are not UTF-8, and a name nothing has.
fn bad_params() -> Vec<(&'static str, String)> {
    let mut params: Vec<(&'static str, String)> = bad_strings()
        .into_iter()
        .map(|(label, s)| match label {
            "huge" => ("long (60,000 characters)", "x".repeat(60_000)),
            _ => (label, encode(s.as_bytes())),
        })
        .collect();
    params.push(("invalid UTF-8", "%FF%FE".to_owned()));
    params.push(("unknown", "no-such-thing".to_owned()));
    params
}

#[tokio::test]
async fn every_api_route_refuses_bad_input_and_changes_nothing() {
    let (c, revision) = console_with_history().await;
    let routes = server::api::routes();
    let keys: Vec<String> = routes.iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    for listed in NO_BODY {
        assert!(keys.iter().any(|k| k == listed), "{listed} is in NO_BODY but is no route");
    }
    let mut battery = Battery::new(&c).await;
    let bad = bad_strings();
    let mut covered = 0;
    for route in &routes {
        // GETs change nothing and take no body; their query strings are tested below.
        if route.method == Method::GET {
            continue;
        }
        covered += 1;
        let key = format!("{} {}", route.method, route.path);
        let spec = api_spec(&key, revision);
        if !NO_BODY.contains(&key.as_str()) {
            let generic = JsonSpec::new(&key, &real_path(route.path), json!({}));
            let spec = spec.as_ref().unwrap_or(&generic);
            let mut cases = spec.whole_body_cases();
            cases.extend(spec.field_cases(&bad));
            if !API_PROOFS.contains(&key.as_str()) {
                cases.extend(spec.content_type_cases());
            }
            for (what, req) in cases {
                battery.refused(&c.client, &what, req, &[]).await;
            }
        }
        // Bad path parameters, with the valid body (or junk, for a route that reads none).
        let (content_type, body) = match &spec {
            Some(spec) => (Some(JSON_TYPE), serde_json::to_vec(&spec.valid).expect("JSON")),
            None => (Some(JSON_TYPE), b"{\"bogus\": [".to_vec()),
        };
        for param in ["{slug}", "{username}", "{id}"] {
            if !route.path.contains(param) {
                continue;
            }
            for (label, value) in bad_params() {
                let path = real_path(&route.path.replace(param, &value));
                let req = Req::new(route.method.clone(), path, content_type, body.clone());
                battery.refused(&c.client, &format!("{param} = {label}"), req, &[]).await;
            }
        }
    }
    assert!(covered >= 14, "only {covered} mutating routes");
    // The valid bodies are accepted (so every refusal above was the bad part's doing), and
    // refused with the wrong content type.
    for key in API_PROOFS {
        let spec = api_spec(key, revision).expect("a spec");
        battery.prove(key, spec.content_type_cases(), spec.json(&spec.valid)).await;
    }
    battery.finish("api");
}

/// The routes whose valid body is sent at the end, in an order where each makes sense.
const API_PROOFS: &[&str] = &[
    "POST /api/v1/users",
    "POST /api/v1/apps",
    "PATCH /api/v1/apps/{slug}",
    "PUT /api/v1/apps/{slug}/schedule",
    "POST /api/v1/apps/{slug}/override",
    "POST /api/v1/apps/{slug}/deploys",
    "POST /api/v1/apps/{slug}/rollback",
];

#[tokio::test]
async fn bad_query_strings_are_refused_and_change_nothing() {
    let c = TestConsole::with_demo().await;
    let mut battery = Battery::new(&c).await;
    let sql = encode(b"'; DROP TABLE apps; --");
    let transitions = format!("/api/v1/apps/{SLUG}/schedule/transitions");
    let paths = [
        "/api/v1/costs?from=x".to_owned(),
        "/api/v1/costs?to=2026-13-45".to_owned(),
        "/api/v1/costs?from=2026-12-01&to=2026-11-01".to_owned(),
        format!("/api/v1/costs?from={sql}"),
        "/api/v1/costs?bogus=1".to_owned(),
        "/api/v1/costs.csv?from=%FF%FE".to_owned(),
        "/api/v1/costs.csv?to=%00".to_owned(),
        format!("{transitions}?count=-1"),
        format!("{transitions}?count=abc"),
        format!("{transitions}?count=99999999999999999999"),
        format!("{transitions}?from=x"),
        format!("{transitions}?from=%00"),
        format!("{transitions}?bogus=1"),
        "/api/v1/audit?before=abc".to_owned(),
        "/api/v1/audit?before=99999999999999999999".to_owned(),
        "/api/v1/audit?from=nope".to_owned(),
        "/api/v1/audit?bogus=1".to_owned(),
        format!("/api/v1/audit.csv?to={sql}"),
        "/api/v1/audit.csv?before=1.5".to_owned(),
        "/api/v1/users?bogus=1".to_owned(),
        "/api/v1/deploys/abc".to_owned(),
        "/api/v1/deploys/99999999999999999999".to_owned(),
        format!("/api/v1/apps/{sql}"),
        format!("/api/v1/apps/{}/deploys", encode(b"<script>alert(1)</script>")),
        "/api/v1/apps/%FF%FE/schedule".to_owned(),
    ];
    for path in paths {
        battery.refused(&c.client, "bad query", Req::new(Method::GET, path, None, vec![]), &[]).await;
    }
    battery.finish("queries");
}

// ---------------------------------------------------------------------------------------
// Server functions
// ---------------------------------------------------------------------------------------

/// A server function taking form fields.
struct FormSpec {
    endpoint: String,
    /// Valid fields (but for the functions whose every call is refused, see [`SFN_PROOFS`]).
    fields: Vec<(&'static str, String)>,
    /// Fields that may be left out.
    optional: &'static [&'static str],
    /// Fields that are numbers or booleans.
    typed: &'static [&'static str],
    /// Fields whose value may be any text: (field, the bad strings it rightly accepts).
    free_text: &'static [(&'static str, &'static [&'static str])],
}

impl FormSpec {
    fn new(endpoint: &str, fields: &[(&'static str, &str)]) -> Self {
        Self {
            endpoint: endpoint.to_owned(),
            fields: fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
            optional: &[],
            typed: &[],
            free_text: &[],
        }
    }

    fn req(&self, content_type: Option<&'static str>, body: Vec<u8>) -> Req {
        Req::new(Method::POST, format!("/sfn/{}", self.endpoint), content_type, body)
    }

    fn form(&self, fields: &[(String, Vec<u8>)]) -> Req {
        let body = fields.iter().map(|(k, v)| format!("{}={}", encode(k.as_bytes()), encode(v))).collect::<Vec<_>>();
        self.req(Some(FORM_TYPE), body.join("&").into_bytes())
    }

    fn owned(&self) -> Vec<(String, Vec<u8>)> {
        self.fields.iter().map(|(k, v)| ((*k).to_owned(), v.clone().into_bytes())).collect()
    }

    fn valid(&self) -> Req {
        self.form(&self.owned())
    }

    fn cases(&self, bad: &[(&'static str, String)]) -> Vec<(String, Req)> {
        let mut out = vec![];
        for (i, (key, _)) in self.fields.iter().enumerate() {
            let replaced = |value: &[u8]| {
                let mut fields = self.owned();
                fields[i].1 = value.to_vec();
                self.form(&fields)
            };
            if !self.optional.contains(key) {
                let mut fields = self.owned();
                fields.remove(i);
                out.push((format!("{key} missing"), self.form(&fields)));
            }
            if self.typed.contains(key) {
                for value in ["abc", "", "1.5", "99999999999999999999", "[]"] {
                    out.push((format!("{key} = {value:?}"), replaced(value.as_bytes())));
                }
            } else {
                let accepted = self.free_text.iter().find(|(f, _)| f == key).map_or(&[][..], |(_, a)| *a);
                for (label, s) in bad {
                    if !accepted.contains(label) {
                        out.push((format!("{key} = {label}"), replaced(s.as_bytes())));
                    }
                }
            }
            // A list or a map where a value belongs.
            for (shape, suffix) in [("a list", "[0]"), ("a map", "[a]")] {
                let mut fields = self.owned();
                fields[i].0 = format!("{key}{suffix}");
                out.push((format!("{key} as {shape}"), self.form(&fields)));
            }
        }
        // The valid fields as JSON, in raw bytes that are not UTF-8, too large…
        let as_json: serde_json::Map<String, Value> =
            self.fields.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect();
        let first = self.fields.first().map(|(k, _)| encode(k.as_bytes())).unwrap_or_else(|| "x".to_owned());
        let mut raw_utf8 = format!("{first}=").into_bytes();
        raw_utf8.extend([0xff, 0xfe]);
        let huge_at = self.fields.iter().position(|(k, _)| !self.typed.contains(k));
        let mut whole: Vec<(&str, Option<&'static str>, Vec<u8>)> = vec![
            ("empty body", Some(FORM_TYPE), vec![]),
            ("no body, no content type", None, vec![]),
            ("only an unknown field", Some(FORM_TYPE), b"bogus=1".to_vec()),
            ("the fields as JSON", Some(JSON_TYPE), serde_json::to_vec(&as_json).expect("JSON")),
            ("invalid UTF-8, raw", Some(FORM_TYPE), raw_utf8),
            ("invalid UTF-8, percent-encoded", Some(FORM_TYPE), format!("{first}=%FF%FE").into_bytes()),
        ];
        if let Some(at) = huge_at {
            let mut fields = self.owned();
            fields[at].1 = vec![b'x'; 5 * MIB];
            whole.push(("5 MB in one field", Some(FORM_TYPE), self.form(&fields).body));
        }
        if self.fields.iter().any(|(k, _)| k.starts_with("form[")) {
            let mut fields: Vec<(String, Vec<u8>)> =
                self.owned().into_iter().filter(|(k, _)| !k.starts_with("form[")).collect();
            fields.push(("form".to_owned(), b"abc".to_vec()));
            whole.push(("form as a string", Some(FORM_TYPE), self.form(&fields).body));
        }
        out.extend(whole.into_iter().map(|(what, content_type, body)| (what.to_owned(), self.req(content_type, body))));
        out
    }

    /// The valid form with the wrong content type, or none.
    fn content_type_cases(&self) -> Vec<(String, Req)> {
        let valid = self.valid().body;
        vec![
            (WRONG_FORM_TYPE.to_owned(), self.req(Some("text/plain"), valid.clone())),
            (NO_FORM_TYPE.to_owned(), self.req(None, valid)),
        ]
    }
}

/// The app form as the pages send it.
fn app_form(slug: &str, name: &str, image: &str) -> Vec<(&'static str, String)> {
    [
        ("form[slug]", slug),
        ("form[name]", name),
        ("form[image]", image),
        ("form[size]", "512/1024"),
        ("form[architecture]", "x86_64"),
        ("form[port]", "3838"),
        ("form[env]", "LOG_LEVEL=info"),
        ("form[task_role_arn]", ""),
        ("form[execution_role_arn]", ""),
        ("form[health_check_path]", "/"),
        ("form[health_check_tool]", ""),
        ("form[desired_count]", "1"),
        ("form[tags]", "team=analytics"),
        ("form[target_group_arn]", ""),
    ]
    .iter()
    .map(|(k, v)| (*k, (*v).to_owned()))
    .collect()
}

/// Server functions that change nothing (or only the caller's session).
const READS: &[&str] = &["tokens", "whoami", "sign_out"];

/// Server functions of the sign-in machinery: a failed sign-in is rightly recorded.
const SIGN_IN: &[&str] = &["sign_in", "set_new_password"];

/// What is known of each mutating server function taking form fields; `None` for one this
/// test does not know (it gets the whole-body cases).
fn form_spec(endpoint: &str, version: &str, revision: &str) -> Option<FormSpec> {
    let spec = FormSpec::new;
    Some(match endpoint {
        "create_app" => FormSpec {
            fields: app_form("new-app", "New app", &format!("{ECR}/new-app:1.0")),
            free_text: &[("form[name]", &["sql", "html"])],
            ..spec(endpoint, &[])
        },
        "update_app" => {
            let mut fields = vec![("slug", SLUG.to_owned()), ("version", version.to_owned())];
            fields.extend(app_form(SLUG, "Renamed", &image("2026.12.9")));
            FormSpec { fields, free_text: &[("form[name]", &["sql", "html"])], ..spec(endpoint, &[]) }
        }
        "delete_app" => spec(endpoint, &[("slug", SLUG), ("confirm", SLUG)]),
        "deploy_app" => FormSpec {
            optional: &["image"],
            // An idempotency key is any visible ASCII.
            free_text: &[("key", &["html"])],
            ..spec(endpoint, &[("slug", SLUG), ("image", &image("2026.12.4")), ("key", "bad-input-deploy")])
        },
        "rollback_app" => FormSpec {
            typed: &["revision"],
            free_text: &[("key", &["html"])],
            ..spec(endpoint, &[("slug", SLUG), ("revision", revision), ("key", "bad-input-rollback")])
        },
        "delete_schedule" | "clear_override" => spec(endpoint, &[("slug", SLUG)]),
        "invite_person" => {
            FormSpec { optional: &["group"], ..spec(endpoint, &[("email", NEWCOMER), ("group", GROUP)]) }
        }
        "resend_invitation" => spec(endpoint, &[("username", NEWCOMER)]),
        "set_person_enabled" => {
            FormSpec { typed: &["enabled"], ..spec(endpoint, &[("username", VIEWER), ("enabled", "false")]) }
        }
        "delete_person" => spec(endpoint, &[("username", VIEWER), ("confirm", VIEWER)]),
        "set_person_group" => FormSpec {
            typed: &["member"],
            ..spec(endpoint, &[("username", VIEWER), ("group", GROUP), ("member", "true")])
        },
        "create_token" => spec(endpoint, &[("name", "ci-bot"), ("role", "viewer")]),
        "revoke_token" => FormSpec { typed: &["id"], ..spec(endpoint, &[("id", "1")]) },
        // Wrong credentials: every variation is refused.
        "sign_in" => spec(endpoint, &[("email", "nobody@example.org"), ("password", "Wrong-pass-1"), ("next", "/")]),
        // No sign-in is waiting for a new password: every variation is refused.
        "set_new_password" => {
            spec(endpoint, &[("password", "New-pass-2026!"), ("confirm", "New-pass-2026!"), ("next", "/")])
        }
        _ => return None,
    })
}

/// The server functions taking JSON.
fn json_spec(endpoint: &str) -> Option<JsonSpec> {
    let route = format!("POST /sfn/{endpoint}");
    let path = format!("/sfn/{endpoint}");
    Some(match endpoint {
        "save_schedule" => {
            let required: Vec<String> = ["/slug", "/doc"]
                .into_iter()
                .map(str::to_owned)
                .chain(SCHEDULE_REQUIRED.iter().map(|p| format!("/doc{p}")))
                .collect();
            JsonSpec::new(&route, &path, json!({ "slug": SLUG, "doc": schedule_doc() })).required(&required).open_root()
        }
        "set_override" => {
            JsonSpec::new(&route, &path, json!({ "slug": SLUG, "request": { "desired": 2, "until": "2h" } }))
                .required(&["/slug", "/request", "/request/desired", "/request/until"])
                .open_root()
        }
        _ => return None,
    })
}

#[tokio::test]
async fn every_server_function_refuses_bad_input_and_changes_nothing() {
    let (c, revision) = console_with_history().await;
    let (_, detail) = c.call(&c.client, "app_detail", &[("slug", SLUG)]).await;
    let version = detail["updated_at"].as_str().expect("the app's version").to_owned();
    let revision = revision.to_string();
    let bad = bad_strings();
    let mut battery = Battery::new(&c).await;
    let mut covered = vec![];
    // The sign-in functions last: their failures soon lock the client's address out (429).
    let mut endpoints: Vec<&str> = ACCESS
        .iter()
        .filter(|(name, access)| match access {
            Access::Role(Role::Admin) | Access::Public => !READS.contains(name),
            // Viewers change nothing.
            Access::Role(_) => false,
        })
        .map(|(name, _)| *name)
        .collect();
    endpoints.sort_by_key(|name| SIGN_IN.contains(name));
    for endpoint in endpoints {
        covered.push(endpoint);
        let (client, ignore): (Client, &[&str]) =
            if SIGN_IN.contains(&endpoint) { (c.new_client(), &["audit_log:auth"]) } else { (c.client.clone(), &[]) };
        let proved = SFN_PROOFS.contains(&endpoint);
        let cases = match (json_spec(endpoint), form_spec(endpoint, &version, &revision)) {
            (Some(spec), _) => {
                let mut cases = spec.whole_body_cases();
                cases.extend(spec.field_cases(&bad));
                if !proved {
                    cases.extend(spec.content_type_cases());
                }
                cases
            }
            (None, Some(spec)) => {
                let mut cases = spec.cases(&bad);
                if !proved {
                    cases.extend(spec.content_type_cases());
                }
                cases
            }
            (None, None) => {
                let spec = FormSpec::new(endpoint, &[]);
                let mut cases = spec.cases(&bad);
                cases.extend(spec.content_type_cases());
                cases
            }
        };
        for (what, req) in cases {
            battery.refused(&client, &what, req, ignore).await;
        }
    }
    assert!(covered.len() >= 18, "{covered:?}");
    // The valid calls are accepted (so every refusal above was the bad part's doing), and
    // refused with the wrong content type.
    for endpoint in SFN_PROOFS {
        let (wrong, valid) = match (json_spec(endpoint), form_spec(endpoint, &version, &revision)) {
            (Some(spec), _) => (spec.content_type_cases(), spec.json(&spec.valid)),
            (None, Some(spec)) => (spec.content_type_cases(), spec.valid()),
            (None, None) => unreachable!("{endpoint} has a spec"),
        };
        battery.prove(endpoint, wrong, valid).await;
    }
    battery.finish("server functions");
}

/// The server functions whose valid call is made at the end, in an order where each makes
/// sense. The others are refused whatever they are sent: `sign_in` (wrong credentials) and
/// `set_new_password` (no sign-in waits for one).
const SFN_PROOFS: &[&str] = &[
    "create_token",
    "revoke_token",
    "invite_person",
    "resend_invitation",
    "set_person_group",
    "set_person_enabled",
    "delete_person",
    "create_app",
    "update_app",
    "save_schedule",
    "set_override",
    "clear_override",
    "delete_schedule",
    "deploy_app",
    "rollback_app",
    "delete_app",
];

// ---------------------------------------------------------------------------------------
// Free text
// ---------------------------------------------------------------------------------------

/// SQL and HTML are fine in a display name or a variable's value: stored as text, never run,
/// and escaped on the page.
#[tokio::test]
async fn sql_and_html_in_free_text_are_stored_as_text_and_never_run() {
    let c = TestConsole::with_demo().await;
    let path = c.url(&format!("/api/v1/apps/{SLUG}"));
    for text in ["'; DROP TABLE apps; --", "<script>alert(1)</script>"] {
        let body = json!({ "name": text, "env": { "NOTE": text } });
        let res = c.client.patch(&path).json(&body).send().await.expect("patch");
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap_or_default());
        let app: Value = c.client.get(&path).send().await.expect("get").json().await.expect("JSON");
        assert_eq!((&app["name"], &app["env"]["NOTE"]), (&json!(text), &json!(text)));
        let apps: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM apps").fetch_one(&c.state.pool).await.expect("apps");
        assert_eq!(apps, 4, "the registry is whole");
        let page = c.get("/").await.text().await.expect("the fleet page");
        assert!(!page.contains("<script>alert(1)</script>"), "the name reached the page unescaped");
        if text.starts_with('<') {
            assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the page shows the name, escaped");
        }
    }
}
