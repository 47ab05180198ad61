//! `/evaluations`: "would this function pass the rules?", for CI pipelines, before anything is
//! created. The same evaluation as the Create form and the lab, against the rules and the
//! runtime calendar as they stand.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use backend::governance::{Action, Candidate, UrlCandidate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::functions::one_of;
use super::{ApiResult, Caller, ErrorEnvelope, Problem, fail};
use crate::state::AppState;
use app::error::ApiError;

/// A function as it would be created (or changed): Lambda's defaults for what is left out.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct EvaluationRequest {
    /// `create` (default) or `update`: the runtime calendar blocks creation before updates.
    #[schema(schema_with = actions)]
    action: Option<String>,
    /// The connection's name (rules scoped to a connection apply only there).
    connection: Option<String>,
    name: String,
    /// E.g. `python3.12`; absent for a container image.
    runtime: Option<String>,
    /// `x86_64` (default) or `arm64`.
    architecture: Option<String>,
    /// Default 128.
    memory_mb: Option<i64>,
    /// Default 3.
    timeout_s: Option<i64>,
    /// Default 512.
    ephemeral_storage_mb: Option<i64>,
    /// Absent: not reserved.
    reserved_concurrency: Option<i64>,
    environment_variables: Option<BTreeMap<String, String>>,
    tags: Option<BTreeMap<String, String>>,
    /// A team name.
    team: Option<String>,
    #[schema(schema_with = super::functions::lifecycles)]
    lifecycle: Option<String>,
    #[schema(schema_with = super::functions::stages)]
    environment: Option<String>,
    /// The Function URL, if it will have one.
    url: Option<UrlRequest>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct UrlRequest {
    /// `NONE` (public) or `AWS_IAM`.
    auth_type: String,
    #[serde(default)]
    cors_allow_origins: Vec<String>,
    /// For a public URL: after how many hours it is switched off; absent for never.
    expires_in_hours: Option<i64>,
}

fn actions() -> utoipa::openapi::Object {
    one_of(vec!["create", "update"])
}

/// The answer: whether it passes, and every rule it breaks.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct Evaluation {
    /// No error-level finding without an approved exception.
    passes: bool,
    findings: Vec<EvaluationFinding>,
}

/// One rule the function breaks.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct EvaluationFinding {
    #[schema(format = Uuid)]
    rule_id: String,
    /// The rule's kind, e.g. `required_tag`, `public_url`.
    kind: String,
    /// `error` blocks; `warning` and `info` do not.
    severity: String,
    /// The request field it is about (`tags`, `name`, `runtime`, `memory_mb`, `url`, …).
    field: String,
    message: String,
    /// What to change so it passes.
    fix: String,
    /// The check platform teams know it as (Security Hub, AWS Config, Prowler).
    mirrors: String,
    /// Why the platform team has the rule.
    note: String,
    /// Covered by an approved exception.
    excepted: bool,
}

/// One of the console's vocabularies (a lifecycle, an environment, an auth type), or `default`
/// when absent.
fn parsed<T: std::str::FromStr<Err = model::Unknown>>(
    field: &str,
    raw: Option<&str>,
    default: &str,
) -> Result<T, Problem> {
    raw.unwrap_or(default).parse().map_err(|e: model::Unknown| invalid(field, e.to_string()))
}

fn invalid(field: &str, message: impl Into<String>) -> Problem {
    Problem(ApiError::Validation { field: field.to_owned(), message: message.into() })
}

/// Check a function against the rules
///
/// Answers whether a function with this configuration may be created (or changed), and every
/// governance rule it would break with the fix, without creating anything. A failing function
/// is still a 200: `passes` is false.
#[utoipa::path(
    post,
    path = "/evaluations",
    operation_id = "createEvaluation",
    request_body = EvaluationRequest,
    responses(
        (status = 200, description = "The evaluation", body = Evaluation),
        (status = 401, description = "No token, or not a valid one", body = ErrorEnvelope),
        (status = 422, description = "A field is wrong (the message says which and why)", body = ErrorEnvelope),
    )
)]
pub(super) async fn create_evaluation(
    State(state): State<AppState>,
    _caller: Caller,
    body: Result<Json<EvaluationRequest>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Json<Evaluation>> {
    let Json(request) = body.map_err(|rejection| invalid("body", rejection.body_text()))?;
    let pool = &state.console.pool;
    let action = match request.action.as_deref() {
        None | Some("create") => Action::Create,
        Some("update") => Action::Update,
        Some(other) => return Err(invalid("action", format!("'{other}' is not create or update"))),
    };
    if let Some(problem) = app::rules::function_name_problem(&request.name) {
        return Err(invalid("name", problem));
    }
    let connection_id = match request.connection.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(name) => Some(
            backend::connections::list(pool)
                .await
                .map_err(fail)?
                .into_iter()
                .find(|c| c.name == name)
                .ok_or_else(|| invalid("connection", format!("no connection is named '{name}'")))?
                .connection_id,
        ),
    };
    let team_id = match request.team.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(name) => Some(
            backend::teams::find_by_name(pool, name)
                .await
                .map_err(fail)?
                .ok_or_else(|| invalid("team", format!("no team is named '{name}'")))?,
        ),
    };
    let url = match request.url {
        None => None,
        Some(url) => {
            let auth: model::UrlAuthType = parsed("url.auth_type", Some(&url.auth_type), "")?;
            if url.expires_in_hours.is_some_and(|h| h < 1) {
                return Err(invalid("url.expires_in_hours", "at least 1 hour"));
            }
            Some(UrlCandidate {
                auth_type: auth.as_str().to_owned(),
                cors_allow_origins: url.cors_allow_origins,
                expires_in_minutes: url.expires_in_hours.map(|h| h * 60),
            })
        }
    };
    let architecture = request.architecture.unwrap_or_else(|| "x86_64".to_owned());
    if architecture != "x86_64" && architecture != "arm64" {
        return Err(invalid("architecture", "x86_64 or arm64"));
    }
    let candidate = Candidate {
        name: request.name,
        runtime: request.runtime,
        architecture: Some(architecture),
        memory_mb: Some(request.memory_mb.unwrap_or(128)),
        timeout_s: Some(request.timeout_s.unwrap_or(3)),
        ephemeral_storage_mb: Some(request.ephemeral_storage_mb.unwrap_or(512)),
        reserved_concurrency: Some(request.reserved_concurrency),
        environment_variables: Some(request.environment_variables.unwrap_or_default()),
        secret_variables: None,
        tags: request.tags.unwrap_or_default(),
        team_id,
        environment: parsed("environment", request.environment.as_deref(), "dev")?,
        lifecycle: parsed("lifecycle", request.lifecycle.as_deref(), "experimental")?,
        connection_id,
        url,
        // A function not created yet has no policy beyond what its URL adds, its role is the one
        // the console would make for it alone, and its log group is made with the default.
        policy: None,
        role_policies: None,
        role_shared_with: None,
        log_retention_days: None,
    };
    let findings =
        backend::governance::check(pool, &candidate, action, None).await.map_err(fail)?;
    Ok(Json(Evaluation {
        passes: backend::governance::passes(&findings),
        findings: findings
            .into_iter()
            .map(|f| EvaluationFinding {
                rule_id: f.rule_id.to_string(),
                kind: f.kind.as_str().to_owned(),
                severity: f.severity.as_str().to_owned(),
                field: f.field.to_owned(),
                message: f.message,
                fix: f.fix,
                mirrors: f.mirrors.to_owned(),
                note: f.note,
                excepted: f.excepted,
            })
            .collect(),
    }))
}
