//! The Lambda control plane and Invoke over restJson1 (API 2015-03-31): request parsing,
//! validation before any change, and responses in AWS's shapes.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::EngineState;
use crate::error::{ErrorType, LambdaError, Result};
use crate::model::{Environment, FunctionName, Settings, validate};
use crate::store::Function;

pub fn router(state: Arc<EngineState>) -> Router {
    let api = Router::new()
        .route("/2015-03-31/functions", get(list_functions).post(create_function))
        .route("/2015-03-31/functions/", get(list_functions).post(create_function))
        .route("/2015-03-31/functions/{name}", get(get_function).delete(delete_function))
        .route(
            "/2015-03-31/functions/{name}/configuration",
            get(get_function_configuration).put(update_function_configuration),
        )
        .route("/2015-03-31/functions/{name}/code", axum::routing::put(update_function_code))
        .route(
            "/2017-03-31/tags/{resource}",
            get(list_tags).post(tag_resource).delete(untag_resource),
        )
        .route(
            "/2017-10-31/functions/{name}/concurrency",
            axum::routing::put(put_function_concurrency).delete(delete_function_concurrency),
        )
        .route("/2019-09-30/functions/{name}/concurrency", get(get_function_concurrency))
        .route("/2015-03-31/functions/{name}/invocations", axum::routing::post(invoke))
        .route(
            "/2021-11-15/functions/{name}/response-streaming-invocations",
            axum::routing::post(invoke_with_response_stream),
        )
        .route(
            "/2015-03-31/functions/{name}/policy",
            get(crate::policy::get_policy).post(crate::policy::add_permission),
        )
        .route(
            "/2015-03-31/functions/{name}/policy/{sid}",
            axum::routing::delete(crate::policy::remove_permission),
        )
        .route(
            "/2021-10-31/functions/{name}/url",
            get(crate::urls::get_url)
                .post(crate::urls::create_url)
                .put(crate::urls::update_url)
                .delete(crate::urls::delete_url),
        )
        .route("/2021-10-31/functions/{name}/urls", get(crate::urls::list_urls))
        .route(
            "/2015-03-31/functions/{name}/versions",
            get(crate::versions::list_versions).post(crate::versions::publish_version),
        )
        .route(
            "/2015-03-31/functions/{name}/aliases",
            get(crate::versions::list_aliases).post(crate::versions::create_alias),
        )
        .route(
            "/2015-03-31/functions/{name}/aliases/{alias}",
            get(crate::versions::get_alias)
                .put(crate::versions::update_alias)
                .delete(crate::versions::delete_alias),
        )
        .route("/2016-08-19/account-settings", get(get_account_settings))
        .route("/2016-08-19/account-settings/", get(get_account_settings))
        .route("/_lambdaport/code/{key}", get(download_code))
        .route("/", axum::routing::post(crate::logs_api::dispatch))
        .fallback(unknown_operation)
        // A 50 MB zip is ~67 MB as base64 in JSON; larger bodies get Lambda's errors, not axum's.
        .layer(axum::extract::DefaultBodyLimit::max(80 * 1024 * 1024))
        .with_state(state.clone());
    // Function URL requests are taken before routing (outside it, so the API's method routing
    // never touches them); the rest goes on to the API.
    Router::new()
        .fallback_service(api)
        .layer(axum::middleware::from_fn_with_state(state, crate::function_url::front))
}

async fn unknown_operation(uri: axum::http::Uri) -> LambdaError {
    LambdaError::new(
        ErrorType::ResourceNotFound,
        format!("The engine does not implement this operation yet: {uri}"),
    )
}

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

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CodeInput {
    zip_file: Option<String>,
    s3_bucket: Option<String>,
    image_uri: Option<String>,
}

/// The zip a `Code` (CreateFunction) or UpdateFunctionCode request carries.
fn zip_bytes(code: CodeInput) -> Result<Vec<u8>> {
    if code.s3_bucket.is_some() || code.image_uri.is_some() {
        return Err(LambdaError::invalid(
            "The engine takes code as ZipFile only (S3 and images are not supported)",
        ));
    }
    let zip_b64 = code
        .zip_file
        .ok_or_else(|| LambdaError::invalid("Please provide a source for function code."))?;
    base64::engine::general_purpose::STANDARD.decode(zip_b64.trim()).map_err(|_| {
        LambdaError::invalid(
            "Could not unzip uploaded file. Please check your file, then try to upload again.",
        )
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EphemeralStorage {
    size: u32,
}

/// The body of CreateFunction; members the engine does not model are ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateFunctionRequest {
    function_name: String,
    role: Option<String>,
    runtime: Option<String>,
    handler: Option<String>,
    code: Option<CodeInput>,
    description: Option<String>,
    timeout: Option<u32>,
    memory_size: Option<u32>,
    environment: Option<Environment>,
    architectures: Option<Vec<String>>,
    ephemeral_storage: Option<EphemeralStorage>,
    tags: Option<BTreeMap<String, String>>,
    package_type: Option<String>,
}

pub(crate) fn now_lambda_timestamp() -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]+0000"
    );
    time::OffsetDateTime::now_utc().format(&format).unwrap_or_default()
}

/// CreateFunction: `POST /2015-03-31/functions`.
async fn create_function(State(state): State<Arc<EngineState>>, body: Bytes) -> Result<Response> {
    let request: CreateFunctionRequest = parse_body(&body)?;
    let (name, qualifier) = FunctionName::parse(&request.function_name)?;
    if qualifier.is_some() {
        return Err(LambdaError::invalid(
            "Qualifiers are not allowed in the function name of CreateFunction",
        ));
    }
    if request.package_type.as_deref().is_some_and(|p| p != "Zip") {
        return Err(LambdaError::invalid(
            "The engine runs Zip packages only; container images are not supported",
        ));
    }
    let (Some(runtime), Some(handler)) = (request.runtime, request.handler) else {
        return Err(LambdaError::invalid(
            "Runtime and Handler are mandatory parameters for functions created with deployment packages.",
        ));
    };
    let role = request.role.ok_or_else(|| LambdaError::invalid("1 validation error detected: Value null at 'role' failed to satisfy constraint: Member must not be null"))?;
    let architectures = request.architectures.unwrap_or_else(|| vec!["x86_64".to_owned()]);
    let [architecture] = architectures.as_slice() else {
        return Err(LambdaError::invalid(
            "Value at 'architectures' failed to satisfy constraint: Member must have length less than or equal to 1",
        ));
    };
    let settings = Settings {
        runtime,
        handler,
        role,
        description: request.description.unwrap_or_default(),
        timeout: request.timeout.unwrap_or(3),
        memory_size: request.memory_size.unwrap_or(128),
        environment: request.environment.map(|e| e.variables).unwrap_or_default(),
        architecture: architecture.clone(),
        ephemeral_storage: request.ephemeral_storage.map_or(512, |e| e.size),
    };
    validate(&settings)?;
    check_role(&state, &settings.role).await?;
    let code = request.code.ok_or_else(|| LambdaError::invalid("1 validation error detected: Value null at 'code' failed to satisfy constraint: Member must not be null"))?;
    let zip = zip_bytes(code)?;
    if state.store.get(&name).await.is_some() {
        return Err(LambdaError::conflict(format!("Function already exist: {}", name.as_str())));
    }
    let store = state.code.clone();
    let stored = tokio::task::spawn_blocking(move || store.put(&zip))
        .await
        .map_err(LambdaError::service)??;
    let function = Function {
        name,
        settings,
        code_sha256: stored.sha256,
        code_key: stored.key,
        code_size: stored.size,
        tags: request.tags.unwrap_or_default(),
        revision_id: uuid::Uuid::new_v4().to_string(),
        runtime_revision: uuid::Uuid::new_v4().to_string(),
        last_modified: now_lambda_timestamp(),
        reserved_concurrency: None,
        urls: BTreeMap::new(),
        policies: BTreeMap::new(),
        aliases: BTreeMap::new(),
        versions: BTreeMap::new(),
        last_version: 0,
        version: None,
    };
    state.store.insert(function.clone()).await?;
    tracing::info!(function.name = function.name.as_str(), "created function");
    // The function is usable at once; the response still says Pending once, as Lambda's does, so
    // clients that wait for Active (the SDK waiters) take their usual path.
    let mut config = configuration(&state, &function);
    config["State"] = json!("Pending");
    config["StateReason"] = json!("The function is being created.");
    config["StateReasonCode"] = json!("Creating");
    Ok((StatusCode::CREATED, request_id_headers(), Json(config)).into_response())
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
    config
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
async fn find_weighted(
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
    crate::versions::resolve(function, qualifier.unwrap_or_default(), weighted)
        .ok_or_else(not_found)
}

#[derive(Debug, Deserialize)]
pub(crate) struct QualifierQuery {
    #[serde(rename = "Qualifier")]
    pub qualifier: Option<String>,
}

/// GetFunction: `GET /2015-03-31/functions/{name}`.
async fn get_function(
    State(state): State<Arc<EngineState>>,
    Path(name): Path<String>,
    Query(query): Query<QualifierQuery>,
) -> Result<Response> {
    let function = find(&state, &name, query.qualifier.as_deref()).await?;
    let mut body = json!({
        "Configuration": configuration(&state, &function),
        "Code": {
            "RepositoryType": "S3",
            "Location": format!("http://{}/_lambdaport/code/{}", state.config.listen, function.code_key),
        },
    });
    if !function.tags.is_empty() {
        body["Tags"] = json!(function.tags);
    }
    Ok((request_id_headers(), Json(body)).into_response())
}

/// GetFunctionConfiguration: `GET /2015-03-31/functions/{name}/configuration`.
async fn get_function_configuration(
    State(state): State<Arc<EngineState>>,
    Path(name): Path<String>,
    Query(query): Query<QualifierQuery>,
) -> Result<Response> {
    let function = find(&state, &name, query.qualifier.as_deref()).await?;
    Ok((request_id_headers(), Json(configuration(&state, &function))).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    #[serde(rename = "Marker")]
    pub marker: Option<String>,
    #[serde(rename = "MaxItems")]
    pub max_items: Option<String>,
}

/// ListFunctions: `GET /2015-03-31/functions`, at most 50 a page; no `NextMarker` on the last.
async fn list_functions(
    State(state): State<Arc<EngineState>>,
    Query(query): Query<ListQuery>,
) -> Result<Response> {
    let limit = match query.max_items.as_deref() {
        None => 50,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n @ 1..=10000) => n.min(50),
            _ => {
                return Err(LambdaError::invalid(format!(
                    "1 validation error detected: Value '{raw}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000"
                )));
            }
        },
    };
    let (functions, more) =
        state.store.page(query.marker.as_deref().filter(|m| !m.is_empty()), limit).await;
    let mut body = json!({
        "Functions": functions.iter().map(|f| {
            let mut config = configuration(&state, f);
            // ListFunctions leaves out the state fields (see the API reference).
            if let Some(object) = config.as_object_mut() {
                object.remove("State");
                object.remove("LastUpdateStatus");
            }
            config
        }).collect::<Vec<_>>(),
    });
    if more && let Some(last) = functions.last() {
        body["NextMarker"] = json!(last.name.as_str());
    }
    Ok((request_id_headers(), Json(body)).into_response())
}

/// DeleteFunction: `DELETE /2015-03-31/functions/{name}`. Its log group stays, as on AWS.
async fn delete_function(
    State(state): State<Arc<EngineState>>,
    Path(name): Path<String>,
    Query(query): Query<QualifierQuery>,
) -> Result<Response> {
    let function = find(&state, &name, query.qualifier.as_deref()).await?;
    match query.qualifier.as_deref() {
        None => {}
        Some("$LATEST") => {
            return Err(LambdaError::invalid(
                "$LATEST version cannot be deleted without deleting the function.",
            ));
        }
        Some(q) if !q.bytes().all(|b| b.is_ascii_digit()) => {
            return Err(LambdaError::invalid(
                "Deletion of aliases is not supported through DeleteFunction; use DeleteAlias.",
            ));
        }
        Some(_) => {
            let number = function.version.unwrap_or_default();
            crate::versions::delete_version(&state, &function, number).await?;
            tracing::info!(
                function.name = function.name.as_str(),
                version = number,
                "deleted version"
            );
            return Ok((StatusCode::NO_CONTENT, request_id_headers()).into_response());
        }
    }
    state.store.remove(&function.name).await;
    state.pools.drain(&function.name).await;
    tracing::info!(function.name = function.name.as_str(), "deleted function");
    Ok((StatusCode::NO_CONTENT, request_id_headers()).into_response())
}

/// Invoke: `POST /2015-03-31/functions/{name}/invocations`.
async fn invoke(
    State(state): State<Arc<EngineState>>,
    Path(name): Path<String>,
    Query(query): Query<QualifierQuery>,
    headers: HeaderMap,
    payload: Bytes,
) -> Result<Response> {
    let function = find_weighted(&state, &name, query.qualifier.as_deref(), true).await?;
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
            state.events.enqueue(&function.name, qualifier, &payload).await?;
            return Ok((StatusCode::ACCEPTED, request_id_headers()).into_response());
        }
        other => {
            return Err(LambdaError::invalid(format!(
                "1 validation error detected: Value '{other}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
            )));
        }
    }
    let executed = function.version_label();
    let result = crate::invoke::invoke(&state, function, payload, tail).await?.buffered().await;
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
async fn invoke_with_response_stream(
    State(state): State<Arc<EngineState>>,
    Path(name): Path<String>,
    Query(query): Query<QualifierQuery>,
    headers: HeaderMap,
    payload: Bytes,
) -> Result<Response> {
    use crate::event_stream::event;
    use crate::runtime_api::Chunk;
    let function = find_weighted(&state, &name, query.qualifier.as_deref(), true).await?;
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
    let mut result = crate::invoke::invoke(&state, function, payload, tail).await?;
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

/// A body stream from a channel of chunks.
pub(crate) fn body_stream(
    mut rx: tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// GetAccountSettings: `GET /2016-08-19/account-settings`.
async fn get_account_settings(State(state): State<Arc<EngineState>>) -> Result<Response> {
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

/// The zip behind GetFunction's `Code.Location`.
async fn download_code(
    State(state): State<Arc<EngineState>>,
    Path(key): Path<String>,
) -> Result<Response> {
    let key = key.trim_end_matches(".zip");
    if key.len() != 64 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(LambdaError::not_found("no such code"));
    }
    let bytes = tokio::fs::read(state.code_root().join(format!("{key}.zip")))
        .await
        .map_err(|_| LambdaError::not_found("no such code"))?;
    Ok(([("content-type", "application/zip")], bytes).into_response())
}

/// The response of an update: the new configuration, `InProgress` once (as Lambda's), so
/// `function_updated_v2` waiters take their usual path.
fn updated(state: &EngineState, function: &Function) -> Response {
    let mut config = configuration(state, function);
    config["LastUpdateStatus"] = json!("InProgress");
    config["LastUpdateStatusReason"] = json!("The function is being updated.");
    config["LastUpdateStatusReasonCode"] = json!("InProgress");
    (request_id_headers(), Json(config)).into_response()
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

/// A new revision: running environments finish their invoke and are then replaced.
pub(crate) fn touch(function: &mut Function) {
    function.revision_id = uuid::Uuid::new_v4().to_string();
    function.runtime_revision = uuid::Uuid::new_v4().to_string();
    function.last_modified = now_lambda_timestamp();
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateCodeRequest {
    #[serde(flatten)]
    code: CodeInput,
    revision_id: Option<String>,
    #[serde(default)]
    dry_run: bool,
}

/// UpdateFunctionCode: `PUT /2015-03-31/functions/{name}/code`.
async fn update_function_code(
    State(state): State<Arc<EngineState>>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Response> {
    let request: UpdateCodeRequest = parse_body(&body)?;
    let function = find(&state, &name, None).await?;
    check_revision(&function, request.revision_id.as_deref())?;
    let zip = zip_bytes(request.code)?;
    let store = state.code.clone();
    let stored = tokio::task::spawn_blocking(move || store.put(&zip))
        .await
        .map_err(LambdaError::service)??;
    if request.dry_run {
        return Ok(updated(&state, &function));
    }
    let function = state
        .store
        .update(&function.name, |f| {
            check_revision(f, request.revision_id.as_deref())?;
            f.code_sha256 = stored.sha256;
            f.code_key = stored.key;
            f.code_size = stored.size;
            touch(f);
            Ok(())
        })
        .await?;
    tracing::info!(function.name = function.name.as_str(), "updated function code");
    Ok(updated(&state, &function))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateConfigurationRequest {
    role: Option<String>,
    handler: Option<String>,
    description: Option<String>,
    timeout: Option<u32>,
    memory_size: Option<u32>,
    environment: Option<Environment>,
    runtime: Option<String>,
    ephemeral_storage: Option<EphemeralStorage>,
    revision_id: Option<String>,
}

/// UpdateFunctionConfiguration: `PUT /2015-03-31/functions/{name}/configuration`.
async fn update_function_configuration(
    State(state): State<Arc<EngineState>>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Response> {
    let request: UpdateConfigurationRequest = parse_body(&body)?;
    let function = find(&state, &name, None).await?;
    if let Some(role) = &request.role {
        check_role(&state, role).await?;
    }
    let function = state
        .store
        .update(&function.name, |f| {
            check_revision(f, request.revision_id.as_deref())?;
            let mut settings = f.settings.clone();
            if let Some(role) = request.role {
                settings.role = role;
            }
            if let Some(handler) = request.handler {
                settings.handler = handler;
            }
            if let Some(description) = request.description {
                settings.description = description;
            }
            if let Some(timeout) = request.timeout {
                settings.timeout = timeout;
            }
            if let Some(memory) = request.memory_size {
                settings.memory_size = memory;
            }
            if let Some(environment) = request.environment {
                settings.environment = environment.variables;
            }
            if let Some(runtime) = request.runtime {
                settings.runtime = runtime;
            }
            if let Some(storage) = request.ephemeral_storage {
                settings.ephemeral_storage = storage.size;
            }
            validate(&settings)?;
            f.settings = settings;
            touch(f);
            Ok(())
        })
        .await?;
    tracing::info!(function.name = function.name.as_str(), "updated function configuration");
    Ok(updated(&state, &function))
}

/// Lambda must be able to assume a function's role: it exists and its trust policy names
/// `lambda.amazonaws.com`. AWS answers both failures with the same words.
async fn check_role(state: &EngineState, role: &str) -> Result<()> {
    match state.iam.role_by_arn(role).await {
        Some(role) if role.trusts_lambda() => Ok(()),
        _ => Err(LambdaError::invalid(
            "The role defined for the function cannot be assumed by Lambda.",
        )),
    }
}

/// The function a tagging ARN names; tags live on unqualified function ARNs only.
async fn tagged_function(state: &EngineState, resource: &str) -> Result<Function> {
    if !resource.starts_with("arn:") {
        return Err(LambdaError::invalid(format!(
            "1 validation error detected: Value '{resource}' at 'resource' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*):lambda:[a-z]{{2}}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{{1}}:\\d{{12}}:function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
        )));
    }
    find(state, resource, None).await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagRequest {
    tags: BTreeMap<String, String>,
}

fn validate_tags(tags: &BTreeMap<String, String>) -> Result<()> {
    let allowed = |c: char| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c);
    for (key, value) in tags {
        if !(1..=128).contains(&key.chars().count())
            || !key.chars().all(allowed)
            || key.starts_with("aws:")
        {
            return Err(LambdaError::invalid(format!(
                "Tag key '{key}' is not valid: 1 to 128 letters, digits, spaces and _.:/=+-@, not starting with aws:"
            )));
        }
        if value.chars().count() > 256 || !value.chars().all(allowed) {
            return Err(LambdaError::invalid(format!(
                "The value of tag '{key}' is not valid: up to 256 letters, digits, spaces and _.:/=+-@"
            )));
        }
    }
    if tags.len() > 50 {
        return Err(LambdaError::invalid("A function can have at most 50 tags"));
    }
    Ok(())
}

/// TagResource: `POST /2017-03-31/tags/{arn}`.
async fn tag_resource(
    State(state): State<Arc<EngineState>>,
    Path(resource): Path<String>,
    body: Bytes,
) -> Result<Response> {
    let request: TagRequest = parse_body(&body)?;
    let function = tagged_function(&state, &resource).await?;
    state
        .store
        .update(&function.name, |f| {
            let mut tags = f.tags.clone();
            tags.extend(request.tags);
            validate_tags(&tags)?;
            f.tags = tags;
            Ok(())
        })
        .await?;
    Ok((StatusCode::NO_CONTENT, request_id_headers()).into_response())
}

/// UntagResource: `DELETE /2017-03-31/tags/{arn}?tagKeys=a&tagKeys=b`.
async fn untag_resource(
    State(state): State<Arc<EngineState>>,
    Path(resource): Path<String>,
    uri: axum::http::Uri,
) -> Result<Response> {
    let keys: Vec<String> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.strip_prefix("tagKeys="))
        .map(percent_decode)
        .collect();
    let function = tagged_function(&state, &resource).await?;
    state
        .store
        .update(&function.name, |f| {
            for key in &keys {
                f.tags.remove(key);
            }
            Ok(())
        })
        .await?;
    Ok((StatusCode::NO_CONTENT, request_id_headers()).into_response())
}

/// ListTags: `GET /2017-03-31/tags/{arn}`.
async fn list_tags(
    State(state): State<Arc<EngineState>>,
    Path(resource): Path<String>,
) -> Result<Response> {
    let function = tagged_function(&state, &resource).await?;
    Ok((request_id_headers(), Json(json!({ "Tags": function.tags }))).into_response())
}

fn percent_decode(raw: &str) -> String {
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

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConcurrencyRequest {
    reserved_concurrent_executions: Option<i64>,
}

/// PutFunctionConcurrency: `PUT /2017-10-31/functions/{name}/concurrency`.
async fn put_function_concurrency(
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
async fn get_function_concurrency(
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
async fn delete_function_concurrency(
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
