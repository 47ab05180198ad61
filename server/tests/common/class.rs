//! A class doing the guided lab at once, as browsers do it: each learner signs up and posts the
//! wizard's server functions in order (`sign_up`, `start_lab`, `lab_function`, `lab_code`,
//! `lab_settings`, `lab_url`, `lab_call`, `lab_logs`, `lab_confirm_logs`, `lab_validate`,
//! `lab_cleanup`), all learners at once, one HTTP client (one cookie jar) each. Shared by the
//! 50-learner test (`tests/class.rs`) and the benchmark (`examples/bench_class.rs`).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The steps, in the order a learner takes them.
pub const STEPS: [&str; 11] = [
    "sign_up",
    "start_lab",
    "lab_function",
    "lab_code",
    "lab_settings",
    "lab_url",
    "lab_call",
    "lab_logs",
    "lab_confirm_logs",
    "lab_validate",
    "lab_cleanup",
];

/// What one learner went through: each step's time, and the first failure if any.
#[derive(Debug, Default)]
pub struct Learner {
    pub times: Vec<(&'static str, Duration)>,
    /// The step that failed and why (`status: body`).
    pub failure: Option<(&'static str, String)>,
    /// 503 and 429 answers that were retried (after `Retry-After`).
    pub retries: usize,
}

/// The whole class: per learner, and the instructor's board reads while the class ran.
#[derive(Debug, Default)]
pub struct Class {
    pub learners: Vec<Learner>,
    pub wall: Duration,
    /// How long each of the instructor's board reads (`list_labs`, as the board polls) took.
    pub board: Vec<Duration>,
    /// Board reads that did not answer 200, with the first one's answer.
    pub board_failures: (usize, Option<String>),
}

impl Class {
    /// Learners who finished every step.
    pub fn finished(&self) -> usize {
        self.learners.iter().filter(|l| l.failure.is_none()).count()
    }

    /// Failures by cause (step and the answer's first line), with counts.
    pub fn failures(&self) -> BTreeMap<String, usize> {
        let mut causes = BTreeMap::new();
        for (step, why) in self.learners.iter().filter_map(|l| l.failure.as_ref()) {
            let line: String = why.lines().next().unwrap_or_default().chars().take(160).collect();
            *causes.entry(format!("{step}: {line}")).or_default() += 1;
        }
        causes
    }

    /// Per step: (step, count, p50, p95, max), in the learners' order.
    pub fn percentiles(&self) -> Vec<(&'static str, usize, Duration, Duration, Duration)> {
        STEPS
            .iter()
            .map(|step| {
                let mut times: Vec<Duration> = self
                    .learners
                    .iter()
                    .flat_map(|l| l.times.iter())
                    .filter(|(s, _)| s == step)
                    .map(|(_, t)| *t)
                    .collect();
                times.sort();
                let at = |q: f64| {
                    if times.is_empty() {
                        Duration::ZERO
                    } else {
                        times[((times.len() - 1) as f64 * q).round() as usize]
                    }
                };
                (*step, times.len(), at(0.5), at(0.95), times.last().copied().unwrap_or_default())
            })
            .collect()
    }

    /// The instructor board's reads: (count, p50, p95, max).
    #[cfg_attr(
        test,
        expect(dead_code, reason = "the benchmark reports it; the test has no instructor")
    )]
    pub fn board_percentiles(&self) -> (usize, Duration, Duration, Duration) {
        let mut times = self.board.clone();
        times.sort();
        let at = |q: f64| {
            times
                .get(((times.len().max(1) - 1) as f64 * q).round() as usize)
                .copied()
                .unwrap_or_default()
        };
        (times.len(), at(0.5), at(0.95), times.last().copied().unwrap_or_default())
    }

    /// The per-step table, in Markdown.
    pub fn table(&self) -> String {
        let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1000.0);
        let mut out =
            String::from("| step | calls | p50 | p95 | max |\n| --- | --- | --- | --- | --- |\n");
        for (step, n, p50, p95, max) in self.percentiles() {
            out.push_str(&format!(
                "| `{step}` | {n} | {} | {} | {} |\n",
                ms(p50),
                ms(p95),
                ms(max)
            ));
        }
        out
    }
}

/// Runs `learners` learners at once against the console at `base` (which allows sign-up), the lab
/// on `target` (`connection id|region`); `prefix` keeps emails and function names apart between
/// runs. After each step a learner reads the next page for about `think` (between half and one
/// and a half of it, different for each learner and step); zero is a class of robots posting
/// each step the moment the last answered.
pub async fn run(
    base: &str,
    target: &str,
    learners: usize,
    prefix: &str,
    think: Duration,
    instructor: Option<(String, String)>,
) -> Class {
    let started = Instant::now();
    let (class_over, over) = tokio::sync::watch::channel(false);
    let board = instructor.map(|(email, password)| {
        let base = base.to_owned();
        tokio::spawn(async move { watch_board(&base, &email, &password, over).await })
    });
    let tasks: Vec<_> = (0..learners)
        .map(|n| {
            let (base, target, prefix) = (base.to_owned(), target.to_owned(), prefix.to_owned());
            tokio::spawn(async move {
                learner(&base, &target, &format!("{prefix}{n}"), Pace { think, learner: n }).await
            })
        })
        .collect();
    let mut class = Class::default();
    for task in tasks {
        class.learners.push(task.await.unwrap_or_else(|e| Learner {
            failure: Some(("task", e.to_string())),
            ..Learner::default()
        }));
    }
    class.wall = started.elapsed();
    class_over.send_replace(true);
    if let Some(board) = board {
        (class.board, class.board_failures) = board.await.unwrap_or_default();
    }
    class
}

/// An instructor with the board open while the class runs: signs in as the admin and reads the
/// board every 5 s (as the page polls), filtered to the class's course, until the class is over.
async fn watch_board(
    base: &str,
    email: &str,
    password: &str,
    mut over: tokio::sync::watch::Receiver<bool>,
) -> (Vec<Duration>, (usize, Option<String>)) {
    let client = browser();
    let post = |endpoint: &str, form: &[(&str, &str)]| {
        client.post(format!("{base}/api/{endpoint}")).header("origin", base).form(form).send()
    };
    let mut failures = (0, None);
    match post("sign_in", &[("email", email), ("password", password)]).await {
        Ok(answer) if answer.status().is_success() => {}
        other => return (Vec::new(), (1, Some(format!("sign in: {other:?}")))),
    }
    let mut reads = Vec::new();
    while !*over.borrow() {
        let started = Instant::now();
        let read =
            client.get(format!("{base}/api/list_labs")).query(&[("filters[course]", "bench")]);
        match read.send().await {
            Ok(answer) if answer.status().is_success() => {
                let _ = answer.bytes().await;
                reads.push(started.elapsed());
            }
            other => {
                failures.0 += 1;
                failures.1.get_or_insert_with(|| format!("{other:?}"));
            }
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), over.changed()).await;
    }
    (reads, failures)
}

/// How long a learner reads each page before the next step.
#[derive(Clone, Copy)]
struct Pace {
    think: Duration,
    learner: usize,
}

impl Pace {
    /// The pause after `step`: `think` scaled by 0.5 to 1.5, spread over learners and steps.
    async fn after(self, step: usize) {
        let spread = (self.learner * 37 + step * 11) % 101;
        tokio::time::sleep(self.think.mul_f64(0.5 + spread as f64 / 100.0)).await;
    }
}

/// A client as a browser tab is: its own cookie jar, redirects shown rather than followed.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client builds")
}

/// The steps that only read, which the page asks for with a GET (the others are posted).
const READS: &[&str] = &["lab_logs"];

/// One learner through the whole lab; stops at the first failure.
async fn learner(base: &str, target: &str, name: &str, pace: Pace) -> Learner {
    let client = browser();
    let mut me = Learner::default();
    let email = format!("{name}@class.test");
    let password = format!("{name}-Correct-Horse-9");
    let Some(_) =
        me.step(&client, base, "sign_up", &[("email", &email), ("password", &password)]).await
    else {
        return me;
    };
    pace.after(0).await;
    let Some(run) = me.step(&client, base, "start_lab", &[("target", target)]).await else {
        return me;
    };
    pace.after(1).await;
    let run: String = serde_json::from_str(&run).unwrap_or_default();
    let function = format!("{name}-fn");
    let form: [(&str, &str); 8] = [
        ("lab_run_id", &run),
        ("name", &function),
        ("runtime", "python3.12"),
        ("architecture", "x86_64"),
        ("role", "new"),
        ("lifecycle", "experimental"),
        ("environment", "dev"),
        ("tags", "course=bench"),
    ];
    if me.step(&client, base, "lab_function", &form).await.is_none() {
        return me;
    }
    pace.after(2).await;
    let source = "import json\n\ndef lambda_handler(event, context):\n    print(\"hello from the class\")\n    return {\"statusCode\": 200, \"headers\": {\"content-type\": \"text/plain; charset=utf-8\"}, \"body\": \"ok\"}\n";
    let id = [("lab_run_id", run.as_str())];
    let steps: [(&'static str, Vec<(&str, &str)>); 8] = [
        ("lab_code", vec![("lab_run_id", &run), ("source", source)]),
        ("lab_settings", vec![("lab_run_id", &run), ("timeout_s", "3"), ("memory_mb", "128")]),
        ("lab_url", vec![("lab_run_id", &run), ("auth_type", "NONE")]),
        ("lab_call", id.to_vec()),
        ("lab_logs", id.to_vec()),
        ("lab_confirm_logs", id.to_vec()),
        ("lab_validate", id.to_vec()),
        ("lab_cleanup", vec![("lab_run_id", &run), ("confirm", "yes")]),
    ];
    for (n, (step, form)) in steps.into_iter().enumerate() {
        if n > 0 {
            pace.after(n + 2).await;
        }
        let Some(answer) = me.step(&client, base, step, &form).await else { return me };
        // The step answered 200; the lab's own verdicts must be good too.
        let value: serde_json::Value = serde_json::from_str(&answer).unwrap_or_default();
        let bad = match step {
            "lab_call" => value["call"]["passed"] != true,
            "lab_confirm_logs" => !value.is_null(),
            "lab_validate" => value["checks"]
                .as_array()
                .is_none_or(|checks| checks.iter().any(|c| c["passed"] != true)),
            "lab_cleanup" => {
                value.as_array().is_none_or(|list| list.iter().any(|e| e["state"] != "deleted"))
            }
            _ => false,
        };
        if bad {
            me.failure = Some((step, format!("the lab says no: {answer}")));
            return me;
        }
    }
    me
}

impl Learner {
    /// Calls one server function as the wizard does (posts it, or GETs a read); its body when it
    /// answers 200. A 503 (the console is busy) or a 429 (the cloud throttled) is retried after
    /// its `Retry-After` (1 s without one), as the page does.
    async fn step(
        &mut self,
        client: &reqwest::Client,
        base: &str,
        step: &'static str,
        form: &[(&str, &str)],
    ) -> Option<String> {
        let started = Instant::now();
        loop {
            let url = format!("{base}/api/{step}");
            let request = if READS.contains(&step) {
                client.get(url).query(form)
            } else {
                client.post(url).header("origin", base).form(form)
            };
            let answer = request.send().await;
            let again = |status: reqwest::StatusCode| {
                status == reqwest::StatusCode::SERVICE_UNAVAILABLE
                    || status == reqwest::StatusCode::TOO_MANY_REQUESTS
            };
            match answer {
                Ok(response) if again(response.status()) => {
                    let wait = response
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<u64>().ok())
                        .unwrap_or(1);
                    self.retries += 1;
                    if started.elapsed() > Duration::from_secs(300) {
                        self.failure = Some((step, "503 for five minutes".into()));
                        return None;
                    }
                    tokio::time::sleep(Duration::from_secs(wait)).await;
                }
                Ok(response) => {
                    let status = response.status();
                    let body = response.text().await.unwrap_or_default();
                    self.times.push((step, started.elapsed()));
                    if status.is_success() {
                        return Some(body);
                    }
                    self.failure = Some((step, format!("{}: {body}", status.as_u16())));
                    return None;
                }
                Err(error) => {
                    self.failure = Some((step, format!("no answer: {error}")));
                    return None;
                }
            }
        }
    }
}
