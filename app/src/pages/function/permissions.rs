//! The Permissions tab: what the function may do (its execution role: trust, managed and inline
//! policies) and who may call it (its resource policy), in plain words, with what stands out.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::api::permissions::permissions_tab;
use crate::error::error_fallback;
use crate::types::PermissionsTabView;

#[component]
pub fn PermissionsTab() -> impl IntoView {
    let params = use_params_map();
    let tab =
        Resource::new(move || params.with(|p| p.get("id").unwrap_or_default()), permissions_tab);
    view! {
        <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Reading the permissions…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move { tab.await.map(|p| view! { <Permissions p /> }) })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn Permissions(p: PermissionsTabView) -> impl IntoView {
    view! {
        {(!p.findings.is_empty()).then(|| view! {
            <section class="card" aria-labelledby="permission-findings">
                <h2 id="permission-findings">"To look at"</h2>
                <ul class="findings">
                    {p.findings.iter().map(|f| view! { <li data-testid="permission-finding"><span class="badge badge-warn">"warning"</span> " " {f.clone()}</li> }).collect_view()}
                </ul>
            </section>
        })}
        <section class="card" aria-labelledby="role-title">
            <h2 id="role-title">"Execution role"</h2>
            <p>"What the function's code may do, as the role " <strong data-testid="role-name">{p.role_name.clone()}</strong> "."</p>
            <p class="muted"><code>{p.role_arn.clone()}</code></p>
            <h3>"Trust"</h3>
            <ul>{p.trust.iter().map(|t| view! { <li>{t.clone()}</li> }).collect_view()}</ul>
            <h3>"Policies"</h3>
            {p.policies.is_empty().then(|| view! { <p class="empty-state">"No policies: the function may do nothing in the account, not even write its logs."</p> })}
            <ul class="statements">
                {p.policies.into_iter().map(|policy| view! {
                    <li data-testid="role-policy">
                        <strong>{policy.name.clone()}</strong> " " <span class="badge">{policy.kind.clone()}</span>
                        {policy.arn.map(|arn| view! { " " <code class="muted">{arn}</code> })}
                        {policy.json.map(|json| view! { <details><summary>"Document"</summary><pre class="payload">{json}</pre></details> })}
                    </li>
                }).collect_view()}
            </ul>
        </section>
        <section class="card" aria-labelledby="resource-policy-title">
            <h2 id="resource-policy-title">"Resource policy"</h2>
            <p class="muted">"Who else may invoke the function. The URL tab lints what concerns its URL."</p>
            {p.statements.is_empty().then(|| view! { <p class="empty-state">"No resource policy: only identities of this account with permission may invoke it."</p> })}
            <ul class="statements">
                {p.statements.into_iter().map(|s| view! {
                    <li><strong>{s.sid}</strong> " " {s.words}
                        <details><summary>"JSON"</summary><pre class="payload">{s.json}</pre></details></li>
                }).collect_view()}
            </ul>
        </section>
    }
}
