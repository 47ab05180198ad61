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

const FILTER_KEYS: [&str; 15] = [
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
    "violates",
    "view",
    "sort",
];

/// The filters the facet panel sets (the form has no field for them).
const FACETS: [&str; 8] =
    ["runtime", "lifecycle", "environment", "state", "owner", "team", "connection", "region"];

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
                violates: get("violates"),
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
    // Where a function page's cleanup ends: only a well-formed function name is shown.
    let cleaned = move || {
        query
            .with(|q| q.get("cleaned"))
            .filter(|name| crate::rules::function_name_problem(name).is_none())
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
        {move || cleaned().map(|name| view! {
            <div class="alert alert-ok" role="status" data-testid="cleaned">
                <strong>{name}</strong>
                " is gone: cleanup deleted what the console created for it, and the cloud confirms each deletion. Its history stays in the audit log."
            </div>
        })}
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
                <input type="checkbox" name="violates" value="any"
                    prop:checked=move || query.with(|q| q.get("violates").is_some()) />
                " Breaks a governance rule"
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
            // The facets chosen in the side panel stay chosen when the form is sent.
            {move || {
                query.with(|q| {
                    FACETS
                        .iter()
                        .filter(|k| **k != "owner")
                        .filter_map(|k| q.get(k).filter(|v| !v.is_empty()).map(|v| (*k, v)))
                        .map(|(k, v)| view! { <input type="hidden" name=k value=v /> })
                        .collect_view()
                })
            }}
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
    let found_shadows = p.shadows;
    let searched =
        shown.iter().find(|(k, _)| *k == "q").map(|(_, v)| v.clone()).unwrap_or_default();
    let chips = active_filters(&shown, &p.facets);
    view! {
        <div class="catalog-layout">
            <aside class="facets" aria-label="Facets">
                <Facets facets=p.facets shown=shown.clone() />
            </aside>
            <div class="catalog-main">
                <Connections connections=p.connections can_sync sync />
                {chips}
                {p.by_name.then(|| view! {
                    <p class="notice" data-testid="by-name" role="status">
                        "No word starts with “" {searched.clone()} "”: these are the functions whose name contains it."
                    </p>
                })}
                {if empty {
                    let message = match (shadows, filtered) {
                        (true, _) => "No shadows: every function found in the cloud is in the catalog.".to_owned(),
                        (false, true) => "No function matches these filters.".to_owned(),
                        (false, false) => "The catalog is empty.".to_owned(),
                    };
                    let hint = (!shadows).then(|| match found_shadows {
                        0 if filtered => None,
                        0 => Some(view! {
                            <p>"Create a function, or sync a connection to find the ones already in the cloud."</p>
                        }.into_any()),
                        n => Some(view! {
                            <p>
                                {format!("{n} function{} found in the cloud {} not in the catalog yet. ",
                                    if n == 1 { "" } else { "s" }, if n == 1 { "is" } else { "are" })}
                                <a href="/catalog?view=shadows" data-testid="see-shadows">"See them and import"</a>
                            </p>
                        }.into_any()),
                    }).flatten();
                    view! {
                        <div class="card empty-state" data-testid="catalog-empty">
                            <p>{message}</p>
                            {hint}
                            <a class="btn btn-primary" href="/create">"Create function"</a>
                        </div>
                    }
                        .into_any()
                } else {
                    view! {
                        <div class="table-wrap">
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
                        </div>
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
                {(row.violations > 0).then(|| view! {
                    <span class="badge badge-danger" title="error-level governance findings; see Governance → Violations">
                        {format!("breaks {} rule{}", row.violations, if row.violations == 1 { "" } else { "s" })}
                    </span>
                })}
                <div class="muted">{row.description.clone()}</div>
            </td>
            <td>{row.runtime.clone()}</td>
            <td>{owner}{row.team.clone().map(|t| view! { <div class="muted">{t}</div> })}</td>
            <td>{row.lifecycle.clone()} <div class="muted">{row.environment.clone()}</div></td>
            <td>{row.connection.clone()} <div class="muted">{row.region.clone()}</div></td>
            <td>{tags}</td>
            <td>
                {(shadows && !row.adoption.is_empty()).then(|| {
                    let items = row.adoption.iter().map(|(field, value, problem)| {
                        let class = if problem.is_some() { "adopt-problem" } else { "adopt-ok" };
                        view! {
                            <li class=class>
                                {format!("{field}: {value}")}
                                {problem.clone().map(|p| view! { <span>{format!(" — {p}")}</span> })}
                            </li>
                        }
                    }).collect_view();
                    view! {
                        <div class="adoption" data-testid="adoption">
                            <span class="muted">"Import takes from the cloud's tags:"</span>
                            <ul>{items}</ul>
                        </div>
                    }
                })}
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

/// The filters in force, each with a link that removes it alone.
fn active_filters(shown: &[(&'static str, String)], facets: &[FacetView]) -> Option<AnyView> {
    let chips = shown
        .iter()
        .filter(|(k, v)| !v.is_empty() && *k != "sort")
        .map(|(key, value)| {
            let without: Vec<(&str, String)> =
                shown.iter().filter(|(k, _)| k != key).cloned().collect();
            let label = match *key {
                "q" => format!("“{value}”"),
                "public" => "has a public URL".to_owned(),
                "drift" => "drift".to_owned(),
                "violates" if value == "any" => "breaks a rule".to_owned(),
                "violates" => format!("breaks {value}"),
                "view" => "shadows".to_owned(),
                facet => {
                    let name = facets
                        .iter()
                        .find(|f| f.facet == facet && f.value == *value)
                        .map_or(value.as_str(), |f| f.label.as_str());
                    format!("{facet}: {name}")
                }
            };
            view! {
                <li class="chip">
                    {label.clone()}
                    " "
                    <a href=href(&without) aria-label=format!("Remove the filter {label}")>"×"</a>
                </li>
            }
        })
        .collect::<Vec<_>>();
    (!chips.is_empty()).then(|| {
        view! { <ul class="chips" aria-label="Filters in force" data-testid="active-filters">{chips}</ul> }
            .into_any()
    })
}

#[component]
fn Facets(facets: Vec<FacetView>, shown: Vec<(&'static str, String)>) -> impl IntoView {
    FACETS
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
