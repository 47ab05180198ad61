//! The instructor board: every learner's runs, filtered by course tag, learner and status, sorted,
//! with how long each has been idle; and what an instructor does to a run (reset it, clean it
//! up), audited. One indexed read per refresh (`lab_run_created_idx`), at most [`BOARD_LIMIT`]
//! runs.

use std::str::FromStr;

use sqlx::PgPool;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::audit::{self, Actor};
use crate::error::{Error, Result};

use super::cleanup::clean_up;
use super::model::*;
use super::runs::*;

/// The most runs the board reads at once (newest first).
pub const BOARD_LIMIT: i64 = 500;

/// A run in progress with no step, call or check for this long is idle.
pub const IDLE_AFTER: Duration = Duration::minutes(10);

/// Which runs the board shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BoardStatus {
    #[default]
    Any,
    InProgress,
    /// In progress, and untouched for [`IDLE_AFTER`].
    Idle,
    /// In progress, with a problem not put right since.
    Stuck,
    Completed,
    CleanedUp,
}

impl BoardStatus {
    pub const ALL: [Self; 6] =
        [Self::Any, Self::InProgress, Self::Idle, Self::Stuck, Self::Completed, Self::CleanedUp];

    /// The name a form sends.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Any => "",
            Self::InProgress => "in_progress",
            Self::Idle => "idle",
            Self::Stuck => "stuck",
            Self::Completed => "completed",
            Self::CleanedUp => "cleaned_up",
        }
    }
}

impl FromStr for BoardStatus {
    type Err = Error;

    fn from_str(raw: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| Error::invalid("status", "unknown status; choose one from the list"))
    }
}

/// How the board is ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BoardSort {
    /// Newest first.
    #[default]
    Started,
    Learner,
    /// Furthest behind first.
    Step,
    /// Most failures first.
    Failures,
    /// Longest idle first.
    Idle,
}

impl BoardSort {
    pub const ALL: [Self; 5] =
        [Self::Started, Self::Learner, Self::Step, Self::Failures, Self::Idle];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Started => "started",
            Self::Learner => "learner",
            Self::Step => "step",
            Self::Failures => "failures",
            Self::Idle => "idle",
        }
    }
}

impl FromStr for BoardSort {
    type Err = Error;

    fn from_str(raw: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| Error::invalid("sort", "unknown order; choose one from the list"))
    }
}

/// What the board shows: the runs whose `course` tag is this one, whose learner's email contains
/// `learner` (any case), in `status`, ordered by `sort`.
#[derive(Clone, Debug, Default)]
pub struct BoardFilter {
    pub course: Option<String>,
    pub learner: Option<String>,
    pub status: BoardStatus,
    pub sort: BoardSort,
}

impl TryFrom<&::model::BoardFilters> for BoardFilter {
    type Error = Error;

    /// The Labs page's (or the export's) filters; empty ones mean "any".
    fn try_from(f: &::model::BoardFilters) -> Result<Self> {
        let text = |v: &Option<String>| {
            v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
        };
        Ok(Self {
            course: text(&f.course),
            learner: text(&f.learner),
            status: text(&f.status).map_or(Ok(BoardStatus::Any), |s| s.parse())?,
            sort: text(&f.sort).map_or(Ok(BoardSort::Started), |s| s.parse())?,
        })
    }
}

/// One run on the board.
#[derive(Clone, Debug)]
pub struct BoardRow {
    /// The run, without its settings.
    pub run: Run,
    /// Its `course` tag, if the learner gave one.
    pub course: Option<String>,
    /// Since its last step, call or check.
    pub idle: Duration,
}

impl BoardRow {
    /// In progress and untouched for [`IDLE_AFTER`].
    pub fn is_idle(&self) -> bool {
        self.run.status == RunStatus::InProgress && self.idle >= IDLE_AFTER
    }
}

/// The board's runs, as `filter` asks, at `now`.
pub async fn board(pool: &PgPool, filter: &BoardFilter) -> Result<Vec<BoardRow>> {
    let status = match filter.status {
        BoardStatus::CleanedUp => Some("cleaned_up"),
        BoardStatus::Completed => Some("completed"),
        BoardStatus::InProgress | BoardStatus::Idle | BoardStatus::Stuck => Some("in_progress"),
        BoardStatus::Any => None,
    };
    // Lists carry no wizard state but the tags, for the course.
    let rows = sqlx::query_as!(
        RunRow,
        r#"select r.lab_run_id, r.account_id, a.email, r.connection_id, c.name as connection,
                  r.region, r.function_name, r.function_id, r.step,
                  jsonb_build_object('tags', coalesce(r.settings->'tags', '{}'::jsonb)) as "settings!",
                  r.status as "status: ::model::RunStatus",
                  r.pending_step, r.pending_since, r.failures, r.last_failure, r.failure_resolved,
                  r.expires_at, r.created_at, r.updated_at
           from lab_run r
           join account a on a.account_id = r.account_id
           join connection c on c.connection_id = r.connection_id
           where r.kind = 'lab' and ($1::text is null or r.settings->'tags'->>'course' = $1)
             and ($2::text is null or strpos(lower(a.email), lower($2)) > 0)
             and ($3::text is null or r.status = $3)
           order by r.created_at desc
           limit $4"#,
        filter.course.as_deref(),
        filter.learner.as_deref(),
        status,
        BOARD_LIMIT
    )
    .fetch_all(pool)
    .await?;
    let now = OffsetDateTime::now_utc();
    let mut board: Vec<BoardRow> = rows
        .into_iter()
        .map(Run::from)
        .map(|run| BoardRow {
            idle: now - run.updated_at,
            course: run.settings.tags.get("course").cloned(),
            run,
        })
        .filter(|row| match filter.status {
            BoardStatus::Idle => row.is_idle(),
            BoardStatus::Stuck => row.run.last_failure.is_some() && !row.run.failure_resolved,
            _ => true,
        })
        .collect();
    match filter.sort {
        BoardSort::Started => {}
        BoardSort::Learner => board.sort_by(|a, b| a.run.email.cmp(&b.run.email)),
        BoardSort::Step => {
            board.sort_by_key(|row| (row.run.status != RunStatus::InProgress, row.run.step))
        }
        BoardSort::Failures => board.sort_by_key(|row| std::cmp::Reverse(row.run.failures)),
        BoardSort::Idle => board.sort_by_key(|row| {
            (row.run.status != RunStatus::InProgress, std::cmp::Reverse(row.idle))
        }),
    }
    Ok(board)
}

/// An instructor's reset: cleans up everything the run created (verified, as step 9 does) and, once
/// nothing is left, opens it again at step 2 with its failures cleared, its course tag kept and its
/// lifetime started again. Audited as `lab.reset`. Returns the cleanup's outcomes; the run is left
/// as cleanup left it when something could not be deleted.
pub async fn reset(
    pool: &PgPool,
    actor: &Actor,
    lab_run_id: Uuid,
) -> Result<Vec<(Entry, Outcome)>> {
    let run = get(pool, lab_run_id).await?;
    if run.pending_step.is_some() {
        return Err(Error::Conflict(
            "a step of this run is in progress: wait for it, then reset".into(),
        ));
    }
    let outcomes = clean_up(pool, actor, Scope::Run(lab_run_id)).await?;
    if outcomes.iter().any(|(_, outcome)| matches!(outcome, Outcome::Failed(_))) {
        return Ok(outcomes);
    }
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "update lab_run
         set status = 'in_progress', step = $2, function_name = null, function_id = null,
             settings = jsonb_build_object('tags', coalesce(settings->'tags', '{}'::jsonb)),
             failures = 0, last_failure = null, failure_resolved = false, cleaned_at = null,
             expires_at = now() + (expires_at - created_at), created_at = now()
         where lab_run_id = $1",
        lab_run_id,
        FUNCTION
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        "lab.reset",
        &format!("lab:{lab_run_id}"),
        serde_json::json!({ "learner": run.email, "function": run.function_name, "step": run.step }),
    )
    .await?;
    tx.commit().await?;
    Ok(outcomes)
}
