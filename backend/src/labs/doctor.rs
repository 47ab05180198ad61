//! Step 6: calling the URL from the server, and the doctor: what a 403, a 5xx or no answer
//! comes from, read from the real state, and the fixes it can apply.

use std::time::Duration;

use aws_sdk_lambda::primitives::Blob;
use sqlx::PgPool;
use uuid::Uuid;

use crate::audit::{self, Actor};
use crate::connections::{self, Connection};
use crate::error::{Error, Result};

use super::cloud::*;
use super::ledger::*;
use super::model::*;
use super::runs::*;
use super::url::*;

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

pub(super) async fn diagnose_forbidden(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
) -> Result<Diagnosis> {
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

pub(super) async fn diagnose_failure(
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
