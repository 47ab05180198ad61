//! Wire types shared by the UI and the server functions. Plain serde structs, safe for wasm.

pub use model::{AuditFilters, BoardFilters, CatalogFilters};
use serde::{Deserialize, Serialize};

/// The signed-in person, as the navigation shell shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub email: String,
    pub role: String,
}

impl SessionUser {
    pub fn is_admin(&self) -> bool {
        self.role == "admin"
    }
}

/// A one-time success message left for the next page load by a form posted without JavaScript.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flash {
    pub message: String,
    /// An error left by a plain form post that is not a server function (a file upload).
    #[serde(default)]
    pub error: bool,
}

/// What the dashboard shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dashboard {
    pub email: String,
    pub role: String,
    pub teams: Vec<String>,
    pub account_count: i64,
    pub team_count: i64,
    pub recent_activity: Vec<AuditLine>,
    /// Lab runs the sweeper cleans up within a day (the caller's; an admin's: everyone's).
    pub expiring: Vec<LabRunRow>,
    /// Public URLs switched off by their expiry in the last week, as (function id, name, what
    /// was done: `switched` or `deleted`, when).
    pub expired_urls: Vec<(String, String, String, String)>,
}

/// One line of the audit trail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLine {
    pub actor: String,
    pub action: String,
    pub target: String,
    /// RFC 3339, UTC.
    pub at: String,
}

/// An account on the admin page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub account_id: String,
    pub email: String,
    pub role: String,
    pub teams: Vec<String>,
    /// Disabled accounts cannot sign in; their sessions and tokens stopped.
    pub disabled: bool,
    /// `YYYY-MM-DD`, UTC.
    pub created: String,
}

/// A team on the admin page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamView {
    pub team_id: String,
    pub name: String,
    pub members: Vec<String>,
}

/// Everything the admin page lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Directory {
    pub accounts: Vec<AccountView>,
    pub teams: Vec<TeamView>,
}

/// An account just created by an admin, with its one-time password.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedAccount {
    pub email: String,
    pub role: String,
    pub password: String,
}

/// The roles, in the order forms offer them.
pub const ROLES: [&str; 3] = ["developer", "learner", "admin"];

/// One function on the catalog page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogRowView {
    pub function_id: String,
    pub name: String,
    pub connection: String,
    pub region: String,
    pub runtime: String,
    pub state: String,
    pub description: String,
    pub owner: Option<String>,
    pub team: Option<String>,
    pub lifecycle: String,
    pub environment: String,
    pub public_url: bool,
    pub tags: Vec<(String, String)>,
    pub gone: bool,
    pub drift: bool,
    /// Error-level governance findings.
    pub violations: i64,
    pub suggested_owner: Option<String>,
    /// For a shadow: what import adopts from its `lambdaport:*` tags, as (field, value, why it
    /// would be left out).
    pub adoption: Vec<(String, String, Option<String>)>,
}

/// One value of a facet, with how many catalog functions have it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetView {
    pub facet: String,
    /// What goes in the URL to filter on it.
    pub value: String,
    pub label: String,
    pub count: i64,
}

/// A connection, as the catalog and admin pages show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionView {
    pub connection_id: String,
    pub name: String,
    pub kind: String,
    pub endpoint: String,
    pub regions: String,
    pub cloud_account_id: Option<String>,
    /// Why the last Test failed, if it did.
    pub test_error: Option<String>,
    pub is_default: bool,
    /// The newest reconciliation, in words.
    pub last_sync: Option<String>,
    pub syncing: bool,
    /// For the admin's edit form (never the secret key).
    pub endpoint_url: String,
    pub profile: String,
    pub access_key_id: String,
    pub learners: bool,
    pub allowed_roles: String,
    pub archived: bool,
    /// What removing it would archive: its catalog functions, and how many have owners (counted
    /// for the admin page only; zero elsewhere).
    pub functions: i64,
    pub owned_functions: i64,
}

/// What the catalog page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogPage {
    pub rows: Vec<CatalogRowView>,
    pub next: Option<String>,
    /// No word matched the search: the rows are the functions whose name contains it.
    pub by_name: bool,
    /// When the page is empty: how many functions the cloud has that the catalog has not
    /// imported (shadows).
    pub shadows: i64,
    pub facets: Vec<FacetView>,
    pub connections: Vec<ConnectionView>,
    pub can_sync: bool,
    pub can_archive: bool,
}

/// The function page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionDetail {
    pub row: CatalogRowView,
    pub arn: String,
    pub can_edit: bool,
    /// (field, catalog, cloud) — read live from the cloud.
    pub live: Vec<(String, String, String)>,
    /// Why the live configuration could not be read, if it could not.
    pub live_error: Option<String>,
    /// Lambda's `RevisionId` of the configuration read live (empty when it could not be read).
    pub revision_id: String,
    /// Each field whose cloud tag disagrees with the catalog: (field, the difference in words).
    pub drift: Vec<(String, String)>,
    /// What the function breaks of the governance rules, as last evaluated.
    pub findings: Vec<RecordedFinding>,
    /// Its exception requests and exceptions, newest first.
    pub exceptions: Vec<ExceptionView>,
    pub teams: Vec<String>,
    /// The names of the live environment variables, for those who may edit the function (empty
    /// for everyone else). Values are never part of the page: an editor reveals them on demand
    /// (`reveal_environment`, audited).
    pub environment_keys: Vec<String>,
    /// The user tags as the cloud has them now (`None` when they could not be read): the tags
    /// form starts from these, so a save changes only what the user changed.
    pub live_tags: Option<Vec<(String, String)>>,
}

/// One audit event on the Audit page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntryView {
    pub actor: String,
    pub action: String,
    pub target: String,
    /// The before/after summary, as compact JSON.
    pub detail: String,
    pub source_ip: Option<String>,
    pub at: String,
}

/// A page of the audit trail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPageView {
    pub entries: Vec<AuditEntryView>,
    /// The cursor of the next (older) page.
    pub next: Option<String>,
}

/// A personal access token on the profile page (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenView {
    pub token_id: String,
    pub name: String,
    /// The token's first characters, to tell it apart.
    pub prefix: String,
    pub created: String,
    pub last_used: Option<String>,
    pub revoked: bool,
}

/// A token just made: the only time its secret is seen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedToken {
    pub name: String,
    pub secret: String,
}

/// The Code tab: the package's files, and the handler's file when it can be edited inline.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeView {
    pub files: Vec<String>,
    pub size: i64,
    pub sha256: String,
    /// The handler's file and its text.
    pub path: Option<String>,
    pub source: Option<String>,
    /// Why the code cannot be edited inline (or read at all).
    pub reason: Option<String>,
}

/// One lab run in a list (mine, or everyone's on the instructor board).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabRunRow {
    pub lab_run_id: String,
    pub email: String,
    pub function_name: Option<String>,
    pub connection: String,
    pub region: String,
    /// The furthest step reached, 1–9.
    pub step: i16,
    pub status: model::RunStatus,
    pub failures: i32,
    pub last_failure: Option<String>,
    /// The last problem's step passed since.
    pub failure_resolved: bool,
    pub started: String,
    /// Minutes from start to the last change.
    pub minutes: i64,
    pub expires: Option<String>,
    pub pending_step: Option<i16>,
    /// Its `course` tag (on the instructor board).
    pub course: Option<String>,
    /// Minutes since its last step, call or check (on the instructor board).
    pub idle_minutes: i64,
    /// In progress and untouched for ten minutes or more.
    pub idle: bool,
}

/// The Labs page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabsPage {
    pub mine: Vec<LabRunRow>,
    /// Everyone's runs (admins only; empty for others).
    pub everyone: Vec<LabRunRow>,
    pub is_admin: bool,
}

/// A (connection, region) the wizard's first step offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabTarget {
    pub connection_id: String,
    pub label: String,
    pub region: String,
    pub is_default: bool,
}

/// How the embedded engine contains function code, as it found at start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineContainment {
    /// Functions run sandboxed; otherwise learners are not offered the engine.
    pub contained: bool,
    /// The engine's own words (what contains functions, or why nothing does).
    pub description: String,
}

/// The wizard's first step: where the lab runs, and the expiry preset for the caller.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabStart {
    pub targets: Vec<LabTarget>,
    /// Hours until the sweeper cleans up (learners: the console's setting), if any.
    pub expiry_hours: Option<i64>,
}

/// What the one-page Create form offers the caller.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateFormOptions {
    pub targets: Vec<LabTarget>,
    pub runtimes: Vec<String>,
    /// Each runtime's template handler, as (runtime, source).
    pub templates: Vec<(String, String)>,
    /// The caller's teams (admins: every team).
    pub teams: Vec<String>,
    /// Learners create a new role; others may also pick an existing one.
    pub existing_roles_allowed: bool,
    /// For admins, who may create a function for someone else: their own email, the default.
    pub owner_choice: Option<String>,
}

/// A governance rule the function on the Create form would break, as it is typed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleFinding {
    /// The form field it is about (`name`, `tags`, `runtime`, `memory`, `timeout`, `auth_type`…).
    pub field: String,
    /// `error` refuses; `warning` and `info` do not.
    pub severity: String,
    pub message: String,
    pub fix: String,
    /// The check platform teams know it as.
    pub mirrors: String,
}

/// The raw HTTP exchange of a call to the Function URL.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallView {
    pub url: String,
    pub status_line: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub millis: u64,
    pub error: Option<String>,
    pub passed: bool,
}

impl CallView {
    /// The status line and headers, as `curl -i` shows them.
    pub fn head(&self) -> String {
        let headers: String = self.headers.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
        format!("{}\n{headers}", self.status_line)
    }

    /// The whole answer as `curl -i` shows it, or why none came.
    pub fn raw(&self) -> String {
        match &self.error {
            Some(error) => format!("(no response: {error})"),
            None => format!("{}\n{}", self.head(), self.body),
        }
    }
}

/// Why a check failed and what to do; `fix` names a fix the console can apply.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiagnosisView {
    pub problem: String,
    pub details: Vec<String>,
    pub advice: String,
    /// `UseAuthNone`, `AddStatements` or `AttachLogging`.
    pub fix: Option<String>,
    pub fix_label: Option<String>,
}

/// The outcome of calling the URL from the server.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallOutcome {
    pub call: CallView,
    pub diagnosis: Option<DiagnosisView>,
}

/// One line of the validation checklist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckView {
    pub label: String,
    pub passed: bool,
    pub detail: String,
}

/// The validation checklist, with a diagnosis when something is red.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validation {
    pub checks: Vec<CheckView>,
    pub diagnosis: Option<DiagnosisView>,
}

/// One log line, with what it means.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLineView {
    pub at: String,
    pub message: String,
    /// `start`, `end`, `report`, `init`, `error` or `app`.
    pub kind: String,
}

/// The newest log stream of the lab's function.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogsView {
    pub group: String,
    pub stream: Option<String>,
    pub lines: Vec<LogLineView>,
}

/// A resource in the ledger, and (after a cleanup) what happened to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerView {
    pub kind: String,
    pub name: String,
    pub parent: Option<String>,
    pub state: String,
    pub owner: Option<String>,
    pub created: String,
    pub note: Option<String>,
}

/// The lab run as the wizard shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabView {
    pub run: LabRunRow,
    pub function_id: Option<String>,
    pub function_arn: Option<String>,
    pub runtime: String,
    pub architecture: String,
    pub role_arn: String,
    pub role_created: bool,
    pub team: String,
    pub lifecycle: String,
    pub environment: String,
    pub tags: String,
    /// The handler file's path and the source the editor starts with.
    pub code_path: String,
    pub source: String,
    pub timeout_s: i32,
    pub memory_mb: i32,
    pub auth_type: String,
    pub cors: String,
    pub url: String,
    /// The public statements, as JSON, when the auth type is NONE.
    pub statements: Vec<String>,
    pub last_call: Option<CallView>,
    /// The doctor's word on the last call, when it failed.
    pub last_diagnosis: Option<DiagnosisView>,
    /// The last validation, as it was checked.
    pub last_validation: Option<Validation>,
    pub runtimes: Vec<String>,
    /// Roles that trust Lambda, as (name, ARN).
    pub roles: Vec<(String, String)>,
    pub teams: Vec<String>,
    pub ledger: Vec<LedgerView>,
    pub can_edit: bool,
    /// The viewer is an admin: the wizard offers the instructor's tools (reset, clean up).
    pub instructor: bool,
}

/// The Test tab: the editor (filled from a template, a saved event or a past invocation), the
/// saved events the caller sees, the templates, and the history of test invocations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestTabView {
    /// Whether the caller may invoke and save (owners, their team, admins).
    pub can_invoke: bool,
    /// (name, label) of each template.
    pub templates: Vec<(String, String)>,
    pub events: Vec<TestEventView>,
    pub history: Vec<InvocationView>,
    pub editor: TestEditor,
}

/// What the Test tab's editor starts with.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestEditor {
    /// The saved event being edited, if one is.
    pub test_event_id: Option<String>,
    pub name: String,
    pub shared: bool,
    pub invocation_type: String,
    pub qualifier: String,
    pub tenant_id: String,
    pub payload: String,
    /// Where it came from, in words ("template s3-put", "event orders (yours)", …).
    pub source: String,
}

/// A saved test event in the Test tab's list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestEventView {
    pub test_event_id: String,
    pub name: String,
    pub owner: String,
    pub mine: bool,
    pub shared: bool,
    pub invocation_type: String,
    pub versions: i64,
}

/// One test invocation: what came back, with the REPORT line's numbers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InvocationView {
    pub test_invocation_id: String,
    pub who: String,
    pub event_name: Option<String>,
    pub invocation_type: String,
    pub status: i32,
    pub function_error: Option<String>,
    /// The error's type, message and stack trace, when the function raised one.
    pub error_type: Option<String>,
    pub error_message: Option<String>,
    pub stack_trace: Vec<String>,
    /// The response, pretty-printed when it is JSON.
    pub response: String,
    pub log_tail: String,
    pub request_id: Option<String>,
    pub executed_version: Option<String>,
    pub tenant_id: Option<String>,
    pub duration_ms: Option<f64>,
    pub billed_ms: Option<i64>,
    pub init_ms: Option<f64>,
    pub memory_used_mb: Option<i32>,
    pub memory_size_mb: Option<i32>,
    pub at: String,
}

/// What a Test tab submission did: the event it saved, the invocation it made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestOutcome {
    pub saved: Option<String>,
    pub invocation: Option<InvocationView>,
}

/// One line on what an invocation did, for the message after Test.
pub fn invocation_summary(i: &InvocationView) -> String {
    match (&i.function_error, i.status) {
        (Some(_), _) => format!(
            "The function failed: {}",
            i.error_message.clone().or_else(|| i.error_type.clone()).unwrap_or_default()
        ),
        (None, 202) => {
            "Queued (Event): the function runs on its own; its logs will show it".to_owned()
        }
        (None, 204) => "Checked (DryRun): the call would be allowed".to_owned(),
        (None, _) => format!(
            "Succeeded in {} ms",
            i.duration_ms.map_or_else(|| "?".to_owned(), |d| format!("{d:.2}"))
        ),
    }
}

/// The Logs tab: the log group and its streams, the search (its query as understood, with the
/// defaults filled in) and its page of lines, and one invocation's lines when one is opened.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LogsTabView {
    /// Whether the caller may read the logs (owners, their team, admins).
    pub can_read: bool,
    pub group: String,
    pub group_exists: bool,
    /// `None`: kept forever.
    pub retention_days: Option<i32>,
    pub retention_choices: Vec<i32>,
    pub stored_bytes: i64,
    pub streams: Vec<LogStreamView>,
    /// The query of the next page of streams, when there is one.
    pub streams_next: Option<String>,
    pub query: LogsQueryView,
    /// The range searched, in words (UTC).
    pub range_label: String,
    pub blocks: Vec<LogBlockView>,
    pub matches: usize,
    /// The address's query of this search's first page, and of the page shown.
    pub here: String,
    pub current: String,
    /// The query of the next page of lines, when there may be one.
    pub next: Option<String>,
    /// Why the search could not run (a pattern the cloud refused, a wrong range).
    pub search_error: Option<String>,
    /// The invocation opened from one of its lines.
    pub invocation: Option<LogBlockView>,
}

/// The search as the page understood it (for the form and the links).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogsQueryView {
    pub pattern: String,
    /// A preset (`15m`, `1h`, …) or `custom`.
    pub range: String,
    /// `YYYY-MM-DDTHH:MM`, UTC (the custom range's ends, also filled for a preset).
    pub start: String,
    pub end: String,
    /// `newest` or `oldest`.
    pub order: String,
    pub context: usize,
    pub stream: String,
    pub limit: usize,
    pub request: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogStreamView {
    pub name: String,
    pub first: Option<String>,
    pub last: Option<String>,
}

/// Lines next to each other in one stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogBlockView {
    pub stream: String,
    pub lines: Vec<LogEntryView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntryView {
    /// `YYYY-MM-DD HH:MM:SS.mmm`, UTC.
    pub time: String,
    pub message: String,
    /// It matched the pattern (the others are context).
    pub matched: bool,
    /// The invocation a `START`, `END` or `REPORT` line belongs to.
    pub request_id: Option<String>,
}

/// The time presets of the Logs tab: (value, label, milliseconds).
pub const LOG_RANGES: [(&str, &str, i64); 8] = [
    ("5m", "5 minutes", 5 * 60_000),
    ("15m", "15 minutes", 15 * 60_000),
    ("1h", "1 hour", 60 * 60_000),
    ("3h", "3 hours", 3 * 60 * 60_000),
    ("12h", "12 hours", 12 * 60 * 60_000),
    ("1d", "1 day", 24 * 60 * 60_000),
    ("3d", "3 days", 3 * 24 * 60 * 60_000),
    ("1w", "1 week", 7 * 24 * 60 * 60_000),
];

/// A line of the live tail, as the page receives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TailLineView {
    /// When it was written (milliseconds since the epoch), and the same as `HH:MM:SS.mmm` UTC.
    pub timestamp_ms: i64,
    pub time: String,
    pub stream: String,
    pub message: String,
}

/// One update of the live tail: the lines since the last, and whether CloudWatch sampled them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TailUpdateView {
    pub lines: Vec<TailLineView>,
    pub sampled: bool,
}

/// `message` cut where any of `terms` occurs (ASCII case ignored), each piece with whether it is
/// one of them: the live tail's highlighting.
pub fn highlighted(message: &str, terms: &[String]) -> Vec<(String, bool)> {
    let lower = message.to_ascii_lowercase();
    let terms: Vec<String> =
        terms.iter().filter(|t| !t.is_empty()).map(|t| t.to_ascii_lowercase()).collect();
    let (mut pieces, mut plain_from, mut at) = (Vec::new(), 0, 0);
    while at < message.len() {
        let hit =
            terms.iter().filter(|t| lower[at..].starts_with(t.as_str())).map(String::len).max();
        match hit {
            Some(len) => {
                if plain_from < at {
                    pieces.push((message[plain_from..at].to_owned(), false));
                }
                pieces.push((message[at..at + len].to_owned(), true));
                at += len;
                plain_from = at;
            }
            None => at += message[at..].chars().next().map_or(1, char::len_utf8),
        }
    }
    if plain_from < message.len() {
        pieces.push((message[plain_from..].to_owned(), false));
    }
    pieces
}

#[cfg(test)]
mod highlight_tests {
    use super::highlighted;

    #[test]
    fn terms_are_cut_out_case_blind_and_the_rest_kept() {
        let terms = vec!["error".to_owned(), "ms".to_owned()];
        assert_eq!(
            highlighted("ERROR took 12 ms — é error", &terms),
            vec![
                ("ERROR".to_owned(), true),
                (" took 12 ".to_owned(), false),
                ("ms".to_owned(), true),
                (" — é ".to_owned(), false),
                ("error".to_owned(), true),
            ]
        );
        assert_eq!(highlighted("plain", &[]), vec![("plain".to_owned(), false)]);
    }
}

/// The Versions tab: the versions, the aliases, and which version served recent test invocations.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VersionsTabView {
    /// Whether the caller may publish and change aliases (owners, their team, admins).
    pub can_edit: bool,
    pub versions: Vec<VersionView>,
    pub aliases: Vec<AliasView>,
    pub served: Vec<ServedView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionView {
    pub version: String,
    pub description: String,
    pub code_sha256: String,
    pub last_modified: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AliasView {
    pub name: String,
    pub version: String,
    pub description: String,
    /// The second version and its share in percent.
    pub weight: Option<(String, f64)>,
}

/// A test invocation: the qualifier asked for and the version that ran.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServedView {
    pub at: String,
    pub who: String,
    pub qualifier: String,
    pub executed_version: String,
    pub request_id: String,
}

/// The URL tab: the URL's configuration, the policy in plain words with the linter's findings,
/// and the request the tester's form starts with (the caller's history is `url_history`'s).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlTabView {
    /// Whether the caller may change the URL and send requests (owners, their team, admins).
    pub can_edit: bool,
    pub config: Option<UrlConfigView>,
    pub statements: Vec<StatementView>,
    pub findings: Vec<FindingView>,
    /// A replayed request, or `GET /`.
    pub request: HttpRequestView,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlConfigView {
    pub url: String,
    pub auth_type: String,
    pub invoke_mode: String,
    pub cors: Option<CorsView>,
    pub created: String,
}

/// CORS settings, each list comma-separated as the form takes them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorsView {
    pub allow_origins: String,
    pub allow_methods: String,
    pub allow_headers: String,
    pub expose_headers: String,
    pub allow_credentials: bool,
    pub max_age: Option<i32>,
}

/// A policy statement: its Sid, in plain words, and as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementView {
    pub sid: String,
    pub words: String,
    pub json: String,
}

/// A linter finding; `fix` is what the fix form sends (`add_statements`, `remove:<sid>`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingView {
    /// `error`, `warning` or `info`.
    pub severity: String,
    pub message: String,
    pub fix: Option<String>,
    pub fix_label: Option<String>,
}

/// A request in the caller's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlRequestView {
    pub id: String,
    pub at: String,
    pub method: String,
    /// Path and query.
    pub target: String,
    pub status: u16,
    pub millis: u64,
}

/// A request as the tester's form shows it: headers one `Name: value` per line.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpRequestView {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: String,
    pub cookies: String,
    pub body: String,
}

/// A chunk of a response body and when it arrived after the request was sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkView {
    pub at_ms: u64,
    pub bytes: usize,
    pub text: String,
}

/// What the URL tester's page hears while its request runs (`/catalog/{id}/url/watch/{key}`):
/// the status line once, then each chunk as it arrives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HeardView {
    Head { status_line: String, first_byte_ms: u64 },
    Chunk(ChunkView),
}

/// What the tester got: the raw answer, its timing, the doctor's word, and the curl.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeView {
    pub call: CallView,
    pub first_byte_ms: u64,
    pub chunks: Vec<ChunkView>,
    pub signed: bool,
    pub truncated: bool,
    pub diagnosis: Option<DiagnosisView>,
    pub curl: String,
}

/// What a browser would decide about a preflight, why, and what to change.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreflightView {
    pub allowed: bool,
    pub checks: Vec<(bool, String)>,
    pub changes: Vec<String>,
    pub call: CallView,
}

/// Monitor's time ranges: (value, label, bucket in seconds).
pub const MONITOR_RANGES: &[(&str, &str, i64)] = &[
    ("1h", "Last hour", 60),
    ("3h", "Last 3 hours", 300),
    ("12h", "Last 12 hours", 1_800),
    ("24h", "Last 24 hours", 3_600),
    ("7d", "Last 7 days", 21_600),
];

/// The Monitor tab over a range: the invocations in buckets, the totals, the estimated cost at
/// the observed rate and a memory hint.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MonitorTabView {
    pub range: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub step_ms: i64,
    pub buckets: Vec<MonitorBucketView>,
    pub invocations: u32,
    pub errors: u32,
    pub cold_starts: u32,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub avg_init_ms: Option<f64>,
    pub architecture: String,
    pub cost: Option<CostView>,
    /// (memory size, most used, suggested size) in MB.
    pub memory_hint: Option<(u32, u32, u32)>,
    pub truncated: bool,
    pub no_group: bool,
    pub throttles: u32,
    pub async_received: u32,
    pub async_dropped: u32,
    /// Why CloudWatch metrics (throttles, the asynchronous queue) could not be read, if so.
    pub metrics_error: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MonitorBucketView {
    pub start_ms: i64,
    /// `14:05` (UTC), for axis labels and hover.
    pub label: String,
    pub invocations: u32,
    pub errors: u32,
    pub cold_starts: u32,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_init_ms: Option<f64>,
    pub peak_concurrency: u32,
    pub throttles: u32,
    pub async_received: u32,
    pub async_dropped: u32,
    pub async_max_age_ms: Option<f64>,
}

/// A month at the observed rate, in US dollars before the free tier.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CostView {
    pub requests: f64,
    pub gb_seconds: f64,
    pub init_gb_seconds: f64,
    pub request_cost: f64,
    pub duration_cost: f64,
    pub init_cost: f64,
    pub total: f64,
}

/// The Permissions tab: the execution role with its trust and policies, the resource policy, and
/// what stands out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionsTabView {
    pub role_arn: String,
    pub role_name: String,
    /// The trust policy, each statement in plain words.
    pub trust: Vec<String>,
    pub policies: Vec<RolePolicyView>,
    pub statements: Vec<StatementView>,
    pub findings: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolePolicyView {
    pub name: String,
    /// `managed` (with its ARN) or `inline`.
    pub kind: String,
    pub arn: Option<String>,
    /// An inline policy's document.
    pub json: Option<String>,
}

/// A governance rule as the Governance page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleView {
    pub rule_id: String,
    pub kind: String,
    pub severity: String,
    /// What the rule asks, in one sentence.
    pub summary: String,
    /// Whom it applies to ("every function", "team payments, prod").
    pub scope: String,
    /// The check platform teams know it as.
    pub mirrors: String,
    pub note: String,
    pub enabled: bool,
}

/// One runtime of the deprecation calendar.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeprecationView {
    pub runtime: String,
    pub deprecated_on: String,
    pub block_create_on: Option<String>,
    pub block_update_on: Option<String>,
    /// Where it is today, in words.
    pub phase: String,
    pub source: String,
    pub checked_on: String,
}

/// The teams and connections a rule can be scoped to, as (id, name).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeChoices {
    pub teams: Vec<(String, String)>,
    pub connections: Vec<(String, String)>,
}

/// A runtime in use on its way out, for the deprecation report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeReportView {
    pub runtime: String,
    /// Where it is today, in words.
    pub phase: String,
    /// The next date on its path, in words ("no new functions on 2027-06-01").
    pub next: Option<String>,
    pub functions: i64,
}

/// A log group whose function is gone (Governance → Orphan log groups).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrphanLogGroupView {
    pub connection_id: String,
    pub connection: String,
    pub region: String,
    pub name: String,
    pub stored_bytes: i64,
}

/// A role the console made for a lab that no function uses any more.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrphanRoleView {
    pub ledger_entry_id: String,
    pub connection: String,
    pub name: String,
    pub owner: Option<String>,
    pub created: String,
}

/// The orphan log groups and roles found, and where the cloud could not be asked.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrphansView {
    pub groups: Vec<OrphanLogGroupView>,
    pub roles: Vec<OrphanRoleView>,
    pub unreachable: Vec<String>,
}

/// What the Governance page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GovernanceView {
    pub rules: Vec<RuleView>,
    pub calendar: Vec<DeprecationView>,
    /// Runtimes in use that are deprecated or will be within 180 days.
    pub deprecations: Vec<RuntimeReportView>,
    /// Tracked functions nobody owns: how many, and the first few as (id, name).
    pub unowned: i64,
    pub unowned_first: Vec<(String, String)>,
}

/// One finding recorded against a function.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedFinding {
    pub rule_id: String,
    pub severity: String,
    pub message: String,
    pub fix: String,
    /// A live exception covers it.
    pub excepted: bool,
}

/// A request for an exception to a rule, or a granted one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionView {
    pub exception_id: String,
    pub function_id: String,
    pub function_name: String,
    /// The rule in words.
    pub rule: String,
    pub requested_by: String,
    pub reason: String,
    pub hours: i32,
    /// `pending`, `approved`, `rejected`, `expired` or `withdrawn`.
    pub status: String,
    pub decided_by: Option<String>,
    pub comment: String,
    /// When an approved exception ends (RFC 3339).
    pub expires_at: Option<String>,
}

/// A function that breaks at least one rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViolatingView {
    pub function_id: String,
    pub name: String,
    pub connection: String,
    pub region: String,
    pub owner: Option<String>,
    pub team: Option<String>,
    pub shadow: bool,
    pub ghost: bool,
    pub findings: Vec<RecordedFinding>,
}

/// A count of violating functions under one heading (a rule, a team, an owner).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViolationCount {
    /// The rule's id (by rule), else empty.
    pub rule_id: String,
    pub label: String,
    /// The rule's severity (by rule), else empty.
    pub severity: String,
    pub functions: i64,
    /// By rule: the change since the oldest recorded day of the last week (none recorded: none).
    pub change: Option<i64>,
}

/// One day of the Violations view's trend.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrendDay {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// Functions breaking at least one rule, as last counted that day (today: now).
    pub functions: i64,
    /// Against the day before it in the trend.
    pub change: Option<i64>,
}

/// The Violations view: counts, then a page of violating functions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViolationsView {
    pub functions: i64,
    pub by_rule: Vec<ViolationCount>,
    pub by_team: Vec<ViolationCount>,
    pub by_owner: Vec<ViolationCount>,
    /// Open exception requests and live exceptions.
    pub exceptions: Vec<ExceptionView>,
    /// Who may approve: `admins` or `team`.
    pub approvers: String,
    /// The rule the page is narrowed to, in words.
    pub rule: Option<String>,
    pub page: Vec<ViolatingView>,
    /// `after` for the next page.
    pub next: Option<String>,
    /// The last two weeks, oldest first, ending with today.
    pub trend: Vec<TrendDay>,
}

/// Governance → Cost: the last 30 days (a month) and the 30 before, priced.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CostReportView {
    pub functions: Vec<FunctionCostView>,
    pub teams: Vec<TeamCostView>,
    /// US dollars, before the free tier.
    pub total: f64,
    pub previous_total: f64,
    pub free_tier: f64,
    /// The month after the free tier.
    pub monthly: f64,
    /// Connections whose metrics could not be read, with why.
    pub unread: Vec<String>,
    /// How many of the dearest functions had their logs read for INIT and memory.
    pub looked_at: usize,
    /// When the prices were read, and where from.
    pub prices_as_of: String,
    pub prices_source: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionCostView {
    pub function_id: String,
    pub name: String,
    pub team: Option<String>,
    pub connection: String,
    pub architecture: String,
    pub memory_mb: i32,
    pub requests: f64,
    pub gb_seconds: f64,
    /// With the INIT phase when its logs were read.
    pub cost: f64,
    pub previous_cost: f64,
    /// For the dearest functions, from their REPORT lines: the INIT phase's cost.
    pub init_cost: Option<f64>,
    /// (size, most used, a size that would do) in MB, and what it would save a month.
    pub smaller: Option<(u32, u32, u32, f64)>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TeamCostView {
    /// `None`: the functions without a team.
    pub team: Option<String>,
    pub functions: usize,
    pub requests: f64,
    pub gb_seconds: f64,
    pub cost: f64,
    pub previous_cost: f64,
}
