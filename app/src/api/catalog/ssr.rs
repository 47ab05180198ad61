//! Shared by the catalog's server functions and the REST API.

use backend::PgPool;
use uuid::Uuid;

use super::super::ssr::fail;
use crate::error::ApiError;
use crate::types::{CatalogRowView, ConnectionView, FacetView};

/// The function `function_id` names and its connection, if `account` may change it.
pub async fn editable(
    pool: &PgPool,
    account: &backend::accounts::Account,
    function_id: &str,
) -> Result<(backend::catalog::Detail, backend::connections::Connection), ApiError> {
    let id = backend::input::id("function_id", function_id).map_err(fail)?;
    backend::catalog::editable(pool, account, id).await.map_err(fail)
}

pub async fn account_id(pool: &PgPool, email: &str) -> Result<Option<Uuid>, ApiError> {
    Ok(backend::accounts::find_by_email(pool, &email.trim().to_lowercase())
        .await
        .map_err(fail)?
        .map(|a| a.account_id))
}

/// The function `function_id` names, if `account` may see it (when the catalog is restricted,
/// someone else's function is "not found", as if it did not exist).
pub async fn readable(
    pool: &PgPool,
    account: &backend::accounts::Account,
    function_id: &str,
) -> Result<backend::catalog::Detail, ApiError> {
    let id = backend::input::id("function_id", function_id).map_err(fail)?;
    backend::catalog::readable(pool, account, id).await.map_err(fail)
}

pub fn row_view(e: backend::catalog::CatalogEntry) -> CatalogRowView {
    let tags = e.tag_map().into_iter().collect();
    let adoption = e
        .adoption
        .into_iter()
        .map(|a| (a.field.to_owned(), a.value, a.problem.map(str::to_owned)))
        .collect();
    CatalogRowView {
        function_id: e.function_id.to_string(),
        name: e.name,
        connection: e.connection,
        region: e.region,
        runtime: e.runtime.unwrap_or_default(),
        state: e.state.unwrap_or_default(),
        description: e.description,
        owner: e.owner,
        team: e.team,
        lifecycle: e.lifecycle,
        environment: e.environment,
        public_url: e.url_auth_type.as_deref() == Some("NONE"),
        tags,
        gone: e.gone,
        drift: e.drift,
        violations: e.violations,
        suggested_owner: e.suggested_owner,
        adoption,
    }
}

pub async fn connection_views(pool: &PgPool) -> Result<Vec<ConnectionView>, ApiError> {
    let runs = backend::catalog::last_runs(pool).await.map_err(fail)?;
    let mut views = Vec::new();
    for c in backend::connections::list(pool).await.map_err(fail)? {
        let run = runs.iter().find(|r| r.connection_id == c.connection_id);
        let last_sync = run.map(|r| match (&r.finished_at, &r.error) {
            (None, _) => format!("syncing… {} functions so far", r.seen),
            (Some(_), Some(error)) => format!("last sync failed: {error}"),
            (Some(at), None) => format!(
                "synced {}: {} functions, {} new, {} gone",
                super::super::ssr::rfc3339(*at),
                r.seen,
                r.shadows,
                r.ghosts
            ),
        });
        views.push(ConnectionView {
            // Counted for the admin page only (`list_connections`): the catalog page loads these
            // views on every request and never shows them.
            functions: 0,
            owned_functions: 0,
            connection_id: c.connection_id.to_string(),
            endpoint: c.endpoint_url.clone().unwrap_or_else(|| match &c.profile {
                Some(profile) => format!("AWS (profile {profile})"),
                None => "AWS (default credentials)".to_owned(),
            }),
            endpoint_url: c.endpoint_url.clone().unwrap_or_default(),
            profile: c.profile.clone().unwrap_or_default(),
            access_key_id: c.access_key_id.clone().unwrap_or_default(),
            learners: c.learners,
            allowed_roles: c.allowed_roles.join(", "),
            archived: c.archived,
            name: c.name,
            kind: c.kind.as_str().to_owned(),
            regions: c.regions.join(", "),
            cloud_account_id: c.cloud_account_id,
            test_error: c.test_error.clone(),
            is_default: c.is_default,
            syncing: run.is_some_and(|r| r.finished_at.is_none()),
            last_sync,
        });
    }
    Ok(views)
}

pub async fn facet_views(
    pool: &PgPool,
    query: &backend::catalog::Query,
    by_name: bool,
) -> Result<Vec<FacetView>, ApiError> {
    Ok(backend::catalog::facets(pool, query, by_name)
        .await
        .map_err(fail)?
        .into_iter()
        .map(|(facet, value, label, count)| FacetView { facet, value, label, count })
        .collect())
}
