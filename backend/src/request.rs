//! The id of the request being served: the web layer gives every request one (`x-request-id`),
//! log lines carry it, and an error a person sees names it, so an admin can find the detail the
//! message leaves out.

tokio::task_local! {
    static REQUEST_ID: String;
}

/// A new request id: twelve hex digits, enough to tell apart a day's requests in a log.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}

/// Runs `future` as the request `id`.
pub async fn scope<F: std::future::Future>(id: String, future: F) -> F::Output {
    REQUEST_ID.scope(id, future).await
}

/// The id of the request this task serves, if it serves one.
pub fn id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}
