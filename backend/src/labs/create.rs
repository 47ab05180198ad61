//! The one-page Create form: the lab's steps 2 to 5 in one go — the function and its role, its
//! code, its settings, its URL — as a run of kind `create`, so the ledger, the rollback and the
//! cleanup are the lab's. All or nothing: everything is checked (the input, the name, the
//! platform team's rules) before anything is made, and a step that fails takes what the earlier
//! ones made with it, deleted and verified gone.

use sqlx::PgPool;
use uuid::Uuid;

use crate::audit::{self, Actor};
use crate::error::{Error, Result};
use crate::governance::{self, Action, Finding};

use super::cloud::lab_code;
use super::model::*;

/// What the form asks for.
#[derive(Clone, Debug, Default)]
pub struct CreateInput {
    pub connection_id: Uuid,
    pub region: String,
    pub function: FunctionInput,
    /// The handler file's source; empty or the runtime's template keeps the template.
    pub source: String,
    pub memory_mb: i32,
    pub timeout_s: i32,
    /// `None`: no Function URL.
    pub url: Option<UrlChoice>,
    /// Another owner's email (an admin creating for someone); `None`: whoever creates it.
    pub owner: Option<String>,
}

/// The Function URL the form asks for.
#[derive(Clone, Debug, Default)]
pub struct UrlChoice {
    /// `NONE` (public) or `AWS_IAM`.
    pub auth_type: String,
    pub cors_origins: Vec<String>,
    /// For a public URL: hours until the sweeper switches it off (`None`: never).
    pub expires_in_hours: Option<i64>,
}

impl CreateInput {
    /// The run's settings once every step is done.
    fn settings(&self) -> Settings {
        let url = self.url.clone().unwrap_or_default();
        Settings {
            runtime: self.function.runtime.clone(),
            architecture: self.function.architecture.clone(),
            team: self.function.team.trim().to_owned(),
            lifecycle: self.function.lifecycle.clone(),
            environment: self.function.environment.clone(),
            tags: self.function.tags.clone(),
            timeout_s: self.timeout_s,
            memory_mb: self.memory_mb,
            auth_type: url.auth_type,
            cors_origins: url.cors_origins,
            url_expires_in_hours: self.url_expires_in_hours(),
            ..Settings::default()
        }
    }

    fn url_expires_in_hours(&self) -> Option<i64> {
        self.url.as_ref().and_then(|u| u.expires_in_hours)
    }

    fn url_expires_in_minutes(&self) -> Option<i64> {
        self.url_expires_in_hours().map(|h| h * 60)
    }

    /// What the form's fields must be, whatever the rules say: a validation error on the field.
    fn validate(&self) -> Result<()> {
        super::function::check_function_input(&self.function)?;
        if !(1..=900).contains(&self.timeout_s) {
            return Err(Error::invalid("timeout", "a timeout is 1 to 900 seconds"));
        }
        if !(128..=10240).contains(&self.memory_mb) {
            return Err(Error::invalid("memory", "memory is 128 to 10240 MB"));
        }
        if self.source.len() > 512 * 1024 {
            return Err(Error::invalid(
                "source",
                "the file is larger than 512 KB: create the function, then upload a zip on its Code tab",
            ));
        }
        if let Some(url) = &self.url {
            super::url::check_origins(&url.cors_origins)?;
            url.auth_type
                .parse::<model::UrlAuthType>()
                .map_err(|e| Error::unknown("auth_type", &e))?;
            if let Some(hours) = url.expires_in_hours {
                if url.auth_type != "NONE" {
                    return Err(Error::invalid(
                        "url_expiry_hours",
                        "only a public (NONE) URL expires: leave it empty for AWS_IAM",
                    ));
                }
                if !(1..=8760).contains(&hours) {
                    return Err(Error::invalid("url_expiry_hours", "1 to 8760 hours (a year)"));
                }
            }
        }
        Ok(())
    }
}

/// The function `input` describes, as the rules judge it.
async fn candidate(pool: &PgPool, input: &CreateInput) -> Result<governance::Candidate> {
    super::rules::candidate_on(
        pool,
        input.connection_id,
        input.url_expires_in_minutes(),
        input.function.name.trim(),
        &input.settings(),
    )
    .await
}

/// What the platform team's rules say about `input`, as the form shows it while it is typed.
pub async fn evaluate(pool: &PgPool, input: &CreateInput) -> Result<Vec<Finding>> {
    governance::check(pool, &candidate(pool, input).await?, Action::Create, None).await
}

/// Creates the function as `input` says, for `account_id`. Returns its catalog id.
pub async fn create(
    pool: &PgPool,
    actor: &Actor,
    account_id: Uuid,
    input: &CreateInput,
) -> Result<Uuid> {
    input.validate()?;
    let name = input.function.name.trim();
    let candidate = candidate(pool, input).await?;
    governance::enforce(pool, &candidate, Action::Create, None, &[], super::rules::form_field)
        .await?;
    if let Some(problem) =
        super::function::name_problem(pool, input.connection_id, &input.region, name).await?
    {
        return Err(Error::invalid("name", problem));
    }
    if let Some(owner) = &input.owner {
        let known = sqlx::query_scalar!(
            r#"select exists(select 1 from account where email = lower($1)) as "known!""#,
            owner.trim()
        )
        .fetch_one(pool)
        .await?;
        if !known {
            return Err(Error::invalid("owner", format!("no account has the email {owner}")));
        }
    }
    let lab_run_id = super::runs::insert(
        pool,
        actor,
        account_id,
        input.connection_id,
        &input.region,
        None,
        "create",
        // The URL's expiry is known to the rules from the first step on.
        &Settings { url_expires_in_hours: input.url_expires_in_hours(), ..Settings::default() },
    )
    .await?;
    match steps(pool, actor, lab_run_id, input).await {
        Ok(function_id) => Ok(function_id),
        Err(error) => Err(undo(pool, actor, lab_run_id, error).await),
    }
}

/// Steps 2 to 5 of the lab on the run, each recorded in the ledger as it is made.
async fn steps(
    pool: &PgPool,
    actor: &Actor,
    lab_run_id: Uuid,
    input: &CreateInput,
) -> Result<Uuid> {
    super::function::save_function(pool, actor, lab_run_id, &input.function).await?;
    let (_, _, template) = lab_code(&input.function.runtime);
    if input.source.trim().is_empty() || input.source == template {
        super::code::template_kept(pool, actor, lab_run_id).await?;
    } else {
        super::code::deploy_code(pool, actor, lab_run_id, &input.source).await?;
    }
    super::code::configure(pool, actor, lab_run_id, input.timeout_s, input.memory_mb).await?;
    if let Some(url) = &input.url {
        super::url::save_url(pool, actor, lab_run_id, &url.auth_type, &url.cors_origins).await?;
    }
    let run = super::runs::get(pool, lab_run_id).await?;
    let function_id = run.function_id.ok_or_else(|| {
        Error::Internal(anyhow::anyhow!("the created function has no catalog id"))
    })?;
    let other_owner = input.owner.as_deref().map(str::trim);
    if let Some(owner) = other_owner.filter(|o| !o.eq_ignore_ascii_case(&run.email)) {
        let connection = crate::connections::get(pool, run.connection_id).await?;
        let detail = crate::catalog::detail(pool, function_id).await?;
        crate::catalog::transfer(pool, actor, &connection, &detail, owner, None).await?;
    }
    let mut tx = pool.begin().await?;
    if let Some(minutes) = input.url_expires_in_minutes() {
        sqlx::query!(
            "update catalog_function
             set url_expires_at = now() + make_interval(mins => $2::int), url_expired_at = null,
                 url_expired_action = null
             where function_id = $1",
            function_id,
            i32::try_from(minutes).unwrap_or(i32::MAX)
        )
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query!(
        "update lab_run set status = 'completed', completed_at = now() where lab_run_id = $1",
        lab_run_id
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        "function.create",
        &format!("function:{function_id}"),
        serde_json::json!({
            "function": input.function.name.trim(),
            "runtime": input.function.runtime,
            "memory_mb": input.memory_mb,
            "timeout_s": input.timeout_s,
            "url": input.url.as_ref().map(|u| serde_json::json!({
                "auth_type": u.auth_type, "cors_allow_origins": u.cors_origins,
                "expires_in_hours": u.expires_in_hours })),
            "lab_run": lab_run_id,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(function_id)
}

/// After a failed step (which rolled back its own part): deletes what the earlier steps made and
/// says so in the error, or says what could not be deleted and where to finish.
async fn undo(pool: &PgPool, actor: &Actor, lab_run_id: Uuid, error: Error) -> Error {
    let outcomes = match super::cleanup::clean_up(pool, actor, Scope::Run(lab_run_id)).await {
        Ok(outcomes) => outcomes,
        Err(cleanup) => {
            tracing::error!(%lab_run_id, %cleanup, "a failed create could not be cleaned up");
            return error;
        }
    };
    let left: Vec<String> = outcomes
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Failed(_)))
        .map(|(e, _)| format!("{} {}", e.kind.label(), e.name))
        .collect();
    if left.is_empty() {
        return error;
    }
    let note = format!(
        "; what the earlier steps made could not all be deleted ({}): the function's Cleanup tab, or Governance → Orphans, finishes it",
        left.join(", ")
    );
    match error {
        Error::Validation { field, message } => {
            Error::Validation { field, message: message + &note }
        }
        Error::Conflict(message) => Error::Conflict(message + &note),
        other => {
            tracing::error!(%lab_run_id, left = %left.join(", "), "a failed create left resources");
            other
        }
    }
}
