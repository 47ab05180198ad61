//! A class on one machine: 50 learners do the whole guided lab at once through the wizard's server
//! functions, against a real engine; every one finishes and nothing is left in the engine. A
//! correctness test (no timing assertions): `scripts/bench-class` measures the times.

use engine::jail::{Containment, Identity};
use sqlx::PgPool;

#[path = "common/class.rs"]
mod class;
#[expect(dead_code, reason = "the class uses a few of the shared helpers")]
mod common;

#[sqlx::test(migrations = "../migrations")]
async fn fifty_learners_do_the_lab_at_once_and_leave_nothing(pool: PgPool) {
    let engine = engine::testing::engine_with_role("class", "not-a-lab-role").await;
    let local =
        backend::connections::ensure_local(&pool, &engine.base, "us-east-1").await.expect("local");
    let app = common::spawn_app_configured(
        pool.clone(),
        &["--allow-signup", "--signups-per-address", "100"],
        |console| console.with_engine(&Containment::Contained(Identity::Root)),
    )
    .await;
    let class = class::run(
        &app.origin(),
        &format!("{local}|us-east-1"),
        50,
        "learner",
        std::time::Duration::ZERO,
        None,
    )
    .await;
    println!("{}\n{} finished in {:?}", class.table(), class.finished(), class.wall);
    assert_eq!(class.failures(), Default::default(), "no learner failed");
    assert_eq!(class.finished(), 50);

    // Nothing the class made is left: functions, URLs, log groups, roles.
    let connection = backend::connections::get(&pool, local).await.expect("connection");
    let functions = connection.lambda("us-east-1").await.list_functions().send().await;
    assert!(functions.expect("list").functions().is_empty(), "no function left");
    let groups = connection.logs("us-east-1").await.describe_log_groups().send().await;
    assert!(groups.expect("groups").log_groups().is_empty(), "no log group left");
    let roles = connection.iam().await.list_roles().send().await.expect("roles");
    let names: Vec<&str> = roles.roles().iter().map(|r| r.role_name()).collect();
    assert_eq!(names, ["not-a-lab-role"], "no lab role left");
    let runs: i64 = sqlx::query_scalar("select count(*) from lab_run where status <> 'cleaned_up'")
        .fetch_one(&pool)
        .await
        .expect("runs");
    assert_eq!(runs, 0, "every run is cleaned up");
}
