//! One ledger resource in the cloud: whether it exists, whether it is provably the run's (its
//! `lambdaport:lab-run` tag), and deleting it with the cloud's confirmation.

use crate::connections::Connection;
use crate::error::Result;
use crate::urls::policy::statements;

use super::cloud::*;
use super::model::*;

/// What deleting one ledger resource came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Deletion {
    Deleted,
    AlreadyGone,
    /// What is there now under the name is not what the run made (its `lambdaport:lab-run` tag
    /// says otherwise): left alone; ours is gone.
    NotOurs(String),
}

/// Why what the cloud has under an entry's name is not provably the run's, if it is not: the
/// function (of a function, URL, statement or log group entry) or role (of a role or policy
/// attachment) must carry the run's tag. `Ok(None)` also when it does not exist.
pub(super) async fn not_ours(
    connection: &Connection,
    entry: &Entry,
) -> std::result::Result<Option<String>, String> {
    let mark = entry.mark.map(|m| m.to_string());
    let tagged = |tag: Option<&str>, what: &str| {
        if tag.is_some() && tag == mark.as_deref() {
            None
        } else {
            Some(format!(
                "left alone: the {what} there now was not made by this run (its {RUN_TAG} tag is {})",
                tag.unwrap_or("missing")
            ))
        }
    };
    let parent = entry.parent.as_deref().unwrap_or_default();
    match entry.kind {
        Kind::Function | Kind::UrlConfig | Kind::Permission | Kind::LogGroup => {
            let function = if entry.kind == Kind::Function { entry.name.as_str() } else { parent };
            let lambda = connection.lambda(&entry.region).await;
            let Some(found) = found(lambda.get_function().function_name(function).send().await)?
            else {
                return Ok(None);
            };
            let tag = found.tags().and_then(|t| t.get(RUN_TAG)).map(String::as_str);
            Ok(tagged(tag, &format!("function {function}")))
        }
        Kind::Role | Kind::RolePolicy => {
            let role = if entry.kind == Kind::Role { entry.name.as_str() } else { parent };
            let iam = connection.iam().await;
            let Some(found) = found(iam.get_role().role_name(role).send().await)? else {
                return Ok(None);
            };
            let tag = found
                .role()
                .and_then(|r| r.tags().iter().find(|t| t.key() == RUN_TAG))
                .map(aws_sdk_iam::types::Tag::value);
            Ok(tagged(tag, &format!("role {role}")))
        }
    }
}

/// Deletes one resource, only if it is provably the run's, and checks that it is gone.
pub(super) async fn delete_and_verify(
    connection: &Connection,
    entry: &Entry,
) -> std::result::Result<Deletion, String> {
    if let Some(why) = not_ours(connection, entry).await? {
        return Ok(Deletion::NotOurs(why));
    }
    let lambda = connection.lambda(&entry.region).await;
    let parent = entry.parent.as_deref().unwrap_or_default();
    let name = entry.name.as_str();
    let existed = match entry.kind {
        Kind::UrlConfig => {
            found(lambda.delete_function_url_config().function_name(parent).send().await)?.is_some()
        }
        Kind::Permission => {
            found(lambda.remove_permission().function_name(parent).statement_id(name).send().await)?
                .is_some()
        }
        Kind::Function => {
            found(lambda.delete_function().function_name(name).send().await)?.is_some()
        }
        Kind::LogGroup => {
            let logs = connection.logs(&entry.region).await;
            found(logs.delete_log_group().log_group_name(name).send().await)?.is_some()
        }
        Kind::RolePolicy => {
            let iam = connection.iam().await;
            found(iam.detach_role_policy().role_name(parent).policy_arn(name).send().await)?
                .is_some()
        }
        Kind::Role => {
            let iam = connection.iam().await;
            found(iam.delete_role().role_name(name).send().await)?.is_some()
        }
    };
    if exists(connection, entry).await? {
        return Err("the cloud still lists it after the delete".into());
    }
    Ok(if existed { Deletion::Deleted } else { Deletion::AlreadyGone })
}

/// Whether a ledger resource is still there, asked of the cloud.
pub(super) async fn exists(
    connection: &Connection,
    entry: &Entry,
) -> std::result::Result<bool, String> {
    let lambda = connection.lambda(&entry.region).await;
    let parent = entry.parent.as_deref().unwrap_or_default();
    let name = entry.name.as_str();
    Ok(match entry.kind {
        Kind::UrlConfig => {
            found(lambda.get_function_url_config().function_name(parent).send().await)?.is_some()
        }
        Kind::Permission => statements(&lambda, parent)
            .await
            .map_err(|e| e.to_string())?
            .iter()
            .any(|s| s["Sid"] == name),
        Kind::Function => {
            found(lambda.get_function_configuration().function_name(name).send().await)?.is_some()
        }
        Kind::LogGroup => {
            let logs = connection.logs(&entry.region).await;
            found(logs.describe_log_groups().log_group_name_prefix(name).send().await)?.is_some_and(
                |out| out.log_groups().iter().any(|g| g.log_group_name() == Some(name)),
            )
        }
        Kind::RolePolicy => {
            let iam = connection.iam().await;
            found(iam.list_attached_role_policies().role_name(parent).send().await)?.is_some_and(
                |out| out.attached_policies().iter().any(|p| p.policy_arn() == Some(name)),
            )
        }
        Kind::Role => {
            let iam = connection.iam().await;
            found(iam.get_role().role_name(name).send().await)?.is_some()
        }
    })
}

/// The functions in the connection (any region) that use a role, except `except`; `None` when
/// the role does not exist.
pub(super) async fn role_users(
    connection: &Connection,
    role: &str,
    except: &[String],
) -> Result<Option<Vec<String>>> {
    let iam = connection.iam().await;
    let Some(role) = lookup("GetRole", iam.get_role().role_name(role).send().await)? else {
        return Ok(None);
    };
    let arn = role.role().map(|r| r.arn().to_owned()).unwrap_or_default();
    let mut users = Vec::new();
    for region in &connection.regions {
        let lambda = connection.lambda(region).await;
        let mut pages = lambda.list_functions().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(failed("ListFunctions"))?;
            for f in page.functions() {
                let name = f.function_name().unwrap_or_default();
                if f.role() == Some(arn.as_str()) && !except.iter().any(|e| e == name) {
                    users.push(format!("{name} ({region})"));
                }
            }
        }
    }
    Ok(Some(users))
}
