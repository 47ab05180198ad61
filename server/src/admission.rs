//! Admission: how many of the console's actions run at once. An action is a server function the
//! pages post (sign-up, a lab step, a create…); beyond the limit they wait their turn in arrival
//! order, and one that waited too long is answered busy (503 with `Retry-After`, which the pages
//! retry on). Pages, assets, reads (GET server functions) and the REST API are not counted.
//!
//! Why: on one machine a class is CPU-bound, and with every action running at once each one is
//! slowed by all the others — the heavy ones (a sign-up's password hash, a cleanup's two dozen
//! cloud calls) the most, so they miss their second while nothing is gained on the whole.
//! Admitted in arrival order, an action waits for the ones before it and then shares the
//! machine with only a few others: every step costs about the same wait, and a class's sign-ups,
//! which arrive first, are done first. Against a real cloud an action mostly waits on the
//! network, which is why the limit is a setting (`--max-concurrent-actions`, 0 for none).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use tokio::sync::Semaphore;

/// The limit on actions running at once, and how long one may wait for its turn.
#[derive(Debug)]
pub struct Admission {
    turns: Option<Semaphore>,
    patience: Duration,
}

impl Admission {
    /// How long an action waits for its turn before it is answered busy.
    pub const PATIENCE: Duration = Duration::from_secs(20);

    /// At most `limit` actions at once (none when 0), each waiting up to `patience`.
    pub fn new(limit: usize, patience: Duration) -> Self {
        Self { turns: (limit > 0).then(|| Semaphore::new(limit)), patience }
    }
}

/// The default limit: 8 actions per core (16 on two cores, where a class of 100 measured best
/// between 6 and 16; see the README's class benchmark).
pub fn default_limit() -> usize {
    8 * std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
}

/// Whether a request is an action: a server function posted by a page.
fn is_action(request: &Request<Body>) -> bool {
    request.method() == Method::POST && request.uri().path().starts_with("/api/")
}

/// Runs an action in its turn (arrival order: tokio's semaphore is fair), or answers busy when
/// the turn did not come within the patience. Everything else passes straight through.
pub async fn admit(
    State(admission): State<Arc<Admission>>,
    request: Request<Body>,
    next: Next,
) -> Response {
    let Some(turns) = admission.turns.as_ref().filter(|_| is_action(&request)) else {
        return next.run(request).await;
    };
    // The semaphore is never closed: a turn is either given or waited for too long.
    match tokio::time::timeout(admission.patience, turns.acquire()).await {
        Ok(_turn) => next.run(request).await,
        Err(_waited) => {
            tracing::warn!(path = %request.uri().path(), "an action waited too long for its turn");
            crate::web::busy(request.uri().path())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::http::StatusCode;
    use axum::routing::{get, post};
    use tower::ServiceExt as _;

    fn router(admission: Admission, held: Arc<tokio::sync::Notify>) -> Router {
        Router::new()
            .route(
                "/api/slow",
                post(move || {
                    let held = held.clone();
                    async move { held.notified().await }
                }),
            )
            .route("/api/quick", post(|| async {}))
            .route("/page", get(|| async {}))
            .layer(axum::middleware::from_fn_with_state(Arc::new(admission), admit))
    }

    fn call(method: Method, path: &str) -> Request<Body> {
        Request::builder().method(method).uri(path).body(Body::empty()).unwrap()
    }

    /// With the one turn taken, a page still answers, an action waits and is answered busy
    /// (503, Retry-After) once its patience runs out; when the turn is given back, actions run.
    #[tokio::test]
    async fn actions_beyond_the_limit_wait_and_pages_do_not() {
        let gate = Arc::new(tokio::sync::Notify::new());
        let app = router(Admission::new(1, Duration::from_millis(200)), gate.clone());
        let slow = tokio::spawn(app.clone().oneshot(call(Method::POST, "/api/slow")));
        tokio::time::sleep(Duration::from_millis(50)).await;

        let page = app.clone().oneshot(call(Method::GET, "/page")).await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let waited = app.clone().oneshot(call(Method::POST, "/api/quick")).await.unwrap();
        assert_eq!(waited.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(waited.headers().contains_key(axum::http::header::RETRY_AFTER));

        gate.notify_one();
        assert_eq!(slow.await.unwrap().unwrap().status(), StatusCode::OK);
        let after = app.oneshot(call(Method::POST, "/api/quick")).await.unwrap();
        assert_eq!(after.status(), StatusCode::OK);
    }

    /// Actions are admitted in the order they arrived.
    #[tokio::test]
    async fn actions_take_their_turns_in_arrival_order() {
        let gate = Arc::new(tokio::sync::Notify::new());
        let admission = Arc::new(Admission::new(1, Duration::from_secs(5)));
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let app = {
            let (held, order) = (gate.clone(), order.clone());
            Router::new()
                .route(
                    "/api/{n}",
                    post(move |axum::extract::Path(n): axum::extract::Path<u32>| {
                        let (held, order) = (held.clone(), order.clone());
                        async move {
                            if n == 0 {
                                held.notified().await;
                            }
                            order.lock().unwrap().push(n);
                        }
                    }),
                )
                .layer(axum::middleware::from_fn_with_state(admission.clone(), admit))
        };
        let first = tokio::spawn(app.clone().oneshot(call(Method::POST, "/api/0")));
        tokio::time::sleep(Duration::from_millis(20)).await;
        let mut waiting = Vec::new();
        for n in 1..=5 {
            waiting
                .push(tokio::spawn(app.clone().oneshot(call(Method::POST, &format!("/api/{n}")))));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(admission.turns.as_ref().map(Semaphore::available_permits), Some(0));
        gate.notify_one();
        first.await.unwrap().unwrap();
        for call in waiting {
            assert_eq!(call.await.unwrap().unwrap().status(), StatusCode::OK);
        }
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3, 4, 5]);
    }
}
