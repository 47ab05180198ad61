//! What every form shares: its outcome shown next to it, and emptying it after a success.

use leptos::html::Form;
use leptos::prelude::*;

use crate::error::{ApiError, ErrorAlert};

/// The outcome of the last submission of a form, shown next to it (with JavaScript).
pub fn outcome<T: Clone + Send + Sync + 'static>(
    value: impl Get<Value = Option<Result<T, ApiError>>> + Copy + Send + Sync + 'static,
    ok: impl Fn(T) -> String + Copy + Send + Sync + 'static,
) -> impl IntoView {
    move || {
        value.get().map(|result| match result {
            Ok(v) => view! { <div class="alert alert-ok" role="status">{ok(v)}</div> }.into_any(),
            Err(error) => view! { <ErrorAlert error /> }.into_any(),
        })
    }
}

/// A form reference whose form is emptied each time `value` turns into a success, ready for the next
/// entry (with JavaScript; without it, the page is loaded afresh anyway).
pub fn clear_on_success<T: Clone + Send + Sync + 'static>(
    value: impl Get<Value = Option<Result<T, ApiError>>> + Send + Sync + 'static,
) -> NodeRef<Form> {
    let form = NodeRef::<Form>::new();
    Effect::new(move |_| {
        if let (Some(Ok(_)), Some(form)) = (value.get(), form.get_untracked()) {
            form.reset();
        }
    });
    form
}
