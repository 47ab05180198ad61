//! The Activity tab: everything recorded about the function — the console's changes, the lab's
//! steps, tests — newest first.

use leptos::prelude::*;

use super::with_detail;

#[component]
pub fn ActivityTab() -> impl IntoView {
    with_detail(|d, _| {
        view! {
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
    })
}
