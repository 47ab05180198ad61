//! Connections on the admin page: where functions live. Add one (the engine, an AWS account by
//! the standard credential chain or a profile, or any Lambda-compatible endpoint with keys), test
//! it with STS, remove it (after confirming).

use leptos::prelude::*;

use crate::api::catalog::{AddConnection, RemoveConnection, TestConnection, list_connections};
use crate::error::error_fallback;
use crate::pages::admin::{clear_on_success, outcome};
use crate::types::ConnectionView;

#[component]
pub fn ConnectionsAdmin() -> impl IntoView {
    let add = ServerAction::<AddConnection>::new();
    let test = ServerAction::<TestConnection>::new();
    let remove = ServerAction::<RemoveConnection>::new();
    let connections = Resource::new(
        move || (add.version().get(), test.version().get(), remove.version().get()),
        |_| list_connections(),
    );
    let form = clear_on_success(add.value());
    view! {
        <section class="card" aria-labelledby="connections-title">
            <h2 id="connections-title">"Connections"</h2>
            <p class="muted">
                "Where functions live. The console reaches each one only through the AWS SDK; the embedded engine is the default, Local."
            </p>
            {outcome(add.value(), |()| "Connection added".to_owned())}
            {outcome(test.value(), |message| message)}
            {outcome(remove.value(), |()| "Connection removed".to_owned())}
            <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
                <ErrorBoundary fallback=error_fallback>
                    {move || Suspend::new(async move {
                        connections.await.map(|list| view! { <ConnectionTable list test remove /> })
                    })}
                </ErrorBoundary>
            </Transition>
            <h3>"Add a connection"</h3>
            <ActionForm action=add node_ref=form>
                <label for="conn-name">"Name"</label>
                <input id="conn-name" name="name" required maxlength="64" autocomplete="off" />
                <label for="conn-kind">"Kind"</label>
                <select id="conn-kind" name="kind">
                    <option value="endpoint">"Lambda-compatible endpoint (LocalStack, another engine)"</option>
                    <option value="aws">"AWS account (standard credential chain)"</option>
                    <option value="engine">"Lambdaport engine"</option>
                </select>
                <label for="conn-url">"Endpoint URL"</label>
                <input id="conn-url" name="endpoint_url" type="url" placeholder="http://127.0.0.1:4566" />
                <p class="hint">"Leave empty for an AWS account."</p>
                <label for="conn-profile">"AWS profile"</label>
                <input id="conn-profile" name="profile" placeholder="default" />
                <label for="conn-regions">"Regions"</label>
                <input id="conn-regions" name="regions" required value="us-east-1" />
                <p class="hint">"One or more, separated by commas."</p>
                <label for="conn-key">"Access key id"</label>
                <input id="conn-key" name="access_key_id" autocomplete="off" />
                <label for="conn-secret">"Secret access key"</label>
                <input id="conn-secret" name="secret_access_key" type="password" autocomplete="off" />
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
) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="empty-state">"No connections yet: add one below."</p> }
            .into_any();
    }
    let rows = list
        .into_iter()
        .map(|c| {
            let (test_id, remove_id) = (c.connection_id.clone(), c.connection_id.clone());
            let (label_for, input_id) =
                (format!("confirm-{remove_id}"), format!("confirm-{remove_id}"));
            view! {
                <tr data-testid="connection-row">
                    <td>
                        <strong>{c.name.clone()}</strong>
                        {c.is_default.then(|| view! { <span class="badge">"default"</span> })}
                    </td>
                    <td>{c.kind.clone()}</td>
                    <td>{c.endpoint.clone()} <div class="muted">{c.regions.clone()}</div></td>
                    <td>{c.cloud_account_id.unwrap_or_else(|| "not tested".to_owned())}</td>
                    <td>
                        <ActionForm action=test>
                            <input type="hidden" name="connection_id" value=test_id />
                            <button type="submit" class="btn btn-small">"Test"</button>
                        </ActionForm>
                        <ActionForm action=remove>
                            <input type="hidden" name="connection_id" value=remove_id />
                            <label class="check" for=label_for>
                                <input id=input_id type="checkbox" name="confirm" value="yes" required />
                                " Remove it and its catalog entries"
                            </label>
                            <button type="submit" class="btn btn-small">"Remove"</button>
                        </ActionForm>
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
