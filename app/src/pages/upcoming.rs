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
pub fn Create() -> impl IntoView {
    view! {
        <Upcoming
            title="Create a function"
            lead="The AWS Lambda hands-on lab as a guided wizard, each step checked against real state."
            points=&[
                "create a function with a basic execution role and the lab's handler",
                "add a Function URL and explain both permission statements it needs",
                "call it, read its logs, validate every step, and clean up what it created",
            ]
        />
    }
}

#[component]
pub fn Labs() -> impl IntoView {
    view! {
        <Upcoming
            title="Labs"
            lead="Your guided lab runs, and for instructors, everyone's progress."
            points=&[
                "resume a lab run where you left it",
                "see which step failed and the hint for fixing it",
                "confirm that cleanup left nothing behind",
            ]
        />
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
