//! The Labs page: my runs, and for admins every learner's (the instructor board: filtered by course,
//! learner and status, sorted, grouped by course, idle runs marked, exported as CSV), refreshed
//! live.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use model::RunStatus;

use crate::api::labs::list_labs;
use crate::error::error_fallback;
use crate::types::{BoardFilters, LabRunRow, LabsPage as LabsData};

use super::common::*;

/// `/labs`: my runs, and for admins everyone's (filtered, sorted, grouped as the URL says),
/// refreshed every few seconds.
#[component]
pub fn LabsPage() -> impl IntoView {
    let query = use_query_map();
    let filters = move || {
        query.with(|q| {
            let get = |k: &str| q.get(k).filter(|v| !v.is_empty());
            BoardFilters {
                course: get("course"),
                learner: get("learner"),
                status: get("status"),
                sort: get("sort"),
                group: get("group"),
            }
        })
    };
    let (tick, set_tick) = signal(0u32);
    let labs = Resource::new(move || (tick.get(), filters()), |(_, filters)| list_labs(filters));
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
                {move || Suspend::new(async move {
                    labs.await.map(|data| view! { <LabsTables data filters=filters() /> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
pub(super) fn LabsTables(data: LabsData, filters: BoardFilters) -> impl IntoView {
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
        {data.is_admin.then(|| view! { <Board rows=data.everyone filters /> })}
    }
}

/// The instructor board: every learner's runs as the filters ask, grouped by course if asked, and
/// the same as CSV.
#[component]
fn Board(rows: Vec<LabRunRow>, filters: BoardFilters) -> impl IntoView {
    let filtered = filters != BoardFilters::default();
    let export = format!("/labs/board.csv{}", board_query(&filters));
    let grouped = filters.group.as_deref() == Some("course");
    let idle = rows.iter().filter(|r| r.idle).count();
    let field = |v: &Option<String>| v.clone().unwrap_or_default();
    view! {
        <section class="card" aria-labelledby="board">
            <div class="section-head">
                <h2 id="board">"Instructor board"</h2>
                <a class="btn btn-small" href=export download="board.csv" data-testid="board-export">"Export CSV"</a>
            </div>
            <p class="muted" aria-live="polite">
                {format!("{} run(s)", rows.len())}
                {(idle > 0).then(|| format!(", {idle} idle for 10 minutes or more"))}
                ". Refreshed every 5 seconds. Open a run to reset it or clean it up."
            </p>
            <form method="get" action="/labs" class="filters" role="search" aria-label="Filter the board">
                <div><label for="board-course">"Course"</label>
                    <input id="board-course" name="course" placeholder="course tag" value=field(&filters.course) /></div>
                <div><label for="board-learner">"Learner"</label>
                    <input id="board-learner" name="learner" placeholder="email contains" value=field(&filters.learner) /></div>
                <div><label for="board-status">"Status"</label>
                    <select id="board-status" name="status">
                        {BOARD_STATUSES.iter().map(|(value, label)| view! {
                            <option value=*value selected=filters.status.as_deref().unwrap_or_default() == *value>{*label}</option>
                        }).collect_view()}
                    </select></div>
                <div><label for="board-sort">"Sort"</label>
                    <select id="board-sort" name="sort">
                        {BOARD_SORTS.iter().map(|(value, label)| view! {
                            <option value=*value selected=filters.sort.as_deref().unwrap_or("started") == *value>{*label}</option>
                        }).collect_view()}
                    </select></div>
                <label class="check"><input type="checkbox" name="group" value="course" checked=grouped />" Group by course"</label>
                <button type="submit" class="btn">"Apply"</button>
                {filtered.then(|| view! { <a href="/labs">"Clear"</a> })}
            </form>
            {if rows.is_empty() {
                let empty = if filtered { "No run matches these filters." } else { "Nobody has started the lab yet." };
                view! { <p class="empty-state">{empty}</p> }.into_any()
            } else if grouped {
                group_by_course(rows).into_iter().map(|(course, rows)| {
                    let title = course.map_or_else(|| "No course".to_owned(), |c| format!("Course {c}"));
                    view! { <h3>{format!("{title} ({})", rows.len())}</h3> <RunTable rows board=true /> }
                }).collect_view().into_any()
            } else {
                view! { <RunTable rows board=true /> }.into_any()
            }}
        </section>
    }
}

/// The board's filter values and labels (the server checks them again).
const BOARD_STATUSES: [(&str, &str); 6] = [
    ("", "Any status"),
    ("in_progress", "In progress"),
    ("idle", "Idle (10 min or more)"),
    ("stuck", "Stuck on a problem"),
    ("completed", "Completed"),
    ("cleaned_up", "Cleaned up"),
];
const BOARD_SORTS: [(&str, &str); 5] = [
    ("started", "Newest first"),
    ("learner", "Learner"),
    ("step", "Furthest behind first"),
    ("failures", "Most failures first"),
    ("idle", "Longest idle first"),
];

/// The filters as a query string (`?…`, or nothing).
fn board_query(filters: &BoardFilters) -> String {
    let pairs: Vec<String> = [
        ("course", &filters.course),
        ("learner", &filters.learner),
        ("status", &filters.status),
        ("sort", &filters.sort),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", crate::url::encode(v))))
    .collect();
    if pairs.is_empty() { String::new() } else { format!("?{}", pairs.join("&")) }
}

/// Rows by course, in the board's order; runs without a course last.
fn group_by_course(rows: Vec<LabRunRow>) -> Vec<(Option<String>, Vec<LabRunRow>)> {
    let mut groups: Vec<(Option<String>, Vec<LabRunRow>)> = Vec::new();
    for row in rows {
        match groups.iter_mut().find(|(course, _)| *course == row.course) {
            Some((_, group)) => group.push(row),
            None => groups.push((row.course.clone(), vec![row])),
        }
    }
    groups.sort_by_key(|(course, _)| course.is_none());
    groups
}

#[component]
pub(super) fn RunTable(rows: Vec<LabRunRow>, board: bool) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table" data-testid=if board { "board" } else { "my-runs" }>
                <thead><tr>
                    {board.then(|| view! { <th scope="col">"Learner"</th><th scope="col">"Course"</th> })}
                    <th scope="col">"Function"</th><th scope="col">"Step"</th><th scope="col">"Failures"</th>
                    <th scope="col">"Time spent"</th>
                    {board.then(|| view! { <th scope="col">"Idle"</th> })}
                    <th scope="col">"Started"</th><th scope="col">"Expires"</th>
                </tr></thead>
                <tbody>
                    {rows.into_iter().map(|r| {
                        let step = usize::try_from(r.step - 1).unwrap_or(0).min(8);
                        let href = format!("/labs/{}", r.lab_run_id);
                        view! {
                            <tr data-testid="lab-run">
                                {board.then(|| view! { <td>{r.email.clone()}</td><td>{r.course.clone().unwrap_or_default()}</td> })}
                                <td><a href=href>{r.function_name.clone().unwrap_or_else(|| "(not created yet)".to_owned())}</a>
                                    <div class="muted">{format!("{} · {}", r.connection, r.region)}</div></td>
                                <td>{format!("{}. {}", r.step, STEPS[step].0)}
                                    {(r.status != RunStatus::InProgress).then(|| view! { " " <span class="badge">{r.status.as_str().replace('_', " ")}</span> })}</td>
                                <td>{r.failures}{r.last_failure.clone().map(|f| view! {
                                    <div class="muted" data-testid="board-last-failure">{if r.failure_resolved { format!("resolved: {f}") } else { f }}</div>
                                })}</td>
                                <td>{format!("{} min", r.minutes)}</td>
                                {board.then(|| view! {
                                    <td data-testid="board-idle">{if r.status == RunStatus::InProgress { format!("{} min", r.idle_minutes) } else { "—".to_owned() }}
                                        {r.idle.then(|| view! { " " <span class="badge badge-warn">"idle"</span> })}</td>
                                })}
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
