//! `/api/v1`: the catalog, its test events and the audit trail for automation, as JSON. Callers authenticate with a
//! personal access token (`Authorization: Bearer lpat_…`, made on the profile page) and can do what
//! the token's owner can do on the pages — the same checks, the same functions. Every error is one
//! envelope: `{"error": {"code", "message", "field"?}}`.
//!
//! The description at `/api/v1/openapi.json` is derived from the handlers and the types in these modules
//! (`utoipa`): a route is described because it is routed, a field because it is serialised. The
//! snapshot test `server/tests/openapi.rs` shows every change to it in review.
//!
//! No session, no cookies: these routes sit outside the session and same-origin layers (a bearer
//! token cannot be sent by another site's form).

use app::api::ssr::{fail, rfc3339};
use app::error::ApiError;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use backend::accounts::Account;
use backend::audit::Actor;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

mod audit;
mod evaluations;
mod functions;
pub(crate) mod test_events;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Lambdaport API",
        version = "1",
        description = "The function catalog, its test events, the governance rules' evaluation and the audit trail. Authenticate with a personal access token from your profile page: `Authorization: Bearer lpat_…`. A token can do what its owner can do."
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
        .routes(routes!(functions::list_functions))
        .routes(routes!(functions::get_function, functions::update_function))
        .routes(routes!(test_events::list_test_events, test_events::create_test_event))
        .routes(routes!(
            test_events::get_test_event,
            test_events::update_test_event,
            test_events::delete_test_event
        ))
        .routes(routes!(test_events::export_test_events))
        .routes(routes!(test_events::import_test_events))
        .routes(routes!(evaluations::create_evaluation))
        .routes(routes!(audit::list_audit_events))
        .routes(routes!(audit::export_audit_events))
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
        .method_not_allowed_fallback(method_not_allowed)
}

/// A route called with a method it does not take: 405, in the envelope like every error.
async fn method_not_allowed() -> Response {
    let body = ErrorBody {
        code: ErrorCode::MethodNotAllowed,
        message: "this route does not take that method; see /api/v1/openapi.json".to_owned(),
        field: None,
        request_id: backend::request::id(),
    };
    (StatusCode::METHOD_NOT_ALLOWED, Json(ErrorEnvelope { error: body })).into_response()
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
    /// The request's id (also the `x-request-id` header): the server log has the detail under it.
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
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
    MethodNotAllowed,
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
            request_id: backend::request::id(),
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
        let peer = parts.extensions.get::<ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
        let address = state.trusted_proxies.client(peer, &parts.headers);
        let actor = Actor::account(account.account_id, address);
        Ok(Self { account, actor })
    }
}

/// A handler's query parameters, like axum's `Query`, but a parameter that cannot be read (e.g.
/// `limit=ten`) is answered in the error envelope (422, `invalid`) rather than as plain text.
struct Params<T>(T);

impl<T: serde::de::DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Self> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(params)) => Ok(Self(params)),
            Err(rejection) => Err(Problem(ApiError::Validation {
                field: "query".to_owned(),
                message: format!("{}; see /api/v1/openapi.json", rejection.body_text()),
            })),
        }
    }
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
