//! The guided lab's server functions: start a run, confirm each step (a real action in the cloud),
//! call the URL, read the logs, validate, fix what the doctor found, clean up; and the Labs page
//! with the instructor board. A run is its owner's; admins may see and act on every run.

use leptos::prelude::*;

use crate::error::ApiError;
use crate::forms::LabFunctionForm;
use crate::types::{
    BoardFilters, CallOutcome, LabStart, LabView, LabsPage, LedgerView, LogsView, Validation,
};

/// Where a lab can run, and the expiry preset for the caller.
#[server(endpoint = "lab_start_options")]
pub async fn lab_start_options() -> Result<LabStart, ApiError> {
    use super::ssr::*;
    let result = async {
        let account = require(backend::accounts::Role::ALL)?;
        let pool = &context()?.pool;
        let targets = targets(&account).await?;
        let expiry_hours = if account.role == backend::accounts::Role::Learner {
            Some(backend::settings::lab_expiry_hours(pool).await.map_err(fail)?)
        } else {
            None
        };
        Ok(LabStart { targets, expiry_hours })
    }
    .await;
    settle(result, |_| None).await
}

/// Where the caller may run a lab (or create a function): every region of each connection
/// `backend::labs::access` lets them use.
#[cfg(feature = "ssr")]
pub(crate) async fn targets(
    account: &backend::accounts::Account,
) -> Result<Vec<crate::types::LabTarget>, ApiError> {
    use super::ssr::*;
    let mut targets = Vec::new();
    for c in backend::connections::list(&context()?.pool).await.map_err(fail)? {
        if backend::labs::access::refusal(account, &c, engine_sandboxes()?).is_some() {
            continue;
        }
        for region in &c.regions {
            targets.push(crate::types::LabTarget {
                connection_id: c.connection_id.to_string(),
                label: match c.kind {
                    backend::connections::Kind::Engine => {
                        format!("{} (the embedded engine)", c.name)
                    }
                    backend::connections::Kind::Aws => format!("{} (AWS)", c.name),
                    backend::connections::Kind::Endpoint => c.name.clone(),
                },
                region: region.clone(),
                is_default: c.is_default,
            });
        }
    }
    Ok(targets)
}

/// Whether this console's embedded engine sandboxes function code (`None`: it runs no engine).
#[cfg(feature = "ssr")]
pub(crate) fn engine_sandboxes() -> Result<Option<bool>, ApiError> {
    Ok(super::ssr::context()?.engine.as_ref().map(|e| e.contained))
}

#[cfg(feature = "ssr")]
pub(crate) fn is_learner(account: &backend::accounts::Account) -> bool {
    account.role == backend::accounts::Role::Learner
}

/// Step 1: starts a run on `target` (`connection id|region`). Answers the run's id.
#[server(endpoint = "start_lab")]
pub async fn start_lab(target: String, expiry_hours: Option<String>) -> Result<String, ApiError> {
    use super::ssr::*;
    let result = async {
        let account = require(backend::accounts::Role::ALL)?;
        let pool = &context()?.pool;
        let (connection, region) = target.split_once('|').ok_or_else(|| ApiError::Validation {
            field: "target".into(),
            message: "choose where the lab runs".into(),
        })?;
        let connection = backend::input::id("target", connection).map_err(fail)?;
        let chosen = backend::connections::get(pool, connection).await.map_err(fail)?;
        if let Some(message) =
            backend::labs::access::refusal(&account, &chosen, engine_sandboxes()?)
        {
            return Err(ApiError::Validation { field: "target".into(), message: message.into() });
        }
        let requested = match expiry_hours.as_deref().map(str::trim).unwrap_or_default() {
            "" => None,
            // Not a number is out of range too: the same message says what to type.
            raw => Some(raw.parse::<i64>().unwrap_or(0)),
        };
        let hours = backend::settings::run_expiry_hours(pool, account.role, requested)
            .await
            .map_err(fail)?;
        let id = backend::labs::start(
            pool,
            &actor(&account),
            account.account_id,
            connection,
            region,
            hours.map(time::Duration::hours),
        )
        .await
        .map_err(fail)?;
        redirect_plain_form(&format!("/labs/{id}"));
        Ok(id.to_string())
    }
    .await;
    settle(result, |_| None).await
}

/// My lab runs, and for admins everyone's (the instructor board, as `filters` ask). A read, so a
/// GET: the board's polling never waits behind a class's actions (`server::admission`).
#[server(endpoint = "list_labs", input = leptos::server_fn::codec::GetUrl)]
pub async fn list_labs(filters: BoardFilters) -> Result<LabsPage, ApiError> {
    use super::ssr::*;
    let result = async {
        let account = require(backend::accounts::Role::ALL)?;
        let pool = &context()?.pool;
        let is_admin = account.role == backend::accounts::Role::Admin;
        let mine = backend::labs::list(pool, Some(account.account_id)).await.map_err(fail)?;
        let everyone = if is_admin {
            let filter = backend::labs::BoardFilter::try_from(&filters).map_err(fail)?;
            backend::labs::board(pool, &filter).await.map_err(fail)?
        } else {
            Vec::new()
        };
        Ok(LabsPage {
            mine: mine.iter().map(ssr::row).collect(),
            everyone: everyone.iter().map(ssr::board_row).collect(),
            is_admin,
        })
    }
    .await;
    settle(result, |_| None).await
}

/// The instructor's reset of a learner's run: everything it created is deleted (and verified),
/// and the run starts again at step 2. Admins only; audited.
#[server(endpoint = "reset_lab_run")]
pub async fn reset_lab_run(
    lab_run_id: String,
    confirm: Option<String>,
) -> Result<Vec<LedgerView>, ApiError> {
    use super::ssr::*;
    let result = async {
        let account = require(&[backend::accounts::Role::Admin])?;
        let id = backend::input::id("lab_run_id", &lab_run_id).map_err(fail)?;
        confirmed(confirm.as_deref(), "the reset of this run (what it created is deleted)")?;
        let outcomes =
            backend::labs::reset(&context()?.pool, &actor(&account), id).await.map_err(fail)?;
        Ok(ssr::outcomes(outcomes))
    }
    .await;
    settle(result, |list| {
        Some(format!("Reset: the run is back at step 2. {}", cleanup_summary(list)))
    })
    .await
}

/// The run as the wizard shows it. Opening a run whose step was interrupted long ago (a crash)
/// reconciles it first.
#[server(endpoint = "get_lab")]
pub async fn get_lab(lab_run_id: String) -> Result<LabView, ApiError> {
    use super::ssr::*;
    let result = async {
        let (account, run) = ssr::run_for(&lab_run_id).await?;
        let pool = &context()?.pool;
        let run = if run.pending_step.is_some() {
            backend::labs::recover(pool, backend::leases::process_id()).await.map_err(fail)?;
            backend::labs::get(pool, run.lab_run_id).await.map_err(fail)?
        } else {
            run
        };
        ssr::view(pool, &account, run).await
    }
    .await;
    settle(result, |_| None).await
}

/// Whether a function name is free (Lambda's rules are checked in the browser too).
#[server(endpoint = "check_lab_name")]
pub async fn check_lab_name(lab_run_id: String, name: String) -> Result<Option<String>, ApiError> {
    use super::ssr::*;
    let result = async {
        let (_, run) = ssr::run_for(&lab_run_id).await?;
        if let Some(problem) = crate::rules::function_name_problem(&name) {
            return Ok(Some(problem));
        }
        backend::labs::name_problem(&context()?.pool, run.connection_id, &run.region, name.trim())
            .await
            .map_err(fail)
    }
    .await;
    settle(result, |_| None).await
}

/// Step 2: the function and its role (or, when it exists, its runtime and catalog metadata).
#[server(endpoint = "lab_function")]
pub async fn lab_function(#[server(flatten)] form: LabFunctionForm) -> Result<(), ApiError> {
    use super::ssr::*;
    let result = async {
        let (account, run) = ssr::run_to_change(&form.lab_run_id).await?;
        let mut input = backend::labs::FunctionInput::try_from(form).map_err(fail)?;
        if input.name.is_empty() {
            input.name = run.function_name.clone().unwrap_or_default();
        }
        if run.function_name.is_none()
            && let Some(problem) = crate::rules::function_name_problem(&input.name)
        {
            return Err(ApiError::Validation { field: "name".into(), message: problem });
        }
        input.name = input.name.trim().to_owned();
        // Learners use only the role their own run creates: an existing one could carry any
        // permissions at all.
        if input.role != "new" && is_learner(&account) {
            return Err(ApiError::Validation {
                field: "existing_role".into(),
                message: "learners create a new role for their lab".into(),
            });
        }
        backend::labs::save_function(&context()?.pool, &actor(&account), run.lab_run_id, &input)
            .await
            .map_err(fail)?;
        // Without JavaScript, on to the next step (with it, the page moves itself).
        redirect_plain_form(&format!("/labs/{}?step=3", run.lab_run_id));
        Ok(())
    }
    .await;
    settle(result, |()| Some("The function is created and Active".to_owned())).await
}

/// Step 3: deploys the editor's code.
#[server(endpoint = "lab_code")]
pub async fn lab_code(lab_run_id: String, source: String) -> Result<(), ApiError> {
    use super::ssr::*;
    let result = async {
        let (account, run) = ssr::run_to_change(&lab_run_id).await?;
        backend::labs::deploy_code(&context()?.pool, &actor(&account), run.lab_run_id, &source)
            .await
            .map_err(fail)?;
        redirect_plain_form(&format!("/labs/{}?step=4", run.lab_run_id));
        Ok(())
    }
    .await;
    settle(result, |()| Some("Code deployed".to_owned())).await
}

/// Step 4: timeout and memory.
#[server(endpoint = "lab_settings")]
pub async fn lab_settings(
    lab_run_id: String,
    timeout_s: String,
    memory_mb: String,
) -> Result<(), ApiError> {
    use super::ssr::*;
    let result = async {
        let (account, run) = ssr::run_to_change(&lab_run_id).await?;
        let number = backend::input::whole_number;
        let timeout = number("timeout_s", &timeout_s).map_err(fail)?;
        let memory = number("memory_mb", &memory_mb).map_err(fail)?;
        backend::labs::configure(
            &context()?.pool,
            &actor(&account),
            run.lab_run_id,
            timeout,
            memory,
        )
        .await
        .map_err(fail)?;
        redirect_plain_form(&format!("/labs/{}?step=5", run.lab_run_id));
        Ok(())
    }
    .await;
    settle(result, |()| Some("Settings saved".to_owned())).await
}

/// Step 5: the Function URL (and, for NONE, both permission statements).
#[server(endpoint = "lab_url")]
pub async fn lab_url(
    lab_run_id: String,
    auth_type: String,
    cors: Option<String>,
) -> Result<(), ApiError> {
    use super::ssr::*;
    let result = async {
        let (account, run) = ssr::run_to_change(&lab_run_id).await?;
        let origins = backend::input::origins(&cors.unwrap_or_default());
        backend::labs::save_url(
            &context()?.pool,
            &actor(&account),
            run.lab_run_id,
            &auth_type,
            &origins,
        )
        .await
        .map_err(fail)?;
        redirect_plain_form(&format!("/labs/{}?step=6", run.lab_run_id));
        Ok(())
    }
    .await;
    settle(result, |()| Some("Function URL saved".to_owned())).await
}

/// Step 6: sends `GET` to the URL from the server; the raw response and, unless it is 200 `ok`,
/// a diagnosis.
#[server(endpoint = "lab_call")]
pub async fn lab_call(lab_run_id: String) -> Result<CallOutcome, ApiError> {
    use super::ssr::*;
    let result = async {
        let (account, run) = ssr::run_for(&lab_run_id).await?;
        let (call, diagnosis) =
            backend::labs::call(&context()?.pool, &actor(&account), run.lab_run_id)
                .await
                .map_err(fail)?;
        // Without JavaScript, back on step 6, which shows the last response (not step 7).
        redirect_plain_form(&format!("/labs/{}?step=6", run.lab_run_id));
        Ok(CallOutcome { call: ssr::call(&call), diagnosis: diagnosis.map(ssr::diagnosis) })
    }
    .await;
    settle(result, |_| None).await
}

/// Step 7: the newest log stream of the function.
/// A read, so a GET: it never waits behind the class's actions (`server::admission`).
#[server(endpoint = "lab_logs", input = leptos::server_fn::codec::GetUrl)]
pub async fn lab_logs(lab_run_id: String) -> Result<LogsView, ApiError> {
    use super::ssr::*;
    let result = async {
        let (_, run) = ssr::run_for(&lab_run_id).await?;
        let logs = backend::labs::logs(&context()?.pool, run.lab_run_id).await.map_err(fail)?;
        Ok(LogsView {
            group: logs.group,
            stream: logs.stream,
            lines: logs
                .events
                .into_iter()
                .map(|(at, message)| crate::types::LogLineView {
                    at: time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(at) * 1_000_000)
                        .map(rfc3339)
                        .unwrap_or_default(),
                    kind: crate::rules::log_line_kind(&message).to_owned(),
                    message,
                })
                .collect(),
        })
    }
    .await;
    settle(result, |_| None).await
}

/// Step 7 confirmed: there is a stream with the invocation (or a diagnosis of why not).
#[server(endpoint = "lab_confirm_logs")]
pub async fn lab_confirm_logs(
    lab_run_id: String,
) -> Result<Option<crate::types::DiagnosisView>, ApiError> {
    use super::ssr::*;
    let result = async {
        let (account, run) = ssr::run_for(&lab_run_id).await?;
        let diagnosis =
            backend::labs::confirm_logs(&context()?.pool, &actor(&account), run.lab_run_id)
                .await
                .map_err(fail)?;
        // Without JavaScript the page is loaded afresh: it is told what the doctor found, on
        // step 7 again, or moves on to step 8.
        if let Some(d) = &diagnosis
            && is_plain_form_post()
        {
            leave_flash(&session().await?, format!("{} {}", d.problem, d.advice), true).await?;
        }
        let next = if diagnosis.is_some() { 7 } else { 8 };
        redirect_plain_form(&format!("/labs/{}?step={next}", run.lab_run_id));
        Ok(diagnosis.map(ssr::diagnosis))
    }
    .await;
    settle(result, |found| {
        found.is_none().then(|| "Found: your invocation is in the log.".to_owned())
    })
    .await
}

/// Step 8: the lab's checklist, live.
#[server(endpoint = "lab_validate")]
pub async fn lab_validate(lab_run_id: String) -> Result<Validation, ApiError> {
    use super::ssr::*;
    let result = async {
        let (account, run) = ssr::run_for(&lab_run_id).await?;
        let (checks, diagnosis) =
            backend::labs::validate(&context()?.pool, &actor(&account), run.lab_run_id)
                .await
                .map_err(fail)?;
        Ok(Validation {
            checks: checks.iter().map(ssr::check).collect(),
            diagnosis: diagnosis.map(ssr::diagnosis),
        })
    }
    .await;
    settle(result, |_| None).await
}

/// Applies a fix the doctor offered (`use_auth_none`, `add_statements`, `attach_logging`).
#[server(endpoint = "lab_fix")]
pub async fn lab_fix(lab_run_id: String, fix: String) -> Result<String, ApiError> {
    use super::ssr::*;
    use backend::labs::Fix;
    let result = async {
        let (account, run) = ssr::run_to_change(&lab_run_id).await?;
        let fix: Fix = fix.parse().map_err(fail)?;
        backend::labs::apply_fix(&context()?.pool, &actor(&account), run.lab_run_id, fix)
            .await
            .map_err(fail)?;
        Ok(ssr::fix_outcome(fix).to_owned())
    }
    .await;
    settle(result, |done| Some(done.clone())).await
}

/// Step 9: deletes everything the run created, in order, verifying each deletion.
#[server(endpoint = "lab_cleanup")]
pub async fn lab_cleanup(
    lab_run_id: String,
    confirm: Option<String>,
) -> Result<Vec<LedgerView>, ApiError> {
    use super::ssr::*;
    let result = async {
        let (account, run) = ssr::run_to_change(&lab_run_id).await?;
        confirmed(confirm.as_deref(), "the deletion of everything this lab run created")?;
        let outcomes = backend::labs::clean_up(
            &context()?.pool,
            &actor(&account),
            backend::labs::Scope::Run(run.lab_run_id),
        )
        .await
        .map_err(fail)?;
        Ok(ssr::outcomes(outcomes))
    }
    .await;
    settle(result, |list| Some(cleanup_summary(list))).await
}

/// The ledger of a function: what the console created for it.
#[server(endpoint = "function_ledger")]
pub async fn function_ledger(function_id: String) -> Result<Vec<LedgerView>, ApiError> {
    use super::ssr::*;
    let result = async {
        let account = require(backend::accounts::Role::ALL)?;
        let pool = &context()?.pool;
        let detail = super::catalog::ssr::readable(pool, &account, &function_id).await?;
        let ledger =
            backend::labs::ledger(pool, backend::labs::Scope::Function(detail.entry.function_id))
                .await
                .map_err(fail)?;
        Ok(ledger.iter().map(ssr::ledger_view).collect())
    }
    .await;
    settle(result, |_| None).await
}

/// The Cleanup tab: deletes what the console created for a function, verifying each deletion.
#[server(endpoint = "cleanup_function")]
pub async fn cleanup_function(
    function_id: String,
    confirm: Option<String>,
) -> Result<Vec<LedgerView>, ApiError> {
    use super::ssr::*;
    let result = async {
        let account = require(backend::accounts::Role::ALL)?;
        let pool = &context()?.pool;
        let (detail, _) = super::catalog::ssr::editable(pool, &account, &function_id).await?;
        confirmed(
            confirm.as_deref(),
            "the deletion of everything the console created for this function",
        )?;
        let outcomes = backend::labs::clean_up(
            pool,
            &actor(&account),
            backend::labs::Scope::Function(detail.entry.function_id),
        )
        .await
        .map_err(fail)?;
        let outcomes = ssr::outcomes(outcomes);
        if function_deleted(&outcomes) {
            // The function page has nothing left to show: the catalog says it is gone, with
            // what the cleanup did (the page loads afresh, with JavaScript too).
            leave_flash(&session().await?, cleanup_summary(&outcomes), false).await?;
            redirect_plain_form(&format!("/catalog?cleaned={}", detail.entry.name));
        }
        Ok(outcomes)
    }
    .await;
    settle(result, |list| Some(cleanup_summary(list))).await
}

/// Whether a cleanup deleted the function itself (the function page then has nothing to show).
pub fn function_deleted(list: &[LedgerView]) -> bool {
    list.iter().any(|e| e.kind == "Function" && e.state == "deleted")
}

/// A cleanup's outcome in one sentence.
pub fn cleanup_summary(list: &[LedgerView]) -> String {
    let count = |state: &str| list.iter().filter(|e| e.state == state).count();
    let (deleted, failed, alone) = (count("deleted"), count("failed"), count("left alone"));
    if list.is_empty() {
        return "Nothing left to delete".to_owned();
    }
    // What stays is said by name, with why: "kept" is not "cleaned up".
    let kept: Vec<String> = list
        .iter()
        .filter(|e| e.state == "kept")
        .map(|e| match &e.note {
            Some(why) => format!("{} {} ({why})", e.kind, e.name),
            None => format!("{} {}", e.kind, e.name),
        })
        .collect();
    let mut parts = vec![format!("{deleted} deleted")];
    if !kept.is_empty() {
        parts.push(format!("kept {}", kept.join(", ")));
    }
    if alone > 0 {
        parts.push(format!("{alone} left alone (not the console's)"));
    }
    if failed > 0 {
        parts.push(format!("{failed} could not be deleted; see why below"));
    }
    let head = if failed == 0 && kept.is_empty() { "Cleaned up" } else { "Cleanup finished" };
    format!("{head}: {}", parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::cleanup_summary;
    use crate::types::LedgerView;

    fn entry(kind: &str, name: &str, state: &str, note: Option<&str>) -> LedgerView {
        LedgerView {
            kind: kind.into(),
            name: name.into(),
            parent: None,
            state: state.into(),
            owner: None,
            created: String::new(),
            note: note.map(str::to_owned),
        }
    }

    /// The review's finding: "none left behind" while the role was kept.
    #[test]
    fn a_kept_role_is_named_with_why() {
        let list = [
            entry("function", "bob-fn", "deleted", None),
            entry("role", "bob-role", "kept", Some("kept: the role is still used by carol-fn")),
        ];
        assert_eq!(
            cleanup_summary(&list),
            "Cleanup finished: 1 deleted; kept role bob-role (kept: the role is still used by carol-fn)"
        );
        assert_eq!(cleanup_summary(&list[..1]), "Cleaned up: 1 deleted");
        let failed = [entry("url", "u", "failed", Some("AccessDenied"))];
        assert_eq!(
            cleanup_summary(&failed),
            "Cleanup finished: 0 deleted; 1 could not be deleted; see why below"
        );
        assert_eq!(cleanup_summary(&[]), "Nothing left to delete");
    }
}

#[cfg(feature = "ssr")]
pub mod ssr;
