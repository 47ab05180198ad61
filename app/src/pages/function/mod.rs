//! The function page: a header, and tabs that each have their own address — Overview (the
//! catalog's record beside the configuration read live from the cloud, with drift), Code, Test,
//! Logs, Versions, Configuration, Tags (and ownership), Activity and Cleanup. Each tab is rendered on the server
//! and works without JavaScript; the function is read once for all of them.

mod activity;
mod code;
mod configuration;
pub(crate) mod logs;
mod monitor;
mod overview;
mod permissions;
mod tags;
mod test;
mod url;
mod versions;

pub use activity::ActivityTab;
pub use code::CodeTab;
pub use configuration::ConfigurationTab;
pub use logs::LogsTab;
pub use monitor::MonitorTab;
pub use overview::OverviewTab;
pub use permissions::PermissionsTab;
pub use tags::TagsTab;
pub use test::TestTab;
pub use url::UrlTab;
pub use versions::VersionsTab;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{A, Outlet};
use leptos_router::hooks::use_params_map;

use crate::api::catalog::{
    TakeCloudValue, TransferFunction, UpdateFunctionConfiguration, UpdateFunctionMetadata,
    get_function_detail,
};
use crate::api::governance::{DecideException, RequestException};
use crate::components::forms::successes;
use crate::error::{ApiError, error_fallback};
use crate::pages::labs::FunctionCleanup;
use crate::types::FunctionDetail;

/// The tabs, as (path under `/catalog/:id`, label).
const TABS: [(&str, &str); 12] = [
    ("", "Overview"),
    ("/code", "Code"),
    ("/test", "Test"),
    ("/url", "URL"),
    ("/logs", "Logs"),
    ("/monitor", "Monitor"),
    ("/versions", "Versions"),
    ("/configuration", "Configuration"),
    ("/permissions", "Permissions"),
    ("/tags", "Tags"),
    ("/activity", "Activity"),
    ("/cleanup", "Cleanup"),
];

/// What every tab shares: the function as read, and the changes that make it read again.
#[derive(Clone, Copy)]
pub(crate) struct Function {
    pub(crate) detail: Resource<Result<FunctionDetail, ApiError>>,
    pub(crate) save: ServerAction<UpdateFunctionMetadata>,
    pub(crate) configure: ServerAction<UpdateFunctionConfiguration>,
    pub(crate) transfer: ServerAction<TransferFunction>,
    pub(crate) take: ServerAction<TakeCloudValue>,
    pub(crate) request: ServerAction<RequestException>,
    pub(crate) decide: ServerAction<DecideException>,
}

#[component]
pub fn FunctionPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let save = ServerAction::<UpdateFunctionMetadata>::new();
    let configure = ServerAction::<UpdateFunctionConfiguration>::new();
    let transfer = ServerAction::<TransferFunction>::new();
    let take = ServerAction::<TakeCloudValue>::new();
    let request = ServerAction::<RequestException>::new();
    let decide = ServerAction::<DecideException>::new();
    let (requested, decided) = (successes(request.value()), successes(decide.value()));
    // Reloaded after a change that succeeded only: a refused one leaves the form as the user
    // typed it, next to the reason.
    let (saved, configured) = (successes(save.value()), successes(configure.value()));
    let detail = Resource::new(
        move || {
            let versions = (saved.get(), configured.get(), requested.get(), decided.get());
            (id(), versions, transfer.version().get(), take.version().get())
        },
        |(id, ..)| get_function_detail(id),
    );
    provide_context(Function { detail, save, configure, transfer, take, request, decide });
    view! {
        <Title text="Function" />
        <p><a href="/catalog">"← Catalog"</a></p>
        <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move {
                    detail.await.map(|d| {
                        let row = d.row;
                        view! {
                            <div class="page-head">
                                <h1>{row.name.clone()}</h1>
                                {row.gone.then(|| view! { <span class="badge badge-danger">"gone from the cloud"</span> })}
                                {(row.violations > 0).then(|| view! {
                                    <span class="badge badge-danger" data-testid="breaks-rules">
                                        {format!("breaks {} rule{}", row.violations, if row.violations == 1 { "" } else { "s" })}
                                    </span>
                                })}
                            </div>
                            <p class="muted">{d.arn} " · " {row.connection} " · " {row.region}</p>
                        }
                    })
                })}
            </ErrorBoundary>
        </Transition>
        <nav class="tabs" aria-label="Function">
            {TABS
                .into_iter()
                .map(|(path, label)| {
                    view! { <A href=move || format!("/catalog/{}{path}", id()) exact=true>{label}</A> }
                })
                .collect_view()}
        </nav>
        <Outlet />
    }
}

/// A tab's content, once the function is read.
fn with_detail<V: IntoView + 'static>(
    tab: impl Fn(FunctionDetail, Function) -> V + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let function = expect_context::<Function>();
    view! {
        <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
            <ErrorBoundary fallback=|_| ()>
                {move || {
                    let tab = tab.clone();
                    Suspend::new(async move { function.detail.await.map(|d| tab(d, function)) })
                }}
            </ErrorBoundary>
        </Transition>
    }
}

/// The Cleanup tab: what the console made for this function, and delete-and-verify.
#[component]
pub fn CleanupTab() -> impl IntoView {
    with_detail(
        |d, _| view! { <FunctionCleanup function_id=d.row.function_id name=d.row.name can_edit=d.can_edit /> },
    )
}

/// Why a tab's forms are not shown, when they are not.
fn read_only(d: &FunctionDetail, what: &'static str) -> Option<AnyView> {
    if !d.can_edit {
        Some(view! { <p class="muted card">{format!("Only the owner, their team and admins can change {what}.")}</p> }.into_any())
    } else {
        d.live_error.clone().map(|error| {
            view! { <div class="alert alert-error" role="alert">{format!("The cloud could not be read, so {what} cannot be changed now: {error}")}</div> }.into_any()
        })
    }
}
