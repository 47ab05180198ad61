//! The same connection code against an independent Lambda emulator, moto (`moto_server`, PyPI
//! `moto[server]`): listing, syncing, tag editing and configuration editing work there too — the
//! console speaks AWS, not just our engine.

use std::process::Stdio;
use std::time::Duration;

use aws_sdk_lambda::primitives::Blob;
use backend::audit::Actor;
use backend::catalog::{self, Query};
use backend::connections::{self, NewConnection};

mod common;

/// A `moto_server` on a free loopback port; killed when dropped.
struct Moto {
    base: String,
    _child: tokio::process::Child,
}

async fn moto() -> Moto {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = tokio::process::Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        // AWS's managed policies (AdministratorAccess…), as every account has them.
        .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("moto_server runs (scripts/lib.sh installs it: pip install 'moto[server]')");
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if reqwest::get(format!("{base}/moto-api/")).await.is_ok() {
            return Moto { base, _child: child };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("moto_server did not answer on {base} within 20 s");
}

fn zip() -> Blob {
    use std::io::Write as _;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    writer
        .start_file("lambda_function.py", zip::write::SimpleFileOptions::default())
        .expect("start");
    writer.write_all(b"def lambda_handler(event, context):\n    return 'ok'\n").expect("write");
    Blob::new(writer.finish().expect("zip").into_inner())
}

/// A connection to `moto` (checked with STS), with the role `r` moto's Lambda insists exists.
async fn connect(pool: &sqlx::PgPool, moto: &Moto) -> connections::Connection {
    let new = NewConnection {
        name: "moto".into(),
        kind: "endpoint".into(),
        endpoint_url: moto.base.clone(),
        profile: String::new(),
        regions: "us-east-1".into(),
        access_key_id: "testing".into(),
        secret_access_key: "testing".into(),
    };
    let id = connections::create(pool, &Actor::system(), &new).await.expect("connection");
    let connection = connections::get(pool, id).await.expect("get");
    assert_eq!(connections::test(pool, &connection).await.expect("sts"), "123456789012");

    // moto checks that the role exists: make it through moto's IAM (query protocol).
    create_role(moto, "r").await;
    connection
}

/// A role in moto's IAM that trusts Lambda.
async fn create_role(moto: &Moto, name: &str) {
    iam(
        moto,
        &format!(
            "Action=CreateRole&Version=2010-05-08&RoleName={name}&AssumeRolePolicyDocument={}",
            engine::iam::percent_encode(engine::iam::LAMBDA_TRUST_POLICY)
        ),
    )
    .await;
}

/// One call to moto's IAM (query protocol), which must succeed.
async fn iam(moto: &Moto, body: &str) {
    let answer = reqwest::Client::new()
        .post(format!("{}/", moto.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", "AWS4-HMAC-SHA256 Credential=testing/20261128/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=x")
        .body(body.to_owned())
        .send()
        .await
        .expect("IAM");
    assert!(answer.status().is_success(), "{:?}", answer.text().await);
}

#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn the_catalog_works_against_moto(pool: sqlx::PgPool) {
    let moto = moto().await;
    let connection = connect(&pool, &moto).await;
    let lambda = connection.lambda("us-east-1").await;
    for (name, owner) in [("billing-api", Some("ada@example.com")), ("reports", None)] {
        let mut create = lambda
            .create_function()
            .function_name(name)
            .runtime(aws_sdk_lambda::types::Runtime::Python312)
            .handler("lambda_function.lambda_handler")
            .role("arn:aws:iam::123456789012:role/r")
            .description(format!("{name} for the team"))
            .code(aws_sdk_lambda::types::FunctionCode::builder().zip_file(zip()).build())
            .tags("team", "finance");
        if let Some(owner) = owner {
            create = create.tags(catalog::OWNER_TAG, owner);
        }
        create.send().await.expect("create in moto");
    }

    // Sync lists moto's functions (with their tags) as shadows; the owner is suggested.
    let run = catalog::sync(&pool, &connection).await.expect("sync");
    assert_eq!((run.seen, run.shadows, run.ghosts, run.error), (2, 2, 0, None));
    let shadows = catalog::search(&pool, &Query { shadows: true, limit: 10, ..Query::default() })
        .await
        .expect("shadows")
        .entries;
    let billing = shadows.iter().find(|f| f.name == "billing-api").expect("billing-api");
    assert_eq!(billing.suggested_owner.as_deref(), Some("ada@example.com"));
    assert_eq!(billing.runtime.as_deref(), Some("python3.12"));
    let owner = sqlx::query_scalar!(
        "insert into account (email, password_hash, role) values ('ada@example.com', 'x', 'developer') returning account_id"
    )
    .fetch_one(&pool)
    .await
    .expect("account");
    catalog::import(&pool, &Actor::system(), billing.function_id, owner, None)
        .await
        .expect("import");

    // Tags edited in the console land on moto's function.
    let detail = catalog::detail(&pool, billing.function_id).await.expect("detail");
    let metadata = catalog::Metadata {
        owner: "ada@example.com".into(),
        team: String::new(),
        lifecycle: "production".into(),
        environment: "prod".into(),
        tags: [("cost-center".to_owned(), "42".to_owned())].into(),
        // The form showed `team` and the user removed it.
        removed: vec!["team".to_owned()],
    };
    catalog::update_metadata(&pool, &Actor::system(), &connection, &detail, &metadata)
        .await
        .expect("tags written to moto");
    let tags = lambda.list_tags().resource(&detail.arn).send().await.expect("list tags");
    let tags = tags.tags().expect("tags");
    assert_eq!(tags.get("cost-center").map(String::as_str), Some("42"));
    assert_eq!(tags.get(catalog::LIFECYCLE_TAG).map(String::as_str), Some("production"));
    assert!(!tags.contains_key("team"), "the removed user tag is gone: {tags:?}");

    // Configuration goes through moto's UpdateFunctionConfiguration and reads back live.
    let change = catalog::ConfigChange {
        memory_mb: Some(512),
        timeout_s: Some(30),
        description: Some("bills".into()),
        handler: Some("lambda_function.lambda_handler".into()),
        runtime: Some("python3.12".into()),
        environment: Some([("STAGE".to_owned(), "prod".to_owned())].into()),
        ..Default::default()
    };
    catalog::update_configuration(&pool, &Actor::system(), &connection, &detail, &change)
        .await
        .expect("configuration in moto");
    let live = catalog::live(&connection, &detail).await.expect("live");
    assert!(live.fields.iter().any(|(f, _, cloud)| *f == "memory (MB)" && cloud == "512"));
    assert!(live.fields.iter().any(|(f, _, cloud)| *f == "timeout (s)" && cloud == "30"));
    assert_eq!(live.environment.get("STAGE").map(String::as_str), Some("prod"));

    // Deleted in moto: the next sync finds a ghost.
    lambda.delete_function().function_name("billing-api").send().await.expect("delete");
    let run = catalog::sync(&pool, &connection).await.expect("sync");
    assert_eq!((run.seen, run.ghosts), (1, 1));
    let all = catalog::search(&pool, &Query { limit: 10, ..Query::default() })
        .await
        .expect("search")
        .entries;
    assert!(all.iter().any(|f| f.name == "billing-api" && f.gone));
}

/// The engine's filter patterns give the same lines as moto's FilterLogEvents for the patterns
/// moto understands (terms and a quoted phrase), each pattern matching some lines and not others.
#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn filter_patterns_match_what_moto_matches(pool: sqlx::PgPool) {
    let moto = moto().await;
    let ours = engine::testing::engine_with_role("filter-cross-check", "r").await;
    let new = NewConnection {
        name: "moto".into(),
        kind: "endpoint".into(),
        endpoint_url: moto.base.clone(),
        profile: String::new(),
        regions: "us-east-1".into(),
        access_key_id: "testing".into(),
        secret_access_key: "testing".into(),
    };
    let moto_connection = connections::get(
        &pool,
        connections::create(&pool, &Actor::system(), &new).await.expect("moto"),
    )
    .await
    .expect("get");
    let local = connections::ensure_local(&pool, &ours.base, "us-east-1").await.expect("local");
    let engine_connection = connections::get(&pool, local).await.expect("get");
    let lines = [
        "[ERROR] boom: timeout talking to db",
        "[INFO] user 42 signed in",
        "[INFO] user 7 signed out",
        "ERROR timeout after 3 s",
        "WARN slow request took 900 ms",
        "a plain line",
    ];
    let now = i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
        .expect("ms");
    let patterns =
        ["ERROR", "ERROR timeout", "signed", "\"user 42\"", "user signed", "slow", "timeout db"];
    let mut answers = Vec::new();
    for connection in [&moto_connection, &engine_connection] {
        let logs = connection.logs("us-east-1").await;
        logs.create_log_group().log_group_name("/cross/check").send().await.expect("group");
        logs.create_log_stream()
            .log_group_name("/cross/check")
            .log_stream_name("s")
            .send()
            .await
            .expect("stream");
        let events = lines.iter().enumerate().map(|(i, line)| {
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(now - 1000 + i64::try_from(i).expect("small"))
                .message(*line)
                .build()
                .expect("event")
        });
        logs.put_log_events()
            .log_group_name("/cross/check")
            .log_stream_name("s")
            .set_log_events(Some(events.collect()))
            .send()
            .await
            .expect("put");
        let mut matched = Vec::new();
        for pattern in patterns {
            let out = logs
                .filter_log_events()
                .log_group_name("/cross/check")
                .filter_pattern(pattern)
                .send()
                .await
                .expect("filter");
            let mut messages: Vec<String> =
                out.events().iter().filter_map(|e| e.message().map(str::to_owned)).collect();
            messages.sort();
            assert!(
                !messages.is_empty() && messages.len() < lines.len(),
                "{pattern:?} should match some lines and not others: {messages:?}"
            );
            matched.push((pattern, messages));
        }
        answers.push(matched);
    }
    assert_eq!(answers[0], answers[1], "moto's lines, then the engine's");
}

#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn every_rule_the_sync_can_judge_judges_what_moto_reports(pool: sqlx::PgPool) {
    use aws_sdk_lambda::types::{
        Architecture, Cors, Environment, FunctionCode, FunctionUrlAuthType, Runtime,
    };
    let moto = moto().await;
    let connection = connect(&pool, &moto).await;
    create_role(&moto, "own-role").await;
    let mut rules = std::collections::HashMap::new();
    for fields in [
        vec![("kind", "required_tag"), ("key", "cost-center")],
        vec![("kind", "naming"), ("pattern", "^[a-z]+-[a-z]+$")],
        vec![("kind", "allowed_runtimes"), ("values", "python3.12")],
        vec![("kind", "architectures"), ("values", "x86_64")],
        vec![("kind", "memory"), ("max", "512")],
        vec![("kind", "timeout"), ("max", "30")],
        vec![("kind", "public_url"), ("policy", "forbidden")],
        vec![("kind", "url_cors_wildcard")],
        vec![("kind", "environment_secrets")],
        vec![("kind", "log_retention")],
        vec![("kind", "shared_role")],
        vec![("kind", "admin_role")],
        vec![("kind", "public_invoke")],
    ] {
        let mut fields = fields;
        fields.push(("severity", "error"));
        let rule = common::rule(&pool, &fields).await;
        rules.insert(rule.rule_id, fields[0].1);
    }

    // One function that breaks every rule, one that shares its role, one that breaks none.
    let lambda = connection.lambda("us-east-1").await;
    let role = |name: &str| format!("arn:aws:iam::123456789012:role/{name}");
    lambda
        .create_function()
        .function_name("Bad_Fn")
        .runtime(Runtime::Python311)
        .architectures(Architecture::Arm64)
        .memory_size(1024)
        .timeout(60)
        .handler("lambda_function.lambda_handler")
        .role(role("r"))
        .environment(
            Environment::builder().variables("DB_PASSWORD", "correct-horse-battery").build(),
        )
        .code(FunctionCode::builder().zip_file(zip()).build())
        .send()
        .await
        .expect("Bad_Fn");
    lambda
        .create_function_url_config()
        .function_name("Bad_Fn")
        .auth_type(FunctionUrlAuthType::None)
        .cors(Cors::builder().allow_origins("*").build())
        .send()
        .await
        .expect("its URL");
    // Anyone may invoke it, not only through its URL; its role can do anything.
    lambda
        .add_permission()
        .function_name("Bad_Fn")
        .statement_id("open-to-all")
        .action("lambda:InvokeFunction")
        .principal("*")
        .send()
        .await
        .expect("a public statement");
    iam(
        &moto,
        "Action=AttachRolePolicy&Version=2010-05-08&RoleName=r&PolicyArn=arn:aws:iam::aws:policy/AdministratorAccess",
    )
    .await;
    let logs = connection.logs("us-east-1").await;
    logs.create_log_group().log_group_name("/aws/lambda/Bad_Fn").send().await.expect("group");
    for (name, role_name) in [("role-sharer", "r"), ("good-one", "own-role")] {
        lambda
            .create_function()
            .function_name(name)
            .runtime(Runtime::Python312)
            .handler("lambda_function.lambda_handler")
            .role(role(role_name))
            .code(FunctionCode::builder().zip_file(zip()).build())
            .tags("cost-center", "cc-1")
            .send()
            .await
            .expect("create");
    }
    logs.create_log_group().log_group_name("/aws/lambda/good-one").send().await.expect("group");
    logs.put_retention_policy()
        .log_group_name("/aws/lambda/good-one")
        .retention_in_days(30)
        .send()
        .await
        .expect("retention");

    catalog::sync(&pool, &connection).await.expect("sync");
    backend::governance::violations::evaluate_catalog(
        &pool,
        backend::governance::violations::Scope::All,
    )
    .await
    .expect("evaluate");
    let broken = |name: &'static str| {
        let (pool, rules) = (pool.clone(), rules.clone());
        async move {
            let id: uuid::Uuid =
                sqlx::query_scalar("select function_id from catalog_function where name = $1")
                    .bind(name)
                    .fetch_one(&pool)
                    .await
                    .expect("catalogued");
            let mut kinds: Vec<&str> = backend::governance::violations::of_function(&pool, id)
                .await
                .expect("findings")
                .iter()
                .map(|f| rules[&f.rule_id])
                .collect();
            kinds.sort_unstable();
            kinds.dedup();
            kinds
        }
    };
    let mut every: Vec<&str> = rules.values().copied().collect();
    every.sort_unstable();
    assert_eq!(broken("Bad_Fn").await, every);
    assert_eq!(broken("role-sharer").await, ["admin_role", "shared_role"]);
    assert_eq!(broken("good-one").await, Vec::<&str>::new());
}
