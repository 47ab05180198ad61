//! `GET /audit/export`: the audit trail with the Audit page's filters as CSV (written by the `csv`
//! crate, cells made inert for spreadsheets) or JSON, streamed a page at a time.

use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

#[derive(Debug, serde::Deserialize)]
pub(crate) struct ExportFormat {
    pub(crate) format: Option<String>,
}

/// `GET /audit/export?format=csv|json&…`: the audit trail with the Audit page's filters, as a
/// download (admins only; at most 100,000 events, newest first). With a token, the same is
/// `GET /api/v1/audit-events/export`.
pub(crate) async fn export_audit(
    State(state): State<AppState>,
    axum::Extension(account): axum::Extension<backend::accounts::Account>,
    axum::extract::Query(query): axum::extract::Query<ExportFormat>,
    axum::extract::Query(filters): axum::extract::Query<app::types::AuditFilters>,
) -> Response {
    if account.role != backend::accounts::Role::Admin {
        return (StatusCode::FORBIDDEN, "Only admins can export the audit trail.").into_response();
    }
    let filter = match backend::audit::Filter::try_from(&filters) {
        Ok(filter) => filter,
        Err(error) => return (StatusCode::BAD_REQUEST, error.to_string()).into_response(),
    };
    match download(state.console.pool, filter, query.format.as_deref()) {
        Ok(response) => response,
        Err(message) => (StatusCode::BAD_REQUEST, message).into_response(),
    }
}

/// The streamed download of the events `filter` selects, as `format` (`csv`, the default, or
/// `json`); an unknown format is an error saying which ones there are.
pub(crate) fn download(
    pool: backend::PgPool,
    filter: backend::audit::Filter,
    format: Option<&str>,
) -> Result<Response, String> {
    let format = match format {
        Some("json") => ExportFormatKind::Json,
        Some("csv") | None => ExportFormatKind::Csv,
        Some(other) => return Err(format!("unknown format {other:?}: use csv or json")),
    };
    let (name, content_type) = match format {
        ExportFormatKind::Csv => ("audit.csv", "text/csv; charset=utf-8"),
        ExportFormatKind::Json => ("audit.json", "application/json"),
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        Body::from_stream(audit_pages(pool, filter, format)),
    )
        .into_response())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ExportFormatKind {
    Csv,
    Json,
}

/// Events an export holds at most, and how many are read from the database at a time.
const EXPORT_LIMIT: i64 = 100_000;
const EXPORT_PAGE: i64 = 1_000;

/// The export as a stream of chunks, one page of events each (newest first): the whole trail is
/// never in memory. A database error ends the stream early (logged; the download is cut short).
fn audit_pages(
    pool: backend::PgPool,
    filter: backend::audit::Filter,
    format: ExportFormatKind,
) -> impl futures_util::Stream<Item = Result<axum::body::Bytes, std::io::Error>> {
    struct Cursor {
        before: Option<i64>,
        left: i64,
        first: bool,
        done: bool,
    }
    let start = Cursor { before: None, left: EXPORT_LIMIT, first: true, done: false };
    futures_util::stream::unfold(start, move |mut cursor| {
        let (pool, filter) = (pool.clone(), filter.clone());
        async move {
            if cursor.done {
                return None;
            }
            let page = if cursor.left > 0 {
                let size = cursor.left.min(EXPORT_PAGE);
                match backend::audit::search(&pool, &filter, cursor.before, size).await {
                    Ok(page) => page,
                    Err(error) => {
                        tracing::error!(%error, "exporting the audit trail");
                        cursor.done = true;
                        return Some((
                            Err(std::io::Error::other("the export stopped early")),
                            cursor,
                        ));
                    }
                }
            } else {
                Vec::new()
            };
            let last = page.len() < usize::try_from(EXPORT_PAGE).unwrap_or(usize::MAX);
            cursor.left -= i64::try_from(page.len()).unwrap_or(i64::MAX);
            cursor.before = page.last().map(|e| e.id);
            let chunk = match format {
                ExportFormatKind::Csv => csv_chunk(&page, cursor.first),
                ExportFormatKind::Json => json_chunk(&page, cursor.first, last),
            };
            cursor.first = false;
            cursor.done = last;
            Some((chunk.map(axum::body::Bytes::from), cursor))
        }
    })
}

fn export_time(e: &backend::audit::Entry) -> String {
    e.at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// One page as CSV rows (after the header row, on the first page), written by the `csv` crate;
/// text cells are quoted and made inert for spreadsheets ([`inert`]).
fn csv_chunk(page: &[backend::audit::Entry], first: bool) -> Result<Vec<u8>, std::io::Error> {
    let mut out = Vec::new();
    if first {
        out.extend_from_slice(b"id,time,actor,action,target,detail,source_ip\r\n");
    }
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::NonNumeric)
        .from_writer(out);
    for e in page {
        writer.write_record([
            e.id.to_string().as_str(),
            &export_time(e),
            &inert(&e.actor),
            &inert(&e.action),
            &inert(&e.target),
            &inert(&e.detail.to_string()),
            e.source_ip.as_deref().unwrap_or_default(),
        ])?;
    }
    writer.into_inner().map_err(|e| std::io::Error::other(e.to_string()))
}

/// One page as part of a JSON array (`[` before the first, `]` after the last).
fn json_chunk(
    page: &[backend::audit::Entry],
    first: bool,
    last: bool,
) -> Result<Vec<u8>, std::io::Error> {
    let mut out = Vec::new();
    if first {
        out.push(b'[');
    }
    for (i, e) in page.iter().enumerate() {
        if !(first && i == 0) {
            out.push(b',');
        }
        serde_json::to_writer(
            &mut out,
            &serde_json::json!({
                "id": e.id, "time": export_time(e), "actor": e.actor, "action": e.action,
                "target": e.target, "detail": e.detail, "source_ip": e.source_ip,
            }),
        )?;
    }
    if last {
        out.push(b']');
    }
    Ok(out)
}

/// A cell as a spreadsheet should read it: one it would run as a formula (starting with
/// `= + - @`, a tab or a carriage return) gets a leading `'`, so it reads as text. (The `csv`
/// writer quotes it.)
pub(crate) fn inert(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_cells_never_run_as_formulas() {
        let entry = |detail: serde_json::Value| backend::audit::Entry {
            id: 7,
            actor: "=cmd()".into(),
            action: "@SUM(A1)".into(),
            target: "say \"hi\"".into(),
            detail,
            source_ip: None,
            at: time::OffsetDateTime::UNIX_EPOCH,
        };
        let chunk = super::csv_chunk(&[entry(serde_json::json!({ "a": 1 }))], true).expect("csv");
        let text = String::from_utf8(chunk).expect("utf-8");
        assert_eq!(
            text,
            "id,time,actor,action,target,detail,source_ip\r\n\
             7,\"1970-01-01T00:00:00Z\",\"'=cmd()\",\"'@SUM(A1)\",\"say \"\"hi\"\"\",\"{\"\"a\"\":1}\",\"\"\r\n"
        );
        let json = super::json_chunk(&[entry(serde_json::json!(null))], true, true).expect("json");
        let parsed: serde_json::Value = serde_json::from_slice(&json).expect("an array");
        assert_eq!(parsed[0]["actor"], "=cmd()", "JSON keeps the text as it is");
    }
}
