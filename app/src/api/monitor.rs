//! The Monitor tab: a function's invocations over a range, read from its REPORT lines, and its
//! throttles and asynchronous queue from CloudWatch metrics, in buckets — for everyone who may
//! read the function (numbers only, never the lines).

use leptos::prelude::*;

use crate::error::ApiError;
use crate::types::MonitorTabView;

/// The Monitor tab for `range` (one of `MONITOR_RANGES`; the last hour by default).
#[server(endpoint = "monitor_tab")]
pub async fn monitor_tab(
    function_id: String,
    range: Option<String>,
) -> Result<MonitorTabView, ApiError> {
    use super::ssr::*;
    use backend::accounts::Role;
    let result = async {
        let account = require(Role::ALL)?;
        let pool = &context()?.pool;
        let detail = super::catalog::ssr::readable(pool, &account, &function_id).await?;
        let connection =
            backend::connections::get(pool, detail.connection_id).await.map_err(fail)?;
        let (range, _, step_s) = crate::types::MONITOR_RANGES
            .iter()
            .copied()
            .find(|(value, ..)| Some(*value) == range.as_deref())
            .unwrap_or(crate::types::MONITOR_RANGES[0]);
        let step_ms = step_s * 1000;
        let now_ms =
            i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
                .unwrap_or(i64::MAX);
        let buckets = match range {
            "1h" => 60,
            "3h" => 36,
            "12h" => 24,
            "24h" => 24,
            _ => 28,
        };
        // Whole buckets, the last one holding now.
        let end_ms = now_ms.div_euclid(step_ms) * step_ms + step_ms - 1;
        let start_ms = end_ms + 1 - buckets * step_ms;
        let read = backend::monitor::samples(&connection, &detail, start_ms, end_ms)
            .await
            .map_err(fail)?;
        // Throttles and the asynchronous queue are CloudWatch metrics: a connection that may
        // read the logs but not the metrics still gets the rest of the tab.
        let counted =
            backend::monitor::counted(&connection, &detail, start_ms, end_ms, step_ms).await;
        let architecture =
            backend::monitor::architecture(pool, detail.entry.function_id).await.map_err(fail)?;
        let window = ssr::Window { range, start_ms, end_ms, step_ms };
        Ok(ssr::view(window, read, counted.map_err(|e| e.to_string()), architecture))
    }
    .await;
    settle(result, |_| None).await
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! From REPORT-line samples and CloudWatch's counts to the tab's view: buckets, totals, a
    //! month's cost.

    use backend::monitor::{self, Counted, Samples};

    use crate::rules::{Arch, cost_of};
    use crate::types::{CostView, MonitorBucketView, MonitorTabView};

    /// `14:05` in UTC.
    fn label(at_ms: i64, step_ms: i64) -> String {
        let at = time::OffsetDateTime::from_unix_timestamp(at_ms / 1000)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        if step_ms >= 6 * 3_600_000 {
            format!("{:02}-{:02} {:02}:00", u8::from(at.month()), at.day(), at.hour())
        } else {
            format!("{:02}:{:02}", at.hour(), at.minute())
        }
    }

    /// The range a reading covers, in buckets of `step_ms`.
    #[derive(Clone, Copy, Debug)]
    pub struct Window<'a> {
        pub range: &'a str,
        pub start_ms: i64,
        pub end_ms: i64,
        pub step_ms: i64,
    }

    pub fn view(
        window: Window<'_>,
        read: Samples,
        counted: Result<Vec<Counted>, String>,
        architecture: String,
    ) -> MonitorTabView {
        let Window { range, start_ms, end_ms, step_ms } = window;
        let (counted, metrics_error) = match counted {
            Ok(counted) => (counted, None),
            Err(error) => (Vec::new(), Some(error)),
        };
        let samples = &read.samples;
        let mut durations: Vec<f64> = samples.iter().map(|s| s.duration_ms).collect();
        let inits: Vec<f64> = samples.iter().filter_map(|s| s.init_ms).collect();
        let window_s = (end_ms + 1 - start_ms) as f64 / 1000.0;
        let month = 30.0 * 24.0 * 3600.0 / window_s;
        let cost = (!samples.is_empty()).then(|| {
            let arch = if architecture == "arm64" { Arch::Arm64 } else { Arch::X86_64 };
            let (run, init) = monitor::gb_seconds(samples);
            let requests = samples.len() as f64 * month;
            let (request_cost, duration_cost) = cost_of(requests, run * month, arch);
            let (_, init_cost) = cost_of(0.0, init * month, arch);
            CostView {
                requests,
                gb_seconds: run * month,
                init_gb_seconds: init * month,
                request_cost,
                duration_cost,
                init_cost,
                total: request_cost + duration_cost + init_cost,
            }
        });
        MonitorTabView {
            range: range.to_owned(),
            start_ms,
            end_ms,
            step_ms,
            buckets: monitor::buckets(samples, start_ms, end_ms, step_ms)
                .into_iter()
                .take(usize::try_from((end_ms + 1 - start_ms) / step_ms).unwrap_or(0))
                .zip(counted.iter().cloned().chain(std::iter::repeat(Counted::default())))
                .map(|(b, c)| MonitorBucketView {
                    label: label(b.start_ms, step_ms),
                    start_ms: b.start_ms,
                    invocations: b.invocations,
                    errors: b.errors,
                    cold_starts: b.cold_starts,
                    p50_ms: b.p50_ms,
                    p90_ms: b.p90_ms,
                    p99_ms: b.p99_ms,
                    max_init_ms: b.max_init_ms,
                    peak_concurrency: b.peak_concurrency,
                    throttles: c.throttles,
                    async_received: c.async_received,
                    async_dropped: c.async_dropped,
                    async_max_age_ms: c.async_max_age_ms,
                })
                .collect(),
            throttles: counted.iter().map(|c| c.throttles).sum(),
            async_received: counted.iter().map(|c| c.async_received).sum(),
            async_dropped: counted.iter().map(|c| c.async_dropped).sum(),
            metrics_error,
            invocations: u32::try_from(samples.len()).unwrap_or(u32::MAX),
            errors: u32::try_from(samples.iter().filter(|s| s.failed).count()).unwrap_or(0),
            cold_starts: u32::try_from(inits.len()).unwrap_or(0),
            p50_ms: monitor::quantile(&mut durations, 0.5),
            p90_ms: monitor::quantile(&mut durations, 0.9),
            p99_ms: monitor::quantile(&mut durations, 0.99),
            avg_init_ms: (!inits.is_empty())
                .then(|| inits.iter().sum::<f64>() / inits.len() as f64),
            architecture,
            cost,
            memory_hint: monitor::memory_hint(samples),
            truncated: read.truncated,
            no_group: read.no_group,
        }
    }
}
