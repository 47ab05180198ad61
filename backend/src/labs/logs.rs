//! Step 7: the newest log stream, every line explained, and why there may be no logs yet.

use sqlx::PgPool;
use uuid::Uuid;

use crate::audit::{self, Actor};
use crate::connections::{self, Connection};
use crate::error::Result;

use super::cloud::*;
use super::model::*;
use super::runs::*;

/// Reads the newest log stream of the run's function.
pub async fn logs(pool: &PgPool, lab_run_id: Uuid) -> Result<Logs> {
    let run = get(pool, lab_run_id).await?;
    let name = function_of(&run)?;
    let connection = connections::get(pool, run.connection_id).await?;
    newest_stream(&connection, &run.region, name).await
}

pub(super) async fn newest_stream(
    connection: &Connection,
    region: &str,
    name: &str,
) -> Result<Logs> {
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

/// How long step 7 waits for a REPORT line that has not arrived yet, after a call that reached
/// the function.
const LOG_PATIENCE: std::time::Duration = std::time::Duration::from_secs(3);

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
    let mut found = newest_stream(&connection, &run.region, &name).await?;
    // An invocation's END and REPORT lines follow its answer (on AWS by seconds; on a busy
    // machine by a moment): when the last call reached the function, give them a little time
    // before calling their absence a problem.
    let reached = call_reached(&run);
    let has_report = |logs: &Logs| logs.events.iter().any(|(_, m)| m.starts_with("REPORT"));
    let patience = std::time::Instant::now();
    while reached && !has_report(&found) && patience.elapsed() < LOG_PATIENCE {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        found = newest_stream(&connection, &run.region, &name).await?;
    }
    if has_report(&found) {
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
        resolve_failure(pool, run.lab_run_id, LOGS).await?;
        return Ok(None);
    }
    let diagnosis = diagnose_logs(&connection, &run, &name).await?;
    record_failure(pool, run.lab_run_id, LOGS, &diagnosis.problem).await?;
    Ok(Some(diagnosis))
}

/// Whether the run's last call reached the function (an answer that is not the URL's 403).
fn call_reached(run: &Run) -> bool {
    run.settings.last_call.as_ref().is_some_and(|c| c.status != 0 && c.status != 403)
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

    if !call_reached(run) {
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
