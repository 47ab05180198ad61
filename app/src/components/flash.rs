//! The one-time success message a form posted without JavaScript left for the page it returns
//! to. (Its errors come back in the redirect's URL, where the form's `ServerAction` shows them.)

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
                    .map(|f| view! { <div class="alert alert-ok" role="status">{f.message}</div> })
            })}
        </Suspense>
    }
}
