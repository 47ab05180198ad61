//! `/api/v1`: the catalog and the audit trail for automation, as JSON. Callers authenticate with a
//! personal access token (`Authorization: Bearer lpat_…`, made on the profile page) and can do what
//! the token's owner can do on the pages — the same checks, the same functions. Every error is one
//! envelope: `{"error": {"code", "message", "field"?}}`.
//!
//! The description at `/api/v1/openapi.json` is derived from the handlers and the types below
//! (`utoipa`): a route is described because it is routed, a field because it is serialised. The
//! snapshot test `server/tests/openapi.rs` shows every change to it in review.
//!
//! No session, no cookies: these routes sit outside the session and same-origin layers (a bearer
//! token cannot be sent by another site's form).

use std::collections::BTreeMap;

use app::api::ssr::{fail, rfc3339};
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
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Lambdaport API",
        version = "1",
        description = "The function catalog and the audit trail. Authenticate with a personal access token from your profile page: `Authorization: Bearer lpat_…`. A token can do what its owner can do."
    ),
    servers((url = "/api/v1")),
    security(("token" = [])),
    modifiers(&BearerToken),
    components(schemas(ErrorEnvelope))
)]
struct Description;

/// Declares the `token` security scheme the document's `security` names.
struct BearerToken;

impl utoipa::Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The routes and their description, built together.
fn described() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(Description::openapi())
        .routes(routes!(list_functions))
        .routes(routes!(get_function, update_function))
        .routes(routes!(list_audit_events))
        .split_for_parts()
}

/// The API's OpenAPI 3.1 document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    described().1
}

/// The routes under `/api/v1`.
pub fn router() -> Router<AppState> {
    let (routes, description) = described();
    let document = axum::body::Bytes::from(
        serde_json::to_vec(&description).expect("the API description serialises"),
    );
    // Public, like any API description.
    routes
        .route(
            "/openapi.json",
            get(move || {
                let document = document.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], document) }
            }),
        )
        .fallback(|| async { Problem(ApiError::NotFound("API route".to_owned())) })
}

/// The error envelope every failure is sent in.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Error)]
struct ErrorEnvelope {
    error: ErrorBody,
}

#[derive(Debug, Serialize, ToSchema)]
struct ErrorBody {
    code: ErrorCode,
    /// What went wrong and, where there is one, what to do next.
    message: String,
    /// The input the error is about (code `invalid`).
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
}

/// A stable, machine-readable name for an error.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum ErrorCode {
    NotFound,
    Forbidden,
    Unauthorized,
    Invalid,
    Conflict,
    RateLimited,
    /// The cloud did not answer, or failed on its side.
    Upstream,
    Internal,
}

impl ErrorCode {
    fn of(error: &ApiError) -> Self {
        match error.status() {
            404 => Self::NotFound,
            403 => Self::Forbidden,
            401 => Self::Unauthorized,
            422 => Self::Invalid,
            409 => Self::Conflict,
            429 => Self::RateLimited,
            502 => Self::Upstream,
            _ => Self::Internal,
        }
    }
}

/// An error in the API's envelope, with its status.
struct Problem(ApiError);

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let error = self.0;
        let status =
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody {
            code: ErrorCode::of(&error),
            message: error.to_string(),
            field: error.field().map(str::to_owned),
        };
        let mut response = (status, Json(ErrorEnvelope { error: body })).into_response();
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

type ApiResult<T> = Result<T, Problem>;

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

/// The size of a page of functions.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct FunctionsLimit {
    /// How many functions (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

/// The size of a page of audit events.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct EventsLimit {
    /// How many events (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

fn limit(asked: Option<i64>, default: i64, max: i64) -> ApiResult<i64> {
    match asked {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(Problem(ApiError::Validation {
            field: "limit".to_owned(),
            message: format!("limit must be between 1 and {max}"),
        })),
    }
}

/// A catalog function as a list shows it.
#[derive(Debug, Serialize, ToSchema)]
struct FunctionSummary {
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
            suggested_owner: e.suggested_owner,
        }
    }
}

/// One catalog function: what a list shows, plus its configuration as last synced.
#[derive(Debug, Serialize, ToSchema)]
struct Function {
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
            suggested_owner: summary.suggested_owner,
            updated_at,
        }
    }
}

/// A string that is one of the console's lifecycles.
fn lifecycles() -> utoipa::openapi::Object {
    one_of(model::Lifecycle::names())
}

/// A string that is one of the console's environments.
fn stages() -> utoipa::openapi::Object {
    one_of(model::Stage::names())
}

fn one_of(names: Vec<&'static str>) -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(names))
        .build()
}

/// A page of functions.
#[derive(Debug, Serialize, ToSchema)]
struct FunctionPage {
    functions: Vec<FunctionSummary>,
    /// Pass as `after` for the next page; null on the last.
    next: Option<String>,
}

/// List catalog functions, by name, with filters and keyset pages
///
/// The Catalog page's filters; by name or (`sort=updated`) most recently changed first; paged with
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
async fn list_functions(
    State(state): State<AppState>,
    caller: Caller,
    Query(filters): Query<CatalogFilters>,
    Query(page): Query<FunctionsLimit>,
) -> ApiResult<Json<FunctionPage>> {
    let pool = &state.console.pool;
    let mut query =
        backend::catalog::query_for(pool, &caller.account, &filters).await.map_err(fail)?;
    query.limit = limit(page.limit, 50, 200)?;
    let (entries, next) = backend::catalog::search(pool, &query).await.map_err(fail)?;
    Ok(Json(FunctionPage {
        functions: entries.into_iter().map(FunctionSummary::from).collect(),
        next: next.map(|(name, id)| format!("{name}|{id}")),
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
async fn get_function(
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
struct FunctionPatch {
    /// The new owner's email.
    #[schema(format = Email)]
    owner: Option<String>,
    /// A team name, or `""` for none.
    team: Option<String>,
    #[schema(schema_with = lifecycles)]
    lifecycle: Option<String>,
    #[schema(schema_with = stages)]
    environment: Option<String>,
    /// The user tags, replacing the current ones.
    tags: Option<BTreeMap<String, String>>,
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
async fn update_function(
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
        tags: patch.tags.unwrap_or_else(|| backend::catalog::user_tags(&entry.tags)),
    };
    backend::catalog::update_metadata(pool, &caller.actor, &connection, &detail, &metadata)
        .await
        .map_err(fail)?;
    let updated = backend::catalog::detail(pool, detail.entry.function_id).await.map_err(fail)?;
    Ok(Json(updated.into()))
}

/// One event of the audit trail.
#[derive(Debug, Serialize, ToSchema)]
struct AuditEvent {
    id: i64,
    #[schema(format = DateTime)]
    time: String,
    /// The actor's email, or `system`.
    actor: String,
    /// e.g. `function.update_metadata`.
    action: String,
    target: String,
    /// What changed (before and after).
    #[schema(value_type = Object)]
    detail: serde_json::Value,
    source_ip: Option<String>,
}

/// A page of audit events.
#[derive(Debug, Serialize, ToSchema)]
struct AuditPage {
    events: Vec<AuditEvent>,
    /// Pass as `before` for the next page; null on the last.
    next: Option<String>,
}

/// The audit trail, newest first (admins)
///
/// The Audit page's filters; paged with `before` (the previous page's `next`).
#[utoipa::path(
    get,
    path = "/audit-events",
    operation_id = "listAuditEvents",
    params(AuditFilters, EventsLimit),
    responses(
        (status = 200, description = "A page of events", body = AuditPage),
        (status = 401, description = "No token, or not a valid one", body = ErrorEnvelope),
        (status = 403, description = "Not an admin's token", body = ErrorEnvelope),
        (status = 422, description = "A filter or the limit is wrong", body = ErrorEnvelope),
    )
)]
async fn list_audit_events(
    State(state): State<AppState>,
    caller: Caller,
    Query(f): Query<AuditFilters>,
    Query(page): Query<EventsLimit>,
) -> ApiResult<Json<AuditPage>> {
    if caller.account.role != Role::Admin {
        return Err(Problem(ApiError::Forbidden));
    }
    let limit = limit(page.limit, 100, 1000)?;
    let filter = backend::audit::Filter::try_from(&f).map_err(fail)?;
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
    let events = entries
        .into_iter()
        .map(|e| AuditEvent {
            id: e.id,
            time: rfc3339(e.at),
            actor: e.actor,
            action: e.action,
            target: e.target,
            detail: e.detail,
            source_ip: e.source_ip,
        })
        .collect();
    Ok(Json(AuditPage { events, next }))
}
