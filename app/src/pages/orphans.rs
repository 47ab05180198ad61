//! Governance → Orphan log groups: `/aws/lambda/…` groups whose function is gone, found by asking
//! every connection's cloud when the page opens, each with a confirmed delete that checks the
//! function is still gone and that the cloud no longer lists the group.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::governance::{DeleteOrphanLogGroup, DeleteOrphanRole, orphans};
use crate::components::forms::{outcome, successes};
use crate::error::error_fallback;
use crate::types::{OrphanLogGroupView, OrphanRoleView, OrphansView};

#[component]
pub fn OrphansPage() -> impl IntoView {
    let delete = ServerAction::<DeleteOrphanLogGroup>::new();
    let delete_role = ServerAction::<DeleteOrphanRole>::new();
    let (deleted, roles_deleted) = (successes(delete.value()), successes(delete_role.value()));
    let data = Resource::new(move || (deleted.get(), roles_deleted.get()), |_| orphans());
    view! {
        <Title text="Orphans" />
        <div class="page-head">
            <h1>"Orphan log groups and roles"</h1>
            <a class="btn" href="/governance">"Rules"</a>
        </div>
        <p class="lead">
            "Lambda keeps a function's log group after the function is deleted, with everything it "
            "stored; a role the console made for a lab is kept at cleanup while another function "
            "uses it. These are the groups whose function is gone, in every connection and region, "
            "and the console's roles that no function uses any more."
        </p>
        {outcome(delete.value(), |name| format!("Deleted {name}; the cloud no longer lists it"))}
        {outcome(delete_role.value(), |message| message)}
        <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Asking the cloud…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move { data.await.map(|o| view! { <Orphans o delete delete_role /> }) })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn Orphans(
    o: OrphansView,
    delete: ServerAction<DeleteOrphanLogGroup>,
    delete_role: ServerAction<DeleteOrphanRole>,
) -> impl IntoView {
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
    let roles = if o.roles.is_empty() {
        view! { <p class="card empty-state" data-testid="no-orphan-roles">"Every role the console made is in use or gone."</p> }.into_any()
    } else {
        view! {
            <div class="card table-wrap">
                <table data-testid="orphan-roles">
                    <thead>
                        <tr>
                            <th scope="col">"Role"</th><th scope="col">"Connection"</th>
                            <th scope="col">"Made for"</th><th scope="col">"Made"</th><th scope="col">"Clean up"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {o.roles.into_iter().map(|r| view! { <OrphanRoleRow r delete_role /> }).collect_view()}
                    </tbody>
                </table>
            </div>
        }.into_any()
    };
    view! {
        {unreachable}
        <h2>"Log groups whose function is gone"</h2>
        {list}
        <h2>"Roles the console made that no function uses"</h2>
        {roles}
    }
}

#[component]
fn OrphanRoleRow(r: OrphanRoleView, delete_role: ServerAction<DeleteOrphanRole>) -> impl IntoView {
    let confirm_id = format!("orphan-role-{}", r.ledger_entry_id);
    let confirm_for = confirm_id.clone();
    let delete_label = format!("Delete the role {}", r.name);
    view! {
        <tr>
            <td>{r.name}</td>
            <td>{r.connection}</td>
            <td>{r.owner.unwrap_or_else(|| "—".to_owned())}</td>
            <td>{r.created}</td>
            <td>
                <ActionForm action=delete_role>
                    <input type="hidden" name="ledger_entry_id" value=r.ledger_entry_id />
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
