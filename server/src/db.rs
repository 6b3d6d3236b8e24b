//! The SQLite database: one pool for the whole process (WAL, foreign keys, busy timeout),
//! migrations embedded in the binary and run at start-up. A failed migration stops start-up.

use crate::config::ConfigError;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::str::FromStr;
use std::time::Duration;

/// Parses a `sqlite:` URL into connection options; anything else is a configuration error.
pub fn parse_url(url: &str) -> Result<SqliteConnectOptions, ConfigError> {
    let bad = |problem: String| ConfigError { setting: "DATABASE_URL", problem };
    if !url.starts_with("sqlite:") {
        return Err(bad(format!("only sqlite: URLs are supported (got {:?})", url.split(':').next().unwrap_or(""))));
    }
    SqliteConnectOptions::from_str(url).map_err(|e| bad(format!("is not a valid SQLite URL: {e}"))).map(|o| {
        o.create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
    })
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("DATABASE_URL: cannot open the database: {0}")]
    Open(sqlx::Error),
    #[error("DATABASE_URL: migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Opens (creating the file and its folder if needed) and migrates the database.
pub async fn connect(url: &str) -> Result<SqlitePool, DbError> {
    let options = parse_url(url)?;
    let path = options.get_filename();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(dir).await.map_err(|e| DbError::Open(sqlx::Error::Io(e)))?;
    }
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .map_err(DbError::Open)?;
    sqlx::migrate!("../migrations").run(&pool).await?;
    Ok(pool)
}
