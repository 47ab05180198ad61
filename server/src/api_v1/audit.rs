//! `/audit-events`: the audit trail, for admins' automation.

use axum::Json;
use axum::extract::State;
use backend::accounts::Role;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiResult, Caller, ErrorEnvelope, Params, Problem, fail, limit, rfc3339};
use crate::state::AppState;
use app::error::ApiError;
use model::AuditFilters;

/// The size of a page of audit events.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct EventsLimit {
    /// How many events (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

/// One event of the audit trail.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct AuditEvent {
    id: i64,
    #[schema(format = DateTime)]
    time: String,
    /// The actor's email, or `system`.
    actor: String,
    /// e.g. `function.update_metadata`.
    action: String,
    target: String,
    /// What changed (before and after).
    #[schema(value_type = Object)]
    detail: serde_json::Value,
    source_ip: Option<String>,
}

/// A page of audit events.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct AuditPage {
    events: Vec<AuditEvent>,
    /// Pass as `before` for the next page; null on the last.
    next: Option<String>,
}

/// The audit trail, newest first (admins)
///
/// The Audit page's filters; paged with `before` (the previous page's `next`).
#[utoipa::path(
    get,
    path = "/audit-events",
    operation_id = "listAuditEvents",
    params(AuditFilters, EventsLimit),
    responses(
        (status = 200, description = "A page of events", body = AuditPage),
        (status = 401, description = "No token, or not a valid one", body = ErrorEnvelope),
        (status = 403, description = "Not an admin's token", body = ErrorEnvelope),
        (status = 422, description = "A filter or the limit is wrong", body = ErrorEnvelope),
    )
)]
pub(super) async fn list_audit_events(
    State(state): State<AppState>,
    caller: Caller,
    Params(f): Params<AuditFilters>,
    Params(page): Params<EventsLimit>,
) -> ApiResult<Json<AuditPage>> {
    if caller.account.role != Role::Admin {
        return Err(Problem(ApiError::Forbidden));
    }
    let limit = limit(page.limit, 100, 1000)?;
    let filter = backend::audit::Filter::try_from(&f).map_err(fail)?;
    let before = match f.before.as_deref().map(str::trim).filter(|b| !b.is_empty()) {
        None => None,
        Some(raw) => Some(raw.parse::<i64>().map_err(|_| {
            Problem(ApiError::Validation {
                field: "before".to_owned(),
                message: "use the `next` value of the previous page".to_owned(),
            })
        })?),
    };
    let mut entries = backend::audit::search(&state.console.pool, &filter, before, limit + 1)
        .await
        .map_err(fail)?;
    let more = entries.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    entries.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = more.then(|| entries.last().map(|e| e.id.to_string())).flatten();
    let events = entries
        .into_iter()
        .map(|e| AuditEvent {
            id: e.id,
            time: rfc3339(e.at),
            actor: e.actor,
            action: e.action,
            target: e.target,
            detail: e.detail,
            source_ip: e.source_ip,
        })
        .collect();
    Ok(Json(AuditPage { events, next }))
}

/// The format of an export.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ExportFormat {
    /// `csv` (the default) or `json`.
    format: Option<String>,
}

/// The audit trail as a download (admins)
///
/// The Audit page's filters; every matching event (at most 100,000, newest first), streamed as
/// CSV or as one JSON array — what the Audit page's Export gives a signed-in admin.
#[utoipa::path(
    get,
    path = "/audit-events/export",
    operation_id = "exportAuditEvents",
    params(AuditFilters, ExportFormat),
    responses(
        (status = 200, description = "The events, as CSV or JSON",
            content((String = "text/csv"), (Vec<AuditEvent> = "application/json"))),
        (status = 401, description = "No token, or not a valid one", body = ErrorEnvelope),
        (status = 403, description = "Not an admin's token", body = ErrorEnvelope),
        (status = 422, description = "A filter or the format is wrong", body = ErrorEnvelope),
    )
)]
pub(super) async fn export_audit_events(
    State(state): State<AppState>,
    caller: Caller,
    Params(f): Params<AuditFilters>,
    Params(format): Params<ExportFormat>,
) -> ApiResult<axum::response::Response> {
    if caller.account.role != Role::Admin {
        return Err(Problem(ApiError::Forbidden));
    }
    let filter = backend::audit::Filter::try_from(&f).map_err(fail)?;
    crate::audit_export::download(state.console.pool, filter, format.format.as_deref())
        .map_err(|message| Problem(ApiError::Validation { field: "format".to_owned(), message }))
}
