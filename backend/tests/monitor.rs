//! The Monitor tab's reading against a real engine: each invocation from its REPORT line, the
//! first one cold with its init duration, a raised error and a timeout counted as failures.

use serde_json::json;

mod common;
use common::{catalogued, engine, python_package};

const HANDLER: &str = r#"import time

def lambda_handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    if event.get("sleep"):
        time.sleep(event["sleep"])
    return "ok"
"#;

#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn invocations_are_read_from_their_report_lines(pool: sqlx::PgPool) {
    let (base, _stop) = engine().await;
    let client = reqwest::Client::new();
    let (connection, id, detail) = catalogued(
        &pool,
        &base,
        "metered",
        &python_package(HANDLER),
        json!({ "Timeout": 1, "MemorySize": 256 }),
    )
    .await;
    let now = || {
        i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
            .expect("ms")
    };
    let start = now() - 1;

    let before =
        backend::monitor::samples(&connection, &detail, start, now() + 1).await.expect("read");
    assert!(before.no_group && before.samples.is_empty());
    for event in [json!({}), json!({}), json!({ "fail": true }), json!({ "sleep": 3 }), json!({})] {
        client
            .post(format!("{base}/2015-03-31/functions/metered/invocations"))
            .json(&event)
            .send()
            .await
            .expect("invoke");
    }
    // The last REPORT line may land just after the invoke answers.
    let mut samples = Vec::new();
    for _ in 0..50 {
        samples = backend::monitor::samples(&connection, &detail, start, now() + 1)
            .await
            .expect("read")
            .samples;
        if samples.len() >= 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(samples.len(), 5, "{samples:?}");
    assert!(samples[0].init_ms.is_some(), "the first is a cold start: {:?}", samples[0]);
    assert!(samples[1].init_ms.is_none(), "the second is warm");
    assert_eq!(
        samples.iter().map(|s| s.failed).collect::<Vec<_>>(),
        [false, false, true, true, false],
        "the raised error and the timeout failed"
    );
    assert!(samples.iter().all(|s| s.memory_size_mb == 256 && s.max_memory_mb > 0));
    assert!(samples[3].duration_ms >= 900.0, "the timeout ran its second: {:?}", samples[3]);
    let buckets = backend::monitor::buckets(&samples, start, now(), 60_000);
    assert_eq!(buckets.iter().map(|b| b.invocations).sum::<u32>(), 5);
    assert_eq!(buckets.iter().map(|b| b.errors).sum::<u32>(), 2);
    assert_eq!(backend::monitor::architecture(&pool, id).await.expect("arch"), "x86_64");
}

/// Throttles and the asynchronous queue from CloudWatch metrics (GetMetricData through the
/// connection), counted into the same buckets as the REPORT lines.
#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn throttles_and_queued_events_are_read_from_metrics(pool: sqlx::PgPool) {
    let (base, _stop) = engine().await;
    let client = reqwest::Client::new();
    let (connection, _, detail) =
        catalogued(&pool, &base, "metered", &python_package(HANDLER), json!({})).await;
    let now = || {
        i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
            .expect("ms")
    };
    // Whole minutes, as the Monitor tab asks, the last holding now.
    let end = now().div_euclid(60_000) * 60_000 + 60_000 - 1;
    let start = end + 1 - 5 * 60_000;
    let counted = || backend::monitor::counted(&connection, &detail, start, end, 60_000);
    assert_eq!(counted().await.expect("read"), vec![Default::default(); 5], "nothing yet");

    let concurrency = format!("{base}/2017-10-31/functions/metered/concurrency");
    let reserve = |n: u32| {
        client.put(&concurrency).json(&json!({ "ReservedConcurrentExecutions": n })).send()
    };
    assert!(reserve(0).await.expect("reserve").status().is_success());
    let invoke = format!("{base}/2015-03-31/functions/metered/invocations");
    for _ in 0..2 {
        let throttled = client.post(&invoke).json(&json!({})).send().await.expect("invoke");
        assert_eq!(throttled.status(), 429);
    }
    assert!(client.delete(&concurrency).send().await.expect("unreserve").status().is_success());
    let queued = client
        .post(&invoke)
        .header("x-amz-invocation-type", "Event")
        .json(&json!({}))
        .send()
        .await
        .expect("queue");
    assert_eq!(queued.status(), 202);

    let mut buckets = Vec::new();
    for _ in 0..100 {
        buckets = counted().await.expect("read");
        if buckets.iter().any(|b| b.async_max_age_ms.is_some()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(buckets.len(), 5);
    assert_eq!(buckets.iter().map(|b| b.throttles).sum::<u32>(), 2, "{buckets:?}");
    assert_eq!(buckets.iter().map(|b| b.async_received).sum::<u32>(), 1, "{buckets:?}");
    assert_eq!(buckets.iter().map(|b| b.async_dropped).sum::<u32>(), 0, "{buckets:?}");
    let last = buckets.iter().rposition(|b| b.throttles > 0).expect("a bucket with throttles");
    assert!(last >= 3, "now is in the last minutes: {buckets:?}");
    assert!(buckets.iter().any(|b| b.async_max_age_ms.is_some_and(|age| age < 60_000.0)));
}

#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn costs_are_priced_from_the_metrics_per_function_and_team(pool: sqlx::PgPool) {
    let (base, _stop) = engine().await;
    let (_, big, _) = catalogued(
        &pool,
        &base,
        "priced-arm",
        &python_package(HANDLER),
        json!({ "MemorySize": 2048, "Architectures": ["arm64"] }),
    )
    .await;
    let (_, idle, _) =
        catalogued(&pool, &base, "priced-idle", &python_package(HANDLER), json!({})).await;
    let team = sqlx::query_scalar!("insert into team (name) values ('payments') returning team_id")
        .fetch_one(&pool)
        .await
        .expect("team");
    sqlx::query!("update catalog_function set team_id = $1 where function_id = $2", team, big)
        .execute(&pool)
        .await
        .expect("team set");
    let client = reqwest::Client::new();
    for i in 0..10 {
        let answer = client
            .post(format!("{base}/2015-03-31/functions/priced-arm/invocations"))
            .json(&json!({ "sleep": if i < 4 { 0.2 } else { 0.0 } }))
            .send()
            .await
            .expect("invoke");
        assert_eq!(answer.status(), 200);
    }

    // The last REPORT line may land just after the invoke answers.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let report = backend::governance::cost::report(&pool).await.expect("report");
    assert!(report.unread.is_empty(), "{:?}", report.unread);
    let arm = report.functions.iter().find(|f| f.function_id == big).expect("listed");
    assert_eq!((arm.requests, arm.memory_mb, arm.architecture.as_str()), (10.0, 2048, "arm64"));
    // Four invocations of at least 200 ms at 2 GB: at least 1.6 GB-s, priced at arm64's rate,
    // and the first one's INIT phase, read from its REPORT line.
    assert!((1.6..5.0).contains(&arm.gb_seconds), "{}", arm.gb_seconds);
    let looked = arm.looked_at.as_ref().expect("its logs were read");
    assert!(looked.init_cost > 0.0, "a cold start has an INIT phase: {looked:?}");
    let expected = 10.0 * 0.000_000_2 + arm.gb_seconds * 0.000_013_333_4 + looked.init_cost;
    assert!((arm.cost - expected).abs() < 1e-12, "{} vs {expected}", arm.cost);
    // Python's handler uses a few tens of MB of its 2 GB: 128 MB would do, at a sixteenth.
    let (size, used, suggested) = looked.memory.expect("a smaller size");
    assert_eq!(size, 2048);
    assert!(used > 0 && used < 200 && suggested < 512, "{used} {suggested}");
    let duration_cost = arm.gb_seconds * 0.000_013_333_4;
    let saving = duration_cost * (1.0 - f64::from(suggested) / 2048.0);
    assert!((looked.saving - saving).abs() < 1e-12, "{} vs {saving}", looked.saving);
    assert_eq!(arm.previous_cost, 0.0);
    let quiet = report.functions.iter().find(|f| f.function_id == idle).expect("listed");
    assert_eq!((quiet.requests, quiet.cost, &quiet.looked_at), (0.0, 0.0, &None));
    // By team, dearest first; all of it under the free tier.
    assert_eq!(report.teams[0].team.as_deref(), Some("payments"));
    assert_eq!((report.teams[0].functions, report.teams[1].team.as_deref()), (1, None));
    assert!((report.total - arm.cost).abs() < 1e-12);
    assert!((report.free_tier - report.total).abs() < 1e-12, "the free tier covers it");
    assert_eq!(report.monthly, 0.0);
}
