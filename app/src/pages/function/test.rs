//! The Test tab: a JSON editor (checked as it is typed) filled from a template, a saved event or
//! an earlier invocation; Test invokes with it and shows the result beside it — status, the
//! function's error with its stack trace, the response, duration, billed duration, init duration
//! on a cold start, memory used, the executed version and the log tail; Save keeps it (private or
//! shared); History lists every test invocation, each with Replay.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::testing::{
    DeleteTestEvent, ImportTestEvents, ReplayTestInvocation, RunTestEvent, imported, test_tab,
};
use crate::components::forms::{field_error, invalid, outcome, successes};
use crate::error::error_fallback;
use crate::types::{InvocationView, TestEditor, TestTabView, invocation_summary};

#[component]
pub fn TestTab() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let run = ServerAction::<RunTestEvent>::new();
    let replay = ServerAction::<ReplayTestInvocation>::new();
    let delete = ServerAction::<DeleteTestEvent>::new();
    let import = ServerAction::<ImportTestEvents>::new();
    let (ran, replayed, deleted, imports) = (
        successes(run.value()),
        successes(replay.value()),
        successes(delete.value()),
        successes(import.value()),
    );
    let tab = Resource::new(
        move || {
            let id = params.with(|p| p.get("id").unwrap_or_default());
            let pick = query.with(|q| (q.get("template"), q.get("event"), q.get("replay")));
            (id, pick, ran.get(), replayed.get(), deleted.get(), imports.get())
        },
        |(id, (template, event, replay), ..)| test_tab(id, template, event, replay),
    );
    view! {
        <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move {
                    let function_id = params.with(|p| p.get("id").unwrap_or_default());
                    tab.await.map(|t| view! { <Test t function_id run replay delete import /> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn Test(
    t: TestTabView,
    function_id: String,
    run: ServerAction<RunTestEvent>,
    replay: ServerAction<ReplayTestInvocation>,
    delete: ServerAction<DeleteTestEvent>,
    import: ServerAction<ImportTestEvents>,
) -> impl IntoView {
    let base = format!("/catalog/{function_id}/test");
    // The latest result: of the last Test or Replay pressed on this page.
    let result = move || {
        let from = |v: Option<Result<crate::types::TestOutcome, _>>| {
            v.and_then(|r| r.ok()).and_then(|o| o.invocation)
        };
        from(replay.value().get()).or_else(|| from(run.value().get()))
    };
    view! {
        <div class="test-layout">
            <aside class="card" aria-labelledby="events-title">
                <h2 id="events-title">"Test events"</h2>
                {outcome(delete.value(), |()| "Test event deleted".to_owned())}
                <EventList t=t.clone() base=base.clone() function_id=function_id.clone() delete />
                <form method="get" action=base.clone() class="stack">
                    <label for="test-template">"New from a template"</label>
                    <select id="test-template" name="template">
                        {t.templates
                            .iter()
                            .map(|(name, label)| view! { <option value=name.clone()>{format!("{label} ({name})")}</option> })
                            .collect_view()}
                    </select>
                    <button type="submit" class="btn">"Use template"</button>
                </form>
                <Sharing function_id=function_id.clone() can_import=t.can_invoke import />
            </aside>
            <section class="card" aria-labelledby="editor-title">
                <h2 id="editor-title">"Event"</h2>
                <p class="muted" data-testid="editor-source">{format!("From {}.", t.editor.source)}</p>
                {if t.can_invoke {
                    view! { <Editor editor=t.editor.clone() function_id=function_id.clone() run /> }.into_any()
                } else {
                    view! {
                        <pre class="payload">{t.editor.payload.clone()}</pre>
                        <p class="muted">"Only the owner, their team and admins can invoke this function."</p>
                    }
                        .into_any()
                }}
                {outcome(replay.value(), |o: crate::types::TestOutcome| {
                    o.invocation.as_ref().map(invocation_summary).unwrap_or_default()
                })}
                {move || result().map(|i| view! { <ResultPanel i /> })}
            </section>
        </div>
        <History history=t.history can_invoke=t.can_invoke base function_id replay />
    }
}

#[component]
fn EventList(
    t: TestTabView,
    base: String,
    function_id: String,
    delete: ServerAction<DeleteTestEvent>,
) -> impl IntoView {
    if t.events.is_empty() {
        return view! { <p class="empty-state">"No saved events yet: save one from the editor."</p> }
            .into_any();
    }
    let items = t
        .events
        .into_iter()
        .map(|e| {
            let href = format!("{base}?event={}", e.test_event_id);
            let who = if e.mine { "yours".to_owned() } else { e.owner.clone() };
            let (function_id, id) = (function_id.clone(), e.test_event_id.clone());
            view! {
                <li data-testid="test-event">
                    <a href=href>{e.name.clone()}</a>
                    " " <span class="muted">{who}</span>
                    {e.shared.then(|| view! { " " <span class="badge">"shared"</span> })}
                    {(e.versions > 0).then(|| view! { " " <span class="muted">{format!("{} earlier version(s)", e.versions)}</span> })}
                    {(e.mine && t.can_invoke).then(|| view! {
                        <ActionForm action=delete attr:class="inline">
                            <input type="hidden" name="function_id" value=function_id />
                            <input type="hidden" name="test_event_id" value=id />
                            <button type="submit" class="btn btn-small" aria-label=format!("Delete the test event {}", e.name)>"Delete"</button>
                        </ActionForm>
                    })}
                </li>
            }
        })
        .collect_view();
    view! { <ul class="test-events">{items}</ul> }.into_any()
}

/// Export and import in the format of Lambda's shareable test events, so events move between
/// the console, the Lambda console and `sam remote test-event`.
#[component]
fn Sharing(
    function_id: String,
    can_import: bool,
    import: ServerAction<ImportTestEvents>,
) -> impl IntoView {
    let export = format!("/catalog/{function_id}/test-events.json");
    view! {
        <details class="sharing">
            <summary>"Export or import"</summary>
            <p class="muted">
                "In the format of Lambda's shareable test events (the "
                <code>"lambda-testevent-schemas"</code>
                " registry), read and written by the Lambda console and "
                <code>"sam remote test-event"</code> "."
            </p>
            <p><a href=export download>"Export the events you see"</a></p>
            {can_import.then(|| view! {
                <ActionForm action=import attr:class="stack">
                    <input type="hidden" name="function_id" value=function_id />
                    <label for="import-document">"Shareable test event document"</label>
                    <textarea id="import-document" name="document" rows="6" class="code" spellcheck="false"
                        aria-describedby="import-document-hint import-document-error"
                        aria-invalid=invalid(import.value(), "document")></textarea>
                    <p id="import-document-hint" class="muted">
                        "Paste an exported file, or the output of "
                        <code>"aws schemas describe-schema --registry-name lambda-testevent-schemas --schema-name _<function>-schema --query Content --output text"</code>
                    </p>
                    {field_error(import.value(), "document", "import-document-error")}
                    <label class="check" for="import-shared">
                        <input id="import-shared" type="checkbox" name="shared" value="yes" />
                        " Share the imported events"
                    </label>
                    <label class="check" for="import-replace">
                        <input id="import-replace" type="checkbox" name="replace" value="yes" />
                        " Replace events with the same name"
                    </label>
                    <button type="submit" class="btn">"Import"</button>
                    {outcome(import.value(), |n: usize| imported(n))}
                </ActionForm>
            })}
        </details>
    }
}

#[component]
fn Editor(
    editor: TestEditor,
    function_id: String,
    run: ServerAction<RunTestEvent>,
) -> impl IntoView {
    // Checked as it is typed (with JavaScript); the server checks it again.
    let problem = RwSignal::new(None::<String>);
    let check = move |text: String| {
        problem.set(
            serde_json::from_str::<serde_json::Value>(&text)
                .err()
                .map(|e| format!("Not JSON: {e}")),
        );
    };
    let types = ["RequestResponse", "Event", "DryRun"];
    let chosen = editor.invocation_type.clone();
    view! {
        <ActionForm action=run>
            <input type="hidden" name="function_id" value=function_id />
            {editor.test_event_id.clone().map(|id| view! { <input type="hidden" name="test_event_id" value=id /> })}
            <label for="test-payload">"Event JSON"</label>
            <textarea id="test-payload" name="payload" rows="14" class="code" spellcheck="false"
                aria-describedby="test-payload-problem test-payload-error"
                aria-invalid=move || problem.with(Option::is_some).then_some("true")
                on:input=move |e| check(event_target_value(&e))>{editor.payload.clone()}</textarea>
            <p id="test-payload-problem" class="field-error" aria-live="polite">{move || problem.get()}</p>
            {field_error(run.value(), "payload", "test-payload-error")}
            <div class="grid-2">
                <div>
                    <label for="test-type">"Invocation type"</label>
                    <select id="test-type" name="invocation_type">
                        {types.map(|t| view! { <option value=t selected=t == chosen>{t}</option> }).collect_view()}
                    </select>
                </div>
                <div>
                    <label for="test-qualifier">"Version or alias (optional)"</label>
                    <input id="test-qualifier" name="qualifier" value=editor.qualifier.clone() placeholder="$LATEST"
                        aria-describedby="test-qualifier-error" aria-invalid=invalid(run.value(), "qualifier") />
                    {field_error(run.value(), "qualifier", "test-qualifier-error")}
                </div>
                <div>
                    <label for="test-tenant">"Tenant id (tenant-isolated functions only)"</label>
                    <input id="test-tenant" name="tenant_id" value=editor.tenant_id.clone() placeholder="e.g. blue"
                        aria-describedby="test-tenant-error" aria-invalid=invalid(run.value(), "tenant_id") />
                    {field_error(run.value(), "tenant_id", "test-tenant-error")}
                </div>
            </div>
            <button type="submit" name="intent" value="invoke" class="btn btn-primary" disabled=run.pending()>
                {move || if run.pending().get() { "Invoking…" } else { "Test" }}
            </button>
            <fieldset class="save-event">
                <legend>"Save this event"</legend>
                <label for="test-name">"Name"</label>
                <input id="test-name" name="name" value=editor.name.clone() maxlength="25" placeholder="e.g. order-created"
                    aria-describedby="test-name-error" aria-invalid=invalid(run.value(), "name") />
                {field_error(run.value(), "name", "test-name-error")}
                <label class="check" for="test-shared">
                    <input id="test-shared" type="checkbox" name="shared" value="yes" checked=editor.shared />
                    " Shared: everyone who may read this function sees it"
                </label>
                <button type="submit" name="intent" value="save" class="btn">"Save"</button>
            </fieldset>
            {outcome(run.value(), |o: crate::types::TestOutcome| match &o.invocation {
                Some(i) => invocation_summary(i),
                None => "Test event saved".to_owned(),
            })}
        </ActionForm>
    }
}

#[component]
fn ResultPanel(i: InvocationView) -> impl IntoView {
    let number = |v: Option<f64>, unit: &str| v.map(|v| format!("{v:.2} {unit}"));
    let facts = [
        ("Status", Some(i.status.to_string())),
        ("Duration", number(i.duration_ms, "ms")),
        ("Billed duration", i.billed_ms.map(|b| format!("{b} ms"))),
        ("Init duration (cold start)", number(i.init_ms, "ms")),
        (
            "Memory used",
            i.memory_used_mb.map(|u| format!("{u} of {} MB", i.memory_size_mb.unwrap_or_default())),
        ),
        ("Executed version", i.executed_version.clone()),
        ("Tenant", i.tenant_id.clone()),
        ("Request id", i.request_id.clone()),
    ];
    view! {
        <div class="result" data-testid="test-result" role="region" aria-label="Result">
            {i.function_error.clone().map(|kind| view! {
                <div class="alert alert-error" role="alert">
                    <strong>{i.error_type.clone().unwrap_or(kind)}</strong>
                    {i.error_message.clone().map(|m| view! { ": " {m} })}
                    {(!i.stack_trace.is_empty()).then(|| view! { <pre class="stack">{i.stack_trace.join("\n")}</pre> })}
                </div>
            })}
            <dl class="facts">
                {facts
                    .into_iter()
                    .filter_map(|(label, value)| value.map(|v| view! { <dt>{label}</dt> <dd>{v}</dd> }))
                    .collect_view()}
            </dl>
            <h3>"Response"</h3>
            <pre class="payload" data-testid="test-response">{i.response.clone()}</pre>
            {(!i.log_tail.is_empty()).then(|| view! {
                <h3>"Log tail"</h3>
                <pre class="payload" data-testid="test-log">{i.log_tail.clone()}</pre>
            })}
        </div>
    }
}

#[component]
fn History(
    history: Vec<InvocationView>,
    can_invoke: bool,
    base: String,
    function_id: String,
    replay: ServerAction<ReplayTestInvocation>,
) -> impl IntoView {
    let rows = history
        .into_iter()
        .map(|i| {
            let outcome = match (&i.function_error, i.status) {
                (Some(_), _) => i.error_type.clone().unwrap_or_else(|| "failed".to_owned()),
                (None, 202) => "queued".to_owned(),
                (None, 204) => "dry run".to_owned(),
                (None, _) => "succeeded".to_owned(),
            };
            let (function_id, id) = (function_id.clone(), i.test_invocation_id.clone());
            let edit = format!("{base}?replay={}", i.test_invocation_id);
            view! {
                <tr data-testid="test-history-row">
                    <td><time datetime=i.at.clone()>{i.at.clone()}</time></td>
                    <td>{i.who.clone()}</td>
                    <td>{i.event_name.clone().unwrap_or_else(|| "unsaved".to_owned())} <div class="muted">{i.invocation_type.clone()}</div></td>
                    <td>{outcome}</td>
                    <td>{i.duration_ms.map(|d| format!("{d:.2} ms"))} {i.init_ms.map(|d| view! { <div class="muted">{format!("init {d:.2} ms")}</div> })}</td>
                    <td>{i.executed_version.clone()}</td>
                    <td><code>{i.request_id}</code></td>
                    <td>
                        <a href=edit>"Open"</a>
                        {can_invoke.then(|| view! {
                            <ActionForm action=replay attr:class="inline">
                                <input type="hidden" name="function_id" value=function_id />
                                <input type="hidden" name="test_invocation_id" value=id />
                                <button type="submit" class="btn btn-small">"Replay"</button>
                            </ActionForm>
                        })}
                    </td>
                </tr>
            }
        })
        .collect::<Vec<_>>();
    view! {
        <section class="card" aria-labelledby="history-title">
            <h2 id="history-title">"History"</h2>
            {if rows.is_empty() {
                view! { <p class="empty-state">"No test invocations yet."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="table" data-testid="test-history">
                            <thead>
                                <tr>
                                    <th scope="col">"When (UTC)"</th>
                                    <th scope="col">"Who"</th>
                                    <th scope="col">"Event"</th>
                                    <th scope="col">"Outcome"</th>
                                    <th scope="col">"Duration"</th>
                                    <th scope="col">"Version"</th>
                                    <th scope="col">"Request id"</th>
                                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                </tr>
                            </thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                }
                    .into_any()
            }}
        </section>
    }
}
