//! What the backend's integration tests share: a real engine on a free port, accounts, and a
//! catalogued function with code. Each test binary uses some of it.
#![allow(dead_code)]

/// An engine on a free port with the role `r`: its base URL, and the engine (stopped when dropped).
pub async fn engine() -> (String, engine::testing::TestEngine) {
    let engine = engine::testing::engine_with_role("catalog-engine", "r").await;
    (engine.base.clone(), engine)
}

/// An account with `role` (`admin`, `developer`, `learner`).
pub async fn account(pool: &sqlx::PgPool, email: &str, role: &str) -> backend::accounts::Account {
    let id = sqlx::query_scalar!(
        "insert into account (email, password_hash, role) values ($1, 'x', $2) returning account_id",
        email,
        role
    )
    .fetch_one(pool)
    .await
    .expect("account");
    backend::accounts::get_account(pool, id).await.expect("get").expect("exists")
}

/// Creates `body`'s function in the engine at `base` (Python 3.12, role `r`, `package` as its
/// base64 zip), syncs the catalog through a Local connection, and returns the connection, the
/// function's catalog id and its detail.
pub async fn catalogued(
    pool: &sqlx::PgPool,
    base: &str,
    name: &str,
    package: &str,
    settings: serde_json::Value,
) -> (backend::connections::Connection, uuid::Uuid, backend::catalog::Detail) {
    let mut body = serde_json::json!({
        "FunctionName": name, "Runtime": "python3.12", "Handler": "lambda_function.lambda_handler",
        "Role": "arn:aws:iam::000000000000:role/r", "Code": { "ZipFile": package },
    });
    if let (Some(body), Some(settings)) = (body.as_object_mut(), settings.as_object()) {
        body.extend(settings.clone());
    }
    let created = reqwest::Client::new()
        .post(format!("{base}/2015-03-31/functions"))
        .json(&body)
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), 201, "{:?}", created.text().await);
    let local = backend::connections::ensure_local(pool, base, "us-east-1").await.expect("local");
    let connection = backend::connections::get(pool, local).await.expect("connection");
    backend::catalog::sync(pool, &connection).await.expect("sync");
    let id: uuid::Uuid =
        sqlx::query_scalar("select function_id from catalog_function where name = $1")
            .bind(name)
            .fetch_one(pool)
            .await
            .expect("listed");
    (connection, id, backend::catalog::detail(pool, id).await.expect("detail"))
}

/// A base64 zip holding `lambda_function.py` with `source`.
pub fn python_package(source: &str) -> String {
    use base64::Engine as _;
    use std::io::Write as _;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    writer
        .start_file("lambda_function.py", zip::write::SimpleFileOptions::default())
        .expect("start");
    writer.write_all(source.as_bytes()).expect("write");
    base64::engine::general_purpose::STANDARD.encode(writer.finish().expect("zip").into_inner())
}

/// Adds a governance rule as an admin would (through the backend the Governance page calls):
/// `fields` are the form's (`kind`, `severity`, `key`, `values`, `pattern`, `max`, `policy`,
/// `max_hours`, `environment`).
pub async fn rule(pool: &sqlx::PgPool, fields: &[(&str, &str)]) -> backend::governance::Rule {
    let mut input = backend::governance::RuleInput::default();
    for (key, value) in fields {
        let value = (*value).to_owned();
        match *key {
            "kind" => input.kind = value,
            "severity" => input.severity = value,
            "key" => input.key = value,
            "values" => input.values = value,
            "pattern" => input.pattern = value,
            "max" => input.max = value,
            "policy" => input.policy = value,
            "max_hours" => input.max_hours = value,
            "environment" => input.environment = value,
            other => panic!("no field {other}"),
        }
    }
    let actor = backend::audit::Actor::system();
    backend::governance::rules::create_rule(pool, &actor, &input).await.expect("rule")
}
