//! Role boundaries over HTTP: secrets (variables, logs) reach only editors, offboarding stops
//! sessions and tokens at once, passwords are reset and changed, sign-ups are throttled.

use super::MIGRATOR;
use super::api::{api, engine_with_function, token};
use super::common::{self, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

const SECRET: &str = "hunter2-do-not-leak";

/// A function's variable values are in no response a reader gets — not the page, not its
/// hydration data, not the server function — and an editor gets them only by revealing them,
/// which is audited.
#[sqlx::test(migrator = "MIGRATOR")]
async fn variable_values_reach_only_editors_who_reveal_them(pool: PgPool) {
    let (base, _stop) = engine_with_function(Some(json!({ "DB_PASSWORD": SECRET }))).await;
    let app = spawn_app(pool.clone()).await;
    app.sign_in_as_admin().await;
    let learner_password = app.create_account("learner@example.com", "learner").await;
    let outsider_password = app.create_account("outsider@example.com", "developer").await;
    let local = backend::connections::ensure_local(&pool, &base, "us-east-1").await.expect("conn");
    let connection = backend::connections::get(&pool, local).await.expect("get");
    backend::catalog::sync(&pool, &connection).await.expect("sync");
    let id: uuid::Uuid =
        sqlx::query_scalar("select function_id from catalog_function where name = 'ledger'")
            .fetch_one(&pool)
            .await
            .expect("function");
    let admin_id = backend::accounts::find_by_email(&pool, server::FIRST_ADMIN_EMAIL)
        .await
        .expect("find")
        .expect("admin")
        .account_id;
    backend::catalog::import(&pool, &backend::audit::Actor::system(), id, admin_id, None)
        .await
        .expect("import");
    let id = id.to_string();
    let page = format!("/catalog/{id}/configuration");

    for (email, password) in
        [("learner@example.com", learner_password), ("outsider@example.com", outsider_password)]
    {
        let reader = super::app_clone(&app);
        assert_eq!(reader.sign_in(email, &password).await.status(), StatusCode::OK);
        let html = reader.get(&page).await.text().await.expect("html");
        assert!(html.contains("arn:aws:lambda:us-east-1:000000000000:function:ledger"), "rendered");
        assert!(!html.contains(SECRET) && !html.contains("DB_PASSWORD"), "{email}: page leaks");
        let detail = reader.call("get_function_detail", &[("function_id", &id)]).await;
        assert_eq!(detail.status(), StatusCode::OK);
        let detail = detail.text().await.expect("body");
        assert!(!detail.contains(SECRET) && !detail.contains("DB_PASSWORD"), "{email}: {detail}");
        let reveal = reader.call("reveal_environment", &[("function_id", &id)]).await;
        assert_eq!(reveal.status(), StatusCode::FORBIDDEN, "{email}");
        assert!(!reveal.text().await.expect("body").contains(SECRET));
        // Logs can hold what the function printed of its secrets: not for readers, neither
        // downloaded nor tailed; nor may they send requests to its URL through the console.
        // Nor hear the answers of requests sent to it (the URL tester's watch).
        let watch = format!("/catalog/{id}/url/watch/key-0123456789");
        for path in [format!("/catalog/{id}/logs.txt"), format!("/catalog/{id}/logs/tail"), watch] {
            assert_eq!(reader.get(&path).await.status(), StatusCode::FORBIDDEN, "{email}: {path}");
        }
        let sent = reader
            .call("send_url_request", &[("function_id", &id), ("method", "GET"), ("path", "/")])
            .await;
        assert_eq!(sent.status(), StatusCode::FORBIDDEN, "{email}");
    }

    // The owner may watch the tester's answers arrive: once per key.
    let watch = format!("/catalog/{id}/url/watch/key-0123456789");
    let watching = app.get(&watch).await;
    assert_eq!(watching.status(), StatusCode::OK);
    assert_eq!(watching.headers()["content-type"], "text/event-stream");
    assert_eq!(app.get(&watch).await.status(), StatusCode::CONFLICT, "the key is taken");
    drop(watching);

    // The owner sees the names, masked; the values only on reveal, which is audited.
    let html = app.get(&page).await.text().await.expect("html");
    assert!(html.contains("DB_PASSWORD"), "the owner sees the variable's name");
    assert!(!html.contains(SECRET), "masked until revealed");
    let reveal = app.call("reveal_environment", &[("function_id", &id)]).await;
    assert_eq!(reveal.status(), StatusCode::OK);
    assert_eq!(reveal.json::<String>().await.expect("json"), format!("DB_PASSWORD={SECRET}"));
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_event where action = 'function.reveal_environment'",
    )
    .fetch_one(&pool)
    .await
    .expect("audit");
    assert_eq!(audited, 1);
    // The catalog never stores the values.
    let stored: i64 = sqlx::query_scalar(
        "select count(*) from catalog_function where cloud_config::text like '%' || $1 || '%'",
    )
    .bind(SECRET)
    .fetch_one(&pool)
    .await
    .expect("catalog");
    assert_eq!(stored, 0);
}

/// An admin disables an account: its session and its token stop at once, and it cannot sign
/// in; enabled again, it signs in afresh (the old session stays ended). A password reset ends
/// the account's sessions; changing one's own password ends the other sessions, not this one.
#[sqlx::test(migrator = "MIGRATOR")]
async fn offboarding_stops_sessions_and_tokens_at_once(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    app.sign_in_as_admin().await;
    let password = app.create_account("leaver@example.com", "developer").await;
    let leaver = super::app_clone(&app);
    assert_eq!(leaver.sign_in("leaver@example.com", &password).await.status(), StatusCode::OK);
    let secret = token(&leaver, "laptop").await;
    let functions = app.url("/api/v1/functions");
    let (status, _) = api(reqwest::Method::GET, functions.clone(), Some(&secret), None).await;
    assert_eq!(status, StatusCode::OK);
    let leaver_id = common::account_id(&app.directory().await, "leaver@example.com");

    let disabled =
        app.call("set_account_disabled", &[("account_id", &leaver_id), ("disabled", "yes")]).await;
    assert_eq!(disabled.status(), StatusCode::OK);
    assert_eq!(leaver.call("list_tokens", &[]).await.status(), StatusCode::UNAUTHORIZED);
    let (status, _) = api(reqwest::Method::GET, functions.clone(), Some(&secret), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the token stopped");
    let refused = leaver.sign_in("leaver@example.com", &password).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused.text().await.expect("body").contains("disabled"));
    let directory = app.directory().await;
    let listed = directory["accounts"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["email"] == "leaver@example.com").cloned())
        .expect("listed");
    assert_eq!(listed["disabled"], true);
    // Nobody disables themselves (nor the last admin).
    let admin_id = common::account_id(&directory, server::FIRST_ADMIN_EMAIL);
    let own =
        app.call("set_account_disabled", &[("account_id", &admin_id), ("disabled", "yes")]).await;
    assert_eq!(own.status(), StatusCode::CONFLICT);

    app.call("set_account_disabled", &[("account_id", &leaver_id), ("disabled", "no")]).await;
    let (status, _) = api(reqwest::Method::GET, functions.clone(), Some(&secret), None).await;
    assert_eq!(status, StatusCode::OK, "tokens work again once enabled");
    let other_browser = super::app_clone(&app);
    assert_eq!(
        other_browser.sign_in("leaver@example.com", &password).await.status(),
        StatusCode::OK
    );
    assert_eq!(other_browser.call("list_tokens", &[]).await.status(), StatusCode::OK);

    // A reset ends their sessions; the new password works, the old one does not.
    let unconfirmed = app.call("reset_account_password", &[("account_id", &leaver_id)]).await;
    assert_eq!(unconfirmed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let reset =
        app.call("reset_account_password", &[("account_id", &leaver_id), ("confirm", "yes")]).await;
    assert_eq!(reset.status(), StatusCode::OK);
    let new_password: String = reset.json().await.expect("json");
    assert_eq!(other_browser.call("list_tokens", &[]).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        leaver.sign_in("leaver@example.com", &password).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(leaver.sign_in("leaver@example.com", &new_password).await.status(), StatusCode::OK);

    // Changing one's own: the current password is checked; other sessions end, this one stays.
    let second = super::app_clone(&app);
    assert_eq!(second.sign_in("leaver@example.com", &new_password).await.status(), StatusCode::OK);
    let wrong = leaver
        .call(
            "change_password",
            &[("current_password", "nope"), ("new_password", "a brand new one")],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let changed = leaver
        .call(
            "change_password",
            &[("current_password", &new_password), ("new_password", "a brand new one")],
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert_eq!(leaver.call("list_tokens", &[]).await.status(), StatusCode::OK, "this one stays");
    assert_eq!(second.call("list_tokens", &[]).await.status(), StatusCode::UNAUTHORIZED);
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_event where target = 'account:leaver@example.com' order by created_at",
    )
    .fetch_all(&pool)
    .await
    .expect("audit");
    assert_eq!(
        actions,
        [
            "create_account",
            "token.create",
            "disable_account",
            "enable_account",
            "reset_password",
            "change_password"
        ]
    );
}

/// Sign-up is throttled per address (a class behind one NAT raises the limit).
#[sqlx::test(migrator = "MIGRATOR")]
async fn sign_ups_are_limited_per_address(pool: PgPool) {
    let app = spawn_app_with(pool, &["--allow-signup", "--signups-per-address", "2"], None).await;
    for n in 0..2 {
        let person = super::app_clone(&app);
        let email = format!("learner{n}@example.com");
        let signed_up =
            person.call("sign_up", &[("email", &email), ("password", "long enough pass")]).await;
        assert_eq!(signed_up.status(), StatusCode::OK, "{:?}", signed_up.text().await);
    }
    let third = super::app_clone(&app);
    let refused = third
        .call("sign_up", &[("email", "learner3@example.com"), ("password", "long enough pass")])
        .await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key(reqwest::header::RETRY_AFTER));
}

/// A lab run does not outlast ownership: once an admin hands the run's function to someone else,
/// the learner's run can no longer change it (code, settings, URL, cleanup).
#[sqlx::test(migrator = "MIGRATOR")]
async fn a_run_cannot_change_a_function_its_learner_no_longer_owns(pool: PgPool) {
    use engine::jail::{Containment, Identity};
    let (base, _stop) = engine_with_function(None).await;
    let local = backend::connections::ensure_local(&pool, &base, "us-east-1").await.expect("conn");
    let app = common::spawn_app_configured(pool.clone(), &[], |console| {
        console.with_engine(&Containment::Contained(Identity::Root))
    })
    .await;
    app.sign_in_as_admin().await;
    let password = app.create_account("learner@example.com", "learner").await;
    app.create_account("dev@example.com", "developer").await;
    let learner = super::app_clone(&app);
    learner.sign_in("learner@example.com", &password).await;
    let target = format!("{local}|us-east-1");
    let run: String =
        learner.call("start_lab", &[("target", &target)]).await.json().await.expect("id");
    let created = learner
        .call(
            "lab_function",
            &[
                ("lab_run_id", run.as_str()),
                ("name", "handed-over"),
                ("runtime", "python3.12"),
                ("architecture", "x86_64"),
                ("role", "new"),
                ("lifecycle", "experimental"),
                ("environment", "dev"),
            ],
        )
        .await;
    assert_eq!(created.status(), StatusCode::OK, "{:?}", created.text().await);
    let source = "def lambda_handler(event, context):\n    return 'ok'\n";
    let mine = learner.call("lab_code", &[("lab_run_id", &run), ("source", source)]).await;
    assert_eq!(mine.status(), StatusCode::OK, "{:?}", mine.text().await);

    let connection = backend::connections::get(&pool, local).await.expect("get");
    let id: uuid::Uuid =
        sqlx::query_scalar("select function_id from catalog_function where name = 'handed-over'")
            .fetch_one(&pool)
            .await
            .expect("function");
    let detail = backend::catalog::detail(&pool, id).await.expect("detail");
    let actor = backend::audit::Actor::system();
    backend::catalog::transfer(&pool, &actor, &connection, &detail, "dev@example.com", None)
        .await
        .expect("transfer");
    for (step, form) in
        [("lab_code", vec![("source", source)]), ("lab_cleanup", vec![("confirm", "yes")])]
    {
        let mut form = form;
        form.push(("lab_run_id", run.as_str()));
        let refused = learner.call(step, &form).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{step}");
        assert!(refused.text().await.expect("body").contains("no longer yours"), "{step}");
    }
    let lambda = connection.lambda("us-east-1").await;
    assert!(lambda.get_function().function_name("handed-over").send().await.is_ok(), "still there");
    // Viewing still works.
    assert_eq!(learner.call("get_lab", &[("lab_run_id", &run)]).await.status(), StatusCode::OK);
    // The run's logs are a GET (a read, not admitted as an action): its learner reads them,
    // another learner cannot.
    let logs = format!("/api/lab_logs?lab_run_id={run}");
    assert_eq!(learner.get(&logs).await.status(), StatusCode::OK);
    let other_password = app.create_account("other@example.com", "learner").await;
    let other = super::app_clone(&app);
    other.sign_in("other@example.com", &other_password).await;
    let refused = other.get(&logs).await.status();
    assert!(refused == StatusCode::FORBIDDEN || refused == StatusCode::NOT_FOUND, "{refused}");
}
