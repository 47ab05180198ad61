//! The platform team's rules at each lab step that creates or changes something (the function,
//! its settings, its URL): the same evaluation as the Create form and `POST /api/v1/evaluations`,
//! before any cloud call. An error-level finding refuses the step on the form's field, with the
//! fix; warnings do not stop the lab.

use sqlx::PgPool;
use time::OffsetDateTime;

use crate::error::Result;
use crate::governance::{self, Action, Candidate, UrlCandidate};

use super::model::*;

/// The function as the run would leave it: its name, the settings so far, and the URL when the
/// step makes one.
pub(super) async fn candidate(
    pool: &PgPool,
    run: &Run,
    name: &str,
    settings: &Settings,
) -> Result<Candidate> {
    // Chosen on the Create form; else a lab's URL goes with its run, which the sweeper deletes
    // when it expires.
    let url_expires_in_minutes = settings.url_expires_in_hours.map(|h| h * 60).or_else(|| {
        run.expires_at.map(|at| (at - OffsetDateTime::now_utc()).whole_minutes().max(0))
    });
    candidate_on(pool, run.connection_id, url_expires_in_minutes, name, settings).await
}

/// The function `settings` describe on `connection_id`, its public URL (if any) living
/// `url_expires_in_minutes` (`None`: for ever).
pub(super) async fn candidate_on(
    pool: &PgPool,
    connection_id: uuid::Uuid,
    url_expires_in_minutes: Option<i64>,
    name: &str,
    settings: &Settings,
) -> Result<Candidate> {
    let team_id = match settings.team.trim() {
        "" => None,
        team => crate::teams::find_by_name(pool, team).await?,
    };
    let url = (!settings.auth_type.is_empty()).then(|| UrlCandidate {
        auth_type: settings.auth_type.clone(),
        cors_allow_origins: settings.cors_origins.clone(),
        expires_in_minutes: url_expires_in_minutes,
    });
    Ok(Candidate {
        name: name.to_owned(),
        runtime: Some(settings.runtime.clone()).filter(|r| !r.is_empty()),
        architecture: Some(settings.architecture.clone()).filter(|a| !a.is_empty()),
        memory_mb: Some(i64::from(if settings.memory_mb > 0 { settings.memory_mb } else { 128 })),
        timeout_s: Some(i64::from(if settings.timeout_s > 0 { settings.timeout_s } else { 3 })),
        ephemeral_storage_mb: Some(512),
        reserved_concurrency: Some(None),
        // The lab's handler has none.
        environment_variables: Some(Default::default()),
        secret_variables: None,
        tags: settings.tags.clone(),
        team_id,
        environment: settings.environment.parse().unwrap_or_default(),
        lifecycle: settings.lifecycle.parse().unwrap_or_default(),
        connection_id: Some(connection_id),
        url,
        policy: None,
        role_policies: None,
        role_shared_with: None,
        log_retention_days: None,
    })
}

/// Refuses the step when an error-level rule forbids what it changes (`only` the findings about
/// those fields; all of them for the function itself): a validation error on the step's form
/// field, naming every broken rule with its fix.
pub(super) async fn enforce(
    pool: &PgPool,
    run: &Run,
    name: &str,
    settings: &Settings,
    action: Action,
    only: &[&str],
) -> Result<()> {
    let candidate = candidate(pool, run, name, settings).await?;
    governance::enforce(pool, &candidate, action, run.function_id, only, form_field).await
}

/// The form field a finding about `field` is shown on (the lab's and the Create form's names).
pub fn form_field(field: &'static str) -> &'static str {
    match field {
        "url" | "cors" => "auth_type",
        "memory_mb" => "memory",
        "timeout_s" => "timeout",
        field => field,
    }
}
