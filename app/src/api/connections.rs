//! Connections, for admins: list, add, test (STS GetCallerIdentity), edit (keys, learners, allowed
//! roles), archive and remove. The catalog page shows them too (`catalog::ssr::connection_views`).

use leptos::prelude::*;

use crate::error::ApiError;
use crate::forms::{ConnectionEditForm, NewConnectionForm};
use crate::types::ConnectionView;

/// Every connection (admins).
#[server(endpoint = "list_connections")]
pub async fn list_connections() -> Result<Vec<ConnectionView>, ApiError> {
    use super::ssr::*;
    let result = async {
        require(&[backend::accounts::Role::Admin])?;
        let pool = &context()?.pool;
        let mut views = super::catalog::ssr::connection_views(pool).await?;
        // What removing each would take, for its Remove form.
        let footprints = backend::connections::footprints(pool).await.map_err(fail)?;
        for view in &mut views {
            let footprint = view
                .connection_id
                .parse()
                .ok()
                .and_then(|id| footprints.get(&id).copied())
                .unwrap_or_default();
            (view.functions, view.owned_functions) = (footprint.functions, footprint.owned);
        }
        Ok(views)
    }
    .await;
    settle(result, |_| None).await
}

/// Adds a connection (admins).
#[server(endpoint = "add_connection")]
pub async fn add_connection(#[server(flatten)] form: NewConnectionForm) -> Result<(), ApiError> {
    use super::ssr::*;
    let result = async {
        let admin = require(&[backend::accounts::Role::Admin])?;
        backend::connections::create(&context()?.pool, &actor(&admin), &form.into())
            .await
            .map(drop)
            .map_err(fail)
    }
    .await;
    settle(result, |()| Some("Connection added".to_owned())).await
}

/// Tests a connection with STS GetCallerIdentity (admins).
#[server(endpoint = "test_connection")]
pub async fn test_connection(connection_id: String) -> Result<String, ApiError> {
    use super::ssr::*;
    let result = async {
        require(&[backend::accounts::Role::Admin])?;
        let pool = &context()?.pool;
        let id = backend::input::id("connection_id", &connection_id).map_err(fail)?;
        let connection = backend::connections::get(pool, id).await.map_err(fail)?;
        let account = backend::connections::test(pool, &connection).await.map_err(fail)?;
        Ok(format!("{} answered: account {account}", connection.name))
    }
    .await;
    settle(result, |message| Some(message.clone())).await
}

/// Changes a connection (admins): where it points, its keys (an empty secret keeps the current
/// one), whether learners may run labs there, and which existing roles labs may use there.
#[server(endpoint = "edit_connection")]
pub async fn edit_connection(#[server(flatten)] form: ConnectionEditForm) -> Result<(), ApiError> {
    use super::ssr::*;
    let result = async {
        let admin = require(&[backend::accounts::Role::Admin])?;
        let (id, edit) = form.try_into().map_err(fail)?;
        backend::connections::update(&context()?.pool, &actor(&admin), id, &edit)
            .await
            .map_err(fail)
    }
    .await;
    settle(result, |()| Some("Connection saved".to_owned())).await
}

/// Archives a connection, or restores it (`archived` = `yes` or `no`): kept with its ledger and
/// history, offered for nothing new (admins).
#[server(endpoint = "archive_connection")]
pub async fn archive_connection(connection_id: String, archived: String) -> Result<(), ApiError> {
    use super::ssr::*;
    let result = async {
        let admin = require(&[backend::accounts::Role::Admin])?;
        let id = backend::input::id("connection_id", &connection_id).map_err(fail)?;
        backend::connections::set_archived(&context()?.pool, &actor(&admin), id, archived == "yes")
            .await
            .map_err(fail)
    }
    .await;
    settle(result, |()| Some("Saved".to_owned())).await
}

/// Removes a connection once its name is typed (admins): its catalog entries are archived, not
/// deleted, and the default connection stays.
#[server(endpoint = "remove_connection")]
pub async fn remove_connection(
    connection_id: String,
    confirm_name: Option<String>,
) -> Result<String, ApiError> {
    use super::ssr::*;
    let result = async {
        let admin = require(&[backend::accounts::Role::Admin])?;
        let id = backend::input::id("connection_id", &connection_id).map_err(fail)?;
        let typed = confirm_name.unwrap_or_default();
        let removed = backend::connections::delete(&context()?.pool, &actor(&admin), id, &typed)
            .await
            .map_err(fail)?;
        Ok(format!(
            "Connection removed; its {} catalog function(s) are archived, with their owners and history",
            removed.functions
        ))
    }
    .await;
    settle(result, |message| Some(message.clone())).await
}
