//! The audit trail (admins only): every change made through the console, filtered by actor,
//! action, target and days (in the URL, so a view can be shared), 100 a page, exportable as CSV
//! or JSON with the same filters.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::dashboard::search_audit_events;
use crate::error::error_fallback;
use crate::types::{AuditFilters, AuditPageView};

const KEYS: [&str; 5] = ["actor", "action", "target", "since", "until"];

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let filters = move || {
        query.with(|q| {
            let get = |k: &str| q.get(k).filter(|v| !v.is_empty());
            AuditFilters {
                actor: get("actor"),
                action: get("action"),
                target: get("target"),
                since: get("since"),
                until: get("until"),
                before: get("before"),
            }
        })
    };
    let shown = move || {
        query.with(|q| KEYS.iter().map(|k| (*k, q.get(k).unwrap_or_default())).collect::<Vec<_>>())
    };
    let events = Resource::new(filters, search_audit_events);
    let field = move |key: &'static str| move || query.with(|q| q.get(key).unwrap_or_default());
    view! {
        <Title text="Audit" />
        <div class="page-head">
            <h1>"Audit"</h1>
            <span>
                <a class="btn" href=move || format!("/audit/export?format=csv&{}", crate::url::query(&shown()))>"Export CSV"</a>
                " "
                <a class="btn" href=move || format!("/audit/export?format=json&{}", crate::url::query(&shown()))>"Export JSON"</a>
            </span>
        </div>
        <p class="lead">"Every change made through the console: who, what, to what, when and from where."</p>
        <form method="get" action="/audit" class="card filters" role="search">
            <label for="audit-actor">"Actor"</label>
            <input id="audit-actor" name="actor" placeholder="email or system" value=field("actor") prop:value=field("actor") />
            <label for="audit-action">"Action"</label>
            <input id="audit-action" name="action" placeholder="e.g. function." value=field("action") prop:value=field("action") />
            <label for="audit-target">"Target"</label>
            <input id="audit-target" name="target" placeholder="contains" value=field("target") prop:value=field("target") />
            <label for="audit-since">"From"</label>
            <input id="audit-since" name="since" type="date" value=field("since") prop:value=field("since") />
            <label for="audit-until">"To"</label>
            <input id="audit-until" name="until" type="date" value=field("until") prop:value=field("until") />
            <button type="submit" class="btn">"Filter"</button>
            <a class="btn" href="/audit">"Clear"</a>
        </form>
        <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move {
                    let pairs = shown();
                    events.await.map(|page| view! { <AuditEntries page pairs /> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn AuditEntries(page: AuditPageView, pairs: Vec<(&'static str, String)>) -> impl IntoView {
    if page.entries.is_empty() {
        return view! { <p class="card empty-state">"No events match."</p> }.into_any();
    }
    let next = page.next.map(|before| {
        let mut pairs = pairs.clone();
        pairs.push(("before", before));
        format!("/audit?{}", crate::url::query(&pairs))
    });
    view! {
        <div class="table-wrap">
            <table class="table" data-testid="audit-table">
                <thead>
                    <tr>
                        <th scope="col">"When (UTC)"</th>
                        <th scope="col">"Actor"</th>
                        <th scope="col">"Action"</th>
                        <th scope="col">"Target"</th>
                        <th scope="col">"Change"</th>
                        <th scope="col">"From"</th>
                    </tr>
                </thead>
                <tbody>
                    {page
                        .entries
                        .into_iter()
                        .map(|e| view! {
                            <tr>
                                <td><time datetime=e.at.clone()>{e.at.clone()}</time></td>
                                <td>{e.actor}</td>
                                <td>{e.action}</td>
                                <td>{e.target}</td>
                                <td><code class="detail">{e.detail}</code></td>
                                <td>{e.source_ip.unwrap_or_default()}</td>
                            </tr>
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
        {next.map(|href| view! { <a class="btn" href=href rel="next">"Older events"</a> })}
    }
    .into_any()
}
