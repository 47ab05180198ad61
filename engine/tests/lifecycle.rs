//! The engine over real HTTP with real Python runtimes: create → invoke → logs → delete, and the
//! error paths a handler can take (raise, crash, hang, bad import), with Lambda's shapes.

use std::io::Write as _;
use std::time::Duration;

use base64::Engine as _;
use engine::{Engine, EngineConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};

mod common;

use common::Running as TestEngine;
use common::temp_dir;

async fn start_engine(data_dir: std::path::PathBuf) -> TestEngine {
    common::start_in(data_dir, |_| {}).await
}

async fn start_engine_with(
    data_dir: std::path::PathBuf,
    configure: impl FnOnce(&mut EngineConfig),
) -> TestEngine {
    common::start_in(data_dir, configure).await
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

use common::zip_of;

const HANDLER: &str = r#"
import json, os, sys, time

def lambda_handler(event, context):
    action = event.get("action")
    if action == "raise":
        raise KeyError("missing")
    if action == "unjsonable":
        return {"when": {1, 2}}
    if action == "crash":
        sys.exit(3)
    if action == "hang":
        time.sleep(30)
    if action == "big":
        return "x" * (7 * 1024 * 1024)
    if action == "shout":
        for n in range(30000):
            print(f"line {n} " + "y" * 100)
        return "shouted"
    if action == "tmp":
        seen = os.path.exists("/tmp/lambdaport-marker")
        with open("/tmp/lambdaport-marker", "w") as marker:
            marker.write(context.aws_request_id)
        try:
            open(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "intruder"), "w")
            code_writable = True
        except OSError:
            code_writable = False
        return {"seen": seen, "code_writable": code_writable}
    if action == "hog":
        hog = b"x" * (300 * 1024 * 1024)
        time.sleep(2)
    print("hello from the handler")
    return {
        "statusCode": 200,
        "body": json.dumps({"event": event, "request_id": context.aws_request_id,
                            "remaining": context.get_remaining_time_in_millis(),
                            "function": context.function_name, "cwd": os.getcwd(),
                            "greeting": os.environ.get("GREETING"), "uid": os.getuid(),
                            "tmp": os.environ.get("TMPDIR")}),
    }
"#;

impl TestEngine {
    /// GET a path on the engine and parse its JSON.
    async fn get_json(&self, path: &str) -> Value {
        let response = self.client.get(format!("{}{path}", self.base)).send().await.expect("GET");
        response.json().await.expect("json")
    }

    async fn create(&self, name: &str, extra: Value) -> reqwest::Response {
        let mut body = json!({
            "FunctionName": name,
            "Runtime": "python3.12",
            "Role": "arn:aws:iam::000000000000:role/lambda-role",
            "Handler": "lambda_function.lambda_handler",
            "Code": { "ZipFile": zip_of(&[("lambda_function.py", HANDLER)]) },
        });
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        self.client
            .post(format!("{}/2015-03-31/functions", self.base))
            .json(&body)
            .send()
            .await
            .expect("create")
    }

    async fn invoke(&self, name: &str, payload: Value) -> reqwest::Response {
        self.client
            .post(format!("{}/2015-03-31/functions/{name}/invocations", self.base))
            .header("X-Amz-Log-Type", "Tail")
            .body(payload.to_string())
            .send()
            .await
            .expect("invoke")
    }
}

fn error_type(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn log_tail(response: &reqwest::Response) -> String {
    let b64 = response
        .headers()
        .get("x-amz-log-result")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b64).expect("base64"))
        .expect("utf8")
}

#[tokio::test]
async fn create_invoke_and_delete_a_python_function() {
    let engine = start_engine(temp_dir()).await;
    let created = engine
        .create("hello", json!({ "Environment": { "Variables": { "GREETING": "hi" } } }))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let config: Value = created.json().await.expect("json");
    assert_eq!(config["State"], "Pending");
    assert_eq!(config["FunctionArn"], "arn:aws:lambda:us-east-1:000000000000:function:hello");
    assert_eq!(config["CodeSha256"].as_str().map(str::len), Some(44));

    let got: Value = engine.get_json("/2015-03-31/functions/hello").await;
    assert_eq!(got["Configuration"]["State"], "Active", "waiters see Active");

    let cold = engine.invoke("hello", json!({ "n": 1 })).await;
    assert_eq!(cold.status(), StatusCode::OK);
    assert!(cold.headers().get("x-amz-function-error").is_none());
    let log = log_tail(&cold);
    let result: Value = cold.json().await.expect("json");
    let body: Value =
        serde_json::from_str(result["body"].as_str().expect("body")).expect("inner json");
    assert_eq!(body["event"], json!({ "n": 1 }));
    assert_eq!(body["function"], "hello");
    assert_eq!(body["greeting"], "hi");
    if is_root() {
        assert_ne!(body["uid"], 0, "functions do not run as root when the engine does");
    }
    if is_root() {
        assert_eq!((&body["cwd"], &body["tmp"]), (&json!("/var/task"), &json!("/tmp")), "{body}");
    } else {
        assert!(
            body["tmp"].as_str().is_some_and(|t| t.contains("lambdaport-env-")),
            "a private temp dir: {body}"
        );
    }
    assert!(body["remaining"].as_i64().is_some_and(|ms| ms > 0 && ms <= 3000), "{body}");
    let request_id = body["request_id"].as_str().expect("request id");
    assert!(log.contains(&format!("START RequestId: {request_id} Version: $LATEST")), "{log}");
    assert!(log.contains("hello from the handler"), "{log}");
    assert!(log.contains(&format!("END RequestId: {request_id}")), "{log}");
    assert!(log.contains("\tInit Duration: "), "a cold start reports its init: {log}");
    let init = engine.log_lines("hello", "INIT_START").await;
    assert!(
        init.first().is_some_and(|l| l.starts_with("INIT_START Runtime Version: python:3.12")),
        "{init:?}"
    );

    let warm = engine.invoke("hello", json!({})).await;
    assert!(!log_tail(&warm).contains("Init Duration"), "a warm invoke has no init");

    let deleted = engine
        .client
        .delete(format!("{}/2015-03-31/functions/hello", engine.base))
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let gone = engine.invoke("hello", json!({})).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_type(&gone), "ResourceNotFoundException");
    std::fs::remove_dir_all(&engine.data_dir).ok();
}

#[tokio::test]
async fn handler_failures_come_back_as_lambda_reports_them() {
    let engine = start_engine(temp_dir()).await;
    assert_eq!(
        engine.create("failing", json!({ "Timeout": 1 })).await.status(),
        StatusCode::CREATED
    );

    let raised = engine.invoke("failing", json!({ "action": "raise" })).await;
    assert_eq!(raised.status(), StatusCode::OK);
    assert_eq!(
        raised.headers().get("x-amz-function-error").map(|v| v.as_bytes()),
        Some(&b"Unhandled"[..])
    );
    let body: Value = raised.json().await.expect("json");
    assert_eq!(body["errorType"], "KeyError");
    assert!(body["stackTrace"].as_array().is_some_and(|t| !t.is_empty()));

    // A return value JSON cannot hold is the runtime's failure, as AWS's runtime reports it.
    let unjsonable = engine.invoke("failing", json!({ "action": "unjsonable" })).await;
    let log = log_tail(&unjsonable);
    let body: Value = unjsonable.json().await.expect("json");
    assert_eq!(body["errorType"], "Runtime.MarshalError", "{body}");
    assert!(
        body["errorMessage"].as_str().is_some_and(|m| m.starts_with(
            "Unable to marshal response: Object of type set is not JSON serializable"
        )),
        "{body}"
    );
    assert!(log.contains("[ERROR] Runtime.MarshalError"), "{log}");

    let hung = engine.invoke("failing", json!({ "action": "hang" })).await;
    let log = log_tail(&hung);
    let body: Value = hung.json().await.expect("json");
    assert_eq!(body["errorType"], "Sandbox.Timedout");
    assert!(
        body["errorMessage"]
            .as_str()
            .is_some_and(|m| m.ends_with("Task timed out after 1.00 seconds")),
        "{body}"
    );
    assert!(log.contains("Status: timeout"), "{log}");

    let crashed = engine.invoke("failing", json!({ "action": "crash" })).await;
    let body: Value = crashed.json().await.expect("json");
    assert_eq!(body["errorType"], "Runtime.ExitError");
    assert!(body["errorMessage"].as_str().is_some_and(|m| m.contains("exit status 3")), "{body}");

    let hog = engine.invoke("failing", json!({ "action": "hog" })).await;
    let log = log_tail(&hog);
    let body: Value = hog.json().await.expect("json");
    assert_eq!(body["errorType"], "Runtime.OutOfMemory", "{body}");
    assert!(log.contains("Error Type: Runtime.OutOfMemory"), "{log}");

    let fine = engine.invoke("failing", json!({})).await;
    assert!(
        fine.headers().get("x-amz-function-error").is_none(),
        "a fresh environment after a crash"
    );

    let not_json = engine
        .client
        .post(format!("{}/2015-03-31/functions/failing/invocations", engine.base))
        .body("not json")
        .send()
        .await
        .expect("invoke");
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_type(&not_json), "InvalidRequestContentException");
    std::fs::remove_dir_all(&engine.data_dir).ok();
}

#[tokio::test]
async fn init_errors_name_the_problem() {
    let engine = start_engine(temp_dir()).await;
    let created =
        engine.create("wrong-handler", json!({ "Handler": "lambda_function.nope" })).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let body: Value = engine.invoke("wrong-handler", json!({})).await.json().await.expect("json");
    assert_eq!(body["errorType"], "Runtime.HandlerNotFound", "{body}");

    engine.create("wrong-module", json!({ "Handler": "missing_module.handler" })).await;
    let body: Value = engine.invoke("wrong-module", json!({})).await.json().await.expect("json");
    assert_eq!(body["errorType"], "Runtime.ImportModuleError", "{body}");
    std::fs::remove_dir_all(&engine.data_dir).ok();
}

#[tokio::test]
async fn bad_requests_get_lambdas_errors_and_change_nothing() {
    let engine = start_engine(temp_dir()).await;
    for (extra, says) in [
        (json!({ "FunctionName": "bad name" }), "functionName"),
        (json!({ "Runtime": "python2.7" }), "runtime"),
        (json!({ "MemorySize": 64 }), "memorySize"),
        (json!({ "Timeout": 901 }), "timeout"),
        (json!({ "Role": "nope" }), "role"),
        (json!({ "Environment": { "Variables": { "AWS_REGION": "x" } } }), "reserved keys"),
        (json!({ "Code": { "ZipFile": "bm90IGEgemlw" } }), "unzip"),
    ] {
        let response = engine.create("valid-name", extra).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{says}");
        assert_eq!(error_type(&response), "InvalidParameterValueException", "{says}");
        let body: Value = response.json().await.expect("json");
        assert!(body["Message"].as_str().is_some_and(|m| m.contains(says)), "{says}: {body}");
    }
    let list: Value = engine.get_json("/2015-03-31/functions").await;
    assert_eq!(list["Functions"], json!([]), "nothing was created");

    assert_eq!(engine.create("twice", json!({})).await.status(), StatusCode::CREATED);
    let again = engine.create("twice", json!({})).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(error_type(&again), "ResourceConflictException");
    std::fs::remove_dir_all(&engine.data_dir).ok();
}

#[tokio::test]
async fn functions_page_and_survive_a_restart() {
    let dir = temp_dir();
    {
        let engine = start_engine(dir.clone()).await;
        for n in 0..3 {
            assert_eq!(
                engine.create(&format!("fn-{n}"), json!({})).await.status(),
                StatusCode::CREATED
            );
        }
        let page: Value = engine.get_json("/2015-03-31/functions?MaxItems=2").await;
        assert_eq!(page["Functions"].as_array().map(Vec::len), Some(2));
        let marker = page["NextMarker"].as_str().expect("a next page").to_owned();
        let last: Value =
            engine.get_json(&format!("/2015-03-31/functions?MaxItems=2&Marker={marker}")).await;
        assert_eq!(last["Functions"][0]["FunctionName"], "fn-2");
        assert!(last.get("NextMarker").is_none(), "no marker on the last page");
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let engine = start_engine(dir.clone()).await;
    let response = engine.invoke("fn-1", json!({ "after": "restart" })).await;
    assert_eq!(response.status(), StatusCode::OK, "the function and its code survived");
    std::fs::remove_dir_all(&dir).ok();
}

/// Writers of one function or role take turns and writers of different ones do not wait for each
/// other (the store locks a name, not every function, across its disk writes): nothing written at
/// once is lost, a name is still created once, and all of it is on disk after a restart.
#[tokio::test]
async fn writers_at_once_lose_nothing_and_a_name_is_created_once() {
    let dir = temp_dir();
    let arn = "arn:aws:lambda:us-east-1:000000000000:function:shared";
    let role_policies = |n: usize| {
        format!(
            "Action=PutRolePolicy&Version=2010-05-08&RoleName=lambda-role&PolicyName=p{n}&PolicyDocument={}",
            engine::iam::percent_encode(r#"{"Version":"2012-10-17","Statement":[]}"#)
        )
    };
    {
        let engine = start_engine(dir.clone()).await;
        let creates =
            futures_util::future::join_all((0..8).map(|_| engine.create("shared", json!({}))));
        let statuses: Vec<StatusCode> =
            creates.await.iter().map(reqwest::Response::status).collect();
        assert_eq!(
            statuses.iter().filter(|s| **s == StatusCode::CREATED).count(),
            1,
            "{statuses:?}"
        );
        assert_eq!(
            statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count(),
            7,
            "{statuses:?}"
        );

        let tags = (0..20).map(|n| {
            engine
                .client
                .post(format!("{}/2017-03-31/tags/{arn}", engine.base))
                .json(&json!({ "Tags": { format!("k{n}"): format!("v{n}") } }))
                .send()
        });
        let names: Vec<String> = (0..10).map(|n| format!("other-{n}")).collect();
        let others = names.iter().map(|name| engine.create(name, json!({})));
        let policies = (0..10).map(|n| common::iam_call(&engine.base, role_policies(n)));
        let (tags, others, policies) = tokio::join!(
            futures_util::future::join_all(tags),
            futures_util::future::join_all(others),
            futures_util::future::join_all(policies)
        );
        assert!(tags.iter().all(|r| r.as_ref().is_ok_and(|r| r.status().is_success())));
        assert!(others.iter().all(|r| r.status() == StatusCode::CREATED));
        assert!(policies.iter().all(Result::is_ok), "{policies:?}");
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let engine = start_engine(dir.clone()).await;
    let tags = engine.get_json(&format!("/2017-03-31/tags/{arn}")).await;
    let keys = tags["Tags"].as_object().map(|t| t.keys().filter(|k| k.starts_with('k')).count());
    assert_eq!(keys, Some(20), "every tag written at once is kept: {tags}");
    let listed = engine.get_json("/2015-03-31/functions?MaxItems=50").await;
    assert_eq!(listed["Functions"].as_array().map(Vec::len), Some(11));
    let policies = common::iam_call(
        &engine.base,
        "Action=ListRolePolicies&Version=2010-05-08&RoleName=lambda-role".into(),
    )
    .await
    .expect("ListRolePolicies");
    assert_eq!(
        (0..10).filter(|n| policies.contains(&format!("<member>p{n}</member>"))).count(),
        10
    );
    std::fs::remove_dir_all(&dir).ok();
}

impl TestEngine {
    async fn create_with(
        &self,
        name: &str,
        runtime: &str,
        handler: &str,
        files: &[(&str, &str)],
    ) -> reqwest::Response {
        let body = json!({
            "FunctionName": name,
            "Runtime": runtime,
            "Role": "arn:aws:iam::000000000000:role/lambda-role",
            "Handler": handler,
            "Code": { "ZipFile": zip_with_modes(files) },
        });
        self.client
            .post(format!("{}/2015-03-31/functions", self.base))
            .json(&body)
            .send()
            .await
            .expect("create")
    }
}

/// A zip whose `bootstrap` is executable, as a custom runtime's must be.
fn zip_with_modes(files: &[(&str, &str)]) -> String {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, body) in files {
        let mode = if *name == "bootstrap" { 0o755 } else { 0o644 };
        let options = zip::write::SimpleFileOptions::default().unix_permissions(mode);
        writer.start_file(*name, options).expect("start");
        writer.write_all(body.as_bytes()).expect("write");
    }
    base64::engine::general_purpose::STANDARD.encode(writer.finish().expect("finish").into_inner())
}

#[tokio::test]
async fn node_functions_run_with_async_and_callback_handlers() {
    let engine = start_engine(temp_dir()).await;
    let code = r#"
exports.handler = async (event, context) => {
  console.log("node says hi");
  if (event.fail) throw new TypeError("bad input");
  return { statusCode: 200, body: JSON.stringify({ echo: event, fn: context.functionName, left: context.getRemainingTimeInMillis() > 0 }) };
};
exports.callback = (event, context, callback) => callback(null, { via: "callback" });
"#;
    let created =
        engine.create_with("node-fn", "nodejs20.x", "index.handler", &[("index.js", code)]).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let response = engine.invoke("node-fn", json!({ "a": 1 })).await;
    let log = log_tail(&response);
    let result: Value = response.json().await.expect("json");
    let body: Value = serde_json::from_str(result["body"].as_str().expect("body")).expect("inner");
    assert_eq!(body, json!({ "echo": { "a": 1 }, "fn": "node-fn", "left": true }));
    assert!(log.contains("\tINFO\tnode says hi"), "{log}");

    let failed = engine.invoke("node-fn", json!({ "fail": true })).await;
    assert!(failed.headers().get("x-amz-function-error").is_some());
    let error: Value = failed.json().await.expect("json");
    assert_eq!(error["errorType"], "TypeError");
    assert_eq!(error["errorMessage"], "bad input");

    engine.create_with("node-cb", "nodejs22.x", "index.callback", &[("index.js", code)]).await;
    let result: Value = engine.invoke("node-cb", json!({})).await.json().await.expect("json");
    assert_eq!(result, json!({ "via": "callback" }));

    engine.create_with("node-missing", "nodejs20.x", "index.nope", &[("index.js", code)]).await;
    let error: Value = engine.invoke("node-missing", json!({})).await.json().await.expect("json");
    assert_eq!(error["errorType"], "Runtime.HandlerNotFound");
    std::fs::remove_dir_all(&engine.data_dir).ok();
}

#[tokio::test]
async fn provided_runtime_runs_a_curl_loop_bootstrap() {
    let engine = start_engine(temp_dir()).await;
    // The smallest real runtime: a shell loop over the Runtime API, like RIE's test fixture.
    let bootstrap = r#"#!/bin/bash
set -euo pipefail
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  HEADERS="$(mktemp)"
  EVENT=$(curl -sS -LD "$HEADERS" "$API/invocation/next")
  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  echo "handler $_HANDLER got $EVENT"
  curl -sS -X POST "$API/invocation/$REQUEST_ID/response" -d "{\"echo\":$EVENT}" > /dev/null
done
"#;
    let created = engine
        .create_with("custom", "provided.al2023", "function.handler", &[("bootstrap", bootstrap)])
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    for n in 0..2 {
        let response = engine.invoke("custom", json!({ "n": n })).await;
        let log = log_tail(&response);
        let result: Value = response.json().await.expect("json");
        assert_eq!(result, json!({ "echo": { "n": n } }));
        assert!(log.contains("handler function.handler got"), "{log}");
    }
    std::fs::remove_dir_all(&engine.data_dir).ok();
}

#[tokio::test]
async fn updates_tags_and_reserved_concurrency() {
    let engine = start_engine(temp_dir()).await;
    let url = |path: &str| format!("{}{path}", engine.base);
    engine.create("changing", json!({})).await;
    let arn = "arn:aws:lambda:us-east-1:000000000000:function:changing";

    let updated = engine
        .client
        .put(url("/2015-03-31/functions/changing/configuration"))
        .json(&json!({ "Timeout": 5, "Environment": { "Variables": { "GREETING": "updated" } } }))
        .send()
        .await
        .expect("update");
    assert_eq!(updated.status(), StatusCode::OK);
    let config: Value = updated.json().await.expect("json");
    assert_eq!(config["LastUpdateStatus"], "InProgress");
    assert_eq!(config["Timeout"], 5);
    let result: Value = engine.invoke("changing", json!({})).await.json().await.expect("json");
    assert!(
        result["body"].as_str().is_some_and(|b| b.contains("\"greeting\": \"updated\"")),
        "{result}"
    );

    let stale = engine
        .client
        .put(url("/2015-03-31/functions/changing/configuration"))
        .json(&json!({ "Timeout": 6, "RevisionId": "not-the-revision" }))
        .send()
        .await
        .expect("update");
    assert_eq!(stale.status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(error_type(&stale), "PreconditionFailedException");
    let invalid = engine
        .client
        .put(url("/2015-03-31/functions/changing/configuration"))
        .json(&json!({ "MemorySize": 1 }))
        .send()
        .await
        .expect("update");
    assert_eq!(invalid.status(), StatusCode::BAD_REQUEST);
    let config: Value = engine.get_json("/2015-03-31/functions/changing/configuration").await;
    assert_eq!(
        (config["Timeout"].clone(), config["MemorySize"].clone()),
        (json!(5), json!(128)),
        "a refused update changes nothing"
    );

    let new_code =
        zip_of(&[("lambda_function.py", "def lambda_handler(e, c):\n    return 'v2'\n")]);
    let code = engine
        .client
        .put(url("/2015-03-31/functions/changing/code"))
        .json(&json!({ "ZipFile": new_code }))
        .send()
        .await
        .expect("code");
    assert_eq!(code.status(), StatusCode::OK);
    let result: Value = engine.invoke("changing", json!({})).await.json().await.expect("json");
    assert_eq!(result, json!("v2"), "new code, new environment");

    let tagged = engine
        .client
        .post(url(&format!("/2017-03-31/tags/{arn}")))
        .json(&json!({ "Tags": { "team": "payments", "env": "dev" } }))
        .send()
        .await
        .expect("tag");
    assert_eq!(tagged.status(), StatusCode::NO_CONTENT);
    let untagged = engine
        .client
        .delete(url(&format!("/2017-03-31/tags/{arn}?tagKeys=env")))
        .send()
        .await
        .expect("untag");
    assert_eq!(untagged.status(), StatusCode::NO_CONTENT);
    let tags: Value = engine
        .client
        .get(url(&format!("/2017-03-31/tags/{arn}")))
        .send()
        .await
        .expect("tags")
        .json()
        .await
        .expect("json");
    assert_eq!(tags, json!({ "Tags": { "team": "payments" } }));
    let bad = engine.client.get(url("/2017-03-31/tags/changing")).send().await.expect("tags");
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    let put = |n: i64| {
        engine
            .client
            .put(url("/2017-10-31/functions/changing/concurrency"))
            .json(&json!({ "ReservedConcurrentExecutions": n }))
            .send()
    };
    let limit = i64::try_from(engine::default_max_environments()).expect("limit");
    assert_eq!(
        put(limit + 1).await.expect("put").status(),
        StatusCode::BAD_REQUEST,
        "over the engine's limit"
    );
    assert_eq!(put(0).await.expect("put").status(), StatusCode::OK);
    let throttled = engine.invoke("changing", json!({})).await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(error_type(&throttled), "TooManyRequestsException");
    let body: Value = throttled.json().await.expect("json");
    assert_eq!(body["Reason"], "ReservedFunctionConcurrentInvocationLimitExceeded");
    let got: Value = engine.get_json("/2019-09-30/functions/changing/concurrency").await;
    assert_eq!(got, json!({ "ReservedConcurrentExecutions": 0 }));
    let deleted = engine
        .client
        .delete(url("/2017-10-31/functions/changing/concurrency"))
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(engine.invoke("changing", json!({})).await.status(), StatusCode::OK);
    std::fs::remove_dir_all(&engine.data_dir).ok();
}

impl TestEngine {
    /// Messages of the function's log group matching `pattern`, through the CloudWatch Logs API.
    async fn log_lines(&self, function: &str, pattern: &str) -> Vec<String> {
        let response = self
            .client
            .post(&self.base)
            .header("x-amz-target", "Logs_20140328.FilterLogEvents")
            .header("content-type", "application/x-amz-json-1.1")
            .body(json!({ "logGroupName": format!("/aws/lambda/{function}"), "filterPattern": pattern }).to_string())
            .send()
            .await
            .expect("filter");
        if response.status() != StatusCode::OK {
            return Vec::new();
        }
        let body: Value = response.json().await.expect("json");
        body["events"]
            .as_array()
            .map(|events| {
                events.iter().filter_map(|e| e["message"].as_str().map(str::to_owned)).collect()
            })
            .unwrap_or_default()
    }

    /// Waits (up to 10 s) until `count` lines match.
    async fn wait_for_lines(&self, function: &str, pattern: &str, count: usize) -> Vec<String> {
        for _ in 0..200 {
            let lines = self.log_lines(function, pattern).await;
            if lines.len() >= count {
                return lines;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.log_lines(function, pattern).await
    }
}

#[tokio::test]
async fn event_invocations_are_queued_run_and_retried() {
    let engine = start_engine_with(temp_dir(), |config| {
        config.event_retry_delays = vec![Duration::from_millis(100), Duration::from_millis(100)];
    })
    .await;
    engine.create("async", json!({})).await;
    let invoke_event = |payload: Value| {
        engine
            .client
            .post(format!("{}/2015-03-31/functions/async/invocations", engine.base))
            .header("X-Amz-Invocation-Type", "Event")
            .body(payload.to_string())
            .send()
    };
    let accepted = invoke_event(json!({ "n": 1 })).await.expect("event");
    assert_eq!(accepted.status(), StatusCode::ACCEPTED);
    assert_eq!(engine.wait_for_lines("async", "\"hello from the handler\"", 1).await.len(), 1);

    let failing = invoke_event(json!({ "action": "raise" })).await.expect("event");
    assert_eq!(failing.status(), StatusCode::ACCEPTED);
    let errors = engine.wait_for_lines("async", "\"[ERROR] KeyError\"", 3).await;
    assert_eq!(errors.len(), 3, "one try and two retries: {errors:?}");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        engine.log_lines("async", "\"[ERROR] KeyError\"").await.len(),
        3,
        "then it is dropped"
    );
    let queued = std::fs::read_dir(engine.data_dir.join("events")).expect("events dir").count();
    assert_eq!(queued, 0, "nothing left in the queue");

    let not_json = engine
        .client
        .post(format!("{}/2015-03-31/functions/async/invocations", engine.base))
        .header("X-Amz-Invocation-Type", "Event")
        .body("nope")
        .send()
        .await
        .expect("event");
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    std::fs::remove_dir_all(&engine.data_dir).ok();
}

#[tokio::test]
async fn queued_events_survive_a_restart() {
    let dir = temp_dir();
    {
        let engine = start_engine(dir.clone()).await;
        assert_eq!(engine.create("later", json!({})).await.status(), StatusCode::CREATED);
    }
    // Queued while no engine serves (as if it stopped right after answering 202).
    let addr: std::net::SocketAddr = "127.0.0.1:9".parse().expect("addr");
    let offline = Engine::open(EngineConfig::new(addr, dir.clone())).expect("open");
    let name = engine::model::FunctionName::parse("later").expect("name").0;
    offline.state().events.enqueue(&name, "", None, br#"{"queued": true}"#).await.expect("enqueue");
    drop(offline);

    let engine = start_engine(dir.clone()).await;
    let lines = engine.wait_for_lines("later", "\"hello from the handler\"", 1).await;
    assert_eq!(lines.len(), 1, "the queued event ran after the restart");
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn logs_survive_a_restart() {
    let dir = temp_dir();
    let logs_call = |engine: &TestEngine, operation: &str, body: Value| {
        engine
            .client
            .post(&engine.base)
            .header("x-amz-target", format!("Logs_20140328.{operation}"))
            .header("content-type", "application/x-amz-json-1.1")
            .body(body.to_string())
            .send()
    };
    {
        let engine = start_engine(dir.clone()).await;
        engine.create("logged", json!({})).await;
        assert_eq!(engine.invoke("logged", json!({})).await.status(), StatusCode::OK);
        let put = logs_call(
            &engine,
            "PutRetentionPolicy",
            json!({ "logGroupName": "/aws/lambda/logged", "retentionInDays": 30 }),
        );
        assert_eq!(put.await.expect("retention").status(), StatusCode::OK);
        logs_call(&engine, "CreateLogGroup", json!({ "logGroupName": "doomed" }))
            .await
            .expect("create");
        tokio::time::sleep(Duration::from_millis(400)).await;
        let deleted = logs_call(&engine, "DeleteLogGroup", json!({ "logGroupName": "doomed" }));
        assert_eq!(deleted.await.expect("delete").status(), StatusCode::OK);
        assert_eq!(
            engine.invoke("logged", json!({ "second": true })).await.status(),
            StatusCode::OK
        );
        // Stopped, not dropped: the restart must not race the last flush.
        engine.stop().await;
    }
    let engine = start_engine(dir.clone()).await;
    let starts = engine.log_lines("logged", "\"START RequestId\"").await;
    assert_eq!(starts.len(), 2, "both invocations' lines are back: {starts:?}");
    let groups: Value = logs_call(&engine, "DescribeLogGroups", json!({}))
        .await
        .expect("describe")
        .json()
        .await
        .expect("json");
    let names: Vec<&str> = groups["logGroups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter_map(|g| g["logGroupName"].as_str())
        .collect();
    assert_eq!(names, ["/aws/lambda/logged"], "the deleted group stays deleted");
    assert_eq!(groups["logGroups"][0]["retentionInDays"], 30);
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn payload_limits_and_loud_handlers() {
    let engine = start_engine(temp_dir()).await;
    engine.create("sizes", json!({ "Timeout": 10 })).await;

    let pad = "p".repeat(5 * 1024 * 1024);
    let big_event = engine.invoke("sizes", json!({ "pad": pad })).await;
    assert_eq!(big_event.status(), StatusCode::OK, "5 MB in, 5 MB out");
    let result: Value = big_event.json().await.expect("json");
    assert!(result["body"].as_str().is_some_and(|b| b.len() > 5 * 1024 * 1024));

    let too_big = engine.invoke("sizes", json!({ "pad": "p".repeat(7 * 1024 * 1024) })).await;
    assert_eq!(too_big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_type(&too_big), "RequestTooLargeException");

    let big_response = engine.invoke("sizes", json!({ "action": "big" })).await;
    assert!(big_response.headers().get("x-amz-function-error").is_some());
    let error: Value = big_response.json().await.expect("json");
    assert_eq!(error["errorType"], "Function.ResponseSizeTooLarge", "{error}");

    let loud = engine.invoke("sizes", json!({ "action": "shout" })).await;
    let tail = log_tail(&loud);
    assert!(tail.len() <= 4096 + 4, "the tail is the last 4 KB: {}", tail.len());
    assert!(tail.contains("REPORT RequestId"), "{tail}");
    let result: Value = loud.json().await.expect("json");
    assert_eq!(result, json!("shouted"));
    assert!(
        engine.wait_for_lines("sizes", "\"line 29999 \"", 1).await.len() == 1,
        "3 MB of output was kept"
    );
    std::fs::remove_dir_all(&engine.data_dir).ok();
}

/// Not a benchmark: a guard against responses split across writes without TCP_NODELAY, which
/// costs ~40 ms per invoke in delayed ACKs. 20 warm invokes take a few ms; with the bug, > 800 ms.
#[tokio::test]
async fn warm_invokes_do_not_wait_for_delayed_acks() {
    let engine = start_engine(temp_dir()).await;
    engine.create("quick", json!({})).await;
    engine.invoke("quick", json!({})).await;
    let started = std::time::Instant::now();
    for _ in 0..20 {
        assert_eq!(engine.invoke("quick", json!({})).await.status(), StatusCode::OK);
    }
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_millis(400), "20 warm invokes took {elapsed:?}");
    std::fs::remove_dir_all(&engine.data_dir).ok();
}

/// A caller is answered before its END and REPORT lines are written; the caller's next invoke
/// waits for that environment to be back in the pool instead of starting another one, and is not
/// throttled by the invoke that already answered.
#[tokio::test]
async fn back_to_back_invokes_reuse_the_environment_still_writing_its_report() {
    let engine = start_engine(temp_dir()).await;
    engine.create("pingpong", json!({})).await;
    // With one reserved slot, a caller's next invoke must not find the slot still taken either.
    let reserved = engine
        .client
        .put(format!("{}/2017-10-31/functions/pingpong/concurrency", engine.base))
        .json(&json!({ "ReservedConcurrentExecutions": 1 }))
        .send()
        .await
        .expect("reserve");
    assert_eq!(reserved.status(), StatusCode::OK);
    for _ in 0..100 {
        let invoked = engine
            .client
            .post(format!("{}/2015-03-31/functions/pingpong/invocations", engine.base))
            .body("{}")
            .send()
            .await
            .expect("invoke");
        assert_eq!(invoked.status(), StatusCode::OK);
    }
    let reports = engine.wait_for_lines("pingpong", "REPORT", 100).await;
    assert_eq!(reports.len(), 100);
    let cold = reports.iter().filter(|line| line.contains("Init Duration")).count();
    assert_eq!(cold, 1, "one cold start, then the same environment every time");
    std::fs::remove_dir_all(&engine.data_dir).ok();
}

#[tokio::test]
async fn idle_environments_expire_and_the_account_limit_throttles() {
    let engine = start_engine_with(temp_dir(), |config| {
        config.idle_timeout = Duration::from_millis(200);
        config.max_environments = 1;
    })
    .await;
    engine.create("sleepy", json!({ "Timeout": 5 })).await;
    assert!(log_tail(&engine.invoke("sleepy", json!({})).await).contains("Init Duration"));
    assert!(!log_tail(&engine.invoke("sleepy", json!({})).await).contains("Init Duration"), "warm");
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        log_tail(&engine.invoke("sleepy", json!({})).await).contains("Init Duration"),
        "expired, so cold again"
    );

    // One environment in all: while it is busy, a second invoke is throttled.
    let busy = engine.invoke("sleepy", json!({ "action": "hang" }));
    let second = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        engine.create("other", json!({})).await;
        engine.invoke("other", json!({})).await
    };
    let (_, throttled) = tokio::join!(busy, second);
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: Value = throttled.json().await.expect("json");
    assert_eq!(body["Reason"], "ConcurrentInvocationLimitExceeded");

    // An idle environment is no invocation in flight: it makes room for another function's.
    engine.invoke("sleepy", json!({})).await;
    let other = engine.invoke("other", json!({})).await;
    assert_eq!(other.status(), StatusCode::OK, "sleepy's idle environment made room");
    assert!(log_tail(&other).contains("Init Duration"));
    assert!(
        log_tail(&engine.invoke("sleepy", json!({})).await).contains("Init Duration"),
        "evicted"
    );
    std::fs::remove_dir_all(&engine.data_dir).ok();
}

#[tokio::test]
async fn each_environment_has_its_own_tmp_and_read_only_code() {
    if !is_root() {
        eprintln!("private mount namespaces need root: environments share /tmp here");
        return;
    }
    let engine = start_engine(temp_dir()).await;
    assert_eq!(engine.create("scratch", json!({})).await.status(), StatusCode::CREATED);
    let tmp = async || -> Value {
        engine.invoke("scratch", json!({ "action": "tmp" })).await.json().await.expect("json")
    };
    assert_eq!(tmp().await, json!({ "seen": false, "code_writable": false }));
    assert_eq!(tmp().await["seen"], true, "a warm environment keeps its /tmp");
    assert!(
        !std::path::Path::new("/tmp/lambdaport-marker").exists(),
        "the function's /tmp is not the host's"
    );

    // A changed configuration means a fresh environment, with an empty /tmp.
    let updated = engine
        .client
        .put(format!("{}/2015-03-31/functions/scratch/configuration", engine.base))
        .json(&json!({ "Description": "fresh" }))
        .send()
        .await
        .expect("update");
    assert_eq!(updated.status(), StatusCode::OK);
    assert_eq!(tmp().await["seen"], false, "a new environment starts with an empty /tmp");
}

/// StartLiveTail: an event stream that opens with `sessionStart`, carries the lines appended
/// after it that match the pattern (and only those) in `sessionUpdate`s, and refuses what
/// CloudWatch refuses.
#[tokio::test]
async fn a_live_tail_streams_matching_lines_as_they_are_appended() {
    use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder};
    let dir = temp_dir();
    let engine = start_engine(dir.clone()).await;
    let call = |operation: &str, body: Value| {
        engine
            .client
            .post(&engine.base)
            .header("x-amz-target", format!("Logs_20140328.{operation}"))
            .header("content-type", "application/x-amz-json-1.1")
            .body(body.to_string())
            .send()
    };
    let group = "/aws/lambda/tailed";
    call("CreateLogGroup", json!({ "logGroupName": group })).await.expect("group");
    call("CreateLogStream", json!({ "logGroupName": group, "logStreamName": "s1" }))
        .await
        .expect("stream");

    // Refused as CloudWatch refuses.
    for (body, expected) in [
        (json!({ "logGroupIdentifiers": [] }), "InvalidParameterException"),
        (json!({ "logGroupIdentifiers": ["/aws/lambda/none"] }), "ResourceNotFoundException"),
        (
            json!({ "logGroupIdentifiers": [group], "logStreamNames": ["s1"], "logStreamNamePrefixes": ["s"] }),
            "InvalidParameterException",
        ),
        (
            json!({ "logGroupIdentifiers": ["arn:aws:logs:eu-west-1:999999999999:log-group:x"] }),
            "InvalidParameterException",
        ),
        (
            json!({ "logGroupIdentifiers": [group], "logEventFilterPattern": "{ $.a = " }),
            "InvalidParameterException",
        ),
    ] {
        let refused = call("StartLiveTail", body.clone()).await.expect("call");
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{body}");
        let said: Value = refused.json().await.expect("json");
        assert_eq!(said["__type"], expected, "{body}: {said}");
    }

    // By ARN, with a JSON pattern.
    let arn = format!("arn:aws:logs:us-east-1:000000000000:log-group:{group}");
    let mut session = call(
        "StartLiveTail",
        json!({ "logGroupIdentifiers": [arn], "logEventFilterPattern": "{ $.level = \"ERROR\" }" }),
    )
    .await
    .expect("start");
    assert_eq!(session.status(), StatusCode::OK);
    assert_eq!(
        session.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/vnd.amazon.eventstream")
    );
    let mut buffer: Vec<u8> = Vec::new();
    let mut decoder = MessageFrameDecoder::new();
    let mut next_message = async || loop {
        let mut readable = &buffer[..];
        let before = readable.len();
        if let DecodedFrame::Complete(message) = decoder.decode_frame(&mut readable).expect("frame")
        {
            let used = before - readable.len();
            buffer.drain(..used);
            let header = |name: &str| {
                message
                    .headers()
                    .iter()
                    .find(|h| h.name().as_str() == name)
                    .and_then(|h| h.value().as_string().ok().map(|s| s.as_str().to_owned()))
            };
            let payload: Value = serde_json::from_slice(message.payload()).expect("json");
            return (header(":event-type").unwrap_or_default(), payload);
        }
        let used = before - readable.len();
        buffer.drain(..used);
        let chunk = tokio::time::timeout(Duration::from_secs(5), session.chunk())
            .await
            .expect("a frame within 5 s")
            .expect("chunk")
            .expect("more body");
        buffer.extend_from_slice(&chunk);
    };
    let (kind, started) = next_message().await;
    assert_eq!(kind, "sessionStart", "{started}");
    assert_eq!(started["logGroupIdentifiers"][0], arn);

    let sent = std::time::Instant::now();
    let put = call(
        "PutLogEvents",
        json!({ "logGroupName": group, "logStreamName": "s1", "logEvents": [
            { "timestamp": 1, "message": "{\"level\":\"INFO\",\"n\":1}" },
            { "timestamp": 2, "message": "{\"level\":\"ERROR\",\"n\":2}" },
        ] }),
    );
    assert_eq!(put.await.expect("put").status(), StatusCode::OK);
    let (kind, update) = loop {
        let (kind, update) = next_message().await;
        // An empty update each second nothing arrives, as CloudWatch sends.
        if update["sessionResults"].as_array().is_some_and(|r| !r.is_empty()) {
            break (kind, update);
        }
    };
    assert!(sent.elapsed() < Duration::from_secs(1), "sent at once, not batched a second");
    assert_eq!(kind, "sessionUpdate");
    let results = update["sessionResults"].as_array().expect("results");
    assert_eq!(results.len(), 1, "only the matching line: {update}");
    assert_eq!(results[0]["message"], "{\"level\":\"ERROR\",\"n\":2}");
    assert_eq!(results[0]["logStreamName"], "s1");
    assert_eq!(results[0]["logGroupIdentifier"], arn);
    assert_eq!(update["sessionMetadata"]["sampled"], false);
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn only_a_role_that_may_write_logs_gets_a_log_group() {
    let engine = start_engine(temp_dir()).await;
    let iam = |body: String| common::iam_call(&engine.base, body);
    let trust = engine::iam::percent_encode(engine::iam::LAMBDA_TRUST_POLICY);
    iam(format!(
        "Action=CreateRole&Version=2010-05-08&RoleName=mute&AssumeRolePolicyDocument={trust}"
    ))
    .await
    .expect("CreateRole");
    let mute = json!({ "Role": "arn:aws:iam::000000000000:role/mute" });
    assert_eq!(engine.create("quiet", mute).await.status(), StatusCode::CREATED);
    let groups = |engine: &TestEngine| {
        let request = engine
            .client
            .post(&engine.base)
            .header("x-amz-target", "Logs_20140328.DescribeLogGroups")
            .header("content-type", "application/x-amz-json-1.1")
            .body(json!({ "logGroupNamePrefix": "/aws/lambda/quiet" }).to_string());
        async move {
            let body: Value = request.send().await.expect("groups").json().await.expect("json");
            body["logGroups"].as_array().map_or(0, Vec::len)
        }
    };

    // No logging permission: the function runs, Invoke's tail still has its output (Lambda's
    // service returns it), and CloudWatch Logs gets nothing, not even the group.
    let invoked = engine.invoke("quiet", json!({})).await;
    assert_eq!(invoked.status(), StatusCode::OK);
    assert!(log_tail(&invoked).contains("hello from the handler"));
    assert_eq!(groups(&engine).await, 0, "no group without logs:CreateLogGroup");

    // Streams and events but not groups, by an inline policy scoped to the function's group: the
    // group still cannot be made, so still nothing.
    let scoped = engine::iam::percent_encode(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/quiet:*"}]}"#,
    );
    iam(format!(
        "Action=PutRolePolicy&Version=2010-05-08&RoleName=mute&PolicyName=streams&PolicyDocument={scoped}"
    ))
    .await
    .expect("PutRolePolicy");
    engine.invoke("quiet", json!({})).await;
    assert_eq!(groups(&engine).await, 0, "no group without logs:CreateLogGroup");

    // The managed policy: the next invoke, in the same warm environment, is logged.
    let basic = engine::iam::percent_encode(engine::iam::BASIC_EXECUTION_POLICY);
    iam(format!("Action=AttachRolePolicy&Version=2010-05-08&RoleName=mute&PolicyArn={basic}"))
        .await
        .expect("AttachRolePolicy");
    engine.invoke("quiet", json!({ "n": 3 })).await;
    assert_eq!(groups(&engine).await, 1);
    let lines = engine.wait_for_lines("quiet", "hello", 1).await;
    assert_eq!(lines.len(), 1, "only the invoke after the attach: {lines:?}");

    // Detached again, with the group there: the inline policy alone may add to it.
    iam(format!("Action=DetachRolePolicy&Version=2010-05-08&RoleName=mute&PolicyArn={basic}"))
        .await
        .expect("DetachRolePolicy");
    engine.invoke("quiet", json!({})).await;
    assert_eq!(engine.wait_for_lines("quiet", "hello", 2).await.len(), 2);
    // And without any policy nothing more is written.
    iam("Action=DeleteRolePolicy&Version=2010-05-08&RoleName=mute&PolicyName=streams".into())
        .await
        .expect("DeleteRolePolicy");
    engine.invoke("quiet", json!({})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(engine.log_lines("quiet", "hello").await.len(), 2);
    std::fs::remove_dir_all(&engine.data_dir).ok();
}

#[tokio::test]
async fn a_slow_init_does_not_eat_the_handlers_timeout() {
    let engine = start_engine(temp_dir()).await;
    // A 1 s timeout, and an init (module code) of 1.5 s: as on Lambda, the timeout starts when
    // the runtime takes the event, so the handler still has its second.
    let slow =
        "import time\ntime.sleep(1.5)\n\ndef lambda_handler(event, context):\n    return 'ok'\n";
    let code =
        json!({ "Timeout": 1, "Code": { "ZipFile": zip_of(&[("lambda_function.py", slow)]) } });
    assert_eq!(engine.create("slow-init", code).await.status(), StatusCode::CREATED);
    let invoked = engine.invoke("slow-init", json!({})).await;
    assert!(invoked.headers().get("x-amz-function-error").is_none(), "{}", log_tail(&invoked));
    assert!(log_tail(&invoked).contains("Init Duration: 15"), "{}", log_tail(&invoked));
    assert_eq!(invoked.json::<Value>().await.expect("json"), "ok");
    std::fs::remove_dir_all(&engine.data_dir).ok();
}

#[tokio::test]
async fn cold_starts_past_the_limit_wait_their_turn() {
    // One init at a time: two functions whose init takes a second each, called at once. The
    // second init starts when the first is ready, so the pair takes two seconds, not one; and its
    // init (and init limit) counts from when it started, not from when it was asked for.
    let engine = start_engine_with(temp_dir(), |config| config.max_concurrent_inits = 1).await;
    let slow =
        "import time\ntime.sleep(1.0)\n\ndef lambda_handler(event, context):\n    return 'ok'\n";
    for name in ["init-first", "init-second"] {
        let code = json!({ "Code": { "ZipFile": zip_of(&[("lambda_function.py", slow)]) } });
        assert_eq!(engine.create(name, code).await.status(), StatusCode::CREATED);
    }
    let started = std::time::Instant::now();
    let (first, second) = tokio::join!(
        engine.invoke("init-first", json!({})),
        engine.invoke("init-second", json!({}))
    );
    let elapsed = started.elapsed();
    for invoked in [&first, &second] {
        assert!(invoked.headers().get("x-amz-function-error").is_none(), "{}", log_tail(invoked));
        assert!(log_tail(invoked).contains("Init Duration: 1"), "{}", log_tail(invoked));
    }
    assert!(elapsed >= Duration::from_secs(2), "the inits overlapped: {elapsed:?}");
    std::fs::remove_dir_all(&engine.data_dir).ok();
}
