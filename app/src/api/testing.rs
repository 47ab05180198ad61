//! The Test tab: templates, saved test events, invoking with one, and the history of test
//! invocations with replay. Reading is for everyone who may read the function; invoking and
//! saving for those who may change it (owners, their team, admins).

use leptos::prelude::*;

use crate::error::ApiError;
use crate::forms::TestEventForm;
use crate::types::{TestOutcome, TestTabView};

/// The Test tab for a function, its editor filled from `template`, saved `event` or the past
/// invocation `replay` (ids), else the first template.
#[server(endpoint = "test_tab")]
pub async fn test_tab(
    function_id: String,
    template: Option<String>,
    event: Option<String>,
    replay: Option<String>,
) -> Result<TestTabView, ApiError> {
    use super::ssr::*;
    use backend::accounts::Role;
    use backend::testing;
    let result = async {
        let account = require(Role::ALL)?;
        let pool = &context()?.pool;
        let detail = super::catalog::ssr::readable(pool, &account, &function_id).await?;
        let can_invoke = backend::catalog::may_edit(pool, &account, &detail).await.map_err(fail)?;
        let function = detail.entry.function_id;
        let events = testing::list(pool, &account, function).await.map_err(fail)?;
        let history = testing::history(pool, function, 25).await.map_err(fail)?;
        let present =
            |v: &Option<String>| v.as_deref().filter(|v| !v.is_empty()).map(str::to_owned);
        let request = |payload: String| crate::types::TestEditor {
            invocation_type: "RequestResponse".to_owned(),
            payload,
            ..Default::default()
        };
        let editor = if let Some(id) = present(&event) {
            let id = backend::input::id("event", &id).map_err(fail)?;
            let e = events
                .iter()
                .find(|e| e.test_event_id == id)
                .ok_or_else(|| ApiError::NotFound("test event".to_owned()))?;
            crate::types::TestEditor {
                // Someone else's shared event is saved as a new one of the caller's.
                test_event_id: e.mine.then(|| e.test_event_id.to_string()),
                name: e.name.clone(),
                shared: e.shared,
                invocation_type: e.invocation_type.to_string(),
                qualifier: e.qualifier.clone().unwrap_or_default(),
                tenant_id: e.tenant_id.clone().unwrap_or_default(),
                payload: e.payload.clone(),
                source: if e.mine {
                    format!("your event {}", e.name)
                } else {
                    format!("{}'s shared event {}", e.owner, e.name)
                },
            }
        } else if let Some(id) = present(&replay) {
            let id = backend::input::id("replay", &id).map_err(fail)?;
            let sent = testing::recorded(pool, function, id).await.map_err(fail)?;
            crate::types::TestEditor {
                invocation_type: sent.invocation_type.to_string(),
                qualifier: sent.qualifier.unwrap_or_default(),
                tenant_id: sent.tenant_id.unwrap_or_default(),
                source: "an earlier invocation".to_owned(),
                ..request(sent.payload)
            }
        } else {
            let name = present(&template).unwrap_or_else(|| "hello-world".to_owned());
            let t = testing::template(&name)
                .ok_or_else(|| ApiError::NotFound(format!("template {name}")))?;
            crate::types::TestEditor {
                source: format!("the template {}", t.name),
                ..request(t.json.to_owned())
            }
        };
        Ok(TestTabView {
            can_invoke,
            templates: testing::TEMPLATES
                .iter()
                .map(|t| (t.name.to_owned(), t.label.to_owned()))
                .collect(),
            events: events.into_iter().map(ssr::event_view).collect(),
            history: history.into_iter().map(ssr::invocation_view).collect(),
            editor,
        })
    }
    .await;
    settle(result, |_| None).await
}

/// Invokes with the editor's event (`intent=invoke`) or saves it (`intent=save`).
#[server(endpoint = "run_test_event")]
pub async fn run_test_event(
    #[server(flatten)] form: TestEventForm,
) -> Result<TestOutcome, ApiError> {
    use super::ssr::*;
    use backend::accounts::Role;
    use backend::testing;
    let result = async {
        let account = require(Role::ALL)?;
        let pool = &context()?.pool;
        let (detail, connection) =
            super::catalog::ssr::editable(pool, &account, &form.function_id).await?;
        let invocation_type: model::InvocationType =
            form.invocation_type.parse().map_err(|e: model::Unknown| ApiError::Validation {
                field: "invocation_type".to_owned(),
                message: e.to_string(),
            })?;
        let qualifier = form.qualifier.clone().filter(|q| !q.trim().is_empty());
        let tenant_id =
            form.tenant_id.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned);
        let existing = match form.test_event_id.as_deref().filter(|v| !v.is_empty()) {
            Some(id) => Some(backend::input::id("test_event_id", id).map_err(fail)?),
            None => None,
        };
        match form.intent.as_str() {
            "save" => {
                let input = testing::EventInput {
                    name: form.name.clone().unwrap_or_default().trim().to_owned(),
                    shared: form.shared.as_deref() == Some("yes"),
                    invocation_type,
                    qualifier,
                    tenant_id,
                    payload: form.payload.clone(),
                };
                let id = testing::save(pool, &actor(&account), &account, &detail, existing, &input)
                    .await
                    .map_err(fail)?;
                Ok(TestOutcome { saved: Some(id.to_string()), invocation: None })
            }
            "invoke" => {
                let invocation = testing::Invocation {
                    payload: form.payload.clone(),
                    invocation_type,
                    qualifier,
                    tenant_id,
                    test_event_id: existing,
                };
                let outcome = testing::invoke(
                    pool,
                    &actor(&account),
                    &account,
                    &connection,
                    &detail,
                    &invocation,
                )
                .await
                .map_err(fail)?;
                Ok(TestOutcome { saved: None, invocation: Some(ssr::invocation_view(outcome)) })
            }
            _ => Err(ApiError::Validation {
                field: "intent".to_owned(),
                message: "press Test or Save".to_owned(),
            }),
        }
    }
    .await;
    settle(result, |o| {
        Some(match &o.invocation {
            Some(i) => crate::types::invocation_summary(i),
            None => "Test event saved".to_owned(),
        })
    })
    .await
}

/// Sends a past test invocation's event again, as it was sent.
#[server(endpoint = "replay_test_invocation")]
pub async fn replay_test_invocation(
    function_id: String,
    test_invocation_id: String,
) -> Result<TestOutcome, ApiError> {
    use super::ssr::*;
    use backend::accounts::Role;
    let result = async {
        let account = require(Role::ALL)?;
        let pool = &context()?.pool;
        let (detail, connection) =
            super::catalog::ssr::editable(pool, &account, &function_id).await?;
        let id = backend::input::id("test_invocation_id", &test_invocation_id).map_err(fail)?;
        let sent =
            backend::testing::recorded(pool, detail.entry.function_id, id).await.map_err(fail)?;
        let outcome =
            backend::testing::invoke(pool, &actor(&account), &account, &connection, &detail, &sent)
                .await
                .map_err(fail)?;
        Ok(TestOutcome { saved: None, invocation: Some(ssr::invocation_view(outcome)) })
    }
    .await;
    settle(result, |o| o.invocation.as_ref().map(crate::types::invocation_summary)).await
}

/// Deletes one of the caller's test events (admins: anyone's).
#[server(endpoint = "delete_test_event")]
pub async fn delete_test_event(function_id: String, test_event_id: String) -> Result<(), ApiError> {
    use super::ssr::*;
    use backend::accounts::Role;
    let result = async {
        let account = require(Role::ALL)?;
        let pool = &context()?.pool;
        let (detail, _) = super::catalog::ssr::editable(pool, &account, &function_id).await?;
        let id = backend::input::id("test_event_id", &test_event_id).map_err(fail)?;
        backend::testing::delete(pool, &actor(&account), &account, &detail, id).await.map_err(fail)
    }
    .await;
    settle(result, |()| Some("Test event deleted".to_owned())).await
}

/// Imports a shareable test event document (the Lambda console's and `sam remote test-event`'s
/// format) as the caller's events: shared when `shared` is `yes`; an event named like one of the
/// caller's replaces it (as a new version) when `replace` is `yes`, else nothing is imported.
#[server(endpoint = "import_test_events")]
pub async fn import_test_events(
    function_id: String,
    document: String,
    shared: Option<String>,
    replace: Option<String>,
) -> Result<usize, ApiError> {
    use super::ssr::*;
    use backend::accounts::Role;
    use backend::testing;
    let result = async {
        let account = require(Role::ALL)?;
        let pool = &context()?.pool;
        let (detail, _) = super::catalog::ssr::editable(pool, &account, &function_id).await?;
        let events =
            testing::share::parse(&document, shared.as_deref() == Some("yes")).map_err(fail)?;
        let replace = replace.as_deref() == Some("yes");
        let saved = testing::import(pool, &actor(&account), &account, &detail, &events, replace)
            .await
            .map_err(fail)?;
        Ok(saved.len())
    }
    .await;
    settle(result, |n| Some(imported(*n))).await
}

/// What an import says it did.
pub fn imported(n: usize) -> String {
    match n {
        1 => "Imported 1 test event".to_owned(),
        n => format!("Imported {n} test events"),
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use crate::types::{InvocationView, TestEventView};

    pub fn event_view(e: backend::testing::TestEvent) -> TestEventView {
        TestEventView {
            test_event_id: e.test_event_id.to_string(),
            name: e.name,
            owner: e.owner,
            mine: e.mine,
            shared: e.shared,
            invocation_type: e.invocation_type.to_string(),
            versions: e.versions,
        }
    }

    pub fn invocation_view(o: backend::testing::Outcome) -> InvocationView {
        let parsed: Option<serde_json::Value> = serde_json::from_str(&o.response).ok();
        let error = o.function_error.as_ref().and(parsed.as_ref());
        let text = |key: &str| error.and_then(|e| e[key].as_str()).map(str::to_owned);
        let stack_trace = error
            .and_then(|e| e["stackTrace"].as_array())
            .map(|lines| {
                lines
                    .iter()
                    .map(|l| l.as_str().map_or_else(|| l.to_string(), str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let response = parsed
            .as_ref()
            .and_then(|v| serde_json::to_string_pretty(v).ok())
            .unwrap_or_else(|| o.response.clone());
        InvocationView {
            test_invocation_id: o.test_invocation_id.to_string(),
            who: o.who.unwrap_or_else(|| "someone removed".to_owned()),
            event_name: o.event_name,
            invocation_type: o.invocation_type.to_string(),
            status: o.status,
            error_type: text("errorType"),
            error_message: text("errorMessage"),
            stack_trace,
            function_error: o.function_error,
            response,
            log_tail: o.log_tail,
            request_id: o.request_id,
            executed_version: o.executed_version,
            tenant_id: o.tenant_id,
            duration_ms: o.report.duration_ms,
            billed_ms: o.report.billed_ms,
            init_ms: o.report.init_ms,
            memory_used_mb: o.report.memory_used_mb,
            memory_size_mb: o.report.memory_size_mb,
            at: crate::api::ssr::rfc3339(o.invoked_at),
        }
    }
}
