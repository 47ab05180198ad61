//! AWS's runtime deprecation calendar, as data: shipped by a migration (with its source and the
//! date it was checked) and updatable by admins when AWS moves a date, which it does.

use sqlx::PgPool;
use time::Date;

use crate::audit::{self, Actor};
use crate::error::{Error, Result};

/// One runtime's path out: deprecated (no more patches), then phase 1 (no new functions), then
/// phase 2 (no updates). Invocations are never blocked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deprecation {
    pub runtime: String,
    pub deprecated_on: Date,
    pub block_create_on: Option<Date>,
    pub block_update_on: Option<Date>,
    pub source: String,
    pub checked_on: Date,
}

/// Where a runtime is on its path on `today`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Supported; a deprecation date is announced.
    Announced,
    /// Deprecated: no security patches, but functions can still be created and updated.
    Deprecated,
    /// Phase 1: AWS refuses new functions on it.
    NoCreate,
    /// Phase 2: AWS refuses updates too.
    NoUpdate,
}

impl Phase {
    /// The phase in words, for the calendar.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Announced => "supported; deprecation announced",
            Self::Deprecated => "deprecated: no security patches",
            Self::NoCreate => "phase 1: no new functions",
            Self::NoUpdate => "phase 2: no new functions, no updates",
        }
    }
}

impl Deprecation {
    pub fn phase(&self, today: Date) -> Phase {
        let passed = |d: Option<Date>| d.is_some_and(|d| d <= today);
        if passed(self.block_update_on) {
            Phase::NoUpdate
        } else if passed(self.block_create_on) {
            Phase::NoCreate
        } else if self.deprecated_on <= today {
            Phase::Deprecated
        } else {
            Phase::Announced
        }
    }
}

/// The whole calendar, by runtime.
pub async fn list(pool: &PgPool) -> Result<Vec<Deprecation>> {
    Ok(sqlx::query_as!(
        Deprecation,
        "select runtime, deprecated_on, block_create_on, block_update_on, source, checked_on
         from runtime_deprecation order by deprecated_on, runtime"
    )
    .fetch_all(pool)
    .await?)
}

/// Adds a runtime to the calendar or moves its dates (an admin's action, audited).
pub async fn save(pool: &PgPool, actor: &Actor, entry: &Deprecation) -> Result<()> {
    let runtime = entry.runtime.trim();
    if runtime.is_empty()
        || runtime.len() > 40
        || !runtime.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    {
        return Err(Error::invalid("runtime", "a runtime identifier such as python3.12"));
    }
    if entry.block_create_on.is_some_and(|d| d < entry.deprecated_on)
        || entry
            .block_update_on
            .is_some_and(|d| d < entry.block_create_on.unwrap_or(entry.deprecated_on))
    {
        return Err(Error::invalid(
            "block_create_on",
            "the dates go in order: deprecation, then no new functions, then no updates",
        ));
    }
    if entry.source.trim().is_empty() {
        return Err(Error::invalid("source", "say where the dates come from"));
    }
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "insert into runtime_deprecation
             (runtime, deprecated_on, block_create_on, block_update_on, source, checked_on)
         values ($1, $2, $3, $4, $5, $6)
         on conflict (runtime) do update set deprecated_on = excluded.deprecated_on,
             block_create_on = excluded.block_create_on, block_update_on = excluded.block_update_on,
             source = excluded.source, checked_on = excluded.checked_on",
        runtime,
        entry.deprecated_on,
        entry.block_create_on,
        entry.block_update_on,
        entry.source.trim(),
        entry.checked_on,
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        "save_runtime_deprecation",
        &format!("runtime:{runtime}"),
        serde_json::json!({
            "deprecated_on": entry.deprecated_on.to_string(),
            "block_create_on": entry.block_create_on.map(|d| d.to_string()),
            "block_update_on": entry.block_update_on.map(|d| d.to_string()),
            "source": entry.source.trim(),
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn date(y: i32, m: u8, d: u8) -> Date {
        Date::from_calendar_date(y, m.try_into().expect("a month"), d).expect("a date")
    }

    #[test]
    fn a_runtime_moves_through_its_phases_on_their_dates() {
        let python39 = Deprecation {
            runtime: "python3.9".into(),
            deprecated_on: date(2025, 12, 15),
            block_create_on: Some(date(2026, 8, 31)),
            block_update_on: Some(date(2026, 9, 30)),
            source: "AWS".into(),
            checked_on: date(2026, 7, 15),
        };
        assert_eq!(python39.phase(date(2025, 12, 14)), Phase::Announced);
        assert_eq!(python39.phase(date(2025, 12, 15)), Phase::Deprecated);
        assert_eq!(python39.phase(date(2026, 8, 31)), Phase::NoCreate);
        assert_eq!(python39.phase(date(2026, 10, 1)), Phase::NoUpdate);
        let ruby = Deprecation { block_create_on: None, block_update_on: None, ..python39 };
        assert_eq!(ruby.phase(date(2030, 1, 1)), Phase::Deprecated, "no block announced");
    }
}
