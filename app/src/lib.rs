//! The Lambdaport console UI: the HTML shell, the routes, pages and their server functions.
//! Built twice: with `ssr` into the server, with `hydrate` into the browser's wasm.

#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod error;
pub mod forms;
pub mod pages;
pub mod rules;
pub mod types;
pub mod url;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{SsrMode, path};

use crate::components::shell::{AdminOnly, Shell};
use crate::pages::{
    admin, audit, catalog, cost, create, dashboard, function, governance, labs, not_found, orphans,
    profile, signin, violations,
};

#[cfg(feature = "ssr")]
pub use api::ssr::{ACCOUNT_KEY, ClientAddr, ConsoleContext, SIGNED_IN_KEY};

/// The document around every page.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The console: sign-in outside the shell, every other page inside it.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser, after hydration: mark the document so tests can wait for it.
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "");
        }
    });
    // Every route renders with `SsrMode::Async`: a page is sent once its data is read, so statuses
    // and session changes made while rendering (the one-time flash message) are in the response.
    view! {
        <Stylesheet id="lambdaport" href="/pkg/lambdaport.css" />
        <Title formatter=|page: String| format!("{page} · Lambdaport") />
        <Router>
            <Routes fallback=not_found::NotFound>
                <Route path=path!("/signin") view=signin::SignIn ssr=SsrMode::Async />
                <Route path=path!("/signup") view=signin::SignUp ssr=SsrMode::Async />
                <ParentRoute path=path!("") view=Shell ssr=SsrMode::Async>
                    <Route path=path!("") view=dashboard::DashboardPage ssr=SsrMode::Async />
                    <Route path=path!("catalog") view=catalog::CatalogPage ssr=SsrMode::Async />
                    <ParentRoute path=path!("catalog/:id") view=function::FunctionPage ssr=SsrMode::Async>
                        <Route path=path!("") view=function::OverviewTab ssr=SsrMode::Async />
                        <Route path=path!("code") view=function::CodeTab ssr=SsrMode::Async />
                        <Route path=path!("test") view=function::TestTab ssr=SsrMode::Async />
                        <Route path=path!("url") view=function::UrlTab ssr=SsrMode::Async />
                        <Route path=path!("logs") view=function::LogsTab ssr=SsrMode::Async />
                        <Route path=path!("monitor") view=function::MonitorTab ssr=SsrMode::Async />
                        <Route path=path!("versions") view=function::VersionsTab ssr=SsrMode::Async />
                        <Route path=path!("configuration") view=function::ConfigurationTab ssr=SsrMode::Async />
                        <Route path=path!("permissions") view=function::PermissionsTab ssr=SsrMode::Async />
                        <Route path=path!("tags") view=function::TagsTab ssr=SsrMode::Async />
                        <Route path=path!("activity") view=function::ActivityTab ssr=SsrMode::Async />
                        <Route path=path!("cleanup") view=function::CleanupTab ssr=SsrMode::Async />
                    </ParentRoute>
                    <Route path=path!("create") view=labs::CreatePage ssr=SsrMode::Async />
                    <Route path=path!("create/function") view=create::CreateFunctionPage ssr=SsrMode::Async />
                    <Route path=path!("labs") view=labs::LabsPage ssr=SsrMode::Async />
                    <Route path=path!("labs/:id") view=labs::LabPage ssr=SsrMode::Async />
                    <Route path=path!("governance") view=|| view! { <AdminOnly what="Governance"><governance::GovernancePage /></AdminOnly> } ssr=SsrMode::Async />
                    <Route path=path!("governance/violations") view=|| view! { <AdminOnly what="Violations"><violations::ViolationsPage /></AdminOnly> } ssr=SsrMode::Async />
                    <Route path=path!("governance/cost") view=|| view! { <AdminOnly what="Cost"><cost::CostPage /></AdminOnly> } ssr=SsrMode::Async />
                    <Route path=path!("governance/orphans") view=|| view! { <AdminOnly what="Orphan log groups"><orphans::OrphansPage /></AdminOnly> } ssr=SsrMode::Async />
                    <Route path=path!("audit") view=|| view! { <AdminOnly what="The audit trail"><audit::AuditPage /></AdminOnly> } ssr=SsrMode::Async />
                    <Route path=path!("admin") view=|| view! { <AdminOnly what="The admin page"><admin::AdminPage /></AdminOnly> } ssr=SsrMode::Async />
                    <Route path=path!("profile") view=profile::ProfilePage ssr=SsrMode::Async />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
