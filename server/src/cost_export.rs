//! `GET /governance/cost.csv`: Governance → Cost as CSV — each catalogued function's requests,
//! GB-seconds and cost over the last 30 days and the 30 before (cells made inert for
//! spreadsheets), for the platform team's charge-back.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::audit_export::inert;
use crate::state::AppState;

/// Every function's cost (admins only), dearest first.
pub(crate) async fn export_cost(
    State(state): State<AppState>,
    axum::Extension(account): axum::Extension<backend::accounts::Account>,
) -> Response {
    if account.role != backend::accounts::Role::Admin {
        return (StatusCode::FORBIDDEN, "Only admins can export costs.").into_response();
    }
    let report = match backend::governance::cost::report(&state.console.pool).await {
        Ok(report) => report,
        Err(error) => {
            tracing::error!(%error, "reading costs");
            return (StatusCode::INTERNAL_SERVER_ERROR, "Could not read the costs; try again.")
                .into_response();
        }
    };
    match csv_of(&report.functions) {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"cost.csv\""),
            ],
            body,
        )
            .into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}

/// The functions as CSV, a header row first; dollars to nine places (a request is $0.0000002).
/// `init_cost_usd` (in `cost_usd`) is empty where the logs were not read.
fn csv_of(
    functions: &[backend::governance::cost::FunctionCost],
) -> Result<Vec<u8>, std::io::Error> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::NonNumeric)
        .from_writer(Vec::new());
    writer.write_record([
        "function",
        "team",
        "connection",
        "region",
        "architecture",
        "memory_mb",
        "requests",
        "gb_seconds",
        "cost_usd",
        "init_cost_usd",
        "previous_cost_usd",
        "prices_as_of",
    ])?;
    for f in functions {
        writer.write_record([
            inert(&f.name).as_ref(),
            &inert(f.team.as_deref().unwrap_or_default()),
            &inert(&f.connection),
            &inert(&f.region),
            &inert(&f.architecture),
            &f.memory_mb.to_string(),
            &format!("{:.0}", f.requests),
            &format!("{:.6}", f.gb_seconds),
            &format!("{:.9}", f.cost),
            &f.looked_at.as_ref().map(|l| format!("{:.9}", l.init_cost)).unwrap_or_default(),
            &format!("{:.9}", f.previous_cost),
            model::prices::AS_OF,
        ])?;
    }
    writer.into_inner().map_err(|e| std::io::Error::other(e.to_string()))
}
