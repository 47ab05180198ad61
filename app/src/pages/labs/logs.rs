//! Step 7: the newest log stream, every line explained.

use leptos::prelude::*;

use crate::api::labs::{LabConfirmLogs, lab_logs};
use crate::error::{ErrorAlert, error_fallback};
use crate::rules::log_line_meaning;
use crate::types::LabView;

use super::common::*;

#[component]
pub(super) fn LogsStep(
    lab: LabView,
    action: ServerAction<LabConfirmLogs>,
    fix: Fixer,
) -> impl IntoView {
    let run_id = lab.run.lab_run_id.clone();
    let id = lab.run.lab_run_id;
    let (reload, set_reload) = signal(0u32);
    let logs_id = id.clone();
    let logs = Resource::new(move || (logs_id.clone(), reload.get()), |(id, _)| lab_logs(id));
    view! {
        // A link, so that it reloads without JavaScript too; with it, only the stream is read again.
        <a class="btn btn-small" href=format!("/labs/{run_id}?step=7")
            on:click=move |ev| {
                ev.prevent_default();
                set_reload.update(|n| *n += 1);
            }>"Reload"</a>
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
