//! `/functions/{id}/test-events`: a function's saved test events — the Test tab's, with its checks —
//! and their export and import in the format of Lambda's shareable test events.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiResult, Caller, ErrorEnvelope, Params, Problem, fail, rfc3339};
use crate::state::AppState;
use app::error::ApiError;
use backend::testing;
use model::InvocationType;

/// A saved test event.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct TestEvent {
    #[schema(format = Uuid)]
    test_event_id: String,
    name: String,
    /// The owner's email.
    owner: String,
    /// Seen by everyone who may read the function; otherwise only by its owner.
    shared: bool,
    #[schema(schema_with = invocation_types)]
    invocation_type: String,
    /// The version or alias it is sent to; absent for `$LATEST`.
    qualifier: Option<String>,
    /// The tenant it is sent for (a tenant-isolated function needs one on every invoke).
    tenant_id: Option<String>,
    /// The event's JSON.
    #[schema(value_type = Object)]
    event: serde_json::Value,
    /// How many earlier versions are kept.
    versions: i64,
    #[schema(format = DateTime)]
    updated_at: String,
}

impl From<testing::TestEvent> for TestEvent {
    fn from(e: testing::TestEvent) -> Self {
        Self {
            test_event_id: e.test_event_id.to_string(),
            name: e.name,
            owner: e.owner,
            shared: e.shared,
            invocation_type: e.invocation_type.to_string(),
            qualifier: e.qualifier,
            tenant_id: e.tenant_id,
            event: serde_json::from_str(&e.payload).unwrap_or(serde_json::Value::String(e.payload)),
            versions: e.versions,
            updated_at: rfc3339(e.updated_at),
        }
    }
}

fn invocation_types() -> utoipa::openapi::Object {
    super::functions::one_of(vec!["RequestResponse", "Event", "DryRun"])
}

/// The function's test events the caller sees.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct TestEventList {
    test_events: Vec<TestEvent>,
}

/// A test event to save.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct TestEventInput {
    /// 1 to 25 letters, digits, `-` or `_`.
    name: String,
    /// Shared with everyone who may read the function (default: private).
    #[serde(default)]
    shared: bool,
    /// Default `RequestResponse`.
    #[schema(schema_with = invocation_types)]
    invocation_type: Option<String>,
    /// A version number or alias name.
    qualifier: Option<String>,
    /// For a tenant-isolated function: 1 to 256 printable characters.
    tenant_id: Option<String>,
    /// The event's JSON (at most 256 KB).
    #[schema(value_type = Object)]
    event: serde_json::Value,
}

impl TestEventInput {
    fn into_input(self) -> ApiResult<testing::EventInput> {
        let invocation_type = match self.invocation_type.as_deref() {
            None => InvocationType::RequestResponse,
            Some(kind) => kind.parse().map_err(|e: model::Unknown| {
                Problem(ApiError::Validation {
                    field: "invocation_type".to_owned(),
                    message: e.to_string(),
                })
            })?,
        };
        Ok(testing::EventInput {
            name: self.name,
            shared: self.shared,
            invocation_type,
            qualifier: self.qualifier.filter(|q| !q.is_empty()),
            tenant_id: self.tenant_id.filter(|t| !t.is_empty()),
            payload: serde_json::to_string_pretty(&self.event).expect("a JSON value serialises"),
        })
    }
}

/// How an import treats names the caller already uses.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ImportOptions {
    /// Share the imported events (default: private).
    shared: Option<bool>,
    /// Keep an imported event as the new version of the caller's event with its name (default:
    /// refuse the import, 409).
    replace: Option<bool>,
}

/// What an import saved.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct Imported {
    test_events: Vec<TestEvent>,
}

fn json_body<T>(body: Result<Json<T>, axum::extract::rejection::JsonRejection>) -> ApiResult<T> {
    body.map(|Json(value)| value).map_err(|rejection| {
        Problem(ApiError::Validation { field: "body".to_owned(), message: rejection.body_text() })
    })
}

fn ids(function: &str, event: Option<&str>) -> ApiResult<(uuid::Uuid, Option<uuid::Uuid>)> {
    let function = backend::input::id("id", function).map_err(fail)?;
    let event = event.map(|e| backend::input::id("event_id", e)).transpose().map_err(fail)?;
    Ok((function, event))
}

/// List a function's test events
///
/// The caller's own and the shared ones, by name.
#[utoipa::path(
    get,
    path = "/functions/{id}/test-events",
    operation_id = "listTestEvents",
    params(("id" = uuid::Uuid, Path, description = "The function's catalog id")),
    responses(
        (status = 200, description = "The test events", body = TestEventList),
        (status = 401, description = "No token, or not a valid one", body = ErrorEnvelope),
        (status = 404, description = "No such function, or not one the caller may see", body = ErrorEnvelope),
    )
)]
pub(super) async fn list_test_events(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<TestEventList>> {
    let pool = &state.console.pool;
    let (id, _) = ids(&id, None)?;
    let detail = backend::catalog::readable(pool, &caller.account, id).await.map_err(fail)?;
    let events =
        testing::list(pool, &caller.account, detail.entry.function_id).await.map_err(fail)?;
    Ok(Json(TestEventList { test_events: events.into_iter().map(TestEvent::from).collect() }))
}

/// Save a new test event
///
/// For those who may invoke the function (its owner, their team, admins), as on the Test tab.
#[utoipa::path(
    post,
    path = "/functions/{id}/test-events",
    operation_id = "createTestEvent",
    params(("id" = uuid::Uuid, Path, description = "The function's catalog id")),
    request_body = TestEventInput,
    responses(
        (status = 201, description = "Saved", body = TestEvent),
        (status = 401, description = "No token, or not a valid one", body = ErrorEnvelope),
        (status = 403, description = "The caller may not invoke this function", body = ErrorEnvelope),
        (status = 404, description = "No such function, or not one the caller may see", body = ErrorEnvelope),
        (status = 422, description = "A field is wrong, or the name is taken", body = ErrorEnvelope),
    )
)]
pub(super) async fn create_test_event(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<TestEventInput>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<(StatusCode, Json<TestEvent>)> {
    let input = json_body(body)?.into_input()?;
    let pool = &state.console.pool;
    let (id, _) = ids(&id, None)?;
    let (detail, _) = backend::catalog::editable(pool, &caller.account, id).await.map_err(fail)?;
    let saved = testing::save(pool, &caller.actor, &caller.account, &detail, None, &input)
        .await
        .map_err(fail)?;
    let event = testing::get(pool, &caller.account, id, saved).await.map_err(fail)?;
    Ok((StatusCode::CREATED, Json(event.into())))
}

/// One test event
#[utoipa::path(
    get,
    path = "/functions/{id}/test-events/{event_id}",
    operation_id = "getTestEvent",
    params(
        ("id" = uuid::Uuid, Path, description = "The function's catalog id"),
        ("event_id" = uuid::Uuid, Path, description = "The test event's id"),
    ),
    responses(
        (status = 200, description = "The test event", body = TestEvent),
        (status = 401, description = "No token, or not a valid one", body = ErrorEnvelope),
        (status = 404, description = "No such function or test event the caller sees", body = ErrorEnvelope),
    )
)]
pub(super) async fn get_test_event(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, event_id)): Path<(String, String)>,
) -> ApiResult<Json<TestEvent>> {
    let pool = &state.console.pool;
    let (id, event_id) = ids(&id, Some(&event_id))?;
    backend::catalog::readable(pool, &caller.account, id).await.map_err(fail)?;
    let event =
        testing::get(pool, &caller.account, id, event_id.expect("given")).await.map_err(fail)?;
    Ok(Json(event.into()))
}

/// Change a test event
///
/// Its owner (or an admin) saves a new version; the one it replaces is kept.
#[utoipa::path(
    put,
    path = "/functions/{id}/test-events/{event_id}",
    operation_id = "updateTestEvent",
    params(
        ("id" = uuid::Uuid, Path, description = "The function's catalog id"),
        ("event_id" = uuid::Uuid, Path, description = "The test event's id"),
    ),
    request_body = TestEventInput,
    responses(
        (status = 200, description = "Saved as a new version", body = TestEvent),
        (status = 401, description = "No token, or not a valid one", body = ErrorEnvelope),
        (status = 403, description = "Not the caller's event, or a function they may not invoke", body = ErrorEnvelope),
        (status = 404, description = "No such function or test event the caller sees", body = ErrorEnvelope),
        (status = 422, description = "A field is wrong, or the name is taken", body = ErrorEnvelope),
    )
)]
pub(super) async fn update_test_event(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, event_id)): Path<(String, String)>,
    body: Result<Json<TestEventInput>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Json<TestEvent>> {
    let input = json_body(body)?.into_input()?;
    let pool = &state.console.pool;
    let (id, event_id) = ids(&id, Some(&event_id))?;
    let (detail, _) = backend::catalog::editable(pool, &caller.account, id).await.map_err(fail)?;
    // Only an event the caller sees can be changed (a private one of another is "not found").
    let existing =
        testing::get(pool, &caller.account, id, event_id.expect("given")).await.map_err(fail)?;
    let saved = testing::save(
        pool,
        &caller.actor,
        &caller.account,
        &detail,
        Some(existing.test_event_id),
        &input,
    )
    .await
    .map_err(fail)?;
    Ok(Json(testing::get(pool, &caller.account, id, saved).await.map_err(fail)?.into()))
}

/// Delete a test event
///
/// Its owner, or an admin; its earlier versions go with it.
#[utoipa::path(
    delete,
    path = "/functions/{id}/test-events/{event_id}",
    operation_id = "deleteTestEvent",
    params(
        ("id" = uuid::Uuid, Path, description = "The function's catalog id"),
        ("event_id" = uuid::Uuid, Path, description = "The test event's id"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No token, or not a valid one", body = ErrorEnvelope),
        (status = 403, description = "A function the caller may not invoke", body = ErrorEnvelope),
        (status = 404, description = "No such function, or no such test event of the caller's", body = ErrorEnvelope),
    )
)]
pub(super) async fn delete_test_event(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, event_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let pool = &state.console.pool;
    let (id, event_id) = ids(&id, Some(&event_id))?;
    let (detail, _) = backend::catalog::editable(pool, &caller.account, id).await.map_err(fail)?;
    testing::delete(pool, &caller.actor, &caller.account, &detail, event_id.expect("given"))
        .await
        .map_err(fail)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Export as a shareable test event document
///
/// The caller's and the shared test events as Lambda's shareable test events keep them: the
/// OpenAPI 3 document of the schema `_<function>-schema` in the EventBridge Schemas registry
/// `lambda-testevent-schemas` (each event under `components.examples`, its invocation type in
/// `x-metadata`). `aws schemas create-schema --registry-name lambda-testevent-schemas
/// --schema-name _<function>-schema --type OpenApi3 --content file://<this>` shares them in the
/// Lambda console and with `sam remote test-event`.
#[utoipa::path(
    get,
    path = "/functions/{id}/test-events/export",
    operation_id = "exportTestEvents",
    params(("id" = uuid::Uuid, Path, description = "The function's catalog id")),
    responses(
        (status = 200, description = "The shareable test event document", content_type = "application/json", body = Object),
        (status = 401, description = "No token, or not a valid one", body = ErrorEnvelope),
        (status = 404, description = "No such function, or not one the caller may see", body = ErrorEnvelope),
    )
)]
pub(super) async fn export_test_events(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (id, _) = ids(&id, None)?;
    Ok(export(&state.console.pool, &caller.account, id).await?)
}

/// The test events `account` sees for the function `id` as a shareable test event document, a
/// download named as the registry's schema (also the Test tab's Export).
pub(crate) async fn export(
    pool: &backend::PgPool,
    account: &backend::accounts::Account,
    id: uuid::Uuid,
) -> Result<Response, ApiError> {
    let detail = backend::catalog::readable(pool, account, id).await.map_err(fail)?;
    let events = testing::list(pool, account, id).await.map_err(fail)?;
    Ok(download(&detail.entry.name, &events))
}

fn download(function_name: &str, events: &[testing::TestEvent]) -> Response {
    let body = serde_json::to_vec_pretty(&testing::share::document(events))
        .expect("a JSON value serialises");
    (
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{}.json\"",
                    testing::share::schema_name(function_name)
                ),
            ),
        ],
        body,
    )
        .into_response()
}

/// Import a shareable test event document
///
/// Every event of the document (the `Content` of a schema in the `lambda-testevent-schemas`
/// registry, e.g. from `aws schemas describe-schema`) saved as the caller's, with its invocation
/// type. All or nothing.
#[utoipa::path(
    post,
    path = "/functions/{id}/test-events/import",
    operation_id = "importTestEvents",
    params(("id" = uuid::Uuid, Path, description = "The function's catalog id"), ImportOptions),
    request_body(content = Object, description = "A shareable test event document", content_type = "application/json"),
    responses(
        (status = 201, description = "The events saved", body = Imported),
        (status = 401, description = "No token, or not a valid one", body = ErrorEnvelope),
        (status = 403, description = "The caller may not invoke this function", body = ErrorEnvelope),
        (status = 404, description = "No such function, or not one the caller may see", body = ErrorEnvelope),
        (status = 409, description = "The caller has an event with an imported one's name (see `replace`)", body = ErrorEnvelope),
        (status = 422, description = "Not a shareable test event document, or an event in it is wrong", body = ErrorEnvelope),
    )
)]
pub(super) async fn import_test_events(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Params(options): Params<ImportOptions>,
    body: String,
) -> ApiResult<(StatusCode, Json<Imported>)> {
    let pool = &state.console.pool;
    let (id, _) = ids(&id, None)?;
    let (detail, _) = backend::catalog::editable(pool, &caller.account, id).await.map_err(fail)?;
    let events = testing::share::parse(&body, options.shared.unwrap_or(false)).map_err(fail)?;
    let saved = testing::import(
        pool,
        &caller.actor,
        &caller.account,
        &detail,
        &events,
        options.replace.unwrap_or(false),
    )
    .await
    .map_err(fail)?;
    let all = testing::list(pool, &caller.account, id).await.map_err(fail)?;
    let test_events =
        all.into_iter().filter(|e| saved.contains(&e.test_event_id)).map(TestEvent::from).collect();
    Ok((StatusCode::CREATED, Json(Imported { test_events })))
}
