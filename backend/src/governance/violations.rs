//! Violations: every catalogued function (tracked, shadow or ghost) evaluated against the rules
//! as the catalog knows it, the findings kept in `rule_violation`, replaced at each evaluation —
//! after a sync, after a change made through the console, after a rule changes.
//!
//! What the catalog does not record is not judged here (environment variables, CORS, reserved
//! concurrency, the resource policy, the role's policies, log retention): those rules skip. A
//! role shared by several functions is found from the role ARNs the sync recorded.

use std::collections::{BTreeMap, HashMap};

use model::{Lifecycle, Stage};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::evaluate::{Action, Candidate, UrlCandidate, evaluate};
use super::{rules, runtimes};
use crate::error::Result;

/// Which functions to evaluate.
#[derive(Clone, Copy, Debug)]
pub enum Scope {
    All,
    Connection(Uuid),
    Function(Uuid),
}

struct Row {
    function_id: Uuid,
    connection_id: Uuid,
    name: String,
    runtime: Option<String>,
    architecture: Option<String>,
    memory_mb: Option<i32>,
    timeout_s: Option<i32>,
    url_auth_type: Option<String>,
    team_id: Option<Uuid>,
    lifecycle: String,
    environment: String,
    tags: serde_json::Value,
    role: Option<String>,
    cors: Option<serde_json::Value>,
    secrets: Option<serde_json::Value>,
    log_group: Option<serde_json::Value>,
    policy: Option<serde_json::Value>,
    role_policies: Option<serde_json::Value>,
}

/// Evaluates the functions in `scope` and replaces their recorded violations. Returns how many
/// functions were evaluated.
#[tracing::instrument(skip(pool))]
pub async fn evaluate_catalog(pool: &PgPool, scope: Scope) -> Result<usize> {
    let (all, connection, function) = match scope {
        Scope::All => (true, None, None),
        Scope::Connection(id) => (false, Some(id), None),
        Scope::Function(id) => (false, None, Some(id)),
    };
    let rules = rules::list_rules(pool).await?;
    if rules.is_empty() {
        // Violations go with their rules (on delete cascade): none to evaluate, none to clear.
        return Ok(0);
    }
    let calendar = runtimes::list(pool).await?;
    let mut tx = pool.begin().await?;
    // One evaluation at a time, from reading the catalog to writing what it found: a whole-catalog
    // evaluation that read a function before a change cannot write over that change's findings.
    sqlx::query!("select pg_advisory_xact_lock(hashtext('rule_violation'))")
        .execute(&mut *tx)
        .await?;
    let rows = sqlx::query_as!(
        Row,
        r#"select function_id, connection_id, name, runtime, architecture, memory_mb, timeout_s,
                  url_auth_type, team_id, lifecycle, environment, tags, cloud_config->>'role' as role,
                  cloud_config->'cors_allow_origins' as cors, cloud_config->'secret_variables' as secrets,
                  cloud_config->'log_group' as log_group, cloud_config->'policy' as policy,
                  cloud_config->'role_policies' as role_policies
           from catalog_function
           where archived_at is null
             and ($1 or connection_id = $2 or function_id = $3)"#,
        all,
        connection,
        function
    )
    .fetch_all(&mut *tx)
    .await?;
    // Who else uses the evaluated functions' roles: all of the catalog, not only the functions
    // evaluated — but only those roles, so one function's evaluation reads its role's users, not
    // every catalogued function.
    let mut role_users: HashMap<String, Vec<String>> = HashMap::new();
    if rules.iter().any(|r| r.enabled && r.check.kind() == model::RuleKind::SharedRole) {
        let evaluated_roles: Vec<String> = rows.iter().filter_map(|r| r.role.clone()).collect();
        let roles = sqlx::query!(
            r#"select name, cloud_config->>'role' as "role!" from catalog_function
               where archived_at is null and gone_at is null
                 and cloud_config->>'role' = any($1)"#,
            &evaluated_roles
        )
        .fetch_all(&mut *tx)
        .await?;
        for r in roles {
            role_users.entry(r.role).or_default().push(r.name);
        }
    }
    let mut excepted: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (function_id, rule_id) in super::exceptions::live(&mut tx, function).await? {
        excepted.entry(function_id).or_default().push(rule_id);
    }
    let today = OffsetDateTime::now_utc().date();
    let mut found = Found::default();
    let evaluated: Vec<Uuid> = rows.iter().map(|r| r.function_id).collect();
    for row in rows {
        let candidate = Candidate {
            role_shared_with: row.role.as_ref().and_then(|role| {
                let users = role_users.get(role)?;
                Some(users.iter().filter(|n| **n != row.name).cloned().collect())
            }),
            name: row.name,
            runtime: row.runtime,
            architecture: row.architecture,
            memory_mb: row.memory_mb.map(i64::from),
            timeout_s: row.timeout_s.map(i64::from),
            ephemeral_storage_mb: None,
            reserved_concurrency: None,
            environment_variables: None,
            // What the last sync found (absent for functions not synced since it looks).
            secret_variables: row.secrets.and_then(|s| serde_json::from_value(s).ok()),
            tags: serde_json::from_value::<BTreeMap<String, String>>(row.tags).unwrap_or_default(),
            team_id: row.team_id,
            environment: row.environment.parse().unwrap_or(Stage::Dev),
            lifecycle: row.lifecycle.parse().unwrap_or(Lifecycle::Experimental),
            connection_id: Some(row.connection_id),
            url: row.url_auth_type.map(|auth_type| UrlCandidate {
                auth_type,
                cors_allow_origins: row
                    .cors
                    .and_then(|c| serde_json::from_value(c).ok())
                    .unwrap_or_default(),
                ..UrlCandidate::default()
            }),
            // As the last sync read them (absent or null: not known).
            policy: row.policy.and_then(|p| serde_json::from_value(p).ok()),
            role_policies: row.role_policies.and_then(|p| serde_json::from_value(p).ok()),
            // Known once a sync has listed the region's log groups: the group's retention when
            // it exists (a function never invoked has none yet: nothing to judge).
            log_retention_days: row
                .log_group
                .filter(|g| g.is_object())
                .map(|group| group["retention_days"].as_i64().and_then(|d| i32::try_from(d).ok())),
        };
        let covered = excepted.get(&row.function_id).map_or(&[][..], Vec::as_slice);
        for finding in evaluate(&rules, &calendar, &candidate, Action::Existing, today, covered) {
            found.excepted.push(finding.excepted);
            found.function_ids.push(row.function_id);
            found.rule_ids.push(finding.rule_id);
            found.severities.push(finding.severity.as_str().to_owned());
            found.fields.push(finding.field.to_owned());
            found.messages.push(finding.message);
            found.fixes.push(finding.fix);
        }
    }
    // Only what changed is written: an evaluation that finds what the last one found rewrites
    // nothing (a finding keeps the time it was first found, and the table does not fill with
    // dead rows whose statistics the Violations view's plans would be made from).
    sqlx::query!(
        "with found as (
             select distinct on (function_id, rule_id, message) *
             from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[],
                         $7::bool[]) as t(function_id, rule_id, severity, field, message, fix, excepted)),
         gone as (
             delete from rule_violation v
             where ($8 or v.function_id = any($9))
               and not exists (select 1 from found f
                               where (f.function_id, f.rule_id, f.message)
                                   = (v.function_id, v.rule_id, v.message)))
         insert into rule_violation (function_id, rule_id, severity, field, message, fix, excepted)
         select * from found
         on conflict (function_id, rule_id, message) do update
             set severity = excluded.severity, field = excluded.field, fix = excluded.fix,
                 excepted = excluded.excepted
             where (rule_violation.severity, rule_violation.field, rule_violation.fix,
                    rule_violation.excepted)
                   is distinct from
                   (excluded.severity, excluded.field, excluded.fix, excluded.excepted)",
        &found.function_ids,
        &found.rule_ids,
        &found.severities,
        &found.fields,
        &found.messages,
        &found.fixes,
        &found.excepted,
        all,
        &evaluated,
    )
    .execute(&mut *tx)
    .await?;
    // Under the evaluation lock: no other transaction waits on this row but the next evaluation.
    sqlx::query!("update violation_generation set generation = generation + 1")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    if all {
        // The Violations view's plans are made from these statistics; after the first
        // evaluation, autovacuum would take a minute to notice thousands of new findings.
        // Not this evaluation's failure if it cannot (a role that may not analyze the table).
        if let Err(error) = sqlx::query!("analyze rule_violation").execute(pool).await {
            tracing::warn!(%error, "rule_violation could not be analyzed");
        }
    }
    Ok(evaluated.len())
}

/// Findings as columns, for one `unnest` insert.
#[derive(Default)]
struct Found {
    function_ids: Vec<Uuid>,
    rule_ids: Vec<Uuid>,
    severities: Vec<String>,
    fields: Vec<String>,
    messages: Vec<String>,
    fixes: Vec<String>,
    excepted: Vec<bool>,
}

/// Evaluates after a change without failing the change: a rule that cannot be evaluated now is
/// logged, and the next sync evaluates again. (Violations of a rule switched off are kept but not
/// shown, so switching it on again shows them at once.)
pub async fn refresh(pool: &PgPool, scope: Scope) {
    if let Err(error) = evaluate_catalog(pool, scope).await {
        tracing::warn!(?scope, %error, "violations could not be evaluated");
    }
}

/// How many functions break each rule, and whose they are.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Functions with at least one finding.
    pub functions: i64,
    /// (rule id, functions breaking it), most first.
    pub by_rule: Vec<(Uuid, i64)>,
    /// (team name, or `None` for none; functions), most first.
    pub by_team: Vec<(Option<String>, i64)>,
    /// (owner's email, or `None` for none; functions), most first.
    pub by_owner: Vec<(Option<String>, i64)>,
}

/// What the counts depend on: the database, the evaluation that wrote the findings, and which
/// rules are on (switching one on or off, or deleting it, changes the counts without an
/// evaluation).
#[derive(Clone, Debug, PartialEq, Eq)]
struct SummaryKey {
    database: u32,
    generation: i64,
    enabled: Vec<Uuid>,
}

/// The counts last computed, and for which key.
static SUMMARY: std::sync::Mutex<Option<(SummaryKey, Summary)>> = std::sync::Mutex::new(None);

/// The counts the Violations view opens with: computed once per evaluation (about a tenth of a
/// second at 100,000 functions), then read from memory. The key and the counts are read in one
/// snapshot, so counts are never kept under a key they do not belong to. (Team names and owners'
/// emails in them are as of when they were computed.)
pub async fn summary(pool: &PgPool) -> Result<Summary> {
    let mut tx = pool.begin().await?;
    sqlx::query!("set transaction isolation level repeatable read, read only")
        .execute(&mut *tx)
        .await?;
    let key = sqlx::query!(
        r#"select (select oid from pg_database where datname = current_database()) as "database!",
                  (select generation from violation_generation) as "generation!",
                  array(select rule_id from governance_rule where enabled order by rule_id)
                      as "enabled!""#
    )
    .fetch_one(&mut *tx)
    .await?;
    let key =
        SummaryKey { database: key.database.0, generation: key.generation, enabled: key.enabled };
    let kept = SUMMARY.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    if let Some((kept_key, counts)) = kept
        && kept_key == key
    {
        return Ok(counts);
    }
    let counts = count(&mut tx).await?;
    tx.commit().await?;
    *SUMMARY.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
        Some((key, counts.clone()));
    Ok(counts)
}

/// The counts, computed from the recorded findings.
async fn count(tx: &mut sqlx::PgConnection) -> Result<Summary> {
    let functions = sqlx::query_scalar!(
        r#"select count(distinct function_id) as "n!" from rule_violation
           where not excepted and rule_id in (select rule_id from governance_rule where enabled)"#
    )
    .fetch_one(&mut *tx)
    .await?;
    let by_rule = sqlx::query!(
        r#"select rule_id, count(distinct function_id) as "n!" from rule_violation
           where not excepted and rule_id in (select rule_id from governance_rule where enabled)
           group by rule_id order by 2 desc, 1"#
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|r| (r.rule_id, r.n))
    .collect();
    let by_team = sqlx::query!(
        r#"select t.name as "team?", count(distinct v.function_id) as "n!"
           from rule_violation v join catalog_function f using (function_id)
           left join team t on t.team_id = f.team_id
           where not v.excepted and v.rule_id in (select rule_id from governance_rule where enabled)
           group by t.name order by 2 desc, 1 nulls first limit 50"#
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|r| (r.team, r.n))
    .collect();
    let by_owner = sqlx::query!(
        r#"select a.email as "email?", count(distinct v.function_id) as "n!"
           from rule_violation v join catalog_function f using (function_id)
           left join account a on a.account_id = f.owner_id
           where not v.excepted and v.rule_id in (select rule_id from governance_rule where enabled)
           group by a.email order by 2 desc, 1 nulls first limit 50"#
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|r| (r.email, r.n))
    .collect();
    Ok(Summary { functions, by_rule, by_team, by_owner })
}

/// One recorded finding.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub rule_id: Uuid,
    pub severity: String,
    pub message: String,
    pub fix: String,
    /// A live exception covers it.
    pub excepted: bool,
}

/// A function that breaks at least one rule, with what it breaks.
#[derive(Clone, Debug)]
pub struct Violating {
    pub function_id: Uuid,
    pub name: String,
    pub region: String,
    pub connection: String,
    pub owner: Option<String>,
    pub team: Option<String>,
    /// Found in the cloud, not imported.
    pub shadow: bool,
    /// Gone from the cloud.
    pub ghost: bool,
    pub findings: Vec<Recorded>,
}

/// A page of violating functions by name (optionally only those breaking `rule_id`), after the
/// keyset `(name, function_id)`.
pub async fn list_violating(
    pool: &PgPool,
    rule_id: Option<Uuid>,
    after: Option<(String, Uuid)>,
    limit: i64,
) -> Result<Vec<Violating>> {
    let (after_name, after_id) = after.unzip();
    let mut tx = pool.begin().await?;
    // A page walks the catalog by name until it has `limit` violators: a few milliseconds on one
    // process. Postgres would rather split the walk over parallel workers, which costs more to
    // start than the walk itself (14 ms against 2.4 ms at 100,000 functions, one rule of ten).
    sqlx::query!("set local max_parallel_workers_per_gather = 0").execute(&mut *tx).await?;
    let rows = sqlx::query!(
        r#"with page as (
               select f.function_id, f.name, f.region, c.name as connection, a.email as owner,
                      t.name as team, not f.tracked as shadow, f.gone_at is not null as ghost
               from catalog_function f
               join connection c using (connection_id)
               left join account a on a.account_id = f.owner_id
               left join team t on t.team_id = f.team_id
               where exists (select 1 from rule_violation v join governance_rule r using (rule_id)
                             where v.function_id = f.function_id and r.enabled
                               and ($1::uuid is null or v.rule_id = $1))
                 and ($2::text is null or (f.name, f.function_id) > ($2, $3::uuid))
               order by f.name, f.function_id
               limit $4)
           select p.function_id as "function_id!", p.name as "name!", p.region as "region!",
                  p.connection as "connection!", p.owner as "owner?", p.team as "team?", p.shadow as "shadow!", p.ghost as "ghost!",
                  v.rule_id, v.severity, v.message, v.fix, v.excepted
           from page p join rule_violation v using (function_id)
           where v.rule_id in (select rule_id from governance_rule where enabled)
           order by p.name, p.function_id, array_position(array['error', 'warning', 'info'], v.severity), v.message"#,
        rule_id,
        after_name,
        after_id,
        limit
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let mut page: Vec<Violating> = Vec::new();
    for r in rows {
        if page.last().is_none_or(|v| v.function_id != r.function_id) {
            page.push(Violating {
                function_id: r.function_id,
                name: r.name,
                region: r.region,
                connection: r.connection,
                owner: r.owner,
                team: r.team,
                shadow: r.shadow,
                ghost: r.ghost,
                findings: Vec::new(),
            });
        }
        if let Some(v) = page.last_mut() {
            v.findings.push(Recorded {
                rule_id: r.rule_id,
                severity: r.severity,
                message: r.message,
                fix: r.fix,
                excepted: r.excepted,
            });
        }
    }
    Ok(page)
}

/// What one function breaks, for its page.
pub async fn of_function(pool: &PgPool, function_id: Uuid) -> Result<Vec<Recorded>> {
    Ok(sqlx::query_as!(
        Recorded,
        "select rule_id, severity, message, fix, excepted from rule_violation
         where function_id = $1 and rule_id in (select rule_id from governance_rule where enabled)
         order by array_position(array['error', 'warning', 'info'], severity), message",
        function_id
    )
    .fetch_all(pool)
    .await?)
}

/// One day of the trend: how many functions broke at least one rule, and each rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Day {
    pub day: time::Date,
    pub functions: i64,
    pub by_rule: BTreeMap<Uuid, i64>,
}

/// Records today's counts (UTC days): the last record of a day is its point in the trend. The
/// counts are kept per evaluation and the row is written only when they changed.
pub async fn record_day(pool: &PgPool) -> Result<()> {
    let summary = summary(pool).await?;
    let by_rule: serde_json::Map<String, serde_json::Value> =
        summary.by_rule.iter().map(|(rule, n)| (rule.to_string(), (*n).into())).collect();
    sqlx::query!(
        "insert into violation_day (day, functions, by_rule)
         values ((now() at time zone 'utc')::date, $1, $2)
         on conflict (day) do update set functions = excluded.functions, by_rule = excluded.by_rule
         where (violation_day.functions, violation_day.by_rule)
               is distinct from (excluded.functions, excluded.by_rule)",
        summary.functions,
        serde_json::Value::Object(by_rule)
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// The recorded days of the last `days` days before today, oldest first (today's counts are the
/// summary's).
pub async fn trend(pool: &PgPool, days: i32) -> Result<Vec<Day>> {
    let rows = sqlx::query!(
        "select day, functions, by_rule from violation_day
         where day >= (now() at time zone 'utc')::date - $1::int
           and day < (now() at time zone 'utc')::date
         order by day",
        days
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Day {
            day: r.day,
            functions: r.functions,
            by_rule: serde_json::from_value::<BTreeMap<String, i64>>(r.by_rule)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|(rule, n)| Some((rule.parse().ok()?, n)))
                .collect(),
        })
        .collect())
}

/// Evaluates the whole catalog in the background after a rule changes, so the admin's request
/// does not wait for it (seconds at 100,000 functions).
pub fn refresh_all_later(pool: &PgPool) {
    let pool = pool.clone();
    tokio::spawn(async move { refresh(&pool, Scope::All).await });
}
