//! Benchmark: the same Python handler under this engine and under AWS's Runtime Interface
//! Emulator (RIE, running `awslambdaric`), driven by the same HTTP load generator. Prints warm
//! latency p50/p99 at concurrency 1, throughput at concurrency 1 and 8, cold start p50 and idle
//! memory. Numbers, not assertions: run it with `scripts/bench-engine`.
//!
//! `cargo run --release -p engine --example bench -- --rie PATH [--requests N]`; with
//! `LAMBDAPORT_INSECURE_NO_SANDBOX=1` the engine runs functions uncontained, to see what
//! containment costs.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use base64::Engine as _;

const HANDLER: &str = "def lambda_handler(event, context):\n    return {\"ok\": True}\n";

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    // The load generator runs on one thread, like an event-loop generator (wrk): a request and
    // its connection task never wake another thread, so the generator adds as little as it can
    // to what it measures — the same for both servers.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    if args.get(1).map(String::as_str) == Some("__serve") {
        // As `lambdaport engine` serves: on a thread of its own.
        let addr: SocketAddr = args.get(2).context("address")?.parse()?;
        let dir = PathBuf::from(args.get(3).context("data dir")?);
        let listener = std::net::TcpListener::bind(addr)?;
        let mut config = engine::EngineConfig::new(addr, dir);
        // To measure what containment costs: the same run with functions uncontained.
        config.insecure_no_sandbox = std::env::var_os("LAMBDAPORT_INSECURE_NO_SANDBOX").is_some();
        let engine = engine::Engine::open(config)?;
        let served = engine.serve_on_own_thread(listener, std::future::pending())?;
        return served.join().map_err(|_| anyhow::anyhow!("the engine thread panicked"))?;
    }
    let rie = flag(&args, "--rie").context("--rie PATH to aws-lambda-rie-x86_64 is required")?;
    let requests: usize = flag(&args, "--requests").map_or(Ok(2000), |n| n.parse())?;
    runtime.block_on(run(PathBuf::from(rie), requests))
}

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Kills the child (and its process group) when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.0.id()) {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(command: &mut Command) -> anyhow::Result<Guard> {
    use std::os::unix::process::CommandExt as _;
    Ok(Guard(command.stdout(Stdio::null()).stderr(Stdio::null()).process_group(0).spawn()?))
}

async fn wait_listening(addr: SocketAddr) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        if Instant::now() > deadline {
            bail!("{addr} never started listening");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    Ok(())
}

/// Resident memory (KB) of a process and its descendants (children of any of its threads).
fn rss_kb(pid: u32) -> u64 {
    let own = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0);
    let children: u64 = std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|list| {
            list.split_whitespace().filter_map(|c| c.parse().ok()).collect::<Vec<u32>>()
        })
        .map(rss_kb)
        .sum();
    own + children
}

#[derive(Default)]
struct Report {
    p50_ms: f64,
    p99_ms: f64,
    rps_c1: f64,
    rps_c8: f64,
    failed_c8: usize,
    cold_p50_ms: f64,
    idle_rss_mb: f64,
    /// Function URL round trip of the same function (engine only).
    url_p50_ms: f64,
    url_p99_ms: f64,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

async fn invoke(client: &reqwest::Client, url: &str) -> anyhow::Result<()> {
    let response = client.post(url).body("{}").send().await?;
    if !response.status().is_success() {
        bail!("invoke failed: {}", response.status());
    }
    let body = response.bytes().await?;
    if !body.starts_with(b"{\"ok\"") {
        bail!("unexpected result {body:?}");
    }
    Ok(())
}

/// Warm latency and throughput at concurrency 1 against an invoke URL.
async fn measure_warm(url: &str, requests: usize, report: &mut Report) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    for _ in 0..200 {
        invoke(&client, url).await?;
    }
    let mut latencies = Vec::with_capacity(requests);
    let started = Instant::now();
    for _ in 0..requests {
        let t = Instant::now();
        invoke(&client, url).await?;
        latencies.push(t.elapsed());
    }
    report.rps_c1 = requests as f64 / started.elapsed().as_secs_f64();
    latencies.sort();
    report.p50_ms = percentile(&latencies, 0.50);
    report.p99_ms = percentile(&latencies, 0.99);

    Ok(())
}

/// Throughput at concurrency 8 for 5 s; failed invokes are counted, not fatal.
async fn measure_concurrent(url: &str, report: &mut Report) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let window = Duration::from_secs(5);
    let started = Instant::now();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (client, url) = (client.clone(), url.to_owned());
            tokio::spawn(async move {
                let (mut done, mut failed) = (0usize, 0usize);
                while started.elapsed() < window {
                    match invoke(&client, &url).await {
                        Ok(()) => done += 1,
                        Err(_) => {
                            failed += 1;
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    }
                }
                (done, failed)
            })
        })
        .collect();
    let (mut total, mut failed) = (0, 0);
    for task in tasks {
        let (done, lost) = task.await?;
        total += done;
        failed += lost;
    }
    report.rps_c8 = total as f64 / started.elapsed().as_secs_f64();
    report.failed_c8 = failed;
    Ok(())
}

fn zip_b64() -> anyhow::Result<String> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    writer.start_file("lambda_function.py", zip::write::SimpleFileOptions::default())?;
    writer.write_all(HANDLER.as_bytes())?;
    Ok(base64::engine::general_purpose::STANDARD.encode(writer.finish()?.into_inner()))
}

/// An engine in its own process with the `bench` role, and a function creator for it.
struct EngineUnderTest {
    child: Guard,
    addr: SocketAddr,
    client: reqwest::Client,
    code: String,
}

impl EngineUnderTest {
    async fn start(work: &Path) -> anyhow::Result<Self> {
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
        let exe = std::env::current_exe()?;
        let dir = work.join(format!("engine-{}", addr.port()));
        let child = spawn(Command::new(exe).arg("__serve").arg(addr.to_string()).arg(dir))?;
        wait_listening(addr).await?;
        let client = reqwest::Client::new();
        client
            .post(format!("http://{addr}/"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "Action=CreateRole&Version=2010-05-08&RoleName=bench&AssumeRolePolicyDocument={}",
                engine::iam::percent_encode(engine::iam::LAMBDA_TRUST_POLICY)
            ))
            .send()
            .await?
            .error_for_status()?;
        client
            .post(format!("http://{addr}/"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "Action=AttachRolePolicy&Version=2010-05-08&RoleName=bench&PolicyArn={}",
                engine::iam::percent_encode(engine::iam::BASIC_EXECUTION_POLICY)
            ))
            .send()
            .await?
            .error_for_status()?;
        Ok(Self { child, addr, client, code: zip_b64()? })
    }

    /// Creates the handler as `name`; returns its invoke URL.
    async fn create(&self, name: &str) -> anyhow::Result<String> {
        let body = serde_json::json!({
            "FunctionName": name, "Runtime": "python3.12", "Handler": "lambda_function.lambda_handler",
            "Role": "arn:aws:iam::000000000000:role/bench", "Code": { "ZipFile": self.code },
        });
        let addr = self.addr;
        self.client
            .post(format!("http://{addr}/2015-03-31/functions"))
            .json(&body)
            .send()
            .await?
            .error_for_status()?;
        Ok(format!("http://{addr}/2015-03-31/functions/{name}/invocations"))
    }
}

async fn bench_engine(work: &Path, requests: usize) -> anyhow::Result<Report> {
    let under_test = EngineUnderTest::start(work).await?;
    let (addr, client) = (under_test.addr, &under_test.client);
    let mut report = Report::default();
    // Cold: the first invoke of a function with no environment yet.
    let mut colds = Vec::new();
    for n in 0..20 {
        let url = under_test.create(&format!("cold-{n}")).await?;
        let t = Instant::now();
        invoke(client, &url).await?;
        colds.push(t.elapsed());
    }
    colds.sort();
    report.cold_p50_ms = percentile(&colds, 0.5);
    // Delete them (and their environments), so the memory reading is one warm function's, as RIE's.
    for n in 0..20 {
        client
            .delete(format!("http://{addr}/2015-03-31/functions/cold-{n}"))
            .send()
            .await?
            .error_for_status()?;
    }
    let url = under_test.create("warm").await?;
    measure_warm(&url, requests, &mut report).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    report.idle_rss_mb = rss_kb(under_test.child.0.id()) as f64 / 1024.0;
    measure_concurrent(&url, &mut report).await?;

    // The same function through a public Function URL (path form), against a direct Invoke.
    let created: serde_json::Value = client
        .post(format!("http://{addr}/2021-10-31/functions/warm/url"))
        .json(&serde_json::json!({ "AuthType": "NONE" }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    for statement in [
        serde_json::json!({ "StatementId": "url", "Action": "lambda:InvokeFunctionUrl", "Principal": "*", "FunctionUrlAuthType": "NONE" }),
        serde_json::json!({ "StatementId": "invoke", "Action": "lambda:InvokeFunction", "Principal": "*", "InvokedViaFunctionUrl": true }),
    ] {
        client
            .post(format!("http://{addr}/2015-03-31/functions/warm/policy"))
            .json(&statement)
            .send()
            .await?
            .error_for_status()?;
    }
    let function_url = created["FunctionUrl"].as_str().context("FunctionUrl")?;
    let id = function_url.trim_start_matches("http://").split('.').next().context("url id")?;
    let mut url_report = Report::default();
    measure_warm(&format!("http://{addr}/lambda-url/{id}/"), requests, &mut url_report).await?;
    report.url_p50_ms = url_report.p50_ms;
    report.url_p99_ms = url_report.p99_ms;
    Ok(report)
}

fn rie_command(rie: &Path, dir: &Path, port: u16) -> Command {
    let mut command = Command::new(rie);
    command
        .current_dir(dir)
        .arg("--log-level")
        .arg("error")
        .arg("--runtime-interface-emulator-address")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--runtime-api-address")
        .arg(format!("127.0.0.1:{}", port + 1))
        .arg("python3")
        .arg("-m")
        .arg("awslambdaric")
        .arg("lambda_function.lambda_handler");
    command
}

/// The handler's directory for RIE.
fn rie_task(work: &Path) -> anyhow::Result<PathBuf> {
    let dir = work.join("rie-task");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("lambda_function.py"), HANDLER)?;
    Ok(dir)
}

/// RIE serving the handler; returns it with its invoke URL.
async fn start_rie(rie: &Path, dir: &Path) -> anyhow::Result<(Guard, String)> {
    let port = free_port()?;
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let child = spawn(&mut rie_command(rie, dir, port))?;
    wait_listening(addr).await?;
    Ok((child, format!("http://{addr}/2015-03-31/functions/function/invocations")))
}

/// Warm p50 of both, in alternating rounds, so both see the same machine: this box is a shared
/// VM whose speed drifts between runs, which back-to-back blocks would attribute to one side.
/// Returns (engine p50s, RIE p50s), one per round.
async fn interleaved(
    rie: &Path,
    work: &Path,
    rounds: usize,
    per_round: usize,
) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    let under_test = EngineUnderTest::start(work).await?;
    let engine_url = under_test.create("interleaved").await?;
    let (_rie, rie_url) = start_rie(rie, &rie_task(work)?).await?;
    let (mut engine, mut peer) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        for (url, p50s) in [(&engine_url, &mut engine), (&rie_url, &mut peer)] {
            let mut report = Report::default();
            measure_warm(url, per_round, &mut report).await?;
            p50s.push(report.p50_ms);
        }
    }
    Ok((engine, peer))
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

async fn bench_rie(rie: &Path, work: &Path, requests: usize) -> anyhow::Result<Report> {
    let dir = rie_task(work)?;
    let client = reqwest::Client::new();
    let mut report = Report::default();
    let mut colds = Vec::new();
    for _ in 0..10 {
        let port = free_port()?;
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
        let _child = spawn(&mut rie_command(rie, &dir, port))?;
        wait_listening(addr).await?;
        let t = Instant::now();
        invoke(&client, &format!("http://{addr}/2015-03-31/functions/function/invocations"))
            .await?;
        colds.push(t.elapsed());
    }
    colds.sort();
    report.cold_p50_ms = percentile(&colds, 0.5);
    let (child, url) = start_rie(rie, &dir).await?;
    measure_warm(&url, requests, &mut report).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    report.idle_rss_mb = rss_kb(child.0.id()) as f64 / 1024.0;
    measure_concurrent(&url, &mut report).await?;
    Ok(report)
}

async fn run(rie: PathBuf, requests: usize) -> anyhow::Result<()> {
    let work = std::env::temp_dir().join(format!("lambdaport-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let engine = bench_engine(&work, requests).await?;
    let peer = bench_rie(&rie, &work, requests).await?;
    let (engine_rounds, peer_rounds) = interleaved(&rie, &work, 10, 1000).await?;
    let _ = std::fs::remove_dir_all(&work);
    println!(
        "Python handler returning {{\"ok\": true}}; {requests} timed warm invokes at concurrency 1, 5 s at concurrency 8."
    );
    println!(
        "Engine cold = first invoke of a function with no environment; RIE cold = first invoke after RIE listens."
    );
    println!(
        "Idle memory = RSS of the server and its runtime processes, idle after the concurrency-1 run."
    );
    println!();
    println!("| metric | lambdaport engine | AWS RIE + awslambdaric | ratio |");
    println!("| --- | --- | --- | --- |");
    let row = |name: &str, a: f64, b: f64, unit: &str| {
        println!("| {name} | {a:.3} {unit} | {b:.3} {unit} | {:.2}x |", a / b);
    };
    row("warm latency p50", engine.p50_ms, peer.p50_ms, "ms");
    row("warm latency p99", engine.p99_ms, peer.p99_ms, "ms");
    row("throughput, concurrency 1", engine.rps_c1, peer.rps_c1, "inv/s");
    row("throughput, concurrency 8", engine.rps_c8, peer.rps_c8, "inv/s");
    println!("| failed invokes, concurrency 8 | {} | {} | |", engine.failed_c8, peer.failed_c8);
    row("cold start p50", engine.cold_p50_ms, peer.cold_p50_ms, "ms");
    row("idle memory", engine.idle_rss_mb, peer.idle_rss_mb, "MB");
    println!();
    println!("| Function URL round trip (engine) | URL | direct Invoke | ratio |");
    println!("| --- | --- | --- | --- |");
    row("p50", engine.url_p50_ms, engine.p50_ms, "ms");
    row("p99", engine.url_p99_ms, engine.p99_ms, "ms");
    println!();
    let ratios: Vec<f64> = engine_rounds.iter().zip(&peer_rounds).map(|(a, b)| a / b).collect();
    let list = |v: &[f64]| v.iter().map(|x| format!("{x:.3}")).collect::<Vec<_>>().join(" ");
    println!(
        "Warm p50, interleaved: 10 rounds of 1000 invokes each, engine then RIE in every round."
    );
    println!();
    println!("| | median of rounds | rounds |");
    println!("| --- | --- | --- |");
    println!("| engine p50 (ms) | {:.3} | {} |", median(&engine_rounds), list(&engine_rounds));
    println!("| RIE p50 (ms) | {:.3} | {} |", median(&peer_rounds), list(&peer_rounds));
    println!("| ratio | {:.2}x | {} |", median(&ratios), list(&ratios));
    Ok(())
}
