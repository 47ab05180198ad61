//! Removing a connection: refused for the default one and while the console's resources live
//! there; never deleting the catalog (its functions are archived) nor the record.

use sqlx::PgPool;
use uuid::Uuid;

use super::get;
use crate::audit::{self, Actor};
use crate::error::{Error, Result};

/// What removing a connection would take with it: its catalog functions (archived, kept for the
/// record), how many of them have owners, and the lab runs made there.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Footprint {
    pub functions: i64,
    pub owned: i64,
    pub lab_runs: i64,
}

/// Each connection's [`Footprint`].
pub async fn footprints(pool: &PgPool) -> Result<std::collections::HashMap<Uuid, Footprint>> {
    let rows = sqlx::query!(
        r#"select c.connection_id,
                  (select count(*) from catalog_function f
                    where f.connection_id = c.connection_id and f.archived_at is null) as "functions!",
                  (select count(*) from catalog_function f
                    where f.connection_id = c.connection_id and f.archived_at is null
                      and f.owner_id is not null) as "owned!",
                  (select count(*) from lab_run r where r.connection_id = c.connection_id) as "lab_runs!"
           from connection c where c.removed_at is null"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let footprint =
                Footprint { functions: r.functions, owned: r.owned, lab_runs: r.lab_runs };
            (r.connection_id, footprint)
        })
        .collect())
}

/// Removes a connection (admins only; the caller checks the role) once `typed_name` is its name.
/// Refused for the default connection, and while the ledger holds resources the console created
/// there. Nothing is deleted: its catalog functions are archived (owners, teams and history
/// kept), the connection leaves every list and frees its name, and the audit names what was
/// archived.
pub async fn delete(
    pool: &PgPool,
    actor: &Actor,
    connection_id: Uuid,
    typed_name: &str,
) -> Result<Footprint> {
    let connection = get(pool, connection_id).await?;
    if connection.is_default {
        return Err(Error::Conflict(format!(
            "{} is the default connection, which the console needs: it cannot be removed",
            connection.name
        )));
    }
    if typed_name.trim() != connection.name {
        return Err(Error::invalid(
            "confirm_name",
            format!("type the connection's name, {}, to remove it", connection.name),
        ));
    }
    let footprint = footprints(pool).await?.remove(&connection_id).unwrap_or_default();
    let mut tx = pool.begin().await?;
    // Removing it would forget (with its ledger) what the console created in that cloud.
    let live = sqlx::query_scalar!(
        r#"select count(*) as "count!" from ledger_entry
           where connection_id = $1 and state <> 'deleted'"#,
        connection_id
    )
    .fetch_one(&mut *tx)
    .await?;
    if live > 0 {
        return Err(Error::Conflict(format!(
            "this connection still has {live} resources the console created (see its functions' Cleanup tabs and the Labs page): clean them up before removing it, or archive it to keep them on record"
        )));
    }
    let archived = sqlx::query_scalar!(
        "update catalog_function set archived_at = now()
         where connection_id = $1 and archived_at is null
         returning name",
        connection_id
    )
    .fetch_all(&mut *tx)
    .await?;
    let removed = sqlx::query_scalar!(
        r#"update connection
           set removed_at = now(), archived_at = coalesce(archived_at, now()),
               name = name || ' (removed ' || to_char(now() at time zone 'utc', 'YYYY-MM-DD HH24:MI:SS') || ')'
           where connection_id = $1 and removed_at is null
           returning connection_id"#,
        connection_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    if removed.is_none() {
        return Err(Error::NotFound("connection"));
    }
    audit::record(
        &mut tx,
        actor,
        "connection.delete",
        &format!("connection:{connection_id}"),
        serde_json::json!({
            "name": connection.name,
            "archived_functions": archived,
            "functions_with_owners": footprint.owned,
            "lab_runs_kept": footprint.lab_runs,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(footprint)
}
