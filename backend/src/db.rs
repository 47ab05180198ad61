//! The console's Postgres pool and its embedded migrations.

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// The console's schema, embedded in the binary and run at start-up.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// Opens the pool. Few connections: the console's queries are short, and 2 cores serve them.
pub async fn connect(options: PgConnectOptions) -> sqlx::Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(10)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
}

/// Opens the pool and brings the schema up to date.
pub async fn connect_and_migrate(options: PgConnectOptions) -> anyhow::Result<PgPool> {
    use anyhow::Context as _;
    let pool = connect(options).await.context("connecting to the database")?;
    MIGRATOR.run(&pool).await.context("running database migrations")?;
    Ok(pool)
}
