//! Step 8: the live checklist (Active, 200 `ok`, a stream with a REPORT line, an invocation
//! counted); all green completes the run.

use sqlx::PgPool;
use uuid::Uuid;

use crate::audit::{self, Actor};
use crate::connections::{self};
use crate::error::Result;

use super::cloud::*;
use super::doctor::*;
use super::logs::*;
use super::model::*;
use super::runs::*;

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

    // The REPORT lines Lambda writes, one per invocation, in any of the function's streams. (Not
    // only the newest stream: an invocation's REPORT follows its answer, so the call just made
    // may have opened a stream whose REPORT line is not written yet.)
    let group = format!("/aws/lambda/{name}");
    let reports = connection
        .logs(&run.region)
        .await
        .filter_log_events()
        .log_group_name(&group)
        .filter_pattern("\"REPORT RequestId\"")
        .limit(100)
        .send()
        .await
        .map(|out| {
            out.events().iter().filter_map(|e| e.log_stream_name().map(str::to_owned)).collect()
        })
        .unwrap_or_else(|_| Vec::<String>::new());
    let stream_ok = !reports.is_empty();
    let detail = match reports.last() {
        Some(stream) => format!("{group} / {stream}"),
        None => match newest_stream(&connection, &run.region, &name).await?.stream {
            Some(s) => format!("{s} has no REPORT line yet"),
            None => format!("{group} has no stream"),
        },
    };
    checks.push(Check {
        label: "A log stream with the invocation exists".into(),
        passed: stream_ok,
        detail,
    });
    if !stream_ok && diagnosis.is_none() {
        diagnosis = Some(diagnose_logs(&connection, &run, &name).await?);
    }
    let invocations = reports.len();
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
    if all {
        resolve_failure(pool, run.lab_run_id, VALIDATE).await?;
    } else {
        let failed: Vec<&str> =
            checks.iter().filter(|c| !c.passed).map(|c| c.label.as_str()).collect();
        record_failure(pool, run.lab_run_id, VALIDATE, &failed.join("; ")).await?;
    }
    Ok((checks, diagnosis))
}
