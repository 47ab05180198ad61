//! The error every server function returns, and the one view that shows it.
//!
//! It crosses the network as JSON so the UI can match on it: a field's validation message goes
//! next to that field, an expired session offers the sign-in link, and internal failures say only
//! that something went wrong (the details are logged on the server, never sent).

use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// What a server function can fail with, as the UI sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ApiError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("you do not have permission to do that")]
    Forbidden,
    /// Not allowed, with what to do instead.
    #[error("{0}")]
    Refused(String),
    /// Not signed in, a session that ended, or wrong credentials; the message says which.
    #[error("{0}")]
    Unauthorized(String),
    #[error("{message}")]
    Validation { field: String, message: String },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    RateLimited(String),
    /// The console is saturated for the moment: the same request can be sent again shortly.
    #[error("the console is busy; retrying in a moment…")]
    Busy,
    /// A call to the cloud failed: `status` is 404 (not there), 429 (throttled), 409 (refused) or
    /// 502 (no answer, or the cloud's own failure); `message` quotes the cloud.
    #[error("{message}")]
    Cloud { status: u16, message: String },
    #[error("something went wrong on our side; try again, and tell an admin if it keeps happening")]
    Internal,
    /// The request never got an answer from the server (offline, server restarting).
    #[error("could not reach the console server ({0}); check your connection and try again")]
    Transport(String),
}

impl ApiError {
    /// The HTTP status this error is sent with.
    pub fn status(&self) -> u16 {
        match self {
            ApiError::NotFound(_) => 404,
            ApiError::Forbidden | ApiError::Refused(_) => 403,
            ApiError::Unauthorized(_) => 401,
            ApiError::Validation { .. } => 422,
            ApiError::Conflict(_) => 409,
            ApiError::RateLimited(_) => 429,
            ApiError::Busy => 503,
            ApiError::Cloud { status, .. } => *status,
            ApiError::Internal | ApiError::Transport(_) => 500,
        }
    }

    /// The field this error belongs to, if it is a validation error.
    pub fn field(&self) -> Option<&str> {
        match self {
            ApiError::Validation { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(message) | ServerFnErrorErr::Response(message) => {
                ApiError::Transport(message)
            }
            ServerFnErrorErr::Args(message)
            | ServerFnErrorErr::Deserialization(message)
            | ServerFnErrorErr::Serialization(message) => ApiError::Validation {
                field: String::new(),
                message: format!("the form could not be read: {message}"),
            },
            _ => ApiError::Internal,
        }
    }
}

/// An alert box for an error, with the next step where there is one.
#[component]
pub fn ErrorAlert(error: ApiError) -> impl IntoView {
    let signin = matches!(error, ApiError::Unauthorized(_));
    view! {
        <div class="alert alert-error" role="alert">
            <span>{error.to_string()}</span>
            // Back here after signing in (the wizard keeps what was typed meanwhile).
            {signin.then(|| view! { " " <a href="/signin" on:click=|ev| {
                ev.prevent_default();
                let location = window().location();
                let here = location.pathname().unwrap_or_default() + &location.search().unwrap_or_default();
                let _ = location.set_href(&format!("/signin?next={}", crate::url::encode(&here)));
            }>"Sign in again"</a> })}
        </div>
    }
}

/// The fallback of every `ErrorBoundary`: the first error, shown with [`ErrorAlert`].
pub fn error_fallback(errors: ArcRwSignal<Errors>) -> impl IntoView {
    move || {
        errors.read().iter().next().map(|(_, e)| {
            let error = e.downcast_ref::<ApiError>().cloned().unwrap_or(ApiError::Internal);
            view! { <ErrorAlert error /> }
        })
    }
}
