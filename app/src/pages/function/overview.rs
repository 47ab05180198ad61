//! The Overview tab: owner, team, lifecycle and environment, drift with a way to resolve each
//! field, and the configuration read live from the cloud beside the catalog's copy.

use leptos::prelude::*;

use super::with_detail;
use crate::components::exceptions::{ExceptionTable, FindingLine, RequestForm};
use crate::components::forms::outcome;

#[component]
pub fn OverviewTab() -> impl IntoView {
    with_detail(|d, f| {
        let take = f.take;
        let row = d.row.clone();
        let live = if let Some(error) = d.live_error.clone() {
            view! { <div class="alert alert-error" role="alert">{error}</div> }.into_any()
        } else {
            view! {
                <table class="table" data-testid="live-config">
                    <thead>
                        <tr><th scope="col">"Setting"</th><th scope="col">"Catalog"</th><th scope="col">"Cloud, now"</th></tr>
                    </thead>
                    <tbody>
                        {d.live
                            .iter()
                            .map(|(field, catalog, cloud)| {
                                let differs = catalog != cloud;
                                view! {
                                    <tr class:differs=differs>
                                        <th scope="row">{field.clone()}</th>
                                        <td>{catalog.clone()}</td>
                                        <td>
                                            {cloud.clone()}
                                            {differs.then(|| view! { " " <span class="badge badge-warn">"differs"</span> })}
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            }
                .into_any()
        };
        view! {
            <section class="card" aria-labelledby="overview">
                <h2 id="overview">"Overview"</h2>
                <p>
                    "Owner: " <strong>{row.owner.clone().unwrap_or_else(|| "nobody".to_owned())}</strong>
                    " · Team: " {row.team.clone().unwrap_or_else(|| "none".to_owned())}
                    " · " {row.lifecycle.clone()} " · " {row.environment}
                </p>
            {(!d.drift.is_empty()).then(|| {
                let can_edit = d.can_edit;
                let drift_id = d.row.function_id.clone();
                view! {
                    <div class="alert alert-error" role="alert" data-testid="drift">
                        <strong>"Drift: the cloud's tags disagree with the catalog."</strong>
                        {outcome(take.value(), |()| "The catalog now has the cloud's value".to_owned())}
                        <ul>
                            {d.drift.clone().into_iter().map(|(field, text)| {
                                let function_id = drift_id.clone();
                                view! {
                                    <li>
                                        {text}
                                        {can_edit.then(|| view! {
                                            " "
                                            <ActionForm action=take attr:class="inline">
                                                <input type="hidden" name="function_id" value=function_id />
                                                <input type="hidden" name="field" value=field />
                                                <button type="submit" class="btn btn-small">"Take the cloud's value"</button>
                                            </ActionForm>
                                        })}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                        {can_edit.then(|| view! { <p>"Or save the tags on the " <a href=format!("/catalog/{}/tags", drift_id)>"Tags"</a> " tab to write the catalog's values to the cloud."</p> })}
                    </div>
                }
            })}
            {(!d.findings.is_empty()).then(|| {
                let (request, can_edit, function_id) = (f.request, d.can_edit, d.row.function_id.clone());
                view! {
                    <div class="alert alert-warn" data-testid="findings">
                        <strong>"Governance: this function breaks the platform team's rules."</strong>
                        {outcome(request.value(), |()| "Exception requested: an approver decides".to_owned())}
                        <ul class="findings">
                            {d.findings.clone().into_iter().map(|finding| {
                                let form = (can_edit && !finding.excepted).then(|| view! {
                                    <RequestForm request function_id=function_id.clone() finding=finding.clone() />
                                });
                                view! { <li><FindingLine f=finding />{form}</li> }
                            }).collect_view()}
                        </ul>
                    </div>
                }
            })}
            {(!d.exceptions.is_empty()).then(|| view! {
                <h3>"Exceptions"</h3>
                {outcome(f.decide.value(), |message| message)}
                <ExceptionTable exceptions=d.exceptions.clone() decide=f.decide />
            })}
            {live}
            </section>
        }
    })
}
