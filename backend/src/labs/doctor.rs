//! Step 6: calling the URL from the server, and the doctor (the URL tab's, [`crate::urls::doctor`]):
//! what a 403, a 5xx or no answer comes from, read from the real state, and the fixes it can apply.

use std::time::Duration;

use sqlx::PgPool;
use uuid::Uuid;

use crate::audit::{self, Actor};
use crate::connections::{self, Connection};
use crate::error::{Error, Result};
use crate::urls::doctor;
use crate::urls::tester::{HttpRequest, send_get};

use super::cloud::*;
use super::ledger::*;
use super::model::*;
use super::runs::*;
use super::url::*;

/// Calls the run's URL, waiting as long as the function may run and a little more.
pub(super) async fn call_url(run: &Run) -> Call {
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
    if call.status == 429 && !has_reserved_concurrency(&connection, &run).await? {
        // Throttled at the account's limit: the machine (or the account) is busy for now — not
        // the learner's mistake, and not a failure of the step. The page tries again.
        return Err(Error::Cloud {
            failure: crate::error::CloudFailure::Throttled,
            message: "the function's URL answered 429: every execution environment the account may run is busy; trying again in a moment".into(),
            detail: call.body,
        });
    }
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
    match &diagnosis {
        Some(diagnosis) => record_failure(pool, run.lab_run_id, CALL, &diagnosis.problem).await?,
        None => resolve_failure(pool, run.lab_run_id, CALL).await?,
    }
    Ok((call, diagnosis))
}

/// Whether the run's function has reserved concurrency (then a 429 is its own limit, which the
/// doctor explains, rather than the account being busy).
async fn has_reserved_concurrency(connection: &Connection, run: &Run) -> Result<bool> {
    let lambda = connection.lambda(&run.region).await;
    let reserved = lambda
        .get_function_concurrency()
        .function_name(function_of(run)?)
        .send()
        .await
        .map_err(failed("GetFunctionConcurrency"))?;
    Ok(reserved.reserved_concurrent_executions().is_some())
}

/// Works out why a call to the URL did not answer 200 `ok`.
pub async fn diagnose(connection: &Connection, run: &Run, call: &Call) -> Result<Diagnosis> {
    let name = function_of(run)?;
    let lambda = connection.lambda(&run.region).await;
    let context = doctor::Context {
        function: name,
        timeout_s: run.settings.timeout_s,
        event: HttpRequest { method: "GET".into(), path: "/".into(), ..HttpRequest::default() }
            .event(),
        signed: false,
    };
    if call.status == 403 {
        return doctor::forbidden(&lambda, &context).await;
    }
    if call.status == 200 {
        return Ok(answered_200(&call.body));
    }
    if call.status >= 500 || call.error.is_some() {
        return doctor::failure(&lambda, &context, call).await;
    }
    Ok(Diagnosis {
        problem: format!("The URL answered {}.", call.status_line),
        details: vec![call.body.clone()],
        advice: "Check the handler's statusCode: the lab returns 200.".into(),
        fix: None,
    })
}

/// A 200 whose body is not `ok`: what the handler returned, read as a Function URL maps it — a
/// value that is not a `{"statusCode": …}` object is sent as JSON with status 200, so `"ok"`
/// arrives with its quotes.
fn answered_200(body: &str) -> Diagnosis {
    let advice = "Return a response object from the handler (step 3): {\"statusCode\": 200, \"body\": \"ok\"} — the body is then sent as the text ok.";
    let shown = body.trim();
    let problem = match serde_json::from_str::<serde_json::Value>(shown) {
        Ok(serde_json::Value::String(text)) => format!(
            "The URL answered 200 with the body {shown}: the handler returned the string {text:?} rather than a response object, and a Function URL sends such a return value as JSON (quotes included) with status 200."
        ),
        Ok(
            serde_json::Value::Array(_) | serde_json::Value::Number(_) | serde_json::Value::Bool(_),
        ) => format!(
            "The URL answered 200 with the body {shown}: the handler returned a value that is not a response object, and a Function URL sends it as JSON with status 200."
        ),
        Ok(serde_json::Value::Object(_)) => format!(
            "The URL answered 200 with the body {shown}: the handler returned an object without statusCode, and a Function URL sends it as JSON with status 200 — or its body is not ok."
        ),
        _ => format!("The URL answered 200 with the body {shown}, not ok."),
    };
    Diagnosis { problem, details: vec![], advice: advice.into(), fix: None }
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
                    && e.state != LedgerState::Deleted
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

#[cfg(test)]
mod tests {
    use super::answered_200;

    #[test]
    fn a_200_says_how_the_url_mapped_what_the_handler_returned() {
        let string = answered_200("\"ok\"");
        assert!(string.problem.contains("returned the string \"ok\""), "{}", string.problem);
        assert!(string.problem.contains("quotes included"), "{}", string.problem);
        assert!(!string.advice.contains("\\n"), "no escaped newline in the advice");
        let list = answered_200("[\"ok\", 200]");
        assert!(list.problem.contains("not a response object"), "{}", list.problem);
        let text = answered_200("hello\n");
        assert_eq!(text.problem, "The URL answered 200 with the body hello, not ok.");
    }
}
