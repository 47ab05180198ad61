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

/// The message of the last submission's validation error about `field`, for under that field
/// (with JavaScript), with the id the field names in `aria-describedby`.
pub fn field_error<T: Clone + Send + Sync + 'static>(
    value: impl Get<Value = Option<Result<T, ApiError>>> + Copy + Send + Sync + 'static,
    field: &'static str,
    id: &'static str,
) -> impl IntoView {
    move || match value.get() {
        Some(Err(ApiError::Validation { field: f, message })) if f == field => {
            Some(view! { <p class="field-error" id=id>{message}</p> })
        }
        _ => None,
    }
}

/// `"true"` while the last submission's validation error is about `field`, for `aria-invalid`.
pub fn invalid<T: Clone + Send + Sync + 'static>(
    value: impl Get<Value = Option<Result<T, ApiError>>> + Copy + Send + Sync + 'static,
    field: &'static str,
) -> impl Fn() -> Option<&'static str> + Copy + Send + Sync + 'static {
    move || {
        matches!(value.get(), Some(Err(ApiError::Validation { field: f, .. })) if f == field)
            .then_some("true")
    }
}

/// How many submissions succeeded: a page that reloads its data on this (rather than on every
/// submission) keeps what the user typed when a change is refused.
pub fn successes<T: Clone + Send + Sync + 'static>(
    value: impl Get<Value = Option<Result<T, ApiError>>> + Send + Sync + 'static,
) -> ReadSignal<usize> {
    let count = RwSignal::new(0usize);
    Effect::new(move |_| {
        if let Some(Ok(_)) = value.get() {
            count.update(|n| *n += 1);
        }
    });
    count.read_only()
}

/// Sends `action`'s last request again while the console answers that it is busy (503, every
/// connection taken) or the cloud throttled it (429): the page says so and retries after two
/// seconds, instead of leaving the person with an error to click through.
pub fn retry_when_busy<S>(action: ServerAction<S>)
where
    S: leptos::server_fn::ServerFn<Error = ApiError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    let last = StoredValue::new(None::<S>);
    Effect::new(move |_| {
        if let Some(input) = action.input().get() {
            last.set_value(Some(input));
        }
    });
    Effect::new(move |_| {
        if let Some(Err(ApiError::Busy | ApiError::Cloud { status: 429, .. })) =
            action.value().get()
            && let Some(input) = last.get_value()
        {
            set_timeout(
                move || {
                    action.dispatch(input);
                },
                std::time::Duration::from_secs(2),
            );
        }
    });
}
