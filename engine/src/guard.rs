//! Only the engine's real clients drive it. A web page the developer happens to visit can send
//! requests to `127.0.0.1:4010` too ("simple" cross-origin requests need no preflight), and with
//! DNS rebinding read the answers; a request is refused, with an AWS-shaped 403, when
//! - its `Host` is not one the engine serves: a loopback name or the listen address with the
//!   engine's port, `<url-id>.lambda-url.<region>.localhost`, or a configured name;
//! - its `Origin` (or `Sec-Fetch-Site`) says a browser sent it from another site, unless that
//!   origin is configured (Function URLs excepted: their CORS configuration decides, as on AWS);
//! - it is a JSON API call with a content type a browser may send cross-site without asking
//!   (`text/plain`, a form, `multipart/form-data`).
//!
//! The AWS CLI, boto3 and the SDKs send none of these, so they are unaffected.

use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::EngineConfig;

/// Why a request was refused.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal(String);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (
            StatusCode::FORBIDDEN,
            [("x-amzn-ErrorType", "AccessDeniedException"), ("content-type", "application/json")],
            json!({ "Type": "User", "Message": self.0 }).to_string(),
        )
            .into_response()
    }
}

/// Checks a request before anything else sees it. `function_url` says whether it is for a
/// Function URL (by host or by the `/lambda-url/` path).
pub fn check(
    config: &EngineConfig,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    function_url: bool,
) -> Result<(), Refusal> {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !serves_host(config, host) {
        return Err(Refusal(format!(
            "This engine does not serve the host {host:?}. Call it at http://{}, or start it with --allow-host NAME.",
            config.listen
        )));
    }
    if function_url {
        return Ok(());
    }
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let own_origin = format!("http://{host}");
    let allowed = |origin: &str| {
        origin == own_origin || config.allowed_origins.iter().any(|allowed| allowed == origin)
    };
    match (origin, fetch_site) {
        (Some(origin), _) if !allowed(origin) => {
            return Err(Refusal(format!(
                "Requests from the web page at {origin} are refused: this engine's API is for AWS clients. Start it with --allow-origin {origin} to let that page call it."
            )));
        }
        (None, Some("cross-site" | "same-site")) => {
            return Err(Refusal(
                "Requests a browser sends from another site are refused: this engine's API is for AWS clients.".to_owned(),
            ));
        }
        _ => {}
    }
    // IAM and STS are form posts to `/` (the query protocol); everything else speaks JSON.
    let query_protocol =
        method == Method::POST && path == "/" && !headers.contains_key("x-amz-target");
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
    if !query_protocol
        && let Some(kind) = content_type
        && matches!(
            kind.as_str(),
            "text/plain" | "application/x-www-form-urlencoded" | "multipart/form-data"
        )
    {
        return Err(Refusal(format!(
            "Content-Type {kind} is not accepted for this API: send application/json (with curl: -H 'Content-Type: application/json')."
        )));
    }
    Ok(())
}

/// Whether `host` (a `Host` header) names this engine.
fn serves_host(config: &EngineConfig, host: &str) -> bool {
    let (name, port) = match host.rsplit_once(':') {
        // `[::1]:4010`, `127.0.0.1:4010`, `name:4010`; a bare IPv6 literal has no port.
        Some((name, port)) if !name.ends_with(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            (name, port.parse::<u16>().ok())
        }
        _ => (host, None),
    };
    if name.is_empty() {
        return false;
    }
    let name = name.to_ascii_lowercase();
    if config.allowed_hosts.iter().any(|allowed| allowed.eq_ignore_ascii_case(&name)) {
        return true;
    }
    let listen = config.listen;
    let our_port = port.unwrap_or(80) == listen.port();
    let loopback = matches!(name.as_str(), "localhost" | "127.0.0.1" | "[::1]");
    let listen_ip = !listen.ip().is_unspecified()
        && (name == listen.ip().to_string() || name == format!("[{}]", listen.ip()));
    let url_suffix = format!(".lambda-url.{}.localhost", config.region);
    let function_url = name
        .strip_suffix(&url_suffix)
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()));
    our_port && (loopback || listen_ip || function_url)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn config() -> EngineConfig {
        EngineConfig::new("127.0.0.1:4010".parse().expect("addr"), "/nonexistent".into())
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn serves_its_own_names_only() {
        let config = config();
        for host in [
            "127.0.0.1:4010",
            "localhost:4010",
            "[::1]:4010",
            "abc123.lambda-url.us-east-1.localhost:4010",
        ] {
            assert!(serves_host(&config, host), "{host}");
        }
        for host in [
            "",
            "evil.example:4010",
            "127.0.0.1:3000",
            "localhost",
            "abc.lambda-url.eu-west-1.localhost:4010",
            "a.b.lambda-url.us-east-1.localhost:4010",
            "127.0.0.1.evil.example:4010",
        ] {
            assert!(!serves_host(&config, host), "{host}");
        }
        let mut config = config;
        config.allowed_hosts.push("lambda.internal".to_owned());
        assert!(serves_host(&config, "lambda.internal:8443"));
    }

    #[test]
    fn refuses_cross_site_browsers_and_simple_content_types() {
        let config = config();
        let post = Method::POST;
        let ok =
            |h: &[(&'static str, &'static str)]| check(&config, &post, "/", &headers(h), false);
        assert!(ok(&[("host", "127.0.0.1:4010"), ("content-type", "application/json")]).is_ok());
        assert!(ok(&[("host", "127.0.0.1:4010"), ("origin", "http://evil.example")]).is_err());
        assert!(ok(&[("host", "127.0.0.1:4010"), ("origin", "null")]).is_err());
        assert!(ok(&[("host", "127.0.0.1:4010"), ("sec-fetch-site", "cross-site")]).is_err());
        assert!(ok(&[("host", "evil.example:4010")]).is_err());
        assert!(
            ok(&[
                ("host", "127.0.0.1:4010"),
                ("x-amz-target", "Logs_20140328.GetLogEvents"),
                ("content-type", "text/plain")
            ])
            .is_err()
        );
        // IAM and STS are form posts; only browsers' origins are refused there.
        let form =
            [("host", "127.0.0.1:4010"), ("content-type", "application/x-www-form-urlencoded")];
        assert!(ok(&form).is_ok());
        // Function URLs: CORS decides, not this guard.
        let url = headers(&[("host", "127.0.0.1:4010"), ("origin", "http://app.example")]);
        assert!(check(&config, &post, "/lambda-url/x/", &url, true).is_ok());
        let mut config = config.clone();
        config.allowed_origins.push("http://app.example".to_owned());
        assert!(check(&config, &post, "/", &url, false).is_ok());
    }

    #[test]
    fn refuses_text_plain_on_the_rest_api() {
        let config = config();
        let put = Method::PUT;
        let h =
            headers(&[("host", "127.0.0.1:4010"), ("content-type", "text/plain;charset=UTF-8")]);
        assert!(check(&config, &put, "/2015-03-31/functions/f/code", &h, false).is_err());
        let post = Method::POST;
        assert!(check(&config, &post, "/2015-03-31/functions", &h, false).is_err());
    }
}
