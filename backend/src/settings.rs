//! Console-wide settings an admin changes on the Admin page. Each is read where it applies, so a
//! change takes effect on the next request.

use sqlx::PgPool;

use crate::audit::{self, Actor};
use crate::error::Result;

const RESTRICT_CATALOG: &str = "restrict_catalog";

/// Whether the catalog is restricted: when on, people other than admins see only the functions
/// they own or their teams own. Off by default (everyone signed in reads the whole catalog).
pub async fn catalog_restricted(pool: &PgPool) -> Result<bool> {
    Ok(sqlx::query_scalar!("select value from console_setting where key = $1", RESTRICT_CATALOG)
        .fetch_optional(pool)
        .await?
        .and_then(|v| v.as_bool())
        .unwrap_or(false))
}

/// Turns the catalog restriction on or off (admins only; the caller checks), audited.
pub async fn set_catalog_restricted(pool: &PgPool, actor: &Actor, restricted: bool) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "insert into console_setting (key, value) values ($1, $2)
         on conflict (key) do update set value = excluded.value, updated_at = now()",
        RESTRICT_CATALOG,
        serde_json::Value::Bool(restricted)
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        "settings.restrict_catalog",
        "console",
        serde_json::json!({ "restricted": restricted }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
