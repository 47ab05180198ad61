//! `/functions`: the catalog, read and changed with the pages' own checks.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiResult, Caller, ErrorEnvelope, Params, Problem, fail, limit, rfc3339};
use crate::state::AppState;
use app::error::ApiError;
use model::CatalogFilters;

/// The size of a page of functions.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct FunctionsLimit {
    /// How many functions (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

/// A catalog function as a list shows it.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct FunctionSummary {
    #[schema(format = Uuid)]
    function_id: String,
    name: String,
    /// The connection's name.
    connection: String,
    region: String,
    runtime: String,
    /// Active, Pending, Inactive or Failed.
    state: String,
    description: String,
    /// The owner's email.
    owner: Option<String>,
    team: Option<String>,
    #[schema(schema_with = lifecycles)]
    lifecycle: String,
    #[schema(schema_with = stages)]
    environment: String,
    /// Whether it has a Function URL anyone can call (auth type NONE).
    public_url: bool,
    tags: BTreeMap<String, String>,
    /// Deleted in the cloud since the catalog last saw it.
    gone: bool,
    /// The cloud's configuration differs from the catalog's.
    drift: bool,
    /// How many error-level governance findings it has (see `/evaluations` for the rules).
    violations: i64,
    /// For a function not imported yet: the owner its `lambdaport:owner` tag names.
    suggested_owner: Option<String>,
}

impl From<backend::catalog::CatalogEntry> for FunctionSummary {
    fn from(e: backend::catalog::CatalogEntry) -> Self {
        let tags = e.tag_map();
        Self {
            function_id: e.function_id.to_string(),
            name: e.name,
            connection: e.connection,
            region: e.region,
            runtime: e.runtime.unwrap_or_default(),
            state: e.state.unwrap_or_default(),
            description: e.description,
            owner: e.owner,
            team: e.team,
            lifecycle: e.lifecycle,
            environment: e.environment,
            public_url: e.url_auth_type.as_deref() == Some(model::UrlAuthType::None.as_str()),
            tags,
            gone: e.gone,
            drift: e.drift,
            violations: e.violations,
            suggested_owner: e.suggested_owner,
        }
    }
}

/// One catalog function: what a list shows, plus its configuration as last synced.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct Function {
    #[schema(format = Uuid)]
    function_id: String,
    name: String,
    arn: String,
    connection: String,
    region: String,
    runtime: String,
    state: String,
    handler: Option<String>,
    memory_mb: Option<i32>,
    timeout_s: Option<i32>,
    description: String,
    owner: Option<String>,
    team: Option<String>,
    #[schema(schema_with = lifecycles)]
    lifecycle: String,
    #[schema(schema_with = stages)]
    environment: String,
    public_url: bool,
    tags: BTreeMap<String, String>,
    gone: bool,
    /// Each field whose cloud value differs from the catalog's, with both values.
    #[schema(value_type = Object)]
    drift: serde_json::Value,
    /// How many error-level governance findings it has.
    violations: i64,
    suggested_owner: Option<String>,
    #[schema(format = DateTime)]
    updated_at: String,
}

impl From<backend::catalog::Detail> for Function {
    fn from(detail: backend::catalog::Detail) -> Self {
        let updated_at = rfc3339(detail.entry.updated_at);
        let summary = FunctionSummary::from(detail.entry);
        Self {
            function_id: summary.function_id,
            name: summary.name,
            arn: detail.arn,
            connection: summary.connection,
            region: summary.region,
            runtime: summary.runtime,
            state: summary.state,
            handler: detail.handler,
            memory_mb: detail.memory_mb,
            timeout_s: detail.timeout_s,
            description: summary.description,
            owner: summary.owner,
            team: summary.team,
            lifecycle: summary.lifecycle,
            environment: summary.environment,
            public_url: summary.public_url,
            tags: summary.tags,
            gone: summary.gone,
            drift: detail.drift,
            violations: summary.violations,
            suggested_owner: summary.suggested_owner,
            updated_at,
        }
    }
}

/// A string that is one of the console's lifecycles.
pub(super) fn lifecycles() -> utoipa::openapi::Object {
    one_of(model::Lifecycle::names())
}

/// A string that is one of the console's environments.
pub(super) fn stages() -> utoipa::openapi::Object {
    one_of(model::Stage::names())
}

pub(super) fn one_of(names: Vec<&'static str>) -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(names))
        .build()
}

/// A page of functions.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct FunctionPage {
    functions: Vec<FunctionSummary>,
    /// Pass as `after` for the next page; null on the last.
    next: Option<String>,
    /// No word matched `q`: these are the functions whose name contains it.
    matched_by_name: bool,
}

/// List catalog functions, by name, with filters and keyset pages
///
/// The Catalog page's filters; `q`'s plain words match words or their starts (`order` finds
/// `orders-api`), and when no word matches, names containing `q`. By name or (`sort=updated`) most recently changed first; paged with
/// `after` (the previous page's `next`).
#[utoipa::path(
    get,
    path = "/functions",
    operation_id = "listFunctions",
    params(CatalogFilters, FunctionsLimit),
    responses(
        (status = 200, description = "A page of functions", body = FunctionPage),
        (status = 401, description = "No token, or not a valid one", body = ErrorEnvelope),
        (status = 422, description = "A filter or the limit is wrong", body = ErrorEnvelope),
    )
)]
pub(super) async fn list_functions(
    State(state): State<AppState>,
    caller: Caller,
    Params(filters): Params<CatalogFilters>,
    Params(page): Params<FunctionsLimit>,
) -> ApiResult<Json<FunctionPage>> {
    let pool = &state.console.pool;
    let mut query =
        backend::catalog::query_for(pool, &caller.account, &filters).await.map_err(fail)?;
    query.limit = limit(page.limit, 50, 200)?;
    let found = backend::catalog::search(pool, &query).await.map_err(fail)?;
    Ok(Json(FunctionPage {
        functions: found.entries.into_iter().map(FunctionSummary::from).collect(),
        next: found.next.map(|(name, id)| format!("{name}|{id}")),
        matched_by_name: found.by_name,
    }))
}

/// One catalog function
#[utoipa::path(
    get,
    path = "/functions/{id}",
    operation_id = "getFunction",
    params(("id" = uuid::Uuid, Path, description = "The function's catalog id")),
    responses(
        (status = 200, description = "The function", body = Function),
        (status = 401, description = "No token, or not a valid one", body = ErrorEnvelope),
        (status = 404, description = "No such function, or not one the caller may see", body = ErrorEnvelope),
        (status = 422, description = "Not an id", body = ErrorEnvelope),
    )
)]
pub(super) async fn get_function(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Function>> {
    let id = backend::input::id("id", &id).map_err(fail)?;
    let detail =
        backend::catalog::readable(&state.console.pool, &caller.account, id).await.map_err(fail)?;
    Ok(Json(detail.into()))
}

/// What may change; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct FunctionPatch {
    /// The new owner's email.
    #[schema(format = Email)]
    owner: Option<String>,
    /// A team name, or `""` for none.
    team: Option<String>,
    #[schema(schema_with = lifecycles)]
    lifecycle: Option<String>,
    #[schema(schema_with = stages)]
    environment: Option<String>,
    /// User tags to add or change; the function's other tags stay as they are.
    tags: Option<BTreeMap<String, String>>,
    /// User tag keys to remove.
    tags_remove: Option<Vec<String>>,
}

/// Change owner, team, lifecycle, environment or tags
///
/// Written to the catalog and the cloud's tags together (as the function page does), audited.
/// Returns the function.
#[utoipa::path(
    patch,
    path = "/functions/{id}",
    operation_id = "updateFunction",
    params(("id" = uuid::Uuid, Path, description = "The function's catalog id")),
    request_body = FunctionPatch,
    responses(
        (status = 200, description = "The function, updated", body = Function),
        (status = 401, description = "No token, or not a valid one", body = ErrorEnvelope),
        (status = 403, description = "The caller may not change this function", body = ErrorEnvelope),
        (status = 404, description = "No such function (in the catalog, or any more in the cloud)", body = ErrorEnvelope),
        (status = 409, description = "The cloud refused the change", body = ErrorEnvelope),
        (status = 422, description = "A field is wrong", body = ErrorEnvelope),
        (status = 429, description = "The cloud is throttling calls; try again shortly", body = ErrorEnvelope),
        (status = 502, description = "The cloud did not answer", body = ErrorEnvelope),
    )
)]
pub(super) async fn update_function(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<FunctionPatch>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Json<Function>> {
    let Json(patch) = body.map_err(|rejection| {
        Problem(ApiError::Validation { field: "body".to_owned(), message: rejection.body_text() })
    })?;
    let pool = &state.console.pool;
    let id = backend::input::id("id", &id).map_err(fail)?;
    let (detail, connection) =
        backend::catalog::editable(pool, &caller.account, id).await.map_err(fail)?;
    let entry = &detail.entry;
    let metadata = backend::catalog::Metadata {
        owner: patch.owner.or_else(|| entry.owner.clone()).unwrap_or_default(),
        team: patch.team.or_else(|| entry.team.clone()).unwrap_or_default(),
        lifecycle: patch.lifecycle.unwrap_or_else(|| entry.lifecycle.clone()),
        environment: patch.environment.unwrap_or_else(|| entry.environment.clone()),
        tags: patch.tags.unwrap_or_default(),
        removed: patch.tags_remove.unwrap_or_default(),
    };
    backend::catalog::update_metadata(pool, &caller.actor, &connection, &detail, &metadata)
        .await
        .map_err(fail)?;
    let updated = backend::catalog::detail(pool, detail.entry.function_id).await.map_err(fail)?;
    Ok(Json(updated.into()))
}
