//! The REST API (`/api/v1`) over HTTP: personal access tokens made through the profile's server
//! functions, the catalog read and changed with them (the change reaching a real engine's tags),
//! each role's limits, the error envelope, and the OpenAPI document.

use super::MIGRATOR;
use backend::audit::Actor;

use super::common::{self, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

/// An engine on a free port with a role and one function, `ledger` (with `variables` as its
/// environment, when given); stopped when the sender drops.
pub(super) async fn engine_with_function(
    variables: Option<Value>,
) -> (String, engine::testing::TestEngine) {
    let engine = engine::testing::engine_with_role("api-engine", "r").await;
    let base = engine.base.clone();
    let http = reqwest::Client::new();
    // An empty zip is a valid package for listing and tagging.
    let mut function = json!({
        "FunctionName": "ledger", "Runtime": "python3.12", "Handler": "app.handler",
        "Role": "arn:aws:iam::000000000000:role/r",
        "Code": { "ZipFile": "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==" },
    });
    if let Some(variables) = variables {
        function["Environment"] = json!({ "Variables": variables });
    }
    let created = http
        .post(format!("{base}/2015-03-31/functions"))
        .json(&function)
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), 201, "{:?}", created.text().await);
    (base, engine)
}

/// A token made through the profile's server function by the signed-in caller.
pub(super) async fn token(app: &common::TestApp, name: &str) -> String {
    let response = app.call("create_token", &[("name", name)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let created: Value = response.json().await.expect("json");
    created["secret"].as_str().expect("secret").to_owned()
}

/// An API call; the request is built before the returned future, which borrows nothing.
pub(super) fn api(
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Option<Value>,
) -> impl Future<Output = (StatusCode, Value)> + use<> {
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    async move {
        let response = request.send().await.expect("API call");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

/// The engine's `ledger` synced and imported with owner@example.com as its owner; the owner and
/// another developer (other@example.com) signed in, each with a token.
pub(super) struct OwnedLedger {
    pub function_id: uuid::Uuid,
    pub owner_app: common::TestApp,
    pub owner_token: String,
    pub other_app: common::TestApp,
    pub other_token: String,
}

pub(super) async fn owned_ledger(pool: &PgPool, app: &common::TestApp, base: &str) -> OwnedLedger {
    let owner_password = app.create_account("owner@example.com", "developer").await;
    let other_password = app.create_account("other@example.com", "developer").await;
    let owner_app = super::app_clone(app);
    owner_app.sign_in("owner@example.com", &owner_password).await;
    let owner_token = token(&owner_app, "ci").await;
    let other_app = super::app_clone(app);
    other_app.sign_in("other@example.com", &other_password).await;
    let other_token = token(&other_app, "mine").await;
    let local = backend::connections::ensure_local(pool, base, "us-east-1").await.expect("conn");
    let connection = backend::connections::get(pool, local).await.expect("get");
    backend::catalog::sync(pool, &connection).await.expect("sync");
    let owner_id = backend::accounts::find_by_email(pool, "owner@example.com")
        .await
        .expect("find")
        .expect("owner")
        .account_id;
    let function_id: uuid::Uuid =
        sqlx::query_scalar("select function_id from catalog_function where name = 'ledger'")
            .fetch_one(pool)
            .await
            .expect("shadow");
    backend::catalog::import(pool, &Actor::system(), function_id, owner_id, None)
        .await
        .expect("import");
    OwnedLedger { function_id, owner_app, owner_token, other_app, other_token }
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn the_api_reads_and_changes_the_catalog_with_tokens(pool: PgPool) {
    let (base, _stop) = engine_with_function(None).await;
    let app = spawn_app(pool.clone()).await;
    app.sign_in_as_admin().await;
    let admin_token = token(&app, "admin script").await;
    let OwnedLedger { function_id, owner_app, owner_token, other_app, other_token } =
        owned_ledger(&pool, &app, &base).await;

    let url = |path: &str| app.url(&format!("/api/v1{path}"));
    let get = |path: &str, token: Option<&str>| api(reqwest::Method::GET, url(path), token, None);

    // No token, a wrong one: 401 in the envelope.
    let (status, body) = get("/functions", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthorized", "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("Bearer")));
    let (status, _) = get("/functions", Some("lpat_wrong")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Listing with the page's filters, keyset pages and a bounded limit.
    let (status, body) = get("/functions?q=ledger", Some(&owner_token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["functions"][0]["name"], "ledger");
    assert_eq!(body["functions"][0]["owner"], "owner@example.com");
    assert_eq!(body["next"], Value::Null);
    let (_, body) = get("/functions?q=nothing-like-this", Some(&owner_token)).await;
    assert_eq!(body["functions"], json!([]));
    let (status, body) = get("/functions?limit=0", Some(&owner_token)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "limit", "{body}");
    let (status, body) = get(&format!("/functions/{function_id}"), Some(&other_token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["arn"], "arn:aws:lambda:us-east-1:000000000000:function:ledger");
    let (status, body) = get("/functions/not-a-uuid", Some(&owner_token)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // PATCH by the owner: the catalog and the engine's tags change, audited as the owner. No
    // Origin header is needed: the same-origin rule is for cookies, not tokens.
    let patch = |token: String, body: Value| {
        api(
            reqwest::Method::PATCH,
            url(&format!("/functions/{function_id}")),
            Some(&token),
            Some(body),
        )
    };
    let (status, body) = patch(
        owner_token.clone(),
        json!({ "lifecycle": "production", "tags": { "tier": "gold" } }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["lifecycle"].as_str(), body["tags"].clone()),
        (Some("production"), json!({ "tier": "gold" }))
    );
    let arn = "arn:aws:lambda:us-east-1:000000000000:function:ledger";
    let tags: Value = reqwest::get(format!("{base}/2017-03-31/tags/{arn}"))
        .await
        .expect("tags")
        .json()
        .await
        .expect("json");
    assert_eq!(tags["Tags"]["tier"], "gold");
    assert_eq!(tags["Tags"]["lambdaport:lifecycle"], "production");
    // `tags` merges; `tags_remove` removes; a tag added in the cloud meanwhile stays.
    let tagged = reqwest::Client::new()
        .post(format!("{base}/2017-03-31/tags/{arn}"))
        .json(&json!({ "Tags": { "added": "cli" } }))
        .send()
        .await
        .expect("tag outside the console");
    assert_eq!(tagged.status(), 204);
    let (status, body) =
        patch(owner_token.clone(), json!({ "tags": { "stage": "beta" }, "tags_remove": ["tier"] }))
            .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["tags"], json!({ "added": "cli", "stage": "beta" }));
    let actor: String = sqlx::query_scalar(
        "select a.email from audit_event e join account a on a.account_id = e.actor_id
         where e.action = 'function.update_metadata'",
    )
    .fetch_one(&pool)
    .await
    .expect("audited");
    assert_eq!(actor, "owner@example.com");

    // Bad input: a field error, an unknown field, a lifecycle that does not exist.
    let (status, body) = patch(owner_token.clone(), json!({ "lifecycle": "forever" })).await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("lifecycle"))
    );
    let (status, body) = patch(owner_token.clone(), json!({ "colour": "blue" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "body");

    // Someone else's function, by id: refused, and nothing changes.
    let (status, body) = patch(other_token.clone(), json!({ "owner": "other@example.com" })).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "forbidden");
    let (_, body) = get(&format!("/functions/{function_id}"), Some(&owner_token)).await;
    assert_eq!(body["owner"], "owner@example.com");

    // A restricted catalog hides the function from others, not from its owner or admins.
    assert_eq!(
        app.call("set_catalog_restricted", &[("restricted", "yes")]).await.status(),
        StatusCode::OK
    );
    let (status, _) = get(&format!("/functions/{function_id}"), Some(&other_token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, body) = get("/functions", Some(&other_token)).await;
    assert_eq!(body["functions"], json!([]));
    let (_, body) = get("/functions", Some(&admin_token)).await;
    assert_eq!(body["functions"][0]["name"], "ledger");

    // The audit trail: admins only, keyset pages.
    let (status, _) = get("/audit-events", Some(&owner_token)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, first) = get("/audit-events?limit=2", Some(&admin_token)).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["events"].as_array().map(Vec::len), Some(2));
    assert_eq!(first["events"][0]["action"], "settings.restrict_catalog");
    let next = first["next"].as_str().expect("more events");
    let (_, second) =
        get(&format!("/audit-events?limit=2&before={next}"), Some(&admin_token)).await;
    assert!(second["events"][0]["id"].as_i64() < first["events"][1]["id"].as_i64());
    // The export, with a token (admins only).
    let export = |token: &str| {
        reqwest::Client::new()
            .get(url("/audit-events/export?format=csv&action=token."))
            .bearer_auth(token)
            .send()
    };
    let exported = export(&admin_token).await.expect("export");
    assert_eq!(exported.status(), StatusCode::OK);
    let csv = exported.text().await.expect("csv");
    assert!(csv.starts_with("id,time,") && csv.contains("token.create"), "{csv}");
    assert_eq!(export(&owner_token).await.expect("export").status(), StatusCode::FORBIDDEN);
    let (_, filtered) = get("/audit-events?action=token.", Some(&admin_token)).await;
    assert_eq!(filtered["events"].as_array().map(Vec::len), Some(3), "{filtered}");

    // Revoked through the profile: the token stops working at once.
    let listed: Value = owner_app.call("list_tokens", &[]).await.json().await.expect("json");
    let token_id = listed[0]["token_id"].as_str().expect("id").to_owned();
    assert!(listed[0]["last_used"].is_string(), "{listed}");
    let unconfirmed = owner_app.call("revoke_token", &[("token_id", &token_id)]).await;
    assert_eq!(unconfirmed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let by_other =
        other_app.call("revoke_token", &[("token_id", &token_id), ("confirm", "yes")]).await;
    assert_eq!(by_other.status(), StatusCode::NOT_FOUND);
    let revoked =
        owner_app.call("revoke_token", &[("token_id", &token_id), ("confirm", "yes")]).await;
    assert_eq!(revoked.status(), StatusCode::OK);
    let (status, _) = get("/functions", Some(&owner_token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The description, public; unknown routes answer in the envelope.
    let (status, doc) = get("/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/functions/{id}"]["patch"].is_object());
    let (status, body) =
        api(reqwest::Method::DELETE, url("/functions"), Some(&admin_token), None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, Some("method_not_allowed"))
    );
    let (status, body) = get("/nope", Some(&admin_token)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    // A query parameter that cannot be read is an error in the envelope too, not plain text.
    for path in ["/functions?limit=ten", "/audit-events?limit=-x"] {
        let (status, body) = get(path, Some(&admin_token)).await;
        assert_eq!(
            (status, body["error"]["code"].as_str(), body["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid"), Some("query")),
            "{path}: {body}"
        );
    }
}

/// The cloud's failures keep their meaning: a function deleted behind the console's back is 404,
/// a cloud that does not answer is 502 — each with the cloud's own words, never a bare 409.
#[sqlx::test(migrator = "MIGRATOR")]
async fn cloud_failures_keep_their_meaning(pool: PgPool) {
    let (base, engine) = engine_with_function(None).await;
    let app = spawn_app(pool.clone()).await;
    app.sign_in_as_admin().await;
    let admin_token = token(&app, "admin script").await;
    let local = backend::connections::ensure_local(&pool, &base, "us-east-1").await.expect("conn");
    let connection = backend::connections::get(&pool, local).await.expect("get");
    backend::catalog::sync(&pool, &connection).await.expect("sync");
    let function_id: uuid::Uuid =
        sqlx::query_scalar("select function_id from catalog_function where name = 'ledger'")
            .fetch_one(&pool)
            .await
            .expect("shadow");
    let admin = backend::accounts::find_by_email(&pool, server::FIRST_ADMIN_EMAIL)
        .await
        .expect("find")
        .expect("admin");
    backend::catalog::import(&pool, &Actor::system(), function_id, admin.account_id, None)
        .await
        .expect("import");
    let patch = || {
        api(
            reqwest::Method::PATCH,
            app.url(&format!("/api/v1/functions/{function_id}")),
            Some(&admin_token),
            Some(json!({ "lifecycle": "production" })),
        )
    };

    let deleted = reqwest::Client::new()
        .delete(format!("{base}/2015-03-31/functions/ledger"))
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), 204);
    let (status, deleted_body) = patch().await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{deleted_body}");
    assert_eq!(deleted_body["error"]["code"], "not_found");
    assert!(
        deleted_body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("ResourceNotFoundException")),
        "{deleted_body}"
    );

    // The function's page says so in one sentence naming the request.
    let page =
        || async { app.get(&format!("/catalog/{function_id}")).await.text().await.expect("page") };
    let deleted_page = page().await;
    assert!(deleted_page.contains("ResourceNotFoundException"), "the page names the failure");

    drop(engine);
    let unreachable_page = page().await;
    assert!(unreachable_page.contains("could not connect"), "the page names the failure");
    let (status, body) = patch().await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(body["error"]["code"], "upstream");
    let tested = app.call("test_connection", &[("connection_id", &local.to_string())]).await;
    assert_eq!(tested.status(), StatusCode::BAD_GATEWAY);
    let tested = tested.text().await.unwrap_or_default();
    assert!(tested.contains("GetCallerIdentity"), "{tested}");
    let remembered = backend::connections::get(&pool, local).await.expect("connection").test_error;
    assert!(
        remembered.is_some_and(|e| e.contains("could not connect")),
        "a failed Test is remembered"
    );

    // A person reads the request's id, to find the detail in the server log; the REST envelope
    // carries it too.
    let request_id = body["error"]["request_id"].as_str().expect("a request id").to_owned();
    assert_eq!(request_id.len(), 12, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.ends_with(&format!("(request {request_id})")), "{body}");
    assert!(tested.contains("(request "), "{tested}");

    // No credentials: an AWS account whose profile does not exist.
    let keyless = backend::connections::NewConnection {
        name: "No credentials".into(),
        kind: "aws".into(),
        profile: "lambdaport-no-such-profile".into(),
        regions: "us-east-1".into(),
        ..Default::default()
    };
    let keyless =
        backend::connections::create(&pool, &Actor::system(), &keyless).await.expect("connection");
    let no_credentials =
        app.call("test_connection", &[("connection_id", &keyless.to_string())]).await;
    assert!(no_credentials.status().is_client_error() || no_credentials.status().is_server_error());
    let no_credentials = no_credentials.text().await.unwrap_or_default();
    assert!(no_credentials.contains("GetCallerIdentity: no credentials"), "{no_credentials}");
    assert!(no_credentials.contains("add an access key"), "what to do next: {no_credentials}");

    // Each in one line of plain words: never the SDK's debug output.
    let synced = backend::catalog::sync(&pool, &connection).await.expect_err("no engine");
    for said in [body["error"]["message"].to_string(), tested.clone(), synced.to_string()] {
        assert!(said.contains("could not connect"), "{said}");
    }
    for page in [&deleted_page, &unreachable_page] {
        assert!(page.contains("(request "), "the page names the request");
        for dump in ["DispatchFailure", "ServiceError(", "{ source:", "ConnectorError"] {
            assert!(!page.contains(dump), "{dump} in the function page");
        }
    }
    let not_found = deleted_body["error"]["message"].to_string();
    for said in [
        body["error"]["message"].to_string(),
        tested,
        synced.to_string(),
        no_credentials,
        not_found,
    ] {
        for dump in ["DispatchFailure", "ServiceError(", "{ source:", "ConnectorError", "\\n", "\n"]
        {
            assert!(!said.contains(dump), "{dump} in {said}");
        }
    }
}
