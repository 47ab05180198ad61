//! The Versions tab: the function's versions and aliases (read by everyone who may read the
//! function; published and changed by those who may change it), and which version served each
//! recent test invocation.

use leptos::prelude::*;

use crate::error::ApiError;
use crate::forms::AliasForm;
use crate::types::VersionsTabView;

#[server(endpoint = "versions_tab")]
pub async fn versions_tab(function_id: String) -> Result<VersionsTabView, ApiError> {
    use super::ssr::*;
    use backend::accounts::Role;
    let result = async {
        let account = require(Role::ALL)?;
        let pool = &context()?.pool;
        let detail = super::catalog::ssr::readable(pool, &account, &function_id).await?;
        let can_edit = backend::catalog::may_edit(pool, &account, &detail).await.map_err(fail)?;
        let connection =
            backend::connections::get(pool, detail.connection_id).await.map_err(fail)?;
        let (versions, aliases) =
            backend::versions::list(&connection, &detail).await.map_err(fail)?;
        let served = backend::testing::history(pool, detail.entry.function_id, 25)
            .await
            .map_err(fail)?
            .into_iter()
            .map(|o| crate::types::ServedView {
                at: rfc3339(o.invoked_at),
                who: o.who.unwrap_or_default(),
                qualifier: o.qualifier.unwrap_or_else(|| "$LATEST".to_owned()),
                executed_version: o.executed_version.unwrap_or_default(),
                request_id: o.request_id.unwrap_or_default(),
            })
            .collect();
        Ok(VersionsTabView {
            can_edit,
            versions: versions
                .into_iter()
                .map(|v| crate::types::VersionView {
                    version: v.version,
                    description: v.description,
                    code_sha256: v.code_sha256,
                    last_modified: v.last_modified,
                })
                .collect(),
            aliases: aliases
                .into_iter()
                .map(|a| crate::types::AliasView {
                    name: a.name,
                    version: a.version,
                    description: a.description,
                    weight: a.weight.map(|(v, share)| (v, (share * 1000.0).round() / 10.0)),
                })
                .collect(),
            served,
        })
    }
    .await;
    settle(result, |_| None).await
}

/// Publishes `$LATEST` as a version.
#[server(endpoint = "publish_version")]
pub async fn publish_version(function_id: String, description: String) -> Result<String, ApiError> {
    use super::ssr::*;
    use backend::accounts::Role;
    let result = async {
        let account = require(Role::ALL)?;
        let pool = &context()?.pool;
        let (detail, connection) =
            super::catalog::ssr::editable(pool, &account, &function_id).await?;
        backend::versions::publish(pool, &actor(&account), &connection, &detail, description.trim())
            .await
            .map_err(fail)
    }
    .await;
    settle(result, |v| Some(format!("Published version {v}"))).await
}

/// Creates or changes an alias.
#[server(endpoint = "save_alias")]
pub async fn save_alias(#[server(flatten)] form: AliasForm) -> Result<String, ApiError> {
    use super::ssr::*;
    use backend::accounts::Role;
    let result = async {
        let account = require(Role::ALL)?;
        let pool = &context()?.pool;
        let (detail, connection) =
            super::catalog::ssr::editable(pool, &account, &form.function_id).await?;
        let other = form.weight_version.clone().filter(|v| !v.trim().is_empty());
        let weight = match other {
            None => None,
            Some(version) => {
                let percent = form
                    .weight_percent
                    .as_deref()
                    .map(str::trim)
                    .and_then(|p| p.parse::<f64>().ok())
                    .filter(|p| *p > 0.0 && *p < 100.0)
                    .ok_or_else(|| ApiError::Validation {
                        field: "weight_percent".to_owned(),
                        message: "a share between 1 and 99 percent".to_owned(),
                    })?;
                Some((version, percent / 100.0))
            }
        };
        let input = backend::versions::AliasInput {
            name: form.name.trim().to_owned(),
            version: form.version.trim().to_owned(),
            description: form.description.clone().unwrap_or_default().trim().to_owned(),
            weight,
        };
        let create = match form.intent.as_str() {
            "create" => true,
            "update" => false,
            _ => {
                return Err(ApiError::Validation {
                    field: "intent".to_owned(),
                    message: "press Create alias or Save".to_owned(),
                });
            }
        };
        backend::versions::save_alias(pool, &actor(&account), &connection, &detail, &input, create)
            .await
            .map_err(fail)?;
        Ok(input.name)
    }
    .await;
    settle(result, |name| Some(format!("Alias {name} saved"))).await
}

/// Deletes an alias, once confirmed.
#[server(endpoint = "delete_alias")]
pub async fn delete_alias(
    function_id: String,
    name: String,
    confirm: Option<String>,
) -> Result<(), ApiError> {
    use super::ssr::*;
    use backend::accounts::Role;
    let result = async {
        let account = require(Role::ALL)?;
        confirmed(confirm.as_deref(), "deleting the alias")?;
        let pool = &context()?.pool;
        let (detail, connection) =
            super::catalog::ssr::editable(pool, &account, &function_id).await?;
        backend::versions::delete_alias(pool, &actor(&account), &connection, &detail, &name)
            .await
            .map_err(fail)
    }
    .await;
    settle(result, |()| Some("Alias deleted".to_owned())).await
}
