//! Connections on the admin page: where functions live. Add one (the engine, an AWS account by
//! the standard credential chain or a profile, or any Lambda-compatible endpoint with keys), test
//! it with STS, edit it (rotate keys, let learners in, allow roles), archive it, remove it (after
//! confirming).

use leptos::prelude::*;

use crate::api::connections::{
    AddConnection, ArchiveConnection, EditConnection, RemoveConnection, TestConnection,
    list_connections,
};
use crate::components::forms::{clear_on_success, field_error, invalid, outcome};
use crate::error::error_fallback;
use crate::types::ConnectionView;

#[component]
pub fn ConnectionsAdmin() -> impl IntoView {
    let add = ServerAction::<AddConnection>::new();
    let test = ServerAction::<TestConnection>::new();
    let remove = ServerAction::<RemoveConnection>::new();
    let edit = ServerAction::<EditConnection>::new();
    let archive = ServerAction::<ArchiveConnection>::new();
    let connections = Resource::new(
        move || {
            (
                add.version().get(),
                test.version().get(),
                remove.version().get(),
                edit.version().get(),
                archive.version().get(),
            )
        },
        |_| list_connections(),
    );
    let form = clear_on_success(add.value());
    let kind = RwSignal::new("endpoint".to_owned());
    view! {
        <section class="card" aria-labelledby="connections-title">
            <h2 id="connections-title">"Connections"</h2>
            <p class="muted">
                "Where functions live. The console reaches each one only through the AWS SDK; the embedded engine is the default, Local."
            </p>
            {outcome(test.value(), |message| message)}
            {outcome(remove.value(), |message| message)}
            {outcome(edit.value(), |()| "Connection saved".to_owned())}
            {outcome(archive.value(), |()| "Saved".to_owned())}
            <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
                <ErrorBoundary fallback=error_fallback>
                    {move || Suspend::new(async move {
                        connections.await.map(|list| view! { <ConnectionTable list test remove edit archive /> })
                    })}
                </ErrorBoundary>
            </Transition>
            <h3>"Add a connection"</h3>
            {outcome(add.value(), |()| "Connection added".to_owned())}
            <ActionForm action=add node_ref=form>
                <label for="conn-name">"Name"</label>
                <input id="conn-name" name="name" required maxlength="64" autocomplete="off"
                    aria-describedby="conn-name-error" aria-invalid=invalid(add.value(), "name") />
                {field_error(add.value(), "name", "conn-name-error")}
                <label for="conn-kind">"Kind"</label>
                <select id="conn-kind" name="kind" on:change=move |e| kind.set(event_target_value(&e))>
                    <option value="endpoint">"Lambda-compatible endpoint (LocalStack, another engine)"</option>
                    <option value="aws">"AWS account (standard credential chain or a profile)"</option>
                    <option value="engine">"Another Lambdaport engine"</option>
                </select>
                // Without JavaScript every field shows, each hint saying which kind it is for;
                // with it, only the chosen kind's fields.
                <div hidden=move || kind.get() == "aws">
                    <label for="conn-url">"Endpoint URL"</label>
                    <input id="conn-url" name="endpoint_url" type="url" placeholder="http://127.0.0.1:4566"
                        aria-describedby="conn-url-error" aria-invalid=invalid(add.value(), "endpoint_url") />
                    {field_error(add.value(), "endpoint_url", "conn-url-error")}
                    <p class="hint">"For an endpoint or an engine: where it answers the Lambda API."</p>
                </div>
                <div hidden=move || kind.get() != "aws">
                    <label for="conn-profile">"AWS profile"</label>
                    <input id="conn-profile" name="profile" placeholder="default"
                        aria-describedby="conn-profile-error" aria-invalid=invalid(add.value(), "profile") />
                    {field_error(add.value(), "profile", "conn-profile-error")}
                    <p class="hint">"For an AWS account: a profile of ~/.aws/config on the console's host, or empty for the standard credential chain."</p>
                </div>
                <label for="conn-regions">"Regions"</label>
                <input id="conn-regions" name="regions" required value="us-east-1"
                    pattern="[a-z]{2}(-[a-z]+)+-[0-9]{1,2}([ ,]+[a-z]{2}(-[a-z]+)+-[0-9]{1,2})*"
                    title="region names as AWS writes them, e.g. us-east-1, eu-west-2"
                    aria-describedby="conn-regions-error" aria-invalid=invalid(add.value(), "regions") />
                {field_error(add.value(), "regions", "conn-regions-error")}
                <p class="hint">"One or more, separated by commas, as AWS writes them: us-east-1, eu-west-2."</p>
                <label for="conn-key">
                    {move || if kind.get() == "aws" { "Access key id (optional)" } else { "Access key id" }}
                </label>
                <input id="conn-key" name="access_key_id" autocomplete="off"
                    required=move || kind.get() != "aws"
                    aria-describedby="conn-key-error" aria-invalid=invalid(add.value(), "access_key_id") />
                {field_error(add.value(), "access_key_id", "conn-key-error")}
                <label for="conn-secret">"Secret access key"</label>
                <input id="conn-secret" name="secret_access_key" type="password" autocomplete="off"
                    required=move || kind.get() != "aws"
                    aria-describedby="conn-secret-error" aria-invalid=invalid(add.value(), "secret_access_key") />
                {field_error(add.value(), "secret_access_key", "conn-secret-error")}
                <p class="hint">
                    {move || if kind.get() == "aws" {
                        "Leave both empty to use the profile or the standard credential chain."
                    } else {
                        "An endpoint needs keys it accepts (LocalStack takes test / test)."
                    }}
                </p>
                <button type="submit" class="btn btn-primary" disabled=add.pending()>"Add connection"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn ConnectionTable(
    list: Vec<ConnectionView>,
    test: ServerAction<TestConnection>,
    remove: ServerAction<RemoveConnection>,
    edit: ServerAction<EditConnection>,
    archive: ServerAction<ArchiveConnection>,
) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="empty-state">"No connections yet: add one below."</p> }
            .into_any();
    }
    let rows = list
        .into_iter()
        .map(|c| {
            let (test_id, remove_id) = (c.connection_id.clone(), c.connection_id.clone());
            let archive_id = c.connection_id.clone();
            let (label_for, input_id) =
                (format!("confirm-{remove_id}"), format!("confirm-{remove_id}"));
            let takes = format!(
                "Type {} to remove it: its {} catalog function(s), {} with owners, are archived",
                c.name, c.functions, c.owned_functions
            );
            let archived = c.archived;
            let learners = c.learners;
            view! {
                <tr data-testid="connection-row" class:muted=archived>
                    <td>
                        <strong>{c.name.clone()}</strong>
                        {c.is_default.then(|| view! { <span class="badge">"default"</span> })}
                        {archived.then(|| view! { <span class="badge badge-warn">"archived"</span> })}
                        {learners.then(|| view! { <span class="badge" title="learners may run labs here">"learners"</span> })}
                    </td>
                    <td>{c.kind.clone()}</td>
                    <td>{c.endpoint.clone()} <div class="muted">{c.regions.clone()}</div></td>
                    <td>
                        {match (&c.test_error, &c.cloud_account_id) {
                            (Some(error), _) => view! { <span class="badge badge-danger">"test failed"</span> <div class="muted">{error.clone()}</div> }.into_any(),
                            (None, Some(account)) => view! { <span>{account.clone()}</span> }.into_any(),
                            (None, None) => view! { <span class="muted">"not tested"</span> }.into_any(),
                        }}
                    </td>
                    <td>
                        <ActionForm action=test>
                            <input type="hidden" name="connection_id" value=test_id />
                            <button type="submit" class="btn btn-small">"Test"</button>
                        </ActionForm>
                        <EditForm c=c.clone() edit />
                        {(!c.is_default).then(|| view! {
                            <ActionForm action=archive>
                                <input type="hidden" name="connection_id" value=archive_id />
                                <input type="hidden" name="archived" value=if archived { "no" } else { "yes" } />
                                <button type="submit" class="btn btn-small">{if archived { "Restore" } else { "Archive" }}</button>
                            </ActionForm>
                        })}
                        {(!c.is_default).then(|| view! {
                            <ActionForm action=remove>
                                <input type="hidden" name="connection_id" value=remove_id />
                                <label for=label_for>{takes}</label>
                                <input id=input_id name="confirm_name" type="text" required autocomplete="off" />
                                <button type="submit" class="btn btn-small">"Remove"</button>
                            </ActionForm>
                        })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Kind"</th>
                        <th scope="col">"Endpoint"</th>
                        <th scope="col">"Account"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// A connection's edit form, folded until opened. The secret is never sent to the page: leave it
/// empty to keep the current one, or enter a new key id with its secret to rotate.
#[component]
fn EditForm(c: ConnectionView, edit: ServerAction<EditConnection>) -> impl IntoView {
    let id = c.connection_id.clone();
    let field = move |name: &str| format!("edit-{name}-{id}");
    let local = c.kind == "engine" && c.name == "Local";
    let aws = c.kind == "aws";
    view! {
        <details class="edit-connection">
            <summary class="btn btn-small">"Edit"</summary>
            <ActionForm action=edit>
                <input type="hidden" name="connection_id" value=c.connection_id.clone() />
                <label for=field("name")>"Name"</label>
                <input id=field("name") name="name" required maxlength="64" value=c.name.clone() readonly=local />
                {(!local && !aws).then(|| view! {
                    <label for=field("url")>"Endpoint URL"</label>
                    <input id=field("url") name="endpoint_url" type="url" required value=c.endpoint_url.clone() />
                })}
                {(!local && aws).then(|| view! {
                    <label for=field("profile")>"AWS profile"</label>
                    <input id=field("profile") name="profile" value=c.profile.clone() />
                })}
                {(!local).then(|| view! {
                    <label for=field("key")>"Access key id"</label>
                    <input id=field("key") name="access_key_id" autocomplete="off" value=c.access_key_id.clone() />
                    <label for=field("secret")>"Secret access key"</label>
                    <input id=field("secret") name="secret_access_key" type="password" autocomplete="new-password" />
                    <p class="hint">"Leave empty to keep the current secret; to rotate keys, enter the new key id and its secret."</p>
                })}
                <label for=field("regions")>"Regions"</label>
                <input id=field("regions") name="regions" required value=c.regions.clone() readonly=local />
                <label class="check" for=field("learners")>
                    <input id=field("learners") type="checkbox" name="learners" value="yes" checked=c.learners />
                    " Learners may run labs here"
                </label>
                <p class="hint">"Their code runs with the role their lab creates, in this connection's account. The embedded engine takes learners only while it sandboxes code."</p>
                <label for=field("roles")>"Existing roles labs may use"</label>
                <textarea id=field("roles") name="allowed_roles" rows="2" placeholder="role names or ARNs">{c.allowed_roles.clone()}</textarea>
                <p class="hint">"Empty: any role in the account that trusts Lambda. Learners always create a new role."</p>
                <button type="submit" class="btn btn-primary" disabled=edit.pending()>"Save connection"</button>
            </ActionForm>
        </details>
    }
}
