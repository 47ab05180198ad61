//! Step 9, and the Cleanup section of every function page: the ledger and its deletion.

use leptos::prelude::*;

use crate::api::labs::{
    CleanupFunction, LabCleanup, cleanup_summary, function_deleted, function_ledger,
};
use crate::components::forms::outcome;
use crate::error::error_fallback;
use crate::types::{LabView, LedgerView};

/// The ledger as a table; after a cleanup, what happened to each resource.
#[component]
pub fn LedgerTable(entries: Vec<LedgerView>) -> impl IntoView {
    if entries.is_empty() {
        return view! { <p class="empty-state">"The console created nothing here; it deletes only what it created."</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="table" data-testid="ledger">
                <thead><tr>
                    <th scope="col">"Resource"</th><th scope="col">"Name"</th><th scope="col">"State"</th>
                    <th scope="col">"Created"</th><th scope="col">"Note"</th>
                </tr></thead>
                <tbody>
                    {entries.into_iter().map(|e| {
                        let badge = match e.state.as_str() {
                            "deleted" => "badge",
                            "failed" => "badge badge-danger",
                            "kept" | "creating" => "badge badge-warn",
                            _ => "badge badge-ok",
                        };
                        view! {
                            <tr data-testid="ledger-row">
                                <td>{e.kind}</td>
                                <td><code>{e.name}</code>{e.parent.map(|p| view! { <div class="muted">"of " {p}</div> })}</td>
                                <td><span class=badge>{e.state}</span></td>
                                <td><time datetime=e.created.clone()>{e.created.clone()}</time>{e.owner.map(|o| view! { <div class="muted">{o}</div> })}</td>
                                <td>{e.note.unwrap_or_default()}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
pub(super) fn CleanupStep(lab: LabView, action: ServerAction<LabCleanup>) -> impl IntoView {
    let run_id = lab.run.lab_run_id.clone();
    let ledger = lab.ledger.clone();
    let live = ledger.iter().any(|e| e.state != "deleted");
    // A run that made nothing yet can still be discarded (it is then cleaned up, read-only).
    let discard = !live && lab.run.status == model::RunStatus::InProgress;
    view! {
        {outcome(action.value(), |list: Vec<LedgerView>| cleanup_summary(&list))}
        {move || match action.value().get() {
            Some(Ok(list)) => view! { <h3>"What happened"</h3> <LedgerTable entries=list /> }.into_any(),
            _ => view! {
                <h3>{if live { "What will be deleted" } else { "Everything this run created" }}</h3>
                <LedgerTable entries=ledger.clone() />
            }.into_any(),
        }}
        {(lab.run.status == model::RunStatus::CleanedUp).then(|| view! {
            <p><a class="btn btn-primary" href="/create" data-testid="start-new">"Start a new run"</a></p>
        })}
        {(live || discard).then(|| {
            let (confirm_id, button) =
                if live { ("cleanup-confirm", "Delete and verify") } else { ("discard-confirm", "Discard the run") };
            let what = if live {
                format!(" Delete these resources from {} ({})", lab.run.connection, lab.run.region)
            } else {
                " Discard this run (it created nothing to delete)".to_owned()
            };
            view! {
                <ActionForm action>
                    <input type="hidden" name="lab_run_id" value=run_id.clone() />
                    <label class="check" for=confirm_id>
                        <input id=confirm_id type="checkbox" name="confirm" value="yes" required />
                        {what}
                    </label>
                    <button type="submit" class="btn btn-danger" disabled=action.pending()>
                        {move || if live && action.pending().get() { "Deleting and verifying…" } else { button }}
                    </button>
                </ActionForm>
            }
        })}
    }
}

/// The function page's Cleanup section: its ledger, and delete-and-verify. A cleanup that deleted
/// the function ends on the catalog, which says it is gone (the function page has nothing left
/// to show).
#[component]
pub fn FunctionCleanup(function_id: String, name: String, can_edit: bool) -> impl IntoView {
    let action = ServerAction::<CleanupFunction>::new();
    Effect::new(move |_| {
        if let Some(Ok(list)) = action.value().get()
            && function_deleted(&list)
        {
            // A fresh page load: the catalog, which says the function is gone, with the
            // cleanup's report (left for it by the server).
            let _ = window().location().set_href(&format!("/catalog?cleaned={name}"));
        }
    });
    let id = function_id.clone();
    let ledger =
        Resource::new(move || (id.clone(), action.version().get()), |(id, _)| function_ledger(id));
    view! {
        <section class="card" aria-labelledby="cleanup-title" id="cleanup">
            <h2 id="cleanup-title">"Cleanup"</h2>
            <p class="muted">"What the console created for this function. Cleanup deletes it in order (URL, statements, function, log group, then the role if nothing else uses it) and checks with the cloud that each is gone. It never deletes what the console did not create."</p>
            {outcome(action.value(), |list: Vec<LedgerView>| cleanup_summary(&list))}
            <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading the ledger…"</p> }>
                <ErrorBoundary fallback=error_fallback>
                    {move || {
                        let function_id = function_id.clone();
                        Suspend::new(async move {
                            ledger.await.map(|entries| {
                                let live = entries.iter().any(|e| e.state != "deleted");
                                view! {
                                    {move || action.value().get().and_then(Result::ok).map(|list| view! { <h3>"What happened"</h3> <LedgerTable entries=list /> })}
                                    <LedgerTable entries />
                                    {(live && can_edit).then(|| view! {
                                        <ActionForm action>
                                            <input type="hidden" name="function_id" value=function_id.clone() />
                                            <label class="check" for="fn-cleanup-confirm">
                                                <input id="fn-cleanup-confirm" type="checkbox" name="confirm" value="yes" required />
                                                " Delete what the console created for this function"
                                            </label>
                                            <button type="submit" class="btn btn-danger" disabled=action.pending()>"Delete and verify"</button>
                                        </ActionForm>
                                    })}
                                }
                            })
                        })
                    }}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}
