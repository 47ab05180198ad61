//! Starts the real console on port 0 against the test's own database, and talks to it over HTTP
//! like a browser would (cookies kept, redirects not followed).

use std::net::SocketAddr;
use std::time::Duration;

use backend::throttle::SignInThrottle;
use clap::Parser as _;
use reqwest::header::{ACCEPT, HeaderMap, HeaderValue, ORIGIN, REFERER};
use reqwest::{Response, StatusCode};
use server::Console;
use server::config::{Cli, Command, ServeArgs};
use sqlx::PgPool;
use tokio::net::TcpListener;

/// A running console and a browser-like client for it.
pub struct TestApp {
    pub addr: SocketAddr,
    pub pool: PgPool,
    pub client: reqwest::Client,
    /// The password of the first admin, `admin@lambdaport.local`.
    pub admin_password: String,
    pub _stop: tokio::sync::oneshot::Sender<()>,
}

pub fn serve_args(extra: &[&str]) -> ServeArgs {
    let args = ["lambdaport", "serve", "--listen", "127.0.0.1:0"].iter().chain(extra);
    match Cli::try_parse_from(args).expect("valid test arguments").command {
        Command::Serve(args) => args,
        _ => unreachable!("parsed serve"),
    }
}

pub async fn spawn_app(pool: PgPool) -> TestApp {
    spawn_app_with(pool, &[], None).await
}

pub async fn spawn_app_with(
    pool: PgPool,
    extra: &[&str],
    throttle: Option<SignInThrottle>,
) -> TestApp {
    spawn_app_configured(pool, extra, |console| match throttle {
        Some(throttle) => console.with_throttle(throttle),
        None => console,
    })
    .await
}

/// [`spawn_app_with`], with the console adjusted by `configure` before it serves.
pub async fn spawn_app_configured(
    pool: PgPool,
    extra: &[&str],
    configure: impl FnOnce(Console) -> Console,
) -> TestApp {
    let args = serve_args(extra);
    let console = Console::build_with(&args, pool.clone(), Duration::from_millis(300))
        .await
        .expect("console builds");
    let console = configure(console);
    let admin_password =
        console.ensure_first_admin().await.expect("first admin").expect("no accounts yet");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
    let addr = listener.local_addr().expect("local addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(console.serve(listener, async move {
        let _ = stopped.await;
    }));
    TestApp { addr, pool, client: client(), admin_password, _stop: stop }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        // A request the console never answers fails its test, naming the call, instead of
        // hanging the suite (one did, once, under a full parallel run).
        .timeout(std::time::Duration::from_secs(120))
        .build()
        .expect("client builds")
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A GET as a browser sends it.
    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    /// A server function call as the hydrated page sends it: a form body, our Origin.
    /// Calls a server function that takes JSON.
    pub async fn call_json(&self, function: &str, body: serde_json::Value) -> Response {
        self.client
            .post(self.url(&format!("/api/{function}")))
            .header(ORIGIN, self.origin())
            .json(&body)
            .send()
            .await
            .expect("server function call")
    }

    pub async fn call(&self, function: &str, form: &[(&str, &str)]) -> Response {
        self.call_with(function, form, HeaderMap::new()).await
    }

    pub async fn call_with(
        &self,
        function: &str,
        form: &[(&str, &str)],
        mut headers: HeaderMap,
    ) -> Response {
        if !headers.contains_key(ORIGIN) && !headers.contains_key(REFERER) {
            headers.insert(ORIGIN, HeaderValue::from_str(&self.origin()).expect("origin"));
        }
        self.client
            .post(self.url(&format!("/api/{function}")))
            .headers(headers)
            .form(form)
            .send()
            .await
            .expect("POST")
    }

    /// The same call as a browser without JavaScript posts the form.
    pub async fn post_form(
        &self,
        function: &str,
        form: &[(&str, &str)],
        from_page: &str,
    ) -> Response {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("text/html,application/xhtml+xml"));
        headers.insert(ORIGIN, HeaderValue::from_str(&self.origin()).expect("origin"));
        headers.insert(REFERER, HeaderValue::from_str(&self.url(from_page)).expect("referer"));
        self.call_with(function, form, headers).await
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Response {
        self.call("sign_in", &[("email", email), ("password", password)]).await
    }

    pub async fn sign_in_as_admin(&self) {
        let response = self.sign_in(server::FIRST_ADMIN_EMAIL, &self.admin_password.clone()).await;
        assert_eq!(response.status(), StatusCode::OK, "admin signs in");
    }

    /// Creates an account through the admin API and returns its one-time password.
    pub async fn create_account(&self, email: &str, role: &str) -> String {
        let response = self.call("create_account", &[("email", email), ("role", role)]).await;
        assert_eq!(response.status(), StatusCode::OK, "create_account");
        let created: serde_json::Value = response.json().await.expect("json");
        created["password"].as_str().expect("password in response").to_owned()
    }
}

impl TestApp {
    /// The admin page's data, as the signed-in caller sees it.
    pub async fn directory(&self) -> serde_json::Value {
        let response = self.call("list_directory", &[]).await;
        assert_eq!(response.status(), StatusCode::OK, "list_directory");
        response.json().await.expect("json")
    }
}

/// The id of the account with this email in a directory.
pub fn account_id(directory: &serde_json::Value, email: &str) -> String {
    directory["accounts"]
        .as_array()
        .and_then(|accounts| accounts.iter().find(|a| a["email"] == email))
        .and_then(|a| a["account_id"].as_str())
        .unwrap_or_else(|| panic!("{email} is listed"))
        .to_owned()
}

/// Where a redirect points.
pub fn location(response: &Response) -> String {
    response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}
