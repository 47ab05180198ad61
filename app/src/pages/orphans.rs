//! Governance → Orphan log groups: `/aws/lambda/…` groups whose function is gone, found by asking
//! every connection's cloud when the page opens, each with a confirmed delete that checks the
//! function is still gone and that the cloud no longer lists the group.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::governance::{DeleteOrphanLogGroup, orphan_log_groups};
use crate::components::forms::{outcome, successes};
use crate::error::error_fallback;
use crate::types::{OrphanLogGroupView, OrphansView};

#[component]
pub fn OrphansPage() -> impl IntoView {
    let delete = ServerAction::<DeleteOrphanLogGroup>::new();
    let deleted = successes(delete.value());
    let data = Resource::new(move || deleted.get(), |_| orphan_log_groups());
    view! {
        <Title text="Orphan log groups" />
        <div class="page-head">
            <h1>"Orphan log groups"</h1>
            <a class="btn" href="/governance">"Rules"</a>
        </div>
        <p class="lead">
            "Lambda keeps a function's log group after the function is deleted, with everything it "
            "stored. These are the groups whose function is gone, in every connection and region."
        </p>
        {outcome(delete.value(), |name| format!("Deleted {name}; the cloud no longer lists it"))}
        <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Asking the cloud…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move { data.await.map(|o| view! { <Orphans o delete /> }) })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn Orphans(o: OrphansView, delete: ServerAction<DeleteOrphanLogGroup>) -> impl IntoView {
    let unreachable = (!o.unreachable.is_empty()).then(|| {
        view! {
            <div class="alert alert-warn" role="status">
                "Not every connection could be asked, so this list may be short: "
                <ul>{o.unreachable.into_iter().map(|u| view! { <li>{u}</li> }).collect_view()}</ul>
            </div>
        }
    });
    let list = if o.groups.is_empty() {
        view! { <p class="card empty-state" data-testid="no-orphans">"No log group outlived its function."</p> }.into_any()
    } else {
        view! {
            <div class="card table-wrap">
                <table data-testid="orphans">
                    <thead>
                        <tr>
                            <th scope="col">"Log group"</th><th scope="col">"Connection"</th>
                            <th scope="col">"Region"</th><th scope="col">"Stored"</th><th scope="col">"Clean up"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {o.groups.into_iter().map(|g| view! { <OrphanRow g delete /> }).collect_view()}
                    </tbody>
                </table>
            </div>
        }.into_any()
    };
    view! { {unreachable} {list} }
}

#[component]
fn OrphanRow(g: OrphanLogGroupView, delete: ServerAction<DeleteOrphanLogGroup>) -> impl IntoView {
    let confirm_id =
        format!("orphan-{}-{}-{}", g.connection_id, g.region, g.name.replace('/', "-"));
    let confirm_for = confirm_id.clone();
    let delete_label = format!("Delete {}", g.name);
    view! {
        <tr>
            <td>{g.name.clone()}</td>
            <td>{g.connection}</td>
            <td>{g.region.clone()}</td>
            <td>{crate::pages::function::logs::bytes(g.stored_bytes)}</td>
            <td>
                <ActionForm action=delete>
                    <input type="hidden" name="connection_id" value=g.connection_id />
                    <input type="hidden" name="region" value=g.region />
                    <input type="hidden" name="name" value=g.name />
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
