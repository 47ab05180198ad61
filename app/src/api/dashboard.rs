//! The dashboard: who you are, your teams, and (for admins) the latest activity.

use leptos::prelude::*;

use crate::error::ApiError;
use crate::types::Dashboard;

/// Everything the dashboard shows, read from the database.
#[server(endpoint = "get_dashboard")]
pub async fn get_dashboard() -> Result<Dashboard, ApiError> {
    use super::ssr::*;
    use backend::accounts::Role;
    let result = async {
        let account = require(Role::ALL)?;
        let ctx = context()?;
        let pool = &ctx.pool;
        let teams = backend::teams::list_teams_of(pool, account.account_id).await.map_err(fail)?;
        let account_count = backend::accounts::count_accounts(pool).await.map_err(fail)?;
        let team_count = backend::teams::count_teams(pool).await.map_err(fail)?;
        let recent_activity =
            if account.role == Role::Admin { audit_lines(pool, 5).await? } else { Vec::new() };
        let whose = (account.role != Role::Admin).then_some(account.account_id);
        let expiring = backend::labs::expiring(pool, whose, time::Duration::hours(24))
            .await
            .map_err(fail)?
            .iter()
            .map(super::labs::ssr::row)
            .collect();
        let expired_urls = backend::urls::expiry::recently_expired(pool, whose)
            .await
            .map_err(fail)?
            .into_iter()
            .map(|e| (e.function_id.to_string(), e.name, e.action, rfc3339(e.at)))
            .collect();
        Ok(Dashboard {
            expired_urls,
            email: account.email,
            role: account.role.to_string(),
            teams,
            account_count,
            team_count,
            recent_activity,
            expiring,
        })
    }
    .await;
    settle(result, |_| None).await
}

/// The audit trail, newest first, filtered, 100 a page (admins only). JSON in: URL encoding
/// drops a nested struct whose fields are all empty.
#[server(endpoint = "search_audit_events", input = leptos::server_fn::codec::Json)]
pub async fn search_audit_events(
    filters: crate::types::AuditFilters,
) -> Result<crate::types::AuditPageView, ApiError> {
    use super::ssr::*;
    let result = async {
        require(&[backend::accounts::Role::Admin])?;
        let f = &filters;
        let filter = backend::audit::Filter::try_from(f).map_err(fail)?;
        let before = f.before.as_deref().and_then(|b| b.parse::<i64>().ok());
        const PAGE: i64 = 100;
        let entries = backend::audit::search(&context()?.pool, &filter, before, PAGE + 1)
            .await
            .map_err(fail)?;
        let next = (entries.len() as i64 > PAGE).then(|| entries[PAGE as usize - 1].id.to_string());
        Ok(crate::types::AuditPageView {
            entries: entries
                .into_iter()
                .take(PAGE as usize)
                .map(|e| crate::types::AuditEntryView {
                    actor: e.actor,
                    action: e.action,
                    target: e.target,
                    detail: e.detail.to_string(),
                    source_ip: e.source_ip,
                    at: rfc3339(e.at),
                })
                .collect(),
            next,
        })
    }
    .await;
    settle(result, |_| None).await
}

#[cfg(feature = "ssr")]
async fn audit_lines(
    pool: &backend::PgPool,
    limit: i64,
) -> Result<Vec<crate::types::AuditLine>, ApiError> {
    use super::ssr::*;
    let events = backend::audit::list_recent(pool, limit).await.map_err(fail)?;
    Ok(events.into_iter().map(audit_line).collect())
}
