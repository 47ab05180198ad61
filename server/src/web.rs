//! The HTTP side of the console: the router, and the middleware every request passes through —
//! request spans, the same-origin check, sessions, loading the signed-in account, and the
//! sign-in guard on pages.

use std::net::SocketAddr;
use std::time::Duration;

use app::{ACCOUNT_KEY, ClientAddr, SIGNED_IN_KEY};
use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::services::ServeDir;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};
use tower_sessions_sqlx_store::PostgresStore;
use uuid::Uuid;

use crate::state::{AppState, SessionSettings};

/// The console's router, separate from serving so tests can drive it.
pub fn router(state: AppState, store: PostgresStore, sessions: SessionSettings) -> Router {
    let routes = generate_route_list(app::App);
    let console = state.console.clone();
    let context = move || provide_context(console.clone());
    let pkg_dir = std::path::Path::new(&*state.leptos_options.site_root)
        .join(&*state.leptos_options.site_pkg_dir);
    let session_layer = SessionManagerLayer::new(store)
        // Behind https the `__Host-` prefix makes browsers keep the cookie to this exact origin
        // (Secure, path /, no Domain): no other port or subdomain can set or receive it.
        .with_name(if sessions.secure { "__Host-lambdaport.sid" } else { "lambdaport.sid" })
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(sessions.secure)
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(
            i64::try_from(sessions.idle.as_secs()).unwrap_or(i64::MAX),
        )));
    let console = Router::new()
        .route("/healthz", get(healthz))
        .route("/favicon.svg", get(favicon))
        .route("/audit/export", get(crate::audit_export::export_audit))
        .route("/labs/board.csv", get(crate::board_export::export_board))
        .route("/governance/cost.csv", get(crate::cost_export::export_cost))
        .route("/catalog/{id}/test-events.json", get(export_test_events))
        .route("/catalog/{id}/logs.txt", get(crate::logs::download))
        .route("/catalog/{id}/logs/tail", get(crate::logs::tail))
        .route("/catalog/{id}/url/watch/{key}", get(crate::url_watch::watch))
        .route(
            "/catalog/{id}/code",
            axum::routing::post(upload_code).layer(axum::extract::DefaultBodyLimit::max(
                backend::code::MAX_ZIP_BYTES + 64 * 1024,
            )),
        )
        .nest_service("/pkg", ServeDir::new(pkg_dir))
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = state.leptos_options.clone();
            move || app::shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(
            context,
            app::shell,
        ))
        .layer(middleware::from_fn(guard_pages))
        .layer(middleware::from_fn_with_state(
            (state.clone(), touch_every(sessions.idle)),
            load_account,
        ))
        .layer(session_layer)
        .layer(middleware::from_fn(busy_not_internal))
        // Waiting for a turn holds no database connection: before the session is read.
        .layer(middleware::from_fn_with_state(state.admission.clone(), crate::admission::admit))
        .layer(middleware::from_fn_with_state(state.clone(), same_origin_only));
    // The REST API authenticates each request by token: no sessions, no same-origin check.
    Router::new()
        .nest("/api/v1", crate::api_v1::router())
        .merge(console)
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(middleware::from_fn(assign_request_id))
        .with_state(state)
}

/// Gives every request an id (replacing any the client sent): in the request's headers for the
/// pages' server functions, in the task for the REST API's handlers, on the response, and in the
/// request's log span.
async fn assign_request_id(mut request: Request<Body>, next: Next) -> Response {
    let id = backend::request::new_id();
    let value = header::HeaderValue::from_str(&id).expect("hex digits are a header value");
    request.headers_mut().insert("x-request-id", value.clone());
    let mut response = backend::request::scope(id, next.run(request)).await;
    response.headers_mut().insert("x-request-id", value);
    response
}

fn request_span(request: &Request<Body>) -> tracing::Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| request.uri().path().to_owned(), |p| p.as_str().to_owned());
    let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
    tracing::info_span!(
        "http.request",
        http.method = %request.method(),
        http.route = %route,
        request_id = %id
    )
}

/// `GET /healthz`: 200 when the database answers, 503 when it does not.
async fn healthz(State(state): State<AppState>) -> Response {
    match sqlx::query("select 1").execute(&state.console.pool).await {
        Ok(_) => Json(serde_json::json!({ "status": "ok", "database": "ok" })).into_response(),
        Err(error) => {
            tracing::warn!(%error, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "unavailable", "database": "unreachable" })),
            )
                .into_response()
        }
    }
}

/// `GET /catalog/{id}/test-events.json`: the Test tab's Export — the test events the caller sees
/// as a shareable test event document (as `GET /api/v1/functions/{id}/test-events/export`).
async fn export_test_events(
    State(state): State<AppState>,
    axum::Extension(account): axum::Extension<backend::accounts::Account>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    let exported = match backend::input::id("id", &id) {
        Ok(id) => crate::api_v1::test_events::export(&state.console.pool, &account, id).await,
        Err(error) => Err(app::api::ssr::fail(error)),
    };
    exported.unwrap_or_else(|error| {
        let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
        (status, error.to_string()).into_response()
    })
}

/// `POST /catalog/{id}/code` (multipart, field `zip`): replaces a function's code with an
/// uploaded zip through UpdateFunctionCode, then sends the browser back to the function page with
/// the outcome as a one-time message. A plain form post, so it works without JavaScript.
async fn upload_code(
    State(state): State<AppState>,
    account: Option<axum::Extension<backend::accounts::Account>>,
    session: Session,
    axum::Extension(ClientAddr(client)): axum::Extension<ClientAddr>,
    axum::extract::Path(id): axum::extract::Path<String>,
    mut multipart: axum::extract::Multipart,
) -> Response {
    let Some(axum::Extension(account)) = account else {
        return Redirect::to("/signin").into_response();
    };
    let mut back = format!("/catalog/{}/code", encode_query(&id));
    let outcome: Result<backend::code::Uploaded, app::error::ApiError> = async {
        let pool = &state.console.pool;
        let (detail, connection) = app::api::catalog::ssr::editable(pool, &account, &id).await?;
        let invalid =
            |message: String| app::error::ApiError::Validation { field: "zip".to_owned(), message };
        let (mut zip, mut lab_run) = (None, None);
        while let Some(field) = multipart.next_field().await.map_err(|e| invalid(e.body_text()))? {
            match field.name() {
                Some("zip") => zip = Some(field.bytes().await.map_err(|e| invalid(e.body_text()))?),
                // The lab's code step uploads here too, and goes back to the lab.
                Some("lab_run_id") => {
                    let text = field.text().await.map_err(|e| invalid(e.body_text()))?;
                    let fail = app::api::ssr::fail;
                    let id = backend::input::id("lab_run_id", &text).map_err(fail)?;
                    let run =
                        backend::labs::access::viewable(pool, &account, id).await.map_err(fail)?;
                    if run.function_id != Some(detail.entry.function_id) {
                        return Err(app::error::ApiError::NotFound("lab run".to_owned()));
                    }
                    back = format!("/labs/{}", run.lab_run_id);
                    lab_run = Some(run.lab_run_id);
                }
                _ => {}
            }
        }
        let zip = zip
            .filter(|z| !z.is_empty())
            .ok_or_else(|| invalid("choose a .zip file to upload".to_owned()))?;
        let actor = backend::audit::Actor::account(account.account_id, client);
        let uploaded = backend::code::upload(pool, &actor, &connection, &detail, zip.to_vec())
            .await
            .map_err(app::api::ssr::fail)?;
        if let Some(lab_run_id) = lab_run {
            backend::labs::code_uploaded(pool, &actor, lab_run_id)
                .await
                .map_err(app::api::ssr::fail)?;
        }
        Ok(uploaded)
    }
    .await;
    let (message, error) = match outcome {
        Ok(backend::code::Uploaded { sha256, warning: None }) => {
            (format!("Code uploaded (SHA-256 {sha256})"), false)
        }
        // Deployed, and it will not run: said as plainly as a failure.
        Ok(backend::code::Uploaded { sha256, warning: Some(warning) }) => {
            (format!("Code uploaded (SHA-256 {sha256}), but {warning}."), true)
        }
        Err(error) => (format!("The upload failed: {error}"), true),
    };
    if app::api::ssr::leave_flash(&session, message, error).await.is_err() {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    Redirect::to(&back).into_response()
}

async fn favicon() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "public, max-age=86400")],
        include_str!("../../public/favicon.svg"),
    )
}

/// Refuses unsafe requests (anything but GET, HEAD, OPTIONS) that do not come from the console's
/// own pages: the `Origin` header, or failing that the `Referer`, must be the console's origin.
/// This covers server functions too, so a form on another site cannot act for a signed-in user.
async fn same_origin_only(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    if is_same_origin(request.headers(), state.public_origin.as_deref()) {
        next.run(request).await
    } else {
        tracing::warn!(http.method = %request.method(), "refused a cross-origin request");
        (
            StatusCode::FORBIDDEN,
            "Cross-origin request refused: this console accepts changes only from its own pages.",
        )
            .into_response()
    }
}

/// Whether the request's `Origin` (or `Referer`) is the console's own origin.
fn is_same_origin(headers: &HeaderMap, public_origin: Option<&str>) -> bool {
    let header_str = |name| headers.get(name).and_then(|v: &header::HeaderValue| v.to_str().ok());
    let source = match header_str(header::ORIGIN) {
        Some("null") => return false,
        Some(origin) => origin.to_owned(),
        None => match header_str(header::REFERER) {
            Some(referer) => origin_of(referer),
            None => return false,
        },
    };
    match public_origin {
        Some(expected) => source.eq_ignore_ascii_case(expected),
        None => {
            let Some(host) = header_str(header::HOST) else {
                return false;
            };
            ["http://", "https://"]
                .iter()
                .any(|scheme| source.eq_ignore_ascii_case(&format!("{scheme}{host}")))
        }
    }
}

/// `scheme://authority` of a URL.
fn origin_of(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let end = url[start..].find(['/', '?', '#']).map_or(url.len(), |i| start + i);
    url[..end].to_owned()
}

/// The session key holding when the session was last marked active (Unix seconds).
const TOUCHED_KEY: &str = "console.touched_at";

/// How often an active session is written back to extend its idle expiry: a quarter of the idle
/// time, at most a minute. Requests in between only read the session, so a page load does not
/// cost a database write.
fn touch_every(idle: Duration) -> Duration {
    (idle / 4).min(Duration::from_secs(60))
}

/// Marks the session active (which saves it, extending its expiry) if it was not for `every`.
async fn touch(session: &Session, every: Duration) -> Result<(), tower_sessions::session::Error> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    let last = session.get::<i128>(TOUCHED_KEY).await?.unwrap_or(0);
    if now - last >= i128::try_from(every.as_nanos()).unwrap_or(i128::MAX) {
        session.insert(TOUCHED_KEY, now).await?;
    }
    Ok(())
}

/// Loads the signed-in account (if any) into the request's extensions, with the client address,
/// and keeps an active session alive. Static files skip it: they need no account and should not
/// cost a session lookup.
async fn load_account(
    State((state, touch_every)): State<(AppState, Duration)>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let addr = state.trusted_proxies.client(peer, request.headers());
    request.extensions_mut().insert(ClientAddr(addr));
    if request.uri().path().starts_with("/pkg/") {
        return next.run(request).await;
    }
    if let Some(session) = request.extensions().get::<Session>().cloned() {
        match session.get::<Uuid>(ACCOUNT_KEY).await {
            Ok(Some(account_id)) => {
                let signed_in =
                    session.get::<i128>(SIGNED_IN_KEY).await.ok().flatten().unwrap_or(0);
                let signed_in = time::OffsetDateTime::from_unix_timestamp_nanos(signed_in)
                    .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
                match backend::accounts::session_account(&state.console.pool, account_id, signed_in)
                    .await
                {
                    Ok(Some(account)) => {
                        if let Err(error) = touch(&session, touch_every).await {
                            tracing::error!(%error, "marking the session active");
                            return busy(request.uri().path());
                        }
                        request.extensions_mut().insert(account);
                    }
                    Ok(None) => {
                        // The account was deleted or disabled, or its password changed since this
                        // session signed in: the session ends.
                        let _ = session.flush().await;
                    }
                    Err(error) => {
                        tracing::error!(%error, "loading the signed-in account");
                        return busy(request.uri().path());
                    }
                }
            }
            Ok(None) => {}
            Err(error) => {
                tracing::error!(%error, "reading the session");
                return busy(request.uri().path());
            }
        }
    }
    next.run(request).await
}

/// What a console too busy to read its sessions answers (every database connection stayed taken
/// for the whole wait): 503 with `Retry-After`, never a 500. A server function gets the
/// `Busy` error its page already retries on; a page gets a short page that says so and loads
/// itself again.
pub(crate) fn busy(path: &str) -> Response {
    let retry = app::api::ssr::BUSY_RETRY_SECS;
    let retry_after = (header::RETRY_AFTER, header::HeaderValue::from(retry));
    if path.starts_with("/api/") {
        let body = serde_json::to_string(&app::error::ApiError::Busy).unwrap_or_default();
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [
                retry_after,
                (header::CONTENT_TYPE, header::HeaderValue::from_static("application/json")),
            ],
            body,
        )
            .into_response();
    }
    let page = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"{retry}\"><title>Busy — Lambdaport</title></head>\
         <body><main><h1>The console is busy</h1><p role=\"status\">Every connection is taken \
         right now (a class may be starting). Retrying in {retry} seconds…</p></main></body></html>"
    );
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [
            retry_after,
            (header::CONTENT_TYPE, header::HeaderValue::from_static("text/html; charset=utf-8")),
        ],
        page,
    )
        .into_response()
}

/// The session layer answers a bare 500 (no body, no content type) when it cannot save a session,
/// which under load means the database pool stayed busy: said as [`busy`] instead. Everything
/// else passes through.
async fn busy_not_internal(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    if is_session_store_failure(&response) {
        return busy(&path);
    }
    response
}

fn is_session_store_failure(response: &Response) -> bool {
    response.status() == StatusCode::INTERNAL_SERVER_ERROR
        && !response.headers().contains_key(header::CONTENT_TYPE)
}

/// Pages that anyone may see.
fn is_public(path: &str) -> bool {
    matches!(path, "/signin" | "/signup" | "/healthz" | "/favicon.svg")
        || path.starts_with("/pkg/")
        || path.starts_with("/api/")
}

/// Sends visitors without a session to sign in (and back afterwards), and signed-in people away
/// from the sign-in page. Server functions check the caller's role themselves.
async fn guard_pages(request: Request, next: Next) -> Response {
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return next.run(request).await;
    }
    let signed_in = request.extensions().get::<backend::accounts::Account>().is_some();
    let path = request.uri().path();
    if !signed_in && !is_public(path) {
        let target = request.uri().path_and_query().map_or("/", |p| p.as_str());
        let next_param =
            if target == "/" { String::new() } else { format!("?next={}", encode_query(target)) };
        return Redirect::to(&format!("/signin{next_param}")).into_response();
    }
    if signed_in && matches!(path, "/signin" | "/signup") {
        return Redirect::to(&safe_next(request.uri().query())).into_response();
    }
    next.run(request).await
}

/// The `next` parameter of a query if it is a local path, else `/`.
fn safe_next(query: Option<&str>) -> String {
    query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|pair| pair.strip_prefix("next="))
        .map(decode_query)
        .filter(|next| app::url::is_local_path(next))
        .unwrap_or_else(|| "/".to_owned())
}

fn encode_query(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn decode_query(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), HeaderValue::from_str(v).expect("valid header")))
            .collect()
    }

    /// The session layer's bare 500 (what it answers when a session cannot be saved) becomes
    /// "busy"; a 500 that says what it is stays one.
    #[tokio::test]
    async fn a_session_store_failure_is_busy_and_other_errors_are_kept() {
        use tower::ServiceExt as _;
        let app = Router::new()
            .route("/api/save", get(|| async { StatusCode::INTERNAL_SERVER_ERROR.into_response() }))
            .route("/page", get(|| async { StatusCode::INTERNAL_SERVER_ERROR.into_response() }))
            .route("/broken", get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "it broke") }))
            .layer(middleware::from_fn(busy_not_internal));
        let get = |path: &str| {
            app.clone().oneshot(Request::get(path).body(Body::empty()).expect("a request"))
        };
        let api = get("/api/save").await.expect("an answer");
        assert_eq!(api.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(api.headers()[header::RETRY_AFTER], "2");
        assert_eq!(api.headers()[header::CONTENT_TYPE], "application/json");
        let page = get("/page").await.expect("an answer");
        assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            page.headers()[header::CONTENT_TYPE].to_str().is_ok_and(|t| t.starts_with("text/html"))
        );
        let broken = get("/broken").await.expect("an answer");
        assert_eq!(broken.status(), StatusCode::INTERNAL_SERVER_ERROR, "a real error stays one");
    }

    #[test]
    fn same_origin_accepts_own_origin_or_referer_only() {
        let host = (header::HOST, "127.0.0.1:3000");
        assert!(is_same_origin(
            &headers(&[host.clone(), (header::ORIGIN, "http://127.0.0.1:3000")]),
            None
        ));
        assert!(is_same_origin(
            &headers(&[host.clone(), (header::REFERER, "http://127.0.0.1:3000/admin?x=1")]),
            None
        ));
        assert!(!is_same_origin(
            &headers(&[host.clone(), (header::ORIGIN, "http://evil.example")]),
            None
        ));
        assert!(!is_same_origin(
            &headers(&[host.clone(), (header::ORIGIN, "http://127.0.0.1:3000.evil.example")]),
            None
        ));
        assert!(!is_same_origin(&headers(&[host.clone(), (header::ORIGIN, "null")]), None));
        assert!(
            !is_same_origin(&headers(std::slice::from_ref(&host)), None),
            "no Origin and no Referer"
        );
        let public = Some("https://console.example.com");
        assert!(is_same_origin(
            &headers(&[host.clone(), (header::ORIGIN, "https://console.example.com")]),
            public
        ));
        assert!(!is_same_origin(
            &headers(&[host, (header::ORIGIN, "http://127.0.0.1:3000")]),
            public
        ));
    }

    #[test]
    fn next_parameter_stays_on_this_console() {
        assert_eq!(safe_next(Some("next=%2Fadmin%3Ftab%3D1")), "/admin?tab=1");
        assert_eq!(safe_next(Some("next=/admin")), "/admin");
        assert_eq!(safe_next(Some("next=//evil.example")), "/");
        assert_eq!(safe_next(Some("next=/%09/evil.example")), "/", "the review's M9");
        assert_eq!(safe_next(Some("next=https://evil.example")), "/");
        assert_eq!(safe_next(Some("next=/%5Cevil")), "/");
        assert_eq!(safe_next(None), "/");
        assert_eq!(decode_query(&encode_query("/a b?c=d&e")), "/a b?c=d&e");
    }
}
