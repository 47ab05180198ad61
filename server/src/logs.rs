//! The Logs tab's two plain-HTTP companions: the download of what the tab shows
//! (`/catalog/{id}/logs.txt`, the same query) and the live tail as server-sent events
//! (`/catalog/{id}/logs/tail`), each for those who may read the function's logs.

use std::convert::Infallible;

use app::api::ssr::fail;
use app::error::ApiError;
use app::forms::LogsQuery;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use backend::accounts::Account;
use backend::catalog::Detail;
use backend::connections::Connection;
use futures_util::stream::{self, Stream};

use crate::state::AppState;

/// The function and its connection, if `account` may read its logs (as may see its variables).
async fn readable_logs(
    state: &AppState,
    account: &Account,
    id: &str,
) -> Result<(Detail, Connection), ApiError> {
    let pool = &state.console.pool;
    let id = backend::input::id("id", id).map_err(fail)?;
    backend::catalog::editable(pool, account, id).await.map_err(fail)
}

pub(crate) fn refused(error: &ApiError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    (status, error.to_string()).into_response()
}

/// `GET /catalog/{id}/logs.txt?<the tab's query>`: the lines the Logs tab shows for the same
/// query, as text — one line per log line (time, stream, message), `--` between blocks.
pub async fn download(
    State(state): State<AppState>,
    axum::Extension(account): axum::Extension<Account>,
    Path(id): Path<String>,
    Query(mut query): Query<LogsQuery>,
) -> Response {
    let (detail, connection) = match readable_logs(&state, &account, &id).await {
        Ok(found) => found,
        Err(error) => return refused(&error),
    };
    query.function_id = id;
    let search = match app::api::logs::ssr::query_of(&query, time::OffsetDateTime::now_utc()) {
        Ok(search) => search,
        Err(message) => return (StatusCode::UNPROCESSABLE_ENTITY, message).into_response(),
    };
    let mut blocks = Vec::new();
    if let Some(request) = query.request.as_deref().filter(|r| !r.is_empty()) {
        let range = (search.query.start_ms, search.query.end_ms);
        match backend::logs::invocation(&connection, &detail, request, range).await {
            Ok(block) => blocks.extend(block),
            Err(error) => return refused(&fail(error)),
        }
    }
    match backend::logs::search(&connection, &detail, &search.query).await {
        Ok(page) => blocks.extend(page.blocks),
        Err(error) => return refused(&fail(error)),
    }
    let text = blocks
        .iter()
        .map(|block| {
            block
                .lines
                .iter()
                .map(|l| {
                    let time = app::api::logs::ssr::time_of(l.timestamp_ms);
                    format!("{time}\t{}\t{}\n", block.stream, l.message.trim_end_matches('\n'))
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("--\n");
    let file = format!("attachment; filename=\"{}-logs.txt\"", detail.entry.name);
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, file),
        ],
        text,
    )
        .into_response()
}

#[derive(Debug, serde::Deserialize)]
pub struct TailQuery {
    pattern: Option<String>,
}

/// `GET /catalog/{id}/logs/tail?pattern=`: the live tail as server-sent events — `update` with
/// a JSON `TailUpdateView` as lines arrive, then `failure` (with what to do) or `end` as the
/// last event. A session that could not start is a `failure` too, so the page can say why.
pub async fn tail(
    State(state): State<AppState>,
    axum::Extension(account): axum::Extension<Account>,
    Path(id): Path<String>,
    Query(query): Query<TailQuery>,
) -> Response {
    let (detail, connection) = match readable_logs(&state, &account, &id).await {
        Ok(found) => found,
        Err(error) => return refused(&error),
    };
    let pattern = query.pattern.unwrap_or_default();
    let events: Box<dyn Stream<Item = Result<Event, Infallible>> + Send + Unpin> =
        match backend::logs::tail(&connection, &detail, &pattern).await {
            Ok(session) => Box::new(Box::pin(updates(session))),
            Err(error) => {
                let failure = Event::default().event("failure").data(fail(error).to_string());
                Box::new(stream::iter([Ok(failure)]))
            }
        };
    Sse::new(events).keep_alive(KeepAlive::default()).into_response()
}

/// A session's updates as events, ending with `end` or `failure`.
fn updates(session: backend::logs::Tail) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold(Some(session), |session| async move {
        let mut session = session?;
        let mut next = session.next().await;
        // CloudWatch's empty update each second says nothing to the page.
        while let Ok(Some(update)) = &next
            && update.lines.is_empty()
            && !update.sampled
        {
            next = session.next().await;
        }
        let event = match next {
            Ok(Some(update)) => {
                let view = app::types::TailUpdateView {
                    sampled: update.sampled,
                    lines: update
                        .lines
                        .into_iter()
                        .map(|l| app::types::TailLineView {
                            time: app::api::logs::ssr::time_of(l.timestamp_ms),
                            timestamp_ms: l.timestamp_ms,
                            stream: l.stream,
                            message: l.message,
                        })
                        .collect(),
                };
                let data = serde_json::to_string(&view).unwrap_or_default();
                return Some((Ok(Event::default().event("update").data(data)), Some(session)));
            }
            Ok(None) => Event::default().event("end").data("The live tail ended."),
            Err(error) => Event::default().event("failure").data(fail(error).to_string()),
        };
        Some((Ok(event), None))
    })
}
