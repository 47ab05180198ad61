//! Owner, team, lifecycle, environment and tags: written to the cloud's tags first, then the
//! catalog, audited; ownership transfers; and imports, which adopt what the cloud's tags say.

use std::collections::BTreeMap;

use sqlx::PgPool;
use uuid::Uuid;

use crate::connections::Connection;
use crate::error::{Error, Result};

use super::records::*;
use super::tags::*;

/// The catalog's metadata of a function, as its owner edits it.
#[derive(Clone, Debug, Default)]
pub struct Metadata {
    /// The owner's email.
    pub owner: String,
    /// A team name, or empty for none.
    pub team: String,
    pub lifecycle: String,
    pub environment: String,
    /// User tags (not `lambdaport:*`) to add or change; the function's other tags stay as the
    /// cloud has them.
    pub tags: BTreeMap<String, String>,
    /// User tags to remove.
    pub removed: Vec<String>,
}

impl Metadata {
    /// The change from the tags a form showed (`before`) to the tags it sends (`after`): what
    /// was added or changed, and what was removed. Tags the form never showed — added in the
    /// cloud since it was read — are left alone.
    pub fn tag_changes(
        before: &BTreeMap<String, String>,
        after: BTreeMap<String, String>,
    ) -> (BTreeMap<String, String>, Vec<String>) {
        let removed = before.keys().filter(|k| !after.contains_key(*k)).cloned().collect();
        let changed = after.into_iter().filter(|(k, v)| before.get(k) != Some(v)).collect();
        (changed, removed)
    }
}

/// A function keeps at most 40 user tags: Lambda allows 50, and the console uses 4.
fn tag_limit(count: usize) -> Result<()> {
    if count > 40 {
        return Err(Error::invalid(
            "tags",
            "at most 40 tags (Lambda allows 50, and the console uses 4)",
        ));
    }
    Ok(())
}

/// A tag the user owns (not the console's `lambdaport:*` nor AWS's `aws:*`).
pub(super) fn is_user_tag(key: &str) -> bool {
    !key.starts_with("lambdaport:") && !key.starts_with("aws:")
}

pub(super) fn valid_tag(key: &str, value: &str) -> Result<()> {
    if key.is_empty() || key.chars().count() > 128 || value.chars().count() > 256 {
        return Err(Error::invalid(
            "tags",
            format!("tag '{key}': keys are 1–128 characters, values up to 256"),
        ));
    }
    if key.starts_with("aws:") || key.starts_with("lambdaport:") {
        return Err(Error::invalid(
            "tags",
            format!("tag '{key}': the aws: and lambdaport: prefixes are reserved"),
        ));
    }
    Ok(())
}

/// Changes owner, team, lifecycle, environment and tags, in the catalog and in the cloud
/// (`lambdaport:*` tags and the user tags) together: if the cloud refuses, nothing changes.
pub async fn update_metadata(
    pool: &PgPool,
    actor: &crate::audit::Actor,
    connection: &Connection,
    detail: &Detail,
    metadata: &Metadata,
) -> Result<()> {
    write_metadata(pool, actor, connection, detail, metadata, "function.update_metadata").await
}

/// Hands the function to another owner (and, when given, another team), keeping everything else;
/// written to the catalog and the cloud's `lambdaport:*` tags like any metadata change, and
/// audited as a transfer.
pub async fn transfer(
    pool: &PgPool,
    actor: &crate::audit::Actor,
    connection: &Connection,
    detail: &Detail,
    new_owner: &str,
    new_team: Option<&str>,
) -> Result<()> {
    if crate::accounts::EmailAddress::parse(new_owner)
        .is_ok_and(|email| detail.entry.owner.as_deref() == Some(email.as_str()))
    {
        return Err(Error::invalid("owner", "that account already owns this function"));
    }
    let metadata = Metadata {
        owner: new_owner.to_owned(),
        team: new_team.map_or_else(|| detail.entry.team.clone().unwrap_or_default(), str::to_owned),
        lifecycle: detail.entry.lifecycle.clone(),
        environment: detail.entry.environment.clone(),
        // The tags stay as the cloud has them.
        tags: BTreeMap::new(),
        removed: Vec::new(),
    };
    write_metadata(pool, actor, connection, detail, &metadata, "function.transfer").await
}

/// The catalog's user tags (a JSON object of strings) as a map.
pub fn user_tags(tags: &serde_json::Value) -> BTreeMap<String, String> {
    tags.as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect()
}

pub(super) async fn write_metadata(
    pool: &PgPool,
    actor: &crate::audit::Actor,
    connection: &Connection,
    detail: &Detail,
    metadata: &Metadata,
    action: &str,
) -> Result<()> {
    metadata.lifecycle.parse::<model::Lifecycle>().map_err(|e| Error::unknown("lifecycle", &e))?;
    metadata.environment.parse::<model::Stage>().map_err(|e| Error::unknown("environment", &e))?;
    for (key, value) in &metadata.tags {
        valid_tag(key, value)?;
    }
    // Changes alone over the limit fail before any cloud call; the result is checked once known.
    tag_limit(metadata.tags.len())?;
    let owner = crate::accounts::find_by_email(pool, &metadata.owner).await?.ok_or_else(|| {
        Error::invalid("owner", format!("no account has the email {}", metadata.owner.trim()))
    })?;
    let team = match metadata.team.trim() {
        "" => None,
        name => Some(
            crate::teams::find_by_name(pool, name)
                .await?
                .ok_or_else(|| Error::invalid("team", format!("there is no team named {name}")))?,
        ),
    };
    // The cloud gets the catalog's metadata as lambdaport:* tags, and the user tags' changes:
    // tags added in the cloud since the form was read, and the console's other tags (a lab run's
    // proof), are left as they are.
    let lambda = connection.lambda(&detail.entry.region).await;
    let mut tags: std::collections::HashMap<String, String> =
        metadata.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    tags.insert(OWNER_TAG.into(), owner.email.clone());
    tags.insert(LIFECYCLE_TAG.into(), metadata.lifecycle.clone());
    tags.insert(ENVIRONMENT_TAG.into(), metadata.environment.clone());
    if !metadata.team.trim().is_empty() {
        tags.insert(TEAM_TAG.into(), metadata.team.trim().to_owned());
    }
    let context =
        format!("{}: the tags were not written (the catalog is unchanged)", connection.name);
    let current = lambda
        .list_tags()
        .resource(&detail.arn)
        .send()
        .await
        .map_err(|e| crate::cloud::error(&context, &e))?;
    let current = current.tags().cloned().unwrap_or_default();
    let untag: Vec<String> = current
        .keys()
        .filter(|k| {
            (is_user_tag(k) && metadata.removed.contains(k) && !metadata.tags.contains_key(*k))
                || (k.as_str() == TEAM_TAG && !tags.contains_key(TEAM_TAG))
        })
        .cloned()
        .collect();
    // The user tags the function will have, which the catalog records.
    let mut user_tags: BTreeMap<String, String> = current
        .iter()
        .filter(|(k, _)| is_user_tag(k) && !untag.contains(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    user_tags.extend(metadata.tags.clone());
    tag_limit(user_tags.len())?;
    let tags_before: BTreeMap<&String, &String> =
        current.iter().filter(|(k, _)| is_user_tag(k)).collect();
    let tags_before = serde_json::json!(tags_before);
    lambda
        .tag_resource()
        .resource(&detail.arn)
        .set_tags(Some(tags.clone()))
        .send()
        .await
        .map_err(|e| crate::cloud::error(&context, &e))?;
    if !untag.is_empty() {
        lambda
            .untag_resource()
            .resource(&detail.arn)
            .set_tag_keys(Some(untag.clone()))
            .send()
            .await
            .map_err(|e| crate::cloud::error(&context, &e))?;
    }
    for (k, v) in &current {
        if !is_user_tag(k) && !untag.contains(k) && !tags.contains_key(k) {
            tags.insert(k.clone(), v.clone());
        }
    }
    tags.extend(user_tags.clone());
    // The cloud first, then one short transaction: no transaction (and no pooled connection)
    // waits on the cloud.
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "update catalog_function set owner_id = $2, team_id = $3, lifecycle = $4, environment = $5, tags = $6
         where function_id = $1",
        detail.entry.function_id,
        owner.account_id,
        team,
        metadata.lifecycle,
        metadata.environment,
        serde_json::to_value(&user_tags).map_err(anyhow::Error::from)?
    )
    .execute(&mut *tx)
    .await?;
    crate::audit::record(
        &mut tx,
        actor,
        action,
        &format!("function:{}", detail.entry.name),
        serde_json::json!({
            "before": { "owner": detail.entry.owner, "team": detail.entry.team, "lifecycle": detail.entry.lifecycle,
                        "environment": detail.entry.environment, "tags": tags_before },
            "after": { "owner": owner.email, "team": metadata.team.trim(), "lifecycle": metadata.lifecycle,
                       "environment": metadata.environment, "tags": user_tags },
        }),
    )
    .await?;
    // What the cloud holds now is what the catalog says: no drift.
    sqlx::query!(
        "update catalog_function
         set drift = '[]'::jsonb,
             cloud_config = jsonb_set(coalesce(cloud_config, '{}'::jsonb), '{tags}', $2)
         where function_id = $1",
        detail.entry.function_id,
        serde_json::to_value(&tags).map_err(anyhow::Error::from)?
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    crate::governance::violations::refresh(
        pool,
        crate::governance::violations::Scope::Function(detail.entry.function_id),
    )
    .await;
    Ok(())
}

/// Resolves one field of drift the other way: the catalog takes the cloud's `lambdaport:*` tag
/// value for `field` (owner, team, lifecycle or environment), audited. A value the console cannot
/// take (no such account or team, an unknown lifecycle) is refused with what it says.
pub async fn take_cloud_value(
    pool: &PgPool,
    actor: &crate::audit::Actor,
    detail: &Detail,
    field: &str,
) -> Result<()> {
    let tag = match field {
        "owner" => OWNER_TAG,
        "team" => TEAM_TAG,
        "lifecycle" => LIFECYCLE_TAG,
        "environment" => ENVIRONMENT_TAG,
        _ => return Err(Error::invalid("field", "choose owner, team, lifecycle or environment")),
    };
    let cloud = sqlx::query_scalar!(
        "select cloud_config->'tags'->>$2 from catalog_function where function_id = $1",
        detail.entry.function_id,
        tag
    )
    .fetch_one(pool)
    .await?
    .map(|v| v.trim().to_owned())
    .filter(|v| !v.is_empty());
    let mut owner_id = detail.owner_id;
    let mut team_id = detail.team_id;
    let mut lifecycle = detail.entry.lifecycle.clone();
    let mut environment = detail.entry.environment.clone();
    let said = |what: &str| format!("the cloud's {tag} tag says {what}");
    match (field, cloud.as_deref()) {
        ("owner", Some(email)) => {
            let account = crate::accounts::find_by_email(pool, &email.to_lowercase()).await?;
            owner_id = Some(account.map(|a| a.account_id).ok_or_else(|| {
                Error::invalid("field", format!("{}, who has no account here", said(email)))
            })?);
        }
        ("team", Some(name)) => {
            team_id = Some(crate::teams::find_by_name(pool, name).await?.ok_or_else(|| {
                Error::invalid("field", format!("{}, and there is no such team", said(name)))
            })?);
        }
        ("team", None) => team_id = None,
        ("lifecycle", Some(value)) => {
            value.parse::<model::Lifecycle>().map_err(|e| Error::unknown("field", &e))?;
            value.clone_into(&mut lifecycle);
        }
        ("environment", Some(value)) => {
            value.parse::<model::Stage>().map_err(|e| Error::unknown("field", &e))?;
            value.clone_into(&mut environment);
        }
        (_, None) => {
            return Err(Error::invalid("field", format!("the cloud has no {tag} tag to take")));
        }
        _ => unreachable!("the field was checked above"),
    }
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "update catalog_function set owner_id = $2, team_id = $3, lifecycle = $4, environment = $5
         where function_id = $1",
        detail.entry.function_id,
        owner_id,
        team_id,
        lifecycle,
        environment
    )
    .execute(&mut *tx)
    .await?;
    crate::audit::record(
        &mut tx,
        actor,
        "function.take_cloud_value",
        &format!("function:{}", detail.entry.name),
        serde_json::json!({ "field": field, "cloud": cloud }),
    )
    .await?;
    tx.commit().await?;
    super::sync::record_drift(pool, detail.connection_id).await
}

/// Imports a shadow into the catalog with an owner (and optionally a team), adopting what its
/// `lambdaport:*` tags say: lifecycle and environment when they are values the console knows (any
/// other value is named in the audit and left out), the team the tag names when none is given.
/// The catalog's record then goes back to the cloud as tags, so a fresh import shows no drift; if
/// the cloud refuses the tags, the import stands and the drift shows it.
pub async fn import(
    pool: &PgPool,
    actor: &crate::audit::Actor,
    function_id: Uuid,
    owner_id: Uuid,
    team_id: Option<Uuid>,
) -> Result<()> {
    let shadow = sqlx::query!(
        r#"select f.connection_id, f.lifecycle, f.environment,
                  f.cloud_config->'tags'->>'lambdaport:lifecycle' as lifecycle_tag,
                  f.cloud_config->'tags'->>'lambdaport:environment' as environment_tag,
                  (select t.team_id from team t
                   where t.name = f.cloud_config->'tags'->>'lambdaport:team') as tagged_team
           from catalog_function f where f.function_id = $1 and not f.tracked"#,
        function_id
    )
    .fetch_optional(pool)
    .await?
    .ok_or(Error::NotFound("shadow function"))?;
    let mut ignored = Vec::new();
    let mut adopt = |tag: Option<String>, name: &str, valid: bool, current: String| match tag {
        Some(value) if valid => value,
        Some(value) => {
            ignored.push(format!("lambdaport:{name}={value}"));
            current
        }
        None => current,
    };
    let lifecycle_ok =
        shadow.lifecycle_tag.as_deref().is_some_and(|t| t.parse::<model::Lifecycle>().is_ok());
    let environment_ok =
        shadow.environment_tag.as_deref().is_some_and(|t| t.parse::<model::Stage>().is_ok());
    let lifecycle = adopt(shadow.lifecycle_tag, "lifecycle", lifecycle_ok, shadow.lifecycle);
    let environment =
        adopt(shadow.environment_tag, "environment", environment_ok, shadow.environment);
    let team_id = team_id.or(shadow.tagged_team);
    let mut tx = pool.begin().await?;
    let name = sqlx::query_scalar!(
        "update catalog_function set tracked = true, owner_id = $2, team_id = $3, lifecycle = $4,
                environment = $5
         where function_id = $1 and not tracked returning name",
        function_id,
        owner_id,
        team_id,
        lifecycle,
        environment
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotFound("shadow function"))?;
    crate::audit::record(
        &mut tx,
        actor,
        "function.import",
        &format!("function:{name}"),
        serde_json::json!({ "owner_id": owner_id, "team_id": team_id, "lifecycle": lifecycle,
                            "environment": environment, "ignored_tags": ignored }),
    )
    .await?;
    tx.commit().await?;
    let connection = crate::connections::get(pool, shadow.connection_id).await?;
    let detail = detail(pool, function_id).await?;
    if let Err(error) = write_back_tags(pool, &connection, &detail).await {
        tracing::warn!(function = name, %error, "the imported function's tags were not written");
    }
    Ok(())
}

/// Writes the catalog's owner, team, lifecycle and environment to the function's `lambdaport:*`
/// tags (nothing else), and records that the cloud now agrees: no drift.
async fn write_back_tags(pool: &PgPool, connection: &Connection, detail: &Detail) -> Result<()> {
    let entry = &detail.entry;
    let mut tags: BTreeMap<String, String> = [
        (LIFECYCLE_TAG.to_owned(), entry.lifecycle.clone()),
        (ENVIRONMENT_TAG.to_owned(), entry.environment.clone()),
    ]
    .into();
    if let Some(owner) = &entry.owner {
        tags.insert(OWNER_TAG.to_owned(), owner.clone());
    }
    if let Some(team) = &entry.team {
        tags.insert(TEAM_TAG.to_owned(), team.clone());
    }
    connection
        .lambda(&entry.region)
        .await
        .tag_resource()
        .resource(&detail.arn)
        .set_tags(Some(tags.clone().into_iter().collect()))
        .send()
        .await
        .map_err(|e| {
            crate::cloud::error(format_args!("{}: TagResource failed", connection.name), &e)
        })?;
    sqlx::query!(
        "update catalog_function
         set drift = '[]'::jsonb,
             cloud_config = jsonb_set(coalesce(cloud_config, '{}'::jsonb), '{tags}',
                                      coalesce(cloud_config->'tags', '{}'::jsonb) || $2)
         where function_id = $1",
        entry.function_id,
        serde_json::to_value(&tags).map_err(anyhow::Error::from)?
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Imports a shadow for the developer claiming it: allowed only when the function's cloud tags
/// say it is theirs — `lambdaport:owner` is their email, or `lambdaport:team` one of their teams
/// (which then becomes its team). Anything else needs an admin, who imports with `import`.
pub async fn claim(
    pool: &PgPool,
    actor: &crate::audit::Actor,
    account: &crate::accounts::Account,
    function_id: Uuid,
) -> Result<()> {
    let tags = sqlx::query!(
        r#"select f.cloud_config->'tags'->>'lambdaport:owner' as owner,
                  (select t.team_id from team t join team_member m using (team_id)
                   where m.account_id = $2 and t.name = f.cloud_config->'tags'->>'lambdaport:team') as team_id
           from catalog_function f where f.function_id = $1 and not f.tracked"#,
        function_id,
        account.account_id
    )
    .fetch_optional(pool)
    .await?
    .ok_or(Error::NotFound("shadow function"))?;
    let named = tags.owner.is_some_and(|owner| owner.eq_ignore_ascii_case(&account.email));
    if !named && tags.team_id.is_none() {
        return Err(Error::Refused(format!(
            "this function is not tagged as yours: ask an admin to import it, or tag it in the cloud with \
             {OWNER_TAG}={} or {TEAM_TAG}=<one of your teams> and sync",
            account.email
        )));
    }
    import(pool, actor, function_id, account.account_id, tags.team_id).await
}
