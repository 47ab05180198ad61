//! The ledger and the step protocol: `begin` (the run marked pending, a `creating` row per
//! resource about to exist), the cloud calls, `finish` (rows `present`, the step recorded, the audit
//! event); `roll_back` on failure and `recover` after a crash.

use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::audit::{self, Actor};
use crate::connections::{self, Connection};
use crate::error::{Error, Result};

use super::model::*;
use super::resources::*;

/// The ledger of a run or a function (deleted entries included), in deletion order.
pub async fn ledger(pool: &PgPool, scope: Scope) -> Result<Vec<Entry>> {
    let (run, function) = match scope {
        Scope::Run(id) => (Some(id), None),
        Scope::Function(id) => (None, Some(id)),
    };
    let rows = sqlx::query!(
        r#"select l.ledger_entry_id, l.lab_run_id, l.function_id, l.connection_id, l.region, l.mark,
                  l.kind, l.name, l.parent, l.state as "state: ::model::LedgerState", a.email as "owner?", l.error, l.created_at, l.deleted_at
           from ledger_entry l left join account a on a.account_id = l.owner_id
           where ($1::uuid is not null and l.lab_run_id = $1) or ($2::uuid is not null and l.function_id = $2)
           order by l.created_at"#,
        run,
        function
    )
    .fetch_all(pool)
    .await?;
    let mut entries = rows
        .into_iter()
        .map(|r| {
            Ok(Entry {
                ledger_entry_id: r.ledger_entry_id,
                lab_run_id: r.lab_run_id,
                function_id: r.function_id,
                connection_id: r.connection_id,
                region: r.region,
                mark: r.mark,
                kind: r.kind.parse()?,
                name: r.name,
                parent: r.parent,
                state: r.state,
                owner: r.owner,
                error: r.error,
                created_at: r.created_at,
                deleted_at: r.deleted_at,
            })
        })
        .collect::<Result<Vec<Entry>>>()?;
    entries.sort_by_key(|e| e.kind);
    Ok(entries)
}

/// A resource a step is about to create.
pub(super) struct Intent {
    pub(super) kind: Kind,
    pub(super) name: String,
    pub(super) parent: Option<String>,
}

/// Marks the run pending at `step` and writes a `creating` row for each intent, in one
/// transaction. Refuses while another step of the run is in flight.
pub(super) async fn begin(
    pool: &PgPool,
    run: &Run,
    step: i16,
    intents: &[Intent],
) -> Result<Vec<Uuid>> {
    let mut tx = pool.begin().await?;
    let marked = sqlx::query_scalar!(
        "update lab_run set pending_step = $2, pending_since = now(), pending_holder = $3
         where lab_run_id = $1 and pending_step is null and status <> 'cleaned_up' and step >= $2
         returning lab_run_id",
        run.lab_run_id,
        step,
        crate::leases::process_id()
    )
    .fetch_optional(&mut *tx)
    .await?;
    if marked.is_none() {
        return Err(Error::Conflict(
            "another step of this lab run is in progress (or the run is cleaned up); reload the page"
                .into(),
        ));
    }
    let mut ids = Vec::with_capacity(intents.len());
    for intent in intents {
        ids.push(
            sqlx::query_scalar!(
                "insert into ledger_entry (lab_run_id, function_id, connection_id, region, owner_id, kind, name, parent, mark)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $1) returning ledger_entry_id",
                run.lab_run_id,
                run.function_id,
                run.connection_id,
                run.region,
                run.account_id,
                intent.kind.as_str(),
                intent.name,
                intent.parent
            )
            .fetch_one(&mut *tx)
            .await?,
        );
    }
    tx.commit().await?;
    Ok(ids)
}

/// What a step records when it finishes.
pub(super) struct Finish<'a> {
    pub(super) step: i16,
    pub(super) next: i16,
    pub(super) settings: &'a Settings,
    /// The ledger rows `begin` wrote for the step.
    pub(super) entries: &'a [Uuid],
    /// The function the step created, when it created one.
    pub(super) function: Option<(&'a str, Uuid)>,
    pub(super) action: &'a str,
    pub(super) detail: serde_json::Value,
}

impl<'a> Finish<'a> {
    /// `step` is done and the learner moves on to the next one; it created nothing.
    pub(super) fn step(
        step: i16,
        settings: &'a Settings,
        action: &'a str,
        detail: serde_json::Value,
    ) -> Self {
        Self { step, next: step + 1, settings, entries: &[], function: None, action, detail }
    }
}

/// Records a finished step: its ledger rows present, the settings, the next step, the audit event.
pub(super) async fn finish(
    pool: &PgPool,
    actor: &Actor,
    run: &Run,
    done: Finish<'_>,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    let function_id = done.function.map(|(_, id)| id).or(run.function_id);
    sqlx::query!(
        "update ledger_entry set state = 'present', function_id = coalesce(function_id, $2)
         where ledger_entry_id = any($1) and state = 'creating'",
        done.entries,
        function_id
    )
    .execute(&mut *tx)
    .await?;
    if let Some((name, id)) = done.function {
        sqlx::query!(
            "update lab_run set function_name = $2, function_id = $3 where lab_run_id = $1",
            run.lab_run_id,
            name,
            id
        )
        .execute(&mut *tx)
        .await?;
    }
    // Still ours: had this process stalled past its lease, another would have rolled the step
    // back, and recording it now would claim resources that are gone.
    let held = sqlx::query_scalar!(
        r#"update lab_run set settings = $2, step = greatest(step, $3), pending_step = null,
                pending_since = null, pending_holder = null
           where lab_run_id = $1 and pending_step = $4 and pending_holder = $5
           returning 1 as "held!""#,
        run.lab_run_id,
        serde_json::to_value(done.settings).map_err(anyhow::Error::from)?,
        done.next,
        done.step,
        crate::leases::process_id()
    )
    .fetch_optional(&mut *tx)
    .await?;
    if held.is_none() {
        return Err(Error::Conflict(format!(
            "step {} was interrupted and rolled back while it ran; confirm it again",
            done.step
        )));
    }
    audit::record(
        &mut tx,
        actor,
        done.action,
        &format!("lab:{}", run.lab_run_id),
        serde_json::json!({ "step": done.step, "detail": done.detail }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Undoes `step` of a run, failed or interrupted: every `creating` resource of the run that
/// exists is deleted (and verified gone), its row removed, the pending mark cleared, and the
/// failure recorded with what was rolled back.
pub(super) async fn roll_back(
    pool: &PgPool,
    connection: &Connection,
    lab_run_id: Uuid,
    step: i16,
    why: &str,
) -> Result<()> {
    let mut undone = Vec::new();
    for entry in ledger(pool, Scope::Run(lab_run_id))
        .await?
        .iter()
        .filter(|e| e.state == LedgerState::Creating)
    {
        match delete_and_verify(connection, entry).await {
            Ok(Deletion::Deleted) => undone.push(format!("{} {}", entry.kind.label(), entry.name)),
            Ok(Deletion::AlreadyGone | Deletion::NotOurs(_)) => {}
            Err(error) => {
                // Kept as a present row so cleanup still knows about it.
                sqlx::query!(
                    "update ledger_entry set state = 'present', error = $2 where ledger_entry_id = $1",
                    entry.ledger_entry_id,
                    error
                )
                .execute(pool)
                .await?;
                continue;
            }
        }
        sqlx::query!("delete from ledger_entry where ledger_entry_id = $1", entry.ledger_entry_id)
            .execute(pool)
            .await?;
    }
    let message = if undone.is_empty() {
        why.to_owned()
    } else {
        format!("{why}; rolled back: {}", undone.join(", "))
    };
    sqlx::query!(
        "update lab_run set pending_step = null, pending_since = null, pending_holder = null,
                failures = failures + 1, last_failure = $2, failure_resolved = false
         where lab_run_id = $1",
        lab_run_id,
        format!("step {step}: {message}")
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Reconciles runs whose pending step nobody is running any more, as the console process `me`:
/// a step held by a process that stopped (its lease is gone or expired, or it ran on this machine
/// and is not running now), or one of `me`'s own
/// pending longer than [`STALE_AFTER`]. A step another live process holds is never touched.
/// Whatever the step created is rolled back, so the learner confirms it again. Each run is
/// claimed first (compare-and-set on its holder), so two processes never roll back the same step.
/// Returns the number of runs recovered.
#[tracing::instrument(skip(pool))]
pub async fn recover(pool: &PgPool, me: Uuid) -> Result<usize> {
    // `me` is alive while it recovers: a run it claims must not look abandoned to the others.
    crate::leases::heartbeat(pool, me).await?;
    crate::leases::reap_stopped_here(pool).await?;
    let cutoff = OffsetDateTime::now_utc()
        - time::Duration::try_from(STALE_AFTER).map_err(anyhow::Error::from)?;
    let pending = sqlx::query!(
        r#"select r.lab_run_id, r.connection_id, r.pending_step as "step!", r.pending_holder,
                  r.pending_since as "since!"
           from lab_run r
           where r.pending_step is not null
             and case when r.pending_holder = $1 then r.pending_since <= $2
                      else not exists (select 1 from lease l
                                       where l.name = 'process:' || r.pending_holder::text
                                         and l.expires_at > now())
                 end"#,
        me,
        cutoff
    )
    .fetch_all(pool)
    .await?;
    let mut recovered = 0;
    for run in &pending {
        let claimed = sqlx::query_scalar!(
            r#"update lab_run set pending_holder = $2, pending_since = now()
               where lab_run_id = $1 and pending_step is not null
                 and pending_holder is not distinct from $3 and pending_since = $4
               returning 1 as "claimed!""#,
            run.lab_run_id,
            me,
            run.pending_holder,
            run.since
        )
        .fetch_optional(pool)
        .await?;
        if claimed.is_none() {
            continue; // another process claimed it first
        }
        let connection = connections::get(pool, run.connection_id).await?;
        let step = run.step;
        let why = format!("interrupted (the server stopped during step {step}); confirm it again");
        roll_back(pool, &connection, run.lab_run_id, step, &why).await?;
        recovered += 1;
    }
    Ok(recovered)
}

/// Runs a step's cloud calls; on failure rolls back what they created, records the failure and
/// returns the error.
pub(super) async fn act<T>(
    pool: &PgPool,
    connection: &Connection,
    run: &Run,
    step: i16,
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    match work.await {
        Ok(value) => Ok(value),
        Err(error) => {
            roll_back(pool, connection, run.lab_run_id, step, &error.to_string()).await?;
            Err(error)
        }
    }
}

/// Deletes one ledger resource and records the outcome on its row.
pub(super) async fn remove_entry(
    pool: &PgPool,
    connection: &Connection,
    entry: &Entry,
) -> Result<bool> {
    match delete_and_verify(connection, entry).await {
        Ok(deletion) => {
            let note = match deletion {
                Deletion::NotOurs(why) => Some(why),
                Deletion::Deleted | Deletion::AlreadyGone => None,
            };
            sqlx::query!(
                "update ledger_entry set state = 'deleted', deleted_at = now(), error = $2
                 where ledger_entry_id = $1",
                entry.ledger_entry_id,
                note
            )
            .execute(pool)
            .await?;
            Ok(true)
        }
        Err(error) => {
            sqlx::query!(
                "update ledger_entry set error = $2 where ledger_entry_id = $1",
                entry.ledger_entry_id,
                error
            )
            .execute(pool)
            .await?;
            Ok(false)
        }
    }
}
