//! The Code tab: the handler's file in an editor, saved through UpdateFunctionCode, or a zip.

use leptos::prelude::*;

use super::{read_only, with_detail};
use crate::api::catalog::{SaveFunctionCode, code_saved_message, function_code};
use crate::components::editor::CodeEditor;
use crate::components::forms::{outcome, successes};
use crate::error::error_fallback;

#[component]
pub fn CodeTab() -> impl IntoView {
    with_detail(|d, _| match read_only(&d, "the code") {
        Some(why) => why,
        None => view! { <CodeSection function_id=d.row.function_id /> }.into_any(),
    })
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
