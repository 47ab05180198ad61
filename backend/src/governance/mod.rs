//! Governance: the platform team's rules as data ([`rules`]), AWS's runtime deprecation calendar
//! ([`runtimes`]), and the evaluation of a function — one being created, changed, or already in
//! the catalog — against both ([`evaluate`]). Evaluation is a pure function of the rules, the
//! calendar and what is known about the function, so the Create form, the lab, the REST API's
//! "would this pass" endpoint and the sync all get the same answer.

pub mod cost;
pub mod evaluate;
pub mod exceptions;
pub mod hygiene;
pub mod orphans;
pub mod rules;
pub mod runtimes;
pub(crate) mod secrets;
pub mod violations;

pub use evaluate::{Action, Candidate, Finding, UrlCandidate, evaluate, passes};
pub use rules::{Check, Rule, RuleInput};
pub use runtimes::Deprecation;

use sqlx::PgPool;
use time::OffsetDateTime;

use crate::error::Result;

/// Evaluates `candidate` against the rules and the calendar as they stand, today (UTC), with the
/// live exceptions of the catalogued function it is (`function_id`), if it is one.
pub async fn check(
    pool: &PgPool,
    candidate: &Candidate,
    action: Action,
    function_id: Option<uuid::Uuid>,
) -> Result<Vec<Finding>> {
    let rules = rules::list_rules(pool).await?;
    if !rules.iter().any(|r| r.enabled) {
        return Ok(Vec::new());
    }
    let calendar = runtimes::list(pool).await?;
    let today = OffsetDateTime::now_utc().date();
    let excepted: Vec<uuid::Uuid> = match function_id {
        Some(id) => {
            let mut conn = pool.acquire().await?;
            let live = exceptions::live(&mut conn, Some(id)).await?;
            live.into_iter().map(|(_, rule)| rule).collect()
        }
        None => Vec::new(),
    };
    Ok(evaluate(&rules, &calendar, candidate, action, today, &excepted))
}

/// What the catalog knows of a function, as a candidate the rules can judge (the facts it does
/// not record left unknown).
pub fn candidate_of(detail: &crate::catalog::Detail) -> Candidate {
    let entry = &detail.entry;
    Candidate {
        name: entry.name.clone(),
        runtime: entry.runtime.clone(),
        architecture: None,
        memory_mb: detail.memory_mb.map(i64::from),
        timeout_s: detail.timeout_s.map(i64::from),
        ephemeral_storage_mb: None,
        reserved_concurrency: None,
        environment_variables: None,
        secret_variables: None,
        tags: crate::catalog::user_tags(&entry.tags),
        team_id: detail.team_id,
        environment: entry.environment.parse().unwrap_or_default(),
        lifecycle: entry.lifecycle.parse().unwrap_or_default(),
        connection_id: Some(detail.connection_id),
        url: entry
            .url_auth_type
            .clone()
            .map(|auth_type| UrlCandidate { auth_type, ..UrlCandidate::default() }),
        policy: None,
        role_policies: None,
        role_shared_with: None,
        log_retention_days: None,
    }
}

/// Refuses a change when an error-level rule (without a live exception for the function)
/// forbids the result. Only findings about the fields in `only` count (all when it is empty): a
/// change to one setting is not refused for a rule about another. The refusal is a validation
/// error on the form field `field` names for the first finding, naming every one with its fix.
pub async fn enforce(
    pool: &PgPool,
    candidate: &Candidate,
    action: Action,
    function_id: Option<uuid::Uuid>,
    only: &[&str],
    field: impl Fn(&'static str) -> &'static str,
) -> Result<()> {
    let findings = check(pool, candidate, action, function_id).await?;
    let blocking: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.severity == model::Severity::Error && !f.excepted)
        .filter(|f| only.is_empty() || only.contains(&f.field))
        .collect();
    let Some(first) = blocking.first() else { return Ok(()) };
    let message =
        blocking.iter().map(|f| format!("{} {}", f.message, f.fix)).collect::<Vec<_>>().join(" ");
    Err(crate::Error::invalid(
        field(first.field),
        format!("the platform team's rules refuse this: {message}"),
    ))
}

/// Whether the public-URL rules that apply to `candidate` say its public URL is deleted at its
/// expiry (else it is switched to `AWS_IAM`, also when no rule says).
pub async fn deletes_expired_url(pool: &PgPool, candidate: &Candidate) -> Result<bool> {
    Ok(rules::list_rules(pool).await?.iter().filter(|r| evaluate::applies(r, candidate)).any(|r| {
        matches!(
            r.check,
            Check::PublicUrl { policy: model::UrlPolicy::Expiry, delete_on_expiry: true, .. }
        )
    }))
}
