//! The Permissions tab: the function's execution role and resource policy, for everyone who may
//! read the function.

use leptos::prelude::*;

use crate::error::ApiError;
use crate::types::PermissionsTabView;

#[server(endpoint = "permissions_tab")]
pub async fn permissions_tab(function_id: String) -> Result<PermissionsTabView, ApiError> {
    use super::ssr::*;
    use crate::types::{RolePolicyView, StatementView};
    use backend::accounts::Role;
    use backend::urls::policy::describe;
    let result = async {
        let account = require(Role::ALL)?;
        let pool = &context()?.pool;
        let detail = super::catalog::ssr::readable(pool, &account, &function_id).await?;
        let connection =
            backend::connections::get(pool, detail.connection_id).await.map_err(fail)?;
        let read = backend::permissions::read(pool, &connection, &detail).await.map_err(fail)?;
        Ok(PermissionsTabView {
            role_arn: read.role_arn,
            role_name: read.role_name,
            trust: read.trust.iter().map(describe).collect(),
            policies: read
                .policies
                .into_iter()
                .map(|p| RolePolicyView {
                    kind: if p.arn.is_some() { "managed" } else { "inline" }.to_owned(),
                    json: p
                        .arn
                        .is_none()
                        .then(|| serde_json::to_string_pretty(&p.statements).unwrap_or_default()),
                    name: p.name,
                    arn: p.arn,
                })
                .collect(),
            statements: read
                .statements
                .iter()
                .map(|s| StatementView {
                    sid: s["Sid"].as_str().unwrap_or_default().to_owned(),
                    words: describe(s),
                    json: serde_json::to_string_pretty(s).unwrap_or_default(),
                })
                .collect(),
            findings: read.findings,
        })
    }
    .await;
    settle(result, |_| None).await
}
