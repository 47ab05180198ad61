//! Hostile handlers against the engine's containment (`engine::jail`), with the engine started
//! by this test's user (root in CI; `server/tests/sandbox_user.rs` runs the same probe under an
//! engine started by an ordinary user). Each check is paired with one that shows the host really
//! has what the function must not reach, so none of them passes by accident.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod common;

use common::{Running, temp_dir, zip_of};

const PROBE: &str = include_str!("clients/probe.py");

async fn create(engine: &Running, name: &str, extra: Value) {
    create_from(engine, name, PROBE, extra).await;
}

/// Creates a Python function whose `lambda_function.py` is `source`; panics unless 201.
async fn create_from(engine: &Running, name: &str, source: &str, extra: Value) {
    let mut body = json!({
        "FunctionName": name,
        "Runtime": "python3.12",
        "Role": "arn:aws:iam::000000000000:role/lambda-role",
        "Handler": "lambda_function.lambda_handler",
        "Code": { "ZipFile": zip_of(&[("lambda_function.py", source)]) },
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let response = engine
        .client
        .post(format!("{}/2015-03-31/functions", engine.base))
        .json(&body)
        .send()
        .await
        .expect("create");
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap_or_default());
}

async fn invoke(engine: &Running, name: &str, payload: Value) -> (Option<String>, Value) {
    let response = engine
        .client
        .post(format!("{}/2015-03-31/functions/{name}/invocations", engine.base))
        .header("content-type", "application/json")
        .body(payload.to_string())
        .send()
        .await
        .expect("invoke");
    let error = response
        .headers()
        .get("x-amz-function-error")
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    (error, response.json().await.expect("json"))
}

fn port_of(base: &str) -> u16 {
    base.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port")
}

fn host_can_connect(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(1))
        .is_ok()
}

#[tokio::test]
async fn a_probe_handler_reaches_nothing_of_the_host() {
    let engine = common::start_in(temp_dir(), |_| {}).await;
    create(&engine, "probe", json!({})).await;
    let port = port_of(&engine.base);
    let (error, report) = invoke(
        &engine,
        "probe",
        json!({
            "data_dir": engine.data_dir.canonicalize().expect("data dir"),
            "engine_pid": std::process::id(),
            "engine_port": port,
        }),
    )
    .await;
    assert_eq!(error, None, "{report}");

    // What the host has, and the function must not reach.
    let record = engine.data_dir.join("functions/probe.json");
    assert!(std::fs::read(&record).is_ok(), "the record exists on the host");
    assert!(host_can_connect(port), "the engine's API is up on the host");
    assert!(
        std::fs::read(format!("/proc/{}/environ", std::process::id())).is_ok(),
        "the engine's environ is readable on the host"
    );

    let engine_uid = nix::unistd::geteuid().as_raw();
    assert_ne!(
        report["uid"],
        json!(engine_uid),
        "runs under a uid other than the engine's: {report}"
    );
    assert_ne!(report["uid"], json!(0), "never root: {report}");
    assert_eq!(report["data_dir_visible"], json!(false), "{report}");
    assert_eq!(report["record_readable"], json!(false), "{report}");
    assert_eq!(report["engine_environ_readable"], json!(false), "{report}");
    assert_eq!(report["init_environ_readable"], json!(false), "{report}");
    assert_eq!(report["engine_api"], json!(false), "{report}");
    if host_can_connect(5432) {
        assert_eq!(report["postgres"], json!(false), "Postgres answers the host only: {report}");
    }
    assert_eq!(report["runtime_api"], json!("127.0.0.1:9001"), "{report}");
    assert_eq!(report["code_writable"], json!(false), "{report}");
    assert_eq!(report["homes"], json!([]), "{report}");
    assert_eq!(report["tmp_writable"], json!(true), "{report}");
    assert_eq!(report["new_user_namespace"], json!(false), "no namespaces of its own: {report}");
    assert_eq!(report["threads"], json!(true), "threads still start: {report}");
    let pids = report["pids"].as_array().expect("pids");
    assert!(
        pids.len() <= 3 && pids.iter().all(|p| p.as_u64() < Some(10)),
        "its own processes only: {report}"
    );
}

/// The host's processes whose environment names `function` (read as root, or as the same user).
fn processes_of(function: &str) -> Vec<u32> {
    let needle = format!("AWS_LAMBDA_FUNCTION_NAME={function}\0");
    std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.windows(needle.len()).any(|w| w == needle.as_bytes()))
        })
        .collect()
}

async fn until_none_left(function: &str) -> Vec<u32> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = processes_of(function);
        if left.is_empty() || Instant::now() > deadline {
            return left;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_setsid_child_and_a_fork_loop_are_stopped_at_the_timeout() {
    let engine = common::start_in(temp_dir(), |_| {}).await;
    for name in ["escaper", "forker"] {
        create(&engine, name, json!({ "Timeout": 2 })).await;
    }
    let marker = format!("{}.{}", 1000 + std::process::id() % 1000, std::process::id());
    let started = Instant::now();
    let (error, body) =
        invoke(&engine, "escaper", json!({ "action": "setsid", "marker": marker })).await;
    assert_eq!(error.as_deref(), Some("Unhandled"), "{body}");
    assert!(body["errorMessage"].as_str().is_some_and(|m| m.contains("timed out")), "{body}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(until_none_left("escaper").await, Vec::<u32>::new(), "the setsid child is gone too");

    let invoking = tokio::spawn({
        let (client, base) = (engine.client.clone(), engine.base.clone());
        async move {
            client
                .post(format!("{base}/2015-03-31/functions/forker/invocations"))
                .body(json!({ "action": "forks" }).to_string())
                .send()
                .await
                .expect("invoke")
                .text()
                .await
        }
    });
    // How many processes the loop made at most before the timeout (on a busy machine the
    // environment may take a while to start).
    let mut forked = 0;
    while !invoking.is_finished() {
        forked = forked.max(processes_of("forker").len());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(forked > 10, "the loop forked ({forked} processes)");
    let body = invoking.await.expect("join").expect("body");
    // Stopped by its timeout, or sooner by the memory all those processes take together.
    assert!(body.contains("timed out") || body.contains("Runtime.OutOfMemory"), "{body}");
    assert_eq!(until_none_left("forker").await, Vec::<u32>::new(), "every fork is gone");
}

#[tokio::test]
async fn filling_tmp_past_its_size_is_an_error_for_the_function_only() {
    let engine = common::start_in(temp_dir(), |_| {}).await;
    create(&engine, "filler", json!({ "Timeout": 30, "EphemeralStorage": { "Size": 512 } })).await;
    let (error, report) = invoke(&engine, "filler", json!({ "action": "fill_tmp" })).await;
    assert_eq!(error, None, "{report}");
    assert_eq!(report["error"], json!("ENOSPC"), "{report}");
    let written = report["written"].as_u64().expect("written");
    assert!(written <= 512 << 20, "at most its EphemeralStorage: {report}");
    assert!(written >= 400 << 20, "most of it: {report}");
}

#[tokio::test]
async fn a_ten_megabyte_line_becomes_events_of_at_most_256_kb() {
    let engine = common::start_in(temp_dir(), |_| {}).await;
    create(&engine, "shouter", json!({ "Timeout": 30 })).await;
    let bytes = 10 << 20;
    let (error, report) =
        invoke(&engine, "shouter", json!({ "action": "shout", "bytes": bytes })).await;
    assert_eq!(error, None, "{report}");
    // The output is read as it comes; give the last chunk a moment to land in the log.
    let deadline = Instant::now() + Duration::from_secs(5);
    let sizes = loop {
        let events: Value = engine
            .client
            .post(format!("{}/", engine.base))
            .header("x-amz-target", "Logs_20140328.FilterLogEvents")
            .header("content-type", "application/x-amz-json-1.1")
            .body(
                json!({ "logGroupName": "/aws/lambda/shouter", "filterPattern": "AAAA" })
                    .to_string(),
            )
            .send()
            .await
            .expect("filter")
            .json()
            .await
            .expect("json");
        let sizes: Vec<usize> = events["events"]
            .as_array()
            .expect("events")
            .iter()
            .map(|e| e["message"].as_str().map_or(0, str::len))
            .collect();
        if sizes.iter().sum::<usize>() >= bytes * 3 / 5 || Instant::now() > deadline {
            break sizes;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(sizes.iter().all(|s| *s <= 256 * 1024), "{sizes:?}");
    // The engine holds at most its stream bound in memory; the rest is on disk, nothing lost.
    assert!(sizes.iter().sum::<usize>() <= engine::logs::MAX_STREAM_MEMORY, "{sizes:?}");
    let group: String = "/aws/lambda/shouter".bytes().map(|b| format!("{b:02x}")).collect();
    let deadline = Instant::now() + Duration::from_secs(5);
    let on_disk = loop {
        let mut total = 0;
        for file in std::fs::read_dir(engine.data_dir.join("logs").join(&group)).expect("group dir")
        {
            let path = file.expect("entry").path();
            if path.extension().is_some_and(|e| e == "jsonl") {
                for line in std::fs::read_to_string(&path).expect("read").lines() {
                    // The flusher may be writing the last line right now: count it next time.
                    let Ok(event) = serde_json::from_str::<Value>(line) else { continue };
                    total +=
                        event["m"].as_str().filter(|m| m.starts_with("AAAA")).map_or(0, str::len);
                }
            }
        }
        if total >= bytes || Instant::now() > deadline {
            break total;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(on_disk, bytes, "nothing lost on disk");
}

#[tokio::test]
async fn a_truncated_record_is_set_aside_and_the_engine_starts() {
    let data_dir = temp_dir();
    let engine = common::start_in(data_dir.clone(), |_| {}).await;
    create(&engine, "kept", json!({})).await;
    drop(engine);
    let record = data_dir.join("functions/broken.json");
    std::fs::write(&record, b"{\"name\": \"brok").expect("truncated record");
    std::fs::write(data_dir.join("iam/roles/broken.json"), b"").expect("empty role");
    let engine = common::start_in(data_dir.clone(), |_| {}).await;
    let listed: Value = engine
        .client
        .get(format!("{}/2015-03-31/functions", engine.base))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    let names: Vec<&str> = listed["Functions"]
        .as_array()
        .expect("functions")
        .iter()
        .filter_map(|f| f["FunctionName"].as_str())
        .collect();
    assert_eq!(names, ["kept"]);
    assert!(!record.exists());
    assert!(data_dir.join("functions/broken.corrupt").exists(), "kept aside for a person");
    assert!(data_dir.join("iam/roles/broken.corrupt").exists());
}

const NET_PROBE: &str = r#"
import os, socket, urllib.request, urllib.error

def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except Exception as e:
        return None, type(e).__name__

def direct(host, port):
    s = socket.socket(); s.settimeout(1)
    try:
        s.connect((host, port)); return True
    except OSError:
        return False
    finally:
        s.close()

def lambda_handler(event, context):
    return {
        "proxy": os.environ.get("HTTPS_PROXY"),
        "allowed": fetch(event["allowed"]),
        "engine": fetch(event["engine"]),
        "metadata": fetch("http://169.254.169.254/latest/meta-data/"),
        "direct": direct(event["host"], event["port"]),
    }
"#;

/// The host's first address that is not loopback, if it has one.
fn host_address() -> Option<std::net::Ipv4Addr> {
    nix::ifaddrs::getifaddrs()
        .ok()?
        .filter_map(|a| a.address?.as_sockaddr_in().map(|v4| v4.ip()))
        .find(|ip| !ip.is_loopback())
}

/// A one-answer HTTP server on `address`, standing for a service on the host.
async fn host_service(address: std::net::Ipv4Addr) -> u16 {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind((address, 0)).await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf).await;
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 15\r\nconnection: close\r\n\r\nhello from host")
                .await;
        }
    });
    port
}

/// `--function-network internet`: the engine's proxy connects functions to public addresses and
/// to what the operator allowed, never to the host or the metadata service; and no connection
/// bypasses it. `none`: no proxy at all.
#[tokio::test]
async fn functions_reach_out_only_through_the_engines_proxy() {
    let Some(address) = host_address() else {
        eprintln!(
            "this machine has no address but loopback: the proxy's exception is not testable"
        );
        return;
    };
    let port = host_service(address).await;
    let allowed = format!("{address}:{port}");
    for network in
        [engine::egress::FunctionNetwork::Internet, engine::egress::FunctionNetwork::None]
    {
        let engine = common::start_in(temp_dir(), |config| {
            config.function_network = network;
            config.function_allow_connect = vec![allowed.clone()];
        })
        .await;
        create_from(&engine, "net", NET_PROBE, json!({ "Timeout": 30 })).await;
        let engine_port = port_of(&engine.base);
        let (error, report) = invoke(
            &engine,
            "net",
            json!({
                "allowed": format!("http://{allowed}/"),
                "engine": format!("http://{address}:{engine_port}/2015-03-31/functions"),
                "host": address.to_string(),
                "port": port,
            }),
        )
        .await;
        assert_eq!(error, None, "{report}");
        assert_eq!(report["direct"], json!(false), "no connection bypasses the proxy: {report}");
        if network == engine::egress::FunctionNetwork::Internet {
            assert_eq!(report["proxy"], json!("http://127.0.0.1:9002"), "{report}");
            assert_eq!(report["allowed"], json!([200, "hello from host"]), "{report}");
            assert_eq!(report["engine"][0], json!(403), "the host's own address: {report}");
            assert_eq!(report["metadata"][0], json!(403), "{report}");
        } else {
            assert_eq!(report["proxy"], Value::Null, "{report}");
            assert_eq!(report["allowed"][0], Value::Null, "{report}");
            assert_eq!(report["metadata"][0], Value::Null, "{report}");
        }
    }
}

/// Memory counts over the whole environment: a child process the handler starts cannot take
/// more than the function's memory size on its behalf.
#[tokio::test]
async fn memory_is_limited_over_the_whole_process_tree() {
    const HOG: &str = r#"
import subprocess, time
def lambda_handler(event, context):
    subprocess.Popen(["python3", "-c", "b = bytearray(300 * 1024 * 1024); import time; time.sleep(60)"])
    time.sleep(20)
    return "survived"
"#;
    let engine = common::start_in(temp_dir(), |_| {}).await;
    create_from(&engine, "tree-hog", HOG, json!({ "MemorySize": 128, "Timeout": 30 })).await;
    let started = Instant::now();
    let (error, body) = invoke(&engine, "tree-hog", json!({})).await;
    assert_eq!(error.as_deref(), Some("Unhandled"), "{body}");
    assert_eq!(body["errorType"], json!("Runtime.OutOfMemory"), "{body}");
    assert!(started.elapsed() < Duration::from_secs(15), "stopped well before the handler ended");
    assert_eq!(until_none_left("tree-hog").await, Vec::<u32>::new(), "the child is gone too");
}

/// The host's Python site customizations (`.pth` files, `sitecustomize`) do not run in a
/// function's environment, as on Lambda, and the host's site-packages stay importable after the
/// function's own code.
#[tokio::test]
async fn the_hosts_site_customizations_do_not_run_and_its_packages_stay_importable() {
    const PATHS: &str = r#"
import os, site, sys
def lambda_handler(event, context):
    missing = [p for p in site.getsitepackages() if os.path.isdir(p) and p not in sys.path]
    return {"no_site": sys.flags.no_site, "first": sys.path[0], "missing": missing}
"#;
    let engine = common::start_in(temp_dir(), |_| {}).await;
    create_from(&engine, "paths", PATHS, json!({})).await;
    let (error, body) = invoke(&engine, "paths", json!({})).await;
    assert_eq!(error, None, "{body}");
    assert_eq!(body["no_site"], json!(1), "site's customizations ran: {body}");
    assert_eq!(body["first"], json!("/var/task"), "{body}");
    assert_eq!(body["missing"], json!([]), "{body}");
}

/// A process's parent, from `/proc/<pid>/stat` (in this process's pid namespace).
fn parent_of(pid: u32) -> u32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    // `pid (comm) state ppid …`; comm may hold spaces, never a `)` after the last one.
    let after = &stat[stat.rfind(')').expect("comm") + 2..];
    after.split(' ').nth(1).expect("ppid").parse().expect("a pid")
}

/// An environment is started by a fresh start of the engine's program as its helper, not by a
/// fork of the engine (whose page tables a fork copies, and whose every written page is then
/// copied again while the copy lives: `outer` and `init` live as long as the environment); and
/// when the runtime cannot be started, the error says which step failed and why.
#[tokio::test]
async fn environments_start_from_a_fresh_helper_and_a_failed_start_says_why() {
    let engine = common::start_in(temp_dir(), |_| {}).await;
    create_from(
        &engine,
        "helped",
        "def lambda_handler(event, context):\n    return 1\n",
        json!({}),
    )
    .await;
    let (error, body) = invoke(&engine, "helped", json!({})).await;
    assert_eq!(error, None, "{body}");
    let runtime = processes_of("helped");
    assert_eq!(runtime.len(), 1, "one runtime process: {runtime:?}");
    let outer = parent_of(parent_of(runtime[0]));
    assert_eq!(parent_of(outer), std::process::id(), "outer is the engine's child");
    let cmdline = std::fs::read(format!("/proc/{outer}/cmdline")).expect("outer's cmdline");
    assert_eq!(
        String::from_utf8_lossy(&cmdline),
        "lambdaport-environment\0--lambdaport-environment-helper\0",
        "outer is the helper, not a copy of the engine"
    );

    // A custom runtime without its `bootstrap`: the exec inside the environment fails.
    let response = engine
        .client
        .post(format!("{}/2015-03-31/functions", engine.base))
        .json(&json!({
            "FunctionName": "bootless", "Runtime": "provided.al2023", "Handler": "none",
            "Role": "arn:aws:iam::000000000000:role/lambda-role",
            "Code": { "ZipFile": zip_of(&[("readme.txt", "no bootstrap here")]) },
        }))
        .send()
        .await
        .expect("create");
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap_or_default());
    let (error, body) = invoke(&engine, "bootless", json!({})).await;
    let message = body.to_string();
    assert!(error.is_some() || message.contains("InvalidEntrypoint"), "{body}");
    assert!(
        message.contains("starting /var/task/bootstrap: No such file or directory"),
        "the failed step and its cause: {body}"
    );
}
