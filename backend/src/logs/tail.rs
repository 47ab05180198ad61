//! The live tail: CloudWatch Logs' `StartLiveTail` through the SDK, against AWS and the engine
//! alike. CloudWatch sends an update each second with at most 500 events (sampled past that);
//! the engine sends one the moment a line is written.

use aws_sdk_cloudwatchlogs::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata;
use aws_sdk_cloudwatchlogs::types::StartLiveTailResponseStream;
use aws_sdk_cloudwatchlogs::types::error::StartLiveTailResponseStreamError;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::endpoint::EndpointPrefix;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextMut;

use crate::catalog::Detail;
use crate::connections::Connection;
use crate::error::{Error, Result};

use super::group_name;

/// CloudWatch's limit on highlighted terms in a live tail.
pub const MAX_HIGHLIGHTS: usize = 5;

/// A line as the live tail delivers it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TailLine {
    pub timestamp_ms: i64,
    pub stream: String,
    pub message: String,
}

/// One update of a session: the lines since the last one, and whether CloudWatch sampled them
/// (more than 500 a second matched).
#[derive(Clone, Debug, serde::Serialize)]
pub struct TailUpdate {
    pub lines: Vec<TailLine>,
    pub sampled: bool,
}

/// An open live tail session.
pub struct Tail {
    stream: aws_sdk_cloudwatchlogs::primitives::event_stream::EventReceiver<
        StartLiveTailResponseStream,
        StartLiveTailResponseStreamError,
    >,
}

impl std::fmt::Debug for Tail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tail").finish_non_exhaustive()
    }
}

impl Tail {
    /// The next update; `None` when the session ended (the three-hour limit says so as an
    /// error, with what to do).
    pub async fn next(&mut self) -> Result<Option<TailUpdate>> {
        loop {
            let received = self.stream.recv().await.map_err(|e| {
                let said = match e.as_service_error() {
                    Some(StartLiveTailResponseStreamError::SessionTimeoutException(_)) => {
                        "the session reached CloudWatch's three-hour limit; start it again"
                            .to_owned()
                    }
                    _ => e.message().map_or_else(|| e.to_string(), str::to_owned),
                };
                Error::Refused(format!("The live tail ended: {said}"))
            })?;
            match received {
                None => return Ok(None),
                Some(StartLiveTailResponseStream::SessionUpdate(update)) => {
                    let lines = update
                        .session_results()
                        .iter()
                        .map(|e| TailLine {
                            timestamp_ms: e.timestamp().unwrap_or_default(),
                            stream: e.log_stream_name().unwrap_or_default().to_owned(),
                            message: e.message().unwrap_or_default().to_owned(),
                        })
                        .collect();
                    let sampled = update.session_metadata().is_some_and(|m| m.sampled());
                    return Ok(Some(TailUpdate { lines, sampled }));
                }
                // The session's start, and kinds this SDK does not know: nothing to show.
                Some(_) => {}
            }
        }
    }
}

/// The engine, and any endpoint a connection names, answers StartLiveTail at its own address:
/// the `stream-` host prefix the SDK puts before AWS's host is taken off.
#[derive(Debug)]
struct AtTheEndpoint;

impl Intercept for AtTheEndpoint {
    fn name(&self) -> &'static str {
        "AtTheEndpoint"
    }

    fn modify_before_serialization(
        &self,
        _context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> std::result::Result<(), BoxError> {
        cfg.interceptor_state().unset::<EndpointPrefix>();
        Ok(())
    }
}

/// Starts a live tail of the function's log group, its lines matching `pattern` (empty: all).
pub async fn tail(connection: &Connection, detail: &Detail, pattern: &str) -> Result<Tail> {
    use aws_sdk_cloudwatchlogs::config::StalledStreamProtectionConfig;
    // arn:<partition>:lambda:<region>:<account>:function:<name>
    let arn: Vec<&str> = detail.arn.split(':').collect();
    let (partition, account) = match arn.as_slice() {
        [_, partition, _, _, account, ..] => (*partition, *account),
        _ => return Err(Error::Refused(format!("{} is not a function ARN", detail.arn))),
    };
    let group = format!(
        "arn:{partition}:logs:{}:{account}:log-group:{}",
        detail.entry.region,
        group_name(&detail.entry.name)
    );
    let client = connection.logs(&detail.entry.region).await;
    // An event stream is quiet between lines: it is not a stalled download.
    let mut config = aws_sdk_cloudwatchlogs::config::Builder::default()
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled());
    if connection.endpoint_url.is_some() {
        config = config.interceptor(AtTheEndpoint);
    }
    let started = client
        .start_live_tail()
        .log_group_identifiers(group)
        .set_log_event_filter_pattern((!pattern.trim().is_empty()).then(|| pattern.to_owned()))
        .customize()
        .config_override(config)
        .send()
        .await;
    match started {
        Ok(out) => Ok(Tail { stream: out.response_stream }),
        Err(e) if crate::cloud::CloudFailure::of(&e) == crate::cloud::CloudFailure::NotFound => {
            Err(Error::Refused(format!(
                "{} does not exist yet: Lambda makes it at the function's first log line. Invoke the function, then start the live tail.",
                group_name(&detail.entry.name)
            )))
        }
        Err(e) if e.code() == Some("InvalidParameterException") => Err(Error::Validation {
            field: "pattern",
            message: format!("the cloud did not take this pattern: {}", crate::cloud::said(&e)),
        }),
        Err(e) => Err(crate::cloud::error("StartLiveTail failed", &e)),
    }
}
