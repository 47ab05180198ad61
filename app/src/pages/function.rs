//! The function page: Overview (the catalog's record beside the configuration read live from the
//! cloud, with the differences marked), Tags and ownership (saved to the catalog and to the cloud's
//! tags), and Activity (its audit trail).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::catalog::{
    RevealEnvironment, SaveFunctionCode, TakeCloudValue, TransferFunction,
    UpdateFunctionConfiguration, UpdateFunctionMetadata, code_saved_message, function_code,
    get_function_detail,
};
use crate::components::editor::CodeEditor;
use crate::components::forms::{field_error, invalid, outcome, successes};
use crate::error::error_fallback;
use crate::pages::labs::FunctionCleanup;
use crate::types::FunctionDetail;

#[component]
pub fn FunctionPage() -> impl IntoView {
    let params = use_params_map();
    let save = ServerAction::<UpdateFunctionMetadata>::new();
    let configure = ServerAction::<UpdateFunctionConfiguration>::new();
    let transfer = ServerAction::<TransferFunction>::new();
    let take = ServerAction::<TakeCloudValue>::new();
    // Reloaded after a change that succeeded only: a refused one leaves the form as the user
    // typed it, next to the reason.
    let (saved, configured) = (successes(save.value()), successes(configure.value()));
    let detail = Resource::new(
        move || {
            let id = params.with(|p| p.get("id").unwrap_or_default());
            let versions = (saved.get(), configured.get());
            (id, versions, transfer.version().get(), take.version().get())
        },
        |(id, ..)| get_function_detail(id),
    );
    view! {
        <Title text="Function" />
        <p><a href="/catalog">"← Catalog"</a></p>
        <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move { detail.await.map(|d| view! { <Detail d save configure transfer take /> }) })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn Detail(
    d: FunctionDetail,
    save: ServerAction<UpdateFunctionMetadata>,
    configure: ServerAction<UpdateFunctionConfiguration>,
    transfer: ServerAction<TransferFunction>,
    take: ServerAction<TakeCloudValue>,
) -> impl IntoView {
    let cloud = |field: &str| {
        d.live
            .iter()
            .find(|(f, ..)| f == field)
            .map(|(_, _, cloud)| cloud.clone())
            .unwrap_or_default()
    };
    let (memory, timeout, handler, runtime, description) = (
        cloud("memory (MB)"),
        cloud("timeout (s)"),
        cloud("handler"),
        cloud("runtime"),
        cloud("description"),
    );
    let configurable = d.can_edit && d.live_error.is_none();
    let environment_keys = d.environment_keys.clone();
    let function_id = d.row.function_id.clone();
    let revision_id = d.revision_id.clone();
    let env_function_id = function_id.clone();
    let row = d.row.clone();
    // The form starts from the cloud's tags as they are now, when they could be read.
    let tags_now = d.live_tags.clone().unwrap_or_else(|| row.tags.clone());
    let tags_moved = d.live_tags.as_ref().is_some_and(|live| *live != row.tags);
    let tags_text = tags_now.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("\n");
    let live = if let Some(error) = d.live_error.clone() {
        view! { <div class="alert alert-error" role="alert">{error}</div> }.into_any()
    } else {
        view! {
            <table class="table" data-testid="live-config">
                <thead>
                    <tr><th scope="col">"Setting"</th><th scope="col">"Catalog"</th><th scope="col">"Cloud, now"</th></tr>
                </thead>
                <tbody>
                    {d.live
                        .iter()
                        .map(|(field, catalog, cloud)| {
                            let differs = catalog != cloud;
                            view! {
                                <tr class:differs=differs>
                                    <th scope="row">{field.clone()}</th>
                                    <td>{catalog.clone()}</td>
                                    <td>
                                        {cloud.clone()}
                                        {differs.then(|| view! { " " <span class="badge badge-warn">"differs"</span> })}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        }
            .into_any()
    };
    let lifecycle = row.lifecycle.clone();
    let environment = row.environment.clone();
    let team = row.team.clone().unwrap_or_default();
    let (transfer_id, code_id) = (row.function_id.clone(), row.function_id.clone());
    let cleanup_id = row.function_id.clone();
    let transfer_teams = d.teams.clone();
    view! {
        <div class="page-head">
            <h1>{row.name.clone()}</h1>
            {row.gone.then(|| view! { <span class="badge badge-danger">"gone from the cloud"</span> })}
        </div>
        <p class="muted">{d.arn.clone()} " · " {row.connection.clone()} " · " {row.region.clone()}</p>
        <section class="card" aria-labelledby="overview">
            <h2 id="overview">"Overview"</h2>
            <p>
                "Owner: " <strong>{row.owner.clone().unwrap_or_else(|| "nobody".to_owned())}</strong>
                " · Team: " {row.team.clone().unwrap_or_else(|| "none".to_owned())}
                " · " {row.lifecycle.clone()} " · " {row.environment.clone()}
            </p>
            {(!d.drift.is_empty()).then(|| {
                let can_edit = d.can_edit;
                let drift_id = d.row.function_id.clone();
                view! {
                    <div class="alert alert-error" role="alert" data-testid="drift">
                        <strong>"Drift: the cloud's tags disagree with the catalog."</strong>
                        {outcome(take.value(), |()| "The catalog now has the cloud's value".to_owned())}
                        <ul>
                            {d.drift.clone().into_iter().map(|(field, text)| {
                                let function_id = drift_id.clone();
                                view! {
                                    <li>
                                        {text}
                                        {can_edit.then(|| view! {
                                            " "
                                            <ActionForm action=take attr:class="inline">
                                                <input type="hidden" name="function_id" value=function_id />
                                                <input type="hidden" name="field" value=field />
                                                <button type="submit" class="btn btn-small">"Take the cloud's value"</button>
                                            </ActionForm>
                                        })}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                        {can_edit.then(|| view! { <p>"Or save the tags below to write the catalog's values to the cloud."</p> })}
                    </div>
                }
            })}
            {live}
        </section>
        <section class="card" aria-labelledby="ownership">
            <h2 id="ownership">"Tags and ownership"</h2>
            {outcome(save.value(), |()| "Saved, in the catalog and in the cloud's tags".to_owned())}
            {if d.can_edit {
                view! {
                    <ActionForm action=save>
                        <input type="hidden" name="function_id" value=row.function_id.clone() />
                        <label for="meta-owner">"Owner (email)"</label>
                        <input id="meta-owner" name="owner" type="email" required
                            aria-describedby="meta-owner-error" aria-invalid=invalid(save.value(), "owner")
                            value=row.owner.clone().unwrap_or_default() />
                        {field_error(save.value(), "owner", "meta-owner-error")}
                        <label for="meta-team">"Team"</label>
                        <select id="meta-team" name="team">
                            <option value="" selected=team.is_empty()>"No team"</option>
                            {d.teams
                                .iter()
                                .map(|t| view! { <option value=t.clone() selected=*t == team>{t.clone()}</option> })
                                .collect_view()}
                        </select>
                        <label for="meta-lifecycle">"Lifecycle"</label>
                        <select id="meta-lifecycle" name="lifecycle">
                            {model::Lifecycle::names()
                                .into_iter()
                                .map(|l| view! { <option value=l selected=l == lifecycle>{l}</option> })
                                .collect_view()}
                        </select>
                        <label for="meta-environment">"Environment"</label>
                        <select id="meta-environment" name="environment">
                            {model::Stage::names()
                                .into_iter()
                                .map(|e| view! { <option value=e selected=e == environment>{e}</option> })
                                .collect_view()}
                        </select>
                        <label for="meta-tags">"Tags"</label>
                        <textarea id="meta-tags" name="tags" rows="4" aria-describedby="meta-tags-error meta-tags-hint"
                            aria-invalid=invalid(save.value(), "tags")>{tags_text.clone()}</textarea>
                        {field_error(save.value(), "tags", "meta-tags-error")}
                        <input type="hidden" name="tags_before" value=tags_text />
                        <p class="hint" id="meta-tags-hint">
                            "One key=value a line, as the cloud has them now. Only what you add, change or remove is written; the owner, team, lifecycle and environment also go to the function's lambdaport:* tags."
                            {tags_moved.then_some(" (The catalog's copy from the last sync differs; the cloud's is shown.)")}
                        </p>
                        <button type="submit" class="btn btn-primary" disabled=save.pending()>"Save"</button>
                    </ActionForm>
                    <h3>"Transfer ownership"</h3>
                    <p class="hint">"Hand the function to someone else. You keep access only through its team."</p>
                    {outcome(transfer.value(), |()| "Ownership transferred".to_owned())}
                    <ActionForm action=transfer>
                        <input type="hidden" name="function_id" value=transfer_id />
                        <label for="transfer-owner">"New owner (email)"</label>
                        <input id="transfer-owner" name="new_owner" type="email" required autocomplete="off" />
                        <label for="transfer-team">"Team"</label>
                        <select id="transfer-team" name="new_team">
                            <option value="keep" selected=true>"Keep the current team"</option>
                            <option value="">"No team"</option>
                            {transfer_teams
                                .into_iter()
                                .map(|t| {
                                    let label = t.clone();
                                    view! { <option value=t>{label}</option> }
                                })
                                .collect_view()}
                        </select>
                        <label class="check" for="transfer-confirm">
                            <input id="transfer-confirm" type="checkbox" name="confirm" value="yes" required />
                            " I want to hand this function over"
                        </label>
                        <button type="submit" class="btn" disabled=transfer.pending()>"Transfer"</button>
                    </ActionForm>
                }
                    .into_any()
            } else {
                view! {
                    <p class="muted">"Only the owner, their team and admins can change these."</p>
                    <p>{row.tags.iter().map(|(k, v)| view! { <span class="tag">{format!("{k}={v}")}</span> }).collect_view()}</p>
                }
                    .into_any()
            }}
        </section>
        {configurable.then(|| view! { <CodeSection function_id=code_id /> })}
        {configurable.then(|| view! {
            <section class="card" aria-labelledby="configuration">
                <h2 id="configuration">"Configuration"</h2>
                <p class="muted">"Saved through UpdateFunctionConfiguration; the cloud's own validation applies. Only the settings you change are sent."</p>
                {outcome(configure.value(), |()| "Configuration updated".to_owned())}
                <ActionForm action=configure>
                    <input type="hidden" name="function_id" value=function_id />
                    <input type="hidden" name="revision_id" value=revision_id />
                    // What the form showed: the server sends only what differs from it.
                    <input type="hidden" name="memory_mb_was" value=memory.clone() />
                    <input type="hidden" name="timeout_s_was" value=timeout.clone() />
                    <input type="hidden" name="handler_was" value=handler.clone() />
                    <input type="hidden" name="runtime_was" value=runtime.clone() />
                    <input type="hidden" name="description_was" value=description.clone() />
                    <label for="cfg-memory">"Memory (MB)"</label>
                    <input id="cfg-memory" name="memory_mb" type="number" min="128" max="10240" required value=memory
                        aria-describedby="cfg-memory-error" aria-invalid=invalid(configure.value(), "memory_mb") />
                    {field_error(configure.value(), "memory_mb", "cfg-memory-error")}
                    <label for="cfg-timeout">"Timeout (seconds)"</label>
                    <input id="cfg-timeout" name="timeout_s" type="number" min="1" max="900" required value=timeout
                        aria-describedby="cfg-timeout-error" aria-invalid=invalid(configure.value(), "timeout_s") />
                    {field_error(configure.value(), "timeout_s", "cfg-timeout-error")}
                    <label for="cfg-handler">"Handler"</label>
                    <input id="cfg-handler" name="handler" required value=handler
                        aria-describedby="cfg-handler-error" aria-invalid=invalid(configure.value(), "handler") />
                    {field_error(configure.value(), "handler", "cfg-handler-error")}
                    <label for="cfg-runtime">"Runtime"</label>
                    <input id="cfg-runtime" name="runtime" required value=runtime
                        aria-describedby="cfg-runtime-error" aria-invalid=invalid(configure.value(), "runtime") />
                    {field_error(configure.value(), "runtime", "cfg-runtime-error")}
                    <label for="cfg-description">"Description"</label>
                    <input id="cfg-description" name="description" maxlength="256" value=description
                        aria-describedby="cfg-description-error" aria-invalid=invalid(configure.value(), "description") />
                    {field_error(configure.value(), "description", "cfg-description-error")}
                    <EnvironmentField function_id=env_function_id keys=environment_keys />
                    // After "changed in the cloud since you opened this page": apply only the
                    // fields this form changed, over the cloud's other changes.
                    {move || matches!(configure.value().get(), Some(Err(crate::error::ApiError::Conflict(_)))).then(|| view! {
                        <label class="check" for="cfg-anyway">
                            <input id="cfg-anyway" type="checkbox" name="apply_anyway" value="yes" />
                            " Apply anyway: only the settings I changed, keeping the cloud's other changes"
                        </label>
                    })}
                    <button type="submit" class="btn btn-primary" disabled=configure.pending()>"Update configuration"</button>
                </ActionForm>
            </section>
        })}
        <FunctionCleanup function_id=cleanup_id can_edit=d.can_edit />
        <section class="card" aria-labelledby="activity">
            <h2 id="activity">"Activity"</h2>
            {if d.activity.is_empty() {
                view! { <p class="empty-state">"Nothing recorded yet."</p> }.into_any()
            } else {
                view! {
                    <ul data-testid="activity">
                        {d.activity
                            .into_iter()
                            .map(|a| view! { <li><time datetime=a.at.clone()>{a.at.clone()}</time> " " {a.actor} " — " {a.action}</li> })
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            }}
        </section>
    }
}

/// The environment variables in the Configuration form: names only, values masked, until the
/// editor reveals them (audited). Until then the form sends no variables, which keeps them.
#[component]
fn EnvironmentField(function_id: String, keys: Vec<String>) -> impl IntoView {
    let reveal = ServerAction::<RevealEnvironment>::new();
    let value = reveal.value();
    view! {
        <fieldset class="environment">
            <legend>"Environment variables"</legend>
            {move || match value.get() {
                Some(Ok(text)) => view! {
                    <label for="cfg-environment" class="visually-hidden">"Environment variables, one KEY=value a line"</label>
                    <textarea id="cfg-environment" name="environment" rows="4">{text.clone()}</textarea>
                    <input type="hidden" name="environment_was" value=text />
                    <p class="hint">"One KEY=value a line. The reveal is recorded in the function's activity."</p>
                }
                    .into_any(),
                other => {
                    let function_id = function_id.clone();
                    let error = other.and_then(Result::err).map(|e| e.to_string());
                    view! {
                        {if keys.is_empty() {
                            view! { <p class="empty-state">"No variables."</p> }.into_any()
                        } else {
                            view! {
                                <ul class="masked" data-testid="environment-keys">
                                    {keys.iter().map(|k| view! { <li><code>{k.clone()}</code> " = " <span aria-label="hidden value">"••••••"</span></li> }).collect_view()}
                                </ul>
                            }
                                .into_any()
                        }}
                        {error.map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
                        <button
                            type="button"
                            class="btn"
                            disabled=reveal.pending()
                            on:click=move |_| {
                                reveal.dispatch(RevealEnvironment { function_id: function_id.clone() });
                            }
                        >
                            "Reveal values to edit"
                        </button>
                        <p class="hint">"Values stay hidden until you reveal them; saving without revealing keeps them as they are."</p>
                    }
                        .into_any()
                }
            }}
        </fieldset>
    }
}

/// The Code tab: the handler's file in an editor, saved through UpdateFunctionCode, or a zip upload
/// (a plain multipart form, handled by the server's `/catalog/{id}/code`).
#[component]
fn CodeSection(function_id: String) -> impl IntoView {
    let save = ServerAction::<SaveFunctionCode>::new();
    let id = function_id.clone();
    // Reread after a save that succeeded: a refused one leaves the edit in the editor.
    let saved = successes(save.value());
    let code = Resource::new(move || (id.clone(), saved.get()), |(id, _)| function_code(id));
    let upload_action = format!("/catalog/{function_id}/code");
    view! {
        <section class="card" aria-labelledby="code-title" id="code">
            <h2 id="code-title">"Code"</h2>
            {outcome(save.value(), |sha: String| code_saved_message(&sha))}
            <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Reading the package…"</p> }>
                <ErrorBoundary fallback=error_fallback>
                    {move || {
                        let function_id = function_id.clone();
                        Suspend::new(async move {
                            code.await.map(|c| {
                                let summary = (!c.files.is_empty()).then(|| format!(
                                    "{} file(s), {} bytes, SHA-256 {}: {}",
                                    c.files.len(), c.size, c.sha256, c.files.join(", ")
                                ));
                                let opened = c.sha256.clone();
                                let editor = match (c.path, c.source) {
                                    (Some(path), Some(source)) => view! {
                                        <ActionForm action=save>
                                            <input type="hidden" name="function_id" value=function_id />
                                            <input type="hidden" name="sha256" value=opened />
                                            <input type="hidden" name="path" value=path.clone() />
                                            <label for="code-source">{format!("{path} (the handler's file)")}</label>
                                            <CodeEditor name="source" id="code-source" path initial=source />
                                            <button type="submit" class="btn btn-primary" disabled=save.pending()>
                                                {move || if save.pending().get() { "Saving…" } else { "Save code" }}
                                            </button>
                                        </ActionForm>
                                    }.into_any(),
                                    _ => view! {
                                        <p class="muted" data-testid="code-reason">
                                            {c.reason.unwrap_or_else(|| "This code cannot be edited here.".to_owned())}
                                        </p>
                                    }.into_any(),
                                };
                                view! { <p class="muted" data-testid="code-summary">{summary}</p> {editor} }
                            })
                        })
                    }}
                </ErrorBoundary>
            </Transition>
            <h3>"Upload a zip"</h3>
            <form method="post" enctype="multipart/form-data" action=upload_action>
                <label for="code-zip">"Deployment package (.zip, up to 50 MB)"</label>
                <input id="code-zip" name="zip" type="file" accept=".zip,application/zip" required />
                <button type="submit" class="btn">"Upload and deploy"</button>
            </form>
        </section>
    }
}
