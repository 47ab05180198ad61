//! Reserved concurrency (Put/Get/DeleteFunctionConcurrency) and GetAccountSettings.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::EngineState;
use crate::error::{LambdaError, Result};

use crate::http::*;

/// GetAccountSettings: `GET /2016-08-19/account-settings`.
pub(super) async fn get_account_settings(
    State(state): State<Arc<EngineState>>,
) -> Result<Response> {
    let (functions, _) = state.store.page(None, usize::MAX - 1).await;
    let total: u64 = functions.iter().map(|f| f.code_size).sum();
    let reserved: usize =
        functions.iter().filter_map(|f| f.reserved_concurrency).map(|n| n as usize).sum();
    let limit = state.config.max_environments;
    Ok((
        request_id_headers(),
        Json(json!({
            "AccountLimit": {
                "TotalCodeSize": 80_530_636_800u64,
                "CodeSizeUnzipped": crate::code::MAX_UNZIPPED,
                "CodeSizeZipped": crate::code::MAX_ZIPPED,
                "ConcurrentExecutions": limit,
                "UnreservedConcurrentExecutions": limit.saturating_sub(reserved),
            },
            "AccountUsage": { "TotalCodeSize": total, "FunctionCount": functions.len() },
        })),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ConcurrencyRequest {
    pub(super) reserved_concurrent_executions: Option<i64>,
}

/// PutFunctionConcurrency: `PUT /2017-10-31/functions/{name}/concurrency`.
pub(super) async fn put_function_concurrency(
    State(state): State<Arc<EngineState>>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Response> {
    let request: ConcurrencyRequest = parse_body(&body)?;
    let function = find(&state, &name, None).await?;
    let requested = request
        .reserved_concurrent_executions
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| LambdaError::invalid("1 validation error detected: Value at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 0"))?;
    let limit = state.config.max_environments as u64;
    let others = state.store.reserved_total(&function.name).await;
    if others + u64::from(requested) > limit {
        return Err(LambdaError::invalid(format!(
            "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [0]. The engine's account limit is {limit}."
        )));
    }
    state
        .store
        .update(&function.name, |f| {
            f.reserved_concurrency = Some(requested);
            Ok(())
        })
        .await?;
    Ok((request_id_headers(), Json(json!({ "ReservedConcurrentExecutions": requested })))
        .into_response())
}

/// GetFunctionConcurrency: `GET /2019-09-30/functions/{name}/concurrency`.
pub(super) async fn get_function_concurrency(
    State(state): State<Arc<EngineState>>,
    Path(name): Path<String>,
) -> Result<Response> {
    let function = find(&state, &name, None).await?;
    let body = match function.reserved_concurrency {
        Some(n) => json!({ "ReservedConcurrentExecutions": n }),
        None => json!({}),
    };
    Ok((request_id_headers(), Json(body)).into_response())
}

/// DeleteFunctionConcurrency: `DELETE /2017-10-31/functions/{name}/concurrency`.
pub(super) async fn delete_function_concurrency(
    State(state): State<Arc<EngineState>>,
    Path(name): Path<String>,
) -> Result<Response> {
    let function = find(&state, &name, None).await?;
    state
        .store
        .update(&function.name, |f| {
            f.reserved_concurrency = None;
            Ok(())
        })
        .await?;
    Ok((StatusCode::NO_CONTENT, request_id_headers()).into_response())
}
