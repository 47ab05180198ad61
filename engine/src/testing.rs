//! For the tests of crates that use the engine: an engine on a free port with an execution role
//! Lambda can assume (`arn:aws:iam::000000000000:role/<role>`) that may write logs
//! (AWSLambdaBasicExecutionRole), in a fresh data dir.

use std::collections::HashMap;

use crate::{Engine, EngineConfig};

/// A running engine: its base URL and data dir; it stops when this is dropped.
#[derive(Debug)]
pub struct TestEngine {
    pub base: String,
    pub data_dir: std::path::PathBuf,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// Starts an engine (data dir `<temp>/<prefix>-<uuid>`) with the role `role`, created and given
/// AWSLambdaBasicExecutionRole through the engine's own IAM dispatcher as the calls would.
pub async fn engine_with_role(prefix: &str, role: &str) -> TestEngine {
    engine_configured(prefix, role, |_| {}).await
}

/// [`engine_with_role`], with its configuration changed by `configure` first.
pub async fn engine_configured(
    prefix: &str,
    role: &str,
    configure: impl FnOnce(&mut EngineConfig),
) -> TestEngine {
    let data_dir = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::new_v4()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a free port");
    let addr = listener.local_addr().expect("local address");
    let mut config = EngineConfig::new(addr, data_dir.clone());
    configure(&mut config);
    let engine = Engine::open(config).expect("engine opens");
    let params: HashMap<String, String> = [
        ("Action", "CreateRole"),
        ("RoleName", role),
        ("AssumeRolePolicyDocument", crate::iam::LAMBDA_TRUST_POLICY),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let created = engine.state().iam.dispatch(&params).await;
    assert!(created.status().is_success(), "CreateRole {role}: {:?}", created.status());
    // As the console's role: functions may write their logs.
    let params: HashMap<String, String> = [
        ("Action", "AttachRolePolicy"),
        ("RoleName", role),
        ("PolicyArn", crate::iam::BASIC_EXECUTION_POLICY),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let attached = engine.state().iam.dispatch(&params).await;
    assert!(attached.status().is_success(), "AttachRolePolicy {role}: {:?}", attached.status());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(engine.serve(listener, async move {
        let _ = stopped.await;
    }));
    TestEngine { base: format!("http://{addr}"), data_dir, _stop: stop }
}
