//! The HTTP tester: a request to a Function URL sent from the server — method, path, query,
//! headers, cookies, body — signed with SigV4 (service `lambda`) by the connection's credentials
//! when the URL's auth type is `AWS_IAM`. The raw answer comes back with its timing and, for a
//! streamed response, each chunk with when it arrived; a `curl` command reproduces the request.

use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};

use super::doctor::Call;
use super::live::{Ear, Heard};
use crate::connections::Connection;
use crate::error::{Error, Result};

/// The most of a response body the tester keeps.
const MAX_BODY: usize = 256 * 1024;

/// Methods a Function URL accepts.
pub const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// What the user asks to send.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct HttpRequest {
    pub method: String,
    /// The path after the URL's root, starting with `/`.
    pub path: String,
    /// The query string without `?`.
    pub query: String,
    pub headers: Vec<(String, String)>,
    /// The `Cookie` header's value: `a=1; b=2`.
    pub cookies: String,
    pub body: String,
}

impl HttpRequest {
    /// Checks the request before anything is sent.
    pub fn validate(&self) -> Result<()> {
        if !METHODS.contains(&self.method.as_str()) {
            return Err(Error::invalid("method", format!("one of {}", METHODS.join(", "))));
        }
        if !self.path.starts_with('/') || self.path.contains(['?', '#', ' ']) {
            return Err(Error::invalid(
                "path",
                "a path starting with / (without spaces, ? or #): put the query in Query",
            ));
        }
        for (name, value) in &self.headers {
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
            {
                return Err(Error::invalid("headers", format!("{name:?} is not a header name")));
            }
            if value.contains(['\r', '\n']) {
                return Err(Error::invalid(
                    "headers",
                    format!("the value of {name} has a line break"),
                ));
            }
            if name.eq_ignore_ascii_case("host") || name.eq_ignore_ascii_case("authorization") {
                return Err(Error::invalid(
                    "headers",
                    format!("{name} is set by the tester (the URL's host; the SigV4 signature)"),
                ));
            }
        }
        if self.cookies.contains(['\r', '\n']) {
            return Err(Error::invalid("cookies", "cookies on one line: a=1; b=2"));
        }
        if self.body.len() > 6 * 1024 * 1024 {
            return Err(Error::invalid("body", "a Function URL takes at most 6 MB"));
        }
        Ok(())
    }

    /// The full URL: the Function URL's root, the path and the query.
    pub fn target(&self, url: &str) -> String {
        let root = url.trim_end_matches('/');
        if self.query.is_empty() {
            format!("{root}{}", self.path)
        } else {
            format!("{root}{}?{}", self.path, self.query)
        }
    }

    /// Every header the request carries (the cookies as `Cookie`).
    fn all_headers(&self) -> Vec<(String, String)> {
        let mut headers = self.headers.clone();
        if !self.cookies.trim().is_empty() {
            headers.push(("cookie".to_owned(), self.cookies.trim().to_owned()));
        }
        headers
    }

    /// The Function URL event (payload 2.0) this request becomes, for the doctor's direct invoke.
    pub fn event(&self) -> serde_json::Value {
        let headers: serde_json::Map<String, serde_json::Value> = self
            .all_headers()
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), serde_json::Value::String(v)))
            .collect();
        let mut event = serde_json::json!({
            "version": "2.0", "routeKey": "$default", "rawPath": self.path,
            "rawQueryString": self.query, "headers": headers,
            "requestContext": { "http": { "method": self.method, "path": self.path,
                "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "lambdaport-doctor" } },
            "isBase64Encoded": false
        });
        if !self.body.is_empty() {
            event["body"] = self.body.clone().into();
        }
        // As the URL front-end does: repeated keys joined with `,`.
        let mut parameters = serde_json::Map::new();
        for (key, value) in reqwest::Url::parse(&format!("http://x/?{}", self.query))
            .map(|u| u.query_pairs().into_owned().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            match parameters.get_mut(&key) {
                Some(serde_json::Value::String(joined)) => {
                    joined.push(',');
                    joined.push_str(&value);
                }
                _ => {
                    parameters.insert(key, value.into());
                }
            }
        }
        if !parameters.is_empty() {
            event["queryStringParameters"] = parameters.into();
        }
        if !self.cookies.trim().is_empty() {
            event["cookies"] =
                self.cookies.split(';').map(|c| c.trim()).filter(|c| !c.is_empty()).collect();
        }
        event
    }
}

/// A chunk of a response body and when it arrived.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Chunk {
    pub at_ms: u64,
    pub bytes: usize,
    pub text: String,
}

/// What came back.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Exchange {
    pub call: Call,
    /// Time to the status line and headers.
    pub first_byte_ms: u64,
    pub chunks: Vec<Chunk>,
    pub signed: bool,
    /// The body was longer than the tester keeps.
    pub truncated: bool,
}

/// Resolves `*.localhost` to the loopback address (the engine's URLs), as browsers do.
fn client(url: &str, timeout: Duration) -> reqwest::Result<reqwest::Client> {
    let mut builder =
        reqwest::Client::builder().timeout(timeout).redirect(reqwest::redirect::Policy::none());
    if let Ok(parsed) = reqwest::Url::parse(url)
        && let (Some(host), Some(port)) = (parsed.host_str(), parsed.port_or_known_default())
        && host.ends_with(".localhost")
    {
        builder = builder.resolve(host, std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    }
    builder.build()
}

/// The SigV4 headers for a request, signed by the connection's credentials for `region`.
async fn signature(
    connection: &Connection,
    region: &str,
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<Vec<(String, String)>> {
    use aws_credential_types::provider::ProvideCredentials as _;
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let config = connection.sdk_config(region).await;
    let provider = config.credentials_provider().ok_or_else(|| {
        Error::Conflict("the connection has no credentials to sign the request with".into())
    })?;
    let credentials = provider.provide_credentials().await.map_err(|e| {
        Error::Conflict(format!("the connection's credentials could not be loaded: {e}"))
    })?;
    let identity = credentials.into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("lambda")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| Error::Internal(e.into()))?
        .into();
    let signable = SignableRequest::new(
        method,
        url,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .map_err(|e| Error::Internal(e.into()))?;
    let (instructions, _) =
        sign(signable, &params).map_err(|e| Error::Internal(e.into()))?.into_parts();
    Ok(instructions.headers().map(|(k, v)| (k.to_owned(), v.to_owned())).collect())
}

/// Sends the request to `url` (the Function URL's root), signed for `region` when `sign` is set,
/// and waits at most `timeout` for the whole answer.
pub async fn send(
    connection: &Connection,
    region: &str,
    url: &str,
    request: &HttpRequest,
    sign: bool,
    timeout: Duration,
    ear: &Ear,
) -> Result<Exchange> {
    request.validate()?;
    let target = request.target(url);
    let mut headers = request.all_headers();
    if sign {
        let host = reqwest::Url::parse(&target)
            .ok()
            .and_then(|u| {
                u.host_str().map(|h| match u.port() {
                    Some(port) => format!("{h}:{port}"),
                    None => h.to_owned(),
                })
            })
            .unwrap_or_default();
        let mut signed_headers = headers.clone();
        signed_headers.push(("host".to_owned(), host));
        let signature = signature(
            connection,
            region,
            &request.method,
            &target,
            &signed_headers,
            request.body.as_bytes(),
        )
        .await?;
        headers.extend(signature);
    }
    let body = request.body.clone();
    Ok(exchange(&target, &request.method, &headers, body, sign, timeout, ear).await)
}

/// Sends the request unsigned (a browser's preflight) and keeps the raw exchange.
pub async fn send_unsigned(url: &str, request: &HttpRequest, timeout: Duration) -> Call {
    let headers = request.all_headers();
    let (target, body) = (request.target(url), request.body.clone());
    exchange(&target, &request.method, &headers, body, false, timeout, &Ear::default()).await.call
}

/// Sends `GET url` unsigned and keeps the raw exchange (the lab's step 6).
pub async fn send_get(url: &str, timeout: Duration) -> Call {
    exchange(url, "GET", &[], String::new(), false, timeout, &Ear::default()).await.call
}

async fn exchange(
    url: &str,
    method: &str,
    headers: &[(String, String)],
    body: String,
    signed: bool,
    timeout: Duration,
    ear: &Ear,
) -> Exchange {
    let started = Instant::now();
    let elapsed = || u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let mut exchange = Exchange {
        call: Call { url: url.to_owned(), ..Call::default() },
        signed,
        ..Exchange::default()
    };
    let client = match client(url, timeout) {
        Ok(client) => client,
        Err(error) => {
            exchange.call.error = Some(error.to_string());
            return exchange;
        }
    };
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut builder = client.request(method, url);
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    if !body.is_empty() {
        builder = builder.body(body);
    }
    match builder.send().await {
        Ok(mut response) => {
            exchange.first_byte_ms = elapsed();
            let status = response.status();
            let call = &mut exchange.call;
            call.status = status.as_u16();
            call.status_line = format!(
                "{:?} {} {}",
                response.version(),
                status.as_u16(),
                status.canonical_reason().unwrap_or("")
            )
            .trim_end()
            .to_owned();
            ear.hear(Heard::Head {
                status_line: call.status_line.clone(),
                first_byte_ms: exchange.first_byte_ms,
            });
            call.headers = response
                .headers()
                .iter()
                .map(|(k, v)| {
                    (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned())
                })
                .collect();
            let mut body = Vec::new();
            loop {
                match response.chunk().await {
                    Ok(Some(chunk)) => {
                        let room = MAX_BODY.saturating_sub(body.len());
                        exchange.truncated |= chunk.len() > room;
                        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                        let chunk = Chunk {
                            at_ms: elapsed(),
                            bytes: chunk.len(),
                            text: String::from_utf8_lossy(&chunk[..chunk.len().min(1024)])
                                .into_owned(),
                        };
                        ear.hear(Heard::Chunk(chunk.clone()));
                        exchange.chunks.push(chunk);
                    }
                    Ok(None) => break,
                    Err(error) => {
                        exchange.call.error = Some(format!("the body could not be read: {error}"));
                        break;
                    }
                }
            }
            exchange.call.body = String::from_utf8_lossy(&body).into_owned();
        }
        Err(error) if error.is_timeout() => {
            exchange.call.error = Some(format!("no response within {} s", timeout.as_secs()));
        }
        Err(error) => {
            exchange.call.error = Some(format!(
                "the request failed: {}",
                std::error::Error::source(&error)
                    .map_or_else(|| error.to_string(), ToString::to_string)
            ));
        }
    }
    exchange.call.millis = elapsed();
    exchange
}

/// Quotes a word for a POSIX shell.
fn quoted(word: &str) -> String {
    if !word.is_empty()
        && word.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+%".contains(&b))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// A `curl` command that sends the same request: `--aws-sigv4` with the credentials from the
/// environment when the URL is `AWS_IAM`; `--resolve` for an engine's `*.localhost` URL where
/// the curl in use does not resolve those itself.
pub fn curl(url: &str, request: &HttpRequest, sign_region: Option<&str>) -> String {
    let target = request.target(url);
    let mut parts = vec!["curl".to_owned(), "-sS".to_owned(), "-i".to_owned()];
    if request.method == "HEAD" {
        parts.push("-I".to_owned());
    } else if request.method != "GET" || !request.body.is_empty() {
        parts.extend(["-X".to_owned(), quoted(&request.method)]);
    }
    if let Some(region) = sign_region {
        parts.push("--aws-sigv4".to_owned());
        parts.push(quoted(&format!("aws:amz:{region}:lambda")));
        parts.push("--user".to_owned());
        parts.push("\"$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY\"".to_owned());
    }
    for (name, value) in &request.headers {
        parts.push("-H".to_owned());
        parts.push(quoted(&format!("{name}: {value}")));
    }
    if !request.cookies.trim().is_empty() {
        parts.push("-b".to_owned());
        parts.push(quoted(request.cookies.trim()));
    }
    if !request.body.is_empty() {
        parts.push("--data-binary".to_owned());
        parts.push(quoted(&request.body));
    }
    parts.push(quoted(&target));
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> HttpRequest {
        HttpRequest {
            method: "POST".into(),
            path: "/orders/7".into(),
            query: "dry=1&x=a%20b".into(),
            headers: vec![("content-type".into(), "application/json".into())],
            cookies: "session=abc; theme=dark".into(),
            body: r#"{"it's": 1}"#.into(),
        }
    }

    #[test]
    fn curl_quotes_what_the_shell_would_split() {
        assert_eq!(
            curl("http://u.lambda-url.us-east-1.localhost:4010/", &request(), Some("us-east-1")),
            "curl -sS -i -X POST --aws-sigv4 aws:amz:us-east-1:lambda --user \"$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY\" \
             -H 'content-type: application/json' -b 'session=abc; theme=dark' --data-binary '{\"it'\\''s\": 1}' \
             'http://u.lambda-url.us-east-1.localhost:4010/orders/7?dry=1&x=a%20b'"
        );
    }

    #[test]
    fn requests_are_checked_before_they_are_sent() {
        assert!(request().validate().is_ok());
        let bad = |f: fn(&mut HttpRequest)| {
            let mut r = request();
            f(&mut r);
            r.validate().unwrap_err().to_string()
        };
        assert!(bad(|r| r.method = "TRACE".into()).contains("method"));
        assert!(bad(|r| r.path = "orders".into()).contains("path"));
        assert!(
            bad(|r| r.headers.push(("x-a".into(), "1\r\nx-b: 2".into()))).contains("line break")
        );
        assert!(
            bad(|r| r.headers.push(("Authorization".into(), "x".into()))).contains("signature")
        );
        let event = request().event();
        assert_eq!(event["cookies"], serde_json::json!(["session=abc", "theme=dark"]));
        assert_eq!(event["requestContext"]["http"]["method"], "POST");
        assert_eq!(event["queryStringParameters"], serde_json::json!({ "dry": "1", "x": "a b" }));
        let repeated = HttpRequest { query: "k=1&k=2".into(), ..request() }.event();
        assert_eq!(repeated["queryStringParameters"]["k"], "1,2");
    }
}
