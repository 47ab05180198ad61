//! Step 9 and the expiry sweeper: delete what the ledger proves the run created, in order,
//! verified against the cloud; a role another function still uses is kept.

use std::collections::BTreeMap;

use sqlx::PgPool;
use uuid::Uuid;

use crate::audit::{self, Actor};
use crate::connections::{self, Connection};
use crate::error::Result;

use super::ledger::*;
use super::model::*;
use super::resources::*;

/// Deletes everything in the ledger of a run or function, in order (URL config, statements,
/// function, log group, then the role and its policy only when no other function uses the role),
/// verifying each deletion against the cloud. Resources the console did not create are never
/// touched: they are not in the ledger.
#[tracing::instrument(skip(pool, actor))]
pub async fn clean_up(pool: &PgPool, actor: &Actor, scope: Scope) -> Result<Vec<(Entry, Outcome)>> {
    let entries: Vec<Entry> = ledger(pool, scope)
        .await?
        .into_iter()
        .filter(|e| e.state != LedgerState::Deleted)
        .collect();
    let functions: Vec<String> =
        entries.iter().filter(|e| e.kind == Kind::Function).map(|e| e.name.clone()).collect();
    let results = delete_entries(pool, &entries, &functions).await?;
    // Kept roles are not left behind: another function owns their fate.
    let all_gone = !results.iter().any(|(_, o)| matches!(o, Outcome::Failed(_)));
    let mut tx = pool.begin().await?;
    let runs: Vec<Uuid> = match scope {
        Scope::Run(id) => vec![id],
        Scope::Function(_) => entries.iter().filter_map(|e| e.lab_run_id).collect(),
    };
    if all_gone {
        sqlx::query!(
            "update lab_run set status = 'cleaned_up', cleaned_at = now(), step = 9, pending_step = null,
                    pending_since = null, pending_holder = null
             where lab_run_id = any($1)",
            &runs
        )
        .execute(&mut *tx)
        .await?;
    }
    let target = match scope {
        Scope::Run(id) => format!("lab:{id}"),
        Scope::Function(id) => format!("function:{id}"),
    };
    audit::record(
        &mut tx,
        actor,
        "cleanup",
        &target,
        serde_json::json!({
            "deleted": results.iter().filter(|(_, o)| matches!(o, Outcome::Deleted | Outcome::AlreadyGone)).map(|(e, _)| format!("{} {}", e.kind.as_str(), e.name)).collect::<Vec<_>>(),
            "not_deleted": results.iter().filter(|(_, o)| matches!(o, Outcome::Failed(_) | Outcome::Kept(_))).map(|(e, _)| format!("{} {}", e.kind.as_str(), e.name)).collect::<Vec<_>>(),
            "left_alone": results.iter().filter(|(_, o)| matches!(o, Outcome::NotOurs(_))).map(|(e, _)| format!("{} {}", e.kind.as_str(), e.name)).collect::<Vec<_>>(),
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(results)
}

/// Deletes `entries` in order, each verified against the cloud and recorded in the ledger; a role
/// (or its policy attachment) is kept while a function other than `functions` (those being
/// deleted with it) uses it.
async fn delete_entries(
    pool: &PgPool,
    entries: &[Entry],
    functions: &[String],
) -> Result<Vec<(Entry, Outcome)>> {
    let mut results = Vec::new();
    let mut connections_cache: BTreeMap<Uuid, Connection> = BTreeMap::new();
    let mut kept_roles: BTreeMap<String, String> = BTreeMap::new();
    for entry in entries {
        let connection = cached(pool, &mut connections_cache, entry.connection_id).await?;
        let role = match entry.kind {
            Kind::Role => Some(entry.name.as_str()),
            Kind::RolePolicy => Some(entry.parent.as_deref().unwrap_or_default()),
            _ => None,
        };
        let users = match role {
            Some(role) => {
                if !kept_roles.contains_key(role) {
                    let users = role_users(&connection, role, functions).await?.unwrap_or_default();
                    kept_roles.insert(role.to_owned(), users.join(", "));
                }
                kept_roles[role].clone()
            }
            None => String::new(),
        };
        let outcome = if !users.is_empty() {
            Outcome::Kept(format!("kept: the role is still used by {users}"))
        } else {
            match delete_and_verify(&connection, entry).await {
                Ok(Deletion::Deleted) => Outcome::Deleted,
                Ok(Deletion::AlreadyGone) => Outcome::AlreadyGone,
                Ok(Deletion::NotOurs(why)) => Outcome::NotOurs(why),
                Err(error) => Outcome::Failed(error),
            }
        };
        match &outcome {
            Outcome::Deleted | Outcome::AlreadyGone | Outcome::NotOurs(_) => {
                let note = match &outcome {
                    Outcome::NotOurs(why) => Some(why.as_str()),
                    _ => None,
                };
                sqlx::query!(
                    "update ledger_entry set state = 'deleted', deleted_at = now(), error = $2 where ledger_entry_id = $1",
                    entry.ledger_entry_id,
                    note
                )
                .execute(pool)
                .await?;
                if entry.kind == Kind::Function
                    && let Some(function_id) = entry.function_id
                {
                    crate::catalog::record_deleted(pool, function_id).await?;
                }
            }
            Outcome::Failed(note) | Outcome::Kept(note) => {
                sqlx::query!(
                    "update ledger_entry set error = $2 where ledger_entry_id = $1",
                    entry.ledger_entry_id,
                    note
                )
                .execute(pool)
                .await?;
            }
        }
        results.push((entry.clone(), outcome));
    }
    Ok(results)
}

/// A connection read once per cleanup or report, however many entries name it.
async fn cached(
    pool: &PgPool,
    cache: &mut BTreeMap<Uuid, Connection>,
    id: Uuid,
) -> Result<Connection> {
    if let Some(connection) = cache.get(&id) {
        return Ok(connection.clone());
    }
    let connection = connections::get(pool, id).await?;
    cache.insert(id, connection.clone());
    Ok(connection)
}

/// Cleans up every run whose expiry has passed. Returns how many were swept.
#[tracing::instrument(skip_all)]
pub async fn sweep(pool: &PgPool) -> Result<usize> {
    let expired = sqlx::query_scalar!(
        "select lab_run_id from lab_run
         where status <> 'cleaned_up' and expires_at is not null and expires_at <= now() and pending_step is null"
    )
    .fetch_all(pool)
    .await?;
    let mut swept = 0;
    for lab_run_id in expired {
        match clean_up(pool, &Actor::system(), Scope::Run(lab_run_id)).await {
            Ok(_) => swept += 1,
            Err(error) => {
                tracing::warn!(%lab_run_id, %error, "expired lab run could not be cleaned up")
            }
        }
    }
    Ok(swept)
}

/// A role the console made for a lab (in the ledger, not deleted) that still exists and that no
/// function uses any more: kept at a cleanup for a function that borrowed it, which has since gone.
#[derive(Clone, Debug)]
pub struct OrphanRole {
    pub ledger_entry_id: Uuid,
    pub connection: String,
    pub name: String,
    /// Who made it (the lab run's learner), if known.
    pub owner: Option<String>,
    pub created_at: time::OffsetDateTime,
}

/// The roles the console made that still exist and that no function uses, asked of the cloud.
pub async fn orphan_roles(pool: &PgPool) -> Result<Vec<OrphanRole>> {
    let rows = sqlx::query!(
        r#"select l.ledger_entry_id, l.connection_id, c.name as connection, l.name,
                  a.email as "owner?", l.created_at
           from ledger_entry l
           join connection c on c.connection_id = l.connection_id
           left join account a on a.account_id = l.owner_id
           where l.kind = 'role' and l.state <> 'deleted'
           order by l.created_at"#
    )
    .fetch_all(pool)
    .await?;
    let mut connections_cache: BTreeMap<Uuid, Connection> = BTreeMap::new();
    let mut orphans = Vec::new();
    for row in rows {
        let connection = cached(pool, &mut connections_cache, row.connection_id).await?;
        // Gone already, or still used: not an orphan.
        if role_users(&connection, &row.name, &[]).await?.is_none_or(|users| !users.is_empty()) {
            continue;
        }
        orphans.push(OrphanRole {
            ledger_entry_id: row.ledger_entry_id,
            connection: row.connection,
            name: row.name,
            owner: row.owner,
            created_at: row.created_at,
        });
    }
    Ok(orphans)
}

/// Deletes an orphan role through its ledger entries (its policy attachments, then the role),
/// by the same rules as a cleanup: only if the role still carries its run's tag, kept while any
/// function uses it, each deletion verified against the cloud. Audited.
pub async fn clean_up_orphan_role(
    pool: &PgPool,
    actor: &Actor,
    ledger_entry_id: Uuid,
) -> Result<Vec<(Entry, Outcome)>> {
    let row = sqlx::query!(
        "select lab_run_id, function_id, name from ledger_entry
         where ledger_entry_id = $1 and kind = 'role' and state <> 'deleted'",
        ledger_entry_id
    )
    .fetch_optional(pool)
    .await?
    .ok_or(crate::error::Error::NotFound("role"))?;
    let scope = match (row.lab_run_id, row.function_id) {
        (Some(run), _) => Scope::Run(run),
        (None, Some(function)) => Scope::Function(function),
        (None, None) => return Err(crate::error::Error::NotFound("role")),
    };
    let entries: Vec<Entry> = ledger(pool, scope)
        .await?
        .into_iter()
        .filter(|e| e.state != LedgerState::Deleted)
        .filter(|e| {
            e.ledger_entry_id == ledger_entry_id
                || (e.kind == Kind::RolePolicy && e.parent.as_deref() == Some(row.name.as_str()))
        })
        .collect();
    let results = delete_entries(pool, &entries, &[]).await?;
    let mut conn = pool.acquire().await?;
    audit::record(
        &mut conn,
        actor,
        "governance.orphan_role.delete",
        &format!("role:{}", row.name),
        serde_json::json!({
            "outcomes": results.iter().map(|(e, o)| format!("{} {}: {o:?}", e.kind.as_str(), e.name)).collect::<Vec<_>>(),
        }),
    )
    .await?;
    Ok(results)
}
