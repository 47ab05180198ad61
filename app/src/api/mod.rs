//! Server functions, one module per resource. Each body is short: find the caller, check the role,
//! call `backend`, and hand the outcome to [`ssr::settle`].

pub mod admin;
pub mod auth;
pub mod catalog;
pub mod connections;
pub mod create;
pub mod dashboard;
pub mod governance;
pub mod labs;
pub mod logs;
pub mod monitor;
pub mod permissions;
pub mod testing;
pub mod tokens;
pub mod url;
pub mod versions;

#[cfg(feature = "ssr")]
pub mod ssr {
    //! What server functions share on the server: the console's context, the caller, and turning
    //! outcomes into statuses and (for forms posted without JavaScript) one-time flash messages.

    use std::net::IpAddr;
    use std::sync::Arc;

    use axum::http::{HeaderValue, StatusCode, header, request::Parts};
    use backend::accounts::{Account, Role};
    use backend::audit::Actor;
    use backend::throttle::SignInThrottle;
    use leptos::prelude::*;
    use leptos_axum::ResponseOptions;
    use tower_sessions::Session;

    use crate::error::ApiError;
    use crate::types::Flash;

    /// The session key holding the signed-in account's id.
    pub const ACCOUNT_KEY: &str = "console.account_id";
    /// The session key holding when it was signed in (unix nanoseconds): a password reset or
    /// change after that ends the session.
    pub const SIGNED_IN_KEY: &str = "console.signed_in_at";
    const FLASH_KEY: &str = "console.flash";

    /// What the server gives every page render and server function, as Leptos context.
    #[derive(Clone, Debug)]
    pub struct ConsoleContext {
        pub pool: backend::PgPool,
        pub throttle: Arc<SignInThrottle>,
        /// Whether anyone may create a (learner) account from the sign-up page.
        pub allow_signup: bool,
        /// The embedded engine's containment of function code (`None`: no embedded engine).
        pub engine: Option<crate::types::EngineContainment>,
        /// URL testers' pages listening for their answers as they arrive.
        pub url_watches: Arc<backend::urls::live::Watches>,
    }

    /// The client's address, put in the request's extensions by the server.
    #[derive(Clone, Copy, Debug)]
    pub struct ClientAddr(pub Option<IpAddr>);

    pub fn context() -> Result<ConsoleContext, ApiError> {
        use_context::<ConsoleContext>().ok_or_else(|| {
            tracing::error!("ConsoleContext missing from the Leptos context");
            ApiError::Internal
        })
    }

    fn parts() -> Option<Parts> {
        use_context::<Parts>()
    }

    /// The id the web layer gave the request being served (the `x-request-id` header; in a REST
    /// handler, the task's), to name in a message and find in the log.
    pub fn request_id() -> Option<String> {
        parts()
            .and_then(|p| p.headers.get("x-request-id")?.to_str().ok().map(str::to_owned))
            .or_else(backend::request::id)
    }

    pub fn client_addr() -> Option<IpAddr> {
        parts().and_then(|p| p.extensions.get::<ClientAddr>().and_then(|a| a.0))
    }

    /// The signed-in account, as loaded by the server's session middleware for this request.
    pub fn caller() -> Option<Account> {
        parts().and_then(|p| p.extensions.get::<Account>().cloned())
    }

    /// The caller, if their role is one of `roles`.
    pub fn require(roles: &[Role]) -> Result<Account, ApiError> {
        let account = caller().ok_or_else(|| {
            ApiError::Unauthorized("your session has ended; sign in again".to_owned())
        })?;
        if roles.contains(&account.role) { Ok(account) } else { Err(ApiError::Forbidden) }
    }

    /// Checks the confirmation checkbox (`confirm=yes`) of a destructive form; `what` ends
    /// "tick the box to confirm …".
    pub fn confirmed(confirm: Option<&str>, what: &str) -> Result<(), ApiError> {
        if confirm == Some("yes") {
            return Ok(());
        }
        Err(ApiError::Validation {
            field: "confirm".into(),
            message: format!("tick the box to confirm {what}"),
        })
    }

    /// Who to record in the audit trail for an action by `account`.
    pub fn actor(account: &Account) -> Actor {
        Actor::account(account.account_id, client_addr())
    }

    pub async fn session() -> Result<Session, ApiError> {
        leptos_axum::extract::<Session>().await.map_err(|e| {
            tracing::error!(error = %e, "no session on a server function request");
            ApiError::Internal
        })
    }

    /// Maps a domain error to what the client may see; internal errors are logged here, once.
    /// Seconds a busy console asks to wait before the same request again.
    pub const BUSY_RETRY_SECS: u64 = 2;

    pub fn fail(error: backend::Error) -> ApiError {
        use backend::Error as E;
        if error.is_busy() {
            // Every connection stayed busy for the whole wait: not a fault, a queue. The page
            // (and any client honouring Retry-After) sends the same request again.
            tracing::warn!("a server function waited too long for a database connection");
            if let Some(options) = use_context::<ResponseOptions>() {
                options.insert_header(header::RETRY_AFTER, HeaderValue::from(BUSY_RETRY_SECS));
            }
            return ApiError::Busy;
        }
        match error {
            E::NotFound(what) => ApiError::NotFound(what.to_owned()),
            E::Forbidden => ApiError::Forbidden,
            E::Refused(message) => ApiError::Refused(message),
            E::Unauthorized(message) => ApiError::Unauthorized(message.to_owned()),
            E::Validation { field, message } => {
                ApiError::Validation { field: field.to_owned(), message }
            }
            E::Conflict(message) => ApiError::Conflict(message),
            ref limited @ E::RateLimited { retry_after_secs } => {
                if let Some(options) = use_context::<ResponseOptions>() {
                    options.insert_header(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                }
                ApiError::RateLimited(limited.to_string())
            }
            E::Cloud { failure, message, detail } => {
                // The person reads one sentence; the log keeps the whole story under the
                // request's id, which the sentence names.
                let request = request_id();
                tracing::warn!(
                    request_id = request.as_deref().unwrap_or("-"),
                    error = %message,
                    %detail,
                    "a call to the cloud failed"
                );
                let message = match request {
                    Some(id) => format!("{message} (request {id})"),
                    None => message,
                };
                ApiError::Cloud { status: failure.status(), message }
            }
            E::Database(_) | E::Internal(_) => {
                tracing::error!(error = %error, "server function failed");
                ApiError::Internal
            }
        }
    }

    /// Maps an error of the session store; these are always internal.
    pub fn session_failed(error: tower_sessions::session::Error) -> ApiError {
        tracing::error!(error = %error, "session store failed");
        ApiError::Internal
    }

    /// True when the request is a plain HTML form post (no JavaScript): the browser will follow the
    /// redirect back to the form's page, so the outcome must travel in the session.
    pub fn is_plain_form_post() -> bool {
        parts().is_some_and(|p| {
            p.headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/html"))
        })
    }

    /// Finishes every server function: sets the HTTP status of an error or, for plain form posts,
    /// leaves a success message as a flash for the page the browser is sent back to.
    pub async fn settle<T>(
        result: Result<T, ApiError>,
        ok_message: impl FnOnce(&T) -> Option<String>,
    ) -> Result<T, ApiError> {
        if !is_plain_form_post() {
            // The status is for scripts; a plain form post is redirected back to its page instead.
            if let Err(error) = &result
                && let Some(options) = use_context::<ResponseOptions>()
            {
                options.set_status(
                    StatusCode::from_u16(error.status())
                        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                );
            }
        } else if let Ok(value) = &result
            && let Some(message) = ok_message(value)
        {
            // Errors need no help: server_fn puts them in the redirect's URL, where the page's
            // `ServerAction` finds them. Successes leave no trace there, so they go in the session.
            leave_flash(&session().await?, message, false).await?;
        }
        result
    }

    /// Sends a plain form post (no JavaScript) on to `path` once it succeeded; with JavaScript the
    /// page navigates itself.
    pub fn redirect_plain_form(path: &str) {
        if is_plain_form_post() {
            leptos_axum::redirect(path);
        }
    }

    /// Leaves a one-time message for the next page this session loads.
    pub async fn leave_flash(
        session: &Session,
        message: String,
        error: bool,
    ) -> Result<(), ApiError> {
        session.insert(FLASH_KEY, Flash { message, error }).await.map_err(session_failed)
    }

    /// Takes the flash message left for this page load, if any.
    pub async fn take_flash() -> Result<Option<Flash>, ApiError> {
        // Removing marks the session changed (a write to the store), so only when there is one.
        let session = session().await?;
        if session.get_value(FLASH_KEY).await.map_err(session_failed)?.is_none() {
            return Ok(None);
        }
        session.remove::<Flash>(FLASH_KEY).await.map_err(session_failed)
    }

    /// One audit event as the pages show it.
    pub fn audit_line(e: backend::audit::AuditEvent) -> crate::types::AuditLine {
        crate::types::AuditLine {
            actor: e.actor_email.unwrap_or_else(|| "system".to_owned()),
            action: e.action,
            target: e.target,
            at: rfc3339(e.created_at),
        }
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` for the UI.
    pub fn rfc3339(at: time::OffsetDateTime) -> String {
        at.to_offset(time::UtcOffset::UTC)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    }
}
