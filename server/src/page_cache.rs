//! A render cache for the Fleet page, the page everyone keeps open (and for `GET
//! /api/v1/apps`, which scripts poll).
//!
//! Rendering it for 200 apps costs a few milliseconds (four queries, 200 rows of HTML, the
//! same data again for hydration). Many people looking at it in the same second see the
//! same bytes, so the rendered page is kept and served again while nothing can have
//! changed it:
//!
//! - the same signed-in principal (name and role: the page shows admin-only actions);
//! - the same path and query;
//! - the same second on the console's clock (the page shows ages such as "3 s ago");
//! - no write to the database since: SQLite's `PRAGMA data_version`, read on a connection of
//!   our own that never writes, changes whenever any other connection (the poller, a deploy,
//!   an admin's edit, another console on the same file) commits.
//!
//! One render at a time per key. While it runs, the others asking for the same page are
//! given the previous second's render when nothing was written since (only its ages are a
//! second behind); with a write since, they wait for the new render.
//!
//! Only successful HTML or JSON answers to signed-in `GET`s are kept; everything else passes
//! through.
//! A database that cannot be watched (in memory) turns the cache off.

use crate::AppState;
use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use service::auth::RequestCtx;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, SqliteConnection};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The paths whose answers are cached: the Fleet page, and the app list CI jobs and
/// dashboards poll.
const CACHED_PATHS: &[&str] = &["/", "/api/v1/apps"];
/// At most this many renders are kept (one per principal looking); the oldest goes first.
const MAX_ENTRIES: usize = 32;
/// A page larger than this is not kept.
const MAX_BODY: usize = 4 * 1024 * 1024;

#[derive(Clone)]
pub struct PageCache {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    watch: tokio::sync::Mutex<SqliteConnection>,
    entries: Mutex<HashMap<Key, Entry>>,
    /// One render at a time per key: when a second turns, the requests that arrive together
    /// wait for the first one's render instead of all rendering the same page.
    renders: Mutex<HashMap<Key, Arc<tokio::sync::Mutex<()>>>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    principal: String,
    role: String,
    path_and_query: String,
}

struct Entry {
    data_version: i64,
    second: i64,
    headers: HeaderMap,
    body: Bytes,
}

impl PageCache {
    /// Watches the database `options` open; an in-memory or unreachable one leaves the cache off.
    pub async fn new(options: &SqliteConnectOptions) -> Self {
        let inner = match watch_connection(options).await {
            Some(conn) => Some(Arc::new(Inner {
                watch: tokio::sync::Mutex::new(conn),
                entries: Mutex::default(),
                renders: Mutex::default(),
            })),
            None => {
                tracing::info!("page cache off: the database cannot be watched for changes");
                None
            }
        };
        Self { inner }
    }

    /// A cache that keeps nothing.
    pub fn off() -> Self {
        Self { inner: None }
    }
}

async fn watch_connection(options: &SqliteConnectOptions) -> Option<SqliteConnection> {
    if options.to_url_lossy().query_pairs().any(|(key, value)| key == "mode" && value == "memory") {
        return None;
    }
    options.clone().disable_statement_logging().connect().await.ok()
}

impl Inner {
    /// The render kept for `key` at `version`, made in `oldest_second..=second`.
    fn lookup(&self, key: &Key, version: i64, oldest_second: i64, second: i64) -> Option<Response> {
        let entries = self.entries.lock().expect("page cache lock");
        let entry =
            entries.get(key).filter(|e| e.data_version == version && (oldest_second..=second).contains(&e.second))?;
        let mut res = Response::new(Body::from(entry.body.clone()));
        *res.headers_mut() = entry.headers.clone();
        Some(res)
    }

    fn render_lock(&self, key: &Key) -> Arc<tokio::sync::Mutex<()>> {
        let mut renders = self.renders.lock().expect("page cache lock");
        if renders.len() > MAX_ENTRIES {
            renders.retain(|_, lock| Arc::strong_count(lock) > 1);
        }
        renders.entry(key.clone()).or_default().clone()
    }

    async fn data_version(&self) -> Option<i64> {
        let mut conn = self.watch.lock().await;
        sqlx::query_scalar::<_, i64>("PRAGMA data_version").fetch_one(&mut *conn).await.ok()
    }
}

#[derive(Clone)]
pub struct CacheState {
    pub app: AppState,
    pub cache: PageCache,
}

/// The middleware: inside the gatekeeper (it reads the principal the gate found).
pub async fn serve(State(cs): State<CacheState>, req: Request, next: Next) -> Response {
    let Some(inner) = cs.cache.inner.clone() else { return next.run(req).await };
    if req.method() != Method::GET || !CACHED_PATHS.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    let Some(principal) = req.extensions().get::<RequestCtx>().and_then(|c| c.principal.clone()) else {
        return next.run(req).await;
    };
    let key = Key {
        principal: principal.name.clone(),
        role: principal.role.as_str().to_owned(),
        path_and_query: req.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default(),
    };
    let Some(version) = inner.data_version().await else { return next.run(req).await };
    let second = cs.app.clock.now().timestamp();
    if let Some(hit) = inner.lookup(&key, version, second, second) {
        return hit;
    }
    let lock = inner.render_lock(&key);
    let _rendering = match lock.try_lock() {
        Ok(rendering) => rendering,
        Err(_) => {
            // Another request renders this second's page: the previous second's will do.
            if let Some(recent) = inner.lookup(&key, version, second - 1, second) {
                return recent;
            }
            lock.lock().await
        }
    };
    if let Some(hit) = inner.lookup(&key, version, second, second) {
        return hit;
    }

    let res = next.run(req).await;
    let cacheable = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html") || v.starts_with("application/json"));
    if res.status() != StatusCode::OK || !cacheable || res.headers().contains_key(header::SET_COOKIE) {
        return res;
    }
    let (parts, body) = res.into_parts();
    let body = match to_bytes(body, MAX_BODY).await {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(error = %e, "an answer could not be read for the cache");
            return Response::from_parts(parts, Body::empty());
        }
    };
    {
        let mut entries = inner.entries.lock().expect("page cache lock");
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
            if let Some(oldest) = entries.iter().min_by_key(|(_, e)| e.second).map(|(k, _)| k.clone()) {
                entries.remove(&oldest);
            }
        }
        entries
            .insert(key, Entry { data_version: version, second, headers: parts.headers.clone(), body: body.clone() });
    }
    Response::from_parts(parts, Body::from(body))
}
