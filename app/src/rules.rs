//! Lambda's rules and prices as the console explains them, in both builds (the browser checks
//! names as they are typed; the server checks again). Sources: `reference/lambda-protocols.md`
//! §1.6 (names) and §8 (us-east-1 on-demand pricing).

/// Why `name` cannot be a function name, in words, or `None` when Lambda accepts it: 1–64
/// characters, letters, digits, hyphens and underscores.
pub fn function_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("Enter a name.".to_owned());
    }
    if name.chars().count() > 64 {
        return Some(format!("Use at most 64 characters (this has {}).", name.chars().count()));
    }
    let bad: String = name
        .chars()
        .filter(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        .fold(String::new(), |mut seen, c| {
            if !seen.contains(c) {
                seen.push(c);
            }
            seen
        });
    (!bad.is_empty()).then(|| {
        let shown: Vec<String> = bad
            .chars()
            .map(|c| if c == ' ' { "space".to_owned() } else { format!("'{c}'") })
            .collect();
        format!("Use only letters, digits, hyphens and underscores (not {}).", shown.join(", "))
    })
}

use model::prices::PER_REQUEST;
pub use model::prices::{Arch, cost_of};

/// What a million invocations cost in US dollars at `memory_mb` when each runs `duration_ms`
/// (billed rounded up to the millisecond), before the free tier, in us-east-1's first tier.
pub fn cost_per_million(memory_mb: u32, duration_ms: f64, arch: Arch) -> f64 {
    let billed_s = duration_ms.max(1.0).ceil() / 1000.0;
    let gb_seconds = f64::from(memory_mb) / 1024.0 * billed_s;
    1_000_000.0 * (PER_REQUEST + gb_seconds * arch.per_gb_second())
}

/// What a line of a Lambda log stream is: `init`, `start`, `end`, `report`, `error` (a timeout
/// or an error the runtime reported) or `app` (the function's own output).
pub fn log_line_kind(message: &str) -> &'static str {
    let first = message.split_whitespace().next().unwrap_or_default();
    match first {
        "INIT_START" => "init",
        "START" => "start",
        "END" => "end",
        "REPORT" => "report",
        _ if message.contains("Task timed out after")
            || message.starts_with("[ERROR]")
            || message.contains("Runtime.") =>
        {
            "error"
        }
        _ => "app",
    }
}

/// What a kind of log line means, for newcomers.
pub fn log_line_meaning(kind: &str) -> &'static str {
    match kind {
        "init" => {
            "A new execution environment started (a cold start): the runtime loads your code."
        }
        "start" => "An invocation begins; its request id ties the lines together.",
        "end" => "The invocation finished.",
        "report" => {
            "What it cost: duration, billed duration, memory size and the most memory used (and the init duration after a cold start)."
        }
        "error" => "Something went wrong: the function raised, crashed or timed out.",
        _ => "Your function's own output (print or console.log).",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_are_told_apart() {
        assert_eq!(log_line_kind("INIT_START Runtime Version: python:3.12.v1"), "init");
        assert_eq!(log_line_kind("START RequestId: 1 Version: $LATEST"), "start");
        assert_eq!(log_line_kind("END RequestId: 1"), "end");
        assert_eq!(log_line_kind("REPORT RequestId: 1\tDuration: 1.00 ms"), "report");
        assert_eq!(
            log_line_kind("2026-11-28T10:00:00Z 1 Task timed out after 1.00 seconds"),
            "error"
        );
        assert_eq!(log_line_kind("hello from the handler"), "app");
        assert_eq!(log_line_kind(""), "app");
    }

    #[test]
    fn names_follow_lambdas_rules() {
        assert_eq!(function_name_problem("lambda-url-lab_1"), None);
        assert_eq!(function_name_problem(&"a".repeat(64)), None);
        assert!(function_name_problem("").is_some());
        assert!(function_name_problem(&"a".repeat(65)).is_some_and(|p| p.contains("65")));
        assert_eq!(
            function_name_problem("my func.v2 v3").as_deref(),
            Some("Use only letters, digits, hyphens and underscores (not space, '.').")
        );
        assert!(function_name_problem("café").is_some(), "ASCII letters only");
    }

    #[test]
    fn a_million_lab_invocations_cost_what_aws_says() {
        // 128 MB for 100 ms: 12,500 GB-s x $0.0000166667 = $0.2083, plus $0.20 of requests.
        let cost = cost_per_million(128, 100.0, Arch::X86_64);
        assert!((cost - 0.408_33).abs() < 0.000_1, "{cost}");
        // Billing rounds up to the millisecond: 1.2 ms bills as 2 ms.
        assert_eq!(
            cost_per_million(128, 1.2, Arch::X86_64),
            cost_per_million(128, 2.0, Arch::X86_64)
        );
        assert!(cost_per_million(128, 100.0, Arch::Arm64) < cost);
        // The lab's 3 s timeout at 128 MB, worst case: 375,000 GB-s.
        let worst = cost_per_million(128, 3000.0, Arch::X86_64);
        assert!((worst - 6.450_01).abs() < 0.001, "{worst}");
    }
}
