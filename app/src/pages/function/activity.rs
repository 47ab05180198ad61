//! The Activity tab: everything recorded about the function — the console's changes, the lab's
//! steps, tests — newest first, read each time the tab opens.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::api::catalog::function_activity;
use crate::error::error_fallback;

#[component]
pub fn ActivityTab() -> impl IntoView {
    let params = use_params_map();
    let activity =
        Resource::new(move || params.with(|p| p.get("id").unwrap_or_default()), function_activity);
    view! {
        <section class="card" aria-labelledby="activity">
            <h2 id="activity">"Activity"</h2>
            <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
                <ErrorBoundary fallback=error_fallback>
                    {move || Suspend::new(async move {
                        activity.await.map(|lines| {
                            if lines.is_empty() {
                                view! { <p class="empty-state">"Nothing recorded yet."</p> }.into_any()
                            } else {
                                view! {
                                    <ul data-testid="activity">
                                        {lines
                                            .into_iter()
                                            .map(|a| view! { <li><time datetime=a.at.clone()>{a.at.clone()}</time> " " {a.actor} " — " {a.action}</li> })
                                            .collect_view()}
                                    </ul>
                                }
                                    .into_any()
                            }
                        })
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}
