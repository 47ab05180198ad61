//! `/api/v1`: the catalog and the audit trail for automation, as JSON. Callers authenticate with a
//! personal access token (`Authorization: Bearer lpat_…`, made on the profile page) and can do what
//! the token's owner can do on the pages — the same checks, the same functions. Every error is one
//! envelope: `{"error": {"code", "message", "field"?}}`. Described at `/api/v1/openapi.json`.
//!
//! No session, no cookies: these routes sit outside the session and same-origin layers (a bearer
//! token cannot be sent by another site's form).

use std::collections::BTreeMap;

use app::api::catalog::ssr as catalog;
use app::api::ssr::{audit_filter, fail, rfc3339};
use app::error::ApiError;
use app::types::{AuditFilters, CatalogFilters};
use axum::extract::{ConnectInfo, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use backend::accounts::{Account, Role};
use backend::audit::Actor;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::state::AppState;

/// The routes under `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/functions", get(list_functions))
        .route("/functions/{id}", get(get_function).patch(update_function))
        .route("/audit-events", get(list_audit_events))
        .fallback(|| async { Problem(ApiError::NotFound("API route".to_owned())) })
}

/// An error in the API's envelope, with its status.
struct Problem(ApiError);

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let error = self.0;
        let status =
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut body = json!({ "code": error.code(), "message": error.to_string() });
        if let Some(field) = error.field() {
            body["field"] = json!(field);
        }
        let mut response = (status, Json(json!({ "error": body }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<ApiError> for Problem {
    fn from(error: ApiError) -> Self {
        Self(error)
    }
}

type ApiResult<T = Json<Value>> = Result<T, Problem>;

/// The account a request's bearer token belongs to, and who to record in the audit trail.
struct Caller {
    account: Account,
    actor: Actor,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let unauthorized = |message: &str| Problem(ApiError::Unauthorized(message.to_owned()));
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| {
                unauthorized(
                    "send a personal access token as 'Authorization: Bearer <token>'; make one on your profile page",
                )
            })?;
        let account = backend::tokens::authenticate(&state.console.pool, token.trim())
            .await
            .map_err(|e| Problem(fail(e)))?;
        let address = parts.extensions.get::<ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
        let actor = Actor::account(account.account_id, address);
        Ok(Self { account, actor })
    }
}

#[derive(Debug, Deserialize)]
struct Page {
    limit: Option<i64>,
}

fn limit(page: &Page, default: i64, max: i64) -> ApiResult<i64> {
    match page.limit {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(Problem(ApiError::Validation {
            field: "limit".to_owned(),
            message: format!("limit must be between 1 and {max}"),
        })),
    }
}

/// `GET /functions`: the catalog with the Catalog page's filters (`q`, `owner`, `team`, `tag`,
/// `runtime`, `state`, `lifecycle`, `environment`, `connection`, `region`, `public`, `view`), by
/// name or (`sort=updated`) most recently changed first, keyset-paged with `after` (the previous
/// page's `next`).
async fn list_functions(
    State(state): State<AppState>,
    caller: Caller,
    Query(filters): Query<CatalogFilters>,
    Query(page): Query<Page>,
) -> ApiResult {
    let pool = &state.console.pool;
    let mut query = catalog::query(pool, &caller.account, &filters).await?;
    query.limit = limit(&page, 50, 200)?;
    let (entries, next) = backend::catalog::search(pool, &query).await.map_err(fail)?;
    let functions: Vec<_> = entries.into_iter().map(entry_json).collect();
    Ok(Json(json!({
        "functions": functions,
        "next": next.map(|(name, id)| format!("{name}|{id}")),
    })))
}

/// A catalog row as the API shows it: the page's row, with the tags as an object.
fn entry_json(entry: backend::catalog::CatalogEntry) -> Value {
    let tags = entry.tags.clone();
    let mut value = json!(catalog::row_view(entry));
    value["tags"] = tags;
    value
}

/// One function as the API shows it: the catalog row plus its configuration as last synced.
fn function_json(detail: backend::catalog::Detail) -> Value {
    let extra = json!({
        "arn": detail.arn,
        "handler": detail.handler,
        "memory_mb": detail.memory_mb,
        "timeout_s": detail.timeout_s,
        "drift": detail.drift,
        "updated_at": rfc3339(detail.entry.updated_at),
    });
    let mut value = entry_json(detail.entry);
    if let (Some(object), Value::Object(extra)) = (value.as_object_mut(), extra) {
        object.extend(extra);
    }
    value
}

/// `GET /functions/{id}`.
async fn get_function(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult {
    let detail = catalog::readable(&state.console.pool, &caller.account, &id).await?;
    Ok(Json(function_json(detail)))
}

/// What `PATCH /functions/{id}` may change; absent fields stay as they are.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FunctionPatch {
    /// The new owner's email.
    owner: Option<String>,
    /// A team name, or `""` for none.
    team: Option<String>,
    lifecycle: Option<String>,
    environment: Option<String>,
    /// The user tags, replacing the current ones.
    tags: Option<BTreeMap<String, String>>,
}

/// `PATCH /functions/{id}`: owner, team, lifecycle, environment and tags, written to the catalog
/// and the cloud's tags together (as the function page does), audited. Returns the function.
async fn update_function(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<FunctionPatch>, axum::extract::rejection::JsonRejection>,
) -> ApiResult {
    let Json(patch) = body.map_err(|rejection| {
        Problem(ApiError::Validation { field: "body".to_owned(), message: rejection.body_text() })
    })?;
    let pool = &state.console.pool;
    let (detail, connection) = catalog::editable(pool, &caller.account, &id).await?;
    let entry = &detail.entry;
    let metadata = backend::catalog::Metadata {
        owner: patch.owner.or_else(|| entry.owner.clone()).unwrap_or_default(),
        team: patch.team.or_else(|| entry.team.clone()).unwrap_or_default(),
        lifecycle: patch.lifecycle.unwrap_or_else(|| entry.lifecycle.clone()),
        environment: patch.environment.unwrap_or_else(|| entry.environment.clone()),
        tags: patch.tags.unwrap_or_else(|| backend::catalog::user_tags(&entry.tags)),
    };
    backend::catalog::update_metadata(pool, &caller.actor, &connection, &detail, &metadata)
        .await
        .map_err(fail)?;
    let updated = backend::catalog::detail(pool, detail.entry.function_id).await.map_err(fail)?;
    Ok(Json(function_json(updated)))
}

/// `GET /audit-events` (admins): the Audit page's filters (`actor`, `action`, `target`, `since`,
/// `until` as `YYYY-MM-DD`), newest first, keyset-paged with `before` (the previous page's `next`).
async fn list_audit_events(
    State(state): State<AppState>,
    caller: Caller,
    Query(f): Query<AuditFilters>,
    Query(page): Query<Page>,
) -> ApiResult {
    if caller.account.role != Role::Admin {
        return Err(Problem(ApiError::Forbidden));
    }
    let limit = limit(&page, 100, 1000)?;
    let filter = audit_filter(&f).map_err(fail)?;
    let before = match f.before.as_deref().map(str::trim).filter(|b| !b.is_empty()) {
        None => None,
        Some(raw) => Some(raw.parse::<i64>().map_err(|_| {
            Problem(ApiError::Validation {
                field: "before".to_owned(),
                message: "use the `next` value of the previous page".to_owned(),
            })
        })?),
    };
    let mut entries = backend::audit::search(&state.console.pool, &filter, before, limit + 1)
        .await
        .map_err(fail)?;
    let more = entries.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    entries.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = more.then(|| entries.last().map(|e| e.id.to_string())).flatten();
    let events: Vec<Value> = entries
        .into_iter()
        .map(|e| {
            json!({
                "id": e.id, "time": rfc3339(e.at), "actor": e.actor, "action": e.action,
                "target": e.target, "detail": e.detail, "source_ip": e.source_ip,
            })
        })
        .collect();
    Ok(Json(json!({ "events": events, "next": next })))
}

/// `GET /openapi.json`: this API, described (OpenAPI 3.1). Public, like any API description.
async fn openapi() -> Json<Value> {
    let text = |name: &str, description: &str| {
        json!({ "name": name, "in": "query", "required": false,
                "schema": { "type": "string" }, "description": description })
    };
    let limit = |max: i64, default: i64| {
        json!({ "name": "limit", "in": "query", "required": false,
                "schema": { "type": "integer", "minimum": 1, "maximum": max, "default": default } })
    };
    let id = json!({ "name": "id", "in": "path", "required": true,
                     "schema": { "type": "string", "format": "uuid" } });
    let errors = |codes: &[&str]| -> Value {
        codes
            .iter()
            .map(|code| {
                (
                    (*code).to_owned(),
                    json!({ "description": "An error", "content": { "application/json": {
                        "schema": { "$ref": "#/components/schemas/Error" } } } }),
                )
            })
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let ok = |description: &str, schema: &str| {
        json!({ "description": description, "content": { "application/json": {
            "schema": { "$ref": format!("#/components/schemas/{schema}") } } } })
    };
    let with_errors = |ok_response: Value, codes: &[&str]| {
        let mut responses = errors(codes);
        responses["200"] = ok_response;
        responses
    };
    Json(json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Lambdaport API",
            "version": "1",
            "description": "The function catalog and the audit trail. Authenticate with a personal access token from your profile page: `Authorization: Bearer lpat_…`. A token can do what its owner can do."
        },
        "servers": [{ "url": "/api/v1" }],
        "security": [{ "token": [] }],
        "paths": {
            "/functions": { "get": {
                "operationId": "listFunctions",
                "summary": "List catalog functions, by name, with filters and keyset pages",
                "parameters": [
                    text("q", "Full-text search over name, description and tags"),
                    text("owner", "Owner email"), text("team", "Team name"),
                    text("tag", "A tag as key=value"), text("runtime", "e.g. python3.12"),
                    text("state", "Active, Pending, Inactive or Failed"),
                    text("lifecycle", "experimental, production or deprecated"),
                    text("environment", "dev, staging or prod"),
                    text("connection", "Connection id"), text("region", "e.g. us-east-1"),
                    text("public", "1: only functions with a public (NONE) URL"),
                    text("view", "shadows: functions found in the cloud and not imported"),
                    text("sort", "updated: most recently changed first (default: by name)"),
                    text("after", "The `next` value of the previous page"),
                    limit(200, 50)
                ],
                "responses": with_errors(ok("A page of functions", "FunctionPage"), &["401", "422"])
            }},
            "/functions/{id}": {
                "get": {
                    "operationId": "getFunction",
                    "summary": "One catalog function",
                    "parameters": [id],
                    "responses": with_errors(ok("The function", "Function"), &["401", "404"])
                },
                "patch": {
                    "operationId": "updateFunction",
                    "summary": "Change owner, team, lifecycle, environment or tags (in the catalog and the cloud's tags)",
                    "parameters": [id],
                    "requestBody": { "required": true, "content": { "application/json": {
                        "schema": { "$ref": "#/components/schemas/FunctionPatch" } } } },
                    "responses": with_errors(ok("The function, updated", "Function"), &["401", "403", "404", "409", "422"])
                }
            },
            "/audit-events": { "get": {
                "operationId": "listAuditEvents",
                "summary": "The audit trail, newest first (admins)",
                "parameters": [
                    text("actor", "Actor email, or system"),
                    text("action", "An action or its prefix, e.g. function."),
                    text("target", "Text the target contains"),
                    text("since", "YYYY-MM-DD (UTC)"), text("until", "YYYY-MM-DD (UTC), inclusive"),
                    text("before", "The `next` value of the previous page"),
                    limit(1000, 100)
                ],
                "responses": with_errors(ok("A page of events", "AuditPage"), &["401", "403", "422"])
            }}
        },
        "components": {
            "securitySchemes": { "token": { "type": "http", "scheme": "bearer" } },
            "schemas": {
                "Error": { "type": "object", "required": ["error"], "properties": { "error": {
                    "type": "object", "required": ["code", "message"], "properties": {
                        "code": { "type": "string", "enum": ["not_found", "forbidden", "unauthorized", "invalid", "conflict", "rate_limited", "internal"] },
                        "message": { "type": "string" },
                        "field": { "type": "string", "description": "The input the error is about (code invalid)" }
                    } } } },
                "Function": { "type": "object", "properties": {
                    "function_id": { "type": "string", "format": "uuid" },
                    "name": { "type": "string" }, "arn": { "type": "string" },
                    "connection": { "type": "string" }, "region": { "type": "string" },
                    "runtime": { "type": "string" }, "state": { "type": "string" },
                    "handler": { "type": ["string", "null"] },
                    "memory_mb": { "type": ["integer", "null"] }, "timeout_s": { "type": ["integer", "null"] },
                    "description": { "type": "string" },
                    "owner": { "type": ["string", "null"] }, "team": { "type": ["string", "null"] },
                    "lifecycle": { "type": "string" }, "environment": { "type": "string" },
                    "public_url": { "type": "boolean" },
                    "tags": { "type": "object", "additionalProperties": { "type": "string" } },
                    "gone": { "type": "boolean" }, "drift": {}, "suggested_owner": { "type": ["string", "null"] },
                    "updated_at": { "type": "string", "format": "date-time" }
                } },
                "FunctionPage": { "type": "object", "properties": {
                    "functions": { "type": "array", "items": { "$ref": "#/components/schemas/Function" } },
                    "next": { "type": ["string", "null"] } } },
                "FunctionPatch": { "type": "object", "additionalProperties": false, "properties": {
                    "owner": { "type": "string", "format": "email" },
                    "team": { "type": "string", "description": "A team name, or empty for none" },
                    "lifecycle": { "type": "string", "enum": model::Lifecycle::names() },
                    "environment": { "type": "string", "enum": model::Stage::names() },
                    "tags": { "type": "object", "additionalProperties": { "type": "string" },
                              "description": "The user tags, replacing the current ones" } } },
                "AuditPage": { "type": "object", "properties": {
                    "events": { "type": "array", "items": { "type": "object", "properties": {
                        "id": { "type": "integer" }, "time": { "type": "string", "format": "date-time" },
                        "actor": { "type": "string" }, "action": { "type": "string" },
                        "target": { "type": "string" }, "detail": {}, "source_ip": { "type": ["string", "null"] } } } },
                    "next": { "type": ["string", "null"] } } }
            }
        }
    }))
}
