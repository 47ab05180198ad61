//! Function logs, CloudWatch-shaped: group `/aws/lambda/<name>`, one stream per execution
//! environment, and the platform lines (`START`, `END`, `REPORT`, timeouts) in Lambda's words.
//! Kept in memory for now; the CloudWatch Logs API and persistence build on this.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// One log event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEvent {
    pub timestamp_ms: i64,
    pub message: String,
}

/// Every group's streams and events.
#[derive(Debug, Default)]
pub struct LogStore {
    groups: Mutex<BTreeMap<String, BTreeMap<String, Vec<LogEvent>>>>,
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
    pub fn append(&self, group: &str, stream: &str, message: String) {
        let event = LogEvent { timestamp_ms: now_ms(), message };
        let mut groups = self.groups.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        groups
            .entry(group.to_owned())
            .or_default()
            .entry(stream.to_owned())
            .or_default()
            .push(event);
    }

    /// All events of a group, oldest first, across its streams.
    pub fn events(&self, group: &str) -> Vec<LogEvent> {
        let groups = self.groups.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut events: Vec<LogEvent> = groups
            .get(group)
            .map(|streams| streams.values().flatten().cloned().collect())
            .unwrap_or_default();
        events.sort_by_key(|e| e.timestamp_ms);
        events
    }

    /// The events of one stream from index `from`.
    pub fn stream_since(&self, group: &str, stream: &str, from: usize) -> Vec<LogEvent> {
        let groups = self.groups.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        groups
            .get(group)
            .and_then(|streams| streams.get(stream))
            .map(|events| events.get(from..).unwrap_or_default().to_vec())
            .unwrap_or_default()
    }

    pub fn stream_len(&self, group: &str, stream: &str) -> usize {
        let groups = self.groups.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        groups.get(group).and_then(|s| s.get(stream)).map_or(0, Vec::len)
    }

    pub fn delete_group(&self, group: &str) -> bool {
        self.groups
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(group)
            .is_some()
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
            line.push_str(&format!("Status: error\tError Type: {error_type}"))
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
