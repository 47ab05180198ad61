//! A function's logs through the SDK against a real engine: the group and its retention, a
//! search with a filter pattern and context, paged newest and oldest first without a line lost
//! or shown twice, one invocation's lines together, and the live tail (StartLiveTail, whose host
//! prefix the engine does not need).

use std::time::Duration;

use backend::logs::{self, Order, Query};
use serde_json::{Value, json};

mod common;
use common::{account, engine};

async fn logs_call(base: &str, operation: &str, body: Value) -> Value {
    let answer = reqwest::Client::new()
        .post(base)
        .header("x-amz-target", format!("Logs_20140328.{operation}"))
        .header("content-type", "application/x-amz-json-1.1")
        .body(body.to_string())
        .send()
        .await
        .expect("logs call");
    assert!(answer.status().is_success(), "{operation}: {:?}", answer.text().await);
    answer.json().await.unwrap_or(Value::Null)
}

/// `ledger` in the catalog, with a connection to the engine at `base`.
async fn ledger(
    pool: &sqlx::PgPool,
    base: &str,
) -> (backend::connections::Connection, backend::catalog::Detail) {
    let created = reqwest::Client::new()
        .post(format!("{base}/2015-03-31/functions"))
        .json(&json!({
            "FunctionName": "ledger", "Runtime": "python3.12", "Handler": "app.handler",
            "Role": "arn:aws:iam::000000000000:role/r",
            "Code": { "ZipFile": "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==" },
        }))
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), 201);
    let local = backend::connections::ensure_local(pool, base, "us-east-1").await.expect("local");
    let connection = backend::connections::get(pool, local).await.expect("connection");
    backend::catalog::sync(pool, &connection).await.expect("sync");
    let id: uuid::Uuid =
        sqlx::query_scalar("select function_id from catalog_function where name = 'ledger'")
            .fetch_one(pool)
            .await
            .expect("shadow");
    (connection, backend::catalog::detail(pool, id).await.expect("detail"))
}

fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).expect("ms")
}

fn query(pattern: &str, order: Order, context: usize, limit: usize) -> Query {
    let now = now_ms();
    Query {
        pattern: pattern.to_owned(),
        start_ms: now - 3_600_000,
        end_ms: now + 1,
        order,
        context,
        stream: None,
        cursor: None,
        limit,
    }
}

/// Every matched line of every page of `query`, in the order shown.
async fn all_pages(
    connection: &backend::connections::Connection,
    detail: &backend::catalog::Detail,
    mut query: Query,
) -> Vec<String> {
    let mut shown = Vec::new();
    for _ in 0..50 {
        let page = logs::search(connection, detail, &query).await.expect("search");
        shown.extend(
            page.blocks
                .iter()
                .flat_map(|b| &b.lines)
                .filter(|l| l.matched)
                .map(|l| l.message.clone()),
        );
        match page.next {
            Some(next) => query.cursor = Some(next),
            None => return shown,
        }
    }
    panic!("more than 50 pages");
}

#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn logs_are_searched_paged_grouped_and_tailed_through_the_sdk(pool: sqlx::PgPool) {
    let (base, _stop) = engine().await;
    let (connection, detail) = ledger(&pool, &base).await;

    // No group before the first line: said, not an error.
    let group = logs::group(&connection, &detail).await.expect("group");
    assert!(!group.exists);
    let page = logs::search(&connection, &detail, &query("", Order::NewestFirst, 0, 10))
        .await
        .expect("search without a group");
    assert!(!page.group_exists);

    // Two environments' streams: JSON lines and an invocation's platform lines; some lines share
    // a millisecond, as a burst does.
    let group_name = "/aws/lambda/ledger";
    logs_call(&base, "CreateLogGroup", json!({ "logGroupName": group_name })).await;
    let t = now_ms() - 600_000;
    let mut a = Vec::new();
    for n in 0..12i64 {
        let level = if n % 3 == 0 { "ERROR" } else { "INFO" };
        a.push(json!({ "timestamp": t + (n / 2) * 1000, "message": format!("{{\"level\":\"{level}\",\"n\":{n}}}") }));
    }
    let b = vec![
        json!({ "timestamp": t + 500, "message": "START RequestId: 1f2e-aa Version: $LATEST" }),
        json!({ "timestamp": t + 501, "message": "handling order 7" }),
        json!({ "timestamp": t + 502, "message": "{\"level\":\"ERROR\",\"n\":100}" }),
        json!({ "timestamp": t + 503, "message": "END RequestId: 1f2e-aa" }),
        json!({ "timestamp": t + 503, "message": "REPORT RequestId: 1f2e-aa\tDuration: 2.00 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 30 MB" }),
        json!({ "timestamp": t + 9000, "message": "after the invocation" }),
    ];
    for (stream, events) in [("2026/12/02/[$LATEST]a", a), ("2026/12/02/[$LATEST]b", b)] {
        logs_call(
            &base,
            "CreateLogStream",
            json!({ "logGroupName": group_name, "logStreamName": stream }),
        )
        .await;
        logs_call(
            &base,
            "PutLogEvents",
            json!({ "logGroupName": group_name, "logStreamName": stream, "logEvents": events }),
        )
        .await;
    }
    let (streams, _) = logs::streams(&connection, &detail, None).await.expect("streams");
    assert_eq!(streams.len(), 2);
    assert!(streams.iter().all(|s| s.first_ms.is_some() && s.last_ms >= s.first_ms));

    // A JSON pattern, with a line of context: matches marked, context around them in their
    // stream, close matches sharing a block.
    let errors = r#"{ $.level = "ERROR" }"#;
    let page = logs::search(&connection, &detail, &query(errors, Order::OldestFirst, 1, 100))
        .await
        .expect("search");
    assert_eq!(page.matches, 5, "n = 0, 3, 6, 9 and 100");
    let order_7 = page
        .blocks
        .iter()
        .find(|b| b.lines.iter().any(|l| l.message.contains("\"n\":100")))
        .expect("the second stream's match");
    let texts: Vec<&str> = order_7.lines.iter().map(|l| l.message.as_str()).collect();
    assert_eq!(texts[0], "handling order 7", "a line before");
    assert!(texts[2].starts_with("END RequestId"), "a line after: {texts:?}");
    assert_eq!(order_7.lines.iter().filter(|l| l.matched).count(), 1);
    let first = &page.blocks[0];
    assert_eq!(first.lines[0].message, "{\"level\":\"ERROR\",\"n\":0}");
    assert!(first.lines[0].matched && !first.lines[1].matched, "n = 0, then n = 1 as context");

    // Pages of two, both ways: every line once, in order.
    let everything: Vec<String> =
        all_pages(&connection, &detail, query("", Order::OldestFirst, 0, 1000)).await;
    assert_eq!(everything.len(), 18);
    let oldest = all_pages(&connection, &detail, query("", Order::OldestFirst, 0, 2)).await;
    assert_eq!(oldest, everything);
    let newest = all_pages(&connection, &detail, query("", Order::NewestFirst, 0, 2)).await;
    let mut reversed = newest.clone();
    reversed.reverse();
    let sorted_times = |lines: &[String]| {
        let mut lines = lines.to_vec();
        lines.sort();
        lines
    };
    assert_eq!(sorted_times(&reversed), sorted_times(&everything), "every line once: {newest:?}");
    assert_eq!(newest[0], "after the invocation", "the newest first");

    // A pattern the cloud refuses is the pattern's fault, said as such.
    let refused =
        logs::search(&connection, &detail, &query("{ $.level = ", Order::NewestFirst, 0, 10))
            .await
            .expect_err("a broken pattern");
    assert!(matches!(refused, backend::Error::Validation { field: "pattern", .. }), "{refused}");

    // The invocation: its lines from START to REPORT, the line after left out.
    let range = (t - 1000, now_ms() + 1);
    let invocation = logs::invocation(&connection, &detail, "1f2e-aa", range)
        .await
        .expect("invocation")
        .expect("found");
    let texts: Vec<&str> = invocation.lines.iter().map(|l| l.message.as_str()).collect();
    assert_eq!(texts.len(), 5, "{texts:?}");
    assert!(texts[0].starts_with("START") && texts[4].starts_with("REPORT"));
    assert_eq!(invocation.lines[4].request_id(), Some("1f2e-aa"));
    assert!(logs::invocation(&connection, &detail, "nope", range).await.expect("none").is_none());
    assert!(logs::invocation(&connection, &detail, "\" OR x", range).await.is_err());

    // Retention: set, shown, removed; a period CloudWatch does not offer is refused.
    let owner = account(&pool, "owner@example.com", "developer").await;
    let actor = backend::audit::Actor::account(owner.account_id, None);
    logs::set_retention(&pool, &actor, &connection, &detail, Some(7)).await.expect("retention");
    assert_eq!(logs::group(&connection, &detail).await.expect("group").retention_days, Some(7));
    logs::set_retention(&pool, &actor, &connection, &detail, None).await.expect("forever");
    assert_eq!(logs::group(&connection, &detail).await.expect("group").retention_days, None);
    assert!(logs::set_retention(&pool, &actor, &connection, &detail, Some(8)).await.is_err());
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_event where action = 'function.set_log_retention' and actor_id = $1 and target = 'function:ledger'",
    )
    .bind(owner.account_id)
    .fetch_one(&pool)
    .await
    .expect("audit");
    assert_eq!(audited, 2, "each change audited, the refused one not");

    // The live tail through the SDK: a line written after it starts arrives, a line the
    // pattern leaves out does not.
    let mut tail = logs::tail(&connection, &detail, "ERROR").await.expect("tail");
    let written = now_ms();
    logs_call(
        &base,
        "PutLogEvents",
        json!({ "logGroupName": group_name, "logStreamName": "2026/12/02/[$LATEST]b", "logEvents": [
            { "timestamp": written, "message": "fine" },
            { "timestamp": written, "message": "ERROR live" },
        ] }),
    )
    .await;
    let update = loop {
        let update = tokio::time::timeout(Duration::from_secs(5), tail.next())
            .await
            .expect("an update within 5 s")
            .expect("update")
            .expect("open");
        if !update.lines.is_empty() {
            break update;
        }
    };
    let messages: Vec<&str> = update.lines.iter().map(|l| l.message.as_str()).collect();
    assert_eq!(messages, ["ERROR live"]);
    assert_eq!(update.lines[0].stream, "2026/12/02/[$LATEST]b");
}
