//! Who may read and who may change a function. Pages, server functions, the REST API and the
//! upload handler all ask here (`readable`, `editable`), so the rule is written once.

use sqlx::PgPool;
use uuid::Uuid;

use crate::connections::Connection;
use crate::error::{Error, Result};

use super::records::*;

/// The function, if `account` may see it; one it may not see is "not found", as if it did not
/// exist.
pub async fn readable(
    pool: &PgPool,
    account: &crate::accounts::Account,
    function_id: Uuid,
) -> Result<Detail> {
    let detail = detail(pool, function_id).await?;
    if may_read(pool, account, &detail).await? {
        Ok(detail)
    } else {
        Err(Error::NotFound("function"))
    }
}

/// The function and its connection, if `account` may change it (else `Forbidden`, or "not found"
/// when it may not even see it).
pub async fn editable(
    pool: &PgPool,
    account: &crate::accounts::Account,
    function_id: Uuid,
) -> Result<(Detail, Connection)> {
    let detail = readable(pool, account, function_id).await?;
    if !may_edit(pool, account, &detail).await? {
        return Err(Error::Forbidden);
    }
    let connection = crate::connections::get(pool, detail.connection_id).await?;
    Ok((detail, connection))
}

/// Whether `account` may change the function: admins always; others when they own it or are in
/// its team; learners only their own.
pub async fn may_edit(
    pool: &PgPool,
    account: &crate::accounts::Account,
    detail: &Detail,
) -> Result<bool> {
    use crate::accounts::Role;
    if account.role == Role::Admin || detail.owner_id == Some(account.account_id) {
        return Ok(true);
    }
    if account.role == Role::Learner {
        return Ok(false);
    }
    in_team(pool, detail.team_id, account.account_id).await
}

/// Whether `account` may see the function: everyone, unless an admin restricted the catalog;
/// then admins, the owner and the owner's team.
pub async fn may_read(
    pool: &PgPool,
    account: &crate::accounts::Account,
    detail: &Detail,
) -> Result<bool> {
    if reader_scope(pool, account).await?.is_none() || detail.owner_id == Some(account.account_id) {
        return Ok(true);
    }
    in_team(pool, detail.team_id, account.account_id).await
}

/// The account whose functions `account` is limited to when listing the catalog: `None` when the
/// catalog is open or the account is an admin.
pub async fn reader_scope(
    pool: &PgPool,
    account: &crate::accounts::Account,
) -> Result<Option<Uuid>> {
    if account.role == crate::accounts::Role::Admin {
        return Ok(None);
    }
    Ok(crate::settings::catalog_restricted(pool).await?.then_some(account.account_id))
}

/// Whether the account is a member of the team (none when there is no team).
pub async fn in_team(pool: &PgPool, team_id: Option<Uuid>, account_id: Uuid) -> Result<bool> {
    let Some(team_id) = team_id else { return Ok(false) };
    Ok(sqlx::query_scalar!(
        r#"select exists(select 1 from team_member where team_id = $1 and account_id = $2) as "member!""#,
        team_id,
        account_id
    )
    .fetch_one(pool)
    .await?)
}
