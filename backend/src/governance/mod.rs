//! Governance: the platform team's rules as data ([`rules`]), AWS's runtime deprecation calendar
//! ([`runtimes`]), and the evaluation of a function — one being created, changed, or already in
//! the catalog — against both ([`evaluate`]). Evaluation is a pure function of the rules, the
//! calendar and what is known about the function, so the Create form, the lab, the REST API's
//! "would this pass" endpoint and the sync all get the same answer.

pub mod evaluate;
pub mod exceptions;
pub mod rules;
pub mod runtimes;
mod secrets;
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
            exceptions::live(pool, Some(id)).await?.into_iter().map(|(_, rule)| rule).collect()
        }
        None => Vec::new(),
    };
    Ok(evaluate(&rules, &calendar, candidate, action, today, &excepted))
}
