//! Turning lab runs into what the pages show, and who may open a run.

use backend::accounts::{Account, Role};
use backend::labs::{self, Entry, Outcome, Run};

use crate::api::ssr::{context, fail, require, rfc3339};
use crate::error::ApiError;
use crate::types::{CallView, DiagnosisView, LabRunRow, LabView, LedgerView};

/// The caller and the run, when the caller may see it (`backend::labs::access::viewable`).
pub async fn run_for(lab_run_id: &str) -> Result<(Account, Run), ApiError> {
    let account = require(Role::ALL)?;
    let id = backend::input::id("lab_run_id", lab_run_id).map_err(fail)?;
    let run = labs::access::viewable(&context()?.pool, &account, id).await.map_err(fail)?;
    Ok((account, run))
}

/// The caller and the run, for a step that changes the cloud
/// (`backend::labs::access::changeable`).
pub async fn run_to_change(lab_run_id: &str) -> Result<(Account, Run), ApiError> {
    let account = require(Role::ALL)?;
    let id = backend::input::id("lab_run_id", lab_run_id).map_err(fail)?;
    let run = labs::access::changeable(&context()?.pool, &account, id).await.map_err(fail)?;
    Ok((account, run))
}

/// A run on the instructor board: with its course and how long it has been idle.
pub fn board_row(row: &labs::BoardRow) -> LabRunRow {
    LabRunRow {
        course: row.course.clone(),
        idle_minutes: row.idle.whole_minutes(),
        idle: row.is_idle(),
        ..self::row(&row.run)
    }
}

pub fn row(run: &Run) -> LabRunRow {
    LabRunRow {
        lab_run_id: run.lab_run_id.to_string(),
        email: run.email.clone(),
        function_name: run.function_name.clone(),
        connection: run.connection.clone(),
        region: run.region.clone(),
        step: run.step,
        status: run.status,
        failures: run.failures,
        last_failure: run.last_failure.clone(),
        failure_resolved: run.failure_resolved,
        started: minute(run.created_at),
        minutes: (run.updated_at - run.created_at).whole_minutes(),
        expires: run.expires_at.map(minute),
        pending_step: run.pending_step,
        course: None,
        idle_minutes: 0,
        idle: false,
    }
}

/// `2026-11-28 16:28 UTC`: to the minute, for lists.
pub fn minute(at: time::OffsetDateTime) -> String {
    utc_text(at, 16)
}

/// `2026-11-28 16:28:05 UTC`, cut after `len` characters of the date and time.
fn utc_text(at: time::OffsetDateTime, len: usize) -> String {
    let full = rfc3339(at);
    format!("{} UTC", full.get(..len).unwrap_or(&full).replacen('T', " ", 1))
}

pub fn call(call: &labs::Call) -> CallView {
    CallView {
        url: call.url.clone(),
        status_line: call.status_line.clone(),
        status: call.status,
        headers: call.headers.clone(),
        body: call.body.clone(),
        millis: call.millis,
        error: call.error.clone(),
        passed: call.passed(),
    }
}

/// What a fix did, and what to do next to see it work.
pub fn fix_outcome(fix: labs::Fix) -> &'static str {
    match fix {
        labs::Fix::UseAuthNone => {
            "Fixed: the URL's auth type is NONE, with both public statements. Send the request again."
        }
        labs::Fix::AddStatements => {
            "Fixed: the missing statements are added. Send the request again."
        }
        labs::Fix::AttachLogging => {
            "Fixed: AWSLambdaBasicExecutionRole is attached, so the function may write logs. Only invocations from now on are logged: send the request again (step 6), then come back."
        }
    }
}

pub fn diagnosis(d: labs::Diagnosis) -> DiagnosisView {
    let fix = d.fix.map(|f| f.as_str().to_owned());
    let fix_label = d.fix.map(|f| {
        match f {
            labs::Fix::UseAuthNone => "Switch the URL to NONE and add both statements",
            labs::Fix::AddStatements => "Add the missing statement(s)",
            labs::Fix::AttachLogging => "Attach AWSLambdaBasicExecutionRole to the role",
        }
        .to_owned()
    });
    DiagnosisView { problem: d.problem, details: d.details, advice: d.advice, fix, fix_label }
}

pub fn check(c: &labs::Check) -> crate::types::CheckView {
    crate::types::CheckView { label: c.label.clone(), passed: c.passed, detail: c.detail.clone() }
}

pub fn ledger_view(e: &Entry) -> LedgerView {
    LedgerView {
        kind: e.kind.label().to_owned(),
        name: e.name.clone(),
        parent: e.parent.clone(),
        state: e.state.as_str().to_owned(),
        owner: e.owner.clone(),
        created: utc_text(e.created_at, 19),
        note: e.error.clone(),
    }
}

pub fn outcomes(outcomes: Vec<(Entry, Outcome)>) -> Vec<LedgerView> {
    outcomes
        .into_iter()
        .map(|(entry, outcome)| {
            let mut view = ledger_view(&entry);
            let (state, note) = match outcome {
                Outcome::Deleted => {
                    ("deleted", Some("deleted; the cloud confirms it is gone".to_owned()))
                }
                Outcome::AlreadyGone => ("deleted", Some("was already gone".to_owned())),
                Outcome::Kept(why) => ("kept", Some(why)),
                Outcome::NotOurs(why) => ("left alone", Some(why)),
                Outcome::Failed(why) => ("failed", Some(format!("could not be deleted: {why}"))),
            };
            view.state = state.to_owned();
            view.note = note;
            view
        })
        .collect()
}

pub async fn view(
    pool: &backend::PgPool,
    account: &Account,
    run: Run,
) -> Result<LabView, ApiError> {
    let connection = backend::connections::get(pool, run.connection_id).await.map_err(fail)?;
    let roles = if run.function_name.is_none() && !super::is_learner(account) {
        labs::roles(&connection).await.unwrap_or_default()
    } else {
        Vec::new()
    };
    let teams = backend::teams::list_teams_of(pool, account.account_id).await.map_err(fail)?;
    let ledger = labs::ledger(pool, labs::Scope::Run(run.lab_run_id)).await.map_err(fail)?;
    let function_arn = match run.function_id {
        Some(id) => backend::catalog::detail(pool, id).await.ok().map(|d| d.arn),
        None => None,
    };
    let s = &run.settings;
    let runtime =
        if s.runtime.is_empty() { labs::RUNTIMES[0].to_owned() } else { s.runtime.clone() };
    let (path, _, template) = labs::lab_code(&runtime);
    let statements = match (&function_arn, s.auth_type.as_str()) {
        (Some(arn), "NONE") => labs::public_statements(arn)
            .iter()
            .map(|v| serde_json::to_string_pretty(v).unwrap_or_default())
            .collect(),
        _ => Vec::new(),
    };
    Ok(LabView {
        run: row(&run),
        function_id: run.function_id.map(|id| id.to_string()),
        function_arn,
        runtime,
        architecture: if s.architecture.is_empty() {
            "x86_64".into()
        } else {
            s.architecture.clone()
        },
        role_arn: s.role_arn.clone(),
        role_created: s.role_created,
        team: s.team.clone(),
        lifecycle: if s.lifecycle.is_empty() {
            model::Lifecycle::Experimental.to_string()
        } else {
            s.lifecycle.clone()
        },
        environment: if s.environment.is_empty() { "dev".into() } else { s.environment.clone() },
        tags: s.tags.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("\n"),
        code_path: path.to_owned(),
        source: if s.source.is_empty() { template.to_owned() } else { s.source.clone() },
        timeout_s: if s.timeout_s == 0 { 3 } else { s.timeout_s },
        memory_mb: if s.memory_mb == 0 { 128 } else { s.memory_mb },
        auth_type: if s.auth_type.is_empty() { "NONE".into() } else { s.auth_type.clone() },
        cors: s.cors_origins.join(", "),
        url: s.url.clone(),
        statements,
        last_call: s.last_call.as_ref().map(call),
        last_diagnosis: s.last_diagnosis.clone().map(diagnosis),
        last_validation: (!s.last_checks.is_empty()).then(|| crate::types::Validation {
            checks: s.last_checks.iter().map(check).collect(),
            diagnosis: s.last_checks_diagnosis.clone().map(diagnosis),
        }),
        runtimes: labs::RUNTIMES.iter().map(|r| (*r).to_owned()).collect(),
        roles,
        teams,
        ledger: ledger.iter().map(ledger_view).collect(),
        can_edit: run.status != model::RunStatus::CleanedUp,
        instructor: account.role == Role::Admin,
    })
}
