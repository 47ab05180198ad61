//! A function's invocations over a time range, read from its `REPORT` lines (and the error and
//! timeout lines beside them) with CloudWatch Logs' FilterLogEvents — the same on the engine and
//! on AWS: duration, billed duration, init duration on a cold start, memory used of memory size,
//! and whether the invocation failed. What no log line says — throttles, the asynchronous queue —
//! comes from CloudWatch metrics (`counted`). The Monitor tab draws and prices them.

use std::collections::HashMap;

use crate::catalog::Detail;
use crate::cloud::{CloudFailure, failed};
use crate::connections::Connection;
use crate::error::{Error, Result};

/// The most log events one Monitor reading looks at (20 pages).
pub const MAX_EVENTS: usize = 20 * 10_000;

/// One invocation, from its REPORT line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sample {
    pub at_ms: i64,
    pub request_id: String,
    pub duration_ms: f64,
    pub billed_ms: f64,
    /// Only on a cold start.
    pub init_ms: Option<f64>,
    pub memory_size_mb: u32,
    pub max_memory_mb: u32,
    /// The handler raised, timed out, or the runtime exited.
    pub failed: bool,
}

/// The invocations in a range, and whether there were more lines than one reading takes.
#[derive(Clone, Debug, Default)]
pub struct Samples {
    pub samples: Vec<Sample>,
    pub truncated: bool,
    /// The function has written no log group yet.
    pub no_group: bool,
}

/// `REPORT RequestId: <id>\tDuration: 15.74 ms\t…`, parsed.
pub fn parse_report(at_ms: i64, message: &str) -> Option<Sample> {
    let rest = message.strip_prefix("REPORT RequestId: ")?;
    let mut fields = rest.split('\t').map(str::trim);
    let request_id = fields.next()?.to_owned();
    let mut sample = Sample { at_ms, request_id, ..Sample::default() };
    let number = |value: &str, unit: &str| {
        value.strip_suffix(unit).and_then(|v| v.trim().parse::<f64>().ok())
    };
    for field in fields {
        let Some((name, value)) = field.split_once(": ") else { continue };
        match name {
            "Duration" => sample.duration_ms = number(value, "ms")?,
            "Billed Duration" => sample.billed_ms = number(value, "ms")?,
            "Init Duration" => sample.init_ms = number(value, "ms"),
            "Memory Size" => sample.memory_size_mb = number(value, "MB")? as u32,
            "Max Memory Used" => sample.max_memory_mb = number(value, "MB").unwrap_or(0.0) as u32,
            "Status" => sample.failed |= value != "success",
            _ => {}
        }
    }
    Some(sample)
}

/// The request id an error line names: Python's `[ERROR]\t<time>\t<id>\t…`, Node's
/// `<time>\t<id>\tERROR\t…`, a timeout's `<time> <id> Task timed out…`, a crash's
/// `RequestId: <id> Error: …`.
fn failed_request(message: &str) -> Option<&str> {
    if let Some(rest) = message.strip_prefix("RequestId: ") {
        return rest.split_whitespace().next();
    }
    if message.contains("Task timed out") {
        return message.split_whitespace().nth(1);
    }
    let fields: Vec<&str> = message.split('\t').collect();
    match fields.as_slice() {
        ["[ERROR]", _, id, ..] => Some(id),
        [_, id, "ERROR", ..] => Some(id),
        _ => None,
    }
}

/// Reads the invocations between `start_ms` and `end_ms`: the REPORT lines, with those whose
/// request logged an error, a timeout or a crash marked failed.
pub async fn samples(
    connection: &Connection,
    detail: &Detail,
    start_ms: i64,
    end_ms: i64,
) -> Result<Samples> {
    let logs = connection.logs(&detail.entry.region).await;
    let group = format!("/aws/lambda/{}", detail.entry.name);
    let mut reports = Vec::new();
    let mut failures: HashMap<String, ()> = HashMap::new();
    let mut token = None;
    let mut seen = 0usize;
    let mut out = Samples::default();
    loop {
        let page = logs
            .filter_log_events()
            .log_group_name(&group)
            .start_time(start_ms)
            .end_time(end_ms)
            .filter_pattern("?\"REPORT RequestId\" ?ERROR ?\"Task timed out\" ?\"Runtime exited\"")
            .set_next_token(token.take())
            .send()
            .await
            .map_err(failed("FilterLogEvents"));
        let page = match page {
            Err(Error::Cloud { failure: CloudFailure::NotFound, .. }) => {
                out.no_group = true;
                return Ok(out);
            }
            other => other?,
        };
        for event in page.events() {
            let message = event.message().unwrap_or_default();
            let at = event.timestamp().unwrap_or_default();
            if let Some(sample) = parse_report(at, message) {
                reports.push(sample);
            } else if let Some(id) = failed_request(message) {
                failures.insert(id.to_owned(), ());
            }
        }
        seen += page.events().len();
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
        if seen >= MAX_EVENTS {
            out.truncated = true;
            break;
        }
    }
    for sample in &mut reports {
        sample.failed |= failures.contains_key(&sample.request_id);
    }
    reports.sort_by_key(|s| s.at_ms);
    out.samples = reports;
    Ok(out)
}

/// What CloudWatch's `AWS/Lambda` metrics say of one bucket beyond the log lines: invocations
/// refused (throttles), and the asynchronous queue (events received, dropped, the oldest age).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Counted {
    pub throttles: u32,
    pub async_received: u32,
    pub async_dropped: u32,
    pub async_max_age_ms: Option<f64>,
}

/// The metrics GetMetricData is asked for, with their statistic.
const COUNTED: [(&str, &str, &str); 4] = [
    ("throttles", "Throttles", "Sum"),
    ("received", "AsyncEventsReceived", "Sum"),
    ("dropped", "AsyncEventsDropped", "Sum"),
    ("age", "AsyncEventAge", "Maximum"),
];

/// Reads throttles and the asynchronous queue from CloudWatch metrics (GetMetricData, the same
/// call on the engine and on AWS) in buckets of `step_ms` (a multiple of a minute) from
/// `start_ms` to `end_ms`.
pub async fn counted(
    connection: &Connection,
    detail: &Detail,
    start_ms: i64,
    end_ms: i64,
    step_ms: i64,
) -> Result<Vec<Counted>> {
    use aws_sdk_cloudwatch::primitives::DateTime;
    use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy};
    let step = step_ms.max(60_000);
    let count = usize::try_from((end_ms - start_ms).max(0).div_euclid(step) + 1).unwrap_or(1);
    let mut buckets = vec![Counted::default(); count];
    let client = connection.metrics(&detail.entry.region).await;
    let dimension = Dimension::builder().name("FunctionName").value(&detail.entry.name).build();
    let queries = COUNTED.iter().map(|(id, name, stat)| {
        let metric = Metric::builder()
            .namespace("AWS/Lambda")
            .metric_name(*name)
            .dimensions(dimension.clone())
            .build();
        let stat = MetricStat::builder()
            .metric(metric)
            .period(i32::try_from(step / 1000).unwrap_or(i32::MAX))
            .stat(*stat)
            .build();
        MetricDataQuery::builder().id(*id).metric_stat(stat).build()
    });
    let mut token = None;
    loop {
        let page = client
            .get_metric_data()
            .set_metric_data_queries(Some(queries.clone().collect()))
            .start_time(DateTime::from_millis(start_ms))
            .end_time(DateTime::from_millis(end_ms + 1))
            .scan_by(ScanBy::TimestampAscending)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(failed("GetMetricData"))?;
        for result in page.metric_data_results() {
            for (at, value) in result.timestamps().iter().zip(result.values()) {
                let Ok(i) =
                    usize::try_from((at.to_millis().unwrap_or(0) - start_ms).div_euclid(step))
                else {
                    continue;
                };
                let Some(bucket) = buckets.get_mut(i) else { continue };
                let whole = *value as u32;
                match result.id() {
                    Some("throttles") => bucket.throttles += whole,
                    Some("received") => bucket.async_received += whole,
                    Some("dropped") => bucket.async_dropped += whole,
                    Some("age") => {
                        bucket.async_max_age_ms =
                            Some(bucket.async_max_age_ms.map_or(*value, |m| m.max(*value)))
                    }
                    _ => {}
                }
            }
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(buckets);
        }
    }
}

/// The function's architecture as the catalog last read it (`x86_64` when unknown), for prices.
pub async fn architecture(pool: &sqlx::PgPool, function_id: uuid::Uuid) -> Result<String> {
    let architecture = sqlx::query_scalar!(
        "select architecture from catalog_function where function_id = $1",
        function_id
    )
    .fetch_one(pool)
    .await?;
    Ok(architecture.unwrap_or_else(|| "x86_64".to_owned()))
}

/// The `q`-quantile (0–1) of `values`, nearest rank; none when empty.
pub fn quantile(values: &mut [f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    Some(values[rank - 1])
}

/// The invocations of one time bucket.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bucket {
    pub start_ms: i64,
    pub invocations: u32,
    pub errors: u32,
    pub cold_starts: u32,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_init_ms: Option<f64>,
    /// The most invocations running at once (from each one's start, its REPORT time less its
    /// duration, to its REPORT time).
    pub peak_concurrency: u32,
}

/// For each sample, how many invocations (itself included) were running when it started.
fn concurrency_at_start(samples: &[Sample]) -> Vec<u32> {
    // (time, +1 start / -1 end, sample); ends before starts at the same instant.
    let mut events: Vec<(f64, i8, usize)> = Vec::with_capacity(samples.len() * 2);
    for (i, s) in samples.iter().enumerate() {
        let end = s.at_ms as f64;
        events.push((end - s.duration_ms, 1, i));
        events.push((end, -1, i));
    }
    events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut running = 0u32;
    let mut at_start = vec![0; samples.len()];
    for (_, change, i) in events {
        if change > 0 {
            running += 1;
            at_start[i] = running;
        } else {
            running = running.saturating_sub(1);
        }
    }
    at_start
}

/// The samples in buckets of `step_ms` from `start_ms` to `end_ms`.
pub fn buckets(samples: &[Sample], start_ms: i64, end_ms: i64, step_ms: i64) -> Vec<Bucket> {
    let step = step_ms.max(1);
    let count = usize::try_from((end_ms - start_ms).max(0).div_euclid(step) + 1).unwrap_or(1);
    let mut durations: Vec<Vec<f64>> = vec![Vec::new(); count];
    let mut buckets: Vec<Bucket> = (0..count)
        .map(|i| Bucket { start_ms: start_ms + step * i as i64, ..Bucket::default() })
        .collect();
    let concurrency = concurrency_at_start(samples);
    for (sample, running) in samples.iter().zip(concurrency) {
        let Ok(i) = usize::try_from((sample.at_ms - start_ms).div_euclid(step)) else { continue };
        let Some(bucket) = buckets.get_mut(i) else { continue };
        bucket.invocations += 1;
        bucket.peak_concurrency = bucket.peak_concurrency.max(running);
        bucket.errors += u32::from(sample.failed);
        if let Some(init) = sample.init_ms {
            bucket.cold_starts += 1;
            bucket.max_init_ms = Some(bucket.max_init_ms.map_or(init, |m| m.max(init)));
        }
        durations[i].push(sample.duration_ms);
    }
    for (bucket, values) in buckets.iter_mut().zip(&mut durations) {
        bucket.p50_ms = quantile(values, 0.5);
        bucket.p90_ms = quantile(values, 0.9);
        bucket.p99_ms = quantile(values, 0.99);
    }
    buckets
}

/// GB-seconds billed for the samples: memory size × billed duration, plus the INIT phase on cold
/// starts (billed for every function since 2025-08-01).
pub fn gb_seconds(samples: &[Sample]) -> (f64, f64) {
    samples.iter().fold((0.0, 0.0), |(run, init), s| {
        let gb = f64::from(s.memory_size_mb) / 1024.0;
        (run + gb * s.billed_ms / 1000.0, init + gb * s.init_ms.unwrap_or(0.0).ceil() / 1000.0)
    })
}

/// A smaller memory size when the most any invocation used stays well below the size: the next
/// size (a multiple of 64 MB, at least 128) with half again the most used as headroom.
pub fn memory_hint(samples: &[Sample]) -> Option<(u32, u32, u32)> {
    if samples.len() < 10 {
        return None;
    }
    let size = samples.iter().map(|s| s.memory_size_mb).max()?;
    let used = samples.iter().map(|s| s.max_memory_mb).max()?;
    let suggested = (used * 3 / 2).div_ceil(64).max(2) * 64;
    (suggested < size && used * 2 < size).then_some((size, used, suggested))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_lines_are_read_as_aws_writes_them() {
        let cold = parse_report(
            7,
            "REPORT RequestId: 3f1e\tDuration: 15.74 ms\tBilled Duration: 16 ms\tMemory Size: 128 MB\tMax Memory Used: 56 MB\tInit Duration: 130.49 ms\t",
        )
        .expect("report");
        assert_eq!(
            cold,
            Sample {
                at_ms: 7,
                request_id: "3f1e".into(),
                duration_ms: 15.74,
                billed_ms: 16.0,
                init_ms: Some(130.49),
                memory_size_mb: 128,
                max_memory_mb: 56,
                failed: false
            }
        );
        let timeout = parse_report(0, "REPORT RequestId: t\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\tStatus: timeout").expect("report");
        assert!(timeout.failed);
        assert_eq!(parse_report(0, "START RequestId: x Version: $LATEST"), None);
        assert_eq!(
            failed_request("[ERROR]\t2025-06-04T12:46:22.643Z\tabc\tKeyError: 'x'"),
            Some("abc")
        );
        assert_eq!(failed_request("2024-02-13T21:01:04.936Z\tdef\tERROR\tboom"), Some("def"));
        assert_eq!(
            failed_request("2024-02-13T21:01:04.936Z ghi Task timed out after 3.00 seconds"),
            Some("ghi")
        );
        assert_eq!(
            failed_request("RequestId: jkl Error: Runtime exited with error: exit status 1"),
            Some("jkl")
        );
        assert_eq!(failed_request("an ERROR in the middle"), None);
    }

    #[test]
    fn buckets_count_and_rank_their_invocations() {
        let at = |at_ms, duration_ms, init_ms, failed| Sample {
            at_ms,
            duration_ms,
            init_ms,
            failed,
            billed_ms: duration_ms,
            memory_size_mb: 1024,
            max_memory_mb: 100,
            ..Sample::default()
        };
        let samples: Vec<Sample> = (0..100)
            .map(|i| at(i * 10, f64::from(i as u32 + 1), (i == 0).then_some(200.0), i % 10 == 0))
            .chain([at(60_000, 5.0, None, false)])
            .collect();
        let buckets = buckets(&samples, 0, 60_000, 60_000);
        assert_eq!(buckets.len(), 2);
        assert_eq!(
            (buckets[0].invocations, buckets[0].errors, buckets[0].cold_starts),
            (100, 10, 1)
        );
        assert_eq!(
            (buckets[0].p50_ms, buckets[0].p90_ms, buckets[0].p99_ms),
            (Some(50.0), Some(90.0), Some(99.0))
        );
        assert_eq!(buckets[0].max_init_ms, Some(200.0));
        // The i-th runs from 9i - 1 to 10i ms: the last starts (at 890) while the ten ending at
        // 900..990 run.
        assert_eq!(buckets[0].peak_concurrency, 10);
        let overlapping =
            [at(100, 100.0, None, false), at(150, 100.0, None, false), at(160, 70.0, None, false)];
        assert_eq!(concurrency_at_start(&overlapping), [1, 2, 3]);
        assert_eq!(buckets[1].invocations, 1);
        let (run, init) = gb_seconds(&samples[..1]);
        assert_eq!((run, init), (0.001, 0.2));
        assert_eq!(memory_hint(&samples), Some((1024, 100, 192)));
        assert_eq!(memory_hint(&samples[..5]), None, "too few to say");
    }
}
