//! The one-page Create form's server functions: what it offers, the roles of a connection, the
//! rules' verdict as it is typed, and the creation itself (the lab's steps 2 to 5 at once, all or
//! nothing: `backend::labs::create`).

use leptos::prelude::*;

use crate::error::ApiError;
use crate::forms::CreateForm;
use crate::types::{CreateFormOptions, RuleFinding};

/// Where the caller may create a function, and what the form offers.
#[server(endpoint = "create_options")]
pub async fn create_options() -> Result<CreateFormOptions, ApiError> {
    use super::ssr::*;
    let result = async {
        let account = require(backend::accounts::Role::ALL)?;
        let pool = &context()?.pool;
        let runtimes: Vec<String> =
            backend::labs::RUNTIMES.iter().map(|r| (*r).to_owned()).collect();
        Ok(CreateFormOptions {
            targets: super::labs::targets(&account).await?,
            templates: runtimes
                .iter()
                .map(|r| (r.clone(), backend::labs::lab_code(r).2.to_owned()))
                .collect(),
            runtimes,
            teams: backend::teams::list_teams_of(pool, account.account_id).await.map_err(fail)?,
            existing_roles_allowed: !super::labs::is_learner(&account),
            owner_choice: (account.role == backend::accounts::Role::Admin)
                .then(|| account.email.clone()),
        })
    }
    .await;
    settle(result, |_| None).await
}

/// The roles a function on `target` (`connection id|region`) may use: they trust Lambda and the
/// connection allows them. None for learners, who create a new role.
#[server(endpoint = "create_roles", input = leptos::server_fn::codec::GetUrl)]
pub async fn create_roles(target: String) -> Result<Vec<(String, String)>, ApiError> {
    use super::ssr::*;
    let result = async {
        let account = require(backend::accounts::Role::ALL)?;
        if super::labs::is_learner(&account) {
            return Ok(Vec::new());
        }
        let connection = allowed_connection(&account, &target).await?;
        backend::labs::roles(&connection).await.map_err(fail)
    }
    .await;
    settle(result, |_| None).await
}

/// What the platform team's rules say about the function as the form describes it, without
/// creating anything. A field that does not parse yet is an answer too: no findings.
#[server(endpoint = "check_create", input = leptos::server_fn::codec::GetUrl)]
pub async fn check_create(form: CreateForm) -> Result<Vec<RuleFinding>, ApiError> {
    use super::ssr::*;
    let result = async {
        require(backend::accounts::Role::ALL)?;
        let Ok(input) = backend::labs::CreateInput::try_from(form) else { return Ok(Vec::new()) };
        let findings = backend::labs::evaluate(&context()?.pool, &input).await.map_err(fail)?;
        Ok(findings
            .into_iter()
            .map(|f| RuleFinding {
                field: backend::labs::form_field(f.field).to_owned(),
                severity: f.severity.as_str().to_owned(),
                message: f.message,
                fix: f.fix,
                mirrors: f.mirrors.to_owned(),
            })
            .collect())
    }
    .await;
    settle(result, |_| None).await
}

/// Creates the function the form describes; answers its catalog id.
#[server(endpoint = "create_function")]
pub async fn create_function(#[server(flatten)] form: CreateForm) -> Result<String, ApiError> {
    use super::ssr::*;
    let result = async {
        let account = require(backend::accounts::Role::ALL)?;
        // Learners use only a role made for their function: an existing one could carry any
        // permissions at all.
        if form.role != "new" && super::labs::is_learner(&account) {
            return Err(ApiError::Validation {
                field: "existing_role".into(),
                message: "learners create a new role for their function".into(),
            });
        }
        let for_someone_else = form
            .owner
            .as_deref()
            .map(str::trim)
            .is_some_and(|o| !o.is_empty() && !o.eq_ignore_ascii_case(&account.email));
        if for_someone_else && account.role != backend::accounts::Role::Admin {
            return Err(ApiError::Validation {
                field: "owner".into(),
                message: "only admins create functions for someone else; you are the owner".into(),
            });
        }
        allowed_connection(&account, &form.target).await?;
        if let Some(problem) = crate::rules::function_name_problem(&form.name) {
            return Err(ApiError::Validation { field: "name".into(), message: problem });
        }
        let input = backend::labs::CreateInput::try_from(form).map_err(fail)?;
        let function_id =
            backend::labs::create(&context()?.pool, &actor(&account), account.account_id, &input)
                .await
                .map_err(fail)?;
        redirect_plain_form(&format!("/catalog/{function_id}"));
        Ok(function_id.to_string())
    }
    .await;
    settle(result, |_| Some("The function is created".to_owned())).await
}

/// The connection of `target` (`connection id|region`), when the caller may use it.
#[cfg(feature = "ssr")]
async fn allowed_connection(
    account: &backend::accounts::Account,
    target: &str,
) -> Result<backend::connections::Connection, ApiError> {
    use super::ssr::*;
    let invalid =
        |message: &str| ApiError::Validation { field: "target".into(), message: message.into() };
    let (connection, _) =
        target.split_once('|').ok_or_else(|| invalid("choose where the function runs"))?;
    let id = backend::input::id("target", connection).map_err(fail)?;
    let connection = backend::connections::get(&context()?.pool, id).await.map_err(fail)?;
    if let Some(message) =
        backend::labs::access::refusal(account, &connection, super::labs::engine_sandboxes()?)
    {
        return Err(invalid(message));
    }
    Ok(connection)
}
