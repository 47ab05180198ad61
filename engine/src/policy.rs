//! Resource-based policies: AddPermission, RemovePermission and GetPolicy, with statements
//! rendered as AWS renders them, and the check the Function URL front end makes with them.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::EngineState;
use crate::error::{LambdaError, Result};
use crate::http::{QualifierQuery, check_revision, find, parse_body, request_id_headers};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AddPermissionRequest {
    statement_id: Option<String>,
    action: Option<String>,
    principal: Option<String>,
    source_arn: Option<String>,
    source_account: Option<String>,
    event_source_token: Option<String>,
    revision_id: Option<String>,
    #[serde(rename = "PrincipalOrgID")]
    principal_org_id: Option<String>,
    function_url_auth_type: Option<String>,
    invoked_via_function_url: Option<bool>,
}

fn missing(field: &str) -> LambdaError {
    LambdaError::invalid(format!(
        "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
    ))
}

/// The key a qualifier's policy is kept under: `""` for the unqualified function.
pub fn qualifier_key(qualifier: Option<&str>) -> Result<String> {
    match qualifier {
        None => Ok(String::new()),
        Some("$LATEST") => {
            Err(LambdaError::invalid("We currently do not support adding policies for $LATEST."))
        }
        Some(q) => Ok(q.to_owned()),
    }
}

/// AddPermission: `POST /2015-03-31/functions/{name}/policy` → 201 `{Statement}`.
pub(crate) async fn add_permission(
    State(state): State<Arc<EngineState>>,
    Path(name): Path<String>,
    Query(query): Query<QualifierQuery>,
    body: Bytes,
) -> Result<Response> {
    let request: AddPermissionRequest = parse_body(&body)?;
    let function = find(&state, &name, query.qualifier.as_deref()).await?;
    let key = qualifier_key(query.qualifier.as_deref())?;
    let sid = request.statement_id.clone().ok_or_else(|| missing("statementId"))?;
    if sid.is_empty()
        || sid.len() > 100
        || !sid.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(LambdaError::invalid(format!(
            "1 validation error detected: Value '{sid}' at 'statementId' failed to satisfy constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)"
        )));
    }
    let action = request.action.clone().ok_or_else(|| missing("action"))?;
    let valid_action = action == "*"
        || action.strip_prefix("lambda:").is_some_and(|a| {
            a == "*" || (!a.is_empty() && a.chars().all(|c| c.is_ascii_alphabetic()))
        });
    if !valid_action {
        return Err(LambdaError::invalid(format!(
            "1 validation error detected: Value '{action}' at 'action' failed to satisfy constraint: Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])"
        )));
    }
    let principal = request.principal.clone().ok_or_else(|| missing("principal"))?;
    if let Some(auth) = request.function_url_auth_type.as_deref()
        && auth != "NONE"
        && auth != "AWS_IAM"
    {
        return Err(LambdaError::invalid(format!(
            "1 validation error detected: Value '{auth}' at 'functionUrlAuthType' failed to satisfy constraint: Member must satisfy enum value set: [AWS_IAM, NONE]"
        )));
    }
    if let Some(account) = request.source_account.as_deref()
        && (account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(LambdaError::invalid(format!(
            "1 validation error detected: Value '{account}' at 'sourceAccount' failed to satisfy constraint: Member must satisfy regular expression pattern: \\d{{12}}"
        )));
    }
    let resource = match &query.qualifier {
        Some(q) => format!("{}:{q}", state.function_arn(&function.name)),
        None => state.function_arn(&function.name),
    };
    let statement = render(&request, &sid, &action, &principal, &resource);
    let text = statement.to_string();
    state
        .store
        .update(&function.name, |f| {
            check_revision(f, request.revision_id.as_deref())?;
            let statements = f.policies.entry(key).or_default();
            if statements.iter().any(|s| s["Sid"] == sid.as_str()) {
                return Err(LambdaError::conflict(format!(
                    "The statement id ({sid}) provided already exists. Please provide a new statement id, or remove the existing statement."
                )));
            }
            let size: usize = statements.iter().map(|s| s.to_string().len()).sum();
            if size + text.len() > 20_480 {
                return Err(LambdaError::new(
                    crate::error::ErrorType::PolicyLengthExceeded,
                    "The final policy size (20480) is bigger than the limit (20480).",
                ));
            }
            statements.push(statement);
            // A new RevisionId, as on AWS; the code and settings (and environments) stay.
            f.revision_id = uuid::Uuid::new_v4().to_string();
            Ok(())
        })
        .await?;
    Ok((StatusCode::CREATED, request_id_headers(), Json(json!({ "Statement": text })))
        .into_response())
}

/// A statement as AWS writes it: Sid, Effect, Principal, Action, Resource, Condition.
fn render(
    request: &AddPermissionRequest,
    sid: &str,
    action: &str,
    principal: &str,
    resource: &str,
) -> Value {
    let principal = if principal == "*" {
        json!("*")
    } else if principal.len() == 12 && principal.bytes().all(|b| b.is_ascii_digit()) {
        json!({ "AWS": format!("arn:aws:iam::{principal}:root") })
    } else if principal.starts_with("arn:") {
        json!({ "AWS": principal })
    } else {
        json!({ "Service": principal })
    };
    let mut string_equals = Map::new();
    if let Some(account) = &request.source_account {
        string_equals.insert("AWS:SourceAccount".into(), json!(account));
    }
    if let Some(org) = &request.principal_org_id {
        string_equals.insert("aws:PrincipalOrgID".into(), json!(org));
    }
    if let Some(token) = &request.event_source_token {
        string_equals.insert("lambda:EventSourceToken".into(), json!(token));
    }
    if let Some(auth) = &request.function_url_auth_type {
        string_equals.insert("lambda:FunctionUrlAuthType".into(), json!(auth));
    }
    let mut condition = Map::new();
    if !string_equals.is_empty() {
        condition.insert("StringEquals".into(), Value::Object(string_equals));
    }
    if let Some(arn) = &request.source_arn {
        condition.insert("ArnLike".into(), json!({ "AWS:SourceArn": arn }));
    }
    if request.invoked_via_function_url == Some(true) {
        condition.insert("Bool".into(), json!({ "lambda:InvokedViaFunctionUrl": "true" }));
    }
    let mut statement = json!({
        "Sid": sid,
        "Effect": "Allow",
        "Principal": principal,
        "Action": action,
        "Resource": resource,
    });
    if !condition.is_empty() {
        statement["Condition"] = Value::Object(condition);
    }
    statement
}

#[derive(Debug, Deserialize)]
pub(crate) struct RemoveQuery {
    #[serde(rename = "Qualifier")]
    qualifier: Option<String>,
    #[serde(rename = "RevisionId")]
    revision_id: Option<String>,
}

/// RemovePermission: `DELETE /2015-03-31/functions/{name}/policy/{sid}` → 204.
pub(crate) async fn remove_permission(
    State(state): State<Arc<EngineState>>,
    Path((name, sid)): Path<(String, String)>,
    Query(query): Query<RemoveQuery>,
) -> Result<Response> {
    let function = find(&state, &name, query.qualifier.as_deref()).await?;
    let key = qualifier_key(query.qualifier.as_deref())?;
    state
        .store
        .update(&function.name, |f| {
            check_revision(f, query.revision_id.as_deref())?;
            let statements = f.policies.entry(key.clone()).or_default();
            let before = statements.len();
            statements.retain(|s| s["Sid"] != sid.as_str());
            if statements.len() == before {
                return Err(LambdaError::not_found(format!(
                    "Statement {sid} is not found in resource policy."
                )));
            }
            if statements.is_empty() {
                f.policies.remove(&key);
            }
            // A new RevisionId, as on AWS; the code and settings (and environments) stay.
            f.revision_id = uuid::Uuid::new_v4().to_string();
            Ok(())
        })
        .await?;
    Ok((StatusCode::NO_CONTENT, request_id_headers()).into_response())
}

/// GetPolicy: `GET /2015-03-31/functions/{name}/policy` → `{Policy, RevisionId}`.
pub(crate) async fn get_policy(
    State(state): State<Arc<EngineState>>,
    Path(name): Path<String>,
    Query(query): Query<QualifierQuery>,
) -> Result<Response> {
    let function = find(&state, &name, query.qualifier.as_deref()).await?;
    let key = query.qualifier.as_deref().filter(|q| *q != "$LATEST").unwrap_or_default();
    let statements = function
        .policies
        .get(key)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| LambdaError::not_found("The resource you requested does not exist."))?;
    let policy = json!({ "Version": "2012-10-17", "Id": "default", "Statement": statements });
    let body = json!({ "Policy": policy.to_string(), "RevisionId": function.revision_id });
    Ok((request_id_headers(), Json(body)).into_response())
}

/// Whether `statements` allow `action` to anyone (`*`), with every condition met by `context`
/// (condition key → the request's value). Only `Allow` statements exist: AddPermission makes no
/// others.
pub fn allows_anyone(statements: &[Value], action: &str, context: &[(&str, &str)]) -> bool {
    statements.iter().any(|statement| {
        let principal = &statement["Principal"];
        let public = principal == "*" || principal["AWS"] == "*";
        let acts = match statement["Action"].as_str() {
            Some("*" | "lambda:*") => true,
            Some(a) => a == action,
            None => false,
        };
        public && acts && conditions_met(&statement["Condition"], context)
    })
}

fn conditions_met(condition: &Value, context: &[(&str, &str)]) -> bool {
    let Some(operators) = condition.as_object() else {
        return true;
    };
    operators.iter().all(|(operator, tests)| {
        tests.as_object().is_some_and(|tests| {
            tests.iter().all(|(key, expected)| {
                let actual = context.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|p| p.1);
                match (operator.as_str(), actual, expected.as_str()) {
                    ("StringEquals" | "Bool" | "ArnLike" | "ArnEquals", Some(actual), Some(e)) => {
                        actual == e
                    }
                    _ => false,
                }
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_statements_are_checked_as_aws_checks_them() {
        let url = json!({
            "Sid": "url", "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunctionUrl",
            "Resource": "arn", "Condition": { "StringEquals": { "lambda:FunctionUrlAuthType": "NONE" } },
        });
        let invoke = json!({
            "Sid": "invoke", "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunction",
            "Resource": "arn", "Condition": { "Bool": { "lambda:InvokedViaFunctionUrl": "true" } },
        });
        let context =
            [("lambda:FunctionUrlAuthType", "NONE"), ("lambda:InvokedViaFunctionUrl", "true")];
        let both = [url.clone(), invoke];
        assert!(allows_anyone(&both, "lambda:InvokeFunctionUrl", &context));
        assert!(allows_anyone(&both, "lambda:InvokeFunction", &context));
        assert!(!allows_anyone(std::slice::from_ref(&url), "lambda:InvokeFunction", &context));
        let iam_context = [("lambda:FunctionUrlAuthType", "AWS_IAM")];
        assert!(!allows_anyone(&[url], "lambda:InvokeFunctionUrl", &iam_context));
        let service = json!({ "Sid": "s3", "Effect": "Allow", "Principal": { "Service": "s3.amazonaws.com" }, "Action": "lambda:InvokeFunction", "Resource": "arn" });
        assert!(!allows_anyone(&[service], "lambda:InvokeFunction", &context));
    }
}
