//! The dashboard: the first page after sign-in.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::dashboard::get_dashboard;
use crate::error::error_fallback;
use crate::types::{AuditLine, Dashboard, LabRunRow};

#[component]
pub fn DashboardPage() -> impl IntoView {
    let (reloads, set_reloads) = signal(0u32);
    let dashboard = Resource::new(move || reloads.get(), |_| get_dashboard());
    view! {
        <Title text="Dashboard" />
        <div class="page-head">
            <h1>"Dashboard"</h1>
            <button type="button" class="btn" on:click=move |_| set_reloads.update(|n| *n += 1)>
                "Refresh"
            </button>
        </div>
        <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move { dashboard.await.map(|d| view! { <DashboardView d /> }) })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn DashboardView(d: Dashboard) -> impl IntoView {
    let admin = d.role == "admin";
    let teams = if d.teams.is_empty() {
        "none yet — an admin can add you to one".to_owned()
    } else {
        d.teams.join(", ")
    };
    view! {
        <p class="lead">"Welcome, " <strong>{d.email}</strong> "."</p>
        <div class="stats">
            <div class="stat">
                <span class="stat-label">"Your role"</span>
                <span class="stat-value" data-testid="role">{d.role}</span>
            </div>
            <div class="stat">
                <span class="stat-label">"Accounts"</span>
                <span class="stat-value" data-testid="account-count">{d.account_count}</span>
            </div>
            <div class="stat">
                <span class="stat-label">"Teams"</span>
                <span class="stat-value">{d.team_count}</span>
            </div>
        </div>
        <section class="card">
            <h2>"Your teams"</h2>
            <p>{teams}</p>
        </section>
        <section class="card">
            <h2>"Get started"</h2>
            <ol class="steps">
                <li>"Browse the " <a href="/catalog">"catalog"</a> " of functions and who owns them."</li>
                <li>"Follow the " <a href="/create">"guided lab"</a> " to create a function with a URL."</li>
                <li>"Check " <a href="/labs">"your lab runs"</a> " and clean up what you made."</li>
            </ol>
        </section>
        {(!d.expiring.is_empty()).then(|| view! { <Expiring runs=d.expiring admin /> })}
        {(!d.expired_urls.is_empty()).then(|| view! { <ExpiredUrls urls=d.expired_urls /> })}
        {admin.then(|| view! { <RecentActivity lines=d.recent_activity /> })}
    }
}

/// Lab runs the sweeper will clean up within a day.
#[component]
fn Expiring(runs: Vec<LabRunRow>, admin: bool) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="expiring">
            <h2 id="expiring">"Expiring soon"</h2>
            <p class="muted">"These lab runs are cleaned up automatically at the time shown: everything they created is deleted."</p>
            <ul data-testid="expiring">
                {runs
                    .into_iter()
                    .map(|r| {
                        let name = r.function_name.clone().unwrap_or_else(|| "(no function yet)".to_owned());
                        view! {
                            <li>
                                <a href=format!("/labs/{}", r.lab_run_id)>{name}</a>
                                {admin.then(|| format!(" ({})", r.email))}
                                " — " {r.expires.unwrap_or_default()}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}

/// Public URLs the sweeper switched off at their expiry this week.
#[component]
fn ExpiredUrls(urls: Vec<(String, String, String, String)>) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="expired-urls">
            <h2 id="expired-urls">"Public URLs switched off"</h2>
            <p class="muted">"Their expiry passed: each was switched to AWS_IAM (callers now need SigV4) or deleted, with its public statements."</p>
            <ul data-testid="expired-urls">
                {urls.into_iter().map(|(id, name, action, at)| {
                    let what = if action == "deleted" { "deleted" } else { "switched to AWS_IAM" };
                    view! { <li><a href=format!("/catalog/{id}/url")>{name}</a> " — " {what} " at " {at}</li> }
                }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn RecentActivity(lines: Vec<AuditLine>) -> impl IntoView {
    view! {
        <section class="card">
            <h2>"Recent activity"</h2>
            {if lines.is_empty() {
                view! { <p class="muted">"Nothing has happened yet."</p> }.into_any()
            } else {
                view! { <AuditTable lines /> }.into_any()
            }}
            <p><a href="/audit">"The whole audit trail"</a></p>
        </section>
    }
}

/// A table of audit lines, newest first.
#[component]
pub fn AuditTable(lines: Vec<AuditLine>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table>
                <thead>
                    <tr><th scope="col">"When (UTC)"</th><th scope="col">"Who"</th><th scope="col">"Action"</th><th scope="col">"Target"</th></tr>
                </thead>
                <tbody>
                    {lines
                        .into_iter()
                        .map(|l| view! {
                            <tr>
                                <td><time datetime=l.at.clone()>{l.at.get(..19).unwrap_or(&l.at).replace('T', " ")}</time></td>
                                <td>{l.actor}</td>
                                <td><code>{l.action}</code></td>
                                <td>{l.target}</td>
                            </tr>
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
