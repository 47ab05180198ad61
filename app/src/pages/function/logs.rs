//! The Logs tab: the log group (retention, download), a search with CloudWatch filter patterns
//! over a preset or custom range, newest or oldest first, with lines of context and pages; a
//! `START`/`END`/`REPORT` line opens its invocation's lines together; the streams with their time
//! ranges; and the live tail, where lines arrive as they are written. The search is a plain GET
//! form, so it works (and can be bookmarked) without JavaScript; the live tail needs it.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::logs::{SetLogRetention, logs_tab};
use crate::components::events::EventStream;
use crate::components::forms::{outcome, successes};
use crate::error::error_fallback;
use crate::forms::LogsQuery;
use crate::types::{LOG_RANGES, LogBlockView, LogsTabView, TailLineView, TailUpdateView};

#[component]
pub fn LogsTab() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let retention = ServerAction::<SetLogRetention>::new();
    let saved = successes(retention.value());
    let tab = Resource::new(
        move || {
            let function_id = params.with(|p| p.get("id").unwrap_or_default());
            let q = query.with(|q| LogsQuery {
                function_id,
                pattern: q.get("pattern"),
                range: q.get("range"),
                start: q.get("start"),
                end: q.get("end"),
                order: q.get("order"),
                context: q.get("context"),
                stream: q.get("stream"),
                limit: q.get("limit"),
                cursor: q.get("cursor"),
                request: q.get("request"),
                streams_from: q.get("streams_from"),
            });
            (q, saved.get())
        },
        |(q, _)| logs_tab(q),
    );
    view! {
        <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading the logs…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move {
                    let function_id = params.with(|p| p.get("id").unwrap_or_default());
                    tab.await.map(|t| view! { <Logs t function_id retention /> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn Logs(
    t: LogsTabView,
    function_id: String,
    retention: ServerAction<SetLogRetention>,
) -> impl IntoView {
    if !t.can_read {
        return view! {
            <p class="muted card">"Only the owner, their team and admins can read this function's logs: they can hold what it printed of its secrets."</p>
        }
        .into_any();
    }
    let base = format!("/catalog/{function_id}/logs");
    if !t.group_exists {
        return view! {
            <section class="card empty-state" data-testid="no-log-group">
                <h2>"No logs yet"</h2>
                <p>{format!("Lambda makes the log group {} at the function's first log line.", t.group)}</p>
                <p><a href=format!("/catalog/{function_id}/test")>"Invoke it from the Test tab"</a>", then come back."</p>
            </section>
            <LiveTail function_id />
        }
        .into_any();
    }
    let link = |extra: &str| format!("{base}?{extra}");
    let here = link(&t.here);
    view! {
        <section class="card" aria-labelledby="group-title">
            <h2 id="group-title">"Log group"</h2>
            <p><code>{t.group.clone()}</code> " · " {format!("{} stored", bytes(t.stored_bytes))}</p>
            <Retention t=t.clone() function_id=function_id.clone() retention />
        </section>
        <Search t=t.clone() base=base.clone() />
        {t.invocation.clone().map(|block| view! {
            <section class="card" aria-labelledby="invocation-title" data-testid="invocation">
                <h2 id="invocation-title">{format!("Invocation {}", t.query.request)}</h2>
                <p class="muted">"Its lines together, from its START line to its REPORT line."</p>
                <Block block link=None />
            </section>
        })}
        <section class="card" aria-labelledby="lines-title">
            <h2 id="lines-title">"Lines"</h2>
            {t.search_error.clone().map(|e| view! { <div class="alert alert-error" role="alert" data-testid="search-error">{e}</div> })}
            <p class="muted" data-testid="log-summary">
                {format!("{} matching line(s) · {} · {} first", t.matches, t.range_label, t.query.order)}
                " · "
                <a href=format!("/catalog/{function_id}/logs.txt?{}", t.current) download>"Download what is shown"</a>
            </p>
            {(t.blocks.is_empty() && t.search_error.is_none()).then(|| view! {
                <p class="empty-state">"No lines match in this range. Widen the range, or change or clear the pattern."</p>
            })}
            <div class="log-blocks">
                {t.blocks
                    .clone()
                    .into_iter()
                    .map(|block| {
                        view! { <Block block link=Some(here.clone()) /> }
                    })
                    .collect_view()}
            </div>
            <p class="pager">
                {t.current.contains("cursor=").then(|| view! { <a href=here.clone()>"First page"</a> " " })}
                {t.next.clone().map(|n| view! { <a href=link(&n) rel="next" data-testid="next-page">"Next page"</a> })}
            </p>
        </section>
        <LiveTail function_id />
        <Streams t base=base.clone() />
    }
    .into_any()
}

/// A size as people read it: bytes, KB or MB.
pub(crate) fn bytes(n: i64) -> String {
    match n {
        n if n >= 1 << 20 => format!("{:.1} MB", n as f64 / f64::from(1 << 20)),
        n if n >= 1 << 10 => format!("{:.1} KB", n as f64 / f64::from(1 << 10)),
        n => format!("{n} bytes"),
    }
}

#[component]
fn Retention(
    t: LogsTabView,
    function_id: String,
    retention: ServerAction<SetLogRetention>,
) -> impl IntoView {
    let current = t.retention_days;
    view! {
        <ActionForm action=retention attr:class="inline-form">
            <input type="hidden" name="function_id" value=function_id />
            <label for="retention-days">"Keep lines for"</label>
            <select id="retention-days" name="retention_days">
                <option value="never" selected=current.is_none()>"Never expire"</option>
                {t.retention_choices
                    .into_iter()
                    .map(|d| view! { <option value=d.to_string() selected=current == Some(d)>{format!("{d} day(s)")}</option> })
                    .collect_view()}
            </select>
            <button type="submit" class="btn">"Save retention"</button>
            {outcome(retention.value(), |()| "Retention saved".to_owned())}
        </ActionForm>
    }
}

#[component]
fn Search(t: LogsTabView, base: String) -> impl IntoView {
    let q = t.query;
    view! {
        <section class="card" aria-labelledby="search-title">
            <h2 id="search-title">"Search"</h2>
            <form method="get" action=base class="log-search">
                <div class="field wide">
                    <label for="log-pattern">"Filter pattern"</label>
                    <input id="log-pattern" name="pattern" type="search" class="code" value=q.pattern.clone()
                        aria-describedby="log-pattern-hint" spellcheck="false" />
                    <p id="log-pattern-hint" class="muted">
                        "CloudWatch filter patterns: terms " <code>"ERROR timeout"</code> ", "
                        <code>"?ERROR ?WARN"</code> ", " <code>"-debug"</code> ", " <code>"\"exact phrase\""</code>
                        ", JSON " <code>"{ $.level = \"ERROR\" && $.ms > 100 }"</code>
                        ", space-delimited " <code>"[ip, user, ..., status = 5*]"</code> "."
                    </p>
                </div>
                <div class="field">
                    <label for="log-range">"Range"</label>
                    <select id="log-range" name="range">
                        {LOG_RANGES
                            .iter()
                            .map(|(value, label, _)| view! { <option value=*value selected=q.range == *value>{format!("Last {label}")}</option> })
                            .collect_view()}
                        <option value="custom" selected=q.range == "custom">"Custom (below)"</option>
                    </select>
                </div>
                <div class="field">
                    <label for="log-start">"From (UTC)"</label>
                    <input id="log-start" name="start" type="datetime-local" value=q.start.clone() />
                </div>
                <div class="field">
                    <label for="log-end">"To (UTC)"</label>
                    <input id="log-end" name="end" type="datetime-local" value=q.end.clone() />
                </div>
                <div class="field">
                    <label for="log-order">"Order"</label>
                    <select id="log-order" name="order">
                        <option value="newest" selected=q.order == "newest">"Newest first"</option>
                        <option value="oldest" selected=q.order == "oldest">"Oldest first"</option>
                    </select>
                </div>
                <div class="field">
                    <label for="log-context">"Lines of context"</label>
                    <input id="log-context" name="context" type="number" min="0" max="10" value=q.context.to_string() />
                </div>
                <div class="field">
                    <label for="log-limit">"Lines a page"</label>
                    <select id="log-limit" name="limit">
                        {[50usize, 100, 250, 500, 1000]
                            .into_iter()
                            .map(|n| view! { <option value=n.to_string() selected=q.limit == n>{n.to_string()}</option> })
                            .collect_view()}
                    </select>
                </div>
                {(!q.stream.is_empty()).then(|| view! {
                    <div class="field">
                        <label for="log-stream">"Stream"</label>
                        <select id="log-stream" name="stream">
                            <option value=q.stream.clone() selected=true>{q.stream.clone()}</option>
                            <option value="">"All streams"</option>
                        </select>
                    </div>
                })}
                <div class="actions"><button type="submit" class="btn btn-primary">"Search"</button></div>
            </form>
        </section>
    }
}

/// A block of lines; `link` (the search's address) gives `START`/`END`/`REPORT` lines a link to
/// their invocation.
#[component]
fn Block(block: LogBlockView, link: Option<String>) -> impl IntoView {
    view! {
        <div class="log-block" data-testid="log-block">
            <p class="log-stream muted">{block.stream}</p>
            <ol class="log-lines">
                {block
                    .lines
                    .into_iter()
                    .map(|l| {
                        let open = link.clone().zip(l.request_id.clone()).map(|(link, id)| {
                            view! { <a class="log-open" href=format!("{link}&request={id}#invocation-title")>"invocation"</a> }
                        });
                        view! {
                            <li class:log-match=l.matched data-testid="log-line">
                                <time>{l.time}</time>
                                <code class="log-message">{l.message}</code>
                                {open}
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        </div>
    }
}

#[component]
fn Streams(t: LogsTabView, base: String) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="streams-title">
            <h2 id="streams-title">"Streams"</h2>
            <p class="muted">"One stream per execution environment, the most recently written first."</p>
            <table class="table">
                <thead><tr><th scope="col">"Stream"</th><th scope="col">"First line (UTC)"</th><th scope="col">"Last line (UTC)"</th></tr></thead>
                <tbody>
                    {t.streams
                        .into_iter()
                        .map(|s| {
                            let href = format!("{base}?stream={}&order=oldest", encode(&s.name));
                            view! {
                                <tr data-testid="log-stream">
                                    <td><a href=href>{s.name}</a></td>
                                    <td>{s.first.unwrap_or_default()}</td>
                                    <td>{s.last.unwrap_or_default()}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            {t.streams_next.map(|n| view! { <p><a href=format!("{base}?{n}")>"More streams"</a></p> })}
        </section>
    }
}

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The most lines the live tail keeps on the page.
const TAIL_LINES: usize = 1000;
/// CloudWatch's limit on highlighted terms.
const HIGHLIGHTS: usize = 5;
/// CloudWatch ends a live tail session after three hours.
const SESSION_SECONDS: u64 = 3 * 60 * 60;

/// The live tail: lines stream in as the function writes them (server-sent events from
/// `/catalog/{id}/logs/tail`, which follows CloudWatch's StartLiveTail), with a pattern, up to
/// five highlighted terms, pause and resume, and the session's time.
#[component]
fn LiveTail(function_id: String) -> impl IntoView {
    let running = RwSignal::new(false);
    let paused = RwSignal::new(false);
    let lines = RwSignal::new(Vec::<TailLineView>::new());
    let held = RwSignal::new(Vec::<TailLineView>::new());
    let sampled = RwSignal::new(false);
    let failure = RwSignal::new(None::<String>);
    let elapsed = RwSignal::new(0u64);
    let pattern = RwSignal::new(String::new());
    let highlight = RwSignal::new(String::new());
    let source = EventStream::cell();
    // Closed with the component, so no update arrives after its signals are gone. In the
    // browser only: on the server the (local) value may be disposed on another thread.
    #[cfg(feature = "hydrate")]
    on_cleanup(move || {
        source.try_update_value(|s| *s = None);
    });
    let receive = move |update: TailUpdateView| {
        if update.sampled {
            sampled.try_set(true);
        }
        let into = if paused.try_get_untracked().unwrap_or(false) { held } else { lines };
        into.try_update(|shown| {
            shown.extend(update.lines);
            let over = shown.len().saturating_sub(TAIL_LINES);
            shown.drain(..over);
        });
    };
    let stop = move || {
        source.update_value(|s| *s = None);
        running.set(false);
    };
    let start = {
        move || {
            failure.set(None);
            sampled.set(false);
            elapsed.set(0);
            let url = format!(
                "/catalog/{function_id}/logs/tail?pattern={}",
                encode(&pattern.get_untracked())
            );
            let failed = move |message: String| {
                failure.set(Some(message));
                stop();
            };
            let on = move |name: &'static str, data: String| match name {
                "update" => {
                    if let Ok(update) = serde_json::from_str::<TailUpdateView>(&data) {
                        receive(update);
                    }
                }
                "failure" => failed(data),
                _ => failed("The live tail ended.".to_owned()),
            };
            match EventStream::open(&url, &["update", "failure", "end"], on)
                .map_err(|e| format!("The live tail could not start: {e}"))
            {
                Ok(opened) => {
                    source.update_value(|s| *s = Some(opened));
                    running.set(true);
                }
                Err(message) => failure.set(Some(message)),
            }
        }
    };
    Effect::new(move |_| {
        tick_every_second(move || {
            if running.try_get_untracked() == Some(true) {
                elapsed.update(|s| *s += 1);
                if elapsed.get_untracked() >= SESSION_SECONDS {
                    failure.set(Some(
                        "The session reached CloudWatch's three-hour limit; start it again."
                            .to_owned(),
                    ));
                    stop();
                }
            }
        });
    });
    let terms = move || {
        highlight.with(|h| {
            h.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
    };
    view! {
        <section class="card" aria-labelledby="tail-title" data-testid="live-tail">
            <h2 id="tail-title">"Live tail"</h2>
            <noscript><p class="muted">"The live tail needs JavaScript; the search above works without it."</p></noscript>
            <div class="log-search">
                <div class="field wide">
                    <label for="tail-pattern">"Filter pattern"</label>
                    <input id="tail-pattern" type="search" class="code" spellcheck="false"
                        prop:value=move || pattern.get() on:input=move |e| pattern.set(event_target_value(&e))
                        disabled=move || running.get() />
                </div>
                <div class="field wide">
                    <label for="tail-highlight">"Highlight (up to 5 terms, separated by commas)"</label>
                    <input id="tail-highlight" type="text" prop:value=move || highlight.get()
                        on:input=move |e| highlight.set(event_target_value(&e)) aria-describedby="tail-highlight-note" />
                    <p id="tail-highlight-note" class="field-error" role="alert">
                        {move || (terms().len() > HIGHLIGHTS).then(|| format!("CloudWatch highlights up to {HIGHLIGHTS} terms: the first {HIGHLIGHTS} are used."))}
                    </p>
                </div>
                <div class="actions">
                    {move || if running.get() {
                        view! {
                            <button type="button" class="btn" on:click=move |_| stop()>"Stop"</button>
                            <button type="button" class="btn" aria-pressed=move || paused.get().to_string()
                                on:click=move |_| {
                                    if paused.get_untracked() {
                                        let more = held.try_update(std::mem::take).unwrap_or_default();
                                        lines.update(|l| {
                                            l.extend(more);
                                            let over = l.len().saturating_sub(TAIL_LINES);
                                            l.drain(..over);
                                        });
                                    }
                                    paused.update(|p| *p = !*p);
                                }>
                                {move || if paused.get() { "Resume" } else { "Pause" }}
                            </button>
                        }.into_any()
                    } else {
                        let start = start.clone();
                        view! { <button type="button" class="btn btn-primary" on:click=move |_| start()>"Start live tail"</button> }.into_any()
                    }}
                    <button type="button" class="btn" on:click=move |_| lines.set(Vec::new())>"Clear"</button>
                </div>
            </div>
            <p class="muted" aria-live="polite" data-testid="tail-status">
                {move || match (running.get(), paused.get()) {
                    (true, false) => format!("Tailing · {}", clock(elapsed.get())),
                    (true, true) => format!("Paused · {} · {} line(s) waiting", clock(elapsed.get()), held.with(Vec::len)),
                    _ => "Not running".to_owned(),
                }}
            </p>
            {move || sampled.get().then(|| view! {
                <p class="alert" role="status">"More than 500 lines a second matched: CloudWatch sampled them, so some are not shown."</p>
            })}
            {move || failure.get().map(|f| view! { <div class="alert alert-error" role="alert">{f}</div> })}
            <ol class="log-lines tail-lines" aria-live="off">
                {move || {
                    let terms: Vec<String> = terms().into_iter().take(HIGHLIGHTS).collect();
                    lines.with(|shown| {
                        shown
                            .iter()
                            .map(|l| {
                                let parts = crate::types::highlighted(&l.message, &terms)
                                    .into_iter()
                                    .map(|(text, hit)| if hit { view! { <mark>{text}</mark> }.into_any() } else { text.into_any() })
                                    .collect_view();
                                view! {
                                    <li data-testid="tail-line" data-ts=l.timestamp_ms.to_string()>
                                        <time>{l.time.clone()}</time>
                                        <code class="log-message">{parts}</code>
                                    </li>
                                }
                            })
                            .collect_view()
                    })
                }}
            </ol>
        </section>
    }
}

fn clock(seconds: u64) -> String {
    format!("{:02}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60)
}

/// Calls `tick` each second, in the browser.
fn tick_every_second(tick: impl Fn() + 'static) {
    // Stopped with the component: a tick after it is gone would read disposed signals.
    #[cfg(feature = "hydrate")]
    if let Ok(handle) = set_interval_with_handle(tick, std::time::Duration::from_secs(1)) {
        on_cleanup(move || handle.clear());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = tick;
}
