//! `/create/function`: the one-page Create form for the self-service portal — name, runtime,
//! architecture, role, code, memory, timeout, an optional URL, and the catalog's metadata — with
//! the platform team's rules checked as it is typed. An error-level rule keeps the button
//! disabled (and the server refuses it anyway); the function is made all or nothing.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

use crate::api::create::{CreateFunction, check_create, create_options, create_roles};
use crate::components::exceptions::SeverityBadge;
use crate::components::forms::{field_error, invalid, outcome, retry_when_busy};
use crate::error::error_fallback;
use crate::forms::CreateForm;
use crate::rules::function_name_problem;
use crate::types::{CreateFormOptions, RuleFinding};

#[component]
pub fn CreateFunctionPage() -> impl IntoView {
    let options = Resource::new(|| (), |()| create_options());
    view! {
        <Title text="Create a function" />
        <h1>"Create a function"</h1>
        <p class="lead">
            "One page: the function, its role and code, its settings and (if you want one) its Function URL. The platform team's rules are checked as you type. Everything the console makes is recorded, so the function's Cleanup tab can delete it all later. New to Lambda? "
            <a href="/create">"Follow the guided lab"</a> " instead."
        </p>
        <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move {
                    options.await.map(|options| view! { <CreateFormView options /> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

/// The form, once the options are known; `draft` mirrors what is typed for the live check.
#[component]
fn CreateFormView(options: CreateFormOptions) -> impl IntoView {
    let action = ServerAction::<CreateFunction>::new();
    retry_when_busy(action);
    Effect::new(move |_| {
        if let Some(Ok(id)) = action.value().get() {
            use_navigate()(&format!("/catalog/{id}"), Default::default());
        }
    });
    if options.targets.is_empty() {
        return view! {
            <p class="empty-state">"No connection is open to you for creating functions. An admin adds connections on the Connections page."</p>
        }
        .into_any();
    }
    let target = options
        .targets
        .iter()
        .find(|t| t.is_default)
        .or(options.targets.first())
        .map(|t| format!("{}|{}", t.connection_id, t.region))
        .unwrap_or_default();
    let runtime = options.runtimes.first().cloned().unwrap_or_default();
    let templates = StoredValue::new(options.templates.clone());
    let template_of = move |runtime: &str| {
        templates.with_value(|t| {
            t.iter().find(|(r, _)| r == runtime).map(|(_, s)| s.clone()).unwrap_or_default()
        })
    };
    let source = RwSignal::new(template_of(&runtime));
    let draft = RwSignal::new(CreateForm {
        target: target.clone(),
        name: String::new(),
        runtime,
        architecture: "x86_64".into(),
        role: "new".into(),
        memory: "128".into(),
        timeout: "3".into(),
        auth_type: "none".into(),
        lifecycle: "experimental".into(),
        environment: "dev".into(),
        ..CreateForm::default()
    });
    // The rules' verdict on what is typed (the source is not judged: leave it out of the key).
    let findings = Resource::new(
        move || CreateForm { source: None, ..draft.get() },
        |form| async move { check_create(form).await },
    );
    let roles = Resource::new(move || draft.with(|d| d.target.clone()), create_roles);
    let set = move |apply: fn(&mut CreateForm, String)| {
        move |ev: leptos::ev::Event| {
            let value = event_target_value(&ev);
            draft.update(|d| apply(d, value));
        }
    };
    let on_runtime = move |ev: leptos::ev::Event| {
        let runtime = event_target_value(&ev);
        // The template follows the runtime until the code is edited.
        let old = draft.with_untracked(|d| template_of(&d.runtime));
        if source.get_untracked() == old {
            source.set(template_of(&runtime));
        }
        draft.update(|d| d.runtime = runtime);
    };
    let name_problem = move || {
        draft.with(|d| (!d.name.is_empty()).then(|| function_name_problem(&d.name)).flatten())
    };
    let blocking = move || {
        findings.get().and_then(Result::ok).is_some_and(|f| f.iter().any(|f| f.severity == "error"))
    };
    // A field's error-level findings, for its aria-invalid and its line under it.
    let errors_on = move |field: &str| -> Vec<RuleFinding> {
        let found = findings.get().and_then(Result::ok).unwrap_or_default();
        found.into_iter().filter(|f| f.field == field && f.severity == "error").collect()
    };
    let broken = move |field: &'static str| {
        move || {
            (!errors_on(field).is_empty())
                .then_some("true")
                .or_else(|| invalid(action.value(), field)())
        }
    };
    // Under a field: the error-level rules it breaks, with their fixes (all are in the panel).
    let rule_lines = move |field: &'static str, id: &'static str| {
        move || {
            let lines: Vec<String> =
                errors_on(field).into_iter().map(|f| format!("{} {}", f.message, f.fix)).collect();
            (!lines.is_empty())
                .then(|| view! { <p class="field-error" id=id>{lines.join(" ")}</p> })
        }
    };
    let existing_roles_allowed = options.existing_roles_allowed;
    view! {
        {outcome(action.value(), |_| "The function is created".to_owned())}
        <ActionForm action attr:class="create-form" attr:data-testid="create-form">
            <section class="card" aria-labelledby="create-where">
                <h2 id="create-where">"Function"</h2>
                <label for="create-target">"Connection and region"</label>
                <select id="create-target" name="target" on:change=set(|d, v| d.target = v)>
                    {options.targets.iter().map(|t| {
                        let value = format!("{}|{}", t.connection_id, t.region);
                        let label = format!("{} · {}", t.label, t.region);
                        let selected = value == target;
                        view! { <option value=value selected=selected>{label}</option> }
                    }).collect_view()}
                </select>
                {field_error(action.value(), "target", "create-target-error")}
                <label for="create-name">"Function name"</label>
                <input id="create-name" name="name" required maxlength="64" autocomplete="off"
                    aria-describedby="create-name-hint create-name-problem create-name-rules create-name-error"
                    aria-invalid=broken("name")
                    on:input=set(|d, v| d.name = v) />
                <p class="hint" id="create-name-hint">"Letters, digits, hyphens and underscores; up to 64. It cannot change later."</p>
                <p class="field-error" id="create-name-problem" role="alert">{name_problem}</p>
                {rule_lines("name", "create-name-rules")}
                {field_error(action.value(), "name", "create-name-error")}
                <label for="create-runtime">"Runtime"</label>
                <select id="create-runtime" name="runtime" aria-describedby="create-runtime-rules" aria-invalid=broken("runtime") on:change=on_runtime>
                    {options.runtimes.iter().map(|r| view! { <option value=r.clone()>{r.clone()}</option> }).collect_view()}
                </select>
                {rule_lines("runtime", "create-runtime-rules")}
                <fieldset>
                    <legend>"Architecture"</legend>
                    <label class="check"><input type="radio" name="architecture" value="x86_64" checked=true
                        on:change=set(|d, v| d.architecture = v) />" x86_64"</label>
                    <label class="check"><input type="radio" name="architecture" value="arm64"
                        on:change=set(|d, v| d.architecture = v) />" arm64 (Graviton: about 20% less per GB-second)"</label>
                </fieldset>
                <fieldset>
                    <legend>"Execution role"</legend>
                    <label class="check"><input type="radio" name="role" value="new" checked=true
                        on:change=set(|d, v| d.role = v) />" Create a new role with basic Lambda permissions (logs only)"</label>
                    {existing_roles_allowed.then(|| view! {
                        <label class="check"><input type="radio" name="role" value="existing"
                            on:change=set(|d, v| d.role = v) />" Use an existing role"</label>
                        <label for="create-existing-role" class="visually-hidden">"Existing role"</label>
                        <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading roles…"</p> }>
                            {move || roles.get().map(|roles| match roles {
                                Ok(roles) if roles.is_empty() => view! { <p class="hint">"No role of this connection trusts Lambda (or an admin allows none)."</p> }.into_any(),
                                Ok(roles) => view! {
                                    <select id="create-existing-role" name="existing_role"
                                        disabled=move || draft.with(|d| d.role != "existing")>
                                        {roles.into_iter().map(|(name, arn)| view! { <option value=arn>{name}</option> }).collect_view()}
                                    </select>
                                }.into_any(),
                                Err(error) => view! { <p class="field-error">{format!("The roles could not be read: {error}")}</p> }.into_any(),
                            })}
                        </Transition>
                    })}
                    {field_error(action.value(), "existing_role", "create-role-error")}
                    {field_error(action.value(), "role", "create-role-error2")}
                </fieldset>
            </section>
            <section class="card" aria-labelledby="create-code">
                <h2 id="create-code">"Code"</h2>
                <label for="create-source">"Handler file"</label>
                <textarea id="create-source" name="source" rows="10" spellcheck="false" class="code"
                    aria-describedby="create-source-hint create-source-error"
                    prop:value=move || source.get()
                    on:input=move |ev| source.set(event_target_value(&ev))>{source.get_untracked()}</textarea>
                <p class="hint" id="create-source-hint">"Starts as the runtime's template (it answers ok). Edit it here, or create the function and upload a zip on its Code tab."</p>
                {field_error(action.value(), "source", "create-source-error")}
            </section>
            <section class="card" aria-labelledby="create-settings">
                <h2 id="create-settings">"Settings"</h2>
                <label for="create-memory">"Memory (MB)"</label>
                <input id="create-memory" name="memory" type="number" min="128" max="10240" value="128" required
                    aria-describedby="create-memory-rules create-memory-error" aria-invalid=broken("memory")
                    on:input=set(|d, v| d.memory = v) />
                {rule_lines("memory", "create-memory-rules")}
                {field_error(action.value(), "memory", "create-memory-error")}
                <label for="create-timeout">"Timeout (seconds)"</label>
                <input id="create-timeout" name="timeout" type="number" min="1" max="900" value="3" required
                    aria-describedby="create-timeout-rules create-timeout-error" aria-invalid=broken("timeout")
                    on:input=set(|d, v| d.timeout = v) />
                {rule_lines("timeout", "create-timeout-rules")}
                {field_error(action.value(), "timeout", "create-timeout-error")}
            </section>
            <section class="card" aria-labelledby="create-url">
                <h2 id="create-url">"Function URL"</h2>
                <fieldset aria-invalid=broken("auth_type") aria-describedby="create-auth-rules">
                    <legend>"Auth type"</legend>
                    <label class="check"><input type="radio" name="auth_type" value="none" checked=true
                        on:change=set(|d, v| d.auth_type = v) />" No URL"</label>
                    <label class="check"><input type="radio" name="auth_type" value="AWS_IAM"
                        on:change=set(|d, v| d.auth_type = v) />" AWS_IAM: callers sign their requests"</label>
                    <label class="check"><input type="radio" name="auth_type" value="NONE"
                        on:change=set(|d, v| d.auth_type = v) />" NONE: public, anyone with the URL can call it"</label>
                </fieldset>
                {rule_lines("auth_type", "create-auth-rules")}
                {field_error(action.value(), "auth_type", "create-auth-error")}
                <label for="create-cors">"CORS allowed origins"</label>
                <input id="create-cors" name="cors" placeholder="https://example.com" autocomplete="off"
                    aria-describedby="create-cors-hint create-cors-error"
                    disabled=move || draft.with(|d| d.auth_type == "none")
                    on:input=set(|d, v| d.cors = Some(v)) />
                <p class="hint" id="create-cors-hint">"Comma-separated; empty for none."</p>
                {field_error(action.value(), "cors", "create-cors-error")}
                <label for="create-expiry">"Switch a public URL off after (hours)"</label>
                <input id="create-expiry" name="url_expiry_hours" type="number" min="1" max="8760" placeholder="never"
                    aria-describedby="create-expiry-hint create-expiry-error" aria-invalid=broken("url_expiry_hours")
                    disabled=move || draft.with(|d| d.auth_type != "NONE")
                    on:input=set(|d, v| d.url_expiry_hours = Some(v)) />
                <p class="hint" id="create-expiry-hint">"When the time is up, the sweeper switches the URL to AWS_IAM or deletes it, as the platform team's rule says, and tells you on your dashboard."</p>
                {field_error(action.value(), "url_expiry_hours", "create-expiry-error")}
            </section>
            <section class="card" aria-labelledby="create-catalog">
                <h2 id="create-catalog">"For the catalog"</h2>
                {match options.owner_choice.clone() {
                    Some(me) => view! {
                        <label for="create-owner">"Owner"</label>
                        <input id="create-owner" name="owner" type="email" value=me autocomplete="off"
                            aria-describedby="create-owner-hint create-owner-error" aria-invalid=invalid(action.value(), "owner") />
                        <p class="hint" id="create-owner-hint">"An account's email: as an admin you may create a function for someone else. The team, lifecycle, environment and tags go to the catalog and to the function's tags."</p>
                        {field_error(action.value(), "owner", "create-owner-error")}
                    }.into_any(),
                    None => view! {
                        <p class="hint">"You are the owner. The team, lifecycle, environment and tags go to the catalog and to the function's tags."</p>
                    }.into_any(),
                }}
                <label for="create-team">"Team"</label>
                <select id="create-team" name="team" on:change=set(|d, v| d.team = Some(v))>
                    <option value="">"No team"</option>
                    {options.teams.iter().map(|t| view! { <option value=t.clone()>{t.clone()}</option> }).collect_view()}
                </select>
                {field_error(action.value(), "team", "create-team-error")}
                <label for="create-lifecycle">"Lifecycle"</label>
                <select id="create-lifecycle" name="lifecycle" on:change=set(|d, v| d.lifecycle = v)>
                    {model::Lifecycle::names().into_iter().map(|l| view! { <option value=l selected=l == "experimental">{l}</option> }).collect_view()}
                </select>
                <label for="create-environment">"Environment"</label>
                <select id="create-environment" name="environment" on:change=set(|d, v| d.environment = v)>
                    {model::Stage::names().into_iter().map(|e| view! { <option value=e selected=e == "dev">{e}</option> }).collect_view()}
                </select>
                <label for="create-tags">"Tags"</label>
                <textarea id="create-tags" name="tags" rows="3" placeholder="cost-center=cc-100"
                    aria-describedby="create-tags-hint create-tags-rules create-tags-error" aria-invalid=broken("tags")
                    on:input=set(|d, v| d.tags = Some(v))></textarea>
                <p class="hint" id="create-tags-hint">"One key=value a line."</p>
                {rule_lines("tags", "create-tags-rules")}
                {field_error(action.value(), "tags", "create-tags-error")}
            </section>
            <section class="card" aria-labelledby="create-rules" data-testid="create-findings">
                <h2 id="create-rules">"The platform team's rules"</h2>
                <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Checking…"</p> }>
                    <div role="status" aria-live="polite">
                        {move || findings.get().map(|found| match found {
                            Ok(found) if found.is_empty() => view! { <p class="alert alert-ok" data-testid="create-passes">"Passes every rule."</p> }.into_any(),
                            Ok(found) => view! { <Findings found /> }.into_any(),
                            Err(error) => view! { <p class="field-error">{format!("The rules could not be checked: {error}")}</p> }.into_any(),
                        })}
                    </div>
                </Transition>
            </section>
            <button type="submit" class="btn btn-primary" data-testid="create-submit"
                disabled=move || action.pending().get() || blocking() || name_problem().is_some()>
                {move || if action.pending().get() { "Creating the role, the function and its URL…" } else { "Create function" }}
            </button>
            {move || blocking().then(|| view! { <p class="hint">"An error-level rule forbids this function: change what it names, or ask an admin."</p> })}
        </ActionForm>
    }
    .into_any()
}

/// The rules the function would break, errors first, each with its fix.
#[component]
fn Findings(found: Vec<RuleFinding>) -> impl IntoView {
    let mut found = found;
    found.sort_by_key(|f| f.severity != "error");
    view! {
        <ul class="findings">
            {found.into_iter().map(|f| {
                let badge = f.severity.clone();
                view! {
                    <li data-testid="create-finding" data-field=f.field.clone() data-severity=f.severity>
                        <SeverityBadge severity=badge /> " " {f.message} " "
                        <strong>"Fix: "</strong>{f.fix}
                        <span class="hint">{format!(" ({}; field: {})", f.mirrors, f.field)}</span>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}
