//! The wizard (`/labs/:id`): the run, loaded and refreshed, and the step it is on.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use model::RunStatus;

use crate::api::labs::{
    LabCall, LabCleanup, LabCode, LabConfirmLogs, LabFunction, LabSettings, LabUrl, LabValidate,
    ResetLabRun, cleanup_summary, get_lab,
};
use crate::components::draft::Draft;
use crate::components::forms::{outcome, retry_when_busy};
use crate::error::error_fallback;
use crate::types::{LabRunRow, LabView, LedgerView};

use super::call::*;
use super::cleanup::*;
use super::code::*;
use super::common::*;
use super::function::*;
use super::logs::*;
use super::url::*;
use super::validate::*;

/// The wizard, `/labs/:id[?step=N]`.
#[component]
pub fn LabPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let function = ServerAction::<LabFunction>::new();
    let code = ServerAction::<LabCode>::new();
    let settings = ServerAction::<LabSettings>::new();
    let url = ServerAction::<LabUrl>::new();
    let call = ServerAction::<LabCall>::new();
    let confirm_logs = ServerAction::<LabConfirmLogs>::new();
    let validate = ServerAction::<LabValidate>::new();
    let fix = Fixer::new(move || {
        call.version().get() + confirm_logs.version().get() + validate.version().get()
    });
    let cleanup = ServerAction::<LabCleanup>::new();
    let reset = ServerAction::<ResetLabRun>::new();
    for (value, next) in
        [(function.value(), 3), (code.value(), 4), (settings.value(), 5), (url.value(), 6)]
    {
        advance_on_success(value, id, next);
    }
    // A class at once can saturate the console: its "busy" answers are retried, not shown as
    // failures.
    retry_when_busy(function);
    retry_when_busy(code);
    retry_when_busy(settings);
    retry_when_busy(url);
    retry_when_busy(call);
    retry_when_busy(confirm_logs);
    retry_when_busy(validate);
    retry_when_busy(fix.action);
    retry_when_busy(cleanup);
    retry_when_busy(reset);
    let actions = Actions {
        function,
        code,
        settings,
        url,
        call,
        confirm_logs,
        validate,
        fix,
        cleanup,
        reset,
    };
    let lab = Resource::new(
        move || {
            (
                id.get(),
                function.version().get()
                    + code.version().get()
                    + settings.version().get()
                    + url.version().get()
                    + call.version().get()
                    + confirm_logs.version().get()
                    + validate.version().get()
                    + fix.action.version().get()
                    + cleanup.version().get()
                    + reset.version().get(),
            )
        },
        |(id, _)| get_lab(id),
    );
    let chosen =
        Memo::new(move |_| query.with(|q| q.get("step").and_then(|s| s.parse::<i16>().ok())));
    view! {
        <Title text="Guided lab" />
        <p><a href="/labs">"← Labs"</a></p>
        <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading the lab run…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move {
                    lab.await.map(|lab| {
                        // Clean-up (step 9) is open from any step: a run can be discarded
                        // wherever it stands.
                        let shown = chosen
                            .get()
                            .filter(|s| (2..=lab.run.step).contains(s) || *s == 9)
                            .unwrap_or(lab.run.step);
                        view! { <Wizard lab shown actions /> }
                    })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
pub(super) fn Wizard(lab: LabView, shown: i16, actions: Actions) -> impl IntoView {
    let run = lab.run.clone();
    let (title, purpose, expected) = STEPS[usize::try_from(shown - 1).unwrap_or(0)];
    let status = match run.status {
        RunStatus::Completed => {
            view! { <span class="badge badge-ok">"completed"</span> }.into_any()
        }
        RunStatus::CleanedUp => view! { <span class="badge">"cleaned up"</span> }.into_any(),
        RunStatus::InProgress => {
            view! { <span class="badge badge-warn">"in progress"</span> }.into_any()
        }
    };
    let read_only = run.status == RunStatus::CleanedUp;
    let instructor = lab.instructor;
    let draft_key = format!("{}.step{shown}", run.lab_run_id);
    let body = match shown {
        // A cleaned-up run (by its learner, or by the sweeper when it expired) has nothing left
        // to act on: its steps are read-only, and the way on is a new run.
        _ if read_only && shown != 9 => view! {
            <div class="alert" role="status" data-testid="read-only">
                <p>"This run is cleaned up: everything it created is deleted, so this step cannot be done again."</p>
                <p><a class="btn btn-primary" href="/create">"Start a new run"</a>
                   " or see " <a href=format!("/labs/{}?step=9", run.lab_run_id)>"what was deleted"</a> "."</p>
            </div>
        }.into_any(),
        // What is typed in steps 2–5 is kept in the browser until the step succeeds.
        2 => view! {
            <Draft key=draft_key done=actions.function.value().into()>
                <FunctionStep lab=lab action=actions.function />
            </Draft>
        }.into_any(),
        3 => view! {
            <Draft key=draft_key done=actions.code.value().into()>
                <CodeStep lab=lab action=actions.code />
            </Draft>
        }.into_any(),
        4 => view! {
            <Draft key=draft_key done=actions.settings.value().into()>
                <SettingsStep lab=lab action=actions.settings />
            </Draft>
        }.into_any(),
        5 => view! {
            <Draft key=draft_key done=actions.url.value().into()>
                <UrlStep lab=lab action=actions.url />
            </Draft>
        }.into_any(),
        6 => view! { <CallStep lab=lab action=actions.call fix=actions.fix /> }.into_any(),
        7 => view! { <LogsStep lab=lab action=actions.confirm_logs fix=actions.fix /> }.into_any(),
        8 => view! { <ValidateStep lab=lab action=actions.validate fix=actions.fix /> }.into_any(),
        _ => view! { <CleanupStep lab=lab action=actions.cleanup /> }.into_any(),
    };
    view! {
        <div class="page-head">
            <h1>{run.function_name.clone().unwrap_or_else(|| "New lab run".to_owned())}</h1>
            {status}
        </div>
        <p class="muted">
            {format!("{} · {} · started {}", run.connection, run.region, run.started)}
            {run.expires.clone().map(|e| view! { " · " <span data-testid="expires">"cleaned up automatically at " {e}</span> })}
            {(run.status == RunStatus::InProgress && shown != 9).then(|| view! {
                " · " <a href=format!("/labs/{}?step=9", run.lab_run_id) data-testid="discard">"Discard this run"</a>
            })}
        </p>
        {run.pending_step.map(|step| view! {
            <div class="alert" role="status" aria-busy="true">
                {format!("Step {step} is in progress. If the server stopped during it, opening the run again in a few minutes rolls it back so you can redo it.")}
            </div>
        })}
        {run.last_failure.clone().filter(|_| run.status == RunStatus::InProgress).map(|why| view! {
            <p class="hint" data-testid="last-failure" data-resolved=run.failure_resolved.to_string()>
                {if run.failure_resolved { "Last problem (resolved since): " } else { "Last problem: " }} {why}
            </p>
        })}
        {instructor.then(|| view! { <InstructorTools run=run.clone() reset=actions.reset /> })}
        <StepNav current=shown furthest=run.step lab_run_id=Some(run.lab_run_id.clone()) />
        <section class="card" aria-labelledby="step-title" data-testid=format!("step-{shown}")>
            <StepHead number=shown title purpose expected />
            {body}
        </section>
    }
}

/// What an instructor (an admin) can do to anyone's run, each confirmed first and audited: reset it
/// (what it created is deleted, verified, and it starts again at step 2), or clean it up (step 9).
#[component]
fn InstructorTools(run: LabRunRow, reset: ServerAction<ResetLabRun>) -> impl IntoView {
    let id = run.lab_run_id.clone();
    let cleanup = format!("/labs/{id}?step=9");
    view! {
        <details class="card instructor" data-testid="instructor">
            <summary><strong>"Instructor tools"</strong> {format!(" · {}'s run", run.email)}</summary>
            {outcome(reset.value(), |list: Vec<LedgerView>| {
                format!("Reset: the run is back at step 2. {}", cleanup_summary(&list))
            })}
            <ActionForm action=reset>
                <input type="hidden" name="lab_run_id" value=id.clone() />
                <label class="check" for="reset-confirm">
                    <input id="reset-confirm" type="checkbox" name="confirm" value="yes" required />
                    " Reset this run: delete what it created and start again at step 2"
                </label>
                <button type="submit" class="btn btn-danger" disabled=reset.pending()>
                    {move || if reset.pending().get() { "Resetting…" } else { "Reset the run" }}
                </button>
            </ActionForm>
            {(run.status != RunStatus::CleanedUp).then(|| view! {
                <p><a href=cleanup>"Clean up this run (step 9)"</a>
                   " — deletes what it created, with the learner's run left read-only."</p>
            })}
        </details>
    }
}
