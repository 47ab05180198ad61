//! The Function URL front end: a request to `<url-id>.lambda-url.<region>.localhost` (or to
//! `/lambda-url/<url-id>/…` on the engine's address) becomes a payload format 2.0 event, the
//! function's answer becomes the HTTP response, as AWS maps them. CORS from the configuration, the
//! resource policy (both statements AWS requires since October 2025) for `NONE` URLs and SigV4 for
//! `AWS_IAM` ones are enforced before the function runs.
//!
//! About 530 lines: the request-to-event and the answer-to-response mappings are one round trip,
//! AWS's rules side by side.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Map, Value, json};

use crate::EngineState;
use crate::error::ErrorType;
use crate::model::MAX_SYNC_PAYLOAD;
use crate::model::{Cors, UrlConfig};
use crate::runtime_api::{Chunk, Streamed};

const FORBIDDEN: &str = "Forbidden. For troubleshooting Function URL authorization issues, see: https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html";

/// Which URL a request is for, and the path the function sees: by host name, or (when
/// `path_urls`) by the `/lambda-url/<url-id>/` path.
fn url_target(request: &Request, path_urls: bool) -> Option<(String, String)> {
    let host = request
        .headers()
        .get("host")
        .and_then(|v| v.to_str().ok())
        .map(|h| h.rsplit_once(':').map_or(h, |(name, _)| name));
    if let Some((id, rest)) = host.and_then(|h| h.split_once('.'))
        && rest.starts_with("lambda-url.")
    {
        return Some((id.to_owned(), request.uri().path().to_owned()));
    }
    if !path_urls {
        return None;
    }
    let rest = request.uri().path().strip_prefix("/lambda-url/")?;
    let (id, path) = rest.split_once('/').map_or((rest, ""), |(id, path)| (id, path));
    Some((id.to_owned(), format!("/{path}")))
}

/// The outermost layer of the engine's router: Function URL requests are served here, the rest
/// goes on to the API (checked for a signature first with `--require-signature`).
pub async fn front(
    State(state): State<Arc<EngineState>>,
    request: Request,
    next: Next,
) -> Response {
    let target = url_target(&request, state.config.path_urls);
    if let Err(refusal) = crate::guard::check(
        &state.config,
        request.method(),
        request.uri().path(),
        request.headers(),
        target.is_some(),
    ) {
        return refusal.into_response();
    }
    if let Some((id, path)) = target {
        return serve(&state, &id, path, request).await;
    }
    if state.config.require_signature {
        let (parts, body) = request.into_parts();
        let Ok(body) = axum::body::to_bytes(body, 80 * 1024 * 1024).await else {
            return crate::error::LambdaError::new(ErrorType::RequestTooLarge, "Request too large")
                .into_response();
        };
        let signed = crate::sigv4::SignedRequest {
            method: &parts.method,
            path: parts.uri.path(),
            query: parts.uri.query().unwrap_or_default(),
            headers: &parts.headers,
            body: &body,
        };
        if let Err(error) = crate::sigv4::verify(
            &signed,
            &state.config.credentials,
            time::OffsetDateTime::now_utc(),
        ) {
            return (
                StatusCode::FORBIDDEN,
                [("x-amzn-ErrorType", error.error_type())],
                axum::Json(json!({ "message": error.message() })),
            )
                .into_response();
        }
        return next.run(Request::from_parts(parts, Body::from(body))).await;
    }
    next.run(request).await
}

fn message(status: StatusCode, text: &str) -> Response {
    (status, [("content-type", "application/json")], json!({ "Message": text }).to_string())
        .into_response()
}

async fn serve(state: &Arc<EngineState>, id: &str, path: String, request: Request) -> Response {
    let Some((function, key, url)) = state.store.find_url(id).await else {
        return message(StatusCode::NOT_FOUND, &format!("No function URL with id {id}."));
    };
    let origin = request.headers().get("origin").cloned();
    let respond = |response: Response| with_cors(response, url.cors.as_ref(), origin.as_ref());
    if request.method() == Method::OPTIONS
        && url.cors.is_some()
        && request.headers().contains_key("access-control-request-method")
    {
        return respond(preflight(url.cors.as_ref()));
    }
    let (mut parts, body) = request.into_parts();
    strip_console_cookies(&mut parts.headers);
    let Ok(body) = axum::body::to_bytes(body, MAX_SYNC_PAYLOAD).await else {
        return respond(message(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
        ));
    };
    let authorizer = match authorize(state, &function, &key, &url, &parts, &body) {
        Ok(authorizer) => authorizer,
        Err(denial) => {
            let headers = [("content-type", "application/json")];
            return respond((StatusCode::FORBIDDEN, headers, denial.to_string()).into_response());
        }
    };
    let source = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
    let event = event(state, id, &path, &parts, &body, authorizer, source.as_deref());
    let Some(function) = crate::store::resolve(function, &key, true) else {
        return respond(message(StatusCode::BAD_GATEWAY, "Internal Server Error"));
    };
    let payload = Bytes::from(event.to_string());
    // A tenant-isolated function is reached with the tenant in `X-Amz-Tenant-Id`, as through
    // Invoke; its environments never serve another tenant.
    let tenant = match crate::http::tenant_of(&function, &parts.headers) {
        Ok(tenant) => tenant,
        Err(error) => return respond(error.into_response()),
    };
    let response = match crate::invoke::invoke(state, function, payload, false, tenant).await {
        Ok(mut result) if url.invoke_mode == "RESPONSE_STREAM" && result.stream.is_some() => {
            match result.stream.take() {
                Some(stream) => streamed(stream).await,
                None => message(StatusCode::BAD_GATEWAY, "Internal Server Error"),
            }
        }
        Ok(result) => {
            let result = result.buffered().await;
            if result.function_error {
                message(StatusCode::BAD_GATEWAY, "Internal Server Error")
            } else {
                map_response(&result.body)
                    .unwrap_or_else(|| message(StatusCode::BAD_GATEWAY, "Internal Server Error"))
            }
        }
        Err(error) if error.kind == ErrorType::TooManyRequests => {
            message(StatusCode::TOO_MANY_REQUESTS, "Rate Exceeded.")
        }
        Err(error) => message(StatusCode::BAD_GATEWAY, &error.message),
    };
    respond(response)
}

/// A `RESPONSE_STREAM` URL's answer, sent as the function writes it. An HTTP integration
/// response starts with a JSON prelude (status, headers, cookies) and 8 NUL bytes.
async fn streamed(mut stream: Streamed) -> Response {
    const HTTP_INTEGRATION: &str = "application/vnd.awslambda.http-integration-response";
    let mut status = StatusCode::OK;
    let mut headers = HeaderMap::new();
    let mut first = Vec::new();
    if stream.content_type == HTTP_INTEGRATION {
        let mut head = Vec::new();
        let body_start = loop {
            match stream.chunks.recv().await {
                Some(Chunk::Data(data)) => head.extend_from_slice(&data),
                Some(Chunk::Failed(_)) | None => {
                    return message(StatusCode::BAD_GATEWAY, "Internal Server Error");
                }
            }
            if let Some(at) = head.windows(8).position(|w| w == [0; 8]) {
                break at;
            }
        };
        let Ok(prelude) = serde_json::from_slice::<Value>(&head[..body_start]) else {
            return message(StatusCode::BAD_GATEWAY, "Internal Server Error");
        };
        let code = prelude["statusCode"].as_u64().and_then(|c| u16::try_from(c).ok());
        status = code.and_then(|c| StatusCode::from_u16(c).ok()).unwrap_or(StatusCode::OK);
        for (name, value) in prelude["headers"].as_object().into_iter().flatten() {
            if let (Ok(name), Some(Ok(value))) =
                (HeaderName::try_from(name.as_str()), value.as_str().map(HeaderValue::try_from))
            {
                headers.insert(name, value);
            }
        }
        for cookie in prelude["cookies"].as_array().into_iter().flatten() {
            if let Some(Ok(value)) = cookie.as_str().map(HeaderValue::try_from) {
                headers.append("set-cookie", value);
            }
        }
        first = head[body_start + 8..].to_vec();
    } else if let Ok(value) = HeaderValue::try_from(stream.content_type.as_str()) {
        headers.insert("content-type", value);
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(16);
    tokio::spawn(async move {
        if !first.is_empty() {
            let _ = tx.send(Ok(Bytes::from(first))).await;
        }
        while let Some(chunk) = stream.chunks.recv().await {
            match chunk {
                Chunk::Data(data) => {
                    if tx.send(Ok(data)).await.is_err() {
                        break;
                    }
                }
                // Mid-stream failure: the connection ends early, as on AWS.
                Chunk::Failed(_) => {
                    let _ = tx.send(Err(std::io::Error::other("the function failed"))).await;
                    break;
                }
            }
        }
    });
    let mut response = (status, Body::from_stream(crate::http::body_stream(rx))).into_response();
    response.headers_mut().extend(headers);
    response
}

/// `NONE`: the resource policy must let anyone call the URL and invoke through it. `AWS_IAM`:
/// a valid SigV4 signature for `lambda` in the engine's region by a key the engine knows (its
/// own account's, so no resource policy is needed). Returns `requestContext.authorizer`, or the
/// body of the 403.
fn authorize(
    state: &EngineState,
    function: &crate::store::Function,
    key: &str,
    url: &UrlConfig,
    parts: &axum::http::request::Parts,
    body: &[u8],
) -> Result<Value, Value> {
    if url.auth_type == "NONE" {
        let statements = function.policies.get(key).map_or(&[][..], Vec::as_slice);
        let url_context = [("lambda:FunctionUrlAuthType", "NONE")];
        let invoke_context =
            [("lambda:FunctionUrlAuthType", "NONE"), ("lambda:InvokedViaFunctionUrl", "true")];
        let allowed =
            crate::policy::allows_anyone(statements, "lambda:InvokeFunctionUrl", &url_context)
                && crate::policy::allows_anyone(
                    statements,
                    "lambda:InvokeFunction",
                    &invoke_context,
                );
        return if allowed { Ok(Value::Null) } else { Err(json!({ "Message": FORBIDDEN })) };
    }
    let signed = crate::sigv4::SignedRequest {
        method: &parts.method,
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or_default(),
        headers: &parts.headers,
        body,
    };
    let caller =
        crate::sigv4::verify(&signed, &state.config.credentials, time::OffsetDateTime::now_utc())
            .map_err(|error| match error {
            crate::sigv4::SignatureError::Missing => json!({ "Message": "Forbidden" }),
            invalid => json!({ "message": invalid.message() }),
        })?;
    if caller.service != "lambda" || caller.region != state.config.region {
        return Err(json!({ "Message": FORBIDDEN }));
    }
    let account = &state.config.account_id;
    Ok(json!({ "iam": {
        "accessKey": caller.access_key,
        "accountId": account,
        "callerId": account,
        "cognitoIdentity": null,
        "principalOrgId": null,
        "userArn": format!("arn:aws:iam::{account}:root"),
        "userId": account,
    }}))
}

/// Removes the Lambdaport console's cookies (`lambdaport.*`, also `__Host-`/`__Secure-`
/// prefixed) from a request for a function. Browsers do not separate cookies by port, so the
/// console's session cookie for `127.0.0.1:3000` also comes with a request to
/// `127.0.0.1:4010/lambda-url/…`: a function must never see it.
pub fn strip_console_cookies(headers: &mut HeaderMap) {
    let is_console = |cookie: &str| {
        let name = cookie.split('=').next().unwrap_or_default().trim();
        let name =
            name.strip_prefix("__Host-").or_else(|| name.strip_prefix("__Secure-")).unwrap_or(name);
        name.starts_with("lambdaport.")
    };
    let kept: Vec<String> = headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .map(str::trim)
        .filter(|c| !c.is_empty() && !is_console(c))
        .map(str::to_owned)
        .collect();
    headers.remove("cookie");
    if !kept.is_empty()
        && let Ok(value) = HeaderValue::try_from(kept.join("; "))
    {
        headers.insert("cookie", value);
    }
}

/// The payload format 2.0 event for one request.
fn event(
    state: &EngineState,
    id: &str,
    path: &str,
    parts: &axum::http::request::Parts,
    body: &[u8],
    authorizer: Value,
    source_ip: Option<&str>,
) -> Value {
    let mut headers = Map::new();
    for name in parts.headers.keys() {
        let joined = parts
            .headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect::<Vec<_>>()
            .join(",");
        headers.insert(name.as_str().to_owned(), json!(joined));
    }
    let request_id = uuid::Uuid::new_v4().to_string();
    let domain = format!("{id}.lambda-url.{}.localhost", state.config.region);
    let source_ip = source_ip.unwrap_or("127.0.0.1");
    headers.entry("x-forwarded-for").or_insert_with(|| json!(source_ip));
    headers.entry("x-forwarded-proto").or_insert_with(|| json!("http"));
    headers
        .entry("x-forwarded-port")
        .or_insert_with(|| json!(state.config.listen.port().to_string()));
    headers.entry("x-amzn-trace-id").or_insert_with(|| {
        json!(format!(
            "Root=1-{:08x}-{}",
            time::OffsetDateTime::now_utc().unix_timestamp(),
            &uuid::Uuid::new_v4().simple().to_string()[..24]
        ))
    });
    let user_agent =
        parts.headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let now = time::OffsetDateTime::now_utc();
    let clf = time::macros::format_description!(
        "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"
    );
    let raw_query = parts.uri.query().unwrap_or_default();
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": if authorizer.is_null() { "anonymous".to_owned() } else { state.config.account_id.clone() },
            "apiId": id,
            "authorizer": authorizer,
            "domainName": domain,
            "domainPrefix": id,
            "http": {
                "method": parts.method.as_str(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": user_agent,
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": now.format(&clf).unwrap_or_default(),
            "timeEpoch": now.unix_timestamp_nanos() / 1_000_000,
        },
        "isBase64Encoded": false,
    });
    if event["requestContext"]["authorizer"].is_null()
        && let Some(context) = event["requestContext"].as_object_mut()
    {
        context.remove("authorizer");
    }
    let cookies: Vec<String> = parts
        .headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect();
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    if !raw_query.is_empty() {
        let mut params: Map<String, Value> = Map::new();
        for (key, value) in
            serde_urlencoded::from_str::<Vec<(String, String)>>(raw_query).unwrap_or_default()
        {
            match params.get_mut(&key) {
                Some(Value::String(existing)) => {
                    existing.push(',');
                    existing.push_str(&value);
                }
                _ => {
                    params.insert(key, json!(value));
                }
            }
        }
        event["queryStringParameters"] = Value::Object(params);
    }
    if !body.is_empty() {
        let content_type =
            parts.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
        match std::str::from_utf8(body) {
            Ok(text) if is_text(content_type) => event["body"] = json!(text),
            _ => {
                event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(body));
                event["isBase64Encoded"] = json!(true);
            }
        }
    }
    event
}

/// Content types whose bodies reach the function as text; everything else is base64.
fn is_text(content_type: &str) -> bool {
    let media = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    media.is_empty()
        || media.starts_with("text/")
        || ["json", "xml", "javascript", "x-www-form-urlencoded", "yaml", "graphql"]
            .iter()
            .any(|t| media.contains(t))
}

/// The function's result as HTTP, or `None` when it cannot be mapped (a 502).
fn map_response(result: &[u8]) -> Option<Response> {
    let value: Value = serde_json::from_slice(result).ok()?;
    let Some(status) = value.as_object().and_then(|o| o.get("statusCode")) else {
        // Any other JSON is the body of a 200.
        return Some(
            (StatusCode::OK, [("content-type", "application/json")], result.to_vec())
                .into_response(),
        );
    };
    let status = StatusCode::from_u16(u16::try_from(status.as_u64()?).ok()?).ok()?;
    let mut headers = HeaderMap::new();
    if let Some(map) = value["headers"].as_object() {
        for (name, v) in map {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Null => continue,
                other => other.to_string(),
            };
            headers.insert(
                HeaderName::try_from(name.as_str()).ok()?,
                HeaderValue::try_from(text).ok()?,
            );
        }
    }
    for cookie in value["cookies"].as_array().into_iter().flatten() {
        headers.append("set-cookie", HeaderValue::try_from(cookie.as_str()?).ok()?);
    }
    if !headers.contains_key("content-type") {
        headers.insert("content-type", HeaderValue::from_static("application/json"));
    }
    let body = match &value["body"] {
        Value::Null => Vec::new(),
        Value::String(text) if value["isBase64Encoded"] == true => {
            base64::engine::general_purpose::STANDARD.decode(text).ok()?
        }
        Value::String(text) => text.clone().into_bytes(),
        other => other.to_string().into_bytes(),
    };
    let mut response = (status, body).into_response();
    response.headers_mut().extend(headers);
    Some(response)
}

/// Answers a CORS preflight from the configuration, without invoking the function.
fn preflight(cors: Option<&Cors>) -> Response {
    let mut response = StatusCode::OK.into_response();
    let Some(cors) = cors else { return response };
    let headers = response.headers_mut();
    if let Some(methods) = &cors.allow_methods {
        set(headers, "access-control-allow-methods", &methods.join(","));
    }
    if let Some(allowed) = &cors.allow_headers {
        set(headers, "access-control-allow-headers", &allowed.join(","));
    }
    if let Some(age) = cors.max_age {
        set(headers, "access-control-max-age", &age.to_string());
    }
    response
}

/// Adds the configured CORS headers; the configuration wins over the function's own.
fn with_cors(
    mut response: Response,
    cors: Option<&Cors>,
    origin: Option<&HeaderValue>,
) -> Response {
    let Some(cors) = cors else { return response };
    let headers = response.headers_mut();
    let origins = cors.allow_origins.as_deref().unwrap_or_default();
    if let Some(origin) = origin.and_then(|o| o.to_str().ok()) {
        if origins.iter().any(|o| o == "*") {
            set(
                headers,
                "access-control-allow-origin",
                if cors.allow_credentials == Some(true) { origin } else { "*" },
            );
        } else if origins.iter().any(|o| o.eq_ignore_ascii_case(origin)) {
            set(headers, "access-control-allow-origin", origin);
            headers.append("vary", HeaderValue::from_static("Origin"));
        }
    }
    if cors.allow_credentials == Some(true) {
        set(headers, "access-control-allow-credentials", "true");
    }
    if let Some(expose) = &cors.expose_headers {
        set(headers, "access-control-expose-headers", &expose.join(","));
    }
    response
}

fn set(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::try_from(value) {
        headers.insert(name, value);
    }
}
