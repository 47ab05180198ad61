//! TagResource, UntagResource and ListTags, with Lambda's limits on keys and values.

use std::collections::BTreeMap;
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
use crate::store::Function;

use crate::http::*;

/// The function a tagging ARN names; tags live on unqualified function ARNs only.
pub(super) async fn tagged_function(state: &EngineState, resource: &str) -> Result<Function> {
    if !resource.starts_with("arn:") {
        return Err(LambdaError::invalid(format!(
            "1 validation error detected: Value '{resource}' at 'resource' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*):lambda:[a-z]{{2}}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{{1}}:\\d{{12}}:function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
        )));
    }
    find(state, resource, None).await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TagRequest {
    pub(super) tags: BTreeMap<String, String>,
}

pub(super) fn validate_tags(tags: &BTreeMap<String, String>) -> Result<()> {
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
pub(super) async fn tag_resource(
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
pub(super) async fn untag_resource(
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
pub(super) async fn list_tags(
    State(state): State<Arc<EngineState>>,
    Path(resource): Path<String>,
) -> Result<Response> {
    let function = tagged_function(&state, &resource).await?;
    Ok((request_id_headers(), Json(json!({ "Tags": function.tags }))).into_response())
}
