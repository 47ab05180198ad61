//! The Versions tab: publish `$LATEST` as a version, the versions, the aliases (each pointing at a
//! version, optionally sending a share of its invocations to a second one), and which version
//! served each recent test invocation.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::api::versions::{DeleteAlias, PublishVersion, SaveAlias, versions_tab};
use crate::components::forms::{field_error, invalid, outcome, successes};
use crate::error::error_fallback;
use crate::types::{AliasView, VersionsTabView};

#[component]
pub fn VersionsTab() -> impl IntoView {
    let params = use_params_map();
    let publish = ServerAction::<PublishVersion>::new();
    let save = ServerAction::<SaveAlias>::new();
    let delete = ServerAction::<DeleteAlias>::new();
    let (published, saved, deleted) =
        (successes(publish.value()), successes(save.value()), successes(delete.value()));
    let tab = Resource::new(
        move || {
            let id = params.with(|p| p.get("id").unwrap_or_default());
            (id, published.get(), saved.get(), deleted.get())
        },
        |(id, ..)| versions_tab(id),
    );
    view! {
        {outcome(publish.value(), |v: String| format!("Published version {v}"))}
        {outcome(save.value(), |name: String| format!("Alias {name} saved"))}
        {outcome(delete.value(), |()| "Alias deleted".to_owned())}
        <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading the versions…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move {
                    let function_id = params.with(|p| p.get("id").unwrap_or_default());
                    tab.await.map(|t| view! { <Versions t function_id publish save delete /> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn Versions(
    t: VersionsTabView,
    function_id: String,
    publish: ServerAction<PublishVersion>,
    save: ServerAction<SaveAlias>,
    delete: ServerAction<DeleteAlias>,
) -> impl IntoView {
    let numbers: Vec<String> = t.versions.iter().map(|v| v.version.clone()).collect();
    let (publish_id, new_id, new_numbers) =
        (function_id.clone(), function_id.clone(), numbers.clone());
    view! {
        <section class="card" aria-labelledby="versions-title">
            <h2 id="versions-title">"Versions"</h2>
            {t.can_edit.then(|| view! {
                <ActionForm action=publish attr:class="inline-form">
                    <input type="hidden" name="function_id" value=publish_id />
                    <label for="publish-description">"Description"</label>
                    <input id="publish-description" name="description" type="text" maxlength="256"
                        aria-describedby="publish-description-error" aria-invalid=invalid(publish.value(), "description") />
                    <button type="submit" class="btn btn-primary">"Publish a version"</button>
                </ActionForm>
                {field_error(publish.value(), "description", "publish-description-error")}
            })}
            <table class="table" data-testid="versions">
                <thead><tr><th scope="col">"Version"</th><th scope="col">"Description"</th><th scope="col">"Code SHA-256"</th><th scope="col">"Last modified"</th></tr></thead>
                <tbody>
                    {t.versions
                        .iter()
                        .map(|v| view! {
                            <tr data-testid="version-row">
                                <td>{v.version.clone()}</td>
                                <td>{v.description.clone()}</td>
                                <td><code>{v.code_sha256.chars().take(12).collect::<String>()}</code></td>
                                <td>{v.last_modified.clone()}</td>
                            </tr>
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
        <section class="card" aria-labelledby="aliases-title">
            <h2 id="aliases-title">"Aliases"</h2>
            {t.aliases.is_empty().then(|| view! { <p class="empty-state">"No aliases yet: an alias is a stable name (like prod) for a version callers invoke."</p> })}
            <ul class="aliases">
                {t.aliases
                    .iter()
                    .cloned()
                    .map(|a| view! { <Alias a numbers=numbers.clone() function_id=function_id.clone() can_edit=t.can_edit save delete /> })
                    .collect_view()}
            </ul>
            {t.can_edit.then(|| view! {
                <h3>"New alias"</h3>
                <AliasFields prefix="new-alias".to_owned() intent="create" a=None numbers=new_numbers function_id=new_id save />
            })}
        </section>
        <section class="card" aria-labelledby="served-title">
            <h2 id="served-title">"Which version served"</h2>
            <p class="muted">"The Test tab's recent invocations: the qualifier asked for and the version that ran."</p>
            {t.served.is_empty().then(|| view! { <p class="empty-state">"No test invocations yet."</p> })}
            <table class="table" data-testid="served">
                <thead><tr><th scope="col">"When"</th><th scope="col">"Who"</th><th scope="col">"Asked for"</th><th scope="col">"Ran"</th><th scope="col">"Request id"</th></tr></thead>
                <tbody>
                    {t.served
                        .into_iter()
                        .map(|s| view! {
                            <tr data-testid="served-row">
                                <td>{s.at}</td><td>{s.who}</td><td>{s.qualifier}</td>
                                <td data-testid="executed-version">{s.executed_version}</td><td><code>{s.request_id}</code></td>
                            </tr>
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn Alias(
    a: AliasView,
    numbers: Vec<String>,
    function_id: String,
    can_edit: bool,
    save: ServerAction<SaveAlias>,
    delete: ServerAction<DeleteAlias>,
) -> impl IntoView {
    let routing = match &a.weight {
        Some((other, percent)) => {
            format!(
                "{} ({}%) and {other} ({percent}%)",
                a.version,
                (1000.0 - percent * 10.0).round() / 10.0
            )
        }
        None => a.version.clone(),
    };
    let prefix = format!("alias-{}", a.name);
    view! {
        <li data-testid="alias">
            <strong>{a.name.clone()}</strong> " → " <span data-testid="alias-routing">{routing}</span>
            {(!a.description.is_empty()).then(|| view! { " " <span class="muted">{a.description.clone()}</span> })}
            {can_edit.then(|| view! {
                <details>
                    <summary>{format!("Change {}", a.name)}</summary>
                    <AliasFields prefix=prefix.clone() intent="update" a=Some(a.clone()) numbers=numbers.clone() function_id=function_id.clone() save />
                    <ActionForm action=delete attr:class="inline-form">
                        <input type="hidden" name="function_id" value=function_id.clone() />
                        <input type="hidden" name="name" value=a.name.clone() />
                        <label class="check" for=format!("{prefix}-confirm")>
                            <input id=format!("{prefix}-confirm") type="checkbox" name="confirm" value="yes" />
                            " Callers of this alias will fail"
                        </label>
                        <button type="submit" class="btn btn-danger">{format!("Delete {}", a.name)}</button>
                    </ActionForm>
                    {field_error(delete.value(), "confirm", "")}
                </details>
            })}
        </li>
    }
}

/// The alias's fields: its version, and a second version with its share.
#[component]
fn AliasFields(
    prefix: String,
    intent: &'static str,
    a: Option<AliasView>,
    numbers: Vec<String>,
    function_id: String,
    save: ServerAction<SaveAlias>,
) -> impl IntoView {
    let version = a.as_ref().map(|a| a.version.clone()).unwrap_or_default();
    let (other, percent) = a
        .as_ref()
        .and_then(|a| a.weight.clone())
        .map_or((String::new(), String::new()), |(v, p)| (v, p.to_string()));
    let options = move |selected: String, none: Option<&'static str>| {
        let none = none
            .map(|label| view! { <option value="" selected=selected.is_empty()>{label}</option> });
        let each = numbers
            .iter()
            .map(|n| view! { <option value=n.clone() selected=*n == selected>{n.clone()}</option> })
            .collect_view();
        view! { {none} {each} }
    };
    let id = move |field: &str| format!("{prefix}-{field}");
    view! {
        <ActionForm action=save attr:class="log-search">
            <input type="hidden" name="function_id" value=function_id />
            <input type="hidden" name="intent" value=intent />
            {match &a {
                Some(a) => view! { <input type="hidden" name="name" value=a.name.clone() /> }.into_any(),
                None => view! {
                    <div class="field">
                        <label for=id("name")>"Name"</label>
                        <input id=id("name") name="name" type="text" required aria-invalid=invalid(save.value(), "name") />
                    </div>
                }.into_any(),
            }}
            <div class="field">
                <label for=id("version")>"Version"</label>
                <select id=id("version") name="version">{options.clone()(version, None)}</select>
            </div>
            <div class="field">
                <label for=id("description")>"Description"</label>
                <input id=id("description") name="description" type="text"
                    value=a.as_ref().map(|a| a.description.clone()).unwrap_or_default() />
            </div>
            <div class="field">
                <label for=id("weight-version")>"Second version"</label>
                <select id=id("weight-version") name="weight_version">{options(other, Some("None"))}</select>
            </div>
            <div class="field">
                <label for=id("weight-percent")>"Its share (%)"</label>
                <input id=id("weight-percent") name="weight_percent" type="number" min="1" max="99" step="0.1" value=percent
                    aria-invalid=invalid(save.value(), "weight_percent") />
            </div>
            <div class="actions">
                <button type="submit" class="btn btn-primary">{if intent == "create" { "Create alias" } else { "Save" }}</button>
            </div>
            {field_error(save.value(), "name", "")}
            {field_error(save.value(), "weight", "")}
            {field_error(save.value(), "weight_percent", "")}
        </ActionForm>
    }
}
