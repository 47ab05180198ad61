//! The Lambda Runtime API (2018-06-01), one listener per execution environment, as the runtime
//! inside it sees AWS's: `next` long-polls for an invocation, `response`/`error` complete it,
//! `init/error` reports a failed start. Requests are checked before any state changes.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tokio::sync::{Mutex, mpsc, oneshot};

/// One invocation handed to the runtime.
#[derive(Debug)]
pub struct Invocation {
    pub request_id: String,
    pub payload: Bytes,
    pub deadline_ms: u64,
    pub function_arn: String,
    /// `Lambda-Runtime-Aws-Tenant-Id`, for a tenant-isolated function.
    pub tenant_id: Option<String>,
    pub reply: oneshot::Sender<Outcome>,
}

/// How the runtime finished an invocation.
#[derive(Debug)]
pub enum Outcome {
    Response(Bytes),
    /// The function's error JSON, as the runtime posted it.
    Error(Bytes),
    /// A response in streaming mode, still being written.
    Stream(Streamed),
}

/// A streamed response: its content type and its chunks as the runtime writes them. The channel
/// closes when the response is complete.
#[derive(Debug)]
pub struct Streamed {
    pub content_type: String,
    pub chunks: mpsc::Receiver<Chunk>,
}

/// One piece of a streamed response.
#[derive(Debug)]
pub enum Chunk {
    Data(Bytes),
    /// The function failed mid-stream: its error JSON, from the trailers.
    Failed(Bytes),
}

/// The environment's side of its Runtime API.
#[derive(Debug)]
pub struct Slot {
    next: Mutex<mpsc::Receiver<Invocation>>,
    /// The invocation the runtime is working on: (request id, where its outcome goes).
    current: std::sync::Mutex<Option<(String, oneshot::Sender<Outcome>)>>,
    /// What the runtime reported through `/runtime/init/error`, if it failed to start.
    pub init_error: std::sync::Mutex<Option<Bytes>>,
    /// When the runtime first asked for work: the end of its init.
    pub ready_at: std::sync::OnceLock<std::time::Instant>,
    /// Told when `ready_at` is set.
    ready: tokio::sync::Notify,
}

impl Slot {
    pub fn new(next: mpsc::Receiver<Invocation>) -> Arc<Self> {
        Arc::new(Self {
            next: Mutex::new(next),
            current: std::sync::Mutex::new(None),
            init_error: std::sync::Mutex::new(None),
            ready_at: std::sync::OnceLock::new(),
            ready: tokio::sync::Notify::new(),
        })
    }

    /// Resolves once the runtime has finished its init (asked for its first invocation).
    pub async fn wait_ready(&self) {
        loop {
            let notified = self.ready.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.ready_at.get().is_some() {
                return;
            }
            notified.await;
        }
    }

    fn current(&self) -> std::sync::MutexGuard<'_, Option<(String, oneshot::Sender<Outcome>)>> {
        self.current.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

pub fn router(slot: Arc<Slot>) -> Router {
    Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{request_id}/response", post(response))
        // Error bodies are read whole: at most Lambda's payload size, so a runtime cannot make
        // the engine buffer gigabytes.
        .route(
            "/2018-06-01/runtime/invocation/{request_id}/error",
            post(error).layer(axum::extract::DefaultBodyLimit::max(crate::model::MAX_SYNC_PAYLOAD)),
        )
        .route(
            "/2018-06-01/runtime/init/error",
            post(init_error)
                .layer(axum::extract::DefaultBodyLimit::max(crate::model::MAX_SYNC_PAYLOAD)),
        )
        .route("/ping", get(|| async { "pong" }))
        // The response handler reads its body itself, to answer an oversized one as Lambda does.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(slot)
}

fn runtime_error(status: StatusCode, error_type: &str, message: &str) -> Response {
    (status, Json(serde_json::json!({ "errorType": error_type, "errorMessage": message })))
        .into_response()
}

fn accepted() -> Response {
    (StatusCode::ACCEPTED, Json(serde_json::json!({ "status": "OK" }))).into_response()
}

/// `GET /runtime/invocation/next`: waits for the next invocation.
async fn next(State(slot): State<Arc<Slot>>) -> Response {
    if slot.ready_at.set(std::time::Instant::now()).is_ok() {
        slot.ready.notify_waiters();
    }
    if slot.current().is_some() {
        return runtime_error(
            StatusCode::FORBIDDEN,
            "InvalidStateTransition",
            "State transition from Running to Ready failed: the current invocation has no response yet",
        );
    }
    let Some(invocation) = slot.next.lock().await.recv().await else {
        return runtime_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "the environment is shutting down",
        );
    };
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set("Lambda-Runtime-Aws-Request-Id", &invocation.request_id);
    set("Lambda-Runtime-Deadline-Ms", &invocation.deadline_ms.to_string());
    set("Lambda-Runtime-Invoked-Function-Arn", &invocation.function_arn);
    set("Lambda-Runtime-Trace-Id", &trace_id());
    if let Some(tenant) = &invocation.tenant_id {
        set("Lambda-Runtime-Aws-Tenant-Id", tenant);
    }
    set("Content-Type", "application/json");
    *slot.current() = Some((invocation.request_id, invocation.reply));
    (StatusCode::OK, headers, invocation.payload).into_response()
}

fn trace_id() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let secs = time::OffsetDateTime::now_utc().unix_timestamp();
    format!("Root=1-{secs:08x}-{};Parent={};Sampled=0", &id[..24], &id[16..32])
}

/// Completes the current invocation if `request_id` is it.
fn complete(slot: &Slot, request_id: &str, outcome: Outcome) -> Response {
    let mut current = slot.current();
    match current.as_ref() {
        None => runtime_error(
            StatusCode::FORBIDDEN,
            "InvalidStateTransition",
            "State transition from Ready to InvocationResponse failed: no invocation is in progress",
        ),
        Some((id, _)) if id != request_id => {
            runtime_error(StatusCode::BAD_REQUEST, "InvalidRequestID", "Invalid request ID")
        }
        Some(_) => {
            if let Some((_, reply)) = current.take() {
                let _ = reply.send(outcome);
            }
            accepted()
        }
    }
}

/// `POST /runtime/invocation/{id}/response`. An oversized response fails the invocation with
/// `Function.ResponseSizeTooLarge`, and the runtime is told so.
async fn response(
    State(slot): State<Arc<Slot>>,
    Path(request_id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    match headers.get("lambda-runtime-function-response-mode").map(HeaderValue::as_bytes) {
        None => {}
        Some(b"streaming") => return stream_response(&slot, &request_id, &headers, body).await,
        Some(_) => {
            return runtime_error(
                StatusCode::BAD_REQUEST,
                "Runtime.InvalidResponseModeHeader",
                "Lambda-Runtime-Function-Response-Mode must be streaming",
            );
        }
    }
    const LIMIT: usize = crate::model::MAX_SYNC_PAYLOAD + 100;
    let body = axum::body::to_bytes(body, LIMIT).await;
    let Ok(body) = body else {
        let error = serde_json::json!({
            "errorMessage": format!("Response payload size exceeded maximum allowed payload size ({LIMIT} bytes)."),
            "errorType": "Function.ResponseSizeTooLarge",
        });
        complete(&slot, &request_id, Outcome::Error(Bytes::from(error.to_string())));
        return runtime_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            &format!("Exceeded maximum allowed payload size ({LIMIT} bytes)."),
        );
    };
    let accepted = complete(&slot, &request_id, Outcome::Response(body));
    answer_caller_first().await;
    accepted
}

/// Lets the invoker (woken by the outcome) answer its caller before this `202` goes to the
/// runtime: the caller is waiting for the result; the runtime only for its next event.
async fn answer_caller_first() {
    tokio::task::yield_now().await;
}

/// A response in streaming mode: the invoker gets the chunks as they arrive; the runtime's
/// request is answered once its body (and the trailers that may carry an error) is complete.
async fn stream_response(
    slot: &Slot,
    request_id: &str,
    headers: &HeaderMap,
    mut body: axum::body::Body,
) -> Response {
    use http_body_util::BodyExt as _;
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_owned();
    let (tx, chunks) = mpsc::channel(16);
    let started = complete(slot, request_id, Outcome::Stream(Streamed { content_type, chunks }));
    if started.status() != StatusCode::ACCEPTED {
        return started;
    }
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { break };
        let chunk = match frame.into_data() {
            Ok(data) => Chunk::Data(data),
            Err(frame) => {
                let Some(trailers) = frame.into_trailers().ok() else { continue };
                let Some(error_type) = trailers.get("lambda-runtime-function-error-type") else {
                    continue;
                };
                use base64::Engine as _;
                let body = trailers
                    .get("lambda-runtime-function-error-body")
                    .and_then(|b| {
                        base64::engine::general_purpose::STANDARD.decode(b.as_bytes()).ok()
                    })
                    .unwrap_or_else(|| {
                        let error_type = String::from_utf8_lossy(error_type.as_bytes());
                        serde_json::json!({ "errorType": error_type, "errorMessage": "" })
                            .to_string()
                            .into_bytes()
                    });
                Chunk::Failed(Bytes::from(body))
            }
        };
        // A caller that went away does not stop the runtime from finishing its response.
        let _ = tx.send(chunk).await;
    }
    started
}

/// `POST /runtime/invocation/{id}/error`.
async fn error(
    State(slot): State<Arc<Slot>>,
    Path(request_id): Path<String>,
    body: Bytes,
) -> Response {
    let accepted = complete(&slot, &request_id, Outcome::Error(body));
    answer_caller_first().await;
    accepted
}

/// `POST /runtime/init/error`: the runtime could not start; it exits next.
async fn init_error(State(slot): State<Arc<Slot>>, body: Bytes) -> Response {
    *slot.init_error.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(body);
    accepted()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn serve(slot: Arc<Slot>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, router(slot)).await;
        });
        format!("http://{addr}/2018-06-01/runtime")
    }

    #[tokio::test]
    async fn runtime_api_follows_lambdas_state_machine() {
        let (tx, rx) = mpsc::channel(1);
        let base = serve(Slot::new(rx)).await;
        let client = reqwest::Client::new();

        let early = client
            .post(format!("{base}/invocation/abc/response"))
            .body("{}")
            .send()
            .await
            .expect("post");
        assert_eq!(early.status(), StatusCode::FORBIDDEN);
        let body: serde_json::Value = early.json().await.expect("json");
        assert_eq!(body["errorType"], "InvalidStateTransition");

        let (reply, outcome) = oneshot::channel();
        tx.send(Invocation {
            request_id: "req-1".into(),
            payload: Bytes::from_static(b"{\"a\":1}"),
            deadline_ms: 1_700_000_000_000,
            function_arn: "arn:aws:lambda:us-east-1:000000000000:function:f".into(),
            tenant_id: None,
            reply,
        })
        .await
        .expect("send");
        let next = client.get(format!("{base}/invocation/next")).send().await.expect("next");
        assert_eq!(next.status(), StatusCode::OK);
        let header =
            |name: &str| next.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        assert_eq!(header("lambda-runtime-aws-request-id").as_deref(), Some("req-1"));
        assert_eq!(header("lambda-runtime-deadline-ms").as_deref(), Some("1700000000000"));
        assert!(
            header("lambda-runtime-invoked-function-arn")
                .is_some_and(|a| a.ends_with(":function:f"))
        );
        assert!(header("lambda-runtime-trace-id").is_some_and(|t| t.starts_with("Root=1-")));
        assert_eq!(next.bytes().await.expect("body"), &b"{\"a\":1}"[..]);

        let again = client.get(format!("{base}/invocation/next")).send().await.expect("next");
        assert_eq!(again.status(), StatusCode::FORBIDDEN, "no next before a response");
        let wrong = client
            .post(format!("{base}/invocation/other/response"))
            .body("{}")
            .send()
            .await
            .expect("post");
        assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
        let body: serde_json::Value = wrong.json().await.expect("json");
        assert_eq!(body["errorType"], "InvalidRequestID");

        let done = client
            .post(format!("{base}/invocation/req-1/response"))
            .body("\"ok\"")
            .send()
            .await
            .expect("post");
        assert_eq!(done.status(), StatusCode::ACCEPTED);
        assert!(matches!(outcome.await, Ok(Outcome::Response(body)) if body == "\"ok\""));
        let twice = client
            .post(format!("{base}/invocation/req-1/response"))
            .body("\"ok\"")
            .send()
            .await
            .expect("post");
        assert_eq!(twice.status(), StatusCode::FORBIDDEN, "one response per invocation");
    }
}
