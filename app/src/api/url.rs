//! The URL tab: the function's URL and its policy (read by everyone who may read the function),
//! and — for those who may change it — its configuration, the linter's fixes, the HTTP tester with
//! the doctor, and the CORS preflight simulator.

use leptos::prelude::*;

use crate::error::ApiError;
use crate::forms::{PreflightForm, UrlConfigForm, UrlRequestForm};
use crate::types::{ExchangeView, PreflightView, UrlRequestView, UrlTabView};

/// The URL tab; `replay` fills the tester's form with one of the caller's earlier requests.
#[server(endpoint = "url_tab")]
pub async fn url_tab(function_id: String, replay: Option<String>) -> Result<UrlTabView, ApiError> {
    use super::ssr::*;
    use backend::accounts::Role;
    let result = async {
        let account = require(Role::ALL)?;
        let pool = &context()?.pool;
        let detail = super::catalog::ssr::readable(pool, &account, &function_id).await?;
        let can_edit = backend::catalog::may_edit(pool, &account, &detail).await.map_err(fail)?;
        let connection =
            backend::connections::get(pool, detail.connection_id).await.map_err(fail)?;
        let state = backend::urls::read(&connection, &detail).await.map_err(fail)?;
        let history = if can_edit {
            backend::urls::history(pool, account.account_id, detail.entry.function_id)
                .await
                .map_err(fail)?
        } else {
            Vec::new()
        };
        let request = replay
            .as_deref()
            .and_then(|id| history.iter().find(|p| p.url_request_id.to_string() == id))
            .map(|p| ssr::request_view(&p.request))
            .unwrap_or_else(|| crate::types::HttpRequestView {
                method: "GET".to_owned(),
                path: "/".to_owned(),
                ..Default::default()
            });
        Ok(ssr::tab(can_edit, state, request))
    }
    .await;
    settle(result, |_| None).await
}

/// The caller's last requests to the function's URL, newest first; none for those who may not
/// send any.
#[server(endpoint = "url_history")]
pub async fn url_history(function_id: String) -> Result<Option<Vec<UrlRequestView>>, ApiError> {
    use super::ssr::*;
    use backend::accounts::Role;
    let result = async {
        let account = require(Role::ALL)?;
        let pool = &context()?.pool;
        let detail = super::catalog::ssr::readable(pool, &account, &function_id).await?;
        if !backend::catalog::may_edit(pool, &account, &detail).await.map_err(fail)? {
            return Ok(None);
        }
        let history = backend::urls::history(pool, account.account_id, detail.entry.function_id)
            .await
            .map_err(fail)?;
        Ok(Some(ssr::history(&history)))
    }
    .await;
    settle(result, |_| None).await
}

/// Creates or changes the URL (auth type, invoke mode, CORS).
#[server(endpoint = "save_url_config")]
pub async fn save_url_config(#[server(flatten)] form: UrlConfigForm) -> Result<String, ApiError> {
    use super::ssr::*;
    use backend::accounts::Role;
    let result = async {
        let account = require(Role::ALL)?;
        let pool = &context()?.pool;
        let (detail, connection) =
            super::catalog::ssr::editable(pool, &account, &form.function_id).await?;
        let input = ssr::input(&form)?;
        backend::urls::save(pool, &actor(&account), &connection, &detail, &input)
            .await
            .map_err(fail)
    }
    .await;
    settle(result, |url| Some(format!("URL saved: {url}"))).await
}

/// Deletes the URL once confirmed, and its public statements when asked.
#[server(endpoint = "delete_url")]
pub async fn delete_url(
    function_id: String,
    remove_statements: Option<String>,
    confirm: Option<String>,
) -> Result<(), ApiError> {
    use super::ssr::*;
    use backend::accounts::Role;
    let result = async {
        let account = require(Role::ALL)?;
        confirmed(confirm.as_deref(), "deleting the URL")?;
        let pool = &context()?.pool;
        let (detail, connection) =
            super::catalog::ssr::editable(pool, &account, &function_id).await?;
        let remove = remove_statements.as_deref() == Some("yes");
        backend::urls::delete(pool, &actor(&account), &connection, &detail, remove)
            .await
            .map_err(fail)
    }
    .await;
    settle(result, |()| Some("URL deleted".to_owned())).await
}

/// Applies a fix the linter or the doctor offered (`add_statements`, `remove:<sid>`).
#[server(endpoint = "fix_url_policy")]
pub async fn fix_url_policy(function_id: String, fix: String) -> Result<(), ApiError> {
    use super::ssr::*;
    use backend::accounts::Role;
    let result = async {
        let account = require(Role::ALL)?;
        let fix =
            backend::urls::policy::PolicyFix::decode(&fix).ok_or_else(|| ApiError::Validation {
                field: "fix".to_owned(),
                message: "unknown fix; reload the page".to_owned(),
            })?;
        let pool = &context()?.pool;
        let (detail, connection) =
            super::catalog::ssr::editable(pool, &account, &function_id).await?;
        backend::urls::fix(pool, &actor(&account), &connection, &detail, &fix).await.map_err(fail)
    }
    .await;
    settle(result, |()| Some("Policy changed".to_owned())).await
}

/// Sends a request to the URL from the server.
#[server(endpoint = "send_url_request")]
pub async fn send_url_request(
    #[server(flatten)] form: UrlRequestForm,
) -> Result<ExchangeView, ApiError> {
    use super::ssr::*;
    use backend::accounts::Role;
    let result = async {
        let account = require(Role::ALL)?;
        let pool = &context()?.pool;
        let (detail, connection) =
            super::catalog::ssr::editable(pool, &account, &form.function_id).await?;
        let request = ssr::request(&form)?;
        let function = detail.entry.function_id;
        let ear = context()?.url_watches.ear(account.account_id, function, form.watch.as_deref());
        let sent = backend::urls::send_heard(
            pool,
            account.account_id,
            &connection,
            &detail,
            &request,
            &ear,
        )
        .await
        .map_err(fail)?;
        Ok(ssr::exchange(sent))
    }
    .await;
    settle(result, |e| Some(format!("The URL answered {}", e.call.status))).await
}

/// Sends the preflight a browser would and says what it would decide.
#[server(endpoint = "preflight_url")]
pub async fn preflight_url(
    #[server(flatten)] form: PreflightForm,
) -> Result<PreflightView, ApiError> {
    use super::ssr::*;
    use backend::accounts::Role;
    let result = async {
        let account = require(Role::ALL)?;
        let pool = &context()?.pool;
        let (detail, connection) =
            super::catalog::ssr::editable(pool, &account, &form.function_id).await?;
        let lambda = connection.lambda(&detail.entry.region).await;
        let config =
            backend::urls::config(&lambda, &detail).await.map_err(fail)?.ok_or_else(|| {
                ApiError::Conflict("the function has no URL: create it above first".to_owned())
            })?;
        let preflight = backend::urls::cors::Preflight {
            origin: form.origin.trim().to_owned(),
            method: form.method.trim().to_owned(),
            headers: ssr::names(form.headers.as_deref()),
            credentials: form.credentials.as_deref() == Some("yes"),
        };
        let verdict = backend::urls::cors::simulate(&config.url, &preflight, config.cors.as_ref())
            .await
            .map_err(fail)?;
        Ok(PreflightView {
            allowed: verdict.allowed,
            checks: verdict.checks.into_iter().map(|c| (c.passed, c.what)).collect(),
            changes: verdict.changes,
            call: super::labs::ssr::call(&verdict.call),
        })
    }
    .await;
    settle(result, |v| {
        Some(
            if v.allowed { "The browser would allow it" } else { "The browser would refuse it" }
                .to_owned(),
        )
    })
    .await
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! From the backend's URL vocabulary to the tab's views and back.

    use backend::urls::policy::PolicyFix;
    use backend::urls::tester::HttpRequest;
    use backend::urls::{Past, Sent, UrlInput, UrlState, cors::Cors};

    use crate::error::ApiError;
    use crate::forms::{UrlConfigForm, UrlRequestForm};
    use crate::types::*;

    /// A comma- or space-separated list.
    pub fn names(raw: Option<&str>) -> Vec<String> {
        raw.unwrap_or_default()
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    pub fn input(form: &UrlConfigForm) -> Result<UrlInput, ApiError> {
        let max_age = match form.max_age.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
            None => None,
            Some(age) => Some(age.parse::<i32>().map_err(|_| ApiError::Validation {
                field: "max_age".to_owned(),
                message: "a number of seconds".to_owned(),
            })?),
        };
        let expires_in_minutes =
            match form.expires_in_minutes.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
                None => None,
                Some(m) => Some(m.parse::<i64>().map_err(|_| ApiError::Validation {
                    field: "expires_in_minutes".to_owned(),
                    message: "a whole number of minutes".to_owned(),
                })?),
            };
        Ok(UrlInput {
            expires_in_minutes,
            auth_type: form.auth_type.clone(),
            invoke_mode: form.invoke_mode.clone(),
            cors: (form.cors.as_deref() == Some("yes")).then(|| Cors {
                allow_origins: names(form.allow_origins.as_deref()),
                allow_methods: names(form.allow_methods.as_deref())
                    .into_iter()
                    .map(|m| m.to_ascii_uppercase())
                    .collect(),
                allow_headers: names(form.allow_headers.as_deref()),
                expose_headers: names(form.expose_headers.as_deref()),
                allow_credentials: form.allow_credentials.as_deref() == Some("yes"),
                max_age,
            }),
        })
    }

    pub fn request(form: &UrlRequestForm) -> Result<HttpRequest, ApiError> {
        let mut headers = Vec::new();
        for line in form.headers.as_deref().unwrap_or_default().lines() {
            if line.trim().is_empty() {
                continue;
            }
            let Some((name, value)) = line.split_once(':') else {
                return Err(ApiError::Validation {
                    field: "headers".to_owned(),
                    message: format!("{line:?}: one header per line, as Name: value"),
                });
            };
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
        let path = form.path.trim();
        Ok(HttpRequest {
            method: form.method.trim().to_ascii_uppercase(),
            path: if path.is_empty() { "/".to_owned() } else { path.to_owned() },
            query: form
                .query
                .as_deref()
                .unwrap_or_default()
                .trim()
                .trim_start_matches('?')
                .to_owned(),
            headers,
            cookies: form.cookies.as_deref().unwrap_or_default().trim().to_owned(),
            body: form.body.clone().unwrap_or_default(),
        })
    }

    pub fn request_view(r: &HttpRequest) -> HttpRequestView {
        HttpRequestView {
            method: r.method.clone(),
            path: r.path.clone(),
            query: r.query.clone(),
            headers: r.headers.iter().map(|(k, v)| format!("{k}: {v}\n")).collect(),
            cookies: r.cookies.clone(),
            body: r.body.clone(),
        }
    }

    pub fn history(history: &[Past]) -> Vec<UrlRequestView> {
        history
            .iter()
            .map(|p| UrlRequestView {
                id: p.url_request_id.to_string(),
                at: super::super::labs::ssr::minute(p.sent_at),
                method: p.request.method.clone(),
                target: if p.request.query.is_empty() {
                    p.request.path.clone()
                } else {
                    format!("{}?{}", p.request.path, p.request.query)
                },
                status: p.status,
                millis: p.millis,
            })
            .collect()
    }

    pub fn tab(can_edit: bool, state: UrlState, request: HttpRequestView) -> UrlTabView {
        UrlTabView {
            can_edit,
            config: state.config.map(|c| UrlConfigView {
                url: c.url,
                auth_type: c.auth_type,
                invoke_mode: c.invoke_mode,
                cors: c.cors.map(|c| CorsView {
                    allow_origins: c.allow_origins.join(", "),
                    allow_methods: c.allow_methods.join(", "),
                    allow_headers: c.allow_headers.join(", "),
                    expose_headers: c.expose_headers.join(", "),
                    allow_credentials: c.allow_credentials,
                    max_age: c.max_age,
                }),
                created: c.created,
            }),
            statements: state
                .statements
                .iter()
                .map(|s| StatementView {
                    sid: s["Sid"].as_str().unwrap_or_default().to_owned(),
                    words: backend::urls::policy::describe(s),
                    json: serde_json::to_string_pretty(s).unwrap_or_default(),
                })
                .collect(),
            findings: state
                .findings
                .into_iter()
                .map(|f| FindingView {
                    severity: f.severity.as_str().to_owned(),
                    message: f.message,
                    fix_label: f.fix.as_ref().map(|fix| match fix {
                        PolicyFix::AddStatements => "Add the missing statement(s)".to_owned(),
                        PolicyFix::Remove(sid) => format!("Remove {sid}"),
                    }),
                    fix: f.fix.map(|fix| fix.encode()),
                })
                .collect(),
            request,
        }
    }

    pub fn exchange(sent: Sent) -> ExchangeView {
        let Sent { exchange, diagnosis, curl } = sent;
        ExchangeView {
            call: super::super::labs::ssr::call(&exchange.call),
            first_byte_ms: exchange.first_byte_ms,
            chunks: exchange
                .chunks
                .into_iter()
                .map(|c| ChunkView { at_ms: c.at_ms, bytes: c.bytes, text: c.text })
                .collect(),
            signed: exchange.signed,
            truncated: exchange.truncated,
            diagnosis: diagnosis.map(super::super::labs::ssr::diagnosis),
            curl,
        }
    }
}
