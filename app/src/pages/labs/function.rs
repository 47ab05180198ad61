//! Step 2: the function (name checked as you type), its runtime, architecture, role and catalog
//! metadata.

use leptos::prelude::*;

use crate::api::labs::{LabFunction, check_lab_name};
use crate::components::forms::outcome;
use crate::rules::function_name_problem;
use crate::types::LabView;

#[component]
pub(super) fn FunctionStep(lab: LabView, action: ServerAction<LabFunction>) -> impl IntoView {
    let run_id = lab.run.lab_run_id.clone();
    let exists = lab.run.function_name.is_some();
    let (name, set_name) = signal(
        lab.run.function_name.clone().unwrap_or_else(|| "lambda-function-url-lab".to_owned()),
    );
    let (taken, set_taken) = signal(None::<String>);
    let id = lab.run.lab_run_id.clone();
    let problem = move || function_name_problem(&name.get()).or_else(|| taken.get());
    // The field loses focus when Enter submits and the step is replaced: by then the signals
    // may be gone, and the check has nothing left to say.
    let check = move || {
        let Some(name) = name.try_get_untracked() else { return };
        let id = id.clone();
        leptos::task::spawn_local(async move {
            set_taken.try_set(check_lab_name(id, name).await.ok().flatten());
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
                        on:input=move |ev| { set_taken.try_set(None); set_name.try_set(event_target_value(&ev)); }
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
                {model::Lifecycle::names().into_iter().map(|l| view! { <option value=l selected=l == lifecycle>{l}</option> }).collect_view()}
            </select>
            <label for="fn-environment">"Environment"</label>
            <select id="fn-environment" name="environment">
                {model::Stage::names().into_iter().map(|e| view! { <option value=e selected=e == environment>{e}</option> }).collect_view()}
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
