//! What the operator sees without setting `RUST_LOG`: the engine's warnings are part of it.

use std::time::Duration;

use tokio::io::AsyncBufReadExt as _;

/// An unreadable engine record is set aside with a warning, and the warning is in the default
/// output of `lambdaport engine` (the same filter as `lambdaport serve`).
#[tokio::test]
async fn an_engine_warning_shows_in_the_default_output() {
    let dir = std::env::temp_dir().join(format!("logging-{}", uuid::Uuid::new_v4()));
    let functions = dir.join("data/functions");
    std::fs::create_dir_all(&functions).expect("dir");
    std::fs::write(functions.join("broken.json"), b"{ not json").expect("a broken record");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let mut engine = tokio::process::Command::new(env!("CARGO_BIN_EXE_lambdaport"))
        .args(["engine", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir.join("data"))
        .env_remove("RUST_LOG")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("lambdaport engine starts");
    let mut lines = tokio::io::BufReader::new(engine.stderr.take().expect("stderr")).lines();
    let warned = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.expect("read") {
            if line.contains("WARN") && line.contains("unreadable engine record was set aside") {
                return line;
            }
        }
        panic!("the engine exited without the warning");
    })
    .await
    .expect("the warning within 30 s");
    assert!(warned.contains("broken.json"), "{warned}");
    // The warning is written just before the record is moved: give the move a moment.
    let aside = functions.join("broken.corrupt");
    for _ in 0..100 {
        if aside.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(aside.exists(), "set aside");
    engine.kill().await.expect("stop");
    std::fs::remove_dir_all(&dir).ok();
}
