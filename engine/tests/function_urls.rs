//! Function URLs end to end over real HTTP and real runtimes: curl by host and by path, the
//! payload 2.0 event and AWS's response mapping, CORS, `AWS_IAM` signatures (signed by
//! aws-sigv4 and by botocore), throttling, versions and weighted aliases, and
//! `--require-signature` for the API.

use std::process::Command;

use reqwest::StatusCode;
use serde_json::{Value, json};

mod common;

const ECHO: &str = r#"
import base64, json, os

def handler(event, context):
    mode = (event.get("queryStringParameters") or {}).get("mode")
    if mode == "raise":
        raise ValueError("boom")
    if mode == "unmappable":
        return {"statusCode": "two hundred"}
    if mode == "plain":
        return "Hello"
    if mode == "binary":
        return {"statusCode": 200, "headers": {"content-type": "application/octet-stream"},
                "body": base64.b64encode(bytes(range(256))).decode(), "isBase64Encoded": True}
    return {"statusCode": 201, "headers": {"content-type": "application/json", "x-echo": "yes"},
            "cookies": ["a=1; Path=/", "b=2"],
            "body": json.dumps({"event": event, "version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"]})}
"#;

const LAB: &str = "def lambda_handler(event, context):\n    return {\"statusCode\": 200, \"headers\": {\"content-type\": \"text/plain; charset=utf-8\"}, \"body\": \"ok\\n\"}\n";

impl common::Running {
    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> reqwest::Response {
        let request = self.client.request(method, format!("{}{path}", self.base));
        let request = if body.is_null() { request } else { request.json(&body) };
        request.send().await.expect("request")
    }

    /// Creates a function from one Python file and returns nothing; panics unless 201.
    async fn python_function(&self, name: &str, file: &str, source: &str, handler: &str) {
        let created = self
            .call(
                reqwest::Method::POST,
                "/2015-03-31/functions",
                json!({
                    "FunctionName": name, "Runtime": "python3.12", "Handler": handler,
                    "Role": "arn:aws:iam::000000000000:role/lambda-role",
                    "Code": { "ZipFile": common::zip_of(&[(file, source)]) },
                }),
            )
            .await;
        assert_eq!(created.status(), StatusCode::CREATED, "{:?}", created.text().await);
    }

    /// A `NONE` URL with both public statements (qualifier optional); returns (URL, id).
    async fn public_url(
        &self,
        name: &str,
        qualifier: Option<&str>,
        cors: Value,
    ) -> (String, String) {
        let query = qualifier.map(|q| format!("?Qualifier={q}")).unwrap_or_default();
        let mut config = json!({ "AuthType": "NONE" });
        if !cors.is_null() {
            config["Cors"] = cors;
        }
        let url = self
            .call(
                reqwest::Method::POST,
                &format!("/2021-10-31/functions/{name}/url{query}"),
                config,
            )
            .await;
        assert_eq!(url.status(), StatusCode::CREATED);
        let url: Value = url.json().await.expect("json");
        let policy = format!("/2015-03-31/functions/{name}/policy{query}");
        for statement in [
            json!({ "StatementId": "url", "Action": "lambda:InvokeFunctionUrl", "Principal": "*", "FunctionUrlAuthType": "NONE" }),
            json!({ "StatementId": "invoke", "Action": "lambda:InvokeFunction", "Principal": "*", "InvokedViaFunctionUrl": true }),
        ] {
            let added = self.call(reqwest::Method::POST, &policy, statement).await;
            assert_eq!(added.status(), StatusCode::CREATED);
        }
        let function_url = url["FunctionUrl"].as_str().expect("url").to_owned();
        let id = function_url["http://".len()..].split('.').next().expect("id").to_owned();
        (function_url, id)
    }

    /// A request to the URL `id` through the path form.
    fn url_request(
        &self,
        method: reqwest::Method,
        id: &str,
        rest: &str,
    ) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}/lambda-url/{id}{rest}", self.base))
    }

    async fn reports(&self, name: &str) -> usize {
        let logs = self
            .client
            .post(format!("{}/", self.base))
            .header("X-Amz-Target", "Logs_20140328.FilterLogEvents")
            .header("Content-Type", "application/x-amz-json-1.1")
            .body(
                json!({ "logGroupName": format!("/aws/lambda/{name}"), "filterPattern": "REPORT" })
                    .to_string(),
            )
            .send()
            .await
            .expect("logs");
        let logs: Value = logs.json().await.expect("json");
        logs["events"].as_array().map_or(0, Vec::len)
    }
}

fn curl(args: &[&str]) -> String {
    let output = Command::new("curl").args(["-s", "-i", "--max-time", "30"]).args(args).output();
    let output = output.expect("curl runs");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn curl_reaches_the_lab_url_by_host_and_by_path() {
    let engine = common::start_in(common::temp_dir(), |_| {}).await;
    engine
        .python_function("lab", "lambda_function.py", LAB, "lambda_function.lambda_handler")
        .await;
    let (url, id) = engine.public_url("lab", None, Value::Null).await;
    let port = engine.base.rsplit(':').next().expect("port").to_owned();
    assert_eq!(url, format!("http://{id}.lambda-url.us-east-1.localhost:{port}/"));
    assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));

    let url_for_curl = url.clone();
    let by_host = tokio::task::spawn_blocking(move || curl(&[&url_for_curl])).await.expect("join");
    assert!(by_host.starts_with("HTTP/1.1 200"), "{by_host}");
    assert!(by_host.to_ascii_lowercase().contains("content-type: text/plain"), "{by_host}");
    assert!(by_host.ends_with("\r\n\r\nok\n"), "{by_host}");
    assert!(
        !by_host.to_ascii_lowercase().contains("\nallow:"),
        "no API routing headers leak: {by_host}"
    );
    let path_form = format!("{}/lambda-url/{id}/", engine.base);
    let by_path = tokio::task::spawn_blocking(move || curl(&[&path_form])).await.expect("join");
    assert!(by_path.starts_with("HTTP/1.1 200") && by_path.ends_with("ok\n"), "{by_path}");
    std::fs::remove_dir_all(&engine.data_dir).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_and_responses_map_as_aws_maps_them() {
    let engine = common::start_in(common::temp_dir(), |_| {}).await;
    engine.python_function("echo", "echo.py", ECHO, "echo.handler").await;
    let (_, id) = engine.public_url("echo", None, Value::Null).await;

    let response = engine
        .url_request(reqwest::Method::POST, &id, "/some/path?a=1&a=2&b=x%20y")
        .header("cookie", "c1=v1; c2=v2")
        .header("x-multi", "one")
        .header("content-type", "text/plain")
        .body("hello body")
        .send()
        .await
        .expect("call");
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["x-echo"], "yes");
    let cookies: Vec<_> = response.headers().get_all("set-cookie").iter().collect();
    assert_eq!(cookies, ["a=1; Path=/", "b=2"]);
    let body: Value = response.json().await.expect("json");
    let event = &body["event"];
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["rawPath"], "/some/path");
    assert_eq!(event["rawQueryString"], "a=1&a=2&b=x%20y");
    assert_eq!(event["queryStringParameters"], json!({ "a": "1,2", "b": "x y" }));
    assert_eq!(event["cookies"], json!(["c1=v1", "c2=v2"]));
    assert_eq!(event["headers"]["x-multi"], "one");
    assert_eq!(event["body"], "hello body");
    assert_eq!(event["isBase64Encoded"], false);
    let context = &event["requestContext"];
    assert_eq!(context["http"]["method"], "POST");
    assert_eq!(context["http"]["path"], "/some/path");
    assert_eq!(context["http"]["sourceIp"], "127.0.0.1");
    assert_eq!(context["apiId"], id.as_str());
    assert_eq!(context["domainName"], format!("{id}.lambda-url.us-east-1.localhost"));
    assert!(context["timeEpoch"].as_i64().is_some_and(|t| t > 1_700_000_000_000), "{context}");
    assert!(context["time"].as_str().is_some_and(|t| t.ends_with(" +0000")), "{context}");
    assert!(context.get("authorizer").is_none(), "NONE URLs have no authorizer: {context}");

    let binary: Vec<u8> = (0..=255).collect();
    let response = engine
        .url_request(reqwest::Method::PUT, &id, "/")
        .header("content-type", "application/octet-stream")
        .body(binary.clone())
        .send()
        .await
        .expect("call");
    let body: Value = response.json().await.expect("json");
    use base64::Engine as _;
    assert_eq!(body["event"]["isBase64Encoded"], true);
    let sent = body["event"]["body"].as_str().expect("body");
    assert_eq!(base64::engine::general_purpose::STANDARD.decode(sent).expect("b64"), binary);

    let get = |mode: &'static str| engine.url_request(reqwest::Method::GET, &id, mode).send();
    let binary_out = get("/?mode=binary").await.expect("call");
    assert_eq!(binary_out.headers()["content-type"], "application/octet-stream");
    assert_eq!(binary_out.bytes().await.expect("bytes").to_vec(), binary);
    let plain = get("/?mode=plain").await.expect("call");
    assert_eq!(plain.status(), StatusCode::OK);
    assert_eq!(plain.headers()["content-type"], "application/json");
    assert_eq!(plain.text().await.expect("text"), "\"Hello\"");
    for mode in ["/?mode=raise", "/?mode=unmappable"] {
        let failed = get(mode).await.expect("call");
        assert_eq!(failed.status(), StatusCode::BAD_GATEWAY, "{mode}");
        assert_eq!(failed.json::<Value>().await.expect("json")["Message"], "Internal Server Error");
    }

    // Reserved concurrency 0 switches the URL off with 429s.
    let throttled = engine
        .call(
            reqwest::Method::PUT,
            "/2017-10-31/functions/echo/concurrency",
            json!({ "ReservedConcurrentExecutions": 0 }),
        )
        .await;
    assert_eq!(throttled.status(), StatusCode::OK);
    assert_eq!(get("/").await.expect("call").status(), StatusCode::TOO_MANY_REQUESTS);

    let unknown = engine.url_request(reqwest::Method::GET, "0123456789abcdefghij0123456789ab", "/");
    assert_eq!(unknown.send().await.expect("call").status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn cors_preflights_are_answered_without_invoking() {
    let engine = common::start_in(common::temp_dir(), |_| {}).await;
    engine.python_function("cors", "echo.py", ECHO, "echo.handler").await;
    let cors = json!({
        "AllowOrigins": ["https://app.example"], "AllowMethods": ["GET", "POST"],
        "AllowHeaders": ["x-custom"], "ExposeHeaders": ["x-echo"], "MaxAge": 300,
    });
    let (_, id) = engine.public_url("cors", None, cors).await;
    let preflight = engine
        .url_request(reqwest::Method::OPTIONS, &id, "/")
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .expect("preflight");
    assert_eq!(preflight.status(), StatusCode::OK);
    let headers = preflight.headers();
    assert_eq!(headers["access-control-allow-origin"], "https://app.example");
    assert_eq!(headers["access-control-allow-methods"], "GET,POST");
    assert_eq!(headers["access-control-allow-headers"], "x-custom");
    assert_eq!(headers["access-control-max-age"], "300");
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(engine.reports("cors").await, 0, "a preflight does not invoke the function");

    let call = engine
        .url_request(reqwest::Method::GET, &id, "/")
        .header("origin", "https://app.example")
        .send()
        .await
        .expect("call");
    assert_eq!(call.headers()["access-control-allow-origin"], "https://app.example");
    assert_eq!(call.headers()["access-control-expose-headers"], "x-echo");
    let stranger = engine
        .url_request(reqwest::Method::GET, &id, "/")
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("call");
    assert!(stranger.headers().get("access-control-allow-origin").is_none());

    let bad = engine
        .call(
            reqwest::Method::PUT,
            "/2021-10-31/functions/cors/url",
            json!({ "Cors": { "MaxAge": 100_000 } }),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_eq!(bad.headers()["x-amzn-errortype"], "InvalidParameterValueException");
}

#[tokio::test(flavor = "multi_thread")]
async fn aws_iam_urls_need_a_valid_signature() {
    let engine = common::start_in(common::temp_dir(), |_| {}).await;
    engine.python_function("private", "echo.py", ECHO, "echo.handler").await;
    let created = engine
        .call(
            reqwest::Method::POST,
            "/2021-10-31/functions/private/url",
            json!({ "AuthType": "AWS_IAM" }),
        )
        .await;
    let created: Value = created.json().await.expect("json");
    let id = created["FunctionUrl"].as_str().expect("url")["http://".len()..]
        .split('.')
        .next()
        .expect("id")
        .to_owned();
    let url = format!("{}/lambda-url/{id}/hello?x=1", engine.base);

    let unsigned = engine.client.get(&url).send().await.expect("call");
    assert_eq!(unsigned.status(), StatusCode::FORBIDDEN);

    let send_signed = |secret: &'static str, service: &'static str| {
        let mut request = engine.client.get(&url);
        for (name, value) in common::sigv4_headers("GET", &url, b"", secret, service) {
            request = request.header(name, value);
        }
        request.send()
    };
    let signed = send_signed("test", "lambda").await.expect("call");
    assert_eq!(signed.status(), StatusCode::CREATED);
    let body: Value = signed.json().await.expect("json");
    let iam = &body["event"]["requestContext"]["authorizer"]["iam"];
    assert_eq!(iam["accessKey"], "test", "{body}");
    assert_eq!(iam["accountId"], "000000000000");
    assert_eq!(send_signed("wrong", "lambda").await.expect("call").status(), StatusCode::FORBIDDEN);
    assert_eq!(send_signed("test", "s3").await.expect("call").status(), StatusCode::FORBIDDEN);

    // botocore's signer, as boto3 users sign URL calls.
    let script = r#"
import sys, urllib.request
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
url = sys.argv[1]
request = AWSRequest(method="POST", url=url, data=b'{"signed": true}', headers={"content-type": "application/json"})
SigV4Auth(Credentials("test", "test"), "lambda", "us-east-1").add_auth(request)
prepared = request.prepare()
reply = urllib.request.urlopen(urllib.request.Request(url, data=prepared.body, headers=dict(prepared.headers), method="POST"))
print(reply.status)
"#;
    let url_for_python = url.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("python3").arg("-c").arg(script).arg(url_for_python).output()
    })
    .await
    .expect("join")
    .expect("python runs");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "201",
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn aliases_route_by_weight_and_versions_are_frozen() {
    let engine = common::start_in(common::temp_dir(), |_| {}).await;
    engine.python_function("versioned", "echo.py", ECHO, "echo.handler").await;
    let publish = async || -> Value {
        let published = engine
            .call(reqwest::Method::POST, "/2015-03-31/functions/versioned/versions", json!({}))
            .await;
        assert_eq!(published.status(), StatusCode::CREATED);
        published.json().await.expect("json")
    };
    let v1 = publish().await;
    assert_eq!(v1["Version"], "1");
    assert_eq!(v1["FunctionArn"], "arn:aws:lambda:us-east-1:000000000000:function:versioned:1");
    assert_eq!(publish().await["Version"], "1", "an unchanged $LATEST is the same version");
    let changed = engine
        .call(
            reqwest::Method::PUT,
            "/2015-03-31/functions/versioned/configuration",
            json!({ "Description": "second" }),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert_eq!(publish().await["Version"], "2");
    let versions: Value = engine
        .call(reqwest::Method::GET, "/2015-03-31/functions/versioned/versions", Value::Null)
        .await
        .json()
        .await
        .expect("json");
    let listed: Vec<&str> = versions["Versions"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|v| v["Version"].as_str())
        .collect();
    assert_eq!(listed, ["$LATEST", "1", "2"]);

    let alias = engine
        .call(
            reqwest::Method::POST,
            "/2015-03-31/functions/versioned/aliases",
            json!({ "Name": "live", "FunctionVersion": "1", "RoutingConfig": { "AdditionalVersionWeights": { "2": 0.3 } } }),
        )
        .await;
    assert_eq!(alias.status(), StatusCode::CREATED);
    let alias: Value = alias.json().await.expect("json");
    assert_eq!(alias["AliasArn"], "arn:aws:lambda:us-east-1:000000000000:function:versioned:live");

    let mut second = 0;
    let rounds = 200;
    for _ in 0..rounds {
        let invoked = engine
            .client
            .post(format!(
                "{}/2015-03-31/functions/versioned/invocations?Qualifier=live",
                engine.base
            ))
            .body("{}")
            .send()
            .await
            .expect("invoke");
        let executed =
            invoked.headers()["x-amz-executed-version"].to_str().expect("header").to_owned();
        let result: Value = invoked.json().await.expect("json");
        let body: Value =
            serde_json::from_str(result["body"].as_str().expect("body")).expect("inner");
        assert_eq!(
            body["version"],
            executed.as_str(),
            "the environment runs the version it reports"
        );
        second += usize::from(executed == "2");
    }
    let share = second as f64 / f64::from(rounds);
    assert!((0.18..=0.42).contains(&share), "version 2 got {share} of the invokes, configured 0.3");

    // A URL on the alias, and a version an alias uses cannot be deleted.
    let (_, id) = engine.public_url("versioned", Some("live"), Value::Null).await;
    let through_url =
        engine.url_request(reqwest::Method::GET, &id, "/").send().await.expect("call");
    assert_eq!(through_url.status(), StatusCode::CREATED);
    let in_use = engine
        .call(reqwest::Method::DELETE, "/2015-03-31/functions/versioned?Qualifier=2", Value::Null)
        .await;
    assert_eq!(in_use.status(), StatusCode::CONFLICT);
    let weights_off = engine
        .call(
            reqwest::Method::PUT,
            "/2015-03-31/functions/versioned/aliases/live",
            json!({ "RoutingConfig": { "AdditionalVersionWeights": {} } }),
        )
        .await;
    assert_eq!(weights_off.status(), StatusCode::OK);
    let deleted = engine
        .call(reqwest::Method::DELETE, "/2015-03-31/functions/versioned?Qualifier=2", Value::Null)
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let missing = engine
        .call(reqwest::Method::GET, "/2015-03-31/functions/versioned?Qualifier=2", Value::Null)
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let bad_alias = engine
        .call(
            reqwest::Method::POST,
            "/2015-03-31/functions/versioned/aliases",
            json!({ "Name": "123", "FunctionVersion": "1" }),
        )
        .await;
    assert_eq!(bad_alias.status(), StatusCode::BAD_REQUEST);
    std::fs::remove_dir_all(&engine.data_dir).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn require_signature_refuses_unsigned_api_calls() {
    let engine =
        common::start_in(common::temp_dir(), |config| config.require_signature = true).await;
    let unsigned = engine.call(reqwest::Method::GET, "/2015-03-31/functions", Value::Null).await;
    assert_eq!(unsigned.status(), StatusCode::FORBIDDEN);
    assert_eq!(unsigned.headers()["x-amzn-errortype"], "MissingAuthenticationTokenException");

    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_lambda::config::Credentials::new(
            "test", "test", None, None, "static",
        ))
        .endpoint_url(&engine.base)
        .load()
        .await;
    let lambda = aws_sdk_lambda::Client::new(&config);
    let listed = lambda.list_functions().send().await.expect("a signed call goes through");
    assert!(listed.functions().is_empty());
    let wrong = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_lambda::config::Credentials::new(
            "test", "nope", None, None, "static",
        ))
        .endpoint_url(&engine.base)
        .load()
        .await;
    let refused = aws_sdk_lambda::Client::new(&wrong).list_functions().send().await;
    assert!(refused.is_err(), "a wrong secret is refused");
}

const STREAMING: &str = r#"
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  const mode = event.queryStringParameters?.mode ?? event.mode;
  if (mode === 'fail') {
    responseStream.write('partial\n');
    throw new RangeError('broke mid-stream');
  }
  let stream = responseStream;
  if (mode === 'raw') {
    responseStream.setContentType('text/plain');
  } else {
    stream = awslambda.HttpResponseStream.from(responseStream, {
      statusCode: 207, headers: { 'content-type': 'text/plain', 'x-streamed': 'yes' },
    });
  }
  stream.write('first\n');
  await sleep(400);
  stream.write('last\n');
  stream.end();
});
"#;

#[tokio::test(flavor = "multi_thread")]
async fn streamed_responses_arrive_as_they_are_written() {
    let engine = common::start_in(common::temp_dir(), |_| {}).await;
    let created = engine
        .call(
            reqwest::Method::POST,
            "/2015-03-31/functions",
            json!({
                "FunctionName": "streamer", "Runtime": "nodejs22.x", "Handler": "index.handler",
                "Role": "arn:aws:iam::000000000000:role/lambda-role",
                // A cold Node.js start beside nine other tests on two cores can pass the default
                // 3 s; this test is about streaming, not timeouts.
                "Timeout": 30,
                "Code": { "ZipFile": common::zip_of(&[("index.mjs", STREAMING)]) },
            }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let (_, id) = engine.public_url("streamer", None, Value::Null).await;
    let mode = engine
        .call(
            reqwest::Method::PUT,
            "/2021-10-31/functions/streamer/url",
            json!({ "InvokeMode": "RESPONSE_STREAM" }),
        )
        .await;
    assert_eq!(mode.status(), StatusCode::OK);

    // Through the URL: the prelude becomes the status and headers; the body streams.
    let started = std::time::Instant::now();
    let mut response =
        engine.url_request(reqwest::Method::GET, &id, "/").send().await.expect("call");
    if response.status().as_u16() != 207 {
        panic!("{}: {}", response.status(), response.text().await.unwrap_or_default());
    }
    assert_eq!(response.headers()["x-streamed"], "yes");
    let first = response.chunk().await.expect("chunk").expect("a first chunk");
    let first_at = started.elapsed();
    let mut rest = Vec::new();
    while let Some(chunk) = response.chunk().await.expect("chunk") {
        rest.extend_from_slice(&chunk);
    }
    let last_at = started.elapsed();
    assert_eq!(first, "first\n");
    assert_eq!(rest, b"last\n");
    assert!(
        last_at - first_at >= std::time::Duration::from_millis(300),
        "the first byte came {first_at:?} in, the last {last_at:?}: not streamed"
    );

    // Invoke buffers what streams.
    let invoked = engine
        .client
        .post(format!("{}/2015-03-31/functions/streamer/invocations", engine.base))
        .body(r#"{"mode": "raw"}"#)
        .send()
        .await
        .expect("invoke");
    assert_eq!(invoked.text().await.expect("text"), "first\nlast\n");

    // InvokeWithResponseStream through the AWS SDK for Rust: PayloadChunks, then InvokeComplete.
    use aws_sdk_lambda::types::InvokeWithResponseStreamResponseEvent as Event;
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_lambda::config::Credentials::new(
            "test", "test", None, None, "static",
        ))
        .endpoint_url(&engine.base)
        .load()
        .await;
    let lambda = aws_sdk_lambda::Client::new(&config);
    let collect = async |mode: &str| {
        let payload = aws_sdk_lambda::primitives::Blob::new(format!(r#"{{"mode": "{mode}"}}"#));
        let mut output = lambda
            .invoke_with_response_stream()
            .function_name("streamer")
            .payload(payload)
            .send()
            .await
            .expect("invoke with response stream");
        let (mut chunks, mut complete) = (Vec::new(), None);
        while let Some(event) = output.event_stream.recv().await.expect("event") {
            match event {
                Event::PayloadChunk(chunk) => {
                    let bytes = chunk.payload().map(|b| b.as_ref().to_vec()).unwrap_or_default();
                    chunks.push((std::time::Instant::now(), bytes));
                }
                Event::InvokeComplete(done) => complete = Some(done),
                other => panic!("unexpected event {other:?}"),
            }
        }
        (chunks, complete.expect("InvokeComplete comes last"))
    };
    let (chunks, complete) = collect("raw").await;
    let text: Vec<u8> = chunks.iter().flat_map(|(_, b)| b.clone()).collect();
    assert_eq!(text, b"first\nlast\n");
    assert!(complete.error_code().is_none(), "{complete:?}");
    let (first, last) = (chunks.first().expect("first").0, chunks.last().expect("last").0);
    assert!(last - first >= std::time::Duration::from_millis(300), "chunks arrive as written");
    let (_, failed) = collect("fail").await;
    assert_eq!(failed.error_code(), Some("RangeError"), "{failed:?}");
    std::fs::remove_dir_all(&engine.data_dir).ok();
}

/// The review's C3: a page anywhere on the web sends "simple" requests (no preflight) to the
/// engine; with a foreign `Host` (DNS rebinding) it would also read the answers. None is served,
/// and nothing is created or run.
#[tokio::test]
async fn web_pages_and_foreign_hosts_cannot_drive_the_engine() {
    let engine = common::start_in(common::temp_dir(), |_| {}).await;
    engine
        .python_function("target", "lambda_function.py", LAB, "lambda_function.lambda_handler")
        .await;
    let create = json!({
        "FunctionName": "planted", "Runtime": "python3.12", "Handler": "lambda_function.lambda_handler",
        "Role": "arn:aws:iam::000000000000:role/lambda-role",
        "Code": { "ZipFile": common::zip_of(&[("lambda_function.py", LAB)]) },
    });
    let refused = |response: reqwest::Response| async move {
        let status = response.status();
        let kind = response.headers().get("x-amzn-errortype").cloned();
        let body = response.text().await.unwrap_or_default();
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(kind.as_ref().and_then(|v| v.to_str().ok()), Some("AccessDeniedException"));
        body
    };
    let post = |path: &str, headers: &[(&'static str, &'static str)], body: String| {
        let mut request = engine.client.post(format!("{}{path}", engine.base)).body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        async move { request.send().await.expect("send") }
    };
    let text_plain = ("content-type", "text/plain;charset=UTF-8");
    let evil = ("origin", "http://evil.example");
    let invoke = "/2015-03-31/functions/target/invocations";
    // fetch(url, {mode: 'no-cors', method: 'POST', body: JSON}) from another site.
    refused(post("/2015-03-31/functions", &[text_plain, evil], create.to_string()).await).await;
    refused(post(invoke, &[text_plain, evil], "{}".to_owned()).await).await;
    // The same with no Origin but a browser's fetch metadata, and a form post to IAM.
    refused(post(invoke, &[("sec-fetch-site", "cross-site")], "{}".to_owned()).await).await;
    let form = ("content-type", "application/x-www-form-urlencoded");
    let create_role =
        "Action=CreateRole&Version=2010-05-08&RoleName=planted&AssumeRolePolicyDocument=%7B%7D";
    refused(post("/", &[form, evil], create_role.to_owned()).await).await;
    // text/plain without an Origin: not a JSON API's content type either.
    let body =
        refused(post("/2015-03-31/functions", &[text_plain], create.to_string()).await).await;
    assert!(body.contains("application/json"), "says what to send: {body}");
    // DNS rebinding: evil.example resolves to 127.0.0.1, the browser sends its own Host.
    let body = refused(
        engine
            .client
            .get(format!("{}/2015-03-31/functions", engine.base))
            .header("host", "evil.example")
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert!(body.contains("evil.example"), "{body}");
    // Nothing was created or run; real clients still are served.
    let planted =
        engine.call(reqwest::Method::GET, "/2015-03-31/functions/planted", Value::Null).await;
    assert_eq!(planted.status(), StatusCode::NOT_FOUND);
    let logs = engine.data_dir.join("logs");
    let ran = std::fs::read_dir(&logs).map(|d| d.count()).unwrap_or(0);
    assert_eq!(ran, 0, "the target never ran");
    let invoked = post(invoke, &[("content-type", "application/json")], "{}".to_owned()).await;
    assert_eq!(invoked.status(), StatusCode::OK);
}

/// The review's H4: browsers send the console's session cookie (set for 127.0.0.1:3000) to the
/// engine's port too; a Function URL's function never sees it, other cookies it does.
#[tokio::test]
async fn a_function_url_never_receives_the_consoles_session_cookie() {
    let engine = common::start_in(common::temp_dir(), |_| {}).await;
    engine.python_function("echo", "echo.py", ECHO, "echo.handler").await;
    let (_, id) = engine.public_url("echo", None, Value::Null).await;
    let response = engine
        .url_request(reqwest::Method::GET, &id, "/")
        .header("cookie", "lambdaport.sid=s3cret; theme=dark")
        .header("cookie", "__Host-lambdaport.sid=s3cret2")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::CREATED);
    let body = response.text().await.expect("body");
    assert!(!body.contains("s3cret"), "{body}");
    let event: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(event["event"]["cookies"], json!(["theme=dark"]));
    assert_eq!(event["event"]["headers"]["cookie"], json!("theme=dark"));
}

/// Beside the console (`path_urls` off) a URL answers only by its host name: the path form on
/// the engine's address, which shares the console's host and so its cookies, is not a URL.
#[tokio::test(flavor = "multi_thread")]
async fn without_path_urls_only_the_host_form_answers() {
    let engine = common::start_in(common::temp_dir(), |config| config.path_urls = false).await;
    engine
        .python_function("lab", "lambda_function.py", LAB, "lambda_function.lambda_handler")
        .await;
    let (url, id) = engine.public_url("lab", None, Value::Null).await;
    let by_host = tokio::task::spawn_blocking(move || curl(&[&url])).await.expect("join");
    assert!(by_host.starts_with("HTTP/1.1 200") && by_host.ends_with("ok\n"), "{by_host}");
    let path_form = format!("{}/lambda-url/{id}/", engine.base);
    let by_path = tokio::task::spawn_blocking(move || curl(&[&path_form])).await.expect("join");
    assert!(!by_path.starts_with("HTTP/1.1 200"), "{by_path}");
    assert!(!by_path.contains("\r\n\r\nok\n"), "the function did not run: {by_path}");
    std::fs::remove_dir_all(&engine.data_dir).ok();
}
