//! Connections and reconciliation against a real engine over HTTP, through the AWS SDK, with a
//! real Postgres per test.

use backend::audit::Actor;
use backend::catalog::{self, Query};
use backend::connections;
use serde_json::json;

mod common;
use common::{account, engine};

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

/// The function's tags as the engine holds them (`{"Tags": {...}}`).
async fn cloud_tags(base: &str, arn: &str) -> serde_json::Value {
    reqwest::get(format!("{base}/2017-03-31/tags/{arn}"))
        .await
        .expect("tags")
        .json()
        .await
        .expect("json")
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
    let shadows = catalog::search(&pool, &query(true)).await.expect("search").entries;
    assert_eq!(shadows.len(), 2);
    let orders = shadows.iter().find(|f| f.name == "orders-api").expect("orders");
    assert_eq!(orders.suggested_owner.as_deref(), Some("ada@example.com"));
    assert_eq!(orders.tags, json!({ "team": "payments" }), "user tags only");
    assert!(catalog::search(&pool, &query(false)).await.expect("search").entries.is_empty());

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
    let found = catalog::search(&pool, &text).await.expect("search").entries;
    assert_eq!(found.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["orders-api"]);
    let tagged =
        Query { tag: Some(("team".into(), "media".into())), limit: 50, ..Query::default() };
    assert_eq!(
        catalog::search(&pool, &tagged).await.expect("search").entries[0].name,
        "thumbnailer"
    );
    // Text and tag filters read catalog_key in name order; they mean what the plain query means.
    let names = |query: Query| {
        let pool = pool.clone();
        async move {
            let found = catalog::search(&pool, &query).await.expect("search");
            (found.entries.into_iter().map(|r| r.name).collect::<Vec<_>>(), found.next.is_some())
        }
    };
    let text = |t: &str| Query { text: Some(t.into()), limit: 50, ..Query::default() };
    let both = (vec!["orders-api".to_owned(), "thumbnailer".to_owned()], false);
    let orders = (vec!["orders-api".to_owned()], false);
    assert_eq!(names(text("handles things")).await, both, "every word");
    assert_eq!(names(text("handles nothing")).await, (vec![], false), "every word, not any");
    assert_eq!(names(text("orders or thumbnailer")).await, both, "or");
    assert_eq!(names(text("handles -thumbnailer")).await, orders, "not");
    assert_eq!(names(text("orders-api")).await, orders, "a hyphenated name");
    assert_eq!(names(text("\"orders-api handles\"")).await, orders, "a phrase");
    let tag_and_text = Query { tag: Some(("team".into(), "payments".into())), ..text("handles") };
    assert_eq!(names(tag_and_text).await, orders);
    let page = |after| Query { after, limit: 1, ..text("handles") };
    let first = catalog::search(&pool, &page(None)).await.expect("page").entries;
    let cursor = Some((first[0].name.clone(), first[0].function_id));
    assert_eq!(names(page(cursor)).await, (vec!["thumbnailer".to_owned()], false));
    let first = Query { limit: 1, ..Query::default() };
    let catalog::Found { entries: page, next, .. } =
        catalog::search(&pool, &first).await.expect("page");
    assert_eq!(page[0].name, "orders-api");
    let second = Query { after: next, limit: 1, ..Query::default() };
    let catalog::Found { entries: page, next, .. } =
        catalog::search(&pool, &second).await.expect("page");
    assert_eq!((page[0].name.as_str(), next), ("thumbnailer", None));
    let facets = catalog::facets(&pool, &Query::default(), false).await.expect("facets");
    assert!(
        facets.contains(&("runtime".into(), "python3.12".into(), "python3.12".into(), 2)),
        "{facets:?}"
    );
    // Plain words match the start of a word; with no word matching, the name's middle.
    let prefix = catalog::search(&pool, &text("order")).await.expect("prefix");
    assert_eq!(prefix.entries.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["orders-api"]);
    assert!(!prefix.by_name);
    assert_eq!(names(text("hand thing")).await, both, "each word a prefix");
    assert_eq!(names(text("thumb")).await.0, ["thumbnailer"], "one lexeme starts with it");
    let middle = catalog::search(&pool, &text("ders-a")).await.expect("middle");
    assert!(middle.by_name, "no word starts with ders-a");
    assert_eq!(middle.entries.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["orders-api"]);
    assert!(catalog::search(&pool, &text("50%")).await.expect("nothing").entries.is_empty());
    // Facet counts describe the result, not the catalog.
    let facets = catalog::facets(&pool, &text("order"), false).await.expect("facets");
    assert!(
        facets.contains(&("runtime".into(), "python3.12".into(), "python3.12".into(), 1)),
        "{facets:?}"
    );
    let facets = catalog::facets(&pool, &text("ders-a"), true).await.expect("facets");
    assert!(facets.iter().any(|f| f.0 == "runtime" && f.3 == 1), "{facets:?}");
    let none = catalog::facets(&pool, &text("nothing"), false).await.expect("facets");
    assert!(none.is_empty(), "{none:?}");

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
    let all = catalog::search(&pool, &query(false)).await.expect("search").entries;
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
        removed: Vec::new(),
    };
    catalog::update_metadata(&pool, &Actor::system(), &connection, &detail, &metadata)
        .await
        .expect("update metadata");
    let tags_now = cloud_tags(&base, arn).await;
    assert_eq!(
        tags_now["Tags"],
        json!({ "team": "media", "tier": "gold", "lambdaport:owner": "ada@example.com",
                "lambdaport:lifecycle": "production", "lambdaport:environment": "prod" })
    );
    let after = catalog::detail(&pool, thumbnailer.function_id).await.expect("detail");
    assert!(!after.entry.drift && after.entry.environment == "prod");
    let gold = Query { tag: Some(("tier".into(), "gold".into())), limit: 5, ..Query::default() };
    let found = catalog::search(&pool, &gold).await.expect("search").entries;
    assert_eq!(found.len(), 1, "lookup keys follow tag edits");
    // A tag added in the cloud since the form was read survives a save that did not touch it;
    // only what the form changed is written.
    connection
        .lambda(&after.entry.region)
        .await
        .tag_resource()
        .resource(arn)
        .tags("added", "cli")
        .send()
        .await
        .expect("a tag added outside the console");
    let shown: std::collections::BTreeMap<String, String> =
        [("team".to_owned(), "media".to_owned()), ("tier".to_owned(), "gold".to_owned())].into();
    let (tags, removed) =
        catalog::Metadata::tag_changes(&shown, [("tier".to_owned(), "platinum".to_owned())].into());
    assert_eq!(removed, ["team"]);
    let edited = catalog::Metadata { tags, removed, ..metadata.clone() };
    catalog::update_metadata(&pool, &Actor::system(), &connection, &after, &edited)
        .await
        .expect("save");
    let tags_now = cloud_tags(&base, arn).await;
    assert_eq!(
        (&tags_now["Tags"]["added"], &tags_now["Tags"]["tier"], &tags_now["Tags"]["team"]),
        (&json!("cli"), &json!("platinum"), &serde_json::Value::Null),
        "{tags_now}"
    );
    let recorded = catalog::detail(&pool, thumbnailer.function_id).await.expect("detail");
    assert_eq!(recorded.entry.tags, json!({ "added": "cli", "tier": "platinum" }));
    // Sorted by update, most recent first, with its own keyset cursor.
    let recent = Query { sort: catalog::Sort::Updated, limit: 1, ..Query::default() };
    let catalog::Found { entries: first, next, .. } =
        catalog::search(&pool, &recent).await.expect("recent");
    assert_eq!(first[0].name, "thumbnailer", "the most recently changed first");
    let catalog::Found { entries: second, next: last, .. } =
        catalog::search(&pool, &Query { after: next, ..recent.clone() }).await.expect("page 2");
    assert_eq!((second[0].name.as_str(), last), ("orders-api", None));
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
        memory_mb: Some(256),
        timeout_s: Some(10),
        description: Some("resizes".into()),
        handler: Some("lambda_function.lambda_handler".into()),
        runtime: Some("python3.12".into()),
        environment: Some([("MODE".to_owned(), "fast".to_owned())].into()),
        ..Default::default()
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
    // A form that never revealed the variables keeps them; a reveal reads them and is audited.
    let untouched =
        catalog::ConfigChange { timeout_s: Some(11), environment: None, ..change.clone() };
    catalog::update_configuration(&pool, &Actor::system(), &connection, &after, &untouched)
        .await
        .expect("configuration without variables");
    let revealed = catalog::reveal_environment(&pool, &Actor::system(), &connection, &after)
        .await
        .expect("reveal");
    assert_eq!(revealed.get("MODE").map(String::as_str), Some("fast"));
    let activity =
        backend::audit::list_for_target(&pool, "function:thumbnailer", 1).await.expect("activity");
    assert_eq!(activity[0].action, "function.reveal_environment");
    // A change made in the cloud after the page read the function is reported, not reverted; once
    // reloaded, the change applies, and the audit's "before" is what the cloud held.
    let opened = catalog::live(&connection, &after).await.expect("live").revision_id;
    connection
        .lambda(&after.entry.region)
        .await
        .update_function_configuration()
        .function_name(&after.arn)
        .timeout(42)
        .send()
        .await
        .expect("a change made outside the console");
    // The form opened with 256 MB and 11 s; the user changes only the memory.
    let opened_with =
        catalog::ConfigValues { memory_mb: Some(256), timeout_s: Some(11), ..Default::default() };
    let stale = catalog::ConfigChange {
        memory_mb: Some(512),
        revision_id: Some(opened),
        opened_with,
        ..Default::default()
    };
    match catalog::update_configuration(&pool, &Actor::system(), &connection, &after, &stale).await
    {
        Err(backend::Error::Conflict(message)) => {
            assert!(
                message.contains("changed in the cloud since you opened this page"),
                "{message}"
            );
            assert!(message.contains("timeout 11 → 42 s"), "what changed is named: {message}");
            assert!(message.contains("memory 256 → 512 MB"), "and what would apply: {message}");
        }
        other => panic!("expected the change to be refused, got {other:?}"),
    }
    let cloud = catalog::live(&connection, &after).await.expect("live");
    let value =
        |field: &str| cloud.fields.iter().find(|(f, _, _)| *f == field).map(|(_, _, v)| v.clone());
    assert_eq!(
        (value("timeout (s)").as_deref(), value("memory (MB)").as_deref()),
        (Some("42"), Some("256")),
        "nothing was overwritten"
    );
    // Applied anyway, only the memory changes: the cloud's timeout stays.
    let anyway = catalog::ConfigChange { apply_anyway: true, ..stale.clone() };
    catalog::update_configuration(&pool, &Actor::system(), &connection, &after, &anyway)
        .await
        .expect("applied anyway");
    let cloud = catalog::live(&connection, &after).await.expect("live");
    let value =
        |field: &str| cloud.fields.iter().find(|(f, _, _)| *f == field).map(|(_, _, v)| v.clone());
    assert_eq!(
        (value("timeout (s)").as_deref(), value("memory (MB)").as_deref()),
        (Some("42"), Some("512")),
        "only the user's field changed"
    );
    assert_eq!(cloud.environment.get("MODE").map(String::as_str), Some("fast"));
    let nothing = catalog::ConfigChange {
        revision_id: Some(cloud.revision_id.clone()),
        ..Default::default()
    };
    assert!(matches!(
        catalog::update_configuration(&pool, &Actor::system(), &connection, &after, &nothing).await,
        Err(backend::Error::Validation { field: "configuration", .. })
    ));
    let reloaded = catalog::ConfigChange {
        memory_mb: Some(640),
        revision_id: Some(cloud.revision_id.clone()),
        ..Default::default()
    };
    catalog::update_configuration(&pool, &Actor::system(), &connection, &after, &reloaded)
        .await
        .expect("applies once reloaded");
    let before: serde_json::Value = sqlx::query_scalar(
        "select detail->'before' from audit_event where action = 'function.update_configuration'
         order by audit_event_id desc limit 1",
    )
    .fetch_one(&pool)
    .await
    .expect("audited");
    assert_eq!(before["timeout_s"], 42, "the cloud's value, not the catalog's: {before}");
    let too_big = catalog::ConfigChange { memory_mb: Some(99_999), ..change };
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
    let all = catalog::search(&pool, &query(false)).await.expect("search").entries;
    assert_eq!(all.len(), 1);
    let audited = sqlx::query_scalar!(r#"select count(*) as "n!" from audit_event where action in ('function.import', 'function.archive', 'connection.create')"#)
        .fetch_one(&pool)
        .await
        .expect("audit");
    assert_eq!(audited, 4);
}

/// Who may read and change a function, for each role, with the catalog open and restricted;
/// transfer of ownership; and a change the cloud refuses leaves neither the change nor its audit
/// event behind.
#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn each_role_may_do_what_it_should_and_no_more(pool: sqlx::PgPool) {
    let (base, _stop) = engine().await;
    create_function(&base, "ledger", json!({})).await;
    create_function(&base, "stranger", json!({})).await;
    let local = connections::ensure_local(&pool, &base, "us-east-1").await.expect("local");
    let connection = connections::get(&pool, local).await.expect("get");
    catalog::sync(&pool, &connection).await.expect("sync");

    let admin = account(&pool, "root@example.com", "admin").await;
    let owner = account(&pool, "owner@example.com", "developer").await;
    let teammate = account(&pool, "mate@example.com", "developer").await;
    let outsider = account(&pool, "out@example.com", "developer").await;
    let learner = account(&pool, "learner@example.com", "learner").await;
    let team = backend::teams::create_team(
        &pool,
        &Actor::system(),
        &backend::teams::TeamName::parse("payments").expect("name"),
    )
    .await
    .expect("team");
    for member in [&teammate, &learner] {
        backend::teams::add_member(&pool, &Actor::system(), team, member.account_id)
            .await
            .expect("member");
    }
    let shadows = catalog::search(&pool, &Query { shadows: true, limit: 10, ..Query::default() })
        .await
        .expect("shadows")
        .entries;
    let id_of = |name: &str| shadows.iter().find(|f| f.name == name).expect("shadow").function_id;
    let (ledger, stranger) = (id_of("ledger"), id_of("stranger"));
    catalog::import(&pool, &Actor::system(), ledger, owner.account_id, Some(team))
        .await
        .expect("import");
    catalog::import(&pool, &Actor::system(), stranger, outsider.account_id, None)
        .await
        .expect("import");

    let detail = catalog::detail(&pool, ledger).await.expect("detail");
    for (who, may) in [
        (&admin, true),
        (&owner, true),
        (&teammate, true),
        (&outsider, false),
        (&learner, false), // in the team, but learners change only their own
    ] {
        assert_eq!(catalog::may_edit(&pool, who, &detail).await.expect("may_edit"), may, "{who:?}");
        assert!(catalog::may_read(&pool, who, &detail).await.expect("may_read"), "open catalog");
    }

    // Restricted: others see only their own and their teams' functions; admins see everything.
    backend::settings::set_catalog_restricted(&pool, &Actor::system(), true).await.expect("set");
    for (who, may) in [(&admin, true), (&owner, true), (&learner, true), (&outsider, false)] {
        assert_eq!(catalog::may_read(&pool, who, &detail).await.expect("may_read"), may, "{who:?}");
    }
    let names = |scope: Option<uuid::Uuid>| {
        let pool = pool.clone();
        async move {
            let query = Query { visible_to: scope, limit: 10, ..Query::default() };
            let rows = catalog::search(&pool, &query).await.expect("search").entries;
            rows.into_iter().map(|r| r.name).collect::<Vec<_>>()
        }
    };
    assert_eq!(catalog::reader_scope(&pool, &admin).await.expect("scope"), None);
    let scope = catalog::reader_scope(&pool, &outsider).await.expect("scope");
    assert_eq!(names(scope).await, ["stranger"]);
    let scope = catalog::reader_scope(&pool, &teammate).await.expect("scope");
    assert_eq!(names(scope).await, ["ledger"]);
    assert_eq!(names(None).await, ["ledger", "stranger"]);
    backend::settings::set_catalog_restricted(&pool, &Actor::system(), false).await.expect("set");
    assert_eq!(catalog::reader_scope(&pool, &outsider).await.expect("scope"), None);

    // Transfer: a new owner, the team kept, the cloud's owner tag follows.
    assert!(matches!(
        catalog::transfer(&pool, &Actor::system(), &connection, &detail, "OWNER@example.com", None)
            .await,
        Err(backend::Error::Validation { field: "owner", .. })
    ));
    catalog::transfer(&pool, &Actor::system(), &connection, &detail, "mate@example.com", None)
        .await
        .expect("transfer");
    let after = catalog::detail(&pool, ledger).await.expect("detail");
    assert_eq!(after.owner_id, Some(teammate.account_id));
    assert_eq!(after.entry.team.as_deref(), Some("payments"));
    let arn = "arn:aws:lambda:us-east-1:000000000000:function:ledger";
    let tags = cloud_tags(&base, arn).await;
    assert_eq!(tags["Tags"]["lambdaport:owner"], "mate@example.com");
    assert_eq!(tags["Tags"]["lambdaport:team"], "payments");
    let activity = backend::audit::list_for_target(&pool, "function:ledger", 5).await.expect("log");
    assert_eq!(activity[0].action, "function.transfer");

    // The cloud refuses (the function is gone): nothing changes, and nothing is audited.
    let audited = || async {
        sqlx::query_scalar!(r#"select count(*) as "n!" from audit_event"#)
            .fetch_one(&pool)
            .await
            .expect("count")
    };
    let before = audited().await;
    reqwest::Client::new()
        .delete(format!("{base}/2015-03-31/functions/ledger"))
        .send()
        .await
        .expect("delete");
    let metadata = catalog::Metadata {
        owner: "owner@example.com".into(),
        team: String::new(),
        lifecycle: "deprecated".into(),
        environment: "dev".into(),
        tags: Default::default(),
        removed: Vec::new(),
    };
    let refused =
        catalog::update_metadata(&pool, &Actor::system(), &connection, &after, &metadata).await;
    // The cloud says the function is gone: refused as not found (404), the catalog unchanged.
    assert!(
        matches!(
            refused,
            Err(backend::Error::Cloud { failure: backend::cloud::CloudFailure::NotFound, .. })
        ),
        "{refused:?}"
    );
    let unchanged = catalog::detail(&pool, ledger).await.expect("detail");
    assert_eq!(
        (unchanged.owner_id, unchanged.entry.lifecycle.as_str()),
        (Some(teammate.account_id), "experimental")
    );
    assert_eq!(audited().await, before, "no audit event without its change");
}

/// Tokens: shown once, stored hashed, usable until revoked, only by their owner's revoke.
#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn tokens_authenticate_until_revoked(pool: sqlx::PgPool) {
    use backend::tokens;
    let ada = account(&pool, "ada@example.com", "developer").await;
    let bob = account(&pool, "bob@example.com", "developer").await;
    assert!(matches!(
        tokens::create(&pool, &Actor::system(), &ada, "  ").await,
        Err(backend::Error::Validation { field: "name", .. })
    ));
    let (token, secret) = tokens::create(&pool, &Actor::system(), &ada, "ci").await.expect("token");
    assert!(secret.starts_with(tokens::TOKEN_PREFIX) && secret.len() == 37, "{secret}");
    assert!(secret.starts_with(&token.prefix));
    let stored: Vec<u8> = sqlx::query_scalar!("select token_hash from api_token")
        .fetch_one(&pool)
        .await
        .expect("hash");
    assert_eq!(stored.len(), 32);
    assert!(!String::from_utf8_lossy(&stored).contains(&secret[5..]), "only the hash is kept");

    let who = tokens::authenticate(&pool, &secret).await.expect("authenticates");
    assert_eq!(who.account_id, ada.account_id);
    assert!(tokens::list(&pool, ada.account_id).await.expect("list")[0].last_used_at.is_some());
    for wrong in ["", "lpat_nope", &secret[..secret.len() - 1], "Bearer x"] {
        assert!(
            matches!(
                tokens::authenticate(&pool, wrong).await,
                Err(backend::Error::Unauthorized(_))
            ),
            "{wrong}"
        );
    }
    // Bob cannot revoke Ada's token; Ada can, and then it stops working.
    assert!(matches!(
        tokens::revoke(&pool, &Actor::system(), &bob, token.api_token_id).await,
        Err(backend::Error::NotFound(_))
    ));
    tokens::revoke(&pool, &Actor::system(), &ada, token.api_token_id).await.expect("revoke");
    assert!(tokens::authenticate(&pool, &secret).await.is_err());
    let actions: Vec<String> =
        sqlx::query_scalar!("select action from audit_event order by audit_event_id")
            .fetch_all(&pool)
            .await
            .expect("audit");
    assert_eq!(actions, ["token.create", "token.revoke"]);
}

fn zip_of(files: &[(&str, &str)]) -> Vec<u8> {
    use std::io::Write as _;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, text) in files {
        writer.start_file(*name, zip::write::SimpleFileOptions::default()).expect("start");
        writer.write_all(text.as_bytes()).expect("write");
    }
    writer.finish().expect("zip").into_inner()
}

async fn invoke(base: &str, name: &str) -> String {
    reqwest::Client::new()
        .post(format!("{base}/2015-03-31/functions/{name}/invocations"))
        .body("{}")
        .send()
        .await
        .expect("invoke")
        .text()
        .await
        .expect("body")
}

/// The Code tab's backend: the handler's file read from the package, saved back with the other
/// files kept, a zip uploaded; each change runs in the engine and is audited.
#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn code_is_read_edited_and_uploaded(pool: sqlx::PgPool) {
    use backend::code;
    use base64::Engine as _;
    let (base, _stop) = engine().await;
    let package = zip_of(&[
        (
            "lambda_function.py",
            "from helper import word\ndef lambda_handler(event, context):\n    return word()\n",
        ),
        ("helper.py", "def word():\n    return 'one'\n"),
    ]);
    let created = reqwest::Client::new()
        .post(format!("{base}/2015-03-31/functions"))
        .json(&json!({
            "FunctionName": "words", "Runtime": "python3.12", "Handler": "lambda_function.lambda_handler",
            "Role": "arn:aws:iam::000000000000:role/r",
            "Code": { "ZipFile": base64::engine::general_purpose::STANDARD.encode(&package) },
        }))
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), 201);
    let local = connections::ensure_local(&pool, &base, "us-east-1").await.expect("local");
    let connection = connections::get(&pool, local).await.expect("get");
    catalog::sync(&pool, &connection).await.expect("sync");
    let function_id: uuid::Uuid =
        sqlx::query_scalar!("select function_id from catalog_function where name = 'words'")
            .fetch_one(&pool)
            .await
            .expect("listed");
    let detail = catalog::detail(&pool, function_id).await.expect("detail");

    let read = code::read(&connection, &detail).await.expect("read");
    assert_eq!(read.files, ["lambda_function.py", "helper.py"]);
    let (path, text) = read.inline.expect("editable inline");
    assert_eq!(path, "lambda_function.py");
    assert!(text.contains("return word()"));
    assert_eq!(invoke(&base, "words").await, "\"one\"");

    let edited = text.replace("return word()", "return word() + '!'");
    let edit = code::FileEdit { path: &path, text: &edited, opened: Some(&read.sha256) };
    let sha =
        code::save_file(&pool, &Actor::system(), &connection, &detail, &edit).await.expect("save");
    assert_ne!(sha, read.sha256);
    assert_eq!(invoke(&base, "words").await, "\"one!\"", "the helper file was kept");
    let nowhere = code::FileEdit { path: "nope.py", text: "x", opened: None };
    assert!(matches!(
        code::save_file(&pool, &Actor::system(), &connection, &detail, &nowhere).await,
        Err(backend::Error::Validation { field: "source", .. })
    ));
    // An edit of the file as it was before the last save is refused, not saved over it.
    let stale = code::FileEdit { path: &path, text: &text, opened: Some(&read.sha256) };
    match code::save_file(&pool, &Actor::system(), &connection, &detail, &stale).await {
        Err(backend::Error::Conflict(message)) => {
            assert!(message.contains("changed in the cloud since you opened"), "{message}");
        }
        other => panic!("expected the stale edit to be refused, got {other:?}"),
    }
    assert_eq!(invoke(&base, "words").await, "\"one!\"", "the newer code stays");

    let upload = zip_of(&[("lambda_function.py", "def lambda_handler(e, c):\n    return 'two'\n")]);
    let uploaded =
        code::upload(&pool, &Actor::system(), &connection, &detail, upload).await.expect("upload");
    assert_eq!(uploaded.warning, None, "the handler's file and function are there");
    // A zip without the handler's file deploys (the cloud takes any zip), with a warning.
    let misplaced =
        zip_of(&[("src/lambda_function.py", "def lambda_handler(e, c):\n    return 3\n")]);
    let uploaded = code::upload(&pool, &Actor::system(), &connection, &detail, misplaced)
        .await
        .expect("upload");
    assert!(
        uploaded.warning.as_deref().is_some_and(|w| w.contains("no lambda_function.py")),
        "{uploaded:?}"
    );
    let upload = zip_of(&[("lambda_function.py", "def lambda_handler(e, c):\n    return 'two'\n")]);
    code::upload(&pool, &Actor::system(), &connection, &detail, upload).await.expect("upload");
    assert_eq!(invoke(&base, "words").await, "\"two\"");
    for bad in [b"not a zip".to_vec(), zip_of(&[])] {
        assert!(matches!(
            code::upload(&pool, &Actor::system(), &connection, &detail, bad).await,
            Err(backend::Error::Validation { field: "code", .. })
        ));
    }
    let read = code::read(&connection, &detail).await.expect("read");
    assert_eq!(read.files, ["lambda_function.py"]);

    // A handler that points at no file: shown, with the reason, not editable.
    let config = catalog::ConfigChange { handler: Some("app.main".into()), ..Default::default() };
    catalog::update_configuration(&pool, &Actor::system(), &connection, &detail, &config)
        .await
        .expect("configuration");
    let detail = catalog::detail(&pool, function_id).await.expect("detail");
    let read = code::read(&connection, &detail).await.expect("read");
    assert!(read.inline.is_none());
    assert!(read.reason.is_some_and(|r| r.contains("app.py")));

    let changes = sqlx::query_scalar!(
        r#"select count(*) as "n!" from audit_event where action = 'function.update_code'"#
    )
    .fetch_one(&pool)
    .await
    .expect("audit");
    assert_eq!(changes, 4, "the save and the three uploads; the refused ones left nothing");
}

/// A developer imports a shadow only when the cloud's tags say it is theirs (their email as
/// `lambdaport:owner`, or one of their teams as `lambdaport:team`); anything else needs an admin.
#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn developers_import_only_shadows_tagged_for_them(pool: sqlx::PgPool) {
    let (base, _stop) = engine().await;
    create_function(&base, "production-billing", json!({})).await;
    create_function(&base, "mine", json!({ "lambdaport:owner": "Dev@example.com" })).await;
    create_function(&base, "ours", json!({ "lambdaport:team": "payments" })).await;
    create_function(&base, "theirs", json!({ "lambdaport:team": "search" })).await;
    let local = connections::ensure_local(&pool, &base, "us-east-1").await.expect("local");
    let connection = connections::get(&pool, local).await.expect("get");
    catalog::sync(&pool, &connection).await.expect("sync");
    let developer = account(&pool, "dev@example.com", "developer").await;
    let payments = backend::teams::create_team(
        &pool,
        &Actor::system(),
        &backend::teams::TeamName::parse("payments").expect("name"),
    )
    .await
    .expect("team");
    backend::teams::add_member(&pool, &Actor::system(), payments, developer.account_id)
        .await
        .expect("member");
    backend::teams::create_team(
        &pool,
        &Actor::system(),
        &backend::teams::TeamName::parse("search").expect("name"),
    )
    .await
    .expect("team");
    let shadows = catalog::search(&pool, &Query { shadows: true, limit: 10, ..Query::default() })
        .await
        .expect("shadows")
        .entries;
    let id_of = |name: &str| shadows.iter().find(|f| f.name == name).expect("shadow").function_id;
    let actor = Actor::account(developer.account_id, None);

    for refused in ["production-billing", "theirs"] {
        match catalog::claim(&pool, &actor, &developer, id_of(refused)).await {
            Err(backend::Error::Refused(message)) => {
                assert!(message.contains("lambdaport:owner=dev@example.com"), "{message}");
            }
            other => panic!("{refused}: expected a refusal, got {other:?}"),
        }
    }
    catalog::claim(&pool, &actor, &developer, id_of("mine")).await.expect("owner tag");
    catalog::claim(&pool, &actor, &developer, id_of("ours")).await.expect("team tag");
    let mine = catalog::detail(&pool, id_of("mine")).await.expect("detail");
    assert_eq!((mine.owner_id, mine.team_id), (Some(developer.account_id), None));
    let ours = catalog::detail(&pool, id_of("ours")).await.expect("detail");
    assert_eq!((ours.owner_id, ours.team_id), (Some(developer.account_id), Some(payments)));
    let untracked =
        sqlx::query_scalar!(r#"select count(*) as "n!" from catalog_function where not tracked"#)
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(untracked, 2, "the refused ones stay shadows");
}

/// Importing adopts what the cloud's `lambdaport:*` tags say (lifecycle, environment, team) and
/// writes the catalog's record back as tags: a fresh import has no drift, now or after a sync. A
/// value the console does not know is left out and named in the audit.
#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn imports_adopt_the_clouds_tags(pool: sqlx::PgPool) {
    let (base, _stop) = engine().await;
    let tags = json!({ "lambdaport:lifecycle": "production", "lambdaport:environment": "prod",
                       "lambdaport:team": "payments", "lambdaport:owner": "ada@example.com" });
    create_function(&base, "tagged", tags).await;
    create_function(&base, "odd", json!({ "lambdaport:lifecycle": "forever" })).await;
    let local = connections::ensure_local(&pool, &base, "us-east-1").await.expect("local");
    let connection = connections::get(&pool, local).await.expect("get");
    let ada = account(&pool, "ada@example.com", "developer").await;
    let payments = backend::teams::create_team(
        &pool,
        &Actor::system(),
        &backend::teams::TeamName::parse("payments").expect("name"),
    )
    .await
    .expect("team");
    catalog::sync(&pool, &connection).await.expect("sync");
    let shadows = catalog::search(&pool, &Query { shadows: true, limit: 10, ..Query::default() })
        .await
        .expect("shadows")
        .entries;
    let id_of = |name: &str| shadows.iter().find(|f| f.name == name).expect("shadow").function_id;

    catalog::import(&pool, &Actor::system(), id_of("tagged"), ada.account_id, None)
        .await
        .expect("import");
    let tagged = catalog::detail(&pool, id_of("tagged")).await.expect("detail");
    assert_eq!(
        (tagged.entry.lifecycle.as_str(), tagged.entry.environment.as_str(), tagged.team_id),
        ("production", "prod", Some(payments))
    );
    assert!(!tagged.entry.drift, "{:?}", tagged.drift);
    catalog::sync(&pool, &connection).await.expect("sync again");
    let synced = catalog::detail(&pool, id_of("tagged")).await.expect("detail");
    assert!(!synced.entry.drift, "still no drift after a sync: {:?}", synced.drift);

    catalog::import(&pool, &Actor::system(), id_of("odd"), ada.account_id, None)
        .await
        .expect("import");
    let odd = catalog::detail(&pool, id_of("odd")).await.expect("detail");
    assert_eq!(odd.entry.lifecycle, "experimental", "an unknown value is not adopted");
    let ignored: serde_json::Value = sqlx::query_scalar(
        "select detail->'ignored_tags' from audit_event
         where action = 'function.import' and target = 'function:odd'",
    )
    .fetch_one(&pool)
    .await
    .expect("audited");
    assert_eq!(ignored, json!(["lambdaport:lifecycle=forever"]));
    let cloud = cloud_tags(&base, &odd.arn).await;
    assert_eq!(cloud["Tags"]["lambdaport:lifecycle"], "experimental", "{cloud}");
    assert_eq!(cloud["Tags"]["lambdaport:owner"], "ada@example.com", "{cloud}");

    // The cloud's tag changes: drift, found by the drift filter, resolved by taking the cloud's
    // value into the catalog.
    let tagged_arn = tagged.arn.clone();
    let retagged = reqwest::Client::new()
        .post(format!("{base}/2017-03-31/tags/{tagged_arn}"))
        .json(&json!({ "Tags": { "lambdaport:lifecycle": "deprecated" } }))
        .send()
        .await
        .expect("tag");
    assert_eq!(retagged.status(), 204);
    catalog::sync(&pool, &connection).await.expect("sync");
    let drifted = Query { drifted: true, limit: 10, ..Query::default() };
    let found = catalog::search(&pool, &drifted).await.expect("search").entries;
    assert_eq!(found.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["tagged"]);
    let detail = catalog::detail(&pool, id_of("tagged")).await.expect("detail");
    catalog::take_cloud_value(&pool, &Actor::system(), &detail, "lifecycle")
        .await
        .expect("take the cloud's value");
    let taken = catalog::detail(&pool, id_of("tagged")).await.expect("detail");
    assert_eq!(taken.entry.lifecycle, "deprecated");
    assert!(!taken.entry.drift, "{:?}", taken.drift);
    let found = catalog::search(&pool, &drifted).await.expect("search").entries;
    assert!(found.is_empty());
    let refused = catalog::take_cloud_value(&pool, &Actor::system(), &detail, "runtime").await;
    assert!(matches!(refused, Err(backend::Error::Validation { field: "field", .. })));
}

/// An endpoint that accepts connections and never answers costs a cloud call its operation
/// timeout, not forever (and no database connection waits on it meanwhile).
#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn a_silent_endpoint_times_out(pool: sqlx::PgPool) {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = silent.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket); // accepted, never answered
        }
    });
    let new = connections::NewConnection {
        name: "Silent".into(),
        kind: "endpoint".into(),
        endpoint_url: format!("http://{addr}"),
        regions: "us-east-1".into(),
        access_key_id: "k".into(),
        secret_access_key: "s".into(),
        ..Default::default()
    };
    let id = connections::create(&pool, &Actor::system(), &new).await.expect("create");
    let connection = connections::get(&pool, id).await.expect("get");
    assert_eq!(connection.operation_timeout, connections::OPERATION_TIMEOUT);
    let connection = connection.with_operation_timeout(std::time::Duration::from_secs(2));
    let started = std::time::Instant::now();
    let synced = catalog::sync(&pool, &connection).await;
    let took = started.elapsed();
    assert!(synced.is_err(), "{synced:?}");
    assert!(took < std::time::Duration::from_secs(10), "gave up after {took:?}");
    // The pool is not held: a query answers at once.
    let one = sqlx::query_scalar!(r#"select 1 as "one!""#).fetch_one(&pool).await.expect("query");
    assert_eq!(one, 1);
}

/// `dev seed`'s connection points nowhere: it is archived, so the reconciler never syncs it and
/// no lab is offered on it, while its functions still fill the catalog.
#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn sample_data_is_never_synced_nor_offered_for_labs(pool: sqlx::PgPool) {
    backend::seed::seed(&pool, 3).await.expect("seed");
    let sample = connections::list(&pool)
        .await
        .expect("list")
        .into_iter()
        .find(|c| c.name == "Sample data")
        .expect("the sample connection");
    assert!(sample.archived, "the reconciler skips archived connections");
    let admin = account(&pool, "admin@example.com", "admin").await;
    assert!(backend::labs::access::refusal(&admin, &sample, None).is_some());
    let all = catalog::search(&pool, &Query { limit: 10, ..Query::default() })
        .await
        .expect("search")
        .entries;
    assert_eq!(all.len(), 3);
}

/// The Test tab's work: saved events (private, shared, versioned, changed only by their owner),
/// invoking with one through the SDK (the REPORT numbers, init on a cold start, the log tail, a
/// function's error), and the history that replays.
#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn test_events_are_saved_shared_invoked_and_replayed(pool: sqlx::PgPool) {
    use backend::testing::{self, EventInput, Invocation};
    use model::InvocationType;
    let (base, _stop) = engine().await;
    create_function(&base, "tested", json!({})).await;
    let local = connections::ensure_local(&pool, &base, "us-east-1").await.expect("local");
    let connection = connections::get(&pool, local).await.expect("get");
    catalog::sync(&pool, &connection).await.expect("sync");
    let function_id: uuid::Uuid =
        sqlx::query_scalar!("select function_id from catalog_function where name = 'tested'")
            .fetch_one(&pool)
            .await
            .expect("listed");
    let ada = account(&pool, "ada@example.com", "developer").await;
    let bob = account(&pool, "bob@example.com", "developer").await;
    catalog::import(&pool, &Actor::system(), function_id, ada.account_id, None)
        .await
        .expect("import");
    let detail = catalog::detail(&pool, function_id).await.expect("detail");
    let actor = Actor::account(ada.account_id, None);

    // Saved: private until shared; another user sees only the shared one and cannot change it.
    let input = |name: &str, shared: bool, payload: &str| EventInput {
        name: name.into(),
        shared,
        invocation_type: InvocationType::RequestResponse,
        qualifier: None,
        tenant_id: None,
        payload: payload.into(),
    };
    let private = testing::save(&pool, &actor, &ada, &detail, None, &input("mine", false, "{}"))
        .await
        .expect("private");
    let shared =
        testing::save(&pool, &actor, &ada, &detail, None, &input("orders", true, "{\"n\": 1}"))
            .await
            .expect("shared");
    let names =
        |events: Vec<testing::TestEvent>| events.into_iter().map(|e| e.name).collect::<Vec<_>>();
    assert_eq!(
        names(testing::list(&pool, &ada, function_id).await.expect("list")),
        ["mine", "orders"]
    );
    assert_eq!(names(testing::list(&pool, &bob, function_id).await.expect("list")), ["orders"]);
    let bobs = Actor::account(bob.account_id, None);
    assert!(matches!(
        testing::save(&pool, &bobs, &bob, &detail, Some(shared), &input("orders", true, "{}"))
            .await,
        Err(backend::Error::Refused(_))
    ));
    assert!(matches!(
        testing::save(&pool, &actor, &ada, &detail, None, &input("mine", false, "{}")).await,
        Err(backend::Error::Validation { field: "name", .. })
    ));
    // An edit keeps the version it replaces.
    testing::save(&pool, &actor, &ada, &detail, Some(shared), &input("orders", true, "{\"n\": 2}"))
        .await
        .expect("edit");
    let listed = testing::list(&pool, &bob, function_id).await.expect("list");
    assert_eq!((listed[0].payload.as_str(), listed[0].versions), ("{\"n\": 2}", 1));
    testing::delete(&pool, &actor, &ada, &detail, private).await.expect("delete");
    assert!(testing::delete(&pool, &bobs, &bob, &detail, shared).await.is_err(), "not bob's");

    // Invoked: the first call is a cold start, with its init duration; the REPORT's numbers.
    let send = |payload: &str| Invocation {
        payload: payload.into(),
        invocation_type: InvocationType::RequestResponse,
        qualifier: None,
        tenant_id: None,
        test_event_id: Some(shared),
    };
    let first = testing::invoke(&pool, &actor, &ada, &connection, &detail, &send("{\"n\": 2}"))
        .await
        .expect("invoke");
    assert_eq!((first.status, first.response.as_str()), (200, "\"ok\""));
    assert_eq!(first.event_name.as_deref(), Some("orders"));
    assert!(first.report.init_ms.is_some(), "a cold start reports its init: {first:?}");
    assert!(first.report.duration_ms.is_some() && first.report.billed_ms.is_some());
    assert_eq!(first.report.memory_size_mb, Some(128));
    assert!(first.log_tail.contains("REPORT RequestId"), "{}", first.log_tail);
    assert_eq!(first.executed_version.as_deref(), Some("$LATEST"));
    let second = testing::invoke(&pool, &actor, &ada, &connection, &detail, &send("{}"))
        .await
        .expect("invoke");
    assert_eq!(second.report.init_ms, None, "warm: no init");
    // A DryRun only checks; bad JSON is refused before it is sent.
    let dry = Invocation { invocation_type: InvocationType::DryRun, ..send("{}") };
    let checked =
        testing::invoke(&pool, &actor, &ada, &connection, &detail, &dry).await.expect("dry");
    assert_eq!(checked.status, 204);
    assert!(matches!(
        testing::invoke(&pool, &actor, &ada, &connection, &detail, &send("{")).await,
        Err(backend::Error::Validation { field: "payload", .. })
    ));

    // History, newest first, replays what was sent.
    let history = testing::history(&pool, function_id, 10).await.expect("history");
    assert_eq!(history.len(), 3);
    assert_eq!(history[2].test_invocation_id, first.test_invocation_id);
    let again =
        testing::recorded(&pool, function_id, first.test_invocation_id).await.expect("recorded");
    assert_eq!((again.payload.as_str(), again.test_event_id), ("{\"n\": 2}", Some(shared)));
    let audited = sqlx::query_scalar!(
        r#"select count(*) as "n!" from audit_event where action = 'function.test_invoke'"#
    )
    .fetch_one(&pool)
    .await
    .expect("audit");
    assert_eq!(audited, 3, "each invocation is in the function's activity");
}

/// Every template goes through a real invoke, and reaches the handler as sent.
#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn every_template_reaches_the_handler_as_sent(pool: sqlx::PgPool) {
    use backend::testing::{self, Invocation};
    let (base, _stop) = engine().await;
    let echo = zip_of(&[(
        "lambda_function.py",
        "def lambda_handler(event, context):\n    return event\n",
    )]);
    let echo = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(&echo)
    };
    let created = reqwest::Client::new()
        .post(format!("{base}/2015-03-31/functions"))
        .json(&json!({
            "FunctionName": "echo", "Runtime": "python3.12", "Handler": "lambda_function.lambda_handler",
            "Role": "arn:aws:iam::000000000000:role/r",
            "Code": { "ZipFile": echo },
        }))
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), 201, "{:?}", created.text().await);
    let local = connections::ensure_local(&pool, &base, "us-east-1").await.expect("local");
    let connection = connections::get(&pool, local).await.expect("get");
    catalog::sync(&pool, &connection).await.expect("sync");
    let function_id: uuid::Uuid =
        sqlx::query_scalar!("select function_id from catalog_function where name = 'echo'")
            .fetch_one(&pool)
            .await
            .expect("listed");
    let ada = account(&pool, "ada@example.com", "developer").await;
    let detail = catalog::detail(&pool, function_id).await.expect("detail");
    for template in testing::TEMPLATES {
        let invocation = Invocation {
            payload: template.json.to_owned(),
            invocation_type: model::InvocationType::RequestResponse,
            qualifier: None,
            tenant_id: None,
            test_event_id: None,
        };
        let outcome =
            testing::invoke(&pool, &Actor::system(), &ada, &connection, &detail, &invocation)
                .await
                .expect("invoke");
        let sent: serde_json::Value = serde_json::from_str(template.json).expect("json");
        let got: serde_json::Value = serde_json::from_str(&outcome.response).expect("echoed");
        assert_eq!(got, sent, "{}", template.name);
    }
}

/// The Versions tab's backend: versions published from `$LATEST` with descriptions, an alias
/// weighted between two of them (Lambda's rules checked first), changed and deleted; each change
/// audited, and the alias's routing is what the engine then runs.
#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn versions_are_published_and_aliases_weighted(pool: sqlx::PgPool) {
    use backend::versions::{self, AliasInput};
    let (base, _stop) = engine().await;
    let (connection, _, detail) =
        common::catalogued(&pool, &base, "priced", &zip(), json!({})).await;
    let actor = Actor::system();

    let one = versions::publish(&pool, &actor, &connection, &detail, "first").await.expect("v1");
    assert_eq!(one, "1");
    assert_eq!(
        versions::publish(&pool, &actor, &connection, &detail, "first").await.expect("again"),
        "1",
        "an unchanged $LATEST is the version it already is"
    );
    let code = json!({ "ZipFile": zip_two() });
    let updated = reqwest::Client::new()
        .put(format!("{base}/2015-03-31/functions/priced/code"))
        .json(&code)
        .send()
        .await
        .expect("update");
    assert!(updated.status().is_success());
    let two = versions::publish(&pool, &actor, &connection, &detail, "second").await.expect("v2");
    assert_eq!(two, "2");

    // Lambda's rules, said before any call.
    let alias = |name: &str, version: &str, weight: Option<(&str, f64)>| AliasInput {
        name: name.to_owned(),
        version: version.to_owned(),
        description: String::new(),
        weight: weight.map(|(v, s)| (v.to_owned(), s)),
    };
    for (input, field) in [
        (alias("123", "1", None), "name"),
        (alias("has space", "1", None), "name"),
        (alias("live", "1", Some(("2", 1.0))), "weight"),
        (alias("live", "1", Some(("1", 0.5))), "weight"),
        (alias("live", "$LATEST", Some(("2", 0.5))), "weight"),
    ] {
        let refused = versions::save_alias(&pool, &actor, &connection, &detail, &input, true)
            .await
            .expect_err("refused");
        assert!(
            matches!(&refused, backend::Error::Validation { field: f, .. } if *f == field),
            "{input:?}: {refused}"
        );
    }

    // Version 1 with a tenth of the calls on version 2: both run.
    let live = alias("live", "1", Some(("2", 0.1)));
    versions::save_alias(&pool, &actor, &connection, &detail, &live, true).await.expect("create");
    let (listed, aliases) = versions::list(&connection, &detail).await.expect("list");
    let numbers: Vec<&str> = listed.iter().map(|v| v.version.as_str()).collect();
    assert_eq!(numbers, ["$LATEST", "1", "2"]);
    assert_eq!(listed[1].description, "first");
    assert_eq!((aliases[0].name.as_str(), aliases[0].version.as_str()), ("live", "1"));
    assert_eq!(aliases[0].weight, Some(("2".to_owned(), 0.1)));
    let mut answers = std::collections::BTreeSet::new();
    for _ in 0..60 {
        answers.insert(invoke_live(&base).await);
        if answers.len() == 2 {
            break;
        }
    }
    assert_eq!(answers.len(), 2, "both versions served the alias: {answers:?}");

    // Changed to version 2 alone, then deleted.
    versions::save_alias(&pool, &actor, &connection, &detail, &alias("live", "2", None), false)
        .await
        .expect("update");
    let (_, aliases) = versions::list(&connection, &detail).await.expect("list");
    assert_eq!((aliases[0].version.as_str(), aliases[0].weight.clone()), ("2", None));
    assert_eq!(invoke_live(&base).await, "\"two\"");
    versions::delete_alias(&pool, &actor, &connection, &detail, "live").await.expect("delete");
    assert!(versions::list(&connection, &detail).await.expect("list").1.is_empty());
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_event where target = 'function:priced' order by audit_event_id",
    )
    .fetch_all(&pool)
    .await
    .expect("audit");
    assert_eq!(
        actions,
        [
            "function.publish_version",
            "function.publish_version",
            "function.publish_version",
            "function.create_alias",
            "function.update_alias",
            "function.delete_alias"
        ]
    );
}

/// A package whose handler answers "two".
fn zip_two() -> String {
    use base64::Engine as _;
    let package = zip_of(&[(
        "lambda_function.py",
        "def lambda_handler(event, context):\n    return 'two'\n",
    )]);
    base64::engine::general_purpose::STANDARD.encode(package)
}

async fn invoke_live(base: &str) -> String {
    reqwest::Client::new()
        .post(format!("{base}/2015-03-31/functions/priced/invocations?Qualifier=live"))
        .body("{}")
        .send()
        .await
        .expect("invoke")
        .text()
        .await
        .expect("body")
}

/// A tenant-isolated function from the Test tab: the tenant goes with the invoke (the handler sees
/// it), is kept with the invocation for History and replay, and a missing one is the cloud's
/// clear refusal, not a silent run.
#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn test_invocations_name_their_tenant(pool: sqlx::PgPool) {
    use backend::testing::{self, Invocation};
    let (base, _stop) = engine().await;
    let handler = "def lambda_handler(event, context):\n    return context.tenant_id\n";
    let (connection, function_id, detail) = common::catalogued(
        &pool,
        &base,
        "per-tenant",
        &common::python_package(handler),
        json!({ "TenancyConfig": { "TenantIsolationMode": "PER_TENANT" } }),
    )
    .await;
    let ada = account(&pool, "ada@example.com", "developer").await;
    let actor = Actor::account(ada.account_id, None);
    let send = |tenant_id: Option<&str>| Invocation {
        payload: "{}".into(),
        invocation_type: model::InvocationType::RequestResponse,
        qualifier: None,
        tenant_id: tenant_id.map(str::to_owned),
        test_event_id: None,
    };
    let blue = testing::invoke(&pool, &actor, &ada, &connection, &detail, &send(Some("blue")))
        .await
        .expect("invoke");
    assert_eq!((blue.status, blue.response.as_str()), (200, "\"blue\""));
    let refused = testing::invoke(&pool, &actor, &ada, &connection, &detail, &send(None))
        .await
        .expect_err("no tenant");
    assert!(refused.to_string().contains("tenant"), "{refused}");
    assert!(matches!(
        testing::invoke(&pool, &actor, &ada, &connection, &detail, &send(Some("two words"))).await,
        Err(backend::Error::Validation { field: "tenant_id", .. })
    ));
    let history = testing::history(&pool, function_id, 10).await.expect("history");
    assert_eq!(history.len(), 1, "only the call that ran is recorded");
    assert_eq!(history[0].tenant_id.as_deref(), Some("blue"));
    let replay = testing::recorded(&pool, function_id, history[0].test_invocation_id)
        .await
        .expect("recorded");
    assert_eq!(replay.tenant_id.as_deref(), Some("blue"));
}

/// Catalog writers at once — on the same function and on different ones, moving facet counts in
/// opposite directions (runtime a→b while another goes b→a, lifecycles, states) in transactions of
/// two statements — never deadlock: the facet counts are always taken in one order.
#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn concurrent_catalog_writers_never_deadlock(pool: sqlx::PgPool) {
    let connection =
        connections::ensure_local(&pool, "http://127.0.0.1:9", "us-east-1").await.expect("local");
    let mut ids = Vec::new();
    for n in 0..4 {
        let id: uuid::Uuid = sqlx::query_scalar(
            "insert into catalog_function (connection_id, region, name, arn, runtime, state)
             values ($1, 'us-east-1', $2, $3, 'python3.12', 'Active') returning function_id",
        )
        .bind(connection)
        .bind(format!("busy-{n}"))
        .bind(format!("arn:aws:lambda:us-east-1:000000000000:function:busy-{n}"))
        .fetch_one(&pool)
        .await
        .expect("function");
        ids.push(id);
    }
    let writers: Vec<_> = (0..12)
        .map(|w| {
            let (pool, ids) = (pool.clone(), ids.clone());
            tokio::spawn(async move {
                let runtimes = ["python3.12", "nodejs22.x", "python3.13"];
                let lifecycles = ["experimental", "production", "deprecated"];
                for round in 0..25 {
                    // Two writers share each function; the others' rows differ.
                    let id = ids[(w + round) % ids.len()];
                    let (forward, back) = if w % 2 == 0 { (0, 1) } else { (1, 0) };
                    let mut tx = pool.begin().await?;
                    sqlx::query("update catalog_function set runtime = $2, state = $3 where function_id = $1")
                        .bind(id)
                        .bind(runtimes[(round + forward) % 3])
                        .bind(if round % 2 == 0 { "Pending" } else { "Active" })
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("update catalog_function set lifecycle = $2, runtime = $3 where function_id = $1")
                        .bind(id)
                        .bind(lifecycles[(round + w) % 3])
                        .bind(runtimes[(round + back) % 3])
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                }
                Ok::<_, sqlx::Error>(())
            })
        })
        .collect();
    for writer in writers {
        writer.await.expect("writer").expect("no writer hit a deadlock");
    }
    // And the counts add up: four functions in each facet.
    let runtimes: i64 = sqlx::query_scalar(
        "select coalesce(sum(count), 0)::bigint from catalog_facet where facet = 'runtime'",
    )
    .fetch_one(&pool)
    .await
    .expect("counts");
    assert_eq!(runtimes, 4);
}

#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn a_sync_reads_what_the_secret_cors_and_retention_rules_judge(pool: sqlx::PgPool) {
    let (base, _stop) = engine().await;
    for kind in ["environment_secrets", "url_cors_wildcard", "log_retention"] {
        common::rule(&pool, &[("kind", kind), ("severity", "warning")]).await;
    }
    let local = connections::ensure_local(&pool, &base, "us-east-1").await.expect("local");
    let connection = connections::get(&pool, local).await.expect("connection");
    let lambda = connection.lambda("us-east-1").await;
    let created = reqwest::Client::new()
        .post(format!("{base}/2015-03-31/functions"))
        .json(&json!({
            "FunctionName": "leaky", "Runtime": "python3.12", "Handler": "lambda_function.lambda_handler",
            "Role": "arn:aws:iam::000000000000:role/r", "Code": { "ZipFile": zip() },
            "Environment": { "Variables": {
                "DB_PASSWORD": "correct-horse-battery", "TABLE": "orders",
                "API_TOKEN": "arn:aws:secretsmanager:us-east-1:000000000000:secret:token" } },
        }))
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), 201, "{:?}", created.text().await);
    lambda
        .create_function_url_config()
        .function_name("leaky")
        .auth_type(aws_sdk_lambda::types::FunctionUrlAuthType::AwsIam)
        .cors(aws_sdk_lambda::types::Cors::builder().allow_origins("*").build())
        .send()
        .await
        .expect("url");
    let logs = connection.logs("us-east-1").await;
    logs.create_log_group().log_group_name("/aws/lambda/leaky").send().await.expect("group");

    catalog::sync(&pool, &connection).await.expect("sync");
    let function_id: uuid::Uuid =
        sqlx::query_scalar("select function_id from catalog_function where name = 'leaky'")
            .fetch_one(&pool)
            .await
            .expect("catalogued");
    let findings = |pool: sqlx::PgPool| async move {
        backend::governance::violations::evaluate_catalog(
            &pool,
            backend::governance::violations::Scope::Function(function_id),
        )
        .await
        .expect("evaluate");
        let mut messages: Vec<String> =
            backend::governance::violations::of_function(&pool, function_id)
                .await
                .expect("read")
                .into_iter()
                .map(|f| f.message)
                .collect();
        messages.sort();
        messages
    };
    let found = findings(pool.clone()).await;
    assert_eq!(found.len(), 3, "{found:?}");
    for expected in [
        "The environment variable DB_PASSWORD looks like a secret",
        "log group keeps its logs for ever",
        "CORS allows every origin",
    ] {
        assert!(found.iter().any(|m| m.contains(expected)), "{expected}: {found:?}");
    }
    // Only names and why are kept: never a value.
    let stored: String =
        sqlx::query_scalar("select cloud_config::text from catalog_function where name = 'leaky'")
            .fetch_one(&pool)
            .await
            .expect("stored");
    assert!(!stored.contains("correct-horse-battery"), "{stored}");

    // The console recording a change of its own (a lab step) reads the configuration and tags
    // only: what the sync read besides (the log group, the URL's CORS) is kept, not forgotten.
    let owner = common::account(&pool, "owner@example.com", "developer").await;
    for reads in [catalog::Reads::Configuration, catalog::Reads::WithUrl] {
        catalog::record_created(&pool, &connection, "us-east-1", "leaky", owner.account_id, reads)
            .await
            .expect("recorded");
        assert_eq!(findings(pool.clone()).await, found, "after a change recorded ({reads:?})");
    }

    // Put right in the cloud: the next sync and evaluation clear all three.
    lambda
        .update_function_configuration()
        .function_name("leaky")
        .environment(
            aws_sdk_lambda::types::Environment::builder().variables("TABLE", "orders").build(),
        )
        .send()
        .await
        .expect("variables");
    lambda
        .update_function_url_config()
        .function_name("leaky")
        .cors(aws_sdk_lambda::types::Cors::builder().allow_origins("https://example.com").build())
        .send()
        .await
        .expect("cors");
    logs.put_retention_policy()
        .log_group_name("/aws/lambda/leaky")
        .retention_in_days(30)
        .send()
        .await
        .expect("retention");
    catalog::sync(&pool, &connection).await.expect("sync again");
    assert_eq!(findings(pool.clone()).await, Vec::<String>::new());
}
