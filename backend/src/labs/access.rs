//! Who may do what with a lab: start one on a connection, open a run, change the cloud through it.
//! The server functions and the upload handler ask here; nothing else decides.

use sqlx::PgPool;
use uuid::Uuid;

use crate::accounts::{Account, Role};
use crate::connections::{Connection, Kind};
use crate::error::{Error, Result};
use model::RunStatus;

use super::model::Run;
use super::runs::get;

/// Why `account` may not run labs on `connection`, if it may not. Nobody starts one on an
/// archived connection. Learners' code is anyone's: they run labs only where an admin allows
/// learners (the embedded engine by default), and on the embedded engine only while it sandboxes
/// function code (`engine_sandboxes`: `None` when this console runs no engine).
pub fn refusal(
    account: &Account,
    connection: &Connection,
    engine_sandboxes: Option<bool>,
) -> Option<&'static str> {
    if connection.archived {
        return Some("this connection is archived: choose another");
    }
    if account.role != Role::Learner {
        return None;
    }
    if !connection.learners {
        return Some(
            "learners run labs only where an admin allows them (the embedded engine, Local, by default): choose another",
        );
    }
    (connection.kind == Kind::Engine && engine_sandboxes == Some(false)).then_some(
        "the embedded engine cannot sandbox code on this machine, so learners cannot run labs on it: ask an admin",
    )
}

/// The run, when `account` may see it: its owner, or an admin. Anyone else is told it does not
/// exist.
pub async fn viewable(pool: &PgPool, account: &Account, lab_run_id: Uuid) -> Result<Run> {
    let run = get(pool, lab_run_id).await?;
    if run.account_id != account.account_id && account.role != Role::Admin {
        return Err(Error::NotFound("lab run"));
    }
    Ok(run)
}

/// [`viewable`], for a step that changes the cloud: never a cleaned-up run, and once the run's
/// function exists, `account` must still be allowed to change it (an admin may have handed it to
/// someone else).
pub async fn changeable(pool: &PgPool, account: &Account, lab_run_id: Uuid) -> Result<Run> {
    let run = viewable(pool, account, lab_run_id).await?;
    if run.status == RunStatus::CleanedUp {
        return Err(Error::Refused(
            "this run is cleaned up: what it created is deleted, so it can only be viewed; start a new run".into(),
        ));
    }
    if let Some(function_id) = run.function_id {
        let detail = crate::catalog::detail(pool, function_id).await?;
        if !crate::catalog::may_edit(pool, account, &detail).await? {
            return Err(Error::Refused(format!(
                "{} is no longer yours to change (its owner is now {}): this run can only be viewed",
                detail.entry.name,
                detail.entry.owner.as_deref().unwrap_or("nobody")
            )));
        }
    }
    Ok(run)
}
