//! Steps 3 and 4: the handler in the editor or a zip, then timeout and memory with their cost.

use leptos::prelude::*;

use crate::api::labs::{LabCode, LabSettings};
use crate::components::editor::CodeEditor;
use crate::components::forms::outcome;
use crate::rules::{Arch, cost_per_million};
use crate::types::LabView;

#[component]
pub(super) fn CodeStep(lab: LabView, action: ServerAction<LabCode>) -> impl IntoView {
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
pub(super) fn SettingsStep(lab: LabView, action: ServerAction<LabSettings>) -> impl IntoView {
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
