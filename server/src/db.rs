//! The SQLite database: one pool for the whole process (WAL, foreign keys, busy timeout),
//! migrations embedded in the binary and run at start-up. A failed migration stops start-up.

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::str::FromStr;
use std::time::Duration;

/// Parses a `sqlite:` URL into the console's connection options (`DATABASE_URL`'s value
/// parser); anything else is refused.
pub fn parse_url(url: &str) -> Result<SqliteConnectOptions, String> {
    if !url.starts_with("sqlite:") {
        return Err(format!("only sqlite: URLs are supported (got {:?})", url.split(':').next().unwrap_or("")));
    }
    SqliteConnectOptions::from_str(url).map_err(|e| format!("is not a valid SQLite URL: {e}")).map(|o| {
        o.create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
    })
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("DATABASE_URL: cannot open the database: {0}")]
    Open(sqlx::Error),
    #[error("DATABASE_URL: migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Opens (creating the file and its folder if needed) and migrates the database.
pub async fn connect(options: &SqliteConnectOptions) -> Result<SqlitePool, DbError> {
    let path = options.get_filename();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(dir).await.map_err(|e| DbError::Open(sqlx::Error::Io(e)))?;
    }
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options.clone())
        .await
        .map_err(DbError::Open)?;
    sqlx::migrate!("../migrations").run(&pool).await?;
    Ok(pool)
}
