//! The Lambda control plane and Invoke over restJson1 (API 2015-03-31): the route table here, the
//! operations by subject in `functions`, `invocation`, `tags` and `concurrency` (request parsing,
//! validation before any change, responses in AWS's shapes); shared helpers in `crate::http`.

use std::sync::Arc;

use axum::Router;
use axum::routing::get;

use crate::EngineState;
use crate::error::{ErrorType, LambdaError};

mod concurrency;
mod functions;
mod invocation;
mod tags;

use concurrency::*;
use functions::*;
use invocation::*;
use tags::*;

pub fn router(state: Arc<EngineState>) -> Router {
    let api = Router::new()
        .route("/2015-03-31/functions", get(list_functions).post(create_function))
        .route("/2015-03-31/functions/", get(list_functions).post(create_function))
        .route("/2015-03-31/functions/{name}", get(get_function).delete(delete_function))
        .route(
            "/2015-03-31/functions/{name}/configuration",
            get(get_function_configuration).put(update_function_configuration),
        )
        .route("/2015-03-31/functions/{name}/code", axum::routing::put(update_function_code))
        .route(
            "/2017-03-31/tags/{resource}",
            get(list_tags).post(tag_resource).delete(untag_resource),
        )
        .route(
            "/2017-10-31/functions/{name}/concurrency",
            axum::routing::put(put_function_concurrency).delete(delete_function_concurrency),
        )
        .route("/2019-09-30/functions/{name}/concurrency", get(get_function_concurrency))
        .route("/2015-03-31/functions/{name}/invocations", axum::routing::post(invoke))
        .route(
            "/2021-11-15/functions/{name}/response-streaming-invocations",
            axum::routing::post(invoke_with_response_stream),
        )
        .route(
            "/2015-03-31/functions/{name}/policy",
            get(crate::policy::get_policy).post(crate::policy::add_permission),
        )
        .route(
            "/2015-03-31/functions/{name}/policy/{sid}",
            axum::routing::delete(crate::policy::remove_permission),
        )
        .route(
            "/2021-10-31/functions/{name}/url",
            get(crate::urls::get_url)
                .post(crate::urls::create_url)
                .put(crate::urls::update_url)
                .delete(crate::urls::delete_url),
        )
        .route("/2021-10-31/functions/{name}/urls", get(crate::urls::list_urls))
        .route(
            "/2015-03-31/functions/{name}/versions",
            get(crate::versions::list_versions).post(crate::versions::publish_version),
        )
        .route(
            "/2015-03-31/functions/{name}/aliases",
            get(crate::versions::list_aliases).post(crate::versions::create_alias),
        )
        .route(
            "/2015-03-31/functions/{name}/aliases/{alias}",
            get(crate::versions::get_alias)
                .put(crate::versions::update_alias)
                .delete(crate::versions::delete_alias),
        )
        .route("/2016-08-19/account-settings", get(get_account_settings))
        .route("/2016-08-19/account-settings/", get(get_account_settings))
        .route("/_lambdaport/code/{key}", get(download_code))
        .route("/", axum::routing::post(crate::logs_api::dispatch))
        .route(
            "/service/GraniteServiceVersion20100801/operation/{operation}",
            axum::routing::post(crate::metrics::dispatch),
        )
        .fallback(unknown_operation)
        .layer(axum::middleware::from_fn(request_span))
        // A 50 MB zip is ~67 MB as base64 in JSON; larger bodies get Lambda's errors, not axum's.
        .layer(axum::extract::DefaultBodyLimit::max(80 * 1024 * 1024))
        .with_state(state.clone());
    // Function URL requests are taken before routing (outside it, so the API's method routing
    // never touches them); the rest goes on to the API.
    Router::new()
        .fallback_service(api)
        .layer(axum::middleware::from_fn_with_state(state, crate::function_url::front))
}

/// Every API request runs in a span naming its operation (the matched route), its function (the
/// `{name}` segment) and the request id it is answered with; at debug level, so a quiet log and a
/// warm invoke pay next to nothing.
async fn request_span(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use tracing::Instrument as _;
    let operation = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| request.uri().path().to_owned(), |p| p.as_str().to_owned());
    let function = request
        .uri()
        .path()
        .split('/')
        .skip_while(|segment| *segment != "functions")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    let span = tracing::debug_span!(
        "engine.request",
        method = %request.method(),
        operation,
        function,
        request_id = tracing::field::Empty,
        status = tracing::field::Empty,
    );
    let response = next.run(request).instrument(span.clone()).await;
    if let Some(id) = response.headers().get("x-amzn-requestid").and_then(|v| v.to_str().ok()) {
        span.record("request_id", id);
    }
    span.record("status", response.status().as_u16());
    tracing::debug!(parent: &span, "answered");
    response
}

pub(super) async fn unknown_operation(uri: axum::http::Uri) -> LambdaError {
    LambdaError::new(
        ErrorType::ResourceNotFound,
        format!("The engine does not implement this operation yet: {uri}"),
    )
}
