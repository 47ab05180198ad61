//! Invoking a function with a test event, reading what came back — status, the function's error,
//! the response, the REPORT line's numbers, the log tail — and keeping every test invocation.

use std::time::Duration;

use aws_sdk_lambda::primitives::Blob;
use base64::Engine as _;
use model::InvocationType;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::accounts::Account;
use crate::audit::{self, Actor};
use crate::catalog::Detail;
use crate::connections::Connection;
use crate::error::Result;

/// What to send.
#[derive(Clone, Debug)]
pub struct Invocation {
    pub payload: String,
    pub invocation_type: InvocationType,
    pub qualifier: Option<String>,
    /// `X-Amz-Tenant-Id`, for a tenant-isolated function.
    pub tenant_id: Option<String>,
    /// The saved event it came from, if any.
    pub test_event_id: Option<Uuid>,
}

/// The numbers of an invocation's `REPORT` line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    pub duration_ms: Option<f64>,
    pub billed_ms: Option<i64>,
    /// Only on a cold start.
    pub init_ms: Option<f64>,
    pub memory_used_mb: Option<i32>,
    pub memory_size_mb: Option<i32>,
}

/// The `REPORT` line's fields (`Duration: 1.52 ms`, `Billed Duration: 2 ms`, `Memory Size: 128 MB`,
/// `Max Memory Used: 40 MB`, `Init Duration: 120.3 ms`), from a log tail.
pub fn report_of(log: &str) -> Report {
    let Some(line) = log.lines().rev().find(|l| l.starts_with("REPORT")) else {
        return Report::default();
    };
    let field = |name: &str| {
        line.split('\t').find_map(|f| {
            let value = f.trim().strip_prefix(name)?.strip_prefix(": ")?;
            value.split_whitespace().next().map(str::to_owned)
        })
    };
    let float = |name: &str| field(name).and_then(|v| v.parse::<f64>().ok());
    let int = |name: &str| field(name).and_then(|v| v.parse::<f64>().ok()).map(|v| v as i64);
    Report {
        duration_ms: float("Duration"),
        billed_ms: int("Billed Duration"),
        init_ms: float("Init Duration"),
        memory_used_mb: int("Max Memory Used").and_then(|v| i32::try_from(v).ok()),
        memory_size_mb: int("Memory Size").and_then(|v| i32::try_from(v).ok()),
    }
}

/// One test invocation, as recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub test_invocation_id: Uuid,
    pub who: Option<String>,
    pub event_name: Option<String>,
    pub invocation_type: InvocationType,
    pub qualifier: Option<String>,
    pub tenant_id: Option<String>,
    pub payload: String,
    /// The HTTP status of Invoke: 200 answered, 202 queued, 204 dry run checked.
    pub status: i32,
    /// `Unhandled`, or the error type the function returned, when it failed.
    pub function_error: Option<String>,
    pub response: String,
    pub log_tail: String,
    pub request_id: Option<String>,
    pub executed_version: Option<String>,
    pub report: Report,
    pub invoked_at: OffsetDateTime,
}

/// Invokes the function with `invocation` (the log tail asked for with a synchronous call),
/// records the outcome and audits it. A function that fails is an outcome, not an error; the
/// cloud refusing the call is an error.
pub async fn invoke(
    pool: &PgPool,
    actor: &Actor,
    account: &Account,
    connection: &Connection,
    detail: &Detail,
    invocation: &Invocation,
) -> Result<Outcome> {
    super::check_payload(&invocation.payload)?;
    super::check_qualifier(invocation.qualifier.as_deref())?;
    super::check_tenant(invocation.tenant_id.as_deref())?;
    let lambda = connection.lambda(&detail.entry.region).await;
    // A synchronous call waits for the function: its timeout, plus time to start it.
    let wait =
        Duration::from_secs(u64::try_from(detail.timeout_s.unwrap_or(900)).unwrap_or(900) + 30);
    let timeouts = aws_sdk_lambda::config::timeout::TimeoutConfig::builder()
        .operation_attempt_timeout(wait)
        .operation_timeout(wait)
        .build();
    let sync = invocation.invocation_type == InvocationType::RequestResponse;
    let invoked = lambda
        .invoke()
        .function_name(&detail.arn)
        .set_qualifier(invocation.qualifier.clone())
        .set_tenant_id(invocation.tenant_id.clone())
        .invocation_type(aws_sdk_lambda::types::InvocationType::from(
            invocation.invocation_type.as_str(),
        ))
        .set_log_type(sync.then_some(aws_sdk_lambda::types::LogType::Tail))
        .payload(Blob::new(invocation.payload.clone()))
        .customize()
        .config_override(aws_sdk_lambda::config::Builder::default().timeout_config(timeouts))
        .send()
        .await
        .map_err(|e| {
            crate::cloud::error(format_args!("{} refused the invocation", connection.name), &e)
        })?;
    let log_tail = invoked
        .log_result()
        .and_then(|t| base64::engine::general_purpose::STANDARD.decode(t).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let response = invoked
        .payload()
        .map(|p| String::from_utf8_lossy(p.as_ref()).into_owned())
        .unwrap_or_default();
    let report = report_of(&log_tail);
    let request_id = aws_sdk_lambda::operation::RequestId::request_id(&invoked)
        .map(str::to_owned)
        .or_else(|| {
            log_tail.lines().find_map(|l| {
                l.strip_prefix("REPORT RequestId: ")?.split_whitespace().next().map(str::to_owned)
            })
        });
    let event_name = match invocation.test_event_id {
        Some(id) => {
            sqlx::query_scalar!("select name from test_event where test_event_id = $1", id)
                .fetch_optional(pool)
                .await?
        }
        None => None,
    };
    let mut tx = pool.begin().await?;
    let row = sqlx::query!(
        r#"insert into test_invocation (function_id, account_id, test_event_id, event_name,
                invocation_type, qualifier, tenant_id, payload, status, function_error, response,
                log_tail, request_id, executed_version, duration_ms, billed_ms, init_ms,
                memory_used_mb, memory_size_mb)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                   $19)
           returning test_invocation_id, invoked_at"#,
        detail.entry.function_id,
        account.account_id,
        invocation.test_event_id.filter(|_| event_name.is_some()),
        event_name,
        invocation.invocation_type as InvocationType,
        invocation.qualifier,
        invocation.tenant_id,
        invocation.payload,
        invoked.status_code(),
        invoked.function_error(),
        response,
        log_tail,
        request_id,
        invoked.executed_version(),
        report.duration_ms,
        report.billed_ms,
        report.init_ms,
        report.memory_used_mb,
        report.memory_size_mb
    )
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        "function.test_invoke",
        &format!("function:{}", detail.entry.name),
        serde_json::json!({ "event": event_name, "invocation_type": invocation.invocation_type,
                            "status": invoked.status_code(), "function_error": invoked.function_error(),
                            "request_id": request_id }),
    )
    .await?;
    tx.commit().await?;
    Ok(Outcome {
        test_invocation_id: row.test_invocation_id,
        who: Some(account.email.clone()),
        event_name,
        invocation_type: invocation.invocation_type,
        qualifier: invocation.qualifier.clone(),
        tenant_id: invocation.tenant_id.clone(),
        payload: invocation.payload.clone(),
        status: invoked.status_code(),
        function_error: invoked.function_error().map(str::to_owned),
        response,
        log_tail,
        request_id,
        executed_version: invoked.executed_version().map(str::to_owned),
        report,
        invoked_at: row.invoked_at,
    })
}

/// The function's test invocations, newest first (`limit` of them), for everyone who may read it.
pub async fn history(pool: &PgPool, function_id: Uuid, limit: i64) -> Result<Vec<Outcome>> {
    let rows = sqlx::query!(
        r#"select i.test_invocation_id, a.email as "who?", i.event_name,
                  i.invocation_type as "invocation_type: InvocationType", i.qualifier,
                  i.tenant_id, i.payload,
                  i.status, i.function_error, i.response, i.log_tail, i.request_id,
                  i.executed_version, i.duration_ms, i.billed_ms, i.init_ms, i.memory_used_mb,
                  i.memory_size_mb, i.invoked_at
           from test_invocation i left join account a on a.account_id = i.account_id
           where i.function_id = $1
           order by i.invoked_at desc limit $2"#,
        function_id,
        limit
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Outcome {
            test_invocation_id: r.test_invocation_id,
            who: r.who,
            event_name: r.event_name,
            invocation_type: r.invocation_type,
            qualifier: r.qualifier,
            tenant_id: r.tenant_id,
            payload: r.payload,
            status: r.status,
            function_error: r.function_error,
            response: r.response,
            log_tail: r.log_tail,
            request_id: r.request_id,
            executed_version: r.executed_version,
            report: Report {
                duration_ms: r.duration_ms,
                billed_ms: r.billed_ms,
                init_ms: r.init_ms,
                memory_used_mb: r.memory_used_mb,
                memory_size_mb: r.memory_size_mb,
            },
            invoked_at: r.invoked_at,
        })
        .collect())
}

/// One recorded invocation, to replay: what was sent.
pub async fn recorded(pool: &PgPool, function_id: Uuid, id: Uuid) -> Result<Invocation> {
    let row = sqlx::query!(
        r#"select payload, invocation_type as "invocation_type: InvocationType", qualifier,
                  tenant_id, test_event_id
           from test_invocation where test_invocation_id = $1 and function_id = $2"#,
        id,
        function_id
    )
    .fetch_optional(pool)
    .await?
    .ok_or(crate::Error::NotFound("test invocation"))?;
    Ok(Invocation {
        payload: row.payload,
        invocation_type: row.invocation_type,
        qualifier: row.qualifier,
        tenant_id: row.tenant_id,
        test_event_id: row.test_event_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_line_gives_its_numbers() {
        let log = "START RequestId: 1 Version: $LATEST\nhello\nEND RequestId: 1\n\
                   REPORT RequestId: 1\tDuration: 1.52 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\tInit Duration: 120.31 ms\t\n";
        assert_eq!(
            report_of(log),
            Report {
                duration_ms: Some(1.52),
                billed_ms: Some(2),
                init_ms: Some(120.31),
                memory_used_mb: Some(40),
                memory_size_mb: Some(128),
            }
        );
        let warm = "REPORT RequestId: 2\tDuration: 0.90 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 41 MB";
        assert_eq!(report_of(warm).init_ms, None, "no init on a warm start");
        assert_eq!(report_of("no report"), Report::default());
    }
}
