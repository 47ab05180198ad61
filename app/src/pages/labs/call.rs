//! Step 6: call the URL and read the raw response.

use leptos::prelude::*;

use crate::api::labs::LabCall;
use crate::error::ErrorAlert;
use crate::types::{CallView, LabView};

use super::common::*;

/// The raw HTTP response, as curl -i shows it.
#[component]
pub(super) fn RawResponse(call: CallView) -> impl IntoView {
    let raw = call.raw();
    view! {
        <p>
            {if call.passed {
                view! { <span class="badge badge-ok">"200 ok"</span> }.into_any()
            } else {
                view! { <span class="badge badge-danger">{if call.status == 0 { "no response".to_owned() } else { call.status.to_string() }}</span> }.into_any()
            }}
            {format!(" in {} ms", call.millis)}
        </p>
        <pre class="raw-response" data-testid="raw-response">{raw}</pre>
    }
}

#[component]
pub(super) fn CallStep(lab: LabView, action: ServerAction<LabCall>, fix: Fixer) -> impl IntoView {
    let run_id = lab.run.lab_run_id.clone();
    let curl = format!("curl -i \"{}\"", lab.url);
    let id = lab.run.lab_run_id.clone();
    let last = lab.last_call.clone();
    let last_diagnosis = lab.last_diagnosis.clone();
    let next = format!("/labs/{id}?step=7");
    view! {
        <p>"URL: " <code>{lab.url}</code></p>
        <label for="curl">"From your terminal"</label>
        <input id="curl" class="copyable" readonly value=curl
            on:focus=move |ev| { event_target::<leptos::web_sys::HtmlInputElement>(&ev).select(); } />
        <p class="hint">"Select it and copy (it selects itself when focused). Expect " <code>"HTTP/1.1 200"</code> " and the body " <code>"ok"</code> "."</p>
        <ActionForm action>
            <input type="hidden" name="lab_run_id" value=run_id.clone() />
            <button type="submit" class="btn btn-primary" disabled=action.pending()>
                {move || if action.pending().get() { "Sending…" } else { "Send the request from the server" }}
            </button>
        </ActionForm>
        {move || {
            let id = id.clone();
            match action.value().get() {
                Some(Ok(outcome)) => {
                    let passed = outcome.call.passed;
                    view! {
                        <RawResponse call=outcome.call />
                        {outcome.diagnosis.map(|d| view! { <Doctor diagnosis=d lab_run_id=id fix /> })}
                        {passed.then(|| view! { <p><a class="btn btn-primary" href=next.clone()>"Next: the logs"</a></p> })}
                    }.into_any()
                }
                Some(Err(error)) => view! { <ErrorAlert error /> }.into_any(),
                None => last.clone().map(|call| view! {
                    <h3>"Last response"</h3>
                    <RawResponse call />
                    {last_diagnosis.clone().map(|d| view! { <Doctor diagnosis=d lab_run_id=id.clone() fix /> })}
                }).into_any(),
            }
        }}
    }
}
