//! Governance over HTTP: an admin's rules made through the Governance page's server functions
//! (and refused to a developer), the runtime calendar moved, and `POST /api/v1/evaluations`
//! answering a pipeline with a failing and a passing body — against a fresh database.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use super::MIGRATOR;
use super::api::{api, token};
use super::common::spawn_app;

async fn add_rule(app: &super::common::TestApp, fields: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = app.call("create_rule", fields).await;
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn kinds(evaluation: &Value) -> Vec<String> {
    evaluation["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["kind"].as_str().expect("kind").to_owned())
        .collect()
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn admins_set_rules_and_pipelines_ask_whether_a_function_would_pass(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    app.sign_in_as_admin().await;
    let developer_password = app.create_account("dev@example.com", "developer").await;

    // No rules yet: anything passes.
    let developer = super::app_clone(&app);
    developer.sign_in("dev@example.com", &developer_password).await;
    let dev_token = token(&developer, "pipeline").await;
    let evaluate = |body: Value| {
        api(reqwest::Method::POST, app.url("/api/v1/evaluations"), Some(&dev_token), Some(body))
    };
    let public_prod = json!({
        "name": "orders-api", "runtime": "python3.12", "environment": "prod",
        "url": { "auth_type": "NONE", "cors_allow_origins": ["*"] },
    });
    let (status, body) = evaluate(public_prod.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({ "passes": true, "findings": [] }));

    // The admin's two rules of the issue, and a warning.
    let (status, body) = add_rule(
        &app,
        &[
            ("kind", "required_tag"),
            ("severity", "error"),
            ("key", "cost-center"),
            ("values", "cc-100, cc-200"),
            ("note", "Finance charges costs back by cost-center"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, "Every function has the tag cost-center, one of cc-100, cc-200.");
    let (status, body) = add_rule(
        &app,
        &[("kind", "public_url"), ("severity", "error"), ("policy", "outside_production")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) =
        add_rule(&app, &[("kind", "memory"), ("severity", "warning"), ("max", "1024")]).await;
    assert_eq!(status, StatusCode::OK);

    // Bad parameters are a validation error on the field; a developer may not add rules.
    let (status, body) =
        add_rule(&app, &[("kind", "naming"), ("severity", "error"), ("pattern", "team-(")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["Validation"]["field"], "pattern", "{body}");
    let (status, _) =
        add_rule(&developer, &[("kind", "memory"), ("severity", "error"), ("max", "128")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The failing body: no cost-center tag, a public URL in production, too much memory.
    let mut failing = public_prod.clone();
    failing["memory_mb"] = json!(2048);
    let (status, body) = evaluate(failing).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["passes"], false);
    assert_eq!(kinds(&body), ["required_tag", "public_url", "memory"]);
    let tag = &body["findings"][0];
    assert_eq!(tag["severity"], "error");
    assert_eq!(tag["field"], "tags");
    assert_eq!(tag["fix"], "Add the tag cost-center with one of: cc-100, cc-200.");
    assert_eq!(tag["note"], "Finance charges costs back by cost-center");
    assert!(tag["mirrors"].as_str().is_some_and(|m| m.contains("Lambda.6")), "{tag}");
    assert_eq!(body["findings"][2]["severity"], "warning");

    // The passing body: tagged, and the URL outside production; the warning does not block.
    let passing = json!({
        "name": "orders-api", "runtime": "python3.12", "environment": "dev", "memory_mb": 2048,
        "tags": { "cost-center": "cc-200" },
        "url": { "auth_type": "NONE" },
    });
    let (status, body) = evaluate(passing).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["passes"], true, "{body}");
    assert_eq!(kinds(&body), ["memory"]);

    // Malformed bodies are answered in the envelope, naming the field.
    let (status, body) = evaluate(json!({ "name": "a b" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "name", "{body}");
    let (status, body) = evaluate(json!({ "name": "f", "environment": "production" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "environment", "{body}");
    let (status, body) = evaluate(json!({ "name": "f", "team": "nobody" })).await;
    assert_eq!(body["error"]["field"], "team", "{status} {body}");
    let (status, body) = evaluate(json!({ "name": "f", "colour": "red" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "body", "{body}");
    let (status, _) = api(
        reqwest::Method::POST,
        app.url("/api/v1/evaluations"),
        None,
        Some(json!({ "name": "f" })),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The page's view: the rules in order with their scope; switching one off lets it pass.
    let view: Value = app.call("governance", &[]).await.json().await.expect("json");
    let rules = view["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), 3);
    assert_eq!(rules[1]["scope"], "every function");
    let tag_rule = rules[0]["rule_id"].as_str().expect("id").to_owned();
    let url_rule = rules[1]["rule_id"].as_str().expect("id").to_owned();
    let response = app.call("set_rule_enabled", &[("rule_id", &tag_rule), ("enabled", "no")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = app.call("delete_rule", &[("rule_id", &url_rule)]).await;
    assert_eq!(
        response.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "deleting needs a confirmation"
    );
    let response = app.call("delete_rule", &[("rule_id", &url_rule), ("confirm", "yes")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let (_, body) = evaluate(public_prod.clone()).await;
    assert_eq!(body["passes"], true, "{body}");

    // Every change is in the audit trail.
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_event where target like 'rule:%' order by audit_event_id",
    )
    .fetch_all(&pool)
    .await
    .expect("audit");
    assert_eq!(
        actions,
        ["create_rule", "create_rule", "create_rule", "disable_rule", "delete_rule"]
    );
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn the_runtime_calendar_blocks_creation_then_updates_and_admins_move_its_dates(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    app.sign_in_as_admin().await;
    let admin_token = token(&app, "ci").await;
    let (status, _) =
        add_rule(&app, &[("kind", "deprecated_runtime"), ("severity", "error")]).await;
    assert_eq!(status, StatusCode::OK);
    let evaluate = |body: Value| {
        api(reqwest::Method::POST, app.url("/api/v1/evaluations"), Some(&admin_token), Some(body))
    };

    // python3.8 is shipped past both blocks (2026-08-31, 2026-09-30); python3.13 is not.
    let (_, body) = evaluate(json!({ "name": "old", "runtime": "python3.8" })).await;
    assert_eq!(body["passes"], false, "{body}");
    assert!(
        body["findings"][0]["message"].as_str().is_some_and(|m| m.contains("2026-09-30")),
        "{body}"
    );
    let (_, body) = evaluate(json!({ "name": "new", "runtime": "python3.13" })).await;
    assert_eq!(body["passes"], true, "{body}");

    // AWS moves python3.13's dates into the past: an admin records it, and creation is refused.
    let response = app
        .call(
            "save_runtime_deprecation",
            &[
                ("runtime", "python3.13"),
                ("deprecated_on", "2026-01-01"),
                ("block_create_on", "2026-02-01"),
                ("block_update_on", ""),
                ("source", "AWS Health notice"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let (_, body) = evaluate(json!({ "name": "new", "runtime": "python3.13" })).await;
    assert_eq!(body["passes"], false, "{body}");
    assert_eq!(
        body["findings"][0]["message"],
        "AWS refuses new functions on python3.13 since 2026-02-01."
    );
    let view: Value = app.call("governance", &[]).await.json().await.expect("json");
    let row = view["calendar"]
        .as_array()
        .expect("calendar")
        .iter()
        .find(|d| d["runtime"] == "python3.13")
        .expect("python3.13")
        .clone();
    assert_eq!(row["phase"], "phase 1: no new functions");
    assert_eq!(row["source"], "AWS Health notice");

    // The hygiene report: the engine's `ledger` runs python3.12, deprecated in 2028 — not yet
    // worth a line; moved into the past, it is listed with its function. A function whose owner
    // is gone is listed as unowned.
    let (base, _stop) = super::api::engine_with_function(None).await;
    let local = backend::connections::ensure_local(&pool, &base, "us-east-1").await.expect("conn");
    let connection = backend::connections::get(&pool, local).await.expect("get");
    backend::catalog::sync(&pool, &connection).await.expect("sync");
    let view: Value = app.call("governance", &[]).await.json().await.expect("json");
    assert!(
        view["deprecations"]
            .as_array()
            .expect("report")
            .iter()
            .all(|d| d["runtime"] != "python3.12"),
        "{view}"
    );
    assert_eq!(view["unowned"], 0, "a shadow is not catalogued yet");
    let response = app
        .call(
            "save_runtime_deprecation",
            &[
                ("runtime", "python3.12"),
                ("deprecated_on", "2026-06-30"),
                ("block_create_on", "2027-06-30"),
                ("source", "AWS Health notice"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    sqlx::query("update catalog_function set tracked = true, owner_id = null")
        .execute(&pool)
        .await
        .expect("an owner gone");
    let view: Value = app.call("governance", &[]).await.json().await.expect("json");
    let python = view["deprecations"]
        .as_array()
        .expect("report")
        .iter()
        .find(|d| d["runtime"] == "python3.12")
        .expect("python3.12 listed")
        .clone();
    assert_eq!(python["functions"], 1);
    assert_eq!(python["phase"], "deprecated: no security patches");
    assert_eq!(python["next"], "no new functions on 2027-06-30");
    assert_eq!(view["unowned"], 1);
    assert_eq!(view["unowned_first"][0][1], "ledger");

    // Dates out of order are refused, on the field.
    let response = app
        .call(
            "save_runtime_deprecation",
            &[
                ("runtime", "python3.14"),
                ("deprecated_on", "2029-06-30"),
                ("block_create_on", "2029-01-01"),
                ("source", "AWS"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["Validation"]["field"], "block_create_on", "{body}");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_violating_shadow_is_listed_after_a_sync_and_leaves_when_fixed(pool: PgPool) {
    let (base, _stop) = super::api::engine_with_function(None).await;
    let app = spawn_app(pool.clone()).await;
    app.sign_in_as_admin().await;
    for fields in [
        &[("kind", "required_tag"), ("severity", "error"), ("key", "cost-center")][..],
        &[("kind", "memory"), ("severity", "warning"), ("max", "64")][..],
    ] {
        let (status, body) = add_rule(&app, fields).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let violations = |rule: &str| {
        let app = &app;
        let rule = rule.to_owned();
        async move {
            let response = app.call("list_violations", &[("rule", &rule)]).await;
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<Value>().await.expect("json")
        }
    };
    assert_eq!(violations("").await["functions"], 0, "nothing catalogued yet");

    // The engine's `ledger` (128 MB, no tags) arrives as a shadow with a sync.
    let local = backend::connections::ensure_local(&pool, &base, "us-east-1").await.expect("conn");
    let connection = backend::connections::get(&pool, local).await.expect("get");
    backend::catalog::sync(&pool, &connection).await.expect("sync");
    let seen = violations("").await;
    assert_eq!(seen["functions"], 1, "{seen}");
    let ledger = &seen["page"][0];
    assert_eq!(ledger["name"], "ledger");
    assert_eq!(ledger["shadow"], true);
    let messages: Vec<&str> = ledger["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["message"].as_str().expect("message"))
        .collect();
    assert_eq!(
        messages,
        ["The tag cost-center is missing.", "memory is 128 MB; the rule asks for at most 64 MB."]
    );
    assert_eq!(seen["by_owner"][0]["label"], "no owner");
    assert_eq!(seen["by_rule"].as_array().map(Vec::len), Some(2));
    // Narrowed to one rule.
    let tag_rule = seen["by_rule"]
        .as_array()
        .expect("by rule")
        .iter()
        .find(|c| c["severity"] == "error")
        .expect("the tag rule")["rule_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let narrowed = violations(&tag_rule).await;
    assert_eq!(narrowed["rule"], "Every function has the tag cost-center.");
    assert_eq!(narrowed["page"].as_array().map(Vec::len), Some(1));

    // The catalog filters on it and counts the errors: through the API as on the page.
    let admin_token = token(&app, "admin").await;
    let list = |query: &str| {
        api(
            reqwest::Method::GET,
            app.url(&format!("/api/v1/functions?view=shadows&{query}")),
            Some(&admin_token),
            None,
        )
    };
    let (status, body) = list("violates=any").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["functions"][0]["name"], "ledger");
    assert_eq!(body["functions"][0]["violations"], 1, "one error; the warning is not counted");
    let (_, body) = list("violates=memory").await;
    assert_eq!(body["functions"].as_array().map(Vec::len), Some(1));
    let (_, body) = list("violates=naming").await;
    assert_eq!(body["functions"], json!([]), "no naming rule");
    let (_, body) = list(&format!("violates={tag_rule}")).await;
    assert_eq!(body["functions"].as_array().map(Vec::len), Some(1));
    let (status, body) = list("violates=sometimes").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "violates", "{body}");

    // Its owner tags it through the API: that change is evaluated at once.
    let owned = super::api::owned_ledger(&pool, &app, &base).await;
    let (status, body) = api(
        reqwest::Method::PATCH,
        app.url(&format!("/api/v1/functions/{}", owned.function_id)),
        Some(&owned.owner_token),
        Some(json!({ "tags": { "cost-center": "cc-1" } })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(violations(&tag_rule).await["functions"], 1, "the memory warning is left");
    assert_eq!(violations(&tag_rule).await["page"], json!([]), "the tag is there now");
    let seen = violations("").await;
    assert_eq!(seen["page"][0]["shadow"], false, "imported");
    assert_eq!(seen["page"][0]["owner"], "owner@example.com");
    // The counts (kept between evaluations) follow each evaluation: the tag rule is no longer
    // broken, and the function has its owner.
    assert_eq!(seen["by_rule"].as_array().map(Vec::len), Some(1), "{seen}");
    assert_eq!(seen["by_owner"][0]["label"], "owner@example.com", "{seen}");

    // The URL tab is held to the rules too: with no public URL allowed in production, a
    // production function's public URL is refused before anything is made, on the auth type;
    // a rule about something else (the memory warning) does not stand in the way.
    let (status, body) = add_rule(
        &app,
        &[("kind", "public_url"), ("severity", "error"), ("policy", "outside_production")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = api(
        reqwest::Method::PATCH,
        app.url(&format!("/api/v1/functions/{}", owned.function_id)),
        Some(&owned.owner_token),
        Some(json!({ "lifecycle": "production" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let function_id = owned.function_id.to_string();
    let url_form = |auth: &'static str| {
        vec![
            ("function_id", function_id.clone()),
            ("auth_type", auth.to_owned()),
            ("invoke_mode", "BUFFERED".to_owned()),
        ]
    };
    let response = owned.owner_app.call("save_url_config", &form(&url_form("NONE"))).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused: Value = response.json().await.expect("json");
    assert_eq!(refused["Validation"]["field"], "auth_type", "{refused}");
    assert!(
        refused["Validation"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("not allowed in production")),
        "{refused}"
    );
    let lambda =
        backend::connections::get(&pool, local).await.expect("conn").lambda("us-east-1").await;
    assert!(
        lambda.get_function_url_config().function_name("ledger").send().await.is_err(),
        "no URL made"
    );
    let response = owned.owner_app.call("save_url_config", &form(&url_form("AWS_IAM"))).await;
    assert_eq!(response.status(), StatusCode::OK, "an AWS_IAM URL is fine");

    // Switching the rules off clears the view.
    for rule in app.call("governance", &[]).await.json::<Value>().await.expect("json")["rules"]
        .as_array()
        .expect("rules")
    {
        let id = rule["rule_id"].as_str().expect("id");
        let response = app.call("set_rule_enabled", &[("rule_id", id), ("enabled", "no")]).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_eq!(violations("").await["functions"], 0);
}

/// A form's fields as `call` takes them.
fn form<'a>(fields: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn exceptions_are_requested_decided_by_someone_else_and_expire(pool: PgPool) {
    let (base, _stop) = super::api::engine_with_function(None).await;
    let app = spawn_app(pool.clone()).await;
    app.sign_in_as_admin().await;
    let (status, body) =
        add_rule(&app, &[("kind", "required_tag"), ("severity", "error"), ("key", "cost-center")])
            .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let owned = super::api::owned_ledger(&pool, &app, &base).await;
    backend::governance::violations::evaluate_catalog(
        &pool,
        backend::governance::violations::Scope::All,
    )
    .await
    .expect("evaluate");
    let violations = || async {
        let response = app.call("list_violations", &[("rule", "")]).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json::<Value>().await.expect("json")
    };
    let seen = violations().await;
    assert_eq!(seen["functions"], 1);
    let rule_id = seen["by_rule"][0]["rule_id"].as_str().expect("rule").to_owned();
    let function_id = owned.function_id.to_string();
    let ask = |hours: &'static str| {
        vec![
            ("function_id", function_id.clone()),
            ("rule_id", rule_id.clone()),
            ("reason", "migrating to the new cost centres next sprint".to_owned()),
            ("hours", hours.to_owned()),
        ]
    };
    // Someone who may not change the function cannot ask; its owner can, once.
    let asked = ask("2");
    let response = owned.other_app.call("request_exception", &form(&asked)).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = owned.owner_app.call("request_exception", &form(&asked)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = owned.owner_app.call("request_exception", &form(&asked)).await;
    assert_eq!(response.status(), StatusCode::CONFLICT, "one open request per rule");
    let pending = violations().await["exceptions"][0].clone();
    assert_eq!(pending["status"], "pending");
    assert_eq!(pending["requested_by"], "owner@example.com");
    assert_eq!(pending["rule"], "Every function has the tag cost-center.");
    let exception_id = pending["exception_id"].as_str().expect("id").to_owned();

    // Nobody decides on their own request; a developer outside the approvers may not either.
    let decide = |decision: &'static str| {
        vec![
            ("exception_id", exception_id.clone()),
            ("decision", decision.to_owned()),
            ("comment", "ok for two hours".to_owned()),
        ]
    };
    let response = owned.owner_app.call("decide_exception", &form(&decide("approve"))).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = owned.other_app.call("decide_exception", &form(&decide("approve"))).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // With the team as approvers, a member of the function's team decides.
    let team = app.call("create_team", &[("name", "payments")]).await;
    assert_eq!(team.status(), StatusCode::OK);
    let directory = app.directory().await;
    let team_id = directory["teams"][0]["team_id"].as_str().expect("team").to_owned();
    let other = super::common::account_id(&directory, "other@example.com");
    let response = app
        .call("add_team_member", &[("team_id", team_id.as_str()), ("account_id", other.as_str())])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let (status, body) = api(
        reqwest::Method::PATCH,
        app.url(&format!("/api/v1/functions/{function_id}")),
        Some(&owned.owner_token),
        Some(json!({ "team": "payments" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let response = app.call("set_exception_approvers", &[("approvers", "team")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = owned.other_app.call("decide_exception", &form(&decide("approve"))).await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = owned.other_app.call("decide_exception", &form(&decide("reject"))).await;
    assert_eq!(response.status(), StatusCode::CONFLICT, "decided already");

    // Approved: shown as excepted, counted nowhere, refusing nothing.
    let seen = violations().await;
    assert_eq!(seen["functions"], 0, "{seen}");
    let finding = &seen["page"][0]["findings"][0];
    assert_eq!(finding["excepted"], true, "{seen}");
    assert!(
        seen["exceptions"][0]["status"] == "approved"
            && seen["exceptions"][0]["expires_at"].is_string()
    );
    let (_, body) = api(
        reqwest::Method::GET,
        app.url("/api/v1/functions?violates=any"),
        Some(&owned.owner_token),
        None,
    )
    .await;
    assert_eq!(body["functions"], json!([]), "an excepted finding is not a violation");

    // Its hours over, the sweeper expires it and the finding counts again.
    sqlx::query("update rule_exception set expires_at = now() - interval '1 second'")
        .execute(&pool)
        .await
        .expect("move the clock");
    assert_eq!(backend::governance::exceptions::expire(&pool).await.expect("expire"), 1);
    let seen = violations().await;
    assert_eq!(seen["functions"], 1, "{seen}");
    assert_eq!(seen["page"][0]["findings"][0]["excepted"], false);
    assert_eq!(seen["exceptions"], json!([]), "no open request, no live exception");
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_event where action like 'exception.%' order by audit_event_id",
    )
    .fetch_all(&pool)
    .await
    .expect("audit");
    assert_eq!(actions, ["exception.request", "exception.approve", "exception.expire"]);
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn a_public_url_past_its_expiry_is_switched_off_by_the_sweeper(pool: PgPool) {
    let (base, _stop) = super::api::engine_with_function(None).await;
    let app = spawn_app(pool.clone()).await;
    app.sign_in_as_admin().await;
    let owned = super::api::owned_ledger(&pool, &app, &base).await;
    let rule =
        [("kind", "public_url"), ("severity", "error"), ("policy", "expiry"), ("max_hours", "24")];
    let (status, body) = add_rule(&app, &rule).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let function_id = owned.function_id.to_string();
    let url_form = |minutes: &'static str| {
        vec![
            ("function_id", function_id.clone()),
            ("auth_type", "NONE".to_owned()),
            ("invoke_mode", "BUFFERED".to_owned()),
            ("expires_in_minutes", minutes.to_owned()),
        ]
    };
    let save = |minutes: &'static str| {
        let fields = url_form(minutes);
        let owner = &owned.owner_app;
        async move {
            let response = owner.call("save_url_config", &form(&fields)).await;
            let status = response.status();
            (status, response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    // Without an expiry, or with one past the rule's 24 hours: refused, on the auth type.
    let (status, body) = save("").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["Validation"]["message"].as_str().is_some_and(|m| m.contains("needs an expiry")),
        "{body}"
    );
    let (status, body) = save("2000").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["Validation"]["message"].as_str().is_some_and(|m| m.contains("would live 34 hours")),
        "{body}"
    );
    let (status, body) = save("60").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let lambda = {
        let local =
            backend::connections::ensure_local(&pool, &base, "us-east-1").await.expect("conn");
        backend::connections::get(&pool, local).await.expect("conn").lambda("us-east-1").await
    };
    let public_sids = || async {
        match lambda.get_policy().function_name("ledger").send().await {
            Err(_) => Vec::new(),
            Ok(out) => {
                let policy: Value =
                    serde_json::from_str(out.policy().unwrap_or("{}")).expect("policy");
                policy["Statement"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s["Sid"].as_str().map(str::to_owned))
                    .collect()
            }
        }
    };
    assert_eq!(public_sids().await.len(), 2, "both public statements");
    // Not due yet: the sweeper leaves it.
    assert_eq!(backend::urls::expiry::expire_public_urls(&pool).await.expect("sweep"), 0);
    let move_clock = || {
        sqlx::query("update catalog_function set url_expires_at = now() - interval '1 second' where url_expires_at is not null")
            .execute(&pool)
    };
    move_clock().await.expect("the hour passes");
    assert_eq!(backend::urls::expiry::expire_public_urls(&pool).await.expect("sweep"), 1);
    let config =
        lambda.get_function_url_config().function_name("ledger").send().await.expect("URL kept");
    assert_eq!(config.auth_type().as_str(), "AWS_IAM", "switched, as no rule says delete");
    assert_eq!(public_sids().await, Vec::<String>::new(), "its public statements removed");
    let dashboard: Value =
        owned.owner_app.call("get_dashboard", &[]).await.json().await.expect("json");
    assert_eq!(dashboard["expired_urls"][0][1], "ledger", "{dashboard}");
    assert_eq!(dashboard["expired_urls"][0][2], "switched");
    let other: Value = owned.other_app.call("get_dashboard", &[]).await.json().await.expect("json");
    assert_eq!(other["expired_urls"], json!([]), "only its owner is told");

    // With a rule that says delete, the next expired public URL is deleted with its statements.
    let rules: Value = app.call("governance", &[]).await.json().await.expect("json");
    let old = rules["rules"][0]["rule_id"].as_str().expect("id").to_owned();
    let response = app.call("delete_rule", &[("rule_id", &old), ("confirm", "yes")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut deleting = rule.to_vec();
    deleting.push(("on_expiry", "delete"));
    let (status, body) = add_rule(&app, &deleting).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        "Public Function URLs only with an expiry of at most 24 hours (deleted at expiry)."
    );
    let (status, body) = save("30").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    move_clock().await.expect("the half hour passes");
    assert_eq!(backend::urls::expiry::expire_public_urls(&pool).await.expect("sweep"), 1);
    assert!(
        lambda.get_function_url_config().function_name("ledger").send().await.is_err(),
        "deleted"
    );
    assert_eq!(public_sids().await, Vec::<String>::new());
    let dashboard: Value =
        owned.owner_app.call("get_dashboard", &[]).await.json().await.expect("json");
    assert_eq!(dashboard["expired_urls"][0][2], "deleted", "{dashboard}");
    let audited: Vec<(Option<uuid::Uuid>, Value)> = sqlx::query_as(
        "select actor_id, detail from audit_event where action = 'function.expire_url' order by audit_event_id",
    )
    .fetch_all(&pool)
    .await
    .expect("audit");
    assert_eq!(audited.len(), 2);
    assert!(audited.iter().all(|(actor, _)| actor.is_none()), "the system did it");
    assert_eq!(audited[1].1["action"], "deleted");
}

/// The shared-role rule finds each function whose role another catalogued function also uses —
/// and only those — when one function is evaluated after a change as when the whole catalog is.
#[sqlx::test(migrator = "MIGRATOR")]
async fn a_role_used_by_two_functions_is_found_for_both_and_no_other(pool: PgPool) {
    let (base, _stop) = super::api::engine_with_function(None).await;
    let http = reqwest::Client::new();
    engine_tests_role(&base, "own").await;
    for (name, role) in [("twin", "r"), ("loner", "own")] {
        let created = http
            .post(format!("{base}/2015-03-31/functions"))
            .json(&json!({
                "FunctionName": name, "Runtime": "python3.12", "Handler": "app.handler",
                "Role": format!("arn:aws:iam::000000000000:role/{role}"),
                "Code": { "ZipFile": "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==" },
            }))
            .send()
            .await
            .expect("create");
        assert_eq!(created.status(), 201, "{:?}", created.text().await);
    }
    let app = spawn_app(pool.clone()).await;
    app.sign_in_as_admin().await;
    let (status, body) = add_rule(&app, &[("kind", "shared_role"), ("severity", "warning")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let local = backend::connections::ensure_local(&pool, &base, "us-east-1").await.expect("conn");
    let connection = backend::connections::get(&pool, local).await.expect("get");
    backend::catalog::sync(&pool, &connection).await.expect("sync");
    let violating = |pool: PgPool| async move {
        let mut names: Vec<String> = sqlx::query_scalar(
            "select f.name from rule_violation v join catalog_function f using (function_id)
             order by f.name",
        )
        .fetch_all(&pool)
        .await
        .expect("violations");
        names.dedup();
        names
    };
    assert_eq!(violating(pool.clone()).await, ["ledger", "twin"], "a whole connection");
    // One function evaluated alone (as after a change) still sees who else uses its role.
    let twin: uuid::Uuid =
        sqlx::query_scalar("select function_id from catalog_function where name = 'twin'")
            .fetch_one(&pool)
            .await
            .expect("twin");
    sqlx::query("delete from rule_violation").execute(&pool).await.expect("cleared");
    backend::governance::violations::evaluate_catalog(
        &pool,
        backend::governance::violations::Scope::Function(twin),
    )
    .await
    .expect("evaluated");
    assert_eq!(violating(pool.clone()).await, ["twin"]);
}

/// An execution role in the test engine, through its IAM API.
async fn engine_tests_role(base: &str, name: &str) {
    let body = format!(
        "Action=CreateRole&Version=2010-05-08&RoleName={name}&AssumeRolePolicyDocument={}",
        engine::iam::percent_encode(engine::iam::LAMBDA_TRUST_POLICY)
    );
    let response = reqwest::Client::new()
        .post(format!("{base}/"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("CreateRole");
    assert!(response.status().is_success(), "{:?}", response.text().await);
}

/// Orphan log groups: a group whose function is gone is listed (an edge replica's, another
/// service's and a live function's are not), only admins see and delete them, a live function's
/// group is refused, and a deleted one is gone from the cloud (asked with the SDK) and audited.
#[sqlx::test(migrator = "MIGRATOR")]
async fn orphan_log_groups_are_found_and_deleted_by_admins_only(pool: PgPool) {
    let (base, _stop) = super::api::engine_with_function(None).await;
    let app = spawn_app(pool.clone()).await;
    app.sign_in_as_admin().await;
    let local = backend::connections::ensure_local(&pool, &base, "us-east-1").await.expect("conn");
    let logs = backend::connections::get(&pool, local).await.expect("conn").logs("us-east-1").await;
    for group in [
        "/aws/lambda/ledger",
        "/aws/lambda/us-east-1.ledger",
        "/aws/lambda/gone",
        "/aws/apigateway/x",
    ] {
        logs.create_log_group().log_group_name(group).send().await.expect("CreateLogGroup");
    }
    let (status, report) = listed(&app).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let names: Vec<&str> = report["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter_map(|g| g["name"].as_str())
        .collect();
    assert_eq!(names, ["/aws/lambda/gone"], "{report}");
    assert_eq!(report["unreachable"], json!([]));

    let developer_password = app.create_account("dev@example.com", "developer").await;
    let developer = super::app_clone(&app);
    developer.sign_in("dev@example.com", &developer_password).await;
    assert_eq!(listed(&developer).await.0, StatusCode::FORBIDDEN);
    assert_eq!(report["roles"], json!([]), "no role made by the console here");
    let id = uuid::Uuid::new_v4().to_string();
    let role_fields = [("ledger_entry_id", id.as_str()), ("confirm", "yes")];
    let as_developer = developer.call("delete_orphan_role", &role_fields).await.status();
    assert_eq!(as_developer, StatusCode::FORBIDDEN);
    let unknown = app.call("delete_orphan_role", &role_fields).await.status();
    assert_eq!(unknown, StatusCode::NOT_FOUND, "a role the ledger does not hold");
    assert_eq!(
        delete_orphan(&developer, local, "/aws/lambda/gone", true).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        delete_orphan(&app, local, "/aws/lambda/gone", false).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let (status, body) = delete_orphan(&app, local, "/aws/lambda/ledger", true).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a live function's group is refused: {body}");
    assert!(body.contains("the function ledger exists"), "{body}");
    let (status, body) = delete_orphan(&app, local, "/aws/apigateway/x", true).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = delete_orphan(&app, local, "/aws/lambda/gone", true).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let left: Vec<String> = logs
        .describe_log_groups()
        .send()
        .await
        .expect("DescribeLogGroups")
        .log_groups()
        .iter()
        .filter_map(|g| g.log_group_name().map(str::to_owned))
        .collect();
    assert!(!left.iter().any(|g| g == "/aws/lambda/gone"), "{left:?}");
    assert!(left.iter().any(|g| g == "/aws/lambda/ledger"), "the live function's group is kept");
    assert_eq!(listed(&app).await.1["groups"], json!([]));
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_event where action = 'governance.orphan_log_group.delete'
           and target like 'log-group:Local:us-east-1:/aws/lambda/gone'",
    )
    .fetch_one(&pool)
    .await
    .expect("audit");
    assert_eq!(audited, 1);
}

async fn listed(app: &super::common::TestApp) -> (StatusCode, Value) {
    let response = app.call("orphans", &[]).await;
    (response.status(), response.json::<Value>().await.unwrap_or(Value::Null))
}

async fn delete_orphan(
    who: &super::common::TestApp,
    connection: uuid::Uuid,
    name: &str,
    confirm: bool,
) -> (StatusCode, String) {
    let connection = connection.to_string();
    let mut fields =
        vec![("connection_id", connection.as_str()), ("region", "us-east-1"), ("name", name)];
    if confirm {
        fields.push(("confirm", "yes"));
    }
    let response = who.call("delete_orphan_log_group", &fields).await;
    (response.status(), response.text().await.unwrap_or_default())
}

/// The Violations view's trend: the days the sweeper recorded (the last two weeks), then today
/// as counted now, each with its change; by rule, the change over the week.
#[sqlx::test(migrator = "MIGRATOR")]
async fn the_violations_trend_shows_recorded_days_then_today(pool: PgPool) {
    use backend::governance::violations;
    let app = spawn_app(pool.clone()).await;
    app.sign_in_as_admin().await;
    backend::seed::seed(&pool, 40).await.expect("seed");
    let (status, body) =
        add_rule(&app, &[("kind", "memory"), ("severity", "warning"), ("max", "256")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    violations::evaluate_catalog(&pool, violations::Scope::All).await.expect("evaluate");
    let now: i64 = sqlx::query_scalar(
        "select count(distinct function_id) from rule_violation", // one rule: its violators
    )
    .fetch_one(&pool)
    .await
    .expect("count");
    assert!(now > 0);
    let rule_id: uuid::Uuid = sqlx::query_scalar("select rule_id from governance_rule")
        .fetch_one(&pool)
        .await
        .expect("rule");
    // Two days ago, five more broke it; three weeks ago is beyond the trend.
    for (days_ago, functions) in [(2, now + 5), (21, 1)] {
        sqlx::query(
            "insert into violation_day (day, functions, by_rule)
             values ((now() at time zone 'utc')::date - $1::int, $2, jsonb_build_object($3::text, $2))",
        )
        .bind(days_ago)
        .bind(functions)
        .bind(rule_id.to_string())
        .execute(&pool)
        .await
        .expect("a past day");
    }

    // The sweeper's record of today: written once, not again while nothing changes.
    violations::record_day(&pool).await.expect("recorded");
    violations::record_day(&pool).await.expect("recorded again");
    let today: (i64, Value) = sqlx::query_as(
        "select functions, by_rule from violation_day where day = (now() at time zone 'utc')::date",
    )
    .fetch_one(&pool)
    .await
    .expect("today");
    assert_eq!(today, (now, json!({ rule_id.to_string(): now })));

    let response = app.call("list_violations", &[("rule", "")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let seen = response.json::<Value>().await.expect("json");
    let trend = seen["trend"].as_array().expect("trend");
    assert_eq!(trend.len(), 2, "{trend:?}");
    assert_eq!(trend[0]["functions"], now + 5);
    assert_eq!(trend[0]["change"], Value::Null);
    assert_eq!(trend[1]["functions"], now);
    assert_eq!(trend[1]["change"], -5);
    assert_eq!(seen["by_rule"][0]["change"], -5, "{seen}");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn the_create_form_is_checked_as_typed_and_refused_or_made_without_javascript(pool: PgPool) {
    let (base, _stop) = super::api::engine_with_function(None).await;
    let app = spawn_app(pool.clone()).await;
    app.sign_in_as_admin().await;
    let rule = [("kind", "required_tag"), ("severity", "error"), ("key", "cost-center")];
    assert_eq!(add_rule(&app, &rule).await.0, StatusCode::OK);
    let local = backend::connections::ensure_local(&pool, &base, "us-east-1").await.expect("conn");
    let learner_password = app.create_account("learner@example.com", "learner").await;
    let developer_password = app.create_account("dev@example.com", "developer").await;
    let developer = super::app_clone(&app);
    developer.sign_in("dev@example.com", &developer_password).await;

    let target = format!("{local}|us-east-1");
    let mut fields: Vec<(&'static str, String)> = [
        ("target", target.as_str()),
        ("name", "one-page"),
        ("runtime", "python3.12"),
        ("architecture", "x86_64"),
        ("role", "new"),
        ("memory", "128"),
        ("timeout", "3"),
        ("auth_type", "none"),
        ("lifecycle", "experimental"),
        ("environment", "dev"),
        ("tags", ""),
    ]
    .map(|(k, v)| (k, v.to_owned()))
    .to_vec();

    // As typed (the page's GET): the missing tag, on the tags field, with its fix.
    let check = |fields: &[(&'static str, String)]| {
        let query: Vec<(String, String)> =
            fields.iter().map(|(k, v)| (format!("form[{k}]"), v.clone())).collect();
        let request = developer.client.get(developer.url("/api/check_create")).query(&query);
        async move {
            let response = request.send().await.expect("check");
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<Value>().await.expect("json")
        }
    };
    let findings = check(&fields).await;
    assert_eq!(findings[0]["field"], "tags", "{findings}");
    assert_eq!(findings[0]["severity"], "error");
    assert!(findings[0]["fix"].as_str().is_some_and(|f| f.contains("cost-center")), "{findings}");

    // Posted anyway without JavaScript: refused on the tags field, back to the form, nothing made.
    let response = developer.post_form("create_function", &form(&fields), "/create/function").await;
    assert_eq!(response.status(), StatusCode::FOUND, "sent back to the form");
    let back = super::common::location(&response);
    assert!(back.contains("/create/function"), "{back}");
    let lambda =
        backend::connections::get(&pool, local).await.expect("conn").lambda("us-east-1").await;
    assert!(lambda.get_function().function_name("one-page").send().await.is_err());

    // A learner may not borrow an existing role, whatever the form says.
    let learner = super::app_clone(&app);
    learner.sign_in("learner@example.com", &learner_password).await;
    let mut borrowed = fields.clone();
    borrowed.retain(|(k, _)| *k != "role");
    borrowed.push(("role", "existing".into()));
    borrowed.push(("existing_role", "arn:aws:iam::000000000000:role/anything".into()));
    let response = learner.call("create_function", &form(&borrowed)).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["Validation"]["field"], "existing_role", "{body}");

    // What things cost is the platform team's: a developer gets neither the page's data nor the CSV.
    assert_eq!(developer.get("/governance/cost.csv").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(developer.get("/api/cost_report").await.status(), StatusCode::FORBIDDEN);
    let csv = app.get("/governance/cost.csv").await;
    assert_eq!(csv.status(), StatusCode::OK);
    let csv = csv.text().await.expect("csv");
    assert!(csv.starts_with("\"function\",\"team\""), "{csv}");

    // Only admins create functions for someone else.
    let mut for_admin = fields.clone();
    for_admin.push(("owner", "admin@lambdaport.local".into()));
    let response = developer.call("create_function", &form(&for_admin)).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["Validation"]["field"], "owner", "{body}");

    // Tagged: it passes, and the plain post lands on the new function's page.
    fields.retain(|(k, _)| *k != "tags");
    fields.push(("tags", "cost-center=cc-9".into()));
    assert_eq!(check(&fields).await, Value::Array(Vec::new()));
    let response = developer.post_form("create_function", &form(&fields), "/create/function").await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let page = super::common::location(&response);
    assert!(page.starts_with("/catalog/"), "{page}");
    let config = lambda.get_function_configuration().function_name("one-page").send().await;
    assert_eq!(config.expect("made").runtime().map(|r| r.as_str()), Some("python3.12"));
    let shown = developer.get(&page).await;
    assert_eq!(shown.status(), StatusCode::OK);
    let html = shown.text().await.expect("page");
    assert!(html.contains("The function is created"), "the flash on the function's page: {html}");
}
