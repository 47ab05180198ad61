//! Signing in and out, signing up (teaching labs only), and who is signed in.

use leptos::prelude::*;

use crate::error::ApiError;
use crate::types::{Flash, SessionUser};

/// Signs in with an email and password. Failures are counted per account and per address.
#[server(endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String) -> Result<(), ApiError> {
    use super::ssr::*;
    let result = async {
        let ctx = context()?;
        let addr = client_addr();
        // Counted before the password is checked: concurrent guesses cannot slip past the limit.
        ctx.throttle.attempt(&email, addr).map_err(fail)?;
        let Some(account) =
            backend::accounts::authenticate(&ctx.pool, &email, &password).await.map_err(fail)?
        else {
            tracing::info!(client.ip = ?addr, "failed sign-in");
            return Err(ApiError::Unauthorized("wrong email or password".to_owned()));
        };
        ctx.throttle.succeeded(&email, addr);
        start_session(account.account_id).await?;
        tracing::info!(account.id = %account.account_id, "signed in");
        Ok(())
    }
    .await;
    settle(result, |_| None).await
}

/// Ends the session.
#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), ApiError> {
    use super::ssr::*;
    session().await?.flush().await.map_err(session_failed)
}

/// Creates a learner account and signs it in; only when the console runs with `--allow-signup`.
#[server(endpoint = "sign_up")]
pub async fn sign_up(email: String, password: String) -> Result<(), ApiError> {
    use super::ssr::*;
    use backend::accounts::{EmailAddress, NewPassword, Role};
    use backend::audit::Actor;
    let result = async {
        let ctx = context()?;
        if !ctx.allow_signup {
            return Err(ApiError::Forbidden);
        }
        ctx.throttle.sign_up(client_addr()).map_err(fail)?;
        let email = EmailAddress::parse(&email).map_err(fail)?;
        let password = NewPassword::parse(password).map_err(fail)?;
        let actor = Actor { account_id: None, source_ip: client_addr() };
        let account =
            backend::accounts::create_account(&ctx.pool, &actor, &email, &password, Role::Learner)
                .await
                .map_err(fail)?;
        start_session(account.account_id).await
    }
    .await;
    settle(result, |_| None).await
}

/// Changes the caller's own password (the current one checked). Their other sessions end; this
/// one continues under a new id.
#[server(endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), ApiError> {
    use super::ssr::*;
    let result = async {
        let account = require(backend::accounts::Role::ALL)?;
        let new = backend::accounts::NewPassword::parse(new_password).map_err(|e| match e {
            backend::Error::Validation { message, .. } => {
                ApiError::Validation { field: "new_password".into(), message }
            }
            other => fail(other),
        })?;
        backend::accounts::change_password(
            &context()?.pool,
            &actor(&account),
            account.account_id,
            &current_password,
            &new,
        )
        .await
        .map_err(fail)?;
        start_session(account.account_id).await
    }
    .await;
    settle(result, |()| Some("Password changed; your other sessions are signed out".to_owned()))
        .await
}

/// Whether the sign-up page is open.
#[server(endpoint = "signup_allowed")]
pub async fn signup_allowed() -> Result<bool, ApiError> {
    Ok(super::ssr::context()?.allow_signup)
}

/// The signed-in person, or `None`.
#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<Option<SessionUser>, ApiError> {
    Ok(super::ssr::caller().map(|a| SessionUser { email: a.email, role: a.role.to_string() }))
}

/// The one-time message a plain form post left for this page, if any.
#[server(endpoint = "take_flash")]
pub async fn take_flash() -> Result<Option<Flash>, ApiError> {
    super::ssr::take_flash().await
}

/// Gives the session a new id (so an id fixed before sign-in is worthless) and binds the account.
#[cfg(feature = "ssr")]
async fn start_session(account_id: uuid::Uuid) -> Result<(), ApiError> {
    use super::ssr::*;
    let session = session().await?;
    session.cycle_id().await.map_err(session_failed)?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    session.insert(SIGNED_IN_KEY, now).await.map_err(session_failed)?;
    session.insert(ACCOUNT_KEY, account_id).await.map_err(session_failed)
}
