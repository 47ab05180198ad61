//! The engine driven by unmodified AWS clients: boto3 (with its waiters) and the AWS CLI.

use std::io::Write as _;
use std::process::Command;

use engine::EngineConfig;

mod common;

async fn start_engine() -> (String, std::path::PathBuf, common::Running) {
    let engine = common::start_in(common::temp_dir(), |_| {}).await;
    (engine.base.clone(), engine.data_dir.clone(), engine)
}

/// Runs a client command off the async threads, so the engine keeps serving meanwhile.
async fn run(mut command: Command) -> std::process::Output {
    command
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_PAGER", "");
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("join")
        .expect("the client runs");
    assert!(
        output.status.success(),
        "{:?} failed:\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[tokio::test(flavor = "multi_thread")]
async fn boto3_runs_the_lab_unchanged() {
    let (endpoint, data_dir, _stop) = start_engine().await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/boto3_lab.py");
    let mut command = Command::new("python3");
    command.arg(script).arg(&endpoint);
    let output = run(command).await;
    assert!(String::from_utf8_lossy(&output.stdout).contains("boto3 lab: ok"));
    std::fs::remove_dir_all(data_dir).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_aws_cli_creates_invokes_and_deletes() {
    let (endpoint, data_dir, _stop) = start_engine().await;
    let work = data_dir.join("cli");
    std::fs::create_dir_all(&work).expect("work dir");
    let zip_path = work.join("function.zip");
    let mut writer = zip::ZipWriter::new(std::fs::File::create(&zip_path).expect("zip file"));
    writer
        .start_file("lambda_function.py", zip::write::SimpleFileOptions::default())
        .expect("start");
    writer
        .write_all(b"def lambda_handler(event, context):\n    return {'statusCode': 200, 'headers': {'content-type': 'text/plain; charset=utf-8'}, 'body': 'ok\\n'}\n")
        .expect("write");
    writer.finish().expect("finish");

    let aws = |args: &[&str]| {
        let mut command = Command::new("aws");
        command.arg("--endpoint-url").arg(&endpoint).arg("--output").arg("json").args(args);
        command
    };
    let trust_path = work.join("trust.json");
    std::fs::write(&trust_path, common::LAMBDA_TRUST_POLICY).expect("trust policy");
    let trust_arg = format!("file://{}", trust_path.display());
    let role = run(aws(&[
        "iam",
        "create-role",
        "--role-name",
        "cli-lab-role",
        "--assume-role-policy-document",
        &trust_arg,
    ]))
    .await;
    assert!(
        String::from_utf8_lossy(&role.stdout)
            .contains("arn:aws:iam::000000000000:role/cli-lab-role")
    );
    let basic = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";
    let role_args = ["--role-name", "cli-lab-role", "--policy-arn", basic];
    run(aws(&[&["iam", "attach-role-policy"], &role_args[..]].concat())).await;
    let zip_arg = format!("fileb://{}", zip_path.display());
    run(aws(&[
        "lambda",
        "create-function",
        "--function-name",
        "cli-lab",
        "--runtime",
        "python3.12",
        "--role",
        "arn:aws:iam::000000000000:role/cli-lab-role",
        "--handler",
        "lambda_function.lambda_handler",
        "--zip-file",
        &zip_arg,
    ]))
    .await;
    let out = work.join("out.json");
    let invoked = run(aws(&[
        "lambda",
        "invoke",
        "--function-name",
        "cli-lab",
        "--log-type",
        "Tail",
        out.to_str().expect("utf-8 path"),
    ]))
    .await;
    let meta: serde_json::Value = serde_json::from_slice(&invoked.stdout).expect("invoke output");
    assert_eq!(meta["StatusCode"], 200);
    assert!(meta["LogResult"].as_str().is_some_and(|l| !l.is_empty()));
    let result: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out).expect("out")).expect("json");
    assert_eq!(result["body"], "ok\n");

    // The lab's Function URL: 403 with one statement, 200 `ok` with both, as curl sees it.
    let url = run(aws(&[
        "lambda",
        "create-function-url-config",
        "--function-name",
        "cli-lab",
        "--auth-type",
        "NONE",
    ]))
    .await;
    let url: serde_json::Value = serde_json::from_slice(&url.stdout).expect("url output");
    let function_url = url["FunctionUrl"].as_str().expect("FunctionUrl").to_owned();
    let curl = |url: String| async move {
        let output = tokio::task::spawn_blocking(move || {
            Command::new("curl").args(["-s", "-i", "--max-time", "30"]).arg(url).output()
        });
        String::from_utf8_lossy(&output.await.expect("join").expect("curl").stdout).into_owned()
    };
    run(aws(&[
        "lambda",
        "add-permission",
        "--function-name",
        "cli-lab",
        "--statement-id",
        "FunctionURLAllowPublicAccess",
        "--action",
        "lambda:InvokeFunctionUrl",
        "--principal",
        "*",
        "--function-url-auth-type",
        "NONE",
    ]))
    .await;
    let one = curl(function_url.clone()).await;
    assert!(one.starts_with("HTTP/1.1 403"), "{one}");
    run(aws(&[
        "lambda",
        "add-permission",
        "--function-name",
        "cli-lab",
        "--statement-id",
        "FunctionURLInvokeAllowPublicAccess",
        "--action",
        "lambda:InvokeFunction",
        "--principal",
        "*",
        "--invoked-via-function-url",
    ]))
    .await;
    let both = curl(function_url.clone()).await;
    assert!(both.starts_with("HTTP/1.1 200"), "{both}");
    assert!(both.to_ascii_lowercase().contains("content-type: text/plain"), "{both}");
    assert!(both.ends_with("\r\n\r\nok\n"), "{both}");
    let policy = run(aws(&["lambda", "get-policy", "--function-name", "cli-lab"])).await;
    assert!(String::from_utf8_lossy(&policy.stdout).contains("InvokedViaFunctionUrl"));
    run(aws(&["lambda", "delete-function-url-config", "--function-name", "cli-lab"])).await;
    let gone = curl(function_url).await;
    assert!(gone.starts_with("HTTP/1.1 404"), "{gone}");

    let listed = run(aws(&["lambda", "list-functions"])).await;
    assert!(String::from_utf8_lossy(&listed.stdout).contains("cli-lab"));
    let logs =
        run(aws(&["logs", "filter-log-events", "--log-group-name", "/aws/lambda/cli-lab"])).await;
    assert!(String::from_utf8_lossy(&logs.stdout).contains("REPORT RequestId"));
    let identity = run(aws(&["sts", "get-caller-identity"])).await;
    assert!(String::from_utf8_lossy(&identity.stdout).contains("000000000000"));
    run(aws(&["lambda", "delete-function", "--function-name", "cli-lab"])).await;
    run(aws(&["logs", "delete-log-group", "--log-group-name", "/aws/lambda/cli-lab"])).await;
    let listed = run(aws(&["lambda", "list-functions"])).await;
    assert!(!String::from_utf8_lossy(&listed.stdout).contains("cli-lab"));
    run(aws(&[&["iam", "detach-role-policy"], &role_args[..]].concat())).await;
    run(aws(&["iam", "delete-role", "--role-name", "cli-lab-role"])).await;
    let roles = run(aws(&["iam", "list-roles"])).await;
    assert!(!String::from_utf8_lossy(&roles.stdout).contains("cli-lab-role"));
    std::fs::remove_dir_all(data_dir).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn awslambdaric_runs_python_functions_when_asked() {
    let data_dir = std::env::temp_dir().join(format!("engine-ric-{}", uuid::Uuid::new_v4()));
    let site = data_dir.join("awslambdaric");
    let mut pip = Command::new("python3");
    pip.args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target"])
        .arg(&site)
        .arg("awslambdaric");
    run(pip).await;
    let configure = |config: &mut EngineConfig| config.awslambdaric = Some(site);
    let handler = "def lambda_handler(event, context):\n    if event.get('fail'):\n        raise KeyError('gone')\n    return {'ric': True, 'id': context.aws_request_id}\n";
    let function = ("python3.12", "lambda_function.lambda_handler", "lambda_function.py", handler);
    official_client_runs(configure, function, "KeyError").await;
    std::fs::remove_dir_all(data_dir).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn aws_lambda_ric_runs_node_functions_when_asked() {
    // Its install builds a native part from source (cmake, a C++ compiler; ~2 minutes here), so
    // it is kept in the same cache as the build, installed once per machine.
    let cache = std::env::var_os("LAMBDAPORT_CACHE").map_or_else(
        || {
            std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/lambdaport")
        },
        std::path::PathBuf::from,
    );
    let prefix = cache.join("aws-lambda-ric");
    let package = prefix.join("node_modules/aws-lambda-ric");
    if !package.join("dist/rapid-client.node").exists() {
        let mut npm = Command::new("npm");
        npm.args(["install", "--no-save", "--no-audit", "--no-fund", "--prefix"])
            .arg(&prefix)
            .arg("aws-lambda-ric@3");
        run(npm).await;
    }
    let configure = |config: &mut EngineConfig| config.aws_lambda_ric = Some(package);
    let handler = "export const handler = async (event, context) => {\n  if (event.fail) throw new TypeError('gone');\n  return { ric: true, id: context.awsRequestId };\n};\n";
    let function = ("nodejs22.x", "index.handler", "index.mjs", handler);
    official_client_runs(configure, function, "TypeError").await;
}

/// Creates a function from one source file on an engine using AWS's runtime client, invokes it,
/// makes it fail, and checks both outcomes as Lambda reports them.
async fn official_client_runs(
    configure: impl FnOnce(&mut EngineConfig),
    (runtime, handler, file, source): (&str, &str, &str, &str),
    error_type: &str,
) {
    let engine = common::start_in(common::temp_dir(), configure).await;
    let (endpoint, client) = (&engine.base, &engine.client);
    let created = client
        .post(format!("{endpoint}/2015-03-31/functions"))
        .json(&serde_json::json!({
            "FunctionName": "ric", "Runtime": runtime, "Handler": handler,
            "Role": "arn:aws:iam::000000000000:role/lambda-role",
            "Code": { "ZipFile": common::zip_of(&[(file, source)]) },
        }))
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), 201);
    let invoke = |body: &'static str| {
        client.post(format!("{endpoint}/2015-03-31/functions/ric/invocations")).body(body).send()
    };
    let result: serde_json::Value = invoke("{}").await.expect("invoke").json().await.expect("json");
    if result["ric"] != true {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let logs = client
            .post(format!("{endpoint}/"))
            .header("X-Amz-Target", "Logs_20140328.FilterLogEvents")
            .header("Content-Type", "application/x-amz-json-1.1")
            .body(r#"{"logGroupName": "/aws/lambda/ric"}"#)
            .send()
            .await
            .expect("logs");
        panic!("{result}\n{}", logs.text().await.unwrap_or_default());
    }
    let failed = invoke("{\"fail\": true}").await.expect("invoke");
    assert!(failed.headers().get("x-amz-function-error").is_some());
    let error: serde_json::Value = failed.json().await.expect("json");
    assert_eq!(error["errorType"], error_type, "{error}");
    std::fs::remove_dir_all(&engine.data_dir).ok();
}

/// The AWS SDK for Rust's configuration for the engine at `endpoint`, with its keys.
fn sdk_config(endpoint: &str) -> aws_config::ConfigLoader {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_lambda::config::Credentials::new(
            "test", "test", None, None, "static",
        ))
        .endpoint_url(endpoint)
}

/// Creates a Python 3.12 function of `source` with the SDK.
async fn create_python(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    source: &str,
) -> aws_sdk_lambda::operation::create_function::CreateFunctionOutput {
    use aws_sdk_lambda::primitives::Blob;
    use aws_sdk_lambda::types::{FunctionCode, Runtime};
    let zip = {
        use base64::Engine as _;
        let b64 = common::zip_of(&[("lambda_function.py", source)]);
        base64::engine::general_purpose::STANDARD.decode(b64).expect("zip")
    };
    lambda
        .create_function()
        .function_name(name)
        .runtime(Runtime::Python312)
        .role("arn:aws:iam::000000000000:role/lambda-role")
        .handler("lambda_function.lambda_handler")
        .code(FunctionCode::builder().zip_file(Blob::new(zip)).build())
        .send()
        .await
        .expect("create")
}

#[tokio::test(flavor = "multi_thread")]
async fn aws_sdk_for_rust_runs_the_lifecycle() {
    use aws_sdk_lambda::client::Waiters as _;
    use aws_sdk_lambda::primitives::Blob;

    let (endpoint, data_dir, _stop) = start_engine().await;
    let config = sdk_config(&endpoint).load().await;
    let lambda = aws_sdk_lambda::Client::new(&config);

    let source = "def lambda_handler(event, context):\n    return {'sdk': event}\n";
    let created = create_python(&lambda, "sdk-fn", source).await;
    assert_eq!(
        created.function_arn(),
        Some("arn:aws:lambda:us-east-1:000000000000:function:sdk-fn")
    );
    lambda
        .wait_until_function_active_v2()
        .function_name("sdk-fn")
        .wait(std::time::Duration::from_secs(30))
        .await
        .expect("active");

    let invoked = lambda
        .invoke()
        .function_name("sdk-fn")
        .payload(Blob::new(br#"{"from":"rust"}"#.to_vec()))
        .log_type(aws_sdk_lambda::types::LogType::Tail)
        .send()
        .await
        .expect("invoke");
    assert_eq!(invoked.status_code(), 200);
    assert!(invoked.function_error().is_none());
    let payload: serde_json::Value =
        serde_json::from_slice(invoked.payload().expect("payload").as_ref()).expect("json");
    assert_eq!(payload, serde_json::json!({ "sdk": { "from": "rust" } }));
    assert!(invoked.log_result().is_some_and(|l| !l.is_empty()));

    let listed = lambda.list_functions().send().await.expect("list");
    assert_eq!(listed.functions().len(), 1);
    assert!(listed.next_marker().is_none());

    lambda.delete_function().function_name("sdk-fn").send().await.expect("delete");
    let missing = lambda.get_function().function_name("sdk-fn").send().await.expect_err("gone");
    assert!(
        missing.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()),
        "{missing:?}"
    );
    std::fs::remove_dir_all(data_dir).ok();
}

/// Lambda's CloudWatch metrics through the SDK's CloudWatch client (Smithy RPC v2 CBOR) and
/// boto3's: invocations, errors, duration, throttles at a reserved concurrency of 0, and an
/// asynchronous event received and aged — each counted where the engine does it.
#[tokio::test(flavor = "multi_thread")]
async fn cloudwatch_clients_read_lambda_metrics() {
    use aws_sdk_cloudwatch::primitives::DateTime;
    use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
    use aws_sdk_lambda::primitives::Blob;
    use aws_sdk_lambda::types::InvocationType;

    let (endpoint, data_dir, _stop) = start_engine().await;
    let config = sdk_config(&endpoint)
        // One try each: the SDK would retry a throttled invoke, and each try is a throttle.
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .load()
        .await;
    let lambda = aws_sdk_lambda::Client::new(&config);
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&config);
    let source = "def lambda_handler(event, context):\n    if event.get('fail'):\n        raise ValueError('asked to')\n    return 'ok'\n";
    create_python(&lambda, "counted", source).await;
    let invoke = |payload: &'static str, kind: InvocationType| {
        lambda
            .invoke()
            .function_name("counted")
            .invocation_type(kind)
            .payload(Blob::new(payload.as_bytes().to_vec()))
            .send()
    };
    let start = DateTime::from_secs(DateTime::from(std::time::SystemTime::now()).secs() - 60);
    invoke("{}", InvocationType::RequestResponse).await.expect("ok");
    invoke("{}", InvocationType::RequestResponse).await.expect("ok");
    let failed = invoke(r#"{"fail":true}"#, InvocationType::RequestResponse).await.expect("ran");
    assert_eq!(failed.function_error(), Some("Unhandled"));
    lambda
        .put_function_concurrency()
        .function_name("counted")
        .reserved_concurrent_executions(0)
        .send()
        .await
        .expect("reserve 0");
    let throttled = invoke("{}", InvocationType::RequestResponse).await.expect_err("throttled");
    assert!(
        throttled.as_service_error().is_some_and(|e| e.is_too_many_requests_exception()),
        "{throttled:?}"
    );
    lambda.delete_function_concurrency().function_name("counted").send().await.expect("unreserve");
    let queued = invoke("{}", InvocationType::Event).await.expect("queued");
    assert_eq!(queued.status_code(), 202);

    let query = |id: &str, name: &str, stat: &str| {
        let metric = Metric::builder()
            .namespace("AWS/Lambda")
            .metric_name(name)
            .dimensions(Dimension::builder().name("FunctionName").value("counted").build())
            .build();
        MetricDataQuery::builder()
            .id(id)
            .metric_stat(MetricStat::builder().metric(metric).period(3600).stat(stat).build())
            .build()
    };
    let read = || async {
        let end = DateTime::from_secs(DateTime::from(std::time::SystemTime::now()).secs() + 60);
        let answer = cloudwatch
            .get_metric_data()
            .metric_data_queries(query("invocations", "Invocations", "Sum"))
            .metric_data_queries(query("errors", "Errors", "Sum"))
            .metric_data_queries(query("durations", "Duration", "SampleCount"))
            .metric_data_queries(query("throttles", "Throttles", "Sum"))
            .metric_data_queries(query("concurrency", "ConcurrentExecutions", "Maximum"))
            .metric_data_queries(query("received", "AsyncEventsReceived", "Sum"))
            .metric_data_queries(query("age", "AsyncEventAge", "SampleCount"))
            .metric_data_queries(query("dropped", "AsyncEventsDropped", "Sum"))
            .start_time(start)
            .end_time(end)
            .send()
            .await
            .expect("GetMetricData");
        answer
            .metric_data_results()
            .iter()
            .map(|r| {
                assert_eq!(r.status_code().map(|s| s.as_str()), Some("Complete"));
                let total: f64 = r.values().iter().sum();
                (r.id().unwrap_or_default().to_owned(), total)
            })
            .collect::<std::collections::HashMap<String, f64>>()
    };
    // The queued event runs on the engine's worker: wait for its invocation to be counted.
    let mut totals = read().await;
    for _ in 0..100 {
        if totals["invocations"] >= 4.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        totals = read().await;
    }
    assert_eq!(totals["invocations"], 4.0, "three called, one queued: {totals:?}");
    assert_eq!(totals["errors"], 1.0, "{totals:?}");
    assert_eq!(totals["durations"], 4.0, "{totals:?}");
    assert_eq!(totals["throttles"], 1.0, "{totals:?}");
    assert_eq!(totals["concurrency"], 1.0, "one at a time: {totals:?}");
    assert_eq!(totals["received"], 1.0, "{totals:?}");
    assert_eq!(totals["age"], 1.0, "one try, one age: {totals:?}");
    assert_eq!(totals["dropped"], 0.0, "nothing dropped: {totals:?}");

    // Bad input gets CloudWatch's error codes.
    let now = DateTime::from(std::time::SystemTime::now());
    let bad_period = MetricDataQuery::builder()
        .id("bad")
        .metric_stat(
            MetricStat::builder()
                .metric(Metric::builder().namespace("AWS/Lambda").metric_name("Errors").build())
                .period(45)
                .stat("Sum")
                .build(),
        )
        .build();
    let refused = cloudwatch
        .get_metric_data()
        .metric_data_queries(bad_period)
        .start_time(DateTime::from_secs(now.secs() - 60))
        .end_time(now)
        .send()
        .await
        .expect_err("a period of 45 s");
    use aws_sdk_cloudwatch::error::ProvideErrorMetadata as _;
    assert_eq!(refused.code(), Some("InvalidParameterValue"), "{refused:?}");
    assert!(refused.message().is_some_and(|m| m.contains("multiple of 60")), "{refused:?}");

    // boto3 reads the same numbers over its own CBOR encoder.
    let script = format!(
        r#"
import boto3, datetime
cw = boto3.client("cloudwatch", endpoint_url="{endpoint}")
now = datetime.datetime.now(datetime.timezone.utc)
answer = cw.get_metric_data(
    MetricDataQueries=[{{"Id": "t", "MetricStat": {{"Metric": {{"Namespace": "AWS/Lambda",
        "MetricName": "Throttles", "Dimensions": [{{"Name": "FunctionName", "Value": "counted"}}]}},
        "Period": 60, "Stat": "Sum"}}}}],
    StartTime=now - datetime.timedelta(minutes=10), EndTime=now + datetime.timedelta(minutes=1))
print("throttles", sum(answer["MetricDataResults"][0]["Values"]))
"#
    );
    let mut command = Command::new("python3");
    command.arg("-c").arg(script);
    let output = run(command).await;
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "throttles 1.0");
    std::fs::remove_dir_all(data_dir).ok();
}

/// Tenant isolation through the SDK: a `PER_TENANT` function needs a tenant on every invoke, sees
/// it as `context.tenant_id`, and runs each tenant in environments of its own; a function without
/// it refuses a tenant — both with Lambda's `InvalidParameterValueException`.
#[tokio::test(flavor = "multi_thread")]
async fn tenant_isolated_functions_keep_tenants_apart() {
    use aws_sdk_lambda::primitives::Blob;
    use aws_sdk_lambda::types::{
        FunctionCode, InvocationType, Runtime, TenancyConfig, TenantIsolationMode,
    };

    let (endpoint, data_dir, _stop) = start_engine().await;
    let lambda = aws_sdk_lambda::Client::new(&sdk_config(&endpoint).load().await);
    // Each environment draws its own id once, at init.
    let source = "import uuid\nENVIRONMENT = str(uuid.uuid4())\n\ndef lambda_handler(event, context):\n    print('serving', context.tenant_id)\n    return {'tenant': context.tenant_id, 'environment': ENVIRONMENT}\n";
    let zip = {
        use base64::Engine as _;
        let b64 = common::zip_of(&[("lambda_function.py", source)]);
        base64::engine::general_purpose::STANDARD.decode(b64).expect("zip")
    };
    let created = lambda
        .create_function()
        .function_name("per-tenant")
        .runtime(Runtime::Python312)
        .role("arn:aws:iam::000000000000:role/lambda-role")
        .handler("lambda_function.lambda_handler")
        .code(FunctionCode::builder().zip_file(Blob::new(zip)).build())
        .tenancy_config(
            TenancyConfig::builder()
                .tenant_isolation_mode(TenantIsolationMode::PerTenant)
                .build()
                .expect("tenancy"),
        )
        .send()
        .await
        .expect("create");
    assert_eq!(
        created.tenancy_config().map(|t| t.tenant_isolation_mode()),
        Some(&TenantIsolationMode::PerTenant)
    );
    let invoke = |tenant: Option<&'static str>| {
        lambda.invoke().function_name("per-tenant").set_tenant_id(tenant.map(str::to_owned)).send()
    };
    let answer = |output: aws_sdk_lambda::operation::invoke::InvokeOutput| {
        let body: serde_json::Value =
            serde_json::from_slice(output.payload().expect("payload").as_ref()).expect("json");
        (body["tenant"].as_str().unwrap_or_default().to_owned(), body["environment"].clone())
    };
    let (tenant, blue) = answer(invoke(Some("blue")).await.expect("blue"));
    assert_eq!(tenant, "blue");
    let (_, blue_again) = answer(invoke(Some("blue")).await.expect("blue again"));
    assert_eq!(blue_again, blue, "a tenant's warm environment serves it again");
    let (tenant, green) = answer(invoke(Some("green")).await.expect("green"));
    assert_eq!(tenant, "green");
    assert_ne!(green, blue, "another tenant never gets blue's environment");

    let missing = invoke(None).await.expect_err("no tenant");
    assert!(
        missing.as_service_error().is_some_and(|e| e.is_invalid_parameter_value_exception()),
        "{missing:?}"
    );
    create_python(&lambda, "shared", "def lambda_handler(e, c):\n    return 'ok'\n").await;
    let refused = lambda
        .invoke()
        .function_name("shared")
        .tenant_id("blue")
        .send()
        .await
        .expect_err("a tenant for a shared function");
    assert!(
        refused.as_service_error().is_some_and(|e| e.is_invalid_parameter_value_exception()),
        "{refused:?}"
    );

    // A queued event keeps its tenant.
    let queued = lambda
        .invoke()
        .function_name("per-tenant")
        .invocation_type(InvocationType::Event)
        .tenant_id("red")
        .send()
        .await
        .expect("queued");
    assert_eq!(queued.status_code(), 202);
    let mut seen = false;
    for _ in 0..100 {
        let found: serde_json::Value = reqwest::Client::new()
            .post(format!("{endpoint}/"))
            .header("x-amz-target", "Logs_20140328.FilterLogEvents")
            .header("content-type", "application/x-amz-json-1.1")
            .body(r#"{"logGroupName":"/aws/lambda/per-tenant","filterPattern":"\"serving red\""}"#)
            .send()
            .await
            .expect("FilterLogEvents")
            .json()
            .await
            .expect("json");
        if found["events"].as_array().is_some_and(|e| !e.is_empty()) {
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(seen, "the queued event ran for tenant red");
    std::fs::remove_dir_all(data_dir).ok();
}
