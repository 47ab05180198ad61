//! `GET /labs/board.csv`: the instructor board with the Labs page's filters, as CSV (cells made
//! inert for spreadsheets), for an instructor's records.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::audit_export::inert;
use crate::state::AppState;

/// The board as the filters select it (admins only; at most `backend::labs::BOARD_LIMIT` runs,
/// newest first unless sorted otherwise).
pub(crate) async fn export_board(
    State(state): State<AppState>,
    axum::Extension(account): axum::Extension<backend::accounts::Account>,
    axum::extract::Query(filters): axum::extract::Query<app::types::BoardFilters>,
) -> Response {
    if account.role != backend::accounts::Role::Admin {
        return (StatusCode::FORBIDDEN, "Only admins can export the instructor board.")
            .into_response();
    }
    let filter = match backend::labs::BoardFilter::try_from(&filters) {
        Ok(filter) => filter,
        Err(error) => return (StatusCode::BAD_REQUEST, error.to_string()).into_response(),
    };
    let rows = match backend::labs::board(&state.console.pool, &filter).await {
        Ok(rows) => rows,
        Err(error) => {
            tracing::error!(%error, "reading the instructor board");
            return (StatusCode::INTERNAL_SERVER_ERROR, "Could not read the board; try again.")
                .into_response();
        }
    };
    match csv_of(&rows) {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"board.csv\""),
            ],
            body,
        )
            .into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}

/// The rows as CSV, a header row first.
fn csv_of(rows: &[backend::labs::BoardRow]) -> Result<Vec<u8>, std::io::Error> {
    let time = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
    };
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::NonNumeric)
        .from_writer(Vec::new());
    writer.write_record([
        "learner",
        "course",
        "function",
        "step",
        "status",
        "failures",
        "last_problem",
        "problem_resolved",
        "started",
        "last_activity",
        "idle_minutes",
        "expires",
        "run",
    ])?;
    for row in rows {
        let run = &row.run;
        writer.write_record([
            inert(&run.email).as_ref(),
            &inert(row.course.as_deref().unwrap_or_default()),
            &inert(run.function_name.as_deref().unwrap_or_default()),
            &run.step.to_string(),
            run.status.as_str(),
            &run.failures.to_string(),
            &inert(run.last_failure.as_deref().unwrap_or_default()),
            if run.failure_resolved { "yes" } else { "no" },
            &time(run.created_at),
            &time(run.updated_at),
            &row.idle.whole_minutes().to_string(),
            &run.expires_at.map(time).unwrap_or_default(),
            &run.lab_run_id.to_string(),
        ])?;
    }
    writer.into_inner().map_err(|e| std::io::Error::other(e.to_string()))
}
