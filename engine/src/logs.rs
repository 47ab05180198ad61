//! Function logs, CloudWatch-shaped: group `/aws/lambda/<name>`, one stream per execution
//! environment, and the platform lines (`START`, `END`, `REPORT`, timeouts) in Lambda's words.
//! Held in memory; persistence across restarts is still to come.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

/// One log event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEvent {
    pub timestamp_ms: i64,
    pub ingestion_ms: i64,
    pub message: String,
}

/// A log stream and its events, oldest first.
#[derive(Clone, Debug, Default)]
pub struct Stream {
    pub created_ms: i64,
    pub events: Vec<LogEvent>,
}

/// A log group.
#[derive(Clone, Debug, Default)]
pub struct Group {
    pub created_ms: i64,
    pub retention_days: Option<u32>,
    pub streams: BTreeMap<String, Stream>,
}

/// Every group, by name.
#[derive(Debug, Default)]
pub struct LogStore {
    groups: Mutex<BTreeMap<String, Group>>,
}

pub fn group_name(function: &str) -> String {
    format!("/aws/lambda/{function}")
}

/// A new stream name as Lambda makes them: `YYYY/MM/DD/[$LATEST]<32 hex>`.
pub fn new_stream_name() -> String {
    let today = time::OffsetDateTime::now_utc().date();
    format!(
        "{:04}/{:02}/{:02}/[$LATEST]{}",
        today.year(),
        u8::from(today.month()),
        today.day(),
        uuid::Uuid::new_v4().simple()
    )
}

pub fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
        .unwrap_or(i64::MAX)
}

impl LogStore {
    /// The groups, locked; for the CloudWatch Logs API.
    pub fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Group>> {
        self.groups.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Appends a line, creating the group and stream on first use (as Lambda's role does).
    pub fn append(&self, group: &str, stream: &str, message: String) {
        let now = now_ms();
        let mut groups = self.lock();
        let group = groups
            .entry(group.to_owned())
            .or_insert_with(|| Group { created_ms: now, ..Group::default() });
        let stream = group
            .streams
            .entry(stream.to_owned())
            .or_insert_with(|| Stream { created_ms: now, events: Vec::new() });
        stream.events.push(LogEvent { timestamp_ms: now, ingestion_ms: now, message });
    }

    /// The events of one stream from index `from`.
    pub fn stream_since(&self, group: &str, stream: &str, from: usize) -> Vec<LogEvent> {
        self.lock()
            .get(group)
            .and_then(|g| g.streams.get(stream))
            .map(|s| s.events.get(from..).unwrap_or_default().to_vec())
            .unwrap_or_default()
    }

    pub fn stream_len(&self, group: &str, stream: &str) -> usize {
        self.lock().get(group).and_then(|g| g.streams.get(stream)).map_or(0, |s| s.events.len())
    }

    /// Drops events older than each group's retention.
    pub fn enforce_retention(&self) {
        let now = now_ms();
        for group in self.lock().values_mut() {
            if let Some(days) = group.retention_days {
                let oldest = now - i64::from(days) * 86_400_000;
                for stream in group.streams.values_mut() {
                    stream.events.retain(|e| e.timestamp_ms >= oldest);
                }
            }
        }
    }
}

/// How an invocation ended, for its `REPORT` line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Success,
    Timeout,
    Error(&'static str),
}

/// The `REPORT` line, tab-separated as Lambda writes it.
pub fn report_line(
    request_id: &str,
    duration_ms: f64,
    memory_mb: u32,
    max_memory_mb: u64,
    init_ms: Option<f64>,
    status: Status,
) -> String {
    let billed = duration_ms.ceil().max(1.0);
    let mut line = format!(
        "REPORT RequestId: {request_id}\tDuration: {duration_ms:.2} ms\tBilled Duration: {billed:.0} ms\tMemory Size: {memory_mb} MB\tMax Memory Used: {max_memory_mb} MB\t"
    );
    if let Some(init) = init_ms {
        line.push_str(&format!("Init Duration: {init:.2} ms\t"));
    }
    match status {
        Status::Success => {}
        Status::Timeout => line.push_str("Status: timeout"),
        Status::Error(error_type) => {
            line.push_str(&format!("Status: error\tError Type: {error_type}"));
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_lines_match_lambdas() {
        assert_eq!(
            report_line("abc", 15.744, 128, 56, Some(130.49), Status::Success),
            "REPORT RequestId: abc\tDuration: 15.74 ms\tBilled Duration: 16 ms\tMemory Size: 128 MB\tMax Memory Used: 56 MB\tInit Duration: 130.49 ms\t"
        );
        assert!(
            report_line("abc", 3000.0, 128, 20, None, Status::Timeout)
                .ends_with("\tStatus: timeout")
        );
        let name = new_stream_name();
        assert!(name.contains("/[$LATEST]") && name.len() == 11 + 9 + 32, "{name}");
    }
}
