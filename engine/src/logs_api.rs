//! The engine's one endpoint for the non-Lambda services, dispatched as AWS does: the CloudWatch
//! Logs API (awsJson1.1, `X-Amz-Target: Logs_20140328.*`) over the engine's logs, CloudWatch's
//! metrics in awsJson1.0 (`GraniteServiceVersion20100801.*`, `crate::metrics`), and the query
//! protocol's form `Action`s: STS GetCallerIdentity and IAM's roles (`crate::iam`).
//!
//! About 510 lines: the one-endpoint dispatcher and CloudWatch Logs' operations, which share its
//! JSON shapes.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::EngineState;
use crate::filter_pattern::FilterPattern;
use crate::logs::{Group, Stream, now_ms};

/// A CloudWatch Logs error: 400 with `__type`.
#[derive(Debug)]
pub(crate) struct LogsError(pub(crate) &'static str, pub(crate) String);

impl IntoResponse for LogsError {
    fn into_response(self) -> Response {
        let body = json!({ "__type": self.0, "message": self.1 });
        (
            StatusCode::BAD_REQUEST,
            [("content-type", "application/x-amz-json-1.1")],
            body.to_string(),
        )
            .into_response()
    }
}

pub(crate) fn no_group() -> LogsError {
    LogsError("ResourceNotFoundException", "The specified log group does not exist.".to_owned())
}

fn no_stream() -> LogsError {
    LogsError("ResourceNotFoundException", "The specified log stream does not exist.".to_owned())
}

pub(crate) fn invalid(message: impl Into<String>) -> LogsError {
    LogsError("InvalidParameterException", message.into())
}

fn ok(body: Value) -> Response {
    ([("content-type", "application/x-amz-json-1.1")], body.to_string()).into_response()
}

/// `POST /`: CloudWatch Logs by `X-Amz-Target`, STS and IAM by their form `Action`.
pub async fn dispatch(
    State(state): State<Arc<EngineState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if let Some(operation) = target.strip_prefix("GraniteServiceVersion20100801.") {
        return crate::metrics::dispatch_json(&state, operation, &body);
    }
    if let Some(operation) = target.strip_prefix("Logs_20140328.") {
        let request: Value =
            match serde_json::from_slice(if body.is_empty() { b"{}" } else { &body }) {
                Ok(value) => value,
                Err(e) => {
                    return LogsError("SerializationException", e.to_string()).into_response();
                }
            };
        if operation == "StartLiveTail" {
            return crate::live_tail::start(&state, &request)
                .unwrap_or_else(IntoResponse::into_response);
        }
        return match logs_operation(&state, operation, &request) {
            Ok(body) => ok(body),
            Err(error) => error.into_response(),
        };
    }
    let params: std::collections::HashMap<String, String> =
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
            .unwrap_or_default()
            .into_iter()
            .collect();
    match (params.get("Action").map(String::as_str), params.get("Version").map(String::as_str)) {
        (Some("GetCallerIdentity"), _) => get_caller_identity(&state),
        (Some(_), Some("2010-05-08")) => state.iam.dispatch(&params).await,
        (action, _) => crate::error::LambdaError::not_found(format!(
            "The engine does not implement this operation yet: {}",
            if target.is_empty() { action.unwrap_or_default() } else { target }
        ))
        .into_response(),
    }
}

/// STS GetCallerIdentity.
fn get_caller_identity(state: &EngineState) -> Response {
    let account = &state.config.account_id;
    let xml = format!(
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>arn:aws:iam::{account}:root</Arn><UserId>{account}</UserId><Account>{account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></GetCallerIdentityResponse>",
        uuid::Uuid::new_v4()
    );
    ([("content-type", "text/xml")], xml).into_response()
}

fn str_field<'a>(request: &'a Value, name: &str) -> Option<&'a str> {
    request.get(name).and_then(Value::as_str)
}

fn required<'a>(request: &'a Value, name: &str) -> Result<&'a str, LogsError> {
    str_field(request, name).ok_or_else(|| {
        invalid(format!("1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null"))
    })
}

fn limit(request: &Value, default: usize, max: usize) -> Result<usize, LogsError> {
    match request.get("limit").and_then(Value::as_u64) {
        None => Ok(default),
        Some(n) if n >= 1 && n as usize <= max => Ok(n as usize),
        Some(n) => Err(invalid(format!(
            "Value '{n}' at 'limit' failed to satisfy constraint: Member must have value between 1 and {max}"
        ))),
    }
}

/// The position a `nextToken` stands for.
fn token_index(request: &Value, key: &str) -> usize {
    str_field(request, key)
        .and_then(|t| t.split('/').nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn group_json(state: &EngineState, name: &str, group: &Group) -> Value {
    let arn = format!(
        "arn:aws:logs:{}:{}:log-group:{name}",
        state.config.region, state.config.account_id
    );
    let mut value = json!({
        "logGroupName": name,
        "creationTime": group.created_ms,
        "metricFilterCount": 0,
        "arn": format!("{arn}:*"),
        "logGroupArn": arn,
        "storedBytes": group.streams.values().flat_map(|s| &s.events).map(|e| e.message.len()).sum::<usize>(),
        "logGroupClass": "STANDARD",
    });
    if let Some(days) = group.retention_days {
        value["retentionInDays"] = json!(days);
    }
    value
}

fn stream_json(state: &EngineState, group: &str, name: &str, stream: &Stream) -> Value {
    let mut value = json!({
        "logStreamName": name,
        "creationTime": stream.created_ms,
        "arn": format!("arn:aws:logs:{}:{}:log-group:{group}:log-stream:{name}", state.config.region, state.config.account_id),
        "storedBytes": 0,
    });
    if let (Some(first), Some(last)) = (stream.events.first(), stream.events.last()) {
        value["firstEventTimestamp"] = json!(first.timestamp_ms);
        value["lastEventTimestamp"] = json!(last.timestamp_ms);
        value["lastIngestionTime"] = json!(last.ingestion_ms);
    }
    value
}

const RETENTION_DAYS: &[u64] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

fn logs_operation(
    state: &EngineState,
    operation: &str,
    request: &Value,
) -> Result<Value, LogsError> {
    let result = logs_operation_inner(state, operation, request);
    // Changes to a group's settings or streams are persisted by rewriting it at the next flush.
    let changes = matches!(
        operation,
        "CreateLogGroup"
            | "DeleteLogGroup"
            | "CreateLogStream"
            | "PutLogEvents"
            | "PutRetentionPolicy"
            | "DeleteRetentionPolicy"
    );
    if changes
        && result.is_ok()
        && let Some(name) = str_field(request, "logGroupName")
    {
        state.logs.mark_dirty(name);
    }
    result
}

fn logs_operation_inner(
    state: &EngineState,
    operation: &str,
    request: &Value,
) -> Result<Value, LogsError> {
    let mut groups = state.logs.lock();
    match operation {
        "CreateLogGroup" => {
            let name = required(request, "logGroupName")?;
            let valid = (1..=512).contains(&name.len())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-/#".contains(c));
            if !valid {
                return Err(invalid(format!(
                    "Value '{name}' at 'logGroupName' failed to satisfy constraint"
                )));
            }
            if groups.contains_key(name) {
                return Err(LogsError(
                    "ResourceAlreadyExistsException",
                    "The specified log group already exists".to_owned(),
                ));
            }
            groups.insert(name.to_owned(), Group { created_ms: now_ms(), ..Group::default() });
            Ok(json!({}))
        }
        "DeleteLogGroup" => {
            let name = required(request, "logGroupName")?;
            groups.remove(name).map(|_| json!({})).ok_or_else(no_group)
        }
        "DescribeLogGroups" => {
            let prefix = str_field(request, "logGroupNamePrefix").unwrap_or_default();
            let limit = limit(request, 50, 50)?;
            let from = token_index(request, "nextToken");
            let matching: Vec<(&String, &Group)> =
                groups.iter().filter(|(n, _)| n.starts_with(prefix)).collect();
            let page: Vec<Value> = matching
                .iter()
                .skip(from)
                .take(limit)
                .map(|(n, g)| group_json(state, n, g))
                .collect();
            let mut body = json!({ "logGroups": page });
            if from + limit < matching.len() {
                body["nextToken"] = json!(format!("g/{}", from + limit));
            }
            Ok(body)
        }
        "DescribeLogStreams" => {
            let name = required(request, "logGroupName")?;
            let group = groups.get(name).ok_or_else(no_group)?;
            let prefix = str_field(request, "logStreamNamePrefix").unwrap_or_default();
            let limit = limit(request, 50, 50)?;
            let from = token_index(request, "nextToken");
            let mut streams: Vec<(&String, &Stream)> =
                group.streams.iter().filter(|(n, _)| n.starts_with(prefix)).collect();
            if str_field(request, "orderBy") == Some("LastEventTime") {
                streams
                    .sort_by_key(|(_, s)| s.events.last().map_or(s.created_ms, |e| e.timestamp_ms));
            }
            if request.get("descending").and_then(Value::as_bool) == Some(true) {
                streams.reverse();
            }
            let page: Vec<Value> = streams
                .iter()
                .skip(from)
                .take(limit)
                .map(|(n, s)| stream_json(state, name, n, s))
                .collect();
            let mut body = json!({ "logStreams": page });
            if from + limit < streams.len() {
                body["nextToken"] = json!(format!("s/{}", from + limit));
            }
            Ok(body)
        }
        "CreateLogStream" => {
            let group = required(request, "logGroupName")?;
            let name = required(request, "logStreamName")?;
            let group = groups.get_mut(group).ok_or_else(no_group)?;
            if group.streams.contains_key(name) {
                return Err(LogsError(
                    "ResourceAlreadyExistsException",
                    "The specified log stream already exists".to_owned(),
                ));
            }
            group.streams.insert(name.to_owned(), Stream::new(now_ms()));
            Ok(json!({}))
        }
        "PutLogEvents" => {
            let group = required(request, "logGroupName")?;
            let name = required(request, "logStreamName")?;
            let stream = groups
                .get_mut(group)
                .ok_or_else(no_group)?
                .streams
                .get_mut(name)
                .ok_or_else(no_stream)?;
            let events = request
                .get("logEvents")
                .and_then(Value::as_array)
                .ok_or_else(|| invalid("logEvents is required"))?;
            let now = now_ms();
            for event in events {
                let (Some(timestamp_ms), Some(message)) = (
                    event.get("timestamp").and_then(Value::as_i64),
                    event.get("message").and_then(Value::as_str),
                ) else {
                    return Err(invalid("each log event needs a timestamp and a message"));
                };
                let event = crate::logs::LogEvent {
                    timestamp_ms,
                    ingestion_ms: now,
                    message: message.to_owned(),
                };
                state.logs.publish(group, name, &event);
                stream.events.push(event);
            }
            stream.events.sort_by_key(|e| e.timestamp_ms);
            Ok(json!({ "nextSequenceToken": now.to_string() }))
        }
        "GetLogEvents" => {
            let group = required(request, "logGroupName")?;
            let name = required(request, "logStreamName")?;
            let stream =
                groups.get(group).ok_or_else(no_group)?.streams.get(name).ok_or_else(no_stream)?;
            let limit = limit(request, 10_000, 10_000)?;
            let in_range: Vec<&crate::logs::LogEvent> =
                stream.events.iter().filter(|e| in_time_range(request, e.timestamp_ms)).collect();
            let from_head = request.get("startFromHead").and_then(Value::as_bool).unwrap_or(false);
            // Tokens are positions: f/N reads forward from N, b/N reads backward to N.
            let (start, end) = match str_field(request, "nextToken") {
                Some(token) if token.starts_with("b/") => {
                    let end = token_index(request, "nextToken").min(in_range.len());
                    (end.saturating_sub(limit), end)
                }
                Some(_) => {
                    let start = token_index(request, "nextToken").min(in_range.len());
                    (start, (start + limit).min(in_range.len()))
                }
                None if from_head => (0, limit.min(in_range.len())),
                None => (in_range.len().saturating_sub(limit), in_range.len()),
            };
            let events: Vec<Value> = in_range[start..end]
                .iter()
                .map(|e| json!({ "timestamp": e.timestamp_ms, "message": e.message, "ingestionTime": e.ingestion_ms }))
                .collect();
            Ok(
                json!({ "events": events, "nextForwardToken": format!("f/{end}"), "nextBackwardToken": format!("b/{start}") }),
            )
        }
        "FilterLogEvents" => {
            let name = required(request, "logGroupName")?;
            let group = groups.get(name).ok_or_else(no_group)?;
            let pattern =
                FilterPattern::parse(str_field(request, "filterPattern").unwrap_or_default())
                    .map_err(|e| invalid(e.to_string()))?;
            let names: Option<Vec<&str>> = request
                .get("logStreamNames")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect());
            let prefix = str_field(request, "logStreamNamePrefix");
            let limit = limit(request, 10_000, 10_000)?;
            let from = token_index(request, "nextToken");
            let mut matched: Vec<Value> = Vec::new();
            let mut searched = Vec::new();
            for (stream_name, stream) in &group.streams {
                if names.as_ref().is_some_and(|n| !n.contains(&stream_name.as_str()))
                    || prefix.is_some_and(|p| !stream_name.starts_with(p))
                {
                    continue;
                }
                searched.push(json!({ "logStreamName": stream_name, "searchedCompletely": true }));
                for (index, event) in stream.events.iter().enumerate() {
                    if in_time_range(request, event.timestamp_ms) && pattern.matches(&event.message)
                    {
                        matched.push(json!({
                            "logStreamName": stream_name,
                            "timestamp": event.timestamp_ms,
                            "message": event.message,
                            "ingestionTime": event.ingestion_ms,
                            "eventId": format!("{}{index:08}", event.timestamp_ms),
                        }));
                    }
                }
            }
            matched.sort_by_key(|e| e["timestamp"].as_i64());
            let total = matched.len();
            let page: Vec<Value> = matched.into_iter().skip(from).take(limit).collect();
            let mut body = json!({ "events": page, "searchedLogStreams": searched });
            if from + limit < total {
                body["nextToken"] = json!(format!("e/{}", from + limit));
            }
            Ok(body)
        }
        "PutRetentionPolicy" => {
            let name = required(request, "logGroupName")?;
            let days = request.get("retentionInDays").and_then(Value::as_u64).unwrap_or(0);
            if !RETENTION_DAYS.contains(&days) {
                return Err(invalid(format!(
                    "Value '{days}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: {RETENTION_DAYS:?}"
                )));
            }
            let group = groups.get_mut(name).ok_or_else(no_group)?;
            group.retention_days = u32::try_from(days).ok();
            drop(groups);
            state.logs.enforce_retention();
            Ok(json!({}))
        }
        "DeleteRetentionPolicy" => {
            let name = required(request, "logGroupName")?;
            groups.get_mut(name).ok_or_else(no_group)?.retention_days = None;
            Ok(json!({}))
        }
        other => Err(LogsError(
            "UnknownOperationException",
            format!("The engine does not implement Logs {other} yet"),
        )),
    }
}

fn in_time_range(request: &Value, timestamp_ms: i64) -> bool {
    let start = request.get("startTime").and_then(Value::as_i64).unwrap_or(i64::MIN);
    let end = request.get("endTime").and_then(Value::as_i64).unwrap_or(i64::MAX);
    timestamp_ms >= start && timestamp_ms < end
}
