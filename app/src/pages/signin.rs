//! Sign in, and sign up when the console runs a teaching lab (`--allow-signup`).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::auth::{SignIn as SignInFn, SignUp as SignUpFn, signup_allowed};
use crate::components::flash::FlashMessage;
use crate::error::{ApiError, ErrorAlert};

/// Where to go after signing in: the `next` query parameter if it is a path on this console.
fn next_path() -> String {
    let next = use_query_map().read_untracked().get("next").unwrap_or_default();
    if crate::url::is_local_path(&next) { next } else { "/".to_owned() }
}

/// Leaves for `next` once `value` holds a success (the session cookie is set by then).
fn go_on_success(
    value: impl Get<Value = Option<Result<(), ApiError>>> + Send + Sync + 'static,
    next: String,
) {
    Effect::new(move |_| {
        if let Some(Ok(())) = value.get() {
            let _ = window().location().set_href(&next);
        }
    });
}

#[component]
fn AuthCard(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <Title text=title />
        <main class="auth">
            <div class="auth-card">
                <p class="brand auth-brand">
                    <span class="brand-mark" aria-hidden="true">"λ"</span>
                    "Lambdaport"
                </p>
                <h1>{title}</h1>
                {children()}
            </div>
        </main>
    }
}

/// The sign-in page.
#[component]
pub fn SignIn() -> impl IntoView {
    let action = ServerAction::<SignInFn>::new();
    go_on_success(action.value(), next_path());
    let signup = Resource::new(|| (), |()| signup_allowed());
    let pending = action.pending();
    view! {
        <AuthCard title="Sign in">
            <FlashMessage />
            {move || action.value().get().and_then(Result::err).map(|error| view! { <ErrorAlert error /> })}
            <ActionForm action>
                <label for="email">"Email"</label>
                <input id="email" name="email" type="email" autocomplete="username" required autofocus />
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required />
                <button type="submit" class="btn btn-primary btn-block" disabled=pending>
                    {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
            <Suspense>
                {move || Suspend::new(async move {
                    matches!(signup.await, Ok(true))
                        .then(|| view! { <p class="muted">"New here? " <a href="/signup">"Create an account"</a></p> })
                })}
            </Suspense>
        </AuthCard>
    }
}

/// The sign-up page: a learner account for a teaching lab.
#[component]
pub fn SignUp() -> impl IntoView {
    let action = ServerAction::<SignUpFn>::new();
    go_on_success(action.value(), "/".to_owned());
    let allowed = Resource::new(|| (), |()| signup_allowed());
    let pending = action.pending();
    let error = move || action.value().get().and_then(Result::err);
    let field_error = move |field: &'static str| {
        move || {
            error()
                .filter(|e| e.field() == Some(field))
                .map(|e| view! { <p class="field-error">{e.to_string()}</p> })
        }
    };
    view! {
        <AuthCard title="Create an account">
            <FlashMessage />
            <Suspense>
                {move || Suspend::new(async move {
                    if matches!(allowed.await, Ok(true)) {
                        view! {
                            {move || error().filter(|e| e.field().is_none()).map(|error| view! { <ErrorAlert error /> })}
                            <ActionForm action>
                                <label for="email">"Email"</label>
                                <input id="email" name="email" type="email" autocomplete="username" required />
                                {field_error("email")}
                                <label for="password">"Password"</label>
                                <input id="password" name="password" type="password" autocomplete="new-password"
                                    minlength="10" required aria-describedby="password-hint" />
                                <p id="password-hint" class="hint">"At least 10 characters."</p>
                                {field_error("password")}
                                <button type="submit" class="btn btn-primary btn-block" disabled=pending>
                                    "Create account"
                                </button>
                            </ActionForm>
                            <p class="muted">"Have an account? " <a href="/signin">"Sign in"</a></p>
                        }
                            .into_any()
                    } else {
                        view! {
                            <p>"Accounts on this console are created by an admin. Ask yours for one."</p>
                            <p><a href="/signin">"Back to sign in"</a></p>
                        }
                            .into_any()
                    }
                })}
            </Suspense>
        </AuthCard>
    }
}
