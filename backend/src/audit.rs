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
