//! The guided lab: `Create function` (step 1: where it runs), the wizard (`/labs/:id`, steps 2–9,
//! each with the lab's purpose and expected outcome, each confirmed as a real action in the cloud)
//! and the Labs page (my runs; for admins, every learner's, refreshed live).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use crate::api::labs::{
    CleanupFunction, LabCall, LabCleanup, LabCode, LabConfirmLogs, LabFix, LabFunction,
    LabSettings, LabUrl, LabValidate, StartLab, check_lab_name, cleanup_summary, function_ledger,
    get_lab, lab_logs, lab_start_options, list_labs,
};
use crate::components::editor::CodeEditor;
use crate::error::{ApiError, ErrorAlert, error_fallback};
use crate::pages::admin::outcome;
use crate::rules::{Arch, cost_per_million, function_name_problem, log_line_meaning};
use crate::types::{
    CallView, DiagnosisView, LabRunRow, LabView, LabsPage as LabsData, LedgerView, Validation,
};

/// The lab's steps: title, what it is for, and the lab's "Expected outcome".
const STEPS: [(&str, &str, &str); 9] = [
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
        "The response body contains ok and the HTTP status is 200.",
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

/// Step 1, `/create`: where the lab runs.
#[component]
pub fn CreatePage() -> impl IntoView {
    let start = ServerAction::<StartLab>::new();
    let options = Resource::new(|| (), |()| lab_start_options());
    Effect::new(move |_| {
        if let Some(Ok(id)) = start.value().get() {
            use_navigate()(&format!("/labs/{id}"), Default::default());
        }
    });
    let (title, purpose, expected) = STEPS[0];
    view! {
        <Title text="Create a function" />
        <h1>"Create a function: the guided lab"</h1>
        <p class="lead">
            "The AWS Lambda hands-on lab, step by step: a function that answers "
            <code>"ok"</code> " over a Function URL, its logs, a validation checklist, and a cleanup that leaves nothing behind. Each step is a real action in the cloud, checked against real state. You can leave and come back: progress is saved."
        </p>
        <StepNav current=1 furthest=1 lab_run_id=None />
        <section class="card" aria-labelledby="step-title">
            <StepHead number=1 title purpose expected />
            {outcome(start.value(), |_| "Lab run started".to_owned())}
            <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading connections…"</p> }>
                <ErrorBoundary fallback=error_fallback>
                    {move || Suspend::new(async move {
                        options.await.map(|o| {
                            let default_expiry = o.expiry_hours.map(|h| h.to_string()).unwrap_or_default();
                            view! {
                                <ActionForm action=start>
                                    <label for="lab-target">"Connection and region"</label>
                                    <select id="lab-target" name="target" required>
                                        {o.targets
                                            .into_iter()
                                            .map(|t| {
                                                let value = format!("{}|{}", t.connection_id, t.region);
                                                let label = format!("{} · {}", t.label, t.region);
                                                view! { <option value=value selected=t.is_default>{label}</option> }
                                            })
                                            .collect_view()}
                                    </select>
                                    <p class="hint">"The local engine is preselected: it runs functions on this machine, with no AWS account and no Docker."</p>
                                    <label for="lab-expiry">"Clean up automatically after (hours)"</label>
                                    <input id="lab-expiry" name="expiry_hours" type="number" min="1" max="720"
                                        value=default_expiry placeholder="never" />
                                    <p class="hint">"When the time is up, the console deletes everything this run created. Learners' runs expire by default."</p>
                                    <button type="submit" class="btn btn-primary" disabled=start.pending()>
                                        {move || if start.pending().get() { "Starting…" } else { "Start the lab" }}
                                    </button>
                                </ActionForm>
                            }
                        })
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

/// The step list: done steps link back, the current one is marked, later ones wait.
#[component]
fn StepNav(current: i16, furthest: i16, lab_run_id: Option<String>) -> impl IntoView {
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
                            .filter(|_| n >= 2 && n <= furthest && n != current)
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
fn StepHead(
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
fn advance_on_success<T: Clone + Send + Sync + 'static>(
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
    let fix = ServerAction::<LabFix>::new();
    let cleanup = ServerAction::<LabCleanup>::new();
    for (value, next) in
        [(function.value(), 3), (code.value(), 4), (settings.value(), 5), (url.value(), 6)]
    {
        advance_on_success(value, id, next);
    }
    let actions =
        Actions { function, code, settings, url, call, confirm_logs, validate, fix, cleanup };
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
                    + fix.version().get()
                    + cleanup.version().get(),
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
                        let shown = chosen
                            .get()
                            .filter(|s| (2..=lab.run.step).contains(s))
                            .unwrap_or(lab.run.step);
                        view! { <Wizard lab shown actions /> }
                    })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

/// Every action of the wizard, handed to the step that uses it.
#[derive(Clone, Copy)]
struct Actions {
    function: ServerAction<LabFunction>,
    code: ServerAction<LabCode>,
    settings: ServerAction<LabSettings>,
    url: ServerAction<LabUrl>,
    call: ServerAction<LabCall>,
    confirm_logs: ServerAction<LabConfirmLogs>,
    validate: ServerAction<LabValidate>,
    fix: ServerAction<LabFix>,
    cleanup: ServerAction<LabCleanup>,
}

#[component]
fn Wizard(lab: LabView, shown: i16, actions: Actions) -> impl IntoView {
    let run = lab.run.clone();
    let (title, purpose, expected) = STEPS[usize::try_from(shown - 1).unwrap_or(0)];
    let status = match run.status.as_str() {
        "completed" => view! { <span class="badge badge-ok">"completed"</span> }.into_any(),
        "cleaned_up" => view! { <span class="badge">"cleaned up"</span> }.into_any(),
        _ => view! { <span class="badge badge-warn">"in progress"</span> }.into_any(),
    };
    let body = match shown {
        2 => view! { <FunctionStep lab=lab action=actions.function /> }.into_any(),
        3 => view! { <CodeStep lab=lab action=actions.code /> }.into_any(),
        4 => view! { <SettingsStep lab=lab action=actions.settings /> }.into_any(),
        5 => view! { <UrlStep lab=lab action=actions.url /> }.into_any(),
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
        </p>
        {run.pending_step.map(|step| view! {
            <div class="alert" role="status" aria-busy="true">
                {format!("Step {step} is in progress. If the server stopped during it, opening the run again in a few minutes rolls it back so you can redo it.")}
            </div>
        })}
        {run.last_failure.clone().filter(|_| run.status == "in_progress").map(|why| view! {
            <p class="hint" data-testid="last-failure">"Last problem: " {why}</p>
        })}
        <StepNav current=shown furthest=run.step lab_run_id=Some(run.lab_run_id) />
        <section class="card" aria-labelledby="step-title" data-testid=format!("step-{shown}")>
            <StepHead number=shown title purpose expected />
            {body}
        </section>
    }
}

#[component]
fn FunctionStep(lab: LabView, action: ServerAction<LabFunction>) -> impl IntoView {
    let run_id = lab.run.lab_run_id.clone();
    let exists = lab.run.function_name.is_some();
    let (name, set_name) = signal(
        lab.run.function_name.clone().unwrap_or_else(|| "lambda-function-url-lab".to_owned()),
    );
    let (taken, set_taken) = signal(None::<String>);
    let id = lab.run.lab_run_id.clone();
    let problem = move || function_name_problem(&name.get()).or_else(|| taken.get());
    let check = move || {
        let (id, name) = (id.clone(), name.get_untracked());
        leptos::task::spawn_local(async move {
            set_taken.set(check_lab_name(id, name).await.ok().flatten());
        });
    };
    let (role_choice, set_role_choice) = signal("new".to_owned());
    let lifecycle = lab.lifecycle.clone();
    let environment = lab.environment.clone();
    let team = lab.team.clone();
    let runtime = lab.runtime.clone();
    let architecture = lab.architecture.clone();
    view! {
        {outcome(action.value(), |()| "The function is created and Active".to_owned())}
        <ActionForm action>
            <input type="hidden" name="lab_run_id" value=run_id.clone() />
            <label for="fn-name">"Function name"</label>
            {if exists {
                view! {
                    <input id="fn-name" value=name.get_untracked() readonly aria-describedby="fn-name-hint" />
                    <p class="hint" id="fn-name-hint">"A function's name cannot change. To use another, clean up this run and start a new one."</p>
                }.into_any()
            } else {
                view! {
                    <input id="fn-name" name="name" required maxlength="64" autocomplete="off"
                        value=name.get_untracked() aria-describedby="fn-name-problem"
                        on:input=move |ev| { set_taken.set(None); set_name.set(event_target_value(&ev)); }
                        on:blur=move |_| check() />
                    <p class="field-error" id="fn-name-problem" role="alert">{problem}</p>
                }.into_any()
            }}
            <label for="fn-runtime">"Runtime"</label>
            <select id="fn-runtime" name="runtime">
                {lab.runtimes.iter().map(|r| view! { <option value=r.clone() selected=*r == runtime>{r.clone()}</option> }).collect_view()}
            </select>
            <fieldset disabled=exists>
                <legend>"Architecture"</legend>
                <label class="check"><input type="radio" name="architecture" value="x86_64" checked=architecture == "x86_64" />" x86_64 (the default; fine for a first lab)"</label>
                <label class="check"><input type="radio" name="architecture" value="arm64" checked=architecture == "arm64" />" arm64 (Graviton: can be cheaper, about 20% less per GB-second — check your dependencies run on it)"</label>
            </fieldset>
            {exists.then(|| view! { <input type="hidden" name="architecture" value=architecture.clone() /> })}
            {if exists {
                view! {
                    <input type="hidden" name="role" value="existing" />
                    <input type="hidden" name="existing_role" value=lab.role_arn.clone() />
                    <p>"Execution role: " <code>{lab.role_arn.clone()}</code>
                        {lab.role_created.then_some(" (created by this lab, with AWSLambdaBasicExecutionRole)")}</p>
                }.into_any()
            } else {
                view! {
                    <fieldset>
                        <legend>"Execution role"</legend>
                        <label class="check"><input type="radio" name="role" value="new" checked=true
                            on:change=move |_| set_role_choice.set("new".into()) />
                            " Create a new role with basic Lambda permissions"</label>
                        <p class="hint">"The console creates it in IAM with Lambda's trust policy and attaches AWSLambdaBasicExecutionRole: permission to write logs to CloudWatch, nothing more."</p>
                        <label class="check"><input type="radio" name="role" value="existing"
                            disabled=lab.roles.is_empty()
                            on:change=move |_| set_role_choice.set("existing".into()) />
                            " Use an existing role"</label>
                        <label for="fn-existing-role" class="visually-hidden">"Existing role"</label>
                        <select id="fn-existing-role" name="existing_role" disabled=move || role_choice.get() != "existing">
                            {lab.roles.iter().map(|(name, arn)| view! { <option value=arn.clone()>{name.clone()}</option> }).collect_view()}
                        </select>
                        {lab.roles.is_empty().then(|| view! { <p class="hint">"No existing role trusts Lambda yet."</p> })}
                    </fieldset>
                }.into_any()
            }}
            <h3>"For the catalog"</h3>
            <p class="hint">"You are the owner. The team, lifecycle, environment and tags are written to the catalog and to the function's tags."</p>
            <label for="fn-team">"Team"</label>
            <select id="fn-team" name="team">
                <option value="" selected=team.is_empty()>"No team"</option>
                {lab.teams.iter().map(|t| view! { <option value=t.clone() selected=*t == team>{t.clone()}</option> }).collect_view()}
            </select>
            <label for="fn-lifecycle">"Lifecycle"</label>
            <select id="fn-lifecycle" name="lifecycle">
                {["experimental", "production", "deprecated"].map(|l| view! { <option value=l selected=l == lifecycle>{l}</option> }).collect_view()}
            </select>
            <label for="fn-environment">"Environment"</label>
            <select id="fn-environment" name="environment">
                {["dev", "staging", "prod"].map(|e| view! { <option value=e selected=e == environment>{e}</option> }).collect_view()}
            </select>
            <label for="fn-tags">"Tags"</label>
            <textarea id="fn-tags" name="tags" rows="3" placeholder="course=intro">{lab.tags.clone()}</textarea>
            <p class="hint">"One key=value a line."</p>
            <button type="submit" class="btn btn-primary" disabled=move || action.pending().get() || (!exists && problem().is_some())>
                {move || match (action.pending().get(), exists) {
                    (true, false) => "Creating the role and the function…",
                    (true, true) => "Saving…",
                    (false, false) => "Create function",
                    (false, true) => "Save changes",
                }}
            </button>
        </ActionForm>
    }
}

#[component]
fn CodeStep(lab: LabView, action: ServerAction<LabCode>) -> impl IntoView {
    let run_id = lab.run.lab_run_id.clone();
    let upload_run_id = run_id.clone();
    let upload = lab.function_id.clone().map(|f| format!("/catalog/{f}/code"));
    view! {
        {outcome(action.value(), |()| "Code deployed".to_owned())}
        <ActionForm action>
            <input type="hidden" name="lab_run_id" value=run_id.clone() />
            <label for="lab-source">{format!("{} (the handler's file)", lab.code_path)}</label>
            <CodeEditor name="source" id="lab-source" path=lab.code_path.clone() initial=lab.source.clone() />
            <p class="hint">"The lab's handler is filled in. Deploying replaces the function's code with this file (UpdateFunctionCode)."</p>
            <button type="submit" class="btn btn-primary" disabled=action.pending()>
                {move || if action.pending().get() { "Deploying…" } else { "Deploy" }}
            </button>
        </ActionForm>
        {upload.map(|href| view! {
            <h3>"Or upload a zip"</h3>
            <form method="post" enctype="multipart/form-data" action=href>
                <input type="hidden" name="lab_run_id" value=upload_run_id />
                <label for="lab-zip">"Deployment package (.zip, up to 50 MB)"</label>
                <input id="lab-zip" name="zip" type="file" accept=".zip,application/zip" required />
                <button type="submit" class="btn">"Upload and deploy"</button>
            </form>
        })}
    }
}

#[component]
fn SettingsStep(lab: LabView, action: ServerAction<LabSettings>) -> impl IntoView {
    let run_id = lab.run.lab_run_id.clone();
    let (memory, set_memory) = signal(lab.memory_mb);
    let (timeout, set_timeout) = signal(lab.timeout_s);
    let arch = if lab.architecture == "arm64" { Arch::Arm64 } else { Arch::X86_64 };
    let cost = move || {
        let mb = u32::try_from(memory.get().clamp(128, 10240)).unwrap_or(128);
        let typical = cost_per_million(mb, 100.0, arch);
        let worst = cost_per_million(mb, f64::from(timeout.get().clamp(1, 900)) * 1000.0, arch);
        format!(
            "At {mb} MB, a million invocations of 100 ms cost ${typical:.2}; if each ran the full {} s timeout, ${worst:.2} (us-east-1 prices, before the free tier).",
            timeout.get()
        )
    };
    view! {
        {outcome(action.value(), |()| "Settings saved".to_owned())}
        <ActionForm action>
            <input type="hidden" name="lab_run_id" value=run_id.clone() />
            <label for="lab-timeout">"Timeout (seconds)"</label>
            <input id="lab-timeout" name="timeout_s" type="number" min="1" max="900" required
                value=lab.timeout_s.to_string()
                on:input=move |ev| set_timeout.set(event_target_value(&ev).parse().unwrap_or(3)) />
            <p class="hint">"3 seconds is plenty for a quick HTTP check."</p>
            <label for="lab-memory">"Memory (MB)"</label>
            <input id="lab-memory" name="memory_mb" type="number" min="128" max="10240" step="1" required
                value=lab.memory_mb.to_string()
                on:input=move |ev| set_memory.set(event_target_value(&ev).parse().unwrap_or(128)) />
            <p class="hint">"128 or 256 MB is fine for this trivial function; CPU grows with memory."</p>
            <p class="cost" data-testid="cost" aria-live="polite">{cost}</p>
            <button type="submit" class="btn btn-primary" disabled=action.pending()>
                {move || if action.pending().get() { "Saving…" } else { "Save settings" }}
            </button>
        </ActionForm>
    }
}

#[component]
fn UrlStep(lab: LabView, action: ServerAction<LabUrl>) -> impl IntoView {
    let run_id = lab.run.lab_run_id.clone();
    let auth = lab.auth_type.clone();
    view! {
        {outcome(action.value(), |()| "Function URL saved".to_owned())}
        {(!lab.url.is_empty()).then(|| view! {
            <p>"URL: " <a href=lab.url.clone() data-testid="function-url">{lab.url.clone()}</a> " · auth type " <strong>{lab.auth_type.clone()}</strong></p>
        })}
        {(!lab.statements.is_empty()).then(|| view! {
            <div class="alert" role="note">
                <p><strong>"Anyone on the internet can call this URL."</strong>
                " The console added the two statements AWS requires for a public URL since October 2025:"</p>
                <ul>
                    <li><strong>"FunctionURLAllowPublicAccess"</strong>": anyone (" <code>"Principal: *"</code> ") may call the URL (" <code>"lambda:InvokeFunctionUrl"</code> "), as long as its auth type is NONE."</li>
                    <li><strong>"FunctionURLAllowInvokeAction"</strong>": those calls may invoke the function (" <code>"lambda:InvokeFunction"</code> "), but only through a Function URL."</li>
                </ul>
                {lab.statements.iter().map(|s| view! { <pre class="json">{s.clone()}</pre> }).collect_view()}
            </div>
        })}
        <ActionForm action>
            <input type="hidden" name="lab_run_id" value=run_id.clone() />
            <fieldset>
                <legend>"Auth type"</legend>
                <label class="check"><input type="radio" name="auth_type" value="NONE" checked=auth == "NONE" />" NONE — public, for this lab only"</label>
                <p class="hint warning">"Security: NONE means anyone who knows the URL can call the function. Use it only for a short-lived lab. For production prefer AWS_IAM, or API Gateway with authorization."</p>
                <label class="check"><input type="radio" name="auth_type" value="AWS_IAM" checked=auth == "AWS_IAM" />" AWS_IAM — only SigV4-signed requests from allowed principals"</label>
            </fieldset>
            <label for="lab-cors">"CORS allowed origins (optional)"</label>
            <input id="lab-cors" name="cors" value=lab.cors.clone() placeholder="https://example.com" autocomplete="off" />
            <p class="hint">"Only needed to call the URL from a web page on another origin. For curl, leave it empty."</p>
            <button type="submit" class="btn btn-primary" disabled=action.pending()>
                {move || if action.pending().get() { "Saving…" } else if lab.url.is_empty() { "Create function URL" } else { "Save" }}
            </button>
        </ActionForm>
    }
}

/// The raw HTTP response, as curl -i shows it.
#[component]
fn RawResponse(call: CallView) -> impl IntoView {
    let raw = match &call.error {
        Some(error) => format!("(no response: {error})"),
        None => {
            let headers: String = call.headers.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
            format!("{}\n{headers}\n{}", call.status_line, call.body)
        }
    };
    view! {
        <p>
            {if call.passed {
                view! { <span class="badge badge-ok">"200 ok"</span> }.into_any()
            } else {
                view! { <span class="badge badge-danger">{if call.status == 0 { "no response".to_owned() } else { call.status.to_string() }}</span> }.into_any()
            }}
            {format!(" in {} ms", call.millis)}
        </p>
        <pre class="raw-response" data-testid="raw-response">{raw}</pre>
    }
}

/// What the doctor found, and its fix button when there is one.
#[component]
fn Doctor(
    diagnosis: DiagnosisView,
    lab_run_id: String,
    fix: ServerAction<LabFix>,
) -> impl IntoView {
    view! {
        <div class="alert alert-error" role="alert" data-testid="diagnosis">
            <p><strong>{diagnosis.problem}</strong></p>
            {(!diagnosis.details.is_empty()).then(|| view! { <pre>{diagnosis.details.join("\n")}</pre> })}
            <p>{diagnosis.advice}</p>
            {diagnosis.fix.map(|f| view! {
                <ActionForm action=fix>
                    <input type="hidden" name="lab_run_id" value=lab_run_id />
                    <input type="hidden" name="fix" value=f />
                    <button type="submit" class="btn" disabled=fix.pending()>{diagnosis.fix_label.unwrap_or_default()}</button>
                </ActionForm>
            })}
        </div>
    }
}

#[component]
fn CallStep(
    lab: LabView,
    action: ServerAction<LabCall>,
    fix: ServerAction<LabFix>,
) -> impl IntoView {
    let run_id = lab.run.lab_run_id.clone();
    let curl = format!("curl -i \"{}\"", lab.url);
    let id = lab.run.lab_run_id.clone();
    let last = lab.last_call.clone();
    let last_diagnosis = lab.last_diagnosis.clone();
    let next = format!("/labs/{id}?step=7");
    view! {
        {outcome(fix.value(), |()| "Fixed; send the request again".to_owned())}
        <p>"URL: " <code>{lab.url}</code></p>
        <label for="curl">"From your terminal"</label>
        <input id="curl" class="copyable" readonly value=curl
            on:focus=move |ev| { event_target::<leptos::web_sys::HtmlInputElement>(&ev).select(); } />
        <p class="hint">"Select it and copy (it selects itself when focused). Expect " <code>"HTTP/1.1 200"</code> " and the body " <code>"ok"</code> "."</p>
        <ActionForm action>
            <input type="hidden" name="lab_run_id" value=run_id.clone() />
            <button type="submit" class="btn btn-primary" disabled=action.pending()>
                {move || if action.pending().get() { "Sending…" } else { "Send the request from the server" }}
            </button>
        </ActionForm>
        {move || {
            let id = id.clone();
            match action.value().get() {
                Some(Ok(outcome)) => {
                    let passed = outcome.call.passed;
                    view! {
                        <RawResponse call=outcome.call />
                        {outcome.diagnosis.map(|d| view! { <Doctor diagnosis=d lab_run_id=id fix /> })}
                        {passed.then(|| view! { <p><a class="btn btn-primary" href=next.clone()>"Next: the logs"</a></p> })}
                    }.into_any()
                }
                Some(Err(error)) => view! { <ErrorAlert error /> }.into_any(),
                None => last.clone().map(|call| view! {
                    <h3>"Last response"</h3>
                    <RawResponse call />
                    {last_diagnosis.clone().map(|d| view! { <Doctor diagnosis=d lab_run_id=id.clone() fix /> })}
                }).into_any(),
            }
        }}
    }
}

#[component]
fn LogsStep(
    lab: LabView,
    action: ServerAction<LabConfirmLogs>,
    fix: ServerAction<LabFix>,
) -> impl IntoView {
    let run_id = lab.run.lab_run_id.clone();
    let id = lab.run.lab_run_id;
    let (reload, set_reload) = signal(0u32);
    let logs_id = id.clone();
    let logs = Resource::new(move || (logs_id.clone(), reload.get()), |(id, _)| lab_logs(id));
    view! {
        <button type="button" class="btn btn-small" on:click=move |_| set_reload.update(|n| *n += 1)>"Reload"</button>
        <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Reading the log stream…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move {
                    logs.await.map(|logs| match logs.stream {
                        None => view! {
                            <p class="empty-state">{format!("No log stream in {} yet. Call the URL (step 6), then reload.", logs.group)}</p>
                        }.into_any(),
                        Some(stream) => view! {
                            <p>"Log group " <code>{logs.group}</code> ", newest stream " <code data-testid="log-stream">{stream}</code></p>
                            <ol class="log-lines" data-testid="log-lines">
                                {logs.lines.into_iter().map(|line| {
                                    let meaning = log_line_meaning(&line.kind);
                                    view! {
                                        <li class=format!("log-line log-{}", line.kind)>
                                            <code>{line.message}</code>
                                            <span class="hint">{meaning}</span>
                                        </li>
                                    }
                                }).collect_view()}
                            </ol>
                        }.into_any(),
                    })
                })}
            </ErrorBoundary>
        </Transition>
        <ActionForm action>
            <input type="hidden" name="lab_run_id" value=run_id.clone() />
            <button type="submit" class="btn btn-primary" disabled=action.pending()>"I found my invocation: next"</button>
        </ActionForm>
        {move || {
            let id = id.clone();
            match action.value().get() {
                Some(Ok(Some(d))) => view! { <Doctor diagnosis=d lab_run_id=id fix /> }.into_any(),
                Some(Ok(None)) => view! {
                    <div class="alert alert-ok" role="status">"Found. " <a href=format!("/labs/{id}?step=8")>"Next: validation"</a></div>
                }.into_any(),
                Some(Err(error)) => view! { <ErrorAlert error /> }.into_any(),
                None => ().into_any(),
            }
        }}
    }
}

#[component]
fn ValidateStep(
    lab: LabView,
    action: ServerAction<LabValidate>,
    fix: ServerAction<LabFix>,
) -> impl IntoView {
    let run_id = lab.run.lab_run_id.clone();
    let id = lab.run.lab_run_id;
    let last = lab.last_validation;
    view! {
        <ActionForm action>
            <input type="hidden" name="lab_run_id" value=run_id.clone() />
            <button type="submit" class="btn btn-primary" disabled=action.pending()>
                {move || if action.pending().get() { "Checking…" } else { "Run the checks" }}
            </button>
        </ActionForm>
        {move || {
            let id = id.clone();
            match action.value().get() {
                Some(Ok(v)) => view! { <Checklist v lab_run_id=id fix /> }.into_any(),
                Some(Err(error)) => view! { <ErrorAlert error /> }.into_any(),
                None => last.clone().map(|v| view! {
                    <h3>"Last checked"</h3>
                    <Checklist v lab_run_id=id fix />
                }).into_any(),
            }
        }}
    }
}

/// The lab's checklist, green or red with the reason, and the doctor when something is red.
#[component]
fn Checklist(v: Validation, lab_run_id: String, fix: ServerAction<LabFix>) -> impl IntoView {
    let all = v.checks.iter().all(|c| c.passed);
    let next = format!("/labs/{lab_run_id}?step=9");
    view! {
        <ul class="checklist" data-testid="checklist">
            {v.checks.into_iter().map(|c| view! {
                <li class=if c.passed { "check-ok" } else { "check-fail" }>
                    <span aria-hidden="true">{if c.passed { "✔ " } else { "✘ " }}</span>
                    <strong>{c.label}</strong>
                    <span class="visually-hidden">{if c.passed { " passed" } else { " failed" }}</span>
                    " — " {c.detail}
                </li>
            }).collect_view()}
        </ul>
        {v.diagnosis.map(|d| view! { <Doctor diagnosis=d lab_run_id fix /> })}
        {all.then(|| view! {
            <div class="alert alert-ok" role="status">"You completed the lab. " <a href=next>"Next: clean up"</a></div>
        })}
    }
}

/// The ledger as a table; after a cleanup, what happened to each resource.
#[component]
pub fn LedgerTable(entries: Vec<LedgerView>) -> impl IntoView {
    if entries.is_empty() {
        return view! { <p class="empty-state">"The console created nothing here; it deletes only what it created."</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="table" data-testid="ledger">
                <thead><tr>
                    <th scope="col">"Resource"</th><th scope="col">"Name"</th><th scope="col">"State"</th>
                    <th scope="col">"Created"</th><th scope="col">"Note"</th>
                </tr></thead>
                <tbody>
                    {entries.into_iter().map(|e| {
                        let badge = match e.state.as_str() {
                            "deleted" => "badge",
                            "failed" => "badge badge-danger",
                            "kept" | "creating" => "badge badge-warn",
                            _ => "badge badge-ok",
                        };
                        view! {
                            <tr data-testid="ledger-row">
                                <td>{e.kind}</td>
                                <td><code>{e.name}</code>{e.parent.map(|p| view! { <div class="muted">"of " {p}</div> })}</td>
                                <td><span class=badge>{e.state}</span></td>
                                <td><time datetime=e.created.clone()>{e.created.clone()}</time>{e.owner.map(|o| view! { <div class="muted">{o}</div> })}</td>
                                <td>{e.note.unwrap_or_default()}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn CleanupStep(lab: LabView, action: ServerAction<LabCleanup>) -> impl IntoView {
    let run_id = lab.run.lab_run_id.clone();
    let ledger = lab.ledger.clone();
    let live = ledger.iter().any(|e| e.state != "deleted");
    view! {
        {outcome(action.value(), |list: Vec<LedgerView>| cleanup_summary(&list))}
        {move || match action.value().get() {
            Some(Ok(list)) => view! { <h3>"What happened"</h3> <LedgerTable entries=list /> }.into_any(),
            _ => view! {
                <h3>{if live { "What will be deleted" } else { "Everything this run created" }}</h3>
                <LedgerTable entries=ledger.clone() />
            }.into_any(),
        }}
        {live.then(|| view! {
            <ActionForm action>
                <input type="hidden" name="lab_run_id" value=run_id.clone() />
                <label class="check" for="cleanup-confirm">
                    <input id="cleanup-confirm" type="checkbox" name="confirm" value="yes" required />
                    " Delete these resources from " {lab.run.connection.clone()} " (" {lab.run.region.clone()} ")"
                </label>
                <button type="submit" class="btn btn-danger" disabled=action.pending()>
                    {move || if action.pending().get() { "Deleting and verifying…" } else { "Delete and verify" }}
                </button>
            </ActionForm>
        })}
    }
}

/// The function page's Cleanup section: its ledger, and delete-and-verify.
#[component]
pub fn FunctionCleanup(function_id: String, can_edit: bool) -> impl IntoView {
    let action = ServerAction::<CleanupFunction>::new();
    let id = function_id.clone();
    let ledger =
        Resource::new(move || (id.clone(), action.version().get()), |(id, _)| function_ledger(id));
    view! {
        <section class="card" aria-labelledby="cleanup-title" id="cleanup">
            <h2 id="cleanup-title">"Cleanup"</h2>
            <p class="muted">"What the console created for this function. Cleanup deletes it in order (URL, statements, function, log group, then the role if nothing else uses it) and checks with the cloud that each is gone. It never deletes what the console did not create."</p>
            {outcome(action.value(), |list: Vec<LedgerView>| cleanup_summary(&list))}
            <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading the ledger…"</p> }>
                <ErrorBoundary fallback=error_fallback>
                    {move || {
                        let function_id = function_id.clone();
                        Suspend::new(async move {
                            ledger.await.map(|entries| {
                                let live = entries.iter().any(|e| e.state != "deleted");
                                view! {
                                    {move || action.value().get().and_then(Result::ok).map(|list| view! { <h3>"What happened"</h3> <LedgerTable entries=list /> })}
                                    <LedgerTable entries />
                                    {(live && can_edit).then(|| view! {
                                        <ActionForm action>
                                            <input type="hidden" name="function_id" value=function_id.clone() />
                                            <label class="check" for="fn-cleanup-confirm">
                                                <input id="fn-cleanup-confirm" type="checkbox" name="confirm" value="yes" required />
                                                " Delete what the console created for this function"
                                            </label>
                                            <button type="submit" class="btn btn-danger" disabled=action.pending()>"Delete and verify"</button>
                                        </ActionForm>
                                    })}
                                }
                            })
                        })
                    }}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

/// `/labs`: my runs, and for admins everyone's, refreshed every few seconds.
#[component]
pub fn LabsPage() -> impl IntoView {
    let (tick, set_tick) = signal(0u32);
    let labs = Resource::new(move || tick.get(), |_| list_labs());
    // The instructor board is live: a fresh read every 5 s while the page is open.
    Effect::new(move |_| {
        let handle = set_interval_with_handle(
            move || set_tick.update(|n| *n = n.wrapping_add(1)),
            std::time::Duration::from_secs(5),
        );
        on_cleanup(move || {
            if let Ok(handle) = handle {
                handle.clear();
            }
        });
    });
    view! {
        <Title text="Labs" />
        <div class="page-head">
            <h1>"Labs"</h1>
            <a class="btn btn-primary" href="/create">"Start the lab"</a>
        </div>
        <p class="lead">"The AWS Lambda hands-on lab as a guided wizard: each step checked against real state, and nothing left behind."</p>
        <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading lab runs…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move { labs.await.map(|data| view! { <LabsTables data /> }) })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn LabsTables(data: LabsData) -> impl IntoView {
    let in_progress: Vec<LabRunRow> =
        data.mine.iter().filter(|r| r.status == "in_progress").cloned().collect();
    let completed: Vec<LabRunRow> =
        data.mine.iter().filter(|r| r.status == "completed").cloned().collect();
    let cleaned: Vec<LabRunRow> =
        data.mine.iter().filter(|r| r.status == "cleaned_up").cloned().collect();
    view! {
        <section class="card" aria-labelledby="my-runs">
            <h2 id="my-runs">"My lab runs"</h2>
            {data.mine.is_empty().then(|| view! {
                <p class="empty-state">"No lab runs yet. " <a href="/create">"Start the lab"</a> " to create your first function."</p>
            })}
            {(!in_progress.is_empty()).then(|| view! { <h3>"In progress"</h3> <RunTable rows=in_progress board=false /> })}
            {(!completed.is_empty()).then(|| view! { <h3>"Completed"</h3> <RunTable rows=completed board=false /> })}
            {(!cleaned.is_empty()).then(|| view! { <h3>"Cleaned up"</h3> <RunTable rows=cleaned board=false /> })}
        </section>
        {data.is_admin.then(|| view! {
            <section class="card" aria-labelledby="board">
                <h2 id="board">"Instructor board"</h2>
                <p class="muted" aria-live="polite">"Every learner's runs, refreshed every 5 seconds."</p>
                {if data.everyone.is_empty() {
                    view! { <p class="empty-state">"Nobody has started the lab yet."</p> }.into_any()
                } else {
                    view! { <RunTable rows=data.everyone board=true /> }.into_any()
                }}
            </section>
        })}
    }
}

#[component]
fn RunTable(rows: Vec<LabRunRow>, board: bool) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table" data-testid=if board { "board" } else { "my-runs" }>
                <thead><tr>
                    {board.then(|| view! { <th scope="col">"Learner"</th> })}
                    <th scope="col">"Function"</th><th scope="col">"Step"</th><th scope="col">"Failures"</th>
                    <th scope="col">"Time spent"</th><th scope="col">"Started"</th><th scope="col">"Expires"</th>
                </tr></thead>
                <tbody>
                    {rows.into_iter().map(|r| {
                        let step = usize::try_from(r.step - 1).unwrap_or(0).min(8);
                        let href = format!("/labs/{}", r.lab_run_id);
                        view! {
                            <tr data-testid="lab-run">
                                {board.then(|| view! { <td>{r.email.clone()}</td> })}
                                <td><a href=href>{r.function_name.clone().unwrap_or_else(|| "(not created yet)".to_owned())}</a>
                                    <div class="muted">{format!("{} · {}", r.connection, r.region)}</div></td>
                                <td>{format!("{}. {}", r.step, STEPS[step].0)}
                                    {(r.status != "in_progress").then(|| view! { " " <span class="badge">{r.status.replace('_', " ")}</span> })}</td>
                                <td>{r.failures}{r.last_failure.clone().map(|f| view! { <div class="muted">{f}</div> })}</td>
                                <td>{format!("{} min", r.minutes)}</td>
                                <td><time datetime=r.started.clone()>{r.started.clone()}</time></td>
                                <td>{r.expires.clone().unwrap_or_else(|| "never".to_owned())}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
