//! What every step of the wizard shares: the steps' titles and outcomes, the step navigation and
//! heading, moving on after a success, the wizard's actions, and the doctor's box.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::api::labs::{
    LabCall, LabCleanup, LabCode, LabConfirmLogs, LabFix, LabFunction, LabSettings, LabUrl,
    LabValidate, ResetLabRun,
};
use crate::error::{ApiError, ErrorAlert};
use crate::types::DiagnosisView;

/// The lab's steps: title, what it is for, and the lab's "Expected outcome".
pub(super) const STEPS: [(&str, &str, &str); 9] = [
    (
        "Connection and region",
        "Choose where the lab runs. The embedded engine needs no AWS account; a real account works the same way.",
        "You are on the Lambda console in your chosen Region.",
    ),
    (
        "Create the function",
        "Author from scratch: a name, a runtime, an architecture, and an execution role. A new role with basic Lambda permissions can write logs to CloudWatch and nothing else.",
        "The function exists and you can see its configuration page.",
    ),
    (
        "Add the code",
        "The handler returns a proxy-style response (statusCode, headers, body): what a Function URL turns into an HTTP response.",
        "Code deploy succeeds and the function is ready to run.",
    ),
    (
        "Timeout and memory",
        "A short timeout and a small memory size keep a trivial function cheap: you pay for memory × time.",
        "The function has a short timeout and small memory allocation, minimizing cost.",
    ),
    (
        "Function URL",
        "A Function URL is an HTTPS endpoint for the function, without API Gateway.",
        "You have a public HTTPS endpoint that invokes the function.",
    ),
    (
        "Call it",
        "Call the URL like curl would, and read the raw HTTP response.",
        "The HTTP status is 200 and the response body is the text ok.",
    ),
    (
        "Logs",
        "Every invocation writes START, END and REPORT lines to a log stream in CloudWatch Logs, with your own output in between.",
        "You can find a recent log stream corresponding to your request.",
    ),
    (
        "Validation",
        "The lab's checklist, each item checked against the cloud right now.",
        "HTTP 200, the body ok, the invocation in the logs, at least one invocation recorded.",
    ),
    (
        "Clean up",
        "Delete what the lab created, to avoid ongoing exposure and charges: the URL, the function, its log group, then the role if nothing else uses it.",
        "Everything the lab created is gone, and the cloud confirms it.",
    ),
];

/// The step list: done steps link back, the current one is marked, later ones wait.
#[component]
pub(super) fn StepNav(current: i16, furthest: i16, lab_run_id: Option<String>) -> impl IntoView {
    view! {
        <nav aria-label="Lab steps">
            <ol class="wizard-steps">
                {STEPS
                    .iter()
                    .enumerate()
                    .map(|(i, (title, ..))| {
                        let n = i16::try_from(i + 1).unwrap_or(1);
                        let label = format!("{n}. {title}");
                        let state = if n == current {
                            "current"
                        } else if n < furthest || (n == furthest && n < current) {
                            "done"
                        } else if n == furthest {
                            "next"
                        } else {
                            "todo"
                        };
                        let link = lab_run_id
                            .as_ref()
                            .filter(|_| n >= 2 && (n <= furthest || n == 9) && n != current)
                            .map(|id| format!("/labs/{id}?step={n}"));
                        view! {
                            <li class=format!("wizard-step {state}") aria-current=(n == current).then_some("step")>
                                {match link {
                                    Some(href) => view! { <a href=href>{label}</a> }.into_any(),
                                    None => view! { <span>{label}</span> }.into_any(),
                                }}
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        </nav>
    }
}

#[component]
pub(super) fn StepHead(
    number: i16,
    title: &'static str,
    purpose: &'static str,
    expected: &'static str,
) -> impl IntoView {
    view! {
        <h2 id="step-title">{format!("Step {number}: {title}")}</h2>
        <p>{purpose}</p>
        <p class="expected"><strong>"Expected outcome: "</strong>{expected}</p>
    }
}

/// Sends the wizard to step `next` each time `value` turns into a success.
pub(super) fn advance_on_success<T: Clone + Send + Sync + 'static>(
    value: impl Get<Value = Option<Result<T, ApiError>>> + Send + Sync + 'static,
    lab_run_id: Memo<String>,
    next: i16,
) {
    Effect::new(move |_| {
        if let Some(Ok(_)) = value.get() {
            let href = format!("/labs/{}?step={next}", lab_run_id.get_untracked());
            use_navigate()(&href, Default::default());
        }
    });
}

/// Every action of the wizard, handed to the step that uses it.
#[derive(Clone, Copy)]
pub(super) struct Actions {
    pub(super) function: ServerAction<LabFunction>,
    pub(super) code: ServerAction<LabCode>,
    pub(super) settings: ServerAction<LabSettings>,
    pub(super) url: ServerAction<LabUrl>,
    pub(super) call: ServerAction<LabCall>,
    pub(super) confirm_logs: ServerAction<LabConfirmLogs>,
    pub(super) validate: ServerAction<LabValidate>,
    pub(super) fix: Fixer,
    pub(super) cleanup: ServerAction<LabCleanup>,
    pub(super) reset: ServerAction<ResetLabRun>,
}

/// The doctor's fix action, and the fix version the newest diagnosis was made at: a fix that
/// succeeded after it replaces the diagnosis with what the fix did.
#[derive(Clone, Copy)]
pub(super) struct Fixer {
    pub(super) action: ServerAction<LabFix>,
    pub(super) diagnosed_at: RwSignal<usize>,
}

impl Fixer {
    /// A fixer whose diagnoses are made by the actions whose versions `diagnoses` reads.
    pub(super) fn new(diagnoses: impl Fn() -> usize + Send + Sync + 'static) -> Self {
        let action = ServerAction::<LabFix>::new();
        let diagnosed_at = RwSignal::new(0);
        Effect::new(move |_| {
            diagnoses();
            diagnosed_at.set(action.version().get_untracked());
        });
        Self { action, diagnosed_at }
    }
}

/// What the doctor found, and its fix button when there is one; once the fix worked, what it did
/// and what to do next instead.
#[component]
pub(super) fn Doctor(diagnosis: DiagnosisView, lab_run_id: String, fix: Fixer) -> impl IntoView {
    let action = fix.action;
    let fixed = move || match action.value().get() {
        Some(Ok(done)) if action.version().get() > fix.diagnosed_at.get() => Some(done),
        _ => None,
    };
    move || match fixed() {
        Some(done) => view! {
            <div class="alert alert-ok" role="status" data-testid="fixed">{done}</div>
        }
        .into_any(),
        None => {
            let diagnosis = diagnosis.clone();
            let lab_run_id = lab_run_id.clone();
            view! {
                <div class="alert alert-error" role="alert" data-testid="diagnosis">
                    <p><strong>{diagnosis.problem}</strong></p>
                    {(!diagnosis.details.is_empty()).then(|| view! { <pre>{diagnosis.details.join("\n")}</pre> })}
                    <p>{diagnosis.advice}</p>
                    {diagnosis.fix.map(|f| view! {
                        <ActionForm action>
                            <input type="hidden" name="lab_run_id" value=lab_run_id />
                            <input type="hidden" name="fix" value=f />
                            <button type="submit" class="btn" disabled=action.pending()>{diagnosis.fix_label.unwrap_or_default()}</button>
                        </ActionForm>
                    })}
                    {move || match action.value().get() {
                        Some(Err(error)) => view! { <ErrorAlert error /> }.into_any(),
                        _ => ().into_any(),
                    }}
                </div>
            }
            .into_any()
        }
    }
}
