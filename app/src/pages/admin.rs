//! The admin page: accounts and their roles, teams and their members.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::admin::{
    AddTeamMember, CreateAccount, CreateTeam, ResetAccountPassword, SetAccountDisabled,
    SetAccountRole, SetCatalogRestricted, SetLabExpiryHours, catalog_restricted,
    engine_containment, expiry_message, lab_expiry_hours, list_directory, restriction_message,
};
use crate::components::forms::{clear_on_success, outcome};
use crate::error::error_fallback;
use crate::types::{AccountView, Directory, ROLES, TeamView};

#[component]
pub fn AdminPage() -> impl IntoView {
    let create = ServerAction::<CreateAccount>::new();
    let set_role = ServerAction::<SetAccountRole>::new();
    let create_team = ServerAction::<CreateTeam>::new();
    let add_member = ServerAction::<AddTeamMember>::new();
    let disable = ServerAction::<SetAccountDisabled>::new();
    let reset = ServerAction::<ResetAccountPassword>::new();
    let directory = Resource::new(
        move || {
            (
                create.version().get(),
                set_role.version().get(),
                create_team.version().get(),
                add_member.version().get(),
                disable.version().get(),
            )
        },
        |_| list_directory(),
    );
    let actions = Actions { set_role, add_member, disable, reset };
    let create_form = clear_on_success(create.value());
    let team_form = clear_on_success(create_team.value());
    view! {
        <Title text="Admin" />
        <h1>"Admin"</h1>
        <p class="lead">"Accounts, roles, teams and connections. Every change here is recorded in the audit trail."</p>
        <div class="grid-2">
            <section class="card">
                <h2>"Add a user"</h2>
                <p class="muted">"They get a generated password, shown once. Give it to them directly."</p>
                {outcome(create.value(), |c: crate::types::CreatedAccount| {
                    format!("Created {} ({}). One-time password: {}", c.email, c.role, c.password)
                })}
                <ActionForm action=create node_ref=create_form>
                    <label for="new-email">"Email"</label>
                    <input id="new-email" name="email" type="email" required autocomplete="off" />
                    <label for="new-role">"Role"</label>
                    <select id="new-role" name="role">
                        {ROLES.map(|r| view! { <option value=r>{r}</option> }).collect_view()}
                    </select>
                    <button type="submit" class="btn btn-primary" disabled=create.pending()>"Add user"</button>
                </ActionForm>
            </section>
            <section class="card">
                <h2>"Create a team"</h2>
                <p class="muted">"Teams share ownership of functions."</p>
                {outcome(create_team.value(), |()| "Team created".to_owned())}
                <ActionForm action=create_team node_ref=team_form>
                    <label for="team-name">"Team name"</label>
                    <input id="team-name" name="name" required maxlength="64" autocomplete="off" />
                    <button type="submit" class="btn btn-primary" disabled=create_team.pending()>"Create team"</button>
                </ActionForm>
            </section>
        </div>
        {outcome(set_role.value(), |()| "Role changed".to_owned())}
        {outcome(add_member.value(), |()| "Member added".to_owned())}
        {outcome(disable.value(), |()| "Saved; a disabled account's sessions and tokens stop at once".to_owned())}
        {outcome(reset.value(), |p: String| format!("The new one-time password is {p}. Give it to them now; it is not shown again, and their sessions have ended."))}
        <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
            <ErrorBoundary fallback=error_fallback>
                {move || Suspend::new(async move {
                    directory.await.map(|d| view! { <DirectoryView d actions /> })
                })}
            </ErrorBoundary>
        </Transition>
        // Beside the directory, not inside it: a component that makes its resource inside a
        // resolved Suspend renders differently on the server and in the browser, and the page
        // then fails to hydrate.
        <CatalogAccess />
        <LabExpiry />
        <EngineSandbox />
        <crate::pages::connections::ConnectionsAdmin />
    }
}

/// Whether the embedded engine contains the code it runs; learners are offered it only then.
#[component]
fn EngineSandbox() -> impl IntoView {
    let status = Resource::new(|| (), |()| engine_containment());
    view! {
        <section class="card" aria-labelledby="engine-sandbox">
            <h2 id="engine-sandbox">"Embedded engine"</h2>
            <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
                <ErrorBoundary fallback=error_fallback>
                    {move || Suspend::new(async move {
                        status.await.map(|status| match status {
                            None => view! {
                                <p>"This console runs without an embedded engine (--no-engine)."</p>
                            }.into_any(),
                            Some(s) if s.contained => view! {
                                <p>"Function code is sandboxed: " {s.description}</p>
                            }.into_any(),
                            Some(s) => view! {
                                <p class="alert alert-error" role="alert">
                                    "Function code is NOT sandboxed: " {s.description}
                                    ". Learners are not offered the embedded engine. See SECURITY.md."
                                </p>
                            }.into_any(),
                        })
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

/// Who may read the catalog: everyone signed in (the default), or only the owners of each function
/// and their teams (admins always see everything).
#[component]
fn CatalogAccess() -> impl IntoView {
    let set = ServerAction::<SetCatalogRestricted>::new();
    let current = Resource::new(move || set.version().get(), |_| catalog_restricted());
    view! {
        <section class="card" aria-labelledby="catalog-access">
            <h2 id="catalog-access">"Catalog access"</h2>
            {outcome(set.value(), restriction_message)}
            <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
                <ErrorBoundary fallback=error_fallback>
                    {move || Suspend::new(async move {
                        current.await.map(|restricted| view! {
                            <p data-testid="catalog-access">{restriction_message(restricted)} "."</p>
                            <ActionForm action=set>
                                <label class="check" for="restrict-catalog">
                                    <input id="restrict-catalog" type="checkbox" name="restricted" value="yes"
                                        checked=restricted />
                                    " Only owners, their teams and admins may see a function"
                                </label>
                                <button type="submit" class="btn" disabled=set.pending()>"Save access"</button>
                            </ActionForm>
                        })
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

/// How long learners' lab runs live before the sweeper cleans them up.
#[component]
fn LabExpiry() -> impl IntoView {
    let set = ServerAction::<SetLabExpiryHours>::new();
    let current = Resource::new(move || set.version().get(), |_| lab_expiry_hours());
    view! {
        <section class="card" aria-labelledby="lab-expiry">
            <h2 id="lab-expiry">"Lab expiry"</h2>
            {outcome(set.value(), expiry_message)}
            <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
                <ErrorBoundary fallback=error_fallback>
                    {move || Suspend::new(async move {
                        current.await.map(|hours| view! {
                            <p>{expiry_message(hours)} ". Learners may choose less, never more; others choose any expiry when they start a run (or none)."</p>
                            <ActionForm action=set>
                                <label for="lab-expiry-hours">"Hours before learners' lab runs are cleaned up"</label>
                                <input id="lab-expiry-hours" name="hours" type="number" min="1" max="720" required
                                    value=hours.to_string() />
                                <button type="submit" class="btn" disabled=set.pending()>"Save expiry"</button>
                            </ActionForm>
                        })
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

/// The actions the tables' per-row forms dispatch.
#[derive(Clone, Copy)]
struct Actions {
    set_role: ServerAction<SetAccountRole>,
    add_member: ServerAction<AddTeamMember>,
    disable: ServerAction<SetAccountDisabled>,
    reset: ServerAction<ResetAccountPassword>,
}

#[component]
fn DirectoryView(d: Directory, actions: Actions) -> impl IntoView {
    let (filter, set_filter) = signal(String::new());
    let total = d.accounts.len();
    let emails: Vec<String> = d.accounts.iter().map(|a| a.email.clone()).collect();
    let shown = move || {
        let needle = filter.get().to_lowercase();
        emails.iter().filter(|e| e.contains(&needle)).count()
    };
    let options: Vec<(String, String)> =
        d.accounts.iter().map(|a| (a.account_id.clone(), a.email.clone())).collect();
    view! {
        <section class="card">
            <div class="section-head">
                <h2>"Users"</h2>
                <label class="filter">
                    <span class="visually-hidden">"Filter users"</span>
                    <input type="search" placeholder="Filter by email" aria-label="Filter users"
                        on:input:target=move |ev| set_filter.set(ev.target().value()) />
                </label>
            </div>
            <p class="muted" aria-live="polite" data-testid="user-count">
                {move || format!("Showing {} of {total} users", shown())}
            </p>
            <div class="table-wrap">
                <table>
                    <thead>
                        <tr><th scope="col">"Email"</th><th scope="col">"Role"</th><th scope="col">"Teams"</th><th scope="col">"Created"</th><th scope="col">"Access"</th></tr>
                    </thead>
                    <tbody>
                        {d.accounts.into_iter().map(|a| view! { <AccountRow a filter actions /> }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
        <section class="card">
            <h2>"Teams"</h2>
            {if d.teams.is_empty() {
                view! { <p class="empty-state">"No teams yet. Create one above."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table>
                            <thead>
                                <tr><th scope="col">"Team"</th><th scope="col">"Members"</th><th scope="col">"Add a member"</th></tr>
                            </thead>
                            <tbody>
                                {d.teams.into_iter().map(|t| view! { <TeamRow t options=options.clone() add_member=actions.add_member /> }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn AccountRow(a: AccountView, filter: ReadSignal<String>, actions: Actions) -> impl IntoView {
    let Actions { set_role, disable, reset, .. } = actions;
    let email = a.email.clone();
    let hidden = move || !email.contains(&filter.get().to_lowercase());
    let label = format!("Role of {}", a.email);
    let teams = if a.teams.is_empty() { "—".to_owned() } else { a.teams.join(", ") };
    let current = a.role.clone();
    let (disable_id, reset_id) = (a.account_id.clone(), a.account_id.clone());
    let disabled = a.disabled;
    let (confirm_for, confirm_id) =
        (format!("reset-confirm-{}", a.account_id), format!("reset-confirm-{}", a.account_id));
    view! {
        <tr hidden=hidden class:muted=disabled>
            <td>{a.email.clone()} {disabled.then(|| view! { " " <span class="badge badge-warn">"disabled"</span> })}</td>
            <td>
                <ActionForm action=set_role>
                    <input type="hidden" name="account_id" value=a.account_id />
                    <div class="inline-form">
                        <select name="role" aria-label=label>
                            {ROLES.map(|r| view! { <option value=r selected=r == current>{r}</option> }).collect_view()}
                        </select>
                        <button type="submit" class="btn btn-small">"Change"</button>
                    </div>
                </ActionForm>
            </td>
            <td>{teams}</td>
            <td>{a.created}</td>
            <td>
                <ActionForm action=disable>
                    <input type="hidden" name="account_id" value=disable_id />
                    <input type="hidden" name="disabled" value=if disabled { "no" } else { "yes" } />
                    <button type="submit" class="btn btn-small">{if disabled { "Enable" } else { "Disable" }}</button>
                </ActionForm>
                <ActionForm action=reset>
                    <input type="hidden" name="account_id" value=reset_id />
                    <label class="check" for=confirm_for>
                        <input id=confirm_id type="checkbox" name="confirm" value="yes" required />
                        " Sign them out"
                    </label>
                    <button type="submit" class="btn btn-small">"Reset password"</button>
                </ActionForm>
            </td>
        </tr>
    }
}

#[component]
fn TeamRow(
    t: TeamView,
    options: Vec<(String, String)>,
    add_member: ServerAction<AddTeamMember>,
) -> impl IntoView {
    let members =
        if t.members.is_empty() { "no members yet".to_owned() } else { t.members.join(", ") };
    let label = format!("Account to add to {}", t.name);
    view! {
        <tr>
            <td>{t.name}</td>
            <td>{members}</td>
            <td>
                <ActionForm action=add_member>
                    <input type="hidden" name="team_id" value=t.team_id />
                    <div class="inline-form">
                        <select name="account_id" aria-label=label>
                            {options.into_iter().map(|(id, email)| view! { <option value=id>{email}</option> }).collect_view()}
                        </select>
                        <button type="submit" class="btn btn-small">"Add"</button>
                    </div>
                </ActionForm>
            </td>
        </tr>
    }
}
