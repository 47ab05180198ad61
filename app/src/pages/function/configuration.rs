//! The Configuration tab: memory, timeout, handler, runtime, description and environment
//! variables, changed through UpdateFunctionConfiguration — only the settings changed, at the
//! revision the page read.

use leptos::prelude::*;

use super::{read_only, with_detail};
use crate::api::catalog::RevealEnvironment;
use crate::components::forms::{field_error, invalid, outcome};

#[component]
pub fn ConfigurationTab() -> impl IntoView {
    with_detail(|d, f| {
        let configure = f.configure;
        if let Some(why) = read_only(&d, "the configuration") {
            return why;
        }
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
        let environment_keys = d.environment_keys.clone();
        let function_id = d.row.function_id.clone();
        let revision_id = d.revision_id.clone();
        let env_function_id = function_id.clone();
        view! {
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
        }
        .into_any()
    })
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
