//! The catalog: every function the console knows, with owner, team, lifecycle, environment and
//! tags, kept beside what the cloud reports. Reconciliation (`sync`) lists a connection's
//! functions through the AWS SDK and records shadows (in the cloud, not imported), ghosts (in the
//! catalog, gone from the cloud) and drift (the cloud's `lambdaport:*` tags disagree with the
//! catalog).

use std::collections::BTreeMap;

use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::connections::Connection;
use crate::error::{Error, Result};

/// Tags that carry the catalog's metadata into the cloud, so it survives outside the console.
pub const OWNER_TAG: &str = "lambdaport:owner";
pub const TEAM_TAG: &str = "lambdaport:team";
pub const LIFECYCLE_TAG: &str = "lambdaport:lifecycle";
pub const ENVIRONMENT_TAG: &str = "lambdaport:environment";

/// A run of reconciliation for one connection, as shown while it runs and after.
#[derive(Clone, Debug)]
pub struct SyncRun {
    pub sync_run_id: Uuid,
    pub connection_id: Uuid,
    pub started_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
    pub seen: i32,
    pub shadows: i32,
    pub ghosts: i32,
    pub error: Option<String>,
}

/// Starts a sync run, unless one is already running for the connection (then that one is
/// returned with `false`). A run left unfinished for 15 minutes is taken as abandoned.
async fn begin_run(pool: &PgPool, connection_id: Uuid) -> Result<(SyncRun, bool)> {
    let mut tx = pool.begin().await?;
    // Serialize starts per connection; the partial unique index is the backstop.
    sqlx::query!("select pg_advisory_xact_lock(hashtext($1::uuid::text))", connection_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query!(
        "update sync_run set finished_at = now(), error = 'abandoned'
         where connection_id = $1 and finished_at is null and started_at < now() - interval '15 minutes'",
        connection_id
    )
    .execute(&mut *tx)
    .await?;
    let running = sqlx::query_as!(
        SyncRun,
        "select sync_run_id, connection_id, started_at, finished_at, seen, shadows, ghosts, error
         from sync_run where connection_id = $1 and finished_at is null",
        connection_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(run) = running {
        return Ok((run, false));
    }
    let run = sqlx::query_as!(
        SyncRun,
        "insert into sync_run (connection_id) values ($1)
         returning sync_run_id, connection_id, started_at, finished_at, seen, shadows, ghosts, error",
        connection_id
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((run, true))
}

/// The newest run of a connection.
pub async fn last_run(pool: &PgPool, connection_id: Uuid) -> Result<Option<SyncRun>> {
    Ok(sqlx::query_as!(
        SyncRun,
        "select sync_run_id, connection_id, started_at, finished_at, seen, shadows, ghosts, error
         from sync_run where connection_id = $1 order by started_at desc limit 1",
        connection_id
    )
    .fetch_optional(pool)
    .await?)
}

/// The newest run of every connection that has one.
pub async fn last_runs(pool: &PgPool) -> Result<Vec<SyncRun>> {
    Ok(sqlx::query_as!(
        SyncRun,
        "select distinct on (connection_id)
                sync_run_id, connection_id, started_at, finished_at, seen, shadows, ghosts, error
         from sync_run order by connection_id, started_at desc"
    )
    .fetch_all(pool)
    .await?)
}

/// What the cloud says about one function.
#[derive(Clone, Debug, serde::Serialize)]
struct CloudFunction {
    name: String,
    arn: String,
    runtime: Option<String>,
    handler: Option<String>,
    memory_mb: Option<i32>,
    timeout_s: Option<i32>,
    architecture: Option<String>,
    state: Option<String>,
    description: String,
    url: Option<String>,
    url_auth_type: Option<String>,
    tags: BTreeMap<String, String>,
}

/// One function as the cloud describes it, with its tags and URL.
async fn describe(
    lambda: &aws_sdk_lambda::Client,
    f: &aws_sdk_lambda::types::FunctionConfiguration,
) -> Option<CloudFunction> {
    let (name, arn) = (f.function_name()?, f.function_arn()?);
    let tags = match lambda.list_tags().resource(arn).send().await {
        Ok(output) => output.tags().cloned().unwrap_or_default().into_iter().collect(),
        Err(_) => BTreeMap::new(),
    };
    let url = lambda.get_function_url_config().function_name(name).send().await.ok();
    Some(CloudFunction {
        name: name.to_owned(),
        arn: arn.to_owned(),
        runtime: f.runtime().map(|r| r.as_str().to_owned()),
        handler: f.handler().map(str::to_owned),
        memory_mb: f.memory_size(),
        timeout_s: f.timeout(),
        architecture: f.architectures().first().map(|a| a.as_str().to_owned()),
        state: f.state().map(|s| s.as_str().to_owned()).or_else(|| Some("Active".into())),
        description: f.description().unwrap_or_default().to_owned(),
        url: url.as_ref().map(|u| u.function_url().to_owned()),
        url_auth_type: url.as_ref().map(|u| u.auth_type().as_str().to_owned()),
        tags,
    })
}

/// Reconciles a connection with its cloud: every function seen is updated (new ones become
/// shadows), catalog entries no longer there become ghosts, and drift is recorded. Safe to run
/// twice at once: the second call returns the running run.
pub async fn sync(pool: &PgPool, connection: &Connection) -> Result<SyncRun> {
    let (run, started) = begin_run(pool, connection.connection_id).await?;
    if !started {
        return Ok(run);
    }
    let outcome = sync_regions(pool, connection, &run).await;
    let error = outcome.as_ref().err().map(ToString::to_string);
    sqlx::query!(
        "update sync_run set finished_at = now(), error = $2 where sync_run_id = $1",
        run.sync_run_id,
        error
    )
    .execute(pool)
    .await?;
    outcome?;
    last_run(pool, connection.connection_id).await?.ok_or(Error::NotFound("sync run"))
}

async fn sync_regions(pool: &PgPool, connection: &Connection, run: &SyncRun) -> Result<()> {
    for region in &connection.regions {
        let lambda = connection.lambda(region).await;
        // Page by page, so the run's progress moves while the cloud is listed.
        let mut pages = lambda.list_functions().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                Error::Conflict(format!(
                    "{} ({region}): ListFunctions failed: {}",
                    connection.name,
                    aws_sdk_lambda::error::DisplayErrorContext(&e)
                ))
            })?;
            let (mut seen, mut shadows) = (0, 0);
            for f in page.functions() {
                let Some(function) = describe(&lambda, f).await else { continue };
                shadows += i32::from(upsert_seen(pool, connection, region, &function).await?);
                seen += 1;
            }
            sqlx::query!(
                "update sync_run set seen = seen + $2, shadows = shadows + $3 where sync_run_id = $1",
                run.sync_run_id,
                seen,
                shadows
            )
            .execute(pool)
            .await?;
        }
        let ghosts = sqlx::query_scalar!(
            r#"with gone as (
                   update catalog_function set gone_at = now()
                   where connection_id = $1 and region = $2 and gone_at is null and archived_at is null
                     and (last_seen_at is null or last_seen_at < $3)
                   returning 1)
               select count(*) as "count!" from gone"#,
            connection.connection_id,
            region,
            run.started_at
        )
        .fetch_one(pool)
        .await?;
        sqlx::query!(
            "update sync_run set ghosts = ghosts + $2::int where sync_run_id = $1",
            run.sync_run_id,
            i32::try_from(ghosts).unwrap_or(i32::MAX)
        )
        .execute(pool)
        .await?;
    }
    record_drift(pool, connection.connection_id).await
}

/// Records one function the cloud listed; true when it was new to the catalog (a shadow).
async fn upsert_seen(
    pool: &PgPool,
    connection: &Connection,
    region: &str,
    function: &CloudFunction,
) -> Result<bool> {
    let tags: BTreeMap<&str, &str> = function
        .tags
        .iter()
        .filter(|(k, _)| !k.starts_with("lambdaport:"))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let cloud = serde_json::to_value(function).map_err(anyhow::Error::from)?;
    Ok(sqlx::query_scalar!(
        r#"insert into catalog_function
               (connection_id, region, name, arn, runtime, handler, memory_mb, timeout_s,
                architecture, state, description, url, url_auth_type, tags, tracked,
                cloud_config, last_seen_at)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, false, $15, now())
           on conflict (connection_id, region, name) do update set
               arn = excluded.arn, runtime = excluded.runtime, handler = excluded.handler,
               memory_mb = excluded.memory_mb, timeout_s = excluded.timeout_s,
               architecture = excluded.architecture, state = excluded.state,
               description = excluded.description, url = excluded.url,
               url_auth_type = excluded.url_auth_type, tags = excluded.tags,
               cloud_config = excluded.cloud_config, last_seen_at = now(), gone_at = null
           returning (xmax = 0) as "inserted!""#,
        connection.connection_id,
        region,
        function.name,
        function.arn,
        function.runtime,
        function.handler,
        function.memory_mb,
        function.timeout_s,
        function.architecture,
        function.state,
        function.description,
        function.url,
        function.url_auth_type,
        serde_json::to_value(&tags).map_err(anyhow::Error::from)?,
        cloud,
    )
    .fetch_one(pool)
    .await?)
}

/// Records a function the console itself just created (or changed) in the cloud: described
/// afresh, tracked, owned by `owner_id`. Returns its catalog id.
pub async fn record_created(
    pool: &PgPool,
    connection: &Connection,
    region: &str,
    name: &str,
    owner_id: Uuid,
) -> Result<Uuid> {
    let lambda = connection.lambda(region).await;
    let found = lambda.get_function().function_name(name).send().await.map_err(|e| {
        Error::Conflict(format!(
            "{name} is not in {region}: {}",
            aws_sdk_lambda::error::DisplayErrorContext(&e)
        ))
    })?;
    let configuration = found.configuration().ok_or(Error::NotFound("function configuration"))?;
    let function =
        describe(&lambda, configuration).await.ok_or(Error::NotFound("function configuration"))?;
    upsert_seen(pool, connection, region, &function).await?;
    Ok(sqlx::query_scalar!(
        "update catalog_function set tracked = true, owner_id = coalesce(owner_id, $4)
         where connection_id = $1 and region = $2 and name = $3 returning function_id",
        connection.connection_id,
        region,
        name,
        owner_id
    )
    .fetch_one(pool)
    .await?)
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

/// Compares the catalog's owner, team, lifecycle and environment with the cloud's
/// `lambdaport:*` tags, for tracked functions.
async fn record_drift(pool: &PgPool, connection_id: Uuid) -> Result<()> {
    sqlx::query!(
        r#"update catalog_function f set drift = coalesce((
               select jsonb_agg(jsonb_build_object('field', d.field, 'catalog', d.catalog, 'cloud', d.cloud))
               from (values
                   ('owner', (select email from account where account_id = f.owner_id), f.cloud_config->'tags'->>'lambdaport:owner'),
                   ('team', (select name from team where team_id = f.team_id), f.cloud_config->'tags'->>'lambdaport:team'),
                   ('lifecycle', f.lifecycle, f.cloud_config->'tags'->>'lambdaport:lifecycle'),
                   ('environment', f.environment, f.cloud_config->'tags'->>'lambdaport:environment')
               ) as d(field, catalog, cloud)
               where d.catalog is distinct from d.cloud), '[]'::jsonb)
           where f.connection_id = $1 and f.tracked and f.cloud_config is not null"#,
        connection_id
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// One row of the catalog page.
#[derive(Clone, Debug)]
pub struct CatalogEntry {
    pub function_id: Uuid,
    pub name: String,
    pub connection: String,
    pub region: String,
    pub runtime: Option<String>,
    pub state: Option<String>,
    pub description: String,
    pub owner: Option<String>,
    pub team: Option<String>,
    pub lifecycle: String,
    pub environment: String,
    pub url_auth_type: Option<String>,
    pub tags: serde_json::Value,
    pub tracked: bool,
    pub gone: bool,
    pub drift: bool,
    pub updated_at: OffsetDateTime,
    /// For a shadow: the owner its `lambdaport:owner` tag names, to offer at import.
    pub suggested_owner: Option<String>,
}

/// What the catalog page asks for; every filter is optional.
#[derive(Clone, Debug, Default)]
pub struct Query {
    pub text: Option<String>,
    pub owner: Option<Uuid>,
    pub team: Option<Uuid>,
    pub runtime: Option<String>,
    pub state: Option<String>,
    pub lifecycle: Option<String>,
    pub environment: Option<String>,
    pub connection: Option<Uuid>,
    pub region: Option<String>,
    /// `key=value`: functions with that tag.
    pub tag: Option<(String, String)>,
    pub has_public_url: bool,
    /// Shadows (found in the cloud, not imported) instead of the catalog.
    pub shadows: bool,
    pub sort: Sort,
    /// Keyset cursor: the last row of the previous page, as (name, id) by name, or (updated_at
    /// in microseconds since the epoch, id) by update.
    pub after: Option<(String, Uuid)>,
    pub limit: i64,
    /// When the catalog is restricted: only functions this account or its teams own.
    pub visible_to: Option<Uuid>,
}

/// The order of a catalog page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sort {
    /// By name, A to Z.
    #[default]
    Name,
    /// Most recently changed first.
    Updated,
}

/// The `catalog_key` range that drives a filtered page (see the migration that makes the table):
/// the tag filter's key, or a word the text query requires.
struct Driver {
    key: String,
    /// The key alone decides the text filter (a one-word query): no need to check the vector.
    covers_text: bool,
}

/// The lexeme Postgres's `simple` configuration makes of a plain word (ASCII letters and digits,
/// lower-cased), without asking it; `None` for anything its parser might split or change.
fn plain_lexeme(text: &str) -> Option<String> {
    (!text.is_empty() && text.len() <= 200 && text.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| text.to_ascii_lowercase())
}

impl Driver {
    async fn of(pool: &PgPool, query: &Query, text: Option<&str>) -> Result<Option<Self>> {
        // An owner or the public-URL filter is narrower still, and has its own ordered index.
        if query.owner.is_some() || query.has_public_url {
            return Ok(None);
        }
        if let Some((key, value)) = &query.tag {
            return Ok(Some(Driver { key: format!("t:{key}={value}"), covers_text: false }));
        }
        let Some(text) = text else { return Ok(None) };
        // `or`, `-word` and long words do not give a word every match must contain.
        let required = text.split_whitespace().all(|word| {
            !word.eq_ignore_ascii_case("or") && !word.starts_with('-') && word.len() <= 200
        });
        if !required {
            return Ok(None);
        }
        if let Some(word) = plain_lexeme(text) {
            return Ok(Some(Driver { key: format!("w:{word}"), covers_text: true }));
        }
        // Every lexeme of an AND or phrase query is required; the longest is likely the rarest.
        let word = sqlx::query!(
            r#"select w as "word!", count(*) over () as "lexemes!"
               from unnest(tsvector_to_array(to_tsvector('simple', $1))) w
               order by length(w) desc, w limit 1"#,
            text
        )
        .fetch_optional(pool)
        .await?;
        Ok(word.map(|w| Driver { key: format!("w:{}", w.word), covers_text: w.lexemes == 1 }))
    }
}

/// One page of the catalog, by name, and the cursor of the next page if there is one. A text or
/// tag filter reads its `catalog_key` range in name order (the page costs the same however many
/// functions match); other filters use their `(column, name)` index or the name index.
pub async fn search(
    pool: &PgPool,
    query: &Query,
) -> Result<(Vec<CatalogEntry>, Option<(String, Uuid)>)> {
    let text = query.text.as_deref().map(str::trim).filter(|t| !t.is_empty());
    // Key ranges are in name order: they drive only pages sorted by name.
    let driver = match query.sort {
        Sort::Name => Driver::of(pool, query, text).await?,
        Sort::Updated => None,
    };
    // The ordered columns: the key's copy of the name when a key drives, else the function's.
    let order = if driver.is_some() { "k" } else { "f" };
    let mut sql = sqlx::QueryBuilder::<sqlx::Postgres>::new(
        "select f.function_id, f.name, c.name as connection, f.region, f.runtime, f.state,
                f.description, a.email as owner, t.name as team, f.lifecycle, f.environment,
                f.url_auth_type, f.tags, f.tracked, (f.gone_at is not null) as gone,
                (jsonb_array_length(f.drift) > 0) as drift, f.updated_at,
                f.cloud_config->'tags'->>'lambdaport:owner' as suggested_owner
         from ",
    );
    if driver.is_some() {
        sql.push("catalog_key k join catalog_function f on f.function_id = k.function_id");
    } else {
        sql.push("catalog_function f");
    }
    sql.push(
        " join connection c on c.connection_id = f.connection_id
         left join account a on a.account_id = f.owner_id
         left join team t on t.team_id = f.team_id
         where f.archived_at is null and f.tracked = ",
    );
    sql.push_bind(!query.shadows);
    if let Some(driver) = &driver {
        sql.push(" and k.key = ").push_bind(driver.key.clone());
    }
    if let Some(text) = text.filter(|_| !driver.as_ref().is_some_and(|d| d.covers_text)) {
        sql.push(" and f.search @@ websearch_to_tsquery('simple', ")
            .push_bind(text.to_owned())
            .push(")");
    }
    if let Some(owner) = query.owner {
        sql.push(" and f.owner_id = ").push_bind(owner);
    }
    if let Some(team) = query.team {
        sql.push(" and f.team_id = ").push_bind(team);
    }
    let exact = [
        ("f.runtime", &query.runtime),
        ("f.state", &query.state),
        ("f.lifecycle", &query.lifecycle),
        ("f.environment", &query.environment),
        ("f.region", &query.region),
    ];
    for (column, value) in exact {
        if let Some(value) = value {
            sql.push(format!(" and {column} = ")).push_bind(value.clone());
        }
    }
    if let Some(connection) = query.connection {
        sql.push(" and f.connection_id = ").push_bind(connection);
    }
    if let Some((key, value)) = &query.tag {
        sql.push(" and f.tags @> ").push_bind(serde_json::json!({ key: value }));
    }
    if query.has_public_url {
        sql.push(" and f.url_auth_type = 'NONE'");
    }
    if let Some(reader) = query.visible_to {
        sql.push(" and (f.owner_id = ").push_bind(reader);
        sql.push(" or f.team_id in (select team_id from team_member where account_id = ");
        sql.push_bind(reader).push("))");
    }
    match (query.sort, &query.after) {
        (Sort::Name, Some((name, id))) => {
            sql.push(format!(" and ({order}.name, {order}.function_id) > ("));
            sql.push_bind(name.clone()).push(", ").push_bind(*id).push(")");
        }
        (Sort::Updated, Some((micros, id))) => {
            // A cursor that is not a number is a stale or edited URL: start from the top.
            if let Ok(micros) = micros.parse::<i64>() {
                sql.push(" and (f.updated_at, f.function_id) < (timestamptz 'epoch' + ");
                sql.push_bind(micros).push(" * interval '1 microsecond', ");
                sql.push_bind(*id).push(")");
            }
        }
        (_, None) => {}
    }
    let limit = query.limit.clamp(1, 200);
    match query.sort {
        Sort::Name => sql.push(format!(" order by {order}.name, {order}.function_id limit ")),
        Sort::Updated => sql.push(" order by f.updated_at desc, f.function_id desc limit "),
    };
    sql.push_bind(limit + 1);
    // A key range and nothing else to check: the planner reads it in order by itself. With more
    // filters it may misjudge how many rows pass them (they correlate with names) and sort.
    let only_key = driver.as_ref().is_some_and(|d| d.covers_text || text.is_none())
        && [&query.runtime, &query.state, &query.lifecycle, &query.environment, &query.region]
            .iter()
            .all(|f| f.is_none())
        && query.team.is_none()
        && query.connection.is_none()
        && query.visible_to.is_none();
    let mut rows = if driver.is_some() && !only_key {
        in_key_order(pool, &mut sql).await?
    } else {
        sql.build_query_as::<CatalogRow>().fetch_all(pool).await?
    };
    let more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = more
        .then(|| {
            rows.last().map(|r| match query.sort {
                Sort::Name => (r.name.clone(), r.function_id),
                Sort::Updated => {
                    ((r.updated_at.unix_timestamp_nanos() / 1000).to_string(), r.function_id)
                }
            })
        })
        .flatten();
    Ok((rows.into_iter().map(CatalogEntry::from).collect(), next))
}

/// Runs a key-driven page query so that it reads the key range in order and stops at the page's
/// end. Left to itself the planner may fetch every match and sort (it cannot know how the matches
/// fall in name order), or start a parallel worker, which alone costs more than the page.
async fn in_key_order(
    pool: &PgPool,
    sql: &mut sqlx::QueryBuilder<'_, sqlx::Postgres>,
) -> Result<Vec<CatalogRow>> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        r#"select set_config('enable_sort', 'off', true) as "sort",
                  set_config('enable_bitmapscan', 'off', true) as "bitmap",
                  set_config('max_parallel_workers_per_gather', '0', true) as "parallel""#
    )
    .fetch_one(&mut *tx)
    .await?;
    let rows = sql.build_query_as::<CatalogRow>().fetch_all(&mut *tx).await?;
    tx.commit().await?;
    Ok(rows)
}

#[derive(sqlx::FromRow)]
struct CatalogRow {
    function_id: Uuid,
    name: String,
    connection: String,
    region: String,
    runtime: Option<String>,
    state: Option<String>,
    description: String,
    owner: Option<String>,
    team: Option<String>,
    lifecycle: String,
    environment: String,
    url_auth_type: Option<String>,
    tags: serde_json::Value,
    tracked: bool,
    gone: bool,
    drift: bool,
    updated_at: OffsetDateTime,
    suggested_owner: Option<String>,
}

impl From<CatalogRow> for CatalogEntry {
    fn from(r: CatalogRow) -> Self {
        Self {
            function_id: r.function_id,
            name: r.name,
            connection: r.connection,
            region: r.region,
            runtime: r.runtime,
            state: r.state,
            description: r.description,
            owner: r.owner,
            team: r.team,
            lifecycle: r.lifecycle,
            environment: r.environment,
            url_auth_type: r.url_auth_type,
            tags: r.tags,
            tracked: r.tracked,
            gone: r.gone,
            drift: r.drift,
            updated_at: r.updated_at,
            suggested_owner: r.suggested_owner,
        }
    }
}

/// Facet counts over the tracked catalog, kept by trigger (no counting per request), as
/// (facet, value to filter on, label, count). Owners are filtered on by email and teams by name;
/// connections by id, labelled with their name. Values whose account, team or connection is gone
/// are left out.
pub async fn facets(pool: &PgPool) -> Result<Vec<(String, String, String, i64)>> {
    Ok(sqlx::query!(
        r#"select f.facet as "facet!", v.value as "value!", coalesce(c.name, v.value) as "label!",
                  f.count as "count!"
           from catalog_facet f
           left join account a on f.facet = 'owner' and a.account_id::text = f.value
           left join team t on f.facet = 'team' and t.team_id::text = f.value
           left join connection c on f.facet = 'connection' and c.connection_id::text = f.value
           cross join lateral (select case f.facet when 'owner' then a.email
                                                   when 'team' then t.name
                                                   when 'connection' then c.connection_id::text
                                                   else f.value end as value) v
           where f.count > 0 and f.value <> '' and v.value is not null
           order by f.facet, f.count desc, f.value"#
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| (r.facet, r.value, r.label, r.count))
    .collect())
}

/// Imports a shadow into the catalog with an owner (and optionally a team).
pub async fn import(
    pool: &PgPool,
    actor: &crate::audit::Actor,
    function_id: Uuid,
    owner_id: Uuid,
    team_id: Option<Uuid>,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    let name = sqlx::query_scalar!(
        "update catalog_function set tracked = true, owner_id = $2, team_id = $3
         where function_id = $1 and not tracked returning name",
        function_id,
        owner_id,
        team_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotFound("shadow function"))?;
    crate::audit::record(
        &mut tx,
        actor,
        "function.import",
        &format!("function:{name}"),
        serde_json::json!({ "owner_id": owner_id, "team_id": team_id }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Imports a shadow for the developer claiming it: allowed only when the function's cloud tags
/// say it is theirs — `lambdaport:owner` is their email, or `lambdaport:team` one of their teams
/// (which then becomes its team). Anything else needs an admin, who imports with `import`.
pub async fn claim(
    pool: &PgPool,
    actor: &crate::audit::Actor,
    account: &crate::accounts::Account,
    function_id: Uuid,
) -> Result<()> {
    let tags = sqlx::query!(
        r#"select f.cloud_config->'tags'->>'lambdaport:owner' as owner,
                  (select t.team_id from team t join team_member m using (team_id)
                   where m.account_id = $2 and t.name = f.cloud_config->'tags'->>'lambdaport:team') as team_id
           from catalog_function f where f.function_id = $1 and not f.tracked"#,
        function_id,
        account.account_id
    )
    .fetch_optional(pool)
    .await?
    .ok_or(Error::NotFound("shadow function"))?;
    let named = tags.owner.is_some_and(|owner| owner.eq_ignore_ascii_case(&account.email));
    if !named && tags.team_id.is_none() {
        return Err(Error::Refused(format!(
            "this function is not tagged as yours: ask an admin to import it, or tag it in the cloud with \
             {OWNER_TAG}={} or {TEAM_TAG}=<one of your teams> and sync",
            account.email
        )));
    }
    import(pool, actor, function_id, account.account_id, tags.team_id).await
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

/// The catalog's metadata of a function, as its owner edits it.
#[derive(Clone, Debug, Default)]
pub struct Metadata {
    /// The owner's email.
    pub owner: String,
    /// A team name, or empty for none.
    pub team: String,
    pub lifecycle: String,
    pub environment: String,
    /// User tags (not `lambdaport:*`).
    pub tags: BTreeMap<String, String>,
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
                  f.cloud_config->'tags'->>'lambdaport:owner' as suggested_owner
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
            updated_at: row.updated_at,
            suggested_owner: row.suggested_owner,
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

/// Whether `account` may change the function: admins always; others when they own it or are in
/// its team; learners only their own.
pub async fn may_edit(
    pool: &PgPool,
    account: &crate::accounts::Account,
    detail: &Detail,
) -> Result<bool> {
    use crate::accounts::Role;
    if account.role == Role::Admin || detail.owner_id == Some(account.account_id) {
        return Ok(true);
    }
    if account.role == Role::Learner {
        return Ok(false);
    }
    in_team(pool, detail.team_id, account.account_id).await
}

/// Whether `account` may see the function: everyone, unless an admin restricted the catalog;
/// then admins, the owner and the owner's team.
pub async fn may_read(
    pool: &PgPool,
    account: &crate::accounts::Account,
    detail: &Detail,
) -> Result<bool> {
    if reader_scope(pool, account).await?.is_none() || detail.owner_id == Some(account.account_id) {
        return Ok(true);
    }
    in_team(pool, detail.team_id, account.account_id).await
}

/// The account whose functions `account` is limited to when listing the catalog: `None` when the
/// catalog is open or the account is an admin.
pub async fn reader_scope(
    pool: &PgPool,
    account: &crate::accounts::Account,
) -> Result<Option<Uuid>> {
    if account.role == crate::accounts::Role::Admin {
        return Ok(None);
    }
    Ok(crate::settings::catalog_restricted(pool).await?.then_some(account.account_id))
}

async fn in_team(pool: &PgPool, team_id: Option<Uuid>, account_id: Uuid) -> Result<bool> {
    let Some(team_id) = team_id else { return Ok(false) };
    Ok(sqlx::query_scalar!(
        r#"select exists(select 1 from team_member where team_id = $1 and account_id = $2) as "member!""#,
        team_id,
        account_id
    )
    .fetch_one(pool)
    .await?)
}

fn valid_tag(key: &str, value: &str) -> Result<()> {
    if key.is_empty() || key.chars().count() > 128 || value.chars().count() > 256 {
        return Err(Error::invalid(
            "tags",
            format!("tag '{key}': keys are 1–128 characters, values up to 256"),
        ));
    }
    if key.starts_with("aws:") || key.starts_with("lambdaport:") {
        return Err(Error::invalid(
            "tags",
            format!("tag '{key}': the aws: and lambdaport: prefixes are reserved"),
        ));
    }
    Ok(())
}

/// Changes owner, team, lifecycle, environment and tags, in the catalog and in the cloud
/// (`lambdaport:*` tags and the user tags) together: if the cloud refuses, nothing changes.
pub async fn update_metadata(
    pool: &PgPool,
    actor: &crate::audit::Actor,
    connection: &Connection,
    detail: &Detail,
    metadata: &Metadata,
) -> Result<()> {
    write_metadata(pool, actor, connection, detail, metadata, "function.update_metadata").await
}

/// Hands the function to another owner (and, when given, another team), keeping everything else;
/// written to the catalog and the cloud's `lambdaport:*` tags like any metadata change, and
/// audited as a transfer.
pub async fn transfer(
    pool: &PgPool,
    actor: &crate::audit::Actor,
    connection: &Connection,
    detail: &Detail,
    new_owner: &str,
    new_team: Option<&str>,
) -> Result<()> {
    if crate::accounts::EmailAddress::parse(new_owner)
        .is_ok_and(|email| detail.entry.owner.as_deref() == Some(email.as_str()))
    {
        return Err(Error::invalid("owner", "that account already owns this function"));
    }
    let metadata = Metadata {
        owner: new_owner.to_owned(),
        team: new_team.map_or_else(|| detail.entry.team.clone().unwrap_or_default(), str::to_owned),
        lifecycle: detail.entry.lifecycle.clone(),
        environment: detail.entry.environment.clone(),
        tags: user_tags(&detail.entry.tags),
    };
    write_metadata(pool, actor, connection, detail, &metadata, "function.transfer").await
}

/// The catalog's user tags (a JSON object of strings) as a map.
pub fn user_tags(tags: &serde_json::Value) -> BTreeMap<String, String> {
    tags.as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect()
}

async fn write_metadata(
    pool: &PgPool,
    actor: &crate::audit::Actor,
    connection: &Connection,
    detail: &Detail,
    metadata: &Metadata,
    action: &str,
) -> Result<()> {
    if !["experimental", "production", "deprecated"].contains(&metadata.lifecycle.as_str()) {
        return Err(Error::invalid("lifecycle", "choose experimental, production or deprecated"));
    }
    if !["dev", "staging", "prod"].contains(&metadata.environment.as_str()) {
        return Err(Error::invalid("environment", "choose dev, staging or prod"));
    }
    for (key, value) in &metadata.tags {
        valid_tag(key, value)?;
    }
    if metadata.tags.len() > 40 {
        return Err(Error::invalid(
            "tags",
            "at most 40 tags (Lambda allows 50, and the console uses 4)",
        ));
    }
    let owner = crate::accounts::find_by_email(pool, &metadata.owner).await?.ok_or_else(|| {
        Error::invalid("owner", format!("no account has the email {}", metadata.owner.trim()))
    })?;
    let team = match metadata.team.trim() {
        "" => None,
        name => Some(
            crate::teams::find_by_name(pool, name)
                .await?
                .ok_or_else(|| Error::invalid("team", format!("there is no team named {name}")))?,
        ),
    };
    // The cloud gets the same: the catalog's metadata as lambdaport:* tags, plus the user tags.
    let lambda = connection.lambda(&detail.entry.region).await;
    let mut tags: std::collections::HashMap<String, String> =
        metadata.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    tags.insert(OWNER_TAG.into(), owner.email.clone());
    tags.insert(LIFECYCLE_TAG.into(), metadata.lifecycle.clone());
    tags.insert(ENVIRONMENT_TAG.into(), metadata.environment.clone());
    if !metadata.team.trim().is_empty() {
        tags.insert(TEAM_TAG.into(), metadata.team.trim().to_owned());
    }
    let cloud = |e: &dyn std::fmt::Display| {
        Error::Conflict(format!(
            "{} refused the tags: {e}; the catalog was not changed, try again",
            connection.name
        ))
    };
    let current = lambda
        .list_tags()
        .resource(&detail.arn)
        .send()
        .await
        .map_err(|e| cloud(&aws_sdk_lambda::error::DisplayErrorContext(&e)))?;
    let stale: Vec<String> = current
        .tags()
        .into_iter()
        .flatten()
        .map(|(k, _)| k.clone())
        .filter(|k| !tags.contains_key(k))
        .collect();
    lambda
        .tag_resource()
        .resource(&detail.arn)
        .set_tags(Some(tags.clone()))
        .send()
        .await
        .map_err(|e| cloud(&aws_sdk_lambda::error::DisplayErrorContext(&e)))?;
    if !stale.is_empty() {
        lambda
            .untag_resource()
            .resource(&detail.arn)
            .set_tag_keys(Some(stale))
            .send()
            .await
            .map_err(|e| cloud(&aws_sdk_lambda::error::DisplayErrorContext(&e)))?;
    }
    // The cloud first, then one short transaction: no transaction (and no pooled connection)
    // waits on the cloud.
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "update catalog_function set owner_id = $2, team_id = $3, lifecycle = $4, environment = $5, tags = $6
         where function_id = $1",
        detail.entry.function_id,
        owner.account_id,
        team,
        metadata.lifecycle,
        metadata.environment,
        serde_json::to_value(&metadata.tags).map_err(anyhow::Error::from)?
    )
    .execute(&mut *tx)
    .await?;
    crate::audit::record(
        &mut tx,
        actor,
        action,
        &format!("function:{}", detail.entry.name),
        serde_json::json!({
            "before": { "owner": detail.entry.owner, "team": detail.entry.team, "lifecycle": detail.entry.lifecycle,
                        "environment": detail.entry.environment, "tags": detail.entry.tags },
            "after": { "owner": owner.email, "team": metadata.team.trim(), "lifecycle": metadata.lifecycle,
                       "environment": metadata.environment, "tags": metadata.tags },
        }),
    )
    .await?;
    // What the cloud holds now is what the catalog says: no drift.
    sqlx::query!(
        "update catalog_function
         set drift = '[]'::jsonb,
             cloud_config = jsonb_set(coalesce(cloud_config, '{}'::jsonb), '{tags}', $2)
         where function_id = $1",
        detail.entry.function_id,
        serde_json::to_value(&tags).map_err(anyhow::Error::from)?
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A function's configuration as the cloud reports it now, beside what the catalog recorded.
#[derive(Clone, Debug)]
pub struct Live {
    /// (field, catalog value, cloud value) for each field.
    pub fields: Vec<(&'static str, String, String)>,
    /// The environment variables, which the catalog does not keep.
    pub environment: BTreeMap<String, String>,
}

/// Reads the function's configuration from the cloud (GetFunctionConfiguration).
pub async fn live(connection: &Connection, detail: &Detail) -> Result<Live> {
    let lambda = connection.lambda(&detail.entry.region).await;
    let config =
        lambda.get_function_configuration().function_name(&detail.arn).send().await.map_err(
            |e| {
                Error::Conflict(format!(
                    "{} did not return the configuration: {}",
                    connection.name,
                    aws_sdk_lambda::error::DisplayErrorContext(&e)
                ))
            },
        )?;
    let text = |v: Option<String>| v.unwrap_or_default();
    let number = |v: Option<i32>| v.map(|n| n.to_string()).unwrap_or_default();
    let fields = vec![
        (
            "runtime",
            text(detail.entry.runtime.clone()),
            text(config.runtime().map(|r| r.as_str().to_owned())),
        ),
        ("handler", text(detail.handler.clone()), text(config.handler().map(str::to_owned))),
        ("memory (MB)", number(detail.memory_mb), number(config.memory_size())),
        ("timeout (s)", number(detail.timeout_s), number(config.timeout())),
        (
            "description",
            detail.entry.description.clone(),
            text(config.description().map(str::to_owned)),
        ),
        (
            "state",
            text(detail.entry.state.clone()),
            text(config.state().map(|s| s.as_str().to_owned())),
        ),
    ];
    let environment = config
        .environment()
        .and_then(|e| e.variables())
        .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    Ok(Live { fields, environment })
}

/// The function's environment variables, for someone who may edit it and asked to see them:
/// read live from the cloud (the catalog never stores them), and the reveal audited.
pub async fn reveal_environment(
    pool: &PgPool,
    actor: &crate::audit::Actor,
    connection: &Connection,
    detail: &Detail,
) -> Result<BTreeMap<String, String>> {
    let environment = live(connection, detail).await?.environment;
    let mut tx = pool.begin().await?;
    crate::audit::record(
        &mut tx,
        actor,
        "function.reveal_environment",
        &format!("function:{}", detail.entry.name),
        serde_json::json!({ "keys": environment.keys().collect::<Vec<_>>() }),
    )
    .await?;
    tx.commit().await?;
    Ok(environment)
}

/// A change to a function's configuration, as the Configuration form sends it.
#[derive(Clone, Debug, Default)]
pub struct ConfigChange {
    pub memory_mb: i32,
    pub timeout_s: i32,
    pub description: String,
    pub handler: String,
    pub runtime: String,
    /// The new variables; `None` keeps the function's current ones (the editor never revealed them).
    pub environment: Option<BTreeMap<String, String>>,
}

/// Which form field a Lambda validation message is about.
fn field_of(message: &str) -> &'static str {
    let lower = message.to_ascii_lowercase();
    [
        ("memorysize", "memory_mb"),
        ("memory", "memory_mb"),
        ("timeout", "timeout_s"),
        ("handler", "handler"),
        ("runtime", "runtime"),
        ("environment", "environment"),
        ("description", "description"),
    ]
    .into_iter()
    .find(|(needle, _)| lower.contains(needle))
    .map_or("configuration", |(_, field)| field)
}

/// Applies a configuration change through UpdateFunctionConfiguration; the cloud's validation
/// errors come back on the field they are about. The catalog records the new values, audited.
pub async fn update_configuration(
    pool: &PgPool,
    actor: &crate::audit::Actor,
    connection: &Connection,
    detail: &Detail,
    change: &ConfigChange,
) -> Result<()> {
    let lambda = connection.lambda(&detail.entry.region).await;
    let environment = change.environment.as_ref().map(|variables| {
        aws_sdk_lambda::types::Environment::builder()
            .set_variables(Some(variables.clone().into_iter().collect()))
            .build()
    });
    let updated = lambda
        .update_function_configuration()
        .function_name(&detail.arn)
        .memory_size(change.memory_mb)
        .timeout(change.timeout_s)
        .description(&change.description)
        .handler(&change.handler)
        .runtime(aws_sdk_lambda::types::Runtime::from(change.runtime.as_str()))
        .set_environment(environment)
        .send()
        .await;
    if let Err(error) = updated {
        let message = error
            .as_service_error()
            .and_then(|e| {
                aws_sdk_lambda::error::ProvideErrorMetadata::message(e).map(str::to_owned)
            })
            .unwrap_or_else(|| aws_sdk_lambda::error::DisplayErrorContext(&error).to_string());
        let invalid = error
            .as_service_error()
            .is_some_and(aws_sdk_lambda::operation::update_function_configuration::UpdateFunctionConfigurationError::is_invalid_parameter_value_exception);
        return Err(if invalid {
            Error::invalid(field_of(&message), message)
        } else {
            Error::Conflict(format!("{} refused the change: {message}", connection.name))
        });
    }
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "update catalog_function set memory_mb = $2, timeout_s = $3, description = $4, handler = $5, runtime = $6
         where function_id = $1",
        detail.entry.function_id,
        change.memory_mb,
        change.timeout_s,
        change.description,
        change.handler,
        change.runtime
    )
    .execute(&mut *tx)
    .await?;
    crate::audit::record(
        &mut tx,
        actor,
        "function.update_configuration",
        &format!("function:{}", detail.entry.name),
        serde_json::json!({
            "before": { "memory_mb": detail.memory_mb, "timeout_s": detail.timeout_s, "handler": detail.handler,
                        "runtime": detail.entry.runtime, "description": detail.entry.description },
            "after": { "memory_mb": change.memory_mb, "timeout_s": change.timeout_s, "handler": change.handler,
                       "runtime": change.runtime, "description": change.description,
                       "environment_keys": change.environment.as_ref().map(|e| e.keys().collect::<Vec<_>>()) },
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
