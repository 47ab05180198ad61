//! A function's configuration as the cloud reports it now, its environment variables revealed
//! to an editor, and configuration changes through UpdateFunctionConfiguration.

use std::collections::BTreeMap;

use sqlx::PgPool;

use crate::connections::Connection;
use crate::error::{Error, Result};

use super::records::*;

/// A function's configuration as the cloud reports it now, beside what the catalog recorded.
#[derive(Clone, Debug)]
pub struct Live {
    /// (field, catalog value, cloud value) for each field.
    pub fields: Vec<(&'static str, String, String)>,
    /// The environment variables, which the catalog does not keep.
    pub environment: BTreeMap<String, String>,
    /// Lambda's `RevisionId` of what was read: a change made from it is refused if the function
    /// has changed in the cloud since.
    pub revision_id: String,
}

/// GetFunctionConfiguration, with a failure in the connection's name.
async fn configuration(
    lambda: &aws_sdk_lambda::Client,
    connection: &Connection,
    detail: &Detail,
) -> Result<aws_sdk_lambda::operation::get_function_configuration::GetFunctionConfigurationOutput> {
    lambda.get_function_configuration().function_name(&detail.arn).send().await.map_err(|e| {
        crate::cloud::error(
            format_args!("{} did not return the configuration", connection.name),
            &e,
        )
    })
}

/// Reads the function's configuration from the cloud (GetFunctionConfiguration).
pub async fn live(connection: &Connection, detail: &Detail) -> Result<Live> {
    let lambda = connection.lambda(&detail.entry.region).await;
    let config = configuration(&lambda, connection, detail).await?;
    let text = |v: Option<String>| v.unwrap_or_default();
    let number = |v: Option<i32>| v.map(|n| n.to_string()).unwrap_or_default();
    let fields = vec![
        (
            "runtime",
            text(detail.entry.runtime.clone()),
            text(config.runtime().map(|r| r.as_str().to_owned())),
        ),
        ("handler", text(detail.handler.clone()), text(config.handler().map(str::to_owned))),
        ("memory (MB)", number(detail.memory_mb), number(config.memory_size())),
        ("timeout (s)", number(detail.timeout_s), number(config.timeout())),
        (
            "description",
            detail.entry.description.clone(),
            text(config.description().map(str::to_owned)),
        ),
        (
            "state",
            text(detail.entry.state.clone()),
            text(config.state().map(|s| s.as_str().to_owned())),
        ),
    ];
    let environment = config
        .environment()
        .and_then(|e| e.variables())
        .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let revision_id = config.revision_id().unwrap_or_default().to_owned();
    Ok(Live { fields, environment, revision_id })
}

/// The function's environment variables, for someone who may edit it and asked to see them:
/// read live from the cloud (the catalog never stores them), and the reveal audited.
pub async fn reveal_environment(
    pool: &PgPool,
    actor: &crate::audit::Actor,
    connection: &Connection,
    detail: &Detail,
) -> Result<BTreeMap<String, String>> {
    let environment = live(connection, detail).await?.environment;
    let mut tx = pool.begin().await?;
    crate::audit::record(
        &mut tx,
        actor,
        "function.reveal_environment",
        &format!("function:{}", detail.entry.name),
        serde_json::json!({ "keys": environment.keys().collect::<Vec<_>>() }),
    )
    .await?;
    tx.commit().await?;
    Ok(environment)
}

/// A change to a function's configuration, as the Configuration form sends it.
#[derive(Clone, Debug, Default)]
pub struct ConfigChange {
    pub memory_mb: i32,
    pub timeout_s: i32,
    pub description: String,
    pub handler: String,
    pub runtime: String,
    /// The new variables; `None` keeps the function's current ones (the editor never revealed them).
    pub environment: Option<BTreeMap<String, String>>,
    /// The `RevisionId` the form was opened at ([`Live::revision_id`]); `None` applies the change
    /// to whatever the cloud holds now.
    pub revision_id: Option<String>,
}

/// Which form field a Lambda validation message is about.
pub(super) fn field_of(message: &str) -> &'static str {
    let lower = message.to_ascii_lowercase();
    [
        ("memorysize", "memory_mb"),
        ("memory", "memory_mb"),
        ("timeout", "timeout_s"),
        ("handler", "handler"),
        ("runtime", "runtime"),
        ("environment", "environment"),
        ("description", "description"),
    ]
    .into_iter()
    .find(|(needle, _)| lower.contains(needle))
    .map_or("configuration", |(_, field)| field)
}

/// Applies a configuration change through UpdateFunctionConfiguration; the cloud's validation
/// errors come back on the field they are about. The catalog records the new values, audited.
pub async fn update_configuration(
    pool: &PgPool,
    actor: &crate::audit::Actor,
    connection: &Connection,
    detail: &Detail,
    change: &ConfigChange,
) -> Result<()> {
    let lambda = connection.lambda(&detail.entry.region).await;
    // What the cloud holds now: the revision the change must apply to, and the audit's "before".
    let current = configuration(&lambda, connection, detail).await?;
    let before = serde_json::json!({
        "memory_mb": current.memory_size(), "timeout_s": current.timeout(),
        "handler": current.handler(), "runtime": current.runtime().map(|r| r.as_str()),
        "description": current.description(),
    });
    let changed_since = || {
        Error::Conflict(format!(
            "{} was changed in the cloud since you opened this page (it now has {} MB, {} s, handler {}, runtime {}): reload to see the cloud's values, then make your change again",
            detail.entry.name,
            current.memory_size().unwrap_or_default(),
            current.timeout().unwrap_or_default(),
            current.handler().unwrap_or("none"),
            current.runtime().map_or("none", |r| r.as_str()),
        ))
    };
    let revision = current.revision_id().map(str::to_owned);
    if change.revision_id.is_some() && change.revision_id != revision {
        return Err(changed_since());
    }
    let environment = change.environment.as_ref().map(|variables| {
        aws_sdk_lambda::types::Environment::builder()
            .set_variables(Some(variables.clone().into_iter().collect()))
            .build()
    });
    // The revision read above goes with the change: a change made in between is refused by the
    // cloud itself (PreconditionFailedException), never overwritten.
    let updated = lambda
        .update_function_configuration()
        .function_name(&detail.arn)
        .memory_size(change.memory_mb)
        .timeout(change.timeout_s)
        .description(&change.description)
        .handler(&change.handler)
        .runtime(aws_sdk_lambda::types::Runtime::from(change.runtime.as_str()))
        .set_environment(environment)
        .set_revision_id(revision)
        .send()
        .await;
    if let Err(error) = updated {
        use aws_sdk_lambda::operation::update_function_configuration::UpdateFunctionConfigurationError as E;
        if error.as_service_error().is_some_and(E::is_precondition_failed_exception) {
            return Err(changed_since());
        }
        let message = crate::cloud::message(&error);
        let invalid = error.as_service_error().is_some_and(E::is_invalid_parameter_value_exception);
        return Err(if invalid {
            Error::invalid(field_of(&message), message)
        } else {
            crate::cloud::error(format_args!("{} refused the change", connection.name), &error)
        });
    }
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "update catalog_function set memory_mb = $2, timeout_s = $3, description = $4, handler = $5, runtime = $6
         where function_id = $1",
        detail.entry.function_id,
        change.memory_mb,
        change.timeout_s,
        change.description,
        change.handler,
        change.runtime
    )
    .execute(&mut *tx)
    .await?;
    crate::audit::record(
        &mut tx,
        actor,
        "function.update_configuration",
        &format!("function:{}", detail.entry.name),
        serde_json::json!({
            "before": before,
            "after": { "memory_mb": change.memory_mb, "timeout_s": change.timeout_s, "handler": change.handler,
                       "runtime": change.runtime, "description": change.description,
                       "environment_keys": change.environment.as_ref().map(|e| e.keys().collect::<Vec<_>>()) },
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
