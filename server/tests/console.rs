//! The console over real HTTP against a real Postgres: health, sign-in, sessions, the origin
//! check, roles and the sign-in rate limit; the REST API in `console/api.rs`, test events in
//! `console/test_events.rs`, governance rules and evaluations in `console/governance.rs`.

#[path = "console/api.rs"]
mod api;
#[path = "console/boundaries.rs"]
mod boundaries;
mod common;
#[path = "console/governance.rs"]
mod governance;
#[path = "console/test_events.rs"]
mod test_events;

use std::time::Duration;

use backend::throttle::SignInThrottle;
use common::{location, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue, ORIGIN, REFERER, SET_COOKIE};
use sqlx::PgPool;

const MIGRATOR: &sqlx::migrate::Migrator = &backend::db::MIGRATOR;

#[sqlx::test(migrator = "MIGRATOR")]
async fn healthz_checks_the_database(pool: PgPool) {
    let app = spawn_app(pool).await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["database"], "ok");

    app.pool.close().await;
    assert_eq!(app.get("/healthz").await.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn every_page_but_sign_in_needs_a_session(pool: PgPool) {
    let app = spawn_app(pool).await;
    for path in ["/", "/admin", "/catalog", "/audit", "/no-such-page"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert!(location(&response).starts_with("/signin"), "{path} -> {}", location(&response));
    }
    assert_eq!(location(&app.get("/admin?tab=teams").await), "/signin?next=/admin%3Ftab%3Dteams");
    let signin = app.get("/signin").await;
    assert_eq!(signin.status(), StatusCode::OK);
    let html = signin.text().await.expect("html");
    assert!(html.contains("<h1>Sign in</h1>"), "{html}");
    assert!(html.contains("/pkg/lambdaport.js"), "hydration script is linked");
    // Server functions that need a caller say so, not redirect.
    let response = app.call("get_dashboard", &[]).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn sign_in_rotates_the_session_and_sign_out_ends_it(pool: PgPool) {
    let app = spawn_app(pool).await;

    // Without JavaScript, a failed sign-in is sent back to its page with the error in the URL.
    let failed = app
        .post_form(
            "sign_in",
            &[("email", "admin@lambdaport.local"), ("password", "wrong")],
            "/signin",
        )
        .await;
    assert_eq!(failed.status(), StatusCode::FOUND, "a plain form post is sent back to its page");
    let back = location(&failed);
    assert!(back.contains("__err="), "{back}");
    let page = app.client.get(&back).send().await.expect("GET").text().await.expect("html");
    assert!(page.contains("wrong email or password"), "the page shows the error");

    let first = app.sign_in("Admin@Lambdaport.local", &app.admin_password).await;
    assert_eq!(first.status(), StatusCode::OK);
    let before = session_cookie(&first).expect("session cookie set at sign-in");
    let response = app.sign_in("admin@lambdaport.local", &app.admin_password).await;
    let cookie = session_cookie(&response).expect("a new cookie at the next sign-in");
    assert_ne!(cookie_value(&cookie), cookie_value(&before), "session id rotated at sign-in");
    let attributes = cookie.to_lowercase();
    assert!(attributes.contains("httponly"), "{cookie}");
    assert!(attributes.contains("samesite=lax"), "{cookie}");
    assert!(!attributes.contains("secure"), "plain http: not Secure ({cookie})");

    let dashboard = app.get("/").await;
    assert_eq!(dashboard.status(), StatusCode::OK);
    let html = dashboard.text().await.expect("html");
    assert!(html.contains("Dashboard") && html.contains("admin@lambdaport.local"), "{html}");
    assert_eq!(
        location(&app.get("/signin?next=/admin").await),
        "/admin",
        "signed in: sign-in page moves on"
    );

    assert_eq!(app.call("sign_out", &[]).await.status(), StatusCode::OK);
    assert_eq!(app.get("/").await.status(), StatusCode::SEE_OTHER);
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn secure_cookie_behind_https(pool: PgPool) {
    let app = spawn_app_with(pool, &["--public-url", "https://console.example.com"], None).await;
    let mut headers = HeaderMap::new();
    headers.insert(ORIGIN, HeaderValue::from_static("https://console.example.com"));
    let form = [("email", "admin@lambdaport.local"), ("password", app.admin_password.as_str())];
    let response = app.call_with("sign_in", &form, headers).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = session_cookie(&response).expect("cookie");
    assert!(cookie.to_lowercase().contains("secure"), "{cookie}");
    assert!(cookie.starts_with("__Host-lambdaport.sid="), "kept to this origin: {cookie}");
    assert!(cookie.contains("Path=/") && !cookie.to_lowercase().contains("domain="), "{cookie}");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn activity_keeps_a_session_alive_without_a_write_per_request(pool: PgPool) {
    // Idle after 4 s; an active session is written back at most once a second.
    let app = spawn_app_with(pool, &["--session-idle-secs", "4"], None).await;
    app.sign_in_as_admin().await;
    let saved = || async {
        sqlx::query_scalar::<_, time::OffsetDateTime>(
            "select expiry_date from tower_sessions.session",
        )
        .fetch_one(&app.pool)
        .await
        .expect("one session")
    };
    // Active for longer than the idle time: still signed in.
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(1300)).await;
        assert_eq!(app.get("/").await.status(), StatusCode::OK, "an active session lasts");
    }
    // Requests close together read the session without saving it.
    let before = saved().await;
    for _ in 0..3 {
        assert_eq!(app.get("/").await.status(), StatusCode::OK);
    }
    assert_eq!(saved().await, before, "no write per request");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn session_expires_after_inactivity_and_is_swept(pool: PgPool) {
    let app = spawn_app_with(pool, &["--session-idle-secs", "1"], None).await;
    app.sign_in_as_admin().await;
    assert_eq!(app.get("/").await.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let response = app.get("/").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "idle session has expired");
    assert_eq!(app.call("get_dashboard", &[]).await.status(), StatusCode::UNAUTHORIZED);

    let mut remaining = i64::MAX;
    for _ in 0..40 {
        remaining = sqlx::query_scalar::<_, i64>(
            "select count(*) from tower_sessions.session where expiry_date < now()",
        )
        .fetch_one(&app.pool)
        .await
        .expect("count sessions");
        if remaining == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(remaining, 0, "the background sweep deletes expired sessions");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn unsafe_requests_need_our_origin(pool: PgPool) {
    let app = spawn_app(pool).await;
    let form = [("email", "admin@lambdaport.local"), ("password", app.admin_password.as_str())];

    let mut foreign = HeaderMap::new();
    foreign.insert(ORIGIN, HeaderValue::from_static("http://evil.example"));
    assert_eq!(app.call_with("sign_in", &form, foreign).await.status(), StatusCode::FORBIDDEN);

    let bare = app.client.post(app.url("/api/sign_in")).form(&form).send().await.expect("POST");
    assert_eq!(bare.status(), StatusCode::FORBIDDEN, "no Origin and no Referer");

    let mut referer = HeaderMap::new();
    referer.insert(REFERER, HeaderValue::from_str(&app.url("/signin")).expect("referer"));
    assert_eq!(app.call_with("sign_in", &form, referer).await.status(), StatusCode::OK);

    // Signed in, a forged request still cannot act.
    let mut forged = HeaderMap::new();
    forged.insert(ORIGIN, HeaderValue::from_static("http://evil.example"));
    let response = app.call_with("create_team", &[("name", "forged")], forged).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let teams: i64 =
        sqlx::query_scalar("select count(*) from team").fetch_one(&app.pool).await.expect("count");
    assert_eq!(teams, 0);
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn roles_are_checked_on_the_server(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.sign_in_as_admin().await;
    let password = app.create_account("dev@example.com", "developer").await;
    assert_eq!(
        app.call("create_account", &[("email", "DEV@example.com"), ("role", "developer")])
            .await
            .status(),
        StatusCode::CONFLICT,
        "emails are unique regardless of case"
    );
    let invalid =
        app.call("create_account", &[("email", "not-an-email"), ("role", "developer")]).await;
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = invalid.json().await.expect("json");
    assert_eq!(body["Validation"]["field"], "email", "{body}");

    let dev = app_clone(&app);
    assert_eq!(dev.sign_in("dev@example.com", &password).await.status(), StatusCode::OK);
    assert_eq!(dev.get("/").await.status(), StatusCode::OK);
    for (function, form) in [
        ("list_directory", vec![]),
        ("create_account", vec![("email", "x@example.com"), ("role", "admin")]),
        ("create_team", vec![("name", "mine")]),
    ] {
        assert_eq!(dev.call(function, &form).await.status(), StatusCode::FORBIDDEN, "{function}");
    }
    let audit = dev.call_json("search_audit_events", serde_json::json!({ "filters": {} })).await;
    assert_eq!(audit.status(), StatusCode::FORBIDDEN, "search_audit_events");

    // The admin promotes them; the next request sees the new role.
    let dev_id = common::account_id(&app.directory().await, "dev@example.com");
    let response =
        app.call("set_account_role", &[("account_id", &dev_id), ("role", "admin")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(dev.call("list_directory", &[]).await.status(), StatusCode::OK);

    let events: Vec<String> =
        sqlx::query_scalar("select action from audit_event order by audit_event_id")
            .fetch_all(&app.pool)
            .await
            .expect("audit");
    assert_eq!(events, ["create_account", "create_account", "set_role"], "every change is audited");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn teams_and_members(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.sign_in_as_admin().await;
    app.create_account("ada@example.com", "developer").await;
    assert_eq!(app.call("create_team", &[("name", " Payments ")]).await.status(), StatusCode::OK);
    assert_eq!(
        app.call("create_team", &[("name", "Payments")]).await.status(),
        StatusCode::CONFLICT
    );
    assert_eq!(
        app.call("create_team", &[("name", "")]).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // Without JavaScript, success is reported once, on the page the form returns to.
    let posted = app.post_form("create_team", &[("name", "Ops")], "/admin").await;
    assert_eq!(posted.status(), StatusCode::FOUND);
    let html = app.get("/admin").await.text().await.expect("html");
    assert!(html.contains("Created team Ops"), "flash shown");
    let html = app.get("/admin").await.text().await.expect("html");
    assert!(!html.contains("Created team Ops"), "and only once");

    let directory = app.directory().await;
    let names: Vec<&str> = directory["teams"]
        .as_array()
        .expect("teams")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["Ops", "Payments"], "trimmed, sorted by name");
    let team_id = directory["teams"][1]["team_id"].as_str().expect("team").to_owned();
    let ada = common::account_id(&directory, "ada@example.com");
    let add = [("team_id", team_id.as_str()), ("account_id", ada.as_str())];
    assert_eq!(app.call("add_team_member", &add).await.status(), StatusCode::OK);
    assert_eq!(app.call("add_team_member", &add).await.status(), StatusCode::CONFLICT);
    let bad = [("team_id", "not-a-uuid"), ("account_id", ada.as_str())];
    assert_eq!(app.call("add_team_member", &bad).await.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let directory = app.directory().await;
    assert_eq!(directory["teams"][1]["name"], "Payments");
    assert_eq!(directory["teams"][1]["members"], serde_json::json!(["ada@example.com"]));
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn the_last_admin_keeps_the_role(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.sign_in_as_admin().await;
    let admin_id = common::account_id(&app.directory().await, "admin@lambdaport.local");
    let response =
        app.call("set_account_role", &[("account_id", &admin_id), ("role", "developer")]).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn failed_sign_ins_are_limited_per_account(pool: PgPool) {
    let throttle = SignInThrottle::new(3, 100, Duration::from_secs(60));
    let app = spawn_app_with(pool, &[], Some(throttle)).await;
    for _ in 0..3 {
        assert_eq!(
            app.sign_in("admin@lambdaport.local", "wrong").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let limited = app.sign_in("admin@lambdaport.local", &app.admin_password).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS, "even the right password waits");
    assert!(limited.headers().contains_key("retry-after"));
    let body: serde_json::Value = limited.json().await.expect("json");
    assert!(body["RateLimited"].as_str().is_some_and(|m| m.contains("try again in")), "{body}");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn failed_sign_ins_are_limited_per_address(pool: PgPool) {
    let throttle = SignInThrottle::new(100, 4, Duration::from_secs(60));
    let app = spawn_app_with(pool, &[], Some(throttle)).await;
    for n in 0..4 {
        let email = format!("guess{n}@example.com");
        assert_eq!(app.sign_in(&email, "wrong").await.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        app.sign_in("another@example.com", "wrong").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// The review's classroom: 25 learners behind one address, each mistyping five times, then
/// signing in with the right password — all get in (with the default limits); guessing at new
/// accounts from that address stops at its allowance.
#[sqlx::test(migrator = "MIGRATOR")]
async fn a_class_behind_one_address_signs_in(pool: PgPool) {
    let app = spawn_app_with(pool, &["--sign-in-accounts-per-address", "30"], None).await;
    app.sign_in_as_admin().await;
    let mut class = Vec::new();
    for n in 0..25 {
        let email = format!("learner{n}@class.example");
        let password = app.create_account(&email, "learner").await;
        class.push((email, password));
    }
    for (email, password) in &class {
        for _ in 0..5 {
            assert_eq!(app.sign_in(email, "wrong").await.status(), StatusCode::UNAUTHORIZED);
        }
        assert_eq!(app.sign_in(email, password).await.status(), StatusCode::OK, "{email}");
    }
    // 25 of the address's 30 accounts are used: five more may fail, then no new one.
    for n in 0..5 {
        let email = format!("victim{n}@example.com");
        assert_eq!(
            app.sign_in(&email, "guess").await.status(),
            StatusCode::UNAUTHORIZED,
            "{email}"
        );
    }
    assert_eq!(
        app.sign_in("victim5@example.com", "guess").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// A wrong password for `g{n}@example.com`, said to come from `client` (`X-Forwarded-For`).
async fn guess_from(app: &common::TestApp, n: u32, client: &str) -> StatusCode {
    let email = format!("g{n}@example.com");
    let mut headers = HeaderMap::new();
    headers.insert("x-forwarded-for", HeaderValue::from_str(client).expect("value"));
    app.call_with("sign_in", &[("email", &email), ("password", "x")], headers).await.status()
}

/// Behind a trusted proxy each client counts as itself; anyone else's `X-Forwarded-For` is
/// ignored, so it cannot dodge the limits.
#[sqlx::test(migrator = "MIGRATOR")]
async fn forwarded_addresses_count_only_through_trusted_proxies(pool: PgPool) {
    let throttle = || Some(SignInThrottle::new(100, 2, Duration::from_secs(60)));
    let proxied =
        spawn_app_with(pool.clone(), &["--trusted-proxies", "127.0.0.1"], throttle()).await;
    for (n, client) in
        [(0, "198.51.100.1"), (1, "198.51.100.1"), (2, "198.51.100.2"), (3, "198.51.100.2")]
    {
        assert_eq!(
            guess_from(&proxied, n, client).await,
            StatusCode::UNAUTHORIZED,
            "{client}: its own allowance"
        );
    }
    assert_eq!(
        guess_from(&proxied, 4, "198.51.100.1").await,
        StatusCode::TOO_MANY_REQUESTS,
        "198.51.100.1 used its two"
    );
    drop(proxied);
}

/// Without `--trusted-proxies`, a client's own `X-Forwarded-For` changes nothing.
#[sqlx::test(migrator = "MIGRATOR")]
async fn forwarded_addresses_from_clients_are_ignored(pool: PgPool) {
    let throttle = SignInThrottle::new(100, 2, Duration::from_secs(60));
    let direct = spawn_app_with(pool, &[], Some(throttle)).await;
    assert_eq!(guess_from(&direct, 0, "203.0.113.1").await, StatusCode::UNAUTHORIZED);
    assert_eq!(guess_from(&direct, 1, "203.0.113.2").await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        guess_from(&direct, 2, "203.0.113.3").await,
        StatusCode::TOO_MANY_REQUESTS,
        "a client's own X-Forwarded-For is ignored"
    );
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn sign_up_only_when_allowed(pool: PgPool) {
    let closed = spawn_app(pool.clone()).await;
    let form = [("email", "learner@example.com"), ("password", "a long enough password")];
    assert_eq!(closed.call("sign_up", &form).await.status(), StatusCode::FORBIDDEN);
    drop(closed);

    let open = spawn_app_with_existing(pool, &["--allow-signup"]).await;
    assert_eq!(
        open.call("sign_up", &[("email", "l@example.com"), ("password", "short")]).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(open.call("sign_up", &form).await.status(), StatusCode::OK);
    let html = open.get("/").await.text().await.expect("html");
    assert!(html.contains("learner"), "new accounts are learners");
}

/// A second console on a database that already has its admin.
async fn spawn_app_with_existing(pool: PgPool, extra: &[&str]) -> common::TestApp {
    let args = common::serve_args(extra);
    let console = server::Console::build(&args, pool.clone()).await.expect("console");
    assert!(console.ensure_first_admin().await.expect("check").is_none(), "admin exists already");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(console.serve(listener, async move {
        let _ = stopped.await;
    }));
    common::TestApp {
        addr,
        pool,
        client: common::client(),
        admin_password: String::new(),
        _stop: stop,
    }
}

/// Another browser on the same console.
fn app_clone(app: &common::TestApp) -> common::TestApp {
    let (stop, _) = tokio::sync::oneshot::channel();
    common::TestApp {
        addr: app.addr,
        pool: app.pool.clone(),
        client: common::client(),
        admin_password: app.admin_password.clone(),
        _stop: stop,
    }
}

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("lambdaport.sid=") || c.starts_with("__Host-lambdaport.sid="))
        .map(str::to_owned)
}

fn cookie_value(cookie: &str) -> &str {
    cookie.split(';').next().unwrap_or_default()
}

/// An embedded engine that cannot sandbox code is not offered to learners (it would run their
/// code as the console's user); admins see why on the Admin page, and developers keep it.
#[sqlx::test(migrations = "../migrations")]
async fn learners_are_not_offered_an_engine_that_cannot_sandbox(pool: PgPool) {
    use engine::jail::Containment;
    let local = backend::connections::ensure_local(&pool, "http://127.0.0.1:9", "us-east-1")
        .await
        .expect("local");
    let reason = "no user namespaces (test)".to_owned();
    let app = common::spawn_app_configured(pool.clone(), &[], |console| {
        console.with_engine(&Containment::Unavailable(reason))
    })
    .await;
    app.sign_in_as_admin().await;
    let status: serde_json::Value =
        app.call("engine_containment", &[]).await.json().await.expect("json");
    assert_eq!(status["contained"], false, "{status}");
    assert!(status["description"].as_str().is_some_and(|d| d.contains("no user namespaces")));
    let learner_password = app.create_account("learner@example.com", "learner").await;
    let developer_password = app.create_account("dev@example.com", "developer").await;

    let target = format!("{local}|us-east-1");
    for (email, password, offered) in [
        ("learner@example.com", learner_password, false),
        ("dev@example.com", developer_password, true),
    ] {
        let person = app_clone(&app);
        assert_eq!(person.sign_in(email, &password).await.status(), StatusCode::OK);
        let options: serde_json::Value =
            person.call("lab_start_options", &[]).await.json().await.expect("json");
        let targets = options["targets"].as_array().expect("targets");
        let has_local = targets.iter().any(|t| t["connection_id"] == local.to_string());
        assert_eq!(has_local, offered, "{email}: {options}");
        let started = person.call("start_lab", &[("target", target.as_str())]).await;
        if offered {
            assert_eq!(started.status(), StatusCode::OK, "{email}");
        } else {
            assert_eq!(started.status(), StatusCode::UNPROCESSABLE_ENTITY, "{email}");
            let body = started.text().await.unwrap_or_default();
            assert!(body.contains("cannot sandbox"), "says why: {body}");
        }
    }
}

/// A learner's code runs with the role the lab gives it: only on the (sandboxing) embedded
/// engine, and only with the role the learner's own run creates — even with crafted posts.
#[sqlx::test(migrations = "../migrations")]
async fn learners_run_labs_only_on_the_engine_with_their_own_new_role(pool: PgPool) {
    use engine::jail::{Containment, Identity};
    let local = backend::connections::ensure_local(&pool, "http://127.0.0.1:9", "us-east-1")
        .await
        .expect("local");
    let production: uuid::Uuid = sqlx::query_scalar(
        "insert into connection (name, kind, endpoint_url, regions, access_key_id, secret_access_key, is_default)
         values ('Production', 'endpoint', 'http://127.0.0.1:9', array['us-east-1'], 'k', 's', false)
         returning connection_id",
    )
    .fetch_one(&pool)
    .await
    .expect("a second connection");
    let app = common::spawn_app_configured(pool.clone(), &[], |console| {
        console.with_engine(&Containment::Contained(Identity::Root))
    })
    .await;
    app.sign_in_as_admin().await;
    let password = app.create_account("learner@example.com", "learner").await;
    let learner = app_clone(&app);
    assert_eq!(learner.sign_in("learner@example.com", &password).await.status(), StatusCode::OK);
    let options: serde_json::Value =
        learner.call("lab_start_options", &[]).await.json().await.expect("json");
    let offered: Vec<&str> = options["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .filter_map(|t| t["connection_id"].as_str())
        .collect();
    assert_eq!(offered, [local.to_string()], "{options}");
    let crafted = format!("{production}|us-east-1");
    let refused = learner.call("start_lab", &[("target", crafted.as_str())]).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().await.unwrap_or_default().contains("only where an admin allows them"));
    let target = format!("{local}|us-east-1");
    let started = learner.call("start_lab", &[("target", target.as_str())]).await;
    assert_eq!(started.status(), StatusCode::OK);
    let run: String = started.json().await.expect("run id");
    let foreign_role = learner
        .call(
            "lab_function",
            &[
                ("lab_run_id", run.as_str()),
                ("name", "my-first"),
                ("runtime", "python3.12"),
                ("architecture", "x86_64"),
                ("role", "existing"),
                ("existing_role", "arn:aws:iam::000000000000:role/admin-role"),
                ("lifecycle", "experimental"),
                ("environment", ""),
            ],
        )
        .await;
    assert_eq!(foreign_role.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(foreign_role.text().await.unwrap_or_default().contains("new role"));

    // An admin lets learners into Production: now offered (and still with a new role only).
    let production_id = production.to_string();
    let edited = app
        .call(
            "edit_connection",
            &[
                ("connection_id", production_id.as_str()),
                ("name", "Production"),
                ("endpoint_url", "http://127.0.0.1:9"),
                ("regions", "us-east-1"),
                ("access_key_id", "k"),
                ("learners", "yes"),
            ],
        )
        .await;
    assert_eq!(edited.status(), StatusCode::OK, "{:?}", edited.text().await);
    let options: serde_json::Value =
        learner.call("lab_start_options", &[]).await.json().await.expect("json");
    assert!(
        options["targets"]
            .as_array()
            .expect("targets")
            .iter()
            .any(|t| t["connection_id"] == production_id)
    );
    // A developer may not edit connections.
    let refused = learner
        .call(
            "edit_connection",
            &[("connection_id", production_id.as_str()), ("name", "x"), ("regions", "us-east-1")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

/// The audit export streams page by page: more events than a page holds come out whole, newest
/// first, as CSV rows and as one JSON array.
#[sqlx::test(migrator = "MIGRATOR")]
async fn the_audit_export_streams_every_page(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    app.sign_in_as_admin().await;
    sqlx::query(
        "insert into audit_event (action, target, detail)
         select 'test.bulk', 'thing:' || n, jsonb_build_object('n', n) from generate_series(1, 2500) n",
    )
    .execute(&pool)
    .await
    .expect("events");
    let csv = app.get("/audit/export?format=csv&action=test.bulk").await;
    assert_eq!(csv.status(), StatusCode::OK);
    let text = csv.text().await.expect("csv");
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 2501, "a header and every event");
    assert!(rows[1].contains("\"thing:2500\"") && rows[2500].contains("\"thing:1\""));
    let json: serde_json::Value = app
        .get("/audit/export?format=json&action=test.bulk")
        .await
        .json()
        .await
        .expect("one JSON array");
    assert_eq!(json.as_array().map(Vec::len), Some(2500));
    let none: serde_json::Value =
        app.get("/audit/export?format=json&action=nothing").await.json().await.expect("json");
    assert_eq!(none, serde_json::json!([]));
}

/// A console whose every database connection is taken answers "busy" — 503 with Retry-After, a
/// request to send again, not a 500 — and serves again as soon as a connection is free.
#[sqlx::test(migrator = "MIGRATOR")]
async fn a_saturated_console_answers_busy_with_retry_after(pool: PgPool) {
    let small = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_millis(300))
        .connect_with(pool.connect_options().as_ref().clone())
        .await
        .expect("a one-connection pool");
    let app = spawn_app_with(small.clone(), &[], None).await;
    let held = small.acquire().await.expect("the only connection");
    let busy = app.sign_in(server::FIRST_ADMIN_EMAIL, &app.admin_password).await;
    assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(busy.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("2"));
    let body: serde_json::Value = busy.json().await.expect("json");
    assert!(body.to_string().contains("Busy"), "{body}");
    drop(held);
    app.sign_in_as_admin().await;

    // Signed in, the session itself cannot be read: a page says "busy" and loads itself again;
    // a server function gets the Busy its page retries on. Neither is a 500.
    let held = small.acquire().await.expect("the only connection");
    let page = app.get("/catalog").await;
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(page.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("2"));
    let html = page.text().await.expect("a page");
    assert!(
        html.contains("The console is busy") && html.contains("http-equiv=\"refresh\""),
        "{html}"
    );
    let call = app.call("current_user", &[]).await;
    assert_eq!(call.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(call.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("2"));
    assert!(call.text().await.expect("a body").contains("Busy"));
    drop(held);
    assert_eq!(app.get("/catalog").await.status(), StatusCode::OK, "served again once free");
}
