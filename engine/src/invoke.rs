//! Invoke (RequestResponse and DryRun): find a warm environment or start one, hand the payload to
//! its runtime, wait for the outcome or the deadline, and write the platform log lines.
//!
//! About 520 lines: one invocation's path end to end (pool, environment, deadline, platform log
//! lines).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use base64::Engine as _;
use tokio::sync::{Mutex, oneshot};

use crate::EngineState;
use crate::error::{ErrorType, LambdaError, Result};
use crate::logs::{Status, report_line};
use crate::metrics::Metric;
use crate::model::{FunctionName, MAX_SYNC_PAYLOAD};
use crate::output::Output;
use crate::runtime_api::{Chunk, Invocation, Outcome, Streamed};
use crate::sandbox::{Environment, Spec};
use crate::store::Function;

/// Idle environments of each function, with the time each became idle.
type IdleEnvironments = HashMap<FunctionName, Vec<(Arc<Environment>, Instant)>>;

/// Idle environments by function, how many environments exist, and the cold starts under way.
#[derive(Debug)]
pub struct Pools {
    idle: Mutex<IdleEnvironments>,
    live: std::sync::atomic::AtomicUsize,
    /// Invocations in flight, by function, for reserved concurrency.
    busy: std::sync::Mutex<HashMap<FunctionName, usize>>,
    /// Environments whose invocation answered its caller and that are on their way back to the
    /// pool (their END and REPORT lines being written), by function.
    returning: std::sync::Mutex<HashMap<FunctionName, usize>>,
    /// Told whenever an environment is back (or retired).
    returned: tokio::sync::Notify,
    /// Permits to be in an init. An init is mostly CPU (an interpreter starting, the handler's
    /// module loading): past a couple per core, more at once only make every one slower. A class
    /// of 200 calling its functions at once on 2 cores had inits taking longer than Lambda's 10 s
    /// init limit; admitted a few at a time, each takes its ~50 ms and the rest wait their turn
    /// (first come, first served), their init limit counting from when they start.
    starting: Arc<tokio::sync::Semaphore>,
}

/// A slot of a function's concurrency, held for the length of one invocation.
#[derive(Debug)]
struct Busy {
    state: Arc<EngineState>,
    name: FunctionName,
}

impl Drop for Busy {
    fn drop(&mut self) {
        let mut busy =
            self.state.pools.busy.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = busy.get_mut(&self.name) {
            *count = count.saturating_sub(1);
        }
    }
}

impl Pools {
    /// Pools with room for `max_inits` cold starts in their init at once.
    pub fn new(max_inits: usize) -> Self {
        Self {
            idle: Mutex::default(),
            live: std::sync::atomic::AtomicUsize::default(),
            busy: std::sync::Mutex::default(),
            returning: std::sync::Mutex::default(),
            returned: tokio::sync::Notify::new(),
            starting: Arc::new(tokio::sync::Semaphore::new(max_inits.max(1))),
        }
    }

    /// Stops every idle environment of `name` (the function changed or is gone).
    pub async fn drain(&self, name: &FunctionName) {
        if let Some(envs) = self.idle.lock().await.remove(name) {
            self.live.fetch_sub(envs.len(), std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// Stops environments idle for longer than `max_idle`.
    pub async fn expire(&self, max_idle: Duration) {
        let mut idle = self.idle.lock().await;
        let mut expired = 0;
        for envs in idle.values_mut() {
            let before = envs.len();
            envs.retain(|(_, since)| since.elapsed() < max_idle);
            expired += before - envs.len();
        }
        idle.retain(|_, envs| !envs.is_empty());
        self.live.fetch_sub(expired, std::sync::atomic::Ordering::SeqCst);
    }

    /// Takes one of the function's concurrency slots, or throttles at its reserved concurrency.
    fn enter(state: &Arc<EngineState>, function: &Function) -> Result<Busy> {
        let mut busy = state.pools.busy.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = busy.entry(function.name.clone()).or_default();
        let metrics = &state.metrics;
        if function.reserved_concurrency.is_some_and(|limit| *count >= limit as usize) {
            metrics.record(function.name.as_str(), Metric::Throttles, 1.0);
            return Err(LambdaError::throttled(
                "ReservedFunctionConcurrentInvocationLimitExceeded",
            ));
        }
        *count += 1;
        metrics.record(function.name.as_str(), Metric::ConcurrentExecutions, *count as f64);
        Ok(Busy { state: state.clone(), name: function.name.clone() })
    }

    /// An idle environment of this revision (a function's versions share its pool) and tenant;
    /// exited ones are dropped on the way.
    async fn take(&self, function: &Function, tenant: Option<&str>) -> Option<Arc<Environment>> {
        let mut idle = self.idle.lock().await;
        let envs = idle.get_mut(&function.name)?;
        let before = envs.len();
        envs.retain(|(env, _)| !env.has_exited());
        self.live.fetch_sub(before - envs.len(), std::sync::atomic::Ordering::SeqCst);
        let position = envs.iter().rposition(|(env, _)| {
            env.revision_id == function.runtime_revision && env.tenant.as_deref() == tenant
        })?;
        Some(envs.swap_remove(position).0)
    }

    /// An idle environment, or, when one of the function's environments is on its way back, that
    /// one once it is back: a caller's next invoke must not start a second environment only
    /// because the first is still writing its REPORT line.
    async fn take_or_await(
        &self,
        function: &Function,
        tenant: Option<&str>,
    ) -> Option<Arc<Environment>> {
        loop {
            let returned = self.returned.notified();
            tokio::pin!(returned);
            returned.as_mut().enable();
            if let Some(env) = self.take(function, tenant).await {
                return Some(env);
            }
            let on_the_way = {
                let returning =
                    self.returning.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                returning.get(&function.name).copied().unwrap_or(0)
            };
            if on_the_way == 0 {
                return None;
            }
            returned.await;
        }
    }

    fn returning(&self, name: &FunctionName, delta: isize) {
        let mut returning =
            self.returning.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = returning.entry(name.clone()).or_default();
        *count = count.saturating_add_signed(delta);
        if *count == 0 {
            returning.remove(name);
        }
        drop(returning);
        if delta < 0 {
            self.returned.notify_waiters();
        }
    }

    /// Stops the environment idle the longest, of any function, to make room for a new one;
    /// whether there was one. (Lambda's account limit counts invocations in flight, not idle
    /// environments: a class of a hundred functions called once each must not be throttled.)
    async fn evict_idle(&self) -> bool {
        let mut idle = self.idle.lock().await;
        let oldest = idle
            .iter()
            .flat_map(|(name, envs)| {
                envs.iter().enumerate().map(move |(n, (_, since))| (name, n, *since))
            })
            .min_by_key(|(_, _, since)| *since)
            .map(|(name, n, _)| (name.clone(), n));
        let Some((name, n)) = oldest else { return false };
        if let Some(envs) = idle.get_mut(&name) {
            envs.remove(n);
            if envs.is_empty() {
                idle.remove(&name);
            }
        }
        self.live.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        true
    }

    async fn put_back(&self, name: &FunctionName, env: Arc<Environment>) {
        self.idle.lock().await.entry(name.clone()).or_default().push((env, Instant::now()));
    }

    fn retire(&self) {
        self.live.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// What an invoke returns to the caller.
#[derive(Debug)]
pub struct InvokeResult {
    pub body: Bytes,
    /// `X-Amz-Function-Error`: the function failed.
    pub function_error: bool,
    /// `X-Amz-Log-Result`: base64 of the last 4 KB of this invoke's log, when asked for.
    pub log_result: Option<String>,
    /// A response the function streams: `body` is empty and the chunks come through here; the
    /// invoke's END and REPORT lines are written when it ends.
    pub stream: Option<Streamed>,
}

impl InvokeResult {
    /// The whole response, waiting for a streamed one to end (Invoke buffers what streams).
    pub async fn buffered(mut self) -> Self {
        let Some(mut stream) = self.stream.take() else { return self };
        let mut body = Vec::new();
        while let Some(chunk) = stream.chunks.recv().await {
            match chunk {
                Chunk::Data(data) if body.len() + data.len() > MAX_SYNC_PAYLOAD => {
                    // As Lambda: a buffered response is at most the sync payload size.
                    self.function_error = true;
                    body = serde_json::json!({
                        "errorType": "Function.ResponseSizeTooLarge",
                        "errorMessage": format!("Response payload size exceeded maximum allowed payload size ({MAX_SYNC_PAYLOAD} bytes)."),
                    })
                    .to_string()
                    .into_bytes();
                    break;
                }
                Chunk::Data(data) => body.extend_from_slice(&data),
                Chunk::Failed(error) => {
                    self.function_error = true;
                    body = error.to_vec();
                    break;
                }
            }
        }
        self.body = Bytes::from(body);
        self
    }
}

/// Runs one synchronous invocation; a tenant-isolated function's in an environment of `tenant`
/// only.
pub async fn invoke(
    state: &Arc<EngineState>,
    function: Function,
    payload: Bytes,
    tail: bool,
    tenant: Option<String>,
) -> Result<InvokeResult> {
    if payload.len() > MAX_SYNC_PAYLOAD {
        return Err(LambdaError::new(
            ErrorType::RequestTooLarge,
            format!(
                "Request must be smaller than {MAX_SYNC_PAYLOAD} bytes for the InvokeFunction operation"
            ),
        ));
    }
    let payload = if payload.is_empty() { Bytes::from_static(b"{}") } else { payload };
    if serde_json::from_slice::<serde::de::IgnoredAny>(&payload).is_err() {
        return Err(LambdaError::new(
            ErrorType::InvalidRequestContent,
            "Could not parse request body into json: Could not parse payload into json: Unexpected character: was expecting a JSON value",
        ));
    }
    let busy = Pools::enter(state, &function)?;
    let (env, cold) = match state.pools.take_or_await(&function, tenant.as_deref()).await {
        Some(env) => (env, false),
        None => (start_admitted(state, &function, tenant.as_deref()).await?, true),
    };
    // What the role may log is read when roles have changed, as AWS checks it at each write.
    env.output.refresh(&state.iam, &function.settings.role, &state.config.region).await;
    let run = Run {
        state: state.clone(),
        log_from: env.output.mark(),
        env,
        request_id: uuid::Uuid::new_v4().to_string(),
        timeout: Duration::from_secs(u64::from(function.settings.timeout)),
        function,
        sent_at: Instant::now(),
        cold,
        tail,
    };
    let deadline_ms =
        u64::try_from(crate::logs::now_ms()).unwrap_or(0) + run.timeout.as_millis() as u64;
    let (reply, outcome) = oneshot::channel();
    let invocation = Invocation {
        request_id: run.request_id.clone(),
        payload,
        deadline_ms,
        function_arn: match run.function.version {
            Some(n) => format!("{}:{n}", state.function_arn(&run.function.name)),
            None => state.function_arn(&run.function.name),
        },
        tenant_id: tenant,
        reply,
    };
    run.env.output.line(format!(
        "START RequestId: {} Version: {}",
        run.request_id,
        run.function.version_label()
    ));
    let delivered = run.env.send(invocation).await;
    let ended = tokio::select! {
        outcome = outcome, if delivered => match outcome {
            Ok(outcome) => Ended::Outcome(outcome),
            Err(_) => Ended::Exited(run.env.exited().await),
        },
        status = run.env.exited() => Ended::Exited(status),
        () = timed_out(&run.env, run.sent_at, run.timeout) => Ended::TimedOut,
        () = over_memory(&run.env, run.function.settings.memory_size) => Ended::OutOfMemory,
    };
    if let Ended::Outcome(Outcome::Stream(streamed)) = ended {
        // A stream began, so the runtime is past its init: its deadline is known.
        let deadline = tokio::time::Instant::from_std(
            run.env.slot.ready_at.get().map_or(run.sent_at, |ready| (*ready).max(run.sent_at)),
        ) + run.timeout;
        // The caller reads the stream while it is written; the invoke ends with it.
        let (tx, chunks) = tokio::sync::mpsc::channel(16);
        let content_type = streamed.content_type.clone();
        tokio::spawn(async move {
            let _busy = busy;
            let ended = run.forward(streamed, tx, deadline).await;
            run.finish(ended).await;
        });
        let stream = Some(Streamed { content_type, chunks });
        return Ok(InvokeResult {
            body: Bytes::new(),
            function_error: false,
            log_result: None,
            stream,
        });
    }
    // The caller gets its answer now; the END and REPORT lines and the return to the pool follow
    // on their own task. (With a log tail asked for, the lines are part of the answer.)
    if !run.tail
        && let Ended::Outcome(Outcome::Response(body) | Outcome::Error(body)) = &ended
    {
        let result = InvokeResult {
            body: body.clone(),
            function_error: matches!(ended, Ended::Outcome(Outcome::Error(_))),
            log_result: None,
            stream: None,
        };
        let name = run.function.name.clone();
        state.pools.returning(&name, 1);
        // The invocation is over for its caller, so is its concurrency slot: a next invoke is not
        // throttled by it, and waits above for the environment instead of starting another.
        drop(busy);
        let state = state.clone();
        tokio::spawn(async move {
            run.finish(ended).await;
            state.pools.returning(&name, -1);
        });
        return Ok(result);
    }
    let result = run.finish(ended).await;
    drop(busy);
    Ok(result)
}

/// One invocation in an environment, from START to REPORT.
struct Run {
    state: Arc<EngineState>,
    env: Arc<Environment>,
    function: Function,
    /// Where the invocation's output starts in the environment's recent output.
    log_from: usize,
    request_id: String,
    timeout: Duration,
    sent_at: Instant,
    cold: bool,
    tail: bool,
}

impl Run {
    /// Passes a streamed response on to the caller until it ends, the function times out or the
    /// runtime exits; says how the invocation ended.
    async fn forward(
        &self,
        mut streamed: Streamed,
        to_caller: tokio::sync::mpsc::Sender<Chunk>,
        deadline: tokio::time::Instant,
    ) -> Ended {
        loop {
            tokio::select! {
                chunk = streamed.chunks.recv() => match chunk {
                    Some(Chunk::Failed(error)) => {
                        let _ = to_caller.send(Chunk::Failed(error.clone())).await;
                        return Ended::Outcome(Outcome::Error(error));
                    }
                    Some(data) => {
                        let _ = to_caller.send(data).await;
                    }
                    None => return Ended::Outcome(Outcome::Response(Bytes::new())),
                },
                status = self.env.exited() => return Ended::Exited(status),
                () = tokio::time::sleep_until(deadline) => {
                    let secs = self.timeout.as_secs_f64();
                    let error = serde_json::json!({
                        "errorType": "Sandbox.Timedout",
                        "errorMessage": format!("RequestId: {} Error: Task timed out after {secs:.2} seconds", self.request_id),
                    });
                    let _ = to_caller.send(Chunk::Failed(Bytes::from(error.to_string()))).await;
                    return Ended::TimedOut;
                }
            }
        }
    }

    /// Writes the invocation's end in the log (END, REPORT and what went wrong), returns the
    /// environment to the pool or retires it, and shapes the result.
    async fn finish(self, ended: Ended) -> InvokeResult {
        let Self { state, env, function, request_id, timeout, sent_at, cold, .. } = &self;
        let log = |line: String| env.output.line(line);
        let finished_at = Instant::now();
        let ready_at = env.slot.ready_at.get().copied();
        let init_ms = cold.then(|| ready_at.map(|r| ms(r - env.spawned_at))).flatten();
        let started = ready_at.map_or(*sent_at, |r| r.max(*sent_at));
        let mut duration_ms = ms(finished_at.saturating_duration_since(started));
        let max_memory = env.max_memory_mb();

        let (body, function_error, status, healthy) = match ended {
            Ended::Outcome(Outcome::Response(body)) => (body, false, Status::Success, true),
            Ended::Outcome(Outcome::Stream(_)) => (Bytes::new(), false, Status::Success, true),
            Ended::Outcome(Outcome::Error(body)) => {
                let error_type = serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v["errorType"].as_str().map(str::to_owned));
                let status = if error_type.as_deref().is_some_and(|t| t.starts_with("Runtime.")) {
                    Status::Error("Runtime.Unknown")
                } else {
                    Status::Error("Unhandled")
                };
                (body, true, status, true)
            }
            Ended::TimedOut => {
                duration_ms = ms(*timeout);
                let secs = timeout.as_secs_f64();
                let now = time::OffsetDateTime::now_utc()
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default();
                log(format!("{now} {request_id} Task timed out after {secs:.2} seconds"));
                let body = serde_json::json!({
                    "errorType": "Sandbox.Timedout",
                    "errorMessage": format!("RequestId: {request_id} Error: Task timed out after {secs:.2} seconds"),
                });
                (Bytes::from(body.to_string()), true, Status::Timeout, false)
            }
            Ended::OutOfMemory => {
                env.kill();
                let message = format!(
                    "RequestId: {request_id} Error: Runtime exited with error: signal: killed"
                );
                log(message.clone());
                log("Runtime.OutOfMemory".to_owned());
                let body = serde_json::json!({ "errorType": "Runtime.OutOfMemory", "errorMessage": message });
                (Bytes::from(body.to_string()), true, Status::Error("Runtime.OutOfMemory"), false)
            }
            Ended::Exited(exit) => {
                let init_error = env
                    .slot
                    .init_error
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .take();
                let body = match init_error {
                    Some(body) => body,
                    None => {
                        let message = format!(
                            "RequestId: {request_id} Error: Runtime exited with error: {exit}"
                        );
                        log(message.clone());
                        log("Runtime.ExitError".to_owned());
                        Bytes::from(serde_json::json!({ "errorType": "Runtime.ExitError", "errorMessage": message }).to_string())
                    }
                };
                (body, true, Status::Error("Runtime.ExitError"), false)
            }
        };
        tracing::debug!(
            function = function.name.as_str(),
            request_id = %request_id,
            cold_start = *cold,
            init_ms = ?init_ms,
            duration_ms,
            outcome = ?status,
            "invocation ended"
        );
        // The runtime wrote its output before it posted the outcome; let the output readers
        // catch up so the invoke's lines land between START and END. (A scheduling nudge, not
        // a guarantee.)
        for _ in 0..3 {
            tokio::task::yield_now().await;
        }
        state.metrics.record_all(
            function.name.as_str(),
            &[
                (Metric::Invocations, 1.0),
                (Metric::Errors, f64::from(u8::from(function_error))),
                (Metric::Duration, duration_ms),
            ],
        );
        log(format!("END RequestId: {request_id}"));
        log(report_line(
            request_id,
            duration_ms,
            function.settings.memory_size,
            max_memory,
            init_ms,
            status,
        ));
        if healthy {
            let _ = env.warmed.set(());
            state.pools.put_back(&function.name, env.clone()).await;
        } else {
            env.kill();
            state.pools.retire();
        }
        let log_result = self.tail.then(|| {
            let lines = env.output.since(self.log_from);
            let text = lines.join("\n") + "\n";
            let start = text.len().saturating_sub(4096);
            let start =
                (start..text.len()).find(|i| text.is_char_boundary(*i)).unwrap_or(text.len());
            base64::engine::general_purpose::STANDARD.encode(&text[start..])
        });
        InvokeResult { body, function_error, log_result, stream: None }
    }
}

enum Ended {
    Outcome(Outcome),
    Exited(String),
    TimedOut,
    OutOfMemory,
}

/// Resolves when the runtime uses more memory than the function's memory size: the runtime
/// process every 10 ms, and every process of the environment together every 100 ms (a child it
/// started, or a fork, counts too).
async fn over_memory(env: &Environment, limit_mb: u32) {
    // The first look is 10 ms in: a quick invoke never pays for reading /proc.
    let period = Duration::from_millis(10);
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    for n in 1u64.. {
        tick.tick().await;
        let used = if n % 10 == 0 { env.tree_memory_mb() } else { env.memory_mb() };
        if used > u64::from(limit_mb) {
            return;
        }
    }
}

/// Lambda's limit on a cold start's init phase, which the function's timeout does not include.
const INIT_LIMIT: Duration = Duration::from_secs(10);

/// Resolves when the invocation has run out of time. As on Lambda, its timeout counts from when
/// the runtime could take it — after a cold start's init, which has its own limit — so a busy
/// machine's slow init does not eat the handler's time.
async fn timed_out(env: &Environment, sent_at: Instant, timeout: Duration) {
    let ready = match env.slot.ready_at.get() {
        Some(ready) => *ready,
        None => {
            let init_over = tokio::time::Instant::from_std(sent_at) + INIT_LIMIT;
            tokio::select! {
                () = env.slot.wait_ready() => env.slot.ready_at.get().copied().unwrap_or_else(Instant::now),
                () = tokio::time::sleep_until(init_over) => return,
            }
        }
    };
    tokio::time::sleep_until(tokio::time::Instant::from_std(ready.max(sent_at)) + timeout).await;
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Starts an environment when a permit to init is free, holding the permit until the runtime is
/// ready, has exited, or has used up the init limit.
async fn start_admitted(
    state: &Arc<EngineState>,
    function: &Function,
    tenant: Option<&str>,
) -> Result<Arc<Environment>> {
    let permit =
        state.pools.starting.clone().acquire_owned().await.map_err(LambdaError::service)?;
    let env = start_environment(state, function, tenant).await?;
    let starting = env.clone();
    tokio::spawn(async move {
        let _permit = permit;
        tokio::select! {
            () = starting.slot.wait_ready() => {}
            _ = starting.exited() => {}
            () = tokio::time::sleep(INIT_LIMIT) => {}
        }
    });
    Ok(env)
}

async fn start_environment(
    state: &Arc<EngineState>,
    function: &Function,
    tenant: Option<&str>,
) -> Result<Arc<Environment>> {
    use std::sync::atomic::Ordering;
    let live = state.pools.live.fetch_add(1, Ordering::SeqCst);
    // At the limit, an idle environment makes room; only busy ones throttle.
    if live >= state.config.max_environments && !state.pools.evict_idle().await {
        state.pools.live.fetch_sub(1, Ordering::SeqCst);
        state.metrics.record(function.name.as_str(), Metric::Throttles, 1.0);
        return Err(LambdaError::throttled("ConcurrentInvocationLimitExceeded"));
    }
    let mount_point = state.config.mount_point();
    let output = Output::new(
        state.logs.clone(),
        crate::logs::group_name(function.name.as_str()),
        crate::logs::new_stream_name(&function.version_label()),
    );
    // INIT_START and the init's own output are written as the role allows, too.
    output.refresh(&state.iam, &function.settings.role, &state.config.region).await;
    let spec = Spec {
        function,
        task_root: state.code.task_root(&function.code_key),
        runtime_dir: state.runtime_dir(),
        awslambdaric: state.config.awslambdaric.as_deref(),
        aws_lambda_ric: state.config.aws_lambda_ric.as_deref(),
        region: &state.config.region,
        function_arn: state.function_arn(&function.name),
        output: Arc::new(output),
        containment: &state.containment,
        mount_point: &mount_point,
        egress: state.egress.as_ref(),
        tenant,
    };
    Environment::start(spec).await.inspect_err(|_| {
        state.pools.live.fetch_sub(1, Ordering::SeqCst);
    })
}
