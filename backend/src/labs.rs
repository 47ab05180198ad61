//! The guided lab (the tutorial's section 10) as lab runs: each confirmed step is a real action in
//! the cloud, recorded with the resources it created in the ledger.
//!
//! A step that creates something runs in three parts: `begin` (one transaction: the run is marked
//! pending at that step and a `creating` ledger row is written for every resource about to exist),
//! the cloud calls, and `finish` (one transaction: the rows become `present`, the step is recorded,
//! the audit event written). A failure in between rolls back what was created; a crash in between
//! leaves the pending mark and the `creating` rows, which `recover` reconciles with the cloud.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::time::Duration;

use aws_sdk_lambda::error::ProvideErrorMetadata;
use aws_sdk_lambda::primitives::Blob;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::audit::{self, Actor};
use crate::connections::{self, Connection};
use crate::error::{Error, Result};

/// The lab's steps, in order.
pub const CONNECTION: i16 = 1;
pub const FUNCTION: i16 = 2;
pub const CODE: i16 = 3;
pub const SETTINGS: i16 = 4;
pub const URL: i16 = 5;
pub const CALL: i16 = 6;
pub const LOGS: i16 = 7;
pub const VALIDATE: i16 = 8;
pub const CLEANUP: i16 = 9;

/// How long a step may be pending before it counts as interrupted (its longest wait is a minute
/// for the function to become ready, plus up to half a minute for a new role to be assumable).
pub const STALE_AFTER: Duration = Duration::from_secs(180);

/// The managed policy "basic Lambda permissions" means: write logs to CloudWatch.
pub const BASIC_EXECUTION_POLICY: &str =
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";

/// The statement ids AWS's console uses for a public (`NONE`) Function URL.
pub const URL_STATEMENT: &str = "FunctionURLAllowPublicAccess";
pub const INVOKE_STATEMENT: &str = "FunctionURLAllowInvokeAction";

/// What the learner chose so far.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Settings {
    pub runtime: String,
    pub architecture: String,
    pub role_arn: String,
    /// True when the console created the role (it is then in the ledger).
    pub role_created: bool,
    pub team: String,
    pub lifecycle: String,
    pub environment: String,
    pub tags: BTreeMap<String, String>,
    /// The handler file's source as last deployed from the editor.
    pub source: String,
    pub timeout_s: i32,
    pub memory_mb: i32,
    pub auth_type: String,
    pub cors_origins: Vec<String>,
    pub url: String,
    pub last_call: Option<Call>,
    /// What the doctor said about the last call, when it was not 200 `ok`.
    pub last_diagnosis: Option<Diagnosis>,
    /// The last validation's checklist and the doctor's word on it.
    pub last_checks: Vec<Check>,
    pub last_checks_diagnosis: Option<Diagnosis>,
}

/// One lab run.
#[derive(Clone, Debug)]
pub struct Run {
    pub lab_run_id: Uuid,
    pub account_id: Uuid,
    pub email: String,
    pub connection_id: Uuid,
    pub connection: String,
    pub region: String,
    pub function_name: Option<String>,
    pub function_id: Option<Uuid>,
    /// The furthest step reached (earlier ones can be revisited).
    pub step: i16,
    pub settings: Settings,
    pub status: String,
    pub pending_step: Option<i16>,
    pub pending_since: Option<OffsetDateTime>,
    pub failures: i32,
    pub last_failure: Option<String>,
    pub expires_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// The raw HTTP exchange of a call to the URL.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Call {
    pub url: String,
    /// `HTTP/1.1 200 OK`, or empty when no response came.
    pub status_line: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub millis: u64,
    /// Why no response came (connection refused, timed out).
    pub error: Option<String>,
}

impl Call {
    /// What the lab expects: 200 with the body `ok`.
    pub fn passed(&self) -> bool {
        self.status == 200 && self.body.trim() == "ok"
    }
}

/// The handler file, the handler setting and the lab's code for a runtime.
pub fn lab_code(runtime: &str) -> (&'static str, &'static str, &'static str) {
    if runtime.starts_with("nodejs") {
        ("index.mjs", "index.handler", NODE_HANDLER)
    } else if runtime.starts_with("provided") {
        ("bootstrap", "bootstrap", BOOTSTRAP)
    } else {
        ("lambda_function.py", "lambda_function.lambda_handler", PYTHON_HANDLER)
    }
}

const PYTHON_HANDLER: &str = r#"def lambda_handler(event, context):
    # Keep the response simple and text-based so it's easy to validate with curl.
    # For Function URLs, a "proxy-style" response with statusCode/body is expected.
    return {
        "statusCode": 200,
        "headers": {
            "content-type": "text/plain; charset=utf-8"
        },
        "body": "ok\n"
    }
"#;

const NODE_HANDLER: &str = r#"// Keep the response simple and text-based so it's easy to validate with curl.
// For Function URLs, a "proxy-style" response with statusCode/body is expected.
export const handler = async (event) => ({
  statusCode: 200,
  headers: { "content-type": "text/plain; charset=utf-8" },
  body: "ok\n",
});
"#;

const BOOTSTRAP: &str = r#"#!/bin/sh
# A custom runtime: ask the Runtime API for the next event, answer it, repeat.
set -eu
api="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation"
while true; do
  headers=$(mktemp)
  curl -sS -D "$headers" -o /dev/null "$api/next"
  id=$(grep -i '^lambda-runtime-aws-request-id:' "$headers" | tr -d '\r' | cut -d' ' -f2)
  curl -sS -o /dev/null -X POST "$api/$id/response" \
    -d '{"statusCode": 200, "headers": {"content-type": "text/plain; charset=utf-8"}, "body": "ok\n"}'
done
"#;

/// Runtimes the wizard offers, newest first within each family.
pub const RUNTIMES: &[&str] =
    &["python3.13", "python3.12", "python3.11", "nodejs22.x", "nodejs20.x", "provided.al2023"];

fn cloud_said<E, R>(error: &aws_sdk_lambda::error::SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match error.message() {
        Some(message) => format!("{}: {message}", error.code().unwrap_or("Error")),
        None => aws_sdk_lambda::error::DisplayErrorContext(error).to_string(),
    }
}

const NOT_FOUND: &[&str] = &["ResourceNotFoundException", "NoSuchEntity", "NoSuchEntityException"];

type SdkResult<T, E, R> = std::result::Result<T, aws_sdk_lambda::error::SdkError<E, R>>;

/// The answer of a call about one resource: `Some` when it is there, `None` when the cloud says it
/// does not exist (Lambda's, CloudWatch Logs' and IAM's not-found codes), the cloud's words otherwise.
fn found<T, E, R>(result: SdkResult<T, E, R>) -> std::result::Result<Option<T>, String>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match result {
        Ok(output) => Ok(Some(output)),
        Err(e) if e.code().is_some_and(|code| NOT_FOUND.contains(&code)) => Ok(None),
        Err(e) => Err(cloud_said(&e)),
    }
}

/// [`found`], with a failure as a conflict that names the call.
fn lookup<T, E, R>(call: &str, result: SdkResult<T, E, R>) -> Result<Option<T>>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    found(result).map_err(|said| Error::Conflict(format!("{call} failed: {said}")))
}

/// Maps a failed cloud call to a conflict that names the call and quotes the cloud.
fn failed<E, R>(call: &str) -> impl FnOnce(aws_sdk_lambda::error::SdkError<E, R>) -> Error + '_
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    move |e| Error::Conflict(format!("{call} failed: {}", cloud_said(&e)))
}

/// A zip with one file (executable when it is a `bootstrap`).
fn one_file_zip(path: &str, text: &str) -> Result<Vec<u8>> {
    let zipped = |e: zip::result::ZipError| Error::Internal(e.into());
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mode = if path == "bootstrap" { 0o755 } else { 0o644 };
    writer
        .start_file(
            path,
            zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .unix_permissions(mode),
        )
        .map_err(zipped)?;
    writer.write_all(text.as_bytes()).map_err(|e| Error::Internal(e.into()))?;
    Ok(writer.finish().map_err(zipped)?.into_inner())
}

/// Waits until the function is Active and no update is in progress (what the SDK waiters
/// `function_active_v2` and `function_updated_v2` check).
async fn wait_ready(lambda: &aws_sdk_lambda::Client, name: &str) -> Result<()> {
    use aws_sdk_lambda::types::{LastUpdateStatus, State};
    for _ in 0..240 {
        let config = lambda
            .get_function_configuration()
            .function_name(name)
            .send()
            .await
            .map_err(failed("GetFunctionConfiguration"))?;
        match (config.state(), config.last_update_status()) {
            (Some(State::Failed), _) | (_, Some(LastUpdateStatus::Failed)) => {
                return Err(Error::Conflict(format!(
                    "the function failed to become ready: {}",
                    config
                        .state_reason()
                        .or(config.last_update_status_reason())
                        .unwrap_or("no reason given")
                )));
            }
            (Some(State::Pending), _) | (_, Some(LastUpdateStatus::InProgress)) => {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            _ => return Ok(()),
        }
    }
    Err(Error::Conflict("the function was still not ready after a minute; try again".into()))
}

// ---------------------------------------------------------------------------------------------
// Runs
// ---------------------------------------------------------------------------------------------

struct RunRow {
    lab_run_id: Uuid,
    account_id: Uuid,
    email: String,
    connection_id: Uuid,
    connection: String,
    region: String,
    function_name: Option<String>,
    function_id: Option<Uuid>,
    step: i16,
    settings: serde_json::Value,
    status: String,
    pending_step: Option<i16>,
    pending_since: Option<OffsetDateTime>,
    failures: i32,
    last_failure: Option<String>,
    expires_at: Option<OffsetDateTime>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
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
                  r.function_name, r.function_id, r.step, r.settings, r.status, r.pending_step,
                  r.pending_since, r.failures, r.last_failure, r.expires_at, r.created_at, r.updated_at
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

async fn runs(
    pool: &PgPool,
    account_id: Option<Uuid>,
    expiring_by: Option<OffsetDateTime>,
) -> Result<Vec<Run>> {
    Ok(sqlx::query_as!(
        RunRow,
        r#"select r.lab_run_id, r.account_id, a.email, r.connection_id, c.name as connection, r.region,
                  r.function_name, r.function_id, r.step, '{}'::jsonb as "settings!", r.status,
                  r.pending_step, r.pending_since, r.failures, r.last_failure, r.expires_at,
                  r.created_at, r.updated_at
           from lab_run r
           join account a on a.account_id = r.account_id
           join connection c on c.connection_id = r.connection_id
           where ($1::uuid is null or r.account_id = $1)
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
        "insert into lab_run (account_id, connection_id, region, step, expires_at)
         values ($1, $2, $3, $4, $5) returning lab_run_id",
        account_id,
        connection_id,
        region,
        FUNCTION,
        expires_at
    )
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        "lab.start",
        &format!("lab:{lab_run_id}"),
        serde_json::json!({ "connection": connection.name, "region": region }),
    )
    .await?;
    tx.commit().await?;
    Ok(lab_run_id)
}

/// Records a failed attempt at a step (the instructor board shows them).
async fn record_failure(pool: &PgPool, lab_run_id: Uuid, step: i16, why: &str) -> Result<()> {
    sqlx::query!(
        "update lab_run set failures = failures + 1, last_failure = $2 where lab_run_id = $1",
        lab_run_id,
        format!("step {step}: {why}")
    )
    .execute(pool)
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The ledger
// ---------------------------------------------------------------------------------------------

/// A kind of resource the console creates, in the order cleanup deletes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    UrlConfig,
    Permission,
    Function,
    LogGroup,
    RolePolicy,
    Role,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UrlConfig => "url_config",
            Self::Permission => "permission",
            Self::Function => "function",
            Self::LogGroup => "log_group",
            Self::RolePolicy => "role_policy",
            Self::Role => "role",
        }
    }

    pub const ALL: [Kind; 6] = [
        Self::UrlConfig,
        Self::Permission,
        Self::Function,
        Self::LogGroup,
        Self::RolePolicy,
        Self::Role,
    ];

    /// How people call it.
    pub fn label(self) -> &'static str {
        match self {
            Self::UrlConfig => "Function URL",
            Self::Permission => "Permission statement",
            Self::Function => "Function",
            Self::LogGroup => "Log group",
            Self::RolePolicy => "Role policy attachment",
            Self::Role => "IAM role",
        }
    }
}

impl std::str::FromStr for Kind {
    type Err = Error;

    /// A kind as stored; anything else is an error, never a guess (cleanup deletes by kind).
    fn from_str(raw: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw).ok_or_else(|| {
            Error::Internal(anyhow::anyhow!("a ledger entry has an unknown kind {raw:?}"))
        })
    }
}

/// One resource in the ledger.
#[derive(Clone, Debug)]
pub struct Entry {
    pub ledger_entry_id: Uuid,
    pub lab_run_id: Option<Uuid>,
    pub function_id: Option<Uuid>,
    pub connection_id: Uuid,
    pub region: String,
    /// The run id the resource (or, for a URL, statement or log group, its function; for a
    /// policy attachment, its role) was tagged with at creation: `lambdaport:lab-run`.
    pub mark: Option<Uuid>,
    pub kind: Kind,
    pub name: String,
    pub parent: Option<String>,
    pub state: String,
    pub owner: Option<String>,
    pub error: Option<String>,
    pub created_at: OffsetDateTime,
    pub deleted_at: Option<OffsetDateTime>,
}

/// Which part of the ledger: one lab run's resources or one function's.
#[derive(Clone, Copy, Debug)]
pub enum Scope {
    Run(Uuid),
    Function(Uuid),
}

/// The ledger of a run or a function (deleted entries included), in deletion order.
pub async fn ledger(pool: &PgPool, scope: Scope) -> Result<Vec<Entry>> {
    let (run, function) = match scope {
        Scope::Run(id) => (Some(id), None),
        Scope::Function(id) => (None, Some(id)),
    };
    let rows = sqlx::query!(
        r#"select l.ledger_entry_id, l.lab_run_id, l.function_id, l.connection_id, l.region, l.mark,
                  l.kind, l.name, l.parent, l.state, a.email as "owner?", l.error, l.created_at, l.deleted_at
           from ledger_entry l left join account a on a.account_id = l.owner_id
           where ($1::uuid is not null and l.lab_run_id = $1) or ($2::uuid is not null and l.function_id = $2)
           order by l.created_at"#,
        run,
        function
    )
    .fetch_all(pool)
    .await?;
    let mut entries = rows
        .into_iter()
        .map(|r| {
            Ok(Entry {
                ledger_entry_id: r.ledger_entry_id,
                lab_run_id: r.lab_run_id,
                function_id: r.function_id,
                connection_id: r.connection_id,
                region: r.region,
                mark: r.mark,
                kind: r.kind.parse()?,
                name: r.name,
                parent: r.parent,
                state: r.state,
                owner: r.owner,
                error: r.error,
                created_at: r.created_at,
                deleted_at: r.deleted_at,
            })
        })
        .collect::<Result<Vec<Entry>>>()?;
    entries.sort_by_key(|e| e.kind);
    Ok(entries)
}

/// A resource a step is about to create.
struct Intent {
    kind: Kind,
    name: String,
    parent: Option<String>,
}

/// Marks the run pending at `step` and writes a `creating` row for each intent, in one
/// transaction. Refuses while another step of the run is in flight.
async fn begin(pool: &PgPool, run: &Run, step: i16, intents: &[Intent]) -> Result<Vec<Uuid>> {
    let mut tx = pool.begin().await?;
    let marked = sqlx::query_scalar!(
        "update lab_run set pending_step = $2, pending_since = now(), pending_holder = $3
         where lab_run_id = $1 and pending_step is null and status <> 'cleaned_up' and step >= $2
         returning lab_run_id",
        run.lab_run_id,
        step,
        crate::leases::process_id()
    )
    .fetch_optional(&mut *tx)
    .await?;
    if marked.is_none() {
        return Err(Error::Conflict(
            "another step of this lab run is in progress (or the run is cleaned up); reload the page"
                .into(),
        ));
    }
    let mut ids = Vec::with_capacity(intents.len());
    for intent in intents {
        ids.push(
            sqlx::query_scalar!(
                "insert into ledger_entry (lab_run_id, function_id, connection_id, region, owner_id, kind, name, parent, mark)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $1) returning ledger_entry_id",
                run.lab_run_id,
                run.function_id,
                run.connection_id,
                run.region,
                run.account_id,
                intent.kind.as_str(),
                intent.name,
                intent.parent
            )
            .fetch_one(&mut *tx)
            .await?,
        );
    }
    tx.commit().await?;
    Ok(ids)
}

/// What a step records when it finishes.
struct Finish<'a> {
    step: i16,
    next: i16,
    settings: &'a Settings,
    /// The ledger rows `begin` wrote for the step.
    entries: &'a [Uuid],
    /// The function the step created, when it created one.
    function: Option<(&'a str, Uuid)>,
    action: &'a str,
    detail: serde_json::Value,
}

impl<'a> Finish<'a> {
    /// `step` is done and the learner moves on to the next one; it created nothing.
    fn step(step: i16, settings: &'a Settings, action: &'a str, detail: serde_json::Value) -> Self {
        Self { step, next: step + 1, settings, entries: &[], function: None, action, detail }
    }
}

/// Records a finished step: its ledger rows present, the settings, the next step, the audit event.
async fn finish(pool: &PgPool, actor: &Actor, run: &Run, done: Finish<'_>) -> Result<()> {
    let mut tx = pool.begin().await?;
    let function_id = done.function.map(|(_, id)| id).or(run.function_id);
    sqlx::query!(
        "update ledger_entry set state = 'present', function_id = coalesce(function_id, $2)
         where ledger_entry_id = any($1) and state = 'creating'",
        done.entries,
        function_id
    )
    .execute(&mut *tx)
    .await?;
    if let Some((name, id)) = done.function {
        sqlx::query!(
            "update lab_run set function_name = $2, function_id = $3 where lab_run_id = $1",
            run.lab_run_id,
            name,
            id
        )
        .execute(&mut *tx)
        .await?;
    }
    // Still ours: had this process stalled past its lease, another would have rolled the step
    // back, and recording it now would claim resources that are gone.
    let held = sqlx::query_scalar!(
        r#"update lab_run set settings = $2, step = greatest(step, $3), pending_step = null,
                pending_since = null, pending_holder = null
           where lab_run_id = $1 and pending_step = $4 and pending_holder = $5
           returning 1 as "held!""#,
        run.lab_run_id,
        serde_json::to_value(done.settings).map_err(anyhow::Error::from)?,
        done.next,
        done.step,
        crate::leases::process_id()
    )
    .fetch_optional(&mut *tx)
    .await?;
    if held.is_none() {
        return Err(Error::Conflict(format!(
            "step {} was interrupted and rolled back while it ran; confirm it again",
            done.step
        )));
    }
    audit::record(
        &mut tx,
        actor,
        done.action,
        &format!("lab:{}", run.lab_run_id),
        serde_json::json!({ "step": done.step, "detail": done.detail }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Undoes `step` of a run, failed or interrupted: every `creating` resource of the run that
/// exists is deleted (and verified gone), its row removed, the pending mark cleared, and the
/// failure recorded with what was rolled back.
async fn roll_back(
    pool: &PgPool,
    connection: &Connection,
    lab_run_id: Uuid,
    step: i16,
    why: &str,
) -> Result<()> {
    let mut undone = Vec::new();
    for entry in
        ledger(pool, Scope::Run(lab_run_id)).await?.iter().filter(|e| e.state == "creating")
    {
        match delete_and_verify(connection, entry).await {
            Ok(Deletion::Deleted) => undone.push(format!("{} {}", entry.kind.label(), entry.name)),
            Ok(Deletion::AlreadyGone | Deletion::NotOurs(_)) => {}
            Err(error) => {
                // Kept as a present row so cleanup still knows about it.
                sqlx::query!(
                    "update ledger_entry set state = 'present', error = $2 where ledger_entry_id = $1",
                    entry.ledger_entry_id,
                    error
                )
                .execute(pool)
                .await?;
                continue;
            }
        }
        sqlx::query!("delete from ledger_entry where ledger_entry_id = $1", entry.ledger_entry_id)
            .execute(pool)
            .await?;
    }
    let message = if undone.is_empty() {
        why.to_owned()
    } else {
        format!("{why}; rolled back: {}", undone.join(", "))
    };
    sqlx::query!(
        "update lab_run set pending_step = null, pending_since = null, pending_holder = null,
                failures = failures + 1, last_failure = $2
         where lab_run_id = $1",
        lab_run_id,
        format!("step {step}: {message}")
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Reconciles runs whose pending step nobody is running any more, as the console process `me`:
/// a step held by a process that stopped (its lease is gone or expired, or it ran on this machine
/// and is not running now), or one of `me`'s own
/// pending longer than [`STALE_AFTER`]. A step another live process holds is never touched.
/// Whatever the step created is rolled back, so the learner confirms it again. Each run is
/// claimed first (compare-and-set on its holder), so two processes never roll back the same step.
/// Returns the number of runs recovered.
pub async fn recover(pool: &PgPool, me: Uuid) -> Result<usize> {
    // `me` is alive while it recovers: a run it claims must not look abandoned to the others.
    crate::leases::heartbeat(pool, me).await?;
    crate::leases::reap_stopped_here(pool).await?;
    let cutoff = OffsetDateTime::now_utc()
        - time::Duration::try_from(STALE_AFTER).map_err(anyhow::Error::from)?;
    let pending = sqlx::query!(
        r#"select r.lab_run_id, r.connection_id, r.pending_step as "step!", r.pending_holder,
                  r.pending_since as "since!"
           from lab_run r
           where r.pending_step is not null
             and case when r.pending_holder = $1 then r.pending_since <= $2
                      else not exists (select 1 from lease l
                                       where l.name = 'process:' || r.pending_holder::text
                                         and l.expires_at > now())
                 end"#,
        me,
        cutoff
    )
    .fetch_all(pool)
    .await?;
    let mut recovered = 0;
    for run in &pending {
        let claimed = sqlx::query_scalar!(
            r#"update lab_run set pending_holder = $2, pending_since = now()
               where lab_run_id = $1 and pending_step is not null
                 and pending_holder is not distinct from $3 and pending_since = $4
               returning 1 as "claimed!""#,
            run.lab_run_id,
            me,
            run.pending_holder,
            run.since
        )
        .fetch_optional(pool)
        .await?;
        if claimed.is_none() {
            continue; // another process claimed it first
        }
        let connection = connections::get(pool, run.connection_id).await?;
        let step = run.step;
        let why = format!("interrupted (the server stopped during step {step}); confirm it again");
        roll_back(pool, &connection, run.lab_run_id, step, &why).await?;
        recovered += 1;
    }
    Ok(recovered)
}

/// Runs a step's cloud calls; on failure rolls back what they created, records the failure and
/// returns the error.
async fn act<T>(
    pool: &PgPool,
    connection: &Connection,
    run: &Run,
    step: i16,
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    match work.await {
        Ok(value) => Ok(value),
        Err(error) => {
            roll_back(pool, connection, run.lab_run_id, step, &error.to_string()).await?;
            Err(error)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Step 2: the function and its role
// ---------------------------------------------------------------------------------------------

/// What step 2 asks for.
#[derive(Clone, Debug, Default)]
pub struct FunctionInput {
    pub name: String,
    pub runtime: String,
    pub architecture: String,
    /// `new` for a new role with basic Lambda permissions, or an existing role's ARN.
    pub role: String,
    pub team: String,
    pub lifecycle: String,
    pub environment: String,
    pub tags: BTreeMap<String, String>,
}

/// Roles the account has that Lambda could use and the connection allows (all of them when an
/// admin listed none), as (name, ARN).
pub async fn roles(connection: &Connection) -> Result<Vec<(String, String)>> {
    let iam = connection.iam().await;
    let mut roles = Vec::new();
    let mut pages = iam.list_roles().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(failed("IAM ListRoles"))?;
        for role in page.roles() {
            let trusts_lambda = role
                .assume_role_policy_document()
                .is_some_and(|doc| doc.contains("lambda.amazonaws.com"));
            let allowed = connection.allowed_roles.is_empty()
                || connection
                    .allowed_roles
                    .iter()
                    .any(|r| r == role.role_name() || r == role.arn());
            if trusts_lambda && allowed {
                roles.push((role.role_name().to_owned(), role.arn().to_owned()));
            }
        }
    }
    Ok(roles)
}

/// Whether `name` is free in the run's region: not in the catalog, not in the cloud. (Lambda's
/// naming rules are checked by the caller, `app::rules`, which the browser shares.)
pub async fn name_problem(pool: &PgPool, run: &Run, name: &str) -> Result<Option<String>> {
    let in_catalog = sqlx::query_scalar!(
        r#"select exists(select 1 from catalog_function
                         where connection_id = $1 and region = $2 and name = $3 and gone_at is null) as "exists!""#,
        run.connection_id,
        run.region,
        name
    )
    .fetch_one(pool)
    .await?;
    if in_catalog {
        return Ok(Some(format!(
            "the catalog already has a function named {name} in {}",
            run.region
        )));
    }
    let connection = connections::get(pool, run.connection_id).await?;
    let lambda = connection.lambda(&run.region).await;
    let existing = lookup(
        "GetFunctionConfiguration",
        lambda.get_function_configuration().function_name(name).send().await,
    )?;
    Ok(existing.map(|_| format!("a function named {name} already exists in {}", run.region)))
}

fn check_function_input(input: &FunctionInput) -> Result<()> {
    if !RUNTIMES.contains(&input.runtime.as_str()) {
        return Err(Error::invalid("runtime", format!("choose one of {}", RUNTIMES.join(", "))));
    }
    if !["x86_64", "arm64"].contains(&input.architecture.as_str()) {
        return Err(Error::invalid("architecture", "choose x86_64 or arm64"));
    }
    if input.role != "new" && !input.role.starts_with("arn:") {
        return Err(Error::invalid("role", "create a new role or choose an existing one"));
    }
    if !["experimental", "production", "deprecated"].contains(&input.lifecycle.as_str()) {
        return Err(Error::invalid("lifecycle", "choose experimental, production or deprecated"));
    }
    if !["dev", "staging", "prod"].contains(&input.environment.as_str()) {
        return Err(Error::invalid("environment", "choose dev, staging or prod"));
    }
    Ok(())
}

/// Step 2: creates the role (when asked) and the function with the lab's code; or, when the
/// function exists already (the learner came back), updates its runtime and catalog metadata.
pub async fn save_function(
    pool: &PgPool,
    actor: &Actor,
    lab_run_id: Uuid,
    input: &FunctionInput,
) -> Result<()> {
    let run = get(pool, lab_run_id).await?;
    check_function_input(input)?;
    let connection = connections::get(pool, run.connection_id).await?;
    if let Some(name) = &run.function_name {
        return update_function(pool, actor, &connection, &run, name, input).await;
    }
    let name = input.name.trim().to_owned();
    if let Some(problem) = name_problem(pool, &run, &name).await? {
        return Err(Error::invalid("name", problem));
    }
    let team = match input.team.trim() {
        "" => None,
        team => Some(
            crate::teams::find_by_name(pool, team)
                .await?
                .ok_or_else(|| Error::invalid("team", format!("there is no team named {team}")))?,
        ),
    };
    let logs = connection.logs(&run.region).await;
    let group = format!("/aws/lambda/{name}");
    let group_exists = logs
        .describe_log_groups()
        .log_group_name_prefix(&group)
        .send()
        .await
        .map(|out| out.log_groups().iter().any(|g| g.log_group_name() == Some(group.as_str())))
        .unwrap_or(false);

    // An existing role must be one the connection offers: the form's list is not a boundary.
    if input.role != "new" && !roles(&connection).await?.iter().any(|(_, arn)| *arn == input.role) {
        return Err(Error::invalid(
            "role",
            "choose one of the roles offered for this connection (they trust Lambda and an admin allows them), or create a new one",
        ));
    }
    let role_name = role_name_for(&name);
    let mut intents = Vec::new();
    if input.role == "new" {
        intents.push(Intent { kind: Kind::Role, name: role_name.clone(), parent: None });
        intents.push(Intent {
            kind: Kind::RolePolicy,
            name: BASIC_EXECUTION_POLICY.into(),
            parent: Some(role_name.clone()),
        });
    }
    intents.push(Intent { kind: Kind::Function, name: name.clone(), parent: None });
    // A log group left by an earlier function of the same name is not ours to delete.
    if !group_exists {
        intents.push(Intent { kind: Kind::LogGroup, name: group, parent: Some(name.clone()) });
    }
    let entries = begin(pool, &run, FUNCTION, &intents).await?;

    let (file, handler, source) = lab_code(&input.runtime);
    let owner_email = run.email.clone();
    let work = async {
        let role_arn = if input.role == "new" {
            create_role(&connection, &role_name, run.lab_run_id).await?
        } else {
            input.role.clone()
        };
        let lambda = connection.lambda(&run.region).await;
        let mut tags = input.tags.clone();
        tags.insert("lambdaport:owner".into(), owner_email.clone());
        tags.insert("lambdaport:lifecycle".into(), input.lifecycle.clone());
        tags.insert("lambdaport:environment".into(), input.environment.clone());
        tags.insert(RUN_TAG.into(), run.lab_run_id.to_string());
        if !input.team.trim().is_empty() {
            tags.insert("lambdaport:team".into(), input.team.trim().to_owned());
        }
        create_function(
            &lambda,
            &name,
            input,
            &role_arn,
            handler,
            one_file_zip(file, source)?,
            tags,
        )
        .await?;
        wait_ready(&lambda, &name).await?;
        Ok(role_arn)
    };
    let role_arn = act(pool, &connection, &run, FUNCTION, work).await?;

    let function_id =
        crate::catalog::record_created(pool, &connection, &run.region, &name, run.account_id)
            .await?;
    sqlx::query!(
        "update catalog_function set team_id = $2, lifecycle = $3, environment = $4, tags = $5
         where function_id = $1",
        function_id,
        team,
        input.lifecycle,
        input.environment,
        serde_json::to_value(&input.tags).map_err(anyhow::Error::from)?
    )
    .execute(pool)
    .await?;
    let settings = Settings {
        runtime: input.runtime.clone(),
        architecture: input.architecture.clone(),
        role_arn: role_arn.clone(),
        role_created: input.role == "new",
        team: input.team.trim().to_owned(),
        lifecycle: input.lifecycle.clone(),
        environment: input.environment.clone(),
        tags: input.tags.clone(),
        source: source.to_owned(),
        timeout_s: 3,
        memory_mb: 128,
        ..run.settings.clone()
    };
    finish(
        pool,
        actor,
        &run,
        Finish {
            entries: &entries,
            function: Some((&name, function_id)),
            ..Finish::step(
                FUNCTION,
                &settings,
                "lab.function.create",
                serde_json::json!({ "function": name, "runtime": input.runtime, "role": role_arn }),
            )
        },
    )
    .await
}

/// A role name like AWS's console makes: `<function>-role-<8 random>`, within IAM's 64.
fn role_name_for(function: &str) -> String {
    let suffix = &Uuid::new_v4().simple().to_string()[..8];
    let stem: String = function.chars().take(64 - 6 - 8).collect();
    format!("{stem}-role-{suffix}")
}

async fn create_role(connection: &Connection, role_name: &str, run: Uuid) -> Result<String> {
    let iam = connection.iam().await;
    let mark = aws_sdk_iam::types::Tag::builder()
        .key(RUN_TAG)
        .value(run.to_string())
        .build()
        .map_err(anyhow::Error::from)?;
    let created = iam
        .create_role()
        .role_name(role_name)
        .assume_role_policy_document(LAMBDA_TRUST_POLICY)
        .tags(mark)
        .description("Created by Lambdaport's guided lab: basic Lambda permissions (logs)")
        .send()
        .await
        .map_err(failed("IAM CreateRole"))?;
    let arn = created.role().map(|r| r.arn().to_owned()).unwrap_or_default();
    iam.attach_role_policy()
        .role_name(role_name)
        .policy_arn(BASIC_EXECUTION_POLICY)
        .send()
        .await
        .map_err(failed("IAM AttachRolePolicy"))?;
    Ok(arn)
}

/// The tag a lab puts on the function and role it creates: the run's id. Cleanup deletes them
/// only while the tag still says so.
pub const RUN_TAG: &str = "lambdaport:lab-run";

/// The trust policy that lets Lambda assume a role.
pub const LAMBDA_TRUST_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

async fn create_function(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    input: &FunctionInput,
    role_arn: &str,
    handler: &str,
    zip: Vec<u8>,
    tags: BTreeMap<String, String>,
) -> Result<()> {
    use aws_sdk_lambda::types::{Architecture, FunctionCode, Runtime};
    // IAM is eventually consistent: on AWS a new role can take ~10 s before Lambda may assume it.
    for attempt in 0..15 {
        let created = lambda
            .create_function()
            .function_name(name)
            .runtime(Runtime::from(input.runtime.as_str()))
            .architectures(Architecture::from(input.architecture.as_str()))
            .role(role_arn)
            .handler(handler)
            .timeout(3)
            .memory_size(128)
            .description("Guided lab: a Function URL that answers ok")
            .code(FunctionCode::builder().zip_file(Blob::new(zip.clone())).build())
            .set_tags(Some(tags.clone().into_iter().collect()))
            .send()
            .await;
        match created {
            Ok(_) => return Ok(()),
            Err(e)
                if attempt < 14
                    && e.message().is_some_and(|m| m.contains("cannot be assumed by Lambda")) =>
            {
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            Err(e) => return Err(failed("CreateFunction")(e)),
        }
    }
    Err(Error::Conflict("Lambda could not assume the new role; try again in a minute".into()))
}

async fn update_function(
    pool: &PgPool,
    actor: &Actor,
    connection: &Connection,
    run: &Run,
    name: &str,
    input: &FunctionInput,
) -> Result<()> {
    let lambda = connection.lambda(&run.region).await;
    let mut settings = run.settings.clone();
    begin(pool, run, FUNCTION, &[]).await?;
    let work = async {
        if input.runtime != settings.runtime {
            let (_, handler, _) = lab_code(&input.runtime);
            let (_, old_handler, _) = lab_code(&settings.runtime);
            if handler != old_handler {
                return Err(Error::invalid(
                    "runtime",
                    "changing to another language needs new code: clean up and start a new run",
                ));
            }
            lambda
                .update_function_configuration()
                .function_name(name)
                .runtime(aws_sdk_lambda::types::Runtime::from(input.runtime.as_str()))
                .send()
                .await
                .map_err(failed("UpdateFunctionConfiguration"))?;
            wait_ready(&lambda, name).await?;
        }
        Ok(())
    };
    act(pool, connection, run, FUNCTION, work).await?;
    settings.runtime.clone_from(&input.runtime);
    settings.team = input.team.trim().to_owned();
    settings.lifecycle.clone_from(&input.lifecycle);
    settings.environment.clone_from(&input.environment);
    settings.tags.clone_from(&input.tags);
    if let Some(function_id) = run.function_id {
        let detail = crate::catalog::detail(pool, function_id).await?;
        let metadata = crate::catalog::Metadata {
            owner: run.email.clone(),
            team: settings.team.clone(),
            lifecycle: settings.lifecycle.clone(),
            environment: settings.environment.clone(),
            tags: settings.tags.clone(),
        };
        crate::catalog::update_metadata(pool, actor, connection, &detail, &metadata).await?;
        crate::catalog::record_created(pool, connection, &run.region, name, run.account_id).await?;
    }
    finish(
        pool,
        actor,
        run,
        Finish::step(
            FUNCTION,
            &settings,
            "lab.function.update",
            serde_json::json!({ "runtime": input.runtime }),
        ),
    )
    .await
}

fn function_of(run: &Run) -> Result<&str> {
    run.function_name
        .as_deref()
        .ok_or_else(|| Error::Conflict("create the function first (step 2)".into()))
}

// ---------------------------------------------------------------------------------------------
// Steps 3 and 4: code and settings
// ---------------------------------------------------------------------------------------------

/// Step 3: deploys the editor's source as the handler file.
pub async fn deploy_code(
    pool: &PgPool,
    actor: &Actor,
    lab_run_id: Uuid,
    source: &str,
) -> Result<()> {
    let run = get(pool, lab_run_id).await?;
    let name = function_of(&run)?.to_owned();
    if source.trim().is_empty() {
        return Err(Error::invalid("source", "the handler is empty: paste the lab's code back"));
    }
    if source.len() > 512 * 1024 {
        return Err(Error::invalid("source", "the file is larger than 512 KB: upload a zip"));
    }
    let connection = connections::get(pool, run.connection_id).await?;
    let (file, _, _) = lab_code(&run.settings.runtime);
    begin(pool, &run, CODE, &[]).await?;
    let lambda = connection.lambda(&run.region).await;
    let work = async {
        lambda
            .update_function_code()
            .function_name(&name)
            .zip_file(Blob::new(one_file_zip(file, source)?))
            .send()
            .await
            .map_err(|e| {
                Error::invalid("source", format!("the code was refused: {}", cloud_said(&e)))
            })?;
        wait_ready(&lambda, &name).await
    };
    act(pool, &connection, &run, CODE, work).await?;
    let settings = Settings { source: source.to_owned(), ..run.settings.clone() };
    finish(
        pool,
        actor,
        &run,
        Finish::step(
            CODE,
            &settings,
            "lab.code.deploy",
            serde_json::json!({ "file": file, "bytes": source.len() }),
        ),
    )
    .await
}

/// Step 3 by zip: the code was uploaded through the function's code upload; records the step.
pub async fn code_uploaded(pool: &PgPool, actor: &Actor, lab_run_id: Uuid) -> Result<()> {
    let run = get(pool, lab_run_id).await?;
    function_of(&run)?;
    begin(pool, &run, CODE, &[]).await?;
    let settings = Settings { source: String::new(), ..run.settings.clone() };
    finish(
        pool,
        actor,
        &run,
        Finish::step(CODE, &settings, "lab.code.upload", serde_json::json!({})),
    )
    .await
}

/// Step 4: timeout and memory.
pub async fn configure(
    pool: &PgPool,
    actor: &Actor,
    lab_run_id: Uuid,
    timeout_s: i32,
    memory_mb: i32,
) -> Result<()> {
    if !(1..=900).contains(&timeout_s) {
        return Err(Error::invalid("timeout", "a timeout is 1 to 900 seconds (the lab uses 3)"));
    }
    if !(128..=10240).contains(&memory_mb) {
        return Err(Error::invalid("memory", "memory is 128 to 10240 MB (the lab uses 128)"));
    }
    let run = get(pool, lab_run_id).await?;
    let name = function_of(&run)?.to_owned();
    let connection = connections::get(pool, run.connection_id).await?;
    begin(pool, &run, SETTINGS, &[]).await?;
    let lambda = connection.lambda(&run.region).await;
    let work = async {
        lambda
            .update_function_configuration()
            .function_name(&name)
            .timeout(timeout_s)
            .memory_size(memory_mb)
            .send()
            .await
            .map_err(|e| {
                Error::Conflict(format!("the settings were refused: {}", cloud_said(&e)))
            })?;
        wait_ready(&lambda, &name).await
    };
    act(pool, &connection, &run, SETTINGS, work).await?;
    crate::catalog::record_created(pool, &connection, &run.region, &name, run.account_id).await?;
    let settings = Settings { timeout_s, memory_mb, ..run.settings.clone() };
    finish(
        pool,
        actor,
        &run,
        Finish::step(
            SETTINGS,
            &settings,
            "lab.settings",
            serde_json::json!({ "timeout_s": timeout_s, "memory_mb": memory_mb }),
        ),
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Step 5: the Function URL and its permission statements
// ---------------------------------------------------------------------------------------------

/// The statements a public URL needs, as AddPermission would write them, for showing.
pub fn public_statements(function_arn: &str) -> [serde_json::Value; 2] {
    [
        serde_json::json!({
            "Sid": URL_STATEMENT, "Effect": "Allow", "Principal": "*",
            "Action": "lambda:InvokeFunctionUrl", "Resource": function_arn,
            "Condition": { "StringEquals": { "lambda:FunctionUrlAuthType": "NONE" } }
        }),
        serde_json::json!({
            "Sid": INVOKE_STATEMENT, "Effect": "Allow", "Principal": "*",
            "Action": "lambda:InvokeFunction", "Resource": function_arn,
            "Condition": { "Bool": { "lambda:InvokedViaFunctionUrl": "true" } }
        }),
    ]
}

/// The function's resource policy statements (empty when it has none).
async fn statements(lambda: &aws_sdk_lambda::Client, name: &str) -> Result<Vec<serde_json::Value>> {
    let Some(out) = lookup("GetPolicy", lambda.get_policy().function_name(name).send().await)?
    else {
        return Ok(Vec::new());
    };
    let policy: serde_json::Value =
        serde_json::from_str(out.policy().unwrap_or("{}")).unwrap_or_default();
    Ok(policy["Statement"].as_array().cloned().unwrap_or_default())
}

/// Which of the two public statements are missing from a policy.
fn missing_statements(statements: &[serde_json::Value]) -> Vec<&'static str> {
    let allows = |action: &str| {
        statements.iter().any(|s| {
            s["Effect"] == "Allow"
                && (s["Principal"] == "*" || s["Principal"]["AWS"] == "*")
                && s["Action"] == action
        })
    };
    let mut missing = Vec::new();
    if !allows("lambda:InvokeFunctionUrl") {
        missing.push(URL_STATEMENT);
    }
    if !allows("lambda:InvokeFunction") {
        missing.push(INVOKE_STATEMENT);
    }
    missing
}

async fn add_statement(lambda: &aws_sdk_lambda::Client, name: &str, sid: &str) -> Result<()> {
    use aws_sdk_lambda::types::FunctionUrlAuthType;
    let request = lambda.add_permission().function_name(name).statement_id(sid).principal("*");
    let request = if sid == URL_STATEMENT {
        request.action("lambda:InvokeFunctionUrl").function_url_auth_type(FunctionUrlAuthType::None)
    } else {
        request.action("lambda:InvokeFunction").invoked_via_function_url(true)
    };
    request.send().await.map_err(failed(&format!("AddPermission {sid}")))?;
    Ok(())
}

/// Step 5: creates (or changes) the Function URL; for `NONE`, adds both statements; for
/// `AWS_IAM`, removes public statements the console added.
pub async fn save_url(
    pool: &PgPool,
    actor: &Actor,
    lab_run_id: Uuid,
    auth_type: &str,
    cors_origins: &[String],
) -> Result<()> {
    use aws_sdk_lambda::types::{Cors, FunctionUrlAuthType};
    if !["NONE", "AWS_IAM"].contains(&auth_type) {
        return Err(Error::invalid("auth_type", "choose NONE or AWS_IAM"));
    }
    for origin in cors_origins {
        if origin != "*" && !(origin.starts_with("http://") || origin.starts_with("https://")) {
            return Err(Error::invalid(
                "cors",
                format!("{origin} is not an origin: write https://example.com, or *"),
            ));
        }
    }
    let run = get(pool, lab_run_id).await?;
    let name = function_of(&run)?.to_owned();
    let connection = connections::get(pool, run.connection_id).await?;
    let lambda = connection.lambda(&run.region).await;
    let existing = lookup(
        "GetFunctionUrlConfig",
        lambda.get_function_url_config().function_name(&name).send().await,
    )?;
    let present = statements(&lambda, &name).await?;
    let has = |sid: &str| present.iter().any(|s| s["Sid"] == sid);
    let mut intents = Vec::new();
    if existing.is_none() {
        intents.push(Intent {
            kind: Kind::UrlConfig,
            name: name.clone(),
            parent: Some(name.clone()),
        });
    }
    if auth_type == "NONE" {
        for sid in [URL_STATEMENT, INVOKE_STATEMENT] {
            if !has(sid) {
                intents.push(Intent {
                    kind: Kind::Permission,
                    name: sid.into(),
                    parent: Some(name.clone()),
                });
            }
        }
    }
    let entries = begin(pool, &run, URL, &intents).await?;
    let cors = (!cors_origins.is_empty()).then(|| {
        Cors::builder().set_allow_origins(Some(cors_origins.to_vec())).allow_methods("*").build()
    });
    let work = async {
        let auth = FunctionUrlAuthType::from(auth_type);
        let url = match &existing {
            None => lambda
                .create_function_url_config()
                .function_name(&name)
                .auth_type(auth)
                .set_cors(cors.clone())
                .send()
                .await
                .map(|out| out.function_url().to_owned())
                .map_err(failed("CreateFunctionUrlConfig"))?,
            Some(_) => lambda
                .update_function_url_config()
                .function_name(&name)
                .auth_type(auth)
                .cors(cors.clone().unwrap_or_else(|| Cors::builder().build()))
                .send()
                .await
                .map(|out| out.function_url().to_owned())
                .map_err(failed("UpdateFunctionUrlConfig"))?,
        };
        if auth_type == "NONE" {
            for sid in [URL_STATEMENT, INVOKE_STATEMENT] {
                if !has(sid) {
                    add_statement(&lambda, &name, sid).await?;
                }
            }
        }
        Ok(url)
    };
    let url = act(pool, &connection, &run, URL, work).await?;
    if auth_type == "AWS_IAM" {
        // The public statements the console added no longer belong: take them away.
        for entry in ledger(pool, Scope::Run(run.lab_run_id)).await? {
            if entry.kind == Kind::Permission && entry.state == "present" {
                remove_entry(pool, &connection, &entry).await?;
            }
        }
    }
    crate::catalog::record_created(pool, &connection, &run.region, &name, run.account_id).await?;
    let settings = Settings {
        auth_type: auth_type.to_owned(),
        cors_origins: cors_origins.to_vec(),
        url: url.clone(),
        ..run.settings.clone()
    };
    finish(
        pool,
        actor,
        &run,
        Finish {
            entries: &entries,
            ..Finish::step(
                URL,
                &settings,
                "lab.url.save",
                serde_json::json!({ "auth_type": auth_type, "url": url, "cors": cors_origins }),
            )
        },
    )
    .await
}

/// Deletes one ledger resource and records the outcome on its row.
async fn remove_entry(pool: &PgPool, connection: &Connection, entry: &Entry) -> Result<bool> {
    match delete_and_verify(connection, entry).await {
        Ok(deletion) => {
            let note = match deletion {
                Deletion::NotOurs(why) => Some(why),
                Deletion::Deleted | Deletion::AlreadyGone => None,
            };
            sqlx::query!(
                "update ledger_entry set state = 'deleted', deleted_at = now(), error = $2
                 where ledger_entry_id = $1",
                entry.ledger_entry_id,
                note
            )
            .execute(pool)
            .await?;
            Ok(true)
        }
        Err(error) => {
            sqlx::query!(
                "update ledger_entry set error = $2 where ledger_entry_id = $1",
                entry.ledger_entry_id,
                error
            )
            .execute(pool)
            .await?;
            Ok(false)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Step 6: call it, and the doctor
// ---------------------------------------------------------------------------------------------

/// Sends `GET url` from the server and keeps the raw exchange. `*.localhost` resolves to the
/// loopback address (the engine's URLs), as browsers do.
pub async fn send_get(url: &str, timeout: Duration) -> Call {
    let started = std::time::Instant::now();
    let mut builder =
        reqwest::Client::builder().timeout(timeout).redirect(reqwest::redirect::Policy::none());
    if let Ok(parsed) = reqwest::Url::parse(url)
        && let (Some(host), Some(port)) = (parsed.host_str(), parsed.port_or_known_default())
        && host.ends_with(".localhost")
    {
        builder = builder.resolve(host, std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    }
    let mut call = Call { url: url.to_owned(), ..Call::default() };
    let client = match builder.build() {
        Ok(client) => client,
        Err(error) => {
            call.error = Some(error.to_string());
            return call;
        }
    };
    match client.get(url).send().await {
        Ok(response) => {
            let status = response.status();
            call.status = status.as_u16();
            call.status_line = format!(
                "{:?} {} {}",
                response.version(),
                status.as_u16(),
                status.canonical_reason().unwrap_or("")
            )
            .trim_end()
            .to_owned();
            call.headers = response
                .headers()
                .iter()
                .map(|(k, v)| {
                    (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned())
                })
                .collect();
            match response.text().await {
                Ok(body) => call.body = body.chars().take(64 * 1024).collect(),
                Err(error) => call.error = Some(format!("the body could not be read: {error}")),
            }
        }
        Err(error) if error.is_timeout() => {
            call.error = Some(format!("no response within {} s", timeout.as_secs()));
        }
        Err(error) => {
            call.error = Some(format!(
                "the request failed: {}",
                std::error::Error::source(&error)
                    .map_or_else(|| error.to_string(), ToString::to_string)
            ));
        }
    }
    call.millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    call
}

/// Calls the run's URL, waiting as long as the function may run and a little more.
async fn call_url(run: &Run) -> Call {
    let timeout = u64::try_from(run.settings.timeout_s.max(3)).unwrap_or(3) + 5;
    send_get(&run.settings.url, Duration::from_secs(timeout)).await
}

/// Step 6: calls the URL from the server. A 200 with `ok` unlocks the next step; anything else
/// comes back with a diagnosis.
pub async fn call(
    pool: &PgPool,
    actor: &Actor,
    lab_run_id: Uuid,
) -> Result<(Call, Option<Diagnosis>)> {
    let run = get(pool, lab_run_id).await?;
    function_of(&run)?;
    if run.settings.url.is_empty() {
        return Err(Error::Conflict("create the Function URL first (step 5)".into()));
    }
    let connection = connections::get(pool, run.connection_id).await?;
    let call = call_url(&run).await;
    let diagnosis =
        if call.passed() { None } else { Some(diagnose(&connection, &run, &call).await?) };
    let settings = Settings {
        last_call: Some(call.clone()),
        last_diagnosis: diagnosis.clone(),
        ..run.settings.clone()
    };
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "update lab_run set settings = $2, step = greatest(step, $3) where lab_run_id = $1",
        run.lab_run_id,
        serde_json::to_value(&settings).map_err(anyhow::Error::from)?,
        if call.passed() { LOGS } else { CALL }
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        "lab.call",
        &format!("lab:{}", run.lab_run_id),
        serde_json::json!({ "status": call.status, "error": call.error }),
    )
    .await?;
    tx.commit().await?;
    if let Some(diagnosis) = &diagnosis {
        record_failure(pool, run.lab_run_id, CALL, &diagnosis.problem).await?;
    }
    Ok((call, diagnosis))
}

/// A fix the console can apply for the learner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fix {
    /// Switch the URL to `NONE` (with both statements).
    UseAuthNone,
    /// Add the missing public statements.
    AddStatements,
    /// Attach AWSLambdaBasicExecutionRole to the role.
    AttachLogging,
}

impl Fix {
    pub const ALL: [Fix; 3] = [Self::UseAuthNone, Self::AddStatements, Self::AttachLogging];

    /// The name a form sends.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UseAuthNone => "use_auth_none",
            Self::AddStatements => "add_statements",
            Self::AttachLogging => "attach_logging",
        }
    }
}

impl std::str::FromStr for Fix {
    type Err = Error;

    fn from_str(raw: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str() == raw)
            .ok_or_else(|| Error::invalid("fix", "unknown fix; reload the page"))
    }
}

/// Why a check failed, from the actual state, and what to do.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Diagnosis {
    pub problem: String,
    pub details: Vec<String>,
    pub advice: String,
    pub fix: Option<Fix>,
}

/// Works out why a call to the URL did not answer 200 `ok`.
pub async fn diagnose(connection: &Connection, run: &Run, call: &Call) -> Result<Diagnosis> {
    let name = function_of(run)?;
    let lambda = connection.lambda(&run.region).await;
    if call.status == 403 {
        return diagnose_forbidden(&lambda, name).await;
    }
    if call.status == 200 {
        return Ok(Diagnosis {
            problem: format!("The URL answered 200, but the body is {:?}, not \"ok\".", call.body),
            details: vec![],
            advice: "Return the lab's body \"ok\\n\" from the handler (step 3).".into(),
            fix: None,
        });
    }
    if call.status >= 500 || call.error.is_some() {
        return diagnose_failure(&lambda, run, name, call).await;
    }
    Ok(Diagnosis {
        problem: format!("The URL answered {}.", call.status_line),
        details: vec![call.body.clone()],
        advice: "Check the handler's statusCode: the lab returns 200.".into(),
        fix: None,
    })
}

async fn diagnose_forbidden(lambda: &aws_sdk_lambda::Client, name: &str) -> Result<Diagnosis> {
    let config = lambda
        .get_function_url_config()
        .function_name(name)
        .send()
        .await
        .map_err(failed("GetFunctionUrlConfig"))?;
    if config.auth_type().as_str() == "AWS_IAM" {
        return Ok(Diagnosis {
            problem: "403: the URL's auth type is AWS_IAM, so unsigned requests such as curl's are refused."
                .into(),
            details: vec!["AWS_IAM URLs need a SigV4-signed request (service lambda) from someone the policy allows.".into()],
            advice: "For this lab, set the auth type to NONE (step 5); the console adds both permission statements."
                .into(),
            fix: Some(Fix::UseAuthNone),
        });
    }
    let present = statements(lambda, name).await?;
    let missing = missing_statements(&present);
    if missing.is_empty() {
        return Ok(Diagnosis {
            problem: "403 although the auth type is NONE and both statements are there.".into(),
            details: present.iter().map(ToString::to_string).collect(),
            advice: "Check the statements' conditions, or call again: policy changes can take a few seconds."
                .into(),
            fix: None,
        });
    }
    Ok(Diagnosis {
        problem: format!("403: the function's resource policy is missing {}.", missing.join(" and ")),
        details: vec![
            "Since October 2025 a public URL needs two statements: lambda:InvokeFunctionUrl (for the URL) and lambda:InvokeFunction (with InvokedViaFunctionUrl).".into(),
            format!("The policy has {} statement(s): {}", present.len(),
                present.iter().map(|s| s["Sid"].as_str().unwrap_or("?").to_owned()).collect::<Vec<_>>().join(", ")),
        ],
        advice: "Add the missing statement(s); the console can do it for you.".into(),
        fix: Some(Fix::AddStatements),
    })
}

async fn diagnose_failure(
    lambda: &aws_sdk_lambda::Client,
    run: &Run,
    name: &str,
    call: &Call,
) -> Result<Diagnosis> {
    use base64::Engine as _;
    // Invoke once directly with a URL-shaped event to see what the handler does.
    let event = serde_json::json!({
        "version": "2.0", "routeKey": "$default", "rawPath": "/", "rawQueryString": "",
        "headers": { "user-agent": "lambdaport-doctor" },
        "requestContext": { "http": { "method": "GET", "path": "/", "protocol": "HTTP/1.1",
                                      "sourceIp": "127.0.0.1", "userAgent": "lambdaport-doctor" } },
        "isBase64Encoded": false
    });
    // The call waits for the function: its timeout, plus time to start it.
    let wait =
        Duration::from_secs(u64::try_from(run.settings.timeout_s.max(1)).unwrap_or(900) + 30);
    let timeouts = aws_sdk_lambda::config::timeout::TimeoutConfig::builder()
        .operation_attempt_timeout(wait)
        .operation_timeout(wait)
        .build();
    let invoked = lambda
        .invoke()
        .function_name(name)
        .log_type(aws_sdk_lambda::types::LogType::Tail)
        .payload(Blob::new(event.to_string()))
        .customize()
        .config_override(aws_sdk_lambda::config::Builder::default().timeout_config(timeouts))
        .send()
        .await
        .map_err(failed("Invoke"))?;
    let tail = invoked
        .log_result()
        .and_then(|t| base64::engine::general_purpose::STANDARD.decode(t).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let payload = invoked
        .payload()
        .map(|p| String::from_utf8_lossy(p.as_ref()).into_owned())
        .unwrap_or_default();
    let report = tail.lines().find(|l| l.starts_with("REPORT")).unwrap_or_default().to_owned();
    let timeout = run.settings.timeout_s.max(1);
    if tail.contains("Task timed out") || payload.contains("Task timed out") {
        let duration = report
            .split('\t')
            .find_map(|f| f.trim().strip_prefix("Duration: "))
            .unwrap_or("?")
            .to_owned();
        return Ok(Diagnosis {
            problem: format!(
                "The function timed out: the configured timeout is {timeout} s and the invocation ran {duration}."
            ),
            details: vec![report],
            advice: "Make the handler return sooner (the lab's returns at once), or raise the timeout in step 4 if the work really takes longer."
                .into(),
            fix: None,
        });
    }
    if let Some(kind) = invoked.function_error() {
        let error: serde_json::Value = serde_json::from_str(&payload).unwrap_or_default();
        let mut details = vec![format!(
            "{}: {}",
            error["errorType"].as_str().unwrap_or(kind),
            error["errorMessage"].as_str().unwrap_or(&payload)
        )];
        if let Some(trace) = error["stackTrace"].as_array() {
            details
                .extend(trace.iter().filter_map(|l| l.as_str()).map(|l| l.trim_end().to_owned()));
        }
        return Ok(Diagnosis {
            problem: format!(
                "{}: the handler raised an error, so the URL answered 502.",
                if call.status == 0 { "No response".to_owned() } else { call.status.to_string() }
            ),
            details,
            advice: "Fix the error in the handler (step 3); the lab's handler returns a dict with statusCode and body."
                .into(),
            fix: None,
        });
    }
    let returned: serde_json::Value = serde_json::from_str(&payload).unwrap_or_default();
    let problem = match &returned["statusCode"] {
        serde_json::Value::Null => None,
        serde_json::Value::Number(n) if n.is_u64() => None,
        other => Some(format!("statusCode is {other}, not a number")),
    };
    if let Some(problem) = problem {
        return Ok(Diagnosis {
            problem: format!("502: the handler's response cannot be mapped to HTTP: {problem}."),
            details: vec![format!("The handler returned: {payload}")],
            advice: "Function URLs expect a proxy-style response: {\"statusCode\": 200, \"body\": \"ok\\n\"} with statusCode an integer."
                .into(),
            fix: None,
        });
    }
    Ok(Diagnosis {
        problem: match &call.error {
            Some(error) => format!("The request did not complete: {error}."),
            None => format!("The URL answered {}.", call.status_line),
        },
        details: vec![format!("A direct invoke returned: {payload}"), report],
        advice: "The function itself works when invoked directly: check the URL (step 5) and call again.".into(),
        fix: None,
    })
}

/// Applies a fix the doctor offered.
pub async fn apply_fix(pool: &PgPool, actor: &Actor, lab_run_id: Uuid, fix: Fix) -> Result<()> {
    let run = get(pool, lab_run_id).await?;
    let name = function_of(&run)?.to_owned();
    match fix {
        Fix::UseAuthNone | Fix::AddStatements => {
            save_url(pool, actor, lab_run_id, "NONE", &run.settings.cors_origins).await
        }
        Fix::AttachLogging => {
            let connection = connections::get(pool, run.connection_id).await?;
            let role = run.settings.role_arn.rsplit('/').next().unwrap_or_default().to_owned();
            // The attachment the console made at step 2 may have been removed outside it: the
            // ledger already holds it then, and cleanup treats a missing one as gone.
            let known = ledger(pool, Scope::Run(run.lab_run_id)).await?.iter().any(|e| {
                e.kind == Kind::RolePolicy
                    && e.parent.as_deref() == Some(&role)
                    && e.state != "deleted"
            });
            let intent = Intent {
                kind: Kind::RolePolicy,
                name: BASIC_EXECUTION_POLICY.into(),
                parent: Some(role.clone()),
            };
            let entries =
                begin(pool, &run, LOGS, if known { &[] } else { std::slice::from_ref(&intent) })
                    .await?;
            let iam = connection.iam().await;
            let work = async {
                iam.attach_role_policy()
                    .role_name(&role)
                    .policy_arn(BASIC_EXECUTION_POLICY)
                    .send()
                    .await
                    .map_err(failed("AttachRolePolicy"))?;
                Ok(())
            };
            act(pool, &connection, &run, LOGS, work).await?;
            finish(
                pool,
                actor,
                &run,
                Finish {
                    entries: &entries,
                    next: LOGS,
                    ..Finish::step(
                        LOGS,
                        &run.settings,
                        "lab.fix.logging",
                        serde_json::json!({ "role": role, "function": name }),
                    )
                },
            )
            .await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Step 7: logs
// ---------------------------------------------------------------------------------------------

/// The newest log stream of the function and its lines.
#[derive(Clone, Debug, Default)]
pub struct Logs {
    pub group: String,
    pub stream: Option<String>,
    pub events: Vec<(i64, String)>,
}

/// Reads the newest log stream of the run's function.
pub async fn logs(pool: &PgPool, lab_run_id: Uuid) -> Result<Logs> {
    let run = get(pool, lab_run_id).await?;
    let name = function_of(&run)?;
    let connection = connections::get(pool, run.connection_id).await?;
    newest_stream(&connection, &run.region, name).await
}

async fn newest_stream(connection: &Connection, region: &str, name: &str) -> Result<Logs> {
    use aws_sdk_cloudwatchlogs::types::OrderBy;
    let client = connection.logs(region).await;
    let group = format!("/aws/lambda/{name}");
    let streams = lookup(
        "DescribeLogStreams",
        client
            .describe_log_streams()
            .log_group_name(&group)
            .order_by(OrderBy::LastEventTime)
            .descending(true)
            .limit(1)
            .send()
            .await,
    )?;
    let Some(stream) =
        streams.as_ref().and_then(|s| s.log_streams().first()).and_then(|s| s.log_stream_name())
    else {
        return Ok(Logs { group, ..Logs::default() });
    };
    let events = client
        .get_log_events()
        .log_group_name(&group)
        .log_stream_name(stream)
        .start_from_head(true)
        .limit(200)
        .send()
        .await
        .map_err(failed("GetLogEvents"))?;
    Ok(Logs {
        stream: Some(stream.to_owned()),
        events: events
            .events()
            .iter()
            .map(|e| {
                (e.timestamp().unwrap_or_default(), e.message().unwrap_or_default().to_owned())
            })
            .collect(),
        group,
    })
}

/// Step 7 confirmed: the learner found the invocation's stream. Refused (with a diagnosis) when
/// there is none.
pub async fn confirm_logs(
    pool: &PgPool,
    actor: &Actor,
    lab_run_id: Uuid,
) -> Result<Option<Diagnosis>> {
    let run = get(pool, lab_run_id).await?;
    let name = function_of(&run)?.to_owned();
    let connection = connections::get(pool, run.connection_id).await?;
    let found = newest_stream(&connection, &run.region, &name).await?;
    if found.events.iter().any(|(_, m)| m.starts_with("REPORT")) {
        let mut tx = pool.begin().await?;
        sqlx::query!(
            "update lab_run set step = greatest(step, $2) where lab_run_id = $1",
            run.lab_run_id,
            VALIDATE
        )
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            actor,
            "lab.logs",
            &format!("lab:{}", run.lab_run_id),
            serde_json::json!({ "stream": found.stream }),
        )
        .await?;
        tx.commit().await?;
        return Ok(None);
    }
    let diagnosis = diagnose_logs(&connection, &run, &name).await?;
    record_failure(pool, run.lab_run_id, LOGS, &diagnosis.problem).await?;
    Ok(Some(diagnosis))
}

/// Why there are no logs: the role's permissions, the region, whether the call reached it.
pub async fn diagnose_logs(connection: &Connection, run: &Run, name: &str) -> Result<Diagnosis> {
    // Wrong region: the function's logs are where the function is.
    for region in connection.regions.iter().filter(|r| **r != run.region) {
        let elsewhere = newest_stream(connection, region, name).await?;
        if elsewhere.stream.is_some() {
            return Ok(Diagnosis {
                problem: format!("The logs are in {region}, not {}.", run.region),
                details: vec![format!("{} has a stream in {region}", elsewhere.group)],
                advice: format!("Look in {region}: logs live in the function's region."),
                fix: None,
            });
        }
    }
    let reached = run.settings.last_call.as_ref().is_some_and(|c| c.status != 0 && c.status != 403);
    if !reached {
        return Ok(Diagnosis {
            problem: "No invocation reached the function yet, so there is nothing to log.".into(),
            details: vec![],
            advice: "Call the URL first (step 6) and check it answers 200.".into(),
            fix: None,
        });
    }
    let role = run.settings.role_arn.rsplit('/').next().unwrap_or_default().to_owned();
    let iam = connection.iam().await;
    let attached: Vec<String> =
        match iam.list_attached_role_policies().role_name(&role).send().await {
            Ok(out) => out
                .attached_policies()
                .iter()
                .filter_map(|p| p.policy_arn().map(str::to_owned))
                .collect(),
            Err(e) => vec![format!("(could not read the role's policies: {})", cloud_said(&e))],
        };
    let inline: Vec<String> = iam
        .list_role_policies()
        .role_name(&role)
        .send()
        .await
        .map(|out| out.policy_names().to_vec())
        .unwrap_or_default();
    let can_log = attached.iter().any(|p| p.ends_with("AWSLambdaBasicExecutionRole"));
    let mut details = vec![format!(
        "Role {role}: attached {}",
        if attached.is_empty() { "nothing".to_owned() } else { attached.join(", ") }
    )];
    if !inline.is_empty() {
        details.push(format!("Inline policies: {}", inline.join(", ")));
    }
    Ok(Diagnosis {
        problem: if can_log {
            "No log stream yet, although the role may write logs.".into()
        } else {
            "No log stream: the execution role has no logging permissions.".into()
        },
        details,
        advice: if can_log {
            "Logs can take a few seconds to appear: reload, or call the URL again.".into()
        } else {
            "Attach AWSLambdaBasicExecutionRole (logs:CreateLogGroup, CreateLogStream, PutLogEvents) to the role; the console can do it."
                .into()
        },
        fix: (!can_log && run.settings.role_created).then_some(Fix::AttachLogging),
    })
}

// ---------------------------------------------------------------------------------------------
// Step 8: validation
// ---------------------------------------------------------------------------------------------

/// One line of the lab's checklist.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Check {
    pub label: String,
    pub passed: bool,
    pub detail: String,
}

/// Step 8: the lab's checklist, each checked live. All green completes the run.
pub async fn validate(
    pool: &PgPool,
    actor: &Actor,
    lab_run_id: Uuid,
) -> Result<(Vec<Check>, Option<Diagnosis>)> {
    let run = get(pool, lab_run_id).await?;
    let name = function_of(&run)?.to_owned();
    let connection = connections::get(pool, run.connection_id).await?;
    let lambda = connection.lambda(&run.region).await;
    let mut checks = Vec::new();
    let mut diagnosis = None;

    let state = match lambda.get_function_configuration().function_name(&name).send().await {
        Ok(c) => c.state().map(|s| s.as_str().to_owned()).unwrap_or_else(|| "Active".into()),
        Err(e) => format!("not found ({})", cloud_said(&e)),
    };
    checks.push(Check {
        label: "The function is Active".into(),
        passed: state == "Active",
        detail: format!("{name} in {} is {state}", run.region),
    });

    let call = if run.settings.url.is_empty() { None } else { Some(call_url(&run).await) };
    let (status_ok, body_ok, status_detail, body_detail) = match &call {
        None => (false, false, "there is no Function URL (step 5)".to_owned(), "—".to_owned()),
        Some(c) => (
            c.status == 200,
            c.body.trim() == "ok",
            match &c.error {
                Some(e) => e.clone(),
                None => format!("{} in {} ms", c.status_line, c.millis),
            },
            format!("{:?}", c.body.chars().take(200).collect::<String>()),
        ),
    };
    checks.push(Check {
        label: "The URL returns HTTP 200".into(),
        passed: status_ok,
        detail: status_detail,
    });
    checks.push(Check { label: "The body is ok".into(), passed: body_ok, detail: body_detail });
    if let Some(c) = &call
        && !c.passed()
    {
        diagnosis = Some(diagnose(&connection, &run, c).await?);
    }

    let found = newest_stream(&connection, &run.region, &name).await?;
    let stream_ok = found.events.iter().any(|(_, m)| m.starts_with("REPORT"));
    checks.push(Check {
        label: "A log stream with the invocation exists".into(),
        passed: stream_ok,
        detail: match &found.stream {
            Some(s) if stream_ok => format!("{} / {s}", found.group),
            Some(s) => format!("{s} has no REPORT line yet"),
            None => format!("{} has no stream", found.group),
        },
    });
    if !stream_ok && diagnosis.is_none() {
        diagnosis = Some(diagnose_logs(&connection, &run, &name).await?);
    }

    // Invocations recorded: the REPORT lines Lambda writes, one per invocation.
    let logs = connection.logs(&run.region).await;
    let invocations = match logs
        .filter_log_events()
        .log_group_name(format!("/aws/lambda/{name}"))
        .filter_pattern("\"REPORT RequestId\"")
        .limit(100)
        .send()
        .await
    {
        Ok(out) => out.events().len(),
        Err(_) => 0,
    };
    checks.push(Check {
        label: "At least one invocation is recorded".into(),
        passed: invocations > 0,
        detail: format!(
            "{}{invocations} invocation(s) in the function's logs",
            if invocations == 100 { "≥ " } else { "" }
        ),
    });

    let all = checks.iter().all(|c| c.passed);
    let mut tx = pool.begin().await?;
    let settings = Settings {
        last_checks: checks.clone(),
        last_checks_diagnosis: diagnosis.clone(),
        ..run.settings.clone()
    };
    sqlx::query!(
        "update lab_run set settings = $2 where lab_run_id = $1",
        run.lab_run_id,
        serde_json::to_value(&settings).map_err(anyhow::Error::from)?
    )
    .execute(&mut *tx)
    .await?;
    if all {
        sqlx::query!(
            "update lab_run set status = case when status = 'in_progress' then 'completed' else status end,
                    completed_at = coalesce(completed_at, now()), step = greatest(step, $2)
             where lab_run_id = $1",
            run.lab_run_id,
            CLEANUP
        )
        .execute(&mut *tx)
        .await?;
    }
    audit::record(
        &mut tx,
        actor,
        "lab.validate",
        &format!("lab:{}", run.lab_run_id),
        serde_json::json!({ "passed": checks.iter().filter(|c| c.passed).count(), "of": checks.len() }),
    )
    .await?;
    tx.commit().await?;
    if !all {
        let failed: Vec<&str> =
            checks.iter().filter(|c| !c.passed).map(|c| c.label.as_str()).collect();
        record_failure(pool, run.lab_run_id, VALIDATE, &failed.join("; ")).await?;
    }
    Ok((checks, diagnosis))
}

// ---------------------------------------------------------------------------------------------
// Cleanup
// ---------------------------------------------------------------------------------------------

/// What happened to one ledger resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Deleted, and the cloud confirms it is gone.
    Deleted,
    /// Was already gone.
    AlreadyGone,
    /// Deliberately kept (a role another function still uses).
    Kept(String),
    /// Ours is gone; what the cloud has under the name now is someone else's, left alone.
    NotOurs(String),
    /// Could not be deleted.
    Failed(String),
}

/// What deleting one ledger resource came to.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Deletion {
    Deleted,
    AlreadyGone,
    /// What is there now under the name is not what the run made (its `lambdaport:lab-run` tag
    /// says otherwise): left alone; ours is gone.
    NotOurs(String),
}

/// Why what the cloud has under an entry's name is not provably the run's, if it is not: the
/// function (of a function, URL, statement or log group entry) or role (of a role or policy
/// attachment) must carry the run's tag. `Ok(None)` also when it does not exist.
async fn not_ours(
    connection: &Connection,
    entry: &Entry,
) -> std::result::Result<Option<String>, String> {
    let mark = entry.mark.map(|m| m.to_string());
    let tagged = |tag: Option<&str>, what: &str| {
        if tag.is_some() && tag == mark.as_deref() {
            None
        } else {
            Some(format!(
                "left alone: the {what} there now was not made by this run (its {RUN_TAG} tag is {})",
                tag.unwrap_or("missing")
            ))
        }
    };
    let parent = entry.parent.as_deref().unwrap_or_default();
    match entry.kind {
        Kind::Function | Kind::UrlConfig | Kind::Permission | Kind::LogGroup => {
            let function = if entry.kind == Kind::Function { entry.name.as_str() } else { parent };
            let lambda = connection.lambda(&entry.region).await;
            let Some(found) = found(lambda.get_function().function_name(function).send().await)?
            else {
                return Ok(None);
            };
            let tag = found.tags().and_then(|t| t.get(RUN_TAG)).map(String::as_str);
            Ok(tagged(tag, &format!("function {function}")))
        }
        Kind::Role | Kind::RolePolicy => {
            let role = if entry.kind == Kind::Role { entry.name.as_str() } else { parent };
            let iam = connection.iam().await;
            let Some(found) = found(iam.get_role().role_name(role).send().await)? else {
                return Ok(None);
            };
            let tag = found
                .role()
                .and_then(|r| r.tags().iter().find(|t| t.key() == RUN_TAG))
                .map(aws_sdk_iam::types::Tag::value);
            Ok(tagged(tag, &format!("role {role}")))
        }
    }
}

/// Deletes one resource, only if it is provably the run's, and checks that it is gone.
async fn delete_and_verify(
    connection: &Connection,
    entry: &Entry,
) -> std::result::Result<Deletion, String> {
    if let Some(why) = not_ours(connection, entry).await? {
        return Ok(Deletion::NotOurs(why));
    }
    let lambda = connection.lambda(&entry.region).await;
    let parent = entry.parent.as_deref().unwrap_or_default();
    let name = entry.name.as_str();
    let existed = match entry.kind {
        Kind::UrlConfig => {
            found(lambda.delete_function_url_config().function_name(parent).send().await)?.is_some()
        }
        Kind::Permission => {
            found(lambda.remove_permission().function_name(parent).statement_id(name).send().await)?
                .is_some()
        }
        Kind::Function => {
            found(lambda.delete_function().function_name(name).send().await)?.is_some()
        }
        Kind::LogGroup => {
            let logs = connection.logs(&entry.region).await;
            found(logs.delete_log_group().log_group_name(name).send().await)?.is_some()
        }
        Kind::RolePolicy => {
            let iam = connection.iam().await;
            found(iam.detach_role_policy().role_name(parent).policy_arn(name).send().await)?
                .is_some()
        }
        Kind::Role => {
            let iam = connection.iam().await;
            found(iam.delete_role().role_name(name).send().await)?.is_some()
        }
    };
    if exists(connection, entry).await? {
        return Err("the cloud still lists it after the delete".into());
    }
    Ok(if existed { Deletion::Deleted } else { Deletion::AlreadyGone })
}

/// Whether a ledger resource is still there, asked of the cloud.
async fn exists(connection: &Connection, entry: &Entry) -> std::result::Result<bool, String> {
    let lambda = connection.lambda(&entry.region).await;
    let parent = entry.parent.as_deref().unwrap_or_default();
    let name = entry.name.as_str();
    Ok(match entry.kind {
        Kind::UrlConfig => {
            found(lambda.get_function_url_config().function_name(parent).send().await)?.is_some()
        }
        Kind::Permission => statements(&lambda, parent)
            .await
            .map_err(|e| e.to_string())?
            .iter()
            .any(|s| s["Sid"] == name),
        Kind::Function => {
            found(lambda.get_function_configuration().function_name(name).send().await)?.is_some()
        }
        Kind::LogGroup => {
            let logs = connection.logs(&entry.region).await;
            found(logs.describe_log_groups().log_group_name_prefix(name).send().await)?.is_some_and(
                |out| out.log_groups().iter().any(|g| g.log_group_name() == Some(name)),
            )
        }
        Kind::RolePolicy => {
            let iam = connection.iam().await;
            found(iam.list_attached_role_policies().role_name(parent).send().await)?.is_some_and(
                |out| out.attached_policies().iter().any(|p| p.policy_arn() == Some(name)),
            )
        }
        Kind::Role => {
            let iam = connection.iam().await;
            found(iam.get_role().role_name(name).send().await)?.is_some()
        }
    })
}

/// The functions in the connection (any region) that use a role, except `except`.
async fn role_users(connection: &Connection, role: &str, except: &[String]) -> Result<Vec<String>> {
    let iam = connection.iam().await;
    let Some(role) = lookup("GetRole", iam.get_role().role_name(role).send().await)? else {
        return Ok(Vec::new());
    };
    let arn = role.role().map(|r| r.arn().to_owned()).unwrap_or_default();
    let mut users = Vec::new();
    for region in &connection.regions {
        let lambda = connection.lambda(region).await;
        let mut pages = lambda.list_functions().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(failed("ListFunctions"))?;
            for f in page.functions() {
                let name = f.function_name().unwrap_or_default();
                if f.role() == Some(arn.as_str()) && !except.iter().any(|e| e == name) {
                    users.push(format!("{name} ({region})"));
                }
            }
        }
    }
    Ok(users)
}

/// Deletes everything in the ledger of a run or function, in order (URL config, statements,
/// function, log group, then the role and its policy only when no other function uses the role),
/// verifying each deletion against the cloud. Resources the console did not create are never
/// touched: they are not in the ledger.
pub async fn clean_up(pool: &PgPool, actor: &Actor, scope: Scope) -> Result<Vec<(Entry, Outcome)>> {
    let entries: Vec<Entry> =
        ledger(pool, scope).await?.into_iter().filter(|e| e.state != "deleted").collect();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_kinds_and_fixes_round_trip_and_unknown_ones_are_errors() {
        for kind in Kind::ALL {
            assert_eq!(kind.as_str().parse::<Kind>().ok(), Some(kind));
        }
        for fix in Fix::ALL {
            assert_eq!(fix.as_str().parse::<Fix>().ok(), Some(fix));
        }
        // Cleanup deletes by kind: an unknown one must never become a role (or anything).
        assert!(matches!("bucket".parse::<Kind>(), Err(Error::Internal(_))));
        assert!(matches!("Role".parse::<Kind>(), Err(Error::Internal(_))));
        assert!(matches!(
            "UseAuthNone".parse::<Fix>(),
            Err(Error::Validation { field: "fix", .. })
        ));
    }
}
