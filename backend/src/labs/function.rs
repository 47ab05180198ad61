//! Step 2: the function and its role (a new one, or an existing one the connection allows).

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_lambda::error::ProvideErrorMetadata;
use aws_sdk_lambda::primitives::Blob;
use sqlx::PgPool;
use uuid::Uuid;

use crate::audit::Actor;
use crate::connections::{self, Connection};
use crate::error::{Error, Result};
use crate::governance::Action;

use super::cloud::*;
use super::ledger::*;
use super::model::*;
use super::runs::*;

/// Roles the account has that Lambda could use and the connection allows (all of them when an
/// admin listed none), as (name, ARN).
pub async fn roles(connection: &Connection) -> Result<Vec<(String, String)>> {
    let iam = connection.iam().await;
    let mut roles = Vec::new();
    let mut pages = iam.list_roles().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(failed("IAM ListRoles"))?;
        for role in page.roles() {
            let trusts_lambda = role
                .assume_role_policy_document()
                .is_some_and(|doc| doc.contains("lambda.amazonaws.com"));
            let allowed = connection.allowed_roles.is_empty()
                || connection
                    .allowed_roles
                    .iter()
                    .any(|r| r == role.role_name() || r == role.arn());
            if trusts_lambda && allowed {
                roles.push((role.role_name().to_owned(), role.arn().to_owned()));
            }
        }
    }
    Ok(roles)
}

/// Whether `name` is free in the run's region: not in the catalog, not in the cloud. (Lambda's
/// naming rules are checked by the caller, `app::rules`, which the browser shares.)
pub async fn name_problem(
    pool: &PgPool,
    connection_id: Uuid,
    region: &str,
    name: &str,
) -> Result<Option<String>> {
    let in_catalog = sqlx::query_scalar!(
        r#"select exists(select 1 from catalog_function
                         where connection_id = $1 and region = $2 and name = $3 and gone_at is null) as "exists!""#,
        connection_id,
        region,
        name
    )
    .fetch_one(pool)
    .await?;
    if in_catalog {
        return Ok(Some(format!("the catalog already has a function named {name} in {region}")));
    }
    let connection = connections::get(pool, connection_id).await?;
    let lambda = connection.lambda(region).await;
    let existing = lookup(
        "GetFunctionConfiguration",
        lambda.get_function_configuration().function_name(name).send().await,
    )?;
    Ok(existing.map(|_| format!("a function named {name} already exists in {region}")))
}

pub(super) fn check_function_input(input: &FunctionInput) -> Result<()> {
    if !RUNTIMES.contains(&input.runtime.as_str()) {
        return Err(Error::invalid("runtime", format!("choose one of {}", RUNTIMES.join(", "))));
    }
    if !["x86_64", "arm64"].contains(&input.architecture.as_str()) {
        return Err(Error::invalid("architecture", "choose x86_64 or arm64"));
    }
    if input.role != "new" && !input.role.starts_with("arn:") {
        return Err(Error::invalid("role", "create a new role or choose an existing one"));
    }
    input.lifecycle.parse::<model::Lifecycle>().map_err(|e| Error::unknown("lifecycle", &e))?;
    input.environment.parse::<model::Stage>().map_err(|e| Error::unknown("environment", &e))?;
    Ok(())
}

/// Step 2: creates the role (when asked) and the function with the lab's code; or, when the
/// function exists already (the learner came back), updates its runtime and catalog metadata.
pub async fn save_function(
    pool: &PgPool,
    actor: &Actor,
    lab_run_id: Uuid,
    input: &FunctionInput,
) -> Result<()> {
    let run = get(pool, lab_run_id).await?;
    check_function_input(input)?;
    let proposed = Settings {
        runtime: input.runtime.clone(),
        architecture: input.architecture.clone(),
        team: input.team.trim().to_owned(),
        lifecycle: input.lifecycle.clone(),
        environment: input.environment.clone(),
        tags: input.tags.clone(),
        ..run.settings.clone()
    };
    let (name, action) = match &run.function_name {
        Some(name) => (name.clone(), Action::Update),
        None => (input.name.trim().to_owned(), Action::Create),
    };
    super::rules::enforce(pool, &run, &name, &proposed, action, &[]).await?;
    let connection = connections::get(pool, run.connection_id).await?;
    if let Some(name) = &run.function_name {
        return update_function(pool, actor, &connection, &run, name, input).await;
    }
    let name = input.name.trim().to_owned();
    if let Some(problem) = name_problem(pool, run.connection_id, &run.region, &name).await? {
        return Err(Error::invalid("name", problem));
    }
    let team = match input.team.trim() {
        "" => None,
        team => Some(
            crate::teams::find_by_name(pool, team)
                .await?
                .ok_or_else(|| Error::invalid("team", format!("there is no team named {team}")))?,
        ),
    };
    let logs = connection.logs(&run.region).await;
    let group = format!("/aws/lambda/{name}");
    let group_exists = logs
        .describe_log_groups()
        .log_group_name_prefix(&group)
        .send()
        .await
        .map(|out| out.log_groups().iter().any(|g| g.log_group_name() == Some(group.as_str())))
        .unwrap_or(false);

    // An existing role must be one the connection offers: the form's list is not a boundary.
    if input.role != "new" && !roles(&connection).await?.iter().any(|(_, arn)| *arn == input.role) {
        return Err(Error::invalid(
            "role",
            "choose one of the roles offered for this connection (they trust Lambda and an admin allows them), or create a new one",
        ));
    }
    let role_name = role_name_for(&name);
    let mut intents = Vec::new();
    if input.role == "new" {
        intents.push(Intent { kind: Kind::Role, name: role_name.clone(), parent: None });
        intents.push(Intent {
            kind: Kind::RolePolicy,
            name: BASIC_EXECUTION_POLICY.into(),
            parent: Some(role_name.clone()),
        });
    }
    intents.push(Intent { kind: Kind::Function, name: name.clone(), parent: None });
    // A log group left by an earlier function of the same name is not ours to delete.
    if !group_exists {
        intents.push(Intent { kind: Kind::LogGroup, name: group, parent: Some(name.clone()) });
    }
    let entries = begin(pool, &run, FUNCTION, &intents).await?;

    let (file, handler, source) = lab_code(&input.runtime);
    let owner_email = run.email.clone();
    let work = async {
        let role_arn = if input.role == "new" {
            create_role(&connection, &role_name, run.lab_run_id).await?
        } else {
            input.role.clone()
        };
        let lambda = connection.lambda(&run.region).await;
        let mut tags = input.tags.clone();
        tags.insert("lambdaport:owner".into(), owner_email.clone());
        tags.insert("lambdaport:lifecycle".into(), input.lifecycle.clone());
        tags.insert("lambdaport:environment".into(), input.environment.clone());
        tags.insert(RUN_TAG.into(), run.lab_run_id.to_string());
        if !input.team.trim().is_empty() {
            tags.insert("lambdaport:team".into(), input.team.trim().to_owned());
        }
        create_function(
            &lambda,
            &name,
            input,
            &role_arn,
            handler,
            one_file_zip(file, source)?,
            tags,
        )
        .await?;
        wait_ready(&lambda, &name).await?;
        Ok(role_arn)
    };
    let role_arn = act(pool, &connection, &run, FUNCTION, work).await?;

    let function_id = crate::catalog::record_created(
        pool,
        &connection,
        &run.region,
        &name,
        run.account_id,
        crate::catalog::Reads::Configuration,
    )
    .await?;
    sqlx::query!(
        "update catalog_function set team_id = $2, lifecycle = $3, environment = $4, tags = $5
         where function_id = $1",
        function_id,
        team,
        input.lifecycle,
        input.environment,
        serde_json::to_value(&input.tags).map_err(anyhow::Error::from)?
    )
    .execute(pool)
    .await?;
    // Evaluated once the catalog has the run's team, lifecycle, environment and tags.
    crate::governance::violations::refresh(
        pool,
        crate::governance::violations::Scope::Function(function_id),
    )
    .await;
    let settings = Settings {
        runtime: input.runtime.clone(),
        architecture: input.architecture.clone(),
        role_arn: role_arn.clone(),
        role_created: input.role == "new",
        team: input.team.trim().to_owned(),
        lifecycle: input.lifecycle.clone(),
        environment: input.environment.clone(),
        tags: input.tags.clone(),
        source: source.to_owned(),
        timeout_s: 3,
        memory_mb: 128,
        ..run.settings.clone()
    };
    finish(
        pool,
        actor,
        &run,
        Finish {
            entries: &entries,
            function: Some((&name, function_id)),
            ..Finish::step(
                FUNCTION,
                &settings,
                "lab.function.create",
                serde_json::json!({ "function": name, "runtime": input.runtime, "role": role_arn }),
            )
        },
    )
    .await
}

/// A role name like AWS's console makes: `<function>-role-<8 random>`, within IAM's 64.
pub(super) fn role_name_for(function: &str) -> String {
    let suffix = &Uuid::new_v4().simple().to_string()[..8];
    let stem: String = function.chars().take(64 - 6 - 8).collect();
    format!("{stem}-role-{suffix}")
}

pub(super) async fn create_role(
    connection: &Connection,
    role_name: &str,
    run: Uuid,
) -> Result<String> {
    let iam = connection.iam().await;
    let mark = aws_sdk_iam::types::Tag::builder()
        .key(RUN_TAG)
        .value(run.to_string())
        .build()
        .map_err(anyhow::Error::from)?;
    let created = iam
        .create_role()
        .role_name(role_name)
        .assume_role_policy_document(LAMBDA_TRUST_POLICY)
        .tags(mark)
        .description("Created by Lambdaport's guided lab: basic Lambda permissions (logs)")
        .send()
        .await
        .map_err(failed("IAM CreateRole"))?;
    let arn = created.role().map(|r| r.arn().to_owned()).unwrap_or_default();
    iam.attach_role_policy()
        .role_name(role_name)
        .policy_arn(BASIC_EXECUTION_POLICY)
        .send()
        .await
        .map_err(failed("IAM AttachRolePolicy"))?;
    Ok(arn)
}

pub(super) async fn create_function(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    input: &FunctionInput,
    role_arn: &str,
    handler: &str,
    zip: Vec<u8>,
    tags: BTreeMap<String, String>,
) -> Result<()> {
    use aws_sdk_lambda::types::{Architecture, FunctionCode, Runtime};
    // IAM is eventually consistent: on AWS a new role can take ~10 s before Lambda may assume it.
    for attempt in 0..15 {
        let created = lambda
            .create_function()
            .function_name(name)
            .runtime(Runtime::from(input.runtime.as_str()))
            .architectures(Architecture::from(input.architecture.as_str()))
            .role(role_arn)
            .handler(handler)
            .timeout(3)
            .memory_size(128)
            .description("Guided lab: a Function URL that answers ok")
            .code(FunctionCode::builder().zip_file(Blob::new(zip.clone())).build())
            .set_tags(Some(tags.clone().into_iter().collect()))
            .send()
            .await;
        match created {
            Ok(_) => return Ok(()),
            Err(e)
                if attempt < 14
                    && e.message().is_some_and(|m| m.contains("cannot be assumed by Lambda")) =>
            {
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            // Made by someone else since the name was checked (two creates at once).
            Err(e) if e.code() == Some("ResourceConflictException") => {
                return Err(Error::invalid(
                    "name",
                    format!("a function named {name} already exists: choose another name"),
                ));
            }
            Err(e) => return Err(failed("CreateFunction")(e)),
        }
    }
    Err(Error::Conflict("Lambda could not assume the new role; try again in a minute".into()))
}

pub(super) async fn update_function(
    pool: &PgPool,
    actor: &Actor,
    connection: &Connection,
    run: &Run,
    name: &str,
    input: &FunctionInput,
) -> Result<()> {
    let lambda = connection.lambda(&run.region).await;
    let mut settings = run.settings.clone();
    begin(pool, run, FUNCTION, &[]).await?;
    let work = async {
        if input.runtime != settings.runtime {
            let (_, handler, _) = lab_code(&input.runtime);
            let (_, old_handler, _) = lab_code(&settings.runtime);
            if handler != old_handler {
                return Err(Error::invalid(
                    "runtime",
                    "changing to another language needs new code: clean up and start a new run",
                ));
            }
            lambda
                .update_function_configuration()
                .function_name(name)
                .runtime(aws_sdk_lambda::types::Runtime::from(input.runtime.as_str()))
                .send()
                .await
                .map_err(failed("UpdateFunctionConfiguration"))?;
            wait_ready(&lambda, name).await?;
        }
        Ok(())
    };
    act(pool, connection, run, FUNCTION, work).await?;
    settings.runtime.clone_from(&input.runtime);
    settings.team = input.team.trim().to_owned();
    settings.lifecycle.clone_from(&input.lifecycle);
    settings.environment.clone_from(&input.environment);
    // The step's form showed the run's tags: what it changed is written, nothing else.
    let (tags, removed) = crate::catalog::Metadata::tag_changes(&settings.tags, input.tags.clone());
    settings.tags.clone_from(&input.tags);
    if let Some(function_id) = run.function_id {
        let detail = crate::catalog::detail(pool, function_id).await?;
        let metadata = crate::catalog::Metadata {
            owner: run.email.clone(),
            team: settings.team.clone(),
            lifecycle: settings.lifecycle.clone(),
            environment: settings.environment.clone(),
            tags,
            removed,
        };
        crate::catalog::update_metadata(pool, actor, connection, &detail, &metadata).await?;
        catalogued(pool, connection, run, name, crate::catalog::Reads::Configuration).await?;
    }
    finish(
        pool,
        actor,
        run,
        Finish::step(
            FUNCTION,
            &settings,
            "lab.function.update",
            serde_json::json!({ "runtime": input.runtime }),
        ),
    )
    .await
}
