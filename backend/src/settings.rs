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
    put(&mut tx, RESTRICT_CATALOG, serde_json::Value::Bool(restricted)).await?;
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

const LAB_EXPIRY_HOURS: &str = "lab_expiry_hours";

/// The most hours a learner's lab run lives before the sweeper cleans it up (24 by default).
pub async fn lab_expiry_hours(pool: &PgPool) -> Result<i64> {
    Ok(sqlx::query_scalar!("select value from console_setting where key = $1", LAB_EXPIRY_HOURS)
        .fetch_optional(pool)
        .await?
        .and_then(|v| v.as_i64())
        .unwrap_or(24))
}

/// The hours after which a new run is cleaned up, from what its starter asked for (`None`: no
/// expiry): a learner's run always expires, at most the admin's lab expiry after it starts (and
/// exactly then when they ask for nothing); others choose 1 to 720 hours, or none.
pub async fn run_expiry_hours(
    pool: &PgPool,
    role: crate::accounts::Role,
    requested: Option<i64>,
) -> Result<Option<i64>> {
    if requested.is_some_and(|h| !(1..=720).contains(&h)) {
        return Err(crate::Error::invalid(
            "expiry_hours",
            "an expiry is 1 to 720 hours; leave it empty for none",
        ));
    }
    if role != crate::accounts::Role::Learner {
        return Ok(requested);
    }
    let most = lab_expiry_hours(pool).await?;
    match requested {
        Some(hours) if hours > most => Err(crate::Error::invalid(
            "expiry_hours",
            format!("a learner's run lives at most {most} hour(s), as an admin set it"),
        )),
        Some(hours) => Ok(Some(hours)),
        None => Ok(Some(most)),
    }
}

/// Sets the learners' lab expiry, 1 hour to 30 days (admins only; the caller checks), audited.
pub async fn set_lab_expiry_hours(pool: &PgPool, actor: &Actor, hours: i64) -> Result<()> {
    if !(1..=720).contains(&hours) {
        return Err(crate::Error::invalid("hours", "choose 1 to 720 hours (30 days)"));
    }
    let mut tx = pool.begin().await?;
    put(&mut tx, LAB_EXPIRY_HOURS, serde_json::Value::from(hours)).await?;
    audit::record(
        &mut tx,
        actor,
        "settings.lab_expiry_hours",
        "console",
        serde_json::json!({ "hours": hours }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Writes one setting inside the caller's transaction.
async fn put(conn: &mut sqlx::PgConnection, key: &str, value: serde_json::Value) -> Result<()> {
    sqlx::query!(
        "insert into console_setting (key, value) values ($1, $2)
         on conflict (key) do update set value = excluded.value, updated_at = now()",
        key,
        value
    )
    .execute(conn)
    .await?;
    Ok(())
}
