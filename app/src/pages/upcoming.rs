//! Sections of the console that are designed but not built yet. Each says what it will do, so a
//! newcomer can see where the product is going; none shows invented data.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
fn Upcoming(
    title: &'static str,
    lead: &'static str,
    points: &'static [&'static str],
) -> impl IntoView {
    view! {
        <Title text=title />
        <h1>{title}</h1>
        <p class="lead">{lead}</p>
        <div class="card empty-state">
            <p><span class="badge">"Coming soon"</span> " This section is not built yet. It will:"</p>
            <ul>{points.iter().map(|p| view! { <li>{*p}</li> }).collect_view()}</ul>
        </div>
    }
}

#[component]
pub fn Governance() -> impl IntoView {
    view! {
        <Upcoming
            title="Governance"
            lead="Rules for the platform team, and what breaks them."
            points=&[
                "required tags, naming, allowed runtimes, memory and timeout bounds",
                "public Function URLs that need an expiry or an approval",
                "shadow and ghost functions, cost estimates and expiring resources",
            ]
        />
    }
}
