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
use crate::urls::policy::{add_statement, statements};

/// CORS origins as a URL's configuration takes them: `*` or `http(s)://…`.
pub(super) fn check_origins(cors_origins: &[String]) -> Result<()> {
    for origin in cors_origins {
        if origin != "*" && !(origin.starts_with("http://") || origin.starts_with("https://")) {
            return Err(Error::invalid(
                "cors",
                format!("{origin} is not an origin: write https://example.com, or *"),
            ));
        }
    }
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
    check_origins(cors_origins)?;
    let run = get(pool, lab_run_id).await?;
    let name = function_of(&run)?.to_owned();
    let proposed = Settings {
        auth_type: auth.as_str().to_owned(),
        cors_origins: cors_origins.to_vec(),
        ..run.settings.clone()
    };
    let url_fields = ["url", "cors"];
    super::rules::enforce(
        pool,
        &run,
        &name,
        &proposed,
        crate::governance::Action::Update,
        &url_fields,
    )
    .await?;
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
    catalogued(pool, &connection, &run, &name, crate::catalog::Reads::WithUrl).await?;
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
