//! What the catalogued functions cost, per function and per team: requests and GB-seconds from
//! CloudWatch's `AWS/Lambda` metrics (`Invocations` and `Duration` sums; the same GetMetricData
//! on the engine and on AWS, up to 500 metrics a call), priced with AWS's published on-demand
//! prices ([`model::prices`], as data with their date) at each function's memory size and
//! architecture. Two windows of 30 days are read — the last one, taken as a month, and the one
//! before — for the month's cost after the free tier (per account: a connection) and the
//! biggest movers.
//!
//! What the metrics do not say is not guessed: the `Duration` metric is the handler's time
//! without the INIT phase, which AWS also bills since August 2025, so cold starts cost a little
//! more than shown (a function's Monitor tab prices its REPORT lines, INIT included); billed
//! duration rounds each invocation up to the millisecond, which sums of durations cannot.

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use model::prices::{self, Arch};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::cloud::failed;
use crate::connections;
use crate::error::Result;

/// The window: the last 30 days stand for a month.
pub const DAYS: i64 = 30;

/// GetMetricData's limit on metrics a call; each function needs two.
const FUNCTIONS_PER_CALL: usize = 250;

/// One function's use and cost in the window and the one before.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FunctionCost {
    pub function_id: Uuid,
    pub name: String,
    pub team: Option<String>,
    pub connection: String,
    pub region: String,
    pub architecture: String,
    pub memory_mb: i32,
    pub requests: f64,
    pub gb_seconds: f64,
    /// Before the free tier, in US dollars.
    pub cost: f64,
    pub previous_cost: f64,
    /// Read from the REPORT lines of the dearest functions only ([`LOOKED_AT`]): what their
    /// cold starts' INIT phase cost (in `cost` too), and a smaller memory size that would do.
    pub looked_at: Option<Looked>,
}

/// What a function's REPORT lines of the window say beyond the metrics.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Looked {
    /// The INIT phase of cold starts (billed since August 2025), and what it costs in US dollars.
    pub init_gb_seconds: f64,
    pub init_cost: f64,
    /// (memory size, the most any invocation used, a size with headroom), when much smaller
    /// would do (see `monitor::memory_hint`).
    pub memory: Option<(u32, u32, u32)>,
    /// What the smaller size would save over the window, the durations staying the same (an
    /// estimate: less memory also means less CPU, which may lengthen them).
    pub saving: f64,
}

/// How many of the dearest functions have their logs read for INIT and memory.
pub const LOOKED_AT: usize = 10;

/// A team's (or the functions without one: `team` None) sum.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TeamCost {
    pub team: Option<String>,
    pub functions: usize,
    pub requests: f64,
    pub gb_seconds: f64,
    pub cost: f64,
    pub previous_cost: f64,
}

/// The report: every function with its use, by team, the totals and the free tier.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    pub functions: Vec<FunctionCost>,
    pub teams: Vec<TeamCost>,
    /// Before the free tier.
    pub total: f64,
    pub previous_total: f64,
    /// What the free tier takes off, summed over the connections (accounts).
    pub free_tier: f64,
    /// `total` less the free tier: the month's bill at this rate.
    pub monthly: f64,
    /// Connections and regions whose metrics could not be read, with why: their functions show
    /// no use rather than a guess.
    pub unread: Vec<String>,
}

struct Catalogued {
    function_id: Uuid,
    name: String,
    team: Option<String>,
    connection_id: Uuid,
    connection: String,
    region: String,
    architecture: Option<String>,
    memory_mb: Option<i32>,
}

/// Reads the metrics of every catalogued function that exists for the last [`DAYS`] days and
/// the [`DAYS`] before, and prices them.
pub async fn report(pool: &PgPool) -> Result<Report> {
    let catalogued = sqlx::query_as!(
        Catalogued,
        r#"select f.function_id, f.name, t.name as "team?", f.connection_id, c.name as connection,
                  f.region, f.architecture, f.memory_mb
           from catalog_function f
           join connection c on c.connection_id = f.connection_id
           left join team t on t.team_id = f.team_id
           where f.gone_at is null and f.archived_at is null
           order by f.connection_id, f.region, f.name"#
    )
    .fetch_all(pool)
    .await?;
    let now_ms = i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
        .unwrap_or(i64::MAX);
    let window_ms = DAYS * 86_400_000;
    let mut report = Report::default();
    let mut groups: BTreeMap<(Uuid, String), Vec<Catalogued>> = BTreeMap::new();
    for function in catalogued {
        groups.entry((function.connection_id, function.region.clone())).or_default().push(function);
    }
    for ((connection_id, region), functions) in groups {
        let connection = connections::get(pool, connection_id).await?;
        let client = connection.metrics(&region).await;
        for chunk in functions.chunks(FUNCTIONS_PER_CALL) {
            let used = match read_use(&client, chunk, now_ms - window_ms, window_ms).await {
                Ok(used) => used,
                Err(error) => {
                    report.unread.push(format!("{} · {region}: {error}", connection.name));
                    vec![[(0.0, 0.0); 2]; chunk.len()]
                }
            };
            for (function, [previous, current]) in chunk.iter().zip(used) {
                let memory_mb = function.memory_mb.unwrap_or(128);
                let architecture = function.architecture.clone().unwrap_or_else(|| "x86_64".into());
                let arch = Arch::of(&architecture);
                let gb = f64::from(memory_mb) / 1024.0;
                let price = |(requests, duration_ms): (f64, f64)| {
                    let (r, d) = prices::cost_of(requests, duration_ms / 1000.0 * gb, arch);
                    r + d
                };
                let gb_seconds = current.1 / 1000.0 * gb;
                report.functions.push(FunctionCost {
                    function_id: function.function_id,
                    name: function.name.clone(),
                    team: function.team.clone(),
                    connection: function.connection.clone(),
                    region: function.region.clone(),
                    architecture,
                    memory_mb,
                    requests: current.0,
                    gb_seconds,
                    cost: price(current),
                    previous_cost: price(previous),
                    looked_at: None,
                });
            }
        }
    }
    report.functions.sort_by(|a, b| b.cost.total_cmp(&a.cost).then_with(|| a.name.cmp(&b.name)));
    for function in report.functions.iter_mut().take(LOOKED_AT).filter(|f| f.requests > 0.0) {
        match look(pool, function, now_ms - window_ms, now_ms).await {
            Ok(looked) => {
                function.cost += looked.init_cost;
                function.looked_at = Some(looked);
            }
            Err(error) => {
                tracing::warn!(function = %function.name, %error, "its REPORT lines were not read")
            }
        }
    }
    // The free tier is per account: a connection.
    let mut by_account: BTreeMap<&str, (f64, f64, f64)> = BTreeMap::new();
    for f in &report.functions {
        let account = by_account.entry(f.connection.as_str()).or_default();
        let gb_seconds = f.gb_seconds + f.looked_at.as_ref().map_or(0.0, |l| l.init_gb_seconds);
        account.0 += f.requests;
        match Arch::of(&f.architecture) {
            Arch::X86_64 => account.1 += gb_seconds,
            Arch::Arm64 => account.2 += gb_seconds,
        }
    }
    report.free_tier = by_account.values().map(|&(r, x86, arm)| free_tier(r, x86, arm)).sum();
    report.total = report.functions.iter().map(|f| f.cost).sum();
    report.previous_total = report.functions.iter().map(|f| f.previous_cost).sum();
    // Summed two ways, the two may differ in the last bits: under a nanodollar is nothing.
    report.monthly = (report.total - report.free_tier).max(0.0);
    if report.monthly < 1e-9 {
        report.monthly = 0.0;
    }
    let mut teams: BTreeMap<Option<String>, TeamCost> = BTreeMap::new();
    for f in &report.functions {
        let team = teams
            .entry(f.team.clone())
            .or_insert_with(|| TeamCost { team: f.team.clone(), ..TeamCost::default() });
        team.functions += 1;
        team.requests += f.requests;
        team.gb_seconds += f.gb_seconds;
        team.cost += f.cost;
        team.previous_cost += f.previous_cost;
    }
    report.teams = teams.into_values().collect();
    report.teams.sort_by(|a, b| b.cost.total_cmp(&a.cost));
    report.functions.sort_by(|a, b| b.cost.total_cmp(&a.cost).then_with(|| a.name.cmp(&b.name)));
    Ok(report)
}

/// Reads one function's REPORT lines of the window: its INIT cost and a memory size that would do.
async fn look(
    pool: &PgPool,
    function: &FunctionCost,
    start_ms: i64,
    end_ms: i64,
) -> Result<Looked> {
    let detail = crate::catalog::detail(pool, function.function_id).await?;
    let connection = connections::get(pool, detail.connection_id).await?;
    let samples = crate::monitor::samples(&connection, &detail, start_ms, end_ms).await?.samples;
    let per_gb_second = Arch::of(&function.architecture).per_gb_second();
    let (_, init_gb_seconds) = crate::monitor::gb_seconds(&samples);
    let memory = crate::monitor::memory_hint(&samples);
    let duration_cost = function.gb_seconds * per_gb_second;
    let saving = memory.map_or(0.0, |(size, _, suggested)| {
        duration_cost * (1.0 - f64::from(suggested) / f64::from(size))
    });
    Ok(Looked { init_gb_seconds, init_cost: init_gb_seconds * per_gb_second, memory, saving })
}

/// What the free tier takes off one account's month: a million requests and 400,000 GB-seconds,
/// shared by both architectures (taken off x86_64's first, the dearer).
pub fn free_tier(requests: f64, x86_gb_seconds: f64, arm_gb_seconds: f64) -> f64 {
    let free_x86 = x86_gb_seconds.min(prices::FREE_GB_SECONDS);
    let free_arm = arm_gb_seconds.min(prices::FREE_GB_SECONDS - free_x86);
    requests.min(prices::FREE_REQUESTS) * prices::PER_REQUEST
        + free_x86 * Arch::X86_64.per_gb_second()
        + free_arm * Arch::Arm64.per_gb_second()
}

/// The functions' `Invocations` and `Duration` (ms) sums in the `window_ms` before `boundary_ms`
/// and the one after: [previous, current] for each, in order. Read by the day (CloudWatch aligns
/// periods as it likes; a day is fine enough to tell the two windows apart).
async fn read_use(
    client: &aws_sdk_cloudwatch::Client,
    functions: &[Catalogued],
    boundary_ms: i64,
    window_ms: i64,
) -> Result<Vec<[(f64, f64); 2]>> {
    let query = |id: String, metric: &str, name: &str| {
        let metric = Metric::builder()
            .namespace("AWS/Lambda")
            .metric_name(metric)
            .dimensions(Dimension::builder().name("FunctionName").value(name).build())
            .build();
        let stat = MetricStat::builder().metric(metric).period(86_400).stat("Sum").build();
        MetricDataQuery::builder().id(id).metric_stat(stat).build()
    };
    let queries: Vec<MetricDataQuery> = functions
        .iter()
        .enumerate()
        .flat_map(|(i, f)| {
            [
                query(format!("i{i}"), "Invocations", &f.name),
                query(format!("d{i}"), "Duration", &f.name),
            ]
        })
        .collect();
    let mut used = vec![[(0.0, 0.0); 2]; functions.len()];
    let mut token = None;
    loop {
        let page = client
            .get_metric_data()
            .set_metric_data_queries(Some(queries.clone()))
            .start_time(DateTime::from_millis(boundary_ms - window_ms))
            // A minute past now: what was counted a moment ago is in.
            .end_time(DateTime::from_millis(boundary_ms + window_ms + 60_000))
            .set_next_token(token.take())
            .send()
            .await
            .map_err(failed("GetMetricData"))?;
        for result in page.metric_data_results() {
            let Some(id) = result.id() else { continue };
            let (kind, index) = id.split_at(1);
            let Some(slot) = index.parse::<usize>().ok().and_then(|i| used.get_mut(i)) else {
                continue;
            };
            for (at, value) in result.timestamps().iter().zip(result.values()) {
                let current = at.to_millis().unwrap_or(0) >= boundary_ms;
                let window = &mut slot[usize::from(current)];
                match kind {
                    "i" => window.0 += value,
                    _ => window.1 += value,
                }
            }
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(used);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_free_tier_takes_a_million_requests_and_400k_gb_seconds_once_per_account() {
        // Under it: all of it is free.
        let (r, d) = prices::cost_of(1_000.0, 2_000.0, Arch::X86_64);
        assert!((free_tier(1_000.0, 2_000.0, 0.0) - (r + d)).abs() < 1e-12);
        // Over it: a million requests ($0.20) and 400,000 GB-s, x86_64's first.
        let most = 0.2 + 400_000.0 * Arch::X86_64.per_gb_second();
        assert!((free_tier(5e6, 500_000.0, 100_000.0) - most).abs() < 1e-9);
        let split = 0.2
            + 300_000.0 * Arch::X86_64.per_gb_second()
            + 100_000.0 * Arch::Arm64.per_gb_second();
        assert!((free_tier(2e6, 300_000.0, 250_000.0) - split).abs() < 1e-9);
    }
}
