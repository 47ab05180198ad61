//! The profile page: the signed-in person's password, and their personal access tokens for the
//! REST API — make one (its secret shown once), see when each was last used, revoke one (after
//! confirming).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::auth::ChangePassword;
use crate::api::tokens::{CreateToken, RevokeToken, created_message, list_tokens};
use crate::components::forms::{clear_on_success, outcome};
use crate::error::error_fallback;
use crate::types::TokenView;

#[component]
pub fn ProfilePage() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens =
        Resource::new(move || (create.version().get(), revoke.version().get()), |_| list_tokens());
    let form = clear_on_success(create.value());
    let change = ServerAction::<ChangePassword>::new();
    let password_form = clear_on_success(change.value());
    view! {
        <Title text="Profile" />
        <h1>"Profile"</h1>
        <section class="card" aria-labelledby="password-title">
            <h2 id="password-title">"Password"</h2>
            {outcome(change.value(), |()| "Password changed; your other sessions are signed out".to_owned())}
            <ActionForm action=change node_ref=password_form>
                <label for="current-password">"Current password"</label>
                <input id="current-password" name="current_password" type="password" required autocomplete="current-password" />
                <label for="new-password">"New password"</label>
                <input id="new-password" name="new_password" type="password" required minlength="10" maxlength="256" autocomplete="new-password" />
                <p class="hint">"At least 10 characters. Your other sessions are signed out."</p>
                <button type="submit" class="btn btn-primary" disabled=change.pending()>"Change password"</button>
            </ActionForm>
        </section>
        <section class="card" aria-labelledby="tokens-title">
            <h2 id="tokens-title">"Personal access tokens"</h2>
            <p class="muted">
                "A token lets a script use the REST API as you: "
                <code>"curl -H 'Authorization: Bearer TOKEN' /api/v1/functions"</code>
                ". It can do what you can do. The API is described at "
                <a href="/api/v1/openapi.json">"/api/v1/openapi.json"</a> "."
            </p>
            {outcome(create.value(), |token| created_message(&token))}
            {outcome(revoke.value(), |()| "Token revoked".to_owned())}
            <ActionForm action=create node_ref=form>
                <label for="token-name">"Name"</label>
                <input id="token-name" name="name" required maxlength="64" autocomplete="off"
                    placeholder="e.g. CI pipeline" />
                <button type="submit" class="btn btn-primary" disabled=create.pending()>"Create token"</button>
            </ActionForm>
            <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
                <ErrorBoundary fallback=error_fallback>
                    {move || Suspend::new(async move {
                        tokens.await.map(|list| view! { <TokenTable list revoke /> })
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

#[component]
fn TokenTable(list: Vec<TokenView>, revoke: ServerAction<RevokeToken>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="empty-state">"No tokens yet. Create one above to use the API."</p> }
            .into_any();
    }
    let rows = list
        .into_iter()
        .map(|t| {
            let confirm_id = format!("revoke-{}", t.token_id);
            let actions = (!t.revoked).then(|| {
                view! {
                    <ActionForm action=revoke>
                        <input type="hidden" name="token_id" value=t.token_id.clone() />
                        <label class="check" for=confirm_id.clone()>
                            <input id=confirm_id.clone() type="checkbox" name="confirm" value="yes" required />
                            " Scripts using it stop working"
                        </label>
                        <button type="submit" class="btn btn-small">"Revoke"</button>
                    </ActionForm>
                }
            });
            view! {
                <tr data-testid="token-row">
                    <td><strong>{t.name}</strong> <div class="muted"><code>{t.prefix} "…"</code></div></td>
                    <td><time datetime=t.created.clone()>{t.created.clone()}</time></td>
                    <td>{t.last_used.unwrap_or_else(|| "never".to_owned())}</td>
                    <td>
                        {if t.revoked {
                            view! { <span class="badge badge-danger">"revoked"</span> }.into_any()
                        } else {
                            view! { <span class="badge">"active"</span> }.into_any()
                        }}
                    </td>
                    <td>{actions}</td>
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
                        <th scope="col">"Created"</th>
                        <th scope="col">"Last used"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}
