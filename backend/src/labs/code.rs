//! Steps 3 and 4: the code (from the editor, or a zip uploaded through the function page) and the
//! settings (timeout and memory).

use aws_sdk_lambda::primitives::Blob;
use sqlx::PgPool;
use uuid::Uuid;

use crate::audit::Actor;
use crate::connections::{self};
use crate::error::{Error, Result};

use super::cloud::*;
use super::ledger::*;
use super::model::*;
use super::runs::*;

/// Step 3: deploys the editor's source as the handler file.
pub async fn deploy_code(
    pool: &PgPool,
    actor: &Actor,
    lab_run_id: Uuid,
    source: &str,
) -> Result<()> {
    let run = get(pool, lab_run_id).await?;
    let name = function_of(&run)?.to_owned();
    if source.trim().is_empty() {
        return Err(Error::invalid("source", "the handler is empty: paste the lab's code back"));
    }
    if source.len() > 512 * 1024 {
        return Err(Error::invalid("source", "the file is larger than 512 KB: upload a zip"));
    }
    let connection = connections::get(pool, run.connection_id).await?;
    let (file, _, _) = lab_code(&run.settings.runtime);
    begin(pool, &run, CODE, &[]).await?;
    let lambda = connection.lambda(&run.region).await;
    let work = async {
        lambda
            .update_function_code()
            .function_name(&name)
            .zip_file(Blob::new(one_file_zip(file, source)?))
            .send()
            .await
            .map_err(|e| match crate::cloud::CloudFailure::of(&e) {
                crate::cloud::CloudFailure::Refused => {
                    Error::invalid("source", format!("the code was refused: {}", cloud_said(&e)))
                }
                _ => crate::cloud::error("UpdateFunctionCode failed", &e),
            })?;
        wait_ready(&lambda, &name).await
    };
    act(pool, &connection, &run, CODE, work).await?;
    let settings = Settings { source: source.to_owned(), ..run.settings.clone() };
    finish(
        pool,
        actor,
        &run,
        Finish::step(
            CODE,
            &settings,
            "lab.code.deploy",
            serde_json::json!({ "file": file, "bytes": source.len() }),
        ),
    )
    .await
}

/// Step 3 by zip: the code was uploaded through the function's code upload; records the step.
pub async fn code_uploaded(pool: &PgPool, actor: &Actor, lab_run_id: Uuid) -> Result<()> {
    let run = get(pool, lab_run_id).await?;
    record_code(pool, actor, &run, "", "lab.code.upload").await
}

/// Step 3 with the code step 2 deployed (the runtime's template), as the Create form keeps it.
pub(super) async fn template_kept(pool: &PgPool, actor: &Actor, lab_run_id: Uuid) -> Result<()> {
    let run = get(pool, lab_run_id).await?;
    let (_, _, template) = lab_code(&run.settings.runtime);
    record_code(pool, actor, &run, template, "lab.code.template").await
}

/// Records step 3 without deploying: the function already runs `source` (empty: not known).
async fn record_code(
    pool: &PgPool,
    actor: &Actor,
    run: &Run,
    source: &str,
    action: &str,
) -> Result<()> {
    function_of(run)?;
    begin(pool, run, CODE, &[]).await?;
    let settings = Settings { source: source.to_owned(), ..run.settings.clone() };
    finish(pool, actor, run, Finish::step(CODE, &settings, action, serde_json::json!({}))).await
}

/// Step 4: timeout and memory.
pub async fn configure(
    pool: &PgPool,
    actor: &Actor,
    lab_run_id: Uuid,
    timeout_s: i32,
    memory_mb: i32,
) -> Result<()> {
    if !(1..=900).contains(&timeout_s) {
        return Err(Error::invalid("timeout", "a timeout is 1 to 900 seconds (the lab uses 3)"));
    }
    if !(128..=10240).contains(&memory_mb) {
        return Err(Error::invalid("memory", "memory is 128 to 10240 MB (the lab uses 128)"));
    }
    let run = get(pool, lab_run_id).await?;
    let name = function_of(&run)?.to_owned();
    let proposed = Settings { timeout_s, memory_mb, ..run.settings.clone() };
    let settings_fields = ["memory_mb", "timeout_s"];
    super::rules::enforce(
        pool,
        &run,
        &name,
        &proposed,
        crate::governance::Action::Update,
        &settings_fields,
    )
    .await?;
    let connection = connections::get(pool, run.connection_id).await?;
    begin(pool, &run, SETTINGS, &[]).await?;
    let lambda = connection.lambda(&run.region).await;
    let work = async {
        lambda
            .update_function_configuration()
            .function_name(&name)
            .timeout(timeout_s)
            .memory_size(memory_mb)
            .send()
            .await
            .map_err(|e| crate::cloud::error("the settings were refused", &e))?;
        wait_ready(&lambda, &name).await
    };
    act(pool, &connection, &run, SETTINGS, work).await?;
    catalogued(pool, &connection, &run, &name, crate::catalog::Reads::Configuration).await?;
    let settings = Settings { timeout_s, memory_mb, ..run.settings.clone() };
    finish(
        pool,
        actor,
        &run,
        Finish::step(
            SETTINGS,
            &settings,
            "lab.settings",
            serde_json::json!({ "timeout_s": timeout_s, "memory_mb": memory_mb }),
        ),
    )
    .await
}
