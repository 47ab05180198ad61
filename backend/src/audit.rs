//! The audit trail: who changed what, from where. Events are written in the transaction of the
//! change they describe, so a change without its event cannot be committed.

use std::net::IpAddr;

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::Result;

/// Who is acting: a signed-in account from an address, or the system itself (the command line,
/// first start).
#[derive(Clone, Copy, Debug, Default)]
pub struct Actor {
    pub account_id: Option<Uuid>,
    pub source_ip: Option<IpAddr>,
}

impl Actor {
    pub fn account(account_id: Uuid, source_ip: Option<IpAddr>) -> Self {
        Self { account_id: Some(account_id), source_ip }
    }

    pub fn system() -> Self {
        Self::default()
    }
}

/// Writes one audit event inside the caller's transaction.
pub async fn record(
    conn: &mut PgConnection,
    actor: &Actor,
    action: &str,
    target: &str,
    detail: serde_json::Value,
) -> Result<()> {
    sqlx::query!(
        "insert into audit_event (actor_id, action, target, detail, source_ip)
         values ($1, $2, $3, $4, $5::text::inet)",
        actor.account_id,
        action,
        target,
        detail,
        actor.source_ip.map(|ip| ip.to_string()),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// One line of the audit trail, as shown to people.
#[derive(Clone, Debug)]
pub struct AuditEvent {
    pub actor_email: Option<String>,
    pub action: String,
    pub target: String,
    pub created_at: OffsetDateTime,
}

/// The newest events first.
pub async fn list_recent(pool: &PgPool, limit: i64) -> Result<Vec<AuditEvent>> {
    Ok(sqlx::query_as!(
        AuditEvent,
        r#"select a.email as "actor_email?", e.action, e.target, e.created_at
           from audit_event e left join account a on a.account_id = e.actor_id
           order by e.created_at desc, e.audit_event_id desc
           limit $1"#,
        limit
    )
    .fetch_all(pool)
    .await?)
}

/// The events about one target (e.g. `function:orders-api`), newest first.
pub async fn list_for_target(pool: &PgPool, target: &str, limit: i64) -> Result<Vec<AuditEvent>> {
    Ok(sqlx::query_as!(
        AuditEvent,
        r#"select a.email as "actor_email?", e.action, e.target, e.created_at
           from audit_event e left join account a on a.account_id = e.actor_id
           where e.target = $1
           order by e.created_at desc, e.audit_event_id desc
           limit $2"#,
        target,
        limit
    )
    .fetch_all(pool)
    .await?)
}

/// What the Audit page filters on; every field optional.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// The actor's email, or `system`.
    pub actor: Option<String>,
    /// An action or its prefix (`function.` for every function action).
    pub action: Option<String>,
    /// Text the target contains.
    pub target: Option<String>,
    pub since: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
}

/// A full audit event, for the page and the exports.
#[derive(Clone, Debug)]
pub struct Entry {
    pub id: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: serde_json::Value,
    pub source_ip: Option<String>,
    pub at: OffsetDateTime,
}

/// The newest events matching `filter`, older than the event id `before` (keyset), at most
/// `limit`.
pub async fn search(
    pool: &PgPool,
    filter: &Filter,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Entry>> {
    let actor = filter.actor.as_deref().map(str::trim).filter(|a| !a.is_empty());
    Ok(sqlx::query_as!(
        Entry,
        r#"select e.audit_event_id as id, coalesce(a.email, 'system') as "actor!", e.action, e.target,
                  e.detail, host(e.source_ip) as source_ip, e.created_at as at
           from audit_event e left join account a on a.account_id = e.actor_id
           where ($1::text is null or coalesce(a.email, 'system') = lower($1))
             and ($2::text is null or e.action like $2 || '%')
             and ($3::text is null or e.target ilike '%' || $3 || '%')
             and ($4::timestamptz is null or e.created_at >= $4)
             and ($5::timestamptz is null or e.created_at < $5)
             and ($6::bigint is null or e.audit_event_id < $6)
           order by e.audit_event_id desc
           limit $7"#,
        actor,
        filter.action.as_deref().map(str::trim).filter(|a| !a.is_empty()),
        filter.target.as_deref().map(str::trim).filter(|t| !t.is_empty()),
        filter.since,
        filter.until,
        before,
        limit
    )
    .fetch_all(pool)
    .await?)
}

impl TryFrom<&model::AuditFilters> for Filter {
    type Error = crate::Error;

    /// The Audit page's (or the REST API's) filters.
    fn try_from(f: &model::AuditFilters) -> Result<Self> {
        Self::from_text(
            f.actor.as_deref(),
            f.action.as_deref(),
            f.target.as_deref(),
            f.since.as_deref(),
            f.until.as_deref(),
        )
    }
}

impl Filter {
    /// A filter from the page's text fields; days are `YYYY-MM-DD` (UTC), `until` inclusive.
    pub fn from_text(
        actor: Option<&str>,
        action: Option<&str>,
        target: Option<&str>,
        since: Option<&str>,
        until: Option<&str>,
    ) -> Result<Self> {
        let day = |field: &'static str, text: Option<&str>| -> Result<Option<OffsetDateTime>> {
            let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else { return Ok(None) };
            let invalid = || crate::Error::invalid(field, "write a day as YYYY-MM-DD");
            let parts: Vec<&str> = text.split('-').collect();
            let [y, m, d] = parts[..] else { return Err(invalid()) };
            let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i32>(), m.parse::<u8>(), d.parse::<u8>()) else {
                return Err(invalid());
            };
            let month = time::Month::try_from(m).map_err(|_| invalid())?;
            let date = time::Date::from_calendar_date(y, month, d).map_err(|_| invalid())?;
            Ok(Some(date.midnight().assume_utc()))
        };
        let own = |t: Option<&str>| t.map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned);
        Ok(Self {
            actor: own(actor),
            action: own(action),
            target: own(target),
            since: day("since", since)?,
            until: day("until", until)?.map(|d| d + time::Duration::days(1)),
        })
    }
}
