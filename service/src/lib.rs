//! ShinyFleet's use cases over SQLite and the cloud ports: one module per table at the bottom
//! (its queries), the use cases above them (register an app, deploy, a scheduler pass, a cost
//! report, invite a colleague, …) and the page and API data they assemble.
//!
//! Pages (through server functions), the HTTP API and the background workers all call this
//! crate; it knows neither HTTP nor Leptos. Every function returns [`Error`]; the web layers
//! map it to a status in one place each.

pub mod apps;
pub mod audit;
pub mod auth;
pub mod costs;
pub mod deploys;
pub mod metrics;
pub mod overview;
pub mod people;
pub mod schedules;
pub mod tasks;
pub mod tokens;

mod error;
pub use error::{on_constraint, Error};

use base64::Engine;
use domain::definition::Network;
use domain::directory::Directory;
use domain::fleet::Fleet;
use domain::logs::Logs;
use domain::metrics::Metrics;
use domain::registry::Registry;
use domain::view::ConsoleInfo;
use domain::Clock;
use domain::IdentityVerifier;
use ring::rand::{SecureRandom, SystemRandom};
use sqlx::SqlitePool;
use std::sync::Arc;

/// The cloud the console talks to: one adapter per port.
#[derive(Clone)]
pub struct Cloud {
    pub fleet: Arc<dyn Fleet>,
    pub directory: Arc<dyn Directory>,
    pub metrics: Arc<dyn Metrics>,
    /// Pins ECR images' tags to digests when deploying.
    pub registry: Arc<dyn Registry>,
    /// The apps' container logs.
    pub logs: Arc<dyn Logs>,
    /// Checks the ID tokens the directory issues.
    pub identity: Arc<dyn IdentityVerifier>,
}

/// Everything a use case needs: the database, the cloud's ports, the clock and the
/// console's settings; cheap to clone. Server functions, API handlers and workers share one.
#[derive(Clone)]
pub struct Services {
    pub pool: SqlitePool,
    pub cloud: Cloud,
    pub clock: Arc<dyn Clock>,
    pub info: ConsoleInfo,
    pub auth: auth::Auth,
    /// Where deploys run their tasks and send their logs.
    pub deploy: DeploySettings,
    /// Prices, display time zone, fixed costs and budgets for the Costs page.
    pub costs: costs::CostSettings,
    /// Wakes the background refresher early (a deploy just started).
    pub wake: Arc<tokio::sync::Notify>,
    /// Wakes the scheduler early (a schedule or override changed).
    pub schedule_changed: ScheduleChanged,
    /// Apps whose page was opened: the metrics worker fetches their new samples (at most
    /// once a minute each).
    pub metrics_wanted: MetricsRequests,
    /// What only the sandbox can tell (it sends no email); `None` on AWS.
    pub sandbox_hints: Option<Arc<dyn SandboxHints>>,
}

/// Wakes the scheduler: a schedule or an override changed.
#[derive(Debug, Clone, Default)]
pub struct ScheduleChanged(pub Arc<tokio::sync::Notify>);

impl ScheduleChanged {
    pub fn notify_one(&self) {
        self.0.notify_one();
    }

    pub async fn notified(&self) {
        self.0.notified().await;
    }
}

/// The console's deploy settings (from its configuration).
#[derive(Debug, Clone, Default)]
pub struct DeploySettings {
    /// The subnets and security groups of every service.
    pub network: Network,
    /// The region of the apps' CloudWatch Logs groups.
    pub log_region: String,
}

/// A set of app ids waiting for a metrics fetch, and a way to wake the worker.
#[derive(Debug, Clone, Default)]
pub struct MetricsRequests {
    wanted: Arc<std::sync::Mutex<std::collections::BTreeSet<i64>>>,
    notify: Arc<tokio::sync::Notify>,
}

impl MetricsRequests {
    /// Asks for `app_id`'s new samples.
    pub fn ask(&self, app_id: i64) {
        if let Ok(mut wanted) = self.wanted.lock() {
            wanted.insert(app_id);
        }
        self.notify.notify_one();
    }

    /// The apps asked for since the last call.
    pub fn take(&self) -> Vec<i64> {
        self.wanted.lock().map(|mut w| std::mem::take(&mut *w).into_iter().collect()).unwrap_or_default()
    }

    /// Resolves when an app is asked for.
    pub async fn asked(&self) {
        self.notify.notified().await;
    }
}

/// Demo conveniences only the sandbox offers.
pub trait SandboxHints: Send + Sync + 'static {
    /// The temporary password the sandbox gave an invited user.
    fn temporary_password(&self, email: &str) -> Option<String>;
}

/// Starts a transaction that writes. `BEGIN IMMEDIATE` takes SQLite's write lock at once, so
/// a writer waits its turn (the pool's busy timeout) instead of failing with "database is
/// locked": a plain (deferred) transaction that reads first cannot take the lock once another
/// connection has written since its read, and SQLite refuses it without waiting.
pub async fn begin_write(pool: &SqlitePool) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

/// A CSV writer into memory as the exports write them: RFC 4180, CRLF line ends, fields
/// quoted only when they must be.
pub fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new())
}

/// What a [`csv_writer`] wrote (its fields are UTF-8 strings, so the text is too).
pub fn csv_text(writer: csv::Writer<Vec<u8>>) -> String {
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// `N` bytes from the system's secure random generator, as unpadded base64url.
pub fn random_url_safe<const N: usize>() -> Result<String, Error> {
    let mut bytes = [0u8; N];
    SystemRandom::new().fill(&mut bytes).map_err(|_| Error::internal("the system random generator failed"))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}
