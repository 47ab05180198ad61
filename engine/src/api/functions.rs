//! Functions: create, read, list, update code and configuration, delete; code download.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::json;

use crate::EngineState;
use crate::error::{LambdaError, Result};
use crate::model::{Environment, FunctionName, Settings, validate};
use crate::store::Function;

use crate::http::*;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CodeInput {
    pub(super) zip_file: Option<String>,
    pub(super) s3_bucket: Option<String>,
    pub(super) image_uri: Option<String>,
}

/// The zip a `Code` (CreateFunction) or UpdateFunctionCode request carries.
pub(super) fn zip_bytes(code: CodeInput) -> Result<Vec<u8>> {
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
pub(super) struct EphemeralStorage {
    pub(super) size: u32,
}

/// The body of CreateFunction; members the engine does not model are ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CreateFunctionRequest {
    pub(super) function_name: String,
    pub(super) role: Option<String>,
    pub(super) runtime: Option<String>,
    pub(super) handler: Option<String>,
    pub(super) code: Option<CodeInput>,
    pub(super) description: Option<String>,
    pub(super) timeout: Option<u32>,
    pub(super) memory_size: Option<u32>,
    pub(super) environment: Option<Environment>,
    pub(super) architectures: Option<Vec<String>>,
    pub(super) ephemeral_storage: Option<EphemeralStorage>,
    pub(super) tags: Option<BTreeMap<String, String>>,
    pub(super) package_type: Option<String>,
    pub(super) tenancy_config: Option<TenancyConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TenancyConfig {
    pub(super) tenant_isolation_mode: Option<String>,
}

/// CreateFunction: `POST /2015-03-31/functions`.
pub(super) async fn create_function(
    State(state): State<Arc<EngineState>>,
    body: Bytes,
) -> Result<Response> {
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
    let tenant_isolation = match request.tenancy_config.map(|t| t.tenant_isolation_mode) {
        None => None,
        Some(Some(mode)) if mode == "PER_TENANT" => Some(mode),
        Some(mode) => {
            return Err(LambdaError::invalid(format!(
                "1 validation error detected: Value '{}' at 'tenancyConfig.tenantIsolationMode' failed to satisfy constraint: Member must satisfy enum value set: [PER_TENANT]",
                mode.unwrap_or_default()
            )));
        }
    };
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
        tenant_isolation,
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

/// GetFunction: `GET /2015-03-31/functions/{name}`.
pub(super) async fn get_function(
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
pub(super) async fn get_function_configuration(
    State(state): State<Arc<EngineState>>,
    Path(name): Path<String>,
    Query(query): Query<QualifierQuery>,
) -> Result<Response> {
    let function = find(&state, &name, query.qualifier.as_deref()).await?;
    Ok((request_id_headers(), Json(configuration(&state, &function))).into_response())
}

/// ListFunctions: `GET /2015-03-31/functions`, at most 50 a page; no `NextMarker` on the last.
pub(super) async fn list_functions(
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
pub(super) async fn delete_function(
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

/// The zip behind GetFunction's `Code.Location`.
pub(super) async fn download_code(
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
pub(super) fn updated(state: &EngineState, function: &Function) -> Response {
    let mut config = configuration(state, function);
    config["LastUpdateStatus"] = json!("InProgress");
    config["LastUpdateStatusReason"] = json!("The function is being updated.");
    config["LastUpdateStatusReasonCode"] = json!("InProgress");
    (request_id_headers(), Json(config)).into_response()
}

/// A new revision: running environments finish their invoke and are then replaced.
pub(crate) fn touch(function: &mut Function) {
    function.revision_id = uuid::Uuid::new_v4().to_string();
    function.runtime_revision = uuid::Uuid::new_v4().to_string();
    function.last_modified = now_lambda_timestamp();
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UpdateCodeRequest {
    #[serde(flatten)]
    pub(super) code: CodeInput,
    pub(super) revision_id: Option<String>,
    #[serde(default)]
    pub(super) dry_run: bool,
}

/// UpdateFunctionCode: `PUT /2015-03-31/functions/{name}/code`.
pub(super) async fn update_function_code(
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
pub(super) struct UpdateConfigurationRequest {
    pub(super) role: Option<String>,
    pub(super) handler: Option<String>,
    pub(super) description: Option<String>,
    pub(super) timeout: Option<u32>,
    pub(super) memory_size: Option<u32>,
    pub(super) environment: Option<Environment>,
    pub(super) runtime: Option<String>,
    pub(super) ephemeral_storage: Option<EphemeralStorage>,
    pub(super) revision_id: Option<String>,
}

/// UpdateFunctionConfiguration: `PUT /2015-03-31/functions/{name}/configuration`.
pub(super) async fn update_function_configuration(
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
pub(super) async fn check_role(state: &EngineState, role: &str) -> Result<()> {
    match state.iam.role_by_arn(role).await {
        Some(role) if role.trusts_lambda() => Ok(()),
        _ => Err(LambdaError::invalid(
            "The role defined for the function cannot be assumed by Lambda.",
        )),
    }
}
