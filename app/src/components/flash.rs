//! The one-time message a form posted without JavaScript left for the page it returns to.

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
                        let class = if f.ok { "alert alert-ok" } else { "alert alert-error" };
                        view! {
                            <div class=class role="status">
                                {f.message}
                            </div>
                        }
                    })
            })}
        </Suspense>
    }
}
