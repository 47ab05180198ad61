//! Lab runs in the database: one, a list, the ones about to expire; starting one (step 1) and
//! recording a failed attempt.

use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::audit::{self, Actor};
use crate::connections::{self};
use crate::error::{Error, Result};

use super::model::*;

pub(super) struct RunRow {
    pub(super) lab_run_id: Uuid,
    pub(super) account_id: Uuid,
    pub(super) email: String,
    pub(super) connection_id: Uuid,
    pub(super) connection: String,
    pub(super) region: String,
    pub(super) function_name: Option<String>,
    pub(super) function_id: Option<Uuid>,
    pub(super) step: i16,
    pub(super) settings: serde_json::Value,
    pub(super) status: ::model::RunStatus,
    pub(super) pending_step: Option<i16>,
    pub(super) pending_since: Option<OffsetDateTime>,
    pub(super) failures: i32,
    pub(super) last_failure: Option<String>,
    pub(super) failure_resolved: bool,
    pub(super) expires_at: Option<OffsetDateTime>,
    pub(super) created_at: OffsetDateTime,
    pub(super) updated_at: OffsetDateTime,
}

impl From<RunRow> for Run {
    fn from(r: RunRow) -> Self {
        Self {
            lab_run_id: r.lab_run_id,
            account_id: r.account_id,
            email: r.email,
            connection_id: r.connection_id,
            connection: r.connection,
            region: r.region,
            function_name: r.function_name,
            function_id: r.function_id,
            step: r.step,
            settings: serde_json::from_value(r.settings).unwrap_or_default(),
            status: r.status,
            pending_step: r.pending_step,
            pending_since: r.pending_since,
            failures: r.failures,
            last_failure: r.last_failure,
            failure_resolved: r.failure_resolved,
            expires_at: r.expires_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// One run.
pub async fn get(pool: &PgPool, lab_run_id: Uuid) -> Result<Run> {
    sqlx::query_as!(
        RunRow,
        r#"select r.lab_run_id, r.account_id, a.email, r.connection_id, c.name as connection, r.region,
                  r.function_name, r.function_id, r.step, r.settings, r.status as "status: ::model::RunStatus", r.pending_step,
                  r.pending_since, r.failures, r.last_failure, r.failure_resolved, r.expires_at,
                  r.created_at, r.updated_at
           from lab_run r
           join account a on a.account_id = r.account_id
           join connection c on c.connection_id = r.connection_id
           where r.lab_run_id = $1"#,
        lab_run_id
    )
    .fetch_optional(pool)
    .await?
    .map(Run::from)
    .ok_or(Error::NotFound("lab run"))
}

/// Runs, newest first: one account's, or everyone's (`None`, the instructor board). Lists show
/// no wizard state, so their runs carry empty settings (a run's source and last responses stay
/// in the database).
pub async fn list(pool: &PgPool, account_id: Option<Uuid>) -> Result<Vec<Run>> {
    runs(pool, account_id, None).await
}

/// Runs not yet cleaned up that expire within `within` (all of them when `account_id` is None),
/// with empty settings like [`list`].
pub async fn expiring(
    pool: &PgPool,
    account_id: Option<Uuid>,
    within: time::Duration,
) -> Result<Vec<Run>> {
    runs(pool, account_id, Some(OffsetDateTime::now_utc() + within)).await
}

pub(super) async fn runs(
    pool: &PgPool,
    account_id: Option<Uuid>,
    expiring_by: Option<OffsetDateTime>,
) -> Result<Vec<Run>> {
    Ok(sqlx::query_as!(
        RunRow,
        r#"select r.lab_run_id, r.account_id, a.email, r.connection_id, c.name as connection, r.region,
                  r.function_name, r.function_id, r.step, '{}'::jsonb as "settings!",
                  r.status as "status: ::model::RunStatus",
                  r.pending_step, r.pending_since, r.failures, r.last_failure, r.failure_resolved,
                  r.expires_at, r.created_at, r.updated_at
           from lab_run r
           join account a on a.account_id = r.account_id
           join connection c on c.connection_id = r.connection_id
           where r.kind = 'lab' and ($1::uuid is null or r.account_id = $1)
             and ($2::timestamptz is null or (r.status <> 'cleaned_up' and r.expires_at <= $2))
           order by r.created_at desc
           limit 500"#,
        account_id,
        expiring_by
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(Run::from)
    .collect())
}

/// Step 1: a run on a connection and region. `expires_in` sets when the sweeper cleans it up.
pub async fn start(
    pool: &PgPool,
    actor: &Actor,
    account_id: Uuid,
    connection_id: Uuid,
    region: &str,
    expires_in: Option<time::Duration>,
) -> Result<Uuid> {
    insert(pool, actor, account_id, connection_id, region, expires_in, "lab", &Settings::default())
        .await
}

/// A run of `kind`: `lab` (a learner's) or `create` (the Create form's, see `create`), starting
/// with `settings`.
#[expect(clippy::too_many_arguments)]
pub(super) async fn insert(
    pool: &PgPool,
    actor: &Actor,
    account_id: Uuid,
    connection_id: Uuid,
    region: &str,
    expires_in: Option<time::Duration>,
    kind: &str,
    settings: &Settings,
) -> Result<Uuid> {
    let connection = connections::get(pool, connection_id).await?;
    if !connection.regions.iter().any(|r| r == region) {
        return Err(Error::invalid(
            "region",
            format!(
                "{} has the regions {}; choose one",
                connection.name,
                connection.regions.join(", ")
            ),
        ));
    }
    let expires_at = expires_in.map(|d| OffsetDateTime::now_utc() + d);
    let mut tx = pool.begin().await?;
    let lab_run_id = sqlx::query_scalar!(
        "insert into lab_run (account_id, connection_id, region, step, expires_at, kind, settings)
         values ($1, $2, $3, $4, $5, $6, $7) returning lab_run_id",
        account_id,
        connection_id,
        region,
        FUNCTION,
        expires_at,
        kind,
        serde_json::to_value(settings).map_err(anyhow::Error::from)?
    )
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        if kind == "lab" { "lab.start" } else { "create.start" },
        &format!("lab:{lab_run_id}"),
        serde_json::json!({ "connection": connection.name, "region": region }),
    )
    .await?;
    tx.commit().await?;
    Ok(lab_run_id)
}

/// Records a failed attempt at a step (the instructor board shows them).
pub(super) async fn record_failure(
    pool: &PgPool,
    lab_run_id: Uuid,
    step: i16,
    why: &str,
) -> Result<()> {
    sqlx::query!(
        "update lab_run set failures = failures + 1, last_failure = $2, failure_resolved = false
         where lab_run_id = $1",
        lab_run_id,
        format!("step {step}: {why}")
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Step `step` passed: a last problem recorded at that step is put right.
pub(super) async fn resolve_failure(pool: &PgPool, lab_run_id: Uuid, step: i16) -> Result<()> {
    sqlx::query!(
        "update lab_run set failure_resolved = true
         where lab_run_id = $1 and starts_with(last_failure, $2)",
        lab_run_id,
        format!("step {step}:")
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) fn function_of(run: &Run) -> Result<&str> {
    run.function_name
        .as_deref()
        .ok_or_else(|| Error::Conflict("create the function first (step 2)".into()))
}

/// Records what a step changed in the catalog (read back from the cloud: `reads`), then judges
/// the function against the rules with the catalog's metadata. Returns its catalog id.
pub(super) async fn catalogued(
    pool: &PgPool,
    connection: &crate::connections::Connection,
    run: &Run,
    name: &str,
    reads: crate::catalog::Reads,
) -> Result<Uuid> {
    let function_id =
        crate::catalog::record_created(pool, connection, &run.region, name, run.account_id, reads)
            .await?;
    crate::governance::violations::refresh(
        pool,
        crate::governance::violations::Scope::Function(function_id),
    )
    .await;
    Ok(function_id)
}
