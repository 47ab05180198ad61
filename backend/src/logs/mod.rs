//! A function's logs as its Logs tab shows them, read from the cloud with CloudWatch Logs' own
//! calls (the same against the engine and AWS): the log group with its retention, the streams
//! with their time ranges, a search with a filter pattern over a time range with lines of context
//! around each match (`search`), one invocation's lines together (`invocation`), and the live
//! tail (`tail`).

mod search;
mod tail;

pub use search::{Block, Line, MAX_CONTEXT, MAX_PAGE, Order, Page, Query, invocation, search};
pub use tail::{MAX_HIGHLIGHTS, Tail, TailLine, TailUpdate, tail};

use sqlx::PgPool;

use crate::audit::Actor;
use crate::catalog::Detail;
use crate::cloud::{failed, lookup};
use crate::connections::Connection;
use crate::error::{Error, Result};

/// The retention periods CloudWatch Logs accepts, in days.
pub const RETENTION_DAYS: &[i32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// The log group Lambda writes a function's logs to.
pub fn group_name(function: &str) -> String {
    format!("/aws/lambda/{function}")
}

/// The log group, as CloudWatch describes it.
#[derive(Clone, Debug, Default)]
pub struct Group {
    pub name: String,
    /// Whether it exists: Lambda makes it at the function's first log line.
    pub exists: bool,
    /// `None`: kept forever.
    pub retention_days: Option<i32>,
    pub stored_bytes: i64,
}

/// One log stream: one execution environment's lines.
#[derive(Clone, Debug)]
pub struct StreamInfo {
    pub name: String,
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
}

/// The function's log group.
pub async fn group(connection: &Connection, detail: &Detail) -> Result<Group> {
    let name = group_name(&detail.entry.name);
    let client = connection.logs(&detail.entry.region).await;
    let described = client
        .describe_log_groups()
        .log_group_name_prefix(&name)
        .send()
        .await
        .map_err(failed("DescribeLogGroups"))?;
    let found = described.log_groups().iter().find(|g| g.log_group_name() == Some(name.as_str()));
    Ok(match found {
        Some(g) => Group {
            exists: true,
            retention_days: g.retention_in_days(),
            stored_bytes: g.stored_bytes().unwrap_or_default(),
            name,
        },
        None => Group { name, ..Group::default() },
    })
}

/// The group's streams, the most recently written first, 50 a page from `token`.
pub async fn streams(
    connection: &Connection,
    detail: &Detail,
    token: Option<String>,
) -> Result<(Vec<StreamInfo>, Option<String>)> {
    use aws_sdk_cloudwatchlogs::types::OrderBy;
    let client = connection.logs(&detail.entry.region).await;
    let described = lookup(
        "DescribeLogStreams",
        client
            .describe_log_streams()
            .log_group_name(group_name(&detail.entry.name))
            .order_by(OrderBy::LastEventTime)
            .descending(true)
            .limit(50)
            .set_next_token(token)
            .send()
            .await,
    )?;
    let Some(described) = described else { return Ok((Vec::new(), None)) };
    let streams = described
        .log_streams()
        .iter()
        .map(|s| StreamInfo {
            name: s.log_stream_name().unwrap_or_default().to_owned(),
            first_ms: s.first_event_timestamp(),
            last_ms: s.last_event_timestamp(),
        })
        .collect();
    Ok((streams, described.next_token().map(str::to_owned)))
}

/// Sets how long the group keeps its lines (`None`: forever), audited as the function's.
pub async fn set_retention(
    pool: &PgPool,
    actor: &Actor,
    connection: &Connection,
    detail: &Detail,
    days: Option<i32>,
) -> Result<()> {
    if let Some(days) = days
        && !RETENTION_DAYS.contains(&days)
    {
        return Err(Error::Validation {
            field: "retention_days",
            message: format!("CloudWatch Logs keeps lines for one of {RETENTION_DAYS:?} days"),
        });
    }
    let name = group_name(&detail.entry.name);
    let client = connection.logs(&detail.entry.region).await;
    let done = match days {
        Some(days) => client
            .put_retention_policy()
            .log_group_name(&name)
            .retention_in_days(days)
            .send()
            .await
            .map(|_| ())
            .map_err(failed("PutRetentionPolicy")),
        None => client
            .delete_retention_policy()
            .log_group_name(&name)
            .send()
            .await
            .map(|_| ())
            .map_err(failed("DeleteRetentionPolicy")),
    };
    done.map_err(|error| match error {
        Error::Cloud { failure: crate::cloud::CloudFailure::NotFound, .. } => Error::Refused(format!(
            "{name} does not exist yet: Lambda makes it at the function's first log line. Invoke the function, then set its retention."
        )),
        other => other,
    })?;
    crate::catalog::audited(
        pool,
        actor,
        detail,
        "function.set_log_retention",
        serde_json::json!({ "log_group": name, "retention_days": days }),
    )
    .await
}
