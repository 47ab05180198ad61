//! The catalog: search with filters and keyset pages, facets, connections and reconciliation,
//! importing shadows and archiving ghosts. Reading is for everyone signed in; each change checks
//! the caller's role on the server.

use leptos::prelude::*;

use crate::error::ApiError;
use crate::forms::{ConfigurationForm, MetadataForm};
use crate::types::{CatalogFilters, CatalogPage};

/// One page of the catalog for the filters in the URL. JSON in: URL encoding drops a nested
/// struct whose fields are all empty, and the unfiltered catalog is exactly that.
#[server(endpoint = "search_catalog", input = leptos::server_fn::codec::Json)]
pub async fn search_catalog(filters: CatalogFilters) -> Result<CatalogPage, ApiError> {
    use super::ssr::*;
    use backend::accounts::Role;
    let result = async {
        let account = require(Role::ALL)?;
        let pool = &context()?.pool;
        let query = backend::catalog::query_for(pool, &account, &filters).await.map_err(fail)?;
        let found = backend::catalog::search(pool, &query).await.map_err(fail)?;
        let connections = ssr::connection_views(pool).await?;
        // Facet counts describe this result: what the caller may see, with these filters.
        let facets = ssr::facet_views(pool, &query, found.by_name).await?;
        // An empty catalog may still have functions in the cloud to import.
        let shadows = if found.entries.is_empty() && !query.shadows {
            backend::catalog::shadow_count(pool).await.map_err(fail)?
        } else {
            0
        };
        Ok(CatalogPage {
            rows: found.entries.into_iter().map(ssr::row_view).collect(),
            next: found.next.map(|(name, id)| format!("{name}|{id}")),
            by_name: found.by_name,
            shadows,
            facets,
            connections,
            can_sync: account.role != Role::Learner,
            can_archive: account.role == Role::Admin,
        })
    }
    .await;
    settle(result, |_| None).await
}

/// Reconciles one connection with its cloud now.
#[server(endpoint = "sync_connection")]
pub async fn sync_connection(connection_id: String) -> Result<String, ApiError> {
    use super::ssr::*;
    use backend::accounts::Role;
    let result = async {
        require(&[Role::Admin, Role::Developer])?;
        let pool = &context()?.pool;
        let id = backend::input::id("connection_id", &connection_id).map_err(fail)?;
        let connection = backend::connections::get(pool, id).await.map_err(fail)?;
        let run = backend::catalog::sync(pool, &connection).await.map_err(fail)?;
        Ok(format!(
            "Synced {}: {} functions seen, {} new in the cloud, {} gone",
            connection.name, run.seen, run.shadows, run.ghosts
        ))
    }
    .await;
    settle(result, |message| Some(message.clone())).await
}

/// Imports a shadow into the catalog. Admins may name the owner (themselves by default);
/// developers import as themselves, and only functions the cloud's tags say are theirs.
#[server(endpoint = "import_function")]
pub async fn import_function(function_id: String, owner: Option<String>) -> Result<(), ApiError> {
    use super::ssr::*;
    use backend::accounts::Role;
    let result = async {
        let account = require(&[Role::Admin, Role::Developer])?;
        let pool = &context()?.pool;
        let id = backend::input::id("function_id", &function_id).map_err(fail)?;
        if account.role != Role::Admin {
            return backend::catalog::claim(pool, &actor(&account), &account, id)
                .await
                .map_err(fail);
        }
        let owner_id = match owner.as_deref().map(str::trim).filter(|o| !o.is_empty()) {
            Some(email) => {
                ssr::account_id(pool, email).await?.ok_or_else(|| ApiError::Validation {
                    field: "owner".into(),
                    message: format!("no account has the email {email}"),
                })?
            }
            None => account.account_id,
        };
        backend::catalog::import(pool, &actor(&account), id, owner_id, None).await.map_err(fail)
    }
    .await;
    settle(result, |()| Some("Imported into the catalog".to_owned())).await
}

/// Archives a function gone from the cloud (admins).
#[server(endpoint = "archive_function")]
pub async fn archive_function(function_id: String) -> Result<(), ApiError> {
    use super::ssr::*;
    let result = async {
        let admin = require(&[backend::accounts::Role::Admin])?;
        let id = backend::input::id("function_id", &function_id).map_err(fail)?;
        backend::catalog::archive(&context()?.pool, &actor(&admin), id).await.map_err(fail)
    }
    .await;
    settle(result, |()| Some("Archived".to_owned())).await
}

#[cfg(feature = "ssr")]
pub mod ssr;

/// Everything the function page shows: the catalog's record, the configuration read live from the
/// cloud with differences, and the function's audit trail.
#[server(endpoint = "get_function_detail")]
pub async fn get_function_detail(
    function_id: String,
) -> Result<crate::types::FunctionDetail, ApiError> {
    use super::ssr::*;
    use backend::accounts::Role;
    let result = async {
        let account = require(Role::ALL)?;
        let pool = &context()?.pool;
        let detail = ssr::readable(pool, &account, &function_id).await?;
        let can_edit = backend::catalog::may_edit(pool, &account, &detail).await.map_err(fail)?;
        let connection =
            backend::connections::get(pool, detail.connection_id).await.map_err(fail)?;
        let (live, environment_keys, live_error, revision_id, live_tags) =
            match backend::catalog::live(&connection, &detail).await {
                Ok(live) => (
                    live.fields.into_iter().map(|(f, a, b)| (f.to_owned(), a, b)).collect(),
                    // Only names, and only for editors: values would land in the hydration data.
                    if can_edit { live.environment.into_keys().collect() } else { Vec::new() },
                    None,
                    live.revision_id,
                    live.tags.map(|tags| tags.into_iter().collect()),
                ),
                // Logged under the request's id, which the sentence shown names.
                Err(error) => {
                    (Vec::new(), Vec::new(), Some(fail(error).to_string()), String::new(), None)
                }
            };
        let drift = detail
            .drift
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| {
                let field = d["field"].as_str().unwrap_or_default().to_owned();
                let text = format!(
                    "{field}: the catalog says {}, the cloud's tag says {}",
                    d["catalog"].as_str().unwrap_or("nothing"),
                    d["cloud"].as_str().unwrap_or("nothing")
                );
                (field, text)
            })
            .collect();
        let teams = backend::teams::list_teams(pool)
            .await
            .map_err(fail)?
            .into_iter()
            .map(|t| t.name)
            .collect();
        let findings = backend::governance::violations::of_function(pool, detail.entry.function_id)
            .await
            .map_err(fail)?
            .into_iter()
            .map(|f| crate::types::RecordedFinding {
                rule_id: f.rule_id.to_string(),
                severity: f.severity,
                message: f.message,
                fix: f.fix,
                excepted: f.excepted,
            })
            .collect();
        let exceptions = crate::api::governance::exception_views(
            backend::governance::exceptions::list(pool, false, Some(detail.entry.function_id))
                .await
                .map_err(fail)?,
            &backend::governance::rules::list_rules(pool).await.map_err(fail)?,
        );
        Ok(crate::types::FunctionDetail {
            arn: detail.arn.clone(),
            row: ssr::row_view(detail.entry),
            can_edit,
            live,
            live_error,
            revision_id,
            drift,
            findings,
            exceptions,
            teams,
            environment_keys,
            live_tags,
        })
    }
    .await;
    settle(result, |_| None).await
}

/// What is recorded about a function — the console's changes, the lab's steps, tests — newest
/// first (50), for everyone who may read it. Read by the Activity tab each time it opens.
#[server(endpoint = "function_activity")]
pub async fn function_activity(
    function_id: String,
) -> Result<Vec<crate::types::AuditLine>, ApiError> {
    use super::ssr::*;
    use backend::accounts::Role;
    let result = async {
        let account = require(Role::ALL)?;
        let pool = &context()?.pool;
        let detail = ssr::readable(pool, &account, &function_id).await?;
        let target = format!("function:{}", detail.entry.name);
        Ok(backend::audit::list_for_target(pool, &target, 50)
            .await
            .map_err(fail)?
            .into_iter()
            .map(audit_line)
            .collect())
    }
    .await;
    settle(result, |_| None).await
}

/// Changes owner, team, lifecycle, environment and tags (one `key=value` a line), in the catalog
/// and in the cloud's tags. Owners, their team and admins only.
#[server(endpoint = "update_function_metadata")]
pub async fn update_function_metadata(
    #[server(flatten)] form: MetadataForm,
) -> Result<(), ApiError> {
    use super::ssr::*;
    use backend::accounts::Role;
    let result = async {
        let account = require(Role::ALL)?;
        let pool = &context()?.pool;
        let (detail, connection) = ssr::editable(pool, &account, &form.function_id).await?;
        let metadata = backend::catalog::Metadata::try_from(form).map_err(fail)?;
        backend::catalog::update_metadata(pool, &actor(&account), &connection, &detail, &metadata)
            .await
            .map_err(fail)
    }
    .await;
    settle(result, |()| Some("Saved, in the catalog and in the cloud's tags".to_owned())).await
}

/// Resolves one field of drift by taking the cloud's tag value into the catalog (owners, their
/// team and admins). Writing the catalog's values to the cloud is the metadata form's Save.
#[server(endpoint = "take_cloud_value")]
pub async fn take_cloud_value(function_id: String, field: String) -> Result<(), ApiError> {
    use super::ssr::*;
    use backend::accounts::Role;
    let result = async {
        let account = require(Role::ALL)?;
        let pool = &context()?.pool;
        let (detail, _) = ssr::editable(pool, &account, &function_id).await?;
        backend::catalog::take_cloud_value(pool, &actor(&account), &detail, &field)
            .await
            .map_err(fail)
    }
    .await;
    settle(result, |()| Some("The catalog now has the cloud's value".to_owned())).await
}

/// Hands the function to another owner (and optionally team), keeping its lifecycle, environment
/// and tags; written to the cloud's `lambdaport:*` tags too. Owners, their team and admins only.
#[server(endpoint = "transfer_function")]
pub async fn transfer_function(
    function_id: String,
    new_owner: String,
    new_team: String,
    confirm: Option<String>,
) -> Result<(), ApiError> {
    use super::ssr::*;
    use backend::accounts::Role;
    let result = async {
        let account = require(Role::ALL)?;
        confirmed(confirm.as_deref(), "the transfer")?;
        let pool = &context()?.pool;
        let (detail, connection) = ssr::editable(pool, &account, &function_id).await?;
        let team = Some(new_team.trim()).filter(|t| *t != "keep");
        backend::catalog::transfer(pool, &actor(&account), &connection, &detail, &new_owner, team)
            .await
            .map_err(fail)
    }
    .await;
    settle(result, |()| Some("Ownership transferred".to_owned())).await
}

/// The function's environment variables, one `KEY=value` a line, for those who may edit it; each
/// reveal is audited. The function page asks for them only when its editor clicks Reveal.
#[server(endpoint = "reveal_environment")]
pub async fn reveal_environment(function_id: String) -> Result<String, ApiError> {
    use super::ssr::*;
    let result = async {
        let account = require(backend::accounts::Role::ALL)?;
        let pool = &context()?.pool;
        let (detail, connection) = ssr::editable(pool, &account, &function_id).await?;
        let variables =
            backend::catalog::reveal_environment(pool, &actor(&account), &connection, &detail)
                .await
                .map_err(fail)?;
        Ok(variables.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("\n"))
    }
    .await;
    settle(result, |_| None).await
}

/// Changes memory, timeout, description, handler, runtime and environment variables (one
/// `KEY=value` a line; absent when the editor never revealed them, which keeps them) through
/// UpdateFunctionConfiguration; the cloud's validation errors come back on their field. Owners,
/// their team and admins only.
#[server(endpoint = "update_function_configuration")]
pub async fn update_function_configuration(
    #[server(flatten)] form: ConfigurationForm,
) -> Result<(), ApiError> {
    use super::ssr::*;
    use backend::accounts::Role;
    let result = async {
        let account = require(Role::ALL)?;
        let pool = &context()?.pool;
        let (detail, connection) = ssr::editable(pool, &account, &form.function_id).await?;
        let change = backend::catalog::ConfigChange::try_from(form).map_err(fail)?;
        backend::catalog::update_configuration(
            pool,
            &actor(&account),
            &connection,
            &detail,
            &change,
        )
        .await
        .map_err(fail)
    }
    .await;
    settle(result, |()| Some("Configuration updated".to_owned())).await
}

/// The function's code (Code tab): its files and the handler's file, read from the cloud.
#[server(endpoint = "function_code")]
pub async fn function_code(function_id: String) -> Result<crate::types::CodeView, ApiError> {
    use super::ssr::*;
    let result = async {
        let account = require(backend::accounts::Role::ALL)?;
        let pool = &context()?.pool;
        let (detail, connection) = ssr::editable(pool, &account, &function_id).await?;
        Ok(match backend::code::read(&connection, &detail).await {
            Ok(code) => {
                let (path, source) = code.inline.unzip();
                crate::types::CodeView {
                    files: code.files,
                    size: code.size,
                    sha256: code.sha256,
                    path,
                    source,
                    reason: code.reason,
                }
            }
            Err(error @ (backend::Error::Conflict(_) | backend::Error::Validation { .. })) => {
                crate::types::CodeView { reason: Some(error.to_string()), ..Default::default() }
            }
            Err(error) => return Err(fail(error)),
        })
    }
    .await;
    settle(result, |_| None).await
}

/// Saves the handler's file edited inline: the package with that file replaced, through
/// UpdateFunctionCode. Owners, their team and admins only.
#[server(endpoint = "save_function_code")]
pub async fn save_function_code(
    function_id: String,
    path: String,
    source: String,
    /// The code's SHA-256 when the editor opened the file: a change made in the cloud since is
    /// reported, not overwritten.
    sha256: Option<String>,
) -> Result<String, ApiError> {
    use super::ssr::*;
    let result = async {
        let account = require(backend::accounts::Role::ALL)?;
        let pool = &context()?.pool;
        let (detail, connection) = ssr::editable(pool, &account, &function_id).await?;
        // Browsers send a textarea's line breaks as CRLF.
        let source = source.replace("\r\n", "\n");
        let edit = backend::code::FileEdit {
            path: &path,
            text: &source,
            opened: sha256.as_deref().filter(|s| !s.is_empty()),
        };
        backend::code::save_file(pool, &actor(&account), &connection, &detail, &edit)
            .await
            .map_err(fail)
    }
    .await;
    settle(result, |sha| Some(code_saved_message(sha))).await
}

/// What saving code says, with the new package's SHA-256.
pub fn code_saved_message(sha256: &str) -> String {
    format!("Code saved (SHA-256 {sha256})")
}
