//! What a function may do and who may call it: its execution role (the trust policy, the managed
//! and inline policies, read with IAM's own calls) and its resource policy, each statement in plain
//! words, with what platform teams check first — a role that can do anything, a role without
//! the permission to write logs, a role shared with other functions.

use serde_json::Value;
use sqlx::PgPool;

use crate::catalog::Detail;
use crate::cloud::failed;
use crate::connections::Connection;
use crate::error::Result;
use crate::urls::policy;

/// Managed policies that grant (nearly) everything.
const ADMIN_LIKE: &[&str] = &[
    "arn:aws:iam::aws:policy/AdministratorAccess",
    "arn:aws:iam::aws:policy/PowerUserAccess",
    "arn:aws:iam::aws:policy/IAMFullAccess",
];

/// A policy on the role: its name, where it comes from, and its statements.
#[derive(Clone, Debug, Default)]
pub struct RolePolicy {
    pub name: String,
    /// The managed policy's ARN; none for an inline policy.
    pub arn: Option<String>,
    /// The statements, when the document could be read (inline ones always).
    pub statements: Vec<Value>,
}

/// The function's permissions as the cloud has them now.
#[derive(Clone, Debug, Default)]
pub struct Permissions {
    pub role_arn: String,
    pub role_name: String,
    pub trust: Vec<Value>,
    pub policies: Vec<RolePolicy>,
    /// The resource policy's statements.
    pub statements: Vec<Value>,
    /// Other catalogued functions of the same connection with this role.
    pub sharing: Vec<String>,
    /// What to look at, most serious first.
    pub findings: Vec<String>,
}

fn statements_of(document: &str) -> Vec<Value> {
    // IAM returns documents URL-encoded; the engine and some tools return them plain.
    let decoded = percent_encoding::percent_decode_str(document).decode_utf8_lossy();
    let parsed: Value = serde_json::from_str(&decoded).unwrap_or_default();
    match &parsed["Statement"] {
        Value::Array(list) => list.clone(),
        Value::Null => Vec::new(),
        one => vec![one.clone()],
    }
}

/// Whether a statement allows every action on every resource.
fn allows_everything(statement: &Value) -> bool {
    let any = |v: &Value| match v {
        Value::String(s) => s == "*",
        Value::Array(list) => list.iter().any(|s| s == "*"),
        _ => false,
    };
    statement["Effect"] == "Allow" && any(&statement["Action"]) && any(&statement["Resource"])
}

/// Whether a statement allows writing logs (`logs:PutLogEvents`, `logs:*` or `*`).
fn allows_logging(statement: &Value) -> bool {
    let grants = |a: &Value| a == "logs:PutLogEvents" || a == "logs:*" || a == "*";
    statement["Effect"] == "Allow"
        && match &statement["Action"] {
            Value::Array(list) => list.iter().any(grants),
            other => grants(other),
        }
}

/// Reads the role and both policies, and says what stands out.
pub async fn read(pool: &PgPool, connection: &Connection, detail: &Detail) -> Result<Permissions> {
    let lambda = connection.lambda(&detail.entry.region).await;
    let config = lambda
        .get_function_configuration()
        .function_name(&detail.arn)
        .send()
        .await
        .map_err(failed("GetFunctionConfiguration"))?;
    let role_arn = config.role().unwrap_or_default().to_owned();
    let role_name = role_arn.rsplit('/').next().unwrap_or_default().to_owned();
    let iam = connection.iam().await;
    let role = iam.get_role().role_name(&role_name).send().await.map_err(failed("GetRole"))?;
    let trust = role
        .role()
        .and_then(|r| r.assume_role_policy_document())
        .map(statements_of)
        .unwrap_or_default();
    let mut policies = Vec::new();
    let attached = iam
        .list_attached_role_policies()
        .role_name(&role_name)
        .send()
        .await
        .map_err(failed("ListAttachedRolePolicies"))?;
    for managed in attached.attached_policies() {
        let arn = managed.policy_arn().unwrap_or_default().to_owned();
        // AWS-managed documents are well known; their names say what they are.
        policies.push(RolePolicy {
            name: managed.policy_name().unwrap_or_default().to_owned(),
            arn: Some(arn),
            statements: Vec::new(),
        });
    }
    let inline = iam
        .list_role_policies()
        .role_name(&role_name)
        .send()
        .await
        .map_err(failed("ListRolePolicies"))?;
    for name in inline.policy_names() {
        let document = iam
            .get_role_policy()
            .role_name(&role_name)
            .policy_name(name)
            .send()
            .await
            .map_err(failed("GetRolePolicy"))?;
        policies.push(RolePolicy {
            name: name.clone(),
            arn: None,
            statements: statements_of(document.policy_document()),
        });
    }
    let statements = policy::statements(&lambda, &detail.arn).await?;
    let sharing = sqlx::query_scalar!(
        "select name from catalog_function
         where connection_id = $1 and function_id <> $2 and gone_at is null and archived_at is null
           and cloud_config->>'role' = $3
         order by name",
        detail.connection_id,
        detail.entry.function_id,
        role_arn,
    )
    .fetch_all(pool)
    .await?;
    let mut findings = Vec::new();
    for p in &policies {
        let admin = p.arn.as_deref().is_some_and(|arn| ADMIN_LIKE.contains(&arn))
            || p.statements.iter().any(allows_everything);
        if admin {
            findings.push(format!(
                "{} lets the function do anything in the account: a bug or a stolen token in its code can too. Grant only the actions and resources it uses."
            , p.name));
        }
    }
    let logs = policies.iter().any(|p| {
        p.arn.as_deref().is_some_and(|arn| {
            arn.ends_with("/AWSLambdaBasicExecutionRole")
                || arn.ends_with("/AWSLambdaVPCAccessExecutionRole")
                || ADMIN_LIKE.contains(&arn)
        }) || p.statements.iter().any(allows_logging)
    });
    if !logs {
        findings.push(format!(
            "{role_name} has no permission to write logs: the function runs, but its lines are lost. Attach AWSLambdaBasicExecutionRole."
        ));
    }
    if !sharing.is_empty() {
        findings.push(format!(
            "{role_name} is shared with {}: each gets what the others need. The practice is one role per function.",
            sharing.join(", ")
        ));
    }
    Ok(Permissions { role_arn, role_name, trust, policies, statements, sharing, findings })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_read_encoded_or_plain() {
        let encoded = "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22*%22%2C%22Resource%22%3A%22*%22%7D%5D%7D";
        let statements = statements_of(encoded);
        assert_eq!(statements.len(), 1);
        assert!(allows_everything(&statements[0]));
        assert!(allows_logging(&statements[0]));
        let plain =
            r#"{"Statement":{"Effect":"Allow","Action":["logs:PutLogEvents"],"Resource":"arn:x"}}"#;
        let statements = statements_of(plain);
        assert!(!allows_everything(&statements[0]) && allows_logging(&statements[0]));
    }
}
