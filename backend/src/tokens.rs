//! Personal access tokens for the REST API: made and revoked by their owner, shown once, kept only
//! as a SHA-256 hash.

use rand::distributions::{Alphanumeric, DistString};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::accounts::Account;
use crate::audit::{self, Actor};
use crate::error::{Error, Result};

/// What every token starts with, so a leaked one is recognisable (and scanners can find it).
pub const TOKEN_PREFIX: &str = "lpat_";

/// A token as its owner sees it in their profile (never the secret).
#[derive(Clone, Debug)]
pub struct Token {
    pub api_token_id: Uuid,
    pub name: String,
    /// The first characters of the token, to tell tokens apart.
    pub prefix: String,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

fn digest(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Makes a token for `account`; returns it with the secret, which is never shown again.
pub async fn create(
    pool: &PgPool,
    actor: &Actor,
    account: &Account,
    name: &str,
) -> Result<(Token, String)> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(Error::invalid("name", "give the token a name of 1–64 characters"));
    }
    let secret =
        format!("{TOKEN_PREFIX}{}", Alphanumeric.sample_string(&mut rand::rngs::OsRng, 32));
    let prefix: String = secret.chars().take(TOKEN_PREFIX.len() + 4).collect();
    let mut tx = pool.begin().await?;
    let token = sqlx::query_as!(
        Token,
        "insert into api_token (account_id, name, prefix, token_hash) values ($1, $2, $3, $4)
         returning api_token_id, name, prefix, created_at, last_used_at, revoked_at",
        account.account_id,
        name,
        prefix,
        digest(&secret)
    )
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        "token.create",
        &format!("account:{}", account.email),
        serde_json::json!({ "name": name, "prefix": prefix }),
    )
    .await?;
    tx.commit().await?;
    Ok((token, secret))
}

/// The tokens of an account, newest first, revoked ones included.
pub async fn list(pool: &PgPool, account_id: Uuid) -> Result<Vec<Token>> {
    Ok(sqlx::query_as!(
        Token,
        "select api_token_id, name, prefix, created_at, last_used_at, revoked_at
         from api_token where account_id = $1 order by created_at desc",
        account_id
    )
    .fetch_all(pool)
    .await?)
}

/// Revokes one of the account's own tokens. Revoking twice is not an error.
pub async fn revoke(
    pool: &PgPool,
    actor: &Actor,
    account: &Account,
    api_token_id: Uuid,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    let prefix = sqlx::query_scalar!(
        "update api_token set revoked_at = coalesce(revoked_at, now())
         where api_token_id = $1 and account_id = $2 returning prefix",
        api_token_id,
        account.account_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotFound("token"))?;
    audit::record(
        &mut tx,
        actor,
        "token.revoke",
        &format!("account:{}", account.email),
        serde_json::json!({ "prefix": prefix }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The account a live token belongs to, or `Unauthorized`. Marks the token used, at most once a
/// minute: an API call should not cost a write.
pub async fn authenticate(pool: &PgPool, secret: &str) -> Result<Account> {
    const REFUSED: Error = Error::Unauthorized("the token is unknown or revoked");
    if !secret.starts_with(TOKEN_PREFIX) {
        return Err(REFUSED);
    }
    let account_id = sqlx::query_scalar!(
        r#"with live as (
               select api_token_id, account_id, last_used_at from api_token
               where token_hash = $1 and revoked_at is null
           ), used as (
               update api_token t set last_used_at = now() from live
               where t.api_token_id = live.api_token_id
                 and (live.last_used_at is null or live.last_used_at < now() - interval '1 minute')
           )
           select account_id as "account_id!" from live"#,
        digest(secret)
    )
    .fetch_optional(pool)
    .await?
    .ok_or(REFUSED)?;
    crate::accounts::get_account(pool, account_id).await?.ok_or(REFUSED)
}
