//! Exceptions to governance rules, with a trail: someone who may change a function asks for one
//! (a rule, a reason, how many hours); an approver — an admin, or when the setting says so a
//! member of the function's team — approves or rejects it with a comment, never their own
//! request; an approved exception lasts its hours, then the sweeper expires it. Every step is
//! audited, and the function is evaluated again at each.

use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::accounts::{Account, Role};
use crate::audit::{self, Actor};
use crate::error::{Error, Result};

use super::violations::{self, Scope};

/// Who may approve exceptions (the console setting `exception_approvers`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Approvers {
    /// Admins only (the default).
    #[default]
    Admins,
    /// Admins, and members of the function's team.
    Team,
}

impl Approvers {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admins => "admins",
            Self::Team => "team",
        }
    }

    pub fn parse(raw: &str) -> Result<Self> {
        match raw {
            "admins" => Ok(Self::Admins),
            "team" => Ok(Self::Team),
            _ => {
                Err(Error::invalid("approvers", "admins, or team (admins and the function's team)"))
            }
        }
    }
}

/// An exception as the Governance page and the function page show it.
#[derive(Clone, Debug)]
pub struct Exception {
    pub exception_id: Uuid,
    pub rule_id: Uuid,
    pub function_id: Uuid,
    pub function_name: String,
    pub requested_by: Option<String>,
    pub reason: String,
    pub hours: i32,
    /// `pending`, `approved`, `rejected`, `expired` or `withdrawn`.
    pub status: String,
    pub decided_by: Option<String>,
    pub comment: String,
    pub expires_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

/// The longest exception: 90 days.
pub const MAX_HOURS: i32 = 2160;

/// Asks for an exception to `rule_id` for a function `account` may change. Returns its id.
pub async fn request(
    pool: &PgPool,
    actor: &Actor,
    account: &Account,
    function_id: Uuid,
    rule_id: Uuid,
    reason: &str,
    hours: i32,
) -> Result<Uuid> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(Error::invalid("reason", "say why, in up to 500 characters"));
    }
    if !(1..=MAX_HOURS).contains(&hours) {
        return Err(Error::invalid("hours", format!("from 1 hour to {MAX_HOURS} (90 days)")));
    }
    let detail = crate::catalog::readable(pool, account, function_id).await?;
    if !crate::catalog::may_edit(pool, account, &detail).await? {
        return Err(Error::Forbidden);
    }
    let mut tx = pool.begin().await?;
    let id = sqlx::query_scalar!(
        "insert into rule_exception (rule_id, function_id, requested_by, reason, hours)
         values ($1, $2, $3, $4, $5) returning exception_id",
        rule_id,
        function_id,
        account.account_id,
        reason,
        hours
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => Error::Conflict(
            "this function already has an open request or a live exception for that rule".into(),
        ),
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => Error::NotFound("rule"),
        _ => Error::Database(e),
    })?;
    audit::record(
        &mut tx,
        actor,
        "exception.request",
        &format!("function:{}", detail.entry.name),
        serde_json::json!({ "exception_id": id, "rule_id": rule_id, "reason": reason, "hours": hours }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Approves or rejects a pending request, with a comment. Approving starts its hours.
pub async fn decide(
    pool: &PgPool,
    actor: &Actor,
    approver: &Account,
    exception_id: Uuid,
    approve: bool,
    comment: &str,
) -> Result<()> {
    let comment = comment.trim();
    if comment.chars().count() > 500 {
        return Err(Error::invalid("comment", "at most 500 characters"));
    }
    let mut tx = pool.begin().await?;
    let row = sqlx::query!(
        "select e.requested_by, e.status, e.hours, e.function_id, e.rule_id, f.team_id, f.name
         from rule_exception e join catalog_function f using (function_id)
         where e.exception_id = $1 for update of e",
        exception_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotFound("exception"))?;
    if row.status != "pending" {
        return Err(Error::Conflict(format!("this request was {} already", row.status)));
    }
    if row.requested_by == Some(approver.account_id) {
        return Err(Error::Refused("someone else must decide on your own request".into()));
    }
    let allowed = approver.role == Role::Admin
        || (approvers(pool).await? == Approvers::Team
            && approver.role == Role::Developer
            && crate::catalog::in_team(pool, row.team_id, approver.account_id).await?);
    if !allowed {
        return Err(Error::Forbidden);
    }
    let (status, expires_at) = if approve {
        ("approved", Some(OffsetDateTime::now_utc() + time::Duration::hours(i64::from(row.hours))))
    } else {
        ("rejected", None)
    };
    sqlx::query!(
        "update rule_exception set status = $2, decided_by = $3, decided_at = now(), comment = $4,
                expires_at = $5
         where exception_id = $1",
        exception_id,
        status,
        approver.account_id,
        comment,
        expires_at
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        if approve { "exception.approve" } else { "exception.reject" },
        &format!("function:{}", row.name),
        serde_json::json!({ "exception_id": exception_id, "rule_id": row.rule_id, "comment": comment,
                            "expires_at": expires_at.map(|at| at.unix_timestamp()) }),
    )
    .await?;
    tx.commit().await?;
    violations::refresh(pool, Scope::Function(row.function_id)).await;
    Ok(())
}

/// Expires approved exceptions whose hours are over, audited as the system's, and evaluates
/// their functions again. Returns how many expired.
pub async fn expire(pool: &PgPool) -> Result<usize> {
    let mut tx = pool.begin().await?;
    let expired = sqlx::query!(
        "update rule_exception e set status = 'expired'
         from catalog_function f
         where f.function_id = e.function_id and e.status = 'approved' and e.expires_at <= now()
         returning e.exception_id, e.function_id, e.rule_id, f.name"
    )
    .fetch_all(&mut *tx)
    .await?;
    for e in &expired {
        audit::record(
            &mut tx,
            &Actor::system(),
            "exception.expire",
            &format!("function:{}", e.name),
            serde_json::json!({ "exception_id": e.exception_id, "rule_id": e.rule_id }),
        )
        .await?;
    }
    tx.commit().await?;
    for e in &expired {
        violations::refresh(pool, Scope::Function(e.function_id)).await;
    }
    Ok(expired.len())
}

/// The rules each function has a live exception to, for the evaluator (on the connection the
/// evaluation holds: a second one from the pool, taken while holding the evaluation's lock, could
/// wait forever on evaluations that hold the rest of the pool while they wait for that lock).
pub async fn live(
    conn: &mut sqlx::PgConnection,
    function_id: Option<Uuid>,
) -> Result<Vec<(Uuid, Uuid)>> {
    Ok(sqlx::query!(
        "select function_id, rule_id from rule_exception
         where status = 'approved' and expires_at > now() and ($1::uuid is null or function_id = $1)",
        function_id
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.function_id, r.rule_id))
    .collect())
}

/// Requests and exceptions, newest first: open ones (pending and approved) or all (100).
pub async fn list(
    pool: &PgPool,
    open_only: bool,
    function_id: Option<Uuid>,
) -> Result<Vec<Exception>> {
    Ok(sqlx::query_as!(
        Exception,
        r#"select e.exception_id, e.rule_id, e.function_id, f.name as function_name,
                  r.email as "requested_by?", e.reason, e.hours, e.status, d.email as "decided_by?",
                  e.comment, e.expires_at, e.created_at
           from rule_exception e
           join catalog_function f using (function_id)
           left join account r on r.account_id = e.requested_by
           left join account d on d.account_id = e.decided_by
           where (not $1 or e.status in ('pending', 'approved'))
             and ($2::uuid is null or e.function_id = $2)
           order by e.created_at desc limit 100"#,
        open_only,
        function_id
    )
    .fetch_all(pool)
    .await?)
}

const APPROVERS: &str = "exception_approvers";

/// Who may approve exceptions.
pub async fn approvers(pool: &PgPool) -> Result<Approvers> {
    let value = sqlx::query_scalar!("select value from console_setting where key = $1", APPROVERS)
        .fetch_optional(pool)
        .await?;
    Ok(value.and_then(|v| v.as_str().and_then(|s| Approvers::parse(s).ok())).unwrap_or_default())
}

/// Sets who may approve exceptions (admins only; the caller checks), audited.
pub async fn set_approvers(pool: &PgPool, actor: &Actor, approvers: Approvers) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "insert into console_setting (key, value) values ($1, $2)
         on conflict (key) do update set value = excluded.value, updated_at = now()",
        APPROVERS,
        serde_json::json!(approvers.as_str())
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        "settings.exception_approvers",
        "console",
        serde_json::json!({ "approvers": approvers.as_str() }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
