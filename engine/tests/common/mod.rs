//! Shared by the engine's integration tests.

/// The trust policy of a Lambda execution role.
pub const LAMBDA_TRUST_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// Creates an execution role Lambda can assume through the engine's IAM API; returns its ARN.
pub async fn create_lambda_role(base: &str, name: &str) -> String {
    let body = format!(
        "Action=CreateRole&Version=2010-05-08&RoleName={name}&AssumeRolePolicyDocument={}",
        engine::iam::percent_encode(LAMBDA_TRUST_POLICY)
    );
    let response = reqwest::Client::new()
        .post(format!("{base}/"))
        .header("content-type", "application/x-www-form-urlencoded; charset=utf-8")
        .body(body)
        .send()
        .await
        .expect("CreateRole");
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    assert!(status.is_success() || text.contains("EntityAlreadyExists"), "CreateRole: {text}");
    format!("arn:aws:iam::000000000000:role/{name}")
}
