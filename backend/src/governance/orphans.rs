//! Orphan log groups: `/aws/lambda/<name>` groups whose function is gone. Lambda never deletes a
//! function's log group, so they pile up, keeping what they stored (and billing for it) forever.
//! Found by asking the cloud — every connection, every region: its functions and its log groups —
//! and deleted one at a time by an admin, after checking again that the function is still gone,
//! with the cloud's confirmation that the group went.

use std::collections::HashSet;

use sqlx::PgPool;
use uuid::Uuid;

use crate::audit::{self, Actor};
use crate::cloud::{failed, lookup};
use crate::connections::{self, Connection};
use crate::error::{Error, Result};

const PREFIX: &str = "/aws/lambda/";

/// A log group whose function no longer exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrphanLogGroup {
    pub connection_id: Uuid,
    pub connection: String,
    pub region: String,
    pub name: String,
    pub stored_bytes: i64,
}

/// What looking for orphans found: the groups, and the connections or regions that could not be
/// asked (with the cloud's words), so a partial answer says it is partial.
#[derive(Clone, Debug, Default)]
pub struct OrphanReport {
    pub groups: Vec<OrphanLogGroup>,
    pub unreachable: Vec<String>,
}

/// The function a log group is named for: `/aws/lambda/<name>`, or `/aws/lambda/<region>.<name>`
/// for a Lambda@Edge replica's.
fn function_of(group: &str) -> Option<(&str, Option<&str>)> {
    let rest = group.strip_prefix(PREFIX)?;
    Some((rest, rest.split_once('.').map(|(_, name)| name)))
}

/// Every orphan log group of every connection and region.
pub async fn orphan_log_groups(pool: &PgPool) -> Result<OrphanReport> {
    let mut report = OrphanReport::default();
    for connection in connections::list(pool).await? {
        for region in &connection.regions {
            match in_region(&connection, region).await {
                Ok(groups) => report.groups.extend(groups),
                Err(error) => {
                    report.unreachable.push(format!("{} ({region}): {error}", connection.name))
                }
            }
        }
    }
    Ok(report)
}

async fn in_region(connection: &Connection, region: &str) -> Result<Vec<OrphanLogGroup>> {
    let lambda = connection.lambda(region).await;
    let mut functions = HashSet::new();
    let mut pages = lambda.list_functions().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(failed("ListFunctions"))?;
        functions
            .extend(page.functions().iter().filter_map(|f| f.function_name().map(str::to_owned)));
    }
    let logs = connection.logs(region).await;
    let mut orphans = Vec::new();
    let mut pages =
        logs.describe_log_groups().log_group_name_prefix(PREFIX).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(failed("DescribeLogGroups"))?;
        for group in page.log_groups() {
            let Some(name) = group.log_group_name() else { continue };
            let Some((plain, edge)) = function_of(name) else { continue };
            if functions.contains(plain) || edge.is_some_and(|e| functions.contains(e)) {
                continue;
            }
            orphans.push(OrphanLogGroup {
                connection_id: connection.connection_id,
                connection: connection.name.clone(),
                region: region.to_owned(),
                name: name.to_owned(),
                stored_bytes: group.stored_bytes().unwrap_or(0),
            });
        }
    }
    Ok(orphans)
}

/// Deletes an orphan log group and checks with the cloud that it is gone. Refused when the name
/// is not a function's log group, or its function exists (again, or still).
pub async fn delete_orphan_log_group(
    pool: &PgPool,
    actor: &Actor,
    connection_id: Uuid,
    region: &str,
    name: &str,
) -> Result<()> {
    let Some((plain, edge)) = function_of(name) else {
        return Err(Error::invalid(
            "name",
            format!("only a function's log group ({PREFIX}…) is cleaned up here"),
        ));
    };
    let connection = connections::get(pool, connection_id).await?;
    if !connection.regions.iter().any(|r| r == region) {
        return Err(Error::invalid(
            "region",
            format!("{} has no region {region}", connection.name),
        ));
    }
    let lambda = connection.lambda(region).await;
    for function in std::iter::once(plain).chain(edge) {
        if lookup("GetFunction", lambda.get_function().function_name(function).send().await)?
            .is_some()
        {
            return Err(Error::Refused(format!(
                "the function {function} exists, so {name} is not an orphan: it is kept"
            )));
        }
    }
    let logs = connection.logs(region).await;
    let deleted =
        lookup("DeleteLogGroup", logs.delete_log_group().log_group_name(name).send().await)?;
    let left = logs
        .describe_log_groups()
        .log_group_name_prefix(name)
        .send()
        .await
        .map_err(failed("DescribeLogGroups"))?;
    if left.log_groups().iter().any(|g| g.log_group_name() == Some(name)) {
        return Err(Error::Refused(format!("{name} is still listed after the delete; try again")));
    }
    let mut conn = pool.acquire().await?;
    audit::record(
        &mut conn,
        actor,
        "governance.orphan_log_group.delete",
        &format!("log-group:{}:{region}:{name}", connection.name),
        serde_json::json!({ "connection_id": connection_id, "region": region, "was_there": deleted.is_some() }),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::function_of;

    #[test]
    fn a_group_names_its_function_or_an_edge_replicas() {
        assert_eq!(function_of("/aws/lambda/orders"), Some(("orders", None)));
        assert_eq!(
            function_of("/aws/lambda/us-east-1.orders"),
            Some(("us-east-1.orders", Some("orders")))
        );
        assert_eq!(function_of("/aws/apigateway/orders"), None);
    }
}
