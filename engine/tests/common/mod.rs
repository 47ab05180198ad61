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

/// A running engine on a free port, stopped when this is dropped.
pub struct Running {
    pub base: String,
    pub data_dir: std::path::PathBuf,
    pub client: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// A fresh data dir under the system temp dir.
pub fn temp_dir() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("engine-test-{}", uuid::Uuid::new_v4()))
}

/// Starts an engine on `data_dir` (a restart when it holds one already), with `lambda-role`.
pub async fn start_in(
    data_dir: std::path::PathBuf,
    configure: impl FnOnce(&mut engine::EngineConfig),
) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mut config = engine::EngineConfig::new(addr, data_dir.clone());
    configure(&mut config);
    let engine = engine::Engine::open(config).expect("engine opens");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(engine.serve(listener, async move {
        let _ = stopped.await;
    }));
    let base = format!("http://{addr}");
    create_lambda_role(&base, "lambda-role").await;
    Running { base, data_dir, client: reqwest::Client::new(), _stop: stop }
}

/// A base64 zip of `files`.
pub fn zip_of(files: &[(&str, &str)]) -> String {
    use base64::Engine as _;
    use std::io::Write as _;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, body) in files {
        writer.start_file(*name, zip::write::SimpleFileOptions::default()).expect("start");
        writer.write_all(body.as_bytes()).expect("write");
    }
    base64::engine::general_purpose::STANDARD.encode(writer.finish().expect("zip").into_inner())
}
