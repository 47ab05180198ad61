//! Hygiene reports for the platform team: which catalogued functions run on a runtime AWS has
//! deprecated or will deprecate within six months (with the phase and the next date), and which
//! functions nobody owns.

use sqlx::PgPool;
use time::{Date, OffsetDateTime};

use super::runtimes::Phase;
use crate::error::Result;

/// One runtime of the deprecation report.
#[derive(Clone, Debug)]
pub struct RuntimeReport {
    pub runtime: String,
    pub phase: Phase,
    /// The next date on its path (deprecation, no new functions, no updates), if one is ahead.
    pub next: Option<(&'static str, Date)>,
    /// Catalogued functions on it (tracked and shadows; not ghosts).
    pub functions: i64,
}

/// Runtimes in use that are deprecated, or will be within 180 days, most urgent first.
pub async fn deprecation_report(pool: &PgPool) -> Result<Vec<RuntimeReport>> {
    let today = OffsetDateTime::now_utc().date();
    let rows = sqlx::query!(
        r#"select d.runtime, d.deprecated_on, d.block_create_on, d.block_update_on, d.source,
                  d.checked_on, count(f.function_id) as "functions!"
           from runtime_deprecation d
           join catalog_function f on f.runtime = d.runtime
           where f.archived_at is null and f.gone_at is null
             and d.deprecated_on <= $1::date + 180
           group by d.runtime
           order by d.deprecated_on, d.runtime"#,
        today
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let entry = super::Deprecation {
                runtime: r.runtime,
                deprecated_on: r.deprecated_on,
                block_create_on: r.block_create_on,
                block_update_on: r.block_update_on,
                source: r.source,
                checked_on: r.checked_on,
            };
            let next = [
                ("deprecated", Some(entry.deprecated_on)),
                ("no new functions", entry.block_create_on),
                ("no updates", entry.block_update_on),
            ]
            .into_iter()
            .find_map(|(what, on)| on.filter(|d| *d > today).map(|d| (what, d)));
            RuntimeReport {
                phase: entry.phase(today),
                next,
                functions: r.functions,
                runtime: entry.runtime,
            }
        })
        .collect())
}

/// How many tracked functions have no owner, and the first 20 by name.
pub async fn unowned(pool: &PgPool) -> Result<(i64, Vec<(uuid::Uuid, String)>)> {
    let count = sqlx::query_scalar!(
        r#"select count(*) as "n!" from catalog_function
           where owner_id is null and tracked and archived_at is null and gone_at is null"#
    )
    .fetch_one(pool)
    .await?;
    let first = sqlx::query!(
        "select function_id, name from catalog_function
         where owner_id is null and tracked and archived_at is null and gone_at is null
         order by name, function_id limit 20"
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| (r.function_id, r.name))
    .collect();
    Ok((count, first))
}
