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
    /// The function's user tags (not `lambdaport:*` nor `aws:*`) as the cloud has them now;
    /// `None` when they could not be read (the configuration still could).
    pub tags: Option<BTreeMap<String, String>>,
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
    let tags = match lambda.list_tags().resource(&detail.arn).send().await {
        Ok(listed) => Some(
            listed
                .tags()
                .into_iter()
                .flatten()
                .filter(|(k, _)| super::metadata::is_user_tag(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        Err(error) => {
            let error = crate::cloud::said(&error);
            tracing::warn!(function = %detail.entry.name, %error, "the function's tags were not read");
            None
        }
    };
    Ok(Live { fields, environment, revision_id, tags })
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

/// A change to a function's configuration, as the Configuration form sends it: only the fields
/// the user changed are `Some`, so a value changed in the cloud meanwhile is never written back.
#[derive(Clone, Debug, Default)]
pub struct ConfigChange {
    pub memory_mb: Option<i32>,
    pub timeout_s: Option<i32>,
    pub description: Option<String>,
    pub handler: Option<String>,
    pub runtime: Option<String>,
    /// The new variables; `None` keeps the function's current ones.
    pub environment: Option<BTreeMap<String, String>>,
    /// The `RevisionId` the form was opened at ([`Live::revision_id`]); `None` applies the change
    /// to whatever the cloud holds now.
    pub revision_id: Option<String>,
    /// What the form showed when it was opened, to tell what changed in the cloud since.
    pub opened_with: ConfigValues,
    /// Apply the changed fields even though the cloud changed since the form was opened.
    pub apply_anyway: bool,
}

/// The settings a Configuration form shows, as it showed them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigValues {
    pub memory_mb: Option<i32>,
    pub timeout_s: Option<i32>,
    pub description: Option<String>,
    pub handler: Option<String>,
    pub runtime: Option<String>,
}

impl ConfigChange {
    fn is_empty(&self) -> bool {
        self.memory_mb.is_none()
            && self.timeout_s.is_none()
            && self.description.is_none()
            && self.handler.is_none()
            && self.runtime.is_none()
            && self.environment.is_none()
    }

    /// The fields this change sets, as `field before → after` in the cloud's current terms.
    fn described(&self, now: &ConfigValues) -> Vec<String> {
        let mut said = Vec::new();
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        if let Some(m) = self.memory_mb {
            said.push(format!("memory {} → {m} MB", now.memory_mb.unwrap_or_default()));
        }
        if let Some(t) = self.timeout_s {
            said.push(format!("timeout {} → {t} s", now.timeout_s.unwrap_or_default()));
        }
        if let Some(h) = &self.handler {
            said.push(format!("handler {} → {h}", text(&now.handler)));
        }
        if let Some(r) = &self.runtime {
            said.push(format!("runtime {} → {r}", text(&now.runtime)));
        }
        if self.description.is_some() {
            said.push("the description".to_owned());
        }
        if self.environment.is_some() {
            said.push("the environment variables".to_owned());
        }
        said
    }
}

impl ConfigValues {
    fn of(
        config: &aws_sdk_lambda::operation::get_function_configuration::GetFunctionConfigurationOutput,
    ) -> Self {
        Self {
            memory_mb: config.memory_size(),
            timeout_s: config.timeout(),
            description: config.description().map(str::to_owned),
            handler: config.handler().map(str::to_owned),
            runtime: config.runtime().map(|r| r.as_str().to_owned()),
        }
    }

    /// What differs from `was`, as `field was → now`; the form did not show a field it left `None`.
    fn changes_since(&self, was: &ConfigValues) -> Vec<String> {
        let mut said = Vec::new();
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        if was.memory_mb.is_some() && was.memory_mb != self.memory_mb {
            said.push(format!(
                "memory {} → {} MB",
                was.memory_mb.unwrap_or_default(),
                self.memory_mb.unwrap_or_default()
            ));
        }
        if was.timeout_s.is_some() && was.timeout_s != self.timeout_s {
            said.push(format!(
                "timeout {} → {} s",
                was.timeout_s.unwrap_or_default(),
                self.timeout_s.unwrap_or_default()
            ));
        }
        if was.handler.is_some() && was.handler != self.handler {
            said.push(format!("handler {} → {}", text(&was.handler), text(&self.handler)));
        }
        if was.runtime.is_some() && was.runtime != self.runtime {
            said.push(format!("runtime {} → {}", text(&was.runtime), text(&self.runtime)));
        }
        if was.description.is_some() && was.description != self.description {
            said.push("the description".to_owned());
        }
        said
    }
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
    if change.is_empty() {
        return Err(Error::invalid("configuration", "nothing to change: edit a setting first"));
    }
    let lambda = connection.lambda(&detail.entry.region).await;
    // What the cloud holds now: the revision the change must apply to, and the audit's "before".
    let current = configuration(&lambda, connection, detail).await?;
    let now = ConfigValues::of(&current);
    let before = serde_json::json!({
        "memory_mb": now.memory_mb, "timeout_s": now.timeout_s, "handler": now.handler,
        "runtime": now.runtime, "description": now.description,
    });
    let changed_since = |now: &ConfigValues| {
        let theirs = now.changes_since(&change.opened_with);
        let theirs = if theirs.is_empty() {
            "its environment variables or its code".to_owned()
        } else {
            theirs.join(", ")
        };
        Error::Conflict(format!(
            "{} was changed in the cloud since you opened this page ({theirs}). Reload to see the cloud's values, or apply anyway: only your changes ({}) are applied, the cloud's stay.",
            detail.entry.name,
            change.described(now).join(", "),
        ))
    };
    let revision = current.revision_id().map(str::to_owned);
    if change.revision_id.is_some() && change.revision_id != revision && !change.apply_anyway {
        return Err(changed_since(&now));
    }
    let environment = change.environment.as_ref().map(|variables| {
        aws_sdk_lambda::types::Environment::builder()
            .set_variables(Some(variables.clone().into_iter().collect()))
            .build()
    });
    // Only the changed fields, at the revision read above: a change made in between is refused by
    // the cloud itself (PreconditionFailedException), never overwritten.
    let updated = lambda
        .update_function_configuration()
        .function_name(&detail.arn)
        .set_memory_size(change.memory_mb)
        .set_timeout(change.timeout_s)
        .set_description(change.description.clone())
        .set_handler(change.handler.clone())
        .set_runtime(change.runtime.as_deref().map(aws_sdk_lambda::types::Runtime::from))
        .set_environment(environment)
        .set_revision_id(revision)
        .send()
        .await;
    if let Err(error) = updated {
        use aws_sdk_lambda::operation::update_function_configuration::UpdateFunctionConfigurationError as E;
        if error.as_service_error().is_some_and(E::is_precondition_failed_exception) {
            let now = configuration(&lambda, connection, detail).await;
            let now = now.map_or_else(|_| change.opened_with.clone(), |c| ConfigValues::of(&c));
            return Err(changed_since(&now));
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
        "update catalog_function set memory_mb = coalesce($2, memory_mb), timeout_s = coalesce($3, timeout_s),
                description = coalesce($4, description), handler = coalesce($5, handler),
                runtime = coalesce($6, runtime)
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
            "applied_anyway": change.apply_anyway,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
