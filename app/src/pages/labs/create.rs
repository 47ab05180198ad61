//! `Create function`: step 1, where the lab runs.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

use crate::api::labs::{StartLab, lab_start_options};
use crate::components::forms::{field_error, invalid, outcome};
use crate::error::error_fallback;

use super::common::*;

/// Step 1, `/create`: where the lab runs.
#[component]
pub fn CreatePage() -> impl IntoView {
    let start = ServerAction::<StartLab>::new();
    let options = Resource::new(|| (), |()| lab_start_options());
    Effect::new(move |_| {
        if let Some(Ok(id)) = start.value().get() {
            use_navigate()(&format!("/labs/{id}"), Default::default());
        }
    });
    let (title, purpose, expected) = STEPS[0];
    view! {
        <Title text="Create a function" />
        <h1>"Create a function: the guided lab"</h1>
        <p class="alert" data-testid="quick-create">
            "Know Lambda already? " <a href="/create/function">"Create a function on one page"</a>
            ": name, runtime, role, code, settings, URL and tags, checked against the platform team's rules as you type."
        </p>
        <p class="lead">
            "The AWS Lambda hands-on lab, step by step: a function that answers "
            <code>"ok"</code> " over a Function URL, its logs, a validation checklist, and a cleanup that leaves nothing behind. Each step is a real action in the cloud, checked against real state. You can leave and come back: progress is saved."
        </p>
        <StepNav current=1 furthest=1 lab_run_id=None />
        <section class="card" aria-labelledby="step-title">
            <StepHead number=1 title purpose expected />
            {outcome(start.value(), |_| "Lab run started".to_owned())}
            <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading connections…"</p> }>
                <ErrorBoundary fallback=error_fallback>
                    {move || Suspend::new(async move {
                        options.await.map(|o| {
                            let default_expiry = o.expiry_hours.map(|h| h.to_string()).unwrap_or_default();
                            // A learner's run lives at most the admin's expiry.
                            let most = o.expiry_hours.unwrap_or(720).to_string();
                            let hint = match o.expiry_hours {
                                Some(h) => format!("When the time is up, the console deletes everything this run created. Your runs live at most {h} hour(s), as an admin set it."),
                                None => "When the time is up, the console deletes everything this run created. Leave it empty to keep the run until you clean it up.".to_owned(),
                            };
                            view! {
                                <ActionForm action=start>
                                    <label for="lab-target">"Connection and region"</label>
                                    <select id="lab-target" name="target" required>
                                        {o.targets
                                            .into_iter()
                                            .map(|t| {
                                                let value = format!("{}|{}", t.connection_id, t.region);
                                                let label = format!("{} · {}", t.label, t.region);
                                                view! { <option value=value selected=t.is_default>{label}</option> }
                                            })
                                            .collect_view()}
                                    </select>
                                    <p class="hint">"The local engine is preselected: it runs functions on this machine, with no AWS account and no Docker."</p>
                                    <label for="lab-expiry">"Clean up automatically after (hours)"</label>
                                    <input id="lab-expiry" name="expiry_hours" type="number" min="1" max=most
                                        value=default_expiry placeholder="never" aria-describedby="lab-expiry-hint lab-expiry-error"
                                        aria-invalid=invalid(start.value(), "expiry_hours") />
                                    <p class="hint" id="lab-expiry-hint">{hint}</p>
                                    {field_error(start.value(), "expiry_hours", "lab-expiry-error")}
                                    <button type="submit" class="btn btn-primary" disabled=start.pending()>
                                        {move || if start.pending().get() { "Starting…" } else { "Start the lab" }}
                                    </button>
                                </ActionForm>
                            }
                        })
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}
