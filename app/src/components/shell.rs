//! The navigation shell around every signed-in page: header, navigation, user menu.

use leptos::prelude::*;
use leptos_router::components::{A, Outlet};

use crate::api::auth::{SignOut, current_user};
use crate::components::flash::FlashMessage;

/// The sections of the console, in the order the navigation lists them.
const SECTIONS: [(&str, &str); 6] = [
    ("/", "Dashboard"),
    ("/catalog", "Catalog"),
    ("/create", "Create"),
    ("/labs", "Labs"),
    ("/governance", "Governance"),
    ("/audit", "Audit"),
];

/// Header, navigation and the page below them.
#[component]
pub fn Shell() -> impl IntoView {
    let user = Resource::new(|| (), |()| current_user());
    let sign_out = ServerAction::<SignOut>::new();
    // With JavaScript, leave the page once the session is gone (without it, the form post does).
    Effect::new(move |_| {
        if let Some(Ok(())) = sign_out.value().get() {
            let _ = window().location().set_href("/signin");
        }
    });
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="topbar">
            <a class="brand" href="/">
                <span class="brand-mark" aria-hidden="true">"λ"</span>
                "Lambdaport"
            </a>
            <nav class="mainnav" aria-label="Main">
                {SECTIONS
                    .into_iter()
                    .map(|(href, label)| view! { <A href=href exact=true>{label}</A> })
                    .collect_view()}
                <Suspense>
                    {move || Suspend::new(async move {
                        let admin = matches!(user.await, Ok(Some(u)) if u.is_admin());
                        admin.then(|| view! { <A href="/admin">"Admin"</A> })
                    })}
                </Suspense>
            </nav>
            <Suspense>
                {move || Suspend::new(async move {
                    user.await
                        .ok()
                        .flatten()
                        .map(|u| {
                            view! {
                                <details class="usermenu">
                                    <summary aria-label="Account menu">
                                        <span class="avatar" aria-hidden="true">
                                            {u.email.chars().next().unwrap_or('?').to_ascii_uppercase()}
                                        </span>
                                        <span class="usermenu-email">{u.email.clone()}</span>
                                    </summary>
                                    <div class="usermenu-panel">
                                        <p class="muted">
                                            "Signed in as " <strong>{u.email}</strong> <br />
                                            "Role: " <span class="badge">{u.role}</span>
                                        </p>
                                        <p><a href="/profile">"Profile and API tokens"</a></p>
                                        <ActionForm action=sign_out>
                                            <button type="submit" class="btn">"Sign out"</button>
                                        </ActionForm>
                                    </div>
                                </details>
                            }
                        })
                })}
            </Suspense>
        </header>
        <main id="main" class="page">
            <FlashMessage />
            <Outlet />
        </main>
    }
}
