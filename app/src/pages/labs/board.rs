//! The Labs page: my runs, and for admins every learner's (the instructor board), refreshed live.

use leptos::prelude::*;
use leptos_meta::Title;
use model::RunStatus;

use crate::api::labs::list_labs;
use crate::error::error_fallback;
use crate::types::{LabRunRow, LabsPage as LabsData};

use super::common::*;

/// `/labs`: my runs, and for admins everyone's, refreshed every few seconds.
#[component]
pub fn LabsPage() -> impl IntoView {
    let (tick, set_tick) = signal(0u32);
    let labs = Resource::new(move || tick.get(), |_| list_labs());
    // The instructor board is live: a fresh read every 5 s while the page is open.
    Effect::new(move |_| {
        let handle = set_interval_with_handle(
            move || set_tick.update(|n| *n = n.wrapping_add(1)),
            std::time::Duration::from_secs(5),
        );
        on_cleanup(move || {
            if let Ok(handle) = handle {
                handle.clear();
            }
        });
    });
    view! {
        <Title text="Labs" />
        <div class="page-head">
            <h1>"Labs"</h1>
            <a class="btn btn-primary" href="/create">"Start the lab"</a>
        </div>
        <p class="lead">"The AWS Lambda hands-on lab as a guided wizard: each step checked against real state, and nothing left behind."</p>
        <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading lab runs…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move { labs.await.map(|data| view! { <LabsTables data /> }) })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
pub(super) fn LabsTables(data: LabsData) -> impl IntoView {
    let in_progress: Vec<LabRunRow> =
        data.mine.iter().filter(|r| r.status == RunStatus::InProgress).cloned().collect();
    let completed: Vec<LabRunRow> =
        data.mine.iter().filter(|r| r.status == RunStatus::Completed).cloned().collect();
    let cleaned: Vec<LabRunRow> =
        data.mine.iter().filter(|r| r.status == RunStatus::CleanedUp).cloned().collect();
    view! {
        <section class="card" aria-labelledby="my-runs">
            <h2 id="my-runs">"My lab runs"</h2>
            {data.mine.is_empty().then(|| view! {
                <p class="empty-state">"No lab runs yet. " <a href="/create">"Start the lab"</a> " to create your first function."</p>
            })}
            {(!in_progress.is_empty()).then(|| view! { <h3>"In progress"</h3> <RunTable rows=in_progress board=false /> })}
            {(!completed.is_empty()).then(|| view! { <h3>"Completed"</h3> <RunTable rows=completed board=false /> })}
            {(!cleaned.is_empty()).then(|| view! { <h3>"Cleaned up"</h3> <RunTable rows=cleaned board=false /> })}
        </section>
        {data.is_admin.then(|| view! {
            <section class="card" aria-labelledby="board">
                <h2 id="board">"Instructor board"</h2>
                <p class="muted" aria-live="polite">"Every learner's runs, refreshed every 5 seconds."</p>
                {if data.everyone.is_empty() {
                    view! { <p class="empty-state">"Nobody has started the lab yet."</p> }.into_any()
                } else {
                    view! { <RunTable rows=data.everyone board=true /> }.into_any()
                }}
            </section>
        })}
    }
}

#[component]
pub(super) fn RunTable(rows: Vec<LabRunRow>, board: bool) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table" data-testid=if board { "board" } else { "my-runs" }>
                <thead><tr>
                    {board.then(|| view! { <th scope="col">"Learner"</th> })}
                    <th scope="col">"Function"</th><th scope="col">"Step"</th><th scope="col">"Failures"</th>
                    <th scope="col">"Time spent"</th><th scope="col">"Started"</th><th scope="col">"Expires"</th>
                </tr></thead>
                <tbody>
                    {rows.into_iter().map(|r| {
                        let step = usize::try_from(r.step - 1).unwrap_or(0).min(8);
                        let href = format!("/labs/{}", r.lab_run_id);
                        view! {
                            <tr data-testid="lab-run">
                                {board.then(|| view! { <td>{r.email.clone()}</td> })}
                                <td><a href=href>{r.function_name.clone().unwrap_or_else(|| "(not created yet)".to_owned())}</a>
                                    <div class="muted">{format!("{} · {}", r.connection, r.region)}</div></td>
                                <td>{format!("{}. {}", r.step, STEPS[step].0)}
                                    {(r.status != RunStatus::InProgress).then(|| view! { " " <span class="badge">{r.status.as_str().replace('_', " ")}</span> })}</td>
                                <td>{r.failures}{r.last_failure.clone().map(|f| view! {
                                    <div class="muted" data-testid="board-last-failure">{if r.failure_resolved { format!("resolved: {f}") } else { f }}</div>
                                })}</td>
                                <td>{format!("{} min", r.minutes)}</td>
                                <td><time datetime=r.started.clone()>{r.started.clone()}</time></td>
                                <td>{r.expires.clone().unwrap_or_else(|| "never".to_owned())}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
