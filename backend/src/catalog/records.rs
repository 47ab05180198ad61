//! The catalog's own records of a function: created or deleted by the console, imported from a
//! shadow (by an admin, or claimed by a developer the cloud's tags name), archived.

use std::collections::HashMap;

use sqlx::PgPool;
use uuid::Uuid;

use crate::connections::Connection;
use crate::error::{Error, Result};

use super::search::*;
use super::sync::*;

/// Records a function the console itself just created (or changed) in the cloud: described
/// afresh (its URL and resource policy only when `reads` says the change could have touched
/// them), tracked, owned by `owner_id`. Returns its catalog id.
pub async fn record_created(
    pool: &PgPool,
    connection: &Connection,
    region: &str,
    name: &str,
    owner_id: Uuid,
    reads: Reads,
) -> Result<Uuid> {
    let lambda = connection.lambda(region).await;
    let found = lambda
        .get_function()
        .function_name(name)
        .send()
        .await
        .map_err(|e| crate::cloud::error(format_args!("{name} is not in {region}"), &e))?;
    let configuration = found.configuration().ok_or(Error::NotFound("function configuration"))?;
    let function =
        describe(&lambda, configuration, Some(found.tags().unwrap_or(&HashMap::new())), reads)
            .await
            .ok_or(Error::NotFound("function configuration"))?;
    upsert_seen(pool, connection, region, &function).await?;
    let function_id = sqlx::query_scalar!(
        "update catalog_function set tracked = true, owner_id = coalesce(owner_id, $4)
         where connection_id = $1 and region = $2 and name = $3 returning function_id",
        connection.connection_id,
        region,
        name,
        owner_id
    )
    .fetch_one(pool)
    .await?;
    Ok(function_id)
}

/// Folds the facet counts' deltas (each catalog write appends its own, so that writers never
/// wait for one another) into one row per value; the sweeper calls it every minute.
pub async fn fold_facets(pool: &PgPool) -> Result<()> {
    sqlx::query!("select catalog_facet_fold()").execute(pool).await?;
    Ok(())
}

/// Marks a function the console deleted: gone from the cloud and archived.
pub async fn record_deleted(pool: &PgPool, function_id: Uuid) -> Result<()> {
    sqlx::query!(
        "update catalog_function set gone_at = coalesce(gone_at, now()), archived_at = coalesce(archived_at, now()),
                url = null, url_auth_type = null
         where function_id = $1",
        function_id
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Archives a ghost: it stays in the history, out of the catalog.
pub async fn archive(pool: &PgPool, actor: &crate::audit::Actor, function_id: Uuid) -> Result<()> {
    let mut tx = pool.begin().await?;
    let name = sqlx::query_scalar!(
        "update catalog_function set archived_at = now()
         where function_id = $1 and gone_at is not null and archived_at is null returning name",
        function_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| Error::Conflict("only a function gone from the cloud can be archived".into()))?;
    crate::audit::record(
        &mut tx,
        actor,
        "function.archive",
        &format!("function:{name}"),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// One function with everything the function page shows from the catalog.
#[derive(Clone, Debug)]
pub struct Detail {
    pub entry: CatalogEntry,
    pub arn: String,
    pub connection_id: Uuid,
    pub owner_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub handler: Option<String>,
    pub memory_mb: Option<i32>,
    pub timeout_s: Option<i32>,
    pub drift: serde_json::Value,
}

pub async fn detail(pool: &PgPool, function_id: Uuid) -> Result<Detail> {
    let row = sqlx::query!(
        r#"select f.function_id, f.name, c.name as connection, f.connection_id, f.region, f.runtime,
                  f.state, f.description, a.email as "owner?", t.name as "team?", f.owner_id, f.team_id,
                  f.lifecycle, f.environment, f.url_auth_type, f.tags, f.tracked,
                  (f.gone_at is not null) as "gone!", f.drift, f.updated_at, f.arn, f.handler,
                  f.memory_mb, f.timeout_s,
                  f.cloud_config->'tags'->>'lambdaport:owner' as suggested_owner,
                  (select count(*) from rule_violation v join governance_rule r using (rule_id)
                   where v.function_id = f.function_id and r.enabled and v.severity = 'error'
                     and not v.excepted) as "violations!"
           from catalog_function f
           join connection c on c.connection_id = f.connection_id
           left join account a on a.account_id = f.owner_id
           left join team t on t.team_id = f.team_id
           where f.function_id = $1 and f.archived_at is null"#,
        function_id
    )
    .fetch_optional(pool)
    .await?
    .ok_or(Error::NotFound("function"))?;
    let drift = row.drift.as_array().is_some_and(|d| !d.is_empty());
    Ok(Detail {
        entry: CatalogEntry {
            function_id: row.function_id,
            name: row.name,
            connection: row.connection,
            region: row.region,
            runtime: row.runtime,
            state: row.state,
            description: row.description,
            owner: row.owner,
            team: row.team,
            lifecycle: row.lifecycle,
            environment: row.environment,
            url_auth_type: row.url_auth_type,
            tags: row.tags,
            tracked: row.tracked,
            gone: row.gone,
            drift,
            violations: row.violations,
            updated_at: row.updated_at,
            suggested_owner: row.suggested_owner,
            adoption: Vec::new(),
        },
        arn: row.arn,
        connection_id: row.connection_id,
        owner_id: row.owner_id,
        team_id: row.team_id,
        handler: row.handler,
        memory_mb: row.memory_mb,
        timeout_s: row.timeout_s,
        drift: row.drift,
    })
}

/// Records a change the console made to a function in the cloud, in the audit trail as the
/// function's (`function:<name>`).
pub async fn audited(
    pool: &PgPool,
    actor: &crate::audit::Actor,
    detail: &Detail,
    action: &str,
    what: serde_json::Value,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    crate::audit::record(&mut tx, actor, action, &format!("function:{}", detail.entry.name), what)
        .await?;
    tx.commit().await?;
    Ok(())
}
