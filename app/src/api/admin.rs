//! The admin page: accounts, roles, teams and membership. Every function here is admin-only,
//! checked on the server.

use leptos::prelude::*;

use crate::error::ApiError;
use crate::types::{CreatedAccount, Directory};

/// All accounts and teams.
#[server(endpoint = "list_directory")]
pub async fn list_directory() -> Result<Directory, ApiError> {
    use super::ssr::*;
    use crate::types::{AccountView, TeamView};
    let result = async {
        require(&[backend::accounts::Role::Admin])?;
        let pool = &context()?.pool;
        let accounts = backend::accounts::list_accounts(pool).await.map_err(fail)?;
        let teams = backend::teams::list_teams(pool).await.map_err(fail)?;
        Ok(Directory {
            accounts: accounts
                .into_iter()
                .map(|a| AccountView {
                    account_id: a.account.account_id.to_string(),
                    email: a.account.email,
                    role: a.account.role.to_string(),
                    teams: a.teams,
                    disabled: a.disabled,
                    created: rfc3339(a.account.created_at).chars().take(10).collect(),
                })
                .collect(),
            teams: teams
                .into_iter()
                .map(|t| TeamView {
                    team_id: t.team_id.to_string(),
                    name: t.name,
                    members: t.members,
                })
                .collect(),
        })
    }
    .await;
    settle(result, |_| None).await
}

/// Creates an account with a generated password, shown once to the admin.
#[server(endpoint = "create_account")]
pub async fn create_account(email: String, role: String) -> Result<CreatedAccount, ApiError> {
    use super::ssr::*;
    use backend::accounts::{EmailAddress, NewPassword, Role};
    let result = async {
        let admin = require(&[Role::Admin])?;
        let email = EmailAddress::parse(&email).map_err(fail)?;
        let role: Role = role.parse().map_err(|e| fail(backend::Error::unknown("role", &e)))?;
        let password = NewPassword::generate();
        let ctx = context()?;
        let account =
            backend::accounts::create_account(&ctx.pool, &actor(&admin), &email, &password, role)
                .await
                .map_err(fail)?;
        Ok(CreatedAccount {
            email: account.email,
            role: account.role.to_string(),
            password: password.expose().to_owned(),
        })
    }
    .await;
    settle(result, |c| {
        Some(format!(
            "Created {} ({}). Their one-time password is {} — give it to them now; it is not shown again.",
            c.email, c.role, c.password
        ))
    })
    .await
}

/// Changes an account's role.
#[server(endpoint = "set_account_role")]
pub async fn set_account_role(account_id: String, role: String) -> Result<(), ApiError> {
    use super::ssr::*;
    use backend::accounts::Role;
    let result = async {
        let admin = require(&[Role::Admin])?;
        let account_id = parse_id("account", &account_id)?;
        let role: Role = role.parse().map_err(|e| fail(backend::Error::unknown("role", &e)))?;
        let pool = &context()?.pool;
        let account = backend::accounts::set_role(pool, &actor(&admin), account_id, role)
            .await
            .map_err(fail)?;
        Ok(format!("{} is now {}", account.email, account.role))
    }
    .await;
    settle(result, |m| Some(m.clone())).await.map(drop)
}

/// Disables an account (`disabled` = `yes`), ending its sessions and API tokens at once, or
/// enables it again (`no`).
#[server(endpoint = "set_account_disabled")]
pub async fn set_account_disabled(account_id: String, disabled: String) -> Result<(), ApiError> {
    use super::ssr::*;
    let result = async {
        let admin = require(&[backend::accounts::Role::Admin])?;
        let account_id = parse_id("account", &account_id)?;
        let disabled = disabled == "yes";
        backend::accounts::set_disabled(&context()?.pool, &actor(&admin), account_id, disabled)
            .await
            .map_err(fail)?;
        Ok(if disabled {
            "Account disabled; its sessions and tokens no longer work"
        } else {
            "Account enabled"
        })
    }
    .await;
    settle(result, |m| Some((*m).to_owned())).await.map(drop)
}

/// Resets an account's password to a generated one, shown once to the admin; the account's
/// sessions end.
#[server(endpoint = "reset_account_password")]
pub async fn reset_account_password(
    account_id: String,
    confirm: Option<String>,
) -> Result<String, ApiError> {
    use super::ssr::*;
    let result = async {
        let admin = require(&[backend::accounts::Role::Admin])?;
        confirmed(confirm.as_deref(), "the reset (it signs them out)")?;
        let account_id = parse_id("account", &account_id)?;
        let password =
            backend::accounts::reset_password(&context()?.pool, &actor(&admin), account_id)
                .await
                .map_err(fail)?;
        Ok(password.expose().to_owned())
    }
    .await;
    settle(result, |p| {
        Some(format!(
            "The new one-time password is {p} — give it to them now; it is not shown again."
        ))
    })
    .await
}

/// Creates a team.
#[server(endpoint = "create_team")]
pub async fn create_team(name: String) -> Result<(), ApiError> {
    use super::ssr::*;
    use backend::teams::TeamName;
    let result = async {
        let admin = require(&[backend::accounts::Role::Admin])?;
        let name = TeamName::parse(&name).map_err(fail)?;
        let pool = &context()?.pool;
        backend::teams::create_team(pool, &actor(&admin), &name).await.map_err(fail)?;
        Ok(format!("Created team {}", name.as_str()))
    }
    .await;
    settle(result, |m| Some(m.clone())).await.map(drop)
}

/// Adds an account to a team.
#[server(endpoint = "add_team_member")]
pub async fn add_team_member(team_id: String, account_id: String) -> Result<(), ApiError> {
    use super::ssr::*;
    let result = async {
        let admin = require(&[backend::accounts::Role::Admin])?;
        let team_id = parse_id("team", &team_id)?;
        let account_id = parse_id("account", &account_id)?;
        let pool = &context()?.pool;
        backend::teams::add_member(pool, &actor(&admin), team_id, account_id).await.map_err(fail)
    }
    .await;
    settle(result, |()| Some("Added the member".to_owned())).await
}

#[cfg(feature = "ssr")]
fn parse_id(what: &'static str, raw: &str) -> Result<uuid::Uuid, ApiError> {
    raw.trim().parse().map_err(|_| ApiError::Validation {
        field: format!("{what}_id"),
        message: format!("choose a {what}"),
    })
}

/// Whether the catalog is restricted to owners and their teams (admins).
#[server(endpoint = "catalog_restricted")]
pub async fn catalog_restricted() -> Result<bool, ApiError> {
    use super::ssr::*;
    let result = async {
        require(&[backend::accounts::Role::Admin])?;
        backend::settings::catalog_restricted(&context()?.pool).await.map_err(fail)
    }
    .await;
    settle(result, |_| None).await
}

/// Restricts the catalog (`restricted = "yes"`) so that people other than admins see only the
/// functions they or their teams own, or opens it to everyone signed in again (admins).
#[server(endpoint = "set_catalog_restricted")]
pub async fn set_catalog_restricted(restricted: Option<String>) -> Result<bool, ApiError> {
    use super::ssr::*;
    let result = async {
        let admin = require(&[backend::accounts::Role::Admin])?;
        let restricted = restricted.as_deref() == Some("yes");
        backend::settings::set_catalog_restricted(&context()?.pool, &actor(&admin), restricted)
            .await
            .map_err(fail)?;
        Ok(restricted)
    }
    .await;
    settle(result, |r| Some(restriction_message(*r))).await
}

/// What the restriction setting means, in words.
pub fn restriction_message(restricted: bool) -> String {
    if restricted {
        "The catalog is restricted: people see only their own and their teams' functions".to_owned()
    } else {
        "The catalog is open: everyone signed in can read it".to_owned()
    }
}

/// How the embedded engine contains function code (admins); `None` without one.
#[server(endpoint = "engine_containment")]
pub async fn engine_containment() -> Result<Option<crate::types::EngineContainment>, ApiError> {
    use super::ssr::*;
    let result = async {
        require(&[backend::accounts::Role::Admin])?;
        Ok(context()?.engine)
    }
    .await;
    settle(result, |_| None).await
}

/// Hours after which learners' lab runs are cleaned up (admins).
#[server(endpoint = "lab_expiry_hours")]
pub async fn lab_expiry_hours() -> Result<i64, ApiError> {
    use super::ssr::*;
    let result = async {
        require(&[backend::accounts::Role::Admin])?;
        backend::settings::lab_expiry_hours(&context()?.pool).await.map_err(fail)
    }
    .await;
    settle(result, |_| None).await
}

/// Sets the learners' lab expiry, in hours (admins).
#[server(endpoint = "set_lab_expiry_hours")]
pub async fn set_lab_expiry_hours(hours: String) -> Result<i64, ApiError> {
    use super::ssr::*;
    let result = async {
        let admin = require(&[backend::accounts::Role::Admin])?;
        let hours = hours.trim().parse::<i64>().map_err(|_| ApiError::Validation {
            field: "hours".into(),
            message: "a whole number of hours, 1 to 720".into(),
        })?;
        backend::settings::set_lab_expiry_hours(&context()?.pool, &actor(&admin), hours)
            .await
            .map_err(fail)?;
        Ok(hours)
    }
    .await;
    settle(result, |h| Some(expiry_message(*h))).await
}

/// What the lab expiry setting means, in words.
pub fn expiry_message(hours: i64) -> String {
    format!(
        "Learners' lab runs are cleaned up {hours} hour(s) after they start, at the latest (runs already started keep the expiry they started with)"
    )
}
