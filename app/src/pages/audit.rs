//! The audit trail: every change made through the console (admins only).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::dashboard::list_audit_events;
use crate::error::error_fallback;
use crate::pages::dashboard::AuditTable;

#[component]
pub fn AuditPage() -> impl IntoView {
    let events = Resource::new(|| (), |()| list_audit_events());
    view! {
        <Title text="Audit" />
        <h1>"Audit"</h1>
        <p class="lead">"Every change made through the console: who, what, when and from where. The newest 200 are shown."</p>
        <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move {
                    events.await.map(|lines| {
                        if lines.is_empty() {
                            view! { <p class="card empty-state">"No changes have been made yet."</p> }.into_any()
                        } else {
                            view! { <AuditTable lines /> }.into_any()
                        }
                    })
                })}
            </ErrorBoundary>
        </Transition>
    }
}
