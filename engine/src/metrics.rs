//! CloudWatch metrics for the engine's functions, as Lambda publishes them in the `AWS/Lambda`
//! namespace with the `FunctionName` dimension: `Invocations`, `Errors`, `Duration`, `Throttles`,
//! `ConcurrentExecutions`, `AsyncEventsReceived`, `AsyncEventsDropped` and `AsyncEventAge`, each a
//! value at an instant, recorded where the engine does the thing it counts. `GetMetricData`
//! answers in both protocols the SDKs speak to CloudWatch now: Smithy RPC v2 CBOR
//! (`POST /service/GraniteServiceVersion20100801/operation/GetMetricData`, the AWS SDK for Rust)
//! and awsJson1.0 (`X-Amz-Target: GraniteServiceVersion20100801.GetMetricData`, boto3).
//!
//! Points live in memory, the newest `MAX_POINTS` per function: metrics start again with the
//! engine, as its warm environments do.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use aws_smithy_cbor::data::Type;
use aws_smithy_cbor::{Decoder, Encoder};
use aws_smithy_types::DateTime;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use crate::EngineState;
use crate::logs::now_ms;

/// The most points kept per function (the oldest go first).
pub const MAX_POINTS: usize = 200_000;

/// A metric Lambda publishes per function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Metric {
    Invocations,
    Errors,
    Duration,
    Throttles,
    ConcurrentExecutions,
    AsyncEventsReceived,
    AsyncEventsDropped,
    AsyncEventAge,
}

impl Metric {
    const ALL: [Metric; 8] = [
        Metric::Invocations,
        Metric::Errors,
        Metric::Duration,
        Metric::Throttles,
        Metric::ConcurrentExecutions,
        Metric::AsyncEventsReceived,
        Metric::AsyncEventsDropped,
        Metric::AsyncEventAge,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Metric::Invocations => "Invocations",
            Metric::Errors => "Errors",
            Metric::Duration => "Duration",
            Metric::Throttles => "Throttles",
            Metric::ConcurrentExecutions => "ConcurrentExecutions",
            Metric::AsyncEventsReceived => "AsyncEventsReceived",
            Metric::AsyncEventsDropped => "AsyncEventsDropped",
            Metric::AsyncEventAge => "AsyncEventAge",
        }
    }

    fn named(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == name)
    }
}

#[derive(Clone, Copy, Debug)]
struct Point {
    at_ms: i64,
    metric: Metric,
    value: f64,
}

/// Every function's recorded points.
#[derive(Debug, Default)]
pub struct Metrics {
    points: Mutex<HashMap<String, VecDeque<Point>>>,
}

impl Metrics {
    /// Records `value` of `metric` for `function`, now.
    pub fn record(&self, function: &str, metric: Metric, value: f64) {
        self.record_all(function, &[(metric, value)]);
    }

    /// Records several values for `function` at once (one lock on an invoke's path).
    pub fn record_all(&self, function: &str, values: &[(Metric, f64)]) {
        self.record_at(function, values, now_ms());
    }

    fn record_at(&self, function: &str, values: &[(Metric, f64)], at_ms: i64) {
        let mut all = self.points.lock().unwrap_or_else(PoisonError::into_inner);
        // The name is copied only the first time a function records anything.
        let points = match all.get_mut(function) {
            Some(points) => points,
            None => all.entry(function.to_owned()).or_default(),
        };
        for &(metric, value) in values {
            if points.len() == MAX_POINTS {
                points.pop_front();
            }
            points.push_back(Point { at_ms, metric, value });
        }
    }

    /// A function's metric in periods of `period_ms` (aligned to the epoch) from `start_ms` up
    /// to `end_ms` (exclusive), as `stat` of each period with points, newest first.
    pub fn series(
        &self,
        function: &str,
        metric: Metric,
        range: (i64, i64),
        period_ms: i64,
        stat: Stat,
    ) -> Vec<(i64, f64)> {
        let (start_ms, end_ms) = range;
        let mut periods: std::collections::BTreeMap<i64, Vec<f64>> = Default::default();
        {
            let points = self.points.lock().unwrap_or_else(PoisonError::into_inner);
            for p in points.get(function).into_iter().flatten() {
                if p.metric == metric && p.at_ms >= start_ms && p.at_ms < end_ms {
                    periods
                        .entry(p.at_ms.div_euclid(period_ms) * period_ms)
                        .or_default()
                        .push(p.value);
                }
            }
        }
        periods
            .into_iter()
            .rev()
            .filter_map(|(at, mut values)| stat.of(&mut values).map(|v| (at, v)))
            .collect()
    }
}

/// A CloudWatch statistic: `SampleCount`, `Sum`, `Average`, `Minimum`, `Maximum` or a
/// percentile `pNN` / `pNN.N`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Stat {
    SampleCount,
    Sum,
    Average,
    Minimum,
    Maximum,
    Percentile(f64),
}

impl Stat {
    pub fn parse(text: &str) -> Option<Stat> {
        Some(match text {
            "SampleCount" => Stat::SampleCount,
            "Sum" => Stat::Sum,
            "Average" => Stat::Average,
            "Minimum" => Stat::Minimum,
            "Maximum" => Stat::Maximum,
            _ => {
                let p: f64 = text.strip_prefix('p')?.parse().ok()?;
                if !(0.0..=100.0).contains(&p) {
                    return None;
                }
                Stat::Percentile(p)
            }
        })
    }

    /// The statistic of `values` (none when empty); a percentile by nearest rank.
    pub fn of(self, values: &mut [f64]) -> Option<f64> {
        if values.is_empty() {
            return None;
        }
        let n = values.len() as f64;
        Some(match self {
            Stat::SampleCount => n,
            Stat::Sum => values.iter().sum(),
            Stat::Average => values.iter().sum::<f64>() / n,
            Stat::Minimum => values.iter().copied().fold(f64::INFINITY, f64::min),
            Stat::Maximum => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            Stat::Percentile(p) => {
                values.sort_by(f64::total_cmp);
                let rank = ((p / 100.0 * n).ceil() as usize).clamp(1, values.len());
                values[rank - 1]
            }
        })
    }
}

/// A CloudWatch error: the status, `__type` and `message` (in a CBOR map or a JSON object, as
/// the request came), and the query-compatible `x-amzn-query-error` header the SDKs read the
/// code from.
#[derive(Debug)]
pub struct MetricsError(StatusCode, &'static str, String);

fn invalid(message: impl Into<String>) -> MetricsError {
    MetricsError(StatusCode::BAD_REQUEST, "InvalidParameterValue", message.into())
}

fn missing(parameter: &str) -> MetricsError {
    MetricsError(
        StatusCode::BAD_REQUEST,
        "MissingParameter",
        format!("The parameter {parameter} is required."),
    )
}

fn unknown_operation(operation: &str) -> MetricsError {
    MetricsError(
        StatusCode::NOT_FOUND,
        "UnknownOperationException",
        format!("The engine does not implement the CloudWatch operation {operation}."),
    )
}

/// The two ways the SDKs speak to CloudWatch.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Protocol {
    /// Smithy RPC v2 CBOR (the AWS SDK for Rust and the newer SDKs).
    Cbor,
    /// awsJson1.0 with `X-Amz-Target: GraniteServiceVersion20100801.*` (boto3).
    Json,
}

impl MetricsError {
    fn answer(self, protocol: Protocol) -> Response {
        let MetricsError(status, code, message) = self;
        let query_error = [("x-amzn-query-error", format!("{code};Sender"))];
        match protocol {
            Protocol::Cbor => {
                let mut body = Encoder::new(Vec::new());
                body.map(2).str("__type").str(code).str("message").str(&message);
                (status, CBOR_HEADERS, query_error, body.into_writer()).into_response()
            }
            Protocol::Json => {
                let body = serde_json::json!({ "__type": code, "message": message }).to_string();
                (status, JSON_HEADERS, query_error, body).into_response()
            }
        }
    }
}

const CBOR_HEADERS: [(&str, &str); 2] =
    [("content-type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")];
const JSON_HEADERS: [(&str, &str); 1] = [("content-type", "application/x-amz-json-1.0")];

/// `POST /service/GraniteServiceVersion20100801/operation/{operation}` (RPC v2 CBOR).
pub async fn dispatch(
    State(state): State<Arc<EngineState>>,
    Path(operation): Path<String>,
    body: Bytes,
) -> Response {
    let answer = match operation.as_str() {
        "GetMetricData" => decode(&body)
            .map_err(|e| invalid(format!("The request is not CBOR: {e}")))
            .and_then(|request| get_metric_data(&state.metrics, &request)),
        other => Err(unknown_operation(other)),
    };
    match answer {
        Ok(results) => (CBOR_HEADERS, cbor(&results)).into_response(),
        Err(error) => error.answer(Protocol::Cbor),
    }
}

/// `POST /` with `X-Amz-Target: GraniteServiceVersion20100801.{operation}` (awsJson1.0).
pub fn dispatch_json(state: &EngineState, operation: &str, body: &[u8]) -> Response {
    let answer = match operation {
        "GetMetricData" => serde_json::from_slice::<Value>(body)
            .map_err(|e| {
                MetricsError(StatusCode::BAD_REQUEST, "SerializationException", e.to_string())
            })
            .and_then(|request| get_metric_data(&state.metrics, &request)),
        other => Err(unknown_operation(other)),
    };
    match answer {
        Ok(results) => (JSON_HEADERS, json(&results).to_string()).into_response(),
        Err(error) => error.answer(Protocol::Json),
    }
}

/// One query of a GetMetricData request, validated.
struct Query {
    id: String,
    label: String,
    function: Option<String>,
    metric: Option<Metric>,
    period_ms: i64,
    stat: Stat,
    return_data: bool,
}

fn query(q: &Value, index: usize) -> Result<Query, MetricsError> {
    let at = |member: &str| format!("MetricDataQueries.member.{}.{member}", index + 1);
    let id = q["Id"].as_str().ok_or_else(|| missing(&at("Id")))?.to_owned();
    let id_ok = id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !id_ok {
        return Err(invalid(format!(
            "The value {id} for parameter {} is not valid: it must start with a lowercase letter and hold only letters, numbers and underscores.",
            at("Id")
        )));
    }
    if q.get("Expression").is_some() {
        return Err(invalid(format!(
            "The engine does not evaluate metric math ({}); ask for a MetricStat.",
            at("Expression")
        )));
    }
    let stat = &q["MetricStat"];
    if stat.is_null() {
        return Err(invalid(format!("Either MetricStat or Expression must be set in {}.", at(""))));
    }
    let period = stat["Period"].as_i64().ok_or_else(|| missing(&at("MetricStat.Period")))?;
    if period <= 0 || (period >= 60 && period % 60 != 0) || (period < 60 && 60 % period != 0) {
        return Err(invalid(format!(
            "The parameter {} must be 1, 5, 10, 20, 30 or a multiple of 60.",
            at("MetricStat.Period")
        )));
    }
    let stat_name = stat["Stat"].as_str().ok_or_else(|| missing(&at("MetricStat.Stat")))?;
    let stat_value = Stat::parse(stat_name).ok_or_else(|| {
        invalid(format!(
            "The value {stat_name} for parameter {} is not a valid statistic.",
            at("MetricStat.Stat")
        ))
    })?;
    let metric = &stat["Metric"];
    // Only `AWS/Lambda` by `FunctionName` holds anything here; any other metric is one without
    // data, as CloudWatch answers for a metric nobody published.
    let dimensions = metric["Dimensions"].as_array().cloned().unwrap_or_default();
    let function = match (metric["Namespace"].as_str(), dimensions.as_slice()) {
        (Some("AWS/Lambda"), [d]) if d["Name"] == "FunctionName" => {
            d["Value"].as_str().map(str::to_owned)
        }
        _ => None,
    };
    Ok(Query {
        label: q["Label"].as_str().or(metric["MetricName"].as_str()).unwrap_or_default().to_owned(),
        id,
        function,
        metric: metric["MetricName"].as_str().and_then(Metric::named),
        period_ms: period * 1000,
        stat: stat_value,
        return_data: q["ReturnData"].as_bool().unwrap_or(true),
    })
}

/// One query's answer: its periods with data, in the order asked for.
struct Answered {
    id: String,
    label: String,
    points: Vec<(i64, f64)>,
}

/// GetMetricData over a request read as JSON (timestamps in epoch seconds).
fn get_metric_data(metrics: &Metrics, request: &Value) -> Result<Vec<Answered>, MetricsError> {
    let time = |name: &str| {
        request[name].as_f64().map(|s| (s * 1000.0) as i64).ok_or_else(|| missing(name))
    };
    let (start_ms, end_ms) = (time("StartTime")?, time("EndTime")?);
    if start_ms >= end_ms {
        return Err(invalid("The parameter StartTime must be less than the parameter EndTime."));
    }
    let queries =
        request["MetricDataQueries"].as_array().ok_or_else(|| missing("MetricDataQueries"))?;
    if queries.is_empty() || queries.len() > 500 {
        return Err(invalid("MetricDataQueries must hold between 1 and 500 queries."));
    }
    let queries =
        queries.iter().enumerate().map(|(i, q)| query(q, i)).collect::<Result<Vec<_>, _>>()?;
    let ascending = request["ScanBy"].as_str() == Some("TimestampAscending");
    Ok(queries
        .into_iter()
        .filter(|q| q.return_data)
        .map(|q| {
            let mut points = match (&q.function, q.metric) {
                (Some(function), Some(metric)) => {
                    metrics.series(function, metric, (start_ms, end_ms), q.period_ms, q.stat)
                }
                _ => Vec::new(),
            };
            if ascending {
                points.reverse();
            }
            Answered { id: q.id, label: q.label, points }
        })
        .collect())
}

fn cbor(results: &[Answered]) -> Vec<u8> {
    let mut out = Encoder::new(Vec::new());
    out.map(2).str("MetricDataResults").array(results.len());
    for r in results {
        out.map(5).str("Id").str(&r.id).str("Label").str(&r.label);
        out.str("Timestamps").array(r.points.len());
        for (at, _) in &r.points {
            out.timestamp(&DateTime::from_millis(*at));
        }
        out.str("Values").array(r.points.len());
        for (_, value) in &r.points {
            out.double(*value);
        }
        out.str("StatusCode").str("Complete");
    }
    out.str("Messages").array(0);
    out.into_writer()
}

fn json(results: &[Answered]) -> Value {
    let results: Vec<Value> = results
        .iter()
        .map(|r| {
            serde_json::json!({
                "Id": r.id,
                "Label": r.label,
                "Timestamps": r.points.iter().map(|(at, _)| *at as f64 / 1000.0).collect::<Vec<_>>(),
                "Values": r.points.iter().map(|(_, v)| *v).collect::<Vec<_>>(),
                "StatusCode": "Complete",
            })
        })
        .collect();
    serde_json::json!({ "MetricDataResults": results, "Messages": [] })
}

/// A CBOR document as JSON: timestamps (tag 1) become epoch seconds, blobs are dropped.
pub fn decode(bytes: &[u8]) -> Result<Value, String> {
    let mut decoder = Decoder::new(bytes);
    let value = item(&mut decoder, 0)?;
    if decoder.position() != bytes.len() {
        return Err("trailing bytes after the document".to_owned());
    }
    Ok(value)
}

fn item(d: &mut Decoder, depth: u32) -> Result<Value, String> {
    if depth > 32 {
        return Err("nested too deeply".to_owned());
    }
    let e = |e: aws_smithy_cbor::decode::DeserializeError| e.to_string();
    Ok(match d.datatype().map_err(e)? {
        Type::Bool => Value::Bool(d.boolean().map_err(e)?),
        Type::Null | Type::Undefined => {
            d.skip().map_err(e)?;
            Value::Null
        }
        Type::U8
        | Type::U16
        | Type::U32
        | Type::U64
        | Type::I8
        | Type::I16
        | Type::I32
        | Type::I64
        | Type::Int => Value::from(d.long().map_err(e)?),
        Type::F16 | Type::F32 | Type::F64 => {
            serde_json::Number::from_f64(d.double().map_err(e)?).map_or(Value::Null, Value::Number)
        }
        Type::String | Type::StringIndef => Value::String(d.string().map_err(e)?),
        Type::Tag => {
            let at = d.timestamp().map_err(e)?;
            serde_json::Number::from_f64(at.as_secs_f64()).map_or(Value::Null, Value::Number)
        }
        Type::Array | Type::ArrayIndef => {
            let mut items = Vec::new();
            match d.list().map_err(e)? {
                Some(n) => {
                    for _ in 0..n {
                        items.push(item(d, depth + 1)?);
                    }
                }
                None => {
                    while d.datatype().map_err(e)? != Type::Break {
                        items.push(item(d, depth + 1)?);
                    }
                    d.skip().map_err(e)?;
                }
            }
            Value::Array(items)
        }
        Type::Map | Type::MapIndef => {
            let mut map = Map::new();
            let mut entry = |d: &mut Decoder| -> Result<(), String> {
                let key = d.string().map_err(e)?;
                map.insert(key, item(d, depth + 1)?);
                Ok(())
            };
            match d.map().map_err(e)? {
                Some(n) => {
                    for _ in 0..n {
                        entry(d)?;
                    }
                }
                None => {
                    while d.datatype().map_err(e)? != Type::Break {
                        entry(d)?;
                    }
                    d.skip().map_err(e)?;
                }
            }
            Value::Object(map)
        }
        Type::Bytes | Type::BytesIndef | Type::Simple => {
            d.skip().map_err(e)?;
            Value::Null
        }
        Type::Break | Type::Unknown(_) => return Err("a malformed item".to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_hold_the_statistic_of_their_points_newest_first() {
        let metrics = Metrics::default();
        for (at, value) in
            [(0, 10.0), (30_000, 30.0), (59_999, 20.0), (60_000, 5.0), (200_000, 1.0)]
        {
            metrics.record_at("f", &[(Metric::Duration, value)], at);
        }
        metrics.record_at("g", &[(Metric::Duration, 99.0)], 1);
        metrics.record_at("f", &[(Metric::Errors, 1.0)], 1);
        let series = |stat| metrics.series("f", Metric::Duration, (0, 180_000), 60_000, stat);
        assert_eq!(series(Stat::Sum), [(60_000, 5.0), (0, 60.0)], "the point at 200 s is out");
        assert_eq!(series(Stat::Maximum)[1], (0, 30.0));
        assert_eq!(series(Stat::Average)[1], (0, 20.0));
        assert_eq!(series(Stat::SampleCount)[1], (0, 3.0));
        assert_eq!(series(Stat::Percentile(50.0))[1], (0, 20.0));
        assert_eq!(Stat::parse("p99.9"), Some(Stat::Percentile(99.9)));
        assert_eq!(Stat::parse("p101"), None);
        assert_eq!(Stat::parse("Median"), None);
    }

    #[test]
    fn a_function_keeps_its_newest_points() {
        let metrics = Metrics::default();
        for i in 0..MAX_POINTS as i64 + 10 {
            metrics.record_at("f", &[(Metric::Invocations, 1.0)], i);
        }
        let total = metrics.series("f", Metric::Invocations, (0, i64::MAX), 60_000_000, Stat::Sum);
        assert_eq!(total, [(0, MAX_POINTS as f64)]);
    }

    #[test]
    fn cbor_documents_read_as_json() {
        let mut out = Encoder::new(Vec::new());
        out.begin_map().str("StartTime").timestamp(&DateTime::from_secs(1_700_000_000));
        out.str("Queries").array(2).str("a").long(-3).str("ok").boolean(true).end();
        let json = decode(&out.into_writer()).expect("decodes");
        assert_eq!(
            json,
            serde_json::json!({"StartTime": 1_700_000_000.0, "Queries": ["a", -3], "ok": true})
        );
        assert!(decode(&[0xa1]).is_err(), "a map without its entry");
    }
}
