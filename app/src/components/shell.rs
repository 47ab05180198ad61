//! The navigation shell around every signed-in page: header, navigation, user menu.

use leptos::prelude::*;
use leptos_router::components::{A, Outlet};

use crate::api::auth::{SignOut, current_user};
use crate::components::flash::FlashMessage;
use crate::error::ApiError;
use crate::types::SessionUser;

/// The sections of the console, in the order the navigation lists them, and whether only admins
/// may use them (the others see no link to them).
const SECTIONS: [(&str, &str, bool); 7] = [
    ("/", "Dashboard", false),
    ("/catalog", "Catalog", false),
    ("/create", "Create", false),
    ("/labs", "Labs", false),
    ("/governance", "Governance", true),
    ("/audit", "Audit", true),
    ("/admin", "Admin", true),
];

/// The signed-in person as the shell read them, for the pages inside it.
#[derive(Clone, Copy)]
pub(crate) struct CurrentUser(pub(crate) Resource<Result<Option<SessionUser>, ApiError>>);

/// A page only admins may use: for anyone else, a sentence that says so and why, instead of a
/// page whose every form would answer "you do not have permission". (The server checks each
/// action whatever the page shows.)
#[component]
pub fn AdminOnly(what: &'static str, children: ChildrenFn) -> impl IntoView {
    let CurrentUser(user) = expect_context::<CurrentUser>();
    view! {
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    match user.await {
                        Ok(Some(u)) if !u.is_admin() => view! {
                            <div class="card empty-state" data-testid="admins-only">
                                <h1>{what}</h1>
                                <p>
                                    {format!("{what} is for admins; you are signed in as a {}. ", u.role)}
                                    "Ask an admin of this console if you need something from it."
                                </p>
                                <a class="btn" href="/">"Back to the dashboard"</a>
                            </div>
                        }
                        .into_any(),
                        // Admins, and anyone not signed in (whose page sends them to sign in).
                        _ => children().into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// Header, navigation and the page below them.
#[component]
pub fn Shell() -> impl IntoView {
    let user = Resource::new(|| (), |()| current_user());
    provide_context(CurrentUser(user));
    let sign_out = ServerAction::<SignOut>::new();
    // With JavaScript, leave the page once the session is gone (without it, the form post does).
    Effect::new(move |_| {
        if let Some(Ok(())) = sign_out.value().get() {
            let _ = window().location().set_href("/signin");
        }
    });
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let menu_open = RwSignal::new(false);
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="topbar">
            <a class="brand" href="/">
                <span class="brand-mark" aria-hidden="true">"λ"</span>
                "Lambdaport"
            </a>
            // On a phone the navigation folds behind a Menu button once the page is hydrated;
            // without JavaScript it wraps under the brand instead, every link in sight.
            <button type="button" class="btn btn-small nav-toggle" aria-controls="mainnav"
                aria-expanded=move || menu_open.get().to_string()
                hidden=move || !hydrated.get()
                on:click=move |_| menu_open.update(|open| *open = !*open)>
                "Menu"
            </button>
            <nav id="mainnav" class="mainnav" aria-label="Main"
                class:collapsible=move || hydrated.get() class:open=move || menu_open.get()
                on:click=move |_| menu_open.set(false)>
                <Suspense>
                    {move || Suspend::new(async move {
                        let admin = matches!(user.await, Ok(Some(u)) if u.is_admin());
                        SECTIONS
                            .into_iter()
                            .filter(|(_, _, admins)| admin || !admins)
                            .map(|(href, label, _)| view! { <A href=href exact=true>{label}</A> })
                            .collect_view()
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
