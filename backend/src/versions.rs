//! A function's versions and aliases, read from and changed in the cloud with Lambda's own calls
//! (ListVersionsByFunction, PublishVersion, ListAliases, CreateAlias, UpdateAlias, DeleteAlias),
//! each change audited as the function's. An alias points at one version and may send a share of
//! its invocations to one other (weighted routing, as Lambda allows).

use std::collections::HashMap;

use aws_sdk_lambda::types::AliasRoutingConfiguration;
use sqlx::PgPool;

use crate::audit::Actor;
use crate::catalog::{Detail, audited};
use crate::cloud::failed;
use crate::connections::Connection;
use crate::error::{Error, Result};

/// A published version (and `$LATEST`).
#[derive(Clone, Debug)]
pub struct Version {
    pub version: String,
    pub description: String,
    pub code_sha256: String,
    pub last_modified: String,
}

/// An alias: the version it points at, and the other version taking a share, if any.
#[derive(Clone, Debug)]
pub struct Alias {
    pub name: String,
    pub version: String,
    pub description: String,
    /// (version, share from 0 to 1) of the other version.
    pub weight: Option<(String, f64)>,
}

/// What an alias is to become.
#[derive(Clone, Debug)]
pub struct AliasInput {
    pub name: String,
    pub version: String,
    pub description: String,
    /// (version, share from 0 to 1, exclusive) of a second version.
    pub weight: Option<(String, f64)>,
}

/// The function's versions (oldest first, `$LATEST` first of all) and aliases.
pub async fn list(connection: &Connection, detail: &Detail) -> Result<(Vec<Version>, Vec<Alias>)> {
    let lambda = connection.lambda(&detail.entry.region).await;
    let mut versions = Vec::new();
    let mut pages =
        lambda.list_versions_by_function().function_name(&detail.arn).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(failed("ListVersionsByFunction"))?;
        versions.extend(page.versions().iter().map(|v| Version {
            version: v.version().unwrap_or_default().to_owned(),
            description: v.description().unwrap_or_default().to_owned(),
            code_sha256: v.code_sha256().unwrap_or_default().to_owned(),
            last_modified: v.last_modified().unwrap_or_default().to_owned(),
        }));
    }
    let mut aliases = Vec::new();
    let mut pages = lambda.list_aliases().function_name(&detail.arn).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(failed("ListAliases"))?;
        aliases.extend(page.aliases().iter().map(|a| {
            Alias {
                name: a.name().unwrap_or_default().to_owned(),
                version: a.function_version().unwrap_or_default().to_owned(),
                description: a.description().unwrap_or_default().to_owned(),
                weight: a
                    .routing_config()
                    .and_then(|r| r.additional_version_weights())
                    .and_then(|w| w.iter().next())
                    .map(|(v, share)| (v.clone(), *share)),
            }
        }));
    }
    aliases.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((versions, aliases))
}

/// Publishes `$LATEST` as a new version (or returns the version it already is, unchanged).
pub async fn publish(
    pool: &PgPool,
    actor: &Actor,
    connection: &Connection,
    detail: &Detail,
    description: &str,
) -> Result<String> {
    if description.chars().count() > 256 {
        return Err(Error::Validation {
            field: "description",
            message: "at most 256 characters".to_owned(),
        });
    }
    let lambda = connection.lambda(&detail.entry.region).await;
    let published = lambda
        .publish_version()
        .function_name(&detail.arn)
        .description(description)
        .send()
        .await
        .map_err(failed("PublishVersion"))?;
    let version = published.version().unwrap_or_default().to_owned();
    audited(
        pool,
        actor,
        detail,
        "function.publish_version",
        serde_json::json!({ "version": version, "description": description }),
    )
    .await?;
    Ok(version)
}

/// Checks an alias as Lambda does, with what to change.
pub fn check_alias(input: &AliasInput) -> Result<()> {
    let name = &input.name;
    let valid_name = (1..=128).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !name.chars().all(|c| c.is_ascii_digit());
    if !valid_name {
        return Err(Error::Validation {
            field: "name",
            message: "1 to 128 letters, digits, - and _, not only digits (those are versions)"
                .to_owned(),
        });
    }
    if input.version.is_empty() {
        return Err(Error::Validation {
            field: "version",
            message: "choose the version the alias points at".to_owned(),
        });
    }
    if let Some((other, share)) = &input.weight {
        if !(*share > 0.0 && *share < 1.0) {
            return Err(Error::Validation {
                field: "weight",
                message: "a share between 1 and 99 percent".to_owned(),
            });
        }
        if *other == input.version {
            return Err(Error::Validation {
                field: "weight",
                message: "the second version must differ from the alias's version".to_owned(),
            });
        }
        if input.version == "$LATEST" || other == "$LATEST" {
            return Err(Error::Validation {
                field: "weight",
                message:
                    "weighted routing needs published versions, not $LATEST: publish one first"
                        .to_owned(),
            });
        }
    }
    Ok(())
}

/// Creates the alias, or changes it when `create` is false.
pub async fn save_alias(
    pool: &PgPool,
    actor: &Actor,
    connection: &Connection,
    detail: &Detail,
    input: &AliasInput,
    create: bool,
) -> Result<()> {
    check_alias(input)?;
    let lambda = connection.lambda(&detail.entry.region).await;
    // No second version clears the routing: an empty map, as Lambda takes it.
    let weights: HashMap<String, f64> = input.weight.clone().into_iter().collect();
    let routing =
        AliasRoutingConfiguration::builder().set_additional_version_weights(Some(weights)).build();
    if create {
        lambda
            .create_alias()
            .function_name(&detail.arn)
            .name(&input.name)
            .function_version(&input.version)
            .description(&input.description)
            .routing_config(routing)
            .send()
            .await
            .map_err(failed("CreateAlias"))?;
    } else {
        lambda
            .update_alias()
            .function_name(&detail.arn)
            .name(&input.name)
            .function_version(&input.version)
            .description(&input.description)
            .routing_config(routing)
            .send()
            .await
            .map_err(failed("UpdateAlias"))?;
    }
    audited(
        pool,
        actor,
        detail,
        if create { "function.create_alias" } else { "function.update_alias" },
        serde_json::json!({ "alias": input.name, "version": input.version,
                            "weight": input.weight.as_ref().map(|(v, s)| serde_json::json!({ "version": v, "share": s })) }),
    )
    .await
}

/// Deletes the alias.
pub async fn delete_alias(
    pool: &PgPool,
    actor: &Actor,
    connection: &Connection,
    detail: &Detail,
    name: &str,
) -> Result<()> {
    let lambda = connection.lambda(&detail.entry.region).await;
    lambda
        .delete_alias()
        .function_name(&detail.arn)
        .name(name)
        .send()
        .await
        .map_err(failed("DeleteAlias"))?;
    audited(pool, actor, detail, "function.delete_alias", serde_json::json!({ "alias": name }))
        .await
}
