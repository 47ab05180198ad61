//! Reconciliation: a connection's functions listed through the AWS SDK, recorded as shadows (in
//! the cloud, not imported), ghosts (gone from the cloud) and drift (the cloud's `lambdaport:*`
//! tags disagree with the catalog); one run at a time per connection.

use std::collections::{BTreeMap, HashMap};

use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::connections::Connection;
use crate::error::{Error, Result};

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
pub(super) async fn begin_run(pool: &PgPool, connection_id: Uuid) -> Result<(SyncRun, bool)> {
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

/// What the cloud says about one function. Stored in `cloud_config`, merged over what was kept:
/// a fact that was not read this time (`None`, left out of the JSON) keeps its last reading.
#[derive(Clone, Debug, serde::Serialize)]
pub(super) struct CloudFunction {
    pub(super) name: String,
    pub(super) arn: String,
    pub(super) runtime: Option<String>,
    pub(super) handler: Option<String>,
    pub(super) memory_mb: Option<i32>,
    pub(super) timeout_s: Option<i32>,
    pub(super) architecture: Option<String>,
    pub(super) state: Option<String>,
    pub(super) description: String,
    /// Whether the URL was read (`url`, `url_auth_type` and `cors_allow_origins` say what it is);
    /// when not, the catalog keeps what it had.
    #[serde(skip)]
    pub(super) url_read: bool,
    pub(super) url: Option<String>,
    pub(super) url_auth_type: Option<String>,
    pub(super) tags: BTreeMap<String, String>,
    /// The execution role's ARN (kept in `cloud_config`, for roles shared between functions).
    pub(super) role: Option<String>,
    /// The URL's CORS allowed origins (`cloud_config`, for the rule on `*`); `None`: not read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) cors_allow_origins: Option<Vec<String>>,
    /// The environment variables that look like secrets, by name, with why — never their values
    /// (`cloud_config`, for the rule on secrets).
    pub(super) secret_variables: BTreeMap<String, String>,
    /// The log group (`Some(None)`: there is none; its retention: `None` is for ever), from the
    /// sync's one listing of the region's log groups (`cloud_config`, for the rule on
    /// retention); `None`: not read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) log_group: Option<Option<LogGroup>>,
    /// The resource policy's statements, for the rules on public invoke statements
    /// (`cloud_config`); `None`: not read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) policy: Option<Vec<serde_json::Value>>,
    /// The managed policies attached to the role (the sync reads each role once), for the rule
    /// on administrator-like roles (`cloud_config`); `None`: not read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) role_policies: Option<Vec<String>>,
}

/// A function's log group as the region's listing shows it.
#[derive(Clone, Debug, serde::Serialize)]
pub(super) struct LogGroup {
    pub(super) retention_days: Option<i32>,
}

/// What is read of a function besides its configuration and tags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reads {
    /// Only those: the console changed the function's code, configuration or tags, not its URL
    /// or resource policy, which the catalog keeps as it had them.
    Configuration,
    /// Its URL and resource policy too (the sync; a change of the URL).
    WithUrl,
}

/// One function as the cloud describes it: `f` its configuration, `tags` when the caller has them
/// (GetFunction returns them; ListFunctions does not, then they are listed here).
pub(super) async fn describe(
    lambda: &aws_sdk_lambda::Client,
    f: &aws_sdk_lambda::types::FunctionConfiguration,
    tags: Option<&HashMap<String, String>>,
    reads: Reads,
) -> Option<CloudFunction> {
    let (name, arn) = (f.function_name()?, f.function_arn()?);
    let tags = match tags {
        Some(tags) => tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        None => match lambda.list_tags().resource(arn).send().await {
            Ok(output) => output.tags().cloned().unwrap_or_default().into_iter().collect(),
            Err(_) => BTreeMap::new(),
        },
    };
    let (url, policy) = if reads == Reads::WithUrl {
        let url = lambda.get_function_url_config().function_name(name).send().await.ok();
        let policy = match crate::urls::policy::statements(lambda, name).await {
            Ok(statements) => Some(statements),
            Err(error) => {
                tracing::warn!(function = name, %error, "the resource policy was not read");
                None
            }
        };
        (url, policy)
    } else {
        (None, None)
    };
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
        url_read: reads == Reads::WithUrl,
        url: url.as_ref().map(|u| u.function_url().to_owned()),
        url_auth_type: url.as_ref().map(|u| u.auth_type().as_str().to_owned()),
        tags,
        role: f.role().map(str::to_owned),
        cors_allow_origins: (reads == Reads::WithUrl).then(|| {
            url.as_ref()
                .and_then(|u| u.cors())
                .map(|c| c.allow_origins().to_vec())
                .unwrap_or_default()
        }),
        secret_variables: f
            .environment()
            .and_then(|e| e.variables())
            .into_iter()
            .flatten()
            .filter_map(|(name, value)| {
                crate::governance::secrets::looks_secret(name, value)
                    .map(|why| (name.clone(), why.to_owned()))
            })
            .collect(),
        log_group: None,
        policy,
        role_policies: None,
    })
}

/// The managed policy ARNs attached to the role `arn` names; `None` when they could not be read
/// (a role of another account, or no IAM permission: the rule on admin roles then skips).
async fn attached_policies(iam: &aws_sdk_iam::Client, arn: &str) -> Option<Vec<String>> {
    let name = arn.rsplit('/').next()?;
    let mut arns = Vec::new();
    let mut pages = iam.list_attached_role_policies().role_name(name).into_paginator().send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(page) => arns.extend(
                page.attached_policies().iter().filter_map(|p| p.policy_arn().map(str::to_owned)),
            ),
            Err(error) => {
                let error = crate::cloud::said(&error);
                tracing::warn!(role = name, %error, "the role's policies were not read");
                return None;
            }
        }
    }
    Some(arns)
}

/// The region's `/aws/lambda/…` log groups with their retention (`None`: for ever), in one
/// paginated listing; `None` when they could not be listed (the rule on retention then skips).
async fn log_groups(connection: &Connection, region: &str) -> Option<HashMap<String, Option<i32>>> {
    let logs = connection.logs(region).await;
    let mut groups = HashMap::new();
    let mut pages =
        logs.describe_log_groups().log_group_name_prefix("/aws/lambda/").into_paginator().send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(page) => {
                for group in page.log_groups() {
                    if let Some(name) = group.log_group_name() {
                        groups.insert(name.to_owned(), group.retention_in_days());
                    }
                }
            }
            Err(error) => {
                let error = crate::cloud::said(&error);
                tracing::warn!(connection = %connection.name, region, %error, "log groups not listed");
                return None;
            }
        }
    }
    Some(groups)
}

/// Reconciles a connection with its cloud: every function seen is updated (new ones become
/// shadows), catalog entries no longer there become ghosts, and drift is recorded. Safe to run
/// twice at once: the second call returns the running run.
#[tracing::instrument(skip_all, fields(connection = %connection.name))]
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
    crate::governance::violations::refresh(
        pool,
        crate::governance::violations::Scope::Connection(connection.connection_id),
    )
    .await;
    last_run(pool, connection.connection_id).await?.ok_or(Error::NotFound("sync run"))
}

pub(super) async fn sync_regions(
    pool: &PgPool,
    connection: &Connection,
    run: &SyncRun,
) -> Result<()> {
    // IAM is global: each role's policies are read once for all regions.
    let mut role_policies: HashMap<String, Option<Vec<String>>> = HashMap::new();
    let iam = connection.iam().await;
    for region in &connection.regions {
        let lambda = connection.lambda(region).await;
        let log_groups = log_groups(connection, region).await;
        // Page by page, so the run's progress moves while the cloud is listed.
        let mut pages = lambda.list_functions().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                crate::cloud::error(
                    format_args!("{} ({region}): ListFunctions failed", connection.name),
                    &e,
                )
            })?;
            let (mut seen, mut shadows) = (0, 0);
            for f in page.functions() {
                let Some(mut function) = describe(&lambda, f, None, Reads::WithUrl).await else {
                    continue;
                };
                if let Some(groups) = &log_groups {
                    function.log_group = Some(
                        groups
                            .get(&format!("/aws/lambda/{}", function.name))
                            .map(|&retention_days| LogGroup { retention_days }),
                    );
                }
                if let Some(role) = function.role.clone() {
                    if !role_policies.contains_key(&role) {
                        role_policies.insert(role.clone(), attached_policies(&iam, &role).await);
                    }
                    function.role_policies = role_policies[&role].clone();
                }
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
pub(super) async fn upsert_seen(
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
               description = excluded.description,
               -- The URL when it was read; a function made again under a gone one's name has none yet.
               url = case when $16 or catalog_function.gone_at is not null then excluded.url
                          else catalog_function.url end,
               url_auth_type = case when $16 or catalog_function.gone_at is not null
                                    then excluded.url_auth_type else catalog_function.url_auth_type end,
               tags = excluded.tags,
               -- What was not read this time keeps its last reading (not a gone function's).
               cloud_config = case when catalog_function.gone_at is null
                                   then coalesce(catalog_function.cloud_config, '{}') || excluded.cloud_config
                                   else excluded.cloud_config end,
               last_seen_at = now(), gone_at = null
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
        function.url_read,
    )
    .fetch_one(pool)
    .await?)
}

/// Compares the catalog's owner, team, lifecycle and environment with the cloud's
/// `lambdaport:*` tags, for tracked functions.
pub(super) async fn record_drift(pool: &PgPool, connection_id: Uuid) -> Result<()> {
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
