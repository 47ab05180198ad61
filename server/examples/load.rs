//! A constant-rate (open-loop) HTTP load generator, like wrk2: request `i` is due at
//! `start + i / rate` whatever happened to the ones before, and its latency is measured from when
//! it was due, so a slow server cannot hide its queueing (no coordinated omission).
//!
//! `cargo run --release -p server --example load -- --rate 200 --duration 20 --header 'Cookie: …' URL…`
//! prints one Markdown row per URL: offered and achieved rate, p50/p90/p99/max, errors.

use std::time::{Duration, Instant};

fn main() -> anyhow::Result<()> {
    use anyhow::Context as _;
    let (mut rate, mut seconds) = (200.0_f64, 20.0_f64);
    let (mut headers, mut urls) = (Vec::new(), Vec::new());
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rate" => rate = args.next().context("--rate REQUESTS_PER_SECOND")?.parse()?,
            "--duration" => seconds = args.next().context("--duration SECONDS")?.parse()?,
            "--header" => {
                let header = args.next().context("--header 'Name: value'")?;
                let (name, value) = header.split_once(':').context("--header 'Name: value'")?;
                headers.push((name.trim().to_owned(), value.trim().to_owned()));
            }
            _ => urls.push(arg),
        }
    }
    anyhow::ensure!(!urls.is_empty(), "give at least one URL");
    // One thread: the generator must not take the cores from the server it measures.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        println!(
            "| request | offered req/s | achieved req/s | p50 | p90 | p99 | max | errors | CPU steal |"
        );
        println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        for url in &urls {
            let row = drive(url, &headers, rate, Duration::from_secs_f64(seconds)).await?;
            println!("{row}");
        }
        anyhow::Ok(())
    })
}

async fn drive(
    url: &str,
    headers: &[(String, String)],
    rate: f64,
    duration: Duration,
) -> anyhow::Result<String> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build()?;
    let cpu_before = cpu_times();
    let mut request = client.get(url);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    // Warm up: connections, caches, the first page render.
    for _ in 0..20 {
        request.try_clone().expect("a GET clones").send().await?.bytes().await?;
    }
    let total = (rate * duration.as_secs_f64()) as usize;
    let interval = Duration::from_secs_f64(1.0 / rate);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..total {
        let due = started + interval * u32::try_from(i)?;
        tokio::time::sleep_until(due.into()).await;
        let request = request.try_clone().expect("a GET clones");
        tasks.spawn(async move {
            let ok = match request.send().await {
                Ok(response) => response.status().is_success() && response.bytes().await.is_ok(),
                Err(_) => false,
            };
            (due.elapsed(), ok)
        });
    }
    let mut latencies = Vec::with_capacity(total);
    let mut errors = 0;
    while let Some(done) = tasks.join_next().await {
        let (latency, ok) = done?;
        latencies.push(latency);
        errors += usize::from(!ok);
    }
    let elapsed = started.elapsed().as_secs_f64();
    // On a shared VM the hypervisor may take the CPU away ("steal"): numbers from a run with
    // much steal say more about the neighbours than about the server.
    let steal = match (cpu_before, cpu_times()) {
        (Some((total0, steal0)), Some((total1, steal1))) if total1 > total0 => {
            format!("{:.0}%", 100.0 * (steal1 - steal0) as f64 / (total1 - total0) as f64)
        }
        _ => "?".to_owned(),
    };
    latencies.sort();
    let ms = |p: f64| {
        let index = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[index].as_secs_f64() * 1000.0
    };
    let path = url.find("://").and_then(|i| url[i + 3..].find('/').map(|j| &url[i + 3 + j..]));
    Ok(format!(
        "| `{}` | {rate:.0} | {:.0} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {errors} | {steal} |",
        path.unwrap_or(url),
        total as f64 / elapsed,
        ms(0.50),
        ms(0.90),
        ms(0.99),
        ms(1.0),
    ))
}

/// All CPU time and its steal part so far, in clock ticks (the `cpu` line of /proc/stat).
fn cpu_times() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> =
        stat.lines().next()?.split_whitespace().skip(1).filter_map(|f| f.parse().ok()).collect();
    Some((fields.iter().take(8).sum(), *fields.get(7)?))
}
