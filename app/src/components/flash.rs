//! The one-time message a form posted without JavaScript left for the page it returns to: a
//! success (a server function's errors come back in the redirect's URL, where the form's
//! `ServerAction` shows them), or the outcome of a file upload.

use leptos::prelude::*;

use crate::api::auth::take_flash;

/// Shows the flash message, if the last plain form post left one. With JavaScript, forms show
/// their outcome in place and leave none.
#[component]
pub fn FlashMessage() -> impl IntoView {
    let flash = Resource::new(|| (), |()| take_flash());
    // It belongs to the page the post returned to: gone once the person navigates elsewhere.
    let location = leptos_router::hooks::use_location();
    let landed = (location.pathname.get_untracked(), location.search.get_untracked());
    let still_there =
        Memo::new(move |_| (location.pathname.get(), location.search.get()) == landed);
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let here = still_there.get();
                let flash = flash.await;
                here.then_some(flash)
                    .and_then(Result::ok)
                    .flatten()
                    .map(|f| {
                        if f.error {
                            view! { <div class="alert alert-error" role="alert">{f.message}</div> }.into_any()
                        } else {
                            view! { <div class="alert alert-ok" role="status">{f.message}</div> }.into_any()
                        }
                    })
            })}
        </Suspense>
    }
}
