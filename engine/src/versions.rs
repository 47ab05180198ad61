//! Versions and aliases: PublishVersion, ListVersionsByFunction, Create/Get/Update/Delete/
//! ListAliases. How a qualifier resolves to the code and settings that run is `store::resolve`.

use std::collections::BTreeMap;
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
use crate::http::{check_revision, configuration, find, parse_body, request_id_headers};
use crate::store::{Alias, Function, Version};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PublishRequest {
    code_sha256: Option<String>,
    description: Option<String>,
    revision_id: Option<String>,
}

/// PublishVersion: `POST /2015-03-31/functions/{name}/versions` → 201. Publishing an unchanged
/// `$LATEST` again returns the version it already is, as AWS does.
pub(crate) async fn publish_version(
    State(state): State<Arc<EngineState>>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Response> {
    let request: PublishRequest =
        if body.is_empty() { parse_body(b"{}")? } else { parse_body(&body)? };
    let function = find(&state, &name, None).await?;
    let mut published = 0;
    let function = state
        .store
        .update(&function.name, |f| {
            check_revision(f, request.revision_id.as_deref())?;
            if let Some(sha) = &request.code_sha256
                && *sha != f.code_sha256
            {
                return Err(LambdaError::invalid(format!(
                    "CodeSHA256 ({sha}) is different from current CodeSHA256 in $LATEST ({}). Please try again with the CodeSHA256 in $LATEST.",
                    f.code_sha256
                )));
            }
            let mut settings = f.settings.clone();
            if let Some(description) = &request.description {
                settings.description.clone_from(description);
            }
            let unchanged = f.versions.iter().next_back().filter(|(_, v)| {
                v.code_sha256 == f.code_sha256 && v.settings == settings
            });
            if let Some((number, _)) = unchanged {
                published = *number;
                return Ok(());
            }
            f.last_version += 1;
            published = f.last_version;
            f.versions.insert(
                published,
                Version {
                    settings,
                    code_sha256: f.code_sha256.clone(),
                    code_key: f.code_key.clone(),
                    code_size: f.code_size,
                    revision_id: uuid::Uuid::new_v4().to_string(),
                    last_modified: crate::http::now_lambda_timestamp(),
                },
            );
            Ok(())
        })
        .await?;
    let version =
        function.at_version(published).ok_or_else(|| LambdaError::service("lost version"))?;
    tracing::info!(
        function.name = function.name.as_str(),
        version = published,
        "published version"
    );
    Ok((StatusCode::CREATED, request_id_headers(), Json(configuration(&state, &version)))
        .into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct PageQuery {
    #[serde(rename = "Marker")]
    marker: Option<String>,
    #[serde(rename = "MaxItems")]
    max_items: Option<String>,
    #[serde(rename = "FunctionVersion")]
    function_version: Option<String>,
}

fn page_size(raw: Option<&str>) -> Result<usize> {
    match raw {
        None => Ok(50),
        Some(raw) => match raw.parse::<usize>() {
            Ok(n @ 1..=10000) => Ok(n.min(50)),
            _ => Err(LambdaError::invalid(format!(
                "1 validation error detected: Value '{raw}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000"
            ))),
        },
    }
}

/// One page of `items` (already in order) after the item whose key is `marker`.
fn page<T>(
    items: Vec<(String, T)>,
    marker: Option<&str>,
    limit: usize,
) -> (Vec<T>, Option<String>) {
    let start = marker
        .filter(|m| !m.is_empty())
        .and_then(|m| items.iter().position(|(key, _)| key == m).map(|i| i + 1))
        .unwrap_or(0);
    let total = items.len();
    let mut page: Vec<(String, T)> = items.into_iter().skip(start).take(limit).collect();
    let next =
        (start + page.len() < total).then(|| page.last().map(|(key, _)| key.clone())).flatten();
    (page.drain(..).map(|(_, item)| item).collect(), next)
}

/// ListVersionsByFunction: `GET /2015-03-31/functions/{name}/versions`: `$LATEST`, then each
/// version in order.
pub(crate) async fn list_versions(
    State(state): State<Arc<EngineState>>,
    Path(name): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<Response> {
    let limit = page_size(query.max_items.as_deref())?;
    let function = find(&state, &name, None).await?;
    let mut all = vec![("$LATEST".to_owned(), configuration(&state, &function))];
    for number in function.versions.keys() {
        if let Some(version) = function.at_version(*number) {
            all.push((number.to_string(), configuration(&state, &version)));
        }
    }
    let (versions, next) = page(all, query.marker.as_deref(), limit);
    let mut body = json!({ "Versions": versions });
    if let Some(next) = next {
        body["NextMarker"] = json!(next);
    }
    Ok((request_id_headers(), Json(body)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RoutingConfig {
    additional_version_weights: Option<BTreeMap<String, f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AliasRequest {
    name: Option<String>,
    function_version: Option<String>,
    description: Option<String>,
    routing_config: Option<RoutingConfig>,
    revision_id: Option<String>,
}

fn alias_shape(state: &EngineState, function: &Function, name: &str, alias: &Alias) -> Value {
    let mut body = json!({
        "AliasArn": format!("{}:{name}", state.function_arn(&function.name)),
        "Name": name,
        "FunctionVersion": alias.function_version,
        "Description": alias.description,
        "RevisionId": alias.revision_id,
    });
    if !alias.additional_weights.is_empty() {
        body["RoutingConfig"] = json!({ "AdditionalVersionWeights": alias.additional_weights });
    }
    body
}

fn no_alias(state: &EngineState, function: &Function, name: &str) -> LambdaError {
    LambdaError::not_found(format!(
        "Cannot find alias arn: {}:{name}",
        state.function_arn(&function.name)
    ))
}

/// Checks an alias's target and weights against the function's versions.
fn check_alias(function: &Function, version: &str, weights: &BTreeMap<String, f64>) -> Result<()> {
    let exists = |v: &str| {
        v == "$LATEST" || v.parse::<u32>().ok().is_some_and(|n| function.versions.contains_key(&n))
    };
    if !exists(version) {
        return Err(LambdaError::not_found(format!(
            "Function not found: {}:{version}",
            function.name.as_str()
        )));
    }
    if weights.len() > 1 {
        return Err(LambdaError::invalid(
            "Number of items in AdditionalVersionWeights cannot be greater than 1",
        ));
    }
    for (extra, weight) in weights {
        if !(0.0..=1.0).contains(weight) {
            return Err(LambdaError::invalid(format!(
                "1 validation error detected: Value '{weight}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0]"
            )));
        }
        if version == "$LATEST" || extra == "$LATEST" || !exists(extra) {
            return Err(LambdaError::invalid(
                "Alias with weights can not be used with $LATEST; both versions must be published versions",
            ));
        }
        if extra == version {
            return Err(LambdaError::invalid(
                "Invalid function version. Additional version cannot be the same as the primary version",
            ));
        }
    }
    Ok(())
}

/// CreateAlias: `POST /2015-03-31/functions/{name}/aliases` → 201.
pub(crate) async fn create_alias(
    State(state): State<Arc<EngineState>>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Response> {
    let request: AliasRequest = parse_body(&body)?;
    let function = find(&state, &name, None).await?;
    let alias_name = request.name.ok_or_else(|| {
        LambdaError::invalid("1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null")
    })?;
    let valid = !alias_name.is_empty()
        && alias_name.len() <= 128
        && !alias_name.bytes().all(|b| b.is_ascii_digit())
        && alias_name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        return Err(LambdaError::invalid(format!(
            "1 validation error detected: Value '{alias_name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)"
        )));
    }
    let version = request.function_version.ok_or_else(|| {
        LambdaError::invalid("1 validation error detected: Value null at 'functionVersion' failed to satisfy constraint: Member must not be null")
    })?;
    let weights =
        request.routing_config.and_then(|r| r.additional_version_weights).unwrap_or_default();
    let alias = Alias {
        function_version: version,
        description: request.description.unwrap_or_default(),
        additional_weights: weights,
        revision_id: uuid::Uuid::new_v4().to_string(),
    };
    let arn = format!("{}:{alias_name}", state.function_arn(&function.name));
    let function = state
        .store
        .update(&function.name, |f| {
            check_alias(f, &alias.function_version, &alias.additional_weights)?;
            if f.aliases.contains_key(&alias_name) {
                return Err(LambdaError::conflict(format!("Alias already exists: {arn}")));
            }
            f.aliases.insert(alias_name.clone(), alias.clone());
            Ok(())
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        request_id_headers(),
        Json(alias_shape(&state, &function, &alias_name, &alias)),
    )
        .into_response())
}

/// GetAlias: `GET /2015-03-31/functions/{name}/aliases/{alias}`.
pub(crate) async fn get_alias(
    State(state): State<Arc<EngineState>>,
    Path((name, alias_name)): Path<(String, String)>,
) -> Result<Response> {
    let function = find(&state, &name, None).await?;
    let alias = function
        .aliases
        .get(&alias_name)
        .ok_or_else(|| no_alias(&state, &function, &alias_name))?;
    Ok((request_id_headers(), Json(alias_shape(&state, &function, &alias_name, alias)))
        .into_response())
}

/// UpdateAlias: `PUT /2015-03-31/functions/{name}/aliases/{alias}`.
pub(crate) async fn update_alias(
    State(state): State<Arc<EngineState>>,
    Path((name, alias_name)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response> {
    let request: AliasRequest = parse_body(&body)?;
    let function = find(&state, &name, None).await?;
    let missing = no_alias(&state, &function, &alias_name);
    let function = state
        .store
        .update(&function.name, |f| {
            let mut alias = f.aliases.get(&alias_name).cloned().ok_or(missing)?;
            if let Some(expected) = &request.revision_id
                && *expected != alias.revision_id
            {
                return Err(LambdaError::new(
                    crate::error::ErrorType::PreconditionFailed,
                    "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
                ));
            }
            if let Some(version) = &request.function_version {
                alias.function_version.clone_from(version);
            }
            if let Some(description) = &request.description {
                alias.description.clone_from(description);
            }
            if let Some(routing) = &request.routing_config {
                alias.additional_weights = routing.additional_version_weights.clone().unwrap_or_default();
            }
            check_alias(f, &alias.function_version, &alias.additional_weights)?;
            alias.revision_id = uuid::Uuid::new_v4().to_string();
            f.aliases.insert(alias_name.clone(), alias);
            Ok(())
        })
        .await?;
    let alias =
        function.aliases.get(&alias_name).ok_or_else(|| LambdaError::service("lost alias"))?;
    Ok((request_id_headers(), Json(alias_shape(&state, &function, &alias_name, alias)))
        .into_response())
}

/// DeleteAlias: `DELETE /2015-03-31/functions/{name}/aliases/{alias}` → 204; its URL and policy
/// go with it.
pub(crate) async fn delete_alias(
    State(state): State<Arc<EngineState>>,
    Path((name, alias_name)): Path<(String, String)>,
) -> Result<Response> {
    let function = find(&state, &name, None).await?;
    let missing = no_alias(&state, &function, &alias_name);
    state
        .store
        .update(&function.name, |f| {
            f.aliases.remove(&alias_name).ok_or(missing)?;
            f.urls.remove(&alias_name);
            f.policies.remove(&alias_name);
            Ok(())
        })
        .await?;
    Ok((StatusCode::NO_CONTENT, request_id_headers()).into_response())
}

/// ListAliases: `GET /2015-03-31/functions/{name}/aliases`, optionally those of one version.
pub(crate) async fn list_aliases(
    State(state): State<Arc<EngineState>>,
    Path(name): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<Response> {
    let limit = page_size(query.max_items.as_deref())?;
    let function = find(&state, &name, None).await?;
    let all: Vec<(String, Value)> = function
        .aliases
        .iter()
        .filter(|(_, a)| query.function_version.as_ref().is_none_or(|v| *v == a.function_version))
        .map(|(n, a)| (n.clone(), alias_shape(&state, &function, n, a)))
        .collect();
    let (aliases, next) = page(all, query.marker.as_deref(), limit);
    let mut body = json!({ "Aliases": aliases });
    if let Some(next) = next {
        body["NextMarker"] = json!(next);
    }
    Ok((request_id_headers(), Json(body)).into_response())
}

/// DeleteFunction with a version qualifier: removes that version, unless an alias uses it.
pub(crate) async fn delete_version(
    state: &EngineState,
    function: &Function,
    number: u32,
) -> Result<()> {
    state
        .store
        .update(&function.name, |f| {
            let users: Vec<&String> = f
                .aliases
                .iter()
                .filter(|(_, a)| {
                    a.function_version == number.to_string()
                        || a.additional_weights.contains_key(&number.to_string())
                })
                .map(|(name, _)| name)
                .collect();
            if !users.is_empty() {
                return Err(LambdaError::conflict(format!(
                    "Unable to delete version because the following aliases reference it: {users:?}"
                )));
            }
            f.versions.remove(&number).map(drop).ok_or_else(|| {
                LambdaError::not_found(format!("Function not found: {}:{number}", f.name.as_str()))
            })
        })
        .await
        .map(drop)
}
