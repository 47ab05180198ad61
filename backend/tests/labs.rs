//! The guided lab against a real engine through the AWS SDK, with a real Postgres per test: the
//! whole lab, each troubleshooting diagnosis provoked for real, an interrupted step, the expiry
//! sweeper, and a role another function uses.

use std::time::Duration;

use backend::audit::Actor;
use backend::connections::{self, Connection};
use backend::labs::{self, Fix, FunctionInput, Outcome, Scope};
use sqlx::PgPool;
use uuid::Uuid;

mod common;
use common::{account, rule};

struct Lab {
    pool: PgPool,
    connection: Connection,
    actor: Actor,
    account_id: Uuid,
    _engine: engine::testing::TestEngine,
}

async fn lab(pool: PgPool) -> Lab {
    lab_on(pool, |_| {}).await
}

/// A lab on an engine configured by `configure`.
async fn lab_on(pool: PgPool, configure: impl FnOnce(&mut engine::EngineConfig)) -> Lab {
    let stop = engine::testing::engine_configured("lab-engine", "r", configure).await;
    let base = stop.base.clone();
    let id = connections::ensure_local(&pool, &base, "us-east-1").await.expect("local");
    let connection = connections::get(&pool, id).await.expect("connection");
    let learner = account(&pool, "learner@example.com", "learner").await;
    Lab {
        pool,
        connection,
        actor: Actor::account(learner.account_id, None),
        account_id: learner.account_id,
        _engine: stop,
    }
}

fn input(name: &str) -> FunctionInput {
    FunctionInput {
        name: name.into(),
        runtime: "python3.12".into(),
        architecture: "x86_64".into(),
        role: "new".into(),
        team: String::new(),
        lifecycle: "experimental".into(),
        environment: "dev".into(),
        tags: [("course".to_owned(), "intro".to_owned())].into(),
    }
}

impl Lab {
    async fn start(&self, expires_in: Option<time::Duration>) -> Uuid {
        labs::start(
            &self.pool,
            &self.actor,
            self.account_id,
            self.connection.connection_id,
            "us-east-1",
            expires_in,
        )
        .await
        .expect("start")
    }

    /// A run through step 5 (a public URL) with the lab's own code.
    async fn through_url(&self, name: &str) -> Uuid {
        let run = self.start(None).await;
        labs::save_function(&self.pool, &self.actor, run, &input(name)).await.expect("function");
        let (_, _, source) = labs::lab_code("python3.12");
        labs::deploy_code(&self.pool, &self.actor, run, source).await.expect("code");
        labs::configure(&self.pool, &self.actor, run, 3, 128).await.expect("settings");
        labs::save_url(&self.pool, &self.actor, run, "NONE", &[]).await.expect("url");
        run
    }

    async fn function_exists(&self, name: &str) -> bool {
        let lambda = self.connection.lambda("us-east-1").await;
        lambda.get_function_configuration().function_name(name).send().await.is_ok()
    }

    async fn role_exists(&self, name: &str) -> bool {
        self.connection.iam().await.get_role().role_name(name).send().await.is_ok()
    }

    async fn log_group_exists(&self, name: &str) -> bool {
        let group = format!("/aws/lambda/{name}");
        let out = self
            .connection
            .logs("us-east-1")
            .await
            .describe_log_groups()
            .log_group_name_prefix(&group)
            .send()
            .await
            .expect("describe");
        out.log_groups().iter().any(|g| g.log_group_name() == Some(group.as_str()))
    }

    async fn role_of(&self, run: Uuid) -> String {
        let run = labs::get(&self.pool, run).await.expect("run");
        run.settings.role_arn.rsplit('/').next().expect("role").to_owned()
    }

    /// A function made outside the console (with the lab's code), tagged as a run's if asked.
    async fn create_outside(&self, name: &str, role_arn: &str, run_tag: Option<&str>) {
        self.connection
            .lambda("us-east-1")
            .await
            .create_function()
            .function_name(name)
            .runtime(aws_sdk_lambda::types::Runtime::Python312)
            .handler("lambda_function.lambda_handler")
            .role(role_arn)
            .code(
                aws_sdk_lambda::types::FunctionCode::builder()
                    .zip_file(aws_sdk_lambda::primitives::Blob::new(zip_of_lab_code()))
                    .build(),
            )
            .set_tags(run_tag.map(|t| [(labs::RUN_TAG.to_owned(), t.to_owned())].into()))
            .send()
            .await
            .expect("a function made outside the console");
    }

    async fn deploy(&self, run: Uuid, source: &str) {
        labs::deploy_code(&self.pool, &self.actor, run, source).await.expect("deploy");
    }
}

#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn the_whole_lab_then_cleanup_leaves_nothing_behind(pool: PgPool) {
    let lab = lab(pool).await;
    let run = lab.through_url("lambda-function-url-lab").await;
    let state = labs::get(&lab.pool, run).await.expect("run");
    assert_eq!(state.step, labs::CALL);
    assert!(state.settings.url.contains(".lambda-url.us-east-1."), "{}", state.settings.url);
    assert!(
        state.settings.role_created
            && state.settings.role_arn.contains(":role/lambda-function-url-lab-role-")
    );

    let (call, diagnosis) = labs::call(&lab.pool, &lab.actor, run).await.expect("call");
    assert_eq!((call.status, call.body.as_str(), diagnosis), (200, "ok\n", None), "{call:?}");
    assert!(call.status_line.starts_with("HTTP/1.1 200"), "{}", call.status_line);
    assert!(call.headers.iter().any(|(k, v)| k == "content-type" && v.starts_with("text/plain")));

    let logs = labs::logs(&lab.pool, run).await.expect("logs");
    assert!(logs.events.iter().any(|(_, m)| m.starts_with("START RequestId")), "{logs:?}");
    assert!(logs.events.iter().any(|(_, m)| m.starts_with("REPORT RequestId")));
    assert_eq!(labs::confirm_logs(&lab.pool, &lab.actor, run).await.expect("confirm"), None);

    // A newer stream whose invocation writes its REPORT line a moment after step 7 is confirmed
    // (as on a busy machine, or on AWS): the step waits for it rather than calling it missing.
    let (group, late) = ("/aws/lambda/lambda-function-url-lab", "2099/12/30/[$LATEST]late");
    let logs_client = lab.connection.logs("us-east-1").await;
    let now_ms = i64::try_from(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis(),
    )
    .unwrap();
    let line = |at: i64, message: &str| {
        aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
            .timestamp(at)
            .message(message)
            .build()
            .unwrap()
    };
    logs_client
        .create_log_stream()
        .log_group_name(group)
        .log_stream_name(late)
        .send()
        .await
        .unwrap();
    let put = logs_client.put_log_events().log_group_name(group).log_stream_name(late);
    put.clone().log_events(line(now_ms + 50_000, "START RequestId: 71c2")).send().await.unwrap();
    let report = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(800)).await;
        put.log_events(line(now_ms + 50_001, "REPORT RequestId: 71c2 Duration: 1 ms")).send().await
    });
    assert_eq!(labs::confirm_logs(&lab.pool, &lab.actor, run).await.expect("confirm"), None);
    report.await.unwrap().expect("the REPORT line");

    // A newer stream whose invocation has not written its REPORT line yet (as right after the
    // checklist's own call started a new environment, on a busy machine): the REPORT lines
    // already written still show the invocation.
    let stream = "2099/12/31/[$LATEST]not-yet";
    logs_client
        .create_log_stream()
        .log_group_name(group)
        .log_stream_name(stream)
        .send()
        .await
        .expect("a new stream");
    logs_client
        .put_log_events()
        .log_group_name(group)
        .log_stream_name(stream)
        .log_events(
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                // A minute ahead: still the newest stream after the checklist's own call.
                .timestamp(now_ms + 60_000)
                .message("START RequestId: 8f5e Version: $LATEST")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("its START line");

    let (checks, diagnosis) = labs::validate(&lab.pool, &lab.actor, run).await.expect("validate");
    assert!(checks.iter().all(|c| c.passed), "{checks:?}");
    assert_eq!((checks.len(), diagnosis), (5, None));
    let state = labs::get(&lab.pool, run).await.expect("run");
    assert_eq!((state.status.as_str(), state.step), ("completed", labs::CLEANUP));
    assert_eq!(state.settings.last_checks, checks, "the checklist is kept for the next visit");

    let ledger = labs::ledger(&lab.pool, Scope::Run(run)).await.expect("ledger");
    let kinds: Vec<&str> = ledger.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["url_config", "permission", "permission", "function", "log_group", "role_policy", "role"]
    );
    assert!(
        ledger
            .iter()
            .all(|e| e.state == labs::LedgerState::Present && e.function_id == state.function_id)
    );

    let role = lab.role_of(run).await;
    let outcomes = labs::clean_up(&lab.pool, &lab.actor, Scope::Run(run)).await.expect("cleanup");
    assert!(outcomes.iter().all(|(_, o)| *o == Outcome::Deleted), "{outcomes:?}");
    assert!(!lab.function_exists("lambda-function-url-lab").await);
    assert!(!lab.role_exists(&role).await);
    assert!(!lab.log_group_exists("lambda-function-url-lab").await);
    let lambda = lab.connection.lambda("us-east-1").await;
    assert!(
        lambda
            .get_function_url_config()
            .function_name("lambda-function-url-lab")
            .send()
            .await
            .is_err()
    );
    let state = labs::get(&lab.pool, run).await.expect("run");
    assert_eq!(state.status, labs::RunStatus::CleanedUp);
    let archived = sqlx::query_scalar!(
        "select archived_at is not null and gone_at is not null from catalog_function where name = $1",
        "lambda-function-url-lab"
    )
    .fetch_one(&lab.pool)
    .await
    .expect("catalog");
    assert_eq!(archived, Some(true));
    // Cleaning up twice finds nothing left to do.
    assert!(
        labs::clean_up(&lab.pool, &lab.actor, Scope::Run(run)).await.expect("again").is_empty()
    );
}

#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn each_troubleshooting_diagnosis_comes_from_the_real_state(pool: PgPool) {
    let lab = lab(pool).await;
    let run = lab.through_url("doctor-lab").await;

    // A handler that raises: 502, and the error it raised.
    lab.deploy(run, "def lambda_handler(event, context):\n    raise ValueError('boom')\n").await;
    let (call, diagnosis) = labs::call(&lab.pool, &lab.actor, run).await.expect("call");
    let diagnosis = diagnosis.expect("diagnosis");
    assert_eq!(call.status, 502);
    assert!(diagnosis.problem.contains("handler raised"), "{diagnosis:?}");
    assert!(diagnosis.details[0].contains("ValueError: boom"), "{diagnosis:?}");

    // A statusCode that is not a number: 502, and what it returned.
    lab.deploy(
        run,
        "def lambda_handler(event, context):\n    return {'statusCode': '200', 'body': 'ok'}\n",
    )
    .await;
    let (call, diagnosis) = labs::call(&lab.pool, &lab.actor, run).await.expect("call");
    let diagnosis = diagnosis.expect("diagnosis");
    assert_eq!(call.status, 502);
    assert!(diagnosis.problem.contains("statusCode is \"200\", not a number"), "{diagnosis:?}");
    assert!(diagnosis.details[0].contains("'200'") || diagnosis.details[0].contains("\"200\""));

    // A sleeping handler past a 1 s timeout: the timeout and the duration.
    labs::configure(&lab.pool, &lab.actor, run, 1, 128).await.expect("timeout 1");
    lab.deploy(
        run,
        "import time\ndef lambda_handler(event, context):\n    time.sleep(3)\n    return 'late'\n",
    )
    .await;
    let (call, diagnosis) = labs::call(&lab.pool, &lab.actor, run).await.expect("call");
    let diagnosis = diagnosis.expect("diagnosis");
    assert_eq!(call.status, 502, "{call:?}");
    assert!(
        diagnosis.problem.contains("timed out: the configured timeout is 1 s"),
        "{diagnosis:?}"
    );
    assert!(diagnosis.problem.contains("ms"), "{diagnosis:?}");

    // A URL with one statement: 403, which one is missing, and the fix.
    labs::configure(&lab.pool, &lab.actor, run, 3, 128).await.expect("timeout 3");
    let (_, _, source) = labs::lab_code("python3.12");
    lab.deploy(run, source).await;
    let lambda = lab.connection.lambda("us-east-1").await;
    lambda
        .remove_permission()
        .function_name("doctor-lab")
        .statement_id(labs::INVOKE_STATEMENT)
        .send()
        .await
        .expect("remove");
    let (call, diagnosis) = labs::call(&lab.pool, &lab.actor, run).await.expect("call");
    let diagnosis = diagnosis.expect("diagnosis");
    assert_eq!(call.status, 403);
    assert!(
        diagnosis.problem.contains(&format!("missing {}", labs::INVOKE_STATEMENT)),
        "{diagnosis:?}"
    );
    assert_eq!(diagnosis.fix, Some(Fix::AddStatements));
    let state = labs::get(&lab.pool, run).await.expect("run");
    assert!(!state.failure_resolved, "a new problem is open");
    labs::apply_fix(&lab.pool, &lab.actor, run, Fix::AddStatements).await.expect("fix");
    let (call, diagnosis) = labs::call(&lab.pool, &lab.actor, run).await.expect("call");
    assert_eq!((call.status, diagnosis), (200, None));

    // An AWS_IAM URL: 403 for unsigned requests, and the console's public statements go.
    labs::save_url(&lab.pool, &lab.actor, run, "AWS_IAM", &[]).await.expect("iam");
    let (call, diagnosis) = labs::call(&lab.pool, &lab.actor, run).await.expect("call");
    let diagnosis = diagnosis.expect("diagnosis");
    assert_eq!(call.status, 403);
    assert!(diagnosis.problem.contains("AWS_IAM"), "{diagnosis:?}");
    assert_eq!(diagnosis.fix, Some(Fix::UseAuthNone));
    let ledger = labs::ledger(&lab.pool, Scope::Run(run)).await.expect("ledger");
    assert!(
        ledger
            .iter()
            .filter(|e| e.kind == labs::Kind::Permission)
            .all(|e| e.state == labs::LedgerState::Deleted)
    );
    labs::apply_fix(&lab.pool, &lab.actor, run, Fix::UseAuthNone).await.expect("fix");
    let (call, _) = labs::call(&lab.pool, &lab.actor, run).await.expect("call");
    assert_eq!(call.status, 200);

    let state = labs::get(&lab.pool, run).await.expect("run");
    assert_eq!(state.failures, 5, "{:?}", state.last_failure);
    // The last problem is kept, and marked put right: step 6 passed since.
    assert!(state.last_failure.as_deref().is_some_and(|f| f.starts_with("step 6:")));
    assert!(state.failure_resolved, "the call passed after the problem");
    labs::clean_up(&lab.pool, &lab.actor, Scope::Run(run)).await.expect("cleanup");
    assert!(!lab.function_exists("doctor-lab").await);
}

#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn a_call_throttled_by_a_busy_machine_is_an_answer_to_retry_not_a_failure(pool: PgPool) {
    // Room for one environment, taken by another function's long invocation: the run's URL
    // answers 429 at the account's limit. That is the machine being busy, not the learner's
    // mistake: the step answers "throttled, try again" and records no failure; once the other
    // invocation is over, the same call passes.
    let lab = lab_on(pool, |config| config.max_environments = 1).await;
    let run = lab.through_url("busy-lab").await;
    let role_arn = labs::get(&lab.pool, run).await.expect("run").settings.role_arn;
    lab.create_outside("hog", &role_arn, None).await;
    let lambda = lab.connection.lambda("us-east-1").await;
    lambda
        .update_function_code()
        .function_name("hog")
        .zip_file(aws_sdk_lambda::primitives::Blob::new(zip_of(
            "import time\ndef lambda_handler(event, context):\n    time.sleep(3)\n    return 'done'\n",
        )))
        .send()
        .await
        .expect("hog's code");
    let hog = tokio::spawn({
        let lambda = lambda.clone();
        async move { lambda.invoke().function_name("hog").send().await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let busy = labs::call(&lab.pool, &lab.actor, run).await;
    assert!(
        matches!(
            &busy,
            Err(backend::Error::Cloud { failure: backend::error::CloudFailure::Throttled, .. })
        ),
        "{busy:?}"
    );
    let state = labs::get(&lab.pool, run).await.expect("run");
    assert_eq!((state.failures, state.step), (0, 6), "{:?}", state.last_failure);
    assert!(hog.await.expect("hog").is_ok());
    let (call, diagnosis) = labs::call(&lab.pool, &lab.actor, run).await.expect("call");
    assert_eq!((call.status, diagnosis), (200, None));
    labs::clean_up(&lab.pool, &lab.actor, Scope::Run(run)).await.expect("cleanup");
}

#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn no_logs_is_diagnosed_from_the_roles_policies_and_fixed(pool: PgPool) {
    let lab = lab(pool).await;
    let run = lab.through_url("quiet-lab").await;
    // Before any call there is nothing to log, and the doctor says so.
    let diagnosis = labs::confirm_logs(&lab.pool, &lab.actor, run).await.expect("confirm");
    assert!(diagnosis.expect("diagnosis").problem.contains("No invocation reached"));

    // The learner takes the role's logging permission away, then calls: as on AWS, the function
    // answers and writes no logs at all.
    let role = lab.role_of(run).await;
    let iam = lab.connection.iam().await;
    iam.detach_role_policy()
        .role_name(&role)
        .policy_arn(labs::BASIC_EXECUTION_POLICY)
        .send()
        .await
        .expect("detach");
    let (call, _) = labs::call(&lab.pool, &lab.actor, run).await.expect("call");
    assert_eq!(call.status, 200);
    let logs = lab.connection.logs("us-east-1").await;
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix("/aws/lambda/quiet-lab")
        .send()
        .await
        .expect("groups");
    assert!(groups.log_groups().is_empty(), "no group without the permission: {groups:?}");

    let diagnosis = labs::confirm_logs(&lab.pool, &lab.actor, run).await.expect("confirm");
    let diagnosis = diagnosis.expect("diagnosis");
    assert!(diagnosis.problem.contains("no logging permissions"), "{diagnosis:?}");
    assert!(diagnosis.details[0].contains("attached nothing"), "{diagnosis:?}");
    assert_eq!(diagnosis.fix, Some(Fix::AttachLogging));
    labs::apply_fix(&lab.pool, &lab.actor, run, Fix::AttachLogging).await.expect("fix");
    let attached = iam.list_attached_role_policies().role_name(&role).send().await.expect("list");
    assert_eq!(attached.attached_policies().len(), 1);

    labs::call(&lab.pool, &lab.actor, run).await.expect("call");
    assert_eq!(labs::confirm_logs(&lab.pool, &lab.actor, run).await.expect("confirm"), None);
    let ledger = labs::ledger(&lab.pool, Scope::Run(run)).await.expect("ledger");
    assert_eq!(ledger.iter().filter(|e| e.kind == labs::Kind::RolePolicy).count(), 1);
    let outcomes = labs::clean_up(&lab.pool, &lab.actor, Scope::Run(run)).await.expect("cleanup");
    assert!(outcomes.iter().all(|(_, o)| *o == Outcome::Deleted), "{outcomes:?}");
    assert!(!lab.role_exists(&role).await);
}

#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn an_interrupted_step_is_rolled_back_and_can_be_done_again(pool: PgPool) {
    let lab = lab(pool).await;
    // Abort creating the function as soon as the step is marked pending, as a killed server
    // would leave it; if the step wins the race, try again with another run.
    let mut interrupted = None;
    for attempt in 0..10 {
        let run = lab.start(None).await;
        let name = format!("interrupted-{attempt}");
        let (pool, actor, input) = (lab.pool.clone(), lab.actor, input(&name));
        let task =
            tokio::spawn(async move { labs::save_function(&pool, &actor, run, &input).await });
        loop {
            let pending =
                sqlx::query_scalar!("select pending_step from lab_run where lab_run_id = $1", run)
                    .fetch_one(&lab.pool)
                    .await
                    .expect("pending");
            if pending.is_some() || task.is_finished() {
                break;
            }
        }
        // Let the step get into its cloud calls.
        tokio::time::sleep(Duration::from_millis(attempt * 3)).await;
        task.abort();
        let _ = task.await;
        if labs::get(&lab.pool, run).await.expect("run").pending_step.is_some() {
            interrupted = Some((run, name));
            break;
        }
        labs::clean_up(&lab.pool, &lab.actor, Scope::Run(run)).await.expect("cleanup");
    }
    let (run, name) = interrupted.expect("one attempt was interrupted mid-step");
    let creating = labs::ledger(&lab.pool, Scope::Run(run)).await.expect("ledger");
    assert!(
        !creating.is_empty() && creating.iter().all(|e| e.state == labs::LedgerState::Creating)
    );
    let role = creating.iter().find(|e| e.kind == labs::Kind::Role).expect("role").name.clone();

    // While this process is alive, the step may still be running: neither this process (the
    // step is younger than STALE_AFTER) nor another console on the database rolls it back.
    let (me, other) = (backend::leases::process_id(), Uuid::new_v4());
    backend::leases::heartbeat(&lab.pool, me).await.expect("alive");
    backend::leases::heartbeat(&lab.pool, other).await.expect("alive");
    assert_eq!(labs::recover(&lab.pool, me).await.expect("recover"), 0);
    assert_eq!(labs::recover(&lab.pool, other).await.expect("recover"), 0);
    // This process stops: the other rolls the step back, and only once, however many look.
    backend::leases::stopped(&lab.pool, me).await.expect("stopped");
    let (a, b) =
        tokio::join!(labs::recover(&lab.pool, other), labs::recover(&lab.pool, Uuid::new_v4()));
    assert_eq!(a.expect("recover") + b.expect("recover"), 1);
    assert!(!lab.function_exists(&name).await);
    assert!(!lab.role_exists(&role).await);
    assert!(labs::ledger(&lab.pool, Scope::Run(run)).await.expect("ledger").is_empty());
    let state = labs::get(&lab.pool, run).await.expect("run");
    assert_eq!((state.pending_step, state.step, state.failures), (None, labs::FUNCTION, 1));
    assert!(state.last_failure.expect("why").contains("interrupted"));

    // Resumed: the learner confirms the step again.
    labs::save_function(&lab.pool, &lab.actor, run, &input(&name)).await.expect("again");
    assert!(lab.function_exists(&name).await);
    assert_eq!(labs::get(&lab.pool, run).await.expect("run").step, labs::CODE);
}

#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn expired_runs_are_swept(pool: PgPool) {
    let lab = lab(pool).await;
    let expired = lab.start(Some(time::Duration::seconds(-1))).await;
    labs::save_function(&lab.pool, &lab.actor, expired, &input("expired-lab")).await.expect("fn");
    let kept = lab.start(Some(time::Duration::hours(24))).await;
    labs::save_function(&lab.pool, &lab.actor, kept, &input("kept-lab")).await.expect("fn");
    let soon = labs::expiring(&lab.pool, Some(lab.account_id), time::Duration::hours(1))
        .await
        .expect("soon");
    assert_eq!(soon.iter().map(|r| r.lab_run_id).collect::<Vec<_>>(), [expired]);

    assert_eq!(labs::sweep(&lab.pool).await.expect("sweep"), 1);
    assert!(!lab.function_exists("expired-lab").await);
    assert!(lab.function_exists("kept-lab").await);
    assert_eq!(
        labs::get(&lab.pool, expired).await.expect("run").status,
        labs::RunStatus::CleanedUp
    );
    assert_eq!(labs::sweep(&lab.pool).await.expect("sweep"), 0);
}

#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn cleanup_never_deletes_a_role_another_function_uses(pool: PgPool) {
    let lab = lab(pool).await;
    let run = lab.start(None).await;
    labs::save_function(&lab.pool, &lab.actor, run, &input("role-owner")).await.expect("fn");
    let role_arn = labs::get(&lab.pool, run).await.expect("run").settings.role_arn;
    let role = lab.role_of(run).await;
    // Someone else's function, made outside the console, with the lab's role.
    let lambda = lab.connection.lambda("us-east-1").await;
    lab.create_outside("borrower", &role_arn, None).await;

    let outcomes = labs::clean_up(&lab.pool, &lab.actor, Scope::Run(run)).await.expect("cleanup");
    for (entry, outcome) in &outcomes {
        match entry.kind {
            labs::Kind::Role | labs::Kind::RolePolicy => {
                assert!(
                    matches!(outcome, Outcome::Kept(why) if why.contains("borrower")),
                    "{outcome:?}"
                );
            }
            _ => assert!(matches!(outcome, Outcome::Deleted | Outcome::AlreadyGone), "{outcome:?}"),
        }
    }
    assert!(lab.role_exists(&role).await);
    assert!(lab.function_exists("borrower").await, "never touches what it did not create");
    assert!(!lab.function_exists("role-owner").await);

    lambda.delete_function().function_name("borrower").send().await.expect("delete");
    let outcomes = labs::clean_up(&lab.pool, &lab.actor, Scope::Run(run)).await.expect("again");
    assert_eq!(outcomes.len(), 2);
    assert!(outcomes.iter().all(|(_, o)| *o == Outcome::Deleted), "{outcomes:?}");
    assert!(!lab.role_exists(&role).await);
    assert_eq!(labs::get(&lab.pool, run).await.expect("run").status, labs::RunStatus::CleanedUp);
}

/// A role kept at cleanup for a function that borrowed it becomes an orphan once that function
/// goes; deleting it goes through its ledger entries by the cleanup's rules (kept while used).
#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn a_role_kept_for_a_borrower_is_an_orphan_once_the_borrower_goes(pool: PgPool) {
    let lab = lab(pool).await;
    let run = lab.start(None).await;
    labs::save_function(&lab.pool, &lab.actor, run, &input("lender")).await.expect("fn");
    let role_arn = labs::get(&lab.pool, run).await.expect("run").settings.role_arn;
    let role = lab.role_of(run).await;
    lab.create_outside("borrower", &role_arn, None).await;
    labs::clean_up(&lab.pool, &lab.actor, Scope::Run(run)).await.expect("cleanup");
    assert!(labs::orphan_roles(&lab.pool).await.expect("orphans").is_empty(), "still used");
    let entry: uuid::Uuid = sqlx::query_scalar(
        "select ledger_entry_id from ledger_entry where kind = 'role' and lab_run_id = $1",
    )
    .bind(run)
    .fetch_one(&lab.pool)
    .await
    .expect("the role's entry");
    let used = labs::clean_up_orphan_role(&lab.pool, &lab.actor, entry).await.expect("asked");
    assert!(used.iter().all(|(_, o)| matches!(o, Outcome::Kept(_))), "{used:?}");
    assert!(lab.role_exists(&role).await);

    let lambda = lab.connection.lambda("us-east-1").await;
    lambda.delete_function().function_name("borrower").send().await.expect("delete");
    let orphans = labs::orphan_roles(&lab.pool).await.expect("orphans");
    assert_eq!(orphans.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(), [role.as_str()]);
    assert_eq!(orphans[0].ledger_entry_id, entry);
    let deleted = labs::clean_up_orphan_role(&lab.pool, &lab.actor, entry).await.expect("deleted");
    assert_eq!(deleted.len(), 2, "the policy attachment, then the role: {deleted:?}");
    assert!(deleted.iter().all(|(_, o)| *o == Outcome::Deleted), "{deleted:?}");
    assert!(!lab.role_exists(&role).await);
    assert!(labs::orphan_roles(&lab.pool).await.expect("orphans").is_empty());
    let error = labs::clean_up_orphan_role(&lab.pool, &lab.actor, entry).await;
    assert!(matches!(error, Err(backend::Error::NotFound(_))), "{error:?}");
}

fn zip_of_lab_code() -> Vec<u8> {
    zip_of(labs::lab_code("python3.12").2)
}

/// A zip with `lambda_function.py` holding `source`.
fn zip_of(source: &str) -> Vec<u8> {
    use std::io::Write as _;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    writer
        .start_file("lambda_function.py", zip::write::SimpleFileOptions::default())
        .expect("start");
    writer.write_all(source.as_bytes()).expect("write");
    writer.finish().expect("zip").into_inner()
}

/// Removing a connection would forget what the console created in its cloud: refused while the
/// ledger holds live resources there, allowed once they are cleaned up — and never for the
/// default connection, never without its name typed, and never deleting the catalog: its
/// functions are archived, with the audit naming them.
#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn a_connection_with_live_resources_cannot_be_removed(pool: PgPool) {
    let lab = lab(pool).await;
    let run = lab.start(None).await;
    labs::save_function(&lab.pool, &lab.actor, run, &input("kept-in-mind"))
        .await
        .expect("function");
    let id = lab.connection.connection_id;
    let name = lab.connection.name.clone();
    let default = connections::delete(&lab.pool, &lab.actor, id, &name).await.expect_err("default");
    assert!(default.to_string().contains("default connection"), "{default}");
    sqlx::query("update connection set is_default = false where connection_id = $1")
        .bind(id)
        .execute(&lab.pool)
        .await
        .expect("no longer the default");
    let refused = connections::delete(&lab.pool, &lab.actor, id, &name).await.expect_err("refused");
    assert!(refused.to_string().contains("clean them up"), "{refused}");
    assert!(connections::get(&lab.pool, id).await.is_ok(), "the connection and its ledger stay");
    labs::clean_up(&lab.pool, &lab.actor, Scope::Run(run)).await.expect("cleanup");
    let untyped = connections::delete(&lab.pool, &lab.actor, id, "yes").await.expect_err("untyped");
    assert!(
        matches!(untyped, backend::Error::Validation { field: "confirm_name", .. }),
        "{untyped}"
    );
    let kept: i64 = sqlx::query_scalar(
        "select count(*) from catalog_function where connection_id = $1 and archived_at is null",
    )
    .bind(id)
    .fetch_one(&lab.pool)
    .await
    .expect("count");
    let removed = connections::delete(&lab.pool, &lab.actor, id, &name)
        .await
        .expect("removed once nothing is left");
    assert_eq!(removed.functions, kept);
    assert!(
        connections::list(&lab.pool).await.expect("list").iter().all(|c| c.connection_id != id),
        "gone from every list"
    );
    let (left, audited): (i64, serde_json::Value) = sqlx::query_as(
        "select (select count(*) from catalog_function where connection_id = $1),
                (select detail from audit_event where action = 'connection.delete')",
    )
    .bind(id)
    .fetch_one(&lab.pool)
    .await
    .expect("kept");
    assert!(left >= kept, "catalog entries are archived, not deleted");
    assert_eq!(audited["name"], name.as_str());
    assert_eq!(audited["archived_functions"].as_array().map(Vec::len), Some(kept as usize));
    let again = connections::ensure_local(&lab.pool, "http://127.0.0.1:9", "us-east-1").await;
    assert!(again.is_ok_and(|new| new != id), "the name is free for a new connection");
}

/// A lab's existing role is one the connection offers — it trusts Lambda, and an admin's list
/// (when there is one) names it — whatever the form posted.
#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn existing_roles_are_the_ones_the_connection_allows(pool: PgPool) {
    let lab = lab(pool).await;
    let iam = lab.connection.iam().await;
    let trust = |service: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"{service}"}},"Action":"sts:AssumeRole"}}]}}"#
        )
    };
    let mut arns = std::collections::BTreeMap::new();
    for (name, service) in
        [("admin-role", "lambda.amazonaws.com"), ("ec2-role", "ec2.amazonaws.com")]
    {
        let created = iam
            .create_role()
            .role_name(name)
            .assume_role_policy_document(trust(service))
            .send()
            .await
            .expect("role");
        arns.insert(name, created.role().expect("role").arn().to_owned());
    }
    let r_arn = arns["admin-role"].replace("admin-role", "r");
    let with_role = |name: &str, arn: &str| FunctionInput { role: arn.into(), ..input(name) };

    // No list: any role that trusts Lambda, never one that does not.
    let run = lab.start(None).await;
    let refused =
        labs::save_function(&lab.pool, &lab.actor, run, &with_role("ec2", &arns["ec2-role"]))
            .await
            .expect_err("a role Lambda cannot assume");
    assert!(matches!(refused, backend::Error::Validation { field: "role", .. }), "{refused:?}");
    let forged = "arn:aws:iam::000000000000:role/no-such-role";
    assert!(
        labs::save_function(&lab.pool, &lab.actor, run, &with_role("forged", forged))
            .await
            .is_err()
    );

    // An admin allows only `r`: admin-role is refused even though it trusts Lambda.
    let edit = connections::ConnectionEdit {
        name: lab.connection.name.clone(),
        regions: "us-east-1".into(),
        learners: true,
        allowed_roles: "r".into(),
        ..Default::default()
    };
    connections::update(&lab.pool, &Actor::system(), lab.connection.connection_id, &edit)
        .await
        .expect("allow r");
    let connection = connections::get(&lab.pool, lab.connection.connection_id).await.expect("get");
    assert_eq!(connection.allowed_roles, ["r"]);
    let offered = labs::roles(&connection).await.expect("roles");
    assert_eq!(offered, [("r".to_owned(), r_arn.clone())]);
    let refused =
        labs::save_function(&lab.pool, &lab.actor, run, &with_role("admin", &arns["admin-role"]))
            .await
            .expect_err("not on the list");
    assert!(matches!(refused, backend::Error::Validation { field: "role", .. }), "{refused:?}");
    labs::save_function(&lab.pool, &lab.actor, run, &with_role("allowed", &r_arn))
        .await
        .expect("the allowed role");
    assert!(lab.function_exists("allowed").await);
    assert!(!lab.function_exists("admin").await && !lab.function_exists("ec2").await);
}

/// Connections are edited (keys rotated, audited without secrets) and archived when they still
/// hold resources; the default one is never archived.
#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn connections_are_edited_and_archived(pool: PgPool) {
    let lab = lab(pool).await;
    let new = connections::NewConnection {
        name: "Staging".into(),
        kind: "endpoint".into(),
        endpoint_url: "http://127.0.0.1:9".into(),
        regions: "us-east-1".into(),
        access_key_id: "AKIAOLD".into(),
        secret_access_key: "old-secret".into(),
        ..Default::default()
    };
    let id = connections::create(&lab.pool, &Actor::system(), &new).await.expect("create");
    let mut edit = connections::ConnectionEdit {
        name: "Staging EU".into(),
        endpoint_url: "http://127.0.0.1:9".into(),
        regions: "eu-west-1, us-east-1".into(),
        access_key_id: "AKIANEW".into(),
        ..Default::default()
    };
    let refused = connections::update(&lab.pool, &Actor::system(), id, &edit).await;
    assert!(
        matches!(refused, Err(backend::Error::Validation { field: "secret_access_key", .. })),
        "{refused:?}"
    );
    edit.secret_access_key = "new-secret".into();
    connections::update(&lab.pool, &Actor::system(), id, &edit).await.expect("rotate");
    let edited = connections::get(&lab.pool, id).await.expect("get");
    assert_eq!(edited.name, "Staging EU");
    assert_eq!(edited.regions, ["eu-west-1", "us-east-1"]);
    assert_eq!(edited.access_key_id.as_deref(), Some("AKIANEW"));
    assert!(!edited.learners, "learners stay off unless an admin says so");
    // Saving again without a secret keeps it.
    edit.secret_access_key.clear();
    connections::update(&lab.pool, &Actor::system(), id, &edit).await.expect("keep");
    let audit: Vec<(String, String)> = sqlx::query_as(
        "select action, detail::text from audit_event where target = $1 order by created_at",
    )
    .bind(format!("connection:{id}"))
    .fetch_all(&lab.pool)
    .await
    .expect("audit");
    assert_eq!(audit.len(), 3);
    assert!(audit[1].1.contains(r#""keys_rotated": true"#), "{audit:?}");
    assert!(audit[2].1.contains(r#""keys_rotated": false"#), "{audit:?}");
    assert!(audit.iter().all(|(_, d)| !d.contains("secret")), "no secret in the trail: {audit:?}");

    connections::set_archived(&lab.pool, &Actor::system(), id, true).await.expect("archive");
    assert!(connections::get(&lab.pool, id).await.expect("get").archived);
    let local = lab.connection.connection_id;
    assert!(connections::set_archived(&lab.pool, &Actor::system(), local, true).await.is_err());
    connections::set_archived(&lab.pool, &Actor::system(), id, false).await.expect("restore");
    assert!(!connections::get(&lab.pool, id).await.expect("get").archived);
}

/// Cleanup deletes by proof, not by name: a function and a role made outside the run under the
/// run's names (after the run's own were deleted by hand) carry no run tag and are left alone.
#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn cleanup_leaves_same_named_resources_made_outside_the_run_alone(pool: PgPool) {
    let lab = lab(pool).await;
    let run = lab.through_url("impostor").await;
    let role = lab.role_of(run).await;
    let lambda = lab.connection.lambda("us-east-1").await;
    let iam = lab.connection.iam().await;
    // Someone deletes the lab's function and role and makes their own under the same names.
    lambda.delete_function().function_name("impostor").send().await.expect("delete");
    iam.detach_role_policy()
        .role_name(&role)
        .policy_arn(labs::BASIC_EXECUTION_POLICY)
        .send()
        .await
        .expect("detach");
    iam.delete_role().role_name(&role).send().await.expect("delete role");
    let theirs = iam
        .create_role()
        .role_name(&role)
        .assume_role_policy_document(labs::LAMBDA_TRUST_POLICY)
        .send()
        .await
        .expect("their role");
    iam.attach_role_policy()
        .role_name(&role)
        .policy_arn(labs::BASIC_EXECUTION_POLICY)
        .send()
        .await
        .expect("their attachment");
    let their_tag = Uuid::new_v4().to_string();
    lab.create_outside("impostor", theirs.role().expect("role").arn(), Some(&their_tag)).await;

    let outcomes = labs::clean_up(&lab.pool, &lab.actor, Scope::Run(run)).await.expect("cleanup");
    for (entry, outcome) in &outcomes {
        match entry.kind {
            labs::Kind::Function | labs::Kind::Role | labs::Kind::RolePolicy => assert!(
                matches!(outcome, labs::Outcome::NotOurs(why) if why.contains("not made by this run")),
                "{entry:?}: {outcome:?}"
            ),
            // The URL and statements went with the deleted function; its log group is ours.
            _ => assert!(
                matches!(outcome, Outcome::AlreadyGone | Outcome::Deleted | Outcome::NotOurs(_)),
                "{outcome:?}"
            ),
        }
    }
    assert!(lab.function_exists("impostor").await, "their function stays");
    assert!(lab.role_exists(&role).await, "their role stays");
    let attached = iam.list_attached_role_policies().role_name(&role).send().await.expect("list");
    assert_eq!(attached.attached_policies().len(), 1, "their attachment stays");
    let state = labs::get(&lab.pool, run).await.expect("run");
    assert_eq!(state.status, labs::RunStatus::CleanedUp, "ours is gone; nothing is left to clean");
}

/// Background jobs hold a lease: one holder at a time, renewed by it, taken over once expired.
#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn a_lease_has_one_holder_until_it_expires(pool: PgPool) {
    use backend::leases;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let ttl = Duration::from_millis(400);
    assert!(leases::take(&pool, "labs.sweep", a, ttl).await.expect("take"));
    assert!(!leases::take(&pool, "labs.sweep", b, ttl).await.expect("refused"));
    assert!(leases::take(&pool, "labs.sweep", a, ttl).await.expect("renewed"));
    tokio::time::sleep(ttl + Duration::from_millis(100)).await;
    assert!(leases::take(&pool, "labs.sweep", b, ttl).await.expect("taken over"));
    assert!(!leases::take(&pool, "labs.sweep", a, ttl).await.expect("refused now"));
    leases::release(&pool, "labs.sweep", b).await.expect("release");
    assert!(leases::take(&pool, "labs.sweep", a, ttl).await.expect("free again"));
}

/// The admin's lab expiry is a learner's maximum: more is refused, nothing means the maximum;
/// other roles choose any expiry, or none.
#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn a_learners_run_lives_at_most_the_admins_expiry(pool: PgPool) {
    use backend::accounts::Role;
    use backend::settings::{run_expiry_hours, set_lab_expiry_hours};
    set_lab_expiry_hours(&pool, &Actor::system(), 24).await.expect("set");
    let expiry = |role, hours| run_expiry_hours(&pool, role, hours);
    assert_eq!(expiry(Role::Learner, None).await.expect("default"), Some(24));
    assert_eq!(expiry(Role::Learner, Some(2)).await.expect("less"), Some(2));
    assert!(matches!(
        expiry(Role::Learner, Some(720)).await,
        Err(backend::Error::Validation { field: "expiry_hours", .. })
    ));
    assert_eq!(expiry(Role::Developer, Some(720)).await.expect("developer"), Some(720));
    assert_eq!(expiry(Role::Developer, None).await.expect("none"), None);
    assert!(expiry(Role::Admin, Some(0)).await.is_err(), "1 to 720 for everyone");
}

#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn the_board_filters_sorts_and_marks_idle_runs(pool: PgPool) {
    let lab = lab(pool).await;
    let other = account(&lab.pool, "zed@example.com", "learner").await;
    // The learner's run has the course tag (step 2) and a failure; zed's made nothing yet.
    let tagged = lab.start(None).await;
    labs::save_function(&lab.pool, &lab.actor, tagged, &input("board-lab")).await.expect("fn");
    labs::confirm_logs(&lab.pool, &lab.actor, tagged).await.expect("confirm");
    let untagged = labs::start(
        &lab.pool,
        &Actor::account(other.account_id, None),
        other.account_id,
        lab.connection.connection_id,
        "us-east-1",
        None,
    )
    .await
    .expect("start");
    // Zed walked away 25 minutes ago (the trigger would set updated_at to now).
    sqlx::query("alter table lab_run disable trigger lab_run_updated_at")
        .execute(&lab.pool)
        .await
        .expect("off");
    sqlx::query(
        "update lab_run set updated_at = now() - interval '25 minutes' where lab_run_id = $1",
    )
    .bind(untagged)
    .execute(&lab.pool)
    .await
    .expect("age");

    let board = |filter: labs::BoardFilter| {
        let pool = lab.pool.clone();
        async move {
            labs::board(&pool, &filter)
                .await
                .expect("board")
                .into_iter()
                .map(|r| r.run.lab_run_id)
                .collect::<Vec<_>>()
        }
    };
    let filter = |course: Option<&str>, learner: Option<&str>, status, sort| labs::BoardFilter {
        course: course.map(str::to_owned),
        learner: learner.map(str::to_owned),
        status,
        sort,
    };
    use labs::{BoardSort as Sort, BoardStatus as Status};
    assert_eq!(board(filter(None, None, Status::Any, Sort::Started)).await, [untagged, tagged]);
    assert_eq!(board(filter(Some("intro"), None, Status::Any, Sort::Started)).await, [tagged]);
    assert_eq!(board(filter(None, Some("ZED@"), Status::Any, Sort::Started)).await, [untagged]);
    assert_eq!(board(filter(None, None, Status::Idle, Sort::Started)).await, [untagged]);
    assert_eq!(board(filter(None, None, Status::Stuck, Sort::Started)).await, [tagged]);
    assert_eq!(
        board(filter(None, None, Status::Completed, Sort::Started)).await,
        Vec::<Uuid>::new()
    );
    assert_eq!(board(filter(None, None, Status::Any, Sort::Learner)).await, [tagged, untagged]);
    assert_eq!(board(filter(None, None, Status::Any, Sort::Failures)).await, [tagged, untagged]);
    assert_eq!(board(filter(None, None, Status::Any, Sort::Idle)).await, [untagged, tagged]);
    let rows = labs::board(&lab.pool, &filter(None, None, Status::Any, Sort::Started))
        .await
        .expect("board");
    assert_eq!(rows[0].course, None);
    assert!(rows[0].is_idle() && rows[0].idle.whole_minutes() >= 25, "{:?}", rows[0].idle);
    assert_eq!((rows[1].course.as_deref(), rows[1].is_idle()), (Some("intro"), false));

    // The page's filters, as text: unknown values are refused with what to do.
    let page =
        |status: &str| model::BoardFilters { status: Some(status.into()), ..Default::default() };
    assert!(labs::BoardFilter::try_from(&page("idle")).is_ok());
    assert!(labs::BoardFilter::try_from(&page("sleeping")).is_err());
}

#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn an_instructor_resets_a_run_to_step_two_with_nothing_left(pool: PgPool) {
    let lab = lab(pool).await;
    let run = lab.through_url("reset-lab").await;
    let role = lab.role_of(run).await;
    labs::confirm_logs(&lab.pool, &lab.actor, run).await.expect("confirm");
    let admin = account(&lab.pool, "teacher@example.com", "admin").await;
    let teacher = Actor::account(admin.account_id, None);

    let outcomes = labs::reset(&lab.pool, &teacher, run).await.expect("reset");
    // Deleted (the log group never existed: nothing was called).
    assert!(
        outcomes.iter().all(|(_, o)| matches!(o, Outcome::Deleted | Outcome::AlreadyGone)),
        "{outcomes:?}"
    );
    assert!(!lab.function_exists("reset-lab").await);
    assert!(!lab.role_exists(&role).await);
    let state = labs::get(&lab.pool, run).await.expect("run");
    assert_eq!(state.status, model::RunStatus::InProgress);
    assert_eq!((state.step, state.failures, state.last_failure), (2, 0, None));
    assert_eq!(state.function_name, None);
    assert_eq!(
        state.settings.tags.get("course").map(String::as_str),
        Some("intro"),
        "the course is kept"
    );
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_event where action = 'lab.reset' and actor_id = $1",
    )
    .bind(admin.account_id)
    .fetch_one(&lab.pool)
    .await
    .expect("audit");
    assert_eq!(audited, 1);
    // The learner does the lab again in the same run, under the same name.
    labs::save_function(&lab.pool, &lab.actor, run, &input("reset-lab")).await.expect("again");
    assert!(lab.function_exists("reset-lab").await);
    labs::clean_up(&lab.pool, &lab.actor, Scope::Run(run)).await.expect("cleanup");
    // Cleaned up, the run is read-only: no step may change the cloud through it any more.
    let learner = backend::accounts::get_account(&lab.pool, lab.account_id)
        .await
        .expect("account")
        .expect("exists");
    let refused = labs::access::changeable(&lab.pool, &learner, run).await.expect_err("read-only");
    assert!(refused.to_string().contains("cleaned up"), "{refused}");
}

#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn the_lab_refuses_what_the_rules_forbid_before_creating_anything(pool: PgPool) {
    let lab = lab(pool).await;
    rule(&lab.pool, &[("kind", "required_tag"), ("severity", "error"), ("key", "cost-center")])
        .await;
    rule(
        &lab.pool,
        &[("kind", "public_url"), ("severity", "error"), ("policy", "outside_production")],
    )
    .await;
    rule(&lab.pool, &[("kind", "memory"), ("severity", "error"), ("max", "256")]).await;
    // A warning does not stop the lab; one scoped to production is recorded against the
    // function as soon as it exists, with the run's environment (not the catalog's default).
    rule(&lab.pool, &[("kind", "log_retention"), ("severity", "warning")]).await;
    rule(
        &lab.pool,
        &[("kind", "memory"), ("severity", "warning"), ("max", "64"), ("environment", "prod")],
    )
    .await;

    // Step 2 without the required tag: refused on the tags field, nothing made.
    let run = lab.start(None).await;
    let mut production = input("rules-lab");
    production.environment = "prod".into();
    let refused = labs::save_function(&lab.pool, &lab.actor, run, &production).await;
    match &refused {
        Err(backend::Error::Validation { field: "tags", message }) => {
            assert!(message.contains("The tag cost-center is missing."), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert!(!lab.function_exists("rules-lab").await);

    // Tagged, it is created; memory over the bound is refused at step 4.
    production.tags.insert("cost-center".into(), "cc-1".into());
    labs::save_function(&lab.pool, &lab.actor, run, &production).await.expect("function");
    let function_id = labs::get(&lab.pool, run).await.expect("run").function_id.expect("made");
    let recorded =
        backend::governance::violations::of_function(&lab.pool, function_id).await.expect("read");
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(recorded[0].message, "memory is 128 MB; the rule asks for at most 64 MB.");
    let (_, _, source) = labs::lab_code("python3.12");
    labs::deploy_code(&lab.pool, &lab.actor, run, source).await.expect("code");
    let refused = labs::configure(&lab.pool, &lab.actor, run, 3, 512).await;
    assert!(
        matches!(&refused, Err(backend::Error::Validation { field: "memory", .. })),
        "{refused:?}"
    );
    labs::configure(&lab.pool, &lab.actor, run, 3, 128).await.expect("settings");

    // A public URL for a production function is refused, with no URL or statement made; an
    // AWS_IAM one is fine.
    let refused = labs::save_url(&lab.pool, &lab.actor, run, "NONE", &[]).await;
    match &refused {
        Err(backend::Error::Validation { field: "auth_type", message }) => {
            assert!(message.contains("not allowed in production"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    let lambda = lab.connection.lambda("us-east-1").await;
    assert!(lambda.get_function_url_config().function_name("rules-lab").send().await.is_err());
    assert!(lambda.get_policy().function_name("rules-lab").send().await.is_err(), "no statements");
    labs::save_url(&lab.pool, &lab.actor, run, "AWS_IAM", &[]).await.expect("an IAM URL");
    labs::clean_up(&lab.pool, &lab.actor, Scope::Run(run)).await.expect("cleanup");
}

/// Evaluations take turns on one lock. The one holding it must not need a second connection from
/// a pool the waiting ones have used up: in CI, five rules added at once timed out that way and
/// took the test's own queries with them.
#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn evaluations_waiting_their_turn_do_not_starve_the_one_evaluating(
    options: sqlx::postgres::PgPoolOptions,
    connect: sqlx::postgres::PgConnectOptions,
) {
    use backend::governance::violations::{self, Scope};
    let pool = options
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(connect)
        .await
        .expect("pool");
    rule(&pool, &[("kind", "memory"), ("severity", "warning"), ("max", "256")]).await;
    let mut evaluations = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let pool = pool.clone();
        evaluations.spawn(async move { violations::evaluate_catalog(&pool, Scope::All).await });
    }
    while let Some(evaluated) = evaluations.join_next().await {
        evaluated.expect("joined").expect("evaluated");
    }
}

/// A whole-catalog evaluation writes only what changed: a finding that stands keeps the time it
/// was first found (and the table does not fill with dead rows); one put right goes, a new one
/// comes, and a rule's new severity reaches the findings it already had.
#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn evaluations_write_only_what_changed(pool: PgPool) {
    use backend::governance::violations::{self, Scope};
    backend::seed::seed(&pool, 40).await.expect("seed");
    rule(&pool, &[("kind", "memory"), ("severity", "warning"), ("max", "256")]).await;
    let findings = || async {
        sqlx::query_as::<_, (Uuid, String, time::OffsetDateTime)>(
            "select function_id, severity, found_at from rule_violation order by function_id",
        )
        .fetch_all(&pool)
        .await
        .expect("findings")
    };
    violations::evaluate_catalog(&pool, Scope::All).await.expect("evaluated");
    let first = findings().await;
    assert!(!first.is_empty(), "the sample catalog has functions over 256 MB");

    tokio::time::sleep(Duration::from_millis(20)).await;
    violations::evaluate_catalog(&pool, Scope::All).await.expect("evaluated again");
    assert_eq!(findings().await, first, "nothing changed, nothing rewritten");

    let (fixed, _, _) = first[0].clone();
    let newly: Uuid = sqlx::query_scalar(
        "update catalog_function set memory_mb = 1024
         where function_id = (select function_id from catalog_function where memory_mb <= 256 limit 1)
         returning function_id",
    )
    .fetch_one(&pool)
    .await
    .expect("a small function made big");
    sqlx::query("update catalog_function set memory_mb = 128 where function_id = $1")
        .bind(fixed)
        .execute(&pool)
        .await
        .expect("a big function made small");
    sqlx::query("update governance_rule set severity = 'error' where kind = 'memory'")
        .execute(&pool)
        .await
        .expect("severity raised");
    violations::evaluate_catalog(&pool, Scope::All).await.expect("evaluated after changes");
    let after = findings().await;
    assert!(after.iter().all(|(id, _, _)| *id != fixed), "the fixed function's finding is gone");
    assert!(after.iter().any(|(id, _, _)| *id == newly), "the new breach is found");
    for (id, severity, found_at) in &after {
        assert_eq!(severity, "error", "{id}");
        if let Some((_, _, was)) = first.iter().find(|(f, _, _)| f == id) {
            assert_eq!(found_at, was, "a standing finding keeps when it was found");
        }
    }
}

/// What the one-page Create form posts, as `backend::labs::create` takes it.
fn create_input(lab: &Lab, name: &str) -> labs::CreateInput {
    labs::CreateInput {
        connection_id: lab.connection.connection_id,
        region: "us-east-1".into(),
        function: FunctionInput { tags: Default::default(), ..input(name) },
        source: String::new(),
        memory_mb: 128,
        timeout_s: 3,
        url: None,
        owner: None,
    }
}

#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn the_create_form_makes_everything_at_once_and_cleanup_removes_it(pool: PgPool) {
    let lab = lab(pool).await;
    rule(&lab.pool, &[("kind", "required_tag"), ("severity", "error"), ("key", "cost-center")])
        .await;
    rule(
        &lab.pool,
        &[("kind", "public_url"), ("severity", "error"), ("policy", "expiry"), ("max_hours", "4")],
    )
    .await;

    // Untagged, and a public URL for ever: both rules say so before anything exists, and the
    // creation is refused on the first broken field with nothing made and no run left.
    let mut create = create_input(&lab, "made-on-one-page");
    create.url = Some(labs::UrlChoice {
        auth_type: "NONE".into(),
        cors_origins: vec!["https://example.com".into()],
        expires_in_hours: None,
    });
    let findings = labs::evaluate(&lab.pool, &create).await.expect("evaluate");
    let fields: Vec<&str> = findings.iter().map(|f| labs::form_field(f.field)).collect();
    assert_eq!(fields, ["tags", "auth_type"], "{findings:?}");
    let refused = labs::create(&lab.pool, &lab.actor, lab.account_id, &create).await;
    assert!(
        matches!(&refused, Err(backend::Error::Validation { field: "tags", message })
            if message.contains("cost-center") && message.contains("expiry")),
        "{refused:?}"
    );
    assert!(!lab.function_exists("made-on-one-page").await);
    let runs = sqlx::query_scalar!(r#"select count(*) as "n!" from lab_run"#)
        .fetch_one(&lab.pool)
        .await
        .expect("count");
    assert_eq!(runs, 0);

    // Fixed: tagged, the URL switched off after two hours, with its own code and settings.
    create.function.tags.insert("cost-center".into(), "cc-100".into());
    create.url.as_mut().expect("url").expires_in_hours = Some(2);
    create.source =
        "def lambda_handler(event, context):\n    return {'statusCode': 200, 'body': 'made'}\n"
            .into();
    create.memory_mb = 256;
    create.timeout_s = 10;
    // For someone else (the server function lets only admins ask): an unknown owner is refused
    // before anything is made; a known one owns it, in the catalog and in its tags.
    create.owner = Some("nobody@example.com".into());
    let refused = labs::create(&lab.pool, &lab.actor, lab.account_id, &create).await;
    assert!(
        matches!(&refused, Err(backend::Error::Validation { field: "owner", .. })),
        "{refused:?}"
    );
    assert!(!lab.function_exists("made-on-one-page").await);
    account(&lab.pool, "owner@example.com", "developer").await;
    create.owner = Some("owner@example.com".into());
    assert!(labs::evaluate(&lab.pool, &create).await.expect("evaluate").is_empty());
    let function_id =
        labs::create(&lab.pool, &lab.actor, lab.account_id, &create).await.expect("created");

    let lambda = lab.connection.lambda("us-east-1").await;
    let config = lambda
        .get_function_configuration()
        .function_name("made-on-one-page")
        .send()
        .await
        .expect("the function exists");
    assert_eq!((config.memory_size(), config.timeout()), (Some(256), Some(10)));
    let url = lambda
        .get_function_url_config()
        .function_name("made-on-one-page")
        .send()
        .await
        .expect("its URL");
    assert_eq!(url.auth_type().as_str(), "NONE");
    // The URL's host is the function's own under `localhost`: sent to the engine's address.
    let address = url.function_url().trim_start_matches("http://").trim_end_matches('/');
    let (host, port) = address.rsplit_once(':').expect("host:port");
    let client = reqwest::Client::builder()
        .resolve(host, std::net::SocketAddr::from(([127, 0, 0, 1], port.parse().expect("port"))))
        .build()
        .expect("client");
    let answer = client.get(url.function_url()).send().await.expect("call");
    assert_eq!(answer.text().await.expect("body"), "made", "the form's code runs");
    let tags = lambda
        .list_tags()
        .resource(config.function_arn().expect("arn"))
        .send()
        .await
        .expect("tags");
    assert_eq!(tags.tags().and_then(|t| t.get("cost-center")).map(String::as_str), Some("cc-100"));
    assert_eq!(
        tags.tags().and_then(|t| t.get("lambdaport:owner")).map(String::as_str),
        Some("owner@example.com")
    );
    let detail = backend::catalog::detail(&lab.pool, function_id).await.expect("detail");
    assert_eq!(detail.entry.owner.as_deref(), Some("owner@example.com"));
    let expires_in = sqlx::query_scalar!(
        r#"select extract(epoch from url_expires_at - now())::float8 as "seconds!"
           from catalog_function where function_id = $1"#,
        function_id
    )
    .fetch_one(&lab.pool)
    .await
    .expect("expiry");
    assert!((7000.0..=7200.0).contains(&expires_in), "{expires_in}");

    // Everything made is in the function's ledger; the run is not a lab run anyone sees.
    let ledger = labs::ledger(&lab.pool, Scope::Function(function_id)).await.expect("ledger");
    let kinds: Vec<&str> = ledger.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["url_config", "permission", "permission", "function", "log_group", "role_policy", "role"]
    );
    assert!(labs::list(&lab.pool, None).await.expect("runs").is_empty());
    let audited = sqlx::query_scalar!(
        "select count(*) from audit_event where action = 'function.create' and target = $1",
        format!("function:{function_id}")
    )
    .fetch_one(&lab.pool)
    .await
    .expect("audit");
    assert_eq!(audited, Some(1));

    let outcomes =
        labs::clean_up(&lab.pool, &lab.actor, Scope::Function(function_id)).await.expect("cleanup");
    assert!(outcomes.iter().all(|(_, o)| *o == Outcome::Deleted), "{outcomes:?}");
    assert!(!lab.function_exists("made-on-one-page").await);
    assert!(!lab.log_group_exists("made-on-one-page").await);
    let roles = lab.connection.iam().await.list_roles().send().await.expect("roles");
    assert!(!roles.roles().iter().any(|r| r.role_name().starts_with("made-on-one-page-role-")));
}

#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn two_creates_of_one_name_make_one_function_and_leave_nothing_else(pool: PgPool) {
    let lab = lab(pool).await;
    let create = create_input(&lab, "wanted-twice");
    let (first, second) = tokio::join!(
        labs::create(&lab.pool, &lab.actor, lab.account_id, &create),
        labs::create(&lab.pool, &lab.actor, lab.account_id, &create),
    );
    let (made, refused) = match (first, second) {
        (Ok(id), Err(error)) | (Err(error), Ok(id)) => (id, error),
        other => panic!("one create wins, one is refused: {other:?}"),
    };
    assert!(refused.to_string().contains("already exists"), "{refused}");
    assert!(lab.function_exists("wanted-twice").await);
    // The loser's role (made before its function was refused) is gone: one role is left.
    let roles = lab.connection.iam().await.list_roles().send().await.expect("roles");
    let left: Vec<&str> = roles
        .roles()
        .iter()
        .map(|r| r.role_name())
        .filter(|n| n.starts_with("wanted-twice-role-"))
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
    let ledger = labs::ledger(&lab.pool, Scope::Function(made)).await.expect("ledger");
    assert!(ledger.iter().any(|e| e.kind.as_str() == "role" && e.name == left[0]));
}
