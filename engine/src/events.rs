//! Asynchronous invocations (`X-Amz-Invocation-Type: Event`): each is written under
//! `<data dir>/events` before the caller gets its 202, run in the background, retried twice on a
//! function error with backoff, and dropped after the maximum event age. Queued events survive a
//! restart: the worker picks up whatever files it finds.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, Notify, Semaphore};

use crate::EngineState;
use crate::error::{ErrorType, Result};
use crate::logs::now_ms;
use crate::metrics::Metric;
use crate::model::FunctionName;

/// One queued invocation, as stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct QueuedEvent {
    pub id: String,
    pub function: FunctionName,
    /// The qualifier it was sent to (`$LATEST`, a version or an alias); empty before versions.
    #[serde(default)]
    pub qualifier: String,
    /// The tenant it was sent for (tenant isolation).
    #[serde(default)]
    pub tenant: Option<String>,
    pub payload_b64: String,
    /// Attempts that failed so far.
    pub attempts: u32,
    pub enqueued_ms: i64,
    /// Not to be tried before this time (backoff).
    pub not_before_ms: i64,
}

/// The durable queue and its wake-up signal.
#[derive(Debug)]
pub struct EventQueue {
    dir: PathBuf,
    wake: Notify,
    in_flight: Mutex<HashSet<String>>,
}

impl EventQueue {
    pub fn open(dir: PathBuf) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir, wake: Notify::new(), in_flight: Mutex::new(HashSet::new()) })
    }

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    async fn write(&self, event: &QueuedEvent) -> Result<()> {
        crate::store::write_json(&self.path(&event.id), event).await
    }

    /// Stores an invocation for the worker; once this returns, it survives a restart.
    pub async fn enqueue(
        &self,
        function: &FunctionName,
        qualifier: &str,
        tenant: Option<String>,
        payload: &[u8],
    ) -> Result<String> {
        let now = now_ms();
        let event = QueuedEvent {
            id: uuid::Uuid::new_v4().to_string(),
            function: function.clone(),
            qualifier: qualifier.to_owned(),
            tenant,
            payload_b64: base64::engine::general_purpose::STANDARD.encode(payload),
            attempts: 0,
            enqueued_ms: now,
            not_before_ms: now,
        };
        self.write(&event).await?;
        self.wake.notify_one();
        Ok(event.id)
    }

    /// Every queued event, due first.
    async fn load(&self) -> Vec<QueuedEvent> {
        let mut events = Vec::new();
        let Ok(mut entries) = tokio::fs::read_dir(&self.dir).await else { return events };
        while let Ok(Some(entry)) = entries.next_entry().await {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "json")
                && let Ok(text) = tokio::fs::read(&path).await
            {
                match serde_json::from_slice::<QueuedEvent>(&text) {
                    Ok(event) => events.push(event),
                    Err(error) => {
                        tracing::warn!(%error, path = %path.display(), "skipping an unreadable queued event")
                    }
                }
            }
        }
        events.sort_by_key(|e| e.not_before_ms);
        events
    }

    async fn remove(&self, id: &str) {
        let _ = tokio::fs::remove_file(self.path(id)).await;
    }
}

/// Runs queued events forever, a few at a time.
pub async fn run_worker(state: Arc<EngineState>) {
    let permits = Arc::new(Semaphore::new(8));
    loop {
        let now = now_ms();
        let mut next_due: Option<i64> = None;
        for event in state.events.load().await {
            if event.not_before_ms > now {
                next_due =
                    Some(next_due.map_or(event.not_before_ms, |d| d.min(event.not_before_ms)));
                continue;
            }
            if !state.events.in_flight.lock().await.insert(event.id.clone()) {
                continue;
            }
            let Ok(permit) = permits.clone().acquire_owned().await else { return };
            let state = state.clone();
            tokio::spawn(async move {
                let id = event.id.clone();
                attempt(&state, event).await;
                state.events.in_flight.lock().await.remove(&id);
                state.events.wake.notify_one();
                drop(permit);
            });
        }
        let wait = next_due.map_or(Duration::from_secs(1), |due| {
            Duration::from_millis(u64::try_from(due - now).unwrap_or(0).clamp(5, 1000))
        });
        tokio::select! {
            () = state.events.wake.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// One try of a queued event: done, rescheduled with backoff, or dropped.
async fn attempt(state: &Arc<EngineState>, mut event: QueuedEvent) {
    let config = &state.config;
    let name = event.function.as_str();
    let age = Duration::from_millis(u64::try_from(now_ms() - event.enqueued_ms).unwrap_or(0));
    if age > config.max_event_age {
        tracing::warn!(event.id = %event.id, function.name = name, "dropped an event older than the maximum event age");
        state.metrics.record(name, Metric::AsyncEventsDropped, 1.0);
        state.events.remove(&event.id).await;
        return;
    }
    let function = state.store.get(&event.function).await;
    let Some(function) = function.and_then(|f| crate::store::resolve(f, &event.qualifier, true))
    else {
        tracing::warn!(event.id = %event.id, function.name = name, "dropped an event for a deleted function");
        state.events.remove(&event.id).await;
        return;
    };
    // From the event's arrival to this try, as Lambda measures it.
    state.metrics.record(name, Metric::AsyncEventAge, age.as_millis() as f64);
    let payload =
        base64::engine::general_purpose::STANDARD.decode(&event.payload_b64).unwrap_or_default();
    let tenant = event.tenant.clone();
    let outcome =
        match crate::invoke::invoke(state, function, Bytes::from(payload), false, tenant).await {
            Ok(result) => Ok(result.buffered().await),
            Err(error) => Err(error),
        };
    let delay = match outcome {
        Ok(result) if !result.function_error => {
            state.events.remove(&event.id).await;
            return;
        }
        // Throttled: try again soon, without spending a retry (as Lambda does, up to the event age).
        Err(error) if error.kind == ErrorType::TooManyRequests => Duration::from_secs(1),
        Ok(_) | Err(_) => {
            event.attempts += 1;
            match config.event_retry_delays.get(event.attempts as usize - 1) {
                Some(delay) => *delay,
                None => {
                    tracing::warn!(event.id = %event.id, function.name = event.function.as_str(), attempts = event.attempts, "dropped an event after its retries");
                    state.metrics.record(event.function.as_str(), Metric::AsyncEventsDropped, 1.0);
                    state.events.remove(&event.id).await;
                    return;
                }
            }
        }
    };
    event.not_before_ms = now_ms() + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
    if let Err(error) = state.events.write(&event).await {
        tracing::error!(%error, "could not reschedule a queued event");
    }
}
