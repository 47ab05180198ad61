//! `GET /catalog/{id}/url/watch/{key}`: the URL tester's answer as it arrives, as server-sent
//! events — `head` (the status line) and `chunk` (each piece of the body, with when it came), for
//! the requests its page sends with `watch={key}`. Open to those who may send them (editors).

use std::convert::Infallible;

use app::api::ssr::fail;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use backend::accounts::Account;
use backend::urls::live::{Heard, Watch};
use futures_util::stream::{self, Stream};
use tokio::sync::broadcast::error::RecvError;

use crate::logs::refused;
use crate::state::AppState;

pub async fn watch(
    State(state): State<AppState>,
    axum::Extension(account): axum::Extension<Account>,
    Path((id, key)): Path<(String, String)>,
) -> Response {
    let pool = &state.console.pool;
    let opened = async {
        let id = backend::input::id("id", &id)?;
        let (detail, _) = backend::catalog::editable(pool, &account, id).await?;
        let watches = &state.console.url_watches;
        watches.open(account.account_id, detail.entry.function_id, &key)
    };
    match opened.await {
        Ok(watch) => Sse::new(heard(watch)).keep_alive(KeepAlive::default()).into_response(),
        Err(error) => refused(&fail(error)),
    }
}

/// What the watch hears, one event each, for as long as the page listens (the watch closes when
/// the page goes). A page too slow to keep up is told how much it missed.
fn heard(watch: Watch) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold(watch, |mut watch| async move {
        let event = match watch.heard.recv().await {
            Ok(heard @ Heard::Head { .. }) => Event::default().event("head").json_data(heard),
            Ok(heard @ Heard::Chunk(_)) => Event::default().event("chunk").json_data(heard),
            Err(RecvError::Lagged(missed)) => {
                Ok(Event::default().event("missed").data(missed.to_string()))
            }
            Err(RecvError::Closed) => return None,
        };
        Some((Ok(event.unwrap_or_default()), watch))
    })
}
