//! The Monitor tab: invocations and errors, duration percentiles, cold starts and init duration,
//! peak concurrency, throttles and the asynchronous queue over a chosen range, as server-rendered SVG (each bar and point says its numbers on hover,
//! without JavaScript), beside a month's cost at the observed rate and a memory hint.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::monitor::monitor_tab;
use crate::error::error_fallback;
use crate::types::{MONITOR_RANGES, MonitorBucketView, MonitorTabView};

#[component]
pub fn MonitorTab() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let tab = Resource::new(
        move || (params.with(|p| p.get("id").unwrap_or_default()), query.with(|q| q.get("range"))),
        |(id, range)| monitor_tab(id, range),
    );
    view! {
        <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Reading the invocations…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move {
                    let function_id = params.with(|p| p.get("id").unwrap_or_default());
                    tab.await.map(|m| view! { <Monitor m function_id /> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

fn ms(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{v:.1} ms"))
}

fn dollars(value: f64) -> String {
    if value < 0.01 && value > 0.0 { format!("${value:.4}") } else { format!("${value:.2}") }
}

#[component]
fn Monitor(m: MonitorTabView, function_id: String) -> impl IntoView {
    let error_rate = if m.invocations == 0 {
        String::new()
    } else {
        format!(" ({:.1}%)", f64::from(m.errors) * 100.0 / f64::from(m.invocations))
    };
    let facts = vec![
        ("Invocations", m.invocations.to_string()),
        ("Errors", format!("{}{error_rate}", m.errors)),
        ("Cold starts", m.cold_starts.to_string()),
        (
            "Duration p50 / p90 / p99",
            format!("{} / {} / {}", ms(m.p50_ms), ms(m.p90_ms), ms(m.p99_ms)),
        ),
        ("Average init duration", ms(m.avg_init_ms)),
        ("Throttles", m.throttles.to_string()),
        (
            "Asynchronous events received / dropped",
            format!("{} / {}", m.async_received, m.async_dropped),
        ),
    ];
    let range = m.range.clone();
    view! {
        <section class="card" aria-labelledby="monitor-title">
            <h2 id="monitor-title">"Monitor"</h2>
            <form method="get" action=format!("/catalog/{function_id}/monitor") class="inline-form">
                <label for="monitor-range">"Range"</label>
                <select id="monitor-range" name="range">
                    {MONITOR_RANGES.iter().map(|(value, label, _)| view! {
                        <option value=*value selected=*value == range>{*label}</option>
                    }).collect_view()}
                </select>
                <button type="submit" class="btn">"Show"</button>
            </form>
            <p class="muted">"From the function's REPORT lines (and its error and timeout lines), read with CloudWatch Logs — the same on the engine and on AWS. Times in UTC."</p>
            {m.no_group.then(|| view! { <p class="empty-state">"The function has not logged yet: its log group appears at its first invocation."</p> })}
            {(!m.no_group && m.invocations == 0).then(|| view! { <p class="empty-state" data-testid="monitor-empty">"No invocations in this range."</p> })}
            {m.truncated.then(|| view! { <p class="alert alert-error" role="status">"More invocations than one reading takes (200,000 log lines): the counts are of the first ones. Choose a shorter range."</p> })}
            <dl class="facts" data-testid="monitor-totals">
                {facts.into_iter().map(|(label, value)| view! { <dt>{label}</dt> <dd>{value}</dd> }).collect_view()}
            </dl>
        </section>
        <section class="card" aria-labelledby="charts-title">
            <h2 id="charts-title">"Over time"</h2>
            <Chart title="Invocations and errors" buckets=m.buckets.clone() kind=Kind::Invocations />
            <Chart title="Duration p50, p90 and p99 (ms)" buckets=m.buckets.clone() kind=Kind::Duration />
            <Chart title="Cold starts and the longest init (ms)" buckets=m.buckets.clone() kind=Kind::ColdStarts />
            <Chart title="Concurrent executions (peak)" buckets=m.buckets.clone() kind=Kind::Concurrency />
            <Chart title="Throttles" buckets=m.buckets.clone() kind=Kind::Throttles />
            <Chart title="Asynchronous events received and dropped" buckets=m.buckets.clone() kind=Kind::Async />
            <p class="muted">"Concurrency is worked out from each invocation's end and duration. Throttles and the asynchronous queue are CloudWatch metrics (GetMetricData, AWS/Lambda by FunctionName)."</p>
            {m.metrics_error.clone().map(|error| view! {
                <p class="alert alert-error" role="status" data-testid="metrics-error">
                    {format!("CloudWatch metrics could not be read, so throttles and the asynchronous queue show none: {error}. The connection's role needs cloudwatch:GetMetricData.")}
                </p>
            })}
        </section>
        <section class="card" aria-labelledby="cost-title">
            <h2 id="cost-title">"Cost at this rate"</h2>
            {match m.cost.clone() {
                None => view! { <p class="empty-state">"No invocations to price."</p> }.into_any(),
                Some(c) => view! {
                    <dl class="facts" data-testid="monitor-cost">
                        <dt>"Requests a month"</dt><dd>{format!("{:.0} → {}", c.requests, dollars(c.request_cost))}</dd>
                        <dt>{format!("Duration ({})", m.architecture)}</dt><dd>{format!("{:.1} GB-s → {}", c.gb_seconds, dollars(c.duration_cost))}</dd>
                        <dt>"INIT phase (billed since August 2025)"</dt><dd>{format!("{:.1} GB-s → {}", c.init_gb_seconds, dollars(c.init_cost))}</dd>
                        <dt>"A month"</dt><dd data-testid="monitor-month"><strong>{dollars(c.total)}</strong></dd>
                    </dl>
                    <p class="muted">"us-east-1 on-demand prices (first tier), before the free tier of 1M requests and 400,000 GB-s a month per account."</p>
                }.into_any(),
            }}
            {m.memory_hint.map(|(size, used, suggested)| view! {
                <p class="alert alert-ok" role="status" data-testid="memory-hint">
                    {format!("No invocation used more than {used} MB of {size} MB: {suggested} MB would leave half again as much room and cost less per millisecond (CPU scales with memory, so check the duration after the change).")}
                </p>
            })}
        </section>
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Invocations,
    Duration,
    ColdStarts,
    Concurrency,
    Throttles,
    Async,
}

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 140.0;

/// One chart: bars (invocations with errors over them; cold starts) or lines (percentiles).
#[component]
fn Chart(title: &'static str, buckets: Vec<MonitorBucketView>, kind: Kind) -> impl IntoView {
    let n = buckets.len().max(1) as f64;
    let slot = WIDTH / n;
    let values: Vec<f64> = buckets
        .iter()
        .map(|b| match kind {
            Kind::Invocations => f64::from(b.invocations),
            Kind::Duration => b.p99_ms.unwrap_or(0.0),
            Kind::ColdStarts => b.max_init_ms.unwrap_or(0.0).max(f64::from(b.cold_starts)),
            Kind::Concurrency => f64::from(b.peak_concurrency),
            Kind::Throttles => f64::from(b.throttles),
            Kind::Async => f64::from(b.async_received.max(b.async_dropped)),
        })
        .collect();
    let top = values.iter().copied().fold(0.0, f64::max).max(1.0);
    let y = move |v: f64| HEIGHT - v / top * (HEIGHT - 10.0);
    let hover = |b: &MonitorBucketView| match kind {
        Kind::Invocations => {
            format!("{}: {} invocations, {} errors", b.label, b.invocations, b.errors)
        }
        Kind::Duration => {
            format!("{}: p50 {}, p90 {}, p99 {}", b.label, ms(b.p50_ms), ms(b.p90_ms), ms(b.p99_ms))
        }
        Kind::ColdStarts => format!(
            "{}: {} cold starts, longest init {}",
            b.label,
            b.cold_starts,
            ms(b.max_init_ms)
        ),
        Kind::Concurrency => format!("{}: at most {} at once", b.label, b.peak_concurrency),
        Kind::Throttles => format!("{}: {} throttled", b.label, b.throttles),
        Kind::Async => format!(
            "{}: {} received, {} dropped, oldest {}",
            b.label,
            b.async_received,
            b.async_dropped,
            ms(b.async_max_age_ms)
        ),
    };
    let marks = buckets
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let x = i as f64 * slot;
            let w = (slot - 1.0).max(1.0);
            let bar = |value: f64, class: &'static str| {
                let top_y = y(value);
                view! { <rect x=format!("{x:.1}") y=format!("{top_y:.1}") width=format!("{w:.1}") height=format!("{:.1}", HEIGHT - top_y) class=class /> }
            };
            let shapes = match kind {
                Kind::Invocations => view! {
                    {(b.invocations > 0).then(|| bar(f64::from(b.invocations), "bar"))}
                    {(b.errors > 0).then(|| bar(f64::from(b.errors), "bar bar-error"))}
                }
                .into_any(),
                Kind::ColdStarts => view! {
                    {b.max_init_ms.map(|init| bar(init, "bar bar-cold"))}
                }
                .into_any(),
                Kind::Concurrency => view! {
                    {(b.peak_concurrency > 0).then(|| bar(f64::from(b.peak_concurrency), "bar"))}
                }
                .into_any(),
                Kind::Throttles => view! {
                    {(b.throttles > 0).then(|| bar(f64::from(b.throttles), "bar bar-error"))}
                }
                .into_any(),
                Kind::Async => view! {
                    {(b.async_received > 0).then(|| bar(f64::from(b.async_received), "bar"))}
                    {(b.async_dropped > 0).then(|| bar(f64::from(b.async_dropped), "bar bar-error"))}
                }
                .into_any(),
                Kind::Duration => {
                    let cx = x + slot / 2.0;
                    [(b.p50_ms, "dot p50"), (b.p90_ms, "dot p90"), (b.p99_ms, "dot p99")]
                        .into_iter()
                        .filter_map(|(v, class)| v.map(|v| view! { <circle cx=format!("{cx:.1}") cy=format!("{:.1}", y(v)) r="2.5" class=class /> }))
                        .collect_view()
                        .into_any()
                }
            };
            // A transparent column over the whole slot carries the hover text.
            view! {
                <g>
                    {shapes}
                    <rect x=format!("{x:.1}") y="0" width=format!("{slot:.1}") height=format!("{HEIGHT}") class="hit">
                        <title>{hover(b)}</title>
                    </rect>
                </g>
            }
        })
        .collect_view();
    let first = buckets.first().map(|b| b.label.clone()).unwrap_or_default();
    let last = buckets.last().map(|b| b.label.clone()).unwrap_or_default();
    let summary = match kind {
        Kind::Invocations => format!(
            "{} invocations, {} errors",
            buckets.iter().map(|b| b.invocations).sum::<u32>(),
            buckets.iter().map(|b| b.errors).sum::<u32>()
        ),
        Kind::Duration => format!("p99 up to {:.1} ms", values.iter().copied().fold(0.0, f64::max)),
        Kind::ColdStarts => {
            format!("{} cold starts", buckets.iter().map(|b| b.cold_starts).sum::<u32>())
        }
        Kind::Concurrency => format!(
            "at most {} at once",
            buckets.iter().map(|b| b.peak_concurrency).max().unwrap_or(0)
        ),
        Kind::Throttles => {
            format!("{} throttled", buckets.iter().map(|b| b.throttles).sum::<u32>())
        }
        Kind::Async => format!(
            "{} received, {} dropped",
            buckets.iter().map(|b| b.async_received).sum::<u32>(),
            buckets.iter().map(|b| b.async_dropped).sum::<u32>()
        ),
    };
    view! {
        <figure class="chart" data-testid="chart">
            <figcaption>{title} <span class="muted">{format!(" — {summary}; the tallest is {top:.0}")}</span></figcaption>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=format!("{title}: {summary}, from {first} to {last}") preserveAspectRatio="none">
                <line x1="0" y1=format!("{HEIGHT}") x2=format!("{WIDTH}") y2=format!("{HEIGHT}") class="axis" />
                {marks}
            </svg>
            <div class="chart-axis"><span>{first}</span><span>{last}</span></div>
        </figure>
    }
}
