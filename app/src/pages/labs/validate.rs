//! Step 8: the lab's checklist, checked live.

use leptos::prelude::*;

use crate::api::labs::LabValidate;
use crate::error::ErrorAlert;
use crate::types::{LabView, Validation};

use super::common::*;

#[component]
pub(super) fn ValidateStep(
    lab: LabView,
    action: ServerAction<LabValidate>,
    fix: Fixer,
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
pub(super) fn Checklist(v: Validation, lab_run_id: String, fix: Fixer) -> impl IntoView {
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
