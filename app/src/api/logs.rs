//! The Logs tab: the log group, its streams, a search with a filter pattern (and context), one
//! invocation's lines, and the group's retention. Logs can hold what a function printed of its
//! secrets, so they are for those who may see its variables: the owner, their team and admins.

use leptos::prelude::*;

use crate::error::ApiError;
use crate::forms::LogsQuery;
use crate::types::LogsTabView;

/// The Logs tab for the search in `query`.
#[server(endpoint = "logs_tab")]
pub async fn logs_tab(#[server(flatten)] query: LogsQuery) -> Result<LogsTabView, ApiError> {
    use super::ssr::*;
    use backend::accounts::Role;
    use backend::logs;
    let result = async {
        let account = require(Role::ALL)?;
        let pool = &context()?.pool;
        let detail = super::catalog::ssr::readable(pool, &account, &query.function_id).await?;
        if !backend::catalog::may_edit(pool, &account, &detail).await.map_err(fail)? {
            return Ok(LogsTabView { can_read: false, ..LogsTabView::default() });
        }
        let connection =
            backend::connections::get(pool, detail.connection_id).await.map_err(fail)?;
        let group = logs::group(&connection, &detail).await.map_err(fail)?;
        let mut view = LogsTabView {
            can_read: true,
            group: group.name.clone(),
            group_exists: group.exists,
            retention_days: group.retention_days,
            retention_choices: logs::RETENTION_DAYS.to_vec(),
            stored_bytes: group.stored_bytes,
            ..LogsTabView::default()
        };
        if !group.exists {
            return Ok(view);
        }
        let streams_from = query.streams_from.clone().filter(|t| !t.is_empty());
        let (streams, streams_next) =
            logs::streams(&connection, &detail, streams_from).await.map_err(fail)?;
        view.streams = streams.into_iter().map(ssr::stream_view).collect();
        view.streams_next = streams_next.map(|t| format!("streams_from={}", ssr::encode(&t)));
        let search = match ssr::query_of(&query, time::OffsetDateTime::now_utc()) {
            Ok(search) => search,
            Err(message) => {
                view.search_error = Some(message);
                return Ok(view);
            }
        };
        view.query = search.view.clone();
        view.range_label = search.label.clone();
        view.here = search.link(None);
        view.current = search.link(search.query.cursor.as_deref());
        if let Some(request) = query.request.as_deref().filter(|r| !r.is_empty()) {
            let range = (search.query.start_ms, search.query.end_ms);
            match logs::invocation(&connection, &detail, request, range).await {
                Ok(block) => view.invocation = block.map(ssr::block_view),
                Err(error) => view.search_error = Some(error.to_string()),
            }
        }
        match logs::search(&connection, &detail, &search.query).await {
            Ok(page) => {
                view.matches = page.matches;
                view.next = page.next.map(|cursor| search.link(Some(&cursor)));
                view.blocks = page.blocks.into_iter().map(ssr::block_view).collect();
            }
            Err(error) => view.search_error = Some(error.to_string()),
        }
        Ok(view)
    }
    .await;
    settle(result, |_| None).await
}

/// Sets how long the function's log group keeps lines: a number of days, or `never` (forever).
#[server(endpoint = "set_log_retention")]
pub async fn set_log_retention(
    function_id: String,
    retention_days: String,
) -> Result<(), ApiError> {
    use super::ssr::*;
    use backend::accounts::Role;
    let result = async {
        let account = require(Role::ALL)?;
        let pool = &context()?.pool;
        let (detail, connection) =
            super::catalog::ssr::editable(pool, &account, &function_id).await?;
        let days = match retention_days.trim() {
            "never" | "" => None,
            days => Some(days.parse::<i32>().map_err(|_| ApiError::Validation {
                field: "retention_days".to_owned(),
                message: "choose a number of days, or Never expire".to_owned(),
            })?),
        };
        backend::logs::set_retention(pool, &actor(&account), &connection, &detail, days)
            .await
            .map_err(fail)
    }
    .await;
    settle(result, |()| Some("Retention saved".to_owned())).await
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! The Logs tab's query read from its address, and the search's results as the page shows
    //! them; shared with the download of what is shown (`/catalog/{id}/logs.txt`).

    use backend::logs::{Block, Order, Query, StreamInfo};
    use time::OffsetDateTime;
    use time::macros::format_description;

    use crate::forms::LogsQuery;
    use crate::types::{LOG_RANGES, LogBlockView, LogEntryView, LogStreamView, LogsQueryView};

    /// A search: what the backend runs, what the form shows, and the range in words.
    #[derive(Clone, Debug)]
    pub struct Search {
        pub query: Query,
        pub view: LogsQueryView,
        pub label: String,
    }

    impl Search {
        /// The address's query for this search from `cursor` (the first page without one).
        pub fn link(&self, cursor: Option<&str>) -> String {
            let v = &self.view;
            let mut pairs = vec![
                ("pattern", v.pattern.clone()),
                ("range", v.range.clone()),
                ("order", v.order.clone()),
                ("context", v.context.to_string()),
                ("limit", v.limit.to_string()),
            ];
            if v.range == "custom" {
                pairs.push(("start", v.start.clone()));
                pairs.push(("end", v.end.clone()));
            }
            if !v.stream.is_empty() {
                pairs.push(("stream", v.stream.clone()));
            }
            if let Some(cursor) = cursor {
                pairs.push(("cursor", cursor.to_owned()));
            }
            pairs.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect::<Vec<_>>().join("&")
        }
    }

    pub use crate::url::encode;

    const MINUTE: &[time::format_description::BorrowedFormatItem<'static>] =
        format_description!("[year]-[month]-[day]T[hour]:[minute]");

    fn at_ms(ms: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    fn ms_of(at: OffsetDateTime) -> i64 {
        i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
    }

    fn minute(ms: i64) -> String {
        at_ms(ms).format(MINUTE).unwrap_or_default()
    }

    /// `YYYY-MM-DD HH:MM:SS.mmm`, UTC.
    pub fn time_of(ms: i64) -> String {
        at_ms(ms)
            .format(format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:3]"
            ))
            .unwrap_or_default()
    }

    fn parse_minute(field: &str, value: &str) -> Result<i64, String> {
        time::PrimitiveDateTime::parse(value, MINUTE)
            .map(|t| ms_of(t.assume_utc()))
            .map_err(|_| format!("{field}: a date and time like 2026-12-01T09:30 (UTC)"))
    }

    /// The search `query` asks for, at `now`; a message saying what to fix when it is wrong.
    pub fn query_of(query: &LogsQuery, now: OffsetDateTime) -> Result<Search, String> {
        let present = |v: &Option<String>| v.clone().filter(|v| !v.trim().is_empty());
        let range = present(&query.range).unwrap_or_else(|| "1h".to_owned());
        let now_ms = ms_of(now);
        let (start_ms, end_ms) = if range == "custom" {
            let start = parse_minute("start", present(&query.start).as_deref().unwrap_or(""))?;
            let end = match present(&query.end) {
                Some(end) => parse_minute("end", &end)? + 60_000,
                None => now_ms + 1,
            };
            if start >= end {
                return Err("The range must start before it ends.".to_owned());
            }
            (start, end)
        } else {
            let Some((_, _, width)) = LOG_RANGES.iter().find(|(v, ..)| *v == range) else {
                return Err(format!("range: one of the presets or custom, not {range}"));
            };
            (now_ms - width, now_ms + 1)
        };
        let order = match present(&query.order).as_deref() {
            None | Some("newest") => Order::NewestFirst,
            Some("oldest") => Order::OldestFirst,
            Some(other) => return Err(format!("order: newest or oldest, not {other}")),
        };
        let number = |field: &str, value: &Option<String>, default: usize, max: usize| match present(
            value,
        ) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n <= max)
                .ok_or_else(|| format!("{field}: a whole number up to {max}")),
        };
        let context = number("context", &query.context, 0, backend::logs::MAX_CONTEXT)?;
        let limit = number("limit", &query.limit, 100, backend::logs::MAX_PAGE)?.max(1);
        let pattern = query.pattern.clone().unwrap_or_default().trim().to_owned();
        let stream = present(&query.stream);
        let view = LogsQueryView {
            pattern: pattern.clone(),
            range,
            start: minute(start_ms),
            end: minute(end_ms - 1),
            order: if order == Order::OldestFirst { "oldest" } else { "newest" }.to_owned(),
            context,
            stream: stream.clone().unwrap_or_default(),
            limit,
            request: present(&query.request).unwrap_or_default(),
        };
        let label = format!("{} – {} UTC", time_of(start_ms), time_of(end_ms - 1));
        let query = Query {
            pattern,
            start_ms,
            end_ms,
            order,
            context,
            stream,
            cursor: present(&query.cursor),
            limit,
        };
        Ok(Search { query, view, label })
    }

    pub fn stream_view(s: StreamInfo) -> LogStreamView {
        LogStreamView { name: s.name, first: s.first_ms.map(time_of), last: s.last_ms.map(time_of) }
    }

    pub fn block_view(b: Block) -> LogBlockView {
        LogBlockView {
            stream: b.stream,
            lines: b
                .lines
                .into_iter()
                .map(|l| LogEntryView {
                    time: time_of(l.timestamp_ms),
                    request_id: l.request_id().map(str::to_owned),
                    matched: l.matched,
                    message: l.message,
                })
                .collect(),
        }
    }
}
