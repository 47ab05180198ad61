//! Function URL configurations (API 2021-10-31): Create/Get/Update/Delete/ListFunctionUrlConfigs,
//! one per function or alias, each with a fresh 32-character id. The front end that serves the
//! URLs is `crate::function_url`.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::EngineState;
use crate::error::{LambdaError, Result};
use crate::http::{ListQuery, QualifierQuery, find, parse_body, request_id_headers};
use crate::model::{Cors, UrlConfig};
use crate::store::Function;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UrlRequest {
    auth_type: Option<String>,
    cors: Option<Cors>,
    invoke_mode: Option<String>,
}

/// The key a URL is kept under: `""` for the function itself, else the alias name.
fn url_key(function: &Function, qualifier: Option<&str>) -> Result<String> {
    match qualifier {
        None => Ok(String::new()),
        Some("$LATEST") => Err(LambdaError::invalid(
            "1 validation error detected: Value '$LATEST' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: ((?!^\\d+$)^[0-9a-zA-Z-_]+$)",
        )),
        Some(alias) if function.aliases.contains_key(alias) => Ok(alias.to_owned()),
        Some(alias) => Err(LambdaError::not_found(format!(
            "Function not found: arn:aws:lambda:::function:{}:{alias}",
            function.name.as_str()
        ))),
    }
}

/// The URL clients call: `http://<id>.lambda-url.<region>.localhost:<port>/`.
pub fn function_url(state: &EngineState, id: &str) -> String {
    format!(
        "http://{id}.lambda-url.{}.localhost:{}/",
        state.config.region,
        state.config.listen.port()
    )
}

fn validate(auth_type: &str, cors: Option<&Cors>, invoke_mode: &str) -> Result<()> {
    let error = |field: &str, value: &str, constraint: &str| {
        LambdaError::invalid(format!(
            "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"
        ))
    };
    if auth_type != "NONE" && auth_type != "AWS_IAM" {
        return Err(error(
            "authType",
            auth_type,
            "Member must satisfy enum value set: [AWS_IAM, NONE]",
        ));
    }
    if invoke_mode != "BUFFERED" && invoke_mode != "RESPONSE_STREAM" {
        return Err(error(
            "invokeMode",
            invoke_mode,
            "Member must satisfy enum value set: [BUFFERED, RESPONSE_STREAM]",
        ));
    }
    let Some(cors) = cors else { return Ok(()) };
    let lists = [
        ("cors.allowHeaders", &cors.allow_headers, 100, 1024),
        ("cors.allowMethods", &cors.allow_methods, 6, 6),
        ("cors.allowOrigins", &cors.allow_origins, 100, 253),
        ("cors.exposeHeaders", &cors.expose_headers, 100, 1024),
    ];
    for (field, list, max_items, max_len) in lists {
        let Some(list) = list else { continue };
        if list.len() > max_items {
            return Err(error(
                field,
                &format!("{list:?}"),
                &format!("Member must have length less than or equal to {max_items}"),
            ));
        }
        if let Some(bad) = list.iter().find(|v| v.is_empty() || v.len() > max_len) {
            return Err(error(
                field,
                bad,
                &format!("Member must have length less than or equal to {max_len}"),
            ));
        }
    }
    if let Some(bad) = cors
        .allow_methods
        .iter()
        .flatten()
        .find(|m| *m != "*" && !m.bytes().all(|b| b.is_ascii_uppercase()))
    {
        return Err(error(
            "cors.allowMethods",
            bad,
            "Member must satisfy regular expression pattern: .*",
        ));
    }
    if let Some(age) = cors.max_age.filter(|a| !(0..=86400).contains(a)) {
        return Err(error(
            "cors.maxAge",
            &age.to_string(),
            "Member must have value less than or equal to 86400",
        ));
    }
    Ok(())
}

fn new_url_id() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    [uuid::Uuid::new_v4(), uuid::Uuid::new_v4()]
        .iter()
        .flat_map(|u| *u.as_bytes())
        .take(32)
        .map(|b| ALPHABET[usize::from(b) % ALPHABET.len()] as char)
        .collect()
}

fn now_iso() -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    time::OffsetDateTime::now_utc().format(&format).unwrap_or_default()
}

/// The configuration's JSON shape.
fn shape(state: &EngineState, function: &Function, key: &str, url: &UrlConfig) -> Value {
    let arn = state.function_arn(&function.name);
    let mut body = json!({
        "FunctionUrl": function_url(state, &url.id),
        "FunctionArn": if key.is_empty() { arn } else { format!("{arn}:{key}") },
        "AuthType": url.auth_type,
        "CreationTime": url.created,
        "LastModifiedTime": url.last_modified,
        "InvokeMode": url.invoke_mode,
    });
    if let Some(cors) = &url.cors {
        body["Cors"] = json!(cors);
    }
    body
}

fn no_url() -> LambdaError {
    LambdaError::not_found("The resource you requested does not exist.")
}

/// CreateFunctionUrlConfig: `POST /2021-10-31/functions/{name}/url` → 201.
pub(crate) async fn create_url(
    State(state): State<Arc<EngineState>>,
    Path(name): Path<String>,
    Query(query): Query<QualifierQuery>,
    body: Bytes,
) -> Result<Response> {
    let request: UrlRequest = parse_body(&body)?;
    let function = find(&state, &name, None).await?;
    let key = url_key(&function, query.qualifier.as_deref())?;
    let auth_type = request.auth_type.ok_or_else(|| {
        LambdaError::invalid("1 validation error detected: Value null at 'authType' failed to satisfy constraint: Member must not be null")
    })?;
    let invoke_mode = request.invoke_mode.unwrap_or_else(|| "BUFFERED".to_owned());
    validate(&auth_type, request.cors.as_ref(), &invoke_mode)?;
    let now = now_iso();
    let url = UrlConfig {
        id: new_url_id(),
        auth_type,
        cors: request.cors,
        invoke_mode,
        created: now.clone(),
        last_modified: now,
    };
    let arn = state.function_arn(&function.name);
    let function = state
        .store
        .update(&function.name, |f| {
            if f.urls.contains_key(&key) {
                return Err(LambdaError::conflict(format!(
                    "Failed to create function url config for [functionArn = {arn}]. Error message:  FunctionUrlConfig exists for this Lambda function"
                )));
            }
            f.urls.insert(key.clone(), url.clone());
            Ok(())
        })
        .await?;
    let mut body = shape(&state, &function, &key, &url);
    if let Some(object) = body.as_object_mut() {
        object.remove("LastModifiedTime");
    }
    tracing::info!(function.name = function.name.as_str(), url.id = url.id, "created function URL");
    Ok((StatusCode::CREATED, request_id_headers(), Json(body)).into_response())
}

/// GetFunctionUrlConfig: `GET /2021-10-31/functions/{name}/url`.
pub(crate) async fn get_url(
    State(state): State<Arc<EngineState>>,
    Path(name): Path<String>,
    Query(query): Query<QualifierQuery>,
) -> Result<Response> {
    let function = find(&state, &name, None).await?;
    let key = url_key(&function, query.qualifier.as_deref())?;
    let url = function.urls.get(&key).ok_or_else(no_url)?;
    Ok((request_id_headers(), Json(shape(&state, &function, &key, url))).into_response())
}

/// UpdateFunctionUrlConfig: `PUT /2021-10-31/functions/{name}/url`.
pub(crate) async fn update_url(
    State(state): State<Arc<EngineState>>,
    Path(name): Path<String>,
    Query(query): Query<QualifierQuery>,
    body: Bytes,
) -> Result<Response> {
    let request: UrlRequest = parse_body(&body)?;
    let function = find(&state, &name, None).await?;
    let key = url_key(&function, query.qualifier.as_deref())?;
    let function = state
        .store
        .update(&function.name, |f| {
            let url = f.urls.get_mut(&key).ok_or_else(no_url)?;
            let auth_type = request.auth_type.clone().unwrap_or_else(|| url.auth_type.clone());
            let invoke_mode =
                request.invoke_mode.clone().unwrap_or_else(|| url.invoke_mode.clone());
            let cors = request.cors.clone().or_else(|| url.cors.clone());
            validate(&auth_type, cors.as_ref(), &invoke_mode)?;
            url.auth_type = auth_type;
            url.invoke_mode = invoke_mode;
            url.cors = cors;
            url.last_modified = now_iso();
            Ok(())
        })
        .await?;
    let url = function.urls.get(&key).ok_or_else(no_url)?;
    Ok((request_id_headers(), Json(shape(&state, &function, &key, url))).into_response())
}

/// DeleteFunctionUrlConfig: `DELETE /2021-10-31/functions/{name}/url` → 204.
pub(crate) async fn delete_url(
    State(state): State<Arc<EngineState>>,
    Path(name): Path<String>,
    Query(query): Query<QualifierQuery>,
) -> Result<Response> {
    let function = find(&state, &name, None).await?;
    let key = url_key(&function, query.qualifier.as_deref())?;
    state
        .store
        .update(&function.name, |f| f.urls.remove(&key).map(drop).ok_or_else(no_url))
        .await?;
    Ok((StatusCode::NO_CONTENT, request_id_headers()).into_response())
}

/// ListFunctionUrlConfigs: `GET /2021-10-31/functions/{name}/urls`, at most 50 a page.
pub(crate) async fn list_urls(
    State(state): State<Arc<EngineState>>,
    Path(name): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<Response> {
    let function = find(&state, &name, None).await?;
    let limit = match query.max_items.as_deref() {
        None => 50,
        Some(raw) => raw.parse::<usize>().ok().filter(|n| (1..=50).contains(n)).ok_or_else(|| {
            LambdaError::invalid(format!(
                "1 validation error detected: Value '{raw}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 50"
            ))
        })?,
    };
    // The function's own URL is kept under "" and paged as `$LATEST`.
    let marker = query.marker.as_deref().filter(|m| !m.is_empty()).map(|m| match m {
        "$LATEST" => "",
        alias => alias,
    });
    let mut urls = function.urls.iter().filter(|(key, _)| marker.is_none_or(|m| key.as_str() > m));
    let page: Vec<(&String, &UrlConfig)> = urls.by_ref().take(limit).collect();
    let mut body = json!({
        "FunctionUrlConfigs": page.iter().map(|(key, url)| shape(&state, &function, key, url)).collect::<Vec<_>>(),
    });
    if urls.next().is_some()
        && let Some((key, _)) = page.last()
    {
        body["NextMarker"] = json!(if key.is_empty() { "$LATEST" } else { key.as_str() });
    }
    Ok((request_id_headers(), Json(body)).into_response())
}
