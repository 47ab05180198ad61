//! Governance → Violations: which catalogued functions (shadows and ghosts too) break which
//! rules, counted by rule, team and owner, then listed 50 a page with each finding and its fix.
//! Narrowed to one rule by `?rule=` (in the URL, so a view can be shared).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::governance::{DecideException, SetExceptionApprovers, list_violations};
use crate::components::exceptions::{ExceptionTable, FindingLine, SeverityBadge};
use crate::components::forms::{outcome, successes};
use crate::error::error_fallback;
use crate::types::{ExceptionView, TrendDay, ViolatingView, ViolationCount, ViolationsView};

#[component]
pub fn ViolationsPage() -> impl IntoView {
    let query = use_query_map();
    let decide = ServerAction::<DecideException>::new();
    let approvers = ServerAction::<SetExceptionApprovers>::new();
    let (decided, set) = (successes(decide.value()), successes(approvers.value()));
    let asked = move || query.with(|q| (q.get("rule"), q.get("after")));
    let data = Resource::new(
        move || (asked(), decided.get(), set.get()),
        |((rule, after), ..)| list_violations(rule, after),
    );
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
        {outcome(decide.value(), |message| message)}
        {outcome(approvers.value(), |()| "Approvers saved".to_owned())}
        <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move {
                    let rule = asked().0.unwrap_or_default();
                    data.await.map(|v| view! { <Violations v rule decide approvers /> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn Violations(
    v: ViolationsView,
    rule: String,
    decide: ServerAction<DecideException>,
    approvers: ServerAction<SetExceptionApprovers>,
) -> impl IntoView {
    let exceptions = view! { <Exceptions exceptions=v.exceptions.clone() current=v.approvers.clone() decide approvers /> };
    if v.page.is_empty() && v.rule.is_none() {
        return view! {
            <p class="card empty-state" data-testid="no-violations">
                "No function breaks a rule. New rules are checked against the whole catalog when they are added."
            </p>
            {exceptions}
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
        <Trend days=v.trend />
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
        {exceptions}
    }
    .into_any()
}

/// Open requests and live exceptions, and who may approve them.
#[component]
fn Exceptions(
    exceptions: Vec<ExceptionView>,
    current: String,
    decide: ServerAction<DecideException>,
    approvers: ServerAction<SetExceptionApprovers>,
) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="exceptions-heading">
            <h2 id="exceptions-heading">"Exceptions"</h2>
            <p class="muted">
                "Whoever may change a function asks for an exception from its Overview (a rule, why, for how long). "
                "An approved exception lasts its hours, then expires; meanwhile its findings are shown as excepted and refuse nothing. "
                "Nobody decides on their own request."
            </p>
            {if exceptions.is_empty() {
                view! { <p class="empty-state" data-testid="no-exceptions">"No open requests and no live exceptions."</p> }.into_any()
            } else {
                view! { <ExceptionTable exceptions decide /> }.into_any()
            }}
            <ActionForm action=approvers>
                <div class="inline-form">
                    <label for="approvers">"Who may approve"</label>
                    <select id="approvers" name="approvers">
                        <option value="admins" selected=current == "admins">"admins"</option>
                        <option value="team" selected=current == "team">"admins and the function's team"</option>
                    </select>
                    <button type="submit" class="btn btn-small" disabled=approvers.pending()>"Save approvers"</button>
                </div>
            </ActionForm>
        </section>
    }
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
                            {c.change.filter(|n| *n != 0).map(|n| view! {
                                " " <span class="muted">{format!("({} this week)", signed(n))}</span>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}

/// `+3`, `−2`, `±0`.
fn signed(n: i64) -> String {
    match n {
        0 => "±0".to_owned(),
        n if n > 0 => format!("+{n}"),
        n => format!("−{}", n.unsigned_abs()),
    }
}

/// Functions breaking a rule, day by day: the days the console recorded (it counts every few
/// minutes while it runs), then today.
#[component]
fn Trend(days: Vec<TrendDay>) -> impl IntoView {
    let recorded = days.len() > 1;
    view! {
        <section class="card" aria-labelledby="trend-heading">
            <h2 id="trend-heading">"Trend"</h2>
            {(!recorded).then(|| view! {
                <p class="muted">"The trend starts today: the console keeps each day's count from now on."</p>
            })}
            <div class="table-wrap">
                <table data-testid="violation-trend">
                    <thead>
                        <tr>
                            <th scope="col">"Day"</th>
                            <th scope="col">"Functions breaking a rule"</th>
                            <th scope="col">"Change"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {days.into_iter().rev().map(|d| view! {
                            <tr>
                                <td>{d.day}</td>
                                <td>{d.functions}</td>
                                <td>{d.change.map(signed).unwrap_or_else(|| "—".to_owned())}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
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
                    {f.findings.into_iter().map(|x| view! { <li><FindingLine f=x /></li> }).collect_view()}
                </ul>
            </td>
        </tr>
    }
}
