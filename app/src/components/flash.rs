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
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                flash
                    .await
                    .ok()
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
