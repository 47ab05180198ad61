//! Invoke (`RequestResponse`, `DryRun`, `Event`) and InvokeWithResponseStream.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::EngineState;
use crate::error::{ErrorType, LambdaError, Result};

use crate::http::*;

/// Invoke: `POST /2015-03-31/functions/{name}/invocations`.
pub(super) async fn invoke(
    State(state): State<Arc<EngineState>>,
    Path(name): Path<String>,
    Query(query): Query<QualifierQuery>,
    headers: HeaderMap,
    payload: Bytes,
) -> Result<Response> {
    let function = find_weighted(&state, &name, query.qualifier.as_deref(), true).await?;
    let tenant = tenant_of(&function, &headers)?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let tail = header("x-amz-log-type") == Some("Tail");
    match header("x-amz-invocation-type").unwrap_or("RequestResponse") {
        "RequestResponse" => {}
        "DryRun" => return Ok((StatusCode::NO_CONTENT, request_id_headers()).into_response()),
        "Event" => {
            if payload.len() > 1_048_576 {
                return Err(LambdaError::new(
                    ErrorType::RequestTooLarge,
                    "Request must be smaller than 1048576 bytes for the InvokeFunction operation",
                ));
            }
            let payload = if payload.is_empty() { Bytes::from_static(b"{}") } else { payload };
            if serde_json::from_slice::<serde::de::IgnoredAny>(&payload).is_err() {
                return Err(LambdaError::new(
                    ErrorType::InvalidRequestContent,
                    "Could not parse request body into json: Could not parse payload into json",
                ));
            }
            let qualifier = query.qualifier.as_deref().unwrap_or_default();
            state.events.enqueue(&function.name, qualifier, tenant, &payload).await?;
            let name = function.name.as_str();
            state.metrics.record(name, crate::metrics::Metric::AsyncEventsReceived, 1.0);
            return Ok((StatusCode::ACCEPTED, request_id_headers()).into_response());
        }
        other => {
            return Err(LambdaError::invalid(format!(
                "1 validation error detected: Value '{other}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
            )));
        }
    }
    let executed = function.version_label();
    let result =
        crate::invoke::invoke(&state, function, payload, tail, tenant).await?.buffered().await;
    let mut response = (StatusCode::OK, request_id_headers(), result.body).into_response();
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    if let Ok(version) = HeaderValue::from_str(&executed) {
        headers.insert("x-amz-executed-version", version);
    }
    if result.function_error {
        headers.insert("x-amz-function-error", HeaderValue::from_static("Unhandled"));
    }
    if let Some(log) = result.log_result.and_then(|l| HeaderValue::from_str(&l).ok()) {
        headers.insert("x-amz-log-result", log);
    }
    Ok(response)
}

/// InvokeWithResponseStream: `POST /2021-11-15/functions/{name}/response-streaming-invocations`.
/// The body is event-stream frames: `PayloadChunk`s as the function writes, then
/// `InvokeComplete` (errors are reported there; the status stays 200).
pub(super) async fn invoke_with_response_stream(
    State(state): State<Arc<EngineState>>,
    Path(name): Path<String>,
    Query(query): Query<QualifierQuery>,
    headers: HeaderMap,
    payload: Bytes,
) -> Result<Response> {
    use crate::event_stream::event;
    use crate::runtime_api::Chunk;
    let function = find_weighted(&state, &name, query.qualifier.as_deref(), true).await?;
    let tenant = tenant_of(&function, &headers)?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match header("x-amz-invocation-type").unwrap_or("RequestResponse") {
        "RequestResponse" => {}
        "DryRun" => return Ok((StatusCode::NO_CONTENT, request_id_headers()).into_response()),
        other => {
            return Err(LambdaError::invalid(format!(
                "1 validation error detected: Value '{other}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [RequestResponse, DryRun]"
            )));
        }
    }
    let tail = header("x-amz-log-type") == Some("Tail");
    let executed = function.version_label();
    let mut result = crate::invoke::invoke(&state, function, payload, tail, tenant).await?;
    let content_type =
        result.stream.as_ref().map_or("application/json", |s| s.content_type.as_str()).to_owned();
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(16);
    let chunk = |data: &[u8]| Ok(event("PayloadChunk", "application/octet-stream", data));
    let complete = |error: Option<&[u8]>, log: Option<&str>| {
        let mut body = json!({});
        if let Some(error) = error {
            let details: Value = serde_json::from_slice(error).unwrap_or(Value::Null);
            body["ErrorCode"] = json!(details["errorType"].as_str().unwrap_or("Unhandled"));
            body["ErrorDetails"] = json!(String::from_utf8_lossy(error));
        }
        if let Some(log) = log {
            body["LogResult"] = json!(log);
        }
        Ok(event("InvokeComplete", "application/json", body.to_string().as_bytes()))
    };
    match result.stream.take() {
        Some(mut stream) => {
            tokio::spawn(async move {
                let mut failed = None;
                while let Some(piece) = stream.chunks.recv().await {
                    match piece {
                        Chunk::Data(data) => {
                            let _ = tx.send(chunk(&data)).await;
                        }
                        Chunk::Failed(error) => failed = Some(error),
                    }
                }
                let _ = tx.send(complete(failed.as_deref(), None)).await;
            });
        }
        None => {
            let error = result.function_error.then_some(&result.body[..]);
            if !result.function_error {
                let _ = tx.send(chunk(&result.body)).await;
            }
            let _ = tx.send(complete(error, result.log_result.as_deref())).await;
        }
    }
    let body = axum::body::Body::from_stream(body_stream(rx));
    let mut response = (StatusCode::OK, request_id_headers(), body).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        headers.insert("content-type", value);
    }
    if let Ok(version) = HeaderValue::from_str(&executed) {
        headers.insert("x-amz-executed-version", version);
    }
    Ok(response)
}
