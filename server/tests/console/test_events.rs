//! Test events through the REST API (`/api/v1/functions/{id}/test-events`) — saved, shared, kept
//! in versions, refused to those who may not invoke — and moved in the format of Lambda's shareable
//! test events: exported from the API and the Test tab, imported back, and a document as
//! `sam remote test-event put` writes it.

use super::MIGRATOR;
use super::api::{OwnedLedger, api, engine_with_function, owned_ledger};
use super::common::spawn_app;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;

#[sqlx::test(migrator = "MIGRATOR")]
async fn test_events_are_kept_shared_exported_and_imported_through_the_api(pool: PgPool) {
    let (base, _stop) = engine_with_function(None).await;
    let app = spawn_app(pool.clone()).await;
    app.sign_in_as_admin().await;
    let OwnedLedger { function_id, owner_app, owner_token: owner, other_app, other_token: other } =
        owned_ledger(&pool, &app, &base).await;

    let events = app.url(&format!("/api/v1/functions/{function_id}/test-events"));
    let call = |method: Method, path: &str, token: &str, body: Option<Value>| {
        api(method, format!("{events}{path}"), Some(token), body)
    };

    // Saved: one shared and asynchronous, one private.
    let (status, shared) = call(
        Method::POST,
        "",
        &owner,
        Some(json!({ "name": "order-7", "shared": true, "invocation_type": "Event",
                     "event": { "order": 7 } })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{shared}");
    assert_eq!(
        (shared["event"]["order"].as_i64(), shared["invocation_type"].as_str()),
        (Some(7), Some("Event"))
    );
    let shared_id = shared["test_event_id"].as_str().expect("id").to_owned();
    let (status, private) =
        call(Method::POST, "", &owner, Some(json!({ "name": "mine", "event": { "a": 1 } }))).await;
    assert_eq!(status, StatusCode::CREATED, "{private}");
    assert_eq!(private["invocation_type"], "RequestResponse");
    let private_id = private["test_event_id"].as_str().expect("id").to_owned();

    // Checked as on the Test tab.
    for (body, field) in [
        (json!({ "name": "mine", "event": {} }), "name"),
        (json!({ "name": "has space", "event": {} }), "name"),
        (json!({ "name": "x", "invocation_type": "Later", "event": {} }), "invocation_type"),
        (json!({ "name": "x", "qualifier": "../1", "event": {} }), "qualifier"),
    ] {
        let (status, error) = call(Method::POST, "", &owner, Some(body.clone())).await;
        assert_eq!(
            (status, error["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{body}: {error}"
        );
    }
    let (status, error) =
        call(Method::POST, "", &owner, Some(json!({ "name": "x", "payload": "{}" }))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");

    // Another developer sees the shared one only, and may not save events on a function they
    // may not invoke; a private event of another is not found.
    let (status, list) = call(Method::GET, "", &other, None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let names: Vec<&str> = list["test_events"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert_eq!(names, ["order-7"]);
    let (status, _) = call(Method::GET, &format!("/{private_id}"), &other, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, error) =
        call(Method::POST, "", &other, Some(json!({ "name": "theirs", "event": {} }))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{error}");

    // A change keeps the earlier version.
    let (status, changed) = call(
        Method::PUT,
        &format!("/{shared_id}"),
        &owner,
        Some(json!({ "name": "order-7", "shared": true, "invocation_type": "Event",
                     "event": { "order": 8 } })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        (changed["event"]["order"].as_i64(), changed["versions"].as_i64()),
        (Some(8), Some(1))
    );

    // Exported as Lambda's shareable test events keep them, named as the registry's schema.
    let exported = reqwest::Client::new()
        .get(format!("{events}/export"))
        .bearer_auth(&owner)
        .send()
        .await
        .expect("export");
    assert_eq!(exported.status(), StatusCode::OK);
    assert_eq!(
        exported.headers()["content-disposition"],
        "attachment; filename=\"_ledger-schema.json\""
    );
    let document: Value = exported.json().await.expect("json");
    assert_eq!(document["openapi"], "3.0.0");
    let examples = &document["components"]["examples"];
    assert_eq!(examples["order-7"]["value"], json!({ "order": 8 }));
    assert_eq!(examples["order-7"]["x-metadata"]["invocationType"], "Event");
    assert_eq!(examples["mine"]["value"], json!({ "a": 1 }));
    // The Test tab's Export gives the same document; another user's holds only what they see.
    let page: Value = owner_app
        .get(&format!("/catalog/{function_id}/test-events.json"))
        .await
        .json()
        .await
        .expect("page export");
    assert_eq!(page, document);
    let theirs: Value = other_app
        .get(&format!("/catalog/{function_id}/test-events.json"))
        .await
        .json()
        .await
        .expect("other's export");
    assert!(theirs["components"]["examples"]["mine"].is_null(), "{theirs}");

    // Imported back: refused while the names are taken (nothing saved), then as new versions.
    let import = |query: &str, token: &str, body: String| {
        let request = reqwest::Client::new()
            .post(format!("{events}/import{query}"))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body);
        async move {
            let response = request.send().await.expect("import");
            let status = response.status();
            (status, response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, error) = import("", &owner, document.to_string()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    assert!(error["error"]["message"].as_str().is_some_and(|m| m.contains("Replace")), "{error}");
    let (status, imported) = import("?replace=true", &owner, document.to_string()).await;
    assert_eq!(status, StatusCode::CREATED, "{imported}");
    assert_eq!(imported["test_events"].as_array().map(Vec::len), Some(2));
    let (_, mine) = call(Method::GET, &format!("/{private_id}"), &owner, None).await;
    assert_eq!(mine["versions"], 1, "{mine}");

    // A document as `sam remote test-event put` writes it: new events, shared as asked.
    let sam = r#"{"openapi":"3.0.0","info":{"version":"1.0.0","title":"Event"},"paths":{},
        "components":{"schemas":{"Event":{"type":"object"}},
        "examples":{"from-sam":{"value":{"Records":[]},"x-metadata":{"invocationType":"DryRun"}}}}}"#;
    let (status, imported) = import("?shared=true", &owner, sam.to_owned()).await;
    assert_eq!(status, StatusCode::CREATED, "{imported}");
    assert_eq!(imported["test_events"][0]["invocation_type"], "DryRun");
    let (_, list) = call(Method::GET, "", &other, None).await;
    assert_eq!(list["test_events"].as_array().map(Vec::len), Some(2), "{list}");
    // Not a document, and someone who may not invoke: said, nothing saved.
    let (status, error) = import("", &owner, "{\"paths\": {}}".to_owned()).await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("document"))
    );
    let (status, _) = import("", &other, sam.to_owned()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Deleted by its owner; audited as them.
    let (status, _) = call(Method::DELETE, &format!("/{private_id}"), &owner, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(Method::GET, &format!("/{private_id}"), &owner, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let actions: Vec<String> = sqlx::query_scalar(
        "select e.action from audit_event e join account a on a.account_id = e.actor_id
         where a.email = 'owner@example.com' and e.action like 'function.%test_event'
         order by e.audit_event_id",
    )
    .fetch_all(&pool)
    .await
    .expect("audit");
    assert_eq!(actions.first().map(String::as_str), Some("function.save_test_event"));
    assert_eq!(actions.last().map(String::as_str), Some("function.delete_test_event"));
}
