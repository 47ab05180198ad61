//! The Governance page: the platform team's rules (what may run, and where), and AWS's runtime
//! deprecation calendar the rules read. Admins add, switch off and delete rules here.

use leptos::prelude::*;
use leptos_meta::Title;
use model::{Lifecycle, RuleKind, Severity, Stage, UrlPolicy};

use crate::api::governance::{
    CreateRule, DeleteRule, SaveRuntimeDeprecation, SetRuleEnabled, governance, rule_added_message,
    rule_scopes, switched_message,
};
use crate::components::exceptions::SeverityBadge;
use crate::components::forms::{clear_on_success, field_error, invalid, outcome, successes};
use crate::error::error_fallback;
use crate::types::{DeprecationView, RuleView, RuntimeReportView};

#[component]
pub fn GovernancePage() -> impl IntoView {
    let create = ServerAction::<CreateRule>::new();
    let toggle = ServerAction::<SetRuleEnabled>::new();
    let delete = ServerAction::<DeleteRule>::new();
    let save = ServerAction::<SaveRuntimeDeprecation>::new();
    let (created, saved) = (successes(create.value()), successes(save.value()));
    let data = Resource::new(
        move || (created.get(), toggle.version().get(), delete.version().get(), saved.get()),
        |_| governance(),
    );
    view! {
        <Title text="Governance" />
        <div class="page-head">
            <h1>"Governance"</h1>
            <a class="btn" href="/governance/violations">"Violations"</a>
            <a class="btn" href="/governance/cost">"Cost"</a>
        </div>
        <p class="lead">
            "Rules for what may run, and where. A rule of severity error is refused before anything is created; "
            "warnings and info are shown and counted. Every change here is recorded in the audit trail."
        </p>
        {outcome(toggle.value(), switched_message)}
        {outcome(delete.value(), |()| "Rule deleted".to_owned())}
        <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move {
                    data.await.map(|g| view! { <Rules rules=g.rules toggle delete /> })
                })}
            </ErrorBoundary>
        </Transition>
        // Beside the rules, not inside them: the form is not drawn again (losing what was chosen)
        // each time the rules are read again after a change.
        <AddRule create />
        <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move {
                    data.await.map(|g| view! {
                        <Hygiene deprecations=g.deprecations unowned=g.unowned unowned_first=g.unowned_first />
                        <Calendar calendar=g.calendar save />
                    })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn Rules(
    rules: Vec<RuleView>,
    toggle: ServerAction<SetRuleEnabled>,
    delete: ServerAction<DeleteRule>,
) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="rules-heading">
            <h2 id="rules-heading">"Rules"</h2>
            {if rules.is_empty() {
                view! {
                    <p class="empty-state" data-testid="no-rules">
                        "No rules yet: every function may be created as its owner likes. Add the first below — "
                        "a required owner tag and no public URLs in production are where most platform teams start."
                    </p>
                }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table>
                            <thead>
                                <tr>
                                    <th scope="col">"Rule"</th><th scope="col">"Severity"</th>
                                    <th scope="col">"Applies to"</th><th scope="col">"Mirrors"</th>
                                    <th scope="col">"Actions"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {rules.into_iter().map(|r| view! { <RuleRow r toggle delete /> }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn RuleRow(
    r: RuleView,
    toggle: ServerAction<SetRuleEnabled>,
    delete: ServerAction<DeleteRule>,
) -> impl IntoView {
    let (confirm_for, confirm_id) =
        (format!("delete-rule-{}", r.rule_id), format!("delete-rule-{}", r.rule_id));
    let (toggle_id, delete_id) = (r.rule_id.clone(), r.rule_id.clone());
    let switch = if r.enabled { "Switch off" } else { "Switch on" };
    let switch_label = format!("{switch}: {}", r.summary);
    let delete_label = format!("Delete: {}", r.summary);
    view! {
        <tr class:muted=!r.enabled>
            <td>
                {r.summary.clone()}
                {(!r.enabled).then(|| view! { " " <span class="badge">"off"</span> })}
                {(!r.note.is_empty()).then(|| view! { <br /> <span class="muted">{r.note.clone()}</span> })}
            </td>
            <td><SeverityBadge severity=r.severity /></td>
            <td>{r.scope}</td>
            <td class="muted">{r.mirrors}</td>
            <td>
                <ActionForm action=toggle>
                    <input type="hidden" name="rule_id" value=toggle_id />
                    <input type="hidden" name="enabled" value=if r.enabled { "no" } else { "yes" } />
                    <button type="submit" class="btn btn-small" aria-label=switch_label>{switch}</button>
                </ActionForm>
                <ActionForm action=delete>
                    <input type="hidden" name="rule_id" value=delete_id />
                    <label class="check" for=confirm_for>
                        <input id=confirm_id type="checkbox" name="confirm" value="yes" required />
                        " Confirm"
                    </label>
                    <button type="submit" class="btn btn-small btn-danger" aria-label=delete_label>"Delete"</button>
                </ActionForm>
            </td>
        </tr>
    }
}

/// The form for a new rule, with the teams and connections a rule can be scoped to (read once).
#[component]
fn AddRule(create: ServerAction<CreateRule>) -> impl IntoView {
    let scopes = Resource::new(|| (), |()| rule_scopes());
    view! {
        <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move {
                    scopes.await.map(|s| view! { <RuleForm create teams=s.teams connections=s.connections /> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

/// With JavaScript the form shows only the fields the chosen kind reads; without, all of them
/// (the server ignores the others).
#[component]
fn RuleForm(
    create: ServerAction<CreateRule>,
    teams: Vec<(String, String)>,
    connections: Vec<(String, String)>,
) -> impl IntoView {
    let form = clear_on_success(create.value());
    let kind = RwSignal::new(RuleKind::RequiredTag);
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    // The form is emptied after a success (its kind back to the first): so are the fields shown.
    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get() {
            kind.set(RuleKind::ALL[0]);
        }
    });
    let hidden =
        move |field: &'static str| move || hydrated.get() && !kind.get().fields().contains(&field);
    let value = create.value();
    view! {
        <section class="card" aria-labelledby="add-rule">
            <h2 id="add-rule">"Add a rule"</h2>
            {outcome(value, |summary: String| rule_added_message(&summary))}
            <ActionForm action=create node_ref=form>
                <div class="grid-2">
                    <div>
                        <label for="rule-kind">"What it checks"</label>
                        <select id="rule-kind" name="kind"
                            on:change:target=move |ev| {
                                if let Ok(k) = ev.target().value().parse() { kind.set(k) }
                            }>
                            {RuleKind::ALL.iter().map(|k| view! {
                                <option value=k.as_str()>{k.label()}</option>
                            }).collect_view()}
                        </select>
                        <label for="rule-severity">"Severity"</label>
                        <select id="rule-severity" name="severity">
                            {Severity::ALL.iter().map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> }).collect_view()}
                        </select>
                    </div>
                    <fieldset>
                        <legend>"Applies to (leave a choice on “any” for all)"</legend>
                        <label for="rule-team">"Team"</label>
                        <select id="rule-team" name="team_id">
                            <option value="">"any team"</option>
                            {teams.into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view()}
                        </select>
                        <label for="rule-environment">"Environment"</label>
                        <select id="rule-environment" name="environment">
                            <option value="">"any environment"</option>
                            {Stage::ALL.iter().map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> }).collect_view()}
                        </select>
                        <label for="rule-lifecycle">"Lifecycle"</label>
                        <select id="rule-lifecycle" name="lifecycle">
                            <option value="">"any lifecycle"</option>
                            {Lifecycle::ALL.iter().map(|l| view! { <option value=l.as_str()>{l.as_str()}</option> }).collect_view()}
                        </select>
                        <label for="rule-connection">"Connection"</label>
                        <select id="rule-connection" name="connection_id">
                            <option value="">"any connection"</option>
                            {connections.into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view()}
                        </select>
                    </fieldset>
                </div>
                <div hidden=hidden("key")>
                    <label for="rule-key">"Tag key"</label>
                    <input id="rule-key" name="key" maxlength="128" autocomplete="off"
                        aria-invalid=invalid(value, "key") aria-describedby="rule-key-error" />
                    {field_error(value, "key", "rule-key-error")}
                </div>
                <div hidden=hidden("values")>
                    <label for="rule-values">"Allowed values (comma-separated: tag values, runtimes or architectures)"</label>
                    <input id="rule-values" name="values" autocomplete="off" placeholder="python3.12, python3.13"
                        aria-invalid=invalid(value, "values") aria-describedby="rule-values-error" />
                    {field_error(value, "values", "rule-values-error")}
                </div>
                <div hidden=hidden("pattern")>
                    <label for="rule-pattern">"Pattern (a regular expression the whole name or value must match)"</label>
                    <input id="rule-pattern" name="pattern" maxlength="200" autocomplete="off" placeholder="team-[a-z]+-.+"
                        aria-invalid=invalid(value, "pattern") aria-describedby="rule-pattern-error" />
                    {field_error(value, "pattern", "rule-pattern-error")}
                </div>
                <div class="inline-form" hidden=hidden("min")>
                    <label for="rule-min">"Minimum"</label>
                    <input id="rule-min" name="min" type="number" min="0"
                        aria-invalid=invalid(value, "min") aria-describedby="rule-min-error" />
                    <label for="rule-max">"Maximum"</label>
                    <input id="rule-max" name="max" type="number" min="0"
                        aria-invalid=invalid(value, "max") aria-describedby="rule-max-error" />
                </div>
                {field_error(value, "min", "rule-min-error")}
                {field_error(value, "max", "rule-max-error")}
                <div hidden=hidden("policy")>
                    <label for="rule-policy">"Public URLs are"</label>
                    <select id="rule-policy" name="policy">
                        {UrlPolicy::ALL.iter().map(|p| {
                            let text = match p {
                                UrlPolicy::Forbidden => "forbidden",
                                UrlPolicy::OutsideProduction => "allowed outside production only",
                                UrlPolicy::Expiry => "allowed with an expiry",
                                UrlPolicy::Approval => "allowed with an approved exception",
                            };
                            view! { <option value=p.as_str()>{text}</option> }
                        }).collect_view()}
                    </select>
                    <label for="rule-max-hours">"Longest expiry, in hours (for “allowed with an expiry”)"</label>
                    <input id="rule-max-hours" name="max_hours" type="number" min="1" max="8760"
                        aria-invalid=invalid(value, "max_hours") aria-describedby="rule-max-hours-error" />
                    {field_error(value, "max_hours", "rule-max-hours-error")}
                    <label for="rule-on-expiry">"At expiry, the public URL is"</label>
                    <select id="rule-on-expiry" name="on_expiry">
                        <option value="switch">"switched to AWS_IAM (callers then need SigV4)"</option>
                        <option value="delete">"deleted, with its public statements"</option>
                    </select>
                </div>
                <label for="rule-note">"Why (shown with every finding; optional)"</label>
                <input id="rule-note" name="note" maxlength="500" autocomplete="off"
                    placeholder="Finance charges costs back by cost-center" />
                <button type="submit" class="btn btn-primary" disabled=create.pending()>"Add rule"</button>
            </ActionForm>
        </section>
    }
}

/// The hygiene reports: functions on runtimes on their way out, and functions nobody owns.
#[component]
fn Hygiene(
    deprecations: Vec<RuntimeReportView>,
    unowned: i64,
    unowned_first: Vec<(String, String)>,
) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="hygiene-heading">
            <h2 id="hygiene-heading">"Hygiene"</h2>
            <h3>"Runtimes on their way out"</h3>
            {if deprecations.is_empty() {
                view! { <p class="empty-state" data-testid="no-deprecations">"No catalogued function runs on a runtime deprecated now or within 180 days."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table data-testid="deprecation-report">
                            <thead>
                                <tr><th scope="col">"Runtime"</th><th scope="col">"Today"</th><th scope="col">"Next"</th><th scope="col">"Functions"</th></tr>
                            </thead>
                            <tbody>
                                {deprecations.into_iter().map(|d| {
                                    let href = format!("/catalog?runtime={}", crate::url::encode(&d.runtime));
                                    view! {
                                        <tr>
                                            <td>{d.runtime}</td>
                                            <td>{d.phase}</td>
                                            <td>{d.next.unwrap_or_else(|| "—".to_owned())}</td>
                                            <td><a href=href>{d.functions}</a></td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
            <h3>"Functions nobody owns"</h3>
            {if unowned == 0 {
                view! { <p class="empty-state">"Every catalogued function has an owner."</p> }.into_any()
            } else {
                view! {
                    <p data-testid="unowned">{format!("{unowned} catalogued function(s) have no owner: give each one on its Overview.")}</p>
                    <ul class="counts">
                        {unowned_first.into_iter().map(|(id, name)| view! { <li><a href=format!("/catalog/{id}")>{name}</a></li> }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <h3>"Orphans"</h3>
            <p>
                "Lambda keeps a deleted function's log group and what it stored; a role the console "
                "made is kept while another function uses it, and may outlive that function. "
                <a href="/governance/orphans">"Look for orphan log groups and roles"</a>
                " (asks every connection's cloud)."
            </p>
        </section>
    }
}

/// AWS's runtime deprecation calendar, with where each runtime is today, and a form to move a
/// runtime's dates when AWS does.
#[component]
fn Calendar(
    calendar: Vec<DeprecationView>,
    save: ServerAction<SaveRuntimeDeprecation>,
) -> impl IntoView {
    let value = save.value();
    view! {
        <section class="card" aria-labelledby="calendar-heading">
            <h2 id="calendar-heading">"Runtime deprecation calendar"</h2>
            <p class="muted">
                "AWS deprecates a runtime (no more patches), then blocks new functions on it (phase 1), then updates "
                "(phase 2); invocations are never blocked. The \u{201c}No deprecated runtimes\u{201d} rule reads these dates. "
                "Check them against AWS's runtimes page and move them here when AWS does."
            </p>
            <div class="table-wrap">
                <table>
                    <thead>
                        <tr>
                            <th scope="col">"Runtime"</th><th scope="col">"Deprecated"</th>
                            <th scope="col">"No new functions"</th><th scope="col">"No updates"</th>
                            <th scope="col">"Today"</th><th scope="col">"Source, checked"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {calendar.into_iter().map(|d| view! {
                            <tr>
                                <td>{d.runtime}</td>
                                <td>{d.deprecated_on}</td>
                                <td>{d.block_create_on.unwrap_or_else(|| "—".into())}</td>
                                <td>{d.block_update_on.unwrap_or_else(|| "—".into())}</td>
                                <td>{d.phase}</td>
                                <td class="muted">{d.source} ", " {d.checked_on}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <h3>"Add a runtime or move its dates"</h3>
            {outcome(value, |()| "Calendar saved".to_owned())}
            <ActionForm action=save>
                <div class="inline-form">
                    <label for="cal-runtime">"Runtime"</label>
                    <input id="cal-runtime" name="runtime" required maxlength="40" placeholder="python3.11"
                        aria-invalid=invalid(value, "runtime") aria-describedby="cal-runtime-error" />
                    <label for="cal-deprecated">"Deprecated on"</label>
                    <input id="cal-deprecated" name="deprecated_on" type="date" required
                        aria-invalid=invalid(value, "deprecated_on") />
                    <label for="cal-create">"No new functions from"</label>
                    <input id="cal-create" name="block_create_on" type="date"
                        aria-invalid=invalid(value, "block_create_on") aria-describedby="cal-create-error" />
                    <label for="cal-update">"No updates from"</label>
                    <input id="cal-update" name="block_update_on" type="date" />
                </div>
                {field_error(value, "runtime", "cal-runtime-error")}
                {field_error(value, "block_create_on", "cal-create-error")}
                <label for="cal-source">"Source"</label>
                <input id="cal-source" name="source" required maxlength="200" value="AWS Lambda runtimes page" />
                <button type="submit" class="btn" disabled=save.pending()>"Save dates"</button>
            </ActionForm>
        </section>
    }
}
