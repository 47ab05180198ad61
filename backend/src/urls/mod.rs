//! A function's URL: its configuration (auth type, CORS, invoke mode) read from and changed in the
//! cloud, the resource policy in plain words with a linter (`policy`), an HTTP tester that signs
//! for `AWS_IAM` and reproduces its request as `curl` (`tester`), the doctor on every answer
//! (`doctor`, which the lab's step 6 shares) and a CORS preflight simulator (`cors`). Each change
//! is audited as the function's; each request is in its sender's history.

pub mod cors;
pub mod doctor;
pub mod expiry;
pub mod live;
pub mod policy;
pub mod tester;

use std::time::Duration;

use aws_sdk_lambda::types::{Cors as SdkCors, FunctionUrlAuthType, InvokeMode};
use serde_json::Value;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::audit::Actor;
use crate::catalog::{Detail, audited};
use crate::cloud::{failed, lookup};
use crate::connections::Connection;
use crate::error::{Error, Result};

use cors::Cors;
use doctor::Diagnosis;
use policy::{Finding, PolicyFix, UrlFacts};
use tester::{Exchange, HttpRequest};

/// The function's URL as the cloud has it.
#[derive(Clone, Debug, Default)]
pub struct UrlConfig {
    pub url: String,
    /// `NONE` or `AWS_IAM`.
    pub auth_type: String,
    /// `BUFFERED` or `RESPONSE_STREAM`.
    pub invoke_mode: String,
    pub cors: Option<Cors>,
    pub created: String,
}

/// The URL (if any), the function's policy statements and what the linter says of them.
#[derive(Clone, Debug, Default)]
pub struct UrlState {
    pub config: Option<UrlConfig>,
    pub statements: Vec<Value>,
    pub findings: Vec<Finding>,
}

fn cors_of(cors: Option<&SdkCors>) -> Option<Cors> {
    cors.map(|c| Cors {
        allow_origins: c.allow_origins().to_vec(),
        allow_methods: c.allow_methods().to_vec(),
        allow_headers: c.allow_headers().to_vec(),
        expose_headers: c.expose_headers().to_vec(),
        allow_credentials: c.allow_credentials().unwrap_or(false),
        max_age: c.max_age(),
    })
}

/// The URL's configuration (GetFunctionUrlConfig); none when the function has no URL.
pub async fn config(lambda: &aws_sdk_lambda::Client, detail: &Detail) -> Result<Option<UrlConfig>> {
    let out = lookup(
        "GetFunctionUrlConfig",
        lambda.get_function_url_config().function_name(&detail.arn).send().await,
    )?;
    Ok(out.map(|out| UrlConfig {
        url: out.function_url().to_owned(),
        auth_type: out.auth_type().as_str().to_owned(),
        invoke_mode: out.invoke_mode().map_or("BUFFERED", |m| m.as_str()).to_owned(),
        cors: cors_of(out.cors()),
        created: out.creation_time().to_owned(),
    }))
}

/// Reads the URL and the policy, and lints them.
pub async fn read(connection: &Connection, detail: &Detail) -> Result<UrlState> {
    let lambda = connection.lambda(&detail.entry.region).await;
    let config = config(&lambda, detail).await?;
    let statements = policy::statements(&lambda, &detail.arn).await?;
    let facts = config.as_ref().map(|c| UrlFacts {
        auth_type: c.auth_type.clone(),
        cors_origins: c.cors.as_ref().map(|c| c.allow_origins.clone()).unwrap_or_default(),
        cors_credentials: c.cors.as_ref().is_some_and(|c| c.allow_credentials),
    });
    let findings = policy::lint(facts.as_ref(), &statements);
    Ok(UrlState { config, statements, findings })
}

/// What the URL is to become.
#[derive(Clone, Debug, Default)]
pub struct UrlInput {
    pub auth_type: String,
    /// For a public URL: minutes until the sweeper switches it off, or `None` for never.
    pub expires_in_minutes: Option<i64>,
    pub invoke_mode: String,
    /// None: no CORS configuration.
    pub cors: Option<Cors>,
}

const HTTP_METHODS: &[&str] = &["GET", "PUT", "HEAD", "POST", "PATCH", "DELETE", "*"];

impl UrlInput {
    pub fn validate(&self) -> Result<()> {
        if !["NONE", "AWS_IAM"].contains(&self.auth_type.as_str()) {
            return Err(Error::invalid("auth_type", "NONE or AWS_IAM"));
        }
        if let Some(minutes) = self.expires_in_minutes {
            if self.auth_type != "NONE" {
                return Err(Error::invalid(
                    "expires_in_minutes",
                    "only a public (NONE) URL expires; leave it empty for AWS_IAM",
                ));
            }
            if !(1..=525_600).contains(&minutes) {
                return Err(Error::invalid("expires_in_minutes", "from 1 minute to a year"));
            }
        }
        if !["BUFFERED", "RESPONSE_STREAM"].contains(&self.invoke_mode.as_str()) {
            return Err(Error::invalid("invoke_mode", "BUFFERED or RESPONSE_STREAM"));
        }
        let Some(cors) = &self.cors else { return Ok(()) };
        for origin in &cors.allow_origins {
            let bare = origin.trim_start_matches("http://").trim_start_matches("https://");
            if origin != "*"
                && (!(origin.starts_with("http://") || origin.starts_with("https://"))
                    || bare.is_empty()
                    || bare.contains('/'))
            {
                return Err(Error::invalid(
                    "allow_origins",
                    format!("{origin} is not an origin: write https://example.com (no path), or *"),
                ));
            }
        }
        if let Some(method) =
            cors.allow_methods.iter().find(|m| !HTTP_METHODS.contains(&m.as_str()))
        {
            return Err(Error::invalid(
                "allow_methods",
                format!("{method} is not one of {}", HTTP_METHODS.join(", ")),
            ));
        }
        for header in cors.allow_headers.iter().chain(&cors.expose_headers) {
            if header != "*"
                && (header.is_empty()
                    || header.len() > 1024
                    || !header.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b)))
            {
                return Err(Error::invalid(
                    "allow_headers",
                    format!("{header:?} is not a header name"),
                ));
            }
        }
        if cors.max_age.is_some_and(|age| !(0..=86_400).contains(&age)) {
            return Err(Error::invalid("max_age", "between 0 and 86400 seconds"));
        }
        if cors.allow_credentials && cors.allow_origins.iter().any(|o| o == "*") {
            return Err(Error::invalid(
                "allow_origins",
                "browsers refuse credentials with the origin *: name the origins, or turn off credentials",
            ));
        }
        Ok(())
    }

    fn sdk_cors(&self) -> SdkCors {
        let Some(cors) = &self.cors else { return SdkCors::builder().build() };
        let some = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
        SdkCors::builder()
            .set_allow_origins(some(&cors.allow_origins))
            .set_allow_methods(some(&cors.allow_methods))
            .set_allow_headers(some(&cors.allow_headers))
            .set_expose_headers(some(&cors.expose_headers))
            .set_allow_credentials(cors.allow_credentials.then_some(true))
            .set_max_age(cors.max_age)
            .build()
    }
}

async fn record_url(pool: &PgPool, detail: &Detail, config: Option<(&str, &str)>) -> Result<()> {
    sqlx::query!(
        "update catalog_function set url = $2, url_auth_type = $3, updated_at = now()
         where function_id = $1",
        detail.entry.function_id,
        config.map(|c| c.0),
        config.map(|c| c.1),
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Creates or changes the URL; for `NONE`, adds whichever public statements are missing.
/// Returns the URL.
pub async fn save(
    pool: &PgPool,
    actor: &Actor,
    connection: &Connection,
    detail: &Detail,
    input: &UrlInput,
) -> Result<String> {
    input.validate()?;
    // The platform team's rules, before any cloud call: e.g. no public URL in production.
    let mut candidate = crate::governance::candidate_of(detail);
    candidate.url = Some(crate::governance::UrlCandidate {
        auth_type: input.auth_type.clone(),
        cors_allow_origins: input
            .cors
            .as_ref()
            .map(|c| c.allow_origins.clone())
            .unwrap_or_default(),
        expires_in_minutes: input.expires_in_minutes,
    });
    crate::governance::enforce(
        pool,
        &candidate,
        crate::governance::Action::Update,
        Some(detail.entry.function_id),
        &["url", "cors"],
        |field| if field == "cors" { "allow_origins" } else { "auth_type" },
    )
    .await?;
    let lambda = connection.lambda(&detail.entry.region).await;
    let existing = config(&lambda, detail).await?;
    let auth = FunctionUrlAuthType::from(input.auth_type.as_str());
    let mode = InvokeMode::from(input.invoke_mode.as_str());
    let url = match &existing {
        None => lambda
            .create_function_url_config()
            .function_name(&detail.arn)
            .auth_type(auth)
            .invoke_mode(mode)
            .set_cors(input.cors.is_some().then(|| input.sdk_cors()))
            .send()
            .await
            .map(|out| out.function_url().to_owned())
            .map_err(failed("CreateFunctionUrlConfig"))?,
        Some(_) => lambda
            .update_function_url_config()
            .function_name(&detail.arn)
            .auth_type(auth)
            .invoke_mode(mode)
            .cors(input.sdk_cors())
            .send()
            .await
            .map(|out| out.function_url().to_owned())
            .map_err(failed("UpdateFunctionUrlConfig"))?,
    };
    let mut added = Vec::new();
    if input.auth_type == "NONE" {
        added = add_missing(&lambda, detail).await?;
    }
    record_url(pool, detail, Some((&url, &input.auth_type))).await?;
    sqlx::query!(
        "update catalog_function
         set url_expires_at = now() + make_interval(mins => $2::int), url_expired_at = null,
             url_expired_action = null
         where function_id = $1",
        detail.entry.function_id,
        input.expires_in_minutes.map(|m| i32::try_from(m).unwrap_or(i32::MAX)),
    )
    .execute(pool)
    .await?;
    audited(
        pool,
        actor,
        detail,
        if existing.is_none() { "function.create_url" } else { "function.update_url" },
        serde_json::json!({
            "url": url, "auth_type": input.auth_type, "invoke_mode": input.invoke_mode,
            "cors": input.cors.as_ref().map(|c| serde_json::json!({
                "allow_origins": c.allow_origins, "allow_methods": c.allow_methods,
                "allow_headers": c.allow_headers, "expose_headers": c.expose_headers,
                "allow_credentials": c.allow_credentials, "max_age": c.max_age })),
            "statements_added": added,
            "expires_in_minutes": input.expires_in_minutes,
        }),
    )
    .await?;
    Ok(url)
}

/// Adds whichever of the two public statements are missing; returns their Sids.
async fn add_missing(
    lambda: &aws_sdk_lambda::Client,
    detail: &Detail,
) -> Result<Vec<&'static str>> {
    let present = policy::statements(lambda, &detail.arn).await?;
    let taken = |sid: &str| present.iter().any(|s| s["Sid"] == sid);
    let mut added = Vec::new();
    for sid in policy::missing_statements(&present) {
        if taken(sid) {
            return Err(Error::Conflict(format!(
                "the policy has a statement {sid} that does not allow what a public URL needs: remove it first"
            )));
        }
        policy::add_statement(lambda, &detail.arn, sid).await?;
        added.push(sid);
    }
    Ok(added)
}

/// Deletes the URL and, when asked, the public statements it needed.
pub async fn delete(
    pool: &PgPool,
    actor: &Actor,
    connection: &Connection,
    detail: &Detail,
    remove_statements: bool,
) -> Result<()> {
    let lambda = connection.lambda(&detail.entry.region).await;
    lambda
        .delete_function_url_config()
        .function_name(&detail.arn)
        .send()
        .await
        .map_err(failed("DeleteFunctionUrlConfig"))?;
    let removed = if remove_statements {
        remove_public_statements(&lambda, detail).await?
    } else {
        Vec::new()
    };
    record_url(pool, detail, None).await?;
    audited(
        pool,
        actor,
        detail,
        "function.delete_url",
        serde_json::json!({ "statements_removed": removed }),
    )
    .await
}

/// Removes the two statements a public URL needs; returns the Sids removed.
async fn remove_public_statements(
    lambda: &aws_sdk_lambda::Client,
    detail: &Detail,
) -> Result<Vec<String>> {
    let mut removed = Vec::new();
    for statement in policy::statements(lambda, &detail.arn).await? {
        let sid = statement["Sid"].as_str().unwrap_or_default();
        if [policy::URL_STATEMENT, policy::INVOKE_STATEMENT].contains(&sid) {
            remove(lambda, detail, sid).await?;
            removed.push(sid.to_owned());
        }
    }
    Ok(removed)
}

async fn remove(lambda: &aws_sdk_lambda::Client, detail: &Detail, sid: &str) -> Result<()> {
    lambda
        .remove_permission()
        .function_name(&detail.arn)
        .statement_id(sid)
        .send()
        .await
        .map_err(failed(&format!("RemovePermission {sid}")))?;
    Ok(())
}

/// Applies a fix the linter offered.
pub async fn fix(
    pool: &PgPool,
    actor: &Actor,
    connection: &Connection,
    detail: &Detail,
    fix: &PolicyFix,
) -> Result<()> {
    let lambda = connection.lambda(&detail.entry.region).await;
    let what = match fix {
        PolicyFix::AddStatements => {
            serde_json::json!({ "statements_added": add_missing(&lambda, detail).await? })
        }
        PolicyFix::Remove(sid) => {
            remove(&lambda, detail, sid).await?;
            serde_json::json!({ "statement_removed": sid })
        }
    };
    audited(pool, actor, detail, "function.fix_url_policy", what).await
}

/// What a test request got: the exchange, the doctor's word, and the curl that reproduces it.
#[derive(Clone, Debug)]
pub struct Sent {
    pub exchange: Exchange,
    pub diagnosis: Option<Diagnosis>,
    pub curl: String,
}

/// Sends a request to the function's URL (signed when it is `AWS_IAM`), asks the doctor about
/// any 403, 429, 5xx or missing answer, and keeps it in the sender's history.
pub async fn send(
    pool: &PgPool,
    account_id: Uuid,
    connection: &Connection,
    detail: &Detail,
    request: &HttpRequest,
) -> Result<Sent> {
    send_heard(pool, account_id, connection, detail, request, &live::Ear::default()).await
}

/// [`send`], telling `ear` the status line and each chunk as they arrive.
pub async fn send_heard(
    pool: &PgPool,
    account_id: Uuid,
    connection: &Connection,
    detail: &Detail,
    request: &HttpRequest,
    ear: &live::Ear,
) -> Result<Sent> {
    request.validate()?;
    let lambda = connection.lambda(&detail.entry.region).await;
    let url = config(&lambda, detail)
        .await?
        .ok_or_else(|| Error::Conflict("the function has no URL: create it above first".into()))?;
    // The tester only ever calls Function URLs (`<id>.lambda-url.<region>.on.aws`, the engine's
    // `….localhost`), whatever the cloud answered: it is not a proxy to anywhere else.
    let host = reqwest::Url::parse(&url.url).ok().and_then(|u| u.host_str().map(str::to_owned));
    if !host.is_some_and(|h| h.contains(".lambda-url.")) {
        return Err(Error::Refused(format!("{} is not a Function URL", url.url)));
    }
    let sign = url.auth_type == "AWS_IAM";
    let timeout_s = detail.timeout_s.unwrap_or(3);
    let wait = Duration::from_secs(u64::try_from(timeout_s.max(1)).unwrap_or(3) + 5);
    let exchange =
        tester::send(connection, &detail.entry.region, &url.url, request, sign, wait, ear).await?;
    let context =
        doctor::Context { function: &detail.arn, timeout_s, event: request.event(), signed: sign };
    let diagnosis = doctor::diagnose(&lambda, &context, &exchange.call).await?;
    let curl = tester::curl(&url.url, request, sign.then_some(detail.entry.region.as_str()));
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "insert into url_request (function_id, account_id, request, status, millis)
         values ($1, $2, $3, $4, $5)",
        detail.entry.function_id,
        account_id,
        serde_json::to_value(request).map_err(anyhow::Error::from)?,
        i32::from(exchange.call.status),
        i64::try_from(exchange.call.millis).unwrap_or(i64::MAX),
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "delete from url_request where url_request_id in (
             select url_request_id from url_request where function_id = $1 and account_id = $2
             order by sent_at desc offset 50)",
        detail.entry.function_id,
        account_id,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Sent { exchange, diagnosis, curl })
}

/// A request in a user's history.
#[derive(Clone, Debug)]
pub struct Past {
    pub url_request_id: Uuid,
    pub request: HttpRequest,
    pub status: u16,
    pub millis: u64,
    pub sent_at: OffsetDateTime,
}

/// The user's last requests to the function's URL, newest first.
pub async fn history(pool: &PgPool, account_id: Uuid, function_id: Uuid) -> Result<Vec<Past>> {
    let rows = sqlx::query!(
        "select url_request_id, request, status, millis, sent_at from url_request
         where function_id = $1 and account_id = $2 order by sent_at desc limit 50",
        function_id,
        account_id,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Past {
            url_request_id: r.url_request_id,
            request: serde_json::from_value(r.request).unwrap_or_default(),
            status: u16::try_from(r.status).unwrap_or(0),
            millis: u64::try_from(r.millis).unwrap_or(0),
            sent_at: r.sent_at,
        })
        .collect())
}
