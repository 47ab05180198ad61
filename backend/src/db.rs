//! The console's Postgres pool and its embedded migrations.

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// The console's schema, embedded in the binary and run at start-up.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// Connections the pool opens by default: the console's queries are short and hold no connection
/// across a cloud call, so a few serve a class (`--database-pool` to change it).
pub const DEFAULT_POOL: u32 = 16;

/// How long a request waits its turn for a connection before the console answers 503 ("busy,
/// retry"): long enough that a burst queues rather than fails.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(20);

/// Opens the pool with `size` connections at most.
pub async fn connect(options: PgConnectOptions, size: u32) -> sqlx::Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(size.max(1))
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await
}

/// Opens the pool and brings the schema up to date.
pub async fn connect_and_migrate(options: PgConnectOptions, size: u32) -> anyhow::Result<PgPool> {
    use anyhow::Context as _;
    let pool = connect(options, size).await.context("connecting to the database")?;
    MIGRATOR.run(&pool).await.context("running database migrations")?;
    Ok(pool)
}
