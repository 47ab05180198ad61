//! The catalog page: every function the caller can see, searched and filtered through the URL
//! (so a view can be shared), a page at a time; facet counts; drift, ghost and public-URL
//! badges; the connections with their last reconciliation and "Sync now"; shadows to import.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::catalog::{ArchiveFunction, ImportFunction, SyncConnection, search_catalog};
use crate::components::forms::outcome;
use crate::error::error_fallback;
use crate::types::{CatalogFilters, CatalogPage, CatalogRowView, ConnectionView, FacetView};

const FILTER_KEYS: [&str; 14] = [
    "q",
    "owner",
    "team",
    "runtime",
    "state",
    "lifecycle",
    "environment",
    "connection",
    "region",
    "tag",
    "public",
    "drift",
    "view",
    "sort",
];

/// `/catalog?…` with `pairs`, leaving out empty values.
fn href(pairs: &[(&str, String)]) -> String {
    let query = crate::url::query(pairs);
    if query.is_empty() { "/catalog".to_owned() } else { format!("/catalog?{query}") }
}

#[component]
pub fn CatalogPage() -> impl IntoView {
    let query = use_query_map();
    let sync = ServerAction::<SyncConnection>::new();
    let import = ServerAction::<ImportFunction>::new();
    let archive = ServerAction::<ArchiveFunction>::new();
    let filters = move || {
        query.with(|q| {
            let get = |k: &str| q.get(k).filter(|v| !v.is_empty());
            CatalogFilters {
                q: get("q"),
                owner: get("owner"),
                team: get("team"),
                runtime: get("runtime"),
                state: get("state"),
                lifecycle: get("lifecycle"),
                environment: get("environment"),
                connection: get("connection"),
                region: get("region"),
                tag: get("tag"),
                public: get("public"),
                drift: get("drift"),
                view: get("view"),
                sort: get("sort"),
                after: get("after"),
            }
        })
    };
    let page = Resource::new(
        move || (filters(), sync.version().get(), import.version().get(), archive.version().get()),
        |(filters, ..)| search_catalog(filters),
    );
    let current = move || {
        query.with(|q| {
            FILTER_KEYS.iter().map(|k| (*k, q.get(k).unwrap_or_default())).collect::<Vec<_>>()
        })
    };
    // `value` for the server's HTML, `prop:value` to follow the URL after hydration.
    let param = move |key: &'static str| move || query.with(|q| q.get(key).unwrap_or_default());
    view! {
        <Title text="Catalog" />
        <div class="page-head">
            <h1>"Catalog"</h1>
            <a class="btn btn-primary" href="/create">"Create function"</a>
        </div>
        {outcome(sync.value(), |message| message)}
        {outcome(import.value(), |()| "Imported into the catalog".to_owned())}
        {outcome(archive.value(), |()| "Archived".to_owned())}
        <form method="get" action="/catalog" class="card filters" role="search">
            <label for="catalog-q">"Search"</label>
            <input id="catalog-q" name="q" type="search" placeholder="name, description or tag"
                value=param("q") prop:value=param("q") />
            <label for="catalog-tag">"Tag"</label>
            <input id="catalog-tag" name="tag" placeholder="key=value"
                value=param("tag") prop:value=param("tag") />
            <label for="catalog-owner">"Owner"</label>
            <input id="catalog-owner" name="owner" type="email" placeholder="email"
                value=param("owner") prop:value=param("owner") />
            <label class="check">
                <input type="checkbox" name="public" value="1"
                    prop:checked=move || query.with(|q| q.get("public").is_some()) />
                " Has a public URL"
            </label>
            <label class="check">
                <input type="checkbox" name="drift" value="1"
                    prop:checked=move || query.with(|q| q.get("drift").is_some()) />
                " Drift (the cloud's tags disagree)"
            </label>
            <label class="check">
                <input type="checkbox" name="view" value="shadows"
                    prop:checked=move || query.with(|q| q.get("view").as_deref() == Some("shadows")) />
                " Not in the catalog yet (shadows)"
            </label>
            <label for="catalog-sort">"Sort"</label>
            <select id="catalog-sort" name="sort">
                <option value="" selected=move || query.with(|q| q.get("sort").is_none())>"Name (A–Z)"</option>
                <option value="updated" selected=move || query.with(|q| q.get("sort").as_deref() == Some("updated"))>
                    "Recently updated"
                </option>
            </select>
            <button type="submit" class="btn">"Search"</button>
            <a class="btn" href="/catalog">"Clear"</a>
        </form>
        <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move {
                    let shown = current();
                    page.await.map(|p| view! { <CatalogView p shown sync import archive /> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn CatalogView(
    p: CatalogPage,
    shown: Vec<(&'static str, String)>,
    sync: ServerAction<SyncConnection>,
    import: ServerAction<ImportFunction>,
    archive: ServerAction<ArchiveFunction>,
) -> impl IntoView {
    let shadows = shown.iter().any(|(k, v)| *k == "view" && v == "shadows");
    let filtered = shown.iter().any(|(_, v)| !v.is_empty());
    let next = p.next.clone().map(|after| {
        let mut pairs = shown.clone();
        pairs.push(("after", after));
        href(&pairs)
    });
    let (can_sync, can_archive) = (p.can_sync, p.can_archive);
    let empty = p.rows.is_empty();
    view! {
        <div class="catalog-layout">
            <aside class="facets" aria-label="Facets">
                <Facets facets=p.facets shown=shown.clone() />
            </aside>
            <div class="catalog-main">
                <Connections connections=p.connections can_sync sync />
                {if empty {
                    let message = match (shadows, filtered) {
                        (true, _) => "No shadows: every function found in the cloud is in the catalog.",
                        (false, true) => "No function matches these filters.",
                        (false, false) => "The catalog is empty. Create a function, or sync a connection to find the ones already in the cloud.",
                    };
                    view! {
                        <div class="card empty-state" data-testid="catalog-empty">
                            <p>{message}</p>
                            <a class="btn btn-primary" href="/create">"Create function"</a>
                        </div>
                    }
                        .into_any()
                } else {
                    view! {
                        <table class="table" data-testid="catalog-table">
                            <thead>
                                <tr>
                                    <th scope="col">"Function"</th>
                                    <th scope="col">"Runtime"</th>
                                    <th scope="col">"Owner"</th>
                                    <th scope="col">"Lifecycle"</th>
                                    <th scope="col">"Where"</th>
                                    <th scope="col">"Tags"</th>
                                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                </tr>
                            </thead>
                            <tbody>
                                {p.rows
                                    .into_iter()
                                    .map(|row| view! { <Row row shadows can_sync can_archive import archive /> })
                                    .collect_view()}
                            </tbody>
                        </table>
                    }
                        .into_any()
                }}
                {next.map(|href| view! { <a class="btn" href=href rel="next">"Next page"</a> })}
            </div>
        </div>
    }
}

#[component]
fn Row(
    row: CatalogRowView,
    shadows: bool,
    can_sync: bool,
    can_archive: bool,
    import: ServerAction<ImportFunction>,
    archive: ServerAction<ArchiveFunction>,
) -> impl IntoView {
    let owner = row.owner.clone().unwrap_or_else(|| "—".to_owned());
    let tags = row
        .tags
        .iter()
        .map(|(k, v)| view! { <span class="tag">{format!("{k}={v}")}</span> })
        .collect_view();
    let id = row.function_id.clone();
    let id_for_archive = row.function_id.clone();
    view! {
        <tr data-testid="catalog-row">
            <td>
                {if !shadows {
                    view! { <a href=format!("/catalog/{}", row.function_id)><strong>{row.name.clone()}</strong></a> }.into_any()
                } else {
                    view! { <strong>{row.name.clone()}</strong> }.into_any()
                }}
                {row.gone.then(|| view! { <span class="badge badge-danger" title="no longer in the cloud">"gone"</span> })}
                {row.drift.then(|| view! { <span class="badge badge-warn" title="the cloud's lambdaport tags disagree with the catalog">"drift"</span> })}
                {row.public_url.then(|| view! { <span class="badge" title="a Function URL anyone can call">"public URL"</span> })}
                <div class="muted">{row.description.clone()}</div>
            </td>
            <td>{row.runtime.clone()}</td>
            <td>{owner}{row.team.clone().map(|t| view! { <div class="muted">{t}</div> })}</td>
            <td>{row.lifecycle.clone()} <div class="muted">{row.environment.clone()}</div></td>
            <td>{row.connection.clone()} <div class="muted">{row.region.clone()}</div></td>
            <td>{tags}</td>
            <td>
                {(shadows && can_sync).then(|| view! {
                    <ActionForm action=import>
                        <input type="hidden" name="function_id" value=id.clone() />
                        // Admins name the owner; a developer imports as themselves, and only
                        // what the cloud's lambdaport:owner / lambdaport:team tags give them.
                        {can_archive.then(|| view! {
                            <label class="visually-hidden" for=format!("owner-{id}")>"Owner"</label>
                            <input id=format!("owner-{id}") name="owner" type="email" placeholder="owner email"
                                value=row.suggested_owner.clone().unwrap_or_default() />
                        })}
                        <button type="submit" class="btn btn-small">"Import"</button>
                    </ActionForm>
                })}
                {(row.gone && can_archive).then(|| view! {
                    <ActionForm action=archive>
                        <input type="hidden" name="function_id" value=id_for_archive.clone() />
                        <button type="submit" class="btn btn-small">"Archive"</button>
                    </ActionForm>
                })}
            </td>
        </tr>
    }
}

#[component]
fn Facets(facets: Vec<FacetView>, shown: Vec<(&'static str, String)>) -> impl IntoView {
    let groups =
        ["runtime", "lifecycle", "environment", "state", "owner", "team", "connection", "region"];
    groups
        .into_iter()
        .map(|group| {
            let values: Vec<&FacetView> = facets.iter().filter(|f| f.facet == group).collect();
            (!values.is_empty()).then(|| {
                let links = values
                    .into_iter()
                    .map(|f| {
                        let mut pairs: Vec<(&str, String)> =
                            shown.iter().filter(|(k, _)| *k != group).cloned().collect();
                        pairs.push((group, f.value.clone()));
                        let active = shown.iter().any(|(k, v)| *k == group && *v == f.value);
                        view! {
                            <li>
                                <a href=href(&pairs) aria-current=active.then_some("true")>
                                    {f.label.clone()}
                                </a>
                                " " <span class="count">{f.count}</span>
                            </li>
                        }
                    })
                    .collect_view();
                view! {
                    <section>
                        <h2 class="facet-title">{group}</h2>
                        <ul class="facet-list">{links}</ul>
                    </section>
                }
            })
        })
        .collect_view()
}

#[component]
fn Connections(
    connections: Vec<ConnectionView>,
    can_sync: bool,
    sync: ServerAction<SyncConnection>,
) -> impl IntoView {
    (!connections.is_empty()).then(|| {
        let items = connections
            .into_iter()
            .map(|c| {
                let id = c.connection_id.clone();
                view! {
                    <li data-testid="connection">
                        <strong>{c.name.clone()}</strong>
                        " " <span class="muted">{c.regions.clone()}</span>
                        " " <span class="muted">{c.last_sync.unwrap_or_else(|| "never synced".to_owned())}</span>
                        {can_sync.then(|| view! {
                            <ActionForm action=sync>
                                <input type="hidden" name="connection_id" value=id.clone() />
                                <button type="submit" class="btn btn-small" disabled=move || sync.pending().get()>
                                    {move || if sync.pending().get() { "Syncing…" } else { "Sync now" }}
                                </button>
                            </ActionForm>
                        })}
                    </li>
                }
            })
            .collect_view();
        view! { <ul class="connections card">{items}</ul> }
    })
}
