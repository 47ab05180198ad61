//! Step 5: the Function URL and, for `NONE`, both permission statements AWS requires.

use sqlx::PgPool;
use uuid::Uuid;

use crate::audit::Actor;
use crate::connections::{self};
use crate::error::{Error, Result};

use super::cloud::*;
use super::ledger::*;
use super::model::*;
use super::runs::*;

/// The statements a public URL needs, as AddPermission would write them, for showing.
pub fn public_statements(function_arn: &str) -> [serde_json::Value; 2] {
    [
        serde_json::json!({
            "Sid": URL_STATEMENT, "Effect": "Allow", "Principal": "*",
            "Action": "lambda:InvokeFunctionUrl", "Resource": function_arn,
            "Condition": { "StringEquals": { "lambda:FunctionUrlAuthType": "NONE" } }
        }),
        serde_json::json!({
            "Sid": INVOKE_STATEMENT, "Effect": "Allow", "Principal": "*",
            "Action": "lambda:InvokeFunction", "Resource": function_arn,
            "Condition": { "Bool": { "lambda:InvokedViaFunctionUrl": "true" } }
        }),
    ]
}

/// Which of the two public statements are missing from a policy.
pub(super) fn missing_statements(statements: &[serde_json::Value]) -> Vec<&'static str> {
    let allows = |action: &str| {
        statements.iter().any(|s| {
            s["Effect"] == "Allow"
                && (s["Principal"] == "*" || s["Principal"]["AWS"] == "*")
                && s["Action"] == action
        })
    };
    let mut missing = Vec::new();
    if !allows("lambda:InvokeFunctionUrl") {
        missing.push(URL_STATEMENT);
    }
    if !allows("lambda:InvokeFunction") {
        missing.push(INVOKE_STATEMENT);
    }
    missing
}

pub(super) async fn add_statement(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    sid: &str,
) -> Result<()> {
    use aws_sdk_lambda::types::FunctionUrlAuthType;
    let request = lambda.add_permission().function_name(name).statement_id(sid).principal("*");
    let request = if sid == URL_STATEMENT {
        request.action("lambda:InvokeFunctionUrl").function_url_auth_type(FunctionUrlAuthType::None)
    } else {
        request.action("lambda:InvokeFunction").invoked_via_function_url(true)
    };
    request.send().await.map_err(failed(&format!("AddPermission {sid}")))?;
    Ok(())
}

/// Step 5: creates (or changes) the Function URL; for `NONE`, adds both statements; for
/// `AWS_IAM`, removes public statements the console added.
pub async fn save_url(
    pool: &PgPool,
    actor: &Actor,
    lab_run_id: Uuid,
    auth_type: &str,
    cors_origins: &[String],
) -> Result<()> {
    use aws_sdk_lambda::types::{Cors, FunctionUrlAuthType};
    let auth =
        auth_type.parse::<model::UrlAuthType>().map_err(|e| Error::unknown("auth_type", &e))?;
    for origin in cors_origins {
        if origin != "*" && !(origin.starts_with("http://") || origin.starts_with("https://")) {
            return Err(Error::invalid(
                "cors",
                format!("{origin} is not an origin: write https://example.com, or *"),
            ));
        }
    }
    let run = get(pool, lab_run_id).await?;
    let name = function_of(&run)?.to_owned();
    let connection = connections::get(pool, run.connection_id).await?;
    let lambda = connection.lambda(&run.region).await;
    let existing = lookup(
        "GetFunctionUrlConfig",
        lambda.get_function_url_config().function_name(&name).send().await,
    )?;
    let present = statements(&lambda, &name).await?;
    let has = |sid: &str| present.iter().any(|s| s["Sid"] == sid);
    let mut intents = Vec::new();
    if existing.is_none() {
        intents.push(Intent {
            kind: Kind::UrlConfig,
            name: name.clone(),
            parent: Some(name.clone()),
        });
    }
    if auth_type == "NONE" {
        for sid in [URL_STATEMENT, INVOKE_STATEMENT] {
            if !has(sid) {
                intents.push(Intent {
                    kind: Kind::Permission,
                    name: sid.into(),
                    parent: Some(name.clone()),
                });
            }
        }
    }
    let entries = begin(pool, &run, URL, &intents).await?;
    let cors = (!cors_origins.is_empty()).then(|| {
        Cors::builder().set_allow_origins(Some(cors_origins.to_vec())).allow_methods("*").build()
    });
    let work = async {
        let auth = FunctionUrlAuthType::from(auth_type);
        let url = match &existing {
            None => lambda
                .create_function_url_config()
                .function_name(&name)
                .auth_type(auth)
                .set_cors(cors.clone())
                .send()
                .await
                .map(|out| out.function_url().to_owned())
                .map_err(failed("CreateFunctionUrlConfig"))?,
            Some(_) => lambda
                .update_function_url_config()
                .function_name(&name)
                .auth_type(auth)
                .cors(cors.clone().unwrap_or_else(|| Cors::builder().build()))
                .send()
                .await
                .map(|out| out.function_url().to_owned())
                .map_err(failed("UpdateFunctionUrlConfig"))?,
        };
        if auth_type == "NONE" {
            for sid in [URL_STATEMENT, INVOKE_STATEMENT] {
                if !has(sid) {
                    add_statement(&lambda, &name, sid).await?;
                }
            }
        }
        Ok(url)
    };
    let url = act(pool, &connection, &run, URL, work).await?;
    if auth == model::UrlAuthType::AwsIam {
        // The public statements the console added no longer belong: take them away.
        for entry in ledger(pool, Scope::Run(run.lab_run_id)).await? {
            if entry.kind == Kind::Permission && entry.state == LedgerState::Present {
                remove_entry(pool, &connection, &entry).await?;
            }
        }
    }
    crate::catalog::record_created(pool, &connection, &run.region, &name, run.account_id).await?;
    let settings = Settings {
        auth_type: auth_type.to_owned(),
        cors_origins: cors_origins.to_vec(),
        url: url.clone(),
        ..run.settings.clone()
    };
    finish(
        pool,
        actor,
        &run,
        Finish {
            entries: &entries,
            ..Finish::step(
                URL,
                &settings,
                "lab.url.save",
                serde_json::json!({ "auth_type": auth_type, "url": url, "cors": cors_origins }),
            )
        },
    )
    .await
}
