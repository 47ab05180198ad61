//! Connections and reconciliation against a real engine over HTTP, through the AWS SDK, with a
//! real Postgres per test.

use backend::audit::Actor;
use backend::catalog::{self, Query};
use backend::connections;
use serde_json::json;

/// An engine on a free port with a role; stopped when the sender drops.
async fn engine() -> (String, tokio::sync::oneshot::Sender<()>) {
    let dir = std::env::temp_dir().join(format!("catalog-engine-{}", uuid::Uuid::new_v4()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let engine = engine::Engine::open(engine::EngineConfig::new(addr, dir)).expect("engine");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(engine.serve(listener, async move {
        let _ = stopped.await;
    }));
    let base = format!("http://{addr}");
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let created = reqwest::Client::new()
        .post(format!("{base}/"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "Action=CreateRole&Version=2010-05-08&RoleName=r&AssumeRolePolicyDocument={}",
            engine::iam::percent_encode(trust)
        ))
        .send()
        .await
        .expect("role");
    assert!(created.status().is_success());
    (base, stop)
}

/// A one-file zip, base64.
fn zip() -> String {
    use base64::Engine as _;
    use std::io::Write as _;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    writer
        .start_file("lambda_function.py", zip::write::SimpleFileOptions::default())
        .expect("start");
    writer.write_all(b"def lambda_handler(event, context):\n    return 'ok'\n").expect("write");
    base64::engine::general_purpose::STANDARD.encode(writer.finish().expect("zip").into_inner())
}

async fn create_function(base: &str, name: &str, tags: serde_json::Value) {
    let created = reqwest::Client::new()
        .post(format!("{base}/2015-03-31/functions"))
        .json(&json!({
            "FunctionName": name, "Runtime": "python3.12", "Handler": "lambda_function.lambda_handler",
            "Role": "arn:aws:iam::000000000000:role/r", "Code": { "ZipFile": zip() },
            "Description": format!("{name} handles things"), "Tags": tags,
        }))
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), 201, "{:?}", created.text().await);
}

#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn sync_finds_shadows_and_ghosts_through_the_sdk(pool: sqlx::PgPool) {
    let (base, _stop) = engine().await;
    create_function(
        &base,
        "orders-api",
        json!({ "team": "payments", "lambdaport:owner": "ada@example.com" }),
    )
    .await;
    create_function(&base, "thumbnailer", json!({ "team": "media" })).await;

    let local = connections::ensure_local(&pool, &base, "us-east-1").await.expect("local");
    assert_eq!(connections::ensure_local(&pool, &base, "us-east-1").await.expect("again"), local);
    let listed = connections::list(&pool).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert!(listed[0].is_default && listed[0].name == "Local");
    let connection = connections::get(&pool, local).await.expect("get");
    assert_eq!(connections::test(&pool, &connection).await.expect("sts"), "000000000000");

    let run = catalog::sync(&pool, &connection).await.expect("sync");
    assert_eq!((run.seen, run.shadows, run.ghosts), (2, 2, 0));
    assert!(run.finished_at.is_some() && run.error.is_none());
    let query = |shadows: bool| Query { shadows, limit: 50, ..Query::default() };
    let (shadows, _) = catalog::search(&pool, &query(true)).await.expect("search");
    assert_eq!(shadows.len(), 2);
    let orders = shadows.iter().find(|f| f.name == "orders-api").expect("orders");
    assert_eq!(orders.suggested_owner.as_deref(), Some("ada@example.com"));
    assert_eq!(orders.tags, json!({ "team": "payments" }), "user tags only");
    assert!(catalog::search(&pool, &query(false)).await.expect("search").0.is_empty());

    // Import both with an owner; the catalog then finds them by text, tag and facet.
    let owner = sqlx::query_scalar!(
        "insert into account (email, password_hash, role) values ('ada@example.com', 'x', 'developer') returning account_id"
    )
    .fetch_one(&pool)
    .await
    .expect("account");
    for f in &shadows {
        catalog::import(&pool, &Actor::system(), f.function_id, owner, None).await.expect("import");
    }
    let text = Query { text: Some("payments".into()), limit: 50, ..Query::default() };
    let (found, _) = catalog::search(&pool, &text).await.expect("search");
    assert_eq!(found.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["orders-api"]);
    let tagged =
        Query { tag: Some(("team".into(), "media".into())), limit: 50, ..Query::default() };
    assert_eq!(catalog::search(&pool, &tagged).await.expect("search").0[0].name, "thumbnailer");
    let first = Query { limit: 1, ..Query::default() };
    let (page, next) = catalog::search(&pool, &first).await.expect("page");
    assert_eq!(page[0].name, "orders-api");
    let second = Query { after: next, limit: 1, ..Query::default() };
    let (page, next) = catalog::search(&pool, &second).await.expect("page");
    assert_eq!((page[0].name.as_str(), next), ("thumbnailer", None));
    let facets = catalog::facets(&pool).await.expect("facets");
    assert!(
        facets.contains(&("runtime".into(), "python3.12".into(), "python3.12".into(), 2)),
        "{facets:?}"
    );

    // Drift: the catalog says lifecycle experimental, the cloud's tag says production.
    let arn = "arn:aws:lambda:us-east-1:000000000000:function:thumbnailer";
    let tagged = reqwest::Client::new()
        .post(format!("{base}/2017-03-31/tags/{arn}"))
        .json(&json!({ "Tags": { "lambdaport:lifecycle": "production" } }))
        .send()
        .await
        .expect("tag");
    assert!(tagged.status().is_success());
    // A function deleted in the cloud becomes a ghost; two syncs at once are safe.
    let deleted = reqwest::Client::new()
        .delete(format!("{base}/2015-03-31/functions/orders-api"))
        .send()
        .await
        .expect("delete");
    assert!(deleted.status().is_success());
    let (a, b) = tokio::join!(catalog::sync(&pool, &connection), catalog::sync(&pool, &connection));
    let (a, b) = (a.expect("first sync"), b.expect("second sync"));
    assert!(a.ghosts + b.ghosts == 1 || a.sync_run_id == b.sync_run_id, "{a:?} {b:?}");
    let (all, _) = catalog::search(&pool, &query(false)).await.expect("search");
    let orders = all.iter().find(|f| f.name == "orders-api").expect("still listed");
    assert!(orders.gone, "a ghost");
    let thumbnailer = all.iter().find(|f| f.name == "thumbnailer").expect("listed");
    assert!(thumbnailer.drift && !thumbnailer.gone, "{thumbnailer:?}");
    // Editing the metadata writes it to the cloud's tags too, and clears the drift.
    let detail = catalog::detail(&pool, thumbnailer.function_id).await.expect("detail");
    let developer =
        backend::accounts::get_account(&pool, owner).await.expect("get").expect("owner");
    assert!(
        catalog::may_edit(&pool, &developer, &detail).await.expect("may edit"),
        "the owner may"
    );
    let metadata = catalog::Metadata {
        owner: "ada@example.com".into(),
        team: String::new(),
        lifecycle: "production".into(),
        environment: "prod".into(),
        tags: [("team".to_owned(), "media".to_owned()), ("tier".to_owned(), "gold".to_owned())]
            .into(),
    };
    catalog::update_metadata(&pool, &Actor::system(), &connection, &detail, &metadata)
        .await
        .expect("update metadata");
    let cloud_tags: serde_json::Value = reqwest::Client::new()
        .get(format!("{base}/2017-03-31/tags/{arn}"))
        .send()
        .await
        .expect("tags")
        .json()
        .await
        .expect("json");
    assert_eq!(
        cloud_tags["Tags"],
        json!({ "team": "media", "tier": "gold", "lambdaport:owner": "ada@example.com",
                "lambdaport:lifecycle": "production", "lambdaport:environment": "prod" })
    );
    let after = catalog::detail(&pool, thumbnailer.function_id).await.expect("detail");
    assert!(!after.entry.drift && after.entry.environment == "prod");
    let bad = catalog::Metadata { lifecycle: "forever".into(), ..metadata.clone() };
    assert!(matches!(
        catalog::update_metadata(&pool, &Actor::system(), &connection, &detail, &bad).await,
        Err(backend::Error::Validation { field: "lifecycle", .. })
    ));
    let reserved =
        catalog::Metadata { tags: [("aws:x".to_owned(), "y".to_owned())].into(), ..metadata };
    assert!(
        catalog::update_metadata(&pool, &Actor::system(), &connection, &detail, &reserved)
            .await
            .is_err()
    );
    let activity =
        backend::audit::list_for_target(&pool, "function:thumbnailer", 10).await.expect("activity");
    assert_eq!(activity.first().map(|e| e.action.as_str()), Some("function.update_metadata"));

    // Configuration goes through UpdateFunctionConfiguration; the cloud's validation lands on the field.
    let change = catalog::ConfigChange {
        memory_mb: 256,
        timeout_s: 10,
        description: "resizes".into(),
        handler: "lambda_function.lambda_handler".into(),
        runtime: "python3.12".into(),
        environment: [("MODE".to_owned(), "fast".to_owned())].into(),
    };
    catalog::update_configuration(&pool, &Actor::system(), &connection, &after, &change)
        .await
        .expect("configuration");
    let live = catalog::live(&connection, &after).await.expect("live");
    assert!(
        live.fields.iter().any(|(f, _, cloud)| *f == "memory (MB)" && cloud == "256"),
        "{live:?}"
    );
    assert_eq!(live.environment.get("MODE").map(String::as_str), Some("fast"));
    let too_big = catalog::ConfigChange { memory_mb: 99_999, ..change };
    match catalog::update_configuration(&pool, &Actor::system(), &connection, &after, &too_big)
        .await
    {
        Err(backend::Error::Validation { field, message }) => {
            assert_eq!(field, "memory_mb", "{message}");
        }
        other => panic!("expected a validation error on memory, got {other:?}"),
    }

    catalog::archive(&pool, &Actor::system(), orders.function_id).await.expect("archive");
    assert!(catalog::archive(&pool, &Actor::system(), thumbnailer.function_id).await.is_err());
    let (all, _) = catalog::search(&pool, &query(false)).await.expect("search");
    assert_eq!(all.len(), 1);
    let audited = sqlx::query_scalar!(r#"select count(*) as "n!" from audit_event where action in ('function.import', 'function.archive', 'connection.create')"#)
        .fetch_one(&pool)
        .await
        .expect("audit");
    assert_eq!(audited, 4);
}
