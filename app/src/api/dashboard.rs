//! The dashboard: who you are, your teams, and (for admins) the latest activity.

use leptos::prelude::*;

use crate::error::ApiError;
use crate::types::{AuditLine, Dashboard};

/// Everything the dashboard shows, read from the database.
#[server(endpoint = "get_dashboard")]
pub async fn get_dashboard() -> Result<Dashboard, ApiError> {
    use super::ssr::*;
    use backend::accounts::Role;
    let result = async {
        let account = require(&Role::ALL)?;
        let ctx = context()?;
        let pool = &ctx.pool;
        let teams = backend::teams::list_teams_of(pool, account.account_id).await.map_err(fail)?;
        let account_count = backend::accounts::count_accounts(pool).await.map_err(fail)?;
        let team_count = backend::teams::count_teams(pool).await.map_err(fail)?;
        let recent_activity =
            if account.role == Role::Admin { audit_lines(pool, 5).await? } else { Vec::new() };
        Ok(Dashboard {
            email: account.email,
            role: account.role.to_string(),
            teams,
            account_count,
            team_count,
            recent_activity,
        })
    }
    .await;
    settle(result, |_| None).await
}

/// The audit trail, newest first (admins only).
#[server(endpoint = "list_audit_events")]
pub async fn list_audit_events() -> Result<Vec<AuditLine>, ApiError> {
    use super::ssr::*;
    let result = async {
        require(&[backend::accounts::Role::Admin])?;
        audit_lines(&context()?.pool, 200).await
    }
    .await;
    settle(result, |_| None).await
}

#[cfg(feature = "ssr")]
async fn audit_lines(pool: &backend::PgPool, limit: i64) -> Result<Vec<AuditLine>, ApiError> {
    use super::ssr::*;
    let events = backend::audit::list_recent(pool, limit).await.map_err(fail)?;
    Ok(events
        .into_iter()
        .map(|e| AuditLine {
            actor: e.actor_email.unwrap_or_else(|| "system".to_owned()),
            action: e.action,
            target: e.target,
            at: rfc3339(e.created_at),
        })
        .collect())
}
