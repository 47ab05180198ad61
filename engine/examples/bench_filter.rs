//! Benchmark: CloudWatch filter patterns over 100,000 log events (Lambda's plain lines, JSON lines
//! and access-log lines, mixed), each kind of pattern timed alone. Prints events/s and the time
//! for 100,000; the target is ≤ 200 ms. Numbers, not assertions.
//!
//! `cargo run --release -p engine --example bench_filter [-- EVENTS]`

use std::time::Instant;

use engine::filter_pattern::FilterPattern;

fn main() {
    let count: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let events: Vec<String> = (0..count)
        .map(|i| match i % 4 {
            0 => format!("START RequestId: {i:08x}-aaaa Version: $LATEST"),
            1 => format!(
                r#"{{"level":"{}","ms":{},"requestId":"{i:08x}","message":"order {i} handled","tags":["a","b"]}}"#,
                if i % 20 == 1 { "ERROR" } else { "INFO" },
                i % 500
            ),
            2 => format!(
                r#"10.0.{}.{} - user{} [01/Dec/2026:13:25:15 +0000] "GET /orders/{i} HTTP/1.1" {} {}"#,
                i % 255,
                i % 7,
                i % 13,
                if i % 10 == 2 { 503 } else { 200 },
                i % 4000
            ),
            _ => format!(
                "REPORT RequestId: {i:08x}-aaaa\tDuration: {}.12 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB",
                i % 90
            ),
        })
        .collect();
    println!("{count} events, {} bytes", events.iter().map(String::len).sum::<usize>());
    println!("{:<60} {:>8} {:>10} {:>14}", "pattern", "matched", "ms", "events/s");
    for pattern in [
        "",
        "ERROR",
        "REPORT \"Max Memory Used\" -START",
        "?ERROR ?503",
        "%Duration: 8[0-9]\\.%",
        "{ $.level = \"ERROR\" && $.ms > 100 }",
        "{ $.requestId = 0000* || $.tags[1] = \"b\" }",
        "[ip, dash, user, ..., status = 5*, bytes > 1000]",
    ] {
        let parsed = FilterPattern::parse(pattern).expect("a valid pattern");
        let started = Instant::now();
        let matched = events.iter().filter(|e| parsed.matches(e)).count();
        let elapsed = started.elapsed();
        println!(
            "{:<60} {matched:>8} {:>10.1} {:>14.0}",
            if pattern.is_empty() { "(empty: everything)" } else { pattern },
            elapsed.as_secs_f64() * 1000.0,
            count as f64 / elapsed.as_secs_f64()
        );
    }
}
