//! Governance → Violations: which catalogued functions (shadows and ghosts too) break which
//! rules, counted by rule, team and owner, then listed 50 a page with each finding and its fix.
//! Narrowed to one rule by `?rule=` (in the URL, so a view can be shared).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::governance::list_violations;
use crate::error::error_fallback;
use crate::types::{ViolatingView, ViolationCount, ViolationsView};

#[component]
pub fn ViolationsPage() -> impl IntoView {
    let query = use_query_map();
    let asked = move || query.with(|q| (q.get("rule"), q.get("after")));
    let data = Resource::new(asked, |(rule, after)| list_violations(rule, after));
    view! {
        <Title text="Violations" />
        <div class="page-head">
            <h1>"Violations"</h1>
            <a class="btn" href="/governance">"Rules"</a>
        </div>
        <p class="lead">
            "Catalogued functions that break a rule, as of the last sync or change. "
            "Shadows (found in the cloud, not imported) and ghosts (gone from the cloud) count too."
        </p>
        <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move {
                    let rule = asked().0.unwrap_or_default();
                    data.await.map(|v| view! { <Violations v rule /> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn Violations(v: ViolationsView, rule: String) -> impl IntoView {
    if v.functions == 0 {
        return view! {
            <p class="card empty-state" data-testid="no-violations">
                "No function breaks a rule. New rules are checked against the whole catalog when they are added."
            </p>
        }
        .into_any();
    }
    let next = v.next.map(|after| {
        format!(
            "/governance/violations?{}",
            crate::url::query(&[("rule", rule.clone()), ("after", after)])
        )
    });
    let heading = match &v.rule {
        Some(r) => format!("Functions breaking: {r}"),
        None => "Functions breaking a rule".to_owned(),
    };
    view! {
        <p data-testid="violation-total">{format!("{} function(s) break at least one rule.", v.functions)}</p>
        <div class="grid-3">
            <Counts title="By rule" counts=v.by_rule link=true />
            <Counts title="By team" counts=v.by_team link=false />
            <Counts title="By owner" counts=v.by_owner link=false />
        </div>
        <section class="card" aria-labelledby="violating-heading">
            <div class="section-head">
                <h2 id="violating-heading">{heading}</h2>
                {v.rule.is_some().then(|| view! { <a href="/governance/violations">"All rules"</a> })}
            </div>
            <div class="table-wrap">
                <table data-testid="violations-table">
                    <thead>
                        <tr>
                            <th scope="col">"Function"</th><th scope="col">"Owner, team"</th>
                            <th scope="col">"What it breaks, and the fix"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {v.page.into_iter().map(|f| view! { <ViolatingRow f /> }).collect_view()}
                    </tbody>
                </table>
            </div>
            {next.map(|href| view! { <a class="btn" href=href rel="next">"Next page"</a> })}
        </section>
    }
    .into_any()
}

#[component]
fn Counts(title: &'static str, counts: Vec<ViolationCount>, link: bool) -> impl IntoView {
    view! {
        <section class="card">
            <h2>{title}</h2>
            <ul class="counts">
                {counts.into_iter().map(|c| {
                    let label = if link {
                        let href = format!("/governance/violations?rule={}", c.rule_id);
                        view! { <a href=href>{c.label}</a> }.into_any()
                    } else {
                        view! { <span>{c.label}</span> }.into_any()
                    };
                    view! {
                        <li>
                            {label}
                            {(!c.severity.is_empty()).then(|| view! { " " <SeverityBadge severity=c.severity.clone() /> })}
                            " — " {c.functions}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn ViolatingRow(f: ViolatingView) -> impl IntoView {
    let href = format!("/catalog/{}", f.function_id);
    let whose = match (f.owner, f.team) {
        (Some(o), Some(t)) => format!("{o}, {t}"),
        (Some(o), None) => o,
        (None, Some(t)) => format!("no owner, {t}"),
        (None, None) => "no owner".to_owned(),
    };
    view! {
        <tr>
            <td>
                <a href=href>{f.name}</a>
                <br /><span class="muted">{f.connection} " · " {f.region}</span>
                {f.shadow.then(|| view! { " " <span class="badge">"shadow"</span> })}
                {f.ghost.then(|| view! { " " <span class="badge badge-warn">"ghost"</span> })}
            </td>
            <td>{whose}</td>
            <td>
                <ul class="findings">
                    {f.findings.into_iter().map(|x| view! {
                        <li><SeverityBadge severity=x.severity /> " " {x.message} " " <span class="muted">{x.fix}</span></li>
                    }).collect_view()}
                </ul>
            </td>
        </tr>
    }
}

/// A finding's or a rule's severity as a badge.
#[component]
pub fn SeverityBadge(severity: String) -> impl IntoView {
    let class = match severity.as_str() {
        "error" => "badge badge-danger",
        "warning" => "badge badge-warn",
        _ => "badge",
    };
    view! { <span class=class>{severity}</span> }
}
