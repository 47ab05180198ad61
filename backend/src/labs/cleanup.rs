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
    let mut results = Vec::new();
    let mut connections_cache: BTreeMap<Uuid, Connection> = BTreeMap::new();
    let functions: Vec<String> =
        entries.iter().filter(|e| e.kind == Kind::Function).map(|e| e.name.clone()).collect();
    let mut kept_roles: BTreeMap<String, String> = BTreeMap::new();
    for entry in &entries {
        let connection = match connections_cache.get(&entry.connection_id) {
            Some(c) => c.clone(),
            None => {
                let c = connections::get(pool, entry.connection_id).await?;
                connections_cache.insert(entry.connection_id, c.clone());
                c
            }
        };
        let role = match entry.kind {
            Kind::Role => Some(entry.name.as_str()),
            Kind::RolePolicy => Some(entry.parent.as_deref().unwrap_or_default()),
            _ => None,
        };
        let users = match role {
            Some(role) => {
                if !kept_roles.contains_key(role) {
                    let users = role_users(&connection, role, &functions).await?;
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
