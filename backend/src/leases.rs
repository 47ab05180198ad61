//! Leases: what one console process does at a time when several share a database. A lease is a
//! named row with a holder and an expiry; the holder renews it, anyone may take it once it has
//! expired. Each process holds `process:<id>` while it runs (renewed by its background loop), so
//! others can tell its in-flight lab steps from ones a stopped process left behind; background
//! jobs (the sweeper, the reconciler) each hold a lease so only one process runs them. A process
//! lease also says where its holder runs, so a console restarted on the same machine ends the
//! lease of one that was killed at once (`reap_stopped_here`) rather than after [`PROCESS_TTL`].

use std::sync::LazyLock;
use std::time::Duration;

use sqlx::PgPool;
use uuid::Uuid;

use crate::error::Result;

/// How long a process's lease lasts without renewal; renew well within it.
pub const PROCESS_TTL: Duration = Duration::from_secs(60);

static PROCESS_ID: LazyLock<Uuid> = LazyLock::new(Uuid::new_v4);

/// This console process's identity, as lease holder and as the holder of its lab steps.
pub fn process_id() -> Uuid {
    *PROCESS_ID
}

/// The name of `holder`'s process lease.
pub fn process_lease(holder: Uuid) -> String {
    format!("process:{holder}")
}

fn interval(ttl: Duration) -> sqlx::postgres::types::PgInterval {
    sqlx::postgres::types::PgInterval {
        months: 0,
        days: 0,
        microseconds: i64::try_from(ttl.as_micros()).unwrap_or(i64::MAX),
    }
}

/// Takes or renews the lease `name` for `ttl`: true when `holder` holds it now (it was free,
/// expired, or already `holder`'s), false while another holder's lease runs.
pub async fn take(pool: &PgPool, name: &str, holder: Uuid, ttl: Duration) -> Result<bool> {
    Ok(sqlx::query_scalar!(
        r#"insert into lease (name, holder, expires_at) values ($1, $2, now() + $3::interval)
           on conflict (name) do update set holder = excluded.holder, expires_at = excluded.expires_at
           where lease.holder = excluded.holder or lease.expires_at <= now()
           returning 1 as "taken!""#,
        name,
        holder,
        interval(ttl)
    )
    .fetch_optional(pool)
    .await?
    .is_some())
}

/// Gives the lease `name` up, if `holder` has it.
pub async fn release(pool: &PgPool, name: &str, holder: Uuid) -> Result<()> {
    sqlx::query!("delete from lease where name = $1 and holder = $2", name, holder)
        .execute(pool)
        .await?;
    Ok(())
}

/// Says `holder`'s process (this one) is alive for another [`PROCESS_TTL`], and where it runs.
pub async fn heartbeat(pool: &PgPool, holder: Uuid) -> Result<()> {
    let name = process_lease(holder);
    take(pool, &name, holder, PROCESS_TTL).await?;
    sqlx::query!(
        "update lease set local_process = $3 where name = $1 and holder = $2",
        name,
        holder,
        local_identity()
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// This process as the machine knows it: `<boot id>:<pid namespace>:<pid>:<start time>` (the
/// start time tells a reused pid apart).
fn local_identity() -> Option<String> {
    let pid = std::process::id();
    Some(format!("{}:{pid}:{}", machine_scope()?, start_time(pid)?))
}

/// `<boot id>:<pid namespace>`: where pids mean the same as they do for this process.
fn machine_scope() -> Option<String> {
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let namespace = std::fs::read_link("/proc/self/ns/pid").ok()?;
    Some(format!("{}:{}", boot.trim(), namespace.to_string_lossy()))
}

/// A process's start time in clock ticks after boot (`/proc/<pid>/stat`, field 22).
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from its closing one.
    stat.rsplit_once(')')?.1.split_whitespace().nth(19)?.parse().ok()
}

/// Ends the process leases of consoles that ran on this machine, in this pid namespace, and are
/// not running any more (killed, crashed): their pending lab steps may be recovered now. Returns
/// how many were ended.
pub async fn reap_stopped_here(pool: &PgPool) -> Result<usize> {
    let Some(scope) = machine_scope() else { return Ok(0) };
    let prefix = format!("{scope}:");
    let leases = sqlx::query!(
        r#"select name, local_process as "local_process!" from lease
           where name like 'process:%' and starts_with(local_process, $1)"#,
        prefix
    )
    .fetch_all(pool)
    .await?;
    let mut reaped = 0;
    for lease in leases {
        let mut parts = lease.local_process[prefix.len()..].split(':');
        let (Some(Ok(pid)), Some(Ok(started))) =
            (parts.next().map(str::parse::<u32>), parts.next().map(str::parse::<u64>))
        else {
            continue;
        };
        if start_time(pid) != Some(started) {
            sqlx::query!(
                "delete from lease where name = $1 and local_process = $2",
                lease.name,
                lease.local_process
            )
            .execute(pool)
            .await?;
            reaped += 1;
        }
    }
    Ok(reaped)
}

/// Says `holder`'s process has stopped: its pending lab steps may be recovered at once, and
/// the background jobs' leases it held are free.
pub async fn stopped(pool: &PgPool, holder: Uuid) -> Result<()> {
    sqlx::query!("delete from lease where holder = $1", holder).execute(pool).await?;
    Ok(())
}
