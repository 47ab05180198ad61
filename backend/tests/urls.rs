//! The URL tab against a real engine: a URL created public with CORS, its policy linted and
//! described, requests sent by the tester (and again by the curl it writes), the doctor on a
//! raised error, a return value JSON cannot hold, a missing statement, a throttled function and an unsigned call to an `AWS_IAM`
//! URL, the preflight simulator on an allowed and a refused origin, and the URL deleted with its
//! statements — every change audited.

use std::time::Duration;

use backend::audit::Actor;
use backend::urls::{self, UrlInput, cors::Cors, policy, tester::HttpRequest};
use serde_json::json;

mod common;
use common::{account, catalogued, engine, python_package};

const HANDLER: &str = r#"import json

def lambda_handler(event, context):
    query = event.get("queryStringParameters") or {}
    if query.get("fail"):
        raise ValueError("asked to fail")
    if query.get("unjsonable"):
        return {"statusCode": 200, "body": {1, 2}}
    echo = {
        "method": event["requestContext"]["http"]["method"],
        "path": event["rawPath"],
        "query": event.get("rawQueryString"),
        "cookies": event.get("cookies", []),
        "trace": event["headers"].get("x-trace"),
        "body": event.get("body"),
    }
    return {"statusCode": 201, "headers": {"content-type": "application/json"}, "body": json.dumps(echo)}
"#;

fn request(method: &str, path: &str, query: &str) -> HttpRequest {
    HttpRequest {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        headers: vec![("x-trace".into(), "t-1".into())],
        cookies: "session=abc; theme=dark".into(),
        body: if method == "GET" { String::new() } else { r#"{"qty": 2}"#.into() },
    }
}

/// Runs the tester's curl command with the engine's keys in the environment; its status code.
/// Off the test's runtime, which also serves the engine curl calls.
async fn run_curl(command: &str) -> u16 {
    let script = format!("{command} -o /dev/null -w '%{{http_code}}'");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .output()
    })
    .await
    .expect("joined")
    .expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim().rsplit('\n').next().unwrap_or_default().parse().unwrap_or_else(|_| {
        panic!("curl printed {text:?}, {}", String::from_utf8_lossy(&out.stderr))
    })
}

#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn a_url_is_configured_linted_tested_doctored_and_deleted(pool: sqlx::PgPool) {
    let (base, _stop) = engine().await;
    let (connection, id, detail) =
        catalogued(&pool, &base, "web", &python_package(HANDLER), json!({ "Timeout": 10 })).await;
    let ada = account(&pool, "ada@example.com", "developer").await;
    let actor = Actor::account(ada.account_id, None);

    let none = urls::read(&connection, &detail).await.expect("read");
    assert!(none.config.is_none() && none.statements.is_empty() && none.findings.is_empty());
    let refused = urls::send(&pool, ada.account_id, &connection, &detail, &request("GET", "/", ""))
        .await
        .expect_err("no URL yet");
    assert!(refused.to_string().contains("no URL"), "{refused}");

    // Public, with CORS for one origin.
    let cors = Cors {
        allow_origins: vec!["https://app.example.com".into()],
        allow_methods: vec!["PUT".into(), "GET".into()],
        allow_headers: vec!["content-type".into()],
        ..Cors::default()
    };
    let input = UrlInput {
        expires_in_minutes: None,
        auth_type: "NONE".into(),
        invoke_mode: "BUFFERED".into(),
        cors: Some(cors.clone()),
    };
    let bad = UrlInput {
        cors: Some(Cors { allow_origins: vec!["app.example.com".into()], ..cors.clone() }),
        ..input.clone()
    };
    assert!(urls::save(&pool, &actor, &connection, &detail, &bad).await.is_err());
    let url = urls::save(&pool, &actor, &connection, &detail, &input).await.expect("save");
    let state = urls::read(&connection, &detail).await.expect("read");
    assert_eq!(state.config.as_ref().map(|c| c.url.as_str()), Some(url.as_str()));
    assert_eq!(state.config.as_ref().and_then(|c| c.cors.clone()), Some(cors.clone()));
    assert_eq!(state.statements.len(), 2, "both public statements were added");
    assert_eq!(state.findings, vec![], "a public URL with both statements is clean");
    assert!(
        state
            .statements
            .iter()
            .map(policy::describe)
            .any(|w| w == "Anyone may invoke the function, only through the Function URL.")
    );

    // The tester's request reaches the handler as sent; its curl does the same.
    let sent = urls::send(
        &pool,
        ada.account_id,
        &connection,
        &detail,
        &request("POST", "/orders/7", "x=1"),
    )
    .await
    .expect("send");
    assert_eq!(sent.exchange.call.status, 201, "{:?}", sent.exchange);
    assert!(sent.diagnosis.is_none());
    assert!(!sent.exchange.signed);
    let echo: serde_json::Value = serde_json::from_str(&sent.exchange.call.body).expect("json");
    assert_eq!(
        echo,
        json!({ "method": "POST", "path": "/orders/7", "query": "x=1", "trace": "t-1",
                "cookies": ["session=abc", "theme=dark"], "body": "{\"qty\": 2}" })
    );
    assert_eq!(run_curl(&sent.curl).await, 201, "{}", sent.curl);

    // A raised error: 502, and the doctor reads what the handler raised.
    let failed =
        urls::send(&pool, ada.account_id, &connection, &detail, &request("GET", "/", "fail=1"))
            .await
            .expect("send");
    assert_eq!(failed.exchange.call.status, 502);
    let diagnosis = failed.diagnosis.expect("diagnosed");
    assert!(diagnosis.problem.contains("handler raised"), "{diagnosis:?}");
    assert!(diagnosis.details[0].contains("asked to fail"), "{diagnosis:?}");
    // A return value JSON cannot hold: the doctor says so, not that the handler raised.
    let unjsonable = urls::send(
        &pool,
        ada.account_id,
        &connection,
        &detail,
        &request("GET", "/", "unjsonable=1"),
    )
    .await
    .expect("send");
    assert_eq!(unjsonable.exchange.call.status, 502);
    let diagnosis = unjsonable.diagnosis.expect("diagnosed");
    assert!(diagnosis.problem.contains("Runtime.MarshalError"), "{diagnosis:?}");
    assert!(diagnosis.advice.contains("isoformat"), "{diagnosis:?}");

    // One statement removed: the linter and the doctor both name it, and the fix restores it.
    let remove = policy::PolicyFix::Remove(policy::INVOKE_STATEMENT.into());
    urls::fix(&pool, &actor, &connection, &detail, &remove).await.expect("remove");
    let state = urls::read(&connection, &detail).await.expect("read");
    assert_eq!(state.findings.len(), 1, "{:?}", state.findings);
    assert!(state.findings[0].message.contains(policy::INVOKE_STATEMENT));
    assert_eq!(state.findings[0].fix, Some(policy::PolicyFix::AddStatements));
    let forbidden =
        urls::send(&pool, ada.account_id, &connection, &detail, &request("GET", "/", ""))
            .await
            .expect("send");
    assert_eq!(forbidden.exchange.call.status, 403);
    let diagnosis = forbidden.diagnosis.expect("diagnosed");
    assert!(
        diagnosis.problem.contains(&format!("missing {}", policy::INVOKE_STATEMENT)),
        "{diagnosis:?}"
    );
    assert_eq!(run_curl(&forbidden.curl).await, 403);
    urls::fix(&pool, &actor, &connection, &detail, &policy::PolicyFix::AddStatements)
        .await
        .expect("add");
    assert_eq!(urls::read(&connection, &detail).await.expect("read").findings, vec![]);

    // The preflight simulator: the configured origin passes, another is refused with the fix.
    let preflight = |origin: &str| urls::cors::Preflight {
        origin: origin.into(),
        method: "PUT".into(),
        headers: vec!["Content-Type".into()],
        credentials: false,
    };
    let allowed = urls::cors::simulate(&url, &preflight("https://app.example.com"), Some(&cors))
        .await
        .expect("preflight");
    assert!(allowed.allowed, "{:?}", allowed.checks);
    let refused = urls::cors::simulate(&url, &preflight("https://evil.example"), Some(&cors))
        .await
        .expect("preflight");
    assert!(!refused.allowed);
    assert_eq!(
        refused.changes,
        vec!["Add https://evil.example to AllowOrigins (now: https://app.example.com).".to_owned()]
    );

    // Throttled: reserved concurrency 0 turns the URL off, and the doctor says so.
    let put = reqwest::Client::new()
        .put(format!("{base}/2017-10-31/functions/web/concurrency"))
        .json(&json!({ "ReservedConcurrentExecutions": 0 }))
        .send()
        .await
        .expect("concurrency");
    assert!(put.status().is_success(), "{:?}", put.text().await);
    let throttled =
        urls::send(&pool, ada.account_id, &connection, &detail, &request("GET", "/", ""))
            .await
            .expect("send");
    assert_eq!(throttled.exchange.call.status, 429);
    assert!(throttled.diagnosis.expect("diagnosed").problem.contains("reserved concurrency is 0"));
    reqwest::Client::new()
        .delete(format!("{base}/2017-10-31/functions/web/concurrency"))
        .send()
        .await
        .expect("concurrency");

    // AWS_IAM: the tester signs, and so does its curl; an unsigned call is refused and diagnosed.
    let iam = UrlInput { auth_type: "AWS_IAM".into(), ..input.clone() };
    urls::save(&pool, &actor, &connection, &detail, &iam).await.expect("iam");
    let state = urls::read(&connection, &detail).await.expect("read");
    assert_eq!(state.findings.len(), 2, "the public statements are unused: {:?}", state.findings);
    let signed =
        urls::send(&pool, ada.account_id, &connection, &detail, &request("PUT", "/signed", ""))
            .await
            .expect("send");
    assert!(signed.exchange.signed);
    assert_eq!(signed.exchange.call.status, 201, "{:?}", signed.exchange.call);
    assert!(signed.curl.contains("--aws-sigv4 aws:amz:us-east-1:lambda"), "{}", signed.curl);
    assert_eq!(run_curl(&signed.curl).await, 201, "{}", signed.curl);
    let unsigned = backend::urls::tester::send_get(&url, Duration::from_secs(10)).await;
    assert_eq!(unsigned.status, 403);
    let lambda = connection.lambda("us-east-1").await;
    let context =
        urls::doctor::Context { function: "web", timeout_s: 10, event: json!({}), signed: false };
    let diagnosis = urls::doctor::diagnose(&lambda, &context, &unsigned).await.expect("doctor");
    assert!(diagnosis.expect("diagnosed").problem.contains("AWS_IAM"));

    // The history is the sender's, newest first.
    let history = urls::history(&pool, ada.account_id, id).await.expect("history");
    assert_eq!(
        history.iter().map(|p| (p.request.method.as_str(), p.status)).collect::<Vec<_>>(),
        vec![("PUT", 201), ("GET", 429), ("GET", 403), ("GET", 502), ("GET", 502), ("POST", 201)]
    );
    let bob = account(&pool, "bob@example.com", "developer").await;
    assert!(urls::history(&pool, bob.account_id, id).await.expect("history").is_empty());

    // Deleted with its statements: nothing left for the linter.
    urls::delete(&pool, &actor, &connection, &detail, true).await.expect("delete");
    let state = urls::read(&connection, &detail).await.expect("read");
    assert!(state.config.is_none() && state.statements.is_empty(), "{state:?}");
    let url_column: Option<String> =
        sqlx::query_scalar("select url from catalog_function where function_id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .expect("catalog");
    assert_eq!(url_column, None);
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_event where target = 'function:web' order by audit_event_id",
    )
    .fetch_all(&pool)
    .await
    .expect("audit");
    assert_eq!(
        actions,
        [
            "function.create_url",
            "function.fix_url_policy",
            "function.fix_url_policy",
            "function.update_url",
            "function.delete_url"
        ]
    );
}
