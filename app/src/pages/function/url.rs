//! The URL tab: the Function URL's configuration (auth type, invoke mode, CORS), the resource
//! policy in plain words with the linter and its fixes, the HTTP tester (signed for `AWS_IAM`,
//! with the doctor on every answer, timing, streamed chunks and a copy-as-curl), the caller's
//! request history with replay, and the CORS preflight simulator.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::url::{
    DeleteUrl, FixUrlPolicy, PreflightUrl, SaveUrlConfig, SendUrlRequest, url_history, url_tab,
};
use crate::components::events::EventStream;
use crate::components::forms::{field_error, invalid, outcome, successes};
use crate::error::error_fallback;
use crate::types::{
    ChunkView, ExchangeView, HttpRequestView, PreflightView, UrlConfigView, UrlRequestView,
    UrlTabView,
};

/// Every action on the tab, so each part can show its outcome and the tab can read again.
#[derive(Clone, Copy)]
struct Actions {
    save: ServerAction<SaveUrlConfig>,
    delete: ServerAction<DeleteUrl>,
    fix: ServerAction<FixUrlPolicy>,
    send: ServerAction<SendUrlRequest>,
    preflight: ServerAction<PreflightUrl>,
}

#[component]
pub fn UrlTab() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let actions = Actions {
        save: ServerAction::new(),
        delete: ServerAction::new(),
        fix: ServerAction::new(),
        send: ServerAction::new(),
        preflight: ServerAction::new(),
    };
    // A request sent does not read the tab again (the form keeps what was typed); only the
    // history does.
    let (saved, deleted, fixed) = (
        successes(actions.save.value()),
        successes(actions.delete.value()),
        successes(actions.fix.value()),
    );
    let tab = Resource::new(
        move || {
            let id = params.with(|p| p.get("id").unwrap_or_default());
            (id, query.with(|q| q.get("replay")), saved.get(), deleted.get(), fixed.get())
        },
        |(id, replay, ..)| url_tab(id, replay),
    );
    view! {
        <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading the URL…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move {
                    let function_id = params.with(|p| p.get("id").unwrap_or_default());
                    tab.await.map(|t| view! { <Url t function_id actions /> })
                })}
            </ErrorBoundary>
        </Transition>
        // Beside the tab, not inside it: a Transition inside a resolved one does not hydrate.
        <History function_id=params.with_untracked(|p| p.get("id").unwrap_or_default()) send=actions.send />
    }
}

#[component]
fn Url(t: UrlTabView, function_id: String, actions: Actions) -> impl IntoView {
    let has_url = t.config.is_some();
    view! {
        <section class="card" aria-labelledby="url-title">
            <h2 id="url-title">"Function URL"</h2>
            {outcome(actions.save.value(), |url: String| format!("URL saved: {url}"))}
            {outcome(actions.delete.value(), |()| "URL deleted".to_owned())}
            {match &t.config {
                Some(c) => view! {
                    <dl class="facts" data-testid="url-config">
                        <dt>"URL"</dt><dd><a href=c.url.clone() data-testid="function-url">{c.url.clone()}</a></dd>
                        <dt>"Auth type"</dt><dd data-testid="url-auth">{c.auth_type.clone()}</dd>
                        <dt>"Invoke mode"</dt><dd>{c.invoke_mode.clone()}</dd>
                        <dt>"CORS"</dt>
                        <dd>{c.cors.as_ref().map_or_else(|| "not configured".to_owned(), |cors| {
                            format!("origins {}; methods {}; headers {}", or_none(&cors.allow_origins),
                                or_none(&cors.allow_methods), or_none(&cors.allow_headers))
                        })}</dd>
                        <dt>"Created"</dt><dd>{c.created.clone()}</dd>
                    </dl>
                }.into_any(),
                None => view! {
                    <p class="empty-state">"This function has no URL: a URL gives it an HTTPS endpoint of its own, public (NONE) or for signed requests (AWS_IAM)."</p>
                }.into_any(),
            }}
            {t.can_edit.then(|| view! { <ConfigForm config=t.config.clone() function_id=function_id.clone() actions /> })}
        </section>
        <Policy t=t.clone() function_id=function_id.clone() actions />
        {match (has_url, t.can_edit) {
            (true, true) => view! {
                <Tester request=t.request.clone() function_id=function_id.clone() actions />
                <Preflight function_id=function_id.clone() actions />
            }.into_any(),
            (true, false) => view! {
                <p class="muted">"Only the owner, their team and admins can send requests to this URL from the console."</p>
            }.into_any(),
            _ => ().into_any(),
        }}
    }
}

fn or_none(list: &str) -> String {
    if list.is_empty() { "none".to_owned() } else { list.to_owned() }
}

#[component]
fn ConfigForm(
    config: Option<UrlConfigView>,
    function_id: String,
    actions: Actions,
) -> impl IntoView {
    let save = actions.save;
    let auth = config.as_ref().map_or("NONE".to_owned(), |c| c.auth_type.clone());
    let mode = config.as_ref().map_or("BUFFERED".to_owned(), |c| c.invoke_mode.clone());
    let cors = config.as_ref().and_then(|c| c.cors.clone());
    let exists = config.is_some();
    let delete_id = function_id.clone();
    view! {
        <details open=!exists>
            <summary>{if exists { "Change the URL" } else { "Create a URL" }}</summary>
            <ActionForm action=save attr:class="stack">
                <input type="hidden" name="function_id" value=function_id />
                <fieldset>
                    <legend>"Auth type"</legend>
                    <label class="check" for="url-auth-none">
                        <input id="url-auth-none" type="radio" name="auth_type" value="NONE" checked=auth == "NONE" />
                        " NONE — public: anyone with the URL may call it (the console adds both permission statements)"
                    </label>
                    <label class="check" for="url-auth-iam">
                        <input id="url-auth-iam" type="radio" name="auth_type" value="AWS_IAM" checked=auth == "AWS_IAM" />
                        " AWS_IAM — only SigV4-signed requests from identities allowed to call it"
                    </label>
                </fieldset>
                <label for="url-expiry">"Switch off a public URL after (minutes; empty for never)"</label>
                <input id="url-expiry" name="expires_in_minutes" type="number" min="1" max="525600"
                    placeholder="e.g. 1440 for a day" autocomplete="off" />
                <label for="url-mode">"Invoke mode"</label>
                <select id="url-mode" name="invoke_mode">
                    {["BUFFERED", "RESPONSE_STREAM"].map(|m| view! { <option value=m selected=m == mode>{m}</option> }).collect_view()}
                </select>
                <fieldset>
                    <legend>"CORS"</legend>
                    <label class="check" for="url-cors">
                        <input id="url-cors" type="checkbox" name="cors" value="yes" checked=cors.is_some() />
                        " Configure CORS (the URL answers browsers' preflights itself)"
                    </label>
                    <div class="grid-2">
                        <div>
                            <label for="url-origins">"Allowed origins"</label>
                            <input id="url-origins" name="allow_origins" placeholder="https://app.example.com, *"
                                value=cors.as_ref().map(|c| c.allow_origins.clone()).unwrap_or_default()
                                aria-describedby="url-origins-error" aria-invalid=invalid(save.value(), "allow_origins") />
                            {field_error(save.value(), "allow_origins", "url-origins-error")}
                        </div>
                        <div>
                            <label for="url-methods">"Allowed methods"</label>
                            <input id="url-methods" name="allow_methods" placeholder="GET, POST, *"
                                value=cors.as_ref().map(|c| c.allow_methods.clone()).unwrap_or_default()
                                aria-describedby="url-methods-error" aria-invalid=invalid(save.value(), "allow_methods") />
                            {field_error(save.value(), "allow_methods", "url-methods-error")}
                        </div>
                        <div>
                            <label for="url-headers">"Allowed headers"</label>
                            <input id="url-headers" name="allow_headers" placeholder="content-type, x-api-key"
                                value=cors.as_ref().map(|c| c.allow_headers.clone()).unwrap_or_default()
                                aria-describedby="url-headers-error" aria-invalid=invalid(save.value(), "allow_headers") />
                            {field_error(save.value(), "allow_headers", "url-headers-error")}
                        </div>
                        <div>
                            <label for="url-expose">"Exposed headers"</label>
                            <input id="url-expose" name="expose_headers"
                                value=cors.as_ref().map(|c| c.expose_headers.clone()).unwrap_or_default() />
                        </div>
                        <div>
                            <label for="url-max-age">"Max age (s)"</label>
                            <input id="url-max-age" name="max_age" type="number" min="0" max="86400"
                                value=cors.as_ref().and_then(|c| c.max_age).map(|a| a.to_string()).unwrap_or_default()
                                aria-describedby="url-max-age-error" aria-invalid=invalid(save.value(), "max_age") />
                            {field_error(save.value(), "max_age", "url-max-age-error")}
                        </div>
                        <label class="check" for="url-credentials">
                            <input id="url-credentials" type="checkbox" name="allow_credentials" value="yes"
                                checked=cors.as_ref().is_some_and(|c| c.allow_credentials) />
                            " Allow credentials (cookies)"
                        </label>
                    </div>
                </fieldset>
                <button type="submit" class="btn btn-primary" disabled=save.pending()>
                    {if exists { "Save the URL" } else { "Create the URL" }}
                </button>
            </ActionForm>
        </details>
        {exists.then(|| view! {
            <ActionForm action=actions.delete attr:class="inline-form">
                <input type="hidden" name="function_id" value=delete_id />
                <label class="check" for="url-remove-statements">
                    <input id="url-remove-statements" type="checkbox" name="remove_statements" value="yes" checked=true />
                    " Also remove the public statements"
                </label>
                <label class="check" for="url-delete-confirm">
                    <input id="url-delete-confirm" type="checkbox" name="confirm" value="yes" />
                    " Callers of this URL will get 404"
                </label>
                <button type="submit" class="btn btn-danger">"Delete the URL"</button>
            </ActionForm>
            {field_error(actions.delete.value(), "confirm", "")}
        })}
    }
}

#[component]
fn Policy(t: UrlTabView, function_id: String, actions: Actions) -> impl IntoView {
    let fix = actions.fix;
    view! {
        <section class="card" aria-labelledby="policy-title">
            <h2 id="policy-title">"Resource policy"</h2>
            {outcome(fix.value(), |()| "Policy changed".to_owned())}
            {t.statements.is_empty().then(|| view! { <p class="empty-state">"The function has no resource policy: only its own account can invoke it."</p> })}
            <ul class="statements" data-testid="statements">
                {t.statements.into_iter().map(|s| view! {
                    <li data-testid="statement">
                        <strong>{s.sid}</strong> " " {s.words}
                        <details><summary>"JSON"</summary><pre class="payload">{s.json}</pre></details>
                    </li>
                }).collect_view()}
            </ul>
            <h3>"Linter"</h3>
            {t.findings.is_empty().then(|| view! { <p class="badge badge-ok" data-testid="lint-clean">"No findings"</p> })}
            <ul class="findings">
                {t.findings.into_iter().map(|f| {
                    let function_id = function_id.clone();
                    let badge = format!("badge badge-{}", if f.severity == "error" { "danger" } else if f.severity == "warning" { "warn" } else { "info" });
                    view! {
                        <li data-testid="finding" data-severity=f.severity.clone()>
                            <span class=badge>{f.severity.clone()}</span> " " {f.message}
                            {(t.can_edit).then(|| f.fix.map(|value| view! {
                                <ActionForm action=fix attr:class="inline-form">
                                    <input type="hidden" name="function_id" value=function_id.clone() />
                                    <input type="hidden" name="fix" value=value />
                                    <button type="submit" class="btn" disabled=fix.pending()>{f.fix_label.unwrap_or_default()}</button>
                                </ActionForm>
                            }))}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn Tester(request: HttpRequestView, function_id: String, actions: Actions) -> impl IntoView {
    let send = actions.send;
    let methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
    let chosen = request.method.clone();
    let answer_id = function_id.clone();
    let live = Live::listen(&function_id);
    // A new request starts a new account of what arrives.
    Effect::new(move |_| {
        if send.pending().get() {
            live.head.set(None);
            live.chunks.set(Vec::new());
        }
    });
    view! {
        <section class="card" aria-labelledby="tester-title">
            <h2 id="tester-title">"HTTP tester"</h2>
            <p class="muted">"Sent from the console's server. AWS_IAM URLs get a SigV4 signature from the connection's credentials."</p>
            <ActionForm action=send attr:class="stack">
                <input type="hidden" name="function_id" value=function_id />
                <input type="hidden" name="watch" prop:value=move || live.key.get() />
                <div class="grid-2">
                    <div>
                        <label for="tester-method">"Method"</label>
                        <select id="tester-method" name="method">
                            {methods.map(|m| view! { <option value=m selected=m == chosen>{m}</option> }).collect_view()}
                        </select>
                    </div>
                    <div>
                        <label for="tester-path">"Path"</label>
                        <input id="tester-path" name="path" value=request.path.clone() placeholder="/"
                            aria-describedby="tester-path-error" aria-invalid=invalid(send.value(), "path") />
                        {field_error(send.value(), "path", "tester-path-error")}
                    </div>
                    <div>
                        <label for="tester-query">"Query"</label>
                        <input id="tester-query" name="query" value=request.query.clone() placeholder="name=value&other=1" />
                    </div>
                    <div>
                        <label for="tester-cookies">"Cookies"</label>
                        <input id="tester-cookies" name="cookies" value=request.cookies.clone() placeholder="session=abc; theme=dark"
                            aria-describedby="tester-cookies-error" aria-invalid=invalid(send.value(), "cookies") />
                        {field_error(send.value(), "cookies", "tester-cookies-error")}
                    </div>
                </div>
                <label for="tester-headers">"Headers (one per line: Name: value)"</label>
                <textarea id="tester-headers" name="headers" rows="3" class="code" spellcheck="false"
                    aria-describedby="tester-headers-error" aria-invalid=invalid(send.value(), "headers")>{request.headers.clone()}</textarea>
                {field_error(send.value(), "headers", "tester-headers-error")}
                <label for="tester-body">"Body"</label>
                <textarea id="tester-body" name="body" rows="5" class="code" spellcheck="false"
                    aria-describedby="tester-body-error" aria-invalid=invalid(send.value(), "body")>{request.body.clone()}</textarea>
                {field_error(send.value(), "body", "tester-body-error")}
                <button type="submit" class="btn btn-primary" disabled=send.pending()>
                    {move || if send.pending().get() { "Sending…" } else { "Send" }}
                </button>
            </ActionForm>
            {move || (send.pending().get() && live.head.get().is_some()).then(|| view! {
                <div class="result" role="status" aria-live="polite" data-testid="url-live">
                    <p><strong>{live.head.get()}</strong>{move || format!(" — {} chunk(s) so far…", live.chunks.with(Vec::len))}</p>
                    <ol class="chunks">
                        {move || live.chunks.get().into_iter().map(|c| view! {
                            <li data-testid="url-live-chunk"><span class="muted">{format!("{} ms, {} bytes: ", c.at_ms, c.bytes)}</span><code>{c.text}</code></li>
                        }).collect_view()}
                    </ol>
                </div>
            })}
            {move || match send.value().get() {
                Some(Ok(exchange)) => view! { <Answer exchange function_id=answer_id.clone() fix=actions.fix /> }.into_any(),
                Some(Err(error)) => view! { <crate::error::ErrorAlert error /> }.into_any(),
                None => ().into_any(),
            }}
        </section>
    }
}

/// The answer as it arrives: the page keeps a watch open (`/catalog/{id}/url/watch/{key}`) and
/// sends its key with each request; until the watch is open the key is empty and the answer
/// shows when it is whole. In the browser only.
#[derive(Clone, Copy)]
struct Live {
    key: RwSignal<String>,
    head: RwSignal<Option<String>>,
    chunks: RwSignal<Vec<ChunkView>>,
}

impl Live {
    fn listen(function_id: &str) -> Self {
        let live = Live {
            key: RwSignal::new(String::new()),
            head: RwSignal::new(None),
            chunks: RwSignal::new(Vec::new()),
        };
        let stream = EventStream::cell();
        #[cfg(feature = "hydrate")]
        {
            on_cleanup(move || {
                stream.try_update_value(|s| *s = None);
            });
            let Some(key) =
                web_sys::window().and_then(|w| w.crypto().ok()).map(|c| c.random_uuid())
            else {
                return live;
            };
            let url = format!("/catalog/{function_id}/url/watch/{key}");
            let on = move |name: &'static str, data: String| match name {
                "open" => {
                    live.key.try_set(key.clone());
                }
                "error" => {
                    live.key.try_set(String::new());
                }
                _ => match serde_json::from_str::<crate::types::HeardView>(&data) {
                    Ok(crate::types::HeardView::Head { status_line, first_byte_ms }) => {
                        live.head.try_set(Some(format!("{status_line} after {first_byte_ms} ms")));
                        live.chunks.try_set(Vec::new());
                    }
                    Ok(crate::types::HeardView::Chunk(chunk)) => {
                        live.chunks.try_update(|c| c.push(chunk));
                    }
                    Err(_) => {}
                },
            };
            if let Ok(opened) = EventStream::open(&url, &["open", "error", "head", "chunk"], on) {
                stream.update_value(|s| *s = Some(opened));
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (function_id, stream);
        live
    }
}

/// The raw answer, its timing and chunks, the doctor, and the curl.
#[component]
fn Answer(
    exchange: ExchangeView,
    function_id: String,
    fix: ServerAction<FixUrlPolicy>,
) -> impl IntoView {
    let call = exchange.call.clone();
    let raw = call.raw();
    let badge = match call.status {
        0 => ("badge badge-danger", "no response".to_owned()),
        s @ 200..=399 => ("badge badge-ok", s.to_string()),
        s => ("badge badge-danger", s.to_string()),
    };
    let curl = exchange.curl.clone();
    let copied = RwSignal::new(false);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(window) = web_sys::window() {
            let _ = window.navigator().clipboard().write_text(&curl);
            copied.set(true);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&curl, copied);
    };
    view! {
        <div class="result" role="region" aria-label="Response" data-testid="url-answer">
            <p>
                <span class=badge.0 data-testid="url-status">{badge.1}</span>
                {format!(" in {} ms (headers after {} ms){}", call.millis, exchange.first_byte_ms,
                    if exchange.signed { ", signed with SigV4" } else { "" })}
            </p>
            {exchange.diagnosis.clone().map(|d| view! {
                <div class="alert alert-error" role="alert" data-testid="url-diagnosis">
                    <p><strong>{d.problem}</strong></p>
                    {(!d.details.is_empty()).then(|| view! { <pre>{d.details.join("\n")}</pre> })}
                    <p>{d.advice}</p>
                    {(d.fix.as_deref() == Some("add_statements")).then(|| view! {
                        <ActionForm action=fix attr:class="inline-form">
                            <input type="hidden" name="function_id" value=function_id.clone() />
                            <input type="hidden" name="fix" value="add_statements" />
                            <button type="submit" class="btn">"Add the missing statement(s)"</button>
                        </ActionForm>
                    })}
                </div>
            })}
            <pre class="raw-response" data-testid="url-response">{raw}</pre>
            {exchange.truncated.then(|| view! { <p class="muted">"The body was cut at 256 KB."</p> })}
            {(exchange.chunks.len() > 1).then(|| view! {
                <h3>"Chunks as they arrived"</h3>
                <ol class="chunks" data-testid="url-chunks">
                    {exchange.chunks.iter().map(|c| view! {
                        <li><span class="muted">{format!("{} ms, {} bytes: ", c.at_ms, c.bytes)}</span><code>{c.text.clone()}</code></li>
                    }).collect_view()}
                </ol>
            })}
            <h3>"As curl"</h3>
            <pre class="payload" data-testid="url-curl">{exchange.curl.clone()}</pre>
            <button type="button" class="btn" on:click=copy>
                {move || if copied.get() { "Copied" } else { "Copy curl" }}
            </button>
            {exchange.signed.then(|| view! { <p class="muted">"curl signs with the keys in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (add -H \"x-amz-security-token: $AWS_SESSION_TOKEN\" for temporary ones)."</p> })}
        </div>
    }
}

#[component]
fn History(function_id: String, send: ServerAction<SendUrlRequest>) -> impl IntoView {
    let base = format!("/catalog/{function_id}/url");
    let sent = successes(send.value());
    let history =
        Resource::new(move || (function_id.clone(), sent.get()), |(id, _)| url_history(id));
    view! {
        <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading your requests…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || {
                    let base = base.clone();
                    Suspend::new(async move {
                        // None: the caller may not send requests to this URL.
                        history.await.map(|h| h.map(|history| view! {
                            <section class="card" aria-labelledby="url-history-title">
                                <h2 id="url-history-title">"Your requests"</h2>
                                <Requests history base />
                            </section>
                        }))
                    })
                }}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn Requests(history: Vec<UrlRequestView>, base: String) -> impl IntoView {
    view! {
            {history.is_empty().then(|| view! { <p class="empty-state">"Requests you send are listed here, to send again."</p> })}
            <table class="table" data-testid="url-history">
                <thead><tr><th scope="col">"When"</th><th scope="col">"Request"</th><th scope="col">"Status"</th><th scope="col">"Time"</th><th scope="col"><span class="visually-hidden">"Replay"</span></th></tr></thead>
                <tbody>
                    {history.into_iter().map(|r| view! {
                        <tr data-testid="url-history-row">
                            <td>{r.at}</td>
                            <td><code>{format!("{} {}", r.method, r.target)}</code></td>
                            <td>{if r.status == 0 { "no response".to_owned() } else { r.status.to_string() }}</td>
                            <td>{format!("{} ms", r.millis)}</td>
                            <td><a href=format!("{base}?replay={}", r.id)>"Replay"</a></td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
    }
}

#[component]
fn Preflight(function_id: String, actions: Actions) -> impl IntoView {
    let preflight = actions.preflight;
    view! {
        <section class="card" aria-labelledby="preflight-title">
            <h2 id="preflight-title">"CORS preflight"</h2>
            <p class="muted">"What a browser on another site would decide: the console sends the preflight it would send and checks the answer as the browser does."</p>
            <ActionForm action=preflight attr:class="log-search">
                <input type="hidden" name="function_id" value=function_id />
                <div class="field">
                    <label for="preflight-origin">"Origin"</label>
                    <input id="preflight-origin" name="origin" required placeholder="https://app.example.com"
                        aria-describedby="preflight-origin-error" aria-invalid=invalid(preflight.value(), "origin") />
                </div>
                <div class="field">
                    <label for="preflight-method">"Method"</label>
                    <input id="preflight-method" name="method" value="POST" required />
                </div>
                <div class="field">
                    <label for="preflight-headers">"Request headers"</label>
                    <input id="preflight-headers" name="headers" placeholder="content-type, authorization" />
                </div>
                <label class="check" for="preflight-credentials">
                    <input id="preflight-credentials" type="checkbox" name="credentials" value="yes" />
                    " With credentials"
                </label>
                <div class="actions"><button type="submit" class="btn">"Preflight"</button></div>
            </ActionForm>
            {field_error(preflight.value(), "origin", "preflight-origin-error")}
            {move || match preflight.value().get() {
                Some(Ok(v)) => view! { <Verdict v /> }.into_any(),
                Some(Err(crate::error::ApiError::Validation { .. })) | None => ().into_any(),
                Some(Err(error)) => view! { <crate::error::ErrorAlert error /> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn Verdict(v: PreflightView) -> impl IntoView {
    view! {
        <div class="result" data-testid="preflight-verdict" data-allowed=v.allowed.to_string()>
            <p class=if v.allowed { "alert alert-ok" } else { "alert alert-error" } role="status">
                {if v.allowed { "The browser would allow this request." } else { "The browser would refuse this request." }}
            </p>
            <ul class="checklist">
                {v.checks.into_iter().map(|(passed, what)| view! {
                    <li class=if passed { "check-ok" } else { "check-fail" }>{if passed { "✓ " } else { "✗ " }}{what}</li>
                }).collect_view()}
            </ul>
            {(!v.changes.is_empty()).then(|| view! {
                <h3>"What to change"</h3>
                <ul data-testid="preflight-changes">{v.changes.into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}</ul>
            })}
            <details><summary>"The preflight's answer"</summary>
                <pre class="raw-response">{v.call.head()}</pre>
            </details>
        </div>
    }
}
