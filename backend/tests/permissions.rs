//! The Permissions tab's reading against a real engine (IAM and Lambda through the SDK): the role
//! and its trust, managed and inline policies, and the findings — no logging, a role that can do
//! anything, a role shared by two functions.

use serde_json::json;

mod common;
use common::{catalogued, engine, python_package};

#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn a_functions_role_and_policies_are_read_and_checked(pool: sqlx::PgPool) {
    let (base, _stop) = engine().await;
    let code = python_package("def lambda_handler(event, context):\n    return 'ok'\n");
    catalogued(&pool, &base, "second", &code, json!({})).await;
    let (connection, _, detail) = catalogued(&pool, &base, "first", &code, json!({})).await;
    // The test engine's role may write logs: take that away first.
    let iam = connection.iam().await;
    iam.detach_role_policy()
        .role_name("r")
        .policy_arn("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
        .send()
        .await
        .expect("detach");

    let read = backend::permissions::read(&pool, &connection, &detail).await.expect("read");
    assert_eq!(read.role_name, "r");
    assert!(read.role_arn.ends_with(":role/r"), "{}", read.role_arn);
    assert_eq!(read.trust[0]["Principal"]["Service"], "lambda.amazonaws.com", "{:?}", read.trust);
    assert!(read.policies.is_empty() && read.statements.is_empty());
    assert_eq!(read.sharing, ["second"]);
    assert_eq!(read.findings.len(), 2, "{:?}", read.findings);
    assert!(read.findings[0].contains("no permission to write logs"));
    assert!(read.findings[1].contains("shared with second"));

    iam.attach_role_policy()
        .role_name("r")
        .policy_arn("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
        .send()
        .await
        .expect("attach");
    iam.put_role_policy()
        .role_name("r")
        .policy_name("everything")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
        .send()
        .await
        .expect("inline");
    let read = backend::permissions::read(&pool, &connection, &detail).await.expect("read");
    assert_eq!(
        read.policies.iter().map(|p| (p.name.as_str(), p.arn.is_some())).collect::<Vec<_>>(),
        [("AWSLambdaBasicExecutionRole", true), ("everything", false)]
    );
    assert_eq!(read.findings.len(), 2, "{:?}", read.findings);
    assert!(read.findings[0].starts_with("everything lets the function do anything"));
    assert!(read.findings[1].contains("shared with second"));
}
