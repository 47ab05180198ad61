//! Searching a function's log group: FilterLogEvents with the filter pattern over a time range,
//! oldest or newest first, a page at a time; GetLogEvents for the lines of context around each
//! match in its stream; and one invocation's lines from its `START` to its `REPORT`.

use std::collections::BTreeMap;

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata;

use crate::catalog::Detail;
use crate::cloud::{failed, lookup};
use crate::connections::Connection;
use crate::error::{Error, Result};

use super::group_name;

/// The most lines of context around a match.
pub const MAX_CONTEXT: usize = 10;
/// The most matches on a page.
pub const MAX_PAGE: usize = 1000;
/// The most events read for one page (a window of newest-first paging, or a stream's lines
/// between its first and last match): past it the search narrows or stops.
const MAX_READ: usize = 50_000;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Order {
    #[default]
    NewestFirst,
    OldestFirst,
}

/// What to show.
#[derive(Clone, Debug)]
pub struct Query {
    /// A CloudWatch filter pattern; empty matches every line.
    pub pattern: String,
    pub start_ms: i64,
    /// Exclusive.
    pub end_ms: i64,
    pub order: Order,
    /// Lines of context before and after each match (at most [`MAX_CONTEXT`]).
    pub context: usize,
    /// Only this stream, when set.
    pub stream: Option<String>,
    /// Where the previous page ended ([`Page::next`]).
    pub cursor: Option<String>,
    /// Matches on a page (at most [`MAX_PAGE`]).
    pub limit: usize,
}

/// A log line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub timestamp_ms: i64,
    pub message: String,
    /// It matched the pattern (the others are context).
    pub matched: bool,
}

impl Line {
    /// The request id of a `START`, `END` or `REPORT` line: the invocation it opens, ends or sums
    /// up.
    pub fn request_id(&self) -> Option<&str> {
        let rest = ["START RequestId: ", "END RequestId: ", "REPORT RequestId: "]
            .iter()
            .find_map(|p| self.message.strip_prefix(p))?;
        rest.split_whitespace().next()
    }
}

/// Lines next to each other in one stream: a match with its context (matches close together
/// share one block, as `grep -C` does).
#[derive(Clone, Debug)]
pub struct Block {
    pub stream: String,
    pub lines: Vec<Line>,
}

/// A page of results.
#[derive(Clone, Debug, Default)]
pub struct Page {
    pub blocks: Vec<Block>,
    /// How many lines matched on this page.
    pub matches: usize,
    /// The cursor of the next page, when there may be one.
    pub next: Option<String>,
    /// Whether the log group exists (Lambda makes it at the first log line).
    pub group_exists: bool,
}

/// A matching event as FilterLogEvents returns it.
#[derive(Clone, Debug)]
struct Found {
    stream: String,
    timestamp_ms: i64,
    message: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> Error {
    Error::Validation { field, message: message.into() }
}

/// The page of `query`'s matches, each with its context.
pub async fn search(connection: &Connection, detail: &Detail, query: &Query) -> Result<Page> {
    if query.context > MAX_CONTEXT {
        return Err(invalid("context", format!("at most {MAX_CONTEXT} lines of context")));
    }
    if !(1..=MAX_PAGE).contains(&query.limit) {
        return Err(invalid("limit", format!("between 1 and {MAX_PAGE} lines a page")));
    }
    if query.start_ms >= query.end_ms {
        return Err(invalid("start", "the range must start before it ends"));
    }
    let client = connection.logs(&detail.entry.region).await;
    let group = group_name(&detail.entry.name);
    let found = match query.order {
        Order::OldestFirst => oldest(&client, &group, query).await?,
        Order::NewestFirst => newest(&client, &group, query).await?,
    };
    let Some((matches, next)) = found else {
        return Ok(Page { group_exists: false, ..Page::default() });
    };
    let count = matches.len();
    let mut blocks = with_context(&client, &group, matches, query.context).await?;
    if query.order == Order::NewestFirst {
        blocks.reverse();
    }
    Ok(Page { blocks, matches: count, next, group_exists: true })
}

/// One FilterLogEvents call; `None` when the group does not exist.
async fn filter(
    client: &Client,
    group: &str,
    query: &Query,
    (start, end): (i64, i64),
    limit: usize,
    token: Option<String>,
) -> Result<Option<(Vec<Found>, Option<String>)>> {
    let answer = client
        .filter_log_events()
        .log_group_name(group)
        .filter_pattern(&query.pattern)
        .start_time(start)
        .end_time(end)
        .limit(i32::try_from(limit.min(10_000)).unwrap_or(10_000))
        .set_log_stream_names(query.stream.clone().map(|s| vec![s]))
        .set_next_token(token)
        .send()
        .await;
    if let Err(e) = &answer
        && e.code() == Some("InvalidParameterException")
    {
        let said = crate::cloud::said(e);
        return Err(invalid("pattern", format!("the cloud did not take this pattern: {said}")));
    }
    let Some(out) = lookup("FilterLogEvents", answer)? else { return Ok(None) };
    let events = out
        .events()
        .iter()
        .map(|e| Found {
            stream: e.log_stream_name().unwrap_or_default().to_owned(),
            timestamp_ms: e.timestamp().unwrap_or_default(),
            message: e.message().unwrap_or_default().to_owned(),
        })
        .collect();
    Ok(Some((events, out.next_token().map(str::to_owned))))
}

/// Oldest first: FilterLogEvents' own order and tokens (`o:<token>`).
async fn oldest(
    client: &Client,
    group: &str,
    query: &Query,
) -> Result<Option<(Vec<Found>, Option<String>)>> {
    let mut token = match &query.cursor {
        Some(c) => Some(
            c.strip_prefix("o:")
                .ok_or_else(|| invalid("cursor", "not a page of this order"))?
                .to_owned(),
        ),
        None => None,
    };
    let mut matches = Vec::new();
    // CloudWatch may answer a page with fewer events than asked (even none) and a token.
    for _ in 0..20 {
        let range = (query.start_ms, query.end_ms);
        let wanted = query.limit - matches.len();
        let Some((events, next)) = filter(client, group, query, range, wanted, token).await? else {
            return Ok(None);
        };
        matches.extend(events);
        token = next;
        if token.is_none() || matches.len() >= query.limit {
            break;
        }
    }
    Ok(Some((matches, token.map(|t| format!("o:{t}")))))
}

/// Every match in `range`, or `Err(())` past [`MAX_READ`].
async fn all_in(
    client: &Client,
    group: &str,
    query: &Query,
    range: (i64, i64),
) -> Result<Option<std::result::Result<Vec<Found>, ()>>> {
    let (mut all, mut token) = (Vec::new(), None);
    loop {
        let Some((events, next)) = filter(client, group, query, range, 10_000, token).await? else {
            return Ok(None);
        };
        all.extend(events);
        if all.len() > MAX_READ {
            return Ok(Some(Err(())));
        }
        match next {
            Some(next) => token = Some(next),
            None => return Ok(Some(Ok(all))),
        }
    }
}

/// Newest first: FilterLogEvents reads oldest first, so the newest matches are found in a window
/// that ends at the page's ceiling and widens back until it holds a page (or reaches the range's
/// start). The cursor `n:<ceiling>:<shown>` is the newest time the next page may show and how
/// many lines at exactly that time were shown already.
async fn newest(
    client: &Client,
    group: &str,
    query: &Query,
) -> Result<Option<(Vec<Found>, Option<String>)>> {
    let (ceiling, shown) = match &query.cursor {
        Some(c) => {
            let bad = || invalid("cursor", "not a page of this order");
            let mut parts = c.strip_prefix("n:").ok_or_else(bad)?.split(':');
            let ceiling = parts.next().and_then(|p| p.parse::<i64>().ok()).ok_or_else(bad)?;
            let shown = parts.next().and_then(|p| p.parse::<usize>().ok()).ok_or_else(bad)?;
            (ceiling, shown)
        }
        None => (query.end_ms - 1, 0),
    };
    let mut width: i64 = 60_000;
    loop {
        let from = (ceiling - width + 1).max(query.start_ms);
        let Some(read) = all_in(client, group, query, (from, ceiling + 1)).await? else {
            return Ok(None);
        };
        let mut candidates = match read {
            Ok(events) => events,
            Err(()) if width > 1 => {
                width = (width / 8).max(1);
                continue;
            }
            Err(()) => {
                return Err(Error::Refused(
                    "More lines than the console reads in one go share one millisecond: narrow the pattern.".into(),
                ));
            }
        };
        // The lines at the ceiling already shown are the last ones there.
        let at_ceiling = candidates.iter().rev().take_while(|f| f.timestamp_ms == ceiling).count();
        candidates.truncate(candidates.len() - shown.min(at_ceiling));
        if candidates.len() < query.limit && from > query.start_ms {
            width = width.saturating_mul(8);
            continue;
        }
        let more = candidates.len() > query.limit || from > query.start_ms;
        let page = candidates.split_off(candidates.len().saturating_sub(query.limit));
        let next = match page.first() {
            Some(oldest) if more => {
                let same =
                    page.iter().take_while(|f| f.timestamp_ms == oldest.timestamp_ms).count();
                let before = if oldest.timestamp_ms == ceiling { shown } else { 0 };
                Some(format!("n:{}:{}", oldest.timestamp_ms, same + before))
            }
            _ => None,
        };
        return Ok(Some((page, next)));
    }
}

/// A stream's lines in `[start, end)`, oldest first, up to `limit` (GetLogEvents' pages).
async fn stream_lines(
    client: &Client,
    group: &str,
    stream: &str,
    (start, end): (Option<i64>, Option<i64>),
    from_head: bool,
    limit: usize,
) -> Result<Vec<Line>> {
    let (mut lines, mut token): (Vec<Line>, Option<String>) = (Vec::new(), None);
    loop {
        let out = client
            .get_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .set_start_time(start)
            .set_end_time(end)
            .start_from_head(from_head)
            .limit(i32::try_from((limit - lines.len()).min(10_000)).unwrap_or(10_000))
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(failed("GetLogEvents"))?;
        let page: Vec<Line> = out
            .events()
            .iter()
            .map(|e| Line {
                timestamp_ms: e.timestamp().unwrap_or_default(),
                message: e.message().unwrap_or_default().to_owned(),
                matched: false,
            })
            .collect();
        let next = if from_head { out.next_forward_token() } else { out.next_backward_token() };
        let done = page.is_empty() || next.is_none() || next == token.as_deref();
        if from_head {
            lines.extend(page);
        } else {
            lines.splice(0..0, page);
        }
        if done || lines.len() >= limit {
            return Ok(lines);
        }
        token = next.map(str::to_owned);
    }
}

/// Each match with `context` lines around it in its stream, matches close together in one
/// block; blocks oldest first.
async fn with_context(
    client: &Client,
    group: &str,
    matches: Vec<Found>,
    context: usize,
) -> Result<Vec<Block>> {
    if context == 0 {
        return Ok(matches
            .into_iter()
            .map(|f| Block {
                stream: f.stream,
                lines: vec![Line {
                    timestamp_ms: f.timestamp_ms,
                    message: f.message,
                    matched: true,
                }],
            })
            .collect());
    }
    let mut by_stream: BTreeMap<String, Vec<Found>> = BTreeMap::new();
    for found in matches {
        by_stream.entry(found.stream.clone()).or_default().push(found);
    }
    let mut blocks: Vec<(i64, Block)> = Vec::new();
    for (stream, found) in by_stream {
        let (first, last) = (found[0].timestamp_ms, found[found.len() - 1].timestamp_ms);
        let mut lines =
            stream_lines(client, group, &stream, (None, Some(first)), false, context).await?;
        let between =
            stream_lines(client, group, &stream, (Some(first), Some(last + 1)), true, MAX_READ)
                .await?;
        lines.extend(between);
        let after =
            stream_lines(client, group, &stream, (Some(last + 1), None), true, context).await?;
        lines.extend(after);
        // Each match is the next line after the previous one with its time and text.
        let mut at = 0;
        let mut marked = Vec::new();
        for f in &found {
            if let Some(offset) = lines[at..]
                .iter()
                .position(|l| l.timestamp_ms == f.timestamp_ms && l.message == f.message)
            {
                at += offset;
                lines[at].matched = true;
                marked.push(at);
                at += 1;
            }
        }
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        for index in marked {
            let (lo, hi) = (index.saturating_sub(context), (index + context).min(lines.len() - 1));
            match ranges.last_mut() {
                Some(last) if lo <= last.1 + 1 => last.1 = hi,
                _ => ranges.push((lo, hi)),
            }
        }
        for (lo, hi) in ranges {
            let block = Block { stream: stream.clone(), lines: lines[lo..=hi].to_vec() };
            let key = block.lines.iter().find(|l| l.matched).map_or(0, |l| l.timestamp_ms);
            blocks.push((key, block));
        }
    }
    blocks.sort_by_key(|(key, _)| *key);
    Ok(blocks.into_iter().map(|(_, b)| b).collect())
}

/// One invocation's lines together, from its `START` line to its `REPORT` line, found in
/// `[start_ms, end_ms)`; `None` when they are not there.
pub async fn invocation(
    connection: &Connection,
    detail: &Detail,
    request_id: &str,
    (start_ms, end_ms): (i64, i64),
) -> Result<Option<Block>> {
    let valid = (1..=64).contains(&request_id.len())
        && request_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !valid {
        return Err(invalid("request", "a request id is letters, digits and dashes"));
    }
    let client = connection.logs(&detail.entry.region).await;
    let group = group_name(&detail.entry.name);
    let query = Query {
        pattern: format!("\"RequestId: {request_id}\""),
        start_ms,
        end_ms,
        order: Order::OldestFirst,
        context: 0,
        stream: None,
        cursor: None,
        limit: 100,
    };
    let Some((found, _)) = oldest(&client, &group, &query).await? else { return Ok(None) };
    let marker = |kind: &str| {
        let prefix = format!("{kind} RequestId: {request_id}");
        found.iter().find(|f| f.message.starts_with(&prefix))
    };
    let (Some(start), Some(report)) = (marker("START"), marker("REPORT")) else {
        return Ok(None);
    };
    let range = (Some(start.timestamp_ms), Some(report.timestamp_ms + 1));
    let lines = stream_lines(&client, &group, &report.stream, range, true, MAX_READ).await?;
    let begins = lines.iter().position(|l| l.message == start.message).unwrap_or(0);
    let ends = lines.iter().rposition(|l| l.message == report.message).unwrap_or(lines.len());
    Ok(Some(Block {
        stream: report.stream.clone(),
        lines: lines.get(begins..=ends).map(<[Line]>::to_vec).unwrap_or_default(),
    }))
}
