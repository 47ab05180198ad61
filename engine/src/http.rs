//! What every operation of the engine's APIs shares: request ids, JSON bodies with AWS's errors,
//! qualifier and paging queries, finding a function (and a weighted alias), revision checks, the
//! configuration shape, timestamps, and streaming a body.

use axum::body::Bytes;
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::EngineState;
use crate::error::{ErrorType, LambdaError, Result};
use crate::model::FunctionName;
use crate::store::Function;

pub(crate) fn request_id_headers() -> [(&'static str, String); 1] {
    [("x-amzn-RequestId", uuid::Uuid::new_v4().to_string())]
}

pub(crate) fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| {
        LambdaError::new(
            ErrorType::InvalidRequestContent,
            format!("Could not parse request body into json: {e}"),
        )
    })
}

pub(crate) fn now_lambda_timestamp() -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]+0000"
    );
    time::OffsetDateTime::now_utc().format(&format).unwrap_or_default()
}

/// The `FunctionConfiguration` shape.
pub(crate) fn configuration(state: &EngineState, f: &Function) -> Value {
    let s = &f.settings;
    let arn = state.function_arn(&f.name);
    let mut config = json!({
        "FunctionName": f.name.as_str(),
        "FunctionArn": match f.version { Some(n) => format!("{arn}:{n}"), None => arn },
        "Runtime": s.runtime,
        "Role": s.role,
        "Handler": s.handler,
        "CodeSize": f.code_size,
        "Description": s.description,
        "Timeout": s.timeout,
        "MemorySize": s.memory_size,
        "LastModified": f.last_modified,
        "CodeSha256": f.code_sha256,
        "Version": f.version_label(),
        "TracingConfig": { "Mode": "PassThrough" },
        "RevisionId": f.revision_id,
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        "Architectures": [s.architecture],
        "EphemeralStorage": { "Size": s.ephemeral_storage },
        "SnapStart": { "ApplyOn": "None", "OptimizationStatus": "Off" },
        "LoggingConfig": { "LogFormat": "Text", "LogGroup": crate::logs::group_name(f.name.as_str()) },
    });
    if !s.environment.is_empty() {
        config["Environment"] = json!({ "Variables": s.environment });
    }
    if let Some(mode) = &f.tenant_isolation {
        config["TenancyConfig"] = json!({ "TenantIsolationMode": mode });
    }
    config
}

/// The `X-Amz-Tenant-Id` of an invoke, checked against the function's tenancy as Lambda does: a
/// tenant-isolated function needs one, any other refuses one.
pub(crate) fn tenant_of(function: &Function, headers: &HeaderMap) -> Result<Option<String>> {
    let tenant = headers.get("x-amz-tenant-id").map(|v| v.to_str().unwrap_or_default().to_owned());
    match (&function.tenant_isolation, tenant) {
        (Some(_), None) => Err(LambdaError::invalid(format!(
            "The function {} uses tenant isolation: the invoke must name a tenant (X-Amz-Tenant-Id, --tenant-id).",
            function.name.as_str()
        ))),
        (None, Some(_)) => Err(LambdaError::invalid(format!(
            "A tenant id was passed to {}, which does not use tenant isolation: remove it.",
            function.name.as_str()
        ))),
        (Some(_), Some(tenant)) => {
            let printable = tenant.chars().all(|c| c.is_ascii_graphic());
            if tenant.is_empty() || tenant.len() > 256 || !printable {
                return Err(LambdaError::invalid(
                    "Value at 'tenantId' failed to satisfy constraint: Member must have length between 1 and 256 and hold printable ASCII characters",
                ));
            }
            Ok(Some(tenant))
        }
        (None, None) => Ok(None),
    }
}

pub(crate) async fn find(
    state: &EngineState,
    raw: &str,
    qualifier: Option<&str>,
) -> Result<Function> {
    find_weighted(state, raw, qualifier, false).await
}

/// The function a name (or ARN) and qualifier name, as `resolve` finds it: through an alias,
/// `weighted` picks a version by the alias's routing weights (invokes), else its primary.
pub(crate) async fn find_weighted(
    state: &EngineState,
    raw: &str,
    qualifier: Option<&str>,
    weighted: bool,
) -> Result<Function> {
    let (name, path_qualifier) = FunctionName::parse(raw)?;
    let qualifier = qualifier.or(path_qualifier.as_deref());
    let not_found = || {
        let arn = state.function_arn(&name);
        let arn = match qualifier {
            Some(q) => format!("{arn}:{q}"),
            None => arn,
        };
        LambdaError::not_found(format!("Function not found: {arn}"))
    };
    let function = state.store.get(&name).await.ok_or_else(not_found)?;
    crate::store::resolve(function, qualifier.unwrap_or_default(), weighted).ok_or_else(not_found)
}

#[derive(Debug, Deserialize)]
pub(crate) struct QualifierQuery {
    #[serde(rename = "Qualifier")]
    pub qualifier: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    #[serde(rename = "Marker")]
    pub marker: Option<String>,
    #[serde(rename = "MaxItems")]
    pub max_items: Option<String>,
}

/// A body stream from a channel of chunks.
pub(crate) fn body_stream(
    mut rx: tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

pub(crate) fn check_revision(function: &Function, expected: Option<&str>) -> Result<()> {
    match expected {
        Some(expected) if expected != function.revision_id => Err(LambdaError::new(
            ErrorType::PreconditionFailed,
            "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
        )),
        _ => Ok(()),
    }
}

pub(crate) fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
