//! Wire types shared by the UI and the server functions. Plain serde structs, safe for wasm.

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
