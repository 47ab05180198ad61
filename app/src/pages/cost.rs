//! Governance → Cost: what the catalogued functions cost over the last 30 days (a month) and the
//! 30 before — the month after the free tier, by team, the biggest movers, every function — from
//! the cloud's metrics at AWS's published prices, with a CSV export.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::governance::cost_report;
use crate::error::error_fallback;
use crate::types::{CostReportView, FunctionCostView};

/// How many movers the page lists.
const MOVERS: usize = 5;

#[component]
pub fn CostPage() -> impl IntoView {
    let data = Resource::new(|| (), |()| cost_report());
    view! {
        <Title text="Cost" />
        <div class="page-head">
            <h1>"Cost"</h1>
            <a class="btn" href="/governance">"Rules"</a>
            <a class="btn" href="/governance/cost.csv" download="cost.csv">"Export CSV"</a>
        </div>
        <p class="lead">
            "What the catalogued functions cost over the last 30 days, taken as a month, beside the 30 days before: "
            "requests and GB-seconds from the cloud's metrics (Invocations and Duration), at each function's memory size and architecture."
        </p>
        <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Reading the metrics…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move { data.await.map(|c| view! { <Cost c /> }) })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn Cost(c: CostReportView) -> impl IntoView {
    let mut movers: Vec<FunctionCostView> =
        c.functions.iter().filter(|f| f.cost != f.previous_cost).cloned().collect();
    movers.sort_by(|a, b| {
        (b.cost - b.previous_cost).abs().total_cmp(&(a.cost - a.previous_cost).abs())
    });
    movers.truncate(MOVERS);
    let smaller: Vec<(FunctionCostView, (u32, u32, u32, f64))> =
        c.functions.iter().filter_map(|f| Some((f.clone(), f.smaller?))).collect();
    let init: f64 = c.functions.iter().filter_map(|f| f.init_cost).sum();
    let empty = c.functions.is_empty();
    view! {
        {(!c.unread.is_empty()).then(|| view! {
            <div class="alert alert-error" role="alert">
                "Some metrics could not be read; those functions show no use: "
                {c.unread.join("; ")}
            </div>
        })}
        <section class="card" aria-labelledby="cost-month" data-testid="cost-summary">
            <h2 id="cost-month">"This month"</h2>
            <dl class="facts">
                <dt>"Before the free tier"</dt><dd data-testid="cost-total">{dollars(c.total)}</dd>
                <dt>"The free tier"</dt><dd>{format!("−{}", dollars(c.free_tier))}</dd>
                <dt>"After the free tier"</dt><dd data-testid="cost-monthly"><strong>{dollars(c.monthly)}</strong></dd>
                <dt>"The 30 days before"</dt><dd>{dollars(c.previous_total)}</dd>
                <dt>"Of which cold starts' INIT"</dt><dd data-testid="cost-init">{dollars(init)}</dd>
            </dl>
            <p class="hint">
                {format!("Prices as of {}: {}. ", c.prices_as_of, c.prices_source)}
                "$0.20 per million requests; $0.0000166667 per GB-second on x86_64, $0.0000133334 on arm64. "
                "The free tier is a million requests and 400,000 GB-seconds a month per account (connection). "
                {format!("The Duration metric leaves out the INIT phase of cold starts, which AWS bills too: it is read from the REPORT lines of the {} dearest functions and added to theirs.", c.looked_at)}
            </p>
        </section>
        {if empty {
            view! { <p class="empty-state">"No function is catalogued yet: sync a connection on the Catalog page."</p> }.into_any()
        } else {
            view! {
                <section class="card" aria-labelledby="cost-teams">
                    <h2 id="cost-teams">"By team"</h2>
                    <div class="table-wrap" tabindex="0" role="region" aria-label="Cost by team">
                    <table data-testid="cost-teams">
                        <thead><tr><th scope="col">"Team"</th><th scope="col">"Functions"</th><th scope="col">"Requests"</th><th scope="col">"GB-seconds"</th><th scope="col">"Cost"</th><th scope="col">"30 days before"</th></tr></thead>
                        <tbody>
                            {c.teams.iter().map(|t| view! {
                                <tr>
                                    <th scope="row">{t.team.clone().unwrap_or_else(|| "No team".into())}</th>
                                    <td>{t.functions}</td>
                                    <td>{format!("{:.0}", t.requests)}</td>
                                    <td>{gb_seconds(t.gb_seconds)}</td>
                                    <td>{dollars(t.cost)}</td>
                                    <td>{dollars(t.previous_cost)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    </div>
                </section>
                <section class="card" aria-labelledby="cost-movers">
                    <h2 id="cost-movers">"Biggest movers"</h2>
                    {if movers.is_empty() {
                        view! { <p class="empty-state">"No function's cost changed from the 30 days before."</p> }.into_any()
                    } else {
                        view! {
                            <ul class="counts" data-testid="cost-movers">
                                {movers.into_iter().map(|f| {
                                    let change = f.cost - f.previous_cost;
                                    let sign = if change > 0.0 { "+" } else { "−" };
                                    view! {
                                        <li><a href=format!("/catalog/{}/monitor", f.function_id)>{f.name.clone()}</a>
                                            {format!(" {sign}{} ({} → {})", dollars(change.abs()), dollars(f.previous_cost), dollars(f.cost))}</li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }}
                </section>
                <section class="card" aria-labelledby="cost-savings">
                    <h2 id="cost-savings">"Unused memory"</h2>
                    {if smaller.is_empty() {
                        view! { <p class="empty-state">{format!("None of the {} dearest functions uses much less memory than it has (it takes ten invocations to tell).", c.looked_at)}</p> }.into_any()
                    } else {
                        view! {
                            <ul class="counts" data-testid="cost-savings">
                                {smaller.into_iter().map(|(f, (size, used, suggested, saving))| view! {
                                    <li><a href=format!("/catalog/{}/configuration", f.function_id)>{f.name.clone()}</a>
                                        {format!(": {size} MB, at most {used} MB used — {suggested} MB would save about {} a month, if its invocations take as long.", dollars(saving))}</li>
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }}
                </section>
                <section class="card" aria-labelledby="cost-functions">
                    <h2 id="cost-functions">"Every function"</h2>
                    <div class="table-wrap" tabindex="0" role="region" aria-label="Cost by function">
                    <table data-testid="cost-functions">
                        <thead><tr><th scope="col">"Function"</th><th scope="col">"Team"</th><th scope="col">"Where"</th><th scope="col">"Memory"</th><th scope="col">"Requests"</th><th scope="col">"GB-seconds"</th><th scope="col">"Cost"</th></tr></thead>
                        <tbody>
                            {c.functions.into_iter().map(|f| view! {
                                <tr>
                                    <th scope="row"><a href=format!("/catalog/{}", f.function_id)>{f.name}</a></th>
                                    <td>{f.team.unwrap_or_default()}</td>
                                    <td>{f.connection}</td>
                                    <td>{format!("{} MB · {}", f.memory_mb, f.architecture)}</td>
                                    <td>{format!("{:.0}", f.requests)}</td>
                                    <td>{gb_seconds(f.gb_seconds)}</td>
                                    <td>{dollars(f.cost)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    </div>
                </section>
            }.into_any()
        }}
    }
}

/// Dollars: cents once there are any, else to the millionth (one request is $0.0000002).
pub fn dollars(value: f64) -> String {
    if value == 0.0 {
        "$0.00".to_owned()
    } else if value.abs() >= 0.01 {
        format!("${value:.2}")
    } else {
        format!("${value:.7}")
    }
}

/// GB-seconds: whole ones once there are thousands, else to the ten-thousandth.
fn gb_seconds(value: f64) -> String {
    if value >= 1000.0 { format!("{value:.0}") } else { format!("{value:.4}") }
}
