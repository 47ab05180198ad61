//! Personal access tokens for the REST API, on the profile page: each person makes and revokes
//! their own. A token's secret is returned once, when it is made.

use leptos::prelude::*;

use crate::error::ApiError;
use crate::types::{CreatedToken, TokenView};

/// The caller's tokens, newest first.
#[server(endpoint = "list_tokens")]
pub async fn list_tokens() -> Result<Vec<TokenView>, ApiError> {
    use super::ssr::*;
    let result = async {
        let account = require(backend::accounts::Role::ALL)?;
        let tokens =
            backend::tokens::list(&context()?.pool, account.account_id).await.map_err(fail)?;
        Ok(tokens
            .into_iter()
            .map(|t| TokenView {
                token_id: t.api_token_id.to_string(),
                name: t.name,
                prefix: t.prefix,
                created: rfc3339(t.created_at),
                last_used: t.last_used_at.map(rfc3339),
                revoked: t.revoked_at.is_some(),
            })
            .collect())
    }
    .await;
    settle(result, |_| None).await
}

/// Makes a token for the caller; its secret is in the answer and nowhere else.
#[server(endpoint = "create_token")]
pub async fn create_token(name: String) -> Result<CreatedToken, ApiError> {
    use super::ssr::*;
    let result = async {
        let account = require(backend::accounts::Role::ALL)?;
        let (token, secret) =
            backend::tokens::create(&context()?.pool, &actor(&account), &account, &name)
                .await
                .map_err(fail)?;
        Ok(CreatedToken { name: token.name, secret })
    }
    .await;
    settle(result, |t| Some(created_message(t))).await
}

/// Revokes one of the caller's tokens; it stops working at once.
#[server(endpoint = "revoke_token")]
pub async fn revoke_token(token_id: String, confirm: Option<String>) -> Result<(), ApiError> {
    use super::ssr::*;
    let result = async {
        let account = require(backend::accounts::Role::ALL)?;
        confirmed(
            confirm.as_deref(),
            "the revocation: scripts using this token will stop working",
        )?;
        let id = token_id.trim().parse().map_err(|_| ApiError::NotFound("token".into()))?;
        backend::tokens::revoke(&context()?.pool, &actor(&account), &account, id)
            .await
            .map_err(fail)
    }
    .await;
    settle(result, |()| Some("Token revoked".to_owned())).await
}

/// The one message that carries a new token's secret.
pub fn created_message(token: &CreatedToken) -> String {
    format!(
        "Token \"{}\" created. Copy it now, it will not be shown again: {}",
        token.name, token.secret
    )
}
