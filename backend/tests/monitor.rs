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
