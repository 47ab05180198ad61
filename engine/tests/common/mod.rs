//! Shared by the engine's integration tests. Each test binary uses some of it.
#![allow(dead_code)]

/// The trust policy of a Lambda execution role.
pub use engine::iam::LAMBDA_TRUST_POLICY;

/// Creates an execution role Lambda can assume, with AWSLambdaBasicExecutionRole so its functions
/// write logs, through the engine's IAM API; returns its ARN.
pub async fn create_lambda_role(base: &str, name: &str) -> String {
    let created = iam_call(
        base,
        format!(
            "Action=CreateRole&Version=2010-05-08&RoleName={name}&AssumeRolePolicyDocument={}",
            engine::iam::percent_encode(LAMBDA_TRUST_POLICY)
        ),
    )
    .await;
    assert!(created.is_ok() || created.as_ref().is_err_and(|e| e.contains("EntityAlreadyExists")));
    iam_call(
        base,
        format!(
            "Action=AttachRolePolicy&Version=2010-05-08&RoleName={name}&PolicyArn={}",
            engine::iam::percent_encode(engine::iam::BASIC_EXECUTION_POLICY)
        ),
    )
    .await
    .expect("AttachRolePolicy");
    format!("arn:aws:iam::000000000000:role/{name}")
}

/// One IAM query-protocol call, signed (so it also works on an engine that requires signatures);
/// the response text, or the error's.
pub async fn iam_call(base: &str, body: String) -> Result<String, String> {
    let url = format!("{base}/");
    let mut request = reqwest::Client::new()
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded; charset=utf-8");
    for (name, value) in sigv4_headers("POST", &url, body.as_bytes(), "test", "iam") {
        request = request.header(name, value);
    }
    let response = request.body(body).send().await.expect("IAM call");
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if status.is_success() { Ok(text) } else { Err(text) }
}

/// A running engine on a free port, stopped when this is dropped.
pub struct Running {
    pub base: String,
    pub data_dir: std::path::PathBuf,
    pub client: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
    served: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Stops the engine and waits until it has: its last log flush is on disk.
    pub async fn stop(self) {
        let Running { _stop: stop, served, .. } = self;
        drop(stop);
        served.await.expect("the engine's task").expect("the engine stopped cleanly");
    }
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
    let served = tokio::spawn(engine.serve(listener, async move {
        let _ = stopped.await;
    }));
    let base = format!("http://{addr}");
    create_lambda_role(&base, "lambda-role").await;
    Running { base, data_dir, client: reqwest::Client::new(), _stop: stop, served }
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

/// SigV4 headers for a request signed by access key `test` with `secret` for `service`, by
/// aws-sigv4 as the AWS SDK for Rust signs.
pub fn sigv4_headers(
    method: &str,
    url: &str,
    body: &[u8],
    secret: &str,
    service: &str,
) -> Vec<(String, String)> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let identity =
        aws_credential_types::Credentials::new("test", secret, None, None, "test").into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name(service)
        .time(std::time::SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .expect("params")
        .into();
    let host = url.split('/').nth(2).expect("host").to_owned();
    let headers = [("host", host.as_str())];
    let request = SignableRequest::new(method, url, headers.into_iter(), SignableBody::Bytes(body))
        .expect("signable");
    let (instructions, _) = sign(request, &params).expect("sign").into_parts();
    instructions.headers().map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
}
