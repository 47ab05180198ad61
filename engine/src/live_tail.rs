//! CloudWatch Logs `StartLiveTail` over the engine's logs: an event stream
//! (`application/vnd.amazon.eventstream`) that opens with `sessionStart` and then carries
//! `sessionUpdate`s with the events as they are appended, in CloudWatch's limits — at most 500
//! events a second (past that, the update says `sampled` and the rest of that second is left
//! out), an empty update each second nothing arrives, and `SessionTimeoutException` after three
//! hours. Unlike CloudWatch, which batches a second at a time, an update is sent the moment an
//! event is appended, so a line reaches a tail in milliseconds.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::Response;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::mpsc;

use crate::EngineState;
use crate::event_stream;
use crate::filter_pattern::FilterPattern;
use crate::logs::Appended;
use crate::logs_api::{LogsError, invalid, no_group};

/// The most events one second of a session carries.
pub const EVENTS_PER_SECOND: usize = 500;
/// How long a session lasts.
pub const SESSION: Duration = Duration::from_secs(3 * 60 * 60);

/// What a session follows.
#[derive(Debug)]
struct Session {
    /// Log group names, with the identifiers they were given as.
    groups: Vec<(String, String)>,
    stream_names: Vec<String>,
    stream_prefixes: Vec<String>,
    pattern: FilterPattern,
}

impl Session {
    /// The group identifier an appended event is reported under, if the session follows it.
    fn follows(&self, appended: &Appended) -> Option<&str> {
        let (_, identifier) = self.groups.iter().find(|(name, _)| *name == appended.group)?;
        let stream = &appended.stream;
        let stream_ok = (self.stream_names.is_empty() && self.stream_prefixes.is_empty())
            || self.stream_names.iter().any(|n| n == stream)
            || self.stream_prefixes.iter().any(|p| stream.starts_with(p.as_str()));
        (stream_ok && self.pattern.matches(&appended.event.message)).then_some(identifier)
    }
}

fn strings(request: &Value, field: &str) -> Vec<String> {
    request
        .get(field)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Validates the request as CloudWatch does and resolves its log groups.
fn session(state: &EngineState, request: &Value) -> Result<Session, LogsError> {
    let identifiers = strings(request, "logGroupIdentifiers");
    if identifiers.is_empty() || identifiers.len() > 10 {
        return Err(invalid(
            "1 validation error detected: Value at 'logGroupIdentifiers' failed to satisfy constraint: Member must have length between 1 and 10",
        ));
    }
    let stream_names = strings(request, "logStreamNames");
    let stream_prefixes = strings(request, "logStreamNamePrefixes");
    if !stream_names.is_empty() && !stream_prefixes.is_empty() {
        return Err(invalid("logStreamNames and logStreamNamePrefixes are mutually exclusive"));
    }
    if (!stream_names.is_empty() || !stream_prefixes.is_empty()) && identifiers.len() > 1 {
        return Err(invalid(
            "Only one log group can be specified with logStreamNames or logStreamNamePrefixes",
        ));
    }
    if stream_names.len() > 100 || stream_prefixes.len() > 100 {
        return Err(invalid("At most 100 log streams or prefixes can be specified"));
    }
    let pattern_text = request.get("logEventFilterPattern").and_then(Value::as_str);
    if pattern_text.is_some_and(|p| p.chars().count() > 1024) {
        return Err(invalid(
            "Value at 'logEventFilterPattern' failed to satisfy constraint: Member must have length less than or equal to 1024",
        ));
    }
    let pattern = FilterPattern::parse(pattern_text.unwrap_or_default())
        .map_err(|e| invalid(e.to_string()))?;
    let arn_prefix =
        format!("arn:aws:logs:{}:{}:log-group:", state.config.region, state.config.account_id);
    let existing = state.logs.lock();
    let mut groups = Vec::new();
    for identifier in identifiers {
        let name = match identifier.strip_prefix("arn:") {
            Some(_) => match identifier.strip_prefix(&arn_prefix) {
                Some(name) if !name.ends_with('*') => name.to_owned(),
                _ => {
                    return Err(invalid(format!(
                        "{identifier} is not a log group ARN of this account and region"
                    )));
                }
            },
            None => identifier.clone(),
        };
        if !existing.contains_key(&name) {
            return Err(no_group());
        }
        groups.push((name, identifier));
    }
    Ok(Session { groups, stream_names, stream_prefixes, pattern })
}

/// `StartLiveTail`: the session's event stream.
pub(crate) fn start(state: &EngineState, request: &Value) -> Result<Response, LogsError> {
    let session = session(state, request)?;
    // Subscribed before answering: nothing appended after the answer is missed.
    let feed = state.logs.subscribe();
    let request_id = uuid::Uuid::new_v4().to_string();
    let started = json!({
        "requestId": request_id,
        "sessionId": uuid::Uuid::new_v4().to_string(),
        "logGroupIdentifiers": session.groups.iter().map(|(_, i)| i).collect::<Vec<_>>(),
        "logStreamNames": session.stream_names,
        "logStreamNamePrefixes": session.stream_prefixes,
        "logEventFilterPattern": request.get("logEventFilterPattern").and_then(Value::as_str).unwrap_or_default(),
    });
    let (frames, body) = mpsc::channel::<Bytes>(16);
    tokio::spawn(run(session, feed, frames, started));
    let body = futures_util::stream::unfold(body, |mut body| async move {
        body.recv().await.map(|frame| (Ok::<_, Infallible>(frame), body))
    });
    Response::builder()
        .header("content-type", "application/vnd.amazon.eventstream")
        .header("x-amzn-requestid", request_id)
        .body(Body::from_stream(body))
        .map_err(|e| LogsError("ServiceUnavailableException", e.to_string()))
}

fn update(results: &[Value], sampled: bool) -> Bytes {
    let body = json!({ "sessionMetadata": { "sampled": sampled }, "sessionResults": results });
    event_stream::event("sessionUpdate", "application/json", body.to_string().as_bytes())
}

fn result(identifier: &str, appended: &Appended) -> Value {
    json!({
        "logGroupIdentifier": identifier,
        "logStreamName": appended.stream,
        "timestamp": appended.event.timestamp_ms,
        "ingestionTime": appended.event.ingestion_ms,
        "message": appended.event.message,
    })
}

/// Feeds one session until its client goes away or it times out.
async fn run(
    session: Session,
    mut feed: tokio::sync::broadcast::Receiver<Arc<Appended>>,
    frames: mpsc::Sender<Bytes>,
    started: Value,
) {
    let start =
        event_stream::event("sessionStart", "application/json", started.to_string().as_bytes());
    if frames.send(start).await.is_err() {
        return;
    }
    let ends = tokio::time::Instant::now() + SESSION;
    let mut second = tokio::time::interval(Duration::from_secs(1));
    second.tick().await;
    // This second: events sent, whether some were left out, whether anything was sent.
    let (mut sent, mut sampled, mut spoke) = (0usize, false, false);
    loop {
        let frame = tokio::select! {
            () = tokio::time::sleep_until(ends) => {
                let timeout = event_stream::exception(
                    "SessionTimeoutException",
                    "The Live Tail session ended after three hours.",
                );
                let _ = frames.send(timeout).await;
                return;
            }
            _ = second.tick() => {
                let heartbeat = (!spoke).then(|| update(&[], sampled));
                (sent, sampled, spoke) = (0, false, false);
                match heartbeat {
                    Some(frame) => frame,
                    None => continue,
                }
            }
            received = feed.recv() => {
                let mut results = Vec::new();
                let mut next: Result<Arc<Appended>, TryRecvError> = match received {
                    Ok(appended) => Ok(appended),
                    Err(RecvError::Lagged(_)) => { sampled = true; continue }
                    Err(RecvError::Closed) => return,
                };
                // Everything already appended goes in the same update.
                loop {
                    match next {
                        Ok(appended) => {
                            if let Some(identifier) = session.follows(&appended) {
                                if sent < EVENTS_PER_SECOND {
                                    results.push(result(identifier, &appended));
                                    sent += 1;
                                } else {
                                    sampled = true;
                                }
                            }
                        }
                        Err(TryRecvError::Lagged(_)) => sampled = true,
                        Err(_) => break,
                    }
                    next = feed.try_recv();
                }
                if results.is_empty() {
                    continue;
                }
                spoke = true;
                update(&results, sampled)
            }
        };
        if frames.send(frame).await.is_err() {
            return;
        }
    }
}
