//! A class doing the guided lab at once against a running console: `N` learners sign up and post
//! every step of the wizard, all at once (one HTTP client each). Prints per-step p50/p95/max,
//! failures by cause, the wall time and 503 retries. `scripts/bench-class N` starts the release
//! console on a fresh database and checks with the AWS CLI that nothing is left afterwards.
//!
//! `cargo run --release -p server --example bench_class -- URL TARGET N [THINK]`, where TARGET is
//! the lab's `connection id|region` and THINK the seconds a learner reads each page (0: none).

#[path = "../tests/common/class.rs"]
mod class;

fn main() -> anyhow::Result<()> {
    use anyhow::Context as _;
    let mut args = std::env::args().skip(1);
    let base = args.next().context("the console's URL")?;
    let target = args.next().context("the lab's target, `connection id|region`")?;
    let learners: usize = args.next().context("how many learners")?.parse()?;
    let think = std::time::Duration::from_secs_f64(args.next().map_or(Ok(0.0), |s| s.parse())?);
    // The admin's one-time password, when the caller has it: an instructor watches the board.
    let instructor = std::env::var("ADMIN_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
        .map(|password| ("admin@lambdaport.local".to_owned(), password));
    let prefix = format!("c{}x", std::process::id());
    // The learners' clients share two threads with nothing else: the console has the cores.
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    let class = runtime.block_on(class::run(&base, &target, learners, &prefix, think, instructor));
    println!("{}", class.table());
    let retries: usize = class.learners.iter().map(|l| l.retries).sum();
    println!(
        "{learners} learners: {} finished, {} failed, {retries} busy or throttled answers retried, wall {:.1} s",
        class.finished(),
        learners - class.finished(),
        class.wall.as_secs_f64()
    );
    let (reads, p50, p95, max) = class.board_percentiles();
    if reads > 0 || class.board_failures.0 > 0 {
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
        println!(
            "Instructor board (read every 5 s during the class): {reads} reads, p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms, {} failed{}",
            ms(p50),
            ms(p95),
            ms(max),
            class.board_failures.0,
            class.board_failures.1.as_deref().map(|f| format!(" (first: {f})")).unwrap_or_default()
        );
    }
    for (cause, count) in class.failures() {
        println!("  {count} × {cause}");
    }
    if let Some((step, why)) = class.learners.iter().find_map(|l| l.failure.as_ref()) {
        println!("\nThe first failure in full ({step}):\n{why}");
    }
    anyhow::ensure!(class.finished() == learners, "not every learner finished");
    Ok(())
}
