//! What the console's handlers share, and how its sessions behave: the web router and the REST API
//! both take these, so they live apart from either.

use std::sync::Arc;
use std::time::Duration;

use app::ConsoleContext;
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;

/// Everything the router's handlers share.
#[derive(Clone, Debug, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub console: ConsoleContext,
    /// The origin allowed to send unsafe requests, when configured; otherwise the request's Host.
    pub public_origin: Option<Arc<str>>,
    /// Whose forwarding headers name the client.
    pub trusted_proxies: Arc<crate::client_addr::TrustedProxies>,
    /// How many of the pages' actions run at once.
    pub admission: Arc<crate::admission::Admission>,
}

/// How sessions behave.
#[derive(Clone, Copy, Debug)]
pub struct SessionSettings {
    pub idle: Duration,
    pub secure: bool,
}
