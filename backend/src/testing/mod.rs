//! Testing a function from its Test tab: templates in the shapes AWS sends, saved test events
//! (private, or shared with everyone who may read the function; each change keeps the previous
//! version), and invoking with one (`invoke`: the result, the REPORT line's numbers, the log tail,
//! and a history of every test invocation to replay).

mod invoke;
pub mod share;

pub use invoke::*;

use model::InvocationType;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::accounts::{Account, Role};
use crate::audit::{self, Actor};
use crate::catalog::Detail;
use crate::error::{Error, Result};

/// A test event template: a name as the Lambda console and `sam local generate-event` name it,
/// what it is, and its JSON. The JSON comes from AWS's published samples (see
/// `templates/SOURCES.md`), so a handler tested with one sees what the service sends.
#[derive(Clone, Copy, Debug)]
pub struct Template {
    pub name: &'static str,
    pub label: &'static str,
    pub json: &'static str,
}

macro_rules! templates {
    ($($name:literal => $label:literal),+ $(,)?) => {
        &[$(Template {
            name: $name,
            label: $label,
            json: include_str!(concat!("templates/", $name, ".json")),
        }),+]
    };
}

/// Every template, the console's default first.
pub const TEMPLATES: &[Template] = templates![
    "hello-world" => "Hello world (the Lambda console's default)",
    "apigateway-aws-proxy" => "API Gateway REST API proxy",
    "apigateway-http-api-proxy" => "API Gateway HTTP API proxy (payload 2.0)",
    "function-url" => "Function URL request",
    "alb-request" => "Application Load Balancer request",
    "s3-put" => "S3 object created (put)",
    "s3-delete" => "S3 object deleted",
    "sqs-receive-message" => "SQS messages",
    "sns-notification" => "SNS notification",
    "eventbridge" => "EventBridge event",
    "cloudwatch-scheduled-event" => "EventBridge scheduled event",
    "dynamodb-update" => "DynamoDB stream records",
    "kinesis-get-records" => "Kinesis stream records",
    "cloudfront-modify-querystring" => "CloudFront viewer request (Lambda@Edge)",
    "cognito-pre-signup" => "Cognito user pool pre sign-up trigger",
];

/// The template called `name`.
pub fn template(name: &str) -> Option<&'static Template> {
    TEMPLATES.iter().find(|t| t.name == name)
}

/// The largest test event kept (Lambda takes 6 MB synchronously; a test event is for people).
pub const MAX_EVENT_BYTES: usize = 256 * 1024;

/// A saved test event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestEvent {
    pub test_event_id: Uuid,
    pub name: String,
    pub owner: String,
    pub mine: bool,
    pub shared: bool,
    pub invocation_type: InvocationType,
    pub qualifier: Option<String>,
    /// The tenant it is sent for (a tenant-isolated function needs one).
    pub tenant_id: Option<String>,
    pub payload: String,
    pub updated_at: OffsetDateTime,
    /// How many earlier versions are kept.
    pub versions: i64,
}

/// A test event as a form or the REST API sends it.
#[derive(Clone, Debug)]
pub struct EventInput {
    pub name: String,
    pub shared: bool,
    pub invocation_type: InvocationType,
    pub qualifier: Option<String>,
    pub tenant_id: Option<String>,
    pub payload: String,
}

/// Checks an event's payload: JSON of at most [`MAX_EVENT_BYTES`], with where it is wrong.
pub fn check_payload(payload: &str) -> Result<()> {
    if payload.len() > MAX_EVENT_BYTES {
        return Err(Error::invalid("payload", "the event is larger than 256 KB"));
    }
    serde_json::from_str::<serde_json::Value>(payload).map(|_| ()).map_err(|e| {
        Error::invalid(
            "payload",
            format!("not JSON: {e} (line {}, column {})", e.line(), e.column()),
        )
    })
}

/// Checks a qualifier: a version number or an alias name (`$LATEST` too).
pub fn check_qualifier(qualifier: Option<&str>) -> Result<()> {
    let ok = qualifier.is_none_or(|q| {
        q == "$LATEST"
            || (!q.is_empty()
                && q.len() <= 128
                && q.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    });
    if ok {
        Ok(())
    } else {
        Err(Error::invalid("qualifier", "a version number or an alias name, e.g. 3 or live"))
    }
}

/// Checks a tenant id as Lambda takes it: 1 to 256 printable ASCII characters.
pub fn check_tenant(tenant_id: Option<&str>) -> Result<()> {
    let ok = tenant_id
        .is_none_or(|t| (1..=256).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_graphic()));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid("tenant_id", "1 to 256 printable characters without spaces, e.g. blue"))
    }
}

impl EventInput {
    fn check(&self) -> Result<()> {
        let name = &self.name;
        if name.is_empty()
            || name.len() > 25
            || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(Error::invalid(
                "name",
                "1 to 25 letters, digits, '-' or '_', as the Lambda console allows",
            ));
        }
        check_qualifier(self.qualifier.as_deref())?;
        check_tenant(self.tenant_id.as_deref())?;
        check_payload(&self.payload)
    }
}

/// The test events `account` sees for a function: their own, and the shared ones, by name.
pub async fn list(pool: &PgPool, account: &Account, function_id: Uuid) -> Result<Vec<TestEvent>> {
    let rows = sqlx::query!(
        r#"select e.test_event_id, e.name, a.email as owner, e.owner_id = $2 as "mine!", e.shared,
                  e.invocation_type as "invocation_type: InvocationType", e.qualifier,
                  e.tenant_id, e.payload, e.updated_at,
                  (select count(*) from test_event_version v
                   where v.test_event_id = e.test_event_id) as "versions!"
           from test_event e join account a on a.account_id = e.owner_id
           where e.function_id = $1 and (e.owner_id = $2 or e.shared)
           order by e.name, e.shared"#,
        function_id,
        account.account_id
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| TestEvent {
            test_event_id: r.test_event_id,
            name: r.name,
            owner: r.owner,
            mine: r.mine,
            shared: r.shared,
            invocation_type: r.invocation_type,
            qualifier: r.qualifier,
            tenant_id: r.tenant_id,
            payload: r.payload,
            updated_at: r.updated_at,
            versions: r.versions,
        })
        .collect())
}

/// One test event `account` sees (their own, or a shared one).
pub async fn get(
    pool: &PgPool,
    account: &Account,
    function_id: Uuid,
    id: Uuid,
) -> Result<TestEvent> {
    list(pool, account, function_id)
        .await?
        .into_iter()
        .find(|e| e.test_event_id == id)
        .ok_or(Error::NotFound("test event"))
}

/// Saves a new test event, or (with `id`) a new version of one its owner (or an admin) changes;
/// the version it replaces is kept. Audited without the payload.
pub async fn save(
    pool: &PgPool,
    actor: &Actor,
    account: &Account,
    detail: &Detail,
    id: Option<Uuid>,
    input: &EventInput,
) -> Result<Uuid> {
    input.check()?;
    let mut tx = pool.begin().await?;
    let id = save_in(&mut tx, actor, account, detail, id, input).await?;
    tx.commit().await?;
    Ok(id)
}

/// [`save`] within a transaction, `input` already checked.
async fn save_in(
    tx: &mut sqlx::PgConnection,
    actor: &Actor,
    account: &Account,
    detail: &Detail,
    id: Option<Uuid>,
    input: &EventInput,
) -> Result<Uuid> {
    let function_id = detail.entry.function_id;
    let taken = || {
        Error::invalid(
            "name",
            "a test event of yours, or a shared one, already has this name: choose another",
        )
    };
    let id = match id {
        None => sqlx::query_scalar!(
            "insert into test_event (function_id, owner_id, name, shared, invocation_type, qualifier,
                                     tenant_id, payload)
             values ($1, $2, $3, $4, $5, $6, $7, $8) returning test_event_id",
            function_id,
            account.account_id,
            input.name,
            input.shared,
            input.invocation_type as InvocationType,
            input.qualifier,
            input.tenant_id,
            input.payload
        )
        .fetch_one(&mut *tx)
        .await
        .on_unique(taken)?,
        Some(id) => {
            let before = sqlx::query!(
                "select owner_id, payload, invocation_type, qualifier, tenant_id from test_event
                 where test_event_id = $1 and function_id = $2 for update",
                id,
                function_id
            )
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(Error::NotFound("test event"))?;
            if before.owner_id != account.account_id && account.role != Role::Admin {
                return Err(Error::Refused(
                    "only its owner changes a shared test event: save it under another name"
                        .to_owned(),
                ));
            }
            sqlx::query!(
                "insert into test_event_version (test_event_id, payload, invocation_type, qualifier,
                                                 tenant_id, replaced_by)
                 values ($1, $2, $3, $4, $5, $6)",
                id,
                before.payload,
                before.invocation_type,
                before.qualifier,
                before.tenant_id,
                account.account_id
            )
            .execute(&mut *tx)
            .await?;
            sqlx::query!(
                "update test_event set name = $2, shared = $3, invocation_type = $4, qualifier = $5,
                        tenant_id = $6, payload = $7, updated_at = now()
                 where test_event_id = $1",
                id,
                input.name,
                input.shared,
                input.invocation_type as InvocationType,
                input.qualifier,
                input.tenant_id,
                input.payload
            )
            .execute(&mut *tx)
            .await
            .on_unique(taken)?;
            id
        }
    };
    audit::record(
        &mut *tx,
        actor,
        "function.save_test_event",
        &format!("function:{}", detail.entry.name),
        serde_json::json!({ "name": input.name, "shared": input.shared,
                            "invocation_type": input.invocation_type }),
    )
    .await?;
    Ok(id)
}

/// Imports `events` (from [`share::parse`]) as the caller's: each one whose name the caller
/// already uses becomes a new version of theirs when `replace` (keeping its sharing), else nothing
/// is imported and the error names it. All or nothing.
pub async fn import(
    pool: &PgPool,
    actor: &Actor,
    account: &Account,
    detail: &Detail,
    events: &[EventInput],
    replace: bool,
) -> Result<Vec<Uuid>> {
    for input in events {
        input.check().map_err(|e| match e {
            Error::Validation { field, message } => {
                Error::invalid(field, format!("event {:?}: {message}", input.name))
            }
            other => other,
        })?;
    }
    let mut tx = pool.begin().await?;
    let mut saved = Vec::with_capacity(events.len());
    for input in events {
        let existing = sqlx::query!(
            "select test_event_id, shared from test_event
             where function_id = $1 and owner_id = $2 and name = $3",
            detail.entry.function_id,
            account.account_id,
            input.name
        )
        .fetch_optional(&mut *tx)
        .await?;
        let input = match &existing {
            None => input.clone(),
            Some(_) if !replace => {
                return Err(Error::Conflict(format!(
                    "you already have a test event called {}: tick 'Replace events with the same name' to keep the imported one as its new version",
                    input.name
                )));
            }
            // A replaced event keeps its sharing; `shared` is for the new ones.
            Some(row) => EventInput { shared: row.shared, ..input.clone() },
        };
        let id = existing.map(|row| row.test_event_id);
        saved.push(save_in(&mut tx, actor, account, detail, id, &input).await?);
    }
    tx.commit().await?;
    Ok(saved)
}

/// Deletes a test event (its owner, or an admin), with its versions. Audited.
pub async fn delete(
    pool: &PgPool,
    actor: &Actor,
    account: &Account,
    detail: &Detail,
    id: Uuid,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    let name = sqlx::query_scalar!(
        "delete from test_event
         where test_event_id = $1 and function_id = $2 and (owner_id = $3 or $4)
         returning name",
        id,
        detail.entry.function_id,
        account.account_id,
        account.role == Role::Admin
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotFound("test event of yours"))?;
    audit::record(
        &mut tx,
        actor,
        "function.delete_test_event",
        &format!("function:{}", detail.entry.name),
        serde_json::json!({ "name": name }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Maps a unique-constraint violation to `error`.
trait OnUnique<T> {
    fn on_unique(self, error: impl FnOnce() -> Error) -> Result<T>;
}

impl<T> OnUnique<T> for std::result::Result<T, sqlx::Error> {
    fn on_unique(self, error: impl FnOnce() -> Error) -> Result<T> {
        self.map_err(|e| match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => error(),
            _ => e.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_is_json_and_named_once() {
        let mut names = std::collections::BTreeSet::new();
        for t in TEMPLATES {
            assert!(names.insert(t.name), "{} twice", t.name);
            assert!(check_payload(t.json).is_ok(), "{}", t.name);
            assert!(!t.json.contains("{{"), "{}: an unrendered placeholder", t.name);
        }
        let url: serde_json::Value =
            serde_json::from_str(template("function-url").expect("url").json).expect("json");
        assert_eq!(url["version"], "2.0", "the Function URL payload is version 2.0");
        assert!(url["requestContext"]["http"]["method"].is_string());
        let s3: serde_json::Value =
            serde_json::from_str(template("s3-put").expect("s3").json).expect("json");
        assert_eq!(s3["Records"][0]["eventSource"], "aws:s3");
    }

    #[test]
    fn events_are_checked_before_they_are_kept() {
        let good = EventInput {
            name: "order-created_1".into(),
            shared: false,
            invocation_type: InvocationType::RequestResponse,
            qualifier: None,
            tenant_id: None,
            payload: "{\"id\": 1}".into(),
        };
        assert!(good.check().is_ok());
        let field = |input: EventInput| match input.check() {
            Err(Error::Validation { field, .. }) => field,
            other => panic!("expected a validation error, got {other:?}"),
        };
        assert_eq!(field(EventInput { name: "has space".into(), ..good.clone() }), "name");
        assert_eq!(field(EventInput { name: "x".repeat(26), ..good.clone() }), "name");
        assert_eq!(field(EventInput { payload: "{\"id\": }".into(), ..good.clone() }), "payload");
        assert_eq!(
            field(EventInput { qualifier: Some("../x".into()), ..good.clone() }),
            "qualifier"
        );
        assert_eq!(
            field(EventInput { tenant_id: Some("has space".into()), ..good.clone() }),
            "tenant_id"
        );
        assert_eq!(
            field(EventInput { tenant_id: Some(String::new()), ..good.clone() }),
            "tenant_id"
        );
        assert!(EventInput { tenant_id: Some("blue".into()), ..good.clone() }.check().is_ok());
        let big = format!("\"{}\"", "a".repeat(MAX_EVENT_BYTES));
        assert_eq!(field(EventInput { payload: big, ..good }), "payload");
    }
}
