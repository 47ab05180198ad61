//! The catalog: search with filters and keyset pages, facets, connections and reconciliation,
//! importing shadows and archiving ghosts. Reading is for everyone signed in; each change checks
//! the caller's role on the server.

use leptos::prelude::*;

use crate::error::ApiError;
use crate::types::{CatalogFilters, CatalogPage, ConnectionView};

/// One page of the catalog for the filters in the URL. JSON in: URL encoding drops a nested
/// struct whose fields are all empty, and the unfiltered catalog is exactly that.
#[server(endpoint = "search_catalog", input = leptos::server_fn::codec::Json)]
pub async fn search_catalog(filters: CatalogFilters) -> Result<CatalogPage, ApiError> {
    use super::ssr::*;
    use backend::accounts::Role;
    let result = async {
        let account = require(&Role::ALL)?;
        let pool = &context()?.pool;
        let query = ssr::query(pool, &account, &filters).await?;
        let (entries, next) = backend::catalog::search(pool, &query).await.map_err(fail)?;
        let connections = ssr::connection_views(pool).await?;
        // Facet counts are over the whole catalog: not for someone restricted to part of it.
        let facets = match query.visible_to {
            None => ssr::facet_views(pool).await?,
            Some(_) => Vec::new(),
        };
        Ok(CatalogPage {
            rows: entries.into_iter().map(ssr::row_view).collect(),
            next: next.map(|(name, id)| format!("{name}|{id}")),
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
        let id = ssr::uuid("connection_id", &connection_id)?;
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
        let id = ssr::uuid("function_id", &function_id)?;
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
        let id = ssr::uuid("function_id", &function_id)?;
        backend::catalog::archive(&context()?.pool, &actor(&admin), id).await.map_err(fail)
    }
    .await;
    settle(result, |()| Some("Archived".to_owned())).await
}

/// Every connection (admins).
#[server(endpoint = "list_connections")]
pub async fn list_connections() -> Result<Vec<ConnectionView>, ApiError> {
    use super::ssr::*;
    let result = async {
        require(&[backend::accounts::Role::Admin])?;
        ssr::connection_views(&context()?.pool).await
    }
    .await;
    settle(result, |_| None).await
}

/// Adds a connection (admins).
#[server(endpoint = "add_connection")]
pub async fn add_connection(
    name: String,
    kind: String,
    endpoint_url: String,
    profile: String,
    regions: String,
    access_key_id: String,
    secret_access_key: String,
) -> Result<(), ApiError> {
    use super::ssr::*;
    let result = async {
        let admin = require(&[backend::accounts::Role::Admin])?;
        let new = backend::connections::NewConnection {
            name,
            kind,
            endpoint_url,
            profile,
            regions,
            access_key_id,
            secret_access_key,
        };
        backend::connections::create(&context()?.pool, &actor(&admin), &new)
            .await
            .map(drop)
            .map_err(fail)
    }
    .await;
    settle(result, |()| Some("Connection added".to_owned())).await
}

/// Tests a connection with STS GetCallerIdentity (admins).
#[server(endpoint = "test_connection")]
pub async fn test_connection(connection_id: String) -> Result<String, ApiError> {
    use super::ssr::*;
    let result = async {
        require(&[backend::accounts::Role::Admin])?;
        let pool = &context()?.pool;
        let id = ssr::uuid("connection_id", &connection_id)?;
        let connection = backend::connections::get(pool, id).await.map_err(fail)?;
        let account = backend::connections::test(pool, &connection).await.map_err(fail)?;
        Ok(format!("{} answered: account {account}", connection.name))
    }
    .await;
    settle(result, |message| Some(message.clone())).await
}

/// Changes a connection (admins): where it points, its keys (an empty secret keeps the current
/// one), whether learners may run labs there, and which existing roles labs may use there.
#[server(endpoint = "edit_connection")]
pub async fn edit_connection(
    connection_id: String,
    name: String,
    endpoint_url: Option<String>,
    profile: Option<String>,
    regions: String,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    learners: Option<String>,
    allowed_roles: Option<String>,
) -> Result<(), ApiError> {
    use super::ssr::*;
    let result = async {
        let admin = require(&[backend::accounts::Role::Admin])?;
        let id = ssr::uuid("connection_id", &connection_id)?;
        let edit = backend::connections::ConnectionEdit {
            name,
            endpoint_url: endpoint_url.unwrap_or_default(),
            profile: profile.unwrap_or_default(),
            regions,
            access_key_id: access_key_id.unwrap_or_default(),
            secret_access_key: secret_access_key.unwrap_or_default(),
            learners: learners.as_deref() == Some("yes"),
            allowed_roles: allowed_roles.unwrap_or_default(),
        };
        backend::connections::update(&context()?.pool, &actor(&admin), id, &edit)
            .await
            .map_err(fail)
    }
    .await;
    settle(result, |()| Some("Connection saved".to_owned())).await
}

/// Archives a connection, or restores it (`archived` = `yes` or `no`): kept with its ledger and
/// history, offered for nothing new (admins).
#[server(endpoint = "archive_connection")]
pub async fn archive_connection(connection_id: String, archived: String) -> Result<(), ApiError> {
    use super::ssr::*;
    let result = async {
        let admin = require(&[backend::accounts::Role::Admin])?;
        let id = ssr::uuid("connection_id", &connection_id)?;
        backend::connections::set_archived(&context()?.pool, &actor(&admin), id, archived == "yes")
            .await
            .map_err(fail)
    }
    .await;
    settle(result, |()| Some("Saved".to_owned())).await
}

/// Removes a connection and its catalog entries, not the functions in the cloud (admins).
#[server(endpoint = "remove_connection")]
pub async fn remove_connection(
    connection_id: String,
    confirm: Option<String>,
) -> Result<(), ApiError> {
    use super::ssr::*;
    let result = async {
        let admin = require(&[backend::accounts::Role::Admin])?;
        confirmed(confirm.as_deref(), "the removal")?;
        let id = ssr::uuid("connection_id", &connection_id)?;
        backend::connections::delete(&context()?.pool, &actor(&admin), id).await.map_err(fail)
    }
    .await;
    settle(result, |()| Some("Connection removed".to_owned())).await
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Shared by the catalog's server functions and the REST API.

    use backend::PgPool;
    use uuid::Uuid;

    use super::super::ssr::fail;
    use crate::error::ApiError;
    use crate::types::{CatalogFilters, CatalogRowView, ConnectionView, FacetView};

    pub fn uuid(field: &str, raw: &str) -> Result<Uuid, ApiError> {
        raw.trim().parse().map_err(|_| ApiError::Validation {
            field: field.to_owned(),
            message: "not a valid id; reload the page".to_owned(),
        })
    }

    /// The function `function_id` names and its connection, if `account` may change it.
    pub async fn editable(
        pool: &PgPool,
        account: &backend::accounts::Account,
        function_id: &str,
    ) -> Result<(backend::catalog::Detail, backend::connections::Connection), ApiError> {
        let detail = readable(pool, account, function_id).await?;
        if !backend::catalog::may_edit(pool, account, &detail).await.map_err(fail)? {
            return Err(ApiError::Forbidden);
        }
        let connection =
            backend::connections::get(pool, detail.connection_id).await.map_err(fail)?;
        Ok((detail, connection))
    }

    /// `key=value` lines of a textarea (blank ones skipped); keys are trimmed, values too when
    /// `trim_values`. A line without `=` is an error on `field` that says `how`.
    pub fn key_values(
        field: &str,
        text: &str,
        how: &str,
        trim_values: bool,
    ) -> Result<std::collections::BTreeMap<String, String>, ApiError> {
        let mut pairs = std::collections::BTreeMap::new();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let Some((key, value)) = line.split_once('=') else {
                return Err(ApiError::Validation {
                    field: field.to_owned(),
                    message: format!("'{line}': {how}"),
                });
            };
            let value = if trim_values { value.trim() } else { value };
            pairs.insert(key.trim().to_owned(), value.to_owned());
        }
        Ok(pairs)
    }

    pub async fn account_id(pool: &PgPool, email: &str) -> Result<Option<Uuid>, ApiError> {
        Ok(backend::accounts::find_by_email(pool, &email.trim().to_lowercase())
            .await
            .map_err(fail)?
            .map(|a| a.account_id))
    }

    fn present(value: &Option<String>) -> Option<String> {
        value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
    }

    /// The function `function_id` names, if `account` may see it (when the catalog is restricted,
    /// someone else's function is "not found", as if it did not exist).
    pub async fn readable(
        pool: &PgPool,
        account: &backend::accounts::Account,
        function_id: &str,
    ) -> Result<backend::catalog::Detail, ApiError> {
        let id = uuid("function_id", function_id)?;
        let detail = backend::catalog::detail(pool, id).await.map_err(fail)?;
        if backend::catalog::may_read(pool, account, &detail).await.map_err(fail)? {
            Ok(detail)
        } else {
            Err(ApiError::NotFound("function".to_owned()))
        }
    }

    /// The backend query for the page's filters, as `account` may see the catalog; owners by
    /// email, teams by name.
    pub async fn query(
        pool: &PgPool,
        account: &backend::accounts::Account,
        f: &CatalogFilters,
    ) -> Result<backend::catalog::Query, ApiError> {
        let owner = match present(&f.owner) {
            Some(email) => Some(account_id(pool, &email).await?.unwrap_or(Uuid::nil())),
            None => None,
        };
        let team = match present(&f.team) {
            Some(name) => Some(
                backend::teams::find_by_name(pool, &name)
                    .await
                    .map_err(fail)?
                    .unwrap_or(Uuid::nil()),
            ),
            None => None,
        };
        let tag = match present(&f.tag) {
            None => None,
            Some(tag) => match tag.split_once('=') {
                Some((k, v)) if !k.trim().is_empty() => {
                    Some((k.trim().to_owned(), v.trim().to_owned()))
                }
                _ => {
                    return Err(ApiError::Validation {
                        field: "tag".into(),
                        message: "write a tag filter as key=value, e.g. team=payments".into(),
                    });
                }
            },
        };
        let after = present(&f.after).and_then(|a| {
            let (name, id) = a.rsplit_once('|')?;
            Some((name.to_owned(), id.parse().ok()?))
        });
        Ok(backend::catalog::Query {
            text: present(&f.q),
            owner,
            team,
            runtime: present(&f.runtime),
            state: present(&f.state),
            lifecycle: present(&f.lifecycle),
            environment: present(&f.environment),
            connection: present(&f.connection).and_then(|c| c.parse().ok()),
            region: present(&f.region),
            tag,
            has_public_url: present(&f.public).is_some(),
            shadows: present(&f.view).as_deref() == Some("shadows"),
            sort: match present(&f.sort).as_deref() {
                Some("updated") => backend::catalog::Sort::Updated,
                _ => backend::catalog::Sort::Name,
            },
            after,
            limit: 50,
            visible_to: backend::catalog::reader_scope(pool, account).await.map_err(fail)?,
        })
    }

    pub fn row_view(e: backend::catalog::CatalogEntry) -> CatalogRowView {
        let tags = e
            .tags
            .as_object()
            .map(|o| {
                o.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect()
            })
            .unwrap_or_default();
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
            suggested_owner: e.suggested_owner,
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
                is_default: c.is_default,
                syncing: run.is_some_and(|r| r.finished_at.is_none()),
                last_sync,
            });
        }
        Ok(views)
    }

    pub async fn facet_views(pool: &PgPool) -> Result<Vec<FacetView>, ApiError> {
        Ok(backend::catalog::facets(pool)
            .await
            .map_err(fail)?
            .into_iter()
            .map(|(facet, value, label, count)| FacetView { facet, value, label, count })
            .collect())
    }
}

/// Everything the function page shows: the catalog's record, the configuration read live from the
/// cloud with differences, and the function's audit trail.
#[server(endpoint = "get_function_detail")]
pub async fn get_function_detail(
    function_id: String,
) -> Result<crate::types::FunctionDetail, ApiError> {
    use super::ssr::*;
    use backend::accounts::Role;
    let result = async {
        let account = require(&Role::ALL)?;
        let pool = &context()?.pool;
        let detail = ssr::readable(pool, &account, &function_id).await?;
        let can_edit = backend::catalog::may_edit(pool, &account, &detail).await.map_err(fail)?;
        let connection =
            backend::connections::get(pool, detail.connection_id).await.map_err(fail)?;
        let (live, environment_keys, live_error) =
            match backend::catalog::live(&connection, &detail).await {
                Ok(live) => (
                    live.fields.into_iter().map(|(f, a, b)| (f.to_owned(), a, b)).collect(),
                    // Only names, and only for editors: values would land in the hydration data.
                    if can_edit { live.environment.into_keys().collect() } else { Vec::new() },
                    None,
                ),
                Err(error) => (Vec::new(), Vec::new(), Some(error.to_string())),
            };
        let drift = detail
            .drift
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| {
                format!(
                    "{}: the catalog says {}, the cloud's tag says {}",
                    d["field"].as_str().unwrap_or_default(),
                    d["catalog"].as_str().unwrap_or("nothing"),
                    d["cloud"].as_str().unwrap_or("nothing")
                )
            })
            .collect();
        let target = format!("function:{}", detail.entry.name);
        let activity = backend::audit::list_for_target(pool, &target, 50)
            .await
            .map_err(fail)?
            .into_iter()
            .map(audit_line)
            .collect();
        let teams = backend::teams::list_teams(pool)
            .await
            .map_err(fail)?
            .into_iter()
            .map(|t| t.name)
            .collect();
        Ok(crate::types::FunctionDetail {
            arn: detail.arn.clone(),
            row: ssr::row_view(detail.entry),
            can_edit,
            live,
            live_error,
            drift,
            activity,
            teams,
            environment_keys,
        })
    }
    .await;
    settle(result, |_| None).await
}

/// Changes owner, team, lifecycle, environment and tags (one `key=value` a line), in the catalog
/// and in the cloud's tags. Owners, their team and admins only.
#[server(endpoint = "update_function_metadata")]
pub async fn update_function_metadata(
    function_id: String,
    owner: String,
    team: String,
    lifecycle: String,
    environment: String,
    tags: String,
) -> Result<(), ApiError> {
    use super::ssr::*;
    use backend::accounts::Role;
    let result = async {
        let account = require(&Role::ALL)?;
        let pool = &context()?.pool;
        let (detail, connection) = ssr::editable(pool, &account, &function_id).await?;
        let tags = ssr::key_values("tags", &tags, "write one tag a line as key=value", true)?;
        let metadata = backend::catalog::Metadata { owner, team, lifecycle, environment, tags };
        backend::catalog::update_metadata(pool, &actor(&account), &connection, &detail, &metadata)
            .await
            .map_err(fail)
    }
    .await;
    settle(result, |()| Some("Saved, in the catalog and in the cloud's tags".to_owned())).await
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
        let account = require(&Role::ALL)?;
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
        let account = require(&backend::accounts::Role::ALL)?;
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
    function_id: String,
    memory_mb: String,
    timeout_s: String,
    description: String,
    handler: String,
    runtime: String,
    environment: Option<String>,
) -> Result<(), ApiError> {
    use super::ssr::*;
    use backend::accounts::Role;
    let result = async {
        let account = require(&Role::ALL)?;
        let pool = &context()?.pool;
        let (detail, connection) = ssr::editable(pool, &account, &function_id).await?;
        let number = |field: &str, raw: &str| {
            raw.trim().parse::<i32>().map_err(|_| ApiError::Validation {
                field: field.to_owned(),
                message: "enter a whole number".to_owned(),
            })
        };
        let variables = environment
            .map(|text| {
                ssr::key_values(
                    "environment",
                    &text,
                    "write one variable a line as KEY=value",
                    false,
                )
            })
            .transpose()?;
        let change = backend::catalog::ConfigChange {
            memory_mb: number("memory_mb", &memory_mb)?,
            timeout_s: number("timeout_s", &timeout_s)?,
            description,
            handler: handler.trim().to_owned(),
            runtime: runtime.trim().to_owned(),
            environment: variables,
        };
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
        let account = require(&backend::accounts::Role::ALL)?;
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
) -> Result<String, ApiError> {
    use super::ssr::*;
    let result = async {
        let account = require(&backend::accounts::Role::ALL)?;
        let pool = &context()?.pool;
        let (detail, connection) = ssr::editable(pool, &account, &function_id).await?;
        // Browsers send a textarea's line breaks as CRLF.
        let source = source.replace("\r\n", "\n");
        backend::code::save_file(pool, &actor(&account), &connection, &detail, &path, &source)
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
