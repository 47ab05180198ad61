//! The Tags tab: owner, team, lifecycle, environment and user tags — saved to the catalog and,
//! as a diff, to the cloud's tags — and ownership transfer.

use leptos::prelude::*;

use super::with_detail;
use crate::components::forms::{field_error, invalid, outcome};

#[component]
pub fn TagsTab() -> impl IntoView {
    with_detail(|d, f| {
        let (save, transfer) = (f.save, f.transfer);
        let row = d.row.clone();
        // The form starts from the cloud's tags as they are now, when they could be read.
        let tags_now = d.live_tags.clone().unwrap_or_else(|| row.tags.clone());
        let tags_moved = d.live_tags.as_ref().is_some_and(|live| *live != row.tags);
        let tags_text =
            tags_now.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("\n");
        let lifecycle = row.lifecycle.clone();
        let environment = row.environment.clone();
        let team = row.team.clone().unwrap_or_default();
        let transfer_id = row.function_id.clone();
        let transfer_teams = d.teams.clone();
        view! {
        <section class="card" aria-labelledby="ownership">
            <h2 id="ownership">"Tags and ownership"</h2>
            {outcome(save.value(), |()| "Saved, in the catalog and in the cloud's tags".to_owned())}
            {if d.can_edit {
                view! {
                    <ActionForm action=save>
                        <input type="hidden" name="function_id" value=row.function_id.clone() />
                        <label for="meta-owner">"Owner (email)"</label>
                        <input id="meta-owner" name="owner" type="email" required
                            aria-describedby="meta-owner-error" aria-invalid=invalid(save.value(), "owner")
                            value=row.owner.clone().unwrap_or_default() />
                        {field_error(save.value(), "owner", "meta-owner-error")}
                        <label for="meta-team">"Team"</label>
                        <select id="meta-team" name="team">
                            <option value="" selected=team.is_empty()>"No team"</option>
                            {d.teams
                                .iter()
                                .map(|t| view! { <option value=t.clone() selected=*t == team>{t.clone()}</option> })
                                .collect_view()}
                        </select>
                        <label for="meta-lifecycle">"Lifecycle"</label>
                        <select id="meta-lifecycle" name="lifecycle">
                            {model::Lifecycle::names()
                                .into_iter()
                                .map(|l| view! { <option value=l selected=l == lifecycle>{l}</option> })
                                .collect_view()}
                        </select>
                        <label for="meta-environment">"Environment"</label>
                        <select id="meta-environment" name="environment">
                            {model::Stage::names()
                                .into_iter()
                                .map(|e| view! { <option value=e selected=e == environment>{e}</option> })
                                .collect_view()}
                        </select>
                        <label for="meta-tags">"Tags"</label>
                        <textarea id="meta-tags" name="tags" rows="4" aria-describedby="meta-tags-error meta-tags-hint"
                            aria-invalid=invalid(save.value(), "tags")>{tags_text.clone()}</textarea>
                        {field_error(save.value(), "tags", "meta-tags-error")}
                        <input type="hidden" name="tags_before" value=tags_text />
                        <p class="hint" id="meta-tags-hint">
                            "One key=value a line, as the cloud has them now. Only what you add, change or remove is written; the owner, team, lifecycle and environment also go to the function's lambdaport:* tags."
                            {tags_moved.then_some(" (The catalog's copy from the last sync differs; the cloud's is shown.)")}
                        </p>
                        <button type="submit" class="btn btn-primary" disabled=save.pending()>"Save"</button>
                    </ActionForm>
                    <h3>"Transfer ownership"</h3>
                    <p class="hint">"Hand the function to someone else. You keep access only through its team."</p>
                    {outcome(transfer.value(), |()| "Ownership transferred".to_owned())}
                    <ActionForm action=transfer>
                        <input type="hidden" name="function_id" value=transfer_id />
                        <label for="transfer-owner">"New owner (email)"</label>
                        <input id="transfer-owner" name="new_owner" type="email" required autocomplete="off" />
                        <label for="transfer-team">"Team"</label>
                        <select id="transfer-team" name="new_team">
                            <option value="keep" selected=true>"Keep the current team"</option>
                            <option value="">"No team"</option>
                            {transfer_teams
                                .into_iter()
                                .map(|t| {
                                    let label = t.clone();
                                    view! { <option value=t>{label}</option> }
                                })
                                .collect_view()}
                        </select>
                        <label class="check" for="transfer-confirm">
                            <input id="transfer-confirm" type="checkbox" name="confirm" value="yes" required />
                            " I want to hand this function over"
                        </label>
                        <button type="submit" class="btn" disabled=transfer.pending()>"Transfer"</button>
                    </ActionForm>
                }
                    .into_any()
            } else {
                view! {
                    <p class="muted">"Only the owner, their team and admins can change these."</p>
                    <p>{row.tags.iter().map(|(k, v)| view! { <span class="tag">{format!("{k}={v}")}</span> }).collect_view()}</p>
                }
                    .into_any()
            }}
        </section>
        }
    })
}
