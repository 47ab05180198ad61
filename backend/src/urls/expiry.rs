//! Expiring public URLs: a public (`NONE`) URL made with an expiry is, once it passes, switched to
//! `AWS_IAM` (its public statements removed) or deleted with them — as the public-URL rule that
//! applies to the function says, switched when none does. The sweeper does it whether or not
//! anyone opens the console; the audit trail records it as the system's, and the owner's dashboard
//! says so for a week.

use aws_sdk_lambda::types::FunctionUrlAuthType;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{record_url, remove_public_statements};
use crate::audit::Actor;
use crate::catalog::audited;
use crate::cloud::failed;
use crate::connections;
use crate::error::Result;

/// What was done to an expired URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expired {
    /// Switched to `AWS_IAM`: callers now need SigV4.
    Switched,
    /// Deleted with its public statements.
    Deleted,
}

impl Expired {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Switched => "switched",
            Self::Deleted => "deleted",
        }
    }
}

/// Switches off every public URL whose expiry has passed. Returns how many; one that fails is
/// logged and tried again at the next sweep.
pub async fn expire_public_urls(pool: &PgPool) -> Result<usize> {
    let due = sqlx::query_scalar!(
        "select function_id from catalog_function
         where url_expires_at <= now() and archived_at is null
         order by url_expires_at limit 100"
    )
    .fetch_all(pool)
    .await?;
    let mut done = 0;
    for function_id in due {
        match expire_one(pool, function_id).await {
            Ok(Some(_)) => done += 1,
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(%function_id, %error, "an expired public URL could not be switched off")
            }
        }
    }
    Ok(done)
}

async fn expire_one(pool: &PgPool, function_id: Uuid) -> Result<Option<Expired>> {
    let detail = crate::catalog::detail(pool, function_id).await?;
    if detail.entry.url_auth_type.as_deref() != Some("NONE") {
        // Switched or deleted by hand since: nothing public is left to switch off.
        clear(pool, function_id).await?;
        return Ok(None);
    }
    let connection = connections::get(pool, detail.connection_id).await?;
    let lambda = connection.lambda(&detail.entry.region).await;
    let candidate = crate::governance::candidate_of(&detail);
    let action = if crate::governance::deletes_expired_url(pool, &candidate).await? {
        Expired::Deleted
    } else {
        Expired::Switched
    };
    let url = match action {
        Expired::Deleted => {
            let url = super::config(&lambda, &detail).await?.map(|c| c.url).unwrap_or_default();
            lambda
                .delete_function_url_config()
                .function_name(&detail.arn)
                .send()
                .await
                .map_err(failed("DeleteFunctionUrlConfig"))?;
            url
        }
        Expired::Switched => lambda
            .update_function_url_config()
            .function_name(&detail.arn)
            .auth_type(FunctionUrlAuthType::AwsIam)
            .send()
            .await
            .map(|out| out.function_url().to_owned())
            .map_err(failed("UpdateFunctionUrlConfig"))?,
    };
    let removed = remove_public_statements(&lambda, &detail).await?;
    match action {
        Expired::Deleted => record_url(pool, &detail, None).await?,
        Expired::Switched => record_url(pool, &detail, Some((&url, "AWS_IAM"))).await?,
    }
    sqlx::query!(
        "update catalog_function
         set url_expires_at = null, url_expired_at = now(), url_expired_action = $2
         where function_id = $1",
        function_id,
        action.as_str()
    )
    .execute(pool)
    .await?;
    audited(
        pool,
        &Actor::system(),
        &detail,
        "function.expire_url",
        serde_json::json!({ "url": url, "action": action.as_str(), "statements_removed": removed }),
    )
    .await?;
    crate::governance::violations::refresh(
        pool,
        crate::governance::violations::Scope::Function(function_id),
    )
    .await;
    Ok(Some(action))
}

async fn clear(pool: &PgPool, function_id: Uuid) -> Result<()> {
    sqlx::query!(
        "update catalog_function set url_expires_at = null where function_id = $1",
        function_id
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// A public URL of one of the owner's functions switched off by its expiry, for the dashboard.
#[derive(Clone, Debug)]
pub struct ExpiredUrl {
    pub function_id: Uuid,
    pub name: String,
    pub action: String,
    pub at: OffsetDateTime,
}

/// The public URLs of `owner_id`'s functions (everyone's when `None`) switched off by their
/// expiry in the last week, newest first.
pub async fn recently_expired(pool: &PgPool, owner_id: Option<Uuid>) -> Result<Vec<ExpiredUrl>> {
    Ok(sqlx::query_as!(
        ExpiredUrl,
        r#"select function_id, name, url_expired_action as "action!", url_expired_at as "at!"
           from catalog_function
           where url_expired_at > now() - interval '7 days' and archived_at is null
             and ($1::uuid is null or owner_id = $1)
           order by url_expired_at desc limit 20"#,
        owner_id
    )
    .fetch_all(pool)
    .await?)
}
