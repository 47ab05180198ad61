//! Function logs, CloudWatch-shaped: group `/aws/lambda/<name>`, one stream per execution
//! environment, and the platform lines (`START`, `END`, `REPORT`, timeouts) in Lambda's words.
//! Served from memory; persisted under `<data dir>/logs` by a background flush (appends batched
//! off the invoke path, whole groups rewritten after the rarer changes), and loaded at start.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

/// One log event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEvent {
    pub timestamp_ms: i64,
    pub ingestion_ms: i64,
    pub message: String,
}

/// What an execution role may do in CloudWatch Logs for its function's group and stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogAccess {
    /// `logs:CreateLogGroup` on the group.
    pub create_group: bool,
    /// `logs:CreateLogStream` on the stream.
    pub create_stream: bool,
    /// `logs:PutLogEvents` on the stream.
    pub put: bool,
}

impl LogAccess {
    /// Everything: the engine's own writes.
    pub const ALL: Self = Self { create_group: true, create_stream: true, put: true };
}

/// A log stream and the events kept in memory, oldest first.
#[derive(Clone, Debug, Default)]
pub struct Stream {
    pub created_ms: i64,
    pub events: Vec<LogEvent>,
    /// How many of its oldest events were let go from memory (they stay on disk): positions
    /// count from the stream's first event ever.
    pub evicted: usize,
    /// The bytes of the messages in `events`.
    bytes: usize,
}

/// The most a stream keeps in memory; past it, the oldest quarter goes (it stays on disk), so a
/// function that prints without end costs the engine at most this per environment.
pub const MAX_STREAM_MEMORY: usize = 8 << 20;

impl Stream {
    pub fn new(created_ms: i64) -> Self {
        Self { created_ms, ..Self::default() }
    }

    fn with_events(created_ms: i64, events: Vec<LogEvent>) -> Self {
        let bytes = events.iter().map(|e| e.message.len()).sum();
        let mut stream = Self { created_ms, events, evicted: 0, bytes };
        stream.bound();
        stream
    }

    fn push(&mut self, event: LogEvent) {
        self.bytes += event.message.len();
        self.events.push(event);
        self.bound();
    }

    /// Lets the oldest events go once the stream passes [`MAX_STREAM_MEMORY`].
    fn bound(&mut self) {
        if self.bytes <= MAX_STREAM_MEMORY {
            return;
        }
        let mut freed = 0;
        let keep_at_most = MAX_STREAM_MEMORY / 4 * 3;
        let count = self
            .events
            .iter()
            .take_while(|e| {
                let go = self.bytes - freed > keep_at_most;
                if go {
                    freed += e.message.len();
                }
                go
            })
            .count();
        self.events.drain(..count);
        self.bytes -= freed;
        self.evicted += count;
    }

    /// Recounts the bytes after events were removed in place.
    pub fn recount(&mut self) {
        self.bytes = self.events.iter().map(|e| e.message.len()).sum();
    }
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
    /// Where logs are persisted; `None` keeps them in memory only.
    dir: Option<PathBuf>,
    /// Events appended since the last flush: (group, stream, event).
    pending: Mutex<Vec<(String, String, LogEvent)>>,
    /// Groups to rewrite whole (or remove) at the next flush.
    dirty: Mutex<BTreeSet<String>>,
    /// Held for a whole flush: two at once (the periodic one still writing when shutdown's
    /// starts) could write a group's older snapshot after the newer one removed it.
    flushing: Mutex<()>,
    /// Every event as it is appended, for live tails (`crate::live_tail`).
    tail: Tail,
}

/// An event as it was appended, with where.
#[derive(Clone, Debug)]
pub struct Appended {
    pub group: String,
    pub stream: String,
    pub event: LogEvent,
}

/// The live feed of appended events. It holds as many as CloudWatch buffers for a slow live
/// tail client (5,000 events); a receiver further behind is told it lagged.
#[derive(Debug)]
struct Tail(tokio::sync::broadcast::Sender<std::sync::Arc<Appended>>);

impl Default for Tail {
    fn default() -> Self {
        Self(tokio::sync::broadcast::channel(5_000).0)
    }
}

/// A group's file `group.json`: its settings and its streams.
#[derive(Debug, Serialize, Deserialize)]
struct GroupFile {
    name: String,
    created_ms: i64,
    retention_days: Option<u32>,
    streams: BTreeMap<String, i64>,
}

/// One line of a stream's `.jsonl` file.
#[derive(Debug, Serialize, Deserialize)]
struct EventLine {
    t: i64,
    i: i64,
    m: String,
}

fn hex(name: &str) -> String {
    name.bytes().map(|b| format!("{b:02x}")).collect()
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub fn group_name(function: &str) -> String {
    format!("/aws/lambda/{function}")
}

/// A new stream name as Lambda makes them: `YYYY/MM/DD/[$LATEST]<32 hex>`.
pub fn new_stream_name(version: &str) -> String {
    let today = time::OffsetDateTime::now_utc().date();
    format!(
        "{:04}/{:02}/{:02}/[{version}]{}",
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
    /// A store persisted under `dir`, loaded from what is there.
    pub fn open(dir: PathBuf) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        let mut groups = BTreeMap::new();
        for entry in std::fs::read_dir(&dir)? {
            let group_dir = entry?.path();
            let record = group_dir.join("group.json");
            if !record.exists() {
                continue;
            }
            let file: GroupFile = match crate::store::read_json(&record) {
                Ok(file) => file,
                Err(error) => {
                    crate::store::set_aside(&record, &error);
                    continue;
                }
            };
            let mut group = Group {
                created_ms: file.created_ms,
                retention_days: file.retention_days,
                streams: BTreeMap::new(),
            };
            for (name, created_ms) in file.streams {
                let events =
                    std::fs::read_to_string(group_dir.join(format!("{}.jsonl", hex(&name))))
                        .unwrap_or_default()
                        .lines()
                        .filter_map(|line| serde_json::from_str::<EventLine>(line).ok())
                        .map(|e| LogEvent { timestamp_ms: e.t, ingestion_ms: e.i, message: e.m })
                        .collect();
                group.streams.insert(name, Stream::with_events(created_ms, events));
            }
            groups.insert(file.name, group);
        }
        Ok(Self { groups: Mutex::new(groups), dir: Some(dir), ..Self::default() })
    }

    /// The groups, locked; for the CloudWatch Logs API. Call [`LogStore::mark_dirty`] after a change.
    pub fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Group>> {
        lock(&self.groups)
    }

    /// Has the group rewritten (or removed, if gone) at the next flush.
    pub fn mark_dirty(&self, group: &str) {
        lock(&self.dirty).insert(group.to_owned());
    }

    /// Appends a line, creating the group and stream on first use.
    pub fn append(&self, group: &str, stream: &str, message: String) {
        self.append_as(LogAccess::ALL, group, stream, message);
    }

    /// Appends a line as a role with `access` may: nothing without `PutLogEvents`, and a group or
    /// stream that does not exist yet is created only with the permission to create it (the line
    /// is dropped otherwise). Returns whether the line was written.
    pub fn append_as(&self, access: LogAccess, group: &str, stream: &str, message: String) -> bool {
        if !access.put {
            return false;
        }
        let now = now_ms();
        let event = LogEvent { timestamp_ms: now, ingestion_ms: now, message };
        let mut groups = self.lock();
        let (has_group, has_stream) = match groups.get(group) {
            Some(existing) => (true, existing.streams.contains_key(stream)),
            None => (false, false),
        };
        if (!has_group && !access.create_group) || (!has_stream && !access.create_stream) {
            return false;
        }
        let mut created = false;
        let entry = groups.entry(group.to_owned()).or_insert_with(|| {
            created = true;
            Group { created_ms: now, ..Group::default() }
        });
        let stream_entry = entry.streams.entry(stream.to_owned()).or_insert_with(|| {
            created = true;
            Stream::new(now)
        });
        stream_entry.push(event.clone());
        self.publish(group, stream, &event);
        if self.dir.is_some() {
            // Under the groups' lock, as a flush takes its snapshot: an event is either in both
            // the snapshot and the pending list a flush takes, or in neither.
            lock(&self.pending).push((group.to_owned(), stream.to_owned(), event));
            if created {
                self.mark_dirty(group);
            }
        }
        true
    }

    /// Tells live tails about an event just stored (cheap when nobody tails).
    pub fn publish(&self, group: &str, stream: &str, event: &LogEvent) {
        if self.tail.0.receiver_count() > 0 {
            let appended = Appended {
                group: group.to_owned(),
                stream: stream.to_owned(),
                event: event.clone(),
            };
            // No receiver left between the count and the send is fine: nobody is tailing.
            let _ = self.tail.0.send(std::sync::Arc::new(appended));
        }
    }

    /// Every event appended from now on.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<std::sync::Arc<Appended>> {
        self.tail.0.subscribe()
    }

    /// Writes what changed since the last flush. Blocking: run it off the async threads.
    pub fn flush(&self) -> std::io::Result<()> {
        let Some(dir) = &self.dir else { return Ok(()) };
        let _one_at_a_time = lock(&self.flushing);
        // One moment for all three (appends take the groups' lock too): what the snapshots hold
        // is exactly what was appended before the pending list was taken.
        let (pending, dirty, snapshots) = {
            let groups = self.lock();
            let pending = std::mem::take(&mut *lock(&self.pending));
            let dirty = std::mem::take(&mut *lock(&self.dirty));
            let snapshots: Vec<(String, Option<Group>)> =
                dirty.iter().map(|name| (name.clone(), groups.get(name).cloned())).collect();
            (pending, dirty, snapshots)
        };
        // A stream that let events go from memory is never rewritten from memory (that would
        // lose them on disk too): its new events are appended even when its group is rewritten.
        let mut evicted: BTreeSet<(String, String)> = BTreeSet::new();
        for (name, snapshot) in snapshots {
            let group_dir = dir.join(hex(&name));
            match snapshot {
                None => {
                    let _ = std::fs::remove_dir_all(&group_dir);
                }
                Some(group) => {
                    for (stream, s) in &group.streams {
                        if s.evicted > 0 {
                            evicted.insert((name.clone(), stream.clone()));
                        }
                    }
                    write_group(&group_dir, &name, &group)?;
                }
            }
        }
        let mut files: BTreeMap<(String, String), Vec<LogEvent>> = BTreeMap::new();
        for (group, stream, event) in pending {
            if !dirty.contains(&group) || evicted.contains(&(group.clone(), stream.clone())) {
                files.entry((group, stream)).or_default().push(event);
            }
        }
        for ((group, stream), events) in files {
            let group_dir = dir.join(hex(&group));
            if !group_dir.is_dir() {
                continue; // deleted since
            }
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(group_dir.join(format!("{}.jsonl", hex(&stream))))?;
            let mut text = String::new();
            for e in events {
                text.push_str(
                    &serde_json::to_string(&EventLine {
                        t: e.timestamp_ms,
                        i: e.ingestion_ms,
                        m: e.message,
                    })
                    .unwrap_or_default(),
                );
                text.push('\n');
            }
            file.write_all(text.as_bytes())?;
        }
        Ok(())
    }

    /// Drops events older than each group's retention.
    pub fn enforce_retention(&self) {
        let now = now_ms();
        let mut changed = Vec::new();
        for (name, group) in self.lock().iter_mut() {
            if let Some(days) = group.retention_days {
                let oldest = now - i64::from(days) * 86_400_000;
                for stream in group.streams.values_mut() {
                    let before = stream.events.len();
                    stream.events.retain(|e| e.timestamp_ms >= oldest);
                    if stream.events.len() != before {
                        stream.recount();
                        changed.push(name.clone());
                    }
                }
            }
        }
        for name in changed {
            self.mark_dirty(&name);
        }
    }
}

/// Rewrites a group's directory from memory.
fn write_group(group_dir: &Path, name: &str, group: &Group) -> std::io::Result<()> {
    std::fs::create_dir_all(group_dir)?;
    let file = GroupFile {
        name: name.to_owned(),
        created_ms: group.created_ms,
        retention_days: group.retention_days,
        streams: group.streams.iter().map(|(n, s)| (n.clone(), s.created_ms)).collect(),
    };
    for (stream_name, stream) in group.streams.iter().filter(|(_, s)| s.evicted == 0) {
        let mut text = String::new();
        for e in &stream.events {
            text.push_str(
                &serde_json::to_string(&EventLine {
                    t: e.timestamp_ms,
                    i: e.ingestion_ms,
                    m: e.message.clone(),
                })
                .unwrap_or_default(),
            );
            text.push('\n');
        }
        let path = group_dir.join(format!("{}.jsonl", hex(stream_name)));
        std::fs::write(path.with_extension("jsonl.tmp"), text)?;
        std::fs::rename(path.with_extension("jsonl.tmp"), path)?;
    }
    let path = group_dir.join("group.json");
    crate::store::write_durably(&path, &serde_json::to_vec(&file).unwrap_or_default())
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

    /// Positions in a stream, counted from its first event ever (evicted ones included).
    impl LogStore {
        /// The events of one stream from index `from`.
        fn stream_since(&self, group: &str, stream: &str, from: usize) -> Vec<LogEvent> {
            self.lock()
                .get(group)
                .and_then(|g| g.streams.get(stream))
                .map(|s| {
                    s.events.get(from.saturating_sub(s.evicted)..).unwrap_or_default().to_vec()
                })
                .unwrap_or_default()
        }

        /// How many events the stream has had (also those only on disk now).
        fn stream_len(&self, group: &str, stream: &str) -> usize {
            self.lock()
                .get(group)
                .and_then(|g| g.streams.get(stream))
                .map_or(0, |s| s.evicted + s.events.len())
        }
    }

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
        let name = new_stream_name("$LATEST");
        assert!(name.contains("/[$LATEST]") && name.len() == 11 + 9 + 32, "{name}");
    }

    /// A function printing without end costs the engine at most MAX_STREAM_MEMORY for its stream;
    /// everything it printed stays on disk, and positions keep counting from the first event.
    #[test]
    fn a_stream_keeps_a_bounded_tail_in_memory_and_everything_on_disk() {
        let dir = std::env::temp_dir().join(format!("engine-logs-{}", uuid::Uuid::new_v4()));
        let logs = LogStore::open(dir.clone()).expect("open");
        let line = "x".repeat(64 * 1024);
        let count = 3 * MAX_STREAM_MEMORY / line.len();
        for n in 0..count {
            logs.append("/aws/lambda/loud", "s", format!("{n:06} {line}"));
            if n % 50 == 0 {
                logs.flush().expect("flush");
            }
        }
        logs.append("/aws/lambda/loud", "other", "a new stream rewrites the group".to_owned());
        logs.append("/aws/lambda/loud", "s", "last".to_owned());
        logs.flush().expect("flush");
        let held: usize = logs.lock()["/aws/lambda/loud"].streams["s"]
            .events
            .iter()
            .map(|e| e.message.len())
            .sum();
        assert!(held <= MAX_STREAM_MEMORY, "{held}");
        assert_eq!(logs.stream_len("/aws/lambda/loud", "s"), count + 1);
        let tail = logs.stream_since("/aws/lambda/loud", "s", count);
        assert_eq!(tail.iter().map(|e| e.message.as_str()).collect::<Vec<_>>(), ["last"]);
        let on_disk = std::fs::read_to_string(
            dir.join(hex("/aws/lambda/loud")).join(format!("{}.jsonl", hex("s"))),
        )
        .expect("stream file");
        assert_eq!(on_disk.lines().count(), count + 1, "nothing lost on disk");
        drop(logs);
        let reopened = LogStore::open(dir.clone()).expect("reopen");
        assert_eq!(reopened.stream_len("/aws/lambda/loud", "s"), count + 1);
        std::fs::remove_dir_all(dir).expect("cleanup");
    }
}
