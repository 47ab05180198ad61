//! `lambdaport engine` started by an ordinary user (not root): functions are still contained, by
//! a user namespace, and the same hostile probe as `engine/tests/sandbox.rs` reaches nothing of
//! the host. As root (CI), the test runs the engine as the user `lambdaport-test`, created if
//! missing; as anyone else, as that user itself.

use std::process::Stdio;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};
use tokio::process::Command;

mod local_user;
use local_user::{is_root, nix_uid, ordinary_user};

const PROBE: &str = include_str!("../../engine/tests/clients/probe.py");
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

fn zip_of(name: &str, body: &str) -> String {
    use std::io::Write as _;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    writer.start_file(name, zip::write::SimpleFileOptions::default()).expect("start");
    writer.write_all(body.as_bytes()).expect("write");
    base64::engine::general_purpose::STANDARD.encode(writer.finish().expect("zip").into_inner())
}

#[tokio::test]
async fn an_engine_started_by_an_ordinary_user_contains_its_functions() {
    // A directory the user can reach, holding a copy of the binary and the engine's data dir.
    let dir = std::env::temp_dir().join(format!("lambdaport-user-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(dir.join("data")).expect("dir");
    let binary = dir.join("lambdaport");
    std::fs::copy(env!("CARGO_BIN_EXE_lambdaport"), &binary).expect("copy the binary");
    let port = free_port();
    let mut command = Command::new(&binary);
    command
        .args(["engine", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(dir.join("data"))
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    let engine_uid = if is_root() {
        let (uid, gid) = ordinary_user();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        std::os::unix::fs::chown(dir.join("data"), Some(uid), Some(gid)).expect("chown");
        command.uid(uid).gid(gid);
        uid
    } else {
        nix_uid()
    };
    assert_ne!(engine_uid, 0);
    let _engine = command.spawn().expect("the engine starts");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while client.get(format!("{base}/2015-03-31/functions")).send().await.is_err() {
        assert!(std::time::Instant::now() < deadline, "the engine answers within 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let role = client
        .post(format!("{base}/"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "Action=CreateRole&Version=2010-05-08&RoleName=lambda-role&AssumeRolePolicyDocument={}",
            engine::iam::percent_encode(engine::iam::LAMBDA_TRUST_POLICY)
        ))
        .send()
        .await
        .expect("CreateRole");
    assert!(role.status().is_success(), "{}", role.text().await.unwrap_or_default());
    let created = client
        .post(format!("{base}/2015-03-31/functions"))
        .json(&json!({
            "FunctionName": "probe",
            "Runtime": "python3.12",
            "Role": "arn:aws:iam::000000000000:role/lambda-role",
            "Handler": "lambda_function.lambda_handler",
            "Code": { "ZipFile": zip_of("lambda_function.py", PROBE) },
        }))
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), 201, "{}", created.text().await.unwrap_or_default());
    let engine_pid = _engine.id().expect("pid");
    let data_dir = dir.join("data");
    let response = client
        .post(format!("{base}/2015-03-31/functions/probe/invocations"))
        .header("content-type", "application/json")
        .body(
            json!({ "data_dir": data_dir, "engine_pid": engine_pid, "engine_port": port })
                .to_string(),
        )
        .send()
        .await
        .expect("invoke");
    assert!(response.headers().get("x-amz-function-error").is_none());
    let report: Value = response.json().await.expect("json");

    // What the host has, and the function must not reach.
    assert!(data_dir.join("functions/probe.json").is_file(), "the record exists on the host");
    assert_ne!(report["uid"], json!(engine_uid), "{report}");
    assert_ne!(report["uid"], json!(0), "{report}");
    assert_eq!(report["data_dir_visible"], json!(false), "{report}");
    assert_eq!(report["record_readable"], json!(false), "{report}");
    assert_eq!(report["engine_environ_readable"], json!(false), "{report}");
    assert_eq!(report["init_environ_readable"], json!(false), "{report}");
    assert_eq!(report["engine_api"], json!(false), "{report}");
    if std::net::TcpStream::connect(("127.0.0.1", 5432)).is_ok() {
        assert_eq!(report["postgres"], json!(false), "{report}");
    }
    assert_eq!(report["code_writable"], json!(false), "{report}");
    assert_eq!(report["homes"], json!([]), "{report}");
    assert_eq!(report["tmp_writable"], json!(true), "{report}");
    assert_eq!(report["new_user_namespace"], json!(false), "no namespaces of its own: {report}");
    assert_eq!(report["threads"], json!(true), "threads still start: {report}");
    drop(_engine);
    let _ = std::fs::remove_dir_all(&dir);
}
